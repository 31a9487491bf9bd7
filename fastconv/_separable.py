"""Separable (rank-one) kernels: the direct method as a sequence of 1-D passes.

A real single-channel kernel of rank ``r >= 2`` that is an outer product,
``K = u0 (x) u1 (x) ... (x) u(r-1)``, is applied as ``r`` one-dimensional
engine calls, ``k0 + k1 + ...`` multiply-adds per output instead of
``k0 * k1 * ...``.  :func:`fastconv._scipy_compat._run_engine` calls
:func:`maybe_run` for every real, single-channel (``G == F == 1``) engine
problem of spatial rank >= 2; it returns None whenever the route is not
taken, and the full-kernel engine call runs as before.
:func:`fastconv._scipy_compat.direct_cost` calls :func:`planned_cost` so
that ``method='auto'`` and :func:`fastconv.choose_conv_method` price the
route that will actually run.

Decisions
---------
Which kernels
    Only kernels of a floating dtype (float16/32/64), computed in float32
    or float64 (route ``'real'``).  Integer and bool kernels of
    ``fastconv.signal`` run the exact uint64 route and never get here.
    ``fastconv.ndimage`` converts every kernel to float64 (as SciPy does)
    and sums small integers exactly; so an *integer-valued* kernel is
    accepted only if integer factors reproduce it exactly (see Detection),
    which keeps integer images with integer weights bit-exact (a factor
    such as ``[1/3, 1, 1/3]`` would not).  An integer input with a
    non-integral kernel may take the route (the direct method rounds there
    too).  Complex data never take it.  Kernels holding NaN or inf never
    take it.

Detection (:func:`factorize`), O(kernel size), no SVD
    The kernel is first cast to the compute dtype (the values the direct
    method multiplies).  The pivot ``p`` is its element of largest
    magnitude ``m = |K[p]|`` (first one in C order); ``m == 0`` is
    rejected.  The factors are the fibres of ``K`` through ``p``: the
    factor of the *first pass* axis (the last axis of length > 1, the
    contiguous one) is that fibre unchanged (exact kernel values), every
    other factor is its fibre divided by ``K[p]`` (entries of magnitude
    <= 1, the pivot entry exactly 1), rounded to the compute dtype.  The
    outer product of these rounded factors is rebuilt in float64 and the
    kernel is accepted only if

        max |K - outer| <= (2 + 2 r) * eps * m          (:func:`tolerance`)

    with ``eps`` the machine epsilon of the compute dtype (2**-23 or
    2**-52) and ``r`` the number of axes of length > 1.  A kernel that is
    exactly rank one before being rounded to the dtype has a residual of
    at most ``(3 r - 1)`` unit roundoffs of ``|K|`` (one rounding of each
    kernel entry, of each fibre entry, of the pivot, of the division and of
    the cast), and a normalisation ``K / K.sum()`` adds two more, so the
    bound accepts the kernels people build (``np.outer(g, g)``,
    ``g[:, None] * g``, ``cv2.getGaussianKernel`` products, 3-D
    ``einsum``) and rejects anything that is rank one only to a few digits.
    An integer-valued kernel (all ``|K| < 2**53``) gets integer factors
    instead (each non-carrier fibre divided by the gcd of its entries, the
    carrier fibre by the product of their pivot entries; exact for every
    integer rank-one kernel) and must be reproduced exactly (residual 0).
    The sign of every factor product must also equal the sign of the kernel
    entry (in particular the zeros must coincide), which is what the NaN
    argument below needs.

    Accuracy: the accepted factors reproduce every kernel entry to within
    ``(2 + 2 r) eps m``; each pass is a sum of ``k_d`` terms, so the
    rounding of the separable result is bounded by
    ``(k0 + k1 + ... + r) u sum|K||x|`` (u the unit roundoff) against the
    direct method's ``(k0 k1 ...) u sum|K||x|``: the route is no less
    accurate than the direct method, only rounded differently (results are
    not bit-identical to the full-kernel path).

Non-finite inputs: proved, not scanned
    The input is never scanned.  For every output element the separable
    result is NaN, +inf, -inf or finite exactly when the direct result is,
    provided no intermediate sum overflows (see below).  Argument for two
    passes (``y = x (*) v`` along rows, ``z = y (*) u`` along columns; the
    same induction covers more passes), using that the rounded factors
    satisfy ``sign(u_i) sign(v_j) == sign(K_ij)`` for every tap:

    * a NaN input in the window gives a NaN term in both;
    * an infinite input at tap ``(i, j)`` gives ``0 * inf = NaN`` in the
      direct sum iff ``K_ij == 0`` iff ``u_i == 0`` or ``v_j == 0``; in the
      separable sums ``v_j == 0`` makes ``y`` NaN, and ``u_i == 0`` turns
      ``y = +-inf`` into NaN in the second pass;
    * otherwise every infinite input gives an infinite term of sign
      ``sign(K_ij) sign(x)`` in the direct sum and, through ``y`` (whose
      infinite terms in a row have the same signs), the same sign in the
      separable one; both sums are NaN iff both signs occur, else that
      infinity;
    * with no non-finite input in the window both are finite.

    The engine's own zero padding is multiplied only by finite factors, and
    padding materialised by a boundary mode holds the same values for both
    routes.  The remaining difference is overflow: an intermediate sum can
    overflow to inf (or a partial sum of the direct method can) for inputs
    within a factor ``sum_d k_d`` of the largest finite value, where the
    two roundings differ anyway.  The tests compare the patterns against
    SciPy's direct method with NaN, +inf and -inf inputs and factors that
    contain zeros.  A scan (``has_nonfinite``) would cost a full memory
    pass, ~0.3 ms on a 2048x2048 float32 image (up to 10% of a 9x9 pass)
    and buy nothing.

When (:func:`separable_cost`)
    Only when cheaper by the engine cost model
    (:func:`fastconv._scipy_compat.engine_cost`): each pass is priced as
    the 2-D engine call it is (a ``(1, k)`` row kernel along the
    contiguous axis, ``(k, 1)`` column kernels along the others), plus one
    call overhead per extra block (see Memory) and one extra write of the
    intermediate array (its allocation/first touch), against the
    full-kernel call.  Small problems (3x3 on small images) stay on the
    full-kernel path; length-1 axes are identity passes and skipped; a
    kernel with fewer than two axes of length > 1 is already 1-D.

Memory
    One intermediate array ``T`` (the input with the first-pass axis...
    the last axis of length > 1 already filtered; at most the size of the
    padded input), written by the passes along every axis but the first
    active one, then read by the pass along that axis into the output.
    With three or more passes, the passes before ``T`` run in blocks of
    leading slabs with two small ping-pong buffers of at most
    ``max(T.size // 8, 2**20)`` elements, so no second full-size array is
    made.  Pass 1 runs along the contiguous last axis.

Threads
    Blocks and pass order do not depend on the thread count and the engine
    gives bitwise-identical results for any thread count, so the route does
    too.

Switch
    :data:`ENABLED` (module level) turns the route off (tests and
    ``build_tools/bench_separable.py`` compare against the full-kernel path).
"""

