"""Resolve the ``workers`` argument of every public function to a thread count.

One function, :func:`resolve_workers`, is the only place this happens.

* ``None`` -> every usable core: ``omp_get_max_threads()`` (which honours
  ``OMP_NUM_THREADS`` and ``threadpoolctl`` limits on the OpenMP runtime),
  capped by the CPUs this process may run on (its affinity mask).
* a positive int -> that many threads.
* a negative int -> counts back from the number of usable cores (``-1`` = all
  of them, ``-2`` = all but one), as in ``scipy.fft``.
* ``0``, a bool or a non-integer -> ``ValueError`` / ``TypeError`` naming
  ``workers``.

Fork safety: GNU libgomp hangs when a forked child enters a parallel region
after the parent has used its thread pool.  ``os.register_at_fork`` marks the
child, and every call in the child then runs serially (the kernels do not
enter an OpenMP parallel region at all when given one thread).
"""

import numbers
import os

from fastconv import _openmp

_state = {"threads_used": False, "forked_child": False}


def _after_fork_in_child():
    if _state["threads_used"]:
        _state["forked_child"] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def usable_cpus():
    """Number of CPUs this process may run on (affinity mask where available)."""
    if hasattr(os, "sched_getaffinity"):
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except OSError:  # pragma: no cover - exotic platforms
            pass
    if hasattr(os, "process_cpu_count"):  # Python >= 3.13
        return max(1, os.process_cpu_count() or 1)
    return max(1, os.cpu_count() or 1)


def default_threads():
    """The thread count ``workers=None`` resolves to right now."""
    if not _openmp.openmp_enabled() or _state["forked_child"]:
        return 1
    return max(1, min(_openmp.max_threads(), usable_cpus()))


def in_forked_child():
    """True in a child forked after the parent used OpenMP threads."""
    return _state["forked_child"]


def resolve_workers(workers):
    """Turn a ``workers`` argument into a positive thread count.

    Parameters
    ----------
    workers : int or None
        See the module docstring.

    Returns
    -------
    int
        The number of threads to use (1 in a serial build or a forked child).

    Raises
    ------
    TypeError
        If `workers` is not an integer or None.
    ValueError
        If `workers` is 0 or counts back past the first core.
    """
    if workers is None:
        n = default_threads()
    else:
        if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
            raise TypeError(
                f"workers must be an int or None, got {type(workers).__name__} {workers!r}")
        workers = int(workers)
        if workers == 0:
            raise ValueError("workers must be a non-zero int or None, got 0")
        if workers < 0:
            cpus = usable_cpus()
            n = cpus + 1 + workers
            if n < 1:
                raise ValueError(
                    f"workers={workers} counts back past the first of the {cpus} usable "
                    f"CPUs; use a value >= {-cpus}")
        else:
            n = workers
        if not _openmp.openmp_enabled() or _state["forked_child"]:
            n = 1
    if n > 1:
        _state["threads_used"] = True
    return n
