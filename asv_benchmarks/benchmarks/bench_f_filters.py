"""F: scipy.ndimage's separable filters (issue 15).

``gaussian_filter`` (2048x2048, sigma 3; 128^3, sigma 2), ``uniform_filter``
(2048x2048, size 9) and ``sobel`` (2048x2048), float32 and float64, default
mode ``'reflect'`` (256x256 / 32^3 under FASTCONV_ASV_SMALL=1).  Peers:
``scipy.ndimage`` (single-threaded) and OpenCV with the same kernels and
border (``cv2.GaussianBlur`` with ``ksize = 2*round(4*sigma)+1``,
``cv2.blur``, ``BORDER_REFLECT`` = ndimage's ``'reflect'``).

Compare two commits on this file only (run from ``asv_benchmarks/``)::

    asv continuous -e -f 1.1 --bench "bench_f_filters" main HEAD
"""

import numpy as np

from .common import (DTYPES, WORKERS, Benchmark, check_threads, cv2_peer,
                     fastconv_function, import_peer, max_rel_error, pick, random_array)

IMAGE = pick((2048, 2048), (256, 256))
VOLUME = pick((128, 128, 128), (32, 32, 32))
# (name, shape, fastconv/scipy call arguments)
FILTERS = ("gaussian2d", "gaussian3d", "uniform2d", "sobel2d")
_CASES = {"gaussian2d": ("gaussian_filter", IMAGE, (3.0,)),
          "gaussian3d": ("gaussian_filter", VOLUME, (2.0,)),
          "uniform2d": ("uniform_filter", IMAGE, (9,)),
          "sobel2d": ("sobel", IMAGE, ())}


class _Filters(Benchmark):
    params = [FILTERS, DTYPES]
    param_names = ["filter", "dtype"]

    def make_data(self, filt, dtype):
        self.func, shape, self.args = _CASES[filt]
        self.data = random_array(shape, dtype, seed=0)


class FiltersFastconv(_Filters):
    """``fastconv.ndimage.<filter>(data, *args, workers=workers)``."""

    params = [FILTERS, DTYPES, WORKERS]
    param_names = ["filter", "dtype", "workers"]

    def setup(self, filt, dtype, workers):
        self.make_data(filt, dtype)
        self.fn = fastconv_function("ndimage." + self.func)
        check_threads(workers)

    def time_filter(self, filt, dtype, workers):
        self.fn(self.data, *self.args, workers=workers)

    def peakmem_filter(self, filt, dtype, workers):
        self.fn(self.data, *self.args, workers=workers)

    def track_max_rel_error_vs_scipy(self, filt, dtype, workers):
        """max |fastconv - SciPy| / max |SciPy|."""
        from scipy import ndimage
        got = self.fn(self.data, *self.args, workers=workers)
        return max_rel_error(got, getattr(ndimage, self.func)(self.data, *self.args))

    track_max_rel_error_vs_scipy.unit = "relative error"


class FiltersSciPy(_Filters):
    """``scipy.ndimage.<filter>`` (single-threaded)."""

    def setup(self, filt, dtype):
        self.make_data(filt, dtype)
        self.fn = getattr(import_peer("scipy.ndimage"), self.func)

    def time_filter(self, filt, dtype):
        self.fn(self.data, *self.args)

    def peakmem_filter(self, filt, dtype):
        self.fn(self.data, *self.args)


class FiltersOpenCV(_Filters):
    """``cv2.GaussianBlur`` / ``cv2.blur`` with ndimage's kernels and
    ``BORDER_REFLECT`` (2-D workloads only; OpenCV has no 3-D blur)."""

    params = [("gaussian2d", "uniform2d"), DTYPES, WORKERS]
    param_names = ["filter", "dtype", "workers"]

    def setup(self, filt, dtype, workers):
        self.cv2 = cv2_peer(workers)
        self.make_data(filt, dtype)
        cv2 = self.cv2
        if filt == "gaussian2d":
            s = self.args[0]
            k = 2 * int(4 * s + 0.5) + 1
            self.call = lambda: cv2.GaussianBlur(self.data, (k, k), s,
                                                 borderType=cv2.BORDER_REFLECT)
        else:
            k = self.args[0]
            self.call = lambda: cv2.blur(self.data, (k, k), borderType=cv2.BORDER_REFLECT)

    def time_filter(self, filt, dtype, workers):
        self.call()

    def peakmem_filter(self, filt, dtype, workers):
        self.call()

    def track_max_rel_error_vs_scipy(self, filt, dtype, workers):
        """How far OpenCV is from SciPy on the same kernel (for reference)."""
        from scipy import ndimage
        func, _, args = _CASES[filt]
        return max_rel_error(np.asarray(self.call(), dtype=np.float64),
                             getattr(ndimage, func)(self.data, *args))

    track_max_rel_error_vs_scipy.unit = "relative error"
