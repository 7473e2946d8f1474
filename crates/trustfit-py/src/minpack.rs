//! `leastsq`: scipy's MINPACK wrapper (`_minpack._lmdif` / `_lmder`), with the iteration
//! in the core's LMDIF / LMDER port and the user's `func` / `Dfun` called back in Python.
//!
//! Results of `func` are read as scipy's C wrapper reads them: any array of 0 or 1
//! dimensions (1 or 2 for `Dfun`) whose size is m (m·n), taken in C order; the size is
//! checked on every call. A C-contiguous float64 ndarray is copied directly; anything
//! else goes through the Python `convert(obj, min_ndim, max_ndim)` helper, which raises
//! scipy's `_minpack.error` for what is not a proper array of floats and returns a 1-d
//! C-contiguous float64 array. A Python exception from user code stops the solve and
//! is re-raised unchanged.

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use trustfit::minpack::{LmSystem, LmWorkspace, LmderOutput, LmderParams, lmder, lmdif};

/// The user's `func` (and `Dfun`) with `args`, as MINPACK callbacks.
struct PyLm<'py> {
    py: Python<'py>,
    func: Bound<'py, PyAny>,
    dfun: Option<Bound<'py, PyAny>>,
    args: Bound<'py, PyTuple>,
    convert: Bound<'py, PyAny>,
    col_deriv: bool,
    m: usize,
    n: usize,
    /// `Dfun`'s rows (m×n, C order) before the transpose into MINPACK's layout.
    rows: Vec<f64>,
}

fn size_changed() -> PyErr {
    PyValueError::new_err("The array returned by a function changed size between calls")
}

impl<'py> PyLm<'py> {
    /// `callable(x, *args)` with `x` a fresh float64 copy.
    fn call(&self, callable: &Bound<'py, PyAny>, x: &[f64]) -> PyResult<Bound<'py, PyAny>> {
        let xa = PyArray1::from_slice(self.py, x).into_any();
        if self.args.is_empty() {
            return callable.call1((xa,));
        }
        let mut items = Vec::with_capacity(1 + self.args.len());
        items.push(xa);
        items.extend(self.args.iter());
        callable.call1(PyTuple::new(self.py, items)?)
    }

    /// Copies the values of `obj` (C order) into `out`, whose length is the size expected.
    fn read(
        &self,
        obj: &Bound<'py, PyAny>,
        out: &mut [f64],
        ndims: (usize, usize),
    ) -> PyResult<()> {
        let values = read_values(obj, ndims, &self.convert)?;
        if values.len() != out.len() {
            return Err(size_changed());
        }
        out.copy_from_slice(&values);
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

impl LmSystem for PyLm<'_> {
    type Error = PyErr;

    fn residuals(&mut self, x: &[f64], f: &mut [f64]) -> PyResult<()> {
        let ret = self.call(&self.func, x)?;
        self.read(&ret, f, (0, 1))
    }

    fn jacobian(&mut self, x: &[f64], _f_at_x: &[f64], fjac: &mut [f64]) -> PyResult<()> {
        let Some(dfun) = &self.dfun else {
            return Err(PyValueError::new_err("Dfun is not callable"));
        };
        let ret = self.call(dfun, x)?;
        if self.col_deriv {
            // (n, m) in C order is MINPACK's column-major m×n.
            return self.read(&ret, fjac, (1, 2));
        }
        let (m, n) = (self.m, self.n);
        let mut rows = std::mem::take(&mut self.rows);
        let read = self.read(&ret, &mut rows, (1, 2));
        if read.is_ok() {
            for j in 0..n {
                for i in 0..m {
                    fjac[i + j * m] = rows[i * n + j];
                }
            }
        }
        self.rows = rows;
        read
    }
}

/// Runs MINPACK's LMDIF (no `dfun`) or LMDER on arguments prepared by
/// `trustfit.leastsq` (python/trustfit/optimize.py).
///
/// `fvec0` is f(x0) as scipy's wrapper evaluates it before MINPACK starts, as `func`
/// returned it: m is its size, and it is what `fvec` holds if MINPACK rejects the input.
/// `maxfev` is already resolved (0 stays 0: improper input). Returns
/// `(x, fvec, nfev, njev, fjac (n, m), ipvt (0-based int32), qtf, info)`.
#[pyfunction]
#[pyo3(signature = (
    func, x0, fvec0, args, dfun, col_deriv, ftol, xtol, gtol, maxfev, epsfcn, factor, diag,
    convert
))]
pub fn leastsq_solve<'py>(
    py: Python<'py>,
    func: Bound<'py, PyAny>,
    x0: Bound<'py, PyAny>,
    fvec0: Bound<'py, PyAny>,
    args: Bound<'py, PyTuple>,
    dfun: Option<Bound<'py, PyAny>>,
    col_deriv: bool,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    maxfev: usize,
    epsfcn: f64,
    factor: f64,
    diag: Option<PyReadonlyArray1<'py, f64>>,
    convert: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let mut x = x0.cast::<PyArray1<f64>>()?.to_vec()?;
    let mut fvec = read_values(&fvec0, (0, 1), &convert)?;
    let (m, n) = (fvec.len(), x.len());
    let params = LmderParams {
        ftol,
        xtol,
        gtol,
        maxfev,
        factor,
        diag: match &diag {
            Some(d) => Some(d.as_slice()?.to_vec()),
            None => None,
        },
    };
    let with_dfun = dfun.is_some();
    let mut sys = PyLm {
        py,
        func,
        dfun,
        args,
        convert,
        col_deriv,
        m,
        n,
        rows: vec![0.0; if with_dfun && !col_deriv { m * n } else { 0 }],
    };
    let mut work = LmWorkspace::new(m, n);
    let outcome = if with_dfun {
        lmder(&mut sys, &mut x, &mut fvec, m, &params, &mut work)
    } else {
        lmdif(
            |x: &[f64], f: &mut [f64]| sys.residuals(x, f),
            &mut x,
            &mut fvec,
            m,
            &params,
            epsfcn,
            &mut work,
        )
    };
    let out: LmderOutput = outcome.map_err(|(err, _partial)| err)?;

    // Improper input leaves MINPACK's outputs unset (scipy returns uninitialised memory
    // there); report zeros of the right shapes.
    let fjac = if out.fjac.len() == m * n {
        out.fjac
    } else {
        vec![0.0; m * n]
    };
    let mut ipvt: Vec<i32> = out
        .ipvt
        .iter()
        .map(|&p| i32::try_from(p).unwrap_or(i32::MAX))
        .collect();
    ipvt.resize(n, 0);
    let mut qtf = out.qtf;
    qtf.resize(n, 0.0);

    // Arrays that own their (numpy-allocated) memory, as scipy's.
    let fjac_array = PyArray2::<f64>::zeros(py, [n, m], false);
    fjac_array
        .try_readwrite()?
        .as_slice_mut()?
        .copy_from_slice(&fjac);
    let items: [Bound<'py, PyAny>; 8] = [
        PyArray1::from_slice(py, &x).into_any(),
        PyArray1::from_slice(py, &fvec).into_any(),
        out.nfev.into_pyobject(py)?.into_any(),
        out.njev.into_pyobject(py)?.into_any(),
        fjac_array.into_any(),
        PyArray1::from_slice(py, &ipvt).into_any(),
        PyArray1::from_slice(py, &qtf).into_any(),
        out.info.into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}
