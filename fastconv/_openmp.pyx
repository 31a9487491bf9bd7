"""The one module that calls the OpenMP runtime.

Every ``omp_*`` call in fastconv goes through here (the kernels only use
``prange``/``parallel`` with an explicit ``num_threads``).  When the package is
built without OpenMP, ``_omp_shim.h`` supplies serial stubs.
"""

from time import perf_counter as _perf_counter


cdef extern from "_omp_shim.h" nogil:
    int FC_OPENMP_ENABLED
    int FC_OPENMP_VERSION
    const char *FASTCONV_BUILD_FLAGS
    int omp_get_max_threads()
    int omp_get_num_procs()
    const char *fc_compiler_version()
    int fc_cpu_simd_level()
    void fc_spin_steps(long n)


def openmp_enabled():
    """Whether this build of fastconv was compiled with OpenMP."""
    return bool(FC_OPENMP_ENABLED)


def openmp_version():
    """The ``_OPENMP`` date macro of the build (0 when built serial)."""
    return int(FC_OPENMP_VERSION)


def max_threads():
    """``omp_get_max_threads()``: honours ``OMP_NUM_THREADS`` and runtime limits
    such as ``threadpoolctl.threadpool_limits(user_api='openmp')``."""
    return int(omp_get_max_threads())


def num_procs():
    """``omp_get_num_procs()`` (1 in a serial build)."""
    return int(omp_get_num_procs())


def compiler_version():
    """Name and version of the C compiler that built the extensions."""
    return fc_compiler_version().decode("ascii", "replace")


def build_flags():
    """Optimisation flags the extension was compiled with (empty on MSVC)."""
    return FASTCONV_BUILD_FLAGS.decode("ascii", "replace")


def cpu_simd_level():
    """The best kernel level this CPU supports: 0 baseline, 1 AVX2/FMA, 2 AVX-512."""
    return int(fc_cpu_simd_level())


def spin_seconds(long steps):
    """Wall seconds that `steps` steps of the GNU runtime's spin-wait take on
    this CPU (the team's warm window, see ``fastconv._threads``)."""
    t0 = _perf_counter()
    with nogil:
        fc_spin_steps(steps)
    return _perf_counter() - t0
