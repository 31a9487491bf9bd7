"""scipy.ndimage's vocabulary: modes, axes, origins, outputs and casts.

The argument rules of ``scipy.ndimage``'s filters (SciPy's own
``scipy/ndimage/_ni_support.py`` is the model), written once for
:mod:`fastconv.ndimage`, its linear filters (:mod:`fastconv._ndfilters`)
and :mod:`fastconv.dask.ndimage`.  Every check raises SciPy's own error.
"""

import numbers
import operator
import warnings
from collections.abc import Iterable

import numpy as np

from fastconv._errors import RuntimeValueError


PAD_MODES = {"reflect": "symmetric", "grid-mirror": "symmetric", "mirror": "reflect",
              "nearest": "edge", "wrap": "wrap", "grid-wrap": "wrap",
              "constant": "constant", "grid-constant": "constant"}


# input dtypes ndimage's C loops accept (others raise there; we delegate)
SUPPORTED_KINDS = "biufc"


def np_pad_mode(mode):
    if isinstance(mode, str) and mode in PAD_MODES:
        return PAD_MODES[mode]
    raise RuntimeValueError("boundary mode not supported")


def check_axes(axes, ndim):
    """scipy.ndimage's axes rules (int, iterable of ints or None)."""
    if axes is None:
        return tuple(range(ndim))
    if np.isscalar(axes):
        axes = (operator.index(axes),)
    elif isinstance(axes, Iterable):
        axes = tuple(operator.index(ax) for ax in axes)
        for ax in axes:
            if ax < -ndim or ax > ndim - 1:
                raise ValueError(f"specified axis: {ax} is out of range")
        axes = tuple(ax % ndim if ax < 0 else ax for ax in axes)
    else:
        raise ValueError("axes must be an integer, iterable of integers, or None")
    if len(set(axes)) != len(axes):
        raise ValueError("axes must be unique")
    return axes


def normalize_sequence(value, rank):
    if not isinstance(value, str) and np.iterable(value):
        values = list(value)
        if len(values) != rank:
            raise RuntimeValueError("sequence argument must have length equal to input rank")
        return values
    return [value] * rank


def invalid_origin(origin, k):
    return origin < -(k // 2) or origin > (k - 1) // 2


def output_array(output, input, complex_output):
    """ndimage's ``output`` argument -> (array to fill or None, dtype)."""
    if output is None:
        if complex_output:
            return None, np.promote_types(input.dtype, np.complex64)
        return None, input.dtype
    if isinstance(output, (type, np.dtype)):
        dtype = np.dtype(output)
        if complex_output and dtype.kind != "c":
            warnings.warn("promoting specified output dtype to complex", stacklevel=4)
            dtype = np.promote_types(dtype, np.complex64)
        return None, dtype
    if isinstance(output, str):
        dtype = np.dtype(output)
        if complex_output and dtype.kind != "c":
            raise RuntimeValueError("output must have complex dtype")
        if not issubclass(dtype.type, np.number):
            raise RuntimeValueError("output must have numeric dtype")
        return None, dtype
    if not isinstance(output, np.ndarray):
        raise TypeError("output must be None, a dtype or a NumPy array, "
                        f"got {type(output).__name__}")
    if output.shape != input.shape:
        raise RuntimeValueError("output shape not correct")
    if complex_output and output.dtype.kind != "c":
        raise RuntimeValueError("output must have complex dtype")
    return output, output.dtype


def c_small_int(res, dtype):
    """``(dtype)value`` for an integer `dtype` narrower than 32 bits, as C
    compilers lower it on x86-64 and aarch64 alike: a conversion to a 32-bit
    int (truncation toward zero), then the low bits (wrap-around, so -41.0
    is 215 in uint8).  NumPy's direct float-to-uint8 cast is not that on
    aarch64 (it saturates: -41.0 becomes 0), so go through int32."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return res.astype(np.int32).astype(dtype)


def cast(res, dtype):
    """Cast a float64/complex result to `dtype` the way ndimage's C loops do
    (truncation toward zero, wrap-around; x86-64 conversions, which aarch64's
    match for integers narrower than 32 bits through :func:`c_small_int`)."""
    dtype = np.dtype(dtype)
    if res.dtype == dtype:
        return res
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if dtype.kind in "iu" and res.dtype.kind == "c":
            res = res.real
        if dtype.kind == "b":
            return c_small_int(res, np.uint8) != 0
        if dtype.kind in "iu" and dtype.itemsize < 4:
            return c_small_int(res, dtype)
        if dtype == np.uint32:
            return res.astype(np.int64).astype(np.uint32)
        return res.astype(dtype)


def real_cval(cval):
    """ndimage's C conversion of `cval` to a double (TypeError otherwise)."""
    if isinstance(cval, (str, bytes, complex, np.complexfloating)):
        raise TypeError(f"must be real number, not {type(cval).__name__}")
    return float(cval)


def check_origin_type(o):
    if isinstance(o, bool):
        return int(o)
    if isinstance(o, (numbers.Integral, np.integer)):
        return int(o)
    if isinstance(o, (numbers.Real,)):
        raise TypeError(f"'{type(o).__name__}' object cannot be interpreted as an integer")
    try:
        return operator.index(o)
    except TypeError:
        raise TypeError(f"origin must be an int or a sequence of ints, got {o!r}") from None
