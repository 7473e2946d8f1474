"""`least_squares`, `leastsq` and `curve_fit` with scipy 1.17's signatures, defaults, checks
and results, solved in Rust.

Argument validation follows scipy's order and messages exactly (spec §1.2), so the same bad
input raises the same exception. ``f(x0)`` (and ``J(x0)`` for a callable ``jac``) are
evaluated here once, as scipy does, and handed to the compiled solver, which serves them to
the core's first evaluations at ``x0`` without calling the user again (scipy's memo, so that
``res.nfev`` equals the number of calls of ``fun`` for an analytic ``jac``).

`leastsq` runs the core's port of MINPACK's LMDIF/LMDER (the same iterates as scipy's C
code) and calls the user's functions exactly as scipy's wrapper does; `curve_fit` is
scipy's glue around `leastsq` / `least_squares`, written here on top of trustfit's.
"""

from __future__ import annotations

import inspect
import math
import operator
import os
import sys
from warnings import warn

import numpy as np
from scipy.linalg import LinAlgError, cholesky, get_lapack_funcs, solve_triangular
from scipy.optimize import Bounds, OptimizeResult, OptimizeWarning
from scipy.sparse import csr_array, issparse
from scipy.sparse.linalg import LinearOperator

from . import _trustfit

__all__ = ["least_squares", "leastsq", "curve_fit", "covariance"]

EPS = np.finfo(float).eps

# The names users may pass, as the core spells and parses them (one place: the binding
# exports them from the core's Method, Loss, TrSolver and JacSpec).
METHODS = _trustfit.NAMES["methods"]
TR_SOLVERS = _trustfit.NAMES["tr_solvers"]
FD_METHODS = _trustfit.NAMES["jac_schemes"]

# A dict as scipy's (membership by hash: an unhashable `loss` is a TypeError, as there).
IMPLEMENTED_LOSSES = dict.fromkeys(_trustfit.NAMES["losses"])

# Keyword arguments scipy's LSMR solver accepts in `tr_options` (trf also takes `regularize`).
_LSMR_OPTIONS = {"damp", "atol", "btol", "conlim", "maxiter", "show", "x0"}


def _not_implemented(what):
    return NotImplementedError(
        f"{what} is not supported by trustfit yet; use scipy.optimize.least_squares for it."
    )


def _left_scaled_operator(J, d):
    """``diag(d) J`` as a LinearOperator: the robust-loss scaling scipy applies to a
    LinearOperator Jacobian before returning it as ``res.jac``."""
    d = np.asarray(d)
    return LinearOperator(
        J.shape,
        matvec=lambda x: d * J.matvec(x),
        matmat=lambda X: d[:, None] * J.matmat(X),
        rmatvec=lambda x: J.rmatvec(x.ravel() * d),
    )


def _lsmr_options(tr_options, method, n):
    """`tr_options` for the LSMR solver as the core's keys
    ``damp, atol, btol, conlim, maxiter, regularize``, with scipy's errors.

    scipy passes them to ``scipy.sparse.linalg.lsmr(A, b, **tr_options)`` (trf pops
    'regularize' first; dogbox warns and drops it), so an unknown key is lsmr's TypeError.
    'show' only prints lsmr's inner iterations and is ignored. 'x0' (lsmr's starting point,
    the same vector at every iteration) is accepted when None or zero, which is lsmr's
    default; any other value raises NotImplementedError.
    """
    opts = dict(tr_options)
    if method == "dogbox" and "regularize" in opts:
        warn(
            "The keyword 'regularize' in `tr_options` is not relevant for 'dogbox' method.",
            stacklevel=3,
        )
        del opts["regularize"]
    regularize = opts.pop("regularize", True) if method == "trf" else True
    for key in opts:
        if key in ("A", "b"):
            raise TypeError(f"lsmr() got multiple values for argument '{key}'")
        if key not in _LSMR_OPTIONS:
            raise TypeError(f"lsmr() got an unexpected keyword argument '{key}'")
    x0 = opts.get("x0")
    if x0 is not None and (np.shape(x0) != (n,) or np.any(np.asarray(x0) != 0)):
        raise _not_implemented("A nonzero `x0` in `tr_options`")
    maxiter = opts.get("maxiter")
    return {
        "damp": float(opts.get("damp", 0.0)),
        "atol": float(opts.get("atol", 1e-6)),
        "btol": float(opts.get("btol", 1e-6)),
        "conlim": float(opts.get("conlim", 1e8)),
        # lsmr stops at `itn < maxiter`
        "maxiter": None if maxiter is None else max(0, math.ceil(maxiter)),
        "regularize": bool(regularize),
    }


def _csr_structure(A):
    """(indptr, indices) as int64 arrays of a canonical (sorted, summed) CSR array."""
    return (
        np.ascontiguousarray(A.indptr, dtype=np.int64),
        np.ascontiguousarray(A.indices, dtype=np.int64),
    )


def _sparsity_structure(jac_sparsity):
    """The nonzero structure of `jac_sparsity` (array_like or sparse) as sorted CSR.

    Explicit zeros of a sparse `jac_sparsity` are dropped, as scipy's finite differences
    (``scipy.sparse.find``) drop them.
    """
    if issparse(jac_sparsity):
        A = csr_array(jac_sparsity, dtype=np.float64, copy=True)
        A.sum_duplicates()
        A.data = (A.data != 0).astype(np.float64)
        A.eliminate_zeros()
    else:
        A = csr_array((np.atleast_2d(jac_sparsity) != 0).astype(np.float64))
    A.sort_indices()
    return _csr_structure(A)


def _sparse_analytic_jac(jac, J0, m, n):
    """A `jac` returning sparse matrices, for the core: the structure of J(x0) (explicit
    zeros included) is fixed for the whole solve; later Jacobians are mapped into it.

    Returns ``((indptr, indices), values of J(x0), jac_values)`` where ``jac_values(x,
    *args, **kwargs)`` returns the values of J(x) in the structure's order. A later J with
    a nonzero outside the structure of J(x0) raises ValueError (store explicit zeros in
    J(x0) where entries may become nonzero).
    """
    A0 = csr_array(J0, dtype=np.float64, copy=True)
    A0.sum_duplicates()
    A0.sort_indices()
    indptr, indices = _csr_structure(A0)
    nnz = indices.size
    keys0 = np.repeat(np.arange(m, dtype=np.int64), np.diff(indptr)) * n + indices

    def jac_values(x, *args, **kwargs):
        J = jac(x, *args, **kwargs)
        A = csr_array(J, dtype=np.float64)
        if A.shape != (m, n):
            raise ValueError(
                f"The return value of `jac` has wrong shape: expected {(m, n)}, "
                f"actual {A.shape}."
            )
        if not A.has_canonical_format:
            A = A.copy()
            A.sum_duplicates()
            A.sort_indices()
        if np.array_equal(A.indptr, indptr) and np.array_equal(A.indices, indices):
            return np.ascontiguousarray(A.data, dtype=np.float64)
        rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(A.indptr))
        keys = rows * n + A.indices.astype(np.int64)
        pos = np.searchsorted(keys0, keys)
        inside = pos < nnz
        inside[inside] = keys0[pos[inside]] == keys[inside]
        outside = ~inside & (A.data != 0)
        if np.any(outside):
            k = int(np.flatnonzero(outside)[0])
            raise ValueError(
                "trustfit keeps the sparsity structure of the first Jacobian J(x0) fixed, "
                f"but `jac` returned a nonzero at ({int(rows[k])}, {int(A.indices[k])}), "
                "outside it. Store explicit zeros in J(x0) where entries may become nonzero."
            )
        values = np.zeros(nnz)
        values[pos[inside]] = A.data[inside]
        return values

    return (indptr, indices), np.ascontiguousarray(A0.data), jac_values


def _prepare_bounds(bounds, n):
    lb, ub = (np.asarray(b, dtype=float) for b in bounds)
    # A scalar bound for every variable (np.full: what scipy's np.resize gives, faster).
    if lb.ndim == 0:
        lb = np.full(n, lb)
    if ub.ndim == 0:
        ub = np.full(n, ub)
    return lb, ub


def _quick_bounds(bounds, n):
    """`bounds` as two float64 arrays of length n when it is a pair of numbers or
    sequences of n numbers (scipy's `prepare_bounds`), else None: a `Bounds` object, other
    shapes and values that do not convert take the full checks (and their errors).
    Whether lb < ub and x0 lies within is checked in Rust, which falls back alike."""
    if not ((type(bounds) is tuple or type(bounds) is list) and len(bounds) == 2):
        return None
    try:
        lb, ub = _prepare_bounds(bounds, n)
    except (TypeError, ValueError):
        return None
    if lb.shape != (n,) or ub.shape != (n,):
        return None
    return lb, ub


def _no_bounds(bounds):
    """`bounds` is a pair of plain floats -inf, inf (the default of least_squares and
    curve_fit, as the object or written out)."""
    return (
        type(bounds) is tuple
        and len(bounds) == 2
        and type(bounds[0]) is float
        and type(bounds[1]) is float
        and bounds[0] == -np.inf
        and bounds[1] == np.inf
    )


def _in_bounds(x, lb, ub):
    return np.all((x >= lb) & (x <= ub))


