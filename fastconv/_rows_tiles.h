/* fastconv SLIDE tiles: the ROWS (one channel per filter) register tiles
 * that reuse each loaded input vector across output rows.
 *
 * When output rows are as far apart as kernel rows (row stride == row
 * dilation, e.g. both 1), output row r of a tile of R rows reads input row
 * i = r + kh for kernel row kh.  The tile walks the
 * R + KH - 1 input rows of its window in ascending order; for each input
 * row and kernel column kw it loads U input vectors once and applies them
 * to every output row r with 0 <= i - r < KH (weight w[kd][i - r][kw],
 * broadcast from memory, one per row and shared by the U vectors).  Per
 * loaded vector that is up to min(R, KH) FMAs instead of one.
 *
 * Summation order: accumulator r receives kernel row kh = i - r as i
 * ascends, so kernel rows ascend, and within a row kw ascends; kernel
 * planes kd are the outermost loop.  That is the taps' C order (kd, kh, kw),
 * the order of the generic kernel and of the other tiles, so every output
 * element is the same sequence of (fused) multiply-adds: bitwise identical
 * results whatever the tile or the thread count.
 *
 * Arguments: x points at the window's first input row for output column 0;
 * xrs is the distance between input rows (= between output rows: the
 * caller checks that kernel row kh sits at kh * xrs, i.e. row stride ==
 * row dilation); toff the (KD, KH, KW) tap offsets of which only the
 * plane offsets toff[kd * KH * KW] are read; cs the distance between
 * kernel columns (column taps at kw * cs); w the (KD, KH, KW) weights in C
 * order; out/ors the output rows; ncols <= V*U the valid output columns
 * (lanes past it read the memory that follows, which must be readable, and
 * are discarded).  The driver is rows_correlate (fastconv/_kernels.pxi).
 *
 * Shapes (R rows x U vectors) per level, sized so that the R*U
 * accumulators, U input vectors and one broadcast weight fit the register
 * file: 16 vector registers at the baseline/AVX2 levels, 32 at AVX-512
 * (FC_SLIDE_R / FC_SLIDE_U below).
 */
#ifndef FASTCONV_ROWS_TILES_H
#define FASTCONV_ROWS_TILES_H
#include "_microkernels.h"

/* A loaded vector on x86 is held in a register and used by every FMA that
 * needs it, not re-loaded as a memory operand of each: with 12 accumulators,
 * U input vectors and a broadcast weight in AVX2's 16 registers GCC folded
 * the input loads into the FMAs, one load per output row (4 x 3 tile, 5 x 5
 * kernel: 16 loads per 12 FMAs, so the tile was load-port bound).  Used by
 * the SLIDE and the DW3 tiles. */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__)) \
    && defined(__AVX__)
#define FC_IN_REG(v) __asm__("" : "+x"(v))
#else
#define FC_IN_REG(v) ((void)0)
#endif

/* The tile body is always inlined: into the per-tile function the
 * driver calls for single tiles (fc_slide_T_RxU) and into the strip loop
 * below, where GCC otherwise called one out-of-line copy per tile. */
#if defined(__GNUC__) || defined(__clang__)
#define FC_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define FC_ALWAYS_INLINE __forceinline
#else
#define FC_ALWAYS_INLINE inline
#endif
#define FC_SLIDE_CALLABLE_(T, R, U)                                                 \
static void fc_slide_##T##_##R##x##U(                                               \
        const T *x, ptrdiff_t xrs, const ptrdiff_t *toff, ptrdiff_t KD,             \
        ptrdiff_t KH, ptrdiff_t KW, ptrdiff_t cs, const T *w,                       \
        T *out, ptrdiff_t ors, int ncols, T init)                                   \
{                                                                                   \
    fc_slide_body_##T##_##R##x##U(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ncols, init); \
}

#if FC_VEC
/* One input row i feeding the tile's output rows RLO..RHI (compile-time
 * constants, so the row loop unrolls into straight FMAs).  Uses the local
 * names of fc_slide_*: fc_t_, fc_vt_, FC_SV_ (lanes), FC_SU_, FC_SR_. */
