"""The flat FILT driver (``filt_correlate_flat``) and the FILTT driver
(``filtt_correlate``, vectors along filters) at every SIMD level.

Stride 1 along rows and columns makes an output plane one 1-D correlation
over flat positions ``oh * Wp + ow`` of the padded source; the driver runs
full-width tiles across row ends, stores tiles that lie inside one row in
place and copies the valid columns of the others from a tile buffer, and
falls back to a scalar loop for tiles whose vector loads would pass the end
of a source without slack (no padding, no copy).

FILTT tiles hold R output positions (8 with 32 vector registers, 6 with
16) x 2 vectors of filters; positions are
arbitrary (only valid outputs are computed), the last tile of a chunk
repeats its last position, and blocks of a group's last filters are padded
with zero weights.

Every test forces one driver (``force=`` of ``_engine.plan_correlate``) and
checks through the plan's ``path`` that it really runs, then compares with the float64
NumPy reference of conftest.py using the derived float32/float64 bounds,
and checks that 1 and 2 threads give bitwise identical results.
"""

import numpy as np
import pytest

from conftest import assert_conv_close, assert_lazy_copy_matches_pass, n_terms, reference_conv
from fastconv import _dispatch, _engine

LEVELS = _dispatch.supported_levels()


def _cases():
    """(N, Cg, Fg, G, spatial, kernel, dilation, pads, depth stride) covering
    OW 1..40, OH 1..9, kernels 1..5 with and without padding, Cg 1..9,
    filters per group not a multiple of the block size, groups, rank 1-3."""
    rng = np.random.default_rng(2024)
    cases = [
        (2, 3, 13, 1, (9, 40), (3, 3), (1, 1), ((1, 1), (1, 1)), 1),    # OW 40, OH 9
        (1, 9, 5, 1, (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0)), 1),      # OW 1, OH 1
        (1, 4, 7, 1, (5, 1), (3, 1), (1, 1), ((1, 1), (0, 0)), 1),      # OW 1, OH 5
        (2, 2, 6, 3, (7, 14), (3, 3), (1, 1), ((1, 1), (1, 1)), 1),     # groups, 14-col rows
        (1, 5, 9, 1, (8, 17), (5, 5), (1, 1), ((2, 2), (2, 2)), 1),     # 5x5
        (1, 3, 11, 1, (6, 23), (4, 2), (1, 2), ((2, 1), (0, 1)), 1),    # even kernel, dilation
        (1, 6, 10, 1, (7, 19), (3, 3), (1, 1), ((0, 0), (0, 0)), 1),    # no copy: scalar tail
        (2, 7, 3, 2, (4, 33), (2, 5), (1, 1), ((0, 0), (0, 0)), 1),     # no copy, groups
        (1, 1, 12, 1, (6, 9), (3, 3), (1, 1), ((1, 1), (1, 1)), 1),     # Cg = 1, many filters
        (2, 4, 5, 1, (37,), (5,), (2,), ((4, 3),), 1),                  # rank 1, dilation
        (1, 8, 9, 1, (101,), (1,), (1,), ((0, 0),), 1),                 # pointwise row, no slack
        (1, 3, 6, 1, (5, 4, 13), (2, 3, 3), (1, 1, 1), ((1, 0), (1, 1), (1, 1)), 1),  # rank 3
        (1, 2, 5, 1, (7, 5, 11), (3, 2, 2), (2, 1, 1), ((1, 1), (0, 1), (1, 0)), 2),  # depth stride
    ]
    for _ in range(10):
        OW, OH = int(rng.integers(1, 41)), int(rng.integers(1, 10))
        kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        ph = int(rng.integers(0, kh)) if rng.random() < 0.8 else 0
        pw = int(rng.integers(0, kw)) if rng.random() < 0.8 else 0
        H, W = OH + kh - 1 - 2 * ph, OW + kw - 1 - 2 * pw
        if H < 1 or W < 1:
            H, W, ph, pw = OH + kh - 1, OW + kw - 1, 0, 0
        G = int(rng.choice([1, 1, 2, 3]))
        Cg, Fg = int(rng.integers(1, 10)), int(rng.integers(2, 20))
        cases.append((int(rng.integers(1, 3)), Cg, Fg, G, (H, W), (kh, kw), (1, 1),
                      ((ph, ph), (pw, pw)), 1))
    return cases


