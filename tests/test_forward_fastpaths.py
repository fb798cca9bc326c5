"""The forward's shortcuts (Function.apply's unrolled calls, Module.__call__ without hooks,
F.linear's and F.mse_loss's checks paid only when needed) must not change what users see:
same values, same graph, same errors."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

import tinygrad_edu as tg


class _Echo(tg.Function):
    """Returns the sum of its inputs and remembers exactly what forward received."""

    seen: ClassVar[list] = []

    @staticmethod
    def forward(ctx, *inputs, **options):
        _Echo.seen.append((tuple(type(i).__name__ for i in inputs), dict(options)))
        ctx.n = len(inputs)
        ctx.scale = options.get("scale", 1.0)
        out = np.zeros((), np.float64)
        for i in inputs:
            out = out + np.asarray(i, dtype=np.float64)
        return out * ctx.scale

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.scale,) * ctx.n


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("options", [{}, {"scale": 3.0}])
def test_apply_passes_inputs_and_options_as_given(n: int, options: dict) -> None:
    # apply calls forward without ** when there are no options (one to three inputs
    # unrolled, more through a tuple): forward must see the same in every case
    inputs = [tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True), np.array([3.0, 4.0]),
              2.0, tg.tensor([0.5, 0.5], dtype=tg.float64)][:n]
    _Echo.seen.clear()
    out = _Echo.apply(*inputs, **options)
    kinds = tuple("ndarray" if isinstance(i, tg.Tensor | np.ndarray) else "float"
                  for i in inputs)
    assert _Echo.seen == [(kinds, options)]
    expected = sum(np.asarray(getattr(i, "data", i), np.float64) for i in inputs)
    assert np.array_equal(out.data, expected * options.get("scale", 1.0))
    assert out.grad_fn is not None and out.grad_fn.needs_input_grad == (True,) + (False,) * (n - 1)
    out.sum().backward()
    assert inputs[0].grad.tolist() == [options.get("scale", 1.0)] * 2
