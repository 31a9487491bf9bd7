"""FFT convolution through ``scipy.fft`` (SciPy's ``fftconvolve``/``oaconvolve``
semantics); every transform runs on one thread (scipy.fft's threaded
transforms are not bitwise reproducible across thread counts), parallel work
is whole transforms side by side.

* :func:`fftconvolve` - one transform of the whole padded problem
  (``rfftn``/``irfftn`` for real data, ``fftn``/``ifftn`` for complex; sizes
  from ``scipy.fft.next_fast_len``).
* :func:`oaconvolve` - overlap-add: the longer operand is cut into blocks
  along every axis where that pays, all blocks are transformed in one
  batched call, multiplied by the shorter operand's spectrum and added back
  with their overlaps.
* :func:`tiled_convolve` - the FFT route of ``convolve``/``correlate``
  (``method='fft'``, or chosen by ``'auto'``) for real operands: tiled
  overlap-save in the operands' precision, the kernel's spectrum computed
  once per call, cache-sized chunks of tiles on the call's thread team;
  transforms through ``scipy.fft``, or through ducc0 when the user opts in
  with ``FASTCONV_FFT=ducc0`` and has it installed (:data:`TILED_BACKEND`);
  with several axes the tile axis's transforms run on fastconv's
  vectorised column FFT (fastconv/_fft_cols.h, :data:`COLS_FFT`), fused
  with the spectrum product.
  Not SciPy's algorithm: its numbers differ from ``fftconvolve``'s by
  rounding (the FFT error bound), never with the thread count.

Time estimates for the planner live in :mod:`fastconv._cost`.

Axis handling, input swapping for ``'valid'`` and the dtype of the result
of :func:`fftconvolve`/:func:`oaconvolve` follow SciPy 1.17 exactly; the
caller has already resolved `workers`.
"""

import functools
import math
import os
import threading

import numpy as np
from scipy.special import lambertw
import scipy.fft as sp_fft

try:
    # scipy.fft's own pocketfft binding (SciPy >= 1.4), called directly by
    # the pruned route: each scipy.fft call spends ~7 us in Python argument
    # handling, a quarter of a 96 x 96 transform's time, and a transform
    # split axis by axis (to leave out zero rows) would pay it per axis.
    # Checked against scipy.fft at import; without it the route falls back.
    from scipy.fft._pocketfft import pypocketfft as _pocketfft
except ImportError:    # pragma: no cover - SciPy 1.18 and later
    try:
        # ducc0's transforms, the same calls (r2c, c2r, c2c and their
        # positional arguments) behind the same scipy.fft
        from scipy.fft._duccfft import pyduccfft as _pocketfft
    except ImportError:
        _pocketfft = None

from fastconv import _dispatch, _memory
from fastconv._engine import _scratch, has_nonfinite
from fastconv._scipy_args import conv_windows, freq_axes
from fastconv._threads import team_size

# Below this many points scipy.fft's thread pool costs more than it saves
# (64 x 64 images: 92 us on one thread, 171 us on two, dev machine).
SMALL_FFT_POINTS = 1 << 16

# Points of the tiles transformed together by the tiled route (cache-sized).
CHUNK_POINTS = 1 << 18


def _prepare(a):
    """scipy.fft input: anything not floating or complex becomes float64."""
    if a.dtype.kind not in "fc":
        return a.astype(np.float64)
    return a


