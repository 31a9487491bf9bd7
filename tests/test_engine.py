"""fastconv._engine.correlate: the canonical correlation behind every front-end.

Run at every SIMD level this build and CPU support, against the NumPy
reference of conftest.py; exact uint64 wrap-around sums; ``out=`` and
``accumulate=``; bitwise-identical results for any thread count (including
the column blocks long rows are split into); the FASTCONV_SIMD override in a
subprocess.  Tolerances are those of ``conftest.assert_conv_close`` (float64:
1e-12 * sum|terms|; float32: the derived worst-case bound).
"""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from fastconv import _dispatch, _engine
from conftest import assert_conv_close, random_array, reference_conv

LEVELS = _dispatch.supported_levels()

# (N, G, Cg, Fg, S, K, stride, dilation, pads)
ENGINE_CASES = [
    (2, 1, 3, 2, (13,), (3,), (1,), (1,), ((1, 1),)),
    (1, 2, 2, 3, (16,), (4,), (3,), (2,), ((0, 5),)),
    (2, 3, 1, 1, (9,), (2,), (1,), (3,), ((3, 0),)),
    (1, 1, 2, 2, (7, 9), (3, 2), (2, 1), (1, 2), ((1, 2), (0, 0))),
    (2, 2, 1, 2, (8, 6), (1, 3), (1, 3), (1, 1), ((0, 0), (4, 4))),
    (1, 4, 1, 1, (6, 7), (3, 3), (1, 1), (2, 1), ((2, 2), (1, 1))),
    (1, 1, 2, 3, (5, 6, 7), (2, 3, 2), (1, 2, 1), (2, 1, 1), ((1, 0), (0, 2), (1, 1))),
    (2, 2, 2, 1, (4, 5, 6), (3, 1, 4), (2, 1, 3), (1, 1, 1), ((0, 0), (0, 0), (2, 3))),
    # rows and filter counts long enough for the vectorised main loops (AVX-512
    # holds 16 floats), not only their remainders: contiguous rows for
    # channels_first, many filters / depthwise channels for channels_last
    (1, 1, 2, 3, (70,), (5,), (1,), (1,), ((2, 2),)),
    (1, 1, 2, 2, (3, 75), (2, 3), (1, 2), (1, 3), ((0, 1), (4, 1))),
    (1, 1, 3, 19, (3, 37), (2, 3), (1, 2), (1, 1), ((0, 1), (1, 1))),
    (2, 1, 5, 20, (5, 33), (3, 3), (2, 1), (1, 1), ((1, 1), (1, 1))),
    (1, 35, 1, 1, (2, 3, 45), (1, 2, 3), (1, 1, 1), (1, 1, 2), ((0, 0), (1, 0), (3, 3))),
    (1, 17, 1, 2, (40,), (4,), (1,), (1,), ((3, 0),)),
    # rank 4 (decomposed into accumulated rank-3 calls)
    (1, 2, 1, 2, (3, 4, 5, 6), (2, 2, 3, 2), (1, 2, 1, 2), (1, 1, 2, 1),
     ((1, 0), (0, 1), (1, 1), (0, 0))),
]


def _layout(x, w, layout):
    if layout == "channels_first":
        return x, w
    r = x.ndim - 2
    return np.moveaxis(x, 1, -1), np.transpose(w, tuple(range(2, 2 + r)) + (1, 0))


def _back(a, layout):
    return a if layout == "channels_first" else np.moveaxis(a, 1, -1)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("level", LEVELS)
def test_correctness_grid_at_every_level(rng, level, dtype, layout, bias, relu):
    # one thread: thread-count independence is tested bitwise below, and tiny
    # 2-thread calls only add scheduling noise on a loaded machine
    for N, G, Cg, Fg, S, K, s, d, pads in ENGINE_CASES:
        x = random_array(rng, (N, G * Cg) + S, dtype)
        w = random_array(rng, (G * Fg, Cg) + K, dtype)
        b = random_array(rng, (G * Fg,), dtype) if bias else None
        xx, ww = _layout(x, w, layout)
        out = _engine.correlate(np.ascontiguousarray(xx), np.ascontiguousarray(ww), stride=s,
                                dilation=d, pads=pads, groups=G, bias=b, relu=relu,
                                layout=layout, nthreads=1, level=level)
        assert out.dtype == np.dtype(dtype)
        ref, scale = reference_conv(x, w, b, s, pads, d, G)
        if relu:
            ref = np.maximum(ref, 0)
        assert_conv_close(out, _back(ref, layout), _back(scale, layout), dtype,
                          Cg * math.prod(K))
        assert out.shape == _engine.output_shape(xx.shape, ww.shape, s, d, pads, G, layout)


