/* Complex FFTs along the first axis of a (rows, cols) complex128 array, for
 * the tiled FFT route's transforms along the tile axis (fastconv/_fft.py).
 *
 * scipy.fft (pocketfft) runs these with 128-bit vectors (SciPy's wheels are
 * built for the x86-64 baseline), two columns at a time; here the level's
 * vectors take V columns at once (8 at AVX-512, 4 at AVX2), real and
 * imaginary parts in separate vectors, so a butterfly or a twiddle is plain
 * multiply-adds.  A block of V columns is gathered into a scratch buffer in
 * mixed-radix digit-reversed order, transformed there stage by stage (a
 * decimation-in-time Cooley-Tukey with radices 2, 3, 4 and 5, butterflies in
 * place) and scattered back; the last block of fewer than V columns pads its
 * lanes with zeros.  The inverse is conj(FFT(conj(x))) times `scale`.
 *
 * The plan (factors, permutation, twiddles) comes from
 * fastconv._fft._cols_plan.  Every column is transformed by the same
 * operations in the same order whatever the other columns are, so results
 * depend neither on the column count nor on threads.
 */
#ifndef FASTCONV_FFT_COLS_H
#define FASTCONV_FFT_COLS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "_microkernels.h"

#if FC_VEC
typedef fc_vd fc_fftv;
#define FC_FFT_V FC_LANES_double

/* `count` vectors, 64-byte aligned (the vector type's alignment), from
 * malloc (aligned_alloc is missing from older macOS and MinGW C libraries);
 * *raw receives the pointer to free. */
static inline fc_fftv *fc_fft_scratch(size_t count, void **raw)
{
    char *p = (char *)malloc(count * sizeof(fc_fftv) + 64);
    *raw = p;
    if (p == NULL)
        return NULL;
    return (fc_fftv *)(p + (64 - (size_t)((uintptr_t)p % 64)) % 64);
}

/* Two vectors of interleaved complex numbers <-> their real and imaginary
 * parts (one permute each way per vector at AVX-512). */
#if defined(__clang__)
#define FC_FFT_SHUF(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
typedef long long fc_fftvi __attribute__((vector_size(sizeof(fc_fftv))));
#define FC_FFT_SHUF(a, b, ...) __builtin_shuffle(a, b, (fc_fftvi){__VA_ARGS__})
#endif
#ifndef FC_FFT_PF
#define FC_FFT_PF (4 * FC_FFT_V)   /* doubles ahead: two blocks */
#endif
#if FC_FFT_V == 8
#define FC_FFT_EVEN 0, 2, 4, 6, 8, 10, 12, 14
#define FC_FFT_ODD 1, 3, 5, 7, 9, 11, 13, 15
#define FC_FFT_LO 0, 8, 1, 9, 2, 10, 3, 11
#define FC_FFT_HI 4, 12, 5, 13, 6, 14, 7, 15
#else
#define FC_FFT_EVEN 0, 2, 4, 6
#define FC_FFT_ODD 1, 3, 5, 7
#define FC_FFT_LO 0, 4, 1, 5
#define FC_FFT_HI 2, 6, 3, 7
#endif

/* gather row `src` (complex interleaved) of a block of nv <= V columns into
 * the split scratch (re, im); lanes >= nv get 0 */
static inline void fc_fft_gather(const double *src, int nv, fc_fftv *re, fc_fftv *im,
                                 double conj)
{
    fc_fftv r = {0}, i = {0};
    if (nv == FC_FFT_V) {
        const fc_fftv a = FC_LOADU(fc_fftv, src), b = FC_LOADU(fc_fftv, src + FC_FFT_V);
        r = FC_FFT_SHUF(a, b, FC_FFT_EVEN);
        i = FC_FFT_SHUF(a, b, FC_FFT_ODD);
    } else {
        for (int l = 0; l < nv; l++) {
            r[l] = src[2 * l];
            i[l] = src[2 * l + 1];
        }
    }
    *re = r;
    *im = i * conj;
}

static inline void fc_fft_scatter(double *dst, int nv, fc_fftv re, fc_fftv im)
{
    if (nv == FC_FFT_V) {
        FC_STOREU(fc_fftv, dst, FC_FFT_SHUF(re, im, FC_FFT_LO));
        FC_STOREU(fc_fftv, dst + FC_FFT_V, FC_FFT_SHUF(re, im, FC_FFT_HI));
    } else {
        for (int l = 0; l < nv; l++) {
            dst[2 * l] = re[l];
            dst[2 * l + 1] = im[l];
        }
    }
}

