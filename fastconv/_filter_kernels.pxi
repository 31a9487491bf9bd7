# fastconv separable filter kernels (scipy.ndimage's linear filters).
#
# Included at the end of _kernels.pxi, so compiled once per SIMD level.
#
# Every kernel filters *lines* of an array along one axis.  The boundary
# extension is an index map computed in Python: for an axis of length N and a
# window of k taps, ``idx[m]`` (m = 0 .. N + k - 2) is the input index of
# extended position m, or -1 for the constant `cval`; output i reads extended
# positions i .. i + k - 1.  Nothing is padded: a line along the contiguous
# axis is extended into a small per-thread buffer, a line along another axis
# is a list of row pointers (a row of cval for -1).
#
# Array views are (P, N, Q): P lines blocks before the axis, N the axis, Q
# the contiguous elements after it (Q == 1 for the contiguous axis).  For
# Q > 1 a unit of work computes four output rows of a block of Q columns as
# sums of whole input rows, so the inner loops run over contiguous memory
# (several neighbouring lines at once, no transposing copy) and each input
# row vector is loaded once for the four rows (fk_comb4_T).  Few columns
# (filter_narrow: an (H, W, 3) image along W) split the Q interleaved lines
# of a segment into line buffers instead, and many short contiguous lines
# (filter_short: the same image along its channels) go side by side through
# a transposed buffer; both compute each output as the contiguous lines do.
#
# Per output element the arithmetic is exactly scipy.ndimage's
# (NI_Correlate1D / NI_UniformFilter1D): symmetric weights
# ``x[c]*w[c] + (x[0] + x[k-1])*w[0] + (x[1] + x[k-2])*w[1] + ...``,
# antisymmetric weights with ``-``, otherwise ``x[k-1]*w[k-1] + x[0]*w[0] +
# x[1]*w[1] + ...``; the uniform filter's running sum ``s = x0 + ... +
# x[k-1]``, ``s += x[i+k-1] - x[i-1]``, each output ``s / k``.  Built without FMA
# (the baseline level on x86-64) the float64 results are therefore SciPy's
# bit for bit; at AVX2/AVX-512 the compiler may contract a multiply-add
# into an FMA (one rounding fewer).  Units are fixed blocks of output, each
# output element has one writer and its order does not depend on the thread
# count, so results are bitwise identical for any number of threads.

from libc.stdlib cimport malloc, free
from cython.parallel cimport parallel


cdef inline const floating *_fk_row(const floating *base, Py_ssize_t rs, Py_ssize_t j,
                                    const floating *cvrow) noexcept nogil:
    if j < 0:
        return cvrow
    return base + j * rs


