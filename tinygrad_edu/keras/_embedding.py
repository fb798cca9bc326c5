"""Keras's ``Embedding`` layer: integer indices to rows of a learned table.

>>> import numpy as np
>>> layer = Embedding(input_dim=5, output_dim=2, embeddings_initializer="ones")
>>> layer(np.array([[0, 4, 4]])).shape, layer.count_params()
((1, 3, 2), 10)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn import functional as F
from ..tensor import Tensor
from . import initializers, regularizers
from .functional import is_symbolic, symbolic_call
from .layers import Layer, _initializer_config, regularizer_configs, unsupported_arguments


class Embedding(Layer):
    """``embeddings[indices]``: each integer in the input (``0 <= i < input_dim``) becomes
    a row of the ``(input_dim, output_dim)`` table ``embeddings`` (Keras's default
    initializer ``'uniform'``, ``U(-0.05, 0.05)``); gradients reach only the rows used.
    Inputs may come as floats holding whole numbers (a packed batch); anything else is
    refused. ``mask_zero`` is not supported."""

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None,
                 mask_zero: bool = False, **kwargs: Any) -> None:
        for what, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
                raise ValueError(f"Both `input_dim` and `output_dim` should be positive, "
                                 f"Received {what}={value!r}")
        if mask_zero:
            raise NotImplementedError(
                "Embedding: mask_zero=True is not supported by tinygrad_edu.keras (no masks "
                "flow between layers); pad with an index of its own and let the model learn "
                "to ignore it, or average only the real positions yourself")
        unsupported_arguments("Embedding", embeddings_constraint=embeddings_constraint)
        kwargs.pop("input_length", None)  # Keras 2's argument; the input shape decides
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self._init_spec = "random_uniform" if embeddings_initializer == "uniform" \
            else embeddings_initializer
        self.embeddings_initializer = initializers.get(self._init_spec)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)

    def build(self, input_shape: Any) -> None:
        self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                        initializer=self.embeddings_initializer,
                        regularizer=self.embeddings_regularizer)
        super().build(input_shape)

    def __call__(self, inputs: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if is_symbolic(inputs):
            return symbolic_call(self, inputs, kwargs)
        return super().__call__(self._indices(inputs), training=training, **kwargs)

    def _indices(self, inputs: Any) -> np.ndarray:
        arr = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        if arr.dtype.kind == "f":
            if not np.all(np.mod(arr, 1) == 0):
                raise ValueError(f"Embedding layer {self.name!r}: inputs must be integer "
                                 "indices, got fractional values")
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"Embedding layer {self.name!r}: inputs must be integer indices, "
                            f"got {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.input_dim):
            raise ValueError(f"Embedding layer {self.name!r}: indices must be in "
                             f"[0, {self.input_dim}), got values from {arr.min()} to "
                             f"{arr.max()}")
        return arr.astype(np.float32)  # the base class's float conversion keeps them whole

    def forward(self, inputs: Tensor) -> Tensor:
        return F.embedding(inputs.data.astype(np.int64), self.embeddings)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": _initializer_config(self._init_spec, self.name),
                **regularizer_configs(self, "embeddings_regularizer")}
