"""The forward's shortcuts (Function.apply's unrolled calls, Module.__call__ without hooks,
F.linear's and F.mse_loss's checks paid only when needed) must not change what users see:
same values, same graph, same errors."""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F

FLOATS = st.sampled_from([np.float32, np.float64])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


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



class _Fails(tg.Function):
    @staticmethod
    def forward(ctx, *inputs, kind=ValueError, named=False):
        err = kind("went wrong")
        if named:
            err.named_op = True
        raise err


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("kind", [ValueError, IndexError, TypeError])
def test_apply_names_the_op_and_its_inputs_in_forward_errors(n: int, kind: type) -> None:
    inputs = [tg.ones(2, 3, requires_grad=True), np.zeros(4, np.int64), 1.5, tg.zeros(())][:n]
    described = ["(2, 3) float32", "(4,) int64", "float", "() float32"][:n]
    message = rf"^_Fails: went wrong \(inputs: {re.escape(', '.join(described))}\)$"
    for options in ({}, {"kind": kind}):
        with pytest.raises(options.get("kind", ValueError), match=message) as info:
            _Fails.apply(*inputs, **options)
        assert info.value.__cause__ is None and info.value.__suppress_context__
    # a message that already names the function is raised as it is
    with pytest.raises(kind, match="^went wrong$"):
        _Fails.apply(*inputs, kind=kind, named=True)
    with pytest.raises(RuntimeError):  # other exceptions pass through untouched
        _Fails.apply(*inputs, kind=RuntimeError)


def _values(draw, shape, dtype) -> np.ndarray:
    return draw(hnp.arrays(dtype, shape, elements=st.floats(-4, 4, width=32)))


def _loss_and_grads(fn, x: np.ndarray, target, **kw):
    xt = tg.tensor(x, requires_grad=True)
    loss = fn(xt, target, **kw)
    loss.sum().backward()
    return loss, xt.grad


# ------------------------------------------------------------------------- mse_loss
@given(data=st.data())
def test_mse_loss_of_two_tensors_equals_the_converting_path(data) -> None:
    # two Tensors of one shape and dtype skip the checks; a numpy target (converted, checked)
    # must give the very same loss and gradients
    dtype, shape = data.draw(FLOATS), data.draw(SHAPES)
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    x, y = _values(data.draw, shape, dtype), _values(data.draw, shape, dtype)
    fast, gfast = _loss_and_grads(F.mse_loss, x, tg.tensor(y), reduction=reduction)
    slow, gslow = _loss_and_grads(F.mse_loss, x, y, reduction=reduction)
    assert fast.dtype == slow.dtype == dtype and fast.shape == slow.shape
    np.testing.assert_array_equal(fast.data, slow.data)
    np.testing.assert_array_equal(gfast.data, gslow.data)
    expected = (x.astype(np.float64) - y) ** 2
    expected = {"mean": expected.mean() if expected.size else np.nan, "sum": expected.sum(),
                "none": expected}[reduction]
    np.testing.assert_allclose(fast.data, expected, rtol=1e-5, atol=1e-5)


def test_mse_loss_target_that_requires_grad_gets_its_gradient() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.tensor([0.0, 4.0], requires_grad=True)
    F.mse_loss(x, y).backward()
    assert x.grad.tolist() == [1.0, -2.0] and y.grad.tolist() == [-1.0, 2.0]


def test_mse_loss_casts_a_target_of_another_dtype_to_the_input_dtype() -> None:
    x = tg.tensor([1.0, 2.0])
    for y in (tg.tensor([0.0, 4.0], dtype=tg.float64), [0.0, 4.0], np.array([0, 4])):
        loss = F.mse_loss(x, y)
        assert loss.dtype == np.float32 and loss.item() == 2.5
    assert F.mse_loss(np.array([1.0, 2.0]), tg.tensor([0.0, 4.0])).item() == 2.5


def test_mse_loss_errors_keep_their_messages() -> None:
    x = tg.zeros(5, 1)
    with pytest.raises(ValueError, match=r"mse_loss: input has shape \(5, 1\) but target has "
                                         r"shape \(5,\); they must be equal.*\(N, N\)"):
        F.mse_loss(x, tg.zeros(5))
    with pytest.raises(ValueError, match=r"mse_loss: input has shape \(5, 1\) but target"):
        F.mse_loss(x, tg.zeros(5, 1, dtype=tg.float64).reshape(1, 5))
    with pytest.raises(ValueError, match="mse_loss: reduction must be 'mean', 'sum' or 'none', "
                                         "got 'avg'"):
        F.mse_loss(x, tg.zeros(5, 1), reduction="avg")  # same shapes and dtypes: still checked
    with pytest.raises(ValueError, match="mse_loss: reduction must be .*got None"):
        F.mse_loss(x, tg.zeros(5, 1), reduction=None)


