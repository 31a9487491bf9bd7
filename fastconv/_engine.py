"""The engine: one canonical correlation, run by the compiled kernels.

Front-ends (``fastconv.nn``, ``fastconv.signal``, ``fastconv.ndimage``,
``fastconv.layers``) validate their arguments and reduce their vocabulary to
one call of :func:`correlate`:

    out[n, f, o...] = bias[f] + sum_{c, t...} w[f, c, t...] *
                      x[n, g*Cg + c, o*s + t*d - p_lo...]

(``g = f // (F/groups)``, zero padding, any spatial rank, layout
``channels_first`` ``(N, C, *S)`` / ``(F, C/groups, *K)`` or
``channels_last`` ``(N, *S, C)`` / ``(*K, C/groups, F)``).  The engine
trusts its inputs: shapes and dtypes have been checked by the caller.

Rank 1-3 run in one kernel call (leading size-1 axes are inserted for free);
rank > 3 is decomposed over the leading spatial axes into accumulated rank-3
calls.
"""

import functools
import itertools
import threading

import numpy as np

from fastconv import _dispatch

_GENERIC_ONLY = [False]   # tests flip this to compare the tiled and generic paths


def _col_block(ow, nrows, nthreads):
    """Columns per unit of parallel work: whole rows when there are many rows,
    cache-sized blocks of long rows, and enough blocks to feed every thread."""
    colblk = ow if ow <= 8192 else 4096
    nunits = nrows * -(-ow // colblk)
    if nunits < 4 * nthreads and ow > 256:
        want = -(-4 * nthreads // max(nrows, 1))
        colblk = max(256, -(-ow // want))
    return max(1, colblk)


def _to5(a, lead, rank):
    """Insert ``3 - rank`` size-1 axes after the first `lead` axes (a view)."""
    shape = a.shape[:lead] + (1,) * (3 - rank) + a.shape[lead:]
    return a.reshape(shape)


def _pad3(values, rank, fill):
    return (fill,) * (3 - rank) + tuple(values)


def _run3(kern, x, w, out, bias, stride, dilation, pad_lo, groups, accumulate, relu,
          layout, nthreads):
    """One kernel call for spatial rank <= 3 (arrays already C-contiguous)."""
    rank = x.ndim - 2
    geo = np.array(_pad3(stride, rank, 1) + _pad3(dilation, rank, 1) + _pad3(pad_lo, rank, 0),
                   dtype=np.intp)
    if layout == "channels_first":
        x5, w5, o5 = _to5(x, 2, rank), _to5(w, 2, rank), _to5(out, 2, rank)
        nrows = o5.shape[0] * o5.shape[1] * o5.shape[2] * o5.shape[3]
        ow = o5.shape[4]
        colblk = _col_block(ow, nrows, nthreads)
        nunits = nrows * -(-ow // colblk)
        kern.correlate_channels_first(x5, w5, o5, bias, geo, groups, accumulate, relu,
                                      colblk, max(1, min(nthreads, nunits)))
    else:
        x5, w5, o5 = _to5(x, 1, rank), _to5(w, 0, rank), _to5(out, 1, rank)
        nrows = o5.shape[0] * o5.shape[1] * o5.shape[2]
        ow = o5.shape[3]
        colblk = _col_block(ow, nrows, nthreads)
        nunits = nrows * -(-ow // colblk)
        kern.correlate_channels_last(x5, w5, o5, bias, geo, groups, accumulate, relu,
                                     colblk, max(1, min(nthreads, nunits)))


# --- register-tiled paths ---------------------------------------------------

_SCRATCH = threading.local()
_SLACK = 256          # readable elements after a source buffer (> widest tile)
_PMAX = {"baseline": 2, "avx2": 4, "avx512": 8}


_SCRATCH_CAP = 64 << 20   # bytes kept per thread and dtype; larger buffers are one-off


def _scratch(nelem, dtype):
    """A per-Python-thread buffer reused across calls (no page faults per call).

    Buffers above ``_SCRATCH_CAP`` bytes are not kept: they are freed when
    the call that asked for them returns (issue 13: one oversized call used
    to pin its scratch for the life of the thread)."""
    dtype = np.dtype(dtype)
    if nelem * dtype.itemsize > _SCRATCH_CAP:
        return np.empty(max(nelem, 1), dtype=dtype)[:nelem]
    key = dtype.char
    buf = getattr(_SCRATCH, key, None)
    if buf is None or buf.size < nelem:
        buf = np.empty(max(nelem, 1), dtype=dtype)
        setattr(_SCRATCH, key, buf)
    return buf[:nelem]


def _source(x5, pl, ph, S, kern=None, nthreads=1):
    """Zero-padded, column-phase-split copy of x5 (N, C, D, H, W) in scratch.

    Layout (N, C, Dp, Hp, S, Wq): element [..., phase, q] holds padded column
    q*S + phase.  Returns (flat buffer incl. slack, strides n, c, d, h, Wq).
    """
    N, C, D, H, W = x5.shape
    Dp, Hp, Wp = D + pl[0] + ph[0], H + pl[1] + ph[1], W + pl[2] + ph[2]
    Wq = -(-Wp // S)
    total = N * C * Dp * Hp * S * Wq
    flat = _scratch(total + _SLACK, x5.dtype)
    flat[total:] = 0
    if S == 1 and kern is not None:
        # one parallel pass: every padded row written once (zeros or a copy)
        kern.pad_source(x5, flat, pl[0], pl[1], pl[2], Dp, Hp, Wq,
                        max(1, min(nthreads, N * C * Dp * Hp // 64)) if total > 65536 else 1)
        xh = Wq
        return flat, np.array([C * Dp * Hp * xh, Dp * Hp * xh, Hp * xh, xh], dtype=np.intp), Wq
    v = flat[:total].reshape(N, C, Dp, Hp, S, Wq)
    v[:, :, :pl[0]] = 0
    v[:, :, pl[0] + D:] = 0
    v[:, :, pl[0]:pl[0] + D, :pl[1]] = 0
    v[:, :, pl[0]:pl[0] + D, pl[1] + H:] = 0
    inner = v[:, :, pl[0]:pl[0] + D, pl[1]:pl[1] + H]
    for phase in range(S):
        q0 = max(0, -(-(pl[2] - phase) // S))
        c0 = q0 * S + phase - pl[2]
        cnt = len(range(c0, W, S)) if c0 < W else 0
        inner[:, :, :, :, phase, :q0] = 0
        if cnt:
            inner[:, :, :, :, phase, q0:q0 + cnt] = x5[:, :, :, :, c0::S]
        inner[:, :, :, :, phase, q0 + cnt:] = 0
    xh = S * Wq
    xd = Hp * xh
    xc = Dp * xd
    return flat, np.array([C * xc, xc, xd, xh], dtype=np.intp), Wq


def _input_source(x5, pl, ph, S, kern, nthreads):
    """The source buffer of the many-channel drivers: `x5` itself when it
    needs neither padding nor a phase split, else :func:`_source`'s padded
    copy.  Returns (flat buffer, strides n, c, d, h, Wq, copied)."""
    if S == 1 and not any(pl) and not any(ph):
        N, C, D, H, W = x5.shape
        xstr = np.array([C * D * H * W, D * H * W, H * W, W], dtype=np.intp)
        return x5.reshape(-1), xstr, W, False
    flat, xstr, Wq = _source(x5, pl, ph, S, kern, nthreads)
    return flat, xstr, Wq, True


def _row_chunks(nrowblocks, ow, nthreads):
    """Columns per work unit for the ROWS driver: whole rows when there are
    enough row blocks, otherwise chunks (>= 2048 columns) so every thread
    gets several units.  Returns (colchunk, number of units)."""
    colchunk = ow
    if nrowblocks < 8 * nthreads and ow > 4096:
        want = -(-8 * nthreads // nrowblocks)
        colchunk = max(2048, -(-ow // want))
    return colchunk, nrowblocks * -(-ow // colchunk)


def _tap_offsets(kshape, dil, xd, xh, Wq, S, channels=0, xc=0):
    """Offsets of every tap (channel, depth, row, column order) in a source
    buffer whose columns are split into S phases of length Wq (a read-only
    array, cached: the same geometry recurs call after call)."""
    return _tap_offsets_cached(tuple(int(v) for v in kshape), tuple(int(v) for v in dil),
                               int(xd), int(xh), int(Wq), int(S), int(channels), int(xc))


@functools.lru_cache(maxsize=128)
def _tap_offsets_cached(kshape, dil, xd, xh, Wq, S, channels, xc):
    KD, KH, KW = kshape
    kw = np.arange(KW) * dil[2]
    col = (kw % S) * Wq + kw // S
    off = (np.arange(KD)[:, None, None] * dil[0] * xd
           + np.arange(KH)[None, :, None] * dil[1] * xh + col[None, None, :]).reshape(-1)
    if channels:
        off = (np.arange(channels)[:, None] * xc + off[None, :]).reshape(-1)
    off = np.ascontiguousarray(off, dtype=np.intp)
    off.setflags(write=False)
    return off


def _pack_blocks(w5, groups, pmax):
    """Weights (F, Cg, KD, KH, KW) -> blocks of P filters laid out (ntaps, P)."""
    F = w5.shape[0]
    Fg = F // groups
    wf = w5.reshape(F, -1)
    ntaps = wf.shape[1]
    blocks, parts, woff = [], [], 0
    for g in range(groups):
        f = g * Fg
        while f < (g + 1) * Fg:
            rem = (g + 1) * Fg - f
            P = next(p for p in (8, 4, 2, 1) if p <= pmax and p <= rem)
            parts.append(wf[f:f + P].T.reshape(-1))
            blocks.append((f, P, woff, g))
            woff += ntaps * P
            f += P
    return (np.ascontiguousarray(np.concatenate(parts)),
            np.array(blocks, dtype=np.intp).reshape(-1, 4))


def _narrow_tiles(kern, dtype_char, ow):
    """Use the narrow FILT tiles when they waste clearly fewer lanes on rows
    of `ow` columns than the wide ones (e.g. 14-column rows)."""
    def used(tw):
        return ow / (-(-ow // tw) * tw)
    wide, narrow = 2 * kern.lanes(dtype_char), 2 * kern.lanes(dtype_char, True)
    return narrow < wide and used(narrow) > used(wide) + 0.1


_FLAT = [None]        # tests: True forces the flat FILT driver where it applies, False forbids it
FLAT_CALLS = [0]      # flat-driver calls (tests check that they reach it)


def _tile_lanes(kern, dtype_char, OH, OW, Wp):
    """Lanes computed per output plane by the row driver and by the flat driver."""
    narrow = _narrow_tiles(kern, dtype_char, OW)
    trow = 2 * kern.lanes(dtype_char, narrow)
    tflat = 2 * kern.lanes(dtype_char)
    pend = (OH - 1) * Wp + OW
    return OH * -(-OW // trow) * trow, -(-pend // tflat) * tflat


def _use_flat(kern, dtype_char, OH, OW, Wp):
    """Flat tiles (stride 1 along rows and columns) when they compute no more
    lanes than row tiles (full-width vectors beat narrow ones at equal lanes;
    on single rows they are the row tiles with a cache-friendlier order)."""
    if _FLAT[0] is not None:
        return _FLAT[0]
    row, flat = _tile_lanes(kern, dtype_char, OH, OW, Wp)
    return flat <= row


_FLAT_BYTES = 1 << 17     # source bytes per unit of work (all channels of a chunk)


def _flat_chunks(kern, dtype_char, nplanes, nblocks, pend, planes_read, nthreads):
    """Flat positions per unit of work: about _FLAT_BYTES of source (the
    chunk of every input plane it reads, reused by all filter blocks while
    it is in cache), at least 4 tiles, and at least 4 units per thread.
    Returns (chunk, number of units)."""
    tw = 2 * kern.lanes(dtype_char)
    item = 4 if dtype_char == "f" else 8
    chunk = max(4 * tw, _FLAT_BYTES // (item * max(1, planes_read)))
    if _FLAT_CHUNK[0]:
        chunk = _FLAT_CHUNK[0]
    nunits = nplanes * nblocks * -(-pend // chunk)
    if nunits < 4 * nthreads:
        want = -(-4 * nthreads // (nplanes * nblocks))
        chunk = min(chunk, max(tw, -(-pend // want)))
    chunk = min(-(-chunk // tw) * tw, -(-pend // tw) * tw)
    return chunk, nplanes * nblocks * -(-pend // chunk)


_FLAT_CHUNK = [None]
_FILTT = [None]       # tests: True forces the FILTT driver where it applies, False forbids it
FILTT_CALLS = [0]


def _use_filtt(kern, dtype_char, level_name, OH, OW, Wp, Fg, ntaps):
    """FILTT tiles (vectors along filters) when they compute no more lanes
    than the flat and row tiles (they never compute padding or row-end
    columns) and each output sums at least 256 products: a tile's transposed
    store costs about as much as 64 taps, so small sums (pointwise) keep the
    flat tiles.  Only on AVX-512, whose 32 vector registers hold the 8x2
    tile (AVX2 and SSE2 would spill)."""
    if _FILTT[0] is not None:
        return _FILTT[0]
    if level_name != "avx512" or ntaps < 256:
        return False
    pf, r = kern.filtt_width(dtype_char)
    t_lanes = -(-OH * OW // r) * r * (-(-Fg // pf) * pf) / Fg
    row, flat = _tile_lanes(kern, dtype_char, OH, OW, Wp)
    return t_lanes <= min(row, flat)


def _pack_filtt(w5, bias, groups, pf):
    """Weights (F, Cg, ...) -> blocks of pf filters of one group laid out
    (ntaps, pf), zero columns past the group's last filter; per-block
    initial values (biases)."""
    F = w5.shape[0]
    Fg = F // groups
    wf = w5.reshape(F, -1)
    ntaps = wf.shape[1]
    nb = -(-Fg // pf)
    wp = np.zeros((groups, nb, ntaps, pf), dtype=w5.dtype)
    bp = np.zeros((groups, nb, pf), dtype=w5.dtype)
    blocks = []
    for g in range(groups):
        for j in range(nb):
            f0 = g * Fg + j * pf
            nf = min(pf, (g + 1) * Fg - f0)
            wp[g, j, :, :nf] = wf[f0:f0 + nf].T
            if bias.shape[0]:
                bp[g, j, :nf] = bias[f0:f0 + nf]
            blocks.append((f0, nf, (g * nb + j) * ntaps * pf, g))
    return wp.reshape(-1), bp.reshape(-1), np.array(blocks, dtype=np.intp).reshape(-1, 4)


def _fast_channels_first(kern, x, w, out, bias, stride, dilation, pads, groups, relu,
                         nthreads, level_name):
    """Run a register-tiled path if one applies; return False otherwise."""
    rank = len(stride)
    if x.dtype.char not in "fd" or rank > 3:
        return False
    if _source_is_wasteful(x.shape[2:], w.shape[2:], out.shape[2:], stride, dilation, pads):
        return False      # the generic kernel clips taps and allocates nothing
    N, C = x.shape[:2]
    F, Cg = w.shape[:2]
    Fg = F // groups
    pl = _pad3([p[0] for p in pads], rank, 0)
    ph = _pad3([p[1] for p in pads], rank, 0)
    s = _pad3(stride, rank, 1)
    d = _pad3(dilation, rank, 1)
    if (all(k == 1 for k in w.shape[2:]) and all(v == 1 for v in stride)
            and not any(pl) and not any(ph) and rank > 1):
        # pointwise: the spatial axes are one long row
        L = int(np.prod(x.shape[2:]))
        return _fast_channels_first(kern, x.reshape(N, C, L), w.reshape(F, Cg, 1),
                                    out.reshape(N, F, L), bias, (1,), (1,), ((0, 0),),
                                    groups, relu, nthreads, level_name)
    x5, w5, o5 = _to5(x, 2, rank), _to5(w, 2, rank), _to5(out, 2, rank)
    D, H, W = x5.shape[2:]
    kshape = w5.shape[2:]
    OD, OH, OW = o5.shape[2:]
    if Cg == 1 and Fg == 1:
        # one input channel per filter: depthwise or plain single-channel
        wt = np.ascontiguousarray(w5.reshape(F, -1))
        big = OW >= 256 or not (any(pl) or any(ph))
        if s[2] == 1 and big:
            xflat = x5.reshape(-1)
            xstr = np.array([C * D * H * W, D * H * W, H * W, W], dtype=np.intp)
            toff = _tap_offsets(kshape, d, H * W, W, W, 1)
            geo = np.array(s + d + pl, dtype=np.intp)
            shape = np.array((D, H, W) + tuple(kshape), dtype=np.intp)
            colchunk, units = _row_chunks(N * F * OD * -(-OH // 4), OW, nthreads)
            kern.rows_correlate(xflat, xstr, toff, wt, o5, bias, geo, shape, False, False,
                                relu, colchunk, max(1, min(nthreads, units)))
            return True
        flat, xstr, Wq = _source(x5, pl, ph, s[2], kern, nthreads)
        toff = _tap_offsets(kshape, d, xstr[2], xstr[3], Wq, s[2])
        geo = np.array(s[:2] + (1,) + d + (0, 0, 0), dtype=np.intp)
        shape = np.array((D + pl[0] + ph[0], H + pl[1] + ph[1], Wq) + tuple(kshape),
                         dtype=np.intp)
        colchunk, units = _row_chunks(N * F * OD * -(-OH // 4), OW, nthreads)
        kern.rows_correlate(flat, xstr, toff, wt, o5, bias, geo, shape, True, True, relu,
                            colchunk, max(1, min(nthreads, units)))
        return True
    if s[1] == 1 and s[2] == 1 and _use_filtt(kern, x.dtype.char, level_name, OH, OW,
                                              W + pl[2] + ph[2], Fg, w5[0].size):
        xflat, xstr, Wq, _ = _input_source(x5, pl, ph, 1, kern, nthreads)
        toff = _tap_offsets(kshape, d, xstr[2], xstr[3], Wq, 1, Cg, xstr[1])
        pf, _ = kern.filtt_width(x.dtype.char)
        wpt, bpt, blk = _pack_filtt(w5, bias, groups, pf)
        nunits = N * OD * blk.shape[0]
        chunk = OH * OW if nunits >= 4 * nthreads else max(8, -(-OH * OW * nunits // (4 * nthreads)))
        chunk = _FLAT_CHUNK[0] or chunk
        FILTT_CALLS[0] += 1
        kern.filtt_correlate(xflat, xstr, toff, wpt, blk, bpt, o5, Cg, s[0], chunk, relu,
                             max(1, min(nthreads, nunits * -(-OH * OW // chunk))))
        return True
    wpack, blocks = _pack_blocks(w5, groups, _PMAX.get(level_name, 4))
    if s[1] == 1 and s[2] == 1 and _use_flat(kern, x.dtype.char, OH, OW, W + pl[2] + ph[2]):
        xflat, xstr, Wq, _ = _input_source(x5, pl, ph, 1, kern, nthreads)
        toff = _tap_offsets(kshape, d, xstr[2], xstr[3], Wq, 1, Cg, xstr[1])
        chunk, units = _flat_chunks(kern, x.dtype.char, N * OD, blocks.shape[0],
                                    (OH - 1) * Wq + OW, Cg * kshape[0], nthreads)
        FLAT_CALLS[0] += 1
        kern.filt_correlate_flat(xflat, xstr, toff, wpack, blocks, o5, bias, Cg, s[0], chunk,
                                 relu, max(1, min(nthreads, units)))
        return True
    # a padded copy has readable slack after every row
    xflat, xstr, Wq, slack = _input_source(x5, pl, ph, s[2], kern, nthreads)
    toff = _tap_offsets(kshape, d, xstr[2], xstr[3], Wq, s[2], Cg, xstr[1])
    units = N * blocks.shape[0] * OD * OH
    kern.filt_correlate(xflat, xstr, toff, wpack, blocks, o5, bias, Cg, s[0], s[1], slack,
                        relu, _narrow_tiles(kern, x.dtype.char, OW),
                        max(1, min(nthreads, units)))
    return True


def _source_is_wasteful(spatial, kshape, osp, stride, dilation, pads):
    """True when a padded (phase-split) source copy would be much larger than
    the input plus what the outputs read: huge padding, stride or dilation
    around a small input.  Such calls run on the generic kernel, whose cost
    and memory follow the outputs and the taps that land in the input."""
    for n, k, o, s, d, (lo, hi) in zip(spatial, kshape, osp, stride, dilation, pads):
        padded = n + lo + hi + (s if s > 1 else 0)
        if padded > 4 * (n + o * k) + 256:
            return True
    return False


def _reduce_geometry(x, w, oshape, stride, dilation, pads, layout):
    """Geometry by what the output reads: an axis with one output position has
    no stride and a one-tap axis no dilation.  The high pad is re-derived so
    that nothing downstream (phase split, padded copy) is sized by a stride
    or dilation the output never uses; input the output never reads is cropped
    (so the output still has the formula's length for the new geometry).
    Returns (x, stride, dilation, pads)."""
    rank = len(stride)
    first = 2 if layout == "channels_first" else 1
    if layout == "channels_first":
        spatial, ksp, osp = x.shape[2:], w.shape[2:], oshape[2:]
    else:
        spatial, ksp, osp = x.shape[1:-1], w.shape[:rank], oshape[1:-1]
    new_s, new_d, new_p = [], [], []
    crop = [slice(None)] * x.ndim
    for axis, (n, k, o, s, d, (lo, hi)) in enumerate(
            zip(spatial, ksp, osp, stride, dilation, pads)):
        if (o == 1 and s > 1) or (k == 1 and d > 1):
            s = 1 if o == 1 else s
            d = 1 if k == 1 else d
            need = (o - 1) * s + d * (k - 1) + 1 - lo    # input length the output reads
            if need < n:
                crop[first + axis] = slice(0, max(need, 1))
            hi = min(hi, need - n) if need >= n else 0
        new_s.append(s)
        new_d.append(d)
        new_p.append((lo, hi))
    if any(c != slice(None) for c in crop):
        x = np.ascontiguousarray(x[tuple(crop)])
    return x, tuple(new_s), tuple(new_d), tuple(new_p)


_UNFUSED_FALLBACK = [True]   # tests and benchmarks may switch the guard off


def _products_may_overflow(kern, x, w, nthreads):
    """True when some finite product ``x[i] * w[j]`` could round to infinity.

    That is the only case where a fused multiply-add (one rounding) and a
    separate multiply and add (SciPy's arithmetic) disagree on which outputs
    are NaN or infinite: non-finite inputs propagate identically either way.
    One parallel read of `x` when some weight exceeds 1 in magnitude; the
    weights are small."""
    big = np.finfo(x.dtype).max * 0.5
    mw = kern.max_finite_abs(w.reshape(-1), 1)
    if mw <= 1.0:
        # |x| <= max and |w| <= 1: every exact product is <= max, so no
        # rounded product is infinite -- no scan of x needed (the usual case
        # for CNN weights and normalised filters)
        return False
    mx = kern.max_finite_abs(x.reshape(-1), nthreads)
    return mx * mw >= big


def _fill_bias(out, b, layout, rank):
    """Set every output element to its filter's bias (0 without a bias)."""
    if b.size == 0:
        out[...] = 0
    elif layout == "channels_first":
        out[...] = b.reshape((1, -1) + (1,) * rank)
    else:
        out[...] = b


def output_shape(x_shape, w_shape, stride, dilation, pads, groups, layout):
    """Full output shape (batch and channels included) for validated inputs."""
    rank = len(stride)
    if layout == "channels_first":
        spatial, kernel, F = x_shape[2:], w_shape[2:], w_shape[0]
    else:
        spatial, kernel, F = x_shape[1:-1], w_shape[:rank], w_shape[-1]
    osp = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                for n, k, s, d, (lo, hi) in zip(spatial, kernel, stride, dilation, pads))
    if layout == "channels_first":
        return (x_shape[0], F) + osp
    return (x_shape[0],) + osp + (F,)


def correlate(x, w, *, stride, dilation, pads, groups=1, bias=None, relu=False,
              layout="channels_first", nthreads=1, out=None, accumulate=False, level=None,
              _guard=True):
    """Run the canonical correlation (see the module docstring).

    Parameters
    ----------
    x, w : ndarray
        Input and filter bank, same dtype: float32, float64 or uint64 (the
        last for exact, wrapping integer sums; channels_first only).
    stride, dilation : tuple of int
        Per spatial axis.
    pads : tuple of (int, int)
        Zero padding ``(lo, hi)`` per spatial axis.
    groups : int
    bias : ndarray or None
        ``(F,)``, same dtype.
    relu : bool
        Fuse ``max(., 0)`` into the kernel.
    layout : {'channels_first', 'channels_last'}
    nthreads : int
        Already resolved thread count (``fastconv._threads.resolve_workers``).
    out : ndarray or None
        C-contiguous output of the right shape and dtype, or None to allocate.
    accumulate : bool
        Add into `out` instead of overwriting it (bias is not added again).
    level : str or None
        Force a SIMD level (tests); default is the dispatched one.

    Returns
    -------
    ndarray
        `out`.

    Notes
    -----
    Non-finite contract: the AVX2 and AVX-512 kernels use fused
    multiply-adds.  They give the same NaN/inf pattern as unfused
    arithmetic (SciPy's) unless a finite product overflows; when the
    largest finite ``|x| * |w|`` could, the call runs on the baseline
    kernels, compiled without contraction, instead.  Finite results of the
    levels differ by rounding only (see docs/user_guide.rst).
    """
    kern = _dispatch.get_kernels(level)
    dtype = np.result_type(x.dtype, w.dtype)
    x = np.ascontiguousarray(x, dtype=dtype)
    w = np.ascontiguousarray(w, dtype=dtype)
    rank = len(stride)
    oshape = output_shape(x.shape, w.shape, stride, dilation, pads, groups, layout)
    if out is None:
        out = np.empty(oshape, dtype=dtype)
        accumulate = False
    if out.size == 0:
        return out
    x, stride, dilation, pads = _reduce_geometry(x, w, oshape, stride, dilation, pads, layout)
    if (_guard and _UNFUSED_FALLBACK[0] and dtype.char in "fd" and kern.simd_level() != "baseline"
            and _products_may_overflow(kern, x, w, nthreads)):
        kern = _dispatch.get_kernels("baseline")
        level = "baseline"
    b = (np.zeros(0, dtype=dtype) if bias is None
         else np.ascontiguousarray(bias, dtype=dtype).reshape(-1))
    pad_lo = tuple(p[0] for p in pads)
    macs_per_out = w.size // max(1, out.shape[1 if layout == "channels_first" else -1])
    if macs_per_out == 0:
        # no input channels (or an empty kernel): the sums are empty
        if accumulate:
            return out
        _fill_bias(out, b, layout, rank)
        if relu:
            np.maximum(out, 0, out=out)
        return out
    if out.size * macs_per_out < (1 << 18):
        nthreads = 1      # small problems: a parallel region costs more than it saves
    if layout == "channels_last" and w.shape[-2] == 1 and w.shape[-1] == 1 and groups == 1:
        # one input and one output channel: both layouts are the same memory,
        # and the channels-first kernel vectorises along the spatial rows.
        xs = x.reshape((x.shape[0], 1) + x.shape[1:-1])
        ws = w.reshape((1, 1) + w.shape[:-2])
        os_ = out.reshape((out.shape[0], 1) + out.shape[1:-1])
        correlate(xs, ws, stride=stride, dilation=dilation, pads=pads, groups=1, bias=b,
                  relu=relu, layout="channels_first", nthreads=nthreads, out=os_,
                  accumulate=accumulate, level=level, _guard=False)
        return out
    if (layout == "channels_first" and not accumulate and rank <= 3 and not _GENERIC_ONLY[0]
            and _fast_channels_first(kern, x, w, out, b, stride, dilation, pads, groups, relu,
                                     nthreads, kern.simd_level())):
        return out
    if (layout == "channels_last" and not accumulate and rank <= 3 and not _GENERIC_ONLY[0]
            and dtype.char in "fd" and not (w.shape[-2] == 1 and w.shape[-1] == groups)):
        # many channels: run the tiled channels-first path on transposed
        # copies (the transposes cost a small fraction of the arithmetic).
        perm_in = (0, rank + 1) + tuple(range(1, rank + 1))
        xt = np.ascontiguousarray(x.transpose(perm_in))
        wt = np.ascontiguousarray(w.transpose((rank + 1, rank) + tuple(range(rank))))
        ot = np.empty((out.shape[0], out.shape[-1]) + out.shape[1:-1], dtype=dtype)
        if _fast_channels_first(kern, xt, wt, ot, b, stride, dilation, pads, groups, relu,
                                nthreads, kern.simd_level()):
            out[...] = ot.transpose((0,) + tuple(range(2, rank + 2)) + (1,))
            return out
    if rank <= 3:
        _run3(kern, x, w, out, b, stride, dilation, pad_lo, groups, accumulate, relu,
              layout, nthreads)
        return out
    # Rank > 3: decompose the leading (rank - 3) spatial axes.
    lead = rank - 3
    if layout == "channels_first":
        sp_axis0, k_axis0 = 2, 2
    else:
        sp_axis0, k_axis0 = 1, 0
    if not accumulate:
        _fill_bias(out, b, layout, rank)
    in_lead = x.shape[sp_axis0:sp_axis0 + lead]
    out_lead = out.shape[sp_axis0:sp_axis0 + lead]
    k_lead = w.shape[k_axis0:k_axis0 + lead]
    empty = np.zeros(0, dtype=dtype)
    # The kernels take C-contiguous operands: copy each weight slice and each
    # input slice once (at most one copy of the input in all), and each
    # output slab once per output position, not once per tap.
    wsubs = {tpos: np.ascontiguousarray(w[(slice(None),) * k_axis0 + tpos])
             for tpos in itertools.product(*(range(k) for k in k_lead))}
    xsubs = {}
    for opos in itertools.product(*(range(m) for m in out_lead)):
        oidx = (slice(None),) * sp_axis0 + opos
        osub = np.ascontiguousarray(out[oidx])
        for tpos, wsub in wsubs.items():
            ipos = tuple(o * s + t * d - p for o, t, s, d, p
                         in zip(opos, tpos, stride[:lead], dilation[:lead], pad_lo[:lead]))
            if any(i < 0 or i >= n for i, n in zip(ipos, in_lead)):
                continue
            xsub = xsubs.get(ipos)
            if xsub is None:
                xsub = xsubs[ipos] = np.ascontiguousarray(x[(slice(None),) * sp_axis0 + ipos])
            _run3(kern, xsub, wsub, osub, empty, stride[lead:], dilation[lead:],
                  pad_lo[lead:], groups, True, False, layout, nthreads)
        out[oidx] = osub
    if relu:
        np.maximum(out, 0, out=out)
    return out
