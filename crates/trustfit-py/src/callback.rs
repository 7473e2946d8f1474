//! User code called from the core: residuals and Jacobian (with scipy's memo), complex
//! residuals for `jac='cs'`, a callable loss, the iteration callback and the verbose sink.
//!
//! Every call gets `x` as a float64 ndarray of its own, as scipy's copy: a fresh one, or
//! the last call's when nothing else holds that one any more (only a weak reference
//! could tell). The result is read with one copy when it is a C-contiguous float64
//! ndarray. A Python exception
//! travels through the core as the payload of a [`CallbackError`] and is re-raised
//! unchanged by [`crate::errors::to_pyerr`].

use std::ops::ControlFlow;
use std::sync::{Mutex, MutexGuard};

use numpy::{Complex64, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use trustfit::{
    CallbackError, IterationSummary, JacobianProducts, Loss, Printer, Residuals, SparsityPattern,
};

use crate::convert::{overwrite_unshared, read_complex, read_loss, read_matrix, read_vector};
use crate::errors::to_callback_error;

/// scipy's `VectorFunction` memo (spec §1.5): the last `x` seen by `fun` or `jac`, and
/// `f` / `J` when they were computed there.
struct Memo {
    x: Vec<f64>,
    f: Saved,
    j: Saved,
    /// The `x` array of the last call, given again to the next when no one kept it (see
    /// [`overwrite_unshared`]); here, not in a lock of its own, to take one lock fewer.
    spare_x: Option<Py<PyArray1<f64>>>,
}

/// A value of the memo: what the user's function returned (kept, not copied: scipy
/// keeps the object too, and a hit is rare — the solver asks once per point), or the
/// values at `x0` evaluated before the solve.
enum Saved {
    Missing,
    Values(Vec<f64>),
    Object(Py<PyAny>),
}

/// A value `fun` or `jac` gave at `x0` before the solve: its values, or the object it
/// returned (read with one copy when the core asks for it: no copy kept in between).
pub enum AtStart<'py> {
    Values(Vec<f64>),
    Returned(Bound<'py, PyAny>),
}

impl From<AtStart<'_>> for Saved {
    fn from(v: AtStart<'_>) -> Self {
        match v {
            AtStart::Values(v) => Saved::Values(v),
            AtStart::Returned(o) => Saved::Object(o.unbind()),
        }
    }
}

impl Saved {
    /// Writes the saved value into `out` (`read` converts a kept object); false when
    /// there is none.
    fn serve(
        &self,
        py: Python<'_>,
        out: &mut [f64],
        read: impl FnOnce(&Bound<'_, PyAny>, &mut [f64]) -> PyResult<()>,
    ) -> PyResult<bool> {
        match self {
            Saved::Missing => return Ok(false),
            Saved::Values(v) => out.copy_from_slice(v),
            Saved::Object(o) => read(o.bind(py), out)?,
        }
        Ok(true)
    }
}

impl Memo {
    fn update_x(&mut self, x: &[f64]) {
        if self.x.as_slice() != x {
            self.x.copy_from_slice(x);
            self.f = Saved::Missing;
            self.j = Saved::Missing;
        }
    }

    fn slot(&mut self, slot: Slot) -> &mut Saved {
        match slot {
            Slot::F => &mut self.f,
            Slot::J => &mut self.j,
        }
    }

