"""scipy.ndimage's vocabulary: modes, axes, origins, outputs and casts.

The argument rules of ``scipy.ndimage``'s filters (SciPy's own
``scipy/ndimage/_ni_support.py`` is the model), written once for
:mod:`fastconv.ndimage`, its linear filters (:mod:`fastconv._ndfilters`)
and :mod:`fastconv.dask.ndimage`.  Every check raises SciPy's own error.
"""

import numbers
import operator
import platform
import warnings
from collections.abc import Iterable

import numpy as np

from fastconv._errors import RuntimeValueError

try:  # NumPy >= 2
    from numpy.lib.array_utils import normalize_axis_index
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import normalize_axis_index


PAD_MODES = {"reflect": "symmetric", "grid-mirror": "symmetric", "mirror": "reflect",
              "nearest": "edge", "wrap": "wrap", "grid-wrap": "wrap",
              "constant": "constant", "grid-constant": "constant"}


# input dtypes ndimage's C loops accept (others raise there; we delegate)
SUPPORTED_KINDS = "biufc"


def np_pad_mode(mode):
    if isinstance(mode, str) and mode in PAD_MODES:
        return PAD_MODES[mode]
    raise RuntimeValueError("boundary mode not supported")


def check_axes(axes, ndim):
    """scipy.ndimage's axes rules (int, iterable of ints or None)."""
    if axes is None:
        return tuple(range(ndim))
    if np.isscalar(axes):
        axes = (operator.index(axes),)
    elif isinstance(axes, Iterable):
        axes = tuple(operator.index(ax) for ax in axes)
        for ax in axes:
            if ax < -ndim or ax > ndim - 1:
                raise ValueError(f"specified axis: {ax} is out of range")
        axes = tuple(ax % ndim if ax < 0 else ax for ax in axes)
    else:
        raise ValueError("axes must be an integer, iterable of integers, or None")
    if len(set(axes)) != len(axes):
        raise ValueError("axes must be unique")
    return axes


def normalize_sequence(value, rank):
    if not isinstance(value, str) and np.iterable(value):
        values = list(value)
        if len(values) != rank:
            raise RuntimeValueError("sequence argument must have length equal to input rank")
        return values
    return [value] * rank


