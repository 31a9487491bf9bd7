"""Transposed convolution (PyTorch's ``conv_transpose*d`` semantics).

A transposed convolution is the gradient of a convolution with respect to
its input: every input element scatters ``x[n, c, i] * weight[c, f, t]``
onto output position ``i*s + t*d - p``.  It runs on the same polyphase
engine path as :func:`fastconv.conv_grad_input`.
"""


import numpy as np

from fastconv._geometry import MAX_INDEX, check_output_memory, normalize_tuple, resolve_padding
from fastconv._polyphase import swap_weight, transpose_core
from fastconv._spec import as_float, check_data_format, check_groups
from fastconv._threads import resolve_workers
from fastconv._docs import docfiller

__all__ = ["conv_transpose", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


@docfiller
def conv_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                   dilation=1, *, data_format="channels_first", workers=None):
    """N-D transposed convolution ("deconvolution"), any spatial rank.

    The spatial rank is ``weight.ndim - 2``.  For each spatial axis the
    output length is::

        (L - 1)*s - p_lo - p_hi + d*(k - 1) + output_padding + 1

    (``p_lo = p_hi = padding`` for an int), which inverts the forward
    convolution's output-size formula.

    Parameters
    ----------
    x : array_like
        ``(N, C_in, *L)`` (``channels_first``) or ``(N, *L, C_in)``
        (``channels_last``); unbatched ``(C_in, *L)`` / ``(*L, C_in)`` gives
        an unbatched output.  float32 or float64.
    weight : array_like
        ``(C_in, C_out/groups, *K)`` (``channels_first``, PyTorch's layout)
        or ``(*K, C_out/groups, C_in)`` (``channels_last``; for
        ``groups=1`` this is Keras's ``Conv*DTranspose`` kernel layout
        ``(*K, filters, in_channels)``).
    bias : array_like, optional
        ``(C_out,)``.
    stride : int or tuple of int, optional
        Per-axis stride (default 1).
    padding : int or tuple, optional
        Cropped from both ends of each axis: an int, one int per axis, or
        ``(lo, hi)`` pairs per axis (an extension).  Strings are rejected:
        PyTorch has no named padding for transposed convolutions.
    output_padding : int or tuple of int, optional
        Extra length added at the end of each axis (default 0); must be
        smaller than the stride or the dilation on that axis.
    groups : int, optional
        Channel groups (default 1); must divide ``C_in``.
    dilation : int or tuple of int, optional
        Per-axis dilation (default 1).
    data_format : {'channels_first', 'channels_last'}, optional
    %(workers)s

    Returns
    -------
    ndarray
        ``(N, C_out, *L_out)`` or ``(N, *L_out, C_out)``, dtype
        ``result_type(x, weight)``.

    Raises
    ------
    TypeError
        For dtypes other than float32/float64 or badly typed arguments.
    ValueError
        For mismatched ranks or channels, ``groups`` not dividing the
        channels, a string or negative padding, an `output_padding` not
        smaller than the stride or the dilation, or an output length below 1.

    See Also
    --------
    torch.nn.functional.conv_transpose2d : The PyTorch equivalent.
    keras.layers.Conv2DTranspose : The Keras layer (channels-last kernel).
    conv_grad_input : The same operation seen as a gradient.

    Notes
    -----
    Polyphase: output positions are split by their residue modulo the
    stride and each residue class is a stride-1 correlation of `x` with a
    sub-sampled, flipped, channel-swapped kernel on the compiled engine
    (``prod(stride)`` calls, no zero insertion, the multiply-add count of
    the equivalent forward convolution).  Results do not depend on
    `workers`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import conv_transpose
    >>> x = np.array([[[1.0, 2.0, 3.0]]])
    >>> w = np.array([[[1.0, 10.0]]])
    >>> conv_transpose(x, w, stride=2)
    array([[[ 1., 10.,  2., 20.,  3., 30.]]])
    """
    if not isinstance(weight, np.ndarray):
        weight = np.asarray(weight)
    return _conv_transpose_impl("conv_transpose", weight.ndim - 2, x, weight, bias, stride,
                                padding, output_padding, groups, dilation, data_format,
                                workers)


