"""The weight gradient on the FILTT tiles (fastconv._autograd._weight_grad_filtt,
fastconv._kernels.filtt_wgrad): the sums of an exact reference within float
rounding, the same bits for every thread count and unit size, at every SIMD
level that has FILTT tiles, for strides, dilations, groups, padding modes,
both layouts and 1-3 spatial axes."""

import numpy as np
import pytest

import fastconv
from fastconv import _autograd, _dispatch, _engine
from conftest import float32_tolerance

LEVELS = [lv for lv in _dispatch.supported_levels()
          if _engine._filtt_tile(_dispatch.get_kernels(lv), "f") is not None]

GEOMETRIES = [
    # x shape (channels first), weight shape, conv keywords
    ((3, 8, 21, 19), (40, 8, 3, 3), dict(padding=1)),
    ((2, 12, 30, 31), (64, 6, 3, 3), dict(padding=2, stride=2, dilation=2, groups=2)),
    ((3, 5, 100), (36, 5, 5), dict(padding=2, stride=3)),
    ((2, 4, 10, 12, 9), (20, 4, 3, 3, 3), dict(padding=1)),
    ((2, 6, 17, 15), (33, 6, 3, 2), dict(padding=1, padding_mode="reflect")),
    ((2, 3, 23, 29), (17, 3, 7, 7), dict(padding=3, stride=2)),
]


def _ref_grad_weight(x, gy, wshape, kw):
    """dw in float64 by the GEMM route (im2col + BLAS), the FILTT route off."""
    saved = _autograd._weight_grad_filtt
    try:
        _autograd._weight_grad_filtt = lambda *a, **k: None
        return fastconv.conv_grad_weight(x.astype(np.float64), wshape,
                                         gy.astype(np.float64), **kw)
    finally:
        _autograd._weight_grad_filtt = saved


@pytest.fixture
def filtt_always(monkeypatch):
    """Every call takes the FILTT route (no minimum work or lane use)."""
    monkeypatch.setattr(_autograd, "_WGRAD_MIN_WORK", 0)
    monkeypatch.setattr(_autograd, "_WGRAD_MIN_LANES", 0.0)
    taken = []
    real = _autograd._weight_grad_filtt

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        taken.append(out is not None)
        return out
    monkeypatch.setattr(_autograd, "_weight_grad_filtt", spy)
    return taken


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("chunk_bytes", [None, 1])
def test_filtt_weight_gradient_matches_reference_and_threads(level, dtype, layout, geometry,
                                                             chunk_bytes, filtt_always,
                                                             monkeypatch):
    """Against the float64 GEMM route within float rounding, the same bits
    for 1-3 threads; with ``chunk_bytes=1`` one image per chunk (the
    memory bound of large batches), the chunks' sums added in order."""
    monkeypatch.setattr(_autograd, "_WGRAD_LEVEL", [level])
    if chunk_bytes is not None:
        monkeypatch.setattr(_autograd, "_WGRAD_CHUNK_BYTES", chunk_bytes)
    xs, ws, kw = geometry
    rng = np.random.default_rng(len(xs) * 7 + ws[0])
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    gy = rng.standard_normal(fastconv.conv(x, w, **kw).shape).astype(dtype)
    ref = _ref_grad_weight(x, gy, ws, kw)
    rank = len(xs) - 2
    if layout == "channels_last":
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
        gy = np.ascontiguousarray(np.moveaxis(gy, 1, -1))
        ref = np.ascontiguousarray(np.moveaxis(ref, (0, 1), (-1, -2)))
        wshape = ref.shape
    else:
        wshape = ws
    got = {n: fastconv.conv_grad_weight(x, wshape, gy, data_format=layout, workers=n, **kw)
           for n in (1, 2, 3)}
    assert filtt_always and all(filtt_always)
    assert got[1].dtype == dtype and got[1].shape == ref.shape
    for n in (2, 3):
        assert np.array_equal(got[n], got[1])
    # each dw element sums N * prod(out spatial) products
    m = xs[0] * np.prod(gy.shape[2:] if layout == "channels_first" else gy.shape[1:-1])
    scale = np.abs(x).max() * np.abs(gy).max()
    tol = float32_tolerance(m, scale) if dtype == np.float32 else 1e-12 * m * scale
    assert np.abs(got[1] - ref).max() <= tol
    assert rank in (1, 2, 3)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_filtt_wgrad_unit_size_and_tap_blocks_do_not_change_bits(level, dtype):
    """Positions per unit and taps per block change the work split, never
    the order of any sum: the same bits, and the sums of an exact
    reference."""
    kern = _dispatch.get_kernels(level)
    tile = _engine._filtt_tile(kern, np.dtype(dtype).char)
    pf, R = kern.filtt_width(tile["index"])
    rng = np.random.default_rng(3)
    N, C, F, H, W = 2, 5, pf + 3, 9, 11
    xp = rng.standard_normal((N, C, H + 2, W + 2)).astype(dtype)
    g = rng.standard_normal((N, F, H, W)).astype(dtype)
    st = [s // xp.itemsize for s in xp.strides]
    pos = (np.arange(C)[:, None, None] * st[1] + np.arange(3)[:, None] * st[2]
           + np.arange(3)).reshape(-1).astype(np.intp)
    toff = (np.arange(N)[:, None, None] * st[0] + np.arange(H)[:, None] * st[2]
            + np.arange(W)).reshape(-1).astype(np.intp)
    blocks = np.array([(0, pf, 0, 0), (pf, 3, N * H * W * pf, 0)], dtype=np.intp)
    wp = np.full((2, N * H * W, pf), np.nan, dtype)
    kern.pack_filters_last(g.reshape(N, F, -1), blocks, wp, 2)
    assert np.array_equal(wp[0], np.moveaxis(g[:, :pf], 1, -1).reshape(-1, pf))
    assert np.array_equal(wp[1, :, :3], np.moveaxis(g[:, pf:], 1, -1).reshape(-1, 3))
    assert not wp[1, :, 3:].any()
    # exact reference: dw[f, (c, kh, kw)] = sum over (n, oh, ow)
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))  # N C H W 3 3
    ref = np.einsum("nfhw,nchwij->fcij", g.astype(np.float64), win.astype(np.float64))
    outs = []
    for chunk in (1, R, 2 * R + 1, pos.size):
        for tblk in (1, 7, 1000):
            for nthreads in (1, 2):
                out = np.full((F, pos.size), np.nan, dtype)
                kern.filtt_wgrad(xp.reshape(-1), pos, toff, wp.reshape(-1), blocks, out, 0,
                                 tblk, chunk, tile["index"], nthreads)
                outs.append(out)
    for out in outs[1:]:
        assert np.array_equal(out, outs[0])
    m = N * H * W
    tol = (float32_tolerance(m, np.abs(xp).max() * np.abs(g).max()) if dtype == np.float32
           else 1e-12 * m)
    assert np.abs(outs[0] - ref.reshape(F, -1)).max() <= tol


def test_small_or_narrow_problems_keep_the_gemm(monkeypatch):
    """Few filters per block (lanes mostly empty) or little work: the im2col
    GEMM runs (the FILTT route declines)."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    gy = rng.standard_normal((2, 2, 8, 8)).astype(np.float32)
    seen = []
    real = _autograd._weight_grad_filtt
    monkeypatch.setattr(_autograd, "_weight_grad_filtt",
                        lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    fastconv.conv_grad_weight(x, (2, 3, 3, 3), gy, padding=1)
    assert seen == [None]
