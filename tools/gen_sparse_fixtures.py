#!/usr/bin/env python3
"""Reference results of scipy's large-scale path (jac_sparsity, sparse analytic
Jacobians, LinearOperator Jacobians, tr_solver='lsmr') for crates/trustfit/tests/sparse.rs.

Problem: the Broyden tridiagonal system f_i = (3 - x_i) x_i + 1 - x_{i-1} - 2 x_{i+1}
(scipy's own jac_sparsity example), n = 200 unless stated, x0 = -1; a variant with
extra "observation" rows (m = 2n) so robust losses have something to do.

    python3 tools/gen_sparse_fixtures.py > tests/fixtures/scipy/sparse.json
"""

import json
import sys

import numpy as np
import scipy
from scipy.optimize import least_squares
from scipy.sparse import csr_array, eye_array, lil_array, vstack
from scipy.sparse.linalg import aslinearoperator


def broyden(x):
    f = (3 - x) * x + 1
    f[1:] -= x[:-1]
    f[:-1] -= 2 * x[1:]
    return f


def broyden_sparsity(n):
    a = lil_array((n, n), dtype=int)
    i = np.arange(n)
    a[i, i] = 1
    a[i[1:], i[1:] - 1] = 1
    a[i[:-1], i[:-1] + 1] = 1
    return csr_array(a)


def broyden_jac(x):
    n = x.size
    j = lil_array((n, n))
    i = np.arange(n)
    j[i, i] = 3 - 2 * x
    j[i[1:], i[1:] - 1] = -1.0
    j[i[:-1], i[:-1] + 1] = -2.0
    return csr_array(j)


def observations(n):
    """Targets for the m = 2n variant: x_i ≈ t_i with a few outliers."""
    t = -0.6 + 0.1 * np.sin(np.arange(n) * 0.37)
    t[::17] += 2.0
    return t


def broyden_obs(x):
    n = x.size
    return np.concatenate([broyden(x), 0.5 * (x - observations(n))])


def broyden_obs_jac(x):
    n = x.size
    return csr_array(vstack([broyden_jac(x), 0.5 * eye_array(n)]))


def broyden_obs_sparsity(n):
    eye = lil_array((n, n), dtype=int)
    eye.setdiag(1)
    return csr_array(vstack([broyden_sparsity(n), eye]))


def main():
    cases = []

    def add(cid, problem, n, **kw):
        fun = broyden if problem == "broyden" else broyden_obs
        x0 = -np.ones(n)
        opts = dict(kw)
        if opts.get("jac") == "analytic":
            opts["jac"] = broyden_jac
        elif opts.get("jac") == "operator":
            # Matrix-free: scipy only sees matvec / rmatvec of J(x).
            jac = broyden_jac if problem == "broyden" else broyden_obs_jac
            opts["jac"] = lambda x: aslinearoperator(jac(x))
        elif "jac_sparsity" not in opts:
            opts["jac_sparsity"] = (broyden_sparsity if problem == "broyden" else broyden_obs_sparsity)(n)
        res = least_squares(fun, x0, **opts)
        exact = None
        if kw.get("method", "trf") == "trf" and kw.get("jac") != "operator":
            # The same problem with a dense J and tr_solver='exact': the reference for
            # trustfit's exact sparse solver (tr_solver='cholesky').
            dense = {k: v for k, v in opts.items() if k not in ("jac_sparsity", "tr_options")}
            if kw.get("jac") == "analytic":
                dense["jac"] = lambda x: broyden_jac(x).toarray()
            e = least_squares(fun, x0, tr_solver="exact", **dense)
            exact = {"x": e.x.tolist(), "cost": float(e.cost), "nfev": int(e.nfev),
                     "status": int(e.status)}
        rec = {k: v for k, v in kw.items() if k not in ("bounds",)}
        if "bounds" in kw:
            # JSON has no infinities: an infinite side is null.
            rec["bounds"] = [None if np.isinf(b) else float(b) for b in kw["bounds"]]
        cases.append({
            "id": cid, "problem": problem, "n": n, "options": rec,
            "result": {
                "x": res.x.tolist(), "cost": float(res.cost), "nfev": int(res.nfev),
                "njev": int(res.njev), "status": int(res.status),
                "optimality": float(res.optimality),
                "active_mask": [int(v) for v in res.active_mask],
            },
            "exact_result": exact,
        })

    add("broyden_2point", "broyden", 200)
    add("broyden_3point", "broyden", 200, jac="3-point")
    add("broyden_analytic", "broyden", 200, jac="analytic")
    add("broyden_xscale_jac", "broyden", 200, x_scale="jac")
    add("broyden_noreg", "broyden", 200, tr_options={"regularize": False})
    add("broyden_damp", "broyden", 200, tr_options={"damp": 0.5})
    add("broyden_ub", "broyden", 200, bounds=(-np.inf, -0.6))
    add("broyden_box_analytic", "broyden", 200, jac="analytic", bounds=(-1.2, -0.55))
    add("obs_linear", "obs", 100)
    add("obs_soft_l1", "obs", 100, loss="soft_l1", f_scale=0.1)
    add("obs_cauchy_xscale", "obs", 100, loss="cauchy", f_scale=0.2, x_scale="jac")
    add("obs_huber_bounded", "obs", 100, loss="huber", bounds=(-1.0, -0.62))
    add("dogbox_broyden", "broyden", 200, method="dogbox")
    add("dogbox_broyden_analytic_ub", "broyden", 200, method="dogbox", jac="analytic",
        bounds=(-np.inf, -0.6))
    add("dogbox_obs_soft_l1", "obs", 100, method="dogbox", loss="soft_l1", f_scale=0.1)
    add("dogbox_obs_xscale_box", "obs", 100, method="dogbox", x_scale="jac", bounds=(-1.0, -0.62))
    # Matrix-free J. Slow (~100 nfev) robust fits with bounds are left out: their
    # ftol stop follows rounding, even within scipy (cauchy, f_scale 0.2, in
    # [-1, -0.62]: 183 nfev with a sparse J, 184 with aslinearoperator(J), costs
    # 1.5e-7 apart), so they cannot show that the operator path is the same algorithm.
    add("operator_broyden", "broyden", 200, jac="operator")
    add("operator_broyden_ub_noreg", "broyden", 200, jac="operator", bounds=(-np.inf, -0.6),
        tr_options={"regularize": False})
    add("operator_obs_soft_l1", "obs", 100, jac="operator", loss="soft_l1", f_scale=0.1)
    add("operator_obs_soft_l1_box", "obs", 100, jac="operator", loss="soft_l1", f_scale=0.3,
        bounds=(-1.0, -0.62))
    add("operator_dogbox_broyden_ub", "broyden", 200, method="dogbox", jac="operator",
        bounds=(-np.inf, -0.6))
    add("operator_dogbox_obs_soft_l1", "obs", 100, method="dogbox", jac="operator",
        loss="soft_l1", f_scale=0.1)
    json.dump({"generator": "tools/gen_sparse_fixtures.py", "scipy": scipy.__version__,
               "numpy": np.__version__, "cases": cases}, sys.stdout, indent=None)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
