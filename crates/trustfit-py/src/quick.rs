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
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFloat, PyInt, PyString, PyTuple};
use trustfit::{Bounds, JacSpec, Loss, Method, Options, TrSolver, XScale};

use crate::callback::{AtStart, PyProblem, call_with};
use crate::convert::contiguous;
use crate::errors::to_pyerr;
use crate::{ScipyFields, report_into, result_keys, without_gil};

/// `(lb, ub)` of a bounded quick call.
type BoundArrays<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// The options of a quick call: scipy's defaults but for these, each of a plain type
/// and a valid value (the common call), checked here on the Python objects in a few
/// comparisons, where Python code spent a microsecond. Any other call takes the full
/// checks of `trustfit.optimize`, which raise scipy's errors and warnings.
pub struct QuickOptions {
    method: Method,
    /// `Analytic` for a callable `jac`, else the difference scheme.
    jac: JacSpec,
    loss: Loss,
    f_scale: f64,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_nfev: Option<usize>,
    /// `x_scale='jac'` (else the default, None).
    x_scale_jac: bool,
}

/// `obj` is a str equal to `name`.
fn is_str(obj: &Bound<'_, PyAny>, name: &Bound<'_, PyString>) -> bool {
    obj.is(name) || (obj.is_exact_instance_of::<PyString>() && obj.eq(name).unwrap_or(false))
}

/// The core's loss names ([`Loss::NAMES`]) as Python strings, with their losses: made
/// once per process, compared by identity or value on every call.
fn loss_names(py: Python<'_>) -> &[(Py<PyString>, Loss)] {
    static NAMES: PyOnceLock<Vec<(Py<PyString>, Loss)>> = PyOnceLock::new();
    NAMES.get_or_init(py, || {
        Loss::NAMES
            .iter()
            .filter_map(|&n| Some((PyString::intern(py, n).unbind(), n.parse().ok()?)))
            .collect()
    })
}

/// `obj` as a float when it is exactly a Python float.
fn plain_float(obj: &Bound<'_, PyAny>) -> Option<f64> {
    obj.is_exact_instance_of::<PyFloat>()
        .then(|| obj.cast::<PyFloat>().ok().map(|f| f.value()))
        .flatten()
}

/// A tolerance the full checks would take without a warning: a float not below ε
/// (NaN passes, as `tol < EPS` is false for it in Python too).
fn tolerance(obj: &Bound<'_, PyAny>) -> Option<f64> {
    plain_float(obj).filter(|t| t.is_nan() || *t >= f64::EPSILON)
}