#define FC_SLIDE_ROW_(RLO, RHI)                                                     \
    for (ptrdiff_t kw = 0; kw < KW; kw++) {                                         \
        const fc_t_ *xp = xi + kw * cs;                                             \
        fc_vt_ xv[FC_SU_];                                                          \
        for (int u = 0; u < FC_SU_; u++) {                                          \
            xv[u] = FC_LOADU(fc_vt_, xp + u * FC_SV_);                              \
            FC_IN_REG(xv[u]);                                                       \
        }                                                                           \
        for (int r = (RLO); r <= (RHI); r++) {                                      \
            fc_vt_ wv = FC_SPLAT(fc_vt_, wi[kw - r * KW]);                          \
            for (int u = 0; u < FC_SU_; u++) acc[r][u] += wv * xv[u];               \
        }                                                                           \
    }
#define FC_SLIDE_CASE_(RLO, RHI) case (RLO) * 16 + (RHI): FC_SLIDE_ROW_(RLO, RHI) break;
/* The (rlo, rhi) row ranges of a tile of R rows other than the full one. */
#define FC_SLIDE_EDGES_1(M)
#define FC_SLIDE_EDGES_2(M) M(0, 0) M(1, 1)
#define FC_SLIDE_EDGES_3(M) M(0, 0) M(0, 1) M(1, 1) M(1, 2) M(2, 2)
#define FC_SLIDE_EDGES_4(M) M(0, 0) M(0, 1) M(0, 2) M(1, 1) M(1, 2) M(1, 3) M(2, 2) \
    M(2, 3) M(3, 3)
#define FC_SLIDE_EDGES_5(M) M(0, 0) M(0, 1) M(0, 2) M(0, 3) M(1, 1) M(1, 2) M(1, 3) \
    M(1, 4) M(2, 2) M(2, 3) M(2, 4) M(3, 3) M(3, 4) M(4, 4)
#define FC_SLIDE_EDGES_6(M) M(0, 0) M(0, 1) M(0, 2) M(0, 3) M(0, 4) M(1, 1) M(1, 2) \
    M(1, 3) M(1, 4) M(1, 5) M(2, 2) M(2, 3) M(2, 4) M(2, 5) M(3, 3) M(3, 4) M(3, 5) \
    M(4, 4) M(4, 5) M(5, 5)
#define FC_SLIDE_EDGES_7(M) M(0, 0) M(0, 1) M(0, 2) M(0, 3) M(0, 4) M(0, 5) M(1, 1) \
    M(1, 2) M(1, 3) M(1, 4) M(1, 5) M(1, 6) M(2, 2) M(2, 3) M(2, 4) M(2, 5) M(2, 6) \
    M(3, 3) M(3, 4) M(3, 5) M(3, 6) M(4, 4) M(4, 5) M(4, 6) M(5, 5) M(5, 6) M(6, 6)
#define FC_SLIDE_EDGES_8(M) M(0, 0) M(0, 1) M(0, 2) M(0, 3) M(0, 4) M(0, 5) M(0, 6) \
    M(1, 1) M(1, 2) M(1, 3) M(1, 4) M(1, 5) M(1, 6) M(1, 7) M(2, 2) M(2, 3) M(2, 4) \
    M(2, 5) M(2, 6) M(2, 7) M(3, 3) M(3, 4) M(3, 5) M(3, 6) M(3, 7) M(4, 4) M(4, 5) \
    M(4, 6) M(4, 7) M(5, 5) M(5, 6) M(5, 7) M(6, 6) M(6, 7) M(7, 7)
#define FC_SLIDE_EDGES_(R) FC_SLIDE_EDGES_##R(FC_SLIDE_CASE_)
#define FC_SLIDE_EDGES(R) FC_SLIDE_EDGES_(R)

