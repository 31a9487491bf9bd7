"""fastconv.conv_transpose / conv_transpose1d/2d/3d (PyTorch semantics).

References:

* the **definition** (no PyTorch needed): a transposed convolution is the
  adjoint of the forward convolution, so ``<conv_transpose(x, w), v> ==
  <x, conv(v, w)>`` for every ``v`` when the shapes correspond
  (``output_padding`` only adds trailing positions no input reaches: they
  hold the bias alone).  Checked exactly (up to rounding of ~1e3 products,
  tolerance 1e-11 relative to the sum of |terms|) on whole arrays, and the
  output shape against the formula ``(L-1)s - p_lo - p_hi + d(k-1) + op + 1``;
* a plain NumPy **scatter loop** (``x[n, c, i] * w[c, f, t]`` added at
  ``i*s + t*d - p``) on small 1-D and 2-D cases;
* **PyTorch** (``torch.nn.functional.conv_transpose*d``) on larger cases:
  float64 to ``1e-12 * scale``, float32 to the worst-case summation bound
  ``conftest.float32_tolerance`` with ``m = C_in/groups * prod(K)``
  products, where ``scale`` is the same transposed convolution of absolute
  values in float64.
"""

import itertools
import math

import numpy as np
import pytest

import fastconv
from fastconv import conv, conv_transpose, conv_transpose1d, conv_transpose2d, conv_transpose3d
from conftest import float32_tolerance

FUNCS = {1: conv_transpose1d, 2: conv_transpose2d, 3: conv_transpose3d}
FORMATS = ("channels_first", "channels_last")

# batch N, groups G, input channels per group Cig, output channels per group
# Cog, input L, kernel K, stride s, dilation d, padding p, output_padding op
CASES = {
    1: [
        dict(N=2, G=1, Cig=2, Cog=3, L=(6,), K=(3,), s=(1,), d=(1,), p=(0,), op=(0,)),
        dict(N=1, G=1, Cig=2, Cog=2, L=(5,), K=(4,), s=(3,), d=(1,), p=(1,), op=(2,)),
        dict(N=2, G=2, Cig=1, Cog=1, L=(7,), K=(3,), s=(2,), d=(2,), p=(2,), op=(1,)),
        dict(N=1, G=2, Cig=2, Cog=3, L=(4,), K=(2,), s=(1,), d=(3,), p=(3,), op=(2,)),
        dict(N=1, G=1, Cig=1, Cog=2, L=(5,), K=(1,), s=(2,), d=(1,), p=(0,), op=(1,)),
        dict(N=1, G=1, Cig=1, Cog=1, L=(6,), K=(3,), s=(4,), d=(2,), p=(1,), op=(3,)),
    ],
    2: [
        dict(N=2, G=1, Cig=2, Cog=2, L=(4, 5), K=(3, 3), s=(1, 1), d=(1, 1), p=(1, 1),
             op=(0, 0)),
        dict(N=1, G=1, Cig=3, Cog=2, L=(5, 4), K=(2, 3), s=(2, 3), d=(1, 2), p=(0, 2),
             op=(1, 1)),
        dict(N=1, G=2, Cig=1, Cog=2, L=(4, 4), K=(3, 2), s=(2, 1), d=(2, 1), p=(1, 0),
             op=(1, 0)),
    ],
    3: [
        dict(N=1, G=1, Cig=2, Cog=2, L=(3, 4, 3), K=(2, 3, 2), s=(1, 2, 1), d=(1, 1, 2),
             p=(0, 1, 1), op=(0, 1, 1)),
        dict(N=2, G=2, Cig=1, Cog=1, L=(3, 3, 4), K=(2, 2, 3), s=(2, 2, 1), d=(1, 1, 1),
             p=(1, 0, 2), op=(1, 0, 0)),
    ],
}
ALL = [(rank, i) for rank in CASES for i in range(len(CASES[rank]))]


def make(rng, cfg, dtype=np.float64):
    Cin, Cout = cfg["G"] * cfg["Cig"], cfg["G"] * cfg["Cog"]
    x = rng.standard_normal((cfg["N"], Cin) + cfg["L"]).astype(dtype)
    w = rng.standard_normal((Cin, cfg["Cog"]) + cfg["K"]).astype(dtype)
    b = rng.standard_normal(Cout).astype(dtype)
    return x, w, b


def out_shape(cfg):
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, k, s, d, p, op in
                 zip(cfg["L"], cfg["K"], cfg["s"], cfg["d"], cfg["p"], cfg["op"]))


