"""The direct method shared by :mod:`fastconv.signal` and :mod:`fastconv.ndimage`.

Every SciPy-style call reduces to one question: *which window of the full
N-D convolution of two arrays is wanted, and how is the first array
extended beyond its edges?*  :func:`conv_window` answers it with one call of
the engine (:func:`fastconv._engine.correlate`).

Vocabulary
----------
``a``, ``b``
    Two arrays of equal rank.  The full convolution along a *conv axis* has
    length ``na + nb - 1``: ``c[i] = sum_m a[i - m] * b[m]``.  Correlations
    are convolutions with ``b = conj(flip(in2))`` (a view; the engine's own
    flip undoes it, so no data moves).
*window*
    ``(start, length)`` per axis: the slice of the full result to return
    (``'full'``: ``(0, na + nb - 1)``; SciPy ``'same'``: ``((nb - 1)//2, na)``;
    ``'valid'``: ``(nb - 1, na - nb + 1)``; ndimage and ``correlate2d``
    have their own starts).  Axes that are not convolved broadcast (their
    sizes are equal or one of them is 1); their "full" length is the larger
    size and the window may select from it (SciPy's ``'same'`` quirk).

How the engine is used
----------------------
The engine correlates a batch ``x (N, C, *S)`` with a filter bank
``w (F, C/groups, *K)``.  A convolution window becomes::

    out[o] = sum_t x[o + t - lo] * flip(b)[t],   lo = nb - 1 - start

with zero padding ``(lo, hi)`` that is never materialised (negative pads
crop ``x``).  Broadcast axes map onto the engine's batch and filter axes
without Python loops: axes where only ``x`` is longer than 1 -> ``N``;
only ``w`` -> ``F``; both (equal) -> ``groups`` (one channel per group).
Axes of a conv axis where one operand has length 1 are broadcast too (the
convolution is an outer product there), which is what makes
``convolve(a (1000, 1), b (1, 1000))`` a single cheap call.

Which operand plays ``x`` is chosen by the engine cost model
(:func:`direct_cost`) when the edges are zero and not materialised;
convolution is commutative so both give the same numbers (up to rounding
order).

dtypes
------
* float32 / float64: computed in that dtype.
* float16: computed in float32, rounded to float16 at the end.
* bool and every integer dtype: cast to uint64 (two's complement wrap is a
  ring homomorphism), summed modulo 2**64 by the uint64 kernel, cast back
  -> C-style wrap-around bit for bit (bool: ``!= 0``).
* complex64 / complex128: real and imaginary parts become engine channels
  and filters, so the four real products run in one engine call.
* long double, complex long double and object: a NumPy shift-and-add loop
  over the kernel taps in the result dtype (:func:`_shift_add`); the
  front-ends delegate these to SciPy where SciPy has the same operation.

Non-finite values
-----------------
Zero padding that is never materialised contributes nothing, so an
``inf`` in ``b`` next to an edge gives ``inf``, not ``0 * inf = nan``.
SciPy's N-D direct method materialises its zeros; ``materialize=True``
reproduces that when the caller knows ``b`` holds non-finite values.
"""

import math

import numpy as np

from fastconv import _dispatch, _engine
from fastconv._threads import resolve_workers, usable_cpus

_UINT64 = np.dtype(np.uint64)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


class RuntimeValueError(RuntimeError, ValueError):
    """Raised where SciPy raises ``RuntimeError`` for a bad value.

    It is also a ``ValueError`` (fastconv's rule for bad values), so both
    ``except RuntimeError`` (code written for SciPy) and ``except
    ValueError`` catch it.
    """


class TypeValueError(TypeError, ValueError):
    """Raised where SciPy raises ``ValueError`` for an argument of a bad type.

    It is also a ``TypeError`` (fastconv's rule for bad types).
    """


# --------------------------------------------------------------------------
# dtypes


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


def has_nonfinite(a):
    """True when a float or complex array holds a NaN or an infinity.

    Large contiguous float32/float64 (and complex64/128) arrays are checked by
    a parallel compiled pass; others by NumPy."""
    if a.dtype.kind not in "fc" or a.size == 0:
        return False
    if a.size >= (1 << 16) and a.flags.c_contiguous and a.dtype.isnative:
        flat = a.reshape(-1)
        if flat.dtype.kind == "c":
            flat = flat.view(np.float32 if flat.dtype.itemsize == 8 else np.float64)
        if flat.dtype.char in "fd":
            return _dispatch.kernels.any_nonfinite(flat, resolve_workers(None))
    return not bool(np.isfinite(a).all())


