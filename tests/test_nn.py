"""fastconv.nn: conv, conv1d, conv2d, conv3d (PyTorch functional semantics).

Every numerical test compares with two references: the plain NumPy
reference of ``conftest.py`` (``reference_conv``: explicit index padding +
a sum over kernel taps of ``einsum``) and PyTorch (``torch.nn.functional``
with an explicit ``F.pad`` for asymmetric pads and padding modes), computed in
float64/complex128.

Tolerances (see ``conftest.assert_conv_close``):

* float64/complex128: ``|got - ref| <= 1e-12 * scale`` where ``scale =
  sum |terms|`` per output element (the issue's requirement; the worst-case
  rounding bound for these small sums is below 1e-13 * scale).
* float32/complex64: the worst-case bound ``1.1 * (m + 2) * 2**-24 * scale``
  with ``m = C/groups * prod(K)`` products per output (``2m`` for complex,
  whose parts are ``xr*wr - xi*wi`` sums).  It is derived (Higham eq. 3.5:
  one rounding per product, ``gamma_{m+1}`` for the sum in any order), not
  fitted, so a failure means a wrong term rather than unlucky rounding.
  The references are computed in float64 from the same float32 values, so
  their own error (~1e-16 relative) is negligible against this bound.
"""

import contextlib
import math
import warnings

import numpy as np
import pytest

import fastconv
from fastconv import conv, conv1d, conv2d, conv3d, conv_output_shape, resolve_padding
from conftest import (U32, U64, assert_conv_close, float32_tolerance, random_array,
                      reference_conv)

FUNCS = {1: conv1d, 2: conv2d, 3: conv3d}
MODES = ("zeros", "reflect", "replicate", "circular")
DTYPES = (np.float32, np.float64, np.complex64, np.complex128)

# Geometries per spatial rank: batch N, groups G, channels per group Cg,
# filters per group Fg, input S, kernel K, stride s, dilation d.  Together
# they cover odd and even kernels, stride, dilation, stride + dilation,
# plain groups, depthwise (Cg = Fg = 1) and a depth multiplier (Cg=1, Fg=2).
GEOMS = {
    1: [
        dict(N=2, G=1, Cg=2, Fg=3, S=(11,), K=(3,), s=(1,), d=(1,)),
        dict(N=1, G=1, Cg=1, Fg=2, S=(12,), K=(4,), s=(2,), d=(1,)),
        dict(N=2, G=3, Cg=1, Fg=1, S=(10,), K=(2,), s=(3,), d=(2,)),
        dict(N=1, G=2, Cg=2, Fg=2, S=(9,), K=(3,), s=(1,), d=(3,)),
        dict(N=1, G=2, Cg=1, Fg=2, S=(8,), K=(1,), s=(2,), d=(1,)),
    ],
    2: [
        dict(N=2, G=1, Cg=2, Fg=2, S=(7, 8), K=(3, 3), s=(1, 1), d=(1, 1)),
        dict(N=1, G=1, Cg=3, Fg=2, S=(8, 7), K=(2, 4), s=(2, 1), d=(1, 2)),
        dict(N=1, G=2, Cg=1, Fg=1, S=(9, 6), K=(3, 2), s=(2, 3), d=(2, 1)),
        dict(N=2, G=2, Cg=1, Fg=3, S=(6, 6), K=(1, 3), s=(1, 2), d=(1, 2)),
    ],
    3: [
        dict(N=1, G=1, Cg=2, Fg=2, S=(5, 6, 7), K=(3, 2, 3), s=(1, 1, 1), d=(1, 1, 1)),
        dict(N=2, G=2, Cg=1, Fg=1, S=(6, 5, 7), K=(2, 3, 2), s=(2, 1, 2), d=(1, 2, 1)),
        dict(N=1, G=2, Cg=2, Fg=1, S=(7, 5, 6), K=(1, 2, 4), s=(1, 2, 1), d=(2, 1, 1)),
    ],
}


def padding_specs(rank):
    """Every kind of padding spec, for `rank` spatial axes."""
    return [
        "valid", "same", "causal", "full", 1,
        (2, 0, 1)[:rank],  # tuple of ints, per axis
        ((0, 2), (1, 0), (2, 1))[:rank],  # tuple of (lo, hi) pairs
    ]


def to_channels_last(x, w):
    """(N, C, *S) -> (N, *S, C) and (F, Cg, *K) -> (*K, Cg, F)."""
    r = w.ndim - 2
    xl = np.moveaxis(x, 1, -1) if x is not None else None
    wl = np.transpose(w, tuple(range(2, 2 + r)) + (1, 0))
    return xl, wl


def to_layout(out, data_format):
    return out if data_format == "channels_first" else np.moveaxis(out, 1, -1)


def mode_constraint_error(pads, spatial, padding_mode):
    """The message PyTorch-compatible reflect/circular padding must raise, or None."""
    for (lo, hi), n in zip(pads, spatial):
        if padding_mode == "reflect" and (lo >= n or hi >= n):
            return r"padding_mode='reflect' needs padding < input size"
        if padding_mode == "circular" and (lo > n or hi > n):
            return r"padding_mode='circular' needs padding <= input size"
    return None


def make_case(rng, cfg, dtype, bias=True):
    C, F = cfg["G"] * cfg["Cg"], cfg["G"] * cfg["Fg"]
    x = random_array(rng, (cfg["N"], C) + cfg["S"], dtype)
    w = random_array(rng, (F, cfg["Cg"]) + cfg["K"], dtype)
    b = random_array(rng, (F,), dtype) if bias else None
    return x, w, b


def check_case(rng, cfg, padding, padding_mode="zeros", data_format="channels_first",
               dtype=np.float64, bias=True, workers=1, reference="numpy"):
    """Run one fastconv call and compare with a reference (numpy or torch).

    Also checks the output shape against conv_output_shape and the dtype.
    Returns the output (None when the call is expected to raise).
    """
    rank = len(cfg["S"])
    x, w, b = make_case(rng, cfg, dtype, bias)
    s, d, G = cfg["s"], cfg["d"], cfg["G"]
    xx, ww = (x, w) if data_format == "channels_first" else to_channels_last(x, w)
    call = lambda: FUNCS[rank](xx, ww, b, s, padding, d, G, padding_mode=padding_mode,
                               data_format=data_format, workers=workers)
    try:
        pads = resolve_padding(padding, cfg["S"], cfg["K"], s, d)
        out_sp = conv_output_shape(cfg["S"], cfg["K"], s, padding, d)
    except ValueError:  # kernel larger than the padded input
        with pytest.raises(ValueError, match=r"output size would be"):
            call()
        return None
    err = mode_constraint_error(pads, cfg["S"], padding_mode)
    if err is not None:
        with pytest.raises(ValueError, match=err):
            call()
        return None
    got = call()
    F = w.shape[0]
    expected_shape = ((cfg["N"], F) + out_sp if data_format == "channels_first"
                      else (cfg["N"],) + out_sp + (F,))
    assert got.shape == expected_shape
    assert got.dtype == np.dtype(dtype)
    if reference == "numpy":
        ref, scale = reference_conv(x, w, b, s, pads, d, G, padding_mode)
    else:
        ref, scale = torch_reference(x, w, b, s, pads, d, G, padding_mode)
    m = cfg["Cg"] * math.prod(cfg["K"])
    assert_conv_close(got, to_layout(ref, data_format), to_layout(scale, data_format),
                      dtype, m)
    return got


