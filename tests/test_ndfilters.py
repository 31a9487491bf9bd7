"""fastconv.ndimage's separable linear filters against scipy.ndimage.

Tolerances (per output dtype, relative to ``scale = max|x| * prod_p sum|w_p|``,
the largest magnitude any pass sequence can produce, with ``|cval|`` included
in ``max|x|``):

* integer and bool outputs: bitwise equal.  The route reproduces SciPy's
  float64 arithmetic in SciPy's order on the baseline kernels (no FMA), and
  casts every pass as SciPy stores it; any difference would be a bug.
* float64: ``1e-13``.  Same order of operations as SciPy; the AVX2/AVX-512
  builds may contract a multiply-add into an FMA (one rounding fewer per
  tap) and the fused uniform route scales by ``1/k`` instead of dividing.
  Observed at most 2.3e-16 on these grids (all SIMD levels), so the bound
  has a wide margin while still catching a wrong tap (error ~1e-2).
* float32 / complex64: ``4e-6``.  fastconv sums in float32 where SciPy sums
  in float64 and rounds each pass to float32: per pass at most ``(k + 2) u``
  of that pass's scale (u = 2**-24), over up to 4 passes with k <= 25 taps
  here.  Observed at most 1.0e-7 on these grids (complex64 4.5e-8).
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.ndimage as sndi

from fastconv import _dispatch, _ndfilters, _ndimage_args, _threads
from fastconv import ndimage as fndi
from conftest import IMPORT_ROOT, skip_out_of_range_casts

MODES = ["reflect", "constant", "nearest", "mirror", "wrap", "grid-wrap", "grid-constant",
         "grid-mirror"]
SHAPES = [(37,), (23, 41), (9, 10, 11), (3, 4, 5, 6)]
RTOL = {np.dtype(np.float64): 1e-13, np.dtype(np.complex128): 1e-13,
        np.dtype(np.float32): 4e-6, np.dtype(np.complex64): 4e-6}
LEVELS = _dispatch.supported_levels()


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.kind == "b":
        return rng.standard_normal(shape) > 0
    if dtype.kind in "iu":
        lo, hi = (0, 200) if dtype.kind == "u" else (-100, 100)
        return rng.integers(lo, hi, size=shape).astype(dtype)
    return (rng.standard_normal(shape) * 10).astype(dtype)


def _assert_match(got, ref, x, wsum=1.0, cval=0.0):
    assert type(got) is type(ref)
    assert got.shape == ref.shape and got.dtype == ref.dtype, (got.dtype, ref.dtype)
    if ref.dtype.kind in "biu":
        np.testing.assert_array_equal(got, ref)
        return
    scale = (max(float(np.abs(x).max()) if x.size else 0.0, abs(cval)) * wsum) or 1.0
    err = float(np.abs(got.astype(np.complex128) - ref).max()) if ref.size else 0.0
    assert err <= RTOL[ref.dtype] * scale, (err, scale)


def _gauss_wsum(sigma, order, n, truncate=4.0):
    total = 1.0
    for s, o in zip(np.broadcast_to(sigma, (n,)), np.broadcast_to(order, (n,))):
        if s > 1e-15:
            r = int(truncate * float(s) + 0.5)
            total *= float(np.abs(_ndfilters._gaussian_kernel1d(float(s), int(o), r)).sum())
    return total


# --------------------------------------------------------------------------
# parity grids


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int16])
def test_gaussian_filter_modes(shape, mode, dtype):
    x = _data(shape, dtype)
    got = fndi.gaussian_filter(x, 1.5, mode=mode, cval=3.0)
    ref = sndi.gaussian_filter(x, 1.5, mode=mode, cval=3.0)
    _assert_match(got, ref, x, _gauss_wsum(1.5, 0, x.ndim), 3.0)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int16])
def test_uniform_filter_modes(shape, mode, dtype):
    x = _data(shape, dtype)
    size = (9, 3, 4, 2)[:x.ndim]     # odd and even sizes
    got = fndi.uniform_filter(x, size, mode=mode, cval=-2.0)
    ref = sndi.uniform_filter(x, size, mode=mode, cval=-2.0)
    _assert_match(got, ref, x, 1.0, 2.0)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", ["reflect", "constant", "nearest", "mirror", "wrap"])
@pytest.mark.parametrize("func", ["sobel", "prewitt"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8])
def test_sobel_prewitt(shape, mode, func, dtype):
    x = _data(shape, dtype)
    for axis in range(-x.ndim, x.ndim):
        got = getattr(fndi, func)(x, axis, mode=mode, cval=1.5)
        ref = getattr(sndi, func)(x, axis, mode=mode, cval=1.5)
        _assert_match(got, ref, x, 2.0 * 4.0 ** (x.ndim - 1), 1.5)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint16])
def test_laplace(shape, dtype):
    skip_out_of_range_casts(dtype)           # uint16: negative sums (see conftest)
    x = _data(shape, dtype)
    for mode in ("reflect", "constant", "wrap"):
        got = fndi.laplace(x, mode=mode, cval=0.5)
        ref = sndi.laplace(x, mode=mode, cval=0.5)
        _assert_match(got, ref, x, 4.0 * x.ndim, 0.5)


@pytest.mark.parametrize("order", [0, 1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_gaussian_filter1d_orders(order, dtype, axis):
    x = _data((31, 44), dtype)
    for sigma, truncate, radius in [(0.7, 4.0, None), (2.5, 2.0, None), (1.0, 4.0, 6),
                                    (3.0, 4.0, 0)]:
        got = fndi.gaussian_filter1d(x, sigma, axis, order, truncate=truncate, radius=radius)
        ref = sndi.gaussian_filter1d(x, sigma, axis, order, truncate=truncate, radius=radius)
        r = radius if radius is not None else int(truncate * sigma + 0.5)
        wsum = float(np.abs(_ndfilters._gaussian_kernel1d(sigma, order, r)).sum())
        _assert_match(got, ref, x, wsum)


@pytest.mark.parametrize("shape", SHAPES[1:])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_gaussian_per_axis(shape, dtype):
    x = _data(shape, dtype)
    n = x.ndim
    sigma = [2.0, 0.0, 0.8, 1.3][:n]        # 0: that axis skipped
    order = [1, 0, 2, 3][:n]
    mode = ["constant", "wrap", "mirror", "nearest"][:n]
    radius = [3, 2, 4, 1][:n]
    got = fndi.gaussian_filter(x, sigma, order, mode=mode, cval=2.0, truncate=3.0)
    ref = sndi.gaussian_filter(x, sigma, order, mode=mode, cval=2.0, truncate=3.0)
    _assert_match(got, ref, x, _gauss_wsum(sigma, order, n, 3.0), 2.0)
    got = fndi.gaussian_filter(x, sigma, order, mode=mode, radius=radius)
    ref = sndi.gaussian_filter(x, sigma, order, mode=mode, radius=radius)
    assert got.shape == ref.shape
    if ref.dtype.kind == "u":
        np.testing.assert_array_equal(got, ref)
    else:
        np.testing.assert_allclose(got, ref, rtol=0, atol=RTOL[ref.dtype] * 100 *
                                   float(np.abs(x).max()))


@pytest.mark.parametrize("axes", [(0,), (1,), (-1, 0), (2, 0), (1, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_axes(axes, dtype):
    x = _data((8, 13, 17), dtype)
    k = len(axes)
    got = fndi.gaussian_filter(x, [1.0, 2.0][:k], axes=axes, mode=["constant", "nearest"][:k],
                               cval=4.0)
    ref = sndi.gaussian_filter(x, [1.0, 2.0][:k], axes=axes, mode=["constant", "nearest"][:k],
                               cval=4.0)
    _assert_match(got, ref, x, 1.0, 4.0)
    got = fndi.uniform_filter(x, [3, 4][:k], axes=axes, origin=[1, -2][:k],
                              mode=["constant", "reflect"][:k], cval=4.0)
    ref = sndi.uniform_filter(x, [3, 4][:k], axes=axes, origin=[1, -2][:k],
                              mode=["constant", "reflect"][:k], cval=4.0)
    _assert_match(got, ref, x, 1.0, 4.0)
    for name in ("laplace", "gaussian_laplace", "gaussian_gradient_magnitude"):
        args = () if name == "laplace" else (1.2,)
        got = getattr(fndi, name)(x, *args, axes=axes)
        ref = getattr(sndi, name)(x, *args, axes=axes)
        if ref.dtype.kind in "iu":
            np.testing.assert_array_equal(got, ref)
        else:
            np.testing.assert_allclose(got, ref, rtol=0, atol=RTOL[ref.dtype] * 50 *
                                       float(np.abs(x).max()))


@pytest.mark.parametrize("axes", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
@pytest.mark.parametrize("modes", [("reflect", "wrap", "mirror"),
                                   ("constant", "reflect", "nearest")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_three_pass_sweep_orders(axes, modes, dtype):
    """Passes along the last three axes run as one sweep; given out of axis
    order they are reordered only when no mode is constant (with a constant
    mode the order changes the edges)."""
    x = _data((2, 7, 12, 19), dtype)
    sig = (1.0, 2.0, 0.7)
    for order in (0, (1, 0, 2)):
        ax = tuple(a + 1 for a in axes)
        got = fndi.gaussian_filter(x, sig, order, mode=modes, cval=5.0, axes=ax)
        ref = sndi.gaussian_filter(x, sig, order, mode=modes, cval=5.0, axes=ax)
        _assert_match(got, ref, x, _gauss_wsum(sig, order, 3), 5.0)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 40])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_uniform_filter1d_origins(size, dtype):
    x = _data((5, 29), dtype)
    for axis in (0, 1):
        for origin in range(-(size // 2), (size - 1) // 2 + 1):
            for mode in MODES:
                got = fndi.uniform_filter1d(x, size, axis, mode=mode, cval=7, origin=origin)
                ref = sndi.uniform_filter1d(x, size, axis, mode=mode, cval=7, origin=origin)
                _assert_match(got, ref, x, 1.0, 7.0)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex(dtype):
    x = _data((12, 19), dtype)
    for cval in (0.0, 1 + 2j):
        got = fndi.gaussian_filter(x, 1.3, mode="constant", cval=cval)
        ref = sndi.gaussian_filter(x, 1.3, mode="constant", cval=cval)
        _assert_match(got, ref, x, 1.0, abs(cval))
        got = fndi.uniform_filter(x, 5, mode="constant", cval=cval)
        ref = sndi.uniform_filter(x, 5, mode="constant", cval=cval)
        _assert_match(got, ref, x, 1.0, abs(cval))
        got = fndi.uniform_filter1d(x, 4, axis=0)
        ref = sndi.uniform_filter1d(x, 4, axis=0)
        _assert_match(got, ref, x)


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32,
                                   np.uint32, np.int64, np.uint64, np.float32, np.float64])
@pytest.mark.parametrize("out", [None, np.float32, np.float64, np.uint8, np.int16, "int32"])
def test_dtypes_and_outputs(dtype, out):
    if out is None:
        skip_out_of_range_casts(dtype)       # sobel's negative values (see conftest)
    x = _data((14, 22), dtype)
    for name, args in (("gaussian_filter", (1.1,)), ("uniform_filter", (3,)), ("sobel", ()),
                       ("gaussian_laplace", (1.0,))):
        # bool outputs hold the raw byte of SciPy's C cast (-1.0 -> 255):
        # compared by value as bools and by byte below
        got = getattr(fndi, name)(x, *args, output=out)
        ref = getattr(sndi, name)(x, *args, output=out)
        assert got.dtype == ref.dtype
        if ref.dtype.kind in "biu":
            np.testing.assert_array_equal(got, ref)
            if ref.dtype.kind == "b":
                np.testing.assert_array_equal(got.view(np.uint8), ref.view(np.uint8))
        else:
            np.testing.assert_allclose(got, ref, rtol=0, atol=RTOL[ref.dtype] * 40 *
                                       max(1.0, float(np.abs(x.astype(float)).max())))


def test_output_array_is_filled_and_returned():
    x = _data((16, 20), np.float64)
    for name, args in (("gaussian_filter", (2.0,)), ("uniform_filter", (5,)), ("sobel", (0,)),
                       ("prewitt", (1,)), ("laplace", ()), ("gaussian_laplace", (1.0,)),
                       ("gaussian_gradient_magnitude", (1.0,)), ("gaussian_filter1d", (1.0,)),
                       ("uniform_filter1d", (4,))):
        for odt in (np.float64, np.float32, np.int32):
            out = np.full(x.shape, -1, dtype=odt)
            res = getattr(fndi, name)(x, *args, output=out)
            assert res is out
            ref = getattr(sndi, name)(x, *args, output=odt)
            if ref.dtype.kind == "i":
                np.testing.assert_array_equal(out, ref)
            else:
                np.testing.assert_allclose(out, ref, rtol=0, atol=1e-4 * np.abs(x).max())
    # a non-contiguous output view
    big = np.zeros((16, 40))
    res = fndi.gaussian_filter(x, 1.0, output=big[:, ::2])
    np.testing.assert_allclose(big[:, ::2], sndi.gaussian_filter(x, 1.0), atol=1e-12)
    assert res.base is big


def test_non_contiguous_and_readonly_inputs():
    x = _data((30, 40), np.float32)
    v = x[::-2, 1::3]
    np.testing.assert_allclose(fndi.gaussian_filter(v, 1.0), sndi.gaussian_filter(v, 1.0),
                               atol=4e-6 * np.abs(v).max())
    x.setflags(write=False)
    np.testing.assert_allclose(fndi.uniform_filter(x, 4), sndi.uniform_filter(x, 4),
                               atol=4e-6 * np.abs(x).max())


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt")
def test_generic_with_user_callables():
    x = _data((15, 18), np.float64)

    def d2(inp, axis, output, mode, cval, scale, offset=0.0):
        r = sndi.correlate1d(inp, [1, -2, 1], axis, output, mode, cval)
        r *= scale
        r += offset
        return r
    got = fndi.generic_laplace(x, d2, extra_arguments=(2.0,), extra_keywords={"offset": 1.0})
    ref = sndi.generic_laplace(x, d2, extra_arguments=(2.0,), extra_keywords={"offset": 1.0})
    np.testing.assert_array_equal(got, ref)
    x = np.abs(x)
    got = fndi.generic_gradient_magnitude(x, fndi.sobel, mode=["reflect", "wrap"])
    ref = sndi.generic_gradient_magnitude(x, sndi.sobel, mode=["reflect", "wrap"])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * 16 * np.abs(x).max())
    got = fndi.generic_gradient_magnitude(x, fndi.prewitt, axes=(1,))
    ref = sndi.generic_gradient_magnitude(x, sndi.prewitt, axes=(1,))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * 16 * np.abs(x).max())
    i = _data((15, 18), np.int16)
    np.testing.assert_array_equal(fndi.generic_gradient_magnitude(i, fndi.sobel),
                                  sndi.generic_gradient_magnitude(i, sndi.sobel))
    # no axes: a copy
    np.testing.assert_array_equal(fndi.generic_laplace(x, d2, axes=(), extra_arguments=(1.0,)),
                                  x)


def test_empty_and_trivial():
    for shape in [(0,), (0, 5), (3, 0)]:
        x = np.zeros(shape, np.float32)
        assert fndi.gaussian_filter(x, 1.0).shape == shape
        assert fndi.uniform_filter(x, 3).shape == shape
    x = _data((6, 7), np.float64)
    # every sigma ~0 or every size 1: a copy, SciPy's dtype
    np.testing.assert_array_equal(fndi.gaussian_filter(x, 0.0), sndi.gaussian_filter(x, 0.0))
    np.testing.assert_array_equal(fndi.uniform_filter(x, 1, output=np.float32),
                                  sndi.uniform_filter(x, 1, output=np.float32))
    np.testing.assert_array_equal(fndi.gaussian_filter(np.float64(3.0), 1.0),
                                  sndi.gaussian_filter(np.float64(3.0), 1.0))


def test_nonfinite_propagate_like_scipy():
    """Correlation passes propagate NaN/inf exactly as SciPy's (same terms).
    Running sums do not: SciPy's running mean turns the rest of a line NaN
    after a NaN or inf (its documented "undefined" NaN behaviour), fastconv's
    the rest of a strip; only the NaN at the window positions is common."""
    x = _data((9, 11), np.float64)
    x[4, 5] = np.nan
    x[1, 1] = np.inf
    x[7, 2] = -np.inf
    for f, args in (("gaussian_filter", (1.5,)), ("sobel", ()), ("laplace", ())):
        got = getattr(fndi, f)(x, *args)
        ref = getattr(sndi, f)(x, *args)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
    x[1, 1] = x[7, 2] = 0.0
    got = fndi.uniform_filter(x, 3)
    assert np.isnan(got[3:6, 4:7]).all()


def test_delegated_dtypes_behave_as_scipy():
    x = np.ones((4, 4), np.float16)
    with pytest.raises(RuntimeError, match="not supported"):
        sndi.gaussian_filter(x, 1.0)
    with pytest.raises(RuntimeError, match="not supported"):
        fndi.gaussian_filter(x, 1.0)
    c = _data((5, 5), np.complex128)
    with pytest.raises(RuntimeError, match="output must have complex dtype"):
        fndi.gaussian_filter(c, 1.0, output=np.zeros((5, 5)))


# --------------------------------------------------------------------------
# errors: SciPy's types and messages


ERRORS = [
    (lambda m: m.gaussian_filter(np.ones((3, 3)), [1, 2, 3]), RuntimeError,
     "sequence argument must have length equal to input rank"),
    (lambda m: m.gaussian_filter(np.ones((3, 3)), 1, mode="bogus"), RuntimeError,
     "boundary mode not supported"),
    (lambda m: m.gaussian_filter(np.ones((3, 3)), 1, radius=-1), ValueError,
     "Radius must be a nonnegative integer"),
    (lambda m: m.gaussian_filter(np.ones((3, 3)), 1, radius=1.5), ValueError,
     "Radius must be a nonnegative integer"),
    (lambda m: m.gaussian_filter1d(np.ones(5), 1, order=-1), ValueError,
     "order must be non-negative"),
    (lambda m: m.gaussian_filter(np.ones((3, 3)), 1, axes=(0, 0)), ValueError,
     "axes must be unique"),
    (lambda m: m.gaussian_filter(np.ones((3, 3)), 1, axes=(2,)), ValueError,
     "specified axis: 2 is out of range"),
    (lambda m: m.gaussian_filter(np.ones((3, 3)), 1, output=np.zeros((2, 3))), RuntimeError,
     "output shape not correct"),
    (lambda m: m.gaussian_filter(np.ones((3, 3)), 1, output="S3"), RuntimeError,
     "output must have numeric dtype"),
    (lambda m: m.uniform_filter1d(np.ones(5), 0), RuntimeError, "incorrect filter size"),
    (lambda m: m.uniform_filter1d(np.ones(5), 3, origin=2), ValueError, "invalid origin"),
    (lambda m: m.uniform_filter(np.ones((4, 4)), 3, origin=[0, -2]), ValueError,
     "invalid origin"),
    (lambda m: m.uniform_filter(np.ones((4, 4)), [3, 3, 3]), RuntimeError,
     "sequence argument must have length equal to input rank"),
    (lambda m: m.uniform_filter1d(np.ones(5), 3, axis=1), np.exceptions.AxisError,
     "out of bounds"),
    (lambda m: m.sobel(np.ones((4, 4)), 2), np.exceptions.AxisError, "out of bounds"),
    (lambda m: m.sobel(np.ones((4, 4)), mode=["reflect"]), RuntimeError,
     "sequence argument must have length equal to input rank"),
    (lambda m: m.laplace(np.ones((4, 4)), mode=["reflect"] * 3), RuntimeError,
     "sequence argument must have length equal to input rank"),
    (lambda m: m.gaussian_laplace(np.ones((4, 4)), [1, 2, 3]), RuntimeError,
     "sequence argument must have length equal to input rank"),
    (lambda m: m.uniform_filter(np.ones(4), 3, axes=1.5), TypeError, "integer"),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_match_scipy(case):
    call, exc, msg = ERRORS[case]
    with pytest.raises(exc, match=msg):
        call(sndi)
    with pytest.raises(exc, match=msg):
        call(fndi)


def test_complex_cval_with_real_input():
    with pytest.raises(ValueError, match="complex-valued cval"):
        fndi.uniform_filter(np.ones((4, 4)), 3, output=np.complex128, cval=1j)
    with pytest.raises(TypeError, match="must be real number"):
        fndi.gaussian_filter(np.ones((4, 4)), 1.0, cval="x")


def test_workers_validated():
    with pytest.raises(ValueError, match="workers"):
        fndi.gaussian_filter(np.ones((4, 4)), 1.0, workers=0)
    with pytest.raises(TypeError, match="workers"):
        fndi.uniform_filter(np.ones((4, 4)), 3, workers=1.5)


def test_promoting_warning_like_scipy():
    c = _data((5, 5), np.complex64)
    with pytest.warns(UserWarning, match="promoting specified output dtype to complex"):
        ref = sndi.uniform_filter(c, 3, output=np.float32)
    with pytest.warns(UserWarning, match="promoting specified output dtype to complex"):
        got = fndi.uniform_filter(c, 3, output=np.float32)
    assert got.dtype == ref.dtype


# --------------------------------------------------------------------------
# threads and SIMD levels


BIG = [("gaussian_filter", (300, 257), (2.0,), {}),
       ("gaussian_filter", (20, 33, 70), (1.5,), {"mode": "constant", "cval": 1.0}),
       ("uniform_filter", (300, 257), (9,), {}),
       ("uniform_filter", (20, 33, 70), ((4, 5, 7),), {"mode": "wrap"}),
       ("sobel", (300, 257), (0,), {}),
       ("gaussian_filter1d", (300, 257), (3.0, 0), {}),
       ("uniform_filter1d", (70, 1100), (40, 1), {}),
       # many short lines along the last axis, handed out several per grab
       ("uniform_filter1d", (2000, 3), (15,), {}),
       ("gaussian_filter1d", (1500, 5), (2.0,), {"mode": "mirror"}),
       # a last axis of length 1: its pass runs the samples side by side
       ("gaussian_filter", (60, 70, 1), (1.5,), {"mode": "constant", "cval": 2.0}),
       ("sobel", (80, 90, 1), (2,), {"mode": "reflect"}),
       ("uniform_filter", (50, 1, 1), (5,), {"mode": "wrap"}),
       # a long line: the index map's mode arithmetic runs on its ends only
       ("uniform_filter1d", (200_000,), (15,), {"mode": "wrap"}),
       # contiguous lines shorter than one register block (8 vectors, 4 at
       # 512 bits): they run single vectors, then the scalar tail
       ("uniform_filter1d", (64, 100), (15,), {}),
       ("gaussian_filter1d", (40, 75), (1.5,), {"mode": "nearest"}),
       ("correlate1d", (30, 45), (np.arange(1.0, 8.0) / 28.0,), {"mode": "mirror"})]


@pytest.mark.parametrize("case", range(len(BIG)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16])
def test_bitwise_for_any_thread_count(case, dtype, monkeypatch):
    monkeypatch.setattr(_threads, "SERIAL_WORK", 0)    # threads even for small passes
    name, shape, args, kw = BIG[case]
    x = _data(shape, dtype, seed=case)
    one = getattr(fndi, name)(x, *args, workers=1, **kw)
    two = getattr(fndi, name)(x, *args, workers=2, **kw)
    three = getattr(fndi, name)(x, *args, workers=3, **kw)
    assert one.tobytes() == two.tobytes() == three.tobytes()
    ref = getattr(sndi, name)(x, *args, **kw)
    if ref.dtype.kind == "u":
        skip_out_of_range_casts(ref.dtype)   # after the thread-count check (see conftest)
        np.testing.assert_array_equal(one, ref)
    else:
        np.testing.assert_allclose(one, ref, rtol=0,
                                   atol=RTOL[ref.dtype] * 16 * float(np.abs(x).max()))


@pytest.fixture
def force_level():
    """Run the fast route's kernels of a given SIMD level (restored after)."""
    saved = _ndfilters._LEVEL[0]

    def force(level):
        _ndfilters._LEVEL[0] = level
    yield force
    _ndfilters._LEVEL[0] = saved


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_simd_level(level, dtype, force_level):
    force_level(level)
    for name, shape, args, kw in BIG:
        x = _data(shape, dtype)
        got = getattr(fndi, name)(x, *args, workers=2, **kw)
        ref = getattr(sndi, name)(x, *args, **kw)
        wsum = 4.0 if name == "sobel" else 1.0
        _assert_match(got, ref, x, wsum, kw.get("cval", 0.0))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("weights", [[0.25, 0.5, 0.25], [1.0, 0.0, -1.0],
                                     [0.1, -0.7, 0.3, 1.9], np.linspace(0.1, 0.9, 9)])
