"""trustfit.dask and trustfit.xarray on a real Dask cluster: distributed.LocalCluster with
two worker processes on 127.0.0.1, started here and closed at the end (no mocks).

The results equal trustfit's in-process batch bit for bit (formula and vectorized Python
models, numpy- and Dask-backed, whatever the chunking); trustfit.xarray.curvefit returns
xarray's Dataset and agrees with xarray's scipy curvefit; a worker killed in the middle
of 10^5 fits loses nothing; a model's exception reaches the client once, unchanged; bad
input raises before any task runs. Skipped, with the reason, without dask/xarray (the
extras: pip install './crates/trustfit-py[dask]'; tools/test-python.sh installs them)."""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

EXTRAS = "pip install './crates/trustfit-py[dask]'"
dask = pytest.importorskip("dask", reason=f"dask not installed ({EXTRAS})")
distributed = pytest.importorskip("distributed", reason=f"distributed not installed ({EXTRAS})")
xr = pytest.importorskip("xarray", reason=f"xarray not installed ({EXTRAS})")

import cloudpickle  # noqa: E402  (comes with distributed)
import dask.array as da  # noqa: E402

import trustfit  # noqa: E402
import trustfit.batch  # noqa: E402
import trustfit.dask  # noqa: E402
import trustfit.xarray  # noqa: E402

import test_batch_lockstep  # noqa: E402
from test_batch_lockstep import TIGHT, XS, XY, YS, vgauss, vgauss_jac  # noqa: E402, F401

# The workers cannot import the test modules: their models travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])
cloudpickle.register_pickle_by_value(test_batch_lockstep)

GAUSS = "A*exp(-((x-x0)^2+(y-y0)^2)/(2*w^2)) + b"
NAMES = ["A", "x0", "y0", "w", "b"]


def workload(k, seed=11):
    """K noisy 2-D Gaussians on 5x5 pixels (the batch suite's distributions), vectorized."""
    rng = np.random.default_rng(seed)
    truth = np.array([500.0, 2.0, 2.0, 1.0, 10.0]) * (0.9 + 0.2 * rng.random((k, 5)))
    data = vgauss(XY, *truth.T[:, :, None]) + rng.normal(0.0, 17.0, (k, 25))
    p0 = truth * (0.9 + 0.2 * rng.random((k, 5)))
    return data, p0


def as_dataarray(data, p0):
    """(fit, y, x) images with coordinates, and xarray p0 per fit."""
    k = data.shape[0]
    arr = xr.DataArray(data.reshape(k, 5, 5), dims=("fit", "y", "x"),
                       coords={"fit": np.arange(k), "y": np.arange(5.0), "x": np.arange(5.0)},
                       attrs={"units": "photons"})
    guess = {name: xr.DataArray(p0[:, j], dims=("fit",)) for j, name in enumerate(NAMES)}
    return arr, guess


FIELDS = ("popt", "pcov", "status", "success", "nfev", "njev", "cost")


def assert_identical_fits(a, b):
    for name in FIELDS:
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert x.shape == y.shape and np.array_equal(x, y, equal_nan=True), name
    assert list(a.error) == list(b.error) and a.param_names == b.param_names


def scheduler_task_count(client):
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def wait_for_no_tasks(client, timeout=10.0):
    """Until the scheduler holds no task (earlier tests' results are released
    asynchronously)."""
    deadline = time.monotonic() + timeout
    while scheduler_task_count(client) and time.monotonic() < deadline:
        time.sleep(0.05)
    return scheduler_task_count(client)


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, on 127.0.0.1; closed after the module."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=":0",
                                       silence_logs=logging.CRITICAL)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


# ---------------------------------------------------------------------------------------
# trustfit.dask: the in-process batch, bit for bit


