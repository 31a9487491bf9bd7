"""The generic kernel (``correlate_channels_first``) against a NumPy reference.

The generic kernel is the engine's reference and the small-call path's only
kernel.  Every output element is its start value (the bias, or the sum so
far with ``accumulate``) plus the products of the taps that land inside the
input, added one by one in channel, plane, row, column order; taps that fall
in the zero padding are skipped, not multiplied.  The reference below does
exactly that in NumPy (a multiply, then an add, each rounded), so at the
baseline level (compiled without contraction into FMAs) the two agree to the
bit, signed zeros included.  The FMA levels round once per tap instead: there
the comparison allows that rounding, and the signed zeros must still agree.

The shapes straddle the kernel's column blocks: rows shorter than one vector,
rows of one vector, rows of a few vectors plus a remainder, rows of whole
register blocks plus an overlapping last block, every left and right edge.
"""

import numpy as np
import pytest

from fastconv import _dispatch

LEVELS = _dispatch.supported_levels()


def _reference(x, w, bias, stride, dilation, pad_lo, groups, oshape, start=None):
    """Tap-by-tap sums in the generic kernel's order (see the module comment)."""
    N, C, D, H, W = x.shape
    F, Cg, KD, KH, KW = w.shape
    OD, OH, OW = oshape
    out = np.empty((N, F, OD, OH, OW), dtype=x.dtype)
    if start is not None:
        out[...] = start
    elif bias.size:
        out[...] = bias.reshape(1, F, 1, 1, 1)
    else:
        out[...] = 0
    Fg = F // groups
    axes = []
    for o, n, k, s, d, p in zip((OD, OH, OW), (D, H, W), (KD, KH, KW), stride, dilation,
                                pad_lo):
        idx = np.arange(o)[:, None] * s + np.arange(k)[None, :] * d - p
        axes.append(idx)
    for f in range(F):
        g = f // Fg
        for c in range(Cg):
            for kd in range(KD):
                vd = np.nonzero((axes[0][:, kd] >= 0) & (axes[0][:, kd] < D))[0]
                for kh in range(KH):
                    vh = np.nonzero((axes[1][:, kh] >= 0) & (axes[1][:, kh] < H))[0]
                    for kw in range(KW):
                        vw = np.nonzero((axes[2][:, kw] >= 0) & (axes[2][:, kw] < W))[0]
                        if not (vd.size and vh.size and vw.size):
                            continue
                        ix = np.ix_(axes[0][vd, kd], axes[1][vh, kh], axes[2][vw, kw])
                        io = np.ix_(vd, vh, vw)
                        prod = w[f, c, kd, kh, kw] * x[:, g * Cg + c][(slice(None),) + ix]
                        out[(slice(None), f) + io] = out[(slice(None), f) + io] + prod
    return out


def _geometry(xs, ks, stride, dilation, pad_lo, pad_hi):
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, d, lo, hi in zip(xs, ks, stride, dilation, pad_lo, pad_hi))


def _call(kern, x, w, bias, stride, dilation, pad_lo, pad_hi, groups, colblk, *,
          start=None, relu=False):
    oshape = _geometry(x.shape[2:], w.shape[2:], stride, dilation, pad_lo, pad_hi)
    out = np.empty((x.shape[0], w.shape[0]) + oshape, dtype=x.dtype)
    if start is not None:
        out[...] = start
    geo = np.array(tuple(stride) + tuple(dilation) + tuple(pad_lo), dtype=np.intp)
    kern.correlate_channels_first(x, w, out, bias, geo, groups, start is not None, relu,
                                  colblk or oshape[-1], 1)
    return out, oshape