def _centered(arr, shape):
    start = [(n - m) // 2 for n, m in zip(arr.shape, shape)]
    return arr[tuple(slice(s, s + m) for s, m in zip(start, shape))]


def apply_mode(ret, s1, s2, mode, axes):
    """Cut the 'full' result to `mode` (always a fresh C-contiguous array)."""
    if mode == "full":
        return ret.copy()
    if mode == "same":
        return _centered(ret, s1).copy()
    shape = [s1[a] - s2[a] + 1 if a in axes else ret.shape[a] for a in range(ret.ndim)]
    return _centered(ret, shape).copy()


def _transforms(complex_result):
    if complex_result:
        return sp_fft.fftn, sp_fft.ifftn
    return sp_fft.rfftn, sp_fft.irfftn


def spectral_product(in1, in2, axes, fshape, nthreads):
    """Inverse transform of the product of the two spectra (length `fshape`)."""
    complex_result = in1.dtype.kind == "c" or in2.dtype.kind == "c"
    fwd, inv = _transforms(complex_result)
    if nthreads > 1:
        points = math.prod(fshape)
        for ax in range(in1.ndim):
            if ax not in axes:
                points *= max(in1.shape[ax], in2.shape[ax])
        # one unit of parallel work per SMALL_FFT_POINTS points
        nthreads = team_size(nthreads, points // SMALL_FFT_POINTS)
    in1 = _prepare(in1)
    in2 = _prepare(in2)
    # Every transform runs with workers=1: scipy.fft's threaded transforms
    # are not bitwise reproducible across thread counts (SciPy 1.18.1:
    # rfftn of a (600, 300) float32 array padded to (640, 330) differs
    # between workers=1 and 2), and fastconv's results must not depend on
    # `workers`.  The two forward transforms (same size) run side by side
    # instead, each on one thread.
    if nthreads > 1:
        sp1, sp2 = _pool_map(lambda a: fwd(a, fshape, axes=axes, workers=1), (in1, in2), 2)
    else:
        sp1 = fwd(in1, fshape, axes=axes, workers=1)
        sp2 = fwd(in2, fshape, axes=axes, workers=1)
    if (sp1.shape == np.broadcast_shapes(sp1.shape, sp2.shape)
            and sp1.dtype == np.result_type(sp1.dtype, sp2.dtype)):
        sp1 *= sp2      # in place only when it keeps the wider dtype (SciPy's result type)
    else:
        sp1 = sp1 * sp2
    del sp2
    return inv(sp1, fshape, axes=axes, workers=1)


def _trivial_cases(in1, in2):
    """SciPy's results for scalars and empty inputs, its error for mismatched
    ranks; None when the inputs need an FFT."""
    if in1.ndim == in2.ndim == 0:
        return in1 * in2
    if in1.ndim != in2.ndim:
        raise ValueError("in1 and in2 should have the same dimensionality")
    if in1.size == 0 or in2.size == 0:
        return np.asarray([])
    return None


def fftconvolve(in1, in2, mode, axes, nthreads):
    """``scipy.signal.fftconvolve`` (arrays already validated as ndarrays)."""
    trivial = _trivial_cases(in1, in2)
    if trivial is not None:
        return trivial
    in1, in2, axes, _ = freq_axes(in1, in2, mode, axes)
    s1, s2 = in1.shape, in2.shape
    shape = [s1[i] + s2[i] - 1 if i in axes else max(s1[i], s2[i])
             for i in range(in1.ndim)]
    if not axes:
        ret = in1 * in2
    else:
        complex_result = in1.dtype.kind == "c" or in2.dtype.kind == "c"
        fshape = [sp_fft.next_fast_len(shape[a], not complex_result) for a in axes]
        ret = spectral_product(in1, in2, axes, fshape, nthreads)
        ret = ret[tuple(slice(n) for n in shape)]
    return apply_mode(ret, s1, s2, mode, axes)


@functools.lru_cache(maxsize=512)
def pruned_lengths(s1, s2, axes, mode, real):
    """Transform length per axis of `axes` for :func:`pruned_convolve`.

    A circular convolution of length L equals the linear one at index j up
    to the terms at j - L and j + L.  For the window [start, start + len)
    that `mode` keeps, those fall outside the full result (length
    n1 + n2 - 1) when ``L >= start + len`` and ``L >= n1 + n2 - 1 - start``;
    L is also at least each input's length (no input is cut).  'full'
    keeps SciPy's lengths; 'same' needs about n1 + n2 / 2 points instead
    of n1 + n2, 'valid' n1.

    Examples
    --------
    >>> pruned_lengths((64, 64), (31, 31), (0, 1), "same", True)
    (80, 80)
    >>> pruned_lengths((64, 64), (31, 31), (0, 1), "full", True)
    (96, 96)
    """
    wins = conv_windows(mode, s1, s2, axes)
    lengths = []
    for a in axes:
        start, length = wins[a]
        need = max(start + length, s1[a] + s2[a] - 1 - start, s1[a], s2[a])
        lengths.append(sp_fft.next_fast_len(need, real))
    return tuple(lengths)


def pruned_convolve(in1, in2, axes, mode, nthreads):
    """The single-transform FFT route of ``convolve``/``correlate``: the
    arithmetic of :func:`fftconvolve` with every transform shortened to
    what `mode` keeps (:func:`pruned_lengths`); the wrap-around of the
    shorter circular convolution lands only on discarded outputs, so the
    result differs from SciPy's by rounding only.  `in1`, `in2` and
    `axes` as returned by ``freq_axes`` (non-empty axes).  Real operands
    of one float dtype take :func:`_zero_pruned` (the same transforms,
    without the rows that are all zeros or not kept)."""
    real = in1.dtype.kind != "c" and in2.dtype.kind != "c"
    axes = list(axes)
    lengths = pruned_lengths(in1.shape, in2.shape, tuple(axes), mode, real)
    wins = conv_windows(mode, in1.shape, in2.shape, axes)
    if lean_pair(in1, in2, axes):
        return _zero_pruned(in1, in2, sorted(zip(axes, lengths)), wins)
    ret = spectral_product(in1, in2, axes, list(lengths), nthreads)
    return ret[tuple(slice(start, start + n) for start, n in wins)].copy()


def lean_pair(in1, in2, axes):
    """True when :func:`pruned_convolve` takes :func:`_zero_pruned`: real
    operands of one float dtype whose axes outside `axes` match."""
    return (_LEAN_OK and in1.dtype == in2.dtype and in1.dtype.char in "fd"
            and all(in1.shape[a] == in2.shape[a] for a in range(in1.ndim) if a not in axes))


def _zero_pruned(in1, in2, ax_len, wins):
    """:func:`pruned_convolve` for real operands of one float dtype whose
    other axes match, through pocketfft directly, axis by axis so that no
    transform runs over a line that is all zeros or that the mode drops:
    forward, the real transform along the last axis covers the operand's
    own lines only (a 31 x 31 kernel padded to 96 x 96: 31 lines, not 96),
    then the complex ones along the other axes pad with zeros; inverse, the
    complex transforms along the other axes, then the real one only on
    the lines of the window kept.  The same one-dimensional transforms as
    ``rfftn``/``irfftn``, the 1/N scale applied to the window; one
    thread, whatever the call's budget.
    64 x 64 by 31 x 31 'full' float32, the whole FFT route: 103 -> 81 us
    (Zen 4, 2026-12-06)."""
    axes = [a for a, _ in ax_len]
    L = dict(ax_len)
    last = axes[-1]
    ndim = in1.ndim
    half = L[last] // 2 + 1

    def forward(a):
        shp = list(a.shape)
        shp[last] = L[last]
        padded = np.zeros(shp, a.dtype.newbyteorder("="))    # pocketfft: native order
        padded[tuple(slice(0, n) for n in a.shape)] = a
        sp = _pocketfft.r2c(padded, (last,), True, 0, None, 1)
        if len(axes) == 1:
            return sp
        full = [L.get(d, a.shape[d]) for d in range(ndim)]
        full[last] = half
        out = np.zeros(full, sp.dtype)
        out[tuple(slice(0, n) for n in sp.shape)] = sp
        return _pocketfft.c2c(out, axes[:-1], True, 0, out, 1)

    sp = forward(in1)
    sp *= forward(in2)
    if len(axes) > 1:
        sp = _pocketfft.c2c(sp, axes[:-1], False, 0, sp, 1)
        sp = sp[tuple(slice(wins[d][0], wins[d][0] + wins[d][1])
                      if d in L and d != last else slice(None) for d in range(ndim))]
    ret = _pocketfft.c2r(sp, (last,), L[last], False, 0, None, 1)
    start, n = wins[last]
    scale = in1.dtype.type(1.0 / math.prod(L.values()))
    return np.multiply(ret[(slice(None),) * last + (slice(start, start + n),)], scale)


def _lean_check():
    """True when the pocketfft binding gives scipy.fft's transforms (its
    arguments as this module passes them)."""
    if _pocketfft is None:
        return False
    try:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((5, 6))
        want = sp_fft.irfftn(sp_fft.rfftn(a, (8, 10)) ** 2, (8, 10))
        got = _zero_pruned(a, a, [(0, 8), (1, 10)], [(0, 8), (0, 10)])
        return got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-12,
                                                            atol=1e-12))
    except Exception:   # noqa: BLE001 - any change of the private binding: fall back
        return False