@pytest.mark.parametrize("model", ["formula-lm", "formula-lockstep", "numpy", "numpy+jac"])
def test_dask_equals_the_in_process_batch(client, model):
    data, p0 = workload(3000)
    if model.startswith("formula"):
        f, x, kw = GAUSS, {"x": XS, "y": YS}, {"method": model.split("-")[1]}
    else:
        f, x, kw = vgauss, XY, ({"jac": vgauss_jac} if model == "numpy+jac" else {})
    ref = trustfit.batch.curve_fit(f, x, data, p0=p0, **kw)
    y = da.from_array(data, chunks=(700, 25))  # uneven chunks; p0 chunked otherwise
    fit = trustfit.dask.curve_fit(f, x, y, p0=da.from_array(p0, chunks=(1000, 5)), **kw)
    assert fit.popt.numblocks == (5, 1) and fit.param_names == NAMES
    assert_identical_fits(fit.compute(), ref)
    # and whatever the chunking
    fit = trustfit.dask.curve_fit(f, x, data, p0=p0, chunks=256, **kw)
    assert fit.popt.numblocks == (12, 1)
    assert_identical_fits(fit.compute(), ref)


def test_dask_fit_axes_images_and_per_fit_sigma(client):
    data, p0 = workload(1200)
    sigma = 10.0 + np.random.default_rng(1).random((1200, 25))
    ref = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data, p0=p0, sigma=sigma,
                                   absolute_sigma=True)
    grid = {"x": XS.reshape(5, 5), "y": YS.reshape(5, 5)}
    y = da.from_array(data.reshape(3, 400, 5, 5), chunks=(1, 150, 5, 5))
    fit = trustfit.dask.curve_fit(GAUSS, grid, y, p0=p0.reshape(3, 400, 5),
                                  sigma=da.from_array(sigma.reshape(3, 400, 5, 5)),
                                  absolute_sigma=True, data_ndim=2)
    assert fit.popt.shape == (3, 400, 5) and fit.pcov.shape == (3, 400, 5, 5)
    got = fit.compute()
    for name in FIELDS:
        a = np.asarray(getattr(got, name))
        assert np.array_equal(a.reshape((1200,) + a.shape[2:]), getattr(ref, name)), name
    np.testing.assert_array_equal(fit.perr.compute().reshape(1200, 5), ref.perr)


# ---------------------------------------------------------------------------------------
# trustfit.xarray.curvefit: xarray's Dataset, the batch's numbers, scipy's answers


def batch_reference(func, data, p0, **kw):
    if isinstance(func, str):
        return trustfit.batch.curve_fit(func, {"x": XS, "y": YS}, data, p0=p0, **kw)
    return trustfit.batch.curve_fit(func, XY, data, p0=p0, method="lockstep", **kw)


@pytest.mark.parametrize("func", [GAUSS, vgauss], ids=["formula", "callable"])
@pytest.mark.parametrize("backing", ["numpy", "dask"])
def test_xarray_curvefit_equals_the_batch_and_xarrays_layout(client, func, backing):
    data, p0 = workload(2000)
    arr, guess = as_dataarray(data, p0)
    if backing == "dask":
        arr = arr.chunk({"fit": 450})
        guess = {k: v.chunk({"fit": 600}) for k, v in guess.items()}
    out = trustfit.xarray.curvefit(arr, ["x", "y"], func, p0=guess, param_names=NAMES)
    if backing == "dask":
        coef = out.curvefit_coefficients.data
        assert isinstance(coef, da.Array) and coef.numblocks == (5, 1)
        out = out.compute()
    ref = batch_reference(func, data, p0)
    assert np.array_equal(out.curvefit_coefficients.values, ref.popt)
    assert np.array_equal(out.curvefit_covariance.values, ref.pcov)
    # xarray's own layout (on a few fits: scipy is slow)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = arr.isel(fit=slice(0, 3)).compute().curvefit(
            ["x", "y"], vgauss, p0={k: v[:3] for k, v in guess.items()}, param_names=NAMES)
    mine = out.isel(fit=slice(0, 3))
    assert mine.curvefit_coefficients.dims == theirs.curvefit_coefficients.dims
    assert mine.curvefit_covariance.dims == theirs.curvefit_covariance.dims
    assert set(mine.coords) == set(theirs.coords) and mine.attrs == theirs.attrs
    for c in ("param", "cov_i", "cov_j", "fit"):
        np.testing.assert_array_equal(mine[c].values, theirs[c].values)


