"""Keras's activations: by name (``'relu'``), as functions (``keras.activations.relu``), and
as the modules the layers apply.

``get('relu')`` gives an ``nn.ReLU()`` module (so ``fit``'s dead-ReLU diagnostic sees it);
``get(None)`` and ``get('linear')`` give ``None`` (no activation). The functions of this
module (``activations.relu``, ...) map to the same modules, so
``Dense(4, activation=keras.activations.relu)`` behaves and saves like ``'relu'``. Any other
function ``fn(tensor) -> tensor`` is wrapped in a module; a model using one saves only
with its name given back to ``load_model(..., custom_objects={name: fn})``.

>>> import tinygrad_edu as tg
>>> get("relu")(tg.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
>>> get("linear") is None, serialize(relu)
(True, 'relu')
>>> get("rectifier")
Traceback (most recent call last):
...
ValueError: unknown activation 'rectifier'; known: elu, exponential, gelu, hard_sigmoid, leaky_relu, linear, relu, relu6, selu, sigmoid, silu, softmax, softplus, softsign, swish, tanh
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import nn
from ..tensor import Tensor

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


class FunctionActivation(nn.Module):
    """A module that applies ``fn`` (an activation given as a function); ``activation_name``
    is the name it is saved under."""

    def __init__(self, fn: Callable[[Tensor], Tensor], name: str) -> None:
        super().__init__()
        self.fn, self.activation_name = fn, name

    def forward(self, input: Tensor) -> Tensor:
        return self.fn(input)

    def extra_repr(self) -> str:
        return self.activation_name


# ----------------------------------------------------------------------- the functions
def linear(x: Tensor) -> Tensor:
    """The identity (Keras's ``'linear'``, no activation).

    >>> import tinygrad_edu as tg
    >>> linear(tg.tensor([-1.0])).tolist()
    [-1.0]
    """
    return x


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)``.

    >>> import tinygrad_edu as tg
    >>> relu(tg.tensor([-1.0, 3.0])).tolist()
    [0.0, 3.0]
    """
    return x.relu()


def relu6(x: Tensor) -> Tensor:
    """``min(max(x, 0), 6)``.

    >>> import tinygrad_edu as tg
    >>> relu6(tg.tensor([-1.0, 3.0, 9.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return x.clamp(0.0, 6.0)


def sigmoid(x: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``.

    >>> import tinygrad_edu as tg
    >>> sigmoid(tg.tensor([0.0])).tolist()
    [0.5]
    """
    return x.sigmoid()


def hard_sigmoid(x: Tensor) -> Tensor:
    """``clip(x / 6 + 1/2, 0, 1)`` (Keras 3's definition).

    >>> import tinygrad_edu as tg
    >>> hard_sigmoid(tg.tensor([-6.0, 0.0, 6.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    return (x / 6.0 + 0.5).clamp(0.0, 1.0)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent.

    >>> import tinygrad_edu as tg
    >>> tanh(tg.tensor([0.0])).tolist()
    [0.0]
    """
    return x.tanh()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``.

    >>> import tinygrad_edu as tg
    >>> softmax(tg.tensor([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """
    return x.softmax(axis)


def softplus(x: Tensor) -> Tensor:
    """``log(1 + exp(x))``.

    >>> import tinygrad_edu as tg
    >>> round(softplus(tg.tensor([0.0])).item(), 4)
    0.6931
    """
    return x.softplus()


def softsign(x: Tensor) -> Tensor:
    """``x / (1 + |x|)``.

    >>> import tinygrad_edu as tg
    >>> softsign(tg.tensor([1.0, -3.0])).tolist()
    [0.5, -0.75]
    """
    return x / (x.abs() + 1.0)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """``x`` for x > 0, else ``alpha * (exp(x) - 1)``.

    >>> import tinygrad_edu as tg
    >>> elu(tg.tensor([2.0])).tolist()
    [2.0]
    """
    return x.elu(alpha)


def selu(x: Tensor) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants of Klambauer et al.

    >>> import tinygrad_edu as tg
    >>> round(selu(tg.tensor([1.0])).item(), 4)
    1.0507
    """
    return _SELU_SCALE * x.elu(_SELU_ALPHA)


def gelu(x: Tensor, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit (exact by default, as Keras 3).

    >>> import tinygrad_edu as tg
    >>> gelu(tg.tensor([0.0])).tolist()
    [0.0]
    """
    return x.gelu("tanh" if approximate else "none")


def silu(x: Tensor) -> Tensor:
    """``x * sigmoid(x)`` (also called swish).

    >>> import tinygrad_edu as tg
    >>> silu(tg.tensor([0.0])).tolist()
    [0.0]
    """
    return x * x.sigmoid()


swish = silu


def leaky_relu(x: Tensor, negative_slope: float = 0.2) -> Tensor:
    """``x`` for x > 0, else ``negative_slope * x`` (Keras's default slope 0.2).

    >>> import tinygrad_edu as tg
    >>> [round(v, 6) for v in leaky_relu(tg.tensor([-1.0, 2.0])).tolist()]
    [-0.2, 2.0]
    """
    return x.leaky_relu(negative_slope)


def exponential(x: Tensor) -> Tensor:
    """``exp(x)``.

    >>> import tinygrad_edu as tg
    >>> exponential(tg.tensor([0.0])).tolist()
    [1.0]
    """
    return x.exp()


# name -> the module to build (None: no activation). Where nn has the module it is used, so
# diagnostics (dead ReLUs) and reprs see the usual classes.
_MODULES: dict[str, Callable[[], nn.Module] | None] = {
    "linear": None,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "softmax": lambda: nn.Softmax(dim=-1),
    "elu": nn.ELU,
    "selu": lambda: FunctionActivation(selu, "selu"),
    "softplus": nn.Softplus,
    "softsign": lambda: FunctionActivation(softsign, "softsign"),
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "relu6": lambda: FunctionActivation(relu6, "relu6"),
    "hard_sigmoid": lambda: FunctionActivation(hard_sigmoid, "hard_sigmoid"),
    "exponential": lambda: FunctionActivation(exponential, "exponential"),
}

# this module's functions, by identity, so activation=activations.relu is the name 'relu'
_NAMES_OF_FUNCTIONS: dict[Callable, str] = {
    linear: "linear", relu: "relu", relu6: "relu6", sigmoid: "sigmoid",
    hard_sigmoid: "hard_sigmoid", tanh: "tanh", softmax: "softmax", softplus: "softplus",
    softsign: "softsign", elu: "elu", selu: "selu", gelu: "gelu", silu: "silu",
    leaky_relu: "leaky_relu", exponential: "exponential",
}  # fmt: skip


def _name_of_function(fn: Callable) -> str | None:
    try:
        return _NAMES_OF_FUNCTIONS.get(fn)
    except TypeError:  # an unhashable callable object
        return None


def _known() -> str:
    return ", ".join(sorted(_MODULES))


def get(identifier: Any) -> nn.Module | None:
    """The activation module for a Keras name or one of this module's functions, ``None``
    for no activation; a Module is used as it is, any other function wrapped in a module."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _MODULES:
            raise ValueError(f"unknown activation {identifier!r}; known: {_known()}")
        make = _MODULES[key]
        return None if make is None else make()
    if isinstance(identifier, nn.Module):
        return identifier
    if callable(identifier):
        name = _name_of_function(identifier)
        if name is not None:
            return get(name)
        return FunctionActivation(identifier, getattr(identifier, "__name__", "function"))
    raise TypeError(f"an activation is a name ({_known()}), a function or a Module, got "
                    f"{type(identifier).__name__}")


def serialize(identifier: Any) -> str | None:
    """The activation's name for a saved config (``'linear'`` for none); ``None`` when it
    is a function or module that cannot be stored by name.

    >>> serialize("relu"), serialize(None), serialize(tanh), serialize(lambda x: x)
    ('relu', 'linear', 'tanh', None)
    """
    if identifier is None:
        return "linear"
    if isinstance(identifier, str) and identifier.lower() in _MODULES:
        return identifier.lower()
    if callable(identifier) and not isinstance(identifier, nn.Module):
        return _name_of_function(identifier)
    return None
