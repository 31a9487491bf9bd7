#!/usr/bin/env bash
# Build the documentation as CI does, against the INSTALLED fastconv.
#
# Usage:  PYTHON=/path/to/venv/bin/python build_tools/ci_docs.sh
#
# $PYTHON (default: `python`) must have fastconv and the `docs` group
# installed (`python -m pip install --group docs`: sphinx, numpydoc,
# matplotlib, pydata-sphinx-theme, sphinx-gallery, scikit-learn); torch/opencv
# (group `peers`) are optional: the examples comparing against them are
# skipped without them.
#
# 1. `sphinx-build -W -b html`    : warnings are errors; the user guide's
#    figures are drawn by matplotlib and the gallery's examples
#    (docs/examples/) run during this build.
# 2. `sphinx-build -W -b doctest` : runs every `>>>` example of the pages and
#    of every public docstring (autodoc + numpydoc put them on the API pages).
# 3. docs/check_doctests.py        : every public name of fastconv.__all__,
#    fastconv.ndimage, fastconv.layers (and fastconv.dask) ran >= 1 example and
#    none failed.
#
# Sphinx runs from inside docs/ so that the repository root is never on
# sys.path: `import fastconv` finds the installed package (docs/conf.py prints
# which one).  Output goes to docs/_build/{html,doctest} (FASTCONV_DOCS_OUT
# overrides the folder).
set -euo pipefail

PY="${PYTHON:-python}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${FASTCONV_DOCS_OUT:-$root/docs/_build}"
cd "$root/docs"

echo "== docs with $("$PY" -c 'import sys; print(sys.executable)')"
"$PY" -c 'import fastconv, sphinx, numpydoc, matplotlib, pydata_sphinx_theme, sphinx_gallery; print("fastconv", fastconv.__version__, "from", fastconv.__file__); print("sphinx", sphinx.__version__, "numpydoc", numpydoc.__version__, "matplotlib", matplotlib.__version__, "pydata-sphinx-theme", pydata_sphinx_theme.__version__, "sphinx-gallery", sphinx_gallery.__version__)'

export MPLBACKEND=Agg
"$PY" -m sphinx -W --keep-going -b html . "$out/html"
# the gallery's scripts ran in the HTML build: not again here
"$PY" -m sphinx -W --keep-going -b doctest -D plot_gallery=0 . "$out/doctest"
"$PY" check_doctests.py "$out/doctest/output.txt"
echo "ci_docs.sh: HTML in $out/html; doctests passed"
