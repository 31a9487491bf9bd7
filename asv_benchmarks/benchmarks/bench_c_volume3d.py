"""Benchmarks, 3-D volumes.

128**3 volume (32**3 under FASTCONV_ASV_SMALL=1), cubic kernels 3, 5 and 7,
``mode='same'``; the benchmarks page sets float32, float64 is measured too.  Peers:
``scipy.signal.convolve`` (``method='auto'``), ``scipy.ndimage.convolve``
(``mode='constant'``), ``torch.nn.functional.conv3d`` with one channel
(kernel flipped so it convolves, ``padding=k//2``).

Compare two commits on this file only (run from ``asv_benchmarks/``)::

    asv continuous -e -f 1.1 --bench "bench_c_volume3d" main HEAD
"""

import numpy as np

from .common import (DTYPES, WORKERS, Benchmark, check_threads, fastconv_function,
                     max_rel_error, pick, random_array, torch_peer)

KERNELS = (3, 5, 7)
SHAPE = pick((128, 128, 128), (32, 32, 32))


class _Volume3D(Benchmark):
    params = [KERNELS, DTYPES]
    param_names = ["kernel", "dtype"]

    def make_data(self, kernel, dtype):
        self.volume = random_array(SHAPE, dtype, seed=4)
        self.kernel = random_array((kernel,) * 3, dtype, seed=5)


class Volume3DFastconv(_Volume3D):
    """``fastconv.convolve(volume, kernel, mode='same', workers=workers)``."""

    params = [KERNELS, DTYPES, WORKERS]
    param_names = ["kernel", "dtype", "workers"]

    def setup(self, kernel, dtype, workers):
        self.convolve = fastconv_function("convolve")
        check_threads(workers)
        self.make_data(kernel, dtype)

    def time_convolve_same(self, kernel, dtype, workers):
        self.convolve(self.volume, self.kernel, mode="same", workers=workers)

    def peakmem_convolve_same(self, kernel, dtype, workers):
        self.convolve(self.volume, self.kernel, mode="same", workers=workers)

    def track_max_rel_error_vs_scipy(self, kernel, dtype, workers):
        """max |fastconv - SciPy| / max |SciPy|, SciPy run in float64."""
        from scipy import signal

        got = self.convolve(self.volume, self.kernel, mode="same", workers=workers)
        ref = signal.convolve(self.volume.astype(np.float64), self.kernel.astype(np.float64),
                              mode="same")
        return max_rel_error(got, ref)

    track_max_rel_error_vs_scipy.unit = "relative error"


class Volume3DSciPy(_Volume3D):
    """SciPy (single-threaded)."""

    def setup(self, kernel, dtype):
        self.make_data(kernel, dtype)

    def time_signal_convolve_auto(self, kernel, dtype):
        from scipy import signal
        signal.convolve(self.volume, self.kernel, mode="same", method="auto")

    def peakmem_signal_convolve_auto(self, kernel, dtype):
        from scipy import signal
        signal.convolve(self.volume, self.kernel, mode="same", method="auto")

    def time_ndimage_convolve(self, kernel, dtype):
        from scipy import ndimage
        ndimage.convolve(self.volume, self.kernel, mode="constant", cval=0.0)

    def peakmem_ndimage_convolve(self, kernel, dtype):
        from scipy import ndimage
        ndimage.convolve(self.volume, self.kernel, mode="constant", cval=0.0)


class Volume3DTorch(_Volume3D):
    """``torch.nn.functional.conv3d`` on a (1, 1, D, H, W) tensor."""

    params = [KERNELS, DTYPES, WORKERS]
    param_names = ["kernel", "dtype", "workers"]

    def setup(self, kernel, dtype, workers):
        self.torch = torch_peer(workers)
        self.make_data(kernel, dtype)
        self.x = self.torch.from_numpy(self.volume[None, None])
        flipped = np.ascontiguousarray(self.kernel[::-1, ::-1, ::-1])
        self.w = self.torch.from_numpy(flipped[None, None])
        self.pad = kernel // 2

    def _call(self):
        with self.torch.no_grad():
            self.torch.nn.functional.conv3d(self.x, self.w, padding=self.pad)

    def time_conv3d(self, kernel, dtype, workers):
        self._call()

    def peakmem_conv3d(self, kernel, dtype, workers):
        self._call()