@pytest.mark.parametrize("func", [GAUSS, vgauss], ids=["formula", "callable"])
def test_xarray_curvefit_agrees_with_xarrays_scipy_curvefit(func):
    """200 fits; scipy's lm with the analytic Jacobian against trustfit's lm (formula:
    the same algorithm, defaults) or lock-step LM (callable: tight tolerances on both
    sides, where a relative stop is compared at the minimum, not along the way)."""
    data, p0 = workload(200, seed=5)
    arr, guess = as_dataarray(data, p0)
    kw = dict(jac=vgauss_jac) if isinstance(func, str) else dict(jac=vgauss_jac, **TIGHT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = arr.curvefit(["x", "y"], vgauss, p0=guess, errors="ignore", kwargs=kw)
    mine = trustfit.xarray.curvefit(arr, ["x", "y"], func, p0=guess, errors="ignore",
                                    kwargs=kw)
    popt, ref = mine.curvefit_coefficients.values, theirs.curvefit_coefficients.values
    pcov, refc = mine.curvefit_covariance.values, theirs.curvefit_covariance.values
    ok = np.isfinite(ref).all(axis=1)  # where scipy converged
    assert ok.sum() >= 190
    if isinstance(func, str):
        np.testing.assert_allclose(popt[ok], ref[ok], rtol=1e-6)
        np.testing.assert_allclose(pcov[ok], refc[ok], rtol=1e-4)
    else:
        # rtol 1e-6, or 1e-6 of the standard error for a parameter near 0 (b, σ ≈ 10)
        sd = np.sqrt(np.diagonal(refc[ok], axis1=1, axis2=2))
        assert np.all(np.abs(popt[ok] - ref[ok]) <= 1e-6 * (np.abs(ref[ok]) + sd))
        d = sd[:, :, None] * sd[:, None, :]
        assert np.all(np.abs(pcov[ok] - refc[ok]) <= 1e-4 * (np.abs(refc[ok]) + d))


def per_fit_only(xy, A, x0, y0, w, b):
    """A model written for one fit at a time (float() of each parameter)."""
    return vgauss(xy, float(A), float(x0), float(y0), float(w), float(b))


def test_xarray_a_per_fit_function_is_called_one_fit_at_a_time():
    data, p0 = workload(30)
    data[4, :3] = np.nan  # skipna: points left out, as xarray does
    arr, guess = as_dataarray(data, p0)
    out = trustfit.xarray.curvefit(arr, ["x", "y"], per_fit_only, p0=guess)
    for k in (0, 4, 29):
        keep = ~np.isnan(data[k])
        popt, pcov = trustfit.curve_fit(per_fit_only, XY[:, keep], data[k, keep], p0=p0[k])
        assert np.array_equal(out.curvefit_coefficients.values[k], popt)
        assert np.array_equal(out.curvefit_covariance.values[k], pcov)
    forced = trustfit.xarray.curvefit(arr, ["x", "y"], vgauss, p0=guess, vectorized=False)
    assert np.array_equal(forced.curvefit_coefficients.values, out.curvefit_coefficients.values)


def test_xarray_dataset_bounds_param_names_and_per_fit_bounds():
    data, p0 = workload(40)
    arr, guess = as_dataarray(data, p0)
    ds = xr.Dataset({"cam1": arr, "cam2": arr * 2.0})
    lower_b = xr.DataArray(np.where(np.arange(40) < 20, 0.0, -5.0), dims="fit")
    bounds = {"w": (0.5, 1.05), "b": (lower_b, 100.0)}
    starts = {k: guess[k] for k in ("A", "x0", "y0")}  # w and b: 1, inside the bounds
    order = ["b", "w", "A", "x0", "y0"]  # the formula's parameters named in another order
    out = trustfit.xarray.curvefit(ds, ["x", "y"], GAUSS, p0=starts, bounds=bounds,
                                   param_names=order)
    assert set(out.data_vars) == {"cam1_curvefit_coefficients", "cam1_curvefit_covariance",
                                  "cam2_curvefit_coefficients", "cam2_curvefit_covariance"}
    assert list(out.param.values) == order and out.cam1_curvefit_covariance.dims == (
        "fit", "cov_i", "cov_j")
    start = np.column_stack([p0[:, :3], np.ones((40, 2))])
    for var, scale in (("cam1", 1.0), ("cam2", 2.0)):
        coef = out[f"{var}_curvefit_coefficients"].sel(param=NAMES).values
        cov = out[f"{var}_curvefit_covariance"].sel(cov_i=NAMES, cov_j=NAMES).values
        for lo, rows in ((0.0, slice(0, 20)), (-5.0, slice(20, 40))):
            bounds = ([-np.inf, -np.inf, -np.inf, 0.5, lo], [np.inf, np.inf, np.inf, 1.05, 100])
            ref = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, scale * data[rows],
                                           p0=start[rows], bounds=bounds)
            assert np.array_equal(coef[rows], ref.popt) and np.array_equal(cov[rows], ref.pcov)
        assert (coef[:, 3] <= 1.05).all() and (coef[:20, 4] >= 0).all()


