"""The thread policy (fastconv._threads): one place decides thread counts.

Nothing here reads a clock: the machine's load is simulated by replacing the
load monitor's samples.
"""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastconv
from fastconv import _dispatch, _threads
from fastconv._threads import resolve_workers, team_size

MULTI = _threads.usable_cpus() > 1 and fastconv.show_config(print_out=False)["openmp"]["enabled"]


class FakeLoad:
    """Feeds the monitor /proc/stat samples: `others` cores busy per second."""

    def __init__(self, monkeypatch, others, first_running=1):
        self.t = 100.0
        self.busy = 0.0
        self.own = 0.0
        self.others = others
        load = _threads._MachineLoad()
        monkeypatch.setattr(load, "_sample", self.sample)
        monkeypatch.setattr(load, "_first_guess", staticmethod(lambda: float(first_running - 1)))
        monkeypatch.setattr(_threads, "_load", load)
        monkeypatch.setattr(load, "clock", lambda: self.t)
        self.load = load

    def sample(self):
        return self.t, self.busy, self.own

    def advance(self, seconds, own_cores=1.0):
        self.t += seconds
        self.own += own_cores * seconds
        self.busy += (self.others + own_cores) * seconds


@pytest.mark.skipif(not MULTI, reason="needs OpenMP and at least 2 usable CPUs")
def test_default_leaves_out_cores_other_processes_keep_busy(monkeypatch):
    cpus = _threads.usable_cpus()
    monkeypatch.setattr(_threads._openmp, "max_threads", lambda: cpus)
    fake = FakeLoad(monkeypatch, others=float(cpus), first_running=1)
    assert resolve_workers(None) == cpus          # first guess: nobody else runs
    fake.advance(0.5)
    assert resolve_workers(None) == 1             # every core busy elsewhere
    fake.others = cpus - 1.0
    fake.advance(0.01)                            # within MIN_INTERVAL: estimate kept
    assert resolve_workers(None) == 1
    fake.advance(0.5)
    assert resolve_workers(None) == 1             # one core left: serial
    fake.others = 0.2                             # a little background noise
    fake.advance(0.5)
    assert resolve_workers(None) == cpus
    # explicit counts are the user's: not reduced by the load (only capped)
    fake.others = float(cpus)
    fake.advance(0.5)
    assert resolve_workers(2) == 2
    assert resolve_workers(1) == 1


@pytest.mark.skipif(not MULTI, reason="needs OpenMP and at least 2 usable CPUs")
def test_first_guess_counts_runnable_tasks(monkeypatch):
    cpus = _threads.usable_cpus()
    monkeypatch.setattr(_threads._openmp, "max_threads", lambda: cpus)
    FakeLoad(monkeypatch, others=0.0, first_running=1 + cpus)
    assert resolve_workers(None) == 1


def test_monitor_without_proc_counts_the_machine_idle(monkeypatch):
    load = _threads._MachineLoad()

    def fail():
        raise OSError("no /proc")
    monkeypatch.setattr(load, "_sample", fail)
    assert load.busy_cores() == 0.0


def test_real_monitor_reads_this_machine():
    load = _threads._MachineLoad()
    first = load.busy_cores()
    assert first >= 0.0
    assert load.busy_cores() == first or load.busy_cores() >= 0.0


def test_explicit_workers_are_capped_at_the_usable_cpus():
    cpus = _threads.usable_cpus()
    assert resolve_workers(10 ** 9) <= cpus
    assert resolve_workers(cpus + 5) <= cpus
    assert resolve_workers(-1) == (cpus if MULTI else 1)


def test_team_size():
    assert team_size(4, 2) == 2
    assert team_size(4, 0) == 1
    assert team_size(4, 100, work=10) == 1
    assert team_size(4, 100, work=_threads.SERIAL_WORK) == 4
    assert team_size(1, 100) == 1


def test_concurrent_python_threads_share_the_budget():
    with _threads.running():
        assert team_size(4, 100) == 4
        with _threads.running():          # re-entrant: the same thread counts once
            assert team_size(4, 100) == 4
        seen = []
        ready, release = threading.Event(), threading.Event()

        def other():
            with _threads.running():
                ready.set()
                release.wait(30)
        th = threading.Thread(target=other)
        th.start()
        ready.wait(30)
        seen.append(team_size(4, 100))
        release.set()
        th.join()
        assert seen == [2]
        assert team_size(4, 100) == 4


