"""The tiled overlap-save FFT route of ``method='auto'``/``'fft'``
(``fastconv._fft.tiled_convolve``): precision, accuracy bound, kernel
spectrum reuse, thread-count invariance, the plan's geometry and when the
cost model picks it.  No clock is read here (speed: ``python -m fastconv
bench``)."""

import math
import os
import platform
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.fft
import scipy.signal as ss

import fastconv
from fastconv import _cost, _dispatch, _fft

from conftest import IMPORT_ROOT

EPS32 = float(np.finfo(np.float32).eps)
EPS64 = float(np.finfo(np.float64).eps)

# (signal shape, kernel shape, axes): 1-D, 2-D, 3-D, batch axes with a
# broadcast kernel, and an axis too short to tile
CASES = [
    ((5000,), (255,), (0,)),
    ((300, 257), (31, 15), (0, 1)),
    ((130, 90), (31, 31), (0, 1)),
    ((30, 34, 40), (5, 7, 9), (0, 1, 2)),
    ((6, 3000), (1, 129), (1,)),
    ((700, 3), (60, 1), (0,)),
    ((40, 4000), (40, 33), (1,)),
    ((120, 97, 3), (31, 15, 1), (0, 1)),      # a last axis the kernel broadcasts along
]


def l1_bound(x, w, n, eps):
    """|error| <= C * sum|x| * sum|w| * eps * log2(n): the scale of a
    transform's rounding of a convolution (every output is bounded by
    sum|x| * max|w| <= sum|x| * sum|w|)."""
    return 8 * eps * math.log2(max(n, 2)) * float(np.abs(x).sum(dtype=np.float64)) \
        * float(np.abs(w).sum(dtype=np.float64))


def reference(x, w, mode, axes):
    """The float64 convolution (SciPy's direct method: exact but for
    float64 rounding)."""
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    if len(axes) == x.ndim and all(w.shape[a] > 1 for a in axes):
        return ss.convolve(x64, w64, mode, method="direct")
    return ss.fftconvolve(x64, w64, mode, axes=list(axes))


def tile_len(plan):
    windows, blocks = plan
    return math.prod(b[0] for b in blocks.values())


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}x{c[1]}")
def test_float32_stays_float32_within_the_bound(case, mode):
    s1, s2, axes = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal(s1).astype(np.float32)
    w = rng.standard_normal(s2).astype(np.float32)
    plan = _fft.tiled_plan(s1, s2, axes, mode)
    assert plan is not None
    got = _fft.tiled_convolve(x, w, axes, mode, 2)
    ref = reference(x, w, mode, axes)
    assert got.dtype == np.float32 and got.shape == ref.shape and got.flags.c_contiguous
    err = np.abs(got - ref).max()
    assert err <= l1_bound(x, w, tile_len(plan), EPS32)
    # computed in float32 (not in float64 and rounded at the end): the
    # error is float32-sized, far above the same route's in float64
    err64 = np.abs(_fft.tiled_convolve(x.astype(np.float64), w.astype(np.float64), axes,
                                       mode, 2) - ref).max()
    assert err > 1e4 * err64


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}x{c[1]}")
def test_float64_and_integers_within_the_bound(case, mode):
    s1, s2, axes = case
    rng = np.random.default_rng(2)
    for dtype in (np.float64, np.int16):
        x = (rng.standard_normal(s1) * 20).astype(dtype)
        w = (rng.standard_normal(s2) * 20).astype(dtype)
        got = _fft.tiled_convolve(x, w, axes, mode, 2)
        ref = reference(x, w, mode, axes)
        assert got.dtype == np.float64 and got.shape == ref.shape
        plan = _fft.tiled_plan(s1, s2, axes, mode)
        assert np.abs(got - ref).max() <= l1_bound(x, w, tile_len(plan), EPS64)