CASES = _cases()
# Large enough that the engine really runs two threads (it runs small
# problems on one) and chunked units split rows.
BIG = [
    (2, 8, 13, 1, (30, 37), (3, 3), (1, 1), ((1, 1), (1, 1)), 1),
    (2, 16, 24, 2, (14, 14), (3, 3), (1, 1), ((1, 1), (1, 1)), 1),
    (2, 12, 20, 1, (1, 2000), (1, 7), (1, 1), ((0, 0), (3, 3)), 1),
    (2, 16, 16, 1, (1, 3001), (1, 1), (1, 1), ((0, 0), (0, 0)), 1),   # pointwise, no slack
]


def _forced_plan(driver, x, w, chunk=None, **geometry):
    """The engine plan with `driver` forced; asserts that it is the one run."""
    force = {"flat": driver == "flat", "filtt": driver == "filtt"}
    if chunk:
        force["flat_chunk"] = chunk
    plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, force=force, **geometry)
    inner = plan
    while inner.sub is not None:       # pointwise problems run as one long row
        inner = inner.sub
    assert inner.path == driver, f"the {driver} driver would not run: {plan}"
    return plan


def _run(case, dtype, level, nthreads, relu, bias=True, chunk=None, driver="flat"):
    N, Cg, Fg, G, S, K, d, pads, sd = case
    rank = len(S)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((N, Cg * G) + S).astype(dtype)
    w = rng.standard_normal((Fg * G, Cg) + K).astype(dtype)
    b = rng.standard_normal(Fg * G).astype(dtype) if bias else None
    stride = (sd,) + (1,) * (rank - 1)
    plan = _forced_plan(driver, x, w, stride=stride, dilation=d, pads=pads, groups=G,
                        relu=relu, level=level, chunk=chunk)
    y = _engine.correlate(x, w, stride=stride, dilation=d, pads=pads, groups=G, bias=b,
                          relu=relu, nthreads=nthreads, level=level, plan=plan)
    ref, scale = reference_conv(x, w, b, stride=stride, pads=pads, dilation=d, groups=G)
    if relu:
        ref = np.maximum(ref, 0)
    return y, ref, scale, n_terms(w.shape, G)


@pytest.mark.parametrize("driver", ["flat", "filtt"])
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_flat_against_reference(driver, level, dtype, relu, case):
    y, ref, scale, m = _run(CASES[case], dtype, level, 1, relu, bias=case % 3 != 2,
                            driver=driver)
    assert y.dtype == dtype
    assert_conv_close(y, ref, scale, dtype, m)
    if relu:
        assert np.all(y >= 0)


@pytest.mark.parametrize("driver", ["flat", "filtt"])
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(BIG)))
@pytest.mark.parametrize("chunk", [None, 40])
def test_flat_big_two_threads_bitwise(driver, level, dtype, case, chunk):
    one, ref, scale, m = _run(BIG[case], dtype, level, 1, True, chunk=chunk, driver=driver)
    two, _, _, _ = _run(BIG[case], dtype, level, 2, True, chunk=chunk, driver=driver)
    assert_conv_close(one, ref, scale, dtype, m)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    assert np.array_equal(one.view(bits), two.view(bits))


