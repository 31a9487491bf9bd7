"""Build script for fastconv's compiled extensions.

Everything about the build is decided here, once:

* the OpenMP probe (``build_tools/openmp_probe.py``); ``FASTCONV_OPENMP=0``
  builds serial on purpose, ``FASTCONV_FAIL_NO_OPENMP=1`` makes a failed probe
  an error;
* the Cython compiler directives (``FASTCONV_CYTHON_DEBUG=1`` turns bounds
  checking and friends back on for debugging);
* the SIMD levels the hot kernels are compiled for.  The same kernel source
  (``fastconv/_kernels.pxi``) is compiled into one extension per level and the
  best one the CPU supports is picked at import (``fastconv/_dispatch.py``).
  No ``-march=native`` and no ``-ffast-math``: wheels must run on other CPUs
  and NaN/Inf must propagate.

A build signature (OpenMP on/off, debug, flags) is stored in the build folder;
when it differs from the previous build, every extension is re-cythonized and
recompiled, so a stale ``build/`` can never smuggle an old configuration in.

No needless rebuilds:

* the build folder is persistent, ``build/temp.<platform>-<python>`` in the
  source tree, also for editable installs (``pip install -e .``), which would
  otherwise cythonize and compile everything again in a fresh temporary
  folder each time.  Cython regenerates a C file only when its ``.pyx`` (or an
  included ``.pxi``/``.pxd``) changed, and an extension is compiled only when
  its C file or a header is newer than the module already built in the source
  tree (which is then reused), so re-running the install after changing
  nothing compiles nothing;
* the extensions are cythonized and compiled in parallel (one job per CPU;
  ``FASTCONV_BUILD_JOBS=N`` or ``build_ext -j N`` overrides);
* ``ccache`` is used when it is on ``PATH`` and ``CC`` is not set
  (``FASTCONV_CCACHE=0`` turns that off);
* no debug information (``-g0``; Python's default flags ask for ``-g``),
  which roughly halves the compile time of the kernels.  Set
  ``FASTCONV_CYTHON_DEBUG=1`` for a debug build.
"""

import json
import os
import platform
import shutil
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

try:
    from setuptools.modified import newer_group
except ImportError:  # setuptools < 69
    from setuptools._distutils.dep_util import newer_group

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(ROOT, "build_tools"))
from openmp_probe import decide_openmp, env_flag, openmp_flags  # noqa: E402

DEBUG = env_flag("FASTCONV_CYTHON_DEBUG", False)

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
    "embedsignature": True,
}


def _is_x86():
    machine = platform.machine().lower()
    return machine in ("x86_64", "amd64", "i386", "i686", "x86")


# SIMD levels for the dispatched kernel module: name -> flags per compiler family.
SIMD_LEVELS = {
    # baseline: no contraction into FMA (a no-op on x86-64's SSE2, needed where the
    # baseline ISA has FMA, e.g. aarch64): it is the unfused reference level that
    # fastconv._engine falls back to when a product could overflow (issue 13).
    "baseline": {"unix": ["-ffp-contract=off"], "msvc": []},
}
if _is_x86():
    SIMD_LEVELS["avx2"] = {"unix": ["-mavx2", "-mfma", "-mf16c"], "msvc": ["/arch:AVX2"]}
    SIMD_LEVELS["avx512"] = {
        "unix": ["-mavx512f", "-mavx512cd", "-mavx512vl", "-mavx512bw", "-mavx512dq",
                 "-mavx2", "-mfma", "-mf16c", "-mprefer-vector-width=512"],
        "msvc": ["/arch:AVX512"],
    }


def _kernel_extensions():
    exts = []
    for level in SIMD_LEVELS:
        stub = os.path.join("fastconv", f"_kernels_{level}.pyx")
        exts.append(Extension(f"fastconv._kernels_{level}", [stub], depends=[
            "fastconv/_kernels.pxi", "fastconv/_fused.pxd", "fastconv/_omp_shim.h",
            "fastconv/_microkernels.h", "fastconv/_filter_kernels.pxi",
            "fastconv/_tiles.inc", "fastconv/_rows_tiles.h", "fastconv/_dw_tiles.h",
            "fastconv/_fft_cols.h", "fastconv/_fft_cols_impl.h"]))
        exts[-1].fastconv_simd = level
    return exts


EXTENSIONS = [
    Extension("fastconv._openmp", ["fastconv/_openmp.pyx"], depends=["fastconv/_omp_shim.h"]),
] + _kernel_extensions()


def _jobs():
    value = os.environ.get("FASTCONV_BUILD_JOBS", "")
    if value.strip():
        return max(1, int(value))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


