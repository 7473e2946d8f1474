"""Many fits of one model at once: ``trustfit.batch.curve_fit``.

``ydata`` holds one data set per row (K rows of M points, all on the same ``xdata``); each
row is fitted as ``curve_fit`` would fit it alone, on every core, without a Python call
per fit and without holding the GIL. A row that cannot be fitted (non-finite data, fewer
finite points than parameters) gets its own status and NaN parameters; the others go on.

Two kinds of model:

1. A **formula string** in the command line's grammar, e.g.
   ``"A*exp(-((x-x0)^2+(y-y0)^2)/(2*w^2)) + b"``: compiled in Rust with exact
   derivatives, no Python call at all. Its variables are the names of ``xdata`` (a dict
   of 1-D arrays), or ``x`` for a 1-D ``xdata`` and ``x0``, ``x1``, … for the rows of a
   2-D one; every other identifier is a parameter, in the order in which it first
   appears in the formula (the columns of ``popt``).
2. A **vectorized Python function** ``f(xdata, *params)``: each parameter arrives as an
   array of shape (K_active, 1) — one row per fit still running — and ``f`` returns
   (K_active, M). It is called once per lock-step round for thousands of fits at a time
   (plus n calls for forward differences, or one call of a vectorized ``jac`` returning
   (K_active, M, n)), so the Python overhead is paid per round, not per fit.

``method``: ``"lockstep"`` — Levenberg–Marquardt on the normal equations, all fits
advanced together (Gpufit's scheme; the only method for a Python function, and the
fastest for small fits) — or, for formulas, scipy's ``"lm"`` (default without bounds),
``"trf"`` (default with bounds) and ``"dogbox"``, each fit solved as ``curve_fit``
solves it alone. With ``"lockstep"`` a parameter on a bound its gradient presses
against is held there (the others' step solved without it) and each step is projected
on the box, ``loss`` must be linear, and a fit stops when a step changes χ² by at most
``ftol``·χ², moves x by at most ``xtol``·(``xtol`` + ‖x‖), or the scaled gradient is at
most ``gtol`` (statuses 2, 3/4, 1; 0 after ``max_nfev`` evaluations).
"""

from __future__ import annotations

import math
import sys
from typing import Any, Optional

import numpy as np

from . import _trustfit

__all__ = ["curve_fit", "BatchFit"]

# Options the lock-step method takes.
_LOCKSTEP_OPTIONS = ("ftol", "xtol", "gtol", "max_nfev", "jac", "loss", "block")

# scipy's curve_fit passes these on to least_squares; the batch takes them too.
_OPTIONS = ("ftol", "xtol", "gtol", "max_nfev", "loss", "f_scale", "x_scale", "diff_step",
            "tr_solver", "jac")


class _Texts:
    """K texts, held as given (a list) or as codes into the distinct texts (the
    binding's form), made a list once, when first asked for."""

    def __init__(self, texts: Optional[list[str]] = None, codes: Any = None,
                 distinct: Optional[list[str]] = None) -> None:
        self._list = texts
        self._codes = codes
        self._distinct = distinct

    @classmethod
    def of(cls, res: dict[str, Any], key: str) -> Optional["_Texts"]:
        if key in res:
            return cls(texts=list(res[key]))
        if f"{key}_code" in res:
            return cls(codes=res[f"{key}_code"], distinct=list(res[f"{key}_texts"]))
        return None

    def as_list(self) -> list[str]:
        if self._list is None:
            table = np.array(list(self._distinct or []) + [""], dtype=object)
            self._list = table[np.asarray(self._codes, dtype=np.intp)].tolist()
            self._codes = self._distinct = None
        return self._list