    /// The saved value of `slot` at `x` into `out`; false when there is none.
    fn serve(
        &mut self,
        py: Python<'_>,
        x: &[f64],
        slot: Slot,
        out: &mut [f64],
        read: impl FnOnce(&Bound<'_, PyAny>, &mut [f64]) -> PyResult<()>,
    ) -> PyResult<bool> {
        match self.x.as_slice() == x {
            true => self.slot(slot).serve(py, out, read),
            false => Ok(false),
        }
    }

    /// Keeps `value`, returned at `x`, in `slot`.
    fn keep(&mut self, x: &[f64], slot: Slot, value: Py<PyAny>) {
        self.update_x(x);
        *self.slot(slot) = Saved::Object(value);
    }
}

/// Which value of the memo: `f` or `J`.
#[derive(Debug, Clone, Copy)]
enum Slot {
    F,
    J,
}

/// The user's `fun` (and `jac`) with `args` / `kwargs`, as a [`Residuals`] problem. It
/// holds no GIL: the solve runs detached from Python and each call of user code
/// attaches for its duration, so other Python threads run in between.
pub struct PyProblem {
    fun: Py<PyAny>,
    jac: Option<Py<PyAny>>,
    args: Py<PyTuple>,
    kwargs: Option<Py<PyDict>>,
    m: usize,
    n: usize,
    /// The fixed structure of a sparse analytic Jacobian: `jac` then returns the values
    /// in this pattern's CSR order (the Python wrapper maps scipy.sparse results into it).
    pattern: Option<SparsityPattern>,
    /// A matrix-free J: `jac` returns a LinearOperator, kept here for the products at
    /// the last linearization point (`None` when J is a matrix).
    operator: Option<Mutex<Py<PyAny>>>,
    memo: Mutex<Memo>,
    /// `workers` > 1: the core may evaluate difference columns from several threads
    /// (each attaches to Python for its call; numpy releases the GIL in large operations).
    parallel: bool,
}

/// The lock of a mutex that user code never holds across a panic of ours (a poisoned
/// lock still holds consistent data: the memo is only marked valid after a full read).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl PyProblem {
    /// A problem of `m` residuals whose `f(x0)` (and `J(x0)` when given) were already
    /// evaluated in Python; the core's first calls at `x0` are served from them without
    /// calling the user again. With a `pattern`, `j0` holds its `nnz` values and `jac`
    /// returns such values.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        fun: Bound<'_, PyAny>,
        jac: Option<Bound<'_, PyAny>>,
        args: Bound<'_, PyTuple>,
        kwargs: Option<Bound<'_, PyDict>>,
        x0: &[f64],
        m: usize,
        f0: AtStart<'_>,
        j0: Option<AtStart<'_>>,
        pattern: Option<SparsityPattern>,
    ) -> Self {
        let n = x0.len();
        let memo = Memo {
            x: x0.to_vec(),
            f: f0.into(),
            j: j0.map_or(Saved::Missing, Saved::from),
            spare_x: None,
        };
        Self {
            fun: fun.unbind(),
            jac: jac.map(Bound::unbind),
            args: args.unbind(),
            kwargs: kwargs.map(Bound::unbind),
            m,
            n,
            pattern,
            operator: None,
            memo: Mutex::new(memo),
            parallel: false,
        }
    }

    /// Lets the core call `fun` from several threads at once (`workers` > 1).
    pub fn parallel(mut self, parallel: bool) -> Self {
        self.parallel = parallel;
        self
    }

    /// Makes J matrix-free: `op0` is the LinearOperator `jac(x0)` returned, and every
    /// later `jac` call must return one too.
    pub fn with_operator(mut self, op0: Bound<'_, PyAny>) -> Self {
        lock(&self.memo).j = Saved::Object(op0.clone().unbind());
        self.operator = Some(Mutex::new(op0.unbind()));
        self
    }

