"""``python -m fastconv bench``: fastconv against its peers on this machine.

Six groups of workloads, named in words (``--sections``): 2-D filtering of
one image, 1-D signals, 3-D volumes, CNN layers, thread scaling (with
determinism and memory) and scipy.ndimage's linear filters.  The documentation's benchmarks page
describes them and their targets.

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
import platform
import sys
import threading
import time
import types

import numpy as np

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "1000000000",
              "MALLOC_TRIM_THRESHOLD_": "100000000000"}


# --peer-isa avx2: PyTorch's oneDNN and ATen kernels capped at AVX2, read by
# those libraries when they load.  With FASTCONV_SIMD=avx2 on an AVX-512 CPU
# the CNN comparison is then that of an AVX2-only CPU (OpenCV, NumPy and
# SciPy keep their own dispatch).
PEER_ISA_ENV = {"native": {},
                "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}}


def reexec_env(peer_isa="native"):
    """The variables the benchmark process needs set before the libraries
    load: glibc's malloc settings (see docs/benchmarks.rst, *The allocator*)
    and those of ``--peer-isa``.  Empty when the environment has them."""
    want = dict(MALLOC_ENV, **PEER_ISA_ENV[peer_isa])
    return {} if all(os.environ.get(k) == v for k, v in want.items()) else want


def _maybe_reexec(argv, peer_isa="native"):
    env = reexec_env(peer_isa)
    if not env or os.environ.get("FASTCONV_BENCH_NO_REEXEC"):
        return
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "fastconv", "bench"] + list(argv),
              dict(os.environ, **env))


def peer_isa_text():
    """What the peers' SIMD dispatch is in this process (the header line)."""
    capped = [k for k in PEER_ISA_ENV["avx2"] if k in os.environ]
    if not capped:
        return "peers: their own SIMD dispatch"
    return "peers: " + ", ".join(f"{k}={os.environ[k]}" for k in capped)


PLANNER_TOLERANCE = 1.25   # auto must be within this factor of its best method


def _import(name):
    try:
        return __import__(name)
    except Exception:
        return None


# section id (as stored in the JSON) -> (name for --sections, title)
SECTIONS = {
    "A": ("filter2d", "2-D filtering of one image (the SciPy / OpenCV user)"),
    "B": ("signal1d", "1-D signals"),
    "C": ("volume3d", "3-D volumes"),
    "D": ("cnn", "CNN layers, float32 (the PyTorch user)"),
    "E": ("scaling", "Thread scaling, determinism and memory"),
    "F": ("filters", "scipy.ndimage's linear filters (gaussian, uniform, sobel)"),
}
SECTION_BY_NAME = {name: key for key, (name, _) in SECTIONS.items()}

RATIO_LINE = ("speed-up = peer time / fastconv time, measured in this run: 2.00x means "
              "fastconv took half the peer's time; below 1.00x the peer was faster.")


def parse_sections(text):
    """``'filter2d,cnn'`` (or ``'all'``) -> the section ids, in order."""
    if text is None or text.strip().lower() in ("", "all"):
        return list(SECTIONS)
    keys = []
    for item in text.replace(" ", "").split(","):
        if item in SECTION_BY_NAME:
            keys.append(SECTION_BY_NAME[item])
        elif item.upper() in SECTIONS and len(item) == 1:   # the old one-letter ids
            keys.append(item.upper())
        else:
            raise ValueError(f"--sections: unknown section {item!r}; choose from "
                             f"{', '.join(SECTION_BY_NAME)} (comma-separated) or all")
    return [k for k in SECTIONS if k in keys]


class Progress:
    """Progress on stderr: a bar on a terminal, else one line per workload."""

    def __init__(self, total, stream=None):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.t0 = time.perf_counter()

    def step(self, label):
        self.done += 1
        elapsed = time.perf_counter() - self.t0
        if self.tty:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] "
                              f"{self.done}/{self.total} {elapsed:5.0f}s {label[:50]:50s}")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{self.done}/{self.total}] {elapsed:.0f}s done: {label}\n")
        self.stream.flush()


