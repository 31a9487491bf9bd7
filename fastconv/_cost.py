"""Every estimate and every method decision of the SciPy-style front-ends.

Costs are seconds, fitted on the dev machine (the constants say how);
they only have to order the candidates correctly:

* the engine (:func:`engine_cost`), its operand order and inner axis
  (:func:`best_layout`) and the direct method (:func:`direct_cost`);
* the separable route (:func:`separable_cost`, :func:`priced_separable`);
* NumPy's 1-D loop (:func:`numpy_cost`);
* one FFT (:func:`fft_cost`) and overlap-add (:func:`oa_cost`);
* the decisions: :func:`choose_method` ('direct' or 'fft'),
  :func:`use_numpy` and :func:`fft_choice` ('fft' or overlap-add).

Only shapes are priced; where a decision needs the values (a NaN in an
operand, a rank-one kernel) it asks for them lazily, as late as possible.

Every decision that changes the numbers (method, operand order, inner
axis, separable route) is priced for the machine's thread count
(:data:`PRICED_THREADS`: what ``workers=None`` gives on an idle machine),
never for the call's ``workers`` or the machine's load, so results are
bitwise identical for every thread count.
"""

import functools
import math

import numpy as np
import scipy.signal as _ss

from fastconv import _dispatch, _separable
from fastconv._fft import (SMALL_FFT_POINTS, TILED_BACKEND, oa_plan, pruned_lengths,
                           rows_fft_takes, sp_fft, tiled_compute_dtype, tiled_plan)
from fastconv._separable import SeparablePlan, factorize, pass_geometry
from fastconv._threads import max_threads
from fastconv._scipy_args import conv_axes_windows, freq_axes, np_conv_ok

#: Threads every decision is priced for (see the module docstring).
PRICED_THREADS = max_threads

_UINT64 = np.dtype(np.uint64)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def compute_route(dtype):
    """How the direct method computes a result of `dtype`.

    Returns ``(route, compute_dtype)`` with route one of ``'real'``,
    ``'int'``, ``'complex'`` or ``'fallback'``.
    """
    dtype = np.dtype(dtype)
    kind = dtype.kind
    if kind in "biu":
        return "int", _UINT64
    if kind == "f":
        if dtype.itemsize <= 4:
            return "real", _F32
        if dtype.itemsize == 8:
            return "real", _F64
        return "fallback", dtype
    if kind == "c":
        if dtype.itemsize == 8:
            return "complex", np.dtype(np.complex64)
        if dtype.itemsize == 16:
            return "complex", np.dtype(np.complex128)
        return "fallback", dtype
    return "fallback", dtype


def _tri(m):
    return m * (m + 1) // 2 if m > 0 else 0


def _pairs_below(s, L, k):
    """Number of pairs 0 <= o < L, 0 <= t < k with o + t < s."""
    return _tri(s) - _tri(s - L) - _tri(s - k) + _tri(s - L - k)


def overlap_pairs(L, k, n, lo):
    """Pairs (output o < L, tap t < k) whose input index o + t - lo is in [0, n).

    This is how many multiply-adds one axis contributes to the engine's
    work: the engine clips the taps that fall into (virtual) padding.
    """
    return _pairs_below(lo + n, L, k) - _pairs_below(lo, L, k)


# Cost constants (seconds) of the engine, fitted by non-negative least
# squares (relative error) on single-thread timings of fastconv.convolve
# (direct) for float32/float64 1-D (2**10..2**19 samples, 3..511 taps), 2-D
# (64**2..1024**2, kernels 3**2..63**2) and 3-D (16**3..64**3, 3**3..7**3)
# in 'same' and 'full' modes, min of 5 runs, on the 2-core AVX-512 dev VM
# while other jobs shared it (fit within a factor 0.3..1.3 of the
# measurements; see fastconv.signal.choose_conv_method).  uint64 and
# complex from a few spot timings.  2-D/3-D rows cost 1.5x the 1-D rate
# per multiply-add (separate fits: 4.5e-11 vs 3.0e-11 s for float32).
ENGINE_CALL = 3.5e-5          # fixed cost of one call (front-end + engine set-up; 64x64 3x3: 38 us)


