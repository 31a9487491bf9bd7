"""Gradients of the CNN functions: conv_backward, conv_grad_input, conv_grad_weight.

Three independent checks:

* **Finite differences** (float64, small cases of every forward option: rank
  1-3, stride, dilation, stride + dilation, every padding spec, every
  padding mode, groups and depthwise, both data formats).  The loss is
  ``L = sum(gy * conv(x, w, b))`` with a fixed random ``gy``, so its exact
  gradients are what ``conv_backward(gy, ...)`` returns.  ``L`` is linear
  in each argument, so a central difference has no truncation error, only
  rounding: about ``u * sum|terms of L| / eps`` with u = 2**-53 and eps = 1
  (observed: <= 3e-14 * scale).  Tolerance: ``1e-10 * scale`` where
  ``scale = sum_j |gy_j| * |d y_j / d a_i|``-like magnitude, here simply
  ``1 + sum |gy| * max|y-terms|`` (see :func:`check_fd`).  Nonlinear
  activations use eps = 1e-5 (truncation ~ eps**2 * |f'''| ~ 1e-10,
  rounding ~ 1e-11 relative; observed <= 2e-9 relative): tolerance
  ``1e-6 * (1 + |grad|)``.
* **Adjoint identities**, exact for the linear maps on whole arrays:
  ``<gy, conv(v)> == <conv_grad_input(gy), v>`` for a random ``v``.
* **PyTorch autograd** (``torch.autograd.grad``, float64 and float32) on
  larger cases; float32 tolerance is the worst-case summation bound of
  ``conftest.float32_tolerance`` with the number of products per gradient
  element (``F/groups * prod(K)`` for the input, ``N * prod(O)`` for the
  weight, ``N * prod(O)`` for the bias) and a magnitude scale from the
  same sums on absolute values (computed in float64).
"""

import math

import numpy as np
import pytest

import fastconv
from fastconv import conv, conv_backward, conv_grad_input, conv_grad_weight
from fastconv import _activations, _autograd
from conftest import float32_tolerance

MODES = ("zeros", "reflect", "replicate", "circular")
FORMATS = ("channels_first", "channels_last")

# Geometries: batch N, groups G, channels per group Cg, filters per group Fg,
# input S, kernel K, stride s, dilation d.
GEOMS = {
    1: [
        dict(N=2, G=1, Cg=2, Fg=2, S=(9,), K=(3,), s=(1,), d=(1,)),
        dict(N=1, G=1, Cg=2, Fg=1, S=(10,), K=(4,), s=(3,), d=(1,)),
        dict(N=2, G=2, Cg=1, Fg=1, S=(11,), K=(3,), s=(2,), d=(2,)),   # depthwise, s + d
        dict(N=1, G=2, Cg=2, Fg=1, S=(9,), K=(2,), s=(1,), d=(3,)),
        dict(N=1, G=1, Cg=1, Fg=2, S=(8,), K=(1,), s=(2,), d=(1,)),    # 1-tap kernel
        dict(N=1, G=1, Cg=1, Fg=1, S=(12,), K=(3,), s=(4,), d=(2,)),   # gcd(s, d) = 2
    ],
    2: [
        dict(N=2, G=1, Cg=2, Fg=2, S=(6, 7), K=(3, 3), s=(1, 1), d=(1, 1)),
        dict(N=1, G=1, Cg=2, Fg=2, S=(7, 6), K=(2, 3), s=(2, 1), d=(1, 2)),
        dict(N=1, G=2, Cg=1, Fg=2, S=(7, 7), K=(3, 2), s=(2, 3), d=(2, 1)),
    ],
    3: [
        dict(N=1, G=1, Cg=2, Fg=2, S=(4, 5, 4), K=(2, 3, 2), s=(1, 1, 1), d=(1, 1, 1)),
        dict(N=1, G=2, Cg=1, Fg=1, S=(5, 4, 6), K=(2, 2, 3), s=(2, 1, 2), d=(1, 2, 1)),
    ],
}


def padding_specs(rank):
    return ["valid", "same", "causal", "full", 1,
            (2, 0, 1)[:rank],
            ((0, 2), (1, 0), (3, 1))[:rank],
            (5, 4, 4)[:rank]]  # padding beyond the kernel's reach


def to_channels_last(x, w):
    r = w.ndim - 2
    return np.moveaxis(x, 1, -1), np.transpose(w, tuple(range(2, 2 + r)) + (1, 0))


