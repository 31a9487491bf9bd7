"""fastconv's scipy.signal drop-ins against SciPy itself.

Reference: SciPy's own functions (direct method for exactness, FFT method
for the FFT paths).  Tolerances, written where they are used:

* integers, bool: exact equality (fastconv sums in uint64 and casts back;
  SciPy sums in the result type; both are arithmetic modulo 2**bits).
* float64 / complex128, direct: ``|got - ref| <= 1e-12 * scale`` with
  ``scale = |in1| (*) |in2|`` the sum of the absolute values of the terms
  of each output element (the natural scale of rounding error in any
  summation order; Higham, Accuracy and Stability, eq. 4.4).  The issue
  asks for 1e-12 relative; worst-case rounding of both sides is
  ``2 (m + 1) 2**-53 ~ 2e-14`` for the ``m <= 64`` terms used here.
* float32 / complex64, direct: ``2 (m + 1) 2**-24 * scale`` (``m`` = terms
  per output = ``prod(min(n1, n2))``): the sum of the worst-case bounds of
  fastconv's and SciPy's float32 sums.  Measured: at most 0.99x
  ``(m + 1) 2**-24 * scale`` over 3600 random cases (1-3 D, all modes).
* float16: ``2 * 2**-11 * scale`` plus the float32 bound: fastconv sums in
  float32 and rounds once to float16.
* FFT methods: ``4 u log2(N) ||in1||_2 ||in2||_2`` (``u`` unit roundoff,
  ``N`` the full output size), the standard norm-wise FFT-convolution
  error bound; measured ratio at most 0.60 over 2400 random cases of
  fastconv's FFT, overlap-add and SciPy's FFT against long-double direct
  sums.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.signal as ss

import fastconv
from fastconv import _cost
from fastconv import signal as fs

# SciPy's own loops warn on some reference calls (complex fill values
# through its "via complex" conversion, float32 x complex128 casts); those
# warnings are SciPy's, not fastconv's.
pytestmark = [
    pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning:scipy.signal"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning:scipy.signal"),
    # the same warnings of SciPy's C loop, which small convolve2d calls run
    pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning:fastconv.signal"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning:fastconv.signal"),
]

U64 = 2.0 ** -53
U32 = 2.0 ** -24
U16 = 2.0 ** -11
RTOL64 = 1e-12

RNG_SEED = 20240613


def make(shape, dtype, rng, low=None, high=None):
    """Random array of `dtype` (integers in a small or the given range)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo = max(info.min, -50) if low is None else low
        hi = min(info.max, 50) if high is None else high
        return rng.integers(lo, hi, shape, endpoint=True, dtype=dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def n_terms(s1, s2):
    return int(np.prod([min(a, b) for a, b in zip(s1, s2)])) if s1 else 1


def direct_tol(dtype, s1, s2):
    """Relative-to-scale tolerance of a direct result (see module docstring)."""
    dtype = np.dtype(dtype)
    m = n_terms(s1, s2)
    if dtype in (np.float64, np.complex128):
        return RTOL64
    if dtype in (np.float32, np.complex64):
        return 2 * (m + 1) * U32
    if dtype == np.float16:
        return 2 * U16 + 2 * (m + 1) * U32
    return 0.0


def abs_scale(func, x, y, *args, **kwargs):
    """Sum of |terms| per output element, by SciPy's direct method in float64."""
    ax = np.abs(x).astype(np.float64)
    ay = np.abs(y).astype(np.float64)
    if func in (ss.convolve, ss.correlate):
        kwargs.setdefault("method", "direct")
    return func(ax, ay, *args, **kwargs)


def assert_scaled_close(got, ref, scale, rtol):
    assert got.shape == ref.shape, (got.shape, ref.shape)
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    if rtol == 0:
        np.testing.assert_array_equal(got, ref)
        return
    diff = np.abs(got.astype(np.complex256 if got.dtype.kind == "c" else np.float64)
                  - ref.astype(np.complex256 if ref.dtype.kind == "c" else np.float64))
    bad = diff > rtol * scale
    assert not bad.any(), (
        f"max |diff|/scale = {np.max(diff / np.maximum(scale, 1e-300)):.3g} > {rtol:.3g}")


def fft_atol(x, y, dtype):
    dtype = np.dtype(dtype)
    u = U32 if dtype in (np.float32, np.complex64, np.float16) else U64
    n = int(np.prod([a + b - 1 for a, b in zip(x.shape, y.shape)])) if x.ndim else 1
    nx = np.linalg.norm(np.abs(x).astype(np.float64).ravel())
    ny = np.linalg.norm(np.abs(y).astype(np.float64).ravel())
    return 4 * u * math.log2(max(n, 2)) * nx * ny


def check_direct(fname, x, y, mode, got=None, **kwargs):
    """fastconv's direct result equals SciPy's within the dtype's tolerance."""
    sfunc = getattr(ss, fname)
    ffunc = getattr(fs, fname)
    if got is None:
        got = ffunc(x, y, mode, method="direct", **kwargs)
    rt = np.result_type(x, y)
    try:
        ref = sfunc(x, y, mode, method="direct")
    except ValueError as exc:
        # SciPy's N-D loops refuse float16/bool/object ("Unsupported
        # type"); compare against float64 (resp. int64) computed by SciPy.
        assert "Unsupported type" in str(exc)
        wide = np.int64 if rt.kind == "b" else np.float64
        ref = sfunc(x.astype(wide), y.astype(wide), mode, method="direct")
        ref = (ref != 0) if rt.kind == "b" else ref.astype(rt)
    if rt.kind in "biu":
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref)
        return
    scale = abs_scale(sfunc, x, y, mode)
    assert_scaled_close(got, ref, scale, direct_tol(rt, x.shape, y.shape))


# --------------------------------------------------------------------------
# convolve / correlate over grids

SHAPES = [
    ((7,), (3,)), ((8,), (4,)), ((3,), (8,)), ((1,), (5,)), ((6,), (1,)), ((2,), (2,)),
    ((5, 6), (3, 2)), ((4, 4), (5, 5)), ((6, 2), (2, 6)), ((1, 7), (4, 1)),
    ((3, 1), (3, 4)), ((9, 8), (4, 3)),
    ((4, 5, 6), (2, 3, 3)), ((3, 4, 2), (4, 1, 3)), ((2, 3, 2), (5, 5, 5)),
    ((3, 4, 5, 3), (2, 3, 2, 2)),   # the rank-4 case
]
DTYPES = [np.float64, np.float32, np.complex128, np.complex64, np.int8, np.uint8, np.int16,
          np.int32, np.int64, np.uint64, np.bool_, np.float16]


