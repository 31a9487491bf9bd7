"""Small ndimage calls run in scipy.ndimage itself (fastconv._ndimage_args.
is_small, scipy_if_small): below the sizes of ``SMALL`` SciPy's C loops finish before
fastconv's layers do.  These tests check that the switch gives SciPy's exact
result (bits and dtype), that it stops at the limits, and that invalid or
SciPy-refused arguments still take fastconv's own path (its errors, float16)."""

import numpy as np
import pytest
import scipy.ndimage as nd

from fastconv import _ndimage_args, ndimage as fn
from fastconv._errors import RuntimeValueError

pytestmark = pytest.mark.scipy_small


def _spy(monkeypatch):
    """Record the switch's decisions (True: the call goes to SciPy), made by
    _ndimage_args.is_small (both modules ask it through scipy_if_small)."""
    calls = []
    real = _ndimage_args.is_small

    def spy(kind, work, dtype, ndim, shape=None, axis=None):
        res = real(kind, work, dtype, ndim, shape, axis)
        calls.append(res)
        return res
    monkeypatch.setattr(_ndimage_args, "is_small", spy)
    return calls


CALLS = [
    ("correlate", lambda x: ((x, np.arange(9.0).reshape(3, 3) - 4), {"mode": "nearest"})),
    ("convolve", lambda x: ((x, np.arange(9.0).reshape(3, 3) - 4), {"mode": "wrap"})),
    ("correlate1d", lambda x: ((x, [1.0, -2.5, 0.5]), {"axis": 0})),
    ("convolve1d", lambda x: ((x, [1.0, -2.5, 0.5, 2.0]), {"mode": "mirror"})),
    ("gaussian_filter", lambda x: ((x, 1.3), {})),
    ("gaussian_filter1d", lambda x: ((x, 0.8), {"order": 1})),
    ("uniform_filter", lambda x: ((x, 3), {"mode": "constant", "cval": 2.0})),
    ("uniform_filter1d", lambda x: ((x, 4), {})),
    ("sobel", lambda x: ((x,), {})),
    ("prewitt", lambda x: ((x,), {"axis": 0})),
    ("laplace", lambda x: ((x,), {})),
    ("gaussian_laplace", lambda x: ((x, 1.0), {})),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8, np.int16])
@pytest.mark.parametrize("name", [c[0] for c in CALLS])
def test_small_calls_give_scipys_bits(name, dtype, monkeypatch):
    calls = _spy(monkeypatch)
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((12, 17)) * 40).astype(dtype)
    args, kw = dict(CALLS)[name](x)
    got = getattr(fn, name)(*args, **kw)
    ref = getattr(nd, name)(*args, **kw)
    assert calls and all(calls)
    assert got.dtype == ref.dtype and got.shape == ref.shape
    assert got.tobytes() == ref.tobytes()


def test_limits_keep_large_calls_on_fastconvs_path(monkeypatch):
    calls = _spy(monkeypatch)
    lim = _ndimage_args.SMALL
    n = int(np.sqrt(lim["box"][0])) + 1                    # past the 2-D box-filter limit
    fn.uniform_filter(np.ones((n, n)), 3)
    fn.sobel(np.ones((n, n)))
    assert calls == [False, False]                          # one check each
    calls.clear()
    fn.uniform_filter(np.ones((n - 2, n - 2)), 3)
    fn.prewitt(np.ones((n - 2, n - 2)))
    assert calls == [True, True]
    calls.clear()
    m = int(np.sqrt(lim["filter"][0])) + 1                 # past the 2-D filter limit
    fn.laplace(np.ones((m, m)))                             # (its own limit is higher)
    fn.gaussian_laplace(np.ones((m, m)), 1.0)
    assert calls[-2:] == [False, False]                     # top check, then the passes
    calls.clear()
    # gaussian_filter on 2-D inputs counts elements times taps (9 for sigma 1)
    # in one check; 3-D inputs keep the filter rule
    n = int(np.sqrt(lim["gauss"][0] / 9)) + 1
    fn.gaussian_filter(np.ones((n, n)), 1.0)
    assert calls == [False]
    calls.clear()
    fn.gaussian_filter(np.ones((n - 2, n - 2)), 1.0)
    assert calls == [True]
    calls.clear()
    fn.gaussian_filter(np.ones((n, n)), 1.0, radius=2)      # 5 taps: small again
    assert calls == [True]
    calls.clear()
    fn.gaussian_filter(np.ones((22, 22, 22)), 1.0)          # 10 648 elements: past 9 000
    fn.gaussian_filter(np.ones((20, 20, 20)), 1.0)
    assert calls == [False, True]
    calls.clear()
    side = int(np.sqrt(lim["nd"][0] / 9)) + 1                # past the N-D limit with 3x3
    # (axes given: not the lean route of the default call, which comes first)
    fn.correlate(np.ones((side, side)), np.ones((3, 3)), axes=(0, 1))
    fn.correlate(np.ones((side - 2, side - 2)), np.ones((3, 3)), axes=(0, 1))
    assert calls == [False, True]
    calls.clear()
    # the default float call takes the lean route from _PLAIN_MIN on, before
    # the small-call test; below it SciPy's
    from fastconv import ndimage as nd_mod
    side = int(np.sqrt(nd_mod._PLAIN_MIN / 9)) + 1
    fn.correlate(np.ones((side, side)), np.ones((3, 3)))
    assert calls == []
    fn.correlate(np.ones((side - 2, side - 2)), np.ones((3, 3)))
    assert calls == [True]
    calls.clear()
    # integer inputs: INT_FACTOR times the float limit
    m = int(np.sqrt(lim["box"][0] * _ndimage_args.INT_FACTOR)) - 1
    fn.uniform_filter(np.ones((m, m), np.uint8), 3)
    assert calls == [True]


