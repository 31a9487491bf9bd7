/* fastconv register-tile micro-kernels.
 *
 * Cython cannot name SIMD vector types, so the innermost register tiles live
 * here; every loop around them (blocking, prange, borders) stays in Cython
 * (fastconv/_kernels.pxi).  This header is compiled once per SIMD level
 * (baseline / AVX2+FMA / AVX-512, see setup.py): the same source becomes
 * SSE2, AVX2 or AVX-512 code by the flags alone.  Vector widths: 256-bit
 * vector-extension types at the baseline and AVX2 levels (8 floats / 4
 * doubles; the compiler splits them into SSE2 halves at the baseline), and
 * at the AVX-512 level 512-bit types (16 floats / 8 doubles) beside
 * 256-bit "narrow" ones for short rows.  AVX-512 has 32 vector registers,
 * the other levels 16.
 *
 * Three tile shapes, all computing out = init + sum_t w_t * x[off_t + col]
 * with taps t in a fixed order (so every output element is accumulated in
 * the same order whatever the tiling or thread count):
 *
 *   FILT (many channels): P filters x U vectors of one output row (or of
 *        consecutive flat positions).  Per tap, U input vectors are loaded
 *        once and used by all P filters.
 *   FILTT (many channels, vectors along filters; AVX2 and AVX-512 levels):
 *        R output positions x U vectors of filters.  Per tap, U weight
 *        vectors are loaded once and used by all R positions.
 *   ROWS (one channel per filter): R output rows x U vectors.  Per tap, one
 *        weight is broadcast and used by all R*U accumulators.
 *
 * `ncols` <= V*U is the number of valid output columns; lanes past it are
 * computed from whatever memory follows and discarded, so callers must only
 * pass ncols < V*U when that memory is readable (padded copies carry slack).
 *
 * Without GCC/clang vector extensions (MSVC), plain loops are used; they
 * give the same results up to FMA contraction.
 */
#ifndef FASTCONV_MICROKERNELS_H
#define FASTCONV_MICROKERNELS_H
/* AVX-512 builds carry two FILT widths: 512-bit tiles for long rows and
 * 256-bit ("narrow", suffix n) tiles for short rows, where a 32-column tile
 * would leave most lanes idle.  Other builds alias the narrow names. */

#include <stddef.h>
#include <string.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__AVX512F__) && !defined(FC_FORCE_256)
#define FC_VEC 1
typedef float fc_vf __attribute__((vector_size(64)));
typedef double fc_vd __attribute__((vector_size(64)));
#define FC_LANES_float 16
#define FC_LANES_double 8
typedef float fc_vfn __attribute__((vector_size(32)));
typedef double fc_vdn __attribute__((vector_size(32)));
#define FC_NARROW 1
#elif defined(__GNUC__) || defined(__clang__)
#define FC_VEC 1
typedef float fc_vf __attribute__((vector_size(32)));
typedef double fc_vd __attribute__((vector_size(32)));
#define FC_LANES_float 8
#define FC_LANES_double 4
#else
#define FC_VEC 0
#define FC_LANES_float 8
#define FC_LANES_double 4
#endif

#if FC_VEC
#define FC_LOADU(VT, p) ({ VT v_; memcpy(&v_, (p), sizeof(VT)); v_; })
#define FC_STOREU(VT, p, v) do { VT t_ = (v); memcpy((p), &t_, sizeof(VT)); } while (0)
/* Broadcast a scalar.  s - 0 == s for every value (-0, inf and NaN
 * included), so compilers fold it to a plain broadcast: a load-port
 * vbroadcastss from memory.  The former (VT){0} + s maps -0 to +0, so it
 * cannot be folded and costs an add plus a register broadcast on the FP
 * pipes per weight; on Zen 4 the 256-bit FILT tile ran at 68% of the FMA
 * peak with it and at the peak without it. */
#define FC_SPLAT(VT, s) ((s) - (VT){0})

/* Store an NR x U tile of accumulators acc[NR][U] to rows `stride` apart:
 * whole vectors when all V*U columns are valid, else through a buffer so
 * only `ncols` columns are written. */
