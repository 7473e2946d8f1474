//! `least_squares`' common call in one crossing into Rust: evaluate `f(x0)` (and
//! `J(x0)`), check them, solve, and build scipy's `OptimizeResult`.
//!
//! Small fits run in loops spend most of their own time (beyond the user's callbacks) in
//! Python-side checks and conversions of values that are nearly always fine. Here the
//! usual case — a float64 x0 without NaN, `fun` returning a finite float64 ndarray, a
//! dense float64 `jac` of the right shape — is checked with a few comparisons; anything
//! else goes back to `trustfit.optimize` with the values already evaluated, where scipy's
//! checks raise scipy's errors (user code is never called twice for one evaluation).

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use trustfit::{Bounds, JacSpec, Method, Options, TrSolver, XScale};

use crate::callback::{PyProblem, call_with};
use crate::errors::to_pyerr;
use crate::{ScipyFields, report_into, without_gil};

/// The scalars of a quick call as `trustfit.optimize._quick_checks` passes them: a tuple
/// in [`QuickOptions`]' field order (a dict's keys were made and hashed on every call).
type QuickTuple = (
    String,
    Option<String>,
    String,
    f64,
    f64,
    f64,
    f64,
    Option<usize>,
);

/// `(lb, ub)` of a bounded quick call.
type BoundArrays<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// The scalars of a quick call, as `trustfit.optimize._quick_checks` accepted them.
pub struct QuickOptions {
    method: String,
    jac_scheme: Option<String>,
    loss: String,
    f_scale: f64,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_nfev: Option<usize>,
}

impl QuickOptions {
    fn from_tuple(t: QuickTuple) -> Self {
        let (method, jac_scheme, loss, f_scale, ftol, xtol, gtol, max_nfev) = t;
        Self {
            method,
            jac_scheme,
            loss,
            f_scale,
            ftol,
            xtol,
            gtol,
            max_nfev,
        }
    }

    /// The core's options for them (what `least_squares`' full path would pass).
    // `Options` is non-exhaustive: set field by field on the defaults.
    #[allow(clippy::field_reassign_with_default)]
    fn to_options(&self, analytic: bool, bounds: Bounds, x_scale: XScale) -> PyResult<Options> {
        let mut o = Options::default();
        (o.bounds, o.x_scale) = (bounds, x_scale);
        o.method = self.method.parse().map_err(to_pyerr)?;
        o.jac = match (&self.jac_scheme, analytic) {
            (_, true) => JacSpec::Analytic,
            (Some(s), false) => s.parse().map_err(to_pyerr)?,
            (None, false) => JacSpec::default(),
        };
        o.loss = self.loss.parse().map_err(to_pyerr)?;
        o.f_scale = self.f_scale;
        (o.ftol, o.xtol, o.gtol) = (Some(self.ftol), Some(self.xtol), Some(self.gtol));
        o.max_nfev = self.max_nfev;
        if o.method != Method::Lm {
            o.tr_solver = Some(TrSolver::Exact);
        }
        Ok(o)
    }
}

/// `f(x, *args, **kwargs)` with `x` a fresh array holding `x`.
fn call<'py>(
    f: &Bound<'py, PyAny>,
    x: &[f64],
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    call_with(f, PyArray1::from_slice(f.py(), x).into_any(), args, kwargs)
}

/// `f(x0)` when it is an exact float64 ndarray of one dimension, non-empty and finite.
fn plain_vector(obj: &Bound<'_, PyAny>) -> Option<Vec<f64>> {
    if !obj.is_exact_instance_of::<PyUntypedArray>() {
        return None;
    }
    let v = values(obj.cast::<PyArray1<f64>>().ok()?)?;
    (!v.is_empty() && v.iter().all(|f| f.is_finite())).then_some(v)
}

/// A 1-d array's values: contiguous ones copied under the GIL without rust-numpy's
/// borrow bookkeeping (a global table, costly next to copying a few values); others
/// through a read-only borrow. `None` when the array is borrowed mutably.
fn values(arr: &Bound<'_, PyArray1<f64>>) -> Option<Vec<f64>> {
    match arr.to_vec() {
        Ok(v) => Some(v),
        Err(_) => Some(arr.try_readonly().ok()?.as_array().to_vec()),
    }
}

/// `J(x0)` when it is an exact float64 ndarray of shape (m, n), row-major.
fn plain_matrix(obj: &Bound<'_, PyAny>, m: usize, n: usize) -> Option<Vec<f64>> {
    if !obj.is_exact_instance_of::<PyUntypedArray>() {
        return None;
    }
    let arr = obj.cast::<PyArray2<f64>>().ok()?;
    if arr.shape() != [m, n] {
        return None;
    }
    // C order: one copy of its memory; any other layout walked in logical (row-major)
    // order.
    if arr.is_c_contiguous()
        && let Ok(v) = arr.to_vec()
    {
        return Some(v);
    }
    let ro = arr.try_readonly().ok()?;
    Some(ro.as_array().iter().copied().collect())
}

