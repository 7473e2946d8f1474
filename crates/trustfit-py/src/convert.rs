//! Array conversions between numpy and the core's slices.
//!
//! The fast paths read a C-contiguous float64 (or complex128) ndarray of the right shape
//! with one copy; anything else goes through `numpy.ascontiguousarray` first.

use numpy::ndarray::Dimension;
use numpy::{
    Complex64, PyArray, PyArray1, PyArray2, PyArrayDescrMethods, PyArrayMethods,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// `numpy.ascontiguousarray(obj, dtype=dtype)` (always at least 1-d).
fn ascontiguous<'py>(obj: &Bound<'py, PyAny>, dtype: &str) -> PyResult<Bound<'py, PyAny>> {
    let np = obj.py().import("numpy")?;
    np.getattr("ascontiguousarray")?.call1((obj, dtype))
}

/// `numpy.shape(obj)` as text, e.g. `(3, 1)`, for error messages.
fn shape_text(obj: &Bound<'_, PyAny>) -> String {
    obj.py()
        .import("numpy")
        .and_then(|np| np.getattr("shape")?.call1((obj,)))
        .and_then(|s| s.repr().map(|r| r.to_string()))
        .unwrap_or_else(|_| "?".into())
}

/// The values of a contiguous array (None: not contiguous), borrowed for a copy.
///
/// Not rust-numpy's `readonly()`, whose bookkeeping (a global table of borrows) costs
/// more than copying a small array, nor `to_vec()`, which allocates a copy to copy from.
#[allow(unsafe_code)]
pub fn contiguous<'a, D: Dimension>(arr: &'a Bound<'_, PyArray<f64, D>>) -> Option<&'a [f64]> {
    // SAFETY: `as_slice` requires that no mutable Rust borrow of the array exists while
    // the slice lives: trustfit never takes one of an array it did not create, and the
    // slice lives for one copy, under the GIL (held by `arr`), so no Python code runs
    // meanwhile. rust-numpy's `to_vec` reads the array the same way.
    unsafe { arr.as_slice() }.ok()
}

/// Writes `x` into `arr` when nothing but the caller holds it (reference count 1) and it
/// is still the writeable, contiguous, 1-d native float64 array of `x`'s length that owns
/// its data, as trustfit made it (user code may change flags, shape or dtype in place); false,
/// leaving it untouched, otherwise. A callback then gets this array again instead of a
/// fresh copy: no one can tell, since no one else refers to it (a fresh array per call
/// cost numpy an allocation and a deallocation, a tenth of a small fit's own time).
#[allow(unsafe_code)]
pub fn overwrite_unshared(arr: &Bound<'_, PyArray1<f64>>, x: &[f64]) -> bool {
    use numpy::npyffi::flags::{NPY_ARRAY_C_CONTIGUOUS, NPY_ARRAY_OWNDATA, NPY_ARRAY_WRITEABLE};
    let wanted = NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_OWNDATA | NPY_ARRAY_WRITEABLE;
    // SAFETY: `arr` is a live ndarray (the `Bound`): its object header and array struct
    // may be read.
    let (count, flags) = unsafe {
        (
            pyo3::ffi::Py_REFCNT(arr.as_ptr()),
            (*arr.as_array_ptr()).fields.flags,
        )
    };
    let float64 = || arr.dtype().is_equiv_to(&numpy::dtype::<f64>(arr.py()));
    if count != 1
        || flags & wanted != wanted
        || arr.ndim() != 1
        || arr.len() != x.len()
        || !float64()
    {
        return false;
    }
    // SAFETY: the only reference to the array is `arr` (count 1: no view, no Python
    // name, no Rust borrow of it exists) and the GIL is held, so nothing else reads or
    // writes its memory; it is writeable, contiguous and owns `x.len()` float64 values.
    match unsafe { arr.as_slice_mut() } {
        Ok(s) => {
            s.copy_from_slice(x);
            true
        }
        Err(_) => false,
    }
}

/// Copies a contiguous array into `out` (false: not contiguous).
fn copy_vector(arr: &Bound<'_, PyArray1<f64>>, out: &mut [f64], what: &str) -> PyResult<bool> {
    let Some(s) = contiguous(arr) else {
        return Ok(false);
    };
    if s.len() != out.len() {
        return Err(PyValueError::new_err(format!(
            "`{what}` returned {} values, expected {} (the number of residuals at `x0`).",
            s.len(),
            out.len()
        )));
    }
    out.copy_from_slice(s);
    Ok(true)
}

/// What scipy's arithmetic on a returned value would raise: numpy's own TypeError for
/// values that are not numbers (bool, str, None, objects), and trustfit's for a masked
/// array (see `_refuse_masked` in optimize.py).
/// Complex values are taken as real when their imaginary part is zero (scipy's trf
/// then computes on in complex numbers) and refused otherwise, as by optimize.py's
/// `_real_residuals`: returns the real array to read.
fn check_numeric<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyAny>> {
    let np = obj.py().import("numpy")?;
    if obj.is_instance(&np.getattr("ma")?.getattr("MaskedArray")?)? {
        return Err(PyTypeError::new_err(format!(
            "`{what}` returned a masked array, which trustfit does not take: return `a.filled(value)`."
        )));
    }
    let arr = np.getattr("asarray")?.call1((obj,))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    match kind.as_str() {
        "f" | "i" | "u" => Ok(arr),
        "c" => {
            let imag = arr.getattr("imag")?;
            if np.getattr("any")?.call1((imag,))?.is_truthy()? {
                return Err(PyTypeError::new_err(format!(
                    "`{what}` returned complex values with a nonzero imaginary part; least \
                     squares fits real residuals: return the real and imaginary parts as one \
                     real vector, e.g. np.concatenate([r.real, r.imag])."
                )));
            }
            arr.getattr("real")
        }
        _ => {
            np.getattr("subtract")?.call1((&arr, &arr))?;
            Ok(arr)
        }
    }
}

