//! `trustfit.batch.curve_fit` with a formula model: the formula is compiled by
//! trustfit-formula (exact derivatives), every row of y is fitted by the core's
//! `curve_fit_batch` on all cores, and the GIL is released for the whole batch (no Python
//! call happens in it).

use std::cell::RefCell;

use numpy::{
    IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use trustfit::{
    BatchCurveFit, BatchCurveFitOptions, BatchSigma, BatchSolver, BlockModel, CallbackError,
    FitOutcome, JacSpec, Residuals, Starts, curve_fit_batch, curve_fit_batch_lockstep,
};
use trustfit_formula::{Formula, Workspace};

use crate::errors::to_pyerr;

/// A compiled formula over the shared x columns: its "residuals" are its values (the
/// core's `curve_fit_batch` subtracts y and weights them).
struct FormulaModel<'a> {
    formula: &'a Formula,
    /// The formula's columns, in [`Formula::columns`] order.
    cols: Vec<&'a [f64]>,
    m: usize,
}

thread_local! {
    /// One evaluation workspace and value buffer per worker thread.
    static SCRATCH: RefCell<(Workspace, Vec<f64>)> = RefCell::new((Workspace::new(), Vec::new()));
}

fn model_error(e: trustfit_formula::FormulaError) -> CallbackError {
    CallbackError::from(e.to_string())
}

impl Residuals for FormulaModel<'_> {
    fn num_residuals(&self) -> usize {
        self.m
    }

    fn residuals(&self, p: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        SCRATCH.with(|s| {
            let (ws, _) = &mut *s.borrow_mut();
            self.formula.eval(ws, p, &self.cols, f).map_err(model_error)
        })
    }

    fn has_jacobian(&self) -> bool {
        true
    }

    fn jacobian(&self, p: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        SCRATCH.with(|s| {
            let (ws, values) = &mut *s.borrow_mut();
            values.resize(self.m, 0.0);
            self.formula
                .eval_jacobian(ws, p, &self.cols, values, jac)
                .map_err(model_error)
        })
    }

    fn residuals_and_jacobian(
        &self,
        p: &[f64],
        f: &mut [f64],
        jac: &mut [f64],
    ) -> Result<(), CallbackError> {
        SCRATCH.with(|s| {
            let (ws, _) = &mut *s.borrow_mut();
            self.formula
                .eval_jacobian(ws, p, &self.cols, f, jac)
                .map_err(model_error)
        })
    }
}

/// All the fits of a lock-step block in one formula pass (points of several fits share
/// the interpreter's blocks).
impl BlockModel for FormulaModel<'_> {
    fn num_residuals(&self) -> usize {
        self.m
    }

    fn eval(&self, e: trustfit::Evaluation<'_>) -> Result<(), CallbackError> {
        let trustfit::Evaluation {
            fits: _fits,
            x,
            f,
            jac,
        } = e;
        SCRATCH.with(|s| {
            let (ws, _) = &mut *s.borrow_mut();
            self.formula
                .eval_jacobian_fits(ws, x, &self.cols, f, jac)
                .map_err(model_error)
        })
    }
}

/// The formula's parameters (order of first appearance) and the variables it uses, for
/// `names` the variables offered.
#[pyfunction]
pub fn formula_symbols(formula: &str, names: Vec<String>) -> PyResult<(Vec<String>, Vec<String>)> {
    let f = Formula::parse(formula, &names).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((f.params().to_vec(), f.columns().to_vec()))
}

