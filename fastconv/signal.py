"""``scipy.signal``-compatible convolution and correlation.

Drop-in replacements for :func:`scipy.signal.convolve`,
:func:`~scipy.signal.correlate`, :func:`~scipy.signal.convolve2d`,
:func:`~scipy.signal.correlate2d`, :func:`~scipy.signal.fftconvolve`,
:func:`~scipy.signal.oaconvolve` and :func:`~scipy.signal.choose_conv_method`
with SciPy 1.17's signatures, defaults, results, dtypes and error messages.
New options are keyword-only: ``workers`` everywhere (threads, SciPy's
word) and ``axes`` for the direct method of :func:`convolve` and
:func:`correlate`.

The direct method runs fastconv's multithreaded engine; ``fftconvolve`` and
``oaconvolve`` run SciPy's algorithms on ``scipy.fft`` with ``workers``
threads; the FFT route of ``convolve``/``correlate`` (``method='fft'`` or
chosen by ``'auto'``) tiles real operands (:func:`fastconv._fft.tiled_convolve`).
See :mod:`fastconv._direct` for how every call is reduced to one engine call.
"""

import functools
import math
import numbers
import timeit
import warnings

import numpy as np
import scipy.signal as _ss

from fastconv import _engine, _fft
from fastconv._cost import (TINY_MACS, choose_method, compute_route, fft_choice,
                            numpy_loop_cheaper, priced_direct, worth_pricing)
from fastconv._direct import (InputScanDeferred, NonFinite, conv_window, has_nonfinite,
                              plain_window_plan, plan_small, run_engine, run_plain_window,
                              run_small)
from fastconv._docs import docfiller
from fastconv._geometry import check_output_memory
from fastconv._scipy_args import (BOUNDARIES, NP_PAD, check_fillvalue, check_method, check_mode,
                                  conv_axes_windows, conv_windows, freq_axes, normalize_axes,
                                  np_conv_ok, swap_needed)
from fastconv._threads import resolve_workers

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve",
           "oaconvolve", "choose_conv_method"]

def __dir__():
    return list(__all__)


# --------------------------------------------------------------------------
# helpers


def _conj(a):
    return np.conj(a) if a.dtype.kind == "c" else a


def _reverse_conj(a, axes):
    """conj(a) reversed along `axes` (a view for real arrays)."""
    idx = [slice(None)] * a.ndim
    for ax in axes:
        idx[ax] = slice(None, None, -1)
    return _conj(a[tuple(idx)])


# 'full' outputs (over the convolved axes) up to this many points take
# fftconvolve's single transform in _run_fft (Intel Xeon, 2-D float32 and
# float64, 2026-12-05: faster up to 96 x 96 by 31 x 31, slower from
# 128 x 128 by 31 x 31 on).
_FFT_WHOLE_MAX = 1 << 14
# The same for real operands of one float dtype, whose single transform is
# the pruned route's direct pocketfft calls (_fft._zero_pruned): against the
# tiled route, Zen 4, 2 threads, 2026-12-06, 'full' by 31 x 31: float32 96^2
# 117 / 139 us, 128^2 173 / 187, 256^2 538 / 510; float64 96^2 157 / 183,
# 128^2 243 / 254, 256^2 814 / 769.
_FFT_WHOLE_LEAN = 1 << 15


def _run_fft(a, b, mode, axes, nthreads, scan=False):
    """FFT convolution of conv-form operands (SciPy's fftconvolve semantics),
    overlap-add when the cost model says it is cheaper.

    `scan`: `a` is not known to be finite (``method='auto'``, which takes
    the direct method for NaN and inf, deferred its scan): the tiled route
    checks the chunks it copies, the other routes scan `a` first; None when
    `a` (or `b`) holds a NaN or an infinity."""
    a2, b2, conv_axes, _ = freq_axes(a, b, mode, axes)
    lean = mode == "full" and bool(conv_axes) and _fft.lean_pair(a2, b2, conv_axes)
    whole = bool(mode == "full" and conv_axes and math.prod(
        a2.shape[i] + b2.shape[i] - 1 for i in conv_axes) <= (
            _FFT_WHOLE_LEAN if lean else _FFT_WHOLE_MAX))
    kind = "fft"
    if conv_axes and not whole:
        kind = fft_choice(a2, b2, mode, conv_axes)[0]
    if kind == "tiled":
        ret = _fft.tiled_convolve(a2, b2, conv_axes, mode, nthreads, check_finite=scan)
        if ret is _fft.NONFINITE:
            return None
        if ret is not None:
            return ret
    if scan and has_nonfinite(a, nthreads):
        return None                     # the other routes: `a` scanned first
    if whole:
        # small 'full' transforms: SciPy's one transform of the whole
        # problem has the least set-up (64 x 64 by 31 x 31 float32: 105 us
        # against the tiled route's 125; 32 x 32 by 15 x 15: 64 against 92;
        # 2000 by 255: 60 against 80); 'same' and 'valid' keep the pruned
        # transforms, which compute only the outputs kept (64 x 64 by 63 x 63
        # 'valid': 85 against 144).  Real operands of one float dtype take
        # the pruned route's pocketfft calls instead (the same transforms
        # without the Python layer and the all-zero lines: 103 -> 81 us)
        if lean:
            return _fft.pruned_convolve(a2, b2, conv_axes, mode, nthreads)
        return _fft.fftconvolve(a, b, mode, axes, nthreads)
    if kind == "oa":
        ret = _fft.overlap_add(a2, b2, sorted(conv_axes), nthreads)
        if ret is not None:
            return _fft.apply_mode(ret, a2.shape, b2.shape, mode, conv_axes)
    if not conv_axes:
        return _fft.fftconvolve(a, b, mode, axes, nthreads)
    return _fft.pruned_convolve(a2, b2, conv_axes, mode, nthreads)


def _empty_result(in1, in2, mode, rt):
    """SciPy's direct method on empty inputs: 'same' with an empty in1 gives
    an empty in1-shaped array; N-D 'valid' gives the empty sum (zeros);
    every other case raises ValueError (SciPy: NumPy's 1-D "cannot be
    empty" or a broadcasting error)."""
    if mode == "same" and in1.size == 0 and in2.size != 0:
        return np.zeros(in1.shape, dtype=rt)
    if mode == "valid" and in1.ndim > 1:
        return np.zeros(tuple(abs(n1 - n2) + 1 for n1, n2 in zip(in1.shape, in2.shape)),
                        dtype=rt)
    if in1.ndim > 1 and mode in ("full", "same"):
        # N-D: SciPy zero-pads in1 to the full shape ps = n1 + n2 - 1 (in1
        # must broadcast into its corner), then correlates: 'full' gives the
        # empty ps-shaped result when ps has a zero, 'same' in1-shaped zeros;
        # e.g. (0, 3) * (1, 3) -> (0, 5).  Other shapes raise as below.
        ps = tuple(n1 + n2 - 1 for n1, n2 in zip(in1.shape, in2.shape))
        fits = min(ps) >= 0 and all(n1 in (1, min(n1, p)) for n1, p in zip(in1.shape, ps))
        if fits and mode == "same":
            return np.zeros(in1.shape, dtype=rt)
        if fits and math.prod(ps) == 0 and (in2.size == 0 or all(
                p == 0 or p >= n2 for p, n2 in zip(ps, in2.shape))):
            return np.zeros(ps, dtype=rt)
    name = "in1" if in1.size == 0 else "in2"
    raise ValueError(f"{name} cannot be empty (mode {mode!r} needs at least one "
                     "element in each input)")


