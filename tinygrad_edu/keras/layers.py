"""Keras's layers: ``Dense``, ``Activation``, ``Dropout``, ``Flatten``, ``Reshape``,
``Rescaling``, ``ReLU``, ``LeakyReLU``, ``Softmax``, ``InputLayer`` / ``Input``, their base
class ``Layer``; and from :mod:`._conv_layers` ``Conv2D``, ``MaxPooling2D``, ``AveragePooling2D``,
``GlobalAveragePooling2D``, ``GlobalMaxPooling2D``, from :mod:`._norm_layers`
``BatchNormalization``.

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
import inspect
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .. import nn
from ..nn import functional as F
from ..random import Generator
from ..tensor import Tensor
from . import activations, backend, initializers, regularizers
from ._dense_op import dense
from .functional import KerasTensor, input_tensor, is_symbolic, symbolic_call

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


FUNCTIONAL_HINT = (
    "Give the model an input first: keras.Sequential([keras.Input(shape=(16,)), ...]), or "
    "inputs = keras.Input(shape=(16,)); outputs = layer(inputs); keras.Model(inputs, "
    "outputs). Without one, call the layers in turn on data: h = x; features = []; for layer "
    "in model.layers: h = layer(h); features.append(h)."
)

_SYMBOLIC = ("input", "output", "inputs", "outputs")


class KerasVariable(nn.Parameter):
    """A layer's weight: a ``Parameter`` (so autograd, ``state_dict`` and the optimizers
    see it) with Keras's variable methods ``assign``, ``assign_add``, ``assign_sub`` and
    ``value``. The assignments write in place without recording gradients (as Keras's do),
    so a running total kept in a non-trainable weight is not part of the graph.

    >>> v = KerasVariable(np.zeros(2))
    >>> v.assign_add(np.array([1.0, 2.0])).assign_sub(1.0).numpy().tolist()
    [0.0, 1.0]
    """

    __slots__ = ()

    def assign(self, value: Any) -> KerasVariable:
        """Overwrite the values (same shape), in place."""
        new = np.asarray(value.data if isinstance(value, Tensor) else value)
        try:
            self.data[...] = new
        except ValueError:
            raise ValueError(f"assign: a value of shape {new.shape} cannot be assigned to the "
                             f"variable {getattr(self, 'path', '')!r} of shape "
                             f"{self.data.shape}") from None
        self._bump_version()
        return self

    def assign_add(self, value: Any) -> KerasVariable:
        """``self += value``, in place."""
        return self.assign(self.data + np.asarray(value.data if isinstance(value, Tensor)
                                                  else value))

    def assign_sub(self, value: Any) -> KerasVariable:
        """``self -= value``, in place."""
        return self.assign(self.data - np.asarray(value.data if isinstance(value, Tensor)
                                                  else value))

    @property
    def value(self) -> KerasVariable:
        """The variable itself (Keras's ``variable.value``, a torch Parameter on the torch
        backend; ``.grad`` is its gradient)."""
        return self


def _with_mode(kwargs: dict[str, Any], training: bool | None) -> dict[str, Any]:
    """A call's keyword arguments with ``training`` when it was given."""
    return kwargs if training is None else {**kwargs, "training": training}


def _as_inputs(inputs: Any, dtype: np.dtype) -> Any:
    """A layer's input(s) as Tensors: one tensor, or a list / tuple of them (layers such as
    ``Concatenate`` take several)."""
    if isinstance(inputs, list | tuple) and inputs and all(
            isinstance(t, Tensor | np.ndarray) for t in inputs):
        return [_as_tensor(t, dtype) for t in inputs]
    if isinstance(inputs, dict):
        return {k: _as_tensor(v, dtype) for k, v in inputs.items()}
    return _as_tensor(inputs, dtype)


def _shapes_of(x: Any) -> Any:
    """The build shape of one input (batch axis ``None``) or a list of them."""
    if isinstance(x, list):
        return [(None, *t.shape[1:]) for t in x]
    if isinstance(x, dict):
        return {k: (None, *t.shape[1:]) for k, t in x.items()}
    return (None, *x.shape[1:])


_TAKES_TRAINING: dict[type, bool] = {}


def with_training(cls: type, kwargs: dict[str, Any], training: bool) -> dict[str, Any]:
    """``kwargs`` plus ``training=`` when ``cls.call`` declares a ``training`` argument
    (Keras passes the mode to such a call: ``fit`` True, ``predict`` / ``evaluate``
    False); a value given explicitly wins."""
    takes = _TAKES_TRAINING.get(cls)
    if takes is None:
        try:
            takes = "training" in inspect.signature(cls.call).parameters
        except (TypeError, ValueError):
            takes = False
        _TAKES_TRAINING[cls] = takes
    if takes and "training" not in kwargs:
        return {**kwargs, "training": bool(training)}
    return kwargs


_CALL_DEPTH = {"depth": 0}


@contextlib.contextmanager
def outermost_call(module: nn.Module) -> Iterator[None]:
    """Keras's rule for ``add_loss``: the losses a forward pass adds are reset at the start
    of each call of the outermost layer or model, so ``losses`` holds those of the last
    forward pass only."""
    if _CALL_DEPTH["depth"] == 0:
        for m in module.modules():
            if m.__dict__.get("_call_losses"):
                m.__dict__["_call_losses"] = []
    _CALL_DEPTH["depth"] += 1
    try:
        yield
    finally:
        _CALL_DEPTH["depth"] -= 1


class WeightLists:
    """Keras's weight lists of a layer or model, in Keras's order (``Parameter``s), its
    ``add_loss``, and the symbolic ``input`` / ``output`` / ``inputs`` / ``outputs`` of
    Keras's functional API: those of the layer's first call on KerasTensors (a layer of a
    ``Sequential`` that knows its input shape is traced on demand).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)  # type: ignore[misc]
        except AttributeError:
            if name not in _SYMBOLIC:
                raise
            return self._symbolic_attr(name)

    def _symbolic_attr(self, name: str) -> Any:
        for parent in self.__dict__.get("_sequentials", ()):
            if not self.__dict__.get("_inbound_nodes"):
                parent._trace_symbolic()
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise AttributeError(
                f"{type(self).__name__} {getattr(self, 'name', '')!r} has no .{name}: it has "
                "never been called on a KerasTensor (keras.Input(...)), so it has no symbolic "
                f"{name}. {FUNCTIONAL_HINT}") from None
        node = nodes[0]
        tensors = node.outputs if node.is_input or name.startswith("output") else node.inbound
        if name.endswith("s"):
            return list(tensors)
        return tensors[0] if len(tensors) == 1 else list(tensors)

    def add_loss(self, loss: Any) -> None:
        """Keras's ``add_loss``: a term (a scalar Tensor computed in ``call``, so its
        gradient reaches the weights) that ``fit`` and ``evaluate`` add to the loss; listed
        in ``losses`` until the next call of the outermost layer or model."""
        if not isinstance(loss, Tensor):
            loss = Tensor._wrap(np.asarray(loss, dtype=np.float64))
        if loss.data.size != 1:
            raise ValueError(f"{type(self).__name__}.add_loss: the loss must be one number "
                             f"(a scalar), got shape {tuple(loss.shape)}; reduce it first, "
                             "e.g. ops.mean(...)")
        self.__dict__.setdefault("_call_losses", []).append(loss.reshape(()))
        self.__dict__["_adds_losses"] = True

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
        self._frozen_weights: set[str] = set()  # add_weight(trainable=False): never trained
        self._regularizers: dict[str, Any] = {}  # weight name -> its regularizer
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
        if is_symbolic(inputs):
            return symbolic_call(self, inputs, _with_mode(kwargs, training))
        x = _as_inputs(inputs, self.dtype)
        if not self.built:
            self.build(_shapes_of(x))
            self.built = True
            if self._build_input_shape is None:
                self._build_input_shape = _shapes_of(x)
        with outermost_call(self):
            if training is None or training == self.training:
                return super().__call__(x, **kwargs)
            was = self.training
            self.train(bool(training))
            try:
                return super().__call__(x, **kwargs)
            finally:
                self.train(was)

    def forward(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        call = getattr(type(self), "call", None)
        if call is None:
            return inputs
        return call(self, inputs, *args, **with_training(type(self), kwargs, self.training))

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

    @property
    def input_shape(self) -> Shape:
        """The input shape (batch axis ``None``), once the layer is built (Keras 2)."""
        if self._build_input_shape is None:
            raise ValueError(f"layer {self.name!r} is not built yet: its input shape is "
                                 "known once it is called or added after a known shape")
        return tuple(self._build_input_shape)

    # ----------------------------------------------------------------- weights
    def set_kernel_options(self, activation: Any, use_bias: bool, kernel_initializer: Any,
                           bias_initializer: Any, kernel_regularizer: Any,
                           bias_regularizer: Any) -> None:
        """Keep the options of a layer with a kernel and a bias (Dense, Conv2D): resolved for
        :meth:`add_kernel_and_bias` and ``call``, and as written for :meth:`kernel_config`."""
        self.use_bias = bool(use_bias)
        self._activation_spec = activation
        self.activation = activations.get(activation)
        self._kernel_init_spec = kernel_initializer
        self._bias_init_spec = bias_initializer
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def kernel_config(self) -> dict[str, Any]:
        """The config entries of :meth:`set_kernel_options`' options."""
        return {"activation": _activation_config(self._activation_spec, self.name),
                "use_bias": self.use_bias,
                "kernel_initializer": _initializer_config(self._kernel_init_spec, self.name),
                "bias_initializer": _initializer_config(self._bias_init_spec, self.name),
                **regularizer_configs(self, "kernel_regularizer", "bias_regularizer")}

    def add_kernel_and_bias(self, kernel_shape: tuple[int, ...]) -> None:
        """The ``kernel`` of ``kernel_shape`` and, with ``use_bias``, a ``bias`` of its last
        size, from the layer's initializers and regularizers (Dense, Conv2D)."""
        self.add_weight(name="kernel", shape=kernel_shape,
                        initializer=self.kernel_initializer,
                        regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.add_weight(name="bias", shape=(kernel_shape[-1],),
                            initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer)
        else:
            self.register_parameter("bias", None)

    def add_weight(self, *args: Any, shape: Any = None, initializer: Any = None,
                   dtype: Any = None, trainable: bool = True, autocast: bool = True,
                   regularizer: Any = None, constraint: Any = None, aggregation: str = "none",
                   name: str | None = None) -> KerasVariable:
        """Create a weight (a ``KerasVariable``, i.e. a ``Parameter`` with Keras's
        ``assign`` / ``assign_add``), track it and return it; for custom layers' ``__init__``
        or ``build`` (Keras 3's signature; ``add_weight(name, shape, initializer)``, name
        first, works too). ``initializer`` defaults to ``glorot_uniform``, as in Keras.
        ``trainable=False`` makes a weight ``fit`` never updates (BatchNormalization's
        moving statistics); a ``regularizer`` adds its penalty to the training loss (see
        :attr:`losses`). Without a ``name`` the weight is named after the attribute it is
        assigned to (``self.w = self.add_weight(...)`` -> ``'w'``).

        >>> class Scale(Layer):
        ...     def build(self, input_shape):
        ...         self.factor = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        ...     def call(self, inputs):
        ...         return inputs * self.factor
        >>> import numpy as np
        >>> layer = Scale()
        >>> layer(np.array([[2.0, 3.0]])).tolist(), [w.path for w in layer.weights]
        ([[2.0, 3.0]], ['scale/factor'])
        """
        given = {"name": name, "shape": shape, "initializer": initializer, "dtype": dtype}
        order = (("name", "shape", "initializer") if args and isinstance(args[0], str)
                 else ("shape", "initializer", "dtype"))
        if len(args) > len(order):
            raise TypeError(f"add_weight takes at most {len(order)} positional arguments "
                            f"({', '.join(order)}); pass the others by keyword")
        for key, value in zip(order, args):
            if given[key] is not None:
                raise TypeError(f"add_weight got multiple values for argument {key!r}")
            given[key] = value
        name, shape, initializer, dtype = (given[k] for k in ("name", "shape", "initializer",
                                                               "dtype"))
        if constraint is not None:
            raise NotImplementedError(
                f"{type(self).__name__}.add_weight: constraint is not supported by "
                "tinygrad_edu.keras; project the weight yourself after each update (a "
                "Callback's on_train_batch_end)")
        if shape is None:
            raise ValueError(f"{type(self).__name__}.add_weight: shape is missing, e.g. "
                             "add_weight(shape=(input_shape[-1], units))")
        shape = tuple(int(s) for s in shape)
        dt = np.dtype(dtype) if dtype is not None else self.dtype
        key = _check_name(name, "weight") if name is not None else self._auto_weight_name()
        try:
            param = KerasVariable(make_weight(initializer or "glorot_uniform", shape, dt, key))
        except ValueError as e:
            raise ValueError(f"{type(self).__name__} layer {self.name!r}: {e}") from None
        param.requires_grad = bool(trainable) and self._trainable
        self.register_parameter(key, param)
        self._name_weight(param, key)
        if not trainable:
            self._frozen_weights.add(key)
        if regularizer is not None:
            self._regularizers[key] = regularizers.get(regularizer)
        return param

    def _name_weight(self, param: nn.Parameter, key: str) -> None:
        param.name = key  # Keras's variable.name ('kernel'); its path names the layer too
        param.path = f"{self.name}/{key}"

    def _auto_weight_name(self) -> str:
        """``variable``, ``variable_1``, ...: a weight's key until it is assigned to an
        attribute (see :meth:`__setattr__`)."""
        auto = self.__dict__.setdefault("_auto_named", set())
        key, i = "variable", 0
        while key in self._parameters or hasattr(type(self), key):
            i += 1
            key = f"variable_{i}"
        auto.add(key)
        return key

    def __setattr__(self, name: str, value: Any) -> None:
        """``self.w = self.add_weight(...)``: the weight made without a name takes the
        attribute's name (its key in ``state_dict`` and its ``path``), keeping its place in
        ``weights``, instead of being listed twice."""
        auto = self.__dict__.get("_auto_named")
        if auto and isinstance(value, nn.Parameter):
            old = next((k for k in auto if self._parameters.get(k) is value), None)
            if old is not None:
                self._rename_weight(old, _check_name(name, "weight"))
                return
        super().__setattr__(name, value)

    def _rename_weight(self, old: str, new: str) -> None:
        self._auto_named.discard(old)
        param = self._parameters[old]
        self.__dict__["_parameters"] = type(self._parameters)(
            (new if k == old else k, v) for k, v in self._parameters.items())
        self._name_weight(param, new)
        for registry in (self._frozen_weights,):
            if old in registry:
                registry.discard(old)
                registry.add(new)
        if old in self._regularizers:
            self._regularizers[new] = self._regularizers.pop(old)

    @property
    def losses(self) -> list[Tensor]:
        """The penalties of this layer's weight regularizers (and of layers inside it),
        computed from the current weights (Keras's ``layer.losses``); ``fit`` adds their
        sum to the loss.

        >>> import numpy as np
        >>> layer = Dense(2, input_dim=2, kernel_regularizer=regularizers.l2(0.5),
        ...               kernel_initializer="ones")
        >>> [float(p.item()) for p in layer.losses]      # 0.5 * (1 + 1 + 1 + 1)
        [2.0]
        """
        return regularization_losses(self)

    @property
    def trainable(self) -> bool:
        """Whether ``fit`` updates this layer's weights (set to False to freeze it)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        self._apply_trainable()

    def _apply_trainable(self, allowed: bool = True) -> None:
        """Set which weights train: all but ``add_weight(trainable=False)`` ones, when this
        layer and (``allowed``) every model around it are trainable."""
        for name, p in self.named_parameters():
            p.requires_grad = allowed and self._trainable and name not in self._frozen_weights

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
          name: str | None = None, batch_shape: Any = None) -> KerasTensor:
    """Keras's ``Input(shape=...)``: a symbolic ``KerasTensor`` to call layers on (the
    functional API, see :mod:`.functional`), or to put first in a ``Sequential``.

    >>> Input(shape=(2,), name="features")
    <KerasTensor shape=(None, 2), dtype=float32, name=features>
    """
    return input_tensor(InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                                   batch_shape=batch_shape))


def regularization_losses(module: nn.Module) -> list[Tensor]:
    """The losses of ``module`` and every layer inside it: those ``add_loss`` added in the
    last forward pass, then the weight regularizers' penalties."""
    modules = list(module.modules())
    added = [loss for m in modules for loss in m.__dict__.get("_call_losses", ())]
    return added + [reg(getattr(m, name)) for m in modules if isinstance(m, Layer)
                    for name, reg in m._regularizers.items()]


