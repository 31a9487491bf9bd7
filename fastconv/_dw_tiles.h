/* fastconv DW3 tiles: 3x3, stride-1, undilated correlation of one plane
 * (depthwise layers: one input channel per filter, many planes).
 *
 * The plane is first copied into a small zero-bordered scratch buffer (its
 * rows SW elements apart, SW a multiple of the vector width): for a 56 x 56
 * float32 plane that is 15 KB, which stays in L1 while the tiles read it.
 * So every plane is read from memory once and every output written once,
 * with no padded copy of the whole input (the rows_padded path writes and
 * re-reads one, which about doubles the layer's memory traffic) and no
 * border loops.
 *
 * Tiles are R output rows x U vectors with the kernel size a compile-time
 * 3 x 3: input row i of the tile's R + 2 rows is loaded once per kernel
 * column (U vectors) and feeds every output row r with 0 <= i - r < 3
 * (weight w[i - r][kw], a broadcast from memory).  Accumulator r therefore
 * receives its taps in C order (kh ascending, then kw): the order of the
 * generic kernel and of the ROWS/SLIDE tiles, so the results are bitwise
 * those of the SLIDE tiles on the zero-padded source (rows_padded) for any
 * tiling and thread count.  Adding w * 0 for a padding tap leaves an
 * accumulator bit for bit unchanged when the weight is finite and the
 * accumulator is not -0 (a bias of -0.0); the engine sends other weights
 * and biases to the ROWS driver.
 *
 * Shapes: R = 4 rows (R = 1..3 for the last rows of a plane) x U = 3
 * vectors (12 accumulators, 3 input vectors, 1 broadcast: 16 registers at
 * AVX2; the 256-bit vectors at AVX-512, see _rows_tiles.h).  The column
 * tiles of a row are 3 vectors wide, the last ones 2 + 2 instead of 3 + 1
 * (56 columns: 3 + 2 + 2 vectors of 8).  At the baseline a 256-bit vector
 * is two SSE2 registers, so U = 1 only.
 */
#ifndef FASTCONV_DW_TILES_H
#define FASTCONV_DW_TILES_H
#include <stdint.h>
#include "_rows_tiles.h"

/* An empty asm that "changes" a pointer: loads through it cannot be merged
 * with the same loads before it.  Each input row's weights are broadcast
 * from memory where they are used (a load-port uop each), instead of the
 * compiler keeping all nine in registers, which left too few for the R x U
 * accumulators and spilled them (GCC 4 x 3 tile: 57 stack accesses in its
 * body before, none after; its FMA loads also became one per vector). */
#if defined(__GNUC__) || defined(__clang__)
#define FC_LAUNDER(p) __asm__ volatile("" : "+r"(p))
#else
#define FC_LAUNDER(p) ((void)0)
#endif
/* FC_IN_REG (a loaded vector kept in a register): see _rows_tiles.h. */

/* Non-temporal stores of whole 256-bit vectors as two 16-byte halves (the
 * caller checks 16-byte alignment: NumPy's buffers guarantee no more).
 * Outputs far larger than the caches then cost one write each instead of
 * a read for ownership plus a write-back: a third of a memory-bound
 * layer's traffic.  AVX builds only (others store normally). */
#if FC_VEC && defined(__AVX__)
#include <immintrin.h>
#define FC_DW_CAN_STREAM 1
#define FC_STREAM_float(p, v) do { __m256 s_ = (__m256)(v);                         \
        _mm_stream_ps((p), _mm256_castps256_ps128(s_));                              \
        _mm_stream_ps((p) + 4, _mm256_extractf128_ps(s_, 1)); } while (0)
#define FC_STREAM_double(p, v) do { __m256d s_ = (__m256d)(v);                       \
        _mm_stream_pd((p), _mm256_castpd256_pd128(s_));                              \
        _mm_stream_pd((p) + 2, _mm256_extractf128_pd(s_, 1)); } while (0)
#define FC_SFENCE() _mm_sfence()
#else
#define FC_DW_CAN_STREAM 0
#define FC_STREAM_float(p, v) FC_STOREU(fc_vf, (p), (v))
#define FC_STREAM_double(p, v) FC_STOREU(fc_vd, (p), (v))
#define FC_SFENCE() ((void)0)
#endif