class BatchFit:
    """The results of :func:`curve_fit`: one row per fit.

    Attributes: ``popt`` (K, n), ``pcov`` (K, n, n), ``perr`` (K, n) = √diag(pcov),
    ``status`` (K,) (scipy's status of ``least_squares``; -3 for a fit that could not
    run), ``success`` (K,), ``nfev`` (K,), ``njev`` (K,), ``cost`` (K,), ``error`` (K
    strings: why a fit failed, or ""), ``message`` (K strings: scipy's message for the
    status, "" for a fit that could not run), ``param_names`` (n names, the columns of
    popt).

    And what was fitted, for ``trustfit.fit_report(fit, index=k)`` and
    ``trustfit.plot_fit``: ``model`` (the formula or function), ``xdata`` (as given),
    ``ydata`` (K, M) and ``sigma`` (None, or (1, M) or (K, M)) as float64 arrays (the
    caller's arrays when they already were: no copy), ``absolute_sigma``, ``method``
    and ``loss``; ``model_values(k)`` evaluates the model at row k's parameters.
    """

    def __init__(
        self,
        res: dict[str, Any],
        *,
        model: Any = None,
        xdata: Any = None,
        variables: Optional[tuple[list[str], list[np.ndarray]]] = None,
        ydata: Optional[np.ndarray] = None,
        sigma: Optional[np.ndarray] = None,
        absolute_sigma: bool = False,
        method: Optional[str] = None,
        loss: Optional[str] = None,
    ) -> None:
        self.popt: np.ndarray = res["popt"]
        self.pcov: np.ndarray = res["pcov"]
        self.status: np.ndarray = res["status"]
        self.success: np.ndarray = res["success"]
        self.nfev: np.ndarray = res["nfev"]
        self.njev: np.ndarray = res["njev"]
        self.cost: np.ndarray = res["cost"]
        # The binding sends per-fit texts as codes into a few distinct texts; the lists
        # are built on first access (a million references cost more than the pcov).
        self._error = _Texts.of(res, "error")
        self._message = _Texts.of(res, "message")
        self.param_names: list[str] = list(res["param_names"])
        self._perr: Optional[np.ndarray] = None
        self.model: Any = model
        self.xdata: Any = xdata
        self._variables = variables
        self.ydata: Optional[np.ndarray] = ydata
        self.sigma: Optional[np.ndarray] = sigma
        self.absolute_sigma: bool = bool(absolute_sigma)
        self.method: Optional[str] = method
        self.loss: Optional[str] = loss

    @property
    def error(self) -> list[str]:
        """Why each fit could not run (K strings; "" for a fit that ran)."""
        return self._error.as_list() if self._error is not None else []

    @error.setter
    def error(self, value: Any) -> None:
        self._error = _Texts(texts=list(value))

    @property
    def message(self) -> Optional[list[str]]:
        """scipy's message for each fit's status (K strings; "" for a fit that could not
        run), or None where the batch did not report them."""
        return self._message.as_list() if self._message is not None else None

    @message.setter
    def message(self, value: Any) -> None:
        self._message = None if value is None else _Texts(texts=list(value))

    @property
    def perr(self) -> np.ndarray:
        """√diag(pcov), (K, n): computed on first access."""
        if self._perr is None:
            with np.errstate(invalid="ignore"):
                self._perr = np.sqrt(np.diagonal(self.pcov, axis1=-2, axis2=-1))
        return self._perr

    def model_values(self, k: int, xdata: Any = None) -> np.ndarray:
        """The model at row ``k``'s fitted parameters, on the fit's ``xdata`` or on
        ``xdata`` (the same form: a 1-D array, rows of a 2-D one or a dict of
        variables): an (M,) array."""
        p = np.ascontiguousarray(self.popt[k], dtype=np.float64)
        if isinstance(self.model, str):
            if xdata is None:
                if self._variables is None:
                    raise ValueError("this BatchFit does not carry its xdata")
                names, cols = self._variables
            else:
                first = next(iter(xdata.values())) if isinstance(xdata, dict) else xdata
                names, cols = _variables(xdata, np.shape(first)[-1])
            return np.asarray(_trustfit.formula_eval(self.model, names, cols, p))
        if self.model is None:
            raise ValueError("this BatchFit does not carry its model")
        x = self.xdata if xdata is None else xdata
        # The vectorized model's convention: each parameter a (K_active, 1) array.
        values = self.model(x, *(np.full((1, 1), v) for v in p))
        return np.asarray(values, dtype=float).reshape(-1)

    def __len__(self) -> int:
        return self.popt.shape[0]

    def __repr__(self) -> str:
        k = len(self)
        ok = int(np.count_nonzero(self.success))
        return (f"BatchFit({k} fits, {ok} converged, parameters "
                f"{', '.join(self.param_names)})")


