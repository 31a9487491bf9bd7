"""Property tests: fastconv's SciPy drop-ins equal SciPy on random shapes.

Hypothesis draws rank 1-3 (and sometimes 4) shapes with lengths 1-7
(kernels larger than inputs, length-1 axes and both argument orders
included), a mode, a method, a dtype and, for ``axes``, a broadcasting
layout.  The reference is SciPy; tolerances are those of
``tests/test_signal.py`` (documented there): exact for integers,
``1e-12 * scale`` for float64 direct, ``2 (m + 1) 2**-24 * scale`` for
float32 direct, ``4 u log2(N) ||in1|| ||in2||`` for FFTs.  ``derandomize``
keeps every run on the same examples.
"""

import math

import numpy as np
import pytest
import scipy.ndimage as nd
import scipy.signal as ss

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

from fastconv import ndimage as fn  # noqa: E402
from fastconv import signal as fs  # noqa: E402

U32 = 2.0 ** -24
U64 = 2.0 ** -53
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=list(hypothesis.HealthCheck))

DTYPES = ["float64", "float32", "complex128", "int8", "uint8", "int32", "int64", "bool"]


def _array(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


@st.composite
def conv_problem(draw):
    rank = draw(st.sampled_from([1, 1, 2, 2, 3, 4]))
    hi = 7 if rank < 4 else 3
    s1 = tuple(draw(st.lists(st.integers(1, hi), min_size=rank, max_size=rank)))
    s2 = tuple(draw(st.lists(st.integers(1, hi), min_size=rank, max_size=rank)))
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return s1, s2, dtype, seed


def _scale(func, x, y, mode):
    return func(np.abs(x).astype(np.float64), np.abs(y).astype(np.float64), mode,
                method="direct")


@SETTINGS
@given(conv_problem(), st.sampled_from(["full", "same", "valid"]),
       st.sampled_from(["convolve", "correlate"]), st.sampled_from(["direct", "auto", "fft"]))
def test_convolve_correlate_equal_scipy(problem, mode, fname, method):
    s1, s2, dtype, seed = problem
    rng = np.random.default_rng(seed)
    x = _array(rng, s1, dtype)
    y = _array(rng, s2, dtype)
    if method == "fft" and np.dtype(dtype).kind in "iub":
        # SciPy's FFT path is exact only for small integers
        x = (x % 7).astype(dtype) if dtype != "bool" else x
        y = (y % 7).astype(dtype) if dtype != "bool" else y
    sfunc, ffunc = getattr(ss, fname), getattr(fs, fname)
    try:
        ref = sfunc(x, y, mode, method="direct")
    except ValueError as exc:
        if "Unsupported type" in str(exc):   # SciPy's N-D loops refuse bool
            ref = sfunc(x.astype(np.int64), y.astype(np.int64), mode, method="direct") != 0
        else:
            with pytest.raises(ValueError, match=str(exc)[:20]):
                ffunc(x, y, mode, method=method)
            return
    got = ffunc(x, y, mode, method=method)
    assert got.shape == ref.shape
    assert got.dtype == ref.dtype
    if ref.dtype.kind in "biu":
        if method == "fft" and ref.dtype.kind == "b":
            return   # SciPy's FFT bool output is not exact either (astype of noise)
        np.testing.assert_array_equal(got, ref)
        return
    if method == "fft":
        u = U32 if ref.dtype in (np.float32, np.complex64) else U64
        n = math.prod(a + b - 1 for a, b in zip(s1, s2))
        atol = 4 * u * math.log2(max(n, 2)) * np.linalg.norm(x.ravel()) * \
            np.linalg.norm(y.ravel())
        np.testing.assert_allclose(got, ref, rtol=0, atol=atol + 1e-300)
        return
    scale = _scale(sfunc, x, y, mode)
    m = math.prod(min(a, b) for a, b in zip(s1, s2))
    rtol = 2 * (m + 1) * U32 if ref.dtype in (np.float32, np.complex64) else 1e-12
    assert (np.abs(got - ref) <= rtol * scale + 1e-300).all()


@SETTINGS
@given(conv_problem(), st.sampled_from(["full", "same", "valid"]),
       st.sampled_from(["convolve2d", "correlate2d"]),
       st.sampled_from(["fill", "wrap", "symm"]), st.sampled_from([0, 3]))
def test_2d_equal_scipy(problem, mode, fname, boundary, fillvalue):
    s1, s2, dtype, seed = problem
    s1 = (s1 + (3,))[:2]
    s2 = (s2 + (2,))[:2]
    if dtype == "bool":
        dtype = "int32"
    rng = np.random.default_rng(seed)
    x = _array(rng, s1, dtype)
    y = _array(rng, s2, dtype)
    sfunc, ffunc = getattr(ss, fname), getattr(fs, fname)
    try:
        ref = sfunc(x, y, mode, boundary, fillvalue)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc)[:20]):
            ffunc(x, y, mode, boundary, fillvalue)
        return
    got = ffunc(x, y, mode, boundary, fillvalue)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    if ref.dtype.kind in "iu":
        np.testing.assert_array_equal(got, ref)
        return
    scale = sfunc(np.abs(x).astype(float), np.abs(y).astype(float), mode, boundary,
                  fillvalue)
    m = math.prod(min(a, b) for a, b in zip(s1, s2))
    rtol = 2 * (m + 1) * U32 if ref.dtype in (np.float32, np.complex64) else 1e-12
    assert (np.abs(got - ref) <= rtol * scale + 1e-300).all()