def make(rng, cfg, dtype=np.float64, data_format="channels_first"):
    C, F = cfg["G"] * cfg["Cg"], cfg["G"] * cfg["Fg"]
    x = rng.standard_normal((cfg["N"], C) + cfg["S"]).astype(dtype)
    w = rng.standard_normal((F, cfg["Cg"]) + cfg["K"]).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    if data_format == "channels_last":
        x, w = to_channels_last(x, w)
    return np.ascontiguousarray(x), np.ascontiguousarray(w), b


def valid_geometry(cfg, padding, padding_mode):
    """False when the forward call itself rejects the combination."""
    try:
        pads = fastconv.resolve_padding(padding, cfg["S"], cfg["K"], cfg["s"], cfg["d"])
        fastconv.conv_output_shape(cfg["S"], cfg["K"], cfg["s"], padding, cfg["d"])
    except ValueError:
        return False
    for (lo, hi), n in zip(pads, cfg["S"]):
        if padding_mode == "reflect" and (lo >= n or hi >= n):
            return False
        if padding_mode == "circular" and (lo > n or hi > n):
            return False
    return True


def fd_gradient(loss, a, eps, max_coords=None, rng=None):
    """Central differences of the scalar `loss()` w.r.t. the array `a`
    (modified in place and restored).  Returns (indices, values)."""
    flat = a.reshape(-1)
    idx = np.arange(flat.size)
    if max_coords is not None and flat.size > max_coords:
        idx = np.sort(rng.choice(flat.size, max_coords, replace=False))
    vals = np.empty(idx.size)
    for j, i in enumerate(idx):
        old = flat[i]
        flat[i] = old + eps
        lp = loss()
        flat[i] = old - eps
        lm = loss()
        flat[i] = old
        vals[j] = (lp - lm) / (2 * eps)
    return idx, vals


def check_fd(rng, cfg, padding, padding_mode, data_format, activation=None, max_coords=40):
    x, w, b = make(rng, cfg, np.float64, data_format)
    kw = dict(stride=cfg["s"], padding=padding, dilation=cfg["d"], groups=cfg["G"],
              padding_mode=padding_mode, data_format=data_format)
    y = conv(x, w, b, activation=activation, workers=1, **kw)
    gy = rng.standard_normal(y.shape)
    loss = lambda: float(np.sum(gy * conv(x, w, b, activation=activation, workers=1, **kw)))
    gx, gw, gb = conv_backward(gy, x, w, b, activation=activation, output=y, workers=1, **kw)
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == b.shape
    linear = activation is None
    eps = 1.0 if linear else 1e-5
    # magnitude of the terms of L: sum |gy| * |y|-ish; used as the scale
    scale = 1.0 + float(np.sum(np.abs(gy) * conv(np.abs(x), np.abs(w), np.abs(b),
                                                 workers=1, **kw)))
    for a, g in ((x, gx), (w, gw), (b, gb)):
        idx, fd = fd_gradient(loss, a, eps, max_coords, rng)
        got = g.reshape(-1)[idx]
        if linear:
            tol = 1e-10 * scale
        else:
            tol = 1e-6 * (1 + np.abs(got))
        err = np.abs(got - fd)
        assert np.all(err <= tol), (float(err.max()), tol)


FD_CASES = [(rank, i, p) for rank in (1, 2, 3) for i in range(len(GEOMS[rank]))
            for p in padding_specs(rank)]


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("rank,gi,padding", FD_CASES)
def test_finite_differences_every_geometry_and_padding(rng, rank, gi, padding, data_format):
    cfg = GEOMS[rank][gi]
    if not valid_geometry(cfg, padding, "zeros"):
        pytest.skip("the forward call rejects this geometry")
    check_fd(rng, cfg, padding, "zeros", data_format)


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("padding_mode", MODES[1:])
@pytest.mark.parametrize("rank,gi,padding", [
    (1, 0, "same"), (1, 2, ((3, 1),)), (1, 3, "causal"), (1, 5, "full"),
    (2, 0, ((2, 0), (1, 2))), (2, 2, "same"), (3, 1, 1),
])
def test_finite_differences_padding_modes(rng, rank, gi, padding, padding_mode, data_format):
    cfg = GEOMS[rank][gi]
    if not valid_geometry(cfg, padding, padding_mode):
        pytest.skip("the forward call rejects this geometry")
    check_fd(rng, cfg, padding, padding_mode, data_format)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "gelu", "elu",
                                        "leaky_relu", "linear"])
