"""fastconv's OpenMP runtime as a user meets it: threadpoolctl, limits, PyTorch.

Every check runs in a fresh subprocess, so that what another test imported
(PyTorch brings its own OpenMP runtime) cannot change what is measured, and
so that each import order really is the first import.

Run from the source tree (editable build) these tests check the runtime the
build linked (e.g. the system ``libgomp``).  Run against an installed wheel
(``build_tools/wheels/build_and_test.sh``, cibuildwheel) two environment
variables make them stricter:

``FASTCONV_REQUIRE_OPENMP=1``
    a build without OpenMP is a failure, not a skip;
``FASTCONV_EXPECT_BUNDLED_OPENMP=1``
    the OpenMP runtime fastconv uses must be the copy bundled in the wheel
    (``fastconv.libs/`` from auditwheel/delvewheel, ``fastconv/.dylibs/`` from
    delocate), not one from the system.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import fastconv

CFG = fastconv.show_config(print_out=False)
OPENMP = CFG["openmp"]["enabled"]
REQUIRE_OPENMP = os.environ.get("FASTCONV_REQUIRE_OPENMP", "0") == "1"
EXPECT_BUNDLED = os.environ.get("FASTCONV_EXPECT_BUNDLED_OPENMP", "0") == "1"

needs_openmp = pytest.mark.skipif(
    not OPENMP and not REQUIRE_OPENMP, reason="fastconv was built without OpenMP")


def run_json(code, env_extra=None, timeout=300, cwd=None):
    """Run `code` in a fresh interpreter; return the JSON it prints last.

    BLAS pools are pinned to one thread so that only OpenMP threads can
    appear in the thread counts below.
    """
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(var, None)
    env.update({"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    env.update(env_extra or {})
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=timeout, env=env, cwd=cwd)
    assert res.returncode == 0, f"exit {res.returncode}\n{res.stdout}\n{res.stderr}"
    return json.loads(res.stdout.strip().splitlines()[-1])


def _norm(path):
    return os.path.normcase(os.path.realpath(path)) if path else path


def test_openmp_present_when_required():
    """A wheel built without OpenMP must fail here (FASTCONV_REQUIRE_OPENMP=1)."""
    if not REQUIRE_OPENMP:
        pytest.skip("FASTCONV_REQUIRE_OPENMP is not set")
    assert OPENMP, f"this fastconv was built without OpenMP: {CFG}"
    # _OPENMP of the build: MSVC's /openmp says 200203 (OpenMP 2.0), gcc/clang more
    assert CFG["openmp"]["version"] >= 200203, CFG["openmp"]


RUNTIME_SCRIPT = """
import json, os
import numpy, scipy  # their own runtimes load first, so fastconv's shows as new
from threadpoolctl import threadpool_info

def omp():
    return [i for i in threadpool_info() if i["user_api"] == "openmp"]

before = {i["filepath"] for i in omp()}
import fastconv
after = omp()
cfg = fastconv.show_config(print_out=False)
print(json.dumps({
    "before": sorted(before),
    "after": after,
    "runtime": cfg["openmp"]["runtime"],
    "package_dir": os.path.dirname(os.path.abspath(fastconv.__file__)),
}))
"""


@needs_openmp
def test_threadpoolctl_lists_fastconv_runtime(tmp_path):
    pytest.importorskip("threadpoolctl")
    res = run_json(RUNTIME_SCRIPT, cwd=tmp_path)
    after = {_norm(i["filepath"]): i for i in res["after"]}
    assert after, f"threadpoolctl lists no OpenMP runtime after importing fastconv: {res}"
    runtime = _norm(res["runtime"])
    assert runtime in after, (
        f"the runtime fastconv reports ({res['runtime']}) is not one threadpoolctl "
        f"controls: {sorted(after)}")
    # The import of fastconv itself is what brought a runtime in (numpy and scipy
    # were imported first), unless one of them already uses the same library.
    new = set(after) - {_norm(p) for p in res["before"]}
    assert runtime in new or runtime in {_norm(p) for p in res["before"]}
    info = after[runtime]
    assert info["num_threads"] >= 1
    if EXPECT_BUNDLED:
        install_root = os.path.dirname(_norm(res["package_dir"]))
        assert os.path.commonpath([runtime, install_root]) == install_root, (
            f"OpenMP runtime {runtime} is not the copy bundled in the wheel "
            f"(installed under {install_root})")
        rel = os.path.relpath(runtime, install_root).replace(os.sep, "/")
        assert rel.startswith(("fastconv.libs/", "fastconv/.dylibs/")), rel


LIMITS_SCRIPT = """
import json, os
import numpy as np
import fastconv
from fastconv import _openmp, _threads
from threadpoolctl import threadpool_limits

def os_threads():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None

rng = np.random.default_rng(7)
# 4 x 8 output planes of 62 x 62: enough row blocks for every thread.
x = rng.standard_normal((4, 8, 64, 64))
w = rng.standard_normal((8, 8, 3, 3))
r = {"usable_cpus": _threads.usable_cpus()}
r["before"] = [_openmp.max_threads(), _threads.max_threads(),
               fastconv.show_config(False)["threads"]]