def test_mixed_precision_computes_in_the_wider_dtype():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(4000).astype(np.float32)
    w = rng.standard_normal(101)
    got = _fft.tiled_convolve(x, w, (0,), "same", 1)
    assert got.dtype == np.float64
    ref = reference(x, w, "same", (0,))
    assert np.abs(got - ref).max() <= l1_bound(x, w, 4096, EPS64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunk_points", [None, 1, 5000])
def test_bitwise_identical_for_every_thread_count(chunk_points, dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((600, 300)).astype(dtype)
    w = rng.standard_normal((31, 31)).astype(dtype)
    runs = [_fft.tiled_convolve(x, w, (0, 1), "same", t, chunk_points=chunk_points)
            for t in (1, 2, 3)]
    for r in runs[1:]:
        assert np.array_equal(r, runs[0])
    # and through the public function with workers=
    a = fastconv.convolve(x, w, "same", workers=1)
    b = fastconv.convolve(x, w, "same", workers=2)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES + [((4, 30, 34, 40), (1, 5, 7, 9), (1, 2, 3))])
@pytest.mark.parametrize("cols_fft", [True, False])
def test_scratch_buffers_give_the_scipy_fft_bits(case, dtype, cols_fft, monkeypatch):
    """The tiled route's transforms write into the thread's scratch buffers
    (pocketfft's binding called with ``out``); the numbers are those of the
    ``scipy.fft`` functions it replaces, bit for bit, over chunks of one
    and of several tiles, and no result shares memory with the scratch
    that the next call overwrites."""
    if not _fft._direct_calls():
        pytest.skip("the pocketfft binding is not called directly here")
    from fastconv import _engine
    s1, s2, axes = case
    rng = np.random.default_rng(11)
    x = rng.standard_normal(s1).astype(dtype)
    w = rng.standard_normal(s2).astype(dtype)
    monkeypatch.setattr(_fft, "COLS_FFT", cols_fft)
    monkeypatch.setattr(_fft, "ROWS_FFT", False)     # pocketfft for the last axis
    for chunk_points in (None, 1):
        got = _fft.tiled_convolve(x, w, axes, "same", 1, chunk_points=chunk_points)
        kept = got.copy()
        scratch = [b for b in vars(_engine._SCRATCH).values()]
        assert not any(np.shares_memory(got, b) for b in scratch)
        # the same call again: the scratch is overwritten, `got` is not
        again = _fft.tiled_convolve(x[..., ::-1].copy(), w, axes, "same", 1,
                                    chunk_points=chunk_points)
        assert np.array_equal(got, kept)
        with monkeypatch.context() as m:
            m.setattr(_fft, "_LEAN_OK", False)      # the scipy.fft functions
            assert not _fft._direct_calls()
            want = _fft.tiled_convolve(x, w, axes, "same", 1, chunk_points=chunk_points)
        assert np.array_equal(got, want)
        assert np.array_equal(again, _fft.tiled_convolve(x[..., ::-1].copy(), w, axes, "same", 2,
                                                         chunk_points=chunk_points))


def test_kernel_spectrum_computed_once_and_reused_across_batch_and_tiles(monkeypatch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 6000)).astype(np.float32)
    w = rng.standard_normal((1, 200)).astype(np.float32)
    calls = []
    real = _fft._kernel_spectrum

    def counting(*args):
        calls.append(args[0].shape)
        return real(*args)

    monkeypatch.setattr(_fft, "_kernel_spectrum", counting)
    plan = _fft.tiled_plan(x.shape, w.shape, (1,), "same")
    assert plan[1][1][2] > 2                 # several tiles along the signal
    got = _fft.tiled_convolve(x, w, (1,), "same", 2, chunk_points=4096)
    assert calls == [(1, 200)]               # once, for 8 rows and every chunk of tiles
    ref = reference(x, w, "same", (1,))
    assert np.abs(got - ref).max() <= l1_bound(x[0], w, 2048, EPS32)
    # every row of the batch is the row convolved alone
    for i in range(x.shape[0]):
        alone = _fft.tiled_convolve(x[i:i + 1], w, (1,), "same", 1)
        assert np.abs(got[i] - alone[0]).max() <= l1_bound(x[i], w, 2048, EPS32)


