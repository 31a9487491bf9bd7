"""Sphinx configuration of fastconv's documentation.

Build (from the repository root, with the ``docs`` group installed:
``python -m pip install --group docs``)::

    sphinx-build -W -b html docs docs/_build/html
    sphinx-build -W -b doctest docs docs/_build/doctest

The docs document the INSTALLED fastconv: nothing here puts the source tree on
``sys.path`` (``docs/`` itself is added, for the figure helpers only).

The API reference is generated from the package: at configuration time this
file writes ``docs/_api_tables.rst`` (git-ignored, included by ``api.rst``)
with one summary table (``autosummary``) per public module and group of
functions, taken from ``fastconv.__all__``, ``fastconv.ndimage.__all__``,
``fastconv.layers.__all__`` and ``fastconv.dask.__all__`` (whichever exist),
so a new public name appears in the reference without editing the docs.
autosummary then writes one page per name under
``docs/_generated/api/generated`` and the doctest builder runs the Examples of
every one of those docstrings.

The examples are a sphinx-gallery: ``docs/examples/*.py`` run during the HTML
build and their figures appear in ``auto_examples/`` (the training example
runs 3 epochs there, to keep the build short).

The benchmarks page shows ``docs/_static/bench/results-avx512.json`` and
``results-avx2.json`` (the output of ``python -m fastconv bench --json FILE``
on an AVX-512 and on an AVX2-only CPU) as figures drawn by
``docs/bench_plot.py``, and says that no results are recorded for a machine
whose file does not exist.
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
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "examples", "_api_tables.rst", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "code"

# -- HTML ----------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_title = f"fastconv {release}"
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 9,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    # everything served from the build itself: no analytics, no CDN
    "icon_links": [],
}
html_sidebars = {"index": [], "getting_started": [], "benchmarks": []}
html_show_sourcelink = False
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


# -- sphinx-gallery: docs/examples -> auto_examples ---------------------------------


sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/(plot_|train_)",
    "reset_argv": "gallery_args.reset_argv",  # docs/gallery_args.py
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
}

# -- the API lists, generated from __all__ -------------------------------------------

API_MODULES = [
    ("fastconv", "fastconv (top level)",
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


# Groups of the top-level functions on the API landing page, by the module
# that defines them; a name from elsewhere lands in "Other functions", so
# nothing public is ever left out.
TOP_LEVEL_GROUPS = [
    ("SciPy drop-ins (scipy.signal)", ("fastconv.signal", "fastconv._fft")),
    ("CNN functions (PyTorch / Keras semantics)", ("fastconv.nn",)),
    ("Gradients and transposed convolution", ("fastconv._autograd", "fastconv._transpose")),
    ("Output size and build facts", ("fastconv._geometry", "fastconv._config")),
]


def _autosummary(names, template=None):
    lines = [".. autosummary::", "   :toctree: _generated/api/generated", "   :nosignatures:"]
    if template:
        lines.append(f"   :template: {template}")
    return lines + [""] + [f"   {n}" for n in names] + [""]


def write_api_pages():
    """Write ``_api_tables.rst``: a summary table per public module (and group).

    Returns the names of the modules listed.
    """
    lines = [".. This file is generated by docs/conf.py from the modules' __all__.", ""]
    written = []
    for modname, title, blurb in API_MODULES:
        result = public_names(modname)
        if result is None:
            continue
        module, names = result
        functions = [n for n, kind in names if kind == "function"]
        classes = [n for n, kind in names if kind == "class"]
        lines += [title, "-" * len(title), "", blurb, "", f".. currentmodule:: {modname}", ""]
        if modname == "fastconv":
            left = list(functions)
            groups = []
            for heading, sources in TOP_LEVEL_GROUPS:
                group = [n for n in left if getattr(getattr(module, n), "__module__", None)
                         in sources]
                groups.append((heading, group))
                left = [n for n in left if n not in group]
            groups.append(("Other functions", left))
            for heading, group in groups:
                if group:
                    lines += [heading, "~" * len(heading), ""] + _autosummary(group)
        elif functions:
            lines += _autosummary(functions)
        if classes:
            lines += _autosummary(classes, "class.rst")
        written.append(modname)
    _write_if_changed(os.path.join(HERE, "_api_tables.rst"), "\n".join(lines))
    return written


API_WRITTEN = write_api_pages()
autosummary_generate = ["_api_tables.rst"]

# -- the benchmarks page's results ---------------------------------------------------

import bench_plot  # noqa: E402 - docs/bench_plot.py

BENCH_RESULTS = {
    level: bench_plot.write_results_fragment(
        os.path.join(HERE, "_static", "bench", f"results-{level}.json"),
        os.path.join(HERE, "_generated", f"bench_results_{level}.inc"),
        os.path.join(HERE, "_generated", "bench", level), f"/_generated/bench/{level}")
    for level in ("avx512", "avx2")
}

# ``only`` tags for pages that depend on what exists
if "fastconv.dask" in API_WRITTEN:
    tags.add("fastconv_dask")  # noqa: F821 - provided by Sphinx
