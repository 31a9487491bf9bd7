#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run of the compiled kernels
# (issue 13).  Builds the extensions with -fsanitize=address,undefined in a
# temporary copy of the source tree (the checkout's own .so files are not
# touched), then runs the core test files at each SIMD level given (default:
# baseline and avx2) with the sanitizer runtimes preloaded into the
# (uninstrumented) Python interpreter.  Any sanitizer report aborts the run
# with a non-zero exit status.
#
# Usage: build_tools/ci_sanitize.sh [level ...]
#   SANITIZE_TESTS   test files to run (default: the engine/kernel/geometry files and the
#                    ndimage filters' line kernels)
#   SANITIZE_KEEP=1  keep the temporary tree (its path is printed)
# Needs gcc (or clang with the same runtimes) on Linux.  ~5 min on 2 cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
levels=("$@")
if [ ${#levels[@]} -eq 0 ]; then
    levels=(baseline avx2)
fi
tests="${SANITIZE_TESTS:-tests/test_engine.py tests/test_tiles.py tests/test_tiles_flat.py tests/test_transpose.py tests/test_reliability.py tests/test_wgrad_filtt.py tests/test_tile_registry.py tests/test_fft_route.py tests/test_ndfilters.py tests/test_ndimage.py}"
cc="${CC:-gcc}"
asan="$($cc -print-file-name=libasan.so)"
ubsan="$($cc -print-file-name=libubsan.so)"
if [ ! -e "$asan" ] || [ ! -e "$ubsan" ]; then
    echo "ci_sanitize: $cc has no libasan.so/libubsan.so" >&2
    exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/fastconv-sanitize.XXXXXX")"
if [ "${SANITIZE_KEEP:-0}" != "1" ]; then
    trap 'rm -rf "$work"' EXIT
fi
echo "ci_sanitize: tree copy in $work"
# tracked (and new, unignored) files only: no .so, no build/ directory
(cd "$here" && git ls-files -co --exclude-standard -z) | \
    (cd "$here" && xargs -0 cp --parents -t "$work")
rm -f "$work"/fastconv/*.so

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
build() {
    (cd "$work" && CFLAGS="$san" LDFLAGS="$san" python setup.py build_ext --inplace -j 2 \
        > "$work/build.log" 2>&1) || { tail -40 "$work/build.log"; exit 1; }
}
if command -v flock > /dev/null && [ -w /tmp ]; then
    # one build at a time on a shared machine
    export -f build; export work san
    flock /tmp/fastconv-build.lock bash -c build
else
    build
fi
echo "ci_sanitize: built $(ls "$work"/fastconv/*.so | wc -l) sanitized extensions"

status=0
for level in "${levels[@]}"; do
    echo "ci_sanitize: FASTCONV_SIMD=$level"
    # detect_leaks=0: CPython itself keeps memory until exit.
    # halt_on_error/abort: a report ends the run with an error status.
    if ! (cd "$work" && \
          LD_PRELOAD="$asan $ubsan" \
          ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1" \
          UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
          FASTCONV_SIMD="$level" OMP_NUM_THREADS=2 \
          python -m pytest $tests -x -q -m "not slow" -p no:cacheprovider -W ignore); then
        echo "ci_sanitize: FAILED at FASTCONV_SIMD=$level" >&2
        status=1
    else
        echo "ci_sanitize: FASTCONV_SIMD=$level clean"
    fi
done
exit $status