def _find_active_constraints(x, lb, ub, rtol):
    active = np.zeros_like(x, dtype=int)
    lower_dist = x - lb
    upper_dist = ub - x
    lower_threshold = rtol * np.maximum(1, np.abs(lb))
    upper_threshold = rtol * np.maximum(1, np.abs(ub))
    lower_active = np.isfinite(lb) & (lower_dist <= np.minimum(upper_dist, lower_threshold))
    active[lower_active] = -1
    upper_active = np.isfinite(ub) & (upper_dist <= np.minimum(lower_dist, upper_threshold))
    active[upper_active] = 1
    return active


def _make_strictly_feasible(x, lb, ub, rstep=1e-10):
    # scipy's _lsq.common.make_strictly_feasible (rstep > 0); the core repeats it and the
    # result is a fixed point, so f(x0) computed here is served to the core's first call.
    x_new = x.copy()
    active = _find_active_constraints(x, lb, ub, rstep)
    lower_mask = np.equal(active, -1)
    upper_mask = np.equal(active, 1)
    x_new[lower_mask] = lb[lower_mask] + rstep * np.maximum(1, np.abs(lb[lower_mask]))
    x_new[upper_mask] = ub[upper_mask] - rstep * np.maximum(1, np.abs(ub[upper_mask]))
    tight_bounds = (x_new < lb) | (x_new > ub)
    x_new[tight_bounds] = 0.5 * (lb[tight_bounds] + ub[tight_bounds])
    return x_new


def _check_tolerance(ftol, xtol, gtol, method):
    def check(tol, name):
        if tol is None:
            tol = 0
        elif tol < EPS:
            warn(
                f"Setting `{name}` below the machine epsilon ({EPS:.2e}) effectively "
                f"disables the corresponding termination condition.",
                stacklevel=4,
            )
        return tol

    ftol = check(ftol, "ftol")
    xtol = check(xtol, "xtol")
    gtol = check(gtol, "gtol")
    if method == "lm" and (ftol < EPS or xtol < EPS or gtol < EPS):
        raise ValueError(
            f"All tolerances must be higher than machine epsilon ({EPS:.2e}) for method 'lm'."
        )
    elif ftol < EPS and xtol < EPS and gtol < EPS:
        raise ValueError(
            f"At least one of the tolerances must be higher than machine epsilon ({EPS:.2e})."
        )
    return ftol, xtol, gtol


def _check_x_scale(x_scale, x0, method):
    if x_scale is None:
        # scipy: 'jac' for lm, else 1.0 (always valid, so nothing to check).
        return "jac" if method == "lm" else None
    if isinstance(x_scale, str) and x_scale == "jac":
        return x_scale
    try:
        x_scale = np.asarray(x_scale, dtype=float)
        valid = np.all(np.isfinite(x_scale)) and np.all(x_scale > 0)
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise ValueError("`x_scale` must be 'jac' or array_like with positive numbers.")
    if x_scale.ndim == 0:
        x_scale = np.resize(x_scale, x0.shape)
    if x_scale.shape != x0.shape:
        raise ValueError("Inconsistent shapes between `x_scale` and `x0`.")
    return x_scale


def _check_jac_sparsity(jac_sparsity, m, n):
    if jac_sparsity is None:
        return
    if not issparse(jac_sparsity):
        jac_sparsity = np.atleast_2d(jac_sparsity)
    if jac_sparsity.shape != (m, n):
        raise ValueError("`jac_sparsity` has wrong shape.")


def _check_workers(workers):
    """`workers` as the solve takes it: None (serial), a thread count > 1 (-1: every
    core), or a map-like callable. Rejects what scipy's MapWrapper rejects."""
    if workers is None or callable(workers):
        return workers
    if int(workers) == -1:
        return os.cpu_count() or 1
    if int(workers) >= 1:
        return None if int(workers) == 1 else int(workers)
    raise RuntimeError(
        "Number of workers specified must be -1, an int >= 1, or an object with a 'map' method"
    )


def _fd_jacobian_over_map(fun, args, kwargs, scheme, diff_step, lb, ub, workers):
    """A Jacobian by scipy's finite differences with the columns' evaluations mapped over
    a map-like `workers` (e.g. ``multiprocessing.Pool(2).map``), as scipy does; the steps
    are the core's, so J is the one a serial solve computes."""
    from scipy.optimize._numdiff import approx_derivative

    wrapped_fun = _FunWithArgs(fun, args, kwargs or {})

    def jac(x, *_args, **_kwargs):
        return approx_derivative(
            wrapped_fun, x, method=scheme, rel_step=diff_step, f0=wrapped_fun(x),
            bounds=(lb, ub), workers=workers,
        )

    return jac


class _FunWithArgs:
    """``fun(x, *args, **kwargs)`` as a picklable one-argument callable (a process pool's
    `map` sends it to the workers)."""

    def __init__(self, fun, args, kwargs):
        self.fun, self.args, self.kwargs = fun, args, kwargs

    def __call__(self, x):
        return np.atleast_1d(self.fun(x, *self.args, **self.kwargs))