def test_workers_one_scans_for_nonfinite_values_on_one_thread(monkeypatch):
    calls = []
    real = _dispatch.kernels.any_nonfinite

    def spy(flat, nthreads):
        calls.append(nthreads)
        return real(flat, nthreads)
    monkeypatch.setattr(_dispatch.kernels, "any_nonfinite", spy)
    x = np.random.default_rng(0).standard_normal((512, 512))
    k = np.random.default_rng(1).standard_normal((512, 512))
    x[3, 3] = np.inf        # the kernel scan then needs the input's too
    k[5, 5] = np.nan
    fastconv.convolve(x, k, "same", method="auto", workers=1)
    assert calls and set(calls) == {1}


def test_weight_gradient_blas_obeys_workers(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from fastconv import _autograd
    seen = []
    real = _autograd._weight_grad_gemm

    def spy(*args):
        seen.extend(i["num_threads"] for i in threadpoolctl.threadpool_info()
                    if i["user_api"] == "blas")
        return real(*args)
    monkeypatch.setattr(_autograd, "_weight_grad_gemm", spy)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 12, 12))
    gy = rng.standard_normal((2, 4, 10, 10))
    fastconv.conv_grad_weight(x, (4, 3, 3, 3), gy, workers=1)
    if not seen:
        pytest.skip("no BLAS library visible to threadpoolctl")
    assert set(seen) == {1}


def _run(code, env_extra):
    env = dict(os.environ)
    env.pop("GOMP_SPINCOUNT", None)
    env.pop("OMP_WAIT_POLICY", None)
    env.update(env_extra)
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_wait_policy_is_set_only_while_the_runtime_loads():
    code = "import os, fastconv; print(os.environ.get('GOMP_SPINCOUNT'))"
    assert _run(code, {}) == "None"            # not left behind for other runtimes
    assert _run(code, {"GOMP_SPINCOUNT": "7"}) == "7"    # the user's choice stays
    code = ("import os, fastconv; print(os.environ.get('GOMP_SPINCOUNT'), "
            "os.environ.get('OMP_WAIT_POLICY'))")
    assert _run(code, {"OMP_WAIT_POLICY": "active"}) == "None active"


