"""Check that the doctest build ran the Examples of every public docstring.

Usage (after ``sphinx-build -b doctest docs docs/_build/doctest``)::

    python docs/check_doctests.py docs/_build/doctest/output.txt

For every public name of ``fastconv.__all__``, ``fastconv.ndimage.__all__``,
``fastconv.layers.__all__`` and ``fastconv.dask.__all__`` (those modules that
exist) that is a function or class, the API page generated for it must appear
in the doctest report with at least one test and no failure.  A docstring
without Examples, or a page the doctest builder skipped, fails the check.
"""

import importlib
import inspect
import re
import sys

MODULES = ("fastconv", "fastconv.ndimage", "fastconv.layers", "fastconv.dask")


def public_objects():
    names = []
    for modname in MODULES:
        try:
            module = importlib.import_module(modname)
        except ImportError:
            continue
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) or callable(obj):
                names.append(f"{modname}.{name}")
    return names


def parse_report(text):
    """``{document: (passed, failed)}`` from the doctest builder's output.txt."""
    results = {}
    for block in re.split(r"^Document: ", text, flags=re.M)[1:]:
        doc = block.splitlines()[0].strip()
        passed = failed = 0
        for p, f in re.findall(r"^(\d+) passed and (\d+) failed\.", block, flags=re.M):
            passed += int(p)
            failed += int(f)
        results[doc] = (passed, failed)
    return results


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python docs/check_doctests.py OUTPUT.txt")
    with open(argv[0], encoding="utf-8") as fh:
        report = parse_report(fh.read())
    problems = []
    names = public_objects()
    for fullname in names:
        doc = f"_generated/api/generated/{fullname}"
        passed, failed = report.get(doc, (0, 0))
        if failed:
            problems.append(f"{fullname}: {failed} failing example(s)")
        elif not passed:
            problems.append(f"{fullname}: no example ran (docstring without Examples?)")
    failed_docs = [f"{d}: {f} failed" for d, (p, f) in sorted(report.items()) if f]
    problems += [p for p in failed_docs if p.split(":")[0].rsplit("/", 1)[-1] not in names]
    if problems:
        print("doctest coverage check FAILED:\n  " + "\n  ".join(problems))
        return 1
    total = sum(p for p, _ in report.values())
    print(f"doctest coverage check: {len(names)} public names, each with passing examples; "
          f"{total} examples in {len(report)} pages passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