# (N, C, F, groups, spatial (D, H, W), kernel, stride, dilation, pad_lo, pad_hi)
CASES = [
    # one channel, 2-D, 'same'-like pads, rows across the block boundaries
    *[(1, 1, 1, 1, (1, 5, width), (1, 3, 3), (1, 1, 1), (1, 1, 1), (0, 1, 1), (0, 1, 1))
      for width in (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 33, 47, 64, 70, 97)],
    # 'full' and 'valid' pads, wider kernels
    (1, 1, 1, 1, (1, 6, 40), (1, 4, 7), (1, 1, 1), (1, 1, 1), (0, 3, 6), (0, 3, 6)),
    (1, 1, 1, 1, (1, 6, 40), (1, 4, 7), (1, 1, 1), (1, 1, 1), (0, 0, 0), (0, 0, 0)),
    (1, 1, 1, 1, (1, 3, 61), (1, 2, 5), (1, 1, 1), (1, 1, 1), (0, 0, 4), (0, 1, 0)),
    # a kernel as wide as the row, pads wider than the kernel
    (1, 1, 1, 1, (1, 4, 9), (1, 3, 9), (1, 1, 1), (1, 1, 1), (0, 1, 8), (0, 1, 8)),
    (1, 1, 1, 1, (1, 4, 30), (1, 3, 3), (1, 1, 1), (1, 1, 1), (0, 2, 5), (0, 0, 6)),
    # rank 1 and rank 3
    (1, 1, 1, 1, (1, 1, 200), (1, 1, 31), (1, 1, 1), (1, 1, 1), (0, 0, 15), (0, 0, 15)),
    (2, 1, 1, 1, (5, 6, 37), (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
    # channels, groups, batch
    (2, 3, 4, 1, (1, 7, 29), (1, 3, 3), (1, 1, 1), (1, 1, 1), (0, 1, 1), (0, 1, 1)),
    (1, 4, 6, 2, (2, 5, 45), (2, 3, 5), (1, 1, 1), (1, 1, 1), (1, 1, 2), (0, 1, 2)),
    # row strides and dilations (columns still unit: the register path)
    (1, 2, 2, 1, (4, 9, 50), (2, 3, 3), (2, 2, 1), (2, 2, 1), (1, 2, 1), (1, 2, 1)),
    # column strides and dilations (the tap-by-tap loop)
    (1, 2, 3, 1, (1, 8, 53), (1, 3, 4), (1, 1, 2), (1, 1, 1), (0, 1, 2), (0, 1, 2)),
    (1, 1, 1, 1, (1, 5, 60), (1, 3, 3), (1, 1, 1), (1, 1, 3), (0, 1, 3), (0, 1, 3)),
]


def _operands(case, dtype, seed):
    N, C, F, G, S, K = case[:6]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C) + S).astype(dtype)
    w = rng.standard_normal((F, C // G) + K).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    return x, w, b


def _check(got, ref, level, dtype, scale):
    assert got.shape == ref.shape
    if level == "baseline":
        assert np.array_equal(got.view(np.uint8), ref.view(np.uint8))
    else:
        # the reference rounds each product and each sum, the FMA levels once
        # per tap: a bound of a few roundings per term of sums of <= 36 terms
        eps = np.finfo(dtype).eps
        assert np.all(np.abs(got - ref) <= 64 * eps * scale)
        assert np.array_equal(np.signbit(got), np.signbit(ref))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_generic_kernel_is_the_tap_by_tap_sum(level, dtype, case):
    kern = _dispatch.get_kernels(level)
    N, C, F, G, S, K, s, d, lo, hi = CASES[case]
    x, w, b = _operands(CASES[case], dtype, case)
    for bias in (b, np.zeros(0, dtype)):
        got, oshape = _call(kern, x, w, bias, s, d, lo, hi, G, None)
        ref = _reference(x, w, bias, s, d, lo, G, oshape)
        scale = _reference(np.abs(x), np.abs(w), np.abs(bias), s, d, lo, G, oshape)
        _check(got, ref, level, dtype, scale)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("colblk", [1, 5, 16, 27])
def test_generic_kernel_column_blocks_and_accumulate(level, dtype, colblk):
    """Column blocks start mid-row (j0 > 0: the edges and the register
    blocks are clipped to the block) and ``accumulate`` starts from the
    output's values; ReLU clamps after the sum."""
    kern = _dispatch.get_kernels(level)
    case = (1, 2, 3, 1, (2, 6, 71), (2, 3, 5), (1, 1, 1), (1, 1, 1), (1, 1, 2), (0, 1, 2))
    N, C, F, G, S, K, s, d, lo, hi = case
    x, w, b = _operands(case, dtype, 11)
    oshape = _geometry(S, K, s, d, lo, hi)
    start = np.random.default_rng(3).standard_normal((N, F) + oshape).astype(dtype)
    got, _ = _call(kern, x, w, b, s, d, lo, hi, G, colblk, start=start)
    ref = _reference(x, w, b, s, d, lo, G, oshape, start=start)
    scale = _reference(np.abs(x), np.abs(w), b, s, d, lo, G, oshape, start=np.abs(start))
    _check(got, ref, level, dtype, scale)
    got, _ = _call(kern, x, w, b, s, d, lo, hi, G, colblk, relu=True)
    ref = np.maximum(_reference(x, w, b, s, d, lo, G, oshape), 0)
    _check(got, ref, level, dtype, _reference(np.abs(x), np.abs(w), np.abs(b), s, d, lo, G,
                                              oshape))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_generic_kernel_skips_the_padding(level, dtype):
    """A bias of -0.0 and an input of -0.0 with positive weights: every
    product is -0.0 and every sum stays -0.0; one product of the zero
    padding (+0.0) would make it +0.0.  Edges, register blocks and the
    overlapping last block alike keep -0.0."""
    kern = _dispatch.get_kernels(level)
    for width in (3, 9, 20, 50, 61):
        x = np.full((1, 1, 1, 4, width), -0.0, dtype=dtype)
        w = np.ones((1, 1, 1, 3, 3), dtype=dtype)
        b = np.array([-0.0], dtype=dtype)
        got, _ = _call(kern, x, w, b, (1, 1, 1), (1, 1, 1), (0, 1, 1), (0, 1, 1), 1, None)
        assert np.all(got == 0) and np.all(np.signbit(got)), width

