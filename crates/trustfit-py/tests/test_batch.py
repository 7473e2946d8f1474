"""trustfit.batch.curve_fit with a formula model and scipy's methods (the lock-step method
and Python models: test_batch_lockstep.py): each row equals trustfit's single-fit
curve_fit, results do not depend on the thread count, bad rows fail alone, the GIL is
released during the batch, and bad arguments raise."""

import threading
import time

import numpy as np
import pytest

import trustfit
import trustfit.batch

GAUSS = "A*exp(-((x-x0)^2+(y-y0)^2)/(2*w^2)) + b"
PIX = np.arange(25)
XS, YS = (PIX % 5).astype(float), (PIX // 5).astype(float)


def gauss(xy, A, x0, y0, w, b):
    x, y = xy
    return A * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * w**2)) + b


def gauss_jac(xy, A, x0, y0, w, b):
    x, y = xy
    r2 = (x - x0) ** 2 + (y - y0) ** 2
    e = np.exp(-r2 / (2 * w**2))
    return np.column_stack([e, A * e * (x - x0) / w**2, A * e * (y - y0) / w**2,
                            A * e * r2 / w**3, np.ones_like(x)])


def workload(k, seed=7):
    """K noisy 2-D Gaussians on 5x5 pixels, as the batch suite's (Gpufit's) workload."""
    rng = np.random.default_rng(seed)
    truth = np.array([500.0, 2.0, 2.0, 1.0, 10.0]) * (0.9 + 0.2 * rng.random((k, 5)))
    data = np.array([gauss((XS, YS), *t) for t in truth]) + rng.normal(0, 17.0, (k, 25))
    p0 = truth * (0.9 + 0.2 * rng.random((k, 5)))
    return data, p0, truth


@pytest.mark.parametrize("method", ["lm", "trf"])
def test_each_row_equals_single_fit_curve_fit(method):
    data, p0, _ = workload(200)
    sigma = 1.0 + 0.05 * PIX
    bounds = (-np.inf, np.inf) if method == "lm" else ([0, -5, -5, 0.1, -100], [5000, 10, 10, 10, 1000])
    fit = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data, p0=p0, sigma=sigma,
                                   bounds=bounds, method=method)
    assert fit.param_names == ["A", "x0", "y0", "w", "b"]
    assert fit.success.all()
    for k in range(0, 200, 7):
        # The same exact derivatives as the formula's (scipy's `jac` argument).
        popt, pcov = trustfit.curve_fit(gauss, np.vstack([XS, YS]), data[k], p0=p0[k],
                                        sigma=sigma, bounds=bounds, method=method, jac=gauss_jac)
        np.testing.assert_allclose(fit.popt[k], popt, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(fit.perr[k], np.sqrt(np.diag(pcov)), rtol=1e-4)
        np.testing.assert_allclose(fit.pcov[k], pcov, rtol=1e-4, atol=1e-12 * np.abs(pcov).max())


def test_results_do_not_depend_on_the_thread_count():
    data, p0, _ = workload(300)
    one = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data, p0=p0, threads=1)
    two = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data, p0=p0, threads=2)
    for a, b in [(one.popt, two.popt), (one.pcov, two.pcov), (one.nfev, two.nfev), (one.cost, two.cost)]:
        assert np.array_equal(a, b, equal_nan=True)


def test_bad_rows_fail_alone_with_nan_parameters():
    data, p0, _ = workload(100)
    data[3] = np.nan  # all NaN
    data[40] = 7.0  # constant: fitted (flat), whatever its covariance
    data[77, 3:] = np.nan  # 3 finite points < 5 parameters
    data[90, [1, 5, 8]] = np.inf  # 3 points left out, 22 fitted
    fit = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data, p0=p0)
    for bad in (3, 77):
        assert fit.status[bad] == -3 and not fit.success[bad] and fit.error[bad] == "non_finite"
        assert np.isnan(fit.popt[bad]).all() and np.isnan(fit.pcov[bad]).all()
    assert fit.error[40] == ""
    good = [k for k in range(100) if k not in (3, 40, 77, 90)]
    assert fit.success[good].all()
    # Per-fit texts: K of them, scipy's message for each status, "" where a fit did not run.
    assert len(fit.error) == len(fit.message) == 100
    assert fit.message[3] == fit.message[77] == ""
    by_status = {}
    for k in good:
        assert fit.message[k] == by_status.setdefault(fit.status[k], fit.message[k]) != ""
    keep = [i for i in range(25) if i not in (1, 5, 8)]
    alone = trustfit.batch.curve_fit(GAUSS, {"x": XS[keep], "y": YS[keep]}, data[90:91, keep], p0=p0[90])
    np.testing.assert_allclose(fit.popt[90], alone.popt[0], rtol=1e-9)
    clean = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data[good], p0=p0[good])
    assert np.array_equal(fit.popt[good], clean.popt)


def test_other_python_threads_run_during_a_batch():
    data, p0, _ = workload(4000)
    data = np.tile(data, (10, 1))
    p0 = np.tile(p0, (10, 1))
    done = threading.Event()
    ticks = []

    def count():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    t0 = time.perf_counter()
    trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data, p0=p0, threads=1)
    t1 = time.perf_counter()
    done.set()
    counter.join()
    during = [t for t in ticks if t0 < t < t1]
    # With the GIL held the counter could not tick at all during the call.
    assert t1 - t0 < 0.05 or len(during) >= 5, (t1 - t0, len(during))