impl QuickOptions {
    /// The options when every one is plain and valid for the quick path, else `None`.
    #[allow(clippy::too_many_arguments)]
    fn from_args(
        method: &Bound<'_, PyAny>,
        jac: &Bound<'_, PyAny>,
        loss: &Bound<'_, PyAny>,
        f_scale: &Bound<'_, PyAny>,
        tols: [&Bound<'_, PyAny>; 3],
        max_nfev: &Bound<'_, PyAny>,
        x_scale: &Bound<'_, PyAny>,
    ) -> Option<Self> {
        let py = method.py();
        let method = [
            (intern!(py, "trf"), Method::Trf),
            (intern!(py, "dogbox"), Method::Dogbox),
            (intern!(py, "lm"), Method::Lm),
        ]
        .into_iter()
        .find_map(|(name, m)| is_str(method, name).then_some(m))?;
        let jac = match jac.is_callable() {
            true => JacSpec::Analytic,
            false => [
                (intern!(py, "2-point"), JacSpec::TwoPoint),
                (intern!(py, "3-point"), JacSpec::ThreePoint),
            ]
            .into_iter()
            .find_map(|(name, j)| is_str(jac, name).then_some(j))?,
        };
        let loss = loss_names(py)
            .iter()
            .find_map(|(name, l)| is_str(loss, name.bind(py)).then(|| l.clone()))?;
        if method == Method::Lm && !matches!(loss, Loss::Linear) {
            return None;
        }
        let max_nfev = match max_nfev.is_none() {
            true => None,
            false if max_nfev.is_exact_instance_of::<PyInt>() => {
                let v: i64 = max_nfev.extract().ok()?;
                Some(usize::try_from(v).ok().filter(|&v| v > 0)?)
            }
            false => return None,
        };
        let x_scale_jac = match x_scale.is_none() {
            true => false,
            false => is_str(x_scale, intern!(py, "jac")).then_some(true)?,
        };
        Some(Self {
            method,
            jac,
            loss,
            f_scale: plain_float(f_scale)?,
            ftol: tolerance(tols[0])?,
            xtol: tolerance(tols[1])?,
            gtol: tolerance(tols[2])?,
            max_nfev,
            x_scale_jac,
        })
    }

    /// The core's options for them (what `least_squares`' full path would pass).
    // `Options` is non-exhaustive: set field by field on the defaults.
    #[allow(clippy::field_reassign_with_default)]
    fn into_options(self, bounds: Bounds) -> Options {
        let mut o = Options::default();
        o.bounds = bounds;
        o.x_scale = match self.x_scale_jac {
            true => XScale::Jac,
            false => XScale::Default,
        };
        (o.method, o.jac, o.loss, o.f_scale) = (self.method, self.jac, self.loss, self.f_scale);
        (o.ftol, o.xtol, o.gtol) = (Some(self.ftol), Some(self.xtol), Some(self.gtol));
        o.max_nfev = self.max_nfev;
        if o.method != Method::Lm {
            o.tr_solver = Some(TrSolver::Exact);
        }
        o
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

/// `x0` when it is an exact float64 ndarray of one dimension, non-empty.
fn plain_start<'a, 'py>(x0: &'a Bound<'py, PyAny>) -> Option<&'a Bound<'py, PyArray1<f64>>> {
    if !x0.is_exact_instance_of::<PyUntypedArray>() {
        return None;
    }
    x0.cast::<PyArray1<f64>>().ok().filter(|a| a.len() > 0)
}

/// `kwargs` as the calls take it: `Some(None)` for None or an empty dict, `Some(dict)`
/// for another dict, `None` (not quick) for anything else.
fn plain_kwargs<'py>(kwargs: &Bound<'py, PyAny>) -> Option<Option<Bound<'py, PyDict>>> {
    if kwargs.is_none() {
        return Some(None);
    }
    let dict = kwargs.cast_exact::<PyDict>().ok()?;
    Some((!dict.is_empty()).then(|| dict.clone()))
}

/// The length of `f(x0)` when it is an exact, contiguous float64 ndarray of one
/// dimension, non-empty and finite (then read when the core asks for it).
fn plain_vector(obj: &Bound<'_, PyAny>) -> Option<usize> {
    if !obj.is_exact_instance_of::<PyUntypedArray>() {
        return None;
    }
    let v = contiguous(obj.cast::<PyArray1<f64>>().ok()?)?;
    (!v.is_empty() && v.iter().all(|f| f.is_finite())).then_some(v.len())
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

/// Whether `J(x0)` is an exact float64 ndarray of shape (m, n) (read, in any memory
/// order, when the core asks for it).
fn plain_matrix(obj: &Bound<'_, PyAny>, m: usize, n: usize) -> bool {
    obj.is_exact_instance_of::<PyUntypedArray>()
        && obj
            .cast::<PyArray2<f64>>()
            .is_ok_and(|arr| arr.shape() == [m, n])
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

/// Solves `least_squares(fun, x0, jac, ...)` when its arguments take the quick path:
/// `x0` a non-empty 1-d float64 ndarray, the options plain and valid (see
/// [`QuickOptions`]; scipy's defaults for those not passed here, which the caller
/// checked), `args` a tuple, `kwargs` None or a dict, `bounds` `(lb, ub)` of x0's
/// length (trf, dogbox) or none.
///
/// Returns `result_type()` (scipy's `OptimizeResult`) with the result's fields; `None`
/// when the call needs the full checks before anything is evaluated (options not as
/// above, NaN in `x0`, a failed check of the bounds: they raise scipy's errors); or
/// `(f0, J0)`, the user's values at `x0` (`J0` None without a callable `jac`; for trf
/// `x0` moved strictly inside the bounds first, as scipy does), when they need the
/// full checks.
#[pyfunction]
#[pyo3(signature = (
    fun, x0, jac, method, ftol, xtol, gtol, x_scale, loss, f_scale, max_nfev, args, kwargs,
    result_type, bounds=None
))]
#[allow(clippy::too_many_arguments)]
pub fn quick_solve<'py>(
    py: Python<'py>,
    fun: Bound<'py, PyAny>,
    x0: Bound<'py, PyAny>,
    jac: Bound<'py, PyAny>,
    method: Bound<'py, PyAny>,
    ftol: Bound<'py, PyAny>,
    xtol: Bound<'py, PyAny>,
    gtol: Bound<'py, PyAny>,
    x_scale: Bound<'py, PyAny>,
    loss: Bound<'py, PyAny>,
    f_scale: Bound<'py, PyAny>,
    max_nfev: Bound<'py, PyAny>,
    args: Bound<'py, PyAny>,
    kwargs: Bound<'py, PyAny>,
    result_type: Bound<'py, PyAny>,
    bounds: Option<BoundArrays<'py>>,
) -> PyResult<Bound<'py, PyAny>> {
    let none = || Ok(py.None().into_bound(py));
    let tols = [&ftol, &xtol, &gtol];
    let Some(options) =
        QuickOptions::from_args(&method, &jac, &loss, &f_scale, tols, &max_nfev, &x_scale)
    else {
        return none();
    };
    let (Ok(args), Some(kwargs)) = (args.cast_exact::<PyTuple>(), plain_kwargs(&kwargs)) else {
        return none();
    };
    let Some(x0) = plain_start(&x0) else {
        return none();
    };
    let borrowed = || PyValueError::new_err("an array argument is being written elsewhere");
    let mut x0 = values(x0).ok_or_else(borrowed)?;
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
    let method = options.method;
    if bounded && method == Method::Trf {
        bounds.move_strictly_inside(&mut x0).map_err(to_pyerr)?;
    }
    let analytic = options.jac == JacSpec::Analytic;
    let jac = analytic.then_some(jac);
    let f0 = call(&fun, &x0, args, kwargs.as_ref())?;
    let j0 = match &jac {
        Some(j) => Some(call(j, &x0, args, kwargs.as_ref())?),
        None => None,
    };
    let (n, lm) = (x0.len(), method == Method::Lm);
    // f(x0) and J(x0) plain: kept as returned, read when the core asks for them.
    let m = plain_vector(&f0).filter(|&m| !(lm && m < n));
    let Some(m) = m.filter(|&m| j0.as_ref().is_none_or(|j| plain_matrix(j, m, n))) else {
        let j0 = j0.unwrap_or_else(|| py.None().into_bound(py));
        return Ok(PyTuple::new(py, [f0, j0])?.into_any());
    };
    let opts = options.into_options(bounds);
    let problem = PyProblem::new(
        fun,
        jac,
        args.clone(),
        kwargs,
        &x0,
        m,
        AtStart::Returned(f0),
        j0.map(AtStart::Returned),
        None,
    );
    let report = without_gil(py, m * n, || trustfit::least_squares(&problem, &x0, &opts))
        .map_err(to_pyerr)?;
    // Written straight into the result object (a dict subclass), made with all its keys
    // from a dict that holds them: Python copies that table whole, where inserting the
    // fields one by one grew the table twice.
    let result = result_type.call1((result_keys(py)?,))?;
    let style = ScipyFields {
        numpy_scalars: true,
        // scipy's unbounded trf reports an all-zero float mask.
        zero_mask: method == Method::Trf && !bounded,
        njev_none: lm && !analytic,
        success: true,
    };
    report_into(result.cast::<PyDict>()?, report, None, (m, n), style)?;
    Ok(result)
}
