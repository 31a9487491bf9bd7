"""fastconv.dask: every function equals the in-memory fastconv result.

The in-memory functions are tested against SciPy and PyTorch in
test_signal.py, test_ndimage.py and test_nn.py; here the dask versions are
compared with them, over chunk layouts that exercise the halo code: uneven
chunks, single-element chunks on the axes that are not convolved, chunks
barely larger than the halo, chunks smaller than the kernel and an axis
shorter than the kernel.  Laziness, a dask kernel computed once, the threaded
scheduler, a two-process ``distributed.LocalCluster`` and the out-of-core
demo (``python -m fastconv.dask``) are tested too.
"""

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

EXTRA = 'needs the dask extra: pip install "fastconv[dask]"'
dask = pytest.importorskip("dask", reason=EXTRA)
da = pytest.importorskip("dask.array", reason=EXTRA)

import fastconv  # noqa: E402
import fastconv.dask as fcd  # noqa: E402
from fastconv import ndimage as nd  # noqa: E402
from fastconv.dask import _core  # noqa: E402
from fastconv.dask import ndimage as dnd  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastconv.__file__)))
MODES = ("reflect", "constant", "nearest", "mirror", "wrap")


def rng(seed=0):
    return np.random.default_rng(seed)


def check(lazy, ref, rtol=1e-12):
    """The dask result, computed on the threaded scheduler, equals `ref`."""
    assert isinstance(lazy, da.Array)
    assert lazy.shape == ref.shape
    assert lazy.dtype == ref.dtype
    got = lazy.compute(scheduler="threads")
    assert got.shape == ref.shape and got.dtype == ref.dtype
    # block shapes agree with the chunks dask was told
    assert tuple(sum(c) for c in lazy.chunks) == ref.shape
    if ref.dtype.kind in "biu":
        np.testing.assert_array_equal(got, ref)
    else:
        scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * scale)
    return got


# chunk layouts of a (13, 11) image: uneven; one element along axis 0;
# barely larger than a halo of 2; smaller than a 5-tap kernel; one chunk
LAYOUTS_2D = {
    "uneven": ((5, 6, 2), (4, 4, 3)),
    "ones-axis0": (1, (6, 5)),
    "barely": (3, 3),
    "tiny": (2, 1),
    "one": (-1, -1),
}


# --------------------------------------------------------------------------
# ndimage


@pytest.mark.parametrize("layout", sorted(LAYOUTS_2D))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("func", ["correlate", "convolve"])
def test_ndimage_modes_and_layouts(func, mode, layout):
    x = rng(1).standard_normal((13, 11))
    w = rng(2).standard_normal((5, 4))
    xd = da.from_array(x, chunks=LAYOUTS_2D[layout])
    for origin in [0, (-2, 1), (2, -2), (1, 0)]:
        ref = getattr(nd, func)(x, w, mode=mode, cval=0.75, origin=origin)
        check(getattr(dnd, func)(xd, w, mode=mode, cval=0.75, origin=origin), ref)


def test_ndimage_matches_scipy():
    import scipy.ndimage as snd
    x = rng(3).standard_normal((17, 9))
    w = rng(4).standard_normal((3, 5))
    xd = da.from_array(x, chunks=(4, 3))
    for mode in MODES:
        check(dnd.convolve(xd, w, mode=mode), snd.convolve(x, w, mode=mode))
        check(dnd.correlate(xd, w, mode=mode, origin=(1, -1)),
              snd.correlate(x, w, mode=mode, origin=(1, -1)))


@pytest.mark.parametrize("mode", MODES + ("grid-wrap", "grid-mirror", "grid-constant"))
def test_ndimage_kernel_longer_than_the_array(mode):
    # reach 8 > axis length 5: the edges need wider pads than the axis
    x = rng(5).standard_normal((5, 12))
    w = rng(6).standard_normal((9, 3))
    xd = da.from_array(x, chunks=(2, 5))
    check(dnd.correlate(xd, w, mode=mode, cval=-1.5), nd.correlate(x, w, mode=mode, cval=-1.5))
    check(dnd.convolve(xd, w, mode=mode, origin=(-3, 1)),
          nd.convolve(x, w, mode=mode, origin=(-3, 1)))