#define FC_DEFINE_SLIDE(T, VT, V, R, U)                                             \
static FC_ALWAYS_INLINE void fc_slide_body_##T##_##R##x##U(                         \
        const T *x, ptrdiff_t xrs, const ptrdiff_t *toff, ptrdiff_t KD,             \
        ptrdiff_t KH, ptrdiff_t KW, ptrdiff_t cs, const T *w,                       \
        T *out, ptrdiff_t ors, int ncols, T init)                                   \
{                                                                                   \
    typedef T fc_t_;                                                                \
    typedef VT fc_vt_;                                                              \
    enum { FC_SV_ = V, FC_SU_ = U, FC_SR_ = R };                                    \
    VT acc[R][U];                                                                   \
    for (int r = 0; r < R; r++)                                                     \
        for (int u = 0; u < U; u++) acc[r][u] = FC_SPLAT(VT, init);                 \
    for (ptrdiff_t kd = 0; kd < KD; kd++) {                                         \
        const T *xk = x + toff[kd * KH * KW];                                                 \
        const T *wk = w + kd * KH * KW;                                             \
        for (ptrdiff_t i = 0; i < KH + R - 1; i++) {                                \
            const T *xi = xk + i * xrs;                                             \
            const T *wi = wk + i * KW;    /* row r uses wi[kw - r * KW] */          \
            const int rlo = (int)(i - KH + 1 > 0 ? i - KH + 1 : 0);                 \
            const int rhi = (int)(i < R - 1 ? i : R - 1);                           \
            switch (rlo * 16 + rhi) {                                               \
            case R - 1: FC_SLIDE_ROW_(0, FC_SR_ - 1) break;                         \
            FC_SLIDE_EDGES(R)                                                       \
            default: break;                                                         \
            }                                                                       \
        }                                                                           \
    }                                                                               \
    FC_STORE_TILE(T, VT, V, R, U, acc, out, ors, ncols);                            \
}                                                                                   \
FC_SLIDE_CALLABLE_(T, R, U)
#else  /* portable fallback: same arithmetic order, scalar code */
#define FC_DEFINE_SLIDE(T, VT, V, R, U)                                             \
static FC_ALWAYS_INLINE void fc_slide_body_##T##_##R##x##U(                         \
        const T *x, ptrdiff_t xrs, const ptrdiff_t *toff, ptrdiff_t KD,             \
        ptrdiff_t KH, ptrdiff_t KW, ptrdiff_t cs, const T *w,                       \
        T *out, ptrdiff_t ors, int ncols, T init)                                   \
{                                                                                   \
    for (int r = 0; r < R; r++)                                                     \
        for (int j = 0; j < ncols; j++) {                                           \
            T a = init;                                                             \
            for (ptrdiff_t kd = 0; kd < KD; kd++)                                   \
                for (ptrdiff_t kh = 0; kh < KH; kh++)                               \
                    for (ptrdiff_t kw = 0; kw < KW; kw++)                           \
                        a += w[(kd * KH + kh) * KW + kw] *                          \
                             x[toff[kd * KH * KW] + (r + kh) * xrs + kw * cs + j]; \
            out[r * ors + j] = a;                                                   \
        }                                                                           \
}                                                                                   \
FC_SLIDE_CALLABLE_(T, R, U)
#endif

/* Tile shape per level (R output rows x U vectors of V lanes):
 *   baseline (SSE2: each 256-bit vector is two of the 16 xmm registers):
 *            4 x 1 (8 xmm accumulators);
 *   AVX2:    4 x 3 (12 of the 16 ymm registers accumulate);
 *   AVX-512: 4 x 4 of 256-bit vectors (16 of the 32 registers).  On Zen 4
 *            512-bit FMAs issue at half the 256-bit rate (same FLOPs) and
 *            every unaligned 512-bit load splits a cache line, so the
 *            256-bit tile is as fast or faster (build_tools/bench_rows.py).
 *            Zen 4 (EPYC, family 0x19), 2 threads, 2026-12-05, 2-D 2048^2
 *            'same' direct, ms: 4 x 4 against the earlier 5 x 4 -- float32
 *            9 x 9 4.2 / 5.3, 15 x 15 9.6-10.1 / 13.3-13.6; float64 9 x 9
 *            7.6-7.7 / 10.3-10.4, 15 x 15 18.7-18.9 / 26.1-26.4 (4 x 3, 6 x 3,
 *            8 x 3, 3 x 4, 4 x 5, 5 x 3 and 4 x 6 measured between the two);
 *            3 x 3 within the noise (1.0-1.4 ms float32 for every shape).
 *            Intel with AVX-512 runs the 512-bit tile below from 5 kernel
 *            rows, so there this shape serves 3 x 3 kernels only.
 * Each level also has a 1 x U tile of the same width for the rows left
 * over below a multiple of R. */
