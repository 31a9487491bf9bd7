"""Every tile of the registry (fastconv/_tiles.inc, exported by each kernel
module as ``capabilities()``) against the generic kernel, at every SIMD level.

Each FILT and FILTT entry is forced through ``force={'tile': name}`` of
``_engine.plan_correlate`` (the plan records which tile it runs) on
geometries with partial tiles, groups, padding, strides and dilation, and
must give the same bits as the generic kernel at that level, for 1 and 2
threads.  ROWS entries are listed by name; their drivers are tested in
tests/test_tiles.py.
"""

import numpy as np
import pytest

from fastconv import _dispatch, _engine

LEVELS = _dispatch.supported_levels()


def _entries():
    out = []
    for level in LEVELS:
        for t in _dispatch.get_kernels(level).capabilities():
            out.append((level, t["name"]))
    return out


ENTRIES = _entries()

# (N, Cg, Fg, G, spatial, kernel, stride, dilation, pads)
GEOMETRIES = [
    (2, 5, 21, 1, (7, 30), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),
    (1, 3, 9, 2, (9, 19), (2, 3), (1, 1), (2, 1), ((0, 1), (2, 2))),
    (1, 4, 11, 1, (13, 23), (3, 3), (2, 2), (2, 2), ((2, 2), (2, 2))),
    (2, 6, 5, 1, (41,), (4,), (1,), (3,), ((3, 2),)),
    (1, 2, 7, 1, (5, 6, 9), (3, 2, 3), (1, 1, 1), (1, 1, 1), ((1, 1), (0, 1), (1, 1))),
]


def _entry(level, name):
    return next(t for t in _dispatch.get_kernels(level).capabilities() if t["name"] == name)


def test_registry_fields():
    for level in LEVELS:
        caps = _dispatch.get_kernels(level).capabilities()
        assert len({t["name"] for t in caps}) == len(caps)
        for t in caps:
            assert t["kind"] in ("FILT", "FILTT", "ROWS")
            assert t["dtype"] in ("f", "d")
            assert t["name"].startswith("fc_" + t["kind"].lower() + "_")
            assert t["lanes"] in (2, 4, 8, 16)
            a, b = t["shape"]
            assert a >= 1 and b >= 1 and t["vregs"] > a * b
        kinds = {(t["kind"], t["dtype"]) for t in caps if t["fits"]}
        # every level runs FILT and ROWS tiles without spills in both dtypes
        for dt in "fd":
            assert ("FILT", dt) in kinds and ("ROWS", dt) in kinds


def test_plan_takes_the_largest_fitting_tiles():
    for level in LEVELS:
        kern = _dispatch.get_kernels(level)
        fits = [t for t in kern.capabilities() if t["fits"] and t["kind"] == "FILT"
                and t["dtype"] == "f" and not t["narrow"]]
        assert _engine._filt_pmax(kern, "f") == max(t["shape"][0] for t in fits)
        ft = _engine._filtt_tile(kern, "f")
        assert ft is None or ft["fits"]


def test_unknown_tile_is_refused():
    x = np.zeros((1, 2, 5, 5), np.float32)
    w = np.zeros((3, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match="tile 'fc_nope' is not in this level's registry"):
        _engine.plan_correlate(x.shape, w.shape, x.dtype, stride=(1, 1), dilation=(1, 1),
                               pads=((0, 0), (0, 0)), force={"tile": "fc_nope"})


@pytest.mark.parametrize("level,name", [e for e in ENTRIES if not e[1].startswith("fc_rows")])
@pytest.mark.parametrize("geo", range(len(GEOMETRIES)))
def test_tile_bitwise_equals_generic(level, name, geo):
    t = _entry(level, name)
    dtype = np.float32 if t["dtype"] == "f" else np.float64
    N, Cg, Fg, G, S, K, st, d, pads = GEOMETRIES[geo]
    rng = np.random.default_rng(geo)
    x = rng.standard_normal((N, Cg * G) + S).astype(dtype)
    w = rng.standard_normal((Fg * G, Cg) + K).astype(dtype)
    b = rng.standard_normal(Fg * G).astype(dtype)
    geometry = dict(stride=st, dilation=d, pads=pads, groups=G, relu=geo % 2 == 0,
                    level=level)
    plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, force={"tile": name},
                                  **geometry)
    assert plan.consts["tile"] == name
    assert plan.path == ("filtt" if t["kind"] == "FILTT" else plan.path)
    gen = _engine.correlate(x, w, bias=b, nthreads=1, force={"generic": True}, **geometry)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    for nthreads in (1, 2):
        y = _engine.correlate(x, w, bias=b, nthreads=nthreads, plan=plan, **geometry)
        assert np.array_equal(y.view(bits), gen.view(bits)), (level, name, nthreads)