/// Whether `x0` and `bounds` pass scipy's checks (`lb < ub` and `x0` within, NaN
/// failing both), and then whether anything is bounded; `None` when a check fails.
fn checked_bounds(bounds: &Bounds, x0: &[f64]) -> Option<bool> {
    let (lb, ub) = bounds.resolve(x0.len()).ok()?;
    let inside = x0
        .iter()
        .zip(&lb)
        .zip(&ub)
        .all(|((x, l), u)| l <= x && x <= u);
    inside.then(|| !bounds.is_unbounded())
}

/// Solves `least_squares(fun, x0, jac, ...)` for a call `_quick_checks` accepted, with
/// `bounds` `(lb, ub)` of x0's length (trf, dogbox) or none, and `x_scale='jac'` when
/// `x_scale_jac` (else the default scale).
///
/// Returns `result_type(**fields)` (scipy's `OptimizeResult`); `None` when `x0` holds
/// NaN or fails a check of the bounds (nothing evaluated: the full checks raise scipy's
/// error); or `(f0, J0)`, the user's values at `x0` (`J0` None without a callable `jac`;
/// for trf `x0` moved strictly inside the bounds first, as scipy does), when they need
/// the full checks.
#[pyfunction]
#[pyo3(signature = (fun, x0, jac, options, args, kwargs, result_type, bounds=None, x_scale_jac=false))]
#[allow(clippy::too_many_arguments)]
pub fn quick_solve<'py>(
    py: Python<'py>,
    fun: Bound<'py, PyAny>,
    x0: Bound<'py, PyArray1<f64>>,
    jac: Option<Bound<'py, PyAny>>,
    options: QuickTuple,
    args: Bound<'py, PyTuple>,
    kwargs: Option<Bound<'py, PyDict>>,
    result_type: Bound<'py, PyAny>,
    bounds: Option<BoundArrays<'py>>,
    x_scale_jac: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let options = QuickOptions::from_tuple(options);
    let borrowed = || PyValueError::new_err("an array argument is being written elsewhere");
    let mut x0 = values(&x0).ok_or_else(borrowed)?;
    let bounds = match bounds {
        Some((lb, ub)) => Bounds::new(
            values(&lb).ok_or_else(borrowed)?,
            values(&ub).ok_or_else(borrowed)?,
        ),
        None => Bounds::none(),
    };
    let bounded = match checked_bounds(&bounds, &x0) {
        Some(b) if !x0.iter().any(|v| v.is_nan()) => b,
        _ => return Ok(py.None().into_bound(py)),
    };
    if bounded && options.method == "trf" {
        bounds.move_strictly_inside(&mut x0).map_err(to_pyerr)?;
    }
    let f0 = call(&fun, &x0, &args, kwargs.as_ref())?;
    let j0 = match &jac {
        Some(j) => Some(call(j, &x0, &args, kwargs.as_ref())?),
        None => None,
    };
    let (n, lm) = (x0.len(), options.method == "lm");
    let f0v = plain_vector(&f0).filter(|f| !(lm && f.len() < n));
    let m = f0v.as_ref().map_or(0, Vec::len);
    let j0v = j0.as_ref().map(|j| plain_matrix(j, m, n));
    let (Some(f0v), None | Some(Some(_))) = (f0v, &j0v) else {
        let j0 = j0.unwrap_or_else(|| py.None().into_bound(py));
        return Ok(PyTuple::new(py, [f0, j0])?.into_any());
    };
    let (j0v, analytic) = (j0v.flatten(), jac.is_some());
    let x_scale = match x_scale_jac {
        true => XScale::Jac,
        false => XScale::Default,
    };
    let opts = options.to_options(analytic, bounds, x_scale)?;
    let problem = PyProblem::new(fun, jac, args, kwargs, &x0, f0v, j0v, None);
    let report = without_gil(py, m * n, || trustfit::least_squares(&problem, &x0, &opts))
        .map_err(to_pyerr)?;
    // Written straight into the result object (a dict subclass): no dict in between.
    let result = result_type.call0()?;
    let style = ScipyFields {
        numpy_scalars: true,
        // scipy's unbounded trf reports an all-zero float mask.
        zero_mask: options.method == "trf" && !bounded,
        njev_none: options.method == "lm" && !analytic,
        success: true,
    };
    report_into(result.cast::<PyDict>()?, report, None, (m, n), style)?;
    Ok(result)
}
