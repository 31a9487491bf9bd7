"""The DW3 driver (fastconv/_dw_tiles.h: 3x3, stride-1 planes, each copied
into a zero-bordered scratch) against the ROWS driver and the generic kernel,
at every SIMD level this CPU runs.

Its accumulators receive the taps in C order, like the SLIDE tiles on a
zero-padded source, so its results must be bitwise identical to the ROWS
driver's (``force={'dw3': False}``) for any thread count, and to the generic
kernel's up to FMA contraction.  Cases cover partial column tiles (1 to 3
vectors, 2 + 2 instead of 3 + 1), plane heights not a multiple of the
4-row tile, one-sided and no padding, single rows and columns, float64,
bias and ReLU, NaN/inf/signed zeros in the input, and the fallback for
weights and biases that the zero border would change (inf, -0.0).
"""

import numpy as np
import pytest

from fastconv import _dispatch, _engine
from conftest import assert_folded_guard_matches_scan

LEVELS = _dispatch.supported_levels()

# (N, C=F=groups, (H, W), pads)
CASES = [
    (16, 8, (56, 56), ((1, 1), (1, 1))),       # the CNN layer's plane
    (2, 5, (13, 45), ((1, 1), (1, 1))),
    (3, 4, (7, 9), ((0, 1), (1, 0))),          # one-sided padding
    (2, 5, (30, 33), ((0, 0), (0, 0))),        # valid
    (2, 3, (6, 1), ((1, 1), (1, 1))),          # one input column
    (2, 8, (1, 17), ((1, 1), (0, 0))),         # one input row
    (1, 6, (10, 8), ((1, 1), (1, 1))),         # one vector + 2 columns
    (1, 6, (11, 31), ((1, 0), (0, 1))),        # 4 vectors: 2 + 2
    (2, 3, (20, 300), ((1, 1), (1, 1))),       # ROWS without a padded copy
]


def _run(case, dtype, level, force, nthreads, relu=False, special=False):
    N, C, S, pads = case
    rng = np.random.default_rng(23)
    x = rng.standard_normal((N, C) + S).astype(dtype)
    if special:
        x.reshape(-1)[::97] = np.inf
        x.reshape(-1)[5::101] = np.nan
        x.reshape(-1)[7::89] = -0.0
        x.reshape(-1)[9::83] = 0.0
    w = rng.standard_normal((C, 1, 3, 3)).astype(dtype)
    b = rng.standard_normal(C).astype(dtype)
    kw = dict(stride=(1, 1), dilation=(1, 1), pads=pads, groups=C, relu=relu, level=level,
              force=force)
    plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, **kw)
    y = _engine.correlate(x, w, bias=b, nthreads=nthreads, **kw)
    ya = _engine.correlate(np.abs(x), np.abs(w), bias=np.abs(b), nthreads=1,
                           **dict(kw, relu=False, force={"generic": True}))
    return y, ya, plan


def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_dw3_equals_rows_and_generic(level, dtype, case):
    got, scale, plan = _run(CASES[case], dtype, level, {"dw3": True}, 2)
    assert plan.path == "dw3"
    ref, _, plan_r = _run(CASES[case], dtype, level, {"dw3": False}, 1)
    assert plan_r.path in ("rows", "rows_padded")
    assert np.array_equal(_bits(got), _bits(ref))
    generic, _, _ = _run(CASES[case], dtype, level, {"generic": True}, 1)
    eps = np.finfo(dtype).eps
    assert np.all(np.abs(got - generic) <= 10 * eps * scale)


