"""Keras's layers: ``Dense``, ``Activation``, ``Dropout``, ``Flatten``, ``InputLayer`` /
``Input``, and their base class ``Layer``.

A layer is an ``nn.Module`` (its weights are ``Parameter``s, so ``parameters()``,
``state_dict()`` and the optimizers work on it) with Keras's behaviour on top:

- **Lazy building.** Weights are created by ``build(input_shape)``, when the input size is
  first known: at once when the layer is given ``input_dim`` / ``input_shape``, when it is
  added to a model whose input shape is known, or on the first call (as in Keras).
- **Keras shapes and names.** A Dense kernel is ``(in, out)``; default names are
  ``dense``, ``dense_1``, ... (see :mod:`.backend`); ``get_weights()`` / ``set_weights()``
  use numpy arrays in Keras's order (kernel, then bias).
- **Configs** (``get_config()`` / ``from_config()``): plain JSON-able dicts, from which
  ``load_model`` rebuilds the architecture without running code from the file.
- **Inference by default.** A layer starts with ``training`` off, so a direct call
  ``layer(x)`` is inference (Dropout passes everything), as in Keras; ``fit`` switches the
  model to training mode for its duration. ``layer(x, training=True)`` forces it; in a
  hand-written loop call ``model.train()`` first.

>>> import numpy as np
>>> from tinygrad_edu import keras
>>> keras.backend.clear_session()
>>> layer = Dense(3, activation="relu", input_dim=2)
>>> layer.name, layer.built, layer.kernel.shape, layer.bias.tolist()
('dense', True, (2, 3), [0.0, 0.0, 0.0])
>>> layer(np.ones((4, 2))).shape
(4, 3)
>>> lazy = Dense(1)
>>> lazy.built
False
>>> _ = lazy(np.ones((4, 3)))   # built on the first call, from the input's last axis
>>> lazy.kernel.shape, lazy.count_params()
((3, 1), 4)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .. import nn
from ..nn import functional as F
from ..random import Generator
from ..tensor import Tensor
from . import activations, backend, initializers
from ._dense_op import dense

Shape = tuple[int | None, ...]

# While load_model rebuilds layers their weights are about to be overwritten from the file:
# they are created as zeros (no draw from the random generator, no pages touched).
_LOADING = {"active": False}


@contextlib.contextmanager
def weights_from_file() -> Iterator[None]:
    """Within this block new layers create zero weights instead of drawing them (for
    ``load_model``, which overwrites them: loading leaves the random stream untouched)."""
    before = _LOADING["active"]
    _LOADING["active"] = True
    try:
        yield
    finally:
        _LOADING["active"] = before


def make_weight(init: Any, shape: tuple[int, ...], dtype: np.dtype, what: str) -> np.ndarray:
    """A new weight array from an initializer (or zeros while loading a file)."""
    if _LOADING["active"]:
        return np.zeros(shape, dtype=dtype)
    arr = np.asarray(initializers.get(init)(shape, dtype=dtype))
    if arr.shape != tuple(shape):
        raise ValueError(f"the {what} initializer returned shape {arr.shape}, expected "
                         f"{tuple(shape)}")
    return np.array(arr, dtype=dtype, copy=True)


def _as_tensor(x: Any, dtype: np.dtype) -> Tensor:
    """Layer inputs as Tensors of the layer's float dtype (numpy arrays and lists too)."""
    if isinstance(x, InputLayer):
        raise TypeError(
            "calling a layer on an Input builds Keras's functional API, which "
            "tinygrad_edu.keras does not support: put the Input first in a Sequential "
            "instead, e.g. Sequential([Input(shape=(2,)), Dense(4)])"
        )
    if isinstance(x, Tensor):
        return x if x.dtype == dtype else x.astype(dtype)
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"layer inputs must be numbers, got {arr.dtype} data")
    return Tensor._wrap(arr.astype(dtype, copy=False))


