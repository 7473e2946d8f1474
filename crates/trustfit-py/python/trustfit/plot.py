"""``trustfit.plot_fit``: data, fitted curve and residuals in one matplotlib figure (as the
command line's ``trustfit fit --plot``). Needs matplotlib: ``pip install trustfit[plot]``.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

import numpy as np
from scipy.optimize import OptimizeResult

__all__ = ["plot_fit"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("plot_fit needs matplotlib: pip install trustfit[plot]") from e
    return plt


def _popt_of(result: Any) -> np.ndarray:
    """The fitted parameters of a result: an array, a curve_fit tuple, an OptimizeResult
    (``x``) or a FitReport (``values``)."""
    from .report import FitReport

    if isinstance(result, FitReport):
        return np.asarray(result.values, dtype=float)
    if isinstance(result, OptimizeResult) or hasattr(result, "x") and hasattr(result, "fun"):
        return np.atleast_1d(np.asarray(result.x, dtype=float))
    if isinstance(result, tuple) and len(result) in (2, 5):
        return np.atleast_1d(np.asarray(result[0], dtype=float))
    return np.atleast_1d(np.asarray(result, dtype=float))


def _one_dimensional(xdata: Any) -> tuple[Optional[np.ndarray], Optional[str]]:
    """(x, its name) when the model has one x variable, else (None, None)."""
    if isinstance(xdata, dict):
        if len(xdata) == 1:
            name, col = next(iter(xdata.items()))
            return np.asarray(col, dtype=float), str(name)
        return None, None
    try:
        x = np.asarray(xdata, dtype=float)
    except (TypeError, ValueError):
        return None, None
    if x.ndim == 1:
        return x, "x"
    return None, None


def _on_grid(xdata: Any, grid: np.ndarray) -> Any:
    """``grid`` in the form of ``xdata`` (a one-variable dict stays a dict)."""
    if isinstance(xdata, dict):
        return {next(iter(xdata)): grid}
    return grid


def plot_fit(
    xdata: Any,
    ydata: Any,
    result: Any,
    model: Union[None, str, Callable[..., Any]] = None,
    sigma: Any = None,
    *,
    index: Optional[int] = None,
    ax: Any = None,
    grid: int = 400,
    title: Optional[str] = None,
    xlabel: Optional[str] = None,
    ylabel: str = "y",
) -> Any:
    """Plots the data, the fitted model and the residuals y − fit below it.

    Parameters
    ----------
    xdata : array_like or dict
        The independent variable as the model takes it. For a 1-D x (or a dict of one
        variable) the model is drawn on a fine grid over its range; otherwise the data
        and the fitted values are plotted against the point index. For a batch, None
        takes the batch's xdata.
    ydata : array_like
        The data (M values). For a batch, None takes row ``index`` of its ydata.
    result : array_like, tuple, OptimizeResult, FitReport or BatchFit
        The fitted parameters: popt, the tuple ``curve_fit`` returns, a
        ``least_squares`` result (its ``x``), a ``fit_report`` or a
        ``trustfit.batch.curve_fit`` result with ``index``.
    model : callable or str
        ``f(x, *params)`` (``curve_fit``'s model) or a formula in the command line's
        grammar (variables ``x`` for a 1-D x, ``x0``, ``x1``, ... for the rows of a 2-D
        one, or a dict's names; parameters in the order of first appearance). Not
        needed for a batch, which carries its model.
    sigma : None, scalar or (M,) array_like, optional
        Standard deviations of ydata: drawn as error bars. For a batch, None takes its
        sigma.
    index : int, optional
        The row of a batch to plot.
    ax : matplotlib Axes, optional
        Draw into this Axes (the residual panel is appended below it); default a new
        figure (through pyplot, so ``plt.show()`` shows it).
    grid : int, optional
        Points of the fine grid of the fitted curve (default 400).
    title, xlabel, ylabel : str, optional
        Labels; the title defaults to the formula or the model's name.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ImportError
        Without matplotlib ("plot_fit needs matplotlib: pip install trustfit[plot]").

    Examples
    --------
    >>> import numpy as np
    >>> from trustfit import curve_fit, plot_fit
    >>> def decay(x, a, b):
    ...     return a * np.exp(-b * x)
    >>> x = np.linspace(0, 4, 30); y = decay(x, 2.0, 0.7) + 0.01 * np.sin(9 * x)
    >>> fig = plot_fit(x, y, curve_fit(decay, x, y), decay)   # doctest: +SKIP
    >>> fig.savefig("fit.png")                                 # doctest: +SKIP
    """
    plt = _pyplot()
    from .batch import BatchFit

    if isinstance(result, BatchFit):
        if index is None:
            if len(result) != 1:
                raise TypeError(f"the batch holds {len(result)} fits: pass index=k")
            index = 0
        k = int(index)
        if model is None:
            model = result.model
        if xdata is None:
            xdata = result.xdata
        if ydata is None:
            if result.ydata is None:
                raise ValueError("pass ydata: this BatchFit does not carry its data")
            ydata = result.ydata[k]
        if sigma is None and result.sigma is not None:
            sigma = result.sigma[0 if result.sigma.shape[0] == 1 else k]
        popt = np.asarray(result.popt[k], dtype=float)
        vectorized = not isinstance(model, str)
    else:
        if index is not None:
            raise TypeError("`index` selects a row of a trustfit.batch.curve_fit result")
        popt = _popt_of(result)
        vectorized = False
    if model is None:
        raise TypeError("plot_fit needs the model: f(x, *params) or a formula")
    y = np.asarray(ydata, dtype=float).ravel()
    err = None
    if sigma is not None:
        s = np.asarray(sigma, dtype=float)
        if s.ndim > 1:
            raise ValueError("`sigma` must be a scalar or one value per point (error bars)")
        err = np.broadcast_to(s, y.shape)

    def evaluate(x: Any) -> np.ndarray:
        if isinstance(model, str):
            from .batch import _variables
            from . import _trustfit

            first = next(iter(x.values())) if isinstance(x, dict) else x
            names, cols = _variables(x, np.shape(first)[-1])
            return np.asarray(_trustfit.formula_eval(
                model, names, cols, np.ascontiguousarray(popt)))
        if not callable(model):
            raise TypeError(f"`model` must be a callable or a formula string, got "
                            f"{type(model).__name__}")
        params = [np.full((1, 1), v) for v in popt] if vectorized else list(popt)
        return np.asarray(model(x, *params), dtype=float).reshape(-1)

    fitted = evaluate(xdata)
    if fitted.size != y.size:
        raise ValueError(f"the model gives {fitted.size} values for {y.size} data points")
    residuals = y - fitted

    if ax is None:
        fig, (ax_fit, ax_res) = plt.subplots(
            2, 1, sharex=True, figsize=(7.0, 5.5),
            gridspec_kw={"height_ratios": [3, 1], "hspace": 0.05},
        )
    else:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        ax_fit = ax
        fig = ax.figure
        ax_res = make_axes_locatable(ax).append_axes("bottom", size="33%", pad=0.1,
                                                     sharex=ax)
    x1, xname = _one_dimensional(xdata)
    if x1 is not None and x1.size == y.size:
        xs, xlab = x1, xname
        finite = np.isfinite(x1)
        lo, hi = (float(np.min(x1[finite])), float(np.max(x1[finite]))) if finite.any() \
            else (0.0, 1.0)
        curve_x = np.linspace(lo, hi, max(int(grid), 2))
        curve_y = evaluate(_on_grid(xdata, curve_x))
        curve_label = "fit"
    else:
        xs, xlab = np.arange(y.size, dtype=float), "point index"
        curve_x, curve_y = xs, fitted
        curve_label = "fitted values"
    if err is None:
        ax_fit.plot(xs, y, "o", ms=4, color="C0", label="data")
        ax_res.plot(xs, residuals, "o", ms=4, color="C0")
    else:
        ax_fit.errorbar(xs, y, yerr=err, fmt="o", ms=4, color="C0", capsize=2,
                        label="data ± σ")
        ax_res.errorbar(xs, residuals, yerr=err, fmt="o", ms=4, color="C0", capsize=2)
    ax_fit.plot(curve_x, curve_y, "-", color="C3", lw=1.8, label=curve_label)
    ax_res.axhline(0.0, color="C3", lw=1.0)
    ax_fit.set_ylabel(ylabel)
    ax_res.set_ylabel("residual")
    ax_res.set_xlabel(xlabel if xlabel is not None else xlab)
    ax_fit.tick_params(labelbottom=False)
    ax_fit.legend(loc="best", frameon=False)
    if title is None:
        title = model if isinstance(model, str) else getattr(model, "__name__", None)
        if title == "<lambda>":
            title = None
    if title:
        ax_fit.set_title(title)
    return fig
