"""SciPy's vocabulary: modes, methods, axes, argument swapping and windows.

The rules of ``scipy.signal``'s convolutions, written once and used by the
front-ends (:mod:`fastconv.signal`) and the planners: which axes are
convolved, when SciPy swaps the operands, and which *window* of the full
convolution each mode returns.  Every check raises SciPy's own error text.
"""

import numbers
import operator
import warnings

import numpy as np

from fastconv._errors import TypeValueError


MODES = ("full", "same", "valid")


def check_mode(mode, fft=False):
    """SciPy's texts: fftconvolve/oaconvolve say "acceptable ...", the others
    "Acceptable ..."; both name the value received."""
    if not isinstance(mode, str) or mode not in MODES:
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


METHODS = ("auto", "direct", "fft")


def check_method(method):
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError("Acceptable method flags are 'auto', 'direct', or 'fft'.")


def conv_windows(mode, s1, s2, conv_axes, same_start=None):
    """(start, length) of the wanted part of the full result, per axis.

    Conv axes: of the full convolution (length n1 + n2 - 1); 'same' starts
    at ``same_start(n2)`` (default SciPy's centring ``(n2 - 1) // 2``).
    Other axes broadcast: full length ``max(n1, n2)``; 'same' keeps in1's
    length, centred as SciPy's ``_centered`` does.
    """
    out = []
    for ax, (n1, n2) in enumerate(zip(s1, s2)):
        if ax in conv_axes:
            if mode == "full":
                out.append((0, n1 + n2 - 1))
            elif mode == "same":
                start = (n2 - 1) // 2 if same_start is None else same_start(n2)
                out.append((start, n1))
            else:
                lo, hi = min(n1, n2), max(n1, n2)
                out.append((lo - 1, hi - lo + 1))
        else:
            m = max(n1, n2)
            if mode == "same":
                out.append(((m - n1) // 2, n1))
            else:
                out.append((0, m))
    return out


def np_conv_ok(in1, in2, mode):
    """SciPy's 1-D NumPy fast path applies (it skips, never multiplies, the
    implicit zeros)."""
    if in1.ndim == in2.ndim == 1:
        return mode in ("full", "valid") or in1.size >= in2.size
    return False


def conv_axes_windows(in1, b, mode, axes, same_start=None):
    """Conv axes and windows for conv-form operands (in1, b)."""
    if axes is None:
        conv_axes = list(range(in1.ndim))
        swap_needed(mode, in1.shape, b.shape)
    else:
        conv_axes = freq_axes(in1, b, mode, axes)[2]
    return conv_axes, conv_windows(mode, in1.shape, b.shape, conv_axes, same_start)


BOUNDARIES = {"fill": "fill", "pad": "fill", "wrap": "wrap", "circular": "wrap",
               "symm": "symm", "symmetric": "symm", "reflect": "reflect"}


NP_PAD = {"wrap": "wrap", "symm": "symmetric"}


def check_fillvalue(fillvalue, rt):
    """SciPy's conversion of `fillvalue` to the output dtype."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fv = None
        if isinstance(fillvalue, np.ndarray):
            if np.can_cast(fillvalue.dtype, rt, "safe"):
                fv = fillvalue.astype(rt)
        else:
            try:
                fv = np.array(fillvalue, dtype=rt)
            except (TypeError, ValueError, OverflowError):
                fv = None
        if fv is None:
            np.array(fillvalue, dtype=np.complex128)  # SciPy's own error if this fails
            raise ValueError("could not cast `fillvalue` directly to the output type "
                             "(it was first converted to complex).")
    if fv.size != 1:
        raise ValueError("`fillvalue` must be scalar or an array with one element.")
    return fv.reshape(())[()]
