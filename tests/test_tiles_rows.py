"""The ROWS driver's SLIDE tiles against the tap-by-tap ROWS tiles and the
generic kernel, at every SIMD level this CPU runs.

A SLIDE tile (fastconv/_rows_tiles.h) loads each input vector once per input
row and applies it to every output row of its R-row tile that needs it; each
accumulator still receives its taps in C order (plane, kernel row, kernel
column), so its results must be bitwise identical to the tap-by-tap tile's
(same vector code, same fused multiply-adds) and to the generic kernel's up
to FMA contraction (the bound of tests/test_tiles.py), for any thread count.
The cases cover every edge of the tile: kernels shorter and taller than R,
output rows not a multiple of R (the 1-row tiles), partial column tiles,
borders (generic loop) with and without a padded copy, 3-D kernels, column
dilation, row stride == row dilation, depthwise filters, bias and ReLU.
"""

import numpy as np
import pytest

from fastconv import _dispatch, _engine
from conftest import assert_folded_guard_matches_scan, assert_lazy_copy_matches_pass

LEVELS = _dispatch.supported_levels()
# (level, SLIDE tile of 512-bit vectors): every level's own tile, and the
# 512-bit one where a build has it (AVX-512) whatever this CPU prefers
WIDTHS = [(lv, False) for lv in LEVELS] + [
    (lv, True) for lv in LEVELS if _dispatch.get_kernels(lv).slide_has_wide()]

# (N, C=F=groups, spatial, kernel, stride, dilation, pads)
CASES = [
    (1, 1, (37, 70), (1, 5), (1, 1), (1, 1), ((0, 0), (2, 2))),         # one kernel row
    (1, 1, (23, 61), (2, 3), (1, 1), (1, 1), ((1, 0), (1, 1))),
    (1, 1, (31, 300), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),        # no copy, borders
    (1, 1, (29, 77), (5, 5), (1, 1), (1, 1), ((2, 2), (2, 2))),         # padded copy
    (1, 1, (40, 90), (9, 9), (1, 1), (1, 1), ((4, 4), (4, 4))),
    (1, 1, (33, 283), (15, 15), (1, 1), (1, 1), ((7, 7), (7, 7))),
    (1, 1, (26, 57), (16, 4), (1, 1), (1, 1), ((0, 0), (0, 0))),       # valid, tall kernel
    (1, 1, (19, 49), (7, 2), (1, 1), (1, 3), ((3, 3), (0, 2))),         # column dilation
    (1, 1, (41, 66), (3, 3), (2, 1), (2, 1), ((2, 2), (1, 1))),         # row stride == dilation
    (2, 3, (6, 17, 40), (3, 4, 3), (1, 1, 1), (2, 1, 1), ((1, 1), (2, 1), (1, 1))),  # 3-D
    (2, 5, (13, 45), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),         # depthwise
    (1, 1, (7, 35), (6, 3), (1, 1), (1, 1), ((0, 0), (1, 1))),          # two output rows
    (1, 1, (23, 261), (3, 5), (1, 1), (1, 1), ((1, 1), (2, 2))),        # no copy, partial tail
    (2, 1, (14, 257), (4, 4), (1, 1), (1, 1), ((2, 1), (1, 2))),        # even kernel, 2 images
]


def _run(case, dtype, level, force, nthreads, relu=False):
    N, C, S, K, s, d, pads = case
    rng = np.random.default_rng(11)
    x = rng.standard_normal((N, C) + S).astype(dtype)
    w = rng.standard_normal((C, 1) + K).astype(dtype)
    b = rng.standard_normal(C).astype(dtype)
    kw = dict(stride=s, dilation=d, pads=pads, groups=C, relu=relu, level=level, force=force)
    y = _engine.correlate(x, w, bias=b, nthreads=nthreads, **kw)
    ya = _engine.correlate(np.abs(x), np.abs(w), bias=np.abs(b), nthreads=1,
                           **dict(kw, relu=False))
    plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, **{k: v for k, v in kw.items()})
    return y, ya, int(np.prod(K)), plan