def torch_reference(x, w, b, stride, pads, dilation, groups, padding_mode):
    """PyTorch in float64/complex128: F.pad (mode as given) + conv with padding 0.

    Returns ``(out, scale)`` like the NumPy reference, scale from the same
    torch calls on absolute values."""
    torch = pytest.importorskip("torch")
    Fn = torch.nn.functional
    rank = x.ndim - 2
    conv_t = {1: Fn.conv1d, 2: Fn.conv2d, 3: Fn.conv3d}[rank]
    cdt = np.complex128 if x.dtype.kind == "c" else np.float64
    flat = []
    for lo, hi in reversed(pads):  # F.pad wants the last axis first
        flat += [lo, hi]
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=cdt))
    xt = (Fn.pad(xt, flat) if padding_mode == "zeros"
          else Fn.pad(xt, flat, mode=padding_mode))
    wt = torch.from_numpy(np.ascontiguousarray(w, dtype=cdt))
    bt = None if b is None else torch.from_numpy(np.ascontiguousarray(b, dtype=cdt))
    with torch_single_thread(torch):
        out = conv_t(xt, wt, bt, stride, 0, dilation, groups).numpy()
        scale = conv_t(xt.abs().double(), wt.abs().double(), None if b is None else
                       bt.abs().double(), stride, 0, dilation, groups).numpy()
    return out, scale


@contextlib.contextmanager
def torch_single_thread(torch):
    """Run torch on one thread: these problems are tiny, and torch's thread
    pool spinning next to OpenMP on a shared 2-core machine costs seconds."""
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(prev)


# ---------------------------------------------------------------------------
# Parity with the NumPy reference: every padding spec x padding mode x layout
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("padding_mode", MODES)
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("pspec", range(7))
def test_padding_grid_float64_vs_numpy(rng, rank, pspec, padding_mode, data_format):
    padding = padding_specs(rank)[pspec]
    for cfg in GEOMS[rank]:
        check_case(rng, cfg, padding, padding_mode, data_format)


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("padding", ["same", "pairs"])
def test_dtype_grid_vs_numpy(rng, rank, dtype, data_format, padding):
    padding = padding_specs(rank)[6] if padding == "pairs" else padding
    for i, cfg in enumerate(GEOMS[rank]):
        out = check_case(rng, cfg, padding, MODES[i % 4], data_format, dtype,
                         bias=bool(i % 2))
        assert out is None or out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("padding_mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_vs_pytorch(rng, rank, dtype, padding_mode, data_format):
    pytest.importorskip("torch")
    for padding in ("same", padding_specs(rank)[6], "causal"):
        for cfg in GEOMS[rank]:
            check_case(rng, cfg, padding, padding_mode, data_format, dtype,
                       reference="torch")


@pytest.mark.parametrize("padding_mode", MODES)
@pytest.mark.parametrize("padding", [0, 1, 2, "same", "valid"])
@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_vs_pytorch_conv_modules(rng, rank, k, padding, padding_mode):
    """PyTorch's own padding_mode machinery (nn.ConvNd(padding_mode=...)),
    not our F.pad emulation of it: pins the meaning of the mode names and of
    'same' (stride 1, even kernels included)."""
    torch = pytest.importorskip("torch")
    Conv = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[rank]
    S = (6, 5, 7)[:rank]
    x = rng.standard_normal((2, 3) + S)
    m = Conv(3, 4, k, padding=padding, padding_mode=padding_mode, dilation=1,
             dtype=torch.float64)
    w = m.weight.detach().numpy()
    b = m.bias.detach().numpy()
    with warnings.catch_warnings(), torch_single_thread(torch), torch.no_grad():
        warnings.simplefilter("ignore", UserWarning)  # torch's even-kernel 'same' note
        ref = m(torch.from_numpy(x)).numpy()
    got = FUNCS[rank](x, w, b, 1, padding, padding_mode=padding_mode, workers=1)
    _, scale = reference_conv(x, w, b, 1, resolve_padding(padding, S, k), 1, 1, padding_mode)
    assert got.shape == ref.shape
    assert_conv_close(got, ref, scale, np.float64, 3 * k ** rank)


@pytest.mark.parametrize("padding_mode, pad, ok", [
    ("circular", 4, True), ("circular", 5, False),  # wraps at most once
    ("reflect", 3, True), ("reflect", 4, False),  # pad < size
    ("replicate", 9, True),  # any amount
])
@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
def test_padding_mode_limits_match_pytorch(rng, padding_mode, pad, ok, data_format):
    """Spatial axis 0 has size 4: the largest pad each mode accepts is PyTorch's."""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((1, 2, 4, 5))
    w = rng.standard_normal((3, 2, 2, 3))
    padding = ((pad, pad), (1, 0))
    xx, ww = (x, w) if data_format == "channels_first" else to_channels_last(x, w)
    if not ok:
        with pytest.raises(RuntimeError):
            torch.nn.functional.pad(torch.from_numpy(x), (1, 0, pad, pad), mode=padding_mode)
        with pytest.raises(ValueError, match=rf"padding_mode='{padding_mode}' needs padding"
                                             rf".*spatial axis 0 has size 4"):
            conv2d(xx, ww, padding=padding, padding_mode=padding_mode,
                   data_format=data_format)
        return
    got = conv2d(xx, ww, padding=padding, padding_mode=padding_mode, data_format=data_format)
    ref, scale = torch_reference(x, w, None, (1, 1), padding, (1, 1), 1, padding_mode)
    assert_conv_close(got, to_layout(ref, data_format), to_layout(scale, data_format),
                      np.float64, 12)


# ---------------------------------------------------------------------------
# Batch, unbatched, empty batch, rank 4
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_unbatched_input_gives_unbatched_output(rng, rank, data_format):
    cfg = GEOMS[rank][1]
    x, w, b = make_case(rng, cfg, np.float64)
    if data_format == "channels_last":
        x, w = to_channels_last(x, w)
    batched = FUNCS[rank](x, w, b, cfg["s"], "same", cfg["d"], cfg["G"],
                          data_format=data_format, workers=1)
    single = FUNCS[rank](x[0], w, b, cfg["s"], "same", cfg["d"], cfg["G"],
                         data_format=data_format, workers=1)
    assert single.shape == batched.shape[1:]
    np.testing.assert_array_equal(single, batched[0])


@pytest.mark.parametrize("padding_mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_empty_batch_gives_empty_output_of_the_right_shape(rank, data_format, dtype,
                                                           padding_mode):
    S, K = (6, 7, 5)[:rank], (3, 2, 2)[:rank]
    x = np.zeros((0, 4) + S, dtype)
    w = np.ones((6, 2) + K, dtype)
    if data_format == "channels_last":
        x, w = to_channels_last(x, w)
    out = FUNCS[rank](x, w, np.ones(6, dtype), 2, "same", 1, 2, padding_mode=padding_mode,
                      data_format=data_format, activation="tanh", workers=2)
    osp = conv_output_shape(S, K, 2, "same")
    assert out.shape == ((0, 6) + osp if data_format == "channels_first" else (0,) + osp + (6,))
    assert out.dtype == np.dtype(dtype)


def test_empty_batch_matches_pytorch_shape():
    torch = pytest.importorskip("torch")
    x = np.zeros((0, 2, 9, 8))
    w = np.zeros((3, 2, 3, 2))
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), None,
                                     (2, 1), (1, 0), (1, 2))
    assert conv2d(x, w, None, (2, 1), (1, 0), (1, 2)).shape == tuple(ref.shape)


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_rank4_vs_numpy(rng, dtype, data_format):
    """Spatial rank 4 goes through the engine's decomposition into rank-3
    calls; compare with the (any-rank) NumPy reference."""
    cfg = dict(N=2, G=2, Cg=2, Fg=1, S=(4, 5, 3, 6), K=(2, 3, 1, 2), s=(1, 2, 1, 2),
               d=(2, 1, 1, 1))
    for padding, mode in [("valid", "zeros"), ("same", "zeros"),
                          (((1, 0), (0, 2), (1, 1), (2, 0)), "circular"),
                          ("causal", "replicate"), (1, "reflect")]:
        x, w, b = make_case(rng, cfg, dtype)
        pads = resolve_padding(padding, cfg["S"], cfg["K"], cfg["s"], cfg["d"])
        xx, ww = (x, w) if data_format == "channels_first" else to_channels_last(x, w)
        got = conv(xx, ww, b, cfg["s"], padding, cfg["d"], cfg["G"], padding_mode=mode,
                   data_format=data_format, workers=2)
        ref, scale = reference_conv(x, w, b, cfg["s"], pads, cfg["d"], cfg["G"], mode)
        assert_conv_close(got, to_layout(ref, data_format), to_layout(scale, data_format),
                          dtype, cfg["Cg"] * math.prod(cfg["K"]))
        if dtype != np.complex128:
            relu = conv(xx, ww, b, cfg["s"], padding, cfg["d"], cfg["G"], padding_mode=mode,
                        data_format=data_format, activation="relu", workers=1)
            np.testing.assert_array_equal(relu, np.maximum(got, 0))


