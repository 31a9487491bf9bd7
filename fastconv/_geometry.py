"""The output-size formula and padding resolution (pure Python).

For each spatial axis with input length ``n``, kernel length ``k``, stride
``s``, dilation ``d`` and padding ``p_lo + p_hi``::

    out = floor((n + p_lo + p_hi - d*(k - 1) - 1) / s) + 1

Every front-end reduces its own vocabulary to ``(p_lo, p_hi, s, d)`` per axis
and obeys this formula.
"""

import math
import numbers
import os
import sys

import numpy as np

__all__ = ["conv_output_shape", "resolve_padding"]

_NAMED = ("valid", "same", "causal", "full")
# Largest size, stride, dilation or padding the compiled kernels index with
# (``Py_ssize_t``); beyond it a geometry is rejected before anything runs.
MAX_INDEX = sys.maxsize


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def normalize_tuple(value, rank, name, minimum=1):
    """Expand an int or a length-`rank` sequence of ints into a tuple.

    Raises ``TypeError`` for non-integers and ``ValueError`` for values below
    `minimum` or the wrong length; both name the argument.
    """
    if _is_int(value):
        values = (int(value),) * rank
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise TypeError(f"{name} must be an int or a tuple of {rank} ints, "
                            f"got {type(value).__name__} {value!r}") from None
        if len(values) == 1 and rank != 1:
            values = values * rank
        if len(values) != rank:
            raise ValueError(f"{name} must be an int or a tuple of {rank} ints "
                             f"(one per spatial axis), got {value!r}")
        if not all(_is_int(v) for v in values):
            raise TypeError(f"{name} must contain only ints, got {value!r}")
        values = tuple(int(v) for v in values)
    for v in values:
        if v < minimum:
            raise ValueError(f"{name} must be >= {minimum} on every axis, got {value!r}")
        if v > MAX_INDEX:
            raise ValueError(f"{name} must be at most {MAX_INDEX} (2**63 - 1) on every axis, "
                             f"got {value!r}")
    return values


def resolve_padding(padding, input_shape, kernel_size, stride=1, dilation=1):
    """Resolve a padding spec into ``(p_lo, p_hi)`` pairs, one per spatial axis.

    Parameters
    ----------
    padding : str, int or tuple
        ``'valid'`` (no padding); ``'same'`` (TensorFlow's rule, any stride:
        total ``max((ceil(n/s) - 1)*s + d*(k-1) + 1 - n, 0)``, ``p_lo =
        total // 2``, the odd one at the end, so the output is
        ``ceil(n/s)``); ``'causal'`` (``d*(k-1)`` before, 0 after);
        ``'full'`` (``d*(k-1)`` on both sides); an int (both sides of every
        axis); a tuple of ints (both sides, per axis); or a tuple of
        ``(lo, hi)`` pairs, per axis.  Strings are case-insensitive.
    input_shape : tuple of int
        Spatial input shape ``n`` per axis.
    kernel_size : int or tuple of int
        Kernel length ``k`` per axis.
    stride, dilation : int or tuple of int, optional
        Per-axis stride ``s`` and dilation ``d`` (default 1).

    Returns
    -------
    tuple of (int, int)
        ``(p_lo, p_hi)`` per spatial axis.

    Raises
    ------
    ValueError
        For an unknown name, negative amounts or a wrong number of axes.
    TypeError
        For a padding of the wrong type.

    See Also
    --------
    conv_output_shape : the output shape these pads give.

    Examples
    --------
    >>> from fastconv import resolve_padding
    >>> resolve_padding('same', (10, 10), (4, 3))
    ((1, 2), (1, 1))
    >>> resolve_padding('same', (10,), 3, stride=2)
    ((0, 1),)
    >>> resolve_padding('causal', (16,), 3, dilation=2)
    ((4, 0),)
    >>> resolve_padding(((1, 0), (2, 2)), (5, 5), 3)
    ((1, 0), (2, 2))
    """
    input_shape = tuple(int(n) for n in input_shape)
    rank = len(input_shape)
    ks = normalize_tuple(kernel_size, rank, "kernel_size")
    ss = normalize_tuple(stride, rank, "stride")
    ds = normalize_tuple(dilation, rank, "dilation")
    if isinstance(padding, str):
        name = padding.lower()
        if name not in _NAMED:
            raise ValueError("padding must be 'valid', 'same', 'causal', 'full', an int, "
                             f"a tuple of ints or a tuple of (lo, hi) pairs, got {padding!r}")
        pads = []
        for n, k, s, d in zip(input_shape, ks, ss, ds):
            reach = d * (k - 1)
            if name == "valid":
                pads.append((0, 0))
            elif name == "full":
                pads.append((reach, reach))
            elif name == "causal":
                pads.append((reach, 0))
            else:
                total = max((math.ceil(n / s) - 1) * s + reach + 1 - n, 0)
                pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if _is_int(padding):
        if padding < 0:
            raise ValueError(f"padding must be >= 0, got {padding}")
        return ((int(padding), int(padding)),) * rank
    try:
        items = tuple(padding)
    except TypeError:
        raise TypeError("padding must be a str, an int or a tuple, "
                        f"got {type(padding).__name__} {padding!r}") from None
    if len(items) == 1 and rank != 1:
        items = items * rank
    if len(items) != rank:
        raise ValueError(f"padding must have one entry per spatial axis ({rank}), "
                         f"got {padding!r}")
    pads = []
    for item in items:
        if _is_int(item):
            lo = hi = int(item)
        else:
            if not isinstance(item, (tuple, list)):
                raise TypeError("padding entries must be ints or (lo, hi) pairs, "
                                f"got {type(item).__name__} {item!r} in {padding!r}")
            try:
                lo, hi = item
            except (TypeError, ValueError):
                raise ValueError("padding entries must be ints or (lo, hi) pairs, "
                                 f"got {item!r} in {padding!r}") from None
            if not (_is_int(lo) and _is_int(hi)):
                raise TypeError(f"padding amounts must be ints, got {item!r}")
            lo, hi = int(lo), int(hi)
        if lo < 0 or hi < 0:
            raise ValueError(f"padding must be >= 0, got {padding!r}")
        pads.append((lo, hi))
    return tuple(pads)


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return MAX_INDEX


