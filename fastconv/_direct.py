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

import functools
import math

import numpy as np

from fastconv import _dispatch, _engine
from fastconv._engine import has_nonfinite  # noqa: F401 (used here and re-exported)
from fastconv._cost import TINY_MACS, best_layout, compute_route, priced_separable
from fastconv import _separable
from fastconv._threads import team_size

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


# --------------------------------------------------------------------------
# dtypes


class NonFinite:
    """Lazily evaluated ``(has_nonfinite(a), has_nonfinite(b))``.

    Indexing scans an operand on first use only, so a caller that needs to
    know about the small kernel operand never pays for a scan of the large
    input (a full pass over memory: ~0.3 ms for a 2048x2048 float32 image).
    """

    __slots__ = ("_arrays", "_values", "_nthreads")

    def __init__(self, a, b, nthreads=1):
        self._arrays = (a, b)
        self._values = [None, None]
        self._nthreads = nthreads

    def __getitem__(self, i):
        value = self._values[i]
        if value is None:
            value = self._values[i] = has_nonfinite(self._arrays[i], self._nthreads)
        return value

    def known(self, i, value):
        """Record what another pass found out about operand `i`."""
        self._values[i] = bool(value)

    def scanned(self, i):
        """Whether operand `i`'s answer is known (scanned or recorded)."""
        return self._values[i] is not None


class InputScanDeferred:
    """A :class:`NonFinite` whose first operand reads as finite, noting
    that it was asked (``asked``): ``method='auto'`` picks the FFT for
    finite operands only, and the FFT route then checks that operand
    itself, chunk by chunk as it copies it in (see ``_run_fft`` in
    fastconv/signal.py), instead of a pass of its own over memory before
    the route (float64 2048^2: ~0.7 ms of a 10 ms call)."""

    __slots__ = ("nonfinite", "asked")

    def __init__(self, nonfinite):
        self.nonfinite = nonfinite
        self.asked = False

    def __getitem__(self, i):
        if i == 0 and not self.nonfinite.scanned(0):
            self.asked = True
            return False
        return self.nonfinite[i]


# --------------------------------------------------------------------------
# The engine cost model (also used by choose_conv_method)


# --------------------------------------------------------------------------
# The window of a broadcasting N-D convolution


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
    fixed = pad_mode is not None or materialize
    key = (a.shape, b.shape, tuple(int(ax) for ax in conv_axes),
           tuple((int(s), int(n)) for s, n in windows), np.dtype(result_dtype), fixed,
           orientation)
    plan = plan_window(key)
    shift_add = False
    if plan.kind == "engine" and plan.searched:
        # The operand in the kernel role must be finite (the engine's own
        # zero padding may meet every kernel tap).  Only the kernel chosen by
        # cost is scanned first; the other operand only if that one is not
        # finite.
        if nonfinite is None:
            nonfinite = NonFinite(a, b, nthreads)
        kernel_of = {"a": 1, "b": 0}
        if nonfinite[kernel_of[plan.orientation]]:
            other = "b" if plan.orientation == "a" else "a"
            if nonfinite[kernel_of[other]]:
                shift_add = True
            else:
                plan = plan_window(key[:-1] + (other,))
    return run_window(plan, a, b, nthreads, pad_mode=pad_mode, cval=cval, shift_add=shift_add)


class WindowPlan:
    """Shape-only decisions of :func:`conv_window` (see :func:`plan_window`).

    ``kind`` is ``'zeros'`` (nothing to sum: the window sees no input),
    ``'product'`` (no convolved axis: a broadcast product), ``'engine'`` or
    ``'fallback'`` (dtypes the kernels lack: NumPy shift-and-add).
    """

    __slots__ = ("kind", "out_shape", "route", "cdtype", "result_dtype", "sa", "sb",
                 "orientation", "searched", "fixed", "crop", "pads", "x_perm", "k_perm",
                 "x_shape", "k_shape", "flip", "res_shape", "res_perm")

    def __init__(self, kind, out_shape, result_dtype, **fields):
        self.kind = kind
        self.out_shape = out_shape
        self.result_dtype = result_dtype
        self.searched = False
        self.fixed = False
        for name, value in fields.items():
            setattr(self, name, value)


