"""The thread policy: how many threads a piece of work gets.

Three functions decide, and nothing else in fastconv clamps a thread count:

* :func:`resolve_workers` turns a public ``workers`` argument into the
  call's thread budget:

  - ``None`` -> every usable core that the rest of the machine leaves free:
    ``omp_get_max_threads()`` (which honours ``OMP_NUM_THREADS`` and
    ``threadpoolctl`` limits on the OpenMP runtime), capped by the CPUs this
    process may run on (its affinity mask), minus the cores other processes
    keep busy (:func:`busy_cores`);
  - a positive int -> that many threads, capped at the usable CPUs (more
    threads than cores is never faster and only costs OS threads);
  - a negative int -> counts back from the number of usable cores (``-1`` =
    all of them, ``-2`` = all but one), as in ``scipy.fft``;
  - ``0``, a bool or a non-integer -> ``ValueError`` / ``TypeError`` naming
    ``workers``.

* :func:`team_size` turns the budget into the team of one parallel region,
  from the size of the work and its number of parallel units: tiny work
  runs serially (waking a thread costs more than it saves), a region never
  gets more threads than units, and Python threads running engine work at
  the same time (a dask thread pool) share the budget.

* :func:`worth_waking` lowers an engine call's budget to one thread when the
  team has gone to sleep since its last region and the call's work would
  not pay for waking it (a sleeping team cost 45 us, and 0.5 ms once the
  process had slept and the other CPU halted, on a 2-vCPU KVM guest).

Why the machine's state matters
-------------------------------
An OpenMP team that meets at a barrier while one of its threads waits for a
core runs far slower than one thread: on a 2-core machine with two other
CPU-bound processes, a 0.4 ms 1-D call took 7-25 ms with two threads.  Three
measures keep the default safe on a busy machine:

1. ``workers=None`` leaves out the cores that other processes keep busy,
   measured from ``/proc/stat`` (all CPU time but idle, minus this process's
   own CPU time, over the last interval of at least 0.25 s; reading it costs ~0.1 ms); on a busy
   2-core machine the default is then one thread, which never waits for
   anyone.
2. The kernels hand out their fixed units of work dynamically, so a thread
   that runs takes over the units of one that does not (each output element
   still has one writer: results stay bitwise identical).
3. fastconv's own GNU OpenMP runtime waits passively after a short spin
   (``GOMP_SPINCOUNT`` set while the runtime loads, unless the user set
   ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``; the variable is removed
   again, so runtimes loaded later by other libraries keep their defaults).

Fork safety: GNU libgomp hangs when a forked child enters a parallel region
after the parent has used its thread pool.  ``os.register_at_fork`` marks the
child, and every call in the child then runs serially (the kernels do not
enter an OpenMP parallel region at all when given one thread).
"""

import glob
import importlib
import math
import numbers
import os
import threading
import time

_SPIN_COUNT = "20000"     # steps of spinning before a thread sleeps (see warm_window)


def _not_built_message(package_dir):
    return (
        f"fastconv is being imported from {package_dir}, which holds no compiled "
        "modules (fastconv._openmp, fastconv._kernels_*): a source tree that was not "
        "built in place.  After a regular install (pip install .), run Python from "
        "another folder: here the source folder shadows the installed package.  To "
        "work in the source tree, install it editable instead: "
        "python -m pip install -e .")


def _load_openmp():
    """Import the OpenMP module (the first compiled module any import of
    fastconv loads) with fastconv's wait policy for its runtime."""
    user_set = "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ
    _spin["user_set"] = user_set
    if not user_set:
        os.environ["GOMP_SPINCOUNT"] = _SPIN_COUNT
    try:
        return importlib.import_module("fastconv._openmp")
    except ImportError as exc:
        here = os.path.dirname(os.path.abspath(__file__))
        if glob.glob(os.path.join(here, "_openmp.*")) == [os.path.join(here, "_openmp.pyx")]:
            raise ImportError(_not_built_message(here)) from exc
        raise
    finally:
        if not user_set:
            os.environ.pop("GOMP_SPINCOUNT", None)


_spin = {"user_set": False, "window": None}
_openmp = _load_openmp()

_state = {"threads_used": False, "forked_child": False}


def _after_fork_in_child():
    if _state["threads_used"]:
        _state["forked_child"] = True
    _load.reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# usable_cpus() re-reads the affinity mask at most this often (seconds): the