def _wrap_callback(callback):
    """The callback as ``cb(x, fun, nit, nfev, cost) -> stop`` (scipy's two signatures)."""
    if callback is None:
        return None
    try:
        params = set(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        params = set()
    if params == {"intermediate_result"}:

        def wrapped(x, fun, nit, nfev, cost):
            res = OptimizeResult(x=x, fun=fun, nit=nit, nfev=nfev)
            res["cost"] = cost
            try:
                callback(intermediate_result=res)
            except StopIteration:
                return True
            return False

    else:

        def wrapped(x, fun, nit, nfev, cost):
            try:
                callback(x)
            except StopIteration:
                return True
            return False

    return wrapped


def _fd_jacobian_for_low_precision(fun, args, kwargs, scheme, diff_step, lb, ub,
                                   sparsity=None, shape=None):
    """A callable finite-difference Jacobian for residuals in float32 (or lower).

    scipy's step uses the epsilon of the residuals' dtype; the core differences in float64
    only, which would give zero columns for float32 residuals. Until the core takes the
    epsilon as an option, difference with scipy's own `approx_derivative` (by column
    groups, returning a sparse J, when a `sparsity` structure (indptr, indices) is given).
    """
    from scipy.optimize._numdiff import approx_derivative, group_columns

    kwargs = kwargs or {}
    groups = None
    if sparsity is not None:
        indptr, indices = sparsity
        structure = csr_array((np.ones(indices.size), indices, indptr), shape=shape)
        groups = (structure, group_columns(structure))

    def wrapped_fun(x):
        return np.atleast_1d(fun(x, *args, **kwargs))

    def jac(x, *_args, **_kwargs):
        return approx_derivative(
            wrapped_fun, x, method=scheme, rel_step=diff_step, f0=wrapped_fun(x),
            bounds=(lb, ub), sparsity=groups,
        )

    return jac


def _optimize_result(res, m, n, zero_mask, no_njev):
    """The core's result dict as scipy's OptimizeResult: ``jac`` as scipy returns it (an
    ndarray, a csr_array, or the LinearOperator scaled by the robust loss), an all-zero
    ``active_mask`` for unbounded trf and ``njev`` None for lm with finite differences."""
    J = res["jac"]
    if isinstance(J, tuple) and len(J) == 2:
        J, row_scale = J
        if row_scale is not None:
            J = _left_scaled_operator(J, row_scale)
    elif isinstance(J, tuple):
        data, indptr, indices = J
        J = csr_array((data, indices, indptr), shape=(m, n))
    x = res["x"]
    status = res["status"]
    return OptimizeResult(
        x=x,
        cost=np.float64(res["cost"]),
        fun=res["fun"],
        jac=J,
        grad=res["grad"],
        optimality=np.float64(res["optimality"]),
        active_mask=np.zeros(x.shape) if zero_mask else res["active_mask"],
        nfev=res["nfev"],
        njev=None if no_njev else res["njev"],
        status=status,
        message=res["message"],
        success=status > 0,
    )


def _refuse_masked(value, what):
    """A numpy masked array is refused (scipy computes on it with the mask's own
    arithmetic, which trustfit does not reproduce: a deliberate difference, README)."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{what} is a masked array, which trustfit does not take: pass "
            "`a.filled(value)` or the unmasked entries (`a.compressed()`)."
        )


def _check_numeric(f):
    """Residuals that are not numbers (bool, str, None, objects) raise the error numpy
    raises in scipy's own arithmetic on them (TypeError, UFuncTypeError)."""
    f = np.asarray(f)
    if f.dtype.kind not in "fiuc":
        np.subtract(f, f)


# The same words as convert.rs's `check_numeric` uses for later evaluations.
_COMPLEX_RESIDUALS = (
    "`fun` returned complex values with a nonzero imaginary part; least squares fits "
    "real residuals: return the real and imaginary parts as one real vector, e.g. "
    "np.concatenate([r.real, r.imag])."
)


def _real_residuals(f0, method):
    """Complex f(x0): scipy's 'lm' raises MINPACK's error; its trf and dogbox compute on
    in complex numbers (a complex x). trustfit takes a zero imaginary part as real and
    refuses any other (README, "Differences from scipy")."""
    if method == "lm":
        raise _MinpackError("Result from function call is not a proper array of floats.")
    if np.any(f0.imag != 0):
        raise TypeError(_COMPLEX_RESIDUALS)
    return np.ascontiguousarray(f0.real)


def _empty_result(x0, f0, m, n):
    """scipy's result when x0 or f(x0) is empty: no iteration, status 1."""
    f = np.asarray(f0, dtype=float)
    return OptimizeResult(
        x=x0,
        cost=np.float64(0.5 * np.dot(f, f)),
        fun=f,
        jac=np.zeros((m, n)),
        grad=np.zeros(n),
        optimality=np.float64(0.0),
        active_mask=np.zeros(n),
        nfev=1,
        njev=1,
        status=1,
        message="`gtol` termination condition is satisfied.",
        success=True,
    )


_NO_BOUNDS = (-np.inf, np.inf)  # least_squares' default `bounds`, compared by identity


def _plain_start(x0):
    """A list or tuple `x0` of plain numbers (the usual way to write a start) as the
    float64 array scipy makes of it (``np.atleast_1d(x0).astype(float)``), so that the
    call can take the quick path; anything else unchanged, for the full checks (complex
    or nested values, objects) to raise scipy's errors."""
    try:
        a = np.asarray(x0)
    except (ValueError, TypeError):
        return x0
    if a.dtype == np.float64:
        return a
    if a.dtype.kind in "iu":
        return a.astype(np.float64)
    return x0


def _argument_checks(x0, jac, bounds, method, ftol, xtol, gtol, x_scale, loss, tr_solver,
                     tr_options, max_nfev, verbose, args, kwargs, workers):
    """scipy's checks of least_squares' arguments before f(x0), in its order, and the
    arguments as the solve takes them."""
    # scipy's first checks, in its order; the messages are the core's (scipy's words).
    if method not in METHODS:
        raise _trustfit.name_error("method")

    if jac not in FD_METHODS and not callable(jac):
        raise _trustfit.name_error("jac")

    # 'cholesky' and 'schur' are trustfit's extensions (see the docstring).
    if tr_solver not in (None, *TR_SOLVERS):
        raise _trustfit.name_error("tr_solver")

    if loss not in IMPLEMENTED_LOSSES and not callable(loss):
        raise _trustfit.name_error("loss")

    if method == "lm" and loss != "linear":
        raise ValueError("method='lm' supports only 'linear' loss function.")

    if verbose not in [0, 1, 2]:
        raise ValueError("`verbose` must be in [0, 1, 2].")

    if max_nfev is not None and max_nfev <= 0:
        raise ValueError("`max_nfev` must be None or positive integer.")

    if np.iscomplexobj(x0):
        raise ValueError("`x0` must be real.")

    _refuse_masked(x0, "`x0`")
    x0 = np.atleast_1d(x0).astype(float)

    if x0.ndim > 1:
        raise ValueError("`x0` must have at most 1 dimension.")

    n = x0.shape[0] if x0.ndim == 1 else 0
    if _no_bounds(bounds):
        # Fast path for the default: the same checks below, on no bounds, reduce to these.
        if x0.ndim > 1:
            raise ValueError("`x0` must have at most 1 dimension.")
        if not np.all(x0 == x0):
            raise ValueError("Initial guess is outside of provided bounds")
        lb = ub = None
    elif isinstance(bounds, Bounds):
        lb, ub = bounds.lb, bounds.ub
    else:
        if len(bounds) == 2:
            lb, ub = _prepare_bounds(bounds, x0.shape[0])
        else:
            raise ValueError("`bounds` must contain 2 elements.")

    if lb is not None:
        if method == "lm" and not np.all((lb == -np.inf) & (ub == np.inf)):
            raise ValueError("Method 'lm' doesn't support bounds.")
        if method == "sparse_lm" and not np.all((lb == -np.inf) & (ub == np.inf)):
            raise ValueError(
                "Method 'sparse_lm' doesn't support bounds: use method='trf' with "
                "tr_solver='schur' or 'cholesky'."
            )

        if lb.shape != x0.shape or ub.shape != x0.shape:
            raise ValueError("Inconsistent shapes between bounds and `x0`.")

        if np.any(lb >= ub):
            raise ValueError("Each lower bound must be strictly less than each upper bound.")

        if not _in_bounds(x0, lb, ub):
            raise ValueError("Initial guess is outside of provided bounds")

    x_scale_default = x_scale is None
    x_scale = _check_x_scale(x_scale, x0, method)

    ftol, xtol, gtol = _check_tolerance(ftol, xtol, gtol, method)

    unbounded = lb is None or bool(np.all((lb == -np.inf) & (ub == np.inf)))
    if lb is None:
        lb = np.full(n, -np.inf)
        ub = np.full(n, np.inf)
    if method == "trf" and not unbounded:
        x0 = _make_strictly_feasible(x0, lb, ub)

    workers = _check_workers(workers)
    if tr_options is None:
        tr_options = {}
    args = tuple(args)
    if kwargs is not None:
        kwargs = dict(kwargs)
    if kwargs == {}:
        kwargs = None

    return (x0, lb, ub, unbounded, x_scale_default, x_scale, ftol, xtol, gtol, workers,
            tr_options, args, kwargs)


def least_squares(
    fun,
    x0,
    jac="2-point",
    bounds=_NO_BOUNDS,
    method="trf",
    ftol=1e-8,
    xtol=1e-8,
    gtol=1e-8,
    x_scale=None,
    loss="linear",
    f_scale=1.0,
    diff_step=None,
    tr_solver=None,
    tr_options=None,
    jac_sparsity=None,
    max_nfev=None,
    verbose=0,
    args=(),
    kwargs=None,
    callback=None,
    workers=None,
):
    """Solve a nonlinear least-squares problem with bounds on the variables.

    A drop-in replacement for `scipy.optimize.least_squares` (scipy 1.17): the same
    signature, defaults, checks, messages and result, computed by the Rust crate
    ``trustfit``. Given the residuals f(x) (an m-D real function of n real variables)
    and the loss function rho(s), finds a local minimum of::

        minimize F(x) = 0.5 * sum(rho(f_i(x)**2), i = 0, ..., m - 1)
        subject to lb <= x <= ub

    Parameters
    ----------
    fun : callable
        Function which computes the vector of residuals, with the signature
        ``fun(x, *args, **kwargs)``. The argument ``x`` is an ndarray of shape (n,), a
        copy of its own on every call (changing it changes nothing; an ``x`` no one
        kept may be refilled for the next call). It must return a 1-D array_like of
        shape (m,) or a scalar.
    x0 : array_like with shape (n,) or float
        Initial guess on independent variables. With 'trf' it may be moved slightly
        inside the `bounds`.
    jac : {'2-point', '3-point', 'cs', callable}, optional
        How to compute the m-by-n Jacobian: forward differences ('2-point', default),
        central differences ('3-point'), complex step ('cs', `fun` must accept complex
        input) or a callable ``jac(x, *args, **kwargs)`` returning a dense array_like
        (``np.atleast_2d`` is applied) or a scipy.sparse array or matrix. For a sparse
        ``jac`` the structure of J(x0) (explicit zeros included) is kept for the whole
        solve: a later J with a nonzero outside it raises ValueError, so store explicit
        zeros in J(x0) where entries may become nonzero. A ``jac`` returning a
        `scipy.sparse.linalg.LinearOperator` makes J matrix-free: only ``matvec`` and
        ``rmatvec`` are called, and ``tr_solver='lsmr'`` (the default then) is required.
    bounds : 2-tuple of array_like or `scipy.optimize.Bounds`, optional
        Lower and upper bounds on the variables; each side a scalar or of the size of
        `x0`. Use ``np.inf`` with an appropriate sign to disable a side. Default: none.
    method : {'trf', 'dogbox', 'lm', 'sparse_lm'}, optional
        'trf' (Trust Region Reflective, default), 'dogbox' (dogleg in a rectangular trust
        region) or 'lm' (MINPACK's Levenberg-Marquardt; no bounds, m >= n). Beyond
        scipy, 'sparse_lm': Levenberg-Marquardt for large sparse problems as Ceres
        iterates it (damping from the gain ratio, Marquardt's diagonal), each step exact
        from the sparse normal equations (`tr_solver` 'schur' for bundle adjustment, or
        'cholesky'; None picks), or inexact by preconditioned conjugate gradients on the
        implicit Schur complement ('iterative_schur', for very many cameras). Needs `jac_sparsity` or a sparse `jac`; no bounds; any
        loss (with 'huber' prefer 'trf'). x_scale defaults to 'jac' (Marquardt's).
    ftol : float or None, optional
        Tolerance for termination by the change of the cost function. Default 1e-8.
        None disables it.
    xtol : float or None, optional
        Tolerance for termination by the change of the independent variables.
        Default 1e-8. None disables it.
    gtol : float or None, optional
        Tolerance for termination by the norm of the gradient. Default 1e-8. None
        disables it.
    x_scale : {None, array_like, 'jac'}, optional
        Characteristic scale of each variable. None (default) means 1 for 'trf' and
        'dogbox' and 'jac' for 'lm'; 'jac' uses the inverse norms of the Jacobian's
        columns.
    loss : str or callable, optional
        'linear' (default), 'soft_l1', 'huber', 'cauchy', 'arctan', or a callable
        ``loss(z)`` returning an array of shape (3, m): rho(z), rho'(z), rho''(z).
    f_scale : float, optional
        Soft margin between inlier and outlier residuals. Default 1.0.
    diff_step : None or array_like, optional
        Relative step of the finite differences. Default: automatic.
    tr_solver : {None, 'exact', 'lsmr', 'cholesky', 'schur'}, optional
        Trust-region subproblem solver: 'exact' (default for dense Jacobians), 'lsmr'
        (default for sparse ones), or, beyond scipy, 'cholesky': exact trust-region
        steps from sparse Cholesky factorizations of the damped normal equations
        (method 'trf' with a sparse Jacobian only; `tr_options` are ignored); 'schur':
        the same steps, factored by eliminating small independent column blocks first
        (bundle adjustment's points) and a dense Schur complement on the rest.
    tr_options : dict, optional
        Keyword options of the 'lsmr' solver (scipy's: those of
        `scipy.sparse.linalg.lsmr`, plus 'regularize' for 'trf'; 'dogbox' warns about and
        drops 'regularize'). 'show' is ignored; 'x0' must be None or zero (lsmr's default),
        other values raise `NotImplementedError`. Ignored with 'exact' and 'cholesky'.
    jac_sparsity : {None, array_like, sparse array}, optional
        Sparsity structure of the Jacobian (shape (m, n)) for finite differences: columns
        are differenced in groups, J is kept sparse and 'lsmr' becomes the default
        `tr_solver`. Ignored with a callable `jac`.
    max_nfev : None or int, optional
        Maximum number of function evaluations (finite differences excluded). Default
        ``100 * n``.
    verbose : {0, 1, 2}, optional
        0 (default): silent; 1: a termination report; 2: progress per iteration. The
        text is scipy's, printed to ``sys.stdout``.
    args, kwargs : tuple and dict, optional
        Additional arguments passed to `fun` and `jac`.
    callback : None or callable, optional
        Called after each iteration of 'trf' and 'dogbox' as
        ``callback(intermediate_result: OptimizeResult)`` (fields x, fun, nit, nfev, cost)
        or ``callback(x)``. Raising `StopIteration` stops the solve (status -2). Ignored
        with a warning for 'lm'.
    workers : None, int or map-like callable, optional
        Parallel finite differences ('trf' and 'dogbox'): an int > 1 evaluates the
        Jacobian's columns on that many threads (-1: every core), a map-like callable
        (e.g. ``multiprocessing.Pool(2).map``) maps them as scipy does. Results are bit
        for bit those of ``workers=None``. Threads pay off when `fun` releases the GIL for
        most of its time (numpy on arrays of thousands of elements and more); a pure-Python
        `fun` runs one column at a time whatever the count. Ignored by 'lm' and with a
        callable `jac`.

    Returns
    -------
    result : OptimizeResult
        `scipy.optimize.OptimizeResult` with fields ``x``, ``cost``, ``fun``, ``jac``
        (m-by-n, scaled by the robust loss as in scipy: a dense ndarray, a
        `scipy.sparse.csr_array` when J is sparse, a LinearOperator when `jac` returns
        one), ``grad``,
        ``optimality``, ``active_mask``, ``nfev``, ``njev`` (None for 'lm' with finite
        differences), ``status``, ``message`` and ``success``.

    Raises
    ------
    ValueError, TypeError
        For invalid arguments, with scipy's messages.
    NotImplementedError
        For a nonzero ``tr_options['x0']``.

    Examples
    --------
    >>> import numpy as np
    >>> from trustfit import least_squares
    >>> def fun_rosenbrock(x):
    ...     return np.array([10 * (x[1] - x[0]**2), (1 - x[0])])
    >>> res = least_squares(fun_rosenbrock, np.array([2.0, 2.0]), bounds=([-np.inf, 1.5], np.inf))
    >>> res.x.round(6), res.status
    (array([1.224371, 1.5     ]), 2)
    """
    checked = None
    at_x0 = None  # (f(x0), J(x0)) as the user returned them, when the quick path ran them
    quick_bounds = None  # (lb, ub) of a bounded call on the quick path
    if type(x0) is list or type(x0) is tuple:
        x0 = _plain_start(x0)
    # The common call in one crossing into Rust (`quick_solve` checks x0 and the options
    # it takes; None: the full checks below, which raise scipy's errors).
    if (
        type(x0) is np.ndarray and tr_solver is None and tr_options is None
        and jac_sparsity is None and workers is None and verbose == 0 and callback is None
        and diff_step is None and (bounds is _NO_BOUNDS or (
            method != "lm" and x0.ndim == 1
            and (quick_bounds := _quick_bounds(bounds, x0.shape[0])) is not None
        ))
    ):
        out = _trustfit.quick_solve(fun, x0, jac, method, ftol, xtol, gtol, x_scale, loss,
                                    f_scale, max_nfev, args, kwargs, OptimizeResult, quick_bounds)
        if type(out) is OptimizeResult:
            return out
        if out is not None:  # f(x0) or J(x0) needs scipy's checks below
            at_x0 = out
            if quick_bounds is None and x_scale is None:  # else the full checks
                checked = (x0.copy(), None, None, True, True,
                           "jac" if method == "lm" else None, ftol, xtol, gtol, None,
                           {}, args, kwargs or None)
    if checked is None:
        checked = _argument_checks(
            x0, jac, bounds, method, ftol, xtol, gtol, x_scale, loss, tr_solver, tr_options,
            max_nfev, verbose, args, kwargs, workers,
        )
    (x0, lb, ub, unbounded, x_scale_default, x_scale, ftol, xtol, gtol, workers, tr_options,
     args, kwargs) = checked
    n = x0.shape[0]
    if lb is None:  # the quick path: no bounds
        lb, ub = -np.inf, np.inf

    # scipy evaluates f(x0) and J(x0) before checking them (its VectorFunction).
    if at_x0 is None:
        f0 = np.atleast_1d(fun(x0.copy(), *args, **(kwargs or {})))
    else:
        f0 = np.atleast_1d(at_x0[0])
    J0 = None
    if callable(jac):
        J0 = jac(x0.copy(), *args, **(kwargs or {})) if at_x0 is None else at_x0[1]
        if type(J0) is np.ndarray and J0.ndim == 2:
            pass  # the common case, as np.atleast_2d leaves it
        elif issparse(J0) or isinstance(J0, LinearOperator):
            pass
        else:
            J0 = np.atleast_2d(J0)

    if f0.ndim > 1 and not callable(jac):
        # scipy's finite-difference code checks this first, with its own words.
        raise ValueError("`f0` passed has more than 1 dimension.")

    if f0.ndim != 1:
        raise ValueError(
            f"`fun` must return at most 1-d array_like. f0.shape: {f0.shape}"
        )

    _refuse_masked(f0, "`fun`'s value")
    _check_numeric(f0)
    if f0.dtype.kind == "c":
        f0 = _real_residuals(f0, method)
    if not np.isfinite(f0).all():
        raise ValueError("Residuals are not finite in the initial point.")

    n = x0.size
    m = f0.size
    if n == 0 or m == 0:
        # Nothing to iterate on: scipy ends at once with `gtol` (status 1).
        return _empty_result(x0, f0, m, n)

    if method == "lm" and m < n:
        raise ValueError(
            "Method 'lm' doesn't work when the number of residuals is less than the "
            "number of variables."
        )

    if callable(loss):
        rho = loss((f0 / f_scale) ** 2)
        if np.shape(rho) != (3, m):
            raise ValueError("The return value of `loss` callable has wrong shape.")

    if not callable(jac):
        if method == "lm":
            if jac_sparsity is not None:
                raise ValueError("method='lm' does not support `jac_sparsity`.")
        else:
            _check_jac_sparsity(jac_sparsity, m, n)
            if jac_sparsity is not None and tr_solver == "exact":
                raise ValueError("tr_solver='exact' is incompatible with `jac_sparsity`.")

    if J0 is not None:
        if J0.shape != (m, n):
            raise ValueError(
                f"The return value of `jac` has wrong shape: expected {(m, n)}, "
                f"actual {J0.shape}."
            )
        if not isinstance(J0, np.ndarray):
            if method == "lm":
                raise ValueError("method='lm' works only with dense Jacobian matrices.")
            if tr_solver == "exact":
                raise ValueError("tr_solver='exact' works only with dense Jacobian matrices.")
        if isinstance(J0, LinearOperator) and isinstance(x_scale, str) and x_scale == "jac":
            raise ValueError("x_scale='jac' can't be used when `jac` returns LinearOperator.")

    dense0 = type(J0) is np.ndarray
    operator0 = J0 if not dense0 and isinstance(J0, LinearOperator) else None

    # Sparse J: a callable `jac` returning scipy.sparse, or `jac_sparsity` with finite
    # differences. Both go to the core as a sorted CSR structure (indptr, indices).
    sparsity = None
    sparse_jac = None
    if method != "lm":
        if J0 is not None and not dense0 and issparse(J0):
            sparsity, J0, sparse_jac = _sparse_analytic_jac(jac, J0, m, n)
        elif not callable(jac) and jac_sparsity is not None:
            sparsity = _sparsity_structure(jac_sparsity)

    lsmr_options = None
    lsmr_error = None
    if method == "lm":
        tr_solver = None
    elif method == "sparse_lm":
        # trustfit's own method: the core picks 'schur' where J's pattern suits it.
        if sparsity is None:
            raise ValueError(
                "Method 'sparse_lm' needs a sparse Jacobian: give `jac_sparsity` or a `jac` "
                "returning a sparse array (for a dense J use method='lm')."
            )
        if tr_solver not in (None, "cholesky", "schur", "iterative_schur"):
            raise ValueError(
                "Method 'sparse_lm' takes tr_solver 'schur', 'iterative_schur' or 'cholesky' "
                "(or None: 'schur' where J's pattern suits it, else 'cholesky')."
            )
    else:
        if tr_solver is None:
            tr_solver = "exact" if sparsity is None and operator0 is None else "lsmr"
        if tr_solver == "lsmr":
            try:
                lsmr_options = _lsmr_options(tr_options, method, n)
            except TypeError as err:
                # scipy raises this from its first lsmr call, i.e. only if the first
                # iteration computes a step; see `lsmr_error` below.
                lsmr_error = err
        elif tr_solver == "iterative_schur":
            raise ValueError("tr_solver='iterative_schur' is available for method='sparse_lm' only.")
        elif tr_solver in ("cholesky", "schur"):
            if sparsity is None:
                raise ValueError(
                    f"tr_solver='{tr_solver}' works only with sparse Jacobians (`jac_sparsity` "
                    "or a `jac` returning a sparse array; a LinearOperator has no entries "
                    "to factor)."
                )
            if method != "trf":
                raise ValueError(f"tr_solver='{tr_solver}' is available for method='trf' only.")

    if callback is not None and method == "lm":
        warn("Callback function specified, but not supported with `lm` method.", stacklevel=2)
        callback = None

    jac_callable = jac if callable(jac) else None
    if sparse_jac is not None:
        jac_callable = sparse_jac
    jac_kind = "analytic" if callable(jac) else jac
    if jac_callable is None and f0.dtype.itemsize < 8 and np.issubdtype(f0.dtype, np.floating):
        jac_callable = _fd_jacobian_for_low_precision(
            fun, args, kwargs, jac, diff_step, lb if method != "lm" else -np.inf,
            ub if method != "lm" else np.inf, sparsity=sparsity, shape=(m, n),
        )
        J0 = None
        if sparsity is not None:
            # A sparse J by column groups: its structure is fixed from J(x0), as for a
            # sparse `jac` (the extra evaluations are not counted, as scipy's FD ones).
            sparsity, J0, jac_callable = _sparse_analytic_jac(
                jac_callable, jac_callable(x0.copy()), m, n
            )
            sparse_jac = jac_callable
    thread_workers = None
    if isinstance(workers, int) and jac_callable is None and method != "lm":
        thread_workers = workers  # difference columns on that many threads (the core's)
    elif callable(workers) and jac_callable is None and method != "lm" and sparsity is None:
        jac_callable = _fd_jacobian_over_map(fun, args, kwargs, jac, diff_step, lb, ub, workers)
        J0 = None
    f0_64 = np.ascontiguousarray(f0, dtype=np.float64)
    if operator0 is not None:
        J0 = None
    J0_64 = None if J0 is None else np.ascontiguousarray(J0, dtype=np.float64)
    if sparse_jac is not None:
        J0_64 = J0_64.reshape(1, -1)  # the nnz values of J(x0), read as a flat slice

    if x_scale_default:
        # The core's default (None) is scipy's: 1 for trf and dogbox, 'jac' for lm.
        x_scale_option = None
    elif isinstance(x_scale, str):
        x_scale_option = "jac"
    else:
        x_scale_option = np.ascontiguousarray(x_scale, dtype=float)
    if diff_step is not None:
        diff_step = np.ascontiguousarray(np.atleast_1d(diff_step), dtype=float).ravel()
    max_nfev_arg = max_nfev
    if method == "lm" and max_nfev is not None:
        # scipy hands it to MINPACK's C wrapper, which takes only integers: its TypeError.
        operator.index(max_nfev)
    if max_nfev is not None:
        # scipy compares counts with `==`, so a fractional value never stops it; round up.
        max_nfev = operator.index(max_nfev) if isinstance(max_nfev, (int, np.integer)) \
            else math.ceil(max_nfev)
        # A count beyond 2**63 is never reached: scipy runs with it, so does trustfit.
        max_nfev = min(max_nfev, sys.maxsize)
    if lsmr_error is not None:
        # Bad `tr_options`: scipy evaluates f(x0) and J(x0), then fails at its first lsmr
        # call, unless iteration 0 already terminates (gtol at x0, or max_nfev == 1). One
        # evaluation tells which: stop there with its result, or raise scipy's TypeError.
        # (With verbose >= 1 the core's two closing lines are printed before the error.)
        max_nfev = 1

    options = {
        "method": method,
        "jac": jac_kind,
        "bounds": None if unbounded else (
            np.ascontiguousarray(lb, dtype=float), np.ascontiguousarray(ub, dtype=float)
        ),
        "ftol": float(ftol),
        "xtol": float(xtol),
        "gtol": float(gtol),
        "x_scale": x_scale_option,
        "loss": loss,
        "f_scale": float(f_scale),
        "diff_step": diff_step,
        "max_nfev": max_nfev,
        "verbose": int(verbose),
        "tr_solver": tr_solver,
        "tr_options": lsmr_options,
        "workers": thread_workers,
    }
    res = _trustfit.solve(
        fun,
        x0,
        f0_64,
        options,
        jac=jac_callable,
        j0=J0_64,
        args=args,
        kwargs=kwargs,
        sparsity=sparsity,
        operator0=operator0,
        callback=_wrap_callback(callback),
    )
    if lsmr_error is not None and res["status"] != 1 and not (
        max_nfev_arg is not None and max_nfev_arg == 1
    ):
        raise lsmr_error
    return _optimize_result(
        res, m, n,
        zero_mask=method == "trf" and unbounded,
        no_njev=method == "lm" and not callable(jac),
    )


# ---------------------------------------------------------------------------------------
# leastsq
# ---------------------------------------------------------------------------------------

try:  # The exception scipy's MINPACK wrapper raises for results that are not float arrays.
    from scipy.optimize._minpack import error as _MinpackError
except ImportError:  # pragma: no cover - scipy moved it

    class _MinpackError(Exception):
        """Raised when a function's result is not a proper array of floats."""


_LEASTSQ_SUCCESS = (1, 2, 3, 4)
_LEASTSQ_FAILURE = (5, 6, 7, 8)


def _check_func(checker, argname, thefunc, x0, args, numinputs, output_shape=None):
    """Calls ``thefunc`` once at ``x0`` to learn its output shape and dtype, as scipy does.

    A shape other than `output_shape` is a TypeError, except when the expected first
    dimension is 1 or its second is 1 (then the shape found is returned unchecked).
    """
    res = np.atleast_1d(thefunc(*((x0[:numinputs],) + args)))
    if output_shape is not None and np.shape(res) != output_shape:
        if output_shape[0] != 1:
            if len(output_shape) > 1 and output_shape[1] == 1:
                return np.shape(res)
            name = getattr(thefunc, "__name__", None)
            where = f" '{name}'." if name else "."
            raise TypeError(
                f"{checker}: there is a mismatch between the input and output shape of "
                f"the '{argname}' argument{where}"
                f"Shape should be {output_shape} but it is {np.shape(res)}."
            )
    # kind 'f' or 'c' is np.inexact (issubdtype costs a microsecond per call).
    dt = res.dtype if res.dtype.kind in "fc" else np.dtype(float)
    return np.shape(res), dt


def _c_double(value):
    """A float argument as scipy's C wrapper parses it (anything with ``__float__`` or
    ``__index__``; TypeError otherwise)."""
    if isinstance(value, float):
        return value
    kind = type(value)
    if hasattr(kind, "__float__") or hasattr(kind, "__index__"):
        return float(value)
    raise TypeError(f"must be real number, not {kind.__name__}")


def _as_minpack_array(obj, min_ndim, max_ndim):
    """A function's result as scipy's C wrapper accepts it: a real array with `min_ndim`
    to `max_ndim` dimensions, safely castable to float64; returned flat and contiguous."""
    try:
        if isinstance(obj, np.ndarray):
            if not np.can_cast(obj.dtype, np.float64, "safe"):
                raise TypeError(
                    f"Cannot cast array data from {obj.dtype!r} to dtype('float64') "
                    "according to the rule 'safe'"
                )
            arr = np.ascontiguousarray(obj, dtype=np.float64)
        else:
            arr = np.ascontiguousarray(np.asarray(obj, dtype=np.float64))
        if arr.ndim < min_ndim:
            raise ValueError("object of too small depth for desired array")
        if arr.ndim > max_ndim:
            raise ValueError("object too deep for desired array")
    except (TypeError, ValueError) as e:
        raise _MinpackError("Result from function call is not a proper array of floats.") from e
    return arr.reshape(-1)


# LAPACK's dtrtri, looked up once (fjac is always float64).
_dtrtri = get_lapack_funcs("trtri", (np.zeros((1, 1)),))


def _cov_from_r(fjac, ipvt):
    """``inv(JᵀJ)`` from MINPACK's R and pivots, computed as scipy does (LAPACK trtri on
    the upper triangle, rows permuted back); None when R is singular."""
    n = len(ipvt)
    r = np.triu(np.transpose(fjac)[:n, :])
    try:
        inv_r, info = _dtrtri(r)
        if info != 0:
            raise LinAlgError(f"trtri returned info {info}")
        inv_r[ipvt] = inv_r.copy()
        return inv_r @ inv_r.T
    except (LinAlgError, ValueError):
        return None


def leastsq(
    func,
    x0,
    args=(),
    Dfun=None,
    full_output=False,
    col_deriv=False,
    ftol=1.49012e-8,
    xtol=1.49012e-8,
    gtol=0.0,
    maxfev=0,
    epsfcn=None,
    factor=100,
    diag=None,
):
    """Minimize the sum of squares of a set of equations (MINPACK's lmdif / lmder).

    A drop-in replacement for `scipy.optimize.leastsq` (scipy 1.17)::

        x = arg min(sum(func(y)**2, axis=0))
                 y

    The iteration is trustfit's port of MINPACK (the same iterates, counts, codes and
    messages as scipy's C code); `func` and `Dfun` are called exactly as scipy calls them.

    Parameters
    ----------
    func : callable
        ``func(x, *args)`` returning M floats (a scalar or 1-D array_like); M >= N, the
        length of `x0`. It must not return NaNs or the fit might fail.
    x0 : array_like
        Starting estimate (flattened to N values).
    args : tuple, optional
        Extra arguments to `func` and `Dfun` (a non-tuple is wrapped in one).
    Dfun : callable, optional
        ``Dfun(x, *args)`` returning the Jacobian, M-by-N (rows are residuals), or N-by-M
        with ``col_deriv=True``. Without it, forward differences are used (lmdif).
    full_output : bool, optional
        If True, return all optional outputs (not just `x` and `ier`).
    col_deriv : bool, optional
        `Dfun` computes derivatives down the columns (returns the transpose).
    ftol : float, optional
        Relative error desired in the sum of squares. Default 1.49012e-8.
    xtol : float, optional
        Relative error desired in the approximate solution. Default 1.49012e-8.
    gtol : float, optional
        Orthogonality desired between the function vector and the columns of the
        Jacobian. Default 0.0.
    maxfev : int, optional
        Maximum number of calls to the function; 0 (default) or negative means
        ``100*(N+1)`` with `Dfun` and ``200*(N+1)`` without (finite differences included).
    epsfcn : float, optional
        Determines the forward-difference step (``sqrt(epsfcn)*|x|``); default: the
        machine epsilon of `func`'s result dtype.
    factor : float, optional
        Initial step bound, ``factor * ||diag * x||``; in (0.1, 100). Default 100.
    diag : sequence, optional
        N positive scale factors for the variables (default: from the Jacobian's column
        norms, updated as the iteration goes).

    Returns
    -------
    x : ndarray
        The solution (or the last iterate of an unsuccessful call), shape (N,).
    cov_x : ndarray or None
        ``inv(JᵀJ)`` at the solution, from R and the pivots; None when singular. Multiply
        by the residual variance for the covariance of `x` (see `curve_fit`). Only with
        `full_output`.
    infodict : dict
        Only with `full_output`: ``fvec`` (func at the solution), ``nfev`` (calls of
        func, as MINPACK counts them), ``njev`` (calls of Dfun, only with `Dfun`),
        ``fjac`` (MINPACK's m-by-n work array as scipy returns it: shape (N, M), R in the
        upper triangle of the leading block of its transpose), ``ipvt`` (int32 pivots,
        0-based as in scipy 1.17: column j of R belongs to variable ``ipvt[j]``) and
        ``qtf`` (first N entries of ``Qᵀ·fvec``).
    mesg : str
        Why the iteration stopped. Only with `full_output`.
    ier : int
        1, 2, 3 or 4 when a solution was found; otherwise 5 (maxfev), 6, 7, 8
        (tolerance too small) or 0 (improper input). Without `full_output`, 5-8 also
        emit a RuntimeWarning with the message and 0 raises TypeError.

    Raises
    ------
    TypeError
        N > M, a `Dfun` of the wrong shape, or improper input parameters (ier 0)
        without `full_output`.
    ValueError
        If `func` or `Dfun` returns a different number of values between calls.

    Examples
    --------
    >>> from trustfit import leastsq
    >>> def func(x):
    ...     return 2*(x-3)**2+1
    >>> leastsq(func, 0)
    (array([2.99999999]), 1)
    """
    x0 = np.asarray(x0).flatten()
    n = len(x0)
    if not isinstance(args, tuple):
        args = (args,)
    shape, dtype = _check_func("leastsq", "func", func, x0, args, n)
    m = shape[0]
    if n > m:
        raise TypeError(
            f"Improper input: func input vector length N={n} must not exceed func output "
            f"vector length M={m}"
        )
    if epsfcn is None:
        epsfcn = EPS if dtype == np.float64 else np.finfo(dtype).eps
    if Dfun is None:
        if maxfev == 0:
            maxfev = 200 * (n + 1)
    else:
        _check_func("leastsq", "Dfun", Dfun, x0, args, n, (n, m) if col_deriv else (m, n))
        if maxfev == 0:
            maxfev = 100 * (n + 1)

    # What scipy's C wrapper does before MINPACK starts: read x0 and diag as float
    # arrays, and evaluate func once at x0 (outside MINPACK's count) to size fvec.
    maxfev = operator.index(maxfev)
    if maxfev > 2**31 - 1:
        # scipy's C wrapper reads maxfev as a C int.
        raise OverflowError("signed integer is greater than maximum")
    if type(ftol) is not float:
        ftol = _c_double(ftol)
    if type(xtol) is not float:
        xtol = _c_double(xtol)
    if type(gtol) is not float:
        gtol = _c_double(gtol)
    if type(epsfcn) is not float:
        epsfcn = _c_double(epsfcn)
    if type(factor) is not float:
        factor = _c_double(factor)
    if x0.dtype != np.float64 and not np.can_cast(x0.dtype, np.float64, "safe"):
        raise TypeError(
            f"Cannot cast array data from {x0.dtype!r} to dtype('float64') according to "
            "the rule 'safe'"
        )
    x = np.array(x0, dtype=np.float64)
    if diag is not None:
        diag = np.asarray(diag, dtype=np.float64)
        if diag.ndim < 1:
            raise ValueError("object of too small depth for desired array")
        if diag.ndim > 1:
            raise ValueError("object too deep for desired array")
        # MINPACK reads the first n entries; fewer is improper input.
        diag = np.ascontiguousarray(diag[:n])
    f_first = func(x.copy(), *args)  # read by the solver as scipy's wrapper reads it

    options = {
        "ftol": ftol,
        "xtol": xtol,
        "gtol": gtol,
        # scipy's C wrapper takes maxfev < 0 as MINPACK's default count (its message
        # still quotes the value given).
        "maxfev": maxfev if maxfev > 0 else (100 if Dfun is not None else 200) * (n + 1),
        "epsfcn": epsfcn,
        "factor": factor,
        "diag": diag,
    }
    res = _trustfit.leastsq_solve(
        func, x, f_first, options, args=args, dfun=Dfun, col_deriv=bool(col_deriv),
        convert=_as_minpack_array,
    )
    x, fvec, info, mesg = res["x"], res["fvec"], res["info"], res["mesg"]
    if info == 5 and maxfev < 0:
        mesg = f"Number of calls to function has reached maxfev = {maxfev}."
    fjac, ipvt = res["fjac"], res["ipvt"]
    if full_output:
        cov_x = _cov_from_r(fjac, ipvt) if info in _LEASTSQ_SUCCESS else None
        # scipy's fvec keeps the shape of func's first result (0-d gives a scalar).
        if np.ndim(f_first) == 0:
            fvec = fvec.reshape(())[()]
        infodict = {"fvec": fvec, "nfev": res["nfev"]}
        if Dfun is not None:
            infodict["njev"] = res["njev"]
        infodict.update(fjac=fjac, ipvt=ipvt, qtf=res["qtf"])
        return x, cov_x, infodict, mesg, info
    if info in _LEASTSQ_FAILURE:
        warn(mesg, RuntimeWarning, stacklevel=2)
    elif info == 0:
        raise TypeError(mesg)
    return x, info


# ---------------------------------------------------------------------------------------
# curve_fit
# ---------------------------------------------------------------------------------------


if sys.version_info >= (3, 14):
    import annotationlib

    def _signature(f):
        # Annotations are evaluated lazily since 3.14 (PEP 649): undefined names must
        # not make the signature fail (scipy's gh-23913).
        return inspect.signature(f, annotation_format=annotationlib.Format.FORWARDREF)

else:
    _signature = inspect.signature


def _count_fit_parameters(f):
    """Number of fit parameters of ``f(x, p1, p2, ...)``: its positional parameters but
    the first (``self`` of a bound method is not counted)."""
    params = _signature(f).parameters.values()
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) < 2:
        raise ValueError("Unable to determine number of fit parameters.")
    return len(positional) - 1