@pytest.mark.parametrize("level", LEVELS)
def test_flat_equals_row_driver_bitwise(level):
    """Same tap order and initial value: the row, flat and FILTT drivers give
    the same bits (vector FMA code in all three)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 6, 9, 64)).astype(np.float32)
    w = rng.standard_normal((10, 6, 3, 3)).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    out = {}
    for flat, filtt in ((False, False), (True, False), (False, True)):
        out[flat, filtt] = _engine.correlate(x, w, stride=(1, 1), dilation=(1, 1),
                                             pads=((1, 1), (1, 1)), bias=b, relu=True,
                                             nthreads=2, level=level,
                                             force={"flat": flat, "filtt": filtt})
    ref = out[False, False].view(np.uint32)
    assert np.array_equal(ref, out[True, False].view(np.uint32))
    assert np.array_equal(ref, out[False, True].view(np.uint32))


def test_flat_chosen_where_it_uses_more_lanes():
    kern = _dispatch.kernels
    flat = _engine._use_flat
    assert flat(kern, "f", 14, 14, 16)      # 7 tiles of 32 vs 14 narrow rows
    assert flat(kern, "f", 56, 56, 58)      # 3264 lanes vs 3584
    assert flat(kern, "f", 1, 3136, 3136)   # one row: the same tiles, chunked
    assert not flat(kern, "f", 4, 64, 96)   # wide padding: flat computes more lanes


def test_flat_engine_reaches_driver_by_default():
    """Without forcing, a CNN layer with short rows goes through the flat driver."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 8, 14, 14)).astype(np.float32)      # 72 taps per output
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    geometry = dict(stride=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)))
    assert _engine.plan_correlate(x.shape, w.shape, x.dtype, **geometry).path == "flat"
    y = _engine.correlate(x, w, nthreads=1, **geometry)
    ref, scale = reference_conv(x, w, pads=1)
    assert_conv_close(y, ref, scale, np.float32, n_terms(w.shape, 1))


@pytest.mark.parametrize("wide_least", [None, 64, 72, 256])
def test_filtt_chosen_for_long_sums_where_a_tile_fits(wide_least, monkeypatch):
    # the AVX-512 tiles' threshold is per CPU vendor (None: this machine's)
    if wide_least is not None:
        monkeypatch.setattr(_engine, "_FILTT_MIN_TAPS_WIDE",
                            {"amd": wide_least, "intel": wide_least, "": wide_least})
    use = _engine._use_filtt
    for level in LEVELS:
        kern = _dispatch.get_kernels(level)
        tile = _engine._filtt_tile(kern, "f")
        if tile is None:             # e.g. SSE2 register pairs: the tile would spill
            assert level == "baseline"
            assert not use(kern, "f", 14, 14, 16, 256, 2304)
            continue
        pf, _ = kern.filtt_width(tile["index"])
        narrow = pf * 4 <= _engine._FILTT_BLOCK_ALL_BYTES
        least = (_engine._FILTT_MIN_TAPS_NARROW if narrow
                 else _engine._FILTT_MIN_TAPS_WIDE.get(kern.cpu_vendor(), 256))
        assert use(kern, "f", 14, 14, 16, 256, 2304)        # deep
        # 144 taps: FILTT with tiles of at most 64 bytes of filters (AVX2), and
        # with the AVX-512 tiles where their threshold allows
        assert use(kern, "f", 14, 14, 16, 256, 144) == (144 >= least)
        assert use(kern, "f", 14, 14, 16, 256, 72) == (72 >= least)
        assert use(kern, "f", 1, 4096, 4102, 64, 448)       # conv1d k7
        assert use(kern, "f", 32, 32, 68, 64, 288, False)   # strided + dilated
        # pointwise: short sums keep the flat tiles below the threshold
        assert use(kern, "f", 1, 3136, 3136, 64, 64) == (64 >= least)
        assert not use(kern, "f", 1, 3136, 3136, 64, 32)
        assert not use(kern, "f", 14, 14, 16, pf + 4, 2304)  # mostly empty blocks
        if wide_least == 64 and not narrow:
            assert use(kern, "f", 1, 3136, 3136, 64, 64)
        if wide_least == 256:
            assert not use(kern, "f", 1, 3136, 3136, 64, 64)


