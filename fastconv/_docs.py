"""One docstring filler for the parameter texts the public functions share.

Like SciPy's ``scipy/ndimage/_ni_docstrings.py``: a docstring names a shared
text as ``%(name)s`` on a line of its own, and :func:`docfiller` replaces it
with the text below, indented like the placeholder, when the module is
imported.  One text, one place: a change of the thread policy, say, is
written once.
"""

import textwrap

_TEXTS = {
    "workers": """\
workers : int, optional
    Threads (``None``: every usable core that other processes leave free
    -- on a busy machine that may be one; a positive count: that many, at
    most the usable cores; negative: counts back from the number of
    cores).  Results are bitwise identical for any value.""",
    "nd_input": """\
input : array_like
    The input array.""",
    "nd_output": """\
output : ndarray or dtype, optional
    Array to fill (exactly the input's shape; it is returned, the same
    object) or dtype of the result.  Default: the input's dtype.""",
    "nd_mode": """\
mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap'}, optional
    How the input extends beyond its edges (default ``'reflect'``):
    ``'reflect'`` ``(d c b a | a b c d | d c b a)``; ``'constant'``
    ``(k k k k | a b c d | k k k k)`` with ``k = cval``; ``'nearest'``
    ``(a a a a | a b c d | d d d d)``; ``'mirror'``
    ``(d c b | a b c d | c b a)``; ``'wrap'`` ``(a b c d | a b c d |
    a b c d)``.  ``'grid-mirror'``, ``'grid-constant'`` and
    ``'grid-wrap'`` are synonyms of ``'reflect'``, ``'constant'`` and
    ``'wrap'``.""",
    "nd_cval": """\
cval : scalar, optional
    Value beyond the edges for ``mode='constant'`` (default 0.0).""",
    "nd_modes": """\
mode : str or sequence of str, optional
    Boundary mode (see :func:`fastconv.ndimage.correlate`; default
    ``'reflect'``), or one per filtered axis.""",
}


def docfiller(func):
    """Replace ``%(name)s`` placeholder lines of ``func.__doc__`` by the
    shared texts (indented like the placeholder); returns `func`.

    Examples
    --------
    >>> from fastconv._docs import docfiller
    >>> @docfiller
    ... def f(workers=None):
    ...     '''Parameters
    ...     ----------
    ...     %(workers)s
    ...     '''
    >>> print(f.__doc__.splitlines()[2].strip())
    workers : int, optional
    """
    doc = func.__doc__
    if not doc:
        return func
    lines = []
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.startswith("%(") and stripped.endswith(")s") and stripped[2:-2] in _TEXTS:
            indent = line[:len(line) - len(line.lstrip())]
            lines.append(textwrap.indent(_TEXTS[stripped[2:-2]], indent))
        else:
            lines.append(line)
    func.__doc__ = "\n".join(lines) + ("\n" if doc.endswith("\n") else "")
    return func