def _feasible_start(lb, ub):
    """scipy's default p0 with bounds: 1, the middle of a finite interval, or one step
    inside a single finite bound."""
    p0 = np.ones_like(lb)
    lo, hi = np.isfinite(lb), np.isfinite(ub)
    both = lo & hi
    p0[both] = 0.5 * (lb[both] + ub[both])
    only_lo = lo & ~hi
    p0[only_lo] = lb[only_lo] + 1
    only_hi = ~lo & hi
    p0[only_hi] = ub[only_hi] - 1
    return p0


def _has_nan(a, nan_policy):
    """scipy's `_contains_nan` for NumPy arrays: raises for 'raise', reports for 'omit'."""
    if math.prod(a.shape) == 0:  # (scipy reads .shape first: the same AttributeError)
        contains = False
    elif np.issubdtype(a.dtype, np.floating):
        contains = bool(np.isnan(np.max(a)))
    elif np.issubdtype(a.dtype, np.complexfloating):
        contains = bool(np.isnan(np.max(a.real)) | np.isnan(np.max(a.imag)))
    elif np.issubdtype(a.dtype, np.object_):
        contains = any(
            np.issubdtype(type(el), np.number) and np.isnan(el) for el in a.ravel()
        )
    else:
        contains = False
    if nan_policy == "raise" and contains:
        raise ValueError("The input contains nan values")
    return contains