@pytest.mark.parametrize("workers", [None, 1, 2])
def test_results_do_not_depend_on_the_load_decision(workers):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 300)).astype(np.float32)
    k = rng.standard_normal((7, 7)).astype(np.float32)
    ref = fastconv.convolve(x, k, "same", method="direct", workers=1)
    got = fastconv.convolve(x, k, "same", method="direct", workers=workers)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("shape, kshape, method", [
    ((300, 257), (9, 7), "direct"),     # separable or not: priced the same for any workers
    ((40, 700), (5, 3), "direct"),      # operand order / inner axis
    ((64, 64), (31, 31), "auto"),       # direct or FFT
    ((3, 200, 180), (1, 9, 9), "direct"),
])
def test_decisions_do_not_depend_on_workers(shape, kshape, method):
    """Every choice that changes the numbers (method, layout, separable route)
    is priced for the machine, not for `workers`: bitwise equal results."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape).astype(np.float32)
    g = [np.exp(-np.linspace(-1, 1, n) ** 2) for n in kshape]
    k = g[0]
    for f in g[1:]:
        k = np.multiply.outer(k, f)
    k = (k * (1 + 0.1 * rng.random(k.shape[-1]))).astype(np.float32)
    outs = [fastconv.convolve(x, k, "same", method=method, workers=w) for w in (1, 2, None)]
    for o in outs[1:]:
        np.testing.assert_array_equal(o.view(np.uint32), outs[0].view(np.uint32))


class FakeClocks:
    """Wall and CPU clocks the team-wake policy reads, moved by hand."""

    def __init__(self, monkeypatch):
        self.wall = 1000.0
        self.cpu = 10.0
        monkeypatch.setattr(_threads, "_clocks", (lambda: self.wall, lambda: self.cpu))
        # (the policy's state at import: as if a region had just ended)
        monkeypatch.setattr(_threads, "_team", {"end": self.wall, "cpu": self.cpu,
                                                "want": -np.inf, "want_cpu": 0.0})
        # a warm window of this CPU's (warm_window times it once)
        self.window = 2e-4
        monkeypatch.setitem(_threads._spin, "window", self.window)

    def pause(self, seconds, busy):
        """`seconds` pass; this process runs all of them (busy) or none."""
        self.wall += seconds
        if busy:
            self.cpu += seconds


def test_a_sleeping_team_needs_more_work(monkeypatch):
    clk = FakeClocks(monkeypatch)
    floor, cold, asleep = (_threads.SERIAL_WORK, _threads.SERIAL_WORK_COLD,
                           _threads.SERIAL_WORK_ASLEEP)
    assert floor < cold < asleep
    # no team yet: judged from import time by the same rules -- after the
    # process slept only work that pays for waking halted CPUs, after
    # Python work (loading data, say) the cold rule
    clk.pause(1e-2, busy=False)
    assert not _threads.worth_waking(asleep - 1)
    assert _threads.worth_waking(asleep)
    clk.pause(1.0, busy=True)
    assert not _threads.worth_waking(cold - 1)
    assert _threads.worth_waking(cold)
    _threads.team_used()
    # right after a region the team spins: the floor applies
    clk.pause(clk.window / 2, busy=True)
    assert _threads.worth_waking(floor)
    assert not _threads.worth_waking(floor - 1)
    # after Python work the workers sleep on a futex
    clk.pause(1e-3, busy=True)
    assert not _threads.worth_waking(cold - 1)
    assert _threads.worth_waking(cold)
    # after the process slept, the other CPUs are halted
    _threads.team_used()
    clk.pause(1e-2, busy=False)
    assert not _threads.worth_waking(asleep - 1)
    assert _threads.worth_waking(asleep)


def test_a_stream_of_calls_wakes_the_team_once(monkeypatch):
    """Calls that want a team but find it asleep run on one thread; when the
    next comes within the warm window of the last one's end, waking the team
    once keeps it warm for the rest; not after a longer pause, not after
    the process slept, and calls below the floor never count."""
    clk = FakeClocks(monkeypatch)
    floor, cold = _threads.SERIAL_WORK, _threads.SERIAL_WORK_COLD
    mid = (floor + cold) // 2
    clk.pause(1.0, busy=True)
    assert not _threads.worth_waking(mid)          # a first call: one thread
    _threads.team_skipped(mid)
    clk.pause(clk.window / 2, busy=True)
    assert _threads.worth_waking(mid)              # the next soon after: wake
    assert not _threads.worth_waking(floor - 1)    # (never below the floor)
    _threads.team_used()
    clk.pause(clk.window * 2, busy=True)           # the stream stopped
    assert not _threads.worth_waking(mid)
    _threads.team_skipped(mid)
    clk.pause(clk.window / 2, busy=False)          # this process slept meanwhile
    assert not _threads.worth_waking(mid)
    _threads.team_skipped(floor - 1)               # a call too small to want a team
    clk.pause(clk.window * 2, busy=True)
    _threads.team_skipped(floor - 1)
    clk.pause(clk.window / 2, busy=True)
    assert not _threads.worth_waking(mid)


def test_warm_window_is_timed_once(monkeypatch):
    """Half of GOMP_SPINCOUNT steps' time on this CPU, within its bounds;
    the floor where the user set the wait policy (the steps are not ours)."""
    monkeypatch.setitem(_threads._spin, "window", None)
    monkeypatch.setitem(_threads._spin, "user_set", False)
    w = _threads.warm_window()
    assert _threads._WARM_WINDOW <= w <= _threads._WARM_MAX
    monkeypatch.setattr(_threads._openmp, "spin_seconds", lambda steps: 1 / 0)
    assert _threads.warm_window() == w                # cached
    monkeypatch.setitem(_threads._spin, "window", None)
    monkeypatch.setattr(_threads._openmp, "spin_seconds", lambda steps: steps * 5e-9)
    assert _threads.warm_window() == pytest.approx(0.5 * 5e-9 * int(_threads._SPIN_COUNT))
    monkeypatch.setitem(_threads._spin, "window", None)
    monkeypatch.setattr(_threads._openmp, "spin_seconds", lambda steps: steps * 1e-6)
    assert _threads.warm_window() == _threads._WARM_MAX
    monkeypatch.setitem(_threads._spin, "window", None)
    monkeypatch.setitem(_threads._spin, "user_set", True)
    assert _threads.warm_window() == _threads._WARM_WINDOW


@pytest.mark.skipif(not MULTI, reason="needs 2 usable CPUs and OpenMP")
def test_engine_runs_serially_when_waking_does_not_pay(monkeypatch):
    from fastconv import _engine
    clk = FakeClocks(monkeypatch)
    seen = []
    real = _engine._run

    def spy(plan, kern, x, w, b, out, nthreads, cache):
        seen.append(nthreads)
        return real(plan, kern, x, w, b, out, nthreads, cache)

    monkeypatch.setattr(_engine, "_run", spy)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 1, 256, 256))     # 0.59 M multiply-adds with 3 x 3
    w = rng.standard_normal((1, 1, 3, 3))
    kw = dict(stride=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)), nthreads=2)
    clk.pause(1.0, busy=True)
    ref = _engine.correlate(x, w, **kw)          # cold: one thread
    _threads.team_used()
    clk.pause(clk.window / 2, busy=True)
    warm = _engine.correlate(x, w, **kw)          # the team still spins: two
    clk.pause(1.0, busy=True)
    cold = _engine.correlate(x, w, **kw)
    assert seen == [1, 2, 1]
    assert np.array_equal(ref, warm) and np.array_equal(ref, cold)