@pytest.mark.parametrize("mode", MODES)
def test_ndimage_axes_and_single_element_chunks(mode):
    x = rng(7).standard_normal((6, 4, 9))
    w = rng(8).standard_normal((3, 4))
    xd = da.from_array(x, chunks=(2, 1, (2, 3, 4)))
    for axes, origin in [((0, 2), 0), ((2, 0), (1, -1)), ((-1, 0), (0, 1))]:
        ref = nd.correlate(x, w, mode=mode, origin=origin, axes=axes)
        check(dnd.correlate(xd, w, mode=mode, origin=origin, axes=axes), ref)
        ref = nd.convolve(x, w, mode=mode, origin=origin, axes=axes)
        check(dnd.convolve(xd, w, mode=mode, origin=origin, axes=axes), ref)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("func", ["correlate1d", "convolve1d"])
def test_ndimage_1d(func, mode):
    x = rng(9).standard_normal((7, 15))
    xd = da.from_array(x, chunks=(1, (4, 4, 7)))
    for w, origin, axis in [([1., 2., 3.], 0, -1), ([1., -2., 0.5, 4.], -2, 1),
                            ([1., -2., 0.5, 4.], 1, 0), (np.arange(1., 8.), 3, 1),
                            ([2.], 0, 0)]:
        ref = getattr(nd, func)(x, w, axis=axis, mode=mode, cval=2.0, origin=origin)
        check(getattr(dnd, func)(xd, w, axis=axis, mode=mode, cval=2.0, origin=origin), ref)


@pytest.mark.parametrize("dtype", [np.int16, np.uint8, np.float32, np.complex128])
def test_ndimage_dtypes_and_cval(dtype):
    x = (rng(10).standard_normal((12, 10)) * 20).astype(dtype)
    w = np.array([[0.5, 1.25, -1.0], [0.25, 2.0, 0.75]])
    xd = da.from_array(x, chunks=(5, 4))
    for output in (None, np.float64) if x.dtype.kind != "c" else (None,):
        ref = nd.correlate(x, w, output=output, mode="constant", cval=3.5)
        check(dnd.correlate(xd, w, output=output, mode="constant", cval=3.5), ref,
              rtol=1e-5 if ref.dtype in (np.float32,) else 1e-12)
    ref = nd.convolve1d(x, [1.5, -0.5], axis=0, mode="constant", cval=-2.5)
    check(dnd.convolve1d(xd, [1.5, -0.5], axis=0, mode="constant", cval=-2.5), ref,
          rtol=1e-5 if ref.dtype == np.float32 else 1e-12)


def test_ndimage_3d_float32():
    x = rng(11).standard_normal((10, 9, 8)).astype(np.float32)
    w = rng(12).standard_normal((3, 3, 3)).astype(np.float32)
    xd = da.from_array(x, chunks=(4, 5, 3))
    check(dnd.convolve(xd, w), nd.convolve(x, w), rtol=1e-5)


def test_ndimage_keeps_the_chunks_when_they_hold_the_halo():
    xd = da.ones((20, 20), chunks=(6, 7))
    assert dnd.correlate(xd, np.ones((5, 5))).chunks == xd.chunks
    assert dnd.correlate1d(xd, np.ones(4), axis=0).chunks == xd.chunks
    # chunks smaller than the halo are merged with a neighbour
    small = da.ones((20,), chunks=1)
    out = dnd.correlate(small, np.ones(7))
    assert min(out.chunks[0][1:-1]) >= 3
    np.testing.assert_array_equal(out.compute(), nd.correlate(np.ones(20), np.ones(7)))


def test_ndimage_errors():
    xd = da.ones((6, 6), chunks=3)
    with pytest.raises(TypeError, match="output must be None or a dtype"):
        dnd.correlate(xd, np.ones((3, 3)), output=np.empty((6, 6)))
    with pytest.raises(RuntimeError, match="boundary mode not supported"):
        dnd.correlate(xd, np.ones((3, 3)), mode="bogus")
    with pytest.raises(ValueError, match="Invalid origin"):
        dnd.convolve(xd, np.ones((3, 3)), origin=2)
    with pytest.raises(RuntimeError, match="no filter weights given"):
        dnd.correlate1d(xd, np.ones((2, 2)))
    with pytest.raises(ValueError, match="workers"):
        dnd.correlate(xd, np.ones((3, 3)), workers=0)


