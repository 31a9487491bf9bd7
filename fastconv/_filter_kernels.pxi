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
# Q > 1 a unit of work computes one output row of a block of Q columns as a
# sum of whole input rows, so the inner loops run over contiguous memory
# (several neighbouring lines at once, no transposing copy).
#
# Per output element the arithmetic is exactly scipy.ndimage's
# (NI_Correlate1D / NI_UniformFilter1D): symmetric weights
# ``x[c]*w[c] + (x[0] + x[k-1])*w[0] + (x[1] + x[k-2])*w[1] + ...``,
# antisymmetric weights with ``-``, otherwise ``x[k-1]*w[k-1] + x[0]*w[0] +
# x[1]*w[1] + ...``; the uniform filter's running sum ``s = (x0 + ... +
# x[k-1]) / k``, ``s += (x[i+k-1] - x[i-1]) / k``.  Built without FMA
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


cdef void _fk_comb(const floating **rows, const floating *w, Py_ssize_t k, int sym,
                   floating *dst, Py_ssize_t n) noexcept nogil:
    # dst[q] = correlation of rows[0..k-1] (element q of each) with w, in
    # SciPy's order (see the file comment); two tap pairs per sweep of dst.
    cdef Py_ssize_t c = k // 2, t, q
    cdef const floating *ra
    cdef const floating *rb
    cdef const floating *rc
    cdef const floating *rd
    cdef floating w0, w1
    if sym != 0:
        ra = rows[c]
        w0 = w[c]
        for q in range(n):
            dst[q] = ra[q] * w0
        t = 0
        while t + 1 < c:
            ra = rows[t]
            rb = rows[k - 1 - t]
            rc = rows[t + 1]
            rd = rows[k - 2 - t]
            w0 = w[t]
            w1 = w[t + 1]
            if sym > 0:
                for q in range(n):
                    dst[q] = dst[q] + (ra[q] + rb[q]) * w0 + (rc[q] + rd[q]) * w1
            else:
                for q in range(n):
                    dst[q] = dst[q] + (ra[q] - rb[q]) * w0 + (rc[q] - rd[q]) * w1
            t = t + 2
        if t < c:
            ra = rows[t]
            rb = rows[k - 1 - t]
            w0 = w[t]
            if sym > 0:
                for q in range(n):
                    dst[q] = dst[q] + (ra[q] + rb[q]) * w0
            else:
                for q in range(n):
                    dst[q] = dst[q] + (ra[q] - rb[q]) * w0
    else:
        ra = rows[k - 1]
        w0 = w[k - 1]
        for q in range(n):
            dst[q] = ra[q] * w0
        t = 0
        while t + 1 < k - 1:
            ra = rows[t]
            rb = rows[t + 1]
            w0 = w[t]
            w1 = w[t + 1]
            for q in range(n):
                dst[q] = dst[q] + ra[q] * w0 + rb[q] * w1
            t = t + 2
        if t < k - 1:
            ra = rows[t]
            w0 = w[t]
            for q in range(n):
                dst[q] = dst[q] + ra[q] * w0


cdef void _fk_boxsum(const floating **rows, Py_ssize_t k, floating *dst,
                     Py_ssize_t n) noexcept nogil:
    # dst[q] = (rows[0][q] + ... + rows[k-1][q]) / k, left to right
    cdef Py_ssize_t t, q
    cdef const floating *ra = rows[0]
    cdef const floating *rb
    cdef floating kk = <floating>k
    for q in range(n):
        dst[q] = ra[q]
    for t in range(1, k):
        rb = rows[t]
        for q in range(n):
            dst[q] = dst[q] + rb[q]
    for q in range(n):
        dst[q] = dst[q] / kk


cdef void _fk_run_line(const double *ext, Py_ssize_t k, Py_ssize_t n,
                       floating *dst) noexcept nogil:
    # SciPy's running mean along one extended line (double accumulator)
    cdef double s = 0.0, kd = <double>k
    cdef Py_ssize_t t
    for t in range(k):
        s = s + ext[t]
    s = s / kd
    dst[0] = <floating>s
    for t in range(1, n):
        s = s + (ext[t - 1 + k] - ext[t - 1]) / kd
        dst[t] = <floating>s


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