/* fc_cpu_vendor: see _rows_tiles.h. */
/* Whether the engine streams large DW3 outputs (the stores above): on AMD
 * CPUs, where they were measured faster (Zen 2, one thread, N16 128-channel
 * 56^2 layer: 4.27 -> 3.77 ms), not elsewhere: on an Intel Xeon (2 threads,
 * 2026-12-05) the same layer went 2.24 -> 2.51 ms with them, a 2048^2 plane
 * 1.27 -> 1.40 ms, and a cv2.filter2D call right after one took 3.2-3.6 ms
 * instead of 1.5 (its 16-byte pieces fill a line from two tiles; the FILTT
 * store's whole-line 64-byte ones are faster there). */
static int fc_dw_stream_preferred(void)
{
    return FC_DW_CAN_STREAM && fc_cpu_vendor() == 1;
}

#if FC_VEC
#define FC_DW_TILE(T, VT, V, R, U)                                                  \
static inline void fc_dw3_##T##_##R##x##U(const T *s, ptrdiff_t SW, const T *w,     \
                                          T init, T *out, ptrdiff_t ors, int ncols, \
                                          int nt)                                   \
{                                                                                   \
    VT acc[R][U];                                                                   \
    for (int r = 0; r < R; r++)                                                     \
        for (int u = 0; u < U; u++) acc[r][u] = FC_SPLAT(VT, init);                 \
    _Pragma("GCC unroll 8")                                                         \
    for (int i = 0; i < R + 2; i++) {                                               \
        const T *si = s + i * SW;                                                   \
        const T *wl = w;                                                            \
        FC_LAUNDER(wl);                                                             \
        _Pragma("GCC unroll 3")                                                     \
        for (int kw = 0; kw < 3; kw++) {                                            \
            VT xv[U];                                                               \
            for (int u = 0; u < U; u++) {                                            \
                xv[u] = FC_LOADU(VT, si + kw + u * V);                              \
                FC_IN_REG(xv[u]);                                                   \
            }                                                                       \
            _Pragma("GCC unroll 4")                                                 \
            for (int r = 0; r < R; r++) {                                           \
                if (i - r < 0 || i - r > 2) continue;                               \
                VT wv = FC_SPLAT(VT, wl[(i - r) * 3 + kw]);                          \
                for (int u = 0; u < U; u++) acc[r][u] += wv * xv[u];                \
            }                                                                       \
        }                                                                           \
    }                                                                               \
    if (nt && ncols == V * U) {                                                     \
        for (int r = 0; r < R; r++)                                                 \
            for (int u = 0; u < U; u++) FC_STREAM_##T(out + r * ors + u * V, acc[r][u]); \
        return;                                                                     \
    }                                                                               \
    FC_STORE_TILE(T, VT, V, R, U, acc, out, ors, ncols);                            \
}
#else
#define FC_DW_TILE(T, VT, V, R, U)                                                  \
static void fc_dw3_##T##_##R##x##U(const T *s, ptrdiff_t SW, const T *w,            \
                                   T init, T *out, ptrdiff_t ors, int ncols, int nt) \
{                                                                                   \
    (void)nt;                                                                       \                                                                                   \
    for (int r = 0; r < R; r++)                                                     \
        for (int j = 0; j < ncols; j++) {                                           \
            T a = init;                                                             \
            for (int kh = 0; kh < 3; kh++)                                          \
                for (int kw = 0; kw < 3; kw++)                                      \
                    a += w[kh * 3 + kw] * s[(r + kh) * SW + kw + j];                \
            out[r * ors + j] = a;                                                   \
        }                                                                           \
}
#endif

/* FC_PREFETCH: see _rows_tiles.h */

#if FC_VEC && !defined(__AVX2__) && !defined(FC_NARROW)
#define FC_DW_UMAX 1
#else
#define FC_DW_UMAX 3
#endif