#if defined(FC_NARROW)
#define FC_SLIDE_VT_float fc_vfn
#define FC_SLIDE_VT_double fc_vdn
#define FC_SLIDE_LANES_float 8
#define FC_SLIDE_LANES_double 4
#ifndef FC_SLIDE_R
#define FC_SLIDE_R 4
#define FC_SLIDE_U 4
#endif
#else
#define FC_SLIDE_VT_float fc_vf
#define FC_SLIDE_VT_double fc_vd
#define FC_SLIDE_LANES_float FC_LANES_float
#define FC_SLIDE_LANES_double FC_LANES_double
#ifndef FC_SLIDE_R
#if defined(__AVX2__) || !FC_VEC
#define FC_SLIDE_R 4
#define FC_SLIDE_U 3
#else
#define FC_SLIDE_R 4
#define FC_SLIDE_U 1
#endif
#endif
#endif
#define FC_SLIDE_NAME_(T, R, U) fc_slide_##T##_##R##x##U
#define FC_SLIDE_NAME(T, R, U) FC_SLIDE_NAME_(T, R, U)
#define FC_SLIDE_BODY_(T, R, U) fc_slide_body_##T##_##R##x##U
#define FC_SLIDE_BODY(T, R, U) FC_SLIDE_BODY_(T, R, U)
#define FC_DEFINE_SLIDE_X(T, VT, V, R, U) FC_DEFINE_SLIDE(T, VT, V, R, U)
FC_DEFINE_SLIDE_X(float, FC_SLIDE_VT_float, FC_SLIDE_LANES_float, FC_SLIDE_R, FC_SLIDE_U)
FC_DEFINE_SLIDE_X(double, FC_SLIDE_VT_double, FC_SLIDE_LANES_double, FC_SLIDE_R, FC_SLIDE_U)
FC_DEFINE_SLIDE_X(float, FC_SLIDE_VT_float, FC_SLIDE_LANES_float, 1, FC_SLIDE_U)
FC_DEFINE_SLIDE_X(double, FC_SLIDE_VT_double, FC_SLIDE_LANES_double, 1, FC_SLIDE_U)
#define fc_slide_float FC_SLIDE_NAME(float, FC_SLIDE_R, FC_SLIDE_U)
#define fc_slide_double FC_SLIDE_NAME(double, FC_SLIDE_R, FC_SLIDE_U)
#define fc_slide1_float FC_SLIDE_NAME(float, 1, FC_SLIDE_U)
#define fc_slide1_double FC_SLIDE_NAME(double, 1, FC_SLIDE_U)
/* Output columns per tile. */
#define FC_SLIDE_TW_float (FC_SLIDE_LANES_float * FC_SLIDE_U)
#define FC_SLIDE_TW_double (FC_SLIDE_LANES_double * FC_SLIDE_U)

/* A row of `ntiles` full R-row tiles side by side (tile t at column t * TW):
 * the driver's interior, one call per unit instead of one per tile.  The
 * common single-plane, unit-column-step case (KD == 1, cs == 1: 2-D
 * filtering) runs a copy of the tile with those as constants.  Every tile
 * is the same call as the driver's per-tile one, so the sums are the same
 * bit for bit. */
