#!/usr/bin/env bash
# Build fastconv for aarch64 (arm64) and run its tests under qemu user-mode
# emulation, in a Debian 12 (bookworm) arm64 root made from Debian's packages
# (issue 17).  The kernels are GCC vector-extension code, so the aarch64 build
# compiles them to NEON (Advanced SIMD); setup.py builds only the portable
# "baseline" level on a non-x86 machine (no x86 flags there).
#
# What it does, as root on an x86-64 Debian/Ubuntu host with apt:
#   1. apt-get installs qemu-user-static, binfmt-support and mmdebstrap on the
#      host (only when missing); qemu-user-static registers qemu-aarch64 with
#      binfmt_misc, so arm64 programs run transparently inside the root;
#   2. mmdebstrap --arch=arm64 bookworm ROOT with Debian's python3,
#      python3-dev, python3-venv, gcc, g++, ca-certificates (mmdebstrap runs
#      the second stage itself, through binfmt);
#   3. a virtual environment /opt/fcvenv inside the root with aarch64 wheels
#      from PyPI: numpy>=2, scipy, Cython>=3.1, setuptools, threadpoolctl,
#      pytest, pytest-timeout, hypothesis.  Debian bookworm's own
#      python3-numpy (1.24), python3-scipy (1.10) and cython3 (0.29) are older
#      than what pyproject.toml requires (numpy>=2 to build, scipy>=1.11,
#      Cython>=3.1), so they cannot be used; PyPI has manylinux aarch64 wheels
#      of all of these for Debian's CPython 3.11.  PyTorch and OpenCV are not
#      installed (their comparisons are skipped): under emulation they would
#      add gigabytes and hours for tests that compare peers, not kernels;
#   4. copies the git-tracked files of this checkout (their working-tree
#      contents) to ROOT/src/fastconv, keeping the previous build/ folder and
#      compiled modules so that an unchanged tree compiles nothing again;
#   5. python setup.py build_ext --inplace, python -m fastconv info;
#   6. pytest: by default a fast subset, the kernel, engine and SciPy-API
#      files listed in ARM64_TESTS below, with -m "not slow"; --full runs
#      every test file with -m "not slow".
# Host certificate authorities added under /usr/local/share/ca-certificates
# (a TLS-intercepting proxy) are copied into the root so that pip works there.
# OMP_WAIT_POLICY=PASSIVE inside the root: spinning OpenMP threads, emulated
# on shared cores, slow the thread-count tests down many times over (results
# do not depend on it).  All emulated work runs under `nice -n 15`.  Mounts (/proc, /dev, /sys) are
# made in a private mount namespace (unshare -m) and vanish with it.
#
# Usage: build_tools/arm64_qemu.sh [--fresh] [--root DIR] [--full] [-- PYTEST_ARGS...]
#   --root DIR  the arm64 root (default /tmp/fastconv-arm64-root, or
#               $FASTCONV_ARM64_ROOT); an existing, completed root is reused
#   --fresh     delete the root first and make it again
#   --full      run the whole suite (-m "not slow") instead of the subset
#   --no-tests  build and print `fastconv info` only
#   PYTEST_ARGS replace the default test selection (e.g. -- tests/test_tiles.py -x)
#
# Time, measured on 2 shared cores of an AMD EPYC (Zen 4) loaded by other
# jobs: root 7.5 min, venv (pip under emulation) 5 min, first build 8 min,
# default test subset 31 min (789 tests in 27 min, test_ndfilters.py 4).
# On 2 cores of an Intel Xeon (AVX-512), quiet: root 6 min, venv 1 min,
# first build 4 min, the subset without the tile-registry, row, DW and
# weight-gradient files 10 min (1487 tests).
# A re-run with the root kept skips the first two steps and, on an
# unchanged tree, the compilation.  Far too
# slow for .ci/run, which does not call it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="${FASTCONV_ARM64_ROOT:-/tmp/fastconv-arm64-root}"
fresh=0
mode=subset
pytest_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root="$2"; shift 2 ;;
        --fresh) fresh=1; shift ;;
        --full) mode=full; shift ;;
        --no-tests) mode=none; shift ;;
        --) shift; pytest_args=("$@"); mode=custom; break ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d;s/^# \{0,1\}//'; exit 0 ;;
        *) echo "arm64_qemu: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

ARM64_TESTS="tests/test_tiles.py tests/test_tiles_flat.py tests/test_tile_registry.py
tests/test_tiles_rows.py tests/test_tiles_dw.py tests/test_wgrad_filtt.py tests/test_signal.py
tests/test_ndimage.py tests/test_ndfilters.py tests/test_separable.py tests/test_engine.py
tests/test_transpose.py tests/test_threads.py tests/test_public_api.py tests/test_cli.py"

