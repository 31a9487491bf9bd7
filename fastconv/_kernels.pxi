# fastconv direct kernels (included once per SIMD level, see setup.py).
#
# One canonical operation: cross-correlate a batch with a filter bank, given
# per-axis stride, dilation and *zero* padding, groups and an optional bias,
# writing a caller-allocated output.  Spatial rank is always 3 here: the
# engine reshapes rank 1 and 2 onto it for free (leading size-1 axes) and
# decomposes rank > 3 into accumulated rank-3 calls.
#
# Zero padding is never materialised: for each output row the kernel clips
# the tap ranges to the taps that land inside the input, and for the
# innermost axis it clips the output-column range per tap.  The hot loop is
# therefore a branch-free AXPY over a contiguous row.
#
# Parallel unit: one (output row, column block).  Each output element has
# exactly one writer and its accumulation order (bias, then channel, then
# taps in C order) does not depend on the thread count, so results are
# bitwise identical for any number of threads.
#
# Kernels never raise, never allocate Python objects and never validate:
# the engine (fastconv/_engine.py) has checked every shape before.

from cython.parallel cimport prange
from fastconv._fused cimport numeric, floating


cdef inline Py_ssize_t _floordiv(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    # floor(a / b) for b > 0 (C division truncates towards zero)
    if a >= 0:
        return a // b
    return -((-a + b - 1) // b)


cdef inline Py_ssize_t _ceildiv(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return -_floordiv(-a, b)


cdef inline Py_ssize_t _tap_lo(Py_ssize_t o, Py_ssize_t s, Py_ssize_t d,
                               Py_ssize_t p) noexcept nogil:
    # first tap t with o*s + t*d - p >= 0
    cdef Py_ssize_t a = _ceildiv(p - o * s, d)
    return a if a > 0 else 0


cdef inline Py_ssize_t _tap_hi(Py_ssize_t o, Py_ssize_t s, Py_ssize_t d, Py_ssize_t p,
                               Py_ssize_t n, Py_ssize_t k, Py_ssize_t lo) noexcept nogil:
    # one past the last tap t (< k) with o*s + t*d - p < n; never below lo
    cdef Py_ssize_t b = _floordiv(n - 1 - o * s + p, d) + 1
    if b > k:
        b = k
    return b if b > lo else lo


cdef inline Py_ssize_t _col_lo(Py_ssize_t off, Py_ssize_t s, Py_ssize_t j0) noexcept nogil:
    # first output column j >= j0 with j*s + off >= 0
    cdef Py_ssize_t a = _ceildiv(-off, s)
    return a if a > j0 else j0


cdef inline Py_ssize_t _col_hi(Py_ssize_t off, Py_ssize_t s, Py_ssize_t n,
                               Py_ssize_t j1, Py_ssize_t lo) noexcept nogil:
    # one past the last output column j < j1 with j*s + off < n; never below lo
    cdef Py_ssize_t b = _floordiv(n - 1 - off, s) + 1
    if b > j1:
        b = j1
    return b if b > lo else lo


cdef void _corr_cf(const numeric[:, :, :, :, ::1] x,
                   const numeric[:, :, :, :, ::1] w,
                   numeric[:, :, :, :, ::1] out,
                   const numeric[::1] bias,
                   const Py_ssize_t[::1] geo,
                   Py_ssize_t groups, bint accumulate, bint relu,
                   Py_ssize_t colblk, int nthreads) noexcept nogil:
    cdef Py_ssize_t N = out.shape[0], F = out.shape[1]
    cdef Py_ssize_t OD = out.shape[2], OH = out.shape[3], OW = out.shape[4]
    cdef Py_ssize_t D = x.shape[2], H = x.shape[3], W = x.shape[4]
    cdef Py_ssize_t Cg = w.shape[1], KD = w.shape[2], KH = w.shape[3], KW = w.shape[4]
    cdef Py_ssize_t Fg = F // groups
    cdef Py_ssize_t sd = geo[0], sh = geo[1], sw = geo[2]
    cdef Py_ssize_t dd = geo[3], dh = geo[4], dw = geo[5]
    cdef Py_ssize_t pd = geo[6], ph = geo[7], pw = geo[8]
    cdef bint has_bias = bias.shape[0] > 0
    cdef Py_ssize_t nblk = (OW + colblk - 1) // colblk
    cdef Py_ssize_t nunits = N * F * OD * OH * nblk
    cdef Py_ssize_t u, r, t, n, f, g, od, oh, blk, j0, j1, c, kd, kh, kw
    cdef Py_ssize_t kd0, kd1, kh0, kh1, a, b, j, off, ci
    cdef numeric *orow
    cdef const numeric *xrow
    cdef const numeric *wrow
    cdef numeric wv, init

    if nunits == 0:
        return
    for u in prange(nunits, schedule='static', num_threads=nthreads,
                    use_threads_if=nthreads > 1):
        blk = u % nblk
        r = u // nblk
        oh = r % OH
        t = r // OH
        od = t % OD
        t = t // OD
        f = t % F
        n = t // F
        g = f // Fg
        j0 = blk * colblk
        j1 = j0 + colblk
        if j1 > OW:
            j1 = OW
        orow = &out[n, f, od, oh, 0]
        if not accumulate:
            init = bias[f] if has_bias else <numeric>0
            for j in range(j0, j1):
                orow[j] = init
        kd0 = _tap_lo(od, sd, dd, pd)
        kd1 = _tap_hi(od, sd, dd, pd, D, KD, kd0)
        kh0 = _tap_lo(oh, sh, dh, ph)
        kh1 = _tap_hi(oh, sh, dh, ph, H, KH, kh0)
        for c in range(Cg):
            ci = g * Cg + c
            for kd in range(kd0, kd1):
                for kh in range(kh0, kh1):
                    xrow = &x[n, ci, od * sd + kd * dd - pd, oh * sh + kh * dh - ph, 0]
                    wrow = &w[f, c, kd, kh, 0]
                    for kw in range(KW):
                        wv = wrow[kw]
                        off = kw * dw - pw
                        a = _col_lo(off, sw, j0)
                        b = _col_hi(off, sw, W, j1, a)
                        if sw == 1:
                            for j in range(a, b):
                                orow[j] = orow[j] + wv * xrow[j + off]
                        else:
                            for j in range(a, b):
                                orow[j] = orow[j] + wv * xrow[j * sw + off]
        if relu:
            for j in range(j0, j1):
                if orow[j] < 0:
                    orow[j] = 0


cdef void _corr_cl(const floating[:, :, :, :, ::1] x,
                   const floating[:, :, :, :, ::1] w,
                   floating[:, :, :, :, ::1] out,
                   const floating[::1] bias,
                   const Py_ssize_t[::1] geo,
                   Py_ssize_t groups, bint accumulate, bint relu,
                   Py_ssize_t colblk, int nthreads) noexcept nogil:
    # channels_last: x (N, D, H, W, C), w (KD, KH, KW, Cg, F), out (N, OD, OH, OW, F)
    cdef Py_ssize_t N = out.shape[0], OD = out.shape[1], OH = out.shape[2]
    cdef Py_ssize_t OW = out.shape[3], F = out.shape[4]
    cdef Py_ssize_t D = x.shape[1], H = x.shape[2], W = x.shape[3], C = x.shape[4]
    cdef Py_ssize_t KD = w.shape[0], KH = w.shape[1], KW = w.shape[2], Cg = w.shape[3]
    cdef Py_ssize_t Fg = F // groups
    cdef Py_ssize_t sd = geo[0], sh = geo[1], sw = geo[2]
    cdef Py_ssize_t dd = geo[3], dh = geo[4], dw = geo[5]
    cdef Py_ssize_t pd = geo[6], ph = geo[7], pw = geo[8]
    cdef bint has_bias = bias.shape[0] > 0
    cdef bint depthwise = (Cg == 1 and Fg == 1)
    cdef Py_ssize_t nblk = (OW + colblk - 1) // colblk
    cdef Py_ssize_t nunits = N * OD * OH * nblk
    cdef Py_ssize_t u, r, t, n, od, oh, ow, blk, j0, j1, kd, kh, kw, g, c, f
    cdef Py_ssize_t kd0, kd1, kh0, kh1, iw
    cdef floating *opix
    cdef const floating *xpix
    cdef const floating *wtap
    cdef const floating *wrow
    cdef floating xv

    if nunits == 0:
        return
    for u in prange(nunits, schedule='static', num_threads=nthreads,
                    use_threads_if=nthreads > 1):
        blk = u % nblk
        r = u // nblk
        oh = r % OH
        t = r // OH
        od = t % OD
        n = t // OD
        j0 = blk * colblk
        j1 = j0 + colblk
        if j1 > OW:
            j1 = OW
        kd0 = _tap_lo(od, sd, dd, pd)
        kd1 = _tap_hi(od, sd, dd, pd, D, KD, kd0)
        kh0 = _tap_lo(oh, sh, dh, ph)
        kh1 = _tap_hi(oh, sh, dh, ph, H, KH, kh0)
        for ow in range(j0, j1):
            opix = &out[n, od, oh, ow, 0]
            if not accumulate:
                if has_bias:
                    for f in range(F):
                        opix[f] = bias[f]
                else:
                    for f in range(F):
                        opix[f] = 0
            for kd in range(kd0, kd1):
                for kh in range(kh0, kh1):
                    for kw in range(KW):
                        iw = ow * sw + kw * dw - pw
                        if iw < 0 or iw >= W:
                            continue
                        xpix = &x[n, od * sd + kd * dd - pd, oh * sh + kh * dh - ph, iw, 0]
                        wtap = &w[kd, kh, kw, 0, 0]
                        if depthwise:
                            for g in range(groups):
                                opix[g] = opix[g] + xpix[g] * wtap[g]
                        else:
                            for g in range(groups):
                                for c in range(Cg):
                                    xv = xpix[g * Cg + c]
                                    wrow = wtap + c * F + g * Fg
                                    for f in range(Fg):
                                        opix[g * Fg + f] = opix[g * Fg + f] + xv * wrow[f]
            if relu:
                for f in range(F):
                    if opix[f] < 0:
                        opix[f] = 0


def correlate_channels_first(const numeric[:, :, :, :, ::1] x,
                             const numeric[:, :, :, :, ::1] w,
                             numeric[:, :, :, :, ::1] out,
                             const numeric[::1] bias,
                             const Py_ssize_t[::1] geo,
                             Py_ssize_t groups, bint accumulate, bint relu,
                             Py_ssize_t colblk, int nthreads):
    """Rank-3 channels-first correlation; see the module comment.  Internal."""
    with nogil:
        _corr_cf(x, w, out, bias, geo, groups, accumulate, relu, colblk, nthreads)


def correlate_channels_last(const floating[:, :, :, :, ::1] x,
                            const floating[:, :, :, :, ::1] w,
                            floating[:, :, :, :, ::1] out,
                            const floating[::1] bias,
                            const Py_ssize_t[::1] geo,
                            Py_ssize_t groups, bint accumulate, bint relu,
                            Py_ssize_t colblk, int nthreads):
    """Rank-3 channels-last correlation; see the module comment.  Internal."""
    with nogil:
        _corr_cl(x, w, out, bias, geo, groups, accumulate, relu, colblk, nthreads)


def simd_level():
    """The SIMD level this module was compiled for."""
    return FASTCONV_SIMD_LEVEL_STR


cdef extern from "_omp_shim.h":
    const char *FASTCONV_SIMD_LEVEL

FASTCONV_SIMD_LEVEL_STR = FASTCONV_SIMD_LEVEL.decode("ascii")
