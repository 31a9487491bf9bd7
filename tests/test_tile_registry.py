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


@pytest.mark.parametrize("level,name", [e for e in ENTRIES if e[1].startswith("fc_filtt")])
@pytest.mark.parametrize("variant", [1, 2])
def test_filtt_row_variants_bitwise_equal_the_general_tile(level, name, variant):
    """Each FILTT entry's variants for positions 1 or 2 apart in one row
    (fn_c1 / fn_c2: one input pointer instead of R) give the general
    function's bits for those positions."""
    kern = _dispatch.get_kernels(level)
    t = _entry(level, name)
    dtype = np.float32 if t["dtype"] == "f" else np.float64
    R, pf = t["shape"][0], t["shape"][1] * t["lanes"]
    rng = np.random.default_rng(variant)
    x = rng.standard_normal(400).astype(dtype)
    toff = np.array([0, 3, 1, 40, 41, 77, 150, 2, 151, 300], dtype=np.intp)
    wp = rng.standard_normal(len(toff) * pf).astype(dtype)
    index = t["index"]
    for p0 in (0, 5, 17):
        pos = (p0 + variant * np.arange(R)).astype(np.intp)
        ref = np.zeros(R * pf, dtype)
        kern.filtt_tile(x, toff, wp, pos, ref, index, 0)
        got = np.full(R * pf, np.nan, dtype)
        # the variant reads pos[0] only: the others are poisoned
        poisoned = pos.copy()
        poisoned[1:] = -10 ** 6
        kern.filtt_tile(x, toff, wp, poisoned, got, index, variant)
        bits = np.uint32 if dtype == np.float32 else np.uint64
        assert np.array_equal(got.view(bits), ref.view(bits)), (p0, variant)
        # and the sums are the products' sums (the general tile is right)
        expect = np.einsum("tj,rt->rj", wp.reshape(len(toff), pf).astype(np.float64),
                           x[pos[:, None] + toff[None, :]].astype(np.float64))
        np.testing.assert_allclose(ref.reshape(R, pf), expect, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("level", [lv for lv in LEVELS
                                   if _engine._filtt_tile(_dispatch.get_kernels(lv), "f")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sw", [1, 2, 3])
def test_filtt_row_variants_in_the_engine_bitwise_generic(level, dtype, sw):
    """The driver runs a tile on its row variant only when the tile's
    positions lie in one row, sw apart (column strides 1 and 2): widths
    that put some tiles in one row and others across two, with and without
    the variants, give the generic kernel's bits."""
    rng = np.random.default_rng(sw)
    for W in (9, 29, 64):
        geometry = dict(stride=(1, sw), dilation=(1, 1), pads=((1, 1), (1, 1)), groups=1,
                        relu=False, level=level)
        x = rng.standard_normal((2, 6, 7, W)).astype(dtype)
        w = rng.standard_normal((19, 6, 3, 3)).astype(dtype)
        gen = _engine.correlate(x, w, nthreads=1, force={"generic": True}, **geometry)
        bits = np.uint32 if dtype == np.float32 else np.uint64
        for contiguous in (True, False):
            plan = _engine.plan_correlate(x.shape, w.shape, x.dtype,
                                          force={"filtt": True, "contiguous": contiguous},
                                          **geometry)
            assert plan.path == "filtt" and plan.consts["contiguous"] == contiguous
            for nthreads in (1, 2):
                y = _engine.correlate(x, w, nthreads=nthreads, plan=plan, **geometry)
                assert np.array_equal(y.view(bits), gen.view(bits)), (W, contiguous)
