"""`workers` in least_squares: difference columns on threads (an int, -1) or mapped over
a map-like callable (multiprocessing.Pool.map) give the serial result bit for bit."""

import multiprocessing

import numpy as np
import pytest

import trustfit

T = np.linspace(0.0, 1.0, 400)
Y = np.exp(-0.3 * np.sin(3 * T)) + 0.01 * np.cos(17 * T)


def fun(p, scale=1.0):
    s = np.zeros_like(T)
    for k, pk in enumerate(p):
        s += pk * np.cos((k + 1) * T)
    return scale * (np.exp(-s) - Y)


X0 = np.full(8, 0.05)


@pytest.mark.parametrize("method", ["trf", "dogbox"])
@pytest.mark.parametrize("jac", ["2-point", "3-point"])
def test_threads_give_the_serial_result_bit_for_bit(method, jac):
    kw = dict(method=method, jac=jac, bounds=(-1, 1), kwargs={"scale": 2.0}, max_nfev=15)
    ref = trustfit.least_squares(fun, X0, **kw)
    for workers in (1, 2, 3, -1):
        r = trustfit.least_squares(fun, X0, workers=workers, **kw)
        assert np.array_equal(r.x, ref.x) and np.array_equal(r.jac, ref.jac)
        assert (r.nfev, r.njev, r.status) == (ref.nfev, ref.njev, ref.status)


def test_a_process_pool_map_gives_the_serial_result_bit_for_bit():
    ref = trustfit.least_squares(fun, X0, args=(3.0,), max_nfev=6)
    with multiprocessing.Pool(2) as pool:
        r = trustfit.least_squares(fun, X0, args=(3.0,), workers=pool.map, max_nfev=6)
    assert np.array_equal(r.x, ref.x) and (r.nfev, r.njev) == (ref.nfev, ref.njev)
    r = trustfit.least_squares(fun, X0, args=(3.0,), workers=map, max_nfev=6)  # the builtin, serially
    assert np.array_equal(r.x, ref.x)


def test_an_exception_in_a_worker_thread_is_raised_unchanged():
    class Boom(Exception):
        pass

    calls = []

    def bad(p):
        calls.append(1)
        if len(calls) == 4:  # inside the first Jacobian's columns
            raise Boom("column failed")
        return fun(p)

    with pytest.raises(Boom, match="column failed"):
        trustfit.least_squares(bad, X0, workers=2)


def test_lm_and_callable_jac_ignore_workers():
    ref = trustfit.least_squares(fun, X0, method="lm", max_nfev=30)
    r = trustfit.least_squares(fun, X0, method="lm", workers=2, max_nfev=30)
    assert np.array_equal(r.x, ref.x)


@pytest.mark.parametrize("workers", [0, -2])
def test_bad_worker_counts_raise_as_scipy(workers):
    with pytest.raises(RuntimeError, match="Number of workers"):
        trustfit.least_squares(fun, X0, workers=workers)
