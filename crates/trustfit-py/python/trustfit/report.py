"""Fit reports: ``trustfit.fit_report``, the command line's ``trustfit fit`` report in Python.

``fit_report(result, ...)`` takes the result of ``trustfit.least_squares``, of
``trustfit.curve_fit(..., full_output=True)`` or one fit of ``trustfit.batch.curve_fit``
and returns a :class:`FitReport`: the parameters with standard errors, relative errors
and correlations, χ², reduced χ², degrees of freedom, R², AIC, BIC, cost, status,
message and evaluation counts. ``str(report)`` is the text the command line prints,
``report._repr_html_()`` a table for Jupyter, ``report.to_dict()`` the command line's
``--json`` fields, and every number is an attribute (``report.chi2``,
``report.params["a"].stderr``).

The formulas are the command line's (crates/trustfit-cli/src/curvefit.rs), so the numbers
equal those of ``trustfit fit --json`` on the same data (tests/test_report.py runs the
command line to check it):

* χ² = Σ rᵢ², rᵢ = (yᵢ − ŷᵢ)/σᵢ (σ = 1 without ``sigma``); for a 2-D ``sigma`` (a
  covariance) r is whitened by its Cholesky factor, as ``curve_fit`` whitens;
* dof = m − n; reduced χ² = χ²/dof (NaN when dof ≤ 0);
* R² = 1 − χ²/Σ((yᵢ − ȳ)/σᵢ)², ȳ = Σ(yᵢ/σᵢ²)/Σ(1/σᵢ²) (weighted by 1/σ²);
* AIC = m·ln(χ²/m) + 2n and BIC = m·ln(χ²/m) + n·ln(m) (lmfit's definitions: −2·ln L
  of Gaussian errors whose scale is estimated, constants dropped; compare them between
  models fitted to the same data);
* standard errors √diag(pcov), relative errors stderr/|value|, correlations
  pcov/(stderrᵢ·stderrⱼ) with exactly 1 on the diagonal (NaN when pcov could not be
  estimated).
"""

from __future__ import annotations

import html
import inspect
import math
import warnings
from typing import Any, Callable, NamedTuple, Optional, Union

import numpy as np
from scipy.optimize import OptimizeResult

__all__ = ["fit_report", "FitReport", "ParamEstimate"]

_NOT_ESTIMATED = "Covariance of the parameters could not be estimated"

# Widest name column of the text report (as the command line's).
_MAX_NAME_WIDTH = 64


class ParamEstimate(NamedTuple):
    """One fitted parameter: ``value``, ``stderr`` (√diag(pcov), inf when it cannot be
    estimated) and ``rel_stderr`` (stderr/|value|)."""

    name: str
    value: float
    stderr: float
    rel_stderr: float


