#!/usr/bin/env bash
# Smoke test of the asv suite (asv_benchmarks/): every benchmark runs once.
#
# Usage:  PYTHON=/path/to/venv/bin/python build_tools/ci_asv.sh
#
# * Runs against the fastconv INSTALLED in $PYTHON's environment
#   (`asv run --python=same`): no virtualenv, no build, nothing recorded
#   (`--dry-run`).  $PYTHON (default: `python`) needs the `bench` group
#   (asv); the peers (group `peers`: torch, opencv) are benchmarked when
#   installed and skipped otherwise.
# * `--quick` runs each benchmark exactly once; FASTCONV_ASV_SMALL=1 shrinks
#   the arrays (not the parameters) so the whole suite takes a few minutes;
#   FASTCONV_ASV_WORKERS (default here: 2) chooses the `workers` values;
#   FASTCONV_ASV_STRICT=1 makes a fastconv function the suite names but the
#   package lacks a failure instead of a skip.
# * Fails (non-zero exit) when asv cannot import the suite, when any
#   benchmark fails (asv exits 2), or when the log shows a traceback or a
#   "failed" benchmark; passes only if at least one benchmark ran.
set -euo pipefail

PY="${PYTHON:-python}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/asv_benchmarks"

echo "== asv smoke with $("$PY" -c 'import sys; print(sys.executable)')"
# fastconv must come from the environment, not from the source tree
(cd / && "$PY" -c 'import fastconv, sys; print("fastconv", fastconv.__version__, "from", fastconv.__file__)')
"$PY" -m asv --version

# a machine description is needed once per machine/user; non-interactive
"$PY" -m asv machine --yes >/dev/null

export FASTCONV_ASV_SMALL=1
export FASTCONV_ASV_STRICT=1
export FASTCONV_ASV_WORKERS="${FASTCONV_ASV_WORKERS:-2}"

log="$(mktemp "${TMPDIR:-/tmp}/fastconv-asv-smoke.XXXXXX")"
trap 'rm -f "$log"' EXIT
set +e
"$PY" -m asv run --python=same --quick --dry-run --show-stderr "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

if [ "$rc" -ne 0 ]; then
    echo "ci_asv.sh: asv run exited with $rc (a benchmark failed or the suite did not import)" >&2
    exit 1
fi
if grep -E -q "Traceback|asv: benchmark failed|[0-9]%\] ··· .* failed$" "$log"; then
    echo "ci_asv.sh: the asv log reports failures:" >&2
    grep -E -n "Traceback|benchmark failed| failed$" "$log" | head -20 >&2
    exit 1
fi
ran=$(grep -E -c "[0-9]%\] ··· .* ok$" "$log" || true)
if [ "$ran" -eq 0 ]; then
    echo "ci_asv.sh: no benchmark ran" >&2
    exit 1
fi
echo "ci_asv.sh: $ran benchmarks ran, none failed"
