"""The register-tiled kernel paths against the generic kernel, at every SIMD level.

The tiled paths (FILT: P filters x vectors; ROWS: rows x vectors; wide and
narrow tiles; partial tiles; column phases for strides; parallel padded
copies) accumulate every output element in the same order as the generic
row-AXPY kernel.  The comparison tolerance is the float rounding of a
sum of m products (both orders are the same, so the observed difference is
usually zero; the bound only allows for FMA-contraction differences between
vector and scalar code, at most one rounding per term): m * eps * sum|terms|.
"""

import numpy as np
import pytest

from fastconv import _dispatch, _engine

LEVELS = _dispatch.supported_levels()

# (N, C, F, groups, spatial, kernel, stride, dilation, pads)
CASES = [
    (2, 5, 15, 1, (6, 70), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),     # P blocks 8+4+2+1
    (1, 4, 8, 1, (5, 14), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),      # narrow rows
    (1, 3, 8, 1, (4, 33), (3, 2), (1, 1), (1, 1), ((0, 0), (0, 0))),      # no copy, partial tile
    (2, 4, 6, 2, (9, 41), (3, 4), (2, 3), (1, 2), ((2, 1), (0, 3))),      # groups, strides, phases
    (1, 6, 4, 1, (40,), (5,), (1,), (3,), ((4, 2),)),                     # rank 1
    (1, 3, 5, 1, (4, 5, 19), (2, 3, 3), (1, 1, 2), (1, 1, 1), ((1, 0), (1, 1), (2, 1))),
    (2, 8, 8, 8, (7, 37), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),      # depthwise (ROWS, copy)
    (1, 6, 6, 6, (5, 30), (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1))),      # depthwise strided
    (1, 1, 1, 1, (11, 300), (4, 5), (1, 1), (1, 2), ((1, 2), (4, 4))),    # single channel, borders
    (1, 1, 1, 1, (9000,), (31,), (1,), (1,), ((15, 15),)),                # 1-D, column chunks
    (2, 6, 10, 1, (3, 4, 50), (1, 1, 1), (1, 1, 1), (1, 1, 1), ((0, 0),) * 3),  # pointwise
]


def _run(case, dtype, level, generic, nthreads):
    N, C, F, G, S, K, s, d, pads = case
    rng = np.random.default_rng(7)
    x = rng.standard_normal((N, C) + S).astype(dtype)
    w = rng.standard_normal((F, C // G) + K).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    force = {"generic": True} if generic else None
    y = _engine.correlate(x, w, stride=s, dilation=d, pads=pads, groups=G, bias=b,
                          nthreads=nthreads, level=level, force=force)
    ya = _engine.correlate(np.abs(x), np.abs(w), stride=s, dilation=d, pads=pads,
                           groups=G, bias=np.abs(b), nthreads=1, level=level, force=force)
    return y, ya, (C // G) * int(np.prod(K))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_tiled_equals_generic(level, dtype, case):
    tiled, scale, m = _run(CASES[case], dtype, level, False, 2)
    generic, _, _ = _run(CASES[case], dtype, level, True, 1)
    eps = np.finfo(dtype).eps
    assert tiled.shape == generic.shape and tiled.dtype == generic.dtype
    assert np.all(np.abs(tiled - generic) <= (m + 1) * eps * scale)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_tiled_bitwise_for_any_thread_count(case):
    one, _, _ = _run(CASES[case], np.float32, None, False, 1)
    two, _, _ = _run(CASES[case], np.float32, None, False, 2)
    three, _, _ = _run(CASES[case], np.float32, None, False, 3)
    assert np.array_equal(one.view(np.uint32), two.view(np.uint32))
    assert np.array_equal(one.view(np.uint32), three.view(np.uint32))


def test_narrow_tiles_chosen_only_when_they_help():
    kern = _dispatch.kernels
    if kern.lanes("f", True) == kern.lanes("f"):
        pytest.skip("this level has one tile width")
    assert _engine._narrow_tiles(kern, "f", 14)        # 14/16 lanes vs 14/32
    assert not _engine._narrow_tiles(kern, "f", 64)    # both full
    assert not _engine._narrow_tiles(kern, "f", 56)    # 56/64 either way


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_parallel_nonfinite_check(dtype):
    """The compiled NaN/Inf scan used by the SciPy front-end (large arrays)."""
    from fastconv._direct import has_nonfinite
    rng = np.random.default_rng(3)
    n = (1 << 18) + 77                      # several chunks and a partial one
    a = rng.standard_normal(n).astype(dtype)
    assert not has_nonfinite(a)
    big = np.full(n, np.finfo(np.float32).max, dtype=dtype)
    assert not has_nonfinite(big)           # huge but finite
    for value in (np.nan, np.inf, -np.inf):
        for pos in (0, n // 2, n - 1):
            b = a.copy()
            b[pos] = value if np.dtype(dtype).kind == "f" else complex(0, value)
            assert has_nonfinite(b)
            assert has_nonfinite(b.reshape(1, n))