@pytest.mark.parametrize("fname", ["convolve", "correlate"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_direct_matches_scipy(fname, dtype, mode):
    rng = np.random.default_rng(RNG_SEED)
    for s1, s2 in SHAPES:
        a = make(s1, dtype, rng)
        b = make(s2, dtype, rng)
        for x, y in ((a, b), (b, a)):
            try:
                ss.convolve(np.zeros(x.shape), np.zeros(y.shape), mode, method="direct")
            except ValueError:
                with pytest.raises(ValueError, match="at least as large as the other"):
                    getattr(fs, fname)(x, y, mode, method="direct")
                continue
            check_direct(fname, x, y, mode)


@pytest.mark.parametrize("fname", ["convolve", "correlate"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.int16],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_fft_and_auto_match_scipy(fname, dtype, mode):
    rng = np.random.default_rng(RNG_SEED + 1)
    for s1, s2 in SHAPES:
        a = make(s1, dtype, rng)
        b = make(s2, dtype, rng)
        for x, y in ((a, b), (b, a)):
            try:
                ref = getattr(ss, fname)(x, y, mode, method="direct")
            except ValueError:
                continue
            for method in ("fft", "auto"):
                got = getattr(fs, fname)(x, y, mode, method=method)
                assert got.dtype == ref.dtype and got.shape == ref.shape
                if np.dtype(dtype).kind in "iu":
                    # small integers: SciPy's rounding of the FFT is exact
                    np.testing.assert_array_equal(got, ref)
                else:
                    np.testing.assert_allclose(got, ref, rtol=0,
                                               atol=fft_atol(x, y, dtype) + 1e-300)


def test_float64_direct_relative_1e12_longer_sums():
    # longer sums than the grid (m up to 31 * 4 terms) still within 1e-12
    rng = np.random.default_rng(RNG_SEED + 2)
    for s1, s2 in [((300,), (31,)), ((40, 50), (7, 9)), ((12, 10, 9), (3, 4, 5))]:
        x = rng.standard_normal(s1) * 1e3
        y = rng.standard_normal(s2)
        for mode in ("full", "same", "valid"):
            for fname in ("convolve", "correlate"):
                check_direct(fname, x, y, mode)


def test_integer_wraparound_bit_for_bit():
    rng = np.random.default_rng(RNG_SEED + 3)
    for dtype in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
                  np.uint64):
        info = np.iinfo(dtype)
        for s1, s2 in [((40,), (9,)), ((9, 11), (4, 3)), ((5, 4, 6), (2, 3, 2))]:
            x = make(s1, dtype, rng, info.min, info.max)
            y = make(s2, dtype, rng, info.min, info.max)
            for mode in ("full", "same", "valid"):
                for fname in ("convolve", "correlate"):
                    got = getattr(fs, fname)(x, y, mode, method="direct")
                    ref = getattr(ss, fname)(x, y, mode, method="direct")
                    assert got.dtype == ref.dtype == dtype
                    np.testing.assert_array_equal(got, ref)
                    # 'auto' must not trade exactness for an FFT
                    np.testing.assert_array_equal(getattr(fs, fname)(x, y, mode), ref)
    # the example of the issue: int8 100*2 + 100*2 wraps to -56
    got = fs.convolve(np.array([100, 100], np.int8), np.array([2, 2], np.int8))
    np.testing.assert_array_equal(got, np.array([-56, -112, -56], np.int8))


@pytest.mark.parametrize("pair", [
    (np.int16, np.float32), (np.float32, np.float64), (np.uint8, np.int8),
    (np.int8, np.uint64), (np.bool_, np.int8), (np.complex64, np.float32),
    (np.float32, np.complex128), (np.int32, np.complex64), (np.float16, np.int16),
    (np.float16, np.float32), (np.bool_, np.float64),
], ids=lambda p: f"{np.dtype(p[0]).name}-{np.dtype(p[1]).name}")
def test_mixed_dtypes_promote_as_scipy(pair):
    rng = np.random.default_rng(RNG_SEED + 4)
    for s1, s2 in [((9,), (4,)), ((6, 5), (3, 2))]:
        x = make(s1, pair[0], rng)
        y = make(s2, pair[1], rng)
        for fname in ("convolve", "correlate"):
            for mode in ("full", "same", "valid"):
                for a, b in ((x, y), (y, x)):
                    got = getattr(fs, fname)(a, b, mode, method="direct")
                    assert got.dtype == np.result_type(a, b)
                    check_direct(fname, a, b, mode, got=got)


def test_long_double_and_object_give_scipy_results():
    rng = np.random.default_rng(RNG_SEED + 5)
    x = rng.standard_normal((6, 5)).astype(np.longdouble)
    y = rng.standard_normal((3, 2)).astype(np.longdouble)
    for fname in ("convolve", "correlate"):
        for mode in ("full", "same", "valid"):
            got = getattr(fs, fname)(x, y, mode, method="direct")
            ref = getattr(ss, fname)(x, y, mode, method="direct")
            assert got.dtype == np.longdouble
            np.testing.assert_array_equal(got, ref)
    xo = np.array([1, 2, 3, 4], dtype=object)
    yo = np.array([1, -1], dtype=object)
    for fname in ("convolve", "correlate"):
        got = getattr(fs, fname)(xo, yo)
        ref = getattr(ss, fname)(xo, yo)
        assert got.dtype == object
        np.testing.assert_array_equal(got, ref)
    # object in N-D (SciPy: "Unsupported type"): computed, exact for ints
    xo2 = np.arange(12).reshape(3, 4).astype(object)
    got = fs.convolve(xo2, np.ones((2, 2), dtype=object), method="direct")
    assert got.dtype == object
    np.testing.assert_array_equal(got.astype(np.int64),
                                  ss.convolve(np.arange(12).reshape(3, 4), np.ones((2, 2), int)))
    # long double along axes: computed by the NumPy fallback
    got = fs.convolve(x, y[:1], axes=1, method="direct")
    ref = ss.convolve(x, y[:1], method="direct")
    np.testing.assert_allclose(got.astype(float), ref.astype(float), rtol=1e-15)


def test_scalars():
    assert fs.convolve(2.0, 3.0) == 6.0
    assert fs.correlate(1 + 1j, 2j) == ss.correlate(1 + 1j, 2j)
    assert fs.convolve(np.float32(2), np.float32(3)).dtype == np.float32


def test_even_kernel_same_centring_rules():
    # x = 1..8, w = [1, 10, 100, 1000] makes every offset visible.
    x = np.arange(1.0, 9.0)
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    for fname in ("convolve", "correlate"):
        np.testing.assert_array_equal(getattr(fs, fname)(x, w, "same", method="direct"),
                                      getattr(ss, fname)(x, w, "same", method="direct"))
    # correlate: out[i] = sum_m x[i + m - k // 2] w[m]
    xp = np.concatenate([np.zeros(2), x, np.zeros(1)])
    expect = np.array([xp[i:i + 4] @ w for i in range(8)])
    np.testing.assert_array_equal(fs.correlate(x, w, "same"), expect)
    # correlate2d: one sample earlier on even axes (L = (k - 1) // 2)
    a = fs.correlate(x[None], w[None], "same", method="direct")
    b = fs.correlate2d(x[None], w[None], "same")
    np.testing.assert_array_equal(a[:, 1:], b[:, :-1])
    np.testing.assert_array_equal(b, ss.correlate2d(x[None], w[None], "same"))


def test_valid_swaps_and_same_keeps_in1_shape():
    np.testing.assert_array_equal(fs.convolve(np.ones(3), np.arange(5.0), "valid"),
                                  [3.0, 6.0, 9.0])
    assert fs.convolve(np.ones(3), np.ones(5), "same").shape == (3,)
    np.testing.assert_array_equal(fs.convolve(np.ones(3), np.ones(5), "same"), [3, 3, 3])
    with pytest.raises(ValueError, match="For 'valid' mode, one must be at least as large "
                                         "as the other in every dimension"):
        fs.convolve(np.ones((3, 5)), np.ones((5, 3)), "valid")
    with pytest.raises(ValueError, match="For 'valid' mode, one must be at least"):
        fs.correlate(np.ones((3, 5)), np.ones((5, 3)), "valid", method="fft")


# --------------------------------------------------------------------------
# layouts, read-only inputs, degenerate shapes, threads


def _layouts(x):
    ro = x.copy()
    ro.flags.writeable = False
    return {
        "C": x,
        "F": np.asfortranarray(x),
        "negative": x[::-1, ::-1],
        "strided": x[::2, 1::3],
        "readonly": ro,
    }


def test_layouts_and_inputs_never_modified(tmp_path):
    rng = np.random.default_rng(RNG_SEED + 6)
    x = rng.standard_normal((14, 19))
    k = rng.standard_normal((4, 3))
    path = tmp_path / "x.dat"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=x.shape)
    mm[:] = x
    mm.flush()
    del mm
    mapped = np.memmap(path, dtype=np.float64, mode="r", shape=x.shape)
    cases = _layouts(x)
    cases["memmap-r"] = mapped
    for name, xx in cases.items():
        before = np.array(xx, copy=True)
        kk = k[::-1, ::2]
        kb = kk.copy()
        for fname in ("convolve", "correlate"):
            for method in ("direct", "fft"):
                got = getattr(fs, fname)(xx, kk, "same", method=method)
                ref = getattr(ss, fname)(np.array(xx), kb, "same", method="direct")
                np.testing.assert_allclose(got, ref, atol=1e-12 * np.abs(ref).max())
        for fname in ("convolve2d", "correlate2d"):
            for boundary in ("fill", "wrap", "symm"):
                got = getattr(fs, fname)(xx, kk, "same", boundary)
                ref = getattr(ss, fname)(np.array(xx), kb, "same", boundary)
                np.testing.assert_allclose(got, ref, atol=1e-12 * np.abs(ref).max())
        np.testing.assert_array_equal(xx, before)
        np.testing.assert_array_equal(kk, kb)


def test_degenerate_outer_product():
    # SciPy's direct method takes ~47 s here (scipy/scipy#5967); fastconv
    # broadcasts the length-1 axes (an outer product, no summation).  The
    # speed is the benchmark's business; the result is checked here.
    rng = np.random.default_rng(RNG_SEED + 7)
    a = rng.standard_normal((1000, 1))
    b = rng.standard_normal((1, 1000))
    got = fs.convolve(a, b, method="direct")
    np.testing.assert_array_equal(got, a * b)
    got = fs.correlate(np.ones((2000, 3)), np.ones((3, 2000)), "same", method="direct")
    assert got.shape == (2000, 3)
    np.testing.assert_array_equal(got, ss.correlate(np.ones((2000, 3)), np.ones((3, 2000)),
                                                    "same", method="fft").round())


def test_results_identical_for_any_thread_count():
    rng = np.random.default_rng(RNG_SEED + 8)
    for dtype in (np.float32, np.float64, np.complex64, np.int32):
        x = make((64, 300), dtype, rng)
        y = make((5, 7), dtype, rng)
        r1 = fs.convolve(x, y, "same", method="direct", workers=1)
        r2 = fs.convolve(x, y, "same", method="direct", workers=2)
        r3 = fs.correlate(x, y, "full", method="direct", workers=-1)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(r3, fs.correlate(x, y, "full", method="direct",
                                                       workers=1))


# --------------------------------------------------------------------------
# axes (direct method with broadcasting), against fftconvolve(axes=...)

AXES_CASES = [
    ((3, 10), (3, 4), 1),          # paired rows (engine groups)
    ((3, 10), (1, 4), 1),          # one kernel for every row (engine batch)
    ((1, 10), (3, 4), 1),          # one signal, many kernels (engine filters)
    ((4, 9, 6), (4, 3, 1), (1, 2)),
    ((4, 9, 6), (1, 3, 6), (1,)),
    ((2, 8, 3, 5), (2, 3, 1, 5), [1]),  # mixed: paired, batch, paired
    ((6, 5), (2, 5), 0),
    ((5, 7), (5, 7), -1),
    ((1, 10), (3, 4), [0, 1]),     # length-1 axis in `axes` broadcasts
    ((7, 1, 6), (2, 4, 3), (0, 2)),
]


@pytest.mark.parametrize("case", AXES_CASES, ids=lambda c: f"{c[0]}x{c[1]}@{c[2]}")
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_axes_broadcasting_matches_fftconvolve(case, mode):
    s1, s2, axes = case
    rng = np.random.default_rng(RNG_SEED + 9)
    x = rng.standard_normal(s1)
    y = rng.standard_normal(s2)
    ax_list = [axes] if isinstance(axes, int) else list(axes)
    for a, b in ((x, y), (y, x)):
        try:
            ref = ss.fftconvolve(a, b, mode, axes=axes)
        except ValueError as exc:
            for method in ("direct", "fft", "auto"):
                with pytest.raises(ValueError, match=str(exc).split(":")[0]):
                    fs.convolve(a, b, mode, method=method, axes=axes)
            continue
        atol = fft_atol(a, b, np.float64) + 1e-300
        for method in ("direct", "fft", "auto"):
            got = fs.convolve(a, b, mode, method=method, axes=axes)
            assert got.shape == ref.shape
            np.testing.assert_allclose(got, ref, rtol=0, atol=atol)
        # correlate = convolve with in2 reversed (and conjugated) along axes only
        ref_c = ss.fftconvolve(a, np.flip(b, axis=tuple(ax_list)), mode, axes=axes)
        for method in ("direct", "fft"):
            got = fs.correlate(a, b, mode, method=method, axes=axes)
            np.testing.assert_allclose(got, ref_c, rtol=0, atol=atol)


def test_axes_complex_and_integer_exact():
    rng = np.random.default_rng(RNG_SEED + 10)
    x = make((3, 12), np.int16, rng)
    y = make((3, 4), np.int16, rng)
    got = fs.convolve(x, y, axes=1, method="direct")
    ref = np.stack([ss.convolve(x[i], y[i], method="direct") for i in range(3)])
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got, ref)
    xc = make((2, 9), np.complex128, rng)
    yc = make((1, 4), np.complex128, rng)
    got = fs.correlate(xc, yc, "same", axes=-1, method="direct")
    ref = np.stack([ss.correlate(xc[i], yc[0], "same", method="direct") for i in range(2)])
    scale = np.stack([abs_scale(ss.correlate, xc[i], yc[0], "same") for i in range(2)])
    assert_scaled_close(got, ref, scale, RTOL64)


