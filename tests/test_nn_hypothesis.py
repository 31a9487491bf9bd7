"""Property tests (hypothesis) for fastconv.nn and the output-size formula.

Each drawn problem (rank 1-3, batch incl. 0, groups, channels, kernel,
stride, dilation, any padding spec, any padding mode, either layout) either
must raise the documented ValueError (kernel larger than the padded input,
reflect/circular padding too large) or must match the NumPy reference of
conftest.py and have the shape conv_output_shape predicts.  Tolerances: see
conftest.assert_conv_close (float64 1e-12 * sum|terms|; float32 the derived
worst-case bound).  Derandomized (fixed examples) and without a database, so
runs are reproducible and leave no files behind.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastconv import conv, conv_output_shape, resolve_padding
from conftest import assert_conv_close, random_array, reference_conv

SETTINGS = dict(deadline=None, derandomize=True, database=None)
MODES = ("zeros", "reflect", "replicate", "circular")


def per_axis(rank, elements):
    return st.tuples(*([elements] * rank))


@st.composite
def padding_specs(draw, rank):
    return draw(st.one_of(
        st.sampled_from(["valid", "same", "causal", "full", "SAME"]),
        st.integers(0, 3),
        per_axis(rank, st.integers(0, 3)),
        per_axis(rank, st.tuples(st.integers(0, 3), st.integers(0, 3))),
    ))


@st.composite
def problems(draw, max_rank=3):
    rank = draw(st.integers(1, max_rank))
    return dict(
        rank=rank,
        N=draw(st.integers(0, 2)),
        G=draw(st.integers(1, 3)),
        Cg=draw(st.integers(1, 2)),
        Fg=draw(st.integers(1, 2)),
        S=draw(per_axis(rank, st.integers(1, 8))),
        K=draw(per_axis(rank, st.integers(1, 4))),
        s=draw(per_axis(rank, st.integers(1, 3))),
        d=draw(per_axis(rank, st.integers(1, 3))),
        padding=draw(padding_specs(rank)),
        padding_mode=draw(st.sampled_from(MODES)),
        data_format=draw(st.sampled_from(["channels_first", "channels_last"])),
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2 ** 32 - 1)),
    )


def expected_error(p):
    """The ValueError pattern this problem must raise, or None."""
    try:
        pads = resolve_padding(p["padding"], p["S"], p["K"], p["s"], p["d"])
        conv_output_shape(p["S"], p["K"], p["s"], p["padding"], p["d"])
    except ValueError:
        return r"output size would be .* \(< 1\)", None
    for (lo, hi), n in zip(pads, p["S"]):
        if p["padding_mode"] == "reflect" and (lo >= n or hi >= n):
            return r"padding_mode='reflect' needs padding < input size", pads
        if p["padding_mode"] == "circular" and (lo > n or hi > n):
            return r"padding_mode='circular' needs padding <= input size", pads
    return None, pads


def run_problem(p, dtype):
    rng = np.random.default_rng(p["seed"])
    rank, G = p["rank"], p["G"]
    x = random_array(rng, (p["N"], G * p["Cg"]) + p["S"], dtype)
    w = random_array(rng, (G * p["Fg"], p["Cg"]) + p["K"], dtype)
    b = random_array(rng, (G * p["Fg"],), dtype) if p["bias"] else None
    xx, ww = x, w
    if p["data_format"] == "channels_last":
        xx = np.moveaxis(x, 1, -1)
        ww = np.transpose(w, tuple(range(2, 2 + rank)) + (1, 0))
    call = lambda: conv(xx, ww, b, p["s"], p["padding"], p["d"], G,
                        padding_mode=p["padding_mode"], data_format=p["data_format"],
                        workers=1)
    err, pads = expected_error(p)
    if err is not None:
        with pytest.raises(ValueError, match=err):
            call()
        return
    out = call()
    osp = conv_output_shape(p["S"], p["K"], p["s"], p["padding"], p["d"])
    F = G * p["Fg"]
    cl = p["data_format"] == "channels_last"
    assert out.shape == ((p["N"],) + osp + (F,) if cl else (p["N"], F) + osp)
    assert out.dtype == np.dtype(dtype)
    if p["N"] == 0:
        return
    ref, scale = reference_conv(x, w, b, p["s"], pads, p["d"], G, p["padding_mode"])
    if cl:
        ref, scale = np.moveaxis(ref, 1, -1), np.moveaxis(scale, 1, -1)
    assert_conv_close(out, ref, scale, dtype, p["Cg"] * math.prod(p["K"]))


@settings(max_examples=150, **SETTINGS)
@given(problems())
def test_float64_parity_with_reference(p):
    run_problem(p, np.float64)


@settings(max_examples=60, **SETTINGS)
@given(problems(), st.sampled_from([np.float32, np.complex64, np.complex128]))
def test_other_dtypes_parity_with_reference(p, dtype):
    run_problem(p, dtype)


@settings(max_examples=200, **SETTINGS)
@given(st.integers(1, 4).flatmap(lambda r: st.tuples(
    per_axis(r, st.integers(1, 40)), per_axis(r, st.integers(1, 6)),
    per_axis(r, st.integers(1, 5)), per_axis(r, st.integers(1, 4)), padding_specs(r))))
def test_output_shape_formula(args):
    """conv_output_shape == the number of window positions that fit (counted),
    'same' gives ceil(n/s) with the TF pads, 'causal' and 'full' their pads."""
    S, K, s, d, padding = args
    pads = resolve_padding(padding, S, K, s, d)
    counts = []
    for n, k, si, di, (lo, hi) in zip(S, K, s, d, pads):
        c, start = 0, 0
        while start + di * (k - 1) <= n + lo + hi - 1:
            c, start = c + 1, start + si
        counts.append(c)
    if min(counts) < 1:
        axis = counts.index(min(counts))
        with pytest.raises(ValueError, match=rf"on spatial axis {axis}: out = floor"):
            conv_output_shape(S, K, s, padding, d)
        return
    assert conv_output_shape(S, K, s, padding, d) == tuple(counts)
    name = padding.lower() if isinstance(padding, str) else None
    for n, k, si, di, (lo, hi), c in zip(S, K, s, d, pads, counts):
        reach = di * (k - 1)
        if name == "same":
            assert c == -(-n // si)
            total = max((c - 1) * si + reach + 1 - n, 0)
            assert (lo, hi) == (total // 2, total - total // 2)
        elif name == "causal":
            assert (lo, hi) == (reach, 0)
        elif name == "full":
            assert (lo, hi) == (reach, reach)
        elif name == "valid":
            assert (lo, hi) == (0, 0)


@settings(max_examples=40, **SETTINGS)
@given(problems())
def test_workers_do_not_change_a_bit(p):
    err, _ = expected_error(p)
    if err is not None:
        return
    rng = np.random.default_rng(p["seed"])
    G, rank = p["G"], p["rank"]
    x = rng.standard_normal((p["N"], G * p["Cg"]) + p["S"]).astype(np.float32)
    w = rng.standard_normal((G * p["Fg"], p["Cg"]) + p["K"]).astype(np.float32)
    if p["data_format"] == "channels_last":
        x = np.moveaxis(x, 1, -1)
        w = np.transpose(w, tuple(range(2, 2 + rank)) + (1, 0))
    kw = dict(stride=p["s"], padding=p["padding"], dilation=p["d"], groups=G,
              padding_mode=p["padding_mode"], data_format=p["data_format"])
    a = conv(x, w, workers=1, **kw)
    b = conv(x, w, workers=2, **kw)
    assert np.array_equal(a.view(np.uint32), b.view(np.uint32))
