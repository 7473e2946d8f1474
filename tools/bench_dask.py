#!/usr/bin/env python3
"""trustfit.dask and trustfit.xarray on a distributed.LocalCluster (issue 19's acceptance
runs), on the batch workload: Gpufit's 10^5 2-D Gaussians on 5x5 pixels
(../shared/data/batch/gauss2d_5x5_100k.bin), tiled beyond its 10^5 fits. One JSON line per
measurement.

  --check      10^4 fits: trustfit.dask and trustfit.xarray.curvefit (numpy- and
               Dask-backed; formula and Python callable) against the in-process
               trustfit.batch.curve_fit (bit for bit), and against xarray's own
               DataArray.curvefit (scipy, per pixel): the largest relative differences of
               popt and pcov where scipy converged, and how many fits are within popt
               rtol 1e-6 / pcov rtol 1e-4 (strictly, and with an absolute 1e-6·σ / 1e-4·σσ
               floor for parameters and covariances near 0).
  --scaling    N fits (default 10^6) with the formula on LocalCluster(n_workers=W,
               threads_per_worker=1, processes=True) for W = 1, 2: fits/s of trustfit.dask
               with the results persisted on the workers ("persist") and gathered into the
               client ("compute"), against the in-process batch on every core; the same
               through trustfit.xarray.curvefit; and xarray's DataArray.curvefit (scipy)
               on the 2-worker cluster for --n-scipy fits (default 10^4), extrapolated.
  --chunks     fits per chunk (default 50000; a comma-separated list tries several).

Settings: trustfit.dask — method 'lockstep', ftol = xtol = 1e-4, max_nfev = 11 (Cpufit's,
as tools/bench_python_batch.py); the xarray comparison — the peer's settings
(../shared/bench-peers/python/scipy_batch.py: lm, ftol = xtol = 1e-4, analytic Jacobian for
scipy, the formula's exact derivatives for trustfit). The data are made on the workers
(each task reads the file and tiles its rows) and persisted before the clock starts;
cluster start-up is not timed. OPENBLAS_NUM_THREADS=1.

Usage (from the project root, with trustfit and the [dask] extras installed):
    python3 tools/bench_dask.py --check
    python3 tools/bench_dask.py --scaling [--n 1000000] [--chunks 50000,100000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "data", "batch", "gauss2d_5x5_100k.bin")
FORMULA = "A*exp(-((x-x0)^2+(y-y0)^2)/(2*w^2)) + b"
NAMES = ["A", "x0", "y0", "w", "b"]
PIX = np.arange(25)
XS, YS = (PIX % 5).astype(float), (PIX // 5).astype(float)
XY = np.vstack([XS, YS])
BENCH = dict(method="lockstep", ftol=1e-4, xtol=1e-4, max_nfev=11)
PEER = dict(method="lm", ftol=1e-4, xtol=1e-4)
TIGHT = dict(ftol=1e-13, xtol=1e-13, gtol=1e-13)


def read(path: str = DATA):
    """(data (n, 25), initial (n, 5)) as float64, from the TFB1 file."""
    raw = np.fromfile(path, dtype=np.uint8)
    n, m, k = (int(v) for v in raw[4:16].view("<u4"))
    body = raw[20:].view("<f4")
    return (body[:n * m].reshape(n, m).astype(np.float64),
            body[n * m:n * m + n * k].reshape(n, k).astype(np.float64))


def tiled_block(block_id=None, chunk=0, part=0, path=DATA):
    """Rows [i·chunk, (i+1)·chunk) of the file tiled (row r is the file's r mod 10^5)."""
    arrays = read(path)
    a = arrays[part]
    rows = (block_id[0] * chunk + np.arange(chunk)) % a.shape[0]
    return a[rows]


def tiled(n: int, chunk: int, part: int, width: int):
    """The tiled workload as a Dask array made on the workers."""
    import dask.array as da
    sizes = [chunk] * (n // chunk) + ([n % chunk] if n % chunk else [])
    return da.map_blocks(tiled_block, chunk=chunk, part=part, chunks=(tuple(sizes), (width,)),
                         dtype=np.float64)


def gauss(xy, A, x0, y0, w, b):
    """The Gaussian for curve_fit / xarray (scalars) and for the batch ((K, 1))."""
    x, y = xy
    dx, dy = x - x0, y - y0
    return A * np.exp(-(dx * dx + dy * dy) / (2.0 * w * w)) + b


def gauss_jac(xy, A, x0, y0, w, b):
    x, y = xy
    dx, dy = x - x0, y - y0
    r2 = dx * dx + dy * dy
    e = np.exp(-r2 / (2.0 * w * w))
    ae = A * e / (w * w)
    return np.stack([e, ae * dx, ae * dy, ae * r2 / w, np.ones_like(e)], axis=-1)


def emit(rec):
    print(json.dumps(rec), flush=True)


def cluster(workers: int):
    from distributed import Client, LocalCluster
    c = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                     dashboard_address=":0", silence_logs=logging.CRITICAL)
    return c, Client(c)


def dataarray(data, init, chunk=None):
    import xarray as xr
    k = data.shape[0]
    arr = xr.DataArray(data.reshape(k, 5, 5), dims=("fit", "y", "x"),
                       coords={"y": np.arange(5.0), "x": np.arange(5.0)})
    p0 = {name: xr.DataArray(init[:, j], dims=("fit",)) for j, name in enumerate(NAMES)}
    if chunk:
        arr = arr.chunk({"fit": chunk})
        p0 = {k_: v.chunk({"fit": chunk}) for k_, v in p0.items()}
    return arr, p0


# ----------------------------------------------------------------------------- --check


def agreement(label, popt, pcov, ref, refc):
    ok = np.isfinite(ref).all(axis=1)
    sd = np.sqrt(np.abs(np.diagonal(refc, axis1=1, axis2=2)))
    dp, dc = np.abs(popt[ok] - ref[ok]), np.abs(pcov[ok] - refc[ok])
    with np.errstate(divide="ignore", invalid="ignore"):
        rp = np.nan_to_num(dp / np.abs(ref[ok]), nan=0.0, posinf=np.inf)
        rc = np.nan_to_num(dc / np.abs(refc[ok]), nan=0.0, posinf=np.inf)
    floor_p = dp <= 1e-6 * (np.abs(ref[ok]) + sd[ok])
    ss = sd[ok][:, :, None] * sd[ok][:, None, :]
    floor_c = dc <= 1e-4 * (np.abs(refc[ok]) + ss)
    emit({"check": "vs_xarray_scipy", "path": label, "scipy_converged": int(ok.sum()),
          "n_fits": int(len(ok)), "popt_max_rel": float(rp.max()),
          "pcov_max_rel": float(rc.max()),
          "fits_popt_rtol1e-6": int((rp <= 1e-6).all(axis=1).sum()),
          "fits_pcov_rtol1e-4": int((rc <= 1e-4).all(axis=(1, 2)).sum()),
          "fits_popt_within_1e-6(|p|+sd)": int(floor_p.all(axis=1).sum()),
          "fits_pcov_within_1e-4(|c|+sd_i*sd_j)": int(floor_c.all(axis=(1, 2)).sum())})


def check(args) -> int:
    import dask.array as da
    import trustfit.batch
    import trustfit.dask
    import trustfit.xarray

    data, init = read(args.data)
    n = args.n_check
    data, init = data[:n], init[:n]
    cl, client = cluster(2)
    try:
        chunk = max(1, n // 8)
        for model in ("formula", "callable"):
            f, x = (FORMULA, {"x": XS, "y": YS}) if model == "formula" else (gauss, XY)
            for kw_label, kw in (("peer", dict(PEER)), ("tight", dict(TIGHT, method="lm"))):
                if model == "callable":
                    kw = dict(kw, method="lockstep", jac=gauss_jac)
                ref = trustfit.batch.curve_fit(f, x, data, p0=init, **kw)
                fit = trustfit.dask.curve_fit(f, x, da.from_array(data, chunks=(chunk, 25)),
                                              p0=da.from_array(init, chunks=(chunk, 5)), **kw)
                got = fit.compute()
                same = all(np.array_equal(getattr(got, a), getattr(ref, a), equal_nan=True)
                           for a in ("popt", "pcov", "status", "nfev", "njev", "cost"))
                emit({"check": "bitwise_vs_in_process_batch", "path": "trustfit.dask",
                      "model": model, "options": kw_label, "n_fits": n, "equal": same})
        for model in ("formula", "callable"):
            f = FORMULA if model == "formula" else gauss
            for kw_label, kw in (("peer", dict(PEER, jac=gauss_jac)),
                                 ("tight", dict(TIGHT, jac=gauss_jac))):
                if model == "formula":
                    ref = trustfit.batch.curve_fit(FORMULA, {"x": XS, "y": YS}, data, p0=init,
                                                   **{k: v for k, v in kw.items() if k != "jac"})
                else:
                    lk = {k: v for k, v in kw.items() if k != "method"}
                    ref = trustfit.batch.curve_fit(gauss, XY, data, p0=init, method="lockstep",
                                                   **lk)
                results = {}
                for backing in ("numpy", "dask"):
                    arr, p0 = dataarray(data, init, chunk if backing == "dask" else None)
                    out = trustfit.xarray.curvefit(arr, ["x", "y"], f, p0=p0, errors="ignore",
                                                   kwargs=kw).compute()
                    results[backing] = out
                    popt = out.curvefit_coefficients.values
                    pcov = out.curvefit_covariance.values
                    emit({"check": "bitwise_vs_in_process_batch", "path": "trustfit.xarray",
                          "backing": backing, "model": model, "options": kw_label, "n_fits": n,
                          "equal": bool(np.array_equal(popt, ref.popt, equal_nan=True)
                                        and np.array_equal(pcov, ref.pcov, equal_nan=True))})
                arr, p0 = dataarray(data, init, chunk)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    theirs = arr.curvefit(["x", "y"], gauss, p0=p0, errors="ignore",
                                          kwargs=kw).compute()
                agreement(f"trustfit.xarray {model} ({kw_label} options)",
                          results["dask"].curvefit_coefficients.values,
                          results["dask"].curvefit_covariance.values,
                          theirs.curvefit_coefficients.values,
                          theirs.curvefit_covariance.values)
                if model == "callable":  # one fit at a time: trustfit.curve_fit (MINPACK)
                    out = trustfit.xarray.curvefit(arr, ["x", "y"], f, p0=p0, errors="ignore",
                                                   kwargs=kw, vectorized=False).compute()
                    agreement(f"trustfit.xarray callable vectorized=False ({kw_label} options)",
                              out.curvefit_coefficients.values,
                              out.curvefit_covariance.values,
                              theirs.curvefit_coefficients.values,
                              theirs.curvefit_covariance.values)
    finally:
        client.close()
        cl.close()
    return 0


# --------------------------------------------------------------------------- --scaling


def timed(fn, repeat, client=None):
    """Wall times of `repeat` calls. With a client, each call starts once the scheduler
    holds only the tasks it held before the first (a previous run's results, released
    asynchronously, would otherwise be reused: the graphs' keys are deterministic)."""
    times = []
    baseline = None if client is None else _task_count(client)
    for _ in range(repeat):
        if client is not None:
            deadline = time.monotonic() + 30
            while _task_count(client) > baseline and time.monotonic() < deadline:
                time.sleep(0.02)
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def _task_count(client) -> int:
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def rates(label, n, times, **extra):
    emit({"bench": label, "n_fits": n, "best_s": min(times), "worst_s": max(times),
          "fits_per_s_best": n / min(times), "fits_per_s_worst": n / max(times),
          "load_1min": os.getloadavg()[0], **extra})


def scaling(args) -> int:
    import dask
    import trustfit.batch
    import trustfit.dask
    import trustfit.xarray
    from distributed import futures_of, wait

    n, repeat = args.n, args.repeat
    # In-process reference: the same fits from numpy, on every core.
    data, init = read(args.data)
    reps = -(-n // data.shape[0])
    big, big0 = np.tile(data, (reps, 1))[:n], np.tile(init, (reps, 1))[:n]
    t = timed(lambda: trustfit.batch.curve_fit(FORMULA, {"x": XS, "y": YS}, big, p0=big0,
                                               **BENCH), repeat)
    rates("in_process_batch_formula_lockstep", n, t, threads=os.cpu_count())
    t = timed(lambda: trustfit.batch.curve_fit(FORMULA, {"x": XS, "y": YS}, big, p0=big0,
                                               **PEER), max(1, repeat - 1))
    rates("in_process_batch_formula_lm", n, t, threads=os.cpu_count())
    del big, big0
    chunk_sizes = [int(c) for c in args.chunks.split(",")]
    for workers in (1, 2):
        cl, client = cluster(workers)
        try:
            for chunk in chunk_sizes:
                y = tiled(n, chunk, 0, 25).persist()
                p0 = tiled(n, chunk, 1, 5).persist()
                wait([y, p0])
                # warm-up: import trustfit on every worker
                trustfit.dask.curve_fit(FORMULA, {"x": XS, "y": YS}, y[:workers * 10],
                                        p0=p0[:workers * 10], **BENCH).compute()

                def persist():
                    fit = trustfit.dask.curve_fit(FORMULA, {"x": XS, "y": YS}, y, p0=p0, **BENCH)
                    kept = fit.persist()
                    wait(list(kept._arrays()))
                    client.cancel(futures_of(list(kept._arrays())))

                def gathered():
                    trustfit.dask.curve_fit(FORMULA, {"x": XS, "y": YS}, y, p0=p0,
                                            **BENCH).compute()

                rates("trustfit.dask_formula_lockstep_persist", n,
                      timed(persist, repeat, client), workers=workers, chunk=chunk)
                rates("trustfit.dask_formula_lockstep_compute", n,
                      timed(gathered, repeat, client), workers=workers, chunk=chunk)
                if chunk == chunk_sizes[0]:
                    import xarray as xr
                    arr = xr.DataArray(y.reshape(n, 5, 5), dims=("fit", "y", "x"),
                                       coords={"y": np.arange(5.0), "x": np.arange(5.0)})
                    guess = {name: xr.DataArray(p0[:, j], dims=("fit",))
                             for j, name in enumerate(NAMES)}

                    def xarray_formula():
                        out = trustfit.xarray.curvefit(arr, ["x", "y"], FORMULA, p0=guess,
                                                       errors="ignore",
                                                       kwargs=dict(PEER, jac=gauss_jac))
                        kept = out.persist()
                        arrays = [kept.curvefit_coefficients.data, kept.curvefit_covariance.data]
                        wait(arrays)
                        client.cancel(futures_of(arrays))

                    rates("trustfit.xarray_formula_lm_persist", n,
                          timed(xarray_formula, max(1, repeat - 1), client), workers=workers,
                          chunk=chunk)
                del y, p0
            if workers == 2 and args.n_scipy:
                ns = args.n_scipy
                d, i0 = read(args.data)
                arr, guess = dataarray(d[:ns], i0[:ns], max(1, ns // 8))
                arr = arr.persist()
                guess = {k: v.persist() for k, v in guess.items()}

                def scipy_xarray():
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        out = arr.curvefit(["x", "y"], gauss, p0=guess, errors="ignore",
                                           kwargs=dict(PEER, jac=gauss_jac))
                        dask.compute(out.curvefit_coefficients.data,
                                     out.curvefit_covariance.data)

                rates("xarray_curvefit_scipy_lm", ns, timed(scipy_xarray, 1, client),
                      workers=workers, chunk=max(1, ns // 8))
        finally:
            client.close()
            cl.close()
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--scaling", action="store_true")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--n-check", type=int, default=10_000)
    ap.add_argument("--n-scipy", type=int, default=10_000)
    ap.add_argument("--chunks", default="50000", help="fits per chunk, comma-separated")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    if not (args.check or args.scaling):
        ap.error("give --check and/or --scaling")
    emit({"uptime_load": os.getloadavg(), "cpus": os.cpu_count()})
    if args.check:
        check(args)
    if args.scaling:
        scaling(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
