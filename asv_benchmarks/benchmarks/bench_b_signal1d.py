"""Benchmarks, 1-D signals.

2**22 samples (2**16 under FASTCONV_ASV_SMALL=1), 7, 31, 127 and 1023 taps,
``mode='same'``; the benchmarks page sets float32, float64 is measured too.  Peers:
``numpy.convolve``, ``scipy.signal.convolve`` (``method='auto'``),
``scipy.signal.oaconvolve``.

Compare two commits on this file only (run from ``asv_benchmarks/``)::

    asv continuous -e -f 1.1 --bench "bench_b_signal1d" main HEAD
"""

import numpy as np

from .common import (DTYPES, WORKERS, Benchmark, check_threads, fastconv_function,
                     max_rel_error, pick, random_array)

TAPS = (7, 31, 127, 1023)
LENGTH = pick(2 ** 22, 2 ** 16)


class _Signal1D(Benchmark):
    params = [TAPS, DTYPES]
    param_names = ["taps", "dtype"]

    def make_data(self, taps, dtype):
        self.signal = random_array((LENGTH,), dtype, seed=2)
        self.taps = random_array((taps,), dtype, seed=3)


class Signal1DFastconv(_Signal1D):
    """``fastconv.convolve(signal, taps, mode='same', workers=workers)``."""

    params = [TAPS, DTYPES, WORKERS]
    param_names = ["taps", "dtype", "workers"]

    def setup(self, taps, dtype, workers):
        self.convolve = fastconv_function("convolve")
        check_threads(workers)
        self.make_data(taps, dtype)

    def time_convolve_same(self, taps, dtype, workers):
        self.convolve(self.signal, self.taps, mode="same", workers=workers)

    def peakmem_convolve_same(self, taps, dtype, workers):
        self.convolve(self.signal, self.taps, mode="same", workers=workers)

    def track_max_rel_error_vs_scipy(self, taps, dtype, workers):
        """max |fastconv - SciPy| / max |SciPy|, SciPy run in float64."""
        from scipy import signal

        got = self.convolve(self.signal, self.taps, mode="same", workers=workers)
        ref = signal.convolve(self.signal.astype(np.float64), self.taps.astype(np.float64),
                              mode="same")
        return max_rel_error(got, ref)

    track_max_rel_error_vs_scipy.unit = "relative error"


class Signal1DPeers(_Signal1D):
    """NumPy and SciPy (single-threaded)."""

    def setup(self, taps, dtype):
        self.make_data(taps, dtype)

    def time_numpy_convolve(self, taps, dtype):
        np.convolve(self.signal, self.taps, mode="same")

    def peakmem_numpy_convolve(self, taps, dtype):
        np.convolve(self.signal, self.taps, mode="same")

    def time_signal_convolve_auto(self, taps, dtype):
        from scipy import signal
        signal.convolve(self.signal, self.taps, mode="same", method="auto")

    def peakmem_signal_convolve_auto(self, taps, dtype):
        from scipy import signal
        signal.convolve(self.signal, self.taps, mode="same", method="auto")

    def time_signal_oaconvolve(self, taps, dtype):
        from scipy import signal
        signal.oaconvolve(self.signal, self.taps, mode="same")

    def peakmem_signal_oaconvolve(self, taps, dtype):
        from scipy import signal
        signal.oaconvolve(self.signal, self.taps, mode="same")
