"""scipy.ndimage's separable linear filters on fastconv's line kernels.

Public functions (re-exported by :mod:`fastconv.ndimage`):
:func:`gaussian_filter`, :func:`gaussian_filter1d`, :func:`uniform_filter`,
:func:`uniform_filter1d`, :func:`sobel`, :func:`prewitt`, :func:`laplace`,
:func:`gaussian_laplace`, :func:`gaussian_gradient_magnitude`,
:func:`generic_laplace`, :func:`generic_gradient_magnitude`.

How a call runs
---------------
Every filter is a list of 1-D passes ``(axis, weights or box size, origin,
mode)`` in SciPy's order.  Each pass is one call of a compiled kernel
(``fastconv/_filter_kernels.pxi``) along one axis of the array seen as
``(P, N, Q)``; the boundary extension is an index map (no padded copy).  A
pass along a non-contiguous axis computes four output rows at a time, each
input row vector loaded once for the four (the same sums, bit for bit).  A
pass along the second-to-last axis followed by one along the last axis runs
as one fused sweep (the first pass's row never goes to memory); three
correlation passes along the last three axes run as one sweep over planes
(a per-thread plane buffer of at most ``_PLANE_MAX`` elements).

Two routes, by output dtype:

* float32 / float64 / complex outputs ("fast"): computed in float32 when
  both input and output are float32 (complex64: each part), else float64, at
  the dispatched SIMD level, passes fused where they can be; passes along
  the last two axes with non-constant modes commute exactly (in exact
  arithmetic) and may be reordered to fuse.
* integer and bool outputs ("exact"): SciPy's own arithmetic, bit for bit:
  float64 at the dispatched SIMD level with no multiply-add contracted
  into an FMA (``filter_lines(..., exact=True)``), one pass at a time,
  each pass cast to the output dtype as SciPy stores it (truncation,
  wrap-around) before the next.

Accuracy of the fast route (the bound the tests use)
----------------------------------------------------
A correlation pass computes SciPy's sum of ``k`` products in SciPy's order,
in the compute dtype, possibly with FMA: per element the difference to
SciPy's float64 result is at most ``(k + 2) u sum_t |w_t x_t|`` (u the unit
roundoff of the compute dtype), plus, for float32, SciPy's own rounding of
its stored intermediate.  A uniform pass along the contiguous axis sums
the ``k`` window values directly (bound as above); along other axes it is
the running mean of SciPy in a float64 accumulator restarted every
``_STRIP`` rows: ``|err| <= 2 (strip + k) u64 max|x|`` per pass before the
final rounding to float32 — far below float32's rounding, and for float64 no
worse than SciPy's own running sum over a whole line.

Anything else (float16 and long double inputs, object arrays, a complex
input with a real output, float16 outputs) is handed to ``scipy.ndimage``
itself, which computes or raises exactly as SciPy does.
"""

import functools
import math
import numbers
import warnings

import numpy as np
import scipy.ndimage as _nd

from fastconv import _dispatch, _engine
from fastconv._docs import docfiller
from fastconv._errors import RuntimeValueError
from fastconv._ndimage_args import (_X86, INT_LINE_DTYPES, c_edge, c_laplace, c_modes,
                                    c_passes, c_uniform, c_uniform1d, cast, check_axes,
                                    normalize_sequence, output_array, scipy_if_small)
from fastconv._threads import resolve_workers, team_size

try:  # NumPy >= 2
    from numpy.lib.array_utils import normalize_axis_index
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import normalize_axis_index

__all__ = ["gaussian_filter", "gaussian_filter1d", "uniform_filter", "uniform_filter1d",
           "sobel", "prewitt", "laplace", "gaussian_laplace", "gaussian_gradient_magnitude",
           "generic_laplace", "generic_gradient_magnitude"]

_MODES = {"reflect": "reflect", "grid-mirror": "reflect", "mirror": "mirror",
          "nearest": "nearest", "wrap": "wrap", "grid-wrap": "wrap",
          "constant": "constant", "grid-constant": "constant"}
_STRIP = 64          # rows per unit of the fused/strided running mean (fast route)
_QBLOCK = 2048       # columns per unit of a strided correlation pass
_BOX_DIRECT = 32     # contiguous-axis box sums up to this size are direct sums
_SHORT_LINE = 8      # contiguous lines up to this length run transposed
_SHORT_GROUP = 64    # ... that many lines at a time (filter_short)
_FUSE_MIN_LAST = 8   # fused sweeps need a contiguous axis at least this long
_NARROW_Q = 16       # correlations across at most this many columns: filter_narrow
_NARROW_BOX_Q = 3    # ... box filters (not exact) across at most this many
_LEVEL = [None]      # tests: force a SIMD level of the fast route


# --------------------------------------------------------------------------
# argument handling (SciPy's rules and messages)


def _mode(mode):
    if isinstance(mode, str) and mode in _MODES:
        return _MODES[mode]
    raise RuntimeValueError("boundary mode not supported")


def _ext_index(n, k, before, mode):
    """Index map of an axis of length n extended by `before` samples in
    front and ``k - 1 - before`` behind (-1: the constant).  Entry i is the
    position ``i - before``, so only the first `before` and the last
    ``k - 1 - before`` entries can leave the axis: the mode's arithmetic runs
    on those alone (over the whole map it took 2 ms for 200000 samples,
    five times SciPy's whole uniform_filter1d there)."""
    p = np.arange(-before, n + k - 1 - before, dtype=np.intp)
    head = p[:max(0, min(before, p.size))]
    tail = p[max(0, n + before):]
    for q in (head, tail):
        if q.size:
            q[...] = _fold(q, n, mode)
    return p


def _fold(p, n, mode):
    """Positions `p` outside [0, n) mapped into it by an extension mode."""
    if mode == "constant":
        return np.where((p >= 0) & (p < n), p, -1)
    if mode == "nearest":
        return np.clip(p, 0, n - 1)
    if mode == "wrap":
        return np.mod(p, n)
    if mode == "reflect":
        q = np.mod(p, 2 * n)
        return np.where(q >= n, 2 * n - 1 - q, q)
    # mirror
    if n == 1:
        return np.zeros_like(p)
    q = np.mod(p, 2 * n - 2)
    return np.where(q >= n, 2 * n - 2 - q, q)


def line_index(n, k, before, mode):
    """:func:`_ext_index` for an ndimage `mode` name, cached (read-only)."""
    return _cached_index(n, k, before, _mode(mode))


@functools.lru_cache(maxsize=256)
def _cached_index(n, k, before, mode):
    idx = _ext_index(n, k, before, mode)
    idx.setflags(write=False)
    return idx


_EPS64 = float(np.finfo(np.float64).eps)


def _symmetry(w):
    """SciPy's test: 1 symmetric, -1 antisymmetric, 0 neither (odd lengths;
    `w` float64)."""
    k = len(w)
    if not k & 1:
        return 0
    c = k // 2
    eps = _EPS64
    if k <= 64:
        # Python floats (float64, the same comparisons): NumPy's took ~4 us,
        # as long as a small pass
        v = w.tolist()
        if all(abs(v[c + j] - v[c - j]) <= eps for j in range(1, c + 1)):
            return 1
        if all(abs(v[c + j] + v[c - j]) <= eps for j in range(1, c + 1)):
            return -1
        return 0
    left, right = w[c - 1::-1] if c else w[:0], w[c + 1:]
    if np.all(np.abs(right - left) <= eps):
        return 1
    if np.all(np.abs(right + left) <= eps):
        return -1
    return 0


@functools.lru_cache(maxsize=64)
def _box(k, dtype):
    """`k` ones of `dtype` (read-only): a box pass's weights."""
    w = np.ones(k, dtype=dtype)
    w.setflags(write=False)
    return w