if [ "$(id -u)" != 0 ]; then
    echo "arm64_qemu: run as root (apt-get, mmdebstrap, chroot)" >&2
    exit 2
fi
log() { echo "arm64_qemu [$(date +%H:%M:%S)]: $*"; }

# --- 1. host tools ----------------------------------------------------------
need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 || true
fi
if ! grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
    echo "arm64_qemu: qemu-aarch64 is not registered with binfmt_misc" >&2
    exit 1
fi

# run a shell command inside the root, in a private mount namespace
in_root() {
    nice -n 15 unshare -m --propagation private /bin/sh -ec '
        r="$1"; shift
        mount -t proc proc "$r/proc"
        mount --rbind /dev "$r/dev"
        mount --rbind /sys "$r/sys"
        exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 OMP_WAIT_POLICY=PASSIVE \
            PATH=/opt/fcvenv/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/sh -ec "$1"
    ' in_root "$root" "$1"
}

# --- 2. the arm64 root ------------------------------------------------------
stamp="$root/.fastconv-arm64-ready"
if [ "$fresh" = 1 ] || [ ! -e "$stamp" ]; then
    case "$root" in /|"") echo "arm64_qemu: refusing root '$root'" >&2; exit 2 ;; esac
    rm -rf "$root"
    log "mmdebstrap arm64 bookworm -> $root (several minutes)"
    nice -n 15 mmdebstrap --arch=arm64 --variant=apt \
        --include=python3,python3-dev,python3-venv,gcc,g++,libc6-dev,ca-certificates \
        bookworm "$root" http://deb.debian.org/debian
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
        mkdir -p "$root/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
        in_root 'update-ca-certificates >/dev/null 2>&1'
    fi
    # --- 3. Python packages (aarch64 wheels from PyPI) ----------------------
    log "venv /opt/fcvenv + aarch64 wheels (pip under emulation, several minutes)"
    in_root 'python3 -m venv /opt/fcvenv
        pip install -q --upgrade pip
        pip install -q --only-binary=:all: "numpy>=2" "scipy>=1.11" "Cython>=3.1" \
            "setuptools>=77" "threadpoolctl>=3" "pytest>=7" pytest-timeout "hypothesis>=6"'
    touch "$stamp"
else
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    log "reusing $root (--fresh makes it again)"
fi

# --- 4. the source tree -----------------------------------------------------
dst="$root/src/fastconv"
new="$root/src/fastconv.new"
rm -rf "$new"
mkdir -p "$new"
(cd "$here" && git ls-files -z | xargs -0 cp -p --parents -t "$new/")
if [ -d "$dst" ]; then   # keep the previous build: only what changed is rebuilt
    [ -d "$dst/build" ] && mv "$dst/build" "$new/build"
    find "$dst/fastconv" -maxdepth 1 -name '*.so' -exec mv -t "$new/fastconv/" {} +
    rm -rf "$dst"
fi
mv "$new" "$dst"
log "copied $(cd "$here" && git ls-files | wc -l) tracked files of $here ($(cd "$here" && git rev-parse --short HEAD))"

# --- 5. build ---------------------------------------------------------------
log "build (first build: ~8 min emulated)"
t0=$(date +%s)
in_root "cd /src/fastconv && uname -m && python -V && gcc --version | head -1 &&
    python setup.py build_ext --inplace -j $(nproc) > /src/build.log 2>&1 ||
    { tail -50 /src/build.log; exit 1; }
    grep -E '^fastconv build' /src/build.log || true
    python -m fastconv info"
log "build + info took $(( $(date +%s) - t0 )) s (full log: $root/src/build.log)"

# --- 6. tests ---------------------------------------------------------------
case "$mode" in
    none) exit 0 ;;
    subset) sel="-m 'not slow' $(echo $ARM64_TESTS)" ;;
    full) sel="-m 'not slow' tests" ;;
    custom) sel="$(printf "'%s' " "${pytest_args[@]}")" ;;
esac
log "pytest $sel"
t0=$(date +%s)
status=0
in_root "cd /src/fastconv && python -m pytest -q -rfE -p no:cacheprovider --timeout=1800 \
    --junitxml=/src/junit.xml $sel" || status=$?
log "tests took $(( $(date +%s) - t0 )) s, exit status $status (JUnit XML: $root/src/junit.xml)"
exit $status