@pytest.mark.parametrize("shape", [(1, 300, 1), (3, 70, 1), (2, 40, 37), (1, 9, 300)])
def test_exact_lines_are_the_baseline_bits(level, weights, shape):
    """The exact route's correlations at every SIMD level round as the
    baseline kernels (and SciPy): no multiply-add contracted into an FMA,
    in the register blocks, the single vectors and the scalar tail; the
    dispatched kernels without `exact` may contract (and on an FMA level
    do differ in the last bit)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    w = np.asarray(weights, dtype=np.float64)
    sym = _ndfilters._symmetry(w)
    N = shape[1]
    idx = _ndfilters.line_index(N, len(w), len(w) // 2, "reflect")

    def run(lv, exact):
        out = np.empty_like(x)
        _dispatch.get_kernels(lv).filter_lines(x, out, w, idx, len(w) // 2, sym, 0, 0, 0.0,
                                               8, N, 1, exact)
        return out
    ref = run("baseline", True)
    assert run("baseline", False).tobytes() == ref.tobytes()
    assert run(level, True).tobytes() == ref.tobytes()
    np.testing.assert_allclose(run(level, False), ref, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weights", [[0.25, 0.5, 0.25], [1.0, 0.0, -1.0],
                                     [0.1, -0.7, 0.3, 1.9], np.linspace(0.1, 0.9, 9),
                                     np.hanning(27)[1:-1]])
def test_four_lines_at_once_are_the_single_line_bits(level, dtype, weights, force_level):
    """Passes across lines (along a non-contiguous axis) compute four output
    rows at once, each input row vector loaded once for the four (fk_comb4):
    bit for bit the rows the one-line kernel computes, in the register
    blocks, the single vectors and the scalar tail, with a last group of
    fewer than four rows, in one pass and in the fused 2-D and 3-D sweeps
    (symmetric, antisymmetric and general weights)."""
    rng = np.random.default_rng(11)
    kern = _dispatch.get_kernels(level)
    w = np.asarray(weights, dtype=dtype)
    sym = _ndfilters._symmetry(w.astype(np.float64))
    force_level(level)

    def both(run):
        kern.set_four_lines(True)
        try:
            four = run()
            kern.set_four_lines(False)
            one = run()
        finally:
            kern.set_four_lines(True)
        assert four.tobytes() == one.tobytes()

    for N, Q in [(1, 40), (3, 7), (4, 37), (5, 300), (13, 2), (30, 61), (9, 33)]:
        for mode, cval in [("reflect", 0.0), ("constant", 1.5), ("wrap", 0.0)]:
            x = rng.standard_normal((2, N, Q)).astype(dtype)
            idx = _ndfilters.line_index(N, len(w), len(w) // 2, mode)

            def run():
                out = np.empty_like(x)
                kern.filter_lines(x, out, w, idx, len(w) // 2, sym, 0, 0, x.dtype.type(cval),
                                  24, N, 2)
                return out
            both(run)
    for shape in [(2, 11, 70), (1, 13, 5, 33), (3, 6, 9, 45)]:
        x = rng.standard_normal(shape).astype(dtype)
        both(lambda: fndi.gaussian_filter(x, [0.8, 1.7, 2.5][:x.ndim - 1],
                                          axes=tuple(range(1, x.ndim)), mode="mirror"))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_narrow_passes_are_the_contiguous_lines_bits(level, dtype, force_level, monkeypatch):
    """A pass across few columns (an (H, W, 3) image along W) splits the
    interleaved lines of a segment into line buffers (filter_narrow): bit
    for bit the contiguous-line kernel on the transposed array -- for
    correlations (every weight symmetry), the direct box sum and SciPy's
    running mean (carried across segments) -- for any segment length and
    thread count, every mode and origin; and SciPy's values."""
    rng = np.random.default_rng(5)
    kern = _dispatch.get_kernels(level)
    force_level(level)
    # (the route takes boxes across at most _NARROW_BOX_Q columns)
    monkeypatch.setattr(_ndfilters, "_NARROW_BOX_Q", 16)
    for shape in [(3, 40, 3), (2, 17, 2), (1, 300, 16), (4, 9, 5), (2, 1, 3)]:
        x = rng.standard_normal(shape).astype(dtype)
        xt = np.ascontiguousarray(x.transpose(0, 2, 1))
        n = shape[1]
        # weights, or a box size (an int)
        for weights in ([0.25, 0.5, 0.25], [1.0, 0.0, -1.0], [0.1, -0.7, 0.3, 1.9],
                        list(rng.standard_normal(9)), [2.0], 1, 4, 9,
                        _ndfilters._BOX_DIRECT + 3):
            box = isinstance(weights, int)
            size = weights if box else len(weights)
            w = np.ones(size, dtype) if box else np.asarray(weights, dtype)
            running = int(box and size > _ndfilters._BOX_DIRECT)
            sym = 0 if box else _ndfilters._symmetry(w.astype(np.float64))
            for mode, origin in [("reflect", 0), ("constant", -min(1, size // 2)),
                                 ("wrap", (size - 1) // 2), ("mirror", (size - 1) // 2),
                                 ("nearest", 0)]:
                off = size // 2 + origin
                idx = _ndfilters.line_index(n, size, off, mode)
                # the contiguous lines' kernel (filter_lines, Q == 1)
                ref = np.empty_like(xt)
                kern.filter_lines(xt.reshape(-1, n, 1), ref.reshape(-1, n, 1), w, idx, off,
                                  sym, int(box), running, x.dtype.type(1.5), 1, n, 1)
                if box:
                    got = fndi.uniform_filter1d(x, size, axis=1, mode=mode, cval=1.5,
                                                origin=origin, workers=2)
                    sref = sndi.uniform_filter1d(x, size, axis=1, mode=mode, cval=1.5,
                                                 origin=origin)
                else:
                    got = fndi.correlate1d(x, w, axis=1, mode=mode, cval=1.5, origin=origin,
                                           workers=2)
                    sref = sndi.correlate1d(x, w, axis=1, mode=mode, cval=1.5, origin=origin)
                assert got.tobytes() == np.ascontiguousarray(ref.transpose(0, 2, 1)).tobytes()
                np.testing.assert_allclose(got, sref, rtol=1e-5 if dtype == np.float32
                                           else 1e-12, atol=1e-5)
                for seg, nthreads in [(1, 2), (7, 1), (7, 2), (10**6, 2)]:
                    out = np.empty_like(x)
                    kern.filter_narrow(x, out, w, idx, sym, x.dtype.type(1.5), seg, nthreads,
                                       False, 0, int(box), running)
                    assert out.tobytes() == got.tobytes()


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_short_lines_are_the_contiguous_lines_bits(level, dtype, force_level):
    """Many short contiguous lines (an (H, W, 3) image along its channels)
    run side by side in a transposed buffer (filter_short): bit for bit the
    contiguous-line kernel, for correlations, direct and running box sums,
    any group size and thread count; and SciPy's values."""
    rng = np.random.default_rng(8)
    kern = _dispatch.get_kernels(level)
    force_level(level)
    for shape in [(70, 3), (9, 23, 2), (130, 8), (65, 5)]:
        x = rng.standard_normal(shape).astype(dtype)
        P, n = x.size // shape[-1], shape[-1]
        for weights in ([0.25, 0.5, 0.25], [1.0, 0.0, -1.0], [0.1, -0.7, 0.3, 1.9],
                        rng.standard_normal(11), None, 4, _ndfilters._BOX_DIRECT + 1):
            box = not isinstance(weights, list) and np.ndim(weights) == 0
            size = 3 if weights is None else weights if box else len(weights)
            w = np.ones(size, dtype) if box else np.asarray(weights, dtype)
            running = int(box and size > _ndfilters._BOX_DIRECT)
            sym = 0 if box else _ndfilters._symmetry(w.astype(np.float64))
            for mode, origin in [("reflect", 0), ("constant", -min(1, size // 2)),
                                 ("wrap", (size - 1) // 2), ("mirror", 0)]:
                off = size // 2 + origin
                idx = _ndfilters.line_index(n, size, off, mode)
                ref = np.empty_like(x)
                kern.filter_lines(x.reshape(P, n, 1), ref.reshape(P, n, 1), w, idx, off, sym,
                                  int(box), running, x.dtype.type(1.5), 1, n, 1)
                if box:
                    got = fndi.uniform_filter1d(x, size, mode=mode, cval=1.5, origin=origin,
                                                workers=2)
                    sref = sndi.uniform_filter1d(x, size, mode=mode, cval=1.5, origin=origin)
                else:
                    got = fndi.correlate1d(x, w, mode=mode, cval=1.5, origin=origin, workers=2)
                    sref = sndi.correlate1d(x, w, mode=mode, cval=1.5, origin=origin)
                assert got.tobytes() == ref.tobytes()
                np.testing.assert_allclose(got, sref, rtol=1e-5 if dtype == np.float32
                                           else 1e-12, atol=1e-5)
                for group, nthreads in [(1, 2), (7, 1), (7, 2), (64, 2)]:
                    out = np.empty_like(x)
                    kern.filter_short(x.reshape(P, n), out.reshape(P, n), w, idx, sym,
                                      int(box), running, x.dtype.type(1.5), group, nthreads)
                    assert out.tobytes() == got.tobytes()


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float64])
def test_narrow_integer_passes_are_scipys_bits(dtype):
    """Integer filters across few columns (RGB images) run the narrow route
    exactly: SciPy's bits, one pass and the multi-pass filters."""
    rng = np.random.default_rng(6)
    x = (rng.random((33, 29, 3)) * 250).astype(dtype)
    w = [0.3, 0.45, 0.25, 0.125, 0.7]
    # (the multi-pass filters' pass along the channels: filter_short)
    for mode in ("reflect", "constant", "mirror"):
        # integer outputs (float inputs too): SciPy's bits; a float output of
        # integer data may contract multiply-adds (its values)
        for out in (None, np.float64) if dtype != np.float64 else (np.uint8,):
            got = fndi.correlate1d(x, w, axis=1, mode=mode, cval=3, output=out)
            ref = sndi.correlate1d(x, w, axis=1, mode=mode, cval=3, output=out)
            if got.dtype.kind == "f":
                np.testing.assert_allclose(got, ref, rtol=1e-13)
            else:
                assert got.tobytes() == ref.tobytes()
    if dtype != np.float64:
        for f in ("sobel", "laplace"):
            assert getattr(fndi, f)(x).tobytes() == getattr(sndi, f)(x).tobytes()
        for size in (3, 40):
            assert (fndi.uniform_filter1d(x, size, axis=1).tobytes()
                    == sndi.uniform_filter1d(x, size, axis=1).tobytes())
        assert (fndi.gaussian_filter(x, (1.5, 2, 0)).tobytes()
                == sndi.gaussian_filter(x, (1.5, 2, 0)).tobytes())


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16])
def test_passes_store_the_integer_values_themselves(dtype, monkeypatch):
    """Between the passes of an integer filter the line kernels store the
    value SciPy stores and reads back (x86-64 conversions: 32-bit
    truncation, INT32_MIN out of range, the low bits), in their own sweep:
    the same bits as the cast and read-back in NumPy, also where the sums
    leave the type's range (wrap-around, negative values in unsigned types,
    beyond 2**31)."""
    if not _ndimage_args._X86:
        pytest.skip("the kernels store between passes on x86-64 only")
    info = np.iinfo(dtype)
    rng = np.random.default_rng(5)
    x = rng.integers(info.min, info.max, size=(20, 33, 40), endpoint=True).astype(dtype)
    cases = [("sobel", (0,), {}), ("sobel", (2,), {"mode": "constant", "cval": 7.5}),
             ("prewitt", (1,), {"mode": "wrap"}), ("gaussian_filter", (1.2,), {}),
             ("uniform_filter", (4,), {"mode": "mirror"}),
             ("gaussian_filter", ((2.0, 0.5, 1.0),), {"order": 1})]
    real = _ndfilters._one_pass
    for name, args, kw in cases:
        used = []
        with monkeypatch.context() as m:
            m.setattr(_ndfilters, "_one_pass",
                      lambda *a, **k: used.append(k.get("store", 0)) or real(*a, **k))
            got = getattr(fndi, name)(x, *args, **kw)
        assert any(used), name
        with monkeypatch.context() as m:
            m.setattr(_ndfilters, "_STORE_CODE", {})
            ref = getattr(fndi, name)(x, *args, **kw)
        assert got.dtype == ref.dtype == dtype
        assert got.tobytes() == ref.tobytes(), name
        big = (x.astype(np.float64) * 1e6).astype(np.float64)   # sums beyond 2**31
        np.testing.assert_array_equal(getattr(fndi, name)(big, *args, output=dtype, **kw),
                                      _python_store(getattr(fndi, name), big, args, kw,
                                                    dtype, monkeypatch))


def _python_store(func, x, args, kw, dtype, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(_ndfilters, "_STORE_CODE", {})
        return func(x, *args, output=dtype, **kw)


def test_baseline_float64_is_scipy_bitwise(force_level):
    """At the baseline level (no FMA on x86-64) the float64 route is SciPy's
    arithmetic bit for bit (passes along the last two axes fused or not)."""
    if _dispatch.CPU_LEVEL == "baseline" and "avx2" not in _dispatch.AVAILABLE:
        pytest.skip("not an x86-64 build")
    force_level("baseline")
    x = _data((40, 51), np.float64)
    for mode in MODES:
        np.testing.assert_array_equal(fndi.gaussian_filter1d(x, 2.0, 0, mode=mode, cval=1.0),
                                      sndi.gaussian_filter1d(x, 2.0, 0, mode=mode, cval=1.0))
        np.testing.assert_array_equal(fndi.gaussian_filter(x, 1.5, mode=mode, cval=1.0),
                                      sndi.gaussian_filter(x, 1.5, mode=mode, cval=1.0))
        np.testing.assert_array_equal(fndi.uniform_filter1d(x, 5, 0, mode=mode),
                                      sndi.uniform_filter1d(x, 5, 0, mode=mode))


@pytest.mark.parametrize("level", LEVELS)
def test_env_simd_level_in_subprocess(level):
    code = ("import numpy as np, scipy.ndimage as s; from fastconv import ndimage as f, "
            "_dispatch as d; x=np.random.default_rng(1).standard_normal((64,80)).astype('f4');"
            "assert d.LEVEL == %r;"
            "e=max(float(abs(f.gaussian_filter(x,2.)-s.gaussian_filter(x,2.)).max()),"
            "float(abs(f.uniform_filter(x,5)-s.uniform_filter(x,5)).max()));"
            "assert e < 4e-6*float(abs(x).max()), e; print('ok')" % level)
    env = dict(os.environ, FASTCONV_SIMD=level)
    env["PYTHONPATH"] = IMPORT_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_index_map_matches_scipy_extension():
    """The boundary index map reproduces ndimage's extension for every mode,
    including windows much longer than the axis (repeated reflections)."""
    for mode in MODES:
        for n in (1, 2, 3, 5, 40):
            x = np.arange(1.0, n + 1)
            for k in (1, 2, 5, 12):
                for origin in range(-(k // 2), (k - 1) // 2 + 1):
                    w = np.zeros(k)
                    for j in range(k):
                        w[:] = 0
                        w[j] = 1
                        ref = sndi.correlate1d(x, w, mode=mode, cval=-9.0, origin=origin)
                        idx = _ndfilters._ext_index(n, k, k // 2 + origin,
                                                    _ndfilters._mode(mode))[j:j + n]
                        got = np.where(idx < 0, -9.0, x[np.maximum(idx, 0)])
                        np.testing.assert_array_equal(got, ref)


def test_filters_exported():
    for name in _ndfilters.__all__:
        assert getattr(fndi, name) is getattr(_ndfilters, name)
        assert name in fndi.__all__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fndi.gaussian_filter(np.ones((3, 3)), 1.0)


INT_LINE_CASES = [
    ("correlate1d", ([1.0, 2.0, 1.0],), {}),                       # symmetric
    ("correlate1d", ([1.0, 0.0, -1.0],), {"mode": "constant", "cval": 3.7}),   # antisymmetric
    ("correlate1d", ([0.3, 0.25, 1 / 3.0, 0.1],), {"mode": "wrap", "origin": -2}),
    ("convolve1d", (np.arange(1, 10) / 45.0,), {"mode": "mirror", "origin": 1}),
    ("correlate1d", ([0.7, -1.3, 2.2, 5.1, -0.4],), {"mode": "grid-constant", "cval": -2.5}),
    ("uniform_filter1d", (4,), {"mode": "nearest", "origin": -1}),
    ("uniform_filter1d", (15,), {"mode": "constant", "cval": 2.5}),
    ("gaussian_filter1d", (2.0,), {"mode": "grid-mirror"}),
    ("gaussian_filter1d", (1.0,), {"order": 1}),
]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16])
def test_integer_lines_along_the_last_axis_are_scipys_bits(dtype, level, force_level,
                                                          monkeypatch):
    """One pass of an 8- or 16-bit integer filter along the last axis runs
    the integer line kernel (integers read and stored in its sweep, no
    float64 copy): SciPy's bits at every level, for short lines (side by
    side), long lines (in segments), every kind of weights, the box and
    values outside the type's range (wrap-around of the stores)."""
    if not _ndimage_args._X86:
        pytest.skip("the integer line kernel stores as x86-64 does")
    force_level(level)
    monkeypatch.setattr(_ndimage_args, "_SCIPY_SMALL", [False])
    used = []
    real = _ndfilters._int_line_pass
    monkeypatch.setattr(_ndfilters, "_int_line_pass",
                        lambda *a: used.append(1) or real(*a))
    info = np.iinfo(dtype)
    rng = np.random.default_rng(11)
    for seg, group in [(8192, 64), (5, 3)]:       # the defaults, then tiny units
        monkeypatch.setattr(_ndfilters, "_INT_SEG", seg)
        monkeypatch.setattr(_ndfilters, "_INT_GROUP", group)
        for shape in [(1,), (40,), (300, 1), (200, 3), (17, 8), (9, 2, 37)]:
            x = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
            for name, args, kw in INT_LINE_CASES:
                used.clear()
                got = getattr(fndi, name)(x, *args, **kw)
                ref = getattr(sndi, name)(x, *args, **kw)
                assert used, (name, shape)
                assert got.dtype == ref.dtype == dtype
                assert got.tobytes() == ref.tobytes(), (name, shape, seg, kw)


def test_integer_lines_outputs_threads_and_other_dtypes(monkeypatch):
    if not _ndimage_args._X86:
        pytest.skip("the integer line kernel stores as x86-64 does")
    x = _data((50, 300), np.uint8)
    ref = sndi.correlate1d(x, [1.0, 3.0, -1.5])
    # threads and segments: the same bits
    monkeypatch.setattr(_ndfilters, "_INT_SEG", 7)
    for workers in (1, 2):
        assert fndi.correlate1d(x, [1.0, 3.0, -1.5], workers=workers).tobytes() == ref.tobytes()
    # an output array: written in place, also a strided one and the input itself
    out = np.empty_like(x)
    assert fndi.correlate1d(x, [1.0, 3.0, -1.5], output=out) is out
    np.testing.assert_array_equal(out, ref)
    wide = np.zeros((50, 600), np.uint8)
    fndi.correlate1d(x, [1.0, 3.0, -1.5], output=wide[:, ::2])
    np.testing.assert_array_equal(wide[:, ::2], ref)
    y = x.copy()
    fndi.correlate1d(y, [1.0, 3.0, -1.5], output=y)
    np.testing.assert_array_equal(y, ref)
    # another output dtype, int32 and bool inputs: SciPy's loop
    calls = []
    real = sndi.correlate1d
    monkeypatch.setattr(_ndfilters._nd, "correlate1d",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    for xx, kw in [(x, {"output": np.int16}), (x.astype(np.int32), {}), (x > 100, {})]:
        calls.clear()
        got = fndi.correlate1d(xx, [1.0, 3.0, -1.5], **kw)
        assert calls
        np.testing.assert_array_equal(got, real(xx, [1.0, 3.0, -1.5], **kw))
    # along another axis the multi-line route, not the line kernel
    used = []
    monkeypatch.setattr(_ndfilters, "_int_line_pass", lambda *a: used.append(1))
    got0 = fndi.uniform_filter1d(x, 15, axis=0)
    assert not used and np.array_equal(got0, sndi.uniform_filter1d(x, 15, axis=0))

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_long_contiguous_lines_run_in_segments(dtype):
    """Lines along the contiguous axis longer than the kernel's segment run
    as several units (the running mean as one, a segment at a time through
    its buffer): SciPy's values at the segment boundaries too (integers bit
    for bit), the same bits for 1 and 2 threads."""
    seg = _dispatch.kernels.line_segment()
    x = _data((2, 3 * seg + 7), dtype, seed=4)
    cases = [("uniform_filter1d", (41,), {"mode": "wrap"}),          # running mean
             ("uniform_filter1d", (15,), {"mode": "constant", "cval": 2.0}),   # direct box
             ("correlate1d", (np.linspace(-1.0, 2.0, 30),), {"mode": "mirror"}),
             ("gaussian_filter1d", (3.0,), {"mode": "nearest"}),
             ("laplace", (), {"mode": "reflect"})]
    for name, args, kw in cases:
        got = getattr(fndi, name)(x, *args, workers=2, **kw)
        assert got.tobytes() == getattr(fndi, name)(x, *args, workers=1, **kw).tobytes()
        ref = getattr(sndi, name)(x, *args, **kw)
        w = np.abs(args[0]).sum() if name == "correlate1d" else 4.0
        _assert_match(got, ref, x, wsum=w, cval=kw.get("cval", 0.0))
        # one line alone (a single line still splits into segments)
        one = getattr(fndi, name)(x[1].copy(), *args, **kw)
        _assert_match(one, getattr(sndi, name)(x[1].copy(), *args, **kw), x[1], wsum=w,
                      cval=kw.get("cval", 0.0))


def test_short_last_axis_runs_separate_passes(monkeypatch):
    """Fused sweeps run along the contiguous axis only when it has at least
    _FUSE_MIN_LAST samples (shorter ones run separate passes: their lines
    side by side, filter_short); the values are SciPy's either way."""
    calls = []
    for name in ("_fused", "_fused3"):
        orig = getattr(_ndfilters, name)

        def spy(*a, _orig=orig, _name=name, **k):
            calls.append(_name)
            return _orig(*a, **k)
        monkeypatch.setattr(_ndfilters, name, spy)
    rng = np.random.default_rng(9)
    n = _ndfilters._FUSE_MIN_LAST
    for shape, fused in [((20, 20, n - 1), False), ((20, 20, n), True), ((300, 3), False),
                         ((40, n + 3), True)]:
        x = rng.standard_normal(shape)
        calls.clear()
        got = fndi.gaussian_filter(x, 1.5)
        assert bool(calls) is fused, shape
        np.testing.assert_allclose(got, sndi.gaussian_filter(x, 1.5), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_cached_passes_give_the_per_call_passes_bits(dtype):
    """gaussian_filter, uniform_filter, sobel and prewitt keep their passes
    (weights, symmetry) from one call to the next for plain arguments; the
    results equal those of the per-call passes (the same arguments spelled
    per axis, which skip the caches), on first and later calls, and the
    shared weights stay unchanged."""
    rng = np.random.default_rng(11)
    x = (rng.random((150, 140)) * 200).astype(dtype)
    calls = [(lambda a, m: fndi.gaussian_filter(a, 1.5, mode=m),
              lambda a, m: fndi.gaussian_filter(a, [1.5, 1.5], mode=[m, m])),
             (lambda a, m: fndi.uniform_filter(a, 5, mode=m, origin=1),
              lambda a, m: fndi.uniform_filter(a, [5, 5], mode=[m, m], origin=[1, 1])),
             (lambda a, m: fndi.sobel(a, 0, mode=m), lambda a, m: fndi.sobel(a, 0, mode=[m, m])),
             (lambda a, m: fndi.prewitt(a, 1, mode=m), lambda a, m: fndi.prewitt(a, 1, mode=[m, m]))]
    for cached, per_call in calls:
        for mode in ("reflect", "wrap", "constant"):
            ref = per_call(x, mode)
            for _ in range(2):
                got = cached(x, mode)
                assert got.dtype == ref.dtype
                assert np.array_equal(got, ref), mode
    for ps in _ndfilters._edge_passes(2, 0, "reflect", (1.0, 2.0, 1.0)):
        assert not ps.weights.flags.writeable
    assert _ndfilters._edge_passes(2, 0, "reflect", (1.0, 2.0, 1.0))[1].weights.tolist() == \
        [1.0, 2.0, 1.0]


@pytest.mark.parametrize("dtype", [np.uint8, np.int16])
def test_cheap_integer_passes_run_on_one_thread(dtype, monkeypatch):
    """The exact route gives its team no budget for integer inputs up to
    _EXACT_SERIAL_MAX elements (_EXACT_SERIAL_MAX_BOX for box sums only)
    whose passes are all box sums or at most 3 taps; other inputs and
    longer kernels keep the call's budget.  Same bits either way."""
    budgets = []
    real = _ndfilters.team_size
    monkeypatch.setattr(_ndfilters, "team_size",
                        lambda n, *a, **k: budgets.append(n) or real(n, *a, **k))
    monkeypatch.setattr(_ndfilters, "_EXACT_SERIAL_MAX", 5000)
    monkeypatch.setattr(_ndfilters, "_EXACT_SERIAL_MAX_BOX", 9000)
    rng = np.random.default_rng(5)

    def budget(f, x, *args, **kw):
        budgets.clear()
        got = getattr(fndi, f)(x, *args, workers=2, **kw)
        seen = set(budgets)
        ref = getattr(sndi, f)(x, *args, **kw)
        if x.dtype.kind in "iu":
            assert np.array_equal(got, ref)       # SciPy's bits
        else:
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4)
        assert np.array_equal(got, getattr(fndi, f)(x, *args, workers=1, **kw))
        return seen

    small = rng.integers(0, 100, (60, 70)).astype(dtype)          # 4 200 elements
    mid = rng.integers(0, 100, (60, 120)).astype(dtype)           # 7 200
    big = rng.integers(0, 100, (100, 100)).astype(dtype)          # 10 000
    assert budget("uniform_filter", small, 5) == {1}
    assert budget("sobel", small) == {1}
    assert budget("uniform_filter1d", small, 9, axis=0) == {1}
    assert budget("uniform_filter", mid, 5) == {1}               # box sums: to 9 000
    assert budget("sobel", mid) == {2}                            # 3 taps: to 5 000
    assert budget("uniform_filter", big, 5) == {2}
    assert budget("gaussian_filter", small, 2) == {2}              # longer kernels
    assert budget("uniform_filter", small.astype(np.float32), 5) <= {2}
    assert 1 not in budget("sobel", small.astype(np.float64))      # floats keep the team


def _running_mean_reference(x, k, idx, cval, strip):
    """SciPy's running mean along axis 1 of x (P, N, Q), restarted every
    `strip` rows, in its order: the first sum from 0.0 tap by tap, then
    sum + (entering - leaving), each output sum / k."""
    P, N, Q = x.shape
    ext = np.where((np.asarray(idx) >= 0)[None, :, None],
                   x[:, np.maximum(np.asarray(idx), 0), :], cval)
    out = np.empty_like(x)
    for s0 in range(0, N, strip):
        acc = np.zeros((P, Q))
        for t in range(k):
            acc = acc + ext[:, s0 + t, :]
        out[:, s0, :] = acc / k
        for i in range(s0 + 1, min(s0 + strip, N)):
            acc = acc + (ext[:, i - 1 + k, :] - ext[:, i - 1, :])
            out[:, i, :] = acc / k
    return out


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("Q, qblock", [(2, 2), (3, 3), (4, 4), (5, 5), (6, 4), (7, 3)])
@pytest.mark.parametrize("strip", [None, 64])
def test_box_across_few_columns_is_scipys_running_mean(level, dtype, Q, qblock, strip):
    """Box sums across fewer than five columns (filter_lines, Q > 1) keep the
    running sums and divide a chunk of rows at a time: the same quotients,
    bit for bit, over more rows than one chunk holds (4096 / width), with
    the columns split into blocks (qblock < Q: rows not contiguous in the
    output), with and without the fast route's strips, and with constant
    padding."""
    rng = np.random.default_rng(Q)
    N, k = 4096 // 2 + 37, 15
    x = rng.standard_normal((2, N, Q)).astype(dtype)
    kern = _dispatch.get_kernels(level)
    for mode, cval in [("reflect", 0.0), ("constant", 2.5)]:
        idx = _ndfilters.line_index(N, k, k // 2, mode)
        out = np.empty_like(x)
        kern.filter_lines(x, out, _ndfilters._box(k, x.dtype), idx, k // 2, 0, 1, 1,
                          x.dtype.type(cval), qblock, strip or N, 2)
        ref = _running_mean_reference(x.astype(np.float64), k, idx, cval, strip or N)
        assert out.tobytes() == ref.astype(dtype).tobytes(), (mode, level)


@pytest.mark.parametrize("Q", [2, 3, 4])
def test_integer_box_across_few_columns_is_scipys(Q):
    """uniform_filter1d of uint8 along a middle axis of few columns (the
    exact route's deferred quotients, one and several passes) gives
    SciPy's bytes."""
    rng = np.random.default_rng(Q)
    x = rng.integers(0, 256, (3, 2100, Q)).astype(np.uint8)
    for size, origin in [(15, 0), (4, 1)]:
        assert np.array_equal(fndi.uniform_filter1d(x, size, axis=1, origin=origin),
                              sndi.uniform_filter1d(x, size, axis=1, origin=origin))
    assert np.array_equal(fndi.uniform_filter(x, 5), sndi.uniform_filter(x, 5))
