"""Behaviour of the binding itself: exceptions, messages, verbose text, callbacks, call
counts, result types and the features that are not implemented yet."""

import importlib
import traceback
import warnings

import numpy as np
import pytest
import scipy.optimize
from scipy.sparse import csr_array
from scipy.sparse.linalg import aslinearoperator

import trustfit
from problems import decay, rosen, rosen_jac
from trustfit import _trustfit, least_squares
from trustfit import optimize as tf_optimize

METHODS = ["trf", "dogbox", "lm"]


def trivial(x, a=0.0):
    return (x - a) ** 2 + 5.0


class Boom(Exception):
    pass


def _raise_at_call(k):
    calls = []

    def fun(x):
        calls.append(1)
        if len(calls) == k:
            raise Boom("from fun")
        return rosen(x)

    return fun


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("k", [1, 3])
def test_exception_in_fun_reaches_caller_unchanged(method, k):
    with pytest.raises(Boom, match="from fun") as info:
        least_squares(_raise_at_call(k), [-2.0, 1.0], jac=rosen_jac, method=method)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert frames[-1].name == "fun"


@pytest.mark.parametrize("method", METHODS)
def test_exception_in_jac_reaches_caller_unchanged(method):
    calls = []

    def jac(x):
        calls.append(1)
        if len(calls) == 2:
            raise KeyError("from jac")
        return rosen_jac(x)

    with pytest.raises(KeyError, match="from jac"):
        least_squares(rosen, [-2.0, 1.0], jac=jac, method=method)


def test_exception_in_loss_reaches_caller_unchanged():
    calls = []

    def loss(z):
        calls.append(1)
        if len(calls) == 3:
            raise ZeroDivisionError("from loss")
        return np.vstack([z, np.ones_like(z), np.zeros_like(z)])

    with pytest.raises(ZeroDivisionError, match="from loss"):
        least_squares(rosen, [-2.0, 1.0], loss=loss)


@pytest.mark.parametrize("method", ["trf", "dogbox"])
def test_exception_in_callback_reaches_caller_unchanged(method):
    def callback(x):
        raise RuntimeError("from callback")

    with pytest.raises(RuntimeError, match="from callback"):
        least_squares(rosen, [-2.0, 1.0], method=method, callback=callback)


@pytest.mark.parametrize("method", ["trf", "dogbox"])
@pytest.mark.parametrize("style", ["x", "intermediate_result"])
def test_callback_stop_iteration_gives_status_minus_2(method, style):
    seen = []
    if style == "x":
        def callback(x):
            seen.append(x.copy())
            if len(seen) == 2:
                raise StopIteration
    else:
        def callback(intermediate_result):
            seen.append(intermediate_result)
            assert set(intermediate_result) == {"x", "fun", "nit", "nfev", "cost"}
            if len(seen) == 2:
                raise StopIteration

    res = least_squares(rosen, [-2.0, 1.0], method=method, callback=callback)
    ref_seen = seen[:]
    seen.clear()
    ref = scipy.optimize.least_squares(rosen, [-2.0, 1.0], method=method, callback=callback)
    assert res.status == ref.status == -2
    assert res.message == ref.message
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-7)
    assert len(ref_seen) == len(seen) == 2


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("max_nfev", [1, 2, 3, 5, None])
def test_nfev_counts_user_calls_with_analytic_jac(method, max_nfev):
    calls = []

    def fun(x):
        calls.append(1)
        return rosen(x)

    res = least_squares(fun, [-2.0, 1.0], jac=rosen_jac, method=method, max_nfev=max_nfev)
    assert res.nfev == len(calls)
    ref = scipy.optimize.least_squares(rosen, [-2.0, 1.0], jac=rosen_jac, method=method,
                                       max_nfev=max_nfev)
    assert (res.nfev, res.njev, res.status) == (ref.nfev, ref.njev, ref.status)


def test_fun_gets_a_fresh_copy_of_x():
    seen = []

    def fun(x):
        seen.append(x)
        out = rosen(x)
        x[:] = 1e300  # scribbling on x must not affect the solver
        return out

    res = least_squares(fun, [-2.0, 1.0], jac=rosen_jac)
    np.testing.assert_allclose(res.x, [1.0, 1.0])
    assert len({id(x) for x in seen}) == len(seen)


