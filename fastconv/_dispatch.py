"""Pick the kernel module for this CPU at import.

The same Cython kernels are compiled for several SIMD levels (``baseline``:
the platform's minimum, e.g. SSE2 on x86-64; ``avx2``: AVX2 + FMA;
``avx512``: AVX-512 F/CD/VL/BW/DQ).  The best level this CPU supports is
used.  ``FASTCONV_SIMD=baseline|avx2|avx512`` forces a level (for tests and
for comparing levels); asking for a level the CPU cannot run raises at import
instead of crashing later with an illegal instruction.
"""

import importlib
import importlib.util
import os

from fastconv import _openmp

LEVELS = ("baseline", "avx2", "avx512")


def _available_levels():
    # find_spec locates a built module without executing it: the AVX2 and
    # AVX-512 modules may use their instructions anywhere, module init
    # included, so they are only imported once the CPU is known to run them.
    return [name for name in LEVELS
            if importlib.util.find_spec(f"fastconv._kernels_{name}") is not None]


AVAILABLE = tuple(_available_levels())
CPU_LEVEL = LEVELS[_openmp.cpu_simd_level()]


def supported_levels():
    """Levels that are both built and runnable on this CPU, lowest first."""
    limit = LEVELS.index(CPU_LEVEL)
    return tuple(lv for lv in AVAILABLE if LEVELS.index(lv) <= limit)


def _choose():
    requested = os.environ.get("FASTCONV_SIMD", "").strip().lower()
    runnable = supported_levels()
    if requested:
        if requested not in LEVELS:
            raise ImportError(
                f"FASTCONV_SIMD must be one of {', '.join(LEVELS)}, got {requested!r}")
        if requested not in runnable:
            raise ImportError(
                f"FASTCONV_SIMD={requested} is not available here: this build and CPU "
                f"support {', '.join(runnable)}")
        return requested
    return runnable[-1]


LEVEL = _choose()
kernels = importlib.import_module(f"fastconv._kernels_{LEVEL}")


_LOADED = {}


def get_kernels(level=None):
    """Return the kernel module for `level` (default: the dispatched one)."""
    if level is None:
        return kernels
    mod = _LOADED.get(level)
    if mod is not None:
        return mod
    if level not in supported_levels():
        raise ValueError(f"SIMD level {level!r} is not runnable here; "
                         f"choose from {supported_levels()}")
    mod = _LOADED[level] = importlib.import_module(f"fastconv._kernels_{level}")
    return mod