#define FC_DW_TILES_U(T, R)                                                         \
    FC_DW_TILE(T, FC_SLIDE_VT_##T, FC_SLIDE_LANES_##T, R, 1)                        \
    FC_DW_TILE(T, FC_SLIDE_VT_##T, FC_SLIDE_LANES_##T, R, 2)                        \
    FC_DW_TILE(T, FC_SLIDE_VT_##T, FC_SLIDE_LANES_##T, R, 3)

/* Row copy into the scratch: whole vectors, then a memcpy of the rest (a
 * libc call per 56-element row cost as much as a quarter of the plane). */
#if FC_VEC
#define FC_DW_COPY(T, VT, V)                                                        \
static inline void fc_dw_copy_row_##T(T *dst, const T *src, ptrdiff_t n)            \
{                                                                                   \
    ptrdiff_t j = 0;                                                                \
    for (; j + V <= n; j += V) FC_STOREU(VT, dst + j, FC_LOADU(VT, src + j));       \
    if (j < n) memcpy(dst + j, src + j, sizeof(T) * (size_t)(n - j));               \
}
#else
#define FC_DW_COPY(T, VT, V)                                                        \
static inline void fc_dw_copy_row_##T(T *dst, const T *src, ptrdiff_t n)            \
{                                                                                   \
    memcpy(dst, src, sizeof(T) * (size_t)n);                                        \
}
#endif
FC_DW_COPY(float, FC_SLIDE_VT_float, FC_SLIDE_LANES_float)
FC_DW_COPY(double, FC_SLIDE_VT_double, FC_SLIDE_LANES_double)

/* Gather every second element of a row (dst[j] = src[2 j], j < n): the
 * padded copy of a layer whose taps all land on one phase of stride 2 (the
 * one-phase reduction of _engine._reduce_geometry).  Two loaded vectors give
 * one of even lanes by a two-source shuffle (vpermt2ps / vshufps+vpermpd);
 * the vector loop stops while src[2 j + 2 V - 1], which it reads, is still
 * inside the row (2 j + 2 V - 1 <= 2 n - 2), the scalar loop does the rest.
 * Element-by-element this copy was 8% of a stride-2 dilation-2 layer. */
#if FC_VEC && defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define FC_EVEN_float(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define FC_EVEN_double(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6)
#endif
#endif
#if defined(FC_EVEN_float) && FC_SLIDE_LANES_float == 8 && FC_SLIDE_LANES_double == 4
#define FC_GATHER2(T, VT, V)                                                        \
static inline void fc_gather2_row_##T(T *dst, const T *src, ptrdiff_t n)            \
{                                                                                   \
    ptrdiff_t j = 0;                                                                \
    for (; j + V < n; j += V) {                                                     \
        VT a = FC_LOADU(VT, src + 2 * j), b = FC_LOADU(VT, src + 2 * j + V);        \
        FC_STOREU(VT, dst + j, FC_EVEN_##T(a, b));                                  \
    }                                                                               \
    for (; j < n; j++) dst[j] = src[2 * j];                                         \
}
#else
#define FC_GATHER2(T, VT, V)                                                        \
static inline void fc_gather2_row_##T(T *dst, const T *src, ptrdiff_t n)            \
{                                                                                   \
    for (ptrdiff_t j = 0; j < n; j++) dst[j] = src[2 * j];                          \
}
#endif
FC_GATHER2(float, FC_SLIDE_VT_float, FC_SLIDE_LANES_float)
FC_GATHER2(double, FC_SLIDE_VT_double, FC_SLIDE_LANES_double)

/* The same copy, also raising *m to the largest finite |x| of the row as a
 * bit pattern (sign cleared, non-finite patterns counted as 0: for
 * non-negative IEEE numbers the integer order is the numeric order).  It
 * folds the engine's overflow guard scan into the copy (see
 * _engine.correlate). */
/* fc_row_max: the same scan without the copy (the in-place ROWS path,
 * where each parallel unit scans the input rows it owns).  Both are one
 * inline body with `store` a constant, so each compiles to its own loop. */
/* Scalar copy of elements j..n-1 with the running largest finite |x| (as
 * bit patterns) in mm: the tail of the vector loop, the whole row without
 * vectors. */
#define FC_DW_COPY_TAIL_(IT, ABS, INF)                                              \
    for (; j < n; j++) {                                                            \
        IT b;                                                                       \
        if (store) dst[j] = src[j];                                                 \
        memcpy(&b, src + j, sizeof b);                                              \
        b &= (IT)ABS;                                                               \
        if (b < (IT)INF && (int64_t)b > mm) mm = b;                                 \
    }

#if FC_VEC && defined(__AVX2__) && (defined(__GNUC__) || defined(__clang__))
/* AVX: |x| by a mask and the largest by the floating-point max (for
 * non-negative IEEE numbers the float order is the bit-pattern order), four
 * accumulators so no compare-and-blend chain limits the loop.  max(v, acc)
 * returns acc when v is NaN, so NaNs drop out; an infinity does not: when
 * the vectors' largest is infinite the rows' finite largest is recomputed
 * by the exact scalar loop (rare: only rows that hold an infinity).  The
 * blend form below ran the scan at ~18 GB/s per thread from L2 (Intel
 * Xeon), a quarter of what the loads allow.  A row's last n mod L elements
 * go through one masked vector (masked-off lanes load as 0, store nothing)
 * and the accumulators are reduced in registers: rows of 14-56 elements
 * (CNN layers' padded copies) spent most of their time in a scalar tail
 * and a lane-by-lane reduction (the padded copy of a 16 x 256 x 14 x 14
 * float32 input took 2.9 ms with the scan against 0.7 ms without, one
 * thread, Intel Xeon). */
#define FC_DW_COPY_MAX(T, VT, V, IT, ABS, INF)                                        \
static inline __attribute__((always_inline)) void                                   \
fc_dw_row_max_body_##T(T *dst, const T *src, ptrdiff_t n, int64_t *m, const int store) \
{                                                                                   \
    ptrdiff_t j = 0;                                                                \
    const FC_AVXV_##T msk = FC_AVX_CAST_##T(FC_AVX_SET1I((long long)FC_AVX_ABS2_##T)); \
    FC_AVXV_##T a0 = FC_AVX_ZERO_##T(), a1 = a0, a2 = a0, a3 = a0;                  \
    const int L = (int)(sizeof(FC_AVXV_##T) / sizeof(T));                           \
    for (; j + 4 * L <= n; j += 4 * L) {                                            \
        FC_AVXV_##T v0 = FC_AVX_LOADU_##T(src + j);                                 \
        FC_AVXV_##T v1 = FC_AVX_LOADU_##T(src + j + L);                             \
        FC_AVXV_##T v2 = FC_AVX_LOADU_##T(src + j + 2 * L);                         \
        FC_AVXV_##T v3 = FC_AVX_LOADU_##T(src + j + 3 * L);                         \
        if (store) {                                                                \
            FC_AVX_STOREU_##T(dst + j, v0);                                         \
            FC_AVX_STOREU_##T(dst + j + L, v1);                                     \
            FC_AVX_STOREU_##T(dst + j + 2 * L, v2);                                 \
            FC_AVX_STOREU_##T(dst + j + 3 * L, v3);                                 \
        }                                                                           \
        a0 = FC_AVX_MAX_##T(FC_AVX_AND_##T(v0, msk), a0);                           \
        a1 = FC_AVX_MAX_##T(FC_AVX_AND_##T(v1, msk), a1);                           \
        a2 = FC_AVX_MAX_##T(FC_AVX_AND_##T(v2, msk), a2);                           \
        a3 = FC_AVX_MAX_##T(FC_AVX_AND_##T(v3, msk), a3);                           \
    }                                                                               \
    for (; j + L <= n; j += L) {                                                    \
        FC_AVXV_##T v0 = FC_AVX_LOADU_##T(src + j);                                 \
        if (store) FC_AVX_STOREU_##T(dst + j, v0);                                  \
        a0 = FC_AVX_MAX_##T(FC_AVX_AND_##T(v0, msk), a0);                           \
    }                                                                               \
    if (j < n) {                                                                    \
        /* the last n - j < L: masked (lanes past n load as 0, store nothing) */    \
        FC_AVXV_##T v0 = FC_AVX_MASKLOAD_##T(src + j, n - j);                       \
        if (store) FC_AVX_MASKSTORE_##T(dst + j, n - j, v0);                        \
        a0 = FC_AVX_MAX_##T(FC_AVX_AND_##T(v0, msk), a0);                           \
        j = n;                                                                      \
    }                                                                               \
    a0 = FC_AVX_MAX_##T(FC_AVX_MAX_##T(a0, a1), FC_AVX_MAX_##T(a2, a3));           \
    T top = FC_AVX_HMAX_##T(a0);                                                    \
    int64_t mm = *m;                                                                \
    IT b;                                                                           \
    memcpy(&b, &top, sizeof b);                                                     \
    if (b < (IT)INF) {                                                              \
        if ((int64_t)b > mm) mm = b;                                                \
    } else {                                                                        \
        ptrdiff_t jv = j;                                                           \
        mm = *m;                                                                    \
        for (j = 0; j < jv; j++) {                                                  \
            memcpy(&b, src + j, sizeof b);                                          \
            b &= (IT)ABS;                                                           \
            if (b < (IT)INF && (int64_t)b > mm) mm = b;                             \
        }                                                                           \
    }                                                                               \
    FC_DW_COPY_TAIL_(IT, ABS, INF)                                                  \
    *m = mm;                                                                        \
}                                                                                   \
FC_DW_ROW_MAX_API_(T)
#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define FC_AVXV_float __m512
#define FC_AVXV_double __m512d
#define FC_AVX_SET1I _mm512_set1_epi64
#define FC_AVX_CAST_float _mm512_castsi512_ps
#define FC_AVX_CAST_double _mm512_castsi512_pd
#define FC_AVX_ZERO_float _mm512_setzero_ps
#define FC_AVX_ZERO_double _mm512_setzero_pd
#define FC_AVX_LOADU_float _mm512_loadu_ps
#define FC_AVX_LOADU_double _mm512_loadu_pd
#define FC_AVX_STOREU_float _mm512_storeu_ps
#define FC_AVX_STOREU_double _mm512_storeu_pd
#define FC_AVX_AND_float _mm512_and_ps
#define FC_AVX_AND_double _mm512_and_pd
#define FC_AVX_MAX_float _mm512_max_ps
#define FC_AVX_MAX_double _mm512_max_pd
#define FC_AVX_MASKLOAD_float(p, r) _mm512_maskz_loadu_ps((__mmask16)((1u << (r)) - 1), p)
#define FC_AVX_MASKLOAD_double(p, r) _mm512_maskz_loadu_pd((__mmask8)((1u << (r)) - 1), p)
#define FC_AVX_MASKSTORE_float(p, r, v) _mm512_mask_storeu_ps(p, (__mmask16)((1u << (r)) - 1), v)
#define FC_AVX_MASKSTORE_double(p, r, v) _mm512_mask_storeu_pd(p, (__mmask8)((1u << (r)) - 1), v)
#define FC_AVX_HMAX_float _mm512_reduce_max_ps
#define FC_AVX_HMAX_double _mm512_reduce_max_pd
#else
#define FC_AVXV_float __m256
#define FC_AVXV_double __m256d
#define FC_AVX_SET1I _mm256_set1_epi64x
#define FC_AVX_CAST_float _mm256_castsi256_ps
#define FC_AVX_CAST_double _mm256_castsi256_pd
#define FC_AVX_ZERO_float _mm256_setzero_ps
#define FC_AVX_ZERO_double _mm256_setzero_pd
#define FC_AVX_LOADU_float _mm256_loadu_ps
#define FC_AVX_LOADU_double _mm256_loadu_pd
#define FC_AVX_STOREU_float _mm256_storeu_ps
#define FC_AVX_STOREU_double _mm256_storeu_pd
#define FC_AVX_AND_float _mm256_and_ps
#define FC_AVX_AND_double _mm256_and_pd
#define FC_AVX_MAX_float _mm256_max_ps
#define FC_AVX_MAX_double _mm256_max_pd
/* lanes below r: the sign bit set (maskload / maskstore read it) */
#define FC_AVX_MASK32_(r) _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(r)),                  \
                                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define FC_AVX_MASK64_(r) _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(r)),           \
                                              _mm256_setr_epi64x(0, 1, 2, 3))
#define FC_AVX_MASKLOAD_float(p, r) _mm256_maskload_ps(p, FC_AVX_MASK32_(r))
#define FC_AVX_MASKLOAD_double(p, r) _mm256_maskload_pd(p, FC_AVX_MASK64_(r))
#define FC_AVX_MASKSTORE_float(p, r, v) _mm256_maskstore_ps(p, FC_AVX_MASK32_(r), v)
#define FC_AVX_MASKSTORE_double(p, r, v) _mm256_maskstore_pd(p, FC_AVX_MASK64_(r), v)
static inline float FC_AVX_HMAX_float(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}
static inline double FC_AVX_HMAX_double(__m256d v)
{
    __m128d m = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    m = _mm_max_sd(m, _mm_unpackhi_pd(m, m));
    return _mm_cvtsd_f64(m);
}
#endif
#define FC_AVX_ABS2_float 0x7fffffff7fffffffLL
#define FC_AVX_ABS2_double 0x7fffffffffffffffLL
#elif FC_VEC
#define FC_DW_COPY_MAX(T, VT, V, IT, ABS, INF)                                        \
typedef IT fc_dw_vi_##T __attribute__((vector_size(sizeof(VT))));                   \
static inline __attribute__((always_inline)) void                                   \
fc_dw_row_max_body_##T(T *dst, const T *src, ptrdiff_t n, int64_t *m, const int store) \
{                                                                                   \
    ptrdiff_t j = 0;                                                                \
    fc_dw_vi_##T acc = {0};                                                         \
    for (; j + V <= n; j += V) {                                                    \
        VT v = FC_LOADU(VT, src + j);                                               \
        if (store) FC_STOREU(VT, dst + j, v);                                       \
        fc_dw_vi_##T b = (fc_dw_vi_##T)v & (IT)ABS;                                 \
        b &= (fc_dw_vi_##T)(b < (IT)INF);                                           \
        fc_dw_vi_##T gt = (fc_dw_vi_##T)(b > acc);                                  \
        acc = (b & gt) | (acc & ~gt);                                               \
    }                                                                               \
    int64_t mm = *m;                                                                \
    for (int l = 0; l < V; l++)                                                     \
        if ((int64_t)acc[l] > mm) mm = acc[l];                                      \
    FC_DW_COPY_TAIL_(IT, ABS, INF)                                                  \
    *m = mm;                                                                        \
}                                                                                   \
FC_DW_ROW_MAX_API_(T)
#else
#define FC_DW_COPY_MAX(T, VT, V, IT, ABS, INF)                                        \
static inline __attribute__((always_inline)) void                                   \
fc_dw_row_max_body_##T(T *dst, const T *src, ptrdiff_t n, int64_t *m, const int store) \
{                                                                                   \
    int64_t mm = *m;                                                                \
    ptrdiff_t j = 0;                                                                \
    FC_DW_COPY_TAIL_(IT, ABS, INF)                                                  \
    *m = mm;                                                                        \
}                                                                                   \
FC_DW_ROW_MAX_API_(T)
#endif
#define FC_DW_ROW_MAX_API_(T)                                                       \
static inline void fc_dw_copy_row_max_##T(T *dst, const T *src, ptrdiff_t n,        \
                                          int64_t *m)                               \
{ fc_dw_row_max_body_##T(dst, src, n, m, 1); }                                      \
static inline void fc_row_max_##T(const T *src, ptrdiff_t n, int64_t *m)            \
{ fc_dw_row_max_body_##T(NULL, src, n, m, 0); }
FC_DW_COPY_MAX(float, FC_SLIDE_VT_float, FC_SLIDE_LANES_float, int32_t, 0x7fffffff, 0x7f800000)
FC_DW_COPY_MAX(double, FC_SLIDE_VT_double, FC_SLIDE_LANES_double, int64_t,
               0x7fffffffffffffffLL, 0x7ff0000000000000LL)

#define FC_DW_CASE_(T, R, U)                                                        \
    case (R) * 4 + (U): fc_dw3_##T##_##R##x##U(sp, SW, w, init, op, OW, ncols, nt); break;
#define FC_DW_CASES_R(T, R) FC_DW_CASE_(T, R, 1) FC_DW_CASE_(T, R, 2) FC_DW_CASE_(T, R, 3)

/* One band of output rows [oa, ob) of one plane: x (H, W) contiguous, zero
 * padding pt rows above / pl columns left (and whatever below and right
 * makes the output OH x OW), into out (OH, OW) contiguous (the plane's
 * first row; the band writes rows oa..ob-1).  The band's input rows with
 * their 1-row halo (ob - oa + 2 rows) are copied into the scratch s, rows
 * SW >= FC_DW_SW(OW) elements apart; scratch rows outside the input are
 * cleared here, so one scratch serves every band and plane of a call (its
 * columns outside pl..pl+W-1 must be zero: cleared once by the caller).
 * A whole plane is the band [0, OH).  Every output element gets the same
 * taps in the same order whatever the banding, so the results are bitwise
 * independent of it.  next/nextbytes: input the caller will need next
 * (prefetched a share per block of rows), NULL/0 for none.  mx: NULL, or
 * raised to the largest finite |x| of the rows copied (fc_dw_copy_row_max). */
#define FC_DEFINE_DW_PLANE(T)                                                       \
FC_DW_TILES_U(T, 1) FC_DW_TILES_U(T, 2) FC_DW_TILES_U(T, 3) FC_DW_TILES_U(T, 4)     \
static void fc_dw3_band_##T(const T *x, ptrdiff_t H, ptrdiff_t W, ptrdiff_t pt,     \
                            ptrdiff_t pl, T *s, ptrdiff_t SW, const T *w, T init,    \
                            T *out, ptrdiff_t OW, ptrdiff_t oa, ptrdiff_t ob,       \
                            int relu, const T *next, ptrdiff_t nextbytes, int stream, \
                            int64_t *mx)                                            \
{                                                                                   \
    enum { V = FC_SLIDE_LANES_##T };                                                \
    const ptrdiff_t BH = ob - oa;                                                   \
    const int nt = FC_DW_CAN_STREAM && stream && ((size_t)out % 16) == 0            \
                   && ((size_t)OW * sizeof(T)) % 16 == 0 && V * sizeof(T) == 32;     \
    /* the next band's cache lines, a share per block of rows, so they       */   \
    /* arrive while this band computes (its copy would otherwise stall)      */   \
    const char *pf = (const char *)next;                                            \
    const ptrdiff_t pfbytes = next ? nextbytes : 0;                                 \
    const ptrdiff_t pfstep = ((pfbytes / ((BH + 3) / 4) + 63) / 64) * 64;           \
    ptrdiff_t pfdone = 0;                                                           \
    if (BH <= 0)                                                                    \
        return;                                                                     \
    for (ptrdiff_t r = 0; r < BH + 2; r++) {                                        \
        ptrdiff_t i = oa + r - pt;                                                  \
        if (i >= 0 && i < H) {                                                      \
            if (mx)                                                                 \
                fc_dw_copy_row_max_##T(s + r * SW + pl, x + i * W, W, mx);          \
            else                                                                    \
                fc_dw_copy_row_##T(s + r * SW + pl, x + i * W, W);                  \
        } else                                                                        \
            memset(s + r * SW, 0, sizeof(T) * (size_t)SW);                          \
    }                                                                               \
    for (ptrdiff_t oh0 = 0; oh0 < BH; oh0 += 4) {                                   \
        int nr = BH - oh0 < 4 ? (int)(BH - oh0) : 4;                                \
        for (ptrdiff_t e = pfdone + pfstep; pfdone < pfbytes && pfdone < e; pfdone += 64) \
            FC_PREFETCH(pf + pfdone);                                               \
        for (ptrdiff_t j = 0; j < OW;) {                                            \
            ptrdiff_t left = (OW - j + V - 1) / V;                                  \
            int U = left >= 5 || left == 3 ? 3 : left == 4 ? 2 : (int)left;        \
            if (U > FC_DW_UMAX) U = FC_DW_UMAX;                                     \
            int ncols = OW - j < U * V ? (int)(OW - j) : U * V;                     \
            const T *sp = s + oh0 * SW + j;                                         \
            T *op = out + (oa + oh0) * OW + j;                                      \
            switch (nr * 4 + U) {                                                   \
            FC_DW_CASES_R(T, 1) FC_DW_CASES_R(T, 2) FC_DW_CASES_R(T, 3)             \
            FC_DW_CASES_R(T, 4)                                                     \
            default: break;                                                         \
            }                                                                       \
            j += U * V;                                                             \
        }                                                                           \
    }                                                                               \
    if (nt)                                                                         \
        FC_SFENCE();                                                                \
    if (relu)                                                                       \
        for (ptrdiff_t k = oa * OW; k < ob * OW; k++)                               \
            if (out[k] < 0) out[k] = 0;                                             \
}

FC_DEFINE_DW_PLANE(float)
FC_DEFINE_DW_PLANE(double)

/* Scratch row length for OW output columns: every vector a tile loads
 * (up to the last column's vector + 2) is inside the row. */
#define FC_DW_SW(OW, V) ((((OW) + (V) - 1) / (V)) * (V) + (V))
#define fc_dw3_sw_float(OW) FC_DW_SW(OW, FC_SLIDE_LANES_float)
#define fc_dw3_sw_double(OW) FC_DW_SW(OW, FC_SLIDE_LANES_double)

#endif
