"""The one declarative table of differentiable ops that drives tests/test_ops.py.

Each row says how to draw inputs (shapes and values, already shifted into the op's domain and
away from its kinks), how to call the op here and in PyTorch, and whether it is smooth enough
for a second-derivative check. Adding an op means adding a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F

Case = tuple[list[np.ndarray], dict]


@dataclass
class OpSpec:
    name: str
    cases: st.SearchStrategy  # draws (arrays, kwargs)
    ours: Callable
    theirs: Callable | None  # PyTorch on torch tensors, same kwargs
    smooth: bool = True  # second derivatives are checked
    tags: set = field(default_factory=set)


def values(shape: tuple, lo: float = -2.0, hi: float = 2.0) -> st.SearchStrategy:
    return hnp.arrays(
        np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    )


def away_from(x: np.ndarray, points: tuple = (0.0,), margin: float = 0.05) -> np.ndarray:
    """Push values that sit within ``margin`` of a kink out to ``margin`` (keeps the sign)."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        d = x - p
        close = np.abs(d) < margin
        x = np.where(close, p + np.where(d >= 0, margin, -margin), x)
    return x


def distinct(x: np.ndarray, gap: float = 1e-3) -> np.ndarray:
    """Make values distinct (no ties at a max) by adding a small ramp in a shuffled order."""
    flat = x.ravel()
    ramp = np.argsort(np.argsort(flat, kind="stable"), kind="stable") * gap
    return (flat + ramp).reshape(x.shape)


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
nonscalar_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@st.composite
def unary(draw, lo=-2.0, hi=2.0, transform=None, shape_strategy=shapes, **kwargs) -> Case:
    x = draw(values(draw(shape_strategy), lo, hi))
    return [transform(x) if transform else x], dict(kwargs)


@st.composite
def binary(draw, lo=-2.0, hi=2.0, transform=None) -> Case:
    bshapes = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
    )
    a = draw(values(bshapes.input_shapes[0], lo, hi))
    b = draw(values(bshapes.input_shapes[1], lo, hi))
    if transform:
        a, b = transform(a, b)
    return [a, b], {}


@st.composite
def reduction(draw, transform=None, allow_tuple=True, allow_none=True) -> Case:
    shape = draw(nonscalar_shapes)
    x = draw(values(shape))
    nd = len(shape)
    options = [st.integers(-nd, nd - 1)]
    if allow_none:
        options.append(st.none())
    if allow_tuple and nd > 1:
        options.append(
            st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)
        )
    axis = draw(st.one_of(*options))
    return [transform(x) if transform else x], {"axis": axis, "keepdims": draw(st.booleans())}


@st.composite
def matmul_case(draw) -> Case:
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    kind = draw(st.sampled_from(["vv", "vm", "mv", "mm", "batched", "broadcast"]))
    shapes_ = {
        "vv": ((k,), (k,)),
        "vm": ((k,), (*batch, k, m)),
        "mv": ((*batch, n, k), (k,)),
        "mm": ((n, k), (k, m)),
        "batched": ((*batch, n, k), (*batch, k, m)),
        "broadcast": ((n, k), (*batch, k, m)) if draw(st.booleans()) else ((*batch, n, k), (k, m)),
    }[kind]
    return [draw(values(s)) for s in shapes_], {}


@st.composite
def getitem_case(draw) -> Case:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    x = draw(values(shape))
    kind = draw(st.sampled_from(["basic", "int_array", "bool_mask", "mixed"]))
    if kind == "basic":
        index = draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "int_array":  # repeated indices must accumulate
        index = np.array(
            draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6))
        )
    elif kind == "bool_mask":
        index = draw(hnp.arrays(np.bool_, shape[:1]))
    else:
        rows = np.array(draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=4)))
        index = (rows, slice(None)) if len(shape) > 1 else (rows,)
    return [x], {"index": index}


@st.composite
def cat_case(draw) -> Case:
    shape = draw(nonscalar_shapes)
    axis = draw(st.integers(0, len(shape) - 1))
    count = draw(st.integers(1, 3))
    arrays = []
    for _ in range(count):
        s = list(shape)
        s[axis] = draw(st.integers(1, 3))
        arrays.append(draw(values(tuple(s))))
    return arrays, {"axis": axis}


