"""PyTorch's autograd teaching material ported by changing ``import torch``: our scripts in
tests/autograd_tutorials.py run on tinygrad_edu and on PyTorch 2.13 and must agree (values,
gradients, flags, which error is raised); the autograd features they use are checked further
against central differences with hypothesis-chosen shapes and values, and every way a custom
Function can return a wrong gradient must fail loudly, naming the function."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.testing import assert_close, assert_grad_close
from tinygrad_edu.testing import strategies as tst

from .autograd_tutorials import SCRIPTS

# what differs on purpose: PyTorch prints the node's address, we print its name only
_PRINTED = {"z grad_fn printed"}


def _same(ours: Any, theirs: Any, where: str) -> None:
    """Recursive comparison: numbers and arrays to float32 rounding, the rest exactly."""
    if isinstance(theirs, dict):
        assert ours.keys() == theirs.keys(), where
        for k in theirs:
            if k not in _PRINTED:
                _same(ours[k], theirs[k], f"{where}[{k!r}]")
        return
    if isinstance(theirs, list | tuple):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _same(a, b, f"{where}[{i}]")
        return
    if isinstance(theirs, np.ndarray | float) and not isinstance(theirs, bool):
        a = np.asarray(ours)
        assert a.shape == np.shape(theirs) and a.dtype.kind == np.asarray(theirs).dtype.kind, where
        assert_close(a, theirs, atol=1e-6, rtol=1e-5, what=where)
        return
    assert ours == theirs, f"{where}: {ours!r} != PyTorch's {theirs!r}"


@pytest.fixture(scope="module")
def pytorch_results() -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: script(torch) for name, script in SCRIPTS.items()}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_the_tutorial_script_gives_pytorchs_results(name: str, pytorch_results: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sqrt'(0) in the anomaly example
        ours = SCRIPTS[name](tg)
    _same(ours, pytorch_results[name], name)


def test_what_the_scripts_print_is_informative() -> None:
    out = SCRIPTS["basics"](tg)
    assert out["z grad_fn printed"] == "Gradient function for z = <AddBackward>"
    assert SCRIPTS["custom_functions"](tg)["MyExp grad_fn"] == "MyExpBackward"  # as PyTorch


# ----------------------------------------------------------------- the basics, hypothesis
@settings(max_examples=15, deadline=None)
@given(shape=tst.shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_backward_with_a_vector_is_the_vector_jacobian_product(shape: tuple, data) -> None:
    x = data.draw(tst.arrays(shape, dtype=np.float64))
    v = data.draw(tst.arrays(shape, dtype=np.float64))
    ours = tg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    for lib, t in ((tg, ours), (torch, theirs)):
        q = 3 * t**3 - t.sin() * 2
        q.backward(gradient=lib.tensor(v), retain_graph=True)
        q.backward(gradient=lib.tensor(v))  # a second call accumulates
    expected = 2 * v * (9 * x**2 - 2 * np.cos(x))
    assert_close(ours.grad.numpy(), expected, rtol=1e-10)
    assert_close(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("seed_shape", [(3,), (1, 2), (), (2, 1)])
def test_an_external_gradient_of_another_shape_is_refused_as_in_pytorch(seed_shape) -> None:
    q = tg.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=rf"gradient has shape {re.escape(str(seed_shape))}"):
        q.backward(gradient=tg.ones(seed_shape))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (torch.tensor([1.0, 2.0], requires_grad=True) * 2).backward(torch.ones(seed_shape))


def test_backward_inputs_fills_only_those_tensors_as_in_pytorch() -> None:
    results = []
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        h = x * w
        (h * h).sum().backward(inputs=[x, h])
        lib.autograd.backward([(x * 3).sum(), (w * 2).sum()])
        results.append([x.grad.numpy(), w.grad.numpy(), h.grad.numpy()])
        with pytest.raises(RuntimeError):
            (x * 2).sum().backward(inputs=[])
    _same(results[0], results[1], "backward(inputs=)")


def test_variable_is_a_tensor_as_in_pytorch() -> None:
    t = tg.ones(2)
    v = tg.autograd.Variable(t, requires_grad=True)
    assert v.requires_grad and not t.requires_grad and v.data is t.data
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]


def test_retain_grad_needs_a_tensor_that_requires_grad() -> None:
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        tg.ones(2).retain_grad()


# -------------------------------------------------- torch.autograd.functional, hypothesis
def _numeric_jacobian(f: Any, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of a numpy function, shape f(x).shape + x.shape."""
    cols = []
    for i in range(x.size):
        d = np.zeros(x.size)
        d[i] = eps
        d = d.reshape(x.shape)
        cols.append((f(x + d) - f(x - d)) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(np.shape(f(x)) + x.shape)


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 4), m=st.integers(1, 3), data=st.data())
def test_jacobian_and_hessian_match_central_differences(n: int, m: int, data) -> None:
    x = data.draw(tst.arrays((n,), dtype=np.float64))
    w = data.draw(tst.arrays((m, n), dtype=np.float64))

    def f(t):
        return np.tanh(w @ t) * np.cos(t[:1])

    def g(t):
        return np.sum(np.sin(t) * t**2) + np.prod(t)

    jac = tg.autograd.functional.jacobian(lambda t: (tg.tensor(w) @ t).tanh() * t[:1].cos(),
                                          tg.tensor(x))
    assert jac.shape == (m, n) and not jac.requires_grad
    assert_close(jac.numpy(), _numeric_jacobian(f, x), atol=1e-7, rtol=1e-5, what="jacobian")
    hess = tg.autograd.functional.hessian(lambda t: (t.sin() * t**2).sum() + t.prod(),
                                          tg.tensor(x))
    grad_g = lambda t: _numeric_jacobian(g, t, 1e-5)  # noqa: E731
    assert_close(hess.numpy(), _numeric_jacobian(grad_g, x, 1e-4), atol=1e-5, rtol=1e-4,
                 what="hessian")
    v = data.draw(tst.arrays((n,), dtype=np.float64))
    _, hv = tg.autograd.functional.hvp(lambda t: (t.sin() * t**2).sum() + t.prod(),
                                       tg.tensor(x), tg.tensor(v))
    assert_close(hv.numpy(), hess.numpy() @ v, atol=1e-10, rtol=1e-8, what="hvp")
    _, jv = tg.autograd.functional.jvp(lambda t: (tg.tensor(w) @ t).tanh() * t[:1].cos(),
                                       tg.tensor(x), tg.tensor(v))
    assert_close(jv.numpy(), jac.numpy() @ v, atol=1e-10, rtol=1e-8, what="jvp")


