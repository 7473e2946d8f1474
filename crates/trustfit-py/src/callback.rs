//! User code called from the core: residuals and Jacobian (with scipy's memo), complex
//! residuals for `jac='cs'`, a callable loss, the iteration callback and the verbose sink.
//!
//! Every call builds `x` as a fresh float64 ndarray (scipy passes a copy too) and reads
//! the result with one copy when it is a C-contiguous float64 ndarray. A Python exception
//! travels through the core as the payload of a [`CallbackError`] and is re-raised
//! unchanged by [`crate::errors::to_pyerr`].

use std::cell::RefCell;
use std::ops::ControlFlow;

use numpy::{Complex64, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use trustfit::{
    CallbackError, IterationSummary, JacobianProducts, Loss, Printer, Residuals, SparsityPattern,
};

use crate::convert::{read_complex, read_loss, read_matrix, read_vector};
use crate::errors::to_callback_error;

/// scipy's `VectorFunction` memo (spec §1.5): the last `x` seen by `fun` or `jac`, and
/// `f` / `J` when they were computed there.
struct Memo {
    x: Vec<f64>,
    f: Vec<f64>,
    f_valid: bool,
    j: Vec<f64>,
    j_valid: bool,
}

impl Memo {
    fn update_x(&mut self, x: &[f64]) {
        if self.x.as_slice() != x {
            self.x.copy_from_slice(x);
            self.f_valid = false;
            self.j_valid = false;
        }
    }
}

/// The user's `fun` (and `jac`) with `args` / `kwargs`, as a [`Residuals`] problem.
pub struct PyProblem<'py> {
    py: Python<'py>,
    fun: Bound<'py, PyAny>,
    jac: Option<Bound<'py, PyAny>>,
    args: Bound<'py, PyTuple>,
    kwargs: Option<Bound<'py, PyDict>>,
    m: usize,
    n: usize,
    /// The fixed structure of a sparse analytic Jacobian: `jac` then returns the values
    /// in this pattern's CSR order (the Python wrapper maps scipy.sparse results into it).
    pattern: Option<SparsityPattern>,
    /// A matrix-free J: `jac` returns a LinearOperator, kept here for the products at
    /// the last linearization point (`None` when J is a matrix).
    operator: Option<RefCell<Bound<'py, PyAny>>>,
    memo: RefCell<Memo>,
}

impl<'py> PyProblem<'py> {
    /// A problem whose `f(x0)` (and `J(x0)` when given) were already evaluated in Python;
    /// the core's first calls at `x0` are served from them without calling the user again.
    /// With a `pattern`, `j0` holds its `nnz` values and `jac` returns such values.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        py: Python<'py>,
        fun: Bound<'py, PyAny>,
        jac: Option<Bound<'py, PyAny>>,
        args: Bound<'py, PyTuple>,
        kwargs: Option<Bound<'py, PyDict>>,
        x0: &[f64],
        f0: &[f64],
        j0: Option<&[f64]>,
        pattern: Option<SparsityPattern>,
    ) -> Self {
        let (m, n) = (f0.len(), x0.len());
        let jac_len = pattern.as_ref().map_or(m * n, SparsityPattern::nnz);
        let memo = Memo {
            x: x0.to_vec(),
            f: f0.to_vec(),
            f_valid: true,
            j: j0.map_or_else(
                || vec![0.0; if jac.is_some() { jac_len } else { 0 }],
                <[f64]>::to_vec,
            ),
            j_valid: j0.is_some(),
        };
        Self {
            py,
            fun,
            jac,
            args,
            kwargs,
            m,
            n,
            pattern,
            operator: None,
            memo: RefCell::new(memo),
        }
    }

    /// Makes J matrix-free: `op0` is the LinearOperator `jac(x0)` returned, and every
    /// later `jac` call must return one too.
    pub fn with_operator(mut self, op0: Bound<'py, PyAny>) -> Self {
        self.memo.borrow_mut().j_valid = true;
        self.operator = Some(RefCell::new(op0));
        self
    }

    /// The LinearOperator of the last linearization (the final J after a solve).
    pub fn last_operator(&self) -> Option<Bound<'py, PyAny>> {
        self.operator.as_ref().map(|op| op.borrow().clone())
    }

    /// `out = op.<method>(v)` for the current operator, with `out`'s length checked.
    fn apply(&self, method: &str, v: &[f64], out: &mut [f64]) -> Result<(), CallbackError> {
        let Some(op) = &self.operator else {
            return Err(CallbackError::new("`jac` did not return a LinearOperator"));
        };
        let va = PyArray1::from_slice(self.py, v);
        let ret = op
            .borrow()
            .call_method1(method, (va,))
            .map_err(to_callback_error)?;
        read_vector(&ret, out, "jac").map_err(to_callback_error)
    }

    /// scipy's memo for `jac`: calls it at `x` unless J is already known there, and
    /// hands its return value to `read` (which stores it in the memo's `j`).
    fn jac_at(
        &self,
        x: &[f64],
        read: impl FnOnce(&Bound<'py, PyAny>, &mut Vec<f64>) -> PyResult<()>,
    ) -> Result<(), CallbackError> {
        let Some(user_jac) = &self.jac else {
            return Err(CallbackError::new("`jac` is not callable"));
        };
        let mut memo = self.memo.borrow_mut();
        memo.update_x(x);
        if !memo.j_valid {
            let xa = PyArray1::from_slice(self.py, x);
            let ret = self
                .call_user(user_jac, xa.into_any())
                .map_err(to_callback_error)?;
            read(&ret, &mut memo.j).map_err(to_callback_error)?;
            memo.j_valid = true;
        }
        Ok(())
    }

    /// `callable(x, *args, **kwargs)`.
    fn call_user(
        &self,
        callable: &Bound<'py, PyAny>,
        x: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if self.args.is_empty() && self.kwargs.is_none() {
            return callable.call1((x,));
        }
        let mut items = Vec::with_capacity(1 + self.args.len());
        items.push(x);
        items.extend(self.args.iter());
        let all = PyTuple::new(self.py, items)?;
        callable.call(all, self.kwargs.as_ref())
    }
}

