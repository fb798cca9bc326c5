"""Keras's functional API: ``keras.Input`` gives a symbolic ``KerasTensor``; calling a layer
(or a model) on KerasTensors records a ``Node`` and returns new KerasTensors; and
``keras.Model(inputs, outputs)`` is a ``Functional`` model that replays the recorded graph
on real data (several inputs and outputs, shared layers, models used as layers).

A layer called on a KerasTensor is built and run once on zeros of the input's shape (batch
of one, inference mode, no gradients): that is how the output shape is found, so a layer of
your own needs no ``compute_output_shape``. Axes other than the batch axis must be known.

>>> import numpy as np
>>> from tinygrad_edu import keras
>>> keras.backend.clear_session()
>>> inputs = keras.Input(shape=(3,), name="x")
>>> h = keras.layers.Dense(4, activation="relu")(inputs)
>>> outputs = keras.layers.Dense(2)(h)
>>> inputs, outputs
(<KerasTensor shape=(None, 3), dtype=float32, name=x>, <KerasTensor shape=(None, 2), dtype=float32, name=dense_1>)
>>> model = keras.Model(inputs=inputs, outputs=outputs, name="mlp")
>>> [layer.name for layer in model.layers], model.count_params()
(['x', 'dense', 'dense_1'], 26)
>>> model.predict(np.ones((5, 3)), verbose=0).shape
(5, 2)
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor


class Node:
    """One call of a layer in the graph: the layer, its arguments (KerasTensors in a list,
    a tuple, a dict or alone), its keyword arguments, and the KerasTensors it returned."""

    def __init__(self, layer: Any, args: Any, kwargs: dict[str, Any]) -> None:
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs: list[KerasTensor] = []
        self.is_input = False

    @property
    def inbound(self) -> list[KerasTensor]:
        """The KerasTensors this call reads."""
        return flatten(self.args)


class KerasTensor:
    """A symbolic tensor: a shape (batch axis ``None``), a dtype and the call that made it.
    It has no values; feed real data to the ``keras.Model`` built from it. The arithmetic
    operators (``+ - * / @``, unary ``-``) record an operation as a layer would."""

    def __init__(self, shape: tuple, dtype: Any, node: Node | None = None, index: int = 0,
                 name: str | None = None) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.index = index
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(f"{self!r} is symbolic: it has no values. Build a model with "
                        "keras.Model(inputs, outputs) and call it (or predict) on data")

    def __bool__(self) -> bool:
        raise TypeError(f"{self!r} is symbolic: its truth value is not known until the model "
                        "runs on data; use a layer of your own (subclass keras.layers.Layer) "
                        "for data-dependent branches")

    def _op(self, name: str, fn: Callable, *others: Any) -> Any:
        from .layers import TensorOp

        return TensorOp(name, fn)([self, *others])

    def __add__(self, other: Any) -> Any:
        return self._op("add", lambda a, b: a + b, other)

    def __radd__(self, other: Any) -> Any:
        return self._op("add", lambda a, b: b + a, other)

    def __sub__(self, other: Any) -> Any:
        return self._op("subtract", lambda a, b: a - b, other)

    def __rsub__(self, other: Any) -> Any:
        return self._op("subtract", lambda a, b: b - a, other)

    def __mul__(self, other: Any) -> Any:
        return self._op("multiply", lambda a, b: a * b, other)

    def __rmul__(self, other: Any) -> Any:
        return self._op("multiply", lambda a, b: b * a, other)

    def __truediv__(self, other: Any) -> Any:
        return self._op("divide", lambda a, b: a / b, other)

    def __matmul__(self, other: Any) -> Any:
        return self._op("matmul", lambda a, b: a @ b, other)

    def __neg__(self) -> Any:
        return self._op("negative", lambda a: -a)

    __hash__ = object.__hash__


def input_tensor(layer: Any) -> KerasTensor:
    """The KerasTensor an ``InputLayer`` stands for (what ``keras.Input`` returns)."""
    node = Node(layer, [], {})
    node.is_input = True
    kt = KerasTensor(layer.shape, layer.dtype, node, 0, layer.name)
    node.outputs.append(kt)
    layer.__dict__["_inbound_nodes"] = [node]
    return kt


def flatten(structure: Any) -> list[KerasTensor]:
    """The KerasTensors in a KerasTensor, list, tuple or dict, in order."""
    if isinstance(structure, KerasTensor):
        return [structure]
    if isinstance(structure, dict):
        return [t for v in structure.values() for t in flatten(v)]
    if isinstance(structure, list | tuple):
        return [t for v in structure for t in flatten(v)]
    return []


def is_symbolic(inputs: Any) -> bool:
    """Whether a call's inputs hold a KerasTensor (a call that builds the graph)."""
    return bool(flatten(inputs))


