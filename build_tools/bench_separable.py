"""Benchmark of the separable route for rank-one kernels.

On a 2048x2048 float32 and float64 image with 9x9, 15x15 and 31x31
Gaussian kernels (mode 'same'), times, in one process and in turn:

* ``fastconv.convolve(..., method='direct')`` with the separable route
  (``fastconv._separable.ENABLED = True``),
* the same with the route switched off (the full-kernel direct path),
* ``cv2.filter2D`` (a correlation; the kernel is symmetric, and
  ``borderType=cv2.BORDER_CONSTANT`` gives the zero edges of 'same'),
* ``cv2.sepFilter2D`` with the two 1-D factors (same border),

median of 7 after one warm-up call each, and checks that every result
agrees with the separable one.  Run it as::

    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000 \\
        python build_tools/bench_separable.py [--workers N] [--repeat 7]

(the malloc settings keep large buffers out of fresh mmaps, so no method
pays page faults for its output on every call).  ``--workers`` sets
fastconv's threads and ``cv2.setNumThreads`` (default: all cores).
"""

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cv2  # noqa: E402

import fastconv  # noqa: E402
from fastconv import _separable  # noqa: E402
from fastconv._threads import resolve_workers  # noqa: E402


def gaussian(k):
    sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8      # OpenCV's default sigma
    t = np.arange(k) - (k - 1) / 2
    g = np.exp(-0.5 * (t / sigma) ** 2)
    return g / g.sum()


def median_time(func, repeat):
    func()                                         # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--size", type=int, default=2048)
    args = parser.parse_args(argv)
    nthreads = resolve_workers(args.workers)
    cv2.setNumThreads(nthreads)
    print(f"# fastconv {fastconv.__version__}, OpenCV {cv2.__version__}, numpy "
          f"{np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"threads {nthreads}, median of {args.repeat}")
    print(f"# MALLOC_MMAP_THRESHOLD_={os.environ.get('MALLOC_MMAP_THRESHOLD_')} "
          f"MALLOC_TRIM_THRESHOLD_={os.environ.get('MALLOC_TRIM_THRESHOLD_')}")
    print(f"{'dtype':8} {'kernel':7} {'separable':>10} {'full':>10} {'filter2D':>10} "
          f"{'sepFilter2D':>11}   (ms)  speed-up vs full")
    rng = np.random.default_rng(0)
    n = args.size
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((n, n)).astype(dtype)
        for k in (9, 15, 31):
            g = gaussian(k).astype(dtype)
            kern = np.outer(g, g).astype(dtype)
            calls = {}

            def sep():
                _separable.ENABLED = True
                return fastconv.convolve(x, kern, "same", method="direct", workers=nthreads)

            def full():
                _separable.ENABLED = False
                try:
                    return fastconv.convolve(x, kern, "same", method="direct",
                                             workers=nthreads)
                finally:
                    _separable.ENABLED = True

            def f2d():
                return cv2.filter2D(x, -1, kern, borderType=cv2.BORDER_CONSTANT)

            def s2d():
                return cv2.sepFilter2D(x, -1, g, g, borderType=cv2.BORDER_CONSTANT)

            funcs = {"separable": sep, "full": full, "filter2D": f2d, "sepFilter2D": s2d}
            ref = sep()
            scale = float(np.abs(ref).max())
            rtol = 1e-4 if dtype == np.float32 else 1e-10
            for name, func in funcs.items():
                err = float(np.abs(func().astype(np.float64) - ref).max())
                assert err <= rtol * scale, (name, err)
            for name, func in funcs.items():
                calls[name] = median_time(func, args.repeat)
            print(f"{np.dtype(dtype).name:8} {k:2}x{k:<4} {calls['separable'] * 1e3:10.2f} "
                  f"{calls['full'] * 1e3:10.2f} {calls['filter2D'] * 1e3:10.2f} "
                  f"{calls['sepFilter2D'] * 1e3:11.2f}   "
                  f"{calls['full'] / calls['separable']:6.1f}x", flush=True)


if __name__ == "__main__":
    main()
