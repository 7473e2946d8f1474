"""trustfit.fit_report: the command line's report numbers from Python results.

The first tests run the command line (`trustfit fit DATA.csv --json`) on the data they fit
in Python and require the numbers to agree to rtol 1e-12: parameters, standard errors,
relative errors, correlations, χ², reduced χ², R², AIC and BIC. The binary is
$TRUSTFIT_CLI (tools/test-python.sh builds it and sets it, so these tests run in CI);
otherwise it is looked for in $CARGO_TARGET_DIR or target/ ({debug,release}/trustfit), and
the tests skip with the reason when it is absent.
"""

import json
import math
import os
import pathlib
import subprocess

import numpy as np
import pytest
from scipy.optimize import OptimizeWarning

import trustfit
import trustfit.batch
from trustfit import curve_fit, fit_report, least_squares

ROOT = pathlib.Path(__file__).resolve().parents[3]
RTOL = 1e-12


def _cli():
    exe = os.environ.get("TRUSTFIT_CLI")
    if exe:
        assert pathlib.Path(exe).is_file(), f"TRUSTFIT_CLI={exe} does not exist"
        return exe
    dirs = [os.environ.get("CARGO_TARGET_DIR"), str(ROOT / "target")]
    for d in filter(None, dirs):
        for profile in ("debug", "release"):
            p = pathlib.Path(d) / profile / "trustfit"
            if p.is_file():
                return str(p)
    pytest.skip("the trustfit command line is not built: `cargo build -p trustfit-cli` "
                "or set TRUSTFIT_CLI (tools/test-python.sh does)")


# y = a·exp(−k·t) + c with deterministic "noise"; parameters in the command line's
# (alphabetical) order a, c, k.
T = np.linspace(0.0, 6.0, 41)
NOISE = 0.02 * np.sin(7.3 * T) + 0.013 * np.cos(17.1 * T)
Y = 2.5 * np.exp(-0.8 * T) + 0.4 + NOISE
S = 0.02 + 0.01 * np.abs(np.cos(1.3 * T))
Y_OUT = Y.copy()
Y_OUT[[5, 22]] += 0.5  # outliers, for the robust loss
FORMULA = "a*exp(-k*t) + c"
NAMES = ["a", "c", "k"]


def decay(t, a, c, k):
    return a * np.exp(-k * t) + c


def decay_jac(t, a, c, k):
    e = np.exp(-k * t)
    return np.column_stack([e, np.ones_like(t), -a * t * e])