def test_functional_with_create_graph_stays_differentiable() -> None:
    x = tg.tensor([0.3, -0.4], dtype=tg.float64, requires_grad=True)
    jac = tg.autograd.functional.jacobian(lambda t: t**3, x, create_graph=True)
    assert jac.requires_grad
    jac.sum().backward()  # d/dx of sum(diag(3x²)) = 6x
    assert_close(x.grad.numpy(), 6 * x.numpy())


def test_functional_misuse_is_refused_with_the_reason() -> None:
    fn = tg.autograd.functional
    x = tg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="independent of input 0"):
        fn.jacobian(lambda t: tg.ones(2), x, strict=True)
    assert fn.jacobian(lambda t: tg.ones(2), x).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    with pytest.raises(RuntimeError, match="single element"):
        fn.hessian(lambda t: t * 2, x)
    with pytest.raises(RuntimeError, match=r"v\[0\] has shape \(3,\)"):
        fn.vjp(lambda t: t * 2, x, tg.ones(3))
    with pytest.raises(TypeError, match="int64"):
        fn.jacobian(lambda t: t * 2, tg.tensor([1, 2]))


# --------------------------------------------------------------------- custom Functions
class ScaledTanh(tg.autograd.Function):
    """``tanh(x) * scale`` with a broadcast ``scale``: backward returns the un-summed
    gradient of ``scale``, which PyTorch (and the engine) sum to its shape."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x, scale)  # inputs, not tanh(x): see the docs on double backward
        return x.tanh() * scale

    @staticmethod
    def backward(ctx, grad):
        x, scale = ctx.saved_tensors
        t = x.tanh()
        return grad * scale * (1 - t * t), grad * t


class SplitSquares(tg.autograd.Function):
    """Two outputs of different shapes: ``x²`` and the row sums of ``x³``."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x, (x * x * x).sum(-1)

    @staticmethod
    def backward(ctx, g_square, g_rows):
        (x,) = ctx.saved_tensors
        return 2 * x * g_square + 3 * x * x * g_rows.unsqueeze(-1)