@pytest.mark.parametrize("level", LEVELS)
def test_kernel_modules_report_their_level(level):
    assert _dispatch.get_kernels(level).simd_level() == level


def test_unsupported_level_raises():
    with pytest.raises(ValueError, match=r"SIMD level 'sse9' is not runnable here"):
        _dispatch.get_kernels("sse9")


@pytest.mark.parametrize("case", range(len(ENGINE_CASES)))
def test_uint64_sums_are_exact_and_wrap(rng, case):
    """uint64 (channels_first): the exact sum modulo 2**64 at every level,
    checked with Python integers."""
    N, G, Cg, Fg, S, K, s, d, pads = ENGINE_CASES[case]
    x = rng.integers(0, 2 ** 64, (N, G * Cg) + S, dtype=np.uint64)
    w = rng.integers(0, 2 ** 64, (G * Fg, Cg) + K, dtype=np.uint64)
    b = rng.integers(0, 2 ** 64, (G * Fg,), dtype=np.uint64)
    ref = _exact_reference(x, w, b, s, d, pads, G)
    for level in LEVELS:
        for bias in (b, None):
            out = _engine.correlate(x, w, stride=s, dilation=d, pads=pads, groups=G,
                                    bias=bias, nthreads=2, level=level)
            assert out.dtype == np.uint64
            expected = ref if bias is not None else ref - b.reshape((1, -1) + (1,) * len(S))
            assert np.array_equal(out, expected), (level, bias is None)


def _exact_reference(x, w, b, stride, dilation, pads, groups):
    """Python-int correlation mod 2**64 (object arrays, explicit loops)."""
    import itertools
    N, C = x.shape[:2]
    F, Cg = w.shape[:2]
    K = w.shape[2:]
    xo = x.astype(object)
    wo = w.astype(object)
    S = x.shape[2:]
    osp = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                for n, k, s, d, (lo, hi) in zip(S, K, stride, dilation, pads))
    out = np.zeros((N, F) + osp, dtype=object)
    Fg = F // groups
    for n, f in itertools.product(range(N), range(F)):
        g = f // Fg
        for o in itertools.product(*(range(m) for m in osp)):
            acc = int(b[f])
            for c in range(Cg):
                for t in itertools.product(*(range(k) for k in K)):
                    idx = tuple(oi * s + ti * d - lo for oi, ti, s, d, (lo, _)
                                in zip(o, t, stride, dilation, pads))
                    if all(0 <= i < m for i, m in zip(idx, S)):
                        acc += xo[(n, g * Cg + c) + idx] * wo[(f, c) + t]
            out[(n, f) + o] = acc % 2 ** 64
    return out.astype(np.uint64)


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
@pytest.mark.parametrize("rank", [1, 2, 3, 4])
def test_out_and_accumulate(rng, rank, layout):
    """out= is filled and returned; accumulate=True adds a second correlation
    without adding the bias again."""
    case = [c for c in ENGINE_CASES if len(c[4]) == rank][0]
    N, G, Cg, Fg, S, K, s, d, pads = case
    x1, x2 = (random_array(rng, (N, G * Cg) + S, np.float64) for _ in range(2))
    w1, w2 = (random_array(rng, (G * Fg, Cg) + K, np.float64) for _ in range(2))
    b = random_array(rng, (G * Fg,), np.float64)
    kw = dict(stride=s, dilation=d, pads=pads, groups=G, layout=layout, nthreads=2)
    xx1, ww1 = (np.ascontiguousarray(a) for a in _layout(x1, w1, layout))
    xx2, ww2 = (np.ascontiguousarray(a) for a in _layout(x2, w2, layout))
    shape = _engine.output_shape(xx1.shape, ww1.shape, s, d, pads, G, layout)
    out = np.full(shape, np.nan)
    res = _engine.correlate(xx1, ww1, bias=b, out=out, **kw)
    assert res is out
    assert not np.isnan(out).any()
    _engine.correlate(xx2, ww2, bias=b, out=out, accumulate=True, **kw)
    r1, s1 = reference_conv(x1, w1, b, s, pads, d, G)
    r2, s2 = reference_conv(x2, w2, None, s, pads, d, G)
    assert_conv_close(out, _back(r1 + r2, layout), _back(s1 + s2, layout), np.float64,
                      2 * Cg * math.prod(K))


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_empty_output_is_returned_untouched(layout):
    x = np.ones((0, 2, 5)) if layout == "channels_first" else np.ones((0, 5, 2))
    w = np.ones((3, 2, 2)) if layout == "channels_first" else np.ones((2, 2, 3))
    out = _engine.correlate(x, w, stride=(1,), dilation=(1,), pads=((0, 0),), layout=layout)
    assert out.shape == ((0, 3, 4) if layout == "channels_first" else (0, 4, 3))