def check_output_memory(fname, shape, dtype):
    """Raise a ``MemoryError`` naming the shape before allocating an output that
    cannot fit: more elements than 64-bit indexing allows or more bytes than
    the machine's physical memory (a geometry mistake, e.g. a huge padding)."""
    n = math.prod(int(v) for v in shape)
    nbytes = n * max(1, np.dtype(dtype).itemsize)
    phys = _physical_memory()
    if n > MAX_INDEX or nbytes > phys:
        raise MemoryError(
            f"{fname}: the output would have shape {tuple(shape)} ({nbytes / 2**30:.4g} GiB "
            f"of {np.dtype(dtype)}), more than this machine's {phys / 2**30:.4g} GiB of "
            f"memory; check the stride, padding, dilation and output_padding")


def output_length(n, k, s, d, lo, hi, axis=0):
    """The formula for one axis; raises ``ValueError`` when it is below 1."""
    if lo > MAX_INDEX or hi > MAX_INDEX or n + lo + hi > MAX_INDEX:
        raise ValueError(
            f"padding ({lo}, {hi}) on spatial axis {axis} makes the padded length "
            f"n + p_lo + p_hi = {n + lo + hi} exceed {MAX_INDEX} (2**63 - 1)")
    if d * (k - 1) > MAX_INDEX:
        raise ValueError(
            f"dilation {d} with kernel size {k} on spatial axis {axis} spans d*(k-1) = "
            f"{d * (k - 1)} elements, more than {MAX_INDEX} (2**63 - 1)")
    out = (n + lo + hi - d * (k - 1) - 1) // s + 1
    if out < 1:
        raise ValueError(
            f"output size would be {out} (< 1) on spatial axis {axis}: "
            f"out = floor((n + p_lo + p_hi - d*(k-1) - 1)/s) + 1 with n={n}, k={k}, "
            f"s={s}, d={d}, p_lo={lo}, p_hi={hi}; the (dilated) kernel is larger "
            f"than the padded input")
    return out


def conv_output_shape(input_shape, kernel_size, stride=1, padding="valid", dilation=1):
    """Spatial output shape of a convolution, by the documented formula.

    For each spatial axis::

        out = floor((n + p_lo + p_hi - d*(k - 1) - 1) / s) + 1

    Parameters
    ----------
    input_shape : int or tuple of int
        Spatial input shape (no batch or channel axes).
    kernel_size : int or tuple of int
        Kernel length per spatial axis.
    stride : int or tuple of int, optional
        Per-axis stride (default 1).
    padding : str, int or tuple, optional
        Any padding spec :func:`resolve_padding` accepts (default ``'valid'``).
    dilation : int or tuple of int, optional
        Per-axis dilation (default 1).

    Returns
    -------
    tuple of int
        The spatial output shape.

    Raises
    ------
    ValueError
        When an axis would have fewer than one output element; the message
        names the axis, the sizes and the formula.

    See Also
    --------
    resolve_padding : the ``(p_lo, p_hi)`` pairs behind a padding spec.
    torch.nn.Conv2d : documents the same formula for symmetric padding.

    Examples
    --------
    >>> from fastconv import conv_output_shape
    >>> conv_output_shape((224, 224), 7, stride=2, padding=3)
    (112, 112)
    >>> conv_output_shape((10,), 4, stride=3, padding='same')
    (4,)
    >>> conv_output_shape((32, 32, 32), 3, padding='valid', dilation=2)
    (28, 28, 28)
    """
    if _is_int(input_shape):
        input_shape = (int(input_shape),)
    input_shape = tuple(int(n) for n in input_shape)
    rank = len(input_shape)
    ks = normalize_tuple(kernel_size, rank, "kernel_size")
    ss = normalize_tuple(stride, rank, "stride")
    ds = normalize_tuple(dilation, rank, "dilation")
    pads = resolve_padding(padding, input_shape, ks, ss, ds)
    return tuple(output_length(n, k, s, d, lo, hi, axis)
                 for axis, (n, k, s, d, (lo, hi)) in enumerate(zip(input_shape, ks, ss, ds, pads)))
