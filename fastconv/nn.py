"""CNN-style convolution (PyTorch's ``torch.nn.functional.conv*d`` semantics).

Like every deep-learning library, these functions compute a
cross-correlation (the kernel is not flipped) and do not conjugate complex
weights.  ``data_format='channels_first'`` (default) uses PyTorch's layout,
``'channels_last'`` TensorFlow/Keras's.
"""

import numpy as np

from fastconv import _engine
from fastconv._activations import apply_activation, check_activation
from fastconv._docs import docfiller
from fastconv._geometry import check_output_memory
from fastconv._spec import (PADDING_MODES, check_data_format, check_dtype, check_groups,
                            check_padding_limits, conv_spec)
from fastconv._threads import resolve_workers

__all__ = ["conv", "conv1d", "conv2d", "conv3d"]


def __dir__():
    return list(__all__)


def _pad_input(x, pads, mode, rank, layout):
    """Apply non-zero padding modes with PyTorch's semantics."""
    np_mode = PADDING_MODES[mode]
    spatial = x.shape[2:] if layout == "channels_first" else x.shape[1:-1]
    for axis, ((lo, hi), n) in enumerate(zip(pads, spatial)):
        if n == 0 and (lo or hi):
            raise ValueError(f"padding_mode={mode!r} cannot pad spatial axis {axis}: it is "
                             "empty (size 0)")
    check_padding_limits(pads, spatial, mode)
    if layout == "channels_first":
        width = ((0, 0), (0, 0)) + tuple(pads)
    else:
        width = ((0, 0),) + tuple(pads) + ((0, 0),)
    return np.pad(x, width, mode=np_mode)


def _correlate_real_or_complex(x, w, bias, stride, dilation, pads, groups, relu, layout,
                               nthreads, weight_cache=None):
    if x.dtype.kind != "c":
        return _engine.correlate(x, w, stride=stride, dilation=dilation, pads=pads,
                                 groups=groups, bias=bias, relu=relu, layout=layout,
                                 nthreads=nthreads, weight_cache=weight_cache)
    # (a + ib) * (c + id) = (ac - bd) + i(ad + bc): four real correlations,
    # accumulated in place, no conjugation (CNN convention).
    real = np.float32 if x.dtype == np.complex64 else np.float64
    xr, xi = np.ascontiguousarray(x.real, real), np.ascontiguousarray(x.imag, real)
    wr, wi = np.ascontiguousarray(w.real, real), np.ascontiguousarray(w.imag, real)
    kw = dict(stride=stride, dilation=dilation, pads=pads, groups=groups, layout=layout,
              nthreads=nthreads)
    out_r = _engine.correlate(xr, wr, **kw)
    _engine.correlate(xi, -wi, out=out_r, accumulate=True, **kw)
    out_i = _engine.correlate(xr, wi, **kw)
    _engine.correlate(xi, wr, out=out_i, accumulate=True, **kw)
    out = np.empty(out_r.shape, dtype=x.dtype)
    out.real = out_r
    out.imag = out_i
    if bias is not None:
        if layout == "channels_first":
            out += bias.reshape((1, -1) + (1,) * len(stride))
        else:
            out += bias
    return out