def _run_cli(tmp_path, y, args, sigma=None):
    cols = {"t": T, "y": y}
    if sigma is not None:
        cols["s"] = sigma
    lines = [",".join(cols)]
    lines += [",".join(repr(float(c[i])) for c in cols.values()) for i in range(T.size)]
    csv = tmp_path / "data.csv"
    csv.write_text("\n".join(lines) + "\n")
    cmd = [_cli(), "fit", str(csv), "--model", FORMULA, "--x", "t", "--y", "y",
           "--p0", "a=1,c=1,k=1", "--json", *args]
    if sigma is not None:
        cmd += ["--sigma", "s"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _assert_same(report, ref):
    """The report's numbers against the command line's JSON, rtol 1e-12, parameters
    matched by name (the command line orders them alphabetically)."""
    got = report.to_dict()
    names = ref["parameter_names"]
    assert sorted(got["parameter_names"]) == names
    order = [report.param_names.index(name) for name in names]
    assert got["dof"] == ref["dof"] and got["n_points"] == ref["n_points"]
    for name in names:
        for key in ("value", "stderr", "rel_stderr"):
            np.testing.assert_allclose(got["parameters"][name][key],
                                       ref["parameters"][name][key], rtol=RTOL,
                                       err_msg=f"{name}.{key}")
    for key in ("chi2", "reduced_chi2", "r2", "aic", "bic"):
        np.testing.assert_allclose(got[key], ref[key], rtol=RTOL, err_msg=key)
    pick = np.ix_(order, order)
    np.testing.assert_allclose(report.correlation[pick],
                               np.array(ref["correlation"], dtype=float), rtol=RTOL)
    np.testing.assert_allclose(report.covariance[pick],
                               np.array(ref["covariance"], dtype=float), rtol=RTOL)
    assert got["success"] == ref["success"] and got["warning"] == ref["warning"]


@pytest.mark.parametrize("absolute_sigma", [False, True])
def test_curve_fit_report_equals_cli_json(tmp_path, absolute_sigma):
    # method 'lm' (no bounds): curve_fit's leastsq with the analytic Jacobian, as the CLI.
    extra = ["--absolute-sigma"] if absolute_sigma else []
    ref = _run_cli(tmp_path, Y, extra, sigma=S)
    assert ref["method"] == "lm"
    out = curve_fit(decay, T, Y, p0=[1.0, 1.0, 1.0], sigma=S, jac=decay_jac,
                    absolute_sigma=absolute_sigma, full_output=True)
    rep = fit_report(out, Y, S, model=decay, absolute_sigma=absolute_sigma)
    _assert_same(rep, ref)
    assert rep.method == "lm" and rep.status == ref["status"] and rep.nfev == ref["nfev"]
    assert rep.njev == ref["njev"] and rep.message == ref["message"]
    np.testing.assert_allclose(rep.cost, ref["cost"], rtol=RTOL)


def test_unweighted_curve_fit_report_equals_cli_json(tmp_path):
    ref = _run_cli(tmp_path, Y, [])
    out = curve_fit(decay, T, Y, p0=[1.0, 1.0, 1.0], jac=decay_jac, full_output=True)
    _assert_same(fit_report(out, Y, model=decay), ref)


@pytest.mark.parametrize("loss", ["linear", "soft_l1"])
def test_least_squares_report_equals_cli_json(tmp_path, loss):
    # Bounds select trf; the residuals are (f − y)/σ as the CLI's.
    args = ["--bounds", "0 <= k <= 10", "--loss", loss, "--f-scale", "0.1"]
    ref = _run_cli(tmp_path, Y_OUT, args, sigma=S)
    assert ref["method"] == "trf"

    def residuals(p):
        return (decay(T, *p) - Y_OUT) / S

    def jac(p):
        return decay_jac(T, *p) / S[:, None]

    res = least_squares(residuals, [1.0, 1.0, 1.0], jac=jac, loss=loss, f_scale=0.1,
                        bounds=([-np.inf, -np.inf, 0.0], [np.inf, np.inf, 10.0]))
    rep = fit_report(res, Y_OUT, S, param_names=NAMES)
    _assert_same(rep, ref)
    np.testing.assert_allclose(rep.cost, ref["cost"], rtol=RTOL)
    assert (rep.status, rep.nfev, rep.njev) == (ref["status"], ref["nfev"], ref["njev"])


@pytest.mark.parametrize("method", ["lm", "trf"])
def test_batch_report_equals_cli_json(tmp_path, method):
    # The formula engine in both; row 1 of a batch of three is the CLI's data.
    args = ["--method", method]
    ref = _run_cli(tmp_path, Y, args, sigma=S)
    ys = np.vstack([Y * 1.1, Y, Y + 0.3])
    fit = trustfit.batch.curve_fit(FORMULA, {"t": T}, ys, p0=[1.0, 1.0, 1.0],
                                   sigma=S, method=method)
    assert fit.param_names == ["a", "k", "c"]  # order of first appearance
    rep = fit_report(fit, index=1)
    _assert_same(rep, ref)
    np.testing.assert_allclose(rep.cost, ref["cost"], rtol=RTOL)
    assert rep.method == method and rep.loss == "linear"
    assert rep.message == ref["message"] or method == "lm"


# ---- the report object ------------------------------------------------------------------


def _curve_fit_report(**kw):
    out = curve_fit(decay, T, Y, p0=[1.0, 1.0, 1.0], sigma=S, full_output=True)
    return out, fit_report(out, Y, S, model=decay, **kw)


def test_report_text_html_and_attributes():
    out, rep = _curve_fit_report()
    text = str(rep)
    lines = text.splitlines()
    assert lines[0] == "fit report: decay   (41 points, 3 parameters; relative sigma)"
    assert lines[2].split() == ["parameter", "value", "std.", "error", "rel.", "error"]
    assert lines[3].startswith("a ") and lines[3].endswith("%")
    for needle in ("correlation", "reduced chi2", "degrees of freedom  38", "R^2",
                   "AIC", "BIC", "method              lm (loss linear), nfev", "stopped             "
                   "converged (status"):
        assert needle in text, needle
    assert repr(rep) == text
    html = rep._repr_html_()
    assert html.startswith("<div") and html.count("<table>") == 3 and "χ²" in html
    a = rep.params["a"]
    assert a.name == "a" and a.value == out[0][0]
    assert a.stderr == pytest.approx(math.sqrt(out[1][0, 0]), rel=1e-15)
    assert a.rel_stderr == a.stderr / abs(a.value)
    assert rep.chi2 == pytest.approx(np.sum(out[2]["fvec"] ** 2), rel=1e-15)
    assert rep.reduced_chi2 == rep.chi2 / 38 and rep.dof == 38
    assert rep.aic == pytest.approx(41 * math.log(rep.chi2 / 41) + 6, rel=1e-14)
    assert rep.bic == pytest.approx(41 * math.log(rep.chi2 / 41) + 3 * math.log(41),
                                    rel=1e-14)
    assert np.all(np.diag(rep.correlation) == 1.0)
    assert np.allclose(rep.correlation, rep.correlation.T)
    assert 0.99 < rep.r2 < 1.0 and rep.success and rep.warning is None
    assert rep.to_dict()["parameters"]["k"]["value"] == rep.params["k"].value
    json.dumps(rep.to_dict())  # plain types only


def test_report_without_ydata_has_no_r2():
    out = curve_fit(decay, T, Y, p0=[1.0, 1.0, 1.0], full_output=True)
    rep = fit_report(out)
    assert math.isnan(rep.r2) and "n/a (pass ydata)" in str(rep)
    assert rep.param_names == ["p0", "p1", "p2"] and rep.model == "curve_fit"
    assert not math.isnan(rep.chi2) and rep.to_dict()["r2"] is None
    assert fit_report(out, param_names=["A", "C", "K"]).param_names == ["A", "C", "K"]


def test_covariance_matrix_sigma_gives_the_diagonal_r2():
    out1 = curve_fit(decay, T, Y, p0=[1.0, 1.0, 1.0], sigma=S, full_output=True)
    out2 = curve_fit(decay, T, Y, p0=[1.0, 1.0, 1.0], sigma=np.diag(S**2), full_output=True)
    r1 = fit_report(out1, Y, S)
    r2 = fit_report(out2, Y, np.diag(S**2))
    assert r2.r2 == pytest.approx(r1.r2, rel=1e-9)
    assert r2.chi2 == pytest.approx(r1.chi2, rel=1e-9)


def test_report_of_a_fit_without_covariance():
    # Two points, two parameters: no degrees of freedom, pcov all inf (with a warning).
    x, y = np.array([1.0, 2.0]), np.array([1.0, 3.0])
    with pytest.warns(OptimizeWarning):
        out = curve_fit(lambda x, a, b: a + b * x, x, y, full_output=True)
    rep = fit_report(out, y)
    assert rep.warning == "Covariance of the parameters could not be estimated"
    assert rep.dof == 0 and math.isnan(rep.reduced_chi2)
    assert np.isnan(rep.correlation).all() and np.isinf(rep.stderr).all()
    text = str(rep)
    assert "warning: Covariance" in text and "n/a" in text
    d = rep.to_dict()
    assert d["parameters"]["p0"]["stderr"] is None and d["reduced_chi2"] is None
    res = least_squares(lambda p: p[0] + p[1] * x - y, [0.0, 0.0])
    rep = fit_report(res)  # the warning goes into the report, not to the caller
    assert rep.warning == "Covariance of the parameters could not be estimated"


def test_least_squares_report_absolute_sigma():
    res = least_squares(lambda p: (decay(T, *p) - Y) / S, [1.0, 1.0, 1.0])
    rel = fit_report(res, Y, S)
    ab = fit_report(res, Y, S, absolute_sigma=True)
    np.testing.assert_allclose(ab.covariance * rel.reduced_chi2, rel.covariance, rtol=1e-12)
    assert "absolute sigma" in str(ab) and "relative sigma" in str(rel)
    assert rel.method is None and "nfev" in str(rel) and rel.model == "least_squares"


def test_batch_report_rows_and_errors():
    ys = np.vstack([Y, Y * 2.0, np.full(T.size, np.nan)])
    ys[1, 3] = np.nan  # left out of row 1: 40 points
    fit = trustfit.batch.curve_fit(FORMULA, {"t": T}, ys, p0=[1.0, 1.0, 1.0])
    r1 = fit_report(fit, index=1)
    assert r1.n_points == 40 and r1.dof == 37 and r1.success
    np.testing.assert_allclose(r1.chi2, 2 * fit.cost[1], rtol=1e-10)
    assert fit_report(fit, index=-2).chi2 == r1.chi2
    bad = fit_report(fit, index=2)
    assert not bad.success and bad.message.startswith("not fitted: ")
    assert bad.status == -3 and "NOT converged" in str(bad)
    with pytest.raises(TypeError, match="index"):
        fit_report(fit)
    with pytest.raises(IndexError):
        fit_report(fit, index=3)
    with pytest.raises(TypeError, match="carries"):
        fit_report(fit, Y, index=0)
    one = trustfit.batch.curve_fit(FORMULA, {"t": T}, Y[None, :], p0=[1.0, 1.0, 1.0])
    assert fit_report(one).chi2 == pytest.approx(fit_report(fit, index=0).chi2, rel=1e-12)


def test_batch_report_of_a_vectorized_python_model():
    def model(t, a, k, c):  # a, k, c: (K_active, 1)
        return a * np.exp(-k * t) + c

    ys = np.vstack([Y, Y + 1.0])
    fit = trustfit.batch.curve_fit(model, T, ys, p0=[1.0, 1.0, 1.0], sigma=S)
    formula = trustfit.batch.curve_fit(FORMULA, {"t": T}, ys, p0=[1.0, 1.0, 1.0],
                                       sigma=S, method="lockstep")
    for k in range(2):
        rp, rf = fit_report(fit, index=k), fit_report(formula, index=k)
        assert rp.method == "lockstep" and rp.model == "model"
        np.testing.assert_allclose(rp.values, rf.values, rtol=1e-6)
        np.testing.assert_allclose(rp.chi2, rf.chi2, rtol=1e-6)
        np.testing.assert_allclose(rp.chi2, 2 * fit.cost[k], rtol=1e-10)
        np.testing.assert_allclose(fit.model_values(k), formula.model_values(k), rtol=1e-6)


def test_fit_report_argument_errors():
    with pytest.raises(TypeError, match="full_output"):
        fit_report(curve_fit(decay, T, Y, p0=[1.0, 1.0, 1.0]))
    with pytest.raises(TypeError, match="fit_report takes"):
        fit_report([1.0, 2.0])
    out = curve_fit(decay, T, Y, p0=[1.0, 1.0, 1.0], full_output=True)
    with pytest.raises(ValueError, match="residuals"):
        fit_report(out, Y[:-1])
    with pytest.raises(ValueError, match="param_names"):
        fit_report(out, param_names=["a"])
    with pytest.raises(TypeError, match="index"):
        fit_report(out, index=0)


def test_formula_eval_is_the_batch_model():
    vals = trustfit._trustfit.formula_eval(FORMULA, ["t"], [T], np.array([2.0, 0.5, 0.1]))
    np.testing.assert_allclose(vals, 2.0 * np.exp(-0.5 * T) + 0.1, rtol=1e-15)
    with pytest.raises(ValueError):
        trustfit._trustfit.formula_eval("a*exp(", ["t"], [T], np.array([1.0]))
    with pytest.raises(ValueError):
        trustfit._trustfit.formula_eval(FORMULA, ["t"], [T], np.array([1.0]))


def test_docstring_examples():
    import doctest

    import trustfit.report

    assert doctest.testmod(trustfit.report).failed == 0
