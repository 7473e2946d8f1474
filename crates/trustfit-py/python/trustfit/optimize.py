"""`least_squares` with scipy 1.17's signature, defaults, checks and result, solved in Rust.

Argument validation follows scipy's order and messages exactly (spec §1.2), so the same bad
input raises the same exception. ``f(x0)`` (and ``J(x0)`` for a callable ``jac``) are
evaluated here once, as scipy does, and handed to the compiled solver, which serves them to
the core's first evaluations at ``x0`` without calling the user again (scipy's memo, so that
``res.nfev`` equals the number of calls of ``fun`` for an analytic ``jac``).
"""

from __future__ import annotations

import inspect
import math
import operator
from warnings import warn

import numpy as np
from scipy.optimize import Bounds, OptimizeResult
from scipy.sparse import issparse
from scipy.sparse.linalg import LinearOperator

from . import _trustfit

__all__ = ["least_squares"]

EPS = np.finfo(float).eps

TERMINATION_MESSAGES = {
    -2: "Stopped because `callback` function raised `StopIteration` or returned `True`",
    -1: "Improper input parameters status returned from `leastsq`",
    0: "The maximum number of function evaluations is exceeded.",
    1: "`gtol` termination condition is satisfied.",
    2: "`ftol` termination condition is satisfied.",
    3: "`xtol` termination condition is satisfied.",
    4: "Both `ftol` and `xtol` termination conditions are satisfied.",
}

# Same keys and order as scipy, whose error message prints them (`dict_keys([...])`).
IMPLEMENTED_LOSSES = dict(linear=None, huber=None, soft_l1=None, cauchy=None, arctan=None)

FD_METHODS = ("2-point", "3-point", "cs")

# Keyword arguments scipy's LSMR solver accepts in `tr_options` (trf also takes `regularize`).
_LSMR_OPTIONS = {"damp", "atol", "btol", "conlim", "maxiter", "show", "x0"}


def _not_implemented(what):
    return NotImplementedError(
        f"{what} is not supported by trustfit yet (dense problems with "
        "tr_solver='exact' only); use scipy.optimize.least_squares for it."
    )


def _prepare_bounds(bounds, n):
    lb, ub = (np.asarray(b, dtype=float) for b in bounds)
    if lb.ndim == 0:
        lb = np.resize(lb, n)
    if ub.ndim == 0:
        ub = np.resize(ub, n)
    return lb, ub


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
    # scipy maps finite-difference evaluations over `workers`; results are identical to a
    # serial run, which is what trustfit does. Reject what scipy's MapWrapper rejects.
    if workers is None or callable(workers):
        return
    if int(workers) == -1 or int(workers) >= 1:
        return
    raise RuntimeError(
        "Number of workers specified must be -1, an int >= 1, or an object with a 'map' method"
    )


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


def _fd_jacobian_for_low_precision(fun, args, kwargs, scheme, diff_step, lb, ub):
    """A callable finite-difference Jacobian for residuals in float32 (or lower).

    scipy's step uses the epsilon of the residuals' dtype; the core differences in float64
    only, which would give zero columns for float32 residuals. Until the core takes the
    epsilon as an option, difference with scipy's own `approx_derivative`.
    """
    from scipy.optimize._numdiff import approx_derivative

    kwargs = kwargs or {}

    def wrapped_fun(x):
        return np.atleast_1d(fun(x, *args, **kwargs))

    def jac(x, *_args, **_kwargs):
        return approx_derivative(
            wrapped_fun, x, method=scheme, rel_step=diff_step, f0=wrapped_fun(x),
            bounds=(lb, ub),
        )

    return jac


