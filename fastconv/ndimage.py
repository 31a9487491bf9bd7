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


import functools
from collections.abc import Iterable

import numpy as np
import scipy.ndimage as _nd

from fastconv import _dispatch, _engine
from fastconv._direct import conv_window, has_nonfinite, plain_window_plan, run_plain_window
from fastconv._errors import RuntimeValueError
from fastconv._ndfilters import Pass, apply_passes, line_index
from fastconv._ndimage_args import (PAD_MODES, SUPPORTED_KINDS, c_correlate, c_correlate1d, cast,
                                    check_axes, check_origin_type, invalid_origin,
                                    normalize_sequence, np_pad_mode, output_array, real_cval,
                                    scipy_if_small)
from fastconv._threads import resolve_workers
from fastconv._docs import docfiller

try:  # NumPy >= 2
    from numpy.lib.array_utils import normalize_axis_index
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import normalize_axis_index

__all__ = ["correlate", "convolve", "correlate1d", "convolve1d",
           "gaussian_filter", "gaussian_filter1d", "uniform_filter", "uniform_filter1d",
           "sobel", "prewitt", "laplace", "gaussian_laplace", "gaussian_gradient_magnitude",
           "generic_laplace", "generic_gradient_magnitude"]


def __dir__():
    return list(__all__)


# Real 1-D inputs filtered by at most this many taps run the filters' line
# kernel (one call on one thread, boundary by index) instead of an engine
# call: it was the faster at every length measured (Zen 4, 2 threads for the
# engine, 2026-12-06, float32/float64 with 3 to 1001 taps, 2 000 to 4 000 000
# samples: 4.5-4.8x at 2 000 samples, 1.1-3.9x at 10^5-4*10^6 with up to 101
# taps, 1.16-1.73x with 255; even with 1001 taps at 300 000 samples).  The
# engine had been taken from 2^16 multiply-adds, and read 0.4-0.8x SciPy with
# 3 to 7 taps from 10 000 to 40 000 samples (float32 20 000 x 7: 69 us
# against SciPy's 48; the line kernel 14).
_LINE_TAPS = 512