def _replace(structure: Any, value_of: Callable[[KerasTensor], Any]) -> Any:
    """``structure`` with every KerasTensor replaced by ``value_of(it)``."""
    if isinstance(structure, KerasTensor):
        return value_of(structure)
    if isinstance(structure, dict):
        return {k: _replace(v, value_of) for k, v in structure.items()}
    if isinstance(structure, list | tuple):
        return type(structure)(_replace(v, value_of) for v in structure)
    return structure


def _zeros_like(t: KerasTensor, who: str) -> Tensor:
    if any(s is None for s in t.shape[1:]):
        raise NotImplementedError(
            f"{who}: an input of shape {t.shape} has an unknown axis other than the batch "
            "axis; tinygrad_edu.keras needs every other axis known (give keras.Input a full "
            "shape, e.g. shape=(100,) instead of shape=(None,))")
    return Tensor._wrap(np.zeros((1, *t.shape[1:]), dtype=t.dtype))


def symbolic_call(layer: Any, inputs: Any, kwargs: dict[str, Any]) -> Any:
    """Call ``layer`` on KerasTensors: run it once on zeros (building it), record the call
    as a ``Node`` and return KerasTensors of its outputs' shapes, in the same structure."""
    who = f"{type(layer).__name__} {getattr(layer, 'name', '')!r}"
    dummy = _replace(inputs, lambda t: _zeros_like(t, who))
    with no_grad():
        out = type(layer).__call__(layer, dummy, **kwargs)
    node = Node(layer, inputs, kwargs)

    def symbolic(value: Any) -> KerasTensor:
        if not isinstance(value, Tensor):
            raise TypeError(f"{who} returned a {type(value).__name__}, not a tensor, when "
                            "called on KerasTensors")
        index = len(node.outputs)
        name = layer.name if index == 0 else f"{layer.name}_{index}"
        kt = KerasTensor((None, *value.shape[1:]), value.dtype, node, index, name)
        node.outputs.append(kt)
        return kt

    result = (symbolic(out) if isinstance(out, Tensor)
              else _replace_tensors(out, symbolic))
    layer.__dict__.setdefault("_inbound_nodes", []).append(node)
    return result


def _replace_tensors(structure: Any, fn: Callable[[Tensor], Any]) -> Any:
    if isinstance(structure, Tensor):
        return fn(structure)
    if isinstance(structure, dict):
        return {k: _replace_tensors(v, fn) for k, v in structure.items()}
    if isinstance(structure, list | tuple):
        return type(structure)(_replace_tensors(v, fn) for v in structure)
    return fn(structure)


