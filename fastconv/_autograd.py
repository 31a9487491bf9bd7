"""Gradients of the CNN convolution functions (``fastconv.conv*``).

For the forward pass (channels-first notation, one spatial axis shown;
``x_p`` is the input after padding, ``g = f // (F/groups)``)::

    y[n, f, o] = b[f] + sum_{c, t} w[f, c, t] * x_p[n, g*Cg + c, o*s + t*d]

the three gradients are, given ``gy = dL/dy``:

* bias: ``db[f] = sum_{n, o} gy[n, f, o]``;
* input: ``dx_p[n, g*Cg + c, i] = sum_{f in g, (o, t): o*s + t*d = i}
  w[f, c, t] * gy[n, f, o]`` -- a *transposed* convolution, then folded
  back through the padding (zero padding drops the border; the other
  padding modes add each padded cell back onto the input cell it copied);
* weight: ``dw[f, c, t] = sum_{n, o} gy[n, f, o] * x_p[n, g*Cg + c,
  t*d + o*s]`` -- on the FILTT register tiles a correlation whose
  "positions" are the (c, t) pairs and whose taps are the (n, o) pairs,
  ``gy`` packed (taps, filters) as the tiles' weights
  (:func:`_weight_grad_filtt`); where that does not apply (few filters per
  group, little work, no FILTT tiles at the level) per image and group a
  matrix product ``gy_g (Fg, P) @ cols.T`` where ``cols (Cg*K, P)`` holds
  what each of the P output windows reads (im2col), summed over images in
  order.

The input gradient runs on the compiled engine
(:func:`fastconv._engine.correlate`) and is done *polyphase*: output
positions are split by their residue modulo the stride; each residue class
is an ordinary stride-1 correlation of ``gy`` with a sub-sampled, flipped,
channel-swapped kernel.  Nothing is zero-inserted, so the cost is exactly
the forward pass's (``prod(stride)`` engine calls instead of one).  The
weight gradient is not an engine call with roles swapped (that has
k-long output rows and ran at ~12 GFLOP/s) but its own FILTT driver.
"""

import math
import numbers

import numpy as np

from fastconv import _dispatch, _engine
from fastconv._engine import source_is_wasteful
from fastconv._threads import blas_limit, resolve_workers, team_size
from fastconv._activations import NEEDS_PRE, activation_grad, check_activation
from fastconv._polyphase import swap_weight, transpose_core
from fastconv._spec import (PADDING_MODES, as_float, check_data_format, check_groups,
                            check_padding_limits, conv_spec, spatial_axes)
from fastconv.nn import conv
from fastconv._docs import docfiller

__all__ = ["conv_backward", "conv_grad_input", "conv_grad_weight"]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# --------------------------------------------------------------------------
# validation


def _check_shape_arg(name, shape):
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{name} must be a tuple of ints, got {type(shape).__name__} "
                        f"{shape!r}") from None
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in shape):
        raise TypeError(f"{name} must be a tuple of ints, got {shape!r}")
    if any(v < 0 for v in shape):
        raise ValueError(f"{name} must not contain negative sizes, got {shape!r}")
    return tuple(int(v) for v in shape)


