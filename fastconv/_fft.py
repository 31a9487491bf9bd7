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
import numbers
import operator

import numpy as np
import scipy.fft as sp_fft

from fastconv._scipy_compat import TypeValueError

_MODES = ("full", "same", "valid")
# Below this many points scipy.fft's thread pool costs more than it saves
# (64 x 64 images: 92 us on one thread, 171 us on two, dev machine).
SMALL_FFT_POINTS = 1 << 16


def check_mode(mode, fft=False):
    """SciPy's texts: fftconvolve/oaconvolve say "acceptable ...", the others
    "Acceptable ..."; both name the value received."""
    if not isinstance(mode, str) or mode not in _MODES:
        head = "acceptable" if fft else "Acceptable"
        raise ValueError(f"{head} mode flags are 'valid', 'same', or 'full', not mode={mode}")
    return mode


def normalize_axes(axes, ndim):
    """SciPy's FFT axes rules: int or sequence of ints, negatives wrap."""
    if isinstance(axes, numbers.Number):
        axes = (axes,)
    try:
        axes = [operator.index(a) for a in axes]
    except TypeError:
        raise TypeValueError("axes must be a scalar or iterable of integers") from None
    axes = [a + ndim if a < 0 else a for a in axes]
    if any(a >= ndim or a < 0 for a in axes):
        raise ValueError("axes exceeds dimensionality of input")
    if len(set(axes)) != len(axes):
        raise ValueError("all axes must be unique")
    return axes


def swap_needed(mode, s1, s2, axes=None):
    """SciPy's rule: in 'valid' mode the larger input must come first."""
    if mode != "valid" or not s1:
        return False
    if axes is None:
        axes = range(len(s1))
    ok1 = all(s1[i] >= s2[i] for i in axes)
    ok2 = all(s2[i] >= s1[i] for i in axes)
    if not (ok1 or ok2):
        raise ValueError("For 'valid' mode, one must be at least as large as the other "
                         "in every dimension")
    return not ok1


def freq_axes(in1, in2, mode, axes):
    """Resolve `axes` like ``scipy.signal.fftconvolve``.

    Returns ``(in1, in2, axes, swapped)``: the convolved axes exclude
    those where either input has length 1 (they broadcast), the other axes
    must broadcast, and the inputs are swapped for 'valid' if needed.
    """
    s1, s2 = in1.shape, in2.shape
    if axes is None:
        axes = list(range(in1.ndim))
    else:
        axes = normalize_axes(axes, in1.ndim)
        if not axes:
            raise ValueError("when provided, axes cannot be empty")
    axes = [a for a in axes if s1[a] != 1 and s2[a] != 1]
    if not all(s1[a] == s2[a] or s1[a] == 1 or s2[a] == 1
               for a in range(in1.ndim) if a not in axes):
        raise ValueError(f"incompatible shapes for in1 and in2: {s1} and {s2}")
    swapped = swap_needed(mode, s1, s2, axes=axes)
    if swapped:
        in1, in2 = in2, in1
    return in1, in2, axes, swapped


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
        if points < SMALL_FFT_POINTS:
            nthreads = 1
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
# fastconv._scipy_compat): single-thread scipy.fft timings of fftconvolve
# (1-D to 3-D, float32/float64) and of overlap_add (1-D), within a factor
# 0.35..1.4 of the measurements.

FFT_CALL = 7.0e-5       # includes the front-end's planning
FFT_NLOGN = {4: 5.1e-10, 8: 8.8e-10}    # per N log2 N of the padded shape (real)
FFT_POINT = {4: 6.5e-10, 8: 3.0e-10}    # per point of the padded shape
OA_CALL = 8.0e-5
OA_POINT = {4: 5.2e-9, 8: 8.5e-9}       # per point of all the blocks (1-D blocking; 2**22 samples)
FFT_THREAD_GAIN = 1.1                   # scipy.fft over batches, 2 threads (1024**2: 1.12x)


def _fft_parallel(n_axes, batch, nthreads, points):
    """scipy.fft threads split batches of 1-D transforms; a single 1-D
    transform runs on one thread."""
    if nthreads <= 1 or (n_axes <= 1 and batch <= 1):
        return 1.0
    if points < SMALL_FFT_POINTS:
        return 1.0
    return FFT_THREAD_GAIN


def fft_cost(s1, s2, axes, itemsize, complex_result, nthreads):
    """Estimated seconds of :func:`fftconvolve` for these shapes."""
    shape = []
    batch = 1
    for i in range(len(s1)):
        if i in axes:
            shape.append(sp_fft.next_fast_len(s1[i] + s2[i] - 1, not complex_result))
        else:
            batch *= max(s1[i], s2[i])
    n = float(np.prod(shape)) if shape else 1.0
    size = 8 if itemsize > 4 else 4
    work = batch * (FFT_NLOGN[size] * n * math.log2(max(n, 2)) + FFT_POINT[size] * n)
    if complex_result:
        work *= 2
    return FFT_CALL + work / _fft_parallel(len(shape), batch, nthreads, n * batch)


def oa_cost(s1, s2, axes, itemsize, complex_result, nthreads):
    """Estimated seconds of :func:`overlap_add`; inf unless exactly one axis
    is cut into blocks (blocking several axes makes many tiny transforms,
    slower than one big transform in every case measured)."""
    plan = oa_plan(s1, s2, axes, not complex_result)
    blocked = [a for a in axes if plan[a] is not None]
    if len(blocked) != 1:
        return math.inf
    a = blocked[0]
    B, P, _ = plan[a]
    nb = -(-max(s1[a], s2[a]) // P)
    points = nb * B
    batch = 1
    for i in range(len(s1)):
        if i == a:
            continue
        if i in axes:
            points *= sp_fft.next_fast_len(s1[i] + s2[i] - 1, not complex_result)
        else:
            batch *= max(s1[i], s2[i])
    size = 8 if itemsize > 4 else 4
    work = batch * OA_POINT[size] * points * (2 if complex_result else 1)
    return OA_CALL + work / _fft_parallel(2, batch * nb, nthreads, points * batch)