# read builds a set of every CPU (~1 us), on every call of the front-ends
# that resolve `workers`, and masks change rarely (a change is seen within
# this interval).
CPUS_REFRESH = 0.25
_cpus = [-CPUS_REFRESH, 1]     # (_cpus_clock() of the last read, its count)
_cpus_clock = time.monotonic   # tests replace it


def usable_cpus():
    """Number of CPUs this process may run on (affinity mask where available;
    re-read at most every ``CPUS_REFRESH`` seconds)."""
    now = _cpus_clock()
    if now - _cpus[0] < CPUS_REFRESH:
        return _cpus[1]
    n = _read_usable_cpus()
    _cpus[0], _cpus[1] = now, n
    return n


def _read_usable_cpus():
    if hasattr(os, "sched_getaffinity"):
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except OSError:  # pragma: no cover - exotic platforms
            pass
    if hasattr(os, "process_cpu_count"):  # Python >= 3.13
        return max(1, os.process_cpu_count() or 1)
    return max(1, os.cpu_count() or 1)


class _MachineLoad:
    """Cores kept busy by other processes, from ``/proc/stat`` (Linux).

    Each estimate covers the interval since the previous one (at least
    ``MIN_INTERVAL`` seconds; calls in between reuse it: the kernel writes
    all of ``/proc/stat`` on every read, ~0.1 ms): all non-idle CPU
    time of the machine (steal included: a vCPU the hypervisor took away
    does not run our threads either) minus this process's own CPU time,
    divided by the wall time.  The very first estimate counts the runnable
    tasks in ``/proc/loadavg`` other than this one.  Where ``/proc`` is
    missing the machine counts as idle.
    """

    MIN_INTERVAL = 0.25
    clock = staticmethod(time.monotonic)

    def __init__(self):
        self.reset()

    def reset(self):
        self._last = None          # (wall, busy seconds, own cpu seconds)
        self._busy = None
        self._tick = None

    def _sample(self):
        if self._tick is None:
            self._tick = float(os.sysconf("SC_CLK_TCK"))
        with open("/proc/stat", "rb") as fh:
            fields = fh.readline().split()[1:]
        vals = [int(v) for v in fields[:8]]
        idle = vals[3] + vals[4]          # idle + iowait
        busy = (sum(vals) - idle) / self._tick
        return self.clock(), busy, time.process_time()

    def busy_cores(self):
        now = self.clock()
        if self._last is not None and now - self._last[0] < self.MIN_INTERVAL:
            return self._busy
        try:
            sample = self._sample()
        except (OSError, ValueError, IndexError):
            self._busy = 0.0
            self._last = (now, 0.0, 0.0)
            return 0.0
        if self._last is None:
            self._busy = self._first_guess()
        else:
            wall = sample[0] - self._last[0]
            others = (sample[1] - self._last[1]) - (sample[2] - self._last[2])
            self._busy = max(0.0, others / wall)
        self._last = sample
        return self._busy

    @staticmethod
    def _first_guess():
        try:
            with open("/proc/loadavg", "rb") as fh:
                running = int(fh.read().split()[3].split(b"/")[0])
        except (OSError, ValueError, IndexError):
            return 0.0
        return float(max(0, running - 1))


_load = _MachineLoad()


def busy_cores():
    """Cores other processes kept busy recently (0.0 where unknown)."""
    return _load.busy_cores()


def max_threads():
    """The thread count ``workers=None`` resolves to on an idle machine."""
    if not _openmp.openmp_enabled() or _state["forked_child"]:
        return 1
    return max(1, min(_openmp.max_threads(), usable_cpus()))


def default_threads():
    """The thread count ``workers=None`` resolves to right now."""
    if not _openmp.openmp_enabled() or _state["forked_child"]:
        return 1
    cpus = usable_cpus()
    n = min(_openmp.max_threads(), cpus)
    if n > 1:
        # a core counts as free unless others keep more than a quarter of it busy
        n = min(n, max(1, int(cpus - busy_cores() + 0.75)))
    return max(1, n)


def in_forked_child():
    """True in a child forked after the parent used OpenMP threads."""
    return _state["forked_child"]