# --------------------------------------------------------------------------
# NaN and inf


def _pattern(r):
    return np.stack([np.isnan(r), np.isposinf(r), np.isneginf(r)])


def test_nonfinite_positions_match_scipy_direct_and_auto_never_smears():
    rng = np.random.default_rng(RNG_SEED + 11)
    shapes = [((9,), (4,)), ((3,), (7,)), ((6, 7), (3, 2)), ((4, 4), (5, 5)),
              ((4, 5, 3), (2, 3, 2))]
    values = [np.nan, np.inf, -np.inf]
    for (s1, s2), where in zip(shapes * 3, ["a", "b", "ab"] * 5):
        for trial in range(3):
            x = rng.standard_normal(s1)
            y = rng.standard_normal(s2)
            if "a" in where:
                x.flat[rng.integers(x.size)] = values[trial]
            if "b" in where:
                y.flat[rng.integers(y.size)] = values[(trial + 1) % 3]
            for a, b in ((x, y), (y, x)):
                for mode in ("full", "same", "valid"):
                    for fname in ("convolve", "correlate"):
                        try:
                            ref = getattr(ss, fname)(a, b, mode, method="direct")
                        except ValueError:
                            continue
                        for method in ("direct", "auto"):
                            got = getattr(fs, fname)(a, b, mode, method=method)
                            np.testing.assert_array_equal(_pattern(got), _pattern(ref))
                            fin = np.isfinite(ref)
                            np.testing.assert_allclose(got[fin], ref[fin], atol=1e-9)
    # one NaN in a big input: 'auto' keeps it local where SciPy's auto smears it
    x = rng.standard_normal((256, 256))
    x[100, 100] = np.nan
    k = rng.standard_normal((31, 31))
    got = fs.convolve(x, k, "same")
    assert np.isnan(got).sum() == 31 * 31
    assert fs.choose_conv_method(x, k, "same") == "direct"


