"""Odd and failing user input, against scipy 1.17 (the reliability issue's P items): the
same call through scipy.optimize and trustfit ends the same way — the same result, or
the same exception type. Masked arrays and P4's stricter option checks are deliberate
differences (README, "Differences from scipy") and are tested as such.
"""

import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse

import trustfit


def _rosen(x):
    return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def _rosen_jac(x):
    return np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])


def _outcome(call):
    """The exception type, or what identifies a result."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # scipy's arithmetic on NaN warns (RuntimeWarning); not what is compared here.
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            r = call()
        except Exception as e:
            return type(e)
    if isinstance(r, tuple):  # leastsq
        return (tuple(r[0]), r[1])
    return (r.status, tuple(np.asarray(r.x)), float(r.cost), r.nfev, r.njev)


def _same(call):
    ref = _outcome(lambda: call(scipy.optimize))
    got = _outcome(lambda: call(trustfit))
    assert got == ref
    return got


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("from_call", [1, 2, 3, 5])
def test_p1_lm_with_a_jacobian_turning_non_finite_returns_scipys_result(bad, from_call):
    """P1: MINPACK gets the non-finite J as in scipy and ends with scipy's status and x
    (before: ValueError 'The Jacobian is not finite')."""

    def call(mod):
        calls = [0]

        def jac(x):
            calls[0] += 1
            return np.full((2, 2), bad) if calls[0] >= from_call else _rosen_jac(x)

        return mod.least_squares(_rosen, [-2.0, 1.0], jac=jac, method="lm")

    assert isinstance(_same(call), tuple)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("jac", ["2-point", "analytic"])
def test_p1_lm_with_residuals_turning_non_finite_returns_scipys_result(bad, jac):
    def call(mod):
        calls = [0]

        def fun(x):
            calls[0] += 1
            return np.array([bad, 1.0]) if calls[0] > 3 else _rosen(x)

        j = _rosen_jac if jac == "analytic" else jac
        return mod.least_squares(fun, [-2.0, 1.0], jac=j, method="lm")

    assert isinstance(_same(call), tuple)


@pytest.mark.parametrize("method", ["trf", "dogbox"])
def test_p2_empty_x0_or_residuals_end_at_once_with_status_1(method):
    """P2 (before: ValueError)."""
    r = _same(lambda mod: mod.least_squares(lambda x: np.array([1.0]), [], method=method))
    assert r[0] == 1
    r = _same(lambda mod: mod.least_squares(lambda x: np.array([]), [1.0], method=method))
    assert r[0] == 1
    full = trustfit.least_squares(lambda x: np.array([]), [1.0], method=method)
    assert full.jac.shape == (0, 1) and full.grad.shape == (1,) and full.success


def test_p3_a_huge_max_nfev_runs():
    """P3 (before: OverflowError)."""
    assert _same(lambda mod: mod.least_squares(_rosen, [-2.0, 1.0], max_nfev=2**70))[0] == 1


def test_p10_leastsq_maxfev_beyond_a_c_int_overflows():
    """P10 (before: ran)."""
    assert _same(lambda mod: mod.leastsq(_rosen, [-2.0, 1.0], maxfev=2**40)) is OverflowError
    assert isinstance(_same(lambda mod: mod.leastsq(_rosen, [-2.0, 1.0], maxfev=2**31 - 1)), tuple)


def test_p5_a_jacobian_turning_sparse_mid_run_is_densified():
    """P5 (before: ValueError)."""

    def call(mod):
        calls = [0]

        def jac(x):
            calls[0] += 1
            J = _rosen_jac(x)
            return scipy.sparse.csr_matrix(J) if calls[0] > 2 else J

        return mod.least_squares(_rosen, [-2.0, 1.0], jac=jac)

    assert _same(call)[0] == 1


@pytest.mark.parametrize(
    "value",
    [
        lambda x: np.array([x[0] > 0, True]),  # P6 bool (before: "succeeded")
        lambda x: "abc",  # P8 str: numpy's UFuncTypeError, as in scipy
    ],
)
def test_p6_p8_residuals_that_are_not_numbers_raise_numpys_type_error(value):
    got = _same(lambda mod: mod.least_squares(value, [1.0]))
    assert issubclass(got, TypeError)


@pytest.mark.parametrize("returns", [None, "abc", np.array([True, False])])
def test_p7_p8_residuals_turning_into_non_numbers_mid_run_raise_type_error(returns):
    """P7 (before: ValueError), P8 mid-run: numpy's own TypeError (a UFuncTypeError for a
    string, as in scipy)."""

    def call(mod):
        calls = [0]

        def fun(x):
            calls[0] += 1
            return returns if calls[0] > 2 else _rosen(x)

        return mod.least_squares(fun, [-2.0, 1.0])

    got = _same(call) if returns is not None else _outcome(lambda: call(trustfit))
    assert isinstance(got, type) and issubclass(got, TypeError)
    assert issubclass(_outcome(lambda: call(scipy.optimize)), TypeError)


def test_p9_masked_arrays_are_refused_with_a_clear_type_error():
    """P9: a deliberate difference (scipy computes with the mask's arithmetic)."""
    x0 = np.ma.masked_array([-2.0, 1.0], mask=[False, True])
    with pytest.raises(TypeError, match="masked array"):
        trustfit.least_squares(_rosen, x0)
    with pytest.raises(TypeError, match="masked array"):
        trustfit.least_squares(lambda x: np.ma.masked_array(_rosen(x), mask=[0, 1]), [-2.0, 1.0])


def test_p4_invalid_tolerance_and_f_scale_are_refused_as_documented():
    """P4: a deliberate difference listed in the README."""
    with pytest.raises(ValueError, match="ftol"):
        trustfit.least_squares(_rosen, [-2.0, 1.0], ftol=np.nan)
    with pytest.raises(ValueError, match="f_scale"):
        trustfit.least_squares(_rosen, [-2.0, 1.0], f_scale=-1.0, loss="soft_l1")


@pytest.mark.parametrize("method", ["trf", "dogbox"])
@pytest.mark.parametrize("loss", ["soft_l1", "huber", "cauchy", "arctan"])
def test_a_robust_loss_overflowing_at_x0_raises_as_scipy_does(method, loss):
    """(f/f_scale)² = ∞ at x0: scipy raises ValueError (trf) or LinAlgError, a ValueError
    (dogbox), from NaN in its SVD; trustfit raises a ValueError that names the cause
    (it returned status 1 with cost ∞ before: ρ′ = 0 made the gradient 0)."""
    t = np.linspace(0, 4, 25)

    def call(mod):
        return mod.least_squares(lambda p: p[0] * np.exp(-p[1] * t) - 1.0, [1e160, 0.0],
                                 loss=loss, method=method)

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError):
            call(scipy.optimize)
    with pytest.raises(ValueError, match=r"overflows: .* larger `f_scale`"):
        call(trustfit)