# ------------------------------------------------------------------------- linear
LINEAR_MESSAGE = (r"linear: input of shape {x} has {n} features in its last dimension, but the "
                  r"weight of shape {w} \(out_features, in_features\) expects {k}\. Check the "
                  r"layer's in_features, or reshape/flatten the input\.")


def _linear_message(x_shape: tuple, w_shape: tuple) -> str:
    def esc(shape: tuple) -> str:
        return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")
    n = x_shape[-1] if x_shape else 0
    return LINEAR_MESSAGE.format(x=esc(x_shape), n=n, w=esc(w_shape), k=w_shape[-1])


@given(data=st.data())
def test_linear_matches_the_composite_and_refuses_a_wrong_number_of_features(data) -> None:
    # the feature check is paid only when the product fails: every mismatch must still get
    # linear's message, whatever the batch shape (a batch equal to out_features, one feature)
    dtype = data.draw(FLOATS)
    batch = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4))
    n_in, n_out = data.draw(st.integers(0, 4)), data.draw(st.integers(0, 4))
    with_bias = data.draw(st.booleans())
    x = _values(data.draw, (*batch, n_in), dtype)
    w = _values(data.draw, (n_out, n_in), dtype)
    b = _values(data.draw, (n_out,), dtype) if with_bias else None
    out = F.linear(tg.tensor(x), tg.tensor(w), None if b is None else tg.tensor(b))
    expected = x @ w.T + (0 if b is None else b)
    assert out.dtype == dtype and out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-6)
    wrong = data.draw(st.integers(0, 5).filter(lambda k: k != n_in))
    w_bad = np.zeros((n_out, wrong), dtype)
    with pytest.raises(ValueError, match=_linear_message(x.shape, w_bad.shape)):
        F.linear(tg.tensor(x), tg.tensor(w_bad), None if b is None else tg.tensor(b))
    layer = tg.nn.Linear(wrong, n_out, bias=with_bias, dtype=dtype)
    with pytest.raises(ValueError, match=_linear_message(x.shape, (n_out, wrong))):
        layer(tg.tensor(x))


def test_linear_refuses_what_the_product_would_accept_silently() -> None:
    x, w = tg.ones(4, 3), tg.ones(2, 3)
    with pytest.raises(ValueError, match=_linear_message((), (2, 3))):
        F.linear(tg.tensor(2.0), w)  # a 0-d input would scale the weight
    with pytest.raises(ValueError, match=_linear_message((4, 3), (3,))):
        F.linear(x, tg.ones(3))  # a 1-D weight would give a (4,) output
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 3\) has 3 features in "
                                         r"its last dimension, but the weight of shape \(\) is "
                                         r"not \(out_features, in_features\)\. Check"):
        F.linear(x, tg.tensor(2.0))  # (this message used to fail with an IndexError)
    with pytest.raises(ValueError, match=_linear_message((4, 3), (1, 2, 3))):
        F.linear(x, tg.ones(1, 2, 3))


def test_linear_other_errors_keep_the_op_message() -> None:
    # a bias of the wrong length fails in the op: its message (not linear's) is kept
    with pytest.raises(ValueError, match=r"^Linear: .*broadcast.*\(inputs: \(4, 3\) float32, "
                                         r"\(2, 3\) float32, \(3,\) float32\)"):
        F.linear(tg.ones(4, 3), tg.ones(2, 3), tg.ones(3))


def test_linear_accepts_array_inputs_and_a_plain_attribute_weight() -> None:
    layer = tg.nn.Linear(3, 2)
    x = np.ones((4, 3), np.float32)
    ref = F.linear(tg.tensor(x), layer.weight, layer.bias)
    np.testing.assert_array_equal(F.linear(x, layer.weight, layer.bias).data, ref.data)
    np.testing.assert_array_equal(layer(x).data, ref.data)
    w = layer.weight.detach() * 2
    del layer.weight
    layer.weight = w  # no longer in _parameters: forward finds it as an attribute
    np.testing.assert_array_equal(layer(tg.tensor(x)).data,
                                  F.linear(tg.tensor(x), w, layer.bias).data)
    layer.register_parameter("bias", None)
    np.testing.assert_array_equal(layer(tg.tensor(x)).data, F.linear(tg.tensor(x), w).data)