def _shape_tuple(shape: Any, what: str) -> tuple[int | None, ...]:
    if isinstance(shape, int | np.integer):
        shape = (int(shape),)
    try:
        out = tuple(None if s is None else int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{what} must be a tuple of ints (e.g. (2,)), got {shape!r}") from None
    if any(s is not None and s <= 0 for s in out):
        raise ValueError(f"{what} must have positive sizes, got {shape!r}")
    return out


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"{what} name must be a non-empty string, got {name!r}")
    if "." in name or "/" in name:
        raise ValueError(f"{what} name {name!r} cannot contain '.' or '/' (they separate "
                         "weight paths such as 'dense.kernel')")
    return name


class WeightLists:
    """Keras's weight lists of a layer or model, in Keras's order (``Parameter``s)."""

    @property
    def weights(self) -> list[nn.Parameter]:
        return list(self.parameters())

    @property
    def trainable_weights(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def non_trainable_weights(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if not p.requires_grad]


class Layer(WeightLists, nn.Module):
    """Base class of the Keras layers: naming, lazy ``build``, weights, configs.

    Subclasses override ``build(input_shape)`` (create weights, then call
    ``super().build(input_shape)``), ``forward`` (the computation; Keras calls it ``call``,
    which is accepted as an alias), ``compute_output_shape`` and ``get_config``.
    ``input_shape`` / ``input_dim`` / ``batch_input_shape`` declare the input of a model's
    first layer; shapes in ``build`` include the batch axis as ``None``, as in Keras.
    """

    def __init__(self, *, name: str | None = None, trainable: bool = True,
                 input_shape: Any = None, input_dim: int | None = None,
                 batch_input_shape: Any = None, batch_size: int | None = None,
                 dtype: Any = None, **kwargs: Any) -> None:
        super().__init__()
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                            f"{kwargs}")
        self.name = _check_name(name, "layer") if name is not None else backend.unique_name(
            type(self).__name__)
        self.dtype = np.dtype(dtype or backend.floatx())
        if self.dtype.kind != "f":
            raise ValueError(f"{type(self).__name__}: dtype must be a float type, got "
                             f"{self.dtype}")
        self.built = False
        self.training = False  # calls outside fit() are inference, as in Keras
        self._trainable = bool(trainable)
        self._build_input_shape: Shape | None = None
        declared = None
        if batch_input_shape is not None:
            declared = _shape_tuple(batch_input_shape, "batch_input_shape")
        elif input_shape is not None:
            declared = (batch_size, *_shape_tuple(input_shape, "input_shape"))
        elif input_dim is not None:
            declared = (batch_size, *_shape_tuple(input_dim, "input_dim"))
        self._batch_input_shape: Shape | None = declared

    # ----------------------------------------------------------------- calling
    def __call__(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        x = _as_tensor(inputs, self.dtype)
        if not self.built:
            self.build((None, *x.shape[1:]))
        if training is None or training == self.training:
            return super().__call__(x, **kwargs)
        was = self.training
        self.train(bool(training))
        try:
            return super().__call__(x, **kwargs)
        finally:
            self.train(was)

    def forward(self, inputs: Tensor) -> Tensor:
        call = getattr(type(self), "call", None)
        if call is not None:
            return call(self, inputs)
        return inputs

    def build(self, input_shape: Sequence[int | None]) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis first, ``None``)."""
        self._build_input_shape = tuple(input_shape)
        self.built = True
        self._apply_trainable()

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The output shape for an input shape (batch axis included)."""
        return tuple(input_shape)

    @property
    def output_shape(self) -> Shape:
        """The output shape (batch axis ``None``), once the layer is built."""
        if self._build_input_shape is None:
            raise AttributeError(f"layer {self.name!r} is not built yet: its output shape is "
                                 "known once its input shape is")
        return self.compute_output_shape(self._build_input_shape)

    # ----------------------------------------------------------------- weights
    def add_weight(self, name: str, shape: Sequence[int], initializer: Any = "glorot_uniform",
                   trainable: bool = True, dtype: Any = None) -> nn.Parameter:
        """Create a weight (a ``Parameter``), register it as ``self.<name>`` and return it;
        for custom layers' ``build`` (Keras's ``add_weight``).

        >>> class Scale(Layer):
        ...     def build(self, input_shape):
        ...         self.add_weight("factor", (input_shape[-1],), initializer="ones")
        ...         super().build(input_shape)
        ...     def call(self, inputs):
        ...         return inputs * self.factor
        >>> import numpy as np
        >>> layer = Scale()
        >>> layer(np.array([[2.0, 3.0]])).tolist(), [w.shape for w in layer.get_weights()]
        ([[2.0, 3.0]], [(2,)])
        """
        shape = tuple(int(s) for s in shape)
        dt = np.dtype(dtype) if dtype is not None else self.dtype
        param = nn.Parameter(make_weight(initializer, shape, dt, name))
        param.requires_grad = bool(trainable) and self._trainable
        self.register_parameter(_check_name(name, "weight"), param)
        return param

    @property
    def trainable(self) -> bool:
        """Whether ``fit`` updates this layer's weights (set to False to freeze it)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        self._apply_trainable()

    def _apply_trainable(self) -> None:
        for p in self.parameters():
            p.requires_grad = self._trainable

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights as numpy arrays (a Dense layer: ``[kernel, bias]``)."""
        return [np.array(p.data, copy=True) for p in self.parameters()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set the weights from arrays of the shapes ``get_weights()`` returns."""
        own = list(self.parameters())
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(
                f"You called `set_weights(weights)` on layer {self.name!r} with a weight list "
                f"of length {len(weights)}, but the layer was expecting {len(own)} weights"
                + ("" if self.built else " (the layer is not built yet: call it on data or "
                   "give the model an input shape first)")
            )
        arrays = [np.asarray(w.data if isinstance(w, Tensor) else w) for w in weights]
        for p, w, i in zip(own, arrays, range(len(own))):
            if w.shape != p.data.shape:
                raise ValueError(f"layer {self.name!r} weight {i} has shape {p.data.shape}, but "
                                 f"the provided weight has shape {w.shape}")
        for p, w in zip(own, arrays):
            p.data[...] = w
            p._bump_version()

    def count_params(self) -> int:
        """The number of scalar weights (the layer must be built)."""
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self.name!r}, but "
                             "the layer isn't built. Build it by calling it on data, or give "
                             "it an input_shape / input_dim.")
        return sum(p.data.size for p in self.parameters())

    # ----------------------------------------------------------------- configs
    def get_config(self) -> dict[str, Any]:
        """The layer's arguments as a JSON-able dict."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable,
                                  "dtype": str(self.dtype)}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """A new layer from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class InputLayer(Layer):
    """Declares the input shape of a ``Sequential`` model (without the batch axis); passes
    its input through. ``Input(shape=...)`` makes one.

    >>> from tinygrad_edu import keras
    >>> keras.backend.clear_session()
    >>> model = keras.Sequential([Input(shape=(3,)), Dense(2)])
    >>> model.built, model.layers[0].kernel.shape
    (True, (3, 2))
    """

    def __init__(self, shape: Any = None, batch_size: int | None = None, dtype: Any = None,
                 name: str | None = None, input_shape: Any = None,
                 batch_input_shape: Any = None, batch_shape: Any = None, **kwargs: Any):
        shape = shape if shape is not None else input_shape
        batch_input_shape = batch_shape if batch_shape is not None else batch_input_shape
        if shape is None and batch_input_shape is None:
            raise ValueError("InputLayer needs a shape, e.g. Input(shape=(2,)) for 2 features "
                             "per sample")
        super().__init__(name=name, input_shape=shape, batch_size=batch_size,
                         batch_input_shape=batch_input_shape, dtype=dtype, **kwargs)
        self.build(self._batch_input_shape)

    @property
    def shape(self) -> Shape:
        """The input shape with the batch axis (``(None, 2)``)."""
        return self._batch_input_shape

    def forward(self, inputs: Tensor) -> Tensor:
        return inputs

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": str(self.dtype),
                "batch_input_shape": list(self._batch_input_shape)}

    def __repr__(self) -> str:
        return f"<InputLayer name={self.name}, shape={self.shape}>"


def Input(shape: Any = None, batch_size: int | None = None, dtype: Any = None,
          name: str | None = None, batch_shape: Any = None) -> InputLayer:
    """Keras's ``Input(shape=...)``: here an ``InputLayer`` to put first in a
    ``Sequential`` (the functional API, which calls layers on it, is not supported).

    >>> Input(shape=(2,)).shape
    (None, 2)
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                      batch_shape=batch_shape)


