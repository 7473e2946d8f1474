"""Type stubs of the compiled module ``trustfit._trustfit`` (checked against it by mypy's
stubtest in tools/test-python.sh)."""

from typing import Any, Callable, Optional

import numpy as np
import numpy.typing as npt

__all__ = [
    "solve",
    "quick_solve",
    "leastsq_solve",
    "name_error",
    "pinv_jtj",
    "covariance_from_unscaled",
    "batch_curve_fit_formula",
    "batch_curve_fit_callable",
    "formula_symbols",
    "formula_eval",
    "NAMES",
    "TrustfitError",
    "__version__",
]

__version__: str

# The names users may pass: "methods", "losses", "tr_solvers", "jac_schemes", each a tuple
# of the core's spellings (losses in the order scipy's error message prints them).
NAMES: dict[str, tuple[str, ...]]

class TrustfitError(RuntimeError):
    """A failure inside trustfit that scipy has no exception for."""

def quick_solve(
    fun: Callable[..., Any],
    x0: Any,
    jac: Any,
    method: Any,
    ftol: Any,
    xtol: Any,
    gtol: Any,
    x_scale: Any,
    loss: Any,
    f_scale: Any,
    max_nfev: Any,
    args: Any,
    kwargs: Any,
    result_type: type[Any],
    bounds: Optional[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = None,
) -> Any:
    """least_squares' common call in one crossing, its arguments as the caller got them
    (the options not passed here at scipy's defaults): scipy's OptimizeResult
    (result_type); None when the call needs the full checks first (options or x0 not
    plain, NaN in x0, bounds failing scipy's checks); or (f0, J0) as the user returned
    them when they need the full checks."""
    ...

def solve(
    fun: Callable[..., Any],
    x0: npt.NDArray[np.float64],
    f0: npt.NDArray[np.float64],
    options: dict[str, Any],
    *,
    jac: Optional[Callable[..., Any]] = None,
    j0: Optional[npt.NDArray[np.float64]] = None,
    args: Optional[tuple[Any, ...]] = None,
    kwargs: Optional[dict[str, Any]] = None,
    sparsity: Optional[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = None,
    operator0: Optional[Any] = None,
    callback: Optional[
        Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64], int, int, float], bool]
    ] = None,
) -> dict[str, Any]:
    """Runs the core's least_squares; `options` by scipy's names (method, jac, bounds,
    ftol, xtol, gtol, x_scale, loss, f_scale, diff_step, tr_solver, tr_options, max_nfev,
    verbose). Returns x, cost, fun, jac, grad, optimality, active_mask, nfev, njev,
    status and message."""

def leastsq_solve(
    func: Callable[..., Any],
    x0: npt.NDArray[np.float64],
    fvec0: Any,
    options: dict[str, Any],
    *,
    args: tuple[Any, ...],
    dfun: Optional[Callable[..., Any]] = None,
    col_deriv: bool = False,
    convert: Callable[[Any, int, int], npt.NDArray[np.float64]],
) -> dict[str, Any]:
    """Runs the core's leastsq; `options`: ftol, xtol, gtol, maxfev, epsfcn, factor,
    diag. Returns x, fvec, nfev, njev, fjac (n, m), ipvt (0-based int32), qtf, info, mesg."""

def name_error(kind: str) -> BaseException:
    """The core's exception (scipy's ValueError and message) for a `kind` ("method", "jac",
    "loss", "tr_solver") it does not know the value of."""

def pinv_jtj(jac: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The core's pinv(JᵀJ) of an (m, n) Jacobian as scipy's curve_fit computes it for
    trf/dogbox (SVD of J, singular values <= eps·max(m, n)·s[0] dropped); (n, n),
    unscaled."""

def covariance_from_unscaled(
    unscaled: Optional[npt.NDArray[np.float64]],
    sum_sq: float,
    m: int,
    n: int,
    absolute_sigma: bool,
) -> dict[str, Any]:
    """The core's Covariance::from_unscaled: scipy's curve_fit rules for pcov (all inf
    when `unscaled` is None or NaN; scaled by sum_sq / (m - n) unless absolute_sigma, all
    inf when m <= n then). Returns pcov, stderr, correlation and estimated."""

def formula_symbols(formula: str, names: list[str]) -> tuple[list[str], list[str]]:
    """The formula's parameters (order of first appearance) and the variables of
    ``names`` it uses."""

def formula_eval(
    formula: str,
    names: list[str],
    columns: list[npt.NDArray[np.float64]],
    params: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The formula's values at ``params`` (order of first appearance) over the variables
    ``names`` = ``columns`` (each of length M): an (M,) array."""

def batch_curve_fit_formula(
    formula: str,
    names: list[str],
    columns: list[npt.NDArray[np.float64]],
    ydata: npt.NDArray[np.float64],
    p0: npt.NDArray[np.float64],
    options: dict[str, Any],
    *,
    sigma: Optional[npt.NDArray[np.float64]] = None,
    absolute_sigma: bool = False,
    threads: Optional[int] = None,
    lockstep: bool = False,
    block: int = 64,
) -> dict[str, Any]:
    """Fits the formula to every row of ydata (K, M) on all cores, without the GIL:
    popt, pcov, status, success, nfev, njev, cost, error_code/error_texts,
    message_code/message_texts (a u8 code per fit into a list of the distinct texts),
    param_names."""

def batch_curve_fit_callable(
    f: Callable[..., Any],
    xdata: Any,
    ydata: npt.NDArray[np.float64],
    p0: npt.NDArray[np.float64],
    *,
    sigma: Optional[npt.NDArray[np.float64]] = None,
    absolute_sigma: bool = False,
    jac: Optional[Callable[..., Any]] = None,
    lb: Optional[list[float]] = None,
    ub: Optional[list[float]] = None,
    ftol: float = 1e-8,
    xtol: float = 1e-8,
    gtol: float = 1e-8,
    max_nfev: Optional[int] = None,
    block: int = 4096,
) -> dict[str, Any]:
    """Fits the vectorized Python model f(xdata, *params) (params (K_active, 1), result
    (K_active, M)) to every row of ydata in lock-step; the GIL is held only while f or
    jac runs. popt, pcov, status, success, nfev, njev, cost, error_code/error_texts,
    message_code/message_texts (a u8 code per fit into a list of the distinct texts)."""