def _engine_filter(input, weights, axes, origins, pad_mode, cv, cdtype, nthreads):
    """The filter as one window of an engine convolution (see the module
    docstring): the conv-form kernel is the weights expanded to the input's
    rank and flipped along the filtered axes."""
    ndim = input.ndim
    shape = [1] * ndim
    for ax, k in zip(axes, weights.shape):
        shape[ax] = k
    flip = tuple(slice(None, None, -1) if ax in axes else slice(None) for ax in range(ndim))
    b = weights.reshape(shape)[flip]
    windows = []
    for ax in range(ndim):
        n = input.shape[ax]
        if ax in axes:
            k = shape[ax]
            windows.append((k - 1 - (k // 2 + origins[axes.index(ax)]), n))
        else:
            windows.append((0, n))
    if pad_mode == "constant" and cv == 0 and not has_nonfinite(b):
        pad_mode = None   # zero edges: never materialised
    return conv_window(input, b, axes, windows, cdtype, nthreads, pad_mode=pad_mode, cval=cv)


def _filter(input, weights, axes, origins, mode, cval, output, workers, complex_path,
            rule="nd"):
    """Shared body of the four public functions (validated geometry).

    `weights` has one axis per entry of `axes`; `origins` likewise (already
    the correlation origins, i.e. after convolve's flip adjustment).
    """
    pad_mode = np_pad_mode(mode)
    out_arr, out_dtype = output_array(output, input, complex_path)
    out_dtype = out_dtype.newbyteorder("=")   # byte-swapped arrays: computed natively
    if input.ndim == 0 or input.size == 0:
        # SciPy: a 0-d input gives a 0-d result, an empty input an empty one
        if input.size == 0:
            res = np.zeros(input.shape, dtype=out_dtype)
        else:
            res = _filter(input.reshape(1), weights.reshape(1), (0,), [0], mode, cval,
                          out_dtype, workers, complex_path).reshape(())
        if out_arr is None:
            return res
        out_arr[...] = res
        return out_arr
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
    cv = complex(cval) if complex_path else cval
    if ndim == 1 and not complex_path and input.size and 0 < weights.size <= _LINE_TAPS:
        if workers is not None:
            resolve_workers(workers)        # its errors; one thread is used
        # one call of the filters' line kernel (see _LINE_TAPS)
        res = _line_filter(input, weights, weights.size // 2 + origins[0], mode, cv, cdtype,
                           out_dtype.kind in "biu")
    else:
        res = _engine_filter(input, weights, axes, origins, pad_mode, cv, cdtype,
                             resolve_workers(workers))
    res = cast(res, out_dtype, rule)
    if out_arr is None:
        return np.ascontiguousarray(res)
    out_arr[...] = res
    return out_arr


def _scipy_if_small(kind, func, input, weights, *args, lean=None, **kwargs):
    """``func(input, weights, *args, **kwargs)`` (scipy.ndimage's) for a call
    of input elements times taps below the `kind` limit; else None (see
    :func:`fastconv._ndimage_args.scipy_if_small`, which calls `func`
    itself: a closure was most of a small call's overhead)."""
    # the 1-D filters ("line") filter along args[0]; SciPy's N-D loops pay
    # per element, not per line
    shape, axis = (input.shape, args[0]) if kind == "line" else (None, None)
    return scipy_if_small(kind, input.size * weights.size, input.dtype, input.ndim, func,
                          input, weights, *args, shape=shape, axis=axis, lean=lean, **kwargs)


_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
# Calls of this many input elements times taps and more take _plain_call
# where it applies, before the small-call test sends calls below
# _ndimage_args.SMALL["nd"] (120 000) to SciPy: its ~25 us a call is less
# than SciPy's loop from ~25 000 (Zen 4, 2026-12-06, float32/float64,
# fastconv / SciPy: 48^2 x 3^2 'reflect' 25 / 24 us, 64^2 x 3^2 25 / 36,
# 48^2 x 5^2 27 / 44, 16^3 x 3^3 36-38 / 68-82; 32^2 x 3^2 23 / 14).  The
# general route costs ~60-100 us more and keeps the higher limit.
_PLAIN_MIN = 30_000


def _plain_call(input, weights, mode, cval, origin, convolution, workers):
    """The usual call straight to its cached engine decisions, or None.

    float32/float64 input and weights of rank >= 2 (one weights axis per
    input axis), the default `output` and `axes`, a str `mode`, one int
    `origin` for all axes, a real int/float `cval`, finite weights: what
    :func:`_engine_filter` would run through :func:`conv_window`, the same
    engine call on the same operands (:func:`fastconv._direct.run_plain_window`),
    without the general route's argument handling and per-call planning
    (128 x 128 by 3 x 3 float32 'reflect': ~100 -> ~35 us).  None sends the
    call to the general route (which also raises ndimage's errors)."""
    dt = input.dtype
    if not (dt is _F32 or dt is _F64) or not (weights.dtype is _F64 or weights.dtype is _F32) \
            or type(mode) is not str or type(origin) is not int \
            or not (type(cval) is float or type(cval) is int) \
            or input.ndim < 2 or weights.ndim != input.ndim or not input.size \
            or not weights.size:
        return None
    if not _engine.finite_weights(weights):
        return None     # the general route handles non-finite weights
    pad_mode = PAD_MODES.get(mode)
    if pad_mode == "constant" and cval == 0:
        pad_mode = None     # zero edges: never materialised
    pplan = _plain_plan(input.shape, weights.shape, dt.char, mode, origin, convolution,
                        pad_mode is None)
    if pplan is None:
        return None
    # the conv-form kernel (float64, as the general route builds it)
    b = np.asarray(weights, dtype=np.float64)
    if not convolution:
        b = b[(slice(None, None, -1),) * b.ndim]
    return run_plain_window(pplan, input, b, resolve_workers(workers), pad_mode, float(cval))


@functools.lru_cache(maxsize=256)
def _plain_plan(shape, wshape, dchar, mode, origin, convolution, zero):
    """The :func:`fastconv._direct.plain_window_plan` of a :func:`_plain_call`
    call, or None (an invalid `mode` or `origin` included)."""
    if mode not in PAD_MODES:
        return None
    origins = [origin] * len(shape)
    if convolution:
        origins = [-o - (0 if k & 1 else 1) for o, k in zip(origins, wshape)]
    if any(invalid_origin(o, k) for o, k in zip(origins, wshape)):
        return None
    windows = tuple((k - 1 - (k // 2 + o), n) for o, k, n in zip(origins, wshape, shape))
    key = (shape, wshape, tuple(range(len(shape))), windows, np.dtype(dchar), not zero, None)
    return plain_window_plan(key)


def _correlate_or_convolve(input, weights, output, mode, cval, origin, convolution,
                           axes, workers):
    input = np.asarray(input)
    weights = np.asarray(weights)
    if input.dtype.kind not in SUPPORTED_KINDS or input.dtype in (np.longdouble,
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
        cval = real_cval(cval)
    axes = check_axes(axes, input.ndim)
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
    origins = normalize_sequence(origin, num_axes)
    if n_pos != ndim:
        raise RuntimeValueError(f"weights.ndim ({n_pos}) must match len(axes) ({num_axes})")
    origins = [check_origin_type(o) for o in origins]
    axes_sorted = tuple(sorted(axes))
    if num_axes < ndim:
        by_axis = dict(zip(axes, origins))
        origins = [by_axis[ax] for ax in axes_sorted]
    # the weights' axes always map onto the filtered axes in increasing order
    if convolution:
        weights = weights[(slice(None, None, -1),) * weights.ndim]
        origins = [-o - (0 if k & 1 else 1) for o, k in zip(origins, weights.shape)]
    for o, k in zip(origins, weights.shape):
        if invalid_origin(o, k):
            raise ValueError("Invalid origin; origin must satisfy -(weights.shape[k] // 2) "
                             "<= origin[k] <= (weights.shape[k]-1) // 2")
    if not isinstance(mode, str) and isinstance(mode, Iterable):
        raise RuntimeValueError("A sequence of modes is not supported")
    return _filter(input, weights, axes_sorted, origins, mode, cval, output, workers,
                   complex_path)


@docfiller
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
    %(nd_input)s
    weights : ndarray
        Weights, with one axis per filtered axis (as many as `input` has
        when `axes` is None).  Complex weights are conjugated (as
        ``np.correlate`` does).
    %(nd_output)s
    %(nd_mode)s
    %(nd_cval)s
    origin : int or sequence of int, optional
        Shifts the filter; positive values move it towards the end of each
        axis' input (``-(k // 2) <= origin <= (k - 1) // 2``).
    axes : int or tuple of int, optional
        Filter along these axes only (default all); `weights` then has
        ``len(axes)`` dimensions.
    %(workers)s

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
    weights are supported as in ndimage (the output is complex).  Calls
    below about 30 000 multiply-adds (120 000 with an `output` or `axes`, or
    other dtypes than float32/float64) run in ndimage itself, whose C loops
    finish them sooner (its result exactly; see the user guide).

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
    input, weights = np.asarray(input), np.asarray(weights)
    if output is None and axes is None and input.size * weights.size >= _PLAIN_MIN:
        res = _plain_call(input, weights, mode, cval, origin, False, workers)
        if res is not None:
            return res
    res = _scipy_if_small("nd", _nd.correlate, input, weights, output, mode, cval, origin,
                          axes=axes, lean=None if output is not None or axes is not None else
                          lambda: c_correlate(input, weights, mode, cval, origin))
    if res is not None:
        return res
    return _correlate_or_convolve(input, weights, output, mode, cval, origin, False, axes,
                                  workers)


@docfiller
def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *,
             axes=None, workers=None):
    """Multidimensional convolution (``scipy.ndimage.convolve``).

    The array is convolved with the given kernel: the correlation with the
    weights flipped and the origin negated (minus one more on even-length
    axes), so for an even length ``k`` the kernel's centre is sample
    ``k // 2`` (one later than ``scipy.signal.convolve``'s ``'same'``).

    Parameters
    ----------
    %(nd_input)s
    weights : ndarray
        Weights, one axis per filtered axis.  Complex weights are not
        conjugated.
    %(nd_output)s
    %(nd_mode)s
    %(nd_cval)s
    origin : int or sequence of int, optional
        Shifts the filter; the valid range is the one of :func:`correlate`
        applied after the flip.
    axes : int or tuple of int, optional
        As in :func:`correlate`.
    %(workers)s

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
    input, weights = np.asarray(input), np.asarray(weights)
    if output is None and axes is None and input.size * weights.size >= _PLAIN_MIN:
        res = _plain_call(input, weights, mode, cval, origin, True, workers)
        if res is not None:
            return res
    res = _scipy_if_small("nd", _nd.convolve, input, weights, output, mode, cval, origin,
                          axes=axes, lean=None if output is not None or axes is not None else
                          lambda: c_correlate(input, weights, mode, cval, origin, True))
    if res is not None:
        return res
    return _correlate_or_convolve(input, weights, output, mode, cval, origin, True, axes,
                                  workers)


def _short_line(x, w, mode, cval, origin, convolution):
    """A float32/float64 line filtered by one call of the filters' line
    kernel with its defaults (no `output`, `workers`), or None when an
    argument needs the general route (which also raises its errors)."""
    dt = x.dtype
    n, k = x.shape[0], w.shape[0]
    if not (dt is _F64 or dt is _F32) or not n or not 0 < k <= _LINE_TAPS or \
            w.dtype.kind not in "fiu" or mode not in PAD_MODES or \
            type(cval) not in (float, int) or type(origin) is not int:
        return None
    if convolution:
        w = w[::-1]
        origin = -origin - (0 if k & 1 else 1)
    if invalid_origin(origin, k):
        return None
    return _line_filter(x, w, k // 2 + origin, mode, cval, dt, False)


def _line_filter(x, w, off, mode, cval, dtype, exact):
    """Filter the 1-D line `x` with the correlation weights `w` (extended
    position `off` holds ``x[0]``) in `dtype`, by one call of the filters'
    line kernel on one thread (boundary by index, no padded copy).  Integer
    outputs (`exact`) and products that could overflow (where a fused
    multiply-add changes the NaN/inf pattern) take the baseline level:
    SciPy's unfused arithmetic."""
    n = x.shape[0]
    x = np.ascontiguousarray(x, dtype=dtype)
    w = np.ascontiguousarray(w, dtype=dtype)
    kern = _dispatch.kernels
    if exact or _engine.products_may_overflow(kern, x, w, 1):
        kern = _dispatch.get_kernels("baseline")
    res = np.empty(n, dtype=dtype)
    kern.filter_lines(x.reshape(1, n, 1), res.reshape(1, n, 1), w,
                      line_index(n, w.shape[0], off, mode), off, 0, 0, 0, cval, 0, 0, 1)
    return res


def _correlate1d(input, weights, axis, output, mode, cval, origin, workers, convolution):
    if (type(input) is np.ndarray and type(weights) is np.ndarray and input.ndim == 1
            and weights.ndim == 1 and output is None and workers is None
            and (axis == -1 or axis == 0) and type(mode) is str):
        res = _short_line(input, weights, mode, cval, origin, convolution)
        if res is not None:
            return res
    input = np.asarray(input)
    weights = np.asarray(weights)
    if input.dtype.kind not in SUPPORTED_KINDS or input.dtype in (np.longdouble,
                                                                   np.clongdouble):
        if input.dtype != np.float16:
            func = _nd.convolve1d if convolution else _nd.correlate1d
            return func(input, weights, axis, output, mode, cval, origin)
    if convolution:
        weights = weights[::-1]
        origin = -check_origin_type(origin)
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
        cval = real_cval(cval)
    if weights.ndim != 1 or weights.shape[0] < 1:
        raise RuntimeValueError("no filter weights given")
    axis = normalize_axis_index(axis, input.ndim)
    origin = check_origin_type(origin)
    if invalid_origin(origin, len(weights)):
        raise ValueError("Invalid origin; origin must satisfy -(len(weights) // 2) <= "
                         "origin <= (len(weights)-1) // 2")
    if not isinstance(mode, str):
        raise RuntimeValueError("boundary mode not supported")
    if complex_path and weights.dtype.kind != "c":
        weights = weights.astype(np.float64)
    lines = input.size // max(input.shape[-1], 1) if input.ndim else 0
    if not complex_path and (axis != input.ndim - 1 or input.dtype.kind in "biu"
                             or (lines >= 8 and input.dtype.kind == "f")):
        # one pass of the filters' line kernels, boundary by index (no padded
        # or transposed copy): lines across memory several columns at a
        # time, contiguous lines extended into a small buffer.  Along the
        # last axis they beat the padded copy and row tiles from 8 lines on
        # (Zen 2, float64, 1 thread: 512^2 5 taps 1.55x, 101 taps 1.13x,
        # 16 x 65536 1.24x; without glibc's malloc tuning the copy's page
        # faults cost more: 512^2 1927 -> 379 us, SciPy 818); a single long
        # line keeps the row tiles (1e5 samples: the line kernel 0.36x).
        # Integer inputs take this route too: the row tiles sum in another
        # order, and a sum that SciPy rounds to 124.99999 came out 125.0 and
        # truncated to 125 against SciPy's 124 (uint16 300 x 450, 7
        # fractional taps: 1041 outputs off by one); the route gives SciPy's
        # bits (one integer pass along the last axis runs SciPy's own loop:
        # see apply_passes).
        def scipy_call():
            return _nd.correlate1d(input, weights, axis, output, mode, cval, origin)
        return apply_passes(input, [Pass(axis, weights=weights, origin=origin, mode=mode)],
                            output, cval, workers, False, scipy_call)
    return _filter(input, weights, (axis,), [origin], mode, cval, output, workers,
                   complex_path, rule="1d")


@docfiller
def correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0,
                *, workers=None):
    """1-D correlation along one axis (``scipy.ndimage.correlate1d``).

    The lines of the array along `axis` are correlated with `weights`.

    Parameters
    ----------
    %(nd_input)s
    weights : array_like
        1-D weights (complex weights are conjugated).
    axis : int, optional
        The axis of `input` along which to correlate (default -1).
    %(nd_output)s
    %(nd_mode)s
    %(nd_cval)s
    origin : int, optional
        As in :func:`correlate` (one value).
    %(workers)s

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
    input, weights = np.asarray(input), np.asarray(weights)
    res = _scipy_if_small("line", _nd.correlate1d, input, weights, axis, output, mode, cval,
                          origin, lean=None if output is not None else
                          lambda: c_correlate1d(input, weights, axis, mode, cval, origin))
    if res is not None:
        return res
    return _correlate1d(input, weights, axis, output, mode, cval, origin, workers, False)


@docfiller
def convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0,
               *, workers=None):
    """1-D convolution along one axis (``scipy.ndimage.convolve1d``).

    The lines of the array along `axis` are convolved with `weights`.

    Parameters
    ----------
    %(nd_input)s
    weights : array_like
        1-D weights.
    axis : int, optional
        The axis of `input` along which to convolve (default -1).
    %(nd_output)s
    %(nd_mode)s
    %(nd_cval)s
    origin : int, optional
        As in :func:`convolve` (one value).
    %(workers)s

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
    input, weights = np.asarray(input), np.asarray(weights)
    res = _scipy_if_small("line", _nd.convolve1d, input, weights, axis, output, mode, cval,
                          origin, lean=None if output is not None else
                          lambda: c_correlate1d(input, weights, axis, mode, cval, origin, True))
    if res is not None:
        return res
    return _correlate1d(input, weights, axis, output, mode, cval, origin, workers, True)


# scipy.ndimage's separable linear filters (implemented in fastconv/_ndfilters.py)
from fastconv._ndfilters import (gaussian_filter, gaussian_filter1d,  # noqa: E402
                                 gaussian_gradient_magnitude, gaussian_laplace,
                                 generic_gradient_magnitude, generic_laplace, laplace,
                                 prewitt, sobel, uniform_filter, uniform_filter1d)
