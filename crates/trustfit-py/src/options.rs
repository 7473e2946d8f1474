//! The one converter from Python's option dicts to the core's option structs (results
//! go back as dicts with named fields: `report_dict` in lib.rs, `leastsq_solve`).
//!
//! A Python-visible option is a key of the dict `trustfit.optimize` builds and one arm
//! of [`set_option`] (or [`set_leastsq_option`]); nothing else changes. Unknown keys
//! are a `ValueError`, so a misspelt key cannot be silently ignored.

use numpy::PyReadonlyArray1;
use pyo3::exceptions::{PyBaseException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use trustfit::{
    Bounds, JacSpec, LeastsqOptions, Loss, Method, Options, TrOptions, TrSolver, XScale,
};

use crate::callback::{python_loss, python_printer};
use crate::errors::to_pyerr;

/// The names users may pass, from the core's own `as_str` (scipy's spelling and, for
/// losses, the order scipy's error message prints them in).
pub fn option_names(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let methods = Method::ALL.map(Method::as_str);
    let losses = Loss::NAMES;
    let tr_solvers = TrSolver::ALL.map(TrSolver::as_str);
    let schemes = JacSpec::SCHEMES.map(JacSpec::as_str);
    let names = PyDict::new(py);
    names.set_item("methods", PyTuple::new(py, methods)?)?;
    names.set_item("losses", PyTuple::new(py, losses)?)?;
    names.set_item("tr_solvers", PyTuple::new(py, tr_solvers)?)?;
    names.set_item("jac_schemes", PyTuple::new(py, schemes)?)?;
    Ok(names)
}

/// The core's error for a name it does not parse, as the exception to raise: scipy's
/// `ValueError` and message for `kind` "method", "jac", "loss" or "tr_solver". The
/// Python side tests membership in [`option_names`] itself, in scipy's order and with
/// scipy's semantics for values that are not strings.
#[pyfunction]
pub fn name_error(py: Python<'_>, kind: &str) -> PyResult<Py<PyBaseException>> {
    let err = match kind {
        "method" => "".parse::<Method>().err(),
        "jac" => "".parse::<JacSpec>().err(),
        "loss" => "".parse::<Loss>().err(),
        // scipy's text verbatim (the core's adds trustfit's two sparse solvers).
        "tr_solver" => Some(trustfit::Error::InvalidOption {
            name: "tr_solver",
            message: "`tr_solver` must be None, 'exact' or 'lsmr'.".into(),
        }),
        _ => None,
    };
    let err = err.ok_or_else(|| unknown(kind))?;
    Ok(to_pyerr(err).into_value(py))
}

/// A float64 array option as a vector (the Python side passes contiguous arrays).
fn vector(value: &Bound<'_, PyAny>, key: &str) -> PyResult<Vec<f64>> {
    let arr: PyReadonlyArray1<'_, f64> = value.extract().map_err(|_| {
        PyValueError::new_err(format!("option `{key}` must be a 1-d float64 array"))
    })?;
    Ok(arr.as_array().to_vec())
}

/// `None` as `None`, anything else through `read`.
fn optional<'py, T>(
    value: &Bound<'py, PyAny>,
    read: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<T>,
) -> PyResult<Option<T>> {
    if value.is_none() {
        Ok(None)
    } else {
        read(value).map(Some)
    }
}

/// A name the core parses (`Method`, `JacSpec`, `TrSolver`, `Loss`), with its error.
fn parsed<T: std::str::FromStr<Err = trustfit::Error>>(value: &Bound<'_, PyAny>) -> PyResult<T> {
    value.extract::<String>()?.parse().map_err(to_pyerr)
}

/// A key no option struct knows (a typo on the Python side).
fn unknown(key: &str) -> PyErr {
    PyValueError::new_err(format!("unknown option `{key}`"))
}