def _c_f64(a: Any) -> np.ndarray:
    """``a`` as a C-contiguous, aligned float64 array (the Rust side reads it as a slice;
    arrays unpickled from a buffer, as Dask's workers receive them, may be unaligned)."""
    return np.require(a, dtype=np.float64, requirements=["C", "A"])


def _variables(xdata: Any, m: int) -> tuple[list[str], list[np.ndarray]]:
    """xdata as named float64 columns of length m."""
    if isinstance(xdata, dict):
        names = [str(k) for k in xdata]
        cols = [_c_f64(v) for v in xdata.values()]
    else:
        x = np.asarray(xdata, dtype=np.float64)
        if x.ndim == 1:
            names, cols = ["x"], [_c_f64(x)]
        elif x.ndim == 2:
            names = [f"x{i}" for i in range(x.shape[0])]
            cols = [_c_f64(r) for r in x]
        else:
            raise ValueError(f"`xdata` must be 1-D, 2-D (k, M) or a dict, got shape {x.shape}")
    for name, c in zip(names, cols):
        if c.ndim != 1 or c.shape[0] != m:
            raise ValueError(
                f"`xdata` variable {name!r} has shape {c.shape}; every variable needs ({m},), "
                "the length of a ydata row"
            )
    return names, cols


def _rows(value: Any, k: int, width: int, what: str) -> np.ndarray:
    """A (width,) or (k, width) array as a C-contiguous (1 or k, width) float64 array."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 1 and a.shape[0] == width:
        return _c_f64(a.reshape(1, width))
    if a.ndim == 2 and a.shape == (k, width):
        return _c_f64(a)
    raise ValueError(f"`{what}` must have shape ({width},) or ({k}, {width}), got {a.shape}")


def _bounds(bounds: Any, n: int) -> Optional[tuple[np.ndarray, np.ndarray]]:
    lb, ub = bounds
    lb = np.broadcast_to(np.asarray(lb, dtype=np.float64), (n,)).copy()
    ub = np.broadcast_to(np.asarray(ub, dtype=np.float64), (n,)).copy()
    if np.all(lb == -np.inf) and np.all(ub == np.inf):
        return None
    return lb, ub


def curve_fit(
    f: Any,
    xdata: Any,
    ydata: Any,
    p0: Any = None,
    sigma: Any = None,
    absolute_sigma: bool = False,
    bounds: Any = (-np.inf, np.inf),
    method: Optional[str] = None,
    *,
    threads: Optional[int] = None,
    **kwargs: Any,
) -> BatchFit:
    """Fits the model ``f`` to every row of ``ydata`` (K, M), as scipy's ``curve_fit``
    fits one row: weights 1/σ, ``lm`` without bounds and ``trf`` with them, pcov from the
    Jacobian at the solution (scaled by χ²/(M′ − n) unless ``absolute_sigma``; M′ counts
    the row's finite y — NaN or ±inf points are left out). ``p0``: (n,) for every row or
    (K, n), default ones. ``sigma``: (M,) or (K, M). ``bounds``: scalars or (n,) arrays.
    ``kwargs``: ``ftol``, ``xtol``, ``gtol``, ``max_nfev``, ``loss``, ``f_scale``,
    ``x_scale``, ``diff_step``, ``tr_solver``, ``jac`` (default: the formula's exact
    derivatives; for a Python model a vectorized callable, or forward differences), and
    ``block`` (lock-step: fits per model call). ``threads``: worker threads (default every
    core; a Python model runs on one, it needs the GIL for every call). Results do not
    depend on the number of threads. An exception raised by a Python model stops the
    batch and propagates unchanged; no partial results are returned.

    >>> import numpy as np, trustfit.batch
    >>> t = np.linspace(0, 4, 20)
    >>> y = np.array([a * np.exp(-0.5 * t) for a in (1.0, 2.0, 3.0)])
    >>> fit = trustfit.batch.curve_fit("a*exp(b*x)", t, y, p0=[1.0, -1.0])
    >>> fit.param_names, np.round(fit.popt[:, 0], 6).tolist()
    (['a', 'b'], [1.0, 2.0, 3.0])
    >>> def decay(x, a, b):  # a and b have shape (K_active, 1)
    ...     return a * np.exp(b * x)
    >>> fit = trustfit.batch.curve_fit(decay, t, y, p0=[1.0, -1.0])
    >>> np.round(fit.popt[:, 0], 6).tolist(), fit.param_names
    ([1.0, 2.0, 3.0], ['a', 'b'])
    """
    if not isinstance(f, str):
        if not callable(f):
            raise TypeError(f"the model must be a formula string or a callable, got {type(f).__name__}")
        return _curve_fit_callable(f, xdata, ydata, p0, sigma, absolute_sigma, bounds, method,
                                   threads, kwargs)
    lockstep = method == "lockstep"
    allowed = _LOCKSTEP_OPTIONS if lockstep else _OPTIONS
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise TypeError(f"curve_fit() got unexpected keyword argument(s): {', '.join(unknown)}")
    loss = kwargs.get("loss", "linear")
    if callable(loss):
        raise TypeError("a callable `loss` is not supported in a batch (it would need the GIL)")
    y = np.asarray(ydata, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"`ydata` must be 2-D (K fits, M points), got shape {y.shape}")
    k, m = y.shape
    names, cols = _variables(xdata, m)
    params, _ = _trustfit.formula_symbols(f, names)
    n = len(params)
    if n == 0:
        raise ValueError(f"the formula {f!r} has no parameters (its identifiers are all variables)")
    starts = _rows(np.ones(n) if p0 is None else p0, k, n, "p0")
    sig = None if sigma is None else _rows(
        np.broadcast_to(np.asarray(sigma, dtype=np.float64), (m,)) if np.ndim(sigma) == 0 else sigma,
        k, m, "sigma")
    b = _bounds(bounds, n)
    if method is None:
        method = "trf" if b is not None else "lm"
    if method not in ("lm", "trf", "dogbox", "lockstep"):
        raise ValueError(f"`method` must be 'lm', 'trf', 'dogbox' or 'lockstep', got {method!r}")
    block = kwargs.pop("block", 64)
    if method == "lm" and b is not None:
        raise ValueError("Method 'lm' only works for unconstrained problems. Use 'trf' or "
                         "'dogbox' instead.")
    options: dict[str, Any] = {"method": "lm" if lockstep else method, "jac": "analytic",
                               "bounds": b}
    if method == "lm":
        # scipy's curve_fit with lm uses leastsq's ftol and xtol (gtol stays least_squares'
        # 1e-8: least_squares' lm needs every tolerance above machine epsilon).
        options.update(ftol=1.49012e-08, xtol=1.49012e-08)
    for key in _OPTIONS:
        if key in kwargs:
            value = kwargs[key]
            if key == "max_nfev":
                value = _max_nfev(value)
            elif key in ("x_scale", "diff_step") and value is not None and not isinstance(value, str):
                value = _c_f64(np.broadcast_to(np.asarray(value, float), (n,)))
            options[key] = value
    if threads is not None and (int(threads) != threads or threads < 1):
        raise ValueError(f"`threads` must be a positive integer or None, got {threads!r}")
    y = _c_f64(y)
    res = _trustfit.batch_curve_fit_formula(
        f, names, cols, y, starts, options,
        sigma=sig, absolute_sigma=bool(absolute_sigma),
        threads=None if threads is None else int(threads), lockstep=lockstep,
        block=_positive_int(block, "block"),
    )
    return BatchFit(res, model=f, xdata=xdata, variables=(names, cols), ydata=y, sigma=sig,
                    absolute_sigma=bool(absolute_sigma), method=method,
                    loss=loss if isinstance(loss, str) else "linear")


def _max_nfev(value: Any) -> Optional[int]:
    """``max_nfev`` as a count for the binding: None, or a positive number rounded up
    (infinity: no limit). scipy's error for anything else (a negative count reached
    the binding's unsigned conversion, which raised an OverflowError about it)."""
    if value is None:
        return None
    try:
        positive = bool(value > 0)
    except TypeError:
        positive = False
    if not positive or value != value:
        raise ValueError("`max_nfev` must be None or positive integer.")
    if value == math.inf:
        return sys.maxsize
    return min(int(math.ceil(value)), sys.maxsize)


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"`{what}` must be a positive integer, got {value!r}")
    return int(value)