@functools.lru_cache(maxsize=512)
def plan_window(key):
    """Plan :func:`conv_window` for ``key`` = (shape of a, shape of b, conv
    axes, windows, result dtype, fixed edges, orientation or None).  The
    thread count is not part of it: the layout is priced for the machine
    (:data:`fastconv._cost.PRICED_THREADS`), so results do not depend on it.

    Pure and cached: a call of the same geometry plans nothing."""
    s1, s2, conv_axes, windows, result_dtype, fixed, orientation = key
    nd = len(s1)
    # 1. Broadcast axes: slice the window out of the operand that is longer
    #    than 1 (or select the element the window starts at).
    sa, sb, spatial = [], [], []
    for ax in range(nd):
        na, nb = s1[ax], s2[ax]
        start, length = windows[ax]
        if ax in conv_axes and nb > 1 and (na > 1 or fixed):
            # (with fixed edges SciPy multiplies the materialised values too)
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
    sa, sb = tuple(sa), tuple(sb)
    s1 = tuple(len(range(n)[sl]) for n, sl in zip(s1, sa))
    s2 = tuple(len(range(n)[sl]) for n, sl in zip(s2, sb))
    out_shape = tuple(windows[ax][1] if ax in spatial else max(s1[ax], s2[ax])
                      for ax in range(nd))
    route, cdtype = compute_route(result_dtype)
    common = dict(route=route, cdtype=cdtype, sa=sa, sb=sb)
    if 0 in out_shape:
        return WindowPlan("zeros", out_shape, result_dtype)
    if not spatial:
        # Nothing is summed: the result is the broadcast product.
        return WindowPlan("product", out_shape, result_dtype, **common)
    # 2. Layout: which operand is the engine's input x, and which spatial
    #    axis is the engine's contiguous inner axis.
    searched = False
    if fixed:
        orientation = "a"
    if route == "fallback":
        orientation = orientation or "a"
    else:
        searched = orientation is None
        _, orientation, inner = best_layout(s1, s2, spatial, windows, route, cdtype,
                                            orientation)
        spatial = [ax for ax in spatial if ax != inner] + [inner]
    xs, ks = (s1, s2) if orientation == "a" else (s2, s1)
    # 3. Per spatial axis: pads of x (negative: crop x).
    pads, crop = [], [slice(None)] * nd
    for ax in spatial:
        start, length = windows[ax]
        nx, nk = xs[ax], ks[ax]
        lo = nk - 1 - start
        hi = length + nk - 1 - nx - lo
        c0, c1 = max(0, -lo), nx + min(0, hi)
        if c1 <= c0:  # the window sees no input along this axis
            return WindowPlan("zeros", out_shape, result_dtype)
        crop[ax] = slice(c0, c1)
        pads.append((max(lo, 0), max(hi, 0)))
    xs = tuple(len(range(n)[sl]) for n, sl in zip(xs, crop))
    common["fixed"] = fixed
    return _arrange(out_shape, result_dtype, common, orientation, searched, spatial,
                    tuple(crop), pads, xs, ks)


def _arrange(out_shape, result_dtype, common, orientation, searched, spatial, crop, pads,
             xs, ks):
    """4. Arrange x as (N..., G..., [size-1 F axes], S...) and the flipped
    kernel as (G..., F..., [size-1 N axes], K...); the result's way back."""
    nd = len(xs)
    other = [ax for ax in range(nd) if ax not in spatial]
    n_axes = [ax for ax in other if xs[ax] > 1 and ks[ax] == 1]
    f_axes = [ax for ax in other if xs[ax] == 1 and ks[ax] > 1]
    g_axes = [ax for ax in other if xs[ax] > 1 and ks[ax] > 1]
    one_axes = [ax for ax in other if xs[ax] == 1 and ks[ax] == 1]
    n_sizes = tuple(xs[ax] for ax in n_axes)
    g_sizes = tuple(xs[ax] for ax in g_axes)
    f_sizes = tuple(ks[ax] for ax in f_axes)
    N, G, F = math.prod(n_sizes), math.prod(g_sizes), math.prod(f_sizes)
    sx = tuple(xs[ax] for ax in spatial)
    sk = tuple(ks[ax] for ax in spatial)
    order = n_axes + g_axes + f_axes + spatial
    kind = "fallback" if common["route"] == "fallback" else "engine"
    return WindowPlan(
        kind, out_shape, result_dtype, orientation=orientation, searched=searched,
        crop=crop, pads=pads,
        x_perm=tuple(n_axes + g_axes + f_axes + one_axes + spatial),
        k_perm=tuple(g_axes + f_axes + n_axes + one_axes + spatial),
        x_shape=(N, G) + sx, k_shape=(G, F) + sk,
        flip=(slice(None),) * 2 + (slice(None, None, -1),) * len(spatial),
        res_shape=n_sizes + g_sizes + f_sizes + tuple(out_shape[ax] for ax in spatial),
        res_perm=tuple(int(i) for i in np.argsort(order)), **common)


