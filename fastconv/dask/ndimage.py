"""``fastconv.ndimage`` on dask arrays: :func:`correlate`, :func:`convolve`,
:func:`correlate1d`, :func:`convolve1d`.

Same arguments, results and dtypes as the in-memory functions (and so as
``scipy.ndimage``), lazily, block by block: every mode, ``cval``, ``origin``
and ``axes``.  The boundary mode is applied once, at the edges of the whole
array (``dask.array.pad`` with the matching ``np.pad`` mode); each block gets a
halo as wide as the weights reach on each side of its samples (``k // 2 +
origin`` before, the rest after) from its neighbours
(``dask.array.overlap.overlap``), and the in-memory function runs on it.
"""

import numpy as np

from fastconv import ndimage as _nd
from fastconv.dask import _core
from fastconv._ndimage_args import (PAD_MODES, check_axes, check_origin_type,
                              normalize_sequence)

try:  # NumPy >= 2
    from numpy.lib.array_utils import normalize_axis_index
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import normalize_axis_index

__all__ = ["correlate", "convolve", "correlate1d", "convolve1d"]


def __dir__():
    return list(__all__)


def _check_output(output):
    if output is not None and not isinstance(output, (type, np.dtype, str)):
        raise TypeError("output must be None or a dtype for dask arrays (the result is a "
                        f"new dask array), got {type(output).__name__}")
    return output


def _compute_dtype(x_dtype, w_dtype, out_dtype):
    """The dtype the in-memory function computes in (see fastconv.ndimage)."""
    complex_path = x_dtype.kind == "c" or w_dtype.kind == "c"
    if complex_path:
        small = x_dtype in (np.float32, np.complex64) and out_dtype == np.complex64
        return np.dtype(np.complex64 if small else np.complex128)
    small = x_dtype == np.float32 and out_dtype == np.float32
    return np.dtype(np.float32 if small else np.float64)


def _prepare_constant(x, w_dtype, out_dtype, mode, cval):
    """ndimage extends with `cval` in its compute dtype; an input of another
    dtype is cast to it first, so that the halo holds `cval` exactly."""
    if PAD_MODES[mode] != "constant" or cval == 0:
        return x
    cdtype = _compute_dtype(x.dtype, np.dtype(w_dtype), np.dtype(out_dtype))
    if x.dtype != cdtype and x.dtype != np.float16:
        x = x.astype(cdtype)
    return x


def _block_nd(block, weights=None, *, func, axes_reach, workers, **kw):
    res = func(block, weights, mode="constant", cval=0.0, workers=workers, **kw)
    crop = [slice(None)] * block.ndim
    for ax, lo, reach in axes_reach:
        crop[ax] = slice(lo, block.shape[ax] - (reach - lo))
    return res[tuple(crop)]


def _block_1d(block, weights=None, *, func, axis, lo, reach, workers, **kw):
    res = func(block, weights, axis, mode="constant", cval=0.0, workers=workers, **kw)
    crop = [slice(None)] * block.ndim
    crop[axis] = slice(lo, block.shape[axis] - (reach - lo))
    return res[tuple(crop)]


def _reach_lo(k, origin, convolution):
    """Samples before the output sample that its window starts (in-memory
    fastconv.ndimage's rule: correlation origin after the convolution flip)."""
    if convolution:
        origin = -origin - (0 if k & 1 else 1)
    return k // 2 + origin


def _nd_filter(input, weights, output, mode, cval, origin, axes, workers, convolution):
    func = _nd.convolve if convolution else _nd.correlate
    x = _core.as_dask(input)
    w = _core.Operand(weights, "weights")
    _check_output(output)
    # every check and error of the in-memory function, on stand-ins; its
    # dtype is the result's
    meta = func(np.zeros((1,) * x.ndim, dtype=x.dtype), w.meta(), output, mode, cval, origin,
                axes=axes, workers=1)
    out_dtype = meta.dtype
    axes_t = check_axes(axes, x.ndim)
    origins = [check_origin_type(o) for o in normalize_sequence(origin, len(axes_t))]
    axes_sorted = tuple(sorted(axes_t))
    if len(axes_t) < x.ndim:
        by_axis = dict(zip(axes_t, origins))
        origins = [by_axis[ax] for ax in axes_sorted]
    pad_mode = PAD_MODES[mode]
    wshape = w.shape
    x = _prepare_constant(x, w.dtype, out_dtype, mode, cval)
    plans, axes_reach = [], []
    for ax, k, o in zip(axes_sorted, wshape, origins):
        lo = _reach_lo(k, o, convolution)
        plans.append(_core.AxisPlan(ax, lo, k - 1 - lo, k - 1, mode=pad_mode,
                                    cval=_pad_cval(cval, x.dtype)))
        axes_reach.append((ax, lo, k - 1))
    name = "convolve" if convolution else "correlate"
    return _core.halo_map(x, plans, _block_nd, out_dtype, token=f"fastconv-ndimage-{name}",
                          workers=workers, operands={"weights": w}, func=func,
                          axes_reach=tuple(axes_reach), output=out_dtype, origin=origin,
                          axes=axes)


