//! `trustfit._trustfit`: the compiled core of the `trustfit` Python package.
//!
//! The public API is `trustfit.least_squares`, `trustfit.leastsq` and `trustfit.curve_fit`
//! (python/trustfit/optimize.py), which do scipy's argument validation in Python, evaluate
//! `f(x0)` (and `J(x0)`) once to learn `m` and check shapes, and then call [`solve`] or
//! [`minpack::leastsq_solve`] here with everything normalised.
//! This module holds no numerics: it adapts Python callables to [`trustfit::Residuals`]
//! and builds [`trustfit::Options`].

mod callback;
mod convert;
mod errors;
mod minpack;

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use trustfit::{
    Bounds, JacSpec, Loss, Method, Options, SparsityPattern, TrOptions, TrSolver, XScale,
};

use callback::{IterationHook, PyProblem, python_loss, python_printer};
use errors::{TrustfitError, to_pyerr};

fn slice_of<'a>(arr: &'a PyReadonlyArray1<'_, f64>, what: &str) -> PyResult<&'a [f64]> {
    arr.as_slice()
        .map_err(|_| PyValueError::new_err(format!("`{what}` must be a contiguous array")))
}

/// CSR index arrays (int64 from Python) as the core's `usize` indices.
fn index_vec(arr: &PyReadonlyArray1<'_, i64>, what: &str) -> PyResult<Vec<usize>> {
    let s = arr
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("`{what}` must be a contiguous array")))?;
    s.iter()
        .map(|&v| {
            usize::try_from(v)
                .map_err(|_| PyValueError::new_err(format!("`{what}` has a negative entry")))
        })
        .collect()
}

/// `tr_options` as the core's [`TrOptions`]: `(damp, atol, btol, conlim, maxiter, regularize)`.
type TrOptionsTuple = (f64, f64, f64, f64, Option<usize>, bool);

