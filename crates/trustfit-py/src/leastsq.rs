//! `leastsq`: scipy's MINPACK wrapper (`_minpack._lmdif` / `_lmder`), solved by the
//! core's [`trustfit::leastsq`] with the user's `func` / `Dfun` called back in Python.
//!
//! Results of `func` are read as scipy's C wrapper reads them: any array of 0 or 1
//! dimensions (1 or 2 for `Dfun`) whose size is m (m·n), taken in C order; the size is
//! checked on every call. A C-contiguous float64 ndarray is copied directly; anything
//! else goes through the Python `convert(obj, min_ndim, max_ndim)` helper, which raises
//! scipy's `_minpack.error` for what is not a proper array of floats and returns a 1-d
//! C-contiguous float64 array. A Python exception from user code stops the solve and
//! is re-raised unchanged.

use std::sync::Mutex;

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use trustfit::{CallbackError, Residuals};

use crate::errors::{to_callback_error, to_pyerr};
use crate::options::read_leastsq_options;

/// The user's `func` (and `Dfun`) with `args`, as a [`Residuals`] problem that calls
/// them on every evaluation (scipy's wrapper keeps no memo). The solve runs without the
/// GIL; each call attaches for its duration.
struct PyLm {
    func: Py<PyAny>,
    dfun: Option<Py<PyAny>>,
    args: Py<PyTuple>,
    convert: Py<PyAny>,
    col_deriv: bool,
    m: usize,
    n: usize,
    /// `Dfun`'s columns (n×m, C order) with `col_deriv`, before the transpose into rows.
    columns: Mutex<Vec<f64>>,
}

fn size_changed() -> PyErr {
    PyValueError::new_err("The array returned by a function changed size between calls")
}

impl PyLm {
    /// `callable(x, *args)` with `x` a fresh float64 copy.
    fn call<'py>(
        &self,
        py: Python<'py>,
        callable: &Py<PyAny>,
        x: &[f64],
    ) -> PyResult<Bound<'py, PyAny>> {
        let (callable, args) = (callable.bind(py), self.args.bind(py));
        let xa = PyArray1::from_slice(py, x).into_any();
        if args.is_empty() {
            return callable.call1((xa,));
        }
        let mut items = Vec::with_capacity(1 + args.len());
        items.push(xa);
        items.extend(args.iter());
        callable.call1(PyTuple::new(py, items)?)
    }

    /// Copies the values of `obj` (C order) into `out`, whose length is the size expected.
    fn read(&self, obj: &Bound<'_, PyAny>, out: &mut [f64], ndims: (usize, usize)) -> PyResult<()> {
        let values = read_values(obj, ndims, self.convert.bind(obj.py()))?;
        if values.len() != out.len() {
            return Err(size_changed());
        }
        out.copy_from_slice(&values);
        Ok(())
    }

    /// `Dfun(x)` into `jac` (row-major m×n).
    fn read_jacobian(&self, py: Python<'_>, x: &[f64], jac: &mut [f64]) -> PyResult<()> {
        let Some(dfun) = &self.dfun else {
            return Err(PyValueError::new_err("Dfun is not callable"));
        };
        let ret = self.call(py, dfun, x)?;
        if !self.col_deriv {
            return self.read(&ret, jac, (1, 2));
        }
        // (n, m) in C order: column j of J is row j.
        let mut columns = self
            .columns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.read(&ret, &mut columns, (1, 2))?;
        let (m, n) = (self.m, self.n);
        for i in 0..m {
            for j in 0..n {
                jac[i * n + j] = columns[j * m + i];
            }
        }
        Ok(())
    }
}

/// The values of a function's result `obj` (C order), accepted as scipy's C wrapper
/// accepts them: `ndims` is the (min, max) number of dimensions; a C-contiguous float64
/// ndarray is copied directly, anything else goes through `convert`.
///
/// Reads go through `to_vec` (one small allocation) rather than a tracked borrow, whose
/// bookkeeping costs more than the copy at these sizes.
fn read_values(
    obj: &Bound<'_, PyAny>,
    ndims: (usize, usize),
    convert: &Bound<'_, PyAny>,
) -> PyResult<Vec<f64>> {
    if let Ok(arr) = obj.cast::<PyArray1<f64>>()
        && let Ok(v) = arr.to_vec()
    {
        return Ok(v);
    }
    if let Ok(arr) = obj.cast::<PyArray2<f64>>()
        && ndims.1 >= 2
        && arr.is_c_contiguous()
        && let Ok(v) = arr.to_vec()
    {
        return Ok(v);
    }
    let flat = convert.call1((obj, ndims.0, ndims.1))?;
    Ok(flat.cast::<PyArray1<f64>>()?.to_vec()?)
}