# (N, Cg, Fg, G, spatial, kernel, stride, dilation, pads): FILTT with strides
# along rows and columns (tile positions scaled by the strides, no phase split)
STRIDED = [
    (2, 5, 19, 1, (13, 21), (3, 3), (2, 2), (2, 2), ((2, 2), (2, 2))),
    (1, 3, 7, 2, (9, 30), (3, 4), (1, 3), (1, 2), ((1, 0), (3, 2))),
    (1, 4, 9, 1, (30,), (5,), (3,), (1,), ((2, 2),)),
    (1, 2, 5, 1, (6, 7, 11), (3, 2, 3), (2, 2, 2), (1, 2, 1), ((1, 1), (0, 1), (1, 1))),
    (2, 6, 33, 1, (11, 12), (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0))),   # no copy
]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(STRIDED)))
@pytest.mark.parametrize("taps,group", [(None, 0), (5, 1), (7, 3)])
def test_filtt_strided_and_tap_blocks_bitwise_generic(level, dtype, case, taps, group):
    """Strided FILTT, its taps split into blocks (continuing the sums from
    the tile buffer) and groups of tiles: the same bits as the generic
    kernel, for 1 and 2 threads."""
    N, Cg, Fg, G, S, K, st, d, pads = STRIDED[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal((N, Cg * G) + S).astype(dtype)
    w = rng.standard_normal((Fg * G, Cg) + K).astype(dtype)
    b = rng.standard_normal(Fg * G).astype(dtype)
    geometry = dict(stride=st, dilation=d, pads=pads, groups=G, relu=True, level=level)
    force = {"filtt": True, "filtt_group": group}
    if taps:
        force["filtt_taps"] = taps
    plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, force=force, **geometry)
    assert plan.path == "filtt"
    gen = _engine.correlate(x, w, bias=b, nthreads=1, force={"generic": True}, **geometry)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    for nthreads in (1, 2):
        y = _engine.correlate(x, w, bias=b, nthreads=nthreads, plan=plan, **geometry)
        assert np.array_equal(y.view(bits), gen.view(bits))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("G", [1, 2])
def test_filtt_filter_blocks_per_unit_bitwise_generic(level, dtype, G):
    """A FILTT unit runs several filter blocks over each group of positions
    (the input read once for all): any number of blocks per unit (also ones
    that span two groups of a grouped layer), chunks of positions, tap
    blocks and either unit order (image by image, block group by block
    group) give the generic kernel's bits, for 1-3 threads."""
    rng = np.random.default_rng(G)
    geometry = dict(stride=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)), groups=G,
                    relu=False, level=level)
    # filters per group: two full filter blocks of this level's width and a
    # partial third (the width is 8-32 filters, by level and dtype)
    Cg = 5
    pf = _engine.plan_correlate((2, Cg * G, 17, 23), (64 * G, Cg, 3, 3), np.dtype(dtype),
                                force={"filtt": True}, **geometry).consts["pf"]
    Fg = 2 * pf + 5
    x = rng.standard_normal((2, Cg * G, 17, 23)).astype(dtype)
    w = rng.standard_normal((Fg * G, Cg, 3, 3)).astype(dtype)
    b = rng.standard_normal(Fg * G).astype(dtype)
    gen = _engine.correlate(x, w, bias=b, nthreads=1, force={"generic": True}, **geometry)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, force={"filtt": True}, **geometry)
    assert plan.path == "filtt"
    nblk = G * -(-Fg // plan.consts["pf"])
    assert nblk >= 3
    for bpu in range(1, nblk + 2):
        for extra in ({}, {"flat_chunk": 24, "filtt_taps": 9}, {"blocks_outer": True},
                      {"flat_chunk": 24, "blocks_outer": True}):
            force = dict({"filtt": True, "filtt_bpu": bpu}, **extra)
            plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, force=force, **geometry)
            assert plan.consts["bpu"] == bpu
            assert plan.consts["blocks_outer"] == extra.get("blocks_outer", False)
            for nthreads in (1, 2, 3):
                y = _engine.correlate(x, w, bias=b, nthreads=nthreads, plan=plan, **geometry)
                assert np.array_equal(y.view(bits), gen.view(bits))


def test_filtt_units_go_block_group_by_group_for_large_weights():
    """The plan orders units block group by block group where the packed
    weights exceed _FILTT_OUTER_BYTES and a unit does not run every block;
    image by image otherwise."""
    geo = dict(stride=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)))
    f32 = np.dtype(np.float32)
    deep = _engine.plan_correlate((16, 256, 14, 14), (256, 256, 3, 3), f32,
                                  force={"filtt": True}, **geo).consts
    small = _engine.plan_correlate((16, 64, 56, 56), (64, 64, 3, 3), f32,
                                   force={"filtt": True}, **geo).consts
    wbytes = 256 * 256 * 9 * 4
    assert deep["blocks_outer"] == (wbytes >= _engine._FILTT_OUTER_BYTES
                                    and deep["bpu"] * deep["pf"] < 256)
    assert not small["blocks_outer"]