@settings(max_examples=15, deadline=None)
@given(shapes=tst.broadcastable_shapes(max_dims=3), data=st.data())
def test_a_custom_function_matches_central_differences_with_broadcasting(shapes, data) -> None:
    x = data.draw(tst.arrays(shapes[0], dtype=np.float64))
    scale = data.draw(tst.arrays(shapes[1], dtype=np.float64))
    assert_grad_close(ScaledTanh.apply, (x, scale))
    assert_grad_close(lambda a, s: ScaledTanh.apply(a, s).sin().sum(), (x, scale))


@settings(max_examples=12, deadline=None)
@given(shape=tst.shapes(min_dims=1, max_dims=3, max_side=3), use=st.sampled_from(
    ["both", "square", "rows"]), data=st.data())
def test_a_custom_function_with_two_outputs_gets_both_gradients(shape, use, data) -> None:
    x = data.draw(tst.arrays(shape, dtype=np.float64))

    def loss(t):
        square, rows = SplitSquares.apply(t)
        parts = {"square": [square.cos().sum()], "rows": [(rows * rows).sum()]}
        return sum(parts["square"] + parts["rows"]) if use == "both" else parts[use][0]

    assert_grad_close(loss, (x,))
    t = tg.tensor(x, requires_grad=True)
    square, rows = SplitSquares.apply(t)
    assert type(square.grad_fn).__name__ == type(rows.grad_fn).__name__ == "SplitSquaresBackward"
    assert square.shape == shape and rows.shape == shape[:-1]


def test_second_derivatives_through_a_custom_function() -> None:
    x = tg.tensor([0.3, -1.2, 0.8], dtype=tg.float64, requires_grad=True)
    s = tg.tensor([1.5], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradgradcheck(ScaledTanh.apply, (x, s))
    assert tg.autograd.gradgradcheck(lambda t: SplitSquares.apply(t)[1], (x.reshape(1, 3),))


class _Returns(tg.autograd.Function):
    """backward returns whatever the test puts in ``_Returns.grads``."""

    grads: Any = None

    @staticmethod
    def forward(ctx, x, flag):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return _Returns.grads(grad)


@pytest.mark.parametrize(("grads", "message"), [
    (lambda g: g, r"returned 1 gradient\(s\), but forward took 2"),
    (lambda g: (g, None, g), r"returned 3 gradient\(s\), but forward took 2"),
    (lambda g: (g, g), "returned a gradient for argument 1 of forward, a bool"),
    (lambda g: (g.sum(), None),
     r"returned a gradient of shape \(\) \(float32\) for argument 0 of forward, which has "
     r"shape \(2, 3\)"),
    (lambda g: (g.t(), None), r"returned a gradient of shape \(3, 2\) \(float32\) for argument 0"),
    (lambda g: (1.0, None), "returned a float as the gradient of argument 0"),
])
def test_a_custom_function_returning_a_wrong_gradient_fails_naming_it(grads, message) -> None:
    _Returns.grads = grads
    x = tg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"_Returns.backward {message}"):
        _Returns.apply(x, True).sum().backward()
    assert x.grad is None


