"""Out-of-core demonstration: ``python -m fastconv.dask --help``.

Writes a float32 volume to a raw file on disk (larger than the memory
budget you set), filters it chunk by chunk with
:func:`fastconv.dask.ndimage.convolve` (a box kernel), streams the result to a
second raw file with :func:`dask.array.store` under dask's progress bar, and
reports the time and the peak resident memory of the process.

The files are read and written through ``numpy.memmap`` views opened for one
chunk at a time and closed right after, so the pages of the files never stay
mapped (a memmap held open for the whole run would count every page it
touched in the resident memory).
"""

import argparse
import math
import os
import resource
import shutil
import sys
import tempfile
import time

import numpy as np

DTYPE = np.dtype(np.float32)
#: memory the run takes beyond the chunks whatever their size (the task
#: graph, dask's bookkeeping, the threads' heaps), measured on this demo
FIXED_OVERHEAD = 48e6


class RawVolume:
    """A C-ordered raw file of ``shape`` float32 values, read and written by
    block (``dask.array.from_array`` and ``dask.array.store`` use it)."""

    def __init__(self, path, shape):
        self.path = path
        self.shape = tuple(shape)
        self.dtype = DTYPE
        self.ndim = len(self.shape)

    def _map(self, mode):
        return np.memmap(self.path, dtype=self.dtype, mode=mode, shape=self.shape)

    def __getitem__(self, index):
        mm = self._map("r")
        try:
            return np.array(mm[index])
        finally:
            del mm

    def __setitem__(self, index, value):
        mm = self._map("r+")
        try:
            mm[index] = value
            mm.flush()
        finally:
            del mm


def peak_rss_bytes():
    """Peak resident set size of this process so far (``getrusage``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_rss_bytes():
    """Resident set size now (Linux ``/proc``; else the peak so far)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        return peak_rss_bytes()


