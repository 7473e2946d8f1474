//! The core's covariance of fitted parameters (`trustfit::pinv_jtj`,
//! `trustfit::Covariance::from_unscaled`) for `curve_fit` and `covariance` in
//! python/trustfit/optimize.py: one home for scipy's pcov rules.

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use trustfit::Covariance;

use crate::errors::to_pyerr;

/// The entries of a 2-D float64 array in row-major order (any memory layout).
fn row_major(a: &PyReadonlyArray2<'_, f64>) -> Vec<f64> {
    let view = a.as_array();
    match view.as_slice() {
        Some(s) => s.to_vec(),
        None => view.iter().copied().collect(),
    }
}

/// A row-major n×n vector as an `(n, n)` array.
fn square<'py>(py: Python<'py>, v: Vec<f64>, n: usize) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyArray1::from_vec(py, v).reshape([n, n])?.into_any())
}

/// `pinv(JᵀJ)` of an `(m, n)` Jacobian as scipy's `curve_fit` computes it for trf/dogbox
/// (SVD of J, singular values `≤ eps·max(m, n)·s[0]` dropped); unscaled, `(n, n)`.
#[pyfunction]
pub fn pinv_jtj<'py>(
    py: Python<'py>,
    jac: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let [m, n] = jac
        .shape()
        .try_into()
        .map_err(|_| PyValueError::new_err("`jac` must be a 2-D array"))?;
    let entries = row_major(&jac);
    let pinv = py
        .detach(|| trustfit::pinv_jtj(&entries, m, n))
        .map_err(to_pyerr)?;
    square(py, pinv, n)
}

/// scipy's `curve_fit` rules for pcov from an unscaled `(n, n)` `(JᵀJ)⁻¹` (`None` when it
/// could not be computed): all `inf` when missing or NaN, else scaled by
/// `sum_sq / (m - n)` unless `absolute_sigma`, all `inf` when `m <= n` then.
/// Returns a dict: `pcov`, `stderr`, `correlation`, `estimated`.
#[pyfunction]
pub fn covariance_from_unscaled<'py>(
    py: Python<'py>,
    unscaled: Option<PyReadonlyArray2<'py, f64>>,
    sum_sq: f64,
    m: usize,
    n: usize,
    absolute_sigma: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let unscaled = match &unscaled {
        Some(a) if a.shape() != [n, n] => {
            return Err(PyValueError::new_err(format!(
                "`unscaled` must have shape ({n}, {n})"
            )));
        }
        Some(a) => Some(row_major(a)),
        None => None,
    };
    let Covariance {
        matrix,
        stderr,
        correlation,
        estimated,
    } = Covariance::from_unscaled(unscaled, sum_sq, m, n, absolute_sigma);
    let out = PyDict::new(py);
    out.set_item("pcov", square(py, matrix, n)?)?;
    out.set_item("stderr", PyArray1::from_vec(py, stderr))?;
    out.set_item("correlation", square(py, correlation, n)?)?;
    out.set_item("estimated", estimated)?;
    Ok(out)
}
