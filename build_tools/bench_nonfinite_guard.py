"""Cost of the non-finite guard (issue 13, item 6): time of a direct
convolution with the unfused-fallback check on, over the time with it off.

The check reads the weights and, when some ``|w| > 1``, the input (largest
finite ``|x|``); its cost relative to the convolution is what this prints, for the SIMD level in
use (``FASTCONV_SIMD=avx2 python build_tools/bench_nonfinite_guard.py`` for
another).  Interleaved medians in one process after warm-up.  Run under
``flock /tmp/fastconv-bench.lock`` on a shared machine, with
``MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000``.
"""

import statistics
import sys
import time

import numpy as np

import fastconv
from fastconv import _dispatch, _engine


def _time(fn, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def measure(label, fn, reps, rounds=15):
    fn()
    on, off = [], []
    for _ in range(rounds):
        for flag, acc in ((True, on), (False, off)):
            _engine._UNFUSED_FALLBACK[0] = flag
            acc.append(_time(fn, reps))
    _engine._UNFUSED_FALLBACK[0] = True
    m_on, m_off = statistics.median(on), statistics.median(off)
    print(f"{label:<40s} guard on {m_on * 1e3:8.3f} ms  off {m_off * 1e3:8.3f} ms  "
          f"ratio {m_on / m_off:.3f}")


def main():
    print(f"fastconv {fastconv.__version__}, SIMD level {_dispatch.LEVEL}")
    rng = np.random.default_rng(0)
    img = rng.standard_normal((2048, 2048)).astype(np.float32)
    k5 = rng.standard_normal((5, 5)).astype(np.float32)
    sig = rng.standard_normal(2**20)
    k31 = rng.standard_normal(31)
    measure("2048^2 f32 * 5x5 'same' (convolve)",
            lambda: fastconv.convolve(img, k5, mode="same", method="direct"), 3)
    measure("2**20 f64 * 31 'full' (convolve)",
            lambda: fastconv.convolve(sig, k31, method="direct"), 3)
    k5n = (k5 / np.abs(k5).sum()).astype(np.float32)   # |w| <= 1: no input scan
    measure("2048^2 f32 * 5x5 'same', |w|<=1",
            lambda: fastconv.convolve(img, k5n, mode="same", method="direct"), 3)
    x = rng.standard_normal((8, 64, 56, 56)).astype(np.float32)
    w = rng.standard_normal((64, 64, 3, 3)).astype(np.float32)
    measure("conv2d 8x64x56x56 f32, 64 3x3 'same'",
            lambda: fastconv.conv2d(x, w, padding="same"), 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
