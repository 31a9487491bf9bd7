#!/usr/bin/env bash
# cibuildwheel `before-all` on macOS: put an OpenMP runtime (LLVM's libomp and
# omp.h) where the [tool.cibuildwheel.macos] environment in pyproject.toml
# points the compiler and linker:
#
#     CPPFLAGS="-Xpreprocessor -fopenmp"   Apple clang has no -fopenmp driver flag
#     CFLAGS="-I$PREFIX/include"           omp.h
#     LDFLAGS="-L$PREFIX/lib -lomp -Wl,-rpath,$PREFIX/lib"
#
# build_tools/openmp_probe.py sees "openmp" in CPPFLAGS and then compiles,
# links and runs its test program with exactly these flags, so a missing or
# unusable runtime fails the build (FASTCONV_FAIL_NO_OPENMP=1).  delocate
# then copies libomp.dylib into the wheel (fastconv/.dylibs/).
#
# The runtime is conda-forge's llvm-openmp package for the runner's own
# architecture (the workflow builds arm64 on macos-14 and x86_64 on
# macos-15-intel, natively).  Those builds target macOS 11.0 (arm64) and 10.9
# (x86_64), at or below the MACOSX_DEPLOYMENT_TARGET set in pyproject.toml, so
# delocate accepts them; a newer libomp would need a higher target.
#
# Usage: bash build_tools/wheels/cibw_before_all_macos.sh
#   FASTCONV_OPENMP_PREFIX   where to unpack (default: $HOME/fastconv-openmp;
#                            must match pyproject.toml)
#   FASTCONV_LLVM_OPENMP_URL another package URL (.tar.bz2 conda package)
set -euo pipefail

PREFIX="${FASTCONV_OPENMP_PREFIX:-$HOME/fastconv-openmp}"
CF="https://anaconda.org/conda-forge/llvm-openmp/11.1.0/download"
case "$(uname -m)" in
    arm64)  URL="$CF/osx-arm64/llvm-openmp-11.1.0-hf3c4609_1.tar.bz2" ;;
    x86_64) URL="$CF/osx-64/llvm-openmp-11.1.0-hda6cdc1_1.tar.bz2" ;;
    *) echo "unsupported macOS architecture $(uname -m)" >&2; exit 1 ;;
esac
URL="${FASTCONV_LLVM_OPENMP_URL:-$URL}"

rm -rf "$PREFIX"
mkdir -p "$PREFIX"
echo "fetching $URL into $PREFIX"
curl -fsSL --retry 3 "$URL" -o "$PREFIX/llvm-openmp.tar.bz2"
tar -xjf "$PREFIX/llvm-openmp.tar.bz2" -C "$PREFIX"
rm -f "$PREFIX/llvm-openmp.tar.bz2"

test -f "$PREFIX/include/omp.h" || { echo "omp.h missing in $PREFIX/include" >&2; exit 1; }
test -f "$PREFIX/lib/libomp.dylib" || { echo "libomp.dylib missing in $PREFIX/lib" >&2; exit 1; }
otool -L "$PREFIX/lib/libomp.dylib"
# the minimum macOS version the runtime was built for (LC_BUILD_VERSION or
# LC_VERSION_MIN_MACOSX), to compare with MACOSX_DEPLOYMENT_TARGET
otool -l "$PREFIX/lib/libomp.dylib" | grep -A4 -E "LC_BUILD_VERSION|LC_VERSION_MIN_MACOSX" || true