/// The formula's values at the parameters `params` (in the order of first appearance)
/// over the variables `names` = `columns` (each of the same length M): what
/// `trustfit.batch.curve_fit` fitted, for `fit_report`'s χ² and `plot_fit`'s curve.
/// Non-finite values are returned as they are.
#[pyfunction]
pub fn formula_eval<'py>(
    py: Python<'py>,
    formula: &str,
    names: Vec<String>,
    columns: Vec<PyReadonlyArray1<'py, f64>>,
    params: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let f = Formula::parse(formula, &names).map_err(|e| PyValueError::new_err(e.to_string()))?;
    if names.len() != columns.len() {
        return Err(PyValueError::new_err(format!(
            "{} variable names for {} columns",
            names.len(),
            columns.len()
        )));
    }
    // M: the length of the variables (1 for a formula of parameters only, without any).
    let m = columns.first().map_or(1, |c| c.len());
    let mut cols = Vec::with_capacity(f.columns().len());
    for c in f.columns() {
        let i = names
            .iter()
            .position(|n| n == c)
            .ok_or_else(|| PyValueError::new_err(format!("no values for the variable {c:?}")))?;
        let s = columns[i]
            .as_slice()
            .map_err(|_| PyValueError::new_err(format!("`xdata[{c:?}]` must be contiguous")))?;
        if s.len() != m {
            return Err(PyValueError::new_err(format!(
                "`xdata[{c:?}]` has {} values, the first variable {m}",
                s.len()
            )));
        }
        cols.push(s);
    }
    let p = params
        .as_slice()
        .map_err(|_| PyValueError::new_err("`params` must be contiguous"))?;
    let mut out = vec![0.0; m];
    f.eval(&mut Workspace::for_formula(&f), p, &cols, &mut out)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(out.into_pyarray(py))
}

/// Rows of a 2-d float64 array as one row-major slice.
fn rows<'a>(a: &'a PyReadonlyArray2<'_, f64>, what: &str) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|_| PyValueError::new_err(format!("`{what}` must be C-contiguous float64")))
}

/// Fits `formula` to every row of `ydata` (K×M) with the variables `names` = `columns`
/// (each length M). `p0` has 1 or K rows, `sigma` none, 1 or K rows. `options` is the
/// least_squares options dict. Returns popt, pcov, status, success, nfev, njev, cost,
/// error (the failure kind or "") and the parameter names.
#[pyfunction]
#[pyo3(signature = (formula, names, columns, ydata, p0, options, *, sigma=None, absolute_sigma=false, threads=None, lockstep=false, block=64))]
#[allow(clippy::too_many_arguments)]
pub fn batch_curve_fit_formula<'py>(
    py: Python<'py>,
    formula: &str,
    names: Vec<String>,
    columns: Vec<PyReadonlyArray1<'py, f64>>,
    ydata: PyReadonlyArray2<'py, f64>,
    p0: PyReadonlyArray2<'py, f64>,
    options: Bound<'py, PyDict>,
    sigma: Option<PyReadonlyArray2<'py, f64>>,
    absolute_sigma: bool,
    threads: Option<usize>,
    lockstep: bool,
    block: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let f = Formula::parse(formula, &names).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let [k, m] = [ydata.shape()[0], ydata.shape()[1]];
    let mut col_slices = Vec::with_capacity(names.len());
    for (name, c) in names.iter().zip(&columns) {
        let s = c
            .as_slice()
            .map_err(|_| PyValueError::new_err(format!("`xdata[{name:?}]` must be contiguous")))?;
        if s.len() != m {
            return Err(PyValueError::new_err(format!(
                "`xdata[{name:?}]` has {} values, `ydata` rows have {m}",
                s.len()
            )));
        }
        col_slices.push(s);
    }
    let cols: Vec<&[f64]> = f
        .columns()
        .iter()
        .filter_map(|c| names.iter().position(|n| n == c).map(|i| col_slices[i]))
        .collect();
    let model = FormulaModel {
        formula: &f,
        cols,
        m,
    };
    let y = rows(&ydata, "ydata")?;
    let p0s = rows(&p0, "p0")?;
    let s = sigma.as_ref().map(|s| rows(s, "sigma")).transpose()?;
    let mut opts = BatchCurveFitOptions::new(if p0.shape()[0] == 1 {
        Starts::Shared(p0s)
    } else {
        Starts::PerFit(p0s)
    });
    let core = crate::options::read_options(&options)?;
    if lockstep {
        opts.solver = BatchSolver::Lockstep;
    } else {
        opts.method = Some(core.method);
    }
    opts.bounds = core.bounds.clone();
    opts.options = core;
    opts.sigma = match s {
        None => BatchSigma::None,
        Some(v) if v.len() == m => BatchSigma::PerPoint(v),
        Some(v) => BatchSigma::PerFit(v),
    };
    opts.absolute_sigma = absolute_sigma;
    opts.threads = threads;
    opts.block = block.max(1);
    let exact = opts.options.jac == JacSpec::Analytic;
    let fit = py
        .detach(|| {
            if lockstep && exact {
                curve_fit_batch_lockstep(&model, y, &opts)
            } else {
                curve_fit_batch(&model, y, &opts)
            }
        })
        .map_err(to_pyerr)?;
    let out = results(py, fit, k)?;
    out.set_item("param_names", f.params().to_vec())?;
    Ok(out)
}