def resolve_workers(workers):
    """Turn a ``workers`` argument into the call's thread budget.

    Parameters
    ----------
    workers : int or None
        See the module docstring.

    Returns
    -------
    int
        The number of threads the call may use (1 in a serial build or a
        forked child).

    Raises
    ------
    TypeError
        If `workers` is not an integer or None.
    ValueError
        If `workers` is 0 or counts back past the first core.

    Examples
    --------
    >>> from fastconv._threads import resolve_workers
    >>> resolve_workers(1)
    1
    >>> resolve_workers(10**9) <= resolve_workers(-1)
    True
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
        cpus = usable_cpus()
        if workers < 0:
            n = cpus + 1 + workers
            if n < 1:
                raise ValueError(
                    f"workers={workers} counts back past the first of the {cpus} usable "
                    f"CPUs; use a value >= {-cpus}")
        else:
            n = min(workers, cpus)
        if not _openmp.openmp_enabled() or _state["forked_child"]:
            n = 1
    if n > 1:
        _state["threads_used"] = True
    return n


# Work (in multiply-adds or element operations) below which one parallel
# region costs more than it saves: waking a sleeping thread and meeting it
# at the barrier takes ~10-50 us, a core does ~3e4 multiply-adds per us.
SERIAL_WORK = 1 << 18


_running = set()              # idents of Python threads inside the engine now
_running_lock = threading.Lock()


class running:
    """Context manager marking the calling Python thread as running engine
    work, so that concurrent calls from several Python threads (a dask or
    concurrent.futures pool) share the budget instead of each taking all of
    it (:func:`team_size` divides by their number).  Re-entrant."""

    __slots__ = ("_mine",)

    def __enter__(self):
        me = threading.get_ident()
        with _running_lock:
            self._mine = me not in _running
            _running.add(me)
        return self

    def __exit__(self, *exc):
        if self._mine:
            with _running_lock:
                _running.discard(threading.get_ident())
        return False


def worth_threads(work):
    """Whether `work` multiply-adds (or comparable operations) can pay for a
    parallel region at all."""
    return work >= SERIAL_WORK


# Waking a team that has gone to sleep.  OpenMP workers spin for a while
# after a region (GOMP_SPINCOUNT) and then sleep; the next region waits at
# its barrier for every worker to wake, even where the calling thread did all
# the units itself.  KVM guest, 2 vCPUs, Intel Xeon (2026-12-05), 1-D float32
# 10000 x 31 (0.31 M multiply-adds), the call after a pause of:
#   0-50 us of Python work: 2 threads 40 us, 1 thread 43 (the team spins);
#   100 us-3 ms of Python work: 86-106 us against 54-64 (a futex wake-up);
#   0.5-10 ms of sleep (the other vCPU halted): 540-580 us against 60 -- and
#   31 M multiply-adds after a 10 ms sleep: 1.69 ms against 1.23.
# Break-even: ~2-3 M multiply-adds after Python work (100000 x 31 1.14x,
# 0.93 M 0.76x), ~30 M after a sleep.  So a call that would start a cold team
# needs that much work; back-to-back calls keep the SERIAL_WORK floor.
#
# How long the team spins is GOMP_SPINCOUNT steps of the runtime's wait loop,
# whose PAUSE instruction's latency differs widely between CPUs: 20000 steps
# lasted under ~100 us on that Intel guest and ~470 us on a Zen 5 one (where
# a 256^2 x 3^2 call, 0.59 M multiply-adds, took 18 us on a team that still
# spun 200 us after its last region, 26 on one thread, and 64 on a team
# woken from its futex after 500 us).  :func:`warm_window` times the steps
# once per process and takes half of it; with the user's own wait policy,
# and as the floor, it is _WARM_WINDOW.
#
# A stream of such calls: each call that wanted a team but found it asleep
# ran on one thread (:func:`team_skipped` notes when it ended).  When the
# next one comes within the warm window of it, the calls are coming faster
# than the team would fall asleep: waking it once (one futex wake-up) keeps
# it spinning for the calls that follow, so that call wakes it.  (A loop of
# 256^2 x 3^2 float32 calls on Zen 5 otherwise stayed on one thread for
# good: no call ever found the team awake.)
_WARM_WINDOW = 5e-5           # seconds after a team's region in which it still spins
_WARM_MAX = 1e-3
SERIAL_WORK_COLD = 1 << 21    # a team woken after Python work
SERIAL_WORK_ASLEEP = 1 << 25  # after the process slept (the other CPUs halted)
_clocks = (time.perf_counter, time.process_time)    # (wall, this process's CPU): tests replace them
# Before the first region the team does not exist yet: its first region
# creates the threads (~250 us once, Zen 4) and is judged as if a region
# had ended at import, by the same rules.  (Judging it by the asleep rule
# until some call brought 2^25 multiply-adds kept a process of mid-size
# calls serial for good: ndimage.correlate 512^2 x 3^2 float32 130 us,
# 80 with the team.)
_team = {"end": _clocks[0](), "cpu": _clocks[1](), "want": -math.inf, "want_cpu": 0.0}


def warm_window():
    """Seconds after a parallel region in which its team still spins (so a
    region started then pays no wake-up): half the time GOMP_SPINCOUNT
    steps of the runtime's spin-wait take on this CPU (timed once, ~0.1 ms),
    between ``_WARM_WINDOW`` and ``_WARM_MAX``; ``_WARM_WINDOW`` when the
    user set the wait policy."""
    window = _spin["window"]
    if window is None:
        window = _WARM_WINDOW
        if not _spin["user_set"] and _openmp.openmp_enabled():
            steps = 2000
            t = min(_openmp.spin_seconds(steps) for _ in range(3))
            window = min(_WARM_MAX, max(_WARM_WINDOW, 0.5 * t * int(_SPIN_COUNT) / steps))
        _spin["window"] = window
    return window


def worth_waking(work):
    """Whether a call of `work` multiply-adds should run a team now, given
    how long ago the last team's region ended (see ``SERIAL_WORK_COLD``): the
    :func:`worth_threads` floor while the team still spins, more work once it
    sleeps, much more when this process slept meanwhile (measured by its CPU
    time over the pause)."""
    if work < SERIAL_WORK:
        return False
    if work >= SERIAL_WORK_ASLEEP:
        return True
    wall, cpu = _clocks
    now = wall()
    idle = now - _team["end"]
    window = warm_window()
    if idle <= window:
        return True
    # a stream of calls (see above): the last one that wanted the team ended
    # moments ago, and this process ran meanwhile (the other CPUs not halted)
    since = now - _team["want"]
    if since <= window and cpu() - _team["want_cpu"] >= 0.5 * since:
        return True
    if work < SERIAL_WORK_COLD:
        return False
    # the pause was this process's own work (workers merely futex-sleeping)
    # unless it ran for less than half of it
    return cpu() - _team["cpu"] >= 0.5 * idle


def team_used():
    """Record that a parallel region just ended (see :func:`worth_waking`)."""
    wall, cpu = _clocks
    _team["end"] = wall()
    _team["cpu"] = cpu()


def team_skipped(work):
    """Record that a call of `work` multiply-adds just ended on one thread
    because :func:`worth_waking` said no (a call below ``SERIAL_WORK``
    never wanted a team: not recorded)."""
    if work >= SERIAL_WORK:
        wall, cpu = _clocks
        _team["want"] = wall()
        _team["want_cpu"] = cpu()


def team_size(nthreads, units, work=None):
    """Threads for one parallel region.

    Parameters
    ----------
    nthreads : int
        The call's budget (:func:`resolve_workers`).
    units : int
        Independent units of work the region hands out.
    work : int or None
        Multiply-adds (or comparable operations) of the region; below
        ``SERIAL_WORK`` it runs serially.  None: not known (units only).

    Returns
    -------
    int
        At least 1, at most ``min(nthreads, units)``.

    Examples
    --------
    >>> from fastconv._threads import team_size
    >>> team_size(8, 3)
    3
    >>> team_size(8, 1000, work=100)
    1
    """
    if work is not None and not worth_threads(work):
        return 1
    share = int(nthreads) // max(1, len(_running))
    return max(1, min(share, int(units)))


class _BlasLimit:
    """Context manager: BLAS (NumPy's) uses at most `nthreads` threads inside.

    Uses threadpoolctl (a dependency of fastconv) with one controller made
    on first use; where threadpoolctl is missing it does nothing."""

    _controller = None

    def __init__(self, nthreads):
        self._nthreads = int(nthreads)
        self._limiter = None

    @classmethod
    def _get_controller(cls):
        if cls._controller is None:
            try:
                from threadpoolctl import ThreadpoolController
                cls._controller = ThreadpoolController()
            except ImportError:   # pragma: no cover - threadpoolctl is a dependency
                cls._controller = False
        return cls._controller

    def __enter__(self):
        ctl = self._get_controller()
        if ctl:
            blas = ctl.select(user_api="blas")
            if any(info["num_threads"] > self._nthreads for info in blas.info()):
                self._limiter = blas.limit(limits=self._nthreads)
        return self

    def __exit__(self, *exc):
        if self._limiter is not None:
            self._limiter.restore_original_limits()
            self._limiter = None
        return False


def blas_limit(nthreads):
    """A context in which BLAS calls use at most `nthreads` threads.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconv._threads import blas_limit
    >>> with blas_limit(1):
    ...     float((np.ones((4, 4)) @ np.ones(4))[0])
    4.0
    """
    return _BlasLimit(nthreads)