def run_window(plan, a, b, nthreads, *, pad_mode=None, cval=0, shift_add=False):
    """Run a :class:`WindowPlan` on the operands it was planned for (`pad_mode`
    and `cval` extend `a` where the plan has fixed edges; `shift_add` takes
    the exact NumPy loop instead of the engine)."""
    result_dtype = plan.result_dtype
    if plan.kind == "zeros":
        return np.zeros(plan.out_shape, dtype=result_dtype)
    a = a[plan.sa]
    b = b[plan.sb]
    if plan.kind == "product":
        return _product(a, b, result_dtype, plan.route)
    route, cdtype = plan.route, plan.cdtype
    xt, kt = window_operands(plan, a, b)
    pads = plan.pads
    if (plan.fixed and pad_mode is not None and route == "real" and plan.kind != "fallback"
            and not shift_add and _edges_apart(xt.shape, kt.shape, pads, cdtype.itemsize)):
        res = _run_edges_apart(xt, kt, pads, cdtype, nthreads, pad_mode, cval)
    else:
        if plan.fixed:
            xt = _pad_input(xt, pads, route, cdtype, pad_mode, cval)
            pads = [(0, 0)] * len(pads)
        if plan.kind == "fallback" or shift_add:
            res = _shift_add(xt, kt, pads, cdtype)
        else:
            res = run_engine(xt, kt, pads, route, cdtype, nthreads)
    res = window_result(plan, res)
    if route == "int":
        if result_dtype.kind == "b":
            return res != 0
        return np.ascontiguousarray(res).astype(result_dtype, copy=False)
    if res.dtype != result_dtype:
        return res.astype(result_dtype)
    return np.ascontiguousarray(res)


@functools.lru_cache(maxsize=256)
def plain_window_plan(key):
    """What :func:`run_window` would decide from shapes for a call of
    :func:`conv_window` with real float32/float64 operands, once per
    geometry: ``(window plan, engine pads, separable priced, small plan,
    engine plan)``, or None where that call must take :func:`run_window`
    itself (not a real engine window, a plan whose kernel role would be
    taken by `a` (its finiteness unknown), a geometry the engine would
    crop).  `key` as :func:`plan_window`'s."""
    plan = plan_window(key)
    if plan.kind != "engine" or plan.route != "real" or plan.x_shape[1] != 1 or (
            plan.searched and plan.orientation != "a"):
        return None
    cdtype = plan.cdtype
    x_shape, pads = plan.x_shape, tuple(tuple(p) for p in plan.pads)
    if plan.fixed:
        x_shape = x_shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x_shape[2:], pads))
        pads = ((0, 0),) * len(pads)
    N, G = x_shape[:2]
    F = plan.k_shape[1]
    ks = plan.k_shape[2:]
    sep = (G == 1 and F == 1 and len(x_shape) >= 4
           and priced_separable(N, x_shape[2:], ks, pads, cdtype) is not None)
    w_shape = (G * F, 1) + ks
    small = _small_engine_plan(x_shape, w_shape, cdtype.char, pads, G, _dispatch.LEVEL)
    eplan = None
    if small is None:
        rank = len(ks)
        crop, _, _, _, eplan = _engine._geometry_plan(
            x_shape, w_shape, cdtype, (1,) * rank, (1,) * rank, pads, G, False,
            "channels_first", False, _dispatch.LEVEL)
        if crop is not None:
            return None
    return plan, pads, sep, small, eplan


