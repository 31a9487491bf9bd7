"""The pool of reused output memory (fastconv/_memory.py)."""
import gc

import numpy as np
import pytest

import fastconv
from fastconv import _memory

BIG = (_memory.MIN_BYTES // 8 + 100,)          # float64 elements just past the threshold


@pytest.fixture
def pool(monkeypatch):
    """An empty pool with the default budget, emptied again afterwards."""
    monkeypatch.setattr(_memory, "_BUDGET", [256 << 20])
    _memory.clear()
    gc.collect()
    yield _memory
    _memory.clear()


def test_large_outputs_reuse_their_memory(pool):
    a = pool.empty(BIG, np.float64)
    assert a.shape == BIG and a.dtype == np.float64 and a.flags.c_contiguous
    assert a.flags.writeable and a.ctypes.data % 64 == 0
    ptr = a.ctypes.data
    a[:] = 1.5
    assert pool.pooled_bytes() == 0
    del a
    assert pool.pooled_bytes() >= BIG[0] * 8
    b = pool.empty((BIG[0] // 2, 2), np.float64)          # the same bytes, another shape
    assert b.ctypes.data == ptr and b.shape == (BIG[0] // 2, 2)
    assert pool.pooled_bytes() == 0


def test_a_view_keeps_the_memory_in_use(pool):
    a = pool.empty(BIG, np.float64)
    ptr = a.ctypes.data
    v = a[10:].reshape(-1)[::2]          # a view of a view
    v[:] = 3.0
    del a
    gc.collect()
    assert pool.pooled_bytes() == 0      # v still uses it
    b = pool.empty(BIG, np.float64)
    assert b.ctypes.data != ptr
    b[:] = -1.0
    assert np.all(v == 3.0)              # untouched by the new array's writes
    del v
    assert pool.pooled_bytes() >= BIG[0] * 8


def test_no_reuse_of_a_much_larger_or_smaller_buffer(pool):
    a = pool.empty((4 * BIG[0],), np.float64)
    del a
    held = pool.pooled_bytes()
    b = pool.empty(BIG, np.float64)                 # a quarter of it: not taken
    assert pool.pooled_bytes() == held
    c = pool.empty((8 * BIG[0],), np.float64)       # larger than it: not taken
    assert pool.pooled_bytes() == held
    del b, c


def test_the_budget_bounds_what_is_kept(pool, monkeypatch):
    monkeypatch.setattr(_memory, "_BUDGET", [3 * BIG[0] * 8])
    arrays = [pool.empty(BIG, np.float64) for _ in range(5)]
    del arrays
    assert 0 < pool.pooled_bytes() <= 3 * BIG[0] * 8
    huge = pool.empty((4 * BIG[0],), np.float64)    # larger than the budget: not kept
    del huge
    assert pool.pooled_bytes() <= 3 * BIG[0] * 8
    monkeypatch.setattr(_memory, "_BUDGET", [0])    # off: plain arrays
    a = pool.empty(BIG, np.float64)
    assert a.base is None or isinstance(a.base, np.ndarray)
    assert a.ctypes.data % 64 == 0


def test_small_outputs_are_plain_arrays(pool):
    a = pool.empty((3, 5), np.complex128)
    assert a.shape == (3, 5) and a.dtype == np.complex128 and a.ctypes.data % 64 == 0
    del a
    assert pool.pooled_bytes() == 0


def test_engine_outputs_come_from_the_pool(pool):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1100, 1024))          # 9 MB float64 output
    k = rng.standard_normal((3, 3))
    ref = fastconv.convolve(x, k, "same")
    want = fastconv.convolve(x.astype(np.float64), k, "same", method="fft")
    np.testing.assert_allclose(ref, want, rtol=1e-10, atol=1e-10)
    assert pool.pooled_bytes() == 0
    kept = ref.copy()
    del ref
    assert pool.pooled_bytes() >= x.nbytes
    again = fastconv.convolve(x, k, "same")        # into the reused memory
    assert pool.pooled_bytes() == 0
    assert np.array_equal(again, kept)


@pytest.mark.parametrize("value, expected", [("", 256 << 20), ("0", 0), ("64", 64 << 20),
                                             ("0.5", 1 << 19)])
def test_budget_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("FASTCONV_OUTPUT_CACHE_MB", value)
    assert _memory._budget_from_env() == expected


def test_a_malformed_budget_is_an_error(monkeypatch):
    monkeypatch.setenv("FASTCONV_OUTPUT_CACHE_MB", "lots")
    with pytest.raises(ImportError, match="FASTCONV_OUTPUT_CACHE_MB"):
        _memory._budget_from_env()
