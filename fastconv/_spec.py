"""The CNN spec: one validated description of a convolution's geometry.

Every CNN front-end (``conv*``, the gradients, the transposed convolution,
the layers) validates its arguments here and gets a frozen
:class:`ConvSpec` (layout-aware shapes and axes); no front-end imports
another front-end's helpers.  Every user error is raised here, before any
planning or allocation.
"""

import numbers

import numpy as np

from fastconv._geometry import normalize_tuple, output_length, resolve_padding


PADDING_MODES = {"zeros": None, "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


COMPLEX_DTYPES = (np.dtype(np.complex64), np.dtype(np.complex128))


DATA_FORMATS = ("channels_first", "channels_last")


def check_dtype(name, dtype):
    if dtype.newbyteorder("=") in FLOAT_DTYPES or dtype.newbyteorder("=") in COMPLEX_DTYPES:
        return
    raise TypeError(f"{name}: unsupported dtype {dtype}; fastconv's CNN functions compute in "
                    "float32, float64, complex64 or complex128")


class ConvSpec:
    """A validated convolution geometry: sizes, per-axis stride/dilation/pads and
    output lengths (the forward, the gradients and the transposed convolution
    all validate through :func:`conv_spec`)."""

    __slots__ = ("rank", "layout", "N", "C", "F", "G", "Cg", "Fg", "spatial", "ksize",
                 "stride", "dilation", "pads", "out_spatial", "padding_mode", "dtype")

    def x_shape(self):
        if self.layout == "channels_first":
            return (self.N, self.C) + self.spatial
        return (self.N,) + self.spatial + (self.C,)

    def w_shape(self):
        if self.layout == "channels_first":
            return (self.F, self.Cg) + self.ksize
        return self.ksize + (self.Cg, self.F)

    def y_shape(self):
        if self.layout == "channels_first":
            return (self.N, self.F) + self.out_spatial
        return (self.N,) + self.out_spatial + (self.F,)


def check_groups(groups):
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"groups must be an int, got {type(groups).__name__} {groups!r}")
    groups = int(groups)
    if groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups}")
    return groups


def check_data_format(data_format):
    if data_format not in DATA_FORMATS:
        raise ValueError(f"data_format must be 'channels_first' or 'channels_last', "
                         f"got {data_format!r}")
    return data_format


def check_padding_limits(pads, spatial, mode):
    """PyTorch's limits on how much 'reflect' and 'circular' may pad."""
    for axis, ((lo, hi), n) in enumerate(zip(pads, spatial)):
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(f"padding_mode='reflect' needs padding < input size on every "
                             f"axis; spatial axis {axis} has size {n} and padding ({lo}, {hi})")
        if mode == "circular" and (lo > n or hi > n):
            raise ValueError(f"padding_mode='circular' needs padding <= input size on every "
                             f"axis; spatial axis {axis} has size {n} and padding ({lo}, {hi})")


def _typed(v):
    """A cache key that tells 1 from True and 1.0 (equal, same hash)."""
    if isinstance(v, (tuple, list)):
        return (type(v).__name__,) + tuple(_typed(e) for e in v)
    return (type(v).__name__, v)


def conv_spec(fname, x_shape, w_shape, stride, padding, dilation, groups, layout):
    """Channels, kernel, stride, dilation, padding and output lengths of a batched
    call, checked; `groups` (an int) and `layout` are validated by the caller.

    Validated once per distinct call geometry (cached; a repeated call of the
    same shape re-checks nothing) and returned as a fresh :class:`ConvSpec`
    (callers fill in ``padding_mode`` and ``dtype``)."""
    try:
        key = (fname, tuple(x_shape), tuple(w_shape), _typed(stride), _typed(padding),
               _typed(dilation), groups, layout)
        cached = _conv_spec_cached(key, stride, padding, dilation)
    except TypeError as exc:
        if "unhashable" not in str(exc):
            raise
        return _conv_spec(fname, x_shape, w_shape, stride, padding, dilation, groups, layout)
    g = ConvSpec()
    for name in ConvSpec.__slots__:
        setattr(g, name, getattr(cached, name))
    return g


_SPEC_CACHE = {}


def _conv_spec_cached(key, stride, padding, dilation):
    g = _SPEC_CACHE.get(key)
    if g is None:
        fname, x_shape, w_shape, _, _, _, groups, layout = key
        g = _conv_spec(fname, x_shape, w_shape, stride, padding, dilation, groups, layout)
        if len(_SPEC_CACHE) > 1024:
            _SPEC_CACHE.clear()
        _SPEC_CACHE[key] = g
    return g


def _conv_spec(fname, x_shape, w_shape, stride, padding, dilation, groups, layout):
    g = ConvSpec()
    g.layout = layout
    g.rank = rank = len(w_shape) - 2
    g.G = groups
    if layout == "channels_first":
        g.N, g.C, g.spatial = x_shape[0], x_shape[1], tuple(x_shape[2:])
        g.F, g.Cg, g.ksize = w_shape[0], w_shape[1], tuple(w_shape[2:])
    else:
        g.N, g.C, g.spatial = x_shape[0], x_shape[-1], tuple(x_shape[1:-1])
        g.F, g.Cg, g.ksize = w_shape[-1], w_shape[-2], tuple(w_shape[:-2])
    if g.C % g.G:
        raise ValueError(f"groups={g.G} must divide the input channels ({g.C})")
    if g.F % g.G:
        raise ValueError(f"groups={g.G} must divide the output channels / filters ({g.F})")
    if g.Cg * g.G != g.C:
        raise ValueError(f"{fname}: input has {g.C} channels but weight expects "
                         f"{g.Cg} * groups({g.G}) = {g.Cg * g.G}")
    if any(k < 1 for k in g.ksize):
        raise ValueError(f"{fname}: kernel sizes must be >= 1, got {g.ksize}")
    g.Fg = g.F // g.G
    g.stride = normalize_tuple(stride, rank, "stride")
    g.dilation = normalize_tuple(dilation, rank, "dilation")
    g.pads = resolve_padding(padding, g.spatial, g.ksize, g.stride, g.dilation)
    g.out_spatial = tuple(
        output_length(n, k, s, d, lo, hi, axis)
        for axis, (n, k, s, d, (lo, hi)) in enumerate(
            zip(g.spatial, g.ksize, g.stride, g.dilation, g.pads)))
    g.padding_mode = "zeros"
    g.dtype = None
    return g


def as_float(fname, name, a):
    a = np.asarray(a)
    check_float_dtype(fname, name, a.dtype)
    return a


def check_float_dtype(fname, name, dtype):
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{fname}: {name} has unsupported dtype {dtype}; gradients and "
                        "transposed convolutions are computed in float32 or float64")


def spatial_axes(layout, rank):
    first = 2 if layout == "channels_first" else 1
    return tuple(range(first, first + rank))
