"""FFT convolution through ``scipy.fft`` (SciPy's ``fftconvolve``/``oaconvolve``
semantics), with a thread count passed to every transform.

* :func:`fftconvolve` - one transform of the whole padded problem
  (``rfftn``/``irfftn`` for real data, ``fftn``/``ifftn`` for complex; sizes
  from ``scipy.fft.next_fast_len``).
* :func:`oaconvolve` - overlap-add: the longer operand is cut into blocks
  along every axis where that pays, all blocks are transformed in one
  batched call, multiplied by the shorter operand's spectrum and added back
  with their overlaps.
* :func:`fft_cost` / :func:`oa_cost` - time estimates for the planner
  (constants fitted on the development machine, see
  ``fastconv.signal.choose_conv_method``).

Axis handling, input swapping for ``'valid'`` and the dtype of the result
follow SciPy 1.17 exactly; the caller has already resolved `workers`.
"""

import functools
import math

import numpy as np
import scipy.fft as sp_fft

from fastconv._scipy_args import freq_axes
from fastconv._threads import team_size

# Below this many points scipy.fft's thread pool costs more than it saves
# (64 x 64 images: 92 us on one thread, 171 us on two, dev machine).
SMALL_FFT_POINTS = 1 << 16


def _prepare(a):
    """scipy.fft input: anything not floating or complex becomes float64."""
    if a.dtype.kind not in "fc":
        return a.astype(np.float64)
    return a