class NonFinite:
    """Lazily evaluated ``(has_nonfinite(a), has_nonfinite(b))``.

    Indexing scans an operand on first use only, so a caller that needs to
    know about the small kernel operand never pays for a scan of the large
    input (a full pass over memory: ~0.3 ms for a 2048x2048 float32 image).
    """

    __slots__ = ("_arrays", "_values")

    def __init__(self, a, b):
        self._arrays = (a, b)
        self._values = [None, None]

    def __getitem__(self, i):
        value = self._values[i]
        if value is None:
            value = self._values[i] = has_nonfinite(self._arrays[i])
        return value


# --------------------------------------------------------------------------
# The engine cost model (also used by choose_conv_method)


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
    mac = ENGINE_MAC[kdtype] * (ENGINE_MAC_ND if len(spatial) > 1 else 1.0)
    work = ENGINE_ROW_TAP * loops + mac * macs + ENGINE_OUT[kdtype] * out
    return ENGINE_CALL + work / par


# --------------------------------------------------------------------------
# The window of a broadcasting N-D convolution


def _kernel_code(route, cdtype):
    """Cost-table key of the kernel a route runs ('u8', 'f4' or 'f8')."""
    if route == "int":
        return "u8"
    return "f4" if np.dtype(cdtype).itemsize in (4, 8) and np.dtype(cdtype).char in "fF" \
        else "f8"