def test_gradients_pytorch_accepts_are_accepted() -> None:
    x = tg.ones(2, 3, requires_grad=True)
    _Returns.grads = lambda g: (g.unsqueeze(0) * 2, None, None)  # sums; an extra None
    _Returns.apply(x, True).sum().backward()
    assert x.grad.tolist() == [[2.0] * 3] * 2
    _Returns.grads = lambda g: (g.numpy() * 3, None)  # a numpy gradient
    x.grad = None
    _Returns.apply(x, True).sum().backward()
    assert x.grad.tolist() == [[3.0] * 3] * 2


def test_save_for_backward_takes_tensors_only_as_in_pytorch() -> None:
    class SavesANumber(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 3

    with pytest.raises(TypeError, match="argument 1 is a int; keep other values as attributes"):
        SavesANumber.apply(tg.ones(2, requires_grad=True))


def test_numpy_outputs_of_forward_keep_their_gradient() -> None:
    class NumpyDouble(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.numpy() * 2  # a numpy habit: must not lose the gradient

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = NumpyDouble.apply(x)
    assert y.requires_grad
    (y * y).sum().backward()
    assert x.grad.tolist() == [8.0, 16.0]


def test_a_custom_function_and_in_place_changes() -> None:
    class Square(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = Square.apply(h)
    h.add_(1)  # what Square saved changes: refused, as in PyTorch
    with pytest.raises(RuntimeError, match="gradient of Square"):
        y.sum().backward()
    y = Square.apply(x * 1)
    y.mul_(3)  # its output changes: the graph is rebased, the gradient is that of 3x²
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_custom_function_errors_name_what_to_do() -> None:
    class Dirty(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x

    with pytest.raises(NotImplementedError, match="mark_dirty"):
        Dirty.apply(tg.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match=r"call the static methods on the class: Dirty.apply"):
        Dirty()(tg.ones(2))

    class NoBackward(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="static backward"):
        NoBackward.apply(tg.ones(2, requires_grad=True)).sum().backward()


def test_the_array_function_points_pytorch_code_to_the_tensor_function() -> None:
    class MyExp(tg.Function):  # tg.Function: forward gets numpy arrays
        @staticmethod
        def forward(ctx, i):
            return i.exp()

    with pytest.raises(AttributeError, match=r"subclass tinygrad_edu.autograd.Function"):
        MyExp.apply(tg.ones(2, requires_grad=True))


def test_a_step_calling_a_custom_function_is_not_replayed() -> None:
    w = tg.tensor([[0.5, -0.2]], requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1)
    scale = tg.tensor(2.0)
    step = tg.compile_step(lambda x: ScaledTanh.apply(x @ w.t(), scale).sum(), opt)
    x = tg.ones(3, 2)
    with pytest.warns(RuntimeWarning, match="custom autograd Function ScaledTanh"):
        losses = [step(x).item() for _ in range(4)]
    assert step.replays == 0 and losses[-1] < losses[0]


def test_saved_tensor_names_and_hooks() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(AttributeError, match=r"no _saved_other: .* grad_fn.saved_tensors holds"):
        _ = x.exp().grad_fn._saved_other
    with pytest.raises(NotImplementedError, match="saved_tensors_hooks is not supported"):
        tg.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t)
    with tg.autograd.graph.save_on_cpu():
        y = x * x
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_index_add_matches_pytorch() -> None:
    rng = np.random.default_rng(1)
    base, src = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    idx = np.array([3, 0, 3, 1, 3])
    weight = rng.standard_normal((4, 3))
    results = []
    for lib in (tg, torch):
        b, s = lib.tensor(base, requires_grad=True), lib.tensor(src, requires_grad=True)
        out = b.index_add(0, lib.tensor(idx), s, alpha=0.5)
        (out * lib.tensor(weight)).sum().backward()
        results.append([out.detach().numpy(), b.grad.numpy(), s.grad.numpy()])
    _same(results[0], results[1], "index_add")
    with pytest.raises(ValueError, match=r"needs \(4, 2\)"):
        tg.zeros(4, 3).index_add(1, tg.tensor([0, 1]), tg.ones(3, 2))


def test_the_central_difference_helper_is_right() -> None:
    x = np.array([0.2, -0.5])
    assert_close(_numeric_jacobian(np.sin, x), np.diag(np.cos(x)), atol=1e-9)


def test_saving_an_intermediate_warns_when_differentiated_twice() -> None:
    class TanhSavingOutput(tg.autograd.Function):  # saves tanh(x) computed in forward
        @staticmethod
        def forward(ctx, x):
            t = x.tanh()
            ctx.save_for_backward(t * 1)  # an intermediate: not the output itself
            return t

        @staticmethod
        def backward(ctx, grad):
            (t,) = ctx.saved_tensors
            return grad * (1 - t * t)

    x = tg.tensor([0.5, -1.0], dtype=tg.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TanhSavingOutput.apply(x).sum().backward()  # first order: right, and silent
    assert_close(x.grad.numpy(), 1 - np.tanh(x.numpy()) ** 2)
    with pytest.warns(UserWarning, match=r"TanhSavingOutput saved a tensor computed inside "
                                         r"forward \(\(2,\) float64\)"):
        tg.autograd.grad(TanhSavingOutput.apply(x).sum(), x, create_graph=True)

    class TanhSavingItsOutput(TanhSavingOutput):
        @staticmethod
        def forward(ctx, x):
            t = x.tanh()
            ctx.save_for_backward(t)  # the output itself: differentiable, no warning
            return t

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.autograd.gradgradcheck(TanhSavingItsOutput.apply, (x,))


# ----------------------------------------------------------------- grad modes and grad()
def test_set_grad_enabled_as_a_decorator_holds_only_while_the_function_runs() -> None:
    results = []
    for lib in (tg, torch):
        @lib.set_grad_enabled(False)
        def double(t):
            return t * 2

        after_decorating = lib.is_grad_enabled()  # it used to stay False from here on
        x = lib.ones(2, requires_grad=True)
        results.append((after_decorating, double(x).requires_grad, lib.is_grad_enabled(),
                        (x * 2).requires_grad))
        mode = lib.set_grad_enabled(False)  # a call sets the mode at once ...
        with mode:  # ... and a with block restores it
            inside = lib.is_grad_enabled()
        results.append((inside, lib.is_grad_enabled()))
    assert results[0] == results[2] == (True, False, True, True)
    assert results[1] == results[3] == (False, True)


def test_grad_materialize_grads_gives_zeros_for_unused_inputs_as_in_pytorch() -> None:
    results = []
    for lib in (tg, torch):
        x, y = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
        results.append([g.numpy() for g in lib.autograd.grad((x * 2).sum(), [x, y],
                                                              materialize_grads=True)])
        with pytest.raises(RuntimeError, match="allow_unused"):
            lib.autograd.grad((x * 2).sum(), [x, y])
    _same(results[0], results[1], "materialize_grads")


def test_an_optimizer_step_between_forward_and_backward_is_named() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = tg.optim.Adam([w], lr=0.1)
    loss = (w**2).sum()
    (w * 3).sum().backward()
    opt.step()  # changes w, which loss's backward needs
    with pytest.raises(RuntimeError, match=r"gradient of Pow .* \(Adam.step\(\)\)"):
        loss.backward()


# "Autograd mechanics", gradients at points where a function is not differentiable: PyTorch's
# choices (a subgradient, 0 at the origin of atan2, ties shared or picked) must be ours
_KINKS = {
    "relu at 0": (lambda lib, x: x.relu(), [0.0, 1.0, -1.0]),
    "abs at 0": (lambda lib, x: x.abs(), [0.0, 1.0, -1.0]),
    "sqrt at 0": (lambda lib, x: x.sqrt(), [0.0, 4.0]),
    "norm of zero": (lambda lib, x: x.norm(), [0.0, 0.0]),
    "max with a tie": (lambda lib, x: x.max(), [1.0, 3.0, 3.0]),
    "amax with a tie": (lambda lib, x: x.amax(), [1.0, 3.0, 3.0]),
    "min(dim) with a tie": (lambda lib, x: x.reshape(1, 3).min(dim=1).values, [2.0, 1.0, 1.0]),
    "clamp at its bounds": (lambda lib, x: x.clamp(0.0, 1.0), [0.0, 1.0, 0.5, 2.0]),
    "prod with one zero": (lambda lib, x: x.prod(), [0.0, 2.0, 3.0]),
    "prod with two zeros": (lambda lib, x: x.prod(), [0.0, 0.0, 3.0]),
    "where masking sqrt of a negative": (
        lambda lib, x: lib.where(x > 0, x.sqrt(), lib.zeros_like(x)), [-1.0, 4.0]),
    "atan2 at the origin": (lambda lib, x: lib.atan2(x, x * 2), [0.0, 1.0]),
    "xlogy at 0": (lambda lib, x: lib.xlogy(x, x), [0.0, 1.0]),
    "median with ties": (lambda lib, x: x.median(), [1.0, 2.0, 2.0, 3.0]),
}


@pytest.mark.parametrize("name", sorted(_KINKS))
def test_gradients_at_non_differentiable_points_are_pytorchs(name: str) -> None:
    fn, values = _KINKS[name]
    grads = []
    for lib in (tg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fn(lib, x).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True")  # PyTorch's
def test_hooks_fire_in_pytorchs_order_with_post_accumulate_hooks() -> None:
    logs = []
    for lib in (tg, torch):
        log: list = []
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.grad = lib.tensor([10.0, 10.0])
        w.register_post_accumulate_grad_hook(
            lambda p, log=log: log.append(("post", p.grad.tolist())))
        w.register_hook(lambda g, log=log: log.append(("pre", g.tolist())) or g * 2)
        for create_graph in (False, True):
            (w * w).sum().backward(create_graph=create_graph)
        logs.append(log)
        with pytest.raises(RuntimeError, match="non-leaf"):
            (w * 2).register_post_accumulate_grad_hook(lambda p: None)
    assert logs[0] == logs[1]


def test_an_optimizer_step_inside_backward_trains_as_in_pytorch() -> None:
    """PyTorch's recipe: one optimizer per parameter, stepped by a post-accumulate hook."""
    rng = np.random.default_rng(2)
    w0, x, y = rng.standard_normal((3, 1)), rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    finals = []
    for lib in (tg, torch):
        w = lib.tensor(w0.copy(), requires_grad=True)
        opts = {w: lib.optim.Adam([w], lr=0.1)}

        def step(p, opts=opts):
            opts[p].step()
            opts[p].zero_grad()

        w.register_post_accumulate_grad_hook(step)
        for _ in range(5):
            ((lib.tensor(x) @ w - lib.tensor(y)) ** 2).mean().backward()
        finals.append(w.detach().numpy().copy())
        assert w.grad is None
    assert_close(finals[0], finals[1], rtol=1e-10)


@pytest.mark.parametrize("make", [
    lambda: tg.tensor([1 + 2j], requires_grad=True),
    lambda: tg.tensor([1.0, -2.0], requires_grad=True) * 1j,
])
def test_complex_gradients_are_refused_not_given_without_pytorchs_convention(make) -> None:
    # d|x·i|/dx came out as -sign(x) and the gradient of z² as 2z (PyTorch: sign(x), 2·conj z)
    with pytest.raises(TypeError, match="complex"):
        make()
