"""Benchmarks, 2-D filtering: single-channel 2-D filtering (the SciPy / OpenCV user).

Image 2048x2048 (256x256 under FASTCONV_ASV_SMALL=1), square kernels 3, 5, 9,
15 and 31, float32 and float64, output the size of the image (``mode='same'``,
zero border).  Peers: ``scipy.signal.convolve`` (``method='auto'`` and
``'direct'``), ``scipy.signal.oaconvolve``, ``scipy.ndimage.convolve``
(``mode='constant'``), ``cv2.filter2D`` (kernel flipped so it convolves,
``BORDER_CONSTANT``).

Mid-size images (``Filter2DMid*``: 128x128 and 512x512, 3x3 and 5x5) track
the per-call set-up, a large share of such calls: ``convolve`` and
``convolve2d`` (zero edges) and ``ndimage.correlate`` (``'reflect'``) against
SciPy's calls and ``cv2.filter2D`` with the same edges.

Compare two commits on this file only (run from ``asv_benchmarks/``)::

    asv continuous -e -f 1.1 --bench "bench_a_filter2d" main HEAD
"""

import numpy as np

from .common import (DTYPES, WORKERS, Benchmark, check_threads, cv2_peer,
                     fastconv_function, import_peer, max_rel_error, pick, random_array)

KERNELS = (3, 5, 9, 15, 31)
SHAPE = pick((2048, 2048), (256, 256))


class _Filter2D(Benchmark):
    params = [KERNELS, DTYPES]
    param_names = ["kernel", "dtype"]

    def make_data(self, kernel, dtype):
        self.image = random_array(SHAPE, dtype, seed=0)
        self.kernel = random_array((kernel, kernel), dtype, seed=1)


class Filter2DFastconv(_Filter2D):
    """``fastconv.convolve(image, kernel, mode='same', workers=workers)``."""

    params = [KERNELS, DTYPES, WORKERS]
    param_names = ["kernel", "dtype", "workers"]

    def setup(self, kernel, dtype, workers):
        self.convolve = fastconv_function("convolve")
        check_threads(workers)
        self.make_data(kernel, dtype)

    def time_convolve_same(self, kernel, dtype, workers):
        self.convolve(self.image, self.kernel, mode="same", workers=workers)

    def peakmem_convolve_same(self, kernel, dtype, workers):
        self.convolve(self.image, self.kernel, mode="same", workers=workers)

    def track_max_rel_error_vs_scipy(self, kernel, dtype, workers):
        """max |fastconv - SciPy| / max |SciPy|, SciPy run in float64."""
        from scipy import signal

        got = self.convolve(self.image, self.kernel, mode="same", workers=workers)
        ref = signal.convolve(self.image.astype(np.float64), self.kernel.astype(np.float64),
                              mode="same")
        return max_rel_error(got, ref)

    track_max_rel_error_vs_scipy.unit = "relative error"


class Filter2DSciPy(_Filter2D):
    """SciPy's FFT-capable paths and ndimage (single-threaded)."""

    def setup(self, kernel, dtype):
        self.make_data(kernel, dtype)

    def time_signal_convolve_auto(self, kernel, dtype):
        from scipy import signal
        signal.convolve(self.image, self.kernel, mode="same", method="auto")

    def peakmem_signal_convolve_auto(self, kernel, dtype):
        from scipy import signal
        signal.convolve(self.image, self.kernel, mode="same", method="auto")

    def time_signal_oaconvolve(self, kernel, dtype):
        from scipy import signal
        signal.oaconvolve(self.image, self.kernel, mode="same")

    def peakmem_signal_oaconvolve(self, kernel, dtype):
        from scipy import signal
        signal.oaconvolve(self.image, self.kernel, mode="same")

    def time_ndimage_convolve(self, kernel, dtype):
        from scipy import ndimage
        ndimage.convolve(self.image, self.kernel, mode="constant", cval=0.0)

    def peakmem_ndimage_convolve(self, kernel, dtype):
        from scipy import ndimage
        ndimage.convolve(self.image, self.kernel, mode="constant", cval=0.0)