@pytest.mark.parametrize("rank, dtype, bias", [
    (4, np.float64, False),
    (5, np.float64, False),
    (4, np.float64, True),
    (5, np.float32, True),
    (4, np.complex128, True),
])
def test_rank_above3_channels_last_single_channel(rng, rank, dtype, bias):
    """One input channel, one filter, groups=1, channels_last, rank > 3."""
    S, K = (4, 3, 3, 4, 3)[:rank], (2, 1, 2, 2, 1)[:rank]
    x = random_array(rng, (1,) + S + (1,), dtype)
    w = random_array(rng, K + (1, 1), dtype)
    b = np.array([0.5], dtype) if bias else None
    got = conv(x, w, b, data_format="channels_last", workers=1)
    ref, scale = reference_conv(x, w, b, 1, 0, 1, 1, data_format="channels_last")
    assert_conv_close(got, ref, scale, dtype, math.prod(K))


def test_rank4_channels_last_single_channel_minimal_reproducer():
    """Minimal reproducer of the bug above."""
    x = np.ones((1, 3, 3, 3, 3, 1))
    w = np.ones((2, 2, 2, 2, 1, 1))
    out = conv(x, w, data_format="channels_last")
    np.testing.assert_array_equal(out, np.full((1, 2, 2, 2, 2, 1), 16.0))


# ---------------------------------------------------------------------------
# dtypes, complex, bias, activations
# ---------------------------------------------------------------------------

def test_float32_stays_float32_and_promotion():
    x32 = np.ones((1, 2, 5), np.float32)
    w32 = np.ones((3, 2, 2), np.float32)
    assert conv1d(x32, w32).dtype == np.float32
    assert conv1d(x32, w32, np.ones(3, np.float64)).dtype == np.float32
    assert conv1d(x32, w32.astype(np.float64)).dtype == np.float64
    assert conv1d(x32, w32.astype(np.complex64)).dtype == np.complex64
    assert conv1d(x32.astype(np.complex64), w32.astype(np.float64)).dtype == np.complex128
    for act in (None, "relu", "sigmoid", "tanh", "gelu", "elu", "leaky_relu"):
        assert conv1d(x32, w32, activation=act).dtype == np.float32, act


def test_complex_is_not_conjugated():
    """CNN convention: sum x * w, no conjugation (SciPy's correlate would
    conjugate w and give +1 here)."""
    x = np.array([[[1j, 2.0]]])
    w = np.array([[[1j]]])
    np.testing.assert_array_equal(conv1d(x, w), np.array([[[-1 + 0j, 2j]]]))
    # the same for channels_last, complex64, and a bias
    got = conv1d(x.astype(np.complex64).transpose(0, 2, 1), w.astype(np.complex64),
                 np.array([1j], np.complex64), data_format="channels_last")
    np.testing.assert_array_equal(got, np.array([[[-1 + 1j], [3j]]], np.complex64))


def test_complex_bias_with_real_inputs_is_not_silently_truncated():
    """A complex bias with real x/w must either promote the result to complex
    or raise a TypeError naming `bias`; dropping the imaginary part (with a
    NumPy ComplexWarning) is wrong."""
    x = np.ones((1, 1, 4))
    w = np.ones((1, 1, 2))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the ComplexWarning fails the test
            out = conv1d(x, w, np.array([1j]))
    except TypeError as e:
        assert "bias" in str(e)
        return
    np.testing.assert_array_equal(out, np.full((1, 1, 3), 2 + 1j))


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bias_is_added_once_per_filter(rng, dtype, data_format):
    """With and without bias, each against the reference (same bound): a
    bias added twice, or to the wrong filter, is far outside it."""
    cfg = GEOMS[2][2]
    x, w, _ = make_case(rng, cfg, dtype)
    b = np.arange(1, w.shape[0] + 1, dtype=dtype) * 10
    xx, ww = (x, w) if data_format == "channels_first" else to_channels_last(x, w)
    kw = dict(stride=cfg["s"], padding="same", dilation=cfg["d"], groups=cfg["G"],
              data_format=data_format, workers=1)
    pads = resolve_padding("same", cfg["S"], cfg["K"], cfg["s"], cfg["d"])
    m = cfg["Cg"] * math.prod(cfg["K"])
    for bias in (None, b):
        got = conv2d(xx, ww, bias, **kw)
        ref, scale = reference_conv(x, w, bias, cfg["s"], pads, cfg["d"], cfg["G"])
        assert_conv_close(got, to_layout(ref, data_format), to_layout(scale, data_format),
                          dtype, m)


