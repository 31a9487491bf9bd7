"""fastconv on dask arrays: the in-memory functions, lazily, block by block.

``scipy.signal``-style :func:`convolve`, :func:`correlate`,
:func:`fftconvolve`, :func:`oaconvolve`, :func:`convolve2d`,
:func:`correlate2d`; the CNN functions :func:`conv`, :func:`conv1d`,
:func:`conv2d`, :func:`conv3d` for batches chunked along the batch and the
spatial axes; and ``fastconv.dask.ndimage`` (``scipy.ndimage``'s
``convolve``, ``correlate``, ``convolve1d``, ``correlate1d``).  Each takes a
``dask.array.Array`` and returns one, equal to the in-memory call's result
once computed.  Nothing runs before ``.compute()`` (or ``.store()``,
``.to_zarr()`` ...), on dask's threaded scheduler or a ``distributed``
cluster.

How: the input is extended at the true edges of the whole array by the
boundary mode (``dask.array.pad``), every block gets a halo as wide as the
kernel's reach from its neighbours (``dask.array.overlap.overlap``), and the
in-memory function runs on each extended block (``dask.array.map_blocks``).
``python -m fastconv.dask --help``: an out-of-core demonstration.

Needs the ``dask`` extra: ``pip install "fastconv[dask]"``.
"""

try:
    import dask  # noqa: F401
    import dask.array as da
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "fastconv.dask needs dask (with dask.array), which is not installed; "
        'install it with: pip install "fastconv[dask]"') from exc

import numpy as np

import fastconv
from fastconv import nn as _nn
from fastconv import signal as _signal
from fastconv import _activations, _scipy_args, _spec
from fastconv._scipy_args import normalize_axes
from fastconv.dask import _core
from fastconv.dask import ndimage  # noqa: F401 - fastconv.dask.ndimage

__all__ = ["convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d",
           "correlate2d", "conv", "conv1d", "conv2d", "conv3d", "ndimage"]


def __dir__():
    return list(__all__)


# --------------------------------------------------------------------------
# scipy.signal-style functions


def _block_signal(block, in2=None, *, func, method, axes, workers):
    kw = {} if method is None else {"method": method}
    if axes is not None:
        kw["axes"] = axes
    return func(block, in2, "valid", workers=workers, **kw)


def _block_2d(block, in2=None, *, func, workers):
    return func(block, in2, "valid", workers=workers)


def _whole(x, k, func, out_shape, dtype, token, **kw):
    """Small inputs that 'valid' mode swaps: one block, the in-memory call."""
    x = x.rechunk(-1) if x.npartitions > 1 else x

    def one(block, in2=None):
        return func(block, in2, **kw)
    return da.map_blocks(one, x, in2=k.delayed, chunks=tuple((n,) for n in out_shape),
                         dtype=dtype, meta=np.empty((0,) * len(out_shape), dtype=dtype),
                         token=token)


def _edge_plan(mode, n1, k, start_same):
    """(p_lo, p_hi) of one convolved axis for 'full'/'same'/'valid'."""
    if mode == "full":
        start, length = 0, n1 + k - 1
    elif mode == "same":
        start, length = start_same(k), n1
    else:
        start, length = k - 1, n1 - k + 1
    lo = k - 1 - start
    return lo, length + k - 1 - n1 - lo