_F64 = np.dtype(np.float64)


class Pass:
    """One 1-D pass: weights (correlation) or a box size, origin, mode."""

    __slots__ = ("axis", "weights", "size", "origin", "mode", "_sym")

    def __init__(self, axis, weights=None, size=None, origin=0, mode="reflect", sym=None):
        self.axis, self.weights, self.size = axis, weights, size
        self.origin, self.mode = origin, _mode(mode)
        self._sym = sym

    @property
    def symmetry(self):
        """:func:`_symmetry` of the weights (0 for a box), found once."""
        if self._sym is None:
            self._sym = 0 if self.weights is None else _symmetry(
                np.asarray(self.weights, dtype=np.float64))
        return self._sym

    @property
    def k(self):
        return self.size if self.weights is None else len(self.weights)

    def index(self, n):
        k = self.k
        return _cached_index(n, k, k // 2 + self.origin, self.mode)


@functools.lru_cache(maxsize=64)
def _supported(in_dtype, out_dtype):
    if in_dtype.kind not in "biufc" or in_dtype in (np.float16, np.longdouble,
                                                    np.clongdouble):
        return False
    if out_dtype.kind == "c":
        return out_dtype in (np.complex64, np.complex128)
    if in_dtype.kind == "c":
        return False
    return out_dtype.kind in "biu" or out_dtype in (np.float32, np.float64)


def _cast_out(res, dtype):
    """Store `res` as SciPy's C loops store it in `dtype`.  bool outputs get
    the raw byte of the C cast ``(npy_bool)value`` (so -1.0 is the byte 255,
    which the next pass of a multi-axis filter reads back as 255, as in
    SciPy), every other dtype :func:`fastconv.ndimage._cast`."""
    if np.dtype(dtype).kind == "b" and res.dtype.kind == "f":
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return res.astype(np.uint8).view(np.bool_)
    return cast(res, dtype, rule="1d")


def _finish(res, out_arr, out_dtype):
    res = _cast_out(res, out_dtype)
    if out_arr is None:
        return np.ascontiguousarray(res)
    out_arr[...] = res
    return out_arr


# --------------------------------------------------------------------------
# running passes


def _pass_view(shape, axis):
    # math.prod: np.prod of a tuple took ~3 us, as long as a small pass
    P = math.prod(shape[:axis])
    Q = math.prod(shape[axis + 1:])
    return (P, shape[axis], Q)


def _one_pass(kern, x, ps, cval, exact, nthreads, out=None, store=0):
    """One pass of `ps` over x (C-contiguous, compute dtype) -> new array
    (or `out`, an array of x's shape and dtype not overlapping x, where the
    pass writes in place)."""
    shape = x.shape
    v = _pass_view(shape, ps.axis)
    if v[1] == 1:
        # an axis of length 1: every line is one sample, so the lines go
        # side by side as the columns of one (the same taps, in the same
        # order, per sample): 100 x 100 x 1 along the last axis ran 10000
        # lines of one sample (sobel 0.51x SciPy)
        v = (1, 1, v[0] * v[2])
    P, N, Q = v
    if out is None:
        out = np.empty(shape, dtype=x.dtype)
    if x.size == 0:
        return out
    k = ps.k
    box = ps.weights is None
    w = _box(k, x.dtype) if box else np.ascontiguousarray(ps.weights, dtype=x.dtype)
    sym = ps.symmetry
    idx = ps.index(N)
    off = k // 2 + ps.origin
    # box sums along lines (contiguous or in line buffers): SciPy's running
    # mean where exact or long, else direct sums
    running = int(box and (exact or k > _BOX_DIRECT))
    if Q == 1 and 1 < N <= _SHORT_LINE and P >= 64:
        # many short contiguous lines: _SHORT_GROUP of them side by side in a
        # transposed buffer, the taps of each sample in the same order
        # (filter_short)
        kern.filter_short(x.reshape(P, N), out.reshape(P, N), w, idx, sym, int(box), running,
                          cval, _SHORT_GROUP,
                          team_size(nthreads, -(-P // _SHORT_GROUP), work=x.size * k), exact,
                          store)
        return out
    if 1 < Q <= (_NARROW_BOX_Q if box else _NARROW_Q) and not (box and exact):
        # few columns: the Q interleaved lines of a segment split into line
        # buffers, each filtered as a contiguous line is (filter_narrow); the
        # rows route's units were a few outputs.  Box filters only across 2
        # or 3 columns, not exact (Zen 4, 2 threads, uniform_filter1d along
        # W: float64 512 x 512 x 2, 5 / 41 taps, 0.98 / 0.76x SciPy -> 1.8 /
        # 1.2x; from 6 columns, and for integers at any width, the rows
        # route's running sums across the columns were faster: 256 x 256 x 16
        # float64 5.4 against 3.2x, uint8 512 x 512 x 3 1.4 against 1.1x)
        seg = max(64, kern.line_segment() // Q)
        units = P if running else P * -(-N // seg)
        kern.filter_narrow(x.reshape(v), out.reshape(v), w, idx, sym, cval, seg,
                           team_size(nthreads, units, work=x.size * k), exact, store, int(box),
                           running)
        return out
    if Q == 1:
        qblock, strip = 1, N
        # segments of long lines are units too (not the running mean's)
        units = P if running else P * -(-N // kern.line_segment())
    else:
        running = 1
        qblock = min(Q, _QBLOCK)
        strip = N if exact else _STRIP
        nqb = -(-Q // qblock)
        units = P * nqb * (-(-N // strip) if box else N)
    kern.filter_lines(x.reshape(v), out.reshape(v), w, idx, off, sym, int(box), running,
                      cval, qblock, strip, team_size(nthreads, units, work=x.size * k), exact,
                      store)
    return out


def _fused(kern, x, pv, ph, cval, nthreads):
    """Pass `pv` (axis ndim-2) then `ph` (axis ndim-1) in one sweep."""
    shape = x.shape
    H, W = shape[-2], shape[-1]
    P = x.size // (H * W) if x.size else 0
    out = np.empty(shape, dtype=x.dtype)
    if x.size == 0:
        return out
    box = pv.weights is None
    if box:
        wv = _box(pv.k, x.dtype)
        wh = _box(ph.k, x.dtype)
        symv = symh = 0
    else:
        wv = np.ascontiguousarray(pv.weights, dtype=x.dtype)
        wh = np.ascontiguousarray(ph.weights, dtype=x.dtype)
        symv, symh = pv.symmetry, ph.symmetry
    strip = min(H, _STRIP) if box else max(1, min(H, 16))
    units = P * -(-H // strip)
    cvv = cval if pv.mode == "constant" else 0.0
    cvh = cval if ph.mode == "constant" else 0.0
    kern.filter_fused(x.reshape(P, H, W), out.reshape(P, H, W), wv, pv.index(H), symv,
                      wh, ph.index(W), ph.k // 2 + ph.origin, symh, int(box), cvv, cvh,
                      strip, team_size(nthreads, units, work=x.size * (pv.k + ph.k)))
    return out


_PLANE_MAX = 1 << 17   # elements of the per-thread plane buffer of a 3-pass sweep


def _fused3(kern, x, pd, pv, ph, cval, nthreads):
    """Passes along axes ndim-3, ndim-2, ndim-1 (correlations) in one sweep."""
    shape = x.shape
    D, H, W = shape[-3:]
    P = x.size // (D * H * W) if x.size else 0
    out = np.empty(shape, dtype=x.dtype)
    if x.size == 0:
        return out
    ws = [np.ascontiguousarray(ps.weights, dtype=x.dtype) for ps in (pd, pv, ph)]
    sy = [ps.symmetry for ps in (pd, pv, ph)]
    cv = [cval if ps.mode == "constant" else 0.0 for ps in (pd, pv, ph)]
    work = x.size * (pd.k + pv.k + ph.k)
    # four output planes per unit where their buffers fit the budget (the
    # first pass then loads each input row once for the four)
    group = 4 if 4 * H * W <= _PLANE_MAX else 1
    kern.filter_fused3(x.reshape(P, D, H, W), out.reshape(P, D, H, W), ws[0], pd.index(D),
                       sy[0], ws[1], pv.index(H), sy[1], ws[2], ph.index(W),
                       ph.k // 2 + ph.origin, sy[2], cv[0], cv[1], cv[2],
                       team_size(nthreads, P * -(-D // group), work=work), group)
    return out


def _fuse3_order(group, ndim, plane):
    """The three passes of `group` ordered by axis when they can run as one
    3-pass sweep (correlations along the last three axes, a plane that fits
    the buffer; reordered only when no mode is constant), else None."""
    if len(group) != 3 or ndim < 3 or plane > _PLANE_MAX:
        return None
    if any(ps.weights is None for ps in group):
        return None
    ordered = sorted(group, key=lambda ps: ps.axis)
    if [ps.axis for ps in ordered] != [ndim - 3, ndim - 2, ndim - 1]:
        return None
    if ordered != group and any(ps.mode == "constant" for ps in group):
        return None
    return ordered


def _can_fuse(a, b, ndim):
    """Pass a (axis ndim-2) then b (axis ndim-1) as one sweep: two
    correlations, or two boxes whose row box is short enough for the fused
    direct row sum (longer row boxes keep their O(1) running sum)."""
    if a.axis != ndim - 2 or b.axis != ndim - 1:
        return False
    if a.weights is None and b.weights is None:
        return b.k <= _BOX_DIRECT
    return a.weights is not None and b.weights is not None


# Integer inputs up to this many elements whose passes are all cheap (box
# sums, or at most 3 taps: sobel, prewitt, laplace) run the exact route on
# one thread.  Its float64 buffers pass between the caller's thread (the
# conversion in, the cast out) and the team, and between passes along
# different axes; moving those lines between the two cores' caches cost
# more than the second core saved (Zen 4 KVM guest, 2 vCPUs, 2026-12-06;
# uint8, default (2 threads) / one thread, us): uniform_filter 5 512^2
# 1427 / 861 (SciPy 1401), 64^3 3549 / 1331 (3057), 128^3 17 981 /
# 11 696; sobel 512^2 895 / 585, 64^3 2557 / 1054, 128^3 16 195 / 9 608;
# uniform_filter1d 5 along axis 0 of 64^3 1565 / 200 (SciPy 1870).  From
# 2048^2 (4 M) two threads won the 3-tap passes (sobel 11.7 against 14.1
# ms), not the box sums (uniform_filter 18.3 / 17.9 ms; uniform_filter1d 15
# along axis 1 of 1000 x 1000 x 3 8.2 / 6.0, SciPy 6.5): box passes stay on
# one thread up to 8 M elements.  Longer kernels (gaussian_filter) keep the
# team.
_EXACT_SERIAL_MAX = 1 << 21
_EXACT_SERIAL_MAX_BOX = 1 << 23

# Output dtypes whose stores between exact passes the line kernels make
# themselves (filter_lines' `store`; x86-64 conversions)
_STORE_CODE = {np.dtype(np.uint8): 1, np.dtype(np.int8): 2, np.dtype(np.uint16): 3,
               np.dtype(np.int16): 4}


def _run_real(x, passes, cval, out_dtype, nthreads):
    """Run `passes` over a real array; returns an array of `out_dtype`
    (or a compute-dtype array the caller casts)."""
    exact = out_dtype.kind in "biu"
    kern = _dispatch.get_kernels(_LEVEL[0])
    if exact:
        # SciPy's float64 arithmetic at the dispatched level: the exact
        # kernels contract no multiply-add (the baseline level ran them on
        # 128-bit vectors: uint8 128^3 gaussian_filter 0.85x SciPy)
        cdtype = np.dtype(np.float64)
    else:
        cdtype = np.dtype(np.float32 if (out_dtype == np.float32 and
                                         x.dtype in (np.float32, np.complex64))
                          else np.float64)
    spare = None        # a float64 buffer of the exact route free for the next pass
    if exact and nthreads > 1 and x.size <= _EXACT_SERIAL_MAX_BOX and all(
            p.weights is None or (p.k <= 3 and x.size <= _EXACT_SERIAL_MAX)
            for p in passes):
        nthreads = 1
    if exact and x.size:
        # the two float64 buffers of the passes from the thread's scratch
        # (reused across calls; the result is cast to a new array of the
        # integer dtype): fresh ones faulted their pages in on every call
        # without glibc's malloc tuning (uint8 512^2 sobel 0.59x SciPy)
        buf = _engine._scratch(2 * x.size, cdtype, slot="nd")
        cur = buf[:x.size].reshape(x.shape)
        np.copyto(cur, x, casting="unsafe")
        spare = buf[x.size:].reshape(x.shape)
    else:
        cur = np.ascontiguousarray(x, dtype=cdtype)
    # the passes themselves store the integer values between passes (x86-64:
    # NumPy's casts are the 32-bit conversion there, see _ndimage_args._c_convert)
    store = _STORE_CODE.get(out_dtype, 0) if exact and _X86 else 0
    ndim = cur.ndim
    # drop passes along length-1 axes? no: they still map cval/edges; keep them
    passes = list(passes)
    i = 0
    while i < len(passes):
        a = passes[i]
        nxt = passes[i + 1] if i + 1 < len(passes) else None
        # fused sweeps run along the contiguous axis: not when it is short
        # (length 1 to 7: separate passes run its lines side by side,
        # filter_short, and the others across its few columns,
        # filter_narrow; Zen 4, gaussian_filter sigma 2, 1 / 2 threads:
        # float64 512 x 512 x 3 fused 39 / 18 ms, separate 19 / 9.6;
        # 256 x 256 x 6 13 / 13 against 6.5 / 4.9; (100000, 3) 7.8 / 4.3
        # against 4.4 / 2.2; from 8 the fused sweeps were faster in float64)
        fuse = not exact and cur.shape[-1] >= _FUSE_MIN_LAST
        if fuse and i + 2 < len(passes):
            trio = _fuse3_order(passes[i:i + 3], ndim, cur.shape[-1] * cur.shape[-2])
            if trio is not None:
                cur = _fused3(kern, cur, *trio, cval, nthreads)
                i += 3
                continue
        if fuse and nxt is not None and ndim >= 2:
            if _can_fuse(a, nxt, ndim):
                cur = _fused(kern, cur, a, nxt, cval, nthreads)
                i += 2
                continue
            if (_can_fuse(nxt, a, ndim) and a.mode != "constant"
                    and nxt.mode != "constant"):
                cur = _fused(kern, cur, nxt, a, cval, nthreads)
                i += 2
                continue
        between = exact and i + 1 < len(passes)
        res = _one_pass(kern, cur, a, cval, exact, nthreads, out=spare,
                        store=store if between else 0)
        if between:
            if not store:
                # SciPy stores every pass in the output dtype: cast, and read
                # back into the pass's own float64 buffer (with `store` the
                # pass did both in its sweep: they were two more sweeps over
                # float64 memory, uint8 128^3 sobel 0.77x SciPy)
                stored = _cast_out(res, out_dtype)
                np.copyto(res, stored.view(np.uint8) if stored.dtype.kind == "b" else stored,
                          casting="unsafe")
            # the buffer this pass read is the next one's output: two float64
            # arrays for any number of passes (a fresh one per pass faulted
            # its pages in without glibc's malloc tuning)
            spare = None if np.may_share_memory(cur, x) else cur
        cur = res
        i += 1
    return cur


# outputs per unit of the integer line kernel on long lines (None: the
# float passes' segment, line_segment(); its per-thread buffers of two
# segments of float64 stay below glibc's mmap threshold, 128 KiB, so a call
# faults no fresh pages in); tests set small values
_INT_SEG = None
_INT_GROUP = 64       # short integer lines per unit, side by side


def _int_line_pass(x, ps, cval, out_arr, out_dtype, nthreads):
    """Pass `ps` along the last axis of the 8- or 16-bit integer array `x`
    into `out_dtype` (the same dtype) by the integer line kernel
    (``filter_lines_int``: SciPy's float64 arithmetic and x86-64 stores, bit
    for bit); None where it does not apply (other dtypes or platforms, a
    non-native byte order, a complex or non-finite `cval`: SciPy's loop)."""
    dt = x.dtype
    if dt != out_dtype or dt not in INT_LINE_DTYPES or not dt.isnative:
        return None
    if isinstance(cval, (str, bytes, complex, np.complexfloating)):
        return None
    cv = float(cval)
    if not math.isfinite(cv):
        return None
    N = x.shape[-1]
    P = x.size // N if N else 0
    direct = (out_arr is not None and out_arr.flags.c_contiguous
              and not np.may_share_memory(out_arr, x))
    res = out_arr if direct else np.empty(x.shape, dt)
    if P == 0:
        return _finish_int(res, out_arr, direct)
    k = ps.k
    box = ps.weights is None
    w = _box(k, _F64) if box else np.ascontiguousarray(ps.weights, dtype=np.float64)
    sym = ps.symmetry
    kern = _dispatch.get_kernels(_LEVEL[0])
    # short lines run side by side, _INT_GROUP at a time; long ones in
    # segments (a few long lines still use the threads)
    seg = _INT_SEG or kern.line_segment()
    group = _INT_GROUP if N <= _SHORT_LINE and P >= 2 * _INT_GROUP else 1
    units = -(-P // group) if group > 1 else P * (1 if box else -(-N // seg))
    kern.filter_lines_int(np.ascontiguousarray(x).reshape(P, N), res.reshape(P, N), w,
                          ps.index(N), k // 2 + ps.origin, sym, int(box), cv, seg,
                          group, team_size(nthreads, units, work=x.size * k))
    return _finish_int(res, out_arr, direct)


def _finish_int(res, out_arr, direct):
    if out_arr is None or direct:
        return res
    out_arr[...] = res
    return out_arr


def apply_passes(input, passes, output, cval, workers, complex_output, scipy_call,
                 small_checked=False):
    """Validate dtypes, run the passes, fill/return the output (small calls:
    SciPy's own, see :func:`fastconv._ndimage_args.scipy_if_small`, unless
    the caller has already applied its own rule: `small_checked`)."""
    if not small_checked:
        res = scipy_if_small("filter", input.size, input.dtype, input.ndim, scipy_call,
                             shape=input.shape,
                             axis=passes[0].axis if len(passes) == 1 else None)
        if res is not None:
            return res
    nthreads = resolve_workers(workers)
    out_arr, out_dtype = output_array(output, input, complex_output)
    if not _supported(input.dtype, np.dtype(out_dtype)):
        return scipy_call()
    out_dtype = np.dtype(out_dtype)
    if (out_dtype.kind in "biu" and input.dtype.kind in "biu" and len(passes) == 1
            and passes[0].axis == input.ndim - 1):
        # one integer pass along the contiguous axis: the exact route would
        # convert the whole array to float64 and back around it (uint8
        # uniform_filter1d along the last axis of 2048 x 2048 11.8 ms against
        # SciPy's 7.5); 8- and 16-bit lines are read and stored as integers
        # by their own kernel instead, other dtypes run SciPy's loop
        # (multi-pass integer filters keep the route: 2048 x 2048 uint8
        # gaussian_filter 1.9x, sobel 2.3x SciPy)
        res = _int_line_pass(input, passes[0], cval, out_arr, out_dtype, nthreads)
        return scipy_call() if res is None else res
    if not passes:
        if out_arr is None:
            if input.dtype == out_dtype:
                return input.copy()
            return cast(input, out_dtype, rule="1d").copy()
        out_arr[...] = input
        return out_arr
    if out_dtype.kind == "c":
        real_out = np.dtype(np.float32 if out_dtype == np.complex64 else np.float64)
        cv = complex(cval)
        if input.dtype.kind == "c":
            re = _run_real(input.real, passes, cv.real, real_out, nthreads)
            im = _run_real(input.imag, passes, cv.imag, real_out, nthreads)
        else:
            if cv.imag != 0:
                raise ValueError("Cannot provide a complex-valued cval when the input is real.")
            re = _run_real(input, passes, cv.real, real_out, nthreads)
            im = np.zeros_like(re)
        res = np.empty(input.shape, dtype=out_dtype)
        res.real = re
        res.imag = im
        return _finish(res, out_arr, out_dtype)
    if isinstance(cval, (str, bytes, complex, np.complexfloating)):
        raise TypeError(f"must be real number, not {type(cval).__name__}")
    res = _run_real(input, passes, float(cval), out_dtype, nthreads)
    return _finish(res, out_arr, out_dtype)


# --------------------------------------------------------------------------
# Gaussian


def _gaussian_kernel1d(sigma, order, radius):
    """Correlation weights of scipy.ndimage's Gaussian (derivative) kernel
    (SciPy's own function where available, so the weights are bitwise its)."""
    from scipy.ndimage import _filters
    fn = getattr(_filters, "_gaussian_kernel1d", None)
    if fn is not None:
        return fn(sigma, order, radius)
    if order < 0:  # pragma: no cover - only without SciPy's helper
        raise ValueError("order must be non-negative")
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (sigma * sigma) * x ** 2)
    phi = phi / phi.sum()
    q = np.zeros(order + 1)
    q[0] = 1
    D = np.diag(np.arange(1, order + 1), 1)
    Pm = np.diag(np.ones(order) / -(sigma * sigma), -1)
    for _ in range(order):
        q = (D + Pm).dot(q)
    return (x[:, None] ** np.arange(order + 1)).dot(q) * phi


def _gauss_pass(axis, sigma, order, mode, truncate, radius):
    sd = float(sigma)
    lw = int(truncate * sd + 0.5)
    if radius is not None:
        lw = radius
    if not isinstance(lw, numbers.Integral) or lw < 0:
        raise ValueError("Radius must be a nonnegative integer.")
    if isinstance(sigma, _SCALARS) and type(order) is int and type(lw) is int:
        # cached (SciPy's kernel function and the symmetry test took ~15 us
        # a pass, as long as the filtering of a 128 x 128 image)
        return Pass(axis, weights=_gauss_weights(type(sigma), sigma, order, lw), mode=mode,
                    sym=_gauss_symmetry(type(sigma), sigma, order, lw))
    weights = _gaussian_kernel1d(sigma, order, lw)[::-1]
    return Pass(axis, weights=np.ascontiguousarray(weights, dtype=np.float64), mode=mode)


_SCALARS = (int, float, np.integer, np.floating)


@functools.lru_cache(maxsize=256)
def _gauss_weights(stype, sigma, order, lw):
    """The weights SciPy's gaussian_filter1d hands to correlate1d (its
    kernel reversed), computed once per (sigma and its type, order,
    radius): SciPy computes them on every call, 5 of the 14 us of a
    50-sample gaussian_filter."""
    w = np.ascontiguousarray(_gaussian_kernel1d(sigma, order, lw)[::-1], dtype=np.float64)
    w.flags.writeable = False
    return w


@functools.lru_cache(maxsize=256)
def _gauss_symmetry(stype, sigma, order, lw):
    """:func:`_symmetry` of :func:`_gauss_weights`, once per its arguments."""
    return _symmetry(_gauss_weights(stype, sigma, order, lw))


def _small_gaussian(input, sigma, order, mode, cval, truncate, radius, axis=None):
    """A small ``gaussian_filter`` (`axis` None) or ``gaussian_filter1d``
    call with the default output and axes, as SciPy runs it -- the same
    correlate1d passes, in the same order, into the same output, with the
    same weights, so the same bits -- by SciPy's C filter
    (:func:`fastconv._ndimage_args.c_passes`) with the weights cached
    (:func:`_gauss_weights`); None for any argument outside the plain cases
    (scalar or per-axis sigmas, an int order, str modes, an int radius, an
    input dtype SciPy's C loops take): the general route then runs (and
    raises SciPy's errors)."""
    if not isinstance(order, (int, np.integer)) or not (
            radius is None or isinstance(radius, (int, np.integer))):
        return None
    modes = c_modes(input, mode, cval)
    if modes is None:
        return None
    n = input.ndim
    try:
        if axis is not None:
            if type(mode) is not str:
                return None
            axis = normalize_axis_index(axis, n)
            sigmas = [None] * n
            sigmas[axis] = sigma
        elif isinstance(sigma, _SCALARS):
            sigmas = [sigma] * n
        elif type(sigma) in (tuple, list) and len(sigma) == n and all(
                isinstance(v, _SCALARS) for v in sigma):
            sigmas = sigma
        else:
            return None
        passes = []
        for ax in range(n):
            sg = sigmas[ax]
            if sg is None or (axis is None and not sg > 1e-15):
                continue
            lw = int(truncate * float(sg) + 0.5) if radius is None else radius
            if lw < 0:
                return None
            w = _gauss_weights(type(sg), sg, order, lw)
            passes.append((w, w.shape[0], ax, modes[ax], 0))
    except Exception:
        return None
    return c_passes(input, passes, cval)


@docfiller
def gaussian_filter1d(input, sigma, axis=-1, order=0, output=None, mode="reflect", cval=0.0,
                      truncate=4.0, *, radius=None, workers=None):
    """1-D Gaussian filter (``scipy.ndimage.gaussian_filter1d``).

    Parameters
    ----------
    %(nd_input)s
    sigma : scalar
        Standard deviation of the Gaussian kernel.
    axis : int, optional
        The axis along which to filter (default -1).
    order : int, optional
        0: the Gaussian; 1, 2, 3: its derivative of that order.
    output : ndarray or dtype, optional
        Array to fill (the input's shape) or dtype of the result (default:
        the input's dtype).
    mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap'}, optional
        Boundary extension (default ``'reflect'``; ``'grid-mirror'``,
        ``'grid-constant'`` and ``'grid-wrap'`` are synonyms).
    %(nd_cval)s
    truncate : float, optional
        Truncate the kernel at this many standard deviations (default 4).
    radius : int, optional
        Kernel radius (the kernel has ``2*radius + 1`` taps); overrides
        `truncate`.
    %(workers)s

    Returns
    -------
    ndarray
        The filtered array, of `input`'s shape.

    Raises
    ------
    ValueError
        For a negative or non-integer `radius`, a negative `order`, a bad
        `axis`.
    RuntimeError
        For a bad `mode` or `output` (as SciPy; also a ``ValueError``).

    See Also
    --------
    scipy.ndimage.gaussian_filter1d : The SciPy function this mirrors.
    gaussian_filter : The N-D filter.

    Notes
    -----
    ``radius = int(truncate * sigma + 0.5)``; the weights are SciPy's.
    Computed as one pass of the separable line kernels (symmetric weights
    folded: ``(x[i-j] + x[i+j]) * w[j]``); float32 in float32, integer
    outputs bit for bit as SciPy (see :mod:`fastconv._ndfilters`).

    Examples
    --------
    >>> from fastconv import ndimage
    >>> ndimage.gaussian_filter1d([1.0, 2.0, 3.0, 4.0, 5.0], 1)
    array([1.42704095, 2.06782203, 3.        , 3.93217797, 4.57295905])
    """
    input = np.asarray(input)
    res = scipy_if_small("filter", input.size, input.dtype, input.ndim,
                         lambda: _nd.gaussian_filter1d(input, sigma, axis, order, output, mode,
                                                       cval, truncate, radius=radius),
                         shape=input.shape, axis=axis,
                         lean=None if output is not None else lambda: _small_gaussian(
                             input, sigma, order, mode, cval, truncate, radius, axis))
    if res is not None:
        return res
    axis = normalize_axis_index(axis, input.ndim)
    ps = _gauss_pass(axis, sigma, order, mode, truncate, radius)

    def scipy_call():
        return _nd.gaussian_filter1d(input, sigma, axis, order, output, mode, cval, truncate,
                                     radius=radius)
    return apply_passes(input, [ps], output, cval, workers, input.dtype.kind == "c", scipy_call)


@docfiller
def gaussian_filter(input, sigma, order=0, output=None, mode="reflect", cval=0.0,
                    truncate=4.0, *, radius=None, axes=None, workers=None):
    """Multidimensional Gaussian filter (``scipy.ndimage.gaussian_filter``).

    Parameters
    ----------
    %(nd_input)s
    sigma : scalar or sequence of scalars
        Standard deviation per axis (one value for all).
    order : int or sequence of ints, optional
        Derivative order per axis (0: the Gaussian).
    output : ndarray or dtype, optional
        Array to fill or dtype of the result (default: the input's).
    %(nd_modes)s
    %(nd_cval)s
    truncate : float, optional
        Truncate each kernel at this many standard deviations (default 4).
    radius : int or sequence of ints, optional
        Kernel radius per axis; overrides `truncate`.
    axes : tuple of int, optional
        Filter only these axes (sequences of `sigma`, `order`, `mode`,
        `radius` then have ``len(axes)`` entries).
    %(workers)s

    Returns
    -------
    ndarray
        The filtered array, of `input`'s shape.

    Raises
    ------
    RuntimeError
        A sequence argument of the wrong length, a bad `mode` or `output`
        (as SciPy; also a ``ValueError``).
    ValueError
        Bad `axes`, `radius` or `order`.

    See Also
    --------
    scipy.ndimage.gaussian_filter : The SciPy function this mirrors.
    cv2.GaussianBlur : OpenCV's 2-D Gaussian blur.

    Notes
    -----
    One 1-D pass per axis with ``sigma > 1e-15``, in axis order, as SciPy.
    A pass along the second-to-last axis and the pass along the last axis
    run fused: each output row of the first is computed into a line buffer,
    extended and filtered along the row straight into the output, so the
    intermediate never goes to memory.  Symmetric kernels are folded (half
    the multiplies).  float32 stays float32 (SciPy computes each pass in
    float64 and stores it as float32; the difference is float32 rounding);
    integer outputs match SciPy bit for bit (each pass truncated to the
    output dtype, as SciPy stores it).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import ndimage
    >>> a = np.arange(50, step=2).reshape((5, 5))
    >>> ndimage.gaussian_filter(a, sigma=1)
    array([[ 4,  6,  8,  9, 11],
           [10, 12, 14, 15, 17],
           [20, 22, 24, 25, 27],
           [29, 31, 33, 34, 36],
           [35, 37, 39, 40, 42]])
    """
    input = np.asarray(input)
    taps = _gauss_taps(sigma, truncate, radius) if input.ndim <= 2 else None
    res = scipy_if_small("filter" if taps is None else "gauss",
                         input.size if taps is None else input.size * taps,
                         input.dtype, input.ndim,
                         lambda: _nd.gaussian_filter(input, sigma, order, output, mode, cval,
                                                     truncate, radius=radius, axes=axes),
                         shape=input.shape if axes is None else None,
                         lean=None if output is not None or axes is not None else
                         lambda: _small_gaussian(input, sigma, order, mode, cval, truncate,
                                                 radius))
    if res is not None:
        return res
    axes = check_axes(axes, input.ndim)
    n = len(axes)
    orders = normalize_sequence(order, n)
    sigmas = normalize_sequence(sigma, n)
    modes = normalize_sequence(mode, n)
    radii = normalize_sequence(radius, n)
    passes = [_gauss_pass(axes[i], sigmas[i], orders[i], modes[i], truncate, radii[i])
              for i in range(n) if sigmas[i] > 1e-15]

    def scipy_call():
        return _nd.gaussian_filter(input, sigma, order, output, mode, cval, truncate,
                                   radius=radius, axes=axes)
    return apply_passes(input, passes, output, cval, workers, input.dtype.kind == "c", scipy_call,
                        small_checked=True)


def _gauss_taps(sigma, truncate, radius):
    """The kernel length of a scalar-`sigma` gaussian_filter (the small-call
    rule "gauss" counts elements times taps: SciPy's passes cost per tap,
    fastconv's cached route little more for long kernels), or None (another
    sigma, radius or truncate: the "filter" rule of the input's size)."""
    if not isinstance(sigma, _SCALARS) or not isinstance(truncate, _SCALARS) or not (
            radius is None or type(radius) is int):
        return None
    lw = int(truncate * float(sigma) + 0.5) if radius is None else radius
    return 2 * lw + 1 if lw >= 0 else None


# --------------------------------------------------------------------------
# uniform


@functools.lru_cache(maxsize=128)
def _uniform_passes(ndim, size, origin, mode):
    """The passes of ``uniform_filter(size=size, origin=origin, mode=mode)``
    on every axis of an `ndim`-dimensional input (one int size and origin,
    a str mode), once per arguments; raises as :func:`_uniform_pass`."""
    return tuple(_uniform_pass(ax, size, origin, mode) for ax in range(ndim) if size > 1)


def _uniform_pass(axis, size, origin, mode):
    if size < 1:
        raise RuntimeValueError("incorrect filter size")
    if isinstance(origin, float):
        raise TypeError(f"'{type(origin).__name__}' object cannot be interpreted as an integer")
    origin = int(origin)
    if (size // 2 + origin < 0) or (size // 2 + origin >= size):
        raise ValueError("invalid origin")
    return Pass(axis, size=int(size), origin=origin, mode=mode)


@docfiller
def uniform_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0,
                     *, workers=None):
    """1-D uniform (box mean) filter (``scipy.ndimage.uniform_filter1d``).

    Parameters
    ----------
    %(nd_input)s
    size : int
        Length of the box.
    axis : int, optional
        The axis along which to filter (default -1).
    output : ndarray or dtype, optional
        Array to fill or dtype of the result (default: the input's).
    mode : str, optional
        Boundary mode (default ``'reflect'``).
    %(nd_cval)s
    origin : int, optional
        Shifts the box (``-(size // 2) <= origin <= (size - 1) // 2``).
    %(workers)s

    Returns
    -------
    ndarray
        The filtered array, of `input`'s shape.

    Raises
    ------
    RuntimeError
        ``size < 1`` ("incorrect filter size"), a bad `mode` or `output`.
    ValueError
        An invalid `origin` ("invalid origin"), a bad `axis`.

    See Also
    --------
    scipy.ndimage.uniform_filter1d : The SciPy function this mirrors.
    uniform_filter : The N-D filter.

    Notes
    -----
    O(1) per output along non-contiguous axes (a running sum, float64
    accumulator, vectorised over neighbouring lines); along the contiguous
    axis a vectorised direct sum for ``size <= 32``, else the running sum.
    Integer outputs use SciPy's own running mean bit for bit.

    Examples
    --------
    >>> from fastconv import ndimage
    >>> ndimage.uniform_filter1d([2, 8, 0, 4, 1, 9, 9, 0], size=3)
    array([4, 3, 4, 1, 4, 6, 6, 3])
    """
    input = np.asarray(input)
    res = scipy_if_small("filter", input.size, input.dtype, input.ndim,
                         lambda: _nd.uniform_filter1d(input, size, axis, output, mode, cval,
                                                      origin),
                         shape=input.shape, axis=axis,
                         lean=None if output is not None else
                         lambda: c_uniform1d(input, size, axis, mode, cval, origin))
    if res is not None:
        return res
    axis = normalize_axis_index(axis, input.ndim)
    ps = _uniform_pass(axis, size, origin, mode)

    def scipy_call():
        return _nd.uniform_filter1d(input, size, axis, output, mode, cval, origin)
    return apply_passes(input, [ps], output, cval, workers, input.dtype.kind == "c", scipy_call)


@docfiller
def uniform_filter(input, size=3, output=None, mode="reflect", cval=0.0, origin=0, *,
                   axes=None, workers=None):
    """Multidimensional uniform (box mean) filter (``scipy.ndimage.uniform_filter``).

    Parameters
    ----------
    %(nd_input)s
    size : int or sequence of ints, optional
        Box length per axis (default 3).
    output : ndarray or dtype, optional
        Array to fill or dtype of the result (default: the input's).
    %(nd_modes)s
    %(nd_cval)s
    origin : int or sequence of ints, optional
        Shift of the box per axis.
    axes : tuple of int, optional
        Filter only these axes.
    %(workers)s

    Returns
    -------
    ndarray
        The filtered array, of `input`'s shape.

    Raises
    ------
    RuntimeError
        A sequence of the wrong length, ``size < 1``, a bad `mode` or
        `output` (as SciPy; also a ``ValueError``).
    ValueError
        An invalid `origin` or bad `axes`.

    See Also
    --------
    scipy.ndimage.uniform_filter : The SciPy function this mirrors.
    cv2.blur : OpenCV's box filter.

    Notes
    -----
    One 1-D pass per axis with ``size > 1``; the passes along the last two
    axes run fused over strips of rows (a running column sum in float64,
    restarted every 64 rows, then the row sums straight into the output).
    Integer outputs are SciPy's bit for bit.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import ndimage
    >>> ndimage.uniform_filter(np.arange(9.).reshape(3, 3), size=3)
    array([[1.33333333, 2.        , 2.66666667],
           [3.33333333, 4.        , 4.66666667],
           [5.33333333, 6.        , 6.66666667]])
    """
    input = np.asarray(input)
    res = scipy_if_small("box", input.size, input.dtype, input.ndim,
                         lambda: _nd.uniform_filter(input, size, output, mode, cval, origin,
                                                    axes=axes),
                         shape=input.shape if axes is None else None,
                         lean=None if output is not None or axes is not None else
                         lambda: c_uniform(input, size, mode, cval, origin))
    if res is not None:
        return res
    if axes is None and type(size) is int and type(origin) is int and type(mode) is str:
        passes = list(_uniform_passes(input.ndim, size, origin, mode))
    else:
        axes = check_axes(axes, input.ndim)
        n = len(axes)
        sizes = normalize_sequence(size, n)
        origins = normalize_sequence(origin, n)
        modes = normalize_sequence(mode, n)
        passes = [_uniform_pass(axes[i], int(sizes[i]), origins[i], modes[i])
                  for i in range(n) if sizes[i] > 1]

    def scipy_call():
        return _nd.uniform_filter(input, size, output, mode, cval, origin, axes=axes)
    return apply_passes(input, passes, output, cval, workers, input.dtype.kind == "c", scipy_call,
                        small_checked=True)


# --------------------------------------------------------------------------
# Sobel, Prewitt

# the smoothing weights as SciPy's C filter receives them (prewitt, sobel)
_SMOOTH = (np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 1.0]))
for _w in _SMOOTH:
    _w.flags.writeable = False


def _edge_pass_list(ndim, axis, modes, smooth):
    """The passes of an edge filter: the derivative ``[-1, 0, 1]`` along
    `axis`, `smooth` along every other axis (`modes` one per axis)."""
    passes = [Pass(axis, weights=np.array([-1.0, 0.0, 1.0]), mode=modes[axis])]
    passes += [Pass(ii, weights=np.array(smooth), mode=modes[ii])
               for ii in range(ndim) if ii != axis]
    return passes


@functools.lru_cache(maxsize=64)
def _edge_passes(ndim, axis, mode, smooth):
    """:func:`_edge_pass_list` for one str `mode`, once per arguments (the
    weights' symmetry found once too)."""
    passes = tuple(_edge_pass_list(ndim, axis, [mode] * ndim, smooth))
    for ps in passes:
        ps.weights.setflags(write=False)        # shared by every call
    return passes


def _edge(input, axis, output, mode, cval, workers, smooth, scipy_fn):
    input = np.asarray(input)
    res = scipy_if_small("box", input.size, input.dtype, input.ndim,
                         lambda: scipy_fn(input, axis, output, mode, cval),
                         shape=input.shape,
                         lean=None if output is not None else
                         lambda: c_edge(input, axis, mode, cval, _SMOOTH[smooth[1] == 2.0]))
    if res is not None:
        return res
    axis = normalize_axis_index(axis, input.ndim)
    if type(mode) is str:
        passes = list(_edge_passes(input.ndim, axis, mode, tuple(smooth)))
    else:
        passes = _edge_pass_list(input.ndim, axis, normalize_sequence(mode, input.ndim),
                                 smooth)

    def scipy_call():
        return scipy_fn(input, axis, output, mode, cval)
    return apply_passes(input, passes, output, cval, workers, False, scipy_call,
                        small_checked=True)


@docfiller
def sobel(input, axis=-1, output=None, mode="reflect", cval=0.0, *, workers=None):
    """Sobel filter (``scipy.ndimage.sobel``).

    Parameters
    ----------
    %(nd_input)s
    axis : int, optional
        The axis of the derivative ``[-1, 0, 1]`` (default -1); every other
        axis is smoothed with ``[1, 2, 1]``.
    output : ndarray or dtype, optional
        Array to fill or dtype of the result (default: the input's).
    mode : str or sequence of str, optional
        Boundary mode, or one per axis of `input`.
    %(nd_cval)s
    %(workers)s

    Returns
    -------
    ndarray
        The filtered array, of `input`'s shape.

    Raises
    ------
    RuntimeError
        A mode sequence whose length is not ``input.ndim``, a bad `mode`
        or `output` (also a ``ValueError``).
    numpy.exceptions.AxisError
        A bad `axis`.

    See Also
    --------
    scipy.ndimage.sobel : The SciPy function this mirrors.
    prewitt : The same with ``[1, 1, 1]`` smoothing.

    Notes
    -----
    The derivative pass and the smoothing passes run as in SciPy; the last
    two axes fused in one sweep (with a non-constant mode they commute).
    Like SciPy, integer outputs wrap (uint8 has no negative gradient).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import ndimage
    >>> ndimage.sobel(np.array([[0., 0., 1., 1.]] * 3), axis=1)
    array([[0., 4., 4., 0.],
           [0., 4., 4., 0.],
           [0., 4., 4., 0.]])
    """
    return _edge(input, axis, output, mode, cval, workers, [1.0, 2.0, 1.0], _nd.sobel)


@docfiller
def prewitt(input, axis=-1, output=None, mode="reflect", cval=0.0, *, workers=None):
    """Prewitt filter (``scipy.ndimage.prewitt``).

    Parameters
    ----------
    %(nd_input)s
    axis : int, optional
        The axis of the derivative ``[-1, 0, 1]`` (default -1); every other
        axis is smoothed with ``[1, 1, 1]``.
    output : ndarray or dtype, optional
        Array to fill or dtype of the result.
    mode : str or sequence of str, optional
        Boundary mode, or one per axis of `input`.
    %(nd_cval)s
    %(workers)s

    Returns
    -------
    ndarray
        The filtered array, of `input`'s shape.

    Raises
    ------
    RuntimeError
        As :func:`sobel`.
    numpy.exceptions.AxisError
        A bad `axis`.

    See Also
    --------
    scipy.ndimage.prewitt : The SciPy function this mirrors.
    sobel : The same with ``[1, 2, 1]`` smoothing.

    Notes
    -----
    As :func:`sobel`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import ndimage
    >>> ndimage.prewitt(np.array([[0., 0., 1., 1.]] * 3), axis=1)
    array([[0., 3., 3., 0.],
           [0., 3., 3., 0.],
           [0., 3., 3., 0.]])
    """
    return _edge(input, axis, output, mode, cval, workers, [1.0, 1.0, 1.0], _nd.prewitt)


# --------------------------------------------------------------------------
# Laplace and gradient magnitude


def _out_array(output, input):
    """SciPy's ``_get_output`` (allocating)."""
    arr, dt = output_array(output, input, False)
    if arr is None:
        arr = np.zeros(input.shape, dtype=dt)
    return arr


@docfiller
def generic_laplace(input, derivative2, output=None, mode="reflect", cval=0.0,
                    extra_arguments=(), extra_keywords=None, *, axes=None):
    """N-D Laplace filter from a second-derivative callable
    (``scipy.ndimage.generic_laplace``).

    Parameters
    ----------
    %(nd_input)s
    derivative2 : callable
        ``derivative2(input, axis, output, mode, cval, *extra_arguments,
        **extra_keywords)``; fastconv's or your own.
    output : ndarray or dtype, optional
        Array to fill or dtype of the result.
    %(nd_modes)s
    %(nd_cval)s
    extra_arguments : sequence, optional
        Extra positional arguments of `derivative2`.
    extra_keywords : dict, optional
        Extra keyword arguments of `derivative2`.
    axes : tuple of int, optional
        The axes to sum over (default all).

    Returns
    -------
    ndarray
        Sum of the second derivatives, of `input`'s shape.

    Raises
    ------
    RuntimeError
        A mode sequence of the wrong length (also a ``ValueError``).
    ValueError
        Bad `axes`.

    See Also
    --------
    scipy.ndimage.generic_laplace : The SciPy function this mirrors.
    laplace, gaussian_laplace

    Notes
    -----
    As SciPy: the first derivative is written into the output, the others
    are computed in the output dtype and added in place.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import ndimage
    >>> def d2(x, axis, output, mode, cval):
    ...     return ndimage.correlate1d(x, [1, -2, 1], axis, output, mode, cval)
    >>> ndimage.generic_laplace(np.array([0., 1., 4., 9.]), d2)
    array([ 1.,  2.,  2., -5.])
    """
    if extra_keywords is None:
        extra_keywords = {}
    input = np.asarray(input)
    output = _out_array(output, input)
    axes = check_axes(axes, input.ndim)
    if len(axes) > 0:
        modes = normalize_sequence(mode, len(axes))
        derivative2(input, axes[0], output, modes[0], cval, *extra_arguments,
                    **extra_keywords)
        for ii in range(1, len(axes)):
            tmp = derivative2(input, axes[ii], output.dtype, modes[ii], cval,
                              *extra_arguments, **extra_keywords)
            output += tmp
    else:
        output[...] = input[...]
    return output


@docfiller
def laplace(input, output=None, mode="reflect", cval=0.0, *, axes=None, workers=None):
    """N-D Laplace filter with ``[1, -2, 1]`` second differences
    (``scipy.ndimage.laplace``).

    Parameters
    ----------
    %(nd_input)s
    output : ndarray or dtype, optional
        Array to fill or dtype of the result.
    %(nd_modes)s
    %(nd_cval)s
    axes : tuple of int, optional
        The axes to sum over (default all).
    %(workers)s

    Returns
    -------
    ndarray
        The filtered array, of `input`'s shape.

    Raises
    ------
    RuntimeError
        A mode sequence of the wrong length, a bad mode (also a
        ``ValueError``).
    ValueError
        Bad `axes`.

    See Also
    --------
    scipy.ndimage.laplace : The SciPy function this mirrors.
    generic_laplace

    Notes
    -----
    :func:`generic_laplace` with a fastconv second-difference pass per axis.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import ndimage
    >>> ndimage.laplace(np.array([0., 1., 4., 9., 16.]))
    array([ 1.,  2.,  2.,  2., -7.])
    """
    def derivative2(input, axis, output, mode, cval):
        ps = Pass(axis, weights=np.array([1.0, -2.0, 1.0]), mode=mode)

        def scipy_call():
            return _nd.correlate1d(input, [1, -2, 1], axis, output, mode, cval, 0)
        return apply_passes(input, [ps], output, cval, workers, False, scipy_call)
    arr = np.asarray(input)
    res = scipy_if_small("laplace", arr.size, arr.dtype, arr.ndim,
                         lambda: _nd.laplace(arr, output, mode, cval, axes=axes),
                         shape=arr.shape if axes is None else None,
                         lean=None if output is not None or axes is not None else
                         lambda: c_laplace(arr, mode, cval))
    if res is not None:
        return res
    return generic_laplace(input, derivative2, output, mode, cval, axes=axes)


@docfiller
def gaussian_laplace(input, sigma, output=None, mode="reflect", cval=0.0, *, axes=None,
                     workers=None, **kwargs):
    """Laplace filter with Gaussian second derivatives
    (``scipy.ndimage.gaussian_laplace``).

    Parameters
    ----------
    %(nd_input)s
    sigma : scalar or sequence of scalars
        Standard deviation per filtered axis.
    output : ndarray or dtype, optional
        Array to fill or dtype of the result.
    %(nd_modes)s
    %(nd_cval)s
    axes : tuple of int, optional
        The axes to filter (default all).
    %(workers)s
    **kwargs
        Passed to :func:`gaussian_filter` (``truncate``, ``radius``).

    Returns
    -------
    ndarray
        The filtered array, of `input`'s shape.

    Raises
    ------
    RuntimeError
        Sequences of the wrong length (also a ``ValueError``).
    ValueError
        Bad `axes`.

    See Also
    --------
    scipy.ndimage.gaussian_laplace : The SciPy function this mirrors.

    Notes
    -----
    Per axis, :func:`gaussian_filter` with order 2 on that axis and 0 on the
    others, summed in the output dtype (as SciPy).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import ndimage
    >>> x = np.zeros((5, 5)); x[2, 2] = 1
    >>> float(ndimage.gaussian_laplace(x, 1)[2, 2]) < 0
    True
    """
    input = np.asarray(input)

    def derivative2(input, axis, output, mode, cval, sigma, **kw):
        order = [0] * input.ndim
        order[axis] = 2
        return gaussian_filter(input, sigma, order, output, mode, cval, workers=workers, **kw)
    axes = check_axes(axes, input.ndim)
    sigma = normalize_sequence(sigma, len(axes))
    if len(axes) < input.ndim:
        full = [0] * input.ndim
        for s, ax in zip(sigma, axes):
            full[ax] = s
        sigma = full
    return generic_laplace(input, derivative2, output, mode, cval, extra_arguments=(sigma,),
                           extra_keywords=kwargs, axes=axes)


@docfiller
def generic_gradient_magnitude(input, derivative, output=None, mode="reflect", cval=0.0,
                               extra_arguments=(), extra_keywords=None, *, axes=None):
    """Gradient magnitude from a first-derivative callable
    (``scipy.ndimage.generic_gradient_magnitude``).

    Parameters
    ----------
    %(nd_input)s
    derivative : callable
        ``derivative(input, axis, output, mode, cval, *extra_arguments,
        **extra_keywords)``, e.g. :func:`sobel` or your own.
    output : ndarray or dtype, optional
        Array to fill or dtype of the result.
    %(nd_modes)s
    %(nd_cval)s
    extra_arguments : sequence, optional
        Extra positional arguments of `derivative`.
    extra_keywords : dict, optional
        Extra keyword arguments of `derivative`.
    axes : tuple of int, optional
        The axes to sum over (default all).

    Returns
    -------
    ndarray
        ``sqrt(sum of squared derivatives)``, of `input`'s shape.

    Raises
    ------
    RuntimeError
        A mode sequence of the wrong length (also a ``ValueError``).
    ValueError
        Bad `axes`.

    See Also
    --------
    scipy.ndimage.generic_gradient_magnitude : The SciPy function this mirrors.
    gaussian_gradient_magnitude

    Notes
    -----
    As SciPy: squares accumulated in the output dtype, then a square root
    in place (``casting='unsafe'``).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import ndimage
    >>> x = np.array([[0., 0., 1., 1.]] * 3)
    >>> ndimage.generic_gradient_magnitude(x, ndimage.sobel)
    array([[0., 4., 4., 0.],
           [0., 4., 4., 0.],
           [0., 4., 4., 0.]])
    """
    if extra_keywords is None:
        extra_keywords = {}
    input = np.asarray(input)
    output = _out_array(output, input)
    axes = check_axes(axes, input.ndim)
    if len(axes) > 0:
        modes = normalize_sequence(mode, len(axes))
        derivative(input, axes[0], output, modes[0], cval, *extra_arguments,
                   **extra_keywords)
        np.multiply(output, output, output)
        for ii in range(1, len(axes)):
            tmp = derivative(input, axes[ii], output.dtype, modes[ii], cval,
                             *extra_arguments, **extra_keywords)
            np.multiply(tmp, tmp, tmp)
            output += tmp
        np.sqrt(output, output, casting="unsafe")
    else:
        output[...] = input[...]
    return output


@docfiller
def gaussian_gradient_magnitude(input, sigma, output=None, mode="reflect", cval=0.0, *,
                                axes=None, workers=None, **kwargs):
    """Gradient magnitude with Gaussian derivatives
    (``scipy.ndimage.gaussian_gradient_magnitude``).

    Parameters
    ----------
    %(nd_input)s
    sigma : scalar or sequence of scalars
        Standard deviation per axis.
    output : ndarray or dtype, optional
        Array to fill or dtype of the result.
    %(nd_modes)s
    %(nd_cval)s
    axes : tuple of int, optional
        The axes to differentiate along (default all).
    %(workers)s
    **kwargs
        Passed to :func:`gaussian_filter` (``truncate``, ``radius``).

    Returns
    -------
    ndarray
        The gradient magnitude, of `input`'s shape.

    Raises
    ------
    RuntimeError
        Sequences of the wrong length (also a ``ValueError``).
    ValueError
        Bad `axes`.

    See Also
    --------
    scipy.ndimage.gaussian_gradient_magnitude : The SciPy function this mirrors.

    Notes
    -----
    Per axis, :func:`gaussian_filter` with order 1 on that axis (SciPy's
    composition; `sigma` is per axis of `input`).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import ndimage
    >>> x = np.zeros((5, 5)); x[2, 2] = 1
    >>> float(ndimage.gaussian_gradient_magnitude(x, 1)[2, 2]) == 0
    True
    """
    input = np.asarray(input)

    def derivative(input, axis, output, mode, cval, sigma, **kw):
        order = [0] * input.ndim
        order[axis] = 1
        return gaussian_filter(input, sigma, order, output, mode, cval, workers=workers, **kw)
    return generic_gradient_magnitude(input, derivative, output, mode, cval,
                                      extra_arguments=(sigma,), extra_keywords=kwargs,
                                      axes=axes)
