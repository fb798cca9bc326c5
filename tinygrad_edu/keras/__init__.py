"""``tinygrad_edu.keras``: a Keras-style facade over ``tinygrad_edu.nn`` and
``tinygrad_edu.train``, so Keras scripts run with only their imports changed.

``from keras.models import Sequential`` becomes ``from tinygrad_edu.keras.models import
Sequential``, ``from keras.layers import Dense`` becomes ``from tinygrad_edu.keras.layers
import Dense``, ``import keras`` becomes ``from tinygrad_edu import keras``. Keras's
defaults are kept so results are comparable: ``glorot_uniform`` kernels, zero biases,
``Adam(learning_rate=0.001, epsilon=1e-7)`` with Keras's update formula, ``SGD`` at 0.01,
``batch_size=32``. Underneath, a model is an ``nn.Module`` and ``fit`` is
``tinygrad_edu.train.fit``, so the training diagnostics apply: seed 000's
``metrics=['accuracy']`` on a regression target warns, seed 001's unscaled integers warn.

>>> import numpy as np
>>> from tinygrad_edu import keras
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([
...     keras.layers.Dense(16, activation="tanh", input_shape=(1,)),
...     keras.layers.Dense(1),
... ])
>>> model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
>>> x = np.linspace(-2, 2, 200).reshape(-1, 1)
>>> history = model.fit(x, np.sin(x), epochs=100, batch_size=20, verbose=0,
...                     validation_split=0.2)
>>> sorted(history.history), bool(history.history["loss"][-1] < 0.01)
(['loss', 'val_loss'], True)
"""

from . import (
    activations,
    backend,
    callbacks,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    utils,
)
from .layers import Input
from .models import Model, Sequential
from .saving import load_model

__all__ = [
    "Input",
    "Model",
    "Sequential",
    "activations",
    "backend",
    "callbacks",
    "initializers",
    "layers",
    "load_model",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "random",
    "regularizers",
    "saving",
    "utils",
]


def __getattr__(name: str) -> object:
    if name == "applications":
        raise AttributeError(
            "keras.applications (Xception, ResNet, ... with ImageNet weights) is not part of "
            "tinygrad_edu.keras: it downloads pretrained weights. Build the base model as a "
            "Sequential, load weights you saved with save_weights(), set "
            "base_model.trainable = False and stack a head on it: "
            "keras.Sequential([base_model, keras.layers.Dense(10)])")
    raise AttributeError(f"module 'tinygrad_edu.keras' has no attribute {name!r}")
