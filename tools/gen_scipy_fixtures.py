#!/usr/bin/env python3
"""Generate the scipy reference fixtures for trustfit.

Run from the repository root (pip's scipy and numpy, python3):

    python3 tools/gen_scipy_fixtures.py

Writes

* ``tests/fixtures/scipy/least_squares.json`` -- results of
  ``scipy.optimize.least_squares`` over a pruned grid of problems x methods x
  Jacobian kinds x losses x bounds x ``x_scale`` x tolerances x ``max_nfev`` x
  ``diff_step``;
* ``tests/fixtures/scipy/validation.json`` -- invalid calls with the exact
  exception type and ``str(exception)`` scipy produces (spec sections 1.2, 1.3).

Never edit the JSON files by hand: change this script and rerun it.

JSON encoding
-------------
* Floats are written by ``json.dumps`` (``repr`` precision, round-trips f64).
* JSON has no inf/nan, so every non-finite float -- in options, results and
  data alike -- is written as one of the *strings* ``"inf"``, ``"-inf"``,
  ``"nan"``. A reader must accept a number or one of these strings wherever a
  float is expected.
* ``null`` only ever means Python ``None``: in ``options`` a key whose value is
  ``null`` was passed explicitly as ``None`` (for ``ftol``/``xtol``/``gtol``
  that disables the test, spec 1.3); a key that is *absent* was not passed at
  all, so scipy's default applies. In results, ``njev`` is ``null`` for
  method 'lm' with a finite-difference Jacobian.
* ``options`` holds exactly the keyword arguments given to ``least_squares``
  (besides ``fun`` and ``x0``), with two encodings:
  - ``"jac": "analytic"`` means the problem's analytic Jacobian callable;
    other values are scipy's strings ('2-point', '3-point', 'cs').
  - ``"bounds": [lb, ub]``; each side is either a scalar (number or
    "inf"/"-inf" string; scipy broadcasts it to n) or a list of length n
    (validation cases may use other lengths on purpose).
  ``x_scale`` is "jac", a number (broadcast) or a list; ``diff_step`` a number
  or a list.
* Each case records ``x0`` as the numbers passed. Non-MINPACK problems are
  named by their registry name and are re-implemented in Rust in
  ``crates/trustfit/tests/common/fixture_problems.rs``. MINPACK problems are
  named ``"minpack:<label>"`` (label as in ``problems_minpack.Case.label``,
  e.g. ``"minpack:bard_n3_m15"``) and carry ``"start": "x0"`` (the
  ``Case.start`` string); the Rust side takes them from ``trustfit-problems``.
* Data that depends on libm rounding (``exp``/``sin``) or on a RNG is computed
  once here and stored in the top-level ``problem_data`` object, keyed by
  problem name, so the Rust side never recomputes it. The abscissae ``t`` are
  stored too; for reference they equal numpy's ``linspace(a, b, num)``, which
  for the grids used here is bitwise ``a + i * ((b - a) / (num - 1))``
  (i.e. ``i as f64 * (10.0 / 14.0)`` for expfit and ``i as f64 * (4.0 / 39.0)``
  for expdecay; note ``i * 10.0 / 14.0`` differs at i = 11). The script
  asserts this.
* Residual formulas are written with the operation order the Rust port uses;
  squares are ``x * x`` (never ``**2``, which on numpy scalars is libm ``pow``).

Schema of least_squares.json::

    {"generator", "scipy", "numpy", "python", "encoding": str,
     "problems": {name: {"n", "m", "x0", "cs": bool (jac='cs' usable), "formula",
                         ["start" (MINPACK)]}},
     "problem_data": {name: {"t": [...], "y": [...], "note": str}},
     "cases": [{"id", "problem", ["start"], "x0": [...], "options": {...},
                "tags": [...],          # spec13, spec2.3, spec2.5, spec3.3, sweep, loss,
                                        # bounds, x_scale, tol, max_nfev, diff_step, verbose,
                                        # warning
                "result": {"x", "cost", "fun", "grad", "optimality",
                           "active_mask": [int] (trf-unbounded float zeros written as 0),
                           "nfev", "njev": int | null, "status", "message", "success",
                           "jac": [[...]] (m rows, robust-loss scaled as scipy returns it)},
                ["stdout": str],        # only when options has verbose
                ["warnings": ["UserWarning: ...", ...]]}]}   # only when scipy warned

validation.json has the same header, "problems", "problem_data" (empty) and
"cases": [{"id", "rule" (spec section), "problem", "call": {kwargs..., "x0"},
"error_type": "ValueError" | "TypeError", "message": str(exception),
["warnings"]}].
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import platform
import sys
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy.optimize import least_squares  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT_DIR = os.path.join(REPO, "tests", "fixtures", "scipy")
MINPACK_DIR = os.environ.get("TRUSTFIT_MINPACK_PY", "/work/shared/bench-peers/python")
sys.path.insert(0, MINPACK_DIR)
import problems_minpack  # noqa: E402

INF = math.inf


# ---------------------------------------------------------------------------
# encoding helpers
# ---------------------------------------------------------------------------

def enc(v):
    """Convert to JSON-able Python values; non-finite floats -> strings."""
    if isinstance(v, dict):
        return {k: enc(w) for k, w in v.items()}
    if isinstance(v, (list, tuple)):
        return [enc(w) for w in v]
    if isinstance(v, np.ndarray):
        return enc(v.tolist())
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    return v


def dec(v):
    """Inverse of enc for option values: "inf"/"-inf"/"nan" -> floats."""
    if isinstance(v, list):
        return [dec(w) for w in v]
    if v == "inf":
        return INF
    if v == "-inf":
        return -INF
    if v == "nan":
        return math.nan
    return v


# ---------------------------------------------------------------------------
# problem registry
# ---------------------------------------------------------------------------

class Problem:
    def __init__(self, name, n, m, fun, jac, x0, cs_ok, formula, data=None, start=None):
        self.name, self.n, self.m = name, n, m
        self.fun, self.jac = fun, jac
        self.x0 = list(map(float, x0))
        self.cs_ok = cs_ok          # residual is complex-analytic (jac='cs' allowed)
        self.formula = formula
        self.data = data            # stored in problem_data[name]
        self.start = start          # MINPACK start label


def linspace_formula(a, b, num):
    t = np.array([a + i * ((b - a) / (num - 1)) for i in range(num)])
    assert np.array_equal(t, np.linspace(a, b, num)), "linspace formula mismatch"
    return t


# expfit data (spec section 13)
EXPFIT_T = linspace_formula(0.0, 10.0, 15)
assert np.array_equal(EXPFIT_T, np.arange(15) * (10.0 / 14.0))
EXPFIT_Y = 0.5 + 2 * np.exp(-EXPFIT_T) + 0.1 * np.sin(3 * EXPFIT_T)
EXPFIT_Y[3] += 2
EXPFIT_Y[8] += 2

# expdecay data: 2.5 exp(-1.3 t) + seeded Gaussian noise; an outlier variant.
EXPDECAY_SEED = 20240607
EXPDECAY_T = linspace_formula(0.0, 4.0, 40)
assert np.array_equal(EXPDECAY_T, np.arange(40) * (4.0 / 39.0))
_rng = np.random.default_rng(EXPDECAY_SEED)
EXPDECAY_NOISE = 0.05 * _rng.standard_normal(40)
EXPDECAY_Y = 2.5 * np.exp(-1.3 * EXPDECAY_T) + EXPDECAY_NOISE
EXPDECAY_OUT_Y = EXPDECAY_Y.copy()
EXPDECAY_OUT_Y[5] += 1.5
EXPDECAY_OUT_Y[17] += 1.0
EXPDECAY_OUT_Y[30] -= 0.8


def _rosen(x):
    return np.array([10.0 * (x[1] - x[0] * x[0]), 1.0 - x[0]])


def _rosen_jac(x):
    return np.array([[-20.0 * x[0], 10.0], [-1.0, 0.0]])


def _expfit(x, t=EXPFIT_T, y=EXPFIT_Y):
    return x[0] + x[1] * np.exp(x[2] * t) - y


def _expfit_jac(x, t=EXPFIT_T):
    e = np.exp(x[2] * t)
    return np.column_stack([np.ones_like(t), e, x[1] * t * e])


def _linear2x2(x):
    return np.array([3.0 * x[0] + 1.0 * x[1] - 9.0,
                     1.0 * x[0] + 2.0 * x[1] - 8.0])


def _linear2x2_jac(x):
    return np.array([[3.0, 1.0], [1.0, 2.0]])


def _make_expdecay(y):
    def fun(x, t=EXPDECAY_T, y=y):
        return x[0] * np.exp(-x[1] * t) - y

    def jac(x, t=EXPDECAY_T):
        e = np.exp(-x[1] * t)
        return np.column_stack([e, -x[0] * t * e])
    return fun, jac


def _scalar_sq(x):
    return np.array([x[0] * x[0] + 5.0])


def _scalar_sq_jac(x):
    return np.array([[2.0 * x[0]]])


def _trig_bounded(x):
    return np.array([x[0] - 3.0, x[1] + 2.0, x[0] * x[1] - 1.0])


def _trig_bounded_jac(x):
    return np.array([[1.0, 0.0], [0.0, 1.0], [x[1], x[0]]])


def _underdetermined(x):
    return np.array([x[0] * x[0] + x[1] * x[1] - 4.0])


def _underdetermined_jac(x):
    return np.array([[2.0 * x[0], 2.0 * x[1]]])


def _sqrt_domain(x):
    with np.errstate(all="ignore"):
        return np.array([np.sqrt(x[0]) - 1.0, x[1]])


def _sqrt_domain_jac(x):
    with np.errstate(all="ignore"):
        return np.array([[0.5 / np.sqrt(x[0]), 0.0], [0.0, 1.0]])


def _bad_jac_shape(x):
    return np.array([[-20.0 * x[0], 10.0], [-1.0, 0.0], [0.0, 0.0]])


PROBLEMS: dict[str, Problem] = {}


def register(p):
    assert p.name not in PROBLEMS
    PROBLEMS[p.name] = p


register(Problem("rosenbrock", 2, 2, _rosen, _rosen_jac, [-2.0, 1.0], True,
                 "f = [10*(x1 - x0*x0), 1 - x0]"))
register(Problem("expfit", 3, 15, _expfit, _expfit_jac, [1.0, 1.0, 0.0], True,
                 "f_i = x0 + x1*exp(x2*t_i) - y_i; t, y in problem_data",
                 data={"t": EXPFIT_T, "y": EXPFIT_Y,
                       "note": "t = linspace(0,10,15) = i*(10/14); "
                               "y = 0.5 + 2*exp(-t) + 0.1*sin(3*t), y[3] += 2, y[8] += 2"}))
register(Problem("linear2x2", 2, 2, _linear2x2, _linear2x2_jac, [0.0, 0.0], True,
                 "f = [3*x0 + 1*x1 - 9, 1*x0 + 2*x1 - 8]  (A = [[3,1],[1,2]], b = [9,8])"))
_ed_f, _ed_j = _make_expdecay(EXPDECAY_Y)
register(Problem("expdecay", 2, 40, _ed_f, _ed_j, [1.0, 1.0], True,
                 "f_i = x0*exp((-x1)*t_i) - y_i; t, y in problem_data",
                 data={"t": EXPDECAY_T, "y": EXPDECAY_Y,
                       "note": f"t = linspace(0,4,40) = i*(4/39); y = 2.5*exp(-1.3*t) + "
                               f"0.05*default_rng({EXPDECAY_SEED}).standard_normal(40)"}))
_edo_f, _edo_j = _make_expdecay(EXPDECAY_OUT_Y)
register(Problem("expdecay_outlier", 2, 40, _edo_f, _edo_j, [1.0, 1.0], True,
                 "as expdecay with outliers: y[5] += 1.5, y[17] += 1.0, y[30] -= 0.8",
                 data={"t": EXPDECAY_T, "y": EXPDECAY_OUT_Y,
                       "note": "expdecay's y with y[5] += 1.5, y[17] += 1.0, y[30] -= 0.8"}))
register(Problem("scalar_sq", 1, 1, _scalar_sq, _scalar_sq_jac, [2.0], True,
                 "f = [x0*x0 + 5]"))
register(Problem("trig_bounded", 2, 3, _trig_bounded, _trig_bounded_jac, [1.0, 1.0], True,
                 "f = [x0 - 3, x1 + 2, x0*x1 - 1]; used with bounds [0,-1]..[2,5] "
                 "(unconstrained minimum outside the box)"))
register(Problem("underdetermined", 2, 1, _underdetermined, _underdetermined_jac,
                 [1.0, 0.5], True, "f = [x0*x0 + x1*x1 - 4]  (m < n)"))
register(Problem("sqrt_domain", 2, 2, _sqrt_domain, _sqrt_domain_jac, [-1.0, 0.0], True,
                 "f = [sqrt(x0) - 1, x1]  (NaN for x0 < 0; validation only)"))
register(Problem("rosenbrock_bad_jac_shape", 2, 2, _rosen, _bad_jac_shape, [-2.0, 1.0], False,
                 "rosenbrock whose analytic jac returns shape (3, 2) (validation only)"))

# MINPACK problems (Rust side: trustfit-problems). cs_ok: residual built only
# from + - * / and numpy exp/sin/cos, so it accepts complex x and is analytic.
# helical_valley uses math.atan / math.hypot: not complex-safe.
MINPACK_WANTED = {
    "bard": True, "kowalik_osborne": True, "meyer": True, "box_3d": True,
    "osborne1": True, "helical_valley": False, "powell_singular": True,
    "freudenstein_roth": True, "brown_dennis": True, "jennrich_sampson": True,
}
for _c in problems_minpack.cases():
    if _c.name in MINPACK_WANTED and _c.start == "x0":
        def _mk(c):
            def fun(x):
                return c._fun(x, c.m)

            def jac(x):
                return c._jac(np.asarray(x, dtype=float), c.m)
            return fun, jac
        _f, _j = _mk(_c)
        register(Problem("minpack:" + _c.label, _c.n, _c.m, _f, _j, _c.x0,
                         MINPACK_WANTED[_c.name],
                         f"MINPACK-1 problem {_c.nprob} ({_c.name}), problems_minpack.py",
                         start=_c.start))
assert len([p for p in PROBLEMS if p.startswith("minpack:")]) == len(MINPACK_WANTED)


def check_problems():
    """Analytic J vs central differences; cs J vs analytic J where cs_ok."""
    for p in PROBLEMS.values():
        if p.name in ("sqrt_domain", "rosenbrock_bad_jac_shape"):
            continue
        x = np.array(p.x0) + 0.01 * (1.0 + np.abs(p.x0))
        f = np.asarray(p.fun(x))
        assert f.shape == (p.m,), (p.name, f.shape)
        J = p.jac(x)
        assert J.shape == (p.m, p.n), p.name
        Jfd = np.empty_like(J)
        for j in range(p.n):
            h = 1e-6 * max(1.0, abs(x[j]))
            xp, xm = x.copy(), x.copy()
            xp[j] += h
            xm[j] -= h
            Jfd[:, j] = (p.fun(xp) - p.fun(xm)) / (2 * h)
        err = np.max(np.abs(J - Jfd)) / max(1.0, np.max(np.abs(J)))
        assert err < 1e-5, (p.name, err)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # helical_valley: ComplexWarning
                Jcs = np.empty_like(J)
                for j in range(p.n):
                    xc = x.astype(complex)
                    xc[j] += 1e-20j
                    Jcs[:, j] = np.imag(p.fun(xc)) / 1e-20
            cs_works = np.max(np.abs(J - Jcs)) / max(1.0, np.max(np.abs(J))) < 1e-10
        except TypeError:
            cs_works = False
        assert cs_works == p.cs_ok, (p.name, cs_works)


# ---------------------------------------------------------------------------
# running scipy
# ---------------------------------------------------------------------------

def build_kwargs(problem, options):
    kw = {}
    for k, v in options.items():
        if k == "jac":
            kw[k] = problem.jac if v == "analytic" else v
        elif k == "bounds":
            kw[k] = tuple(dec(side) for side in v)
        else:
            kw[k] = dec(v)
    return kw


def run(problem, x0, options):
    """Call least_squares; returns (result, stdout, warnings)."""
    kw = build_kwargs(problem, options)
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"), contextlib.redirect_stdout(out):
            res = least_squares(problem.fun, np.array(dec(x0), dtype=float), **kw)
    msgs = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in wlist))
    return res, out.getvalue(), msgs


def result_dict(res):
    J = res.jac
    if not isinstance(J, np.ndarray):
        J = J.toarray()
    return {
        "x": res.x, "cost": res.cost, "fun": res.fun, "grad": res.grad,
        "optimality": res.optimality,
        "active_mask": [int(a) for a in res.active_mask],
        "nfev": int(res.nfev),
        "njev": None if res.njev is None else int(res.njev),
        "status": int(res.status), "message": res.message,
        "success": bool(res.success), "jac": J,
    }


CASES = []
_BY_KEY = {}
_IDS = set()
DROPPED = []


def add(cid, pname, x0=None, tags=(), **options):
    p = PROBLEMS[pname]
    x0 = p.x0 if x0 is None else [float(v) for v in x0]
    key = json.dumps([pname, enc(x0), enc(options)], sort_keys=True)
    if key in _BY_KEY:                       # same call already present: merge tags
        c = _BY_KEY[key]
        c["tags"] = sorted(set(c["tags"]) | set(tags))
        return
    assert cid not in _IDS, cid
    _IDS.add(cid)
    try:
        res, stdout, wmsgs = run(p, x0, options)
    except Exception as e:                   # noqa: BLE001 - report and drop
        DROPPED.append((cid, f"{type(e).__name__}: {e}"))
        print(f"dropped {cid}: {type(e).__name__}: {e}", file=sys.stderr)
        return
    case = {"id": cid, "problem": pname}
    if p.start is not None:
        case["start"] = p.start
    case["x0"] = x0
    case["options"] = options
    case["tags"] = sorted(set(tags))
    case["result"] = result_dict(res)
    if options.get("verbose"):
        case["stdout"] = stdout
    if wmsgs:
        case["warnings"] = wmsgs
    CASES.append(case)
    _BY_KEY[key] = case


def short(pname):
    return pname.replace("minpack:", "mp_")


def xtag(x0):
    return "x0_" + "_".join(f"{v:g}" for v in x0).replace("-", "m").replace(".", "p")


JACS = ["analytic", "2-point", "3-point", "cs"]
METHODS = ["trf", "dogbox", "lm"]
LOSSES = ["linear", "soft_l1", "huber", "cauchy", "arctan"]


def jacs_for(pname):
    return [j for j in JACS if j != "cs" or PROBLEMS[pname].cs_ok]


def build_grid():
    # -- spec section 13 and 2.5 ground truth -------------------------------
    T = ("spec13",)
    for m in ("trf", "dogbox"):
        for j in ("analytic", "2-point", "3-point"):
            add(f"rosen_{m}_{j}_unbounded", "rosenbrock", [-2, 1], T, method=m, jac=j)
    for j in ("analytic", "2-point"):
        add(f"rosen_lm_{j}_unbounded", "rosenbrock", [-2, 1], T, method="lm", jac=j)
    add("rosen_trf_analytic_lsmr", "rosenbrock", [-2, 1], T, method="trf", jac="analytic",
        tr_solver="lsmr")
    add("rosen_dogbox_analytic_lsmr", "rosenbrock", [-2, 1], T, method="dogbox",
        jac="analytic", tr_solver="lsmr")
    for m in ("trf", "dogbox"):
        add(f"rosen_{m}_analytic_xscale_jac", "rosenbrock", [-2, 1], T, method=m,
            jac="analytic", x_scale="jac")
    b1 = [["-inf", 1.5], "inf"]
    b2 = [[1.0, 1.5], [3.0, 3.0]]
    for m in ("trf", "dogbox"):
        for j in ("analytic", "2-point"):
            add(f"rosen22_{m}_{j}_lbx1", "rosenbrock", [2, 2], T, method=m, jac=j, bounds=b1)
    add("rosen22_trf_analytic_box_lsmr", "rosenbrock", [2, 2], T, method="trf",
        jac="analytic", bounds=b2, tr_solver="lsmr")
    add("rosen22_trf_2point_box_lsmr", "rosenbrock", [2, 2], T, method="trf",
        jac="2-point", bounds=b2, tr_solver="lsmr")
    add("expfit_trf_2point_linear", "expfit", None, T, method="trf", jac="2-point")
    for loss in ("soft_l1", "huber", "cauchy", "arctan"):
        add(f"expfit_trf_2point_{loss}_fs0p1", "expfit", None, T, method="trf",
            jac="2-point", loss=loss, f_scale=0.1)
    add("expfit_dogbox_2point_soft_l1_fs0p1", "expfit", None, T, method="dogbox",
        jac="2-point", loss="soft_l1", f_scale=0.1)
    add("expfit_lm_2point", "expfit", None, T, method="lm", jac="2-point")
    add("expfit_lm_2point_xscale1", "expfit", None, T, method="lm", jac="2-point", x_scale=1.0)
    add("expfit_lm_analytic", "expfit", None, T, method="lm", jac="analytic")
    # spec 2.3 max_nfev reference counts
    for m in ("trf", "dogbox", "lm"):
        for k in (1, 2, 3):
            add(f"rosen_{m}_analytic_maxnfev{k}", "rosenbrock", [-2, 1], ("spec2.3", "max_nfev"),
                method=m, jac="analytic", max_nfev=k)
    # spec 2.5 golden verbose trace (default jac '2-point', trf/exact)
    add("rosen22_trf_2point_lbx1_verbose2", "rosenbrock", [2, 2], ("spec2.5", "verbose"),
        method="trf", jac="2-point", bounds=b1, verbose=2)
    add("rosen22_dogbox_2point_lbx1_verbose2", "rosenbrock", [2, 2], ("verbose",),
        method="dogbox", jac="2-point", bounds=b1, verbose=2)
    add("rosen_lm_analytic_verbose1", "rosenbrock", [-2, 1], ("verbose",),
        method="lm", jac="analytic", verbose=1)
    add("rosen_lm_analytic_verbose2", "rosenbrock", [-2, 1], ("verbose",),
        method="lm", jac="analytic", verbose=2)
    add("expfit_trf_analytic_huber_verbose2", "expfit", None, ("verbose",),
        method="trf", jac="analytic", loss="huber", f_scale=0.1, verbose=2)
    add("expfit_dogbox_analytic_verbose1", "expfit", None, ("verbose",),
        method="dogbox", jac="analytic", verbose=1)

    # spec 3.3 robust-loss J scaling at x0 (max_nfev=1 -> res.jac is J_s(x0))
    for m in ("trf", "dogbox"):
        for loss in LOSSES:
            add(f"scalar_sq_{m}_{loss}_maxnfev1", "scalar_sq", [2.0], ("spec3.3", "loss"),
                method=m, jac="analytic", loss=loss, max_nfev=1)
        add(f"scalar_sq_{m}_huber_fs10_maxnfev1", "scalar_sq", [2.0], ("spec3.3", "loss"),
            method=m, jac="analytic", loss="huber", f_scale=10.0, max_nfev=1)

    # -- method x jac sweep, defaults ----------------------------------------
    starts = [("rosenbrock", [-2.0, 1.0]), ("rosenbrock", [2.0, 2.0]), ("expfit", None),
              ("linear2x2", None), ("expdecay", None), ("scalar_sq", None),
              ("trig_bounded", None), ("underdetermined", None)]
    starts += [(p, None) for p in PROBLEMS if p.startswith("minpack:")]
    for pname, x0 in starts:
        xs = "" if x0 is None else "_" + xtag(x0)
        for m in METHODS:
            if m == "lm" and PROBLEMS[pname].m < PROBLEMS[pname].n:
                continue            # validation error, see validation.json
            for j in jacs_for(pname):
                add(f"{short(pname)}{xs}_{m}_{j}", pname, x0, ("sweep",), method=m, jac=j)

    # -- losses (trf, dogbox) -------------------------------------------------
    for m in ("trf", "dogbox"):
        for pname, x0 in (("expfit", None), ("expdecay_outlier", None),
                          ("rosenbrock", [-2.0, 1.0])):
            for loss in LOSSES:
                for fs in (1.0, 0.1):
                    add(f"{pname}_{m}_analytic_{loss}_fs{fs:g}".replace(".", "p"), pname, x0,
                        ("loss",), method=m, jac="analytic", loss=loss, f_scale=fs)
        for loss in LOSSES:
            for fs in (1.0, 0.1):
                add(f"expfit_{m}_2point_{loss}_fs{fs:g}".replace(".", "p"), "expfit", None,
                    ("loss",), method=m, jac="2-point", loss=loss, f_scale=fs)
            add(f"scalar_sq_{m}_analytic_{loss}", "scalar_sq", [2.0], ("loss",),
                method=m, jac="analytic", loss=loss)
        add(f"expdecay_outlier_{m}_3point_soft_l1_fs0p1", "expdecay_outlier", None, ("loss",),
            method=m, jac="3-point", loss="soft_l1", f_scale=0.1)
        add(f"expdecay_outlier_{m}_cs_cauchy_fs0p1", "expdecay_outlier", None, ("loss",),
            method=m, jac="cs", loss="cauchy", f_scale=0.1)
        add(f"expdecay_outlier_{m}_analytic_huber_fs0p1_xscale_jac", "expdecay_outlier", None,
            ("loss", "x_scale"), method=m, jac="analytic", loss="huber", f_scale=0.1,
            x_scale="jac")
        add(f"trig_bounded_{m}_analytic_soft_l1_box", "trig_bounded", None, ("loss", "bounds"),
            method=m, jac="analytic", loss="soft_l1", bounds=[[0.0, -1.0], [2.0, 5.0]])

    # -- bounds (trf, dogbox) ---------------------------------------------------
    bound_cfgs = [
        ("rosenbrock", [2.0, 2.0], [["-inf", 1.5], "inf"], "lbx1_ubscalar"),
        ("rosenbrock", [2.0, 2.0], [[1.0, 1.5], [3.0, 3.0]], "box_active"),
        ("rosenbrock", [2.0, 2.0], [[1.5, "-inf"], "inf"], "lower_only_active"),
        ("rosenbrock", [-2.0, 1.0], ["-inf", [0.5, "inf"]], "upper_only_active"),
        ("rosenbrock", [-2.0, 1.0], [[-10.0, -10.0], [10.0, 10.0]], "box_inactive"),
        ("rosenbrock", [-2.0, 1.0], ["-inf", "inf"], "explicit_infinite"),
        ("trig_bounded", [1.0, 1.0], [[0.0, -1.0], [2.0, 5.0]], "solution_on_bound"),
        ("trig_bounded", [2.0, -1.0], [[0.0, -1.0], [2.0, 5.0]], "x0_on_bounds"),
        ("trig_bounded", [0.0, 0.0], [[0.0, -1.0], [2.0, 5.0]], "x0_on_lower"),
        ("linear2x2", [0.0, 0.0], [[0.0, 0.0], [1.5, 10.0]], "active_upper"),
        ("expdecay", [1.0, 1.0], [[0.0, 0.0], [5.0, 1.0]], "rate_capped"),
        ("expfit", [1.0, 1.0, 0.0], [[0.0, 0.0, -5.0], [5.0, 5.0, 0.0]], "box"),
        ("scalar_sq", [2.0], [1.0, 3.0], "scalar_bounds"),
        ("minpack:box_3d_n3_m10", [0.0, 10.0, 20.0], [[-1.0, 0.0, 0.0], [5.0, 10.0, 20.0]],
         "x0_on_upper"),
        ("minpack:bard_n3_m15", [1.0, 1.0, 1.0], [[0.0, 0.5, 0.5], [1.0, 2.0, 2.0]], "box"),
    ]
    for pname, x0, b, lab in bound_cfgs:
        for m in ("trf", "dogbox"):
            for j in jacs_for(pname):
                add(f"{short(pname)}_{xtag(x0)}_{m}_{j}_bounds_{lab}", pname, x0, ("bounds",),
                    method=m, jac=j, bounds=b)
    for m in ("trf", "dogbox"):
        add(f"trig_bounded_{m}_analytic_bounds_xscale_jac", "trig_bounded", None,
            ("bounds", "x_scale"), method=m, jac="analytic",
            bounds=[[0.0, -1.0], [2.0, 5.0]], x_scale="jac")
        add(f"trig_bounded_{m}_analytic_bounds_xscale_arr", "trig_bounded", None,
            ("bounds", "x_scale"), method=m, jac="analytic",
            bounds=[[0.0, -1.0], [2.0, 5.0]], x_scale=[1.0, 2.0])
        add(f"rosen22_{m}_3point_box_diffstep", "rosenbrock", [2.0, 2.0],
            ("bounds", "diff_step"), method=m, jac="3-point",
            bounds=[[1.0, 1.5], [3.0, 3.0]], diff_step=1e-3)
        add(f"rosen22_{m}_2point_box_diffstep", "rosenbrock", [2.0, 2.0],
            ("bounds", "diff_step"), method=m, jac="2-point",
            bounds=[[1.0, 1.5], [3.0, 3.0]], diff_step=1e-3)
        for k in (1, 2, 3, 5):
            add(f"rosen22_{m}_analytic_lbx1_maxnfev{k}", "rosenbrock", [2.0, 2.0],
                ("bounds", "max_nfev"), method=m, jac="analytic",
                bounds=[["-inf", 1.5], "inf"], max_nfev=k)

    # -- x_scale ----------------------------------------------------------------
    xs_arrays = {"rosenbrock": [0.5, 2.0], "expfit": [1.0, 1.0, 0.1],
                 "expdecay": [2.0, 0.5], "minpack:meyer_n3_m16": [0.01, 1000.0, 100.0],
                 "minpack:bard_n3_m15": [0.1, 1.0, 1.0]}
    for pname, arr in xs_arrays.items():
        x0 = [-2.0, 1.0] if pname == "rosenbrock" else None
        for m in METHODS:
            add(f"{short(pname)}_{m}_analytic_xscale_jac", pname, x0, ("x_scale",),
                method=m, jac="analytic", x_scale="jac")
            add(f"{short(pname)}_{m}_analytic_xscale_arr", pname, x0, ("x_scale",),
                method=m, jac="analytic", x_scale=arr)
            add(f"{short(pname)}_{m}_analytic_xscale_scalar", pname, x0, ("x_scale",),
                method=m, jac="analytic", x_scale=2.0)
    for m in METHODS:
        add(f"rosen_{m}_2point_xscale_jac", "rosenbrock", [-2.0, 1.0], ("x_scale",),
            method=m, jac="2-point", x_scale="jac")
        add(f"expfit_{m}_2point_xscale_arr", "expfit", None, ("x_scale",),
            method=m, jac="2-point", x_scale=[1.0, 1.0, 0.1])

    # -- tolerances -------------------------------------------------------------
    tol_problems = [("rosenbrock", [-2.0, 1.0]), ("expfit", None), ("expdecay", None),
                    ("minpack:bard_n3_m15", None)]
    for pname, x0 in tol_problems:
        for m in METHODS:
            add(f"{short(pname)}_{m}_analytic_tight", pname, x0, ("tol",), method=m,
                jac="analytic", ftol=1e-12, xtol=1e-12, gtol=1e-12)
            add(f"{short(pname)}_{m}_analytic_loose", pname, x0, ("tol",), method=m,
                jac="analytic", ftol=1e-3, xtol=1e-3, gtol=1e-3)
        for m in ("trf", "dogbox"):
            add(f"{short(pname)}_{m}_analytic_ftol_only", pname, x0, ("tol",), method=m,
                jac="analytic", xtol=None, gtol=None)
    for pname, x0 in tol_problems[:2]:
        for m in ("trf", "dogbox"):
            add(f"{short(pname)}_{m}_analytic_gtol_only", pname, x0, ("tol",), method=m,
                jac="analytic", ftol=None, xtol=None)
            add(f"{short(pname)}_{m}_analytic_xtol_only", pname, x0, ("tol",), method=m,
                jac="analytic", ftol=None, gtol=None)
            add(f"{short(pname)}_{m}_analytic_ftol0", pname, x0, ("tol", "warning"), method=m,
                jac="analytic", ftol=0.0)
    add("rosen22_trf_analytic_lbx1_tight", "rosenbrock", [2.0, 2.0], ("tol", "bounds"),
        method="trf", jac="analytic", bounds=[["-inf", 1.5], "inf"],
        ftol=1e-12, xtol=1e-12, gtol=1e-12)
    add("rosen22_dogbox_analytic_lbx1_tight", "rosenbrock", [2.0, 2.0], ("tol", "bounds"),
        method="dogbox", jac="analytic", bounds=[["-inf", 1.5], "inf"],
        ftol=1e-12, xtol=1e-12, gtol=1e-12)

    # -- max_nfev ---------------------------------------------------------------
    for m in METHODS:
        for k in (1, 2, 3, 5):
            add(f"rosen_{m}_analytic_maxnfev{k}", "rosenbrock", [-2.0, 1.0], ("max_nfev",),
                method=m, jac="analytic", max_nfev=k)
            add(f"rosen_{m}_2point_maxnfev{k}", "rosenbrock", [-2.0, 1.0], ("max_nfev",),
                method=m, jac="2-point", max_nfev=k)
            add(f"expfit_{m}_analytic_maxnfev{k}", "expfit", None, ("max_nfev",),
                method=m, jac="analytic", max_nfev=k)
        add(f"expfit_{m}_3point_maxnfev20", "expfit", None, ("max_nfev",),
            method=m, jac="3-point", max_nfev=20)

    # -- diff_step --------------------------------------------------------------
    for pname, x0 in (("rosenbrock", [-2.0, 1.0]), ("expfit", None), ("expdecay", None)):
        for m in METHODS:
            for j in ("2-point", "3-point"):
                add(f"{pname}_{m}_{j}_diffstep1em3", pname, x0, ("diff_step",),
                    method=m, jac=j, diff_step=1e-3)
    for m in METHODS:
        for j in ("2-point", "3-point"):
            add(f"rosen_{m}_{j}_diffstep_arr", "rosenbrock", [-2.0, 1.0], ("diff_step",),
                method=m, jac=j, diff_step=[1e-4, 1e-6])
    add("rosen_trf_2point_diffstep_tiny", "rosenbrock", [-2.0, 1.0], ("diff_step",),
        method="trf", jac="2-point", diff_step=1e-20)
    add("rosen_trf_cs_diffstep", "rosenbrock", [-2.0, 1.0], ("diff_step",),
        method="trf", jac="cs", diff_step=1e-3)


# ---------------------------------------------------------------------------
# validation cases
# ---------------------------------------------------------------------------

VALIDATION = []


def vcase(cid, pname, x0, rule, **kwargs):
    p = PROBLEMS[pname]
    call = dict(kwargs)
    call["x0"] = x0
    kw = build_kwargs(p, kwargs)
    x0v = dec(x0)
    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always")
        try:
            with np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
                least_squares(p.fun, x0v, **kw)
        except (ValueError, TypeError) as e:
            err = e
        else:
            raise AssertionError(f"validation case {cid} did not raise")
    case = {"id": cid, "rule": rule, "problem": p.name, "call": call,
            "error_type": type(err).__name__, "message": str(err)}
    msgs = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in wlist))
    if msgs:
        case["warnings"] = msgs
    VALIDATION.append(case)


def build_validation():
    R = "rosenbrock"
    x = [-2.0, 1.0]
    vcase("method_invalid", R, x, "1.2.1", method="foo")
    vcase("jac_invalid", R, x, "1.2.2", jac="4-point")
    vcase("tr_solver_invalid", R, x, "1.2.3", tr_solver="svd")
    vcase("loss_invalid", R, x, "1.2.4", loss="l1")
    vcase("lm_with_huber_loss", R, x, "1.2.5", method="lm", loss="huber")
    vcase("lm_with_soft_l1_loss", R, x, "1.2.5", method="lm", loss="soft_l1")
    vcase("verbose_3", R, x, "1.2.6", verbose=3)
    vcase("verbose_negative", R, x, "1.2.6", verbose=-1)
    vcase("max_nfev_zero", R, x, "1.2.7", max_nfev=0)
    vcase("max_nfev_negative", R, x, "1.2.7", max_nfev=-5)
    vcase("x0_2d", R, [[-2.0], [1.0]], "1.2.9")
    vcase("x0_2d_row", R, [[-2.0, 1.0]], "1.2.9")
    vcase("bounds_three_elements", R, x, "1.2.10", bounds=[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    vcase("bounds_one_element", R, x, "1.2.10", bounds=[[0.0, 0.0]])
    vcase("lm_with_bounds", R, x, "1.2.11", method="lm", bounds=[[-10.0, -10.0], [10.0, 10.0]])
    vcase("lm_with_one_finite_bound", R, x, "1.2.11", method="lm", bounds=["-inf", [10.0, "inf"]])
    vcase("lm_with_infinite_bounds_ok_then_loss", R, x, "1.2.5", method="lm",
          bounds=["-inf", "inf"], loss="cauchy")
    vcase("bounds_shape_mismatch", R, x, "1.2.12", bounds=[[-5.0, -5.0, -5.0], [5.0, 5.0, 5.0]])
    vcase("bounds_ub_shape_mismatch", R, x, "1.2.12", bounds=[[-5.0, -5.0], [5.0]])
    vcase("lb_equal_ub", R, x, "1.2.13", bounds=[[-2.0, 0.0], [-2.0, 5.0]])
    vcase("lb_greater_ub", R, x, "1.2.13", bounds=[[-1.0, 0.0], [-3.0, 5.0]])
    vcase("x0_outside_bounds", R, x, "1.2.14", bounds=[[0.0, 0.0], [5.0, 5.0]])
    vcase("x0_nan", R, ["nan", 1.0], "1.2.14")
    vcase("x_scale_string", R, x, "1.2.15", x_scale="auto")
    vcase("x_scale_negative", R, x, "1.2.15", x_scale=[-1.0, 1.0])
    vcase("x_scale_zero", R, x, "1.2.15", x_scale=[0.0, 1.0])
    vcase("x_scale_inf", R, x, "1.2.15", x_scale=["inf", 1.0])
    vcase("x_scale_nan", R, x, "1.2.15", x_scale=["nan", 1.0])
    vcase("x_scale_scalar_zero", R, x, "1.2.15", x_scale=0.0)
    vcase("x_scale_lm_negative", R, x, "1.2.15", method="lm", x_scale=[1.0, -1.0])
    vcase("x_scale_shape", R, x, "1.2.15", x_scale=[1.0, 2.0, 3.0])
    vcase("tol_all_none", R, x, "1.3", ftol=None, xtol=None, gtol=None)
    vcase("tol_all_zero", R, x, "1.3", ftol=0.0, xtol=0.0, gtol=0.0)
    vcase("tol_all_tiny", R, x, "1.3", ftol=1e-20, xtol=1e-17, gtol=1e-30)
    vcase("tol_all_negative", R, x, "1.3", ftol=-1.0, xtol=-1.0, gtol=-1.0)
    vcase("tol_dogbox_all_none", R, x, "1.3", method="dogbox", ftol=None, xtol=None, gtol=None)
    vcase("lm_ftol_tiny", R, x, "1.3", method="lm", ftol=1e-17)
    vcase("lm_gtol_zero", R, x, "1.3", method="lm", gtol=0.0)
    vcase("lm_xtol_none", R, x, "1.3", method="lm", xtol=None)
    vcase("lm_xtol_gtol_none", R, x, "1.3", method="lm", xtol=None, gtol=None)
    vcase("residuals_nan_at_x0", "sqrt_domain", [-1.0, 0.0], "1.2.20", jac="analytic")
    vcase("residuals_nan_at_x0_2point", "sqrt_domain", [-1.0, 0.0], "1.2.20")
    vcase("residuals_nan_at_x0_lm", "sqrt_domain", [-1.0, 0.0], "1.2.20", method="lm")
    vcase("lm_m_less_than_n", "underdetermined", [1.0, 0.5], "1.2.21", method="lm",
          jac="analytic")
    vcase("lm_m_less_than_n_2point", "underdetermined", [1.0, 0.5], "1.2.21", method="lm")
    vcase("lm_jac_sparsity", R, x, "1.2.23", method="lm", jac_sparsity=[[1, 1], [1, 0]])
    vcase("jac_sparsity_too_few_rows", R, x, "1.2.23", jac_sparsity=[[1, 1]])
    vcase("jac_sparsity_with_exact", R, x, "1.2.23", jac_sparsity=[[1, 1], [1, 0]],
          tr_solver="exact")
    vcase("jac_wrong_shape", "rosenbrock_bad_jac_shape", x, "1.2.24", jac="analytic")
    vcase("jac_wrong_shape_lm", "rosenbrock_bad_jac_shape", x, "1.2.24", method="lm",
          jac="analytic")
    vcase("unknown_keyword", R, x, "1.2 (TypeError)", options={"maxiter": 5})
    vcase("lsmr_unknown_tr_option", R, x, "1.1 tr_options (TypeError)", tr_solver="lsmr",
          tr_options={"foo": 1})


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def header():
    return {"generator": "tools/gen_scipy_fixtures.py", "scipy": scipy.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


def problems_section(names):
    out = {}
    for name in sorted(names):
        p = PROBLEMS[name]
        d = {"n": p.n, "m": p.m, "x0": p.x0, "cs": p.cs_ok, "formula": p.formula}
        if p.start is not None:
            d["start"] = p.start
        out[name] = d
    return out


def problem_data():
    return {name: {k: v for k, v in p.data.items()}
            for name, p in PROBLEMS.items() if p.data is not None}


def dump(path, obj):
    """One top-level key per line; each entry of "cases" on its own line."""
    obj = enc(obj)
    parts = []
    for k, v in obj.items():
        if k == "cases":
            body = ",\n".join("  " + json.dumps(c, allow_nan=False) for c in v)
            parts.append(f' "cases": [\n{body}\n ]')
        elif isinstance(v, dict):
            inner = ",\n".join(f"  {json.dumps(kk)}: {json.dumps(vv, allow_nan=False)}"
                                for kk, vv in v.items())
            parts.append(f" {json.dumps(k)}: {{\n{inner}\n }}")
        else:
            parts.append(f" {json.dumps(k)}: {json.dumps(v, allow_nan=False)}")
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    assert json.loads(text) == obj
    with open(path, "w") as fh:
        fh.write(text)
    return len(text.encode())


def main():
    check_problems()
    build_grid()
    build_validation()
    os.makedirs(OUT_DIR, exist_ok=True)
    used = {c["problem"] for c in CASES}
    ls = header()
    ls["encoding"] = ("non-finite floats are the strings \"inf\", \"-inf\", \"nan\"; null = "
                      "Python None; options = exact kwargs passed (absent = scipy default); "
                      "jac \"analytic\" = the problem's analytic Jacobian; see the script's "
                      "docstring")
    ls["problems"] = problems_section(used)
    ls["problem_data"] = problem_data()
    ls["cases"] = CASES
    size = dump(os.path.join(OUT_DIR, "least_squares.json"), ls)
    vs = header()
    vs["encoding"] = ls["encoding"] + "; call = kwargs incl. x0"
    vs["problems"] = problems_section({c["problem"] for c in VALIDATION})
    vs["problem_data"] = {}
    vs["cases"] = VALIDATION
    vsize = dump(os.path.join(OUT_DIR, "validation.json"), vs)
    print(f"least_squares.json: {len(CASES)} cases, {size} bytes; "
          f"validation.json: {len(VALIDATION)} cases, {vsize} bytes; "
          f"dropped {len(DROPPED)}")
    for cid, why in DROPPED:
        print(f"  dropped {cid}: {why}")


if __name__ == "__main__":
    main()
