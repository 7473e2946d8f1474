//! `trustfit.batch.curve_fit` with a vectorized Python model `f(x, *params)`: each
//! parameter arrives as a (K_active, 1) array and `f` returns (K_active, M), once per
//! lock-step round for a whole block of fits (plus n calls for forward differences,
//! or one call of a vectorized `jac` returning (K_active, M, n)). The GIL is released
//! between calls, so other Python threads run while Rust works. An exception of `f`
//! or `jac` stops the batch and is raised unchanged.

use numpy::{PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use trustfit::{
    BatchCurveFitOptions, BatchSigma, BatchSolver, BlockModel, BlockValues, CallbackError,
    Differenced, Starts, curve_fit_batch_lockstep,
};

use crate::errors::to_pyerr;

/// The Python model and what it is called with.
struct PyModel {
    f: Py<PyAny>,
    jac: Option<Py<PyAny>>,
    xdata: Py<PyAny>,
    /// `numpy.ascontiguousarray` and `numpy.broadcast_to`.
    contiguous: Py<PyAny>,
    broadcast: Py<PyAny>,
    n: usize,
    m: usize,
}

/// A Python error carried through the core unchanged (re-raised by `to_pyerr`).
fn carried(e: PyErr) -> CallbackError {
    CallbackError::with_payload("the Python model raised an exception", e)
}

impl PyModel {
    /// `func(xdata, *params)` with parameter j as the (rows, 1) column j of `x`.
    fn call<'py>(
        &self,
        py: Python<'py>,
        func: &Py<PyAny>,
        x: &[f64],
    ) -> PyResult<Bound<'py, PyAny>> {
        let (n, rows) = (self.n, x.len() / self.n.max(1));
        let mut args = Vec::with_capacity(n + 1);
        args.push(self.xdata.bind(py).clone());
        for j in 0..n {
            let col = PyArray2::<f64>::zeros(py, [rows, 1], false);
            {
                let mut w = col.readwrite();
                let dst = w.as_slice_mut()?;
                for (d, row) in dst.iter_mut().zip(x.chunks_exact(n)) {
                    *d = row[j];
                }
            }
            args.push(col.into_any());
        }
        func.bind(py).call1(PyTuple::new(py, args)?)
    }

    /// `out` as a C-contiguous float64 array of `shape` (broadcast when it is not),
    /// copied into `dst`.
    fn copy_out(
        &self,
        py: Python<'_>,
        out: Bound<'_, PyAny>,
        shape: &[usize],
        what: &str,
        dst: &mut [f64],
    ) -> PyResult<()> {
        if out.is_none() {
            return Err(PyTypeError::new_err(format!(
                "the vectorized {what} returned None; it must return an array of shape {shape:?}"
            )));
        }
        let kwargs = PyDict::new(py);
        kwargs.set_item("dtype", "float64")?;
        let mut arr = self.contiguous.bind(py).call((out,), Some(&kwargs))?;
        let got: Vec<usize> = arr.getattr("shape")?.extract()?;
        if got != shape {
            let target = PyTuple::new(py, shape)?;
            arr = match self.broadcast.bind(py).call1((arr, target)) {
                Ok(b) => self.contiguous.bind(py).call((b,), Some(&kwargs))?,
                Err(_) => {
                    return Err(PyValueError::new_err(format!(
                        "the vectorized {what} returned shape {got:?}; it must return {shape:?} \
                         (each parameter arrives as a (K_active, 1) array of the fits still running)"
                    )));
                }
            };
        }
        let flat = arr.call_method1("reshape", (-1,))?;
        let view: PyReadonlyArray2<'_, f64> =
            flat.call_method1("reshape", (1, dst.len()))?.extract()?;
        dst.copy_from_slice(view.as_slice()?);
        Ok(())
    }
}

impl BlockValues for PyModel {
    fn num_residuals(&self) -> usize {
        self.m
    }

    fn values(&self, _fits: &[usize], x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        let rows = x.len() / self.n.max(1);
        Python::attach(|py| {
            let out = self.call(py, &self.f, x)?;
            self.copy_out(py, out, &[rows, self.m], "model", f)
        })
        .map_err(carried)
    }
}

