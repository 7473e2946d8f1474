#!/usr/bin/env python3
"""Writes the fixtures of `trustfit fit`'s scipy comparison test.

For each case: a CSV file (noisy data of a known model, values written with
repr so they read back bit for bit) and scipy's curve_fit result on it, into
crates/trustfit-cli/tests/fixtures/: `<case>.csv` and one manifest
`curve_fit_cases.json` with, per case, the `trustfit fit` arguments and
scipy's popt and perr = sqrt(diag(pcov)) by parameter name.

curve_fit gets the model's analytic Jacobian (`jac=`), written by hand below,
because `trustfit fit` differentiates the formula: both then run the same
algorithm (MINPACK LMDER for lm, least_squares with the analytic Jacobian for
trf/dogbox) and the comparison is about the same computation, not about
finite-difference noise.

Needs numpy and scipy 1.17 (pip). Run from anywhere:
    python tools/gen_cli_fixtures.py
The Rust test is crates/trustfit-cli/tests/fit_vs_scipy.rs.
"""

import json
import pathlib

import numpy as np
import scipy
from scipy.optimize import curve_fit

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "trustfit-cli" / "tests" / "fixtures"


# ---------------------------------------------------------------- models
# Parameters in alphabetical order (trustfit's order; the comparison is by name).

def exp_decay(t, a, c, k):
    return a * np.exp(-k * t) + c


def exp_decay_jac(t, a, c, k):
    e = np.exp(-k * t)
    return np.column_stack([e, np.ones_like(t), -a * t * e])


def gauss(x, A, b, mu, s):
    return A * np.exp(-((x - mu) ** 2) / (2 * s**2)) + b


def gauss_jac(x, A, b, mu, s):
    g = np.exp(-((x - mu) ** 2) / (2 * s**2))
    return np.column_stack([
        g,
        np.ones_like(x),
        A * g * (x - mu) / s**2,
        A * g * (x - mu) ** 2 / s**3,
    ])


def power(x, a, b):
    return a * x**b


def power_jac(x, a, b):
    return np.column_stack([x**b, a * x**b * np.log(x)])


def plane(X, a, b, c):
    x, z = X
    return a * x + b * z + c


def plane_jac(X, a, b, c):
    x, z = X
    return np.column_stack([x, z, np.ones_like(x)])


def mm_inhib(X, ki, km, vmax):
    s, i = X
    d = km * (1 + i / ki) + s
    return vmax * s / d


def mm_inhib_jac(X, ki, km, vmax):
    s, i = X
    d = km * (1 + i / ki) + s
    return np.column_stack([
        vmax * s * km * i / (ki**2 * d**2),
        -vmax * s * (1 + i / ki) / d**2,
        s / d,
    ])


def damped(t, a, g, p, w):
    return a * np.exp(-g * t) * np.sin(w * t + p)


def damped_jac(t, a, g, p, w):
    e = np.exp(-g * t)
    sn = np.sin(w * t + p)
    cs = np.cos(w * t + p)
    return np.column_stack([e * sn, -a * t * e * sn, a * e * cs, a * e * cs * t])


def names_of(f):
    return f.__code__.co_varnames[1 : f.__code__.co_argcount]


def fmt(v):
    return repr(float(v))


def write_csv(path, columns):
    names = list(columns)
    m = len(columns[names[0]])
    with open(path, "w") as fh:
        fh.write(",".join(names) + "\n")
        for i in range(m):
            fh.write(",".join(fmt(columns[n][i]) for n in names) + "\n")