@pytest.mark.parametrize("name", ["correlate1d", "uniform_filter1d", "gaussian_filter1d",
                                  "gaussian_filter", "uniform_filter", "sobel", "laplace"])
def test_many_short_lines_are_not_small(name, monkeypatch):
    # SciPy pays per line: float inputs with LINES or more lines along the
    # filtered axis (LINES_ONE_PASS for one pass) take fastconv's path
    # whatever their size; fewer lines, or integer inputs, stay with SciPy
    # -- but for one pass along the last axis 8- and 16-bit integers take
    # the float rule with LINES (the integer line kernel, x86-64)
    calls = _spy(monkeypatch)
    args, kw = dict(CALLS)[name](np.zeros(1))
    kw = {k: v for k, v in kw.items() if k != "axis"}
    one_pass = name.endswith("1d")
    n = _ndimage_args.LINES_ONE_PASS if one_pass else _ndimage_args.LINES
    ni = _ndimage_args.LINES
    rng = np.random.default_rng(3)
    int_line = one_pass and _ndimage_args._X86
    for shape, dtype, small in [((n, 1), np.float32, False), ((n - 1, 1), np.float32, True),
                                ((ni, 1), np.uint8, not int_line),
                                ((ni - 1, 1), np.uint8, True),
                                ((n, 1), np.int32, True),
                                ((n // 40, 40, 1), np.float64, False)]:
        x = (rng.standard_normal(shape) * 40).astype(dtype)
        calls.clear()
        got = getattr(fn, name)(x, *args[1:], **kw)
        assert calls[0] is small, (shape, dtype)
        ref = getattr(nd, name)(x, *args[1:], **kw)
        assert got.dtype == ref.dtype
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4)
    # along an axis with few lines the rule does not apply
    calls.clear()
    if name.endswith("1d"):
        getattr(fn, name)(np.ones((n, 1)), *args[1:], axis=0, **kw)
        assert calls[0] is True


def test_lines_along():
    assert _ndimage_args.lines_along((100, 100, 1)) == 10000
    assert _ndimage_args.lines_along((3, 1000)) == 1000        # the most of any axis
    assert _ndimage_args.lines_along((3, 1000), -1) == 3
    assert _ndimage_args.lines_along((100, 7, 3), 1) == 300
    assert _ndimage_args.lines_along((4, 0, 3)) == 0
    assert _ndimage_args.lines_along((4, 3), 5) == 0          # SciPy raises its own error
    assert _ndimage_args.lines_along((4, 3), "a") == 0


def test_switch_off_runs_fastconvs_path(monkeypatch):
    calls = _spy(monkeypatch)
    monkeypatch.setattr(_ndimage_args, "_SCIPY_SMALL", [False])
    x = np.random.default_rng(1).standard_normal((9, 9))
    got = fn.correlate(x, np.ones((3, 3)))
    assert calls == [False]
    np.testing.assert_allclose(got, nd.correlate(x, np.ones((3, 3))), rtol=1e-13, atol=1e-13)


def test_refused_arguments_take_fastconvs_path():
    # float16: SciPy refuses it, fastconv computes it (in float64)
    x = np.arange(20, dtype=np.float16).reshape(4, 5)
    got = fn.correlate(x, np.ones((3, 3)))
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, nd.correlate(x.astype(np.float64), np.ones((3, 3))),
                               rtol=1e-3)
    # invalid arguments: fastconv's own error (a subclass of SciPy's)
    with pytest.raises(RuntimeError) as err:
        fn.correlate(np.ones((4, 4)), np.ones(3))
    assert isinstance(err.value, RuntimeValueError)
    with pytest.raises(ValueError, match="Invalid origin"):
        fn.correlate(np.ones((4, 4)), np.ones((3, 3)), origin=5)


GAUSS_SIGMAS = [1.3, 2, np.float32(0.7), np.float64(1.1), (0.0, 1.5), [1, np.float32(0.5)]]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8, np.int16, np.int64])
@pytest.mark.parametrize("sigma", GAUSS_SIGMAS, ids=range(len(GAUSS_SIGMAS)))
def test_small_gaussians_are_scipys_calls_with_cached_weights(dtype, sigma, monkeypatch):
    """Small gaussian_filter / gaussian_filter1d calls run SciPy's C
    correlate1d passes with weights computed once per (sigma, order,
    radius): SciPy's bits and dtype for every mode, order, radius and
    truncate, on first and cached calls alike, and the cached weights
    cannot be written."""
    from types import SimpleNamespace
    from fastconv import _ndfilters
    passes = []
    real = _ndimage_args._ndc
    monkeypatch.setattr(_ndimage_args, "_ndc", SimpleNamespace(
        correlate1d=lambda *a: passes.append(a[2]) or real.correlate1d(*a),
        uniform_filter1d=real.uniform_filter1d))
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((9, 14)) * 40).astype(dtype)
    for mode in ("reflect", "constant", "nearest", "mirror", "wrap", "grid-wrap"):
        for kw in ({}, {"order": 1}, {"order": 2, "truncate": 2.5}, {"radius": 3},
                   {"cval": 3.5}):
            for _ in range(2):      # the first call fills the cache, the second reads it
                got = fn.gaussian_filter(x, sigma, mode=mode, **kw)
                ref = nd.gaussian_filter(x, sigma, mode=mode, **kw)
                assert got.dtype == ref.dtype and got.tobytes() == ref.tobytes(), (mode, kw)
            if not isinstance(sigma, (tuple, list)):
                for axis in (0, -1):
                    got = fn.gaussian_filter1d(x, sigma, axis, mode=mode, **kw)
                    ref = nd.gaussian_filter1d(x, sigma, axis, mode=mode, **kw)
                    assert got.dtype == ref.dtype and got.tobytes() == ref.tobytes()
    # the route ran (one correlate1d per axis with a sigma above 1e-15)
    sigmas = sigma if isinstance(sigma, (tuple, list)) else (sigma, sigma)
    first = [ax for ax, sg in enumerate(sigmas) if sg > 1e-15]
    assert passes[:len(first)] == first
    w = _ndfilters._gauss_weights(float, 1.3, 0, 5)
    with pytest.raises(ValueError):
        w[0] = 1.0