impl Residuals for PyLm {
    fn num_residuals(&self) -> usize {
        self.m
    }

    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        Python::attach(|py| {
            let ret = self.call(py, &self.func, x)?;
            self.read(&ret, f, (0, 1))
        })
        .map_err(to_callback_error)
    }

    fn has_jacobian(&self) -> bool {
        self.dfun.is_some()
    }

    fn jacobian(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        Python::attach(|py| self.read_jacobian(py, x, jac)).map_err(to_callback_error)
    }
}

/// `v`, or zeros when MINPACK left it unset (improper input), resized to `len`.
fn padded<T: Copy + Default>(mut v: Vec<T>, len: usize) -> Vec<T> {
    v.resize(len, T::default());
    v
}

/// Runs [`trustfit::leastsq`] (LMDIF without `dfun`, LMDER with it) on arguments
/// prepared by `trustfit.leastsq` (python/trustfit/optimize.py).
///
/// `fvec0` is f(x0) as scipy's wrapper evaluates it before MINPACK starts, as `func`
/// returned it: m is its size, and it is what `fvec` holds if MINPACK rejects the input.
/// `options` holds `ftol`, `xtol`, `gtol`, `maxfev` (already resolved: > 0), `epsfcn`,
/// `factor` and `diag` (read by `options::read_leastsq_options`). Returns a dict with
/// `x`, `fvec`, `nfev`, `njev` (None without `dfun`), `fjac` (n, m), `ipvt` (0-based
/// int32), `qtf`, `info` and `mesg` (scipy's message for `info`).
#[pyfunction]
#[pyo3(signature = (func, x0, fvec0, options, *, args, dfun=None, col_deriv=false, convert))]
#[allow(clippy::too_many_arguments)]
pub fn leastsq_solve<'py>(
    py: Python<'py>,
    func: Bound<'py, PyAny>,
    x0: Bound<'py, PyAny>,
    fvec0: Bound<'py, PyAny>,
    options: Bound<'py, PyDict>,
    args: Bound<'py, PyTuple>,
    dfun: Option<Bound<'py, PyAny>>,
    col_deriv: bool,
    convert: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let x0 = x0.cast::<PyArray1<f64>>()?.to_vec()?;
    let fvec0 = read_values(&fvec0, (0, 1), &convert)?;
    let (m, n) = (fvec0.len(), x0.len());
    let mut opts = read_leastsq_options(&options)?;
    opts.dfun = dfun.is_some();
    let columns = if opts.dfun && col_deriv { m * n } else { 0 };
    let problem = PyLm {
        func: func.unbind(),
        dfun: dfun.map(Bound::unbind),
        args: args.unbind(),
        convert: convert.unbind(),
        col_deriv,
        m,
        n,
        columns: Mutex::new(vec![0.0; columns]),
    };
    let r = crate::without_gil(py, m * n, || trustfit::leastsq(&problem, &x0, &opts))
        .map_err(to_pyerr)?;
    let fvec = if r.ier == 0 { fvec0 } else { r.fvec };
    let ipvt: Vec<i32> = r
        .ipvt
        .iter()
        .map(|&p| i32::try_from(p).unwrap_or(i32::MAX))
        .collect();

    // Arrays that own their (numpy-allocated) memory, as scipy's.
    let fjac = PyArray2::<f64>::zeros(py, [n, m], false);
    fjac.try_readwrite()?
        .as_slice_mut()?
        .copy_from_slice(&padded(r.fjac, m * n));
    let out = PyDict::new(py);
    out.set_item("x", PyArray1::from_slice(py, &r.x))?;
    out.set_item("fvec", PyArray1::from_slice(py, &fvec))?;
    out.set_item("nfev", r.nfev)?;
    out.set_item("njev", r.njev)?;
    out.set_item("fjac", fjac)?;
    out.set_item("ipvt", PyArray1::from_slice(py, &padded(ipvt, n)))?;
    out.set_item("qtf", PyArray1::from_slice(py, &padded(r.qtf, n)))?;
    out.set_item("info", r.ier)?;
    // scipy's text for `info`; Rust spells a NaN tolerance "NaN" where Python's `%f` has "nan".
    out.set_item("mesg", r.mesg.replace("NaN", "nan"))?;
    Ok(out)
}