def conv_window(a, b, conv_axes, windows, result_dtype, nthreads, *,
                pad_mode=None, cval=0, materialize=False, orientation=None,
                nonfinite=None):
    """A window of the full convolution of `a` and `b`, broadcasting.

    Parameters
    ----------
    a, b : ndarray
        Operands of equal rank (any strides; never modified).
    conv_axes : sequence of int
        Axes that are convolved.  Every other axis broadcasts: its sizes
        are equal or one of them is 1.
    windows : sequence of (int, int)
        ``(start, length)`` for every axis (conv axes: of the full length
        ``na + nb - 1``; other axes: of ``max(na, nb)``).
    result_dtype : dtype
    nthreads : int
    pad_mode : str or None
        ``np.pad`` mode extending `a` beyond its edges on the conv axes, or
        None for zeros.  A non-None mode (or `materialize`) pads a copy of
        `a` and forces `a` into the engine's input role.
    cval : scalar
        Value for ``pad_mode='constant'`` (in the compute dtype).
    materialize : bool
        Materialise zero padding (SciPy's N-D direct method does; it
        matters only for ``0 * inf``).
    orientation : {None, 'a', 'b'}
        Force which operand is the engine input (default: cheapest).
    nonfinite : (bool, bool) or None
        Whether `a` and `b` hold NaN/inf, if the caller already knows.
        With zero edges that are not materialised, the engine's own
        padding must never meet a non-finite kernel tap (whether a kernel
        path multiplies its zero padding is its own business): the operand
        holding non-finite values becomes the engine input, and when both
        do, the exact NumPy shift-and-add runs instead.

    Returns
    -------
    ndarray of `result_dtype`
    """
    result_dtype = np.dtype(result_dtype)
    nd = a.ndim
    conv_axes = set(int(ax) for ax in conv_axes)
    fixed = pad_mode is not None or materialize
    shift_add = False
    # 1. Broadcast axes: slice the window out of the operand that is longer
    #    than 1 (or select the element the window starts at).
    sa, sb = [], []
    spatial = []
    for ax in range(nd):
        na, nb = a.shape[ax], b.shape[ax]
        start, length = windows[ax]
        if ax in conv_axes and na > 1 and nb > 1:
            spatial.append(ax)
            sa.append(slice(None))
            sb.append(slice(None))
        elif ax in conv_axes and fixed and nb > 1:
            # SciPy multiplies the materialised edge values too.
            spatial.append(ax)
            sa.append(slice(None))
            sb.append(slice(None))
        elif na == nb:
            sa.append(slice(start, start + length))
            sb.append(slice(start, start + length))
        elif nb == 1:
            sa.append(slice(start, start + length))
            sb.append(slice(None))
        else:  # na == 1
            sa.append(slice(None))
            sb.append(slice(start, start + length))
    a = a[tuple(sa)]
    b = b[tuple(sb)]
    out_shape = []
    for ax in range(nd):
        if ax in spatial:
            out_shape.append(windows[ax][1])
        else:
            out_shape.append(max(a.shape[ax], b.shape[ax]))
    out_shape = tuple(out_shape)
    if 0 in out_shape:
        return np.zeros(out_shape, dtype=result_dtype)

    route, cdtype = compute_route(result_dtype)
    if not spatial:
        # Nothing is summed: the result is the broadcast product.
        return _product(a, b, result_dtype, route)
    # 2. Layout: which operand is the engine's input x, and which spatial
    #    axis is the engine's contiguous inner axis.
    layout = None
    if fixed:
        orientation = "a"
    elif orientation is None and route != "fallback":
        # The operand in the kernel role must be finite (the engine's own
        # zero padding may meet every kernel tap).  Only the kernel chosen by
        # cost is scanned first; the other operand only if that one is not
        # finite.
        if nonfinite is None:
            nonfinite = NonFinite(a, b)
        # the layout (summation order) must not depend on `workers`: it is
        # priced for the machine's usable CPUs (issue 13, bitwise equality)
        layout = _best_layout(a.shape, b.shape, spatial, windows, route, cdtype,
                              usable_cpus(), None)
        best = orientation = layout[1]
        kernel_of = {"a": 1, "b": 0}
        if nonfinite[kernel_of[best]]:
            other = "b" if best == "a" else "a"
            if nonfinite[kernel_of[other]]:
                shift_add = True
                orientation = "a"
            else:
                orientation = other
    if route == "fallback" or shift_add:
        orientation = orientation or "a"
    else:
        if layout is None or layout[1] != orientation:
            layout = _best_layout(a.shape, b.shape, spatial, windows, route, cdtype,
                                  usable_cpus(), orientation)
        _, orientation, inner = layout
        spatial = [ax for ax in spatial if ax != inner] + [inner]
    if orientation == "a":
        x, k = a, b
    else:
        x, k = b, a
    # 3. Per spatial axis: pads of x (negative: crop x).
    pads = []
    crop = [slice(None)] * nd
    for ax in spatial:
        start, length = windows[ax]
        nx, nk = x.shape[ax], k.shape[ax]
        lo = nk - 1 - start
        hi = length + nk - 1 - nx - lo
        c0, c1 = 0, nx
        if lo < 0:
            c0, lo = -lo, 0
        if hi < 0:
            c1, hi = nx + hi, 0
        if c1 <= c0:  # the window sees no input along this axis
            return np.zeros(out_shape, dtype=result_dtype)
        crop[ax] = slice(c0, c1)
        pads.append((lo, hi))
    x = x[tuple(crop)]

    # 4. Arrange x as (N..., G..., [size-1 F axes], S...) and the flipped
    #    kernel as (G..., F..., [size-1 N axes], K...).
    other = [ax for ax in range(nd) if ax not in spatial]
    n_axes = [ax for ax in other if x.shape[ax] > 1 and k.shape[ax] == 1]
    f_axes = [ax for ax in other if x.shape[ax] == 1 and k.shape[ax] > 1]
    g_axes = [ax for ax in other if x.shape[ax] > 1 and k.shape[ax] > 1]
    one_axes = [ax for ax in other if x.shape[ax] == 1 and k.shape[ax] == 1]
    n_sizes = [x.shape[ax] for ax in n_axes]
    g_sizes = [x.shape[ax] for ax in g_axes]
    f_sizes = [k.shape[ax] for ax in f_axes]
    N = math.prod(n_sizes)
    G = math.prod(g_sizes)
    F = math.prod(f_sizes)
    xs = tuple(x.shape[ax] for ax in spatial)
    ks = tuple(k.shape[ax] for ax in spatial)
    x_perm = n_axes + g_axes + f_axes + one_axes + spatial
    k_perm = g_axes + f_axes + n_axes + one_axes + spatial
    xt = x.transpose(x_perm).reshape((N, G) + xs)
    flip = (slice(None),) * 2 + (slice(None, None, -1),) * len(spatial)
    kt = k.transpose(k_perm).reshape((G, F) + ks)[flip]
    if not spatial:  # pure broadcasting: one dummy spatial axis of length 1
        xt = xt[..., None]
        kt = kt[..., None]
        pads = [(0, 0)]

    if pad_mode is not None or materialize:
        xt = _pad_input(xt, pads, route, cdtype, pad_mode, cval)
        pads = [(0, 0)] * len(pads)

    if route == "fallback" or shift_add:
        res = _shift_add(xt, kt, pads, cdtype)
    else:
        res = _run_engine(xt, kt, pads, route, cdtype, nthreads)
    # res: (N, G, F, *O) in the compute dtype -> result dtype
    o_shape = tuple(out_shape[ax] for ax in spatial)
    res = res.reshape(tuple(n_sizes) + tuple(g_sizes) + tuple(f_sizes) + o_shape)
    order = n_axes + g_axes + f_axes + spatial
    # axes of size 1 in both operands come back as new axes
    res = res.transpose(np.argsort(order))
    res = res.reshape(out_shape)
    if route == "int":
        if result_dtype.kind == "b":
            return res != 0
        return np.ascontiguousarray(res).astype(result_dtype, copy=False)
    if res.dtype != result_dtype:
        return res.astype(result_dtype)
    return np.ascontiguousarray(res)


