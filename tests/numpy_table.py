"""The op table of numpy code: every numpy function, method and in-place form a learner writes,
as one row each. A row's function is called unchanged on plain arrays (numpy itself: the
reference values, and the function that central differences differentiate) and on
NumpyTensors (tinygrad_edu's autograd). tests/test_numpy_mode.py drives it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .op_table import (
    _bounded_pair,
    _reduces_several,
    away_from,
    binary,
    distinct,
    reduction,
    unary,
    values,
)


@dataclass
class NpSpec:
    name: str
    cases: st.SearchStrategy  # draws (arrays, kwargs)
    fn: Callable  # numpy code: the same call on ndarrays and on NumpyTensors
    smooth: bool = True  # second derivatives are checked


def _positive(x):
    return np.abs(x) + 0.3


def _inside(lo, hi):
    return lambda x: np.clip(x, lo, hi)


mats = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=4)
any_shape = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@st.composite
def matrix(draw, square=False, min_side=1) -> tuple:
    n = draw(st.integers(min_side, 4))
    m = n if square else draw(st.integers(min_side, 4))
    return [draw(values((n, m)))], {}


@st.composite
def two_matrices(draw) -> tuple:
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    return [draw(values((n, k))), draw(values((k, m)))], {}


@st.composite
def same_shape_pair(draw, shapes=any_shape) -> tuple:
    s = draw(shapes)
    return [draw(values(s)), draw(values(s))], {}


@st.composite
def with_axis(draw, shapes=any_shape, transform=None, **extra) -> tuple:
    s = draw(shapes)
    x = draw(values(s))
    kw = {"axis": draw(st.integers(-len(s), len(s) - 1))}
    for k, strategy in extra.items():
        kw[k] = draw(strategy)
    return [transform(x) if transform else x], kw


@st.composite
def dot_case(draw) -> tuple:
    nd_a, nd_b = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    k = draw(st.integers(1, 3))
    a = (*(draw(st.integers(1, 3)) for _ in range(max(nd_a - 1, 0))), *((k,) if nd_a else ()))
    if nd_b >= 2:
        b = (*(draw(st.integers(1, 3)) for _ in range(nd_b - 2)), k, draw(st.integers(1, 3)))
    else:
        b = (k,) if nd_b == 1 else ()
    return [draw(values(a)), draw(values(b))], {}


@st.composite
def tensordot_case(draw) -> tuple:
    k1, k2 = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    form = draw(st.sampled_from(["int", "pairs"]))
    if form == "int":
        return [draw(values((n, k1, k2))), draw(values((k1, k2, m)))], {"axes": 2}
    return [draw(values((k1, n, k2))), draw(values((k2, m, k1)))], {"axes": ([0, 2], [2, 0])}


@st.composite
def einsum_case(draw) -> tuple:
    spec = draw(st.sampled_from([
        "ij,jk->ik", "ij,ij->i", "i,i->", "ij->", "ij->ji", "ii->", "ii->i", "bij,bjk->bik",
        "...ij,...jk->...ik", "ij,kj", "i,j->ij", "ij,j->i", "iij->j",
    ]))
    sizes = {c: draw(st.integers(1, 3)) for c in "ijkb"}
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    shapes = []
    for term in spec.split("->")[0].split(","):
        shape = batch if term.startswith("...") else ()
        shapes.append(shape + tuple(sizes[c] for c in term.replace("...", "")))
    return [draw(values(s)) for s in shapes], {"spec": spec}


@st.composite
def cross_case(draw) -> tuple:
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    da, db = draw(st.sampled_from([(3, 3), (2, 3), (3, 2), (2, 2)]))
    return [draw(values((*batch, da))), draw(values((*batch, db)))], {}


@st.composite
def split_case(draw, fn: str) -> tuple:
    nd = {"hsplit": 2, "vsplit": 2, "dsplit": 3}.get(fn, 1)
    shape = tuple(draw(st.integers(1, 4)) for _ in range(draw(st.integers(nd, 3))))
    axis = {"hsplit": 1, "vsplit": 0, "dsplit": 2}.get(fn, 0)
    n = shape[axis]
    sections = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    if fn == "array_split":
        sections = draw(st.integers(1, 4))
    return [draw(values(shape))], {"sections": sections}


@st.composite
def gradient_case(draw) -> tuple:
    n = draw(st.integers(3, 6))
    x = draw(values((n, draw(st.integers(3, 4)))))
    spacing = draw(st.sampled_from(["unit", "scalar", "coords"]))
    kw = {"edge_order": draw(st.sampled_from([1, 2])), "spacing": spacing}
    if spacing == "coords":
        kw["coords"] = np.cumsum(np.array(draw(st.lists(st.floats(0.3, 2.0), min_size=n,
                                                         max_size=n))))
    return [x], kw


def _gradient(x, edge_order, spacing, coords=None):
    if spacing == "unit":
        return np.gradient(x, axis=0, edge_order=edge_order)
    if spacing == "scalar":
        return np.gradient(x, 0.5, axis=0, edge_order=edge_order)
    return np.gradient(x, coords, axis=0, edge_order=edge_order)


def _sum_outputs(outs):
    """Several outputs (split) as one array for the comparison."""
    return np.concatenate([np.reshape(o, -1) for o in outs])


def _inplace_program(x, y):
    z = x * 1.5
    z += y
    z[z < 0] = 0  # numpy's ReLU, in place
    z *= y
    z[0] -= x[0]
    z /= 2
    return z


def _inplace_view(x, y):
    z = x * 1.0
    v = z[0]  # a view, changed in place: z must follow
    v += y[0] ** 2
    w = z.T  # another view, taken before the next change: it must follow too
    z[..., 0] = y[..., 0] * 3
    return z + w.T * 2


def _add_at(y, x):
    np.add.at(y, [0, 0, -1], x.reshape(-1)[0])  # repeated places accumulate
    return y


def _in_place_functions(x, y):
    """numpy's in-place functions on an intermediate, each writing values that require grad
    (the masks are fixed: a mask read from the values would put kinks in the function)."""
    z = x * 1.0
    even = np.arange(z.size).reshape(z.shape) % 2 == 0
    np.fill_diagonal(z, y.reshape(-1)[0], wrap=True)
    np.putmask(z, even, y * 2)  # values of z's shape, read at the masked places
    np.place(z, ~even, y.reshape(-1)[:2])  # values cycled over the masked places
    np.put(z, [0, -1], y.reshape(-1)[-1])
    np.copyto(z, y * 3, where=np.arange(z.shape[-1]) < 1)
    np.put_along_axis(z, np.zeros((z.shape[0], 1), dtype=int), y[:, :1] ** 2, axis=1)
    return z * np.arange(1.0, z.size + 1).reshape(z.shape)


def _stable_softmax(x):
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _array_of_list(x):
    rows = [x[i] * (i + 1) for i in range(len(x))]
    return np.array(rows) + np.asarray([r.sum() for r in rows]).reshape((-1,) + (1,) * (x.ndim - 1))


NP: list[NpSpec] = [
    # elementwise ufuncs (numpy functions, also on 0-d values)
    NpSpec("tan", unary(-1.2, 1.2), np.tan),
    NpSpec("sinh", unary(), np.sinh),
    NpSpec("cosh", unary(), np.cosh),
    NpSpec("arcsin", unary(-0.9, 0.9), np.arcsin),
    NpSpec("arccos", unary(-0.9, 0.9), np.arccos),
    NpSpec("arctan", unary(), np.arctan),
    NpSpec("arcsinh", unary(), np.arcsinh),
    NpSpec("arccosh", unary(1.2, 3.0), np.arccosh),
    NpSpec("arctanh", unary(-0.9, 0.9), np.arctanh),
    NpSpec("cbrt", unary(transform=lambda x: away_from(x, (0.0,), 0.3)), np.cbrt),
    NpSpec("exp2", unary(), np.exp2),
    NpSpec("log2", unary(transform=_positive), np.log2),
    NpSpec("log10", unary(transform=_positive), np.log10),
    NpSpec("deg2rad", unary(), np.deg2rad),
    NpSpec("rad2deg", unary(), np.rad2deg),
    NpSpec("degrees", unary(), np.degrees),
    NpSpec("radians", unary(), np.radians),
    NpSpec("square", unary(), np.square),
    NpSpec("reciprocal", unary(transform=_positive), np.reciprocal),
    NpSpec("real", unary(), lambda x: np.real(x) * 2),
    NpSpec("imag", unary(), lambda x: np.imag(x) + x),
    NpSpec("conj", unary(), lambda x: np.conj(x) * x),
    NpSpec("angle", unary(transform=away_from), lambda x: np.angle(x) + x, smooth=False),
    NpSpec("real_if_close", unary(), lambda x: np.real_if_close(x) * 3),
    NpSpec("tan_of_0d_sum", unary(-0.5, 0.5), lambda x: np.tan(x.sum())),
    NpSpec("prod_of_a_row", unary(), lambda x: np.prod(x.reshape(-1)[:3])),
    NpSpec("logaddexp", binary(), np.logaddexp),
    NpSpec("logaddexp2", binary(), np.logaddexp2),
    NpSpec("fmax", binary(transform=_bounded_pair(0.05)), np.fmax, smooth=False),
    NpSpec("fmin", binary(transform=_bounded_pair(0.05)), np.fmin, smooth=False),
    NpSpec("arctan2", binary(transform=lambda a, b: (away_from(a, (0.0,), 0.3), b)), np.arctan2),
    NpSpec("hypot", binary(transform=lambda a, b: (away_from(a), b)), np.hypot),
    NpSpec("mod", binary(transform=lambda a, b: (a * 0.2 + 0.05, _positive(b))), np.mod),
    NpSpec("remainder", binary(transform=lambda a, b: (a * 0.2 + 0.05, _positive(b))),
           np.remainder),
    NpSpec("fmod", binary(transform=lambda a, b: (a * 0.2 + 0.05, _positive(b))), np.fmod),
    NpSpec("percent_operator", binary(transform=lambda a, b: (a * 0.2 + 0.05, _positive(b))),
           lambda a, b: a % b),
    NpSpec("copysign", binary(transform=lambda a, b: (away_from(a), away_from(b))), np.copysign,
           smooth=False),
    # reductions, function and method forms, numpy's defaults (ddof=0, max gives values)
    NpSpec("np.prod", reduction(), lambda x, axis, keepdims: np.prod(x, axis, keepdims=keepdims)),
    NpSpec("x.prod", reduction(), lambda x, axis, keepdims: x.prod(axis=axis, keepdims=keepdims)),
    NpSpec("np.sum", reduction(), lambda x, axis, keepdims: np.sum(x, axis, keepdims=keepdims)),
    NpSpec("x.sum", reduction(), lambda x, axis, keepdims: x.sum(axis, keepdims=keepdims)),
    NpSpec("x.mean", reduction(), lambda x, axis, keepdims: x.mean(axis, keepdims=keepdims)),
    NpSpec("x.max", reduction(transform=distinct),
           lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims), smooth=False),
    NpSpec("x.min", reduction(transform=distinct),
           lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims), smooth=False),
    NpSpec("np.max", reduction(transform=distinct),
           lambda x, axis, keepdims: np.max(x, axis, keepdims=keepdims), smooth=False),
    NpSpec("np.amin", reduction(transform=distinct),
           lambda x, axis, keepdims: np.amin(x, axis, keepdims=keepdims), smooth=False),
    NpSpec("x.std", reduction(transform=distinct).filter(_reduces_several),
           lambda x, axis, keepdims: x.std(axis=axis, keepdims=keepdims) + x.var()),
    NpSpec("x.var_ddof1", reduction(transform=distinct),
           lambda x, axis, keepdims: x.var(ddof=1) if x.size > 1 else x.var()),
    NpSpec("np.std", reduction(transform=distinct).filter(_reduces_several),
           lambda x, axis, keepdims: np.std(x, axis, keepdims=keepdims) + np.var(x)),
    NpSpec("x.ptp", reduction(transform=distinct),
           lambda x, axis, keepdims: x.ptp(axis) if hasattr(x, "ptp") else np.ptp(x, axis),
           smooth=False),
    NpSpec("np.ptp", reduction(transform=distinct),
           lambda x, axis, keepdims: np.ptp(x, axis, keepdims=keepdims), smooth=False),
    NpSpec("np.median", reduction(transform=distinct),
           lambda x, axis, keepdims: np.median(x, axis, keepdims=keepdims), smooth=False),
    NpSpec("np.average", with_axis(), lambda x, axis: np.average(
        x, axis=axis, weights=np.arange(1.0, x.shape[axis] + 1))),
    NpSpec("np.cumsum", with_axis(), lambda x, axis: np.cumsum(x, axis)),
    NpSpec("x.cumsum_flat", unary(), lambda x: x.cumsum()),
    NpSpec("np.cumprod", with_axis(), lambda x, axis: np.cumprod(x, axis=axis)),
    NpSpec("np.nansum", reduction(), lambda x, axis, keepdims: np.nansum(x, axis,
                                                                          keepdims=keepdims)),
    NpSpec("add.reduce", with_axis(), lambda x, axis: np.add.reduce(x, axis=axis)),
    NpSpec("multiply.reduce", with_axis(), lambda x, axis: np.multiply.reduce(x, axis=axis)),
    NpSpec("add.accumulate", with_axis(), lambda x, axis: np.add.accumulate(x, axis=axis)),
    # without an axis a ufunc reduces and accumulates along axis 0, unlike np.sum and np.cumsum
    NpSpec("add.reduce_axis0", unary(shape_strategy=any_shape), lambda x: np.add.reduce(x)),
    NpSpec("minimum.reduce_axis0", unary(transform=distinct, shape_strategy=any_shape),
           lambda x: np.minimum.reduce(x), smooth=False),
    NpSpec("multiply.accumulate_axis0", unary(shape_strategy=any_shape),
           lambda x: np.multiply.accumulate(x)),
    NpSpec("stable_softmax", with_axis(), lambda x, axis: _stable_softmax(x), smooth=True),
    # array methods with numpy's meaning
    NpSpec("x.clip", unary(transform=lambda x: away_from(x, (-0.5, 0.5))),
           lambda x: x.clip(-0.5, 0.5), smooth=False),
    NpSpec("np.clip", unary(transform=lambda x: away_from(x, (-0.5, 0.5))),
           lambda x: np.clip(x, -0.5, 0.5), smooth=False),
    NpSpec("x.dot", two_matrices(), lambda a, b: a.dot(b)),
    NpSpec("x.copy", unary(), lambda x: x.copy() * x),
    NpSpec("x.ravel", unary(), lambda x: x.ravel() * 2),
    NpSpec("x.flatten", unary(), lambda x: x.flatten() ** 2),
    NpSpec("x.reshape_F", matrix(), lambda x: x.reshape(-1, order="F") * np.arange(x.size)),
    NpSpec("x.reshape", unary(), lambda x: x.reshape(1, -1) * 2),
    NpSpec("x.T", matrix(), lambda x: x.T @ x),
    NpSpec("x.transpose", unary(), lambda x: x.transpose() * 2),
    NpSpec("x.astype", unary(), lambda x: x.astype(np.float64) * x.astype("f8")),
    NpSpec("x.squeeze", unary(), lambda x: x.squeeze() * 2),
    NpSpec("x.repeat", unary(), lambda x: x.repeat(2)),
    NpSpec("x.size_division", unary(), lambda x: (x ** 2).sum() / x.size),
    NpSpec("x.item_free", unary(), lambda x: x * len(x.shape) + x.ndim),
    NpSpec("len_and_iter", matrix(), lambda x: sum(row * i for i, row in enumerate(x))),
    # linear algebra
    NpSpec("np.dot", dot_case(), np.dot),
    NpSpec("np.inner", dot_case().filter(lambda c: np.ndim(c[0][1]) < 2 or
                                         c[0][0].shape[-1:] == c[0][1].shape[-1:]), np.inner),
    NpSpec("np.outer", same_shape_pair(), np.outer),
    NpSpec("np.vdot", same_shape_pair(), np.vdot),
    NpSpec("np.tensordot", tensordot_case(), lambda a, b, axes: np.tensordot(a, b, axes)),
    NpSpec("np.einsum", einsum_case(),
           lambda *xs, spec: np.einsum(spec, *xs)),
    NpSpec("np.kron", same_shape_pair(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3)),
           np.kron),
    NpSpec("np.cross", cross_case(), np.cross),
    NpSpec("np.trace", matrix(), np.trace),
    NpSpec("np.diag_2d_to_1d", matrix(), lambda x: np.diag(x, k=1 if x.shape[1] > 1 else 0)),
    NpSpec("np.diag_1d_to_2d", unary(shape_strategy=hnp.array_shapes(min_dims=1, max_dims=1)),
           lambda x: np.diag(x, k=-1)),
    NpSpec("np.diagonal", unary(shape_strategy=hnp.array_shapes(min_dims=2, max_dims=3)),
           np.diagonal),
    NpSpec("np.tril", matrix(), lambda x: np.tril(x, -1) + np.tril(x)),
    NpSpec("np.triu", matrix(), lambda x: np.triu(x, 1) * 2),
    NpSpec("matmul_operator", two_matrices(), lambda a, b: a @ b),
    # shape and order
    NpSpec("np.tile", unary(), lambda x: np.tile(x, (2, 1))),
    NpSpec("np.repeat", with_axis(), lambda x, axis: np.repeat(x, 2, axis=axis)),
    NpSpec("np.flip", unary(), np.flip),
    NpSpec("np.fliplr", matrix(), np.fliplr),
    NpSpec("np.flipud", unary(shape_strategy=any_shape), np.flipud),
    NpSpec("np.roll", with_axis(), lambda x, axis: np.roll(x, 2, axis=axis) + np.roll(x, -1)),
    NpSpec("np.moveaxis", with_axis(), lambda x, axis: np.moveaxis(x, axis, 0) * 2),
    NpSpec("np.rollaxis", with_axis(), lambda x, axis: np.rollaxis(x, axis) * 2),
    NpSpec("np.swapaxes", with_axis(), lambda x, axis: np.swapaxes(x, axis, 0) * 2),
    NpSpec("np.column_stack", same_shape_pair(hnp.array_shapes(min_dims=1, max_dims=2)),
           lambda a, b: np.column_stack([a, b])),
    NpSpec("np.dstack", same_shape_pair(), lambda a, b: np.dstack([a, b])),
    NpSpec("np.vstack", same_shape_pair(), lambda a, b: np.vstack([a, b])),
    NpSpec("np.hstack", same_shape_pair(), lambda a, b: np.hstack([a, b])),
    NpSpec("np.atleast_1d", unary(), lambda x: np.atleast_1d(x) * 2),
    NpSpec("np.atleast_2d", unary(), lambda x: np.atleast_2d(x) * 2),
    NpSpec("np.atleast_3d", unary(), lambda x: np.atleast_3d(x) * 2),
    NpSpec("np.split", split_case("split"),
           lambda x, sections: _sum_outputs(np.split(x, sections))),
    NpSpec("np.array_split", split_case("array_split"),
           lambda x, sections: _sum_outputs(np.array_split(x, sections))),
    NpSpec("np.hsplit", split_case("hsplit"),
           lambda x, sections: _sum_outputs(np.hsplit(x, sections))),
    NpSpec("np.vsplit", split_case("vsplit"),
           lambda x, sections: _sum_outputs(np.vsplit(x, sections))),
    NpSpec("np.dsplit", split_case("dsplit"),
           lambda x, sections: _sum_outputs(np.dsplit(x, sections))),
    NpSpec("np.sort", with_axis(transform=distinct), lambda x, axis: np.sort(x, axis=axis),
           smooth=False),
    NpSpec("x.sort_in_place", with_axis(transform=distinct),
           lambda x, axis: (lambda y: (y.sort(axis=axis), y)[1])(x * 1.0), smooth=False),
    NpSpec("np.partition", with_axis(transform=distinct),
           lambda x, axis: np.partition(x, 0, axis=axis), smooth=False),
    NpSpec("np.take", unary(), lambda x: np.take(x, [0, -1, 0])),
    NpSpec("np.take_along_axis", with_axis(transform=distinct),
           lambda x, axis: np.take_along_axis(x, np.argsort(x, axis=axis), axis)),
    NpSpec("np.diff", with_axis(), lambda x, axis: np.diff(x, axis=axis)),
    NpSpec("np.diff_n2_prepend", with_axis(),
           lambda x, axis: np.diff(x, n=2, axis=axis, prepend=0.5)),
    NpSpec("np.gradient", gradient_case(), _gradient),
    NpSpec("np.select", binary(transform=lambda a, b: (away_from(a, (0.0, 1.0)), b)),
           lambda a, b: np.select([a > 1, a > 0], [a * b, a ** 2], default=b), smooth=False),
    NpSpec("np.append", same_shape_pair(), np.append),
    NpSpec("np.concatenate_flat", same_shape_pair(),
           lambda a, b: np.concatenate([a, b], axis=None)),
    NpSpec("np.stack", same_shape_pair(), lambda a, b: np.stack([a, b], axis=-1)),
    NpSpec("np.array_of_list", unary(shape_strategy=any_shape), _array_of_list),
    NpSpec("np.r_", same_shape_pair(hnp.array_shapes(min_dims=1, max_dims=1)),
           lambda a, b: np.r_[a, 0.5, b]),
    NpSpec("np.c_", same_shape_pair(hnp.array_shapes(min_dims=1, max_dims=1)),
           lambda a, b: np.c_[a, b]),
    NpSpec("np.pad", unary(shape_strategy=any_shape), lambda x: np.pad(x, 1)),
    NpSpec("np.expand_dims", unary(), lambda x: np.expand_dims(x, 0) * 2),
    NpSpec("np.broadcast_to", unary(), lambda x: np.broadcast_to(x, (2, *x.shape)) * 1.0),
    # in place, as numpy code writes it
    NpSpec("inplace_program", same_shape_pair(), _inplace_program, smooth=False),
    NpSpec("inplace_through_views", same_shape_pair(hnp.array_shapes(min_dims=2, max_dims=2,
                                                                      min_side=1, max_side=4)),
           _inplace_view),
    NpSpec("add.at", unary(shape_strategy=any_shape), lambda x: _add_at(x * 1.0, x)),
    NpSpec("in_place_functions", same_shape_pair(shapes=mats), _in_place_functions),
    NpSpec("np.reshape_F", matrix(), lambda x: np.reshape(x, (-1,), order="F") * np.arange(x.size)),
    NpSpec("np.ravel_F", matrix(), lambda x: np.ravel(x, order="F") * np.arange(x.size)),
    NpSpec("np.full_like", unary(shape_strategy=any_shape),  # the fill value positional
           lambda x: np.full_like(x, 3.0) * x + np.full_like(x, x.reshape(-1)[0] ** 2)),
    NpSpec("out_into_itself", same_shape_pair(),
           lambda a, b: (lambda z: (np.multiply(z, b, out=z), z)[1])(a + 0.0)),
]

NP_BY_NAME = {s.name: s for s in NP}