/// `texts` as a code per item (a `u8` array) and the list of distinct texts the codes
/// index: a million fits share a handful of messages, and a Python list of a million
/// references cost more than the covariances (`BatchFit` builds it when asked).
fn coded_strings<'py>(
    py: Python<'py>,
    texts: impl Iterator<Item = &'static str>,
) -> PyResult<(Bound<'py, PyArray1<u8>>, Bound<'py, PyList>)> {
    let mut distinct: Vec<&str> = Vec::new();
    let mut codes = Vec::with_capacity(texts.size_hint().0);
    for t in texts {
        let code = match distinct.iter().position(|d| *d == t) {
            Some(i) => i,
            None => {
                distinct.push(t);
                distinct.len() - 1
            }
        };
        let code = u8::try_from(code)
            .map_err(|_| PyValueError::new_err("more than 256 distinct batch messages"))?;
        codes.push(code);
    }
    Ok((codes.into_pyarray(py), PyList::new(py, distinct)?))
}

/// A batch's results as the dict `BatchFit` reads: popt, pcov, status, success, nfev,
/// njev, cost, and error and message (scipy's message for the status; "" for a failed
/// fit) as `*_code` arrays into `*_texts` lists.
pub(crate) fn results(py: Python<'_>, fit: BatchCurveFit, k: usize) -> PyResult<Bound<'_, PyDict>> {
    let n = fit.n;
    let out = PyDict::new(py);
    let status: Vec<i32> = fit
        .fits
        .iter()
        .map(|s| match s.outcome {
            FitOutcome::Solved(st) => st.scipy_status(),
            FitOutcome::Failed(_) => -3,
        })
        .collect();
    let error = coded_strings(
        py,
        fit.fits.iter().map(|s| match s.outcome {
            FitOutcome::Solved(_) => "",
            FitOutcome::Failed(kind) => kind.as_str(),
        }),
    )?;
    let message = coded_strings(
        py,
        fit.fits.iter().map(|s| match s.outcome {
            FitOutcome::Solved(st) => st.message(),
            FitOutcome::Failed(_) => "",
        }),
    )?;
    let success: Vec<bool> = fit.fits.iter().map(|s| s.outcome.success()).collect();
    let nfev: Vec<i64> = fit.fits.iter().map(|s| s.nfev as i64).collect();
    let njev: Vec<i64> = fit.fits.iter().map(|s| s.njev as i64).collect();
    let cost: Vec<f64> = fit.fits.iter().map(|s| s.cost).collect();
    out.set_item("popt", fit.popt.into_pyarray(py).reshape([k, n])?)?;
    out.set_item("pcov", fit.pcov.into_pyarray(py).reshape([k, n, n])?)?;
    out.set_item("status", status.into_pyarray(py))?;
    out.set_item("success", success.into_pyarray(py))?;
    out.set_item("nfev", nfev.into_pyarray(py))?;
    out.set_item("njev", njev.into_pyarray(py))?;
    out.set_item("cost", cost.into_pyarray(py))?;
    out.set_item("error_code", error.0)?;
    out.set_item("error_texts", error.1)?;
    out.set_item("message_code", message.0)?;
    out.set_item("message_texts", message.1)?;
    Ok(out)
}