def _memoize_first_point(f):
    """scipy's light memo for curve_fit: the first parameters and value are kept and served
    again while the solver repeats them at the start; once other parameters come, every
    call goes straight to `f`. (Named as scipy's, which error messages show.)"""
    last_params = None
    last_val = None
    skip_lookup = False

    def _memoized_func(params):
        nonlocal last_params, last_val, skip_lookup
        if skip_lookup:
            return f(params)
        if np.all(last_params == params):
            return last_val
        if last_params is not None:
            skip_lookup = True
        val = f(params)
        if last_params is None:
            last_params = np.copy(params)
            last_val = val
        return val

    return _memoized_func


# LAPACK's dtrtrs, looked up once.
_dtrtrs = get_lapack_funcs("trtrs", (np.zeros((1, 1)),))


def _lower_solver(l_factor):
    """``b -> solve_triangular(L, b, lower=True)``, with the same LAPACK call (dtrtrs) and
    so the same values, minus its per-call checks of L (fixed and finite here), which cost
    more than the solve at curve_fit's sizes. Complex or unusual `b` (and errors) take
    scipy's own path, so the same exceptions are raised."""
    l_fortran = np.asfortranarray(l_factor, dtype=np.float64)
    m = l_fortran.shape[0]

    def solve(b):
        if (
            isinstance(b, np.ndarray)
            and b.dtype.kind in "fiu"
            and b.ndim in (1, 2)
            and b.shape[0] == m
            and b.size > 0
            and np.isfinite(b).all()
        ):
            z, info = _dtrtrs(l_fortran, b, lower=1)
            if info == 0:
                return z
        return solve_triangular(l_factor, b, lower=True)

    return solve


