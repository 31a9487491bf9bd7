"""Small calls and a busy machine: fastconv against the SciPy call it replaces.

Usage::

    python build_tools/bench_calls.py small [--repeats 41]
    python build_tools/bench_calls.py busy  [--repeats 21] [--load N]
    python build_tools/bench_calls.py scaling [--repeats 21]
    python build_tools/bench_calls.py overhead [--repeats 201]
    python build_tools/bench_calls.py sweep [--repeats 15] [--below 1.05]
    python build_tools/bench_calls.py mid [--repeats 15]

``small``: the small-call workloads of the benchmarks page (section "Small
calls"); ratio = SciPy (or PyTorch) time / fastconv time, interleaved medians
in one process, call order shuffled every repeat.

``busy``: starts ``--load`` CPU-bound processes (default: one per usable
CPU), times fastconv's default (``workers=None``), ``workers=1`` and SciPy on
the busy-machine workloads, and stops the processes by their process id.

``scaling``: the same workloads on a quiet machine, ``workers=1`` against
``workers=2``, each thread count timed in blocks of consecutive calls (and,
in brackets, call by call).

``overhead``: per-call time of tiny problems (where the arithmetic is
negligible), i.e. the Python and set-up cost of a direct call, an ``auto``
call, an ndimage call and a ``conv2d`` call.

``sweep`` (``--below R``): awkward shapes against SciPy -- columns and
axes of length 1, short last axes, long 1-D signals, 2-D and 3-D, the middle
axis of few-channel images -- for
``convolve``, ``oaconvolve`` and the ndimage filters; prints the workloads
below ``R`` (default 1.05x) and a summary.

``mid``: mid-size images (64^2 to 512^2, 3x3 and 5x5, float32 and float64),
where the per-call set-up is still a large share of the call:
``convolve`` and ``convolve2d`` ``'same'`` (zero edges), ``convolve2d``
``'symm'`` and ``ndimage.correlate`` (``'reflect'``) against SciPy's call and
OpenCV's ``filter2D`` with the same edges, and ``gaussian_filter`` (sigma 1
and 3) against SciPy's and ``cv2.GaussianBlur`` (when ``cv2`` is installed).

``icount NAME N``: the same calls counted in instructions, which do not drift
with the machine's load (run it twice, with N and 0, and divide the
difference by N)::

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null \
        python build_tools/bench_calls.py icount conv2d 100
"""

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import time

import numpy as np
import scipy.ndimage as ndi
import scipy.signal as ss

import fastconv
import fastconv.ndimage as fnd


def _spin():
    while True:
        pass


def interleaved(funcs, repeats, seed=0):
    """Median seconds per function, called in turn in a shuffled order."""
    for f in funcs.values():
        f()
        f()
    times = {k: [] for k in funcs}
    rnd = random.Random(seed)
    inner = {}
    for k, f in funcs.items():   # calls per sample so each sample takes >= ~0.2 ms
        t0 = time.perf_counter()
        f()
        inner[k] = max(1, int(2e-4 / max(time.perf_counter() - t0, 1e-7)))
    for _ in range(repeats):
        order = list(funcs.items())
        rnd.shuffle(order)
        for k, f in order:
            n = inner[k]
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            times[k].append((time.perf_counter() - t0) / n)
    return {k: statistics.median(v) for k, v in times.items()}