def test_xarray_errors_raise_and_ignore(client):
    data, p0 = workload(50)
    data[7] = np.nan  # no data: NaN, no error (as xarray)
    arr, guess = as_dataarray(data, p0)
    with pytest.raises(RuntimeError, match="Optimal parameters not found"):
        trustfit.xarray.curvefit(arr, ["x", "y"], GAUSS, p0=guess, kwargs={"maxfev": 3})
    with pytest.raises(RuntimeError, match="Optimal parameters not found"):
        trustfit.xarray.curvefit(arr.chunk({"fit": 10}), ["x", "y"], vgauss, p0=guess,
                                 kwargs={"maxfev": 3}).compute()
    out = trustfit.xarray.curvefit(arr, ["x", "y"], GAUSS, p0=guess, errors="ignore",
                                   kwargs={"maxfev": 3})
    ref = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data, p0=p0, max_nfev=3)
    coef = out.curvefit_coefficients.values
    assert np.isnan(coef[~ref.success]).all() and np.isfinite(coef[ref.success]).all()
    assert np.isnan(coef[7]).all()


# ---------------------------------------------------------------------------------------
# Nothing lost


class SlowGauss:
    """The vectorized Gaussian, 1 ms slower per call (a 10^5-fit run lasts a few seconds,
    so a worker can be killed in the middle)."""

    def __call__(self, xy, *p):
        time.sleep(0.001)
        return vgauss(xy, *p)


CHUNK = 5000


def chunk_of_workload(block_id=None, part=0):
    """Chunk i of the 10^5-fit workload, made where it is needed (data or p0)."""
    return workload(CHUNK, seed=1000 + block_id[0])[part]