def test_small_gaussian_refusals_take_the_general_route():
    """Arguments outside the plain cases (or refused by SciPy) give what
    the general route gives: SciPy's errors and results."""
    x = np.arange(20.0).reshape(4, 5)
    for bad in ({"order": -1}, {"radius": -2}, {"mode": "nope"}):
        with pytest.raises((ValueError, RuntimeError)):
            fn.gaussian_filter(x, 1.0, **bad)
        with pytest.raises((ValueError, RuntimeError)):
            fn.gaussian_filter1d(x, 1.0, **bad)
    with pytest.raises(RuntimeError, match="sequence argument"):
        fn.gaussian_filter(x, (1.0, 2.0, 3.0))
    with pytest.raises(RuntimeError, match="float16"):     # as SciPy
        fn.gaussian_filter(x.astype(np.float16), 1.0)
    # per-axis orders and modes: SciPy's call, its bits
    got = fn.gaussian_filter(x, 1.0, order=(0, 1), mode=("wrap", "nearest"))
    ref = nd.gaussian_filter(x, 1.0, order=(0, 1), mode=("wrap", "nearest"))
    assert got.tobytes() == ref.tobytes()


def _same_outcome(ours, scipys):
    """Both raise the same exception type, or give the same bits and dtype
    (or fastconv computes a float16 filter SciPy's C loops refuse)."""
    try:
        ref = scipys()
    except Exception as e:      # noqa: BLE001 - any of SciPy's errors
        try:
            got = ours()
        except type(e):
            return "raised"
        assert isinstance(e, RuntimeError) and got.dtype == np.float16   # "not supported"
        return "raised"
    got = ours()
    assert got.dtype == ref.dtype and got.shape == ref.shape
    assert got.tobytes() == ref.tobytes()
    return "same"


C_DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
            np.uint64, np.float32, np.float64, np.float16, np.complex64, ">f8"]