def write_volume(path, shape, budget, seed=0):
    """Random float32 values, written a slab of planes at a time."""
    plane = math.prod(shape[1:]) * DTYPE.itemsize
    slab = max(1, min(shape[0], int(budget // 8 // plane)))
    rng = np.random.default_rng(seed)
    with open(path, "wb") as fh:
        for start in range(0, shape[0], slab):
            n = min(slab, shape[0] - start)
            rng.standard_normal((n,) + tuple(shape[1:]), dtype=DTYPE).tofile(fh)


def choose_chunks(shape, budget, threads, halo):
    """Chunks whose working set fits the budget: slabs of whole trailing axes.

    Measured on this demo (``dask.array.store`` of the filter, threaded
    scheduler): the data in memory peaks at about 16 chunk-sized buffers per
    dask thread (the loaded chunks dask keeps waiting, the halo pieces,
    which are views that keep their whole chunk alive, each block with its
    halo, its result), plus about ``FIXED_OVERHEAD`` whatever the chunks
    (the task graph, the threads' heaps).  Whole trailing axes are kept (fewer, thinner halos);
    the leading axes are split, each into chunks of at least
    ``max(4, 2*halo + 1)``, balanced.
    """
    data = max(budget - FIXED_OVERHEAD, budget / 4)
    elems = data / (16 * max(1, threads) * DTYPE.itemsize)
    minimum = max(4, 2 * halo + 1)
    chunks = list(shape)
    for ax, n in enumerate(shape):
        c = int(elems // math.prod(shape[ax + 1:]))
        if c >= n:
            break
        if c >= minimum:
            chunks[ax] = math.ceil(n / math.ceil(n / c))
            break
        chunks[ax] = min(n, minimum)
        elems /= chunks[ax]
    return tuple(chunks)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m fastconv.dask",
        description="Out-of-core demonstration of fastconv.dask: write a float32 volume "
                    "larger than a memory budget to disk, filter it chunk by chunk with "
                    "fastconv.dask.ndimage.convolve (a box kernel) under dask's progress "
                    "bar, stream the result to disk and report the time and the peak "
                    "resident memory (RSS).")
    p.add_argument("--shape", default="320,320,320",
                   help="volume shape, comma-separated (default 320,320,320: 131 MB of "
                        "float32); e.g. 1024,1024,1024 for 4.3 GB")
    p.add_argument("--memory-budget", type=float, default=96.0, metavar="MB",
                   help="memory budget for the data in MB (default 96): the chunks are "
                        "chosen so that the peak RSS minus the RSS before the run stays "
                        "within it; the volume should be larger")
    p.add_argument("--kernel-size", type=int, default=5,
                   help="edge of the box kernel (default 5)")
    p.add_argument("--mode", default="reflect",
                   help="boundary mode of fastconv.ndimage.convolve (default reflect)")
    p.add_argument("--chunks", default=None,
                   help="chunk shape, comma-separated (default: chosen from the budget)")
    p.add_argument("--threads", type=int, default=None,
                   help="dask threads (default: all cores)")
    p.add_argument("--workers", type=int, default=None,
                   help="fastconv threads per block (default: fastconv.dask's choice, "
                        "one per block when there are more blocks than cores)")
    p.add_argument("--dir", default=None,
                   help="folder for input.f32 and output.f32 (default: a temporary folder)")
    p.add_argument("--keep", action="store_true",
                   help="keep the files (default: delete them at the end)")
    p.add_argument("--check", action="store_true",
                   help="also load both files and compare with the in-memory "
                        "fastconv.ndimage.convolve (small volumes only)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def _shape(text, name):
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise SystemExit(f"{name} must be comma-separated ints, got {text!r}") from None
    if not values or min(values) < 1:
        raise SystemExit(f"{name} must be positive ints, got {text!r}")
    return values


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import dask
    import dask.array as da
    from dask.diagnostics import ProgressBar

    import fastconv
    from fastconv.dask import ndimage as dnd
    from fastconv._threads import usable_cpus

    shape = _shape(args.shape, "--shape")
    budget = args.memory_budget * 1e6
    threads = args.threads or usable_cpus()
    k = args.kernel_size
    if k < 1:
        raise SystemExit("--kernel-size must be >= 1")
    chunks = (_shape(args.chunks, "--chunks") if args.chunks
              else choose_chunks(shape, budget, threads, k // 2))
    nbytes = math.prod(shape) * DTYPE.itemsize
    folder = args.dir or tempfile.mkdtemp(prefix="fastconv-dask-demo-")
    os.makedirs(folder, exist_ok=True)
    src = RawVolume(os.path.join(folder, "input.f32"), shape)
    dst = RawVolume(os.path.join(folder, "output.f32"), shape)
    print(f"fastconv {fastconv.__version__}, dask {dask.__version__}; {usable_cpus()} cores, "
          f"{threads} dask threads")
    print(f"volume {'x'.join(map(str, shape))} float32 = {nbytes / 1e6:.1f} MB on disk in "
          f"{folder}; memory budget {budget / 1e6:.1f} MB"
          + ("" if nbytes > budget else "  (note: the volume fits in the budget; pass a "
             "larger --shape to go out of core)"))
    t0 = time.perf_counter()
    write_volume(src.path, shape, budget)
    with open(dst.path, "wb") as fh:
        fh.truncate(nbytes)
    t_write = time.perf_counter() - t0
    weights = np.full((k,) * len(shape), 1.0 / k ** len(shape), dtype=DTYPE)
    x = da.from_array(src, chunks=chunks, asarray=False, lock=False,
                      meta=np.empty((0,) * len(shape), DTYPE))
    y = dnd.convolve(x, weights, mode=args.mode, workers=args.workers)
    print(f"kernel {k}^{len(shape)} box, mode {args.mode!r}; chunks {chunks} -> "
          f"{x.npartitions} blocks of <= {math.prod(chunks) * DTYPE.itemsize / 1e6:.2f} MB "
          f"(halo {k // 2}); input written in {t_write:.2f} s")
    # warm-up on a tiny array: lazy imports, thread pools, the engine's first
    # call, so that "before the run" counts them and the rest is data
    tiny = da.zeros((2 * k,) * len(shape), dtype=DTYPE, chunks=k)
    with dask.config.set(scheduler="threads", num_workers=threads):
        dnd.convolve(tiny, weights, mode=args.mode, workers=args.workers).compute()
    rss_before = current_rss_bytes()
    t0 = time.perf_counter()
    store = da.store(y, dst, lock=False, compute=False)
    with dask.config.set(scheduler="threads", num_workers=threads):
        if args.no_progress:
            dask.compute(store)
        else:
            with ProgressBar(dt=0.5):
                dask.compute(store)
    elapsed = time.perf_counter() - t0
    peak = peak_rss_bytes()
    print(f"filtered and written in {elapsed:.2f} s "
          f"({nbytes / 1e6 / elapsed:.0f} MB/s of input)")
    data = peak - rss_before
    print(f"peak RSS {peak / 1e6:.1f} MB = {rss_before / 1e6:.1f} MB before the run "
          f"(interpreter, NumPy, SciPy, dask, fastconv) + {data / 1e6:.1f} MB of data "
          f"({'within' if data <= budget else 'OVER'} the {budget / 1e6:.1f} MB budget; "
          f"volume {nbytes / 1e6:.1f} MB)")
    status = 0
    if args.check:
        a = np.fromfile(src.path, dtype=DTYPE).reshape(shape)
        b = np.fromfile(dst.path, dtype=DTYPE).reshape(shape)
        ref = fastconv.ndimage.convolve(a, weights, mode=args.mode)
        err = float(np.max(np.abs(b - ref))) if ref.size else 0.0
        if np.allclose(b, ref, rtol=1e-5, atol=1e-6):
            print(f"check: equal to the in-memory result (max abs difference {err:.2e})")
        else:
            print(f"check: DIFFERS from the in-memory result (max abs difference {err:.2e})")
            status = 1
    if not args.keep:
        for f in (src.path, dst.path):
            os.remove(f)
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"kept {src.path} and {dst.path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
