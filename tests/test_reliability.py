"""Issue 13: huge geometry values, bounded memory, the non-finite contract at
every SIMD level, and SciPy-parity edges.

Reproducers that used to hang or allocate terabytes run in a subprocess with
a timeout (``subprocess.run(timeout=...)``): a regression fails the test
instead of hanging CI.  No test reads a clock.
"""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import fastconv
from fastconv import _dispatch, _engine, signal as fsignal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 120   # generous for a loaded machine; the fixed code needs well under 1 s


def run_py(code, env=None, timeout=TIMEOUT):
    """Run `code` in a fresh interpreter at the repository root; return stdout."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


# --------------------------------------------------------------------------
# items 1 and 2: geometry by what the output reads

TORCH_CHECK = """
try:
    import torch
except ImportError:
    torch = None
"""


@pytest.mark.parametrize("stride", [2**31, 10**7, 2**62 // 3])
def test_transpose_huge_stride_returns(stride):
    out = run_py(f"""
        import numpy as np
        from fastconv import conv_transpose2d
        y = conv_transpose2d(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)), stride={stride})
        assert y.shape == (1, 1, 1, 1) and y[0, 0, 0, 0] == 1.0, y
        print("ok")
    """)
    assert "ok" in out


def test_transpose_huge_stride_huge_output_is_clear_error():
    from fastconv import conv_transpose1d
    with pytest.raises(ValueError, match=r"stride .* output length .* exceed"):
        conv_transpose1d(np.ones((1, 1, 3)), np.ones((1, 1, 1)), stride=2**62)


@pytest.mark.parametrize("stride", [2**31, 10**7, 10**12])
def test_grad_input_and_backward_huge_stride(stride):
    out = run_py(f"""
        import numpy as np
        from fastconv import conv2d, conv_grad_input, conv_backward
        rng = np.random.default_rng(0)
        x = rng.standard_normal((2, 4, 8, 8))
        w = rng.standard_normal((6, 4, 3, 3))
        y = conv2d(x, w, stride={stride}, padding=1)
        assert y.shape == (2, 6, 1, 1)
        # stride is irrelevant with one output: compare with stride 1 at (0, 0)
        ref = conv2d(x, w, stride=1, padding=1)[:, :, :1, :1]
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
        gy = rng.standard_normal(y.shape)
        gx = conv_grad_input(x.shape, w, gy, stride={stride}, padding=1)
        full = np.zeros((2, 6, 8, 8)); full[:, :, :1, :1] = gy
        ref_gx = conv_grad_input(x.shape, w, full, stride=1, padding=1)
        np.testing.assert_allclose(gx, ref_gx, rtol=1e-12, atol=1e-12)
        gx2, gw, gb = conv_backward(gy, x, w, np.zeros(6), stride={stride}, padding=1)
        np.testing.assert_allclose(gx2, ref_gx, rtol=1e-12, atol=1e-12)
        _, gw_ref, _ = conv_backward(full, x, w, np.zeros(6), stride=1, padding=1)
        np.testing.assert_allclose(gw, gw_ref, rtol=1e-12, atol=1e-12)
        print("ok")
    """)
    assert "ok" in out


def test_conv2d_stride_2_62_padding_1():
    out = run_py("""
        import numpy as np
        from fastconv import conv2d
        y = conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), stride=2**62, padding=1)
        assert y.shape == (1, 1, 1, 1) and y[0, 0, 0, 0] == 4.0, y
        print("ok")
    """)
    assert "ok" in out


@pytest.mark.parametrize("stride", [10**6, 10**7, 10**12])
def test_conv2d_huge_stride_small_memory(stride):
    # 10**7 used to take 183 s and +5.5 GB; the address-space limit makes any
    # allocation sized by the stride fail loudly instead of swapping.
    out = run_py(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        import numpy as np
        from fastconv import conv2d
        rng = np.random.default_rng(1)
        x = rng.standard_normal((2, 4, 8, 8)); w = rng.standard_normal((6, 4, 3, 3))
        y = conv2d(x, w, stride={stride}, padding=1)
        assert y.shape == (2, 6, 1, 1)
        np.testing.assert_allclose(y, conv2d(x, w, padding=1)[:, :, :1, :1], rtol=1e-12)
        print("ok")
    """)
    assert "ok" in out