def run_plain_window(pplan, a, b, nthreads, pad_mode=None, cval=0):
    """:func:`run_window` of a :func:`plain_window_plan` (`a`, `b` the
    operands it was planned for, `b` finite), in the compute dtype: the
    same engine call on the same operands, so the same bits, without its
    per-call decisions.  None when the overflow guard wants the baseline
    kernels (the caller then takes :func:`conv_window`)."""
    plan, pads, sep, small, eplan = pplan
    cdtype = plan.cdtype
    xt, kt = window_operands(plan, a[plan.sa], b[plan.sb])
    if plan.fixed and pad_mode is not None and _edges_apart(xt.shape, kt.shape, plan.pads,
                                                            cdtype.itemsize):
        res = _run_edges_apart(xt, kt, plan.pads, cdtype, nthreads, pad_mode, cval)
        return np.ascontiguousarray(window_result(plan, res))
    if plan.fixed:
        xt = _pad_input(xt, plan.pads, "real", cdtype, pad_mode, cval)
    res = _maybe_separable(xt, kt, pads, cdtype, nthreads) if sep else None
    if res is None:
        N, G = xt.shape[:2]
        x = np.ascontiguousarray(xt, dtype=cdtype)
        w = np.ascontiguousarray(kt.reshape((G * kt.shape[1], 1) + kt.shape[2:]), dtype=cdtype)
        out = (_engine.run_small(small, x, w) if small is not None
               else _engine.run_plain(eplan, x, w, nthreads))
        if out is None:
            return None
        res = out.reshape((N, G, kt.shape[1]) + out.shape[2:])
    return np.ascontiguousarray(window_result(plan, res))


def window_operands(plan, a, b):
    """The engine operands of an 'engine' or 'fallback' :class:`WindowPlan`
    (`a` and `b` already sliced by its ``sa``, ``sb``): x (N, G, *S) and
    the flipped kernel (G, F, *K), views."""
    x, k = (a, b) if plan.orientation == "a" else (b, a)
    xt = x[plan.crop].transpose(plan.x_perm).reshape(plan.x_shape)
    return xt, k.transpose(plan.k_perm).reshape(plan.k_shape)[plan.flip]


def window_result(plan, res):
    """The engine's result `res` (N, G, F, *O) arranged as the window of
    `plan` (in the compute dtype)."""
    return res.reshape(plan.res_shape).transpose(plan.res_perm).reshape(plan.out_shape)


def _product(a, b, result_dtype, route):
    """Broadcast product in the result dtype (wraps like the engine)."""
    if route == "int" and result_dtype.kind == "b":
        return np.logical_and(a, b)
    with np.errstate(all="ignore"):
        return np.multiply(a.astype(result_dtype, copy=False),
                           b.astype(result_dtype, copy=False))


# Inputs from this many bytes (in the compute dtype) on are not copied whole
# to extend their edges (see _run_edges_apart): float32 2048^2 3 x 3
# 'reflect', the copy was 1.6 of 4.3 ms (Zen 4).  The strips' own engine
# calls cost ~70-90 us: break-even at ~4 MB (1024^2 float32: 0.69 ms either
# way; 512^2 0.30 against 0.22).
_EDGES_APART_BYTES = 4 << 20


def _edges_apart(x_shape, k_shape, pads, itemsize):
    """Whether :func:`_run_edges_apart` runs a call of x (N, G, *S), kernel
    (G, F, *K): a large input whose padded axes are long next to their
    kernel (the edge strips are then a small share of the output)."""
    if math.prod(x_shape) * itemsize < _EDGES_APART_BYTES:
        return False
    return all(n >= 4 * (k + lo + hi) for n, k, (lo, hi) in zip(x_shape[2:], k_shape[2:], pads)
               if lo or hi)


