"""fastconv.ndimage against scipy.ndimage.

Tolerances (the reference is scipy.ndimage itself):

* float64 (and complex128) results: ``1e-12 * scale``, ``scale`` = the
  filter of ``|input|`` with ``|weights|`` (sum of the absolute values of
  the terms; worst-case rounding of both sides is ``2 (m + 1) 2**-53``
  times it for ``m <= 64`` terms, far below).
* float32 input with float32 output: fastconv sums in float32, ndimage in
  double and rounds once: ``2 (m + 1) 2**-24 * scale``.
* integer and bool outputs: exact when the weights are integers (the
  double sums are then exact in any order).  With fractional weights the
  double sums of the two libraries may differ in the last bit, which moves
  a truncation across an integer only when the exact sum is within
  ``1e-9 * scale`` of one: there a difference of one unit is allowed.
"""

import itertools
import warnings

import numpy as np
import pytest
import scipy.ndimage as nd

from fastconv import ndimage as fn
from fastconv._errors import RuntimeValueError
from conftest import UB_CASTS_MATCH_SCIPY, in_cast_range

RNG_SEED = 4242
U32 = 2.0 ** -24
MODES = ["reflect", "constant", "nearest", "mirror", "wrap", "grid-mirror",
         "grid-constant", "grid-wrap"]


def make(shape, dtype, rng, integral_values=False):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -60), min(info.max, 120), shape, endpoint=True,
                            dtype=dtype)
    if integral_values:
        v = rng.integers(-3, 4, shape).astype(np.float64)
    else:
        v = rng.standard_normal(shape) * 10
    if dtype.kind == "c":
        v = v + 1j * (rng.integers(-3, 4, shape) if integral_values
                      else rng.standard_normal(shape))
    return v.astype(dtype)


def check(got, ref, x, w, fname, kwargs, integral_weights):
    assert got.shape == ref.shape
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    kind = ref.dtype.kind
    if kind in "biu" and integral_weights:
        np.testing.assert_array_equal(got, ref)
        return
    sfunc = getattr(nd, fname)
    skw = dict(kwargs)
    skw.pop("output", None)
    skw["cval"] = abs(skw.get("cval", 0.0))
    scale = sfunc(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64), **skw)
    if kind in "biu":
        exact = sfunc(x.astype(np.complex128 if x.dtype.kind == "c" else np.float64),
                      w, **skw)
        near = np.abs(exact - np.round(exact)) <= 1e-9 * scale + 1e-12
        diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
        if kind == "b":
            diff = (got != ref).astype(float)
        assert not ((diff > 0) & ~near).any()
        assert (diff <= 1).all() or kind == "u" and (
            (diff <= 1) | (diff == np.iinfo(ref.dtype).max)).all()
        return
    m = int(np.prod(w.shape))
    if ref.dtype in (np.float32, np.complex64):
        rtol = 2 * (m + 1) * U32
    else:
        rtol = 1e-12
    diff = np.abs(got.astype(np.complex128) - ref)
    assert (diff <= rtol * scale + 1e-300).all(), np.max(diff / np.maximum(scale, 1e-300))


CASES = [((9,), (3,), None), ((8,), (4,), None), ((3,), (7,), None), ((1,), (3,), None),
         ((2,), (5,), None), ((6, 7), (3, 2), None), ((5, 6), (1, 4), None),
         ((4, 5, 6), (2, 3, 3), None), ((6, 7), (3,), (1,)), ((6, 7), (4,), 0),
         ((4, 5, 6), (3, 2), (0, 2)), ((4, 5, 6), (3, 2), (2, 0)),
         ((2, 3, 4, 3), (2, 2, 2, 2), None)]


@pytest.mark.parametrize("fname", ["correlate", "convolve"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8, np.int16, np.int32,
                                   np.complex128, np.complex64, np.bool_],
                         ids=lambda d: np.dtype(d).name)