def test_large_dilation_with_large_padding():
    out = run_py("""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        import numpy as np
        from fastconv import conv2d, conv_grad_input, conv_grad_weight
        rng = np.random.default_rng(2)
        x = rng.standard_normal((1, 2, 5, 5)); w = rng.standard_normal((3, 2, 3, 3))
        d = 10**6
        y = conv2d(x, w, padding=d, dilation=d)
        assert y.shape == (1, 3, 5, 5)
        # only the centre tap lands inside the input
        ref = np.einsum("fc,nchw->nfhw", w[:, :, 1, 1], x)
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
        gy = rng.standard_normal(y.shape)
        gx = conv_grad_input(x.shape, w, gy, padding=d, dilation=d)
        np.testing.assert_allclose(gx, np.einsum("fc,nfhw->nchw", w[:, :, 1, 1], gy),
                                   rtol=1e-12, atol=1e-12)
        gw = conv_grad_weight(x, w.shape, gy, padding=d, dilation=d)
        ref_gw = np.zeros_like(w)
        ref_gw[:, :, 1, 1] = np.einsum("nfhw,nchw->fc", gy, x)
        np.testing.assert_allclose(gw, ref_gw, rtol=1e-12, atol=1e-12)
        # stride and padding both huge: three outputs per axis, one reads the input
        s = 10**12
        y = conv2d(x, w, stride=s, padding=s)
        assert y.shape == (1, 3, 3, 3)
        ref = np.zeros((1, 3, 3, 3))
        ref[:, :, 1, 1] = np.einsum("fchw,nchw->nf", w, np.pad(x, ((0, 0), (0, 0), (0, 0), (0, 0)))[:, :, :3, :3])
        np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
        gw = conv_grad_weight(x, w.shape, np.ones(y.shape), stride=s, padding=s)
        ref_gw = np.broadcast_to(x[0, :, :3, :3], w.shape)
        np.testing.assert_allclose(gw, ref_gw, rtol=1e-12, atol=1e-12)
        print("ok")
    """)
    assert "ok" in out


def test_overflowing_geometry_is_clear_error():
    from fastconv import conv1d, conv_output_shape
    x, w = np.ones((1, 1, 4)), np.ones((1, 1, 3))
    with pytest.raises(ValueError, match=r"stride must be at most"):
        conv1d(x, w, stride=2**64)
    with pytest.raises(ValueError, match=r"padding \(.*\) on spatial axis 0 makes the padded"):
        conv1d(x, w, padding=2**63)
    with pytest.raises(ValueError, match=r"dilation .* spans d\*\(k-1\)"):
        conv1d(x, w, dilation=2**62, padding=2**61)
    with pytest.raises(ValueError, match=r"dilation must be at most"):
        conv_output_shape((4,), 3, dilation=2**63)


def test_geometry_reduction_matches_reference_small():
    # the reduced geometry (one output: no stride; one tap: no dilation) gives
    # the numbers of the plain geometry, at every level and both layouts
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 1, 3)).astype(np.float32)
    for level in _dispatch.supported_levels():
        a = _engine.correlate(x, w, stride=(50, 1), dilation=(9, 2), pads=((1, 1), (2, 2)),
                              level=level)
        b = _engine.correlate(x, w, stride=(1, 1), dilation=(1, 2), pads=((1, 0), (2, 2)),
                              level=level)[:, :, :1]
        assert a.shape == b.shape
        assert_allclose(a, b, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------
# item 3: the per-thread scratch is capped


def test_scratch_not_kept_above_cap():
    out = run_py("""
        import numpy as np
        from fastconv import _engine
        big = _engine._scratch((_engine._SCRATCH_CAP // 8) + 10, np.float64)
        assert getattr(_engine._SCRATCH, "d", None) is None or \\
            _engine._SCRATCH.d.nbytes <= _engine._SCRATCH_CAP
        small = _engine._scratch(1000, np.float64)
        assert _engine._SCRATCH.d.size >= 1000
        print("ok")
    """)
    assert "ok" in out


def test_rss_flat_after_oversized_call():
    # a padded source of ~200 MB is one-off: the thread keeps at most the cap
    out = run_py("""
        import numpy as np
        from fastconv import conv2d, _engine
        x = np.ones((1, 3, 3000, 3000), np.float64)
        w = np.ones((2, 3, 3, 3))
        conv2d(x, w, stride=2, padding=1, workers=1)
        kept = sum(b.nbytes for b in vars(_engine._SCRATCH).values())
        assert kept <= _engine._SCRATCH_CAP, kept
        print("ok")
    """)
    assert "ok" in out


# item 4 (workers capped at usable CPUs) belongs to the lead's _threads.py
# rework; its test is left to that change.


# --------------------------------------------------------------------------
# item 5: choose_conv_method on huge broadcast views


def test_choose_conv_method_broadcast_view_is_quick():
    out = run_py("""
        import numpy as np
        from fastconv.signal import choose_conv_method
        a = np.broadcast_to(np.int64(3), (2**29, 2**29))
        b = np.broadcast_to(np.int64(2), (3, 3))
        try:
            m = choose_conv_method(a, b)
        except MemoryError as e:
            m = "MemoryError"
        print(m)
    """, timeout=60)
    assert out.strip() in ("fft", "direct", "MemoryError")