/// Reads the residual vector a user's `fun` returned (1-d, or a scalar when m = 1).
pub fn read_vector(obj: &Bound<'_, PyAny>, out: &mut [f64], what: &str) -> PyResult<()> {
    if let Ok(arr) = obj.cast::<PyArray1<f64>>()
        && copy_vector(arr, out, what)?
    {
        return Ok(());
    }
    let real = check_numeric(obj, what)?;
    let conv = ascontiguous(&real, "float64")?;
    match conv.cast::<PyArray1<f64>>() {
        Ok(arr) if copy_vector(arr, out, what)? => Ok(()),
        _ => Err(PyValueError::new_err(format!(
            "`{what}` must return at most 1-d array_like. f0.shape: {}",
            shape_text(&conv)
        ))),
    }
}

fn copy_matrix(
    arr: &Bound<'_, PyArray2<f64>>,
    out: &mut [f64],
    m: usize,
    n: usize,
) -> PyResult<bool> {
    if arr.shape() != [m, n] {
        return Err(PyValueError::new_err(format!(
            "The return value of `jac` has wrong shape: expected ({m}, {n}), actual {}.",
            shape_text(arr.as_any())
        )));
    }
    // `as_slice` also accepts Fortran order, whose memory is the transpose.
    if !arr.is_c_contiguous() {
        return Ok(false);
    }
    let Some(s) = contiguous(arr) else {
        return Ok(false);
    };
    out.copy_from_slice(s);
    Ok(true)
}

/// Reads a dense Jacobian (row-major m × n; 1-d and 0-d results are promoted as by
/// `numpy.atleast_2d`).
pub fn read_matrix(obj: &Bound<'_, PyAny>, out: &mut [f64], m: usize, n: usize) -> PyResult<()> {
    if let Ok(arr) = obj.cast::<PyArray2<f64>>()
        && copy_matrix(arr, out, m, n)?
    {
        return Ok(());
    }
    let np = obj.py().import("numpy")?;
    // A sparse matrix where J(x0) was dense: scipy densifies it (`np.atleast_2d` of its
    // `toarray()`); so does trustfit.
    let dense;
    let obj = if obj.hasattr("toarray")? && obj.hasattr("nnz")? {
        dense = obj.call_method0("toarray")?;
        &dense
    } else {
        obj
    };
    let two_d = np.getattr("atleast_2d")?.call1((obj,))?;
    let conv = ascontiguous(&two_d, "float64")?;
    match conv.cast::<PyArray2<f64>>() {
        Ok(arr) if copy_matrix(arr, out, m, n)? => Ok(()),
        _ => Err(PyValueError::new_err(format!(
            "The return value of `jac` has wrong shape: expected ({m}, {n}), actual {}.",
            shape_text(&conv)
        ))),
    }
}

/// Reads complex residuals (for `jac='cs'`).
pub fn read_complex(obj: &Bound<'_, PyAny>, out: &mut [Complex64]) -> PyResult<()> {
    let conv;
    let arr = match obj.cast::<PyArray1<Complex64>>() {
        Ok(a) => a,
        Err(_) => {
            conv = ascontiguous(obj, "complex128")?;
            conv.cast::<PyArray1<Complex64>>()
                .map_err(|_| PyValueError::new_err("`fun` must return at most 1-d array_like."))?
        }
    };
    let v = arr
        .to_vec()
        .map_err(|_| PyValueError::new_err("`fun` returned a non-contiguous complex array."))?;
    if v.len() != out.len() {
        return Err(PyValueError::new_err(format!(
            "`fun` returned {} values, expected {} (the number of residuals at `x0`).",
            v.len(),
            out.len()
        )));
    }
    out.copy_from_slice(&v);
    Ok(())
}

/// Reads a callable loss's `(3, m)` return value into ρ, ρ′, ρ″.
pub fn read_loss(
    obj: &Bound<'_, PyAny>,
    rho: &mut [f64],
    d1: &mut [f64],
    d2: &mut [f64],
) -> PyResult<()> {
    let m = rho.len();
    let wrong = || PyValueError::new_err("The return value of `loss` callable has wrong shape.");
    let conv = ascontiguous(obj, "float64")?;
    let arr = conv.cast::<PyArray2<f64>>().map_err(|_| wrong())?;
    if arr.shape() != [3, m] {
        return Err(wrong());
    }
    if !arr.is_c_contiguous() {
        return Err(wrong());
    }
    let ro = arr.readonly();
    let s = ro.as_slice().map_err(|_| wrong())?;
    rho.copy_from_slice(&s[..m]);
    d1.copy_from_slice(&s[m..2 * m]);
    d2.copy_from_slice(&s[2 * m..]);
    Ok(())
}