# (x shape channels_first, w shape, stride, dilation, pads): the engine's
# work units are (row, column block); long rows are cut into blocks of >= 256
# columns when there are few rows, and into 4096-column blocks beyond 8192.
BLOCK_CASES = [
    ((1, 1, 200), (1, 1, 5), (1,), (1,), ((2, 2),)),  # short row: one block
    ((1, 1, 1500), (1, 1, 7), (1,), (1,), ((3, 3),)),  # split for the threads
    ((1, 2, 3001), (3, 2, 4), (2,), (3,), ((4, 5),)),  # split, strided
    ((1, 1, 20000), (1, 1, 9), (1,), (2,), ((0, 16),)),  # 4096-column blocks
    ((2, 1, 9000), (1, 1, 3), (3,), (1,), ((1, 1),)),
    ((1, 2, 3, 700), (2, 2, 2, 5), (1, 1), (1, 1), ((1, 0), (2, 2))),
    ((3, 2, 5, 6, 7), (4, 1, 2, 2, 3), (1, 2, 1), (1, 1, 2), ((0, 1), (1, 1), (2, 2))),
]


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(BLOCK_CASES)))
def test_bitwise_identical_for_any_thread_count(rng, case, dtype, layout):
    xs, ws, s, d, pads = BLOCK_CASES[case]
    groups = xs[1] // ws[1]
    x = random_array(rng, xs, dtype)
    w = random_array(rng, ws, dtype)
    b = random_array(rng, (ws[0],), dtype)
    xx, ww = (np.ascontiguousarray(a) for a in _layout(x, w, layout))
    results = [
        _engine.correlate(xx, ww, stride=s, dilation=d, pads=pads, groups=groups, bias=b,
                          layout=layout, nthreads=n)
        for n in (1, 2, 3, 4)
    ]
    for r in results[1:]:
        assert np.array_equal(r.view(np.uint8), results[0].view(np.uint8))
    if dtype == np.float64:  # and they are right
        ref, scale = reference_conv(x, w, b, s, pads, d, groups)
        assert_conv_close(results[0], _back(ref, layout), _back(scale, layout), dtype,
                          ws[1] * math.prod(ws[2:]))


def _run_python(code, **env):
    full_env = dict(os.environ)
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, timeout=120)