def _centered(arr, shape):
    start = [(n - m) // 2 for n, m in zip(arr.shape, shape)]
    return arr[tuple(slice(s, s + m) for s, m in zip(start, shape))]


def apply_mode(ret, s1, s2, mode, axes):
    """Cut the 'full' result to `mode` (always a fresh C-contiguous array)."""
    if mode == "full":
        return ret.copy()
    if mode == "same":
        return _centered(ret, s1).copy()
    shape = [s1[a] - s2[a] + 1 if a in axes else ret.shape[a] for a in range(ret.ndim)]
    return _centered(ret, shape).copy()


def _transforms(complex_result):
    if complex_result:
        return sp_fft.fftn, sp_fft.ifftn
    return sp_fft.rfftn, sp_fft.irfftn


def spectral_product(in1, in2, axes, fshape, nthreads):
    """Inverse transform of the product of the two spectra (length `fshape`)."""
    complex_result = in1.dtype.kind == "c" or in2.dtype.kind == "c"
    fwd, inv = _transforms(complex_result)
    if nthreads > 1:
        points = math.prod(fshape)
        for ax in range(in1.ndim):
            if ax not in axes:
                points *= max(in1.shape[ax], in2.shape[ax])
        # one unit of parallel work per SMALL_FFT_POINTS points
        nthreads = team_size(nthreads, points // SMALL_FFT_POINTS)
    in1 = _prepare(in1)
    in2 = _prepare(in2)
    sp1 = fwd(in1, fshape, axes=axes, workers=nthreads)
    sp2 = fwd(in2, fshape, axes=axes, workers=nthreads)
    if (sp1.shape == np.broadcast_shapes(sp1.shape, sp2.shape)
            and sp1.dtype == np.result_type(sp1.dtype, sp2.dtype)):
        sp1 *= sp2      # in place only when it keeps the wider dtype (SciPy's result type)
    else:
        sp1 = sp1 * sp2
    del sp2
    return inv(sp1, fshape, axes=axes, workers=nthreads)


def _trivial_cases(in1, in2):
    """SciPy's results for scalars and empty inputs, its error for mismatched
    ranks; None when the inputs need an FFT."""
    if in1.ndim == in2.ndim == 0:
        return in1 * in2
    if in1.ndim != in2.ndim:
        raise ValueError("in1 and in2 should have the same dimensionality")
    if in1.size == 0 or in2.size == 0:
        return np.asarray([])
    return None


def fftconvolve(in1, in2, mode, axes, nthreads):
    """``scipy.signal.fftconvolve`` (arrays already validated as ndarrays)."""
    trivial = _trivial_cases(in1, in2)
    if trivial is not None:
        return trivial
    in1, in2, axes, _ = freq_axes(in1, in2, mode, axes)
    s1, s2 = in1.shape, in2.shape
    shape = [s1[i] + s2[i] - 1 if i in axes else max(s1[i], s2[i])
             for i in range(in1.ndim)]
    if not axes:
        ret = in1 * in2
    else:
        complex_result = in1.dtype.kind == "c" or in2.dtype.kind == "c"
        fshape = [sp_fft.next_fast_len(shape[a], not complex_result) for a in axes]
        ret = spectral_product(in1, in2, axes, fshape, nthreads)
        ret = ret[tuple(slice(n) for n in shape)]
    return apply_mode(ret, s1, s2, mode, axes)


# --------------------------------------------------------------------------
# Overlap-add


@functools.lru_cache(maxsize=256)
def _block_len(n_long, k, real):
    """FFT block length minimising transform work per output sample.

    The work of one block of length B is about B log2 B and it yields
    B - k + 1 new samples; the candidates are fast lengths on a geometric
    grid from 2(k - 1) up.  Returns None when a single transform is as
    good (the block would cover the whole long axis).
    """
    if k <= 1 or 2 * k >= n_long:
        return None
    best, best_cost = None, math.inf
    b = max(8, 2 * (k - 1))
    while True:
        B = sp_fft.next_fast_len(b, real)
        cost = B * math.log2(B) / (B - k + 1)
        if cost < best_cost:
            best, best_cost = B, cost
        if B - k + 1 >= n_long:
            break
        b = int(b * 1.25) + 1
    if best - k + 1 >= n_long:
        return None
    return best


def oaconvolve(in1, in2, mode, axes, nthreads):
    """``scipy.signal.oaconvolve`` (arrays already validated as ndarrays)."""
    trivial = _trivial_cases(in1, in2)
    if trivial is not None:
        return trivial
    if in1.shape == in2.shape:
        return fftconvolve(in1, in2, mode, axes, nthreads)
    in1, in2, axes, _ = freq_axes(in1, in2, mode, axes)
    axes = sorted(axes)
    s1, s2 = in1.shape, in2.shape
    if not axes:
        return apply_mode(in1 * in2, s1, s2, mode, axes)
    ret = overlap_add(in1, in2, axes, nthreads)
    if ret is None:
        return fftconvolve(in1, in2, mode, axes, nthreads)
    return apply_mode(ret, s1, s2, mode, axes)


def oa_plan(s1, s2, axes, real):
    """Per convolved axis: (block length, step, long operand 0/1) or None."""
    plan = {}
    for a in axes:
        n1, n2 = s1[a], s2[a]
        long_ = 0 if n1 >= n2 else 1
        n_long, k = max(n1, n2), min(n1, n2)
        B = None if n1 == n2 else _block_len(n_long, k, real)
        plan[a] = None if B is None else (B, B - k + 1, long_)
    return plan


def overlap_add(in1, in2, axes, nthreads, plan=None):
    """Full convolution along `axes` by overlap-add; None if no axis blocks.

    Each blocked axis ``a`` of the long operand (length n) is zero-padded
    to ``nb * P`` and reshaped into ``(nb, P)`` (the short operand gets a
    block axis of size 1).  One batched transform of length B over every
    in-block axis, a broadcast product, one inverse transform; then each
    block's B outputs are laid out at offset ``j * P`` and the ``B - P``
    overlapping tail samples are added onto the next block's head.
    """
    complex_result = in1.dtype.kind == "c" or in2.dtype.kind == "c"
    s1, s2 = in1.shape, in2.shape
    if plan is None:
        plan = oa_plan(s1, s2, axes, not complex_result)
    if all(plan[a] is None for a in axes):
        return None
    ops = [in1, in2]
    full = {a: s1[a] + s2[a] - 1 for a in axes}
    # New layout: every original axis `a` becomes (block index, in-block)
    # = axes (2a, 2a + 1) in the reshaped arrays.
    for which in (0, 1):
        arr = ops[which]
        pad = []
        shape = []
        for a in range(arr.ndim):
            p = plan.get(a)
            if p is not None and p[2] == which:
                B, P, _ = p
                nb = -(-arr.shape[a] // P)
                pad.append((0, nb * P - arr.shape[a]))
                shape += [nb, P]
            else:
                pad.append((0, 0))
                shape += [1, arr.shape[a]]
        if any(hi for _, hi in pad):
            arr = np.pad(arr, pad)
        ops[which] = arr.reshape(shape)
    tf_axes = [2 * a + 1 for a in axes]
    fshape = []
    for a in axes:
        p = plan[a]
        if p is not None:
            fshape.append(p[0])
        else:
            fshape.append(sp_fft.next_fast_len(full[a], not complex_result))
    ret = spectral_product(ops[0], ops[1], tf_axes, fshape, nthreads)
    # Overlap-add along each blocked axis, then drop the block axes.
    for a in axes:
        p = plan[a]
        ax = 2 * a + 1
        if p is None:
            ret = np.take(ret, range(full[a]), axis=ax)
            continue
        B, P, _ = p
        ret = np.moveaxis(ret, (ax - 1, ax), (-2, -1))
        nb = ret.shape[-2]
        lead = ret.shape[:-2]
        acc = np.empty(lead + (nb + 1, P), dtype=ret.dtype)
        acc[..., :nb, :] = ret[..., :P]
        acc[..., nb, :] = 0
        tail = B - P  # = k - 1 <= P
        if tail:
            acc[..., 1:, :tail] += ret[..., P:]
        acc = acc.reshape(lead + ((nb + 1) * P,))
        ret = np.moveaxis(acc[..., None, :full[a]], (-2, -1), (ax - 1, ax))
    out_shape = [ret.shape[2 * a] * ret.shape[2 * a + 1] for a in range(in1.ndim)]
    return ret.reshape(out_shape)


# --------------------------------------------------------------------------
# Cost estimates (seconds), fitted like the engine's (see
# fastconv._cost): single-thread scipy.fft timings of fftconvolve
# (1-D to 3-D, float32/float64) and of overlap_add (1-D), within a factor
# 0.35..1.4 of the measurements.