@pytest.mark.parametrize("max_nfev", [2.0, np.float64(2.0), 1e30, np.int64(3), True])
def test_a_float_max_nfev_with_lm_raises_scipys_type_error(max_nfev):
    """scipy hands 'lm''s max_nfev to MINPACK's C wrapper, which raises TypeError for a
    float (trustfit ran it as a count); integers run alike."""
    _same(lambda mod: mod.least_squares(_rosen, [-2.0, 1.0], method="lm", max_nfev=max_nfev))


@pytest.mark.parametrize("max_nfev", [2.0, np.float64(3.0)])
@pytest.mark.parametrize("method", ["trf", "dogbox"])
def test_a_whole_float_max_nfev_is_a_count_for_trf_and_dogbox(method, max_nfev):
    ref = scipy.optimize.least_squares(_rosen, [-2.0, 1.0], method=method, max_nfev=max_nfev)
    got = trustfit.least_squares(_rosen, [-2.0, 1.0], method=method, max_nfev=max_nfev)
    assert (got.status, got.nfev) == (ref.status, ref.nfev) == (0, int(max_nfev))
    np.testing.assert_allclose(got.x, ref.x, rtol=1e-12)


@pytest.mark.parametrize("maxfev", [-1, -7])
@pytest.mark.parametrize("with_dfun", [False, True])
def test_a_negative_maxfev_is_minpacks_default_count_as_in_scipy(maxfev, with_dfun):
    """scipy's C wrapper takes maxfev < 0 as 200·(n+1) (100·(n+1) with Dfun), quoting
    the value given in its message; trustfit ran without a limit, so a run that never
    converges (a NaN start) never ended. Through a NaN start MINPACK ends the inner loop
    on the NaN ratio and evaluates J again (trustfit stayed in it: one call fewer)."""

    def func(p):
        return np.atleast_1d(p[0] ** 2 - 2.0) * np.ones(3)

    def dfun(p):
        return np.column_stack([2 * p[0] * np.ones(3), 0.0 * p[1] * np.ones(3)])

    kw = {"Dfun": dfun} if with_dfun else {}
    for x0 in ([0.5, np.nan], [0.5, 1.0]):
        with np.errstate(all="ignore"):
            ref = scipy.optimize.leastsq(func, x0, maxfev=maxfev, full_output=True, **kw)
            got = trustfit.leastsq(func, x0, maxfev=maxfev, full_output=True, **kw)
        assert (got[4], got[3], got[2]["nfev"]) == (ref[4], ref[3], ref[2]["nfev"])
        np.testing.assert_allclose(got[0], ref[0], rtol=1e-12)


def _decay_residuals(p):
    t = np.linspace(0, 4, 25)
    return p[0] * np.exp(-p[1] * t) - 3.0 * np.exp(-1.3 * t)


@pytest.mark.parametrize("method", ["trf", "dogbox"])
def test_complex_residuals_with_an_imaginary_part_are_refused(method):
    """scipy's trf and dogbox compute on in complex numbers (a complex x); trustfit fitted
    the real part silently. Now a TypeError (README, "Differences from scipy"), at x0 or
    when a later evaluation turns complex."""
    with pytest.raises(TypeError, match="nonzero imaginary part"):
        trustfit.least_squares(lambda p: _decay_residuals(p) + 1e-3j, [1.0, 0.5], method=method)

    def later(p):
        return _decay_residuals(p) + (1e-3j if p[0] != 1.0 else 0.0)

    with pytest.raises(TypeError, match="nonzero imaginary part"):
        trustfit.least_squares(later, [1.0, 0.5], method=method)


@pytest.mark.parametrize("method", ["trf", "dogbox"])
def test_complex_residuals_with_a_zero_imaginary_part_fit_as_real(method):
    ref = trustfit.least_squares(_decay_residuals, [1.0, 0.5], method=method)
    got = trustfit.least_squares(lambda p: _decay_residuals(p).astype(complex), [1.0, 0.5],
                                 method=method)
    assert (got.status, got.nfev) == (ref.status, ref.nfev)
    np.testing.assert_array_equal(got.x, ref.x)
    assert got.x.dtype == np.float64


@pytest.mark.parametrize("imag", [0.0, 1e-3])
def test_complex_residuals_with_lm_raise_minpacks_error_as_scipy(imag):
    _same(lambda mod: mod.least_squares(lambda p: _decay_residuals(p) + imag * 1j, [1.0, 0.5],
                                        method="lm"))