def least_squares(
    fun,
    x0,
    jac="2-point",
    bounds=(-np.inf, np.inf),
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
        ``fun(x, *args, **kwargs)``. The argument ``x`` is an ndarray of shape (n,) (a
        fresh copy on every call). It must return a 1-D array_like of shape (m,) or a
        scalar.
    x0 : array_like with shape (n,) or float
        Initial guess on independent variables. With 'trf' it may be moved slightly
        inside the `bounds`.
    jac : {'2-point', '3-point', 'cs', callable}, optional
        How to compute the m-by-n Jacobian: forward differences ('2-point', default),
        central differences ('3-point'), complex step ('cs', `fun` must accept complex
        input) or a callable ``jac(x, *args, **kwargs)`` returning a dense array_like
        (``np.atleast_2d`` is applied). Sparse and LinearOperator Jacobians raise
        `NotImplementedError` for now.
    bounds : 2-tuple of array_like or `scipy.optimize.Bounds`, optional
        Lower and upper bounds on the variables; each side a scalar or of the size of
        `x0`. Use ``np.inf`` with an appropriate sign to disable a side. Default: none.
    method : {'trf', 'dogbox', 'lm'}, optional
        'trf' (Trust Region Reflective, default), 'dogbox' (dogleg in a rectangular trust
        region) or 'lm' (MINPACK's Levenberg-Marquardt; no bounds, m >= n).
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
    tr_solver : {None, 'exact', 'lsmr'}, optional
        Trust-region subproblem solver. Only 'exact' (the default for dense Jacobians)
        is available; 'lsmr' raises `NotImplementedError` for now.
    tr_options : dict, optional
        Keyword options of the 'lsmr' solver; ignored with 'exact'.
    jac_sparsity : {None, array_like, sparse array}, optional
        Sparsity structure of the Jacobian for finite differences. Not supported yet
        (raises `NotImplementedError` after scipy's checks).
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
        Accepted for compatibility. Finite differences are evaluated serially, which
        gives results identical to scipy's parallel evaluation.

    Returns
    -------
    result : OptimizeResult
        `scipy.optimize.OptimizeResult` with fields ``x``, ``cost``, ``fun``, ``jac``
        (dense ndarray, m-by-n, scaled by the robust loss as in scipy), ``grad``,
        ``optimality``, ``active_mask``, ``nfev``, ``njev`` (None for 'lm' with finite
        differences), ``status``, ``message`` and ``success``.

    Raises
    ------
    ValueError, TypeError
        For invalid arguments, with scipy's messages.
    NotImplementedError
        For sparse or LinearOperator Jacobians, `jac_sparsity` and ``tr_solver='lsmr'``.

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
    if method not in ["trf", "dogbox", "lm"]:
        raise ValueError("`method` must be 'trf', 'dogbox' or 'lm'.")

    if jac not in ["2-point", "3-point", "cs"] and not callable(jac):
        raise ValueError("`jac` must be '2-point', '3-point', 'cs' or callable.")

    if tr_solver not in [None, "exact", "lsmr"]:
        raise ValueError("`tr_solver` must be None, 'exact' or 'lsmr'.")

    if loss not in IMPLEMENTED_LOSSES and not callable(loss):
        raise ValueError(
            f"`loss` must be one of {IMPLEMENTED_LOSSES.keys()} or a callable."
        )

    if method == "lm" and loss != "linear":
        raise ValueError("method='lm' supports only 'linear' loss function.")

    if verbose not in [0, 1, 2]:
        raise ValueError("`verbose` must be in [0, 1, 2].")

    if max_nfev is not None and max_nfev <= 0:
        raise ValueError("`max_nfev` must be None or positive integer.")

    if np.iscomplexobj(x0):
        raise ValueError("`x0` must be real.")

    x0 = np.atleast_1d(x0).astype(float)

    if x0.ndim > 1:
        raise ValueError("`x0` must have at most 1 dimension.")

    n = x0.shape[0] if x0.ndim == 1 else 0
    if (
        type(bounds) is tuple
        and len(bounds) == 2
        and type(bounds[0]) is float
        and type(bounds[1]) is float
        and bounds[0] == -np.inf
        and bounds[1] == np.inf
    ):
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

    _check_workers(workers)
    if tr_options is None:
        tr_options = {}
    args = tuple(args)
    if kwargs is not None:
        kwargs = dict(kwargs)
    if kwargs == {}:
        kwargs = None

    # scipy evaluates f(x0) and J(x0) before checking them (its VectorFunction).
    f0 = np.atleast_1d(fun(x0.copy(), *args, **(kwargs or {})))
    J0 = None
    if callable(jac):
        J0 = jac(x0.copy(), *args, **(kwargs or {}))
        if issparse(J0) or isinstance(J0, LinearOperator):
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

    if not np.all(np.isfinite(f0)):
        raise ValueError("Residuals are not finite in the initial point.")

    n = x0.size
    m = f0.size

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

    # What scipy would solve with LSMR (sparse/operator J, jac_sparsity, tr_solver='lsmr')
    # is not available yet. Unknown `tr_options` keys fail as in scipy's lsmr call first.
    sparse_path = (
        (J0 is not None and not isinstance(J0, np.ndarray))
        or (not callable(jac) and jac_sparsity is not None and method != "lm")
        or (tr_solver == "lsmr" and method != "lm")
    )
    if sparse_path:
        allowed = _LSMR_OPTIONS | ({"regularize"} if method == "trf" else set())
        for key in tr_options:
            if key not in allowed:
                raise TypeError(f"lsmr() got an unexpected keyword argument '{key}'")
        if J0 is not None and issparse(J0):
            raise _not_implemented("A sparse Jacobian")
        if J0 is not None and not isinstance(J0, np.ndarray):
            raise _not_implemented("A LinearOperator Jacobian")
        if not callable(jac) and jac_sparsity is not None:
            raise _not_implemented("`jac_sparsity`")
        raise _not_implemented("tr_solver='lsmr'")

    if callback is not None and method == "lm":
        warn("Callback function specified, but not supported with `lm` method.", stacklevel=2)
        callback = None

    jac_callable = jac if callable(jac) else None
    jac_kind = "analytic" if callable(jac) else jac
    if jac_callable is None and f0.dtype.itemsize < 8 and np.issubdtype(f0.dtype, np.floating):
        jac_callable = _fd_jacobian_for_low_precision(
            fun, args, kwargs, jac, diff_step, lb if method != "lm" else -np.inf,
            ub if method != "lm" else np.inf,
        )
        J0 = None
    f0_64 = np.ascontiguousarray(f0, dtype=np.float64)
    J0_64 = None if J0 is None else np.ascontiguousarray(J0, dtype=np.float64)

    if x_scale_default:
        # The core's default is scipy's: 1 for trf and dogbox, 'jac' for lm.
        x_scale_kind, x_scale_values = "default", None
    elif isinstance(x_scale, str):
        x_scale_kind, x_scale_values = "jac", None
    else:
        x_scale_kind, x_scale_values = "values", np.ascontiguousarray(x_scale, dtype=float)
    if diff_step is not None:
        diff_step = np.ascontiguousarray(np.atleast_1d(diff_step), dtype=float).ravel()
    if max_nfev is not None:
        # scipy compares counts with `==`, so a fractional value never stops it; round up.
        max_nfev = operator.index(max_nfev) if isinstance(max_nfev, (int, np.integer)) \
            else math.ceil(max_nfev)

    x, cost, f, J, grad, optimality, active_mask, nfev, njev, status = _trustfit.solve(
        fun,
        x0,
        f0_64,
        jac_callable,
        jac_kind,
        J0_64,
        args,
        kwargs,
        None if unbounded else np.ascontiguousarray(lb, dtype=float),
        None if unbounded else np.ascontiguousarray(ub, dtype=float),
        method,
        float(ftol),
        float(xtol),
        float(gtol),
        x_scale_kind,
        x_scale_values,
        loss,
        float(f_scale),
        diff_step,
        max_nfev,
        int(verbose),
        _wrap_callback(callback),
    )

    if method == "trf" and unbounded:
        active_mask = np.zeros_like(x)
    if method == "lm" and not callable(jac):
        njev = None
    return OptimizeResult(
        x=x,
        cost=np.float64(cost),
        fun=f,
        jac=J,
        grad=grad,
        optimality=np.float64(optimality),
        active_mask=active_mask,
        nfev=nfev,
        njev=njev,
        status=status,
        message=TERMINATION_MESSAGES[status],
        success=status > 0,
    )