def test_direct_choice_scans_only_the_kernel(nonfinite_scans):
    # The NaN/inf scan of a large input is a full memory pass: a direct
    # convolution with a finite kernel must not pay for it, but a kernel
    # holding NaN must still be detected.
    rng = np.random.default_rng(RNG_SEED + 12)
    x = rng.standard_normal((300, 300))
    k = rng.standard_normal((5, 5))
    for method in ("direct", "auto"):
        for fname in ("convolve", "correlate"):
            nonfinite_scans.clear()
            got = getattr(fs, fname)(x, k, "same", method=method)
            np.testing.assert_allclose(got, getattr(ss, fname)(x, k, "same", method="direct"),
                                       atol=1e-11)
            scanned = [a.size for a in nonfinite_scans]
            assert x.size not in scanned, (method, fname, scanned)
    k[2, 2] = np.nan
    got = fs.convolve(x, k, "same")
    assert np.isnan(got).all() and np.isnan(ss.convolve(x, k, "same", method="direct")).all()


def test_small_path_takes_float32_images_with_small_kernels(monkeypatch):
    """Above TINY_MACS the small-call path still runs float32 images with
    kernels of at most 5 per axis (up to 160k multiply-adds), and only where
    'auto' prices the direct method; float64, larger kernels, 1-D signals
    and larger images take the engine.  Same numbers as SciPy's direct sums
    either way."""
    taken = []
    real = fs.run_small

    def spy(*args):
        taken.append(True)
        return real(*args)

    monkeypatch.setattr(fs, "run_small", spy)
    rng = np.random.default_rng(RNG_SEED + 29)
    cases = [((96, 96), (3, 3), np.float32, True), ((64, 64), (5, 5), np.float32, True),
             ((10, 20, 24), (3, 3, 3), np.float32, True),
             ((80, 80), (5, 5), np.float32, False), ((96, 96), (3, 3), np.float64, False),
             ((40, 40), (7, 7), np.float32, False), ((20_000,), (5,), np.float32, False)]
    for s1, s2, dtype, small in cases:
        assert (math.prod(s1) * math.prod(s2) >= _cost.TINY_MACS), s1
        x = rng.standard_normal(s1).astype(dtype)
        k = rng.standard_normal(s2).astype(dtype)
        for mode in ("full", "same", "valid"):
            taken.clear()
            got = fs.convolve(x, k, mode)
            assert bool(taken) == small, (s1, s2, dtype, mode)
            ref = ss.convolve(x.astype(np.float64), k.astype(np.float64), mode, method="direct")
            np.testing.assert_allclose(got, ref, rtol=1e-4 if dtype == np.float32 else 1e-12,
                                       atol=1e-4 if dtype == np.float32 else 1e-12)
    # 'auto' asks the price first; 'direct' does not
    x = rng.standard_normal((96, 96)).astype(np.float32)
    k = rng.standard_normal((3, 3)).astype(np.float32)
    monkeypatch.setattr(fs, "priced_direct", lambda *a: False)
    taken.clear()
    fs.convolve(x, k, "same", method="auto")
    assert not taken
    fs.convolve(x, k, "same", method="direct")
    assert taken


def test_plain_direct_path_is_bitwise_the_general_path(monkeypatch):
    # The short path straight to the engine must give exactly what the
    # general planner (conv_window) gives, and must be taken where it applies.
    # (The lean route in front of it, _plain_call, is off here: it has its
    # own test, test_lean_nd_route_gives_the_general_routes_bits.)
    monkeypatch.setattr(fs, "_plain_call", lambda *a: None)
    monkeypatch.setattr(fs, "_small_call", lambda *a: None)   # (images up to 160k MACs)
    rng = np.random.default_rng(RNG_SEED + 13)
    cases = [((200_000,), (7,)), ((70, 90), (5, 3)), ((6, 20, 80), (3, 2, 5)), ((64, 64), (64, 1))]
    taken = []
    plain = fs._plain_direct

    def spy(*args):
        out = plain(*args)
        taken.append(out is not None)
        return out

    for dtype in (np.float32, np.float64):
        for s1, s2 in cases:
            x = rng.standard_normal(s1).astype(dtype)
            k = rng.standard_normal(s2).astype(dtype)
            for mode in ("full", "same", "valid"):
                for fname in ("convolve", "correlate"):
                    func = getattr(fs, fname)
                    monkeypatch.setattr(fs, "_plain_direct", spy)
                    taken.clear()
                    got = func(x, k, mode, method="direct")
                    assert taken == [True], (s1, s2, mode, fname)
                    monkeypatch.setattr(fs, "_plain_direct", lambda *a: None)
                    ref = func(x, k, mode, method="direct")
                    assert got.dtype == ref.dtype == dtype
                    np.testing.assert_array_equal(got, ref)
                    np.testing.assert_allclose(
                        got, getattr(ss, fname)(x, k, mode, method="direct"),
                        rtol=0, atol=(2e-4 if dtype == np.float32 else 1e-11) * np.abs(k).sum())
    # not taken: mixed dtypes, a kernel longer than the input, short rows, NaN kernels
    monkeypatch.setattr(fs, "_plain_direct", spy)
    taken.clear()
    fs.convolve(np.ones((100, 200), np.float32), np.ones((3, 3)), method="direct")
    fs.convolve(np.ones((3, 200)), np.ones((5, 3)), method="direct")
    fs.convolve(np.ones((2000, 20)), np.ones((3, 3)), "same", method="direct")
    fs.convolve(np.ones((100, 200)), np.full((3, 3), np.nan), "same", method="direct")
    assert taken == [False] * 4


def test_fft_method_warns_on_nan_like_scipy():
    x = np.array([np.nan, 1.0, 2.0])
    with pytest.warns(RuntimeWarning, match="Use of fft convolution on input with NAN or inf"):
        got = fs.convolve(x, np.ones(2), method="fft")
    assert np.isnan(got).all()


def test_nonfinite_2d_boundaries_match_scipy():
    rng = np.random.default_rng(RNG_SEED + 12)
    for fname in ("convolve2d", "correlate2d"):
        for boundary in ("fill", "wrap", "symm"):
            for mode in ("full", "same", "valid"):
                for trial in range(4):
                    x = rng.standard_normal((6, 7))
                    y = rng.standard_normal((3, 4))
                    (x if trial % 2 else y).flat[trial] = np.inf
                    for a, b in ((x, y), (y, x)):
                        ref = getattr(ss, fname)(a, b, mode, boundary)
                        got = getattr(fs, fname)(a, b, mode, boundary)
                        np.testing.assert_array_equal(_pattern(got), _pattern(ref))


# --------------------------------------------------------------------------
# convolve2d / correlate2d

SHAPES_2D = [((7, 5), (3, 3)), ((6, 6), (4, 2)), ((3, 4), (5, 6)), ((1, 5), (3, 2)),
             ((5, 1), (1, 3)), ((3, 3), (7, 8)), ((2, 2), (9, 9)), ((6, 7), (6, 7)),
             ((8, 3), (2, 2))]


@pytest.mark.parametrize("fname", ["convolve2d", "correlate2d"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.complex64,
                                   np.int16, np.uint8, np.int64],
                         ids=lambda d: np.dtype(d).name)
def test_2d_matches_scipy(fname, dtype):
    rng = np.random.default_rng(RNG_SEED + 13)
    sfunc, ffunc = getattr(ss, fname), getattr(fs, fname)
    for (s1, s2) in SHAPES_2D:
        a = make(s1, dtype, rng)
        b = make(s2, dtype, rng)
        for x, y in ((a, b), (b, a)):
            for mode in ("full", "same", "valid"):
                for boundary, fillvalue in (("fill", 0), ("fill", 2), ("pad", -1),
                                            ("wrap", 0), ("circular", 0), ("symm", 0),
                                            ("symmetric", 0)):
                    try:
                        ref = sfunc(x, y, mode, boundary, fillvalue)
                    except ValueError as exc:
                        with pytest.raises(ValueError, match=str(exc)[:30]):
                            ffunc(x, y, mode, boundary, fillvalue)
                        continue
                    got = ffunc(x, y, mode, boundary, fillvalue)
                    if np.dtype(dtype).kind in "iu":
                        assert got.dtype == ref.dtype
                        np.testing.assert_array_equal(got, ref)
                    else:
                        scale = abs_scale(sfunc, x, y, mode, boundary, abs(fillvalue))
                        assert_scaled_close(got, ref, scale,
                                            direct_tol(dtype, x.shape, y.shape))


