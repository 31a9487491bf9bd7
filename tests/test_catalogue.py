"""The bad-input catalogue as a CI fact (issue 13).

Every case of tests/catalogue_cases.py runs in a child interpreter
(tests/catalogue_runner.py), many cases per child to stay fast.  A child
that dies (a crash) or overruns its timeout (a hang) has its unreported
cases re-run one per child, so the culprit is named.  Each case must end
``ok`` or with a ``clear`` error; ``unclear`` errors, ``modified`` inputs,
crashes and hangs fail the group.  No clock is read: the timeouts are
``subprocess.run``'s.

``FASTCONV_CATALOGUE_REPORT=path.json`` writes every case's outcome there
(the closing note's counts come from it).
"""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import catalogue_cases  # noqa: E402
from conftest import IMPORT_ROOT  # noqa: E402

RUNNER = os.path.join(HERE, "catalogue_runner.py")
GROUP = 150
GROUP_TIMEOUT = 600      # a loaded 2-core machine; a group needs a few seconds
CASE_TIMEOUT = 120

IDS = [cid for cid, _ in catalogue_cases.cases()]
GROUPS = [IDS[i:i + GROUP] for i in range(0, len(IDS), GROUP)]


def _run(ids, timeout):
    """Run `ids` in one child; return ({id: (outcome, detail)}, child status)."""
    env = dict(os.environ, FASTCONV_IMPORT_ROOT=IMPORT_ROOT)
    env.setdefault("OMP_NUM_THREADS", "2")
    try:
        proc = subprocess.run([sys.executable, RUNNER] + ids, capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=IMPORT_ROOT)
        out, status = proc.stdout, ("exit", proc.returncode, proc.stderr[-2000:])
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        status = ("timeout", None, "")
    results = {}
    for line in out.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row["outcome"] != "start":
            results[row["id"]] = (row["outcome"], row.get("detail", ""))
    return results, status


def run_group(ids, group_timeout=GROUP_TIMEOUT, case_timeout=CASE_TIMEOUT):
    results, status = _run(ids, group_timeout)
    for cid in ids:
        if cid in results:
            continue
        # the child died or hung before reporting this case: run it alone
        one, st = _run([cid], case_timeout)
        if cid in one:
            results[cid] = one[cid]
        elif st[0] == "timeout":
            results[cid] = ("hang", f"no result within {case_timeout} s")
        else:
            results[cid] = ("crash", f"child exit status {st[1]}: {st[2][-500:]}")
    return results


_REPORT = {}


@pytest.mark.parametrize("group", range(len(GROUPS)))
def test_catalogue_group(group):
    ids = GROUPS[group]
    results = run_group(ids)
    _REPORT.update(results)
    path = os.environ.get("FASTCONV_CATALOGUE_REPORT")
    if path:
        with open(path, "w") as fh:
            json.dump(_REPORT, fh, indent=1, sort_keys=True)
    bad = {cid: r for cid, r in results.items() if r[0] not in ("ok", "clear")}
    assert not bad, "\n".join(f"{cid}: {o}: {d}" for cid, (o, d) in sorted(bad.items()))


def test_catalogue_is_large_and_unique():
    assert len(IDS) == len(set(IDS))
    assert len(IDS) >= 1000


def test_runner_classifies():
    # the classification itself: an unclear NumPy-internal error, a clear
    # one, a crash (os.abort) and a hang are each recognised
    import catalogue_runner as cr
    ns = {}
    exec(catalogue_cases.PRELUDE, ns)
    assert cr.classify("fc.conv1d(x3, w3, stride=0)", ns)[0] == "clear"
    assert cr.classify("np.zeros((2, 3)).reshape(4)", ns)[0] == "unclear"
    assert cr.classify("fc.convolve(f64, k33)", ns)[0] == "ok"
    assert cr.classify("f64.__setitem__(0, 5.0)", ns)[0] == "modified"


def test_harness_sees_crash_and_hang():
    ids = ["resolve_padding_bad", "!__import__('os').abort()", "output_shape_neg",
           "!__import__('threading').Event().wait()", "conv_f16"]
    res = run_group(ids, group_timeout=60, case_timeout=20)
    assert res["resolve_padding_bad"][0] == "clear"
    assert res["!__import__('os').abort()"][0] == "crash"
    assert res["!__import__('threading').Event().wait()"][0] == "hang"
    assert res["output_shape_neg"][0] == "clear"
    assert res["conv_f16"][0] in ("ok", "clear")
