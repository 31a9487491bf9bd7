"""Thread-count resolution, OMP_NUM_THREADS, threadpoolctl and fork safety."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastconv
from fastconv import _threads

SERIAL_BUILD = os.environ.get("FASTCONV_OPENMP", "1") == "0"


def run_python(code, env_extra=None, timeout=120):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env)


# --- workers resolution ---------------------------------------------------

def test_none_is_default_threads():
    assert _threads.resolve_workers(None) == _threads.default_threads()


def test_positive_counts():
    # capped at the usable CPUs: more threads than cores is never faster
    expected = 1 if SERIAL_BUILD else min(3, _threads.usable_cpus())
    assert _threads.resolve_workers(3) == expected
    assert _threads.resolve_workers(np.int64(1)) == 1


def test_negative_counts_back_from_cores():
    cpus = _threads.usable_cpus()
    if SERIAL_BUILD:
        assert _threads.resolve_workers(-1) == 1
        return
    assert _threads.resolve_workers(-1) == cpus
    if cpus >= 2:
        assert _threads.resolve_workers(-2) == cpus - 1


@pytest.mark.parametrize("bad, exc, match", [
    (0, ValueError, r"workers must be a non-zero int or None, got 0"),
    (-10_000, ValueError, r"workers=-10000 counts back past the first of the \d+ usable CPUs"),
    (1.5, TypeError, r"workers must be an int or None, got float 1\.5"),
    (True, TypeError, r"workers must be an int or None, got bool True"),
    ("2", TypeError, r"workers must be an int or None, got str '2'"),
])
def test_bad_workers(bad, exc, match):
    with pytest.raises(exc, match=match):
        _threads.resolve_workers(bad)


def test_public_functions_validate_workers():
    x = np.ones((1, 1, 5))
    w = np.ones((1, 1, 3))
    with pytest.raises(ValueError, match="workers"):
        fastconv.conv1d(x, w, workers=0)
    with pytest.raises(TypeError, match="workers"):
        fastconv.conv1d(x, w, workers=2.0)


# --- show_config ----------------------------------------------------------

def test_show_config_reports_build():
    cfg = fastconv.show_config(print_out=False)
    for key in ("version", "openmp", "threads", "simd", "compiler"):
        assert key in cfg
    assert cfg["version"] == fastconv.__version__
    if SERIAL_BUILD:
        assert cfg["openmp"]["enabled"] is False
        assert cfg["openmp"]["runtime"] is None
        assert cfg["threads"] == 1
    else:
        assert cfg["openmp"]["enabled"] is True
        assert cfg["openmp"]["runtime"]
        assert cfg["threads"] == min(_threads.usable_cpus(), fastconv._openmp.max_threads())


def test_show_config_prints(capsys):
    fastconv.show_config()
    out = capsys.readouterr().out
    assert "OpenMP: " in out and "Threads: " in out and "SIMD: " in out


def test_cli_info_one_item_per_line():
    res = subprocess.run([sys.executable, "-m", "fastconv", "info"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    omp = [ln for ln in lines if ln.startswith("OpenMP: ")]
    assert len(omp) == 1
    if SERIAL_BUILD:
        assert omp[0].startswith("OpenMP: disabled")
    else:
        assert omp[0].startswith("OpenMP: enabled (")


# --- OMP_NUM_THREADS, affinity, threadpoolctl -----------------------------

def test_omp_num_threads_honoured():
    res = run_python("import fastconv; print(fastconv.show_config(False)['threads'])",
                     {"OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "1"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no affinity API")
def test_affinity_mask_honoured():
    code = """
        import os
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        import fastconv
        print(fastconv.show_config(False)['threads'])
    """
    res = run_python(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "1"


@pytest.mark.skipif(SERIAL_BUILD, reason="serial build has no OpenMP runtime")
def test_threadpoolctl_limits_honoured():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = _threads.default_threads()
    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        assert _threads.default_threads() == 1
        assert _threads.resolve_workers(None) == 1
    assert _threads.default_threads() == before


# --- fork safety ----------------------------------------------------------

FORK_SCRIPT = """
import os, sys, signal
import numpy as np
import fastconv
from fastconv import _threads
# 75 M multiply-adds: enough to wake a team even from sleep (SERIAL_WORK_ASLEEP)
x = np.random.default_rng(0).standard_normal((8, 16, 64, 64))
w = np.random.default_rng(1).standard_normal((16, 16, 3, 3))
assert x.size * w[0].size >= _threads.SERIAL_WORK_ASLEEP    # outputs x taps
ref = fastconv.conv2d(x, w, padding=1, workers=2)     # the parent uses its threads
pid = os.fork()
if pid == 0:
    if {disable_guard}:
        _threads._state["forked_child"] = False     # simulate no fork handling
    # an explicit count: the default may be 1 on a busy machine
    y = fastconv.conv2d(x, w, padding=1, workers=2)
    os._exit(0 if np.array_equal(y, ref) else 3)
