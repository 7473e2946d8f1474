"""trustfit: nonlinear least squares with scipy's behaviour, solved in Rust.

``trustfit.least_squares``, ``trustfit.leastsq`` and ``trustfit.curve_fit`` are drop-in
replacements for their ``scipy.optimize`` namesakes (scipy 1.17): same signatures, defaults,
checks, messages and results. ``trustfit.covariance`` (not in scipy) gives the parameters'
covariance, standard errors and correlations of any ``least_squares`` result.
"""

from ._trustfit import TrustfitError, __version__
from . import batch
from .optimize import covariance, curve_fit, least_squares, leastsq

__all__ = [
    "least_squares",
    "leastsq",
    "curve_fit",
    "covariance",
    "TrustfitError",
    "__version__",
]