/// The model with its vectorized `jac`.
struct WithJac<'a>(&'a PyModel);

impl BlockModel for WithJac<'_> {
    fn num_residuals(&self) -> usize {
        self.0.m
    }

    fn eval(&self, e: trustfit::Evaluation<'_>) -> Result<(), CallbackError> {
        let trustfit::Evaluation { fits, x, f, jac } = e;
        let model = self.0;
        model.values(fits, x, f)?;
        let Some(j) = &model.jac else {
            return Err(CallbackError::new("no jac"));
        };
        let rows = x.len() / model.n.max(1);
        Python::attach(|py| {
            let out = model.call(py, j, x)?;
            model.copy_out(py, out, &[rows, model.m, model.n], "jac", jac)
        })
        .map_err(carried)
    }
}

fn contiguous<'a>(a: &'a PyReadonlyArray2<'_, f64>) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err("arrays must be C-contiguous float64"))
}

/// Fits the vectorized Python model `f` to every row of `ydata` (K×M) in lock-step:
/// `xdata` is passed to `f` as it is, `p0` has 1 or K rows of n, `sigma` none, 1 or K
/// rows; `jac` a vectorized Jacobian or None (forward differences). Returns the dict of
/// `batch_curve_fit_formula` without parameter names.
#[pyfunction]
#[pyo3(signature = (f, xdata, ydata, p0, *, sigma=None, absolute_sigma=false, jac=None, lb=None, ub=None, ftol=1e-8, xtol=1e-8, gtol=1e-8, max_nfev=None, block=4096))]
#[allow(clippy::too_many_arguments)]
pub fn batch_curve_fit_callable<'py>(
    py: Python<'py>,
    f: Py<PyAny>,
    xdata: Py<PyAny>,
    ydata: PyReadonlyArray2<'py, f64>,
    p0: PyReadonlyArray2<'py, f64>,
    sigma: Option<PyReadonlyArray2<'py, f64>>,
    absolute_sigma: bool,
    jac: Option<Py<PyAny>>,
    lb: Option<Vec<f64>>,
    ub: Option<Vec<f64>>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_nfev: Option<usize>,
    block: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let [k, m] = [ydata.shape()[0], ydata.shape()[1]];
    let n = p0.shape()[1];
    let numpy = py.import("numpy")?;
    let model = PyModel {
        f,
        jac,
        xdata,
        contiguous: numpy.getattr("ascontiguousarray")?.unbind(),
        broadcast: numpy.getattr("broadcast_to")?.unbind(),
        n,
        m,
    };
    let y = contiguous(&ydata)?;
    let starts = contiguous(&p0)?;
    let s = sigma.as_ref().map(|a| contiguous(a)).transpose()?;
    let mut opts = BatchCurveFitOptions::new(if p0.shape()[0] == 1 {
        Starts::Shared(starts)
    } else {
        Starts::PerFit(starts)
    });
    opts.solver = BatchSolver::Lockstep;
    opts.sigma = match s {
        None => BatchSigma::None,
        Some(v) if v.len() == m => BatchSigma::PerPoint(v),
        Some(v) => BatchSigma::PerFit(v),
    };
    opts.absolute_sigma = absolute_sigma;
    if let (Some(lb), Some(ub)) = (lb, ub) {
        opts.bounds = trustfit::Bounds::new(lb, ub);
    }
    opts.options.ftol = Some(ftol);
    opts.options.xtol = Some(xtol);
    opts.options.gtol = Some(gtol);
    opts.options.max_nfev = max_nfev;
    // One thread: every model call needs the GIL; large blocks amortise a call.
    opts.threads = Some(1);
    opts.block = block.max(1);
    let fit = if model.jac.is_some() {
        py.detach(|| curve_fit_batch_lockstep(&WithJac(&model), y, &opts))
    } else {
        let differenced = Differenced::new(model, n);
        py.detach(|| curve_fit_batch_lockstep(&differenced, y, &opts))
    }
    .map_err(to_pyerr)?;
    crate::batch::results(py, fit, k)
}