def cpu_model():
    """The CPU's model name (``lscpu``'s "Model name"), or what the platform says."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_state(cpus, samples=15):
    """How busy the machine is: load average and the spread of a fixed loop.

    The loop (``np.sin`` over 100,000 numbers: one thread) does the same work
    every time; on a quiet machine its times agree within a few per cent.
    Returns a dict with ``loadavg`` (1 minute, None where unknown),
    ``spread`` ((90th - 10th percentile) / median of the loop's times) and
    ``busy`` (load average above half the usable CPUs, or spread > 25 %).
    """
    a = np.random.default_rng(0).standard_normal(100_000)
    out = np.empty_like(a)
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(10):
            np.sin(a, out=out)
        times.append(time.perf_counter() - t0)
    p10, p50, p90 = np.percentile(times, [10, 50, 90])
    spread = float((p90 - p10) / p50)
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - Windows
        load = None
    busy = spread > 0.25 or (load is not None and load > 0.5 * cpus + 0.5)
    return {"loadavg": load, "spread": spread, "busy": bool(busy), "cpus": cpus}


def _state_text(state):
    load = "unknown" if state["loadavg"] is None else f"{state['loadavg']:.2f}"
    return (f"load average {load} on {state['cpus']} usable CPUs; timing spread of a "
            f"fixed loop {state['spread'] * 100:.0f}%")


def time_interleaved(funcs, repeats):
    """Median seconds of each function, called in turn, after one warm-up each.

    The order is shuffled (seeded) for every repeat, so no function always
    runs right after the same other one: a long FFT leaves the caches cold
    and a peer's spinning thread pool takes a core from whatever comes next.
    A function whose warm-up took under ``STEADY_BELOW`` seconds is called
    three times back to back in its turn and the median of the three kept
    (see :func:`time_blocks`)."""
    return time_blocks(funcs, repeats, block="steady")


# Calls shorter than this are timed as the median of three back-to-back
# calls in their turn.  The first call after a long call of another library
# ran 2-5x slower than the next on a 2-vCPU KVM guest (2026-12-05: a 2048^2
# 5 x 5 filter 1.8 ms in a loop, 3.5-14 ms right after a 3 s SciPy call; an
# 8 x 8 one 10 us, then 6-13 ms after 2 s of other work): caches, page
# tables and the idle vCPU all start cold.  A user's loop sees the steady
# state; the shuffled turns still keep one library from always following
# another.
STEADY_BELOW = 0.02


def time_blocks(funcs, repeats, block=5):
    """Median seconds of each function, called in turn (order shuffled per
    repeat, as :func:`time_interleaved`), each turn `block` calls back to back
    of which the median is kept.

    This is the steady state of repeated calls: the team's second thread
    is awake and its core warm.  Call by call, a 2-thread call that follows
    a 1-thread one first wakes a thread whose core sat idle (tens of
    microseconds to a few ms on a virtual machine).  ``block="steady"``
    gives three calls to a function whose warm-up took under
    ``STEADY_BELOW`` seconds and one to the others."""
    blocks = {}
    for k, f in funcs.items():
        t0 = time.perf_counter()
        f()
        warm = time.perf_counter() - t0
        if block == "steady" and STEADY_BELOW <= warm < 1.0:
            # a first call pays one-time costs: judge by the second
            t0 = time.perf_counter()
            f()
            warm = time.perf_counter() - t0
        blocks[k] = (block if block != "steady"
                     else 3 if warm < STEADY_BELOW else 1)
    items = list(funcs.items())
    times = {k: [] for k in funcs}
    order = np.random.default_rng(len(items))
    for _ in range(repeats):
        for i in order.permutation(len(items)):
            k, f = items[i]
            ts = []
            for _ in range(blocks[k]):
                t0 = time.perf_counter()
                f()
                ts.append(time.perf_counter() - t0)
            times[k].append(float(np.median(ts)))
    return {k: float(np.median(v)) for k, v in times.items()}


def _rng():
    return np.random.default_rng(20261121)


def _other_threads_ticks():
    """CPU ticks used so far by each thread of this process but the calling
    one (Linux: /proc/self/task), or None where that is unknown."""
    try:
        me = threading.get_native_id()
        tids = os.listdir("/proc/self/task")
    except (AttributeError, OSError):
        return None
    ticks = {}
    for tid in tids:
        if tid == str(me):
            continue
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ticks[tid] = int(fields[11]) + int(fields[12])     # utime + stime
        except (OSError, ValueError, IndexError):
            continue        # a thread that has just ended
    return ticks


def settle_threads(timeout=3.0, quiet=0.15):
    """Wait until no other thread of this process has used CPU for `quiet`
    seconds (at most `timeout` seconds; 0.5 s where threads cannot be
    watched).

    A BLAS library spins its thread pool for a while after it is loaded:
    OpenCV brings its own OpenBLAS, and the first workload timed right
    after ``import cv2`` ran 2x slower than half a second later (a 2048^2
    float32 3 x 3 filter: 1.4-1.6 ms against 0.77, Zen 5, 2 vCPUs), the
    spinning thread taking a core from the threads being timed.  Returns
    True once the others are idle, False after `timeout` (or where threads
    cannot be watched)."""
    start = time.perf_counter()
    before = _other_threads_ticks()
    if before is None:
        time.sleep(0.5)
        return False
    while time.perf_counter() - start < timeout:
        time.sleep(quiet)
        now = _other_threads_ticks()
        if now is None:
            return False
        if all(now.get(t, 0) == v for t, v in before.items()):
            return True
        before = now
    return False


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
    settle_threads()
    ctx = types.SimpleNamespace(rng=_rng(), torch=torch, cv2=cv2, ss=ss, ndi=ndi,
                                fastconv=fastconv)
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
        # 'fft': the FFT route 'auto' takes (tiled overlap-save for real
        # operands); 'oa': overlap-add, SciPy's algorithm
        return {"direct": lambda: convolve(img, ker, mode="same", method="direct"),
                "fft": lambda: convolve(img, ker, mode="same", method="fft"),
                "oa": lambda: fastconv.oaconvolve(img, ker, mode="same")}

    ctx.fc_same, ctx.methods = fc_same, methods
    return _filter2d(ctx, quick) + _signal_volume(ctx, quick) + _cnn_layers(ctx, quick)


def _filter2d(ctx, quick):
    """Section A of :func:`workloads`."""
    ss, ndi, cv2 = ctx.ss, ctx.ndi, ctx.cv2
    out = []
    # A: single-channel 2-D filtering
    size = 512 if quick else 2048
    for dt in (np.float32, np.float64):
        img = ctx.rng.standard_normal((size, size)).astype(dt)
        for k in ((3, 9) if quick else (3, 5, 9, 15, 31)):
            ker = ctx.rng.standard_normal((k, k)).astype(dt)
            f = {"fastconv": ctx.fc_same(img, ker),
                 "scipy.signal.convolve(auto)": lambda img=img, ker=ker: ss.convolve(img, ker, "same"),
                 "scipy.ndimage.convolve": lambda img=img, ker=ker: ndi.convolve(img, ker, mode="constant")}
            if k <= 9 or not quick:
                f["scipy.signal.oaconvolve"] = lambda img=img, ker=ker: ss.oaconvolve(img, ker, "same")
            if k >= 15:
                f["scipy.signal.fftconvolve"] = (
                    lambda img=img, ker=ker: ss.fftconvolve(img, ker, "same"))
            if k <= 9:
                f["scipy.signal.convolve(direct)"] = (
                    lambda img=img, ker=ker: ss.convolve(img, ker, "same", method="direct"))
            if cv2 is not None:
                kf = np.ascontiguousarray(ker[::-1, ::-1])
                f["cv2.filter2D"] = (lambda img=img, kf=kf: cv2.filter2D(
                    img, -1, kf, borderType=cv2.BORDER_CONSTANT))
            out.append(("A", f"2-D {size}^2 {np.dtype(dt).name} {k}x{k}", 2.0 * img.size * k * k, f,
                        ctx.methods(img, ker)))
    return out


def _signal_volume(ctx, quick):
    """Sections B and C of :func:`workloads`."""
    ss, ndi, torch = ctx.ss, ctx.ndi, ctx.torch
    out = []
    # B: 1-D signals
    n = 1 << (16 if quick else 22)
    sig = ctx.rng.standard_normal(n).astype(np.float32)
    for taps in ((7, 127) if quick else (7, 31, 127, 1023)):
        h = ctx.rng.standard_normal(taps).astype(np.float32)
        f = {"fastconv": ctx.fc_same(sig, h),
             "numpy.convolve": lambda h=h: np.convolve(sig, h, "same"),
             "scipy.signal.convolve(auto)": lambda h=h: ss.convolve(sig, h, "same"),
             "scipy.signal.oaconvolve": lambda h=h: ss.oaconvolve(sig, h, "same")}
        out.append(("B", f"1-D 2^{int(np.log2(n))} float32 {taps} taps", 2.0 * n * taps, f,
                    ctx.methods(sig, h)))
    # C: 3-D volumes
    m = 48 if quick else 128
    vol = ctx.rng.standard_normal((m, m, m)).astype(np.float32)
    for k in ((3,) if quick else (3, 5, 7)):
        ker = ctx.rng.standard_normal((k, k, k)).astype(np.float32)
        f = {"fastconv": ctx.fc_same(vol, ker),
             "scipy.signal.convolve(auto)": lambda ker=ker: ss.convolve(vol, ker, "same"),
             "scipy.ndimage.convolve": lambda ker=ker: ndi.convolve(vol, ker, mode="constant")}
        if torch is not None:
            vt = torch.from_numpy(vol[None, None])
            kt = torch.from_numpy(np.ascontiguousarray(ker[::-1, ::-1, ::-1])[None, None])
            f["torch.conv3d"] = lambda vt=vt, kt=kt, k=k: torch.nn.functional.conv3d(
                vt, kt, padding=k // 2)
        out.append(("C", f"3-D {m}^3 float32 {k}^3", 2.0 * vol.size * k ** 3, f,
                    ctx.methods(vol, ker)))
    return out


def _cnn_layers(ctx, quick):
    """Section D of :func:`workloads`."""
    torch, fastconv = ctx.torch, ctx.fastconv
    out = []
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
        x = ctx.rng.standard_normal(xs, dtype=np.float32)
        w = ctx.rng.standard_normal(ws, dtype=np.float32)
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
        x = ctx.rng.standard_normal(xs, dtype=np.float32)
        w = ctx.rng.standard_normal(ws, dtype=np.float32)
        gy = ctx.rng.standard_normal((xs[0], ws[0]) + xs[2:], dtype=np.float32)
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
    """F: scipy.ndimage's separable filters, float32, in the
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
        ("2-D filtering 9x9 float32", (1, 1) + ((512, 512) if quick else (2048, 2048)), (1, 1, 9, 9), 4, 1),
        ("CNN conv2d 64->64 3x3", ((4 if quick else 16), 64, 56, 56), (64, 64, 3, 3), 1, 1),
        ("3-D volume 5^3 float32", (1, 1) + ((48,) * 3 if quick else (128,) * 3), (1, 1, 5, 5, 5), 2, 1),
    ]
    for name, xs, ws, p, g in cases:
        x = rng.standard_normal(xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32)
        calls = {1: lambda: fastconv.conv(x, w, padding=p, workers=1),
                 2: lambda: fastconv.conv(x, w, padding=p, workers=2)}
        t = time_interleaved(calls, repeats)
        tb = time_blocks(calls, repeats)
        y1 = fastconv.conv(x, w, padding=p, workers=1)
        y2 = fastconv.conv(x, w, padding=p, workers=2)
        tracemalloc.start()
        y = fastconv.conv(x, w, padding=p)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        extra = max(0, peak - y.nbytes)
        rows.append({"workload": name, "t1": t[1], "t2": t[2], "scaling": t[1] / t[2],
                     "t1_blocks": tb[1], "t2_blocks": tb[2],
                     "scaling_blocks": tb[1] / tb[2],
                     "bitwise_identical": bool(np.array_equal(y1.view(np.uint32),
                                                              y2.view(np.uint32))),
                     "extra_peak_over_input": extra / x.nbytes})
    return rows