def _signal_like(fname, func, in1, in2, mode, axes, workers, method, fft):
    x = _core.as_dask(in1, "in1")
    k = _core.Operand(in2, "in2")
    kw = {} if fft else {"method": method}
    if axes is not None:
        kw["axes"] = axes
    # the in-memory checks and errors, on stand-ins; and the result's dtype
    meta = func(np.ones((1,) * x.ndim, x.dtype), np.ones((1,) * k.ndim, k.dtype), mode,
                workers=1, **kw)
    if x.ndim == 0:
        return da.from_array(meta)   # pragma: no cover - scalars: nothing to chunk
    conv_axes = list(range(x.ndim)) if axes is None else normalize_axes(axes, x.ndim)
    if mode == "valid" and any(k.shape[ax] > x.shape[ax] for ax in conv_axes):
        # SciPy swaps the inputs (or raises): one block, the in-memory call
        ref = func(np.zeros(x.shape, x.dtype), np.zeros(k.shape, k.dtype), mode, workers=1,
                   **kw)
        return _whole(x, k, func, ref.shape, meta.dtype, f"fastconv-{fname}", mode=mode,
                      workers=_core.block_workers(workers, 1), **kw)
    other = {}
    for ax in range(x.ndim):
        if ax in conv_axes:
            continue
        n1, n2 = x.shape[ax], k.shape[ax]
        if n2 == n1 and n1 > 1:
            other[ax] = (n1,)       # in2 varies along this axis: one chunk
        elif n2 != 1:
            raise ValueError(f"{fname}: on an axis that is not convolved (axis {ax}) in2 "
                             f"must have length 1 or in1's length ({n1}), got {n2}")
    plans = []
    for ax in conv_axes:
        n = k.shape[ax]
        if n == 1:
            continue
        lo, hi = _edge_plan(mode, x.shape[ax], n, lambda m: (m - 1) // 2)
        plans.append(_core.AxisPlan(ax, lo, hi, n - 1))
    return _core.halo_map(x, plans, _block_signal, meta.dtype, token=f"fastconv-{fname}",
                          other_chunks=other, workers=workers, operands={"in2": k},
                          func=func, method=None if fft else method, axes=axes)


def convolve(in1, in2, mode="full", method="auto", *, axes=None, workers=None):
    """Convolve a dask array with an N-D kernel, block by block.

    :func:`fastconv.convolve` (``scipy.signal.convolve``) with `in1` a dask
    array and `in2` the kernel, lazily.

    Parameters
    ----------
    in1 : dask.array.Array or array_like
        The (large) input.
    in2 : array_like or dask.array.Array
        The kernel, with as many dimensions as `in1`; a dask array is
        computed once per ``compute()``.
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`fastconv.convolve`: the output shape changes
        accordingly (``'full'`` adds ``k - 1`` per axis, ``'valid'``
        removes it).
    method : {'auto', 'direct', 'fft'}, optional
        Honoured per block: ``'auto'`` chooses for each block's own size.
    axes : int or sequence of int, optional
        Convolve along these axes only; on the others `in2` has length 1 or
        `in1`'s length (then `in1` is one chunk along that axis).
    workers : int, optional
        Threads of each block's call (``None``: one per block when there are
        at least as many blocks as cores, else the cores shared out).

    Returns
    -------
    dask.array.Array
        Lazy; of the shape and dtype of the in-memory result.

    Raises
    ------
    ValueError
        As :func:`fastconv.convolve` (checked when called, not when
        computed); also for `in2` of another length than 1 or `in1`'s on
        an axis that is not convolved.
    TypeError
        As :func:`fastconv.convolve`.

    See Also
    --------
    fastconv.convolve : The in-memory function.
    correlate, fftconvolve, oaconvolve
    fastconv.dask.ndimage.convolve : Boundary modes other than zeros.

    Notes
    -----
    Along each convolved axis every block gets ``k - 1`` samples of halo
    (split before and after it as the mode's window needs), the array is
    zero-extended at its true edges as the mode says, and each block runs
    the in-memory function in ``'valid'`` mode.  Chunks smaller than the
    halo are merged with a neighbour.  ``'same'`` keeps the input's
    chunks; ``'full'`` grows the last chunk by ``k - 1``; ``'valid'``
    shrinks it.  In ``'valid'`` mode with a kernel larger than `in1`
    (SciPy swaps the inputs), the whole of `in1` is one block.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastconv.dask
    >>> x = da.arange(12., chunks=5)
    >>> y = fastconv.dask.convolve(x, np.array([1., 1., 1.]))
    >>> y.shape, y.chunks
    ((14,), ((5, 5, 4),))
    >>> y.compute()
    array([ 0.,  1.,  3.,  6.,  9., 12., 15., 18., 21., 24., 27., 30., 21.,
           11.])
    """
    return _signal_like("convolve", fastconv.convolve, in1, in2, mode, axes, workers,
                        method, fft=False)


def correlate(in1, in2, mode="full", method="auto", *, axes=None, workers=None):
    """Cross-correlate a dask array with an N-D kernel, block by block.

    :func:`fastconv.correlate` (``scipy.signal.correlate``) with `in1` a
    dask array, lazily.

    Parameters
    ----------
    in1 : dask.array.Array or array_like
        The (large) input.
    in2 : array_like or dask.array.Array
        The kernel (conjugated when complex).
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`fastconv.correlate`.
    method : {'auto', 'direct', 'fft'}, optional
        Honoured per block.
    axes : int or sequence of int, optional
        As in :func:`convolve`.
    workers : int, optional
        As in :func:`convolve`.

    Returns
    -------
    dask.array.Array
        Lazy; of the shape and dtype of the in-memory result.

    Raises
    ------
    ValueError
        As :func:`convolve`.
    TypeError
        As :func:`fastconv.correlate`.

    See Also
    --------
    fastconv.correlate : The in-memory function.
    convolve

    Notes
    -----
    As :func:`convolve`.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastconv.dask
    >>> x = da.from_array(np.array([0., 1., 0., 0., 2., 0.]), chunks=2)
    >>> fastconv.dask.correlate(x, np.array([1., 2.]), mode='same').compute()
    array([0., 2., 1., 0., 4., 2.])
    """
    return _signal_like("correlate", fastconv.correlate, in1, in2, mode, axes, workers,
                        method, fft=False)


def fftconvolve(in1, in2, mode="full", axes=None, *, workers=None):
    """FFT convolution of a dask array with a kernel, block by block.

    :func:`fastconv.fftconvolve` on each halo-extended block (in effect
    overlap-save with the chunks as segments), lazily.

    Parameters
    ----------
    in1 : dask.array.Array or array_like
        The (large) input.
    in2 : array_like or dask.array.Array
        The kernel.
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`fastconv.fftconvolve`.
    axes : int or sequence of int, optional
        As in :func:`convolve`.
    workers : int, optional
        ``scipy.fft`` threads of each block's call (default as in
        :func:`convolve`).

    Returns
    -------
    dask.array.Array
        Lazy; floating or complex as :func:`fastconv.fftconvolve`.

    Raises
    ------
    ValueError
        As :func:`fastconv.fftconvolve`.
    TypeError
        For non-integer `axes`.

    See Also
    --------
    fastconv.fftconvolve : The in-memory function.
    oaconvolve, convolve

    Notes
    -----
    Each block's transform has the block's size plus the halo, so chunks
    several times the kernel's size are cheapest.  Results agree with the
    in-memory call to rounding (the transforms have other lengths).

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastconv.dask
    >>> x = da.ones(10, chunks=4)
    >>> fastconv.dask.fftconvolve(x, np.ones(3), mode='valid').compute().round(12)
    array([3., 3., 3., 3., 3., 3., 3., 3.])
    """
    return _signal_like("fftconvolve", fastconv.fftconvolve, in1, in2, mode, axes, workers,
                        None, fft=True)


def oaconvolve(in1, in2, mode="full", axes=None, *, workers=None):
    """Overlap-add convolution of a dask array with a kernel, block by block.

    :func:`fastconv.oaconvolve` on each halo-extended block, lazily.

    Parameters
    ----------
    in1 : dask.array.Array or array_like
        The (large) input.
    in2 : array_like or dask.array.Array
        The kernel.
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`fastconv.oaconvolve`.
    axes : int or sequence of int, optional
        As in :func:`convolve`.
    workers : int, optional
        As in :func:`fftconvolve`.

    Returns
    -------
    dask.array.Array
        Lazy; as :func:`fastconv.oaconvolve`.

    Raises
    ------
    ValueError
        As :func:`fastconv.oaconvolve`.
    TypeError
        For non-integer `axes`.

    See Also
    --------
    fastconv.oaconvolve : The in-memory function.
    fftconvolve

    Notes
    -----
    As :func:`fftconvolve`; within a block the overlap-add segments are
    chosen by the in-memory function.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastconv.dask
    >>> x = da.zeros(1000, chunks=300); x[500] = 1.0
    >>> y = fastconv.dask.oaconvolve(x, np.array([1., 2., 3.]))
    >>> y[499:504].compute().round(12) + 0.0
    array([0., 1., 2., 3., 0.])
    """
    return _signal_like("oaconvolve", fastconv.oaconvolve, in1, in2, mode, axes, workers,
                        None, fft=True)


def _two_d(fname, func, in1, in2, mode, boundary, fillvalue, workers, corr):
    x = _core.as_dask(in1, "in1")
    k = _core.Operand(in2, "in2")
    meta = func(np.ones((1,) * x.ndim, x.dtype), np.ones((1,) * k.ndim, k.dtype), mode,
                boundary, fillvalue, workers=1)
    rt = meta.dtype
    if mode == "valid" and any(kn > n for kn, n in zip(k.shape, x.shape)):
        ref = func(np.zeros(x.shape, x.dtype), np.zeros(k.shape, k.dtype), mode, boundary,
                   fillvalue, workers=1)
        return _whole(x, k, func, ref.shape, rt, f"fastconv-{fname}", mode=mode,
                      boundary=boundary, fillvalue=fillvalue,
                      workers=_core.block_workers(workers, 1))
    bmode = _scipy_args.BOUNDARIES[boundary]
    cval = 0
    if bmode == "fill":
        np_mode = "constant"
        cval = _scipy_args.check_fillvalue(fillvalue, rt)
        if cval != 0 and x.dtype != rt:
            x = x.astype(rt)       # the fill value in the result's dtype, exactly
    else:
        np_mode = _scipy_args.NP_PAD[bmode]
    start = (lambda m: m // 2) if corr else (lambda m: (m - 1) // 2)
    plans = []
    for ax in range(2):
        n = k.shape[ax]
        if n == 1:
            continue
        lo, hi = _edge_plan(mode, x.shape[ax], n, start)
        plans.append(_core.AxisPlan(ax, lo, hi, n - 1, mode=np_mode, cval=cval))
    return _core.halo_map(x, plans, _block_2d, rt, token=f"fastconv-{fname}",
                          workers=workers, operands={"in2": k}, func=func)


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, workers=None):
    """Convolve a 2-D dask array with a 2-D kernel, with a boundary condition.

    :func:`fastconv.convolve2d` (``scipy.signal.convolve2d``) with `in1` a
    dask array, lazily; the boundary is applied at the edges of the whole
    array.

    Parameters
    ----------
    in1 : dask.array.Array or array_like
        The 2-D input.
    in2 : array_like or dask.array.Array
        The 2-D kernel.
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`fastconv.convolve2d`.
    boundary : {'fill', 'wrap', 'symm'}, optional
        As in :func:`fastconv.convolve2d` (``'pad'``, ``'circular'``,
        ``'symmetric'`` too).
    fillvalue : scalar, optional
        For ``boundary='fill'`` (default 0).
    workers : int, optional
        As in :func:`convolve`.

    Returns
    -------
    dask.array.Array
        Lazy, 2-D, of dtype ``np.result_type(in1, in2)``.

    Raises
    ------
    ValueError
        As :func:`fastconv.convolve2d`.

    See Also
    --------
    fastconv.convolve2d : The in-memory function.
    correlate2d

    Notes
    -----
    ``'wrap'`` takes its halo from the opposite edge of the whole array
    (``dask.array.pad(mode='wrap')``), ``'symm'`` mirrors at the edges
    (``mode='symmetric'``); kernels longer than the array work too.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastconv.dask
    >>> img = da.from_array(np.arange(9.).reshape(3, 3), chunks=2)
    >>> fastconv.dask.convolve2d(img, [[0, 1], [1, 0]], mode='same',
    ...                          boundary='wrap').compute()
    array([[ 8.,  7.,  9.],
           [ 5.,  4.,  6.],
           [11., 10., 12.]])
    """
    return _two_d("convolve2d", fastconv.convolve2d, in1, in2, mode, boundary, fillvalue,
                  workers, False)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, workers=None):
    """Cross-correlate a 2-D dask array with a 2-D kernel, with a boundary.

    :func:`fastconv.correlate2d` (``scipy.signal.correlate2d``) with `in1`
    a dask array, lazily.

    Parameters
    ----------
    in1 : dask.array.Array or array_like
        The 2-D input.
    in2 : array_like or dask.array.Array
        The 2-D kernel (conjugated when complex).
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`fastconv.correlate2d`.
    boundary : {'fill', 'wrap', 'symm'}, optional
        As in :func:`convolve2d`.
    fillvalue : scalar, optional
        As in :func:`convolve2d`.
    workers : int, optional
        As in :func:`convolve`.

    Returns
    -------
    dask.array.Array
        Lazy, 2-D.

    Raises
    ------
    ValueError
        As :func:`fastconv.correlate2d`.

    See Also
    --------
    fastconv.correlate2d : The in-memory function.
    convolve2d

    Notes
    -----
    As :func:`convolve2d` (``'same'`` starts ``k // 2`` samples into the
    extended array, SciPy's rule).

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastconv.dask
    >>> img = da.from_array(np.arange(16.).reshape(4, 4), chunks=(3, 2))
    >>> fastconv.dask.correlate2d(img, [[1, 1], [1, 1]], mode='same',
    ...                           boundary='symm').compute()
    array([[10., 14., 18., 20.],
           [26., 30., 34., 36.],
           [42., 46., 50., 52.],
           [50., 54., 58., 60.]])
    """
    return _two_d("correlate2d", fastconv.correlate2d, in1, in2, mode, boundary, fillvalue,
                  workers, True)