_LEAN_OK = _lean_check()


# --------------------------------------------------------------------------
# Overlap-add


@functools.lru_cache(maxsize=256)
def _block_len(n_long, k, real):
    """FFT block length minimising transform work per output sample.

    The work of one block of length B is about B log2 B and it yields
    B - k + 1 new samples; the candidates are fast lengths on a geometric
    grid from 2(k - 1) up.  Returns None when a single transform is as
    good (the block would cover the whole long axis).
    """
    if k <= 1 or 2 * k >= n_long:
        return None
    best, best_cost = None, math.inf
    b = max(8, 2 * (k - 1))
    while True:
        B = sp_fft.next_fast_len(b, real)
        cost = B * math.log2(B) / (B - k + 1)
        if cost < best_cost:
            best, best_cost = B, cost
        if B - k + 1 >= n_long:
            break
        b = int(b * 1.25) + 1
    if best - k + 1 >= n_long:
        return None
    return best


def oaconvolve(in1, in2, mode, axes, nthreads):
    """``scipy.signal.oaconvolve`` (arrays already validated as ndarrays)."""
    trivial = _trivial_cases(in1, in2)
    if trivial is not None:
        return trivial
    if in1.shape == in2.shape:
        return fftconvolve(in1, in2, mode, axes, nthreads)
    in1, in2, axes, _ = freq_axes(in1, in2, mode, axes)
    axes = sorted(axes)
    s1, s2 = in1.shape, in2.shape
    if not axes:
        return apply_mode(in1 * in2, s1, s2, mode, axes)
    # SciPy's blocks where it blocks (and one transform where it does not):
    # with several axes they ran faster than this module's own lengths
    # (64 x 64 by 15 x 15: SciPy transforms whole, 97 us, against 275 for
    # 35-point blocks; 200 x 200 by 15 x 15 float64 938 against 1133 us);
    # along one axis the own lengths (100000 by 255 float64: 1182 against
    # 1461 us)
    plan = scipy_oa_plan(s1, s2, axes)
    if all(p is None for p in plan.values()):
        return fftconvolve(in1, in2, mode, axes, nthreads)
    ret = overlap_add(in1, in2, axes, nthreads, plan=plan if len(axes) > 1 else None)
    if ret is None:
        return fftconvolve(in1, in2, mode, axes, nthreads)
    return apply_mode(ret, s1, s2, mode, axes)


@functools.lru_cache(maxsize=256)
def scipy_block_len(n_long, k):
    """The block length of ``scipy.signal.oaconvolve`` along an axis (the
    minimiser of ``B log2(2B) / (B - k + 1)`` by the Lambert W function,
    rounded up to a fast length), or None where SciPy transforms the axis
    whole: equal lengths, a length-1 operand, the shorter more than half
    the longer, or a block that would cover the longer."""
    if k <= 1 or n_long == k or 2 * k >= n_long:
        return None
    overlap = k - 1
    opt = -overlap * lambertw(-1 / (2 * math.e * overlap), k=-1).real
    B = sp_fft.next_fast_len(math.ceil(opt))
    return None if B >= n_long else B


def scipy_oa_plan(s1, s2, axes):
    """:func:`oa_plan` with SciPy's block lengths (:func:`scipy_block_len`)."""
    return oa_plan(s1, s2, axes, None, lengths=lambda n_long, k, real: scipy_block_len(n_long, k))


def oa_plan(s1, s2, axes, real, lengths=None):
    """Per convolved axis: (block length, step, long operand 0/1) or None;
    `lengths(n_long, k, real)` gives the block length (default
    :func:`_block_len`)."""
    lengths = lengths or _block_len
    plan = {}
    for a in axes:
        n1, n2 = s1[a], s2[a]
        long_ = 0 if n1 >= n2 else 1
        n_long, k = max(n1, n2), min(n1, n2)
        B = None if n1 == n2 else lengths(n_long, k, real)
        plan[a] = None if B is None else (B, B - k + 1, long_)
    return plan