def filter_lines(const floating[:, :, ::1] x, floating[:, :, ::1] out,
                 const floating[::1] w, const Py_ssize_t[::1] idx, Py_ssize_t off,
                 int sym, int box, int running, floating cval, Py_ssize_t qblock,
                 Py_ssize_t strip, int nthreads):
    """One separable pass along axis 1 of x (P, N, Q) into out.  Internal.

    box = 0: correlation with w (sym 1 symmetric, -1 antisymmetric, 0
    general); box = 1: uniform filter of size len(w) (w unused otherwise):
    along the contiguous axis (Q == 1) SciPy's running mean (double
    accumulator) when `running`, else a direct sum; along other axes the
    running mean restarted every `strip` rows (strip >= N: SciPy's order).  off =
    k//2 + origin: the extended position of input index 0.  Units: (p, row,
    block of qblock columns) for Q > 1 correlations, (p, block of qblock
    columns, strip) for Q > 1 uniform, (p, row) for Q == 1.
    """
    cdef Py_ssize_t P = x.shape[0], N = x.shape[1], Q = x.shape[2]
    cdef Py_ssize_t k = w.shape[0], m = N + k - 1
    cdef Py_ssize_t nqb, nstrips, nunits, u, r, p, i, qb, q0, q1, t, s0, s1, q, j, jj
    cdef const floating **rows
    cdef floating *buf
    cdef double *acc
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
    if Q == 1:
        nunits = P
    elif box:
        nunits = P * nqb * nstrips
    else:
        nunits = P * N * nqb
    with nogil, parallel(num_threads=nthreads, use_threads_if=nthreads > 1):
        rows = <const floating **>malloc(sizeof(floating *) * (k + 1))
        buf = <floating *>malloc(sizeof(floating) * (m + Q + qblock + 1))
        acc = <double *>malloc(sizeof(double) * (m + qblock + 1))
        cvrow = buf + m
        for jj in range(Q):
            cvrow[jj] = cval
        for u in prange(nunits, schedule='dynamic'):
            if Q == 1:
                p = u
                orow = &out[p, 0, 0]
                for j in range(N):
                    buf[off + j] = x[p, j, 0]
                _fk_extend(buf, off, N, &idx[0], m, cval)
                if box:
                    if running:
                        # running mean (SciPy's arithmetic) in double
                        for j in range(m):
                            acc[j] = buf[j]
                        _fk_run_line(acc, k, N, orow)
                    else:
                        for t in range(k):
                            rows[t] = buf + t
                        _fk_boxsum(rows, k, orow, N)
                else:
                    for t in range(k):
                        rows[t] = buf + t
                    _fk_comb(rows, &w[0], k, sym, orow, N)
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
                orow = &out[p, s0, q0]
                for q in range(q1 - q0):
                    acc[q] = acc[q] / kd
                    orow[q] = <floating>acc[q]
                for i in range(s0 + 1, s1):
                    ra = _fk_row(&x[p, 0, 0], Q, idx[i - 1 + k], cvrow) + q0
                    rb = _fk_row(&x[p, 0, 0], Q, idx[i - 1], cvrow) + q0
                    orow = &out[p, i, q0]
                    for q in range(q1 - q0):
                        acc[q] = acc[q] + (<double>ra[q] - <double>rb[q]) / kd
                        orow[q] = <floating>acc[q]
            else:
                r = u
                qb = r % nqb
                r = r // nqb
                i = r % N
                p = r // N
                q0 = qb * qblock
                q1 = q0 + qblock
                if q1 > Q:
                    q1 = Q
                for t in range(k):
                    rows[t] = _fk_row(&x[p, 0, 0], Q, idx[i + t], cvrow) + q0
                _fk_comb(rows, &w[0], k, sym, &out[p, i, q0], q1 - q0)
        free(acc)
        free(buf)
        free(<void *>rows)


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
    len(wh)); axis 1 as a running mean in double restarted every `strip`
    rows, axis 2 as a direct sum.  Units: (p, strip of rows).
    """
    cdef Py_ssize_t P = x.shape[0], H = x.shape[1], W = x.shape[2]
    cdef Py_ssize_t kv = wv.shape[0], kh = wh.shape[0], m = W + kh - 1
    cdef Py_ssize_t nstrips, nunits, u, p, i, i0, i1, t, q, jj
    cdef const floating **rows
    cdef floating *ext
    cdef floating *cvrow
    cdef double *acc
    cdef double kd = <double>kv
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
        rows = <const floating **>malloc(sizeof(floating *) * (kv + kh + 1))
        ext = <floating *>malloc(sizeof(floating) * (m + W + 1))
        acc = <double *>malloc(sizeof(double) * (W + 1))
        cvrow = ext + m
        for jj in range(W):
            cvrow[jj] = cvalv
        for u in prange(nunits, schedule='dynamic'):
            p = u // nstrips
            i0 = (u % nstrips) * strip
            i1 = i0 + strip
            if i1 > H:
                i1 = H
            line = ext + offh
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
                            acc[q] = acc[q] / kd
                            line[q] = <floating>acc[q]
                    else:
                        ra = _fk_row(&x[p, 0, 0], W, idxv[i - 1 + kv], cvrow)
                        rb = _fk_row(&x[p, 0, 0], W, idxv[i - 1], cvrow)
                        for q in range(W):
                            acc[q] = acc[q] + (<double>ra[q] - <double>rb[q]) / kd
                            line[q] = <floating>acc[q]
                else:
                    for t in range(kv):
                        rows[t] = _fk_row(&x[p, 0, 0], W, idxv[i + t], cvrow)
                    _fk_comb(rows, &wv[0], kv, symv, line, W)
                _fk_extend(ext, offh, W, &idxh[0], m, cvalh)
                for t in range(kh):
                    rows[t] = ext + t
                if box:
                    _fk_boxsum(rows, kh, &out[p, i, 0], W)
                else:
                    _fk_comb(rows, &wh[0], kh, symh, &out[p, i, 0], W)
        free(acc)
        free(ext)
        free(<void *>rows)