def _param_count(f: Any, p0: Any) -> tuple[int, list[str]]:
    """n and the parameter names: from p0, else from f's signature (as scipy does)."""
    import inspect
    try:
        sig = inspect.signature(f)
        names = [p.name for p in sig.parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]
    except (TypeError, ValueError):
        names = []
    if p0 is not None:
        n = np.atleast_1d(np.asarray(p0)).shape[-1]
        return n, names if len(names) == n else [f"p{i}" for i in range(n)]
    if not names:
        raise ValueError("Unable to determine number of fit parameters.")
    return len(names), names


def _curve_fit_callable(f: Any, xdata: Any, ydata: Any, p0: Any, sigma: Any,
                        absolute_sigma: bool, bounds: Any, method: Optional[str],
                        threads: Optional[int], kwargs: dict[str, Any]) -> BatchFit:
    """The vectorized-Python-model path of :func:`curve_fit` (lock-step only)."""
    if method not in (None, "lockstep"):
        raise ValueError(
            f"a Python model is fitted with method='lockstep' (all fits called together); "
            f"method={method!r} works with formula models only"
        )
    unknown = sorted(set(kwargs) - set(_LOCKSTEP_OPTIONS))
    if unknown:
        raise TypeError(f"curve_fit() got unexpected keyword argument(s) for a Python model: "
                        f"{', '.join(unknown)}")
    if kwargs.get("loss", "linear") != "linear":
        raise ValueError("method='lockstep' fits the linear loss only")
    jac = kwargs.get("jac")
    if jac is not None and not callable(jac) and jac != "2-point":
        raise ValueError("`jac` of a Python model must be a vectorized callable or '2-point'")
    if threads is not None:
        _positive_int(threads, "threads")
    y = np.asarray(ydata, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"`ydata` must be 2-D (K fits, M points), got shape {y.shape}")
    k, m = y.shape
    n, names = _param_count(f, p0)
    starts = _rows(np.ones(n) if p0 is None else p0, k, n, "p0")
    sig = None if sigma is None else _rows(
        np.broadcast_to(np.asarray(sigma, dtype=np.float64), (m,)) if np.ndim(sigma) == 0 else sigma,
        k, m, "sigma")
    b = _bounds(bounds, n)
    try:
        x = np.asarray(xdata, dtype=np.float64)
    except (TypeError, ValueError):
        x = xdata
    max_nfev = _max_nfev(kwargs.get("max_nfev"))
    # About 2^18 values of J per block (1747 fits of 25 points and 5 parameters): enough
    # fits per call to amortise the call, numpy's temporaries still in cache; never fewer
    # than 256 fits.
    block = kwargs.get("block")
    if block is None:
        block = max(1, min(k, max(256, (1 << 18) // max(1, m * (n + 1)))))
    y = _c_f64(y)
    res = _trustfit.batch_curve_fit_callable(
        f, x, y, starts, sigma=sig, absolute_sigma=bool(absolute_sigma),
        jac=jac if callable(jac) else None,
        lb=None if b is None else b[0].tolist(), ub=None if b is None else b[1].tolist(),
        ftol=float(kwargs.get("ftol", 1e-8)), xtol=float(kwargs.get("xtol", 1e-8)),
        gtol=float(kwargs.get("gtol", 1e-8)), max_nfev=max_nfev,
        block=_positive_int(block, "block"),
    )
    res["param_names"] = names
    return BatchFit(res, model=f, xdata=x, ydata=y, sigma=sig,
                    absolute_sigma=bool(absolute_sigma), method="lockstep", loss="linear")