def test_xdata_forms_and_defaults():
    t = np.linspace(0, 2, 15)
    y = np.array([2.0 * np.exp(-1.5 * t) + 0.5, 1.0 * np.exp(-0.5 * t) + 0.1])
    a = trustfit.batch.curve_fit("a*exp(-k*x) + c", t, y, p0=[1, 1, 0])
    b = trustfit.batch.curve_fit("a*exp(-k*x0) + c", t[None, :], y, p0=[1, 1, 0])
    c = trustfit.batch.curve_fit("a*exp(-k*t) + c", {"t": t}, y, p0=[1, 1, 0])
    assert np.array_equal(a.popt, b.popt) and np.array_equal(a.popt, c.popt)
    np.testing.assert_allclose(a.popt, [[2.0, 1.5, 0.5], [1.0, 0.5, 0.1]], rtol=1e-7)
    d = trustfit.batch.curve_fit("a*exp(-k*x) + c", t, y)  # p0: ones, as scipy
    np.testing.assert_allclose(d.popt, a.popt, rtol=1e-6)
    assert len(a) == 2 and "2 fits" in repr(a)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: trustfit.batch.curve_fit(42, np.ones(3), np.ones((2, 3))), TypeError),
        (lambda: trustfit.batch.curve_fit("a*x", np.ones(3), np.ones(3)), ValueError),
        (lambda: trustfit.batch.curve_fit("a*x", np.ones(4), np.ones((2, 3))), ValueError),
        (lambda: trustfit.batch.curve_fit("a*x", np.ones(3), np.ones((2, 3)), p0=[1, 2]), ValueError),
        (lambda: trustfit.batch.curve_fit("a*x", np.ones(3), np.ones((2, 3)), sigma=[1, 2]), ValueError),
        (lambda: trustfit.batch.curve_fit("a*x", np.ones(3), np.ones((2, 3)), bounds=(0, 1), method="lm"), ValueError),
        (lambda: trustfit.batch.curve_fit("a*x", np.ones(3), np.ones((2, 3)), nonsense=1), TypeError),
        (lambda: trustfit.batch.curve_fit("a*x +", np.ones(3), np.ones((2, 3))), ValueError),
        (lambda: trustfit.batch.curve_fit("x*2", np.ones(3), np.ones((2, 3))), ValueError),
        (lambda: trustfit.batch.curve_fit("a*x", np.ones(3), np.ones((2, 3)), loss=lambda z: z), TypeError),
        (lambda: trustfit.batch.curve_fit("a*x", np.ones(3), np.ones((2, 3)), threads=0), ValueError),
    ],
)
def test_bad_arguments_raise(call, error):
    with pytest.raises(error):
        call()


def _decay(x, a, b):
    return a * np.exp(b * x)


@pytest.mark.parametrize("model, method", [("a*exp(b*x)", None), ("a*exp(b*x)", "trf"),
                                           ("a*exp(b*x)", "lockstep"), (_decay, None)])
@pytest.mark.parametrize("max_nfev", [-3, 0, -0.5, float("nan"), "5"])
def test_max_nfev_not_positive_raises_scipys_error(model, method, max_nfev):
    # A negative count reached the binding's unsigned conversion (OverflowError).
    t = np.linspace(0, 4, 12)
    y = 2 * np.exp(-0.5 * t)[None]
    with pytest.raises(ValueError, match="`max_nfev` must be None or positive integer."):
        trustfit.batch.curve_fit(model, t, y, p0=[1, -1], method=method, max_nfev=max_nfev)


@pytest.mark.parametrize("model", ["a*exp(b*x)", _decay])
def test_max_nfev_rounds_up_and_infinity_is_no_limit(model):
    t = np.linspace(0, 4, 12)
    y = 2 * np.exp(-0.5 * t)[None]
    short = trustfit.batch.curve_fit(model, t, y, p0=[1, -1], max_nfev=2.5)
    assert short.nfev.tolist() == [3] and short.status.tolist() == [0]
    free = trustfit.batch.curve_fit(model, t, y, p0=[1, -1], max_nfev=float("inf"))
    ref = trustfit.batch.curve_fit(model, t, y, p0=[1, -1])
    assert np.array_equal(free.popt, ref.popt) and free.success.all()


def _unaligned(a):
    """A copy of `a` at an odd byte offset (as arrays unpickled from a buffer may be)."""
    buf = np.zeros(a.nbytes + 1, dtype=np.uint8)
    out = np.frombuffer(buf.data, dtype=np.float64, count=a.size, offset=1).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def test_unaligned_arrays_are_accepted():
    data, p0, _ = workload(20)
    ref = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data, p0=p0, sigma=1.0 + 0.1 * PIX)
    fit = trustfit.batch.curve_fit(GAUSS, {"x": _unaligned(XS), "y": _unaligned(YS)},
                                   _unaligned(data), p0=_unaligned(p0),
                                   sigma=_unaligned(1.0 + 0.1 * PIX))
    assert np.array_equal(fit.popt, ref.popt) and np.array_equal(fit.pcov, ref.pcov)