def _conv_transpose_impl(fname, rank, x, weight, bias, stride, padding, output_padding,
                         groups, dilation, data_format, workers):
    x = as_float(fname, "x", x)
    weight = as_float(fname, "weight", weight)
    layout = check_data_format(data_format)
    nthreads = resolve_workers(workers)
    if rank < 1:
        raise ValueError(f"{fname}: weight must have at least 3 dimensions "
                         f"(in_channels, out_channels/groups, *kernel), got shape "
                         f"{weight.shape}")
    if weight.ndim != rank + 2:
        raise ValueError(f"{fname}: weight must have {rank + 2} dimensions, "
                         f"got shape {weight.shape}")
    if x.ndim not in (rank + 1, rank + 2):
        raise ValueError(f"{fname}: input must have {rank + 2} dimensions (batched) or "
                         f"{rank + 1} (unbatched), got shape {x.shape}")
    unbatched = x.ndim == rank + 1
    if unbatched:
        x = x[np.newaxis]
    groups = check_groups(groups)
    if layout == "channels_first":
        C, spatial = x.shape[1], x.shape[2:]
        Cin, Cog, ksize = weight.shape[0], weight.shape[1], weight.shape[2:]
    else:
        C, spatial = x.shape[-1], x.shape[1:-1]
        Cin, Cog, ksize = weight.shape[-1], weight.shape[-2], weight.shape[:-2]
    if C != Cin:
        raise ValueError(f"{fname}: input has {C} channels but weight of shape "
                         f"{weight.shape} expects {Cin} input channels")
    if Cin % groups:
        raise ValueError(f"groups={groups} must divide the input channels ({Cin})")
    if any(k < 1 for k in ksize):
        raise ValueError(f"{fname}: kernel sizes must be >= 1, got {tuple(ksize)}")
    Cout = Cog * groups
    stride = normalize_tuple(stride, rank, "stride")
    dilation = normalize_tuple(dilation, rank, "dilation")
    if isinstance(padding, str):
        raise ValueError(f"{fname}: padding must be an int, a tuple of ints or a tuple of "
                         f"(lo, hi) pairs (no named paddings), got {padding!r}")
    pads = resolve_padding(padding, spatial, ksize)
    opad = normalize_tuple(output_padding, rank, "output_padding", minimum=0)
    for axis, (op, s, d) in enumerate(zip(opad, stride, dilation)):
        if op >= s and op >= d:
            raise ValueError(f"output_padding must be smaller than either stride or dilation "
                             f"on every axis, got output_padding={opad}, stride={stride}, "
                             f"dilation={dilation} (spatial axis {axis})")
    out_spatial = []
    for axis, (n, k, s, d, (lo, hi), op) in enumerate(
            zip(spatial, ksize, stride, dilation, pads, opad)):
        m = (n - 1) * s - lo - hi + d * (k - 1) + op + 1
        if m < 1:
            raise ValueError(
                f"{fname}: output size would be {m} (< 1) on spatial axis {axis}: "
                f"(L - 1)*s - p_lo - p_hi + d*(k - 1) + output_padding + 1 with L={n}, "
                f"s={s}, p=({lo}, {hi}), d={d}, k={k}, output_padding={op}")
        if m > MAX_INDEX:
            raise ValueError(
                f"{fname}: stride {s} (or dilation {d}) makes the output length {m} on "
                f"spatial axis {axis} exceed {MAX_INDEX} (2**63 - 1)")
        out_spatial.append(m)
    dtype = np.result_type(x.dtype, weight.dtype)
    oshape = ((x.shape[0], Cout) + tuple(out_spatial) if layout == "channels_first"
              else (x.shape[0],) + tuple(out_spatial) + (Cout,))
    check_output_memory(fname, oshape, dtype)
    if bias is not None:
        bias = as_float(fname, "bias", bias)
        if bias.shape != (Cout,):
            raise ValueError(f"{fname}: bias must have shape ({Cout},), got {bias.shape}")
    x = x.astype(dtype, copy=False)
    wt = swap_weight(weight.astype(dtype, copy=False), groups, layout)
    out = transpose_core(x, wt, tuple(out_spatial), tuple(lo for lo, _ in pads), stride,
                          dilation, groups, layout, nthreads)
    if bias is not None:
        b = bias.astype(dtype, copy=False)
        if layout == "channels_first":
            out += b.reshape((1, -1) + (1,) * rank)
        else:
            out += b
    return out[0] if unbatched else out