class FitReport:
    """The report of one fit; see :func:`fit_report`.

    Attributes
    ----------
    model : str or None
        What was fitted (a formula, a function's name), for the title.
    param_names : list of str
        The parameters, in the order of ``values``, ``covariance`` and ``correlation``.
    params : dict of str to ParamEstimate
        Each parameter's ``value``, ``stderr`` and ``rel_stderr`` by name.
    values, stderr, rel_stderr : ndarray
        The same as arrays.
    covariance, correlation : ndarray
        n-by-n; ``covariance`` is ``pcov`` (all inf when it cannot be estimated).
    n_points, dof : int
        m (residuals; finite points of a batch row) and m − n.
    cost, chi2, reduced_chi2, r2, aic, bic : float
        See the module's formulas. ``r2`` is NaN when the data were not given.
    method, loss : str or None
        The method and loss, where the result tells them.
    absolute_sigma : bool
    status : int
        scipy's status (``ier`` for ``curve_fit``'s lm).
    message : str
    success : bool
    nfev : int
    njev : int or None
    warning : str or None
        "Covariance of the parameters could not be estimated" when so.
    """

    def __init__(
        self,
        *,
        model: Optional[str],
        param_names: list[str],
        values: np.ndarray,
        covariance: np.ndarray,
        estimated: bool,
        n_points: int,
        cost: float,
        chi2: float,
        r2: float,
        method: Optional[str],
        loss: Optional[str],
        absolute_sigma: bool,
        sigma_given: bool,
        ydata_given: bool,
        status: int,
        message: str,
        success: bool,
        nfev: int,
        njev: Optional[int],
        warning: Optional[str],
    ) -> None:
        n = len(param_names)
        self.model = model
        self.param_names = list(param_names)
        self.values = np.asarray(values, dtype=float).copy()
        self.covariance = np.asarray(covariance, dtype=float).reshape(n, n).copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            self.stderr = np.sqrt(np.diagonal(self.covariance)).copy()
            self.rel_stderr = self.stderr / np.abs(self.values)
            corr = self.covariance / np.outer(self.stderr, self.stderr)
        # As the command line: exactly 1 on the diagonal, NaN when not estimable.
        np.fill_diagonal(corr, 1.0 if estimated else np.nan)
        self.correlation = corr
        self.params = {
            name: ParamEstimate(name, float(v), float(s), float(r))
            for name, v, s, r in zip(self.param_names, self.values, self.stderr,
                                     self.rel_stderr)
        }
        self.n_points = int(n_points)
        self.dof = self.n_points - n
        self.cost = float(cost)
        self.chi2 = float(chi2)
        self.reduced_chi2 = self.chi2 / self.dof if self.dof > 0 else math.nan
        self.r2 = float(r2)
        m = float(self.n_points)
        with np.errstate(divide="ignore", invalid="ignore"):
            neg2_log_l = float(m * np.log(self.chi2 / m)) if m > 0 else math.nan
        self.aic = neg2_log_l + 2.0 * n
        self.bic = neg2_log_l + math.log(m) * n if m > 0 else math.nan
        self.method = method
        self.loss = loss
        self.absolute_sigma = bool(absolute_sigma)
        self._sigma_given = sigma_given
        self._ydata_given = ydata_given
        self.status = int(status)
        self.message = str(message)
        self.success = bool(success)
        self.nfev = int(nfev)
        self.njev = None if njev is None else int(njev)
        self.warning = warning

    # -- output ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The command line's ``--json`` fields that the result determines (non-finite
        numbers as None): ``model``, ``n_points``, ``parameter_names``, ``parameters``
        ({name: {value, stderr, rel_stderr}}), ``correlation``, ``covariance``, ``cost``,
        ``chi2``, ``reduced_chi2``, ``dof``, ``r2``, ``method``, ``loss``,
        ``absolute_sigma``, ``status``, ``message``, ``success``, ``nfev``, ``njev``,
        ``warning``, ``aic``, ``bic``."""

        def fin(v: float) -> Optional[float]:
            return float(v) if math.isfinite(v) else None

        return {
            "model": self.model,
            "n_points": self.n_points,
            "parameter_names": list(self.param_names),
            "parameters": {
                p.name: {"value": fin(p.value), "stderr": fin(p.stderr),
                         "rel_stderr": fin(p.rel_stderr)}
                for p in self.params.values()
            },
            "correlation": [[fin(v) for v in row] for row in self.correlation],
            "covariance": [[fin(v) for v in row] for row in self.covariance],
            "cost": fin(self.cost),
            "chi2": fin(self.chi2),
            "reduced_chi2": fin(self.reduced_chi2),
            "dof": self.dof,
            "r2": fin(self.r2),
            "method": self.method,
            "loss": self.loss,
            "absolute_sigma": self.absolute_sigma,
            "status": self.status,
            "message": self.message,
            "success": self.success,
            "nfev": self.nfev,
            "njev": self.njev,
            "warning": self.warning,
            "aic": fin(self.aic),
            "bic": fin(self.bic),
        }

    def _title(self) -> str:
        what = self.model if self.model else "fit"
        sigma = ""
        if self._sigma_given:
            sigma = "; absolute sigma" if self.absolute_sigma else "; relative sigma"
        n = len(self.param_names)
        return f"fit report: {what}   ({self.n_points} points, {n} parameters{sigma})"

    def _method_line(self) -> str:
        parts = []
        if self.method is not None:
            loss = f" (loss {self.loss})" if self.loss is not None else ""
            parts.append(f"{self.method}{loss}")
        parts.append(f"nfev {self.nfev}")
        if self.njev is not None:
            parts.append(f"njev {self.njev}")
        return ", ".join(parts)

    def _stopped_line(self) -> str:
        state = "converged" if self.success else "NOT converged"
        message = " ".join(self.message.split())
        return f"{state} (status {self.status}): {message}"

    def _r2_text(self) -> str:
        if not self._ydata_given:
            return "n/a (pass ydata)"
        return f"{self.r2:.8f}"

    def __str__(self) -> str:
        names = self.param_names
        n = len(names)
        width = _name_width(names, 9)
        lines = [self._title(), ""]
        lines.append(f"{'parameter':<{width}} {'value':>15} {'std. error':>13} {'rel. error':>12}")
        for p in self.params.values():
            rel = f"{100.0 * p.rel_stderr:.3f} %" if math.isfinite(p.rel_stderr) else "n/a"
            se = f"{p.stderr:.3e}" if math.isfinite(p.stderr) else "n/a"
            lines.append(f"{p.name:<{width}} {_num(p.value):>15} {se:>13} {rel:>12}")
        if n > 1:
            lines += ["", "correlation"]
            cw = _name_width(names, 7)
            lines.append((" " * width + "".join(f" {name:>{cw}}" for name in names)).rstrip())
            for a in range(n):
                cells = "".join(f" {_corr(self.correlation[a, b]):>{cw}}" for b in range(n))
                lines.append(f"{names[a]:<{width}}{cells}")
        lines.append("")
        rows = [
            ("cost", _num(self.cost)),
            ("chi2", _num(self.chi2)),
            ("reduced chi2", _num(self.reduced_chi2)),
            ("degrees of freedom", str(self.dof)),
            ("R^2", self._r2_text()),
            ("AIC", f"{self.aic:.4f}"),
            ("BIC", f"{self.bic:.4f}"),
            ("method", self._method_line()),
            ("stopped", self._stopped_line()),
        ]
        lines += [f"{k:<20}{v}" for k, v in rows]
        if self.warning:
            lines.append(f"warning: {self.warning}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        e = html.escape
        out = [f"<div class='trustfit-fit-report'><p><b>{e(self._title())}</b></p>"]
        out.append("<table><thead><tr><th>parameter</th><th>value</th>"
                   "<th>std. error</th><th>rel. error</th></tr></thead><tbody>")
        for p in self.params.values():
            rel = f"{100.0 * p.rel_stderr:.3f} %" if math.isfinite(p.rel_stderr) else "n/a"
            se = f"{p.stderr:.3e}" if math.isfinite(p.stderr) else "n/a"
            out.append(f"<tr><td>{e(p.name)}</td><td>{_num(p.value)}</td><td>{se}</td>"
                       f"<td>{rel}</td></tr>")
        out.append("</tbody></table>")
        if len(self.param_names) > 1:
            out.append("<p>correlation</p><table><thead><tr><th></th>")
            out += [f"<th>{e(name)}</th>" for name in self.param_names]
            out.append("</tr></thead><tbody>")
            for a, name in enumerate(self.param_names):
                cells = "".join(f"<td>{_corr(v)}</td>" for v in self.correlation[a])
                out.append(f"<tr><th>{e(name)}</th>{cells}</tr>")
            out.append("</tbody></table>")
        out.append("<table><tbody>")
        stats = [
            ("cost", _num(self.cost)),
            ("χ²", _num(self.chi2)),
            ("reduced χ²", _num(self.reduced_chi2)),
            ("degrees of freedom", str(self.dof)),
            ("R²", self._r2_text()),
            ("AIC", f"{self.aic:.4f}"),
            ("BIC", f"{self.bic:.4f}"),
            ("method", self._method_line()),
            ("stopped", self._stopped_line()),
        ]
        if self.warning:
            stats.append(("warning", self.warning))
        out += [f"<tr><th style='text-align:left'>{e(k)}</th><td style='text-align:left'>"
                f"{e(v)}</td></tr>" for k, v in stats]
        out.append("</tbody></table></div>")
        return "".join(out)


def _name_width(names: list[str], least: int) -> int:
    longest = max((len(s) for s in names), default=1)
    return min(max(longest, least), _MAX_NAME_WIDTH)


def _num(v: float) -> str:
    return f"{v:.6e}" if math.isfinite(v) else str(v)


def _corr(v: float) -> str:
    if not math.isfinite(v):
        return "n/a"
    c = f"{v:.4f}"
    return "0.0000" if c == "-0.0000" else c


# -- the statistics ----------------------------------------------------------------------


def _weights(sigma: Any, m: int) -> tuple[str, Any]:
    """("none", None), ("diag", w = 1/σ as an (m,) array) or ("cov", lower Cholesky
    factor of the (m, m) covariance)."""
    if sigma is None:
        return "none", None
    s = np.asarray(sigma, dtype=float)
    if s.size == 1:
        return "diag", np.full(m, 1.0 / s.reshape(()))
    if s.shape == (m,):
        return "diag", 1.0 / s
    if s.shape == (m, m):
        from scipy.linalg import cholesky

        return "cov", cholesky(s, lower=True)
    raise ValueError(f"`sigma` must be a scalar, ({m},) or ({m}, {m}) for {m} residuals, "
                     f"got shape {s.shape}")


def _r2(chi2: float, ydata: Any, sigma: Any, m: int) -> float:
    """1 − χ²/Σ((y − ȳ)/σ)² with ȳ weighted by 1/σ² (the command line's formula); for a
    covariance C, Σ((y − ȳ)/σ)² is (y − ȳ)ᵀC⁻¹(y − ȳ) and ȳ = 1ᵀC⁻¹y / 1ᵀC⁻¹1."""
    if ydata is None:
        return math.nan
    y = np.asarray(ydata, dtype=float).ravel()
    if y.size != m:
        raise ValueError(
            f"`ydata` has {y.size} values but the fit has {m} residuals (with "
            "nan_policy='omit', pass the points that were kept)"
        )
    kind, w = _weights(sigma, m)
    if kind == "cov":
        from scipy.linalg import solve_triangular

        wy = solve_triangular(w, y, lower=True)
        w1 = solve_triangular(w, np.ones(m), lower=True)
        ybar = float(w1 @ wy) / float(w1 @ w1)
        ss_tot = float(np.sum((wy - ybar * w1) ** 2))
    else:
        if w is None:
            w = np.ones(m)
        ybar = float(np.sum(w * w * y)) / float(np.sum(w * w))
        ss_tot = float(np.sum((w * (y - ybar)) ** 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(1.0 - np.float64(chi2) / np.float64(ss_tot))


def _estimated(pcov: np.ndarray) -> bool:
    """curve_fit's covariance was estimated: no NaN, not all inf."""
    return bool(pcov.size == 0 or not (np.isnan(pcov).any() or np.isinf(pcov).all()))


def _names_of(model: Any, n: int, param_names: Optional[list[str]]) -> list[str]:
    if param_names is not None:
        names = [str(s) for s in param_names]
        if len(names) != n:
            raise ValueError(f"{len(names)} `param_names` for {n} parameters")
        return names
    if callable(model):
        try:
            sig = inspect.signature(model)
            names = [p.name for p in sig.parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]
        except (TypeError, ValueError):
            names = []
        if len(names) == n:
            return names
    return [f"p{i}" for i in range(n)]


def _label(model: Any) -> Optional[str]:
    if model is None:
        return None
    if isinstance(model, str):
        return model
    name = getattr(model, "__name__", None) or type(model).__name__
    return None if name == "<lambda>" else name


# -- fit_report --------------------------------------------------------------------------


def fit_report(
    result: Any,
    ydata: Any = None,
    sigma: Any = None,
    *,
    index: Optional[int] = None,
    param_names: Optional[list[str]] = None,
    model: Union[None, str, Callable[..., Any]] = None,
    absolute_sigma: Optional[bool] = None,
) -> FitReport:
    """The report of a fit, as the command line's ``trustfit fit`` prints it.

    Parameters
    ----------
    result : OptimizeResult, tuple or BatchFit
        One of

        * the result of ``trustfit.least_squares`` (or scipy's): its residuals
          ``result.fun`` are taken as the weighted ones, (ŷ − y)/σ, so χ² = Σ fun²;
          the covariance is ``trustfit.covariance(result, absolute_sigma)``;
        * the 5-tuple of ``trustfit.curve_fit(..., full_output=True)`` (or scipy's):
          ``(popt, pcov, infodict, mesg, ier)``; χ² = Σ ``infodict["fvec"]``²;
        * a ``trustfit.batch.curve_fit`` result with ``index`` = k, the row to report: it
          carries the model, data, σ and method, and χ² is computed from the model's
          values at the row's finite points.
    ydata : array_like, optional
        The data (m values; not for a batch). Only R² needs them: without them ``r2``
        is NaN.
    sigma : None, scalar, (m,) or (m, m) array_like, optional
        The σ the fit divided the residuals by (a 2-D one is a covariance, as in
        ``curve_fit``), for R²'s weights 1/σ². Not for a batch.
    index : int, optional
        The row of a batch (required for a batch of more than one fit).
    param_names : list of str, optional
        Names of the parameters. Default: a batch's ``param_names``; the names of
        ``model``'s parameters after the first when ``model`` is a function; else
        ``p0``, ``p1``, ...
    model : str or callable, optional
        What was fitted: its name (or the formula) titles the report, and a function's
        signature names the parameters (``curve_fit``'s convention).
    absolute_sigma : bool, optional
        For a ``least_squares`` result: do not rescale the covariance by the reduced χ²
        (default False). For a ``curve_fit`` tuple it only labels the report (pcov is
        already computed); a batch knows its own.

    Returns
    -------
    FitReport
        ``str()`` is the text report, ``_repr_html_()`` a Jupyter table, ``to_dict()``
        the command line's ``--json`` fields; attributes ``params`` (name -> value,
        stderr, rel_stderr), ``values``, ``stderr``, ``covariance``, ``correlation``,
        ``chi2``, ``reduced_chi2``, ``dof``, ``r2``, ``aic``, ``bic``, ``cost``,
        ``status``, ``message``, ``success``, ``nfev``, ``njev``, ``warning``.

    Notes
    -----
    Formulas (those of the command line, module docstring of ``trustfit.report``):
    χ² = Σ((y − ŷ)/σ)², dof = m − n, reduced χ² = χ²/dof, R² = 1 − χ²/Σ((y − ȳ)/σ)²
    with ȳ weighted by 1/σ², AIC = m·ln(χ²/m) + 2n, BIC = m·ln(χ²/m) + n·ln(m).

    Examples
    --------
    >>> import numpy as np
    >>> from trustfit import curve_fit, fit_report
    >>> x = np.array([1.0, 2.0, 3.0, 4.0]); y = np.array([1.0, 3.2, 9.5, 13.7])
    >>> def power(x, a, b):
    ...     return b * x**a
    >>> rep = fit_report(curve_fit(power, x, y, full_output=True), y, model=power)
    >>> round(rep.params["a"].value, 4), round(rep.params["a"].stderr, 4), rep.dof
    (1.7989, 0.292, 2)
    >>> print(str(rep).splitlines()[0])
    fit report: power   (4 points, 2 parameters)
    """
    from .batch import BatchFit

    if isinstance(result, BatchFit):
        if ydata is not None or sigma is not None:
            raise TypeError("a BatchFit carries its own ydata and sigma; pass `index` only")
        return _batch_report(result, index, param_names, model)
    if index is not None:
        raise TypeError("`index` selects a row of a trustfit.batch.curve_fit result")
    if isinstance(result, tuple):
        return _curve_fit_report(result, ydata, sigma, param_names, model,
                                 bool(absolute_sigma))
    if isinstance(result, OptimizeResult) or hasattr(result, "fun"):
        return _least_squares_report(result, ydata, sigma, param_names, model,
                                     bool(absolute_sigma))
    raise TypeError(
        "fit_report takes a least_squares OptimizeResult, the 5-tuple of "
        "curve_fit(..., full_output=True) or a trustfit.batch.curve_fit result, got "
        f"{type(result).__name__}"
    )


def _least_squares_report(res: Any, ydata: Any, sigma: Any, param_names: Any, model: Any,
                          absolute_sigma: bool) -> FitReport:
    from .optimize import covariance

    x = np.asarray(res.x, dtype=float)
    fun = np.asarray(res.fun, dtype=float).ravel()
    n, m = x.size, fun.size
    warning = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cov = covariance(res, absolute_sigma=absolute_sigma)
        pcov, estimated = np.asarray(cov.pcov, dtype=float), bool(cov.estimated)
        if not estimated or any(_NOT_ESTIMATED in str(w.message) for w in caught):
            warning = _NOT_ESTIMATED
    except ValueError as e:  # a LinearOperator Jacobian: no entries to invert
        pcov, estimated = np.full((n, n), np.inf), False
        warning = f"{_NOT_ESTIMATED}: {e}"
    chi2 = float(np.sum(fun * fun))
    njev = getattr(res, "njev", None)
    return FitReport(
        model=_label(model) or "least_squares",
        param_names=_names_of(model, n, param_names),
        values=x,
        covariance=pcov,
        estimated=estimated,
        n_points=m,
        cost=float(res.cost),
        chi2=chi2,
        r2=_r2(chi2, ydata, sigma, m),
        method=None,
        loss=None,
        absolute_sigma=absolute_sigma,
        sigma_given=sigma is not None,
        ydata_given=ydata is not None,
        status=int(res.status),
        message=str(res.message),
        success=bool(res.success),
        nfev=int(res.nfev),
        njev=None if njev is None else int(njev),
        warning=warning,
    )


def _curve_fit_report(out: tuple[Any, ...], ydata: Any, sigma: Any, param_names: Any,
                      model: Any, absolute_sigma: bool) -> FitReport:
    if len(out) != 5:
        raise TypeError(
            f"a curve_fit result needs full_output=True: (popt, pcov, infodict, mesg, ier), "
            f"got a tuple of {len(out)}"
        )
    popt, pcov, infodict, mesg, ier = out
    popt = np.atleast_1d(np.asarray(popt, dtype=float))
    n = popt.size
    pcov = np.asarray(pcov, dtype=float).reshape(n, n)
    fvec = np.asarray(infodict["fvec"], dtype=float).ravel()
    m = fvec.size
    chi2 = float(np.sum(fvec * fvec))
    estimated = _estimated(pcov)
    njev = infodict.get("njev")
    lm = "fjac" in infodict
    return FitReport(
        model=_label(model) or "curve_fit",
        param_names=_names_of(model, n, param_names),
        values=popt,
        covariance=pcov,
        estimated=estimated,
        n_points=m,
        # curve_fit's outputs hold no cost: ½χ², the cost of the (default) linear loss.
        cost=0.5 * chi2,
        chi2=chi2,
        r2=_r2(chi2, ydata, sigma, m),
        # Only leastsq (method 'lm', whose loss is the linear one) returns fjac.
        method="lm" if lm else None,
        loss="linear" if lm else None,
        absolute_sigma=absolute_sigma,
        sigma_given=sigma is not None,
        ydata_given=ydata is not None,
        status=int(ier),
        message=str(mesg),
        success=int(ier) in (1, 2, 3, 4),
        nfev=int(infodict["nfev"]),
        njev=None if njev is None else int(njev),
        warning=None if estimated else _NOT_ESTIMATED,
    )


def _batch_report(fit: Any, index: Optional[int], param_names: Any, model: Any) -> FitReport:
    k_fits = len(fit)
    if index is None:
        if k_fits != 1:
            raise TypeError(f"the batch holds {k_fits} fits: pass index=k, the row to report")
        index = 0
    k = int(index)
    if k != index or not -k_fits <= k < k_fits:
        raise IndexError(f"index {index!r} out of range for a batch of {k_fits} fits")
    k %= k_fits
    if fit.ydata is None:
        raise ValueError("this BatchFit does not carry its data (it was not made by "
                         "trustfit.batch.curve_fit)")
    popt = np.asarray(fit.popt[k], dtype=float)
    n = popt.size
    pcov = np.asarray(fit.pcov[k], dtype=float)
    y = np.asarray(fit.ydata[k], dtype=float)
    keep = np.isfinite(y)
    w = np.ones(y.size)
    if fit.sigma is not None:
        s = np.asarray(fit.sigma, dtype=float)
        w = 1.0 / (s[0] if s.shape[0] == 1 else s[k])
    fitted = fit.model_values(k)
    yk, wk, fk = y[keep], w[keep], fitted[keep]
    chi2 = float(np.sum(((yk - fk) * wk) ** 2))
    m = int(keep.sum())
    ybar = float(np.sum(wk * wk * yk)) / float(np.sum(wk * wk)) if m else math.nan
    ss_tot = float(np.sum((wk * (yk - ybar)) ** 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = float(1.0 - np.float64(chi2) / np.float64(ss_tot))
    error = fit.error[k]
    message = fit.message[k] if fit.message is not None else ""
    if error:
        message = f"not fitted: {error}"
    njev = int(fit.njev[k])
    label = _label(model) or _label(fit.model)
    estimated = _estimated(pcov)
    return FitReport(
        model=label,
        param_names=list(param_names) if param_names is not None else list(fit.param_names),
        values=popt,
        covariance=pcov,
        estimated=estimated,
        n_points=m,
        cost=float(fit.cost[k]),
        chi2=chi2,
        r2=r2,
        method=fit.method,
        loss=fit.loss,
        absolute_sigma=bool(fit.absolute_sigma),
        sigma_given=fit.sigma is not None,
        ydata_given=True,
        status=int(fit.status[k]),
        message=message,
        success=bool(fit.success[k]),
        nfev=int(fit.nfev[k]),
        njev=njev if njev > 0 else None,
        warning=None if estimated or error else _NOT_ESTIMATED,
    )