#define FC_STORE_TILE(T, VT, V, NR, U, acc, out, stride, ncols)                    \
    do {                                                                            \
        if ((ncols) == V * U) {                                                     \
            for (int r_ = 0; r_ < NR; r_++)                                         \
                for (int u_ = 0; u_ < U; u_++)                                      \
                    FC_STOREU(VT, (out) + r_ * (stride) + u_ * V, acc[r_][u_]);     \
        } else {                                                                    \
            T buf_[V * U];                                                          \
            for (int r_ = 0; r_ < NR; r_++) {                                       \
                for (int u_ = 0; u_ < U; u_++) FC_STOREU(VT, buf_ + u_ * V, acc[r_][u_]); \
                memcpy((out) + r_ * (stride), buf_, sizeof(T) * (size_t)(ncols));   \
            }                                                                       \
        }                                                                           \
    } while (0)

#define FC_DEFINE_FILT(T, VT, V, P, U, NAME)                                        \
static inline void NAME(                                                            \
        const T *x, const ptrdiff_t *toff, const T *wp, ptrdiff_t ntaps,            \
        T *out, ptrdiff_t ostride, int ncols, const T *init)                        \
{                                                                                   \
    VT acc[P][U];                                                                   \
    for (int p = 0; p < P; p++) {                                                   \
        T s = init ? init[p] : (T)0;                                                \
        for (int u = 0; u < U; u++) acc[p][u] = FC_SPLAT(VT, s);                        \
    }                                                                               \
    for (ptrdiff_t t = 0; t < ntaps; t++) {                                         \
        const T *xt = x + toff[t];                                                  \
        const T *wt = wp + t * P;                                                   \
        VT xv[U];                                                                   \
        for (int u = 0; u < U; u++) xv[u] = FC_LOADU(VT, xt + u * V);              \
        for (int p = 0; p < P; p++) {                                               \
            VT wv = FC_SPLAT(VT, wt[p]);                                                \
            for (int u = 0; u < U; u++) acc[p][u] += wv * xv[u];                    \
        }                                                                           \
    }                                                                               \
    FC_STORE_TILE(T, VT, V, P, U, acc, out, ostride, ncols);                        \
}

#define FC_DEFINE_ROWS(T, VT, V, R, U)                                              \
static inline void fc_rows_##T##_##R##x##U(                                         \
        const T *x, ptrdiff_t xrs, const ptrdiff_t *toff, const T *w,               \
        ptrdiff_t ntaps, T *out, ptrdiff_t ors, int ncols, T init)                  \
{                                                                                   \
    VT acc[R][U];                                                                   \
    for (int r = 0; r < R; r++)                                                     \
        for (int u = 0; u < U; u++) acc[r][u] = FC_SPLAT(VT, init);                     \
    for (ptrdiff_t t = 0; t < ntaps; t++) {                                         \
        const T *xt = x + toff[t];                                                  \
        VT wv = FC_SPLAT(VT, w[t]);                                                     \
        for (int r = 0; r < R; r++)                                                 \
            for (int u = 0; u < U; u++)                                             \
                acc[r][u] += wv * FC_LOADU(VT, xt + r * xrs + u * V);              \
    }                                                                               \
    FC_STORE_TILE(T, VT, V, R, U, acc, out, ors, ncols);                            \
}
/* FILTT (many channels, vectors along filters): R output positions x U
 * vectors of V filters.  Per tap t, U weight vectors (at wp + woff[t]: the
 * packing is laid out (taps, U*V), and woff[t] = t * U*V runs every tap,
 * while a list of some taps' offsets skips the others, e.g. the taps that
 * read only zero padding for every position of the tile) are loaded once
 * and each position's input value is broadcast and used by
 * all U*V filters.  The R positions are arbitrary (pos[], offsets into x), so
 * a tile never computes a padding or row-end column; the tile is stored to
 * buf laid out (R, U*V) for the caller to transpose.  Same tap order and
 * init as FILT.  With `cont` the accumulators start from buf instead (the
 * tile's sums over earlier taps): splitting the taps into consecutive
 * blocks keeps every output's order of additions, so the bits. */