def _product(a, b, result_dtype, route):
    """Broadcast product in the result dtype (wraps like the engine)."""
    if route == "int" and result_dtype.kind == "b":
        return np.logical_and(a, b)
    with np.errstate(all="ignore"):
        return np.multiply(a.astype(result_dtype, copy=False),
                           b.astype(result_dtype, copy=False))


def direct_cost(s1, s2, conv_axes, windows, result_dtype, nthreads, operands=None):
    """Estimated seconds of :func:`conv_window` (zero edges, best layout).

    A real single-channel problem of rank >= 2 whose kernel is rank one is
    priced as the separable route when :mod:`fastconv._separable` would take
    it; that needs the values: `operands` ``(a, b)`` (the arrays of shapes
    `s1`, `s2`; without them the full-kernel route is priced).
    """
    route, cdtype = compute_route(result_dtype)
    if route == "fallback":
        return math.inf
    spatial = [ax for ax in conv_axes if s1[ax] > 1 and s2[ax] > 1]
    if not spatial:
        n = 1
        for n1, n2 in zip(s1, s2):
            n *= max(n1, n2)
        return ENGINE_OUT["f8"] * n
    layout = _best_layout(s1, s2, spatial, windows, route, cdtype, nthreads, None)
    if route == "real" and len(spatial) >= 2:
        from fastconv import _separable
        sep = _separable.planned_cost(s1, s2, spatial, windows, cdtype, nthreads, layout,
                                      operands)
        if sep is not None:
            # the layout's transposed copies (if any) are paid either way
            return layout[0] - sep[1] + sep[0]
    return layout[0]


def _best_layout(s1, s2, spatial, windows, route, cdtype, nthreads, orientation):
    """(cost, orientation, inner axis) minimising :func:`engine_cost`.

    Every operand order (unless fixed) and every choice of the spatial axis
    the engine runs along contiguously is priced; putting another axis
    innermost costs a transposed copy of the input and the output.
    """
    kcode = _kernel_code(route, cdtype)
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
            cost = engine_cost(sp, other, kcode, scale, nthreads)
            if inner != spatial[-1]:
                cost += ENGINE_OUT[kcode] * (n_x + n_out)
            if cost < best[0]:
                best = (cost, which, inner)
    return best


def _pad_input(xt, pads, route, cdtype, pad_mode, cval):
    """Materialise the extension of x (N, G, *S) in the compute dtype."""
    if route == "int":
        xt = xt.astype(np.uint64)
    elif route in ("real", "complex"):
        xt = xt.astype(cdtype, copy=False)
    width = [(0, 0), (0, 0)] + list(pads)
    if pad_mode is None or pad_mode == "constant":
        value = 0 if pad_mode is None else cval
        if route == "int":
            value = np.asarray(value).astype(np.uint64)[()]
        return np.pad(xt, width, mode="constant", constant_values=value)
    return np.pad(xt, width, mode=pad_mode)


