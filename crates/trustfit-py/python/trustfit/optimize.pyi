"""Type stubs of ``trustfit.optimize``."""

from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, OptimizeResult

_Array = npt.ArrayLike

def least_squares(
    fun: Callable[..., _Array],
    x0: _Array,
    jac: Union[str, Callable[..., _Array]] = ...,
    bounds: Union[tuple[_Array, _Array], Sequence[_Array], Bounds] = ...,
    method: str = ...,
    ftol: Optional[float] = ...,
    xtol: Optional[float] = ...,
    gtol: Optional[float] = ...,
    x_scale: Union[None, str, _Array] = ...,
    loss: Union[str, Callable[[npt.NDArray[np.float64]], _Array]] = ...,
    f_scale: float = ...,
    diff_step: Optional[_Array] = ...,
    tr_solver: Optional[str] = ...,
    tr_options: Optional[Mapping[str, Any]] = ...,
    jac_sparsity: Optional[_Array] = ...,
    max_nfev: Optional[int] = ...,
    verbose: int = ...,
    args: Sequence[Any] = ...,
    kwargs: Optional[Mapping[str, Any]] = ...,
    callback: Optional[Callable[..., Any]] = ...,
    workers: Union[None, int, Callable[..., Any]] = ...,
) -> OptimizeResult: ...