/* Before each tile of a strip, the input columns the tile FC_SLIDE_PFD
 * places on reads first (those its left neighbour does not: TW columns
 * from KW - 1 past its start, on each of its R + KH - 1 rows) are
 * prefetched into L1.  The R + KH - 1 row streams are more than the
 * hardware prefetchers follow: without this the tile's first loads of each
 * row waited on L2.  Zen 5, 2-D 2048^2 'same' float32 9 x 9, engine calls,
 * 2026-12-07, no prefetch -> distance 1: one thread 53-61% -> 66-68% of the
 * FMA peak (avx512), 2 threads 57-65% -> 62-66%; 15 x 15 73-75% -> 69-75%
 * (75-78% at distance 2, within that noise). */
#ifndef FC_SLIDE_PFD
#define FC_SLIDE_PFD 1
#endif
/* A read prefetch into every cache level (also used by _dw_tiles.h). */
#if defined(__GNUC__) || defined(__clang__)
#define FC_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define FC_PREFETCH(p) ((void)(p))
#endif
#define FC_DEFINE_SLIDE_STRIP(T, R, U, TW)                                          \
static void fc_slide_strip_##T##_##R##x##U(                                         \
        const T *x, ptrdiff_t xrs, const ptrdiff_t *toff, ptrdiff_t KD,             \
        ptrdiff_t KH, ptrdiff_t KW, ptrdiff_t cs, const T *w,                       \
        T *out, ptrdiff_t ors, ptrdiff_t ntiles, T init)                            \
{                                                                                   \
    if (KD == 1 && cs == 1) {                                                       \
        for (ptrdiff_t t = 0; t < ntiles; t++) {                                    \
            const char *pf = (const char *)(x + toff[0] + (t + FC_SLIDE_PFD) * (TW)     \
                                            + KW - 1);                              \
            for (ptrdiff_t i = 0; i < KH + R - 1; i++) {                            \
                const char *pr = pf + i * xrs * (ptrdiff_t)sizeof(T);               \
                for (int b = 0; b < (int)((TW) * sizeof(T)); b += 64)               \
                    FC_PREFETCH(pr + b);                                            \
                FC_PREFETCH(pr + (TW) * sizeof(T) - 1);                             \
            }                                                                       \
            FC_SLIDE_BODY(T, R, U)(x + t * (TW), xrs, toff, 1, KH, KW, 1, w,        \
                                   out + t * (TW), ors, (TW), init);                \
        }                                                                           \
    } else {                                                                        \
        for (ptrdiff_t t = 0; t < ntiles; t++)                                      \
            FC_SLIDE_BODY(T, R, U)(x + t * (TW), xrs, toff, KD, KH, KW, cs, w,      \
                                   out + t * (TW), ors, (TW), init);                \
    }                                                                               \
}
#define FC_DEFINE_SLIDE_STRIP_X(T, R, U, TW) FC_DEFINE_SLIDE_STRIP(T, R, U, TW)
#define FC_SLIDE_STRIP_NAME_(T, R, U) fc_slide_strip_##T##_##R##x##U
#define FC_SLIDE_STRIP_NAME(T, R, U) FC_SLIDE_STRIP_NAME_(T, R, U)
FC_DEFINE_SLIDE_STRIP_X(float, FC_SLIDE_R, FC_SLIDE_U, FC_SLIDE_TW_float)
FC_DEFINE_SLIDE_STRIP_X(double, FC_SLIDE_R, FC_SLIDE_U, FC_SLIDE_TW_double)
#define fc_slide_strip_float FC_SLIDE_STRIP_NAME(float, FC_SLIDE_R, FC_SLIDE_U)
#define fc_slide_strip_double FC_SLIDE_STRIP_NAME(double, FC_SLIDE_R, FC_SLIDE_U)

/* AVX-512 builds also carry a SLIDE tile of 512-bit vectors (FC_SLIDEW_R
 * rows x FC_SLIDEW_U vectors): on CPUs with two 512-bit FMA units (Intel
 * Xeon) it doubles the FLOPs per instruction of the 256-bit tile, which
 * Zen 4 (512-bit FMAs at half rate) keeps.  The plan picks one
 * (rows_tile, slide_wide_preferred); other builds alias the names to their
 * one tile. */
