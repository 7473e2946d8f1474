"""trustfit.plot_fit: renders data, fit and residuals to a PNG with the Agg backend (a smoke
test; tools/test-python.sh installs matplotlib so it runs in CI), and its ImportError
without matplotlib."""

import builtins

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="plot_fit needs matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import trustfit.batch  # noqa: E402
from trustfit import curve_fit, fit_report, least_squares, plot_fit  # noqa: E402

T = np.linspace(0.0, 6.0, 41)
Y = 2.5 * np.exp(-0.8 * T) + 0.4 + 0.02 * np.sin(7.3 * T)
S = np.full(T.size, 0.02)


def decay(t, a, c, k):
    return a * np.exp(-k * t) + c


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png(fig, path):
    fig.savefig(path, dpi=80)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    return data


def test_plot_fit_renders_a_png(tmp_path):
    out = curve_fit(decay, T, Y, p0=[1.0, 1.0, 1.0], sigma=S, full_output=True)
    fig = plot_fit(T, Y, out, decay, sigma=S)
    ax_fit, ax_res = fig.axes
    assert ax_fit.get_title() == "decay" and ax_res.get_ylabel() == "residual"
    curve = ax_fit.get_lines()[-1]
    assert curve.get_xdata().size == 400  # the fine grid
    np.testing.assert_allclose(curve.get_ydata(), decay(curve.get_xdata(), *out[0]))
    _png(fig, tmp_path / "fit.png")


def test_plot_fit_takes_every_kind_of_result(tmp_path):
    popt, _ = curve_fit(decay, T, Y, p0=[1.0, 1.0, 1.0])
    res = least_squares(lambda p: decay(T, *p) - Y, [1.0, 1.0, 1.0])
    rep = fit_report(res, Y, param_names=["a", "c", "k"])
    for result in (popt, (popt, None), res, rep):
        fig = plot_fit(T, Y, result, decay, grid=50)
        np.testing.assert_allclose(fig.axes[0].get_lines()[-1].get_ydata()[0],
                                   decay(0.0, *popt), rtol=1e-6)
    # A formula model, a dict of one variable.
    fig = plot_fit({"t": T}, Y, popt, "a*exp(-k*t) + c", xlabel="time")
    assert fig.axes[1].get_xlabel() == "time"
    np.testing.assert_allclose(fig.axes[0].get_lines()[-1].get_ydata()[-1],
                               decay(6.0, popt[0], popt[2], popt[1]), rtol=1e-12)
    _png(fig, tmp_path / "formula.png")


def test_plot_fit_of_a_batch_row_and_into_given_axes(tmp_path):
    ys = np.vstack([Y, 2 * Y])
    fit = trustfit.batch.curve_fit("a*exp(-k*x) + c", T, ys, p0=[1.0, 1.0, 1.0], sigma=S)
    fig = plot_fit(None, None, fit, index=1)
    assert fig.axes[0].get_title() == "a*exp(-k*x) + c"
    _png(fig, tmp_path / "batch.png")
    fig2, ax = plt.subplots()
    assert plot_fit(T, ys[0], fit, index=0, ax=ax) is fig2 and len(fig2.axes) == 2
    with pytest.raises(TypeError, match="index"):
        plot_fit(None, None, fit)


def test_plot_fit_two_x_variables_plots_against_the_index(tmp_path):
    x = np.vstack([np.linspace(0, 1, 30), np.linspace(1, 3, 30) ** 2])
    y = 1.5 * x[0] + 0.5 * x[1] + 0.01 * np.cos(11 * x[0])
    popt, _ = curve_fit(lambda x, a, b: a * x[0] + b * x[1], x, y)
    fig = plot_fit(x, y, popt, lambda x, a, b: a * x[0] + b * x[1])
    assert fig.axes[1].get_xlabel() == "point index"
    _png(fig, tmp_path / "plane.png")


def test_plot_fit_without_matplotlib_says_how_to_get_it(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"plot_fit needs matplotlib: pip install trustfit\[plot\]"):
        plot_fit(T, Y, [1.0, 1.0, 1.0], decay)