cdef extern from *:
    """
    /* Register-blocked line sums of the separable filters: a block of
     * FK_NB vectors of outputs stays in registers across all taps (no sweep of the
     * destination per tap).  Per element the order is SciPy's (see the .pxi
     * comment); the scalar tail runs the same order. */
    /* fk_comb_exact_double: the same sums with no multiply-add contracted
     * into an FMA, whatever the level's flags (-mfma): SciPy's rounding per
     * product and per sum, bit for bit, for the exact integer route */
    #if defined(__clang__)
    #define FK_NOFMA_ATTR
    #define FK_NOFMA_BODY _Pragma("clang fp contract(off)")
    #elif defined(__GNUC__)
    #define FK_NOFMA_ATTR __attribute__((optimize("fp-contract=off")))
    #define FK_NOFMA_BODY
    #else   /* MSVC contracts nothing under /fp:precise */
    #define FK_NOFMA_ATTR
    #define FK_NOFMA_BODY
    #endif
    #define FK_FMA_ATTR
    #define FK_FMA_BODY
    #define FK_DEFINE(T, VT, V) FK_COMB(fk_comb_##T, T, FMA) FK_BOX(T, VT, V)
    /* s + a * b as the vector lanes compute it: where the level contracts
     * multiply-adds (-mfma; the vectors' `a += x * w` become FMAs) an
     * explicit FMA, else (the baseline level, -ffp-contract=off; the exact
     * kernel) a product and a sum.  Written `s += a * b` the scalar tails
     * were contracted for some taps and not others (GCC vectorises the
     * products of a tap loop and adds them in order), so an output computed
     * in a tail differed in the last bit from the same output computed in
     * a vector: the bits depended on the line's length, a segment's or a
     * column block's end */
    #if defined(__FMA__) && (defined(__GNUC__) || defined(__clang__))
    #define FK_MADD_FMA_double(a, b, s) __builtin_fma((a), (b), (s))
    #define FK_MADD_FMA_float(a, b, s) __builtin_fmaf((a), (b), (s))
    #else
    #define FK_MADD_FMA_double(a, b, s) ((s) + (a) * (b))
    #define FK_MADD_FMA_float(a, b, s) ((s) + (a) * (b))
    #endif
    #define FK_MADD_NOFMA_double(a, b, s) ((s) + (a) * (b))
    /* one output element q of the rows rows[0 .. k-1], SciPy's order (the
     * scalar tails of fk_comb_T and fk_comb4_T) */
    #define FK_SCALAR_SUM(T, KIND, rows, q, s)                                         \
        if (sym > 0) {                                                                 \
            s = rows[c][q] * w[c];                                                     \
            for (t = 0; t < c; t++)                                                    \
                s = FK_MADD_##KIND##_##T(rows[t][q] + rows[k - 1 - t][q], w[t], s);    \
        } else if (sym < 0) {                                                          \
            s = rows[c][q] * w[c];                                                     \
            for (t = 0; t < c; t++)                                                    \
                s = FK_MADD_##KIND##_##T(rows[t][q] - rows[k - 1 - t][q], w[t], s);    \
        } else {                                                                       \
            s = rows[k - 1][q] * w[k - 1];                                             \
            for (t = 0; t < k - 1; t++) s = FK_MADD_##KIND##_##T(rows[t][q], w[t], s); \
        }
    #define FK_COMB(NAME, T, KIND)                                                     \
    static FK_##KIND##_ATTR void NAME(const T **rows, const T *w, ptrdiff_t k, int sym, \
                                      T *dst, ptrdiff_t n)                             \
    {                                                                                  \
        FK_##KIND##_BODY                                                               \
        ptrdiff_t c = k / 2, q = 0, t;                                                 \
        FK_VECTOR_PART_##T                                                             \
        for (; q < n; q++) {                                                           \
            T s;                                                                       \
            FK_SCALAR_SUM(T, KIND, rows, q, s)                                         \
            dst[q] = s;                                                                \
        }                                                                              \
    }
    #define FK_BOX(T, VT, V)                                                           \
    static void fk_box_##T(const T **rows, ptrdiff_t k, T *dst, ptrdiff_t n,          \
                           T scale, int divide)                                        \
    {                                                                                  \
        ptrdiff_t q = 0, t;                                                            \
        T kk = (T)k;                                                                   \
        FK_BOX_VECTOR_PART_##T                                                         \
        for (; q < n; q++) {                                                           \
            T s = rows[0][q];                                                          \
            for (t = 1; t < k; t++) s += rows[t][q];                                   \
            dst[q] = divide ? s / kk : s * scale;                                      \
        }                                                                              \
    }

    #if FC_VEC
    /* vectors per block: 4 x 512-bit, 8 x 256-bit (AVX2) or 128-bit */
    #if defined(FC_NARROW)
    #define FK_NB 4
    #else
    #define FK_NB 8
    #endif
    #define FK_VEC_COMB(T, VT, V, NB)                                                  \
        for (; q + NB * V <= n; q += NB * V) {                                         \
            VT a[NB], wt;                                                              \
            const T *ra, *rb;                                                          \
            int u;                                                                     \
            if (sym != 0) {                                                            \
                ra = rows[c] + q; wt = FC_SPLAT(VT, w[c]);                             \
                for (u = 0; u < NB; u++) a[u] = FC_LOADU(VT, ra + u * V) * wt;         \
                if (sym > 0) {                                                         \
                    for (t = 0; t < c; t++) {                                          \
                        ra = rows[t] + q; rb = rows[k - 1 - t] + q;                    \
                        wt = FC_SPLAT(VT, w[t]);                                       \
                        for (u = 0; u < NB; u++)                                       \
                            a[u] += (FC_LOADU(VT, ra + u * V) + FC_LOADU(VT, rb + u * V)) * wt; \
                    }                                                                  \
                } else {                                                               \
                    for (t = 0; t < c; t++) {                                          \
                        ra = rows[t] + q; rb = rows[k - 1 - t] + q;                    \
                        wt = FC_SPLAT(VT, w[t]);                                       \
                        for (u = 0; u < NB; u++)                                       \
                            a[u] += (FC_LOADU(VT, ra + u * V) - FC_LOADU(VT, rb + u * V)) * wt; \
                    }                                                                  \
                }                                                                      \
            } else {                                                                   \
                ra = rows[k - 1] + q; wt = FC_SPLAT(VT, w[k - 1]);                     \
                for (u = 0; u < NB; u++) a[u] = FC_LOADU(VT, ra + u * V) * wt;         \
                for (t = 0; t < k - 1; t++) {                                          \
                    ra = rows[t] + q; wt = FC_SPLAT(VT, w[t]);                         \
                    for (u = 0; u < NB; u++) a[u] += FC_LOADU(VT, ra + u * V) * wt;    \
                }                                                                      \
            }                                                                          \
            for (u = 0; u < NB; u++) FC_STOREU(VT, dst + q + u * V, a[u]);             \
        }
    #define FK_VEC_BOX(T, VT, V, NB)                                                   \
        for (; q + NB * V <= n; q += NB * V) {                                         \
            VT a[NB];                                                                  \
            const T *ra = rows[0] + q;                                                 \
            int u;                                                                     \
            for (u = 0; u < NB; u++) a[u] = FC_LOADU(VT, ra + u * V);                  \
            for (t = 1; t < k; t++) {                                                  \
                ra = rows[t] + q;                                                      \
                for (u = 0; u < NB; u++) a[u] += FC_LOADU(VT, ra + u * V);             \
            }                                                                          \
            if (divide) {                                                              \
                VT kv = FC_SPLAT(VT, kk);                                              \
                for (u = 0; u < NB; u++) a[u] = a[u] / kv;                             \
            } else {                                                                   \
                VT sv = FC_SPLAT(VT, scale);                                           \
                for (u = 0; u < NB; u++) a[u] = a[u] * sv;                             \
            }                                                                          \
            for (u = 0; u < NB; u++) FC_STOREU(VT, dst + q + u * V, a[u]);             \
        }
    /* blocks of FK_NB vectors, then single vectors: a line shorter than
     * one block (100 float32 samples at 512 bits: FK_NB * 16 = 128) ran
     * wholly in the scalar tail (2-3x SciPy's time) */
    #define FK_VECTOR_PART_float FK_VEC_COMB(float, fc_vf, FC_LANES_float, FK_NB) \
        FK_VEC_COMB(float, fc_vf, FC_LANES_float, 1)
    #define FK_VECTOR_PART_double FK_VEC_COMB(double, fc_vd, FC_LANES_double, FK_NB) \
        FK_VEC_COMB(double, fc_vd, FC_LANES_double, 1)
    #define FK_BOX_VECTOR_PART_float FK_VEC_BOX(float, fc_vf, FC_LANES_float, FK_NB) \
        FK_VEC_BOX(float, fc_vf, FC_LANES_float, 1)
    #define FK_BOX_VECTOR_PART_double FK_VEC_BOX(double, fc_vd, FC_LANES_double, FK_NB) \
        FK_VEC_BOX(double, fc_vd, FC_LANES_double, 1)
    #else
    #define FK_VECTOR_PART_float
    #define FK_VECTOR_PART_double
    #define FK_BOX_VECTOR_PART_float
    #define FK_BOX_VECTOR_PART_double
    #endif
    FK_DEFINE(float, fc_vf, FC_LANES_float)
    FK_DEFINE(double, fc_vd, FC_LANES_double)
    FK_COMB(fk_comb_exact_double, double, NOFMA)

    /* fk_comb4_T: four consecutive output lines at once, output line r
     * (dst[r]) the sum over rows[r .. r + k - 1] -- a pass across lines
     * (along a non-contiguous axis), where those rows are whole input rows.
     * Each input row vector is loaded once and used by every output line of
     * the four that needs it (a window of four loaded rows slides over the
     * taps: one new load per tap and side instead of four), so a pass of k
     * taps loads about (k + 3) / 4 input vectors per output vector, not k,
     * mostly from L2 (25 taps of 2048 float32: 200 KB of rows per output
     * row).  Per element the order and the expressions are fk_comb_T's
     * (the same contractions), so the results are fk_comb_T's bit for bit.
     * AVX-512 level (4 x 2 accumulators, two windows of as many rows and a
     * weight: 25 of the 32 registers); the other levels call fk_comb_T per
     * line (below). */
    #if FC_VEC && defined(FC_NARROW)
    #define FK_NB4 2
    #define FK_LD4(VT, p) FC_LOADU(VT, p)
    #define FK_VEC_COMB4(T, VT, V, NB)                                                 \
        for (; q + NB * V <= n; q += NB * V) {                                         \
            VT a[4][NB], lo[4][NB], hi[4][NB], wt;                                     \
            int r, u;                                                                  \
            if (sym != 0) {                                                            \
                wt = FC_SPLAT(VT, w[c]);                                               \
                for (r = 0; r < 4; r++)                                                \
                    for (u = 0; u < NB; u++)                                           \
                        a[r][u] = FK_LD4(VT, rows[r + c] + q + u * V) * wt;            \
                if (c > 0) {                                                           \
                    for (r = 0; r < 4; r++)                                            \
                        for (u = 0; u < NB; u++) {                                     \
                            lo[r][u] = FK_LD4(VT, rows[r] + q + u * V);                \
                            hi[r][u] = FK_LD4(VT, rows[k - 1 + r] + q + u * V);        \
                        }                                                              \
                    for (t = 0;;) {                                                    \
                        wt = FC_SPLAT(VT, w[t]);                                       \
                        if (sym > 0) {                                                 \
                            for (r = 0; r < 4; r++)                                    \
                                for (u = 0; u < NB; u++)                               \
                                    a[r][u] += (lo[r][u] + hi[r][u]) * wt;             \
                        } else {                                                       \
                            for (r = 0; r < 4; r++)                                    \
                                for (u = 0; u < NB; u++)                               \
                                    a[r][u] += (lo[r][u] - hi[r][u]) * wt;             \
                        }                                                              \
                        if (++t >= c)                                                  \
                            break;                                                     \
                        /* lo: rows t .. t + 3; hi: rows k - 1 - t .. k + 2 - t */    \
                        for (u = 0; u < NB; u++) {                                     \
                            for (r = 0; r < 3; r++) lo[r][u] = lo[r + 1][u];           \
                            lo[3][u] = FK_LD4(VT, rows[t + 3] + q + u * V);            \
                            for (r = 3; r > 0; r--) hi[r][u] = hi[r - 1][u];           \
                            hi[0][u] = FK_LD4(VT, rows[k - 1 - t] + q + u * V);        \
                        }                                                              \
                    }                                                                  \
                }                                                                      \
            } else {                                                                   \
                wt = FC_SPLAT(VT, w[k - 1]);                                           \
                for (r = 0; r < 4; r++)                                                \
                    for (u = 0; u < NB; u++)                                           \
                        a[r][u] = FK_LD4(VT, rows[r + k - 1] + q + u * V) * wt;        \
                if (k > 1) {                                                           \
                    for (r = 0; r < 4; r++)                                            \
                        for (u = 0; u < NB; u++)                                       \
                            lo[r][u] = FK_LD4(VT, rows[r] + q + u * V);                \
                    for (t = 0;;) {                                                    \
                        wt = FC_SPLAT(VT, w[t]);                                       \
                        for (r = 0; r < 4; r++)                                        \
                            for (u = 0; u < NB; u++)                                   \
                                a[r][u] += lo[r][u] * wt;                              \
                        if (++t >= k - 1)                                              \
                            break;                                                     \
                        for (u = 0; u < NB; u++) {                                     \
                            for (r = 0; r < 3; r++) lo[r][u] = lo[r + 1][u];           \
                            lo[3][u] = FK_LD4(VT, rows[t + 3] + q + u * V);            \
                        }                                                              \
                    }                                                                  \
                }                                                                      \
            }                                                                          \
            for (r = 0; r < 4; r++)                                                    \
                for (u = 0; u < NB; u++) FC_STOREU(VT, dst[r] + q + u * V, a[r][u]);   \
        }
    #define FK_COMB4(T, VT, V)                                                         \
    static void fk_comb4_##T(const T **rows, const T *w, ptrdiff_t k, int sym,         \
                             T **dst, ptrdiff_t n)                                     \
    {                                                                                  \
        ptrdiff_t c = k / 2, q = 0, t, j;                                              \
        int r;                                                                         \
        FK_VEC_COMB4(T, VT, V, FK_NB4)                                                 \
        FK_VEC_COMB4(T, VT, V, 1)                                                      \
        for (r = 0; r < 4; r++) {                                                      \
            const T **rr = rows + r;                                                   \
            for (j = q; j < n; j++) {                                                  \
                T s;                                                                   \
                FK_SCALAR_SUM(T, FMA, rr, j, s)                                        \
                dst[r][j] = s;                                                         \
            }                                                                          \
        }                                                                              \
    }
    FK_COMB4(float, fc_vf, FC_LANES_float)
    FK_COMB4(double, fc_vd, FC_LANES_double)
    #else
    /* Other levels: the four lines one after another.  With AVX2's 16
     * registers the four-line tile keeps four accumulator chains (FMA
     * latency-bound: gaussian_filter 2048^2 float32 9.3 ms against 6.3 with
     * fk_comb_T's eight, Zen 4), and fk_comb_T over column chunks the next
     * line finds in L1 measured no faster. */
    static void fk_comb4_float(const float **rows, const float *w, ptrdiff_t k, int sym,
                               float **dst, ptrdiff_t n)
    {
        for (int r = 0; r < 4; r++) fk_comb_float(rows + r, w, k, sym, dst[r], n);
    }
    static void fk_comb4_double(const double **rows, const double *w, ptrdiff_t k, int sym,
                                double **dst, ptrdiff_t n)
    {
        for (int r = 0; r < 4; r++) fk_comb_double(rows + r, w, k, sym, dst[r], n);
    }
    #endif
    """
    void fk_comb_float(const float **rows, const float *w, Py_ssize_t k, int sym,
                       float *dst, Py_ssize_t n) noexcept nogil
    void fk_comb_double(const double **rows, const double *w, Py_ssize_t k, int sym,
                        double *dst, Py_ssize_t n) noexcept nogil
    void fk_comb_exact_double(const double **rows, const double *w, Py_ssize_t k, int sym,
                              double *dst, Py_ssize_t n) noexcept nogil
    void fk_comb4_float(const float **rows, const float *w, Py_ssize_t k, int sym,
                        float **dst, Py_ssize_t n) noexcept nogil
    void fk_comb4_double(const double **rows, const double *w, Py_ssize_t k, int sym,
                         double **dst, Py_ssize_t n) noexcept nogil
    void fk_box_float(const float **rows, Py_ssize_t k, float *dst, Py_ssize_t n,
                      float scale, int divide) noexcept nogil
    void fk_box_double(const double **rows, Py_ssize_t k, double *dst, Py_ssize_t n,
                       double scale, int divide) noexcept nogil


