"""Large output arrays whose memory is kept for the next call.

An output of a few MB or more that NumPy allocates is often fresh memory
from the system (glibc maps blocks above a threshold that follows the
blocks freed, up to 32 MiB, and unmaps them when freed; always above
32 MiB): the first write of each page faults, and
the kernel clears the page before the kernels' stores land.  On the 2-core
virtual machines fastconv is measured on that costs as much as the
convolution itself: a float64 2048 x 2048 9 x 9 filter took 4.2 ms into
reused memory and 6.5-11.8 ms into fresh memory (Zen 5, 2 threads,
2026-12-07), and every call of a loop paid it again.

So outputs of at least :data:`MIN_BYTES` come from here: the array's memory
is a NumPy buffer owned by a small holder object, and when the last array
or view using it dies, the holder returns the buffer to a pool instead of
to the system.  The next output for which a pooled buffer is large enough
and at most a quarter larger reuses that buffer: its pages are already
mapped.  The pool keeps at most ``FASTCONV_OUTPUT_CACHE_MB`` MiB (default 256; 0 turns the pool off), the
oldest buffers given back first.  The arrays are ordinary ndarrays that, like
views, do not own their data (the holder is at the end of their ``base``
chain).

Every output of this module starts on a 64-byte boundary (the drivers'
non-temporal stores write whole aligned cache lines).
"""
import itertools
import math
import os

import numpy as np

#: Outputs from this size on come from the pool (NumPy asks the system for
#: huge pages from 4 MiB on; below, malloc's own reuse is the rule).
MIN_BYTES = 4 << 20


def _budget_from_env():
    value = os.environ.get("FASTCONV_OUTPUT_CACHE_MB", "").strip()
    if not value:
        return 256 << 20
    try:
        return max(0, int(float(value) * (1 << 20)))
    except ValueError:
        raise ImportError(f"FASTCONV_OUTPUT_CACHE_MB={value!r}: expected a number of MiB")


#: Bytes the pool may keep (the environment's FASTCONV_OUTPUT_CACHE_MB).
_BUDGET = [_budget_from_env()]
# The pool: key -> uint8 buffer, oldest first.  Only dict operations that
# are atomic under the GIL touch it (a holder's __del__ may run in any
# thread, also inside a garbage collection started by the code below).
_FREE = {}
_KEYS = itertools.count()


class _Holder:
    """Owns a pooled buffer while arrays use it; gives it back when they die."""

    __slots__ = ("buf", "__array_interface__")

    def __del__(self):
        try:
            _give_back(self.buf)
        except Exception:           # interpreter shutdown: the module is gone
            pass


def _give_back(buf):
    budget = _BUDGET[0]
    if buf.nbytes > budget:
        return                      # freed now
    _FREE[next(_KEYS)] = buf
    total = sum(b.nbytes for b in list(_FREE.values()))
    for key in list(_FREE):
        if total <= budget:
            break
        old = _FREE.pop(key, None)
        if old is not None:
            total -= old.nbytes


def _take(nbytes):
    """A pooled buffer of nbytes .. 1.25 * nbytes, the oldest first, or None."""
    for key, buf in list(_FREE.items()):
        if nbytes <= buf.nbytes <= nbytes + nbytes // 4 and _FREE.pop(key, None) is not None:
            return buf
    return None


def empty(shape, dtype):
    """``np.empty(shape, dtype)`` on a 64-byte boundary; from the pool when
    it is :data:`MIN_BYTES` or larger (see the module's docstring)."""
    dtype = np.dtype(dtype)
    shape = tuple(int(n) for n in shape)
    nbytes = math.prod(shape) * dtype.itemsize
    pooled = nbytes >= MIN_BYTES and _BUDGET[0] > 0
    buf = _take(nbytes + 64) if pooled else None
    if buf is None:
        buf = np.empty(nbytes + 64, dtype=np.uint8)
    off = -buf.ctypes.data % 64
    if not pooled:
        return buf[off:off + nbytes].view(dtype).reshape(shape)
    holder = _Holder()
    holder.buf = buf
    holder.__array_interface__ = {"shape": shape, "typestr": dtype.str,
                                  "data": (buf.ctypes.data + off, False), "version": 3}
    return np.asarray(holder)


def pooled_bytes():
    """Bytes the pool holds now (buffers no array uses)."""
    return sum(b.nbytes for b in list(_FREE.values()))


def clear():
    """Return every pooled buffer to the system."""
    for key in list(_FREE):
        _FREE.pop(key, None)