#define FC_DEFINE_FILTT(T, VT, V, R, U, NAME)                                       \
    FC_FILTT_FN_(T, VT, V, R, U, NAME,                                              \
                 const T *px[R]; for (int r = 0; r < R; r++) px[r] = x + pos[r],    \
                 px[r][o])
/* FILTT over R positions of one row S apart (pos[r] = pos[0] + r * S, S a
 * constant): the same arithmetic in the same order, but one input pointer
 * whose R broadcasts take constant displacements.  The general tile keeps R
 * position pointers, more than the 16 general registers hold beside the
 * loop's own: 14 x 2 reloaded five of them from the stack per tap. */
#define FC_DEFINE_FILTT_C(T, VT, V, R, U, S, NAME)                                  \
    FC_FILTT_FN_(T, VT, V, R, U, NAME, const T *xb = x + pos[0], xb[o + r * (S)])
/* The FILTT function: PREP declares what XV (the input of position r at tap
 * offset o) reads through. */
#define FC_FILTT_FN_(T, VT, V, R, U, NAME, PREP, XV)                                \
static inline void NAME(                                                            \
        const T *x, const ptrdiff_t *toff, const ptrdiff_t *woff, const T *wp,      \
        ptrdiff_t ntaps, const ptrdiff_t *pos, T *buf, const T *init, int cont)     \
{                                                                                   \
    VT acc[R][U];                                                                   \
    if (cont) {                                                                     \
        for (int r = 0; r < R; r++)                                                 \
            for (int u = 0; u < U; u++)                                             \
                acc[r][u] = FC_LOADU(VT, buf + r * (U * V) + u * V);                \
    } else {                                                                        \
        for (int u = 0; u < U; u++) {                                               \
            VT s = init ? FC_LOADU(VT, init + u * V) : (VT){0};                     \
            for (int r = 0; r < R; r++) acc[r][u] = s;                              \
        }                                                                           \
    }                                                                               \
    PREP;                                                                           \
    for (ptrdiff_t t = 0; t < ntaps; t++) {                                         \
        const ptrdiff_t o = toff[t];                                                \
        const T *wt = wp + woff[t];                                                 \
        VT wv[U];                                                                   \
        for (int u = 0; u < U; u++) wv[u] = FC_LOADU(VT, wt + u * V);              \
        for (int r = 0; r < R; r++) {                                               \
            VT xv = FC_SPLAT(VT, XV);                                               \
            for (int u = 0; u < U; u++) acc[r][u] += xv * wv[u];                    \
        }                                                                           \
    }                                                                               \
    for (int r = 0; r < R; r++)                                                     \
        for (int u = 0; u < U; u++) FC_STOREU(VT, buf + r * (U * V) + u * V, acc[r][u]); \
}
#else  /* portable fallback: same arithmetic order, scalar code */
#define FC_DEFINE_FILT(T, VT, V, P, U, NAME)                                        \
static void NAME(                                                                   \
        const T *x, const ptrdiff_t *toff, const T *wp, ptrdiff_t ntaps,            \
        T *out, ptrdiff_t ostride, int ncols, const T *init)                        \
{                                                                                   \
    T acc[P][V * U];                                                                \
    for (int p = 0; p < P; p++)                                                     \
        for (int j = 0; j < V * U; j++) acc[p][j] = init ? init[p] : (T)0;          \
    for (ptrdiff_t t = 0; t < ntaps; t++)                                           \
        for (int p = 0; p < P; p++)                                                 \
            for (int j = 0; j < ncols; j++) acc[p][j] += wp[t * P + p] * x[toff[t] + j]; \
    for (int p = 0; p < P; p++) memcpy(out + p * ostride, acc[p], sizeof(T) * (size_t)ncols); \
}
#define FC_DEFINE_ROWS(T, VT, V, R, U)                                              \
static void fc_rows_##T##_##R##x##U(                                                \
        const T *x, ptrdiff_t xrs, const ptrdiff_t *toff, const T *w,               \
        ptrdiff_t ntaps, T *out, ptrdiff_t ors, int ncols, T init)                  \
{                                                                                   \
    T acc[R][V * U];                                                                \
    for (int r = 0; r < R; r++) for (int j = 0; j < V * U; j++) acc[r][j] = init;   \
    for (ptrdiff_t t = 0; t < ntaps; t++)                                           \
        for (int r = 0; r < R; r++)                                                 \
            for (int j = 0; j < ncols; j++) acc[r][j] += w[t] * x[toff[t] + r * xrs + j]; \
    for (int r = 0; r < R; r++) memcpy(out + r * ors, acc[r], sizeof(T) * (size_t)ncols); \
}
#define FC_DEFINE_FILTT(T, VT, V, R, U, NAME)                                       \
    FC_FILTT_FN_(T, V, R, U, NAME, pos[r])