# --------------------------------------------------------------------------
# scipy.signal-style


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS_2D))
def test_signal_convolve_correlate(mode, layout):
    x = rng(13).standard_normal((13, 11))
    xd = da.from_array(x, chunks=LAYOUTS_2D[layout])
    for shape in [(3, 3), (4, 2), (1, 5), (6, 1)]:
        k = rng(14).standard_normal(shape)
        for method in ("direct", "fft", "auto"):
            check(fcd.convolve(xd, k, mode, method), fastconv.convolve(x, k, mode, method))
            check(fcd.correlate(xd, k, mode, method), fastconv.correlate(x, k, mode, method))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_signal_fft_functions(mode):
    x = rng(15).standard_normal((40, 9))
    xd = da.from_array(x, chunks=((7, 13, 20), (4, 5)))
    k = rng(16).standard_normal((5, 3))
    check(fcd.fftconvolve(xd, k, mode), fastconv.fftconvolve(x, k, mode))
    check(fcd.oaconvolve(xd, k, mode), fastconv.oaconvolve(x, k, mode))
    k1 = rng(17).standard_normal((6, 1))
    check(fcd.fftconvolve(xd, k1, mode, axes=0), fastconv.fftconvolve(x, k1, mode, axes=0))
    check(fcd.oaconvolve(xd, k1, mode, axes=[0]), fastconv.oaconvolve(x, k1, mode, axes=[0]))


def test_signal_axes_dtypes_and_broadcast():
    x = rng(18).standard_normal((4, 30))
    xd = da.from_array(x, chunks=(1, 7))
    k = rng(19).standard_normal((1, 5))
    for mode in ("full", "same", "valid"):
        check(fcd.convolve(xd, k, mode, axes=1), fastconv.convolve(x, k, mode, axes=1))
    # in2 as long as in1 on a broadcast axis: in1 becomes one chunk there
    k4 = rng(20).standard_normal((4, 5))
    check(fcd.correlate(xd, k4, "same", axes=-1), fastconv.correlate(x, k4, "same", axes=-1))
    xi = rng(21).integers(-100, 100, (9, 8)).astype(np.int32)
    ki = rng(22).integers(-5, 5, (3, 2)).astype(np.int16)
    check(fcd.convolve(da.from_array(xi, chunks=3), ki), fastconv.convolve(xi, ki))
    xc = x + 1j * rng(23).standard_normal(x.shape)
    kc = k + 0.5j
    check(fcd.correlate(da.from_array(xc, chunks=(2, 9)), kc, "full"),
          fastconv.correlate(xc, kc, "full"))
    with pytest.raises(ValueError, match="in2 must have length 1 or in1's length"):
        fcd.convolve(xd, np.ones((3, 5)), axes=1)


def test_signal_valid_with_the_larger_kernel():
    x = rng(24).standard_normal((4, 5))
    k = rng(25).standard_normal((9, 8))
    xd = da.from_array(x, chunks=2)
    check(fcd.convolve(xd, k, "valid"), fastconv.convolve(x, k, "valid"))
    check(fcd.correlate2d(xd, k, "valid"), fastconv.correlate2d(x, k, "valid"))
    with pytest.raises(ValueError):
        fcd.convolve(da.ones((4, 9), chunks=2), np.ones((5, 5)), "valid")


def test_signal_output_chunks():
    xd = da.ones(30, chunks=10)
    k = np.ones(5)
    assert fcd.convolve(xd, k, "same").chunks == ((10, 10, 10),)
    assert fcd.convolve(xd, k, "full").chunks == ((10, 10, 14),)
    assert fcd.convolve(xd, k, "valid").chunks == ((10, 10, 6),)