/// `$o.<field> = $v.extract()?` for the one of the listed fields that `$key` names (a field
/// and its key have the same name); an [`unknown`] error when `$key` is none of them.
macro_rules! set_extracted {
    ($o:ident, $key:ident, $v:ident: $($field:ident),+) => {
        match $key {
            $(k if k == stringify!($field) => $o.$field = $v.extract()?,)+
            _ => return Err(unknown($key)),
        }
    };
}

/// One key of `tr_options` (the LSMR keys the core knows) into `t`.
fn set_tr_option(t: &mut TrOptions, key: &str, v: &Bound<'_, PyAny>) -> PyResult<()> {
    set_extracted!(t, key, v: damp, atol, btol, conlim, maxiter, regularize);
    Ok(())
}

/// One `least_squares` option into `o`.
fn set_option(o: &mut Options, key: &str, v: &Bound<'_, PyAny>) -> PyResult<()> {
    match key {
        "method" => o.method = parsed(v)?,
        "jac" => o.jac = parsed(v)?,
        "bounds" => {
            o.bounds = match optional(v, |b| b.extract::<(Bound<PyAny>, Bound<PyAny>)>())? {
                Some((lb, ub)) => Bounds::new(vector(&lb, "lb")?, vector(&ub, "ub")?),
                None => Bounds::none(),
            }
        }
        "x_scale" => {
            o.x_scale = if v.is_none() {
                XScale::Default
            } else if v.extract::<String>().is_ok_and(|s| s == "jac") {
                XScale::Jac
            } else {
                XScale::Values(vector(v, "x_scale")?)
            }
        }
        "loss" => {
            o.loss = if v.is_callable() {
                python_loss(v.clone().unbind())
            } else {
                parsed::<Loss>(v)?
            }
        }
        "diff_step" => o.diff_step = optional(v, |d| vector(d, "diff_step"))?,
        "workers" => o.workers = optional(v, |w| w.extract::<usize>())?,
        "tr_solver" => o.tr_solver = optional(v, parsed)?,
        "tr_options" => {
            let dict = optional(v, |d| Ok(d.cast::<PyDict>()?.clone()))?;
            o.tr_options = match dict {
                Some(d) => read_dict(&d, set_tr_option)?,
                None => TrOptions::default(),
            }
        }
        "verbose" => {
            o.verbose = v.extract()?;
            o.printer = (o.verbose > 0).then(python_printer);
        }
        _ => set_extracted!(o, key, v: ftol, xtol, gtol, f_scale, max_nfev),
    }
    Ok(())
}

/// The core's defaults with every `(key, value)` of `dict` applied by `set`.
fn read_dict<T: Default>(
    dict: &Bound<'_, PyDict>,
    set: impl Fn(&mut T, &str, &Bound<'_, PyAny>) -> PyResult<()>,
) -> PyResult<T> {
    let mut o = T::default();
    for (key, value) in dict.iter() {
        set(&mut o, &key.extract::<String>()?, &value)?;
    }
    Ok(o)
}

/// The options dict of `least_squares` as the core's [`Options`] (defaults: scipy's).
pub fn read_options(dict: &Bound<'_, PyDict>) -> PyResult<Options> {
    read_dict(dict, set_option)
}

/// One `leastsq` option into `o`.
fn set_leastsq_option(o: &mut LeastsqOptions, key: &str, v: &Bound<'_, PyAny>) -> PyResult<()> {
    match key {
        "diag" => o.diag = optional(v, |d| vector(d, "diag"))?,
        _ => set_extracted!(o, key, v: ftol, xtol, gtol, maxfev, epsfcn, factor),
    }
    Ok(())
}

/// The options dict of `leastsq` as the core's [`LeastsqOptions`] (`dfun` is set from
/// whether a `Dfun` was given, not from the dict).
pub fn read_leastsq_options(dict: &Bound<'_, PyDict>) -> PyResult<LeastsqOptions> {
    read_dict(dict, set_leastsq_option)
}
