"""Sphinx configuration of fastconv's documentation.

Build (from the repository root, with the ``docs`` extra installed)::

    sphinx-build -W -b html docs docs/_build/html
    sphinx-build -W -b doctest docs docs/_build/doctest

The docs document the INSTALLED fastconv: nothing here puts the source tree on
``sys.path`` (``docs/`` itself is added, for the figure helpers only).

The API reference is generated from the package: at configuration time this
file writes ``docs/_generated/api/*.rst`` (git-ignored) with one ``autosummary`` list
per public module, taken from ``fastconv.__all__``,
``fastconv.ndimage.__all__`` and ``fastconv.layers.__all__`` (whichever
exist), so a new public name appears in the reference without editing the
docs.  autosummary then writes one page per name under
``docs/_generated/api/generated`` and the doctest builder runs the Examples of
every one of those docstrings.

The benchmarks page shows ``docs/_static/bench/results.json`` (the output of
``python -m fastconv bench --json FILE``) as figures drawn by
``docs/bench_plot.py`` when that file exists, and says that no results are
recorded when it does not.
"""

import importlib
import inspect
import os
import sys

import fastconv

print(f"fastconv {fastconv.__version__} from {fastconv.__file__}")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # docs/figures.py and docs/bench_plot.py, not the package

# -- project -----------------------------------------------------------------

project = "fastconv"
author = "The fastconv developers"
copyright = "The fastconv developers"
release = fastconv.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "code"

# -- HTML ----------------------------------------------------------------------

html_theme = "alabaster"
html_static_path = ["_static"]
html_title = f"fastconv {release}"
html_theme_options = {
    "description": "Fast, exact N-D convolution for NumPy",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}
# Formulas are written in literal blocks (no :math:), so no page loads MathJax
# from a CDN: the HTML reads fine without network access.

# -- autodoc / autosummary / numpydoc -------------------------------------------

# the generated API pages are the only sources with autosummary lists; naming
# them (rather than True, which scans the *previous* build's list of sources
# on an incremental build) picks up a module that appeared since then
autosummary_generate = []  # filled in below, once the pages are written
autosummary_imported_members = True
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_xref_param_type = False

# -- doctest ---------------------------------------------------------------------

doctest_global_setup = """
import importlib.util
import numpy as np
import fastconv
HAVE_NDIMAGE = importlib.util.find_spec("fastconv.ndimage") is not None
HAVE_CV2 = importlib.util.find_spec("cv2") is not None
HAVE_TORCH = importlib.util.find_spec("torch") is not None
if HAVE_NDIMAGE:
    import fastconv.ndimage
"""
# plain ``>>>`` blocks, which is what autodoc makes of numpydoc Examples
doctest_test_doctest_blocks = "default"

# -- matplotlib plot directive ----------------------------------------------------

plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.dpi": 110, "font.size": 9}
plot_apply_rcparams = True


# -- the API lists, generated from __all__ -------------------------------------------

API_MODULES = [
    ("fastconv", "Top-level functions",
     "SciPy-compatible functions, CNN functions (PyTorch/Keras semantics), their "
     "gradients and transposes, the output-size formula and build facts."),
    ("fastconv.ndimage", "fastconv.ndimage",
     "Drop-in for ``scipy.ndimage``'s convolution filters (output the shape of the "
     "input; boundary modes ``reflect``, ``constant``, ``nearest``, ``mirror``, "
     "``wrap``)."),
    ("fastconv.layers", "fastconv.layers",
     "Keras-style layer objects with weights, ``forward``/``backward`` and "
     "``get_weights``/``set_weights``."),
    ("fastconv.dask", "fastconv.dask",
     "The same functions on dask arrays, block by block."),
]


def public_names(modname):
    """``(module, [(name, kind)])`` for the public callables of `modname`.

    None when the module does not exist (yet).
    """
    try:
        module = importlib.import_module(modname)
    except ImportError:
        return None
    names = getattr(module, "__all__", None)
    if names is None:
        raise RuntimeError(f"{modname} has no __all__: the API reference is built from it")
    found = []
    for name in names:
        obj = getattr(module, name)
        if inspect.isclass(obj):
            found.append((name, "class"))
        elif callable(obj):
            found.append((name, "function"))
        # constants such as __version__ are not documented as objects
    return module, found


def _write_if_changed(path, text):
    old = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
    if old != text:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)


def write_api_pages():
    """Write _generated/api/<module>.rst for every existing public module.

    Returns the names of the modules written.
    """
    out_dir = os.path.join(HERE, "_generated", "api")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for modname, title, blurb in API_MODULES:
        result = public_names(modname)
        path = os.path.join(out_dir, f"{modname}.rst")
        if result is None:
            if os.path.exists(path):
                os.remove(path)
            continue
        _, names = result
        functions = [n for n, kind in names if kind == "function"]
        classes = [n for n, kind in names if kind == "class"]
        lines = [f".. This file is generated by docs/conf.py from {modname}.__all__.", "",
                 title, "=" * len(title), "", blurb, "",
                 f".. currentmodule:: {modname}", ""]
        for heading, group, template in (("Functions", functions, None),
                                         ("Classes", classes, "class.rst")):
            if not group:
                continue
            lines += [heading, "-" * len(heading), "", ".. autosummary::",
                      "   :toctree: generated", "   :nosignatures:"]
            if template:
                lines.append(f"   :template: {template}")
            lines.append("")
            lines += [f"   {n}" for n in group]
            lines.append("")
        _write_if_changed(path, "\n".join(lines))
        written.append(modname)
    # the toctree the hand-written api.rst includes
    toc = [".. This file is generated by docs/conf.py.", "", ".. toctree::",
           "   :maxdepth: 1", ""] + [f"   _generated/api/{m}" for m in written] + [""]
    _write_if_changed(os.path.join(HERE, "_generated", "api_toc.inc"), "\n".join(toc))
    return written


API_WRITTEN = write_api_pages()
autosummary_generate = [f"_generated/api/{m}.rst" for m in API_WRITTEN]

# -- the benchmarks page's results ---------------------------------------------------

import bench_plot  # noqa: E402 - docs/bench_plot.py

BENCH_RESULTS = bench_plot.write_results_fragment(
    os.path.join(HERE, "_static", "bench", "results.json"),
    os.path.join(HERE, "_generated", "bench_results.inc"),
    os.path.join(HERE, "_generated", "bench"), "/_generated/bench")

# ``only`` tags for pages that depend on what exists
if "fastconv.dask" in API_WRITTEN:
    tags.add("fastconv_dask")  # noqa: F821 - provided by Sphinx