def _no_regularizer(layer: str, **given: Any) -> None:
    used = [k for k, v in given.items() if v is not None]
    if used:
        raise NotImplementedError(
            f"{layer}: {', '.join(used)} {'is' if len(used) == 1 else 'are'} not supported by "
            "tinygrad_edu.keras; add a penalty to the loss instead (a loss function "
            "fn(y_true, y_pred) may use the model's weights), or use optim.AdamW's "
            "weight_decay"
        )


class Dense(Layer):
    """A densely connected layer: ``activation(inputs @ kernel + bias)``, ``kernel`` of shape
    ``(input features, units)`` (Keras's layout; ``nn.Linear`` stores the transpose).

    Keras's defaults: ``glorot_uniform`` kernel, zero bias, no activation. Applied to the
    last axis of its input, so ``(batch, ..., features)`` works too.

    >>> import numpy as np
    >>> from tinygrad_edu import keras
    >>> keras.utils.set_random_seed(0)
    >>> layer = Dense(4, activation="tanh", input_shape=(3,), name="hidden")
    >>> bound = (6 / (3 + 4)) ** 0.5          # glorot_uniform's limit
    >>> bool(np.abs(layer.kernel.numpy()).max() <= bound), layer.output_shape
    (True, (None, 4))
    >>> [w.shape for w in layer.get_weights()]
    [(3, 4), (4,)]
    >>> layer.get_config()["activation"], layer.get_config()["kernel_initializer"]
    ('tanh', 'glorot_uniform')
    >>> Dense(0)
    Traceback (most recent call last):
    ...
    ValueError: Received an invalid value for `units`, expected a positive integer. Received: units=0
    """  # noqa: E501

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        if isinstance(units, bool) or not isinstance(units, int | np.integer) or units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units!r}")
        _no_regularizer("Dense", kernel_regularizer=kernel_regularizer,
                        bias_regularizer=bias_regularizer,
                        activity_regularizer=activity_regularizer,
                        kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        super().__init__(**kwargs)
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self._activation_spec = activation
        self.activation = activations.get(activation)
        self._kernel_init_spec = kernel_initializer
        self._bias_init_spec = bias_initializer
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def build(self, input_shape: Sequence[int | None]) -> None:
        in_dim = input_shape[-1] if len(input_shape) else None
        if in_dim is None:
            raise ValueError(f"Dense layer {self.name!r}: the last axis of the input must be "
                             f"known to build the kernel, got input shape {tuple(input_shape)}")
        self.kernel = nn.Parameter(self._init(self.kernel_initializer, (in_dim, self.units),
                                              "kernel"))
        if self.use_bias:
            self.bias = nn.Parameter(self._init(self.bias_initializer, (self.units,), "bias"))
        else:
            self.register_parameter("bias", None)
        super().build(input_shape)

    def _init(self, init: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
        try:
            return make_weight(init, shape, self.dtype, what)
        except ValueError as e:
            raise ValueError(f"Dense layer {self.name!r}: {e}") from None

    def forward(self, inputs: Tensor) -> Tensor:
        kernel = self.kernel
        if inputs.ndim == 0 or inputs.shape[-1] != kernel.shape[0]:
            raise ValueError(
                f"Input of layer {self.name!r} is incompatible with the layer: expected axis -1 "
                f"of input shape to have value {kernel.shape[0]}, but received input with "
                f"shape {tuple(inputs.shape)}"
            )
        out = dense(inputs, kernel, self.bias)
        act = self.activation
        return out if act is None else act(out)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units,
                "activation": _activation_config(self._activation_spec, self.name),
                "use_bias": self.use_bias,
                "kernel_initializer": _initializer_config(self._kernel_init_spec, self.name),
                "bias_initializer": _initializer_config(self._bias_init_spec, self.name)}



def _activation_config(spec: Any, layer: str) -> Any:
    name = activations.serialize(spec)
    if name is not None:
        return name
    return {"custom": getattr(spec, "__name__", type(spec).__name__), "layer": layer}


def _initializer_config(spec: Any, layer: str) -> Any:
    out = initializers.serialize(spec)
    if out is not None:
        return out
    return {"custom": getattr(spec, "__name__", type(spec).__name__), "layer": layer}


class Activation(Layer):
    """Applies an activation (a name such as ``'relu'``, or a function) to its input.

    >>> import numpy as np
    >>> Activation("relu")(np.array([[-1.0, 2.0]])).tolist()
    [[0.0, 2.0]]
    """

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._activation_spec = activation
        self.activation = activations.get(activation)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def forward(self, inputs: Tensor) -> Tensor:
        act = self.activation
        return inputs if act is None else act(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "activation": _activation_config(self._activation_spec, self.name)}



class Dropout(Layer):
    """During training, zero each input with probability ``rate`` and scale the rest by
    ``1 / (1 - rate)``; the identity in ``predict`` and ``evaluate``. ``seed`` fixes the
    masks; without it they come from the generator ``keras.utils.set_random_seed`` seeds.

    >>> import numpy as np
    >>> drop = Dropout(0.5, seed=0)
    >>> sorted(set(drop(np.ones((1, 100)), training=True).numpy().ravel().tolist()))
    [0.0, 2.0]
    >>> drop(np.ones((1, 3)), training=False).tolist()
    [[1.0, 1.0, 1.0]]
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate!r}")
        if noise_shape is not None:
            raise NotImplementedError("Dropout: noise_shape is not supported by "
                                      "tinygrad_edu.keras (every element is dropped "
                                      "independently)")
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = seed
        self._generator = Generator(seed) if seed is not None else None
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def forward(self, inputs: Tensor) -> Tensor:
        return F.dropout(inputs, self.rate, self.training, generator=self._generator)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class Flatten(Layer):
    """Flattens every sample to one axis: ``(batch, d1, d2, ...)`` -> ``(batch, d1*d2*...)``.

    >>> import numpy as np
    >>> Flatten()(np.zeros((2, 3, 4))).shape
    (2, 12)
    >>> Flatten().compute_output_shape((None, 3, 4))
    (None, 12)
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        if data_format not in (None, "channels_last"):
            raise NotImplementedError("Flatten: only data_format='channels_last' is supported")
        super().__init__(**kwargs)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def forward(self, inputs: Tensor) -> Tensor:
        return inputs.reshape(inputs.shape[0] if inputs.ndim else 1, -1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = tuple(input_shape)[1:]
        size = None if any(s is None for s in rest) else math.prod(rest)
        return (input_shape[0], size)


LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.__name__: cls for cls in (InputLayer, Dense, Activation, Dropout, Flatten)
}
"""The layer classes ``load_model`` may build, by class name (a file cannot name others)."""

__all__ = ["LAYER_CLASSES", "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer",
           "Layer"]