def test_2d_fillvalue_conversion_like_scipy():
    a = np.arange(6, dtype=np.int16).reshape(2, 3)
    b = np.ones((2, 2), np.int16)
    for fv in (1.7, -1.7, [4], "5", np.float32(2.5), True, np.array([2], np.int8),
               [[7]], (1.5,), np.array([[3]], np.int16)):
        np.testing.assert_array_equal(fs.convolve2d(a, b, fillvalue=fv),
                                      ss.convolve2d(a, b, fillvalue=fv))
    for fv in (np.array(2), 1 + 1j, None, 70000, np.array([1, 2])):
        with pytest.raises(ValueError, match="could not cast `fillvalue` directly to the "
                                             "output type"):
            fs.convolve2d(a, b, fillvalue=fv)
    with pytest.raises(ValueError, match="`fillvalue` must be scalar or an array with one "
                                         "element"):
        fs.convolve2d(a, b, fillvalue=[1, 2])
    # complex fill for complex output
    af = a.astype(float)
    np.testing.assert_allclose(fs.convolve2d(af, b + 0j, fillvalue=1 + 1j),
                               ss.convolve2d(af, b + 0j, fillvalue=1 + 1j))


def test_2d_extra_dtypes_and_long_double():
    rng = np.random.default_rng(RNG_SEED + 14)
    x = rng.standard_normal((5, 6)).astype(np.longdouble)
    y = rng.standard_normal((2, 3)).astype(np.longdouble)
    np.testing.assert_array_equal(fs.convolve2d(x, y, "same", "symm"),
                                  ss.convolve2d(x, y, "same", "symm"))
    # float16 and bool: SciPy's loops refuse them; fastconv computes them
    xh = make((5, 6), np.float16, rng)
    yh = make((2, 3), np.float16, rng)
    got = fs.convolve2d(xh, yh, "same", "wrap")
    ref = ss.convolve2d(xh.astype(np.float64), yh.astype(np.float64), "same", "wrap")
    assert got.dtype == np.float16
    scale = abs_scale(ss.convolve2d, xh, yh, "same", "wrap")
    assert_scaled_close(got.astype(np.float64), ref, scale, direct_tol(np.float16, (5, 6),
                                                                       (2, 3)))
    xb = make((5, 6), np.bool_, rng)
    yb = make((2, 3), np.bool_, rng)
    got = fs.correlate2d(xb, yb, "full")
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, ss.correlate2d(xb.astype(int), yb.astype(int)) != 0)


def test_2d_errors():
    with pytest.raises(ValueError, match="convolve2d inputs must both be 2-D arrays"):
        fs.convolve2d(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="correlate2d inputs must both be 2-D arrays"):
        fs.correlate2d(np.ones((3, 3, 3)), np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="Acceptable boundary flags are 'fill', 'circular' "
                                         r"\(or 'wrap'\), and 'symmetric' \(or 'symm'\)"):
        fs.convolve2d(np.ones((3, 3)), np.ones((2, 2)), boundary="foo")
    with pytest.raises(ValueError, match="Incorrect boundary value"):
        fs.convolve2d(np.ones((3, 3)), np.ones((2, 2)), boundary="reflect")
    with pytest.raises(ValueError, match="Acceptable mode flags are 'valid', 'same', or "
                                         "'full'"):
        fs.correlate2d(np.ones((3, 3)), np.ones((2, 2)), mode="foo")
    with pytest.raises(ValueError, match="cannot extend an empty in1"):
        fs.convolve2d(np.zeros((0, 3)), np.ones((2, 2)), "full", "wrap")


def test_2d_empty_inputs_like_scipy():
    e = np.zeros((0, 3))
    a = np.ones((2, 3))
    for fname in ("convolve2d", "correlate2d"):
        for x, y in ((e, a), (a, e)):
            for mode in ("full", "same", "valid"):
                got = getattr(fs, fname)(x, y, mode)
                ref = getattr(ss, fname)(x, y, mode)
                assert got.shape == ref.shape and got.dtype == ref.dtype
                np.testing.assert_array_equal(got, ref)


# --------------------------------------------------------------------------
# empty inputs, errors of convolve/correlate


@pytest.mark.parametrize("fname", ["convolve", "correlate"])
def test_empty_inputs_follow_scipy_direct(fname):
    e1, a1 = np.zeros(0), np.ones(3)
    e2, a2 = np.zeros((0, 3)), np.ones((2, 3))
    for x, y in ((e1, a1), (a1, e1), (e2, a2), (a2, e2), (e1, e1)):
        for mode in ("full", "same", "valid"):
            try:
                ref = getattr(ss, fname)(x, y, mode, method="direct")
            except ValueError:
                for method in ("direct", "fft", "auto"):
                    with pytest.raises(ValueError, match="cannot be empty"):
                        getattr(fs, fname)(x, y, mode, method=method)
                continue
            for method in ("direct", "fft", "auto"):
                got = getattr(fs, fname)(x, y, mode, method=method)
                assert got.shape == ref.shape and got.dtype == ref.dtype
                np.testing.assert_array_equal(got, ref)


def test_errors_pinned():
    x = np.ones((4, 5))
    with pytest.raises(ValueError, match="volume and kernel should have the same "
                                         "dimensionality"):
        fs.convolve(np.ones(3), x)
    with pytest.raises(ValueError, match="in1 and in2 should have the same dimensionality"):
        fs.correlate(np.ones(3), x)
    with pytest.raises(ValueError, match="Acceptable mode flags are 'valid', 'same', or "
                                         "'full'"):
        fs.convolve(x, x, mode="foo")
    with pytest.raises(ValueError, match="Acceptable mode flags"):
        fs.correlate(x, x, mode=1)
    with pytest.raises(ValueError, match="Acceptable method flags are 'auto', 'direct', or "
                                         "'fft'"):
        fs.convolve(x, x, method="fast")
    with pytest.raises(ValueError, match="when provided, axes cannot be empty"):
        fs.convolve(x, x, axes=[])
    with pytest.raises(ValueError, match="axes exceeds dimensionality of input"):
        fs.correlate(x, x, axes=2)
    with pytest.raises(ValueError, match="all axes must be unique"):
        fs.convolve(x, x, axes=[0, -2])
    with pytest.raises(TypeError, match="axes must be a scalar or iterable of integers"):
        fs.convolve(x, x, axes=[0.5])
    with pytest.raises(ValueError, match="axes must be a scalar or iterable of integers"):
        fs.fftconvolve(x, x, axes="a")   # SciPy raises ValueError: still caught
    with pytest.raises(ValueError, match=r"incompatible shapes for in1 and in2: \(4, 5\) "
                                         r"and \(3, 5\)"):
        fs.convolve(x, np.ones((3, 5)), axes=1, method="direct")
    with pytest.raises(ValueError, match="workers must be a non-zero int"):
        fs.convolve(x, x, workers=0)
    with pytest.raises(TypeError, match="workers must be an int or None"):
        fs.correlate(x, x, workers=1.5)
    with pytest.raises(ValueError, match="in1 and in2 should have the same dimensionality"):
        fs.fftconvolve(np.ones(3), x)
    with pytest.raises(ValueError, match="in1 and in2 should have the same dimensionality"):
        fs.oaconvolve(np.ones(3), x)
    with pytest.raises(ValueError, match="acceptable mode flags"):   # SciPy's lower case
        fs.oaconvolve(x, x, mode="nope")
    with pytest.raises(ValueError, match="volume and kernel should have the same"):
        fs.choose_conv_method(np.ones(3), x)
    with pytest.raises(ValueError, match="Acceptable mode flags"):
        fs.choose_conv_method(x, x, mode="nope")
    with pytest.raises(ValueError, match="workers must be a non-zero int"):
        fs.convolve2d(x, x, workers=0)