def graph_nodes(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> list[Node]:
    """The nodes between ``inputs`` and ``outputs`` in an order that computes every
    KerasTensor before it is read (the inputs' own nodes excluded). Raises Keras's "Graph
    disconnected" error when an output depends on a KerasTensor that is not an input."""
    known = {id(t) for t in inputs}
    order: list[Node] = []
    seen: set[int] = set()
    for out in outputs:
        stack: list[tuple[KerasTensor, bool]] = [(out, False)]
        while stack:
            t, expanded = stack.pop()
            if id(t) in known:
                continue
            node = t.node
            if node is None or node.is_input:
                raise ValueError(
                    f"Graph disconnected: cannot obtain value for {t!r}: it is not one of the "
                    f"model's inputs {[i.name for i in inputs]}; pass every keras.Input the "
                    "outputs depend on in inputs=[...]")
            if expanded:
                if id(node) not in seen:
                    seen.add(id(node))
                    order.append(node)
                known.update(id(o) for o in node.outputs)
                continue
            stack.append((t, True))
            stack.extend((i, False) for i in reversed(node.inbound) if id(i) not in known)
    return order


def run_graph(inputs: list[KerasTensor], nodes: list[Node], values: list[Any]) -> dict:
    """Replay ``nodes`` on real ``values`` of ``inputs``; the value of every KerasTensor,
    by id."""
    computed: dict[int, Any] = {id(t): v for t, v in zip(inputs, values)}
    for node in nodes:
        args = _replace(node.args, lambda t: computed[id(t)])
        out = node.layer(args, **node.kwargs)
        flat_out = [out] if isinstance(out, Tensor) else _flat_tensors(out)
        for kt, value in zip(node.outputs, flat_out):
            computed[id(kt)] = value
    return computed


def _flat_tensors(structure: Any) -> list[Any]:
    if isinstance(structure, dict):
        return [t for v in structure.values() for t in _flat_tensors(v)]
    if isinstance(structure, list | tuple):
        return [t for v in structure for t in _flat_tensors(v)]
    return [structure]


def structure_of(outputs: Any, value_of: Callable[[KerasTensor], Any]) -> Any:
    """The model's outputs (a KerasTensor, list or dict) with real values."""
    return _replace(outputs, value_of)


def _ref_config(structure: Any, refs: dict[int, list]) -> Any:
    """A call's arguments as JSON: KerasTensors as ``{"ref": [layer, call, output]}``."""
    if isinstance(structure, KerasTensor):
        return {"ref": refs[id(structure)]}
    if isinstance(structure, dict):
        return {"dict": {k: _ref_config(v, refs) for k, v in structure.items()}}
    if isinstance(structure, tuple):
        return {"tuple": [_ref_config(v, refs) for v in structure]}
    if isinstance(structure, list):
        return [_ref_config(v, refs) for v in structure]
    if structure is None or isinstance(structure, bool | int | float | str):
        return {"value": structure}
    raise NotImplementedError(f"a layer call reads a {type(structure).__name__} constant, "
                              "which a config cannot hold")


def from_ref_config(config: Any, tensor_of: Callable[[list], KerasTensor]) -> Any:
    """The inverse of :func:`_ref_config`."""
    if isinstance(config, list):
        return [from_ref_config(v, tensor_of) for v in config]
    if not isinstance(config, dict) or len(config) != 1:
        raise ValueError(f"malformed call arguments in a model config: {str(config)[:80]}")
    (kind, value), = config.items()
    if kind == "ref":
        return tensor_of(value)
    if kind == "dict":
        return {k: from_ref_config(v, tensor_of) for k, v in value.items()}
    if kind == "tuple":
        return tuple(from_ref_config(v, tensor_of) for v in value)
    if kind == "value":
        return value
    raise ValueError(f"malformed call arguments in a model config: {str(config)[:80]}")


def graph_config(model: Any) -> dict[str, Any]:
    """A functional model's layers and calls as JSON (see ``Functional.get_config``)."""
    refs: dict[int, list] = {}
    calls: dict[int, int] = {}
    for t in model._input_list:
        refs[id(t)] = [t.node.layer.name, 0, 0]
    nodes = []
    for node in model._nodes:
        layer = node.layer
        if type(layer).__name__ == "TensorOp":
            raise NotImplementedError(
                f"the arithmetic {layer.name!r} on KerasTensors (x + y, 2 * x) runs a Python "
                "function, which a config cannot hold; use the layers layers.Add / Subtract "
                "/ Multiply, or a layer of your own, to save the model")
        index = calls.get(id(layer), 0)
        calls[id(layer)] = index + 1
        nodes.append({"layer": layer.name, "args": _ref_config(node.args, refs),
                      "kwargs": node.kwargs})
        for out in node.outputs:
            refs[id(out)] = [layer.name, index, out.index]
    layers = [{"class_name": type(layer).__name__, "name": layer.name,
               "config": layer.get_config()} for layer in model._graph_layers]

    def ends(structure: Any) -> Any:
        return _ref_config(structure, refs)

    return {"layers": layers, "nodes": nodes, "inputs": ends(model._inputs_struct),
            "outputs": ends(model._outputs_struct)}

