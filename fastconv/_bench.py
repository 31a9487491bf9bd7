"""``python -m fastconv bench``: the BENCHMARKS.md workloads on this machine.

Every number is a ratio against a named peer measured in the same process and
run, on the same fresh random inputs, median of several repeats after a
warm-up, the libraries called in turn (not in long runs of one).  Peers that
are not installed are skipped.  The process re-executes itself once with
glibc's malloc thresholds raised (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_)
so no library pays page faults for its own temporaries on every call.

Speed-up = peer time / fastconv time (higher is better).
"""

import json
import os
import sys
import time

import numpy as np

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "1000000000",
              "MALLOC_TRIM_THRESHOLD_": "100000000000"}


def _maybe_reexec(argv):
    if all(os.environ.get(k) == v for k, v in MALLOC_ENV.items()):
        return
    if os.environ.get("FASTCONV_BENCH_NO_REEXEC"):
        return
    env = dict(os.environ, **MALLOC_ENV)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "fastconv", "bench"] + list(argv), env)


PLANNER_TOLERANCE = 1.25   # auto must be within this factor of its best method


def _import(name):
    try:
        return __import__(name)
    except Exception:
        return None


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total, enabled=True):
        self.total, self.done, self.enabled = total, 0, enabled and total > 0

    def step(self, label):
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = int(width * self.done / self.total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] "
                         f"{self.done}/{self.total} {label[:40]:40s}")
        sys.stderr.flush()
        if self.done == self.total:
            sys.stderr.write("\n")


def time_interleaved(funcs, repeats):
    """Median seconds of each function, called in turn, after one warm-up each.

    The order is shuffled (seeded) for every repeat, so no function always
    runs right after the same other one: a long FFT leaves the caches cold
    and a peer's spinning thread pool takes a core from whatever comes next."""
    for f in funcs.values():
        f()
    items = list(funcs.items())
    times = {k: [] for k in funcs}
    order = np.random.default_rng(len(items))
    for _ in range(repeats):
        for i in order.permutation(len(items)):
            k, f = items[i]
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return {k: float(np.median(v)) for k, v in times.items()}


def _rng():
    return np.random.default_rng(20261121)


