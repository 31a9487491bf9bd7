"""Run bad-input catalogue cases in this process and print one JSON line per
case: ``{"id": ..., "outcome": ..., "detail": ...}`` (see
tests/catalogue_cases.py).  Usage: ``python tests/catalogue_runner.py ID...``
(``--all`` for every case).  Crashes and hangs are seen by the parent.

An address-space limit (``FASTCONV_CATALOGUE_AS_GB``, default 6) turns an
allocation sized by a bad geometry into a MemoryError instead of swapping.
"""

import json
import os
import re
import resource
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("FASTCONV_IMPORT_ROOT", os.path.dirname(HERE)))
sys.path.insert(0, HERE)

limit = int(float(os.environ.get("FASTCONV_CATALOGUE_AS_GB", "6")) * (1 << 30))
if limit > 0 and "libasan" not in os.environ.get("LD_PRELOAD", ""):
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

import catalogue_cases  # noqa: E402

# messages that come from NumPy's or Python's internals rather than from a
# check that names the argument
UNCLEAR = re.compile(
    r"Maximum allowed dimension|could not broadcast|axes don't match|negative dimensions|"
    r"array is too big|object too deep|unsupported operand|can't multiply sequence|"
    r"could not be promoted|cannot reshape|out of bounds|not subscriptable|"
    r"has no attribute|'NoneType' object|object of type '|invalid literal|cannot be interpreted|"
    r"array type not supported|setting an array element")
CLEAR_TYPES = (ValueError, TypeError, MemoryError, NotImplementedError)
OPERANDS = ("f64", "f32", "k33", "v8", "x4", "w4", "x3", "w3")


def _snap(ns):
    return {k: (ns[k].tobytes(), ns[k].shape, ns[k].dtype.str) for k in OPERANDS}


def _scipy_equivalent(code):
    """The same call on SciPy (None when SciPy has no such function/keyword)."""
    m = re.match(r"(fc|fnd)\.(\w+)\(", code)
    if not m or "workers" in code:
        return None
    mod, name = m.groups()
    sp = {"fc": "ss", "fnd": "snd"}[mod]
    if mod == "fc" and name not in ("convolve", "correlate", "fftconvolve", "oaconvolve",
                                    "choose_conv_method", "convolve2d", "correlate2d"):
        return None
    return sp + code[len(mod):]


def classify(code, ns):
    before = _snap(ns)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eval(code, ns)
        outcome, detail = "ok", ""
    except BaseException as exc:  # noqa: BLE001 - the point is to see everything
        if isinstance(exc, KeyboardInterrupt):
            raise
        detail = f"{type(exc).__name__}: {str(exc)[:300]}"
        clear = isinstance(exc, CLEAR_TYPES) and str(exc) and not UNCLEAR.search(str(exc))
        if not clear:
            alt = _scipy_equivalent(code)
            if alt is not None:
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        eval(alt, ns)
                except BaseException as sexc:  # noqa: BLE001
                    if type(sexc) is type(exc) and str(sexc) == str(exc):
                        clear = True
                        detail += " (SciPy's own error)"
        outcome = "clear" if clear else "unclear"
    if _snap(ns) != before:
        outcome, detail = "modified", "an operand changed: " + detail
    return outcome, detail


def main(argv):
    table = dict(catalogue_cases.cases())
    ids = list(table) if argv == ["--all"] else argv
    ns = {}
    exec(catalogue_cases.PRELUDE, ns)
    ns["ss"] = __import__("scipy.signal", fromlist=["x"])
    ns["snd"] = __import__("scipy.ndimage", fromlist=["x"])
    for cid in ids:
        print(json.dumps({"id": cid, "outcome": "start"}), flush=True)
        # "!code" runs `code` itself (the harness's own tests: crash, hang)
        code = cid[1:] if cid.startswith("!") else table[cid]
        outcome, detail = classify(code, ns)
        print(json.dumps({"id": cid, "outcome": outcome, "detail": detail}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
