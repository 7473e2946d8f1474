"""xarray's ``curvefit`` on trustfit's batch fitter: ``trustfit.xarray.curvefit``.

``trustfit.xarray.curvefit(obj, ...)`` takes the arguments of ``obj.curvefit(...)``
(``xarray.DataArray.curvefit`` / ``Dataset.curvefit``) and returns the same Dataset
(``curvefit_coefficients`` over the kept dimensions and ``param``,
``curvefit_covariance`` over them and ``cov_i``, ``cov_j``; for a Dataset one pair per
variable, prefixed by its name), so that swapping one call is enough:

    fit = da.curvefit(["x", "y"], gauss, p0=p0)                       # xarray + scipy
    fit = trustfit.xarray.curvefit(da, ["x", "y"], gauss, p0=p0)      # trustfit

``func`` is

* a **formula string** whose variables are the names of ``coords`` (coords ``px``,
  ``py``: ``"A*exp(-((px-x0)^2+(py-y0)^2)/(2*w^2)) + b"``) and whose parameters are
  ``param_names`` or, without it, its other identifiers in order of first appearance;
  compiled in Rust with exact derivatives, every fit solved as scipy's ``curve_fit``
  solves it (``lm`` without bounds, ``trf`` with them, or ``kwargs["method"]``,
  including trustfit's ``"lockstep"``), on every core;
* or a **Python function** ``func(x, *params)`` as xarray calls it: ``x`` the coords
  stacked (``(len(coords), M)``, or ``(M,)`` for one coordinate). When it also works with
  parameters of shape (K, 1) — one row per fit, returning (K, M) — trustfit calls it that
  way, once per lock-step round for thousands of fits (``method='lockstep'``: Levenberg–
  Marquardt on all fits at once; a ``jac`` in ``kwargs`` is used the same way when it
  vectorizes, else forward differences). Whether it does is checked on the client before
  anything runs: one call with two fits must give (2, M), each row equal (to 1e-10) to
  the call with that fit's scalars. Otherwise (or with ``vectorized=False``, or options
  only scipy's per-fit solvers have: another ``loss``, ``method='dogbox'``, a 2-D
  ``sigma``, …) each fit is solved by ``trustfit.curve_fit``, one call at a time as
  xarray does, at scipy's speed.

numpy-backed ``obj``: the fits run now, in this process. Dask-backed ``obj``: the result is
lazy, one task per chunk, computed by whatever scheduler computes it — the current
``distributed`` client's cluster with ``.compute()`` — each task on one thread
(``threads=`` to change). The fit's dimensions (``coords``' and ``reduce_dims``) must be
one chunk each (checked here, before any task runs); a Python ``func`` must then be
picklable when a distributed client is current.

Results are those of :func:`trustfit.batch.curve_fit` on the same rows, bit for bit,
whatever the chunking: the data's points are flattened in the order of the object's
dimensions (xarray's own order depends on a set). Where trustfit differs from xarray +
scipy: ±inf data points are left out like NaN (scipy raises); a fit that does not
converge raises RuntimeError with ``errors="raise"`` after the batch, naming how many
failed (scipy raises at the first); ``nan_policy``/``check_finite`` are not taken; a
negative or NaN tolerance is refused on the lock-step path (scipy warns and disables
that test); a NaN start is a failed fit (NaN parameters) or, with ``errors="raise"``,
a ValueError, where scipy's MINPACK returns the start as its result.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Optional

import numpy as np

from . import _trustfit
from . import batch as _batch
from ._cluster import check_picklable, task_threads

try:
    import xarray as xr
except ImportError:  # pragma: no cover - only without the extras
    raise ImportError(
        "trustfit.xarray needs xarray: pip install './crates/trustfit-py[dask]' "
        "(or pip install xarray)"
    )

__all__ = ["curvefit"]

# scipy.optimize.curve_fit's and least_squares' options the batch takes (formula).
_BATCH_OPTIONS = ("ftol", "xtol", "gtol", "max_nfev", "loss", "f_scale", "x_scale",
                  "diff_step", "tr_solver", "jac")
# Options of the lock-step solver (vectorized Python function).
_LOCKSTEP_OPTIONS = ("ftol", "xtol", "gtol", "max_nfev", "jac")


def _get_func_args(func: Any, param_names: Optional[Sequence[str]]) -> tuple[list[Any], Any]:
    """xarray's rule: param_names, else the function's arguments after the first."""
    try:
        func_args: Any = inspect.signature(func).parameters
    except ValueError as err:
        func_args = {}
        if not param_names:
            raise ValueError(
                "Unable to inspect `func` signature, and `param_names` was not provided."
            ) from err
    if param_names:
        return list(param_names), func_args
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in func_args.values()):
        raise ValueError(
            "`param_names` must be provided because `func` takes variable length arguments.")
    return list(func_args)[1:], func_args


def _initialize_params(params: list[Any], p0: Mapping[Any, Any], bounds: Mapping[Any, Any],
                       func_args: Any) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """xarray's defaults: p0, else the function's default, else 1 (moved inside finite
    bounds as scipy moves it); bounds, else ±inf."""

    def feasible(lb: Any, ub: Any) -> Any:
        lb_finite, ub_finite = np.isfinite(lb), np.isfinite(ub)
        return xr.where(lb_finite, xr.where(ub_finite, 0.5 * (lb + ub), lb + 1),
                        xr.where(ub_finite, ub - 1, 0))

    starts: dict[Any, Any] = dict.fromkeys(params, 1)
    limits: dict[Any, Any] = dict.fromkeys(params, (-np.inf, np.inf))
    for p in params:
        if p in func_args and func_args[p].default is not func_args[p].empty:
            starts[p] = func_args[p].default
        if p in bounds:
            lb, ub = bounds[p]
            limits[p] = (lb, ub)
            starts[p] = xr.where((starts[p] < lb) | (starts[p] > ub), feasible(lb, ub),
                                 starts[p])
        if p in p0:
            starts[p] = p0[p]
    return starts, limits


def _is_dask_backed(obj: Any) -> bool:
    return getattr(obj, "chunks", None) is not None


def _first(value: Any) -> float:
    """One fit's value of a p0 entry (a scalar or a DataArray), without computing a
    Dask array (1.0 then)."""
    if isinstance(value, xr.DataArray):
        if _is_dask_backed(value):
            return 1.0
        return float(np.asarray(value.values).reshape(-1)[0])
    return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])


def _vectorizes(func: Any, x: Any, row: np.ndarray, m: int, shape: tuple[int, ...]) -> bool:
    """Whether func(x, *params) with (2, 1) parameters returns `shape` (2, M, …) rows equal
    to the per-fit calls (checked at two starts)."""
    rows = np.stack([row, row * (1 + 2.0 ** -7) + 2.0 ** -7])
    with np.errstate(all="ignore"):
        try:
            single = [np.asarray(func(x, *r), dtype=np.float64) for r in rows]
            vec = np.asarray(func(x, *[rows[:, [j]] for j in range(rows.shape[1])]),
                             dtype=np.float64)
        except Exception:
            return False
    if vec.shape != shape:
        return False
    return all(s.size == math.prod(shape[1:]) and np.allclose(
        v.reshape(-1), s.reshape(-1), rtol=1e-10, atol=0.0, equal_nan=True)
        for v, s in zip(vec, single))


class _Fitter:
    """How one block of fits is solved; pickled into the graph once."""

    def __init__(self, *, mode: str, func: Any, coord_names: list[str], n_coords: int,
                 n_core: int, params: list[Any], order: Optional[list[int]], skipna: bool,
                 errors: str, kwargs: dict[str, Any], options: dict[str, Any],
                 threads: Optional[int]) -> None:
        self.mode = mode            # "formula", "vectorized" or "perfit"
        self.func = func
        self.coord_names = coord_names
        self.n_coords = n_coords
        self.n_core = n_core        # the fit's dimensions, last in every array
        self.n = len(params)
        self.order = order          # formula: popt column of each of `params`
        self.skipna = skipna
        self.errors = errors
        self.kwargs = kwargs        # per-fit: for trustfit.curve_fit
        self.options = options      # batch: sigma, absolute_sigma, method, options
        self.threads = threads

    def __call__(self, y: Any, *args: Any) -> tuple[np.ndarray, np.ndarray]:
        nc, n, core_nd = self.n_coords, self.n, self.n_core
        y = np.asarray(y)
        coords = [np.asarray(c, dtype=np.float64) for c in args[:nc]]
        values = [np.asarray(v, dtype=np.float64) for v in args[nc:]]
        core = y.shape[y.ndim - core_nd:]
        lead = np.broadcast_shapes(y.shape[: y.ndim - core_nd],
                                   *[c.shape[: c.ndim - core_nd] for c in coords],
                                   *[v.shape for v in values])
        k, m = math.prod(lead), math.prod(core)
        yk = np.broadcast_to(y, lead + core).reshape(k, m).astype(np.float64, copy=False)
        starts, lbs, ubs = (
            np.stack([np.broadcast_to(v, lead).reshape(k) for v in values[i * n:(i + 1) * n]],
                     axis=1) if n else np.empty((k, 0))
            for i in range(3))
        if all(math.prod(c.shape[: c.ndim - core_nd]) == 1 for c in coords):
            xs: Optional[np.ndarray] = np.stack([c.reshape(m) for c in coords])
            xk = None
        else:  # coordinates that change from fit to fit
            xs = None
            xk = np.stack([np.broadcast_to(c, lead + core).reshape(k, m) for c in coords],
                          axis=1)
        popt = np.full((k, n), np.nan)
        pcov = np.full((k, n, n), np.nan)
        if self.mode == "perfit":
            self._per_fit(xs, xk, yk, starts, lbs, ubs, popt, pcov)
        else:
            self._batches(xs, xk, yk, starts, lbs, ubs, popt, pcov)
        return popt.reshape(lead + (n,)), pcov.reshape(lead + (n, n))

    def _per_fit(self, xs: Any, xk: Any, yk: np.ndarray, starts: np.ndarray, lbs: np.ndarray,
                 ubs: np.ndarray, popt: np.ndarray, pcov: np.ndarray) -> None:
        """xarray's loop, each fit by trustfit.curve_fit."""
        from .optimize import curve_fit

        for i in range(yk.shape[0]):
            x = xs if xk is None else xk[i]
            y = yk[i]
            if self.skipna:
                mask = np.all([np.any(~np.isnan(x), axis=0), ~np.isnan(y)], axis=0)
                x, y = x[:, mask], y[mask]
                if y.size == 0:
                    continue
            try:
                popt[i], pcov[i] = curve_fit(self.func, np.squeeze(x), y, p0=starts[i],
                                             bounds=(lbs[i], ubs[i]), **self.kwargs)
            except RuntimeError:
                if self.errors == "raise":
                    raise

    def _batches(self, xs: Any, xk: Any, yk: np.ndarray, starts: np.ndarray, lbs: np.ndarray,
                 ubs: np.ndarray, popt: np.ndarray, pcov: np.ndarray) -> None:
        """The batch fitter on the fits that share coordinates and bounds (all of them,
        unless either varies from fit to fit)."""
        k = yk.shape[0]
        keys = [lbs, ubs] if xk is None else [lbs, ubs, xk.reshape(k, -1)]
        key = np.concatenate(keys, axis=1)
        if k == 0 or (key == key[0]).all():
            groups = [np.arange(k)]
        else:
            _, inverse = np.unique(key, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            groups = [np.flatnonzero(inverse == g) for g in range(int(inverse.max()) + 1)]
        for idx in groups:
            whole = len(idx) == k
            x = xs if xk is None else xk[idx[0]]
            y = yk if whole else yk[idx]
            p0 = starts if whole else starts[idx]
            if k:
                p, c = self._batch(x, y, p0, lbs[idx[0]], ubs[idx[0]])
                if whole:
                    popt[:], pcov[:] = p, c
                else:
                    popt[idx], pcov[idx] = p, c

    def _batch(self, x: np.ndarray, y: np.ndarray, p0: np.ndarray, lb: np.ndarray,
               ub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        opts = dict(self.options)
        sigma = opts.pop("sigma", None)
        if self.skipna:
            keep = np.any(~np.isnan(x), axis=0)
            if not keep.all():
                x, y = x[:, keep], y[:, keep]
                if sigma is not None and np.ndim(sigma) == 1:
                    sigma = np.asarray(sigma)[keep]
        elif np.isnan(y).any() or np.isnan(x).any():
            raise ValueError("array must not contain infs or NaNs (skipna=False and the data "
                             "or coordinates hold NaN)")
        finite = np.count_nonzero(~np.isnan(y), axis=1)
        short = (finite > 0) & (finite < self.n)
        if short.any():
            raise TypeError(f"The number of func parameters={self.n} must not exceed the "
                            f"number of data points={int(finite[short][0])}")
        if self.mode == "formula":
            variables = dict(zip(self.coord_names, x))
            p0_formula = np.empty_like(p0)
            p0_formula[:, self.order] = p0
            lbf, ubf = np.empty_like(lb), np.empty_like(ub)
            lbf[self.order], ubf[self.order] = lb, ub
            res = _batch.curve_fit(self.func, variables, y, p0=p0_formula, sigma=sigma,
                                   bounds=(lbf, ubf), threads=self.threads, **opts)
            popt = res.popt[:, self.order]
            pcov = res.pcov[:, self.order][:, :, self.order]
        else:
            res = _batch.curve_fit(self.func, np.squeeze(x), y, p0=p0, sigma=sigma,
                                   bounds=(lb, ub), threads=self.threads, **opts)
            popt, pcov = res.popt, res.pcov
        status = res.status
        bad = (status == -3) & (np.asarray(res.error) != "non_finite")
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"a fit could not run ({res.error[i]}); first at row {i} of its "
                             "block")
        failed = ~res.success & (status != -3)
        if failed.any():
            if self.errors == "raise":
                i = int(np.flatnonzero(failed)[0])
                raise RuntimeError(
                    f"Optimal parameters not found: {int(failed.sum())} of {len(status)} fits "
                    f"of a block did not converge (first at row {i}: status {int(status[i])}, "
                    "0 = the maximum number of function evaluations was exceeded); "
                    "errors='ignore' gives them NaN")
            popt = popt.copy()
            pcov = pcov.copy()
            popt[failed] = np.nan
            pcov[failed] = np.nan
        return popt, pcov


def curvefit(
    obj: Any,
    coords: Any,
    func: Any,
    reduce_dims: Any = None,
    skipna: bool = True,
    p0: Optional[Mapping[Any, Any]] = None,
    bounds: Optional[Mapping[Any, Any]] = None,
    param_names: Optional[Sequence[Any]] = None,
    errors: str = "raise",
    kwargs: Optional[dict[str, Any]] = None,
    *,
    vectorized: Optional[bool] = None,
    threads: Optional[int] = None,
) -> Any:
    """``obj.curvefit(coords, func, ...)`` solved by trustfit: the same arguments (``obj``
    first) and the same Dataset out (see the module's documentation).

    ``func``: a formula string over the names of ``coords``, or a Python function
    ``func(x, *params)``. ``kwargs``: scipy ``curve_fit``'s options (``method``,
    ``ftol``, ``xtol``, ``gtol``, ``maxfev``/``max_nfev``, ``jac``, ``loss``, ``sigma``,
    ``absolute_sigma``, …). Beyond xarray: ``vectorized`` (None: check whether a Python
    ``func`` broadcasts; True: call it with (K, 1) parameters without checking; False:
    one fit at a time) and ``threads`` (the fitter's threads; default every core for
    numpy data, one per Dask task).

    >>> import numpy as np, xarray as xr, trustfit.xarray
    >>> t = np.linspace(0, 4, 20)
    >>> da = xr.DataArray(np.array([a * np.exp(-0.5 * t) for a in (1.0, 2.0)]),
    ...                   dims=("fit", "t"), coords={"t": t})
    >>> fit = trustfit.xarray.curvefit(da, "t", "a*exp(b*t)", p0={"b": -1.0})
    >>> fit.curvefit_coefficients.round(6).values.tolist(), fit.param.values.tolist()
    ([[1.0, -0.5], [2.0, -0.5]], ['a', 'b'])
    >>> def decay(t, a, b):
    ...     return a * np.exp(b * t)
    >>> fit = trustfit.xarray.curvefit(da, "t", decay, p0={"b": -1.0})
    >>> fit.curvefit_coefficients.round(6).values.tolist()
    [[1.0, -0.5], [2.0, -0.5]]
    """
    if p0 is None:
        p0 = {}
    if bounds is None:
        bounds = {}
    if kwargs is None:
        kwargs = {}
    this: Any = None  # the name of a DataArray's variable in its temporary Dataset
    if isinstance(obj, xr.DataArray):
        from xarray.core.dataarray import _THIS_ARRAY
        ds, this = obj._to_temp_dataset(), _THIS_ARRAY
    elif isinstance(obj, xr.Dataset):
        ds = obj
    else:
        raise TypeError(f"`obj` must be an xarray DataArray or Dataset, got "
                        f"{type(obj).__name__}")

    reduce_dims_: list[Hashable]
    if not reduce_dims:
        reduce_dims_ = []
    elif isinstance(reduce_dims, str) or not isinstance(reduce_dims, Iterable):
        reduce_dims_ = [reduce_dims]
    else:
        reduce_dims_ = list(reduce_dims)
    if isinstance(coords, (str, xr.DataArray)) or not isinstance(coords, Iterable):
        coords = [coords]
    coords_ = [ds[c] if isinstance(c, str) else c for c in coords]
    for coord in coords_:
        reduce_dims_ += [c for c in ds.dims if coord.equals(ds[c])]
    reduce_dims_ = list(dict.fromkeys(reduce_dims_))
    preserved_dims = [d for d in ds.dims if d not in reduce_dims_]
    if not reduce_dims_:
        raise ValueError(
            "No arguments to `coords` were identified as a dimension on the calling "
            "object, and no dims were supplied to `reduce_dims`. This would result "
            "in fitting on scalar data.")
    for param, guess in p0.items():
        if isinstance(guess, xr.DataArray):
            unexpected = set(guess.dims) - set(preserved_dims)
            if unexpected:
                raise ValueError(
                    f"Initial guess for '{param}' has unexpected dimensions "
                    f"{tuple(unexpected)}. It should only have dimensions that are in data "
                    f"dimensions {preserved_dims}.")
    for param, (lb, ub) in bounds.items():
        for label, bound in zip(("Lower", "Upper"), (lb, ub)):
            if isinstance(bound, xr.DataArray):
                unexpected = set(bound.dims) - set(preserved_dims)
                if unexpected:
                    raise ValueError(
                        f"{label} bound for '{param}' has unexpected dimensions "
                        f"{tuple(unexpected)}. It should only have dimensions that are in "
                        f"data dimensions {preserved_dims}.")
    if errors not in ("raise", "ignore"):
        raise ValueError('errors must be either "raise" or "ignore"')
    if vectorized not in (None, True, False):
        raise ValueError(f"`vectorized` must be None, True or False, got {vectorized!r}")
    if threads is not None:
        _batch._positive_int(threads, "threads")

    coords_ = list(xr.broadcast(*coords_))
    coords_ = [c.broadcast_like(ds, exclude=preserved_dims) for c in coords_]
    n_coords = len(coords_)
    core_sizes = {d: ds.sizes[d] if d in ds.dims else coords_[0].sizes[d]
                  for d in reduce_dims_}
    m = math.prod(core_sizes.values())
    lazy = any(_is_dask_backed(v) for v in ds.data_vars.values())

    order: Optional[list[int]] = None
    coord_names: list[str] = []
    if isinstance(func, str):
        coord_names = [str(c.name) for c in coords_]
        if any(c.name is None for c in coords_) or len(set(coord_names)) != n_coords:
            raise ValueError("a formula's variables are the coordinates' names: every "
                             f"coordinate needs a distinct name, got {coord_names}")
        formula_params, _ = _trustfit.formula_symbols(func, coord_names)
        if not formula_params:
            raise ValueError(f"the formula {func!r} has no parameters (its identifiers are "
                             f"all coordinates: {coord_names})")
        if param_names:
            params = list(param_names)
            if sorted(map(str, params)) != sorted(formula_params) or len(params) != len(
                    formula_params):
                raise ValueError(f"`param_names` {params} must name the formula's parameters "
                                 f"{formula_params}")
            order = [formula_params.index(str(p)) for p in params]
        else:
            params = list(formula_params)
            order = list(range(len(params)))
        func_args: Any = {}
        mode = "formula"
    elif callable(func):
        params, func_args = _get_func_args(func, param_names)
        mode = "perfit" if vectorized is False else "vectorized"
    else:
        raise TypeError(f"`func` must be a formula string or a callable, got "
                        f"{type(func).__name__}")
    starts, limits = _initialize_params(params, p0, bounds, func_args)
    n = len(params)

    bounded = any(np.any(np.isfinite(np.asarray(b, dtype=float)))
                  for pair in limits.values() for b in pair)
    options, per_fit_only = _batch_options(kwargs, mode, bounded)
    if mode == "formula" and per_fit_only:
        raise TypeError(f"curvefit() with a formula got option(s) the batch fitter does not "
                        f"take: {', '.join(per_fit_only)}")
    if mode == "vectorized" and per_fit_only:
        if vectorized:
            raise ValueError(f"vectorized=True, but the option(s) {', '.join(per_fit_only)} "
                             "need scipy's per-fit solvers")
        mode = "perfit"
    if mode == "vectorized" and vectorized is None:
        x_probe = _probe_x(coords_, preserved_dims, m)
        row = np.array([_first(starts[p]) for p in params], dtype=np.float64)
        if not _vectorizes(func, x_probe, row, m, (2, m)):
            mode = "perfit"
        elif callable(options.get("jac")) and not _vectorizes(options["jac"], x_probe, row, m,
                                                              (2, m, n)):
            options["jac"] = "2-point"
    if mode != "perfit":
        # Every check of the batch on no fits: bad options raise here, before any task.
        shared = [b for pair in limits.values() for b in pair]
        fixed = None if any(isinstance(b, xr.DataArray) for b in shared) else (
            [float(b[0]) for b in limits.values()], [float(b[1]) for b in limits.values()])
        _dry_run(func, mode, coord_names, n_coords, m, n, options, threads, fixed, order)

    if lazy:
        for name, var in ds.data_vars.items():
            chunks = var.chunksizes if _is_dask_backed(var) else {}
            split = [d for d in reduce_dims_ if d in chunks and len(chunks[d]) > 1]
            if split:
                label = "the DataArray" if name is this else f"variable {name!r}"
                raise ValueError(
                    f"{label} is split into chunks along {split}, the dimension(s) of one "
                    "fit; every chunk must hold whole fits: rechunk with "
                    f"obj.chunk({{{', '.join(repr(d) + ': -1' for d in split)}}}) and chunk "
                    f"the other dimensions ({preserved_dims}) only")
        check_picklable({"`func`": None if isinstance(func, str) else func,
                         "`jac`": kwargs.get("jac"), "`loss`": kwargs.get("loss")})

    fitter = _Fitter(mode=mode, func=func, coord_names=coord_names, n_coords=n_coords,
                     n_core=len(reduce_dims_), params=params, order=order, skipna=skipna,
                     errors=errors, kwargs=kwargs, options=options,
                     threads=task_threads(threads) if lazy else threads)
    result = type(ds)()
    for name, da in ds.data_vars.items():
        var_name = "" if name is this else f"{name}_"
        # The fit's points in the order of the variable's dimensions (xarray's order
        # comes from a set and so may change from one run to the next).
        core = ([d for d in da.dims if d in reduce_dims_]
                + [d for d in reduce_dims_ if d not in da.dims])
        input_core_dims = [core for _ in range(n_coords + 1)]
        input_core_dims.extend([[] for _ in range(3 * n)])
        values = [*starts.values(), *[b[0] for b in limits.values()],
                  *[b[1] for b in limits.values()]]
        if _is_dask_backed(da):
            # p0 and bounds chunked as the data, so that each data chunk is one task
            sizes = da.chunksizes
            values = [v.chunk({d: sizes[d] for d in v.dims if d in sizes})
                      if isinstance(v, xr.DataArray) else v for v in values]
        popt, pcov = xr.apply_ufunc(
            fitter, da, *coords_, *values,
            vectorize=False, dask="parallelized", input_core_dims=input_core_dims,
            output_core_dims=[["param"], ["cov_i", "cov_j"]],
            dask_gufunc_kwargs={"output_sizes": {"param": n, "cov_i": n, "cov_j": n}},
            output_dtypes=(np.float64, np.float64), exclude_dims=set(reduce_dims_))
        result[var_name + "curvefit_coefficients"] = popt
        result[var_name + "curvefit_covariance"] = pcov
    result = result.assign_coords({"param": params, "cov_i": params, "cov_j": params})
    result.attrs = ds.attrs.copy()
    return result


def _batch_options(kwargs: dict[str, Any], mode: str,
                   bounded: bool) -> tuple[dict[str, Any], list[str]]:
    """scipy curve_fit's kwargs as the batch's options, and those it cannot take.
    `bounded`: some bound is finite (scipy then fits by 'trf' unless told otherwise)."""
    opts = dict(kwargs)
    out: dict[str, Any] = {}
    for key in ("sigma", "absolute_sigma", "method"):
        if key in opts:
            out[key] = opts.pop(key)
    if out.get("method") == "lm" and bounded:
        raise ValueError("Method 'lm' only works for unconstrained problems. Use 'trf' or "
                         "'dogbox' instead.")
    if "maxfev" in opts:
        maxfev = opts.pop("maxfev")
        by_leastsq = out.get("method", "trf" if bounded else "lm") == "lm"
        if by_leastsq and isinstance(maxfev, int) and maxfev <= 0:
            maxfev = None  # leastsq's maxfev ≤ 0: MINPACK's default count
        out["max_nfev"] = maxfev
    allowed = _BATCH_OPTIONS if mode == "formula" else _LOCKSTEP_OPTIONS
    for key in list(opts):
        if key in allowed:
            out[key] = opts.pop(key)
    if mode == "formula" and "block" in opts:
        out["block"] = opts.pop("block")
    rejected = sorted(opts)
    sigma = out.get("sigma")
    if sigma is not None and np.ndim(sigma) > 1:
        rejected.append("sigma (a covariance matrix)")
    if mode == "formula":
        if callable(out.get("jac")):
            del out["jac"]  # the formula's exact derivatives instead
    else:
        method = out.pop("method", None)
        if method not in (None, "lm", "trf", "lockstep"):
            rejected.append(f"method={method!r}")
        if out.get("jac") not in (None, "2-point") and not callable(out.get("jac")):
            rejected.append(f"jac={out['jac']!r}")
        out["method"] = "lockstep"
    return out, rejected


def _probe_x(coords_: list[Any], preserved_dims: list[Any], m: int) -> np.ndarray:
    """The first fit's coordinates as xarray hands them to func (stacked, squeezed, the
    points where every coordinate is NaN left out)."""
    rows = []
    for c in coords_:
        first = c.isel({d: 0 for d in preserved_dims if d in c.dims})
        rows.append(np.asarray(first.values, dtype=np.float64).reshape(m))
    x = np.stack(rows)
    return np.squeeze(x[:, np.any(~np.isnan(x), axis=0)])


def _dry_run(func: Any, mode: str, coord_names: list[str], n_coords: int, m: int, n: int,
             options: dict[str, Any], threads: Optional[int], bounds: Any,
             order: Optional[list[int]]) -> None:
    """Every check of the batch on no fits (options, method with bounds, the formula)."""
    opts = dict(options)
    if bounds is not None:
        lb, ub = np.asarray(bounds[0]), np.asarray(bounds[1])
        if order is not None:
            lb, ub = lb[np.argsort(order)], ub[np.argsort(order)]
        opts["bounds"] = (lb, ub)
    sigma = opts.pop("sigma", None)
    if mode == "formula":
        x: Any = {name: np.zeros(m) for name in coord_names}
    else:
        x = np.squeeze(np.zeros((n_coords, m)))
    _batch.curve_fit(func, x, np.empty((0, m)), p0=np.ones(n), sigma=sigma, threads=threads,
                     **opts)