@st.composite
def axes_problem(draw):
    """Shapes that broadcast on the non-convolved axes."""
    rank = draw(st.integers(2, 3))
    n_conv = draw(st.integers(1, rank - 1))
    axes = sorted(draw(st.permutations(range(rank)))[:n_conv])
    s1, s2 = [], []
    for ax in range(rank):
        if ax in axes:
            s1.append(draw(st.integers(1, 9)))
            s2.append(draw(st.integers(1, 6)))
        else:
            n = draw(st.integers(1, 4))
            kind = draw(st.sampled_from(["both", "first", "second"]))
            s1.append(n if kind != "second" else 1)
            s2.append(n if kind != "first" else 1)
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return tuple(s1), tuple(s2), axes, seed


@SETTINGS
@given(axes_problem(), st.sampled_from(["full", "same", "valid"]),
       st.sampled_from(["direct", "auto"]), st.sampled_from(["float64", "complex128"]))
def test_axes_equal_fftconvolve(problem, mode, method, dtype):
    s1, s2, axes, seed = problem
    rng = np.random.default_rng(seed)
    x = _array(rng, s1, dtype)
    y = _array(rng, s2, dtype)
    try:
        ref = ss.fftconvolve(x, y, mode, axes=axes)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc)[:20]):
            fs.convolve(x, y, mode, method=method, axes=axes)
        return
    got = fs.convolve(x, y, mode, method=method, axes=axes)
    n = math.prod(a + b - 1 for a, b in zip(s1, s2))
    atol = 4 * U64 * math.log2(max(n, 2)) * np.linalg.norm(x.ravel()) * \
        np.linalg.norm(y.ravel())
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=0, atol=atol + 1e-300)
    got_c = fs.correlate(x, y, mode, method=method, axes=axes)
    ref_c = ss.fftconvolve(x, np.conj(np.flip(y, axis=tuple(axes))), mode, axes=axes)
    np.testing.assert_allclose(got_c, ref_c, rtol=0, atol=atol + 1e-300)


@SETTINGS
@given(conv_problem(), st.sampled_from(["reflect", "constant", "nearest", "mirror", "wrap"]),
       st.sampled_from(["correlate", "convolve"]), st.data())
def test_ndimage_equal_scipy(problem, mode, fname, data):
    s1, s2, dtype, seed = problem
    if dtype in ("bool", "int64", "complex128"):
        dtype = "float64"
    rng = np.random.default_rng(seed)
    x = _array(rng, s1, dtype)
    w = rng.integers(-3, 4, s2).astype(np.float64)   # integer weights: exact int results
    origin = tuple(data.draw(st.integers(-(k // 2), (k - 1) // 2)) for k in s2)
    ref = getattr(nd, fname)(x, w, mode=mode, cval=2.0, origin=origin)
    got = getattr(fn, fname)(x, w, mode=mode, cval=2.0, origin=origin)
    assert got.dtype == ref.dtype and got.shape == ref.shape
    if ref.dtype.kind in "iu":
        np.testing.assert_array_equal(got, ref)
        return
    scale = getattr(nd, fname)(np.abs(x).astype(float), np.abs(w), mode=mode, cval=2.0,
                               origin=origin)
    m = w.size
    rtol = 2 * (m + 1) * U32 if ref.dtype == np.float32 else 1e-12
    assert (np.abs(got - ref) <= rtol * scale + 1e-300).all()
