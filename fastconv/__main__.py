"""python -m fastconv [info | check | bench]

  info   how fastconv was built and what it will use (one item a line)
  check  a self-check against SciPy on small built-in examples
  bench  fastconv against the installed peers (SciPy, NumPy, PyTorch, OpenCV)
         on this machine; see python -m fastconv bench --help

With no command: info, check, then bench --quick (small sizes) when the
check passed.
"""

import argparse
import sys
import textwrap


def cmd_info(args=None):
    from fastconv._config import config_dict, format_lines
    print("\n".join(format_lines(config_dict())))
    return 0


def cmd_check(args=None):
    """Compare fastconv with SciPy on a few small problems; exit 1 on a mismatch."""
    import numpy as np
    from scipy import signal

    import fastconv
    from fastconv import _dispatch, _engine

    rng = np.random.default_rng(1234)
    failures = 0
    cases = []
    for level in _dispatch.supported_levels():
        for dtype, rtol in ((np.float64, 1e-12), (np.float32, 2e-5)):
            for shape, kshape in (((257,), (9,)), ((40, 33), (5, 4)), ((12, 11, 10), (3, 2, 3))):
                x = rng.standard_normal(shape).astype(dtype)
                k = rng.standard_normal(kshape).astype(dtype)
                ref = signal.correlate(x, k, mode="valid", method="direct")
                rank = x.ndim
                got = fastconv.conv(x[None, None], k[None, None], workers=None)[0, 0]
                got_lvl = _engine.correlate(
                    x[None, None], k[None, None], stride=(1,) * rank, dilation=(1,) * rank,
                    pads=((0, 0),) * rank, nthreads=2, level=level)[0, 0]
                scale = np.abs(ref).max() + 1
                err = max(np.abs(got - ref).max(), np.abs(got_lvl - ref).max()) / scale
                ok = got.dtype == ref.dtype and err <= rtol * np.sqrt(np.prod(kshape))
                failures += not ok
                cases.append((level, np.dtype(dtype).name, f"{shape}*{kshape}", err, ok))
    for level, dt, case, err, ok in cases:
        print(f"check [{level:8s}] {dt:7s} correlate valid {case:22s} "
              f"max rel err {err:.1e}  {'ok' if ok else 'MISMATCH'}")
    print(f"self-check: {len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


def cmd_bench(args):
    try:
        from fastconv import _bench
    except ImportError:
        print("the benchmark is not available in this build yet")
        return 0
    return _bench.main(args)


def main(argv=None):
    from fastconv._bench import RATIO_LINE, SECTIONS

    parser = argparse.ArgumentParser(
        prog="python -m fastconv",
        description="fastconv's build facts, self-check and benchmark.",
        epilog="With no command: info, check, then bench --quick when the check passed.")
    sub = parser.add_subparsers(dest="command", title="commands")
    sub.add_parser("info", help="how fastconv was built and what it will use",
                   description="How fastconv was built and what it will use: OpenMP "
                               "runtime, threads, SIMD level of the kernels, compiler.")
    sub.add_parser("check", help="self-check against SciPy (exit status 1 on a mismatch)",
                   description="Compare fastconv with SciPy on small built-in examples, "
                               "at every SIMD level this CPU runs; exit status 1 on a "
                               "mismatch.")
    names = "\n".join(f"  {name:9s} {title}" for name, title in SECTIONS.values())
    pb = sub.add_parser(
        "bench", help="benchmark against the installed peers",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill("Time fastconv against the installed peers (SciPy, NumPy, "
                                  "PyTorch, OpenCV) on this machine.  " + RATIO_LINE, 78)
        + "\n\nsections:\n" + names,
        epilog="Progress goes to stderr, the table to stdout.  A busy machine (high load "
               "average, or a fixed loop whose times scatter) is reported at the end: "
               "re-run when it is idle.")
    pb.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    pb.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    pb.add_argument("--plot", metavar="FILE",
                    help="also save a PNG chart of the speed-ups (needs matplotlib)")
    pb.add_argument("--sections", default="all", metavar="NAMES",
                    help="comma-separated section names (see above), default all")
    pb.add_argument("--peer-isa", choices=("native", "avx2"), default="native",
                    help="avx2: run PyTorch's AVX2 kernels (oneDNN and ATen) even on "
                         "an AVX-512 CPU; with FASTCONV_SIMD=avx2 the CNN section then "
                         "compares the two libraries as on an AVX2-only CPU (OpenCV, "
                         "NumPy and SciPy keep their own dispatch)")
    args = parser.parse_args(argv)
    if args.command == "info":
        return cmd_info(args)
    if args.command == "check":
        return cmd_check(args)
    if args.command == "bench":
        return cmd_bench(args)
    rc = cmd_info()
    print()
    rc |= cmd_check()
    if rc == 0:
        # a child process: the benchmark re-executes itself with malloc
        # settings, which must not replace this process
        import subprocess
        print()
        sys.stdout.flush()
        rc |= subprocess.call([sys.executable, "-m", "fastconv", "bench", "--quick"])
    return rc


if __name__ == "__main__":
    sys.exit(main())