class Filter2DSciPyDirect(_Filter2D):
    """``scipy.signal.convolve(method='direct')``: about 40 s a call at 31x31
    on the full image, so one process instead of asv's default two."""

    processes = 1

    def setup(self, kernel, dtype):
        self.make_data(kernel, dtype)

    def time_signal_convolve_direct(self, kernel, dtype):
        from scipy import signal
        signal.convolve(self.image, self.kernel, mode="same", method="direct")

    def peakmem_signal_convolve_direct(self, kernel, dtype):
        from scipy import signal
        signal.convolve(self.image, self.kernel, mode="same", method="direct")


class Filter2DOpenCV(_Filter2D):
    """``cv2.filter2D`` (it correlates: the kernel is flipped in setup)."""

    params = [KERNELS, DTYPES, WORKERS]
    param_names = ["kernel", "dtype", "workers"]

    def setup(self, kernel, dtype, workers):
        self.cv2 = cv2_peer(workers)
        self.make_data(kernel, dtype)
        self.flipped = np.ascontiguousarray(self.kernel[::-1, ::-1])

    def time_filter2d(self, kernel, dtype, workers):
        self.cv2.filter2D(self.image, -1, self.flipped, borderType=self.cv2.BORDER_CONSTANT)

    def peakmem_filter2d(self, kernel, dtype, workers):
        self.cv2.filter2D(self.image, -1, self.flipped, borderType=self.cv2.BORDER_CONSTANT)


MID_SIZES = (128, 512)
MID_KERNELS = (3, 5)


class Filter2DMidFastconv(Benchmark):
    """Mid-size images (128^2 and 512^2, 3x3 and 5x5), where the per-call
    set-up is a large share of a call: ``convolve`` and ``convolve2d``
    ``'same'`` (zero edges) and ``ndimage.correlate`` (``'reflect'``)."""

    params = [MID_SIZES, MID_KERNELS, DTYPES]
    param_names = ["size", "kernel", "dtype"]

    def setup(self, size, kernel, dtype):
        self.convolve = fastconv_function("convolve")
        self.convolve2d = fastconv_function("convolve2d")
        self.correlate_nd = fastconv_function("ndimage.correlate")
        self.image = random_array((size, size), dtype, seed=0)
        self.kernel = random_array((kernel, kernel), dtype, seed=1)

    def time_convolve_same(self, size, kernel, dtype):
        self.convolve(self.image, self.kernel, mode="same")

    def time_convolve2d_same(self, size, kernel, dtype):
        self.convolve2d(self.image, self.kernel, mode="same")

    def time_ndimage_correlate_reflect(self, size, kernel, dtype):
        self.correlate_nd(self.image, self.kernel)


class Filter2DMidSciPy(Filter2DMidFastconv):
    """The same calls in SciPy."""

    def setup(self, size, kernel, dtype):
        from scipy import ndimage, signal
        self.convolve = signal.convolve
        self.convolve2d = signal.convolve2d
        self.correlate_nd = ndimage.correlate
        self.image = random_array((size, size), dtype, seed=0)
        self.kernel = random_array((kernel, kernel), dtype, seed=1)


class Filter2DMidOpenCV(Benchmark):
    """``cv2.filter2D`` with the edges of the fastconv calls (zero for
    ``convolve``, ``BORDER_REFLECT`` for ``ndimage.correlate``)."""

    params = [MID_SIZES, MID_KERNELS, DTYPES]
    param_names = ["size", "kernel", "dtype"]

    def setup(self, size, kernel, dtype):
        self.cv2 = import_peer("cv2")
        self.image = random_array((size, size), dtype, seed=0)
        self.kernel = random_array((kernel, kernel), dtype, seed=1)
        self.flipped = np.ascontiguousarray(self.kernel[::-1, ::-1])

    def time_filter2d_constant(self, size, kernel, dtype):
        self.cv2.filter2D(self.image, -1, self.flipped, borderType=self.cv2.BORDER_CONSTANT)

    def time_filter2d_reflect(self, size, kernel, dtype):
        self.cv2.filter2D(self.image, -1, self.kernel, borderType=self.cv2.BORDER_REFLECT)
