#!/usr/bin/env python3
"""Generate scipy reference results for trustfit's MINPACK (LMDER / LMDIF) port.

Runs pip's scipy (``scipy.optimize.leastsq`` with and without ``Dfun``, and
``least_squares(method='lm')``) on a set of MINPACK-1 test problems and writes
the results as Rust constants to ``src/minpack/scipy_refs.rs`` (or the path
given as the first argument).

Bit-level parity matters here, so the residuals and Jacobians are written as
*scalar* Python (``math`` = the C library's libm, the same functions Rust's
``f64::exp`` etc. call on linux-gnu) with the exact operation order used by the
Rust test problems in ``src/minpack/test_problems.rs``; numpy's vectorised
``exp`` may use its own SIMD kernels and differ in the last bit. Squares are
written ``a * a``; no ``**`` (Python's scalar ``**`` is ``pow``).
If ``problems_minpack.py`` (the shared MINPACK-1 definitions) is importable,
every scalar definition is checked against it first.

Usage:  python3 tools/gen_minpack_refs.py [out.rs]
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import scipy
from scipy.optimize import leastsq, least_squares

OUT_DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates",
                           "trustfit", "src", "minpack", "scipy_refs.rs")

# ---------------------------------------------------------------------------
# problem data
# ---------------------------------------------------------------------------

BARD_Y = [0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73,
          0.96, 1.34, 2.10, 4.39]
KOWALIK_Y = [0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342,
             0.0323, 0.0235, 0.0246]
KOWALIK_U = [4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714,
             0.0625]
MEYER_Y = [34780.0, 28610.0, 23650.0, 19630.0, 16370.0, 13720.0, 11540.0,
           9744.0, 8261.0, 7030.0, 6005.0, 5147.0, 4427.0, 3820.0, 3307.0,
           2872.0]
OSBORNE1_Y = [0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818,
              0.784, 0.751, 0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558,
              0.538, 0.522, 0.506, 0.490, 0.478, 0.467, 0.457, 0.448, 0.438,
              0.431, 0.424, 0.420, 0.414, 0.411, 0.406]
OSBORNE2_Y = [1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786,
              0.725, 0.746, 0.679, 0.608, 0.655, 0.616, 0.606, 0.602, 0.626,
              0.651, 0.724, 0.649, 0.649, 0.694, 0.644, 0.624, 0.661, 0.612,
              0.558, 0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391,
              0.396, 0.405, 0.428, 0.429, 0.523, 0.562, 0.607, 0.653, 0.672,
              0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559, 0.597, 0.625,
              0.739, 0.710, 0.729, 0.720, 0.636, 0.581, 0.428, 0.292, 0.162,
              0.098, 0.054]

# Spec §13 "expfit": t = linspace(0, 10, 15), y = 0.5 + 2 e^{-t} + 0.1 sin 3t,
# y[3] += 2, y[8] += 2 (numpy, exactly as the spec builds it; the Rust tests
# embed the resulting t and y as data).
_t = np.linspace(0, 10, 15)
_y = 0.5 + 2 * np.exp(-_t) + 0.1 * np.sin(3 * _t)
_y[3] += 2
_y[8] += 2
EXPFIT_T = [float(v) for v in _t]
EXPFIT_Y = [float(v) for v in _y]

TPI = 2.0 * math.pi
S5 = math.sqrt(5.0)
S10 = math.sqrt(10.0)

# ---------------------------------------------------------------------------
# scalar residuals / Jacobians (rows of J as lists). Keep in step with
# src/minpack/test_problems.rs operation by operation.
# ---------------------------------------------------------------------------


def rosenbrock_f(x):
    return [10.0 * (x[1] - x[0] * x[0]), 1.0 - x[0]]


def rosenbrock_j(x):
    return [[-20.0 * x[0], 10.0], [-1.0, 0.0]]


def helical_theta(x0, x1):
    if x0 > 0.0:
        return math.atan(x1 / x0) / TPI
    if x0 < 0.0:
        return math.atan(x1 / x0) / TPI + 0.5
    return 0.25 if x1 >= 0.0 else -0.25


def helical_f(x):
    th = helical_theta(x[0], x[1])
    r = math.sqrt(x[0] * x[0] + x[1] * x[1])
    return [10.0 * (x[2] - 10.0 * th), 10.0 * (r - 1.0), x[2]]


def helical_j(x):
    r2 = x[0] * x[0] + x[1] * x[1]
    r = math.sqrt(r2)
    return [[100.0 * x[1] / (TPI * r2), -100.0 * x[0] / (TPI * r2), 10.0],
            [10.0 * x[0] / r, 10.0 * x[1] / r, 0.0],
            [0.0, 0.0, 1.0]]


def powell_f(x):
    a = x[1] - 2.0 * x[2]
    b = x[0] - x[3]
    return [x[0] + 10.0 * x[1], S5 * (x[2] - x[3]), a * a, S10 * (b * b)]


def powell_j(x):
    a = x[1] - 2.0 * x[2]
    b = x[0] - x[3]
    return [[1.0, 10.0, 0.0, 0.0],
            [0.0, 0.0, S5, -S5],
            [0.0, 2.0 * a, -4.0 * a, 0.0],
            [2.0 * S10 * b, 0.0, 0.0, -2.0 * S10 * b]]


def freudenstein_f(x):
    return [-13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1],
            -29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1]]


def freudenstein_j(x):
    return [[1.0, x[1] * (10.0 - 3.0 * x[1]) - 2.0],
            [1.0, x[1] * (3.0 * x[1] + 2.0) - 14.0]]


def _bard_uvw(i):
    u = float(i + 1)
    v = 16.0 - u
    w = min(u, v)
    return u, v, w


def bard_f(x):
    out = []
    for i in range(15):
        u, v, w = _bard_uvw(i)
        out.append(BARD_Y[i] - (x[0] + u / (v * x[1] + w * x[2])))
    return out


def bard_j(x):
    rows = []
    for i in range(15):
        u, v, w = _bard_uvw(i)
        d = v * x[1] + w * x[2]
        d2 = d * d
        rows.append([-1.0, u * v / d2, u * w / d2])
    return rows


def kowalik_f(x):
    out = []
    for i in range(11):
        u = KOWALIK_U[i]
        num = u * (u + x[1])
        den = u * (u + x[2]) + x[3]
        out.append(KOWALIK_Y[i] - x[0] * num / den)
    return out


def kowalik_j(x):
    rows = []
    for i in range(11):
        u = KOWALIK_U[i]
        num = u * (u + x[1])
        den = u * (u + x[2]) + x[3]
        den2 = den * den
        rows.append([-num / den, -x[0] * u / den, x[0] * num * u / den2,
                     x[0] * num / den2])
    return rows


def meyer_f(x):
    out = []
    for i in range(16):
        t = 45.0 + 5.0 * (i + 1)
        out.append(x[0] * math.exp(x[1] / (t + x[2])) - MEYER_Y[i])
    return out


def meyer_j(x):
    rows = []
    for i in range(16):
        t = 45.0 + 5.0 * (i + 1)
        d = t + x[2]
        e = math.exp(x[1] / d)
        rows.append([e, x[0] * e / d, -x[0] * x[1] * e / (d * d)])
    return rows


def watson_f(x):
    n = len(x)
    out = []
    for i in range(29):
        t = (i + 1) / 29.0
        s1 = 0.0
        dx = 1.0
        for j in range(1, n):
            s1 += j * dx * x[j]
            dx *= t
        s2 = 0.0
        dx = 1.0
        for j in range(n):
            s2 += dx * x[j]
            dx *= t
        out.append(s1 - s2 * s2 - 1.0)
    out.append(x[0])
    out.append(x[1] - x[0] * x[0] - 1.0)
    return out


def watson_j(x):
    n = len(x)
    rows = []
    for i in range(29):
        t = (i + 1) / 29.0
        s2 = 0.0
        dx = 1.0
        for j in range(n):
            s2 += dx * x[j]
            dx *= t
        row = []
        prev = 0.0  # t^(j-1), 0 for j = 0
        dx = 1.0    # t^j
        for j in range(n):
            row.append(j * prev - 2.0 * s2 * dx)
            prev = dx
            dx *= t
        rows.append(row)
    rows.append([1.0] + [0.0] * (n - 1))
    rows.append([-2.0 * x[0], 1.0] + [0.0] * (n - 2))
    return rows


def box3d_f(x):
    out = []
    for i in range(10):
        t = 0.1 * (i + 1)
        out.append(math.exp(-t * x[0]) - math.exp(-t * x[1])
                   - x[2] * (math.exp(-t) - math.exp(-10.0 * t)))
    return out


def box3d_j(x):
    rows = []
    for i in range(10):
        t = 0.1 * (i + 1)
        rows.append([-t * math.exp(-t * x[0]), t * math.exp(-t * x[1]),
                     -(math.exp(-t) - math.exp(-10.0 * t))])
    return rows


def jennrich_f(x):
    out = []
    for i in range(10):
        k = float(i + 1)
        out.append(2.0 + 2.0 * k - (math.exp(k * x[0]) + math.exp(k * x[1])))
    return out


def jennrich_j(x):
    rows = []
    for i in range(10):
        k = float(i + 1)
        rows.append([-k * math.exp(k * x[0]), -k * math.exp(k * x[1])])
    return rows


def brown_dennis_f(x):
    out = []
    for i in range(20):
        t = (i + 1) / 5.0
        a = x[0] + t * x[1] - math.exp(t)
        b = x[2] + x[3] * math.sin(t) - math.cos(t)
        out.append(a * a + b * b)
    return out


def brown_dennis_j(x):
    rows = []
    for i in range(20):
        t = (i + 1) / 5.0
        s = math.sin(t)
        a = x[0] + t * x[1] - math.exp(t)
        b = x[2] + x[3] * s - math.cos(t)
        rows.append([2.0 * a, 2.0 * a * t, 2.0 * b, 2.0 * b * s])
    return rows


def osborne1_f(x):
    out = []
    for i in range(33):
        t = 10.0 * i
        e4 = math.exp(-t * x[3])
        e5 = math.exp(-t * x[4])
        out.append(OSBORNE1_Y[i] - (x[0] + x[1] * e4 + x[2] * e5))
    return out


def osborne1_j(x):
    rows = []
    for i in range(33):
        t = 10.0 * i
        e4 = math.exp(-t * x[3])
        e5 = math.exp(-t * x[4])
        rows.append([-1.0, -e4, -e5, t * x[1] * e4, t * x[2] * e5])
    return rows


def _osborne2_parts(x, i):
    t = i / 10.0
    e1 = math.exp(-t * x[4])
    d2 = t - x[8]
    d3 = t - x[9]
    d4 = t - x[10]
    e2 = math.exp(-(d2 * d2) * x[5])
    e3 = math.exp(-(d3 * d3) * x[6])
    e4 = math.exp(-(d4 * d4) * x[7])
    return t, e1, e2, e3, e4, d2, d3, d4


def osborne2_f(x):
    out = []
    for i in range(65):
        t, e1, e2, e3, e4, *_ = _osborne2_parts(x, i)
        out.append(OSBORNE2_Y[i] - (x[0] * e1 + x[1] * e2 + x[2] * e3 + x[3] * e4))
    return out


def osborne2_j(x):
    rows = []
    for i in range(65):
        t, e1, e2, e3, e4, d2, d3, d4 = _osborne2_parts(x, i)
        rows.append([-e1, -e2, -e3, -e4,
                     t * x[0] * e1,
                     x[1] * (d2 * d2) * e2,
                     x[2] * (d3 * d3) * e3,
                     x[3] * (d4 * d4) * e4,
                     -2.0 * x[1] * x[5] * d2 * e2,
                     -2.0 * x[2] * x[6] * d3 * e3,
                     -2.0 * x[3] * x[7] * d4 * e4])
    return rows


def linear_full_rank_f(x, m=10):
    n = len(x)
    s = 0.0
    for v in x:
        s += v
    temp = 2.0 * s / m + 1.0
    return [(x[i] if i < n else 0.0) - temp for i in range(m)]


def linear_full_rank_j(x, m=10):
    n = len(x)
    return [[(1.0 if i == j else 0.0) - 2.0 / m for j in range(n)] for i in range(m)]


def linear_rank1_f(x, m=10):
    s = 0.0
    for j, v in enumerate(x):
        s += (j + 1) * v
    return [(i + 1) * s - 1.0 for i in range(m)]


def linear_rank1_j(x, m=10):
    n = len(x)
    return [[float((i + 1) * (j + 1)) for j in range(n)] for i in range(m)]


def brown_almost_linear_f(x):
    n = len(x)
    s = 0.0
    for v in x:
        s += v
    p = 1.0
    for v in x:
        p *= v
    return [x[j] + s - (n + 1.0) for j in range(n - 1)] + [p - 1.0]


def brown_almost_linear_j(x):
    n = len(x)
    rows = [[2.0 if i == j else 1.0 for j in range(n)] for i in range(n - 1)]
    last = []
    for j in range(n):
        p = 1.0
        for k in range(n):
            if k != j:
                p *= x[k]
        last.append(p)
    rows.append(last)
    return rows


def expfit_f(x):
    return [x[0] + x[1] * math.exp(x[2] * t) - y for t, y in zip(EXPFIT_T, EXPFIT_Y)]


def expfit_j(x):
    rows = []
    for t in EXPFIT_T:
        e = math.exp(x[2] * t)
        rows.append([1.0, e, x[1] * t * e])
    return rows


# name -> (m, residual, jacobian, standard start)
PROBLEMS = {
    "rosenbrock": (2, rosenbrock_f, rosenbrock_j, [-1.2, 1.0]),
    "helical_valley": (3, helical_f, helical_j, [-1.0, 0.0, 0.0]),
    "powell_singular": (4, powell_f, powell_j, [3.0, -1.0, 0.0, 1.0]),
    "freudenstein_roth": (2, freudenstein_f, freudenstein_j, [0.5, -2.0]),
    "bard": (15, bard_f, bard_j, [1.0, 1.0, 1.0]),
    "kowalik_osborne": (11, kowalik_f, kowalik_j, [0.25, 0.39, 0.415, 0.39]),
    "meyer": (16, meyer_f, meyer_j, [0.02, 4000.0, 250.0]),
    "watson6": (31, watson_f, watson_j, [0.0] * 6),
    "box3d": (10, box3d_f, box3d_j, [0.0, 10.0, 20.0]),
    "jennrich_sampson": (10, jennrich_f, jennrich_j, [0.3, 0.4]),
    "brown_dennis": (20, brown_dennis_f, brown_dennis_j, [25.0, 5.0, -5.0, -1.0]),
    "osborne1": (33, osborne1_f, osborne1_j, [0.5, 1.5, -1.0, 0.01, 0.02]),
    "osborne2": (65, osborne2_f, osborne2_j,
                 [1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5]),
    "linear_full_rank": (10, linear_full_rank_f, linear_full_rank_j, [1.0] * 5),
    "linear_rank1": (10, linear_rank1_f, linear_rank1_j, [1.0] * 5),
    "brown_almost_linear": (10, brown_almost_linear_f, brown_almost_linear_j, [0.5] * 10),
    "expfit": (15, expfit_f, expfit_j, [1.0, 1.0, 0.0]),
}

# Mapping to problems_minpack.py names, for the cross-check.
SHARED_NAMES = {
    "rosenbrock": ("rosenbrock", 2), "helical_valley": ("helical_valley", 3),
    "powell_singular": ("powell_singular", 4),
    "freudenstein_roth": ("freudenstein_roth", 2), "bard": ("bard", 15),
    "kowalik_osborne": ("kowalik_osborne", 11), "meyer": ("meyer", 16),
    "watson6": ("watson", 31), "box3d": ("box_3d", 10),
    "jennrich_sampson": ("jennrich_sampson", 10),
    "brown_dennis": ("brown_dennis", 20), "osborne1": ("osborne1", 33),
    "osborne2": ("osborne2", 65), "linear_full_rank": ("linear_full_rank", 10),
    "linear_rank1": ("linear_rank1", 10),
    "brown_almost_linear": ("brown_almost_linear", 10),
}


def cross_check():
    """Compare the scalar definitions with the shared vectorised ones."""
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in [os.environ.get("PROBLEMS_MINPACK_DIR", ""),
                 "/work/shared/bench-peers/python",
                 os.path.join(here, "..", "..", "shared", "bench-peers", "python")]:
        if cand and os.path.exists(os.path.join(cand, "problems_minpack.py")):
            sys.path.insert(0, cand)
            break
    try:
        import problems_minpack as pm
    except ImportError:
        print("note: problems_minpack.py not found; cross-check skipped", file=sys.stderr)
        return
    defs = {pd.name: pd for pd in pm.PROBLEM_DEFS}
    rng = np.random.default_rng(1)
    for name, (shared, m) in SHARED_NAMES.items():
        _, f, j, x0 = PROBLEMS[name]
        pd = defs[shared]
        for x in [np.array(x0, float), np.array(x0, float) + 0.1 * rng.standard_normal(len(x0)) + 0.05]:
            fa = np.array(f(list(x)))
            fb = pd.fun(x, m)
            ja = np.array(j(list(x)))
            jb = pd.jac(x, m)
            sf = max(1.0, np.max(np.abs(fb)))
            sj = max(1.0, np.max(np.abs(jb)))
            assert np.max(np.abs(fa - fb)) <= 1e-12 * sf, (name, fa, fb)
            assert np.max(np.abs(ja - jb)) <= 1e-12 * sj, (name, ja, jb)
    print("cross-check against problems_minpack.py: ok", file=sys.stderr)


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------

LEASTSQ_TOL = 1.49012e-08  # leastsq's default ftol / xtol


class Case:
    def __init__(self, label, problem, x0, kind, ftol=LEASTSQ_TOL, xtol=LEASTSQ_TOL,
                 gtol=0.0, maxfev=None, factor=100.0, diag=None, note=""):
        self.label = label
        self.problem = problem
        self.x0 = [float(v) for v in x0]
        self.kind = kind  # "lmder" | "lmdif" | "least_squares"
        self.ftol, self.xtol, self.gtol = ftol, xtol, gtol
        n = len(self.x0)
        if maxfev is None:
            maxfev = 100 * (n + 1) if kind == "lmder" else (200 * (n + 1) if kind == "lmdif" else 100 * n)
        self.maxfev = maxfev
        self.factor = factor
        self.diag = diag
        self.note = note


def scaled(x0, s):
    return [s * v for v in x0]


def cases():
    out = []
    # leastsq with Dfun (LMDER) and without (LMDIF) at the standard starts.
    for name, (m, f, j, x0) in PROBLEMS.items():
        for kind in ("lmder", "lmdif"):
            out.append(Case(f"{name}_{kind}", name, x0, kind))
    # A few 10·x0 starts (harder paths: more rejected steps, larger par).
    for name in ["rosenbrock", "helical_valley", "powell_singular", "bard",
                 "kowalik_osborne", "brown_dennis", "osborne1"]:
        x0 = PROBLEMS[name][3]
        for kind in ("lmder", "lmdif"):
            out.append(Case(f"{name}_10x0_{kind}", name, scaled(x0, 10.0), kind))
    # Mode 2 (fixed diag) and a non-default factor.
    out.append(Case("rosenbrock_mode2_lmder", "rosenbrock", [-1.2, 1.0], "lmder",
                    diag=[1.0, 10.0]))
    out.append(Case("bard_factor1_lmder", "bard", [1.0, 1.0, 1.0], "lmder", factor=1.0))
    out.append(Case("kowalik_mode2_lmdif", "kowalik_osborne", [0.25, 0.39, 0.415, 0.39],
                    "lmdif", diag=[1.0, 2.0, 3.0, 4.0], factor=10.0))
    # gtol > 0 and a tight maxfev.
    out.append(Case("osborne1_gtol_lmder", "osborne1", [0.5, 1.5, -1.0, 0.01, 0.02],
                    "lmder", gtol=1e-3))
    out.append(Case("meyer_maxfev_lmder", "meyer", [0.02, 4000.0, 250.0], "lmder", maxfev=20))
    # least_squares(method='lm') rows of the spec (§2.3, §13): tolerances 1e-8,
    # maxfev 100·n, factor 100, mode 1 (x_scale default 'jac') or mode 2 (x_scale=1).
    ls_tol = dict(ftol=1e-8, xtol=1e-8, gtol=1e-8)
    out.append(Case("ls_rosenbrock_m2", "rosenbrock", [-2.0, 1.0], "least_squares", **ls_tol))
    out.append(Case("ls_rosenbrock_m2_maxnfev1", "rosenbrock", [-2.0, 1.0], "least_squares",
                    maxfev=1, **ls_tol))
    out.append(Case("ls_rosenbrock_m2_maxnfev3", "rosenbrock", [-2.0, 1.0], "least_squares",
                    maxfev=3, **ls_tol))
    out.append(Case("ls_expfit", "expfit", [1.0, 1.0, 0.0], "least_squares", **ls_tol))
    out.append(Case("ls_expfit_xscale1", "expfit", [1.0, 1.0, 0.0], "least_squares",
                    diag=[1.0, 1.0, 1.0], **ls_tol))
    return out


def run(case):
    m, f, j, _ = PROBLEMS[case.problem]
    func = lambda x: np.array(f([float(v) for v in x]))  # noqa: E731
    jac = lambda x: np.array(j([float(v) for v in x]))   # noqa: E731
    x0 = np.array(case.x0)
    n = x0.size
    if case.kind == "least_squares":
        kw = {}
        if case.diag is not None:
            kw["x_scale"] = 1.0 / np.array(case.diag)
        res = least_squares(func, x0, jac=jac, method="lm", ftol=case.ftol, xtol=case.xtol,
                            gtol=case.gtol, max_nfev=case.maxfev, **kw)
        # least_squares hides fjac/ipvt/qtf and info; rerun lmder through leastsq with the
        # same settings (must agree) to get them and the raw info.
        x, cov, info, mesg, ier = leastsq(func, x0, Dfun=jac, full_output=True,
                                          ftol=case.ftol, xtol=case.xtol, gtol=case.gtol,
                                          maxfev=case.maxfev, factor=case.factor,
                                          diag=case.diag)
        assert np.array_equal(x, res.x), (case.label, x, res.x)
        assert info["nfev"] == res.nfev and info["njev"] == res.njev, case.label
        status_of = {0: -1, 1: 2, 2: 3, 3: 4, 4: 1, 5: 0}
        assert status_of[ier] == res.status, (case.label, ier, res.status)
        njev = res.njev
    else:
        kw = dict(full_output=True, ftol=case.ftol, xtol=case.xtol, gtol=case.gtol,
                  maxfev=case.maxfev, factor=case.factor, diag=case.diag)
        if case.kind == "lmder":
            x, cov, info, mesg, ier = leastsq(func, x0, Dfun=jac, **kw)
            njev = info["njev"]
        else:
            x, cov, info, mesg, ier = leastsq(func, x0, epsfcn=np.finfo(float).eps, **kw)
            njev = None
    fjac = np.asarray(info["fjac"])  # (n, m): row j = column j of MINPACK's array
    r_upper = [float(fjac[jj, ii]) for jj in range(n) for ii in range(jj + 1)]
    fvec = [float(v) for v in info["fvec"]]
    return dict(x=[float(v) for v in x], nfev=int(info["nfev"]), njev=njev, info=int(ier),
                ipvt=[int(v) for v in info["ipvt"]], qtf=[float(v) for v in info["qtf"]],
                r_upper=r_upper, fnorm=math.sqrt(sum(v * v for v in fvec)))


def rust_f64(v):
    if math.isnan(v):
        return "f64::NAN"
    if math.isinf(v):
        return "f64::INFINITY" if v > 0 else "f64::NEG_INFINITY"
    s = repr(float(v))
    if "e" not in s and "." not in s and "inf" not in s:
        s += ".0"
    return s


def rust_slice(vals, fmt=rust_f64):
    return "&[" + ", ".join(fmt(v) for v in vals) + "]"


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else OUT_DEFAULT
    cross_check()
    lines = []
    w = lines.append
    w("// @generated by gen_refs.py — do not edit by hand.")
    w(f"// scipy {scipy.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}.")
    w("//! scipy reference results for the MINPACK port (see gen_refs.py for how they were made).")
    w("")
    w("#![allow(clippy::excessive_precision, clippy::unreadable_literal)]")
    w("")
    w("/// Which scipy entry point produced a reference.")
    w("#[derive(Debug, Clone, Copy, PartialEq, Eq)]")
    w("pub(crate) enum Kind {")
    w("    /// `leastsq(func, x0, Dfun=jac, full_output=True, ...)` → LMDER.")
    w("    Lmder,")
    w("    /// `leastsq(func, x0, full_output=True, epsfcn=eps, ...)` → LMDIF.")
    w("    Lmdif,")
    w("    /// `least_squares(method='lm', jac=jac, ...)` → LMDER (checked equal to leastsq).")
    w("    LeastSquares,")
    w("}")
    w("")
    w("/// One reference run.")
    w("#[derive(Debug)]")
    w("pub(crate) struct LmRef {")
    w("    pub label: &'static str,")
    w("    pub problem: &'static str,")
    w("    pub kind: Kind,")
    w("    pub x0: &'static [f64],")
    w("    pub ftol: f64,")
    w("    pub xtol: f64,")
    w("    pub gtol: f64,")
    w("    pub maxfev: usize,")
    w("    pub factor: f64,")
    w("    pub diag: Option<&'static [f64]>,")
    w("    pub x: &'static [f64],")
    w("    pub fnorm: f64,")
    w("    pub nfev: usize,")
    w("    /// None for LMDIF (scipy reports no njev).")
    w("    pub njev: Option<usize>,")
    w("    pub info: i32,")
    w("    pub ipvt: &'static [usize],")
    w("    pub qtf: &'static [f64],")
    w("    /// Upper triangle of R column by column: R[0,0]; R[0,1], R[1,1]; ...")
    w("    pub r_upper: &'static [f64],")
    w("}")
    w("")
    w("/// t = numpy.linspace(0, 10, 15) of the spec's expfit problem (§13).")
    w(f"pub(crate) const EXPFIT_T: [f64; 15] = [{', '.join(rust_f64(v) for v in EXPFIT_T)}];")
    w("/// y = 0.5 + 2·exp(−t) + 0.1·sin(3t), y[3] += 2, y[8] += 2 (numpy).")
    w(f"pub(crate) const EXPFIT_Y: [f64; 15] = [{', '.join(rust_f64(v) for v in EXPFIT_Y)}];")
    w("")
    w("pub(crate) const REFS: &[LmRef] = &[")
    kinds = {"lmder": "Kind::Lmder", "lmdif": "Kind::Lmdif", "least_squares": "Kind::LeastSquares"}
    for c in cases():
        r = run(c)
        print(f"{c.label:34s} info={r['info']} nfev={r['nfev']:4d} njev={r['njev']} "
              f"fnorm={r['fnorm']:.6e}", file=sys.stderr)
        w("    LmRef {")
        w(f"        label: {c.label!r},".replace("'", '"'))
        w(f"        problem: \"{c.problem}\",")
        w(f"        kind: {kinds[c.kind]},")
        w(f"        x0: {rust_slice(c.x0)},")
        w(f"        ftol: {rust_f64(c.ftol)},")
        w(f"        xtol: {rust_f64(c.xtol)},")
        w(f"        gtol: {rust_f64(c.gtol)},")
        w(f"        maxfev: {c.maxfev},")
        w(f"        factor: {rust_f64(c.factor)},")
        w(f"        diag: {'None' if c.diag is None else 'Some(' + rust_slice(c.diag) + ')'},")
        w(f"        x: {rust_slice(r['x'])},")
        w(f"        fnorm: {rust_f64(r['fnorm'])},")
        w(f"        nfev: {r['nfev']},")
        w(f"        njev: {'None' if r['njev'] is None else 'Some(' + str(r['njev']) + ')'},")
        w(f"        info: {r['info']},")
        w(f"        ipvt: {rust_slice(r['ipvt'], str)},")
        w(f"        qtf: {rust_slice(r['qtf'])},")
        w(f"        r_upper: {rust_slice(r['r_upper'])},")
        w("    },")
    w("];")
    with open(out_path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    # Keep the committed file `cargo fmt`-clean (so regenerating gives no diff).
    try:
        subprocess.run(["rustfmt", "--edition", "2024", out_path], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"note: rustfmt not run ({exc})", file=sys.stderr)
    print(f"wrote {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