def call(cfg, x, w, b, data_format="channels_first", **kw):
    rank = len(cfg["L"])
    if data_format == "channels_last":
        x = np.moveaxis(x, 1, -1)
        w = np.transpose(w, tuple(range(2, 2 + rank)) + (1, 0))  # (*K, Cout/G, Cin)
    y = FUNCS[rank](x, w, b, cfg["s"], cfg["p"], cfg["op"], cfg["G"], cfg["d"],
                    data_format=data_format, **kw)
    return np.moveaxis(y, -1, 1) if data_format == "channels_last" else y


def scatter_reference(x, w, b, s, p, op, G, d):
    """The definition, by explicit loops (1-D and 2-D only, small sizes)."""
    rank = x.ndim - 2
    N, Cin = x.shape[:2]
    Cog = w.shape[1]
    K = w.shape[2:]
    Cig = Cin // G
    osp = tuple((n - 1) * ss - 2 * pp + dd * (k - 1) + o + 1 for n, k, ss, dd, pp, o in
                zip(x.shape[2:], K, s, d, p, op))
    out = np.zeros((N, G * Cog) + osp)
    for n, c in itertools.product(range(N), range(Cin)):
        g = c // Cig
        for i in itertools.product(*(range(m) for m in x.shape[2:])):
            for t in itertools.product(*(range(k) for k in K)):
                pos = tuple(ii * ss + tt * dd - pp for ii, tt, ss, dd, pp in
                            zip(i, t, s, d, p))
                if all(0 <= q < m for q, m in zip(pos, osp)):
                    for f in range(Cog):
                        out[(n, g * Cog + f) + pos] += x[(n, c) + i] * w[(c, f) + t]
    return out + b.reshape((1, -1) + (1,) * rank)


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("rank,i", [c for c in ALL if c[0] <= 2])
def test_vs_scatter_loops(rng, rank, i, data_format):
    cfg = CASES[rank][i]
    x, w, b = make(rng, cfg)
    got = call(cfg, x, w, b, data_format, workers=1)
    ref = scatter_reference(x, w, b, cfg["s"], cfg["p"], cfg["op"], cfg["G"], cfg["d"])
    assert got.shape == ref.shape == (cfg["N"], cfg["G"] * cfg["Cog"]) + out_shape(cfg)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rank,i", ALL)
def test_is_the_adjoint_of_conv(rng, rank, i):
    """<conv_transpose(x, w), v> == <x, conv(v, w)>, the weight read as the
    forward's filter bank (F = C_in, C/groups = C_out/groups), zero padding
    p before and enough after (the extra outputs are cropped).  The
    output_padding tail is reached by no input: it only meets zeros."""
    cfg = CASES[rank][i]
    x, w, _ = make(rng, cfg)
    y = call(cfg, x, w, None, workers=1)
    assert y.shape[2:] == out_shape(cfg)
    v = rng.standard_normal(y.shape)
    pads = tuple((p, p + s) for p, s in zip(cfg["p"], cfg["s"]))
    fwd = conv(v, w, stride=cfg["s"], padding=pads, dilation=cfg["d"], groups=cfg["G"],
               workers=1)
    fwd = fwd[(slice(None), slice(None)) + tuple(slice(0, n) for n in cfg["L"])]
    assert fwd.shape == x.shape
    lhs = np.sum(y * v)
    rhs = np.sum(x * fwd)
    assert abs(lhs - rhs) <= 1e-11 * np.sum(np.abs(y) * np.abs(v))
    # output positions in the output_padding tail that no input reaches are 0
    for axis, (n, k, s, d, p, op) in enumerate(zip(cfg["L"], cfg["K"], cfg["s"], cfg["d"],
                                                   cfg["p"], cfg["op"])):
        last = (n - 1) * s + d * (k - 1) - p  # last position an input reaches
        index = [slice(None)] * y.ndim
        index[2 + axis] = slice(last + 1, None)
        assert np.all(y[tuple(index)] == 0)


@pytest.mark.parametrize("rank,i", ALL)
def test_channels_last_matches_channels_first(rng, rank, i):
    cfg = CASES[rank][i]
    x, w, b = make(rng, cfg)
    cf = call(cfg, x, w, b, "channels_first", workers=1)
    cl = call(cfg, x, w, b, "channels_last", workers=1)
    np.testing.assert_allclose(cl, cf, rtol=1e-13, atol=1e-13)


def torch_transpose(x, w, b, cfg):
    torch = pytest.importorskip("torch")
    rank = len(cfg["L"])
    f = getattr(torch.nn.functional, f"conv_transpose{rank}d")
    return f(torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b),
             stride=cfg["s"], padding=cfg["p"], output_padding=cfg["op"], groups=cfg["G"],
             dilation=cfg["d"]).numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("rank,i", ALL)