def small_cases(rng):
    f64 = lambda *s: rng.standard_normal(s)                     # noqa: E731
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    cases = []

    def sig(name, a, b, mode, fn="convolve", **kw):
        cases.append((name, lambda: getattr(fastconv, fn)(a, b, mode, **kw),
                      lambda: getattr(ss, fn)(a, b, mode, **kw), "SciPy"))
    sig("1-D 1000 x 31 same", f64(1000), f64(31), "same")
    sig("1-D 1000 x 511 full", f64(1000), f64(511), "full")
    sig("1-D 64 x 7 full", f64(64), f64(7), "full")
    sig("2-D 64^2 x 3^2 same", f64(64, 64), f64(3, 3), "same")
    sig("2-D 64^2 x 31^2 same", f64(64, 64), f64(31, 31), "same")
    sig("2-D 5^2 x 3^2 full", f64(5, 5), f64(3, 3), "full")
    a, b = f64(128, 128), f64(5, 5)
    cases.append(("convolve2d 128^2 x 5^2 symm",
                  lambda: fastconv.convolve2d(a, b, "same", "symm"),
                  lambda: ss.convolve2d(a, b, "same", "symm"), "SciPy"))
    im, k3 = f32(256, 256), f32(3, 3)
    cases.append(("ndimage.convolve 256^2 f32 3^2", lambda: fnd.convolve(im, k3),
                  lambda: ndi.convolve(im, k3), "SciPy"))
    s1, k9 = f64(2000), f64(9)
    cases.append(("ndimage.convolve1d 2000 x 9", lambda: fnd.convolve1d(s1, k9),
                  lambda: ndi.convolve1d(s1, k9), "SciPy"))
    sig("fftconvolve 4096 x 1024", f64(4096), f64(1024), "full", fn="fftconvolve")
    sig("3-D 16^3 x 3^3 same", f64(16, 16, 16), f64(3, 3, 3), "same")
    try:
        import torch
        x, w = f32(1, 3, 32, 32), f32(8, 3, 3, 3)
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)

        def peer():
            with torch.no_grad():
                return torch.nn.functional.conv2d(tx, tw, padding=1).numpy()
        cases.append(("conv2d N1 3->8 32^2 3x3", lambda: fastconv.conv2d(x, w, padding=1),
                      peer, "PyTorch"))
    except ImportError:
        pass
    return cases


def run_small(repeats):
    rng = np.random.default_rng(0)
    print(f"{'workload':34s} {'fastconv':>10s} {'peer':>10s}  ratio (peer/fastconv)")
    for name, ours, peer, peer_name in small_cases(rng):
        t = interleaved({"ours": ours, "peer": peer}, repeats)
        print(f"{name:34s} {t['ours'] * 1e6:8.1f}us {t['peer'] * 1e6:8.1f}us  "
              f"{t['peer'] / t['ours']:5.2f}x {peer_name}")


def busy_cases(rng):
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    c, d = f32(2048, 2048), f32(5, 5)
    a, b = rng.standard_normal((512, 512)), rng.standard_normal((17, 17))
    x, k = f32(100_000), f32(63)
    v, e = f32(64, 64, 64), f32(3, 3, 3)
    m, f3 = f32(1024, 1024), f32(3, 3)
    return [
        ("2-D 2048^2 f32 5x5", lambda w=None: fastconv.convolve(c, d, "same", workers=w),
         lambda: ss.convolve(c, d, "same")),
        ("2-D 512^2 f64 17x17", lambda w=None: fastconv.convolve(a, b, "same", workers=w),
         lambda: ss.convolve(a, b, "same")),
        ("1-D 1e5 f32 63 taps", lambda w=None: fastconv.convolve(x, k, "same", workers=w),
         lambda: ss.convolve(x, k, "same")),
        ("ndimage 64^3 f32 3^3", lambda w=None: fnd.convolve(v, e, workers=w),
         lambda: ndi.convolve(v, e)),
        ("ndimage 1024^2 f32 3x3", lambda w=None: fnd.convolve(m, f3, workers=w),
         lambda: ndi.convolve(m, f3)),
    ]


