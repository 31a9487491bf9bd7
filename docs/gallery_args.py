"""Command-line arguments of the examples when sphinx-gallery runs them.

``docs/conf.py`` names :func:`reset_argv` in ``sphinx_gallery_conf`` (by its
import path, so the configuration stays picklable).  The training example
runs 3 epochs in the documentation build instead of its default 20 and
writes its files to a temporary folder; every other example runs as is.
"""

import os
import tempfile


def reset_argv(gallery_conf, script_vars):
    if os.path.basename(script_vars["src_file"]) == "train_digits.py":
        return ["--epochs", "3", "--out", tempfile.mkdtemp(prefix="fastconv-digits-")]
    return []