import functools
import math

import numpy as np

from fastconv import _engine
from fastconv import _scipy_compat as _sc

#: Set to False to force the full-kernel direct path (benchmarks, tests).
ENABLED = True

_BLOCK_MIN = 1 << 20     # elements of a phase-1 block buffer, at least
_BLOCK_FRACTION = 8      # ... and at most T.size // _BLOCK_FRACTION otherwise

# Fixed cost (seconds) of one internal pass: a bare engine call on a tiny
# array (no front-end), 26 us, plus the rank-one test, ~20 us for a 9x9
# kernel, rounded up (dev VM, single thread).  The front-end's own
# ENGINE_CALL is paid once by either route.
PASS_CALL = 3.5e-5


def tolerance(rank, dtype):
    """Acceptance threshold of :func:`factorize` relative to ``max|K|``.

    Parameters
    ----------
    rank : int
        Number of kernel axes of length > 1.
    dtype : dtype
        Compute dtype (float32 or float64).

    Returns
    -------
    float
        ``(2 + 2 rank) * eps``.

    Examples
    --------
    >>> import numpy as np
    >>> tolerance(2, np.float32) == 6 * 2.0 ** -23
    True
    """
    return (2 + 2 * rank) * float(np.finfo(dtype).eps)


def factorize(kernel, cdtype):
    """Rank-one factors of `kernel` in the compute dtype, or None.

    Parameters
    ----------
    kernel : ndarray
        Real kernel of any rank (the flipped kernel of the engine call).
    cdtype : dtype
        float32 or float64: the dtype the passes compute in.

    Returns
    -------
    list of ndarray or None
        One 1-D factor of dtype `cdtype` per axis, whose outer product
        reproduces ``kernel.astype(cdtype)`` within :func:`tolerance` of
        its largest magnitude, with the same sign (and zero) pattern; None
        when no such factors exist (not rank one, NaN/inf, all zeros, not a
        float kernel, fewer than two axes of length > 1).

    Examples
    --------
    >>> import numpy as np
    >>> f = factorize(np.outer([1., 2., 1.], [1., 0., -1.]), np.float64)
    >>> [a.tolist() for a in f]
    [[1.0, 2.0, 1.0], [1.0, 0.0, -1.0]]
    >>> [a.tolist() for a in factorize(np.outer([.5, 1.], [.3, .6, .9]), np.float64)]
    [[0.5, 1.0], [0.3, 0.6, 0.9]]
    >>> factorize(np.eye(3), np.float64) is None
    True
    """
    cdtype = np.dtype(cdtype)
    if kernel.dtype.kind != "f" or cdtype not in (_sc._F32, _sc._F64):
        return None
    active = [d for d, k in enumerate(kernel.shape) if k > 1]
    if len(active) < 2 or kernel.size == 0:
        return None
    kd = np.asarray(kernel, dtype=cdtype).astype(np.float64)
    mag = np.abs(kd)
    flat = int(np.argmax(mag))          # NaN wins argmax; checked below
    m = float(mag.reshape(-1)[flat])
    if not (math.isfinite(m) and m > 0) or not np.isfinite(kd).all():
        return None
    p = np.unravel_index(flat, kd.shape)
    piv = kd[p]
    carrier = active[-1]
    integral = m < 2.0 ** 53 and bool(np.all(kd == np.round(kd)))
    fibres = [kd[p[:d] + (slice(None),) + p[d + 1:]] for d in range(kd.ndim)]
    if integral:
        # integer factors: every fibre but the carrier divided by its gcd
        # (primitive), the carrier by the product of their pivot entries
        scaled = []
        for d, f in enumerate(fibres):
            if d != carrier:
                f = f / float(np.gcd.reduce(np.abs(f).astype(np.int64)))
            scaled.append(f)
        den = math.prod(float(f[p[d]]) for d, f in enumerate(scaled) if d != carrier)
        scaled[carrier] = scaled[carrier] / den
    else:
        scaled = [f if d == carrier else f / piv for d, f in enumerate(fibres)]
    factors = [np.ascontiguousarray(f, dtype=cdtype) for f in scaled]
    f64 = [f.astype(np.float64) for f in factors]
    outer = functools.reduce(np.multiply.outer, f64)
    resid = float(np.abs(kd - outer).max())
    if resid > (0.0 if integral else tolerance(len(active), cdtype) * m):
        return None
    signs = functools.reduce(np.multiply.outer, [np.sign(f) for f in f64])
    if not np.array_equal(signs, np.sign(kd)):
        return None
    return factors


