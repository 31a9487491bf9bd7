"""Convolution layers with trainable weights (Keras's argument names).

:class:`Conv1D`, :class:`Conv2D` and :class:`Conv3D` hold a kernel in
Keras's layout ``(*kernel_size, in_channels // groups, filters)`` and a bias
``(filters,)``, compute their forward pass with :func:`fastconv.conv` and
their backward pass with :func:`fastconv.conv_backward` (the activation's
derivative included)::

    layer = Conv2D(8, 3, padding="same", activation="relu", seed=0)
    y = layer(x)                       # builds on the first call
    gx = layer.backward(dL_dy)         # stores layer.kernel_grad, layer.bias_grad
    for w, g in zip(layer.trainable_weights, layer.gradients):
        w -= 0.01 * g                  # in place: the layer sees the update

Differences from Keras: ``strides > 1`` may be combined with
``dilation_rate > 1``; ``padding='causal'`` works for every rank (``d*(k-1)``
zeros before each spatial axis); ``padding`` also accepts explicit amounts
(an int, ints per axis or ``(lo, hi)`` pairs, as :func:`fastconv.conv`);
``'gelu'`` is the exact erf form.  ``'leaky_relu'`` follows Keras 3: negative
slope 0.2 (the functions of :func:`fastconv.conv` keep PyTorch's 0.01), so
ported Keras code gives Keras's numbers.
"""

import math
import numbers

import numpy as np

from fastconv._activations import activation_grad, apply_activation, check_activation
from fastconv._autograd import conv_backward
from fastconv._geometry import normalize_tuple, resolve_padding
from fastconv._engine import WeightCache
from fastconv.nn import conv_cached

__all__ = ["Conv1D", "Conv2D", "Conv3D"]


def __dir__():
    return list(__all__)


# Keras 3's ``activation='leaky_relu'`` (keras.activations.leaky_relu's
# default negative_slope); fastconv.conv's 'leaky_relu' keeps PyTorch's 0.01.
_KERAS_LEAKY_RELU_SLOPE = 0.2

_INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                 "lecun_uniform", "lecun_normal", "zeros", "ones", "random_normal",
                 "random_uniform")
# a standard normal truncated to [-2, 2] has this standard deviation
_TRUNC_STD = 0.87962566103423978


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _fans(shape):
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_normal(rng, shape, std):
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out * std


def _initialize(spec, shape, dtype, rng):
    """Values for a new weight of `shape` from an initializer name or callable."""
    if callable(spec):
        values = np.asarray(spec(shape, dtype=dtype))
        if values.shape != tuple(shape):
            raise ValueError(f"initializer {spec!r} returned shape {values.shape}, "
                             f"expected {tuple(shape)}")
        return values.astype(dtype)
    fan_in, fan_out = _fans(shape)
    if spec == "zeros":
        return np.zeros(shape, dtype)
    if spec == "ones":
        return np.ones(shape, dtype)
    if spec == "random_normal":
        return (rng.standard_normal(shape) * 0.05).astype(dtype)
    if spec == "random_uniform":
        return rng.uniform(-0.05, 0.05, shape).astype(dtype)
    family, dist = spec.split("_")
    scale, n = {"glorot": (1.0, (fan_in + fan_out) / 2.0), "he": (2.0, fan_in),
                "lecun": (1.0, fan_in)}[family]
    n = max(n, 1.0)
    if dist == "uniform":
        limit = math.sqrt(3.0 * scale / n)
        return rng.uniform(-limit, limit, shape).astype(dtype)
    return _truncated_normal(rng, shape, math.sqrt(scale / n) / _TRUNC_STD).astype(dtype)


def _check_initializer(name, spec):
    if callable(spec):
        return spec
    if isinstance(spec, str) and spec.lower() in _INITIALIZERS:
        return spec.lower()
    raise ValueError(f"{name} must be a callable(shape, dtype) or one of "
                     f"{', '.join(_INITIALIZERS)}, got {spec!r}")


def _tuple_arg(value, rank, name):
    """Keras-style int-or-tuple argument: positive ints, one per spatial axis."""
    if isinstance(value, list):
        value = tuple(value)
    return normalize_tuple(value, rank, name)