def torch_activations():
    torch = pytest.importorskip("torch")
    Fn = torch.nn.functional
    return {
        "linear": lambda t: t,
        "relu": Fn.relu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "gelu": lambda t: Fn.gelu(t, approximate="none"),
        "elu": lambda t: Fn.elu(t, alpha=1.0),
        "leaky_relu": lambda t: Fn.leaky_relu(t, 0.01),
    }


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", [None, "linear", "relu", "sigmoid", "tanh", "gelu",
                                        "elu", "leaky_relu"])
def test_activations_vs_pytorch(rng, activation, dtype, data_format):
    """Each activation applied to the conv output, against torch's.

    Tolerance: the conv bound times the activation's Lipschitz constant
    (<= 1.13 for gelu, 1 for the others; 1.2 used) plus a few unit roundoffs
    of the activation's own evaluation in the output dtype, relative to
    |pre-activation| + |output| (8 ulps; measured errors are <= 2 ulps)."""
    torch = pytest.importorskip("torch")
    acts = torch_activations()
    cfg = GEOMS[2][1]
    x, w, b = make_case(rng, cfg, dtype)
    x *= 3  # spread the pre-activations over the activations' interesting range
    xx, ww = (x, w) if data_format == "channels_first" else to_channels_last(x, w)
    got = conv2d(xx, ww, b, cfg["s"], "same", cfg["d"], cfg["G"], data_format=data_format,
                 activation=activation, workers=1)
    assert got.dtype == np.dtype(dtype)
    pads = resolve_padding("same", cfg["S"], cfg["K"], cfg["s"], cfg["d"])
    pre, scale = torch_reference(x, w, b, cfg["s"], pads, cfg["d"], cfg["G"], "zeros")
    ref = acts[activation or "linear"](torch.from_numpy(pre)).numpy()
    pre, ref, scale = (to_layout(a, data_format) for a in (pre, ref, scale))
    m = cfg["Cg"] * math.prod(cfg["K"])
    u = U32 if dtype == np.float32 else U64
    conv_tol = float32_tolerance(m, scale) if dtype == np.float32 else 1e-12 * scale
    tol = 1.2 * conv_tol + 8 * u * (np.abs(pre) + np.abs(ref)) + 1e-300
    assert np.all(np.abs(got - ref) <= tol), np.max(np.abs(got - ref) / tol)
    if activation == "relu":
        assert (got >= 0).all()


