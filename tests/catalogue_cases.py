"""The bad-input catalogue (issue 13): odd or hostile inputs for every public
function, each one line of Python.

``cases()`` returns ``[(case_id, code), ...]``.  `code` is an expression
evaluated with ``np`` (NumPy) and ``fc`` (fastconv) in scope, after the
operand variables of :data:`PRELUDE` are defined.  The runner
(tests/catalogue_runner.py) classifies each outcome: ``ok`` (returned),
``clear`` (ValueError/TypeError/MemoryError with a message of fastconv's or
SciPy's own), ``unclear`` (another exception, or NumPy's internal text),
``modified`` (an input changed), and, from the parent process, ``crash``
and ``hang``.
"""

import itertools

PRELUDE = """
import numpy as np
import fastconv as fc
from fastconv import ndimage as fnd
rng = np.random.default_rng(0)
f64 = rng.standard_normal((6, 7))
f32 = f64.astype(np.float32)
k33 = rng.standard_normal((3, 3))
v8 = rng.standard_normal(8)
x4 = rng.standard_normal((2, 3, 8, 8))
w4 = rng.standard_normal((4, 3, 3, 3))
x3 = rng.standard_normal((2, 3, 16))
w3 = rng.standard_normal((4, 3, 3))
"""

# operands for the SciPy-style functions: (name, expression)
SIGNAL_OPERANDS = [
    ("empty1d", "np.zeros(0)"),
    ("empty2d", "np.zeros((0, 3))"),
    ("empty2d_b", "np.zeros((3, 0))"),
    ("scalar0d", "np.array(2.0)"),
    ("nan", "np.full((4, 4), np.nan)"),
    ("inf", "np.array([[np.inf, -np.inf], [1.0, np.inf]])"),
    ("huge", "np.full((3, 3), 1e308)"),
    ("tiny", "np.full((3, 3), 5e-324)"),
    ("f16", "f64.astype(np.float16)"),
    ("longdouble", "f64.astype(np.longdouble)"),
    ("clongdouble", "f64.astype(np.clongdouble)"),
    ("complex_inf", "np.array([[complex(-np.inf, 0), 1j]])"),
    ("bool", "f64 > 0"),
    ("int8min", "np.full((3, 3), -128, np.int8)"),
    ("uint64max", "np.full((3, 3), 2**64 - 1, np.uint64)"),
    ("int64big", "np.full((3, 3), 2**62, np.int64)"),
    ("bigendian", "f64.astype('>f8')"),
    ("bigendian32", "f64.astype('>f4')"),
    ("noncontig", "f64[::2, ::-1]"),
    ("fortran", "np.asfortranarray(f64)"),
    ("readonly", "np.frombuffer(f64.tobytes(), dtype=np.float64).reshape(6, 7)"),
    ("broadcast", "np.broadcast_to(np.float64(1.5), (2**20, 2**20))"),
    ("broadcast_int", "np.broadcast_to(np.int64(3), (2**29, 2**29))"),
    ("object_num", "np.array([[1, 2], [3, 4]], dtype=object)"),
    ("object_str", "np.array([['a', 'b']], dtype=object)"),
    ("object_none", "np.array([[None, None]], dtype=object)"),
    ("structured", "np.zeros((2, 3), dtype=[('a', 'f8')])"),
    ("datetime", "np.zeros((2, 3), dtype='M8[s]')"),
    ("timedelta", "np.zeros((2, 3), dtype='m8[s]')"),
    ("strings", "np.array([['a', 'b']])"),
    ("bytes", "np.array([[b'a', b'b']])"),
    ("list", "[[1.0, 2.0], [3.0, 4.0]]"),
    ("ragged", "[[1.0, 2.0], [3.0]]"),
    ("none", "None"),
    ("string_arg", "'abc'"),
    ("dict", "{'a': 1}"),
    ("rank5", "np.ones((2, 1, 2, 1, 2))"),
    ("long1d", "np.ones(2**16)"),
    ("masked", "np.ma.masked_array(f64, mask=f64 > 1)"),
    ("matrix", "np.asmatrix(f64)"),
]

