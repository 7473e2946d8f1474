"""Batch ``curve_fit`` on Dask arrays: ``trustfit.dask.curve_fit``.

``ydata`` is a Dask (or numpy) array whose leading axis or axes index the fits and whose
last ``data_ndim`` axes (default 1) hold one fit's M points. The result is lazy: Dask
arrays ``popt``, ``pcov``, ``status``, … with one task per chunk, each task running
:func:`trustfit.batch.curve_fit` on its chunk's rows, so the answers are those of the
in-process batch bit for bit, whatever the chunking and wherever the tasks run (threads,
processes, a ``distributed`` cluster). A worker lost in the middle costs only its tasks:
Dask reruns them elsewhere and gets the same numbers.

Needs the extras: ``pip install './crates/trustfit-py[dask]'`` (dask[distributed],
xarray); ``import trustfit`` does not import this module.

Chunks hold whole fits: every data axis must be one chunk (checked before any task runs);
chunk along the fit axes only. Tasks run the fitter on one thread each (``threads=`` to
change it) and Dask runs one task per worker thread, so give every worker thread 5–10
chunks of a few tenths of a second of fitting each (5·10⁴ fits of 25 points and 5
parameters take about 0.25 s): smaller chunks pay Dask's per-task cost (9 tasks per
chunk, about a millisecond each) and a numpy model's per-call cost more often; fewer,
larger ones leave a worker idle at the end while another finishes its last chunk.
Results kept on the workers (:meth:`DaskBatchFit.persist`) cost nothing to move;
gathering them all into one process moves ~280 bytes per 5-parameter fit, mostly
``pcov``: compute only the arrays you need.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Optional

import numpy as np

from . import batch as _batch
from ._cluster import check_picklable, task_threads

try:
    import dask
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph
except ImportError:  # pragma: no cover - only without the extras
    raise ImportError(
        "trustfit.dask needs Dask: pip install './crates/trustfit-py[dask]' "
        "(or pip install 'dask[distributed]' xarray)"
    )

__all__ = ["curve_fit", "DaskBatchFit", "DEFAULT_CHUNK_FITS"]

#: Fits per chunk when ``ydata`` is a numpy array and ``chunks`` is not given.
DEFAULT_CHUNK_FITS = 50_000


class DaskBatchFit:
    """The lazy results of :func:`curve_fit`: Dask arrays with the fit axes of ``ydata``
    first — ``popt`` (…, n), ``pcov`` (…, n, n), ``perr`` (…, n), ``status``,
    ``success``, ``nfev``, ``njev``, ``cost`` and ``error`` (object array of strings:
    why a fit could not run, or "") — and ``param_names``. All of them come from the
    same tasks: compute them together (:meth:`compute`, or ``dask.compute(fit.popt,
    fit.pcov)``) so that each chunk is fitted once.
    """

    def __init__(self, arrays: tuple[Any, ...], param_names: list[str]) -> None:
        (self.popt, self.pcov, self.status, self.success, self.nfev, self.njev,
         self.cost, self.error) = arrays
        self.param_names: list[str] = list(param_names)

    @property
    def perr(self) -> Any:
        """√diag(pcov), lazily."""
        return da.sqrt(da.diagonal(self.pcov, axis1=-2, axis2=-1))

    @property
    def fit_shape(self) -> tuple[int, ...]:
        return tuple(self.status.shape)

    def _arrays(self) -> tuple[Any, ...]:
        return (self.popt, self.pcov, self.status, self.success, self.nfev, self.njev,
                self.cost, self.error)

    def compute(self, **kwargs: Any) -> _batch.BatchFit:
        """Computes every array in one pass (``kwargs`` go to ``dask.compute``) and
        returns a :class:`trustfit.batch.BatchFit` whose arrays keep the fit axes."""
        popt, pcov, status, success, nfev, njev, cost, error = dask.compute(
            *self._arrays(), **kwargs)
        return _batch.BatchFit({
            "popt": popt, "pcov": pcov, "status": status, "success": success,
            "nfev": nfev, "njev": njev, "cost": cost, "error": np.asarray(error).tolist(),
            "param_names": self.param_names,
        })

    def persist(self, **kwargs: Any) -> "DaskBatchFit":
        """The same results persisted (``dask.persist``): on a distributed cluster they
        stay in the workers' memory."""
        return DaskBatchFit(dask.persist(*self._arrays(), **kwargs), self.param_names)

    def __repr__(self) -> str:
        chunks = self.status.numblocks
        return (f"DaskBatchFit({'×'.join(map(str, self.fit_shape)) or '1'} fits in "
                f"{math.prod(chunks)} chunks, parameters {', '.join(self.param_names)})")