def test_a_worker_killed_in_the_middle_loses_nothing(client):
    chunks = 20  # 10^5 fits, generated on the workers (no 20 MB graph)
    data, p0 = (np.concatenate([workload(CHUNK, seed=1000 + i)[part] for i in range(chunks)])
                for part in (0, 1))
    model = SlowGauss()
    kw = dict(jac=vgauss_jac, block=CHUNK)
    ref = trustfit.batch.curve_fit(model, XY, data, p0=p0, **kw)
    pids = client.run(os.getpid)
    y = da.map_blocks(chunk_of_workload, chunks=((CHUNK,) * chunks, (25,)), dtype=float)
    start = da.map_blocks(chunk_of_workload, part=1, chunks=((CHUNK,) * chunks, (5,)),
                          dtype=float)
    fit = trustfit.dask.curve_fit(model, XY, y, p0=start, **kw)
    futures = client.compute(list(fit._arrays()))

    def progress(dask_scheduler):
        fits = [ts for key, ts in dask_scheduler.tasks.items()
                if str(key[0] if isinstance(key, tuple) else key).startswith("trustfit-fit-")]
        busy = {ws.address: sum(1 for t in ws.processing
                                if str(t.key[0]).startswith("trustfit-fit-"))
                for ws in dask_scheduler.workers.values()}
        return sum(ts.state == "memory" for ts in fits), len(fits), busy

    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline:
        done, total, busy = client.run_on_scheduler(progress)
        if done >= 2 and total and done < total - 4:
            for addr, n in busy.items():
                if n and addr in pids:
                    os.kill(pids[addr], signal.SIGKILL)
                    killed = (addr, done, total)
                    break
        time.sleep(0.005)
    assert killed is not None, "the computation ended before a worker could be killed"
    got = client.gather(futures)
    assert killed[1] < killed[2]  # the kill came before the end
    for name, a in zip(FIELDS + ("error",), got):
        b = getattr(ref, name) if name != "error" else np.asarray(ref.error, dtype=object)
        assert np.array_equal(np.asarray(a), np.asarray(b)), name
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert killed[0] not in client.run(os.getpid)


class FailsInOneChunk:
    """Raises FloatingPointError for the fits whose start A is negative (one chunk)."""

    def __call__(self, xy, A, *rest):
        if (A < 0).any():
            raise FloatingPointError("the model failed on a negative amplitude")
        return vgauss(xy, A, *rest)


def test_a_model_exception_reaches_the_client_once_unchanged(client):
    data, p0 = workload(4000)
    p0[2500:2510, 0] = -1.0  # chunk 2 of 4
    fit = trustfit.dask.curve_fit(FailsInOneChunk(), XY, da.from_array(data, chunks=1000),
                                  p0=da.from_array(p0, chunks=1000))
    with pytest.raises(FloatingPointError, match="negative amplitude") as info:
        fit.compute()
    assert info.value.__cause__ is None or not isinstance(info.value.__cause__, FloatingPointError)
    arr, guess = as_dataarray(data, p0)
    lazy = trustfit.xarray.curvefit(arr.chunk({"fit": 1000}), ["x", "y"], FailsInOneChunk(),
                                    p0=guess, param_names=NAMES, vectorized=True)
    with pytest.raises(FloatingPointError, match="negative amplitude"):
        lazy.compute()
    with pytest.raises(FloatingPointError):  # numpy-backed: the same, in process
        trustfit.xarray.curvefit(arr, ["x", "y"], FailsInOneChunk(), p0=guess,
                                 param_names=NAMES, vectorized=True)


# ---------------------------------------------------------------------------------------
# Bad input: a clear error before any task runs


class Unpicklable:
    """A vectorized model holding a lock: cannot be pickled."""

    def __init__(self):
        self.lock = threading.Lock()

    def __call__(self, xy, A, x0, y0, w, b):
        with self.lock:
            return vgauss(xy, A, x0, y0, w, b)


