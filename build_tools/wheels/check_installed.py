"""Check the fastconv a wheel installed, before its test suite runs.

Usage (from any directory but the source tree)::

    python check_installed.py [--allow-system-openmp]

Used by ``build_tools/wheels/build_and_test.sh`` and by cibuildwheel's
``test-command`` on every platform.  Prints the build facts
(``python -m fastconv info``) and what threadpoolctl sees, then exits 1 if:

* ``fastconv`` was imported from anywhere but this interpreter's
  site-packages (a source folder shadowing the installed wheel);
* the build has no OpenMP (a wheel must never be serial);
* the OpenMP runtime in use is not the copy bundled in the wheel
  (``fastconv.libs/`` from auditwheel or delvewheel, ``fastconv/.dylibs/``
  from delocate), unless ``--allow-system-openmp``;
* threadpoolctl does not list that runtime, or cannot limit fastconv with it.
"""

import argparse
import os
import sys
import sysconfig


def norm(path):
    return os.path.normcase(os.path.realpath(path))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allow-system-openmp", action="store_true",
                        help="accept an OpenMP runtime from outside the wheel")
    args = parser.parse_args(argv)
    problems = []

    import fastconv
    from fastconv import _threads

    package_dir = norm(os.path.dirname(fastconv.__file__))
    install_root = os.path.dirname(package_dir)
    site_dirs = {norm(sysconfig.get_paths()[key]) for key in ("platlib", "purelib")}
    print(f"fastconv imported from {package_dir}")
    if install_root not in site_dirs:
        problems.append(f"fastconv was imported from {package_dir}, not from this "
                        f"interpreter's site-packages {sorted(site_dirs)}: a source "
                        "folder is shadowing the installed wheel")

    cfg = fastconv.show_config(print_out=True)
    omp = cfg["openmp"]
    if not omp["enabled"]:
        problems.append("this fastconv was built WITHOUT OpenMP")
    else:
        runtime = norm(omp["runtime"]) if omp["runtime"] not in (None, "unknown") else None
        if runtime is None:
            problems.append("the OpenMP runtime in use could not be located")
        elif not args.allow_system_openmp:
            rel = os.path.relpath(runtime, install_root).replace(os.sep, "/")
            if not rel.startswith(("fastconv.libs/", "fastconv/.dylibs/")):
                problems.append(f"the OpenMP runtime in use ({runtime}) is not the "
                                "copy bundled in the wheel")
        try:
            from threadpoolctl import threadpool_info, threadpool_limits
        except ImportError:
            problems.append("threadpoolctl is not installed (the test group needs it)")
        else:
            infos = [i for i in threadpool_info() if i["user_api"] == "openmp"]
            for info in infos:
                print(f"threadpoolctl: {info['prefix']} {info['filepath']} "
                      f"num_threads={info['num_threads']}")
            if runtime is not None and runtime not in {norm(i["filepath"]) for i in infos}:
                problems.append(f"threadpoolctl does not list fastconv's runtime {runtime}")
            with threadpool_limits(limits=1, user_api="openmp"):
                limited = _threads.default_threads()
            if limited != 1:
                problems.append("threadpool_limits(1, user_api='openmp') left fastconv "
                                f"with {limited} threads")

    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    print("installed-wheel check:", "FAILED" if problems else "ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