# --------------------------------------------------------------------------
# The plan: passes, blocks and their cost


def _pass_geometry(dims, d, k, pad):
    """Engine operand shapes of one pass along spatial axis `d`.

    `dims` is ``[N, D0, D1, ...]`` of the array the pass reads.  Returns
    ``(x_shape, w_shape, pads, out_shape, cost_spatial, n_other)``: a row
    kernel ``(1, k)`` when nothing follows axis `d` (it vectorises along
    the contiguous rows), a column kernel ``(k, 1)`` otherwise.
    """
    lo, hi = pad
    A = math.prod(dims[:d + 1])
    L = dims[d + 1]
    C = math.prod(dims[d + 2:])
    O = L + lo + hi - k + 1
    if C == 1:
        return ((1, 1, A, L), (1, 1, 1, k), ((0, 0), (lo, hi)), (1, 1, A, O),
                [(A, 1, A, 0), (O, k, L, lo)], 1)
    return ((A, 1, L, C), (1, 1, k, 1), ((lo, hi), (0, 0)), (A, 1, O, C),
            [(O, k, L, lo), (C, 1, C, 0)], A)


class _Plan:
    """Passes (axis, factor length, pads) and blocking of one problem."""

    def __init__(self, n, spatial, klens, pads):
        self.n = n
        self.spatial = list(spatial)
        self.klens = list(klens)
        self.pads = list(pads)
        self.active = [d for d, k in enumerate(klens) if k > 1]
        self.ok = len(self.active) >= 2 and all(
            k > 1 or tuple(p) == (0, 0) for k, p in zip(klens, pads))
        if not self.ok:
            return
        self.out = [s + lo + hi - k + 1 for s, k, (lo, hi) in zip(spatial, klens, pads)]
        self.first = self.active[0]                 # the last pass, into the output
        self.phase1 = self.active[1:][::-1]         # last axis first
        # T: axes up to `first` unfiltered, the others filtered
        d0 = self.first
        self.lead = n * math.prod(spatial[:d0 + 1])    # phase-1 units (slabs)
        self.t_size = self.lead * math.prod(self.out[d0 + 1:])
        # per-unit sizes of the phase-1 intermediates before T
        dims = list(spatial[d0 + 1:])
        per_unit = []
        for d in self.phase1[:-1]:
            dims[d - d0 - 1] = self.out[d]
            per_unit.append(math.prod(dims))
        self.buf_unit = max(per_unit, default=0)
        if self.buf_unit:
            budget = max(self.t_size // _BLOCK_FRACTION, _BLOCK_MIN)
            per_block = max(1, budget // self.buf_unit)
            self.nblocks = -(-self.lead // per_block)
            self.block = -(-self.lead // self.nblocks)
        else:
            self.nblocks, self.block = 1, self.lead

    def phase1_dims(self, units):
        """``[units, D...]`` of the input of each phase-1 pass, in order."""
        d0 = self.first
        dims = [units] + list(self.spatial[d0 + 1:])
        out = []
        for d in self.phase1:
            out.append((d - d0 - 1, list(dims)))
            dims[d - d0] = self.out[d]
        return out

    def final_dims(self):
        d0 = self.first
        return [self.n] + list(self.spatial[:d0 + 1]) + list(self.out[d0 + 1:])


def separable_cost(plan, kcode, nthreads):
    """Estimated seconds of the separable route of `plan` (engine model)."""
    # every engine_cost includes one ENGINE_CALL; the route pays one (the
    # front-end) plus PASS_CALL per engine call it makes
    calls = 1
    cost = 0.0
    for d, dims in plan.phase1_dims(plan.lead):
        geo = _pass_geometry(dims, d, plan.klens[plan.first + 1 + d],
                             plan.pads[plan.first + 1 + d])
        cost += _sc.engine_cost(geo[4], geo[5], kcode, 1, nthreads) - _sc.ENGINE_CALL
        calls += plan.nblocks
    geo = _pass_geometry(plan.final_dims(), plan.first, plan.klens[plan.first],
                         plan.pads[plan.first])
    cost += _sc.engine_cost(geo[4], geo[5], kcode, 1, nthreads)
    cost += calls * PASS_CALL
    # allocation / first touch of the intermediate
    cost += _sc.ENGINE_OUT[kcode] * plan.t_size
    return cost


def full_cost(n, spatial, klens, pads, kcode, nthreads):
    """Estimated seconds of the full-kernel engine call (same geometry)."""
    sp = [(s + lo + hi - k + 1, k, s, lo) for s, k, (lo, hi) in zip(spatial, klens, pads)]
    return _sc.engine_cost(sp, n, kcode, 1, nthreads)


# --------------------------------------------------------------------------
# Running it


def _correlate(src, dims, d, factor, pad, nthreads, out=None):
    """One pass along spatial axis `d` of `src` (flat or shaped ``dims``)."""
    xs, ws, pads, os_, _, _ = _pass_geometry(dims, d, factor.size, pad)
    if out is not None:
        out = out.reshape(os_)
    return _engine.correlate(src.reshape(xs), factor.reshape(ws), stride=(1, 1),
                             dilation=(1, 1), pads=pads, groups=1, nthreads=nthreads,
                             out=out)


def run(x, factors, pads, nthreads):
    """Correlate x ``(N, *S)`` (C-contiguous, compute dtype) with the outer
    product of `factors` as 1-D passes, zero padding `pads` per axis.

    Parameters
    ----------
    x : ndarray
        ``(N, *S)``, C-contiguous, float32 or float64.
    factors : list of ndarray
        One 1-D factor per spatial axis, same dtype as `x`.
    pads : sequence of (int, int)
        Zero padding per spatial axis (never materialised).
    nthreads : int

    Returns
    -------
    ndarray
        ``(N, *O)`` with ``O = S + lo + hi - k + 1``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(12.0).reshape(1, 3, 4)
    >>> f = [np.ones(2), np.array([1.0, -1.0])]
    >>> run(x, f, [(0, 0), (0, 0)], 1)[0]
    array([[-2., -2., -2.],
           [-2., -2., -2.]])
    """
    N = x.shape[0]
    spatial = x.shape[1:]
    plan = _Plan(N, spatial, [f.size for f in factors], pads)
    if not plan.ok:
        raise ValueError("not a separable geometry")
    return _execute(x, factors, plan, nthreads)


def _execute(x, factors, plan, nthreads):
    d0 = plan.first
    off = d0 + 1
    t = np.empty(plan.t_size, dtype=x.dtype)
    xflat = x.reshape(-1)
    in_unit = xflat.size // plan.lead
    t_unit = plan.t_size // plan.lead
    bufs = [np.empty(plan.block * plan.buf_unit, dtype=x.dtype) for _ in range(2)] \
        if plan.buf_unit else []
    for b0 in range(0, plan.lead, plan.block):
        b1 = min(plan.lead, b0 + plan.block)
        src = xflat[b0 * in_unit:b1 * in_unit]
        steps = plan.phase1_dims(b1 - b0)
        for i, (d, dims) in enumerate(steps):
            ax = off + d
            if i == len(steps) - 1:
                dst = t[b0 * t_unit:b1 * t_unit]
            else:
                size = (b1 - b0) * math.prod(dims[1:d + 1]) * plan.out[ax] * \
                    math.prod(dims[d + 2:])
                dst = bufs[i % 2][:size]
            _correlate(src, dims, d, factors[ax], plan.pads[ax], nthreads, out=dst)
            src = dst
    res = _correlate(t, plan.final_dims(), d0, factors[d0], plan.pads[d0], nthreads)
    return res.reshape((plan.n,) + tuple(plan.out))


_FASTEST_MAC = 1.5e-11    # seconds per multiply-add of the fastest engine case (2 threads)


def _worth_pricing(n, spatial, klens, pads):
    """False when the multiply-adds the route would save cannot pay for the
    extra engine call it makes (then neither the cost model nor the rank-one
    test is worth its ~20-40 us, e.g. any 3x3 kernel on a small image)."""
    out = n
    for s, k, (lo, hi) in zip(spatial, klens, pads):
        out *= max(0, s + lo + hi - k + 1)
    long_ = [k for k in klens if k > 1]
    saved = out * (math.prod(long_) - sum(long_))
    return len(long_) >= 2 and saved * _FASTEST_MAC > PASS_CALL


def _priced_plan(n, spatial, klens, pads, cdtype, nthreads):
    """(plan, separable cost, full-kernel cost) when the route is cheaper by
    the cost model, else None (the one decision of both :func:`maybe_run`
    and :func:`planned_cost`)."""
    if not _worth_pricing(n, spatial, klens, pads):
        return None
    plan = _Plan(n, spatial, klens, pads)
    if not plan.ok:
        return None
    kcode = _sc._kernel_code("real", cdtype)
    cost = separable_cost(plan, kcode, nthreads)
    full = full_cost(n, spatial, klens, pads, kcode, nthreads)
    if cost >= full:
        return None
    return plan, cost, full


def maybe_run(xt, kt, pads, cdtype, nthreads):
    """The separable route for an engine problem, or None when not taken.

    Parameters
    ----------
    xt : ndarray
        ``(N, 1, *S)`` input (any strides and real dtype).
    kt : ndarray
        ``(1, 1, *K)`` flipped kernel (the engine correlates with it).
    pads : sequence of (int, int)
        Zero padding per spatial axis.
    cdtype : dtype
        float32 or float64.
    nthreads : int

    Returns
    -------
    ndarray or None
        ``(N, 1, 1, *O)`` of `cdtype`, or None (the caller runs the
        full-kernel engine call).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((1, 1, 8, 8))
    >>> maybe_run(x, np.ones((1, 1, 3, 3)), [(1, 1), (1, 1)], np.float64, 1) is None
    True
    """
    if not ENABLED or kt.dtype.kind != "f":
        return None
    N = xt.shape[0]
    spatial = xt.shape[2:]
    klens = kt.shape[2:]
    plan = _priced_plan(N, spatial, klens, pads, cdtype, nthreads)
    if plan is None:
        return None
    plan = plan[0]
    factors = factorize(kt[0, 0], cdtype)
    if factors is None:
        return None
    x = np.ascontiguousarray(xt, dtype=cdtype).reshape((N,) + tuple(spatial))
    res = _execute(x, factors, plan, nthreads)
    return res.reshape((N, 1, 1) + tuple(plan.out))


# --------------------------------------------------------------------------
# The planner's view


def planned_cost(s1, s2, spatial, windows, cdtype, nthreads, layout, operands):
    """Cost of the separable route as conv_window would run it, or None.

    Parameters
    ----------
    s1, s2 : tuple of int
        Operand shapes (conv form).
    spatial : list of int
        Convolved axes where both operands are longer than 1.
    windows : sequence of (int, int)
    cdtype : dtype
        Compute dtype of route ``'real'``.
    nthreads : int
    layout : (float, str, int)
        ``_best_layout``'s answer: (cost, orientation, inner axis).
    operands : (ndarray, ndarray) or None
        The operands (None: unknown, the route is not priced).

    Returns
    -------
    (float, float) or None
        Estimated seconds of the separable route and of the full-kernel
        engine call it replaces, or None when the route would not be taken.
    """
    if not ENABLED:
        return None
    if operands is None:
        return None
    a, b = operands
    _, which, inner = layout
    x, k = (a, b) if which == "a" else (b, a)
    if k.dtype.kind != "f":
        return None
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
    priced = _priced_plan(n, sp, kl, pads, cdtype, nthreads)
    if priced is None:
        return None
    _, cost, full = priced
    # the kernel exactly as conv_window hands it to the engine
    kv = k.transpose([ax for ax in range(nd) if ax not in spatial] + order)
    kv = kv.reshape(tuple(ks[ax] for ax in order))[(slice(None, None, -1),) * len(order)]
    if factorize(kv, cdtype) is None:
        return None
    return cost, full