def test_forced_baseline_level_in_a_subprocess():
    code = (
        "import numpy as np, fastconv\n"
        "cfg = fastconv.show_config(print_out=False)\n"
        "print(cfg['simd']['level'], cfg['simd']['forced'])\n"
        "from fastconv import _dispatch\n"
        "print(_dispatch.kernels.simd_level())\n"
        "x = np.arange(24.0).reshape(1, 2, 12)\n"
        "w = np.arange(1.0, 13.0).reshape(2, 2, 3)\n"
        "print(fastconv.conv1d(x, w, padding='same', stride=2, workers=2).tolist())\n"
        "print(fastconv.conv1d(x.transpose(0, 2, 1), w.transpose(2, 1, 0), padding='same', "
        "stride=2, data_format='channels_last', workers=2).tolist())\n"
    )
    r = _run_python(code, FASTCONV_SIMD="baseline")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "baseline True"
    assert lines[1] == "baseline"
    # small integers: every sum is exact, so the result is known exactly
    x = np.arange(24.0).reshape(1, 2, 12)
    w = np.arange(1.0, 13.0).reshape(2, 2, 3)
    ref, _ = reference_conv(x, w, None, 2, ((0, 1),), 1, 1)
    assert eval(lines[2]) == ref.tolist()
    assert eval(lines[3]) == np.moveaxis(ref, 1, -1).tolist()


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_outputs_entirely_in_the_padding_are_the_bias(layout):
    """Rows/columns whose whole window lies in the zero padding get exactly
    bias (and relu(bias)); the taps are clipped, never read out of bounds."""
    x = np.full((1, 2, 3, 2), 7.0)
    w = np.ones((3, 2, 2, 2))
    b = np.array([1.5, -2.0, 0.0])
    pads = ((6, 5), (4, 7))
    xx, ww = (np.ascontiguousarray(a) for a in _layout(x, w, layout))
    for relu in (False, True):
        out = _engine.correlate(xx, ww, stride=(2, 3), dilation=(1, 2), pads=pads, bias=b,
                                relu=relu, layout=layout, nthreads=2)
        ref, _ = reference_conv(x, w, b, (2, 3), pads, (1, 2), 1)
        if relu:
            ref = np.maximum(ref, 0)
        np.testing.assert_array_equal(out, _back(ref, layout))  # small integers: exact
        inside = ref != (np.maximum(b, 0) if relu else b).reshape(1, -1, 1, 1)
        assert inside.any() and not inside.all()