def speedup_figure(rows, title, machine=None):
    """A matplotlib figure of fastconv's speed-up over each peer, per workload.

    `rows` are result rows of one section (``workload``, ``fastconv_s``,
    ``peers``); `machine` (a string: the CPU and SIMD level) is written under
    the title.  One line per workload, one marker per peer, log scale; the
    line at 1x separates "fastconv faster" (right) from "peer faster" (left).
    """
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peers = sorted({p for row in rows for p in row["peers"]})
    n_rows = len(rows)
    fig, ax = plt.subplots(figsize=(9.0, 0.34 * n_rows + 1.7))
    cmap = plt.get_cmap("tab10")
    markers = "oDs^vP*Xh<>"
    for ip, peer in enumerate(peers):
        ys, vals = [], []
        for ir, row in enumerate(rows):
            t = row["peers"].get(peer)
            if t:
                ys.append(ir)
                vals.append(t / row["fastconv_s"])
        ax.scatter(vals, ys, s=38, color=cmap(ip % 10), marker=markers[ip % len(markers)],
                   label=peer, zorder=3, edgecolors="white", linewidths=0.5)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ratios = [t / row["fastconv_s"] for row in rows for t in row["peers"].values() if t]
    lo, hi = min(ratios + [1.0]), max(ratios + [1.0])
    steps = (1,) if hi / lo > 300 else (1, 2, 5)  # fewer labels over a wide range
    ticks = [v * 10.0 ** e for e in range(-4, 5) for v in steps]
    ticks = [t for t in ticks if lo / 2.5 <= t <= hi * 2.5]
    ax.set_xlim(min(ticks[0], lo / 1.3), max(ticks[-1], hi * 1.3))
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}x" for t in ticks])
    ax.minorticks_off()
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels([row["workload"] for row in rows], fontsize=8)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xlabel("speed-up = peer time / fastconv time (log scale; > 1: fastconv faster)")
    ax.set_title(title if not machine else f"{title}\n{machine}", fontsize=10, loc="left")
    if peers:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.grid(axis="y", alpha=0.15)
    fig.tight_layout()
    return fig


