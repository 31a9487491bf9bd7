"""Timings behind the dask page of the docs (run by hand; no test reads them).

Usage (one benchmark at a time on a shared machine)::

    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000 \\
        flock /tmp/fastconv-bench.lock python build_tools/bench_dask.py [threads|peers|all]

``threads``: fastconv.dask.ndimage.convolve with dask threads x fastconv
``workers`` per block, 2048x2048 float32 (chunks 512) 5x5 and 256^3 float32
(chunks 128) 3x3x3, threaded scheduler, result computed into memory.

``peers``: the same two workloads, fastconv.dask.ndimage.convolve against
``dask_image.ndfilters.convolve`` and ``dask.array.map_overlap`` with
``scipy.ndimage.convolve`` (mode 'reflect', float32 weights, default
threaded scheduler with every core), speed = peer time / fastconv time.

Every configuration runs once to warm up, then the configurations are called
in turn (interleaved, shuffled each round) and the median of the rounds is
printed.
"""

import random
import statistics
import sys
import time

import numpy as np
import dask
import dask.array as da
import scipy.ndimage as snd

from fastconv.dask import ndimage as dnd
from fastconv._threads import usable_cpus

ROUNDS = 7


def workloads():
    rng = np.random.default_rng(0)
    x2 = rng.standard_normal((2048, 2048), dtype=np.float32)
    w2 = rng.standard_normal((5, 5)).astype(np.float32)
    x3 = rng.standard_normal((256, 256, 256), dtype=np.float32)
    w3 = rng.standard_normal((3, 3, 3)).astype(np.float32)
    return [("2048x2048 f32, chunks 512, 5x5", da.from_array(x2, chunks=512), w2),
            ("256^3 f32, chunks 128, 3x3x3", da.from_array(x3, chunks=128), w3)]


def interleaved(funcs):
    """Median seconds per call of each of `funcs` (a dict), interleaved."""
    for f in funcs.values():
        f()
    times = {name: [] for name in funcs}
    order = list(funcs)
    rnd = random.Random(1)
    for _ in range(ROUNDS):
        rnd.shuffle(order)
        for name in order:
            t0 = time.perf_counter()
            funcs[name]()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def bench_threads():
    cpus = usable_cpus()
    print(f"dask threads x fastconv workers per block ({cpus} usable cores); "
          f"median of {ROUNDS}, seconds")
    for label, x, w in workloads():
        funcs = {}
        for threads in sorted({1, 2, cpus}):
            for workers in sorted({1, 2, cpus} | {None}, key=lambda v: (v is None, v)):
                def run(threads=threads, workers=workers):
                    y = dnd.convolve(x, w, workers=workers)
                    return y.compute(scheduler="threads", num_workers=threads)
                funcs[(threads, workers)] = run
        res = interleaved(funcs)
        print(f"  {label} ({x.npartitions} blocks)")
        for (threads, workers), t in res.items():
            shown = "None (default)" if workers is None else workers
            print(f"    dask threads {threads}, workers {shown}: {t * 1e3:8.1f} ms")


def bench_peers():
    from dask_image import ndfilters

    print(f"fastconv.dask vs peers, threaded scheduler ({usable_cpus()} cores); median of "
          f"{ROUNDS}")
    for label, x, w in workloads():
        depth = tuple(k // 2 for k in w.shape)
        funcs = {
            "fastconv.dask.ndimage.convolve": lambda: dnd.convolve(x, w).compute(),
            "dask_image.ndfilters.convolve": lambda: ndfilters.convolve(x, w).compute(),
            "map_overlap + scipy.ndimage.convolve": lambda: x.map_overlap(
                snd.convolve, depth=depth, boundary="reflect", weights=w,
                mode="reflect", dtype=x.dtype).compute(),
        }
        ref = funcs["fastconv.dask.ndimage.convolve"]()
        for name, f in funcs.items():
            np.testing.assert_allclose(f(), ref, rtol=2e-5, atol=2e-5)
        res = interleaved(funcs)
        base = res["fastconv.dask.ndimage.convolve"]
        print(f"  {label}")
        for name, t in res.items():
            print(f"    {name:40s} {t * 1e3:9.1f} ms   speed-up of fastconv {t / base:5.2f}x")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    with dask.config.set(scheduler="threads"):
        if what in ("threads", "all"):
            bench_threads()
        if what in ("peers", "all"):
            bench_peers()
