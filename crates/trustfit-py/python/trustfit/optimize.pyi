"""Type stubs of ``trustfit.optimize``."""

from typing import Any, Callable, Literal, Mapping, Optional, Sequence, Union, overload

import numpy as np
import numpy.typing as npt
from scipy.optimize import Bounds, OptimizeResult

__all__ = ["least_squares", "leastsq", "curve_fit", "covariance"]

_Array = npt.ArrayLike
_F64 = npt.NDArray[np.float64]

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

@overload
def leastsq(
    func: Callable[..., _Array],
    x0: _Array,
    args: Any = ...,
    Dfun: Optional[Callable[..., _Array]] = ...,
    full_output: Literal[False, 0] = ...,
    col_deriv: bool = ...,
    ftol: float = ...,
    xtol: float = ...,
    gtol: float = ...,
    maxfev: int = ...,
    epsfcn: Optional[float] = ...,
    factor: float = ...,
    diag: Optional[_Array] = ...,
) -> tuple[_F64, int]: ...
@overload
def leastsq(
    func: Callable[..., _Array],
    x0: _Array,
    args: Any = ...,
    Dfun: Optional[Callable[..., _Array]] = ...,
    *,
    full_output: Literal[True, 1],
    col_deriv: bool = ...,
    ftol: float = ...,
    xtol: float = ...,
    gtol: float = ...,
    maxfev: int = ...,
    epsfcn: Optional[float] = ...,
    factor: float = ...,
    diag: Optional[_Array] = ...,
) -> tuple[_F64, Optional[_F64], dict[str, Any], str, int]: ...
@overload
def leastsq(
    func: Callable[..., _Array],
    x0: _Array,
    args: Any = ...,
    Dfun: Optional[Callable[..., _Array]] = ...,
    full_output: bool = ...,
    col_deriv: bool = ...,
    ftol: float = ...,
    xtol: float = ...,
    gtol: float = ...,
    maxfev: int = ...,
    epsfcn: Optional[float] = ...,
    factor: float = ...,
    diag: Optional[_Array] = ...,
) -> Union[tuple[_F64, int], tuple[_F64, Optional[_F64], dict[str, Any], str, int]]: ...
@overload
def curve_fit(
    f: Callable[..., _Array],
    xdata: Any,
    ydata: _Array,
    p0: Optional[_Array] = ...,
    sigma: Optional[_Array] = ...,
    absolute_sigma: bool = ...,
    check_finite: Optional[bool] = ...,
    bounds: Union[tuple[_Array, _Array], Sequence[_Array], Bounds] = ...,
    method: Optional[str] = ...,
    jac: Union[None, str, Callable[..., _Array]] = ...,
    *,
    full_output: Literal[False] = ...,
    nan_policy: Optional[str] = ...,
    **kwargs: Any,
) -> tuple[_F64, _F64]: ...
@overload
def curve_fit(
    f: Callable[..., _Array],
    xdata: Any,
    ydata: _Array,
    p0: Optional[_Array] = ...,
    sigma: Optional[_Array] = ...,
    absolute_sigma: bool = ...,
    check_finite: Optional[bool] = ...,
    bounds: Union[tuple[_Array, _Array], Sequence[_Array], Bounds] = ...,
    method: Optional[str] = ...,
    jac: Union[None, str, Callable[..., _Array]] = ...,
    *,
    full_output: Literal[True],
    nan_policy: Optional[str] = ...,
    **kwargs: Any,
) -> tuple[_F64, _F64, dict[str, Any], str, int]: ...
def covariance(result: OptimizeResult, absolute_sigma: bool = ...) -> OptimizeResult: ...