MODES = ["reflect", "grid-mirror", "mirror", "nearest", "wrap", "grid-wrap", "constant",
         "grid-constant"]


@pytest.mark.parametrize("dtype", C_DTYPES, ids=str)
def test_small_calls_through_scipys_c_filters(dtype, monkeypatch):
    """Small calls with the default output go straight to scipy.ndimage's C
    filters with the arguments SciPy's Python layer would pass: for every
    input dtype (those the C loops refuse, complex and non-native ones take
    the public call), mode, origin, size, axis, cval and weights type the
    outcome is SciPy's -- its bits and dtype, or its exception type -- and
    the C entries ran for the plain cases."""
    from types import SimpleNamespace
    used = []
    real = _ndimage_args._ndc
    monkeypatch.setattr(_ndimage_args, "_ndc", SimpleNamespace(
        correlate1d=lambda *a: used.append("c") or real.correlate1d(*a),
        uniform_filter1d=lambda *a: used.append("u") or real.uniform_filter1d(*a),
        correlate=lambda *a: used.append("n") or real.correlate(*a)))
    rng = np.random.default_rng(3)
    outcomes = set()
    for shape in [(50,), (7, 5), (40, 1), (3, 4, 5), (0, 4)]:
        x = (rng.standard_normal(shape) * 30).astype(dtype)
        mixed = tuple(MODES[(3 * i + 1) % len(MODES)] for i in range(x.ndim))
        for mode in MODES + [mixed, ("wrap",) * x.ndim, "nope"]:
            for cval in (0.0, 2, np.float32(1.5)):
                for name, args, kw in [
                        ("correlate1d", ([1.0, -2.5, 0.5],), {"origin": -1}),
                        ("correlate1d", (np.array([1, 2, 3, 4], np.int16),), {"axis": 0}),
                        ("correlate1d", (np.arange(10.0)[::3],), {"origin": 1}),
                        ("correlate1d", ([1.0, 2.0],), {"origin": 1}),          # invalid
                        ("convolve1d", ([1.0, -2.5, 0.5, 2.0],), {"origin": 1}),
                        ("convolve1d", ([3.0, 1.0, 0.5],), {"axis": 0, "origin": -1}),
                        ("uniform_filter1d", (4,), {"origin": -2}),
                        ("uniform_filter1d", (3,), {"axis": 0, "origin": 2}),   # invalid
                        ("uniform_filter", (3,), {}),
                        ("uniform_filter", ((2,) * x.ndim,), {"origin": -1}),
                        ("uniform_filter", (1,), {}),
                        ("sobel", (), {"axis": 0}),
                        ("prewitt", (), {}),
                        ("laplace", (), {}),
                        ("gaussian_filter", (0.8,), {"order": 1}),
                        ("correlate", (np.arange(3.0 ** x.ndim).reshape((3,) * x.ndim) - 4,),
                         {"origin": -1}),
                        ("convolve", (np.ones((2,) * x.ndim, np.int8),), {}),
                        ("convolve", (np.arange(4.0 ** x.ndim).reshape((4,) * x.ndim).T,),
                         {"origin": [1] + [0] * (x.ndim - 1)}),
                        ("correlate", (np.ones((2,) * x.ndim),), {"origin": 1})]:  # invalid
                    if type(mode) is tuple and name.endswith("1d"):
                        continue
                    outcomes.add(_same_outcome(
                        lambda: getattr(fn, name)(x, *args, mode=mode, cval=cval, **kw),
                        lambda: getattr(nd, name)(x, *args, mode=mode, cval=cval, **kw)))
    assert outcomes == {"same", "raised"}
    plain = np.dtype(dtype) in _ndimage_args._C_DTYPES
    assert bool(used) == plain and (not plain or set(used) == {"c", "u", "n"})


def test_c_filters_checked_before_use(monkeypatch):
    """The private C entries are used only after a check that they give the
    public functions' bits; a failed check keeps the public calls."""
    from types import SimpleNamespace
    real = _ndimage_args._ndc
    monkeypatch.setattr(_ndimage_args, "_C_OK", [None])
    monkeypatch.setattr(_ndimage_args, "_ndc", SimpleNamespace(
        correlate1d=lambda i, w, *a: real.correlate1d(i, w[::-1].copy(), *a),
        uniform_filter1d=real.uniform_filter1d, correlate=real.correlate))
    x = np.arange(30.0) ** 1.5
    w = [1.0, 3.0, -2.0]
    assert fn.correlate1d(x, w).tobytes() == nd.correlate1d(x, w).tobytes()
    assert _ndimage_args._C_OK == [False]