def _direct(in1, in2, b, mode, axes, corr, nthreads, nonfinite=None):
    """The direct method for conv-form operands (in1, b = in2 or its
    reversed conjugate)."""
    rt = np.result_type(in1, in2)
    route, _ = compute_route(rt)
    if route == "fallback" and axes is None and (
            rt.kind != "O" or np_conv_ok(in1, in2, mode)):
        # long double and NumPy's 1-D object path: SciPy's own loops.
        func = _ss.correlate if corr else _ss.convolve
        return np.asarray(func(in1, in2, mode, method="direct"))
    if axes is None and numpy_loop_cheaper(in1.shape, in2.shape, mode, rt):
        return (np.correlate if corr else np.convolve)(in1, in2, mode)
    if (rt.kind == "c" and axes is None and np_conv_ok(in1, in2, mode)
            and (has_nonfinite(in1) or has_nonfinite(in2))):
        # SciPy's 1-D direct method is NumPy's loop, whose complex products
        # give their own NaN/inf pattern (correlate([-inf+0j], [1+1j]) is
        # nan+infj there): with a non-finite operand, take the same loop.
        return (np.correlate if corr else np.convolve)(in1, in2, mode)
    if axes is None:
        out = _plain_direct(in1, b, mode, nthreads)
        if out is not None:
            return out
    conv_axes, windows = conv_axes_windows(in1, b, mode, axes)
    if nonfinite is None:
        nonfinite = NonFinite(in1, in2, nthreads)
    if axes is None and not np_conv_ok(in1, in2, mode):
        # SciPy's N-D direct method multiplies materialised zeros: 0 * inf
        # is nan there.  It pads in1 unless it swapped the inputs; only its
        # kernel's values matter.
        swapped = (mode == "full" and in2.size > in1.size) or \
            swap_needed(mode, in1.shape, in2.shape)
        if nonfinite[0 if swapped else 1]:
            x, k = (b, in1) if swapped else (in1, b)
            return conv_window(x, k, conv_axes, windows, rt, nthreads, materialize=True)
    return conv_window(in1, b, conv_axes, windows, rt, nthreads, nonfinite=nonfinite)


# 1-D problems up to this many multiply-adds take NumPy's loop straight away
# (<= ~0.1 ms there; the engine's call and planning cost more).
_SMALL_1D_MACS = 1 << 19


def _plain_direct(in1, b, mode, nthreads):
    """The usual case straight to the engine, or None.

    Real float32/float64 operands of one dtype, the kernel `b` no larger
    than `in1` on any axis, a finite kernel, output rows of >= 64 samples:
    :func:`conv_window` would choose exactly this engine call (in1 as the
    input, the last axis contiguous, zero pads), so the result is the same
    to the bit; skipping its general planning saves ~25 us a call, which
    matters on small inputs.  Tiny problems (< ``TINY_MACS``) take it
    whatever their row length (the layout search costs more than any
    layout could save).  Everything that depends on the shapes only is
    planned once per geometry (:func:`_plain_plan`).
    """
    if in1.dtype != b.dtype or in1.dtype.char not in "fd" or not in1.ndim:
        return None
    plan = _plain_plan(in1.shape, b.shape, in1.dtype.char, mode)
    if plan is None:
        return None
    return _run_plain_plan(in1, b[(slice(None, None, -1),) * in1.ndim], plan, nthreads)


def _run_plain_plan(in1, w, plan, nthreads):
    """`in1` correlated with `w` (same dtype and rank) by a plan of
    :func:`_plain_plan`, or None -- for a kernel that is not finite (the
    general route reproduces SciPy's NaN/inf pattern) and where the
    overflow guard wants the baseline kernels."""
    if not _engine.finite_weights(w):
        return None
    pads, eplan, separable = plan
    x = in1[None, None]
    w = w[None, None]
    if separable:   # the rank-one test needs the values (run_engine has it)
        return run_engine(x, w, pads, "real", in1.dtype, nthreads)[0, 0, 0]
    out = _engine.run_plain(eplan, np.ascontiguousarray(x), np.ascontiguousarray(w), nthreads)
    return None if out is None else out[0, 0]


@functools.lru_cache(maxsize=256)
def _plain_plan(s1, s2, dchar, mode):
    """(pads, engine plan, separable candidate) of :func:`_plain_direct`, or
    None where that path does not apply to these shapes."""
    if any(k > n for n, k in zip(s1, s2)):
        return None
    windows = conv_windows(mode, s1, s2, range(len(s1)))
    if windows[-1][1] < 64 and math.prod(w[1] for w in windows) * math.prod(s2) >= TINY_MACS:
        return None     # short rows: another inner axis may be cheaper (conv_window)
    pads = []
    for (start, length), n, k in zip(windows, s1, s2):
        lo = k - 1 - start
        pads.append((lo, length + k - 1 - n - lo))
    pads = tuple(pads)
    rank = len(s1)
    eplan = _engine.plan_correlate((1, 1) + s1, (1, 1) + s2, np.dtype(dchar),
                                   stride=(1,) * rank, dilation=(1,) * rank, pads=pads)
    separable = rank >= 2 and worth_pricing(1, s1, s2, pads)
    return pads, eplan, separable


def _check_out_memory(fname, s1, s2, mode, rt):
    """A clear MemoryError naming the shape before an output that cannot fit
    (e.g. a huge broadcast operand) is allocated anywhere.  No output of any
    mode has more elements than the product of the operands' sizes, so
    products below 2**24 (256 MiB of complex128) need no look."""
    if math.prod(s1) * math.prod(s2) < 1 << 24:
        return
    if mode == "full":
        shape = tuple(a + b - 1 for a, b in zip(s1, s2))
    elif mode == "same":
        shape = tuple(s1)
    else:
        shape = tuple(abs(a - b) + 1 for a, b in zip(s1, s2))
    check_output_memory(fname, shape, rt if rt.kind != "O" else np.float64)


def _check_numeric(in1, in2, what):
    """SciPy's "Unsupported type" / "not available for this type" as a clear
    ValueError for structured, datetime, string and non-number object arrays
    (not NumPy's promotion error or a raw TypeError from inside the loop)."""
    for a in (in1, in2):
        if a.dtype.kind not in "biufcO" or (
                a.dtype.kind == "O" and not all(isinstance(v, numbers.Number)
                                                for v in a.flat)):
            raise ValueError(f"{what}: inputs must hold numbers, got dtypes "
                             f"{in1.dtype} and {in2.dtype}")


_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


# float32 images with small kernels keep the small-call path above
# TINY_MACS: its one compiled call (SSE2, one thread) costs less than the
# tiled engine call's ~10 us of set-up up to about this many multiply-adds
# ('same', Zen 5, the small path against the engine call: 96^2 x 3^2 12.1
# against 17.4 us, 128^2 x 3^2 16.7 against 19.8, 64^2 x 5^2 12.9 against
# 16.2, but 96^2 x 5^2 21.5 against 18.6).  float64 gains nothing there
# (96^2 x 3^2 both ~19.5 us: half the lanes), and larger kernels stay at
# TINY_MACS, where the FFT's price may win.
_SMALL_IMAGE_MACS = {"f": 160000, "d": TINY_MACS}
_SMALL_IMAGE_KERNEL = 5


@functools.lru_cache(maxsize=512)
def _small_plan(s1, s2, dchar, mode):
    """``(plan, extended)``: the small-call plan of
    :func:`fastconv._direct.plan_small` for a valid `mode` (extended: above
    ``TINY_MACS``, an image with a small kernel), or None (then the general
    route decides, and raises SciPy's errors)."""
    if mode not in ("full", "same", "valid") or len(s1) != len(s2):
        return None
    limit = (_SMALL_IMAGE_MACS[dchar] if len(s1) >= 2 and max(s2) <= _SMALL_IMAGE_KERNEL
             else TINY_MACS)
    plan = plan_small(s1, s2, dchar, tuple(conv_windows(mode, s1, s2, range(len(s1)))), limit)
    if plan is None:
        return None
    return plan, math.prod(s1) * math.prod(s2) >= TINY_MACS


