"""trustfit: nonlinear least squares with scipy's behaviour, solved in Rust.

``trustfit.least_squares`` is a drop-in replacement for ``scipy.optimize.least_squares``
(scipy 1.17): same signature, defaults, checks, messages and ``OptimizeResult``.
"""

from ._trustfit import TrustfitError, __version__
from .optimize import least_squares

__all__ = ["least_squares", "TrustfitError", "__version__"]
