"""Activations and their derivatives, side by side.

:func:`apply_activation` is used by the CNN functions and layers,
:func:`activation_grad` by their gradients (the backward pass of a layer).
"""

import numpy as np


ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "gelu", "elu", "leaky_relu")


def _erf(x):
    from scipy.special import erf
    return erf(x)


def apply_activation(y, activation):
    """Apply a named activation (or a callable) to `y`, in place where possible."""
    if activation is None or activation == "linear":
        return y
    if callable(activation):
        return np.asarray(activation(y))
    if activation == "relu":
        return np.maximum(y, 0, out=y)
    if activation == "sigmoid" and y.dtype.kind == "c":
        return (1 / (1 + np.exp(-y))).astype(y.dtype, copy=False)
    if activation == "sigmoid":
        # 1 / (1 + exp(-y)), written to stay finite for large |y|
        e = np.exp(-np.abs(y))
        return np.where(y >= 0, 1 / (1 + e), e / (1 + e)).astype(y.dtype, copy=False)
    if activation == "tanh":
        return np.tanh(y, out=y)
    if activation == "gelu":
        return (0.5 * y * (1 + _erf(y / np.sqrt(2)))).astype(y.dtype, copy=False)
    if activation == "elu":
        return np.where(y > 0, y, np.expm1(np.minimum(y, 0))).astype(y.dtype, copy=False)
    if activation == "leaky_relu":
        return np.where(y >= 0, y, y * y.dtype.type(0.01)).astype(y.dtype, copy=False)
    raise AssertionError(activation)  # validated before


def check_activation(activation):
    if activation is None or callable(activation):
        return activation
    if not isinstance(activation, str):
        raise TypeError("activation must be None, a str or a callable, "
                        f"got {type(activation).__name__} {activation!r}")
    if activation.lower() in ACTIVATIONS:
        return activation.lower()
    raise ValueError(f"activation must be None, a callable or one of {', '.join(ACTIVATIONS)}, "
                     f"got {activation!r}")


NEEDS_PRE = ("gelu",)


def activation_grad(grad, activation, pre=None, out=None):
    """``grad * f'(z)`` for a named activation ``f`` (``None``/``'linear'``:
    `grad` itself).  `pre` is ``z`` (the pre-activation), `out` is
    ``f(z)``; either suffices except for ``'gelu'`` which needs `pre`.
    """
    if activation is None or activation == "linear":
        return grad
    if callable(activation):
        raise TypeError("activation: a callable activation has no known derivative; "
                        "use a named activation or apply it outside the convolution")
    if activation in NEEDS_PRE or out is None:
        if pre is None:
            raise ValueError(f"activation={activation!r} needs the pre-activation values")
        z = pre
        if activation == "relu":
            return grad * (z > 0)
        if activation == "leaky_relu":
            return grad * np.where(z >= 0, 1, 0.01).astype(grad.dtype)
        if activation == "elu":
            return grad * np.where(z > 0, 1, np.exp(np.minimum(z, 0))).astype(grad.dtype)
        if activation == "gelu":
            from scipy.special import erf
            zz = z.astype(np.float64)
            d = 0.5 * (1 + erf(zz / np.sqrt(2))) + zz * np.exp(-0.5 * zz * zz) / np.sqrt(
                2 * np.pi)
            return (grad * d).astype(grad.dtype, copy=False)
        # sigmoid and tanh from their output
        out = apply_activation(z.copy(), activation)
    y = out
    if activation == "relu":
        return grad * (y > 0)
    if activation == "leaky_relu":
        return grad * np.where(y >= 0, 1, 0.01).astype(grad.dtype)
    if activation == "elu":
        return grad * np.where(y > 0, 1, y + 1).astype(grad.dtype)
    if activation == "sigmoid":
        return grad * (y * (1 - y))
    if activation == "tanh":
        return grad * (1 - y * y)
    raise AssertionError(activation)  # validated before