@st.composite
def stack_case(draw) -> Case:
    shape = draw(shapes)
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-(len(shape) + 1), len(shape)))
    return [draw(values(shape)) for _ in range(count)], {"axis": axis}


@st.composite
def split_case(draw) -> Case:
    shape = draw(nonscalar_shapes)
    axis = draw(st.integers(0, len(shape) - 1))
    piece = draw(st.integers(0, 2))
    size = draw(st.integers(1, shape[axis]))
    return [draw(values(shape))], {"size": size, "axis": axis, "piece": piece}


@st.composite
def reshape_case(draw) -> Case:
    shape = draw(shapes)
    x = draw(values(shape))
    size = int(np.prod(shape))
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    first = draw(st.sampled_from(divisors))
    target = draw(st.sampled_from([(size,), (first, -1), (-1, first, 1), (1, size)]))
    return [x], {"shape": target}


@st.composite
def permute_case(draw) -> Case:
    shape = draw(nonscalar_shapes)
    return [draw(values(shape))], {"dims": tuple(draw(st.permutations(range(len(shape)))))}


@st.composite
def expand_case(draw) -> Case:
    shape = draw(shapes)
    target_tail = tuple(
        draw(st.integers(2, 3)) if s == 1 and draw(st.booleans()) else s for s in shape
    )
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return [draw(values(shape))], {"shape": lead + target_tail}


@st.composite
def pad_case(draw) -> Case:
    shape = draw(nonscalar_shapes)
    widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    return [draw(values(shape))], {"pad_width": widths, "value": draw(st.floats(-1, 1))}


@st.composite
def conv_case(draw) -> Case:
    groups = draw(st.integers(1, 2))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    h = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0]), 6))
    w = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1]), 6))
    n = draw(st.integers(1, 2))
    x = draw(values((n, groups * cg, h, w)))
    weight = draw(values((groups * og, cg, kh, kw)))
    bias = draw(values((groups * og,)))
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return [x, weight, bias], kwargs


@st.composite
def pool_case(draw, with_padding=True) -> Case:
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (
        (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
        if with_padding
        else (0, 0)
    )
    h, w = draw(st.integers(k[0], 6)), draw(st.integers(k[1], 6))
    x = distinct(draw(values((draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w))))
    return [x], {"kernel_size": k, "stride": stride, "padding": padding}


@st.composite
def mse_case(draw) -> Case:
    shape = draw(shapes)
    return [draw(values(shape)), draw(values(shape))], {
        "reduction": draw(st.sampled_from(["mean", "sum", "none"]))
    }


@st.composite
def cross_entropy_case(draw, probabilities=False) -> Case:
    """Logits of shape (C,), (N, C) or (N, C, d) and class indices (a kwarg: no gradient) or
    class probabilities (a second input), with weight, ignore_index, label smoothing and the
    reduction drawn too."""
    c, n, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    layout = draw(st.sampled_from(["C", "NC", "NC", "NCd"]))
    shape = {"C": (c,), "NC": (n, c), "NCd": (n, c, d)}[layout]
    kwargs = {
        "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
        "label_smoothing": draw(st.sampled_from([0.0, 0.0, 0.2])),
        "weight": draw(st.none() | values((c,), 0.5, 2.0)),
    }
    logits = draw(values(shape, -3.0, 3.0))
    if probabilities:
        p = draw(values(shape, 0.05, 1.0))
        return [logits, p / p.sum(axis=0 if layout == "C" else 1, keepdims=True)], kwargs
    index_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    target = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, c - 1)))
    if target.size > 1 and draw(st.booleans()):  # the first target ignored, the last counted
        target.reshape(-1)[0] = -100
    return [logits], {**kwargs, "target": target, "ignore_index": -100}


def _cross_entropy(lib: str):
    """F.cross_entropy of either library; array kwargs become that library's tensors."""

    def fn(x, p=None, *, target=None, weight=None, **kw):
        if lib == "tg":
            t = tg.tensor(target) if p is None else p
            w = None if weight is None else tg.tensor(weight)
            return F.cross_entropy(x, t, weight=w, **kw)
        t = torch.from_numpy(target) if p is None else p
        w = None if weight is None else torch.from_numpy(weight)
        return TF.cross_entropy(x, t, weight=w, **kw)

    return fn


def _positive(x: np.ndarray) -> np.ndarray:
    return np.abs(x) + 0.3


