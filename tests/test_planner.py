"""The planner (``method='auto'``) against measured timings.

ISSUE/BENCHMARKS target: on the BENCHMARKS.md workloads of sections A-C
(2-D filtering, 1-D signals, 3-D volumes, at their full sizes), 'auto'
never takes more than 1.25x the time of the fastest of fastconv's own
methods (direct, FFT, overlap-add).  'auto' is timed as a user calls it,
planning and NaN checks included.

Timings on a shared machine are noisy: the methods are called in turn
(median of 5 after a warm-up), and a workload that misses the bound is
measured again up to twice, keeping each method's best median, before the
test fails.  A wrong choice between methods that differ by more than the
noise still fails every time.
"""

import ctypes
import ctypes.util
import sys

import numpy as np
import pytest

import fastconv
from fastconv._bench import PLANNER_TOLERANCE, time_interleaved

pytestmark = pytest.mark.slow

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # glibc's mallopt parameters


@pytest.fixture(scope="module", autouse=True)
def steady_state_malloc():
    """BENCHMARKS.md measures with glibc's malloc thresholds raised
    (MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_), so that no method
    pays page faults for its output on every call; the environment
    variables only act at start-up, mallopt does the same at run time.
    glibc's defaults are put back afterwards."""
    libc = None
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.mallopt
        except (OSError, AttributeError):
            libc = None
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, 1_000_000_000)
        libc.mallopt(_M_TRIM_THRESHOLD, 2_000_000_000)
    yield
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
        libc.mallopt(_M_TRIM_THRESHOLD, 128 * 1024)


def _workloads():
    rng = np.random.default_rng(5)
    out = []
    for dt in (np.float32, np.float64):
        img = rng.standard_normal((2048, 2048)).astype(dt)
        for k in (3, 5, 9, 15, 31):
            out.append((f"A {np.dtype(dt).name} 2048^2 {k}x{k}", img,
                        rng.standard_normal((k, k)).astype(dt)))
    sig = rng.standard_normal(1 << 22).astype(np.float32)
    for taps in (7, 31, 127, 1023):
        out.append((f"B 2^22 {taps} taps", sig, rng.standard_normal(taps).astype(np.float32)))
    vol = rng.standard_normal((128,) * 3).astype(np.float32)
    for k in (3, 5, 7):
        out.append((f"C 128^3 {k}^3", vol, rng.standard_normal((k,) * 3).astype(np.float32)))
    return out


def _calls(x, k):
    return {"auto": lambda: fastconv.convolve(x, k, "same"),
            "direct": lambda: fastconv.convolve(x, k, "same", method="direct"),
            "fft": lambda: fastconv.fftconvolve(x, k, "same"),
            "oa": lambda: fastconv.oaconvolve(x, k, "same")}


WORKLOADS = _workloads()


@pytest.mark.parametrize("name,x,k", WORKLOADS, ids=[w[0] for w in WORKLOADS])
def test_auto_within_tolerance_of_best_method(name, x, k):
    best = {}
    for attempt in range(3):
        t = time_interleaved(_calls(x, k), repeats=6)
        best = {m: min(v, best.get(m, np.inf)) for m, v in t.items()}
        fastest = min((m for m in best if m != "auto"), key=best.get)
        ratio = best["auto"] / best[fastest]
        if ratio <= PLANNER_TOLERANCE:
            return
    pytest.fail(f"{name}: auto took {ratio:.2f}x the time of {fastest} "
                f"(ms: { {m: round(v * 1e3, 2) for m, v in best.items()} })")