/* One stage: groups of ns = p * m points; in each, for k < m, the p points
 * k, k + m, ..., k + (p-1) m are multiplied by the twiddles w(q k / ns)
 * (tr, ti: (m, p - 1) tables) and replaced by their length-p DFT.  One
 * function per radix (p a constant), so the p points stay in registers. */
#define FC_FFT_STAGE(P)                                                              \
static void fc_fft_stage##P(fc_fftv *R, fc_fftv *I, ptrdiff_t n, ptrdiff_t m,      \
                            const double *tr, const double *ti)                     \
{                                                                                   \
    const ptrdiff_t ns = (P) * m;                                                   \
    for (ptrdiff_t g = 0; g < n; g += ns) {                                         \
        for (ptrdiff_t k = 0; k < m; k++) {                                         \
            fc_fftv ar[P], ai[P];                                                   \
            const ptrdiff_t b = g + k;                                              \
            ar[0] = R[b];                                                           \
            ai[0] = I[b];                                                           \
            for (int q = 1; q < (P); q++) {                                         \
                const fc_fftv xr = R[b + q * m], xi = I[b + q * m];                 \
                const double wr = tr[k * ((P) - 1) + q - 1];                        \
                const double wi = ti[k * ((P) - 1) + q - 1];                        \
                ar[q] = xr * wr - xi * wi;                                          \
                ai[q] = xr * wi + xi * wr;                                          \
            }                                                                       \
            FC_FFT_BFLY##P(R, I, b, m, ar, ai);                                     \
        }                                                                           \
    }                                                                               \
}
#define FC_FFT_BFLY2(R, I, b, m, ar, ai) do {                                       \
    R[b] = ar[0] + ar[1];                                                           \
    I[b] = ai[0] + ai[1];                                                           \
    R[b + m] = ar[0] - ar[1];                                                       \
    I[b + m] = ai[0] - ai[1];                                                       \
} while (0)
/* y1 = (a0 - a2) + (a1 - a3)(-i) */
#define FC_FFT_BFLY4(R, I, b, m, ar, ai) do {                                       \
    const fc_fftv t0r = ar[0] + ar[2], t0i = ai[0] + ai[2];                         \
    const fc_fftv t1r = ar[0] - ar[2], t1i = ai[0] - ai[2];                         \
    const fc_fftv t2r = ar[1] + ar[3], t2i = ai[1] + ai[3];                         \
    const fc_fftv t3r = ai[1] - ai[3], t3i = ar[3] - ar[1];                         \
    R[b] = t0r + t2r;                                                               \
    I[b] = t0i + t2i;                                                               \
    R[b + 2 * m] = t0r - t2r;                                                       \
    I[b + 2 * m] = t0i - t2i;                                                       \
    R[b + m] = t1r + t3r;                                                           \
    I[b + m] = t1i + t3i;                                                           \
    R[b + 3 * m] = t1r - t3r;                                                       \
    I[b + 3 * m] = t1i - t3i;                                                       \
} while (0)
/* y1, y2 = a0 - (a1 + a2) / 2 -+ i sin(2 pi / 3) (a1 - a2) */
#define FC_FFT_BFLY3(R, I, b, m, ar, ai) do {                                       \
    const double h3 = 0.86602540378443864676;                                      \
    const fc_fftv sr = ar[1] + ar[2], si = ai[1] + ai[2];                           \
    const fc_fftv dr = ar[1] - ar[2], di = ai[1] - ai[2];                           \
    const fc_fftv tr_ = ar[0] - 0.5 * sr, ti_ = ai[0] - 0.5 * si;                   \
    const fc_fftv ur = h3 * di, ui = -h3 * dr;                                      \
    R[b] = ar[0] + sr;                                                              \
    I[b] = ai[0] + si;                                                              \
    R[b + m] = tr_ + ur;                                                            \
    I[b + m] = ti_ + ui;                                                            \
    R[b + 2 * m] = tr_ - ur;                                                        \
    I[b + 2 * m] = ti_ - ui;                                                        \
} while (0)
/* with b1 = a1 + a4, b2 = a2 + a3, d1 = a1 - a4, d2 = a2 - a3:
 * y1, y4 = a0 + c1 b1 + c2 b2 -+ i (s1 d1 + s2 d2),
 * y2, y3 = a0 + c2 b1 + c1 b2 -+ i (s2 d1 - s1 d2) */
