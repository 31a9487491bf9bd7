"""The separable route for rank-one kernels (``fastconv._separable``).

Every test that expects the route checks that it ran (a counter on
``_separable.execute``) and compares against SciPy's own direct method:
with ``_separable.ENABLED = False`` (the full-kernel path) those tests fail
on the counter.  Tolerances, relative to ``scale = |x| (*) |K|`` (the sum of
the absolute values of the terms of each output):

* float64: ``1e-12`` (the project's rule for the direct method).
* float32: ``2 (m + 1) 2**-24`` with ``m`` the terms per output (the sum of
  the worst-case bounds of a float32 sum on both sides, as in
  ``test_signal.py``); the separable sums are shorter (``k0 + k1`` terms),
  and the factors reproduce the kernel within ``(2 + 2r) eps max|K|``,
  which ``scale >= max|K| |x|`` covers.
"""

import numpy as np
import pytest
import scipy.ndimage as snd
import scipy.signal as ss

import fastconv
from fastconv import _dispatch, _separable
from fastconv import ndimage as fnd
from fastconv import signal as fs

U32 = 2.0 ** -24
RTOL64 = 1e-12
SEED = 20240701


@pytest.fixture
def calls(monkeypatch):
    """Counts runs of the separable route (and makes sure it is enabled)."""
    monkeypatch.setattr(_separable, "ENABLED", True)
    count = [0]
    orig = _separable.execute

    def counted(*args, **kwargs):
        count[0] += 1
        return orig(*args, **kwargs)

    monkeypatch.setattr(_separable, "execute", counted)
    return count


def gauss(k, sigma=None):
    sigma = sigma or k / 5
    t = np.arange(k) - (k - 1) / 2
    g = np.exp(-0.5 * (t / sigma) ** 2)
    return g / g.sum()


def rank_one(*sizes, dtype=np.float64, rng=None):
    """Outer product of Gaussians (odd or even sizes), one factor skewed by a
    random ramp so that the kernel is not symmetric (convolve != correlate)."""
    factors = [gauss(k) for k in sizes]
    if rng is not None:
        factors[0] = factors[0] * (1 + rng.random(sizes[0]))
    k = factors[0]
    for f in factors[1:]:
        k = np.multiply.outer(k, f)
    return k.astype(dtype)


def tol(dtype, kshape):
    if np.dtype(dtype) == np.float64:
        return RTOL64
    return 2 * (int(np.prod(kshape)) + 1) * U32


def assert_close(got, ref, scale, rtol):
    assert got.shape == ref.shape, (got.shape, ref.shape)
    diff = np.abs(got.astype(np.float64) - ref)
    worst = float(np.max(diff / np.maximum(scale, 1e-300)))
    assert np.all(diff <= rtol * scale), f"max |diff|/scale = {worst:.3g} > {rtol:.3g}"


def _pattern(a):
    return np.stack([np.isnan(a), np.isposinf(a), np.isneginf(a)])


# --------------------------------------------------------------------------
# taken, and agrees with SciPy


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("fname", ["convolve", "correlate"])
@pytest.mark.parametrize("ksize", [(9, 7), (8, 6)], ids=["odd", "even"])
def test_signal_2d_matches_scipy(calls, fname, mode, dtype, ksize):
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((600, 515)).astype(dtype)
    k = rank_one(*ksize, dtype=dtype, rng=rng)
    got = getattr(fs, fname)(x, k, mode, method="direct", workers=1)
    assert calls[0] == 1
    assert got.dtype == dtype
    sf = getattr(ss, fname)
    ref = sf(x.astype(np.float64), k.astype(np.float64), mode, method="direct")
    scale = sf(np.abs(x).astype(np.float64), np.abs(k).astype(np.float64), mode,
               method="direct")
    assert_close(got, ref, scale, tol(dtype, k.shape))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("fname", ["convolve", "correlate"])
def test_signal_3d_matches_scipy(calls, fname, mode):
    rng = np.random.default_rng(SEED + 1)
    x = rng.standard_normal((60, 80, 100))
    k = rank_one(5, 4, 7, rng=rng)
    got = getattr(fs, fname)(x, k, mode, method="direct", workers=1)
    assert calls[0] == 1
    sf = getattr(ss, fname)
    ref = sf(x, k, mode, method="direct")
    assert_close(got, ref, sf(np.abs(x), np.abs(k), mode, method="direct"), RTOL64)


