//! `trustfit._trustfit`: the compiled core of the `trustfit` Python package.
//!
//! The public API is `trustfit.least_squares`, `trustfit.leastsq` and `trustfit.curve_fit`
//! (python/trustfit/optimize.py), which do scipy's argument validation in Python, evaluate
//! `f(x0)` (and `J(x0)`) once to learn `m` and check shapes, and then call `solve` or
//! `leastsq_solve` (src/leastsq.rs) here with the problem's callables and one dict of
//! options (read once by src/options.rs into the core's option structs). Results come
//! back as dicts with named fields.
//! This module holds no numerics: it adapts Python callables to [`trustfit::Residuals`]
//! and converts options and results; src/covariance.rs exposes the core's pcov
//! (`pinv_jtj`, `covariance_from_unscaled`) to `curve_fit` and `covariance`.

mod batch;
mod batch_callable;
mod callback;
mod convert;
mod covariance;
mod errors;
mod leastsq;
mod options;
mod quick;

use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};
use trustfit::{JacSpec, Report, SparsityPattern};

use callback::{AtStart, IterationHook, PyProblem};
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

/// Core indices as int64 for numpy.
fn to_i64(v: &[usize]) -> PyResult<Vec<i64>> {
    v.iter()
        .map(|&i| i64::try_from(i).map_err(|_| PyValueError::new_err("sparse index out of range")))
        .collect()
}

/// `res.jac` as the core left it: an `(m, n)` array, `(data, indptr, indices)` when J
/// was sparse, or `(operator, row_scale or None)` when J was matrix-free.
fn final_jacobian<'py>(
    py: Python<'py>,
    r: &mut Report,
    operator: Option<Bound<'py, PyAny>>,
    (m, n): (usize, usize),
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(op) = operator {
        // The final LinearOperator, and the robust-loss row factors scipy applies.
        let rows = r.jac_row_scale.take().map(|s| PyArray1::from_vec(py, s));
        return Ok(PyTuple::new(py, [op, rows.into_pyobject(py)?.into_any()])?.into_any());
    }
    if let Some(a) = &r.jac_sparse {
        let indptr = PyArray1::from_vec(py, to_i64(a.pattern().indptr())?);
        let indices = PyArray1::from_vec(py, to_i64(a.pattern().indices())?);
        let data = PyArray1::from_slice(py, a.values());
        let parts = [data.into_any(), indptr.into_any(), indices.into_any()];
        return Ok(PyTuple::new(py, parts)?.into_any());
    }
    let view = numpy::ndarray::ArrayView2::from_shape((m, n), &r.jac)
        .map_err(|e| PyValueError::new_err(format!("final Jacobian: {e}")))?;
    Ok(PyArray2::from_array(py, &view).into_any())
}

/// The core's [`Report`] as a dict with scipy's `OptimizeResult` field names (`jac` as
/// [`final_jacobian`] gives it, `status` scipy's code, `message` scipy's text).
pub(crate) fn report_dict<'py>(
    py: Python<'py>,
    r: Report,
    operator: Option<Bound<'py, PyAny>>,
    shape: (usize, usize),
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    report_into(&out, r, operator, shape, ScipyFields::default())?;
    Ok(out)
}

/// scipy's conventions for `OptimizeResult` fields that the core's report does not
/// carry, applied by [`report_into`] as it writes them (else the Python wrapper does).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ScipyFields {
    /// `cost` and `optimality` as numpy.float64.
    pub numpy_scalars: bool,
    /// `active_mask` all-zero float (unbounded trf).
    pub zero_mask: bool,
    /// `njev` None (lm with finite differences).
    pub njev_none: bool,
    /// A `success` field after the others.
    pub success: bool,
}

