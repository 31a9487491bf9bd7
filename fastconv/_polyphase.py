"""The polyphase core of the transposed convolution and the input gradient.

A transposed convolution scatters ``x[i] * w[t]`` onto ``i*s + t*d - p``.
Split by output phase (position modulo the stride), each phase is an
ordinary correlation of the input with a subset of the taps, which the
engine runs; :func:`transpose_core` does the split and the calls.
"""

import math

import numpy as np

from fastconv import _engine, _memory
from fastconv._spec import spatial_axes


def swap_weight(w, groups, layout):
    """(F, Cg, *K) -> (C, Fg, *K) (or (*K, Cg, F) -> (*K, Fg, C)): the filter
    bank of the transposed correlation, not yet flipped."""
    if layout == "channels_first":
        F, Cg = w.shape[:2]
        K = w.shape[2:]
        r = len(K)
        v = w.reshape((groups, F // groups, Cg) + K)
        v = v.transpose((0, 2, 1) + tuple(range(3, 3 + r)))
        return v.reshape((groups * Cg, F // groups) + K)
    K = w.shape[:-2]
    Cg, F = w.shape[-2:]
    r = len(K)
    v = w.reshape(K + (Cg, groups, F // groups))
    v = v.transpose(tuple(range(r)) + (r + 2, r + 1, r))
    return v.reshape(K + (F // groups, groups * Cg))


def _axis_phases(n_out, off, O, k, s, d):
    """Polyphase plan for one axis of a transposed convolution.

    Position ``i`` (padded coordinates, ``off <= i < off + n_out``) receives
    ``sum_{(o, t): o*s + t*d = i} w[t] * gy[o]``.  Positions ``i = q*s + r``
    of one residue ``r`` only see taps ``t = t0 + m*step`` (``step =
    s/gcd(s, d)``), and then ``o = q + c0 - m*(d/gcd)``: a stride-1
    correlation of ``gy`` with those taps reversed at dilation ``d/gcd``.

    Returns a list of ``(first, count, taps, dil, pad_lo, pad_hi)``: output
    positions ``first, first + s, ...`` (``count`` of them, relative to
    `off`), the kernel slice ``taps`` (already reversed), the correlation's
    dilation and its (possibly negative) zero padding of ``gy``.  Residues
    that no tap reaches are left out (their outputs are zero).
    """
    gcd = math.gcd(s, d)
    step, dil = s // gcd, d // gcd
    phases = []
    # The residues a tap reaches are r = t0*d mod s for t0 < min(step, k) (each
    # t0 < step gives a distinct one): loop over those taps, never over
    # range(s), so a huge stride costs nothing.
    for t0 in sorted(range(min(step, k)), key=lambda t: (t * d) % s):
        r = (t0 * d) % s
        q0 = -((r - off) // s)          # ceil((off - r) / s)
        q1 = -((r - off - n_out) // s)  # ceil((off + n_out - r) / s)
        count = q1 - q0
        if count <= 0:
            continue
        m = (k - t0 + step - 1) // step
        c0 = (r - t0 * d) // s
        pad_lo = (m - 1) * dil - c0 - q0
        pad_hi = count + dil * (m - 1) - O - pad_lo
        last = t0 + (m - 1) * step
        taps = slice(last, t0 - 1 if t0 > 0 else None, -step)
        phases.append((q0 * s + r - off, count, taps, dil, pad_lo, pad_hi))
    return phases


def transpose_core(gy, wt, out_spatial, offsets, stride, dilation, groups, layout,
                    nthreads):
    """Transposed convolution on the engine.

    `gy` is ``(N, F, *O)`` (or ``(N, *O, F)``), `wt` the swapped filter bank
    of :func:`swap_weight` ``(C, F/groups, *K)`` (or ``(*K, F/groups, C)``).
    Returns the ``(N, C, *out_spatial)`` (or channels-last) array whose
    position ``j`` on each axis is padded-coordinate position ``offsets + j``.
    """
    rank = len(stride)
    cf = layout == "channels_first"
    axes = spatial_axes(layout, rank)
    O = tuple(gy.shape[a] for a in axes)
    K = wt.shape[2:] if cf else wt.shape[:rank]
    C = wt.shape[0] if cf else wt.shape[-1]
    N = gy.shape[0]
    oshape = (N, C) + tuple(out_spatial) if cf else (N,) + tuple(out_spatial) + (C,)
    plans = [_axis_phases(n, off, o, k, s, d)
             for n, off, o, k, s, d in zip(out_spatial, offsets, O, K, stride, dilation)]
    # stride 1 everywhere: one phase covering the whole output, written in place
    direct = all(len(p) == 1 and p[0][0] == 0 and p[0][1] == n and s == 1
                 for p, n, s in zip(plans, out_spatial, stride))
    # aligned: the engine streams a large output into it (non-temporal
    # stores need whole 64-byte lines; conv 64->64 56^2 input gradient, one
    # thread, Intel Xeon: 31.7 -> 26.8 ms CPU time)
    out = (_memory.empty(oshape, gy.dtype) if direct
           else np.zeros(oshape, dtype=gy.dtype))
    if out.size == 0:
        return out
    if gy.size == 0:
        out[...] = 0
        return out
    for combo in _product(plans):
        g_index = [slice(None)] * gy.ndim
        w_index = [slice(None)] * wt.ndim
        pads, dils, out_index = [], [], [slice(None)] * out.ndim
        empty = False
        for axis, (first, count, taps, dil, lo, hi) in enumerate(combo):
            length = O[axis]
            start = -lo if lo < 0 else 0
            stop = length + hi if hi < 0 else length
            if stop - start <= 0:  # no grad_out element reaches these outputs
                empty = True
                break
            g_index[axes[axis]] = slice(start, stop)
            w_index[(2 if cf else 0) + axis] = taps
            pads.append((max(lo, 0), max(hi, 0)))
            dils.append(dil)
            out_index[axes[axis]] = slice(first, first + (count - 1) * stride[axis] + 1,
                                          stride[axis])
        if empty:
            if direct:
                out[...] = 0
            continue
        g_sub = gy[tuple(g_index)]
        w_sub = wt[tuple(w_index)]
        kw = dict(stride=(1,) * rank, dilation=tuple(dils), pads=tuple(pads), groups=groups,
                  layout=layout, nthreads=nthreads)
        if direct:
            _engine.correlate(g_sub, w_sub, out=out, **kw)
        else:
            out[tuple(out_index)] = _engine.correlate(g_sub, w_sub, **kw)
    return out


def _product(lists):
    if not lists:
        yield ()
        return
    for head in lists[0]:
        for tail in _product(lists[1:]):
            yield (head,) + tail