def rosen_points(change, method):
    """The points `fun` and `jac` were called at (copies), and the result, when both
    apply `change` to the `x` they were given after using it."""
    points = []

    def fun(x):
        points.append(x.copy())
        out = rosen(x)
        change(x)
        return out

    def jac(x):
        points.append(x.copy())
        out = rosen_jac(x)
        change(x)
        return out

    res = least_squares(fun, np.array([-2.0, 1.0]), jac=jac, method=method)
    return points, res


def set_attr(name, value):
    def change(x):
        setattr(x, name, value)
    return change


@pytest.mark.parametrize("method", ["trf", "dogbox", "lm"])
@pytest.mark.parametrize("change", [
    lambda x: None,
    lambda x: x.__setitem__(slice(None), 1e300),
    set_attr("shape", (2, 1)),
    set_attr("dtype", np.int64),
    lambda x: x.setflags(write=False),
    lambda x: x.resize(5, refcheck=False),
], ids=["nothing", "values", "shape", "dtype", "read-only", "resized"])
def test_each_call_gets_x_as_a_fresh_copy_would_be(method, change):
    # trustfit gives a call the array of the call before when nothing holds it any more;
    # what user code does to its x must not reach the solver or a later call.
    kept = []

    def keep(x):
        kept.append((x, x.copy()))
    ref_points, ref = rosen_points(keep, method)
    points, res = rosen_points(change, method)
    assert len(points) == len(ref_points) > 4
    for p, q in zip(points, ref_points):
        assert p.dtype == np.float64 and p.shape == (2,)
        assert np.array_equal(p, q)
    assert np.array_equal(res.x, ref.x) and res.nfev == ref.nfev
    # Arrays user code kept are its own: never written again.
    assert all(np.array_equal(x, copy) for x, copy in kept)
    assert len({id(x) for x, _ in kept}) == len(kept)


@pytest.mark.parametrize("order", ["C", "F"])
def test_jacobian_in_any_memory_order(order):
    def jac(x):
        return np.asarray(rosen_jac(x), order=order)

    res = least_squares(rosen, [-2.0, 1.0], jac=jac)
    ref = scipy.optimize.least_squares(rosen, [-2.0, 1.0], jac=rosen_jac)
    assert res.nfev == ref.nfev
    np.testing.assert_allclose(res.x, ref.x)


def test_jacobian_as_nested_list_and_float32_residuals():
    res = least_squares(lambda x: np.float32(1.0) * rosen(x).astype(np.float32),
                        [-2.0, 1.0], jac=lambda x: rosen_jac(x).tolist())
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-3)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("verbose", [1, 2])
def test_verbose_text_equals_scipy(method, verbose, capsys):
    # A fit with a non-zero final cost, so every printed number is above rounding level.
    kw = dict(method=method, verbose=verbose, jac="3-point")
    scipy.optimize.least_squares(decay, [1.0, 0.5], **kw)
    expected = capsys.readouterr().out
    least_squares(decay, [1.0, 0.5], **kw)
    assert capsys.readouterr().out == expected
    assert expected


def test_verbose_text_equals_scipy_with_bounds(capsys):
    kw = dict(bounds=([-np.inf, 1.5], np.inf), verbose=2)
    scipy.optimize.least_squares(rosen, [2.0, 2.0], **kw)
    expected = capsys.readouterr().out
    least_squares(rosen, [2.0, 2.0], **kw)
    assert capsys.readouterr().out == expected


@pytest.mark.parametrize(
    "method, bounds, jac",
    [
        ("trf", None, "2-point"),
        ("trf", (-1.0, 3.0), "2-point"),
        ("dogbox", None, "callable"),
        ("lm", None, "2-point"),
        ("lm", None, "callable"),
    ],
)
def test_result_fields_have_scipy_types(method, bounds, jac):
    kw = dict(method=method, jac=(lambda x: 2 * x) if jac == "callable" else jac)
    if bounds is not None:
        kw["bounds"] = bounds
    res = least_squares(trivial, 2.0, **kw)
    ref = scipy.optimize.least_squares(trivial, 2.0, **kw)
    assert type(res) is scipy.optimize.OptimizeResult
    assert list(res.keys()) == list(ref.keys())
    for key in ref:
        assert type(res[key]) is type(ref[key]), key
        if isinstance(ref[key], np.ndarray):
            assert res[key].dtype == ref[key].dtype, key
            assert res[key].shape == ref[key].shape, key