def invalid_origin(origin, k):
    return origin < -(k // 2) or origin > (k - 1) // 2


def output_array(output, input, complex_output):
    """ndimage's ``output`` argument -> (array to fill or None, dtype)."""
    if output is None:
        if complex_output:
            return None, np.promote_types(input.dtype, np.complex64)
        return None, input.dtype
    if isinstance(output, (type, np.dtype)):
        dtype = np.dtype(output)
        if complex_output and dtype.kind != "c":
            warnings.warn("promoting specified output dtype to complex", stacklevel=4)
            dtype = np.promote_types(dtype, np.complex64)
        return None, dtype
    if isinstance(output, str):
        dtype = np.dtype(output)
        if complex_output and dtype.kind != "c":
            raise RuntimeValueError("output must have complex dtype")
        if not issubclass(dtype.type, np.number):
            raise RuntimeValueError("output must have numeric dtype")
        return None, dtype
    if not isinstance(output, np.ndarray):
        raise TypeError("output must be None, a dtype or a NumPy array, "
                        f"got {type(output).__name__}")
    if output.shape != input.shape:
        raise RuntimeValueError("output shape not correct")
    if complex_output and output.dtype.kind != "c":
        raise RuntimeValueError("output must have complex dtype")
    return output, output.dtype


_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def _c_convert(res, dtype, lo, hi):
    """``(dtype)value`` of SciPy's C loops for an integer `dtype` narrower
    than 32 bits (or bool's byte), as the C compiler lowers it: truncation,
    saturation to the 32-bit range ``[lo, hi]`` (NaN to 0), then the low bits.

    x86-64: NumPy's own cast is that conversion (a 32-bit ``cvttsd2si``, then
    the low bits).  Elsewhere (aarch64) NumPy's vectorised cast of a long
    array saturates to the narrow type instead (-41.0 becomes 0 in uint8, C
    gives 215), so the conversion is spelled out.  Called inside
    :func:`cast`'s warning and error-state guard.
    """
    if _X86:
        return res.astype(dtype)
    if res.dtype.kind == "c":
        res = res.real
    t = np.clip(np.trunc(res), lo, hi)
    t = np.where(np.isnan(t), 0.0, t)
    return t.astype(np.int64).astype(dtype)


def cast(res, dtype, rule="nd"):
    """Cast a float64/complex result to `dtype` the way ndimage's C loops do
    (truncation toward zero, wrap-around; x86-64 conversions).  Elsewhere
    (aarch64) an out-of-range conversion to an integer narrower than 32 bits
    is undefined in C and SciPy's loops differ: ``rule="nd"`` (``correlate``,
    ``convolve``) converts through a signed 32-bit int
    (:func:`_c_convert`), ``rule="1d"`` (``correlate1d`` and the 1-D passes
    of the filters) uint8/uint16 through an unsigned one."""
    dtype = np.dtype(dtype)
    if res.dtype == dtype:
        return res
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        narrow = dtype.kind in "iu" and dtype.itemsize < 4
        if rule == "nd" and (dtype.kind == "b" or narrow):
            small = _c_convert(res, np.uint8 if dtype.kind == "b" else dtype,
                               -2.0 ** 31, 2.0 ** 31 - 1)
            return small != 0 if dtype.kind == "b" else small
        if rule == "1d" and narrow and dtype.kind == "u":
            return _c_convert(res, dtype, 0.0, 2.0 ** 32 - 1)
        if dtype.kind == "b":
            return res.astype(np.uint8) != 0
        if dtype == np.uint32:
            return res.astype(np.int64).astype(np.uint32)
        if dtype.kind in "iu" and res.dtype.kind == "c":
            res = res.real
        return res.astype(dtype)


def real_cval(cval):
    """ndimage's C conversion of `cval` to a double (TypeError otherwise)."""
    if isinstance(cval, (str, bytes, complex, np.complexfloating)):
        raise TypeError(f"must be real number, not {type(cval).__name__}")
    return float(cval)


def check_origin_type(o):
    if type(o) is int:      # the usual case, before the ABC checks
        return o
    if isinstance(o, bool):
        return int(o)
    if isinstance(o, (numbers.Integral, np.integer)):
        return int(o)
    if isinstance(o, (numbers.Real,)):
        raise TypeError(f"'{type(o).__name__}' object cannot be interpreted as an integer")
    try:
        return operator.index(o)
    except TypeError:
        raise TypeError(f"origin must be an int or a sequence of ints, got {o!r}") from None


# Small calls run in scipy.ndimage itself: below these sizes SciPy's C loops
# finish before fastconv's Python layers and kernel set-up (20-90 us) do.
# Per kind, (limit for inputs of 2+ dimensions, limit for 1-D inputs):
# "nd" correlate / convolve and "line" correlate1d / convolve1d count input
# elements times taps; "filter" (gaussian, uniform, sobel, prewitt and the
# passes of the others) and "laplace" count input elements.  Integer and
# bool inputs (computed in float64 here and cast back) get INT_FACTOR times
# the limit.  Crossovers measured 2026-12-03 on Zen 2, one thread, SciPy
# time / fastconv time: convolve 3x3 float64 64^2 0.56, 96^2 0.94, 128^2
# 1.32; 3^3 16^3 0.88, 24^3 1.58; correlate1d 9 taps 200 samples 0.82, 2000
# 1.46; gaussian_filter sigma 1 64^2 0.72, 128^2 1.63; uniform_filter 3 64^2
# 0.67, 128^2 2.13; sobel 64^2 0.46, 128^2 1.55; laplace 128^2 0.84, 256^2
# 2.97; 5000 samples 0.2-0.4 for every filter; uint8 256^2 0.75-0.81
# (gaussian, sobel).  1-D inputs run one call of the line kernel (no engine
# call) since 2026-12-06, which moved their crossover down: Zen 4, 2
# threads, float32 10 000 samples sobel 0.87, gaussian_filter 1.19,
# uniform_filter1d 1.34; 20 000 1.16, 1.51, 1.79; uint8 20 000 0.87-1.26
# (was 40 000 elements for 1-D "filter" and "laplace" calls).
# gaussian_filter with a scalar sigma on 1-D and 2-D inputs ("gauss") counts
# elements times kernel taps: SciPy's passes cost per tap, fastconv's route
# (weights cached) ~17-22 us whatever the length (Zen 4, 2026-12-06,
# float32/float64, SciPy's C passes / fastconv: 48^2 x 9 taps 18-19 / 19-20
# us, 64^2 x 5 23-26 / 19-20, 32^2 x 33 22 / 20, 24^2 x 33 15 / 19-22, 64^2
# x 33 71-75 / 22-24; 1-D 2000 x 33 19 / 17-18, 8000 x 5 19-20 / 18).
# 3-D inputs keep the "filter" rule (fastconv's float32 3-D passes cost more).
# uniform_filter, sobel and prewitt ("box": their passes cached, ~12 us a
# call from 48^2 on) from far fewer elements (Zen 4, 2026-12-06, SciPy's C
# passes / fastconv: float32/float64 32^2 9-10 / 11-12 us, 48^2 13-16 /
# 12-13, 64^2 20-25 / 12-15, 16^3 33-39 / 20-27; uint8, INT_FACTOR times
# the elements, 64^2 22-24 / 31-36, 128^2 69-78 / 58-77, 200^2 158-181 /
# 117-161).
SMALL = {"nd": (120_000, 120_000), "line": (120_000, 6_000), "filter": (9_000, 15_000),
         "laplace": (24_000, 15_000), "gauss": (25_000, 50_000), "box": (2_000, 15_000)}
INT_FACTOR = 8
# ... and SciPy's 1-D filters pay per line (15-30 ns a line: a float32
# (100, 100, 1) array along its last axis, 10,000 lines of one sample,
# correlate1d 9 taps 155 us, uniform_filter1d 15 310 us, against fastconv's
# 32 and 31; (4000, 1): 65 against 29).  A float call whose filtered lines
# number LINES or more is not small whatever its size (2026-12-06, Zen 4,
# 2 threads: (1000, 1) correlate1d SciPy 21 us, fastconv 27; (4000, 1) and
# (64, 64, 1) 2.2-5.3x SciPy, gaussian_filter 1.5-1.7x).  Integer inputs
# keep the size rule (their multi-pass filters convert to float64 and back:
# laplace on such shapes was slower, uint8 (64, 64, 1) 0.63x), except one
# pass along the last axis (INT_LINE_DTYPES below).
LINES = 2_000
# ... and one float pass along an axis (correlate1d, uniform_filter1d, ...)
# from half as many: 1000 lines of one sample, 9 / 15 taps, 2026-12-06 Zen 4:
# correlate1d 1.1-1.2x, uniform_filter1d 2.2-2.7x SciPy (multi-pass filters
# there 0.8-1.0x, integer passes 0.8x: they keep LINES)
LINES_ONE_PASS = 1_000
# 8- and 16-bit integer passes along the last axis read and store their
# integers in the line kernel (x86-64; _ndfilters._int_line_pass): no
# float64 copy, so their calls get the float limits (uint8 (512, 512)
# correlate1d 9 taps 4-5x SciPy, (100, 100, 1) 1.4-2.3x, (1000, 5) 0.75-0.9x)
INT_LINE_DTYPES = frozenset(np.dtype(t) for t in (np.uint8, np.int8, np.uint16, np.int16)) \
    if _X86 else frozenset()
_SCIPY_SMALL = [True]      # tests switch it off to run fastconv's own path on small data


def _limits():
    # (kind, dtype kind, 1-D) -> the limit (INT_FACTOR applied)
    return {(kind, dk, one): lims[one] * (INT_FACTOR if dk in "biu" else 1)
            for kind, lims in SMALL.items() for dk in "biufc" for one in (0, 1)}


_LIMITS = _limits()


def is_small(kind, work, dtype, ndim, shape=None, axis=None):
    """Whether a call of `work` (see :data:`SMALL`) on `ndim`-dimensional
    inputs of `dtype` (a NumPy dtype) runs in scipy.ndimage itself.

    `shape` (the input's; None: not known) adds the line rule of
    :data:`LINES`; `axis` says the call is one pass along that axis (None:
    along every axis, its count of lines the largest of any axis), which
    for 8- and 16-bit integers along the last axis means the float limits
    (:data:`INT_LINE_DTYPES`).  Kept lean, the line count computed only for
    calls under the size limit: for the smallest calls this is the whole
    of fastconv's cost (50 float32 samples, 9 taps: SciPy's correlate1d
    takes 4 us)."""
    if not _SCIPY_SMALL[0]:
        return False
    dk = dtype.kind
    if dk in "iu" and shape is not None and dtype in INT_LINE_DTYPES and (
            ndim == 1 or (axis is not None and is_last_axis(axis, ndim))):
        # (every filter of a 1-D input is one pass along its last axis)
        dk = "f"
    limit = _LIMITS.get((kind, dk, ndim <= 1))
    if limit is None or work >= limit:
        return False
    if dk != "f" or shape is None or ndim <= 1:
        return True
    return lines_along(shape, axis) < (
        LINES_ONE_PASS if axis is not None and dtype.kind == "f" else LINES)


def is_last_axis(axis, ndim):
    """Whether `axis` names the last of `ndim` axes (False for an invalid
    axis: SciPy's call raises its error)."""
    try:
        return operator.index(axis) % ndim == ndim - 1 if ndim else False
    except TypeError:
        return False


def lines_along(shape, axis=None):
    """The number of lines along `axis` of an array of `shape` (its size
    over the axis's length; None: the most along any axis); 0 for an empty
    array or an axis SciPy will refuse (its error is raised by the call
    itself).

    >>> lines_along((100, 100, 1)), lines_along((100, 100, 1), 0)
    (10000, 100)
    """
    try:
        n = min(shape) if axis is None else shape[axis]
    except (IndexError, TypeError, ValueError):
        return 0
    if not n:
        return 0
    size = 1
    for m in shape:
        size *= m
    return size // n


def scipy_if_small(kind, work, dtype, ndim, call, *args, shape=None, axis=None, lean=None,
                   **kwargs):
    """``call(*args, **kwargs)`` (the same call to scipy.ndimage) when
    :func:`is_small` says so for `kind` ('nd', 'line', 'filter' or
    'laplace'), `work` (see :data:`SMALL`), `ndim`-dimensional inputs of
    `dtype` (a NumPy dtype) of `shape` filtered along `axis`; None when it
    is not, or when SciPy refuses the arguments (fastconv's own checks then
    raise its error, or compute what SciPy does not, e.g. float16).

    `lean` (a callable returning the result or None) is tried first: the
    same SciPy computation with less around it (small Gaussians: the
    weights cached)."""
    if not is_small(kind, work, dtype, ndim, shape, axis):
        return None
    if lean is not None:
        res = lean()
        if res is not None:
            return res
    try:
        return call(*args, **kwargs)
    except Exception:
        return None


# --------------------------------------------------------------------------
# Small calls straight to scipy.ndimage's C filters
#
# A 50-sample correlate1d costs SciPy ~4 us, of which its C loop takes ~1:
# the rest is its Python argument handling, which fastconv's delegation
# used to add ~1 us to.  For the plain cases (default output, str modes,
# int origins and sizes, real numbers for cval, an input dtype the C loops
# take) the small-call route calls the same C functions with the arguments
# SciPy's Python layer would have given them -- the same bits -- and skips
# that layer.  These entries are SciPy's private module, so they are used
# only after a first-use check that they take those arguments and give the
# public functions' bits; anything else (or a failed check) keeps the
# public call.

try:
    from scipy.ndimage import _nd_image as _ndc, _ni_support as _nis
    _MODE_CODES = {m: _nis._extend_mode_to_code(m) for m in PAD_MODES}
except (ImportError, AttributeError, RuntimeError):  # pragma: no cover - other SciPy
    _ndc = None
    _MODE_CODES = {}

# the dtypes the C loops take -> the output dtype SciPy's _get_output makes
# (``np.zeros(shape, dtype=input.dtype.name)``; the name lookup alone took
# a third of a 50-sample call)
_C_DTYPES = {np.dtype(t): np.dtype(t) for t in (
    np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
    np.uint64, np.float32, np.float64)}
_REALS = (int, float, np.integer, np.floating)
_INTS = (int, np.integer)
_C_OK = [None]      # None until the first use checks the entries


def _check_c_entries():
    """Whether the private C filters give the public functions' bits for
    the arguments the routes below pass them."""
    import scipy.ndimage as nd
    try:
        x = (np.arange(35.0).reshape(5, 7) * 1.37) % 5
        w = np.array([0.5, -1.25, 2.0, 0.25])
        for mode in ("reflect", "constant", "grid-wrap", "mirror"):
            for axis in (0, 1):
                out = np.zeros_like(x)
                _ndc.correlate1d(x, w, axis, out, _MODE_CODES[mode], 1.5, -1)
                ref = nd.correlate1d(x, w, axis, mode=mode, cval=1.5, origin=-1)
                if out.tobytes() != ref.tobytes():
                    return False
                out = np.zeros_like(x)
                _ndc.correlate(x, w.reshape(2, 2), out, _MODE_CODES[mode], 1.5, [0, -1])
                ref = nd.correlate(x, w.reshape(2, 2), mode=mode, cval=1.5, origin=[0, -1])
                if out.tobytes() != ref.tobytes():
                    return False
                out = np.zeros_like(x)
                _ndc.uniform_filter1d(x, 4, axis, out, _MODE_CODES[mode], 1.5, 1)
                ref = nd.uniform_filter1d(x, 4, axis, mode=mode, cval=1.5, origin=1)
                if out.tobytes() != ref.tobytes():
                    return False
    except Exception:  # pragma: no cover - another SciPy's private API
        return False
    return True


def c_ready(input, mode, cval):
    """Whether a small call on `input` with `mode` and `cval` can go to
    the C filters: a native array of a dtype they take, a known str mode
    (or a list/tuple of them), a real cval, and entries that passed their
    check."""
    if input.dtype not in _C_DTYPES or not isinstance(cval, _REALS):
        return False
    if type(mode) is str:
        if mode not in _MODE_CODES:
            return False
    elif type(mode) not in (tuple, list) or not all(
            type(m) is str and m in _MODE_CODES for m in mode):
        return False
    if _C_OK[0] is None:
        _C_OK[0] = _ndc is not None and _check_c_entries()
    return _C_OK[0]


def _c_weights(weights):
    """SciPy's correlate1d weights (float64, 1-D, contiguous), or None."""
    if type(weights) is not np.ndarray or weights.dtype.kind not in "biuf" \
            or weights.ndim != 1 or not weights.shape[0]:
        return None
    w = np.asarray(weights, dtype=np.float64)
    return w if w.flags.c_contiguous else w.copy()


def c_correlate1d(input, weights, axis, mode, cval, origin, convolution=False):
    """``scipy.ndimage.correlate1d`` (or ``convolve1d``) with the default
    output, by its C filter; None outside the plain cases (see
    :func:`c_ready`; `weights` a real 1-D ndarray, `origin` an int)."""
    if type(mode) is not str or not isinstance(origin, _INTS) or not c_ready(input, mode, cval):
        return None
    if convolution:
        if type(weights) is not np.ndarray or weights.ndim != 1:
            return None
        weights = weights[::-1]
        origin = -origin - (0 if weights.shape[0] & 1 else 1)
    w = _c_weights(weights)
    if w is None:
        return None
    k = w.shape[0]
    if origin < -(k // 2) or origin > (k - 1) // 2:
        return None
    try:
        axis = normalize_axis_index(axis, input.ndim)
    except (TypeError, ValueError):
        return None
    out = np.zeros(input.shape, dtype=_C_DTYPES[input.dtype])     # SciPy's _get_output
    _ndc.correlate1d(input, w, axis, out, _MODE_CODES[mode], cval, int(origin))
    return out


def c_correlate(input, weights, mode, cval, origin, convolution=False):
    """``scipy.ndimage.correlate`` (or ``convolve``) with the default output
    and axes, by its C filter; None outside the plain cases (see
    :func:`c_ready`; `weights` a real ndarray of the input's rank without
    empty axes, a str mode, `origin` an int or one per axis)."""
    if type(mode) is not str or not c_ready(input, mode, cval):
        return None
    n = input.ndim
    if type(weights) is not np.ndarray or weights.dtype.kind not in "biuf" \
            or weights.ndim != n or not n or 0 in weights.shape:
        return None
    origins = _per_axis(origin, n, _INTS)
    if origins is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if convolution:
        w = w[(slice(None, None, -1),) * n]
        origins = [-o - (0 if k & 1 else 1) for o, k in zip(origins, w.shape)]
    for o, k in zip(origins, w.shape):
        if o < -(k // 2) or o > (k - 1) // 2:
            return None
    if not w.flags.c_contiguous:
        w = w.copy()
    out = np.zeros(input.shape, dtype=_C_DTYPES[input.dtype])
    _ndc.correlate(input, w, out, _MODE_CODES[mode], cval, [int(o) for o in origins])
    return out


def c_passes(input, passes, cval):
    """SciPy's multi-pass filters (gaussian_filter, uniform_filter, sobel,
    prewitt) by its C filters: `passes` are ``(weights or None, size,
    axis, mode, origin)`` in SciPy's order, the first reading `input`, the
    others the output, all into one output of the input's dtype (no pass:
    a copy).  The caller has checked the arguments (:func:`c_ready`, the
    origins and sizes)."""
    out = np.zeros(input.shape, dtype=_C_DTYPES[input.dtype])
    src = input
    for w, size, axis, mode, origin in passes:
        if w is None:
            _ndc.uniform_filter1d(src, size, axis, out, _MODE_CODES[mode], cval, origin)
        else:
            _ndc.correlate1d(src, w, axis, out, _MODE_CODES[mode], cval, origin)
        src = out
    if src is input:
        out[...] = input
    return out


def c_uniform1d(input, size, axis, mode, cval, origin):
    """``scipy.ndimage.uniform_filter1d`` with the default output, by its C
    filter; None outside the plain cases (see :func:`c_ready`; a str mode,
    int `size` and `origin`)."""
    if type(mode) is not str or not isinstance(size, _INTS) or not isinstance(origin, _INTS) \
            or size < 1 or not 0 <= size // 2 + origin < size or not c_ready(input, mode, cval):
        return None
    try:
        axis = normalize_axis_index(axis, input.ndim)
    except (TypeError, ValueError):
        return None
    out = np.zeros(input.shape, dtype=_C_DTYPES[input.dtype])
    _ndc.uniform_filter1d(input, int(size), axis, out, _MODE_CODES[mode], cval, int(origin))
    return out


def c_uniform(input, size, mode, cval, origin):
    """``scipy.ndimage.uniform_filter`` with the default output and axes, by
    the C filter (a pass along each axis whose size exceeds 1); None
    outside the plain cases (int sizes and origins and str modes, scalars
    or one per axis)."""
    modes = c_modes(input, mode, cval)
    n = input.ndim
    sizes, origins = _per_axis(size, n, _INTS), _per_axis(origin, n, _INTS)
    if modes is None or sizes is None or origins is None:
        return None
    passes = []
    for ax in range(n):
        s, o = int(sizes[ax]), int(origins[ax])
        if s < 1 or not 0 <= s // 2 + o < s:
            return None
        if s > 1:
            passes.append((None, s, ax, modes[ax], o))
    return c_passes(input, passes, cval)


def _per_axis(value, n, types):
    """`value` for each of `n` axes (a scalar of `types` or a list/tuple
    of n of them), or None."""
    if type(value) in (tuple, list):
        if len(value) != n:
            return None
        values = list(value)
    else:
        values = [value] * n
    if all(isinstance(v, types) for v in values):
        return values
    return None


def c_modes(input, mode, cval):
    """The mode of each axis of a call the C filters can take (see
    :func:`c_ready`; one str mode or one per axis), or None."""
    if not c_ready(input, mode, cval):
        return None
    return _per_axis(mode, input.ndim, str)


def c_edge(input, axis, mode, cval, smooth):
    """``scipy.ndimage.sobel`` / ``prewitt`` (`smooth` the float64
    smoothing weights) with the default output, by the C filter; None
    outside the plain cases."""
    modes = c_modes(input, mode, cval)
    if modes is None:
        return None
    n = input.ndim
    try:
        axis = normalize_axis_index(axis, n)
    except (TypeError, ValueError):
        return None
    passes = [(_DERIVATIVE, 3, axis, modes[axis], 0)]
    passes += [(smooth, 3, ii, modes[ii], 0) for ii in range(n) if ii != axis]
    return c_passes(input, passes, cval)


def c_laplace(input, mode, cval):
    """``scipy.ndimage.laplace`` with the default output and axes, by the C
    filter (its generic_laplace: the second difference along the first
    axis into the output, each other axis's into a temporary added to
    it); None outside the plain cases."""
    modes = c_modes(input, mode, cval)
    if modes is None:
        return None
    n = input.ndim
    out = np.zeros(input.shape, dtype=_C_DTYPES[input.dtype])
    if not n:
        out[...] = input
        return out
    _ndc.correlate1d(input, _SECOND, 0, out, _MODE_CODES[modes[0]], cval, 0)
    for ii in range(1, n):
        tmp = np.zeros(input.shape, dtype=out.dtype)
        _ndc.correlate1d(input, _SECOND, ii, tmp, _MODE_CODES[modes[ii]], cval, 0)
        out += tmp
    return out


_DERIVATIVE = np.array([-1.0, 0.0, 1.0])
_SECOND = np.array([1.0, -2.0, 1.0])
for _w in (_DERIVATIVE, _SECOND):
    _w.flags.writeable = False