/* The portable FILTT over positions S apart is the general one (the
 * caller's pos[] holds them). */
#define FC_DEFINE_FILTT_C(T, VT, V, R, U, S, NAME)                                  \
    FC_FILTT_FN_(T, V, R, U, NAME, pos[0] + r * (S))
#define FC_FILTT_FN_(T, V, R, U, NAME, POS)                                         \
static void NAME(                                                                   \
        const T *x, const ptrdiff_t *toff, const ptrdiff_t *woff, const T *wp,      \
        ptrdiff_t ntaps, const ptrdiff_t *pos, T *buf, const T *init, int cont)     \
{                                                                                   \
    for (int r = 0; r < R; r++)                                                     \
        for (int j = 0; j < U * V; j++) {                                           \
            T a = cont ? buf[r * (U * V) + j] : init ? init[j] : (T)0;              \
            for (ptrdiff_t t = 0; t < ntaps; t++) a += wp[woff[t] + j] * x[POS + toff[t]]; \
            buf[r * (U * V) + j] = a;                                               \
        }                                                                           \
}
#endif

/* Tile shapes: the registry _tiles.inc lists every tile; the FILT and FILTT
 * functions are defined from it below.  ROWS: 4 rows x 3 vectors for
 * images, 1 row x 8 vectors for 1-D signals. */
FC_DEFINE_ROWS(float, fc_vf, FC_LANES_float, 4, 3)
FC_DEFINE_ROWS(float, fc_vf, FC_LANES_float, 1, 8)
FC_DEFINE_ROWS(float, fc_vf, FC_LANES_float, 1, 3)
FC_DEFINE_ROWS(double, fc_vd, FC_LANES_double, 4, 3)
FC_DEFINE_ROWS(double, fc_vd, FC_LANES_double, 1, 8)
FC_DEFINE_ROWS(double, fc_vd, FC_LANES_double, 1, 3)
#if defined(FC_NARROW)
#define FC_LANES_float_n 8
#define FC_LANES_double_n 4
#define FC_VREG_SCALE 1           /* machine registers per vector */
#define FC_VREGS 32               /* vector registers of the level */
#elif defined(__AVX__)
#define FC_LANES_float_n FC_LANES_float
#define FC_LANES_double_n FC_LANES_double
#define FC_VREG_SCALE 1
#define FC_VREGS 16
#else
#define FC_LANES_float_n FC_LANES_float
#define FC_LANES_double_n FC_LANES_double
#define FC_VREG_SCALE 2           /* a 256-bit vector is two SSE2 registers */
#define FC_VREGS 16
#endif
#if FC_VEC && !defined(FC_NARROW)
typedef fc_vf fc_vfn;
typedef fc_vd fc_vdn;
#endif

/* Per type and width class: vector type and lanes. */
#define FC_VT_WIDE_float fc_vf
#define FC_VT_WIDE_double fc_vd
#define FC_VT_NARROW_float fc_vfn
#define FC_VT_NARROW_double fc_vdn
#define FC_V_WIDE_float FC_LANES_float
#define FC_V_WIDE_double FC_LANES_double
#define FC_V_NARROW_float FC_LANES_float_n
#define FC_V_NARROW_double FC_LANES_double_n

#include "_tiles.inc"