BAD_INPUTS = [
    dict(method="newton"),
    dict(jac="4-point"),
    dict(tr_solver="best"),
    dict(loss="hinge"),
    dict(method="lm", loss="huber"),
    dict(verbose=3),
    dict(max_nfev=0),
    dict(x0=[1.0, 2.0 + 1j]),
    dict(x0=np.ones((2, 2))),
    dict(bounds=(1.0, 2.0, 3.0)),
    dict(method="lm", bounds=(-3.0, 3.0)),
    dict(bounds=([1.0, 2.0, 3.0], 5.0)),
    dict(bounds=(3.0, 1.0)),
    dict(bounds=(3.0, 4.0)),
    dict(x_scale="auto"),
    dict(x_scale=[1.0, 2.0, 3.0]),
    dict(ftol=None, xtol=None, gtol=None),
    dict(method="lm", ftol=1e-20),
    dict(fun=lambda x: np.array([[x[0]], [x[1]], [1.0]])),
    dict(fun=lambda x: np.array([np.nan, x[1]])),
    dict(fun=lambda x: x[:1], method="lm"),
    dict(loss=lambda z: np.vstack([z, z])),
    dict(method="lm", jac_sparsity=[[1, 0]]),
    dict(jac_sparsity=[[1, 0, 1]]),
    dict(jac_sparsity=[[1, 0], [0, 1]], tr_solver="exact"),
    dict(jac=lambda x: np.ones((3, 2))),
    dict(jac=lambda x: csr_array(np.eye(2)), method="lm"),
    dict(jac=lambda x: csr_array(np.eye(2)), tr_solver="exact"),
    dict(jac=lambda x: aslinearoperator(np.eye(2)), x_scale="jac"),
    dict(tr_solver="lsmr", tr_options={"tol": 1.0}),
    dict(options={"max_nfev": 10}),
]


# Where scipy fails with a raw error from deep inside (spec §1.2 steps 22-23), trustfit
# raises the message least_squares itself would give; the exception type is the same.
OWN_MESSAGE = {
    "loss": "The return value of `loss` callable has wrong shape.",
    "jac_sparsity": "`jac_sparsity` has wrong shape.",
}


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda b: ",".join(b))
def test_bad_input_raises_scipy_exception_and_message(bad):
    kw = dict(bad)
    fun = kw.pop("fun", rosen)
    x0 = kw.pop("x0", [0.5, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(Exception) as expected:
            scipy.optimize.least_squares(fun, x0, **kw)
        own = None
        if callable(bad.get("loss")):
            own = OWN_MESSAGE["loss"]
        elif set(bad) == {"jac_sparsity"}:
            own = OWN_MESSAGE["jac_sparsity"]
        with pytest.raises(ValueError if own else type(expected.value)) as got:
            least_squares(fun, x0, **kw)
    assert str(got.value) == (own or str(expected.value))


@pytest.mark.parametrize("name", ["ftol", "xtol", "gtol"])
def test_small_tolerance_warns_like_scipy(name):
    with pytest.warns(UserWarning, match=f"Setting `{name}` below the machine epsilon"):
        least_squares(rosen, [0.5, 0.5], **{name: 1e-17})


def test_callback_with_lm_warns():
    with pytest.warns(UserWarning, match="Callback function specified"):
        least_squares(rosen, [0.5, 0.5], method="lm", callback=lambda x: None)


@pytest.mark.parametrize(
    "kw",
    [
        dict(jac=lambda x: csr_array(rosen_jac(x))),
        dict(jac_sparsity=np.ones((2, 2))),
        dict(tr_solver="lsmr"),
    ],
    ids=["sparse", "jac_sparsity", "lsmr"],
)
@pytest.mark.parametrize("method", ["trf", "dogbox"])
def test_large_scale_features_match_scipy_on_a_small_problem(kw, method):
    ref = scipy.optimize.least_squares(rosen, [0.5, 0.5], method=method, **kw)
    res = least_squares(rosen, [0.5, 0.5], method=method, **kw)
    assert (res.status, res.nfev, type(res.jac)) == (ref.status, ref.nfev, type(ref.jac))
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-6)


@pytest.mark.parametrize("method", ["trf", "dogbox"])
def test_linear_operator_jacobian_matches_scipy(method):
    kw = dict(method=method, jac=lambda x: aslinearoperator(rosen_jac(x)))
    ref = scipy.optimize.least_squares(rosen, [0.5, 0.5], **kw)
    res = least_squares(rosen, [0.5, 0.5], **kw)
    assert (res.status, res.nfev, res.njev) == (ref.status, ref.nfev, ref.njev)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-6)
    # One entry is 0 up to rounding (7e-15 on some CPUs): an absolute floor.
    np.testing.assert_allclose(
        res.jac.matvec([1.0, 2.0]), ref.jac.matvec([1.0, 2.0]), rtol=1e-7, atol=1e-12
    )


