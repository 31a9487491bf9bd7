"""fastconv.layers: Conv1D, Conv2D, Conv3D (Keras's arguments and kernel layout).

* Outputs against the plain NumPy reference of ``conftest.py`` (float64:
  ``1e-12 * scale``; float32: the worst-case summation bound), with the
  activation applied to the float64 reference.
* Parameter counts against Keras's formula ``prod(kernel_size) *
  in_channels / groups * filters + filters``; output shapes against
  ``compute_output_shape`` and the output-size formula written out here.
* Backward passes against finite differences (float64 layers; the loss
  ``sum(gy * layer(x))``; eps = 1e-6 for the nonlinear activations: the
  truncation error ~eps**2 and the rounding ~1e-16/eps ~ 1e-10 relative,
  observed < 1e-8 relative, tolerance 1e-6 * (1 + |grad|)) and PyTorch
  autograd (float64, 1e-11).
* Freezing: a training step leaves a frozen layer's weights unchanged.
"""

import math

import numpy as np
import pytest

import fastconv
from fastconv import conv_output_shape
from fastconv.layers import Conv1D, Conv2D, Conv3D
from fastconv.nn import apply_activation
from conftest import assert_conv_close, reference_conv

LAYERS = {1: Conv1D, 2: Conv2D, 3: Conv3D}
FORMATS = ("channels_last", "channels_first")


