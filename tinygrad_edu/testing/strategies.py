"""Hypothesis strategies for property-testing your own ops and nets.

Values are bounded and free of NaN and inf; ``avoid`` keeps them a ``margin`` away from the
points where your function has a kink or a singularity (0 for ``relu``/``abs``/``1/x``), by
pushing values that fall too close out to ``point +- margin`` (keeping their side) rather
than filtering, so no example is wasted.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> from hypothesis import given, settings
>>> from tinygrad_edu.testing import assert_grad_close, strategies as tst
>>> @settings(max_examples=5, deadline=None)
... @given(x=tst.tensors(tst.shapes(min_dims=1), avoid=(0.0,), requires_grad=True))
... def test_relu_gradient(x):
...     assert_grad_close(lambda t: t.relu(), x)
>>> test_relu_gradient()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor

ACTIVATIONS = ("tanh", "sigmoid", "relu")


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, small by default (a gradient check costs two calls per entry).

    >>> from hypothesis import find
    >>> find(shapes(min_dims=2, max_dims=2), lambda s: True)
    (1, 1)
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = 3,
                         base_shape: tuple[int, ...] = ()) -> st.SearchStrategy[tuple]:
    """Tuples of ``num_shapes`` shapes that broadcast together (numpy's rules).

    >>> from hypothesis import find
    >>> a, b = find(broadcastable_shapes(min_dims=2), lambda s: s[0] != s[1])
    >>> len(np.broadcast_shapes(a, b)) >= 2
    True
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side, base_shape=base_shape).map(lambda s: tuple(s.input_shapes))


def push_away(x: np.ndarray, avoid: Sequence[float] = (0.0,), margin: float = 0.05) -> np.ndarray:
    """Move values within ``margin`` of a point in ``avoid`` out to ``point +- margin``.

    >>> push_away(np.array([0.01, -0.02, 0.5]), (0.0,), 0.1).tolist()
    [0.1, -0.1, 0.5]
    """
    x = np.array(x, dtype=np.float64 if np.asarray(x).dtype.kind != "f" else np.asarray(x).dtype)
    for p in avoid:
        d = x - p
        close = np.abs(d) < margin
        x = np.where(close, p + np.where(d >= 0, margin, -margin), x).astype(x.dtype)
    return x


def _spread(x: np.ndarray, gap: float) -> np.ndarray:
    flat = x.ravel()
    rank = np.argsort(np.argsort(flat, kind="stable"), kind="stable")
    return (flat + rank * gap).reshape(x.shape).astype(x.dtype)


def _push_away_keeping_order(x: np.ndarray, avoid: Sequence[float], margin: float) -> np.ndarray:
    """:func:`push_away` for distinct values: a value ``d`` from a point, ``|d| < 2 margin``,
    goes to ``d + sign(d) * margin * (1 - |d| / (2 margin))`` (``0`` goes to ``+margin``).
    The map is increasing, so distinct values stay distinct and keep their order, and leaves
    everything farther than ``2 * margin`` where it was (points closer together than
    ``4 * margin`` may push a value into each other's margin)."""
    x = x.astype(np.float64)
    for p in avoid:
        d = x - p
        near = np.abs(d) < 2 * margin
        side = np.where(d >= 0, 1.0, -1.0)
        x = np.where(near, p + d + side * margin * (1 - np.abs(d) / (2 * margin)), x)
    return x


def _float_bounds(dtype: np.dtype, low: float, high: float) -> tuple[float, float]:
    """``low`` and ``high`` rounded inwards to values ``dtype`` holds exactly (hypothesis
    refuses a float32 bound such as 0.1 that float32 cannot represent)."""
    lo, hi = np.array([low, high], dtype=np.float64)
    finite = float(np.finfo(dtype).max)
    lo, hi = max(lo, -finite), min(hi, finite)
    lo_d, hi_d = dtype.type(lo), dtype.type(hi)
    if float(lo_d) < lo:
        lo_d = np.nextafter(lo_d, dtype.type(np.inf))
    if float(hi_d) > hi:
        hi_d = np.nextafter(hi_d, dtype.type(-np.inf))
    return float(lo_d), float(hi_d)


