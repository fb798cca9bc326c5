"""Edge cases that must never give a silent wrong answer (issue 12, items 2 and 5): hooks that
change a gradient's shape or dtype, 0/0 forms of derivatives that exist, empty tensors, and
bad dims or operands. PyTorch (float64) is the oracle for values and for the kind of error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.numpy_mode import as_numpy_tensor, tracing

# ---------------------------------------------------------------------------- hooks


def _leaf(x):
    return x


def _nonleaf(x):
    return x * 2


@pytest.mark.parametrize("make", [_leaf, _nonleaf], ids=["leaf", "non-leaf"])
def test_hook_changing_the_size_is_an_error_naming_the_hook(make):
    def f(g):
        return tg.ones(5)

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = make(x)
    y.register_hook(f)
    with pytest.raises(RuntimeError, match=r"hook 'f' has changed the size of value: expected "
                       r"\(2,\), got \(5,\)"):
        y.sum().backward()
    assert x.grad is None
    # PyTorch refuses it too
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = make(tx)
    ty.register_hook(lambda g: torch.ones(5))
    with pytest.raises(RuntimeError, match="changed the size"):
        ty.sum().backward()


@pytest.mark.parametrize("make", [_leaf, _nonleaf], ids=["leaf", "non-leaf"])
def test_hook_changing_the_dtype_is_an_error(make):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = make(x)
    y.register_hook(lambda g: g.long())
    with pytest.raises(RuntimeError, match=r"hook '<lambda>' has changed the type of value"):
        y.sum().backward()


def test_hook_returning_something_else_is_a_type_error():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: 5)
    with pytest.raises(TypeError, match=r"hook '<lambda>' returned int"):
        x.sum().backward()


# ---------------------------------------------------------------------------- 0/0 forms


def _grads_torch(fn, arrays, order):
    """First (order 1) or second (order 2, of the sum of the first) derivatives by torch."""
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*ts).sum()
    gs = torch.autograd.grad(out, ts, create_graph=order == 2, allow_unused=True)
    if order == 2:
        s = sum(g.sum() for g in gs if g is not None and g.requires_grad)
        if not torch.is_tensor(s) or not s.requires_grad:
            return [np.zeros_like(a) for a in arrays]
        gs = torch.autograd.grad(s, ts, allow_unused=True)
    return [np.zeros_like(a) if g is None else g.detach().numpy() for g, a in zip(gs, arrays)]


def _grads_ours(fn, arrays, order):
    ts = [tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*ts).sum()
    gs = tg.grad(out, ts, create_graph=order == 2, allow_unused=True)
    if order == 2:
        parts = [g.sum() for g in gs if g is not None and g.requires_grad]
        if not parts:
            return [np.zeros_like(a) for a in arrays]
        gs = tg.grad(sum(parts[1:], parts[0]), ts, allow_unused=True)
    return [np.zeros_like(a) if g is None else g.numpy() for g, a in zip(gs, arrays)]


def _same(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=what)


# values with exact zeros, many of them
_with_zeros = st.lists(
    st.one_of(st.just(0.0), st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 1e-3)),
    min_size=1,
    max_size=6,
).map(np.array)


@settings(max_examples=60, deadline=None)
@given(
    x=_with_zeros,
    exponent=st.sampled_from([0, 1, 2, 3, 0.0, 1.0, 2.0]),
    order=st.sampled_from([1, 2]),
)
def test_pow_with_a_number_exponent_matches_pytorch_at_zero(x, exponent, order):
    def fn(t):
        return t**exponent

    _same(_grads_ours(fn, [x], order)[0], _grads_torch(fn, [x], order)[0], f"x**{exponent}")


@settings(max_examples=60, deadline=None)
@given(
    base=st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), min_size=3, max_size=3),
    exponent=st.lists(st.sampled_from([0.0, 1.0, 2.0, 0.5, -1.0]), min_size=3, max_size=3),
)
def test_pow_with_a_tensor_exponent_matches_pytorch_at_zero(base, exponent):
    arrays = [np.array(base), np.array(exponent)]

    def fn(a, b):
        return a**b

    for ours, theirs, name in zip(_grads_ours(fn, arrays, 1), _grads_torch(fn, arrays, 1), "xy"):
        _same(ours, theirs, f"d(x**y)/d{name} at x={base}, y={exponent}")


def test_the_measured_0_over_0_forms():
    x = tg.tensor([0.0, 1.0], requires_grad=True)
    (x**0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    x = tg.tensor(0.0, requires_grad=True)
    (g,) = tg.grad(x**1, x, create_graph=True)
    (g2,) = tg.grad(g, x)
    assert float(g2) == 0.0
    for f in ("std", "var"):
        x = tg.tensor([2.0, 2.0, 2.0], requires_grad=True)
        getattr(x, f)().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0], f


_dims_kw = st.sampled_from(
    [{}, {"dim": 0}, {"dim": 1}, {"dim": -1, "keepdim": True}, {"dim": (0, 1)}]
)


@settings(max_examples=80, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    constant=st.booleans(),
    seed=st.integers(0, 2**16),
    kw=_dims_kw,
    correction=st.sampled_from([0, 1]),
    fname=st.sampled_from(["std", "var"]),
    order=st.sampled_from([1, 2]),
)
def test_std_and_var_match_pytorch_also_for_constants(
    shape, constant, seed, kw, correction, fname, order
):
    rng = np.random.default_rng(seed)
    if constant:  # a dyadic constant, so that PyTorch's own mean of it is exact too
        x = np.full(shape, rng.integers(-8, 8) / 4)
    else:
        x = rng.uniform(-2, 2, size=shape)
        x[rng.random(shape) < 0.3] = 0.0

    def fn(t):
        return getattr(t, fname)(correction=correction, **kw)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degrees of freedom <= 0: both warn, both give nan
        theirs = fn(torch.tensor(x)).numpy()
        ours = fn(tg.tensor(x)).numpy()
        _same(ours, theirs, f"{fname}{kw} value")
        _same(_grads_ours(fn, [x], order)[0], _grads_torch(fn, [x], order)[0],
              f"{fname}({kw}, correction={correction}) order {order} of {x}")


@pytest.mark.parametrize("fname", ["std", "var"])
def test_numpy_mode_std_of_a_constant_has_gradient_zero(fname):
    # 0.1 has no exact mean over 7 copies: without care the std is 1e-17 and its gradient O(1)
    x = as_numpy_tensor(np.full((2, 7), 0.1), requires_grad=True)
    with tracing():
        y = getattr(np, fname)(x, axis=1)  # numpy's ddof=0
    y.sum().backward()
    assert y.data.tolist() == [0.0, 0.0]
    assert x.grad.tolist() == [[0.0] * 7] * 2


def test_norm_of_zeros_has_gradient_zero_as_in_pytorch():
    x = as_numpy_tensor(np.array([0.0, 0.0, 3.0]), requires_grad=True)
    with tracing():
        y = np.linalg.norm(x[:2]) + np.linalg.norm(x)
    y.backward()
    t = torch.tensor([0.0, 0.0, 3.0], dtype=torch.float64, requires_grad=True)
    (torch.linalg.vector_norm(t[:2]) + torch.linalg.vector_norm(t)).backward()
    assert x.grad.tolist() == t.grad.tolist() == [0.0, 0.0, 1.0]


# ---------------------------------------------------------------------------- empty tensors
# every public reduction and softmax-like op of Tensor (the tg.* and nn.functional spellings
# call these methods), as (ours, PyTorch's, whether it takes a tuple of dims)
def _values(r):
    return r.values if hasattr(r, "values") and not torch.is_tensor(r) else r


TENSOR_REDUCTIONS = {
    "sum": (lambda t, **k: t.sum(**k), lambda t, **k: t.sum(**k), True),
    "mean": (lambda t, **k: t.mean(**k), lambda t, **k: t.mean(**k), True),
    "amax": (lambda t, **k: t.amax(**k), lambda t, **k: t.amax(**k), True),
    "amin": (lambda t, **k: t.amin(**k), lambda t, **k: t.amin(**k), True),
    "max": (lambda t, **k: _values(t.max(**k)), lambda t, **k: _values(t.max(**k)), False),
    "min": (lambda t, **k: _values(t.min(**k)), lambda t, **k: _values(t.min(**k)), False),
    "argmax": (lambda t, **k: t.argmax(**k), lambda t, **k: t.argmax(**k), False),
    "argmin": (lambda t, **k: t.argmin(**k), lambda t, **k: t.argmin(**k), False),
    "var": (lambda t, **k: t.var(**k), lambda t, **k: t.var(**k), True),
    "std": (lambda t, **k: t.std(**k), lambda t, **k: t.std(**k), True),
    "var_correction0": (
        lambda t, **k: t.var(correction=0, **k), lambda t, **k: t.var(correction=0, **k), True
    ),
    "logsumexp": (lambda t, **k: t.logsumexp(**k), lambda t, **k: t.logsumexp(**k), True),
    "tg.logsumexp": (lambda t, **k: tg.logsumexp(t, **k), lambda t, **k: t.logsumexp(**k), True),
    "softmax": (lambda t, **k: t.softmax(**k), lambda t, **k: t.softmax(**k), False),
    "log_softmax": (lambda t, **k: t.log_softmax(**k), lambda t, **k: t.log_softmax(**k), False),
    "F.softmax": (
        lambda t, **k: tg.nn.functional.softmax(t, **k),
        lambda t, **k: torch.nn.functional.softmax(t, **k),
        False,
    ),
    "F.log_softmax": (
        lambda t, **k: tg.nn.functional.log_softmax(t, **k),
        lambda t, **k: torch.nn.functional.log_softmax(t, **k),
        False,
    ),
    "any": (lambda t, **k: t.any(**k), lambda t, **k: t.any(**k), False),
    "all": (lambda t, **k: t.all(**k), lambda t, **k: t.all(**k), False),
}
_NEEDS_DIM = {"logsumexp", "tg.logsumexp", "softmax", "log_softmax", "F.softmax", "F.log_softmax"}
EMPTY_SHAPES = [(0,), (0, 3), (3, 0), (2, 0, 3)]


def _dim_cases(shape, tuples):
    cases = [{"dim": d} for d in range(len(shape))] + [{"dim": -1, "keepdim": True}]
    if tuples and len(shape) > 1:
        cases.append({"dim": (0, len(shape) - 1)})
    return cases


def _empty_cases():
    for name, (_, _, tuples) in TENSOR_REDUCTIONS.items():
        for shape in EMPTY_SHAPES:
            kws = _dim_cases(shape, tuples)
            if name in {"softmax", "log_softmax", "F.softmax", "F.log_softmax"}:
                kws = [{"dim": k["dim"]} for k in kws if isinstance(k["dim"], int)]
            elif name in _NEEDS_DIM:
                kws.append({"dim": tuple(range(len(shape)))})
            else:
                kws.append({})
            for kw in kws:
                yield pytest.param(name, shape, kw, id=f"{name}-{shape}-{kw}")


@pytest.mark.parametrize(("name", "shape", "kw"), list(_empty_cases()))
def test_reductions_of_empty_tensors_follow_pytorch(name, shape, kw):
    ours, theirs, _ = TENSOR_REDUCTIONS[name]
    tt = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    x = tg.zeros(*shape, dtype=np.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch and we warn about degrees of freedom <= 0
        try:
            expected = theirs(tt, **kw)
        except (IndexError, RuntimeError) as e:
            with pytest.raises(type(e)) as info:
                ours(x, **kw)
            message = str(info.value)
            op = name.split(".")[-1].split("_correction")[0]
            assert op in message and str(shape) in message, message
            assert "dim" in message and ("Reduce over" in message or "dims count" in message)
            return
        got = ours(x, **kw)
    assert got.shape == tuple(expected.shape), (got.shape, expected.shape)
    assert (got.dtype.kind == "b") == (expected.dtype == torch.bool)
    _same(got.numpy().astype(np.float64), expected.detach().double().numpy(), name)
    if expected.requires_grad:
        expected.sum().backward()
        got.sum().backward()
        assert x.grad is not None and x.grad.shape == shape and x.grad.dtype == np.float64
        _same(x.grad.numpy(), tt.grad.numpy(), f"{name} gradient")


@pytest.mark.parametrize("name", sorted(TENSOR_REDUCTIONS))
@pytest.mark.parametrize("dim", [0, -1])
def test_reductions_of_a_0d_tensor_over_dim_0_follow_pytorch(name, dim):
    ours, theirs, _ = TENSOR_REDUCTIONS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs(torch.tensor(3.0, dtype=torch.float64), dim=dim)
        got = ours(tg.tensor(3.0, dtype=np.float64), dim=dim)
    assert got.shape == ()
    _same(got.numpy().astype(np.float64), expected.double().numpy(), name)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                       r"\[-1, 0\], but got 1\)"):
        ours(tg.tensor(3.0), dim=1)


# numpy's reductions on NumpyTensor, with numpy itself as the oracle
NUMPY_REDUCTIONS = {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "cumsum": np.cumsum,
    "cumprod": np.cumprod, "max": np.max, "min": np.min, "amax": np.amax, "amin": np.amin,
    "argmax": np.argmax, "argmin": np.argmin, "std": np.std, "var": np.var, "ptp": np.ptp,
    "median": np.median, "average": np.average, "linalg.norm": np.linalg.norm, "any": np.any,
    "all": np.all, "nansum": np.nansum, "nanmean": np.nanmean, "nanmax": np.nanmax,
    "nanmin": np.nanmin,
}


@pytest.mark.parametrize("name", sorted(NUMPY_REDUCTIONS))
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0)])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_numpy_reductions_of_empty_arrays_follow_numpy(name, shape, axis):
    fn = NUMPY_REDUCTIONS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns about the mean of an empty slice
        try:
            expected = np.asarray(fn(np.zeros(shape), axis=axis))
        except ZeroDivisionError:  # np.average's own count division: we give mean's answer
            expected = np.asarray(np.mean(np.zeros(shape), axis=axis))
        except (ValueError, IndexError) as e:
            x = as_numpy_tensor(np.zeros(shape), requires_grad=True)
            with pytest.raises(type(e)), tracing():
                fn(x, axis=axis)
            return
        x = as_numpy_tensor(np.zeros(shape), requires_grad=True)
        with tracing():
            got = fn(x, axis=axis)
    data = got.data if isinstance(got, tg.Tensor) else np.asarray(got)
    assert data.shape == expected.shape and data.dtype.kind == expected.dtype.kind
    _same(data.astype(np.float64), expected.astype(np.float64), name)
    if isinstance(got, tg.Tensor) and got.requires_grad:
        got.sum().backward()
        assert x.grad is not None and x.grad.shape == shape


# ---------------------------------------------------------------------------- unclear crashes
BAD_DIMS = [
    ("var", lambda m: m.tensor(3.0).var(dim=1)),
    ("std", lambda m: m.tensor(3.0).std(dim=-2)),
    ("transpose", lambda m: m.ones(2, 3).transpose(0, 5)),
    ("permute", lambda m: m.ones(2, 3).permute(0, 5)),
    ("flatten", lambda m: m.ones(2, 3).flatten(0, 5)),
    ("squeeze", lambda m: m.ones(2, 3).squeeze(5)),
    ("unsqueeze", lambda m: m.ones(2, 3).unsqueeze(4)),
    ("size", lambda m: m.ones(2, 3).size(5)),
    ("split", lambda m: m.ones(2, 3).split(1, dim=5)),
    ("chunk", lambda m: m.ones(2, 3).chunk(2, dim=-3)),
    ("sum", lambda m: m.ones(2, 3).sum(dim=(0, 2))),
    ("softmax", lambda m: m.ones(2, 3).softmax(dim=2)),
    ("argmax", lambda m: m.ones(2, 3).argmax(dim=2)),
    ("any", lambda m: m.ones(2, 3).any(dim=2)),
    ("cat", lambda m: m.cat([m.ones(2, 3)], dim=2)),
    ("stack", lambda m: m.stack([m.ones(2, 3)], dim=4)),
    ("Unflatten", lambda m: m.nn.Unflatten(3, (1, 3))(m.ones(2, 3))),
]


@pytest.mark.parametrize(("op", "call"), BAD_DIMS, ids=[b[0] for b in BAD_DIMS])
def test_a_dim_out_of_range_is_an_index_error_naming_the_op_as_in_pytorch(op, call):
    with pytest.raises(IndexError) as theirs:
        call(torch)
    with pytest.raises(IndexError) as ours:
        call(tg)
    assert str(ours.value).startswith(f"{op}: ")
    assert str(theirs.value) in str(ours.value)  # PyTorch's words, with the op and the shape


@pytest.mark.parametrize("axis", [5, (0, -5)])
def test_numpy_expand_dims_out_of_range_is_numpys_axis_error(axis):
    with pytest.raises(np.exceptions.AxisError):
        np.expand_dims(np.ones((2, 3)), axis)
    with pytest.raises(np.exceptions.AxisError, match="expand_dims: Dimension out of range"):
        np.expand_dims(as_numpy_tensor(np.ones((2, 3))), axis)


@pytest.mark.parametrize(
    "call",
    [lambda m: m.ones(2, 3).sum(dim=(1, -1)), lambda m: m.ones(2, 3).permute(1, 1)],
    ids=["sum", "permute"],
)
def test_a_dim_listed_twice_is_a_runtime_error(call):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        call(tg)


def test_var_and_std_over_dim_0_of_a_0d_tensor_are_nan_as_in_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in ("var", "std"):
            assert torch.isnan(getattr(torch.tensor(3.0), f)(dim=0))
            assert np.isnan(float(getattr(tg.tensor(3.0), f)(dim=0)))


@pytest.mark.parametrize(
    "call",
    [lambda m: m.ones(2, 3) @ m.tensor(5.0), lambda m: m.tensor(5.0) @ m.ones(3)],
    ids=["matrix@scalar", "scalar@vector"],
)
def test_matmul_with_a_0d_operand_says_both_need_1d(call):
    with pytest.raises(RuntimeError, match="both arguments to matmul need to be at least 1D"):
        call(torch)
    with pytest.raises(ValueError, match=r"MatMul: both arguments to matmul need to be at least "
                       r"1D, but they are (2D and 0D|0D and 1D).*use \*"):
        call(tg)


def test_matmul_with_a_python_number_is_a_clear_error():
    for call in (lambda: tg.ones(2, 3) @ 5, lambda: 5 @ tg.ones(2, 3)):
        with pytest.raises(ValueError, match=r"at least 1D.*\(2, 3\).*use \* to multiply"):
            call()


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("lt", lambda a, b: a < b), ("le", lambda a, b: a <= b), ("gt", lambda a, b: a > b),
        ("ge", lambda a, b: a >= b), ("eq", lambda a, b: a == b), ("ne", lambda a, b: a != b),
        ("logical_and", lambda a, b: (a > 0) & (b > 0)),
        ("logical_or", lambda a, b: (a > 0) | (b > 0)),
    ],
)
def test_comparisons_with_shapes_that_do_not_broadcast_name_the_op_and_shapes(name, call):
    with pytest.raises(RuntimeError, match="must match the size"):
        call(torch.ones(2, 3), torch.ones(4))
    with pytest.raises(ValueError, match=rf"^{name}: .*\(2, 3\).*\(4,\).*broadcast"):
        call(tg.ones(2, 3), tg.ones(4))


def _zeros_like(m, x):
    return m.zeros(x.shape, dtype=x.dtype)


LOSSES = {  # (f, m, x, reduction): f is the functional module, m the library
    "mse_loss": lambda f, m, x, r: f.mse_loss(x, _zeros_like(m, x), reduction=r),
    "l1_loss": lambda f, m, x, r: f.l1_loss(x, _zeros_like(m, x), reduction=r),
    "huber_loss": lambda f, m, x, r: f.huber_loss(x, _zeros_like(m, x), reduction=r),
    "smooth_l1_loss": lambda f, m, x, r: f.smooth_l1_loss(x, _zeros_like(m, x), reduction=r),
    "binary_cross_entropy": lambda f, m, x, r: f.binary_cross_entropy(
        x.sigmoid(), _zeros_like(m, x), reduction=r),
    "binary_cross_entropy_with_logits": lambda f, m, x, r: f.binary_cross_entropy_with_logits(
        x, _zeros_like(m, x), reduction=r),
    "cross_entropy": lambda f, m, x, r: f.cross_entropy(
        x, m.zeros(0, dtype=m.int64), reduction=r),
    "cross_entropy_smoothed": lambda f, m, x, r: f.cross_entropy(
        x, m.zeros(0, dtype=m.int64), label_smoothing=0.1, reduction=r),
    "cross_entropy_probabilities": lambda f, m, x, r: f.cross_entropy(
        x, _zeros_like(m, x), reduction=r),
    "nll_loss": lambda f, m, x, r: f.nll_loss(x, m.zeros(0, dtype=m.int64), reduction=r),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_over_an_empty_batch_follow_pytorch(name, reduction):
    """The mean over no samples is nan in PyTorch (not 0); the sum is 0; 'none' is empty."""
    tt = torch.zeros(0, 3, dtype=torch.float64, requires_grad=True)
    x = tg.zeros(0, 3, dtype=np.float64, requires_grad=True)
    expected = LOSSES[name](torch.nn.functional, torch, tt, reduction)
    got = LOSSES[name](tg.nn.functional, tg, x, reduction)
    assert got.shape == tuple(expected.shape)
    _same(got.numpy(), expected.detach().numpy(), name)
    got.sum().backward()
    assert x.grad is not None and x.grad.shape == (0, 3)
