"""The backward engine: accumulation, graph freeing, deep graphs, grad(), modes, hooks,
in-place detection, anomaly detection and custom Functions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg

from .helpers import assert_close


def test_gradient_accumulates_over_shared_inputs_and_diamonds() -> None:
    a = tg.tensor(3.0, requires_grad=True)
    (a * a + a + a).backward()  # d/da = 2a + 2
    assert a.grad.item() == 8.0
    b = tg.tensor(2.0, requires_grad=True)
    c = b * 3
    d = c * c + c.exp()  # diamond through c
    d.backward()
    assert b.grad.item() == pytest.approx(2 * 6 * 3 + 3 * np.exp(6))


def test_gradients_accumulate_across_backward_calls_and_grads_are_not_aliased() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert y.grad.tolist() == [1.0, 1.0]
    x.grad.mul_(10)  # in-place on one gradient must not touch the other
    assert y.grad.tolist() == [1.0, 1.0]


def test_million_node_chain_backpropagates_without_recursion() -> None:
    x = tg.tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y + 1e-6
    y = y * 2
    y.backward()
    assert x.grad.item() == 2.0
    del y  # freeing a million-deep graph must not overflow the C stack either


def test_graph_is_freed_after_backward_unless_retained() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    z = (x.exp()).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert_close(x.grad.numpy(), 2 * x.numpy() + 2 * np.exp(x.numpy()))


def test_backward_on_nonscalar_needs_a_gradient_and_says_what_to_pass() -> None:
    x = tg.tensor([[1.0, 2.0]], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(1, 2\).*y\.sum\(\).*gradient="):
        y.backward()
    y.backward(gradient=tg.ones_like(y))
    assert x.grad.tolist() == [[2.0, 2.0]]
    with pytest.raises(RuntimeError, match="gradient has shape"):
        (x * 3).backward(gradient=np.ones(3))


def test_backward_without_any_grad_requirement_is_explained() -> None:
    x = tg.tensor([1.0])
    with pytest.raises(RuntimeError, match="does not require grad.*requires_grad=True"):
        (x * 2).sum().backward()


def test_integer_tensors_cannot_require_grad() -> None:
    with pytest.raises(TypeError, match="only floating-point.*int64.*float"):
        tg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        tg.arange(3).requires_grad_()


def test_no_grad_and_enable_grad_as_context_managers_and_decorators() -> None:
    w = tg.tensor([1.0], requires_grad=True)
    with tg.no_grad():
        assert not (w * 2).requires_grad
        with tg.enable_grad():
            assert (w * 2).requires_grad
    assert (w * 2).requires_grad

    @tg.no_grad()
    def called() -> tg.Tensor:
        return w * 2

    @tg.no_grad
    def bare() -> tg.Tensor:
        return w * 2

    assert not called().requires_grad and not bare().requires_grad
    assert tg.is_grad_enabled()


def test_grad_function_returns_without_accumulating() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.tensor([3.0, 4.0], requires_grad=True)
    out = (x * y).sum()
    gx, gy = tg.grad(out, [x, y])
    assert gx.tolist() == [3.0, 4.0] and gy.tolist() == [1.0, 2.0]
    assert x.grad is None and y.grad is None
    unused = tg.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="not used.*allow_unused=True"):
        tg.grad((x * 2).sum(), [x, unused])
    gx, gu = tg.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None


def test_grad_of_grad_matches_pytorch_for_a_small_network() -> None:
    rng = np.random.default_rng(0)
    w0, x0 = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    w, x = tg.tensor(w0, requires_grad=True), tg.tensor(x0)
    loss = ((x @ w).tanh() ** 2).sum()
    (g,) = tg.grad(loss, w, create_graph=True)
    penalty = (g * g).sum()
    penalty.backward()
    tw = torch.tensor(w0, requires_grad=True)
    tloss = ((torch.tensor(x0) @ tw).tanh() ** 2).sum()
    (tgw,) = torch.autograd.grad(tloss, tw, create_graph=True)
    (tgw * tgw).sum().backward()
    assert_close(g.numpy(), tgw.detach().numpy(), atol=1e-12)
    assert_close(w.grad.numpy(), tw.grad.numpy(), atol=1e-12)


def test_third_derivative_of_a_polynomial() -> None:
    x = tg.tensor(2.0, dtype=np.float64, requires_grad=True)
    (d1,) = tg.grad(x**4, x, create_graph=True)
    (d2,) = tg.grad(d1, x, create_graph=True)
    (d3,) = tg.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (32.0, 48.0, 48.0)


def test_backward_with_create_graph_makes_leaf_grads_differentiable() -> None:
    x = tg.tensor(3.0, dtype=np.float64, requires_grad=True)
    (x**3).backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.item() == 27.0
    (g2,) = tg.grad(x.grad, x)
    assert g2.item() == 18.0


def test_hooks_see_and_replace_gradients_and_can_be_removed() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 3
    y.register_hook(lambda g: g * 0.5)  # halves the gradient flowing into y
    y.sum().backward()
    assert seen == [[1.5, 1.5]] and x.grad.tolist() == [1.5, 1.5]
    h.remove()
    (x * 1).sum().backward()
    assert len(seen) == 1


def test_retain_grad_keeps_intermediate_gradient() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    assert y.grad.tolist() == [4.0, 8.0]
    assert x.grad.tolist() == [8.0, 16.0]


def test_detach_cuts_the_graph() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x.detach()
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 2.0]


def test_inplace_change_of_a_saved_tensor_is_detected_and_names_the_op() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1  # not a leaf
    c = tg.tensor([3.0, 4.0])
    out = (h * c).sum()  # Mul saves c
    c += 1
    with pytest.raises(RuntimeError, match=r"gradient of Mul.*in-place operation.*after Mul"):
        out.backward()


def test_inplace_change_of_an_unsaved_tensor_is_allowed() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = tg.tensor([3.0, 4.0])
    out = (x + c).sum()  # Add saves nothing
    c.add_(1)
    out.backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_inplace_on_saved_output_is_detected() -> None:
    x = tg.tensor([0.5], requires_grad=True)
    y = x.exp()  # Exp saves its output
    z = y + 1  # Add saves nothing
    with tg.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="Exp"):
        z.sum().backward()


def test_inplace_on_parameter_requires_no_grad() -> None:
    w = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
        w -= 0.1
    with tg.no_grad():
        w -= 0.1
    assert w.tolist() == pytest.approx([0.9])
    assert w._version > 0
    h = w * 2
    h.add_(1)  # an intermediate may change in place, as in PyTorch: its graph is rebased
    h.sum().backward()
    assert w.grad.tolist() == [2.0]


def test_inplace_ops_update_values_and_keep_dtype() -> None:
    t = tg.zeros(3)
    t.add_(tg.ones(3), alpha=2).mul_(3).sub_(1).div_(5)
    assert t.tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert t.dtype == np.float32
    t.copy_(np.arange(3.0))
    t.clamp_(0.5, 1.5)
    t[0] = 7.0
    assert t.tolist() == [7.0, 1.0, 1.5]
    t.zero_()
    assert t.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises((TypeError, ValueError), match=r"add_.*int64"):
        tg.arange(3).add_(0.5)


def test_anomaly_mode_names_the_op_that_made_nan_in_forward() -> None:
    x = tg.tensor([1.0, -1.0], requires_grad=True)
    with tg.detect_anomaly():
        y = x * 2
        with pytest.raises(
            FloatingPointError,
            match=r"Sqrt produced inf/nan.*\(2,\)"
            r"[\s\S]*test_engine.py",
        ):
            y.sqrt()


def test_anomaly_mode_names_the_op_whose_backward_made_nan() -> None:
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with tg.detect_anomaly():
        y = x.sqrt()  # finite forward, infinite derivative at 0
        with pytest.raises(FloatingPointError, match=r"SqrtBackward produced inf/nan"):
            y.sum().backward()


def test_anomaly_mode_does_not_blame_an_op_for_an_input_nan() -> None:
    x = tg.tensor([np.nan, 1.0])
    with tg.detect_anomaly():
        y = x * 2  # nan came in; not Mul's fault
    assert np.isnan(y.numpy()[0])
    assert not tg.is_anomaly_enabled()


def test_custom_function_with_hand_written_backward() -> None:
    class Square(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            assert ctx.needs_input_grad == (True,)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = tg.tensor([1.0, -3.0], dtype=np.float64, requires_grad=True)
    y = Square.apply(x)
    assert type(y.grad_fn).__name__ == "SquareBackward"
    y.sum().backward()
    assert x.grad.tolist() == [2.0, -6.0]
    # the hand-written backward, written with operators, is differentiable too
    x2 = tg.tensor(3.0, dtype=np.float64, requires_grad=True)
    (g,) = tg.grad(Square.apply(x2), x2, create_graph=True)
    (gg,) = tg.grad(g, x2)
    assert gg.item() == 2.0


def test_custom_function_returning_wrong_number_of_gradients_is_named() -> None:
    class Bad(tg.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Bad.backward returned 1 gradient.*2 input"):
        Bad.apply(a, a).sum().backward()


def test_custom_function_returning_wrong_shape_is_caught_by_the_engine() -> None:
    class WrongShape(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return np.ones((5,))

    a = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"WrongShapeBackward.*\(5,\).*\(2,\)"):
        WrongShape.apply(a).sum().backward()


@given(st.integers(1, 4), st.integers(1, 4))
def test_broadcast_gradients_sum_to_input_shapes(n: int, m: int) -> None:
    a = tg.tensor(np.ones((n, 1)), requires_grad=True)
    b = tg.tensor(np.ones((m,)), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (n, 1) and b.grad.shape == (m,)
    assert (a.grad.numpy() == m).all() and (b.grad.numpy() == n).all()


def test_gradient_dtype_follows_the_parameter() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)  # float32
    (w * np.array([1.0, 2.0])).sum().backward()  # float64 constant promotes the forward
    assert w.grad.dtype == np.float32


class _ReturnsNumber(tg.Function):
    """A learner's slip: the derivative (2) returned in place of the gradient (g * 2)."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        return 2.0


class _BrokenBackward(tg.Function):
    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        return g.no_such_method()  # the learner's own AttributeError


@pytest.mark.parametrize("how", ["backward", "grad", "create_graph"])
def test_a_backward_returning_a_number_is_told_to_return_an_array(how) -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = _ReturnsNumber.apply(x).sum()
    with pytest.raises(TypeError, match=r"_ReturnsNumber.backward returned a float as the "
                       r"gradient of its input 0.*g \* c"):
        if how == "backward":
            loss.backward()
        elif how == "grad":
            tg.autograd.grad(loss, [x])
        else:
            loss.backward(create_graph=True)


def test_an_attribute_error_inside_a_backward_is_the_learners_own() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(AttributeError, match="no_such_method"):
        _BrokenBackward.apply(x).sum().backward()