def keras_output_length(n, k, s, d, padding):
    """Keras/TensorFlow's output length, written out per padding name."""
    if padding == "valid":
        return (n - d * (k - 1) - 1) // s + 1
    if padding in ("same", "causal"):
        return -(-n // s)
    raise AssertionError(padding)


# (rank, filters, kernel_size, strides, dilation_rate, groups, channels, spatial)
CONFIGS = [
    (1, 4, 3, 1, 1, 1, 3, (12,)),
    (1, 6, 5, 2, 2, 3, 6, (17,)),          # stride + dilation, groups
    (1, 2, 1, 3, 1, 2, 2, (10,)),
    (2, 8, (3, 3), 1, 1, 1, 1, (9, 9)),
    (2, 4, (2, 3), (2, 1), (1, 2), 2, 4, (10, 11)),
    (2, 6, 3, 2, 2, 6, 6, (13, 12)),       # depthwise-like with stride + dilation
    (3, 4, (2, 3, 2), 1, 1, 1, 2, (5, 6, 5)),
    (3, 2, 3, (1, 2, 2), (2, 1, 1), 2, 4, (7, 7, 6)),
]


def make_input(rng, cfg, data_format, dtype=np.float32, batch=2):
    rank, _, _, _, _, _, C, S = cfg
    shape = (batch,) + S + (C,) if data_format == "channels_last" else (batch, C) + S
    return rng.standard_normal(shape).astype(dtype)


def make_layer(cfg, padding, data_format, **kw):
    rank, F, K, s, d, G, _, _ = cfg
    return LAYERS[rank](F, K, strides=s, padding=padding, data_format=data_format,
                        dilation_rate=d, groups=G, **kw)


def to_tuple(v, rank):
    return (v,) * rank if isinstance(v, int) else tuple(v)


# ------------------------------------------------------------- shapes, counts

@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("cfg", CONFIGS)
def test_output_shape_params_and_values(rng, cfg, padding, data_format):
    rank, F, K, s, d, G, C, S = cfg
    layer = make_layer(cfg, padding, data_format, activation="tanh", seed=1,
                       bias_initializer="random_normal", dtype="float64", workers=1)
    x = make_input(rng, cfg, data_format, np.float64)
    Ks, ss, ds = to_tuple(K, rank), to_tuple(s, rank), to_tuple(d, rank)
    try:
        expected_sp = tuple(keras_output_length(n, k, st, dl, padding)
                            for n, k, st, dl in zip(S, Ks, ss, ds))
    except AssertionError:
        raise
    if min(expected_sp) < 1:
        with pytest.raises(ValueError, match=r"gives an output of size"):
            layer(x)
        return
    y = layer(x)
    expected = ((2,) + expected_sp + (F,) if data_format == "channels_last"
                else (2, F) + expected_sp)
    assert y.shape == expected == layer.compute_output_shape(x.shape)
    assert conv_output_shape(S, Ks, ss, padding, ds) == expected_sp
    # parameter count: Keras's formula
    assert layer.count_params() == math.prod(Ks) * C // G * F + F
    assert layer.kernel.shape == Ks + (C // G, F)
    assert layer.bias.shape == (F,)
    # values: the NumPy reference with the kernel read in Keras's layout
    pads = fastconv.resolve_padding(padding, S, Ks, ss, ds)
    if data_format == "channels_last":
        ref, scale = reference_conv(x, layer.kernel, layer.bias, ss, pads, ds, G,
                                    data_format="channels_last")
    else:
        w_cf = np.transpose(layer.kernel, (rank + 1, rank) + tuple(range(rank)))
        ref, scale = reference_conv(x, w_cf, layer.bias, ss, pads, ds, G)
    pre = np.asarray(ref)
    # tanh is 1-Lipschitz, so the pre-activation bound carries over
    assert_conv_close(y, apply_activation(pre.copy(), "tanh"), scale, np.float64,
                      C // G * math.prod(Ks))


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_count_params_formula(cfg, use_bias):
    rank, F, K, s, d, G, C, S = cfg
    layer = make_layer(cfg, "same", "channels_last", use_bias=use_bias)
    layer.build((None,) + S + (C,))
    Ks = to_tuple(K, rank)
    assert layer.count_params() == math.prod(Ks) * C // G * F + (F if use_bias else 0)
    assert len(layer.weights) == (2 if use_bias else 1)
    assert (layer.bias is None) == (not use_bias)


def test_float32_layer_stays_float32_and_casts_inputs(rng):
    cfg = CONFIGS[3]
    layer = make_layer(cfg, "same", "channels_last", seed=0)
    x64 = make_input(rng, cfg, "channels_last", np.float64)
    y = layer(x64)
    assert y.dtype == np.float32 and layer.kernel.dtype == np.float32
    ref, scale = reference_conv(x64.astype(np.float32), layer.kernel, layer.bias, 1, 1, 1, 1,
                                data_format="channels_last")
    assert_conv_close(y, ref, scale, np.float32, 9)
    g = layer.backward(np.ones_like(y))
    assert g.dtype == np.float32 and layer.kernel_grad.dtype == np.float32
    # integer inputs are cast too
    assert layer(np.ones((1, 9, 9, 1), dtype=np.int64)).dtype == np.float32


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_compute_output_shape_with_unknown_sizes(rank):
    layer = LAYERS[rank](5, 3, strides=2, padding="same")
    shape = (None,) + (None,) * (rank - 1) + (9,) + (3,)
    out = layer.compute_output_shape(shape)
    assert out == (None,) + (None,) * (rank - 1) + (5,) + (5,)
    layer.build(shape)
    assert layer.built and layer.kernel.shape == (3,) * rank + (3, 5)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("data_format", FORMATS)
def test_causal_padding_every_rank_sees_only_the_past(rng, rank, data_format):
    layer = LAYERS[rank](3, 3, padding="causal", dilation_rate=2, data_format=data_format,
                         seed=0, dtype="float64", workers=1)
    S = (9, 8, 7)[:rank]
    shape = (1,) + S + (2,) if data_format == "channels_last" else (1, 2) + S
    x = rng.standard_normal(shape)
    y = layer(x)
    assert y.shape[1:-1] == S if data_format == "channels_last" else y.shape[2:] == S
    axes = range(1, rank + 1) if data_format == "channels_last" else range(2, rank + 2)
    t = tuple(n // 2 for n in S)
    x2 = x.copy()
    for a, ti in zip(axes, t):  # change every input strictly after t on one axis
        index = [slice(None)] * x.ndim
        index[a] = slice(ti + 1, None)
        x2[tuple(index)] += 10.0
    y2 = layer(x2)
    index = [slice(None)] * y.ndim
    for a, ti in zip(axes, t):
        index[a] = slice(0, ti + 1)
    np.testing.assert_array_equal(y2[tuple(index)], y[tuple(index)])
    assert not np.array_equal(y2, y)


# ------------------------------------------------------------------ backward

def fd_check(layer, x, rng, eps=1e-6, coords=30):
    y = layer(x)
    gy = rng.standard_normal(y.shape)
    gx = layer.backward(gy)
    grads = [(x, gx), (layer.kernel, layer.kernel_grad)]
    if layer.bias is not None:
        grads.append((layer.bias, layer.bias_grad))
    for a, g in grads:
        flat = a.reshape(-1)
        idx = rng.choice(flat.size, min(coords, flat.size), replace=False)
        for i in idx:
            old = flat[i]
            flat[i] = old + eps
            lp = np.sum(gy * layer(x))
            flat[i] = old - eps
            lm = np.sum(gy * layer(x))
            flat[i] = old
            fd = (lp - lm) / (2 * eps)
            got = g.reshape(-1)[i]
            assert abs(got - fd) <= 1e-6 * (1 + abs(got)), (i, got, fd)


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "gelu", "elu",
                                        "leaky_relu"])
@pytest.mark.parametrize("data_format", FORMATS)
def test_backward_finite_differences_activations(rng, activation, data_format):
    cfg = CONFIGS[4]
    layer = make_layer(cfg, "same", data_format, activation=activation, seed=3,
                       bias_initializer="random_normal", dtype="float64", workers=1)
    fd_check(layer, make_input(rng, cfg, data_format, np.float64), rng)


@pytest.mark.parametrize("padding", ["valid", "same", "causal", ((1, 2),)])
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("ci", [0, 1, 2, 5, 6, 7])
def test_backward_finite_differences_geometries(rng, ci, data_format, padding):
    cfg = CONFIGS[ci]
    layer = make_layer(cfg, padding, data_format, activation="relu", seed=4,
                       bias_initializer="random_normal", dtype="float64", workers=1)
    x = make_input(rng, cfg, data_format, np.float64, batch=1)
    fd_check(layer, x, rng, coords=12)


@pytest.mark.parametrize("data_format", FORMATS)
def test_backward_vs_pytorch(rng, data_format):
    torch = pytest.importorskip("torch")
    layer = Conv2D(6, (3, 2), strides=(2, 1), padding="same", data_format=data_format,
                   dilation_rate=(1, 2), groups=2, activation="relu", seed=5,
                   bias_initializer="random_normal", dtype="float64")
    xcf = rng.standard_normal((3, 4, 11, 10))
    x = np.moveaxis(xcf, 1, -1).copy() if data_format == "channels_last" else xcf
    y = layer(x)
    gy = rng.standard_normal(y.shape)
    gx = layer.backward(gy)
    # torch: kernel (*K, Cg, F) -> (F, Cg, *K); TF 'same' pads made explicit
    xt = torch.tensor(xcf, requires_grad=True)
    wt = torch.tensor(np.transpose(layer.kernel, (3, 2, 0, 1)).copy(), requires_grad=True)
    bt = torch.tensor(layer.bias, requires_grad=True)
    (ph, pw) = fastconv.resolve_padding("same", (11, 10), (3, 2), (2, 1), (1, 2))
    xp = torch.nn.functional.pad(xt, (pw[0], pw[1], ph[0], ph[1]))
    yt = torch.relu(torch.nn.functional.conv2d(xp, wt, bt, stride=(2, 1), dilation=(1, 2),
                                               groups=2))
    gyt = gy if data_format == "channels_first" else np.moveaxis(gy, -1, 1)
    np.testing.assert_allclose(
        y if data_format == "channels_first" else np.moveaxis(y, -1, 1),
        yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    rx, rw, rb = torch.autograd.grad(yt, (xt, wt, bt), torch.tensor(np.ascontiguousarray(gyt)))
    gx_cf = gx if data_format == "channels_first" else np.moveaxis(gx, -1, 1)
    np.testing.assert_allclose(gx_cf, rx.numpy(), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(layer.kernel_grad, np.transpose(rw.numpy(), (2, 3, 1, 0)),
                               rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(layer.bias_grad, rb.numpy(), rtol=1e-11, atol=1e-11)


# ---------------------------------------------------------- training, freezing

def sgd_step(layer, lr=0.1):
    for w, g in zip(layer.trainable_weights, layer.gradients):
        w -= lr * g


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_frozen_layer_weights_do_not_change_through_a_training_step(rng, rank):
    cfg = [c for c in CONFIGS if c[0] == rank][0]
    frozen = make_layer(cfg, "same", "channels_last", trainable=False, seed=7,
                        activation="relu")
    live = make_layer(cfg, "same", "channels_last", seed=7, activation="relu")
    x = make_input(rng, cfg, "channels_last")
    y = frozen(x)
    live(x)
    before = frozen.get_weights()
    gy = np.sign(y) + 0.5
    gx_frozen = frozen.backward(gy)
    gx_live = live.backward(gy)
    assert frozen.trainable_weights == [] and frozen.gradients == []
    assert len(frozen.non_trainable_weights) == 2
    assert frozen.kernel_grad is None and frozen.bias_grad is None
    sgd_step(frozen)
    sgd_step(live)
    for a, b in zip(before, frozen.get_weights()):
        assert np.array_equal(a, b)
    # the input gradient is still computed, and equals the trainable layer's
    np.testing.assert_array_equal(gx_frozen, gx_live)
    # the live layer did change, and a step lowers the loss
    assert not np.array_equal(before[0], live.kernel)
    # unfreezing makes the weights trainable again
    frozen.trainable = True
    frozen(x)
    frozen.backward(gy)
    assert len(frozen.trainable_weights) == 2 and frozen.kernel_grad is not None


def test_a_few_training_steps_reduce_a_regression_loss(rng):
    target = Conv2D(3, 3, padding="same", seed=1, dtype="float64")
    layer = Conv2D(3, 3, padding="same", seed=2, dtype="float64", workers=1)
    x = rng.standard_normal((8, 7, 7, 2))
    y_true = target(x)
    losses = []
    for _ in range(30):
        y = layer(x)
        diff = y - y_true
        losses.append(float(np.mean(diff ** 2)))
        layer.backward(2 * diff / diff.size)
        sgd_step(layer, lr=0.5)
    assert losses[-1] < 0.05 * losses[0]


# ------------------------------------------------------------ weights, build

def test_get_set_weights_round_trip_in_place():
    layer = Conv1D(4, 3, seed=0)
    assert layer.get_weights() == [] and layer.weights == []
    layer.build((None, 10, 2))
    kernel = layer.kernel
    new = [np.full((3, 2, 4), 0.5), np.arange(4.0)]
    layer.set_weights(new)
    assert layer.kernel is kernel  # updated in place
    got = layer.get_weights()
    np.testing.assert_array_equal(got[0], new[0])
    np.testing.assert_array_equal(got[1], new[1])
    got[0][...] = 7  # copies
    assert not np.any(layer.kernel == 7)
    layer.kernel = np.zeros((3, 2, 4))
    layer.bias = np.ones(4)
    assert layer.kernel.sum() == 0 and layer.bias.sum() == 4


def test_seeded_initialization_is_reproducible_and_glorot_bounded():
    a = Conv2D(16, 3, seed=42)
    b = Conv2D(16, 3, seed=42)
    c = Conv2D(16, 3, seed=43)
    for layer in (a, b, c):
        layer.build((None, 8, 8, 8))
    assert np.array_equal(a.kernel, b.kernel)
    assert not np.array_equal(a.kernel, c.kernel)
    fan_in, fan_out = 9 * 8, 9 * 16
    limit = math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(a.kernel).max() <= limit
    # uniform on [-limit, limit]: variance limit**2 / 3 (1152 draws: +-10%)
    assert abs(a.kernel.var() / (limit ** 2 / 3) - 1) < 0.1
    assert np.all(a.bias == 0)


@pytest.mark.parametrize("name,std_or_limit", [
    ("he_normal", lambda fi, fo: math.sqrt(2 / fi)),
    ("lecun_normal", lambda fi, fo: math.sqrt(1 / fi)),
    ("glorot_normal", lambda fi, fo: math.sqrt(2 / (fi + fo))),
    ("he_uniform", lambda fi, fo: math.sqrt(6 / fi)),
    ("lecun_uniform", lambda fi, fo: math.sqrt(3 / fi)),
    ("random_normal", lambda fi, fo: 0.05),
    ("random_uniform", lambda fi, fo: 0.05),
])
def test_initializer_scales(name, std_or_limit):
    layer = Conv2D(64, 3, kernel_initializer=name, bias_initializer="ones", seed=0,
                   dtype="float64")
    layer.build((None, 8, 8, 32))
    k = layer.kernel
    target = std_or_limit(9 * 32, 9 * 64)
    assert np.all(layer.bias == 1)
    if name.endswith("uniform"):
        assert np.abs(k).max() <= target
        assert abs(k.std() / (target / math.sqrt(3)) - 1) < 0.03
    else:
        # 18432 draws: the sample std is within 3% (truncated normals are
        # rescaled so that the std is the target)
        assert abs(k.std() / target - 1) < 0.03
        if name != "random_normal":
            assert np.abs(k).max() <= 2 * target / 0.87962566103423978 + 1e-12


def test_callable_initializer_and_zeros():
    layer = Conv1D(2, 2, kernel_initializer=lambda shape, dtype: np.ones(shape, dtype),
                   bias_initializer="zeros")
    layer.build((1, 5, 3))
    assert np.all(layer.kernel == 1) and layer.kernel.dtype == np.float32
    bad = Conv1D(2, 2, kernel_initializer=lambda shape, dtype: np.ones(3))
    with pytest.raises(ValueError, match=r"initializer .* returned shape \(3,\), expected"):
        bad.build((1, 5, 3))


def test_config_repr_name_and_defaults():
    layer = Conv2D(8, 3)
    cfg = layer.get_config()
    assert cfg["strides"] == (1, 1) and cfg["padding"] == "valid"
    assert cfg["data_format"] == "channels_last" and cfg["dilation_rate"] == (1, 1)
    assert cfg["groups"] == 1 and cfg["activation"] is None and cfg["use_bias"] is True
    assert cfg["kernel_initializer"] == "glorot_uniform"
    assert cfg["bias_initializer"] == "zeros" and cfg["trainable"] is True
    assert cfg["dtype"] == "float32"
    assert "Conv2D(filters=8" in repr(layer)
    assert Conv2D(1, 1, data_format=None).data_format == "channels_last"
    assert Conv2D(1, 1, padding="SAME").padding == "same"
    assert layer.name.startswith("conv2d")


def test_fastconv_layers_module_is_exposed():
    assert fastconv.layers.Conv2D is Conv2D


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("make,exc,match", [
    (lambda: Conv2D(0, 3), ValueError, r"filters must be a positive int, got filters=0"),
    (lambda: Conv2D(-2, 3), ValueError, r"filters must be a positive int, got filters=-2"),
    (lambda: Conv2D(2.5, 3), TypeError, r"filters must be an int, got float 2.5"),
    (lambda: Conv2D(4, 3, groups=0), ValueError,
     r"groups must be a positive int, got groups=0"),
    (lambda: Conv2D(4, 3, groups="2"), TypeError, r"groups must be an int"),
    (lambda: Conv2D(6, 3, groups=4), ValueError,
     r"filters must be divisible by groups, got filters=6 and groups=4"),
    (lambda: Conv2D(4, (3, 0)), ValueError, r"kernel_size must be >= 1 on every axis"),
    (lambda: Conv2D(4, (3, 3, 3)), ValueError, r"kernel_size must be an int or a tuple of 2"),
    (lambda: Conv2D(4, 3, strides=0), ValueError, r"strides must be >= 1 on every axis"),
    (lambda: Conv2D(4, 3, dilation_rate=[1, 0]), ValueError,
     r"dilation_rate must be >= 1 on every axis"),
    (lambda: Conv2D(4, 3, padding="reflect"), ValueError, r"padding must be 'valid', 'same'"),
    (lambda: Conv2D(4, 3, data_format="NHWC"), ValueError,
     r"data_format must be 'channels_last', 'channels_first' or None"),
    (lambda: Conv2D(4, 3, activation="swish"), ValueError,
     r"activation must be None, a callable or one of"),
    (lambda: Conv2D(4, 3, kernel_initializer="orthogonal"), ValueError,
     r"kernel_initializer must be a callable\(shape, dtype\) or one of"),
    (lambda: Conv2D(4, 3, bias_initializer=3), ValueError,
     r"bias_initializer must be a callable\(shape, dtype\) or one of"),
    (lambda: Conv2D(4, 3, dtype="float16"), ValueError,
     r"dtype must be 'float32' or 'float64', got 'float16'"),
    (lambda: Conv2D(4, 3, dtype="banana"), TypeError, r"dtype must be 'float32' or 'float64'"),
    (lambda: Conv2D(4, 3, use_bias="yes"), TypeError, r"use_bias must be a bool"),
])
def test_constructor_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_build_and_call_errors():
    layer = Conv2D(4, 3, groups=2, name="c")
    with pytest.raises(AttributeError, match=r"layer 'c' is not built yet.*`kernel`"):
        layer.kernel
    with pytest.raises(AttributeError, match=r"layer 'c' is not built yet.*`bias`"):
        layer.bias
    with pytest.raises(AttributeError, match=r"layer 'c' is not built yet: call "
                                             r"build\(input_shape\) before setting `kernel`"):
        layer.kernel = np.zeros((3, 3, 1, 4))
    with pytest.raises(ValueError, match=r"layer 'c' is not built yet, so it has no "
                                         r"parameters to count"):
        layer.count_params()
    with pytest.raises(RuntimeError, match=r"layer 'c': backward\(\) needs a forward\(\) call"):
        layer.backward(np.zeros((1, 3, 3, 4)))
    with pytest.raises(ValueError, match=r"layer 'c' \(Conv2D\) expects an input shape of "
                                         r"rank 4"):
        layer.build((None, 8, 3))
    with pytest.raises(ValueError, match=r"the channel axis of input_shape \(None, 8, 8, "
                                         r"None\) must be known"):
        layer.build((None, 8, 8, None))
    with pytest.raises(ValueError, match=r"layer 'c': input channels \(3\) must be divisible "
                                         r"by groups \(2\)"):
        layer.build((None, 8, 8, 3))
    with pytest.raises(ValueError, match=r"gives an output of size 0 \(< 1\) on spatial "
                                         r"axis 1"):
        layer.build((None, 8, 2, 4))
    with pytest.raises(ValueError, match=r"layer 'c' \(Conv2D\) expects inputs of rank 4"):
        layer(np.zeros((8, 8, 4)))
    with pytest.raises(TypeError, match=r"layer 'c': inputs must be real numbers"):
        layer(np.zeros((1, 8, 8, 4), dtype=complex))
    y = layer(np.zeros((1, 8, 8, 4)))
    with pytest.raises(ValueError, match=r"layer 'c' was built for 4 input channels, got "
                                         r"inputs of shape \(1, 8, 8, 6\)"):
        layer(np.zeros((1, 8, 8, 6)))
    with pytest.raises(ValueError, match=r"layer 'c': grad_out must have the output's shape "
                                         r"\(1, 6, 6, 4\), got \(1, 6, 6, 3\)"):
        layer.backward(np.zeros((1, 6, 6, 3)))
    with pytest.raises(ValueError, match=r"layer 'c' expects a list of 2 weight arrays in "
                                         r"set_weights, got 1"):
        layer.set_weights([np.zeros((3, 3, 2, 4))])
    with pytest.raises(ValueError, match=r"layer 'c': weight of shape \(4,\) cannot be set "
                                         r"from an array of shape \(5,\)"):
        layer.set_weights([np.zeros((3, 3, 2, 4)), np.zeros(5)])
    with pytest.raises(ValueError, match=r"layer 'c': kernel must have shape \(3, 3, 2, 4\), "
                                         r"got \(3, 3, 4\)"):
        layer.kernel = np.zeros((3, 3, 4))
    assert y.shape == (1, 6, 6, 4)
    nobias = Conv1D(2, 1, use_bias=False, name="nb")
    nobias.build((1, 3, 1))
    with pytest.raises(ValueError, match=r"layer 'nb' has no bias \(use_bias=False\)"):
        nobias.bias = np.zeros(2)
    cal = Conv1D(2, 1, activation=np.sin)
    cal(np.ones((1, 3, 1)))
    with pytest.raises(TypeError, match=r"activation: a callable activation has no known "
                                        r"derivative"):
        cal.backward(np.ones((1, 3, 2)))


def test_layer_keeps_packed_weights_until_they_change(monkeypatch):
    """The packed kernel is reused while the weights are unchanged, and an
    in-place update of the kernel (a training step) is seen at once."""
    from fastconv import _engine
    packs = []
    real = _engine._pack_blocks

    def counting(*args):
        packs.append(1)
        return real(*args)
    monkeypatch.setattr(_engine, "_pack_blocks", counting)
    rng = np.random.default_rng(0)
    layer = fastconv.layers.Conv2D(8, 3, padding="same", data_format="channels_first")
    x = rng.standard_normal((2, 6, 12, 12)).astype(np.float32)
    y1 = layer(x)
    n = len(packs)
    assert n >= 1
    assert np.array_equal(layer(x), y1)
    assert len(packs) == n                      # unchanged weights: no new packing
    layer.kernel -= 0.1 * np.ones_like(layer.kernel)   # in place, as a training step
    y2 = layer(x)
    assert len(packs) == n + 1
    ref = fastconv.conv2d(x, np.ascontiguousarray(layer.kernel.transpose(3, 2, 0, 1)),
                          layer.bias, padding="same")
    np.testing.assert_array_equal(y2, ref)
    assert not np.array_equal(y2, y1)