/// Writes the report's fields into `out` in scipy's order (an `OptimizeResult` prints
/// and iterates in it), as [`report_dict`] describes, with `style`'s conventions.
pub(crate) fn report_into<'py>(
    out: &Bound<'py, PyDict>,
    mut r: Report,
    operator: Option<Bound<'py, PyAny>>,
    shape: (usize, usize),
    style: ScipyFields,
) -> PyResult<()> {
    let py = out.py();
    let jac = final_jacobian(py, &mut r, operator, shape)?;
    let scalar = |v: f64| -> PyResult<Bound<'py, PyAny>> {
        match style.numpy_scalars {
            true => float64(py, v),
            false => Ok(v.into_pyobject(py)?.into_any()),
        }
    };
    let n = r.x.len();
    // Keys interned: made and hashed once per process, not on every call.
    // Arrays by copies into numpy's memory: handing over a Vec makes a Python object
    // to own it as well, which cost more than copying these few values.
    out.set_item(intern!(py, "x"), PyArray1::from_slice(py, &r.x))?;
    out.set_item(intern!(py, "cost"), scalar(r.cost)?)?;
    out.set_item(intern!(py, "fun"), PyArray1::from_slice(py, &r.fun))?;
    out.set_item(intern!(py, "jac"), jac)?;
    out.set_item(intern!(py, "grad"), PyArray1::from_slice(py, &r.grad))?;
    out.set_item(intern!(py, "optimality"), scalar(r.optimality)?)?;
    let mask = match style.zero_mask {
        true => PyArray1::<f64>::zeros(py, n, false).into_any(),
        false => {
            let mask: Vec<i64> = r.active_mask.iter().map(|&v| i64::from(v)).collect();
            PyArray1::from_slice(py, &mask).into_any()
        }
    };
    out.set_item(intern!(py, "active_mask"), mask)?;
    out.set_item(intern!(py, "nfev"), r.nfev)?;
    match style.njev_none {
        true => out.set_item(intern!(py, "njev"), py.None())?,
        false => out.set_item(intern!(py, "njev"), r.njev)?,
    }
    let status = r.status.scipy_status();
    out.set_item(intern!(py, "status"), status)?;
    out.set_item(intern!(py, "message"), r.status.message())?;
    if style.success {
        out.set_item(intern!(py, "success"), status > 0)?;
    }
    Ok(())
}

/// The fields [`report_into`] writes with `success`, in its order.
const RESULT_FIELDS: [&str; 12] = [
    "x",
    "cost",
    "fun",
    "jac",
    "grad",
    "optimality",
    "active_mask",
    "nfev",
    "njev",
    "status",
    "message",
    "success",
];

/// [`RESULT_FIELDS`] as a dict, all None: a result made from it starts with its table
/// (see `quick_solve`). The keys are interned, as the strings `report_into` sets (its
/// `intern!`), so each lookup matches by identity.
pub(crate) fn result_keys(py: Python<'_>) -> PyResult<&Bound<'_, PyDict>> {
    static KEYS: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
    let keys = KEYS.get_or_try_init(py, || -> PyResult<Py<PyDict>> {
        let d = PyDict::new(py);
        for key in RESULT_FIELDS {
            d.set_item(PyString::intern(py, key), py.None())?;
        }
        Ok(d.unbind())
    })?;
    Ok(keys.bind(py))
}

/// numpy.float64, for `cost` and `optimality` (scipy returns numpy scalars).
fn float64<'py>(py: Python<'py>, v: f64) -> PyResult<Bound<'py, PyAny>> {
    static TYPE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let t = TYPE.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("numpy")?.getattr("float64")?.unbind())
    })?;
    t.bind(py).call1((v,))
}

/// The CSR structure `(indptr, indices)` of shape `(m, n)` as a pattern.
fn read_pattern(
    sparsity: Option<(PyReadonlyArray1<'_, i64>, PyReadonlyArray1<'_, i64>)>,
    m: usize,
    n: usize,
) -> PyResult<Option<SparsityPattern>> {
    let Some((indptr, indices)) = sparsity else {
        return Ok(None);
    };
    let (indptr, indices) = (
        index_vec(&indptr, "indptr")?,
        index_vec(&indices, "indices")?,
    );
    SparsityPattern::from_csr(m, n, indptr, indices)
        .map(Some)
        .map_err(to_pyerr)
}