cdef inline void _fk_comb(const floating **rows, const floating *w, Py_ssize_t k, int sym,
                          floating *dst, Py_ssize_t n, bint exact=False) noexcept nogil:
    # exact (float64 only): no product contracted into an FMA (SciPy's bits)
    if floating is float:
        fk_comb_float(rows, w, k, sym, dst, n)
    elif exact:
        fk_comb_exact_double(rows, w, k, sym, dst, n)
    else:
        fk_comb_double(rows, w, k, sym, dst, n)


# tests: 0 runs every pass across lines one output line at a time (the
# fk_comb_T kernel), to compare the four-line kernel with
cdef int _FK_FOUR = 1


def set_four_lines(bint on):
    """Tests: whether passes across lines compute four output lines at
    once (fk_comb4_T, the default) or one at a time; returns the previous
    setting.  Internal."""
    global _FK_FOUR
    prev = bool(_FK_FOUR)
    _FK_FOUR = 1 if on else 0
    return prev


cdef inline void _fk_comb4(const floating **rows, const floating *w, Py_ssize_t k, int sym,
                           floating **dst, Py_ssize_t n) noexcept nogil:
    # four lines: dst[r] from rows[r .. r + k - 1] (fk_comb4_T); not exact
    cdef int r
    if not _FK_FOUR:
        for r in range(4):
            _fk_comb(rows + r, w, k, sym, dst[r], n)
    elif floating is float:
        fk_comb4_float(rows, w, k, sym, dst, n)
    else:
        fk_comb4_double(rows, w, k, sym, dst, n)


cdef inline void _fk_comb_rows(const floating **rows, const floating *w, Py_ssize_t k,
                               int sym, floating **dst, Py_ssize_t nr, Py_ssize_t n,
                               bint exact=False) noexcept nogil:
    # nr <= 4 consecutive output lines dst[r] from rows[r .. r + k - 1]: four
    # at once (_fk_comb4) unless fewer or exact, else one at a time
    cdef Py_ssize_t r
    if nr == 4 and not exact:
        _fk_comb4(rows, w, k, sym, dst, n)
    else:
        for r in range(nr):
            _fk_comb(rows + r, w, k, sym, dst[r], n, exact)


cdef inline void _fk_comb_along(floating *ext, Py_ssize_t off, Py_ssize_t n,
                                const Py_ssize_t *idx, Py_ssize_t m, floating cval,
                                const floating **rows, const floating *w, Py_ssize_t k,
                                int sym, floating *dst) noexcept nogil:
    # the line ext[off .. off + n) extended into ext[0 .. m) and correlated
    # along itself into dst (rows: k pointers of scratch)
    cdef Py_ssize_t t
    _fk_extend(ext, off, n, idx, m, cval)
    for t in range(k):
        rows[t] = ext + t
    _fk_comb(rows, w, k, sym, dst, n)


cdef inline void _fk_boxsum(const floating **rows, Py_ssize_t k, floating *dst,
                            Py_ssize_t n, bint divide) noexcept nogil:
    # dst[q] = (rows[0][q] + ... + rows[k-1][q]) / k (or * (1/k)), left to right
    if floating is float:
        fk_box_float(rows, k, dst, n, <float>(1.0 / k), divide)
    else:
        fk_box_double(rows, k, dst, n, 1.0 / k, divide)


cdef inline double _fk_run_seg(const double *ext, Py_ssize_t k, Py_ssize_t a, Py_ssize_t n,
                               double s, double kd, floating *dst) noexcept nogil:
    # outputs a .. a+n-1 of SciPy's running mean (double accumulator) along
    # one extended line: ext[0] holds extended position a - 1 (unread for
    # a == 0), ext[1 + j] position a + j; s is the sum of the window before
    # output a (of positions 0 .. k-1 for a == 0).  Returns the carried sum.
    cdef Py_ssize_t i
    for i in range(n):
        if a + i > 0:
            s = s + (ext[i + k] - ext[i])
        dst[i] = <floating>(s / kd)
    return s