# --------------------------------------------------------------------------
# fftconvolve / oaconvolve


FFT_CASES = [((1000,), (31,), None), ((100, 120), (5, 7), None), ((30,), (8,), None),
             ((64, 300), (64, 9), [1]), ((5, 300), (1, 9), 1), ((7, 50, 60), (3, 4, 5), None),
             ((40,), (300,), None), ((400, 3), (20, 3), [0]), ((1, 300), (5, 9), [1]),
             ((3, 10), (2, 4), 1), ((6, 7), (6, 7), None), ((3, 4), (5, 6), [])]


@pytest.mark.parametrize("case", FFT_CASES, ids=lambda c: f"{c[0]}x{c[1]}@{c[2]}")
def test_fftconvolve_bitwise_and_oaconvolve_close(case):
    s1, s2, axes = case
    rng = np.random.default_rng(RNG_SEED + 15)
    for dtype in (np.float64, np.float32, np.complex128):
        x = make(s1, dtype, rng)
        y = make(s2, dtype, rng)
        for mode in ("full", "same", "valid"):
            for a, b in ((x, y), (y, x)):
                try:
                    ref = ss.fftconvolve(a, b, mode, axes=axes)
                except ValueError as exc:
                    with pytest.raises(ValueError, match=str(exc)[:25]):
                        fs.fftconvolve(a, b, mode, axes=axes)
                    with pytest.raises(ValueError, match=str(exc)[:25]):
                        fs.oaconvolve(a, b, mode, axes=axes)
                    continue
                got = fs.fftconvolve(a, b, mode, axes=axes, workers=2)
                # the same scipy.fft calls in the same order: identical bits
                assert got.dtype == ref.dtype
                np.testing.assert_array_equal(got, ref)
                ref_oa = ss.oaconvolve(a, b, mode, axes=axes)
                got_oa = fs.oaconvolve(a, b, mode, axes=axes)
                assert got_oa.dtype == ref_oa.dtype and got_oa.shape == ref_oa.shape
                np.testing.assert_allclose(got_oa, ref_oa, rtol=0,
                                           atol=2 * fft_atol(a, b, dtype) + 1e-300)


def test_fft_output_dtypes_and_empties():
    for d1, d2 in [(np.int16, np.int16), (np.float16, np.float16), (np.float32, np.float32),
                   (np.complex64, np.float32), (np.longdouble, np.float64),
                   (np.bool_, np.bool_), (np.int8, np.float32)]:
        x = np.ones(9, d1)
        y = np.ones(3, d2)
        for func in ("fftconvolve", "oaconvolve"):
            got = getattr(fs, func)(x, y)
            ref = getattr(ss, func)(x, y)
            assert got.dtype == ref.dtype, (d1, d2, func)
            np.testing.assert_allclose(got.astype(complex), ref.astype(complex), atol=1e-5)
    for func in ("fftconvolve", "oaconvolve"):
        got = getattr(fs, func)(np.zeros(0), np.ones(3))
        assert got.shape == (0,) and got.dtype == np.float64
        assert getattr(fs, func)(2.0, 3.0) == 6.0


def test_fft_method_of_convolve_picks_overlap_add_for_long_signals():
    # A long signal and a short kernel: convolve(method='fft') may run
    # overlap-add; the answer is SciPy's within the FFT bound.
    rng = np.random.default_rng(RNG_SEED + 16)
    x = rng.standard_normal(200_000)
    y = rng.standard_normal(255)
    got = fs.convolve(x, y, "same", method="fft")
    ref = ss.convolve(x, y, "same", method="fft")
    np.testing.assert_allclose(got, ref, rtol=0, atol=fft_atol(x, y, np.float64))


# --------------------------------------------------------------------------
# choose_conv_method and 'auto'


def test_choose_conv_method_rules():
    rng = np.random.default_rng(RNG_SEED + 17)
    small = rng.standard_normal((128, 128))
    assert fs.choose_conv_method(small, rng.standard_normal((3, 3))) == "direct"
    assert fs.choose_conv_method(rng.standard_normal(100_000),
                                 rng.standard_normal(5000)) == "fft"
    # NaN/inf, bool and object -> direct
    x = rng.standard_normal(100_000)
    x[7] = np.inf
    assert fs.choose_conv_method(x, rng.standard_normal(5000)) == "direct"
    assert fs.choose_conv_method(np.ones(5000, bool), np.ones(5000, bool)) == "direct"
    assert fs.choose_conv_method(np.ones(50, object), np.ones(5, object)) == "direct"
    # integers whose sums could exceed 2**52: direct (SciPy's guard)
    big = np.full(20_000, 2 ** 40, np.int64)
    assert fs.choose_conv_method(big, big) == "direct"
    assert fs.choose_conv_method(np.ones(20_000, np.int64), np.ones(20_000, np.int64)) == "fft"
    # measure=True times both and returns the faster with the timings
    method, times = fs.choose_conv_method(small, small[:9, :9], measure=True)
    assert method in ("direct", "fft") and set(times) == {"direct", "fft"}
    assert method == min(times, key=times.get)
    assert fs.choose_conv_method(2.0, 3.0) == "direct"


def test_auto_chooses_by_the_cost_model_on_clear_cases():
    # Where direct and FFT differ by far more than any cost-model error,
    # 'auto' picks the cheap one (measured with `python -m fastconv bench`,
    # whose planner table times every method; no clock is read here).
    rng = np.random.default_rng(RNG_SEED + 18)
    cases = {((512, 512), (3, 3)): "direct", ((200_000,), (7,)): "direct",
             ((200_000,), (2048,)): "fft", ((256, 256), (64, 64)): "fft"}
    for (s1, s2), want in cases.items():
        x = rng.standard_normal(s1).astype(np.float32)
        y = rng.standard_normal(s2).astype(np.float32)
        assert fs.choose_conv_method(x, y, "same", workers=1) == want, (s1, s2)


def test_public_names_exported():
    for name in ("convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve",
                 "oaconvolve", "choose_conv_method", "ndimage"):
        assert name in fastconv.__all__
        assert getattr(fastconv, name) is not None
    assert fastconv.ndimage.correlate is not None


@pytest.mark.parametrize("s1, s2", [((1000, 1), (31, 1)), ((30, 30, 1), (5, 5, 1)),
                                    ((1, 30, 1), (1, 5, 1)), ((5, 1, 7), (2, 1, 3)),
                                    ((1, 1), (1, 1))])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_small_calls_drop_axes_of_length_one(s1, s2, mode):
    # axes where both operands have length 1 are dropped from the small
    # call's kernel geometry (a column ran as n rows of one element); the
    # result keeps its shape and SciPy's values, with the bits of the same
    # call on the squeezed arrays
    from fastconv._direct import plan_small
    from fastconv._scipy_args import conv_windows
    rng = np.random.default_rng(RNG_SEED + 40)
    x, y = rng.standard_normal(s1), rng.standard_normal(s2)
    plan = plan_small(s1, s2, "d", tuple(conv_windows(mode, s1, s2, range(len(s1)))))
    assert plan is not None
    kept = [n for n, k in zip(s1, s2) if n > 1 or k > 1] or [s1[-1]]
    assert plan.x5[-len(kept):] == tuple(kept) and set(plan.x5[:-len(kept)]) == {1}
    for fname in ("convolve", "correlate"):
        got = getattr(fs, fname)(x, y, mode)
        check_direct(fname, x, y, mode, got=got)
        keep = tuple(i for i, (n, k) in enumerate(zip(s1, s2)) if n > 1 or k > 1) or (-1,)
        sq = getattr(fs, fname)(x.reshape([s1[i] for i in keep]),
                                y.reshape([s2[i] for i in keep]), mode)
        assert np.array_equal(got.reshape(sq.shape), sq)