/* Definitions from the registry (ROWS: defined above, by name only). */
#define FC_DEF_FILT(T, A, B, W, NAME) \
    FC_DEFINE_FILT(T, FC_VT_##W##_##T, FC_V_##W##_##T, A, B, NAME)
#define FC_DEF_FILTT(T, A, B, W, NAME) \
    FC_DEFINE_FILTT(T, FC_VT_##W##_##T, FC_V_##W##_##T, A, B, NAME) \
    FC_DEFINE_FILTT_C(T, FC_VT_##W##_##T, FC_V_##W##_##T, A, B, 1, NAME##_c1) \
    FC_DEFINE_FILTT_C(T, FC_VT_##W##_##T, FC_V_##W##_##T, A, B, 2, NAME##_c2)
#define FC_DEF_ROWS(T, A, B, W, NAME)
#define FC_DEF_X(KIND, T, A, B, W, NAME) FC_DEF_##KIND(T, A, B, W, NAME)
FC_TILES(FC_DEF_X)

/* The table: one row per registry entry. */
enum { FC_KIND_FILT = 0, FC_KIND_FILTT = 1, FC_KIND_ROWS = 2 };
enum { FC_DT_float = 4, FC_DT_double = 8 };
enum { FC_W_WIDE = 0, FC_W_NARROW = 1 };
#define FC_LIVE_FILT(A, B) ((A) * (B) + (B) + 1)
#define FC_LIVE_FILTT(A, B) ((A) * (B) + (B) + 1)
#define FC_LIVE_ROWS(A, B) ((A) * (B) + 2)
/* fn_c1, fn_c2: FILTT only, the same tile over R positions of one row
 * 1 or 2 apart (FC_DEFINE_FILTT_C, strides 1 and 2); NULL for the other
 * kinds. */
typedef struct {
    int kind, itemsize, a, b, narrow, lanes, vregs;
    const char *name;
    void (*fn)(void);
    void (*fn_c1)(void);
    void (*fn_c2)(void);
} fc_tile_entry;
#define FC_CS_FILT(NAME) 0, 0
#define FC_CS_ROWS(NAME) 0, 0
#define FC_CS_FILTT(NAME) (void (*)(void))NAME##_c1, (void (*)(void))NAME##_c2
#define FC_ROW_X(KIND, T, A, B, W, NAME)                                      \
    {FC_KIND_##KIND, FC_DT_##T, A, B, FC_W_##W, FC_V_##W##_##T,               \
     FC_VREG_SCALE * FC_LIVE_##KIND(A, B), #NAME, (void (*)(void))NAME,       \
     FC_CS_##KIND(NAME)},
static const fc_tile_entry fc_tiles[] = { FC_TILES(FC_ROW_X) };
static const int fc_ntiles = (int)(sizeof(fc_tiles) / sizeof(fc_tiles[0]));
static const int fc_vregs = FC_VREGS;

/* FILTT group store: tb holds nk positions x PF filters, position-major, as
 * the FILTT tiles leave them; filter j < nf gets its nk values at
 * o + j * ostride (positions consecutive), with `relu` 0 where v < 0 (NaN and
 * -0 kept: vmaxps(0, v) returns v when either is NaN and when both are
 * zero, exactly `0 if v < 0 else v`).  With AVX, W x W blocks (8 floats, 4
 * doubles) are transposed in registers: a scalar copy took 19% of the FILTT
 * tile's time in the 7 x 7 stem (147 taps per output) and 7-11% in 3 x 3
 * layers (Zen 2, perf).  Pure data movement: the same bits either way. */
#if defined(__AVX__)
#include <immintrin.h>
#define FC_UNTILE_W_float 8
#define FC_UNTILE_W_double 4
/* One W x W block: t = tb + r0 * PF + j0, o = out + j0 * ostride + r0. */
static inline void fc_untile_block_float(const float *t, ptrdiff_t PF, float *o,
                                         ptrdiff_t ostride, int relu)
{
    __m256 a0 = _mm256_loadu_ps(t), a1 = _mm256_loadu_ps(t + PF);
    __m256 a2 = _mm256_loadu_ps(t + 2 * PF), a3 = _mm256_loadu_ps(t + 3 * PF);
    __m256 a4 = _mm256_loadu_ps(t + 4 * PF), a5 = _mm256_loadu_ps(t + 5 * PF);
    __m256 a6 = _mm256_loadu_ps(t + 6 * PF), a7 = _mm256_loadu_ps(t + 7 * PF);
    __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1);
    __m256 t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
    __m256 t4 = _mm256_unpacklo_ps(a4, a5), t5 = _mm256_unpackhi_ps(a4, a5);
    __m256 t6 = _mm256_unpacklo_ps(a6, a7), t7 = _mm256_unpackhi_ps(a6, a7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    __m256 b[8];
    b[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    b[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    b[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    b[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    b[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    b[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    b[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    b[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
    for (int i = 0; i < 8; i++)
        _mm256_storeu_ps(o + i * ostride, relu ? _mm256_max_ps(_mm256_setzero_ps(), b[i]) : b[i]);
}
static inline void fc_untile_block_double(const double *t, ptrdiff_t PF, double *o,
                                          ptrdiff_t ostride, int relu)
{
    __m256d a0 = _mm256_loadu_pd(t), a1 = _mm256_loadu_pd(t + PF);
    __m256d a2 = _mm256_loadu_pd(t + 2 * PF), a3 = _mm256_loadu_pd(t + 3 * PF);
    __m256d t0 = _mm256_unpacklo_pd(a0, a1), t1 = _mm256_unpackhi_pd(a0, a1);
    __m256d t2 = _mm256_unpacklo_pd(a2, a3), t3 = _mm256_unpackhi_pd(a2, a3);
    __m256d b[4];
    b[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    b[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    b[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    b[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
    for (int i = 0; i < 4; i++)
        _mm256_storeu_pd(o + i * ostride, relu ? _mm256_max_pd(_mm256_setzero_pd(), b[i]) : b[i]);
}
#if defined(__AVX512F__)
/* AVX-512: 16 x 16 float blocks (64 shuffles for 256 elements, against 96
 * for four 8 x 8 blocks), each filter's 16 positions one 64-byte store;
 * with `stream` a non-temporal one where it fills an aligned line (large
 * outputs: written once, far larger than L2, they are not read before
 * being overwritten -- normal stores read every line first; the caller
 * ends with an sfence). */
#define FC_SFENCE16() _mm_sfence()
#define FC_UNTILE_W16_float 16
static inline void fc_untile_block16_float(const float *t, ptrdiff_t PF, float *o,
                                           ptrdiff_t ostride, int relu, int stream)
{
    __m512 r[16], u[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(t + i * PF);
    for (int i = 0; i < 8; i++) {
        u[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        u[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* r[4i + c], lane L: positions 4i .. 4i+3 of filter 4L + c */
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(u[4 * i]), b = _mm512_castps_pd(u[4 * i + 1]);
        __m512d c = _mm512_castps_pd(u[4 * i + 2]), d = _mm512_castps_pd(u[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    const __m512 z = _mm512_setzero_ps();
    for (int c = 0; c < 4; c++) {
        __m512 a = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x44);
        __m512 b = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xEE);
        __m512 e = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x44);
        __m512 f = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xEE);
        __m512 v[4] = {_mm512_shuffle_f32x4(a, e, 0x88), _mm512_shuffle_f32x4(a, e, 0xDD),
                       _mm512_shuffle_f32x4(b, f, 0x88), _mm512_shuffle_f32x4(b, f, 0xDD)};
        for (int L = 0; L < 4; L++) {    /* filter 4L + c */
            float *d = o + (4 * L + c) * ostride;
            __m512 y = relu ? _mm512_max_ps(z, v[L]) : v[L];
            if (stream && ((size_t)d & 63) == 0) _mm512_stream_ps(d, y);
            else _mm512_storeu_ps(d, y);
        }
    }
}
#endif
#else
/* No register transpose: every element goes through the scalar copy. */
#define FC_UNTILE_W_float 0
#define FC_UNTILE_W_double 0
#define fc_untile_block_float(t, PF, o, ostride, relu) ((void)0)
#define fc_untile_block_double(t, PF, o, ostride, relu) ((void)0)
#endif
/* Filters j0..j1-1, positions r0..nk-1, element by element. */
#define FC_UNTILE_SCALAR_(T, J0, J1, R0)                                            \
    for (ptrdiff_t j = (J0); j < (J1); j++)                                         \
        for (ptrdiff_t r = (R0); r < nk; r++) {                                     \
            T v = tb[r * PF + j];                                                   \
            o[j * ostride + r] = (relu && v < 0) ? 0 : v;                           \
        }
#ifndef FC_UNTILE_W16_float      /* below AVX-512: no 16 x 16 blocks, no streaming */
#define FC_UNTILE_W16_float 0
#define fc_untile_block16_float(t, PF, o, ostride, relu, stream) ((void)0)
#define FC_SFENCE16() ((void)0)
#endif
/* 16 filters x 16 positions at a time where a level has the wider blocks;
 * the positions past the last full 16 go through the 8 x 8 blocks. */
#define FC_UNTILE16_float                                                           \
    for (; FC_UNTILE_W16_float > 0 && j0 + 16 <= nf; j0 += 16) {                    \
        ptrdiff_t r0 = 0;                                                           \
        for (; r0 + 16 <= nk; r0 += 16)                                             \
            fc_untile_block16_float(tb + r0 * PF + j0, PF, o + j0 * ostride + r0,   \
                                    ostride, relu, stream);                         \
        for (ptrdiff_t jj = j0; jj < j0 + 16; jj += 8) {                            \
            ptrdiff_t r1 = r0;                                                      \
            for (; W > 0 && r1 + W <= nk; r1 += W)                                  \
                fc_untile_block_float(tb + r1 * PF + jj, PF, o + jj * ostride + r1, \
                                      ostride, relu);                               \
            FC_UNTILE_SCALAR_(float, jj, jj + 8, r1)                                \
        }                                                                           \
    }
#define FC_UNTILE16_double
#define FC_DEFINE_UNTILE(T)                                                         \
static inline void fc_filtt_untile_##T(const T *tb, ptrdiff_t PF, ptrdiff_t nk,     \
                                       ptrdiff_t nf, T *o, ptrdiff_t ostride,       \
                                       int relu, int stream)                        \
{                                                                                   \
    enum { W = FC_UNTILE_W_##T };                                                   \
    ptrdiff_t j0 = 0;                                                               \
    FC_UNTILE16_##T                                                                 \
    for (; W > 0 && j0 + W <= nf; j0 += W) {                                        \
        ptrdiff_t r0 = 0;                                                           \
        for (; r0 + W <= nk; r0 += W)                                               \
            fc_untile_block_##T(tb + r0 * PF + j0, PF, o + j0 * ostride + r0,       \
                                ostride, relu);                                     \
        FC_UNTILE_SCALAR_(T, j0, j0 + W, r0)                                        \
    }                                                                               \
    FC_UNTILE_SCALAR_(T, j0, nf, 0)                                                 \
    if (stream)                                                                     \
        FC_SFENCE16();                                                              \
}
FC_DEFINE_UNTILE(float)
FC_DEFINE_UNTILE(double)

/* Function types of the kinds the drivers call through the table. */
typedef void (*fc_filt_float_fn)(const float *, const ptrdiff_t *, const float *, ptrdiff_t,
                                 float *, ptrdiff_t, int, const float *);
typedef void (*fc_filt_double_fn)(const double *, const ptrdiff_t *, const double *,
                                  ptrdiff_t, double *, ptrdiff_t, int, const double *);
typedef void (*fc_filtt_float_fn)(const float *, const ptrdiff_t *, const ptrdiff_t *,
                                  const float *, ptrdiff_t, const ptrdiff_t *, float *,
                                  const float *, int);
typedef void (*fc_filtt_double_fn)(const double *, const ptrdiff_t *, const ptrdiff_t *,
                                   const double *, ptrdiff_t, const ptrdiff_t *, double *,
                                   const double *, int);

#endif