def _run_edges_apart(xt, kt, pads, cdtype, nthreads, pad_mode, cval):
    """:func:`run_engine` of x extended by `pad_mode` (np.pad's name; `cval`
    for 'constant') without a whole extended copy of x.

    Outputs whose taps all fall inside x do not depend on the extension:
    one engine call with zero edges gives them (the same taps in the same
    order as on the extended copy).  The few outputs near each edge of a
    padded axis (`lo` below, `hi` above) are computed again from a thin
    slab of the extended input -- the rows np.pad would put there, every
    other axis extended in full -- and written over the first call's.
    """
    xt = xt.astype(cdtype, copy=False)
    res = run_engine(xt, kt, pads, "real", cdtype, nthreads)
    S = xt.shape[2:]
    K = kt.shape[2:]
    for ax, (n, k, (lo, hi)) in enumerate(zip(S, K, pads)):
        a = 2 + ax
        for width, first in ((lo, True), (hi, False)):
            if not width:
                continue
            span = width + k - 1              # extended rows the strip reads
            if pad_mode == "constant":
                rows = slice(0, k - 1) if first else slice(n - (k - 1), n)
                slab = xt[(slice(None),) * a + (rows,)]
                ax_pad = (width, 0) if first else (0, width)
            else:
                index = _pad_index(n, lo, hi, pad_mode)
                slab = xt.take(index[:span] if first else index[len(index) - span:], axis=a)
                ax_pad = (0, 0)
            slab_pads = [p if j != ax else ax_pad for j, p in enumerate(pads)]
            slab = _pad_input(slab, slab_pads, "real", cdtype, pad_mode, cval)
            strip = run_engine(slab, kt, [(0, 0)] * len(pads), "real", cdtype, nthreads)
            out_rows = slice(0, width) if first else slice(res.shape[1 + a] - width, None)
            res[(slice(None),) * (1 + a) + (out_rows,)] = strip
    return res


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
        if xt.size <= _SMALL_FRESH:
            out = np.full([n + lo + hi for n, (lo, hi) in zip(xt.shape, width)], value,
                          dtype=xt.dtype)
            out[tuple(slice(lo, lo + n) for n, (lo, hi) in zip(xt.shape, width))] = xt
            return out
        return _pad_in_scratch(xt, width, "constant", value)
    if xt.size <= _SMALL_FRESH:
        # a fresh array: small copies are not worth the scratch buffer's
        # bookkeeping
        shape, center, copies = _pad_copies(xt.shape, tuple(width), pad_mode)
        out = np.empty(shape, dtype=xt.dtype)
        return _fill_pad(out, xt, center, copies)
    return _pad_in_scratch(xt, width, pad_mode)


def _pad_in_scratch(xt, width, mode, value=0):
    """np.pad(xt, width, mode) (``constant_values=value`` for 'constant') in
    the thread's "pad" scratch buffer, reused across calls: np.pad's fresh
    array faulted its
    pages in on every call without glibc's malloc tuning (ndimage.correlate
    float32 2048^2 3x3 'reflect': 12.5 ms, 3.5 with the tuning, 1.4 for
    'constant', which pads nothing)."""
    shape = [n + lo + hi for n, (lo, hi) in zip(xt.shape, width)]
    buf = _engine._scratch(math.prod(shape), xt.dtype, slot="pad").reshape(shape)
    if mode == "constant":
        center = tuple(slice(lo, lo + n) for n, (lo, hi) in zip(xt.shape, width))
        buf[center] = xt
        for axis, ((lo, hi), n) in enumerate(zip(width, xt.shape)):
            before = (slice(None),) * axis
            buf[before + (slice(0, lo),)] = value
            buf[before + (slice(lo + n, None),)] = value
        return buf
    _, center, copies = _pad_copies(xt.shape, tuple(width), mode)
    return _fill_pad(buf, xt, center, copies)


def _fill_pad(buf, xt, center, copies):
    """Write `xt` at `center` of `buf` and its edges by the `copies` of
    :func:`_pad_copies`."""
    buf[center] = xt
    for dst, src in copies:
        buf[dst] = buf[src]
    return buf