#if defined(FC_NARROW) && FC_VEC
#define FC_SLIDE_HAS_WIDE 1
#define FC_SLIDEW_R 8
#define FC_SLIDEW_U 2
FC_DEFINE_SLIDE_X(float, fc_vf, FC_LANES_float, FC_SLIDEW_R, FC_SLIDEW_U)
FC_DEFINE_SLIDE_X(double, fc_vd, FC_LANES_double, FC_SLIDEW_R, FC_SLIDEW_U)
FC_DEFINE_SLIDE_X(float, fc_vf, FC_LANES_float, 1, FC_SLIDEW_U)
FC_DEFINE_SLIDE_X(double, fc_vd, FC_LANES_double, 1, FC_SLIDEW_U)
#define FC_SLIDEW_TW_float (FC_LANES_float * FC_SLIDEW_U)
#define FC_SLIDEW_TW_double (FC_LANES_double * FC_SLIDEW_U)
FC_DEFINE_SLIDE_STRIP_X(float, FC_SLIDEW_R, FC_SLIDEW_U, FC_SLIDEW_TW_float)
FC_DEFINE_SLIDE_STRIP_X(double, FC_SLIDEW_R, FC_SLIDEW_U, FC_SLIDEW_TW_double)
#define fc_slidew_float FC_SLIDE_NAME(float, FC_SLIDEW_R, FC_SLIDEW_U)
#define fc_slidew_double FC_SLIDE_NAME(double, FC_SLIDEW_R, FC_SLIDEW_U)
#define fc_slidew1_float FC_SLIDE_NAME(float, 1, FC_SLIDEW_U)
#define fc_slidew1_double FC_SLIDE_NAME(double, 1, FC_SLIDEW_U)
#define fc_slidew_strip_float FC_SLIDE_STRIP_NAME(float, FC_SLIDEW_R, FC_SLIDEW_U)
#define fc_slidew_strip_double FC_SLIDE_STRIP_NAME(double, FC_SLIDEW_R, FC_SLIDEW_U)
#else
#define FC_SLIDE_HAS_WIDE 0
#define FC_SLIDEW_R FC_SLIDE_R
#define FC_SLIDEW_U FC_SLIDE_U
#define FC_SLIDEW_TW_float FC_SLIDE_TW_float
#define FC_SLIDEW_TW_double FC_SLIDE_TW_double
#define fc_slidew_float fc_slide_float
#define fc_slidew_double fc_slide_double
#define fc_slidew1_float fc_slide1_float
#define fc_slidew1_double fc_slide1_double
#define fc_slidew_strip_float fc_slide_strip_float
#define fc_slidew_strip_double fc_slide_strip_double
#endif

/* The generic kernel's output row (_corr_cf in fastconv/_kernels.pxi) for
 * unit column stride and dilation, with the sums held in registers.
 *
 * orow[j] for j0 <= j < j1 already holds its start value (the bias, or the
 * sum so far); to it are added, in the generic kernel's order (channel,
 * plane, row, then column), the products w[kw] * x[j + kw - pw] of the
 * nc x nd x nh tap rows whose input row x and weight row w are
 *     x + c * xcs + d * xds + h * xhs   and   w + c * wcs + d * wds + h * whs
 * (strides in elements; rows themselves contiguous),
 * skipping the taps whose input column falls outside [0, W) (zero padding
 * is never multiplied).  The same products added in the same order as the
 * generic kernel's loop of one multiply-add per tap over the whole row, so
 * the same bits; but that loop stores and reloads each partial sum once per
 * tap (64^2 x 3^2: 9 loads and stores per output, the small-call path's
 * ~1 multiply-add per cycle), while here the columns where every tap is
 * inside the row run in U vectors of accumulators, stored once. */