def adds_losses(module: nn.Module) -> bool:
    """Whether ``module`` or a layer inside it has a regularizer or has called
    ``add_loss``: then the training loss needs ``losses`` added."""
    return any((isinstance(m, Layer) and m._regularizers) or m.__dict__.get("_adds_losses")
               for m in module.modules())


def unsupported_arguments(layer: str, **given: Any) -> None:
    """Refuse Keras arguments this facade does not implement (activity regularizers and
    weight constraints), naming the layer, the argument and what to do instead."""
    used = [k for k, v in given.items() if v is not None]
    if not used:
        return
    hints = []
    if any(k.endswith("_constraint") for k in used):
        hints.append("for a constraint, project the weights yourself after each update "
                     "(a Callback's on_train_batch_end, e.g. np.clip(layer.kernel.data, ...,"
                     " out=layer.kernel.data))")
    if "activity_regularizer" in used:
        hints.append("for an activity regularizer, add the penalty to the loss yourself; "
                     "kernel_regularizer and bias_regularizer are supported "
                     "(keras.regularizers.l1 / l2 / l1_l2)")
    raise NotImplementedError(
        f"{layer}: {', '.join(used)} {'is' if len(used) == 1 else 'are'} not supported by "
        f"tinygrad_edu.keras; leave {'it' if len(used) == 1 else 'them'} out, or: "
        + "; ".join(hints))


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
        unsupported_arguments("Dense", activity_regularizer=activity_regularizer,
                              kernel_constraint=kernel_constraint,
                              bias_constraint=bias_constraint)
        super().__init__(**kwargs)
        self.units = int(units)
        self.set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                kernel_regularizer, bias_regularizer)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def build(self, input_shape: Sequence[int | None]) -> None:
        in_dim = input_shape[-1] if len(input_shape) else None
        if in_dim is None:
            raise ValueError(f"Dense layer {self.name!r}: the last axis of the input must be "
                             f"known to build the kernel, got input shape {tuple(input_shape)}")
        self.add_kernel_and_bias((in_dim, self.units))
        super().build(input_shape)

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
        return {**super().get_config(), "units": self.units, **self.kernel_config()}