import time
for _ in range(int({timeout} / 0.05)):
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        code = os.waitstatus_to_exitcode(status)
        print("child exit", code)
        sys.exit(code)
    time.sleep(0.05)
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
print("child hung")
sys.exit(42)
"""


@pytest.mark.timeout(120)
def test_fork_after_threads_child_completes():
    res = run_python(FORK_SCRIPT.format(disable_guard=False, timeout=30))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "child exit 0" in res.stdout


def test_child_after_fork_runs_serially():
    code = """
        import os, sys
        import numpy as np, fastconv
        fastconv.conv1d(np.ones((2, 1, 100000)), np.ones((1, 1, 3)), workers=2)
        pid = os.fork()
        if pid == 0:
            from fastconv import _threads
            ok = _threads.resolve_workers(None) == 1 and _threads.resolve_workers(2) == 1
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    """
    res = run_python(code)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.skipif(SERIAL_BUILD, reason="needs the OpenMP build")
@pytest.mark.timeout(120)
def test_without_the_guard_libgomp_child_hangs():
    """Shows the fork test can fail: with the guard switched off in the child,
    GNU libgomp deadlocks.  Only meaningful with libgomp (other runtimes may be
    fork-safe), so it is skipped elsewhere."""
    runtime = fastconv.show_config(False)["openmp"]["runtime"] or ""
    if "libgomp" not in os.path.basename(runtime):
        pytest.skip(f"OpenMP runtime is {runtime}, not libgomp")
    res = run_python(FORK_SCRIPT.format(disable_guard=True, timeout=5))
    assert "child hung" in res.stdout, res.stdout + res.stderr


@pytest.mark.timeout(120)
def test_fft_thread_pool_survives_fork():
    """The FFT route keeps a thread pool between calls; a forked child (whose
    copy of the pool has no threads) still gets every result."""
    code = """
        import os, sys
        import numpy as np
        from fastconv import _fft
        sq = lambda i: i * i
        assert _fft._pool_map(sq, range(8), 2) == [i * i for i in range(8)]
        pid = os.fork()
        if pid == 0:
            ok = _fft._pool_map(sq, range(8), 2) == [i * i for i in range(8)]
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    """
    res = run_python(code)
    assert res.returncode == 0, res.stdout + res.stderr


def test_usable_cpus_reads_the_mask_at_most_every_refresh(monkeypatch):
    """The affinity mask is read once per ``CPUS_REFRESH`` seconds: calls in
    between reuse the count, a call after it sees a changed mask."""
    reads = []
    monkeypatch.setattr(_threads, "_read_usable_cpus", lambda: reads.append(1) or 5 - len(reads))
    monkeypatch.setattr(_threads, "_cpus", [-_threads.CPUS_REFRESH, 1])
    t = [100.0]
    monkeypatch.setattr(_threads, "_cpus_clock", lambda: t[0])
    assert _threads.usable_cpus() == 4 and len(reads) == 1
    t[0] += _threads.CPUS_REFRESH / 2
    assert _threads.usable_cpus() == 4 and len(reads) == 1
    t[0] += _threads.CPUS_REFRESH
    assert _threads.usable_cpus() == 3 and len(reads) == 2