ENGINE_ROW_TAP = 5.0e-10      # one (output row, tap row, tap) inner loop


ENGINE_MAC = {"f4": 3.0e-11, "f8": 5.8e-11, "u8": 1.2e-10}   # per multiply-add, 1-D


ENGINE_MAC_ND = 1.5           # the same on 2-D/3-D rows (shorter, more tap rows)


# The multiply-adds' time by SIMD level, against the rates above (fitted on
# AVX2/AVX-512 builds).  The baseline level (x86-64 CPUs without AVX2: SSE2
# vectors, no FMA) runs the direct kernels 5-8x slower than AVX2 on the same
# CPU while the FFTs (pocketfft, the column FFT) slow down far less: priced
# as AVX2, 'auto' kept the direct method up to 10x past the crossover (AMD
# Zen 5, 2 threads, FASTCONV_SIMD=baseline: 2048^2 float32 15 x 15 direct
# 62 ms against the FFT's 11; 2**20 samples by 127 taps 16.2 ms against
# 1.8; 128^3 by 7^3 49.9 against the tiled route's 10.5).
ENGINE_MAC_LEVEL = {"baseline": 6.0}


ENGINE_OUT = {"f4": 2.9e-10, "f8": 5.6e-10, "u8": 5.6e-10}   # per output element


ENGINE_PAR_EFFICIENCY = 0.9   # speed-up per extra thread (not measurable now)