# --------------------------------------------------------------------------
# CNN functions


def _block_conv(block, weight=None, bias=None, *, stride, dilation, groups, data_format,
                activation, workers):
    return _nn.conv(block, weight, bias, stride, "valid", dilation, groups,
                    data_format=data_format, activation=activation, workers=workers)


def _conv_dask(fname, rank, x, weight, bias, stride, padding, dilation, groups, padding_mode,
               data_format, activation, workers):
    x = _core.as_dask(x, "x")
    w = _core.Operand(weight, "weight")
    b = None if bias is None else _core.Operand(bias, "bias")
    # the in-memory argument checks, in the in-memory order
    if not isinstance(data_format, str):
        raise TypeError("data_format must be 'channels_first' or 'channels_last', "
                        f"got {type(data_format).__name__} {data_format!r}")
    if not isinstance(padding_mode, str):
        raise TypeError("padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                        f"got {type(padding_mode).__name__} {padding_mode!r}")
    _spec.check_data_format(data_format)
    if padding_mode not in _spec.PADDING_MODES:
        raise ValueError("padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                         f"got {padding_mode!r}")
    _activations.check_activation(activation)
    if rank is None:
        rank = w.ndim - 2
    if rank < 1 or w.ndim != rank + 2 or x.ndim not in (rank + 1, rank + 2):
        # the in-memory function's own message
        _nn.conv_impl(fname, rank, np.zeros((1,) * x.ndim, x.dtype), w.meta(), None,
                       stride, padding, dilation, groups, padding_mode, data_format,
                       activation, 1)
    unbatched = x.ndim == rank + 1
    if unbatched:
        x = x[None]
    groups_i = _spec.check_groups(groups)
    geo = _spec.conv_spec(fname, x.shape, w.shape, stride, padding, dilation, groups_i,
                             data_format)
    # dtype, bias shape, activation on complex: a stand-in call of output size 1
    cf = data_format == "channels_first"
    ext = tuple(d * (k - 1) + 1 for k, d in zip(geo.ksize, geo.dilation))
    meta_shape = (1, geo.C) + ext if cf else (1,) + ext + (geo.C,)
    meta = _nn.conv_impl(fname, rank, np.zeros(meta_shape, x.dtype), w.meta(),
                          None if b is None else b.meta(), stride, "valid", dilation, groups,
                          "zeros", data_format, activation, 1)
    np_mode = _spec.PADDING_MODES[padding_mode]
    if np_mode is not None:
        for axis, ((lo, hi), n) in enumerate(zip(geo.pads, geo.spatial)):
            if n == 0 and (lo or hi):
                raise ValueError(f"padding_mode={padding_mode!r} cannot pad spatial axis "
                                 f"{axis}: it is empty (size 0)")
        _spec.check_padding_limits(geo.pads, geo.spatial, padding_mode)
    first = 2 if cf else 1
    chan = 1 if cf else x.ndim - 1
    plans = []
    for i in range(rank):
        (lo, hi), k, s, d = geo.pads[i], geo.ksize[i], geo.stride[i], geo.dilation[i]
        plans.append(_core.AxisPlan(first + i, lo, hi, d * (k - 1), stride=s,
                                    mode=np_mode or "constant", cval=0))
    operands = {"weight": w}
    if b is not None:
        operands["bias"] = b
    y = _core.halo_map(x, plans, _block_conv, meta.dtype, token=f"fastconv-{fname}",
                       other_chunks={chan: (geo.F,)}, workers=workers, operands=operands,
                       stride=geo.stride, dilation=geo.dilation, groups=groups_i,
                       data_format=data_format, activation=activation)
    return y[0] if unbatched else y


def conv(x, weight, bias=None, stride=1, padding="valid", dilation=1, groups=1, *,
         padding_mode="zeros", data_format="channels_first", activation=None, workers=None):
    """N-D CNN convolution of a dask batch, chunked along batch and space.

    :func:`fastconv.conv` (PyTorch's ``conv*d`` semantics,
    cross-correlation) on a dask array, lazily.  The batch axis and the
    spatial axes may be chunked; the channel axis is made one chunk.

    Parameters
    ----------
    x : dask.array.Array or array_like
        ``(N, C, *S)`` (``channels_first``) or ``(N, *S, C)``
        (``channels_last``); unbatched ``(C, *S)`` / ``(*S, C)`` too.
    weight : array_like or dask.array.Array
        ``(F, C/groups, *K)`` or ``(*K, C/groups, F)``; a dask array is
        computed once per ``compute()``.
    bias : array_like or dask.array.Array, optional
        ``(F,)``.
    stride, padding, dilation, groups : optional
        As in :func:`fastconv.conv`, including ``padding='same'``
        (TensorFlow's rule, any stride) and ``'causal'``.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, optional
        As in :func:`fastconv.conv`, applied at the edges of the whole
        array.
    data_format : {'channels_first', 'channels_last'}, optional
    activation : str or callable, optional
        As in :func:`fastconv.conv` (elementwise, applied per block).
    workers : int, optional
        Threads of each block's call (default as in :func:`convolve`).

    Returns
    -------
    dask.array.Array
        ``(N, F, *S_out)`` or ``(N, *S_out, F)``, lazy.

    Raises
    ------
    TypeError
        As :func:`fastconv.conv`.
    ValueError
        As :func:`fastconv.conv` (checked when called).

    See Also
    --------
    fastconv.conv : The in-memory function.
    conv1d, conv2d, conv3d

    Notes
    -----
    A spatial axis with stride ``s``, dilation ``d`` and kernel ``k`` is
    padded at its true edges, then cut into blocks that start at multiples
    of ``s`` of the padded axis, each with a halo of ``d*(k - 1)`` samples
    after it: output ``j`` of the whole array is output ``j - start/s`` of
    the block that starts at ``start``, so strided outputs line up across
    chunk borders.  Chunks smaller than the halo are merged.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastconv
    >>> import fastconv.dask
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((4, 3, 20, 20)).astype(np.float32)
    >>> w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    >>> xd = da.from_array(x, chunks=(2, 3, 7, 10))
    >>> y = fastconv.dask.conv(xd, w, stride=2, padding='same')
    >>> y.shape, y.chunks[2]
    ((4, 8, 10, 10), (3, 4, 3))
    >>> ref = fastconv.conv(x, w, stride=2, padding='same')
    >>> bool(np.allclose(y.compute(), ref, rtol=1e-5, atol=1e-5))
    True
    """
    return _conv_dask("conv", None, x, weight, bias, stride, padding, dilation, groups,
                      padding_mode, data_format, activation, workers)


def _make(rank, name, example):
    def f(x, weight, bias=None, stride=1, padding="valid", dilation=1, groups=1, *,
          padding_mode="zeros", data_format="channels_first", activation=None, workers=None):
        return _conv_dask(name, rank, x, weight, bias, stride, padding, dilation, groups,
                          padding_mode, data_format, activation, workers)
    f.__name__ = f.__qualname__ = name
    f.__module__ = __name__
    f.__doc__ = f"""{rank}-D CNN convolution of a dask batch (cross-correlation).

:func:`fastconv.{name}` on a dask array, lazily: :func:`conv` with
{rank} spatial axis{'es' if rank > 1 else ''}.

Parameters
----------
x, weight, bias, stride, padding, dilation, groups, padding_mode, data_format, activation, workers
    See :func:`conv`.

Returns
-------
dask.array.Array
    The batch's output, lazy.

Raises
------
TypeError, ValueError
    As :func:`fastconv.{name}`.

See Also
--------
conv, fastconv.{name}

Examples
--------
{example}"""
    return f


conv1d = _make(1, "conv1d", """>>> import numpy as np
>>> import dask.array as da
>>> import fastconv.dask
>>> x = da.from_array(np.arange(10.).reshape(1, 1, 10), chunks=(1, 1, 4))
>>> fastconv.dask.conv1d(x, np.ones((1, 1, 2)), padding='causal').compute()
array([[[ 0.,  1.,  3.,  5.,  7.,  9., 11., 13., 15., 17.]]])
""")

conv2d = _make(2, "conv2d", """>>> import numpy as np
>>> import dask.array as da
>>> import fastconv.dask
>>> x = da.ones((2, 8, 8, 3), chunks=(1, 3, 8, 3))
>>> w = np.ones((3, 3, 1, 3))
>>> y = fastconv.dask.conv2d(x, w, padding='same', groups=3, data_format='channels_last')
>>> y.shape
(2, 8, 8, 3)
>>> y[0, :3, :3, 0].compute()
array([[4., 6., 6.],
       [6., 9., 9.],
       [6., 9., 9.]])
""")

conv3d = _make(3, "conv3d", """>>> import numpy as np
>>> import dask.array as da
>>> import fastconv.dask
>>> x = da.ones((1, 2, 6, 6, 6), chunks=(1, 2, 3, 6, 6))
>>> y = fastconv.dask.conv3d(x, np.ones((1, 2, 3, 3, 3)), dilation=2)
>>> y.shape
(1, 1, 2, 2, 2)
>>> float(y[0, 0, 1, 1, 1].compute())
54.0
""")