class BuildExt(build_ext):
    """Probe OpenMP, cythonize, set flags, and rebuild when the config changes."""

    def finalize_options(self):
        super().finalize_options()
        if getattr(self, "editable_mode", False) or self.inplace:
            # pip install -e . hands setuptools a fresh temporary folder every
            # time: keep the C files and objects where the next install finds them
            self.build_temp = os.path.join(
                ROOT, "build", f"temp.{sysconfig.get_platform()}-{sys.implementation.cache_tag}")
        if not self.parallel:
            self.parallel = _jobs()

    def _use_ccache(self):
        if os.environ.get("CC") or not env_flag("FASTCONV_CCACHE", True):
            return False
        if self.compiler.compiler_type != "unix" or not shutil.which("ccache"):
            return False
        if self.compiler.compiler_so[0] != "ccache":
            self.compiler.compiler_so = ["ccache"] + list(self.compiler.compiler_so)
        # the same sources in another clone or temporary folder hit the cache
        os.environ.setdefault("CCACHE_BASEDIR", ROOT)
        return True

    def build_extension(self, ext):
        # An editable install builds into a fresh temporary build_lib and
        # copies the modules into the source tree.  When the module already
        # in the tree is newer than its C file and headers, and the build
        # configuration is unchanged (self.force is False; a changed one
        # re-cythonizes every C file, which makes every module in the tree
        # older than its C file), that module is the build: copy it.  So
        # `pip install -e .` twice, or `pip install .` after it, compiles nothing.
        if not self.force:
            filename = self.get_ext_filename(ext.name)
            in_tree = os.path.join(ROOT, filename)
            target = self.get_ext_fullpath(ext.name)
            sources = list(ext.sources) + list(ext.depends or [])
            if os.path.exists(in_tree) and not newer_group(sources, in_tree, "newer"):
                print(f"fastconv build: {ext.name} is up to date")
                if os.path.abspath(target) != os.path.abspath(in_tree):
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copy2(in_tree, target)
                return
        super().build_extension(ext)

    def build_extensions(self):
        print(f"fastconv build: {self.parallel} parallel job(s); "
              f"ccache {'on' if self._use_ccache() else 'off'}; build folder {self.build_temp}")
        super().build_extensions()

    def run(self):
        from Cython.Build import cythonize

        ctype = self.compiler if isinstance(self.compiler, str) else None
        from setuptools._distutils.ccompiler import new_compiler
        from setuptools._distutils.sysconfig import customize_compiler

        cc = new_compiler(compiler=ctype)
        customize_compiler(cc)
        use_openmp, reason = decide_openmp(cc)
        family = "msvc" if cc.compiler_type == "msvc" else "unix"
        omp_c, omp_l = openmp_flags(cc) if use_openmp else ([], [])
        base_flags = ["/O2"] if family == "msvc" else ["-O3", "-fno-strict-aliasing", "-g0"]
        if DEBUG and family != "msvc":
            base_flags = ["-O0", "-g"]

        signature = {
            "openmp": use_openmp, "debug": DEBUG, "family": family,
            "flags": base_flags + omp_c, "levels": {k: v[family] for k, v in SIMD_LEVELS.items()},
            "python": sys.version, "cython_directives": DIRECTIVES,
        }
        stamp = os.path.join(self.build_temp, "fastconv_build_signature.json")
        previous = None
        if os.path.exists(stamp):
            with open(stamp) as fh:
                previous = fh.read()
        current = json.dumps(signature, sort_keys=True)
        changed = previous != current
        if changed:
            self.force = True
        print(f"fastconv build: OpenMP {'ON' if use_openmp else 'OFF'} ({reason}); "
              f"debug={DEBUG}; rebuild-all={changed}")

        levels = {ext.name: getattr(ext, "fastconv_simd", None) for ext in self.extensions}
        new_exts = cythonize(
            self.extensions,
            compiler_directives=DIRECTIVES,
            build_dir=os.path.join(self.build_temp, "cython"),
            force=changed,
            quiet=True,
            nthreads=self.parallel if self.parallel > 1 else 0,
        )
        by_name = {e.name: e for e in new_exts}
        for ext in self.extensions:
            ext.sources = list(by_name[ext.name].sources)
            level = levels.get(ext.name)
            simd = SIMD_LEVELS[level][family] if level else []
            ext.extra_compile_args = base_flags + simd + omp_c
            ext.extra_link_args = list(omp_l)
            ext.include_dirs = list(ext.include_dirs) + ["fastconv"]
            macros = [("FASTCONV_SIMD_LEVEL", f'"{level or "none"}"')]
            if family != "msvc":
                macros.append(("FASTCONV_BUILD_FLAGS", '"' + " ".join(base_flags + simd) + '"'))
            ext.define_macros = list(ext.define_macros) + macros
        super().run()
        os.makedirs(self.build_temp, exist_ok=True)
        with open(stamp, "w") as fh:
            fh.write(current)


setup(ext_modules=EXTENSIONS, cmdclass={"build_ext": BuildExt})