@pytest.mark.parametrize("level, sw", WIDTHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_slide_equals_tap_tiles_and_generic(level, sw, dtype, case):
    # (the depthwise 3x3 case would take the DW3 driver: tests/test_tiles_dw.py)
    slide, scale, m, plan = _run(CASES[case], dtype, level, {"dw3": False, "slide_wide": sw}, 2)
    assert plan.path in ("rows", "rows_padded")
    assert plan.consts["slide"] and plan.consts["slide_wide"] == sw
    taps, _, _, plan_t = _run(CASES[case], dtype, level, {"slide": False, "dw3": False}, 1)
    assert not plan_t.consts["slide"]
    generic, _, _, _ = _run(CASES[case], dtype, level, {"generic": True}, 1)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    assert np.array_equal(slide.view(bits), taps.view(bits))
    eps = np.finfo(dtype).eps
    assert np.all(np.abs(slide - generic) <= (m + 1) * eps * scale)


@pytest.mark.parametrize("level, sw", WIDTHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kh", range(1, 19))
def test_slide_every_kernel_height(level, sw, dtype, kh):
    # heights 1-16 have their own unrolled tile (FC_SLIDE_KHS), 17 and 18 run
    # the runtime-height one; a 3-D kernel (two planes) for odd heights; the
    # 1-row tiles and the borders (shorter heights kh1 - kh0) come along
    K = (2, kh, 3) if kh % 2 else (kh, 3)
    S = (5, kh + 10, 67) if kh % 2 else (kh + 10, 67)
    pads = ((0, 1),) * (len(K) - 2) + ((kh // 2, kh // 3), (1, 1))
    case = (1, 1, S, K, (1,) * len(K), (1,) * len(K), pads)
    slide, scale, m, plan = _run(case, dtype, level, {"dw3": False, "slide_wide": sw}, 2)
    assert plan.consts["slide"] and plan.consts["slide_wide"] == sw
    taps, _, _, _ = _run(case, dtype, level, {"slide": False, "dw3": False}, 1)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    assert np.array_equal(slide.view(bits), taps.view(bits))
    generic, _, _, _ = _run(case, dtype, level, {"generic": True}, 1)
    eps = np.finfo(dtype).eps
    assert np.all(np.abs(slide - generic) <= (m + 1) * eps * scale)


@pytest.mark.parametrize("level", LEVELS)
def test_slide_relu_and_thread_counts(level):
    case = CASES[4]
    one, _, _, _ = _run(case, np.float32, level, None, 1, relu=True)
    for nthreads in (2, 3):
        other, _, _, _ = _run(case, np.float32, level, None, nthreads, relu=True)
        assert np.array_equal(one.view(np.uint32), other.view(np.uint32))
    plain, _, _, _ = _run(case, np.float32, level, None, 1)
    assert np.array_equal(one, np.maximum(plain, 0))


def test_slide_not_used_when_rows_do_not_share_inputs():
    """Row stride != row dilation: output rows read disjoint input rows, the
    tap-by-tap tiles run."""
    plan = _engine.plan_correlate((1, 1, 40, 300), (1, 1, 3, 3), np.float32, stride=(2, 1),
                                  dilation=(1, 1), pads=((1, 1), (1, 1)))
    assert plan.path in ("rows", "rows_padded") and not plan.consts["slide"]


@pytest.mark.parametrize("level", LEVELS)
def test_slide_geometry_check(level):
    kern = _dispatch.get_kernels(level)
    toff = np.array([0, 1, 2, 10, 11, 12], dtype=np.intp)      # KH=2, KW=3, rows 10 apart
    assert kern.slide_ok(toff, 1, 2, 3, 10) == 1
    assert kern.slide_ok(toff, 1, 2, 3, 20) == 0               # rows 20 apart: no reuse
    assert kern.slide_ok(np.array([0, 2, 5], dtype=np.intp), 1, 1, 3, 10) == 0
    R, TW = kern.rows_tile("f")
    assert R >= 1 and TW % 4 == 0


def _corr(x, w, b, pads, level, force):
    return _engine.correlate(x, w, stride=(1, 1), dilation=(1, 1), pads=pads, bias=b,
                             nthreads=2, level=level, force=force)


@pytest.mark.parametrize("level, sw", WIDTHS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_slide_borders_bitwise_with_special_values(level, sw, dtype):
    """Border tiles of the SLIDE path run on a zero-padded copy of their
    window (w * 0 leaves an accumulator unchanged), unless a weight is not
    finite or a bias is -0.0: the results, NaN/inf/signed zeros included,
    must equal the tap-by-tap tiles' (whose borders skip the outside taps)."""
    bits = np.uint32 if dtype == np.float32 else np.uint64
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 1, 29, 300)).astype(dtype)
    x[0, 0, 3, 0] = np.inf                       # border column, inside rows
    x[0, 0, 10, -1] = np.nan
    x[0, 0, 14, 1:40] = 0.0
    x[0, 0, 15, 2:30] = -0.0
    pads = ((2, 2), (3, 4))
    cases = []
    w = rng.standard_normal((1, 1, 5, 8)).astype(dtype)
    cases.append((w, None))
    cases.append((w, np.array([-0.0], dtype)))   # -0 bias: generic borders
    w_inf = w.copy()
    w_inf[0, 0, 0, 0] = np.inf                   # inf weight: generic borders
    cases.append((w_inf, None))
    wz = np.zeros_like(w)
    wz[0, 0, 2, 3] = -1.0
    cases.append((wz, np.array([0.0], dtype)))   # signed zero products
    for w, b in cases:
        got = _corr(x, w, b, pads, level, {"slide_wide": sw})
        ref = _corr(x, w, b, pads, level, {"slide": False})
        assert np.array_equal(got.view(bits), ref.view(bits))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, pads", [
    ((2, 3, 5, 9, 11), (1, 2, 3)),          # many rows per parallel block, partial last block
    ((1, 1, 3, 4, 9000), (0, 1, 2)),        # rows longer than a block: one row per unit
    ((1, 2, 1, 1, 1), (2, 0, 1)),           # a single source element
    ((1, 1, 40, 70, 33), (2, 2, 2)),        # several blocks per plane
])
def test_pad_source_equals_np_pad_for_any_thread_count(level, dtype, shape, pads):
    """The padded copy of the ROWS/FILT paths: zeros around x, in blocks of
    rows per parallel unit (the last block partial), for 1-3 threads."""
    kern = _dispatch.get_kernels(level)
    x = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    pd, ph, pw = pads
    ref = np.pad(x, ((0, 0), (0, 0), (pd, pd), (ph, ph), (pw, pw)))
    Dp, Hp, Wq = ref.shape[2:]
    for nthreads in (1, 2, 3):
        flat = np.full(ref.size + 7, 7.0, dtype=dtype)
        kern.pad_source(x, flat, pd, ph, pw, Dp, Hp, Wq, nthreads)
        assert np.array_equal(flat[:ref.size].reshape(ref.shape), ref)
        assert np.all(flat[ref.size:] == 7.0)        # nothing written past the copy


@pytest.mark.parametrize("level", LEVELS)
def test_rows_units_handed_out_in_groups_bitwise_for_any_thread_count(level):
    """Short output rows: the ROWS driver hands out several consecutive row
    blocks per grab (fastconv/_kernels.pxi, rows_correlate); the result does
    not depend on the thread count or on who took which group."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 1, 30, 64, 40)).astype(np.float32)
    w = rng.standard_normal((1, 1, 3, 3, 3)).astype(np.float32)
    kw = dict(stride=(1, 1, 1), dilation=(1, 1, 1), pads=((1, 1),) * 3, level=level)
    plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, **kw)
    assert plan.path == "rows_padded" and plan.consts["ow"] < 1024 // 8
    one = _engine.correlate(x, w, nthreads=1, **kw)
    generic = _engine.correlate(x, w, nthreads=1, force={"generic": True}, **kw)
    assert np.allclose(one, generic, rtol=1e-5, atol=1e-4)
    for nthreads in (2, 3):
        other = _engine.correlate(x, w, nthreads=nthreads, **kw)
        assert np.array_equal(one.view(np.uint32), other.view(np.uint32))


def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, where, special", [
    ((1, 2, 7, 41, 37), (0, 1, 3, 20, 36), True),   # short rows: vectors and the scalar tail
    ((1, 2, 3, 9, 301), (0, 1, 2, 4, 70), True),    # long rows: the unrolled vector loop too
    ((1, 2, 3, 9, 301), (0, 0, 1, 8, 299), True),   # the largest in a row's tail
    ((1, 2, 3, 9, 301), (0, 1, 0, 0, 131), False),  # no NaN/inf: the vector loop's answer
])
def test_pad_source_max_equals_max_finite_abs(level, dtype, shape, where, special):
    """The padded copy's largest finite |x| (the folded overflow guard) is
    max_finite_abs's, with NaN, infinities and -0 present or not, 1-3
    threads."""
    kern = _dispatch.get_kernels(level)
    x = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    if special:
        x.reshape(-1)[::13] = np.inf
        x.reshape(-1)[3::17] = -np.inf
        x.reshape(-1)[5::19] = np.nan
        x.reshape(-1)[7::23] = -0.0
    x[where] = -9.25                                  # the largest finite
    ref = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2), (3, 3)))
    for nthreads in (1, 2, 3):
        flat = np.empty(ref.size, dtype)
        got = kern.pad_source(x, flat, 1, 2, 3, *ref.shape[2:], nthreads, True)
        assert got == kern.max_finite_abs(x.reshape(-1), 1) == 9.25
        assert np.array_equal(_bits(flat.reshape(ref.shape)), _bits(ref))
        assert kern.pad_source(x, flat, 1, 2, 3, *ref.shape[2:], nthreads) is None


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("geometry", [
    ((1, 1, 1000, 100), (1, 1, 5, 5), 2, "rows_padded"),          # one image, padded copy
    ((1, 1, 40, 50, 60), (1, 1, 3, 3, 3), 1, "rows_padded"),      # a volume
    ((2, 16, 48, 48), (32, 16, 3, 3), 1, None),                   # a CNN layer (filter tiles)
])
def test_guard_folded_into_padded_copy_equals_scan(level, big, geometry, monkeypatch):
    """|w| > 1 on a path that copies x with padding: the copy returns max |x|
    and no separate scan runs; the bits equal those of the scan (and of the
    baseline rerun when a product could overflow), for 1 and 2 threads."""
    xs, ws, p, path = geometry
    rank = len(xs) - 2
    rng = np.random.default_rng(4)
    x = rng.standard_normal(xs).astype(np.float32)
    if big:
        x.reshape(-1)[x.size // 2] = np.finfo(np.float32).max / 3
        x.reshape(-1)[17] = np.inf
    w = (3 * rng.standard_normal(ws)).astype(np.float32)
    kw = dict(stride=(1,) * rank, dilation=(1,) * rank, pads=((p, p),) * rank, level=level)
    plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, **kw)
    if level != "baseline":
        assert plan.path in _engine._FOLD_PATHS and _engine._copy_folds(plan.consts)
    if path:
        assert plan.path == path
    assert_folded_guard_matches_scan(_engine, x, w, kw, big, monkeypatch,
                                     no_scan=level != "baseline")


# in-place ROWS geometries (the path reads x itself): (x, w, stride, pads, groups)
IN_PLACE = [
    ((1, 1, 300, 300), (1, 1, 9, 9), (1, 1), ((4, 4), (4, 4)), 1),
    ((1, 1, 300, 300), (1, 1, 9, 9), (2, 1), ((3, 3), (3, 3)), 1),         # row stride
    ((1, 1, 20, 30, 300), (1, 1, 3, 3, 3), (2, 1, 1), ((1, 1),) * 3, 1),   # a volume
    ((2, 3, 40, 300), (3, 1, 5, 5), (1, 1), ((2, 2), (2, 2)), 3),          # depthwise, 2 images
    ((2, 1, 50000), (1, 1, 15), (1,), ((0, 0),), 1),                        # 1-D (wide tiles)
    ((1, 1, 80, 300), (1, 1, 5, 5), (1, 1), ((0, 3), (0, 3)), 1),           # one-sided pads
]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("geometry", IN_PLACE)
def test_in_place_units_scan_all_of_x(level, geometry):
    """rows_correlate(..., maxabs=True) on the input itself: the units'
    owned ranges tile x exactly, so the largest finite |x| is found wherever
    it sits (corners, the last row, the middle), past NaN and inf, for any
    thread count; the output is the same as without the scan."""
    xs, ws, s, pads, g = geometry
    rank = len(xs) - 2
    kern = _dispatch.get_kernels(level)
    rng = np.random.default_rng(11)
    w = rng.standard_normal(ws).astype(np.float32)
    plan = _engine.plan_correlate(xs, ws, np.float32, stride=s, dilation=(1,) * rank,
                                  pads=pads, groups=g, level=level)
    assert plan.path == "rows"
    b = np.zeros(0, np.float32)
    x = rng.standard_normal(xs).astype(np.float32)
    x.reshape(-1)[7::101] = np.nan
    x.reshape(-1)[3::211] = -np.inf
    flat = x.reshape(-1)
    for k, where in enumerate((0, x.size - 1, x.shape[-1] - 1, x.size - x.shape[-1],
                               x.size // 2 + 5, int(rng.integers(x.size)))):
        saved = flat[where]
        flat[where] = 50.0 + k
        ref = np.empty(plan.oshape, np.float32)
        _engine._run_rows(plan, kern, x, w, b, ref, 1)
        for nthreads in (1, 2, 3):
            got, out = [], np.empty_like(ref)
            _engine._run_rows(plan, kern, x, w, b, out, nthreads, fold=got)
            assert got == [50.0 + k]
            assert np.array_equal(out.view(np.uint32), ref.view(np.uint32))
        flat[where] = saved


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("big", [False, True])
def test_guard_folded_into_in_place_rows(level, big, monkeypatch):
    """|w| > 1 on the in-place ROWS path: the units return max |x| and no
    separate scan runs; the bits equal those of the scan (and of the
    baseline rerun when a product could overflow), for 1 and 2 threads."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 1, 400, 300)).astype(np.float32)
    if big:
        x[0, 0, 399, 299] = np.finfo(np.float32).max / 3
        x[0, 0, 0, 17] = np.inf
    w = (3 * rng.standard_normal((1, 1, 9, 9))).astype(np.float32)
    kw = dict(stride=(1, 1), dilation=(1, 1), pads=((4, 4), (4, 4)), level=level)
    assert _engine.plan_correlate(x.shape, w.shape, x.dtype, **kw).path == "rows"
    assert_folded_guard_matches_scan(_engine, x, w, kw, big, monkeypatch,
                                     no_scan=level != "baseline")


# padded-copy geometries of the ROWS driver: (x, w, stride, dilation, pads, groups)
LAZY = [
    ((1, 1, 40, 50, 60), (1, 1, 5, 5, 5), (1, 1, 1), (1, 1, 1), ((2, 2),) * 3, 1),
    ((2, 3, 9, 30, 20), (3, 1, 3, 4, 3), (2, 1, 1), (2, 1, 1), ((1, 2), (2, 1), (1, 1)), 3),
    ((1, 1, 300, 7), (1, 1, 5, 3), (1, 1), (1, 1), ((2, 2), (1, 1)), 1),      # rows of 9
    ((2, 4, 61, 45), (4, 1, 7, 5), (2, 1), (2, 1), ((3, 3), (2, 2)), 4),     # row stride
]


# default blocks; one row per block, none filled ahead (a row missed shows)
@pytest.mark.parametrize("block", [None, 1])
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geometry", LAZY)
def test_lazy_padded_copy_equals_copy_pass(level, dtype, geometry, block):
    """The padded copy filled by the driver's own units, a few rows ahead
    of their reads (``lazy``), gives the bits of the copy made in a pass of
    its own, for 1 to 4 threads (more threads than cores: units wait for
    blocks another thread is filling), and its copy returns max |x|."""
    xs, ws, s, d, pads, g = geometry
    rng = np.random.default_rng(12)
    x = rng.standard_normal(xs).astype(dtype)
    x.reshape(-1)[5::97] = np.nan
    x.reshape(-1)[x.size - 2] = -40.5               # the largest finite |x|, last row
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    kw = dict(stride=s, dilation=d, pads=pads, groups=g, level=level)
    lazy = _engine.plan_correlate(
        xs, ws, dtype, force={"lazy_block": block, "lazy_ahead": 0 if block else 1}, **kw)
    eager = _engine.plan_correlate(xs, ws, dtype, force={"lazy": False}, **kw)
    assert lazy.path == "rows_padded"
    assert_lazy_copy_matches_pass(_engine, _engine._run_rows, lazy, eager, x, w, b, 40.5)


@pytest.mark.parametrize("level", LEVELS)
def test_slide_width_default_and_override(level, monkeypatch):
    """Plans take the SLIDE tile the CPU prefers (the 512-bit one only where
    the build has it), and FASTCONV_SLIDE_WIDTH=256/512 overrides that."""
    kern = _dispatch.get_kernels(level)
    assert kern.slide_wide_preferred() in (True, False)
    if not kern.slide_has_wide():
        assert not kern.slide_wide_preferred()
    shape = (1, 1, 40, 90)
    geo = dict(stride=(1, 1), dilation=(1, 1), pads=((4, 4), (4, 4)), groups=1, level=level)

    def width(env):
        if env is None:
            monkeypatch.delenv("FASTCONV_SLIDE_WIDTH", raising=False)
        else:
            monkeypatch.setenv("FASTCONV_SLIDE_WIDTH", env)
        plan = _engine.plan_correlate(shape, (1, 1, 9, 9), np.dtype(np.float32),
                                      force={"dw3": False}, **geo)
        assert plan.consts["slide"]
        return plan.consts["slide_wide"]

    assert width(None) == kern.slide_wide_preferred()
    assert width("512") == kern.slide_has_wide()
    assert width("256") is False


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_max_every_length_and_tail_position(level, dtype):
    """The row scan (and the padded copy that folds it) for every row length
    from 1 to 70 -- shorter than a vector, whole vectors, and every length of
    the masked last vector -- with the largest finite |x|, an infinity or a
    NaN at each position class: the exact answer, and the copy's bits."""
    kern = _dispatch.get_kernels(level)
    rng = np.random.default_rng(5)
    for n in range(1, 71):
        base = rng.uniform(-1, 1, n).astype(dtype)
        for where in sorted({0, n // 2, n - 1, max(n - 5, 0)}):
            for special in (None, np.inf, -np.inf, np.nan):
                x = base.copy()
                x[where] = -7.5
                if special is not None and n > 1:
                    x[(where + 1) % n] = special
                finite = x[np.isfinite(x)]
                want = float(np.abs(finite).max()) if finite.size else 0.0
                assert kern.max_finite_abs(x, 1) == want, (n, where, special)
                x5 = x.reshape(1, 1, 1, 1, n)
                ref = np.pad(x5, ((0, 0), (0, 0), (0, 0), (1, 1), (2, 3)))
                flat = np.full(ref.size, 99, dtype)
                got = kern.pad_source(x5, flat, 0, 1, 2, 1, 3, n + 5, 1, True)
                assert got == want, (n, where, special)
                assert np.array_equal(_bits(flat.reshape(ref.shape)), _bits(ref))