def test_vs_pytorch(rng, rank, i, data_format, dtype):
    pytest.importorskip("torch")
    cfg = dict(CASES[rank][i])
    # larger than the loop cases
    cfg["N"] += 1
    cfg["L"] = tuple(n + 5 for n in cfg["L"])
    cfg["Cig"] *= 2
    x, w, b = make(rng, cfg, dtype)
    got = call(cfg, x, w, b, data_format)
    assert got.dtype == np.dtype(dtype)
    ref = torch_transpose(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                          cfg)
    assert got.shape == ref.shape
    scale = call(cfg, np.abs(x).astype(np.float64), np.abs(w).astype(np.float64),
                 np.abs(b).astype(np.float64), workers=1)
    if dtype == np.float64:
        tol = 1e-12 * scale + 1e-300
    else:
        tol = float32_tolerance(cfg["Cig"] * math.prod(cfg["K"]), scale) + 1e-30
    assert np.all(np.abs(got - ref) <= tol)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_upsampling_layer_shapes_vs_pytorch(rng, rank):
    """A typical decoder layer: stride 2, kernel 4, padding 1 doubles the size."""
    pytest.importorskip("torch")
    cfg = dict(N=2, G=1, Cig=8, Cog=4, L=(6,) * rank, K=(4,) * rank, s=(2,) * rank,
               d=(1,) * rank, p=(1,) * rank, op=(0,) * rank)
    x, w, b = make(rng, cfg, np.float32)
    got = call(cfg, x, w, b)
    assert got.shape == (2, 4) + (12,) * rank
    ref = torch_transpose(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                          cfg)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_unbatched_nd_and_workers(rng):
    cfg = CASES[2][1]
    x, w, b = make(rng, cfg)
    y = call(cfg, x, w, b)
    y0 = conv_transpose2d(x[0], w, b, cfg["s"], cfg["p"], cfg["op"], cfg["G"], cfg["d"])
    np.testing.assert_allclose(y0, y[0], rtol=1e-13, atol=1e-13)
    # the N-D function takes its rank from the weight
    yn = conv_transpose(x, w, b, cfg["s"], cfg["p"], cfg["op"], cfg["G"], cfg["d"])
    assert np.array_equal(yn, y)
    x32, w32, b32 = (a.astype(np.float32) for a in (x, w, b))
    one = call(cfg, x32, w32, b32, workers=1)
    two = call(cfg, x32, w32, b32, workers=2)
    assert np.array_equal(one, two)


def test_rank4(rng):
    """Rank 4 through the N-D function, against the adjoint identity."""
    x = rng.standard_normal((1, 2, 3, 2, 3, 2))
    w = rng.standard_normal((2, 2, 2, 1, 2, 2))
    y = conv_transpose(x, w, stride=(2, 1, 1, 2), padding=(0, 0, 1, 0), workers=1)
    assert y.shape == (1, 2, 6, 2, 2, 4)
    v = rng.standard_normal(y.shape)
    fwd = conv(v, w, stride=(2, 1, 1, 2), padding=((0, 1), (0, 0), (1, 1), (0, 1)),
               workers=1)
    assert fwd.shape == x.shape
    assert abs(np.sum(y * v) - np.sum(x * fwd)) <= 1e-11 * np.sum(np.abs(y * v))


def test_padding_pairs_extension(rng):
    cfg = CASES[1][0]
    x, w, _ = make(rng, cfg)
    full = conv_transpose1d(x, w)
    cropped = conv_transpose1d(x, w, padding=((1, 2),))
    np.testing.assert_array_equal(cropped, full[..., 1:-2])