/* Every tap row in order; STMT sees its input row xr and weights wr. */
#define FC_GENROW_TAPS_(T, STMT)                                                    \
    for (ptrdiff_t c = 0; c < nc; c++)                                              \
        for (ptrdiff_t d = 0; d < nd; d++)                                          \
            for (ptrdiff_t h = 0; h < nh; h++) {                                    \
                const T *xr = x + c * xcs + d * xds + h * xhs;                      \
                const T *wr = w + c * wcs + d * wds + h * whs;                      \
                STMT                                                                \
            }
#if FC_VEC
/* The level's own register width: 256-bit types split into SSE2 halves kept
 * the accumulators on the stack (64^2 x 3^2: 2x slower than the loop this
 * replaces). */
#if defined(__AVX512F__) && !defined(FC_FORCE_256)
typedef float fc_gr_vf __attribute__((vector_size(64)));
typedef double fc_gr_vd __attribute__((vector_size(64)));
#define FC_GENROW_U 2
#elif defined(__AVX__)
typedef float fc_gr_vf __attribute__((vector_size(32)));
typedef double fc_gr_vd __attribute__((vector_size(32)));
#define FC_GENROW_U 4
#else
typedef float fc_gr_vf __attribute__((vector_size(16)));
typedef double fc_gr_vd __attribute__((vector_size(16)));
#define FC_GENROW_U 4
#endif
/* acc[0..U) = the sums of columns j .. j + U*V - 1 (all interior). */
#define FC_GENROW_SUMS_(T, VT, V, U)                                                \
    for (int u = 0; u < U; u++) acc[u] = FC_LOADU(VT, orow + j + u * V);           \
    if (nc == 1 && nd == 1) {                                                       \
        const T *xr = x + (j - pw), *wr = w;                                        \
        for (ptrdiff_t h = 0; h < nh; h++, xr += xhs, wr += whs)                    \
            for (ptrdiff_t kw = 0; kw < KW; kw++) {                                 \
                VT wv = FC_SPLAT(VT, wr[kw]);                                       \
                for (int u = 0; u < U; u++)                                         \
                    acc[u] += wv * FC_LOADU(VT, xr + kw + u * V);                   \
            }                                                                       \
    } else {                                                                        \
        FC_GENROW_TAPS_(T,                                                          \
            for (ptrdiff_t kw = 0; kw < KW; kw++) {                                 \
                VT wv = FC_SPLAT(VT, wr[kw]);                                       \
                for (int u = 0; u < U; u++)                                         \
                    acc[u] += wv * FC_LOADU(VT, xr + (j - pw + kw) + u * V);        \
            })                                                                      \
    }
#endif
/* Columns [a, b) element by element, each tap checked against the row. */
#define FC_GENROW_EDGE_(T, A, B)                                                    \
    for (ptrdiff_t jj = (A); jj < (B); jj++) {                                      \
        T s = orow[jj];                                                             \
        FC_GENROW_TAPS_(T,                                                          \
            for (ptrdiff_t kw = 0; kw < KW; kw++) {                                 \
                ptrdiff_t i = jj - pw + kw;                                         \
                if (i >= 0 && i < W)                                                \
                    s += wr[kw] * xr[i];                                            \
            })                                                                      \
        orow[jj] = s;                                                               \
    }
#define FC_GENROW_SIG_(T)                                                           \
static void fc_genrow_##T(                                                          \
        const T *x, ptrdiff_t xcs, ptrdiff_t xds, ptrdiff_t xhs,                    \
        const T *w, ptrdiff_t wcs, ptrdiff_t wds, ptrdiff_t whs, ptrdiff_t nc,      \
        ptrdiff_t nd, ptrdiff_t nh, ptrdiff_t KW, ptrdiff_t pw, ptrdiff_t W,        \
        T *orow, ptrdiff_t j0, ptrdiff_t j1)
