"""Testing helpers: assertions with good messages, and hypothesis strategies (imported lazily,
so the assertions work without hypothesis installed).

A property test of your own op, and of a hand-written backprop, over random shapes and
values:

>>> import numpy as np
>>> from hypothesis import given, settings
>>> from tinygrad_edu.testing import assert_grad_close, assert_close, strategies as tst
>>> @settings(max_examples=10, deadline=None)
... @given(shapes=tst.broadcastable_shapes(), data=tst.st.data())
... def test_mul_gradient(shapes, data):
...     a = data.draw(tst.tensors(shapes[0], requires_grad=True))
...     b = data.draw(tst.tensors(shapes[1], requires_grad=True))
...     assert_grad_close(lambda x, y: x * y, (a, b))
>>> test_mul_gradient()
>>> @settings(max_examples=10, deadline=None)
... @given(spec=tst.mlp_specs(activations=("tanh",)), data=tst.st.data())
... def test_mlp_gradient(spec, data):
...     params = data.draw(tst.mlp_params(spec))
...     x = data.draw(tst.arrays((3, spec.sizes[0])))
...     y = data.draw(tst.arrays((3, spec.sizes[-1])))
...     names = spec.param_names
...     assert_grad_close(lambda *ps: spec.loss(dict(zip(names, ps)), x, y),
...                       [params[n] for n in names])
>>> test_mlp_gradient()
"""

from __future__ import annotations

import importlib
from typing import Any

from .assertions import assert_backprop_correct, assert_close, assert_grad_close

__all__ = ["assert_backprop_correct", "assert_close", "assert_grad_close", "strategies"]


def __getattr__(name: str) -> Any:
    if name == "strategies":
        try:
            strategies = importlib.import_module(f"{__name__}.strategies")
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("tinygrad_edu.testing.strategies needs hypothesis: "
                              "pip install hypothesis") from e
        return strategies
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