def test_doc_example_values():
    x = np.array([[[1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(conv_transpose(x, np.array([[[1.0, 10.0]]]), stride=2),
                                  [[[1, 10, 2, 20, 3, 30]]])


X = np.zeros((1, 4, 5, 5))
W = np.zeros((4, 3, 3, 3))


@pytest.mark.parametrize("fn,exc,match", [
    (lambda: conv_transpose2d(X, W, output_padding=1), ValueError,
     r"output_padding must be smaller than either stride or dilation"),
    (lambda: conv_transpose2d(X, W, stride=2, output_padding=(1, 2)), ValueError,
     r"output_padding must be smaller than either stride or dilation on every axis, "
     r"got output_padding=\(1, 2\)"),
    (lambda: conv_transpose2d(X, W, output_padding=-1), ValueError,
     r"output_padding must be >= 0"),
    (lambda: conv_transpose2d(X, W, padding="same"), ValueError,
     r"conv_transpose2d: padding must be an int, a tuple of ints or a tuple of \(lo, hi\) "
     r"pairs \(no named paddings\), got 'same'"),
    (lambda: conv_transpose2d(X, W, padding=-1), ValueError, r"padding must be >= 0"),
    (lambda: conv_transpose2d(X, W, padding=5), ValueError,
     r"conv_transpose2d: output size would be -3 \(< 1\) on spatial axis 0"),
    (lambda: conv_transpose2d(X[:, :3], W), ValueError,
     r"conv_transpose2d: input has 3 channels but weight of shape \(4, 3, 3, 3\) expects 4"),
    (lambda: conv_transpose2d(X, W, groups=3), ValueError,
     r"groups=3 must divide the input channels \(4\)"),
    (lambda: conv_transpose2d(X, W, groups=0), ValueError, r"groups must be a positive int"),
    (lambda: conv_transpose2d(X, W, groups=2.0), TypeError, r"groups must be an int"),
    (lambda: conv_transpose2d(X, W, np.zeros(4)), ValueError,
     r"conv_transpose2d: bias must have shape \(3,\), got \(4,\)"),
    (lambda: conv_transpose2d(X, W, stride=0), ValueError, r"stride must be >= 1"),
    (lambda: conv_transpose2d(X, W, dilation=(1, 1, 1)), ValueError,
     r"dilation must be an int or a tuple of 2 ints"),
    (lambda: conv_transpose2d(X.astype(np.int32), W), TypeError,
     r"conv_transpose2d: x has unsupported dtype int32"),
    (lambda: conv_transpose2d(X, W.astype(np.complex64)), TypeError,
     r"conv_transpose2d: weight has unsupported dtype complex64"),
    (lambda: conv_transpose2d(X[0, 0], W), ValueError,
     r"conv_transpose2d: input must have 4 dimensions \(batched\) or 3"),
    (lambda: conv_transpose2d(X, W[..., 0]), ValueError,
     r"conv_transpose2d: weight must have 4 dimensions, got shape \(4, 3, 3\)"),
    (lambda: conv_transpose(X, W[:, :, 0, 0]), ValueError,
     r"conv_transpose: weight must have at least 3 dimensions"),
    (lambda: conv_transpose2d(X, W[:, :, :0]), ValueError,
     r"conv_transpose2d: kernel sizes must be >= 1"),
    (lambda: conv_transpose2d(X, W, data_format="NHWC"), ValueError,
     r"data_format must be 'channels_first' or 'channels_last'"),
    (lambda: conv_transpose2d(X, W, workers=0), ValueError,
     r"workers must be a non-zero int or None"),
])
def test_error_messages(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_output_padding_below_dilation_is_allowed_as_in_pytorch(rng):
    pytest.importorskip("torch")
    cfg = dict(N=1, G=1, Cig=2, Cog=2, L=(5,), K=(3,), s=(1,), d=(2,), p=(1,), op=(1,))
    x, w, b = make(rng, cfg)
    got = call(cfg, x, w, b)
    ref = torch_transpose(x, w, b, cfg)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_public_names():
    for name in ("conv_transpose", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d"):
        assert name in fastconv.__all__
        assert getattr(fastconv, name).__module__ == "fastconv._transpose"


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_property_shape_formula_and_adjoint(data):
    rank = data.draw(st.integers(1, 3))
    G = data.draw(st.integers(1, 2))
    L = tuple(data.draw(st.integers(1, 5)) for _ in range(rank))
    K = tuple(data.draw(st.integers(1, 4)) for _ in range(rank))
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(rank))
    d = tuple(data.draw(st.integers(1, 3)) for _ in range(rank))
    op = tuple(data.draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d))
    p = tuple(data.draw(st.integers(0, 3)) for _ in range(rank))
    cfg = dict(N=1, G=G, Cig=data.draw(st.integers(1, 2)), Cog=data.draw(st.integers(1, 2)),
               L=L, K=K, s=s, d=d, p=p, op=op)
    want = out_shape(cfg)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    x, w, _ = make(rng, cfg)
    if min(want) < 1:
        with pytest.raises(ValueError, match=r"output size would be"):
            call(cfg, x, w, None)
        return
    y = call(cfg, x, w, None, workers=1)
    assert y.shape == (1, G * cfg["Cog"]) + want
    v = rng.standard_normal(y.shape)
    pads = tuple((pp, pp + ss) for pp, ss in zip(p, s))
    fwd = conv(v, w, stride=s, padding=pads, dilation=d, groups=G, workers=1)
    fwd = fwd[(slice(None), slice(None)) + tuple(slice(0, n) for n in L)]
    assert abs(np.sum(y * v) - np.sum(x * fwd)) <= 1e-11 * (1 + np.sum(np.abs(y) * np.abs(v)))