def run_busy(repeats, load):
    procs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(load)]
    for p in procs:
        p.start()
    try:
        time.sleep(0.5)
        print(f"{load} CPU-bound processes running (pids {[p.pid for p in procs]})")
        print(f"{'workload':26s} {'default':>9s} {'workers=1':>10s} {'SciPy':>9s}  "
              f"SciPy/default  default/workers=1")
        for name, ours, peer in busy_cases(np.random.default_rng(0)):
            t = interleaved({"default": ours, "one": lambda: ours(1), "scipy": peer},
                            repeats)
            print(f"{name:26s} {t['default'] * 1e3:7.2f}ms {t['one'] * 1e3:8.2f}ms "
                  f"{t['scipy'] * 1e3:7.2f}ms  {t['scipy'] / t['default']:9.2f}x "
                  f"{t['default'] / t['one']:12.2f}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.join()


def blocks(funcs, repeats, per_block=5):
    """Median seconds per call, each function called `per_block` times in a
    row per block, blocks in turn: the threads of one thread count stay
    warm between its calls.  (Alternating 1- and 2-thread calls one by one
    makes the idle OpenMP worker go to sleep before every 2-thread call; on
    the 2-vCPU VMs measured here waking it cost ~0.3-0.5 ms per call, which
    is the VM's wake-up latency, not the kernels' scaling.)"""
    for f in funcs.values():
        f()
        f()
    times = {k: [] for k in funcs}
    for _ in range(repeats):
        for k, f in funcs.items():
            f()                                  # wakes this count's team
            for _ in range(per_block):
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def run_scaling(repeats):
    """The busy-machine workloads on a quiet machine: workers=1 against
    workers=2 (the 1 -> 2 thread speed-up), in blocks of calls per thread
    count (:func:`blocks`) and, for comparison, call by call
    (:func:`interleaved`)."""
    print(f"{'workload':26s} {'workers=1':>10s} {'workers=2':>10s}  speed-up  "
          f"(call by call)")
    for name, ours, _ in busy_cases(np.random.default_rng(0)):
        funcs = {"one": lambda: ours(1), "two": lambda: ours(2)}
        t = blocks(funcs, repeats)
        u = interleaved(funcs, repeats)
        print(f"{name:26s} {t['one'] * 1e3:8.2f}ms {t['two'] * 1e3:8.2f}ms  "
              f"{t['one'] / t['two']:6.2f}x   ({u['one'] / u['two']:.2f}x)")


def overhead_calls():
    rng = np.random.default_rng(0)
    x1, k1 = rng.standard_normal(16), rng.standard_normal(3)
    x2, k2 = rng.standard_normal((8, 8)), rng.standard_normal((3, 3))
    xc, wc = rng.standard_normal((1, 1, 8, 8)), rng.standard_normal((1, 1, 3, 3))
    calls = {
        "direct call: convolve(16, 3, method='direct')":
            lambda: fastconv.convolve(x1, k1, method="direct"),
        "auto call: convolve(8x8, 3x3)": lambda: fastconv.convolve(x2, k2),
        "ndimage call: ndimage.convolve(8x8, 3x3)": lambda: fnd.convolve(x2, k2),
        "conv2d call: conv2d(1x1x8x8, 1x1x3x3)": lambda: fastconv.conv2d(xc, wc),
    }
    return calls


def run_overhead(repeats):
    calls = overhead_calls()
    t = interleaved(calls, repeats)
    for name, v in t.items():
        print(f"{name:46s} {v * 1e6:7.1f} us")


def run_icount(name, n):
    """Warm up, then switch callgrind's instrumentation on around `n` calls."""
    import subprocess
    call = next(f for k, f in overhead_calls().items() if k.startswith(name))
    for _ in range(5):
        call()
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True)
    for _ in range(n):
        call()
    subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True)