@docfiller
def conv(x, weight, bias=None, stride=1, padding="valid", dilation=1, groups=1, *,
         padding_mode="zeros", data_format="channels_first", activation=None, workers=None):
    """N-D convolution layer function (cross-correlation), any spatial rank.

    The spatial rank is ``weight.ndim - 2``.  For each spatial axis the
    output length is ``floor((n + p_lo + p_hi - d*(k-1) - 1)/s) + 1``.

    Parameters
    ----------
    x : array_like
        ``(N, C, *S)`` (``channels_first``) or ``(N, *S, C)``
        (``channels_last``); an unbatched ``(C, *S)`` / ``(*S, C)`` is
        accepted and gives an unbatched output.
    weight : array_like
        ``(F, C/groups, *K)`` (``channels_first``, PyTorch) or
        ``(*K, C/groups, F)`` (``channels_last``, TensorFlow/Keras).
    bias : array_like, optional
        ``(F,)``.
    stride : int or tuple of int, optional
        Per-axis stride (default 1).
    padding : str, int or tuple, optional
        ``'valid'`` (default), ``'same'`` (TensorFlow's rule, any stride:
        output ``ceil(n/s)``, an odd extra pad at the end), ``'causal'``
        (``d*(k-1)`` before, 0 after, every axis), ``'full'``, an int, a
        tuple of ints, or a tuple of ``(lo, hi)`` pairs.
    dilation : int or tuple of int, optional
        Per-axis dilation (default 1).  May be combined with stride.
    groups : int, optional
        Number of channel groups (default 1); ``groups == C`` is depthwise.
    padding_mode : {'zeros', 'reflect', 'replicate', 'circular'}, optional
        PyTorch's names and semantics for what the padding contains.
    data_format : {'channels_first', 'channels_last'}, optional
    activation : str or callable, optional
        ``None``/``'linear'``, ``'relu'`` (fused into the kernel),
        ``'sigmoid'``, ``'tanh'``, ``'gelu'`` (exact erf form), ``'elu'``
        (alpha 1), ``'leaky_relu'`` (slope 0.01), or a callable.
    %(workers)s

    Returns
    -------
    ndarray
        ``(N, F, *S_out)`` or ``(N, *S_out, F)``, dtype of the inputs
        (float32 stays float32).

    Raises
    ------
    TypeError
        For a dtype other than float32/64 or complex64/128, or bad argument
        types.
    ValueError
        For mismatched ranks or channels, ``groups`` not dividing the
        channels, non-positive stride/dilation, or a kernel larger than the
        padded input.

    See Also
    --------
    torch.nn.functional.conv2d, tensorflow.nn.convolution,
    jax.lax.conv_general_dilated

    Notes
    -----
    Direct method: compiled loops over output rows, run in parallel with
    OpenMP; every output element is computed by one thread in a fixed order,
    so results are identical for any ``workers``.  Zero padding is never
    materialised; other padding modes pad a copy of the input.  Complex
    inputs use four real correlations.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv import conv
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 2, 2))
    >>> conv(x, w)[0, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    """
    if not isinstance(weight, np.ndarray):
        weight = np.asarray(weight)
    return conv_impl("conv", weight.ndim - 2, x, weight, bias, stride, padding, dilation,
                      groups, padding_mode, data_format, activation, workers)


def conv_cached(x, weight, bias, weight_cache, *, stride, padding, dilation, groups,
                data_format, activation, workers):
    """:func:`conv` keeping the packed weights in `weight_cache` between calls
    (an :class:`fastconv._engine.WeightCache`; used by the layers)."""
    weight = np.asarray(weight)
    return conv_impl("conv", weight.ndim - 2, x, weight, bias, stride, padding, dilation,
                      groups, "zeros", data_format, activation, workers, weight_cache)


# Small calls (one thread's work; see _engine.plan_small): the arguments of a
# call that ran are the key to its engine plan, so a repeated call of the same
# shapes and parameters skips validation and planning.  An entry is made only
# after the general route accepted the arguments, for calls whose inputs need
# no conversion.
_SMALL_CALLS = {}
_SMALL_CALLS_MAX = 256


class _SmallCall:
    __slots__ = ("plan", "unbatched")

    def __init__(self, plan, unbatched):
        self.plan, self.unbatched = plan, unbatched


def _small_key(fname, x, weight, bias, *params):
    """Cache key of a call whose arrays are plain ndarrays, or None."""
    if type(x) is not np.ndarray or type(weight) is not np.ndarray:
        return None
    if bias is None:
        bsig = None
    elif type(bias) is np.ndarray:
        bsig = (bias.shape, bias.dtype)
    else:
        return None
    for p in params:
        if not _plain(p):
            return None
    return (fname, x.shape, x.dtype, weight.shape, weight.dtype, bsig) + params


def _plain(v):
    """Whether `v` is a plain int, str or None, or a tuple of such: the
    parameter values a key may hold (``True == 1`` and ``1.0 == 1`` as dict
    keys, but the general route rejects bools and floats)."""
    t = type(v)
    if t is int or t is str or v is None:
        return True
    return t is tuple and all(_plain(e) for e in v)


def _run_small_call(entry, x, weight, bias, weight_cache):
    if not (x.flags.c_contiguous and weight.flags.c_contiguous
            and (bias is None or bias.flags.c_contiguous)):
        return None
    out = _engine.run_small(entry.plan, x[np.newaxis] if entry.unbatched else x, weight,
                            bias, weight_cache)
    if out is None or not entry.unbatched:
        return out
    return out[0]