@pytest.mark.parametrize("data_format", FORMATS)
def test_finite_differences_activations(rng, activation, data_format):
    check_fd(rng, GEOMS[2][1], "same", "reflect", data_format, activation=activation)


def test_finite_differences_rank4(rng):
    # N=2 and Fg=2: the weight-gradient call then has two channels and two
    # filters (one of each hits the engine's known rank>3 channels-last
    # single-channel bug, RANK4_CL_BUG in test_nn.py)
    cfg = dict(N=2, G=1, Cg=2, Fg=2, S=(3, 4, 3, 5), K=(2, 2, 1, 3), s=(1, 2, 1, 2),
               d=(1, 1, 2, 1))
    check_fd(rng, cfg, ((1, 0), (0, 1), (1, 1), (2, 0)), "zeros", "channels_first",
             max_coords=20)


# ---------------------------------------------------------------- adjoints

ADJ_CASES = [(rank, i, p, m) for rank in (1, 2, 3) for i in range(len(GEOMS[rank]))
             for p in padding_specs(rank) for m in MODES]


@pytest.mark.parametrize("rank,gi,padding,padding_mode", ADJ_CASES)
def test_adjoint_identities(rng, rank, gi, padding, padding_mode):
    """<gy, conv(v, w)> == <grad_input(gy), v> and <gy, conv(x, v)> ==
    <grad_weight(gy), v>, exactly up to rounding, for whole arrays."""
    cfg = GEOMS[rank][gi]
    if not valid_geometry(cfg, padding, padding_mode):
        pytest.skip("the forward call rejects this geometry")
    for data_format in FORMATS:
        x, w, _ = make(rng, cfg, np.float64, data_format)
        kw = dict(stride=cfg["s"], padding=padding, dilation=cfg["d"], groups=cfg["G"],
                  padding_mode=padding_mode, data_format=data_format, workers=1)
        y = conv(x, w, **kw)
        gy = rng.standard_normal(y.shape)
        vx = rng.standard_normal(x.shape)
        vw = rng.standard_normal(w.shape)
        lhs_x = np.sum(gy * conv(vx, w, **kw))
        rhs_x = np.sum(conv_grad_input(x.shape, w, gy, **kw) * vx)
        lhs_w = np.sum(gy * conv(x, vw, **kw))
        rhs_w = np.sum(conv_grad_weight(x, w.shape, gy, **kw) * vw)
        # both sides are sums of the same ~1e3 products of O(1) numbers
        assert abs(lhs_x - rhs_x) <= 1e-11 * (1 + np.sum(np.abs(gy)) * np.abs(w).sum())
        assert abs(lhs_w - rhs_w) <= 1e-11 * (1 + np.sum(np.abs(gy)) * np.abs(x).sum())


@pytest.mark.parametrize("padding_mode", MODES[1:])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_fold_padding_is_the_adjoint_of_np_pad(rng, padding_mode, rank):
    spatial = (5, 4, 6)[:rank]
    pads = ((2, 1), (0, 3), (4, 4))[:rank]
    for layout in FORMATS:
        shape = (2, 3) + spatial if layout == "channels_first" else (2,) + spatial + (3,)
        x = rng.standard_normal(shape)
        width = (((0, 0), (0, 0)) + pads if layout == "channels_first"
                 else ((0, 0),) + pads + ((0, 0),))
        xp = np.pad(x, width, mode=_autograd.PADDING_MODES[padding_mode])
        v = rng.standard_normal(xp.shape)
        folded = _autograd._fold_padding(v, pads, spatial, padding_mode, layout)
        assert folded.shape == x.shape
        assert abs(np.sum(xp * v) - np.sum(x * folded)) <= 1e-12 * np.sum(np.abs(xp * v))


# ---------------------------------------------------------------- PyTorch

