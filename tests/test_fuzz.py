"""Differential fuzzing against SciPy and PyTorch (issue 13).

Each property draws shapes, dtypes and geometry, runs fastconv and the
reference on the same operands, checks the numbers within the per-dtype
bound (``(m + 2) u sum |x||w|``, see tests/conftest.py), that the result
does not depend on the thread count, and that no input was modified.

The example count comes from the hypothesis profile registered in
tests/conftest.py: ``ci`` (default, hypothesis's usual count) or ``long``
(``HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py
--hypothesis-show-statistics``) for a local session.
"""

import numpy as np
import pytest
import scipy.ndimage as snd
import scipy.signal as ss
from hypothesis import assume, given, strategies as st

import fastconv
from conftest import assert_inputs_unchanged

try:
    import torch
except ImportError:  # the SciPy properties still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

U = {np.dtype(np.float32): 2.0 ** -24, np.dtype(np.float64): 2.0 ** -53,
     np.dtype(np.complex64): 2.0 ** -24, np.dtype(np.complex128): 2.0 ** -53}


def _bound(m, scale, dtype):
    u = U.get(np.dtype(dtype), 2.0 ** -53)
    mm = m * (2 if np.dtype(dtype).kind == "c" else 1)
    return 1.1 * (mm + 2) * u * scale + 1e-300


def _array(data, shape, dtype, lo=-4, hi=4):
    n = int(np.prod(shape))
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        a = rng.integers(lo, hi + 1, size=n)
        return a.astype(dtype).reshape(shape)
    if dtype.kind == "c":
        a = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    else:
        a = rng.standard_normal(n)
    # sometimes an awkward view: negative strides
    a = a.astype(dtype).reshape(shape)
    if data.draw(st.booleans(), label="reversed view") and a.ndim:
        a = np.ascontiguousarray(a[::-1])[::-1]
    return a


SIGNAL_DTYPES = [np.float32, np.float64, np.complex128, np.int16]


@given(data=st.data(), ndim=st.integers(1, 3),
       dtype=st.sampled_from(SIGNAL_DTYPES), mode=st.sampled_from(["full", "same", "valid"]),
       corr=st.booleans())
def test_signal_direct_vs_scipy(data, ndim, dtype, mode, corr):
    s1 = tuple(data.draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    s2 = tuple(data.draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim)))
    if mode == "valid":
        assume(all(a >= b for a, b in zip(s1, s2)) or all(a <= b for a, b in zip(s1, s2)))
    a, b = _array(data, s1, dtype), _array(data, s2, dtype)
    name = "correlate" if corr else "convolve"
    got = assert_inputs_unchanged(getattr(fastconv.signal, name), a, b, mode=mode,
                                  method="direct", workers=1)
    ref = getattr(ss, name)(a, b, mode=mode, method="direct")
    assert got.shape == ref.shape and got.dtype == ref.dtype
    if np.dtype(dtype).kind in "iu":
        np.testing.assert_array_equal(got, ref)
    else:
        scale = getattr(ss, name)(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64),
                                  mode=mode, method="direct")
        assert (np.abs(got - ref) <= _bound(b.size, scale, dtype)).all()
    got2 = getattr(fastconv.signal, name)(a, b, mode=mode, method="direct", workers=2)
    np.testing.assert_array_equal(got, got2)


@given(data=st.data(), ndim=st.integers(1, 3), dtype=st.sampled_from([np.float32, np.float64]),
       mode=st.sampled_from(["reflect", "constant", "nearest", "mirror", "wrap"]),
       conv=st.booleans())
def test_ndimage_vs_scipy(data, ndim, dtype, mode, conv):
    shape = tuple(data.draw(st.lists(st.integers(1, 10), min_size=ndim, max_size=ndim)))
    kshape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    a, w = _array(data, shape, dtype), _array(data, kshape, np.float64)
    cval = data.draw(st.sampled_from([0.0, 1.5]))
    name = "convolve" if conv else "correlate"
    got = assert_inputs_unchanged(getattr(fastconv.ndimage, name), a, w, mode=mode,
                                  cval=cval)
    ref = getattr(snd, name)(a, w, mode=mode, cval=cval)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    tol = 1e-5 if np.dtype(dtype) == np.float32 else 1e-11
    scale = getattr(snd, name)(np.abs(a).astype(np.float64), np.abs(w), mode=mode,
                               cval=abs(cval))
    assert (np.abs(got - ref) <= tol * (scale + 1)).all()


