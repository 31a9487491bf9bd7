"""2-D single-channel filtering (the ROWS tiles) against cv2.filter2D.

Interleaved medians in one process, after warm-up: for each dtype and k,
fastconv.signal.convolve(img, ker, 'same', method='direct', workers=T) and
cv2.filter2D (same threads, BORDER_CONSTANT, flipped kernel: the same
convolution) are timed in turn.  Prints GFLOP/s (2 k^2 H W / time), the
speed-up (cv2 time / fastconv time) and, with --peak-*, the percentage of a
measured FMA peak in GFLOP/s (build_tools/roofline.c); "cpu" is the same
rate from fastconv's process CPU time divided by the threads (the rate
while scheduled: closer to the kernels' own speed on a loaded machine).

    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000 \\
    flock /tmp/fastconv-bench.lock python build_tools/bench_rows.py --threads 2 \\
        --peak-f32 160 --peak-f64 80

Set FASTCONV_SIMD=avx2 to time the AVX2 kernels on an AVX-512 CPU.
"""
import argparse
import time

import cv2
import numpy as np

import fastconv
import fastconv.signal as fs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--ks", default="3,5,9,15")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--peak-f32", type=float, default=0.0)
    ap.add_argument("--peak-f64", type=float, default=0.0)
    ap.add_argument("--engine", action="store_true",
                    help="time the direct kernels alone (fastconv._engine.correlate, the "
                         "front end's overflow scan off) instead of fastconv.signal.convolve")
    a = ap.parse_args()
    if a.engine:
        from fastconv import _engine
        _engine._UNFUSED_FALLBACK[0] = False
    cv2.setNumThreads(a.threads)
    rng = np.random.default_rng(0)
    lvl = fastconv.show_config(print_out=False)["simd"]["level"]
    print(f"SIMD {lvl}, threads {a.threads}, {a.size}^2")
    for dt in a.dtypes.split(","):
        img = rng.standard_normal((a.size, a.size)).astype(dt)
        peak = a.peak_f32 if dt == "float32" else a.peak_f64
        for k in (int(v) for v in a.ks.split(",")):
            ker = rng.standard_normal((k, k)).astype(dt)
            kf = np.ascontiguousarray(ker[::-1, ::-1])
            if a.engine:
                p0, p1 = (k - 1) // 2, k // 2         # 'same' convolution = correlation
                x4, w4 = img[None, None], np.ascontiguousarray(kf)[None, None]
                fc = (lambda x4=x4, w4=w4, p0=p0, p1=p1: _engine.correlate(
                    x4, w4, stride=(1, 1), dilation=(1, 1), pads=((p1, p0), (p1, p0)),
                    nthreads=a.threads)[0, 0])
            else:
                fc = (lambda img=img, ker=ker: fs.convolve(img, ker, "same", method="direct",
                                                           workers=a.threads))
            fns = {"fc": fc,
                   "cv2": lambda: cv2.filter2D(img, -1, kf, borderType=cv2.BORDER_CONSTANT)}
            ref = fns["cv2"]()
            got = fns["fc"]()
            err = float(np.max(np.abs(ref - got)) / (np.max(np.abs(ref)) + 1e-30))
            times = {n: [] for n in fns}
            cpu = []
            for _ in range(2):
                for f in fns.values():
                    f()
            for _ in range(a.repeats):
                for n, f in fns.items():
                    c0 = time.process_time()
                    t0 = time.perf_counter()
                    f()
                    times[n].append(time.perf_counter() - t0)
                    if n == "fc":
                        cpu.append(time.process_time() - c0)
            med = {n: float(np.median(v)) for n, v in times.items()}
            gf = 2.0 * k * k * img.size / med["fc"] / 1e9
            # CPU time / threads: the rate while running (a busy machine
            # inflates wall times; idle-waiting threads spin, see OMP_WAIT_POLICY)
            gfc = 2.0 * k * k * img.size / (float(np.median(cpu)) / a.threads) / 1e9
            pk = (f" {100 * gf / peak:5.1f}% | cpu {gfc:6.1f} GFLOP/s {100 * gfc / peak:5.1f}%"
                  " of peak") if peak else f" | cpu {gfc:6.1f} GFLOP/s"
            print(f"{dt:8s} {k:2d}x{k:<2d} fastconv {med['fc'] * 1e3:8.2f} ms {gf:6.1f} GFLOP/s{pk}"
                  f" | cv2 {med['cv2'] * 1e3:8.2f} ms | speed-up {med['cv2'] / med['fc']:5.2f}"
                  f" | relerr {err:.1e}", flush=True)


if __name__ == "__main__":
    main()
