"""The one block-by-block plan behind every function of ``fastconv.dask``.

Every function here is, per convolved axis, a *valid* (strided) correlation of
the input extended at its true edges::

    P = pad(x, (p_lo, p_hi), boundary mode)        # dask.array.pad (or take)
    y[j] = sum_t w[t] * P[j*s + t*d],   t = 0 .. k-1
    reach r = d*(k - 1),  len(y) = floor((n + p_lo + p_hi - r - 1)/s) + 1

so each block of ``P`` needs ``r`` more samples than it owns: its halo.
The steps are all dask's:

1. the edges: :func:`dask.array.pad` with the matching ``np.pad`` mode (or,
   where a mode pads by more than ``dask.array.pad`` reproduces exactly, a
   :func:`dask.array.take` of the ``np.pad`` index), so boundary modes are
   applied once, at the edges of the whole array, never at chunk edges.
   Where the halo is the same on both sides (stride 1) and the overlap's own
   ``boundary`` is the same extension ('reflect' = np.pad 'symmetric',
   'nearest' = 'edge', 'periodic' = 'wrap', a constant), step 3 applies it
   instead (same numbers, a cheaper graph);
2. the chunks: ``P`` is rechunked so that its chunk borders are the input's
   (shifted by ``p_lo``; rounded down to a multiple of the stride ``s`` when
   ``s > 1``, so strided outputs line up across borders), merging any chunk
   smaller than the halo with its neighbour;
3. the halo: :func:`dask.array.overlap.overlap` with ``boundary='none'`` and
   the depth ``(d_lo, d_hi)``, ``d_lo + d_hi = r`` (``d_lo = min(p_lo, r)``
   at stride 1, so ``'same'`` outputs keep the input's chunks; ``(0, r)``
   with a stride);
4. the blocks: :func:`dask.array.map_blocks` calls the in-memory function on
   each extended block in ``'valid'`` form; every output element is computed
   by exactly one block.
"""

import functools
import math

import numpy as np
import dask
import dask.array as da
from dask.array.overlap import overlap as _overlap

from fastconv._threads import resolve_workers, usable_cpus

__all__ = []

#: np.pad modes dask.array.pad reproduces exactly up to this pad width
#: (measured: 'reflect' up to n - 1, 'symmetric' and 'wrap' up to n; 'edge'
#: and 'constant' any width).  Wider pads take the np.pad index instead.
_DA_PAD_LIMIT = {"reflect": lambda n: n - 1, "symmetric": lambda n: n,
                 "wrap": lambda n: n, "edge": lambda n: math.inf,
                 "constant": lambda n: math.inf}


def as_dask(x, name="input"):
    """A dask array for `x` (dask arrays unchanged; anything else one chunk)."""
    if isinstance(x, da.Array):
        if any(math.isnan(c) for c in x.shape):
            raise ValueError(f"{name} has unknown (nan) chunk sizes; call "
                             f"{name}.compute_chunk_sizes() first")
        return x
    return da.asarray(np.asarray(x))


class Operand:
    """A small operand (kernel, weight, bias) that every block needs.

    A NumPy operand and a dask operand alike become one graph key
    (``dask.delayed``; a dask array is assembled from its chunks there), which
    every block task depends on: a dask kernel is computed once per
    ``compute()``, not once per block, and a large NumPy kernel is not
    copied into every task.
    """

    def __init__(self, value, name):
        if isinstance(value, da.Array):
            if any(math.isnan(c) for c in value.shape):
                raise ValueError(f"{name} has unknown (nan) chunk sizes")
            self.shape = tuple(int(n) for n in value.shape)
            self.dtype = value.dtype
            # one task assembles the whole operand from its chunks
            self.delayed = dask.delayed(np.asarray, pure=True)(
                value, dask_key_name=f"fastconv-{name}-" + dask.base.tokenize(value))
            self.is_dask = True
        else:
            arr = np.asarray(value)
            self.shape = arr.shape
            self.dtype = arr.dtype
            self.delayed = dask.delayed(arr, pure=True, name=f"fastconv-{name}-"
                                        + dask.base.tokenize(arr))
            self.is_dask = False
        self.ndim = len(self.shape)

    def meta(self, fill=0):
        """A NumPy stand-in of the same shape and dtype (for validation)."""
        return np.full(self.shape, fill, dtype=self.dtype)