def _geometry(fname, x_shape, w_shape, stride, padding, dilation, groups, padding_mode,
              data_format, dtype):
    """Validate a forward call's geometry (batched `x_shape`) as ``fastconv.conv`` does."""
    layout = check_data_format(data_format)
    if not isinstance(padding_mode, str) or padding_mode not in PADDING_MODES:
        raise ValueError("padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                         f"got {padding_mode!r}")
    rank = len(w_shape) - 2
    if rank < 1:
        raise ValueError(f"{fname}: weight must have at least 3 dimensions "
                         f"(filters, channels/groups, *kernel), got shape {tuple(w_shape)}")
    if len(x_shape) != rank + 2:
        raise ValueError(f"{fname}: input must have {rank + 2} dimensions (batched) or "
                         f"{rank + 1} (unbatched), got shape {tuple(x_shape)}")
    g = conv_spec(fname, x_shape, w_shape, stride, padding, dilation,
                       check_groups(groups), layout)
    check_padding_limits(g.pads, g.spatial, padding_mode)
    g.padding_mode = padding_mode
    g.dtype = dtype
    return g


def _check_grad_out(fname, gy, geo, unbatched):
    want = geo.y_shape()
    if unbatched:
        want = want[1:]
    if gy.shape != want:
        raise ValueError(f"{fname}: grad_out must have the forward output's shape {want}, "
                         f"got {gy.shape}")


# --------------------------------------------------------------------------
# the two kernels: transposed convolution and weight correlation


def _fold_padding(gxp, pads, spatial, padding_mode, layout):
    """Adjoint of ``np.pad(x, pads, mode)``: add every padded cell's gradient
    back onto the input cell it was copied from."""
    np_mode = PADDING_MODES[padding_mode]
    axes = spatial_axes(layout, len(spatial))
    g = gxp
    for ax, (lo, hi), n in zip(axes, pads, spatial):
        if lo == 0 and hi == 0:
            continue
        src = np.pad(np.arange(n), (lo, hi), mode=np_mode)
        index = [slice(None)] * g.ndim
        index[ax] = slice(lo, lo + n)
        core = g[tuple(index)].copy()
        for j in list(range(lo)) + list(range(lo + n, lo + n + hi)):
            index[ax] = j
            piece = g[tuple(index)]
            index[ax] = int(src[j])
            core[tuple(index)] += piece
        g = core
    return g


def _input_grad(gy, w, geo, nthreads):
    wt = swap_weight(w, geo.G, geo.layout)
    if geo.padding_mode == "zeros":
        return transpose_core(gy, wt, geo.spatial, tuple(lo for lo, _ in geo.pads),
                               geo.stride, geo.dilation, geo.G, geo.layout, nthreads)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(geo.spatial, geo.pads))
    gxp = transpose_core(gy, wt, padded, (0,) * geo.rank, geo.stride, geo.dilation, geo.G,
                          geo.layout, nthreads)
    return _fold_padding(gxp, geo.pads, geo.spatial, geo.padding_mode, geo.layout)


def _pad_materialized(x, geo):
    if geo.padding_mode == "zeros" or not any(lo or hi for lo, hi in geo.pads):
        return x, geo.pads
    if geo.layout == "channels_first":
        width = ((0, 0), (0, 0)) + tuple(geo.pads)
    else:
        width = ((0, 0),) + tuple(geo.pads) + ((0, 0),)
    return np.pad(x, width, mode=PADDING_MODES[geo.padding_mode]), ((0, 0),) * geo.rank


def _weight_grad(x, gy, geo, nthreads):
    """dw: trim the input to exactly the cells the forward's windows read, then
    the FILTT tiles (:func:`_weight_grad_filtt`) or im2col + BLAS (see
    :func:`_weight_grad_gemm`), BLAS limited to `nthreads` threads (no
    OpenMP region is open around it)."""
    if x.size == 0 or gy.size == 0:  # an empty batch: nothing to sum
        return np.zeros(geo.w_shape(), dtype=gy.dtype)
    x, pads = _pad_materialized(x, geo)
    axes = spatial_axes(geo.layout, geo.rank)
    spatial = tuple(x.shape[a] for a in axes)
    # Trim the high pad (or the input) so that exactly the windows of the
    # forward's outputs remain (its floor may have dropped a tail).
    index = [slice(None)] * x.ndim
    new_pads = []
    for axis, (n, k, s, d, (lo, hi), o) in enumerate(
            zip(spatial, geo.ksize, geo.stride, geo.dilation, pads, geo.out_spatial)):
        excess = (n + lo + hi - s * (o - 1) - 1) - d * (k - 1)
        hi -= excess
        if hi < 0:
            if n + hi <= 0:
                return np.zeros(geo.w_shape(), dtype=gy.dtype)
            index[axes[axis]] = slice(0, n + hi)
            hi = 0
        new_pads.append((lo, hi))
    x = x[tuple(index)]
    dw = _weight_grad_filtt(x, gy, tuple(new_pads), geo, nthreads)
    if dw is not None:
        return dw
    with blas_limit(nthreads):
        return _weight_grad_gemm(x, gy, tuple(new_pads), geo)


