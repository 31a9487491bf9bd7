"""Benchmark of fastconv.ndimage's separable filters against their peers.

The issue-15 workloads, float32, in one process, the libraries called in
turn (shuffled every repeat), median of ``--repeat`` after one warm-up each:

* ``gaussian_filter(2048^2, sigma=3)`` vs ``scipy.ndimage.gaussian_filter``
  and ``cv2.GaussianBlur`` with the same kernel (``ksize = 2*round(4*sigma)+1
  = 25``, ``sigma 3``, ``BORDER_REFLECT`` = ndimage's ``'reflect'``);
* ``uniform_filter(2048^2, 9)`` vs ``scipy.ndimage.uniform_filter`` and
  ``cv2.blur((9, 9), borderType=BORDER_REFLECT)``;
* ``sobel(2048^2)`` vs ``scipy.ndimage.sobel``;
* ``gaussian_filter(128^3, sigma=2)`` vs ``scipy.ndimage.gaussian_filter``.

Every fastconv result is checked against SciPy's before timing.  Targets
(speed-up = peer time / fastconv time): >= 3x SciPy and >= 1.0x OpenCV for
the first two, >= 2x SciPy for sobel, >= 3x SciPy for the volume.  Run::

    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000 \\
        flock /tmp/fastconv-bench.lock python build_tools/bench_filters.py \\
        [--workers N] [--repeat 7] [--levels avx512,avx2]

``--levels`` re-runs the script once per SIMD level (``FASTCONV_SIMD``) in a
subprocess.  ``--workers`` sets fastconv's threads and ``cv2.setNumThreads``
(default: all usable cores).  SciPy is single-threaded.
"""

import argparse
import os
import platform
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def workloads(workers):
    import scipy.ndimage as sndi

    from fastconv import ndimage as fndi
    try:
        import cv2
        cv2.setNumThreads(workers)
    except ImportError:  # pragma: no cover - optional peer
        cv2 = None
    rng = np.random.default_rng(20261202)
    img = rng.standard_normal((2048, 2048), dtype=np.float32)
    vol = rng.standard_normal((128, 128, 128), dtype=np.float32)
    rows = []
    peers = {"scipy": lambda: sndi.gaussian_filter(img, 3)}
    if cv2 is not None:
        peers["cv2"] = lambda: cv2.GaussianBlur(img, (25, 25), 3, borderType=cv2.BORDER_REFLECT)
    rows.append(("gaussian_filter 2048^2 f32 sigma=3",
                 lambda: fndi.gaussian_filter(img, 3, workers=workers), peers,
                 {"scipy": 3.0, "cv2": 1.0}))
    peers = {"scipy": lambda: sndi.uniform_filter(img, 9)}
    if cv2 is not None:
        peers["cv2"] = lambda: cv2.blur(img, (9, 9), borderType=cv2.BORDER_REFLECT)
    rows.append(("uniform_filter 2048^2 f32 size=9",
                 lambda: fndi.uniform_filter(img, 9, workers=workers), peers,
                 {"scipy": 3.0, "cv2": 1.0}))
    rows.append(("sobel 2048^2 f32", lambda: fndi.sobel(img, workers=workers),
                 {"scipy": lambda: sndi.sobel(img)}, {"scipy": 2.0}))
    rows.append(("gaussian_filter 128^3 f32 sigma=2",
                 lambda: fndi.gaussian_filter(vol, 2, workers=workers),
                 {"scipy": lambda: sndi.gaussian_filter(vol, 2)}, {"scipy": 3.0}))
    return rows


def check(rows):
    """Every fastconv result against SciPy's (and OpenCV's) before timing."""
    for name, fc, peers, _ in rows:
        got = fc()
        for peer, f in peers.items():
            ref = f()
            err = float(np.abs(got.astype(np.float64) - ref).max())
            scale = float(np.abs(ref).max())
            if err > 1e-4 * scale:
                raise AssertionError(f"{name}: differs from {peer} by {err:.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--levels", default=None,
                    help="comma-separated SIMD levels, each run in a subprocess")
    args = ap.parse_args()
    if args.levels:
        rc = 0
        for level in args.levels.split(","):
            env = dict(os.environ, FASTCONV_SIMD=level.strip())
            cmd = [sys.executable, os.path.abspath(__file__), "--repeat", str(args.repeat)]
            if args.workers is not None:
                cmd += ["--workers", str(args.workers)]
            rc |= subprocess.call(cmd, env=env)
        return rc
    import scipy

    import fastconv
    from fastconv import _dispatch
    from fastconv._bench import time_interleaved
    from fastconv._threads import resolve_workers
    workers = resolve_workers(args.workers)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"fastconv {fastconv.__version__} | SIMD {_dispatch.LEVEL} | workers {workers} | "
          f"scipy {scipy.__version__} | {cpu} | load {load:.2f} | median of {args.repeat}")
    rows = workloads(workers)
    check(rows)
    met_all = True
    print(f"{'workload':36s} {'fastconv':>9s}  peers: time, speed-up (target)")
    for name, fc, peers, targets in rows:
        funcs = {"fastconv": fc}
        funcs.update(peers)
        t = time_interleaved(funcs, args.repeat)
        parts = []
        for peer in peers:
            ratio = t[peer] / t["fastconv"]
            ok = ratio >= targets.get(peer, 0.0)
            met_all &= ok
            parts.append(f"{peer} {t[peer] * 1e3:7.2f}ms {ratio:5.2f}x "
                         f"(>= {targets.get(peer, 0):.1f}x {'met' if ok else 'MISSED'})")
        print(f"{name:36s} {t['fastconv'] * 1e3:7.2f}ms  " + "  ".join(parts), flush=True)
    print("all targets met" if met_all else "some targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