def torch_grads(x, w, b, gy, stride, pads, dilation, groups, padding_mode, activation=None):
    torch = pytest.importorskip("torch")
    Fn = torch.nn.functional
    rank = w.ndim - 2
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    flat = []
    for lo, hi in reversed(pads):
        flat += [lo, hi]
    mode = "constant" if padding_mode == "zeros" else padding_mode
    xp = Fn.pad(xt, flat, mode=mode) if any(flat) else xt
    f = {1: Fn.conv1d, 2: Fn.conv2d, 3: Fn.conv3d}[rank]
    y = f(xp, wt, bt, stride=stride, dilation=dilation, groups=groups)
    if activation == "relu":
        y = torch.relu(y)
    elif activation == "tanh":
        y = torch.tanh(y)
    elif activation == "gelu":
        y = Fn.gelu(y)
    gx, gw, gb = torch.autograd.grad(y, (xt, wt, bt), torch.tensor(gy))
    return gx.numpy(), gw.numpy(), gb.numpy()


TORCH_GEOMS = {
    1: dict(N=3, G=2, Cg=4, Fg=3, S=(40,), K=(5,), s=(2,), d=(2,)),
    2: dict(N=2, G=2, Cg=3, Fg=4, S=(17, 14), K=(3, 4), s=(2, 1), d=(1, 2)),
    3: dict(N=2, G=1, Cg=3, Fg=4, S=(8, 9, 7), K=(3, 2, 3), s=(1, 2, 2), d=(2, 1, 1)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("padding_mode", MODES)
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_vs_pytorch_autograd(rng, rank, padding_mode, data_format, dtype):
    pytest.importorskip("torch")
    cfg = TORCH_GEOMS[rank]
    padding = ((3, 1), (2, 2), (1, 0))[:rank]
    x, w, b = make(rng, cfg, dtype)
    # workers=1: the machine running the suite may be shared, and tiny
    # multi-threaded calls then wait for a descheduled thread
    kw = dict(stride=cfg["s"], padding=padding, dilation=cfg["d"], groups=cfg["G"],
              padding_mode=padding_mode, workers=1)
    y = conv(x, w, b, **kw)
    gy = rng.standard_normal(y.shape).astype(dtype)
    ref = torch_grads(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                      gy.astype(np.float64), cfg["s"], padding, cfg["d"], cfg["G"],
                      padding_mode)
    if data_format == "channels_first":
        got = conv_backward(gy, x, w, b, **kw)
    else:
        xl, wl = to_channels_last(x, w)
        gxl, gwl, gb = conv_backward(np.moveaxis(gy, 1, -1), xl, wl, b,
                                     data_format=data_format, **kw)
        got = (np.moveaxis(gxl, -1, 1), np.transpose(gwl, (rank + 1, rank) +
                                                     tuple(range(rank))), gb)
    for g in got:
        assert g.dtype == np.dtype(dtype)
    # magnitude scales: the same gradients of |values| (float64)
    scale = conv_backward(np.abs(gy.astype(np.float64)), np.abs(x.astype(np.float64)),
                          np.abs(w.astype(np.float64)), np.abs(b.astype(np.float64)), **kw)
    n_out = math.prod(y.shape[2:])
    terms = (cfg["Fg"] * math.prod(cfg["K"]), cfg["N"] * n_out, cfg["N"] * n_out)
    for g, r, s, m in zip(got, ref, scale, terms):
        if dtype == np.float64:
            tol = 1e-12 * s + 1e-300
        else:
            # the padding modes may add up to prod(pad/n + 1) <= 4**rank
            # copies of a cell's terms into one input gradient element
            tol = float32_tolerance(m * 4 ** rank, s) + 1e-30
        err = np.abs(g.astype(np.float64) - r)
        assert np.all(err <= tol), float((err / np.maximum(tol, 1e-300)).max())


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_activation_vs_pytorch(rng, activation):
    pytest.importorskip("torch")
    cfg = TORCH_GEOMS[2]
    x, w, b = make(rng, cfg)
    kw = dict(stride=cfg["s"], padding="same", dilation=cfg["d"], groups=cfg["G"], workers=1)
    pads = fastconv.resolve_padding("same", cfg["S"], cfg["K"], cfg["s"], cfg["d"])
    y = conv(x, w, b, activation=activation, **kw)
    gy = rng.standard_normal(y.shape)
    ref = torch_grads(x, w, b, gy, cfg["s"], pads, cfg["d"], cfg["G"], "zeros", activation)
    for output in (None, y):
        got = conv_backward(gy, x, w, b, activation=activation, output=output, **kw)
        for g, r in zip(got, ref):
            np.testing.assert_allclose(g, r, rtol=1e-11, atol=1e-11)


def test_benchmark_backward_shape_vs_pytorch_float32(rng):
    """The benchmarks page's backward layer's geometry (64->64, 3x3, padding 1),
    shrunk to N=2 and 14x14 to keep the suite fast."""
    pytest.importorskip("torch")
    x = rng.standard_normal((2, 64, 14, 14)).astype(np.float32)
    w = rng.standard_normal((64, 64, 3, 3)).astype(np.float32)
    b = np.zeros(64, np.float32)
    gy = rng.standard_normal((2, 64, 14, 14)).astype(np.float32)
    ref = torch_grads(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                      gy.astype(np.float64), (1, 1), ((1, 1), (1, 1)), (1, 1), 1, "zeros")
    got = conv_backward(gy, x, w, b, padding=1)
    scale = conv_backward(np.abs(gy).astype(np.float64), np.abs(x).astype(np.float64),
                          np.abs(w).astype(np.float64), b.astype(np.float64), padding=1)
    for g, r, s, m in zip(got, ref, scale, (64 * 9, 2 * 196, 2 * 196)):
        assert np.all(np.abs(g - r) <= float32_tolerance(m, s) + 1e-30)


# ---------------------------------------------------------------- behaviour

@pytest.mark.parametrize("data_format", FORMATS)
def test_workers_1_and_2_are_bitwise_equal(rng, data_format):
    cfg = GEOMS[2][2]
    x, w, b = make(rng, cfg, np.float32, data_format)
    kw = dict(stride=cfg["s"], padding="same", dilation=cfg["d"], groups=cfg["G"],
              padding_mode="reflect", data_format=data_format)
    y = conv(x, w, b, **kw)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    one = conv_backward(gy, x, w, b, workers=1, **kw)
    two = conv_backward(gy, x, w, b, workers=2, **kw)
    for a, c in zip(one, two):
        assert np.array_equal(a, c)


@pytest.mark.parametrize("data_format", FORMATS)
def test_unbatched_and_separate_functions_agree(rng, data_format):
    cfg = GEOMS[2][1]
    x, w, b = make(rng, cfg, np.float64, data_format)
    kw = dict(stride=cfg["s"], padding="causal", dilation=cfg["d"], groups=cfg["G"],
              data_format=data_format, workers=1)
    y = conv(x, w, b, **kw)
    gy = rng.standard_normal(y.shape)
    gx, gw, gb = conv_backward(gy, x, w, b, **kw)
    assert np.array_equal(conv_grad_input(x.shape, w, gy, **kw), gx)
    assert np.array_equal(conv_grad_weight(x, w.shape, gy, **kw), gw)
    gx0, gw0, gb0 = conv_backward(gy[0], x[0], w, b, **kw)
    np.testing.assert_allclose(gx0, gx[0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(gw0, conv_grad_weight(x[:1], w.shape, gy[:1], **kw),
                               rtol=1e-13, atol=1e-13)
    assert conv_grad_input(x.shape[1:], w, gy[0], **kw).shape == x.shape[1:]
    # skipped gradients and a missing bias come back as None
    gx1, gw1, gb1 = conv_backward(gy, x, w, None, input_grad=False, **kw)
    assert gx1 is None and gb1 is None and np.array_equal(gw1, gw)
    gx2, gw2, _ = conv_backward(gy, x, w, b, weight_grad=False, **kw)
    assert gw2 is None and np.array_equal(gx2, gx)


@pytest.mark.parametrize("data_format", FORMATS)
def test_empty_batch_gives_zero_gradients(data_format):
    cfg = GEOMS[2][2]
    x, w, b = make(np.random.default_rng(0), dict(cfg, N=0), np.float32, data_format)
    y = conv(x, w, b, stride=cfg["s"], dilation=cfg["d"], groups=cfg["G"],
             data_format=data_format)
    gx, gw, gb = conv_backward(y, x, w, b, stride=cfg["s"], dilation=cfg["d"],
                               groups=cfg["G"], data_format=data_format)
    assert gx.shape == x.shape and gw.shape == w.shape
    assert np.all(gw == 0) and np.all(gb == 0)


@pytest.mark.parametrize("data_format", FORMATS)
def test_non_contiguous_and_reversed_views(rng, data_format):
    x = rng.standard_normal((2, 4, 9, 12))[:, :, ::-1, ::2]
    w = rng.standard_normal((6, 2, 3, 3))[..., ::-1, :]
    if data_format == "channels_last":
        x, w = to_channels_last(x, w)  # views, not copies
    kw = dict(padding="same", groups=2, data_format=data_format, workers=1)
    y = conv(x, w, **kw)
    gy = rng.standard_normal(y.shape)[..., ::-1]
    got = conv_backward(gy, x, w, **kw)
    ref = conv_backward(np.ascontiguousarray(gy), np.ascontiguousarray(x),
                        np.ascontiguousarray(w), **kw)
    for a, c in zip(got[:2], ref[:2]):
        assert np.array_equal(a, c)


def test_float32_stays_float32_and_inputs_are_not_modified(rng):
    cfg = GEOMS[1][2]
    x, w, b = make(rng, cfg, np.float32)
    y = conv(x, w, b, stride=cfg["s"], dilation=cfg["d"], groups=cfg["G"])
    gy = rng.standard_normal(y.shape).astype(np.float32)
    copies = [a.copy() for a in (x, w, b, gy)]
    out = conv_backward(gy, x, w, b, stride=cfg["s"], dilation=cfg["d"], groups=cfg["G"],
                        padding_mode="circular")
    assert all(g.dtype == np.float32 for g in out)
    for a, c in zip((x, w, b, gy), copies):
        assert np.array_equal(a, c)
    # float64 grad_out promotes
    g64 = conv_backward(gy.astype(np.float64), x, w, b, stride=cfg["s"], dilation=cfg["d"],
                        groups=cfg["G"])
    assert all(g.dtype == np.float64 for g in g64)


def test_activation_derivative_needs_pre_activation_for_gelu():
    with pytest.raises(ValueError, match=r"activation='gelu' needs the pre-activation"):
        _activations.activation_grad(np.ones(3), "gelu", out=np.ones(3))


# ---------------------------------------------------------------- errors

X = np.zeros((2, 4, 6, 6))
W = np.zeros((6, 2, 3, 3))
GY = np.zeros((2, 6, 4, 4))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: conv_backward(GY[:, :, :3], X, W, groups=2), ValueError,
     r"conv_backward: grad_out must have the forward output's shape \(2, 6, 4, 4\)"),
    (lambda: conv_backward(GY, X.astype(np.int64), W, groups=2), TypeError,
     r"conv_backward: x has unsupported dtype int64"),
    (lambda: conv_backward(GY, X, W.astype(np.complex128), groups=2), TypeError,
     r"conv_backward: weight has unsupported dtype complex128"),
    (lambda: conv_backward(GY, X, W, np.zeros(5), groups=2), ValueError,
     r"conv_backward: bias must have shape \(6,\)"),
    (lambda: conv_backward(GY, X, W, groups=2, activation=np.tanh), TypeError,
     r"activation: a callable activation has no known derivative"),
    (lambda: conv_backward(GY, X, W, groups=2, activation="swish"), ValueError,
     r"activation must be None, a callable or one of"),
    (lambda: conv_backward(GY, X, W, groups=2, activation="relu", output=GY[0]), ValueError,
     r"conv_backward: output must have the forward output's shape"),
    (lambda: conv_backward(GY, X, W, groups=2, data_format="NCHW"), ValueError,
     r"data_format must be 'channels_first' or 'channels_last'"),
    (lambda: conv_backward(GY, X, W, groups=2, padding_mode="mirror"), ValueError,
     r"padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular'"),
    (lambda: conv_backward(GY, X, W, groups=3), ValueError,
     r"groups=3 must divide the input channels \(4\)"),
    (lambda: conv_backward(GY, X, np.zeros((5, 1, 3, 3)), groups=4), ValueError,
     r"groups=4 must divide the output channels / filters \(5\)"),
    (lambda: conv_backward(GY, X, W, groups=True), TypeError, r"groups must be an int"),
    (lambda: conv_backward(GY, X, W, groups=0), ValueError, r"groups must be a positive int"),
    (lambda: conv_backward(GY, X, W), ValueError,
     r"conv_backward: input has 4 channels but weight expects 2 \* groups\(1\) = 2"),
    (lambda: conv_backward(GY, X[0, 0], W, groups=2), ValueError,
     r"conv_backward: input must have 4 dimensions \(batched\) or 3"),
    (lambda: conv_backward(GY, X, np.zeros((6, 2)), groups=2), ValueError,
     r"conv_backward: weight must have at least 3 dimensions"),
    (lambda: conv_backward(GY, X, np.zeros((6, 2, 0, 3)), groups=2), ValueError,
     r"conv_backward: kernel sizes must be >= 1"),
    (lambda: conv_backward(GY, X, np.zeros((6, 2, 7, 3)), groups=2), ValueError,
     r"output size would be 0 \(< 1\) on spatial axis 0"),
    (lambda: conv_backward(GY, X, W, groups=2, padding=6, padding_mode="reflect"),
     ValueError, r"padding_mode='reflect' needs padding < input size"),
    (lambda: conv_backward(GY, X, W, groups=2, padding=7, padding_mode="circular"),
     ValueError, r"padding_mode='circular' needs padding <= input size"),
    (lambda: conv_backward(GY, X, W, groups=2, stride=0), ValueError,
     r"stride must be >= 1"),
    (lambda: conv_grad_input((2, 4, 6.0, 6), W, GY, groups=2), TypeError,
     r"input_shape must be a tuple of ints"),
    (lambda: conv_grad_input(5, W, GY, groups=2), TypeError,
     r"input_shape must be a tuple of ints, got int 5"),
    (lambda: conv_grad_input((2, 4, -6, 6), W, GY, groups=2), ValueError,
     r"input_shape must not contain negative sizes"),
    (lambda: conv_grad_input(X.shape, W.astype(np.int32), GY, groups=2), TypeError,
     r"conv_grad_input: weight has unsupported dtype int32"),
    (lambda: conv_grad_weight(X, (6, 2, 3), GY, groups=2), ValueError,
     r"conv_grad_weight: input must have 3 dimensions \(batched\) or 2"),
    (lambda: conv_grad_weight(X, (6, 2, 3, 3), GY.astype(np.float16), groups=2), TypeError,
     r"conv_grad_weight: grad_out has unsupported dtype float16"),
    (lambda: conv_grad_weight(X, (6, 2, 3, 3), GY, groups=2, workers=0), ValueError,
     r"workers must be a non-zero int or None"),
])
def test_error_messages(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_public_names():
    for name in ("conv_backward", "conv_grad_input", "conv_grad_weight"):
        assert name in fastconv.__all__
        assert getattr(fastconv, name).__module__ == "fastconv._autograd"


# ---------------------------------------------------------------- property

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


@st.composite
def geometries(draw):
    rank = draw(st.integers(1, 2))
    G = draw(st.integers(1, 2))
    cfg = dict(N=draw(st.integers(1, 2)), G=G, Cg=draw(st.integers(1, 2)),
               Fg=draw(st.integers(1, 2)))
    K = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    s = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    d = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    pads = tuple((draw(st.integers(0, 5)), draw(st.integers(0, 5))) for _ in range(rank))
    # an input long enough for at least one output
    S = tuple(max(1, dd * (k - 1) + 1 - lo - hi) + draw(st.integers(0, 6))
              for k, dd, (lo, hi) in zip(K, d, pads))
    cfg.update(S=S, K=K, s=s, d=d)
    mode = draw(st.sampled_from(MODES))
    fmt = draw(st.sampled_from(FORMATS))
    return cfg, pads, mode, fmt


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geometries(), st.integers(0, 2 ** 32 - 1))
def test_property_adjoint_identities(geo, seed):
    cfg, pads, mode, fmt = geo
    if not valid_geometry(cfg, pads, mode):
        return
    rng = np.random.default_rng(seed)
    x, w, _ = make(rng, cfg, np.float64, fmt)
    kw = dict(stride=cfg["s"], padding=pads, dilation=cfg["d"], groups=cfg["G"],
              padding_mode=mode, data_format=fmt, workers=1)
    y = conv(x, w, **kw)
    gy = rng.standard_normal(y.shape)
    vx, vw = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    gx, gw, _ = conv_backward(gy, x, w, **kw)
    assert gx.shape == x.shape and gw.shape == w.shape
    scale = 1 + np.sum(np.abs(gy)) * (np.abs(w).sum() + np.abs(x).sum())
    assert abs(np.sum(gy * conv(vx, w, **kw)) - np.sum(gx * vx)) <= 1e-11 * scale
    assert abs(np.sum(gy * conv(x, vw, **kw)) - np.sum(gw * vw)) <= 1e-11 * scale
