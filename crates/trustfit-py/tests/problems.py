"""Residual functions shared by the parity tests and benches/compare_scipy.py.

Not a test module (pytest collects test_*.py only); the tests import it from their own
folder, the bench adds this folder to sys.path.
"""

import numpy as np
import scipy.sparse


def rosen(x):
    return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def rosen_jac(x):
    return np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])


# The seeds' robust fit y = a + b·exp(c·t): clean data, and with two outliers.
T_EXP = np.linspace(0, 10, 15)
Y_EXP_CLEAN = 0.5 + 2 * np.exp(-T_EXP) + 0.1 * np.sin(3 * T_EXP)
Y_EXP = Y_EXP_CLEAN.copy()
Y_EXP[3] += 2
Y_EXP[8] += 2


def expfit_residuals(y):
    """The residuals ``a + b·exp(c·t) - y`` of the fit to `y` (one of the Y_EXP arrays)."""

    def expfit(p):
        return p[0] + p[1] * np.exp(p[2] * T_EXP) - y

    return expfit


expfit = expfit_residuals(Y_EXP)


def expfit_jac(p):
    e = np.exp(p[2] * T_EXP)
    return np.column_stack([np.ones_like(T_EXP), e, p[1] * T_EXP * e])


# The same model on 100 points (the per-call cost benchmark's fit, benches/own_time.py).
T_EXP100 = np.linspace(0, 10, 100)
Y_EXP100 = 0.5 + 2 * np.exp(-T_EXP100) + 0.1 * np.sin(3 * T_EXP100)


def expfit100(p):
    return p[0] + p[1] * np.exp(p[2] * T_EXP100) - Y_EXP100


def expfit100_jac(p):
    e = np.exp(p[2] * T_EXP100)
    return np.column_stack([np.ones_like(T_EXP100), e, p[1] * T_EXP100 * e])


# Exponential decay a·exp(-b·t) fitted to a slightly perturbed one.
T_DECAY = np.linspace(0, 4, 25)
Y_DECAY = 3.0 * np.exp(-1.3 * T_DECAY) + 0.05 * np.cos(7 * T_DECAY)


def decay(p):
    return p[0] * np.exp(-p[1] * T_DECAY) - Y_DECAY


def decay_jac(p):
    e = np.exp(-p[1] * T_DECAY)
    return np.column_stack([e, -p[0] * T_DECAY * e])


def gauss(x, amp, mu, s, off):
    """A Gaussian peak on an offset (a curve_fit model)."""
    return amp * np.exp(-((x - mu) ** 2) / (2 * s**2)) + off


def broyden(x):
    """scipy's documentation example for `jac_sparsity`: Broyden tridiagonal residuals."""
    f = (3 - x) * x + 1
    f[1:] -= x[:-1]
    f[:-1] -= 2 * x[1:]
    return f


def broyden_sparsity(n, format="csr"):
    """The tridiagonal structure of Broyden's Jacobian, n × n."""
    diags = [np.ones(n - 1), np.ones(n), np.ones(n - 1)]
    return scipy.sparse.diags_array(diags, offsets=[-1, 0, 1], shape=(n, n), format=format)