def _elements(dtype: np.dtype, low: float, high: float, avoid: Sequence[float],
              margin: float) -> st.SearchStrategy:
    """The values of one entry: integers in ``[ceil(low), floor(high)]`` at least ``margin``
    from ``avoid`` for an integer dtype, otherwise floats of the dtype's width."""
    if dtype.kind in "iu":
        ints = st.integers(int(np.ceil(low)), int(np.floor(high)))
        if avoid:
            ints = ints.filter(lambda v: all(abs(v - p) >= margin for p in avoid))
        return ints
    if dtype.kind != "f":
        raise ValueError(f"arrays: dtype {dtype} is neither a float nor an integer type")
    low, high = _float_bounds(dtype, low, high)
    return st.floats(low, high, allow_nan=False, allow_infinity=False,
                     width=8 * dtype.itemsize)


def arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    dtype: Any = np.float64,
    min_value: float = -2.0,
    max_value: float = 2.0,
    avoid: Sequence[float] = (),
    margin: float = 0.05,
    distinct: float | None = None,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays with values in ``[min_value, max_value]``: floats (NaN- and inf-free; bounds a
    float32 cannot hold exactly, such as 0.1, are rounded inwards) or integers (an integer
    ``dtype``: indices, counts).

    ``avoid`` lists kinks or singularities to stay ``margin`` away from (float values may
    then exceed the bounds by up to ``margin``; integers equal to a point are not drawn);
    ``distinct`` adds a ramp of that step in a shuffled order so that no two values tie (for
    ``max``, sorting, pooling), and still keeps them ``margin`` away from ``avoid``.

    >>> from hypothesis import find
    >>> find(arrays((4,), avoid=(0.0,), margin=0.1), lambda x: True).tolist()
    [0.1, 0.1, 0.1, 0.1]
    >>> find(arrays((3,), np.int64, 0, 4, avoid=(0,)), lambda x: True).tolist()
    [1, 1, 1]
    """
    dtype = np.dtype(dtype)
    if distinct and dtype.kind != "f":
        raise ValueError("arrays: distinct needs a float dtype")
    strategy = hnp.arrays(dtype, shape,
                          elements=_elements(dtype, min_value, max_value, avoid, margin))
    if distinct:
        def spread(a: np.ndarray) -> np.ndarray:
            a = _spread(a, distinct)
            return _push_away_keeping_order(a, avoid, margin).astype(dtype) if avoid else a
        return strategy.map(spread)
    if avoid and dtype.kind == "f":
        strategy = strategy.map(lambda a: push_away(a, avoid, margin))
    return strategy


def tensors(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    dtype: Any = np.float64,
    requires_grad: bool = False,
    **array_options: Any,
) -> st.SearchStrategy[Tensor]:
    """Tensors built from :func:`arrays` (same options), float64 by default.

    >>> from hypothesis import find
    >>> t = find(tensors((2, 3), requires_grad=True), lambda t: True)
    >>> t.shape, t.dtype, t.requires_grad
    ((2, 3), dtype('float64'), True)
    """
    return arrays(shape, dtype, **array_options).map(
        lambda a: Tensor(a, requires_grad=requires_grad))


@dataclass(frozen=True)
class MLPSpec:
    """A small multilayer perceptron: layer ``sizes``, the hidden ``activations`` (one per
    hidden layer), the ``output_activation`` (None: linear) and whether layers have a
    ``bias``. Weights ``W{l}`` have shape ``(n_l, n_{l+1})``, biases ``b{l}`` ``(n_{l+1},)``.

    ``forward`` and ``loss`` are written with numpy functions, so they run on arrays and on
    Tensors alike: use them as the forward pass whose gradient you check.

    >>> spec = MLPSpec((2, 3, 1), ("tanh",), "sigmoid")
    >>> spec.param_names
    ('W0', 'b0', 'W1', 'b1')
    """

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    output_activation: str | None = None
    bias: bool = True

    @property
    def param_names(self) -> tuple[str, ...]:
        names: list[str] = []
        for l in range(len(self.sizes) - 1):
            names += [f"W{l}", f"b{l}"] if self.bias else [f"W{l}"]
        return tuple(names)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes_ = {}
        for l, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            shapes_[f"W{l}"] = (a, b)
            if self.bias:
                shapes_[f"b{l}"] = (b,)
        return shapes_

    def forward(self, params: dict, x: Any) -> Any:
        """The output for a batch ``x`` of shape ``(m, sizes[0])``."""
        h = x
        n = len(self.sizes) - 1
        for l in range(n):
            z = h @ params[f"W{l}"]
            if self.bias:
                z = z + params[f"b{l}"]
            act = self.activations[l] if l < n - 1 else self.output_activation
            h = activate(z, act)
        return h

    def loss(self, params: dict, x: Any, y: Any) -> Any:
        """Mean squared error over the batch, halved: ``sum((out - y)**2) / (2m)``."""
        return np.sum((self.forward(params, x) - y) ** 2) / (2 * np.shape(x)[0])


def activate(z: Any, name: str | None) -> Any:
    """``tanh``, ``sigmoid``, ``relu`` or None (identity), on arrays or Tensors.

    >>> activate(np.array([-1.0, 2.0]), "relu").tolist()
    [0.0, 2.0]
    """
    if name is None:
        return z
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(f"unknown activation {name!r}; known: {ACTIVATIONS}")


@st.composite
def mlp_specs(
    draw: st.DrawFn,
    min_inputs: int = 1,
    max_inputs: int = 4,
    min_hidden_layers: int = 0,
    max_hidden_layers: int = 2,
    max_width: int = 5,
    max_outputs: int = 3,
    activations: Sequence[str] = ACTIVATIONS,
    output_activations: Sequence[str | None] = (None, "tanh", "sigmoid"),
    bias: bool | None = None,
) -> MLPSpec:
    """Small :class:`MLPSpec`\\ s: layer sizes, activations and bias drawn (``bias=None``
    draws it too).

    >>> from hypothesis import find
    >>> find(mlp_specs(), lambda s: len(s.sizes) == 3).sizes
    (1, 1, 1)
    """
    n_hidden = draw(st.integers(min_hidden_layers, max_hidden_layers))
    sizes = (draw(st.integers(min_inputs, max_inputs)),
             *[draw(st.integers(1, max_width)) for _ in range(n_hidden)],
             draw(st.integers(1, max_outputs)))
    acts = tuple(draw(st.sampled_from(list(activations))) for _ in range(n_hidden))
    out = draw(st.sampled_from(list(output_activations)))
    use_bias = draw(st.booleans()) if bias is None else bias
    return MLPSpec(sizes, acts, out, use_bias)


def mlp_params(spec: MLPSpec, scale: float = 1.0) -> st.SearchStrategy[dict[str, np.ndarray]]:
    """Float64 parameters for ``spec``: weights in ``±scale/sqrt(fan_in)``, biases in
    ``±scale``.

    >>> from hypothesis import find
    >>> p = find(mlp_params(MLPSpec((3, 2), ())), lambda p: True)
    >>> sorted((k, v.shape) for k, v in p.items())
    [('W0', (3, 2)), ('b0', (2,))]
    """
    parts = {}
    for name, shp in spec.param_shapes().items():
        bound = scale / np.sqrt(shp[0]) if name.startswith("W") else scale
        parts[name] = arrays(shp, np.float64, -bound, bound)
    order = spec.param_names
    return st.fixed_dictionaries(parts).map(lambda d: {n: d[n] for n in order})