# Taps per block of the FILTT weight gradient: a block's packed output
# gradient (taps x filters: 32 KB at AVX-512 float32) stays in L1 while
# every tile of a unit uses it.  One thread, Intel Xeon, 64 -> 64 channels
# 56^2 / 256 -> 256 14^2 (16 images): 128 taps 27.4 / 23.7 ms, 256 taps
# 27.6 / 22.8, 512 taps 28.2 / -, all taps in one block 29.8 / -.
_WGRAD_TAPS = 256
# Filters a FILTT block must fill at least (fraction of its lanes), and the
# least work (multiply-adds) for the FILTT weight gradient; below either the
# im2col GEMM runs.
_WGRAD_MIN_LANES = 0.75
_WGRAD_MIN_WORK = 1 << 22
# SIMD level of the FILTT weight gradient (None: the dispatched one; tests
# set each level)
_WGRAD_LEVEL = [None]
# Bytes of padded input and packed output gradient the FILTT weight gradient
# holds at a time: larger batches go in chunks of images, each chunk's dw
# added to the sum of the previous ones in order (so the memory a call adds
# is bounded, and the bits still do not depend on the thread count).
_WGRAD_CHUNK_BYTES = 64 << 20


def _weight_grad_filtt(x, gy, pads, geo, nthreads):
    """dw on the FILTT tiles (:func:`fastconv._kernels.filtt_wgrad`), or None
    where the im2col GEMM runs instead (no FILTT tile at this level, not
    float32/float64, few filters per group, little work, or a source the
    padding/stride/dilation would blow up).

    The weight gradient is a correlation whose "positions" are the (input
    channel, kernel offset) pairs of a group and whose taps are the (image,
    output position) pairs: dw[f, c, k] = sum over (n, o) of gy[n, f, o] *
    xp[n, c, o * stride + k * dilation], xp the zero-padded input.  The
    FILTT tiles run it with vectors along filters, a group's output gradient
    packed (taps, filters) as their weights.  Every dw element is one sum
    over (n, o) in order per chunk of images (``_WGRAD_CHUNK_BYTES``), the
    chunks' sums added in order: the bits do not depend on the thread count.
    """
    dtype = gy.dtype
    if dtype.char not in "fd" or x.dtype != dtype:
        return None
    kern = _dispatch.get_kernels(_WGRAD_LEVEL[0])
    tile = _engine._filtt_tile(kern, dtype.char)
    if tile is None:
        return None
    rank, G, Cg, Fg = geo.rank, geo.G, geo.Cg, geo.Fg
    cf = geo.layout == "channels_first"
    if not cf:   # channels-first views (the padded copy below is contiguous)
        x = x.transpose((0, rank + 1) + tuple(range(1, rank + 1)))
        gy = gy.transpose((0, rank + 1) + tuple(range(1, rank + 1)))
    O = gy.shape[2:]
    K = tuple(geo.ksize)
    if source_is_wasteful(x.shape[2:], K, O, geo.stride, geo.dilation, pads):
        return None
    pf, _ = kern.filtt_width(tile["index"])
    nb = -(-Fg // pf)
    N = x.shape[0]
    ntaps = N * math.prod(O)
    if Fg < _WGRAD_MIN_LANES * nb * pf or ntaps * G * Fg * Cg * math.prod(K) < _WGRAD_MIN_WORK:
        return None
    nthreads = team_size(nthreads, N * G * nb)
    sp = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    per_image = (x.shape[1] * math.prod(sp) + ntaps // N * G * nb * pf) * dtype.itemsize
    step = max(1, _WGRAD_CHUNK_BYTES // per_image)
    out = None
    for n0 in range(0, N, step):
        part = _wgrad_filtt_images(kern, tile, x[n0:n0 + step], gy[n0:n0 + step], pads, geo,
                                   pf, nb, nthreads)
        if out is None:
            out = part
        else:
            out += part
    dw = out.reshape((G * Fg, Cg) + K)
    if cf:
        return dw
    return np.ascontiguousarray(dw.transpose(tuple(a + 2 for a in range(rank)) + (1, 0)))


def _wgrad_filtt_images(kern, tile, x, gy, pads, geo, pf, nb, nthreads):
    """:func:`_weight_grad_filtt` over the images of `x` (N, C, *S) and `gy`
    (N, F, *O), channels first: dw as (F, Cg * prod(K))."""
    dtype = gy.dtype
    rank, G, Cg, Fg = geo.rank, geo.G, geo.Cg, geo.Fg
    O = gy.shape[2:]
    K = tuple(geo.ksize)
    N = x.shape[0]
    ntaps = N * math.prod(O)
    # the zero-padded input (N, C, *padded), by the engine's parallel copy
    x5 = np.ascontiguousarray(x).reshape(x.shape[:2] + (1,) * (3 - rank) + x.shape[2:])
    p5 = ((0, 0),) * (3 - rank) + tuple(pads)
    sp5 = tuple(n + lo + hi for n, (lo, hi) in zip(x5.shape[2:], p5))
    xp = np.empty(x5.shape[:2] + sp5, dtype=dtype)
    kern.pad_source(x5, xp.reshape(-1), p5[0][0], p5[1][0], p5[2][0], *sp5, nthreads)
    st = [s // dtype.itemsize for s in xp.strides]
    # positions (c, *k) of a group and taps (n, *o) as element offsets: the
    # engine's tap offsets, the taps' "kernel" being the output grid, its
    # "dilation" the stride (taps uncached: N * prod(O) of them)
    one = (1,) * (3 - rank)
    pos = _engine._tap_offsets(one + K, one + tuple(geo.dilation), st[2], st[3], 1, 1,
                               Cg, st[1])
    toff = _engine._tap_offsets_cached.__wrapped__(one + tuple(O), one + tuple(geo.stride),
                                                   st[2], st[3], 1, 1, N, st[0])
    # the output gradient packed per block of pf filters: (taps, pf)
    blocks = np.array([(g * Fg + j * pf, min(pf, Fg - j * pf), (g * nb + j) * ntaps * pf, g)
                       for g in range(G) for j in range(nb)], dtype=np.intp).reshape(-1, 4)
    wp = np.empty((G * nb, ntaps, pf), dtype=dtype)
    kern.pack_filters_last(np.ascontiguousarray(gy).reshape(N, G * Fg, -1), blocks, wp,
                           nthreads)
    out = np.empty((G * Fg, Cg * math.prod(K)), dtype=dtype)
    # positions per unit: all of a block's, split only as far as every
    # thread needs a unit (a unit reads its block's packed gradient and its
    # positions' input once; splitting the positions re-reads the gradient:
    # 64 -> 64 channels 56^2, 2 threads, Intel Xeon: 576 positions per unit
    # 12.9-13.1 ms, 288 13.4-13.9, 126 13.9-14.7)
    npos = pos.size
    parts = -(-nthreads // len(blocks))
    kern.filtt_wgrad(xp.reshape(-1), pos, toff, wp.reshape(-1), blocks,
                     out, Cg * st[1], _WGRAD_TAPS, -(-npos // parts), tile["index"], nthreads)
    return out


def _weight_grad_gemm(x, gy, pads, geo):
    """dw by im2col + BLAS, one image at a time (no batch-sized temporaries).

    Per image n and group g: ``dw_g (Fg, Cg*K) += gy_g (Fg, P) @ cols.T`` with ``cols (Cg*K, P)``
    where ``cols`` holds, for each of the P output positions, the Cg*K input
    values its window reads.  Images are summed in order, so the result does
    not depend on fastconv's thread count (BLAS runs its own threads, at most
    the call's budget: the caller holds :func:`fastconv._threads.blas_limit`;
    no OpenMP region is open around it).
    """
    rank, G, Cg, Fg = geo.rank, geo.G, geo.Cg, geo.Fg
    cf = geo.layout == "channels_first"
    r_ax = tuple(range(rank))
    if not cf:   # channels-first views (no copies)
        x = x.transpose((0, rank + 1) + tuple(a + 1 for a in r_ax))
        gy = gy.transpose((0, rank + 1) + tuple(a + 1 for a in r_ax))
    N, C = x.shape[:2]
    F = gy.shape[1]
    O = gy.shape[2:]
    P = int(np.prod(O))
    K = int(np.prod(geo.ksize))
    gather = source_is_wasteful(x.shape[2:], geo.ksize, O, geo.stride,
                                         geo.dilation, pads)
    if gather:
        # huge padding/stride/dilation: gather what each window reads through
        # index arrays (a zero slot past the end stands for the padding), so
        # nothing is sized by the padding, the stride or the dilation.
        x = np.pad(x, ((0, 0), (0, 0)) + ((0, 1),) * rank)
        idx = []
        for a, (n, k, s, d, (lo, _), o) in enumerate(
                zip(x.shape[2:], geo.ksize, geo.stride, geo.dilation, pads, O)):
            i = (np.arange(k, dtype=object)[:, None] * d + np.arange(o, dtype=object) * s
                 - lo)
            i = np.where((i >= 0) & (i < n - 1), i, n - 1).astype(np.intp)
            shape = [1] * (2 * rank)
            shape[a], shape[rank + a] = k, o
            idx.append(i.reshape(shape))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(geo.ksize, geo.dilation))
    dw = np.zeros((G, Fg, Cg * K), dtype=gy.dtype)
    sliding = np.lib.stride_tricks.sliding_window_view
    pos_sl = tuple(slice(0, s * (o - 1) + 1, s) for s, o in zip(geo.stride, O))
    win_sl = tuple(slice(None, None, d) for d in geo.dilation)
    for n in range(N):
        gyn = gy[n].reshape(F, P)
        if gather:
            cols_all = x[n][(slice(None),) + tuple(idx)]             # (C, *K, *O)
            for g in range(G):
                cols = cols_all[g * Cg:(g + 1) * Cg].reshape(Cg * K, P)
                dw[g] += _gy_cols_t(gyn[g * Fg:(g + 1) * Fg], cols)
            continue
        xn = x[n]
        if any(lo or hi for lo, hi in pads):
            xn = np.pad(xn, ((0, 0),) + tuple(pads))
        win = sliding(xn, eff, axis=tuple(a + 1 for a in r_ax))     # (C, *pos, *eff)
        win = win[(slice(None),) + pos_sl + win_sl]                  # (C, *O, *K)
        for g in range(G):
            # (Cg, *K, *O): the copy runs along output rows (contiguous for stride 1)
            cols = win[g * Cg:(g + 1) * Cg].transpose(
                (0,) + tuple(a + 1 + rank for a in r_ax) + tuple(a + 1 for a in r_ax))
            cols = np.ascontiguousarray(cols).reshape(Cg * K, P)
            dw[g] += _gy_cols_t(gyn[g * Fg:(g + 1) * Fg], cols)
    dw = dw.reshape((F, Cg) + tuple(geo.ksize))
    if cf:
        return dw
    return np.ascontiguousarray(dw.transpose(tuple(a + 2 for a in r_ax) + (1, 0)))


def _gy_cols_t(gy, cols):
    """``gy @ cols.T`` with the longer of the two output sides first: OpenBLAS
    ran the product 1.1-1.45x faster that way round (one thread, Intel Xeon:
    64 filters x 576 taps over 3136 positions 1.95 against 2.39 ms, 32 x 576
    over 4096 1.58 against 2.28; 256 filters x 27 taps 0.67 the other way
    round against 0.77)."""
    if cols.shape[0] >= gy.shape[0]:
        return (cols @ gy.T).T
    return gy @ cols.T


def _bias_grad(gy, layout):
    axis = 1 if layout == "channels_first" else gy.ndim - 1
    return gy.sum(axis=tuple(a for a in range(gy.ndim) if a != axis))


# --------------------------------------------------------------------------
# activations


# --------------------------------------------------------------------------
# public functions


def _prepare(fname, x_shape, weight_shape, grad_out, stride, padding, dilation, groups,
             padding_mode, data_format, dtype):
    """Common front half: batch the shapes, validate, check grad_out."""
    rank = len(weight_shape) - 2
    unbatched = len(x_shape) == rank + 1
    if unbatched:
        x_shape = (1,) + tuple(x_shape)
    geo = _geometry(fname, x_shape, weight_shape, stride, padding, dilation, groups,
                    padding_mode, data_format, dtype)
    _check_grad_out(fname, grad_out, geo, unbatched)
    gy = grad_out[np.newaxis] if unbatched else grad_out
    return geo, gy.astype(dtype, copy=False), unbatched


@docfiller
def conv_grad_input(input_shape, weight, grad_out, stride=1, padding="valid", dilation=1,
                    groups=1, *, padding_mode="zeros", data_format="channels_first",
                    workers=None):
    """Gradient of :func:`fastconv.conv` with respect to its input.

    Given ``grad_out = dL/dy`` for ``y = conv(x, weight, ...)`` (without an
    activation), returns ``dL/dx``.  This is a transposed convolution of
    `grad_out` with `weight`; it does not need ``x`` itself, only its shape.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of ``x``: ``(N, C, *S)`` / ``(N, *S, C)``, or unbatched
        ``(C, *S)`` / ``(*S, C)``.
    weight : array_like
        ``(F, C/groups, *K)`` (``channels_first``) or ``(*K, C/groups, F)``
        (``channels_last``), float32 or float64.
    grad_out : array_like
        Gradient of the loss with respect to the forward output: the
        output's shape.
    stride : int or tuple of int, optional
        As given to the forward call (see :func:`fastconv.conv`).
    padding : str, int or tuple, optional
        As given to the forward call; every padding spec is supported.
    dilation : int or tuple of int, optional
        As given to the forward call.
    groups : int, optional
        As given to the forward call.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, optional
        As given to the forward call.  For modes other than ``'zeros'`` the
        gradient of each padded cell flows back to the input cell
        ``np.pad`` copied it from.
    data_format : {'channels_first', 'channels_last'}, optional
        As given to the forward call.
    %(workers)s

    Returns
    -------
    ndarray
        ``dL/dx``, shape `input_shape`, dtype
        ``result_type(weight, grad_out)``.

    Raises
    ------
    TypeError
        For dtypes other than float32/float64 or badly typed arguments.
    ValueError
        For a geometry the forward call rejects, or a `grad_out` whose shape
        is not the forward output's.

    See Also
    --------
    conv_grad_weight, conv_backward, fastconv.conv_transpose2d
    torch.nn.grad.conv2d_input : PyTorch's equivalent.

    Notes
    -----
    Polyphase transposed convolution on the compiled engine: the output
    positions are split by residue modulo the stride, and each residue class
    is a stride-1 correlation of `grad_out` with a sub-sampled, flipped,
    channel-swapped kernel (``prod(stride)`` engine calls, no zero
    insertion, the same multiply-add count as the forward pass).  Results
    do not depend on `workers`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import conv, conv_grad_input
    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> w = np.array([[[1.0, 2.0, 3.0]]])
    >>> y = conv(x, w, padding=1)
    >>> conv_grad_input(x.shape, w, np.ones_like(y), padding=1)
    array([[[3., 6., 6., 6., 5.]]])
    """
    fname = "conv_grad_input"
    input_shape = _check_shape_arg("input_shape", input_shape)
    weight = as_float(fname, "weight", weight)
    grad_out = as_float(fname, "grad_out", grad_out)
    dtype = np.result_type(weight.dtype, grad_out.dtype)
    nthreads = resolve_workers(workers)
    geo, gy, unbatched = _prepare(fname, input_shape, weight.shape, grad_out, stride,
                                  padding, dilation, groups, padding_mode, data_format, dtype)
    gx = _input_grad(gy, weight.astype(dtype, copy=False), geo, nthreads)
    return gx[0] if unbatched else gx


@docfiller
def conv_grad_weight(x, weight_shape, grad_out, stride=1, padding="valid", dilation=1,
                     groups=1, *, padding_mode="zeros", data_format="channels_first",
                     workers=None):
    """Gradient of :func:`fastconv.conv` with respect to its weight.

    Given ``grad_out = dL/dy`` for ``y = conv(x, weight, ...)`` (without an
    activation), returns ``dL/dweight``.

    Parameters
    ----------
    x : array_like
        The forward input, float32 or float64 (batched or unbatched).
    weight_shape : tuple of int
        Shape of the weight: ``(F, C/groups, *K)`` (``channels_first``) or
        ``(*K, C/groups, F)`` (``channels_last``).
    grad_out : array_like
        Gradient of the loss with respect to the forward output.
    stride : int or tuple of int, optional
        As given to the forward call (see :func:`fastconv.conv`).
    padding : str, int or tuple, optional
        As given to the forward call.
    dilation : int or tuple of int, optional
        As given to the forward call.
    groups : int, optional
        As given to the forward call.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, optional
        As given to the forward call (padding a copy of `x`, as the forward).
    data_format : {'channels_first', 'channels_last'}, optional
        As given to the forward call.
    %(workers)s

    Returns
    -------
    ndarray
        ``dL/dweight``, shape `weight_shape`, dtype
        ``result_type(x, grad_out)``.

    Raises
    ------
    TypeError
        For dtypes other than float32/float64 or badly typed arguments.
    ValueError
        For a geometry the forward call rejects, or a `grad_out` whose shape
        is not the forward output's.

    See Also
    --------
    conv_grad_input, conv_backward
    torch.nn.grad.conv2d_weight : PyTorch's equivalent.

    Notes
    -----
    The input is first trimmed to exactly the cells the forward's windows
    read.  float32/float64 layers with enough filters and work run on the
    compiled register tiles: each ``dw`` element is summed over the
    output positions and images in order (large batches in chunks of
    images, holding at most 64 MB of copies at a time).  Others take im2col and a matrix
    product per image and group (BLAS, limited to `workers` threads):
    ``dw_g += grad_out_g (F/groups, P) @ cols.T``, where ``cols`` holds,
    for each of the P output positions, the input values its window reads,
    images summed in order.  Either way the result does not depend on the
    thread count.  Non-zero padding modes pad a copy of
    ``x`` first, as the forward does.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import conv_grad_weight
    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> conv_grad_weight(x, (1, 1, 3), np.ones((1, 1, 3)))
    array([[[3., 6., 9.]]])
    """
    fname = "conv_grad_weight"
    weight_shape = _check_shape_arg("weight_shape", weight_shape)
    x = as_float(fname, "x", x)
    grad_out = as_float(fname, "grad_out", grad_out)
    dtype = np.result_type(x.dtype, grad_out.dtype)
    nthreads = resolve_workers(workers)
    geo, gy, unbatched = _prepare(fname, x.shape, weight_shape, grad_out, stride, padding,
                                  dilation, groups, padding_mode, data_format, dtype)
    xb = x[np.newaxis] if unbatched else x
    return _weight_grad(xb.astype(dtype, copy=False), gy, geo, nthreads)


@docfiller
def conv_backward(grad_out, x, weight, bias=None, stride=1, padding="valid", dilation=1,
                  groups=1, *, padding_mode="zeros", data_format="channels_first",
                  activation=None, output=None, input_grad=True, weight_grad=True,
                  workers=None):
    """All gradients of :func:`fastconv.conv`: input, weight and bias.

    Parameters
    ----------
    grad_out : array_like
        ``dL/dy`` for ``y = conv(x, weight, bias, ...)``: the output's shape.
    x, weight, bias : array_like
        The forward call's operands (float32 or float64).  `bias` may be
        None (then no bias gradient is returned).
    stride : int or tuple of int, optional
        As given to the forward call (see :func:`fastconv.conv`).
    padding : str, int or tuple, optional
        As given to the forward call.
    dilation : int or tuple of int, optional
        As given to the forward call.
    groups : int, optional
        As given to the forward call.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, optional
        As given to the forward call.
    data_format : {'channels_first', 'channels_last'}, optional
        As given to the forward call.
    activation : str, optional
        As given to the forward call: `grad_out` is then the gradient with
        respect to the *activated* output and the activation's derivative is
        applied first.  Callables cannot be differentiated.
    output : array_like, optional
        The forward output ``y`` (activated).  Saves recomputing the
        forward pass for ``'relu'``, ``'sigmoid'``, ``'tanh'``, ``'elu'`` and
        ``'leaky_relu'``; ``'gelu'`` always recomputes it.
    input_grad, weight_grad : bool, optional
        Compute these gradients (default True); a skipped one is returned
        as None.
    %(workers)s

    Returns
    -------
    grad_x : ndarray or None
        ``dL/dx``, the shape of `x`.
    grad_weight : ndarray or None
        ``dL/dweight``, the shape of `weight`.
    grad_bias : ndarray or None
        ``dL/dbias`` (``(F,)``), or None when `bias` is None.

    Raises
    ------
    TypeError
        For dtypes other than float32/float64, badly typed arguments, or a
        callable activation.
    ValueError
        For a geometry the forward call rejects, a `grad_out` (or `output`)
        whose shape is not the forward output's, or a bad bias shape.

    See Also
    --------
    conv_grad_input, conv_grad_weight
    torch.autograd.grad : What PyTorch users call for the same numbers.

    Notes
    -----
    See :func:`conv_grad_input` and :func:`conv_grad_weight` for the
    algorithms.  Computation is in ``result_type(x, weight, grad_out)``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import conv2d, conv_backward
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((2, 3, 6, 6))
    >>> w = rng.standard_normal((4, 3, 3, 3))
    >>> b = np.zeros(4)
    >>> y = conv2d(x, w, b, stride=2, padding='same', activation='relu')
    >>> gx, gw, gb = conv_backward(np.ones_like(y), x, w, b, stride=2, padding='same',
    ...                            activation='relu', output=y)
    >>> gx.shape, gw.shape, gb.shape
    ((2, 3, 6, 6), (4, 3, 3, 3), (4,))
    >>> bool(np.allclose(gb, (y > 0).sum(axis=(0, 2, 3))))
    True
    """
    fname = "conv_backward"
    for name, flag in (("input_grad", input_grad), ("weight_grad", weight_grad)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{fname}: {name} must be True or False, got "
                            f"{type(flag).__name__} {flag!r}")
    x = as_float(fname, "x", x)
    weight = as_float(fname, "weight", weight)
    grad_out = as_float(fname, "grad_out", grad_out)
    if bias is not None:
        bias = as_float(fname, "bias", bias)
    activation = check_activation(activation)
    if callable(activation):
        raise TypeError("activation: a callable activation has no known derivative; "
                        "use a named activation or apply it outside the convolution")
    dtype = np.result_type(x.dtype, weight.dtype, grad_out.dtype)
    nthreads = resolve_workers(workers)
    geo, gy, unbatched = _prepare(fname, x.shape, weight.shape, grad_out, stride, padding,
                                  dilation, groups, padding_mode, data_format, dtype)
    if bias is not None and bias.shape != (geo.F,):
        raise ValueError(f"{fname}: bias must have shape ({geo.F},), got {bias.shape}")
    if activation not in (None, "linear"):
        if output is not None:
            output = np.asarray(output)
            if output.shape != grad_out.shape:
                raise ValueError(f"{fname}: output must have the forward output's shape "
                                 f"{grad_out.shape}, got {output.shape}")
            output = output[np.newaxis] if unbatched else output
        pre = None
        if output is None or activation in NEEDS_PRE:
            xb = x[np.newaxis] if unbatched else x
            pre = conv(xb.astype(dtype, copy=False), weight.astype(dtype, copy=False),
                       None if bias is None else bias.astype(dtype, copy=False),
                       geo.stride, geo.pads, geo.dilation, geo.G, padding_mode=padding_mode,
                       data_format=data_format, workers=nthreads)
        gy = activation_grad(gy, activation, pre=pre, out=output).astype(dtype, copy=False)
    gx = gw = gb = None
    if input_grad:
        gx = _input_grad(gy, weight.astype(dtype, copy=False), geo, nthreads)
        if unbatched:
            gx = gx[0]
    if weight_grad:
        xb = x[np.newaxis] if unbatched else x
        gw = _weight_grad(xb.astype(dtype, copy=False), gy, geo, nthreads)
    if bias is not None:
        gb = _bias_grad(gy, geo.layout)
    return gx, gw, gb