def case(name, f, jac, formula, columns, xcols, ycol, args, fit_kwargs, description):
    """Fits with curve_fit and returns the manifest entry."""
    xdata = columns[xcols[0]] if len(xcols) == 1 else np.vstack([columns[c] for c in xcols])
    ydata = columns[ycol]
    popt, pcov = curve_fit(f, xdata, ydata, jac=jac, **fit_kwargs)
    perr = np.sqrt(np.diag(pcov))
    assert np.all(np.isfinite(perr)), name
    names = names_of(f)
    write_csv(OUT / f"{name}.csv", columns)
    return {
        "name": name,
        "description": description,
        "csv": f"{name}.csv",
        "args": ["--model", formula, "--y", ycol] + args,
        "method": fit_kwargs.get("method") or ("trf" if "bounds" in fit_kwargs else "lm"),
        "popt": {n: float(v) for n, v in zip(names, popt)},
        "perr": {n: float(v) for n, v in zip(names, perr)},
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20260523)
    cases = []

    t = np.linspace(0, 8, 60)
    y = exp_decay(t, 3.0, 0.5, 0.7) + 0.02 * rng.standard_normal(t.size)
    cases.append(case(
        "exp_decay_lm", exp_decay, exp_decay_jac, "a*exp(-k*t) + c",
        {"t": t, "y": y}, ["t"], "y", [], {},
        "exponential decay, low noise, default start (ones) and method (lm)"))

    y = exp_decay(t, 3.0, 0.5, 0.7) + 0.3 * rng.standard_normal(t.size)
    cases.append(case(
        "exp_decay_noisy_trf", exp_decay, exp_decay_jac, "a*exp(-k*t) + c",
        {"t": t, "y": y}, ["t"], "y", ["--method", "trf", "--p0", "a=2,c=0,k=1"],
        {"method": "trf", "p0": [2.0, 0.0, 1.0]},
        "exponential decay, high noise, trf"))

    cases.append(case(
        "exp_decay_bounded", exp_decay, exp_decay_jac, "a*exp(-k*t) + c",
        {"t": t, "y": y}, ["t"], "y", ["--bounds", "0 <= a <= 10, 0.75 <= k <= 5"],
        {"bounds": ([0.0, -np.inf, 0.75], [10.0, np.inf, 5.0])},
        "exponential decay with bounds (k's lower bound active), default start from the bounds, trf"))

    x = np.linspace(-5, 5, 81)
    y = gauss(x, 2.5, 0.3, 0.4, 1.1) + 0.05 * rng.standard_normal(x.size)
    cases.append(case(
        "gauss_peak", gauss, gauss_jac, "A*exp(-(x-mu)^2/(2*s^2)) + b",
        {"x": x, "y": y}, ["x"], "y", ["--p0", "A=2,b=0,mu=0,s=1"],
        {"p0": [2.0, 0.0, 0.0, 1.0]},
        "Gaussian peak on a baseline, lm"))

    y = gauss(x, 2.5, 0.3, 0.4, 1.1) + 0.4 * rng.standard_normal(x.size)
    cases.append(case(
        "gauss_peak_noisy_dogbox", gauss, gauss_jac, "A*exp(-(x-mu)^2/(2*s^2)) + b",
        {"x": x, "y": y}, ["x"], "y", ["--p0", "A=2,b=0,mu=0,s=1", "--method", "dogbox"],
        {"p0": [2.0, 0.0, 0.0, 1.0], "method": "dogbox"},
        "Gaussian peak, high noise, dogbox"))

    x = np.linspace(0.5, 10, 40)
    sig = 0.05 * power(x, 1.7, 1.4) + 0.1
    y = power(x, 1.7, 1.4) + sig * rng.standard_normal(x.size)
    cases.append(case(
        "power_law_sigma", power, power_jac, "a*x^b",
        {"x": x, "y": y, "dy": sig}, ["x"], "y", ["--sigma", "dy"],
        {"sigma": sig},
        "power law with a sigma column (relative weights), lm"))
    cases.append(case(
        "power_law_absolute_sigma", power, power_jac, "a*x^b",
        {"x": x, "y": y, "dy": sig}, ["x"], "y", ["--sigma", "dy", "--absolute-sigma", "--method", "trf"],
        {"sigma": sig, "absolute_sigma": True, "method": "trf"},
        "power law, absolute sigma, trf"))

    xg, zg = np.meshgrid(np.linspace(-2, 3, 7), np.linspace(0, 4, 6))
    xp, zp = xg.ravel(), zg.ravel()
    y = plane((xp, zp), 1.3, -0.8, 2.2) + 0.1 * rng.standard_normal(xp.size)
    cases.append(case(
        "plane_two_columns", plane, plane_jac, "a*x + b*z + c",
        {"x": xp, "z": zp, "y": y}, ["x", "z"], "y", ["--x", "x,z"], {},
        "plane in two x columns, lm"))

    sg, ig = np.meshgrid(np.array([0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]), np.array([0.0, 1.0, 3.0]))
    s_, i_ = sg.ravel(), ig.ravel()
    v = mm_inhib((s_, i_), 1.5, 2.0, 10.0)
    v = v * (1 + 0.03 * rng.standard_normal(v.size))
    cases.append(case(
        "michaelis_menten_inhibition", mm_inhib, mm_inhib_jac, "vmax*s/(km*(1 + i/ki) + s)",
        {"s": s_, "i": i_, "rate": v}, ["s", "i"], "rate", [], {},
        "competitive inhibition, two x columns found from the formula, y column 'rate', default start"))

    t = np.linspace(0, 10, 120)
    y = damped(t, 2.0, 0.3, 0.5, 2.1) + 0.05 * rng.standard_normal(t.size)
    y[[10, 50, 90]] += [1.5, -1.2, 1.0]
    cases.append(case(
        "damped_soft_l1", damped, damped_jac, "a*exp(-g*t)*sin(w*t + p)",
        {"t": t, "y": y}, ["t"], "y",
        ["--p0", "a=1.5,g=0.2,p=0.3,w=2", "--loss", "soft_l1", "--f-scale", "0.1"],
        {"p0": [1.5, 0.2, 0.3, 2.0], "method": "trf", "loss": "soft_l1", "f_scale": 0.1},
        "damped oscillation with 3 outliers, soft_l1 loss (f_scale 0.1), trf"))

    manifest = {
        "generator": "tools/gen_cli_fixtures.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "compare": "popt within rtol 1e-6, perr within rtol 1e-4, by parameter name",
        "cases": cases,
    }
    with open(OUT / "curve_fit_cases.json", "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