def test_numpy_loop_taken_only_where_priced_cheaper(monkeypatch):
    # NumPy's 1-D loop calls BLAS once per output from 9 taps (float32
    # 10000 x 31: 268 us against the engine's 44, Intel Xeon); the pricing
    # (shapes only, no clock) sends such calls to the engine and keeps the
    # loop where it is cheap: few outputs of a long kernel, complex operands
    from fastconv._cost import numpy_loop_cheaper
    f4, f8 = np.dtype(np.float32), np.dtype(np.float64)
    assert not numpy_loop_cheaper((10000,), (31,), "full", f4)
    assert not numpy_loop_cheaper((16000,), (31,), "valid", f8)
    assert numpy_loop_cheaper((600,), (511,), "valid", f4)
    assert numpy_loop_cheaper((3000,), (31,), "full", f8)
    calls = []
    real = np.convolve

    def spy(a, v, mode="full"):
        calls.append((a.size, v.size))
        return real(a, v, mode)

    monkeypatch.setattr(np, "convolve", spy)
    rng = np.random.default_rng(RNG_SEED + 41)
    for (n, k), dt, want in [((10000, 31), np.float32, False), ((600, 511), np.float32, True),
                             ((10000, 31), np.complex128, True)]:
        x = rng.standard_normal(n).astype(dt)
        y = rng.standard_normal(k).astype(dt)
        calls.clear()
        got = fs.convolve(x, y, "valid")
        assert bool(calls) == want, (n, k, dt)
        check_direct("convolve", x, y, "valid", got=got)


# --------------------------------------------------------------------------
# small convolve2d/correlate2d and integer N-D calls: SciPy's own loops


def _same_outcome(ours, scipys):
    """Both raise the same exception type, or give the same bits and dtype
    (fastconv may compute where SciPy refuses a dtype)."""
    try:
        ref = scipys()
    except Exception as e:      # noqa: BLE001 - any of SciPy's errors
        try:
            ours()
        except type(e):
            return "raised"
        return "computed"
    got = ours()
    assert got.dtype == ref.dtype and got.shape == ref.shape
    assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(ref).tobytes()
    return "same"


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")   # the spy's frame
@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int32, np.int64, np.float32,
                                   np.float64, np.complex128, np.float16, np.bool_])
def test_small_2d_calls_are_scipys(dtype, monkeypatch):
    """Small convolve2d/correlate2d calls run SciPy's C loop with the
    arguments its Python layer passes: for every dtype, mode, boundary
    (aliases too), fillvalue and operand order the outcome is SciPy's (bits
    and dtype, or its exception type), and the C entry ran for the plain
    numeric cases."""
    from types import SimpleNamespace
    used = []
    real = fs._sigtools._convolve2d
    monkeypatch.setattr(fs, "_sigtools", SimpleNamespace(
        _convolve2d=lambda *a: used.append(a[2]) or real(*a)))
    rng = np.random.default_rng(4)
    outcomes = set()
    for s1, s2 in [((6, 7), (3, 2)), ((2, 3), (4, 5)), ((3, 4), (2, 6)), ((1, 9), (1, 3))]:
        a = (rng.standard_normal(s1) * 20).astype(dtype)
        b = (rng.standard_normal(s2) * 20).astype(dtype)
        if a.dtype.kind == "c":
            a += 1j * rng.standard_normal(s1)
            b -= 3j * rng.standard_normal(s2)
        for mode in ("full", "same", "valid"):
            for boundary in ("fill", "pad", "wrap", "circular", "symm", "symmetric",
                             "reflect"):
                for fv in (0, 2.5, 1 + 1j):
                    for name in ("convolve2d", "correlate2d"):
                        outcomes.add(_same_outcome(
                            lambda: getattr(fs, name)(a, b, mode, boundary, fv),
                            lambda: getattr(ss, name)(a, b, mode, boundary, fv)))
    plain = np.dtype(dtype).kind in "iuc" or dtype in (np.float32, np.float64)
    assert ("same" in outcomes) == plain and "raised" in outcomes
    assert set(used) == ({0, 1} if plain else set()) or dtype == np.float16


def test_small_2d_entry_checked_before_use(monkeypatch):
    """A private entry that gives other bits than the public functions is
    not used; the results stay SciPy's."""
    from types import SimpleNamespace
    real = fs._sigtools._convolve2d
    monkeypatch.setattr(fs, "_C2D_OK", [None])
    monkeypatch.setattr(fs, "_sigtools", SimpleNamespace(
        _convolve2d=lambda a, b, flip, *r: real(a, b, 1 - flip, *r)))
    x, k = np.arange(30.0).reshape(5, 6) ** 1.5, np.array([[1.0, 2.0], [0.5, -3.0]])
    got = fs.convolve2d(x, k)
    assert fs._C2D_OK == [False]
    monkeypatch.undo()
    assert got.tobytes() == ss.convolve2d(x, k).tobytes()


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64])
def test_small_integer_nd_calls_are_scipys_direct(dtype, monkeypatch):
    """Small N-D integer convolve/correlate calls run SciPy's direct method
    (its wrap-around is fastconv's exact route's): the same bits and dtype
    for every mode with ``method='auto'`` and ``'direct'``; larger ones keep
    fastconv's route."""
    calls = []
    for name in ("convolve", "correlate"):
        real = getattr(ss, name)
        monkeypatch.setattr(fs._ss, name,
                            lambda *a, _r=real, **k: calls.append(k) or _r(*a, **k))
    rng = np.random.default_rng(6)
    for s1, s2 in [((8, 8), (3, 3)), ((3, 50), (1, 5)), ((4, 5, 6), (2, 3, 2)),
                   ((3, 3), (5, 4))]:
        a = rng.integers(-100, 100, s1).astype(dtype)
        b = rng.integers(-100, 100, s2).astype(dtype)
        for mode in ("full", "same", "valid"):
            for method in ("auto", "direct"):
                for name in ("convolve", "correlate"):
                    _same_outcome(lambda: getattr(fs, name)(a, b, mode, method),
                                  lambda: getattr(ss, name)(a, b, mode, method))
    assert calls and all(k == {"method": "direct"} for k in calls if k)
    n = len(calls)
    big = rng.integers(-100, 100, (64, 64)).astype(dtype)
    fs.convolve(big, big[:9, :9], "same")       # 331 776 multiply-adds: fastconv's route
    assert len(calls) == n


def _general_route_outcome(call, monkeypatch):
    """`call()`'s outcome with the lean routes switched off."""
    with monkeypatch.context() as m:
        m.setattr(fs, "_plain_call", lambda *a: None)
        m.setattr(fs, "_plain_2d_edges", lambda *a: None)
        try:
            return call()
        except Exception as e:  # noqa: BLE001 - compared by type
            return e


