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
import math
import os
import threading

import numpy as np

from fastconv import _dispatch
from fastconv import _memory
from fastconv import _threads
from fastconv._threads import (running, team_size, team_skipped, team_used, worth_threads,
                               worth_waking)



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
                                      colblk, team_size(nthreads, nunits))
    else:
        x5, w5, o5 = _to5(x, 1, rank), _to5(w, 0, rank), _to5(out, 1, rank)
        nrows = o5.shape[0] * o5.shape[1] * o5.shape[2]
        ow = o5.shape[3]
        colblk = _col_block(ow, nrows, nthreads)
        nunits = nrows * -(-ow // colblk)
        kern.correlate_channels_last(x5, w5, o5, bias, geo, groups, accumulate, relu,
                                     colblk, team_size(nthreads, nunits))


# --- register-tiled paths ---------------------------------------------------

_SCRATCH = threading.local()
_SLACK = 256          # readable elements after a source buffer (> widest tile)


# --- the tile registry ------------------------------------------------------
#
# Each kernel module exports its tiles (``capabilities()``, generated from
# the X-macro list fastconv/_tiles.inc): kind, dtype, shape, lanes, live
# vector registers and whether they fit the level's register file.  The
# plan picks tiles from that list once per geometry; nothing here knows a
# level by name.

@functools.lru_cache(maxsize=8)
def _registry(kern):
    return tuple(kern.capabilities())


def _tiles(kern, kind, dchar, fits=True, narrow=False):
    """Registry entries of one kind and dtype (that fit the registers)."""
    return [t for t in _registry(kern) if t["kind"] == kind and t["dtype"] == dchar
            and (t["fits"] or not fits) and t["narrow"] == narrow]


def _forced_tile(kern, force, dchar):
    """The registry entry named by ``force['tile']`` (tests), or None."""
    name = force.get("tile")
    if name is None:
        return None
    for t in _registry(kern):
        if t["name"] == name and t["dtype"] == dchar:
            return t
    raise ValueError(f"tile {name!r} is not in this level's registry for {dchar!r}")


def _filt_pmax(kern, dchar):
    """Filters per block of the largest FILT tile that fits the registers."""
    return max((t["shape"][0] for t in _tiles(kern, "FILT", dchar)), default=1)


def _filt_name(kern, dchar, pmax, narrow):
    """Name of the FILT entry with `pmax` filters (the wide one where the
    level has no narrow tiles)."""
    names = [t["name"] for t in _registry(kern) if t["kind"] == "FILT"
             and t["dtype"] == dchar and t["shape"][0] == pmax and t["narrow"] == narrow]
    return names[0] if names else _filt_name(kern, dchar, pmax, False)


def _filtt_tile(kern, dchar):
    """The FILTT entry that fits the registers (most accumulators), or None."""
    tiles = _tiles(kern, "FILTT", dchar)
    return max(tiles, key=lambda t: t["shape"][0] * t["shape"][1]) if tiles else None


_SCRATCH_CAP = 64 << 20   # bytes kept per thread and dtype; larger buffers are one-off


def _new_output(plan, dtype):
    """The output array of `plan`: 64-byte aligned where its driver writes
    with non-temporal stores (whole aligned cache lines; NumPy aligns to 16
    bytes), and large ones from the pool of reused memory (both
    :func:`fastconv._memory.empty`); plain np.empty otherwise."""
    dtype = np.dtype(dtype)
    if ((plan.consts and plan.consts.get("stream"))
            or math.prod(plan.oshape) * dtype.itemsize >= _memory.MIN_BYTES):
        return _memory.empty(plan.oshape, dtype)
    return np.empty(plan.oshape, dtype=dtype)


def has_nonfinite(a, nthreads=1):
    """True when a float or complex array holds a NaN or an infinity.

    Large contiguous float32/float64 (and complex64/128) arrays are checked by
    a compiled pass on up to `nthreads` threads; others by NumPy."""
    if a.dtype.kind not in "fc" or a.size == 0:
        return False
    if a.size >= (1 << 16) and a.flags.c_contiguous and a.dtype.isnative:
        flat = a.reshape(-1)
        if flat.dtype.kind == "c":
            flat = flat.view(np.float32 if flat.dtype.itemsize == 8 else np.float64)
        if flat.dtype.char in "fd":
            return _dispatch.kernels.any_nonfinite(
                flat, team_size(nthreads, flat.size >> 16))
    return not bool(np.isfinite(a).all())


def _scratch(nelem, dtype, slot=""):
    """A per-Python-thread buffer reused across calls (no page faults per call).

    One buffer per dtype and `slot` (a name per use that may be alive at
    the same time as another: the engine's source copies use "", a padded
    input handed to the engine "pad", the ndimage passes "nd").  Buffers
    above ``_SCRATCH_CAP`` bytes are not kept: they are freed when the call
    that asked for them returns (issue 13: one oversized call used to pin
    its scratch for the life of the thread)."""
    dtype = np.dtype(dtype)
    if nelem * dtype.itemsize > _SCRATCH_CAP:
        return np.empty(max(nelem, 1), dtype=dtype)[:nelem]
    key = slot + dtype.char
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
                        team_size(nthreads, N * C * Dp * Hp // 64, work=4 * total))
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
    """Weights (F, Cg, KD, KH, KW) -> blocks of P filters laid out (ntaps, P).

    One gather with a cached order (the same layer shape recurs call after
    call): a few microseconds for a small bank instead of a Python loop."""
    order, blocks = _pack_layout(tuple(w5.shape), int(groups), int(pmax))
    return w5.reshape(-1).take(order), blocks


@functools.lru_cache(maxsize=128)
def _pack_layout(shape, groups, pmax):
    """Gather order and block table (f0, P, offset, group) of
    :func:`_pack_blocks` for a filter bank of `shape` (read-only arrays)."""
    F = shape[0]
    Fg = F // groups
    ntaps = math.prod(shape[1:])
    index = np.arange(F * ntaps, dtype=np.intp).reshape(F, ntaps)
    blocks, parts, woff = [], [], 0
    for g in range(groups):
        f = g * Fg
        while f < (g + 1) * Fg:
            rem = (g + 1) * Fg - f
            P = next(p for p in (8, 4, 2, 1) if p <= pmax and p <= rem)
            parts.append(index[f:f + P].T.reshape(-1))
            blocks.append((f, P, woff, g))
            woff += ntaps * P
            f += P
    order = np.ascontiguousarray(np.concatenate(parts)) if parts else np.zeros(0, np.intp)
    table = np.array(blocks, dtype=np.intp).reshape(-1, 4)
    order.setflags(write=False)
    table.setflags(write=False)
    return order, table


def _narrow_tiles(kern, dtype_char, ow):
    """Use the narrow FILT tiles when they waste clearly fewer lanes on rows
    of `ow` columns than the wide ones (e.g. 14-column rows)."""
    def used(tw):
        return ow / (-(-ow // tw) * tw)
    wide, narrow = 2 * kern.lanes(dtype_char), 2 * kern.lanes(dtype_char, True)
    return narrow < wide and used(narrow) > used(wide) + 0.1




def _tile_lanes(kern, dtype_char, OH, OW, Wp):
    """Lanes computed per output plane by the row driver and by the flat driver."""
    narrow = _narrow_tiles(kern, dtype_char, OW)
    trow = 2 * kern.lanes(dtype_char, narrow)
    tflat = 2 * kern.lanes(dtype_char)
    pend = (OH - 1) * Wp + OW
    return OH * -(-OW // trow) * trow, -(-pend // tflat) * tflat


# The flat driver's long chunks also save the row driver's per-row units
# (one unit per output row and filter block): Zen 4, 2 threads, 2026-12-05,
# flat / row driver ms at the avx512 | avx2 level: 3 -> 16 64^2 3x3 (flat
# computes 3% more lanes) 0.49 / 0.67-0.71 | 0.51 / 0.74-0.91; 3 -> 8
# 128^2 5x5 (3%) 0.98 / 1.05 | 1.02 / 1.13; 8 -> 16 96^2 3x3 (2%) 0.59 /
# 0.64 | 0.61 / 0.68; 1 -> 4 256^2 7x7 (2%) 0.35 / 0.34 | 0.37 / 0.42.
_FLAT_LANES_SLACK = 1.1


def _use_flat(kern, dtype_char, OH, OW, Wp):
    """Flat tiles (stride 1 along rows and columns) when they compute at
    most ``_FLAT_LANES_SLACK`` times the lanes of the row tiles (full-width
    vectors beat narrow ones at equal lanes; on single rows they are the row
    tiles with a cache-friendlier order)."""
    row, flat = _tile_lanes(kern, dtype_char, OH, OW, Wp)
    return flat <= _FLAT_LANES_SLACK * row


# FILTT taps per block (whole input channels): the block's packed weights
# stay in L1 while every tile of a group of positions uses them.  Measured
# on Zen 4 (one thread, CPU time): +10-20% on the strided and dilated layer
# at both levels, best near 128 taps; on stride-1 layers blocking was
# neutral at AVX2 and 5-15% slower at AVX-512 (whose 8x2 tile buffer and
# weights then crowd L1).  On Zen 2 (AVX2, 1 thread, 2026-12-03) blocking
# stride-1 layers at ~128 taps gained 5-10% (conv2d 64->64 56^2 68 -> 75
# GFLOP/s, conv1d 70 -> 74, 256->256 14^2 75 -> 78, conv3d 73 -> 76).  So
# tiles of at most 64 bytes of filters (two 256-bit vectors: AVX2 and
# narrower) block every layer; wider tiles (AVX-512) only strided ones.
# Narrow tiles run sums of at most _FILTT_ONE_BLOCK taps in one block: with
# the group store transposed in registers (2026-12-03, Zen 2, 1 thread, CPU
# time) the 7x7 stem (147 taps: 98 + 49 before) went 46.0-46.9 -> 44.0-45.1
# ms in float32, 91.9 -> 88.5 in float64.  Longer sums keep ~128-tap blocks:
# ~200 was within noise in float32 (conv2d, conv3d, conv1d, 256 channels)
# and 3% slower on float64 conv3d.  A finer sweep (2026-12-03, Zen 2, 1
# thread, CPU time, the medians of 9 interleaved calls, every multiple of
# the taps per channel from 90 to 300) put float32's optimum at 190-220
# taps: conv3d 16->32 3^3 41.3 -> 40.2 ms at 216, conv2d 64->64 40.9 ->
# 40.5, conv1d 43.1 -> 42.9, 256->256 42.4 -> 42.7 (flat); float64 keeps 128.
_FILTT_TAPS = {"f": 216, "d": 128}
_FILTT_ONE_BLOCK = 192
_FILTT_BLOCK_ALL_BYTES = 64
# Fewest taps per output for the FILTT tiles of at most 64 bytes of filters.
# Zen 2 (AVX2, 1 thread, CPU time, 2026-12-03), FILTT time / FLAT or FILT
# time: 72 taps (8->64 3x3) 1.08, 75 (3->32 5x5 s2) 1.04; 108 (12->64 3x3)
# 0.96, 144 (16->32 3x3) 0.95, 147 (the 7x7 s2 stem) 0.92, 150 (6->32 5x5
# s2) 0.81, 216 (24->64 3x3) 0.87.
_FILTT_MIN_TAPS_NARROW = 96
# Fewest taps per output for wider FILTT tiles (AVX-512): 256 on stride-1
# layers (Zen 4), where the flat tiles run full-width vectors along the
# rows; strided layers (no flat tiles: FILT on narrow, phase-split rows)
# take FILTT from _FILTT_MIN_TAPS_STRIDED.  Intel Xeon with AVX-512
# (2 x 512-bit FMA, 1 thread, wall clock, 2026-12-04), FILTT / FILT time:
# 27 taps (3->32 3x3 s2, 112^2) 0.87, 147 (the 7x7 s2 stem) 0.69, 150
# (6->32 5x5 s2) 0.84; stride 1 stays with the flat tiles up to 288 taps
# (1.05-1.15 FILTT / FLAT from 72 to 288 taps).  AMD (Zen 4, 2 threads,
# blocks of 3 calls, 2026-12-06, three runs), FLAT / FILTT time on stride-1
# layers: 3x3 72 taps (16 x 8 -> 64, 56^2) 1.28-1.42, 144 (16 -> 32)
# 1.21-1.24, 288 (32 -> 64, 28^2) 1.66-1.70; pointwise 96 and 128 taps
# 0.99-1.18, 64 taps 0.85-1.19 (noise either way: kept flat), 32 and 16
# taps 0.72-0.87: there the FILTT tiles take over from 72 taps.  Per CPU
# vendor (cpu_vendor()).
_FILTT_MIN_TAPS_WIDE = {"amd": 72, "intel": 256, "": 256}
_FILTT_MIN_TAPS_STRIDED = 24

_FLAT_BYTES = 1 << 17     # source bytes per unit of work (all channels of a chunk)


def _flat_chunks(kern, dtype_char, nplanes, nblocks, pend, planes_read, nthreads,
                 forced=None):
    """Flat positions per unit of work: about _FLAT_BYTES of source (the
    chunk of every input plane it reads, reused by all filter blocks while
    it is in cache), at least 4 tiles, and at least 4 units per thread.
    Returns (chunk, number of units)."""
    tw = 2 * kern.lanes(dtype_char)
    item = 4 if dtype_char == "f" else 8
    chunk = max(4 * tw, _FLAT_BYTES // (item * max(1, planes_read)))
    if forced:
        chunk = forced
    nunits = nplanes * nblocks * -(-pend // chunk)
    if nunits < 4 * nthreads:
        want = -(-4 * nthreads // (nplanes * nblocks))
        chunk = min(chunk, max(tw, -(-pend // want)))
    chunk = min(-(-chunk // tw) * tw, -(-pend // tw) * tw)
    return chunk, nplanes * nblocks * -(-pend // chunk)




def _use_filtt(kern, dtype_char, OH, OW, Wp, Fg, ntaps, flat_ok=True):
    """FILTT tiles (vectors along filters) when this level has one that fits
    its registers, they compute no more lanes than the flat and row tiles
    (they never compute padding or row-end columns; `flat_ok` False:
    strided rows or columns, where the flat tiles do not apply) and each
    output sums enough products: a tile's transposed store costs about as
    much as 64 taps, so small sums (pointwise) keep the flat tiles -- at
    least ``_FILTT_MIN_TAPS_WIDE`` (per CPU vendor) with the AVX-512 tiles
    on stride-1 layers and ``_FILTT_MIN_TAPS_STRIDED`` on strided ones, at least
    ``_FILTT_MIN_TAPS_NARROW`` with tiles of at most 64 bytes of filters
    (AVX2 and narrower)."""
    tile = _filtt_tile(kern, dtype_char)
    if tile is None:
        return False
    pf, r = kern.filtt_width(tile["index"])
    narrow = pf * (4 if dtype_char == "f" else 8) <= _FILTT_BLOCK_ALL_BYTES
    if narrow:
        least = _FILTT_MIN_TAPS_NARROW
    else:
        least = (_FILTT_MIN_TAPS_WIDE.get(kern.cpu_vendor(), 256) if flat_ok
                 else _FILTT_MIN_TAPS_STRIDED)
    if ntaps < least:
        return False
    t_lanes = -(-OH * OW // r) * r * (-(-Fg // pf) * pf) / Fg
    row, flat = _tile_lanes(kern, dtype_char, OH, OW, Wp)
    # per lane the FILTT tile issues fewer loads than the FILT shapes and
    # keeps more accumulators in flight: a few more lanes (a partial last
    # tile of R positions) still win
    return t_lanes <= 1.05 * (row if not flat_ok else min(row, flat))


def _pack_filtt(kern, w5, bias, groups, pf, nthreads):
    """Weights (F, Cg, ...) -> blocks of pf filters of one group laid out
    (ntaps, pf), zero columns past the group's last filter; per-block
    initial values (biases).  The transposition is the compiled
    ``pack_filters_last`` (the FILTT group store's register blocks): NumPy's
    strided copy took 0.44 ms for 256 -> 256 channels 3 x 3 float32, a
    serial 2.5% of that layer's 2-thread call (Zen 4)."""
    F = w5.shape[0]
    Fg = F // groups
    wf = np.ascontiguousarray(w5).reshape(1, F, -1)
    ntaps = wf.shape[2]
    nb = -(-Fg // pf)
    blocks = np.array([(g * Fg + j * pf, min(pf, Fg - j * pf), (g * nb + j) * ntaps * pf, g)
                       for g in range(groups) for j in range(nb)],
                      dtype=np.intp).reshape(-1, 4)
    # pack_filters_last writes zeros past a block's last filter (the tiles
    # compute those columns; only the block's filters are stored)
    wp = np.empty((groups * nb, ntaps, pf), dtype=w5.dtype)
    kern.pack_filters_last(wf, blocks, wp, team_size(nthreads, groups * nb,
                                                     work=wf.size))
    bp = np.zeros((groups * nb, pf), dtype=w5.dtype)
    if bias.shape[0]:
        for b, (f0, nf, _, _) in enumerate(blocks.tolist()):
            bp[b, :nf] = bias[f0:f0 + nf]
    return wp.reshape(-1), bp.reshape(-1), blocks


def source_is_wasteful(spatial, kshape, osp, stride, dilation, pads):
    """True when a padded (phase-split) source copy would be much larger than
    the input plus what the outputs read: huge padding, stride or dilation
    around a small input.  Such calls run on the generic kernel, whose cost
    and memory follow the outputs and the taps that land in the input."""
    for n, k, o, s, d, (lo, hi) in zip(spatial, kshape, osp, stride, dilation, pads):
        padded = n + lo + hi + (s if s > 1 else 0)
        if padded > 4 * (n + o * k) + 256:
            return True
    return False


def _one_phase(n, k, o, s, d, lo):
    """True when every tap of an axis (input length n, k taps, o outputs,
    stride s, dilation d, low pad lo) lands on one phase of the stride,
    which holds input: :func:`_reduce_geometry` then reads that phase."""
    return o > 1 and s > 1 and (k == 1 or d % s == 0) and (-lo) % s < n


def _reduce_geometry(x, w, oshape, stride, dilation, pads, layout):
    """Geometry by what the output reads: an axis with one output position has
    no stride and a one-tap axis no dilation; an axis whose taps all land on
    one phase of its stride (one tap, or a dilation that is a multiple of
    the stride) reads only that phase, taken as a stride-1 input.  The high pad is re-derived so
    that nothing downstream (phase split, padded copy) is sized by a stride
    or dilation the output never uses; input the output never reads is cropped
    (so the output still has the formula's length for the new geometry).
    Returns (x, stride, dilation, pads)."""
    crop, stride, dilation, pads = _reduced(x.shape, w.shape, oshape, stride, dilation, pads,
                                            layout)
    if crop is not None:
        # a view: the lazy padded copies read it as it is, the other paths
        # take a contiguous copy (see _contiguous_for)
        x = x[crop]
    return x, stride, dilation, pads


def _reduced(x_shape, w_shape, oshape, stride, dilation, pads, layout):
    """:func:`_reduce_geometry` by shapes: (crop of x as a tuple of slices, or
    None for all of x, stride, dilation, pads)."""
    rank = len(stride)
    first = 2 if layout == "channels_first" else 1
    if layout == "channels_first":
        spatial, ksp, osp = x_shape[2:], w_shape[2:], oshape[2:]
    else:
        spatial, ksp, osp = x_shape[1:-1], w_shape[:rank], oshape[1:-1]
    new_s, new_d, new_p = [], [], []
    crop = [slice(None)] * len(x_shape)
    for axis, (n, k, o, s, d, (lo, hi)) in enumerate(
            zip(spatial, ksp, osp, stride, dilation, pads)):
        if (o == 1 and s > 1) or (k == 1 and d > 1):
            s = 1 if o == 1 else s
            d = 1 if k == 1 else d
            need = (o - 1) * s + d * (k - 1) + 1 - lo    # input length the output reads
            if need < n:
                crop[first + axis] = slice(0, max(need, 1))
            hi = min(hi, need - n) if need >= n else 0
        if _one_phase(n, k, o, s, d, lo):
            # every tap lands on one phase of the stride: output i reads
            # s*i + d*a - lo = s*(i + (d/s)*a - lo') + r, so the input
            # x[r::s] with stride 1 and dilation d/s gives the same products
            # in the same order (a 1 x 1 stride-2 layer becomes pointwise,
            # stride == dilation a stride-1 layer on a quarter of the data)
            r = (-lo) % s
            lo = (lo + r) // s
            d = d // s if k > 1 else 1
            need = o + d * (k - 1) - lo                   # phase samples read
            keep = min(len(range(r, n, s)), max(need, 1))
            crop[first + axis] = slice(r, r + s * (keep - 1) + 1, s)
            s, hi = 1, max(0, need - keep)
        new_s.append(s)
        new_d.append(d)
        new_p.append((lo, hi))
    crop = tuple(crop) if any(c != slice(None) for c in crop) else None
    return crop, tuple(new_s), tuple(new_d), tuple(new_p)


@functools.lru_cache(maxsize=256)
def _geometry_plan(x_shape, w_shape, dtype, stride, dilation, pads, groups, relu, layout,
                   accumulate, level):
    """What :func:`correlate` decides from shapes before it runs (the
    reduced geometry and its plan, see :func:`_reduce_geometry`), once per
    geometry: (crop of x or None, stride, dilation, pads, plan).  Raises
    what :func:`output_shape` raises for an impossible geometry."""
    crop, s, d, p, xs = _kept_reduction(x_shape, w_shape, stride, dilation, pads, groups,
                                        layout)
    plan = plan_correlate(xs, w_shape, dtype, stride=s, dilation=d, pads=p, groups=groups,
                          relu=relu, layout=layout, accumulate=accumulate, level=level)
    return crop, s, d, p, plan


def _kept_reduction(x_shape, w_shape, stride, dilation, pads, groups, layout):
    """:func:`_reduced` where the reduced geometry keeps the output shape,
    else the geometry as given: (crop of x or None, stride, dilation, pads,
    shape of the cropped x).  Raises what :func:`output_shape` raises for
    an impossible geometry."""
    oshape = output_shape(x_shape, w_shape, stride, dilation, pads, groups, layout)
    crop, s, d, p = _reduced(x_shape, w_shape, oshape, stride, dilation, pads, layout)
    xs = x_shape if crop is None else tuple(len(range(*c.indices(n)))
                                            for c, n in zip(crop, x_shape))
    if output_shape(xs, w_shape, s, d, p, groups, layout) != oshape:
        return None, stride, dilation, pads, x_shape
    return crop, s, d, p, xs


_UNFUSED_FALLBACK = [True]   # tests and benchmarks may switch the guard off
# Paths that copy all of x (the DW3 bands, the stride-1 padded copy of the
# tiled paths) find max |x| while copying (no separate scan of x when some
# |w| > 1); tests switch it off to compare with the scan.
_FOLD_GUARD = [True]
_FOLD_PATHS = ("rows_padded", "filtt", "flat", "filt")


_HALF_MAX = {c: float(np.finfo(c).max) * 0.5 for c in "fd"}
_SERIAL_SCAN = 1 << 16   # inputs up to this size: one compiled call on one thread


def products_may_overflow(kern, x, w, nthreads):
    """True when some finite product ``x[i] * w[j]`` could round to infinity.

    That is the only case where a fused multiply-add (one rounding) and a
    separate multiply and add (SciPy's arithmetic) disagree on which outputs
    are NaN or infinite: non-finite inputs propagate identically either way.
    One parallel read of `x` when some weight exceeds 1 in magnitude; the
    weights are small."""
    big = _HALF_MAX[x.dtype.char]
    if x.size <= _SERIAL_SCAN:
        return kern.products_may_overflow(np.ascontiguousarray(x).reshape(-1),
                                          w.reshape(-1), big)
    mw = _max_finite_abs(kern, w, 1)
    if mw <= 1.0:
        # |x| <= max and |w| <= 1: every exact product is <= max, so no
        # rounded product is infinite -- no scan of x needed (the usual case
        # for CNN weights and normalised filters)
        return False
    mx = _max_finite_abs(kern, x, nthreads)
    return mx * mw >= big


def _max_finite_abs(kern, a, nthreads):
    """Largest finite ``|a|``: NumPy for small arrays (no kernel call set-up),
    the parallel bit-pattern kernel otherwise (and whenever NaN/inf are
    present, which NumPy's max would return)."""
    if a.size <= 4096:
        m = float(np.max(np.abs(a))) if a.size else 0.0
        if m < np.inf:        # False for inf and NaN
            return m
    return kern.max_finite_abs(np.ascontiguousarray(a).reshape(-1), nthreads)


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


# --- the engine plan ----------------------------------------------------------
#
# Everything the engine decides for a geometry (the path, tile choices, chunk
# sizes, tap offsets, source-buffer layout) depends on shapes only, so it is
# decided once by plan_correlate() (cached) and carried by an EnginePlan; a
# runner per path then only touches the arrays.  Tests force a path by passing
# ``force`` to plan_correlate (or a plan to correlate), not by module globals.


class EnginePlan:
    """The engine's decisions for one geometry (see :func:`plan_correlate`).

    Attributes
    ----------
    path : str
        ``'empty'``, ``'nosum'``, ``'rows'``, ``'rows_padded'``, ``'dw3'``, ``'filtt'``,
        ``'flat'``, ``'filt'``, ``'pointwise'``, ``'cl_single'``,
        ``'cl_tiled'``, ``'generic'`` or ``'rank_n'``.
    oshape : tuple of int
        Output shape.
    level : str
        SIMD level whose kernels run.
    consts : dict
        Path constants (tap offsets, strides of the source buffer, chunk
        sizes, units of parallel work, ...); the tiled paths name the
        registry tile they run in ``consts['tile']``.
    sub : EnginePlan or None
        The plan of the reshaped/transposed problem for the paths that run
        another one (``pointwise``, ``cl_single``, ``cl_tiled``).
    """

    __slots__ = ("path", "oshape", "level", "relu", "accumulate", "consts", "sub")

    def __init__(self, path, oshape, level, relu, accumulate, consts=None, sub=None):
        self.path = path
        self.oshape = oshape
        self.level = level
        self.relu = relu
        self.accumulate = accumulate
        self.consts = consts or {}
        self.sub = sub

    def __repr__(self):
        inner = f", sub={self.sub!r}" if self.sub is not None else ""
        return f"EnginePlan(path={self.path!r}, oshape={self.oshape}, level={self.level!r}{inner})"


def _source_geometry(shape5, pl, ph, S, copy):
    """Strides (n, c, d, h), row length Wq and total size of the source buffer:
    `x5` itself (``copy`` False) or :func:`_source`'s padded, phase-split copy."""
    N, C, D, H, W = shape5
    if not copy:
        return (C * D * H * W, D * H * W, H * W, W), W, 0
    Dp, Hp, Wp = D + pl[0] + ph[0], H + pl[1] + ph[1], W + pl[2] + ph[2]
    Wq = -(-Wp // S)
    xh = Wq if S == 1 else S * Wq
    xd = Hp * xh
    xc = Dp * xd
    return (C * xc, xc, xd, xh), Wq, N * C * Dp * Hp * S * Wq


def _copy_sizes(c):
    """Add the padded sizes (Dp, Hp, Wq) and parallel units of the stride-1
    source copy to the consts `c` of a tiled path (see _fill_source)."""
    (_, _, D, H, W), pl, ph = c["x5"], c["pl"], c["ph"]
    Dp, Hp = D + pl[0] + ph[0], H + pl[1] + ph[1]
    c["padded"] = (Dp, Hp, W + pl[2] + ph[2])
    c["pad_units"] = c["x5"][0] * c["x5"][1] * Dp * Hp // 64


def _plan_rows(c, kern, dchar, NF, OD, OH, OW, force):
    """(path, consts) of the ROWS driver (one input channel per filter):
    the input itself when no padded copy is needed, else the padded one.
    The SLIDE tiles (each loaded input vector feeds every output row of the
    tile that uses it) run when output rows are as far apart as kernel rows
    (stride == dilation along rows: every tap offset is
    plane + kh * row step + kw * column step); else the tap-by-tap tiles.
    ``force={"slide": False}`` forces the latter.  The stride-1 padded copy
    of multi-row outputs is made lazily by the driver's own units, a few
    rows ahead of their reads (``lazy``; ``force={"lazy": False}``: a
    pass of its own before the driver; ``lazy_block``, ``lazy_ahead``: see
    :func:`_lazy_kw`)."""
    pl, ph, s, d, k5, x5 = c["pl"], c["ph"], c["s"], c["d"], c["k5"], c["x5"]
    D, H, W = x5[2:]
    big = OW >= 256 or not (any(pl) or any(ph))
    copy = not (s[2] == 1 and big)
    xstr, Wq, total = _source_geometry(x5, pl, ph, s[2], copy)
    toff = _tap_offsets(k5, d, xstr[2], xstr[3], Wq, s[2])
    wide = OH == 1 and OD == 1          # rows_correlate's 1-D tiles
    slide = (not wide and force.get("slide", True)
             and kern.slide_ok(toff, k5[0], k5[1], k5[2], s[1] * xstr[3]) != 0)
    # The 512-bit SLIDE tile where the kernels have one and the CPU runs it
    # faster (kern.slide_wide_preferred; FASTCONV_SLIDE_WIDTH=256|512 reaches
    # here as force['slide_wide'], see plan_correlate), from 5 kernel rows.
    # Intel Xeon with AVX-512, 2 threads, 2026-12-04, 2-D 2048^2 'same',
    # 256-bit / 512-bit time: float32 5 x 5 1.09, 9 x 9 1.40, 15 x 15 1.48,
    # 21 x 21 1.52; float64 5 x 5 1.13, 9 x 9 1.35, 15 x 15 1.48; 3 x 3
    # float32 0.97 against 1.24 ms (the 256-bit tile wins).  Zen 4 keeps 256.
    slide_wide = slide and kern.slide_has_wide() and force.get(
        "slide_wide", kern.slide_wide_preferred() and k5[1] >= 5)
    R = kern.rows_tile(dchar, wide, slide, slide_wide)[0]
    c.update(copy=copy, total=total, xstr=np.array(xstr, dtype=np.intp),
             toff=toff, rowblocks=NF * OD * -(-OH // R), ow=OW, slide=slide,
             slide_wide=bool(slide_wide),
             **_lazy_consts(copy and s[2] == 1 and not wide, force))
    if copy:
        c["geo"] = np.array(s[:2] + (1,) + d + (0, 0, 0), dtype=np.intp)
        c["shape"] = np.array((D + pl[0] + ph[0], H + pl[1] + ph[1], Wq) + k5, dtype=np.intp)
    else:
        c["geo"] = np.array(s + d + pl, dtype=np.intp)
        c["shape"] = np.array((D, H, W) + k5, dtype=np.intp)
    return ("rows_padded" if copy else "rows"), c


# FILTT outputs from this size on are written with non-temporal stores
# where the level's group store can (AVX-512 float32: 64-byte lines, the
# output allocated 64-byte aligned).  The group store writes each filter's
# plane a line at a time; with normal stores every line is first read from
# memory.  Intel Xeon AVX-512, 2 threads, 20 interleaved calls
# (2026-12-04): conv2d 64->64 56^2 (12.8 MB out) 14.9 -> 12.7 ms, the 7x7
# stem (51 MB) 15.1 -> 12.7, conv1d 64->64 (16.8 MB) 14.1 -> 12.7, conv3d
# 16->32 (16.8 MB) 13.0 -> 12.3; 256->256 14^2 (3.2 MB) 13.2 -> 13.0.
# The AVX2 group store's 32-byte non-temporal stores (two per line) were
# slower on the same CPU at the avx2 level (conv2d 18.4 -> 18.9 ms, the
# stem 24.1 -> 26.2), so only the 64-byte stores stream.
_FILTT_STREAM_BYTES = 8 << 20

_DW3_PLANE_MAX = 1 << 16   # input elements per plane (the scratch stays in L1/L2)
# Outputs from this size on are written with non-temporal stores: far larger
# than a core's L2 and most of an L3, they would be evicted before a next
# layer reads them, and normal stores read every line before writing it.
_DW3_STREAM_BYTES = 16 << 20


# Bands of a large plane: output rows per band so that the scratch (band + 2
# rows) stays in a core's L2 next to its share of the streams; from this
# many output elements per plane on, a few planes (a single image) take the
# DW3 driver in bands instead of the ROWS driver.
_DW3_BAND_BYTES = 256 << 10
_DW3_BAND_MIN = 1 << 14


def _dw3_band(OH, OW, itemsize, nplanes, force):
    """Output rows per DW3 band (OH: whole planes)."""
    if force.get("dw3_band"):
        return int(force["dw3_band"])
    V = 32 // itemsize
    SW = -(-OW // V) * V + V                      # fc_dw3_sw (fastconv/_dw_tiles.h)
    band = max(4, (_DW3_BAND_BYTES // (SW * itemsize) - 2) // 4 * 4)
    return min(band, OH)


def _dw3_streams(c, kern, out):
    """Whether the DW3 run writes `out` with non-temporal stores: outputs of
    _DW3_STREAM_BYTES and more on CPUs where they were measured faster
    (kern.dw_stream_preferred); ``force={'stream': bool}`` decides."""
    if "stream" in c:
        return bool(c["stream"])
    return out.nbytes >= _DW3_STREAM_BYTES and kern.dw_stream_preferred()


def _use_dw3(nplanes, x5, k5, s, d, pl, ph, force, osize=0, bands_ok=True):
    """The DW3 driver (fastconv/_dw_tiles.h): 3x3 kernels, stride 1, no
    dilation, padding 0 or 1 per side, one depth plane; either planes of at
    most _DW3_PLANE_MAX elements and enough of them to feed every thread
    (four per thread: whole planes per unit of work), or planes of at least
    _DW3_BAND_MIN output elements, cut into row bands (not where
    `bands_ok` is False).  ``force={'dw3': False}`` keeps the ROWS driver."""
    if not force.get("dw3", True) or force.get("tile"):
        return False
    if not (k5 == (1, 3, 3) and s == (1, 1, 1) and d == (1, 1, 1) and x5[2] == 1
            and pl[0] == ph[0] == 0 and all(p in (0, 1) for p in pl[1:] + ph[1:])):
        return False
    if force.get("dw3"):
        return True
    return ((x5[3] * x5[4] <= _DW3_PLANE_MAX and nplanes >= 4 * _threads.max_threads())
            or (bands_ok and osize >= _DW3_BAND_MIN))


def _dw3_whole_planes(nplanes, x5):
    return x5[3] * x5[4] <= _DW3_PLANE_MAX and nplanes >= 4 * _threads.max_threads()


def _plan_tiled(kern, xshape, wshape, dchar, stride, dilation, pads, groups, force):
    """(path, consts) of a register-tiled channels-first path, or None."""
    rank = len(stride)
    if dchar not in "fd" or rank > 3:
        return None
    N, C = xshape[:2]
    F, Cg = wshape[:2]
    Fg = F // groups
    pl = _pad3([p[0] for p in pads], rank, 0)
    ph = _pad3([p[1] for p in pads], rank, 0)
    s = _pad3(stride, rank, 1)
    d = _pad3(dilation, rank, 1)
    x5 = xshape[:2] + (1,) * (3 - rank) + tuple(xshape[2:])
    k5 = (1,) * (3 - rank) + tuple(wshape[2:])
    osp = output_shape(xshape, wshape, stride, dilation, pads, groups, "channels_first")[2:]
    if source_is_wasteful(xshape[2:], wshape[2:], osp, stride, dilation, pads):
        return None       # the generic kernel clips taps and allocates nothing
    D, H, W = x5[2:]
    OD, OH, OW = _pad3(osp, rank, 1)
    ntaps = Cg * k5[0] * k5[1] * k5[2]
    c = dict(pl=pl, ph=ph, s=s, d=d, k5=k5, x5=x5)
    if Cg == 1 and Fg == 1:
        # one input channel per filter: depthwise or plain single-channel
        rows = _plan_rows(dict(c), kern, dchar, N * F, OD, OH, OW, force)
        _copy_sizes(rows[1])         # the fallback's source copy (see _fill_source)
        # On CPUs with full-width 512-bit units (Intel Xeon, 2 threads,
        # 2026-12-04) the SLIDE tiles beat the DW3 bands on single large
        # planes: 3x3 'same' float32 1024^2 0.34 -> 0.26 ms, 2048^2 3.26 ->
        # 0.97, 4096^2 7.9 -> 4.3; float64 2048^2 6.3 -> 1.9 (whole small
        # planes, the depthwise layers, keep DW3: 16 x 128 x 56^2 3.3 ms
        # against 5.5).  On the same Intel CPU at the avx2 level too (256-bit
        # SLIDE tile, DW3 without streaming, 2026-12-05): float32 2048^2
        # 1.22 -> 0.94 ms on 2 threads, 2.36 -> 1.67 on one; float64 2048^2
        # 2.51 -> 1.68; 512^2 to 4096^2 all 10-40% faster), but not at the
        # baseline level (SSE2: its 4 x 1 SLIDE tile took 3.81 ms there
        # against the bands' 2.29).  AMD CPUs keep the bands: Zen 2/4 were
        # measured with them, and on Zen 5 (full-width 512-bit units like the
        # Xeon's) the bands beat the 256-bit SLIDE tile its 3x3 takes (2
        # threads, 2026-12-07, DW3 / SLIDE time, three runs: float32 1024^2
        # 0.77-1.02, 2048^2 0.84-0.90, 4096^2 0.81-0.84; float64 0.78-1.02).
        if _use_dw3(N * F, x5, k5, s, d, pl, ph, force, OH * OW,
                    bands_ok=not (kern.cpu_vendor() == "intel"
                                  and kern.simd_level() != "baseline")):
            band = (OH if _dw3_whole_planes(N * F, x5) and not force.get("dw3_band")
                    else _dw3_band(OH, OW, 4 if dchar == "f" else 8, N * F, force))
            c.update(fallback=rows, planes=N * F, band=band)
            if "stream" in force:
                c["stream"] = bool(force["stream"])
            return "dw3", c
        return rows
    flat_ok = s[1] == 1 and s[2] == 1
    Wp = W + pl[2] + ph[2]
    ftile = _forced_tile(kern, force, dchar)
    filtt = force.get("filtt")
    if ftile is not None:
        filtt = ftile["kind"] == "FILTT"
    elif filtt is None:
        filtt = _use_filtt(kern, dchar, OH, OW, Wp, Fg, ntaps, flat_ok)
    if filtt:
        tile = ftile or _filtt_tile(kern, dchar) or _tiles(kern, "FILTT", dchar, False)[0]
        return _plan_filtt(c, kern, tile, N * OD, groups, Fg, Cg, OH * OW, flat_ok, force,
                           (OD, OH, OW))
    pmax = ftile["shape"][0] if ftile is not None else _filt_pmax(kern, dchar)
    nblocks = 0
    for _ in range(groups):
        f = 0
        while f < Fg:
            f += next(p for p in (8, 4, 2, 1) if p <= pmax and p <= Fg - f)
            nblocks += 1
    c.update(pmax=pmax, Cg=Cg, tile=_filt_name(kern, dchar, pmax, False))
    flat = force.get("flat")
    if ftile is not None and ftile["narrow"]:
        flat = False          # the flat driver runs full-width tiles only
    if flat is None:
        flat = flat_ok and _use_flat(kern, dchar, OH, OW, Wp)
    if flat and flat_ok:
        copy = any(pl) or any(ph)
        xstr, Wq, total = _source_geometry(x5, pl, ph, 1, copy)
        chunk, units = _flat_chunks(kern, dchar, N * OD, nblocks, (OH - 1) * Wq + OW,
                                    Cg * k5[0], _threads.max_threads(),
                                    force.get("flat_chunk"))
        c.update(copy=copy, total=total, xstr=np.array(xstr, dtype=np.intp),
                 toff=_tap_offsets(k5, d, xstr[2], xstr[3], Wq, 1, Cg, xstr[1]),
                 chunk=chunk, units=units)
        return "flat", c
    # a padded copy has readable slack after every row
    copy = not (s[2] == 1 and not any(pl) and not any(ph))
    xstr, Wq, total = _source_geometry(x5, pl, ph, s[2], copy)
    c.update(copy=copy, total=total, xstr=np.array(xstr, dtype=np.intp),
             toff=_tap_offsets(k5, d, xstr[2], xstr[3], Wq, s[2], Cg, xstr[1]),
             narrow=(ftile["narrow"] if ftile is not None else _narrow_tiles(kern, dchar, OW)),
             units=N * nblocks * OD * OH)
    c["tile"] = _filt_name(kern, dchar, pmax, c["narrow"])
    return "filt", c


def _plan_filtt(c, kern, tile, nplanes, groups, Fg, Cg, npos, flat_ok, force, osp3):
    """("filtt", consts) of the FILTT driver with `tile` (any stride: tile
    positions are offsets into an unsplit source); `nplanes` output depth
    planes of `npos` positions each, `osp3` the output's (depth, rows,
    columns)."""
    pl, ph, d, k5, x5 = c["pl"], c["ph"], c["d"], c["k5"], c["x5"]
    copy = any(pl) or any(ph)
    xstr, Wq, total = _source_geometry(x5, pl, ph, 1, copy)
    pf, _ = kern.filtt_width(tile["index"])
    tpc = k5[0] * k5[1] * k5[2]
    nbg = -(-Fg // pf)                      # blocks of pf filters per group
    wbytes = 4 if tile["dtype"] == "f" else 8
    bpu = force.get("filtt_bpu") or _filtt_blocks_per_unit(nbg, Cg * tpc * pf * wbytes)
    nunits = nplanes * groups * -(-nbg // bpu)
    chunk = (npos if nunits >= 4 * _threads.max_threads()
             else max(8, -(-npos * nunits // (4 * _threads.max_threads()))))
    chunk = force.get("flat_chunk") or chunk
    blocked = not flat_ok or pf * wbytes <= _FILTT_BLOCK_ALL_BYTES
    one = pf * wbytes <= _FILTT_BLOCK_ALL_BYTES and Cg * tpc <= _FILTT_ONE_BLOCK
    taps = _FILTT_TAPS[tile["dtype"]]
    tblk = force.get("filtt_taps") or (_even_tap_blocks(Cg * tpc, tpc, taps)
                                       if blocked and not one else 0)
    nbytes = nplanes * groups * Fg * npos * wbytes
    stream = force.get("stream", nbytes >= _FILTT_STREAM_BYTES
                       and kern.filtt_streams(tile["dtype"]))
    c.update(copy=copy, total=total, xstr=np.array(xstr, dtype=np.intp), pf=pf,
             stream=bool(stream), **_lazy_consts(copy, force),
             blocks_outer=bool(force.get("blocks_outer", nbg > bpu and groups * nbg
                                         * Cg * tpc * pf * wbytes >= _FILTT_OUTER_BYTES)),
             tblk=tblk, tile=tile["name"], tile_index=tile["index"],
             group=force.get("filtt_group", 0), contiguous=bool(force.get("contiguous", True)),
             toff=_tap_offsets(k5, d, xstr[2], xstr[3], Wq, 1, Cg, xstr[1]),
             chunk=chunk, units=nunits * -(-npos // chunk), Cg=Cg, phases=1, bpu=bpu)
    c["classes"] = (None if not force.get("skip_padding", True) or tblk % tpc
                    else _filtt_classes(c["toff"], tuple(k5), tuple(d), tuple(c["s"]),
                                        tuple(pl), tuple(x5[2:]), tuple(osp3),
                                        kern.filtt_width(tile["index"])[1], pf, Cg))
    return "filtt", c


@functools.lru_cache(maxsize=64)
def _axis_taps(n, k, o, s, d, lo):
    """(first, end) kernel index per output position along one axis: the
    taps ``lo <= i * s + j * d < lo + n`` of output i, ``first <= j <
    end``, read the input (the others its zero padding); (k, 0) for an
    output that reads none, so that the min of `first` and the max of `end`
    over some outputs span what any of them reads."""
    i = np.arange(o)[:, None]
    j = np.arange(k)[None, :]
    at = i * s + j * d - lo
    inside = (at >= 0) & (at < n)
    some = inside.any(1)
    first = np.where(some, inside.argmax(1), k)
    end = np.where(some, k - inside[:, ::-1].argmax(1), 0)
    return first, end


def _filtt_classes(toff, k5, d, s, pl, n3, osp3, R, pf, Cg):
    """Tap classes of the FILTT driver (its ``ctoff`` ... ``dcls``), or None
    when every tile reads every tap.  A tile of R positions, in rows ``a``
    to ``b`` of an output depth plane ``od``, skips the kernel rows (and
    depth slices) that read only zero padding for all of them: it keeps
    the kernel rows from the least first row any of its rows reads to the
    greatest last, so the skipped products are all ``x * 0`` with x a weight.
    Adding them leaves every sum bit for bit unchanged for finite weights
    and no bias of -0.0 (the run's test, :func:`_pad_safe`), and saves
    their time: of the products of 256 -> 256 channels 14^2 3 x 3 with
    padding 1, 9.3% read padding, 4.8% in kernel rows that row tiles skip."""
    KD, KH, KW = k5
    OD, OH, OW = osp3
    if pl[0] == pl[1] == 0 and all(
            (o - 1) * st + (k - 1) * dl < n
            for n, k, o, st, dl in zip(n3[:2], k5[:2], osp3[:2], s[:2], d[:2])):
        return None
    dfirst, dend = _axis_taps(n3[0], KD, OD, s[0], d[0], pl[0])
    hfirst, hend = _axis_taps(n3[1], KH, OH, s[1], d[1], pl[1])
    npos = OH * OW
    starts = np.arange(0, npos, R)
    a = starts // OW
    b = (np.minimum(starts + R, npos) - 1) // OW
    h0, h1 = hfirst[a], hend[a]
    for m in range(1, int((b - a).max()) + 1):
        row = np.minimum(a + m, b)
        h0, h1 = np.minimum(h0, hfirst[row]), np.maximum(h1, hend[row])
    hkeep = np.stack([h0, np.maximum(h0, h1)], 1)
    hcls, tcls = np.unique(hkeep, axis=0, return_inverse=True)
    dkeep = np.stack([dfirst, np.maximum(dfirst, dend)], 1)
    dcls_, dinv = np.unique(dkeep, axis=0, return_inverse=True)
    if len(hcls) == 1 and len(dcls_) == 1 and (
            tuple(hcls[0]) == (0, KH) and tuple(dcls_[0]) == (0, KD)):
        return None
    kd = np.arange(KD)[:, None, None]
    kh = np.arange(KH)[None, :, None]
    woff = np.arange(Cg * KD * KH * KW, dtype=np.intp) * pf
    ctoff, cwoff, cstart, ckpc = [], [], [0], []
    for d0, d1 in dcls_:
        for h0, h1 in hcls:
            one = np.broadcast_to((kd >= d0) & (kd < d1) & (kh >= h0) & (kh < h1),
                                  (KD, KH, KW)).reshape(-1)
            mask = np.tile(one, Cg)
            ctoff.append(toff[mask])
            cwoff.append(woff[mask])
            ckpc.append(int(one.sum()))
            cstart.append(cstart[-1] + ckpc[-1] * Cg)
    out = dict(ctoff=np.concatenate(ctoff).astype(np.intp),
               cwoff=np.concatenate(cwoff).astype(np.intp),
               cstart=np.array(cstart, dtype=np.intp), ckpc=np.array(ckpc, dtype=np.intp),
               tcls=np.ascontiguousarray(tcls.reshape(-1), dtype=np.intp),
               dcls=np.ascontiguousarray(dinv.reshape(-1) * len(hcls), dtype=np.intp))
    for v in out.values():
        v.setflags(write=False)
    return out


def _even_tap_blocks(ntaps, tpc, taps):
    """Taps per FILTT tap block: whole channels (`tpc` taps each), about
    `taps` at most, the blocks of a call as even as the channels allow.  A
    short last block costs a reload of every tile's sums for few taps:
    288 taps (32 channels, 3 x 3, stride 2, 2 threads, Intel Xeon) in blocks
    of 216 + 72 took 1.44-1.47 ms, 144 + 144 1.36-1.39."""
    base = max(tpc, taps // tpc * tpc)
    nblk = -(-ntaps // base)
    return -(-(-(-ntaps // nblk)) // tpc) * tpc


# bytes of packed weights one FILTT unit cycles through.  256 KB kept one
# block per unit for 256 -> 256 channels 3x3 (147 KB a block); four blocks
# (590 KB, past Zen 2's 512 KB L2: the input rows are then read once for 64
# filters instead of 16) ran 2-4% faster on 1 and 2 threads (45.3 -> 44.1,
# 22.3-23.3 -> 21.6-22.8 ms, 2026-12-03).
_FILTT_UNIT_WEIGHTS = 640 << 10


# packed FILTT weights from which the units go block group by block group
# (filtt_correlate's `blocks_outer`): each thread then keeps one group's
# weights in its cache across the images.  256 -> 256 channels 3x3 (2.4 MB
# of weights, 4 groups of 2 blocks), 2 threads, Intel Xeon: 12.38 -> 12.03
# and 12.22 -> 11.82 ms; one thread and smaller weights: no change.
_FILTT_OUTER_BYTES = 1 << 20


def _filtt_blocks_per_unit(nbg, wbytes):
    """Filter blocks one FILTT unit runs over each group of positions: the
    most (a divisor of the `nbg` blocks of a group, so a unit never spans
    two groups) whose packed weights (`wbytes` each) stay within
    ``_FILTT_UNIT_WEIGHTS``.  More blocks per unit read the input once for
    all of them; the weights are then read once per group of positions, so
    the budget bounds how much of them streams past the cache per group."""
    best = 1
    for b in range(1, nbg + 1):
        if nbg % b == 0 and b * wbytes <= _FILTT_UNIT_WEIGHTS:
            best = b
    return best


def _copy_folds(c):
    """True when a tiled path's consts `c` make it copy all of x through
    ``pad_source`` (the stride-1 padded copy), which can then return the
    largest finite |x| for the overflow guard (see :func:`correlate`)."""
    return bool(c.get("copy")) and c.get("phases", c["s"][2]) == 1


def _fill_source(x5, c, kern, nthreads, fold=None):
    """The source buffer of a tiled path: `x5` itself or its padded copy.
    `fold`: a list that receives the largest finite |x| (the stride-1 copy
    only: :func:`_copy_folds`)."""
    if not c["copy"]:
        return x5.reshape(-1)
    S = c.get("phases", c["s"][2])
    if S == 1:
        # the stride-1 copy with the plan's sizes: one compiled pass, no
        # shape arithmetic per call (small calls pay for every microsecond)
        total, (Dp, Hp, Wq) = c["total"], c["padded"]
        flat = _scratch(total + _SLACK, x5.dtype)
        flat[total:] = 0
        mx = kern.pad_source(x5, flat, c["pl"][0], c["pl"][1], c["pl"][2], Dp, Hp, Wq,
                             team_size(nthreads, c["pad_units"], work=4 * total),
                             fold is not None)
        if fold is not None:
            fold.append(mx)
        return flat
    return _source(x5, c["pl"], c["ph"], S, kern, nthreads)[0]


def _lazy_or_filled(x5, c, kern, nthreads, fold):
    """The source buffer of a ROWS or FILTT plan and the driver's trailing
    arguments: unfilled with ``(x5, pads...)`` when the driver's units fill
    the padded copy themselves (``c['lazy']``; they also find max |x|),
    else filled here (:func:`_fill_source`) with ``()``."""
    if not c.get("lazy"):
        return _fill_source(x5, c, kern, nthreads, fold), ()
    flat = _scratch(c["total"] + _SLACK, x5.dtype)
    flat[c["total"]:] = 0
    return flat, (x5,) + tuple(c["pl"])


_LAZY_BLOCK = 8192     # bytes of padded rows per block of a lazy copy


def _lazy_consts(able, force):
    """Plan consts of the lazy padded copy: on where the path `able`s it
    unless ``force={"lazy": False}``; ``lazy_block`` / ``lazy_ahead``: see
    :func:`_lazy_kw`."""
    return dict(lazy=able and force.get("lazy", True), lazy_block=force.get("lazy_block"),
                lazy_ahead=force.get("lazy_ahead", 1))


def _lazy_kw(c):
    """The lazy copy's block size and look-ahead (blocks a unit fills past
    its own: 1; tests set 0 with ``force={"lazy_ahead": 0}`` so a unit
    that misses a row it reads shows)."""
    return {"blockbytes": c["lazy_block"] or _LAZY_BLOCK, "ahead": c["lazy_ahead"]}


def _run_rows(plan, kern, x, w, b, out, nthreads, cache=None, fold=None):
    c = plan.consts
    x5 = x.reshape(c["x5"])
    o5 = out.reshape(out.shape[:2] + _pad3(out.shape[2:], out.ndim - 2, 1))
    wt = np.ascontiguousarray(w.reshape(w.shape[0], -1))
    colchunk, units = _row_chunks(c["rowblocks"], c["ow"], nthreads)
    flat, lazy = _lazy_or_filled(x5, c, kern, nthreads, fold)
    # in place, the units scan x; lazily copied, the copy finds max |x|
    scan = fold is not None and (not c["copy"] or c["lazy"])
    mx = kern.rows_correlate(flat, c["xstr"], c["toff"], wt, o5, b, c["geo"], c["shape"],
                             c["copy"], c["copy"], plan.relu, colchunk,
                             team_size(nthreads, units), c["slide"], scan, *lazy,
                             slide_wide=c.get("slide_wide", False), **_lazy_kw(c))
    if scan:
        fold.append(mx)


def finite_weights(w):
    """True when every element of the real weights `w` is finite; False also
    for weights whose sum leaves the float64 range (callers then take a
    route that needs no such promise).  No floating-point warning (a sum of
    squares by np.dot warned on huge finite weights).  Python floats up to
    64 weights: ~0.7-1.2 us, half of np.isfinite's time there."""
    if w.size <= 64:
        return math.isfinite(sum(w.ravel().tolist()))
    return bool(np.isfinite(w).all())


def _pad_safe(w, b):
    """Adding w * 0 for a padding tap leaves every sum bit for bit unchanged:
    finite weights and no bias of -0.0 (see fastconv/_dw_tiles.h)."""
    if not finite_weights(w):
        return False
    return not (b.size and np.any((b == 0) & np.signbit(b)))


def _run_dw3(plan, kern, x, w, b, out, nthreads, cache=None, fold=None):
    """DW3 (or its ROWS fallback); `fold`: a list that receives the largest
    finite |x| found by the band copy (nothing from the fallback)."""
    c = plan.consts
    if not _pad_safe(w, b):
        path, rc = c["fallback"]
        _run_rows(EnginePlan(path, plan.oshape, plan.level, plan.relu, plan.accumulate, rc),
                  kern, x, w, b, out, nthreads, cache)
        return
    H, W = c["x5"][3:]
    P = c["planes"]
    OH = plan.oshape[-2] if len(plan.oshape) > 2 else 1
    band = c["band"]
    mx = kern.dw3_correlate(x.reshape(P, H, W), w.reshape(w.shape[0], 9), b,
                            out.reshape(P, OH, plan.oshape[-1]),
                            c["pl"][1], c["pl"][2], plan.relu,
                            team_size(nthreads, P * -(-OH // band), work=9 * out.size),
                            _dw3_streams(c, kern, out), band, fold is not None)
    if fold is not None:
        fold.append(mx)


def _run_filtt(plan, kern, x, w, b, out, nthreads, cache=None, fold=None):
    c = plan.consts
    x5 = x.reshape(c["x5"])
    o5 = out.reshape(out.shape[:2] + _pad3(out.shape[2:], out.ndim - 2, 1))
    w5 = w.reshape(w.shape[:2] + c["k5"])
    classes = c.get("classes")
    # the tap classes skip padding products, exact only for pad-safe weights
    # (kept with the packing: a layer's cache tests them once)
    wpt, bpt, blk, safe = _packed(
        cache, plan, w5, b,
        lambda: _pack_filtt(kern, w5, b, _groups_of(x, w), c["pf"], nthreads)
        + (classes is not None and _pad_safe(w5, b),))
    flat, lazy = _lazy_or_filled(x5, c, kern, nthreads, fold)
    if lazy:
        lazy += c["k5"][:2] + c["d"][:2]
    mx = kern.filtt_correlate(flat, c["xstr"], c["toff"], wpt, blk, bpt, o5, c["Cg"],
                              c["s"][0], c["s"][1], c["s"][2], c["chunk"], c["tblk"],
                              c["group"], plan.relu, c["tile_index"],
                              team_size(nthreads, c["units"]), c["bpu"],
                              bool(lazy) and fold is not None, *lazy,
                              stream=c["stream"], blocks_outer=c.get("blocks_outer", False),
                              contiguous=c.get("contiguous", True), **_lazy_kw(c),
                              **(classes if classes is not None and safe else {}))
    if lazy and fold is not None:
        fold.append(mx)


class WeightCache:
    """Packed weights kept between calls while the weights are unchanged.

    A layer holds one (:class:`fastconv.layers.Conv2D` and friends) and
    passes it to :func:`correlate`: the register-tiled paths then pack the
    filter bank once, and later calls only compare the weights with a
    snapshot (a memory compare, a few percent of the packing) -- so
    in-place updates of the weights (``layer.kernel -= lr * grad``) are
    seen, never a stale packing.
    """

    __slots__ = ("_key", "_w", "_b", "_value")

    def __init__(self):
        self._key = None
        self._w = self._b = self._value = None

    def get(self, key, w, b, pack):
        """``pack()``'s value for weights `w` and bias `b` (None: not used)."""
        if (self._key == key and np.array_equal(self._w, w, equal_nan=True)
                and (b is None or np.array_equal(self._b, b, equal_nan=True))):
            return self._value
        value = pack()
        self._key, self._value = key, value
        self._w = w.copy()
        self._b = None if b is None else b.copy()
        return value


def _packed(cache, plan, w, b, pack):
    if cache is None:
        return pack()
    key = (plan.path, plan.consts.get("pmax"), plan.consts.get("pf"), w.shape, w.dtype.char)
    return cache.get(key, w, b, pack)


def _groups_of(x, w):
    return x.shape[1] // w.shape[1]


def _run_flat_or_filt(plan, kern, x, w, b, out, nthreads, cache=None, fold=None):
    c = plan.consts
    x5 = x.reshape(c["x5"])
    o5 = out.reshape(out.shape[:2] + _pad3(out.shape[2:], out.ndim - 2, 1))
    w5 = w.reshape(w.shape[:2] + c["k5"])
    wpack, blocks = _packed(cache, plan, w5, None,
                            lambda: _pack_blocks(w5, _groups_of(x, w), c["pmax"]))
    flat = _fill_source(x5, c, kern, nthreads, fold)
    if plan.path == "flat":
        kern.filt_correlate_flat(flat, c["xstr"], c["toff"], wpack, blocks, o5, b, c["Cg"],
                                 c["s"][0], c["chunk"], plan.relu,
                                 team_size(nthreads, c["units"]))
        return
    kern.filt_correlate(flat, c["xstr"], c["toff"], wpack, blocks, o5, b, c["Cg"], c["s"][0],
                        c["s"][1], c["copy"], plan.relu, c["narrow"],
                        team_size(nthreads, c["units"]))


def _run_generic(plan, kern, x, w, b, out, nthreads, cache=None):
    c = plan.consts
    _run3(kern, x, w, out, b, c["stride"], c["dilation"], c["pad_lo"], c["groups"],
          plan.accumulate, plan.relu, c["layout"], nthreads)


def _run_nosum(plan, kern, x, w, b, out, nthreads, cache=None):
    # no input channels (or an empty kernel): the sums are empty
    if plan.accumulate:
        return
    _fill_bias(out, b, plan.consts["layout"], len(plan.oshape) - 2)
    if plan.relu:
        np.maximum(out, 0, out=out)


def _run_pointwise(plan, kern, x, w, b, out, nthreads, cache=None):
    N, C = x.shape[:2]
    L = x.size // max(1, N * C)
    _run(plan.sub, kern, x.reshape(N, C, L), w.reshape(w.shape[0], w.shape[1], 1),
         b, out.reshape(out.shape[0], out.shape[1], L), nthreads, cache)


def _run_cl_single(plan, kern, x, w, b, out, nthreads, cache=None):
    # one input and one output channel: both layouts are the same memory,
    # and the channels-first kernel vectorises along the spatial rows.
    xs = x.reshape((x.shape[0], 1) + x.shape[1:-1])
    ws = w.reshape((1, 1) + w.shape[:-2])
    os_ = out.reshape((out.shape[0], 1) + out.shape[1:-1])
    _run(plan.sub, kern, xs, ws, b, os_, nthreads, cache)


def _run_cl_tiled(plan, kern, x, w, b, out, nthreads, cache=None):
    # many channels: run the tiled channels-first path on transposed copies
    # (the transposes cost a small fraction of the arithmetic).
    rank = x.ndim - 2
    xt = np.ascontiguousarray(x.transpose((0, rank + 1) + tuple(range(1, rank + 1))))
    wt = np.ascontiguousarray(w.transpose((rank + 1, rank) + tuple(range(rank))))
    ot = np.empty((out.shape[0], out.shape[-1]) + out.shape[1:-1], dtype=out.dtype)
    _run(plan.sub, kern, xt, wt, b, ot, nthreads, cache)
    out[...] = ot.transpose((0,) + tuple(range(2, rank + 2)) + (1,))


def _run_rank_n(plan, kern, x, w, b, out, nthreads, cache=None):
    """Rank > 3: decompose the leading (rank - 3) spatial axes."""
    c = plan.consts
    stride, dilation, pad_lo, layout = c["stride"], c["dilation"], c["pad_lo"], c["layout"]
    rank = len(stride)
    lead = rank - 3
    sp_axis0, k_axis0 = (2, 2) if layout == "channels_first" else (1, 0)
    if not plan.accumulate:
        _fill_bias(out, b, layout, rank)
    in_lead = x.shape[sp_axis0:sp_axis0 + lead]
    out_lead = out.shape[sp_axis0:sp_axis0 + lead]
    k_lead = w.shape[k_axis0:k_axis0 + lead]
    empty = np.zeros(0, dtype=out.dtype)
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
                  pad_lo[lead:], c["groups"], True, False, layout, nthreads)
        out[oidx] = osub
    if plan.relu:
        np.maximum(out, 0, out=out)


_RUNNERS = {
    "empty": lambda *args: None,
    "nosum": _run_nosum,
    "rows": _run_rows,
    "rows_padded": _run_rows,
    "dw3": _run_dw3,
    "filtt": _run_filtt,
    "flat": _run_flat_or_filt,
    "filt": _run_flat_or_filt,
    "pointwise": _run_pointwise,
    "cl_single": _run_cl_single,
    "cl_tiled": _run_cl_tiled,
    "generic": _run_generic,
    "rank_n": _run_rank_n,
}


def _contiguous_for(plan, x):
    """`x` as `plan`'s runner reads it: any view for the lazy padded copies
    of the ROWS and FILTT drivers (they read x through its strides: the
    phase of a stride that _reduce_geometry keeps costs no copy of its
    own), else C-contiguous."""
    if plan.path in ("rows_padded", "filtt") and plan.consts.get("lazy"):
        return x
    return np.ascontiguousarray(x)


def _run(plan, kern, x, w, b, out, nthreads, cache=None):
    _RUNNERS[plan.path](plan, kern, _contiguous_for(plan, x), w, b, out, nthreads, cache)


def plan_correlate(x_shape, w_shape, dtype, *, stride, dilation, pads, groups=1, relu=False,
                   layout="channels_first", accumulate=False, level=None, force=None):
    """Decide how the engine runs one geometry (pure; shapes only).

    Parameters
    ----------
    x_shape, w_shape : tuple of int
        Shapes of the (validated) input and filter bank.
    dtype : dtype
        ``float32``, ``float64`` or ``uint64``.
    stride, dilation, pads, groups, relu, layout, accumulate
        As for :func:`correlate`.
    level : str or None
        SIMD level (default: the dispatched one).
    force : dict or None
        Tests: ``{'generic': True}`` takes the generic kernel;
        ``{'flat': bool}``, ``{'filtt': bool}`` force or forbid those tiled
        drivers where they apply; ``{'flat_chunk': int}`` sets their chunk;
        ``{'tile': name}`` runs one registry tile (its driver; FILT: blocks
        of at most its filters); ``{'filtt_taps': int, 'filtt_group': int}``
        set the FILTT tap block and tiles per group, ``{'filtt_bpu': int}``
        its filter blocks per unit, ``{'stream': bool}`` the non-temporal
        stores of the FILTT and DW3 drivers (default: FILTT outputs of
        ``_FILTT_STREAM_BYTES`` and more; DW3 outputs of
        ``_DW3_STREAM_BYTES`` and more where ``kern.dw_stream_preferred()``);
        ``{'slide': False}`` makes the ROWS driver run its tap-by-tap tiles
        instead of the SLIDE tiles, ``{'slide_wide': bool}`` picks the
        512-bit or the level's own SLIDE tile (AVX-512 builds).

    Returns
    -------
    EnginePlan
    """
    env = os.environ.get("FASTCONV_SLIDE_WIDTH", "").strip()
    if env in ("256", "512") and "slide_wide" not in (force or {}):
        force = dict(force or {}, slide_wide=env == "512")   # (part of the cache key)
    key = (tuple(x_shape), tuple(w_shape), np.dtype(dtype).char, tuple(stride),
           tuple(dilation), tuple(tuple(p) for p in pads), int(groups), bool(relu), layout,
           bool(accumulate), level or _dispatch.LEVEL,
           tuple(sorted((force or {}).items())))
    return _plan_cached(key)


@functools.lru_cache(maxsize=256)
def _plan_cached(key):
    (x_shape, w_shape, dchar, stride, dilation, pads, groups, relu, layout, accumulate,
     level, force) = key
    force = dict(force)
    kern = _dispatch.get_kernels(level)
    rank = len(stride)
    oshape = output_shape(x_shape, w_shape, stride, dilation, pads, groups, layout)
    base = dict(stride=stride, dilation=dilation, pad_lo=tuple(p[0] for p in pads),
                groups=groups, layout=layout)

    def plan(path, consts=base, sub=None):
        return EnginePlan(path, oshape, level, relu, accumulate, consts, sub)

    if math.prod(oshape) == 0:
        return plan("empty")
    nout = oshape[1 if layout == "channels_first" else -1]
    if math.prod(w_shape) // max(1, nout) == 0:
        return plan("nosum")
    tiled_ok = not accumulate and rank <= 3 and not force.get("generic")
    if layout == "channels_last" and w_shape[-2] == 1 and w_shape[-1] == 1 and groups == 1:
        sub = _plan_cached(((x_shape[0], 1) + x_shape[1:-1], (1, 1) + w_shape[:-2], dchar,
                            stride, dilation, pads, 1, relu, "channels_first", accumulate,
                            level, key[-1]))
        return plan("cl_single", sub=sub)
    if tiled_ok and (layout == "channels_first" or dchar in "fd"):
        if layout == "channels_first":
            xs, ws = x_shape, w_shape
        else:
            xs = (x_shape[0], x_shape[-1]) + x_shape[1:-1]
            ws = (w_shape[-1], w_shape[-2]) + w_shape[:rank]
        if (all(k == 1 for k in ws[2:]) and all(v == 1 for v in stride)
                and not any(p[0] or p[1] for p in pads) and rank > 1):
            # pointwise: the spatial axes are one long row
            L = math.prod(xs[2:])
            sub = _plan_cached(((xs[0], xs[1], L), (ws[0], ws[1], 1), dchar, (1,), (1,),
                                ((0, 0),), groups, relu, "channels_first", False, level,
                                key[-1]))
            path = "pointwise"
        else:
            tiled = _plan_tiled(kern, xs, ws, dchar, stride, dilation, pads, groups,
                                force)
            if tiled is not None:
                _copy_sizes(tiled[1])
            sub = None if tiled is None else plan(*tiled)
            path = None if tiled is None else "tiled"
        if sub is not None and sub.path != "generic":
            if layout == "channels_first":
                return sub if path == "tiled" else plan("pointwise", sub=sub)
            if not (w_shape[-2] == 1 and w_shape[-1] == groups):
                inner = sub if path == "tiled" else plan("pointwise", sub=sub)
                return plan("cl_tiled", sub=inner)
    return plan("generic" if rank <= 3 else "rank_n")


def correlate(x, w, *, stride, dilation, pads, groups=1, bias=None, relu=False,
              layout="channels_first", nthreads=1, out=None, accumulate=False, level=None,
              plan=None, force=None, weight_cache=None):
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
        The call's thread budget (``fastconv._threads.resolve_workers``);
        each parallel region takes ``fastconv._threads.team_size`` of it.
    out : ndarray or None
        C-contiguous output of the right shape and dtype, or None to allocate.
    accumulate : bool
        Add into `out` instead of overwriting it (bias is not added again).
    level : str or None
        Force a SIMD level (tests); default is the dispatched one.
    plan : EnginePlan or None
        A plan from :func:`plan_correlate` for these shapes (default: planned
        here, cached by geometry).
    force : dict or None
        Passed to :func:`plan_correlate` (tests).
    weight_cache : WeightCache or None
        Keeps the packed filter bank between calls (layers).

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
    levels differ by rounding only (see docs/user_guide.rst).  Geometry is
    taken by what the output reads: an axis with one output position has no
    stride, a one-tap axis no dilation, and unread input is cropped
    (``_reduce_geometry``), so nothing is sized by a stride, dilation or
    padding the output never uses.
    """
    dtype = np.result_type(x.dtype, w.dtype)
    x = np.ascontiguousarray(x, dtype=dtype)
    w = np.ascontiguousarray(w, dtype=dtype)
    if out is None:
        accumulate = False
    level = level or _dispatch.LEVEL
    if plan is None and force is None:
        # shapes only: once per geometry (crop, reduced geometry, plan)
        crop, stride, dilation, pads, plan = _geometry_plan(
            x.shape, w.shape, dtype, tuple(stride), tuple(dilation),
            tuple(tuple(p) for p in pads), groups, relu, layout, accumulate, level)
        if crop is not None:
            x = x[crop]
    elif plan is None:
        crop, stride, dilation, pads, _ = _kept_reduction(x.shape, w.shape, stride, dilation,
                                                          pads, groups, layout)
        if crop is not None:
            x = x[crop]

    def replan(lvl):
        return plan_correlate(x.shape, w.shape, dtype, stride=stride, dilation=dilation,
                              pads=pads, groups=groups, relu=relu, layout=layout,
                              accumulate=accumulate, level=lvl, force=force)
    fold_mw = None      # the run does the guard's scan of x (max |w| > 1)
    if (_UNFUSED_FALLBACK[0] and dtype.char in "fd" and level != "baseline"
            and x.size and w.size):

        def folding(mw):
            p0 = plan if plan is not None else replan(level)
            return p0 if (p0.level == level and _folds_guard(p0, w, bias, dtype)) else None
        fold_mw, p0, overflow = _overflow_guard(_dispatch.get_kernels(level), x, w, nthreads,
                                                None if accumulate else folding)
        if fold_mw is not None:
            plan = p0
        elif overflow:
            level = "baseline"          # see Notes: unfused arithmetic, SciPy's NaN/inf
            plan = None
    if plan is None:
        plan = replan(level)
    if out is None:
        out = _new_output(plan, dtype)
    if plan.path == "empty":
        return out
    b = (np.zeros(0, dtype=dtype) if bias is None
         else np.ascontiguousarray(bias, dtype=dtype).reshape(-1))
    if not _team_run(plan, x, w, b, out, nthreads, weight_cache, fold_mw, layout):
        plan = replan("baseline")       # see Notes; every output is rewritten
        _team_run(plan, x, w, b, out, nthreads, weight_cache, None, layout)
    return out


def _overflow_guard(kern, x, w, nthreads, folding):
    """The overflow guard of a run on fused kernels (see :func:`correlate`'s
    Notes): ``(fold_mw, plan, overflow)``.  Where some ``|w| > 1`` and `x` is
    large, ``folding(mw)`` gives the plan to run if it finds max ``|x|``
    while copying x (:func:`_folds_guard`), else None; with such a plan the
    guard is left to the run (``fold_mw`` = max ``|w|``, see
    :func:`_team_run`).  Otherwise `x` is scanned now and `overflow` says
    whether some finite product could round to infinity.  `folding` None:
    never fold."""
    if folding is not None and _FOLD_GUARD[0] and x.size > _SERIAL_SCAN:
        mw = _max_finite_abs(kern, w, 1)
        if mw > 1.0:
            p0 = folding(mw)
            if p0 is not None:
                return mw, p0, False
    return None, None, products_may_overflow(kern, x, w, nthreads)


def _team_run(plan, x, w, b, out, nthreads, weight_cache, fold_mw, layout):
    """Run `plan` into `out` on a team sized for its work.  With `fold_mw`
    (see :func:`_overflow_guard`) returns False when the run found that a
    finite product could overflow (`out` must then be rewritten on the
    baseline kernels), else True."""
    # small problems: a parallel region costs more than it saves
    nout = plan.oshape[1 if layout == "channels_first" else -1]
    work = out.size * (w.size // max(1, nout))
    skipped = nthreads > 1 and not worth_waking(work)
    if skipped:
        nthreads = 1
    ok = True
    with running():
        if fold_mw is not None:
            # every input row passes through the copy, which returns the
            # largest finite |x|: the guard without a scan of its own
            mx = _run_folded(plan, x, w, b, out, nthreads, weight_cache)
            ok = mx is not None and mx * fold_mw < _HALF_MAX[x.dtype.char]
        else:
            _run(plan, _dispatch.get_kernels(plan.level), x, w, b, out, nthreads,
                 weight_cache)
    if nthreads > 1:
        team_used()
    elif skipped:
        team_skipped(work)
    return ok


def _folds_guard(plan, w, bias, dtype):
    """True when running `plan` reads all of x and returns its largest
    finite |x| (:func:`_run_folded`): the DW3 bands (pad-safe weights: else
    its ROWS fallback runs), the stride-1 padded copy of the tiled paths,
    and the in-place ROWS path (each unit scans the input rows it owns)."""
    if plan.path == "rows":
        return True
    if plan.path == "dw3":
        bb = (_NO_BIAS[dtype.char] if bias is None
              else np.ascontiguousarray(bias, dtype=dtype).reshape(-1))
        return _pad_safe(w, bb)
    return plan.path in _FOLD_PATHS and _copy_folds(plan.consts)


def _run_folded(plan, x, w, b, out, nthreads, weight_cache):
    """Run a plan of :func:`_folds_guard`; returns the largest finite |x|
    its copy found (None when the copy did not run)."""
    got = []
    _RUNNERS[plan.path](plan, _dispatch.get_kernels(plan.level), _contiguous_for(plan, x), w,
                        b, out, nthreads, weight_cache, fold=got)
    return got[0] if got else None


_NO_BIAS = {c: np.zeros(0, dtype=c) for c in "fd"}
for _b in _NO_BIAS.values():
    _b.setflags(write=False)


def plan_small(x_shape, w_shape, dtype, *, stride, dilation, pads, groups=1, relu=False,
               layout="channels_first"):
    """The plan :func:`correlate` makes for a small call, or None.

    Small: float32/float64, too little work for a second thread
    (:func:`fastconv._threads.worth_threads`) and a geometry that
    ``_reduce_geometry`` keeps as it is.  Such a call can skip
    :func:`correlate`'s per-call set-up: the front-ends cache the plan and
    run it with :func:`run_small`."""
    dchar = np.dtype(dtype).char
    if dchar not in "fd":
        return None
    rank = len(stride)
    oshape = output_shape(x_shape, w_shape, stride, dilation, pads, groups, layout)
    cf = layout == "channels_first"
    nout = oshape[1 if cf else -1]
    if worth_threads(math.prod(oshape) * (math.prod(w_shape) // max(1, nout))):
        return None
    ksp = w_shape[2:] if cf else w_shape[:rank]
    osp = oshape[2:] if cf else oshape[1:-1]
    xsp = x_shape[2:] if cf else x_shape[1:-1]
    if any((o == 1 and s > 1) or (k == 1 and d > 1) or _one_phase(n, k, o, s, d, p[0])
           for n, o, k, s, d, p in zip(xsp, osp, ksp, stride, dilation, pads)):
        return None
    return plan_correlate(x_shape, w_shape, dchar, stride=stride, dilation=dilation,
                          pads=pads, groups=groups, relu=relu, layout=layout)


def run_plain(plan, x, w, nthreads):
    """Run a :func:`plan_correlate` plan of one input and one filter channel
    (no bias, no ReLU, channels first) made for the dispatched level, on up
    to `nthreads` threads: :func:`correlate`'s run without its per-call
    argument handling, for front-ends that cache the plan per geometry.

    `x` and `w` are C-contiguous arrays of the plan's shapes and dtype
    (float32 or float64).  Returns the output, or None when the overflow
    guard wants the baseline kernels (the caller then takes the general
    route, :func:`correlate`)."""
    if plan.path == "empty" or not x.size or not w.size:
        return None
    kern = _dispatch.get_kernels(plan.level)
    b = _NO_BIAS[x.dtype.char]
    fold_mw = None
    if _UNFUSED_FALLBACK[0] and plan.level != "baseline":
        fold_mw, _, overflow = _overflow_guard(
            kern, x, w, nthreads,
            lambda mw: plan if _folds_guard(plan, w, None, x.dtype) else None)
        if overflow:
            return None
    out = _new_output(plan, x.dtype)
    if not _team_run(plan, x, w, b, out, nthreads, None, fold_mw, "channels_first"):
        return None
    return out


def run_small(plan, x, w, bias=None, weight_cache=None):
    """Run a :func:`plan_small` plan on one thread.

    `x` and `w` are C-contiguous arrays of the plan's shapes and dtype,
    `bias` None or a contiguous ``(F,)`` array of that dtype.  Returns the
    output, or None when the overflow guard wants the baseline kernels
    (the caller then takes the general route, :func:`correlate`)."""
    kern = _dispatch.get_kernels(plan.level)
    if (_UNFUSED_FALLBACK[0] and plan.level != "baseline" and x.size and w.size
            and products_may_overflow(kern, x, w, 1)):
        return None
    out = np.empty(plan.oshape, dtype=x.dtype)
    if plan.path != "empty":
        b = _NO_BIAS[x.dtype.char] if bias is None else bias
        _run(plan, kern, x, w, b, out, 1, weight_cache)
    return out