@pytest.mark.parametrize("boundary", ["fill", "symm", "wrap"])
@pytest.mark.parametrize("fname", ["convolve2d", "correlate2d"])
def test_2d_functions_match_scipy(calls, fname, boundary):
    rng = np.random.default_rng(SEED + 2)
    x = rng.standard_normal((520, 540)).astype(np.float32)
    k = rank_one(8, 9, dtype=np.float32, rng=rng)
    for mode in ("same", "full"):
        got = getattr(fs, fname)(x, k, mode, boundary=boundary, workers=1)
        ref = getattr(ss, fname)(x.astype(np.float64), k.astype(np.float64), mode,
                                 boundary=boundary)
        scale = getattr(ss, fname)(np.abs(x).astype(np.float64),
                                   np.abs(k).astype(np.float64), mode, boundary=boundary)
        assert got.dtype == np.float32
        assert_close(got, ref, scale, tol(np.float32, k.shape))
    assert calls[0] == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("mode", ["reflect", "nearest", "constant", "mirror", "wrap"])
@pytest.mark.parametrize("fname", ["convolve", "correlate"])
def test_ndimage_matches_scipy(calls, fname, mode, dtype):
    rng = np.random.default_rng(SEED + 3)
    x = rng.standard_normal((560, 600)).astype(dtype)
    k = rank_one(9, 6, dtype=dtype, rng=rng)
    got = getattr(fnd, fname)(x, k, mode=mode, cval=0.5, workers=1)
    assert calls[0] == 1
    assert got.dtype == dtype
    sf = getattr(snd, fname)
    ref = sf(x.astype(np.float64), k.astype(np.float64), mode=mode, cval=0.5)
    scale = sf(np.abs(x).astype(np.float64), np.abs(k).astype(np.float64), mode=mode,
               cval=0.5)
    assert_close(got, ref, scale, tol(dtype, k.shape))


def test_ndimage_3d_and_origin(calls):
    rng = np.random.default_rng(SEED + 4)
    x = rng.standard_normal((48, 72, 80))
    k = rank_one(5, 3, 6, rng=rng)
    got = fnd.correlate(x, k, mode="reflect", origin=(1, 0, -2), workers=1)
    ref = snd.correlate(x, k, mode="reflect", origin=(1, 0, -2))
    assert calls[0] == 1
    assert_close(got, ref, snd.correlate(np.abs(x), np.abs(k), mode="reflect",
                                         origin=(1, 0, -2)), RTOL64)


def test_batched_axes(calls):
    """One rank-one kernel over a stack of images (the engine batch axis)."""
    rng = np.random.default_rng(SEED + 5)
    x = rng.standard_normal((3, 400, 360))
    k = rank_one(7, 9, rng=rng)
    got = fs.convolve(x, k[None], "same", method="direct", axes=(1, 2), workers=1)
    assert calls[0] == 1
    for i in range(3):
        ref = ss.convolve(x[i], k, "same", method="direct")
        assert_close(got[i], ref, ss.convolve(np.abs(x[i]), k, "same", method="direct"),
                     RTOL64)
    # ndimage with axes=: the kernel spans the filtered axes only
    got = fnd.convolve(x, k, mode="nearest", axes=(1, 2), workers=1)
    ref = snd.convolve(x, k, mode="nearest", axes=(1, 2))
    assert calls[0] == 2
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(x).max())