def test_nd_matches_scipy(fname, dtype):
    rng = np.random.default_rng(RNG_SEED)
    for (si, sw, axes), mode in itertools.product(CASES, MODES):
        x = make(si, dtype, rng)
        integral = np.dtype(dtype).kind in "biu" and rng.random() < 0.5
        w = make(sw, np.float64, rng, integral_values=integral)
        ks = list(sw)
        for origin in (0, tuple((k - 1) // 2 for k in ks), tuple(-(k // 2) for k in ks)):
            kwargs = dict(mode=mode, cval=1.5, origin=origin, axes=axes)
            try:
                ref = getattr(nd, fname)(x, w, **kwargs)
            except ValueError:
                # with axes=(2, 0) these origins pair with other weight axes
                with pytest.raises(ValueError, match="Invalid origin"):
                    getattr(fn, fname)(x, w, **kwargs)
                continue
            got = getattr(fn, fname)(x, w, **kwargs)
            check(got, ref, x, w, fname, kwargs, integral)


@pytest.mark.parametrize("fname", ["correlate1d", "convolve1d"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int8, np.complex64],
                         ids=lambda d: np.dtype(d).name)
def test_1d_matches_scipy(fname, dtype):
    rng = np.random.default_rng(RNG_SEED + 1)
    weights = [[1.0, 2.0, 3.0], [1.0, -2.0, 3.0, 4.0], [2.0], [1, 2j, 3],
               list(range(1, 11))]
    for si, mode, axis in itertools.product([(9,), (6, 7), (3, 4, 5)], MODES, [0, -1]):
        x = make(si, dtype, rng)
        for w in weights:
            w = np.asarray(w)
            for origin in (0, 1, -1):
                kwargs = dict(axis=axis, mode=mode, cval=-2.0, origin=origin)
                try:
                    ref = getattr(nd, fname)(x, w, **kwargs)
                except ValueError as exc:
                    with pytest.raises(ValueError, match="Invalid origin"):
                        getattr(fn, fname)(x, w, **kwargs)
                    assert "Invalid origin" in str(exc)
                    continue
                got = getattr(fn, fname)(x, w, **kwargs)
                skw = dict(kwargs)
                w1 = w
                scale_f = getattr(nd, fname)
                scale = scale_f(np.abs(x).astype(float), np.abs(w1).astype(float),
                                axis=axis, mode=mode, cval=2.0, origin=origin)
                assert got.dtype == ref.dtype and got.shape == ref.shape
                if ref.dtype.kind in "iu":
                    # integer weights here: exact double sums
                    np.testing.assert_array_equal(got, ref)
                else:
                    m = len(w)
                    rtol = 2 * (m + 1) * U32 if ref.dtype in (np.float32, np.complex64) \
                        else 1e-12
                    assert (np.abs(got - ref) <= rtol * scale + 1e-300).all(), skw


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.int64])
@pytest.mark.parametrize("fname", ["correlate1d", "convolve1d"])
def test_integer_lines_with_fractional_weights_are_scipys_bits(dtype, fname):
    """Sums that land within rounding of an integer truncate the same way as
    SciPy's: the row tiles summed in another order, 124.99999 came out 125.0
    and 1041 of 135000 uint16 outputs were one above SciPy's."""
    rng = np.random.default_rng(7)
    w = np.arange(1.0, 8.0) / 28.0
    for shape in [(300, 450), (6, 45), (5000,)]:
        x = rng.integers(0, 200, size=shape).astype(dtype)
        for axis in range(-1, -len(shape) - 1, -1):
            for mode in ("mirror", "constant", "wrap"):
                got = getattr(fn, fname)(x, w, axis=axis, mode=mode)
                ref = getattr(nd, fname)(x, w, axis=axis, mode=mode)
                np.testing.assert_array_equal(got, ref, err_msg=f"{shape} {axis} {mode}")


def test_integer_outputs_truncate_and_wrap_like_ndimage():
    x = np.array([0, 1, 2, 3, 200, 250], dtype=np.uint8)
    w = [1.5, -0.7, 1.2]
    for dtype in (np.uint8, np.int8):
        xx = x.astype(dtype)
        np.testing.assert_array_equal(fn.correlate1d(xx, w), nd.correlate1d(xx, w))
    # every integer output dtype, values across the wrap-around points
    vals = np.array([0.3, -0.3, 1.5, -1.5, 1800.7, -1800.7, 70000.2, -70000.2, 3e9, -3e9,
                     2.0 ** 31 + 0.5, -2.0 ** 31 - 0.5])
    for dtype in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
                  np.uint64, np.bool_):
        got = fn.correlate1d(vals, [1.0], output=dtype)
        ref = nd.correlate1d(vals, [1.0], output=dtype)
        assert got.dtype == ref.dtype
        keep = (np.ones(vals.shape, bool) if UB_CASTS_MATCH_SCIPY
                else in_cast_range(vals, dtype))          # see conftest
        np.testing.assert_array_equal(got[keep], ref[keep])