def regularizer_configs(layer: Layer, *attrs: str) -> dict[str, Any]:
    """The given regularizer attributes of ``layer`` as config entries (set ones only, so
    configs of layers without regularizers stay as they were)."""
    out = {}
    for attr in attrs:
        reg = getattr(layer, attr)
        if reg is not None:
            out[attr] = regularizers.serialize(reg, layer.name)
    return out



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


class Reshape(Layer):
    """Reshapes every sample to ``target_shape`` (batch axis excluded; one entry may be
    -1, inferred from the others).

    >>> import numpy as np
    >>> Reshape((2, 3))(np.zeros((4, 6))).shape
    (4, 2, 3)
    >>> Reshape((-1, 1)).compute_output_shape((None, 28, 28))
    (None, 784, 1)
    >>> Reshape((5, -1))(np.zeros((1, 6)))
    Traceback (most recent call last):
    ...
    ValueError: layer 'reshape_2' (Reshape): cannot reshape samples of shape (6,) (6 values) to target_shape (5, -1)
    """  # noqa: E501

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        try:
            target = tuple(int(s) for s in target_shape)
        except (TypeError, ValueError):
            raise TypeError(f"Reshape: target_shape must be a tuple of ints such as (28, 28, 1),"
                            f" got {target_shape!r}") from None
        if any(s == 0 or s < -1 for s in target) or target.count(-1) > 1:
            raise ValueError(f"Reshape: target_shape entries must be positive, with at most "
                             f"one -1 (inferred), got {target_shape!r}")
        super().__init__(**kwargs)
        self.target_shape = target
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def _resolved(self, sample: tuple[int | None, ...]) -> tuple[int | None, ...]:
        target = self.target_shape
        if any(s is None for s in sample):
            return tuple(None if s == -1 else s for s in target)
        size, known = math.prod(sample), math.prod(s for s in target if s != -1)
        fits = size % known == 0 if -1 in target else size == known
        if not fits:
            raise ValueError(f"layer {self.name!r} (Reshape): cannot reshape samples of shape "
                             f"{tuple(sample)} ({size} values) to target_shape {target}")
        return tuple(size // known if s == -1 else s for s in target)

    def build(self, input_shape: Sequence[int | None]) -> None:
        self._resolved(tuple(input_shape)[1:])
        super().build(input_shape)

    def forward(self, inputs: Tensor) -> Tensor:
        return inputs.reshape(inputs.shape[0], *self._resolved(tuple(inputs.shape[1:])))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], *self._resolved(tuple(input_shape)[1:]))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Rescaling(Layer):
    """``inputs * scale + offset``, e.g. ``Rescaling(1.0 / 255)`` to bring pixel values
    into [0, 1] inside the model (``scale`` and ``offset`` may be per-channel lists).

    >>> import numpy as np
    >>> Rescaling(1.0 / 255)(np.array([[0.0, 255.0]])).tolist()
    [[0.0, 1.0]]
    >>> Rescaling(2.0, offset=[-1.0, 1.0])(np.array([[1.0, 1.0]])).tolist()
    [[1.0, 3.0]]
    """

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        values = []
        for what, value in (("scale", scale), ("offset", offset)):
            arr = np.asarray(value, dtype=np.float64)
            if arr.ndim > 1 or not np.isfinite(arr).all():
                raise ValueError(f"Rescaling: {what} must be a finite number or a list of "
                                 f"them (one per channel), got {value!r}")
            values.append(arr)
        super().__init__(**kwargs)
        self.scale, self.offset = (a.item() if a.ndim == 0 else a.tolist() for a in values)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def forward(self, inputs: Tensor) -> Tensor:
        scale = np.asarray(self.scale, dtype=inputs.dtype)
        offset = np.asarray(self.offset, dtype=inputs.dtype)
        return inputs * scale + offset

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