def block_workers(workers, nblocks):
    """The ``workers`` each block's call gets.

    ``None``: dask runs blocks in parallel, so every core is already busy
    with one block each once there are as many blocks as cores; each block
    then gets one thread.  With fewer blocks than cores, the cores are
    shared out: ``max(1, cores // nblocks)``.  An int is validated and
    passed through unchanged.
    """
    if workers is None:
        return max(1, usable_cpus() // max(1, nblocks))
    return resolve_workers(workers)


def _pad_axis(x, axis, lo, hi, mode, cval):
    """Extend `x` along `axis` by (lo, hi) with np.pad's `mode`, exactly."""
    if not (lo or hi):
        return x
    n = x.shape[axis]
    width = [(0, 0)] * x.ndim
    width[axis] = (lo, hi)
    if mode == "constant":
        return da.pad(x, width, mode="constant", constant_values=cval)
    if n == 0:
        raise ValueError(f"cannot extend an empty axis ({axis}) with mode {mode!r}")
    if max(lo, hi) <= _DA_PAD_LIMIT[mode](n):
        return da.pad(x, width, mode=mode)
    # wider than dask.array.pad reproduces: gather np.pad's own index
    index = np.pad(np.arange(n), (lo, hi), mode=mode)
    return da.take(x, index, axis=axis)


#: np.pad modes that dask.array.overlap's ``boundary`` reproduces exactly
#: (for a halo no longer than the axis, the same on both sides)
_DASK_BOUNDARY = {"symmetric": "reflect", "edge": "nearest", "wrap": "periodic"}


def _dask_boundary(p, n):
    """dask's ``boundary`` for this axis when it is exact here, else None."""
    if p.stride != 1 or p.lo != p.hi or p.lo + p.hi != p.reach or p.lo > n or n == 0:
        return None
    if p.mode == "constant":
        if isinstance(p.cval, (int, float, np.integer, np.floating)) and not isinstance(
                p.cval, bool):
            return p.cval
        return None
    return _DASK_BOUNDARY.get(p.mode)


def _borders(n_pad, inner, s, first_min, min_size, last_min):
    """Chunk sizes of an axis of length `n_pad`, near the `inner` borders.

    Borders are rounded down to multiples of `s`; a border is dropped when
    it would leave a chunk below its minimum (`first_min` for the first,
    `min_size` for the others, `last_min` for the last).
    """
    kept = [0]
    for b in inner:
        b = (b // s) * s
        need = first_min if len(kept) == 1 else min_size
        if b - kept[-1] >= need and n_pad - b >= min_size:
            kept.append(b)
    while len(kept) > 1 and n_pad - kept[-1] < last_min:
        kept.pop()
    kept.append(n_pad)
    return tuple(b - a for a, b in zip(kept[:-1], kept[1:]))


class AxisPlan:
    """One convolved axis: pads, boundary mode, reach and stride."""

    __slots__ = ("axis", "lo", "hi", "mode", "cval", "reach", "stride")

    def __init__(self, axis, lo, hi, reach, stride=1, mode="constant", cval=0):
        self.axis, self.lo, self.hi = axis, int(lo), int(hi)
        self.reach, self.stride = int(reach), int(stride)
        self.mode, self.cval = mode, cval


def halo_map(x, plans, block_func, dtype, *, token, other_chunks=None, workers=None,
             operands=None, **kwargs):
    """Run ``block_func(block, **operands, **kwargs)`` on halo-extended blocks.

    Parameters
    ----------
    x : dask.array.Array
        The input.
    plans : list of AxisPlan
        The convolved axes.  Every other axis is passed through block by
        block (unless `other_chunks` says otherwise).
    block_func : callable
        Gets one extended block and returns its ``'valid'`` result (the
        strided valid correlation along every planned axis).
    dtype : numpy dtype
        Of the result.
    token : str
        Prefix of the graph keys.
    other_chunks : dict, optional
        ``{axis: chunks}`` for unplanned axes whose length changes (the
        input must then be one chunk along them).
    workers : int or None
        See :func:`block_workers`; passed to `block_func` as ``workers``.
    operands : dict of Operand, optional
        Passed to `block_func` by keyword, as one graph key each.
    """
    other_chunks = other_chunks or {}
    by_axis = {p.axis: p for p in plans}
    for ax in other_chunks:
        if x.numblocks[ax] != 1:
            x = x.rechunk({ax: -1})
    orig_chunks = x.chunks
    fast = {p.axis: _dask_boundary(p, x.shape[p.axis]) for p in plans}
    fast = {ax: b for ax, b in fast.items() if b is not None}
    # 1. the true edges (axes whose mode dask's overlap reproduces exactly get
    #    it there, in step 3: cheaper than dask.array.pad)
    for p in plans:
        if p.axis not in fast:
            x = _pad_axis(x, p.axis, p.lo, p.hi, p.mode, p.cval)
    # 2. chunk borders (those of the unpadded input, shifted by p_lo)
    target, depth, boundary = [], {}, {}
    for ax in range(x.ndim):
        p = by_axis.get(ax)
        if p is None:
            target.append(x.chunks[ax])
            continue
        n_pad = x.shape[ax]
        r, s = p.reach, p.stride
        if ax in fast:
            h = p.lo
            target.append(_borders(n_pad, [int(b) for b in np.cumsum(orig_chunks[ax])[:-1]],
                                   1, max(h, 1), max(h, 1), max(h, 1)))
            if h:
                depth[ax], boundary[ax] = h, fast[ax]
            continue
        if n_pad < r + 1:   # pragma: no cover - the callers check the shape first
            raise ValueError(f"axis {ax}: the padded input ({n_pad}) is shorter than the "
                             f"kernel's reach + 1 ({r + 1})")
        d_lo = min(p.lo, r) if s == 1 else 0
        d_hi = r - d_lo
        inner = np.cumsum(orig_chunks[ax])[:-1] + p.lo
        chunks = _borders(n_pad, [int(b) for b in inner], s, first_min=max(d_lo + 1, d_hi),
                          min_size=max(d_lo, d_hi, 1), last_min=max(d_hi + 1, d_lo))
        target.append(chunks)
        if r and len(chunks) > 1:
            depth[ax] = (d_lo, d_hi) if d_lo != d_hi else d_lo
            boundary[ax] = "none"
    x = x.rechunk(tuple(target))
    # 3. the halo
    if depth:
        x = _overlap(x, depth={ax: depth.get(ax, 0) for ax in range(x.ndim)},
                     boundary={ax: boundary.get(ax, "none") for ax in range(x.ndim)},
                     allow_rechunk=False)
    # 4. the blocks: output chunk sizes, block by block
    out_chunks = []
    for ax in range(x.ndim):
        p = by_axis.get(ax)
        if p is None:
            out_chunks.append(other_chunks.get(ax, target[ax]))
            continue
        out_chunks.append(tuple((ext - p.reach - 1) // p.stride + 1 for ext in x.chunks[ax]))
    nblocks = math.prod(len(c) for c in out_chunks)
    kwargs["workers"] = block_workers(workers, nblocks)
    func = functools.partial(block_func, **kwargs)
    ops = {key: op.delayed for key, op in (operands or {}).items()}
    return da.map_blocks(func, x, chunks=tuple(out_chunks), dtype=dtype,
                         meta=np.empty((0,) * x.ndim, dtype=dtype), token=token, **ops)