def _residuals_of(f, xdata, ydata, transform):
    """Weighted residuals ``transform·(f(xdata, *p) − ydata)`` as a function of p."""
    if transform is None:

        def residuals(params):
            return f(xdata, *params) - ydata

    elif transform.size == 1 or transform.ndim == 1:

        def residuals(params):
            return transform * (f(xdata, *params) - ydata)

    else:
        # sigma = L Lᵀ: whiten by solving L r = f − y.
        solve = _lower_solver(transform)

        def residuals(params):
            return solve(f(xdata, *params) - ydata)

    return residuals


def _jacobian_of(jac, xdata, transform):
    """The model's Jacobian, weighted like the residuals."""
    if transform is None:

        def jacobian(params):
            return jac(xdata, *params)

    elif transform.ndim == 1:

        def jacobian(params):
            return transform[:, np.newaxis] * np.asarray(jac(xdata, *params))

    else:
        solve = _lower_solver(transform)

        def jacobian(params):
            return solve(np.asarray(jac(xdata, *params)))

    return jacobian


def curve_fit(
    f,
    xdata,
    ydata,
    p0=None,
    sigma=None,
    absolute_sigma=False,
    check_finite=None,
    bounds=(-np.inf, np.inf),
    method=None,
    jac=None,
    *,
    full_output=False,
    nan_policy=None,
    **kwargs,
):
    """Use non-linear least squares to fit a function, f, to data.

    A drop-in replacement for `scipy.optimize.curve_fit` (scipy 1.17): the same signature,
    checks, warnings, ``popt`` and ``pcov``, with the solve done by `trustfit.leastsq`
    (method 'lm') or `trustfit.least_squares` ('trf', 'dogbox'). Assumes
    ``ydata = f(xdata, *params) + eps``.

    Parameters
    ----------
    f : callable
        The model, ``f(x, p1, p2, ...)``: the independent variable first, then the
        parameters to fit as separate arguments.
    xdata : array_like or object
        The independent variable, passed to `f` as is (lists, tuples and arrays are
        converted to float arrays first and, with `check_finite`, checked).
    ydata : array_like
        The data, nominally ``f(xdata, *popt)``.
    p0 : array_like, optional
        Initial parameters. Default: all 1 (inside the bounds if any), their number
        taken from `f`'s signature.
    sigma : None, scalar, 1-D or 2-D array_like, optional
        Uncertainty in `ydata`: standard deviations (1-D or scalar; residuals are
        divided by them) or a covariance matrix (2-D; residuals are whitened by its
        Cholesky factor).
    absolute_sigma : bool, optional
        If True, `sigma` is in absolute units and ``pcov`` is not rescaled by the
        residual variance. Default False (only relative sigma values matter).
    check_finite : bool, optional
        Raise ValueError for NaN or inf in the input arrays. Default True unless
        `nan_policy` is given.
    bounds : 2-tuple of array_like or `scipy.optimize.Bounds`, optional
        Bounds on the parameters; each side a scalar or of the size of p0. Default none.
    method : {'lm', 'trf', 'dogbox'}, optional
        Default 'lm' without bounds, else 'trf'. 'lm' needs at least as many data points
        as parameters.
    jac : callable, string or None, optional
        ``jac(x, *params)`` returning the model's Jacobian (weighted with `sigma` here),
        or a finite-difference scheme of `least_squares` ('2-point', '3-point', 'cs').
        Default: finite differences.
    full_output : bool, optional
        Also return ``infodict``, ``mesg`` and ``ier``.
    nan_policy : {'raise', 'omit', None}, optional
        With ``check_finite=False``: 'raise' raises for NaNs, 'omit' drops the data points
        with NaNs (in x or y; and their rows/columns of sigma). 'propagate' is not
        supported (ValueError), as in scipy.
    **kwargs
        Passed to `leastsq` for 'lm' or to `least_squares` otherwise (``maxfev`` is
        renamed ``max_nfev`` for the latter). ``args`` is not accepted.

    Returns
    -------
    popt : ndarray
        Optimal parameters (minimising the sum of squared weighted residuals).
    pcov : 2-D ndarray
        Estimated covariance of popt; ``np.sqrt(np.diag(pcov))`` are the standard
        errors. For 'lm' from MINPACK's R; for 'trf'/'dogbox' the SVD pseudo-inverse of
        ``JᵀJ`` (singular values below ``eps·max(M, N)·s[0]`` dropped); scaled by the
        residual variance unless `absolute_sigma`. All inf, with an `OptimizeWarning`,
        when it cannot be estimated.
    infodict : dict (only with `full_output`)
        ``nfev`` and ``fvec``; for 'lm' also ``fjac``, ``ipvt``, ``qtf`` (and ``njev``
        with a callable `jac`), as `leastsq` returns them.
    mesg : str (only with `full_output`)
        The solver's message.
    ier : int (only with `full_output`)
        `leastsq`'s ier (1-4 on success) or `least_squares`' status.

    Raises
    ------
    ValueError
        NaN/inf in the data with `check_finite`, empty `ydata`, a bad `sigma`, bounds with
        'lm', ``args`` among the keyword arguments, and the solver's own checks.
    RuntimeError
        If the least-squares minimization fails ("Optimal parameters not found: ...").
    OptimizeWarning
        If the covariance of the parameters cannot be estimated.

    Examples
    --------
    >>> import numpy as np
    >>> from trustfit import curve_fit
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> y = np.array([1.0, 3.2, 9.5, 13.7])
    >>> popt, pcov = curve_fit(lambda x, a, b: b * x**a, x, y)
    >>> popt.round(4), np.sqrt(np.diag(pcov)).round(4)
    (array([1.7989, 1.1642]), array([0.292 , 0.4372]))
    """
    if p0 is None:
        n = _count_fit_parameters(f)
    else:
        p0 = np.atleast_1d(p0)
        n = p0.size

    if _no_bounds(bounds):
        # The default (or any two infinite floats): no arrays to build and test, the
        # same outcome (~14 µs per call at small n).
        lb = ub = None
        bounded_problem = False
    else:
        if isinstance(bounds, Bounds):
            lb, ub = bounds.lb, bounds.ub
        else:
            lb, ub = _prepare_bounds(bounds, n)
        bounded_problem = np.any((lb > -np.inf) | (ub < np.inf))
    if p0 is None:
        p0 = _feasible_start(*((lb, ub) if lb is not None else _prepare_bounds(bounds, n)))

    if method is None:
        method = "trf" if bounded_problem else "lm"
    if method == "lm" and bounded_problem:
        raise ValueError(
            "Method 'lm' only works for unconstrained problems. Use 'trf' or 'dogbox' instead."
        )

    if check_finite is None:
        check_finite = nan_policy is None

    # Inputs in float32 (or integers) are fitted in float64.
    as_float = np.asarray_chkfinite if check_finite else np.asarray
    ydata = as_float(ydata, float)
    if isinstance(xdata, (list, tuple, np.ndarray)):
        # Anything else goes to `f` untouched.
        xdata = as_float(xdata, float)

    if ydata.size == 0:
        raise ValueError("`ydata` must not be empty!")

    # With check_finite the data are known to be NaN-free already.
    if not check_finite and nan_policy is not None:
        if nan_policy == "propagate":
            raise ValueError("`nan_policy='propagate'` is not supported by this function.")
        if nan_policy not in ("raise", "omit"):
            raise ValueError("nan_policy must be one of {None, 'raise', 'omit'}")
        x_nan = _has_nan(xdata, nan_policy)
        y_nan = _has_nan(ydata, nan_policy)
        if (x_nan or y_nan) and nan_policy == "omit":
            # A data point is dropped when y or any coordinate of x (last axis) is NaN.
            drop = np.isnan(xdata)
            drop = drop.any(axis=tuple(range(drop.ndim - 1)))
            drop |= np.isnan(ydata)
            xdata = xdata[..., ~drop]
            ydata = ydata[~drop]
            if sigma is not None:
                sigma = np.asarray(sigma)
                if sigma.ndim == 1:
                    sigma = sigma[~drop]
                elif sigma.ndim == 2:
                    sigma = sigma[~drop, :][:, ~drop]

    if sigma is None:
        transform = None
    else:
        sigma = np.asarray(sigma)
        if sigma.size == 1 or sigma.shape == (ydata.size,):
            transform = 1.0 / sigma
        elif sigma.shape == (ydata.size, ydata.size):
            try:
                transform = cholesky(sigma, lower=True)
            except LinAlgError as e:
                raise ValueError("`sigma` must be positive definite.") from e
        else:
            raise ValueError("`sigma` has incorrect shape.")

    # leastsq evaluates f(p0) for its checks and MINPACK again at p0: scipy's memo
    # serves the second. least_squares evaluates each point once already (its own memo
    # keeps f and J at the last point), so the memo would only add a call per evaluation.
    memo = _memoize_first_point if method == "lm" else (lambda g: g)
    func = memo(_residuals_of(f, xdata, ydata, transform))
    if callable(jac):
        jac = memo(_jacobian_of(jac, xdata, transform))
    elif jac is None and method != "lm":
        jac = "2-point"

    if "args" in kwargs:
        # `f` takes the parameters as its arguments; there is no room for extra ones.
        raise ValueError("'args' is not a supported keyword argument.")

    if method == "lm":
        # ydata of size 1 may be broadcast against f's values.
        if ydata.size != 1 and n > ydata.size:
            raise TypeError(
                f"The number of func parameters={n} must not exceed the number of data "
                f"points={ydata.size}"
            )
        popt, pcov, infodict, errmsg, ier = leastsq(
            func, p0, Dfun=jac, full_output=1, **kwargs
        )
        ysize = len(infodict["fvec"])
        cost = np.sum(infodict["fvec"] ** 2)
        if ier not in _LEASTSQ_SUCCESS:
            raise RuntimeError("Optimal parameters not found: " + errmsg)
    else:
        # leastsq's `maxfev` is least_squares' `max_nfev`.
        if "max_nfev" not in kwargs:
            kwargs["max_nfev"] = kwargs.pop("maxfev", None)
        # Without finite bounds, least_squares' default object: its quick path.
        ls_bounds = bounds if bounded_problem else _NO_BOUNDS
        res = least_squares(func, p0, jac=jac, bounds=ls_bounds, method=method, **kwargs)
        # Read as a dict (an OptimizeResult's attributes go through a Python __getattr__).
        errmsg = res["message"]
        if not res["success"]:
            raise RuntimeError("Optimal parameters not found: " + errmsg)
        fvec = res["fun"]
        infodict = dict(nfev=res["nfev"], fvec=fvec)
        ier = res["status"]
        ysize = len(fvec)
        cost = 2 * res["cost"]
        popt = res["x"]
        pcov = _pinv_jtj(res["jac"])

    # scipy's rules (the core's Covariance::from_unscaled): inf when pcov is None or NaN,
    # scaled by the residual variance unless absolute_sigma, inf when ysize <= n then.
    cov = _trustfit.covariance_from_unscaled(
        pcov, float(cost), ysize, p0.size, bool(absolute_sigma)
    )
    pcov = cov["pcov"]
    if not cov["estimated"]:
        warn(
            "Covariance of the parameters could not be estimated",
            category=OptimizeWarning,
            stacklevel=2,
        )

    if full_output:
        return popt, pcov, infodict, errmsg, ier
    return popt, pcov