def machine_label(data):
    """One line naming where a results file was measured: CPU, SIMD level, threads."""
    cfg = data.get("config") or {}
    mach = data.get("machine") or {}
    simd = cfg.get("simd") or {}
    cpu = mach.get("cpu") or "CPU model not recorded"
    label = (f"{cpu}; the CPU supports {simd.get('cpu_supports', '?')}, kernels ran at "
             f"{simd.get('level', '?')}; {cfg.get('threads', '?')} threads")
    if mach.get("busy"):
        label += "; machine busy: ratios not trustworthy"
    return label


def save_plot(data, path):
    """Save one PNG with a panel of speed-ups per section of `data` (the JSON)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sections = [k for k in SECTIONS if any(r["section"] == k for r in data["results"])]
    if not sections:
        raise ValueError("--plot: no speed-ups to plot (no section with peers ran)")
    images = []
    for key in sections:
        rows = [r for r in data["results"] if r["section"] == key]
        fig = speedup_figure(rows, SECTIONS[key][1], machine_label(data))
        fig.canvas.draw()
        images.append(np.asarray(fig.canvas.buffer_rgba()))
        plt.close(fig)
    width = max(im.shape[1] for im in images)
    padded = [np.pad(im, ((0, 0), (0, width - im.shape[1]), (0, 0)), constant_values=255)
              for im in images]
    plt.imsave(path, np.concatenate(padded, axis=0))


def _run_workloads(work, repeats, prog):
    """Time every workload (peers and fastconv's methods, in turn)."""
    results = []
    for section, name, flops, funcs, meths in work:
        calls = dict(funcs)
        calls.update({"method:" + k: f for k, f in meths.items()})
        t = time_interleaved(calls, repeats)
        prog.step(f"{SECTIONS[section][0]}: {name}")
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
    return results


def _print_results(results, scal):
    """The tables, one per section, and the scaling lines."""
    current = None
    for row in results:
        if row["section"] != current:
            current = row["section"]
            print(f"\n== {SECTIONS[current][1]} ==")
            print(f"{'workload':40s} {'fastconv':>10s} {'GFLOP/s':>8s}  speed-up over each peer")
            if current in "ABC":
                print(f"{'':40s} planner: fastconv's method='auto' time / its fastest method's "
                      f"(direct, fft, oa), should be <= {PLANNER_TOLERANCE:.2f}x")
        ratios = "  ".join(f"{k} {v / row['fastconv_s']:.2f}x" for k, v in row["peers"].items())
        print(f"{row['workload']:40s} {row['fastconv_s'] * 1e3:8.2f}ms {row['gflops']:8.1f}  "
              f"{ratios or '(no peer installed)'}")
        if "planner" in row:
            pl = row["planner"]
            ms = "  ".join(f"{k} {v * 1e3:.2f}ms" for k, v in row["methods"].items())
            flag = ("ok" if pl["auto_over_best"] <= PLANNER_TOLERANCE
                    else f"over {PLANNER_TOLERANCE:.2f}x: auto chose a slower method")
            print(f"{'':40s} planner: {pl['auto_over_best']:.2f}x "
                  f"({flag}; fastest {pl['best']}; {ms})")
    if scal:
        print(f"\n== {SECTIONS['E'][1]} ==")
        print("scaling = 1-thread time / 2-thread time: 2.00x is perfect on 2 free cores; "
              "near or below 1.00x means the second core was busy with another process.  "
              "Call by call: 1- and 2-thread calls alternate (each 2-thread call first "
              "wakes a thread on an idle core); in blocks: 5 calls in a row per turn "
              "(repeated calls, the steady state).")
        for r in scal:
            print(f"{r['workload']:28s} 1 thread {r['t1'] * 1e3:8.2f}ms  2 threads "
                  f"{r['t2'] * 1e3:8.2f}ms  scaling {r['scaling']:.2f}x (call by call), "
                  f"{r['scaling_blocks']:.2f}x (in blocks)  bitwise identical: "
                  f"{r['bitwise_identical']}  extra peak memory {r['extra_peak_over_input']:.2f}x input")


def main(args):
    argv = sys.argv[2:] if len(sys.argv) > 2 and sys.argv[1] == "bench" else []
    try:
        sections = parse_sections(getattr(args, "sections", None))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if getattr(args, "plot", None):
        import importlib.util
        if importlib.util.find_spec("matplotlib") is None:
            print("--plot needs matplotlib: pip install matplotlib", file=sys.stderr)
            return 2
    _maybe_reexec(argv, getattr(args, "peer_isa", "native") or "native")
    import fastconv
    quick = bool(getattr(args, "quick", False))
    repeats = 3 if quick else 7
    cfg = fastconv.show_config(print_out=False)
    cpu = cpu_model()
    state = machine_state(cfg["usable_cpus"])
    print(f"fastconv {cfg['version']} | {cpu} | OpenMP {'on' if cfg['openmp']['enabled'] else 'off'}"
          f" | threads {cfg['threads']} | SIMD {cfg['simd']['level']} | {peer_isa_text()}")
    print(f"{'quick (reduced) sizes' if quick else 'full sizes'}; median of {repeats} "
          "repeats after a warm-up, libraries called in turn (calls under "
          f"{STEADY_BELOW * 1e3:.0f} ms: the median of 3 back to back in each turn)")
    print(RATIO_LINE)
    if state["busy"]:
        print(f"note: the machine is busy before the run ({_state_text(state)})")
    work = [w for w in workloads(quick) if w[0] in sections]
    work += filter_workloads(quick) if "F" in sections else []
    prog = Progress(len(work) + (1 if "E" in sections else 0))
    results = _run_workloads(work, repeats, prog)
    scal = scaling(quick, repeats) if "E" in sections else []
    if scal:
        prog.step("scaling: 1 -> 2 threads")
    _print_results(results, scal)
    after = machine_state(cfg["usable_cpus"])
    busy = state["busy"] or after["busy"]
    if busy:
        again = " ".join(["python -m fastconv bench"] + argv)
        print(f"\nWARNING: the machine was busy during this run ({_state_text(after)} at the "
              "end).  Other processes took CPU time, so these timings and ratios are not "
              "trustworthy.  Close other programs (or wait for the load average to drop "
              f"below half the number of CPUs) and run again: {again}")
    data = {"config": cfg, "machine": {"cpu": cpu, "before": state, "after": after,
                                       "busy": busy},
            "quick": quick, "repeats": repeats, "results": results, "scaling": scal}
    if getattr(args, "json", None):
        with open(args.json, "w") as fh:
            json.dump(data, fh, indent=2, default=str)
        print(f"\nwrote {args.json}")
    if getattr(args, "plot", None):
        save_plot(data, args.plot)
        print(f"wrote {args.plot}")
    return 0