/// Runs the solver on already-validated arguments (see `trustfit.optimize`).
///
/// `options` holds the core's options by scipy's names (read by `options::read_options`).
/// `sparsity = (indptr, indices)` is a sorted CSR structure of shape `(m, n)`: the
/// `jac_sparsity` of finite differences, or, with a callable `jac`, the fixed structure
/// of a sparse analytic Jacobian (then `j0` and every `jac` call give its `nnz` values).
/// `operator0` (the LinearOperator `jac(x0)` returned) makes J matrix-free.
///
/// Returns a dict with the fields of scipy's `OptimizeResult` (see [`report_dict`]).
#[pyfunction]
#[pyo3(signature = (
    fun, x0, f0, options, *, jac=None, j0=None, args=None, kwargs=None, sparsity=None,
    operator0=None, callback=None
))]
#[allow(clippy::too_many_arguments)]
fn solve<'py>(
    py: Python<'py>,
    fun: Bound<'py, PyAny>,
    x0: PyReadonlyArray1<'py, f64>,
    f0: PyReadonlyArray1<'py, f64>,
    options: Bound<'py, PyDict>,
    jac: Option<Bound<'py, PyAny>>,
    j0: Option<PyReadonlyArray2<'py, f64>>,
    args: Option<Bound<'py, PyTuple>>,
    kwargs: Option<Bound<'py, PyDict>>,
    sparsity: Option<(PyReadonlyArray1<'py, i64>, PyReadonlyArray1<'py, i64>)>,
    operator0: Option<Bound<'py, PyAny>>,
    callback: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
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
    let pattern = read_pattern(sparsity, m, n)?;
    let j0_len = match (&pattern, &jac) {
        (Some(p), Some(_)) => p.nnz(),
        _ => m * n,
    };
    if j0s.is_some_and(|j| j.len() != j0_len) {
        return Err(PyValueError::new_err("`J0` has the wrong size"));
    }
    let mut opts = options::read_options(&options)?;
    let problem_pattern = if jac.is_some() {
        opts.jac = JacSpec::Analytic;
        pattern
    } else {
        opts.jac_sparsity = pattern;
        None
    };
    let args = args.unwrap_or_else(|| PyTuple::empty(py));
    let parallel = opts.workers.is_some_and(|w| w > 1);
    let mut problem = PyProblem::new(
        fun,
        jac,
        args,
        kwargs,
        x0s,
        m,
        AtStart::Values(f0s.to_vec()),
        j0s.map(|j| AtStart::Values(j.to_vec())),
        problem_pattern,
    )
    .parallel(parallel);
    // With workers the solve must not hold the GIL: its threads attach for every call.
    let entries = if parallel { usize::MAX } else { m * n };
    if let Some(op0) = operator0 {
        problem = problem.with_operator(op0);
    }
    // x0 is copied first: another Python thread may write to the caller's array while
    // the solve runs without the GIL.
    let x0v = x0s.to_vec();
    let x0s = x0v.as_slice();
    let (report, hook_error) = match callback {
        Some(cb) => {
            let mut hook = IterationHook::new(cb);
            let report = without_gil(py, entries, || {
                trustfit::least_squares_with_callback(&problem, x0s, &opts, &mut |it| hook.call(it))
            });
            (report, hook.error)
        }
        None => (
            without_gil(py, entries, || {
                trustfit::least_squares(&problem, x0s, &opts)
            }),
            None,
        ),
    };
    if let Some(err) = hook_error {
        return Err(err);
    }
    report_dict(
        py,
        report.map_err(to_pyerr)?,
        problem.last_operator(py),
        (m, n),
    )
}

/// Below this many entries of J a solve takes microseconds: it keeps the GIL, since
/// releasing it and attaching again for every call of user code costs more (~1 µs per
/// call, measured) than other threads would wait.
const DETACH_ENTRIES: usize = 4096;

/// Runs `solve` without the GIL when J has at least [`DETACH_ENTRIES`] entries (user
/// code re-attaches for each call).
pub(crate) fn without_gil<T: Send>(
    py: Python<'_>,
    entries: usize,
    solve: impl Send + FnOnce() -> T,
) -> T {
    if entries >= DETACH_ENTRIES {
        py.detach(solve)
    } else {
        solve()
    }
}

/// The compiled module `trustfit._trustfit`.
#[pymodule]
fn _trustfit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(solve, m)?)?;
    m.add_function(wrap_pyfunction!(quick::quick_solve, m)?)?;
    m.add_function(wrap_pyfunction!(batch::batch_curve_fit_formula, m)?)?;
    m.add_function(wrap_pyfunction!(batch::formula_symbols, m)?)?;
    m.add_function(wrap_pyfunction!(batch::formula_eval, m)?)?;
    m.add_function(wrap_pyfunction!(
        batch_callable::batch_curve_fit_callable,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(leastsq::leastsq_solve, m)?)?;
    m.add_function(wrap_pyfunction!(options::name_error, m)?)?;
    m.add_function(wrap_pyfunction!(covariance::pinv_jtj, m)?)?;
    m.add_function(wrap_pyfunction!(covariance::covariance_from_unscaled, m)?)?;
    m.add("NAMES", options::option_names(m.py())?)?;
    m.add("TrustfitError", m.py().get_type::<TrustfitError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
