"""Shared pieces of fastconv's asv suite (the workloads of docs/benchmarks.rst).

Every command below runs from ``asv_benchmarks/``::

    asv machine --yes                      # once per machine
    # record one commit (builds its wheel in a virtualenv, runs everything):
    asv run -e HEAD^!
    # compare two commits, report changes above 10 % (exit code 1 on a slow-down):
    asv continuous -e -f 1.1 main HEAD
    # only this module's benchmarks:
    asv continuous -e -f 1.1 --bench "bench_a_filter2d" main HEAD
    # the HTML (served locally; publish_offline.py makes it work without internet):
    asv publish && python publish_offline.py && asv preview
    # smoke (what CI runs): each benchmark once, small sizes, installed package:
    FASTCONV_ASV_SMALL=1 asv run --python=same --quick --show-stderr

Environment variables read here:

``FASTCONV_ASV_SMALL=1``
    Shrink every array (not the kernel sizes or other parameters) so a
    ``--quick`` run of the whole suite takes a minute or two.  Results taken
    with it are NOT the documented workloads; never record them.
``FASTCONV_ASV_WORKERS``
    Comma-separated thread counts for the ``workers`` parameter (default
    ``1,2``: serial and the 2 cores of the reference machine).
``FASTCONV_ASV_STRICT=1``
    A fastconv function the suite names but the installed package lacks is
    an error instead of a skip (CI sets it, so a renamed function cannot
    turn its benchmarks into silent skips).  Missing peers still skip.

Conventions of the suite:

* data is random normal (never zeros), seeded, made in ``setup`` (cheap);
* each ``time_`` has a ``peakmem_`` twin running the same call;
* fastconv classes have ``dtype`` and ``workers`` parameters; each peer
  (SciPy, NumPy, OpenCV, PyTorch) is a separate class so ``asv compare`` and
  ``python ratios.py`` can put them side by side; a peer that is not
  installed (or a fastconv function that does not exist at an old commit)
  raises ``NotImplementedError`` in ``setup``, which asv reports as skipped;
* asv runs every parameter combination in its own process, so one library's
  idle OpenMP threads never slow down the next one.
"""

import importlib
import os

import numpy as np

SMALL = os.environ.get("FASTCONV_ASV_SMALL", "").strip() not in ("", "0")
STRICT = os.environ.get("FASTCONV_ASV_STRICT", "").strip() not in ("", "0")


def _workers_from_env():
    raw = os.environ.get("FASTCONV_ASV_WORKERS", "1,2")
    values = tuple(int(v) for v in raw.split(",") if v.strip())
    if not values or any(v == 0 for v in values):
        raise ValueError(f"FASTCONV_ASV_WORKERS must list non-zero ints, got {raw!r}")
    return values


WORKERS = _workers_from_env()
DTYPES = ("float32", "float64")


def pick(full, small):
    """The documented size, or the shrunken one under FASTCONV_ASV_SMALL=1."""
    return small if SMALL else full


def random_array(shape, dtype, seed):
    """Seeded standard-normal data of `dtype` (float32 drawn directly, no copy)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape, dtype=np.dtype(dtype).type)


def fastconv_function(dotted):
    """``fastconv.<dotted>`` or NotImplementedError (asv: skipped) if absent.

    Benchmarks are run against old commits too, where a function may not
    exist yet.  Under ``FASTCONV_ASV_STRICT=1`` a missing function raises
    ``RuntimeError`` (asv: failed) instead.
    """
    missing = RuntimeError if STRICT else NotImplementedError
    obj = importlib.import_module("fastconv")
    path = "fastconv"
    for part in dotted.split("."):
        path += "." + part
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:
                obj = importlib.import_module(path)
            except ImportError:
                raise missing(f"{path} does not exist in this version") from None
    return obj


def check_threads(workers):
    """Refuse to time a serial run labelled ``workers > 1``.

    fastconv runs serially in a process forked after it used threads (its
    fork guard).  asv forks each benchmark from a server process that never
    calls fastconv, so this must never trigger; if it does, the numbers would
    be wrong, so fail loudly.
    """
    try:
        from fastconv import _threads
    except ImportError:  # pragma: no cover - old commits
        return
    if workers != 1 and getattr(_threads, "in_forked_child", lambda: False)():
        raise RuntimeError("fastconv is in a forked child after threaded use: it would "
                           "run serially, so a workers>1 timing would be wrong")


def import_peer(name):
    """Import an optional peer or raise NotImplementedError (asv: skipped)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise NotImplementedError(f"peer {name!r} is not installed") from None


def torch_peer(workers):
    """PyTorch with `workers` intra-op threads, or NotImplementedError."""
    torch = import_peer("torch")
    torch.set_num_threads(int(workers))
    return torch


def cv2_peer(workers):
    """OpenCV with `workers` threads, or NotImplementedError."""
    cv2 = import_peer("cv2")
    cv2.setNumThreads(int(workers))
    return cv2


def max_rel_error(got, ref):
    """``max |got - ref| / max |ref|`` in float64 (0 for an all-zero reference)."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        raise AssertionError(f"shape mismatch: fastconv {got.shape}, reference {ref.shape}")
    scale = float(np.abs(ref).max()) if ref.size else 0.0
    err = float(np.abs(got - ref).max()) if ref.size else 0.0
    return err / scale if scale else err


class Benchmark:
    """Base class: generous timeouts, at least 5 timed repeats after warm-up.

    ``repeat = (min, max, max_time)``: asv takes at least 5 samples (the
    median of them is reported), more while under 30 s.  ``--quick`` runs
    every benchmark exactly once instead.
    """

    timeout = 600
    repeat = (5, 10, 30.0)
    warmup_time = 0.5