def _slope(value: Any, who: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating) \
            or not value >= 0:
        raise ValueError(f"{who}: {what} must be a non-negative number, got {value!r}")
    return float(value)


class ReLU(Layer):
    """Keras's ReLU layer: ``max_value`` caps the output, below ``threshold`` the output is
    ``negative_slope * (x - threshold)``; the defaults give ``max(x, 0)``.

    >>> import numpy as np
    >>> ReLU()(np.array([[-2.0, 3.0]])).tolist()
    [[0.0, 3.0]]
    >>> ReLU(max_value=6.0, negative_slope=0.5, threshold=1.0)(np.array([[0.0, 7.0]])).tolist()
    [[-0.5, 6.0]]
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any) -> None:
        cap = None if max_value is None else _slope(max_value, "ReLU", "max_value")
        slope = _slope(negative_slope, "ReLU", "negative_slope")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.floating):
            raise ValueError(f"ReLU: threshold must be a number, got {threshold!r}")
        super().__init__(**kwargs)
        self.max_value, self.negative_slope, self.threshold = cap, slope, float(threshold)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def forward(self, inputs: Tensor) -> Tensor:
        t, slope = self.threshold, self.negative_slope
        if t == 0.0:
            out = inputs.relu() if slope == 0.0 else inputs.leaky_relu(slope)
        else:
            out = inputs.where(inputs >= t, (inputs - t) * slope)
        return out if self.max_value is None else out.minimum(self.max_value)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Layer):
    """``x`` for x >= 0, ``negative_slope * x`` otherwise; Keras 3's default slope 0.3.
    Keras 2's name for the slope, ``alpha``, is accepted (with Keras's deprecation
    warning).

    >>> import numpy as np
    >>> [round(v, 6) for v in LeakyReLU(negative_slope=0.1)(np.array([-2.0, 3.0])).tolist()]
    [-0.2, 3.0]
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          DeprecationWarning, stacklevel=2)
            negative_slope = kwargs.pop("alpha")
        slope = _slope(negative_slope, "LeakyReLU", "negative_slope")
        super().__init__(**kwargs)
        self.negative_slope = slope
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def forward(self, inputs: Tensor) -> Tensor:
        return inputs.leaky_relu(self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class Softmax(Layer):
    """Softmax along ``axis`` (default -1): positive outputs summing to 1.

    >>> import numpy as np
    >>> Softmax()(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise NotImplementedError(f"Softmax: axis must be one int, got {axis!r}")
        super().__init__(**kwargs)
        self.axis = int(axis)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def __call__(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        if mask is not None:
            raise NotImplementedError(f"Softmax layer {self.name!r}: mask is not supported by "
                                      "tinygrad_edu.keras; set the masked logits to a large "
                                      "negative number (-1e9) before the Softmax instead")
        return super().__call__(inputs, training=training)

    def forward(self, inputs: Tensor) -> Tensor:
        return inputs.softmax(self.axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


from ._conv_layers import (  # noqa: E402  (they subclass Layer, defined above)
    AveragePooling2D,
    AvgPool2D,
    Conv2D,
    GlobalAveragePooling2D,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    GlobalMaxPooling2D,
    MaxPool2D,
    MaxPooling2D,
)
from ._embedding import Embedding  # noqa: E402
from ._merge_layers import (  # noqa: E402
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    TensorOp,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from ._norm_layers import BatchNormalization  # noqa: E402

Convolution2D = Conv2D  # Keras 2's alias

LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.__name__: cls for cls in (
        InputLayer, Dense, Activation, Dropout, Flatten, Reshape, Rescaling, ReLU, LeakyReLU,
        Softmax, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
        BatchNormalization, Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum,
        Embedding)
}
"""The layer classes ``load_model`` may build, by class name (a file cannot name others)."""

def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"keras.layers.{name} is not in tinygrad_edu.keras; its layers are "
        f"{', '.join(sorted(LAYER_CLASSES))} (a layer of your own: subclass keras.layers.Layer"
        " and define build() and call())")


__all__ = [
    "LAYER_CLASSES",
    "Activation",
    "Add",
    "Average",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNormalization",
    "Concatenate",
    "Conv2D",
    "Convolution2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "KerasVariable",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "MaxPooling2D",
    "Maximum",
    "Minimum",
    "Multiply",
    "ReLU",
    "Rescaling",
    "Reshape",
    "Softmax",
    "Subtract",
    "TensorOp",
    "add",
    "average",
    "concatenate",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]
