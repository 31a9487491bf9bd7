"""``scipy.ndimage``-compatible filtering: :func:`correlate`, :func:`convolve`,
:func:`correlate1d`, :func:`convolve1d`.

Same signatures, defaults, boundary modes, ``origin`` and ``output``
rules, dtypes and errors as SciPy 1.17's ``scipy.ndimage``, computed by
fastconv's multithreaded engine.  New option (keyword-only): ``workers``.

How a call becomes one engine call: the output always has the input's
shape; on every filtered axis it is a window of the full convolution that
starts ``k - 1 - (k // 2 + origin)`` samples in (``k`` the weights length),
the input is extended by the boundary mode (``np.pad``: ``reflect`` ->
``'symmetric'``, ``mirror`` -> ``'reflect'``, ``nearest`` -> ``'edge'``,
``wrap`` -> ``'wrap'``, ``constant`` -> ``cval``; zero ``cval`` is never
materialised) and the other axes are the engine's batch axis.
"""

import numbers
import operator
import warnings
from collections.abc import Iterable

import numpy as np
import scipy.ndimage as _nd

from fastconv._scipy_compat import RuntimeValueError, conv_window, has_nonfinite
from fastconv._threads import resolve_workers

try:  # NumPy >= 2
    from numpy.lib.array_utils import normalize_axis_index
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import normalize_axis_index

__all__ = ["correlate", "convolve", "correlate1d", "convolve1d"]


def __dir__():
    return list(__all__)


_PAD_MODES = {"reflect": "symmetric", "grid-mirror": "symmetric", "mirror": "reflect",
              "nearest": "edge", "wrap": "wrap", "grid-wrap": "wrap",
              "constant": "constant", "grid-constant": "constant"}
# input dtypes ndimage's C loops accept (others raise there; we delegate)
_SUPPORTED_KINDS = "biufc"


def _pad_mode(mode):
    if isinstance(mode, str) and mode in _PAD_MODES:
        return _PAD_MODES[mode]
    raise RuntimeValueError("boundary mode not supported")


def _check_axes(axes, ndim):
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


def _normalize_sequence(value, rank):
    if not isinstance(value, str) and np.iterable(value):
        values = list(value)
        if len(values) != rank:
            raise RuntimeValueError("sequence argument must have length equal to input rank")
        return values
    return [value] * rank


