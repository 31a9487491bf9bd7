"""Benchmarks, CNN layers, channels-first (PyTorch layout), float32.

========== =============================================== (FASTCONV_ASV_SMALL=1)
layer      shape                                           small
========== =============================================== ====================
conv2d     N=16, 64->64, 56x56, 3x3, stride 1, padding 1   N=2, 14x14
stem       N=16, 3->64, 224x224, 7x7, stride 2, padding 3  N=2, 32x32
deep       N=16, 256->256, 14x14, 3x3, padding 1           N=2, 7x7
pointwise  N=16, 64->64, 56x56, 1x1                        N=2, 14x14
depthwise  N=16, 128 channels, groups=128, 56x56, 3x3, p 1 N=2, 14x14
conv1d     N=16, 64->64, length 4096, k=7, padding 3       N=2, length 512
conv3d     N=4, 16->32, 32^3, 3x3x3, padding 1             N=1, 8^3
backward   input and weight gradients of conv2d            as conv2d
========== =============================================== ====================

Peer: PyTorch CPU (``torch.nn.functional.conv{1,2,3}d`` under ``no_grad``,
and ``torch.ops.aten.convolution_backward`` for the gradients), same layout
and the same number of threads (``torch.set_num_threads(workers)``).

Compare two commits on this file only (run from ``asv_benchmarks/``)::

    asv continuous -e -f 1.1 --bench "bench_d_cnn" main HEAD
"""

from .common import (Benchmark, WORKERS, check_threads, fastconv_function, pick,
                     random_array, torch_peer)

# name: (input shape, weight shape, stride, padding, groups)
LAYERS = {
    "conv2d": (pick((16, 64, 56, 56), (2, 64, 14, 14)), (64, 64, 3, 3), 1, 1, 1),
    "stem": (pick((16, 3, 224, 224), (2, 3, 32, 32)), (64, 3, 7, 7), 2, 3, 1),
    "deep": (pick((16, 256, 14, 14), (2, 256, 7, 7)), (256, 256, 3, 3), 1, 1, 1),
    "pointwise": (pick((16, 64, 56, 56), (2, 64, 14, 14)), (64, 64, 1, 1), 1, 0, 1),
    "depthwise": (pick((16, 128, 56, 56), (2, 128, 14, 14)), (128, 1, 3, 3), 1, 1, 128),
    "conv1d": (pick((16, 64, 4096), (2, 64, 512)), (64, 64, 7), 1, 3, 1),
    "conv3d": (pick((4, 16, 32, 32, 32), (1, 16, 8, 8, 8)), (32, 16, 3, 3, 3), 1, 1, 1),
}
DTYPES_D = ("float32",)  # the CNN section is float32; add "float64" here to widen it


class _CNN(Benchmark):
    params = [tuple(LAYERS), DTYPES_D, WORKERS]
    param_names = ["layer", "dtype", "workers"]

    def make_data(self, layer, dtype):
        x_shape, w_shape, self.stride, self.padding, self.groups = LAYERS[layer]
        self.rank = len(w_shape) - 2
        self.x = random_array(x_shape, dtype, seed=6)
        self.w = random_array(w_shape, dtype, seed=7)


class CNNFastconv(_CNN):
    """``fastconv.conv{1,2,3}d(x, w, stride=, padding=, groups=, workers=)``."""

    def setup(self, layer, dtype, workers):
        self.make_data(layer, dtype)
        self.conv = fastconv_function(f"conv{self.rank}d")
        check_threads(workers)

    def _call(self, workers):
        self.conv(self.x, self.w, stride=self.stride, padding=self.padding,
                  groups=self.groups, workers=workers)

    def time_forward(self, layer, dtype, workers):
        self._call(workers)

    def peakmem_forward(self, layer, dtype, workers):
        self._call(workers)


class CNNTorch(_CNN):
    """``torch.nn.functional.conv{1,2,3}d`` under ``torch.no_grad()``."""

    def setup(self, layer, dtype, workers):
        self.make_data(layer, dtype)
        self.torch = torch_peer(workers)
        self.conv = getattr(self.torch.nn.functional, f"conv{self.rank}d")
        self.xt = self.torch.from_numpy(self.x)
        self.wt = self.torch.from_numpy(self.w)

    def _call(self):
        with self.torch.no_grad():
            self.conv(self.xt, self.wt, stride=self.stride, padding=self.padding,
                      groups=self.groups)

    def time_forward(self, layer, dtype, workers):
        self._call()

    def peakmem_forward(self, layer, dtype, workers):
        self._call()


class _Backward(Benchmark):
    """Gradients for input and weight of the first conv2d layer (no bias)."""

    params = [DTYPES_D, WORKERS]
    param_names = ["dtype", "workers"]

    def make_data(self, dtype):
        x_shape, w_shape, self.stride, self.padding, self.groups = LAYERS["conv2d"]
        self.x = random_array(x_shape, dtype, seed=6)
        self.w = random_array(w_shape, dtype, seed=7)
        self.gy = random_array(x_shape[:1] + w_shape[:1] + x_shape[2:], dtype, seed=8)


class CNNBackwardFastconv(_Backward):
    """``fastconv.conv_backward(gy, x, w, ..., input_grad=True, weight_grad=True)``."""

    def setup(self, dtype, workers):
        self.backward = fastconv_function("conv_backward")
        check_threads(workers)
        self.make_data(dtype)

    def _call(self, workers):
        self.backward(self.gy, self.x, self.w, stride=self.stride, padding=self.padding,
                      groups=self.groups, input_grad=True, weight_grad=True,
                      workers=workers)

    def time_backward(self, dtype, workers):
        self._call(workers)

    def peakmem_backward(self, dtype, workers):
        self._call(workers)


class CNNBackwardTorch(_Backward):
    """``torch.ops.aten.convolution_backward`` with output mask (input, weight)."""

    def setup(self, dtype, workers):
        self.torch = torch_peer(workers)
        self.make_data(dtype)
        self.xt, self.wt, self.gyt = (self.torch.from_numpy(a) for a in (self.x, self.w, self.gy))

    def _call(self):
        s, p = [self.stride] * 2, [self.padding] * 2
        self.torch.ops.aten.convolution_backward(
            self.gyt, self.xt, self.wt, None, s, p, [1, 1], False, [0, 0], self.groups,
            [True, True, False])

    def time_backward(self, dtype, workers):
        self._call()

    def peakmem_backward(self, dtype, workers):
        self._call()