@needs_torch
@given(data=st.data(), rank=st.integers(1, 2), dtype=st.sampled_from([np.float32, np.float64]))
def test_conv_vs_torch(data, rank, dtype):
    groups = data.draw(st.sampled_from([1, 2]))
    N = data.draw(st.integers(1, 2))
    C = groups * data.draw(st.integers(1, 3))
    F = groups * data.draw(st.integers(1, 3))
    spatial = tuple(data.draw(st.lists(st.integers(1, 9), min_size=rank, max_size=rank)))
    ksize = tuple(data.draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))
    stride = tuple(data.draw(st.lists(st.sampled_from([1, 2, 3, 7, 10**6]),
                                      min_size=rank, max_size=rank)))
    dilation = tuple(data.draw(st.lists(st.sampled_from([1, 2, 3]),
                                        min_size=rank, max_size=rank)))
    padding = tuple(data.draw(st.lists(st.integers(0, 3), min_size=rank, max_size=rank)))
    assume(all(n + 2 * p - d * (k - 1) - 1 >= 0
               for n, p, d, k in zip(spatial, padding, dilation, ksize)))
    x = _array(data, (N, C) + spatial, dtype)
    w = _array(data, (F, C // groups) + ksize, dtype)
    b = _array(data, (F,), dtype)
    got = assert_inputs_unchanged(fastconv.conv, x, w, b, stride=stride, padding=padding,
                                  dilation=dilation, groups=groups, workers=1)
    tf = getattr(torch.nn.functional, f"conv{rank}d")
    t64 = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))  # noqa: E731
    ref = tf(t64(x), t64(w), t64(b), stride=stride, padding=padding, dilation=dilation,
             groups=groups).numpy()
    scale = tf(t64(np.abs(x)), t64(np.abs(w)), t64(np.abs(b)), stride=stride, padding=padding,
               dilation=dilation, groups=groups).numpy()
    assert got.shape == ref.shape and got.dtype == np.dtype(dtype)
    assert (np.abs(got - ref) <= _bound(w[0].size, scale, dtype)).all()
    got2 = fastconv.conv(x, w, b, stride=stride, padding=padding, dilation=dilation,
                         groups=groups, workers=2)
    np.testing.assert_array_equal(got, got2)


@needs_torch
@given(data=st.data(), rank=st.integers(1, 2))
def test_conv_transpose_vs_torch(data, rank):
    C = data.draw(st.integers(1, 3))
    F = data.draw(st.integers(1, 3))
    spatial = tuple(data.draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank)))
    ksize = tuple(data.draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))
    stride = tuple(data.draw(st.lists(st.sampled_from([1, 2, 3, 5, 10**5]),
                                      min_size=rank, max_size=rank)))
    dilation = tuple(data.draw(st.lists(st.sampled_from([1, 2, 3]),
                                        min_size=rank, max_size=rank)))
    padding = tuple(data.draw(st.lists(st.integers(0, 2), min_size=rank, max_size=rank)))
    out_len = [(n - 1) * s - 2 * p + d * (k - 1) + 1
               for n, s, p, d, k in zip(spatial, stride, padding, dilation, ksize)]
    assume(all(1 <= m <= 4000 for m in out_len))
    x = _array(data, (1, C) + spatial, np.float64)
    w = _array(data, (C, F) + ksize, np.float64)
    f = getattr(fastconv, f"conv_transpose{rank}d")
    got = assert_inputs_unchanged(f, x, w, stride=stride, padding=padding, dilation=dilation)
    tf = getattr(torch.nn.functional, f"conv_transpose{rank}d")
    tt = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    ref = tf(tt(x), tt(w), stride=stride, padding=padding, dilation=dilation).numpy()
    scale = tf(tt(np.abs(x)), tt(np.abs(w)), stride=stride,
               padding=padding, dilation=dilation).numpy()
    assert got.shape == ref.shape
    assert (np.abs(got - ref) <= _bound(C * int(np.prod(ksize)), scale, np.float64)).all()