def sweep_cases(rng):
    """(name, fastconv call, SciPy call) over awkward shapes: columns and
    axes of length 1, short last axes, long 1-D signals, 2-D and 3-D, for
    scipy.signal.convolve, oaconvolve and the ndimage filters."""
    cases = []

    def arr(shape, dt):
        return (rng.standard_normal(shape) * 50 + 100).astype(dt)

    for (s1, s2) in [((1000, 1), (31, 1)), ((30000, 1), (31, 1)), ((10000,), (31,)),
                     ((16000,), (31,)), ((3000,), (31,)), ((600,), (511,)),
                     ((2000,), (127,)), ((60000,), (7,)), ((300, 40), (21, 5)),
                     ((64, 64), (31, 31)), ((256, 256), (31, 31)), ((32, 32, 32), (9, 9, 9))]:
        for dt in ("float32", "float64"):
            a, b = arr(s1, dt), arr(s2, dt)
            for mode in ("full", "valid"):
                cases.append((f"convolve {s1} x {s2} {dt} {mode}",
                              lambda a=a, b=b, m=mode: fastconv.convolve(a, b, m),
                              lambda a=a, b=b, m=mode: ss.convolve(a, b, m)))
    for (s1, s2) in [((64, 64), (15, 15)), ((200, 200), (15, 15)), ((512, 512), (7, 7)),
                     ((100000,), (255,)), ((2000, 3), (3, 3))]:
        for dt in ("float32", "float64"):
            a, b = arr(s1, dt), arr(s2, dt)
            cases.append((f"oaconvolve {s1} x {s2} {dt}",
                          lambda a=a, b=b: fastconv.oaconvolve(a, b),
                          lambda a=a, b=b: ss.oaconvolve(a, b)))
    filters = [("uniform_filter1d 15", "uniform_filter1d", (15,)),
               ("correlate1d 9", "correlate1d", (np.arange(9.0),)),
               ("sobel", "sobel", ()), ("laplace", "laplace", ()),
               ("gaussian_filter 1", "gaussian_filter", (1.0,)),
               ("uniform_filter 5", "uniform_filter", (5,))]
    for shape in [(50,), (200000,), (1000, 1), (100, 100, 1), (128, 128, 3), (512, 512),
                  (64, 64, 64)]:
        for dt in ("float32", "float64", "uint8"):
            x = arr(shape, dt)
            for label, name, args in filters:
                cases.append((f"ndimage.{label} {shape} {dt}",
                              lambda x=x, n=name, a=args: getattr(fnd, n)(x, *a),
                              lambda x=x, n=name, a=args: getattr(ndi, n)(x, *a)))
    # one pass along the middle axis of images with few channels (W of an
    # (H, W, C) array: lines interleaved C apart)
    middle = [("correlate1d 9", "correlate1d", (np.arange(9.0),)),
              ("uniform_filter1d 15", "uniform_filter1d", (15,)),
              ("gaussian_filter1d 2", "gaussian_filter1d", (2.0,))]
    for shape in [(512, 512, 3), (256, 256, 2)]:
        for dt in ("float32", "float64", "uint8"):
            x = arr(shape, dt)
            for label, name, args in middle:
                cases.append((f"ndimage.{label} axis=1 {shape} {dt}",
                              lambda x=x, n=name, a=args: getattr(fnd, n)(x, *a, axis=1),
                              lambda x=x, n=name, a=args: getattr(ndi, n)(x, *a, axis=1)))
    return cases


def mid_cases(rng):
    """(name, fastconv call, {peer name: call}) of the ``mid`` workloads."""
    try:
        import cv2
    except ImportError:
        cv2 = None
    cases = []
    for dt in (np.float32, np.float64):
        for n in (64, 128, 256, 512):
            for k in (3, 5):
                a = rng.standard_normal((n, n)).astype(dt)
                w = rng.standard_normal((k, k)).astype(dt)
                wf = np.ascontiguousarray(w[::-1, ::-1])
                tag = f"{np.dtype(dt).name} {n}^2 x {k}^2"
                for name, ours, scipys, edge in (
                        ("convolve same", lambda a=a, w=w: fastconv.convolve(a, w, "same"),
                         lambda a=a, w=w: ss.convolve(a, w, "same"), "constant"),
                        ("convolve2d same", lambda a=a, w=w: fastconv.convolve2d(a, w, "same"),
                         lambda a=a, w=w: ss.convolve2d(a, w, "same"), "constant"),
                        ("convolve2d symm", lambda a=a, w=w: fastconv.convolve2d(
                            a, w, "same", "symm"),
                         lambda a=a, w=w: ss.convolve2d(a, w, "same", "symm"), "reflect"),
                        ("ndimage.correlate", lambda a=a, w=w: fnd.correlate(a, w),
                         lambda a=a, w=w: ndi.correlate(a, w), "reflect")):
                    peers = {"SciPy": scipys}
                    if cv2 is not None:
                        border = (cv2.BORDER_CONSTANT if edge == "constant"
                                  else cv2.BORDER_REFLECT)
                        kern = wf if name != "ndimage.correlate" else w
                        peers["cv2"] = (lambda a=a, kern=kern, border=border:
                                        cv2.filter2D(a, -1, kern, borderType=border))
                    cases.append((f"{name} {tag}", ours, peers))
            # a Gaussian of sigma k - 2 (1 and 3: 9 and 25 taps, truncate 4)
            for k in (3, 5):
                a = rng.standard_normal((n, n)).astype(dt)
                sigma = k - 2.0
                peers = {"SciPy": lambda a=a, s=sigma: ndi.gaussian_filter(a, s)}
                if cv2 is not None:
                    ksize = 2 * int(4 * sigma + 0.5) + 1
                    peers["cv2"] = (lambda a=a, s=sigma, ks=ksize: cv2.GaussianBlur(
                        a, (ks, ks), s, borderType=cv2.BORDER_REFLECT))
                cases.append((f"gaussian_filter {np.dtype(dt).name} {n}^2 sigma {sigma:g}",
                              lambda a=a, s=sigma: fnd.gaussian_filter(a, s), peers))
    return cases