def _pad_cval(cval, dtype):
    if dtype.kind == "c":
        return complex(cval)
    if np.iscomplexobj(cval):
        return cval
    return float(cval)


def _1d_filter(input, weights, axis, output, mode, cval, origin, workers, convolution):
    func = _nd.convolve1d if convolution else _nd.correlate1d
    x = _core.as_dask(input)
    w = _core.Operand(weights, "weights")
    _check_output(output)
    meta = func(np.zeros((1,) * x.ndim, dtype=x.dtype), w.meta(), axis, output, mode, cval,
                origin, workers=1)
    out_dtype = meta.dtype
    axis = normalize_axis_index(axis, x.ndim)
    k = w.shape[0]
    lo = _reach_lo(k, check_origin_type(origin), convolution)
    x = _prepare_constant(x, w.dtype, out_dtype, mode, cval)
    plan = _core.AxisPlan(axis, lo, k - 1 - lo, k - 1, mode=PAD_MODES[mode],
                          cval=_pad_cval(cval, x.dtype))
    name = "convolve1d" if convolution else "correlate1d"
    return _core.halo_map(x, [plan], _block_1d, out_dtype, token=f"fastconv-ndimage-{name}",
                          workers=workers, operands={"weights": w}, func=func, axis=axis,
                          lo=lo, reach=k - 1, output=out_dtype, origin=origin)


def correlate(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *,
              axes=None, workers=None):
    """Multidimensional correlation of a dask array, block by block.

    :func:`fastconv.ndimage.correlate` (``scipy.ndimage.correlate``) on a
    dask array; the result is a lazy dask array equal to the in-memory
    call's.

    Parameters
    ----------
    input : dask.array.Array or array_like
        The input (a NumPy array becomes a one-chunk dask array).
    weights : ndarray or dask.array.Array
        Weights, one axis per filtered axis; a dask array is computed once
        per ``compute()``, not once per block.
    output : dtype, optional
        dtype of the result (default: the input's).  An output array
        cannot be filled lazily: store the result with
        :func:`dask.array.store` instead.
    mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap'}, optional
        As in :func:`fastconv.ndimage.correlate`, applied at the edges of
        the whole array (default ``'reflect'``; ``'grid-*'`` synonyms too).
    cval : scalar, optional
        Value beyond the edges for ``mode='constant'`` (default 0.0).
    origin : int or sequence of int, optional
        Shifts the filter, as in :func:`fastconv.ndimage.correlate`; the
        halo is shifted with it.
    axes : int or tuple of int, optional
        Filter along these axes only (default all).
    workers : int, optional
        Threads of each block's call.  ``None`` (default): one thread per
        block when there are at least as many blocks as cores (dask runs the
        blocks in parallel), otherwise the cores shared out among the
        blocks; see the dask page of the user guide.

    Returns
    -------
    result : dask.array.Array
        Lazy, of `input`'s shape and (unless rechunked, see Notes) chunks.

    Raises
    ------
    RuntimeError
        As :func:`fastconv.ndimage.correlate` (also a ``ValueError``): a
        bad `mode`, weights of the wrong rank, a bad `origin` length.
    ValueError
        For an invalid `origin`, bad `axes`, or an input whose chunk sizes
        are unknown.
    TypeError
        For an `output` array (only a dtype is accepted) and as
        :func:`fastconv.ndimage.correlate`.

    See Also
    --------
    fastconv.ndimage.correlate : The in-memory function.
    convolve : Convolution.
    dask_image.ndfilters.correlate : dask-image's version (SciPy per block).

    Notes
    -----
    Along a filtered axis with weights of length ``k`` the halo is ``k //
    2 + origin`` samples before each block and the rest of ``k - 1`` after
    it.  Chunks smaller than the halo are merged with a neighbour first (the
    result then has the merged chunks); an axis shorter than the weights
    works too (the whole axis is one block).  Each block computes
    ``prod(chunk + k - 1)`` outputs, of which it keeps ``prod(chunk)``:
    chunks much larger than the weights waste little.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from fastconv.dask import ndimage
    >>> x = da.arange(10., chunks=4)
    >>> y = ndimage.correlate(x, np.array([1., 2., 3.]), mode='mirror')
    >>> y
    dask.array<fastconv-ndimage-correlate, shape=(10,), dtype=float64, chunksize=(4,), chunktype=numpy.ndarray>
    >>> y.compute()
    array([ 4.,  8., 14., 20., 26., 32., 38., 44., 50., 50.])
    """
    return _nd_filter(input, weights, output, mode, cval, origin, axes, workers, False)