@pytest.mark.parametrize("ntaps, tpc, taps", [(288, 9, 216), (576, 9, 216), (147, 49, 216),
                                              (216, 9, 216), (225, 9, 216), (1152, 9, 128),
                                              (27, 27, 216), (300, 25, 216), (81, 81, 64)])
def test_filtt_tap_blocks_are_even_whole_channels(ntaps, tpc, taps):
    """Tap blocks hold whole channels, no more blocks than blocks of about
    `taps` would need, and none of them much shorter than the others."""
    tblk = _engine._even_tap_blocks(ntaps, tpc, taps)
    base = max(tpc, taps // tpc * tpc)
    assert tblk % tpc == 0 and tpc <= tblk <= max(base, ntaps)
    nblk = -(-ntaps // tblk)
    assert nblk == -(-ntaps // base)
    last = ntaps - (nblk - 1) * tblk
    assert tblk - last <= tpc * nblk


def test_filtt_blocks_per_unit_fit_the_budget():
    """Blocks per unit: a divisor of a group's blocks whose weights fit the
    budget; weights larger than the budget keep one block per unit."""
    budget = _engine._FILTT_UNIT_WEIGHTS
    assert _engine._filtt_blocks_per_unit(4, budget // 4) == 4
    assert _engine._filtt_blocks_per_unit(4, budget // 3) == 2       # 3 does not divide 4
    assert _engine._filtt_blocks_per_unit(16, budget) == 1
    assert _engine._filtt_blocks_per_unit(16, 2 * budget) == 1
    assert _engine._filtt_blocks_per_unit(6, budget // 5) == 3


@pytest.mark.parametrize("driver", ["flat", "filtt"])
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("relu", [False, True])
def test_nan_reaches_exactly_the_outputs_that_see_it(driver, level, relu):
    """NaN propagates through the tile buffers and the fused ReLU (max(NaN, 0)
    stays NaN), and garbage columns never leak into valid outputs."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 9, 13)).astype(np.float32)
    w = (rng.uniform(0.5, 1.5, (7, 5, 3, 3)) * rng.choice([-1, 1], (7, 5, 3, 3))).astype(np.float32)
    marker = np.zeros(x.shape, np.float64)
    for p in [(0, 1, 0, 0), (1, 4, 8, 12), (1, 2, 4, 6)]:
        x[p] = np.nan
        marker[p] = 1
    geometry = dict(stride=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)), relu=relu,
                    level=level)
    plan = _forced_plan(driver, x, w, **geometry)
    y = _engine.correlate(x, w, nthreads=2, plan=plan, **geometry)
    seen, _ = reference_conv(marker, np.ones(w.shape), pads=1)
    assert np.array_equal(np.isnan(y), seen > 0)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("Fg", [8, 19, 40])
def test_filtt_group_store_keeps_nan_and_negative_zero(level, dtype, Fg):
    """The FILTT group store (fc_filtt_untile_*: 16 x 16 / 8 x 8 / 4 x 4 blocks
    transposed in registers, scalar edges) writes every filter's outputs
    where they belong, and its fused ReLU is exactly `0 if v < 0 else v`:
    NaN keeps its bits, -0.0 stays -0.0.  Filters in full and partial
    vector blocks, positions in full blocks and a remainder."""
    rng = np.random.default_rng(Fg)
    Cg = 12
    x = rng.standard_normal((2, Cg, 11, 13)).astype(dtype)
    x[:, :, :5, :6] = 0                        # windows of zeros ...
    x[1, 3, 9, 2] = np.nan
    x[0, 7, 1, 11] = -np.nan
    w = rng.standard_normal((Fg, Cg, 3, 3)).astype(dtype)
    w[0] = -np.abs(w[0])                       # ... times negative weights: -0
    b = rng.standard_normal(Fg).astype(dtype)
    b[0] = -0.0
    geometry = dict(stride=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)), level=level)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    out = {}
    for relu in (False, True):
        plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, force={"filtt": True},
                                      relu=relu, **geometry)
        assert plan.path == "filtt"
        out[relu] = _engine.correlate(x, w, bias=b, nthreads=2, plan=plan, relu=relu,
                                      **geometry)
    plain, fused = out[False], out[True]
    assert np.signbit(plain[0, 0, :3, :4]).all()       # -0.0 outputs exist
    assert np.isnan(plain).any() and np.isnan(plain[1]).any()
    assert np.array_equal(fused.view(bits), np.where(plain < 0, 0, plain).view(bits))
    gen = _engine.correlate(x, w, bias=b, nthreads=1, force={"generic": True}, relu=False,
                            **geometry)
    assert np.array_equal(np.isnan(plain), np.isnan(gen))
    fin = ~np.isnan(gen)
    assert np.array_equal(plain[fin].view(bits), gen[fin].view(bits))


# FILTT geometries with a padded copy: (x, w, stride, dilation, pad, groups)
FILTT_LAZY = [
    ((2, 16, 30, 30), (32, 16, 3, 3), (1, 1), (1, 1), 1, 1),
    ((2, 8, 33, 31), (16, 8, 3, 3), (2, 2), (2, 2), 2, 1),      # strided, dilated
    ((2, 8, 20, 20), (16, 4, 3, 3), (1, 1), (1, 1), 1, 2),      # two groups
    ((1, 8, 10, 12, 14), (16, 8, 3, 3, 3), (1, 1, 1), (1, 1, 1), 1, 1),   # conv3d
]


# default blocks; one row per block, none filled ahead (a row missed shows)
@pytest.mark.parametrize("block", [None, 1])
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geometry", FILTT_LAZY)
def test_filtt_lazy_padded_copy_equals_copy_pass(level, dtype, geometry, block):
    """FILTT units that fill the padded rows they read themselves give the
    bits of the copy made in a pass of its own, for 1 to 4 threads, on a
    NaN-poisoned scratch; the copy returns max |x|."""
    xs, ws, s, d, p, g = geometry
    rank = len(xs) - 2
    rng = np.random.default_rng(13)
    x = rng.standard_normal(xs).astype(dtype)
    x.reshape(-1)[3::89] = np.inf
    x.reshape(-1)[x.size - 1] = -30.25             # the largest finite |x|, last element
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    kw = dict(stride=s, dilation=d, pads=((p, p),) * rank, groups=g, level=level)
    lazy = _engine.plan_correlate(xs, ws, dtype, force={"filtt": True, "lazy_block": block,
                                                         "lazy_ahead": 0 if block else 1},
                                  **kw)
    eager = _engine.plan_correlate(xs, ws, dtype, force={"filtt": True, "lazy": False}, **kw)
    assert lazy.path == "filtt"
    assert_lazy_copy_matches_pass(_engine, _engine._run_filtt, lazy, eager, x, w, b, 30.25)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geometry", [
    ((2, 16, 30, 30), (32, 16, 3, 3), 1, {"filtt": True}),     # FILTT
    ((1, 1, 300, 100), (1, 1, 5, 5), 1, {}),                   # ROWS with a padded copy
])
def test_lazy_copy_reads_strided_view(level, dtype, geometry):
    """A lazy padded copy reads a strided view of x through its strides
    (the phase of a stride == dilation layer, kept without a copy): the
    bits equal those of its contiguous copy for 1 and 2 threads, and max |x|
    is the view's (a larger value in the phase not read is not seen)."""
    xs, ws, g, force = geometry
    rng = np.random.default_rng(14)
    big = rng.standard_normal(xs[:2] + tuple(2 * n for n in xs[2:])).astype(dtype)
    big[..., 1::2, :] = 1e3                            # the phase the view skips
    view = big[..., ::2, ::2]
    view[..., -1, -1] = 20.5                           # the largest finite |x| of the view
    x = np.ascontiguousarray(view)
    w = rng.standard_normal(ws).astype(dtype)
    b = np.zeros(0, dtype)
    kern = _dispatch.get_kernels(level)
    p = ws[-1] // 2
    kw = dict(stride=(1, 1), dilation=(1, 1), pads=((p, p), (p, p)), groups=g, level=level)
    plan = _engine.plan_correlate(xs, ws, dtype, force=force, **kw)
    assert plan.path in ("filtt", "rows_padded") and plan.consts["lazy"]
    run = _engine._run_filtt if plan.path == "filtt" else _engine._run_rows
    ref = np.empty(plan.oshape, dtype)
    run(plan, kern, x, w, b, ref, 1)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    for nthreads in (1, 2):
        got, out = [], np.full_like(ref, np.nan)
        run(plan, kern, view, w, b, out, nthreads, fold=got)
        assert np.array_equal(out.view(bits), ref.view(bits))
        assert got == [20.5]


def test_phase_of_a_stride_is_read_without_a_copy(monkeypatch):
    """stride == dilation: the engine reads the one phase of x its taps
    use as a view, and the FILTT lazy copy reads it in place -- no
    contiguous copy of x is made; the result is the same bits as with the
    copy made (the lazy copy switched off)."""
    rng = np.random.default_rng(15)
    x = rng.standard_normal((8, 32, 64, 64)).astype(np.float32)
    w = rng.standard_normal((64, 32, 3, 3)).astype(np.float32)     # some |w| > 1
    kw = dict(stride=(2, 2), dilation=(2, 2), pads=((2, 2), (2, 2)))
    ref = _engine.correlate(x, w, force={"filtt": True, "lazy": False}, nthreads=2, **kw)
    made = []
    real = np.ascontiguousarray

    def spy(a, *args, **kwargs):
        if isinstance(a, np.ndarray) and not a.flags.c_contiguous:
            made.append(a.shape)
        return real(a, *args, **kwargs)
    monkeypatch.setattr(_engine.np, "ascontiguousarray", spy)
    got = _engine.correlate(x, w, force={"filtt": True}, nthreads=2, **kw)
    assert made == []
    assert np.array_equal(got.view(np.uint32), ref.view(np.uint32))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stride_2_phase_copy_for_every_row_width(level, dtype):
    """The padded copy of a stride-2 layer whose taps land on one phase reads
    every second element of a row (two vectors, one shuffle; a scalar loop
    for the rest): phase rows 1-37 elements long (every vector count and
    remainder), a NaN at the last element a row's copy reads and an infinity
    at the first, give the bits of the generic kernel on the layer as given
    (no phase reduction, no copy)."""
    rng = np.random.default_rng(16)
    kw = dict(stride=(2, 2), dilation=(2, 2), pads=((2, 2), (2, 2)), level=level)
    for wq in range(1, 38):
        W = 2 * wq - 1 + (wq % 2)          # odd and even input widths
        x = rng.standard_normal((2, 3, 5, W)).astype(dtype)
        x[0, 1, 2, 2 * (wq - 1)] = np.nan  # last element of its phase row
        x[1, 2, 4, 0] = np.inf
        w = rng.uniform(-1, 1, (16, 3, 3, 3)).astype(dtype)
        plan = _engine.plan_correlate(x.shape, w.shape, dtype, force={"generic": True},
                                      **kw)
        ref = _engine.correlate(x, w, nthreads=1, plan=plan, **kw)
        got = _engine.correlate(x, w, nthreads=1, force={"filtt": True}, **kw)
        bits = np.uint32 if dtype == np.float32 else np.uint64
        assert np.array_equal(got.view(bits), ref.view(bits)), wq


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("relu", [False, True])
def test_filtt_streaming_store_gives_the_same_bits(level, dtype, relu):
    """FILTT plans of large outputs write with non-temporal stores (AVX-512
    float32: whole 64-byte lines of an output the engine allocates aligned);
    forced on small layers they give the bits of normal stores and of the
    generic kernel, into the engine's aligned output and into a caller's
    `out` that is not 64-byte aligned (those stores stay normal ones)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 6, 19, 21)).astype(dtype)
    x[0, 2, 3, 4] = np.nan
    w = rng.standard_normal((40, 6, 3, 3)).astype(dtype)
    b = rng.standard_normal(40).astype(dtype)
    geometry = dict(stride=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)), relu=relu,
                    level=level)
    gen = _engine.correlate(x, w, bias=b, nthreads=1, force={"generic": True}, **geometry)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    plans = {s: _engine.plan_correlate(x.shape, w.shape, x.dtype,
                                       force={"filtt": True, "stream": s}, **geometry)
             for s in (False, True)}
    assert plans[True].consts["stream"] and not plans[False].consts["stream"]
    y = _engine.correlate(x, w, bias=b, nthreads=2, plan=plans[True], **geometry)
    assert y.ctypes.data % 64 == 0
    assert np.array_equal(y.view(bits), gen.view(bits))
    # a caller's output one element past a 64-byte boundary
    raw = np.empty(gen.nbytes + 128, dtype=np.uint8)
    off = -raw.ctypes.data % 64 + np.dtype(dtype).itemsize
    out = raw[off:off + gen.nbytes].view(dtype).reshape(gen.shape)
    _engine.correlate(x, w, bias=b, nthreads=2, plan=plans[True], out=out, **geometry)
    assert np.array_equal(out.view(bits), gen.view(bits))
    y0 = _engine.correlate(x, w, bias=b, nthreads=2, plan=plans[False], **geometry)
    assert np.array_equal(y0.view(bits), gen.view(bits))


def test_filtt_streams_large_outputs_only():
    """The plan streams outputs from _FILTT_STREAM_BYTES on, at the levels
    whose group store writes whole lines (AVX-512 float32)."""
    geometry = dict(stride=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)))
    small = _engine.plan_correlate((2, 64, 28, 28), (64, 64, 3, 3), np.dtype(np.float32),
                                   force={"filtt": True}, **geometry)
    large = _engine.plan_correlate((16, 64, 56, 56), (64, 64, 3, 3), np.dtype(np.float32),
                                   force={"filtt": True}, **geometry)
    assert 16 * 64 * 56 * 56 * 4 >= _engine._FILTT_STREAM_BYTES > 2 * 64 * 28 * 28 * 4
    kern = _dispatch.get_kernels(large.level)
    assert large.consts["stream"] == kern.filtt_streams("f")
    assert not small.consts["stream"]
    for level in LEVELS:
        kern = _dispatch.get_kernels(level)
        assert kern.filtt_streams("f") == (level == "avx512")
        assert kern.filtt_streams("d") is False


def _at_offset(a, offset):
    """A copy of `a` whose data starts `offset` bytes past a 64-byte boundary."""
    buf = np.empty(a.nbytes + 128, dtype=np.uint8)
    start = (-buf.ctypes.data) % 64 + offset
    out = buf[start:start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 8, 16, 16), (1, 16, 1, 3001), (2, 5, 4, 16),
                                   (1, 4, 7, 9)], ids=str)
def test_flat_tiles_start_where_the_source_is_aligned(level, dtype, shape):
    """Pointwise layers whose planes keep 64-byte alignment start the flat
    tile grid where the source is 64-byte aligned (a short first tile):
    for every alignment of the input (NumPy gives 16 bytes), chunk size and
    thread count the bits are the same, and they are the reference's.
    (16 x 16 and 5 x 16 planes shift the grid; 3001- and 63-sample planes
    cannot and keep it.)"""
    rng = np.random.default_rng(9)
    x = rng.standard_normal(shape).astype(dtype)
    F = 13
    w = rng.standard_normal((F, shape[1], 1, 1)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    geometry = dict(stride=(1, 1), dilation=(1, 1), pads=((0, 0), (0, 0)))
    ref, scale = reference_conv(x, w, b)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    first = None
    for offset in range(0, 64, np.dtype(dtype).itemsize):
        xo = _at_offset(x, offset)
        for chunk, nthreads in ((None, 1), (64, 2), (40, 2)):
            plan = _forced_plan("flat", xo, w, chunk=chunk, level=level, relu=True,
                                **geometry)
            y = _engine.correlate(xo, w, bias=b, relu=True, nthreads=nthreads, level=level,
                                  plan=plan, **geometry)
            if first is None:
                first = y
                assert_conv_close(y, np.maximum(ref, 0), scale, dtype, n_terms(w.shape, 1))
            assert np.array_equal(first.view(bits), y.view(bits)), (offset, chunk, nthreads)
