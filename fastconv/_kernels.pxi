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
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.string cimport memcpy, memset
from libc.stdlib cimport malloc, calloc, free
from libc.math cimport copysign
from fastconv._fused cimport numeric, floating


cdef inline Py_ssize_t _floordiv(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    # floor(a / b) for b > 0 (C division truncates towards zero).  b == 1
    # (unit strides and dilations, the usual case) skips the division: the
    # generic kernel bounds every tap's columns with two of them per row
    # (64^2 x 3^2: ~1 200 divisions, 9.8 us of the small path's 12)
    if b == 1:
        return a
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


cdef extern from "_rows_tiles.h" nogil:
    void fc_genrow_float(const float *x, Py_ssize_t xcs, Py_ssize_t xds, Py_ssize_t xhs,
                         const float *w, Py_ssize_t wcs, Py_ssize_t wds, Py_ssize_t whs,
                         Py_ssize_t nc, Py_ssize_t nd, Py_ssize_t nh, Py_ssize_t KW,
                         Py_ssize_t pw, Py_ssize_t W, float *orow, Py_ssize_t j0,
                         Py_ssize_t j1)
    void fc_genrow_double(const double *x, Py_ssize_t xcs, Py_ssize_t xds, Py_ssize_t xhs,
                          const double *w, Py_ssize_t wcs, Py_ssize_t wds, Py_ssize_t whs,
                          Py_ssize_t nc, Py_ssize_t nd, Py_ssize_t nh, Py_ssize_t KW,
                          Py_ssize_t pw, Py_ssize_t W, double *orow, Py_ssize_t j0,
                          Py_ssize_t j1)


cdef inline void _genrow(const numeric *x, Py_ssize_t xcs, Py_ssize_t xds, Py_ssize_t xhs,
                         const numeric *w, Py_ssize_t wcs, Py_ssize_t wds, Py_ssize_t whs,
                         Py_ssize_t nc, Py_ssize_t nd, Py_ssize_t nh, Py_ssize_t KW,
                         Py_ssize_t pw, Py_ssize_t W, numeric *orow, Py_ssize_t j0,
                         Py_ssize_t j1) noexcept nogil:
    if numeric is float:
        fc_genrow_float(x, xcs, xds, xhs, w, wcs, wds, whs, nc, nd, nh, KW, pw, W, orow,
                        j0, j1)
    elif numeric is double:
        fc_genrow_double(x, xcs, xds, xhs, w, wcs, wds, whs, nc, nd, nh, KW, pw, W, orow,
                         j0, j1)


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
    for u in prange(nunits, schedule='dynamic', num_threads=nthreads,
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
        if (numeric is float or numeric is double) and sw == 1 and dw == 1:
            # the same products in the same order, summed in registers
            # (fc_genrow, _rows_tiles.h)
            # (strides in elements: only the rows are contiguous)
            if Cg > 0 and kd1 > kd0 and kh1 > kh0:
                _genrow(&x[n, g * Cg, od * sd + kd0 * dd - pd, oh * sh + kh0 * dh - ph, 0],
                        x.strides[1] // sizeof(numeric), dd * (x.strides[2] // sizeof(numeric)),
                        dh * (x.strides[3] // sizeof(numeric)), &w[f, 0, kd0, kh0, 0],
                        w.strides[1] // sizeof(numeric), w.strides[2] // sizeof(numeric),
                        w.strides[3] // sizeof(numeric), Cg, kd1 - kd0, kh1 - kh0, KW, pw,
                        W, orow, j0, j1)
        else:
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
    for u in prange(nunits, schedule='dynamic', num_threads=nthreads,
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


# ---------------------------------------------------------------------------
# Register-tiled paths (float32/float64, channels_first, rank <= 3).
#
# The engine prepares, in Python, a source buffer `xp` and per-tap offsets
# `toff` (taps in channel, depth, row, column order, the same order as the
# generic kernel) so that the input of tap t for the output tile that starts
# at column ow0 of row (od, oh) is xp[base(n, channel, od, oh) + ow0 + toff[t]].
# For strided columns the buffer is split into column phases, so every load
# is a contiguous vector.  The micro-kernels (_microkernels.h) hold the tile
# in registers across all taps.

cdef extern from "_microkernels.h" nogil:
    int FC_LANES_float
    int FC_LANES_double
    int FC_LANES_float_n
    int FC_LANES_double_n
    ctypedef struct fc_tile_entry:
        int kind, itemsize, a, b, narrow, lanes, vregs
        const char *name
        void (*fn)() noexcept nogil
        void (*fn_c1)() noexcept nogil
        void (*fn_c2)() noexcept nogil
    const fc_tile_entry fc_tiles[]
    const int fc_ntiles
    const int fc_vregs
    ctypedef void (*fc_filt_float_fn)(const float *, const Py_ssize_t *, const float *,
                                      Py_ssize_t, float *, Py_ssize_t, int,
                                      const float *) noexcept nogil
    ctypedef void (*fc_filt_double_fn)(const double *, const Py_ssize_t *, const double *,
                                       Py_ssize_t, double *, Py_ssize_t, int,
                                       const double *) noexcept nogil
    int FC_UNTILE_W16_float
    void fc_filtt_untile_float(const float *tb, Py_ssize_t PF, Py_ssize_t nk, Py_ssize_t nf,
                               float *o, Py_ssize_t ostride, int relu, int stream)
    void fc_filtt_untile_double(const double *tb, Py_ssize_t PF, Py_ssize_t nk,
                                Py_ssize_t nf, double *o, Py_ssize_t ostride, int relu,
                                int stream)
    ctypedef void (*fc_filtt_float_fn)(const float *, const Py_ssize_t *, const Py_ssize_t *,
                                       const float *, Py_ssize_t, const Py_ssize_t *,
                                       float *, const float *, int) noexcept nogil
    ctypedef void (*fc_filtt_double_fn)(const double *, const Py_ssize_t *,
                                        const Py_ssize_t *, const double *, Py_ssize_t,
                                        const Py_ssize_t *, double *, const double *,
                                        int) noexcept nogil
    void fc_rows_float_4x3(const float *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                           const float *w, Py_ssize_t ntaps, float *out, Py_ssize_t ors,
                           int ncols, float init)
    void fc_rows_float_1x3(const float *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                           const float *w, Py_ssize_t ntaps, float *out, Py_ssize_t ors,
                           int ncols, float init)
    void fc_rows_float_1x8(const float *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                           const float *w, Py_ssize_t ntaps, float *out, Py_ssize_t ors,
                           int ncols, float init)
    void fc_rows_double_4x3(const double *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                            const double *w, Py_ssize_t ntaps, double *out, Py_ssize_t ors,
                            int ncols, double init)
    void fc_rows_double_1x3(const double *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                            const double *w, Py_ssize_t ntaps, double *out, Py_ssize_t ors,
                            int ncols, double init)
    void fc_rows_double_1x8(const double *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                            const double *w, Py_ssize_t ntaps, double *out, Py_ssize_t ors,
                            int ncols, double init)


# Tile tables, filled once from the registry (fc_tiles, see _tiles.inc):
# FILT by (narrow, P); FILTT tiles are passed by registry index.  Levels
# without narrow tiles use the wide ones for both.
_KINDS = ("FILT", "FILTT", "ROWS")
cdef fc_filt_float_fn _FILT_F[2][9]
cdef fc_filt_double_fn _FILT_D[2][9]


cdef _fill_tables():
    cdef int i, nar
    cdef const fc_tile_entry *e
    for nar in range(2):
        for i in range(fc_ntiles):
            e = &fc_tiles[i]
            if e.kind != 0 or e.narrow > nar or e.a > 8:
                continue
            if e.itemsize == 4:
                _FILT_F[nar][e.a] = <fc_filt_float_fn>e.fn
            else:
                _FILT_D[nar][e.a] = <fc_filt_double_fn>e.fn


_fill_tables()


def capabilities():
    """The tile registry of this build (_tiles.inc): one dict per tile with
    its ``index``, ``kind`` ('FILT', 'FILTT' or 'ROWS'), ``dtype`` ('f' or
    'd'), ``shape`` (A, B), ``lanes`` per vector, ``narrow``, ``vregs``
    (live vector registers it holds), ``fits`` (no spills at this level)
    and ``name`` (its C function).  Internal."""
    out = []
    cdef int i
    for i in range(fc_ntiles):
        e = fc_tiles[i]
        out.append(dict(index=i, kind=_KINDS[e.kind], dtype="f" if e.itemsize == 4 else "d",
                        shape=(e.a, e.b), lanes=e.lanes, narrow=bool(e.narrow),
                        vregs=e.vregs, fits=e.vregs <= fc_vregs,
                        name=e.name.decode("ascii")))
    return out


cdef inline void _filt_tile(const floating *x, const Py_ssize_t *toff, const floating *wp,
                            Py_ssize_t ntaps, floating *out, Py_ssize_t ostride, int ncols,
                            const floating *init, Py_ssize_t P, bint narrow) noexcept nogil:
    if floating is float:
        _FILT_F[narrow][P](x, toff, wp, ntaps, out, ostride, ncols, init)
    else:
        _FILT_D[narrow][P](x, toff, wp, ntaps, out, ostride, ncols, init)


cdef inline void _rows_tile(const floating *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                            const floating *w, Py_ssize_t ntaps, floating *out,
                            Py_ssize_t ors, int ncols, floating init, Py_ssize_t R,
                            bint wide) noexcept nogil:
    if floating is float:
        if R == 4:
            fc_rows_float_4x3(x, xrs, toff, w, ntaps, out, ors, ncols, init)
        elif wide:
            fc_rows_float_1x8(x, xrs, toff, w, ntaps, out, ors, ncols, init)
        else:
            fc_rows_float_1x3(x, xrs, toff, w, ntaps, out, ors, ncols, init)
    else:
        if R == 4:
            fc_rows_double_4x3(x, xrs, toff, w, ntaps, out, ors, ncols, init)
        elif wide:
            fc_rows_double_1x8(x, xrs, toff, w, ntaps, out, ors, ncols, init)
        else:
            fc_rows_double_1x3(x, xrs, toff, w, ntaps, out, ors, ncols, init)


def filtt_streams(dtype_char):
    """True where the FILTT group store writes whole 64-byte lines, so can
    write them non-temporally (AVX-512 float32).  Internal."""
    return dtype_char == 'f' and FC_UNTILE_W16_float > 0


def filtt_tile(const floating[::1] x, const Py_ssize_t[::1] toff,
               const floating[::1] wp, const Py_ssize_t[::1] pos,
               floating[::1] buf, Py_ssize_t tile, int variant=0,
               const Py_ssize_t[::1] woff=None):
    """One call of FILTT registry entry `tile` (buf: its R x PF sums, no
    init; `variant` 0: the general function, 1 / 2: its fn_c1 / fn_c2 for
    positions pos[0] + r * variant, which only pos[0] is read of; tap t's
    weights at wp[woff[t]:], None: t * PF, every tap in turn).  For the
    per-tile tests.  Internal."""
    cdef const fc_tile_entry *e = &fc_tiles[tile]
    cdef Py_ssize_t R = e.a, PF = e.b * e.lanes, ntaps = toff.shape[0], t, r, p
    cdef void (*fn)() noexcept nogil
    if e.kind != 1 or e.itemsize != sizeof(floating):
        raise ValueError("tile: not a FILTT tile of this dtype")
    fn = e.fn
    if variant == 1:
        fn = e.fn_c1
    elif variant == 2:
        fn = e.fn_c2
    elif variant != 0:
        raise ValueError("variant: 0, 1 or 2")
    if pos.shape[0] < R or buf.shape[0] < R * PF or (woff is None and wp.shape[0] < ntaps * PF):
        raise ValueError("filtt_tile: arrays too short")
    if woff is not None and woff.shape[0] != ntaps:
        raise ValueError("filtt_tile: woff and toff differ in length")
    cdef Py_ssize_t *wo = <Py_ssize_t *> malloc(sizeof(Py_ssize_t) * (ntaps + 1))
    if wo == NULL:
        raise MemoryError()
    for t in range(ntaps):
        wo[t] = t * PF if woff is None else woff[t]
        if not 0 <= wo[t] <= wp.shape[0] - PF:
            free(wo)
            raise ValueError("filtt_tile: a tap's weights lie outside wp")
        for r in range(R):
            p = pos[r] if variant == 0 else pos[0] + r * variant
            if not 0 <= p + toff[t] < x.shape[0]:
                free(wo)
                raise ValueError("filtt_tile: a tap reads outside x")
    if floating is float:
        (<fc_filtt_float_fn>fn)(&x[0], &toff[0], wo, &wp[0], ntaps, &pos[0], &buf[0], NULL, 0)
    else:
        (<fc_filtt_double_fn>fn)(&x[0], &toff[0], wo, &wp[0], ntaps, &pos[0], &buf[0], NULL,
                                 0)
    free(wo)


def filtt_width(Py_ssize_t tile):
    """(filters per block, positions per tile) of FILTT registry entry
    `tile`: B vectors of lanes, A positions.  Internal."""
    e = fc_tiles[tile]
    return e.b * e.lanes, e.a


def lanes(dtype_char, bint narrow=False):
    """SIMD lanes of the micro-kernels' vectors for 'f' (float32) or 'd'
    (narrow: the 256-bit FILT tiles of AVX-512 builds)."""
    if narrow:
        return FC_LANES_float_n if dtype_char == 'f' else FC_LANES_double_n
    return FC_LANES_float if dtype_char == 'f' else FC_LANES_double


def filt_correlate(const floating[::1] xp, const Py_ssize_t[::1] xstr,
                   const Py_ssize_t[::1] toff, const floating[::1] wpack,
                   const Py_ssize_t[:, ::1] blocks,
                   floating[:, :, :, :, ::1] out, const floating[::1] bias,
                   Py_ssize_t Cg, Py_ssize_t sd, Py_ssize_t sh, bint slack, bint relu,
                   bint narrow, int nthreads):
    """Many-channel register-tiled correlation (FILT tiles).  Internal.

    xp: flat source buffer; xstr = element strides (n, c, d, h) of its
    logical (N, C, Dp, Hp, ...) layout.  blocks[b] = (f0, P, woff, group):
    filters f0..f0+P-1 of one group, their packed weights wpack[woff:]
    laid out (ntaps, P).  slack: memory past each row is readable, so partial
    tiles may use vector loads.
    """
    cdef Py_ssize_t N = out.shape[0], F = out.shape[1], OD = out.shape[2]
    cdef Py_ssize_t OH = out.shape[3], OW = out.shape[4]
    cdef Py_ssize_t nblk = blocks.shape[0], ntaps = toff.shape[0]
    cdef Py_ssize_t xn = xstr[0], xc = xstr[1], xd = xstr[2], xh = xstr[3]
    cdef Py_ssize_t ostride = OD * OH * OW
    cdef int V = FC_LANES_float if floating is float else FC_LANES_double
    if narrow:
        V = FC_LANES_float_n if floating is float else FC_LANES_double_n
    cdef int TW = 2 * V
    cdef Py_ssize_t nunits = N * nblk * OD * OH
    cdef bint has_bias = bias.shape[0] > 0
    cdef Py_ssize_t u, r, n, b, od, oh, f0, P, woff, g, ow0, p, j, t
    cdef int ncols
    cdef const floating *xbase
    cdef floating *obase
    cdef const floating *wb
    cdef floating acc
    if nunits == 0:
        return
    with nogil:
        for u in prange(nunits, schedule='dynamic', num_threads=nthreads,
                        use_threads_if=nthreads > 1):
            oh = u % OH
            r = u // OH
            od = r % OD
            r = r // OD
            b = r % nblk
            n = r // nblk
            f0 = blocks[b, 0]
            P = blocks[b, 1]
            woff = blocks[b, 2]
            g = blocks[b, 3]
            xbase = &xp[0] + n * xn + g * Cg * xc + od * sd * xd + oh * sh * xh
            obase = &out[n, f0, od, oh, 0]
            wb = &wpack[woff]
            ow0 = 0
            while ow0 < OW:
                ncols = <int>(OW - ow0) if OW - ow0 < TW else TW
                if ncols == TW or slack:
                    _filt_tile(xbase + ow0, &toff[0], wb, ntaps, obase + ow0, ostride, ncols,
                               &bias[f0] if has_bias else NULL, P, narrow)
                else:
                    for p in range(P):
                        for j in range(ncols):
                            acc = bias[f0 + p] if has_bias else 0
                            for t in range(ntaps):
                                acc = acc + wb[t * P + p] * xbase[ow0 + j + toff[t]]
                            obase[p * ostride + ow0 + j] = acc
                if relu:
                    for p in range(P):
                        for j in range(ncols):
                            if obase[p * ostride + ow0 + j] < 0:
                                obase[p * ostride + ow0 + j] = 0
                ow0 = ow0 + TW


cdef inline void _flat_store(const floating *tb, Py_ssize_t TW, Py_ssize_t P,
                             floating *obase, Py_ssize_t ostride, Py_ssize_t p,
                             Py_ssize_t pend, Py_ssize_t Wp, Py_ssize_t OW,
                             bint relu) noexcept nogil:
    # Copy the valid columns of a flat tile (positions p .. p+TW-1, row pitch
    # Wp, TW columns per filter in tb) to the output rows (OW columns each).
    cdef Py_ssize_t q = p, qend = p + TW, oh, ow, seg, k, pp
    cdef floating v
    cdef const floating *src
    cdef floating *dst
    if qend > pend:
        qend = pend
    while q < qend:
        oh = q // Wp
        ow = q - oh * Wp
        if ow >= OW:                    # garbage columns up to the row end
            q = q + Wp - ow
            continue
        seg = OW - ow
        if seg > qend - q:
            seg = qend - q
        for pp in range(P):
            src = tb + pp * TW + (q - p)
            dst = obase + pp * ostride + oh * OW + ow
            if relu:
                for k in range(seg):
                    v = src[k]
                    dst[k] = 0 if v < 0 else v      # NaN stays NaN
            else:
                for k in range(seg):
                    dst[k] = src[k]
        q = q + seg


cdef inline void _flat_chunk(const floating *xbase, const Py_ssize_t *toff,
                             const floating *wb, Py_ssize_t ntaps, floating *obase,
                             Py_ssize_t ostride, const floating *init, Py_ssize_t P,
                             Py_ssize_t p0, Py_ssize_t p1, Py_ssize_t pend, Py_ssize_t Wp,
                             Py_ssize_t OW, bint relu, Py_ssize_t TW,
                             Py_ssize_t pvec, Py_ssize_t head) noexcept nogil:
    # Full-width FILT tiles over flat positions p0 .. p1-1 of one output plane.
    # A tile that lies inside the valid columns of one row is stored in place;
    # any other goes through the tile buffer and only its valid columns are
    # copied out.  Every output is one tile call: bias, then the taps in order.
    # Tiles starting at p > pvec would read past the end of the source (no
    # slack): they run a scalar loop over the valid positions only.  With
    # `head` > 0 the first tile stores only its first `head` columns (the
    # next tiles then start where the source is 64-byte aligned).
    cdef floating tb[8 * 32]            # P <= 8 filters x TW <= 32 columns
    cdef Py_ssize_t p = p0, oh, ow, pp, k, t, ncols, cap, lim
    cdef floating *o
    cdef floating acc
    while p < p1:
        cap = TW
        if head > 0:
            cap = head
            head = 0
        lim = p + cap
        if lim > pend:
            lim = pend
        oh = p // Wp
        ow = p - oh * Wp
        if p > pvec:
            ncols = lim - p
            for pp in range(P):
                for k in range(ncols):
                    acc = init[pp] if init != NULL else 0
                    for t in range(ntaps):
                        acc = acc + wb[t * P + pp] * xbase[p + k + toff[t]]
                    tb[pp * TW + k] = acc
            _flat_store(tb, TW, P, obase, ostride, p, lim, Wp, OW, relu)
        elif cap == TW and ow + TW <= OW:
            o = obase + oh * OW + ow
            _filt_tile(xbase + p, toff, wb, ntaps, o, ostride, <int>TW, init, P, False)
            if relu:
                for pp in range(P):
                    for k in range(TW):
                        if o[pp * ostride + k] < 0:
                            o[pp * ostride + k] = 0
        else:
            _filt_tile(xbase + p, toff, wb, ntaps, tb, TW, <int>TW, init, P, False)
            _flat_store(tb, TW, P, obase, ostride, p, lim, Wp, OW, relu)
        p = p + cap


def filt_correlate_flat(const floating[::1] xp, const Py_ssize_t[::1] xstr,
                        const Py_ssize_t[::1] toff, const floating[::1] wpack,
                        const Py_ssize_t[:, ::1] blocks,
                        floating[:, :, :, :, ::1] out, const floating[::1] bias,
                        Py_ssize_t Cg, Py_ssize_t sd, Py_ssize_t chunk, bint relu,
                        int nthreads):
    """Many-channel correlation with "flat" FILT tiles (stride 1 along rows
    and columns).  Internal.

    xp is the (zero-padded) source (see filt_correlate for xstr, toff,
    blocks) whose row pitch xstr[3] = Wp.  Output (oh, ow) of a plane
    reads the source at flat position oh*Wp + ow + toff[t], so the plane is
    one 1-D correlation over positions [0, (OH-1)*Wp + OW), where columns
    ow >= OW of each row are garbage and discarded.  Tiles of full vector
    width run along the flat positions regardless of row boundaries, which
    keeps every lane busy on short rows.  Tiles whose vector loads would
    pass the end of xp (a source without slack) run a scalar loop instead.

    Unit of parallel work: (n, od, chunk of `chunk` flat positions (a
    multiple of the tile width), block of filters); the filter blocks are
    innermost so a chunk of the source stays in cache while every block
    reads it.  Every output element is computed by one tile call in the
    same order as filt_correlate, so results do not depend on the thread
    count.

    Where every tap offset and unit stride keeps 64-byte alignment
    (pointwise layers whose planes hold a multiple of 64 bytes), the tile
    grid starts `shift` positions in, where the source is 64-byte aligned:
    NumPy aligns to 16 bytes, and a 512-bit load from an unaligned address
    splits across two cache lines (Zen 4, 16 x 64 -> 64 x 56^2 float32,
    1 thread: 57-61 GFLOP/s unaligned, 70-73 aligned).  The first chunk
    then starts with a `shift`-column tile.  A lane's sum does not depend
    on where its tile starts, so neither do the results.
    """
    cdef Py_ssize_t N = out.shape[0], F = out.shape[1], OD = out.shape[2]
    cdef Py_ssize_t OH = out.shape[3], OW = out.shape[4]
    cdef Py_ssize_t nblk = blocks.shape[0], ntaps = toff.shape[0]
    cdef Py_ssize_t xn = xstr[0], xc = xstr[1], xd = xstr[2], Wp = xstr[3]
    cdef Py_ssize_t ostride = OD * OH * OW
    cdef Py_ssize_t TW = 2 * (FC_LANES_float if floating is float else FC_LANES_double)
    cdef Py_ssize_t pend = (OH - 1) * Wp + OW
    cdef Py_ssize_t nch, nunits
    cdef bint has_bias = bias.shape[0] > 0
    cdef Py_ssize_t u, r, n, b, od, ch, f0, P, woff, g, p0, p1, boff
    cdef Py_ssize_t xlen = xp.shape[0], tmax = 0, i
    for i in range(ntaps):
        if toff[i] > tmax:
            tmax = toff[i]
    cdef Py_ssize_t A = 64 // sizeof(floating), shift = 0
    cdef size_t addr
    if chunk < TW:
        chunk = TW
    chunk = (chunk + TW - 1) // TW * TW
    if xlen > 0 and xn % A == 0 and (Cg * xc) % A == 0 and (sd * xd) % A == 0 \
            and TW % A == 0:
        shift = A
        for i in range(ntaps):
            if toff[i] % A != 0:
                shift = 0
        addr = <size_t>&xp[0]
        if shift and addr % sizeof(floating) == 0:
            shift = (A - <Py_ssize_t>((addr // sizeof(floating)) % A)) % A
        else:
            shift = 0
    # chunk ch covers [shift + ch * chunk, shift + (ch + 1) * chunk), the
    # first one from 0
    if pend <= 0:
        return
    nch = 1 + (pend - shift - 1) // chunk if pend > shift else 1
    nunits = N * OD * nch * nblk
    if nunits == 0 or OW == 0:
        return
    with nogil:
        for u in prange(nunits, schedule='dynamic', num_threads=nthreads,
                        use_threads_if=nthreads > 1):
            b = u % nblk
            r = u // nblk
            ch = r % nch
            r = r // nch
            od = r % OD
            n = r // OD
            f0 = blocks[b, 0]
            P = blocks[b, 1]
            woff = blocks[b, 2]
            g = blocks[b, 3]
            p0 = 0 if ch == 0 else shift + ch * chunk
            p1 = shift + (ch + 1) * chunk
            if p1 > pend:
                p1 = pend
            boff = n * xn + g * Cg * xc + od * sd * xd
            # last tile start whose vector loads stay inside xp
            _flat_chunk(&xp[0] + boff, &toff[0],
                        &wpack[woff], ntaps, &out[n, f0, od, 0, 0], ostride,
                        &bias[f0] if has_bias else NULL, P, p0, p1, pend, Wp, OW,
                        relu, TW, xlen - boff - tmax - TW, shift if ch == 0 else 0)


cdef enum:
    _FILTT_BUF = 4096       # elements of a chunk's accumulators: tiles x R x PF


cdef bytearray _every_tap(Py_ssize_t ntaps, Py_ssize_t PF):
    # the FILTT tiles' weight offsets that run every tap in turn: tap t's
    # weights at t * PF in a block's packing (Py_ssize_t values; one spare
    # so that an empty list still has an address)
    ident = bytearray(sizeof(Py_ssize_t) * (ntaps + 1))
    cdef Py_ssize_t *w = <Py_ssize_t *> <char *> ident
    cdef Py_ssize_t t
    for t in range(ntaps):
        w[t] = t * PF
    return ident


cdef inline void _filtt_chunk(const floating *xn0, Py_ssize_t gstride, const Py_ssize_t *toff,
                              const Py_ssize_t *woff, const Py_ssize_t *cstart,
                              const Py_ssize_t *ckpc, const Py_ssize_t *tcls,
                              Py_ssize_t cbase, Py_ssize_t tpc,
                              const floating *wpack, const Py_ssize_t *blk, Py_ssize_t b0,
                              Py_ssize_t b1, const floating *bpack, Py_ssize_t ntaps,
                              floating *on0, Py_ssize_t ostride,
                              Py_ssize_t k0, Py_ssize_t k1, Py_ssize_t rp, Py_ssize_t sw,
                              Py_ssize_t OW, Py_ssize_t tblk, Py_ssize_t group,
                              bint relu, void (*fn)() noexcept nogil,
                              void (*fn_c)() noexcept nogil, Py_ssize_t R,
                              Py_ssize_t PF, bint stream) noexcept nogil:
    # FILTT tiles over valid output positions k0 .. k1-1 of one plane (k =
    # oh*OW + ow reads source position oh*rp + ow*sw: rp = row stride times
    # the source row pitch) for the filter blocks b0 .. b1-1 (blk: rows of
    # (f0, nf, woff, g); block b's input is xn0 + g * gstride, its outputs
    # on0 + (f0 + j) * ostride, its initial values bpack + b * PF); the last
    # tile repeats its last position and stores only the valid ones.
    #
    # Positions go in groups of up to MT tiles whose accumulators live in
    # tb; every block of filters runs over the group before the next group
    # starts, so the group's input rows stay in L1/L2 for all the blocks
    # (they used to be read again from memory once per block).  Within a
    # block the taps go in blocks of tblk (a few input channels), each run
    # over every tile of the group, continuing its sums from tb: one tap
    # block's packed weights (tblk x PF) stay in L1 while all the group's
    # tiles use them.  Every output still adds its init, then the taps in
    # order: the same bits as one call over all taps.
    #
    # Tap lists: with ckpc NULL every tile runs toff[t] / woff[t] (the
    # weights' offsets in a block's packing) for t in 0 .. ntaps-1.  Else
    # the tile whose first position is tile index i of the plane runs tap
    # class c = cbase + tcls[i]: toff[cstart[c]:] / woff[cstart[c]:], ckpc[c]
    # taps of each of the ntaps / tpc channels, in order (the taps left out
    # read only zero padding for every position of the tile; a tap block of
    # whole channels maps to the class's taps of the same channels).
    cdef floating tb[_FILTT_BUF]
    cdef Py_ssize_t pos[256]
    cdef Py_ssize_t tcl[256]
    cdef Py_ssize_t ta, tn, c0, c1, kc
    # per tile: fn_c runs it when its positions are sw apart (one row; fn_c
    # is the tile's variant for this sw, or NULL): the same arithmetic, one
    # input pointer instead of R
    cdef void (*tfn[256])() noexcept nogil
    cdef Py_ssize_t r
    cdef Py_ssize_t MT = _FILTT_BUF // (R * PF)
    cdef Py_ssize_t k = k0, oh, ow, nk, i, nt, t0, nb, b, nf
    cdef const floating *xbase
    cdef const floating *wb
    cdef const floating *init
    if MT * R > 256:
        MT = 256 // R
    if 0 < group < MT:
        MT = group
    # a group of a multiple of 16 positions: the store transposes 16 x 16
    # (AVX-512 floats), 8 x 8 or 4 x 4 blocks in registers and copies the
    # rest element by element (14-position tiles in groups of 9 left 6 of 126
    # positions to the scalar copy: 5% of the 7x7 stem's time, Intel AVX-512)
    if group <= 0:
        i = MT
        while i > 0 and (i * R) % 16 != 0:
            i = i - 1
        if i > 0:
            MT = i
    if tblk <= 0 or tblk > ntaps:
        tblk = ntaps
    while k < k1:
        nt = (k1 - k + R - 1) // R
        if nt > MT:
            nt = MT
        # positions k, k+1, ... walked by row and column (no division per
        # position: an idiv was a fifth of this function's time in the stem);
        # past k1 the last valid one repeats
        oh = k // OW
        ow = k - oh * OW
        for i in range(nt * R):
            if k + i < k1:
                pos[i] = oh * rp + ow * sw
                ow = ow + 1
                if ow == OW:
                    ow = 0
                    oh = oh + 1
            else:
                pos[i] = pos[i - 1]
        for i in range(nt):
            tcl[i] = cbase + tcls[k // R + i] if ckpc != NULL else 0
            tfn[i] = fn
            if fn_c != NULL:
                r = 1
                while r < R and pos[i * R + r] == pos[i * R] + r * sw:
                    r = r + 1
                if r == R:
                    tfn[i] = fn_c
        nk = k1 - k if k1 - k < nt * R else nt * R
        for b in range(b0, b1):
            xbase = xn0 + blk[4 * b + 3] * gstride
            wb = wpack + blk[4 * b + 2]
            init = bpack + b * PF
            nf = blk[4 * b + 1]
            t0 = 0
            while t0 < ntaps:
                nb = ntaps - t0 if ntaps - t0 < tblk else tblk
                c0 = t0 // tpc if ckpc != NULL else 0
                c1 = (t0 + nb) // tpc if ckpc != NULL else 0
                for i in range(nt):
                    if ckpc != NULL:
                        kc = ckpc[tcl[i]]
                        ta = cstart[tcl[i]] + c0 * kc
                        tn = (c1 - c0) * kc
                    else:
                        ta = t0
                        tn = nb
                    if floating is float:
                        (<fc_filtt_float_fn>tfn[i])(xbase, toff + ta, woff + ta, wb, tn,
                                                    &pos[i * R], &tb[i * R * PF], init,
                                                    t0 > 0)
                    else:
                        (<fc_filtt_double_fn>tfn[i])(xbase, toff + ta, woff + ta, wb, tn,
                                                     &pos[i * R], &tb[i * R * PF], init,
                                                     t0 > 0)
                t0 = t0 + nb
            # the group's tiles, (positions, PF) in tb, to the filters' planes
            if floating is float:
                fc_filtt_untile_float(tb, PF, nk, nf, on0 + blk[4 * b] * ostride + k,
                                      ostride, relu, stream)
            else:
                fc_filtt_untile_double(tb, PF, nk, nf, on0 + blk[4 * b] * ostride + k,
                                       ostride, relu, stream)
        k = k + nt * R


def filtt_correlate(const floating[::1] xp, const Py_ssize_t[::1] xstr,
                    const Py_ssize_t[::1] toff, const floating[::1] wpack,
                    const Py_ssize_t[:, ::1] blocks, const floating[::1] bpack,
                    floating[:, :, :, :, ::1] out,
                    Py_ssize_t Cg, Py_ssize_t sd, Py_ssize_t sh, Py_ssize_t sw,
                    Py_ssize_t chunk, Py_ssize_t tblk, Py_ssize_t group, bint relu,
                    Py_ssize_t tile, int nthreads, Py_ssize_t bpu=1, bint maxabs=False,
                    const floating[:, :, :, :, :] src=None, Py_ssize_t spd=0,
                    Py_ssize_t sph=0, Py_ssize_t spw=0, Py_ssize_t KD=1, Py_ssize_t KH=1,
                    Py_ssize_t dd=1, Py_ssize_t dh=1, Py_ssize_t blockbytes=8192,
                    Py_ssize_t ahead=1, bint stream=False, bint blocks_outer=False,
                    bint contiguous=True, const Py_ssize_t[::1] ctoff=None,
                    const Py_ssize_t[::1] cwoff=None, const Py_ssize_t[::1] cstart=None,
                    const Py_ssize_t[::1] ckpc=None, const Py_ssize_t[::1] tcls=None,
                    const Py_ssize_t[::1] dcls=None):
    """Many-channel correlation with FILTT tiles (vectors along filters;
    any stride and dilation: each tile position is an arbitrary offset and
    each tap input a broadcast scalar, so strided layers need no phase
    split).  Internal.

    xp, xstr, toff as for filt_correlate_flat (row pitch xstr[3], column
    phases never split; every tap of every valid output is inside xp);
    sd, sh, sw: strides along depth, rows and columns; tblk: taps per
    block and group: tiles per group of positions (see _filtt_chunk; 0: all
    taps in one block, the largest group); tile: the FILTT entry of the
    registry (capabilities()) that runs, A positions x PF = B * lanes
    filters.  blocks[b] = (f0, nf, woff, g): nf <= PF filters of group g,
    weights wpack[woff:] laid out
    (ntaps, PF) with zero columns past nf, initial values bpack[b*PF:] (the
    biases, zeros without bias).  Unit of parallel work: (n, od, `bpu`
    consecutive blocks, chunk of `chunk` output positions, a multiple of
    A); a unit runs its blocks over each group of positions in turn (the
    input read once for all of them).  Every output element is one tile
    call (init, then the taps in order), as in the FILT drivers, so results
    do not depend on the thread count, `bpu` or `chunk`.

    `src`: xp is pad_source(src, xp, spd, sph, spw, ...)'s layout, not
    filled yet; each unit first fills the padded rows its positions read
    (KD x KH taps, dilations dd, dh; see rows_correlate's `src`), and with
    `maxabs` the call returns the largest finite |x| found while copying.
    `stream`: write out with non-temporal stores where a level's group
    store can (AVX-512 float32, 64-byte aligned lines of out).
    `blocks_outer`: units go block group by block group (every image of
    one group of filter blocks, then the next group) instead of image by
    image, so the threads share one group's packed weights at a time and
    each keeps them in its own cache across images (weights larger than a
    core's L2; the inputs are then read once per block group).
    `contiguous`: with column stride 1 or 2, tiles whose positions lie in
    one row run the registry entry's `fn_c1` / `fn_c2` variant (same
    bits); False runs every tile on the general one.
    `ctoff` ... `dcls` (all or none): tap classes, so that a tile skips the
    taps that read only zero padding for all its positions (exact only for
    finite weights and no bias of -0.0: the caller's test).  Class c runs
    the taps ctoff[cstart[c]:cstart[c+1]] with weights at cwoff[...] (into
    a block's packing, tap t's at t * PF), ckpc[c] of each of the Cg
    channels; the tile of positions i*A ... of output depth plane od runs
    class dcls[od] + tcls[i].  tblk must then be a multiple of the taps per
    channel, ntaps // Cg.
    """
    cdef Py_ssize_t N = out.shape[0], F = out.shape[1], OD = out.shape[2]
    cdef Py_ssize_t OH = out.shape[3], OW = out.shape[4]
    cdef Py_ssize_t nblk = blocks.shape[0], ntaps = toff.shape[0]
    cdef Py_ssize_t xn = xstr[0], xc = xstr[1], xd = xstr[2], rp = sh * xstr[3]
    cdef Py_ssize_t ostride = OD * OH * OW
    cdef const fc_tile_entry *e = &fc_tiles[tile]
    cdef Py_ssize_t PF = e.b * e.lanes, R = e.a
    cdef Py_ssize_t kend = OH * OW
    cdef Py_ssize_t nch, nunits, nbg
    cdef Py_ssize_t u, r, n, bg, od, ch, b0, b1, k0, k1
    cdef void (*fn_c)() noexcept nogil
    cdef bint classes = ctoff is not None
    cdef Py_ssize_t tpc = ntaps // Cg if Cg > 0 else 1, ncls, c, i, tlo, thi
    cdef const Py_ssize_t *tlist = &toff[0] if ntaps > 0 else NULL
    cdef const Py_ssize_t *wlist
    cdef const Py_ssize_t *pstart = NULL
    cdef const Py_ssize_t *pkpc = NULL
    cdef const Py_ssize_t *ptcls = NULL
    if e.kind != 1 or e.itemsize != sizeof(floating) or R > 16 or PF > 64:
        raise ValueError("tile: not a FILTT tile of this dtype")
    ident = _every_tap(ntaps, PF)
    wlist = <const Py_ssize_t *> <char *> ident
    if classes:
        if (cwoff is None or cstart is None or ckpc is None or tcls is None or dcls is None
                or tpc * Cg != ntaps or (0 < tblk < ntaps and tblk % tpc != 0)):
            raise ValueError("filtt_correlate: incomplete tap classes")
        ncls = ckpc.shape[0]
        if (cstart.shape[0] != ncls + 1 or cwoff.shape[0] != ctoff.shape[0]
                or cstart[0] != 0 or cstart[ncls] != ctoff.shape[0]
                or tcls.shape[0] < (OH * OW + R - 1) // R or dcls.shape[0] < OD):
            raise ValueError("filtt_correlate: tap classes do not match")
        for c in range(ncls):
            if not 0 <= ckpc[c] <= tpc or cstart[c + 1] - cstart[c] != ckpc[c] * Cg:
                raise ValueError("filtt_correlate: tap classes do not match")
        for i in range(cwoff.shape[0]):
            if not 0 <= cwoff[i] <= (ntaps - 1) * PF:
                raise ValueError("filtt_correlate: a tap's weights lie outside the packing")
        tlo = thi = 0
        for c in range((OH * OW + R - 1) // R):
            tlo = tcls[c] if c == 0 or tcls[c] < tlo else tlo
            thi = tcls[c] if c == 0 or tcls[c] > thi else thi
        for i in range(OD):
            if not (0 <= dcls[i] + tlo and dcls[i] + thi < ncls):
                raise ValueError("filtt_correlate: tap classes do not match")
        tlist = &ctoff[0] if ctoff.shape[0] > 0 else wlist
        if cwoff.shape[0] > 0:
            wlist = &cwoff[0]
        pstart = &cstart[0]
        pkpc = &ckpc[0]
        ptcls = &tcls[0]
    fn_c = NULL
    if contiguous:
        fn_c = e.fn_c1 if sw == 1 else e.fn_c2 if sw == 2 else NULL
    if chunk < R:
        chunk = R
    chunk = (chunk + R - 1) // R * R
    if bpu < 1 or bpu > nblk:
        bpu = nblk if nblk > 0 else 1
    nbg = (nblk + bpu - 1) // bpu
    nch = (kend + chunk - 1) // chunk
    nunits = N * OD * nbg * nch
    cdef bint lazy = src is not None
    cdef const floating *sbase = NULL
    cdef Py_ssize_t Wq = xstr[3], Hp = xd // Wq if Wq > 0 else 0
    cdef Py_ssize_t Dp = xc // xd if xd > 0 else 0, rpb = 1, prows = 0
    cdef long *bstate = NULL
    keep = []
    if nunits == 0:
        return 0.0 if maxabs else None
    maxabs = maxabs and lazy
    res = bytearray(8 * nunits if maxabs else 8)
    cdef int64_t[::1] slots = memoryview(res).cast("q")
    cdef _PadGeo pgeo
    if lazy:
        bstate = _lazy_setup(src, spd, sph, spw, Dp, Hp, Wq, blockbytes, &pgeo, &sbase,
                             &prows, &rpb, keep)
    with nogil:
        for u in prange(nunits, schedule='dynamic', num_threads=nthreads,
                        use_threads_if=nthreads > 1):
            ch = u % nch
            r = u // nch
            if blocks_outer:
                od = r % OD
                r = r // OD
                n = r % N
                bg = r // N
            else:
                bg = r % nbg
                r = r // nbg
                od = r % OD
                n = r // OD
            b0 = bg * bpu
            b1 = b0 + bpu if b0 + bpu < nblk else nblk
            k0 = ch * chunk
            k1 = k0 + chunk
            if k1 > kend:
                k1 = kend
            if lazy:
                # the unit's group reads channels blocks[b0, 3] * Cg ...
                _lazy_rows(sbase, &pgeo, <floating *> &xp[0], prows, bstate, rpb,
                           (n * xn + blocks[b0, 3] * Cg * xc + od * sd * xd) // Wq, Cg,
                           xc // Wq, (KD - 1) * dd + 1, k0 // OW * sh,
                           (k1 - 1) // OW * sh + (KH - 1) * dh, ahead,
                           &slots[u] if maxabs else NULL)
            _filtt_chunk(&xp[0] + n * xn + od * sd * xd, Cg * xc, tlist, wlist, pstart,
                         pkpc, ptcls, dcls[od] if classes else 0, tpc, &wpack[0],
                         &blocks[0, 0], b0, b1, &bpack[0], ntaps,
                         &out[n, 0, od, 0, 0], ostride, k0, k1, rp, sw, OW, tblk, group,
                         relu, e.fn, fn_c, R, PF, stream)
    if maxabs:
        return _slots_max(slots, nunits, floating is float)


cdef int _wgrad_unit(const floating *xg, const Py_ssize_t *pos, Py_ssize_t p0,
                     Py_ssize_t p1, const Py_ssize_t *toff, const Py_ssize_t *woff,
                     Py_ssize_t ntaps,
                     const floating *wb, Py_ssize_t tblk, floating *orow,
                     Py_ssize_t ostride, Py_ssize_t nf, void (*fn)() noexcept nogil,
                     Py_ssize_t R, Py_ssize_t PF) noexcept nogil:
    # filtt_wgrad's unit: positions p0 .. p1-1 (whole tiles of R; the last
    # tile repeats its last position) of one block of PF filters, all taps,
    # in blocks of tblk each run over every tile of the unit (the block's
    # packed weights stay in L1 for all of them), the sums carried in tb;
    # then out[f, p] for the block's nf filters.  Returns -1 when out of
    # memory (nothing written).
    cdef Py_ssize_t nt = (p1 - p0 + R - 1) // R, i, j, t0, nb
    cdef floating *tb = <floating *> malloc(sizeof(floating) * nt * R * PF)
    cdef Py_ssize_t *ploc = <Py_ssize_t *> malloc(sizeof(Py_ssize_t) * nt * R)
    if tb == NULL or ploc == NULL:
        free(tb)
        free(ploc)
        return -1
    for i in range(nt * R):
        ploc[i] = pos[p0 + i] if p0 + i < p1 else ploc[i - 1]
    t0 = 0
    while t0 < ntaps:
        nb = ntaps - t0 if ntaps - t0 < tblk else tblk
        for i in range(nt):
            if floating is float:
                (<fc_filtt_float_fn>fn)(xg, toff + t0, woff + t0, wb, nb, &ploc[i * R],
                                        &tb[i * R * PF], NULL, t0 > 0)
            else:
                (<fc_filtt_double_fn>fn)(xg, toff + t0, woff + t0, wb, nb, &ploc[i * R],
                                         &tb[i * R * PF], NULL, t0 > 0)
        t0 = t0 + nb
    for j in range(nf):
        for i in range(p1 - p0):
            orow[j * ostride + p0 + i] = tb[i * PF + j]
    free(tb)
    free(ploc)
    return 0


def pack_filters_last(const floating[:, :, ::1] g, const Py_ssize_t[:, ::1] blocks,
                      floating[:, :, ::1] wp, int nthreads):
    """wp[b, n * P + p, j] = g[n, f0 + j, p] for j < nf and 0 for nf <= j <
    PF, blocks[b] = (f0, nf, ...): an output gradient g (N, F, P) packed as
    the FILTT weights of :func:`filtt_wgrad` (taps (n, p), PF filters).
    Units of (block, image) in parallel; each transposes its nf x P slice
    with the FILTT group store's register blocks (a scalar loop took 2.4 ms
    for 16 x 64 x 3136 float32 on one thread, Intel Xeon).  Internal."""
    cdef Py_ssize_t N = g.shape[0], P = g.shape[2], PF = wp.shape[2]
    cdef Py_ssize_t nblk = blocks.shape[0], u, b, n, f0, nf, p, j
    if wp.shape[0] != nblk or wp.shape[1] != N * P:
        raise ValueError("pack_filters_last: shapes do not match")
    for b in range(nblk):
        if blocks[b, 1] > PF or blocks[b, 0] + blocks[b, 1] > g.shape[1]:
            raise ValueError("pack_filters_last: a block does not fit")
    if N * P == 0 or nblk == 0:
        return
    with nogil:
        for u in prange(nblk * N, schedule='static', num_threads=nthreads,
                        use_threads_if=nthreads > 1):
            b = u // N
            n = u % N
            f0 = blocks[b, 0]
            nf = blocks[b, 1]
            if floating is float:
                fc_filtt_untile_float(&g[n, f0, 0], P, nf, P, &wp[b, n * P, 0], PF, 0, 0)
            else:
                fc_filtt_untile_double(&g[n, f0, 0], P, nf, P, &wp[b, n * P, 0], PF, 0, 0)
            if nf < PF:
                for p in range(P):
                    for j in range(nf, PF):
                        wp[b, n * P + p, j] = 0


def filtt_wgrad(const floating[::1] xp, const Py_ssize_t[::1] pos,
                const Py_ssize_t[::1] toff, const floating[::1] wpack,
                const Py_ssize_t[:, ::1] blocks, floating[:, ::1] out,
                Py_ssize_t gstride, Py_ssize_t tblk, Py_ssize_t chunk, Py_ssize_t tile,
                int nthreads):
    """Weight gradient of a convolution with FILTT tiles.  Internal.

    out[f, p] = sum over taps t, in order, of g_f[t] * xp[xoff + pos[p] +
    toff[t]]: the positions p are a group's (input channel, kernel offset)
    pairs, the taps the (image, output position) pairs, g_f the output
    gradient of filter f.  blocks[b] = (f0, nf, woff, g): filters f0 ..
    f0+nf-1 of group g (xoff = g * gstride), their g_f packed (ntaps, PF)
    at wpack[woff:] with zero columns past nf.  Units: (block, chunk of
    positions); each output is one sum over every tap in order whatever the
    thread count, so the bits do not depend on it.  tile: a FILTT entry of
    the registry (A positions x PF filters); `chunk`: positions per unit
    (rounded up to whole tiles).  A unit reads its block's packed weights
    and its positions' input once, whatever the number of taps.
    """
    cdef const fc_tile_entry *e = &fc_tiles[tile]
    cdef Py_ssize_t PF = e.b * e.lanes, R = e.a
    cdef Py_ssize_t npos = pos.shape[0], ntaps = toff.shape[0], nblk = blocks.shape[0]
    cdef Py_ssize_t nch, nunits, u, b, ch, p0, p1
    cdef int failed = 0
    if e.kind != 1 or e.itemsize != sizeof(floating) or R > 16 or PF > 64:
        raise ValueError("tile: not a FILTT tile of this dtype")
    if out.shape[1] != npos or wpack.shape[0] < nblk * ntaps * PF:
        raise ValueError("filtt_wgrad: shapes do not match")
    chunk = (max(chunk, 1) + R - 1) // R * R
    if tblk < 1:
        tblk = ntaps
    nch = (npos + chunk - 1) // chunk
    nunits = nblk * nch
    if nunits == 0 or ntaps == 0:
        return
    ident = _every_tap(ntaps, PF)
    cdef const Py_ssize_t *widt = <const Py_ssize_t *> <char *> ident
    with nogil:
        for u in prange(nunits, schedule='dynamic', num_threads=nthreads,
                        use_threads_if=nthreads > 1):
            b = u // nch
            ch = u % nch
            p0 = ch * chunk
            p1 = p0 + chunk if p0 + chunk < npos else npos
            if _wgrad_unit(&xp[0] + blocks[b, 3] * gstride, &pos[0], p0, p1, &toff[0],
                           widt, ntaps, &wpack[0] + blocks[b, 2], tblk,
                           &out[blocks[b, 0], 0], npos,
                           blocks[b, 1], e.fn, R, PF) != 0:
                failed = 1
    if failed:
        raise MemoryError("filtt_wgrad: no memory for a unit's sums")


# SLIDE tiles (_rows_tiles.h): the ROWS tiles that load each input vector once
# per input row and apply it to every output row of the tile that uses it.
cdef extern from "_rows_tiles.h" nogil:
    int FC_SLIDE_R
    int FC_SLIDE_U
    int FC_SLIDE_TW_float
    int FC_SLIDE_TW_double
    int FC_SLIDE_HAS_WIDE
    int FC_SLIDEW_R
    int FC_SLIDEW_TW_float
    int FC_SLIDEW_TW_double
    int fc_slide_wide_preferred()
    void fc_slide_float(const float *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                        Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                        const float *w, float *out, Py_ssize_t ors, int ncols, float init)
    void fc_slide_double(const double *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                         Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                         const double *w, double *out, Py_ssize_t ors, int ncols,
                         double init)
    void fc_slide1_float(const float *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                         Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                         const float *w, float *out, Py_ssize_t ors, int ncols, float init)
    void fc_slide1_double(const double *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                          Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                          const double *w, double *out, Py_ssize_t ors, int ncols,
                          double init)
    void fc_slide_strip_float(const float *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                              Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                              const float *w, float *out, Py_ssize_t ors, Py_ssize_t ntiles,
                              float init)
    void fc_slide_strip_double(const double *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                               Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                               const double *w, double *out, Py_ssize_t ors,
                               Py_ssize_t ntiles, double init)
    void fc_slidew_float(const float *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                        Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                        const float *w, float *out, Py_ssize_t ors, int ncols, float init)
    void fc_slidew_double(const double *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                         Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                         const double *w, double *out, Py_ssize_t ors, int ncols,
                         double init)
    void fc_slidew1_float(const float *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                         Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                         const float *w, float *out, Py_ssize_t ors, int ncols, float init)
    void fc_slidew1_double(const double *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                          Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                          const double *w, double *out, Py_ssize_t ors, int ncols,
                          double init)
    void fc_slidew_strip_float(const float *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                              Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                              const float *w, float *out, Py_ssize_t ors, Py_ssize_t ntiles,
                              float init)
    void fc_slidew_strip_double(const double *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                               Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                               const double *w, double *out, Py_ssize_t ors,
                               Py_ssize_t ntiles, double init)


cdef inline void _slide_tile(const floating *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                             Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                             const floating *w, floating *out, Py_ssize_t ors, int ncols,
                             floating init, bint one, bint sw) noexcept nogil:
    # sw: the 512-bit SLIDE tile (AVX-512 builds), else the level's own
    if floating is float:
        if sw:
            if one:
                fc_slidew1_float(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ncols, init)
            else:
                fc_slidew_float(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ncols, init)
        elif one:
            fc_slide1_float(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ncols, init)
        else:
            fc_slide_float(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ncols, init)
    else:
        if sw:
            if one:
                fc_slidew1_double(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ncols, init)
            else:
                fc_slidew_double(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ncols, init)
        elif one:
            fc_slide1_double(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ncols, init)
        else:
            fc_slide_double(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ncols, init)


cdef inline void _slide_strip(const floating *x, Py_ssize_t xrs, const Py_ssize_t *toff,
                              Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t cs,
                              const floating *w, floating *out, Py_ssize_t ors,
                              Py_ssize_t ntiles, floating init, bint sw) noexcept nogil:
    if floating is float:
        if sw:
            fc_slidew_strip_float(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ntiles, init)
        else:
            fc_slide_strip_float(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ntiles, init)
    else:
        if sw:
            fc_slidew_strip_double(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ntiles, init)
        else:
            fc_slide_strip_double(x, xrs, toff, KD, KH, KW, cs, w, out, ors, ntiles, init)


# asked once: CPUID is a VM exit under a hypervisor, and plans ask per geometry
cdef bint _SLIDE_WIDE_PREFERRED = FC_SLIDE_HAS_WIDE and fc_slide_wide_preferred()


def slide_wide_preferred():
    """True where this build has a 512-bit SLIDE tile and the CPU runs it
    faster than the 256-bit one (see _rows_tiles.h).  Internal."""
    return bool(_SLIDE_WIDE_PREFERRED)


cdef extern from "_dw_tiles.h" nogil:
    int fc_dw_stream_preferred()
    int fc_cpu_vendor()


cdef bint _DW_STREAM_PREFERRED = fc_dw_stream_preferred()
cdef int _CPU_VENDOR = fc_cpu_vendor()


def cpu_vendor():
    """'amd', 'intel' or '' (another or unknown; cpuid on x86).  Internal."""
    return ("", "amd", "intel")[_CPU_VENDOR]


def dw_stream_preferred():
    """True where the DW3 driver's non-temporal stores are used for large
    outputs on this CPU (see fc_dw_stream_preferred, _dw_tiles.h).
    Internal."""
    return bool(_DW_STREAM_PREFERRED)


def slide_has_wide():
    """True where this build has a 512-bit SLIDE tile.  Internal."""
    return bool(FC_SLIDE_HAS_WIDE)


def rows_tile(dtype_char, bint wide=False, bint slide=True, bint slide_wide=False):
    """(output rows, output columns) of the ROWS tile the driver runs for
    'f' (float32) or 'd': the SLIDE tile (`slide_wide`: the 512-bit one of
    AVX-512 builds), the 1-D (`wide`) tile or, with `slide` False, the
    tap-by-tap tile."""
    cdef int V = FC_LANES_float if dtype_char == 'f' else FC_LANES_double
    if wide:
        return 1, 8 * V
    if slide and slide_wide:
        return FC_SLIDEW_R, (FC_SLIDEW_TW_float if dtype_char == 'f' else FC_SLIDEW_TW_double)
    if slide:
        return FC_SLIDE_R, (FC_SLIDE_TW_float if dtype_char == 'f' else FC_SLIDE_TW_double)
    return 4, 3 * V


def slide_ok(const Py_ssize_t[::1] toff, Py_ssize_t KD, Py_ssize_t KH, Py_ssize_t KW,
             Py_ssize_t xrs):
    """Column step `cs` when every tap offset is toff[kd, 0, 0] + kh * xrs +
    kw * cs (the SLIDE tiles' geometry: output rows xrs apart reuse input
    rows), else 0.  Internal."""
    cdef Py_ssize_t cs = toff[1] - toff[0] if KW > 1 else 1
    cdef Py_ssize_t kd, kh, kw, base
    if cs <= 0 or toff.shape[0] != KD * KH * KW:
        return 0
    for kd in range(KD):
        base = toff[kd * KH * KW]
        for kh in range(KH):
            for kw in range(KW):
                if toff[(kd * KH + kh) * KW + kw] != base + kh * xrs + kw * cs:
                    return 0
    return cs


cdef inline void _rows_border(const floating *xplane, floating *out0, Py_ssize_t OW,
                              Py_ssize_t nr, const floating *wf, floating init,
                              Py_ssize_t c0, Py_ssize_t c1, Py_ssize_t od, Py_ssize_t oh0,
                              Py_ssize_t sd, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t dd,
                              Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t pd, Py_ssize_t ph,
                              Py_ssize_t pw, Py_ssize_t xd, Py_ssize_t xh, Py_ssize_t D,
                              Py_ssize_t H, Py_ssize_t W, Py_ssize_t KD, Py_ssize_t KH,
                              Py_ssize_t KW) noexcept nogil:
    """Output columns [c0, c1) of rows oh0 .. oh0 + nr - 1 (out0 = row oh0) by
    the generic loop: taps in C order, taps outside the source skipped."""
    cdef Py_ssize_t rr, j, kd, kh, kw, kd0, kd1, kh0, kh1, off, a, bb
    cdef floating *orow
    cdef const floating *xrow
    cdef floating wv
    if c0 >= c1:
        return
    for rr in range(nr):
        orow = out0 + rr * OW
        for j in range(c0, c1):
            orow[j] = init
        kd0 = _tap_lo(od, sd, dd, pd)
        kd1 = _tap_hi(od, sd, dd, pd, D, KD, kd0)
        kh0 = _tap_lo(oh0 + rr, sh, dh, ph)
        kh1 = _tap_hi(oh0 + rr, sh, dh, ph, H, KH, kh0)
        for kd in range(kd0, kd1):
            for kh in range(kh0, kh1):
                xrow = xplane + (od * sd + kd * dd - pd) * xd + \
                    ((oh0 + rr) * sh + kh * dh - ph) * xh
                if sw == 1:
                    # no divisions: the valid columns of tap kw are -off <= j < W - off
                    for kw in range(KW):
                        wv = wf[(kd * KH + kh) * KW + kw]
                        off = kw * dw - pw
                        a = c0 if c0 > -off else -off
                        bb = c1 if c1 < W - off else W - off
                        for j in range(a, bb):
                            orow[j] = orow[j] + wv * xrow[j + off]
                else:
                    for kw in range(KW):
                        wv = wf[(kd * KH + kh) * KW + kw]
                        off = kw * dw - pw
                        a = _col_lo(off, sw, c0)
                        bb = _col_hi(off, sw, W, c1, a)
                        for j in range(a, bb):
                            orow[j] = orow[j] + wv * xrow[j * sw + off]


cdef inline void _rows_scratch(const floating *xrow0, Py_ssize_t xrs, Py_ssize_t nrows,
                               Py_ssize_t c0, Py_ssize_t SW, Py_ssize_t W,
                               floating *buf) noexcept nogil:
    """Rows xrow0 + i * xrs (i < nrows), source columns c0 .. c0 + SW - 1,
    into buf (nrows, SW), zero outside 0 .. W - 1."""
    cdef Py_ssize_t i, lo, hi
    lo = -c0 if c0 < 0 else 0
    hi = W - c0 if W - c0 < SW else SW
    if hi < lo:
        hi = lo
    # one memcpy and up to two memsets per row (an element-wise loop with
    # a bounds test per element was most of a border tile's time: 2-D
    # 2048^2 5x5 float32 'same', 1 thread, 0.3 ms of 4.3)
    for i in range(nrows):
        if lo > 0:
            memset(buf + i * SW, 0, sizeof(floating) * lo)
        if hi > lo:
            memcpy(buf + i * SW + lo, xrow0 + i * xrs + c0 + lo, sizeof(floating) * (hi - lo))
        if SW > hi:
            memset(buf + i * SW + hi, 0, sizeof(floating) * (SW - hi))


cdef extern from "_dw_tiles.h" nogil:
    void fc_row_max_float(const float *src, Py_ssize_t n, int64_t *m)
    void fc_gather2_row_float(float *dst, const float *src, Py_ssize_t n)
    void fc_gather2_row_double(double *dst, const double *src, Py_ssize_t n)
    void fc_row_max_double(const double *src, Py_ssize_t n, int64_t *m)


cdef inline void _owned(Py_ssize_t o0, Py_ssize_t o1, Py_ssize_t no, Py_ssize_t s,
                        Py_ssize_t p, Py_ssize_t n, Py_ssize_t *lo,
                        Py_ssize_t *hi) noexcept nogil:
    # The input indices [lo, hi) that the output block [o0, o1) of `no`
    # owns for the overflow guard's scan: from its first window start to
    # the next block's, the first block from 0 and the last to n -- the
    # blocks in order tile [0, n) exactly once.
    lo[0] = 0 if o0 == 0 else o0 * s - p
    hi[0] = n if o1 >= no else o1 * s - p
    if lo[0] < 0:
        lo[0] = 0
    if hi[0] > n:
        hi[0] = n


cdef void _rows_own_max(const floating *xplane, Py_ssize_t xd, Py_ssize_t xh,
                        Py_ssize_t od, Py_ssize_t OD, Py_ssize_t oh0, Py_ssize_t oh1,
                        Py_ssize_t OH, Py_ssize_t ow0, Py_ssize_t ow1, Py_ssize_t OW,
                        const Py_ssize_t *geo, Py_ssize_t D, Py_ssize_t H, Py_ssize_t W,
                        int64_t *m) noexcept nogil:
    # rows_correlate's unit (od, rows oh0..oh1-1, columns ow0..ow1-1)
    # raises *m to the largest finite |x| (bit pattern) over the input it
    # owns (_owned per axis; geo as rows_correlate's): every unit of a
    # channel together scan it once.
    cdef Py_ssize_t d0, d1, h0, h1, w0, w1, i, h
    _owned(od, od + 1, OD, geo[0], geo[6], D, &d0, &d1)
    _owned(oh0, oh1, OH, geo[1], geo[7], H, &h0, &h1)
    _owned(ow0, ow1, OW, geo[2], geo[8], W, &w0, &w1)
    if w1 <= w0:
        return
    for i in range(d0, d1):
        for h in range(h0, h1):
            if floating is float:
                fc_row_max_float(xplane + i * xd + h * xh + w0, w1 - w0, m)
            else:
                fc_row_max_double(xplane + i * xd + h * xh + w0, w1 - w0, m)


cdef extern from "_omp_shim.h" nogil:
    int fc_block_claim(long *s)
    void fc_block_publish(long *s)
    void fc_block_wait(long *s)


cdef struct _PadGeo:
    # The zero-padded copy of a source x (N, C, D, H, W) into the layout
    # (N, C, Dp, Hp, Wq) with pads pd, ph, pw before each axis.  Strides of
    # x in elements: a lazy copy may read a strided view (the phase of a
    # stride that _engine._reduce_geometry keeps) without a copy of its own.
    Py_ssize_t C, D, H, W
    Py_ssize_t sn, sc, sd, sh, sw
    Py_ssize_t pd, ph, pw
    Py_ssize_t Dp, Hp, Wq


cdef _PadGeo _pad_geo(const Py_ssize_t *shape, const Py_ssize_t *strides, Py_ssize_t itemsize,
                      Py_ssize_t pd, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t Dp,
                      Py_ssize_t Hp, Py_ssize_t Wq) noexcept:
    # the _PadGeo of a 5-D memoryview (shape, byte strides)
    cdef _PadGeo g
    g.C, g.D, g.H, g.W = shape[1], shape[2], shape[3], shape[4]
    g.sn, g.sc, g.sd = strides[0] // itemsize, strides[1] // itemsize, strides[2] // itemsize
    g.sh, g.sw = strides[3] // itemsize, strides[4] // itemsize
    g.pd, g.ph, g.pw, g.Dp, g.Hp, g.Wq = pd, ph, pw, Dp, Hp, Wq
    return g


cdef void _pad_row(const floating *x, const _PadGeo *g, floating *flat, Py_ssize_t q,
                   int64_t *mx) noexcept nogil:
    # Row q (over (N, C, Dp, Hp)) of the padded layout of `g`; mx: NULL, or
    # raised to the largest finite |x| of the row (bit pattern).
    cdef Py_ssize_t hp = q % g.Hp, r = q // g.Hp, dp, c, n, d, h, j
    cdef Py_ssize_t W = g.W, pw = g.pw, Wq = g.Wq, sw = g.sw
    cdef floating *row = flat + q * Wq
    cdef const floating *src
    dp = r % g.Dp
    r = r // g.Dp
    c = r % g.C
    n = r // g.C
    d = dp - g.pd
    h = hp - g.ph
    if d < 0 or d >= g.D or h < 0 or h >= g.H:
        for j in range(Wq):
            row[j] = 0
        return
    src = x + n * g.sn + c * g.sc + d * g.sd + h * g.sh
    for j in range(pw):
        row[j] = 0
    if sw != 1:
        # a strided row: gathered (stride 2 by vector shuffles), then scanned
        # in place
        if sw == 2:
            if floating is float:
                fc_gather2_row_float(row + pw, src, W)
            else:
                fc_gather2_row_double(row + pw, src, W)
        else:
            for j in range(W):
                row[pw + j] = src[j * sw]
        if mx != NULL:
            if floating is float:
                fc_row_max_float(row + pw, W, mx)
            else:
                fc_row_max_double(row + pw, W, mx)
    elif mx == NULL:
        for j in range(W):
            row[pw + j] = src[j]
    elif floating is float:
        fc_dw_copy_row_max_float(row + pw, src, W, mx)
    else:
        fc_dw_copy_row_max_double(row + pw, src, W, mx)
    for j in range(pw + W, Wq):
        row[j] = 0


cdef void _lazy_rows(const floating *x, const _PadGeo *geo, floating *flat, Py_ssize_t nrows,
                     long *state, Py_ssize_t rpb, Py_ssize_t g0, Py_ssize_t nchan,
                     Py_ssize_t crows, Py_ssize_t nplanes, Py_ssize_t r0, Py_ssize_t r1,
                     Py_ssize_t ahead, int64_t *mx) noexcept nogil:
    # The lazy padded copy of rows_correlate and filtt_correlate (`geo`,
    # the layout of pad_source): before a unit reads padded rows r0..r1 (inclusive; r1
    # may pass a plane's end into the next) of `nplanes` consecutive planes
    # of `nchan` channels (`crows` rows apart) from global row g0, every
    # block of `rpb` rows they touch is filled (by this unit if no other has
    # claimed it) and waited for; the `ahead` blocks after each plane's last
    # are claimed too, not waited for, so the next units rarely wait.
    cdef Py_ssize_t nblocks = (nrows + rpb - 1) // rpb
    cdef Py_ssize_t c, q, b, b0, b1, bend, g, gend, base
    for c in range(nchan):
        for q in range(nplanes):
            base = g0 + c * crows + q * geo.Hp
            b0 = (base + r0) // rpb
            b1 = (base + r1) // rpb
            bend = b1 + 1 + ahead if b1 + 1 + ahead < nblocks else nblocks
            for b in range(b0, bend):
                if fc_block_claim(&state[b]):
                    gend = (b + 1) * rpb if (b + 1) * rpb < nrows else nrows
                    for g in range(b * rpb, gend):
                        _pad_row(x, geo, flat, g, mx)
                    fc_block_publish(&state[b])
    for c in range(nchan):
        for q in range(nplanes):
            base = g0 + c * crows + q * geo.Hp
            b0 = (base + r0) // rpb
            b1 = (base + r1) // rpb
            if b1 >= nblocks:
                b1 = nblocks - 1
            for b in range(b0, b1 + 1):
                fc_block_wait(&state[b])


cdef long *_lazy_state(object src, Py_ssize_t Dp, Py_ssize_t Hp, Py_ssize_t rowbytes,
                       Py_ssize_t blockbytes, Py_ssize_t *prows, Py_ssize_t *rpb,
                       list keep) except? NULL:
    # The block states of a lazy padded copy of src (N, C, D, H, W) into
    # (N, C, Dp, Hp, rows of `rowbytes`): blocks of ~`blockbytes` of rows
    # (at least one row), all unfilled; the array is kept alive by `keep`.
    prows[0] = src.shape[0] * src.shape[1] * Dp * Hp
    rpb[0] = blockbytes // rowbytes if rowbytes < blockbytes else 1
    buf = bytearray(sizeof(long) * ((prows[0] + rpb[0] - 1) // rpb[0] + 1))
    keep.append(buf)
    return <long *> <char *> buf


cdef long *_lazy_setup(const floating[:, :, :, :, :] src, Py_ssize_t spd, Py_ssize_t sph,
                       Py_ssize_t spw, Py_ssize_t Dp, Py_ssize_t Hp, Py_ssize_t Wq,
                       Py_ssize_t blockbytes, _PadGeo *pgeo, const floating **sbase,
                       Py_ssize_t *prows, Py_ssize_t *rpb, list keep) except? NULL:
    # A driver's lazy copy of src into the padded layout (Dp, Hp, rows of Wq):
    # its geometry, src's first element and the block states (_lazy_state).
    if src.shape[0] * src.shape[1] * src.shape[2] * src.shape[3] * src.shape[4] > 0:
        sbase[0] = &src[0, 0, 0, 0, 0]
    pgeo[0] = _pad_geo(src.shape, src.strides, sizeof(floating), spd, sph, spw, Dp, Hp, Wq)
    return _lazy_state(src, Dp, Hp, Wq * sizeof(floating), blockbytes, prows, rpb, keep)


def rows_correlate(const floating[::1] xp, const Py_ssize_t[::1] xstr,
                   const Py_ssize_t[::1] toff, const floating[:, ::1] wtaps,
                   floating[:, :, :, :, ::1] out, const floating[::1] bias,
                   const Py_ssize_t[::1] geo, const Py_ssize_t[::1] src_shape,
                   bint padded, bint slack, bint relu, Py_ssize_t colchunk, int nthreads,
                   bint slide=False, bint maxabs=False,
                   const floating[:, :, :, :, :] src=None, Py_ssize_t spd=0,
                   Py_ssize_t sph=0, Py_ssize_t spw=0, Py_ssize_t blockbytes=8192,
                   Py_ssize_t ahead=1, bint slide_wide=False):
    """One-channel-per-filter register-tiled correlation (ROWS tiles).  Internal.

    The unit of parallel work is (image, filter, depth, block of rows, chunk
    of `colchunk` columns); colchunk is a multiple of the tile width chosen
    by the engine so long 1-D rows still feed every thread.

    Filter f reads channel f of xp (depthwise, or a single channel) with
    weights wtaps[f] (ntaps,).  geo = strides (3), dilations (3), pad_lo (3)
    of the *source* buffer (pads are 0 for a padded copy).  When not
    `padded`, tiles whose window leaves the source run a generic border
    loop that skips the outside taps (zero padding).  src_shape = (D, H, W,
    KD, KH, KW).  `slide`: run the SLIDE tiles (rows_tile(.., slide=True)
    rows x columns), which need slide_ok(toff, KD, KH, KW, sh * xh) != 0;
    else the tap-by-tap ROWS tiles.  Both accumulate the taps in C order.
    `maxabs` (in place, not `padded`): each unit also scans the input it
    owns (`_owned`) while it is in cache, and the call returns the largest
    finite |x| -- the engine's overflow guard without a pass of its own.

    `src` (with `padded`, not 1-D): xp is not filled yet; it is
    pad_source(src, xp, spd, sph, spw, ...)'s layout, and each unit first
    fills the blocks of padded rows it reads (`_lazy_rows`): the copy runs
    inside this parallel region, a few rows ahead of the units that read
    them, instead of a memory-bound pass of its own before it (which two
    threads ran only 1.6x faster than one).  With `maxabs` the call returns
    the largest finite |x| over the rows copied.
    """
    cdef Py_ssize_t N = out.shape[0], F = out.shape[1], OD = out.shape[2]
    cdef Py_ssize_t OH = out.shape[3], OW = out.shape[4]
    cdef Py_ssize_t ntaps = toff.shape[0]
    cdef Py_ssize_t xn = xstr[0], xc = xstr[1], xd = xstr[2], xh = xstr[3]
    cdef Py_ssize_t sd = geo[0], sh = geo[1], sw = geo[2]
    cdef Py_ssize_t dd = geo[3], dh = geo[4], dw = geo[5]
    cdef Py_ssize_t pd = geo[6], ph = geo[7], pw = geo[8]
    cdef Py_ssize_t D = src_shape[0], H = src_shape[1], W = src_shape[2]
    cdef Py_ssize_t KD = src_shape[3], KH = src_shape[4], KW = src_shape[5]
    cdef int V = FC_LANES_float if floating is float else FC_LANES_double
    cdef bint wide = OH == 1 and OD == 1
    cdef Py_ssize_t R = 1 if wide else 4
    cdef int TW = (8 if wide else 3) * V
    cdef Py_ssize_t cs = 0
    cdef Py_ssize_t jlo = 0, jhi1 = OW, tmax = 0, xlen = xp.shape[0]
    cdef bint tiled
    cdef Py_ssize_t tt
    for tt in range(ntaps):
        if toff[tt] > tmax:
            tmax = toff[tt]
    if not padded:
        # output columns whose windows leave the source: j < jlo or j >= jhi1
        jlo = _ceildiv(pw, sw) if pw > 0 else 0
        jhi1 = _floordiv(W - 1 + pw - (KW - 1) * dw, sw) + 1
        if jhi1 > OW:
            jhi1 = OW
    # Border tiles of the SLIDE path read a zero-padded scratch copy of their
    # window: w * 0 added to an accumulator leaves it bit for bit unchanged
    # (the generic loop skips those taps) as long as every weight is finite
    # and no accumulator starts at -0 (a bias of -0.0); else the generic loop.
    cdef bint padsafe = False
    cdef Py_ssize_t SW = 0, ff
    cdef floating *scratch = NULL
    cdef floating bv
    if slide and not wide:
        cs = slide_ok(toff, KD, KH, KW, sh * xh)
        if cs == 0:
            raise ValueError("rows_correlate: the tap offsets do not fit the SLIDE tiles")
        slide_wide = slide_wide and FC_SLIDE_HAS_WIDE
        if slide_wide:
            R = FC_SLIDEW_R
            TW = FC_SLIDEW_TW_float if floating is float else FC_SLIDEW_TW_double
        else:
            R = FC_SLIDE_R
            TW = FC_SLIDE_TW_float if floating is float else FC_SLIDE_TW_double
        padsafe = not padded and KD == 1
        for ff in range(wtaps.shape[0]):
            for tt in range(wtaps.shape[1]):
                bv = wtaps[ff, tt]
                if not (bv - bv == 0):
                    padsafe = False
            if bias.shape[0] > 0:
                bv = bias[ff]
                if bv == 0 and copysign(1.0, bv) < 0:
                    padsafe = False
        SW = TW + (KW - 1) * cs
    else:
        slide = False
    cdef Py_ssize_t nrb = (OH + R - 1) // R
    cdef Py_ssize_t ncb
    cdef Py_ssize_t nunits
    cdef Py_ssize_t cb, owend
    cdef bint has_bias = bias.shape[0] > 0
    cdef Py_ssize_t u, r, n, f, od, rb, oh0, nr, ow0, rr, j, t, id0, ih0, kd, kh, kw, a, bb
    cdef Py_ssize_t kd0, kd1, kh0, kh1, off, sa, sb, segend, sg
    cdef int ncols
    cdef bint inside
    if colchunk < TW:
        colchunk = TW
    colchunk = (colchunk + TW - 1) // TW * TW
    ncb = (OW + colchunk - 1) // colchunk
    nunits = N * F * OD * nrb * ncb
    cdef const floating *xplane
    cdef const floating *xrow
    cdef floating *orow
    cdef const floating *wf
    cdef floating init, wv
    cdef bint lazy = src is not None and padded and not wide
    cdef const floating *sbase = NULL
    cdef Py_ssize_t rpb = 1, prows = 0, extra = 0
    cdef _PadGeo pgeo
    cdef long *bstate = NULL
    keep = []
    if src is not None and not lazy:
        raise ValueError("rows_correlate: a lazy copy needs padded, multi-row output")
    if nunits == 0:
        return 0.0 if maxabs else None
    maxabs = maxabs and (lazy or not padded)
    if lazy:
        bstate = _lazy_setup(src, spd, sph, spw, D, H, xh, blockbytes, &pgeo, &sbase,
                             &prows, &rpb, keep)
        # a partial tile reads up to TW - 1 elements past its last row's end
        extra = (TW + xh - 1) // xh
    res = bytearray(8 * nunits if maxabs else 8)
    cdef int64_t[::1] slots = memoryview(res).cast("q")
    # Units are handed out `grab` at a time: consecutive row blocks of one
    # plane share input rows, so a thread that takes neighbours finds half of
    # its input in L1.  One unit per grab made two threads alternate blocks
    # (3-D 128^3 5^3 float32 on Zen 2: 7.1 ms on 2 threads vs 12.4 on 1;
    # grabs of ~1024 output columns: 6.3 ms).  At least 16 grabs per thread
    # are kept so a thread can still take over a descheduled one's work.
    # Wide planes take at least 4 row blocks per grab: one unit of a 2048^2
    # image is a whole 4-row strip, and with one per grab the threads
    # alternated strips, each re-reading the other's input rows (2-D 5x5
    # float32, 2 threads: 3.06 -> 2.82-2.95 ms with 4).
    cdef Py_ssize_t grab = 1024 // (colchunk if colchunk < OW else OW)
    if grab < 4:
        grab = 4
    if grab > nunits // (16 * nthreads):
        grab = nunits // (16 * nthreads)
    if grab < 1:
        grab = 1
    with nogil:
        for u in prange(nunits, schedule='dynamic', num_threads=nthreads,
                        use_threads_if=nthreads > 1, chunksize=grab):
            scratch = NULL
            cb = u % ncb
            r = u // ncb
            rb = r % nrb
            r = r // nrb
            od = r % OD
            r = r // OD
            f = r % F
            n = r // F
            oh0 = rb * R
            nr = OH - oh0 if OH - oh0 < R else R
            xplane = &xp[0] + n * xn + f * xc
            wf = &wtaps[f, 0]
            init = bias[f] if has_bias else 0
            id0 = od * sd - pd
            inside = padded or (id0 >= 0 and id0 + (KD - 1) * dd < D and
                                oh0 * sh - ph >= 0 and
                                (oh0 + nr - 1) * sh - ph + (KH - 1) * dh < H)
            ow0 = cb * colchunk
            owend = ow0 + colchunk
            if owend > OW:
                owend = OW
            if lazy:
                _lazy_rows(sbase, &pgeo, <floating *> &xp[0], prows, bstate, rpb,
                           (n * xn + f * xc + id0 * xd) // xh, 1, 0, (KD - 1) * dd + 1, oh0 * sh,
                           (oh0 + nr - 1) * sh + (KH - 1) * dh + extra, ahead,
                           &slots[u] if maxabs else NULL)
            if slide and not inside and KD == 1 and id0 >= 0 and id0 < D:
                # top/bottom rows: per row, the SLIDE tile over the kernel rows
                # inside the source (the taps the generic loop would keep, in
                # the same order)
                for rr in range(nr):
                    kh0 = _tap_lo(oh0 + rr, sh, dh, ph)
                    kh1 = _tap_hi(oh0 + rr, sh, dh, ph, H, KH, kh0)
                    ow0 = cb * colchunk
                    while ow0 < owend:
                        ncols = <int>(owend - ow0) if owend - ow0 < TW else TW
                        a = ow0 if ow0 > jlo else jlo
                        bb = ow0 + ncols if ow0 + ncols < jhi1 else jhi1
                        tiled = kh1 > kh0 and a < bb
                        if tiled and bb - a < TW and not slack:
                            tiled = (xplane - &xp[0]) + id0 * xd + \
                                ((oh0 + rr) * sh + kh0 * dh - ph) * xh + a - pw + \
                                tmax + TW - 1 < xlen
                        if tiled:
                            _slide_tile(xplane + id0 * xd + ((oh0 + rr) * sh + kh0 * dh - ph) * xh
                                        + a - pw, sh * xh, &toff[0], 1, kh1 - kh0, KW, cs,
                                        wf + kh0 * KW, &out[n, f, od, oh0 + rr, a], OW,
                                        <int>(bb - a), init, True, slide_wide)
                        else:
                            a = ow0
                            bb = ow0
                        _rows_border(xplane, &out[n, f, od, oh0 + rr, 0], OW, 1, wf, init,
                                     ow0, a, od, oh0 + rr, sd, sh, sw, dd, dh, dw, pd, ph, pw,
                                     xd, xh, D, H, W, KD, KH, KW)
                        _rows_border(xplane, &out[n, f, od, oh0 + rr, 0], OW, 1, wf, init,
                                     bb, ow0 + ncols, od, oh0 + rr, sd, sh, sw, dd, dh, dw, pd,
                                     ph, pw, xd, xh, D, H, W, KD, KH, KW)
                        ow0 = ow0 + TW
            else:
                # interior: the full SLIDE tiles whose windows stay inside the
                # source, [sa, sb), in one call; the columns either side
                # (borders, a partial tile) by the per-tile loop below
                sa = owend
                sb = owend
                if slide and inside and nr == R:
                    sa = ow0 if ow0 > jlo else jlo
                    if sa > owend:
                        sa = owend
                    sb = owend if owend < jhi1 else jhi1
                    sb = sa + (sb - sa) // TW * TW if sb > sa else sa
                    if sb > sa:
                        _slide_strip(xplane + id0 * xd + (oh0 * sh - ph) * xh + sa - pw,
                                     sh * xh, &toff[0], KD, KH, KW, cs, wf,
                                     &out[n, f, od, oh0, sa], OW, (sb - sa) // TW, init,
                                     slide_wide)
                for sg in range(2):
                    if sg == 0:
                        segend = sa
                    else:
                        ow0 = sb
                        segend = owend
                    while ow0 < segend:
                        ncols = <int>(segend - ow0) if segend - ow0 < TW else TW
                        # [a, b): the columns whose windows stay inside the source
                        a = ow0 if ow0 > jlo else jlo
                        bb = ow0 + ncols if ow0 + ncols < jhi1 else jhi1
                        tiled = inside and a < bb
                        if tiled and bb - a < TW and not slack:
                            # a partial tile reads TW columns: only where memory follows
                            tiled = (xplane - &xp[0]) + id0 * xd + (oh0 * sh - ph) * xh + a \
                                - pw + tmax + (nr - 1) * sh * xh + TW - 1 < xlen
                        if padsafe and inside and (not tiled or a > ow0 or bb < ow0 + ncols):
                            # border columns: the SLIDE tile on a zero-padded copy
                            if scratch == NULL:
                                scratch = <floating *> malloc(sizeof(floating) * (R + KH - 1) * SW)
                            if scratch != NULL:
                                _rows_scratch(xplane + id0 * xd + (oh0 * sh - ph) * xh, sh * xh,
                                              nr + KH - 1, ow0 - pw, SW, W, scratch)
                                if nr == R:
                                    _slide_tile(scratch - toff[0], SW, &toff[0], 1, KH, KW, cs, wf,
                                                &out[n, f, od, oh0, ow0], OW, ncols, init, False,
                                                slide_wide)
                                else:
                                    for rr in range(nr):
                                        _slide_tile(scratch + rr * SW - toff[0], SW, &toff[0],
                                                    1, KH, KW, cs, wf,
                                                    &out[n, f, od, oh0 + rr, ow0], OW, ncols,
                                                    init, True, slide_wide)
                                a = ow0
                                bb = ow0 + ncols
                                tiled = False
                            elif not tiled:
                                a = ow0
                                bb = ow0
                        elif not tiled:
                            a = ow0
                            bb = ow0
                        if not tiled:
                            pass
                        elif slide:
                            if nr == R:
                                _slide_tile(xplane + id0 * xd + (oh0 * sh - ph) * xh + a - pw,
                                            sh * xh, &toff[0], KD, KH, KW, cs, wf,
                                            &out[n, f, od, oh0, a], OW, <int>(bb - a), init, False,
                                            slide_wide)
                            else:
                                for rr in range(nr):
                                    _slide_tile(xplane + id0 * xd + ((oh0 + rr) * sh - ph) * xh
                                                + a - pw, sh * xh, &toff[0], KD, KH, KW, cs, wf,
                                                &out[n, f, od, oh0 + rr, a], OW, <int>(bb - a),
                                                init, True, slide_wide)
                        elif nr == R:
                            _rows_tile(xplane + id0 * xd + (oh0 * sh - ph) * xh + a - pw,
                                       sh * xh, &toff[0], wf, ntaps,
                                       &out[n, f, od, oh0, a], OW, <int>(bb - a), init, R, wide)
                        else:
                            for rr in range(nr):
                                _rows_tile(xplane + id0 * xd + ((oh0 + rr) * sh - ph) * xh + a
                                           - pw, sh * xh, &toff[0], wf, ntaps,
                                           &out[n, f, od, oh0 + rr, a], OW, <int>(bb - a), init, 1,
                                           False)
                        # border columns: generic loop, outside taps skipped (zero padding)
                        _rows_border(xplane, &out[n, f, od, oh0, 0], OW, nr, wf, init, ow0, a,
                                     od, oh0, sd, sh, sw, dd, dh, dw, pd, ph, pw, xd, xh,
                                     D, H, W, KD, KH, KW)
                        _rows_border(xplane, &out[n, f, od, oh0, 0], OW, nr, wf, init, bb,
                                     ow0 + ncols, od, oh0, sd, sh, sw, dd, dh, dw, pd, ph, pw,
                                     xd, xh, D, H, W, KD, KH, KW)
                        ow0 = ow0 + TW
            if relu:
                # the fused ReLU, once over the unit's outputs
                for rr in range(nr):
                    orow = &out[n, f, od, oh0 + rr, 0]
                    for j in range(cb * colchunk, owend):
                        if orow[j] < 0:
                            orow[j] = 0
            if maxabs and not lazy and (f == 0 or xc != 0):
                # after the tiles: the rows the unit owns are in cache now
                _rows_own_max(xplane, xd, xh, od, OD, oh0, oh0 + nr, OH, cb * colchunk, owend,
                              OW, &geo[0], D, H, W, &slots[u])
            if scratch != NULL:
                free(scratch)
    if maxabs:
        return _slots_max(slots, nunits, floating is float)



# DW3 tiles (_dw_tiles.h): 3x3, stride-1 planes (depthwise layers), each
# plane copied into an L1-sized zero-bordered scratch and tiled from there.
cdef extern from "_dw_tiles.h" nogil:
    void fc_dw3_band_float(const float *x, Py_ssize_t H, Py_ssize_t W, Py_ssize_t pt,
                           Py_ssize_t pl, float *s, Py_ssize_t SW, const float *w,
                           float init, float *out, Py_ssize_t OW, Py_ssize_t oa,
                           Py_ssize_t ob, int relu, const float *next, Py_ssize_t nextbytes,
                           int stream, int64_t *mx)
    void fc_dw3_band_double(const double *x, Py_ssize_t H, Py_ssize_t W, Py_ssize_t pt,
                            Py_ssize_t pl, double *s, Py_ssize_t SW, const double *w,
                            double init, double *out, Py_ssize_t OW, Py_ssize_t oa,
                            Py_ssize_t ob, int relu, const double *next, Py_ssize_t nextbytes,
                            int stream, int64_t *mx)
    Py_ssize_t fc_dw3_sw_float(Py_ssize_t OW)
    Py_ssize_t fc_dw3_sw_double(Py_ssize_t OW)
    void fc_dw_copy_row_max_float(float *dst, const float *src, Py_ssize_t n, int64_t *m)
    void fc_dw_copy_row_max_double(double *dst, const double *src, Py_ssize_t n,
                                   int64_t *m)


cdef object _slots_max(const int64_t[::1] slots, Py_ssize_t n, bint single):
    """The largest of `n` per-unit maxima of finite |x| bit patterns (see
    max_finite_abs) as a Python float: float32 patterns when `single`."""
    cdef int64_t mbest = 0
    cdef int32_t m32
    cdef Py_ssize_t u
    for u in range(n):
        if slots[u] > mbest:
            mbest = slots[u]
    if single:
        m32 = <int32_t> mbest
        return float((<float *> &m32)[0])
    return float((<double *> &mbest)[0])


def dw3_correlate(const floating[:, :, ::1] x, const floating[:, ::1] w,
                  const floating[::1] bias, floating[:, :, ::1] out,
                  Py_ssize_t pt, Py_ssize_t pl, bint relu, int nthreads,
                  bint stream=False, Py_ssize_t band=0, bint maxabs=False):
    """3x3, stride-1, undilated correlation of every plane: x (P, H, W) ->
    out (P, OH, OW), plane p filtered by w[p % C] (C, 9) plus bias[p % C]
    (none when empty), zero padding of pt rows above and pl columns left
    (OH <= H + 2 - pt, OW <= W + 2 - pl).  Each plane is cut into bands of
    `band` output rows (0 or >= OH: whole planes); units of parallel work
    are runs of consecutive (plane, band) pairs, and each holds one scratch
    of band + 2 rows (its border cleared once).  The results are bitwise
    the same for any `band` and thread count.  The caller ensures the
    weights are finite and no bias is -0.0 (see _dw_tiles.h).  `stream`:
    non-temporal stores where aligned (outputs much larger than the
    caches).  `maxabs`: also return the largest finite |x| over the input
    rows read (every row when H + pt == OH + 2) as a Python float, found
    while copying (the engine's overflow guard); otherwise None.
    Internal."""
    cdef Py_ssize_t P = x.shape[0], H = x.shape[1], W = x.shape[2]
    cdef Py_ssize_t C = w.shape[0], OH = out.shape[1], OW = out.shape[2]
    cdef int64_t *mxp
    cdef bint has_bias = bias.shape[0] > 0
    cdef Py_ssize_t SW = fc_dw3_sw_float(OW) if floating is float else fc_dw3_sw_double(OW)
    cdef Py_ssize_t per, nunits, u, t, t1, p, f, nb, T, oa, ob, p2, oa2, ob2, r0, r1
    cdef int failed = 0
    cdef floating *s
    cdef const floating *x0
    cdef const floating *nxt
    cdef Py_ssize_t nbytes
    cdef floating init
    if w.shape[1] != 9 or out.shape[0] != P or P == 0 or OH == 0 or OW == 0:
        if P and OH and OW:
            raise ValueError("dw3_correlate: bad shapes")
        return
    if pt < 0 or pl < 0 or H + pt > OH + 2 or W + pl > SW:
        raise ValueError("dw3_correlate: the plane does not fit the scratch")
    if band <= 0 or band > OH:
        band = OH
    nb = (OH + band - 1) // band
    T = P * nb
    x0 = &x[0, 0, 0]
    per = T // (8 * nthreads) if T >= 8 * nthreads else 1
    nunits = (T + per - 1) // per
    res = bytearray(8 * nunits)
    cdef int64_t[::1] slots = memoryview(res).cast("q")
    with nogil:
        for u in prange(nunits, schedule='dynamic', num_threads=nthreads,
                        use_threads_if=nthreads > 1):
            mxp = &slots[u] if maxabs else NULL
            s = <floating *> calloc((band + 2) * SW, sizeof(floating))
            if s == NULL:
                failed += 1
                continue
            t1 = (u + 1) * per if (u + 1) * per < T else T
            for t in range(u * per, t1):
                p = t // nb
                oa = (t % nb) * band
                ob = oa + band if oa + band < OH else OH
                f = p % C
                init = bias[f] if has_bias else 0
                # the input rows the next band of this unit adds (its halo
                # rows shared with this band are already in cache)
                nxt = NULL
                nbytes = 0
                if t + 1 < t1:
                    p2 = (t + 1) // nb
                    oa2 = ((t + 1) % nb) * band
                    ob2 = oa2 + band if oa2 + band < OH else OH
                    r0 = ob + 2 - pt if p2 == p else 0
                    r1 = ob2 + 2 - pt
                    if r0 < 0:
                        r0 = 0
                    if r1 > H:
                        r1 = H
                    if r1 > r0:
                        nxt = x0 + (p2 * H + r0) * W
                        nbytes = (r1 - r0) * W * <Py_ssize_t> sizeof(floating)
                if floating is float:
                    fc_dw3_band_float(x0 + p * H * W, H, W, pt, pl, s, SW, &w[f, 0], init,
                                      &out[p, 0, 0], OW, oa, ob, relu, nxt, nbytes, stream,
                                      mxp)
                else:
                    fc_dw3_band_double(x0 + p * H * W, H, W, pt, pl, s, SW, &w[f, 0], init,
                                       &out[p, 0, 0], OW, oa, ob, relu, nxt, nbytes, stream,
                                      mxp)
            free(s)
    if failed:
        raise MemoryError("dw3_correlate: no memory for a scratch plane")
    if not maxabs:
        return None
    return _slots_max(slots, nunits, floating is float)


def pad_source(const floating[:, :, :, :, ::1] x, floating[::1] flat,
               Py_ssize_t pd, Py_ssize_t ph, Py_ssize_t pw,
               Py_ssize_t Dp, Py_ssize_t Hp, Py_ssize_t Wq, int nthreads,
               bint maxabs=False):
    """Zero-padded copy of x (N, C, D, H, W) into flat, laid out (N, C, Dp, Hp, Wq).
    Internal.

    The unit of parallel work is a block of consecutive padded rows of about
    32 KB: one row per unit made the two threads write neighbouring rows,
    which share cache lines at their ends (a row is rarely a multiple of 64
    bytes), and took the shared unit counter once per few hundred bytes --
    two threads copied slower than one.  `maxabs`: also return the largest
    finite |x| (every element of x is copied once), found while copying
    (the engine's overflow guard, as :func:`max_finite_abs`); else None."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], D = x.shape[2]
    cdef Py_ssize_t H = x.shape[3], W = x.shape[4]
    cdef Py_ssize_t nrows = N * C * Dp * Hp
    cdef Py_ssize_t per = (32768 // sizeof(floating) + Wq - 1) // Wq if Wq > 0 else 1
    cdef Py_ssize_t nunits = (nrows + per - 1) // per
    cdef Py_ssize_t u, q, qend
    cdef const floating *xbase = NULL
    if nrows == 0:
        return 0.0 if maxabs else None
    if N * C * D * H * W > 0:
        xbase = &x[0, 0, 0, 0, 0]
    cdef _PadGeo pgeo = _pad_geo(x.shape, x.strides, sizeof(floating), pd, ph, pw, Dp, Hp, Wq)
    res = bytearray(8 * nunits if maxabs else 8)
    cdef int64_t[::1] slots = memoryview(res).cast("q")
    with nogil:
        for u in prange(nunits, schedule='dynamic', num_threads=nthreads,
                        use_threads_if=nthreads > 1):
            qend = (u + 1) * per
            if qend > nrows:
                qend = nrows
            for q in range(u * per, qend):
                _pad_row(xbase, &pgeo, &flat[0], q, &slots[u] if maxabs else NULL)
    if not maxabs:
        return None
    return _slots_max(slots, nunits, floating is float)


def any_nonfinite(const floating[::1] a, int nthreads):
    """True when `a` holds a NaN or an infinity (x - x is 0 exactly for finite
    x).  Chunks are checked in parallel; each writes only its own flag.  Internal."""
    cdef Py_ssize_t n = a.shape[0]
    cdef Py_ssize_t chunk = 1 << 16
    cdef Py_ssize_t nchunks = (n + chunk - 1) // chunk
    cdef Py_ssize_t c, i, lo, hi
    cdef unsigned char bad
    cdef floating d
    if n == 0:
        return False
    flags = bytearray(nchunks)
    cdef unsigned char[::1] fl = flags
    with nogil:
        for c in prange(nchunks, schedule='dynamic', num_threads=nthreads,
                        use_threads_if=nthreads > 1 and nchunks > 1):
            lo = c * chunk
            hi = lo + chunk
            if hi > n:
                hi = n
            bad = 0
            for i in range(lo, hi):
                d = a[i] - a[i]
                bad = bad | (d != 0)
            fl[c] = bad
    return any(flags)



def max_finite_abs(const floating[::1] a, int nthreads):
    """Largest ``|a[i]|`` over the finite elements of `a` (0.0 when there are
    none), as a Python float.  The engine uses it to tell whether a finite
    product could overflow (the only case where fused multiply-adds change
    which outputs are NaN or infinite).

    Branch-free on the bit patterns: for non-negative IEEE numbers the
    integer order is the numeric order, so ``|a[i]|`` is the sign-cleared
    pattern, non-finite patterns (exponent all ones) become 0, and a max
    reduction over the patterns as *signed* integers (non-negative once the
    sign is cleared; signed max vectorises at every level, unsigned 32-bit
    and 64-bit max do not: 4.8 vs 17-21 GB/s measured on Zen 4) gives the
    answer.  Chunks run in parallel; each writes its
    own slot.  Internal."""
    cdef Py_ssize_t n = a.shape[0]
    cdef Py_ssize_t chunk = 1 << 16
    cdef Py_ssize_t nchunks = (n + chunk - 1) // chunk
    cdef Py_ssize_t c, lo, hi
    cdef int32_t m32
    cdef int64_t m64
    cdef float f32
    cdef double f64
    if n == 0:
        return 0.0
    res = bytearray(8 * nchunks)
    cdef int64_t[::1] mx = memoryview(res).cast("q")
    with nogil:
        for c in prange(nchunks, schedule='dynamic', num_threads=nthreads,
                        use_threads_if=nthreads > 1 and nchunks > 1):
            lo = c * chunk
            hi = lo + chunk if lo + chunk < n else n
            mx[c] = 0
            if floating is float:
                fc_row_max_float(&a[lo], hi - lo, &mx[c])
            else:
                fc_row_max_double(&a[lo], hi - lo, &mx[c])
    m64 = max(mx)
    if floating is float:
        m32 = <int32_t> m64
        memcpy(&f32, &m32, 4)
        return float(f32)
    memcpy(&f64, &m64, 8)
    return float(f64)


cdef double _max_finite_abs_serial(const floating *a, Py_ssize_t n) noexcept nogil:
    # max_finite_abs on one thread (the same bit-pattern reduction)
    cdef int64_t m = 0
    cdef int32_t m32
    cdef float f32
    cdef double f64
    if floating is float:
        fc_row_max_float(a, n, &m)
        m32 = <int32_t> m
        memcpy(&f32, &m32, 4)
        return f32
    else:
        fc_row_max_double(a, n, &m)
        memcpy(&f64, &m, 8)
        return f64


def products_may_overflow(const floating[::1] x, const floating[::1] w, double big):
    """One thread, no allocation: whether ``max|x| * max|w| >= big`` over the
    finite elements, `x` scanned only when some ``|w| > 1`` (the engine's
    overflow guard for small operands).  Internal."""
    cdef double mw = 0.0, mx = 0.0
    with nogil:
        if w.shape[0]:
            mw = _max_finite_abs_serial(&w[0], w.shape[0])
        if mw > 1.0 and x.shape[0]:
            mx = _max_finite_abs_serial(&x[0], x.shape[0])
    return mw > 1.0 and mx * mw >= big


cdef extern from "_fft_cols.h" nogil:
    int FC_HAVE_FFT_COLS
    int FC_FFT_VBYTES
    int fc_fft_cols_float(float *x, Py_ssize_t n, Py_ssize_t rs, Py_ssize_t c0, Py_ssize_t c1,
                          int nst, const Py_ssize_t *fac, const Py_ssize_t *perm,
                          const float *tr, const float *ti, const Py_ssize_t *toff,
                          int inverse, float scale)
    int fc_fft_cols_double(double *x, Py_ssize_t n, Py_ssize_t rs, Py_ssize_t c0,
                           Py_ssize_t c1, int nst, const Py_ssize_t *fac,
                           const Py_ssize_t *perm, const double *tr, const double *ti,
                           const Py_ssize_t *toff, int inverse, double scale)
    int fc_fft_cols_conv_float(float *x, Py_ssize_t n, Py_ssize_t rs, Py_ssize_t c0,
                               Py_ssize_t c1, const float *h, Py_ssize_t hs, int nst,
                               const Py_ssize_t *fac, const Py_ssize_t *perm,
                               const float *tr, const float *ti, const Py_ssize_t *toff,
                               float scale)
    int fc_fft_cols_conv_double(double *x, Py_ssize_t n, Py_ssize_t rs, Py_ssize_t c0,
                                Py_ssize_t c1, const double *h, Py_ssize_t hs, int nst,
                                const Py_ssize_t *fac, const Py_ssize_t *perm,
                                const double *tr, const double *ti, const Py_ssize_t *toff,
                                double scale)

    int fc_fft_rows_r2c_float(const float *x, Py_ssize_t nrows, Py_ssize_t xs, float *out,
                              Py_ssize_t os, Py_ssize_t h, int nst, const Py_ssize_t *fac,
                              const Py_ssize_t *perm, const float *tr, const float *ti,
                              const Py_ssize_t *toff, const float *wr, const float *wi)
    int fc_fft_rows_r2c_double(const double *x, Py_ssize_t nrows, Py_ssize_t xs, double *out,
                               Py_ssize_t os, Py_ssize_t h, int nst, const Py_ssize_t *fac,
                               const Py_ssize_t *perm, const double *tr, const double *ti,
                               const Py_ssize_t *toff, const double *wr, const double *wi)
    int fc_fft_rows_c2r_float(const float *sp, Py_ssize_t nrows, Py_ssize_t ss, float *y,
                              Py_ssize_t ys, Py_ssize_t y0, Py_ssize_t ym, Py_ssize_t h, int nst, const Py_ssize_t *fac,
                              const Py_ssize_t *perm, const float *tr, const float *ti,
                              const Py_ssize_t *toff, const float *wr, const float *wi,
                              float scale)
    int fc_fft_rows_c2r_double(const double *sp, Py_ssize_t nrows, Py_ssize_t ss, double *y,
                               Py_ssize_t ys, Py_ssize_t y0, Py_ssize_t ym, Py_ssize_t h, int nst, const Py_ssize_t *fac,
                               const Py_ssize_t *perm, const double *tr, const double *ti,
                               const Py_ssize_t *toff, const double *wr, const double *wi,
                               double scale)


def fft_cols_available():
    """True when this level has the vectorised column FFT (GCC/clang builds)."""
    return FC_HAVE_FFT_COLS != 0


def fft_vector_bytes():
    """Bytes of the vectors the column and row FFTs run on at this level (the
    level's register width: 16 at the baseline, 32 at AVX2, 64 at AVX-512),
    0 without them."""
    return FC_FFT_VBYTES


cdef int _fft_cols_check(Py_ssize_t n, Py_ssize_t width, Py_ssize_t nperm, Py_ssize_t nfac,
                         Py_ssize_t ntoff) except -1:
    if nperm != n or ntoff != nfac:
        raise ValueError("fft_cols: the plan is for another length")
    if width % 2:
        raise ValueError("fft_cols: rows of interleaved complex numbers have even length")
    return 0


cdef int _fft_cols_raise(int rc) except -1:
    if rc == -1:
        raise MemoryError("fft_cols: no memory for the scratch")
    if rc != 0:
        raise RuntimeError("fft_cols: not available at this level")
    return 0


def fft_cols(floating[:, :, ::1] x, const Py_ssize_t[::1] fac, const Py_ssize_t[::1] perm,
             const floating[::1] tr, const floating[::1] ti, const Py_ssize_t[::1] toff,
             bint inverse, double scale):
    """In place: the complex FFT of every column of each x[o] along axis 1
    (x: a complex64/complex128 array (outer, n, cols) viewed as its real
    type, (outer, n, 2 cols)), forward, or the inverse (conjugate transform)
    times `scale`; the plan is fastconv._fft._cols_plan(n, dtype)'s (tables
    in x's precision).  Runs on the calling thread without the GIL.
    Internal."""
    cdef Py_ssize_t nout = x.shape[0], n = x.shape[1], nc = x.shape[2] // 2, o
    cdef int rc = 0
    _fft_cols_check(n, x.shape[2], perm.shape[0], fac.shape[0], toff.shape[0])
    if nout == 0 or n == 0 or nc == 0:
        return
    with nogil:
        for o in range(nout):
            if floating is float:
                rc = fc_fft_cols_float(&x[o, 0, 0], n, 2 * nc, 0, nc, <int> fac.shape[0],
                                       &fac[0], &perm[0], &tr[0], &ti[0], &toff[0], inverse,
                                       <float> scale)
            else:
                rc = fc_fft_cols_double(&x[o, 0, 0], n, 2 * nc, 0, nc, <int> fac.shape[0],
                                        &fac[0], &perm[0], &tr[0], &ti[0], &toff[0], inverse,
                                        scale)
            if rc != 0:
                break
    _fft_cols_raise(rc)


def fft_cols_conv(floating[:, :, ::1] x, const floating[:, ::1] h,
                  const Py_ssize_t[::1] fac, const Py_ssize_t[::1] perm,
                  const floating[::1] tr, const floating[::1] ti, const Py_ssize_t[::1] toff,
                  double scale):
    """In place, column by column of each x[o] (n rows; arrays as in
    fft_cols): the forward FFT, times h (n, 2 cols: the same for every o),
    the inverse FFT times `scale` -- fft_cols forward, the product and
    fft_cols inverse in one pass over the columns.  Runs on the calling
    thread without the GIL.  Internal."""
    cdef Py_ssize_t nout = x.shape[0], n = x.shape[1], nc = x.shape[2] // 2, o
    cdef int rc = 0
    _fft_cols_check(n, x.shape[2], perm.shape[0], fac.shape[0], toff.shape[0])
    if h.shape[0] != n or h.shape[1] != x.shape[2]:
        raise ValueError("fft_cols_conv: h does not match x")
    if nout == 0 or n == 0 or nc == 0:
        return
    with nogil:
        for o in range(nout):
            if floating is float:
                rc = fc_fft_cols_conv_float(&x[o, 0, 0], n, 2 * nc, 0, nc, &h[0, 0], 2 * nc,
                                            <int> fac.shape[0], &fac[0], &perm[0], &tr[0],
                                            &ti[0], &toff[0], <float> scale)
            else:
                rc = fc_fft_cols_conv_double(&x[o, 0, 0], n, 2 * nc, 0, nc, &h[0, 0], 2 * nc,
                                             <int> fac.shape[0], &fac[0], &perm[0], &tr[0],
                                             &ti[0], &toff[0], scale)
            if rc != 0:
                break
    _fft_cols_raise(rc)



cdef int _fft_rows_check(Py_ssize_t h, Py_ssize_t nperm, Py_ssize_t nfac, Py_ssize_t ntoff,
                         Py_ssize_t nw) except -1:
    if nperm != h or ntoff != nfac:
        raise ValueError("fft_rows: the plan is not the half length's")
    if nw < h + 1:
        raise ValueError("fft_rows: the unpacking twiddles need h + 1 entries")
    return 0


cdef int _fft_rows_unit(Py_ssize_t s1, Py_ssize_t s2, Py_ssize_t item) except -1:
    if s1 != item or s2 != item:
        raise ValueError("fft_rows: the samples of a row must be contiguous")
    return 0


def fft_rows_r2c(const floating[:, :, :] x, floating[:, :, :] out,
                 const Py_ssize_t[::1] fac, const Py_ssize_t[::1] perm,
                 const floating[::1] tr, const floating[::1] ti, const Py_ssize_t[::1] toff,
                 const floating[::1] wr, const floating[::1] wi):
    """out[o, r] = rfft(x[o, r]) for every row: x (outer, rows, n) real with
    n = 2 h even, out the complex (outer, rows, h + 1) result viewed as its
    real type (outer, rows, 2 h + 2); rows and outer blocks may be any
    distance apart, the samples of a row contiguous.  The
    plan is fastconv._fft._rows_plan(n, dtype)'s (the column FFT's plan of
    length h, then W^k = (wr[k], wi[k]) for k <= h).  Runs on the calling
    thread without the GIL.  Internal."""
    cdef Py_ssize_t nout = x.shape[0], nr = x.shape[1], n = x.shape[2], h = n // 2, o
    cdef int rc = 0
    if n % 2 or out.shape[0] != nout or out.shape[1] != nr or out.shape[2] != n + 2:
        raise ValueError("fft_rows_r2c: x must be (outer, rows, 2 h), out (outer, rows, 2 h + 2)")
    _fft_rows_unit(x.strides[2], out.strides[2], sizeof(floating))
    _fft_rows_check(h, perm.shape[0], fac.shape[0], toff.shape[0], min(wr.shape[0], wi.shape[0]))
    if nout == 0 or nr == 0 or h == 0:
        return
    with nogil:
        for o in range(nout):
            if floating is float:
                rc = fc_fft_rows_r2c_float(&x[o, 0, 0], nr, x.strides[1] // sizeof(float),
                                           &out[o, 0, 0], out.strides[1] // sizeof(float), h,
                                           <int> fac.shape[0], &fac[0], &perm[0], &tr[0],
                                           &ti[0], &toff[0], &wr[0], &wi[0])
            else:
                rc = fc_fft_rows_r2c_double(&x[o, 0, 0], nr, x.strides[1] // sizeof(double),
                                            &out[o, 0, 0], out.strides[1] // sizeof(double), h,
                                            <int> fac.shape[0], &fac[0], &perm[0], &tr[0],
                                            &ti[0], &toff[0], &wr[0], &wi[0])
            if rc != 0:
                break
    _fft_cols_raise(rc)


def fft_rows_c2r(const floating[:, :, :] sp, floating[:, :, :] y,
                 const Py_ssize_t[::1] fac, const Py_ssize_t[::1] perm,
                 const floating[::1] tr, const floating[::1] ti, const Py_ssize_t[::1] toff,
                 const floating[::1] wr, const floating[::1] wi, double scale,
                 Py_ssize_t n=-1, Py_ssize_t start=0):
    """y[o, r] = irfft(sp[o, r], n)[start:start + m] * n * scale for every
    row (scale = 1 / n: the inverse of fft_rows_r2c; the imaginary parts of
    the first and last coefficients are ignored, as irfft does; only the
    samples kept are computed into y): sp the complex (outer, rows, h + 1)
    spectra viewed as their real type, y (outer, rows, m); n = 2 h defaults
    to m, start to 0, and start + m <= n.  Runs on the calling thread
    without the GIL.  Internal."""
    cdef Py_ssize_t nout = sp.shape[0], nr = sp.shape[1], m = y.shape[2], h, o
    cdef int rc = 0
    if n < 0:
        n = m
    h = n // 2
    if n % 2 or y.shape[0] != nout or y.shape[1] != nr or sp.shape[2] != n + 2:
        raise ValueError("fft_rows_c2r: sp must be (outer, rows, 2 h + 2), y (outer, rows, m)")
    if start < 0 or start + m > n:
        raise ValueError("fft_rows_c2r: the samples kept must lie in the row")
    _fft_rows_unit(sp.strides[2], y.strides[2], sizeof(floating))
    _fft_rows_check(h, perm.shape[0], fac.shape[0], toff.shape[0], min(wr.shape[0], wi.shape[0]))
    if nout == 0 or nr == 0 or h == 0 or m == 0:
        return
    with nogil:
        for o in range(nout):
            if floating is float:
                rc = fc_fft_rows_c2r_float(&sp[o, 0, 0], nr, sp.strides[1] // sizeof(float),
                                           &y[o, 0, 0], y.strides[1] // sizeof(float), start,
                                           m, h,
                                           <int> fac.shape[0], &fac[0], &perm[0], &tr[0],
                                           &ti[0], &toff[0], &wr[0], &wi[0], <float> scale)
            else:
                rc = fc_fft_rows_c2r_double(&sp[o, 0, 0], nr, sp.strides[1] // sizeof(double),
                                            &y[o, 0, 0], y.strides[1] // sizeof(double), start,
                                            m, h,
                                            <int> fac.shape[0], &fac[0], &perm[0], &tr[0],
                                            &ti[0], &toff[0], &wr[0], &wi[0], scale)
            if rc != 0:
                break
    _fft_cols_raise(rc)

include "_filter_kernels.pxi"
