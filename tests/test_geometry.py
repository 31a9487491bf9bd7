"""The output-size formula and padding resolution (fastconv._geometry).

Checked three independent ways: by counting window positions (no formula),
against the TensorFlow 'same' rule written out here, and against the output
sizes PyTorch itself produces.
"""

import math

import numpy as np
import pytest

import fastconv
from fastconv import conv_output_shape, resolve_padding
from fastconv._geometry import normalize_tuple, output_length


def count_positions(n, k, s, d, lo, hi):
    """Number of window starts o*s (o = 0, 1, ...) whose dilated window of
    reach d*(k-1) fits in the padded length n + lo + hi: counted, not computed."""
    padded = n + lo + hi
    count = 0
    start = 0
    while start + d * (k - 1) <= padded - 1:
        count += 1
        start += s
    return count


def tf_same(n, k, s, d):
    """TensorFlow's 'SAME' rule, written from its documentation:
    out = ceil(n / s); total pad = max((out - 1)*s + d*(k-1) + 1 - n, 0);
    pad_before = total // 2 (the odd one goes after)."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return out, (total // 2, total - total // 2)


# ---------------------------------------------------------------- the formula

@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_formula_counts_window_positions(n, k, s, d):
    for lo, hi in [(0, 0), (1, 0), (0, 2), (2, 3)]:
        expected = count_positions(n, k, s, d, lo, hi)
        if expected < 1:
            with pytest.raises(ValueError, match="output size would be"):
                conv_output_shape((n,), k, s, ((lo, hi),), d)
            continue
        assert conv_output_shape((n,), k, s, ((lo, hi),), d) == (expected,)
        assert output_length(n, k, s, d, lo, hi) == expected


def test_documented_examples():
    assert conv_output_shape((224, 224), 7, stride=2, padding=3) == (112, 112)
    assert conv_output_shape((10,), 4, stride=3, padding="same") == (4,)
    assert conv_output_shape((32, 32, 32), 3, padding="valid", dilation=2) == (28, 28, 28)
    assert conv_output_shape(10, 3) == (8,)  # an int input shape is one axis


def test_per_axis_arguments():
    assert conv_output_shape((9, 10, 11), (1, 2, 3), stride=(1, 2, 3),
                             padding=((0, 0), (1, 0), (2, 1)), dilation=(3, 2, 1)) == (
        9, (10 + 1 - 2 - 1) // 2 + 1, (11 + 3 - 2 - 1) // 3 + 1)


# ------------------------------------------------------------------ 'same'

@pytest.mark.parametrize("n", [1, 2, 5, 6, 7, 10, 16])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("s", [1, 2, 3, 4])
@pytest.mark.parametrize("d", [1, 2])
def test_same_is_the_tf_rule_for_any_stride(n, k, s, d):
    out, pads = tf_same(n, k, s, d)
    assert resolve_padding("same", (n,), k, s, d) == (pads,)
    assert conv_output_shape((n,), k, s, "same", d) == (out,) == (math.ceil(n / s),)
    lo, hi = pads
    assert hi - lo in (0, 1)  # the odd one at the end


def test_same_even_kernel_puts_extra_at_the_end():
    assert resolve_padding("same", (10, 10), (4, 3)) == ((1, 2), (1, 1))
    assert resolve_padding("same", (10,), 2, dilation=3) == ((1, 2),)
    # stride > 1 may need no padding at all, or a single pad after
    assert resolve_padding("same", (10,), 3, stride=2) == ((0, 1),)
    assert resolve_padding("same", (9,), 3, stride=3) == ((0, 0),)
    assert resolve_padding("same", (4,), 1, stride=2) == ((0, 0),)


# ------------------------------------------------ the other named paddings

@pytest.mark.parametrize("k,d", [(1, 1), (2, 1), (3, 2), (4, 3)])
def test_named_paddings(k, d):
    r = d * (k - 1)
    assert resolve_padding("valid", (20, 20), k, 1, d) == ((0, 0), (0, 0))
    assert resolve_padding("causal", (20, 20, 20), k, 1, d) == ((r, 0),) * 3
    assert resolve_padding("full", (20,), k, 1, d) == ((r, r),)
    # causal keeps the length at stride 1, full adds the reach
    assert conv_output_shape((20, 7), k, 1, "causal", d) == (20, 7)
    assert conv_output_shape((20,), k, 1, "full", d) == (20 + r,)


def test_names_are_case_insensitive():
    assert resolve_padding("SAME", (8,), 3) == resolve_padding("same", (8,), 3)
    assert resolve_padding("Causal", (8,), 3) == ((2, 0),)


def test_int_tuple_and_pair_specs():
    assert resolve_padding(2, (5, 6), 3) == ((2, 2), (2, 2))
    assert resolve_padding((1, 3), (5, 6), 3) == ((1, 1), (3, 3))
    assert resolve_padding(((1, 0), (2, 2)), (5, 5), 3) == ((1, 0), (2, 2))
    assert resolve_padding(((1, 0), 4), (5, 5), 3) == ((1, 0), (4, 4))  # mixed
    assert resolve_padding([[0, 3]], (5,), 3) == ((0, 3),)  # lists are fine
    assert resolve_padding((2,), (5, 6, 7), 3) == ((2, 2),) * 3  # one entry broadcasts
    assert resolve_padding(np.int64(1), (5,), 3) == ((1, 1),)


# -------------------------------------------------- agreement with PyTorch

@pytest.mark.parametrize("n", [3, 7, 8])
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("p", [0, 1, 2])
def test_matches_pytorch_output_sizes(n, k, s, d, p):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    if n + 2 * p - d * (k - 1) - 1 < 0:
        with pytest.raises(ValueError, match="output size would be"):
            conv_output_shape((n, n + 1), k, s, p, d)
        with pytest.raises(RuntimeError):
            F.conv2d(torch.zeros(1, 1, n, n + 1), torch.zeros(1, 1, k, k), None, s, p, d)
        return
    y = F.conv2d(torch.zeros(1, 1, n, n + 1), torch.zeros(1, 1, k, k), None, s, p, d)
    assert conv_output_shape((n, n + 1), k, s, p, d) == tuple(y.shape[2:])


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_same_matches_pytorch_same_at_stride_1(k, d):
    """PyTorch's padding='same' (stride 1 only) is the TF rule's special case:
    total d*(k-1), the extra one after."""
    torch = pytest.importorskip("torch")
    import warnings
    n = 11
    x = torch.zeros(1, 1, n)
    x[0, 0, 0] = 1.0  # an impulse at the first sample shows the left pad
    w = torch.arange(1.0, k + 1).reshape(1, 1, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's even-kernel note
        y = torch.nn.functional.conv1d(x, w, padding="same", dilation=d)
    ((lo, hi),) = resolve_padding("same", (n,), k, 1, d)
    assert lo + hi == d * (k - 1)
    y2 = torch.nn.functional.conv1d(torch.nn.functional.pad(x, (lo, hi)), w, dilation=d)
    assert torch.equal(y, y2)


# --------------------------------------------------------------- errors

def test_output_below_one_names_axis_sizes_and_formula():
    with pytest.raises(ValueError) as exc:
        conv_output_shape((9, 5), (3, 7), dilation=(1, 2))
    msg = str(exc.value)
    assert "axis 1" in msg
    assert "n=5" in msg and "k=7" in msg and "d=2" in msg and "s=1" in msg
    assert "p_lo=0" in msg and "p_hi=0" in msg
    assert "floor((n + p_lo + p_hi - d*(k-1) - 1)/s) + 1" in msg
    with pytest.raises(ValueError, match=r"output size would be -3 \(< 1\) on spatial axis 0"):
        conv_output_shape((2,), 6)


@pytest.mark.parametrize("padding, exc, match", [
    ("foo", ValueError, r"padding must be 'valid', 'same', 'causal', 'full'.*got 'foo'"),
    (-1, ValueError, r"padding must be >= 0, got -1"),
    (((0, -1), (0, 0)), ValueError, r"padding must be >= 0"),
    ((1, -2), ValueError, r"padding must be >= 0"),
    ((1, 1, 1), ValueError, r"padding must have one entry per spatial axis \(2\)"),
    (1.5, TypeError, r"padding must be a str, an int or a tuple, got float 1.5"),
    (None, TypeError, r"padding must be a str, an int or a tuple, got NoneType"),
    (((1, 1, 1), (0, 0)), ValueError, r"padding entries must be ints or \(lo, hi\) pairs"),
    (((1.0, 1), (0, 0)), TypeError, r"padding amounts must be ints"),
])
def test_resolve_padding_errors(padding, exc, match):
    with pytest.raises(exc, match=match):
        resolve_padding(padding, (8, 8), 3)


@pytest.mark.parametrize("name, kwargs, exc, match", [
    ("stride", dict(stride=0), ValueError, r"stride must be >= 1 on every axis, got 0"),
    ("stride", dict(stride=(1, -1)), ValueError, r"stride must be >= 1 on every axis"),
    ("dilation", dict(dilation=(2, 0)), ValueError, r"dilation must be >= 1 on every axis"),
    ("stride", dict(stride=1.5), TypeError, r"stride must be an int or a tuple of 2 ints"),
    ("stride", dict(stride=(1, 1.0)), TypeError, r"stride must contain only ints"),
    ("stride", dict(stride=True), TypeError, r"stride must be an int or a tuple of 2 ints, "
                                             r"got bool"),
    ("stride", dict(stride=(1, 2, 3)), ValueError, r"stride must be an int or a tuple of 2 "
                                                   r"ints \(one per spatial axis\)"),
    ("kernel_size", dict(kernel_size=0), ValueError, r"kernel_size must be >= 1"),
])
def test_conv_output_shape_argument_errors(name, kwargs, exc, match):
    args = dict(input_shape=(8, 8), kernel_size=3)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        conv_output_shape(**args)


def test_normalize_tuple():
    assert normalize_tuple(2, 3, "stride") == (2, 2, 2)
    assert normalize_tuple((1, 2), 2, "stride") == (1, 2)
    assert normalize_tuple([3], 2, "dilation") == (3, 3)
    assert normalize_tuple(np.int32(4), 1, "x") == (4,)
    assert all(type(v) is int for v in normalize_tuple((np.int64(1), 2), 2, "x"))
    assert normalize_tuple(0, 2, "pad", minimum=0) == (0, 0)
    with pytest.raises(ValueError, match="pad must be >= 0"):
        normalize_tuple(-1, 2, "pad", minimum=0)


def test_public_names():
    assert fastconv.conv_output_shape is conv_output_shape
    assert fastconv.resolve_padding is resolve_padding
    assert {"conv_output_shape", "resolve_padding"} <= set(fastconv.__all__)