def test_rank4_and_blocks_bitwise_equal(monkeypatch, calls):
    """Four passes: the phase-1 blocks (forced small here) give the same bits
    as one block, and the result matches a NumPy reference."""
    rng = np.random.default_rng(SEED + 6)
    x = rng.standard_normal((1, 9, 10, 11, 12))
    factors = [gauss(k) for k in (3, 4, 2, 5)]
    pads = [(1, 1), (0, 2), (1, 0), (2, 2)]
    one = _separable.run(x, factors, pads, 1)
    monkeypatch.setattr(_separable, "_BLOCK_MIN", 50)
    monkeypatch.setattr(_separable, "_BLOCK_FRACTION", 10 ** 6)
    plan = _separable.SeparablePlan(1, x.shape[1:], [3, 4, 2, 5], pads)
    assert plan.nblocks > 1
    blocked = _separable.run(x, factors, pads, 2)
    np.testing.assert_array_equal(one, blocked)
    kernel = np.einsum("i,j,k,l->ijkl", *factors)
    xp = np.pad(x[0], pads)
    ref = np.zeros(one.shape[1:])
    for tap in np.ndindex(*kernel.shape):
        sl = tuple(slice(t, t + o) for t, o in zip(tap, ref.shape))
        ref += kernel[tap] * xp[sl]
    np.testing.assert_allclose(one[0], ref, rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------------
# not taken


def test_near_rank_one_not_taken(calls):
    rng = np.random.default_rng(SEED + 7)
    x = rng.standard_normal((300, 300))
    for dtype in (np.float32, np.float64):
        k = rank_one(9, 9, dtype=dtype)
        k[2, 6] += 1e-3
        got = fs.convolve(x.astype(dtype), k, "same", method="direct", workers=1)
        ref = ss.convolve(x, k.astype(np.float64), "same", method="direct")
        scale = ss.convolve(np.abs(x), np.abs(k).astype(np.float64), "same",
                            method="direct")
        assert_close(got, ref, scale, tol(dtype, k.shape))
    assert calls[0] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_threshold_a_few_ulps(calls, dtype):
    """A kernel off rank one by a few ulps beyond the threshold is refused;
    one a few ulps inside it is taken (the bound is where it is documented)."""
    u = np.array([0.25, 0.5, 1.0, 0.5, 0.25, 0.125, 0.75])
    v = np.array([0.5, 0.75, 1.0, 0.25, 0.5, 0.375, 0.125, 0.625])
    base = np.outer(u, v)                 # exact in both dtypes, max 1 at (2, 2)
    eps = float(np.finfo(dtype).eps)
    limit = _separable.tolerance(2, dtype)
    x = np.random.default_rng(SEED + 8).standard_normal((520, 520)).astype(dtype)
    for delta, taken in ((limit + 4 * eps, False), (limit - 4 * eps, True)):
        k = base.astype(dtype)
        k[5, 6] += dtype(delta)           # 0.375 * 0.125: |k| <= 1/2, exact sum
        assert abs(float(k[5, 6]) - base[5, 6] - delta) < eps / 4
        before = calls[0]
        got = fs.correlate(x, k, "same", method="direct", workers=1)
        assert (calls[0] > before) is taken
        assert (_separable.factorize(k, dtype) is not None) is taken
        ref = ss.correlate(x.astype(np.float64), k.astype(np.float64), "same",
                           method="direct")
        scale = ss.correlate(np.abs(x).astype(np.float64), np.abs(k).astype(np.float64),
                             "same", method="direct")
        assert_close(got, ref, scale, tol(dtype, k.shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("shape", [(7, 8), (1, 5, 1, 6), (5, 4, 3)])
def test_minor_prefilter_keeps_every_kernel_the_full_test_takes(dtype, shape):
    """The cheap 2x2-minor rejection samples the corner, middle and edge
    entries: a rank-one kernel perturbed there by just under the documented
    threshold is still taken, one perturbed just over it is refused."""
    rng = np.random.default_rng(SEED + 41)
    limit = _separable.tolerance(sum(n > 1 for n in shape), dtype)
    eps = float(np.finfo(dtype).eps)
    for _ in range(5):
        # factors with entries k/8 in [0.5, 1]: exact products, max 1
        fs_ = [rng.integers(4, 9, n) / 8.0 for n in shape]
        base = fs_[0]
        for f in fs_[1:]:
            base = np.multiply.outer(base, f)
        base = base / np.abs(base).max()
        squeezed = base.reshape([n for n in shape if n > 1])
        for idx in [(0, 0), (-1, -1), (0, -1), ((squeezed.shape[0] - 1) // 2, 0)]:
            pos = np.unravel_index(np.ravel_multi_index(
                tuple(i % squeezed.shape[0] if d == 0 else i % (squeezed.size //
                      squeezed.shape[0]) for d, i in enumerate(idx)),
                (squeezed.shape[0], squeezed.size // squeezed.shape[0])), squeezed.shape)
            for delta, taken in ((limit - 4 * eps, True), (limit + 4 * eps, False)):
                k = squeezed.astype(dtype)
                if not taken and abs(float(k[pos])) > 0.5:
                    continue          # the bump would round away; checked elsewhere
                k[pos] += dtype(delta if k[pos] >= 0 else -delta)
                got = _separable.factorize(k.reshape(shape), dtype)
                assert (got is not None) is taken, (shape, pos, delta)


def test_integer_and_complex_kernels_not_taken(calls):
    rng = np.random.default_rng(SEED + 9)
    ki = np.outer([1, 3, 1], [1, 2, 3, 2, 1]).astype(np.int32)
    xi = rng.integers(-50, 50, (300, 300)).astype(np.int32)
    got = fs.convolve(xi, ki, "same", method="direct", workers=1)
    np.testing.assert_array_equal(got, ss.convolve(xi, ki, "same", method="direct"))
    xu = rng.integers(0, 256, (600, 600)).astype(np.uint8)
    kc = rank_one(7, 7).astype(np.complex128) * (1 + 1j)
    xc = rng.standard_normal((600, 600))
    got = fs.convolve(xc, kc, "same", method="direct", workers=1)
    np.testing.assert_allclose(got, ss.convolve(xc, kc, "same", method="direct"),
                               rtol=0, atol=1e-12 * np.abs(xc).max())
    assert calls[0] == 0
    # an integer image with a float kernel: rounded either way, so taken
    kf = rank_one(7, 7)
    np.testing.assert_array_equal(fnd.correlate(xu, kf, workers=1), snd.correlate(xu, kf))
    assert calls[0] == 1


def test_integer_valued_kernels_exact_in_ndimage(calls):
    """ndimage sums integer weights in float64 exactly: the route takes an
    integer rank-one kernel only with exact integer factors, so integer
    results stay bit-exact (pivot scaling would give [1/3, 1, 1/3])."""
    rng = np.random.default_rng(SEED + 13)
    x = rng.integers(0, 256, (300, 310)).astype(np.uint8)
    k = np.outer([1, 3, 5, 7, 9, 7, 5, 3, 1], [3, 1, 2, 3, 4, 5, 4, 3, 2, 1])
    for fname in ("convolve", "correlate"):
        got = getattr(fnd, fname)(x, k, output=np.int32, mode="reflect", workers=1)
        np.testing.assert_array_equal(got, getattr(snd, fname)(x, k, output=np.int32,
                                                              mode="reflect"))
    assert calls[0] == 2
    f = _separable.factorize(k.astype(np.float64), np.float64)
    assert [a.tolist() for a in f] == [[1, 3, 5, 7, 9, 7, 5, 3, 1],
                                       [3, 1, 2, 3, 4, 5, 4, 3, 2, 1]]
    near = k.astype(np.float64)
    near[0, 0] += 1                        # integral, not rank one
    assert _separable.factorize(near, np.float64) is None


def test_small_problems_and_nonfinite_kernels_not_taken(calls):
    rng = np.random.default_rng(SEED + 10)
    fs.convolve(rng.standard_normal((40, 40)), rank_one(3, 3), "same", method="direct",
                workers=1)
    assert calls[0] == 0
    k = rank_one(9, 9)
    k[0, 0] = np.inf
    x = rng.standard_normal((300, 300))
    got = fs.convolve(x, k, "same", method="direct", workers=1)
    ref = ss.convolve(x, k, "same", method="direct")
    np.testing.assert_array_equal(_pattern(got), _pattern(ref))
    assert calls[0] == 0
    assert _separable.factorize(np.zeros((5, 5)), np.float64) is None
    assert _separable.factorize(rank_one(9, 1), np.float64) is None
    assert _separable.factorize(np.eye(4), np.float64) is None


def test_sign_pattern_required():
    """Within the tolerance but with a zero (or sign) where the factors have
    none: refused, since an inf input would then differ (inf vs 0*inf)."""
    k = np.outer([1.0, 2.0, 1.0], [1.0, 1e-20, 1.0])
    assert _separable.factorize(k, np.float64) is not None
    k[0, 1] = 0.0                          # |change| = 1e-20 << tolerance
    assert _separable.factorize(k, np.float64) is None
    k[0, 1] = -1e-20
    assert _separable.factorize(k, np.float64) is None


# --------------------------------------------------------------------------
# NaN / inf inputs, threads, planner


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_nonfinite_inputs_same_pattern_as_scipy(monkeypatch, calls, dtype):
    """NaN, +inf and -inf inputs (isolated, clustered, in the same row and
    column, near the edges) with factors that contain zeros and both signs."""
    rng = np.random.default_rng(SEED + 11)
    u = np.array([1.0, 0.0, -2.0, 0.5, 0.0, 1.5, 1.0])
    v = np.array([0.5, 1.0, 0.0, -1.0, 2.0, 0.25, 0.0, 1.0, -0.5])
    k = np.outer(u, v).astype(dtype)
    x = rng.standard_normal((540, 580)).astype(dtype)
    spots = [(0, 0), (3, 5), (3, 9), (10, 5), (100, 100), (101, 103), (104, 100),
             (539, 579), (150, 0), (0, 200), (200, 200), (200, 202), (206, 200)]
    values = [np.inf, -np.inf, np.nan]
    for i, spot in enumerate(spots):
        x[spot] = values[i % 3] if i % 4 else np.inf
    for fname in ("convolve", "correlate"):
        for mode in ("full", "same", "valid"):
            got = getattr(fs, fname)(x, k, mode, method="direct", workers=1)
            ref = getattr(ss, fname)(x.astype(np.float64), k.astype(np.float64), mode,
                                     method="direct")
            np.testing.assert_array_equal(_pattern(got), _pattern(ref))
            fin = np.isfinite(ref)
            np.testing.assert_allclose(got[fin], ref[fin], rtol=0,
                                       atol=1e-4 if dtype == np.float32 else 1e-11)
    # ndimage: scipy.ndimage leaves zero weights out of the sum (0 * inf is
    # never formed there), fastconv.ndimage computes the arithmetic; the
    # reference is fastconv's full-kernel path, and scipy.ndimage where the
    # kernel has no zeros.
    kz = np.outer(u + (u == 0), v + (v == 0)).astype(dtype)
    for mode in ("reflect", "nearest", "constant"):
        got = fnd.correlate(x, k, mode=mode, workers=1)
        monkeypatch.setattr(_separable, "ENABLED", False)
        ref = fnd.correlate(x, k, mode=mode, workers=1)
        monkeypatch.setattr(_separable, "ENABLED", True)
        np.testing.assert_array_equal(_pattern(got), _pattern(ref))
        got = fnd.correlate(x, kz, mode=mode, workers=1)
        ref = snd.correlate(x.astype(np.float64), kz.astype(np.float64), mode=mode)
        np.testing.assert_array_equal(_pattern(got), _pattern(ref))
    assert calls[0] == 12


def test_threads_bitwise_identical(calls):
    rng = np.random.default_rng(SEED + 12)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((512, 384)).astype(dtype)
        k = rank_one(11, 9, dtype=dtype, rng=rng)
        r1 = fs.convolve(x, k, "same", method="direct", workers=1)
        r2 = fs.convolve(x, k, "same", method="direct", workers=2)
        np.testing.assert_array_equal(r1, r2)
        v = rng.standard_normal((40, 48, 64)).astype(dtype)
        k3 = rank_one(5, 7, 6, dtype=dtype, rng=rng)
        r1 = fnd.correlate(v, k3, mode="reflect", workers=1)
        r2 = fnd.correlate(v, k3, mode="reflect", workers=2)
        np.testing.assert_array_equal(r1, r2)
    assert calls[0] == 8


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_planner_prices_the_separable_route(dtype):
    x = np.zeros((2048, 2048), dtype=dtype)
    k = rank_one(31, 31, dtype=dtype)
    # the two passes beat the FFT with vector FMAs; at the baseline level
    # (SSE2, no FMA) they do not (2048^2 by 31 x 31 float32: separable 42
    # ms, FFT 14, Zen 5), and the planner prices the level
    rank_one_wins = "direct" if _dispatch.kernels.simd_level() != "baseline" else "fft"
    assert fastconv.choose_conv_method(x, k, "same") == rank_one_wins
    assert fastconv.choose_conv_method(x, k, "same", workers=1) == rank_one_wins
    near = k.copy()
    near[3, 4] += 1e-3                      # not rank one: the FFT wins
    assert fastconv.choose_conv_method(x, near, "same") == "fft"
    a, b = x[:300, :300], rank_one(9, 9, dtype=dtype)
    windows = [(4, 300), (4, 300)]
    plain = fastconv._cost.direct_cost(a.shape, b.shape, (0, 1), windows,
                                       np.dtype(dtype), operands=(a, a[:9, :9]))
    sep = fastconv._cost.direct_cost(a.shape, b.shape, (0, 1), windows,
                                     np.dtype(dtype), operands=(a, b))
    assert sep < plain