def _split_piece(t, size, axis, piece, lib):
    parts = t.split(size, axis) if lib == "tg" else torch.split(t, size, axis)
    return parts[min(piece, len(parts) - 1)]


def _torch_getitem(x, index):
    """PyTorch has no negative-step slices: gather the same elements by flat position."""
    positions = np.arange(x.numel()).reshape(tuple(x.shape))[index]
    flat = torch.as_tensor(np.ascontiguousarray(positions.reshape(-1)))
    return x.reshape(-1)[flat].reshape(positions.shape)


def _reduces_several(case: Case) -> bool:
    """The reduction averages over more than one element (a std of one value has a kink)."""
    (x,), kw = case
    axis = kw["axis"]
    axes = range(x.ndim) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    return int(np.prod([x.shape[a] for a in axes])) > 1


def _torch_reduce(name: str) -> Callable:
    def fn(x, axis, keepdims, **kw):
        if axis is None:
            out = getattr(torch, name)(x, **kw)
            return out.reshape((1,) * x.ndim) if keepdims else out
        return getattr(torch, name)(x, dim=axis, keepdim=keepdims, **kw)

    return fn


def _bounded_pair(lo_gap: float):
    def transform(a, b):
        a = np.array(a)
        b = np.array(b)
        d = a - b  # keep the two inputs apart so max/min have no ties (kinks)
        b = np.where(np.abs(d) < lo_gap, b - lo_gap * np.where(d >= 0, 1, -1), b)
        return a, b

    return transform


