"""trustfit: nonlinear least squares with scipy's behaviour, solved in Rust.

``trustfit.least_squares``, ``trustfit.leastsq`` and ``trustfit.curve_fit`` are drop-in
replacements for their ``scipy.optimize`` namesakes (scipy 1.17): same signatures, defaults,
checks, messages and results. ``trustfit.covariance`` (not in scipy) gives the parameters'
covariance, standard errors and correlations of any ``least_squares`` result.
``trustfit.fit_report`` (the command line's report of a fit: standard errors,
correlations, χ², R², AIC, BIC) and ``trustfit.plot_fit`` (data, fit and residuals;
needs matplotlib: ``pip install trustfit[plot]``) are not in scipy either.
"""

from ._trustfit import TrustfitError, __version__
from . import batch
from .optimize import covariance, curve_fit, least_squares, leastsq
from .plot import plot_fit
from .report import FitReport, ParamEstimate, fit_report

__all__ = [
    "least_squares",
    "leastsq",
    "curve_fit",
    "covariance",
    "fit_report",
    "FitReport",
    "ParamEstimate",
    "plot_fit",
    "TrustfitError",
    "__version__",
]