def test_args_and_kwargs_reach_fun_and_jac():
    res = least_squares(trivial, 2.0, jac=lambda x, a: 2 * (x - a), args=(3.0,))
    np.testing.assert_allclose(res.x, 3.0, rtol=1e-4)
    res = least_squares(trivial, 2.0, jac=lambda x, a: 2 * (x - a), kwargs={"a": 3.0})
    np.testing.assert_allclose(res.x, 3.0, rtol=1e-4)


def test_public_names():
    # The package exports optimize's functions (scipy's names plus `covariance`), the
    # report and plot helpers, the error type and the version; optimize's own list is
    # checked against its stub by stubtest.
    assert tf_optimize.__all__ == ["least_squares", "leastsq", "curve_fit", "covariance"]
    assert trustfit.__all__ == [*tf_optimize.__all__, "fit_report", "FitReport",
                                "ParamEstimate", "plot_fit", "TrustfitError", "__version__"]
    assert all(hasattr(trustfit, name) for name in trustfit.__all__)
    assert issubclass(trustfit.TrustfitError, RuntimeError)


def test_names_come_from_the_core_and_are_scipys():
    scipy_lsq = importlib.import_module("scipy.optimize._lsq.least_squares")
    assert list(tf_optimize.IMPLEMENTED_LOSSES) == list(scipy_lsq.IMPLEMENTED_LOSSES)
    # scipy's names first, then trustfit's own (an unknown name gets scipy's message).
    assert tf_optimize.METHODS == ("trf", "dogbox", "lm", "sparse_lm")
    assert tf_optimize.FD_METHODS == ("2-point", "3-point", "cs")
    assert tf_optimize.TR_SOLVERS == ("exact", "lsmr", "cholesky", "schur", "iterative_schur")
    for kind in ("method", "jac", "loss", "tr_solver"):
        assert isinstance(_trustfit.name_error(kind), ValueError)
    with pytest.raises(ValueError, match="unknown option `solver`"):
        raise _trustfit.name_error("solver")


def test_binding_options_dict():
    # An empty dict is the core's defaults, which are scipy's.
    x0 = np.array([2.0, 2.0])
    res = _trustfit.solve(rosen, x0, rosen(x0), {})
    ref = least_squares(rosen, x0)
    np.testing.assert_array_equal(res["x"], ref.x)
    assert (res["nfev"], res["status"], res["message"]) == (ref.nfev, ref.status, ref.message)
    # A misspelt key is an error, not silently a default.
    with pytest.raises(ValueError, match="unknown option `fttol`"):
        _trustfit.solve(rosen, x0, rosen(x0), {"fttol": 1e-3})
    with pytest.raises(ValueError, match="unknown option `dampp`"):
        _trustfit.solve(rosen, x0, rosen(x0), {"tr_options": {"dampp": 1.0}})
    with pytest.raises(ValueError, match="unknown option `maxfevs`"):
        _trustfit.leastsq_solve(rosen, x0, rosen(x0), {"maxfevs": 10}, args=(), convert=None)