# ------------------------------------------------------------------------- sum / mean
@given(data=st.data())
def test_full_sum_and_mean_equal_the_op_with_its_options_spelled_out(data) -> None:
    # x.sum() / x.mean() call the op without options (its defaults); the result, its dtype
    # and the gradients must be those of the op called with axis=None, keepdims=False
    from tinygrad_edu.ops import reduce as red

    dtype = data.draw(st.sampled_from([np.float32, np.float64, np.int64, np.bool_]))
    shape = data.draw(SHAPES)
    if dtype in (np.int64, np.bool_):
        x = data.draw(hnp.arrays(dtype, shape))
    else:
        x = _values(data.draw, shape, dtype)
    for method, op in (("sum", red.Sum), ("mean", red.Mean)):
        if dtype is np.bool_ and method == "mean":
            continue
        t = tg.tensor(x, requires_grad=dtype in (np.float32, np.float64))
        fast = getattr(t, method)()
        general = op.apply(t, axis=None, keepdims=False)
        assert fast.dtype == general.dtype and fast.shape == general.shape == ()
        np.testing.assert_array_equal(fast.data, general.data)
        assert fast.requires_grad == general.requires_grad
        if t.requires_grad:
            (g_fast,) = tg.grad(fast * 3, [t])
            (g_general,) = tg.grad(general * 3, [t])
            np.testing.assert_array_equal(g_fast.data, g_general.data)
    # any option given takes the general path, as before
    t = tg.tensor(np.arange(6.0).reshape(2, 3))
    assert t.sum(keepdims=True).shape == (1, 1) and t.mean(keepdim=True).shape == (1, 1)
    assert t.sum(dim=1).tolist() == [3.0, 12.0] and t.mean(axis=0).tolist() == [1.5, 2.5, 3.5]


def test_second_derivatives_through_the_fast_paths_equal_the_general_ones() -> None:
    rng = np.random.default_rng(3)
    x0, y0 = rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (4, 3))
    w0 = rng.uniform(-1, 1, (2, 3))

    def second(loss_of):
        x = tg.tensor(x0, requires_grad=True)
        w = tg.tensor(w0, requires_grad=True)
        (gx,) = tg.grad(loss_of(x, w), [x], create_graph=True)
        (gw,) = tg.grad((gx * gx).sum(), [w])
        return gx.data, gw.data

    fast = second(lambda x, w: F.mse_loss(F.linear(x, w).tanh(), tg.tensor(y0[:, :2]))
                  + (x * x).mean())
    general = second(lambda x, w: F.mse_loss(F.linear(x, w).tanh(), y0[:, :2],
                                             reduction="mean")
                     + (x * x).mean(axis=(0, 1)))  # an option given: the general path
    for a, b in zip(fast, general):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


class _ScalarOut(tg.Function):
    """Returns (and saves) a numpy scalar, as 0-d math does."""

    @staticmethod
    def forward(ctx, x, dtype=np.float32):
        out = dtype(x.sum())
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        assert isinstance(out, np.ndarray | tg.Tensor)  # the array made of the scalar
        return g * np.ones_like(x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.complex64, np.int64,
                                   np.bool_])
def test_a_numpy_scalar_output_becomes_the_array_numpy_makes_of_it(dtype) -> None:
    # a complex result of a tensor that requires grad is refused (test_engine_fastpaths)
    x = tg.tensor(np.array([1.0, 2.0]), requires_grad=np.dtype(dtype).kind != "c")
    out = _ScalarOut.apply(x, dtype=dtype)
    expected = np.asarray(dtype(3.0))
    assert type(out.data) is np.ndarray and out.shape == () and out.dtype == expected.dtype
    assert out.data == expected and out.data.flags.writeable
    if out.requires_grad:
        assert out.grad_fn.saved[1] is out.data  # the saved scalar is replaced by the output
    if dtype in (np.float32, np.float64, np.float16):
        out.backward()
        assert x.grad.tolist() == [1.0, 1.0]
    else:
        assert x.grad is None