def _against_general_route(call, ran, monkeypatch, where):
    """`call()` against the general route's outcome (the same bits, dtype and
    shape, or the same exception type); whether the lean route ran (None
    where both raised).  `ran` collects the lean route's return values."""
    ref = _general_route_outcome(call, monkeypatch)
    del ran[:]
    if isinstance(ref, Exception):
        with pytest.raises(type(ref)):
            call()
        return None
    got = call()
    assert got.dtype == ref.dtype and got.shape == ref.shape, where
    assert got.tobytes() == ref.tobytes() or np.array_equal(got, ref, equal_nan=True), where
    return bool(ran) and ran[0] is not None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lean_nd_route_gives_the_general_routes_bits(dtype, monkeypatch):
    """``_plain_call`` (cached plan straight to the engine) gives the general
    route's bits, dtype and errors for every mode, method, operand order,
    thread count and layout; it runs for plain finite calls and hands
    non-finite kernels, overflowing products and anything else to the
    general route."""
    ran = []
    real = fs._plain_call
    monkeypatch.setattr(fs, "_plain_call",
                        lambda *a: ran.append(r := real(*a)) or r)
    rng = np.random.default_rng(11)
    big = np.finfo(dtype).max / 4
    cases = [((96, 80), (3, 3)), ((128, 130), (3, 3)), ((300, 240), (3, 3)),
             ((70, 90), (5, 4)), ((64, 200), (7, 7)), ((20, 24, 30), (3, 3, 3)),
             ((200, 220), (9, 9)), ((40, 50), (60, 3))]
    n_lean = n_guarded = 0
    for s1, s2 in cases:
        a = rng.standard_normal(s1).astype(dtype)
        variants = {"plain": rng.standard_normal(s2).astype(dtype) * 2,
                    "small": rng.uniform(-0.5, 0.5, s2).astype(dtype),
                    "rank_one": np.multiply.outer(*[rng.standard_normal(n) for n in s2[:2]])
                    .reshape(s2[:2] + (1,) * (len(s2) - 2)).astype(dtype)
                    * np.ones(s2, dtype)}
        nan_k = variants["plain"].copy()
        nan_k.flat[0] = np.nan
        inf_k = variants["plain"].copy()
        inf_k.flat[-1] = -np.inf
        variants.update(nan=nan_k, inf=inf_k)
        huge_a = a.copy()
        huge_a.flat[len(huge_a.flat) // 2] = big
        for kname, k in variants.items():
            for x in (a, huge_a, a.T if a.ndim == 2 else a[..., ::-1], a[::2]):
                if x.ndim != k.ndim:
                    continue
                for name in ("convolve", "correlate"):
                    for mode in ("full", "same", "valid"):
                        for method, workers in (("auto", None), ("direct", 1), ("auto", 2)):
                            def call(x=x, k=k, name=name, mode=mode, method=method,
                                     workers=workers):
                                return getattr(fs, name)(x, k, mode, method,
                                                         workers=workers)
                            lean = _against_general_route(
                                call, ran, monkeypatch, (s1, s2, kname, name, mode))
                            if lean is None:
                                continue
                            n_lean += lean
                            if kname in ("nan", "inf"):
                                assert not lean, (s1, s2, kname)
                            elif x is huge_a and np.abs(k).max() * big >= np.finfo(dtype).max / 2:
                                n_guarded += bool(ran) and ran[0] is None
    assert n_lean > 300 and n_guarded > 20


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(100, 120), (300, 240)])   # scanned / folded guard
def test_lean_nd_route_keeps_the_overflow_guard(dtype, shape):
    """A product that overflows where a fused multiply-add would not: the
    lean route hands the call to the unfused kernels, so the output is
    infinite where unfused arithmetic's is (fused: 1.25 max - 0.75 max,
    finite), and where SciPy's is when SciPy's own loop is unfused (its
    x86-64 wheels; GCC contracts it into FMAs on aarch64, where SciPy's
    result is finite)."""
    big = np.finfo(dtype).max
    x = np.zeros(shape, dtype)
    x[50, 60], x[50, 61] = -big / 2, big / 2
    k = np.zeros((3, 3), dtype)
    k[1, 0], k[1, 1] = 1.5, 2.5
    with np.errstate(over="ignore", invalid="ignore"):
        ref = ss.correlate(x, k, "same", method="direct")
        got = fs.correlate(x, k, "same")
        # unfused arithmetic, tap by tap in NumPy (no contraction there)
        xp = np.pad(x, 1)
        unfused = np.zeros_like(x)
        for a in range(3):
            for b in range(3):
                unfused = unfused + k[a, b] * xp[a:a + shape[0], b:b + shape[1]]
    assert not np.isfinite(unfused[50, 61])
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(unfused))
    if not np.isfinite(ref[50, 61]):
        np.testing.assert_array_equal(np.isfinite(got), np.isfinite(ref))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lean_2d_calls_give_the_general_routes_bits(dtype, monkeypatch):
    """convolve2d/correlate2d with zero fill take the lean route where they
    are the direct convolve/correlate call (same bits, dtype and errors as
    the general 2-D route); other boundaries, fill values, swapped 'valid'
    operands and correlate2d's even 'same' kernels do not.  'symm', 'wrap'
    and other fill values in 'full'/'same' take the lean route with edges
    (_plain_2d_edges), finite kernels only, with the same bits."""
    ran, ran_edges = [], []
    real = fs._plain_call
    monkeypatch.setattr(fs, "_plain_call", lambda *a: ran.append(r := real(*a)) or r)
    real_edges = fs._plain_2d_edges
    monkeypatch.setattr(fs, "_plain_2d_edges",
                        lambda *a: ran_edges.append(r := real_edges(*a)) or r)
    n_edges = 0
    rng = np.random.default_rng(12)
    n_lean = 0
    for s1, s2 in [((96, 80), (3, 3)), ((130, 128), (4, 6)), ((64, 200), (5, 2)),
                   ((40, 50), (60, 70)), ((150, 140), (7, 7))]:
        a = rng.standard_normal(s1).astype(dtype)
        k = rng.standard_normal(s2).astype(dtype)
        nan_k = k.copy()
        nan_k[0, 0] = np.nan
        for kk in (k, nan_k):
            for x in (a, a.T):
                for name in ("convolve2d", "correlate2d"):
                    for mode in ("full", "same", "valid"):
                        for boundary, fill in (("fill", 0), ("fill", 0.0), ("fill", 2),
                                               ("pad", 0), ("symm", 0), ("wrap", 0)):
                            def call(x=x, kk=kk, name=name, mode=mode, boundary=boundary,
                                     fill=fill):
                                return getattr(fs, name)(x, kk, mode, boundary, fill)
                            del ran_edges[:]
                            lean = _against_general_route(
                                call, ran, monkeypatch, (s1, s2, name, mode, boundary))
                            if lean is None:
                                continue
                            n_lean += lean
                            edges = bool(ran_edges) and ran_edges[-1] is not None
                            n_edges += edges
                            assert edges == (mode != "valid" and kk is k and (
                                boundary in ("symm", "wrap") or fill == 2)), \
                                (s1, s2, name, mode, boundary, fill)
                            if (fill != 0 or boundary not in ("fill", "pad")
                                    or kk is nan_k or (name == "correlate2d" and mode == "same"
                                                       and s2 != (3, 3) and s2 != (7, 7))):
                                assert not lean, (s1, s2, name, mode, boundary, fill)
    assert n_lean > 50 and n_edges > 100


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_finite_kernels_raise_no_warning(dtype):
    """Finite weights whose squares overflow (the lean routes' finiteness
    test once used the sum of squares, whose overflow warned) run without
    a warning, with the general route's result, in every front-end that
    tests its kernel for NaN/inf before the engine."""
    from fastconv import ndimage as fnd
    rng = np.random.default_rng(4)
    x = rng.standard_normal((128, 128)).astype(dtype)
    k = np.full((3, 3), np.sqrt(np.finfo(dtype).max) * 4, dtype=dtype)
    k[1, 1] = -k[1, 1]
    calls = [lambda: fs.convolve(x, k, "same"), lambda: fs.correlate(x, k, "valid"),
             lambda: fs.convolve2d(x, k, "same"), lambda: fs.convolve2d(x, k, "same", "symm"),
             lambda: fnd.correlate(x, k), lambda: fnd.convolve(x, k, mode="constant")]
    for call in calls:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = call()
        assert np.isfinite(got).all()