SIGNAL_FUNCS = [
    ("convolve", "fc.convolve({a}, {b})"),
    ("correlate", "fc.correlate({a}, {b})"),
    ("convolve_direct", "fc.convolve({a}, {b}, method='direct')"),
    ("correlate_fft", "fc.correlate({a}, {b}, method='fft')"),
    ("fftconvolve", "fc.fftconvolve({a}, {b})"),
    ("oaconvolve", "fc.oaconvolve({a}, {b})"),
    ("choose", "fc.choose_conv_method({a}, {b})"),
    ("convolve2d", "fc.convolve2d({a}, {b})"),
    ("correlate2d_wrap", "fc.correlate2d({a}, {b}, boundary='wrap')"),
]

NDIMAGE_FUNCS = [
    ("nd_correlate", "fnd.correlate({a}, {b})"),
    ("nd_convolve", "fnd.convolve({a}, {b}, mode='constant')"),
    ("nd_correlate1d", "fnd.correlate1d({a}, [1.0, -2.0, 0.5])"),
    ("nd_convolve1d", "fnd.convolve1d({a}, [1.0, 2.0], axis=0)"),
]

# argument values for the SciPy-style functions with good operands
SIGNAL_ARGS = [
    ("mode_bad", "fc.convolve(f64, k33, mode='chips')"),
    ("mode_int", "fc.convolve(f64, k33, mode=1)"),
    ("mode_none", "fc.correlate(f64, k33, mode=None)"),
    ("method_bad", "fc.convolve(f64, k33, method='bacon')"),
    ("axes_bool", "fc.convolve(f64, k33, axes=True)"),
    ("axes_big", "fc.convolve(f64, k33, axes=5)"),
    ("axes_dup", "fc.convolve(f64, k33, axes=(0, 0))"),
    ("axes_float", "fc.convolve(f64, k33, axes=0.5)"),
    ("axes_empty", "fc.fftconvolve(f64, k33, axes=())"),
    ("workers0", "fc.convolve(f64, k33, workers=0)"),
    ("workers_neg_huge", "fc.convolve(f64, k33, workers=-1000)"),
    ("workers_str", "fc.convolve(f64, k33, workers='2')"),
    ("workers_float", "fc.convolve(f64, k33, workers=2.5)"),
    ("workers_huge", "fc.convolve(f64, k33, workers=64)"),
    ("boundary_bad", "fc.convolve2d(f64, k33, boundary='nope')"),
    ("fillvalue_str", "fc.convolve2d(f64, k33, fillvalue='x')"),
    ("fillvalue_array", "fc.convolve2d(f64, k33, fillvalue=np.ones(2))"),
    ("fillvalue_complex", "fc.convolve2d(f64, k33, fillvalue=1j)"),
    ("measure", "fc.choose_conv_method(f64, k33, measure=True)"),
    ("valid_mismatch", "fc.convolve(np.ones((4, 5)), np.ones((5, 4)), mode='valid')"),
    ("rank_mismatch", "fc.correlate(np.ones(3), np.ones((3, 3)))"),
    ("nd_mode_bad", "fnd.correlate(f64, k33, mode='bogus')"),
    ("nd_origin_big", "fnd.correlate(f64, k33, origin=5)"),
    ("nd_origin_float", "fnd.correlate(f64, k33, origin=0.5)"),
    ("nd_cval_str", "fnd.correlate(f64, k33, mode='constant', cval='a')"),
    ("nd_output_wrong", "fnd.correlate(f64, k33, output=np.zeros((2, 2)))"),
    ("nd_output_int", "fnd.correlate(f64, k33, output=np.int16)"),
    ("nd_weights_empty", "fnd.correlate1d(f64, [])"),
    ("nd_axis_big", "fnd.correlate1d(f64, [1.0], axis=7)"),
    ("nd_weights_rank", "fnd.correlate(f64, np.ones(3))"),
]

# geometry values for the CNN functions
GEOM_VALUES = {
    "stride": ["0", "-1", "2**31", "2**62", "2**63", "2**64", "10**12", "1.5", "'2'", "(1,)",
               "(1, 2, 3)", "True", "None", "np.int64(2)"],
    "padding": ["-1", "2**40", "2**62", "2**63", "'nope'", "'SAME'", "((1, 2),)",
                "((1, 2, 3), (1, 1))", "1.5", "((-1, 0), (0, 0))", "None", "[1, 1]"],
    "dilation": ["0", "-2", "2**31", "2**62", "10**12", "2.0", "(1, 0)"],
    "groups": ["0", "-1", "2", "3", "1.0", "True", "None", "2**62"],
}