def test_output_argument():
    rng = np.random.default_rng(RNG_SEED + 2)
    x = rng.standard_normal((5, 6)) * 50
    w = rng.standard_normal((3, 3))
    # array: filled and returned (the same object)
    out = np.empty((5, 6))
    res = fn.correlate(x, w, output=out)
    assert res is out
    np.testing.assert_allclose(out, nd.correlate(x, w), rtol=1e-12, atol=1e-12)
    out_i = np.zeros((5, 6), np.int32)
    assert fn.convolve(x, w, output=out_i) is out_i
    np.testing.assert_array_equal(out_i, nd.convolve(x, w, output=np.int32))
    # dtype and dtype strings
    for o in (np.float32, np.int16, "f4", "int32", np.bool_, np.dtype(np.uint8)):
        got = fn.correlate(x, w, output=o)
        ref = nd.correlate(x, w, output=o)
        assert got.dtype == ref.dtype
        np.testing.assert_allclose(got.astype(float), ref.astype(float), atol=1.0)
    # output aliasing the input
    xx = x.copy()
    assert fn.correlate(xx, w, output=xx) is xx
    np.testing.assert_allclose(xx, nd.correlate(x, w), rtol=1e-12, atol=1e-12)
    # complex weights with a real output dtype: promoted with SciPy's warning
    with pytest.warns(UserWarning, match="promoting specified output dtype to complex"):
        got = fn.correlate(x, w + 1j, output=np.float32)
    assert got.dtype == np.complex64


def test_errors_pinned():
    x = np.arange(12.0).reshape(3, 4)
    with pytest.raises(RuntimeError, match="boundary mode not supported"):
        fn.correlate(x, np.ones((3, 3)), mode="foo")
    with pytest.raises(ValueError, match="boundary mode not supported"):
        fn.correlate1d(x, np.ones(3), mode=["reflect"])
    with pytest.raises(RuntimeError, match="A sequence of modes is not supported"):
        fn.convolve(x, np.ones((3, 3)), mode=["reflect", "wrap"])
    with pytest.raises(RuntimeError, match=r"weights.ndim \(1\) must match len\(axes\) "
                                           r"\(2\)"):
        fn.correlate(x, np.ones(3))
    with pytest.raises(RuntimeError, match=r"weights.ndim \(2\) must match len\(axes\) "
                                           r"\(1\)"):
        fn.correlate(x, np.ones((3, 3)), axes=1)
    with pytest.raises(RuntimeError, match="sequence argument must have length equal to "
                                           "input rank"):
        fn.correlate(x, np.ones((3, 3)), origin=[0, 0, 0])
    with pytest.raises(ValueError, match="Invalid origin; origin must satisfy"):
        fn.correlate(x, np.ones((3, 3)), origin=2)
    with pytest.raises(ValueError, match="Invalid origin; origin must satisfy"):
        fn.convolve1d(x, np.ones(4), origin=2)
    with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
        fn.correlate(x, np.ones((3, 3)), origin=0.5)
    with pytest.raises(RuntimeError, match="no filter weights given"):
        fn.correlate1d(x, [])
    with pytest.raises(RuntimeError, match="no filter weights given"):
        fn.convolve1d(x, [[1.0, 2.0]])
    with pytest.raises(ValueError, match="axis 3 is out of bounds"):
        fn.correlate1d(x, [1.0, 2.0], axis=3)
    with pytest.raises(ValueError, match="axes must be unique"):
        fn.correlate(x, np.ones((3, 3)), axes=[0, 0])
    with pytest.raises(ValueError, match="specified axis: 2 is out of range"):
        fn.correlate(x, np.ones(3), axes=[2])
    with pytest.raises(RuntimeError, match="output shape not correct"):
        fn.correlate(x, np.ones((3, 3)), output=np.zeros((3, 3)))
    with pytest.raises(RuntimeError, match="output must have numeric dtype"):
        fn.correlate(x, np.ones((3, 3)), output="bool")
    with pytest.raises(RuntimeError, match="output must have complex dtype"):
        fn.correlate(x, np.ones((3, 3)) + 1j, output=np.zeros((3, 4)))
    with pytest.raises(RuntimeError, match="array type not supported"):
        fn.correlate(x, np.ones((3, 3)), output=np.complex64)
    with pytest.raises(ValueError, match="Cannot provide a complex-valued cval when the "
                                         "input is real"):
        fn.correlate(x, np.ones((3, 3)) * 1j, mode="constant", cval=1 + 1j)
    with pytest.raises(TypeError, match="must be real number, not complex"):
        fn.correlate(x, np.ones((3, 3)), mode="constant", cval=1 + 1j)
    with pytest.raises(TypeError, match="must be real number, not str"):
        fn.correlate1d(x, np.ones(3), mode="constant", cval="a")
    with pytest.raises(ValueError, match="workers must be a non-zero int"):
        fn.correlate(x, np.ones((3, 3)), workers=0)
    # RuntimeErrors are also ValueErrors (fastconv's rule for bad values)
    assert issubclass(RuntimeValueError, RuntimeError)
    assert issubclass(RuntimeValueError, ValueError)