def _invalid_origin(origin, k):
    return origin < -(k // 2) or origin > (k - 1) // 2


def _output(output, input, complex_output):
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


def _cast(res, dtype):
    """Cast a float64/complex result to `dtype` the way ndimage's C loops do
    (truncation toward zero, wrap-around; x86-64 conversions)."""
    dtype = np.dtype(dtype)
    if res.dtype == dtype:
        return res
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if dtype.kind == "b":
            return res.astype(np.uint8) != 0
        if dtype == np.uint32:
            return res.astype(np.int64).astype(np.uint32)
        if dtype.kind in "iu" and res.dtype.kind == "c":
            res = res.real
        return res.astype(dtype)


def _real_cval(cval):
    """ndimage's C conversion of `cval` to a double (TypeError otherwise)."""
    if isinstance(cval, (str, bytes, complex, np.complexfloating)):
        raise TypeError(f"must be real number, not {type(cval).__name__}")
    return float(cval)


def _filter(input, weights, axes, origins, mode, cval, output, workers, complex_path):
    """Shared body of the four public functions (validated geometry).

    `weights` has one axis per entry of `axes`; `origins` likewise (already
    the correlation origins, i.e. after convolve's flip adjustment).
    """
    pad_mode = _pad_mode(mode)
    nthreads = resolve_workers(workers)
    out_arr, out_dtype = _output(output, input, complex_path)
    if complex_path:
        supported = out_dtype in (np.complex64, np.complex128)
    else:
        supported = out_dtype.kind in "biu" or out_dtype in (np.float32, np.float64) or (
            out_dtype == np.float16 and input.dtype == np.float16)
    if not supported:
        raise RuntimeValueError("array type not supported")
    ndim = input.ndim
    # compute dtype: float32 only for float32 -> float32 (ndimage computes in
    # double; see the docstrings), complex likewise
    if complex_path:
        small = (input.dtype in (np.float32, np.complex64) and
                 weights.dtype in (np.float32, np.complex64, np.float64, np.complex128)
                 and out_dtype == np.complex64)
        cdtype = np.dtype(np.complex64 if small else np.complex128)
    else:
        small = input.dtype == np.float32 and out_dtype == np.float32
        cdtype = np.dtype(np.float32 if small else np.float64)
    # conv-form kernel: weights expanded to the input's rank, flipped along
    # the filtered axes (correlation == convolution with flipped weights)
    shape = [1] * ndim
    for ax, k in zip(axes, weights.shape):
        shape[ax] = k
    w = weights.reshape(shape)
    flip = tuple(slice(None, None, -1) if ax in axes else slice(None) for ax in range(ndim))
    b = w[flip]
    windows = []
    for ax in range(ndim):
        n = input.shape[ax]
        if ax in axes:
            k = shape[ax]
            o = origins[axes.index(ax)]
            windows.append((k - 1 - (k // 2 + o), n))
        else:
            windows.append((0, n))
    cv = complex(cval) if complex_path else cval
    if pad_mode == "constant" and cv == 0 and not has_nonfinite(b):
        pad_mode = None   # zero edges: never materialised
    res = conv_window(input, b, axes, windows, cdtype, nthreads, pad_mode=pad_mode, cval=cv)
    res = _cast(res, out_dtype)
    if out_arr is None:
        return np.ascontiguousarray(res)
    out_arr[...] = res
    return out_arr


def _correlate_or_convolve(input, weights, output, mode, cval, origin, convolution,
                           axes, workers):
    input = np.asarray(input)
    weights = np.asarray(weights)
    if input.dtype.kind not in _SUPPORTED_KINDS or input.dtype in (np.longdouble,
                                                                   np.clongdouble):
        if input.dtype != np.float16:
            func = _nd.convolve if convolution else _nd.correlate
            return func(input, weights, output, mode, cval, origin, axes=axes)
    complex_path = input.dtype.kind == "c" or weights.dtype.kind == "c"
    if complex_path:
        if weights.dtype.kind == "c" and not convolution:
            weights = weights.conj()
        if input.dtype.kind != "c" and np.iscomplexobj(cval):
            raise ValueError("Cannot provide a complex-valued cval when the input is real.")
        if weights.dtype.kind != "c":
            weights = weights.astype(np.float64)
    else:
        weights = np.asarray(weights, dtype=np.float64)
        cval = _real_cval(cval)
    axes = _check_axes(axes, input.ndim)
    num_axes = len(axes)
    ndim = input.ndim
    n_pos = len([k for k in weights.shape if k > 0])
    if num_axes < ndim:
        if weights.ndim != num_axes:
            raise RuntimeValueError(f"weights.ndim ({weights.ndim}) must match len(axes) "
                                    f"({num_axes})")
        n_pos += ndim - num_axes
    # origins: one per entry of `axes` (SciPy pairs them with `axes` when
    # filtering fewer axes than the input has, with axes 0, 1, ... otherwise)
    origins = _normalize_sequence(origin, num_axes)
    if n_pos != ndim:
        raise RuntimeValueError(f"weights.ndim ({n_pos}) must match len(axes) ({num_axes})")
    origins = [_check_origin_type(o) for o in origins]
    axes_sorted = tuple(sorted(axes))
    if num_axes < ndim:
        by_axis = dict(zip(axes, origins))
        origins = [by_axis[ax] for ax in axes_sorted]
    # the weights' axes always map onto the filtered axes in increasing order
    if convolution:
        weights = weights[(slice(None, None, -1),) * weights.ndim]
        origins = [-o - (0 if k & 1 else 1) for o, k in zip(origins, weights.shape)]
    for o, k in zip(origins, weights.shape):
        if _invalid_origin(o, k):
            raise ValueError("Invalid origin; origin must satisfy -(weights.shape[k] // 2) "
                             "<= origin[k] <= (weights.shape[k]-1) // 2")
    if not isinstance(mode, str) and isinstance(mode, Iterable):
        raise RuntimeValueError("A sequence of modes is not supported")
    return _filter(input, weights, axes_sorted, origins, mode, cval, output, workers,
                   complex_path)


def _check_origin_type(o):
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


def correlate(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *,
              axes=None, workers=None):
    """Multidimensional correlation (``scipy.ndimage.correlate``).

    The array is correlated with the given kernel; the output has the
    shape of `input`::

        out[i] = sum_j weights[j] * input_ext[i + j - (k // 2 + origin)]

    per filtered axis (``k`` the weights length, ``input_ext`` the input
    extended by `mode`).

    Parameters
    ----------
    input : array_like
        The input array.
    weights : ndarray
        Weights, with one axis per filtered axis (as many as `input` has
        when `axes` is None).  Complex weights are conjugated (as
        ``np.correlate`` does).
    output : ndarray or dtype, optional
        Array to fill (exactly the input's shape; it is returned, the same
        object) or dtype of the result.  Default: the input's dtype.
    mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap'}, optional
        How the input extends beyond its edges (default ``'reflect'``):
        ``'reflect'`` ``(d c b a | a b c d | d c b a)``; ``'constant'``
        ``(k k k k | a b c d | k k k k)`` with ``k = cval``; ``'nearest'``
        ``(a a a a | a b c d | d d d d)``; ``'mirror'``
        ``(d c b | a b c d | c b a)``; ``'wrap'`` ``(a b c d | a b c d |
        a b c d)``.  ``'grid-mirror'``, ``'grid-constant'`` and
        ``'grid-wrap'`` are synonyms of ``'reflect'``, ``'constant'`` and
        ``'wrap'``.
    cval : scalar, optional
        Value beyond the edges for ``mode='constant'`` (default 0.0).
    origin : int or sequence of int, optional
        Shifts the filter; positive values move it towards the end of each
        axis' input (``-(k // 2) <= origin <= (k - 1) // 2``).
    axes : int or tuple of int, optional
        Filter along these axes only (default all); `weights` then has
        ``len(axes)`` dimensions.
    workers : int, optional
        Threads (``None``: all usable cores).

    Returns
    -------
    result : ndarray
        The correlation, of `input`'s shape.

    Raises
    ------
    RuntimeError
        Where SciPy raises it (a bad `mode`, weights whose rank does not
        match, a bad `output`, a sequence of modes, a bad length of
        `origin`); fastconv's exception is also a ``ValueError``.
    ValueError
        For an invalid `origin`, bad `axes` or a complex `cval` with real
        input and complex weights.
    TypeError
        For a non-integer `origin` or a non-real `cval` with real data.

    See Also
    --------
    scipy.ndimage.correlate : The SciPy function this mirrors.
    convolve : Convolution (weights flipped).
    fastconv.correlate : scipy.signal semantics (full/valid/same).

    Notes
    -----
    dtypes follow ndimage: weights are float64 (complex128 when complex);
    integer (and bool) inputs are computed in float64 and cast to the
    output dtype as ndimage's C loops cast (truncation toward zero,
    wrap-around; out-of-range values as on x86-64).  One deliberate
    difference: a float32 input with a float32 output is computed in
    float32 (ndimage accumulates in double), which is about twice as fast;
    results agree with ndimage's to float32 rounding (relative error a few
    ``1e-7`` of the sum of absolute products).  float16 inputs, which
    ndimage refuses, are computed in float64; long double and object
    inputs are delegated to ndimage (which raises).  Complex inputs or
    weights are supported as in ndimage (the output is complex).

    The edges cost one padded copy of the input, except for
    ``mode='constant'`` with ``cval=0``.  NaN and inf propagate as in the
    arithmetic (ndimage leaves this undefined).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import ndimage
    >>> a = np.arange(6.)
    >>> ndimage.correlate(a, [1., 2., 3.])
    array([ 3.,  8., 14., 20., 26., 29.])
    >>> ndimage.correlate(a, [1., 2., 3.], mode='constant')
    array([ 3.,  8., 14., 20., 26., 14.])
    >>> out = np.empty(6)
    >>> ndimage.correlate(a, [1., 1.], output=out) is out
    True
    """
    return _correlate_or_convolve(input, weights, output, mode, cval, origin, False, axes,
                                  workers)


def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *,
             axes=None, workers=None):
    """Multidimensional convolution (``scipy.ndimage.convolve``).

    The array is convolved with the given kernel: the correlation with the
    weights flipped and the origin negated (minus one more on even-length
    axes), so for an even length ``k`` the kernel's centre is sample
    ``k // 2`` (one later than ``scipy.signal.convolve``'s ``'same'``).

    Parameters
    ----------
    input : array_like
        The input array.
    weights : ndarray
        Weights, one axis per filtered axis.  Complex weights are not
        conjugated.
    output : ndarray or dtype, optional
        As in :func:`correlate`.
    mode : str, optional
        As in :func:`correlate` (default ``'reflect'``).
    cval : scalar, optional
        As in :func:`correlate`.
    origin : int or sequence of int, optional
        Shifts the filter; the valid range is the one of :func:`correlate`
        applied after the flip.
    axes : int or tuple of int, optional
        As in :func:`correlate`.
    workers : int, optional
        Threads (``None``: all usable cores).

    Returns
    -------
    result : ndarray
        The convolution, of `input`'s shape.

    Raises
    ------
    RuntimeError
        As :func:`correlate` (also a ``ValueError``).
    ValueError
        As :func:`correlate`.
    TypeError
        As :func:`correlate`.

    See Also
    --------
    scipy.ndimage.convolve : The SciPy function this mirrors.
    correlate : Correlation.
    fastconv.convolve : scipy.signal semantics.

    Notes
    -----
    dtypes, edges and cost as :func:`correlate`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import ndimage
    >>> a = np.array([[1, 2, 0, 0],
    ...               [5, 3, 0, 4],
    ...               [0, 0, 0, 7],
    ...               [9, 3, 0, 0]])
    >>> k = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]])
    >>> ndimage.convolve(a, k, mode='constant', cval=0.0)
    array([[11, 10,  7,  4],
           [10,  3, 11, 11],
           [15, 12, 14,  7],
           [12,  3,  7,  0]])
    """
    return _correlate_or_convolve(input, weights, output, mode, cval, origin, True, axes,
                                  workers)


def _correlate1d(input, weights, axis, output, mode, cval, origin, workers, convolution):
    input = np.asarray(input)
    weights = np.asarray(weights)
    if input.dtype.kind not in _SUPPORTED_KINDS or input.dtype in (np.longdouble,
                                                                   np.clongdouble):
        if input.dtype != np.float16:
            func = _nd.convolve1d if convolution else _nd.correlate1d
            return func(input, weights, axis, output, mode, cval, origin)
    if convolution:
        weights = weights[::-1]
        origin = -_check_origin_type(origin)
        if not weights.shape[0] & 1:
            origin -= 1
        if weights.dtype.kind == "c":
            weights = weights.conj()   # undone by the correlation's conjugation
    complex_path = input.dtype.kind == "c" or weights.dtype.kind == "c"
    if complex_path:
        if weights.dtype.kind == "c":
            weights = weights.conj().astype(np.complex128, copy=False)
        if input.dtype.kind != "c" and np.iscomplexobj(cval):
            raise ValueError("Cannot provide a complex-valued cval when the input is real.")
    else:
        weights = np.asarray(weights, dtype=np.float64)
        cval = _real_cval(cval)
    if weights.ndim != 1 or weights.shape[0] < 1:
        raise RuntimeValueError("no filter weights given")
    axis = normalize_axis_index(axis, input.ndim)
    origin = _check_origin_type(origin)
    if _invalid_origin(origin, len(weights)):
        raise ValueError("Invalid origin; origin must satisfy -(len(weights) // 2) <= "
                         "origin <= (len(weights)-1) // 2")
    if not isinstance(mode, str):
        raise RuntimeValueError("boundary mode not supported")
    if complex_path and weights.dtype.kind != "c":
        weights = weights.astype(np.float64)
    return _filter(input, weights, (axis,), [origin], mode, cval, output, workers,
                   complex_path)


def correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0,
                *, workers=None):
    """1-D correlation along one axis (``scipy.ndimage.correlate1d``).

    The lines of the array along `axis` are correlated with `weights`.

    Parameters
    ----------
    input : array_like
        The input array.
    weights : array_like
        1-D weights (complex weights are conjugated).
    axis : int, optional
        The axis of `input` along which to correlate (default -1).
    output : ndarray or dtype, optional
        As in :func:`correlate`.
    mode : str, optional
        As in :func:`correlate` (default ``'reflect'``).
    cval : scalar, optional
        As in :func:`correlate`.
    origin : int, optional
        As in :func:`correlate` (one value).
    workers : int, optional
        Threads (``None``: all usable cores).

    Returns
    -------
    result : ndarray
        Of `input`'s shape.

    Raises
    ------
    RuntimeError
        "no filter weights given" for weights that are not 1-D or empty, a
        bad `mode` or `output` (also a ``ValueError``).
    ValueError
        For an invalid `origin`; ``numpy.exceptions.AxisError`` (a
        ``ValueError``) for a bad `axis`.
    TypeError
        For a non-integer `origin` or a non-real `cval` with real data.

    See Also
    --------
    scipy.ndimage.correlate1d : The SciPy function this mirrors.
    convolve1d : 1-D convolution.
    correlate : N-D correlation.

    Notes
    -----
    dtypes and edges as :func:`correlate`.  The other axes are the
    engine's batch, so all lines run in one multithreaded call.

    Examples
    --------
    >>> from fastconv import ndimage
    >>> ndimage.correlate1d([2, 8, 0, 4, 1, 9, 9, 0], weights=[1, 3])
    array([ 8, 26,  8, 12,  7, 28, 36,  9])
    """
    return _correlate1d(input, weights, axis, output, mode, cval, origin, workers, False)


def convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0,
               *, workers=None):
    """1-D convolution along one axis (``scipy.ndimage.convolve1d``).

    The lines of the array along `axis` are convolved with `weights`.

    Parameters
    ----------
    input : array_like
        The input array.
    weights : array_like
        1-D weights.
    axis : int, optional
        The axis of `input` along which to convolve (default -1).
    output : ndarray or dtype, optional
        As in :func:`correlate`.
    mode : str, optional
        As in :func:`correlate` (default ``'reflect'``).
    cval : scalar, optional
        As in :func:`correlate`.
    origin : int, optional
        As in :func:`convolve` (one value).
    workers : int, optional
        Threads (``None``: all usable cores).

    Returns
    -------
    result : ndarray
        Of `input`'s shape.

    Raises
    ------
    RuntimeError
        As :func:`correlate1d` (also a ``ValueError``).
    ValueError
        As :func:`correlate1d`.
    TypeError
        As :func:`correlate1d`.

    See Also
    --------
    scipy.ndimage.convolve1d : The SciPy function this mirrors.
    correlate1d : 1-D correlation.
    convolve : N-D convolution.

    Notes
    -----
    The weights are reversed and the origin negated (minus one for an
    even length), then this is :func:`correlate1d`.

    Examples
    --------
    >>> from fastconv import ndimage
    >>> ndimage.convolve1d([2, 8, 0, 4, 1, 9, 9, 0], weights=[1, 3])
    array([14, 24,  4, 13, 12, 36, 27,  0])
    """
    return _correlate1d(input, weights, axis, output, mode, cval, origin, workers, True)
