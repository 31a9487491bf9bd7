/* The only place fastconv includes <omp.h>.
 *
 * When the extension is compiled without OpenMP (_OPENMP undefined) the few
 * omp_* functions fastconv uses are replaced by serial stubs, so the Cython
 * sources are identical in both builds and the choice is made by the C
 * compiler flags alone.  Also carries build facts (compiler, CPU features)
 * that only C can see.
 */
#ifndef FASTCONV_OMP_SHIM_H
#define FASTCONV_OMP_SHIM_H

#ifdef _OPENMP
#include <omp.h>
#define FC_OPENMP_ENABLED 1
#define FC_OPENMP_VERSION _OPENMP
#else
#define FC_OPENMP_ENABLED 0
#define FC_OPENMP_VERSION 0
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_procs(void) { return 1; }
static inline void omp_set_num_threads(int n) { (void)n; }
#endif

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#endif

/* n steps of GNU libgomp's spin-wait (config/linux: a relaxed load of the
 * flag and, on x86, a PAUSE; elsewhere the load alone), for timing how long
 * the runtime's GOMP_SPINCOUNT steps of it last on this CPU: PAUSE's latency
 * differs widely between CPUs (20000 steps: ~470 us on Zen 5, where an Intel
 * Xeon guest's team had stopped spinning within ~100 us). */
static inline void fc_spin_steps(long n) {
    static volatile int flag = 0;
    for (long i = 0; i < n; i++) {
        if (flag)
            break;
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
        __asm__ volatile("rep; nop" ::: "memory");
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
        _mm_pause();
#endif
    }
}

#ifndef FASTCONV_SIMD_LEVEL
#define FASTCONV_SIMD_LEVEL "none"
#endif
#ifndef FASTCONV_BUILD_FLAGS
#define FASTCONV_BUILD_FLAGS ""
#endif

static const char *fc_compiler_version(void) {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#elif defined(_MSC_VER)
#define FC_STR2(x) #x
#define FC_STR(x) FC_STR2(x)
    return "msvc " FC_STR(_MSC_FULL_VER);
#else
    return "unknown";
#endif
}

/* CPU feature check for runtime kernel dispatch: 0 = baseline,
 * 1 = AVX2+FMA, 2 = AVX-512 (F, CD, VL, BW, DQ).  Uses the compiler's
 * builtin, which also checks that the OS saves the wide registers. */
static int fc_cpu_simd_level(void) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 1;
    return 0;
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    int r[4];
    unsigned long long xcr0;
    int avx2, avx512;
    __cpuid(r, 0);
    if (r[0] < 7) return 0;
    __cpuid(r, 1);
    /* FMA (bit 12), OSXSAVE (27), AVX (28) */
    if (!((r[2] >> 12) & 1) || !((r[2] >> 27) & 1) || !((r[2] >> 28) & 1)) return 0;
    xcr0 = _xgetbv(0);
    if ((xcr0 & 6) != 6) return 0;           /* OS saves XMM and YMM state */
    __cpuidex(r, 7, 0);
    avx2 = (r[1] >> 5) & 1;
    /* AVX-512 F (16), DQ (17), CD (28), BW (30), VL (31); OS saves opmask/ZMM */
    avx512 = ((r[1] >> 16) & 1) && ((r[1] >> 17) & 1) && ((r[1] >> 28) & 1) &&
             ((r[1] >> 30) & 1) && ((r[1] >> 31) & 1) && ((xcr0 & 0xe6) == 0xe6);
    if (avx2 && avx512) return 2;
    return avx2 ? 1 : 0;
#else
    return 0;
#endif
}


/* Blocks of a buffer filled lazily inside a parallel region (the ROWS
 * driver's padded copy, see rows_correlate): one int per block, 0 = not
 * filled, 1 = being filled, 2 = filled.  The unit that claims a block
 * fills it and publishes it (release); a unit that needs it waits for the
 * publication (acquire).  A filler never waits on anything, so no cycle of
 * waits can form; a waiter spins briefly, then yields its core (on a busy
 * machine the filler may be descheduled). */
#if defined(_MSC_VER) && !defined(__clang__)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX          /* no min/max macros in the generated C */
#endif
#include <windows.h>
static inline int fc_block_claim(volatile long *s) {
    return *s == 0 && _InterlockedCompareExchange(s, 1, 0) == 0;
}
static inline void fc_block_publish(volatile long *s) { _InterlockedExchange(s, 2); }
static inline int fc_block_ready(volatile long *s) {
    return _InterlockedCompareExchange(s, 2, 2) == 2;
}
static inline void fc_block_pause(unsigned k) {
    if (k < 1024) YieldProcessor(); else SwitchToThread();
}
#else
#include <sched.h>
static inline int fc_block_claim(volatile long *s) {
    long expect = 0;
    return __atomic_load_n(s, __ATOMIC_RELAXED) == 0 &&
           __atomic_compare_exchange_n(s, &expect, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
static inline void fc_block_publish(volatile long *s) { __atomic_store_n(s, 2, __ATOMIC_RELEASE); }
static inline int fc_block_ready(volatile long *s) {
    return __atomic_load_n(s, __ATOMIC_ACQUIRE) == 2;
}
static inline void fc_block_pause(unsigned k) {
    if (k >= 1024) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
#endif
static inline void fc_block_wait(volatile long *s) {
    unsigned k = 0;
    while (!fc_block_ready(s))
        fc_block_pause(k++);
}

#endif