def _remember_small(key, x, weight, geo, dtype, padding_mode, activation, unbatched,
                    data_format, groups):
    """Make the cache entry of a call that the general route accepted (`x`
    batched; the key holds the dtypes the caller passed)."""
    if (key is None or dtype.kind != "f" or key[2] != dtype or key[4] != dtype
            or (key[5] is not None and key[5][1] != dtype)
            or activation not in (None, "linear", "relu")
            or (padding_mode != "zeros" and any(lo or hi for lo, hi in geo.pads))):
        return
    plan = _engine.plan_small(x.shape, weight.shape, dtype, stride=geo.stride,
                              dilation=geo.dilation, pads=geo.pads, groups=groups,
                              relu=activation == "relu", layout=data_format)
    if plan is None:
        return
    if len(_SMALL_CALLS) >= _SMALL_CALLS_MAX:
        _SMALL_CALLS.clear()
    _SMALL_CALLS[key] = _SmallCall(plan, unbatched)


def conv_impl(fname, rank, x, weight, bias, stride, padding, dilation, groups,
               padding_mode, data_format, activation, workers, weight_cache=None):
    key = _small_key(fname, x, weight, bias, rank, stride, padding, dilation, groups,
                     padding_mode, data_format, activation, workers)
    if key is not None:
        entry = _SMALL_CALLS.get(key)
        if entry is not None:
            out = _run_small_call(entry, x, weight, bias, weight_cache)
            if out is not None:
                return out
    x = np.asarray(x)
    weight = np.asarray(weight)
    if not isinstance(data_format, str):
        raise TypeError("data_format must be 'channels_first' or 'channels_last', "
                        f"got {type(data_format).__name__} {data_format!r}")
    if not isinstance(padding_mode, str):
        raise TypeError("padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                        f"got {type(padding_mode).__name__} {padding_mode!r}")
    check_data_format(data_format)
    if padding_mode not in PADDING_MODES:
        raise ValueError("padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                         f"got {padding_mode!r}")
    activation = check_activation(activation)
    nthreads = resolve_workers(workers)
    if rank < 1:
        raise ValueError(f"{fname}: weight must have at least 3 dimensions "
                         f"(filters, channels/groups, *kernel), got shape {weight.shape}")
    if weight.ndim != rank + 2:
        raise ValueError(f"{fname}: weight must have {rank + 2} dimensions, "
                         f"got shape {weight.shape}")
    unbatched = x.ndim == rank + 1
    if x.ndim not in (rank + 1, rank + 2):
        raise ValueError(f"{fname}: input must have {rank + 2} dimensions (batched) or "
                         f"{rank + 1} (unbatched), got shape {x.shape}")
    if unbatched:
        x = x[np.newaxis]
    groups = check_groups(groups)
    check_dtype(fname, x.dtype)
    check_dtype(fname, weight.dtype)
    dtype = np.result_type(x.dtype, weight.dtype).newbyteorder("=")
    if bias is not None and np.asarray(bias).dtype.kind == "c" and dtype.kind != "c":
        dtype = np.result_type(dtype, np.complex64)   # a complex bias makes the output complex
    if dtype.kind == "c" and isinstance(activation, str) and activation in (
            "relu", "gelu", "elu", "leaky_relu"):
        raise ValueError(f"activation={activation!r} is not defined for complex outputs; "
                         "use None, 'linear', 'sigmoid', 'tanh' or a callable")
    geo = conv_spec(fname, x.shape, weight.shape, stride, padding, dilation, groups,
                         data_format)
    check_output_memory(fname, geo.y_shape(), dtype)
    F, stride, dilation, pads = geo.F, geo.stride, geo.dilation, geo.pads
    if bias is not None:
        bias = np.asarray(bias)
        if bias.shape != (F,):
            raise ValueError(f"{fname}: bias must have shape ({F},), got {bias.shape}")
        bias = bias.astype(dtype, copy=False)
    x = x.astype(dtype, copy=False)
    weight = weight.astype(dtype, copy=False)
    if padding_mode != "zeros" and any(lo or hi for lo, hi in pads):
        x = _pad_input(x, pads, padding_mode, rank, data_format)
        pads = ((0, 0),) * rank
    _remember_small(key, x, weight, geo, dtype, padding_mode, activation, unbatched,
                    data_format, groups)
    fuse_relu = activation == "relu" and dtype.kind == "f"
    out = _correlate_real_or_complex(x, weight, bias, stride, dilation, pads, groups,
                                     fuse_relu, data_format, nthreads, weight_cache)
    if not fuse_relu:
        out = apply_activation(out, activation)
    return out[0] if unbatched else out


def _make(rank, name):
    def f(x, weight, bias=None, stride=1, padding="valid", dilation=1, groups=1, *,
          padding_mode="zeros", data_format="channels_first", activation=None, workers=None):
        return conv_impl(name, rank, x, weight, bias, stride, padding, dilation, groups,
                          padding_mode, data_format, activation, workers)
    f.__name__ = f.__qualname__ = name
    return f


conv1d = _make(1, "conv1d")
conv1d.__doc__ = """1-D convolution layer function (cross-correlation).

Same parameters and semantics as :func:`conv` with one spatial axis:
``x (N, C, L)`` / ``weight (F, C/groups, K)`` (``channels_first``) or
``x (N, L, C)`` / ``weight (K, C/groups, F)`` (``channels_last``).

Parameters
----------
x, weight, bias, stride, padding, dilation, groups, padding_mode, data_format, activation, workers
    See :func:`conv`.

Returns
-------
ndarray
    ``(N, F, L_out)`` or ``(N, L_out, F)``.

See Also
--------
conv, torch.nn.functional.conv1d, keras.layers.Conv1D

Examples
--------
>>> import numpy as np
>>> from fastconv import conv1d
>>> x = np.array([[[1., 2., 3., 4., 5.]]])
>>> conv1d(x, np.array([[[1., 0., -1.]]]), padding='same')
array([[[-2., -2., -2., -2.,  4.]]])
>>> conv1d(x, np.array([[[1., 1.]]]), padding='causal')
array([[[1., 3., 5., 7., 9.]]])
"""

conv2d = _make(2, "conv2d")
conv2d.__doc__ = """2-D convolution layer function (cross-correlation).

Same parameters and semantics as :func:`conv` with two spatial axes:
``x (N, C, H, W)`` / ``weight (F, C/groups, KH, KW)`` (``channels_first``,
PyTorch) or ``x (N, H, W, C)`` / ``weight (KH, KW, C/groups, F)``
(``channels_last``, TensorFlow/Keras).

Parameters
----------
x, weight, bias, stride, padding, dilation, groups, padding_mode, data_format, activation, workers
    See :func:`conv`.

Returns
-------
ndarray
    ``(N, F, H_out, W_out)`` or ``(N, H_out, W_out, F)``.

See Also
--------
conv, torch.nn.functional.conv2d, tensorflow.nn.conv2d

Examples
--------
>>> import numpy as np
>>> from fastconv import conv2d
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
>>> w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
>>> y = conv2d(x, w, stride=2, padding=1, activation='relu')
>>> y.shape, y.dtype, bool((y >= 0).all())
((2, 4, 4, 4), dtype('float32'), True)
"""

conv3d = _make(3, "conv3d")
conv3d.__doc__ = """3-D convolution layer function (cross-correlation).

Same parameters and semantics as :func:`conv` with three spatial axes:
``x (N, C, D, H, W)`` / ``weight (F, C/groups, KD, KH, KW)`` or the
channels-last equivalents.

Parameters
----------
x, weight, bias, stride, padding, dilation, groups, padding_mode, data_format, activation, workers
    See :func:`conv`.

Returns
-------
ndarray
    ``(N, F, D_out, H_out, W_out)`` or ``(N, D_out, H_out, W_out, F)``.

See Also
--------
conv, torch.nn.functional.conv3d, keras.layers.Conv3D

Examples
--------
>>> import numpy as np
>>> from fastconv import conv3d
>>> x = np.ones((1, 2, 4, 4, 4))
>>> w = np.ones((1, 2, 3, 3, 3))
>>> conv3d(x, w, padding='same').shape
(1, 1, 4, 4, 4)
>>> float(conv3d(x, w)[0, 0, 0, 0, 0])
54.0
"""