def run_mid(repeats):
    rng = np.random.default_rng(0)
    print(f"{'workload':40s} {'fastconv':>10s}  speed-up (peer time / fastconv time)")
    for name, ours, peers in mid_cases(rng):
        t = interleaved(dict(ours=ours, **peers), repeats)
        ratios = "  ".join(f"{p} {t[p] / t['ours']:5.2f}x" for p in peers)
        print(f"{name:40s} {t['ours'] * 1e6:8.1f}us  {ratios}", flush=True)


def run_sweep(repeats, below):
    rng = np.random.default_rng(0)
    print(f"{'workload':58s} {'fastconv':>10s} {'SciPy':>10s}  ratio (SciPy/fastconv)")
    ratios = []
    for name, ours, peer in sweep_cases(rng):
        t = interleaved({"ours": ours, "peer": peer}, repeats)
        r = t["peer"] / t["ours"]
        ratios.append((r, name))
        if r < below:
            print(f"{name:58s} {t['ours'] * 1e6:8.1f}us {t['peer'] * 1e6:8.1f}us  {r:.2f}x",
                  flush=True)
    ratios.sort()
    print(f"{len(ratios)} workloads; {sum(r < 1.0 for r, _ in ratios)} below 1.0x, "
          f"lowest {ratios[0][0]:.2f}x ({ratios[0][1]}), median "
          f"{statistics.median(r for r, _ in ratios):.2f}x")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["small", "busy", "scaling", "overhead", "icount", "sweep",
                                     "mid"])
    ap.add_argument("name", nargs="?", default="direct")
    ap.add_argument("n", nargs="?", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--below", type=float, default=1.05,
                    help="sweep: print the workloads below this ratio (default 1.05)")
    ap.add_argument("--load", type=int, default=len(os.sched_getaffinity(0))
                    if hasattr(os, "sched_getaffinity") else os.cpu_count())
    args = ap.parse_args(argv)
    if args.what == "icount":
        return run_icount(args.name, args.n)
    print(f"fastconv {fastconv.__version__}; SIMD "
          f"{fastconv.show_config(print_out=False)['simd']['level']}; "
          f"CPUs {os.cpu_count()}; python {sys.version.split()[0]}")
    if args.what == "small":
        run_small(args.repeats or 41)
    elif args.what == "busy":
        run_busy(args.repeats or 21, args.load)
    elif args.what == "scaling":
        run_scaling(args.repeats or 21)
    elif args.what == "sweep":
        run_sweep(args.repeats or 15, args.below)
    elif args.what == "mid":
        run_mid(args.repeats or 15)
    else:
        run_overhead(args.repeats or 201)


if __name__ == "__main__":
    main()