def _make(rank, name):
    def f(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
          *, data_format="channels_first", workers=None):
        return _conv_transpose_impl(name, rank, x, weight, bias, stride, padding,
                                    output_padding, groups, dilation, data_format, workers)
    f.__name__ = f.__qualname__ = name
    f.__module__ = __name__
    return f


_SHARED = """
Parameters
----------
x, weight : array_like
    Input and weight (layouts above).
bias : array_like, optional
    ``(C_out,)``.
stride, padding, output_padding : int or tuple, optional
    See :func:`conv_transpose`.
groups : int, optional
    Channel groups (default 1).
dilation : int or tuple, optional
    See :func:`conv_transpose`.
data_format : {{'channels_first', 'channels_last'}}, optional
    Layout (default ``'channels_first'``).
workers : int, optional
    Threads (``None``: all usable cores).

Returns
-------
ndarray
    {ret}

Raises
------
TypeError, ValueError
    See :func:`conv_transpose`.

See Also
--------
conv_transpose, {torch}
"""

conv_transpose1d = _make(1, "conv_transpose1d")
conv_transpose1d.__doc__ = """1-D transposed convolution (PyTorch's ``conv_transpose1d``).

``x (N, C_in, L)`` / ``weight (C_in, C_out/groups, K)`` (``channels_first``)
or ``x (N, L, C_in)`` / ``weight (K, C_out/groups, C_in)``
(``channels_last``); output length ``(L-1)*s - 2*p + d*(k-1) +
output_padding + 1``.
""" + _SHARED.format(ret="``(N, C_out, L_out)`` or ``(N, L_out, C_out)``.",
                     torch="torch.nn.functional.conv_transpose1d") + """
Examples
--------
>>> import numpy as np
>>> from fastconv import conv_transpose1d
>>> x = np.array([[[1.0, 2.0]]])
>>> conv_transpose1d(x, np.array([[[1.0, 1.0, 1.0]]]), stride=2, padding=1,
...                  output_padding=1)
array([[[1., 3., 2., 2.]]])
"""

conv_transpose2d = _make(2, "conv_transpose2d")
conv_transpose2d.__doc__ = """2-D transposed convolution (PyTorch's ``conv_transpose2d``).

``x (N, C_in, H, W)`` / ``weight (C_in, C_out/groups, KH, KW)``
(``channels_first``) or ``x (N, H, W, C_in)`` / ``weight (KH, KW,
C_out/groups, C_in)`` (``channels_last``, Keras's ``Conv2DTranspose``
layout for ``groups=1``).
""" + _SHARED.format(ret="``(N, C_out, H_out, W_out)`` or ``(N, H_out, W_out, C_out)``.",
                     torch="torch.nn.functional.conv_transpose2d") + """
Examples
--------
>>> import numpy as np
>>> from fastconv import conv_transpose2d
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal((2, 4, 5, 5)).astype(np.float32)
>>> w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
>>> y = conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
>>> y.shape, y.dtype
((2, 3, 10, 10), dtype('float32'))
"""

conv_transpose3d = _make(3, "conv_transpose3d")
conv_transpose3d.__doc__ = """3-D transposed convolution (PyTorch's ``conv_transpose3d``).

``x (N, C_in, D, H, W)`` / ``weight (C_in, C_out/groups, KD, KH, KW)``
(``channels_first``) or the channels-last equivalents ``(N, D, H, W,
C_in)`` / ``(KD, KH, KW, C_out/groups, C_in)``.
""" + _SHARED.format(ret="``(N, C_out, D_out, H_out, W_out)`` or the channels-last order.",
                     torch="torch.nn.functional.conv_transpose3d") + """
Examples
--------
>>> import numpy as np
>>> from fastconv import conv_transpose3d
>>> x = np.ones((1, 1, 2, 2, 2))
>>> y = conv_transpose3d(x, np.ones((1, 2, 2, 2, 2)), stride=2)
>>> y.shape, float(y.sum())
((1, 2, 4, 4, 4), 128.0)
"""