def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *,
             axes=None, workers=None):
    """Multidimensional convolution of a dask array, block by block.

    :func:`fastconv.ndimage.convolve` (``scipy.ndimage.convolve``) on a
    dask array, lazily.

    Parameters
    ----------
    input : dask.array.Array or array_like
        The input.
    weights : ndarray or dask.array.Array
        Weights, one axis per filtered axis (a dask array is computed once).
    output : dtype, optional
        As in :func:`correlate`.
    mode : str, optional
        As in :func:`correlate` (default ``'reflect'``).
    cval : scalar, optional
        As in :func:`correlate`.
    origin : int or sequence of int, optional
        As in :func:`fastconv.ndimage.convolve`.
    axes : int or tuple of int, optional
        As in :func:`correlate`.
    workers : int, optional
        As in :func:`correlate`.

    Returns
    -------
    result : dask.array.Array
        Lazy, of `input`'s shape.

    Raises
    ------
    RuntimeError
        As :func:`correlate`.
    ValueError
        As :func:`correlate`.
    TypeError
        As :func:`correlate`.

    See Also
    --------
    fastconv.ndimage.convolve : The in-memory function.
    correlate : Correlation.

    Notes
    -----
    Halo and chunks as in :func:`correlate`, for the flipped weights and
    the flipped origin.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from fastconv.dask import ndimage
    >>> img = da.ones((6, 6), chunks=(2, 3))
    >>> out = ndimage.convolve(img, np.ones((3, 3)), mode='constant', cval=0.0)
    >>> out.compute()[:3]
    array([[4., 6., 6., 6., 6., 4.],
           [6., 9., 9., 9., 9., 6.],
           [6., 9., 9., 9., 9., 6.]])
    """
    return _nd_filter(input, weights, output, mode, cval, origin, axes, workers, True)


def correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0,
                *, workers=None):
    """1-D correlation of a dask array along one axis, block by block.

    :func:`fastconv.ndimage.correlate1d` on a dask array, lazily.

    Parameters
    ----------
    input : dask.array.Array or array_like
        The input.
    weights : array_like or dask.array.Array
        1-D weights.
    axis : int, optional
        Axis to correlate along (default -1).
    output : dtype, optional
        As in :func:`correlate`.
    mode : str, optional
        As in :func:`correlate` (default ``'reflect'``).
    cval : scalar, optional
        As in :func:`correlate`.
    origin : int, optional
        As in :func:`fastconv.ndimage.correlate1d`.
    workers : int, optional
        As in :func:`correlate`.

    Returns
    -------
    result : dask.array.Array
        Lazy, of `input`'s shape.

    Raises
    ------
    RuntimeError
        As :func:`fastconv.ndimage.correlate1d` (also a ``ValueError``).
    ValueError
        For an invalid `origin` or `axis`.
    TypeError
        For an `output` array and as :func:`fastconv.ndimage.correlate1d`.

    See Also
    --------
    fastconv.ndimage.correlate1d : The in-memory function.
    convolve1d : 1-D convolution.

    Notes
    -----
    Only `axis` has a halo; the other axes' chunks are independent.

    Examples
    --------
    >>> import dask.array as da
    >>> from fastconv.dask import ndimage
    >>> x = da.from_array([2, 8, 0, 4, 1, 9, 9, 0], chunks=3)
    >>> ndimage.correlate1d(x, [1, 3]).compute()
    array([ 8, 26,  8, 12,  7, 28, 36,  9])
    """
    return _1d_filter(input, weights, axis, output, mode, cval, origin, workers, False)


def convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0,
               *, workers=None):
    """1-D convolution of a dask array along one axis, block by block.

    :func:`fastconv.ndimage.convolve1d` on a dask array, lazily.

    Parameters
    ----------
    input : dask.array.Array or array_like
        The input.
    weights : array_like or dask.array.Array
        1-D weights.
    axis : int, optional
        Axis to convolve along (default -1).
    output : dtype, optional
        As in :func:`correlate`.
    mode : str, optional
        As in :func:`correlate` (default ``'reflect'``).
    cval : scalar, optional
        As in :func:`correlate`.
    origin : int, optional
        As in :func:`fastconv.ndimage.convolve1d`.
    workers : int, optional
        As in :func:`correlate`.

    Returns
    -------
    result : dask.array.Array
        Lazy, of `input`'s shape.

    Raises
    ------
    RuntimeError
        As :func:`correlate1d`.
    ValueError
        As :func:`correlate1d`.
    TypeError
        As :func:`correlate1d`.

    See Also
    --------
    fastconv.ndimage.convolve1d : The in-memory function.
    correlate1d : 1-D correlation.

    Notes
    -----
    As :func:`correlate1d`, for the flipped weights and origin.

    Examples
    --------
    >>> import dask.array as da
    >>> from fastconv.dask import ndimage
    >>> x = da.from_array([2, 8, 0, 4, 1, 9, 9, 0], chunks=3)
    >>> ndimage.convolve1d(x, [1, 3]).compute()
    array([14, 24,  4, 13, 12, 36, 27,  0])
    """
    return _1d_filter(input, weights, axis, output, mode, cval, origin, workers, True)
