"""Benchmarks, thread scaling and memory.

* 1 -> 2 threads: the ``workers`` parameter of every fastconv benchmark in
  A-D; ``python ratios.py`` prints the speed-up per workload.
* Bitwise identical results for every thread count:
  ``ThreadDeterminism.track_max_abs_diff_vs_serial`` (must stay 0).
* Memory beyond inputs and output: ``peakmem_`` of every benchmark, and
  ``ExtraMemory.track_numpy_temporaries_over_input``: the peak of
  NumPy-allocated temporaries during one call (measured with
  ``tracemalloc``, which sees NumPy's allocations but not scratch that
  compiled code takes with ``malloc``), beyond the output, divided by the
  input's size.  The benchmarks page allows at most one extra copy (1.0) plus
  per-thread scratch.

Compare two commits on this file only (run from ``asv_benchmarks/``)::

    asv continuous -e -f 1.1 --bench "bench_e_scaling" main HEAD
"""

import tracemalloc

import numpy as np

from .common import (WORKERS, Benchmark, check_threads, fastconv_function, pick,
                     random_array)


def _workload(name):
    """``(function of workers, input array)`` for one workload of A-D."""
    if name == "A-2d-9x9":
        conv = fastconv_function("convolve")
        x = random_array(pick((2048, 2048), (256, 256)), "float32", seed=0)
        k = random_array((9, 9), "float32", seed=1)
        return (lambda w: conv(x, k, mode="same", workers=w)), x
    if name == "B-1d-127":
        conv = fastconv_function("convolve")
        x = random_array((pick(2 ** 22, 2 ** 16),), "float32", seed=2)
        k = random_array((127,), "float32", seed=3)
        return (lambda w: conv(x, k, mode="same", workers=w)), x
    if name == "C-3d-5":
        conv = fastconv_function("convolve")
        x = random_array(pick((128,) * 3, (32,) * 3), "float32", seed=4)
        k = random_array((5, 5, 5), "float32", seed=5)
        return (lambda w: conv(x, k, mode="same", workers=w)), x
    if name == "D-conv2d":
        conv = fastconv_function("conv2d")
        x = random_array(pick((16, 64, 56, 56), (2, 64, 14, 14)), "float32", seed=6)
        k = random_array((64, 64, 3, 3), "float32", seed=7)
        return (lambda w: conv(x, k, padding=1, workers=w)), x
    if name == "D-depthwise":
        conv = fastconv_function("conv2d")
        x = random_array(pick((16, 128, 56, 56), (2, 128, 14, 14)), "float32", seed=6)
        k = random_array((128, 1, 3, 3), "float32", seed=7)
        return (lambda w: conv(x, k, padding=1, groups=128, workers=w)), x
    raise ValueError(name)


WORKLOADS = ("A-2d-9x9", "B-1d-127", "C-3d-5", "D-conv2d", "D-depthwise")


class ThreadDeterminism(Benchmark):
    """``max |y(workers=n) - y(workers=1)|`` for n = the largest ``workers``."""

    params = [WORKLOADS]
    param_names = ["workload"]

    def setup(self, workload):
        self.nthreads = max(2, max(WORKERS))
        check_threads(self.nthreads)
        self.call, _ = _workload(workload)

    def track_max_abs_diff_vs_serial(self, workload):
        serial = self.call(1)
        threaded = self.call(self.nthreads)
        return float(np.abs(threaded.astype(np.float64) - serial).max())

    track_max_abs_diff_vs_serial.unit = "absolute difference"


class ExtraMemory(Benchmark):
    """NumPy-allocated temporaries of one call, in units of the input's size."""

    params = [WORKLOADS, WORKERS]
    param_names = ["workload", "workers"]

    def setup(self, workload, workers):
        check_threads(workers)
        self.call, self.x = _workload(workload)
        self.call(workers)  # warm-up: first-call caches are not per-call memory

    def track_numpy_temporaries_over_input(self, workload, workers):
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            y = self.call(workers)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return max(peak - y.nbytes, 0) / self.x.nbytes

    track_numpy_temporaries_over_input.unit = "input sizes"