@pytest.mark.parametrize("level", LEVELS)
def test_dw3_thread_counts_relu_and_special_values(level):
    case = CASES[1]
    for relu in (False, True):
        one, _, _ = _run(case, np.float32, level, {"dw3": True}, 1, relu=relu, special=True)
        ref, _, _ = _run(case, np.float32, level, {"dw3": False}, 1, relu=relu, special=True)
        assert np.array_equal(_bits(one), _bits(ref))
        for nthreads in (2, 3):
            other, _, _ = _run(case, np.float32, level, {"dw3": True}, nthreads, relu=relu,
                               special=True)
            assert np.array_equal(_bits(one), _bits(other))
    plain, _, _ = _run(case, np.float32, level, {"dw3": True}, 1)
    relu, _, _ = _run(case, np.float32, level, {"dw3": True}, 1, relu=True)
    assert np.array_equal(relu, np.maximum(plain, 0))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dw3_falls_back_for_nonfinite_weights_and_negative_zero_bias(level, dtype):
    """A zero border adds w * 0: NaN for an infinite weight, and it turns a
    -0.0 bias into +0.0.  Those calls run the ROWS driver instead."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 9, 12)).astype(dtype)
    w = rng.standard_normal((4, 1, 3, 3)).astype(dtype)
    w_inf = w.copy()
    w_inf[1, 0, 0, 0] = np.inf
    wz = np.zeros_like(w)
    kw = dict(stride=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)), groups=4, level=level,
              nthreads=2)
    for ww, b in ((w_inf, None), (wz, np.full(4, -0.0, dtype)), (w, np.full(4, -0.0, dtype))):
        got = _engine.correlate(x, ww, bias=b, force={"dw3": True}, **kw)
        ref = _engine.correlate(x, ww, bias=b, force={"dw3": False}, **kw)
        assert np.array_equal(_bits(got), _bits(ref))


def test_dw3_plan_choice():
    """DW3 takes 3x3 stride-1 depthwise layers with enough planes (whole
    planes per unit of work) and large planes (row bands; not on CPUs with
    full-width 512-bit units); not a small
    single image, strides, dilations, other kernels, wide padding or forced
    tiles."""
    def path(xs, ws, s=(1, 1), d=(1, 1), p=((1, 1), (1, 1)), g=None, force=None):
        return _engine.plan_correlate(xs, ws, np.float32, stride=s, dilation=d, pads=p,
                                      groups=g or xs[1], force=force).path
    assert path((16, 128, 56, 56), (128, 1, 3, 3)) == "dw3"
    assert path((1, 1, 56, 56), (1, 1, 3, 3)) != "dw3"
    assert path((16, 128, 56, 56), (128, 1, 3, 3), s=(2, 2)) != "dw3"
    assert path((16, 128, 56, 56), (128, 1, 3, 3), d=(2, 2), p=((2, 2), (2, 2))) != "dw3"
    assert path((16, 128, 56, 56), (128, 1, 5, 5), p=((2, 2), (2, 2))) != "dw3"
    assert path((16, 128, 56, 56), (128, 1, 3, 3), p=((2, 2), (2, 2))) != "dw3"
    assert path((16, 128, 56, 56), (128, 1, 3, 3), force={"dw3": False}) != "dw3"
    # large planes in bands, except on Intel CPUs (above SSE2), where the
    # SLIDE tiles are faster
    kern = _dispatch.get_kernels()
    bands = not (kern.cpu_vendor() == "intel" and kern.simd_level() != "baseline")
    assert (path((2, 4, 400, 400), (4, 1, 3, 3)) == "dw3") == bands
    assert (path((1, 1, 2048, 2048), (1, 1, 3, 3)) == "dw3") == bands      # one image
    assert (path((1, 1, 2048, 2048), (1, 1, 3, 3), p=((0, 0), (0, 0))) == "dw3") == bands
    assert path((1, 1, 2048, 2048), (1, 1, 3, 3), force={"dw3": True}) == "dw3"
    assert path((1, 1, 2048, 2048), (1, 1, 5, 5), p=((2, 2), (2, 2))) != "dw3"


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("vendor", ["amd", "intel", ""])
@pytest.mark.parametrize("wide", [False, True])
def test_dw3_bands_by_cpu(level, vendor, wide, monkeypatch):
    """Single large planes take the DW3 bands only where they were measured
    faster than the SLIDE tiles: not on Intel CPUs (except at the SSE2
    baseline level); elsewhere (AMD Zen 2/4/5, other CPUs) yes, whether or
    not the 512-bit SLIDE tile is preferred.  Depthwise layers of many small
    planes take DW3 everywhere."""
    kern = _dispatch.get_kernels(level)
    monkeypatch.setattr(kern, "cpu_vendor", lambda: vendor)
    monkeypatch.setattr(kern, "slide_wide_preferred", lambda: wide)
    _engine._plan_cached.cache_clear()
    try:
        def path(xs, ws):
            return _engine.plan_correlate(xs, ws, np.float32, stride=(1, 1), dilation=(1, 1),
                                          pads=((1, 1), (1, 1)), groups=xs[1],
                                          level=level).path
        bands = vendor != "intel" or level == "baseline"
        assert (path((1, 1, 2048, 2048), (1, 1, 3, 3)) == "dw3") == bands
        assert (path((2, 4, 400, 400), (4, 1, 3, 3)) == "dw3") == bands
        assert path((16, 128, 56, 56), (128, 1, 3, 3)) == "dw3"
    finally:
        _engine._plan_cached.cache_clear()


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dw3_streaming_stores_bitwise(level, dtype):
    """Non-temporal stores (large outputs) write the same bits, aligned
    output or not, whole and partial tiles, any thread count."""
    kern = _dispatch.get_kernels(level)
    rng = np.random.default_rng(8)
    for H, W in ((9, 16), (7, 13), (12, 56)):
        x = rng.standard_normal((6, H, W)).astype(dtype)
        w = rng.standard_normal((3, 9)).astype(dtype)
        b = rng.standard_normal(3).astype(dtype)
        ref = np.empty((6, H, W), dtype)
        kern.dw3_correlate(x, w, b, ref, 1, 1, False, 1, False)
        for shift in (0, 1):                       # 16-byte aligned, then not
            buf = np.empty(6 * H * W + 4, dtype)
            out = buf[shift:shift + 6 * H * W].reshape(6, H, W)
            for nthreads in (1, 2):
                out[...] = np.nan
                kern.dw3_correlate(x, w, b, out, 1, 1, False, nthreads, True)
                assert np.array_equal(_bits(out), _bits(ref))


@pytest.mark.parametrize("level", LEVELS)
def test_dw3_streams_large_outputs_only_where_the_cpu_prefers(level, monkeypatch):
    """The engine asks the DW3 kernel for non-temporal stores on outputs of
    _DW3_STREAM_BYTES and more only where kern.dw_stream_preferred() (AMD:
    measured faster there, slower on an Intel Xeon); force={'stream': bool}
    overrides; the bits are the same every way."""
    kern = _dispatch.get_kernels(level)
    seen = []
    real = kern.dw3_correlate

    def spy(*args):
        seen.append(bool(args[8]))
        return real(*args)
    monkeypatch.setattr(kern, "dw3_correlate", spy)
    monkeypatch.setattr(_engine, "_DW3_STREAM_BYTES", 1 << 12)
    rng = np.random.default_rng(9)
    x = rng.standard_normal((1, 1, 40, 70)).astype(np.float32)      # 11 KB out
    w = rng.uniform(-1, 1, (1, 1, 3, 3)).astype(np.float32)
    kw = dict(stride=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)), level=level)
    outs = []
    for preferred, force, expect in ((False, {}, False), (True, {}, True),
                                     (True, {"stream": False}, False),
                                     (False, {"stream": True}, True)):
        monkeypatch.setattr(kern, "dw_stream_preferred", lambda p=preferred: p)
        seen.clear()
        outs.append(_engine.correlate(x, w, nthreads=2, force=dict(force, dw3=True), **kw))
        assert seen == [expect], (preferred, force)
    small = rng.standard_normal((1, 1, 20, 30)).astype(np.float32)    # 2.4 KB out
    monkeypatch.setattr(kern, "dw_stream_preferred", lambda: True)
    seen.clear()
    _engine.correlate(small, w, nthreads=1, force={"dw3": True}, **kw)
    assert seen == [False]
    for o in outs[1:]:
        assert np.array_equal(_bits(o), _bits(outs[0]))


# single large planes cut into row bands: (N, C, (H, W), pads, band rows)
BAND_CASES = [
    (1, 1, (301, 517), ((1, 1), (1, 1)), None),    # the engine's band size
    (1, 1, (301, 517), ((1, 1), (1, 1)), 4),
    (1, 1, (131, 77), ((0, 0), (0, 0)), 5),        # band not a multiple of 4
    (1, 1, (130, 67), ((1, 0), (0, 1)), 7),
    (1, 1, (130, 67), ((0, 1), (1, 0)), 1),        # one row per band
    (1, 2, (64, 40), ((1, 1), (1, 1)), 63),        # last band one row
    (1, 1, (9, 23), ((1, 1), (1, 1)), 8),          # the last band: 1 row
    (1, 1, (10, 23), ((0, 0), (0, 0)), 3),
]


def _band_force(band):
    return {"dw3": True, "dw3_band": band} if band else {"dw3": True}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(BAND_CASES)))
def test_dw3_bands_equal_rows_and_generic(level, dtype, case):
    *cs, band = BAND_CASES[case]
    ref, scale, plan_r = _run(cs, dtype, level, {"dw3": False}, 1)
    assert plan_r.path in ("rows", "rows_padded")
    generic, _, _ = _run(cs, dtype, level, {"generic": True}, 1)
    eps = np.finfo(dtype).eps
    assert np.all(np.abs(ref - generic) <= 10 * eps * scale)
    for nthreads in (1, 2):
        got, _, plan = _run(cs, dtype, level, _band_force(band), nthreads)
        assert plan.path == "dw3"
        if band:
            assert plan.consts["band"] == band
        assert np.array_equal(_bits(got), _bits(ref))


@pytest.mark.parametrize("level", LEVELS)
def test_dw3_bands_relu_special_values_and_every_band(level):
    """Special values and ReLU per band; every band size of a small plane
    (each band boundary position) gives the same bits, 1 to 3 threads."""
    cs = (1, 1, (37, 29), ((1, 1), (1, 1)))
    for relu in (False, True):
        ref, _, _ = _run(cs, np.float32, level, {"dw3": False}, 1, relu=relu, special=True)
        for band in range(1, 40):
            for nthreads in (1, 2, 3):
                got, _, _ = _run(cs, np.float32, level, _band_force(band), nthreads,
                                 relu=relu, special=True)
                assert np.array_equal(_bits(got), _bits(ref)), (band, nthreads)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dw3_bands_kernel_direct(level, dtype):
    """dw3_correlate with bands, several planes (bands crossing planes in a
    unit of work), streaming stores aligned or not."""
    kern = _dispatch.get_kernels(level)
    rng = np.random.default_rng(11)
    for (H, W), (pt, pl), (OH, OW) in (((33, 40), (1, 1), (33, 40)),
                                       ((33, 41), (0, 0), (31, 39)),
                                       ((20, 16), (1, 0), (19, 15))):
        x = rng.standard_normal((3, H, W)).astype(dtype)
        w = rng.standard_normal((3, 9)).astype(dtype)
        b = rng.standard_normal(3).astype(dtype)
        ref = np.empty((3, OH, OW), dtype)
        kern.dw3_correlate(x, w, b, ref, pt, pl, False, 1, False, 0)
        for band in (1, 2, 4, 6, 13, OH - 1, OH, OH + 5):
            for shift in (0, 1):
                buf = np.empty(3 * OH * OW + 4, dtype)
                out = buf[shift:shift + 3 * OH * OW].reshape(3, OH, OW)
                for nthreads in (1, 2):
                    out[...] = np.nan
                    kern.dw3_correlate(x, w, b, out, pt, pl, False, nthreads, True, band)
                    assert np.array_equal(_bits(out), _bits(ref)), (band, nthreads)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dw3_copy_finds_max_finite_abs(level, dtype):
    """The band copy's max finite |x| (the folded overflow guard) is the
    guard scan's, NaN/inf/-0.0 present or not, any band and thread count."""
    kern = _dispatch.get_kernels(level)
    rng = np.random.default_rng(5)
    for (H, W), (pt, pl), (OH, OW) in (((33, 41), (1, 1), (33, 41)),
                                       ((33, 41), (0, 0), (31, 39)),
                                       ((20, 7), (1, 0), (19, 6))):
        for special in (False, True):
            x = rng.standard_normal((2, H, W)).astype(dtype)
            x[1, H - 1, W - 1] = -7.5                       # the largest: a corner
            if special:
                x.reshape(-1)[::13] = np.inf
                x.reshape(-1)[3::17] = -np.inf
                x.reshape(-1)[5::19] = np.nan
                x.reshape(-1)[7::23] = -0.0
            w = rng.standard_normal((2, 9)).astype(dtype)
            b = np.zeros(0, dtype)
            want = kern.max_finite_abs(x.reshape(-1), 1)
            ref = np.empty((2, OH, OW), dtype)
            for band in (1, 3, 4, 8, OH):
                assert kern.dw3_correlate(x, w, b, ref, pt, pl, False, 1, False, band) is None
                for nthreads in (1, 2):
                    out = np.empty_like(ref)
                    got = kern.dw3_correlate(x, w, b, out, pt, pl, False, nthreads, False,
                                             band, True)
                    assert got == want == 7.5
                    assert np.array_equal(_bits(out), _bits(ref))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("big", [False, True])
def test_dw3_folded_guard_equals_scan(level, dtype, big, monkeypatch):
    """A single large image with |w| > 1: the guard folded into the DW3
    copy gives the bits of the separate scan (and, when a product could
    overflow, of the baseline rerun), 1 and 2 threads, padding 0 and 1."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((1, 1, 301, 263)).astype(dtype)
    if big:
        x[0, 0, 150, 100] = np.finfo(dtype).max / 3
        x[0, 0, 7, 9] = np.inf
    w = (4 * rng.standard_normal((1, 1, 3, 3))).astype(dtype)
    w[0, 0, 1, 1] = 5.0
    for pads in (((1, 1), (1, 1)), ((0, 0), (0, 0))):
        kw = dict(stride=(1, 1), dilation=(1, 1), pads=pads, level=level, force={"dw3": True})
        assert _engine.plan_correlate(x.shape, w.shape, x.dtype, **kw).path == "dw3"
        assert_folded_guard_matches_scan(_engine, x, w, kw, big, monkeypatch)