def _plain_dtype(in1, in2, mode, method):
    """The dtype of a call the short routes take (:func:`_small_call`,
    :func:`_plain_call`): two ndarrays of one dtype, float32 or float64, a
    str `mode`, ``method='auto'`` or ``'direct'``; else None."""
    if type(in1) is not np.ndarray or type(in2) is not np.ndarray:
        return None
    dt = in1.dtype
    if not ((dt is _F64 or dt is _F32) and in2.dtype is dt) or type(mode) is not str or \
            not (method == "auto" or method == "direct"):
        return None
    return dt


def _small_call(in1, in2, mode, method, corr):
    """A small real float32/float64 call straight to the generic kernel, or
    None.  Fewer than ``TINY_MACS`` multiply-adds: ``method='auto'`` is
    always the direct method there (:func:`choose_method`), no thread pays,
    and the baseline kernel needs no overflow guard.  Images with small
    kernels up to ``_SMALL_IMAGE_MACS``: the same where the direct method's
    price wins."""
    dt = _plain_dtype(in1, in2, mode, method)
    if dt is None:
        return None
    small = _small_plan(in1.shape, in2.shape, dt.char, mode)
    if small is None:
        return None
    plan, extended = small
    # above TINY_MACS 'auto' is the direct method only where its price says so
    if extended and method == "auto" and not priced_direct(in1.shape, in2.shape, dt, mode):
        return None
    return run_small(plan, in1, in2 if corr else in2[(slice(None, None, -1),) * in2.ndim])


def _plain_call(in1, in2, mode, method, corr, nthreads):
    """The usual mid-size and large N-D call straight to its cached engine
    plan, or None.

    Real float32/float64 arrays of one dtype and rank >= 2, a valid `mode`,
    ``method='direct'`` or an ``'auto'`` that the shapes alone make direct
    (:func:`fastconv._cost.choose_method`), a finite kernel: what
    :func:`_direct` would run through :func:`_plain_direct`, the same
    engine call, so the same bits, without the general route's argument
    handling, pricing and checks (128 x 128 by 3 x 3 float32: ~40 -> ~20
    us a call, where the filter itself takes ~9).  `nthreads`: the resolved
    `workers`, or None for the default.  None sends the call to the general
    route (it also raises SciPy's errors)."""
    dt = _plain_dtype(in1, in2, mode, method)
    if dt is None or in1.ndim < 2 or in1.ndim != in2.ndim or not in1.size or not in2.size \
            or mode not in ("full", "same", "valid"):
        return None
    plan = _plain_plan(in1.shape, in2.shape, dt.char, mode)
    if plan is None or (method == "auto" and in1.size * in2.size >= TINY_MACS
                        and not priced_direct(in1.shape, in2.shape, dt, mode)):
        return None
    _check_out_memory("correlate" if corr else "convolve", in1.shape, in2.shape, mode, dt)
    if nthreads is None:
        nthreads = resolve_workers(None)
    return _run_plain_plan(in1, in2 if corr else in2[(slice(None, None, -1),) * in2.ndim],
                           plan, nthreads)


def _small_int_call(in1, in2, mode, method, corr):
    """SciPy's direct method for a small N-D integer call (fewer than
    ``_SMALL_INT_MACS`` multiply-adds), or None: its C loop wraps around as
    fastconv's exact route does (the same result), in less time there."""
    if type(in1) is not np.ndarray or type(in2) is not np.ndarray or \
            not (method == "auto" or method == "direct") or in1.ndim < 2 or \
            in1.dtype.kind not in "iu" or in2.dtype.kind not in "iu" or \
            in1.ndim != in2.ndim or not 0 < in1.size * in2.size < _SMALL_INT_MACS:
        return None
    try:
        return (_ss.correlate if corr else _ss.convolve)(in1, in2, mode, method="direct")
    except Exception:   # noqa: BLE001 - refused by SciPy: fastconv's route decides
        return None


def _conv_or_corr(in1, in2, mode, method, axes, workers, corr):
    # an explicit `workers` is validated first; the default is resolved (the
    # load monitor) only for calls that can use threads
    nthreads = None if workers is None else resolve_workers(workers)
    if axes is None:
        out = _small_call(in1, in2, mode, method, corr)
        if out is not None:
            return out
        out = _plain_call(in1, in2, mode, method, corr, nthreads)
        if out is not None:
            return out
        out = _small_int_call(in1, in2, mode, method, corr)
        if out is not None:
            return out
    if nthreads is None:
        nthreads = resolve_workers(None)
    in1 = np.asarray(in1)
    in2 = np.asarray(in2)
    if in1.ndim > 1 or in1.dtype.kind not in "biufcO" or in2.dtype.kind not in "biufcO":
        _check_numeric(in1, in2, "Unsupported type")
    if in1.ndim == in2.ndim == 0:
        return in1 * _conj(in2) if corr else in1 * in2
    if in1.ndim != in2.ndim:
        if corr:
            raise ValueError("in1 and in2 should have the same dimensionality")
        raise ValueError("volume and kernel should have the same dimensionality")
    check_mode(mode)
    check_method(method)
    if axes is not None:
        if isinstance(axes, (bool, np.bool_)) or (
                isinstance(axes, (tuple, list)) and any(isinstance(a, (bool, np.bool_))
                                                        for a in axes)):
            raise TypeError(f"axes must be an int or a sequence of ints, got {axes!r}")
        axes = normalize_axes(axes, in1.ndim)
        if not axes:
            raise ValueError("when provided, axes cannot be empty")
    rev_axes = range(in1.ndim) if axes is None else axes
    b = _reverse_conj(in2, rev_axes) if corr else in2
    conv_axes_windows(in1, b, mode, axes)   # shape checks (SciPy's errors) before anything runs
    rt = np.result_type(in1, in2)
    if axes is None:
        _check_out_memory("correlate" if corr else "convolve", in1.shape, in2.shape, mode, rt)
    if in1.size == 0 or in2.size == 0:
        return _empty_result(in1, in2, mode, rt)
    if (method != "fft" and axes is None and in1.size * in2.size <= _SMALL_1D_MACS
            and rt.kind in "fc" and np_conv_ok(in1, in2, mode)
            and (rt.kind == "c" or numpy_loop_cheaper(in1.shape, in2.shape, mode, rt))):
        # small 1-D problems: SciPy's own direct path (NumPy's loop), with
        # nothing else to plan -- no engine call or FFT can be cheaper
        # (complex: the engine's four real products are no faster; real:
        # where the pricing puts the loop below the engine -- NumPy calls
        # BLAS once per output from 9 taps, float32 10000 x 31 took 268 us
        # there against the engine's 44)
        return (np.correlate if corr else np.convolve)(in1, in2, mode)
    nonfinite = None
    scan = False
    if method == "auto":
        nonfinite = NonFinite(in1, in2, nthreads)
        deferred = InputScanDeferred(nonfinite)
        method = choose_method(in1, b, mode, axes, deferred)
        scan = deferred.asked
    if method == "fft":
        out = _run_fft(in1, b, mode, axes, nthreads, scan)
        if out is None:                     # 'auto': in1 holds NaN or inf
            nonfinite.known(0, True)
            method = "direct"
    if method == "fft":
        if out.size and not np.isfinite(out.reshape(-1)[0]):
            warnings.warn("Use of fft convolution on input with NAN or inf results in "
                          "NAN or inf output. Consider using method='direct' instead.",
                          category=RuntimeWarning, stacklevel=3)
        if rt.kind in "ui":
            return _round_to_int(out, rt)
        return out.astype(rt, copy=False)   # a fresh array already
    return _direct(in1, in2, b, mode, axes, corr, nthreads, nonfinite)