def _pinv_jtj(jac):
    """Moore-Penrose inverse of ``JᵀJ`` from the SVD of J, dropping singular values at or
    below ``eps·max(M, N)·s[0]`` (as scipy's curve_fit): the core's ``pinv_jtj``."""
    jac = np.asarray(jac, dtype=float)
    if not np.isfinite(jac).all():
        # scipy.linalg.svd's check_finite.
        raise ValueError("array must not contain infs or NaNs")
    try:
        return _trustfit.pinv_jtj(jac)
    except _trustfit.TrustfitError as e:
        raise LinAlgError("SVD did not converge") from e


# ---------------------------------------------------------------------------------------
# Beyond scipy: parameter uncertainties of a least_squares result
# ---------------------------------------------------------------------------------------


def covariance(result, absolute_sigma=False):
    """Covariance, standard errors and correlations of the parameters of a fit.

    Not in scipy (which offers them only through `curve_fit`): computed from the result of
    `least_squares` (trustfit's or scipy's) exactly as `curve_fit` computes ``pcov`` after
    its trf/dogbox solve, so ``covariance(least_squares(r, p0)).pcov`` equals
    ``curve_fit``'s ``pcov`` for residuals ``r(p) = (f(x, *p) - y) / sigma``.

    The Moore-Penrose inverse of ``JᵀJ`` from the SVD of ``result.jac`` (singular values at
    or below ``eps·max(m, n)·s[0]`` dropped), times the residual variance
    ``2·cost / (m - n)`` unless `absolute_sigma` (residuals already divided by known
    standard deviations). With a robust loss, ``result.jac`` and ``cost`` are the
    loss-weighted ones, so this is the usual sandwich-free approximation.

    Parameters
    ----------
    result : OptimizeResult
        A `least_squares` result (needs ``jac``, dense or sparse, ``cost`` and ``fun``).
    absolute_sigma : bool, optional
        Do not rescale by the residual variance. Default False.

    Returns
    -------
    OptimizeResult
        ``pcov`` (n-by-n; all inf when it cannot be estimated: NaNs, or m <= n without
        `absolute_sigma`, with an `OptimizeWarning` as `curve_fit` gives),
        ``stderr`` (``sqrt(diag(pcov))``), ``correlation`` (``pcov / outer(stderr,
        stderr)``; NaN where undefined) and ``estimated`` (bool).

    Examples
    --------
    >>> import numpy as np
    >>> from trustfit import covariance, least_squares
    >>> t = np.array([0.0, 1.0, 2.0, 3.0]); y = np.array([1.1, 2.9, 5.2, 6.8])
    >>> res = least_squares(lambda p: p[0] + p[1] * t - y, [0.0, 0.0])
    >>> cov = covariance(res)
    >>> cov.stderr.round(6)
    array([0.169411, 0.090554])
    """
    if isinstance(result.jac, LinearOperator):
        raise ValueError(
            "`result.jac` is a LinearOperator: the covariance needs the Jacobian's entries."
        )
    jac = result.jac.toarray() if issparse(result.jac) else np.asarray(result.jac, dtype=float)
    if jac.ndim != 2:
        raise ValueError("`result.jac` must be a 2-D array or a sparse array.")
    m, n = jac.shape
    cov = _trustfit.covariance_from_unscaled(
        _pinv_jtj(jac), 2 * float(result.cost), m, n, bool(absolute_sigma)
    )
    pcov, stderr, correlation = cov["pcov"], cov["stderr"], cov["correlation"]
    estimated = cov["estimated"]
    if not estimated:
        warn(
            "Covariance of the parameters could not be estimated",
            category=OptimizeWarning,
            stacklevel=2,
        )
    return OptimizeResult(
        pcov=pcov, stderr=stderr, correlation=correlation, estimated=estimated
    )