def test_dtypes_beyond_ndimage():
    rng = np.random.default_rng(RNG_SEED + 3)
    x = rng.standard_normal((6, 7))
    w = rng.standard_normal((3, 2))
    # float16: ndimage refuses it, fastconv computes it in float64
    got = fn.correlate(x.astype(np.float16), w)
    assert got.dtype == np.float16
    ref = nd.correlate(x.astype(np.float16).astype(np.float64), w)
    np.testing.assert_allclose(got.astype(float), ref, rtol=2.0 ** -10,
                               atol=2.0 ** -10 * np.abs(ref).max())
    # long double and object: delegated to ndimage, which raises
    with pytest.raises(RuntimeError, match="not supported"):
        fn.correlate(x.astype(np.longdouble), w)
    with pytest.raises(RuntimeError, match="not supported"):
        fn.convolve1d(x.astype(object), [1.0, 2.0])


def test_empty_input_and_layouts():
    for fname in ("correlate", "convolve"):
        for shape in ((0,), (0, 4)):
            w = np.ones((3,) * len(shape))
            got = getattr(fn, fname)(np.zeros(shape), w)
            ref = getattr(nd, fname)(np.zeros(shape), w)
            assert got.shape == ref.shape and got.dtype == ref.dtype
    rng = np.random.default_rng(RNG_SEED + 4)
    x = rng.standard_normal((9, 12))
    w = rng.standard_normal((3, 4))
    ro = x.copy()
    ro.flags.writeable = False
    for xx in (x, np.asfortranarray(x), x[::-1, ::-2], ro):
        before = xx.copy()
        for mode in ("reflect", "constant", "wrap"):
            got = fn.correlate(xx, w[::-1], mode=mode)
            ref = nd.correlate(xx, w[::-1], mode=mode)
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(xx, before)


def test_threads_give_identical_results():
    rng = np.random.default_rng(RNG_SEED + 5)
    x = rng.standard_normal((64, 200)).astype(np.float32)
    w = rng.standard_normal((5, 5))
    r1 = fn.convolve(x, w, mode="mirror", workers=1)
    r2 = fn.convolve(x, w, mode="mirror", workers=2)
    np.testing.assert_array_equal(r1, r2)
    r1 = fn.correlate1d(x, [1.0, 2.0, 3.0], axis=0, workers=1)
    np.testing.assert_array_equal(r1, fn.correlate1d(x, [1.0, 2.0, 3.0], axis=0, workers=-1))


def test_even_kernel_centre_differs_from_signal_convolve():
    # ndimage.convolve centres an even kernel at k // 2; signal.convolve's
    # 'same' at (k - 1) // 2: one sample apart, both reproduced.
    import fastconv
    x = np.arange(1.0, 9.0)
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    a = fn.convolve(x, w, mode="constant")
    b = fastconv.convolve(x, w, "same")
    np.testing.assert_array_equal(a, nd.convolve(x, w, mode="constant"))
    np.testing.assert_array_equal(a[:-1], b[1:])