@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_2d_boundaries(boundary, mode):
    x = rng(26).standard_normal((12, 10))
    for chunks in [((5, 5, 2), (3, 7)), (2, 2), (1, 10)]:
        xd = da.from_array(x, chunks=chunks)
        for shape in [(3, 3), (4, 5), (2, 1)]:
            k = rng(27).standard_normal(shape)
            for fv in (0, 1.5):
                check(fcd.convolve2d(xd, k, mode, boundary, fv),
                      fastconv.convolve2d(x, k, mode, boundary, fv))
                check(fcd.correlate2d(xd, k, mode, boundary, fv),
                      fastconv.correlate2d(x, k, mode, boundary, fv))


def test_2d_kernel_longer_than_the_array_and_int_fill():
    x = rng(28).integers(0, 50, (5, 6))
    k = rng(29).standard_normal((9, 13))
    xd = da.from_array(x, chunks=(2, 4))
    for boundary in ("fill", "wrap", "symm"):
        check(fcd.convolve2d(xd, k, "same", boundary, 0.25),
              fastconv.convolve2d(x, k, "same", boundary, 0.25))
    with pytest.raises(ValueError, match="Acceptable boundary flags"):
        fcd.convolve2d(xd, k, boundary="bogus")
    with pytest.raises(ValueError, match="inputs must both be 2-D"):
        fcd.correlate2d(da.ones((2, 2, 2)), np.ones((2, 2, 2)))


# --------------------------------------------------------------------------
# CNN functions

