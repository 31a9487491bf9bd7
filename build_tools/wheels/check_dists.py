"""Check what the sdist and the wheels of fastconv contain.

Usage::

    python check_dists.py sdist  SDIST.tar.gz SOURCE_DIR
    python check_dists.py wheel  WHEEL.whl
    python check_dists.py repaired WHEEL.whl

* ``sdist``: every file the build needs is in the sdist: ``setup.py``,
  ``pyproject.toml``, ``README.md``, ``MANIFEST.in``, everything under
  ``build_tools/`` and ``tests/`` (cibuildwheel takes the tests from the
  sdist), and every ``.py/.pyx/.pxd/.pxi/.h`` file of the
  ``fastconv/`` package in SOURCE_DIR (the tree the sdist was made from); no
  build product (``.so``, ``.pyd``, generated ``.c``) is.
* ``wheel``: the wheel has the Python modules, the ``.pxd`` declarations and
  the compiled extensions, and no build leftover (``.c``, ``.cpp``, ``.pyx``,
  ``.pxi``, ``.h``, ``.html``, ``.o``).
* ``repaired``: the same, plus an OpenMP runtime (``libgomp``, ``libomp``,
  ``vcomp``) bundled by auditwheel, delocate or delvewheel.

Prints the listing and exits 1 with the reasons when a check fails.
"""

import os
import sys
import tarfile
import zipfile

BUILD_PRODUCTS = (".so", ".pyd", ".dylib", ".dll", ".o", ".obj", ".pyc")
WHEEL_FORBIDDEN = (".c", ".cpp", ".pyx", ".pxi", ".h", ".html", ".o", ".obj")
PACKAGE_SOURCES = (".py", ".pyx", ".pxd", ".pxi", ".h")
OPENMP_LIBS = ("libgomp", "libomp", "libiomp", "vcomp")


def _print_listing(title, names):
    print(f"--- {title} ({len(names)} files)")
    for name in sorted(names):
        print(f"    {name}")


def check_sdist(path, source_dir):
    with tarfile.open(path) as tar:
        members = [m.name for m in tar.getmembers() if m.isfile()]
    top = members[0].split("/", 1)[0]
    names = {m.split("/", 1)[1] for m in members if "/" in m}
    _print_listing(os.path.basename(path), names)
    problems = []
    required = {"setup.py", "pyproject.toml", "README.md", "MANIFEST.in"}
    for folder in ("build_tools", "tests"):
        for base, _dirs, files in os.walk(os.path.join(source_dir, folder)):
            parts = os.path.relpath(base, source_dir).split(os.sep)
            if any(part.startswith((".", "__pycache__")) for part in parts):
                continue
            for f in files:
                if not f.endswith(BUILD_PRODUCTS):
                    rel = os.path.relpath(os.path.join(base, f), source_dir)
                    required.add(rel.replace(os.sep, "/"))
    pkg = os.path.join(source_dir, "fastconv")
    for f in os.listdir(pkg):
        if f.endswith(PACKAGE_SOURCES):
            required.add(f"fastconv/{f}")
    missing = sorted(required - names)
    if missing:
        problems.append(f"missing from the sdist (add them to MANIFEST.in): {missing}")
    products = sorted(n for n in names if n.endswith(BUILD_PRODUCTS)
                      or (n.startswith("fastconv/") and n.endswith((".c", ".cpp", ".html"))))
    if products:
        problems.append(f"build products in the sdist: {products}")
    if not top.startswith("fastconv-"):
        problems.append(f"unexpected top folder {top!r}")
    return problems


def check_wheel(path, repaired=False):
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
    _print_listing(os.path.basename(path), names)
    problems = []
    leftovers = sorted(n for n in names if n.endswith(WHEEL_FORBIDDEN))
    if leftovers:
        problems.append(f"build leftovers in the wheel: {leftovers}")
    pkg = [n for n in names if n.startswith("fastconv/")]
    for needed in ("fastconv/__init__.py", "fastconv/__main__.py"):
        if needed not in pkg:
            problems.append(f"{needed} is missing from the wheel")
    exts = [n for n in pkg if n.endswith((".so", ".pyd"))]
    for module in ("_openmp", "_kernels_baseline"):
        if not any(os.path.basename(n).startswith(module + ".") for n in exts):
            problems.append(f"compiled extension fastconv.{module} is missing from the wheel")
    if repaired:
        bundled = [n for n in names
                   if n.startswith(("fastconv.libs/", "fastconv/.dylibs/"))
                   and os.path.basename(n).lower().startswith(OPENMP_LIBS)]
        if not bundled:
            problems.append("no OpenMP runtime bundled in the repaired wheel")
        else:
            print(f"bundled OpenMP runtime: {', '.join(bundled)}")
    return problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2 or argv[0] not in ("sdist", "wheel", "repaired"):
        print(__doc__)
        return 2
    kind, path = argv[0], argv[1]
    if kind == "sdist":
        if len(argv) != 3:
            print("sdist needs SDIST and SOURCE_DIR")
            return 2
        problems = check_sdist(path, argv[2])
    else:
        problems = check_wheel(path, repaired=(kind == "repaired"))
    for p in problems:
        print(f"ERROR: {p}", file=sys.stderr)
    print(f"{kind} check:", "FAILED" if problems else "ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