    /// The LinearOperator of the last linearization (the final J after a solve).
    pub fn last_operator<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.operator.as_ref().map(|op| lock(op).bind(py).clone())
    }

    /// `out = op.<method>(v)` for the current operator, with `out`'s length checked.
    fn apply(&self, method: &str, v: &[f64], out: &mut [f64]) -> Result<(), CallbackError> {
        let Some(op) = &self.operator else {
            return Err(CallbackError::new("`jac` did not return a LinearOperator"));
        };
        Python::attach(|py| {
            let va = PyArray1::from_slice(py, v);
            let ret = lock(op).bind(py).call_method1(method, (va,))?;
            read_vector(&ret, out, "jac")
        })
        .map_err(to_callback_error)
    }

    /// scipy's memo for `jac`: calls it at `x` unless J is already known there, and
    /// reads its return value into `out` with `read`.
    fn jac_at(
        &self,
        x: &[f64],
        out: &mut [f64],
        read: impl Fn(&Bound<'_, PyAny>, &mut [f64]) -> PyResult<()>,
    ) -> Result<(), CallbackError> {
        let Some(user_jac) = &self.jac else {
            return Err(CallbackError::new("`jac` is not callable"));
        };
        self.memoized(user_jac, Slot::J, x, out, read)
    }

    /// `callable` (`fun` or `jac`, kept in `slot`) at `x`, read into `out` by `read`:
    /// the memo's value when it has one there, else the user's.
    ///
    /// The GIL is taken before the memo's lock, never the other way round, and the
    /// lock is not held while user code runs (`fun` may run on other threads).
    fn memoized(
        &self,
        callable: &Py<PyAny>,
        slot: Slot,
        x: &[f64],
        out: &mut [f64],
        read: impl Fn(&Bound<'_, PyAny>, &mut [f64]) -> PyResult<()>,
    ) -> Result<(), CallbackError> {
        Python::attach(|py| {
            let spare = {
                let mut memo = lock(&self.memo);
                if memo.serve(py, x, slot, out, &read)? {
                    return Ok(());
                }
                memo.spare_x.take()
            };
            let xa = x_array(py, spare, x);
            let ret = self.call_user(py, callable, xa.clone().into_any())?;
            read(&ret, out)?;
            let mut memo = lock(&self.memo);
            memo.spare_x = Some(xa.unbind());
            memo.keep(x, slot, ret.unbind());
            Ok(())
        })
        .map_err(to_callback_error)
    }

    /// `callable(x, *args, **kwargs)`.
    fn call_user<'py>(
        &self,
        py: Python<'py>,
        callable: &Py<PyAny>,
        x: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kwargs = self.kwargs.as_ref().map(|k| k.bind(py));
        call_with(callable.bind(py), x, self.args.bind(py), kwargs)
    }
}

/// An array holding `x` for a call of user code: the last call's (`spare`) when no one
/// kept it, else a fresh one (scipy passes a fresh copy; a reused array nobody else
/// holds is indistinguishable from one).
fn x_array<'py>(
    py: Python<'py>,
    spare: Option<Py<PyArray1<f64>>>,
    x: &[f64],
) -> Bound<'py, PyArray1<f64>> {
    match spare.map(|a| a.into_bound(py)) {
        Some(a) if overwrite_unshared(&a, x) => a,
        _ => PyArray1::from_slice(py, x),
    }
}

/// `callable(x)` through CPython's `PyObject_CallFunctionObjArgs`, which passes `x` on
/// the C stack (vectorcall) where `call1` builds and frees an argument tuple: the limited
/// API of Python 3.9, which the abi3 module is built for, has no one-argument call.
#[allow(unsafe_code)]
fn call_one<'py>(
    callable: &Bound<'py, PyAny>,
    x: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let end = std::ptr::null_mut::<pyo3::ffi::PyObject>();
    // SAFETY: the GIL is held and both objects are alive for the call (the `Bound`s own
    // references to them); the argument list ends with the NULL the variadic function
    // reads up to. The result is a new reference or NULL with an exception set, which
    // `from_owned_ptr_or_err` takes over or turns into that exception.
    unsafe {
        let ret = pyo3::ffi::PyObject_CallFunctionObjArgs(callable.as_ptr(), x.as_ptr(), end);
        Bound::from_owned_ptr_or_err(callable.py(), ret)
    }
}

/// `callable(x, *args, **kwargs)`; without extras a one-argument call (no tuple built).
pub fn call_with<'py>(
    callable: &Bound<'py, PyAny>,
    x: Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    if args.is_empty() && kwargs.is_none() {
        return call_one(callable, x);
    }
    let mut items = Vec::with_capacity(1 + args.len());
    items.push(x);
    items.extend(args.iter());
    callable.call(PyTuple::new(callable.py(), items)?, kwargs)
}