impl Residuals for PyProblem<'_> {
    fn num_residuals(&self) -> usize {
        self.m
    }

    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        let mut memo = self.memo.borrow_mut();
        memo.update_x(x);
        if !memo.f_valid {
            let xa = PyArray1::from_slice(self.py, x);
            let ret = self
                .call_user(&self.fun, xa.into_any())
                .map_err(to_callback_error)?;
            read_vector(&ret, &mut memo.f, "fun").map_err(to_callback_error)?;
            memo.f_valid = true;
        }
        f.copy_from_slice(&memo.f);
        Ok(())
    }

    fn has_jacobian(&self) -> bool {
        self.jac.is_some()
    }

    fn jacobian(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        let (m, n) = (self.m, self.n);
        self.jac_at(x, |ret, j| read_matrix(ret, j, m, n))?;
        jac.copy_from_slice(&self.memo.borrow().j);
        Ok(())
    }

    fn jacobian_sparsity(&self) -> Option<SparsityPattern> {
        self.pattern.clone()
    }

    fn sparse_jacobian(&self, x: &[f64], values: &mut [f64]) -> Result<(), CallbackError> {
        self.jac_at(x, |ret, j| read_vector(ret, j, "jac"))?;
        values.copy_from_slice(&self.memo.borrow().j);
        Ok(())
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
        let xa = PyArray1::from_slice(self.py, x);
        let ret = self
            .call_user(&self.fun, xa.into_any())
            .map_err(to_callback_error)?;
        read_complex(&ret, f).map_err(to_callback_error)
    }
}

impl JacobianProducts for PyProblem<'_> {
    /// Calls `jac(x)` (once per point, as scipy does) for the operator at `x`.
    fn linearize(&self, x: &[f64]) -> Result<(), CallbackError> {
        let Some(op) = &self.operator else {
            return Err(CallbackError::new("`jac` did not return a LinearOperator"));
        };
        self.jac_at(x, |ret, _| {
            *op.borrow_mut() = ret.clone();
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
pub struct IterationHook<'py> {
    py: Python<'py>,
    callback: Bound<'py, PyAny>,
    /// The exception the user's callback raised, if any.
    pub error: Option<PyErr>,
}

impl<'py> IterationHook<'py> {
    /// Wraps the Python-side callback wrapper.
    pub fn new(py: Python<'py>, callback: Bound<'py, PyAny>) -> Self {
        Self {
            py,
            callback,
            error: None,
        }
    }

    /// Called by the core after every iteration.
    pub fn call(&mut self, it: &IterationSummary<'_>) -> ControlFlow<()> {
        let x = PyArray1::from_slice(self.py, it.x);
        let fun = PyArray1::from_slice(self.py, it.fun);
        let result = self
            .callback
            .call1((x, fun, it.iteration, it.nfev, it.cost))
            .and_then(|r| r.is_truthy());
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
