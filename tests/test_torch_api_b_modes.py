"""torch_math's in-place methods, inference_mode, set_printoptions and method forms, against
PyTorch 2.13 where it has an answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg

from .torch_api_b_oracle import against_torch, floats, small_shapes

INPLACE = {  # method -> input range
    "exp_": (-3, 3), "log_": (0.1, 5), "sqrt_": (0.1, 5), "neg_": (-3, 3), "abs_": (-3, 3),
    "sin_": (-3, 3), "cos_": (-3, 3), "tanh_": (-3, 3), "sigmoid_": (-3, 3), "relu_": (-3, 3),
    "rsqrt_": (0.1, 5),
}


def _apply_inplace(method: str, *args):
    """``(x * 1).method(*args)`` on a non-leaf: the in-place change is recorded."""

    def fn(x):
        y = x * 1.0
        out = getattr(y, method)(*args)
        assert out is y
        return y

    return fn


@pytest.mark.parametrize("method", sorted(INPLACE))
@settings(max_examples=10)
@given(data=st.data())
def test_inplace_unary_methods_match_torch(method, data):
    lo, hi = INPLACE[method]
    x = data.draw(floats(lo, hi, small_shapes(1, 2)))
    x = np.where(np.abs(x) < 1e-3, 0.5, x)  # away from relu's and abs's kink
    against_torch(_apply_inplace(method), _apply_inplace(method), [x])
    t = tg.tensor(x)  # nothing requires grad: a plain write into the same memory
    memory = t.data
    getattr(t, method)()
    assert t.data is memory
    assert np.allclose(memory, getattr(torch.tensor(x), method)().numpy())


def test_clip_inplace_matches_torch():
    x = np.array([-2.0, 0.5, 3.0])
    against_torch(_apply_inplace("clip_", -1.0, 1.0), _apply_inplace("clip_", -1.0, 1.0), [x])


def test_inplace_on_a_leaf_that_requires_grad_raises_like_pytorch():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="exp_: a leaf tensor that requires grad"):
        w.exp_()
    with tg.no_grad():
        w.exp_()
    assert np.allclose(w.detach().numpy(), np.exp([1.0, 2.0]))


def test_inplace_on_an_integer_tensor_names_the_dtype():
    with pytest.raises(TypeError, match="exp_: the result is float.* int64"):
        tg.tensor([1, 2]).exp_()
    assert tg.tensor([-1, 2]).abs_().tolist() == [1, 2]


def test_inplace_value_used_before_the_change_keeps_its_gradient():
    x = tg.tensor([0.5, 1.5], requires_grad=True)
    tx = torch.tensor([0.5, 1.5], requires_grad=True)
    for lib, leaf in ((tg, x), (torch, tx)):
        y = leaf * 2
        before = y + 1  # y's value before the change (Add saves nothing)
        y.exp_()
        (before.sum() + y.sum()).backward()
        del lib
    assert np.allclose(x.grad.numpy(), tx.grad.numpy())


# ----------------------------------------------------------------------------- modes
def test_inference_mode_as_context_and_decorator():
    w = tg.tensor([1.0], requires_grad=True)
    with tg.inference_mode():
        assert not (w * 2).requires_grad and not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.inference_mode()
    def called():
        return w * 2

    @tg.inference_mode
    def bare():
        return w * 2

    assert not called().requires_grad and not bare().requires_grad
    with tg.inference_mode(False):
        assert (w * 2).requires_grad
    with tg.no_grad(), tg.inference_mode(False):
        assert not (w * 2).requires_grad  # False leaves the mode as it was

    @tg.inference_mode(False)
    def still_recording():
        return w * 2

    assert still_recording().requires_grad


# ----------------------------------------------------------------------------- printing
@pytest.fixture
def _printoptions():
    yield
    tg.set_printoptions(profile="default")


@pytest.mark.usefixtures("_printoptions")
def test_set_printoptions_precision_and_sci_mode_print_like_pytorch():
    values = [1.0, 2 / 3]
    for kwargs in ({"precision": 2}, {"precision": 2, "sci_mode": True}, {"precision": 3}):
        tg.set_printoptions(**kwargs)
        torch.set_printoptions(**kwargs)
        try:
            assert repr(tg.tensor(values)) == repr(torch.tensor(values))
        finally:
            torch.set_printoptions(profile="default")


@pytest.mark.usefixtures("_printoptions")
def test_set_printoptions_threshold_edgeitems_linewidth_and_profiles():
    before = repr(tg.arange(300.0))
    assert "..." in before
    tg.set_printoptions(threshold=5, edgeitems=2)
    assert repr(tg.arange(10.0)) == "tensor([0., 1., ..., 8., 9.])"
    tg.set_printoptions(profile="full")
    assert "..." not in repr(tg.arange(300.0))
    tg.set_printoptions(linewidth=20)
    assert max(len(line) for line in repr(tg.arange(12.0)).splitlines()) <= 20
    tg.set_printoptions(sci_mode=False)
    assert "e-" not in repr(tg.tensor([1e-6, 1.0]))
    tg.set_printoptions(profile="default")
    assert repr(tg.arange(300.0)) == before
    with pytest.raises(ValueError, match="profile"):
        tg.set_printoptions(profile="long")


# ----------------------------------------------------------------------------- methods
METHODS = ["mm", "bmm", "dot", "outer", "addmm", "norm", "rsqrt", "fmod", "lerp", "logit",
           "isinf", "isclose", "allclose", "equal", "nan_to_num", "frac", "sgn", "inverse",
           "det", "logdet", "slogdet", "tan", "atan", "asin", "acos", "sinh", "cosh", "atan2",
           "arctan", "arcsin", "arccos", "arctan2", "log2", "log10", "exp2", "xlogy",
           "logical_and", "logical_or", "logical_xor", "floor_divide", "erfinv", "exp_", "sqrt_",
           "neg_", "abs_", "clip_", "clamp_", "pow_"]


@pytest.mark.parametrize("name", METHODS)
def test_pytorch_tensor_methods_exist(name):
    assert callable(getattr(tg.Tensor, name)) and hasattr(torch.Tensor, name)


def test_math_methods_keep_tensor_instances_slotted():
    assert tg.torch_math.MathMethods.__slots__ == ()
    assert "__dict__" in tg.Tensor.__slots__  # unchanged: Tensor's own layout
    names = {"mm", "bmm", "dot", "einsum", "linalg", "isclose", "set_printoptions", "pow"}
    assert names <= set(dir(tg))
    assert "pow" not in tg.__all__  # a star import must not shadow Python's pow