cdef void _fk_extend(floating *ext, Py_ssize_t off, Py_ssize_t n, const Py_ssize_t *idx,
                     Py_ssize_t m, floating cval) noexcept nogil:
    # ext[off .. off+n) holds the line; fill the other positions of ext[0..m)
    cdef Py_ssize_t j, s
    for j in range(off):
        s = idx[j]
        ext[j] = cval if s < 0 else ext[off + s]
    for j in range(off + n, m):
        s = idx[j]
        ext[j] = cval if s < 0 else ext[off + s]


cdef void _fk_store(floating *p, Py_ssize_t n, int code) noexcept nogil:
    # p[i] = the value SciPy's C loops store in an integer output and read
    # back, on x86-64: truncation to a 32-bit int (INT32_MIN for NaN and
    # out of range, as cvttsd2si), then its low bits as code 1 uint8,
    # 2 int8, 3 uint16, 4 int16 (float64 only; code 0: unchanged)
    cdef Py_ssize_t i
    cdef double v
    cdef int t
    if floating is float or code == 0:
        return
    for i in range(n):
        v = p[i]
        if v >= -2147483648.0 and v < 2147483648.0:
            t = <int>v
        else:
            t = -2147483647 - 1
        if code == 1:
            p[i] = <double>(<unsigned char>t)
        elif code == 2:
            p[i] = <double>(<signed char>t)
        elif code == 3:
            p[i] = <double>(<unsigned short>t)
        else:
            p[i] = <double>(<short>t)


# Outputs per unit of a contiguous-line pass (Q == 1): long lines run in
# segments, so one long line still uses every thread and the per-thread
# buffers stay small (whole-line buffers of a 200 000-sample float64 line,
# 3.2 MB, faulted their pages in on every call without glibc's malloc
# tuning: laplace 0.94x SciPy).
cdef enum:
    _FK_SEG = 4096


def line_segment():
    """Outputs per unit of filter_lines along contiguous lines (Q == 1; the
    running mean excepted).  Internal."""
    return _FK_SEG


cdef inline void _fk_read_seg(const floating *x, Py_ssize_t N, const Py_ssize_t *idx,
                              Py_ssize_t off, Py_ssize_t j0, Py_ssize_t j1, floating cval,
                              floating *dst) noexcept nogil:
    # dst[j - j0] = extended position j of the line x (j0 <= j < j1): the
    # positions inside the line copied at once, the others by idx
    cdef Py_ssize_t j, src, a = off, b = off + N
    if a < j0:
        a = j0
    if b > j1:
        b = j1
    if a > b:
        a = b
    for j in range(j0, a):
        src = idx[j]
        dst[j - j0] = cval if src < 0 else x[src]
    if b > a:
        memcpy(dst + (a - j0), x + (a - off), (b - a) * sizeof(floating))
    for j in range(b if b > j0 else j0, j1):
        src = idx[j]
        dst[j - j0] = cval if src < 0 else x[src]


# Box sums across fewer than _FK_BOX_DEFER columns (filter_lines, Q > 1) keep
# the running sums of up to _FK_BOXCH values and divide them in one loop.
cdef enum:
    _FK_BOX_DEFER = 5
    _FK_BOXCH = 4096


cdef inline void _fk_box_deferred(const floating *base, Py_ssize_t Q, const Py_ssize_t *idx,
                                  Py_ssize_t k, Py_ssize_t s0, Py_ssize_t s1, Py_ssize_t q0,
                                  Py_ssize_t qw, bint whole, const floating *cvrow,
                                  double *acc, double *dt, double kd,
                                  floating *out) noexcept nogil:
    # rows [s0, s1) of columns [q0, q0 + qw) of the running mean whose sum
    # for row s0 is in acc: acc += (entering - leaving) row by row (SciPy's
    # order), each sum kept in dt, then out = sum / kd for the chunk (whole:
    # the rows are contiguous in out, one loop for the chunk)
    cdef Py_ssize_t crow = _FK_BOXCH // qw, i, ie, ii, q, n, j, first
    cdef double a0, a1
    cdef const floating *ra
    cdef const floating *rb
    cdef floating *o
    i = s0
    while i < s1:
        ie = i + crow if i + crow < s1 else s1
        # row s0's sums are acc's as they stand; the sums run in locals
        # (in acc, each row's sum waited on the last one's store)
        first = i + 1 if i == s0 else i
        q = 0
        while q < qw:
            a0 = acc[q]
            a1 = acc[q + 1] if q + 1 < qw else 0.0
            n = q
            if first > i:
                dt[n] = a0
                if q + 1 < qw:
                    dt[n + 1] = a1
                n = n + qw
            if q + 1 < qw:
                for ii in range(first, ie):
                    ra = _fk_row(base, Q, idx[ii - 1 + k], cvrow) + q0 + q
                    rb = _fk_row(base, Q, idx[ii - 1], cvrow) + q0 + q
                    a0 = a0 + (<double>ra[0] - <double>rb[0])
                    a1 = a1 + (<double>ra[1] - <double>rb[1])
                    dt[n] = a0
                    dt[n + 1] = a1
                    n = n + qw
                acc[q + 1] = a1
            else:
                for ii in range(first, ie):
                    ra = _fk_row(base, Q, idx[ii - 1 + k], cvrow) + q0 + q
                    rb = _fk_row(base, Q, idx[ii - 1], cvrow) + q0 + q
                    a0 = a0 + (<double>ra[0] - <double>rb[0])
                    dt[n] = a0
                    n = n + qw
            acc[q] = a0
            q = q + 2
        n = (ie - i) * qw
        if whole:
            o = out + i * Q
            for j in range(n):
                o[j] = <floating>(dt[j] / kd)
        else:
            for j in range(n):
                dt[j] = dt[j] / kd
            for ii in range(ie - i):
                o = out + (i + ii) * Q + q0
                for q in range(qw):
                    o[q] = <floating>dt[ii * qw + q]
        i = ie