def test_nonfinite_values_propagate():
    x = np.arange(10.0)
    x[4] = np.nan
    got = fn.correlate1d(x, [1.0, 1.0, 1.0], mode="nearest")
    assert np.isnan(got).sum() == 3 and np.isnan(got[3:6]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn.convolve(np.array([1.0, np.inf, 2.0]), np.array([1.0, -1.0]), mode="constant")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_short_line_of_a_strided_view(dtype):
    # short 1-D lines take one call of the line kernel; a strided view is
    # read like its contiguous copy (and like SciPy)
    rng = np.random.default_rng(11)
    s = rng.standard_normal(400).astype(dtype)
    k = rng.standard_normal(9)
    for f, g in ((fn.convolve1d, nd.convolve1d), (fn.correlate1d, nd.correlate1d)):
        got = f(s[::2], k, mode="mirror")
        assert np.array_equal(got, f(s[::2].copy(), k, mode="mirror"))
        np.testing.assert_allclose(got, g(s[::2], k, mode="mirror"),
                                   rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int16])
def test_long_lines_take_the_line_kernel_and_match_scipy(dtype, monkeypatch):
    # 1-D lines of any length with up to _LINE_TAPS taps run one call of the
    # line kernel (no engine call); longer kernels the engine.  Both agree
    # with SciPy (integers bit for bit), whatever the workers
    import fastconv.ndimage as fnd_mod
    calls = []
    real = fnd_mod._engine_filter
    monkeypatch.setattr(fnd_mod, "_engine_filter", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(12)
    x = (rng.standard_normal(70_000) * 40).astype(dtype)
    for k, engine in ((3, False), (25, False), (fnd_mod._LINE_TAPS, False),
                      (fnd_mod._LINE_TAPS + 1, True)):
        w = rng.standard_normal(k)
        for f, g, mode in ((fn.correlate1d, nd.correlate1d, "mirror"),
                           (fn.convolve, nd.convolve, "constant")):
            calls.clear()
            got = f(x, w, mode=mode, workers=2)
            ref = g(x, w, mode=mode)
            # (integer correlate1d takes the separable passes' route)
            assert bool(calls) == (engine and (f is fn.convolve
                                               or np.dtype(dtype).kind == "f")), (k, f)
            if np.dtype(dtype).kind in "iu":
                if f is fn.correlate1d:
                    assert got.tobytes() == ref.tobytes()
                continue
            scale = float(np.abs(x).max() * np.abs(w).sum())
            tol = 1e-5 if dtype == np.float32 else 1e-13
            assert float(np.abs(got - ref).max()) <= tol * scale, (k, f)
            assert np.array_equal(got, f(x, w, mode=mode, workers=1))


@pytest.mark.parametrize("mode", ["reflect", "mirror", "nearest", "wrap", "constant",
                                  "grid-wrap", "grid-mirror", "grid-constant"])
@pytest.mark.parametrize("shape,ksize", [((8, 8), 3), ((1, 5), 9), ((3, 2, 4), 7),
                                         ((2, 300), 5)])
def test_small_arrays_padded_by_gather_match_scipy(mode, shape, ksize):
    """Small inputs are padded by one cached gather per axis instead of
    np.pad (kernels longer than the axis: repeated reflections)."""
    rng = np.random.default_rng(len(shape) * 31 + ksize)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((ksize,) * len(shape))
    got = fn.correlate(x, w, mode=mode, cval=1.5)
    ref = nd.correlate(x, w, mode=mode, cval=1.5)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(x).sum() * np.abs(w).max())
    xi = rng.integers(-50, 50, shape).astype(np.int32)
    wi = rng.integers(-3, 4, (ksize,) * len(shape)).astype(np.int32)
    np.testing.assert_array_equal(fn.correlate(xi, wi, mode=mode, cval=2),
                                  nd.correlate(xi, wi, mode=mode, cval=2))


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "wrap", "edge", "constant"])
def test_padding_gather_and_np_pad_agree_across_the_size_switch(mode):
    """Inputs up to _direct._SMALL_FRESH elements are padded in a fresh array,
    larger ones in the thread's scratch buffer, both by edge copies axis by
    axis with np.pad's index pattern: both give np.pad's array on
    either side of the switch, pads wider than the axis included, and a
    later call's padding in the reused buffer is its own."""
    from fastconv import _direct
    rng = np.random.default_rng(5)
    n = _direct._SMALL_FRESH
    for shape in ((1, 1, n), (1, 1, n + 1), (1, 2, 8, n // 16), (1, 2, 8, n // 16 + 1),
                  (1, 1, 3, 5)):
        x = rng.standard_normal(shape)
        pads = [(2, 1), (7, 9)] if len(shape) == 4 else [(3, 4)]
        if shape[-1] <= 5:
            pads = [(4, 6), (11, 13)]      # wider than the axes
        got = _direct._pad_input(x, pads, "real", np.float64, mode, 1.5)
        kw = {"constant_values": 1.5} if mode == "constant" else {}
        ref = np.pad(x, [(0, 0), (0, 0)] + pads, mode=mode, **kw)
        assert np.array_equal(got, ref), shape
    for shape, pads in (((2, 3, 40, 500), [(5, 2), (300, 700)]),
                        ((1, 1, 3, 9000), [(8, 8), (1, 0)])):
        for seed in (0, 1):       # the second call reuses the first one's buffer
            x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
            got = _direct._pad_input(x, pads, "real", np.float32, mode, 1.5)
            kw = {"constant_values": 1.5} if mode == "constant" else {}
            assert np.array_equal(got, np.pad(x, [(0, 0), (0, 0)] + pads, mode=mode, **kw))
    # narrow edges (copied as slices where np.pad's pattern is a run) and
    # edges as long as the axis (a gather), both sides and each alone
    x = rng.standard_normal((1, 1, 130, 140)).astype(np.float32)
    for lo in (0, 1, 2, 5, 130):
        for hi in (0, 1, 3, 140):
            pads = [(lo, hi), (hi, lo)]
            kw = {"constant_values": 1.5} if mode == "constant" else {}
            ref = np.pad(x, [(0, 0), (0, 0)] + pads, mode=mode, **kw)
            got = _direct._pad_input(x, pads, "real", np.float32, mode, 1.5)
            assert np.array_equal(got, ref), (lo, hi)
    if mode != "constant":
        for lo, hi in ((1, 1),) + (((2, 3),) if mode != "edge" else ()):
            assert all(isinstance(src, slice) for src in _direct._edge_sources(140, lo, hi, mode))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_edges_apart_give_the_extended_copys_bits(dtype, monkeypatch):
    """Large inputs are not copied whole to extend their edges: the inner
    outputs come from one zero-edged engine call and the edge strips from
    thin extended slabs (_direct._run_edges_apart).  Same bits as the call
    on the whole extended copy, for every mode, origin, cval, rank, a
    rank-one kernel, non-finite kernels and 1 or 2 threads; it runs for
    these inputs and not below its size."""
    from fastconv import _direct
    ran = []
    real = _direct._run_edges_apart
    monkeypatch.setattr(_direct, "_run_edges_apart", lambda *a: ran.append(1) or real(*a))
    rng = np.random.default_rng(21)
    cases = [((300, 310), (3, 3)), ((260, 400), (5, 4)), ((280, 270), (1, 7)),
             ((48, 50, 60), (3, 2, 3)), ((300, 256), (5, 5))]
    n_ran = 0
    for shape, ks in cases:
        x = rng.standard_normal(shape).astype(dtype)
        kernels = [rng.standard_normal(ks),
                   np.multiply.outer(rng.standard_normal(ks[0]), rng.standard_normal(ks[1:]))
                   .reshape(ks)]
        inf_k = kernels[0].copy()
        inf_k.flat[0] = np.inf
        kernels.append(inf_k)
        for k in kernels:
            for mode in ("reflect", "mirror", "nearest", "wrap", "constant", "grid-wrap"):
                for origin in (0, -1) if min(ks) > 2 else (0,):
                    for name, workers in (("correlate", None), ("convolve", 1),
                                          ("correlate", 2)):
                        def call():
                            return getattr(fn, name)(
                                x, k, mode=mode, cval=1.5, origin=origin, workers=workers)
                        del ran[:]
                        with np.errstate(invalid="ignore"):
                            with monkeypatch.context() as m:
                                m.setattr(_direct, "_EDGES_APART_BYTES", 0)
                                got = call()
                            n_ran += bool(ran)
                            ref = call()
                        assert got.dtype == ref.dtype
                        assert got.tobytes() == ref.tobytes() or np.array_equal(
                            got, ref, equal_nan=True), (shape, ks, mode, origin, name)
    assert n_ran > 100
    del ran[:]
    fn.correlate(np.ones((100, 100), dtype), np.ones((3, 3)))
    assert not ran
    with monkeypatch.context() as m:
        m.setattr(_direct, "_EDGES_APART_BYTES", 0)
        fn.correlate(np.ones((100, 100), dtype), np.ones((3, 3)))
        fn.correlate(np.ones((100, 19), dtype), np.ones((3, 3)))    # 19 < 4 x (3 + 2)
    assert ran == [1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lean_call_gives_the_general_routes_bits(dtype, monkeypatch):
    """correlate/convolve's lean route (ndimage._plain_call: the cached
    engine decisions of the usual call) gives the general route's outcome
    -- bits, dtype, contiguity or exception type -- for every mode, zero
    and other cvals, origins (invalid ones included), even kernels, a
    length-1 kernel axis, rank 3, a rank-one kernel the separable route
    takes, float32 and float64 weights, 1 or 2 threads; it runs in most of
    these calls, never for non-finite weights, and returns None where the
    overflow guard wants the baseline kernels."""
    from fastconv import ndimage as nd_mod
    ran, refused = [], []
    real = nd_mod._plain_call

    def spy(*args):
        out = real(*args)
        (ran if out is not None else refused).append(np.isfinite(args[1]).all())
        return out

    rng = np.random.default_rng(31)
    cases = [((128, 130), (3, 3)), ((97, 140), (4, 5)), ((300, 260), (1, 7)),
             ((40, 36, 30), (3, 2, 3)), ((300, 310), (9, 9))]
    for shape, ks in cases:
        x = rng.standard_normal(shape).astype(dtype)
        x_big = x.copy()
        x_big.flat[7] = np.finfo(dtype).max / 4   # the guard's case with |w| > 1 weights
        kernels = [rng.standard_normal(ks), rng.standard_normal(ks).astype(np.float32) * 3,
                   np.multiply.outer(rng.standard_normal(ks[0]),
                                     rng.standard_normal(ks[1:])).reshape(ks)]
        nan_k = kernels[0].copy()
        nan_k.flat[-1] = np.nan
        kernels.append(nan_k)
        for i, k in enumerate(kernels):
            xi = x_big if i == 1 else x
            for mode, cval in (("reflect", 0.0), ("mirror", 0.0), ("nearest", 0.0),
                               ("wrap", 0.0), ("grid-wrap", 0.0), ("grid-mirror", 0.0),
                               ("constant", 0.0), ("constant", 1.5), ("grid-constant", 0),
                               ("grid-constant", -2.0)):
                for origin in (0, -1, 1):
                    for name, workers in (("correlate", None), ("convolve", 1),
                                          ("correlate", 2)):
                        outcome = []
                        for lean in (spy, lambda *a: None):
                            monkeypatch.setattr(nd_mod, "_plain_call", lean)
                            try:
                                with np.errstate(all="ignore"):
                                    outcome.append(getattr(fn, name)(
                                        xi, k, mode=mode, cval=cval, origin=origin,
                                        workers=workers))
                            except Exception as exc:  # noqa: BLE001 - compared below
                                outcome.append(type(exc))
                        got, ref = outcome
                        where = (shape, ks, mode, cval, origin, name)
                        if isinstance(ref, type):
                            assert got is ref, where
                            continue
                        assert got.dtype == ref.dtype and got.flags.c_contiguous, where
                        assert np.array_equal(got, ref, equal_nan=True), where
    monkeypatch.setattr(nd_mod, "_plain_call", real)
    assert len(ran) > 150 and all(ran)
    assert len(refused) > 20