#define FC_FFT_BFLY5(R, I, b, m, ar, ai) do {                                       \
    const double c1 = 0.30901699437494742410, c2 = -0.80901699437494742410;        \
    const double s1 = 0.95105651629515357212, s2 = 0.58778525229247312917;         \
    const fc_fftv b1r = ar[1] + ar[4], b1i = ai[1] + ai[4];                         \
    const fc_fftv b2r = ar[2] + ar[3], b2i = ai[2] + ai[3];                         \
    const fc_fftv d1r = ar[1] - ar[4], d1i = ai[1] - ai[4];                         \
    const fc_fftv d2r = ar[2] - ar[3], d2i = ai[2] - ai[3];                         \
    const fc_fftv t1r = ar[0] + c1 * b1r + c2 * b2r;                                \
    const fc_fftv t1i = ai[0] + c1 * b1i + c2 * b2i;                                \
    const fc_fftv t2r = ar[0] + c2 * b1r + c1 * b2r;                                \
    const fc_fftv t2i = ai[0] + c2 * b1i + c1 * b2i;                                \
    const fc_fftv v1r = s1 * d1r + s2 * d2r, v1i = s1 * d1i + s2 * d2i;             \
    const fc_fftv v2r = s2 * d1r - s1 * d2r, v2i = s2 * d1i - s1 * d2i;             \
    R[b] = ar[0] + b1r + b2r;                                                       \
    I[b] = ai[0] + b1i + b2i;                                                       \
    R[b + m] = t1r + v1i;                                                           \
    I[b + m] = t1i - v1r;                                                           \
    R[b + 4 * m] = t1r - v1i;                                                       \
    I[b + 4 * m] = t1i + v1r;                                                       \
    R[b + 2 * m] = t2r + v2i;                                                       \
    I[b + 2 * m] = t2i - v2r;                                                       \
    R[b + 3 * m] = t2r - v2i;                                                       \
    I[b + 3 * m] = t2i + v2r;                                                       \
} while (0)
FC_FFT_STAGE(2)
FC_FFT_STAGE(3)
FC_FFT_STAGE(4)
FC_FFT_STAGE(5)

/* All stages (the last radix first: its groups are the smallest). */
static void fc_fft_stages(fc_fftv *R, fc_fftv *I, ptrdiff_t n, int nst, const ptrdiff_t *fac,
                          const double *tr, const double *ti, const ptrdiff_t *toff)
{
    ptrdiff_t m = 1;
    for (int s = nst - 1; s >= 0; s--) {
        const double *a = tr + toff[s], *b = ti + toff[s];
        switch (fac[s]) {
        case 2: fc_fft_stage2(R, I, n, m, a, b); break;
        case 3: fc_fft_stage3(R, I, n, m, a, b); break;
        case 4: fc_fft_stage4(R, I, n, m, a, b); break;
        default: fc_fft_stage5(R, I, n, m, a, b); break;
        }
        m *= fac[s];
    }
}

/* The transforms of columns c0 .. c1-1 of x (n rows `rs` doubles apart,
 * complex interleaved: column c at x + 2 c).  nst stages; stage s has
 * radix fac[s] and twiddle tables tr/ti + toff[s] (the last stage runs
 * first); perm: the digit-reversed row order.  inverse: conj in and out.
 * Returns -1 when the scratch cannot be allocated. */
static int fc_fft_cols(double *x, ptrdiff_t n, ptrdiff_t rs, ptrdiff_t c0, ptrdiff_t c1,
                       int nst, const ptrdiff_t *fac, const ptrdiff_t *perm,
                       const double *tr, const double *ti, const ptrdiff_t *toff,
                       int inverse, double scale)
{
    void *raw;
    fc_fftv *R = fc_fft_scratch((size_t)(2 * n), &raw);
    if (R == NULL)
        return -1;
    fc_fftv *I = R + n;
    const double conj = inverse ? -1.0 : 1.0;
    for (ptrdiff_t c = c0; c < c1; c += FC_FFT_V) {
        const int nv = (int)(c1 - c < FC_FFT_V ? c1 - c : FC_FFT_V);
        for (ptrdiff_t j = 0; j < n; j++)
            fc_fft_gather(x + perm[j] * rs + 2 * c, nv, &R[j], &I[j], conj);
        fc_fft_stages(R, I, n, nst, fac, tr, ti, toff);
        const double si = scale * conj;
        for (ptrdiff_t j = 0; j < n; j++)
            fc_fft_scatter(x + j * rs + 2 * c, nv, R[j] * scale, I[j] * si);
    }
    free(raw);
    return 0;
}

