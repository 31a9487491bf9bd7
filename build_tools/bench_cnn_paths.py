"""In-process A/B of the engine's many-channel paths on the CNN layers: the
FILT paths (flat / row tiles, ``force={'filtt': False}``), FILTT with all
taps in one block, and the default plan.  One thread, the thread's CPU time
(``time.thread_time``), median of interleaved repeats: comparisons that a
busy machine does not distort much.  Prints GFLOP/s per variant.

Usage (repository root, fastconv built in place)::

    FASTCONV_SIMD=avx2 flock /tmp/fastconv-bench.lock \\
        python build_tools/bench_cnn_paths.py [--repeats 9] [--only s2d2]
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.getcwd())

from fastconv import _dispatch, _engine  # noqa: E402

LAYERS = [
    ("conv2d", (16, 64, 56, 56), (64, 64, 3, 3), 1, 1, 1),
    ("deep", (16, 256, 14, 14), (256, 256, 3, 3), 1, 1, 1),
    ("s2d2", (8, 32, 64, 64), (64, 32, 3, 3), 2, 2, 2),
    ("conv1d", (16, 64, 4096), (64, 64, 7), 1, 3, 1),
    ("conv3d", (4, 16, 32, 32, 32), (32, 16, 3, 3, 3), 1, 1, 1),
]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--only", default="")
    a = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    for name, xs, ws, s, p, d in LAYERS:
        if a.only and a.only != name:
            continue
        x = rng.standard_normal(xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32)
        r = len(xs) - 2
        flops = 2.0 * np.prod(ws) * np.prod(xs) / xs[1] / s ** r
        geometry = dict(stride=(s,) * r, dilation=(d,) * r, pads=((p, p),) * r)
        funcs = {}
        for label, force in (("filt", {"filtt": False}),
                             ("filtt-one-block", {"filtt": True, "filtt_taps": 1 << 30}),
                             ("default", None)):
            plan = _engine.plan_correlate(x.shape, w.shape, x.dtype, force=force, **geometry)
            funcs[f"{label}:{plan.path}"] = (
                lambda plan=plan: _engine.correlate(x, w, nthreads=1, plan=plan, **geometry))
        times = {k: [] for k in funcs}
        for f in funcs.values():
            f()
        for _ in range(a.repeats):
            for k, f in funcs.items():
                t0 = time.thread_time()
                f()
                times[k].append(time.thread_time() - t0)
        print(f"{_dispatch.LEVEL:7s} {name:7s} " + "  ".join(
            f"{k} {flops / np.median(v) / 1e9:.1f}" for k, v in times.items()), flush=True)


if __name__ == "__main__":
    main()
