"""Re-fit the cost model behind ``method='auto'`` on this machine.

Run ``python -m fastconv._scipy_calibrate [--threads N] [--quick]``: it
times fastconv's direct method, ``fftconvolve`` and overlap-add on the
shapes the constants in :mod:`fastconv._direct` and
:mod:`fastconv._fft` were fitted on (float32/float64; 1-D, 2-D, 3-D;
'same' and 'full'; min of 5 runs after a warm-up), fits the constants by
non-negative least squares on the relative error, and prints them with
how often the planner, as currently configured, picks a method more than
1.2x slower than the faster one on these shapes.  Nothing is changed: copy
the numbers into the modules if they are better.  Takes a few minutes;
run it on a quiet machine.
"""

import argparse
import math
import time

import numpy as np

from fastconv import _cost, _fft, _scipy_args
from fastconv import signal as fs


def _tmin(func, repeat=5):
    func()
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def cases(quick=False):
    """The calibration shapes: (in1 shape, in2 shape)."""
    out = []
    for n in ([2 ** 13, 2 ** 16] if quick else [2 ** 10, 2 ** 13, 2 ** 16, 2 ** 19]):
        for k in [3, 7, 31, 127, 511]:
            if k < n:
                out.append(((n,), (k,)))
    for n in ([128, 512] if quick else [64, 128, 256, 512, 1024]):
        for k in [3, 5, 9, 15, 31, 63]:
            if k < n and n * n * k * k <= 2 ** 30:
                out.append(((n, n), (k, k)))
    for n in ([32] if quick else [16, 32, 64]):
        for k in [3, 5, 7]:
            out.append(((n, n, n), (k, k, k)))
    return out


def measure(nthreads=1, quick=False, seed=0):
    """Timings of the three methods on :func:`cases` (list of dicts)."""
    rng = np.random.default_rng(seed)
    rows = []
    for dtype in (np.float32, np.float64):
        for s1, s2 in cases(quick):
            x = rng.standard_normal(s1).astype(dtype)
            y = rng.standard_normal(s2).astype(dtype)
            for mode in ("same", "full"):
                td = _tmin(lambda: fs.convolve(x, y, mode, method="direct", workers=nthreads))
                tf = _tmin(lambda: fs.fftconvolve(x, y, mode, workers=nthreads))
                a2, b2, axes, _ = _scipy_args.freq_axes(x, y, mode, None)
                to = None
                if _fft.overlap_add(a2, b2, sorted(axes), nthreads) is not None:
                    to = _tmin(lambda: _fft.overlap_add(a2, b2, sorted(axes), nthreads))
                rows.append(dict(s1=s1, s2=s2, dtype=np.dtype(dtype).name, mode=mode,
                                 t_direct=td, t_fft=tf, t_oa=to, nthreads=nthreads))
    return rows


def _direct_features(r):
    s1, s2 = r["s1"], r["s2"]
    win = _scipy_args.conv_windows(r["mode"], s1, s2, list(range(len(s1))))
    macs = out = 1
    for i in range(len(s1)):
        macs *= win[i][1] * s2[i]
        out *= win[i][1]
    return [1.0, macs, out]


def _fft_features(r):
    shape = [_fft.sp_fft.next_fast_len(a + b - 1, True) for a, b in zip(r["s1"], r["s2"])]
    n = float(np.prod(shape))
    return [1.0, n * math.log2(n), n]


def fit(rows):
    """Least-squares constants (relative error) per dtype and rank class."""
    from scipy.optimize import nnls
    report = {}
    for dtype in ("float32", "float64"):
        for label, ranks in (("direct 1-D", (1,)), ("direct N-D", (2, 3))):
            sel = [r for r in rows if r["dtype"] == dtype and len(r["s1"]) in ranks]
            if not sel:
                continue
            X = np.array([_direct_features(r) for r in sel])
            t = np.array([r["t_direct"] for r in sel])
            coef, _ = nnls(X / t[:, None], np.ones(len(t)))
            ratio = X @ coef / t
            report[(dtype, label)] = dict(call=coef[0], mac=coef[1], out=coef[2],
                                          fit=(ratio.min(), ratio.max()))
        sel = [r for r in rows if r["dtype"] == dtype]
        X = np.array([_fft_features(r) for r in sel])
        t = np.array([r["t_fft"] for r in sel])
        coef, _ = nnls(X / t[:, None], np.ones(len(t)))
        ratio = X @ coef / t
        report[(dtype, "fft")] = dict(call=coef[0], nlogn=coef[1], point=coef[2],
                                      fit=(ratio.min(), ratio.max()))
    return report


def evaluate(rows):
    """Chosen-method time / fastest time for every row, as planned now."""
    out = []
    for r in rows:
        x = np.zeros(r["s1"], r["dtype"])
        y = np.ones(r["s2"], r["dtype"])
        method = _cost.choose_method(x, y, r["mode"], None, (False, False))
        kind, _ = _cost.fft_choice(x, y, r["mode"], list(range(x.ndim)))
        t_fft = r["t_oa"] if (kind == "oa" and r["t_oa"]) else r["t_fft"]
        chosen = r["t_direct"] if method == "direct" else t_fft
        best = min(r["t_direct"], r["t_fft"], r["t_oa"] or math.inf)
        out.append(chosen / best)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rows = measure(args.threads, args.quick)
    for key, val in fit(rows).items():
        print(key, {k: (f"{v:.3g}" if not isinstance(v, tuple) else
                        f"{v[0]:.2f}..{v[1]:.2f}") for k, v in val.items()})
    ratios = evaluate(rows)
    print(f"{len(ratios)} cases: chosen/fastest max {max(ratios):.2f}, "
          f"median {np.median(ratios):.2f}, above 1.2x: {sum(q > 1.2 for q in ratios)}")


if __name__ == "__main__":  # pragma: no cover
    main()