def test_activation_names_are_case_insensitive(rng):
    x, w, b = make_case(rng, GEOMS[1][0], np.float64)
    np.testing.assert_array_equal(conv1d(x, w, b, activation="ReLU"),
                                  conv1d(x, w, b, activation="relu"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_callable_activation(rng, dtype):
    x, w, b = make_case(rng, GEOMS[1][0], dtype)
    seen = []

    def act(y):
        seen.append((y.shape, y.dtype))
        return y * 2 + 1

    plain = conv1d(x, w, b, padding="same", workers=1)
    got = conv1d(x, w, b, padding="same", activation=act, workers=1)
    assert seen == [(plain.shape, plain.dtype)]  # called once, on the whole output
    np.testing.assert_array_equal(got, plain * 2 + 1)


def test_complex_sigmoid_matches_pytorch(rng):
    """torch.sigmoid is defined for complex (1 / (1 + exp(-z)))."""
    torch = pytest.importorskip("torch")
    x, w, b = make_case(rng, GEOMS[1][0], np.complex128)
    plain = conv1d(x, w, b, workers=1)
    ref = torch.sigmoid(torch.from_numpy(plain)).numpy()
    try:
        got = conv1d(x, w, b, activation="sigmoid", workers=1)
    except TypeError:
        return  # refusing complex sigmoid is acceptable too
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_complex_tanh_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    x, w, b = make_case(rng, GEOMS[1][0], np.complex128)
    plain = conv1d(x, w, b, workers=1)
    ref = torch.tanh(torch.from_numpy(plain)).numpy()
    np.testing.assert_allclose(conv1d(x, w, b, activation="tanh", workers=1), ref,
                               rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("activation", ["relu", "gelu", "elu", "leaky_relu"])
def test_real_only_activations_refuse_complex(activation):
    x = np.array([[[1 + 2j, -3 + 1j, 2 - 1j]]])
    w = np.array([[[1.0 + 0j]]])
    with pytest.raises((TypeError, ValueError), match="activation"):
        conv1d(x, w, activation=activation)


@pytest.mark.parametrize("dtype", [">f8", ">f4", ">c16"])
def test_non_native_byte_order_is_accepted(rng, dtype):
    x = random_array(rng, (1, 2, 9), np.dtype(dtype).newbyteorder("="))
    w = random_array(rng, (3, 2, 3), np.dtype(dtype).newbyteorder("="))
    expected = conv1d(x, w, padding="same", workers=1)
    got = conv1d(x.astype(dtype), w.astype(dtype), padding="same", workers=1)
    assert got.dtype.kind == expected.dtype.kind and got.dtype.itemsize == expected.dtype.itemsize
    np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------------------
# Threads: bitwise identical results for workers=1 and workers=2
# ---------------------------------------------------------------------------

THREAD_CASES = [
    # (x shape channels_first, w shape, kwargs): long 1-D rows are split into
    # column blocks by the engine (rows > 8192 columns and few rows)
    ((1, 1, 20000), (1, 1, 7), dict(padding="same")),
    ((1, 1, 9000), (2, 1, 4), dict(padding="full", dilation=3)),
    ((1, 2, 3000), (3, 2, 5), dict(stride=3, dilation=2, padding="same")),
    ((2, 1, 700), (1, 1, 9), dict(padding="causal", padding_mode="replicate")),
    ((2, 4, 17, 23), (6, 2, 3, 4), dict(groups=2, padding=((1, 2), (0, 3)),
                                        padding_mode="reflect")),
    ((1, 3, 5, 6, 300), (2, 3, 2, 2, 3), dict(stride=(1, 2, 1), padding="same")),
    ((1, 3, 4, 5, 6, 7), (3, 1, 2, 2, 2, 2), dict(groups=3, padding=1)),  # rank 4
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("case", range(len(THREAD_CASES)))
def test_workers_1_and_2_are_bitwise_equal(rng, case, data_format, dtype):
    xs, ws, kw = THREAD_CASES[case]
    x = random_array(rng, xs, dtype)
    w = random_array(rng, ws, dtype)
    b = random_array(rng, (ws[0],), dtype)
    if data_format == "channels_last":
        x, w = to_channels_last(x, w)
    one = conv(x, w, b, data_format=data_format, workers=1, **kw)
    two = conv(x, w, b, data_format=data_format, workers=2, **kw)
    assert one.dtype == two.dtype == np.dtype(dtype)
    assert np.array_equal(one.view(np.uint8), two.view(np.uint8))
    relu1 = conv(x.real, w.real, b.real, data_format=data_format, workers=1,
                 activation="relu", **kw)
    relu2 = conv(x.real, w.real, b.real, data_format=data_format, workers=-1,
                 activation="relu", **kw)
    assert np.array_equal(relu1.view(np.uint8), relu2.view(np.uint8))


# ---------------------------------------------------------------------------
# NaN and Inf propagate as in the direct method
# ---------------------------------------------------------------------------

def window_mask(marker, w, stride, pads, dilation, groups, padding_mode):
    """Outputs whose window (after padding) contains a marked input sample."""
    ref, _ = reference_conv(marker.astype(np.float64), np.ones(w.shape), None, stride, pads,
                            dilation, groups, padding_mode)
    return ref > 0


NAN_CASES = [
    # x shape, w shape, stride, dilation, groups, padding, marked positions
    ((2, 2, 13), (3, 2, 3), 1, 1, 1, 1, [(0, 1, 0), (1, 0, 7)]),
    ((1, 2, 15), (2, 1, 4), 2, 2, 2, "same", [(0, 0, 5)]),
    ((1, 3, 6, 7), (3, 1, 3, 2), (2, 1), (1, 2), 3, ((2, 1), (0, 2)), [(0, 2, 5, 6)]),
    ((1, 2, 5, 5, 6), (2, 2, 2, 3, 2), 1, (1, 1, 2), 1, "causal", [(0, 1, 2, 0, 3)]),
]


@pytest.mark.parametrize("padding_mode", ["zeros", "circular", "replicate"])
@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", range(len(NAN_CASES)))
def test_nan_reaches_exactly_the_outputs_that_see_it(rng, case, dtype, data_format,
                                                     padding_mode):
    xs, ws, s, d, g, padding, where = NAN_CASES[case]
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.uniform(0.5, 1.5, ws).astype(dtype) * rng.choice([-1, 1], ws)  # never zero
    marker = np.zeros(xs, bool)
    for p in where:
        x[p] = np.nan
        marker[p] = True
    rank = len(xs) - 2
    pads = resolve_padding(padding, xs[2:], ws[2:], s, d)
    mask = window_mask(marker, w, s, pads, d, g, padding_mode)
    xx, ww = (x, w) if data_format == "channels_first" else to_channels_last(x, w)
    for act in (None, "relu"):
        out = FUNCS[rank](xx, ww, None, s, padding, d, g, padding_mode=padding_mode,
                          data_format=data_format, activation=act, workers=2)
        np.testing.assert_array_equal(np.isnan(out), to_layout(mask, data_format))
    assert mask.any() and not mask.all()


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", range(len(NAN_CASES)))
def test_inf_stays_inf(rng, case, dtype, data_format, sign):
    """One Inf in the input: the outputs that see it are +-Inf (sign of the
    weight it meets), never NaN; the others stay finite."""
    xs, ws, s, d, g, padding, where = NAN_CASES[case]
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.uniform(0.5, 1.5, ws).astype(dtype)  # positive: Inf * w keeps its sign
    x[where[0]] = sign * np.inf
    marker = np.zeros(xs, bool)
    marker[where[0]] = True
    rank = len(xs) - 2
    pads = resolve_padding(padding, xs[2:], ws[2:], s, d)
    mask = to_layout(window_mask(marker, w, s, pads, d, g, "zeros"), data_format)
    xx, ww = (x, w) if data_format == "channels_first" else to_channels_last(x, w)
    out = FUNCS[rank](xx, ww, np.zeros(ws[0], dtype), s, padding, d, g,
                      data_format=data_format, workers=2)
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(np.isinf(out), mask)
    assert (np.sign(out[mask]) == sign).all()


def test_zero_weight_times_inf_is_nan_as_in_the_direct_method():
    x = np.array([[[0.0, 0.0, np.inf, 0.0, 0.0]]])
    w = np.array([[[1.0, 0.0, 1.0]]])
    out = conv1d(x, w)
    assert np.isinf(out[0, 0, 0]) and np.isnan(out[0, 0, 1]) and np.isinf(out[0, 0, 2])


# ---------------------------------------------------------------------------
# Memory layouts of the inputs; inputs never modified
# ---------------------------------------------------------------------------

def _views(rng, base_x, base_w):
    """Pairs (x, w) of awkward memory layouts with the values of base_x/base_w."""
    out = []
    big = np.zeros(base_x.shape[:-1] + (2 * base_x.shape[-1],), base_x.dtype)
    big[..., ::2] = base_x
    out.append(("strided", big[..., ::2], base_w))
    out.append(("negative stride", base_x[..., ::-1].copy()[..., ::-1],
                base_w[:, :, ::-1].copy()[:, :, ::-1]))
    out.append(("fortran", np.asfortranarray(base_x), np.asfortranarray(base_w)))
    ro_x, ro_w = base_x.copy(), base_w.copy()
    ro_x.flags.writeable = False
    ro_w.flags.writeable = False
    out.append(("read-only", ro_x, ro_w))
    bigw = np.zeros((base_w.shape[0] * 2,) + base_w.shape[1:], base_w.dtype)
    bigw[::2] = base_w
    out.append(("strided weight", base_x, bigw[::2]))
    return out


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_awkward_memory_layouts_work_and_are_not_modified(rng, dtype, data_format,
                                                          padding_mode):
    base_x = random_array(rng, (2, 4, 6, 9), dtype)
    base_w = random_array(rng, (6, 2, 3, 2), dtype)
    b = random_array(rng, (12,), dtype)[::2]  # a strided bias too
    kw = dict(stride=(1, 2), padding="same", groups=2, padding_mode=padding_mode,
              data_format=data_format, workers=2)
    cx, cw = (base_x, base_w) if data_format == "channels_first" else to_channels_last(
        base_x, base_w)
    expected = conv2d(np.ascontiguousarray(cx), np.ascontiguousarray(cw),
                      np.ascontiguousarray(b), **kw)
    for name, vx, vw in _views(rng, base_x, base_w):
        if data_format == "channels_last":
            vx, vw = to_channels_last(vx, vw)  # views of views: still awkward
        before = (vx.copy(), vw.copy(), b.copy())
        got = conv2d(vx, vw, b, **kw)
        assert np.array_equal(got, expected), name
        assert not np.shares_memory(got, vx)
        for a, c in zip((vx, vw, b), before):
            assert np.array_equal(a, c), f"{name}: input modified"
    for act in ("relu", "tanh", "gelu"):  # in-place activations act on the output only
        if dtype == np.complex128:
            break
        x_before = cx.copy()
        conv2d(cx, cw, b, activation=act, **kw)
        assert np.array_equal(cx, x_before)


def test_list_inputs_are_accepted():
    np.testing.assert_array_equal(conv1d([[[1.0, 2.0, 3.0]]], [[[1.0, 1.0]]]),
                                  [[[3.0, 5.0]]])


# ---------------------------------------------------------------------------
# Validation: every error path, message pinned
# ---------------------------------------------------------------------------

X2 = np.ones((1, 4, 8, 8))
W2 = np.ones((6, 2, 3, 3))

ERRORS = [
    # (callable, exception, message pattern)
    (lambda: conv2d(np.ones((1, 3, 8, 8)), W2), ValueError,
     r"conv2d: input has 3 channels but weight expects 2 \* groups\(1\) = 2"),
    (lambda: conv2d(X2, np.ones((6, 1, 3, 3)), groups=2), ValueError,
     r"input has 4 channels but weight expects 1 \* groups\(2\) = 2"),
    (lambda: conv2d(np.ones((1, 3, 8, 8)), np.ones((6, 1, 3, 3)), groups=2), ValueError,
     r"groups=2 must divide the input channels \(3\)"),
    (lambda: conv2d(X2, np.ones((5, 2, 3, 3)), groups=2), ValueError,
     r"groups=2 must divide the output channels / filters \(5\)"),
    (lambda: conv2d(np.ones((1, 8, 8, 3)), np.ones((3, 3, 1, 6)), groups=2,
                    data_format="channels_last"), ValueError,
     r"groups=2 must divide the input channels \(3\)"),
    (lambda: conv2d(X2, W2, groups=0), ValueError, r"groups must be a positive int, got 0"),
    (lambda: conv2d(X2, W2, groups=-2), ValueError, r"groups must be a positive int, got -2"),
    (lambda: conv2d(X2, W2, groups=2.0), TypeError, r"groups must be an int, got float 2.0"),
    (lambda: conv2d(X2, W2, groups=True), TypeError, r"groups must be an int, got bool"),
    (lambda: conv2d(X2, W2, groups=2, stride=0), ValueError,
     r"stride must be >= 1 on every axis, got 0"),
    (lambda: conv2d(X2, W2, groups=2, stride=(1, -1)), ValueError,
     r"stride must be >= 1 on every axis, got \(1, -1\)"),
    (lambda: conv2d(X2, W2, groups=2, dilation=0), ValueError,
     r"dilation must be >= 1 on every axis, got 0"),
    (lambda: conv2d(X2, W2, groups=2, dilation=(2, -1)), ValueError,
     r"dilation must be >= 1 on every axis"),
    (lambda: conv2d(X2, W2, groups=2, stride=(1, 1, 1)), ValueError,
     r"stride must be an int or a tuple of 2 ints \(one per spatial axis\)"),
    (lambda: conv2d(X2, W2, groups=2, stride=1.5), TypeError,
     r"stride must be an int or a tuple of 2 ints, got float 1.5"),
    (lambda: conv2d(X2, W2, groups=2, dilation=(1, 2.0)), TypeError,
     r"dilation must contain only ints"),
    # kernel larger than the (padded) input
    (lambda: conv2d(np.ones((1, 4, 2, 8)), W2, groups=2), ValueError,
     r"output size would be 0 \(< 1\) on spatial axis 0.*n=2, k=3.*kernel is larger than "
     r"the padded input"),
    (lambda: conv2d(X2, W2, groups=2, dilation=(1, 4)), ValueError,
     r"on spatial axis 1.*n=8, k=3, s=1, d=4"),
    (lambda: conv1d(np.ones((1, 1, 3)), np.ones((1, 1, 6)), padding=((1, 0),)), ValueError,
     r"output size would be -1 \(< 1\).*p_lo=1, p_hi=0"),
    (lambda: conv2d(X2, np.ones((6, 2, 0, 3)), groups=2), ValueError,
     r"conv2d: kernel sizes must be >= 1, got \(0, 3\)"),
    # ranks
    (lambda: conv2d(np.ones((4, 8)), W2), ValueError,
     r"conv2d: input must have 4 dimensions \(batched\) or 3 \(unbatched\), got shape \(4, 8\)"),
    (lambda: conv2d(np.ones((1, 1, 4, 8, 8)), W2), ValueError,
     r"conv2d: input must have 4 dimensions"),
    (lambda: conv1d(np.ones((1, 1, 4, 8)), np.ones((1, 1, 3))), ValueError,
     r"conv1d: input must have 3 dimensions \(batched\) or 2 \(unbatched\)"),
    (lambda: conv2d(X2, np.ones((6, 2, 3))), ValueError,
     r"conv2d: weight must have 4 dimensions, got shape \(6, 2, 3\)"),
    (lambda: conv3d(np.ones((1, 1, 4, 4, 4)), np.ones((1, 1, 2, 2))), ValueError,
     r"conv3d: weight must have 5 dimensions"),
    (lambda: conv(X2, np.ones((6, 2))), ValueError,
     r"conv: weight must have at least 3 dimensions \(filters, channels/groups, \*kernel\), "
     r"got shape \(6, 2\)"),
    (lambda: conv(np.ones(5), np.ones((3, 3, 2))), ValueError,
     r"conv: input must have 3 dimensions"),
    # padding specs and modes
    (lambda: conv2d(X2, W2, groups=2, padding="foo"), ValueError,
     r"padding must be 'valid', 'same', 'causal', 'full', an int, a tuple of ints or a tuple "
     r"of \(lo, hi\) pairs, got 'foo'"),
    (lambda: conv2d(X2, W2, groups=2, padding=-1), ValueError, r"padding must be >= 0, got -1"),
    (lambda: conv2d(X2, W2, groups=2, padding=((0, -1), (0, 0))), ValueError,
     r"padding must be >= 0"),
    (lambda: conv2d(X2, W2, groups=2, padding=(1, 1, 1)), ValueError,
     r"padding must have one entry per spatial axis \(2\)"),
    (lambda: conv2d(X2, W2, groups=2, padding=1.5), TypeError,
     r"padding must be a str, an int or a tuple, got float 1.5"),
    (lambda: conv2d(X2, W2, groups=2, padding=((1, 1, 1), (0, 0))), ValueError,
     r"padding entries must be ints or \(lo, hi\) pairs, got \(1, 1, 1\)"),
    (lambda: conv2d(X2, W2, groups=2, padding=((1.0, 1), (0, 0))), TypeError,
     r"padding amounts must be ints"),
    (lambda: conv2d(X2, W2, groups=2, padding_mode="mirror"), ValueError,
     r"padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got 'mirror'"),
    (lambda: conv2d(X2, W2, groups=2, padding=8, padding_mode="reflect"), ValueError,
     r"padding_mode='reflect' needs padding < input size on every axis; spatial axis 0 has "
     r"size 8 and padding \(8, 8\)"),
    (lambda: conv2d(X2, W2, groups=2, padding=((0, 0), (0, 9)), padding_mode="circular"),
     ValueError, r"padding_mode='circular' needs padding <= input size on every axis; "
                 r"spatial axis 1 has size 8 and padding \(0, 9\)"),
    (lambda: conv2d(X2, W2, groups=2, data_format="NCHW"), ValueError,
     r"data_format must be 'channels_first' or 'channels_last', got 'NCHW'"),
    (lambda: conv2d(X2, W2, groups=2, activation="softmax"), ValueError,
     r"activation must be None, a callable or one of linear, relu, sigmoid, tanh, gelu, elu, "
     r"leaky_relu, got 'softmax'"),
    # dtypes
    (lambda: conv2d(X2.astype(np.int64), W2, groups=2), TypeError,
     r"conv2d: unsupported dtype int64"),
    (lambda: conv2d(X2, W2.astype(np.float16), groups=2), TypeError,
     r"conv2d: unsupported dtype float16"),
    (lambda: conv2d(X2.astype(bool), W2, groups=2), TypeError, r"unsupported dtype bool"),
    (lambda: conv2d(X2.astype(object), W2, groups=2), TypeError, r"unsupported dtype object"),
    (lambda: conv1d(np.ones((1, 1, 4), np.uint8), np.ones((1, 1, 2), np.uint8)), TypeError,
     r"conv1d: unsupported dtype uint8; fastconv's CNN functions compute in float32, "
     r"float64, complex64 or complex128"),
    (lambda: conv2d(X2.astype(np.longdouble), W2, groups=2), TypeError,
     r"unsupported dtype (float128|longdouble|float64)"),
    # bias
    (lambda: conv2d(X2, W2, np.ones(5), groups=2), ValueError,
     r"conv2d: bias must have shape \(6,\), got \(5,\)"),
    (lambda: conv2d(X2, W2, np.ones((6, 1)), groups=2), ValueError,
     r"bias must have shape \(6,\), got \(6, 1\)"),
    (lambda: conv2d(X2, W2, 1.0, groups=2), ValueError,
     r"bias must have shape \(6,\), got \(\)"),
    # workers
    (lambda: conv2d(X2, W2, groups=2, workers=0), ValueError,
     r"workers must be a non-zero int or None, got 0"),
    (lambda: conv2d(X2, W2, groups=2, workers=1.5), TypeError,
     r"workers must be an int or None, got float 1.5"),
    (lambda: conv2d(X2, W2, groups=2, workers=True), TypeError,
     r"workers must be an int or None, got bool True"),
    (lambda: conv2d(X2, W2, groups=2, workers=-10 ** 6), ValueError,
     r"workers=-1000000 counts back past the first of the \d+ usable CPUs"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_error_messages(i):
    func, exc, match = ERRORS[i]
    with pytest.raises(exc, match=match):
        func()


@pytest.mark.parametrize("kwargs, match", [
    (dict(activation=3), "activation"),
    (dict(padding_mode=3), "padding_mode"),
    (dict(data_format=0), "data_format"),
    (dict(padding=((1, 1), 1.5)), "padding"),
    (dict(padding=1.5), "padding"),
    (dict(padding=((1.0, 1), (0, 0))), "padding"),
    (dict(stride="2"), "stride"),
    (dict(groups="2"), "groups"),
])
def test_wrong_types_raise_typeerror(kwargs, match):
    """House rule: TypeError for bad types (ValueError only for bad values)."""
    with pytest.raises(TypeError, match=match):
        conv2d(X2, W2, groups=kwargs.pop("groups", 2), **kwargs)


def test_replicate_padding_of_an_empty_axis_names_padding_mode():
    """An empty spatial axis cannot be replicate-padded; the error should be
    fastconv's (naming padding_mode), not np.pad's internal one."""
    with pytest.raises(ValueError, match="padding_mode"):
        conv2d(np.ones((1, 1, 0, 5)), np.ones((1, 1, 2, 2)), padding=1,
               padding_mode="replicate")


def test_public_names():
    for name in ("conv", "conv1d", "conv2d", "conv3d"):
        assert name in fastconv.__all__
        assert getattr(fastconv, name).__doc__
    assert conv2d.__name__ == "conv2d"


# ---------------------------------------------------------------------------
# The reference and the tolerance rule are themselves tested
# ---------------------------------------------------------------------------

def _scalar_loop_reference(x, w, b, stride, pads, dilation, groups, padding_mode):
    """Textbook scalar loops for rank 2 (used only to check reference_conv)."""
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    (plh, phh), (plw, phw) = pads
    OH = (H + plh + phh - dilation[0] * (KH - 1) - 1) // stride[0] + 1
    OW = (W + plw + phw - dilation[1] * (KW - 1) - 1) // stride[1] + 1

    def src(i, n):
        if 0 <= i < n:
            return i
        if padding_mode == "zeros":
            return None
        if padding_mode == "replicate":
            return min(max(i, 0), n - 1)
        if padding_mode == "circular":
            return i % n
        return -i if i < 0 else 2 * (n - 1) - i  # reflect, pad < n

    out = np.zeros((N, F, OH, OW), dtype=np.result_type(x, w, np.float64))
    for n in range(N):
        for f in range(F):
            g = f // (F // groups)
            for oh in range(OH):
                for ow in range(OW):
                    acc = b[f] if b is not None else 0
                    for c in range(Cg):
                        for kh in range(KH):
                            for kw in range(KW):
                                ih = src(oh * stride[0] + kh * dilation[0] - plh, H)
                                iw = src(ow * stride[1] + kw * dilation[1] - plw, W)
                                if ih is not None and iw is not None:
                                    acc += w[f, c, kh, kw] * x[n, g * Cg + c, ih, iw]
                    out[n, f, oh, ow] = acc
    return out


@pytest.mark.parametrize("padding_mode", MODES)
def test_reference_matches_scalar_loops_and_np_pad(rng, padding_mode):
    x = rng.standard_normal((1, 4, 5, 6))
    w = rng.standard_normal((4, 2, 3, 2))
    b = rng.standard_normal(4)
    pads = ((2, 1), (0, 3))
    ref, scale = reference_conv(x, w, b, (2, 1), pads, (1, 2), 2, padding_mode)
    loops = _scalar_loop_reference(x, w, b, (2, 1), pads, (1, 2), 2, padding_mode)
    np.testing.assert_allclose(ref, loops, rtol=1e-13, atol=1e-13)
    assert (scale >= np.abs(ref) * (1 - 1e-12)).all()
    # the explicit padding agrees with np.pad's equivalent modes
    from conftest import pad_reference
    np_mode = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
               "circular": "wrap"}[padding_mode]
    np.testing.assert_array_equal(pad_reference(x, pads, padding_mode),
                                  np.pad(x, ((0, 0), (0, 0)) + pads, mode=np_mode))


@pytest.mark.parametrize("dtype", DTYPES)
def test_tolerance_rule_catches_one_wrong_term(rng, dtype):
    """The bound is tight enough to see an output that misses or shifts one
    tap: compare a correct call with a reference padded one sample off."""
    cfg = GEOMS[2][0]
    x, w, b = make_case(rng, cfg, dtype)
    got = conv2d(x, w, b, 1, ((1, 1), (1, 1)), workers=1)
    ref, scale = reference_conv(x, w, b, 1, ((1, 1), (1, 1)), 1, 1)
    assert_conv_close(got, ref, scale, dtype, 2 * 9)
    wrong, wscale = reference_conv(x, w, b, 1, ((1, 1), (0, 2)), 1, 1)
    with pytest.raises(AssertionError, match="differ beyond the bound"):
        assert_conv_close(got, wrong, wscale, dtype, 2 * 9)
    bumped = got.copy()
    bumped[0, 1, 3, 4] += 1e-3 * scale[0, 1, 3, 4]  # far above the bound
    with pytest.raises(AssertionError, match="1 of"):
        assert_conv_close(bumped, ref, scale, dtype, 2 * 9)


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_fused_relu_is_max_of_the_linear_result_and_conv_is_convNd(rng, rank, dtype,
                                                                   data_format):
    """relu is fused into the kernel: bit for bit max(linear output, 0); and
    the N-D conv is the same function as conv1d/2d/3d."""
    cfg = GEOMS[rank][1]
    x, w, b = make_case(rng, cfg, dtype)
    xx, ww = (x, w) if data_format == "channels_first" else to_channels_last(x, w)
    kw = dict(stride=cfg["s"], padding="same", dilation=cfg["d"], groups=cfg["G"],
              padding_mode="circular", data_format=data_format, workers=1)
    linear = FUNCS[rank](xx, ww, b, **kw)
    relu = FUNCS[rank](xx, ww, b, activation="relu", **kw)
    assert np.array_equal(relu, np.maximum(linear, 0))
    assert (linear < 0).any() and (linear > 0).any()
    assert np.array_equal(conv(xx, ww, b, **kw).view(np.uint8), linear.view(np.uint8))


# --- the small-call cache (fastconv.nn._SMALL_CALLS) ---------------------------

def _general_route(x, w, **kw):
    """The same call with the cache bypassed (a list stride is unhashable)."""
    rank = w.ndim - 2
    kw = dict(kw, stride=[kw.get("stride", 1)] * rank)
    return conv(x, w, **kw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [
    dict(x=(1, 3, 32, 32), w=(8, 3, 3, 3), padding=1),
    dict(x=(3, 16, 16), w=(4, 3, 5, 5), padding="same", activation="relu", bias=True),
    dict(x=(2, 4, 9, 9), w=(4, 1, 3, 3), groups=4, dilation=2, padding="valid"),
    dict(x=(1, 2, 40), w=(3, 2, 7), stride=2, padding=3, bias=True),
    dict(x=(1, 12, 12, 2), w=(3, 3, 2, 5), padding=1, data_format="channels_last"),
    dict(x=(1, 2, 6, 6, 6), w=(2, 2, 3, 3, 3), padding="same"),
])
def test_small_call_cache_gives_the_general_routes_result(rng, dtype, case):
    case = dict(case)
    x = random_array(rng, case.pop("x"), dtype)
    w = random_array(rng, case.pop("w"), dtype)
    if case.pop("bias", False):
        case["bias"] = random_array(rng, (w.shape[0 if case.get("data_format") !=
                                                 "channels_last" else -1],), dtype)
    fastconv.nn._SMALL_CALLS.clear()
    first = conv(x, w, **case)
    assert len(fastconv.nn._SMALL_CALLS) == 1        # the call was cached ...
    again = conv(x, w, **case)                         # ... and this one ran from the cache
    ref = _general_route(x, w, **case)
    np.testing.assert_array_equal(first, ref)
    np.testing.assert_array_equal(again, ref)
    assert again.dtype == dtype and again.shape == ref.shape
    # a strided view of the same shape takes the general route, same numbers
    wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype)
    wide[..., ::2] = x
    view = wide[..., ::2]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(conv(view, w, **case), ref)


def test_small_call_cache_skips_converted_and_padded_calls(rng):
    fastconv.nn._SMALL_CALLS.clear()
    x = rng.standard_normal((1, 2, 8, 8)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3))                     # float64: x is converted
    conv2d(x, w, padding=1)
    conv2d(x.astype(np.float64), w, padding=1, padding_mode="reflect")
    conv2d(x.astype(np.float64), w, padding=1, activation="tanh")
    assert not fastconv.nn._SMALL_CALLS
    conv2d(x.astype(np.float64), w, padding=1)
    assert len(fastconv.nn._SMALL_CALLS) == 1


def test_small_call_cache_keeps_the_overflow_guard(rng):
    """A cached call whose products could overflow still gives SciPy's
    (unfused) NaN/inf pattern: the guard runs on every call."""
    fastconv.nn._SMALL_CALLS.clear()
    w = np.array([[[[3.0, -3.0]]]], dtype=np.float32)
    x = np.ones((1, 1, 1, 4), dtype=np.float32)
    conv2d(x, w)                                        # cached with harmless data
    x[0, 0, 0, :2] = np.finfo(np.float32).max
    got = conv2d(x, w)
    with np.errstate(all="ignore"):
        expect = x[..., :-1] * np.float32(3.0) + x[..., 1:] * np.float32(-3.0)
    assert np.isnan(expect[0, 0, 0, 0])                 # inf - inf; a fused sum gives inf
    np.testing.assert_array_equal(got, expect)


@pytest.mark.parametrize("bad", [dict(workers=True), dict(stride=1.0), dict(padding=True),
                                 dict(groups=True), dict(stride=(True, 1))])
def test_small_call_cache_does_not_accept_what_the_general_route_rejects(rng, bad):
    """True == 1 and 1.0 == 1 as dict keys: a cached call must not let an
    argument the general route refuses through."""
    x = rng.standard_normal((1, 2, 8, 8))
    w = rng.standard_normal((3, 2, 3, 3))
    good = dict(stride=1, padding=1, groups=1, workers=1)
    fastconv.nn._SMALL_CALLS.clear()
    conv2d(x, w, **good)
    assert fastconv.nn._SMALL_CALLS
    with pytest.raises((TypeError, ValueError)):
        conv2d(x, w, **dict(good, **bad))