def test_bad_input_raises_before_any_task(client):
    data, p0 = workload(100)
    y = da.from_array(data, chunks=(50, 25))
    assert wait_for_no_tasks(client) == 0
    cases = [
        (TypeError, "must be a dask.array.Array or a numpy.ndarray, got list",
         lambda: trustfit.dask.curve_fit(GAUSS, {"x": XS, "y": YS}, data.tolist())),
        (TypeError, "use trustfit.xarray.curvefit",
         lambda: trustfit.dask.curve_fit(GAUSS, {"x": XS, "y": YS}, xr.DataArray(data))),
        (TypeError, "MaskedArray chunks",
         lambda: trustfit.dask.curve_fit(GAUSS, {"x": XS, "y": YS},
                                         da.from_array(np.ma.masked_invalid(data), chunks=50))),
        (ValueError, r"`p0` must have shape \(5,\) .* or \(100, 5\)",
         lambda: trustfit.dask.curve_fit(GAUSS, {"x": XS, "y": YS}, y, p0=p0[:90])),
        (ValueError, r"`sigma` must have shape \(25,\)",
         lambda: trustfit.dask.curve_fit(GAUSS, {"x": XS, "y": YS}, y, sigma=np.ones(24))),
        (ValueError, "has shape \\(20,\\); every variable needs \\(25,\\)",
         lambda: trustfit.dask.curve_fit(GAUSS, {"x": XS[:20], "y": YS[:20]}, y)),
        (ValueError, "split into 2 chunks along data axis 1",
         lambda: trustfit.dask.curve_fit(GAUSS, {"x": XS, "y": YS},
                                         da.from_array(data, chunks=(50, 13)))),
        (TypeError, "cannot be pickled",
         lambda: trustfit.dask.curve_fit(Unpicklable(), XY, y, p0=p0[0])),
        (TypeError, "unexpected keyword argument",
         lambda: trustfit.dask.curve_fit(GAUSS, {"x": XS, "y": YS}, y, fotl=1e-3)),
    ]
    arr, guess = as_dataarray(data, p0)
    cases += [
        (ValueError, r"split into chunks along \['y'\]",
         lambda: trustfit.xarray.curvefit(arr.chunk({"fit": 50, "y": 2}), ["x", "y"], GAUSS)),
        (TypeError, "cannot be pickled",
         lambda: trustfit.xarray.curvefit(arr.chunk({"fit": 50}), ["x", "y"], Unpicklable(),
                                          p0=guess, param_names=NAMES)),
        (TypeError, "must be an xarray DataArray or Dataset",
         lambda: trustfit.xarray.curvefit(data, ["x", "y"], GAUSS)),
    ]
    for exc, message, call in cases:
        with pytest.raises(exc, match=message):
            call()
    assert scheduler_task_count(client) == 0  # no graph reached the scheduler


def test_import_trustfit_does_not_import_the_extras():
    code = ("import sys, trustfit, trustfit.batch; "
            "print(sorted(m for m in ('dask', 'distributed', 'xarray') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_docstring_examples_run():
    import doctest

    for module in (trustfit.dask, trustfit.xarray):
        assert doctest.testmod(module).failed == 0, module.__name__


def _decay(t, a, b):
    return a * np.exp(b * t)


def _decays():
    t = np.linspace(0, 4, 15)
    rows = np.array([a * np.exp(-0.5 * t) + 0.01 * np.sin(5 * t + a) for a in (1.0, 2.0)])
    return xr.DataArray(rows, dims=("fit", "t"), coords={"t": t})


@pytest.mark.parametrize("func", [_decay, "a*exp(b*t)"])
def test_curvefit_lm_with_bounds_raises_scipys_error(func):
    # The Python model's lock-step path took method='lm' with bounds silently.
    arr = _decays()
    kw = dict(bounds={"a": (0, 10)}, kwargs={"method": "lm"})
    with pytest.raises(ValueError, match="Method 'lm' only works for unconstrained problems"):
        arr.curvefit("t", _decay, **kw)
    with pytest.raises(ValueError, match="Method 'lm' only works for unconstrained problems"):
        trustfit.xarray.curvefit(arr, "t", func, **kw)


def test_curvefit_maxfev_zero_is_leastsqs_default_and_an_error_for_trf():
    arr = _decays()
    ref = arr.curvefit("t", _decay, kwargs={"maxfev": 0})
    fit = trustfit.xarray.curvefit(arr, "t", _decay, kwargs={"maxfev": 0})
    np.testing.assert_allclose(fit.curvefit_coefficients, ref.curvefit_coefficients, rtol=1e-6)
    for curvefit in (arr.curvefit, lambda *a, **k: trustfit.xarray.curvefit(arr, *a, **k)):
        with pytest.raises(ValueError, match="`max_nfev` must be None or positive integer."):
            curvefit("t", _decay, bounds={"a": (0, 10)}, kwargs={"maxfev": 0})
