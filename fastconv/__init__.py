"""fastconv: fast, exact N-D convolution and cross-correlation.

Typed Cython loops run in parallel with OpenMP behind thin Python APIs:

* CNN functions (PyTorch/Keras semantics): :func:`conv`, :func:`conv1d`,
  :func:`conv2d`, :func:`conv3d`;
* transposed convolution: :func:`conv_transpose`, :func:`conv_transpose1d`,
  :func:`conv_transpose2d`, :func:`conv_transpose3d`;
* gradients of the CNN functions: :func:`conv_backward`,
  :func:`conv_grad_input`, :func:`conv_grad_weight`;
* layers with trainable weights (Keras arguments): ``fastconv.layers``
  (``Conv1D``, ``Conv2D``, ``Conv3D``);
* SciPy drop-ins: :func:`convolve`, :func:`correlate`, :func:`convolve2d`,
  :func:`correlate2d`, :func:`fftconvolve`, :func:`oaconvolve`,
  :func:`choose_conv_method` (``scipy.signal``) and ``fastconv.ndimage``
  (``scipy.ndimage``'s ``convolve``, ``correlate``, ``convolve1d``,
  ``correlate1d``);
* the output-size formula: :func:`conv_output_shape`, :func:`resolve_padding`;
* build and runtime facts: :func:`show_config`.
"""

__version__ = "0.1.0"

# first: sets the wait policy of fastconv's OpenMP runtime before it loads
from fastconv import _threads  # noqa: F401
from fastconv._config import show_config
from fastconv._geometry import conv_output_shape, resolve_padding
from fastconv.nn import conv, conv1d, conv2d, conv3d
from fastconv._autograd import conv_backward, conv_grad_input, conv_grad_weight
from fastconv._transpose import (conv_transpose, conv_transpose1d, conv_transpose2d,
                                 conv_transpose3d)
from fastconv import layers
from fastconv.signal import (choose_conv_method, convolve, convolve2d, correlate, correlate2d,
                             fftconvolve, oaconvolve)
from fastconv import ndimage

__all__ = [
    "__version__",
    "show_config",
    "conv_output_shape",
    "resolve_padding",
    "conv",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_backward",
    "conv_grad_input",
    "conv_grad_weight",
    "conv_transpose",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "convolve",
    "correlate",
    "convolve2d",
    "correlate2d",
    "fftconvolve",
    "oaconvolve",
    "choose_conv_method",
    "ndimage",
]