@pytest.mark.parametrize("shape, fsize, axes", [
    ((31, 31), (180, 2160), (0, 1)),          # a 2-D kernel, tiles of one image
    ((3, 31, 31), (180, 216), (1, 2)),        # a batch axis not transformed
    ((5, 7, 9), (16, 20, 30), (0, 1, 2)),
    ((1023,), (16875,), (0,)),
    ((1, 200), (2160,), (1,)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pruned_kernel_spectrum_is_rfftn_bitwise(shape, fsize, axes, dtype):
    """The kernel's spectrum transforms only its own rows on the last axis,
    then pads the others: the same 1-D transforms of the same data as
    ``rfftn(w, fsize, axes)``, so its bits on x86-64.  (SciPy's aarch64
    builds contract multiply-adds, and pocketfft's vector and scalar loops
    then round the same transform differently: a column lands in one or the
    other by how many columns run together, so there it is rfftn to
    rounding.)"""
    w = np.random.default_rng(8).standard_normal(shape).astype(dtype)
    want = scipy.fft.rfftn(w, fsize, axes=axes)
    eps = float(np.finfo(dtype).eps)
    for workers in (1, 2):
        got = _fft._kernel_spectrum(w, fsize, axes, workers)
        assert got.dtype == want.dtype and got.shape == want.shape
        if platform.machine().lower() in ("x86_64", "amd64"):
            assert np.array_equal(got.view(np.uint8), want.view(np.uint8))
        else:
            scale = float(np.abs(w).sum())
            assert np.abs(got - want).max() <= 8 * eps * math.log2(max(fsize)) * scale


@pytest.mark.parametrize("r0, r1", [(0, 180), (150, 330), (1950, 2130), (3000, 3180)])
def test_chunk_copy_clears_what_the_input_does_not_cover(r0, r1):
    """The chunk buffer comes uninitialised: the copy writes the input where
    the chunk covers it and zeros everywhere else (also for a chunk past the
    input's end)."""
    x = np.random.default_rng(9).standard_normal((2048, 2040))
    blocks = {0: (180, 150, 14, 15, 30), 1: (2160, 2040, 1, 15, 15)}
    buf = np.full((r1 - r0, 2160), np.nan)
    _fft._copy_chunk(buf, x, blocks, 0, r0, r1)
    want = np.zeros((4000, 2160))
    want[15:15 + 2048, 15:15 + 2040] = x
    assert np.array_equal(buf, want[r0:r1])


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_plan_geometry(mode):
    s1, s2 = (2048, 2048), (31, 31)
    windows, blocks = _fft.tiled_plan(s1, s2, (0, 1), mode)
    (B0, P0, nb0, f0, k0), (B1, P1, nb1, f1, k1) = blocks[0], blocks[1]
    assert P0 == B0 - 31 + 1 and nb0 > 1 and nb0 * P0 >= windows[0][1]
    assert B0 < 2048                         # the first axis is cut into tiles
    assert nb1 == 1 and P1 == windows[1][1] and B1 >= 2048 + 31 - 1
    # tiles are never shorter than the kernel, and whole axes do not wrap
    windows, blocks = _fft.tiled_plan((100_000,), (1023,), (0,), mode)
    B, P, nb, front, keep = blocks[0]
    assert nb > 1 and B >= 1023 and P == B - 1022 and nb * P >= windows[0][1]
    windows, blocks = _fft.tiled_plan((1500,), (1023,), (0,), mode)
    B, P, nb, front, keep = blocks[0]
    assert nb == 1 and P == windows[0][1] and B >= 1500 + 1022


def test_plan_declines_what_it_cannot_tile():
    assert _fft.tiled_plan((100,), (200,), (0,), "full") is None     # kernel longer
    assert _fft.tiled_plan((4, 100), (2, 9), (1,), "same") is None   # batch does not broadcast
    assert _fft.tiled_plan((4, 100), (4, 9), (), "same") is None
    assert _fft.tiled_compute_dtype(np.complex64, np.float32) is None
    assert _fft.tiled_compute_dtype(np.longdouble, np.float32) is None
    assert _fft.tiled_compute_dtype(np.float16, np.float16) == np.float32
    x = np.ones(50, np.complex128)
    assert _fft.tiled_convolve(x, x[:5], (0,), "full", 1) is None


def test_both_backends_within_the_bound(monkeypatch):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((400, 300)).astype(np.float32)
    w = rng.standard_normal((31, 31)).astype(np.float32)
    ref = reference(x, w, "same", (0, 1))
    plan = _fft.tiled_plan(x.shape, w.shape, (0, 1), "same")
    got = [_fft.tiled_convolve(x, w, (0, 1), "same", 2)]
    monkeypatch.setattr(_fft, "_ducc", None)     # scipy.fft
    got.append(_fft.tiled_convolve(x, w, (0, 1), "same", 2))
    for g in got:
        assert g.dtype == np.float32
        assert np.abs(g - ref).max() <= l1_bound(x, w, tile_len(plan), EPS32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_auto_takes_the_tiled_route_where_direct_cannot_win(dtype, monkeypatch):
    # large kernels: the cost model prices the tiled route cheapest, and
    # convolve/correlate(method='auto') run it (small copies of the big cases)
    rng = np.random.default_rng(7)
    for s1, s2 in [((2048, 2048), (31, 31)), ((1_000_000,), (4097,))]:
        x = np.zeros(s1, dtype)
        w = rng.standard_normal(s2).astype(dtype)
        assert fastconv.choose_conv_method(x, w, "same") == "fft"
        assert _cost.fft_choice(x, w, "same", list(range(x.ndim)))[0] == "tiled"
    used = []
    real = _fft.tiled_convolve
    monkeypatch.setattr(_fft, "tiled_convolve", lambda *a, **k: used.append(1) or real(*a, **k))
    x = rng.standard_normal((600, 500)).astype(dtype)
    w = rng.standard_normal((41, 41)).astype(dtype)
    for fn in (fastconv.convolve, fastconv.correlate):
        got = fn(x, w, "same")
        # float64 FFT reference: its error is far below float32's and
        # below the float64 bound (SciPy's direct 2-D loop takes seconds)
        ref = getattr(ss, fn.__name__)(x.astype(np.float64), w.astype(np.float64), "same",
                                       method="fft")
        assert got.dtype == dtype
        eps = EPS32 if dtype == np.float32 else EPS64
        plan = _fft.tiled_plan(x.shape, w.shape, (0, 1), "same")
        assert np.abs(got - ref).max() <= l1_bound(x, w, tile_len(plan), eps)
    assert len(used) == 2


def test_fftconvolve_does_not_take_the_tiled_route(monkeypatch):
    # it stays SciPy's algorithm, bit for bit
    monkeypatch.setattr(_fft, "tiled_convolve", None)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((300, 300)).astype(np.float32)
    w = rng.standard_normal((31, 31)).astype(np.float32)
    assert np.array_equal(fastconv.fftconvolve(x, w, "same"), ss.fftconvolve(x, w, "same"))


def test_oaconvolve_blocks_as_scipy_or_takes_the_tiled_route(monkeypatch):
    # oaconvolve transforms whole where SciPy does (its result is then
    # fftconvolve's, SciPy's bits), blocks with SciPy's lengths over several
    # axes, and takes the tiled route for large real outputs where that is
    # priced cheapest (within the FFT error bound, the input's precision)
    calc = getattr(__import__("scipy.signal._signaltools", fromlist=["x"]), "_calc_oa_lens",
                   None)
    if calc is not None:
        for n in (5, 16, 64, 100, 512, 4096):
            for k in (1, 2, 3, 7, 15, 31, 64):
                got = _fft.scipy_block_len(max(n, k), min(n, k))
                block = calc(n, k)[0]
                assert (got is None) == (block == n + k - 1 or n == k), (n, k, got, block)
                if got is not None:
                    assert got == block, (n, k)
    used = []
    real = _fft.tiled_convolve
    monkeypatch.setattr(_fft, "tiled_convolve", lambda *a, **k: used.append(1) or real(*a, **k))
    rng = np.random.default_rng(9)
    small = rng.standard_normal((64, 64))
    k15 = rng.standard_normal((15, 15))
    assert np.array_equal(fastconv.oaconvolve(small, k15), ss.oaconvolve(small, k15))
    # SciPy blocks 200 x 200 by 15 x 15; one transform is priced (and
    # measured) cheaper: fftconvolve's result, SciPy's fftconvolve bits
    whole = []
    real_fft = _fft.fftconvolve
    monkeypatch.setattr(_fft, "fftconvolve",
                        lambda *a, **k: whole.append(1) or real_fft(*a, **k))
    mid = rng.standard_normal((200, 200))
    got = fastconv.oaconvolve(mid, k15)
    assert whole and np.array_equal(got, ss.fftconvolve(mid, k15))
    np.testing.assert_allclose(got, ss.oaconvolve(mid, k15),
                               rtol=0, atol=l1_bound(mid, k15, 214 * 214, EPS64))
    # a long signal and a short kernel keep the blocks (priced cheaper)
    whole.clear()
    sig, taps = rng.standard_normal(100_000), rng.standard_normal(255)
    np.testing.assert_allclose(fastconv.oaconvolve(sig, taps), ss.oaconvolve(sig, taps),
                               rtol=0, atol=l1_bound(sig, taps, 4096, EPS64))
    assert not whole and not used
    for dt, eps in ((np.float32, EPS32), (np.float64, EPS64)):
        x = rng.standard_normal((512, 512)).astype(dt)
        w = rng.standard_normal((7, 7)).astype(dt)
        got = fastconv.oaconvolve(x, w, "same")
        assert used and got.dtype == dt
        ref = ss.oaconvolve(x.astype(np.float64), w.astype(np.float64), "same")
        assert np.abs(got - ref).max() <= l1_bound(x, w, 512 * 512, eps)
        used.clear()


@pytest.mark.parametrize("env, want", [("scipy", "scipy"), ("", "scipy"), ("ducc0", None)])
def test_ducc0_is_opt_in(env, want):
    code = ("import fastconv._fft as f, importlib.util as u; "
            "print(f.TILED_BACKEND, u.find_spec('ducc0') is not None)")
    envs = dict(os.environ, FASTCONV_FFT=env, PYTHONPATH=IMPORT_ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=envs, cwd=IMPORT_ROOT, timeout=120, check=True).stdout.split()
    backend, has_ducc = out[0], out[1] == "True"
    assert backend == (want or ("ducc0" if has_ducc else "scipy"))


def test_priced_for_the_machine_not_the_call():
    # decisions never depend on the call's workers: the price uses
    # PRICED_THREADS; more threads never make the estimate slower
    s1, s2 = (2048, 2048), (31, 31)
    t1 = _cost.tiled_cost(s1, s2, (0, 1), "same", 4, 1)
    t2 = _cost.tiled_cost(s1, s2, (0, 1), "same", 4, 2)
    assert 0 < t2 < t1
    assert _cost.tiled_cost((100,), (200,), (0,), "full", 4, 2) == math.inf


# --------------------------------------------------------------------------
# the single-transform route of convolve/correlate: transforms shortened to
# what the mode keeps (fastconv._fft.pruned_convolve)

PRUNED_CASES = [
    ((64, 64), (31, 31), None),
    ((200,), (57,), None),
    ((9,), (40,), None),              # kernel longer than the input ('same', 'valid' swap)
    ((17, 30), (30, 5), None),
    ((12, 10, 9), (5, 9, 4), None),
    ((6, 80), (1, 21), [1]),          # a broadcast axis
    ((40, 7), (13, 7), [0]),
]


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32])
@pytest.mark.parametrize("case", PRUNED_CASES, ids=lambda c: f"{c[0]}x{c[1]}")
def test_pruned_transforms_give_the_linear_convolution(case, dtype, mode):
    s1, s2, axes = case
    rng = np.random.default_rng(sum(s1) + 7 * sum(s2))
    x, w = rng.standard_normal(s1), rng.standard_normal(s2)
    if np.dtype(dtype).kind == "c":
        x, w = x + 1j * rng.standard_normal(s1), w + 1j * rng.standard_normal(s2)
    x, w = x.astype(dtype), w.astype(dtype)
    if mode == "valid" and axes is None and not (
            all(a >= b for a, b in zip(s1, s2)) or all(a <= b for a, b in zip(s1, s2))):
        pytest.skip("SciPy's 'valid' needs one input at least as large on every axis")
    a2, b2, conv_axes, _ = _fft.freq_axes(x, w, mode, axes)
    got = _fft.pruned_convolve(a2, b2, conv_axes, mode, 1)
    ref = ss.fftconvolve(x.astype(np.complex128 if np.dtype(dtype).kind == "c"
                                  else np.float64), w, mode, axes=axes)
    assert got.shape == ref.shape and got.flags.c_contiguous
    assert got.dtype == ss.fftconvolve(x, w, mode, axes=axes).dtype
    eps = EPS32 if dtype == np.float32 else EPS64
    n = math.prod(_fft.pruned_lengths(a2.shape, b2.shape, tuple(conv_axes), mode, True))
    assert np.abs(got - ref).max() <= l1_bound(x, w, n, eps)
    # never longer than SciPy's transforms; shorter for 'same' and 'valid'
    scipy_len = [scipy.fft.next_fast_len(a2.shape[a] + b2.shape[a] - 1,
                                         np.dtype(dtype).kind != "c") for a in conv_axes]
    lengths = _fft.pruned_lengths(a2.shape, b2.shape, tuple(conv_axes), mode,
                                  np.dtype(dtype).kind != "c")
    assert all(p <= q for p, q in zip(lengths, scipy_len))
    if mode == "full":
        assert list(lengths) == scipy_len


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", PRUNED_CASES, ids=lambda c: f"{c[0]}x{c[1]}")
def test_zero_pruned_lines_give_the_whole_transforms_numbers(case, dtype, mode,
                                                              monkeypatch):
    """Real operands of one dtype take the axis-by-axis pocketfft calls
    (no all-zero or dropped lines); the whole transforms of
    spectral_product give the same numbers within the FFT's rounding."""
    s1, s2, axes = case
    rng = np.random.default_rng(sum(s1) + 3 * sum(s2))
    x, w = rng.standard_normal(s1).astype(dtype), rng.standard_normal(s2).astype(dtype)
    if mode == "valid" and axes is None and not (
            all(a >= b for a, b in zip(s1, s2)) or all(a <= b for a, b in zip(s1, s2))):
        pytest.skip("SciPy's 'valid' needs one input at least as large on every axis")
    a2, b2, conv_axes, _ = _fft.freq_axes(x, w, mode, axes)
    ran = []
    real = _fft._zero_pruned
    monkeypatch.setattr(_fft, "_zero_pruned", lambda *a: ran.append(1) or real(*a))
    got = _fft.pruned_convolve(a2, b2, conv_axes, mode, 1)
    # a broadcast axis outside `axes` keeps the whole transforms
    # (and a SciPy with neither pocketfft binding, _LEAN_OK False, too)
    lean = [1] if _fft._LEAN_OK and all(a2.shape[d] == b2.shape[d]
                                        for d in range(a2.ndim) if d not in conv_axes) else []
    assert ran == lean and got.dtype == dtype and got.flags.c_contiguous
    monkeypatch.setattr(_fft, "_LEAN_OK", False)
    whole = _fft.pruned_convolve(a2, b2, conv_axes, mode, 1)
    assert ran == lean and whole.shape == got.shape and whole.dtype == got.dtype
    eps = EPS32 if dtype == np.float32 else EPS64
    n = math.prod(_fft.pruned_lengths(a2.shape, b2.shape, tuple(conv_axes), mode, True))
    assert np.abs(got.astype(np.float64) - whole).max() <= 2 * l1_bound(x, w, n, eps)


@pytest.mark.parametrize("order", [">", "<"])
@pytest.mark.parametrize("dtype", ["f4", "f8"])
def test_zero_pruned_takes_either_byte_order(order, dtype):
    """pocketfft takes native arrays only: operands of the other byte order
    give the native operands' numbers (in the native dtype, as SciPy)."""
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((40, 33)), rng.standard_normal((9, 12))
    for mode in ("full", "same", "valid"):
        want = fastconv.convolve(x.astype(dtype), w.astype(dtype), mode, method="fft")
        got = fastconv.convolve(x.astype(order + dtype), w.astype(order + dtype), mode,
                                method="fft")
        assert got.dtype == want.dtype and got.dtype.isnative
        assert np.array_equal(got, want)


def test_convolve_fft_method_takes_the_pruned_transforms(monkeypatch):
    used = []
    real = _fft.pruned_convolve
    monkeypatch.setattr(_fft, "pruned_convolve",
                        lambda *a, **k: used.append(a[3]) or real(*a, **k))
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((64, 64)), rng.standard_normal((31, 31))
    got = fastconv.convolve(x, w, "same", method="fft")
    np.testing.assert_allclose(got, ss.convolve(x, w, "same"), rtol=0,
                               atol=l1_bound(x, w, 80 * 80, EPS64))
    assert used == ["same"]


COLS_LEVELS = [lv for lv in _dispatch.supported_levels()
               if _dispatch.get_kernels(lv).fft_cols_available()]
COLS_LENGTHS = list(range(2, 65)) + [72, 90, 96, 100, 120, 128, 150, 180, 216, 250, 256,
                                     360, 375, 480, 500, 729, 1000, 1080]


def _cols(a):
    """A complex (outer, n, cols) array as the kernels take it (its real type)."""
    return _fft._real_rows(a, 1)


@pytest.mark.parametrize("level", COLS_LEVELS)
@pytest.mark.parametrize("ctype", [np.complex64, np.complex128])
def test_column_fft_equals_numpy(level, ctype):
    """The vectorised column FFT (fastconv/_fft_cols.h): every 5-smooth
    length up to 64 and larger ones of each radix mix, column counts that
    fill whole vectors or leave a partial block, forward and inverse, within
    a few roundings of numpy.fft; other prime factors get no plan."""
    kern = _dispatch.get_kernels(level)
    rt = np.float32 if ctype == np.complex64 else np.float64
    eps = float(np.finfo(rt).eps)
    rng = np.random.default_rng(8)
    for n in COLS_LENGTHS:
        plan = _fft._cols_plan(n, rt)
        smooth = _fft._cols_factors(n) is not None
        assert (plan is None) == (not smooth)
        if plan is None:
            continue
        assert plan[2].dtype == rt
        for nc in (1, 3, 4, 8, 9, 17, 33):
            x = (rng.standard_normal((2, n, nc))
                 + 1j * rng.standard_normal((2, n, nc))).astype(ctype)
            y = x.copy()
            kern.fft_cols(_cols(y), *plan, False, 1.0)
            ref = np.fft.fft(x.astype(np.complex128), axis=1)
            assert np.abs(y - ref).max() <= 8 * eps * math.log2(n + 1) * np.abs(ref).max()
            z = x.copy()
            kern.fft_cols(_cols(z), *plan, True, 0.5)
            ref = np.fft.ifft(x.astype(np.complex128), axis=1) * (0.5 * n)
            assert np.abs(z - ref).max() <= 8 * eps * math.log2(n + 1) * np.abs(ref).max()


@pytest.mark.parametrize("level", COLS_LEVELS)
@pytest.mark.parametrize("ctype", [np.complex64, np.complex128])
def test_column_conv_equals_transform_product_inverse(level, ctype):
    """fft_cols_conv (forward, product, inverse in one pass over the
    columns) is the three steps done apart, to rounding, for every o."""
    kern = _dispatch.get_kernels(level)
    rt = np.float32 if ctype == np.complex64 else np.float64
    eps = float(np.finfo(rt).eps)
    rng = np.random.default_rng(9)
    for n, nc in ((180, 21), (60, 8), (25, 3), (64, 16)):
        plan = _fft._cols_plan(n, rt)
        x = (rng.standard_normal((3, n, nc))
             + 1j * rng.standard_normal((3, n, nc))).astype(ctype)
        h = (rng.standard_normal((n, nc)) + 1j * rng.standard_normal((n, nc))).astype(ctype)
        got = x.copy()
        kern.fft_cols_conv(_cols(got), _cols(h[None])[0], *plan, 1.0 / n)
        ref = np.fft.ifft(np.fft.fft(x.astype(np.complex128), axis=1) * h, axis=1)
        assert np.abs(got - ref).max() <= 64 * eps * np.abs(ref).max()
        with pytest.raises(ValueError, match="h does not match"):
            kern.fft_cols_conv(_cols(x), _cols(h[None, :-1])[0], *plan, 1.0)


@pytest.mark.parametrize("case", [((300, 257), (31, 15), (0, 1)),
                                  ((30, 34, 40), (5, 7, 9), (0, 1, 2)),
                                  ((3, 140, 90), (1, 31, 21), (1, 2)),    # batch: one pass
                                  ((3, 140, 90), (3, 31, 21), (1, 2))],   # per-batch kernels
                         ids=["2d", "3d", "batch-broadcast", "batch-kernels"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tile_axis_on_the_column_fft(case, dtype, monkeypatch):
    """Several axes: the tile axis is transformed by the column FFT (fused
    with the product where the kernel's spectrum is the same for every
    leading index, in three steps otherwise), within the bound of the
    reference and of the scipy.fft transforms it replaces, in float32 and
    float64."""
    s1, s2, axes = case
    rng = np.random.default_rng(10)
    x = rng.standard_normal(s1).astype(dtype)
    w = rng.standard_normal(s2).astype(dtype)
    ref = ss.fftconvolve(x.astype(np.float64), w.astype(np.float64), "same", axes=list(axes))
    plan = _fft.tiled_plan(s1, s2, axes, "same")
    bound = l1_bound(x, w, tile_len(plan), float(np.finfo(dtype).eps))
    calls = []
    real = _fft._cols_conv
    monkeypatch.setattr(_fft, "_cols_conv", lambda *a: calls.append(1) or real(*a))
    got = _fft.tiled_convolve(x, w, axes, "same", 2)
    assert calls or not COLS_LEVELS
    monkeypatch.setattr(_fft, "COLS_FFT", False)
    calls.clear()
    scipy_only = _fft.tiled_convolve(x, w, axes, "same", 2)
    assert not calls
    assert got.dtype == dtype
    assert np.abs(got - ref).max() <= bound
    assert np.abs(got - scipy_only).max() <= bound


def test_small_full_fft_is_one_whole_transform(monkeypatch):
    # 'full' outputs of up to 2**14 points take fftconvolve's single
    # transform (SciPy's bits), up to 2**15 for real operands of one float
    # dtype, which take the pruned route's pocketfft calls instead (the
    # same transforms: SciPy's numbers within the FFT's rounding); larger
    # ones and 'same' keep the priced routes
    used, lean = [], []
    real, real_pruned = _fft.fftconvolve, _fft._zero_pruned
    monkeypatch.setattr(_fft, "fftconvolve", lambda *a, **k: used.append(a[2]) or real(*a, **k))
    monkeypatch.setattr(_fft, "_zero_pruned",
                        lambda *a, **k: lean.append(a[3]) or real_pruned(*a, **k))
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((64, 64)), rng.standard_normal((31, 31))
    # mixed dtypes: SciPy's transform and bits
    assert np.array_equal(fastconv.convolve(x.astype(np.float32), w, method="fft"),
                          ss.fftconvolve(x.astype(np.float32), w))
    assert used == ["full"] and not lean
    used.clear()
    if not _fft._LEAN_OK:
        pytest.skip("this SciPy has no pocketfft binding (pypocketfft, SciPy 1.18's "
                    "pyduccfft): the lean route is off")
    for dtype in (np.float32, np.float64):
        xd, wd = x.astype(dtype), w.astype(dtype)
        got = fastconv.convolve(xd, wd, method="fft")
        ref = ss.fftconvolve(xd, wd)
        assert got.dtype == ref.dtype and got.flags.c_contiguous
        eps = EPS32 if dtype == np.float32 else EPS64
        assert np.abs(got - ref).max() <= l1_bound(xd, wd, 96 * 96, eps)
        assert len(lean) == 1 and lean.pop() == [(0, 94), (0, 94)]
        # 150 x 150: 180^2 = 32 400 points, still whole
        fastconv.convolve(rng.standard_normal((150, 150)).astype(dtype), wd, method="fft")
        assert len(lean) == 1 and lean.pop() == [(0, 180), (0, 180)]
    assert not used
    fastconv.convolve(x, w, "same", method="fft")
    big = rng.standard_normal((200, 200))
    fastconv.convolve(big, w, method="fft")
    assert not used


ROWS_LENGTHS = [4, 6, 8, 10, 12, 16, 18, 30, 50, 64, 90, 128, 250, 360, 1000, 2160]


@pytest.mark.parametrize("level", COLS_LEVELS)
@pytest.mark.parametrize("rt", [np.float32, np.float64])
def test_row_fft_equals_numpy(level, rt):
    """The vectorised row FFT (real rows, one per vector lane): even lengths
    whose half is 5-smooth, row counts that fill whole vectors or leave a
    partial block, rows any distance apart, forward (numpy.fft.rfft) and
    inverse (numpy.fft.irfft, the imaginary parts of the first and last
    coefficients ignored), within a few roundings; odd lengths and halves
    with other prime factors get no plan."""
    kern = _dispatch.get_kernels(level)
    eps = float(np.finfo(rt).eps)
    ct = np.result_type(rt, np.complex64)
    rng = np.random.default_rng(12)
    assert _fft._rows_plan(15, rt) is None and _fft._rows_plan(14, rt) is None
    for n in ROWS_LENGTHS:
        plan = _fft._rows_plan(n, rt)
        assert plan is not None and plan[-1].dtype == rt and len(plan[-1]) == n // 2 + 1
        tol = 8 * eps * math.log2(n + 1)
        for nr in (1, 3, 4, 8, 9, 17, 33):
            big = rng.standard_normal((2, 2 * nr, n + 5)).astype(rt)
            x = big[:, ::2, 3:n + 3]                    # rows 2 (n + 5) apart, an offset start
            sp = np.empty((2, nr, n // 2 + 1), ct)
            kern.fft_rows_r2c(x, sp.view(rt), *plan)
            ref = np.fft.rfft(x.astype(np.float64))
            assert np.abs(sp - ref).max() <= tol * np.abs(ref).max()
            s = (rng.standard_normal(sp.shape) + 1j * rng.standard_normal(sp.shape)).astype(ct)
            y = np.empty((2, nr, n), rt)
            kern.fft_rows_c2r(s.view(rt), y, *plan, 1.0 / n)
            ref = np.fft.irfft(s.astype(np.complex128), n)
            assert np.abs(y - ref).max() <= tol * np.abs(s).max()
            # only a window of the samples, written to rows that hold just it
            for start, m in ((1, n - 1), (3, n - 5), (n - 1, 1), (2, 1), (0, n // 2 + 1)):
                if m < 1 or start + m > n:
                    continue
                win = np.full((2, nr, m + 2), 7.0, rt)
                kern.fft_rows_c2r(s.view(rt), win[:, :, 1:m + 1], *plan, 1.0 / n, n, start)
                assert np.array_equal(win[:, :, 1:m + 1], y[:, :, start:start + m])
                assert (win[:, :, 0] == 7).all() and (win[:, :, -1] == 7).all()
    with pytest.raises(ValueError, match="contiguous"):
        x = np.zeros((1, 2, 16), rt)
        kern.fft_rows_r2c(x[:, :, ::2], np.zeros((1, 2, 10), rt), *_fft._rows_plan(8, rt))
    with pytest.raises(ValueError, match="lie in the row"):
        kern.fft_rows_c2r(np.zeros((1, 2, 10), rt), np.zeros((1, 2, 5), rt),
                          *_fft._rows_plan(8, rt), 1.0, 8, 4)
    with pytest.raises(ValueError, match="half length"):
        kern.fft_rows_r2c(np.zeros((1, 2, 8), rt), np.zeros((1, 2, 10), rt),
                          *_fft._rows_plan(16, rt))


@pytest.mark.parametrize("level", COLS_LEVELS)
@pytest.mark.parametrize("rt", [np.float32, np.float64])
def test_row_fft_rows_do_not_depend_on_their_neighbours(level, rt):
    """A row's spectrum (and its inverse) is the same bits transformed
    alone, in a full block of rows or in a partial one: what makes the
    tiled route's numbers independent of chunking and threads."""
    kern = _dispatch.get_kernels(level)
    ct = np.result_type(rt, np.complex64)
    n = 360
    plan = _fft._rows_plan(n, rt)
    x = np.random.default_rng(13).standard_normal((1, 21, n)).astype(rt)
    sp = np.empty((1, 21, n // 2 + 1), ct)
    kern.fft_rows_r2c(x, sp.view(rt), *plan)
    y = np.empty_like(x)
    kern.fft_rows_c2r(sp.view(rt), y, *plan, 1.0 / n)
    for r in (0, 7, 16, 20):
        one = np.empty((1, 1, n // 2 + 1), ct)
        kern.fft_rows_r2c(x[:, r:r + 1], one.view(rt), *plan)
        assert np.array_equal(one[0, 0], sp[0, r])
        back = np.empty((1, 1, n), rt)
        kern.fft_rows_c2r(one.view(rt), back, *plan, 1.0 / n)
        assert np.array_equal(back[0, 0], y[0, r])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [((300, 257), (31, 15), (0, 1)),
                                  ((30, 34, 40), (5, 7, 9), (0, 1, 2)),
                                  ((4, 30, 34, 40), (1, 5, 7, 9), (1, 2, 3)),
                                  ((3, 200, 90), (1, 17, 9), (1, 2)),
                                  ((120, 98, 3), (31, 15, 1), (0, 1))])
def test_tiled_route_on_the_row_fft(case, dtype, monkeypatch):
    """Several axes: the tiles' last axis runs on the row FFT (forward and
    inverse) where its rows can be handed over, within the bound of the
    reference and of the pocketfft transforms it replaces; the same bits
    for any thread count and chunking."""
    s1, s2, axes = case
    rng = np.random.default_rng(14)
    x = rng.standard_normal(s1).astype(dtype)
    w = rng.standard_normal(s2).astype(dtype)
    plan = _fft.tiled_plan(s1, s2, axes, "same")
    if _fft._rows_setup(plan[1][max(axes)][0], dtype) is None:
        pytest.skip("no row FFT for this length or level")
    across = max(axes) == len(s1) - 1         # else the last axis is a batch axis
    used = []
    for name in ("_rows_r2c", "_rows_c2r"):
        real = getattr(_fft, name)
        monkeypatch.setattr(_fft, name, lambda *a, real=real, name=name:
                            used.append(name) or real(*a))
    runs = [_fft.tiled_convolve(x, w, axes, "same", t, chunk_points=c)
            for t, c in ((1, None), (2, None), (2, 1), (3, 5000))]
    assert ({"_rows_r2c", "_rows_c2r"} <= set(used)) == across
    assert used or not across
    for r in runs[1:]:
        assert np.array_equal(r, runs[0])
    monkeypatch.setattr(_fft, "ROWS_FFT", False)
    pocket = _fft.tiled_convolve(x, w, axes, "same", 2)
    ref = ss.fftconvolve(x.astype(np.float64), w.astype(np.float64), "same", axes=list(axes))
    bound = l1_bound(x, w, tile_len(plan), float(np.finfo(dtype).eps))
    assert runs[0].dtype == dtype
    assert np.abs(runs[0] - ref).max() <= bound
    assert np.abs(runs[0] - pocket).max() <= bound


def test_pricing_the_route_builds_no_row_plan(monkeypatch):
    """The cost model asks whether the row FFT would run (rows_fft_takes)
    without building its plan: pricing a broadcast view of 2**29 x 2**29
    once built twiddle tables of 2.7e8 entries (54 s)."""
    def refuse(*args):
        raise AssertionError("a row plan was built to price the route")

    monkeypatch.setattr(_fft, "_rows_plan", refuse)
    for s1 in ((2 ** 29, 2 ** 29), (2048, 2048)):
        cost = _cost.tiled_cost(s1, (31, 31), (0, 1), "same", 8, 2)
        assert 0 < cost < math.inf
    assert _fft.rows_fft_takes(2160) == (_fft._direct_calls()
                                         and _dispatch.kernels.fft_vector_bytes() > 16)
    assert not _fft.rows_fft_takes(2 * 7 * 11)          # half with a prime factor above 5
    assert not _fft.rows_fft_takes(2025)                # odd


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["first", "last", "kernel"])
def test_auto_checks_the_tiled_routes_chunks_for_nonfinite_values(value, where, monkeypatch,
                                                                  nonfinite_scans):
    """'auto' takes the FFT for finite operands only: where it prices the
    tiled route, the input's NaN/inf check happens on the route's chunks
    (no scan of the whole input first), and a NaN or an infinity anywhere
    -- the first or the last chunk, or the kernel -- still gives the direct
    method's result."""
    from fastconv import signal as fsig
    rng = np.random.default_rng(41)
    x = rng.standard_normal((700, 900))
    k = rng.standard_normal((31, 31))
    assert fastconv.choose_conv_method(x, k, "same") == "fft"
    nonfinite_scans.clear()
    routes = []
    real_tiled = _fft.tiled_convolve
    monkeypatch.setattr(_fft, "tiled_convolve",
                        lambda *a, **kw: routes.append(kw.get("check_finite"))
                        or real_tiled(*a, **kw))
    finite = fsig.convolve(x, k, "same")
    assert routes == [True]
    assert x.shape not in [a.shape for a in nonfinite_scans]   # no whole-input scan
    np.testing.assert_allclose(finite, fsig.convolve(x, k, "same", method="direct"),
                               atol=1e-9)
    if where == "kernel":
        k = k.copy()
        k[3, 4] = value
    else:
        x = x.copy()
        x[(2, 5) if where == "first" else (697, 890)] = value
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # no fft warning: the direct method ran
        got = fsig.convolve(x, k, "same")
    ref = fsig.convolve(x, k, "same", method="direct")     # SciPy's pattern (test_signal)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(ref))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got[fin], ref[fin], atol=1e-9)


def test_tiled_route_finite_check_flags_every_chunk_and_keeps_the_bits():
    rng = np.random.default_rng(42)
    x = rng.standard_normal((600, 800)).astype(np.float32)
    k = rng.standard_normal((25, 25)).astype(np.float32)
    plain = _fft.tiled_convolve(x, k, (0, 1), "same", 2)
    checked = _fft.tiled_convolve(x, k, (0, 1), "same", 2, check_finite=True)
    assert np.array_equal(plain, checked)
    plan = _fft.tiled_plan(x.shape, k.shape, (0, 1), "same")
    B0, P0, nb = plan[1][0][:3]
    assert nb >= 3
    for row in range(0, 600, 97):                   # in every chunk's rows
        y = x.copy()
        y[row, row % 800] = np.inf
        assert _fft.tiled_convolve(y, k, (0, 1), "same", 2, check_finite=True) \
            is _fft.NONFINITE
        assert _fft.tiled_convolve(y, k, (0, 1), "same", 2) is not _fft.NONFINITE
    k2 = k.copy()
    k2[0, 0] = np.nan
    assert _fft.tiled_convolve(x, k2, (0, 1), "same", 1, check_finite=True) is _fft.NONFINITE