@functools.lru_cache(maxsize=256)
def _pad_copies(shape, width, mode):
    """np.pad's extension of an array of `shape` by `width` in `mode` (not
    'constant') as copies within the padded buffer: (padded shape, index of
    the original, [(destination, source) index tuples]).  Axis by axis as
    np.pad: the edges of axis `a` are copied over the extent the axes
    before it already have, so the corners are np.pad's; an edge whose
    source is a run of consecutive rows is one slice copy
    (:func:`_edge_sources`)."""
    pshape = tuple(n + lo + hi for n, (lo, hi) in zip(shape, width))
    center = tuple(slice(lo, lo + n) for n, (lo, hi) in zip(shape, width))
    copies = []
    for axis, (lo, hi) in enumerate(width):
        if not (lo or hi):
            continue
        n = shape[axis]
        src_lo, src_hi = _edge_sources(n, lo, hi, mode)
        rest = tuple(center[a] for a in range(axis + 1, len(shape)))
        before = (slice(None),) * axis
        if lo:
            copies.append((before + (slice(0, lo),) + rest, before + (src_lo,) + rest))
        if hi:
            copies.append((before + (slice(lo + n, None),) + rest,
                           before + (src_hi,) + rest))
    return pshape, center, tuple(copies)


@functools.lru_cache(maxsize=256)
def _edge_sources(n, lo, hi, mode):
    """Where :func:`_pad_in_scratch` reads the `lo` and `hi` edge elements of
    a padded axis (positions in the padded axis): slices where np.pad's
    index pattern is a run of consecutive elements (any edge of one
    element, reflect/mirror/wrap edges within the axis), else the index
    arrays -- a slice copies whole rows, an index gathers element by
    element (256 x 256 float32 'reflect' by one: 23 -> 9 us)."""
    src = _pad_index(n, lo, hi, mode) + lo
    return _as_slice(src[:lo]), _as_slice(src[lo + n:])


def _as_slice(idx):
    """`idx` (integers >= 0) as an equivalent slice when its steps are all
    +1 or all -1, else `idx` itself."""
    if len(idx) == 0:
        return idx
    first, last = int(idx[0]), int(idx[-1])
    if len(idx) == 1:
        return slice(first, first + 1)
    steps = np.diff(idx)
    if (steps == 1).all():
        return slice(first, last + 1)
    if (steps == -1).all():
        return slice(first, last - 1 if last > 0 else None, -1)
    return idx


# Up to this many elements an extension (by a fill, or by edge copies) goes
# into a fresh array, from it into the thread's scratch buffer (Zen 4, 2026-12-06,
# float32 'reflect' by one: 64^2 3.6 us against 5.3, 256^2 10.3 against
# 11.2, 512^2 36 against 35; np.pad 23, 31, 57; the element gather this
# replaced took 13 us at 128^2).
_SMALL_FRESH = 1 << 16


@functools.lru_cache(maxsize=256)
def _pad_index(n, lo, hi, mode):
    """Source index of every element of a length-`n` axis padded by (lo, hi)
    with np.pad's `mode` (read-only)."""
    index = np.pad(np.arange(n, dtype=np.intp), (lo, hi), mode=mode)
    index.setflags(write=False)
    return index


@functools.lru_cache(maxsize=256)
def _small_engine_plan(x_shape, w_shape, dchar, pads, groups, level):
    """:func:`fastconv._engine.plan_small` of :func:`run_engine`'s call, once
    per geometry (and SIMD level, which the plan names)."""
    rank = len(x_shape) - 2
    return _engine.plan_small(x_shape, w_shape, dchar, stride=(1,) * rank,
                              dilation=(1,) * rank, pads=pads, groups=groups)


def run_engine(xt, kt, pads, route, cdtype, nthreads):
    """Engine call for x (N, G, *S), flipped kernel (G, F, *K) -> (N, G, F, *O)."""
    if route == "real" and xt.shape[1] == 1 and kt.shape[1] == 1 and xt.ndim >= 4:
        # rank-one kernels as 1-D passes when cheaper (None: not taken)
        res = _maybe_separable(xt, kt, pads, cdtype, nthreads)
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
        plan = _small_engine_plan(x.shape, w.shape, np.dtype(cdtype).char,
                                  tuple(tuple(p) for p in pads), G, _dispatch.LEVEL)
        out = None if plan is None else _engine.run_small(plan, x, w)
        if out is None:         # not small, or the overflow guard wants the baseline
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