def _round_to_int(out, rt):
    """Round an FFT result to integers and wrap it into `rt` modulo 2**bits
    (the direct method's arithmetic; a plain float -> int cast is undefined
    out of range)."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.round(out.real if out.dtype.kind == "c" else out)
        if rt == np.uint64:
            return out.astype(np.uint64)
        return out.astype(np.int64).astype(rt)


# --------------------------------------------------------------------------
# public functions


@docfiller
def convolve(in1, in2, mode="full", method="auto", *, axes=None, workers=None):
    """Convolve two N-dimensional arrays.

    Same signature, results, dtypes and errors as :func:`scipy.signal.convolve`
    (SciPy 1.17), plus the keyword-only `axes` and `workers`.

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input, with as many dimensions as `in1`.
    mode : {'full', 'valid', 'same'}, optional
        ``'full'`` (default): the whole discrete linear convolution.
        ``'valid'``: only elements that do not rely on zero padding; one
        input must be at least as large as the other in every dimension
        (they are swapped if `in2` is the larger).  ``'same'``: the shape
        of `in1`, centred on the ``'full'`` output (start ``(n2 - 1) // 2``
        on each axis).
    method : {'auto', 'direct', 'fft'}, optional
        ``'direct'``: fastconv's multithreaded direct engine (exact integer
        arithmetic).  ``'fft'``: FFTs (real operands: tiled overlap-save
        in the operands' precision, float32 stays float32, through
        ``scipy.fft``, or ducc0 with ``FASTCONV_FFT=ducc0``; otherwise a single
        ``scipy.fft`` transform or overlap-add, whichever fastconv's cost
        model finds faster).  ``'auto'`` (default):
        :func:`choose_conv_method`; it never picks an FFT when an input
        holds NaN or inf.
    axes : int or sequence of int, optional
        Convolve along these axes only; the other axes broadcast (their
        lengths must be equal or 1), as in
        :func:`scipy.signal.fftconvolve`.  Axes where either input has
        length 1 broadcast too.  Default: all axes.
    %(workers)s

    Returns
    -------
    convolve : ndarray
        An N-D array holding a subset of the discrete linear convolution of
        `in1` with `in2`, of dtype ``np.result_type(in1, in2)``.

    Raises
    ------
    ValueError
        For a bad `mode` or `method`, inputs of different dimensionality,
        'valid' shapes where neither input is the larger in every
        dimension, `axes` out of range, repeated or empty, non-broadcasting
        shapes on the axes that are not convolved, and empty inputs (except
        ``'same'`` with an empty `in1`), or bad `workers`.
    TypeError
        For non-integer `axes` or `workers`.

    See Also
    --------
    scipy.signal.convolve : The SciPy function this mirrors.
    correlate : Cross-correlation.
    choose_conv_method : How ``method='auto'`` decides.
    fastconv.nn.conv : CNN-style (PyTorch/Keras) convolution.

    Notes
    -----
    The direct method computes one window of the full convolution with one
    call of fastconv's engine: ``'same'`` and ``'full'`` are zero pads that
    are never materialised, axes where an input has length 1 and the
    broadcast axes become the engine's batch and filter axes, and the
    cheaper of the two operand orders is run.  Its cost is about
    ``prod(out_shape) * min(size)`` multiply-adds, spread over `workers`
    threads; results do not depend on the thread count.

    dtypes: float32 stays float32 and float64 float64; float16 is computed
    in float32 and returned as float16; every integer and bool dtype is
    summed in 64-bit integers and cast back, reproducing SciPy's (C's)
    wrap-around bit for bit; complex inputs run as real engine channels.
    Long double and object inputs are delegated to SciPy's direct method
    where SciPy has it (``axes=None``; object arrays only on SciPy's 1-D
    NumPy path) and run by a NumPy shift-and-add loop otherwise.  Where
    SciPy refuses a dtype in N-D (float16, bool, object: "Unsupported
    type"), fastconv computes the result.

    Empty inputs follow SciPy's direct method whatever `method` is:
    ``'same'`` with an empty `in1` gives an empty array, N-D ``'valid'``
    gives zeros (the empty sum), N-D ``'full'`` the empty full-size array
    (``(0, 3)`` with ``(1, 3)`` gives ``(0, 5)``), every other case raises
    ``ValueError``.
    (SciPy's FFT method raises ``IndexError`` on empty inputs.)

    NaN and inf: the direct result is NaN/inf exactly where SciPy's direct
    method's is (SciPy's N-D path multiplies its zero padding, so an inf in
    the kernel next to an edge gives ``0 * inf = nan`` there, which is
    reproduced; its 1-D path skips the padding, which is reproduced too).
    This holds at every SIMD level: the AVX2/AVX-512 kernels fuse
    multiply-adds, which changes the pattern only when a finite product
    overflows, and such calls run on the unfused baseline kernels (see
    the user guide, "Non-finite values and SIMD levels").
    With `axes` given, padding is never multiplied.  ``method='fft'``
    behaves as SciPy's FFT path (a NaN spreads through the whole output
    and a ``RuntimeWarning`` is issued).

    Examples
    --------
    >>> import numpy as np
    >>> import fastconv
    >>> fastconv.convolve([1, 2, 3], [0, 1, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> fastconv.convolve(np.ones(3), np.arange(5.), mode='valid')
    array([3., 6., 9.])

    Integers wrap around exactly like SciPy's direct method:

    >>> fastconv.convolve(np.array([100, 100], np.int8), np.array([2, 2], np.int8))
    array([ -56, -112,  -56], dtype=int8)

    Batched 1-D convolution, one kernel per row, with the direct method:

    >>> x = np.arange(12.).reshape(3, 4)
    >>> k = np.array([[1., -1.], [0., 1.], [1., 1.]])
    >>> fastconv.convolve(x, k, axes=1, method='direct')
    array([[ 0.,  1.,  1.,  1., -3.],
           [ 0.,  4.,  5.,  6.,  7.],
           [ 8., 17., 19., 21., 11.]])
    """
    return _conv_or_corr(in1, in2, mode, method, axes, workers, corr=False)


@docfiller
def correlate(in1, in2, mode="full", method="auto", *, axes=None, workers=None):
    """Cross-correlate two N-dimensional arrays.

    Same signature, results, dtypes and errors as
    :func:`scipy.signal.correlate` (SciPy 1.17), plus the keyword-only
    `axes` and `workers`.  The result is::

        z[k] = sum_l in1[l] * conj(in2[l - k + N2 - 1])

    per axis, i.e. the convolution of `in1` with the reversed conjugate of
    `in2`.

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input, with as many dimensions as `in1`; conjugated when
        complex.
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`convolve`.  For ``'same'`` and an even-length `in2`
        axis the output starts ``N2 // 2`` samples into the padded input
        (SciPy's ``correlate`` rule; :func:`correlate2d` uses
        ``(N2 - 1) // 2``).
    method : {'auto', 'direct', 'fft'}, optional
        As in :func:`convolve`.
    axes : int or sequence of int, optional
        Correlate along these axes only (`in2` is reversed along them
        only); the other axes broadcast as in :func:`convolve`.
    %(workers)s

    Returns
    -------
    correlate : ndarray
        A subset of the discrete linear cross-correlation, of dtype
        ``np.result_type(in1, in2)``.

    Raises
    ------
    ValueError
        As :func:`convolve` (the dimensionality message reads "in1 and in2
        should have the same dimensionality").
    TypeError
        For non-integer `axes` or `workers`.

    See Also
    --------
    scipy.signal.correlate : The SciPy function this mirrors.
    convolve : Convolution.
    correlate2d : 2-D correlation with boundary conditions.
    fastconv.ndimage.correlate : ndimage semantics (output = input shape).

    Notes
    -----
    Computed as ``convolve(in1, conj(in2[::-1, ...]))`` with the same
    engine, dtype rules, NaN rules and delegations as :func:`convolve`.
    SciPy's direct method swaps the inputs in ``'valid'`` mode when `in2`
    is larger and undoes the swap by reversing and conjugating; the result
    is the same.

    Examples
    --------
    >>> import numpy as np
    >>> import fastconv
    >>> fastconv.correlate([1, 2, 3], [0, 1, 0.5])
    array([0.5, 2. , 3.5, 3. , 0. ])
    >>> fastconv.correlate([1 + 1j, 2], [1j])
    array([1.-1.j, 0.-2.j])
    >>> fastconv.correlate(np.arange(4.), [1., 1.], mode='same')
    array([0., 1., 3., 5.])
    """
    return _conv_or_corr(in1, in2, mode, method, axes, workers, corr=True)


# Below these many multiply-adds (elements of in1 times elements of in2)
# SciPy's own C loops finish before fastconv's set-up does, so such calls
# return SciPy's result (its bits and dtype; arguments it refuses still take
# fastconv's route and errors).  convolve2d/correlate2d (Zen 4, float64):
# SciPy ~3.5 us + 1.7 ns per multiply-add, fastconv's route 36-45 us (8 x 8
# by 3 x 3: 0.08-0.10x before); integer N-D convolve/correlate: SciPy ~31 us
# + 3.6 ns, fastconv's exact integer route ~50 us (8 x 8 int32 by 3 x 3
# 'same' 0.66x before).  The 'fill' boundary goes to SciPy up to twice as
# many (32 x 32 by 5 x 5: fastconv's route 46 us, SciPy's 43-48; with 'symm'
# 39 against 48-53).
_SMALL_2D_MACS = 1 << 14
_SMALL_INT_MACS = 1 << 12


try:    # SciPy's C loop of convolve2d/correlate2d and its argument codes
    from scipy.signal import _sigtools
    from scipy.signal._signaltools import _boundarydict as _BOUNDARY_CODES
    from scipy.signal._signaltools import _modedict as _MODE_CODES
except ImportError:  # pragma: no cover - another SciPy
    _sigtools = None
_C2D_OK = [None]     # None until the first use checks the entry


def _c_conv2d(in1, in2, mode, boundary, fillvalue, corr):
    """SciPy's convolve2d/correlate2d of 2-D ndarrays by its C loop, with
    the arguments its Python layer passes (the same bits), or None for a
    mode or boundary that is not a plain str; its Python layer is most of
    a small call (8 x 8 by 3 x 3: ~2.5 of 3.6 us).  The entry is SciPy's
    private module, used only after a first-use check against the public
    functions."""
    if type(mode) is not str or type(boundary) is not str:
        return None
    val, bval = _MODE_CODES.get(mode), _BOUNDARY_CODES.get(boundary)
    if val is None or bval is None or boundary == "reflect":
        return None
    if _C2D_OK[0] is None:
        _C2D_OK[0] = _sigtools is not None and _check_c_conv2d()
    if not _C2D_OK[0]:
        return None
    return _c_conv2d_run(in1, in2, val, bval, mode, fillvalue, corr)


def _c_conv2d_run(in1, in2, val, bval, mode, fillvalue, corr):
    swapped = swap_needed(mode, in1.shape, in2.shape)
    if swapped:
        in1, in2 = in2, in1
    if not corr:
        return _sigtools._convolve2d(in1, in2, 1, val, bval << 2, fillvalue)
    out = _sigtools._convolve2d(in1, in2.conj(), 0, val, bval << 2, fillvalue)
    return out[::-1, ::-1] if swapped else out


def _check_c_conv2d():
    """Whether SciPy's private convolve2d entry gives the public functions'
    bits for the arguments :func:`_c_conv2d` passes."""
    try:
        a = (np.arange(42.0).reshape(6, 7) * 1.37) % 5
        b = np.array([[0.5, -1.25, 2.0], [0.25, 3.0, -0.75]]) * (1 - 2j)
        for mode in ("full", "same", "valid"):
            for boundary in ("fill", "wrap", "symm"):
                for corr, public in ((False, _ss.convolve2d), (True, _ss.correlate2d)):
                    for x, y in ((a, b), (b, a)) if mode == "valid" else ((a, b),):
                        got = _c_conv2d_run(x, y, _MODE_CODES[mode], _BOUNDARY_CODES[boundary],
                                            mode, 1.5, corr)
                        ref = public(x, y, mode, boundary, 1.5)
                        if got.dtype != ref.dtype or got.tobytes() != np.ascontiguousarray(
                                ref).tobytes():
                            return False
    except Exception:  # pragma: no cover - another SciPy's private API
        return False
    return True


def _conv2d(in1, in2, mode, boundary, fillvalue, workers, corr):
    if workers is not None:
        resolve_workers(workers)            # its errors first
    in1 = np.asarray(in1)
    in2 = np.asarray(in2)
    if in1.ndim == in2.ndim == 2 and 0 < in1.size * in2.size < _SMALL_2D_MACS * (
            2 if boundary in ("fill", "pad") else 1) \
            and in1.dtype.kind in "iufc" and in2.dtype.kind in "iufc":
        try:
            out = _c_conv2d(in1, in2, mode, boundary, fillvalue, corr)
            if out is None:
                out = (_ss.correlate2d if corr else _ss.convolve2d)(in1, in2, mode, boundary,
                                                                    fillvalue)
            return out
        except Exception:   # noqa: BLE001 - refused by SciPy: fastconv's route decides
            pass
    nthreads = resolve_workers(workers)
    if _lean_2d(in1, in2, mode, boundary, fillvalue, corr):
        out = _plain_call(in1, in2, mode, "direct", corr, nthreads)
        if out is not None:
            return out
    else:
        out = _plain_2d_edges(in1, in2, mode, boundary, fillvalue, corr, nthreads)
        if out is not None:
            return out
    name = "correlate2d" if corr else "convolve2d"
    if not in1.ndim == in2.ndim == 2:
        raise ValueError(f"{name} inputs must both be 2-D arrays")
    _check_numeric(in1, in2, f"{name} not available for this type")
    swapped = swap_needed(mode, in1.shape, in2.shape)
    check_mode(mode)
    if not isinstance(boundary, str) or boundary not in BOUNDARIES:
        raise ValueError("Acceptable boundary flags are 'fill', 'circular' (or 'wrap'), "
                         "and 'symmetric' (or 'symm').")
    boundary = BOUNDARIES[boundary]
    if boundary == "reflect":
        raise ValueError("Incorrect boundary value.")
    rt = np.result_type(in1, in2)
    _check_out_memory(name, in1.shape, in2.shape, mode, rt)
    fv = check_fillvalue(fillvalue, rt)
    if compute_route(rt)[0] == "fallback" and rt.kind != "O":
        func = _ss.correlate2d if corr else _ss.convolve2d
        return np.asarray(func(in1, in2, mode, boundary, fillvalue))
    if in1.size == 0 or in2.size == 0:
        return _empty_2d(in1, in2, mode, boundary, rt, swapped)
    if swapped and corr:
        # SciPy correlates the swapped inputs (conjugating the new second
        # one) and only reverses the result: no boundary is involved.
        a, b = in2, _conj(in1[::-1, ::-1])
        res = conv_window(a, b, (0, 1), conv_windows("valid", a.shape, b.shape, (0, 1)), rt,
                          nthreads)
        return np.ascontiguousarray(res[::-1, ::-1])
    b = in2[::-1, ::-1].conj() if corr and in2.dtype.kind == "c" else (
        in2[::-1, ::-1] if corr else in2)
    a = in1
    if swapped:
        a, b = b, a
    same_start = (lambda n2: n2 // 2) if corr else None
    windows = conv_windows(mode, a.shape, b.shape, (0, 1), same_start)
    pad_mode = None
    cval = 0
    if boundary == "fill":
        if fv != 0:
            pad_mode = "constant"
            cval = fv
        elif mode != "valid" and has_nonfinite(b):
            pad_mode = "constant"
    else:
        pad_mode = NP_PAD[boundary]
    if mode == "valid":
        pad_mode = None
    return conv_window(a, b, (0, 1), windows, rt, nthreads, pad_mode=pad_mode, cval=cval)


def _lean_2d(in1, in2, mode, boundary, fillvalue, corr):
    """Whether a convolve2d/correlate2d call is the direct ``convolve`` /
    ``correlate`` call of the same operands (then :func:`_plain_call` may
    run it): zero fill, operands in SciPy's order (no 'valid' swap), and for
    correlate2d's ``'same'`` odd kernel lengths (it centres even ones
    differently from correlate).  Values (a non-finite kernel) are
    :func:`_plain_call`'s to check."""
    if type(fillvalue) not in (int, float) or fillvalue != 0 or \
            not (boundary == "fill" or boundary == "pad") or \
            type(in1) is not np.ndarray or in1.ndim != 2 or type(in2) is not np.ndarray or \
            in2.ndim != 2:
        return False
    if mode == "valid":
        return in1.shape[0] >= in2.shape[0] and in1.shape[1] >= in2.shape[1]
    return mode == "full" or (mode == "same" and (
        not corr or (in2.shape[0] % 2 and in2.shape[1] % 2)))


def _plain_2d_edges(in1, in2, mode, boundary, fillvalue, corr, nthreads):
    """A convolve2d/correlate2d call with extended edges ('symm', 'wrap', or
    'fill' with a fill value other than 0) from its engine decisions cached
    per geometry (:func:`fastconv._direct.run_plain_window`: the same engine
    call on the same operands as :func:`conv_window`, so the same bits),
    or None for the general route.  float32/float64 operands of one dtype,
    ``'full'``/``'same'``, a finite kernel."""
    if type(in1) is not np.ndarray or type(in2) is not np.ndarray or \
            type(mode) is not str or type(boundary) is not str:
        return None
    dt = in1.dtype
    if not (dt is _F64 or dt is _F32) or in2.dtype is not dt or in1.ndim != 2 or \
            in2.ndim != 2 or not in1.size or not in2.size:
        return None
    cval = 0
    pad_mode = NP_PAD.get(BOUNDARIES.get(boundary))
    if pad_mode is None:
        if BOUNDARIES.get(boundary) != "fill" or type(fillvalue) not in (int, float) or \
                fillvalue == 0 or not abs(fillvalue) < 1e30:
            return None     # (a NaN or huge fill value: check_fillvalue's conversion)
        pad_mode, cval = "constant", dt.type(fillvalue)
    pplan = _plain_2d_plan(in1.shape, in2.shape, dt.char, mode, corr)
    if pplan is None:
        return None
    _check_out_memory("correlate2d" if corr else "convolve2d", in1.shape, in2.shape, mode, dt)
    if not _engine.finite_weights(in2):
        return None
    return run_plain_window(pplan, in1, in2[::-1, ::-1] if corr else in2, nthreads, pad_mode,
                            cval)


@functools.lru_cache(maxsize=256)
def _plain_2d_plan(s1, s2, dchar, mode, corr):
    """The :func:`fastconv._direct.plain_window_plan` of a
    :func:`_plain_2d_edges` call, or None."""
    if mode not in ("full", "same"):
        return None
    windows = tuple(conv_windows(mode, s1, s2, (0, 1), (lambda n2: n2 // 2) if corr else None))
    key = (s1, s2, (0, 1), windows, np.dtype(dchar), True, None)
    return plain_window_plan(key)


def _empty_2d(in1, in2, mode, boundary, rt, swapped):
    """SciPy's 2-D loops on empty inputs: zeros of the mode's shape (the
    empty sum), except that extending an empty in1 periodically or
    symmetrically is undefined (SciPy crashes): ValueError."""
    a, b = (in2, in1) if swapped else (in1, in2)
    if mode == "full":
        shape = tuple(n1 + n2 - 1 for n1, n2 in zip(a.shape, b.shape))
    elif mode == "same":
        shape = a.shape
    else:
        shape = tuple(n1 - n2 + 1 for n1, n2 in zip(a.shape, b.shape))
    shape = tuple(max(n, 0) for n in shape)
    if a.size == 0 and boundary != "fill" and 0 not in shape:
        raise ValueError(f"boundary {boundary!r} cannot extend an empty in1")
    return np.zeros(shape, dtype=rt)


@docfiller
def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, workers=None):
    """Convolve two 2-dimensional arrays, with a boundary condition.

    Same signature, results, dtypes and errors as
    :func:`scipy.signal.convolve2d` (SciPy 1.17), plus the keyword-only
    `workers`.

    Parameters
    ----------
    in1 : array_like
        First input (2-D).
    in2 : array_like
        Second input (2-D).
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`convolve` (``'same'`` starts at ``(N2 - 1) // 2``).
    boundary : {'fill', 'wrap', 'symm'}, optional
        How `in1` extends beyond its edges: ``'fill'`` (alias ``'pad'``,
        default) with `fillvalue`; ``'wrap'`` (alias ``'circular'``)
        periodically; ``'symm'`` (alias ``'symmetric'``) mirrored with the
        edge sample repeated (``d c b a | a b c d | d c b a``).
    fillvalue : scalar, optional
        Value for ``boundary='fill'`` (default 0), converted to the output
        dtype as SciPy does.
    %(workers)s

    Returns
    -------
    out : ndarray
        2-D array of dtype ``np.result_type(in1, in2)``.

    Raises
    ------
    ValueError
        For inputs that are not 2-D, a bad `mode` or `boundary` (SciPy's
        texts; ``'reflect'`` gives "Incorrect boundary value."), a
        `fillvalue` that does not convert to the output dtype or has more
        than one element, 'valid' shapes where neither input is the larger,
        or bad `workers`.

    See Also
    --------
    scipy.signal.convolve2d : The SciPy function this mirrors.
    convolve : N-D convolution (zero boundary).
    fastconv.ndimage.convolve : More boundary modes, N-D.

    Notes
    -----
    A non-zero `fillvalue` and the ``'wrap'``/``'symm'`` boundaries pad a
    copy of `in1` (``np.pad``) and run the engine in ``'valid'`` mode;
    zero fill is never materialised.  dtypes as in :func:`convolve`:
    fastconv also accepts float16, bool and object inputs, which SciPy's
    2-D loops refuse; long double is delegated to SciPy.  Empty inputs
    give SciPy's result (zeros of the mode's shape, the empty sum), but
    ``'wrap'``/``'symm'`` with an empty `in1` raise ``ValueError`` where
    SciPy crashes.

    Examples
    --------
    >>> import numpy as np
    >>> import fastconv
    >>> img = np.arange(9.).reshape(3, 3)
    >>> fastconv.convolve2d(img, [[0, 1], [1, 0]], mode='same', boundary='wrap')
    array([[ 8.,  7.,  9.],
           [ 5.,  4.,  6.],
           [11., 10., 12.]])
    >>> fastconv.convolve2d(img, np.ones((2, 2)), mode='valid')
    array([[ 8., 12.],
           [20., 24.]])
    """
    return _conv2d(in1, in2, mode, boundary, fillvalue, workers, corr=False)


@docfiller
def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, workers=None):
    """Cross-correlate two 2-dimensional arrays, with a boundary condition.

    Same signature, results, dtypes and errors as
    :func:`scipy.signal.correlate2d` (SciPy 1.17), plus the keyword-only
    `workers`.

    Parameters
    ----------
    in1 : array_like
        First input (2-D).
    in2 : array_like
        Second input (2-D), conjugated when complex.
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`correlate`, except that ``'same'`` with an even-length
        `in2` axis starts ``(N2 - 1) // 2`` samples into the padded input,
        one sample earlier than :func:`correlate` (SciPy's own difference,
        reproduced).
    boundary : {'fill', 'wrap', 'symm'}, optional
        As in :func:`convolve2d`.
    fillvalue : scalar, optional
        As in :func:`convolve2d`.
    %(workers)s

    Returns
    -------
    out : ndarray
        2-D array of dtype ``np.result_type(in1, in2)``.

    Raises
    ------
    ValueError
        As :func:`convolve2d` ("correlate2d inputs must both be 2-D
        arrays").

    See Also
    --------
    scipy.signal.correlate2d : The SciPy function this mirrors.
    correlate : N-D correlation.

    Notes
    -----
    When 'valid' mode swaps the inputs (`in2` larger), SciPy correlates
    `in2` with the conjugate of `in1` and reverses the result without
    conjugating it back; for complex inputs that is the conjugate of
    :func:`correlate`'s answer.  fastconv reproduces it.  Everything else
    as :func:`convolve2d`.

    Examples
    --------
    >>> import numpy as np
    >>> import fastconv
    >>> img = np.arange(16.).reshape(4, 4)
    >>> fastconv.correlate2d(img, [[1, 0], [0, -1]], mode='valid')
    array([[-5., -5., -5.],
           [-5., -5., -5.],
           [-5., -5., -5.]])
    >>> fastconv.correlate2d(img, [[1, 1], [1, 1]], mode='same', boundary='symm')
    array([[10., 14., 18., 20.],
           [26., 30., 34., 36.],
           [42., 46., 50., 52.],
           [50., 54., 58., 60.]])
    """
    return _conv2d(in1, in2, mode, boundary, fillvalue, workers, corr=True)


@docfiller
def fftconvolve(in1, in2, mode="full", axes=None, *, workers=None):
    """Convolve two N-dimensional arrays using FFT.

    Same signature, results and dtypes as :func:`scipy.signal.fftconvolve`
    (SciPy 1.17): the same ``scipy.fft`` transforms, so the numbers agree
    with SciPy's to the last bit.  Keyword-only `workers` is passed to every
    transform.

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input, with as many dimensions as `in1`.
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`convolve`.
    axes : int or sequence of int, optional
        Axes to convolve (default all); the others broadcast (lengths equal
        or 1).
    %(workers)s

    Returns
    -------
    out : ndarray
        Floating or complex: integer and bool inputs give float64, float16
        gives float32, long double is preserved.

    Raises
    ------
    ValueError
        For inputs of different dimensionality, bad `axes` ("when provided,
        axes cannot be empty", "axes exceeds dimensionality of input",
        "all axes must be unique"), incompatible broadcast shapes, 'valid'
        shapes where neither input is the larger, or a bad `mode`.
    TypeError
        For non-integer `axes` (also a ``ValueError``, SciPy's type).

    See Also
    --------
    scipy.signal.fftconvolve : The SciPy function this mirrors.
    oaconvolve : Overlap-add, faster when one input is much smaller.
    convolve : Chooses between direct and FFT.

    Notes
    -----
    Cost: three transforms of the padded shape ``next_fast_len(n1 + n2 -
    1)`` per convolved axis, ``O(N log N)``.  ``scipy.fft`` threads split
    batches of 1-D transforms, so a single long 1-D transform runs on one
    thread, and transforms of fewer than 2**16 points always run on one
    thread (the pool costs more than it saves there).  Empty inputs return
    ``np.asarray([])`` like SciPy.

    Examples
    --------
    >>> import numpy as np
    >>> import fastconv
    >>> fastconv.fftconvolve([1., 2., 3.], [0., 1., 0.5]).round(12) + 0.0
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> fastconv.fftconvolve(np.ones((3, 10)), np.ones((3, 4)), axes=1).shape
    (3, 13)
    """
    nthreads = resolve_workers(workers)
    in1 = np.asarray(in1)
    in2 = np.asarray(in2)
    if in1.ndim == in2.ndim == 0:
        return in1 * in2
    if in1.ndim == in2.ndim and in1.size and in2.size:
        check_mode(mode, fft=True)
    return _fft.fftconvolve(in1, in2, mode, axes, nthreads)


@docfiller
def oaconvolve(in1, in2, mode="full", axes=None, *, workers=None):
    """Convolve two N-dimensional arrays using the overlap-add method.

    Same signature, results and dtypes as :func:`scipy.signal.oaconvolve`
    (SciPy 1.17); keyword-only `workers` is passed to every transform.

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input, with as many dimensions as `in1`.
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`convolve`.
    axes : int or sequence of int, optional
        Axes to convolve (default all); the others broadcast.
    %(workers)s

    Returns
    -------
    out : ndarray
        As :func:`fftconvolve`.

    Raises
    ------
    ValueError
        As :func:`fftconvolve`.
    TypeError
        For non-integer `axes`.

    See Also
    --------
    scipy.signal.oaconvolve : The SciPy function this mirrors.
    fftconvolve : One transform of the whole problem.

    Notes
    -----
    Where SciPy would block no axis (one input more than half as long as
    the other along every axis, or blocks as long as the input), this is
    :func:`fftconvolve`, with SciPy's result bit for bit.  Otherwise the
    longer input is cut into blocks of ``B - k + 1`` samples (``k`` the
    shorter length) along the blocked axes: ``B`` is SciPy's block length
    when several axes are convolved, and along a single axis the fast FFT
    length that minimises ``B log B / (B - k + 1)`` (transform work per
    output sample).  All blocks are transformed in one batched
    ``scipy.fft`` call, multiplied by the shorter input's spectrum,
    transformed back, and their overlapping ``k - 1`` tails are added onto
    the next block.  Real float inputs with at least 65536 output elements
    take the tiled overlap-save route of ``convolve(method='fft')`` instead
    where its price is the lowest (computed in the inputs' precision), and
    inputs whose single transform is priced below the blocks take
    :func:`fftconvolve` (SciPy blocks a 200 x 200 image for a 15 x 15
    kernel, which one transform computes in about half the time).
    Results agree with SciPy's to rounding, not always bit for bit.

    Examples
    --------
    >>> import numpy as np
    >>> import fastconv
    >>> x = np.zeros(1000); x[500] = 1.0
    >>> y = fastconv.oaconvolve(x, [1., 2., 3.])
    >>> y[499:504].round(12) + 0.0
    array([0., 1., 2., 3., 0.])
    """
    nthreads = resolve_workers(workers)
    in1 = np.asarray(in1)
    in2 = np.asarray(in2)
    if in1.ndim == in2.ndim == 0:
        return in1 * in2
    if in1.ndim == in2.ndim and in1.size and in2.size:
        check_mode(mode, fft=True)
        out = _oa_faster(in1, in2, mode, axes, nthreads)
        if out is not None:
            return out
    return _fft.oaconvolve(in1, in2, mode, axes, nthreads)


# Outputs from this many elements may take the tiled FFT route in
# oaconvolve: below it the route's set-up outweighs it (2000 x 3 by 3 x 3
# float32: 318 us against 224 for overlap-add, Intel Xeon).
_OA_TILED_MIN = 1 << 16


def _oa_faster(in1, in2, mode, axes, nthreads):
    """oaconvolve by another route where SciPy would block and the cost
    model prices that route below overlap-add, else None: the tiled
    overlap-save route (``method='fft'``'s, real float operands, outputs of
    _OA_TILED_MIN elements and more; 512 x 512 by 7 x 7 float32: 1.50 ms
    against SciPy's overlap-add 2.70; 1000 x 1000 by 31 x 31: 4.5 against
    17.6), or one transform of the whole (:func:`fftconvolve`; Intel Xeon,
    2026-12-05, fastconv's overlap-add / one transform: 200 x 200 by
    15 x 15 float32 743 / 418 us, float64 1278 / 691; 2000 by 3 106 / 66;
    3000 by 101 142 / 105; 2000 x 3 by 3 x 3 313 / 253 -- where the model
    keeps overlap-add it was the faster: 20000 by 31 206 / 456, 100000 by
    255 626 / 2314)."""
    if in1.dtype.kind not in "fc" or in2.dtype.kind not in "fc":
        return None
    a2, b2, conv_axes, _ = freq_axes(in1, in2, mode, axes)
    if not conv_axes:
        return None
    plan = _fft.scipy_oa_plan(a2.shape, b2.shape, conv_axes)
    if all(p is None for p in plan.values()):
        return None         # SciPy transforms the whole: _fft.oaconvolve, its bits
    real = in1.dtype.char in "fd" and in2.dtype.char in "fd"
    if real and math.prod(n1 + n2 - 1 for n1, n2 in
                          zip(a2.shape, b2.shape)) >= _OA_TILED_MIN:
        if fft_choice(a2, b2, mode, conv_axes)[0] == "tiled":
            return _fft.tiled_convolve(a2, b2, conv_axes, mode, nthreads)
    if fft_choice(a2, b2, mode, conv_axes, tiled_ok=False)[0] == "fft":
        return _fft.fftconvolve(in1, in2, mode, axes, nthreads)
    return None


@docfiller
def choose_conv_method(in1, in2, mode="full", measure=False, *, workers=None):
    """Find the fastest of fastconv's convolution methods for these inputs.

    Same signature and return values as
    :func:`scipy.signal.choose_conv_method`; the decision is made for
    fastconv's own direct engine and FFT paths (with `workers` threads),
    not SciPy's.

    Parameters
    ----------
    in1 : array_like
        First input.
    in2 : array_like
        Second input, with as many dimensions as `in1`.
    mode : {'full', 'valid', 'same'}, optional
        As in :func:`convolve`.
    measure : bool, optional
        If True, time both methods of :func:`convolve` on these inputs and
        return the faster with the timings.
    %(workers)s

    Returns
    -------
    method : str
        ``'direct'`` or ``'fft'``.
    times : dict, optional
        Only with ``measure=True``: seconds per call of each method.

    Raises
    ------
    ValueError
        For a bad `mode` or inputs of different dimensionality.

    See Also
    --------
    scipy.signal.choose_conv_method : The SciPy function this mirrors.
    convolve : Uses this for ``method='auto'``.

    Notes
    -----
    Rules, in order: inputs holding NaN or inf -> ``'direct'`` (so that a
    NaN stays where the direct method puts it; SciPy's ``'auto'`` may let
    an FFT spread it over the whole output); bool or non-numeric (object)
    inputs -> ``'direct'``; integer inputs whose products could exceed
    ``2**52`` (SciPy's guard; an FFT could round them wrongly) ->
    ``'direct'``; otherwise the cheaper estimate.

    The direct estimate models the engine: seconds = call overhead +
    per-inner-loop cost x loops (counting only the taps that meet the
    input, ``_cost.overlap_pairs``; this is what tells the two
    operand orders of a degenerate problem apart) + per-multiply-add cost
    (by dtype) x multiply-adds (output length x kernel length per axis) +
    per-output cost, the work divided among the threads the engine can use
    (it splits blocks of output rows).  For 1-D inputs SciPy's NumPy loop is
    priced too (2 us + 0.25 ns per multiply-add) and used when cheaper.  The
    FFT estimate is ``c1 N log2 N + c2 N`` for the padded shape ``N`` (x2
    for complex), for overlap-add (one blocked axis) a cost per point
    of all the blocks, and for the tiled overlap-save route of real
    operands (the first convolved axis cut into tiles of about 6 (2-D) or
    12 (1-D) kernel lengths, the other axes transformed whole, the
    kernel's spectrum computed once per call) ``c T (log2 t + 8)`` for
    ``T`` points in all tiles of ``t`` points each, by transform library
    and precision, scaled per number of axes; the cheapest FFT variant
    is the FFT estimate.

    How the constants were found: non-negative least squares on the
    relative error of single-thread timings (min of 5 after a warm-up) of
    fastconv's direct method, ``fftconvolve`` and overlap-add on
    float32/float64 1-D signals (2**10..2**19 samples, 3..511 taps; plus
    2**22 samples for overlap-add), 2-D images (64**2..1024**2, kernels
    3**2..63**2) and 3-D volumes (16**3..64**3, 3**3..7**3), modes 'same'
    and 'full', on the 2-core AVX-512 development VM while four other jobs
    shared it.  The fits are within a factor 0.3..1.4 of the timings; on
    those 232 cases the method chosen was never more than 1.4x slower than
    the faster one (median: the faster one; 4 cases above 1.2x).  Two-thread timings could not
    be used: on the oversubscribed machine every parallel region of the
    engine paid a ~8 ms wake-up penalty, so the thread scaling in the model
    (0.9 per extra thread for the engine, 1.1x for ``scipy.fft`` batches,
    none for a single 1-D transform) is an assumption to re-check on a
    quiet machine.  ``measure=True`` times the real calls instead.

    Examples
    --------
    >>> import numpy as np
    >>> import fastconv
    >>> rng = np.random.default_rng(0)
    >>> fastconv.choose_conv_method(rng.random((256, 256)), rng.random((3, 3)))
    'direct'
    >>> fastconv.choose_conv_method(rng.random(100000), rng.random(5000))
    'fft'
    >>> fastconv.choose_conv_method([1., np.nan, 3.], np.ones(3))
    'direct'
    """
    nthreads = resolve_workers(workers)
    volume = np.asarray(in1)
    kernel = np.asarray(in2)
    if measure:
        times = {}
        for method in ("fft", "direct"):
            times[method] = _time_call(lambda m=method: convolve(
                volume, kernel, mode=mode, method=m, workers=nthreads))
        return ("fft" if times["fft"] < times["direct"] else "direct"), times
    if volume.ndim == kernel.ndim == 0:
        return "direct"
    if volume.ndim != kernel.ndim:
        raise ValueError("volume and kernel should have the same dimensionality")
    check_mode(mode)
    if swap_needed(mode, volume.shape, kernel.shape):
        volume, kernel = kernel, volume
    if volume.size == 0 or kernel.size == 0:
        return "direct"
    return choose_method(volume, kernel, mode, None, NonFinite(volume, kernel, nthreads))


def _time_call(func):
    """Seconds per call: enough calls for >= 5 ms per repeat, best of 3."""
    timer = timeit.Timer(func)
    number = 1
    for p in range(10):
        number = 10 ** p
        t = timer.timeit(number)
        if t >= 5e-4:
            break
    if t > 1:
        return t / number
    number *= 10
    return min(timer.repeat(3, number)) / number
