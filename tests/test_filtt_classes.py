"""FILTT tap classes: a tile skips the kernel rows (and depth slices) that
read only zero padding for every one of its positions.

For finite weights and no bias of -0.0 the skipped products are all
``w * 0`` and adding them changes no bit, so the class route must give the
bits of the route that runs every tap (``force={'skip_padding': False}``)
and of the generic kernel; for other weights the driver must run every tap
(0 * inf is NaN).  Every test checks through the kernel call that the class
route really ran (or did not).
"""

import numpy as np
import pytest

from fastconv import _dispatch, _engine

LEVELS = [lv for lv in _dispatch.supported_levels()
          if _engine._filtt_tile(_dispatch.get_kernels(lv), "f") is not None]

# (x shape, w shape, stride, dilation, pads, groups)
CASES = [
    ((2, 16, 14, 14), (40, 16, 3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), 1),
    # tiles spanning several rows, rows that read only padding (empty
    # classes: the output is the bias), a row axis of one input row
    ((1, 8, 3, 3), (24, 8, 3, 3), (1, 1), (1, 1), ((3, 3), (1, 1)), 1),
    ((1, 6, 1, 5), (20, 6, 3, 3), (1, 1), (1, 1), ((2, 2), (1, 1)), 1),
    ((1, 8, 5, 40), (36, 4, 3, 3), (1, 1), (1, 1), ((4, 4), (1, 1)), 2),
    # strides and dilations, uneven pads
    ((1, 8, 30, 30), (24, 8, 7, 7), (2, 2), (1, 1), ((3, 3), (3, 3)), 1),
    ((2, 8, 17, 40), (20, 8, 3, 3), (2, 2), (2, 2), ((2, 1), (0, 3)), 1),
    # depth and rows both skip
    ((1, 4, 6, 7, 9), (20, 4, 3, 3, 3), (1, 1, 1), (1, 1, 1), ((1, 1), (1, 1), (1, 1)), 1),
    ((1, 4, 3, 5, 16), (18, 4, 3, 3, 3), (1, 2, 1), (2, 1, 1), ((2, 2), (1, 2), (0, 1)), 1),
]


def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def _recording(monkeypatch, kern):
    calls = []
    real = kern.filtt_correlate

    def run(*args, **kw):
        calls.append("ctoff" in kw)
        return real(*args, **kw)

    monkeypatch.setattr(kern, "filtt_correlate", run)
    return calls


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_tap_classes_give_every_taps_bits(level, dtype, case, monkeypatch):
    xs, ws, st, dl, pads, G = CASES[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    geometry = dict(stride=st, dilation=dl, pads=pads, groups=G, level=level)
    plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, force={"filtt": True},
                                  **geometry)
    assert plan.path == "filtt"
    cls = plan.consts["classes"]
    assert cls is not None
    tpc = int(np.prod(ws[2:]))
    assert cls["ckpc"].min() < tpc           # some tile skips some taps
    calls = _recording(monkeypatch, _dispatch.get_kernels(level))
    for bias in (None, b):
        gen = _engine.correlate(x, w, bias=bias, force={"generic": True}, **geometry)
        every = _engine.correlate(x, w, bias=bias, force={"filtt": True, "skip_padding": False},
                                  **geometry)
        assert calls.pop() is False
        assert np.array_equal(_bits(every), _bits(gen))
        for nthreads in (1, 2):
            for extra in ({}, {"flat_chunk": 2 * plan.consts["chunk"] // 3 or 1},
                          {"filtt_taps": 2 * tpc}, {"filtt_group": 1}):
                y = _engine.correlate(x, w, bias=bias, nthreads=nthreads,
                                      force=dict({"filtt": True}, **extra), **geometry)
                assert calls.pop() is True
                assert np.array_equal(_bits(y), _bits(gen))


@pytest.mark.parametrize("level", LEVELS)
def test_non_finite_weights_and_negative_zero_bias_run_every_tap(level, monkeypatch):
    xs, ws, st, dl, pads, G = CASES[0]
    rng = np.random.default_rng(7)
    x = rng.standard_normal(xs).astype(np.float32)
    geometry = dict(stride=st, dilation=dl, pads=pads, groups=G, level=level)
    calls = _recording(monkeypatch, _dispatch.get_kernels(level))
    for bad in ("inf", "nan", "negzero"):
        w = rng.standard_normal(ws).astype(np.float32)
        b = np.zeros(ws[0], np.float32)
        if bad == "negzero":
            b[3] = -0.0
        else:
            w[2, 5, 0, 1] = np.inf if bad == "inf" else np.nan
        y = _engine.correlate(x, w, bias=b, force={"filtt": True}, **geometry)
        assert calls.pop() is False
        every = _engine.correlate(x, w, bias=b, force={"filtt": True, "skip_padding": False},
                                  **geometry)
        calls.pop()
        assert np.array_equal(_bits(y), _bits(every))
        if bad != "negzero":
            # 0 * inf at the padding: NaN in the top rows, as PyTorch gives
            assert np.isnan(y[:, 2, 0]).any()


def test_no_classes_without_padding_or_with_uneven_tap_blocks():
    kern = _dispatch.get_kernels(LEVELS[-1])
    geometry = dict(stride=(1, 1), dilation=(1, 1), groups=1, level=LEVELS[-1])
    valid = _engine.plan_correlate((1, 16, 14, 14), (32, 16, 3, 3), np.dtype("f"),
                                   force={"filtt": True}, pads=((0, 0), (0, 0)), **geometry)
    assert valid.consts["classes"] is None
    # padding along columns only: a tile of a row reads every kernel row
    cols = _engine.plan_correlate((1, 16, 14, 14), (32, 16, 1, 3), np.dtype("f"),
                                  force={"filtt": True}, pads=((0, 0), (1, 1)), **geometry)
    assert cols.consts["classes"] is None
    uneven = _engine.plan_correlate((1, 16, 14, 14), (32, 16, 3, 3), np.dtype("f"),
                                    force={"filtt": True, "filtt_taps": 5},
                                    pads=((1, 1), (1, 1)), **geometry)
    assert uneven.consts["classes"] is None
    assert kern is not None
