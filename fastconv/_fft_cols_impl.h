/* One precision of the column FFT (fastconv/_fft_cols.h includes this file
 * once per type with FC_FFT_T, FC_FFT_VT, FC_FFT_VI, FC_FFT_V and
 * FC_FFT_SUF defined). */
typedef FC_FFT_VI FC_FFT_SUF(fc_fftvi) __attribute__((vector_size(sizeof(FC_FFT_VT))));
#if FC_FFT_V == 16
#define FC_FFT_EVEN 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define FC_FFT_ODD 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#define FC_FFT_LO 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define FC_FFT_HI 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#elif FC_FFT_V == 8
#define FC_FFT_EVEN 0, 2, 4, 6, 8, 10, 12, 14
#define FC_FFT_ODD 1, 3, 5, 7, 9, 11, 13, 15
#define FC_FFT_LO 0, 8, 1, 9, 2, 10, 3, 11
#define FC_FFT_HI 4, 12, 5, 13, 6, 14, 7, 15
#elif FC_FFT_V == 4
#define FC_FFT_EVEN 0, 2, 4, 6
#define FC_FFT_ODD 1, 3, 5, 7
#define FC_FFT_LO 0, 4, 1, 5
#define FC_FFT_HI 2, 6, 3, 7
#else
#define FC_FFT_EVEN 0, 2
#define FC_FFT_ODD 1, 3
#define FC_FFT_LO 0, 2
#define FC_FFT_HI 1, 3
#endif

#if FC_FFT_V == 16
#define FC_FFT_T8A 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define FC_FFT_T8B 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define FC_FFT_T4A 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define FC_FFT_T4B 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define FC_FFT_T2A 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define FC_FFT_T2B 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define FC_FFT_T1A 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define FC_FFT_T1B 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#elif FC_FFT_V == 8
#define FC_FFT_T4A 0, 1, 2, 3, 8, 9, 10, 11
#define FC_FFT_T4B 4, 5, 6, 7, 12, 13, 14, 15
#define FC_FFT_T2A 0, 1, 8, 9, 4, 5, 12, 13
#define FC_FFT_T2B 2, 3, 10, 11, 6, 7, 14, 15
#define FC_FFT_T1A 0, 8, 2, 10, 4, 12, 6, 14
#define FC_FFT_T1B 1, 9, 3, 11, 5, 13, 7, 15
#elif FC_FFT_V == 4
#define FC_FFT_T2A 0, 1, 4, 5
#define FC_FFT_T2B 2, 3, 6, 7
#define FC_FFT_T1A 0, 4, 2, 6
#define FC_FFT_T1B 1, 5, 3, 7
#elif FC_FFT_V == 2
#define FC_FFT_T1A 0, 2
#define FC_FFT_T1B 1, 3
#endif

/* One round of a V x V transpose: the off-diagonal s x s blocks of every
 * 2s x 2s block swapped between the vectors i and i + s. */