with threadpool_limits(limits=1, user_api="openmp"):
    r["inside"] = [_openmp.max_threads(), _threads.max_threads(),
                   fastconv.show_config(False)["threads"]]
    t0 = os_threads()
    y1 = fastconv.conv2d(x, w, workers=None)
    r["threads_limited"] = [t0, os_threads()]
r["after"] = [_openmp.max_threads(), _threads.max_threads(),
              fastconv.show_config(False)["threads"]]
t0 = os_threads()
# explicit: workers=None also leaves out cores other processes keep busy
y2 = fastconv.conv2d(x, w, workers=_threads.max_threads())
r["threads_free"] = [t0, os_threads()]
r["same_result"] = bool(np.array_equal(y1, y2))
print(json.dumps(r))
"""


@needs_openmp
def test_threadpool_limits_really_limits_fastconv(tmp_path):
    """``threadpool_limits(1, user_api='openmp')`` caps fastconv at one thread.

    OMP_NUM_THREADS=3 makes the unlimited count > 1 on any machine.  On Linux
    the OS threads of the process are counted too: a call made under the
    limit must not start any OpenMP worker, the same call made without it
    must (when more than one CPU is usable).
    """
    pytest.importorskip("threadpoolctl")
    r = run_json(LIMITS_SCRIPT, {"OMP_NUM_THREADS": "3"}, cwd=tmp_path)
    cpus = r["usable_cpus"]
    expected_default = min(3, cpus)
    assert r["before"] == [3, expected_default, expected_default], r
    assert r["inside"] == [1, 1, 1], r
    assert r["after"] == r["before"], r
    assert r["same_result"]
    if r["threads_limited"][0] is None:
        return  # no /proc: the counts reported by fastconv above are the check
    t0, t1 = r["threads_limited"]
    assert t1 == t0, f"a call under threadpool_limits(1) started {t1 - t0} thread(s)"
    if expected_default > 1:
        t0, t1 = r["threads_free"]
        assert t1 - t0 == expected_default - 1, (
            f"without the limit fastconv should add {expected_default - 1} OpenMP "
            f"worker(s), the process went from {t0} to {t1} threads")


TORCH_SCRIPT = """
import importlib, json
order = {order!r}
mods = {{name: importlib.import_module(name) for name in order}}
torch, fastconv = mods["torch"], mods["fastconv"]
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits
from fastconv import _threads

rng = np.random.default_rng(3)
x = rng.standard_normal((3, 4, 33, 29))
w = rng.standard_normal((6, 2, 3, 4))
b = rng.standard_normal(6)
kw = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
F = torch.nn.functional
torch.set_num_threads(2)   # torch's own OpenMP pool is in use too

def reference():
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    ref = F.conv2d(t(x), t(w), t(b), **kw).numpy()
    scale = F.conv2d(t(abs(x)), t(abs(w)), t(abs(b)), **kw).numpy()
    return ref, scale

r = {{"errors": [], "bitwise_equal": True}}
ref, scale = reference()
first = None
for rnd in range(2):          # interleave torch and fastconv calls
    for workers in (1, 2, None):
        got = fastconv.conv2d(x, w, b, workers=workers, **kw)
        r["errors"].append(float(np.max(np.abs(got - ref) / scale)))
        if first is None:
            first = got
        r["bitwise_equal"] &= bool(np.array_equal(got, first))
    ref2, _ = reference()
    r["torch_stable"] = bool(np.array_equal(ref, ref2))
x32, w32, b32 = (a.astype(np.float32) for a in (x, w, b))
got32 = fastconv.conv2d(x32, w32, b32, workers=2, **kw)
r["err32"] = float(np.max(np.abs(got32 - ref) / scale))
r["dtype32"] = str(got32.dtype)
with threadpool_limits(limits=1, user_api="openmp"):
    r["limited_threads"] = _threads.default_threads()
r["openmp_libs"] = sorted({{i["filepath"] for i in threadpool_info()
                           if i["user_api"] == "openmp"}})
print(json.dumps(r))
"""


@pytest.mark.parametrize("order", [("fastconv", "torch"), ("torch", "fastconv")],
                         ids=["fastconv-first", "torch-first"])
def test_import_with_torch_either_order(order, tmp_path):
    """fastconv and PyTorch (with its own libgomp) in one process, both orders.

    Tolerances: float64 results must match PyTorch to 1e-12 relative to the
    scale sum|x||w| + |b| (each output sums 2*3*4 = 24 products plus the bias;
    the rounding bound is ~26 * 2**-53 ~ 3e-15).  float32 inputs (rounded from
    the float64 ones) against the float64 reference: each product carries up to
    3 roundings (two inputs, the product) and the float32 sum of 25 terms up to
    25 more, so the bound is 28 * 2**-24 ~ 1.7e-6 of the scale, used as 2e-6.  Results of fastconv must be bitwise equal for 1, 2 and
    ``None`` threads, before and after PyTorch ran its own threads.
    """
    pytest.importorskip("torch")
    pytest.importorskip("threadpoolctl")
    r = run_json(TORCH_SCRIPT.format(order=order), cwd=tmp_path)
    assert max(r["errors"]) <= 1e-12, r
    assert r["bitwise_equal"], r
    assert r["torch_stable"], r
    assert r["dtype32"] == "float32"
    assert r["err32"] <= 2e-6, r
    if OPENMP:
        assert r["limited_threads"] == 1, r
        assert r["openmp_libs"], r