/// Runs the solver on already-validated arguments (see `trustfit.optimize`).
///
/// `sparsity = (indptr, indices)` is a sorted CSR structure of shape `(m, n)`: the
/// `jac_sparsity` of finite differences, or, with a callable `jac`, the fixed structure
/// of a sparse analytic Jacobian (then `j0` and every `jac` call give its `nnz` values).
///
/// Returns `(x, cost, fun, jac, grad, optimality, active_mask, nfev, njev, status)`,
/// where `jac` is an `(m, n)` array, `(data, indptr, indices)` when J was sparse, or
/// `(operator, row_scale or None)` when `operator0` (the LinearOperator `jac(x0)`
/// returned) made J matrix-free.
#[pyfunction]
#[pyo3(signature = (
    fun, x0, f0, jac, jac_kind, j0, args, kwargs, lb, ub, method, ftol, xtol, gtol,
    x_scale, x_scale_values, loss, f_scale, diff_step, max_nfev, verbose, callback,
    tr_solver=None, tr_options=None, sparsity=None, operator0=None
))]
#[allow(clippy::too_many_arguments)]
fn solve<'py>(
    py: Python<'py>,
    fun: Bound<'py, PyAny>,
    x0: PyReadonlyArray1<'py, f64>,
    f0: PyReadonlyArray1<'py, f64>,
    jac: Option<Bound<'py, PyAny>>,
    jac_kind: &str,
    j0: Option<PyReadonlyArray2<'py, f64>>,
    args: Bound<'py, PyTuple>,
    kwargs: Option<Bound<'py, PyDict>>,
    lb: Option<PyReadonlyArray1<'py, f64>>,
    ub: Option<PyReadonlyArray1<'py, f64>>,
    method: &str,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    x_scale: &str,
    x_scale_values: Option<PyReadonlyArray1<'py, f64>>,
    loss: Bound<'py, PyAny>,
    f_scale: f64,
    diff_step: Option<PyReadonlyArray1<'py, f64>>,
    max_nfev: Option<usize>,
    verbose: u8,
    callback: Option<Bound<'py, PyAny>>,
    tr_solver: Option<&str>,
    tr_options: Option<TrOptionsTuple>,
    sparsity: Option<(PyReadonlyArray1<'py, i64>, PyReadonlyArray1<'py, i64>)>,
    operator0: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let x0s = slice_of(&x0, "x0")?;
    let f0s = slice_of(&f0, "f0")?;
    let j0s = match &j0 {
        Some(j) => Some(
            j.as_slice()
                .map_err(|_| PyValueError::new_err("`J0` must be C-contiguous"))?,
        ),
        None => None,
    };
    let (m, n) = (f0s.len(), x0s.len());
    let pattern = match &sparsity {
        Some((indptr, indices)) => Some(
            SparsityPattern::from_csr(
                m,
                n,
                index_vec(indptr, "indptr")?,
                index_vec(indices, "indices")?,
            )
            .map_err(to_pyerr)?,
        ),
        None => None,
    };
    let j0_len = match (&pattern, &jac) {
        (Some(p), Some(_)) => p.nnz(),
        _ => m * n,
    };
    if j0s.is_some_and(|j| j.len() != j0_len) {
        return Err(PyValueError::new_err("`J0` has the wrong size"));
    }

    let method: Method = method.parse().map_err(to_pyerr)?;
    let jac_spec: JacSpec = if jac.is_some() {
        JacSpec::Analytic
    } else {
        jac_kind.parse().map_err(to_pyerr)?
    };
    let loss = if loss.is_callable() {
        python_loss(loss.unbind())
    } else {
        loss.extract::<String>()?
            .parse::<Loss>()
            .map_err(to_pyerr)?
    };
    let bounds = match (&lb, &ub) {
        (Some(l), Some(u)) => Bounds::new(slice_of(l, "lb")?.to_vec(), slice_of(u, "ub")?.to_vec()),
        _ => Bounds::none(),
    };
    let x_scale = match (x_scale, &x_scale_values) {
        ("jac", _) => XScale::Jac,
        (_, Some(v)) => XScale::Values(slice_of(v, "x_scale")?.to_vec()),
        _ => XScale::Default,
    };
    let diff_step = match &diff_step {
        Some(d) => Some(slice_of(d, "diff_step")?.to_vec()),
        None => None,
    };
    let tr_solver = match tr_solver {
        Some(name) => Some(name.parse::<TrSolver>().map_err(to_pyerr)?),
        None => None,
    };
    let tr_options = match tr_options {
        Some((damp, atol, btol, conlim, maxiter, regularize)) => TrOptions {
            damp,
            atol,
            btol,
            conlim,
            maxiter,
            regularize,
        },
        None => TrOptions::default(),
    };
    let (problem_pattern, jac_sparsity) = if jac.is_some() {
        (pattern, None)
    } else {
        (None, pattern)
    };
    let options = Options {
        jac: jac_spec,
        tr_solver,
        tr_options,
        jac_sparsity,
        bounds,
        method,
        ftol: Some(ftol),
        xtol: Some(xtol),
        gtol: Some(gtol),
        x_scale,
        loss,
        f_scale,
        diff_step,
        max_nfev,
        verbose,
        printer: (verbose > 0).then(python_printer),
        ..Default::default()
    };

    let mut problem = PyProblem::new(py, fun, jac, args, kwargs, x0s, f0s, j0s, problem_pattern);
    if let Some(op0) = operator0 {
        problem = problem.with_operator(op0);
    }
    let (report, hook_error) = match callback {
        Some(cb) => {
            let mut hook = IterationHook::new(py, cb);
            let report =
                trustfit::least_squares_with_callback(&problem, x0s, &options, &mut |it| {
                    hook.call(it)
                });
            (report, hook.error)
        }
        None => (trustfit::least_squares(&problem, x0s, &options), None),
    };
    if let Some(err) = hook_error {
        return Err(err);
    }
    let r = report.map_err(to_pyerr)?;

    let x = PyArray1::from_vec(py, r.x);
    let fun = PyArray1::from_vec(py, r.fun);
    let jac = match (r.jac_sparse, problem.last_operator()) {
        (_, Some(op)) => {
            // The final LinearOperator, and the robust-loss row factors scipy applies.
            let rows = r.jac_row_scale.map(|s| PyArray1::from_vec(py, s));
            PyTuple::new(py, [op, rows.into_pyobject(py)?.into_any()])?.into_any()
        }
        (Some(a), None) => {
            let to_i64 = |v: &[usize]| -> PyResult<Vec<i64>> {
                v.iter()
                    .map(|&i| {
                        i64::try_from(i)
                            .map_err(|_| PyValueError::new_err("sparse index out of range"))
                    })
                    .collect()
            };
            let indptr = PyArray1::from_vec(py, to_i64(a.pattern().indptr())?);
            let indices = PyArray1::from_vec(py, to_i64(a.pattern().indices())?);
            let data = PyArray1::from_slice(py, a.values());
            PyTuple::new(py, [data.into_any(), indptr.into_any(), indices.into_any()])?.into_any()
        }
        (None, None) => PyArray1::from_vec(py, r.jac).reshape([m, n])?.into_any(),
    };
    let grad = PyArray1::from_vec(py, r.grad);
    let mask: Vec<i64> = r.active_mask.iter().map(|&v| i64::from(v)).collect();
    let active_mask = PyArray1::from_vec(py, mask);
    let items: [Bound<'py, PyAny>; 10] = [
        x.into_any(),
        r.cost.into_pyobject(py)?.into_any(),
        fun.into_any(),
        jac,
        grad.into_any(),
        r.optimality.into_pyobject(py)?.into_any(),
        active_mask.into_any(),
        r.nfev.into_pyobject(py)?.into_any(),
        r.njev.into_pyobject(py)?.into_any(),
        r.status.scipy_status().into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, items)
}

/// The compiled module `trustfit._trustfit`.
#[pymodule]
fn _trustfit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(solve, m)?)?;
    m.add_function(wrap_pyfunction!(minpack::leastsq_solve, m)?)?;
    m.add("TrustfitError", m.py().get_type::<TrustfitError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