def _maybe_separable(xt, kt, pads, cdtype, nthreads):
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
    >>> _maybe_separable(x, np.ones((1, 1, 3, 3)), [(1, 1), (1, 1)], np.float64, 1) is None
    True
    """
    if not _separable.ENABLED or kt.dtype.kind != "f":
        return None
    N = xt.shape[0]
    spatial = xt.shape[2:]
    klens = kt.shape[2:]
    plan = priced_separable(N, spatial, klens, pads, cdtype)
    if plan is None:
        return None
    plan = plan[0]
    factors = _separable.factorize(kt[0, 0], cdtype)
    if factors is None:
        return None
    x = np.ascontiguousarray(xt, dtype=cdtype).reshape((N,) + tuple(spatial))
    res = _separable.execute(x, factors, plan, nthreads)
    return res.reshape((N, 1, 1) + tuple(plan.out))


# --------------------------------------------------------------------------
# Small calls
#
# Below ~TINY_MACS multiply-adds a call is all set-up: the planning, the
# overflow guard of the fused-multiply-add levels and the tiled driver cost
# several times the arithmetic.  Such a call runs the baseline generic kernel
# (compiled without contraction: SciPy's NaN/inf pattern with no guard
# needed, one thread) with geometry decided once per shape.


class SmallPlan:
    """One generic-kernel call: 5-D shapes of input, kernel and output, the
    kernel's geometry vector and the result's shape."""

    __slots__ = ("x5", "w5", "o5", "geo", "oshape", "bias")

    def __init__(self, x5, w5, o5, geo, oshape, bias):
        self.x5, self.w5, self.o5, self.geo, self.oshape, self.bias = x5, w5, o5, geo, oshape, bias


@functools.lru_cache(maxsize=512)
def plan_small(s1, s2, dchar, windows, limit=TINY_MACS):
    """The :class:`SmallPlan` that computes `windows` (``(start, length)`` per
    axis of the full convolution of shapes `s1` and `s2`), or None when the
    problem is not small (`limit` multiply-adds or more) or needs more than
    zero-skipping edges (a kernel longer than the input on some axis,
    rank > 3, an empty operand)."""
    if not 1 <= len(s1) <= 3 or math.prod(s1) * math.prod(s2) >= limit:
        return None
    if any(k > n or k == 0 for n, k in zip(s1, s2)):
        return None
    oshape = tuple(length for _, length in windows)
    # axes where both operands have length 1 hold one tap and one output:
    # dropped, so that a column (n, 1) runs along its long axis instead of
    # n rows of one element (1000 x 1 by 31 x 1: 194 -> 14 us, the same sums
    # in the same order)
    keep = [i for i, (n, k) in enumerate(zip(s1, s2)) if n > 1 or k > 1] or [len(s1) - 1]
    s1, s2 = tuple(s1[i] for i in keep), tuple(s2[i] for i in keep)
    windows = tuple(windows[i] for i in keep)
    rank = len(s1)
    lead = (1,) * (3 - rank)
    pad_lo = tuple(k - 1 - start for (start, _), k in zip(windows, s2))
    geo = np.array((1, 1, 1) * 2 + (0,) * (3 - rank) + pad_lo, dtype=np.intp)
    geo.flags.writeable = False
    bias = np.zeros(0, dtype=dchar)
    bias.flags.writeable = False
    o1 = tuple(length for _, length in windows)
    return SmallPlan((1, 1) + lead + s1, (1, 1) + lead + s2, (1, 1) + lead + o1,
                     geo, oshape, bias)


def run_small(plan, x, w):
    """Correlate `x` with `w` (the flipped convolution kernel) as planned:
    same float dtype, any strides.  None when `w` holds NaN or infinity
    (SciPy's N-D direct method multiplies materialised zeros then: the
    general route reproduces it)."""
    kern = _dispatch.get_kernels("baseline")
    w = np.ascontiguousarray(w).reshape(plan.w5)
    if kern.any_nonfinite(w.reshape(-1), 1):
        return None
    out = np.empty(plan.o5, dtype=w.dtype)
    kern.correlate_channels_first(np.ascontiguousarray(x).reshape(plan.x5), w, out, plan.bias,
                                  plan.geo, 1, False, False, plan.o5[-1], 1)
    return out.reshape(plan.oshape)