def filter_lines(const floating[:, :, ::1] x, floating[:, :, ::1] out,
                 const floating[::1] w, const Py_ssize_t[::1] idx, Py_ssize_t off,
                 int sym, int box, int running, floating cval, Py_ssize_t qblock,
                 Py_ssize_t strip, int nthreads, bint exact=False, int store=0):
    """One separable pass along axis 1 of x (P, N, Q) into out.  Internal.

    exact: float64 correlations with no multiply-add contracted into an FMA
    (at every level: SciPy's rounding, bit for bit, as the baseline kernels).
    store (float64, x86-64 conversions): every output replaced by the value
    SciPy stores in an integer output and the next pass reads (see
    _fk_store), in the pass's own sweep.

    box = 0: correlation with w (sym 1 symmetric, -1 antisymmetric, 0
    general); box = 1: uniform filter of size len(w) (w unused otherwise):
    along the contiguous axis (Q == 1) SciPy's running mean (double
    accumulator) when `running`, else a direct sum; along other axes the
    running mean restarted every `strip` rows (strip >= N: SciPy's order).  off =
    k//2 + origin: the extended position of input index 0.  Units: (p, row,
    block of qblock columns) for Q > 1 correlations, (p, block of qblock
    columns, strip) for Q > 1 uniform, (p, row) for Q == 1; rows vary fastest.
    """
    cdef Py_ssize_t P = x.shape[0], N = x.shape[1], Q = x.shape[2]
    cdef Py_ssize_t k = w.shape[0], m = N + k - 1
    cdef Py_ssize_t nqb, nstrips, nunits, u, r, p, i, qb, q0, q1, t, s0, s1, q, j, jj, nr
    cdef const floating **rows
    cdef floating **dsts
    cdef floating *buf
    cdef double *acc
    cdef double *dt
    cdef double kd = <double>k
    cdef floating *cvrow
    cdef const floating *ra
    cdef const floating *rb
    cdef floating *orow
    if P * N * Q == 0:
        return
    if qblock < 1:
        qblock = Q
    nqb = (Q + qblock - 1) // qblock
    if strip < 1 or strip > N:
        strip = N
    nstrips = (N + strip - 1) // strip
    # lines handed out per grab: one short line per grab left the threads
    # contending for the shared counter (128 x 128 x 3 float32 along the
    # last axis, 15 taps, 2 threads: 1.3 ms against SciPy's 0.28, Intel
    # Xeon); ~4 KB of line per grab
    cdef Py_ssize_t grab = 1
    # Q == 1: units of one segment of a line (a whole line for the running
    # mean, whose sum is sequential: a segment at a time through the buffer)
    cdef Py_ssize_t seg = N if N < _FK_SEG else _FK_SEG
    cdef Py_ssize_t nseg = 1 if box and running else (N + seg - 1) // seg
    cdef Py_ssize_t a, b, lbuf
    cdef double s
    lbuf = seg + k if Q == 1 else 0
    if Q == 1:
        nunits = P * nseg
        grab = 4096 // (sizeof(floating) * (2 * seg + k))
        if grab > nunits // (8 * nthreads):
            grab = nunits // (8 * nthreads)
        if grab < 1:
            grab = 1
    elif box:
        nunits = P * nqb * nstrips
    else:
        # four output rows per unit (_fk_comb4), the last group shorter
        nunits = P * ((N + 3) // 4) * nqb
    with nogil, parallel(num_threads=nthreads, use_threads_if=nthreads > 1):
        rows = <const floating **>malloc(sizeof(floating *) * (k + 4))
        dsts = <floating **>malloc(sizeof(floating *) * 4)
        buf = <floating *>malloc(sizeof(floating) * (lbuf + Q + qblock + 1))
        acc = <double *>malloc(sizeof(double) * (lbuf + qblock + 1))
        dt = <double *>malloc(sizeof(double) * _FK_BOXCH) if box and Q > 1 else NULL
        cvrow = buf + lbuf
        for jj in range(Q):
            cvrow[jj] = cval
        for u in prange(nunits, schedule='dynamic', chunksize=grab):
            if Q == 1 and box and running:
                # running mean (SciPy's arithmetic) along the whole line in
                # double, `seg` outputs at a time, the sum carried over:
                # acc[0] holds extended position a - 1, acc[1 + j] a + j
                p = u
                orow = &out[p, 0, 0]
                s = 0.0
                _fk_read_seg(&x[p, 0, 0], N, &idx[0], off, 0, k, cval, buf)
                for t in range(k):
                    s = s + <double>buf[t]
                a = 0
                while a < N:
                    b = a + seg if a + seg < N else N
                    j = a - 1 if a > 0 else 0
                    _fk_read_seg(&x[p, 0, 0], N, &idx[0], off, j, b + k - 1, cval, buf)
                    for t in range(b + k - 1 - j):
                        acc[t + (j - a + 1)] = buf[t]
                    s = _fk_run_seg(acc, k, a, b - a, s, kd, orow + a)
                    _fk_store(orow + a, b - a, store)
                    a = b
            elif Q == 1:
                # a segment [a, b) of the contiguous line p
                p = u // nseg
                a = (u % nseg) * seg
                b = a + seg if a + seg < N else N
                orow = &out[p, 0, 0] + a
                _fk_read_seg(&x[p, 0, 0], N, &idx[0], off, a, b + k - 1, cval, buf)
                for t in range(k):
                    rows[t] = buf + t
                if box:
                    _fk_boxsum(rows, k, orow, b - a, True)
                else:
                    _fk_comb(rows, &w[0], k, sym, orow, b - a, exact)
                _fk_store(orow, b - a, store)
            elif box:
                r = u
                qb = r % nqb
                r = r // nqb
                s0 = (r % nstrips) * strip
                p = r // nstrips
                s1 = s0 + strip
                if s1 > N:
                    s1 = N
                q0 = qb * qblock
                q1 = q0 + qblock
                if q1 > Q:
                    q1 = Q
                for q in range(q1 - q0):
                    acc[q] = 0.0
                for t in range(k):
                    ra = _fk_row(&x[p, 0, 0], Q, idx[s0 + t], cvrow) + q0
                    for q in range(q1 - q0):
                        acc[q] = acc[q] + ra[q]
                if q1 - q0 < _FK_BOX_DEFER:
                    # few columns: the sums run in registers and those of
                    # _FK_BOXCH / width rows are divided in one vector loop
                    # (below, each row's sum waited on the previous row's
                    # store to acc, and each quotient was a scalar division:
                    # float64 256 x 256 x 2 along axis 1, 15 taps, 206 ->
                    # 98 us a pass, Zen 5); the same quotients
                    _fk_box_deferred(&x[p, 0, 0], Q, &idx[0], k, s0, s1, q0, q1 - q0,
                                     q1 - q0 == Q, cvrow, acc, dt, kd, &out[p, 0, 0])
                else:
                    orow = &out[p, s0, q0]
                    for q in range(q1 - q0):
                        orow[q] = <floating>(acc[q] / kd)
                    for i in range(s0 + 1, s1):
                        ra = _fk_row(&x[p, 0, 0], Q, idx[i - 1 + k], cvrow) + q0
                        rb = _fk_row(&x[p, 0, 0], Q, idx[i - 1], cvrow) + q0
                        orow = &out[p, i, q0]
                        for q in range(q1 - q0):
                            acc[q] = acc[q] + (<double>ra[q] - <double>rb[q])
                            orow[q] = <floating>(acc[q] / kd)
                if store and q1 - q0 == Q:
                    # whole rows: one contiguous block
                    _fk_store(&out[p, s0, 0], (s1 - s0) * Q, store)
                elif store:
                    for i in range(s0, s1):
                        _fk_store(&out[p, i, q0], q1 - q0, store)
            else:
                # rows fastest: the k row blocks of a unit are mostly the
                # previous unit's, still in cache
                r = u
                i = (r % ((N + 3) // 4)) * 4
                r = r // ((N + 3) // 4)
                qb = r % nqb
                p = r // nqb
                q0 = qb * qblock
                q1 = q0 + qblock
                if q1 > Q:
                    q1 = Q
                nr = N - i if N - i < 4 else 4
                for t in range(k + nr - 1):
                    rows[t] = _fk_row(&x[p, 0, 0], Q, idx[i + t], cvrow) + q0
                for j in range(nr):
                    dsts[j] = &out[p, i + j, q0]
                _fk_comb_rows(rows, &w[0], k, sym, dsts, nr, q1 - q0, exact)
                for j in range(nr):
                    _fk_store(dsts[j], q1 - q0, store)
        free(dsts)
        free(acc)
        free(dt)
        free(buf)
        free(<void *>rows)


cdef inline void _fk_run_cols(const floating *buf, Py_ssize_t G, Py_ssize_t n, Py_ssize_t k,
                              Py_ssize_t N, double kd, double *acc,
                              floating *res) noexcept nogil:
    # SciPy's running mean (double sum, _fk_run_seg's arithmetic) along n
    # lines side by side as columns: extended position j of line g at
    # buf[j * G + g], output i of line g to res[i * G + g]
    cdef Py_ssize_t g, t, i
    for g in range(n):
        acc[g] = 0.0
    for t in range(k):
        for g in range(n):
            acc[g] = acc[g] + <double>buf[t * G + g]
    for g in range(n):
        res[g] = <floating>(acc[g] / kd)
    for i in range(1, N):
        for g in range(n):
            acc[g] = acc[g] + (<double>buf[(i - 1 + k) * G + g] - <double>buf[(i - 1) * G + g])
            res[i * G + g] = <floating>(acc[g] / kd)


def filter_short(const floating[:, ::1] x, floating[:, ::1] out, const floating[::1] w,
                 const Py_ssize_t[::1] idx, int sym, int box, int running, floating cval,
                 Py_ssize_t group, int nthreads, bint exact=False, int store=0):
    """A pass along the short contiguous lines of x (P, N) into out (an
    (H, W, 3) image along its channels).  Internal.

    A unit is `group` consecutive lines, read (extended by idx) into a
    buffer transposed, extended position j of line g at buf[j * group + g],
    so each output position is one sum across the lines as columns
    (_fk_comb with w and sym, box: _fk_boxsum, or with `running` SciPy's
    running mean), then written back.  Each output is the expression the
    contiguous-line kernel computes for the line (filter_lines, Q == 1), so
    the bits depend on neither the group nor the thread count.  (The route
    it replaces transposed the whole array into a new one and back: three
    arrays of the input's size, 512 x 512 x 3 float64 along the channels
    6.7 ms against SciPy's 3.9, mostly their pages faulting in.)
    """
    cdef Py_ssize_t P = x.shape[0], N = x.shape[1]
    cdef Py_ssize_t k = w.shape[0], m = N + k - 1
    cdef Py_ssize_t G = group if group > 1 else 1
    cdef Py_ssize_t ng, u, p, n, g, j, i, t, src, grab
    cdef const floating **rows
    cdef floating *buf
    cdef floating *res
    cdef double *acc
    cdef double kd = <double>k
    if P * N == 0:
        return
    running = running and box
    ng = (P + G - 1) // G
    # ~2048 outputs per grab, at least eight grabs per thread
    grab = 2048 // (G * N)
    if grab > ng // (8 * nthreads):
        grab = ng // (8 * nthreads)
    if grab < 1:
        grab = 1
    with nogil, parallel(num_threads=nthreads, use_threads_if=nthreads > 1):
        rows = <const floating **>malloc(sizeof(floating *) * k)
        buf = <floating *>malloc(sizeof(floating) * (m + N) * G)
        res = buf + m * G
        acc = <double *>malloc(sizeof(double) * G)
        for u in prange(ng, schedule='dynamic', chunksize=grab):
            p = u * G
            n = P - p if P - p < G else G
            for g in range(n):
                for j in range(m):
                    src = idx[j]
                    buf[j * G + g] = cval if src < 0 else x[p + g, src]
            if running:
                _fk_run_cols(buf, G, n, k, N, kd, acc, res)
            else:
                for i in range(N):
                    for t in range(k):
                        rows[t] = buf + (i + t) * G
                    if box:
                        _fk_boxsum(rows, k, res + i * G, n, True)
                    else:
                        _fk_comb(rows, &w[0], k, sym, res + i * G, n, exact)
            for i in range(N):
                _fk_store(res + i * G, n, store)
            for g in range(n):
                for i in range(N):
                    out[p + g, i] = res[i * G + g]
        free(acc)
        free(buf)
        free(<void *>rows)


cdef inline void _fk_deal(const floating *r, Py_ssize_t Q, floating *dst,
                          Py_ssize_t L) noexcept nogil:
    # dst[q * L] = r[q] for q < Q: one row's samples to the Q line buffers
    # (2-4 spelled out: a loop of 3 iterations cost more than its work)
    cdef Py_ssize_t q
    if Q == 2:
        dst[0] = r[0]
        dst[L] = r[1]
    elif Q == 3:
        dst[0] = r[0]
        dst[L] = r[1]
        dst[2 * L] = r[2]
    elif Q == 4:
        dst[0] = r[0]
        dst[L] = r[1]
        dst[2 * L] = r[2]
        dst[3 * L] = r[3]
    else:
        for q in range(Q):
            dst[q * L] = r[q]


cdef inline void _fk_undeal(const floating *src, Py_ssize_t Q, Py_ssize_t S,
                            floating *o) noexcept nogil:
    # o[q] = src[q * S] for q < Q: one output row from the Q line results
    cdef Py_ssize_t q
    if Q == 2:
        o[0] = src[0]
        o[1] = src[S]
    elif Q == 3:
        o[0] = src[0]
        o[1] = src[S]
        o[2] = src[2 * S]
    elif Q == 4:
        o[0] = src[0]
        o[1] = src[S]
        o[2] = src[2 * S]
        o[3] = src[3 * S]
    else:
        for q in range(Q):
            o[q] = src[q * S]


def filter_narrow(const floating[:, :, ::1] x, floating[:, :, ::1] out,
                  const floating[::1] w, const Py_ssize_t[::1] idx, int sym, floating cval,
                  Py_ssize_t seg, int nthreads, bint exact=False, int store=0, int box=0,
                  int running=0):
    """A pass along axis 1 of x (P, N, Q) with few columns Q (an (H, W, 3)
    image along W: lines interleaved Q apart) into out.  Internal.

    A unit is a segment of at most `seg` outputs of the Q lines of one p:
    its rows (extended by idx, cval for -1) are read once and split into Q
    contiguous line buffers, each filtered along itself as a contiguous
    line is (_fk_comb with w and sym; box: _fk_boxsum of len(w) taps, or
    with `running` SciPy's running mean along the whole line, a unit then
    being all Q lines of one p, `seg` outputs at a time, the sums carried),
    then interleaved into out.  The rows route of filter_lines ran four
    output rows of Q columns per unit: for Q = 3 a handful of outputs per
    unit and per grab of the shared counter (uint8 or float64 512 x 512 x 3
    along W 0.33-0.43x SciPy).  Each output is the expression the
    contiguous lines compute (and, for correlations, the rows route: fk_comb4_T
    and fk_comb_T agree per element), so the bits depend on neither seg nor
    the thread count; exact and store as filter_lines.
    """
    cdef Py_ssize_t P = x.shape[0], N = x.shape[1], Q = x.shape[2]
    cdef Py_ssize_t k = w.shape[0]
    cdef Py_ssize_t nseg, nunits, u, p, a, b, n, t, q, i, src, L, LA, j0
    cdef const floating **rows
    cdef floating *ext
    cdef floating *res
    cdef double *acc
    cdef double *sq
    cdef double kd = <double>k
    cdef const floating *r
    if P * N * Q == 0:
        return
    if seg < 1 or seg > N:
        seg = N
    nseg = (N + seg - 1) // seg
    running = running and box
    nunits = P if running else P * nseg
    # units per grab of the shared counter: ~2048 outputs (short axes, e.g.
    # (n, 2, 3) along axis 1, made units of a few outputs), at least eight
    # grabs per thread
    cdef Py_ssize_t grab = 2048 // ((N if N < seg else seg) * Q)
    if grab > nunits // (8 * nthreads):
        grab = nunits // (8 * nthreads)
    if grab < 1:
        grab = 1
    L = seg + k - 1
    LA = seg + k
    with nogil, parallel(num_threads=nthreads, use_threads_if=nthreads > 1):
        rows = <const floating **>malloc(sizeof(floating *) * k)
        ext = <floating *>malloc(sizeof(floating) * (Q * L + Q * seg))
        res = ext + Q * L
        acc = <double *>malloc(sizeof(double) * (Q * LA + Q if running else 1))
        sq = acc + Q * LA
        for u in prange(nunits, schedule='dynamic', chunksize=grab):
            if running:
                # SciPy's running mean of the Q lines of p, seg outputs at a
                # time: acc[q * LA] holds position a - 1, acc[q * LA + 1 + j]
                # position a + j (as _fk_run_seg reads them)
                p = u
                for q in range(Q):
                    sq[q] = 0.0
                for t in range(k):
                    src = idx[t]
                    if src < 0:
                        for q in range(Q):
                            sq[q] = sq[q] + <double>cval
                    else:
                        r = &x[p, src, 0]
                        for q in range(Q):
                            sq[q] = sq[q] + <double>r[q]
                a = 0
                while a < N:
                    b = a + seg if a + seg < N else N
                    n = b - a
                    j0 = a - 1 if a > 0 else 0
                    for t in range(j0, b + k - 1):
                        src = idx[t]
                        if src < 0:
                            for q in range(Q):
                                acc[q * LA + t - a + 1] = <double>cval
                        else:
                            r = &x[p, src, 0]
                            for q in range(Q):
                                acc[q * LA + t - a + 1] = <double>r[q]
                    for q in range(Q):
                        sq[q] = _fk_run_seg(acc + q * LA, k, a, n, sq[q], kd, res + q * seg)
                        _fk_store(res + q * seg, n, store)
                    for i in range(n):
                        _fk_undeal(res + i, Q, seg, &out[p, a + i, 0])
                    a = b
            else:
                p = u // nseg
                a = (u % nseg) * seg
                b = a + seg if a + seg < N else N
                n = b - a
                for t in range(n + k - 1):
                    src = idx[a + t]
                    if src < 0:
                        for q in range(Q):
                            ext[q * L + t] = cval
                    else:
                        _fk_deal(&x[p, src, 0], Q, ext + t, L)
                for q in range(Q):
                    for t in range(k):
                        rows[t] = ext + q * L + t
                    if box:
                        _fk_boxsum(rows, k, res + q * seg, n, True)
                    else:
                        _fk_comb(rows, &w[0], k, sym, res + q * seg, n, exact)
                    _fk_store(res + q * seg, n, store)
                for i in range(n):
                    _fk_undeal(res + i, Q, seg, &out[p, a + i, 0])
        free(acc)
        free(ext)
        free(<void *>rows)


ctypedef fused fk_small_int:
    unsigned char
    signed char
    unsigned short
    short


cdef void _fk_store_int(const double *src, fk_small_int *dst, Py_ssize_t n) noexcept nogil:
    # SciPy's store of a float64 result in an integer output on x86-64 (C's
    # cast: truncation to a 32-bit int, INT32_MIN for NaN and out of range,
    # as cvttsd2si, then its low bits), the values _fk_store leaves
    cdef Py_ssize_t i
    cdef double v
    cdef int t
    for i in range(n):
        v = src[i]
        if v >= -2147483648.0 and v < 2147483648.0:
            t = <int>v
        else:
            t = -2147483647 - 1
        dst[i] = <fk_small_int>t


cdef inline void _fk_read_int(const fk_small_int *x, Py_ssize_t N, const Py_ssize_t *idx,
                              Py_ssize_t off, Py_ssize_t j0, Py_ssize_t j1, double cval,
                              double *dst) noexcept nogil:
    # dst[j - j0] = extended position j of the line x (j0 <= j < j1): the
    # positions inside the line copied in one tight loop, the others by idx
    cdef Py_ssize_t j, src, a = off, b = off + N
    if a < j0:
        a = j0
    if b > j1:
        b = j1
    if a > b:
        a = b
    for j in range(j0, a):
        src = idx[j]
        dst[j - j0] = cval if src < 0 else <double>x[src]
    for j in range(a, b):
        dst[j - j0] = <double>x[j - off]
    for j in range(b if b > j0 else j0, j1):
        src = idx[j]
        dst[j - j0] = cval if src < 0 else <double>x[src]


def filter_lines_int(const fk_small_int[:, ::1] x, fk_small_int[:, ::1] out,
                     const double[::1] w, const Py_ssize_t[::1] idx, Py_ssize_t off,
                     int sym, int box, double cval, Py_ssize_t seg, Py_ssize_t group,
                     int nthreads):
    """One pass along the contiguous axis of the integer lines x (P, N) into
    out, of the same dtype (x86-64).  Internal.

    scipy.ndimage's arithmetic and stores: each line read into a float64
    buffer, extended, correlated with w (sym as filter_lines) with no
    multiply-add contracted, or (box) SciPy's running mean of len(w) taps,
    then stored as SciPy's C cast does (see _fk_store_int).  The integer
    values are read and written here, so the array is never converted to
    float64 as a whole (a float64 copy, a float64 result and the final cast
    moved 16 times the bytes of a uint8 image).

    Units of work: with group > 1 (short lines), `group` lines side by side
    in a transposed buffer (the taps of every output in the same order, run
    across the lines as columns); else a segment of at most `seg` outputs of
    one line, so a few long lines still use every thread (box: a whole line,
    the running sum being sequential, `seg` outputs at a time through a
    buffer of that size).  Each output is one expression whatever
    the unit, so results do not depend on seg, group or the thread count.
    """
    cdef Py_ssize_t P = x.shape[0], N = x.shape[1]
    cdef Py_ssize_t k = w.shape[0], m = N + k - 1
    cdef Py_ssize_t p, j, t, g, i, u, a, b, n, src, grab, nseg, nunits, G, ng
    cdef double *buf
    cdef double *res
    cdef double *acc
    cdef const double **rows
    cdef double kd = <double>k
    cdef double s
    if P * N == 0:
        return
    if seg < 1 or seg > N:
        seg = N
    nseg = 1 if box else (N + seg - 1) // seg
    G = group if group > 1 else 1
    if G > 1:
        ng = (P + G - 1) // G
        nunits = ng
        grab = 1
    else:
        nunits = P * nseg
        # ~4 KB of line per grab (see filter_lines)
        grab = 4096 // (sizeof(double) * (seg + k - 1 + seg))
        if grab > nunits // (8 * nthreads):
            grab = nunits // (8 * nthreads)
        if grab < 1:
            grab = 1
    with nogil, parallel(num_threads=nthreads, use_threads_if=nthreads > 1):
        if G > 1:
            buf = <double *>malloc(sizeof(double) * (m + N + 1) * G)
            res = buf + m * G
            acc = res + N * G
        else:
            buf = <double *>malloc(sizeof(double) * (seg + k + seg))
            res = buf + seg + k
            acc = NULL
        rows = <const double **>malloc(sizeof(double *) * k)
        for u in prange(nunits, schedule='dynamic', chunksize=grab):
            if G > 1:
                p = u * G
                n = P - p if P - p < G else G
                # extended position j of line g at buf[j * G + g]
                for g in range(n):
                    for j in range(m):
                        src = idx[j]
                        buf[j * G + g] = cval if src < 0 else <double>x[p + g, src]
                if box:
                    # SciPy's running sum per line, the lines as columns
                    _fk_run_cols(buf, G, n, k, N, kd, acc, res)
                else:
                    for i in range(N):
                        for t in range(k):
                            rows[t] = buf + (i + t) * G
                        _fk_comb(rows, &w[0], k, sym, res + i * G, n, True)
                for g in range(n):
                    for i in range(N):
                        _fk_store_int(res + i * G + g, &out[p + g, i], 1)
            elif box:
                # SciPy's running sum along the whole line, `seg` outputs at
                # a time through the buffer (the sum carried over): buf[0]
                # holds extended position a - 1, buf[1 + j] position a + j
                p = u
                s = 0.0
                for t in range(k):
                    src = idx[t]
                    s = s + (cval if src < 0 else <double>x[p, src])
                a = 0
                while a < N:
                    b = a + seg if a + seg < N else N
                    j = a - 1 if a > 0 else 0
                    _fk_read_int(&x[p, 0], N, &idx[0], off, j, b + k - 1, cval,
                                 buf + (j - a + 1))
                    s = _fk_run_seg(buf, k, a, b - a, s, kd, res)
                    _fk_store_int(res, &out[p, a], b - a)
                    a = b
            else:
                p = u // nseg
                a = (u % nseg) * seg
                b = a + seg if a + seg < N else N
                # extended positions a .. b + k - 2 of the line
                _fk_read_int(&x[p, 0], N, &idx[0], off, a, b + k - 1, cval, buf)
                for t in range(k):
                    rows[t] = buf + t
                _fk_comb(rows, &w[0], k, sym, res, b - a, True)
                _fk_store_int(res, &out[p, a], b - a)
        free(<void *>rows)
        free(buf)


def filter_fused(const floating[:, :, ::1] x, floating[:, :, ::1] out,
                 const floating[::1] wv, const Py_ssize_t[::1] idxv, int symv,
                 const floating[::1] wh, const Py_ssize_t[::1] idxh, Py_ssize_t offh,
                 int symh, int box, floating cvalv, floating cvalh, Py_ssize_t strip,
                 int nthreads):
    """Two passes in one sweep over x (P, H, W): along axis 1 (weights wv,
    index map idxv) then along the contiguous axis 2 (wh, idxh, offh).
    Internal.

    Each output row's axis-1 result is computed into the middle of a
    per-thread line buffer (it never goes to memory), extended, and filtered
    along the row into `out`.  box = 1: uniform filters (sizes len(wv),
    len(wh)); axis 1 as a running sum in double restarted every `strip`
    rows and scaled by 1/k, axis 2 as a direct sum scaled by 1/k (one
    rounding away from SciPy's divisions).  Units: (p, strip of rows).
    """
    cdef Py_ssize_t P = x.shape[0], H = x.shape[1], W = x.shape[2]
    cdef Py_ssize_t kv = wv.shape[0], kh = wh.shape[0], m = W + kh - 1
    cdef Py_ssize_t nstrips, nunits, u, p, i, i0, i1, t, q, jj, r
    cdef const floating **rows
    cdef floating **lines
    cdef floating *ext
    cdef floating *cvrow
    cdef double *acc
    cdef double invk = 1.0 / <double>kv
    cdef const floating *ra
    cdef const floating *rb
    cdef floating *line
    if P * H * W == 0:
        return
    if strip < 1 or strip > H:
        strip = H
    nstrips = (H + strip - 1) // strip
    nunits = P * nstrips
    with nogil, parallel(num_threads=nthreads, use_threads_if=nthreads > 1):
        rows = <const floating **>malloc(sizeof(floating *) * (kv + kh + 4))
        lines = <floating **>malloc(sizeof(floating *) * 4)
        # four extended line buffers (the correlations' four rows at once)
        ext = <floating *>malloc(sizeof(floating) * (4 * m + W + 1))
        acc = <double *>malloc(sizeof(double) * (W + 1))
        cvrow = ext + 4 * m
        for jj in range(W):
            cvrow[jj] = cvalv
        for jj in range(4):
            lines[jj] = ext + jj * m + offh
        for u in prange(nunits, schedule='dynamic'):
            p = u // nstrips
            i0 = (u % nstrips) * strip
            i1 = i0 + strip
            if i1 > H:
                i1 = H
            line = ext + offh
            i = i0
            while not box and i + 4 <= i1:
                # correlations: four output rows per step, each input row
                # vector loaded once for the four (_fk_comb4)
                for t in range(kv + 3):
                    rows[t] = _fk_row(&x[p, 0, 0], W, idxv[i + t], cvrow)
                _fk_comb4(rows, &wv[0], kv, symv, lines, W)
                for r in range(4):
                    _fk_comb_along(ext + r * m, offh, W, &idxh[0], m, cvalh, rows, &wh[0], kh,
                                   symh, &out[p, i + r, 0])
                i = i + 4
            i0 = i
            for i in range(i0, i1):
                if box:
                    if i == i0:
                        for q in range(W):
                            acc[q] = 0.0
                        for t in range(kv):
                            ra = _fk_row(&x[p, 0, 0], W, idxv[i0 + t], cvrow)
                            for q in range(W):
                                acc[q] = acc[q] + ra[q]
                        for q in range(W):
                            line[q] = <floating>(acc[q] * invk)
                    else:
                        ra = _fk_row(&x[p, 0, 0], W, idxv[i - 1 + kv], cvrow)
                        rb = _fk_row(&x[p, 0, 0], W, idxv[i - 1], cvrow)
                        for q in range(W):
                            acc[q] = acc[q] + (<double>ra[q] - <double>rb[q])
                            line[q] = <floating>(acc[q] * invk)
                else:
                    for t in range(kv):
                        rows[t] = _fk_row(&x[p, 0, 0], W, idxv[i + t], cvrow)
                    _fk_comb(rows, &wv[0], kv, symv, line, W)
                _fk_extend(ext, offh, W, &idxh[0], m, cvalh)
                for t in range(kh):
                    rows[t] = ext + t
                if box:
                    _fk_boxsum(rows, kh, &out[p, i, 0], W, False)
                else:
                    _fk_comb(rows, &wh[0], kh, symh, &out[p, i, 0], W)
        free(acc)
        free(ext)
        free(lines)
        free(<void *>rows)


def filter_fused3(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out,
                  const floating[::1] wd, const Py_ssize_t[::1] idxd, int symd,
                  const floating[::1] wv, const Py_ssize_t[::1] idxv, int symv,
                  const floating[::1] wh, const Py_ssize_t[::1] idxh, Py_ssize_t offh,
                  int symh, floating cvald, floating cvalv, floating cvalh, int nthreads,
                  Py_ssize_t group=1):
    """Three correlation passes in one sweep over x (P, D, H, W): along
    axis 1 (wd, idxd), axis 2 (wv, idxv), then the contiguous axis 3 (wh,
    idxh, offh).  Internal.

    Unit: `group` output planes (p, d .. d + group - 1; 1 or 4: the caller
    sizes group * H * W to stay in cache).  Their axis-1 result is computed
    row by row into per-thread plane buffers (four planes at once: each
    input row loaded once for the four, _fk_comb4), then each output row
    of a plane is the axis-2 correlation of its buffer's rows into a line
    buffer, extended and filtered along the row into `out` (as
    :func:`filter_fused`).  Neither intermediate goes to
    memory.  Per element the order is SciPy's pass after pass.
    """
    cdef Py_ssize_t P = x.shape[0], D = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t kd = wd.shape[0], kv = wv.shape[0], kh = wh.shape[0]
    cdef Py_ssize_t m = W + kh - 1, HW = H * W
    cdef Py_ssize_t G = 4 if group >= 4 else 1
    cdef Py_ssize_t ngroups = (D + G - 1) // G
    cdef Py_ssize_t nunits = P * ngroups, u, p, d, d0, nd, h, i, t, jj, s, nl, r
    cdef floating *pl
    cdef const floating **rows
    cdef floating **lines
    cdef floating *plane
    cdef floating *ext
    cdef floating *cvd
    cdef floating *cvv
    if nunits == 0 or HW == 0:
        return
    with nogil, parallel(num_threads=nthreads, use_threads_if=nthreads > 1):
        rows = <const floating **>malloc(sizeof(floating *) * (kd + kv + kh + 4))
        # lines[0 .. 3]: the four extended line buffers; [4 .. 7]: plane rows
        lines = <floating **>malloc(sizeof(floating *) * 8)
        plane = <floating *>malloc(sizeof(floating) * (G * HW + 4 * m + 2 * W + 1))
        ext = plane + G * HW
        cvd = ext + 4 * m
        cvv = cvd + W
        for jj in range(W):
            cvd[jj] = cvald
            cvv[jj] = cvalv
        for jj in range(4):
            lines[jj] = ext + jj * m + offh
        for u in prange(nunits, schedule='dynamic'):
            p = u // ngroups
            d0 = (u % ngroups) * G
            nd = D - d0 if D - d0 < G else G
            for h in range(H):
                for t in range(kd + nd - 1):
                    s = idxd[d0 + t]
                    rows[t] = cvd if s < 0 else &x[p, s, h, 0]
                for r in range(nd):
                    lines[4 + r] = plane + r * HW + h * W
                _fk_comb_rows(rows, &wd[0], kd, symd, lines + 4, nd, W)
            for d in range(d0, d0 + nd):
                pl = plane + (d - d0) * HW
                # axis 2: four output rows per step (_fk_comb4), then the rest
                i = 0
                while i < H:
                    nl = H - i if H - i < 4 else 4
                    for t in range(kv + nl - 1):
                        rows[t] = _fk_row(pl, W, idxv[i + t], cvv)
                    _fk_comb_rows(rows, &wv[0], kv, symv, lines, nl, W)
                    for r in range(nl):
                        _fk_comb_along(ext + r * m, offh, W, &idxh[0], m, cvalh, rows, &wh[0],
                                       kh, symh, &out[p, d, i + r, 0])
                    i = i + nl
        free(lines)
        free(plane)
        free(<void *>rows)
