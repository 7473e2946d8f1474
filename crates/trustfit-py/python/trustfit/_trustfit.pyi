"""Type stubs of the compiled module ``trustfit._trustfit`` (kept in step with src/lib.rs)."""

from typing import Any, Callable, Optional

import numpy as np
import numpy.typing as npt

__all__ = ["solve", "leastsq_solve", "TrustfitError", "__version__"]

__version__: str

class TrustfitError(RuntimeError):
    """A failure inside trustfit that scipy has no exception for."""

def solve(
    fun: Callable[..., Any],
    x0: npt.NDArray[np.float64],
    f0: npt.NDArray[np.float64],
    jac: Optional[Callable[..., Any]],
    jac_kind: str,
    j0: Optional[npt.NDArray[np.float64]],
    args: tuple[Any, ...],
    kwargs: Optional[dict[str, Any]],
    lb: Optional[npt.NDArray[np.float64]],
    ub: Optional[npt.NDArray[np.float64]],
    method: str,
    ftol: float,
    xtol: float,
    gtol: float,
    x_scale: str,
    x_scale_values: Optional[npt.NDArray[np.float64]],
    loss: str | Callable[[npt.NDArray[np.float64]], Any],
    f_scale: float,
    diff_step: Optional[npt.NDArray[np.float64]],
    max_nfev: Optional[int],
    verbose: int,
    callback: Optional[Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64], int, int, float], bool]],
    tr_solver: Optional[str] = None,
    tr_options: Optional[tuple[float, float, float, float, Optional[int], bool]] = None,
    sparsity: Optional[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = None,
) -> tuple[
    npt.NDArray[np.float64],  # x
    float,  # cost
    npt.NDArray[np.float64],  # fun
    # jac: (m, n), or (data, indptr, indices) of a CSR matrix when J was sparse
    npt.NDArray[np.float64] | tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]],
    npt.NDArray[np.float64],  # grad
    float,  # optimality
    npt.NDArray[np.int64],  # active_mask
    int,  # nfev
    Optional[int],  # njev
    int,  # status
]: ...

def leastsq_solve(
    func: Callable[..., Any],
    x0: npt.NDArray[np.float64],
    fvec0: npt.NDArray[np.float64],
    args: tuple[Any, ...],
    dfun: Optional[Callable[..., Any]],
    col_deriv: bool,
    ftol: float,
    xtol: float,
    gtol: float,
    maxfev: int,
    epsfcn: float,
    factor: float,
    diag: Optional[npt.NDArray[np.float64]],
    convert: Callable[[Any, int, int], npt.NDArray[np.float64]],
) -> tuple[
    npt.NDArray[np.float64],  # x
    npt.NDArray[np.float64],  # fvec (m,)
    int,  # nfev
    int,  # njev
    npt.NDArray[np.float64],  # fjac (n, m)
    npt.NDArray[np.int32],  # ipvt (0-based)
    npt.NDArray[np.float64],  # qtf (n,)
    int,  # info
]: ...