OPS: list[OpSpec] = [
    # arithmetic
    OpSpec("add", binary(), lambda a, b: a + b, lambda a, b: a + b),
    OpSpec("sub", binary(), lambda a, b: a - b, lambda a, b: a - b),
    OpSpec("mul", binary(), lambda a, b: a * b, lambda a, b: a * b),
    OpSpec(
        "div",
        binary(transform=lambda a, b: (a, away_from(b, (0.0,), 0.3))),
        lambda a, b: a / b,
        lambda a, b: a / b,
    ),
    OpSpec("pow_scalar", unary(transform=_positive), lambda x: x**2.5, lambda x: x**2.5),
    OpSpec("pow_int", unary(), lambda x: x**3, lambda x: x**3),
    OpSpec(
        "pow_tensor",
        binary(transform=lambda a, b: (_positive(a), b)),
        lambda a, b: a**b,
        lambda a, b: a**b,
    ),
    OpSpec("rsub_scalar", unary(), lambda x: 2.0 - x, lambda x: 2.0 - x),
    OpSpec("rdiv_scalar", unary(transform=_positive), lambda x: 1.5 / x, lambda x: 1.5 / x),
    OpSpec("rpow_scalar", unary(), lambda x: 2.0**x, lambda x: 2.0**x),
    OpSpec("neg", unary(), lambda x: -x, lambda x: -x),
    OpSpec("square", unary(), lambda x: x.square(), torch.square),
    OpSpec(
        "reciprocal",
        unary(transform=lambda x: away_from(x, (0.0,), 0.3)),
        lambda x: x.reciprocal(),
        torch.reciprocal,
    ),
    # unary math
    OpSpec("exp", unary(), lambda x: x.exp(), torch.exp),
    OpSpec("log", unary(transform=_positive), lambda x: x.log(), torch.log),
    OpSpec("sqrt", unary(transform=_positive), lambda x: x.sqrt(), torch.sqrt),
    OpSpec("log1p", unary(lo=-0.7), lambda x: x.log1p(), torch.log1p),
    OpSpec("expm1", unary(), lambda x: x.expm1(), torch.expm1),
    OpSpec("abs", unary(transform=away_from), lambda x: x.abs(), torch.abs, smooth=False),
    OpSpec("sin", unary(), lambda x: x.sin(), torch.sin),
    OpSpec("cos", unary(), lambda x: x.cos(), torch.cos),
    OpSpec("tanh", unary(), lambda x: x.tanh(), torch.tanh),
    OpSpec("sigmoid", unary(lo=-8, hi=8), lambda x: x.sigmoid(), torch.sigmoid),
    OpSpec("relu", unary(transform=away_from), lambda x: x.relu(), torch.relu, smooth=False),
    OpSpec(
        "leaky_relu",
        unary(transform=away_from, negative_slope=0.1),
        lambda x, negative_slope: x.leaky_relu(negative_slope),
        lambda x, negative_slope: TF.leaky_relu(x, negative_slope),
        smooth=False,
    ),
    OpSpec(
        "elu",
        unary(transform=away_from, alpha=0.7),
        lambda x, alpha: x.elu(alpha),
        lambda x, alpha: TF.elu(x, alpha),
        smooth=False,
    ),
    OpSpec("gelu", unary(lo=-4, hi=4), lambda x: x.gelu(), TF.gelu),
    OpSpec(
        "gelu_tanh",
        unary(lo=-4, hi=4),
        lambda x: x.gelu("tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
    ),
    OpSpec("erf", unary(), lambda x: x.erf(), torch.erf),
    OpSpec(
        "softplus",
        unary(
            lo=-30, hi=30, transform=lambda x: away_from(x, (10.0,), 0.1), beta=2.0, threshold=20.0
        ),
        lambda x, beta, threshold: x.softplus(beta, threshold),
        lambda x, beta, threshold: TF.softplus(x, beta, threshold),
        smooth=False,
    ),
    OpSpec(
        "clamp",
        unary(transform=lambda x: away_from(x, (-0.5, 1.0)), min=-0.5, max=1.0),
        lambda x, min, max: x.clamp(min, max),
        lambda x, min, max: torch.clamp(x, min, max),
        smooth=False,
    ),
    OpSpec(
        "maximum",
        binary(transform=_bounded_pair(0.05)),
        lambda a, b: tg.maximum(a, b),
        torch.maximum,
        smooth=False,
    ),
    OpSpec(
        "minimum",
        binary(transform=_bounded_pair(0.05)),
        lambda a, b: tg.minimum(a, b),
        torch.minimum,
        smooth=False,
    ),
    OpSpec(
        "where",
        binary(transform=lambda a, b: (away_from(a), b)),
        lambda a, b: tg.where(a > 0, a, b),
        lambda a, b: torch.where(a > 0, a, b),
        smooth=False,
    ),
    OpSpec("clone", unary(), lambda x: x.clone() * 2, lambda x: x.clone() * 2),
    # reductions
    OpSpec(
        "sum", reduction(), lambda x, axis, keepdims: x.sum(axis, keepdims), _torch_reduce("sum")
    ),
    OpSpec(
        "mean", reduction(), lambda x, axis, keepdims: x.mean(axis, keepdims), _torch_reduce("mean")
    ),
    OpSpec(
        "amax",
        reduction(transform=distinct),
        lambda x, axis, keepdims: x.amax(axis, keepdims),
        _torch_reduce("amax"),
        smooth=False,
    ),
    OpSpec(
        "amin",
        reduction(transform=distinct),
        lambda x, axis, keepdims: x.amin(axis, keepdims),
        _torch_reduce("amin"),
        smooth=False,
    ),
    OpSpec(
        "max_dim",
        reduction(transform=distinct, allow_tuple=False, allow_none=False),
        lambda x, axis, keepdims: x.max(axis, keepdims).values,
        lambda x, axis, keepdims: torch.max(x, dim=axis, keepdim=keepdims).values,
        smooth=False,
    ),
    OpSpec(
        "min_dim",
        reduction(transform=distinct, allow_tuple=False, allow_none=False),
        lambda x, axis, keepdims: x.min(axis, keepdims).values,
        lambda x, axis, keepdims: torch.min(x, dim=axis, keepdim=keepdims).values,
        smooth=False,
    ),
    OpSpec(
        "var",
        reduction(transform=distinct),
        lambda x, axis, keepdims: x.var(axis, keepdims=keepdims, correction=0),
        lambda x, axis, keepdims: torch.var(x, dim=axis, keepdim=keepdims, correction=0),
    ),
    OpSpec(
        "std",
        reduction(transform=distinct).filter(_reduces_several),
        lambda x, axis, keepdims: x.std(axis, keepdims=keepdims, correction=0),
        lambda x, axis, keepdims: torch.std(x, dim=axis, keepdim=keepdims, correction=0),
    ),
    OpSpec(  # PyTorch's default correction=1, through the dim/keepdim keywords
        "var_unbiased",
        reduction(transform=distinct).filter(_reduces_several),
        lambda x, axis, keepdims: x.var(dim=axis, keepdim=keepdims),
        _torch_reduce("var"),
    ),
    OpSpec(
        "std_unbiased",
        reduction(transform=distinct).filter(_reduces_several),
        lambda x, axis, keepdims: x.std(dim=axis, keepdim=keepdims),
        _torch_reduce("std"),
    ),
    OpSpec(
        "logsumexp",
        reduction(),
        lambda x, axis, keepdims: x.logsumexp(axis, keepdims),
        lambda x, axis, keepdims: torch.logsumexp(
            x, dim=tuple(range(x.ndim)) if axis is None else axis, keepdim=keepdims
        ),
    ),
    OpSpec(
        "softmax",
        reduction(allow_tuple=False, allow_none=False),
        lambda x, axis, keepdims: x.softmax(axis),
        lambda x, axis, keepdims: torch.softmax(x, dim=axis),
    ),
    OpSpec(
        "log_softmax",
        reduction(allow_tuple=False, allow_none=False),
        lambda x, axis, keepdims: x.log_softmax(axis),
        lambda x, axis, keepdims: torch.log_softmax(x, dim=axis),
    ),
    # linear algebra
    OpSpec("matmul", matmul_case(), lambda a, b: a @ b, lambda a, b: a @ b),
    # movement
    OpSpec(
        "reshape",
        reshape_case(),
        lambda x, shape: x.reshape(shape),
        lambda x, shape: x.reshape(shape),
    ),
    OpSpec(
        "permute", permute_case(), lambda x, dims: x.permute(dims), lambda x, dims: x.permute(dims)
    ),
    OpSpec(
        "transpose",
        permute_case(),
        lambda x, dims: x.transpose(0, -1),
        lambda x, dims: x.transpose(0, -1),
    ),
    OpSpec(
        "expand", expand_case(), lambda x, shape: x.expand(shape), lambda x, shape: x.expand(shape)
    ),
    OpSpec("squeeze", unary(), lambda x: x.squeeze(), lambda x: x.squeeze()),
    OpSpec(
        "unsqueeze", unary(dim=0), lambda x, dim: x.unsqueeze(dim), lambda x, dim: x.unsqueeze(dim)
    ),
    OpSpec(
        "flatten",
        unary(shape_strategy=nonscalar_shapes),
        lambda x: x.flatten(),
        lambda x: x.flatten(),
    ),
    OpSpec("getitem", getitem_case(), lambda x, index: x[index], _torch_getitem),
    OpSpec(
        "cat",
        cat_case(),
        lambda *xs, axis: tg.cat(xs, axis=axis),
        lambda *xs, axis: torch.cat(xs, dim=axis),
    ),
    OpSpec(
        "stack",
        stack_case(),
        lambda *xs, axis: tg.stack(xs, axis=axis),
        lambda *xs, axis: torch.stack(xs, dim=axis),
    ),
    OpSpec(
        "split",
        split_case(),
        lambda x, size, axis, piece: _split_piece(x, size, axis, piece, "tg"),
        lambda x, size, axis, piece: _split_piece(x, size, axis, piece, "torch"),
    ),
    OpSpec(
        "pad",
        pad_case(),
        lambda x, pad_width, value: x.pad(pad_width, value),
        lambda x, pad_width, value: TF.pad(
            x, [w for pair in reversed(pad_width) for w in pair], value=value
        ),
    ),
    # losses: single primitives (MSELoss, CrossEntropyLoss in tinygrad_edu.nn._functions)
    OpSpec(
        "mse_loss",
        mse_case(),
        lambda x, y, reduction: F.mse_loss(x, y, reduction=reduction),
        lambda x, y, reduction: TF.mse_loss(x, y, reduction=reduction),
    ),
    OpSpec("cross_entropy", cross_entropy_case(), _cross_entropy("tg"), _cross_entropy("torch")),
    OpSpec(
        "cross_entropy_probs",
        cross_entropy_case(probabilities=True),
        _cross_entropy("tg"),
        _cross_entropy("torch"),
    ),
    # convolution and pooling
    OpSpec("conv2d", conv_case(), tg.conv2d, TF.conv2d),
    OpSpec("max_pool2d", pool_case(), tg.max_pool2d, TF.max_pool2d, smooth=False),
    OpSpec("avg_pool2d", pool_case(), tg.avg_pool2d, TF.avg_pool2d),
]

OPS_BY_NAME = {op.name: op for op in OPS}
