"""Build-time OpenMP probe used by ``setup.py``.

The probe compiles, links *and runs* a tiny OpenMP program with the same
compiler and flags the extensions will use.  A compiler that accepts the flag
but cannot link or run the runtime (Apple clang without libomp, a missing
libgomp) is therefore detected here, at build time, instead of at import time
on a user's machine.

Environment variables
---------------------
FASTCONV_OPENMP=0
    Skip the probe and build serial on purpose.
FASTCONV_FAIL_NO_OPENMP=1
    Turn a failed probe into a build error (used by CI and wheel builds so a
    serial wheel is never shipped by accident).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import warnings

PROBE_SOURCE = textwrap.dedent(
    """\
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d %d\\n", n, omp_get_max_threads());
        return n >= 1 ? 0 : 1;
    }
    """
)


def env_flag(name, default):
    """Read a boolean environment variable (``0/1``, ``false/true``, ...)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def openmp_flags(compiler):
    """Return ``(compile_args, link_args)`` that enable OpenMP for *compiler*."""
    ctype = getattr(compiler, "compiler_type", "unix")
    if ctype == "msvc":
        return ["/openmp"], []
    if sys.platform == "darwin" and "openmp" in os.environ.get("CPPFLAGS", ""):
        # Apple clang: OpenMP is switched on by the user's CPPFLAGS
        # (-Xpreprocessor -fopenmp) and the runtime comes from LDFLAGS (-lomp).
        return [], []
    return ["-fopenmp"], ["-fopenmp"]


def probe_openmp(compiler):
    """Compile, link and run the probe program.

    Returns
    -------
    ok : bool
        Whether the program built and ran.
    detail : str
        What happened (the program's output or the error), for messages.
    """
    cflags, lflags = openmp_flags(compiler)
    tmp = tempfile.mkdtemp(prefix="fastconv_omp_probe_")
    cwd = os.getcwd()
    try:
        os.chdir(tmp)
        with open("probe.c", "w") as fh:
            fh.write(PROBE_SOURCE)
        extra_pre = os.environ.get("CPPFLAGS", "").split()
        objects = compiler.compile(["probe.c"], output_dir=".", extra_preargs=extra_pre,
                                   extra_postargs=cflags)
        ldflags = os.environ.get("LDFLAGS", "").split()
        compiler.link_executable(objects, "probe", output_dir=".",
                                 extra_preargs=ldflags, extra_postargs=lflags)
        exe = os.path.join(tmp, "probe" + (".exe" if sys.platform == "win32" else ""))
        env = dict(os.environ, OMP_NUM_THREADS="2")
        out = subprocess.run([exe], capture_output=True, text=True, timeout=60, env=env)
        if out.returncode != 0:
            return False, f"probe exited with {out.returncode}: {out.stderr.strip()}"
        return True, out.stdout.strip()
    except Exception as exc:  # CompileError, LinkError, OSError, TimeoutExpired
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        os.chdir(cwd)
        shutil.rmtree(tmp, ignore_errors=True)


def decide_openmp(compiler):
    """Decide whether to build with OpenMP.

    Returns ``(enabled, reason)`` and raises ``RuntimeError`` when the probe
    fails while ``FASTCONV_FAIL_NO_OPENMP=1`` is set.
    """
    if not env_flag("FASTCONV_OPENMP", True):
        return False, "disabled by FASTCONV_OPENMP=0"
    ok, detail = probe_openmp(compiler)
    if ok:
        return True, f"probe ran ({detail})"
    message = (
        "fastconv: the OpenMP probe failed, so fastconv is being built WITHOUT "
        f"OpenMP (single-threaded).\nReason: {detail}\n"
        "Install an OpenMP runtime (libgomp for gcc, libomp for clang) to get "
        "multi-threaded kernels."
    )
    if env_flag("FASTCONV_FAIL_NO_OPENMP", False):
        raise RuntimeError(message + "\nFASTCONV_FAIL_NO_OPENMP=1 is set: failing the build.")
    warnings.warn(message, stacklevel=2)
    return False, f"probe failed: {detail}"
