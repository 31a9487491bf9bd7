"""CNN layers (the CNN section of docs/benchmarks.rst + the strided/dilated layer) against PyTorch and,
when installed, ONNX Runtime: interleaved medians in one process.

Usage (from the repository root, fastconv built in place)::

    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000 \\
        flock /tmp/fastconv-bench.lock python build_tools/bench_cnn.py [--repeats 9]
        [--threads 2] [--only NAME-SUBSTRING] [--threads 1 --cpu-clock]

``FASTCONV_SIMD=avx2`` selects the AVX2 kernels on an AVX-512 CPU.  Prints
one line per layer: the engine path, fastconv GFLOP/s and the ratio
peer time / fastconv time for each peer, and the cores other processes kept
busy while the layer was timed ("others").

Shared machines: with more threads than free cores, libgomp's default wait
policy (threads spin at barriers and between parallel regions) lets a
spinning thread hold a core the working one needs.  Both fastconv and
PyTorch (one libgomp, fastconv imported first) then slow down 3-4x, by
amounts that depend on each call's parallel regions, so 2-thread ratios
swing from 0.4x to 1.5x between runs (issue 17: depthwise measured 0.44x
here and 1.4-1.6x in a 2-call script).  ``--passive`` re-runs the script
with ``OMP_WAIT_POLICY=PASSIVE`` (threads sleep instead), and ``--threads 1
--cpu-clock`` times one thread's CPU time; the header warns when the
threads asked for exceed the free cores.

AVX2 stand-in on an AVX-512 CPU: ``FASTCONV_SIMD=avx2 ... bench_cnn.py
--peer-isa avx2`` caps PyTorch's oneDNN and ATen kernels at AVX2 too
(``ONEDNN_MAX_CPU_ISA=AVX2``, ``ATEN_CPU_CAPABILITY=avx2``), so both
libraries run as on an AVX2-only CPU; ONNX Runtime keeps its own dispatch.

Calls of the libraries alternate (order shuffled per repeat), so each call
follows another library's, whose thread pool may still be spinning
(2 threads, Intel Xeon: a fastconv conv3d call right after a PyTorch one
took 14.3 ms, after its own 12.7; PyTorch's 12.1 after fastconv's, 11.1
after its own).  ``--block 3`` times three calls back to back per turn and
keeps their median: the steady state of a program that calls one library
repeatedly.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.getcwd())

import fastconv  # noqa: E402
from fastconv import _bench, _dispatch, _engine  # noqa: E402
from fastconv._bench import PEER_ISA_ENV, time_blocks  # noqa: E402


def time_cpu(funcs, repeats):
    """Like time_interleaved, but the calling thread's CPU time (one
    thread only): the time a busy machine's other processes take from the
    core is not counted, so single-thread comparisons stay meaningful under
    load."""
    for f in funcs.values():
        f()
    times = {k: [] for k in funcs}
    order = np.random.default_rng(len(funcs))
    items = list(funcs.items())
    for _ in range(repeats):
        for i in order.permutation(len(items)):
            k, f = items[i]
            t0 = time.thread_time()
            f()
            times[k].append(time.thread_time() - t0)
    return {k: float(np.median(v)) for k, v in times.items()}

LAYERS = [
    # name, x shape, w shape, stride, padding, dilation, groups
    ("conv2d 64->64 56x56 3x3", (16, 64, 56, 56), (64, 64, 3, 3), 1, 1, 1, 1),
    ("stem 3->64 224 7x7 s2", (16, 3, 224, 224), (64, 3, 7, 7), 2, 3, 1, 1),
    ("deep 256->256 14x14 3x3", (16, 256, 14, 14), (256, 256, 3, 3), 1, 1, 1, 1),
    ("pointwise 64->64 56x56", (16, 64, 56, 56), (64, 64, 1, 1), 1, 0, 1, 1),
    ("depthwise 128 56x56 3x3", (16, 128, 56, 56), (128, 1, 3, 3), 1, 1, 1, 128),
    ("conv1d 64->64 L4096 k7", (16, 64, 4096), (64, 64, 7), 1, 3, 1, 1),
    ("conv3d 16->32 32^3 3^3", (4, 16, 32, 32, 32), (32, 16, 3, 3, 3), 1, 1, 1, 1),
    ("s2 d2 N8 32->64 64x64 3x3", (8, 32, 64, 64), (64, 32, 3, 3), 2, 2, 2, 1),
]


def layer_weights(ws, seed=1):
    """Weights as PyTorch initialises a conv layer (``kaiming_uniform_`` with
    a=sqrt(5): uniform in +-1/sqrt(fan_in)), so |w| < 1 as in a real network.
    (With N(0, 1) weights every |w| > 1 makes fastconv's overflow guard scan
    the whole input on each call: about 1-2 ms on the 25 MB depthwise
    input, Zen 2.)"""
    fan_in = int(np.prod(ws[1:]))
    bound = 1.0 / np.sqrt(fan_in)
    return np.random.default_rng(seed).uniform(-bound, bound, ws).astype(np.float32)


def _onnx_session(xs, ws, s, p, d, g, threads):
    try:
        import onnx
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return None
    rank = len(xs) - 2
    w = layer_weights(ws)
    node = helper.make_node("Conv", ["x", "w"], ["y"], strides=[s] * rank,
                            pads=[p] * (2 * rank), dilations=[d] * rank, group=g,
                            kernel_shape=list(ws[2:]))
    graph = helper.make_graph([node], "conv",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, xs)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"]), w


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--no-backward", action="store_true")
    ap.add_argument("--cpu-clock", action="store_true",
                    help="with --threads 1: time the thread's CPU time (busy machines)")
    ap.add_argument("--block", type=int, default=1,
                    help="calls per turn, back to back, of which the median is kept "
                         "(1: every call follows another library's; 3-5: the steady "
                         "state of repeated calls of one library)")
    ap.add_argument("--passive", action="store_true",
                    help="run with OMP_WAIT_POLICY=PASSIVE (re-executes the script)")
    ap.add_argument("--peer-isa", choices=("native", "avx2"), default="native",
                    help="avx2: cap PyTorch's oneDNN and ATen kernels at AVX2 "
                         "(ONEDNN_MAX_CPU_ISA=AVX2, ATEN_CPU_CAPABILITY=avx2; "
                         "re-executes the script): with FASTCONV_SIMD=avx2 on an "
                         "AVX-512 CPU, both libraries as on an AVX2-only CPU.  ONNX "
                         "Runtime has no such switch and keeps its own dispatch")
    a = ap.parse_args(argv)
    env = {}
    if a.passive and os.environ.get("OMP_WAIT_POLICY", "").upper() != "PASSIVE":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    peer = PEER_ISA_ENV[a.peer_isa]
    if any(os.environ.get(k) != v for k, v in peer.items()):
        env.update(peer)
    if env:
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, **env))
    if a.cpu_clock and a.threads != 1:
        ap.error("--cpu-clock needs --threads 1")
    if a.cpu_clock and a.block != 1:
        ap.error("--cpu-clock times single calls (no --block)")
    if a.cpu_clock:
        timer = time_cpu
    else:
        # --block 1 (the default): single calls, each after another
        # library's (not time_interleaved's steady-state blocks)
        def timer(funcs, repeats):
            return time_blocks(funcs, repeats, block=a.block)
    import torch
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(20261202)
    from fastconv import _threads
    cpus = _threads.usable_cpus()
    _threads.busy_cores()
    time.sleep(0.5)
    busy = _threads.busy_cores()
    print(f"fastconv SIMD {_dispatch.LEVEL}, threads {a.threads}, torch {torch.__version__} "
          f"(ATen {torch.backends.cpu.get_cpu_capability()}; {_bench.peer_isa_text()}), "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, "
          f"{cpus} CPUs, others keep {busy:.1f} busy")
    if a.threads > 1 and a.threads > cpus - busy + 0.25 and not a.cpu_clock:
        passive = os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
        print(f"WARNING: {a.threads} threads but only {max(0.0, cpus - busy):.1f} free cores: "
              + ("the threads share cores with other processes, the ratios are those of "
                 "a loaded machine" if passive else
                 "wall-clock ratios are unreliable (spinning OpenMP threads); use --passive "
                 "or --threads 1 --cpu-clock"), flush=True)
    for name, xs, ws, s, p, d, g in LAYERS:
        if a.only and a.only not in name:
            continue
        x = rng.standard_normal(xs, dtype=np.float32)
        ort_ = _onnx_session(xs, ws, s, p, d, g, a.threads)
        w = ort_[1] if ort_ else layer_weights(ws)
        rank = len(xs) - 2
        plan = _engine.plan_correlate(x.shape, w.shape, np.float32, stride=(s,) * rank,
                                      dilation=(d,) * rank, pads=((p, p),) * rank, groups=g)
        path = plan.path if plan.sub is None else f"{plan.path}/{plan.sub.path}"
        tile = plan.consts.get("tile") or (plan.sub.consts.get("tile") if plan.sub else None)
        y = fastconv.conv(x, w, stride=s, padding=p, dilation=d, groups=g, workers=a.threads)
        flops = 2.0 * y.size * int(np.prod(ws[1:]))
        fn = getattr(torch.nn.functional, f"conv{rank}d")
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        f = {"fastconv": lambda: fastconv.conv(x, w, stride=s, padding=p, dilation=d,
                                               groups=g, workers=a.threads),
             "torch": lambda: fn(xt, wt, stride=s, padding=p, dilation=d, groups=g)}
        if ort_:
            sess = ort_[0]
            f["onnxruntime"] = lambda: sess.run(None, {"x": x})
        _threads.busy_cores()
        t = timer(f, a.repeats)
        ratios = " ".join(f"{k} {t[k] / t['fastconv']:.2f}" for k in t if k != "fastconv")
        print(f"{name:28s} {path:18s} {str(tile or ''):14s} {flops / t['fastconv'] / 1e9:6.1f}"
              f" GFLOP/s  {t['fastconv'] * 1e3:8.2f} ms  {ratios}  others "
              f"{_threads.busy_cores():.1f}", flush=True)
    if not a.no_backward and (not a.only or a.only in "backward"):
        xs, ws = (16, 64, 56, 56), (64, 64, 3, 3)
        x = rng.standard_normal(xs, dtype=np.float32)
        w = layer_weights(ws)
        gy = rng.standard_normal((16, 64, 56, 56), dtype=np.float32)
        xt, wt, gyt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(gy)

        def tb():
            return (torch.nn.grad.conv2d_input(xt.shape, wt, gyt, padding=1),
                    torch.nn.grad.conv2d_weight(xt, wt.shape, gyt, padding=1))
        f = {"fastconv": lambda: fastconv.conv_backward(gy, x, w, padding=1,
                                                        workers=a.threads),
             "torch": tb}
        t = timer(f, a.repeats)
        flops = 4.0 * gy.size * 64 * 9
        print(f"{'backward 64->64 56x56':28s} {'':18s} {'':14s} "
              f"{flops / t['fastconv'] / 1e9:6.1f} GFLOP/s  {t['fastconv'] * 1e3:8.2f} ms  "
              f"torch {t['torch'] / t['fastconv']:.2f}", flush=True)
    # the weight gradient alone (conv_grad_weight), two layer shapes
    for wname, xs, ws in (("grad weight 64->64 56x56", (16, 64, 56, 56), (64, 64, 3, 3)),
                          ("grad weight 256->256 14x14", (16, 256, 14, 14), (256, 256, 3, 3))):
        if a.no_backward or (a.only and a.only not in wname):
            continue
        x = rng.standard_normal(xs, dtype=np.float32)
        gy = rng.standard_normal((xs[0], ws[0]) + xs[2:], dtype=np.float32)
        xt, gyt = torch.from_numpy(x), torch.from_numpy(gy)
        f = {"fastconv": lambda x=x, gy=gy, ws=ws: fastconv.conv_grad_weight(
                 x, ws, gy, padding=1, workers=a.threads),
             "torch": lambda xt=xt, gyt=gyt, ws=ws: torch.nn.grad.conv2d_weight(
                 xt, ws, gyt, padding=1)}
        t = timer(f, a.repeats)
        flops = 2.0 * gy.size * int(np.prod(ws[1:]))
        print(f"{wname:28s} {'':18s} {'':14s} "
              f"{flops / t['fastconv'] / 1e9:6.1f} GFLOP/s  {t['fastconv'] * 1e3:8.2f} ms  "
              f"torch {t['torch'] / t['fastconv']:.2f}", flush=True)


if __name__ == "__main__":
    main()
