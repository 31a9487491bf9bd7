/* Complex FFTs along the first axis of a (rows, cols) complex array, for the
 * tiled FFT route's transforms along the tile axis (fastconv/_fft.py), in
 * float32 and float64; and real FFTs along rows (fc_fft_rows_r2c/c2r, the
 * tiles' last axis), one row per lane, on the same engine.
 *
 * scipy.fft (pocketfft) runs these with 128-bit vectors (SciPy's wheels are
 * built for the x86-64 baseline), two to four columns at a time; here the
 * level's vectors take V columns at once (AVX-512: 8 float64 or 16 float32;
 * AVX2 and the baseline: 4 or 8), real and imaginary parts in separate
 * vectors, so a butterfly or a twiddle is plain multiply-adds.  A block of V
 * columns is gathered into a scratch buffer in mixed-radix digit-reversed
 * order, transformed there stage by stage (a decimation-in-time
 * Cooley-Tukey with radices 2, 3, 4, 5 and 8, butterflies in place) and
 * scattered back; the last block of fewer than V columns pads its lanes
 * with zeros.  The inverse is conj(FFT(conj(x))) times `scale`.
 *
 * The plan (factors, permutation, twiddles in the data's precision) comes
 * from fastconv._fft._cols_plan.  Every column is transformed by the same
 * operations in the same order whatever the other columns are, so results
 * depend neither on the column count nor on threads.
 *
 * fc_fft_cols_T, fc_fft_cols_conv_T (T = float, double): the functions;
 * _fft_cols_impl.h is their body, included once per type.
 */
#ifndef FASTCONV_FFT_COLS_H
#define FASTCONV_FFT_COLS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "_microkernels.h"

#if FC_VEC
/* `nbytes`, 64-byte aligned (the vector types' alignment), from malloc
 * (aligned_alloc is missing from older macOS and MinGW C libraries); *raw
 * receives the pointer to free. */
static inline void *fc_fft_aligned(size_t nbytes, void **raw)
{
    char *p = (char *)malloc(nbytes + 64);
    *raw = p;
    if (p == NULL)
        return NULL;
    return p + (64 - (size_t)((uintptr_t)p % 64)) % 64;
}

/* Two vectors of interleaved complex numbers <-> their real and imaginary
 * parts (one permute each way per vector at AVX-512). */
#if defined(__clang__)
#define FC_FFT_SHUF(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define FC_FFT_SHUF(a, b, ...)                                                      \
    __builtin_shuffle(a, b, (FC_FFT_SUF(fc_fftvi)){__VA_ARGS__})
#endif
#ifndef FC_FFT_PF
#define FC_FFT_PF (4 * FC_FFT_V)   /* elements ahead: two blocks */
#endif

/* An empty asm that hides a vector's value from the optimiser (see
 * fc_fft_ld): "v" is any vector register on x86 (all 32 at AVX-512), "w"
 * on arm64. */
#if defined(__x86_64__) || defined(__i386__)
#define FC_FFT_OPAQUE(v) __asm__("" : "+v"(v))
#elif defined(__aarch64__)
#define FC_FFT_OPAQUE(v) __asm__("" : "+w"(v))
#else
#define FC_FFT_OPAQUE(v) ((void)0)
#endif

/* The radix-p butterflies, on p points (ar, ai) already multiplied by their
 * twiddles, written back m apart from R[b], I[b] (FC_FFT_T: the element type
 * of the including instance).  Radices 5 and 8 are whole stages of their own
 * in _fft_cols_impl.h (their points do not fit 16 registers in this form). */
/* y[j1] = p + q, y[j2] = p - q (complex, as real and imaginary parts) */
#define FC_FFT_PM(R, I, j1, j2, pr, pi, qr, qi) do {                                \
    R[j1] = (pr) + (qr);                                                            \
    I[j1] = (pi) + (qi);                                                            \
    R[j2] = (pr) - (qr);                                                            \
    I[j2] = (pi) - (qi);                                                            \
} while (0)
#define FC_FFT_BFLY2(R, I, b, m, ar, ai)                                            \
    FC_FFT_PM(R, I, b, b + m, ar[0], ai[0], ar[1], ai[1])
/* y1, y3 = (a0 - a2) +- (a1 - a3)(-i) */
#define FC_FFT_BFLY4(R, I, b, m, ar, ai) do {                                       \
    const FC_FFT_VT t0r = ar[0] + ar[2], t0i = ai[0] + ai[2];                       \
    const FC_FFT_VT t1r = ar[0] - ar[2], t1i = ai[0] - ai[2];                       \
    const FC_FFT_VT t2r = ar[1] + ar[3], t2i = ai[1] + ai[3];                       \
    const FC_FFT_VT t3r = ai[1] - ai[3], t3i = ar[3] - ar[1];                       \
    FC_FFT_PM(R, I, b, b + 2 * m, t0r, t0i, t2r, t2i);                              \
    FC_FFT_PM(R, I, b + m, b + 3 * m, t1r, t1i, t3r, t3i);                          \
} while (0)
/* y1, y2 = a0 - (a1 + a2) / 2 -+ i sin(2 pi / 3) (a1 - a2) */
#define FC_FFT_BFLY3(R, I, b, m, ar, ai) do {                                       \
    const FC_FFT_T h3 = (FC_FFT_T)0.86602540378443864676;                           \
    const FC_FFT_T half = (FC_FFT_T)0.5;                                            \
    const FC_FFT_VT sr = ar[1] + ar[2], si = ai[1] + ai[2];                         \
    const FC_FFT_VT dr = ar[1] - ar[2], di = ai[1] - ai[2];                         \
    const FC_FFT_VT tr_ = ar[0] - half * sr, ti_ = ai[0] - half * si;               \
    R[b] = ar[0] + sr;                                                              \
    I[b] = ai[0] + si;                                                              \
    FC_FFT_PM(R, I, b + m, b + 2 * m, tr_, ti_, h3 * di, -h3 * dr);                 \
} while (0)
/* The level's own register width (as fc_genrow's): 256-bit types split into
 * 128-bit halves at the baseline kept the butterflies' operands on the stack
 * (the tiled route's column FFT 3.4x slower than pocketfft there). */