def _run_engine(xt, kt, pads, route, cdtype, nthreads):
    """Engine call for x (N, G, *S), flipped kernel (G, F, *K) -> (N, G, F, *O)."""
    if route == "real" and xt.shape[1] == 1 and kt.shape[1] == 1 and xt.ndim >= 4:
        # rank-one kernels as 1-D passes when cheaper (None: not taken)
        from fastconv import _separable
        res = _separable.maybe_run(xt, kt, pads, cdtype, nthreads)
        if res is not None:
            return res
    N, G = xt.shape[:2]
    F = kt.shape[1]
    rank = xt.ndim - 2
    ks = kt.shape[2:]
    geo = dict(stride=(1,) * rank, dilation=(1,) * rank, pads=tuple(pads), groups=G,
               nthreads=nthreads)
    if route in ("real", "int"):
        x = np.ascontiguousarray(xt, dtype=cdtype)
        w = np.ascontiguousarray(kt.reshape((G * F, 1) + ks), dtype=cdtype)
        out = _engine.correlate(x, w, **geo)
        return out.reshape((N, G, F) + out.shape[2:])
    real = _F32 if cdtype == np.complex64 else _F64
    x_c = xt.dtype.kind == "c"
    k_c = kt.dtype.kind == "c"
    if x_c and k_c:
        x = np.empty((N, G, 2) + xt.shape[2:], dtype=real)
        x[:, :, 0] = xt.real
        x[:, :, 1] = xt.imag
        x = x.reshape((N, 2 * G) + xt.shape[2:])
        w = np.empty((G, F, 2, 2) + ks, dtype=real)
        w[:, :, 0, 0] = kt.real
        w[:, :, 0, 1] = -kt.imag
        w[:, :, 1, 0] = kt.imag
        w[:, :, 1, 1] = kt.real
        w = w.reshape((G * F * 2, 2) + ks)
        out = _engine.correlate(x, w, **geo)
        out = out.reshape((N, G, F, 2) + out.shape[2:])
    elif x_c:
        x = np.empty((N, G, 2) + xt.shape[2:], dtype=real)
        x[:, :, 0] = xt.real
        x[:, :, 1] = xt.imag
        x = x.reshape((N, 2 * G) + xt.shape[2:])
        w = np.empty((G, 2, F) + ks, dtype=real)
        w[:, 0] = kt.real if kt.dtype.kind == "c" else kt
        w[:, 1] = w[:, 0]
        w = w.reshape((G * 2 * F, 1) + ks)
        geo["groups"] = 2 * G
        out = _engine.correlate(x, w, **geo)
        out = out.reshape((N, G, 2, F) + out.shape[2:]).swapaxes(2, 3)
    else:
        x = np.ascontiguousarray(xt, dtype=real)
        w = np.empty((G, F, 2) + ks, dtype=real)
        w[:, :, 0] = kt.real
        w[:, :, 1] = kt.imag
        w = w.reshape((G * F * 2, 1) + ks)
        out = _engine.correlate(x, w, **geo)
        out = out.reshape((N, G, F, 2) + out.shape[2:])
    res = np.empty(out.shape[:3] + out.shape[4:], dtype=cdtype)
    res.real = out[:, :, :, 0]
    res.imag = out[:, :, :, 1]
    return res


def _shift_add(xt, kt, pads, result_dtype):
    """NumPy shift-and-add for dtypes the kernels lack (x (N,G,*S), k (G,F,*K)).

    Zero padding is skipped like the engine does.  One NumPy operation per
    kernel tap, in the result dtype.
    """
    N, G = xt.shape[:2]
    F = kt.shape[1]
    S = xt.shape[2:]
    K = kt.shape[2:]
    O = tuple(n + lo + hi - k + 1 for n, k, (lo, hi) in zip(S, K, pads))
    xt = xt.astype(result_dtype, copy=False)
    kt = kt.astype(result_dtype, copy=False)
    out = np.zeros((N, G, F) + O, dtype=result_dtype)
    for tap in np.ndindex(*K):
        osl, isl = [], []
        for t, (lo, _), n, o in zip(tap, pads, S, O):
            # input index i = o + t - lo must lie in [0, n)
            o0 = max(0, lo - t)
            o1 = min(o, n + lo - t)
            if o1 <= o0:
                break
            osl.append(slice(o0, o1))
            isl.append(slice(o0 + t - lo, o1 + t - lo))
        else:
            w = kt[(slice(None), slice(None)) + tap]  # (G, F)
            xs = xt[(slice(None), slice(None), None) + tuple(isl)]
            with np.errstate(all="ignore"):   # inf - inf is nan, silently (as the engine)
                out[(Ellipsis,) + tuple(osl)] += xs * w.reshape((1, G, F) + (1,) * len(S))
    return out
