"""Exception classes shared by the SciPy-compatible front-ends."""


class RuntimeValueError(RuntimeError, ValueError):
    """Raised where SciPy raises ``RuntimeError`` for a bad value.

    It is also a ``ValueError`` (fastconv's rule for bad values), so both
    ``except RuntimeError`` (code written for SciPy) and ``except
    ValueError`` catch it.
    """


class TypeValueError(TypeError, ValueError):
    """Raised where SciPy raises ``ValueError`` for an argument of a bad type.

    It is also a ``TypeError`` (fastconv's rule for bad types).
    """