def engine_cost(spatial, n_out_other, kdtype, macs_scale=1, nthreads=1):
    """Estimated seconds for one engine call.

    The multiply-adds are counted densely (output length x kernel length
    per axis: the tiled kernels also multiply the zero padding they
    materialise); the inner-loop count uses only the taps that meet the
    input (what distinguishes the two operand orders of a degenerate
    problem).

    Parameters
    ----------
    spatial : list of (L, k, n, lo)
        Output length, kernel length, input length and low pad per spatial
        axis, the last one being the engine's contiguous inner axis.
    n_out_other : int
        Product of the batch, filter and group sizes.
    kdtype : str
        ``'f4'``, ``'f8'`` or ``'u8'``.
    macs_scale : int
        Real multiply-adds per product (4 for complex).
    nthreads : int
    """
    if not spatial:
        spatial = [(1, 1, 1, 0)]
    macs = n_out_other * macs_scale
    loops = n_out_other * macs_scale
    out = n_out_other
    rows = n_out_other
    for i, (L, k, n, lo) in enumerate(spatial):
        macs *= L * k
        out *= L
        if i < len(spatial) - 1:
            loops *= overlap_pairs(L, k, n, lo)
            rows *= L
        else:
            loops *= k
    # the engine's parallel unit is a block of output rows (a long single
    # row runs on one thread)
    units = max(1, rows // 4)
    par = 1 + (min(nthreads, units) - 1) * ENGINE_PAR_EFFICIENCY
    mac = (ENGINE_MAC[kdtype] * (ENGINE_MAC_ND if len(spatial) > 1 else 1.0)
           * ENGINE_MAC_LEVEL.get(_dispatch.kernels.simd_level(), 1.0))
    work = ENGINE_ROW_TAP * loops + mac * macs + ENGINE_OUT[kdtype] * out
    return ENGINE_CALL + work / par


def kernel_code(route, cdtype):
    """Cost-table key of the kernel a route runs ('u8', 'f4' or 'f8')."""
    if route == "int":
        return "u8"
    return "f4" if np.dtype(cdtype).itemsize in (4, 8) and np.dtype(cdtype).char in "fF" \
        else "f8"


def direct_cost(s1, s2, conv_axes, windows, result_dtype, operands=None,
                ceiling=None):
    """Estimated seconds of :func:`conv_window` (zero edges, best layout).

    A real single-channel problem of rank >= 2 whose kernel is rank one is
    priced as the separable route when :mod:`fastconv._separable` would take
    it; that needs the values: `operands` ``(a, b)`` (the arrays of shapes
    `s1`, `s2`; without them the full-kernel route is priced).  With a
    `ceiling` (seconds), the kernel is not tested when even the separable
    route would cost at least that much (the full-kernel price is returned:
    the caller's choice is the same).  The shapes are priced once per
    geometry (:func:`_direct_prices`); only the rank-one test runs per call.
    """
    full, sep = _direct_prices(tuple(s1), tuple(s2), tuple(conv_axes),
                               tuple(tuple(w) for w in windows), np.dtype(result_dtype))
    if sep is None or operands is None or not _separable.ENABLED:
        return full
    price, which, perm, kshape, cdtype = sep
    if ceiling is not None and price >= ceiling:
        return full
    k = operands[1] if which == "a" else operands[0]
    if k.dtype.kind != "f":
        return full
    # the kernel exactly as conv_window hands it to the engine
    kv = k.transpose(perm).reshape(kshape)[(slice(None, None, -1),) * len(kshape)]
    return price if factorize(kv, cdtype) is not None else full


@functools.lru_cache(maxsize=512)
def _direct_prices(s1, s2, conv_axes, windows, result_dtype):
    """(full-kernel price, separable candidate or None) of a geometry; the
    candidate is (price, which operand is the input, the kernel's axis
    order and shape as the engine sees it, compute dtype)."""
    route, cdtype = compute_route(result_dtype)
    if route == "fallback":
        return math.inf, None
    spatial = [ax for ax in conv_axes if s1[ax] > 1 and s2[ax] > 1]
    if not spatial:
        return ENGINE_OUT["f8"] * math.prod(max(n1, n2) for n1, n2 in zip(s1, s2)), None
    layout = best_layout(s1, s2, spatial, windows, route, cdtype, None)
    sep = None
    if route == "real" and len(spatial) >= 2:
        sep = _separable_candidate(s1, s2, spatial, windows, cdtype, layout)
    return layout[0], sep


def best_layout(s1, s2, spatial, windows, route, cdtype, orientation):
    """(cost, orientation, inner axis) minimising :func:`engine_cost`.

    Every operand order (unless fixed) and every choice of the spatial axis
    the engine runs along contiguously is priced; putting another axis
    innermost costs a transposed copy of the input and the output.
    """
    kcode = kernel_code(route, cdtype)
    scale = 4 if route == "complex" else 1
    other = 1
    for ax in range(len(s1)):
        if ax not in spatial:
            other *= max(s1[ax], s2[ax])
    best = (math.inf, "a", spatial[-1])
    whiches = ("a", "b") if orientation is None else (orientation,)
    inners = spatial if len(spatial) > 1 else spatial[-1:]
    # The usual case needs no search: one operand is the smaller on every
    # axis and the output rows are long.
    last = spatial[-1]
    if windows[last][1] >= 64:
        if all(s2[ax] <= s1[ax] for ax in spatial) and "a" in whiches:
            whiches, inners = ("a",), (last,)
        elif all(s1[ax] <= s2[ax] for ax in spatial) and "b" in whiches:
            whiches, inners = ("b",), (last,)
    for which in whiches:
        xs, ks = (s1, s2) if which == "a" else (s2, s1)
        for inner in inners:
            sp = []
            order = [ax for ax in spatial if ax != inner] + [inner]
            n_x = other
            n_out = other
            for ax in order:
                start, length = windows[ax]
                sp.append((length, ks[ax], xs[ax], ks[ax] - 1 - start))
                n_x *= xs[ax]
                n_out *= length
            cost = engine_cost(sp, other, kcode, scale, PRICED_THREADS())
            if inner != spatial[-1]:
                cost += ENGINE_OUT[kcode] * (n_x + n_out)
            if cost < best[0]:
                best = (cost, which, inner)
    return best


# Fixed cost (seconds) of one internal pass: a bare engine call on a tiny
# array (no front-end), 26 us, plus the rank-one test, ~20 us for a 9x9
# kernel, rounded up (dev VM, single thread).  The front-end's own
# ENGINE_CALL is paid once by either route.
PASS_CALL = 3.5e-5


def separable_cost(plan, kcode, nthreads):
    """Estimated seconds of the separable route of `plan` (engine model)."""
    # every engine_cost includes one ENGINE_CALL; the route pays one (the
    # front-end) plus PASS_CALL per engine call it makes
    calls = 1
    cost = 0.0
    for d, dims in plan.phase1_dims(plan.lead):
        geo = pass_geometry(dims, d, plan.klens[plan.first + 1 + d],
                             plan.pads[plan.first + 1 + d])
        cost += engine_cost(geo[4], geo[5], kcode, 1, nthreads) - ENGINE_CALL
        calls += plan.nblocks
    geo = pass_geometry(plan.final_dims(), plan.first, plan.klens[plan.first],
                         plan.pads[plan.first])
    cost += engine_cost(geo[4], geo[5], kcode, 1, nthreads)
    cost += calls * PASS_CALL
    # allocation / first touch of the intermediate
    cost += ENGINE_OUT[kcode] * plan.t_size
    return cost


def full_cost(n, spatial, klens, pads, kcode, nthreads):
    """Estimated seconds of the full-kernel engine call (same geometry)."""
    sp = [(s + lo + hi - k + 1, k, s, lo) for s, k, (lo, hi) in zip(spatial, klens, pads)]
    return engine_cost(sp, n, kcode, 1, nthreads)


FASTEST_MAC = 1.5e-11    # seconds per multiply-add of the fastest engine case (2 threads)


def worth_pricing(n, spatial, klens, pads):
    """False when the multiply-adds the route would save cannot pay for the
    extra engine call it makes (then neither the cost model nor the rank-one
    test is worth its ~20-40 us, e.g. any 3x3 kernel on a small image)."""
    out = n
    for s, k, (lo, hi) in zip(spatial, klens, pads):
        out *= max(0, s + lo + hi - k + 1)
    long_ = [k for k in klens if k > 1]
    saved = out * (math.prod(long_) - sum(long_))
    return len(long_) >= 2 and saved * FASTEST_MAC > PASS_CALL


def priced_separable(n, spatial, klens, pads, cdtype):
    """(plan, separable cost, full-kernel cost) when the route is cheaper by
    the cost model, else None (the one decision of both
    :func:`fastconv._direct.run_engine` and :func:`direct_cost`); cached per
    geometry."""
    return _priced_separable(int(n), tuple(int(v) for v in spatial),
                             tuple(int(v) for v in klens),
                             tuple((int(lo), int(hi)) for lo, hi in pads), np.dtype(cdtype))


@functools.lru_cache(maxsize=512)
def _priced_separable(n, spatial, klens, pads, cdtype):
    """The cached body of :func:`priced_separable`."""
    if not worth_pricing(n, spatial, klens, pads):
        return None
    plan = SeparablePlan(n, spatial, klens, pads)
    if not plan.ok:
        return None
    kcode = kernel_code("real", cdtype)
    cost = separable_cost(plan, kcode, PRICED_THREADS())
    full = full_cost(n, spatial, klens, pads, kcode, PRICED_THREADS())
    if cost >= full:
        return None
    return plan, cost, full


def _separable_candidate(s1, s2, spatial, windows, cdtype, layout):
    """The separable route as conv_window would run it, priced on shapes.

    Returns ``(price, which, perm, kshape, cdtype)`` -- the whole direct
    method's price with the route (the layout's transposed copies, if any,
    are paid either way), the engine input operand, and the transpose and
    shape that turn the other operand into the engine's kernel -- or None
    when the route would not be taken whatever the kernel.
    """
    _, which, inner = layout
    xs, ks = (s1, s2) if which == "a" else (s2, s1)
    nd = len(s1)
    if any(ks[ax] != 1 for ax in range(nd) if ax not in spatial):
        return None          # groups or filters: not single-channel
    order = [ax for ax in spatial if ax != inner] + [inner]
    n = 1
    for ax in range(nd):
        if ax not in spatial:
            n *= max(s1[ax], s2[ax])
    sp, kl, pads = [], [], []
    for ax in order:
        start, length = windows[ax]
        lo = ks[ax] - 1 - start
        hi = length + ks[ax] - 1 - xs[ax] - lo
        nx = xs[ax] - max(0, -lo) - max(0, -hi)
        if nx <= 0:
            return None
        sp.append(nx)
        kl.append(ks[ax])
        pads.append((max(lo, 0), max(hi, 0)))
    priced = priced_separable(n, sp, kl, pads, cdtype)
    if priced is None:
        return None
    _, cost, full = priced
    perm = tuple([ax for ax in range(nd) if ax not in spatial] + order)
    return layout[0] - full + cost, which, perm, tuple(ks[ax] for ax in order), cdtype


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


def fft_cost(s1, s2, axes, itemsize, complex_result, nthreads, mode="full"):
    """Estimated seconds of one transform of the problem: :func:`fftconvolve`
    (``mode='full'``) or the shortened transforms of
    :func:`fastconv._fft.pruned_convolve` for `mode`."""
    shape = list(pruned_lengths(tuple(s1), tuple(s2), tuple(axes), mode, not complex_result))
    batch = 1
    for i in range(len(s1)):
        if i not in axes:
            batch *= max(s1[i], s2[i])
    n = float(math.prod(shape))
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


# NumPy's 1-D loop (SciPy's own direct path in 1-D) computes each output as
# one dot product of the overlapping samples.  Kernels of up to 8 taps run
# NumPy's own loop (~0.2 ns a multiply-add); longer ones call BLAS once per
# output, which costs ~5-45 ns whatever the taps (OpenBLAS's sdot is slower
# than its ddot on odd lengths).  Intel Xeon, NumPy 2 + OpenBLAS, np.convolve
# 'valid', ns per output: float32 k=7 1.5, 16 12.2, 31 25.6, 32 4.8, 127
# 30.8, 511 45.2; float64 7 1.1, 16 5.2, 31 9.3, 127 19.5, 511 44.7.  The
# fit (2 us a call + NUMPY_OUTPUT per output + NUMPY_MAC per multiply-add
# from 9 taps) is within ~1.5x of these; against the engine it gets 48 of
# 56 measured 1-D geometries (3000-200000 samples, 2-511 taps, float32 and
# float64, 'full' and 'valid') on the faster side, the others within 1.4x,
# where a flat "NumPy up to 2**19 multiply-adds" left float32 10000 x 31 at
# 268 us against the engine's 44.
NUMPY_CALL = 2e-6
NUMPY_SHORT_MAC = 0.2e-9
NUMPY_OUTPUT = {4: 12e-9, 8: 8e-9, 16: 22e-9}    # by itemsize: float32, float64, complex128
NUMPY_MAC = 0.07e-9


def numpy_cost(in1, in2, mode):
    """Estimated seconds of NumPy's 1-D loop (``np.convolve``)."""
    n1, n2 = in1.size, in2.size
    k = min(n1, n2)
    out = {"full": n1 + n2 - 1, "same": n1, "valid": abs(n1 - n2) + 1}[mode]
    macs = min(out * k, n1 * n2)     # each output's overlap with the shorter one
    if k <= 8:
        return NUMPY_CALL + NUMPY_SHORT_MAC * macs
    size = np.result_type(in1, in2).itemsize
    return NUMPY_CALL + NUMPY_OUTPUT.get(size, 8e-9) * out + NUMPY_MAC * macs


@functools.lru_cache(maxsize=512)
def numpy_loop_cheaper(s1, s2, mode, dt):
    """:func:`use_numpy` for 1-D operands of shapes `s1`, `s2` and result
    dtype `dt` without axes, priced once per geometry (the pricing reads
    shapes only; ~5 us a call otherwise, as much as a small loop)."""
    a, b = _stand_in(s1, dt), _stand_in(s2, dt)
    return use_numpy(a, b, b, mode, None, np.dtype(dt))


def use_numpy(in1, in2, b, mode, axes, rt):
    """Tiny 1-D problems: NumPy's loop beats the engine's call overhead."""
    if axes is not None or not np_conv_ok(in1, in2, mode) or rt.kind == "O":
        return False
    if numpy_cost(in1, in2, mode) > 4 * ENGINE_CALL:
        return False    # the engine's multiply-adds are several times cheaper
    conv_axes, windows = conv_axes_windows(in1, b, mode, None)
    return numpy_cost(in1, in2, mode) < direct_cost(in1.shape, b.shape, conv_axes, windows,
                                                     rt, operands=(in1, b))


def int_fft_unsafe(in1, in2):
    """SciPy's guard: integer results an FFT could round wrongly."""
    if in1.dtype.kind in "ui" or in2.dtype.kind in "ui":
        # max |value| in Python ints (np.abs(int8(-128)) overflows, which
        # defeats SciPy's own version of this guard)
        def maxabs(a):
            # the distinct elements only: a broadcast view (zero strides) is
            # reduced over its stored values, not its 2**58 positions
            a = a[tuple(slice(0, 1) if st == 0 and n > 0 else slice(None)
                        for st, n in zip(a.strides, a.shape))]
            if a.size == 0:
                return 0
            if a.dtype.kind == "b":
                return int(a.any())
            if a.dtype.kind == "c":   # no int() of a complex (ComplexWarning)
                return max(maxabs(a.real), maxabs(a.imag))
            if a.dtype.kind == "f":
                m = float(np.max(np.abs(a.astype(np.float64))))
                return int(np.ceil(m)) if np.isfinite(m) else 2 ** 64   # NaN/inf: unsafe
            if a.dtype.kind not in "iu":
                return 2 ** 64
            return max(abs(int(a.min())), abs(int(a.max())))
        big = maxabs(in1) * maxabs(in2) * int(min(in1.size, in2.size))
        return big > 2 ** np.finfo(float).nmant - 1
    return False


# The tiled overlap-save route (fastconv._fft.tiled_convolve): seconds per
# point of all tiles per (log2(points of one tile) + TILED_LOG0) -- the
# copies, the product and the small transforms' overheads make up the
# constant term --, single thread, by library and itemsize.  Fitted on the
# dev machine (Zen 4, loaded: process times of 2048**2 images with 9**2..
# 63**2 kernels, 1-D 2**16..2**22 samples with 63..4097 taps, 3-D 64**3
# and 128**3 volumes), then scaled per number of convolved axes
# (TILED_DIMS) so the tiled/direct price ratio matches the measured one
# within 0.75..1.3x around the crossovers (2**22 samples: 63 vs 127 taps;
# 2048**2: 11**2 vs 15**2; 128**3: 7**3 vs 9**3).
TILED_NLOGN = {"ducc0": {4: 2.45e-10, 8: 3.6e-10}, "scipy": {4: 3.0e-10, 8: 5.8e-10}}
TILED_LOG0 = 8.0
TILED_DIMS = {1: 1.4, 2: 1.1, 3: 1.65}
# 3-D: refitted (2.9 -> 1.65) once the tiles' axes ran on fastconv's own
# column and row FFTs, which halved the route's time on volumes: 128**3 by
# 5**3..11**3, float32 and float64, avx512 and avx2, AMD Zen 5, 2 threads,
# price / time 3.1-4.9 for the route (3.7-4.4 from 7**3) against 1.6-2.6 for
# the direct method (1.9-2.6 from 7**3), so the old fit priced the route
# ~1.7x above the direct method's scale (9**3 float32: route 8.0-10.2 ms,
# direct 16.5-17.6, priced the other way round).
TILED_CALL = 5.0e-5                     # per call: planning, kernel spectrum, output
TILED_CHUNK = 1.0e-5                    # per chunk of tiles
TILED_THREAD_GAIN = 0.9                 # per extra thread, chunks on a thread team
# Time factor where the tiles' last axis runs on fastconv's row FFT, by the
# bytes of the level's vectors.  The row FFT took 0.84-0.92 of pocketfft's
# time at AVX2 and 0.69-0.84 at AVX-512 (AMD Zen 5, 2048^2 by 15^2 and 31^2,
# float32 and float64, 1 and 2 threads, on / off), but at AVX-512 the
# direct method still won at 15^2 (float32 4.9 against 6.9 ms, float64 11.9
# against 14.5) and lost from 17^2, which the unscaled price already gives;
# at AVX2 the route took over from 13^2-15^2 (float64 15^2: 14.6 against
# 18.6 ms), which the scaled one gives.
TILED_ROWS = {32: 0.87}


def tiled_cost(s1, s2, axes, mode, itemsize, nthreads):
    """Estimated seconds of :func:`fastconv._fft.tiled_convolve`; inf where
    the route does not apply."""
    plan = tiled_plan(tuple(s1), tuple(s2), tuple(sorted(axes)), mode)
    if plan is None:
        return math.inf
    _, blocks = plan
    axes = sorted(axes)
    a0 = axes[0]
    nb = blocks[a0][2]
    tile = 1.0
    for i in range(len(s1)):
        tile *= blocks[i][0] if i in blocks else max(s1[i], s2[i])
    work = (TILED_NLOGN[TILED_BACKEND][8 if itemsize > 4 else 4] * nb * tile
            * (math.log2(max(tile, 2)) + TILED_LOG0))
    work *= TILED_DIMS[min(len(axes), 3)]
    if len(axes) > 1 and axes[-1] == len(s1) - 1 and rows_fft_takes(blocks[axes[-1]][0]):
        work *= TILED_ROWS.get(_dispatch.kernels.fft_vector_bytes(), 1.0)
    from fastconv._fft import CHUNK_POINTS
    per_chunk = max(1, CHUNK_POINTS // max(int(tile), 1))
    chunks = -(-nb // per_chunk)
    threads = max(1, min(nthreads, chunks))
    gain = 1.0 + TILED_THREAD_GAIN * (threads - 1)
    return TILED_CALL + (TILED_CHUNK * chunks + work) / gain


# Against the tiled route in 3-D the one transform's price is read this
# many times higher: it stays near its time (pocketfft: price / time
# 0.8-1.3 on 128**3 volumes, Zen 5) while the route's and the direct
# method's prices run ~2-4x theirs on that machine, and the route was the
# faster of the two in all 16 cases measured there (5**3..15**3, float32
# and float64, avx512 and avx2: 8.0-36 ms against 20-51).
FFT_VS_TILED_3D = 2.3


def fft_choice(a, b, mode, conv_axes, tiled_ok=True):
    """'tiled' (overlap-save tiles, real operands; not if `tiled_ok` is
    False), 'fft' (one transform) or 'oa' (overlap-add), and its estimated
    cost (priced once per geometry)."""
    complex_result = a.dtype.kind == "c" or b.dtype.kind == "c"
    rt = np.result_type(a.dtype, b.dtype)
    itemsize = 4 if rt in (np.float32, np.complex64, np.float16) else 8
    tiled = tiled_ok and tiled_compute_dtype(a.dtype, b.dtype) is not None
    return _fft_choice(a.shape, b.shape, tuple(conv_axes), itemsize, complex_result, mode,
                       tiled)


@functools.lru_cache(maxsize=512)
def _fft_choice(s1, s2, conv_axes, itemsize, complex_result, mode="full", tiled=False):
    t_fft = fft_cost(s1, s2, conv_axes, itemsize, complex_result, PRICED_THREADS(), mode)
    t_tiled = tiled_cost(s1, s2, conv_axes, mode, itemsize, PRICED_THREADS()) \
        if tiled and not complex_result else math.inf
    if t_tiled < math.inf:
        # overlap-add is never priced against the tiled route: it was the
        # slower of the two on every case measured (1e5 x 511 taps: 0.5 vs
        # 1.0 ms; 1e6 x 4097: 8 vs 17 ms; 2**22 x 1023: 19 vs 43 ms, float32,
        # single thread, either library), while its estimate is the lower
        if len(conv_axes) >= 3 and t_fft * FFT_VS_TILED_3D >= t_tiled:
            return "tiled", t_tiled
        return min(("tiled", t_tiled), ("fft", t_fft), key=lambda kv: kv[1])
    t_oa = oa_cost(s1, s2, conv_axes, itemsize, complex_result, PRICED_THREADS())
    return min(("oa", t_oa), ("fft", t_fft), key=lambda kv: kv[1])


# Below this many multiply-adds a call costs its overheads only (~40 us);
# layout choices cannot matter.
TINY_MACS = 1 << 16


def choose_method(in1, b, mode, axes, nonfinite):
    """'direct' or 'fft' for fastconv's own methods (see choose_conv_method).

    `nonfinite` is indexed only when the FFT would be chosen (NaN and inf
    always take the direct method), so the usual direct choice never scans
    the input.  What depends on dtypes and shapes only is decided once per
    geometry (:func:`_dtype_class`, :func:`_priced_choice`); per call there
    remain the integer guard, the rank-one test of a kernel whose separable
    route could beat the FFT, and the NaN/inf scan (64 x 64 by 31 x 31
    float32: 17.6 -> 8 us per call, Zen 4)."""
    verdict, int_check, fallback = _dtype_class(in1.dtype, b.dtype)
    if verdict is not None:
        return verdict
    if int_check and int_fft_unsafe(in1, b):
        return "direct"
    if fallback:
        # long double: SciPy's direct loops vs a long-double FFT
        return "fft" if _ss.choose_conv_method(in1, b, mode) == "fft" and axes is None \
            and not (nonfinite[1] or nonfinite[0]) else "direct"
    if in1.size * b.size < TINY_MACS:
        return "direct"     # overheads only; no transform is that cheap
    verdict, t_fft, kernel_view = _priced_choice(
        in1.shape, b.shape, in1.dtype, b.dtype, mode,
        None if axes is None else tuple(axes), PRICED_THREADS())
    if verdict == "direct":
        return "direct"
    if kernel_view is not None and _separable.ENABLED:
        # a rank-one kernel may still make the direct method the cheaper (its
        # separable price is below the FFT's); its test (the values) is paid
        # only here.  The kernel as conv_window hands it to the engine.
        which, perm, kshape, cdtype = kernel_view
        k = b if which == "a" else in1
        if k.dtype.kind == "f" and factorize(
                k.transpose(perm).reshape(kshape)[(slice(None, None, -1),) * len(kshape)],
                cdtype) is not None:
            return "direct"
    if nonfinite[1] or nonfinite[0]:
        return "direct"
    return "fft"


def priced_direct(s1, s2, dtype, mode):
    """True when :func:`choose_method` picks the direct method for real
    float operands of shapes `s1`, `s2` (no `axes`) above ``TINY_MACS``
    whatever their values: the FFT's price alone is higher."""
    return _priced_choice(s1, s2, dtype, dtype, mode, None, PRICED_THREADS())[0] == "direct"


@functools.lru_cache(maxsize=256)
def _dtype_class(dt1, dt2):
    """What the dtypes alone say: (verdict or None, integer guard needed,
    long-double route)."""
    if dt1.kind not in "buifc" or dt2.kind not in "buifc":
        return "direct", False, False
    if dt1.kind == "b" and dt2.kind == "b":
        return "direct", False, False
    return (None, dt1.kind in "ui" or dt2.kind in "ui",
            compute_route(np.result_type(dt1, dt2))[0] == "fallback")


def _stand_in(shape, dtype):
    """An array of `shape` and `dtype` holding one element (zero strides):
    the pricing below reads shapes and dtypes only."""
    return np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape, (0,) * len(shape))


@functools.lru_cache(maxsize=512)
def _priced_choice(s1, s2, dt1, dt2, mode, axes, threads):
    """The part of :func:`choose_method` that needs no values, priced once
    per geometry: ('direct', None, None), ('fft', t_fft, None), or ('fft',
    t_fft, kernel view) when a rank-one kernel's separable route could beat
    the FFT's price `t_fft` (the view: which operand is the input, the
    kernel's axis order and shape as the engine sees it, the compute
    dtype).  `threads` (the priced thread count) is part of the cache key
    only."""
    in1, b = _stand_in(s1, dt1), _stand_in(s2, dt2)
    rt = np.result_type(dt1, dt2)
    conv_axes, windows = conv_axes_windows(in1, b, mode, axes)
    # the full-kernel price first: it needs no look at the values
    t_direct = direct_cost(s1, s2, conv_axes, windows, rt)
    if axes is None and np_conv_ok(in1, b, mode):
        t_direct = min(t_direct, numpy_cost(in1, b, mode))
    if t_direct <= FFT_CALL:
        return "direct", None, None   # no transform is that cheap: skip pricing them
    conv_fft = freq_axes(in1, b, mode, axes)[2]
    if not conv_fft:
        return "direct", None, None
    t_fft = fft_choice(in1, b, mode, conv_fft)[1]
    if t_fft >= t_direct:
        return "direct", None, None
    full, sep = _direct_prices(tuple(s1), tuple(s2), tuple(conv_axes),
                               tuple(tuple(w) for w in windows), np.dtype(rt))
    if sep is not None and sep[0] < t_fft:
        return "fft", t_fft, sep[1:]
    return "fft", t_fft, None


def _numeric(a):
    return a.dtype.kind in "buifc"