#define FC_FFT_TROUND(v, s, ...) do {                                               \
    for (int i_ = 0; i_ < FC_FFT_V; i_++) {                                         \
        if (i_ & (s))                                                               \
            continue;                                                               \
        const FC_FFT_VT a_ = v[i_], b_ = v[i_ + (s)];                                \
        v[i_] = FC_FFT_SHUF(a_, b_, FC_FFT_T##s##A);                                \
        v[i_ + (s)] = FC_FFT_SHUF(a_, b_, FC_FFT_T##s##B);                          \
    }                                                                               \
} while (0)

/* In place: v[c][l] <- v[l][c], a V x V block of vectors (log2 V rounds of
 * two-vector shuffles). */
static inline void FC_FFT_SUF(fc_fft_transpose)(FC_FFT_VT *v)
{
#if FC_FFT_V >= 16
    FC_FFT_TROUND(v, 8);
#endif
#if FC_FFT_V >= 8
    FC_FFT_TROUND(v, 4);
#endif
#if FC_FFT_V >= 4
    FC_FFT_TROUND(v, 2);
#endif
    FC_FFT_TROUND(v, 1);
}

static inline FC_FFT_VT *FC_FFT_SUF(fc_fft_scratch)(size_t count, void **raw)
{
    return (FC_FFT_VT *)fc_fft_aligned(count * sizeof(FC_FFT_VT), raw);
}

/* gather row `src` (complex interleaved) of a block of nv <= V columns into
 * the split scratch (re, im); lanes >= nv get 0 */
static inline void FC_FFT_SUF(fc_fft_gather)(const FC_FFT_T *src, int nv, FC_FFT_VT *re,
                                             FC_FFT_VT *im, FC_FFT_T conj)
{
    FC_FFT_VT r = {0}, i = {0};
    if (nv == FC_FFT_V) {
        const FC_FFT_VT a = FC_LOADU(FC_FFT_VT, src), b = FC_LOADU(FC_FFT_VT, src + FC_FFT_V);
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

static inline void FC_FFT_SUF(fc_fft_scatter)(FC_FFT_T *dst, int nv, FC_FFT_VT re,
                                              FC_FFT_VT im)
{
    if (nv == FC_FFT_V) {
        FC_STOREU(FC_FFT_VT, dst, FC_FFT_SHUF(re, im, FC_FFT_LO));
        FC_STOREU(FC_FFT_VT, dst + FC_FFT_V, FC_FFT_SHUF(re, im, FC_FFT_HI));
    } else {
        for (int l = 0; l < nv; l++) {
            dst[2 * l] = re[l];
            dst[2 * l + 1] = im[l];
        }
    }
}

/* A point loaded once into a register: the empty asm makes the value opaque,
 * so the compiler cannot fold the load into each of the point's uses (GCC
 * loaded every butterfly input twice, though registers were free: loads are
 * what limits a stage on Zen, 2 a cycle beside its 2 adds and 2 multiplies). */
static inline FC_FFT_VT FC_FFT_SUF(fc_fft_ld)(const FC_FFT_VT *p)
{
    FC_FFT_VT v = *p;
    FC_FFT_OPAQUE(v);
    return v;
}

/* Point j (R[j], I[j]) loaded once, times the twiddle (*wr, *wi) when `tw`
 * (k = 0's twiddles are 1: x * 1 - y * 0 == x for finite x, y, skipped). */
static inline void FC_FFT_SUF(fc_fft_twld)(const FC_FFT_VT *R, const FC_FFT_VT *I, ptrdiff_t j,
                                           const FC_FFT_T *wr, const FC_FFT_T *wi, int tw,
                                           FC_FFT_VT *xr, FC_FFT_VT *xi)
{
    const FC_FFT_VT a = FC_FFT_SUF(fc_fft_ld)(&R[j]), b = FC_FFT_SUF(fc_fft_ld)(&I[j]);
    if (tw) {
        const FC_FFT_VT vr = FC_SPLAT(FC_FFT_VT, *wr), vi = FC_SPLAT(FC_FFT_VT, *wi);
        *xr = a * vr - b * vi;
        *xi = a * vi + b * vr;
    } else {
        *xr = a;
        *xi = b;
    }
}

/* One stage: groups of ns = p * m points; in each, for k < m, the p points
 * k, k + m, ..., k + (p-1) m are multiplied by the twiddles w(q k / ns)
 * (tr, ti: (m, p - 1) tables) and replaced by their length-p DFT.  One
 * function per radix (p a constant), so the p points stay in registers. */
#define FC_FFT_STAGE(P)                                                              \
static void FC_FFT_SUF(fc_fft_stage##P)(FC_FFT_VT *R, FC_FFT_VT *I, ptrdiff_t n,    \
                                        ptrdiff_t m, const FC_FFT_T *tr,            \
                                        const FC_FFT_T *ti)                         \
{                                                                                   \
    const ptrdiff_t ns = (P) * m;                                                   \
    /* k = 0: every twiddle is 1 (x * 1 - y * 0 == x for finite x, y) */            \
    for (ptrdiff_t g = 0; g < n; g += ns) {                                         \
        FC_FFT_VT ar[P], ai[P];                                                       \
        for (int q = 0; q < (P); q++) {                                             \
            ar[q] = FC_FFT_SUF(fc_fft_ld)(&R[g + q * m]);                                  \
            ai[q] = FC_FFT_SUF(fc_fft_ld)(&I[g + q * m]);                                  \
        }                                                                           \
        FC_FFT_BFLY##P(R, I, g, m, ar, ai);                                         \
    }                                                                               \
    /* k > 0: the twiddles of k broadcast once for all groups */                    \
    for (ptrdiff_t k = 1; k < m; k++) {                                             \
        FC_FFT_VT wr[P], wi[P];                                                       \
        for (int q = 1; q < (P); q++) {                                             \
            wr[q] = FC_SPLAT(FC_FFT_VT, tr[k * ((P) - 1) + q - 1]);                 \
            wi[q] = FC_SPLAT(FC_FFT_VT, ti[k * ((P) - 1) + q - 1]);                 \
        }                                                                           \
        for (ptrdiff_t g = 0; g < n; g += ns) {                                     \
            FC_FFT_VT ar[P], ai[P];                                                   \
            const ptrdiff_t b = g + k;                                              \
            ar[0] = FC_FFT_SUF(fc_fft_ld)(&R[b]);                                          \
            ai[0] = FC_FFT_SUF(fc_fft_ld)(&I[b]);                                          \
            for (int q = 1; q < (P); q++) {                                         \
                const FC_FFT_VT xr = FC_FFT_SUF(fc_fft_ld)(&R[b + q * m]), xi = FC_FFT_SUF(fc_fft_ld)(&I[b + q * m]); \
                ar[q] = xr * wr[q] - xi * wi[q];                                    \
                ai[q] = xr * wi[q] + xi * wr[q];                                    \
            }                                                                       \
            FC_FFT_BFLY##P(R, I, b, m, ar, ai);                                     \
        }                                                                           \
    }                                                                               \
}
FC_FFT_STAGE(2)
FC_FFT_STAGE(3)
FC_FFT_STAGE(4)
/* Radix 5 by hand: the generic form holds the 10 twiddled points and the
 * butterfly's 4 constants at once, more than AVX2's 16 registers, and the
 * compiler then loaded every point twice and the constants from memory
 * (4.2 cycles a point).  Here each pair of points is folded into its sum and
 * difference as soon as it is loaded, and each output pair is stored as
 * soon as it is complete: the same expressions, the same bits. */
static void FC_FFT_SUF(fc_fft_stage5)(FC_FFT_VT *R, FC_FFT_VT *I, ptrdiff_t n, ptrdiff_t m,
                                      const FC_FFT_T *tr, const FC_FFT_T *ti)
{
    const FC_FFT_T c1 = (FC_FFT_T)0.30901699437494742410;
    const FC_FFT_T c2 = (FC_FFT_T)-0.80901699437494742410;
    const FC_FFT_T s1 = (FC_FFT_T)0.95105651629515357212;
    const FC_FFT_T s2 = (FC_FFT_T)0.58778525229247312917;
    const ptrdiff_t ns = 5 * m;
    for (ptrdiff_t k = 0; k < m; k++) {
        for (ptrdiff_t g = 0; g < n; g += ns) {
            const ptrdiff_t b = g + k;
            /* twiddles w(q k / 5m), row k of the (m, 4) tables */
            const FC_FFT_T *wr = tr + 4 * k, *wi = ti + 4 * k;
            FC_FFT_VT x1r, x1i, x2r, x2i, x3r, x3i, x4r, x4i;
            FC_FFT_SUF(fc_fft_twld)(R, I, b + m, wr, wi, k > 0, &x1r, &x1i);
            FC_FFT_SUF(fc_fft_twld)(R, I, b + 4 * m, wr + 3, wi + 3, k > 0, &x4r, &x4i);
            const FC_FFT_VT b1r = x1r + x4r, b1i = x1i + x4i;
            const FC_FFT_VT d1r = x1r - x4r, d1i = x1i - x4i;
            FC_FFT_SUF(fc_fft_twld)(R, I, b + 2 * m, wr + 1, wi + 1, k > 0, &x2r, &x2i);
            FC_FFT_SUF(fc_fft_twld)(R, I, b + 3 * m, wr + 2, wi + 2, k > 0, &x3r, &x3i);
            const FC_FFT_VT b2r = x2r + x3r, b2i = x2i + x3i;
            const FC_FFT_VT d2r = x2r - x3r, d2i = x2i - x3i;
            const FC_FFT_VT a0r = FC_FFT_SUF(fc_fft_ld)(&R[b]), a0i = FC_FFT_SUF(fc_fft_ld)(&I[b]);
            R[b] = a0r + b1r + b2r;
            I[b] = a0i + b1i + b2i;
            /* y1, y4 = t1 -+ i v1;  y2, y3 = t2 -+ i v2  (-i v = (v_im, -v_re)) */
            const FC_FFT_VT t1r = a0r + c1 * b1r + c2 * b2r, v1i = s1 * d1i + s2 * d2i;
            R[b + m] = t1r + v1i;
            R[b + 4 * m] = t1r - v1i;
            const FC_FFT_VT t1i = a0i + c1 * b1i + c2 * b2i, v1r = s1 * d1r + s2 * d2r;
            I[b + m] = t1i + -v1r;
            I[b + 4 * m] = t1i - -v1r;
            const FC_FFT_VT t2r = a0r + c2 * b1r + c1 * b2r, v2i = s2 * d1i - s1 * d2i;
            R[b + 2 * m] = t2r + v2i;
            R[b + 3 * m] = t2r - v2i;
            const FC_FFT_VT t2i = a0i + c2 * b1i + c1 * b2i, v2r = s2 * d1r - s1 * d2r;
            I[b + 2 * m] = t2i + -v2r;
            I[b + 3 * m] = t2i - -v2r;
        }
    }
}
#undef FC_FFT_STAGE

/* The first butterflies of radix 8 on points q0, q0 + 2, q0 + 4, q0 + 6
 * (twiddled: row k of the (m, 7) tables from tr, ti): u = (x0 + x4, x0 - x4,
 * x2 + x6, -i (x2 - x6)), as (re, im) pairs in u[0..7]. */
static inline void FC_FFT_SUF(fc_fft_dft4_of8)(const FC_FFT_VT *R, const FC_FFT_VT *I,
                                               ptrdiff_t b, ptrdiff_t m, int q0,
                                               const FC_FFT_T *tr, const FC_FFT_T *ti, int tw,
                                               FC_FFT_VT *u)
{
    FC_FFT_VT ar, ai, br, bi;
    if (q0 == 0) {
        ar = FC_FFT_SUF(fc_fft_ld)(&R[b]);
        ai = FC_FFT_SUF(fc_fft_ld)(&I[b]);
    } else {
        FC_FFT_SUF(fc_fft_twld)(R, I, b + q0 * m, tr + q0 - 1, ti + q0 - 1, tw, &ar, &ai);
    }
    FC_FFT_SUF(fc_fft_twld)(R, I, b + (q0 + 4) * m, tr + q0 + 3, ti + q0 + 3, tw, &br, &bi);
    u[0] = ar + br;
    u[1] = ai + bi;
    u[2] = ar - br;
    u[3] = ai - bi;
    FC_FFT_SUF(fc_fft_twld)(R, I, b + (q0 + 2) * m, tr + q0 + 1, ti + q0 + 1, tw, &ar, &ai);
    FC_FFT_SUF(fc_fft_twld)(R, I, b + (q0 + 6) * m, tr + q0 + 5, ti + q0 + 5, tw, &br, &bi);
    u[4] = ar + br;
    u[5] = ai + bi;
    u[6] = ai - bi;          /* -i (x2 - x6) */
    u[7] = br - ar;
}

/* Radix 8 (one pass where radices 4 and 2 took two: every pass loads and
 * stores each point once, and a stage is load-bound), by hand so that 16
 * registers hold it: y[k], y[k+4] = E[k] +- w8^k O[k] with E, O the 4-point
 * DFTs of the even and odd points.  The even half's E[1], E[3] wait in a
 * small stack buffer while the odd half is formed. */
static void FC_FFT_SUF(fc_fft_stage8)(FC_FFT_VT *R, FC_FFT_VT *I, ptrdiff_t n, ptrdiff_t m,
                                      const FC_FFT_T *tr, const FC_FFT_T *ti)
{
    const FC_FFT_T r2 = (FC_FFT_T)0.70710678118654752440;
    const ptrdiff_t ns = 8 * m;
    for (ptrdiff_t k = 0; k < m; k++) {
        for (ptrdiff_t g = 0; g < n; g += ns) {
            const ptrdiff_t b = g + k;
            FC_FFT_VT park[4];
            FC_FFT_VT e[8], o[8];
            /* E = DFT4(a0, a2, a4, a6); E[1], E[3] parked */
            FC_FFT_SUF(fc_fft_dft4_of8)(R, I, b, m, 0, tr + 7 * k, ti + 7 * k, k > 0, e);
            park[0] = e[2] + e[6];
            park[1] = e[3] + e[7];
            park[2] = e[2] - e[6];
            park[3] = e[3] - e[7];
            const FC_FFT_VT e0r = e[0], e0i = e[1], e2r = e[4], e2i = e[5];
            const FC_FFT_VT E0r = e0r + e2r, E0i = e0i + e2i, E2r = e0r - e2r, E2i = e0i - e2i;
            /* O = DFT4(a1, a3, a5, a7) */
            FC_FFT_SUF(fc_fft_dft4_of8)(R, I, b, m, 1, tr + 7 * k, ti + 7 * k, k > 0, o);
            const FC_FFT_VT o0r = o[0], o0i = o[1], o1r = o[2], o1i = o[3];
            const FC_FFT_VT o2r = o[4], o2i = o[5], o3r = o[6], o3i = o[7];
            const FC_FFT_VT O0r = o0r + o2r, O0i = o0i + o2i, O2r = o0r - o2r, O2i = o0i - o2i;
            /* y0, y4 = E0 +- O0;  y2, y6 = E2 +- (-i) O2 */
            FC_FFT_PM(R, I, b, b + 4 * m, E0r, E0i, O0r, O0i);
            FC_FFT_PM(R, I, b + 2 * m, b + 6 * m, E2r, E2i, O2i, -O2r);
            const FC_FFT_VT O1r = o1r + o3r, O1i = o1i + o3i, O3r = o1r - o3r, O3i = o1i - o3i;
            /* w8 O1 = (O1r + O1i, O1i - O1r) / sqrt 2;
               w8^3 O3 = (O3i - O3r, -(O3r + O3i)) / sqrt 2 */
            const FC_FFT_VT q1r = (O1r + O1i) * r2, q1i = (O1i - O1r) * r2;
            const FC_FFT_VT q3r = (O3i - O3r) * r2, q3i = (O3r + O3i) * -r2;
            FC_FFT_PM(R, I, b + m, b + 5 * m, park[0], park[1], q1r, q1i);
            FC_FFT_PM(R, I, b + 3 * m, b + 7 * m, park[2], park[3], q3r, q3i);
        }
    }
}

/* All stages (the last radix first: its groups are the smallest). */
static void FC_FFT_SUF(fc_fft_stages)(FC_FFT_VT *R, FC_FFT_VT *I, ptrdiff_t n, int nst,
                                      const ptrdiff_t *fac, const FC_FFT_T *tr,
                                      const FC_FFT_T *ti, const ptrdiff_t *toff)
{
    ptrdiff_t m = 1;
    for (int s = nst - 1; s >= 0; s--) {
        const FC_FFT_T *a = tr + toff[s], *b = ti + toff[s];
        switch (fac[s]) {
        case 2: FC_FFT_SUF(fc_fft_stage2)(R, I, n, m, a, b); break;
        case 3: FC_FFT_SUF(fc_fft_stage3)(R, I, n, m, a, b); break;
        case 4: FC_FFT_SUF(fc_fft_stage4)(R, I, n, m, a, b); break;
        case 8: FC_FFT_SUF(fc_fft_stage8)(R, I, n, m, a, b); break;
        default: FC_FFT_SUF(fc_fft_stage5)(R, I, n, m, a, b); break;
        }
        m *= fac[s];
    }
}

/* The transforms of columns c0 .. c1-1 of x (n rows `rs` elements apart,
 * complex interleaved: column c at x + 2 c).  nst stages; stage s has
 * radix fac[s] and twiddle tables tr/ti + toff[s] (the last stage runs
 * first); perm: the digit-reversed row order.  inverse: conj in and out.
 * Returns -1 when the scratch cannot be allocated. */
static int FC_FFT_SUF(fc_fft_cols)(FC_FFT_T *x, ptrdiff_t n, ptrdiff_t rs, ptrdiff_t c0, ptrdiff_t c1,
                       int nst, const ptrdiff_t *fac, const ptrdiff_t *perm,
                       const FC_FFT_T *tr, const FC_FFT_T *ti, const ptrdiff_t *toff,
                       int inverse, FC_FFT_T scale)
{
    void *raw;
    FC_FFT_VT *R = FC_FFT_SUF(fc_fft_scratch)((size_t)(2 * n), &raw);
    if (R == NULL)
        return -1;
    FC_FFT_VT *I = R + n;
    const FC_FFT_T conj = inverse ? -1 : 1;
    for (ptrdiff_t c = c0; c < c1; c += FC_FFT_V) {
        const int nv = (int)(c1 - c < FC_FFT_V ? c1 - c : FC_FFT_V);
        for (ptrdiff_t j = 0; j < n; j++)
            FC_FFT_SUF(fc_fft_gather)(x + perm[j] * rs + 2 * c, nv, &R[j], &I[j], conj);
        FC_FFT_SUF(fc_fft_stages)(R, I, n, nst, fac, tr, ti, toff);
        const FC_FFT_T si = scale * conj;
        for (ptrdiff_t j = 0; j < n; j++)
            FC_FFT_SUF(fc_fft_scatter)(x + j * rs + 2 * c, nv, R[j] * scale, I[j] * si);
    }
    free(raw);
    return 0;
}

/* Convolution through the column transforms, for a block of columns at a
 * time while it sits in the scratch: forward FFT of each column, times the
 * kernel's spectrum (h: n rows `hs` elements apart, complex interleaved, the
 * same columns), inverse FFT times `scale`.  The same arithmetic as
 * FC_FFT_SUF(fc_fft_cols) forward, the product, then FC_FFT_SUF(fc_fft_cols) inverse, without
 * writing the spectrum back in between. */
static int FC_FFT_SUF(fc_fft_cols_conv)(FC_FFT_T *x, ptrdiff_t n, ptrdiff_t rs, ptrdiff_t c0, ptrdiff_t c1,
                            const FC_FFT_T *h, ptrdiff_t hs,
                            int nst, const ptrdiff_t *fac, const ptrdiff_t *perm,
                            const FC_FFT_T *tr, const FC_FFT_T *ti, const ptrdiff_t *toff,
                            FC_FFT_T scale)
{
    void *raw;
    FC_FFT_VT *R = FC_FFT_SUF(fc_fft_scratch)((size_t)(4 * n), &raw);
    if (R == NULL)
        return -1;
    FC_FFT_VT *I = R + n, *R2 = R + 2 * n, *I2 = R + 3 * n;
    for (ptrdiff_t c = c0; c < c1; c += FC_FFT_V) {
        const int nv = (int)(c1 - c < FC_FFT_V ? c1 - c : FC_FFT_V);
        for (ptrdiff_t j = 0; j < n; j++) {
            const FC_FFT_T *row = x + perm[j] * rs + 2 * c;
            /* the next block's lines of this row (rows are far apart: the
               hardware prefetchers do not follow) */
            __builtin_prefetch(row + FC_FFT_PF, 0, 2);
            __builtin_prefetch(row + FC_FFT_PF + 8, 0, 2);
            FC_FFT_SUF(fc_fft_gather)(row, nv, &R[j], &I[j], 1);
        }
        FC_FFT_SUF(fc_fft_stages)(R, I, n, nst, fac, tr, ti, toff);
        /* times the spectrum, conjugated, straight into digit-reversed
           order (one pass: product j of the natural order goes to R2, I2
           where perm puts it) */
        for (ptrdiff_t j = 0; j < n; j++) {
            FC_FFT_VT hr, hi;
            const ptrdiff_t p = perm[j];
            const FC_FFT_T *hp = h + p * hs + 2 * c;
            __builtin_prefetch(hp + FC_FFT_PF, 0, 2);
            __builtin_prefetch(hp + FC_FFT_PF + 8, 0, 2);
            FC_FFT_SUF(fc_fft_gather)(hp, nv, &hr, &hi, 1);
            const FC_FFT_VT pr = R[p] * hr - I[p] * hi, pi = R[p] * hi + I[p] * hr;
            R2[j] = pr;
            I2[j] = -pi;
        }
        FC_FFT_SUF(fc_fft_stages)(R2, I2, n, nst, fac, tr, ti, toff);
        for (ptrdiff_t j = 0; j < n; j++)
            FC_FFT_SUF(fc_fft_scatter)(x + j * rs + 2 * c, nv, R2[j] * scale,
                                       I2[j] * -scale);
    }
    free(raw);
    return 0;
}
/* Real FFTs along rows (the contiguous axis), V rows at a time, one row
 * per vector lane: a row of n = 2 h real samples is the complex sequence
 * z[j] = x[2j] + i x[2j+1] of length h, transformed by the column engine
 * above (the plan is the half length's), then unpacked into the row's
 * spectrum X[k], k = 0 .. h:
 *   X[k] = E[k] + W^k O[k],  E = (Z[k] + conj Z[h-k]) / 2,
 *   O = -i (Z[k] - conj Z[h-k]) / 2,  W = exp(-2 pi i / n)
 * (wr, wi: W^k, k = 0 .. h).  Rows are gathered element by element into the
 * lanes (a transpose through the scratch); every row takes the same
 * operations whatever the others are, so the numbers depend neither on the
 * row count nor on threads.  scipy.fft runs these with 128-bit vectors. */
static inline void FC_FFT_SUF(fc_fft_rget)(const FC_FFT_T *src, ptrdiff_t rs, int nv,
                                           FC_FFT_VT *re, FC_FFT_VT *im)
{
    FC_FFT_VT r = {0}, i = {0};
    if (nv == FC_FFT_V) {
        for (int l = 0; l < FC_FFT_V; l++) {
            r[l] = src[l * rs];
            i[l] = src[l * rs + 1];
        }
    } else {
        for (int l = 0; l < nv; l++) {
            r[l] = src[l * rs];
            i[l] = src[l * rs + 1];
        }
    }
    *re = r;
    *im = i;
}

static inline void FC_FFT_SUF(fc_fft_rput)(FC_FFT_T *dst, ptrdiff_t rs, int nv, FC_FFT_VT re,
                                           FC_FFT_VT im)
{
    if (nv == FC_FFT_V) {
        for (int l = 0; l < FC_FFT_V; l++) {
            dst[l * rs] = re[l];
            dst[l * rs + 1] = im[l];
        }
    } else {
        for (int l = 0; l < nv; l++) {
            dst[l * rs] = re[l];
            dst[l * rs + 1] = im[l];
        }
    }
}

/* ip: the inverse of the digit-reversed order perm (h entries) */
static inline ptrdiff_t *FC_FFT_SUF(fc_fft_iperm)(const ptrdiff_t *perm, ptrdiff_t h)
{
    ptrdiff_t *ip = (ptrdiff_t *)malloc((size_t)h * sizeof(ptrdiff_t));
    if (ip != NULL)
        for (ptrdiff_t j = 0; j < h; j++)
            ip[perm[j]] = j;
    return ip;
}

/* Complex samples q .. q+V-1 of V rows (src: row 0's sample q, rows rs
 * apart) -> re[c], im[c]: sample q + c of every row, one row per lane. */
static inline void FC_FFT_SUF(fc_fft_rows_in)(const FC_FFT_T *src, ptrdiff_t rs,
                                              FC_FFT_VT *re, FC_FFT_VT *im)
{
    for (int l = 0; l < FC_FFT_V; l++) {
        const FC_FFT_VT a = FC_LOADU(FC_FFT_VT, src + l * rs);
        const FC_FFT_VT b = FC_LOADU(FC_FFT_VT, src + l * rs + FC_FFT_V);
        re[l] = FC_FFT_SHUF(a, b, FC_FFT_EVEN);
        im[l] = FC_FFT_SHUF(a, b, FC_FFT_ODD);
    }
    FC_FFT_SUF(fc_fft_transpose)(re);
    FC_FFT_SUF(fc_fft_transpose)(im);
}

/* The reverse: re[c], im[c] (sample q + c, one row per lane) -> complex
 * samples q .. q+V-1 of V rows at dst (rows rs apart); re, im clobbered. */
static inline void FC_FFT_SUF(fc_fft_rows_out)(FC_FFT_T *dst, ptrdiff_t rs, FC_FFT_VT *re,
                                               FC_FFT_VT *im)
{
    FC_FFT_SUF(fc_fft_transpose)(re);
    FC_FFT_SUF(fc_fft_transpose)(im);
    for (int l = 0; l < FC_FFT_V; l++) {
        FC_STOREU(FC_FFT_VT, dst + l * rs, FC_FFT_SHUF(re[l], im[l], FC_FFT_LO));
        FC_STOREU(FC_FFT_VT, dst + l * rs + FC_FFT_V, FC_FFT_SHUF(re[l], im[l], FC_FFT_HI));
    }
}

/* out[r] = rfft(x[r]) for rows r < nrows: x rows xs elements apart (n = 2 h
 * samples each), out rows os elements apart (h + 1 complex, interleaved).
 * Full blocks of V rows move V samples at a time through in-register
 * transposes; the last block of fewer rows, and the samples after the
 * last whole group of V, element by element.  Returns -1 when the scratch
 * cannot be allocated. */
static int FC_FFT_SUF(fc_fft_rows_r2c)(const FC_FFT_T *x, ptrdiff_t nrows, ptrdiff_t xs,
                                       FC_FFT_T *out, ptrdiff_t os, ptrdiff_t h, int nst,
                                       const ptrdiff_t *fac, const ptrdiff_t *perm,
                                       const FC_FFT_T *tr, const FC_FFT_T *ti,
                                       const ptrdiff_t *toff, const FC_FFT_T *wr,
                                       const FC_FFT_T *wi)
{
    void *raw;
    FC_FFT_VT *R = FC_FFT_SUF(fc_fft_scratch)((size_t)(2 * h), &raw);
    ptrdiff_t *ip = R == NULL ? NULL : FC_FFT_SUF(fc_fft_iperm)(perm, h);
    if (ip == NULL) {
        free(raw);
        return -1;
    }
    FC_FFT_VT *I = R + h;
    const FC_FFT_T half = (FC_FFT_T)0.5;
    for (ptrdiff_t r = 0; r < nrows; r += FC_FFT_V) {
        const int nv = (int)(nrows - r < FC_FFT_V ? nrows - r : FC_FFT_V);
        const FC_FFT_T *xb = x + r * xs;
        FC_FFT_T *ob = out + r * os;
        ptrdiff_t q = 0;
        if (nv == FC_FFT_V) {
            for (; q + FC_FFT_V <= h; q += FC_FFT_V) {
                FC_FFT_VT re[FC_FFT_V], im[FC_FFT_V];
                FC_FFT_SUF(fc_fft_rows_in)(xb + 2 * q, xs, re, im);
                for (int c = 0; c < FC_FFT_V; c++) {
                    R[ip[q + c]] = re[c];
                    I[ip[q + c]] = im[c];
                }
            }
        }
        for (; q < h; q++)
            FC_FFT_SUF(fc_fft_rget)(xb + 2 * q, xs, nv, &R[ip[q]], &I[ip[q]]);
        FC_FFT_SUF(fc_fft_stages)(R, I, h, nst, fac, tr, ti, toff);
#define FC_FFT_UNPACK_(k, XR, XI) do {                                              \
            const ptrdiff_t a_ = (k) == h ? 0 : (k), b_ = (k) == 0 ? 0 : h - (k);   \
            const FC_FFT_VT ar = R[a_], ai = I[a_], br = R[b_], bi = -I[b_];         \
            const FC_FFT_VT er = (ar + br) * half, ei = (ai + bi) * half;           \
            const FC_FFT_VT o_r = (ai - bi) * half, o_i = (br - ar) * half;         \
            XR = er + (wr[k] * o_r - wi[k] * o_i);                                  \
            XI = ei + (wr[k] * o_i + wi[k] * o_r);                                  \
        } while (0)
        ptrdiff_t k = 0;
        if (nv == FC_FFT_V) {
            for (; k + FC_FFT_V <= h + 1; k += FC_FFT_V) {
                FC_FFT_VT xr[FC_FFT_V], xi[FC_FFT_V];
                for (int c = 0; c < FC_FFT_V; c++)
                    FC_FFT_UNPACK_(k + c, xr[c], xi[c]);
                FC_FFT_SUF(fc_fft_rows_out)(ob + 2 * k, os, xr, xi);
            }
        }
        for (; k <= h; k++) {
            FC_FFT_VT xr, xi;
            FC_FFT_UNPACK_(k, xr, xi);
            FC_FFT_SUF(fc_fft_rput)(ob + 2 * k, os, nv, xr, xi);
        }
#undef FC_FFT_UNPACK_
    }
    free(ip);
    free(raw);
    return 0;
}

/* y[r] = irfft(sp[r], n)[y0 : y0 + ym] * n * scale for rows r < nrows (the
 * inverse of fc_fft_rows_r2c up to the factor n; scale = 1 / n inverts it;
 * only the samples kept are stored): sp rows ss elements apart (h + 1
 * complex; the imaginary parts of X[0] and X[h] are ignored, as irfft
 * does), y rows ys elements apart (0 <= y0, y0 + ym <= n = 2 h).
 *   Z[k] = (X[k] + conj X[h-k]) + i W^-k (X[k] - conj X[h-k]),
 *   x[2j] + i x[2j+1] = IFFT_h(Z)[j] / 2
 * Rows move through in-register transposes as in fc_fft_rows_r2c. */
static int FC_FFT_SUF(fc_fft_rows_c2r)(const FC_FFT_T *sp, ptrdiff_t nrows, ptrdiff_t ss,
                                       FC_FFT_T *y, ptrdiff_t ys, ptrdiff_t y0, ptrdiff_t ym,
                                       ptrdiff_t h, int nst,
                                       const ptrdiff_t *fac, const ptrdiff_t *perm,
                                       const FC_FFT_T *tr, const FC_FFT_T *ti,
                                       const ptrdiff_t *toff, const FC_FFT_T *wr,
                                       const FC_FFT_T *wi, FC_FFT_T scale)
{
    void *raw;
    /* X (h + 1 samples, natural order), then Z in place of it; R, I */
    FC_FFT_VT *Xr = FC_FFT_SUF(fc_fft_scratch)((size_t)(4 * h + 2), &raw);
    if (Xr == NULL)
        return -1;
    ptrdiff_t *ip = FC_FFT_SUF(fc_fft_iperm)(perm, h);
    if (ip == NULL) {
        free(raw);
        return -1;
    }
    FC_FFT_VT *Xi = Xr + h + 1, *R = Xr + 2 * h + 2, *I = R + h;
    for (ptrdiff_t r = 0; r < nrows; r += FC_FFT_V) {
        const int nv = (int)(nrows - r < FC_FFT_V ? nrows - r : FC_FFT_V);
        const FC_FFT_T *sb = sp + r * ss;
        FC_FFT_T *yb = y + r * ys;
        ptrdiff_t k = 0;
        if (nv == FC_FFT_V)
            for (; k + FC_FFT_V <= h + 1; k += FC_FFT_V)
                FC_FFT_SUF(fc_fft_rows_in)(sb + 2 * k, ss, Xr + k, Xi + k);
        for (; k <= h; k++)
            FC_FFT_SUF(fc_fft_rget)(sb + 2 * k, ss, nv, &Xr[k], &Xi[k]);
        Xi[0] = Xi[0] * (FC_FFT_T)0;
        Xi[h] = Xi[h] * (FC_FFT_T)0;
        /* Z[k] for k < h from X[k] and X[h-k]; written to R, I in
           digit-reversed order, conjugated (the inverse as conj(FFT(conj Z))).
           Z[k] and Z[h-k] from one load of the pair, in natural order. */
#define FC_FFT_ZK_(kk, xr, xi, mr, mi) do {                                         \
            /* e = X[k] + conj X[h-k], d = X[k] - conj X[h-k], t = W^-k d */        \
            const FC_FFT_VT er = (xr) + (mr), ei = (xi) - (mi);                       \
            const FC_FFT_VT dr = (xr) - (mr), di = (xi) + (mi);                       \
            const FC_FFT_VT t_r = wr[kk] * dr + wi[kk] * di, t_i = wr[kk] * di - wi[kk] * dr; \
            R[ip[kk]] = er - t_i;                                                   \
            I[ip[kk]] = -(ei + t_r);                                                \
        } while (0)
        for (ptrdiff_t k = 0; 2 * k <= h; k++) {
            const FC_FFT_VT xr = Xr[k], xi = Xi[k], mr = Xr[h - k], mi = Xi[h - k];
            FC_FFT_ZK_(k, xr, xi, mr, mi);
            if (h - k != k && h - k < h)
                FC_FFT_ZK_(h - k, mr, mi, xr, xi);
        }
#undef FC_FFT_ZK_
        FC_FFT_SUF(fc_fft_stages)(R, I, h, nst, fac, tr, ti, toff);
        /* samples y0 .. y0 + ym - 1 kept: sample 2j + e goes to yb[2j + e - y0] */
        ptrdiff_t j = y0 / 2;
        const ptrdiff_t jend = (y0 + ym + 1) / 2 < h ? (y0 + ym + 1) / 2 : h;
        if (j < jend && y0 % 2) {            /* the first kept sample is an odd one */
            for (int l = 0; l < nv; l++)
                yb[l * ys] = (I[j] * -scale)[l];
            j++;
        }
        if (nv == FC_FFT_V) {
            for (; j + FC_FFT_V <= jend && 2 * (j + FC_FFT_V) - y0 <= ym; j += FC_FFT_V) {
                FC_FFT_VT yr[FC_FFT_V], yi[FC_FFT_V];
                for (int c = 0; c < FC_FFT_V; c++) {
                    yr[c] = R[j + c] * scale;
                    yi[c] = I[j + c] * -scale;
                }
                FC_FFT_SUF(fc_fft_rows_out)(yb + 2 * j - y0, ys, yr, yi);
            }
        }
        for (; j < jend; j++) {
            const FC_FFT_VT a = R[j] * scale, b = I[j] * -scale;
            for (int l = 0; l < nv; l++) {
                yb[l * ys + 2 * j - y0] = a[l];
                if (2 * j + 1 - y0 < ym)
                    yb[l * ys + 2 * j + 1 - y0] = b[l];
            }
        }
    }
    free(ip);
    free(raw);
    return 0;
}
#undef FC_FFT_T8A
#undef FC_FFT_T8B
#undef FC_FFT_T4A
#undef FC_FFT_T4B
#undef FC_FFT_T2A
#undef FC_FFT_T2B
#undef FC_FFT_T1A
#undef FC_FFT_T1B
#undef FC_FFT_TROUND
#undef FC_FFT_EVEN
#undef FC_FFT_ODD
#undef FC_FFT_LO
#undef FC_FFT_HI