def overlap_add(in1, in2, axes, nthreads, plan=None):
    """Full convolution along `axes` by overlap-add; None if no axis blocks.

    Each blocked axis ``a`` of the long operand (length n) is zero-padded
    to ``nb * P`` and reshaped into ``(nb, P)`` (the short operand gets a
    block axis of size 1).  One batched transform of length B over every
    in-block axis, a broadcast product, one inverse transform; then each
    block's B outputs are laid out at offset ``j * P`` and the ``B - P``
    overlapping tail samples are added onto the next block's head.
    """
    complex_result = in1.dtype.kind == "c" or in2.dtype.kind == "c"
    s1, s2 = in1.shape, in2.shape
    if plan is None:
        plan = oa_plan(s1, s2, axes, not complex_result)
    if all(plan[a] is None for a in axes):
        return None
    ops = [in1, in2]
    full = {a: s1[a] + s2[a] - 1 for a in axes}
    # New layout: every original axis `a` becomes (block index, in-block)
    # = axes (2a, 2a + 1) in the reshaped arrays.
    for which in (0, 1):
        arr = ops[which]
        pad = []
        shape = []
        for a in range(arr.ndim):
            p = plan.get(a)
            if p is not None and p[2] == which:
                B, P, _ = p
                nb = -(-arr.shape[a] // P)
                pad.append((0, nb * P - arr.shape[a]))
                shape += [nb, P]
            else:
                pad.append((0, 0))
                shape += [1, arr.shape[a]]
        if any(hi for _, hi in pad):
            arr = np.pad(arr, pad)
        ops[which] = arr.reshape(shape)
    tf_axes = [2 * a + 1 for a in axes]
    fshape = []
    for a in axes:
        p = plan[a]
        if p is not None:
            fshape.append(p[0])
        else:
            fshape.append(sp_fft.next_fast_len(full[a], not complex_result))
    ret = spectral_product(ops[0], ops[1], tf_axes, fshape, nthreads)
    # Overlap-add along each blocked axis, then drop the block axes.
    for a in axes:
        p = plan[a]
        ax = 2 * a + 1
        if p is None:
            ret = np.take(ret, range(full[a]), axis=ax)
            continue
        B, P, _ = p
        ret = np.moveaxis(ret, (ax - 1, ax), (-2, -1))
        nb = ret.shape[-2]
        lead = ret.shape[:-2]
        acc = np.empty(lead + (nb + 1, P), dtype=ret.dtype)
        acc[..., :nb, :] = ret[..., :P]
        acc[..., nb, :] = 0
        tail = B - P  # = k - 1 <= P
        if tail:
            acc[..., 1:, :tail] += ret[..., P:]
        acc = acc.reshape(lead + ((nb + 1) * P,))
        ret = np.moveaxis(acc[..., None, :full[a]], (-2, -1), (ax - 1, ax))
    out_shape = [ret.shape[2 * a] * ret.shape[2 * a + 1] for a in range(in1.ndim)]
    return ret.reshape(out_shape)


# --------------------------------------------------------------------------
# Tiled overlap-save: the FFT route of ``method='auto'`` and ``'fft'``
#
# Real operands only.  The first convolved axis is cut into tiles of B
# samples (overlapping by k - 1); every other convolved axis is
# transformed whole.  Each chunk of tiles is copied into a zero-padded
# scratch buffer, transformed (real to complex, in the operands'
# precision), multiplied by the kernel's spectrum -- computed once per
# call and broadcast over tiles and batch axes -- and transformed back;
# the last B - k + 1 samples of each tile are output (overlap-save).  A
# chunk's buffers stay in the core's cache, and the chunks run on the
# call's thread team, one transform each at a time.


def _load_ducc0():
    """ducc0's FFTs when the user asks for them (``FASTCONV_FFT=ducc0``) and
    has the package.  Opt-in only: ducc0 is GPL-2.0-or-later (fastconv is
    BSD), and a result should not change with whatever else happens to be
    installed."""
    if os.environ.get("FASTCONV_FFT", "").strip().lower() != "ducc0":
        return None
    try:
        import ducc0.fft
    except ImportError:
        return None
    return ducc0.fft


_ducc = _load_ducc0()

#: Tiles with several axes transform their tile axis with fastconv's
#: vectorised column FFT (_fft_cols.h); False: scipy.fft for every axis.
COLS_FFT = True

#: Tiles with several axes transform their last axis (real rows) with
#: fastconv's vectorised row FFT (_fft_cols_impl.h) where its length is even
#: with a 5-smooth half; False: pocketfft.
ROWS_FFT = True

#: Library of the tiled route's transforms: 'scipy' (``scipy.fft``, the
#: default) or 'ducc0' (faster; opt-in, ``FASTCONV_FFT=ducc0``).
TILED_BACKEND = "scipy" if _ducc is None else "ducc0"


def _direct_calls():
    """True when the tiled route calls scipy.fft's pocketfft binding itself
    (the same transforms as the ``scipy.fft`` functions, written into the
    thread's scratch buffers): the binding passed the import check and
    ducc0 is not chosen."""
    return _LEAN_OK and _ducc is None


def _out_buffer(shape, dtype, slot):
    """The thread's scratch buffer `slot` as a C-contiguous array, or None
    (the transform allocates its result) off the direct calls."""
    if not _direct_calls():
        return None
    return _scratch(math.prod(shape), dtype, slot="fft-" + slot).reshape(shape)


def _complex_of(dtype):
    return np.result_type(dtype, np.complex64)


def _rfftn(x, axes, out=None):
    """Real-to-complex transform of `x` along `axes` (no normalisation), into
    `out` when given (see :func:`_out_buffer`)."""
    if _ducc is not None:
        return _ducc.r2c(x, axes=axes, nthreads=1)
    if out is not None:
        return _pocketfft.r2c(x, tuple(axes), True, 0, out, 1)
    return sp_fft.rfftn(x, axes=axes, workers=1)


def _irfftn(x, last, axes, first=None, first_done=False, out=None, rows=None):
    """Inverse of :func:`_rfftn` (`last`: the real length of the last axis).

    With `first` (a slice of ``axes[0]``, several axes): only those
    samples of the first axis are computed -- the complex inverse of
    the leading axes runs on all of them, the real one of the last axis
    on the kept rows only (a tile's first k - 1 rows are never output).
    `first_done`: the inverse along ``axes[0]`` already ran (the column
    FFT of :func:`_cols_conv`).  `out`: a callable giving the real result's
    buffer for its shape, or None (the transform allocates it); the
    complex steps then run in place on `x`.  The binding's calls are
    those ``scipy.fft``'s functions make (``inorm=2``: divided by the
    lengths transformed), so the numbers do not depend on `out`.  `rows`
    (with `out` and `first`): the last axis's transforms on fastconv's row
    FFT (:func:`_rows_setup`)."""
    if first is None or len(axes) < 2:
        if _ducc is not None:
            return _ducc.c2r(x, axes=axes, lastsize=last, forward=False, inorm=2, nthreads=1)
        if out is not None:
            shape = list(x.shape)
            shape[axes[-1]] = last
            return _pocketfft.c2r(x, tuple(axes), last, False, 2, out(shape), 1)
        return sp_fft.irfftn(x, [x.shape[a] for a in axes[:-1]] + [last], axes=axes,
                             workers=1)
    lead = axes[1:-1] if first_done else axes[:-1]
    if lead and _ducc is not None:
        x = _ducc.c2c(x, axes=lead, forward=False, inorm=2, nthreads=1, out=x)
    elif lead and out is not None:
        x = _pocketfft.c2c(x, tuple(lead), False, 2, x, 1)
    elif lead:
        x = sp_fft.ifftn(x, axes=lead, workers=1, overwrite_x=True)
    sel = [slice(None)] * x.ndim
    sel[axes[0]] = first
    x = x[tuple(sel)]
    if _ducc is not None:
        return _ducc.c2r(x, axes=axes[-1:], lastsize=last, forward=False, inorm=2, nthreads=1)
    if out is not None:
        shape = list(x.shape)
        shape[axes[-1]] = last
        y = out(shape)
        if rows is not None:
            _rows_c2r(x, y, rows, last)
            return y
        return _pocketfft.c2r(x, (axes[-1],), last, False, 2, y, 1)
    return sp_fft.irfft(x, last, axis=axes[-1], workers=1)


# Points of one chunk of tiles (a cache-sized batch of transforms).
CHUNK_POINTS = 1 << 18
# Tile length of the first axis: about TILE_RATIO * (k - 1), at least
# TILE_MIN_2D (several axes) or TILE_MIN_1D samples (fitted on the dev
# machine: 2048**2 images with 15**2 and 31**2 kernels, 1-D 1e5..4e6
# samples with 511..4097 taps; the optimum is flat within 1.3x either side).
TILE_RATIO = {1: 12, 2: 6}
TILE_MIN = {1: 256, 2: 64}
# ... and at most max(4 (k - 1), TILE_CAP): longer tiles leave the cache
# (1e6 samples, 4097 taps: 16875-sample tiles 1.3x faster than 50000).
TILE_CAP = 16384


def tile_len(n):
    """The first fast transform length >= n that is neither a power of two
    nor a multiple of 128.

    Batches of such tiles run 1.3-1.8x slower per point than their
    5-smooth neighbours (1000 against 1024, 2000 against 2048, 16000
    against 16384: 2**22 samples, dev machine), the batch's rows aliasing
    in the cache."""
    b = sp_fft.next_fast_len(n, True)
    while b > 8 and (b & (b - 1) == 0 or b % 128 == 0):
        b = sp_fft.next_fast_len(b + 1, True)
    return b


@functools.lru_cache(maxsize=64)
def tiled_compute_dtype(dt1, dt2):
    """The real dtype the tiled route computes in, or None if it does not
    apply (complex, long double, object)."""
    rt = np.result_type(dt1, dt2)
    if rt.kind in "biu":
        return np.dtype(np.float64)
    if rt.kind == "f" and rt.itemsize <= 8:
        return np.result_type(rt, np.float32)
    return None


@functools.lru_cache(maxsize=512)
def tiled_plan(s1, s2, axes, mode):
    """Geometry of the tiled route, or None when it does not apply.

    `axes` are the convolved axes (after :func:`freq_axes`).  Returns
    ``(windows, blocks)``: per convolved axis ``(start, m)`` of the
    output in the full convolution and ``(B, P, nb, front, keep)``:
    transform length, output samples per tile, tile count (``nb > 1``
    only on the first convolved axis), zeros before the signal and the
    first output sample kept of a tile's ``B``.  None for a kernel longer than the signal
    on a convolved axis or a batch axis along which the kernel does not
    simply broadcast.
    """
    axes = tuple(sorted(axes))
    if not axes:
        return None
    windows = {}
    for a in range(len(s1)):
        n, k = s1[a], s2[a]
        if a not in axes:
            if k not in (1, n):
                return None
            continue
        if k > n:
            return None
        if mode == "full":
            windows[a] = (0, n + k - 1)
        elif mode == "same":
            windows[a] = ((k - 1) // 2, n)
        else:
            windows[a] = (k - 1, n - k + 1)
    blocks = {}
    for j, a in enumerate(axes):
        k, n = s2[a], s1[a]
        start, m = windows[a]
        # one transform of the axis: no wrap-around if B >= n + k - 1
        whole = sp_fft.next_fast_len(n + k - 1, True)
        if j == 0:
            d = min(len(axes), 2)
            target = min(TILE_RATIO[d] * (k - 1), max(4 * (k - 1), TILE_CAP))
            B = tile_len(max(target, TILE_MIN[d]))
            if B < whole:
                P = B - k + 1
                blocks[a] = (B, P, -(-m // P), k - 1 - start, k - 1)
                continue
        blocks[a] = (whole, m, 1, 0, start)
    return windows, blocks


#: What :func:`tiled_convolve` returns when asked to check its operands
#: (`check_finite`) and one holds a NaN or an infinity.
NONFINITE = object()


def tiled_convolve(in1, in2, axes, mode, nthreads, plan=None, chunk_points=None,
                   check_finite=False):
    """Convolution of real `in1` by `in2` along `axes` by tiled
    overlap-save (see the section comment); SciPy's output shape for
    `mode`, computed in :func:`tiled_compute_dtype`.  None when the route
    does not apply.  The chunking never depends on `nthreads`, so
    neither do the numbers.  `check_finite`: return :data:`NONFINITE`
    where `in1` or `in2` holds a NaN or an infinity (`in1` is checked one
    chunk at a time right after the chunk's copy, in cache, instead of in
    a pass of its own over memory)."""
    dtype = tiled_compute_dtype(in1.dtype, in2.dtype)
    if dtype is None:
        return None
    axes = tuple(sorted(axes))
    if plan is None:
        plan = tiled_plan(in1.shape, in2.shape, axes, mode)
    if plan is None:
        return None
    if check_finite and has_nonfinite(in2, nthreads):
        return NONFINITE
    found = []                                   # a chunk of in1 with NaN/inf
    if chunk_points is None:
        chunk_points = CHUNK_POINTS
    windows, blocks = plan
    nd = in1.ndim
    a0 = axes[0]
    B0, P0, nb = blocks[a0][:3]
    fsize = [blocks[a][0] for a in axes]
    # the kernel's spectrum, once per call (broadcast over tiles and batch axes)
    spec = _kernel_spectrum(in2.astype(dtype, copy=False), fsize, axes,
                            team_size(nthreads, in2.shape[axes[0]], in2.size * 64))[None]
    # the output, with nb * P0 samples on axis a0 (cut at the end)
    oshape = [windows[a][1] if a in windows else in1.shape[a] for a in range(nd)]
    m0 = oshape[a0]
    oshape[a0] = nb * P0
    out = _memory.empty(oshape, dtype)       # large: reused memory, no page faults
    ov = out.reshape(oshape[:a0] + [nb, P0] + oshape[a0 + 1:])
    ov = np.moveaxis(ov, a0, 0)                      # (tile, ...)
    keep = tuple([slice(None)]
                 + [slice(blocks[a][4], blocks[a][4] + blocks[a][1])
                    if a in blocks else slice(None) for a in range(nd)])
    # the tile axis's kept samples are cut during the inverse transform
    # (several axes), or with the others (one axis)
    first = keep[1 + a0]
    kept = keep
    if len(axes) > 1:
        kept = keep[:1 + a0] + (slice(None),) + keep[2 + a0:]
    per_tile = B0 * math.prod(blocks[a][0] if a in blocks else in1.shape[a]
                              for a in range(nd) if a != a0)
    g = max(1, min(nb, chunk_points // per_tile))
    starts = range(0, nb, g)
    tf = tuple(a + 1 for a in axes)                 # transform axes of the tile batch

    # several axes: the tile axis's transforms on fastconv's own vectorised
    # column FFT (_cols_plan), the others through scipy.fft
    cols = _cols_setup(B0, dtype) if len(axes) > 1 else None
    # ... and the last axis's real transforms on its row FFT (_rows_setup)
    # (the row FFT transforms the array's last axis: not where that axis
    # is a batch axis the kernel broadcasts along)
    rows = _rows_setup(fsize[-1], dtype) if cols is not None and axes[-1] == nd - 1 else None
    cdtype = _complex_of(dtype)
    # the row FFT writes the kept samples straight into the output where
    # every other axis keeps all it computes (2-D images, batch axes)
    straight = rows is not None and all(k == slice(None) for k in kept[:-1])

    def run(i):
        gi = min(g, nb - i)
        # padded coordinates of axis a0 covered by this chunk: [r0, r1)
        r0 = i * P0
        r1 = r0 + (gi - 1) * P0 + B0
        bshape = [blocks[a][0] if a in blocks else in1.shape[a] for a in range(nd)]
        bshape[a0] = r1 - r0
        # the chunk, its spectrum and the inverse go to the thread's scratch
        # buffers, kept between chunks and calls: fresh arrays of a few MB
        # per chunk were returned to the system by malloc and faulted in
        # again (a first float64 2048^2 x 15^2 call: 20 800 page faults,
        # 47 ms against 15)
        buf = _out_buffer(bshape, dtype, "in")
        if buf is None:
            buf = np.empty(bshape, dtype)
        _copy_chunk(buf, in1, blocks, a0, r0, r1)
        if check_finite and (found or has_nonfinite(buf)):
            found.append(i)
            return
        tshape = [gi] + bshape[:a0] + [B0] + bshape[a0 + 1:]
        if gi == 1:
            tiles = buf[None]
        else:
            st = buf.strides
            tiles = np.lib.stride_tricks.as_strided(
                buf, tshape, [P0 * st[a0]] + list(st), writeable=False)
        tshape[tf[-1]] = tshape[tf[-1]] // 2 + 1
        spbuf = _out_buffer(tshape, cdtype, "sp")
        if rows is not None:
            # the last axis on fastconv's row FFT, the others between it and
            # the tile axis through pocketfft, in place
            _rows_r2c(tiles, spbuf, rows)
            sp = spbuf if len(tf) < 3 else _pocketfft.c2c(spbuf, tf[1:-1], True, 0, spbuf, 1)
        else:
            sp = _rfftn(tiles, tf if cols is None else tf[1:], out=spbuf)
        del buf, tiles
        if cols is None:
            sp *= spec
        else:
            # the tile axis: its forward transform, the product, its inverse
            sp = np.ascontiguousarray(sp)
            _cols_conv(sp, spec, tf[0], cols, 1.0 / B0)
        if straight:
            # the inverse straight into the output: the real rows' inverse of
            # the kept rows and samples only (no transformed axis between the
            # tile axis and the last: such an axis keeps a window)
            sel = [slice(None)] * sp.ndim
            sel[tf[0]] = first
            _rows_c2r(sp[tuple(sel)], ov[i:i + gi], rows, fsize[-1], kept[-1].start)
            return
        y = _irfftn(sp, fsize[-1], tf, first, first_done=cols is not None,
                    out=(lambda shape: _out_buffer(shape, dtype, "out"))
                    if _direct_calls() else None, rows=rows)
        ov[i:i + gi] = y[kept]

    workers = team_size(nthreads, len(starts), nb * per_tile)
    if workers > 1:
        _pool_map(run, starts, workers)
    else:
        for i in starts:
            run(i)
    if found:
        return NONFINITE
    if m0 != nb * P0:
        cut = tuple(slice(m0) if a == a0 else slice(None) for a in range(nd))
        out = out[cut]
        if not out.flags.c_contiguous:
            out = np.ascontiguousarray(out)
    return out


def _cols_factors(n):
    """Radices 8, 4, 2, 3, 5 whose product is n (in that order), or None when
    n has another prime factor.  Radix 8 where it divides: a stage loads
    and stores every point once, so one pass of 8 is cheaper than the two
    of 4 and 2 (1080 = 8 * 135 in one pass fewer: the row FFT of
    2160-sample tiles)."""
    fac = []
    while n % 8 == 0:
        fac.append(8)
        n //= 8
    if n % 4 == 0:
        fac.append(4)
        n //= 4
    if n % 2 == 0:
        fac.append(2)
        n //= 2
    for p in (3, 5):
        while n % p == 0:
            fac.append(p)
            n //= p
    return fac if n == 1 else None


@functools.lru_cache(maxsize=32)
def _cols_plan(n, dtype=np.float64):
    """The plan of the column FFT of length n (``fft_cols`` of the kernel
    modules, fastconv/_fft_cols.h), or None for lengths it does not take.

    Returns ``(fac, perm, tr, ti, toff)``: the radices of a
    decimation-in-time Cooley-Tukey (the first splits the input into
    ``fac[0]`` interleaved subsequences), the digit-reversed input order,
    and per stage s a table of the twiddles ``exp(-2 pi i q k / (p m))``
    (p = fac[s], m = the product of the later radices; rows k < m, columns
    q = 1 .. p - 1) starting at toff[s] of the cosines tr and sines ti, in
    the real `dtype` of the data (computed in float64, then rounded)."""
    fac = _cols_factors(n) if n >= 2 else None
    if fac is None:
        return None

    def order(n, fac):
        if not fac:
            return np.zeros(1, np.intp)
        p = fac[0]
        sub = order(n // p, fac[1:])
        return np.concatenate([q + p * sub for q in range(p)])

    trs, tis, toff, off = [], [], [], 0
    for s, p in enumerate(fac):
        m = math.prod(fac[s + 1:])
        qk = (np.arange(m)[:, None] * np.arange(1, p)[None, :]) % (p * m)
        ang = -2.0 * np.pi * qk.ravel() / (p * m)
        trs.append(np.cos(ang))
        tis.append(np.sin(ang))
        toff.append(off)
        off += m * (p - 1)
    rt = np.dtype(dtype)
    return (np.array(fac, np.intp), order(n, fac).astype(np.intp),
            np.concatenate(trs).astype(rt), np.concatenate(tis).astype(rt),
            np.array(toff, np.intp))


@functools.lru_cache(maxsize=32)
def _rows_plan(n, dtype=np.float64):
    """The plan of the row FFT of even length n (``fft_rows_r2c`` and
    ``fft_rows_c2r`` of the kernel modules), or None for lengths it does
    not take: the column FFT's plan of length n / 2 (:func:`_cols_plan`)
    and the unpacking twiddles ``W^k = exp(-2 pi i k / n)``, k = 0 .. n / 2,
    as cosines and sines in the real `dtype` (computed in float64)."""
    if n < 2 or n % 2:
        return None
    plan = _cols_plan(n // 2, dtype)
    if plan is None:
        return None
    ang = -2.0 * np.pi * np.arange(n // 2 + 1) / n
    rt = np.dtype(dtype)
    return plan + (np.cos(ang).astype(rt), np.sin(ang).astype(rt))


def _cols_setup(n, dtype):
    """(kernel module, plan) for the tile axis's column FFTs of length n in
    the real `dtype`, or None (scipy.fft then runs them): ducc0 chosen, a
    level without the vectorised FFT (builds without GCC/clang vector
    extensions), or a length with a prime factor above 5."""
    if _ducc is not None or not COLS_FFT:
        return None
    kern = _dispatch.kernels
    if not kern.fft_cols_available():
        return None
    plan = _cols_plan(n, np.dtype(dtype))
    return None if plan is None else (kern, plan)


def rows_fft_takes(n):
    """True when real rows of length n would run on the kernel module's row
    FFT (see :func:`_rows_setup`); no plan is built (the cost model asks
    this of shapes that may never be transformed)."""
    if not (COLS_FFT and ROWS_FFT and _direct_calls()):
        return False
    if n < 4 or n % 2 or _cols_factors(n // 2) is None:
        return False
    # the rows are gathered into the lanes: with vectors no wider than
    # pocketfft's (SciPy's wheels: 128-bit) that costs more than it gains
    # (baseline level, 2048^2 x 15^2: 36.5 -> 40.8 ms)
    return _dispatch.kernels.fft_vector_bytes() > 16


def _rows_setup(n, dtype):
    """(kernel module, plan) for the real transforms of length n along the
    tiles' last axis on the kernel module's row FFT, or None (pocketfft
    runs them): not the direct pocketfft calls (the row FFT writes into
    their scratch buffers), a level whose vectors are not wider than
    128 bits, an odd length or a half length with a prime factor above 5."""
    if not rows_fft_takes(n):
        return None
    return _dispatch.kernels, _rows_plan(n, np.dtype(dtype))


def _merged(a):
    """`a` as (shape[0], rows, shape[-1]), its axes between the first and the
    last merged into rows, or None when their strides do not allow a view."""
    if a.ndim == 3:
        return a          # (as_strided costs ~1 us a call: 2-D tiles, 8 calls a chunk)
    inner = [d for d in range(1, a.ndim - 1) if a.shape[d] != 1]
    for d, e in zip(inner, inner[1:]):
        if a.strides[d] != a.strides[e] * a.shape[e]:
            return None
    rs = a.strides[inner[-1]] if inner else a.strides[-1] * a.shape[-1]
    return np.lib.stride_tricks.as_strided(
        a, (a.shape[0], math.prod(a.shape[1:-1]), a.shape[-1]),
        (a.strides[0], rs, a.strides[-1]), writeable=a.flags.writeable)


def _row_views(x, y):
    """Pairs of matching 3-D views (outer, rows, last) of `x` and `y` (the
    same shape but for the last axis, each last axis contiguous) that
    cover them: the axes after the first are merged into rows where
    both arrays' strides allow it, the leading ones that do not are
    looped over (a chunk of several tiles with a batch axis before the
    tile axis).  The same rows are transformed whatever the split, so
    the numbers do not depend on it."""
    nd = x.ndim
    for split in range(1, nd):
        first = (slice(None),) + (0,) * (split - 1)
        if _merged(x[first]) is not None and _merged(y[first]) is not None:
            break
    for idx in np.ndindex(*x.shape[1:split]):
        sel = (slice(None),) + idx
        yield _merged(x[sel]), _merged(y[sel])


def _rows_r2c(x, sp, rows):
    """sp[...] = rfft(x[...]) along the last axis on the row FFT (`x` real,
    `sp` the complex result, each with its last axis contiguous)."""
    kern, plan = rows
    for x3, s3 in _row_views(x, sp.view(x.dtype)):
        kern.fft_rows_r2c(x3, s3, *plan)


def _rows_c2r(sp, y, rows, n, start=0):
    """y[...] = irfft(sp[...], n)[..., start:start + m] along the last axis on
    the row FFT (m: the length of `y`'s last axis)."""
    kern, plan = rows
    for s3, y3 in _row_views(sp.view(y.dtype), y):
        kern.fft_rows_c2r(s3, y3, *plan, 1.0 / n, n, start)


def _real_rows(a, ax):
    """The C-contiguous complex `a` as (prod(shape[:ax]), shape[ax], -1) of
    its real type (real and imaginary parts interleaved): a view."""
    if not a.flags.c_contiguous:     # a reshape would copy: the result lost
        raise ValueError("the column FFT needs a C-contiguous array")
    rt = np.float32 if a.dtype == np.complex64 else np.float64
    return a.view(rt).reshape(math.prod(a.shape[:ax]), a.shape[ax], -1)


def _cols_conv(sp, spec, ax, cols, scale):
    """In place on the C-contiguous complex128 `sp`: the forward column
    FFT along axis `ax`, times `spec` (broadcast to sp), the inverse times
    `scale` -- in one pass where `spec` is the same for every index before
    `ax` (its leading axes all of length 1), else in three."""
    kern, plan = cols
    x3 = _real_rows(sp, ax)
    if math.prod(spec.shape[:ax]) == 1 and spec.shape[ax:] == sp.shape[ax:]:
        h = _real_rows(np.ascontiguousarray(spec, sp.dtype), ax)[0]
        kern.fft_cols_conv(x3, h, *plan, scale)
        return
    kern.fft_cols(x3, *plan, False, 1.0)
    sp *= spec
    kern.fft_cols(x3, *plan, True, scale)


def _copy_chunk(buf, in1, blocks, a0, r0, r1):
    """Fill the chunk buffer `buf` with the part of `in1` it covers and
    zeros elsewhere: padded coordinates [r0, r1) on the tile axis `a0`, a
    whole block on the other blocked axes (each block starts
    ``blocks[a][3]`` before the input), everything on the others.  Only the
    margins are cleared (np.zeros of every chunk took 2% of a 2-D 31 x 31
    float64 call)."""
    dst, src = [], []
    for a in range(in1.ndim):
        if a not in blocks:
            dst.append(slice(None))
            src.append(slice(None))
            continue
        front = blocks[a][3]
        lo, hi = (r0, r1) if a == a0 else (0, buf.shape[a])
        s_lo = max(lo - front, 0)
        s_hi = min(hi - front, in1.shape[a])
        if s_hi <= s_lo:
            buf[...] = 0
            return
        src.append(slice(s_lo, s_hi))
        dst.append(slice(s_lo + front - lo, s_hi + front - lo))
    buf[tuple(dst)] = in1[tuple(src)]
    # the margins: per axis, the slabs before and after the copied range
    for a, d in enumerate(dst):
        lo, hi = d.indices(buf.shape[a])[:2]
        if lo > 0:
            buf[(slice(None),) * a + (slice(0, lo),)] = 0
        if hi < buf.shape[a]:
            buf[(slice(None),) * a + (slice(hi, None),)] = 0


def _kernel_spectrum(w, fsize, axes, workers=1):
    """The kernel's spectrum (transform lengths `fsize` along `axes`).

    Pruned: the real transform of the last axis runs on the kernel's own
    rows only (rfftn would transform the zero rows of its padding too), the
    complex ones of the other axes then pad with zeros -- the same 1-D
    transforms of the same data as ``rfftn(w, fsize, axes)``.  2-D 31 x 31
    kernel, 180 x 2160 tiles: 1.7 -> 1.0 ms (Intel Xeon)."""
    if _ducc is None:
        spec = sp_fft.rfft(w, fsize[-1], axis=axes[-1], workers=workers)
        for a, n in zip(axes[:-1], fsize[:-1]):
            spec = sp_fft.fft(spec, n, axis=a, workers=workers, overwrite_x=True)
        return spec
    buf = np.zeros([fsize[axes.index(a)] if a in axes else w.shape[a]
                    for a in range(w.ndim)], w.dtype)
    buf[tuple(slice(0, n) for n in w.shape)] = w
    return _rfftn(buf, axes)


_POOL = {"executor": None, "size": 0}
_POOL_LOCK = threading.Lock()


def _executor(workers):
    """A thread pool kept between calls (creating one costs ~0.1-0.3 ms);
    re-made when a call wants more threads, dropped in a forked child (its
    threads do not exist there)."""
    with _POOL_LOCK:
        if _POOL["size"] < workers:
            from concurrent.futures import ThreadPoolExecutor
            # the old pool is left to finish what it was given (and to be
            # collected): another Python thread may still be submitting to it
            _POOL["executor"] = ThreadPoolExecutor(workers, thread_name_prefix="fastconv-fft")
            _POOL["size"] = workers
        return _POOL["executor"]


def _forget_pool():
    global _POOL_LOCK
    _POOL_LOCK = threading.Lock()
    _POOL["executor"] = None
    _POOL["size"] = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _pool_map(fn, items, workers):
    """``fn(item)`` for every item, on the calling thread and ``workers - 1``
    threads of the kept pool, each taking the next item when it is free
    (the transforms and NumPy's loops release the GIL).  Returns the
    results in order; each item's result does not depend on which thread
    computed it."""
    items = list(items)
    results = [None] * len(items)
    order = iter(range(len(items)))
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                i = next(order, None)
            if i is None:
                return
            results[i] = fn(items[i])

    helpers = min(workers, len(items)) - 1
    futures = [_executor(helpers).submit(work) for _ in range(helpers)] if helpers > 0 else []
    work()
    for f in futures:
        if not f.cancel():          # a helper that never started has nothing left to do
            f.result()
    return results