#if defined(__AVX512F__) && !defined(FC_FORCE_256)
typedef double fc_fft_vd __attribute__((vector_size(64)));
typedef float fc_fft_vf __attribute__((vector_size(64)));
#define FC_FFT_LANES_double 8
#define FC_FFT_LANES_float 16
#elif defined(__AVX__)
typedef double fc_fft_vd __attribute__((vector_size(32)));
typedef float fc_fft_vf __attribute__((vector_size(32)));
#define FC_FFT_LANES_double 4
#define FC_FFT_LANES_float 8
#else
typedef double fc_fft_vd __attribute__((vector_size(16)));
typedef float fc_fft_vf __attribute__((vector_size(16)));
#define FC_FFT_LANES_double 2
#define FC_FFT_LANES_float 4
#endif

#define FC_FFT_T double
#define FC_FFT_VT fc_fft_vd
#define FC_FFT_VI long long
#define FC_FFT_V FC_FFT_LANES_double
#define FC_FFT_SUF(name) name##_double
#include "_fft_cols_impl.h"
#undef FC_FFT_T
#undef FC_FFT_VT
#undef FC_FFT_VI
#undef FC_FFT_V
#undef FC_FFT_SUF
#define FC_FFT_T float
#define FC_FFT_VT fc_fft_vf
#define FC_FFT_VI int
#define FC_FFT_V FC_FFT_LANES_float
#define FC_FFT_SUF(name) name##_float
#include "_fft_cols_impl.h"
#undef FC_FFT_T
#undef FC_FFT_VT
#undef FC_FFT_VI
#undef FC_FFT_V
#undef FC_FFT_SUF
#define FC_HAVE_FFT_COLS 1
#define FC_FFT_VBYTES ((int)sizeof(fc_fft_vd))
#else
/* Without vector extensions: no column FFT (scipy.fft runs those
 * transforms); the stubs keep the kernel module's interface. */
#define FC_FFT_STUB_(T)                                                             \
static int fc_fft_cols_##T(T *x, ptrdiff_t n, ptrdiff_t rs, ptrdiff_t c0, ptrdiff_t c1, \
                           int nst, const ptrdiff_t *fac, const ptrdiff_t *perm,    \
                           const T *tr, const T *ti, const ptrdiff_t *toff,         \
                           int inverse, T scale)                                    \
{                                                                                   \
    (void)x; (void)n; (void)rs; (void)c0; (void)c1; (void)nst; (void)fac;           \
    (void)perm; (void)tr; (void)ti; (void)toff; (void)inverse; (void)scale;         \
    return -2;                                                                      \
}                                                                                   \
static int fc_fft_cols_conv_##T(T *x, ptrdiff_t n, ptrdiff_t rs, ptrdiff_t c0,      \
                                ptrdiff_t c1, const T *h, ptrdiff_t hs, int nst,    \
                                const ptrdiff_t *fac, const ptrdiff_t *perm,        \
                                const T *tr, const T *ti, const ptrdiff_t *toff,    \
                                T scale)                                            \
{                                                                                   \
    (void)x; (void)n; (void)rs; (void)c0; (void)c1; (void)h; (void)hs; (void)nst;   \
    (void)fac; (void)perm; (void)tr; (void)ti; (void)toff; (void)scale;             \
    return -2;                                                                      \
}
FC_FFT_STUB_(double)
FC_FFT_STUB_(float)
#define FC_FFT_ROWS_STUB_(T)                                                        \
static int fc_fft_rows_r2c_##T(const T *x, ptrdiff_t nrows, ptrdiff_t xs, T *out,   \
                               ptrdiff_t os, ptrdiff_t h, int nst,                  \
                               const ptrdiff_t *fac, const ptrdiff_t *perm,         \
                               const T *tr, const T *ti, const ptrdiff_t *toff,     \
                               const T *wr, const T *wi)                            \
{                                                                                   \
    (void)x; (void)nrows; (void)xs; (void)out; (void)os; (void)h; (void)nst;        \
    (void)fac; (void)perm; (void)tr; (void)ti; (void)toff; (void)wr; (void)wi;      \
    return -2;                                                                      \
}                                                                                   \
static int fc_fft_rows_c2r_##T(const T *sp, ptrdiff_t nrows, ptrdiff_t ss, T *y,    \
                               ptrdiff_t ys, ptrdiff_t y0, ptrdiff_t ym,            \
                               ptrdiff_t h, int nst,                                \
                               const ptrdiff_t *fac, const ptrdiff_t *perm,         \
                               const T *tr, const T *ti, const ptrdiff_t *toff,     \
                               const T *wr, const T *wi, T scale)                   \
{                                                                                   \
    (void)sp; (void)nrows; (void)ss; (void)y; (void)ys; (void)y0; (void)ym; (void)h; \
    (void)nst;                                                                      \
    (void)fac; (void)perm; (void)tr; (void)ti; (void)toff; (void)wr; (void)wi;      \
    (void)scale;                                                                    \
    return -2;                                                                      \
}
FC_FFT_ROWS_STUB_(double)
FC_FFT_ROWS_STUB_(float)
#define FC_HAVE_FFT_COLS 0
#define FC_FFT_VBYTES 0
#endif

#endif