impl Residuals for PyProblem {
    fn num_residuals(&self) -> usize {
        self.m
    }

    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        let read = |ret: &Bound<'_, PyAny>, out: &mut [f64]| read_vector(ret, out, "fun");
        self.memoized(&self.fun, Slot::F, x, f, read)
    }

    fn as_sync(&self) -> Option<&(dyn Residuals + Sync)> {
        if self.parallel { Some(self) } else { None }
    }

    fn has_jacobian(&self) -> bool {
        self.jac.is_some()
    }

    fn jacobian(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        let (m, n) = (self.m, self.n);
        self.jac_at(x, jac, |ret, out| read_matrix(ret, out, m, n))
    }

    fn jacobian_sparsity(&self) -> Option<SparsityPattern> {
        self.pattern.clone()
    }

    fn sparse_jacobian(&self, x: &[f64], values: &mut [f64]) -> Result<(), CallbackError> {
        self.jac_at(x, values, |ret, out| read_vector(ret, out, "jac"))
    }

    fn jacobian_products(&self) -> Option<&dyn JacobianProducts> {
        self.operator
            .is_some()
            .then_some(self as &dyn JacobianProducts)
    }

    fn has_complex(&self) -> bool {
        true
    }

    fn residuals_complex(&self, x: &[Complex64], f: &mut [Complex64]) -> Result<(), CallbackError> {
        Python::attach(|py| {
            let xa = PyArray1::from_slice(py, x);
            let ret = self.call_user(py, &self.fun, xa.into_any())?;
            read_complex(&ret, f)
        })
        .map_err(to_callback_error)
    }
}

impl JacobianProducts for PyProblem {
    /// Calls `jac(x)` (once per point, as scipy does) for the operator at `x`.
    fn linearize(&self, x: &[f64]) -> Result<(), CallbackError> {
        let Some(op) = &self.operator else {
            return Err(CallbackError::new("`jac` did not return a LinearOperator"));
        };
        self.jac_at(x, &mut [], |ret, _| {
            *lock(op) = ret.clone().unbind();
            Ok(())
        })
    }

    fn jvp(&self, _x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), CallbackError> {
        self.apply("matvec", v, out)
    }

    fn vjp(&self, _x: &[f64], u: &[f64], out: &mut [f64]) -> Result<(), CallbackError> {
        self.apply("rmatvec", u, out)
    }
}

/// A callable `loss(z)` returning the `(3, m)` array (ρ, ρ′, ρ″).
pub fn python_loss(loss: Py<PyAny>) -> Loss {
    Loss::custom(move |z, rho, d1, d2| {
        Python::attach(|py| {
            let za = PyArray1::from_slice(py, z);
            let ret = loss.bind(py).call1((za,))?;
            read_loss(&ret, rho, d1, d2)
        })
        .map_err(to_callback_error)
    })
}

/// The iteration callback: calls the Python wrapper `cb(x, fun, nit, nfev, cost)`,
/// which returns True when the user raised `StopIteration`. Any other exception is kept
/// in `error` and stops the solve; the caller re-raises it.
pub struct IterationHook {
    callback: Py<PyAny>,
    /// The exception the user's callback raised, if any.
    pub error: Option<PyErr>,
}

impl IterationHook {
    /// Wraps the Python-side callback wrapper.
    pub fn new(callback: Bound<'_, PyAny>) -> Self {
        Self {
            callback: callback.unbind(),
            error: None,
        }
    }

    /// Called by the core after every iteration (attaching to Python for the call).
    pub fn call(&mut self, it: &IterationSummary<'_>) -> ControlFlow<()> {
        let result = Python::attach(|py| {
            let x = PyArray1::from_slice(py, it.x);
            let fun = PyArray1::from_slice(py, it.fun);
            self.callback
                .bind(py)
                .call1((x, fun, it.iteration, it.nfev, it.cost))
                .and_then(|r| r.is_truthy())
        });
        match result {
            Ok(false) => ControlFlow::Continue(()),
            Ok(true) => ControlFlow::Break(()),
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// Verbose lines go through Python's `print`, so `sys.stdout` redirection (and pytest's
/// capsys) sees them exactly as scipy's.
pub fn python_printer() -> Printer {
    Printer::new(|line| {
        Python::attach(|py| {
            let printed = py
                .import("builtins")
                .and_then(|b| b.getattr("print"))
                .and_then(|print| print.call1((line,)));
            if let Err(e) = printed {
                e.write_unraisable(py, None);
            }
        });
    })
}
