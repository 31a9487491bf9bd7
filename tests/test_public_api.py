"""The public surface: what ``dir()`` shows, and conventions across modules.

* every public submodule of fastconv has an ``__all__``, every name in it
  exists, and ``dir(module)`` lists exactly those names (no ``np``, ``math``
  or helpers imported for internal use), so tab completion and
  ``from fastconv.signal import *`` agree with the documentation;
* ``activation='leaky_relu'`` means Keras 3's slope (0.2) in the Keras-style
  layers and PyTorch's (0.01) in the PyTorch-style functions.
"""

import importlib
import pkgutil

import numpy as np
import pytest

import fastconv
from fastconv.layers import Conv1D, Conv2D

PUBLIC_SUBMODULES = sorted(
    info.name for info in pkgutil.iter_modules(fastconv.__path__)
    if not info.name.startswith("_"))


def test_the_public_submodules_are_found():
    # the list below is derived, so check it is not silently empty
    assert {"signal", "ndimage", "nn", "layers"} <= set(PUBLIC_SUBMODULES)


def _import_public(name):
    """fastconv.<name>, skipping optional submodules whose extra is missing
    (fastconv.dask without dask: its ImportError names the extra)."""
    try:
        return importlib.import_module(f"fastconv.{name}")
    except ImportError as exc:
        if "pip install" in str(exc):
            pytest.skip(str(exc))
        raise


@pytest.mark.parametrize("name", PUBLIC_SUBMODULES)
def test_dir_of_a_public_submodule_is_its_all(name):
    module = _import_public(name)
    assert hasattr(module, "__all__"), f"fastconv.{name} has no __all__"
    assert len(set(module.__all__)) == len(module.__all__), "duplicates in __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []
    public = [n for n in dir(module) if not n.startswith("_")]
    assert sorted(public) == sorted(module.__all__)


@pytest.mark.parametrize("name", PUBLIC_SUBMODULES)
def test_star_import_gives_all(name):
    module = _import_public(name)
    namespace = {}
    exec(f"from fastconv.{name} import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(module.__all__)


def test_top_level_all_names_exist_and_dir_adds_only_submodules():
    missing = [n for n in fastconv.__all__ if not hasattr(fastconv, n)]
    assert missing == []
    extra = {n for n in dir(fastconv) if not n.startswith("_")} - set(fastconv.__all__)
    # the top level may also show its public submodules (fastconv.signal, ...)
    assert extra <= set(PUBLIC_SUBMODULES), extra


# ---------------------------------------------------------------- leaky_relu

def _pre_activation(layer_cls, x, **kw):
    return layer_cls(4, 3, padding="same", seed=7, bias_initializer="random_normal",
                     dtype="float64", **kw)(x)


@pytest.mark.parametrize("layer_cls, shape", [(Conv1D, (2, 17, 3)), (Conv2D, (2, 9, 8, 3))])
def test_layer_leaky_relu_uses_keras_slope(rng, layer_cls, shape):
    x = rng.standard_normal(shape)
    z = _pre_activation(layer_cls, x)
    y = _pre_activation(layer_cls, x, activation="leaky_relu")
    assert (z < 0).any() and (z > 0).any()
    np.testing.assert_array_equal(y, np.where(z >= 0, z, 0.2 * z))


def test_layer_leaky_relu_backward_uses_keras_slope(rng):
    x = rng.standard_normal((2, 9, 8, 3))
    lin = Conv2D(4, 3, padding="same", seed=7, dtype="float64", use_bias=False)
    leaky = Conv2D(4, 3, padding="same", seed=7, dtype="float64", use_bias=False,
                   activation="leaky_relu")
    z = lin(x)
    leaky(x)
    gy = rng.standard_normal(z.shape)
    # the layer's gradient equals the linear layer's with dL/dz = gy * slope'
    expected = lin.backward(np.where(z >= 0, gy, 0.2 * gy))
    np.testing.assert_allclose(leaky.backward(gy), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(leaky.kernel_grad, lin.kernel_grad, rtol=1e-12, atol=1e-12)


def test_function_leaky_relu_keeps_pytorch_slope(rng):
    x = rng.standard_normal((2, 3, 10, 9))
    w = rng.standard_normal((4, 3, 3, 3))
    z = fastconv.conv2d(x, w, padding=1)
    y = fastconv.conv2d(x, w, padding=1, activation="leaky_relu")
    assert (z < 0).any()
    np.testing.assert_array_equal(y, np.where(z >= 0, z, 0.01 * z))