class _Conv:
    """Shared implementation of :class:`Conv1D`, :class:`Conv2D`, :class:`Conv3D`."""

    rank = None
    _counts = {}

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 *, trainable=True, seed=None, dtype="float32", name=None, workers=None):
        rank = self.rank
        if not _is_int(filters):
            raise TypeError(f"filters must be an int, got {type(filters).__name__} "
                            f"{filters!r}")
        if filters <= 0:
            raise ValueError(f"filters must be a positive int, got filters={filters}")
        if not _is_int(groups):
            raise TypeError(f"groups must be an int, got {type(groups).__name__} {groups!r}")
        if groups <= 0:
            raise ValueError(f"groups must be a positive int, got groups={groups}")
        if filters % groups:
            raise ValueError(f"filters must be divisible by groups, got filters={filters} "
                             f"and groups={groups}")
        self.filters = int(filters)
        self.groups = int(groups)
        self.kernel_size = _tuple_arg(kernel_size, rank, "kernel_size")
        self.strides = _tuple_arg(strides, rank, "strides")
        self.dilation_rate = _tuple_arg(dilation_rate, rank, "dilation_rate")
        if isinstance(padding, str):
            padding = padding.lower()
        # validate the spec now (its amounts are resolved per input shape)
        resolve_padding(padding, (max(self.kernel_size),) * rank, self.kernel_size,
                        self.strides, self.dilation_rate)
        self.padding = padding
        if data_format is None:
            data_format = "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError("data_format must be 'channels_last', 'channels_first' or None, "
                             f"got {data_format!r}")
        self.data_format = data_format
        self.activation = check_activation(activation)
        if not isinstance(use_bias, (bool, np.bool_)):
            raise TypeError(f"use_bias must be a bool, got {type(use_bias).__name__} "
                            f"{use_bias!r}")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _check_initializer("kernel_initializer", kernel_initializer)
        self.bias_initializer = _check_initializer("bias_initializer", bias_initializer)
        self.trainable = bool(trainable)
        self.seed = seed
        try:
            dt = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from None
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype = dt
        self.workers = workers
        if name is None:
            base = f"conv{rank}d"
            k = _Conv._counts.get(base, 0)
            _Conv._counts[base] = k + 1
            name = base if k == 0 else f"{base}_{k}"
        self.name = name
        self.built = False
        self._kernel = None
        self._bias = None
        self._in_channels = None
        self._cache = None
        self._packed = WeightCache()     # packed kernel, kept while unchanged
        self.kernel_grad = None
        self.bias_grad = None

    # ------------------------------------------------------------------ weights

    @property
    def kernel(self):
        """The kernel, ``(*kernel_size, in_channels // groups, filters)``."""
        if not self.built:
            raise AttributeError(f"layer {self.name!r} is not built yet: call it on an "
                                 "input or call build(input_shape) before reading `kernel`")
        return self._kernel

    @kernel.setter
    def kernel(self, value):
        self._assign("kernel", value)

    @property
    def bias(self):
        """The bias ``(filters,)``, or None when ``use_bias=False``."""
        if not self.built:
            raise AttributeError(f"layer {self.name!r} is not built yet: call it on an "
                                 "input or call build(input_shape) before reading `bias`")
        return self._bias

    @bias.setter
    def bias(self, value):
        self._assign("bias", value)

    def _assign(self, which, value):
        if not self.built:
            raise AttributeError(f"layer {self.name!r} is not built yet: call "
                                 f"build(input_shape) before setting `{which}`")
        current = self._kernel if which == "kernel" else self._bias
        if current is None:
            raise ValueError(f"layer {self.name!r} has no bias (use_bias=False)")
        value = np.asarray(value)
        if value.shape != current.shape:
            raise ValueError(f"layer {self.name!r}: {which} must have shape {current.shape}, "
                             f"got {value.shape}")
        current[...] = value

    @property
    def weights(self):
        """All weights: ``[kernel, bias]`` (``[kernel]`` without bias)."""
        if not self.built:
            return []
        return [self._kernel] + ([self._bias] if self._bias is not None else [])

    @property
    def trainable_weights(self):
        """The weights an optimizer updates: :attr:`weights`, or ``[]`` when
        ``trainable`` is False."""
        return self.weights if self.trainable else []

    @property
    def non_trainable_weights(self):
        """:attr:`weights` when ``trainable`` is False, else ``[]``."""
        return [] if self.trainable else self.weights

    @property
    def gradients(self):
        """Gradients from the last :meth:`backward`, aligned with
        :attr:`trainable_weights` (``[]`` when not trainable)."""
        if not self.trainable or not self.built:
            return []
        grads = [self.kernel_grad]
        if self._bias is not None:
            grads.append(self.bias_grad)
        return grads

    def get_weights(self):
        """Copies of the weights, ``[kernel, bias]`` (``[]`` before build)."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Overwrite the weights (in place) from a list like :meth:`get_weights`'s.

        Raises ``ValueError`` for the wrong number of arrays or a wrong shape.
        """
        current = self.weights
        weights = list(weights)
        if len(weights) != len(current):
            raise ValueError(f"layer {self.name!r} expects a list of {len(current)} weight "
                             f"arrays in set_weights, got {len(weights)}")
        arrays = [np.asarray(w) for w in weights]
        for ref, new in zip(current, arrays):
            if ref.shape != new.shape:
                raise ValueError(f"layer {self.name!r}: weight of shape {ref.shape} cannot be "
                                 f"set from an array of shape {new.shape}")
        for ref, new in zip(current, arrays):
            ref[...] = new

    def count_params(self):
        """Number of weights: ``prod(kernel_size) * in_channels / groups *
        filters (+ filters)``.  Raises ``ValueError`` before build."""
        if not self.built:
            raise ValueError(f"layer {self.name!r} is not built yet, so it has no parameters "
                             "to count: call build(input_shape) first")
        return sum(int(w.size) for w in self.weights)

    # ------------------------------------------------------------------- shapes

    def _split(self, shape):
        """(channels, spatial) of a full input shape (batch included)."""
        if self.data_format == "channels_last":
            return shape[-1], tuple(shape[1:-1])
        return shape[1], tuple(shape[2:])

    def _check_rank(self, shape, what):
        if len(shape) != self.rank + 2:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects {what} of "
                             f"rank {self.rank + 2} (batch, spatial x {self.rank}, channels "
                             f"in {self.data_format} order), got shape {tuple(shape)}")

    def compute_output_shape(self, input_shape):
        """Output shape for an input shape (batch included; ``None`` entries
        stay ``None``), by the output-size formula
        ``floor((n + p_lo + p_hi - d*(k-1) - 1)/s) + 1``."""
        input_shape = tuple(input_shape)
        self._check_rank(input_shape, "an input shape")
        _, spatial = self._split(input_shape)
        # unknown (None) sizes get a stand-in; their outputs stay None
        known = tuple(int(n) if n is not None else d * (k - 1) + 1
                      for n, k, d in zip(spatial, self.kernel_size, self.dilation_rate))
        pads = resolve_padding(self.padding, known, self.kernel_size, self.strides,
                               self.dilation_rate)
        out = []
        for axis, (n, k, s, d, (lo, hi)) in enumerate(
                zip(spatial, self.kernel_size, self.strides, self.dilation_rate, pads)):
            if n is None:
                out.append(None)
                continue
            m = (int(n) + lo + hi - d * (k - 1) - 1) // s + 1
            if m < 1:
                raise ValueError(
                    f"layer {self.name!r}: input shape {input_shape} gives an output of size "
                    f"{m} (< 1) on spatial axis {axis}: the (dilated) kernel is larger than "
                    "the padded input")
            out.append(m)
        if self.data_format == "channels_last":
            return (input_shape[0],) + tuple(out) + (self.filters,)
        return (input_shape[0], self.filters) + tuple(out)

    # -------------------------------------------------------------------- build

    def build(self, input_shape):
        """Create the weights for inputs of `input_shape` (batch included;
        the batch and spatial sizes may be ``None``).

        Raises ``ValueError`` for a wrong rank, an unknown channel count or
        channels not divisible by ``groups``.
        """
        input_shape = tuple(input_shape)
        self._check_rank(input_shape, "an input shape")
        channels, spatial = self._split(input_shape)
        if channels is None:
            raise ValueError(f"layer {self.name!r}: the channel axis of input_shape "
                             f"{input_shape} must be known to build the layer")
        channels = int(channels)
        if channels % self.groups:
            raise ValueError(f"layer {self.name!r}: input channels ({channels}) must be "
                             f"divisible by groups ({self.groups}); input shape "
                             f"{input_shape}")
        self.compute_output_shape(input_shape)
        rng = np.random.default_rng(self.seed)
        kshape = self.kernel_size + (channels // self.groups, self.filters)
        self._kernel = np.ascontiguousarray(
            _initialize(self.kernel_initializer, kshape, self.dtype, rng))
        self._bias = (np.ascontiguousarray(
            _initialize(self.bias_initializer, (self.filters,), self.dtype, rng))
            if self.use_bias else None)
        self._in_channels = channels
        self.built = True

    # ---------------------------------------------------------- forward/backward

    def _engine_kernel(self):
        if self.data_format == "channels_last":
            return self._kernel
        r = self.rank
        return np.ascontiguousarray(self._kernel.transpose((r + 1, r) + tuple(range(r))))

    def _conv_kwargs(self):
        return dict(stride=self.strides, padding=self.padding, dilation=self.dilation_rate,
                    groups=self.groups, data_format=self.data_format, workers=self.workers)

    def forward(self, x):
        """Apply the layer: ``activation(conv(x, kernel) + bias)``.

        Builds the layer on the first call.  Inputs are cast to the layer's
        ``dtype``.  The input (and what the activation's derivative needs)
        is kept for :meth:`backward`.
        """
        x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            raise TypeError(f"layer {self.name!r}: inputs must be real numbers, got dtype "
                            f"{x.dtype}")
        x = x.astype(self.dtype, copy=False)
        self._check_rank(x.shape, "inputs")
        if not self.built:
            self.build(x.shape)
        channels, _ = self._split(x.shape)
        if channels != self._in_channels:
            raise ValueError(f"layer {self.name!r} was built for {self._in_channels} input "
                             f"channels, got inputs of shape {x.shape}")
        act = self.activation
        w = self._engine_kernel()
        kw = self._conv_kwargs()
        if act in (None, "linear") or callable(act):
            y = conv_cached(x, w, self._bias, self._packed, activation=act, **kw)
            self._cache = (x, None, None)
        elif act == "gelu":
            z = conv_cached(x, w, self._bias, self._packed, activation=None, **kw)
            y = apply_activation(z.copy(), act)
            self._cache = (x, z, None)
        elif act == "leaky_relu":
            y = conv_cached(x, w, self._bias, self._packed, activation=None, **kw)
            np.multiply(y, y.dtype.type(_KERAS_LEAKY_RELU_SLOPE), out=y, where=y < 0)
            self._cache = (x, None, y)
        else:
            y = conv_cached(x, w, self._bias, self._packed, activation=act, **kw)
            self._cache = (x, None, y)
        return y

    __call__ = forward

    def backward(self, grad_out):
        """Back-propagate ``grad_out = dL/dy`` through the last :meth:`forward`.

        Returns ``dL/dx`` and stores ``kernel_grad`` (Keras layout) and
        ``bias_grad`` (None without bias); both are None when the layer is
        not trainable (nothing is computed for them).

        Raises
        ------
        RuntimeError
            Before any forward call.
        ValueError
            If `grad_out` does not have the last output's shape.
        TypeError
            For a callable activation (no known derivative).
        """
        if self._cache is None:
            raise RuntimeError(f"layer {self.name!r}: backward() needs a forward() call "
                               "first")
        if callable(self.activation):
            raise TypeError("activation: a callable activation has no known derivative; "
                            "use a named activation or apply it outside the layer")
        x, pre, out = self._cache
        grad_out = np.asarray(grad_out)
        want = self.compute_output_shape(x.shape)
        if grad_out.shape != want:
            raise ValueError(f"layer {self.name!r}: grad_out must have the output's shape "
                             f"{want}, got {grad_out.shape}")
        grad = grad_out.astype(self.dtype, copy=False)
        if self.activation == "leaky_relu":
            slope = grad.dtype.type(_KERAS_LEAKY_RELU_SLOPE)
            grad = np.where(out >= 0, grad, grad * slope)
        else:
            grad = activation_grad(grad, self.activation, pre=pre, out=out)
        grad = np.asarray(grad, dtype=self.dtype)
        gx, gw, gb = conv_backward(grad, x, self._engine_kernel(),
                                   self._bias if self.trainable else None,
                                   weight_grad=self.trainable, **self._conv_kwargs())
        if self.trainable:
            if self.data_format == "channels_first":
                r = self.rank
                gw = np.ascontiguousarray(gw.transpose(tuple(range(2, r + 2)) + (1, 0)))
            self.kernel_grad = gw
            self.bias_grad = gb
        else:
            self.kernel_grad = self.bias_grad = None
        return gx

    # ------------------------------------------------------------------- misc

    def get_config(self):
        """The constructor arguments, as a dict (Keras's names)."""
        return dict(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                    padding=self.padding, data_format=self.data_format,
                    dilation_rate=self.dilation_rate, groups=self.groups,
                    activation=self.activation, use_bias=self.use_bias,
                    kernel_initializer=self.kernel_initializer,
                    bias_initializer=self.bias_initializer, trainable=self.trainable,
                    seed=self.seed, dtype=self.dtype.name, name=self.name)

    def __repr__(self):
        return (f"{type(self).__name__}(filters={self.filters}, "
                f"kernel_size={self.kernel_size}, strides={self.strides}, "
                f"padding={self.padding!r}, data_format={self.data_format!r}, "
                f"dilation_rate={self.dilation_rate}, groups={self.groups}, "
                f"activation={self.activation!r}, use_bias={self.use_bias}, "
                f"trainable={self.trainable}, name={self.name!r})")


_CLASS_DOC = """{rank}-D convolution layer with trainable weights (Keras's ``Conv{rank}D``).

Parameters
----------
filters : int
    Number of output channels (> 0, divisible by `groups`).
kernel_size : int or tuple of {rank} int
    Kernel length per spatial axis.
strides : int or tuple of {rank} int, optional
    Per-axis stride (default 1).  May be combined with `dilation_rate`.
padding : str, int or tuple, optional
    ``'valid'`` (default), ``'same'`` (TensorFlow's rule, output
    ``ceil(n/s)``), ``'causal'`` (``d*(k-1)`` zeros before each spatial
    axis, none after: the output at a position only sees inputs at or
    before it; every rank), or explicit amounts as :func:`fastconv.conv`.
data_format : {{'channels_last', 'channels_first'}} or None, optional
    ``(batch, {spatial}, channels)`` (default; None means this too) or
    ``(batch, channels, {spatial})``.
dilation_rate : int or tuple of {rank} int, optional
    Per-axis dilation (default 1).
groups : int, optional
    Channel groups (default 1); must divide the input channels and
    `filters`.
activation : str or callable, optional
    None/``'linear'``, ``'relu'``, ``'sigmoid'``, ``'tanh'``, ``'gelu'``,
    ``'elu'``, ``'leaky_relu'`` (Keras 3's negative slope 0.2, not the 0.01 of
    :func:`fastconv.conv`); a callable works forward only.
use_bias : bool, optional
    Add a bias (default True).
kernel_initializer, bias_initializer : str or callable, optional
    ``'glorot_uniform'`` (kernel default), ``'glorot_normal'``,
    ``'he_uniform'``, ``'he_normal'``, ``'lecun_uniform'``,
    ``'lecun_normal'``, ``'zeros'`` (bias default), ``'ones'``,
    ``'random_normal'`` (std 0.05), ``'random_uniform'`` (+-0.05), or
    ``callable(shape, dtype) -> array``.  Fans follow Keras (``fan_in =
    prod(kernel_size) * in_channels/groups``, ``fan_out = prod(kernel_size) *
    filters``); the ``*_normal`` ones are truncated at two standard
    deviations.
trainable : bool, optional
    When False, :meth:`backward` computes only the input gradient and
    :attr:`trainable_weights` is empty (keyword-only).
seed : int, optional
    Seed of the initializers' random generator (keyword-only).
dtype : {{'float32', 'float64'}}, optional
    Dtype of the weights and of the computation (keyword-only).
name : str, optional
    Layer name (keyword-only; default ``conv{rank}d``, ``conv{rank}d_1``, ...).
workers : int, optional
    Threads for the forward and backward passes (keyword-only; None: all
    usable cores).

Attributes
----------
kernel : ndarray
    ``(*kernel_size, in_channels // groups, filters)`` (Keras's layout).
bias : ndarray or None
    ``(filters,)``.
kernel_grad, bias_grad : ndarray or None
    Gradients from the last :meth:`backward`.
built : bool

Raises
------
ValueError
    For ``filters <= 0``, ``groups <= 0``, `filters` not divisible by
    `groups`, non-positive kernel sizes, strides or dilations, an unknown
    padding, data format, activation or initializer, or a dtype other than
    float32/float64.
TypeError
    For badly typed arguments.

See Also
--------
keras.layers.Conv{rank}D : The Keras layer (same arguments and kernel layout).
torch.nn.Conv{rank}d : The PyTorch module (kernel layout ``(filters,
    in_channels/groups, *kernel_size)``).
fastconv.conv{rank}d, fastconv.conv_backward : The functions it calls.

Notes
-----
The forward pass is :func:`fastconv.conv` (``relu`` fused into the
kernel), the backward pass :func:`fastconv.conv_backward`; see them for the
algorithms.  ``count_params() = prod(kernel_size) * in_channels / groups *
filters + filters`` (no ``+ filters`` without bias).

Examples
--------
{example}
"""

_EXAMPLES = {
    1: """>>> import numpy as np
>>> from fastconv.layers import Conv1D
>>> layer = Conv1D(4, 3, padding='causal', dilation_rate=2, seed=0)
>>> x = np.ones((2, 10, 3), dtype=np.float32)
>>> layer(x).shape, layer.kernel.shape, layer.count_params()
((2, 10, 4), (3, 3, 4), 40)
>>> gx = layer.backward(np.ones((2, 10, 4), dtype=np.float32))
>>> gx.shape, layer.kernel_grad.shape, layer.bias_grad.tolist()
((2, 10, 3), (3, 3, 4), [20.0, 20.0, 20.0, 20.0])""",
    2: """>>> import numpy as np
>>> from fastconv.layers import Conv2D
>>> layer = Conv2D(8, (3, 3), strides=2, padding='same', activation='relu', seed=0)
>>> layer.compute_output_shape((None, 28, 28, 1))
(None, 14, 14, 8)
>>> x = np.random.default_rng(0).standard_normal((4, 28, 28, 1))
>>> y = layer(x)
>>> y.shape, y.dtype, layer.count_params()
((4, 14, 14, 8), dtype('float32'), 80)
>>> gx = layer.backward(np.ones_like(y))
>>> for w, g in zip(layer.trainable_weights, layer.gradients):
...     w -= 0.01 * g
>>> gx.shape
(4, 28, 28, 1)""",
    3: """>>> import numpy as np
>>> from fastconv.layers import Conv3D
>>> layer = Conv3D(2, 3, data_format='channels_first', groups=2, use_bias=False, seed=0)
>>> y = layer(np.ones((1, 4, 5, 5, 5)))
>>> y.shape, layer.kernel.shape, layer.count_params()
((1, 2, 3, 3, 3), (3, 3, 3, 2, 2), 108)""",
}


class Conv1D(_Conv):
    rank = 1
    __doc__ = _CLASS_DOC.format(rank=1, spatial="steps", example=_EXAMPLES[1])


class Conv2D(_Conv):
    rank = 2
    __doc__ = _CLASS_DOC.format(rank=2, spatial="rows, cols", example=_EXAMPLES[2])


class Conv3D(_Conv):
    rank = 3
    __doc__ = _CLASS_DOC.format(rank=3, spatial="dim1, dim2, dim3", example=_EXAMPLES[3])