def workloads(quick):
    """(section, name, flops, {label: callable}, {method: callable}) for every
    workload: the peers, and (sections A-C) fastconv's individual methods
    that ``method='auto'`` chooses between."""
    import scipy.ndimage as ndi
    import scipy.signal as ss

    import fastconv
    torch = _import("torch")
    cv2 = _import("cv2")
    if torch is not None:
        torch.set_num_threads(max(1, fastconv.show_config(print_out=False)["threads"]))
    rng = _rng()
    out = []
    convolve = getattr(fastconv, "convolve", None)

    def fc_same(img, ker):
        if convolve is not None:
            return lambda: convolve(img, ker, mode="same")
        flipped = np.ascontiguousarray(ker[(slice(None, None, -1),) * ker.ndim])
        x, w = img[None, None], flipped[None, None]
        return lambda: fastconv.conv(x, w, padding="same")[0, 0]

    def methods(img, ker):
        """fastconv's own methods, to check the planner ('auto') against."""
        if convolve is None:
            return {}
        return {"direct": lambda: convolve(img, ker, mode="same", method="direct"),
                "fft": lambda: fastconv.fftconvolve(img, ker, mode="same"),
                "oa": lambda: fastconv.oaconvolve(img, ker, mode="same")}

    # A: single-channel 2-D filtering
    size = 512 if quick else 2048
    for dt in (np.float32, np.float64):
        img = rng.standard_normal((size, size)).astype(dt)
        for k in ((3, 9) if quick else (3, 5, 9, 15, 31)):
            ker = rng.standard_normal((k, k)).astype(dt)
            f = {"fastconv": fc_same(img, ker),
                 "scipy.signal.convolve(auto)": lambda img=img, ker=ker: ss.convolve(img, ker, "same"),
                 "scipy.ndimage.convolve": lambda img=img, ker=ker: ndi.convolve(img, ker, mode="constant")}
            if k <= 9 or not quick:
                f["scipy.signal.oaconvolve"] = lambda img=img, ker=ker: ss.oaconvolve(img, ker, "same")
            if k <= 9:
                f["scipy.signal.convolve(direct)"] = (
                    lambda img=img, ker=ker: ss.convolve(img, ker, "same", method="direct"))
            if cv2 is not None:
                kf = np.ascontiguousarray(ker[::-1, ::-1])
                f["cv2.filter2D"] = (lambda img=img, kf=kf: cv2.filter2D(
                    img, -1, kf, borderType=cv2.BORDER_CONSTANT))
            out.append(("A", f"2-D {size}^2 {np.dtype(dt).name} {k}x{k}", 2.0 * img.size * k * k, f,
                        methods(img, ker)))
    # B: 1-D signals
    n = 1 << (16 if quick else 22)
    sig = rng.standard_normal(n).astype(np.float32)
    for taps in ((7, 127) if quick else (7, 31, 127, 1023)):
        h = rng.standard_normal(taps).astype(np.float32)
        f = {"fastconv": fc_same(sig, h),
             "numpy.convolve": lambda h=h: np.convolve(sig, h, "same"),
             "scipy.signal.convolve(auto)": lambda h=h: ss.convolve(sig, h, "same"),
             "scipy.signal.oaconvolve": lambda h=h: ss.oaconvolve(sig, h, "same")}
        out.append(("B", f"1-D 2^{int(np.log2(n))} float32 {taps} taps", 2.0 * n * taps, f,
                    methods(sig, h)))
    # C: 3-D volumes
    m = 48 if quick else 128
    vol = rng.standard_normal((m, m, m)).astype(np.float32)
    for k in ((3,) if quick else (3, 5, 7)):
        ker = rng.standard_normal((k, k, k)).astype(np.float32)
        f = {"fastconv": fc_same(vol, ker),
             "scipy.signal.convolve(auto)": lambda ker=ker: ss.convolve(vol, ker, "same"),
             "scipy.ndimage.convolve": lambda ker=ker: ndi.convolve(vol, ker, mode="constant")}
        if torch is not None:
            vt = torch.from_numpy(vol[None, None])
            kt = torch.from_numpy(np.ascontiguousarray(ker[::-1, ::-1, ::-1])[None, None])
            f["torch.conv3d"] = lambda vt=vt, kt=kt, k=k: torch.nn.functional.conv3d(
                vt, kt, padding=k // 2)
        out.append(("C", f"3-D {m}^3 float32 {k}^3", 2.0 * vol.size * k ** 3, f,
                    methods(vol, ker)))
    # D: CNN layers (float32, channels_first, PyTorch peer)
    div = 4 if quick else 1
    layers = [
        ("conv2d 64->64 56x56 3x3", (16 // div, 64, 56, 56), (64, 64, 3, 3), 1, 1, 1),
        ("conv2d stem 3->64 224x224 7x7 s2", (16 // div, 3, 224 // div, 224 // div),
         (64, 3, 7, 7), 2, 3, 1),
        ("conv2d deep 256->256 14x14 3x3", (16 // div, 256, 14, 14), (256, 256, 3, 3), 1, 1, 1),
        ("pointwise 64->64 56x56 1x1", (16 // div, 64, 56, 56), (64, 64, 1, 1), 1, 0, 1),
        ("depthwise 128 56x56 3x3", (16 // div, 128, 56, 56), (128, 1, 3, 3), 1, 1, 128),
        ("conv1d 64->64 L4096 k7", (16 // div, 64, 4096), (64, 64, 7), 1, 3, 1),
        ("conv3d 16->32 32^3 3x3x3", (4 // min(div, 4), 16, 32, 32, 32), (32, 16, 3, 3, 3), 1, 1, 1),
    ]
    for name, xs, ws, s, p, g in layers:
        x = rng.standard_normal(xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32)
        y = fastconv.conv(x, w, stride=s, padding=p, groups=g)
        flops = 2.0 * y.size * int(np.prod(ws[1:]))
        f = {"fastconv": lambda x=x, w=w, s=s, p=p, g=g: fastconv.conv(x, w, stride=s, padding=p,
                                                                       groups=g)}
        if torch is not None:
            fn = getattr(torch.nn.functional, f"conv{len(xs) - 2}d")
            xt, wt = torch.from_numpy(x), torch.from_numpy(w)
            f["torch"] = lambda fn=fn, xt=xt, wt=wt, s=s, p=p, g=g: fn(xt, wt, stride=s,
                                                                       padding=p, groups=g)
        out.append(("D", name, flops, f, {}))
    # D: backward of the first conv2d layer (input and weight gradients)
    if hasattr(fastconv, "conv_backward"):
        name, xs, ws, s, p, g = layers[0]
        x = rng.standard_normal(xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32)
        gy = rng.standard_normal((xs[0], ws[0]) + xs[2:], dtype=np.float32)
        f = {"fastconv": lambda: fastconv.conv_backward(gy, x, w, padding=p)}
        if torch is not None:
            xt = torch.from_numpy(x)
            wt = torch.from_numpy(w)
            gyt = torch.from_numpy(gy)

            def torch_backward():
                gx = torch.nn.grad.conv2d_input(xt.shape, wt, gyt, padding=p)
                gw = torch.nn.grad.conv2d_weight(xt, wt.shape, gyt, padding=p)
                return gx, gw
            f["torch"] = torch_backward
        out.append(("D", "backward (input+weight) " + name,
                    4.0 * np.prod(gy.shape) * np.prod(ws[1:]), f, {}))
    return out


def filter_workloads(quick):
    """F: scipy.ndimage's separable filters, float32 (issue 15), in the
    format of :func:`workloads`.  Peers: scipy.ndimage and OpenCV with the
    same kernels and border (``BORDER_REFLECT`` = ndimage's ``'reflect'``).
    The GFLOP/s column counts 2 flops per tap per pass and output (the
    direct separable cost; the folded and running-sum kernels do fewer)."""
    import scipy.ndimage as ndi

    from fastconv import ndimage as fndi
    cv2 = _import("cv2")
    rng = _rng()
    n, m = (512, 48) if quick else (2048, 128)
    img = rng.standard_normal((n, n)).astype(np.float32)
    vol = rng.standard_normal((m, m, m)).astype(np.float32)
    rows = []
    f = {"fastconv": lambda: fndi.gaussian_filter(img, 3),
         "scipy.ndimage": lambda: ndi.gaussian_filter(img, 3)}
    if cv2 is not None:
        f["cv2.GaussianBlur"] = lambda: cv2.GaussianBlur(img, (25, 25), 3,
                                                         borderType=cv2.BORDER_REFLECT)
    rows.append(("F", f"gaussian_filter {n}^2 float32 sigma=3", 2.0 * 2 * 25 * img.size, f, {}))
    f = {"fastconv": lambda: fndi.uniform_filter(img, 9),
         "scipy.ndimage": lambda: ndi.uniform_filter(img, 9)}
    if cv2 is not None:
        f["cv2.blur"] = lambda: cv2.blur(img, (9, 9), borderType=cv2.BORDER_REFLECT)
    rows.append(("F", f"uniform_filter {n}^2 float32 size=9", 2.0 * 2 * 9 * img.size, f, {}))
    rows.append(("F", f"sobel {n}^2 float32", 2.0 * 2 * 3 * img.size,
                  {"fastconv": lambda: fndi.sobel(img), "scipy.ndimage": lambda: ndi.sobel(img)},
                  {}))
    rows.append(("F", f"gaussian_filter {m}^3 float32 sigma=2", 2.0 * 3 * 17 * vol.size,
                 {"fastconv": lambda: fndi.gaussian_filter(vol, 2),
                  "scipy.ndimage": lambda: ndi.gaussian_filter(vol, 2)}, {}))
    return rows


def scaling(quick, repeats):
    """E: 1 -> 2 threads, bitwise identity, and extra peak memory."""
    import tracemalloc

    import fastconv
    rng = _rng()
    rows = []
    cases = [
        ("A 2-D 9x9 float32", (1, 1) + ((512, 512) if quick else (2048, 2048)), (1, 1, 9, 9), 4, 1),
        ("D conv2d 64->64 3x3", ((4 if quick else 16), 64, 56, 56), (64, 64, 3, 3), 1, 1),
        ("C 3-D 5^3 float32", (1, 1) + ((48,) * 3 if quick else (128,) * 3), (1, 1, 5, 5, 5), 2, 1),
    ]
    for name, xs, ws, p, g in cases:
        x = rng.standard_normal(xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32)
        t = time_interleaved({1: lambda: fastconv.conv(x, w, padding=p, workers=1),
                              2: lambda: fastconv.conv(x, w, padding=p, workers=2)}, repeats)
        y1 = fastconv.conv(x, w, padding=p, workers=1)
        y2 = fastconv.conv(x, w, padding=p, workers=2)
        tracemalloc.start()
        y = fastconv.conv(x, w, padding=p)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        extra = max(0, peak - y.nbytes)
        rows.append({"workload": name, "t1": t[1], "t2": t[2], "scaling": t[1] / t[2],
                     "bitwise_identical": bool(np.array_equal(y1.view(np.uint32),
                                                              y2.view(np.uint32))),
                     "extra_peak_over_input": extra / x.nbytes})
    return rows


def main(args):
    argv = sys.argv[2:] if len(sys.argv) > 2 and sys.argv[1] == "bench" else []
    _maybe_reexec(argv)
    import fastconv
    quick = bool(getattr(args, "quick", False))
    sections = getattr(args, "sections", "ABCDEF") or "ABCDEF"
    repeats = 3 if quick else 7
    cfg = fastconv.show_config(print_out=False)
    print(f"fastconv {cfg['version']} | OpenMP {'on' if cfg['openmp']['enabled'] else 'off'} | "
          f"threads {cfg['threads']} | SIMD {cfg['simd']['level']} | "
          f"{'quick sizes' if quick else 'BENCHMARKS.md sizes'}; median of {repeats} after warm-up")
    work = [w for w in workloads(quick) if w[0] in sections]
    work += filter_workloads(quick) if "F" in sections else []
    prog = Progress(len(work) + (1 if "E" in sections else 0), sys.stderr.isatty())
    results = []
    for section, name, flops, funcs, meths in work:
        calls = dict(funcs)
        calls.update({"method:" + k: f for k, f in meths.items()})
        t = time_interleaved(calls, repeats)
        prog.step(name)
        row = {"section": section, "workload": name, "fastconv_s": t["fastconv"],
               "gflops": flops / t["fastconv"] / 1e9,
               "peers": {k: v for k, v in t.items()
                         if k != "fastconv" and not k.startswith("method:")}}
        if meths:
            row["methods"] = {k: t["method:" + k] for k in meths}
            best = min(row["methods"], key=row["methods"].get)
            row["planner"] = {"best": best,
                              "auto_over_best": t["fastconv"] / row["methods"][best]}
        results.append(row)
    scal = scaling(quick, repeats) if "E" in sections else []
    if scal:
        prog.step("scaling")
    current = None
    for row in results:
        if row["section"] != current:
            current = row["section"]
            print(f"\n== {current} ==")
            print(f"{'workload':40s} {'fastconv':>10s} {'GFLOP/s':>8s}  speed-up vs peers "
                  "(peer time / fastconv time)")
        ratios = "  ".join(f"{k} {v / row['fastconv_s']:.2f}x" for k, v in row["peers"].items())
        print(f"{row['workload']:40s} {row['fastconv_s'] * 1e3:8.2f}ms {row['gflops']:8.1f}  {ratios}")
        if "planner" in row:
            pl = row["planner"]
            ms = "  ".join(f"{k} {v * 1e3:.2f}ms" for k, v in row["methods"].items())
            flag = "ok" if pl["auto_over_best"] <= PLANNER_TOLERANCE else "SLOW"
            print(f"{'':40s} planner: auto / best method {pl['auto_over_best']:.2f}x "
                  f"({flag}; best {pl['best']}; {ms})")
    if scal:
        print("\n== E: scaling 1 -> 2 threads, determinism, memory ==")
        for r in scal:
            print(f"{r['workload']:28s} 1 thread {r['t1'] * 1e3:8.2f}ms  2 threads "
                  f"{r['t2'] * 1e3:8.2f}ms  scaling {r['scaling']:.2f}x  bitwise identical: "
                  f"{r['bitwise_identical']}  extra peak memory {r['extra_peak_over_input']:.2f}x input")
    if getattr(args, "json", None):
        with open(args.json, "w") as fh:
            json.dump({"config": cfg, "quick": quick, "repeats": repeats, "results": results,
                       "scaling": scal}, fh, indent=2, default=str)
        print(f"\nwrote {args.json}")
    return 0