#if FC_VEC
#define FC_DEFINE_GENROW(T, VT, V)                                                  \
FC_GENROW_SIG_(T)                                                                   \
{                                                                                   \
    /* [lo, hi): the columns every tap of a row reaches inside [0, W) */           \
    ptrdiff_t lo = pw < j0 ? j0 : (pw > j1 ? j1 : pw);                              \
    ptrdiff_t hi = W - KW + 1 + pw;                                                 \
    hi = hi < lo ? lo : (hi > j1 ? j1 : hi);                                        \
    FC_GENROW_EDGE_(T, j0, lo)                                                      \
    enum { CW = V * FC_GENROW_U };                                                  \
    ptrdiff_t j;                                                                    \
    if (hi - lo >= CW) {                                                            \
        /* whole chunks; a row that is not a multiple of them ends with one */     \
        /* more, overlapping the last: summed first from the start values, */      \
        /* stored last (the overlap gets the same bits twice) */                    \
        T tail[CW];                                                                 \
        int has_tail = (hi - lo) % CW != 0;                                         \
        if (has_tail) {                                                             \
            VT acc[FC_GENROW_U];                                                    \
            j = hi - CW;                                                            \
            FC_GENROW_SUMS_(T, VT, V, FC_GENROW_U)                                  \
            for (int u = 0; u < FC_GENROW_U; u++) FC_STOREU(VT, tail + u * V, acc[u]); \
        }                                                                           \
        for (j = lo; j + CW <= hi; j += CW) {                                       \
            VT acc[FC_GENROW_U];                                                    \
            FC_GENROW_SUMS_(T, VT, V, FC_GENROW_U)                                  \
            for (int u = 0; u < FC_GENROW_U; u++) FC_STOREU(VT, orow + j + u * V, acc[u]); \
        }                                                                           \
        if (has_tail)                                                               \
            memcpy(orow + hi - CW, tail, sizeof(tail));                             \
        j = hi;                                                                     \
    } else {                                                                        \
        for (j = lo; j + V <= hi; j += V) {                                         \
            VT acc[1];                                                              \
            FC_GENROW_SUMS_(T, VT, V, 1)                                            \
            FC_STOREU(VT, orow + j, acc[0]);                                        \
        }                                                                           \
    }                                                                               \
    FC_GENROW_EDGE_(T, j, j1)                                                       \
}
FC_DEFINE_GENROW(float, fc_gr_vf, (int)(sizeof(fc_gr_vf) / sizeof(float)))
FC_DEFINE_GENROW(double, fc_gr_vd, (int)(sizeof(fc_gr_vd) / sizeof(double)))
#else
#define FC_DEFINE_GENROW(T)                                                         \
FC_GENROW_SIG_(T)                                                                   \
{                                                                                   \
    FC_GENROW_EDGE_(T, j0, j1)                                                      \
}
FC_DEFINE_GENROW(float)
FC_DEFINE_GENROW(double)
#endif

/* The CPU's vendor: 1 AMD, 2 Intel, 0 another or unknown (cpuid leaf 0).
 * The plan's per-CPU choices read it (here and in _dw_tiles.h). */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#define FC_HAS_CPUID 1
static int fc_cpu_vendor(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return 0;
    if (b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u)   /* AuthenticAMD */
        return 1;
    if (b == 0x756e6547u && d == 0x49656e69u && c == 0x6c65746eu)   /* GenuineIntel */
        return 2;
    return 0;
}
#else
#define FC_HAS_CPUID 0
static int fc_cpu_vendor(void) { return 0; }
#endif

/* Whether this CPU runs the 512-bit SLIDE tile faster: not on AMD family
 * 0x19 (Zen 4: 512-bit FMAs issue at half the 256-bit rate, measured
 * there), yes elsewhere (Intel with AVX-512, Zen 5). */
#if FC_SLIDE_HAS_WIDE && FC_HAS_CPUID
static int fc_slide_wide_preferred(void)
{
    unsigned a, b, c, d;
    int amd = fc_cpu_vendor() == 1;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    unsigned family = (a >> 8) & 0xf;
    if (family == 0xf)
        family += (a >> 20) & 0xff;
    return !(amd && family <= 0x19);
}
#else
static int fc_slide_wide_preferred(void) { return 0; }
#endif

#endif