/* Convolution through the column transforms, for a block of columns at a
 * time while it sits in the scratch: forward FFT of each column, times the
 * kernel's spectrum (h: n rows `hs` doubles apart, complex interleaved, the
 * same columns), inverse FFT times `scale`.  The same arithmetic as
 * fc_fft_cols forward, the product, then fc_fft_cols inverse, without
 * writing the spectrum back in between. */
static int fc_fft_cols_conv(double *x, ptrdiff_t n, ptrdiff_t rs, ptrdiff_t c0, ptrdiff_t c1,
                            const double *h, ptrdiff_t hs,
                            int nst, const ptrdiff_t *fac, const ptrdiff_t *perm,
                            const double *tr, const double *ti, const ptrdiff_t *toff,
                            double scale)
{
    void *raw;
    fc_fftv *R = fc_fft_scratch((size_t)(4 * n), &raw);
    if (R == NULL)
        return -1;
    fc_fftv *I = R + n, *R2 = R + 2 * n, *I2 = R + 3 * n;
    for (ptrdiff_t c = c0; c < c1; c += FC_FFT_V) {
        const int nv = (int)(c1 - c < FC_FFT_V ? c1 - c : FC_FFT_V);
        for (ptrdiff_t j = 0; j < n; j++) {
            const double *row = x + perm[j] * rs + 2 * c;
            /* the next block's lines of this row (rows are far apart: the
               hardware prefetchers do not follow) */
            __builtin_prefetch(row + FC_FFT_PF, 0, 2);
            __builtin_prefetch(row + FC_FFT_PF + 8, 0, 2);
            fc_fft_gather(row, nv, &R[j], &I[j], 1.0);
        }
        fc_fft_stages(R, I, n, nst, fac, tr, ti, toff);
        /* times the spectrum, then conjugated into digit-reversed order */
        for (ptrdiff_t j = 0; j < n; j++) {
            fc_fftv hr, hi;
            __builtin_prefetch(h + j * hs + 2 * c + FC_FFT_PF, 0, 2);
            __builtin_prefetch(h + j * hs + 2 * c + FC_FFT_PF + 8, 0, 2);
            fc_fft_gather(h + j * hs + 2 * c, nv, &hr, &hi, 1.0);
            const fc_fftv pr = R[j] * hr - I[j] * hi, pi = R[j] * hi + I[j] * hr;
            R[j] = pr;
            I[j] = pi;
        }
        for (ptrdiff_t j = 0; j < n; j++) {
            R2[j] = R[perm[j]];
            I2[j] = -I[perm[j]];
        }
        fc_fft_stages(R2, I2, n, nst, fac, tr, ti, toff);
        for (ptrdiff_t j = 0; j < n; j++)
            fc_fft_scatter(x + j * rs + 2 * c, nv, R2[j] * scale, I2[j] * -scale);
    }
    free(raw);
    return 0;
}
#define FC_HAVE_FFT_COLS 1
#else
static int fc_fft_cols_conv(double *x, ptrdiff_t n, ptrdiff_t rs, ptrdiff_t c0, ptrdiff_t c1,
                            const double *h, ptrdiff_t hs,
                            int nst, const ptrdiff_t *fac, const ptrdiff_t *perm,
                            const double *tr, const double *ti, const ptrdiff_t *toff,
                            double scale)
{
    (void)x; (void)n; (void)rs; (void)c0; (void)c1; (void)h; (void)hs; (void)nst;
    (void)fac; (void)perm; (void)tr; (void)ti; (void)toff; (void)scale;
    return -2;
}
static int fc_fft_cols(double *x, ptrdiff_t n, ptrdiff_t rs, ptrdiff_t c0, ptrdiff_t c1,
                       int nst, const ptrdiff_t *fac, const ptrdiff_t *perm,
                       const double *tr, const double *ti, const ptrdiff_t *toff,
                       int inverse, double scale)
{
    (void)x; (void)n; (void)rs; (void)c0; (void)c1; (void)nst; (void)fac; (void)perm;
    (void)tr; (void)ti; (void)toff; (void)inverse; (void)scale;
    return -2;
}
#define FC_HAVE_FFT_COLS 0
#endif

#endif