CNN_FUNCS = [
    ("conv2d", "fc.conv2d(x4, w4, {arg}={val})"),
    ("conv2d_pad1", "fc.conv2d(x4, w4, padding=1, {arg}={val})"),
    ("conv1d", "fc.conv1d(x3, w3, {arg}={val})"),
    ("conv_t2d", "fc.conv_transpose2d(x4, w4.transpose(1, 0, 2, 3), {arg}={val})"),
    ("grad_input", "fc.conv_grad_input(x4.shape, w4, fc.conv2d(x4, w4, padding=1), "
                   "padding=1, {arg}={val})"),
    ("grad_weight", "fc.conv_grad_weight(x4, w4.shape, fc.conv2d(x4, w4, padding=1), "
                    "padding=1, {arg}={val})"),
]

CNN_OTHER = [
    ("conv_int_dtype", "fc.conv2d(x4.astype(int), w4)"),
    ("conv_bool_dtype", "fc.conv2d(x4 > 0, w4)"),
    ("conv_f16", "fc.conv2d(x4.astype(np.float16), w4)"),
    ("conv_complex", "fc.conv2d(x4 + 1j, w4)"),
    ("conv_object", "fc.conv2d(x4.astype(object), w4)"),
    ("conv_rank_mismatch", "fc.conv2d(x3, w4)"),
    ("conv_channels_mismatch", "fc.conv2d(x4, np.ones((4, 2, 3, 3)))"),
    ("conv_kernel_too_big", "fc.conv2d(x4, np.ones((4, 3, 9, 9)))"),
    ("conv_kernel_zero", "fc.conv2d(x4, np.ones((4, 3, 0, 3)))"),
    ("conv_empty_batch", "fc.conv2d(np.ones((0, 3, 8, 8)), w4)"),
    ("conv_zero_channels", "fc.conv2d(np.ones((1, 0, 8, 8)), np.ones((4, 0, 3, 3)))"),
    ("conv_zero_filters", "fc.conv2d(x4, np.ones((0, 3, 3, 3)))"),
    ("conv_empty_spatial", "fc.conv2d(np.ones((1, 3, 0, 8)), w4)"),
    ("conv_bias_shape", "fc.conv2d(x4, w4, np.ones(3))"),
    ("conv_bias_nan", "fc.conv2d(x4, w4, np.full(4, np.nan))"),
    ("conv_nan_input", "fc.conv2d(np.full((1, 3, 8, 8), np.nan), w4)"),
    ("conv_inf_weight", "fc.conv2d(x4, np.full((4, 3, 3, 3), np.inf), padding=1)"),
    ("conv_huge_values", "fc.conv2d(np.full((1, 3, 8, 8), 1e308), w4)"),
    ("conv_format_bad", "fc.conv2d(x4, w4, data_format='NCHW')"),
    ("conv_format_int", "fc.conv2d(x4, w4, data_format=1)"),
    ("conv_padmode_bad", "fc.conv2d(x4, w4, padding=1, padding_mode='mirror')"),
    ("conv_reflect_too_big", "fc.conv2d(x4, w4, padding=8, padding_mode='reflect')"),
    ("conv_circular_too_big", "fc.conv2d(x4, w4, padding=9, padding_mode='circular')"),
    ("conv_replicate_big", "fc.conv2d(x4, w4, padding=300, padding_mode='replicate')"),
    ("conv_activation_bad", "fc.conv2d(x4, w4, activation='swish')"),
    ("conv_activation_int", "fc.conv2d(x4, w4, activation=3)"),
    ("conv_complex_relu", "fc.conv2d(x4 + 1j, w4, activation='relu')"),
    ("conv_weight_rank1", "fc.conv(x4, np.ones(3))"),
    ("conv_channels_last", "fc.conv2d(x4.transpose(0, 2, 3, 1), w4.transpose(2, 3, 1, 0), "
                           "data_format='channels_last', stride=2**40, padding='same')"),
    ("conv_same_stride_huge", "fc.conv2d(x4, w4, stride=10**15, padding='same')"),
    ("conv_causal_dil_huge", "fc.conv1d(x3, w3, dilation=10**9, padding='causal')"),
    ("conv_full_dil_huge", "fc.conv1d(x3, w3, dilation=10**9, padding='full')"),
    ("conv_unbatched", "fc.conv2d(x4[0], w4, stride=2**50, padding=3)"),
    ("conv3d_huge_stride", "fc.conv3d(np.ones((1, 1, 2, 2, 2)), np.ones((1, 1, 1, 1, 1)), "
                           "stride=(2**62, 1, 2**33))"),
    ("conv_rank4_stride", "fc.conv(np.ones((1, 1, 3, 3, 3, 3)), np.ones((1, 1, 2, 2, 2, 2)), "
                          "stride=10**9, padding=1)"),
    ("conv_t_outpad_big", "fc.conv_transpose2d(x4, w4.transpose(1, 0, 2, 3), "
                          "output_padding=3)"),
    ("conv_t_stride_out_huge", "fc.conv_transpose1d(x3, w3.transpose(1, 0, 2), "
                               "stride=2**62)"),
    ("conv_t_padding_str", "fc.conv_transpose1d(x3, w3.transpose(1, 0, 2), "
                           "padding='same')"),
    ("conv_t_stride_big_1x1", "fc.conv_transpose2d(np.ones((1, 1, 1, 1)), "
                              "np.ones((1, 1, 1, 1)), stride=2**31)"),
    ("conv_t_dil_pad_huge", "fc.conv_transpose1d(x3, w3.transpose(1, 0, 2), "
                            "dilation=10**9, padding=10**9)"),
    ("backward_flag_str", "fc.conv_backward(fc.conv2d(x4, w4), x4, w4, input_grad='no')"),
    ("backward_activation_callable", "fc.conv_backward(fc.conv2d(x4, w4), x4, w4, "
                                     "activation=np.tanh)"),
    ("backward_gradout_shape", "fc.conv_backward(np.ones((2, 4, 5, 5)), x4, w4)"),
    ("backward_stride_huge", "fc.conv_backward(np.ones((2, 4, 1, 1)), x4, w4, "
                             "stride=10**12, padding=1)"),
    ("grad_input_shape_neg", "fc.conv_grad_input((2, 3, -8, 8), w4, np.ones((2, 4, 6, 6)))"),
    ("grad_input_shape_str", "fc.conv_grad_input('abc', w4, np.ones((2, 4, 6, 6)))"),
    ("grad_weight_shape_float", "fc.conv_grad_weight(x4, (4, 3, 3.0, 3), "
                                "np.ones((2, 4, 6, 6)))"),
    ("output_shape_neg", "fc.conv_output_shape((4,), 9)"),
    ("output_shape_huge", "fc.conv_output_shape((4,), 3, stride=2**70)"),
    ("resolve_padding_bad", "fc.resolve_padding('bogus', (4,), 3)"),
]


def cases():
    out = []
    for (fname, ftpl), (an, a) in itertools.product(SIGNAL_FUNCS, SIGNAL_OPERANDS):
        out.append((f"{fname}[{an},k33]", ftpl.format(a=a, b="k33")))
        out.append((f"{fname}[f64,{an}]", ftpl.format(a="f64", b=a)))
    for (fname, ftpl), (an, a) in itertools.product(NDIMAGE_FUNCS, SIGNAL_OPERANDS):
        out.append((f"{fname}[{an}]", ftpl.format(a=a, b="k33" if "1d" not in fname else "")))
    out.extend(SIGNAL_ARGS)
    for (fname, ftpl), (arg, vals) in itertools.product(CNN_FUNCS, GEOM_VALUES.items()):
        if arg == "padding" and "padding=" in ftpl:
            continue      # the template passes its own padding
        if fname.startswith("conv_t") and arg == "padding":
            vals = [v for v in vals if not v.startswith("'")]
        for v in vals:
            out.append((f"{fname}[{arg}={v}]", ftpl.format(arg=arg, val=v)))
    out.extend(CNN_OTHER)
    return out