CNN_CASES = [
    # rank, stride, dilation, padding, groups
    (1, 1, 1, "valid", 1),
    (1, 3, 2, "causal", 1),
    (1, 2, 1, "same", 2),
    (2, 2, 1, "same", 1),
    (2, (2, 3), (1, 2), ((1, 0), (2, 3)), 2),
    (2, 1, 3, 2, 4),
    (2, 3, 1, "full", 1),
    (3, 2, 1, "same", 1),
    (3, (1, 2, 1), 2, 1, 2),
]


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("rank, stride, dilation, padding, groups", CNN_CASES)
def test_cnn(rank, stride, dilation, padding, groups, data_format):
    r = rng(30 + rank)
    spatial = {1: (23,), 2: (13, 11), 3: (9, 8, 7)}[rank]
    C, F, K = 4, 8, 3
    cf = data_format == "channels_first"
    x = r.standard_normal((3, C) + spatial if cf else (3,) + spatial + (C,))
    w = r.standard_normal((F, C // groups) + (K,) * rank if cf
                          else (K,) * rank + (C // groups, F))
    bias = r.standard_normal(F)
    sp = [max(1, n // 3 + (i % 2)) for i, n in enumerate(spatial)]   # uneven, small chunks
    chunks = (1, C) + tuple(sp) if cf else (2,) + tuple(sp) + (2,)
    xd = da.from_array(x, chunks=chunks)
    fn = {1: "conv1d", 2: "conv2d", 3: "conv3d"}[rank]
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
              data_format=data_format)
    ref = getattr(fastconv, fn)(x, w, bias, activation="relu", **kw)
    check(getattr(fcd, fn)(xd, w, bias, activation="relu", **kw), ref)
    check(fcd.conv(xd, w, **kw), fastconv.conv(x, w, **kw))


@pytest.mark.parametrize("padding_mode", ["reflect", "replicate", "circular"])
def test_cnn_padding_modes_and_unbatched(padding_mode):
    x = rng(40).standard_normal((2, 14, 10)).astype(np.float32)
    w = rng(41).standard_normal((3, 2, 3, 4)).astype(np.float32)
    xd = da.from_array(x, chunks=(2, 4, 3))
    for stride, padding in [(1, "same"), (2, 2), (3, ((2, 1), (0, 3)))]:
        ref = fastconv.conv2d(x, w, stride=stride, padding=padding, padding_mode=padding_mode)
        check(fcd.conv2d(xd, w, stride=stride, padding=padding, padding_mode=padding_mode),
              ref, rtol=1e-5)


def test_cnn_strided_blocks_line_up():
    # chunk borders that are not multiples of the stride are moved to ones
    x = rng(42).standard_normal((1, 1, 50))
    w = rng(43).standard_normal((1, 1, 4))
    for chunks in [(1, 1, 7), (1, 1, (3, 9, 11, 27)), (1, 1, 5)]:
        xd = da.from_array(x, chunks=chunks)
        for stride, dilation in itertools.product((2, 3, 5), (1, 2)):
            for padding in ("valid", "same", 3):
                ref = fastconv.conv1d(x, w, stride=stride, dilation=dilation, padding=padding)
                check(fcd.conv1d(xd, w, stride=stride, dilation=dilation, padding=padding),
                      ref)


def test_cnn_errors():
    xd = da.ones((2, 3, 8, 8), chunks=4)
    w = np.ones((4, 3, 3, 3))
    with pytest.raises(ValueError, match="data_format must be"):
        fcd.conv2d(xd, w, data_format="NCHW")
    with pytest.raises(ValueError, match="groups=2 must divide the input channels"):
        fcd.conv2d(xd, np.ones((4, 1, 3, 3)), groups=2)
    with pytest.raises(ValueError, match="output size would be"):
        fcd.conv2d(xd, np.ones((4, 3, 9, 9)))
    with pytest.raises(TypeError, match="unsupported dtype"):
        fcd.conv2d(xd.astype(np.int32), w)
    with pytest.raises(ValueError, match="padding_mode='reflect' needs padding"):
        fcd.conv2d(xd, w, padding=8, padding_mode="reflect")
    with pytest.raises(ValueError, match="input must have 4 dimensions"):
        fcd.conv2d(da.ones((8, 8), chunks=4), w)
    with pytest.raises(ValueError, match="bias must have shape"):
        fcd.conv2d(xd, w, np.ones(3))


# --------------------------------------------------------------------------
# laziness, a dask kernel computed once, threads


class Counting:
    """An array-like that counts the reads dask makes of it."""

    def __init__(self, array):
        self.array = array
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim
        self.reads = 0

    def __getitem__(self, index):
        self.reads += 1
        return self.array[index]


def test_nothing_runs_before_compute(monkeypatch):
    calls = []
    real = nd.correlate

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    x = rng(44).standard_normal((20, 20))
    src = Counting(x)
    xd = da.from_array(src, chunks=(5, 10), asarray=False)
    wsrc = Counting(rng(45).standard_normal((3, 3)))
    wd = da.from_array(wsrc, chunks=(2, 3), asarray=False)
    monkeypatch.setattr(nd, "correlate", counting)
    base, wbase = src.reads, wsrc.reads   # dask's own meta probes of from_array
    out = dnd.correlate(xd, wd, mode="wrap")
    calls_after_build = len(calls)   # the stand-in validation call (1x1 input)
    assert calls_after_build == 1
    assert src.reads == base and wsrc.reads == wbase
    res = out.compute(scheduler="threads")
    assert len(calls) - calls_after_build == out.npartitions == 8
    assert src.reads - base == 8          # each input block read once
    assert wsrc.reads - wbase == 2        # the kernel's two chunks, once each
    np.testing.assert_allclose(res, real(x, wsrc.array, mode="wrap"), rtol=1e-12)


def test_dask_kernel_is_one_graph_key():
    xd = da.ones((16, 16), chunks=4)
    wd = da.ones((3, 3), chunks=2)
    out = fcd.convolve(xd, wd, "same")
    graph = dict(out.__dask_graph__())
    blocks = [k for k in graph if isinstance(k, tuple) and k[0] == out.name]
    assert len(blocks) == 16
    # the kernel is one key (its rechunk to one chunk) every block depends on
    deps = out.__dask_graph__().get_all_dependencies()
    kernel_keys = set.intersection(*(set(deps[k]) - {k} for k in blocks))
    assert len(kernel_keys) == 1
    np.testing.assert_allclose(out.compute(), fastconv.convolve(np.ones((16, 16)),
                                                                np.ones((3, 3)), "same"))


def test_workers_per_block():
    cpus = _core.usable_cpus()
    assert _core.block_workers(None, 1) == cpus
    assert _core.block_workers(None, 10 * cpus) == 1
    assert _core.block_workers(3, 100) == min(3, cpus)   # capped at the usable CPUs
    with pytest.raises(ValueError, match="workers"):
        _core.block_workers(0, 4)
    x = rng(46).standard_normal((30, 30))
    xd = da.from_array(x, chunks=10)
    ref = nd.correlate(x, np.ones((3, 3)))
    for workers in (None, 1, 2):
        for scheduler in ("threads", "sync"):
            got = dnd.correlate(xd, np.ones((3, 3)), workers=workers).compute(
                scheduler=scheduler)
            np.testing.assert_array_equal(got, ref)


def test_numpy_input_is_accepted():
    x = rng(47).standard_normal((9, 9))
    check(dnd.convolve(x, np.ones((2, 3))), nd.convolve(x, np.ones((2, 3))))


# --------------------------------------------------------------------------
# optional dependency


def _run(code):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_import_fastconv_does_not_import_dask():
    res = _run("import sys, fastconv, fastconv.ndimage; "
               "print(any(m == 'dask' or m.startswith('dask.') for m in sys.modules))")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


def test_import_without_dask_names_the_extra():
    res = _run("import sys; sys.modules['dask'] = None; sys.modules['dask.array'] = None\n"
               "try:\n    import fastconv.dask\nexcept ImportError as e:\n    print(e)\n")
    assert res.returncode == 0, res.stderr
    assert 'pip install "fastconv[dask]"' in res.stdout


# --------------------------------------------------------------------------
# the out-of-core demo


def test_out_of_core_demo(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "fastconv.dask", "--shape", "24,20,18", "--kernel-size", "3",
           "--memory-budget", "0.01", "--dir", str(tmp_path), "--keep", "--check",
           "--threads", "2"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path),
                         timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "peak RSS" in res.stdout and "check: equal to the in-memory result" in res.stdout
    x = np.fromfile(tmp_path / "input.f32", dtype=np.float32).reshape(24, 20, 18)
    y = np.fromfile(tmp_path / "output.f32", dtype=np.float32).reshape(24, 20, 18)
    w = np.full((3, 3, 3), 1 / 27, dtype=np.float32)
    np.testing.assert_allclose(y, nd.convolve(x, w), rtol=1e-5, atol=1e-6)
    help_text = subprocess.run([sys.executable, "-m", "fastconv.dask", "--help"],
                               capture_output=True, text=True, env=env, timeout=120)
    assert help_text.returncode == 0 and "--memory-budget" in help_text.stdout


# --------------------------------------------------------------------------
# a distributed cluster: two worker processes (kept short: CI has 2 cores)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed", reason=EXTRA)
    # the worker processes import the fastconv these tests import
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = ROOT + ("" if saved is None else os.pathsep + saved)
    try:
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                           host="127.0.0.1", dashboard_address=None)
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    cl = distributed.Client(cluster)
    try:
        yield cl
    finally:
        cl.close()
        cluster.close()
    assert cl.status == "closed" and cluster.status.name == "closed"


def test_distributed_cluster(client):
    x = rng(48).standard_normal((40, 30)).astype(np.float32)
    xd = da.from_array(x, chunks=(9, 16))
    wd = da.from_array(rng(49).standard_normal((5, 4)).astype(np.float32), chunks=2)
    w = wd.compute()
    got = client.compute(dnd.convolve(xd, wd, mode="mirror", origin=(1, 0))).result()
    np.testing.assert_allclose(got, nd.convolve(x, w, mode="mirror", origin=(1, 0)),
                               rtol=1e-5, atol=1e-5)
    xb = rng(50).standard_normal((4, 3, 17, 15))
    wb = rng(51).standard_normal((6, 3, 3, 3))
    xbd = da.from_array(xb, chunks=(2, 3, 6, 8))
    got = client.compute(fcd.conv2d(xbd, wb, stride=2, padding="same")).result()
    np.testing.assert_allclose(got, fastconv.conv2d(xb, wb, stride=2, padding="same"),
                               rtol=1e-12, atol=1e-12)
    got = client.compute(fcd.convolve2d(xd.astype(np.float64), w, "full", "wrap")).result()
    np.testing.assert_allclose(got, fastconv.convolve2d(x.astype(np.float64), w, "full",
                                                        "wrap"), rtol=1e-5, atol=1e-5)