def test_concurrent_calls_from_python_threads(rng):
    """The kernels release the GIL; concurrent calls (each with 2 OpenMP
    threads) give the same bits as serial calls."""
    from concurrent.futures import ThreadPoolExecutor
    jobs = []
    for i in range(8):
        x = rng.standard_normal((2, 4, 30, 40))
        w = rng.standard_normal((6, 2, 3, 3))
        jobs.append((np.ascontiguousarray(x), w, (1 + i % 2, 1), ((1, 1), (i % 3, 2))))

    def run(job, nthreads):
        x, w, s, pads = job
        return _engine.correlate(x, w, stride=s, dilation=(1, 1), pads=pads, groups=2,
                                 nthreads=nthreads)

    serial = [run(j, 1) for j in jobs]
    with ThreadPoolExecutor(4) as ex:
        parallel = list(ex.map(lambda j: run(j, 2), jobs))
    for a, b in zip(serial, parallel):
        assert np.array_equal(a.view(np.uint8), b.view(np.uint8))


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_one_phase_of_the_stride_is_read_as_a_stride_1_input(layout):
    """Axes whose taps all land on one phase of the stride (one tap, or a
    dilation that is a multiple of the stride) read x[r::s] with stride 1:
    the same products in the same order, so (channels first) the bits of
    the plan of the original geometry (passed explicitly: no reduction), on
    every axis mix, pad parity and input length, 1 and 2 threads."""
    rng = np.random.default_rng(8)
    cases = [((9, 12), (1, 1), (2, 2), (1, 1), ((0, 0), (0, 0))),      # 1x1 stride 2
             ((13, 11), (3, 3), (2, 2), (2, 2), ((2, 2), (2, 2))),      # stride == dilation
             ((13, 10), (3, 2), (2, 3), (4, 3), ((1, 3), (2, 0))),      # odd pads, phase r > 0
             ((5, 8), (2, 3), (3, 2), (6, 1), ((4, 1), (0, 1))),        # one axis only
             ((4, 5, 7), (2, 1, 3), (2, 2, 2), (2, 1, 2), ((1, 0), (0, 0), (3, 1))),
             ((3, 4), (3, 3), (2, 2), (2, 2), ((5, 5), (1, 6)))]        # mostly padding
    for S, K, st, d, pads in cases:
        rank = len(S)
        cf = layout == "channels_first"
        x = rng.standard_normal(((2, 3) + S) if cf else ((2,) + S + (3,)))
        w = rng.standard_normal(((4, 3) + K) if cf else (K + (3, 4)))
        kw = dict(stride=st, dilation=d, pads=pads, layout=layout)
        oshape = _engine.output_shape(x.shape, w.shape, st, d, pads, 1, layout)
        xr, sr, dr, pr = _engine._reduce_geometry(x, w, oshape, st, d, pads, layout)
        osp = oshape[2:] if cf else oshape[1:-1]
        for s0, dd, k, o, s1 in zip(st, d, K, osp, sr):
            if o > 1 and s0 > 1 and (k == 1 or dd % s0 == 0):
                assert s1 == 1
        assert _engine.output_shape(xr.shape, w.shape, sr, dr, pr, 1, layout) == oshape
        plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, force={"generic": True}, **kw)
        ref = _engine.correlate(x, w, nthreads=1, plan=plan, force={"generic": True}, **kw)
        one = _engine.correlate(x, w, nthreads=1, **kw)
        two = _engine.correlate(x, w, nthreads=2, **kw)
        assert np.array_equal(one.view(np.uint64), two.view(np.uint64))
        if cf:
            # channels-first paths all add the taps in (channel, kernel) order
            assert np.array_equal(one.view(np.uint64), ref.view(np.uint64)), (S, K, st, d)
        else:
            # channels-last runs a transposed tiled path on the new geometry:
            # another order of the same products
            assert np.allclose(one, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
        assert rank in (2, 3)


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_cached_geometry_plan_is_the_per_call_one(layout):
    """correlate() without a plan decides the reduced geometry and its plan
    once per geometry (_geometry_plan): the same bits as deciding them on
    the call (``force={}`` takes that branch), first call and cached ones,
    crops of x included, and the crop applied to each call's own x."""
    rng = np.random.default_rng(9)
    cases = [((9, 12), (1, 1), (2, 2), (1, 1), ((0, 0), (0, 0))),
             ((13, 11), (3, 3), (2, 2), (2, 2), ((2, 2), (2, 2))),
             ((13, 10), (3, 2), (2, 3), (4, 3), ((1, 3), (2, 0))),
             ((40, 50), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),
             ((4, 5, 7), (2, 1, 3), (2, 2, 2), (2, 1, 2), ((1, 0), (0, 0), (3, 1)))]
    _engine._geometry_plan.cache_clear()
    for S, K, st, d, pads in cases:
        cf = layout == "channels_first"
        w = rng.standard_normal(((4, 3) + K) if cf else (K + (3, 4))).astype(np.float32)
        kw = dict(stride=st, dilation=d, pads=[list(p) for p in pads], layout=layout)
        for seed in range(2):
            x = np.random.default_rng(seed).standard_normal(
                ((2, 3) + S) if cf else ((2,) + S + (3,))).astype(np.float32)
            got = _engine.correlate(x, w, nthreads=2, **kw)
            ref = _engine.correlate(x, w, nthreads=2, force={}, **kw)
            assert got.tobytes() == ref.tobytes(), (S, K, st, d, seed)
    info = _engine._geometry_plan.cache_info()
    assert info.misses == len(cases) and info.hits == len(cases)


def test_one_by_one_stride_2_layer_runs_pointwise():
    x = np.ones((2, 8, 10, 12), np.float32)
    w = np.ones((16, 8, 1, 1), np.float32)
    oshape = _engine.output_shape(x.shape, w.shape, (2, 2), (1, 1), ((0, 0), (0, 0)), 1,
                                  "channels_first")
    xr, sr, dr, pr = _engine._reduce_geometry(x, w, oshape, (2, 2), (1, 1), ((0, 0), (0, 0)),
                                              "channels_first")
    assert xr.shape == (2, 8, 5, 6) and sr == (1, 1) and pr == ((0, 0), (0, 0))
    plan = _engine.plan_correlate(xr.shape, w.shape, np.float32, stride=sr, dilation=dr,
                                  pads=pr)
    assert plan.path == "pointwise"


def test_small_lane_leaves_one_phase_strides_to_the_general_route():
    """A small call whose geometry the general route reduces (one phase of
    a stride read) gets no small plan: its first and later calls would
    otherwise run different geometries (channels-last: different bits)."""
    kw = dict(stride=(2, 2), dilation=(2, 2), pads=((1, 1), (1, 1)))
    assert _engine.plan_small((1, 2, 9, 9), (3, 2, 3, 3), np.float32, **kw) is None
    assert _engine.plan_small((1, 9, 9, 2), (3, 3, 2, 3), np.float32,
                              layout="channels_last", **kw) is None
    plain = dict(stride=(2, 2), dilation=(1, 1), pads=((1, 1), (1, 1)))
    assert _engine.plan_small((1, 2, 9, 9), (3, 2, 3, 3), np.float32, **plain) is not None