def _type_name(obj: Any) -> str:
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def _is_dask(a: Any) -> bool:
    return isinstance(a, da.Array)


def _check_array(a: Any, what: str) -> None:
    """Only numpy ndarrays and Dask arrays of numpy chunks, of real numbers."""
    if _is_dask(a):
        if type(a._meta) is not np.ndarray:
            raise TypeError(f"`{what}` is a Dask array of {_type_name(a._meta)} chunks; "
                            "trustfit.dask fits Dask arrays of numpy chunks")
    elif type(a) is not np.ndarray:
        hint = ""
        if type(a).__module__.startswith("xarray"):
            hint = " (for xarray objects use trustfit.xarray.curvefit)"
        elif isinstance(a, (list, tuple)):
            hint = " (convert it with numpy.asarray first)"
        raise TypeError(
            f"`{what}` must be a dask.array.Array or a numpy.ndarray, got {_type_name(a)}{hint}")
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"`{what}` must hold real numbers, got dtype {a.dtype}")
    if any(math.isnan(s) for s in a.shape):
        raise ValueError(f"`{what}` has unknown chunk sizes {a.shape}; call "
                         "compute_chunk_sizes() first")


def _fit_chunks(chunks: Any, fit_shape: tuple[int, ...], data_ndim: int) -> tuple[Any, ...]:
    """``chunks`` for the fit axes (an int, "auto", a tuple per fit axis or a dict) as a
    full chunks spec with every data axis whole."""
    nfit = len(fit_shape)
    if chunks is None:  # numpy input: DEFAULT_CHUNK_FITS fits per chunk along axis 0
        inner = math.prod(fit_shape[1:])
        spec: list[Any] = [max(1, DEFAULT_CHUNK_FITS // max(1, inner))] + [-1] * (nfit - 1)
    elif isinstance(chunks, dict):
        bad = [ax for ax in chunks if not (-nfit - data_ndim <= ax < nfit)
               or ax % (nfit + data_ndim) >= nfit]
        if bad:
            raise ValueError(f"`chunks` may chunk the fit axes 0..{nfit - 1} only, got axes "
                             f"{bad}: the data axes stay whole")
        spec = [chunks.get(ax, chunks.get(ax - nfit - data_ndim, -1)) for ax in range(nfit)]
    elif isinstance(chunks, (int, str)):
        spec = [chunks] + [-1] * (nfit - 1)
    else:
        spec = list(chunks)
        if len(spec) != nfit:
            raise ValueError(f"`chunks` must give the chunks of the {nfit} fit axes only "
                             f"(the data axes stay whole), got {chunks!r}")
    return tuple(spec) + (-1,) * data_ndim


def _flat_xdata(xdata: Any, data_shape: tuple[int, ...]) -> Any:
    """Variables of the data axes' shape flattened to M points (C order, as ydata's)."""
    if len(data_shape) == 1:
        return xdata
    if isinstance(xdata, dict):
        return {k: (np.asarray(v, np.float64).reshape(-1) if np.shape(v) == data_shape else v)
                for k, v in xdata.items()}
    try:
        x = np.asarray(xdata, dtype=np.float64)
    except (TypeError, ValueError):
        return xdata
    if x.shape == data_shape:
        return x.reshape(-1)
    if x.shape[1:] == data_shape:
        return x.reshape(x.shape[0], -1)
    return xdata


def _per_fit(value: Any, fit_shape: tuple[int, ...], width_shape: tuple[int, ...],
             what: str, fit_chunks: tuple[Any, ...]) -> tuple[Any, bool]:
    """``value`` of shape width_shape (shared by every fit; returned as numpy) or
    fit_shape + width_shape (one per fit; returned as a Dask array chunked as ydata's fit
    axes, and True)."""
    if _is_dask(value) or isinstance(value, np.ndarray):
        _check_array(value, what)
    if _is_dask(value) and value.shape == width_shape:
        value = value.compute()  # a few numbers shared by every fit
    shape = tuple(np.shape(value))
    if shape == width_shape or (what == "sigma" and shape == ()):
        return np.asarray(value, dtype=np.float64), False
    if shape == fit_shape + width_shape:
        chunks = fit_chunks + tuple((s,) for s in width_shape)
        if _is_dask(value):
            return value.rechunk(chunks), True
        return da.from_array(np.asarray(value, dtype=np.float64), chunks=chunks), True
    full = fit_shape + width_shape
    raise ValueError(f"`{what}` must have shape {width_shape} (every fit) or {full} (one per "
                     f"fit), got {shape}")


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
    data_ndim: int = 1,
    chunks: Any = None,
    **kwargs: Any,
) -> DaskBatchFit:
    """:func:`trustfit.batch.curve_fit` over a Dask array of fits, lazily, one task per
    chunk.

    ``ydata``: a Dask array (or a numpy array, split into chunks of ``chunks`` fits,
    default :data:`DEFAULT_CHUNK_FITS`) of shape (*fit axes, *data axes) with
    ``data_ndim`` data axes (M points per fit, flattened in C order); each data axis must
    be a single chunk. ``f``: a formula string or a vectorized, picklable Python function
    (as for the in-process batch; ``xdata`` variables may have the data axes' shape).
    ``p0``: (n,) or (*fit axes, n); ``sigma``: (M,) / data axes' shape, or one per fit;
    both numpy or Dask. ``bounds``, ``method``, ``absolute_sigma`` and ``kwargs`` as in
    the in-process batch. ``chunks``: rechunk the fit axes (an int or "auto" for axis 0,
    a tuple per fit axis, or a dict). ``threads``: fitter threads per task (default 1).

    Every check (array types, shapes, chunking, options, the model's formula, that a
    Python model can be pickled when a ``distributed`` client is current) is made here,
    before any task runs. A model that raises in a task makes the computation raise that
    exception; no partial result is returned.

    >>> import numpy as np, dask.array as da, trustfit.dask
    >>> t = np.linspace(0, 4, 20)
    >>> y = da.from_array(np.array([a * np.exp(-0.5 * t) for a in (1.0, 2.0, 3.0, 4.0)]),
    ...                   chunks=(2, 20))
    >>> fit = trustfit.dask.curve_fit("a*exp(b*x)", t, y, p0=[1.0, -1.0])
    >>> fit
    DaskBatchFit(4 fits in 2 chunks, parameters a, b)
    >>> np.round(fit.popt[:, 0].compute(scheduler="sync"), 6).tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    if isinstance(data_ndim, bool) or int(data_ndim) != data_ndim or data_ndim < 1:
        raise ValueError(f"`data_ndim` must be a positive integer, got {data_ndim!r}")
    data_ndim = int(data_ndim)
    _check_array(ydata, "ydata")
    if ydata.ndim < data_ndim + 1:
        raise ValueError(f"`ydata` needs at least one fit axis before its {data_ndim} data "
                         f"axis(es), got shape {ydata.shape}")
    fit_shape = tuple(int(s) for s in ydata.shape[:-data_ndim])
    data_shape = tuple(int(s) for s in ydata.shape[-data_ndim:])
    m = math.prod(data_shape)
    if _is_dask(ydata):
        y = ydata if chunks is None else ydata.rechunk(_fit_chunks(chunks, fit_shape, data_ndim))
    else:
        y = da.from_array(ydata, chunks=_fit_chunks(chunks, fit_shape, data_ndim))
    for ax in range(len(fit_shape), y.ndim):
        if len(y.chunks[ax]) > 1:
            raise ValueError(
                f"`ydata` is split into {len(y.chunks[ax])} chunks along data axis {ax} "
                f"(chunks {y.chunks[ax]}), but every chunk must hold whole fits: chunk the "
                f"fit axes only, e.g. ydata.rechunk({{{ax}: -1}}) or chunks= here")
    fit_chunks = tuple(y.chunks[: len(fit_shape)])

    if isinstance(f, str):
        n = None
    elif not callable(f):
        raise TypeError(f"the model must be a formula string or a callable, got {_type_name(f)}")
    elif p0 is not None and _is_dask(p0):
        n = int(p0.shape[-1]) if p0.ndim else 1
    else:
        n = _batch._param_count(f, p0)[0]
    x = _flat_xdata(xdata, data_shape)
    if n is None:  # a formula: its parameters from the variables offered
        names, _ = _batch._variables(x, m)
        params, _ = _batch._trustfit.formula_symbols(f, names)
        n = len(params)
    start, p0_per_fit = _per_fit(np.ones(n) if p0 is None else p0, fit_shape, (n,), "p0",
                                 fit_chunks)
    if sigma is None:
        sig, sigma_per_fit = None, False
    else:
        sig, sigma_per_fit = _per_fit(sigma, fit_shape, data_shape, "sigma", fit_chunks)
        if not sigma_per_fit:
            sig = np.ascontiguousarray(np.broadcast_to(sig, data_shape).reshape(m))

    # Every argument check of the batch, on no fits: a bad option, bound, method or
    # formula raises here, before any task exists.
    dry = _batch.curve_fit(
        f, x, np.empty((0, m)),
        p0=np.ones(n) if p0_per_fit else start,
        sigma=np.ones(m) if sigma_per_fit else sig,
        absolute_sigma=absolute_sigma, bounds=bounds, method=method,
        threads=threads, **kwargs)
    check_picklable({"the model": f, "`jac`": kwargs.get("jac"),
                     "`loss`": kwargs.get("loss")})

    spec = _Spec(f, x, None if p0_per_fit else start, None if sigma_per_fit else sig,
                 bool(absolute_sigma), bounds, method, threads, dict(kwargs), n, m,
                 data_ndim, p0_per_fit, sigma_per_fit)
    inputs = [y] + ([start] if p0_per_fit else []) + ([sig] if sigma_per_fit else [])
    outs = _graph(spec, inputs, fit_chunks, n)
    return DaskBatchFit(outs, dry.param_names)


# The outputs of a task: name, trailing (core) shape per fit, dtype.
_OUTPUTS: tuple[tuple[str, int, Any], ...] = (("popt", 1, np.float64), ("pcov", 2, np.float64), ("status", 0, np.int32),
            ("success", 0, np.bool_), ("nfev", 0, np.int64), ("njev", 0, np.int64),
            ("cost", 0, np.float64), ("error", 0, object))


def _graph(spec: "_Spec", inputs: list[Any], fit_chunks: tuple[Any, ...],
           n: int) -> tuple[Any, ...]:
    """One task per chunk of the fit axes (the batch on that chunk's fits, returning every
    output) and, per output, one getitem per chunk: lazy arrays sharing the fit tasks."""
    token = tokenize(*inputs, spec.f, spec.xdata, spec.p0, spec.sigma, spec.absolute_sigma,
                     spec.bounds, spec.method, spec.threads, spec.kwargs, spec.data_ndim)
    fit_name = f"trustfit-fit-{token}"
    fit_layer: dict[Any, Any] = {}
    for idx in np.ndindex(*(len(c) for c in fit_chunks)):
        args = [(a.name,) + idx + (0,) * (a.ndim - len(idx)) for a in inputs]
        fit_layer[(fit_name,) + idx] = (_fit_block, spec, *args)
    fits = HighLevelGraph.from_collections(fit_name, fit_layer, dependencies=inputs)
    outs = []
    for j, (label, core_ndim, dtype) in enumerate(_OUTPUTS):
        name = f"trustfit-{label}-{token}"
        layer: dict[Any, Any] = {(name,) + idx + (0,) * core_ndim: (operator.getitem, (fit_name,) + idx, j)
                 for idx in np.ndindex(*(len(c) for c in fit_chunks))}
        graph = HighLevelGraph({**fits.layers, name: layer},
                               {**fits.dependencies, name: {fit_name}})
        chunks = fit_chunks + ((n,),) * core_ndim
        outs.append(da.Array(graph, name, chunks, meta=np.empty((0,) * len(chunks), dtype)))
    return tuple(outs)


class _Spec:
    """What every task needs besides its chunk (pickled into the graph once)."""

    def __init__(self, f: Any, xdata: Any, p0: Any, sigma: Any, absolute_sigma: bool,
                 bounds: Any, method: Optional[str], threads: Optional[int],
                 kwargs: dict[str, Any], n: int, m: int, data_ndim: int, p0_per_fit: bool,
                 sigma_per_fit: bool) -> None:
        self.f, self.xdata, self.p0, self.sigma = f, xdata, p0, sigma
        self.absolute_sigma, self.bounds, self.method = absolute_sigma, bounds, method
        self.threads, self.kwargs, self.n, self.m = threads, kwargs, n, m
        self.data_ndim = data_ndim
        self.p0_per_fit, self.sigma_per_fit = p0_per_fit, sigma_per_fit


def _fit_block(spec: _Spec, y: np.ndarray, *rest: np.ndarray) -> tuple[np.ndarray, ...]:
    """One task: the in-process batch on a chunk's fits, outputs in the chunk's shape."""
    n, m = spec.n, spec.m
    lead = y.shape[: y.ndim - spec.data_ndim]
    k = math.prod(lead)
    it = iter(rest)
    p0 = next(it).reshape(k, n) if spec.p0_per_fit else spec.p0
    sigma = next(it).reshape(k, m) if spec.sigma_per_fit else spec.sigma
    res = _batch.curve_fit(
        spec.f, spec.xdata, np.ascontiguousarray(y, dtype=np.float64).reshape(k, m),
        p0=p0, sigma=sigma, absolute_sigma=spec.absolute_sigma, bounds=spec.bounds,
        method=spec.method, threads=task_threads(spec.threads), **spec.kwargs)
    error = np.empty(k, dtype=object)
    error[:] = res.error
    return (res.popt.reshape(lead + (n,)), res.pcov.reshape(lead + (n, n)),
            res.status.reshape(lead), res.success.reshape(lead), res.nfev.reshape(lead),
            res.njev.reshape(lead), res.cost.reshape(lead), error.reshape(lead))

