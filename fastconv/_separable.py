"""Separable (rank-one) kernels: the direct method as a sequence of 1-D passes.

A real single-channel kernel of rank ``r >= 2`` that is an outer product,
``K = u0 (x) u1 (x) ... (x) u(r-1)``, is applied as ``r`` one-dimensional
engine calls, ``k0 + k1 + ...`` multiply-adds per output instead of
``k0 * k1 * ...``.  :func:`fastconv._direct.run_engine` calls
``fastconv._direct.run_engine`` for every real, single-channel (``G == F == 1``) engine
problem of spatial rank >= 2; it returns None whenever the route is not
taken, and the full-kernel engine call runs as before.
:func:`fastconv._cost.direct_cost` calls :func:`planned_cost` so
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
    (:func:`fastconv._cost.engine_cost`): each pass is priced as
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
import itertools
import math

import numpy as np

from fastconv import _engine

_MAX = np.maximum.reduce
_MIN = np.minimum.reduce
_EPS = {np.dtype(np.float32): 2.0 ** -23, np.dtype(np.float64): 2.0 ** -52}

#: Set to False to force the full-kernel direct path (benchmarks, tests).
ENABLED = True

_BLOCK_MIN = 1 << 20     # elements of a phase-1 block buffer, at least
_BLOCK_FRACTION = 8      # ... and at most T.size // _BLOCK_FRACTION otherwise


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
    eps = _EPS.get(dtype)
    if eps is None:
        eps = float(np.finfo(dtype).eps)
    return (2 + 2 * rank) * eps


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
    if kernel.dtype.kind != "f" or cdtype not in (np.float32, np.float64):
        return None
    active = [d for d, k in enumerate(kernel.shape) if k > 1]
    if len(active) < 2 or kernel.size == 0:
        return None
    kc = np.asarray(kernel, dtype=cdtype)
    # the largest magnitude and the minor test on the compute-dtype values
    # themselves (exact as Python floats): most kernels are rejected here,
    # before any float64 copy (a 31 x 31 float32 kernel: 6.3 -> 3.7 us)
    m = max(float(_MAX(kc, None)), -float(_MIN(kc, None)))   # NaN or inf if there is one
    if not (math.isfinite(m) and m > 0):
        return None
    if _fails_minor_test(kc, active[0], m, len(active), cdtype):
        return None
    kd = kc.astype(np.float64)
    mag = np.abs(kd)
    p = np.unravel_index(int(np.argmax(mag)), kd.shape)
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


def _fails_minor_test(kd, d0, m, rank, cdtype):
    """Cheap rejection of most kernels that are not rank one.

    Every 2x2 minor of a rank-one matrix is zero.  A kernel the full test
    accepts differs from a rank-one tensor by at most ``t * m`` per element
    (``t`` = :func:`tolerance`, ``m`` = its largest magnitude), so each
    minor of its unfolding along axis `d0` (the first axis of length > 1;
    the axes before it have length 1) is below ``(4 t + 6 t**2) m**2``;
    the test rejects above ``8 t m**2``, so no kernel the full test would
    take is rejected here.  Nine minors of the corner, middle and edge
    rows and columns: a random kernel is rejected after one, instead of a
    pass over the whole kernel.
    """
    k2 = kd.reshape(kd.shape[d0], -1)
    n, r = k2.shape
    item = k2.item
    rows = (0, (n - 1) // 2, n - 1)
    cols = (0, (r - 1) // 2, r - 1)
    limit = 8 * tolerance(rank, cdtype) * m * m
    # the elements are read as the minors need them: a random kernel is
    # rejected after four
    for i, j in ((0, 2), (0, 1), (1, 2)):
        ri, rj = rows[i], rows[j]
        for k, l in ((0, 2), (0, 1), (1, 2)):
            ck, cl = cols[k], cols[l]
            if abs(item(ri, ck) * item(rj, cl) - item(ri, cl) * item(rj, ck)) > limit:
                return True
    return False


# --------------------------------------------------------------------------
# The plan: passes, blocks and their cost


def pass_geometry(dims, d, k, pad):
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


class SeparablePlan:
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


# --------------------------------------------------------------------------
# Running it


def _correlate(src, dims, d, factor, pad, nthreads, out=None):
    """One pass along spatial axis `d` of `src` (flat or shaped ``dims``)."""
    xs, ws, pads, os_, _, _ = pass_geometry(dims, d, factor.size, pad)
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
    plan = SeparablePlan(N, spatial, [f.size for f in factors], pads)
    if not plan.ok:
        raise ValueError("not a separable geometry")
    return execute(x, factors, plan, nthreads)


def execute(x, factors, plan, nthreads):
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


# --------------------------------------------------------------------------
# The planner's view


