"""PyTorch's math names: ``tg.mm``, ``tg.einsum``, ``tg.div(rounding_mode=)``, ``tg.isclose``,
``tg.linalg.inv``, ``tg.set_printoptions``... and their method forms (``MathMethods``, a mixin
``Tensor`` inherits: ``x.mm(w)``, ``x.rsqrt()``, ``A.det()``, ``x.exp_()``).

Each is PyTorch's meaning (argument names, dtypes of results, errors), built from the library's
primitives (``ops/``), so gradients of any order come from those. ``out=`` is refused: a
result written into another tensor cannot be recorded; assign the result instead.

>>> import tinygrad_edu as tg
>>> a = tg.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> tg.linalg.det(a).backward()
>>> a.grad
tensor([[ 3., -1.],
        [-1.,  2.]])
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import dims as _dims
from . import dtypes as _dtypes
from .autograd import function as _function
from .autograd import inplace as _inplace
from .autograd.grad_mode import _ModeContext
from .ops import einsum as _einsum
from .ops import elementwise as _ew
from .ops import linalg as _la
from .ops import linalg_inverse as _li
from .ops import pointwise as _pw
from .ops import trig as _trig

LinAlgError = _li.LinAlgError


# --------------------------------------------------------------------------- helpers
def _tensor_cls() -> type:
    return _function.Tensor  # set when tensor.py has defined Tensor (which imports this module)


def _t(x: Any) -> Any:
    """``x`` as a Tensor (Python data with PyTorch's dtype rules: ints stay int64)."""
    Tensor = _tensor_cls()
    return x if isinstance(x, Tensor) else Tensor._wrap(_dtypes.infer_array(x))


def _scalar(x: Any) -> Any:
    """numpy scalars as Python scalars (so float32 math stays float32), Tensors as they are."""
    return x.item() if isinstance(x, np.generic) else x


def _data(x: Any) -> Any:
    return x.data if isinstance(x, _tensor_cls()) else np.asarray(x)


def _nograd(x: np.ndarray) -> Any:
    """A constant Tensor (boolean and integer results have no gradient, as in PyTorch)."""
    return _tensor_cls()._wrap(np.asarray(x))


def _refuses_out(fn: Callable) -> Callable:
    """PyTorch's ``out=``: refused with the fix, since a result written into another tensor
    cannot be recorded for backward."""

    @functools.wraps(fn)
    def wrapper(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is not None:
            raise TypeError(
                f"tg.{fn.__name__}(..., out=...) is not supported: assign the result instead "
                f"(y = tg.{fn.__name__}(...)), or copy it with y.copy_(...)"
            )
        return fn(*args, **kwargs)

    return wrapper


def _shape_error(op: str, message: str) -> RuntimeError:
    return RuntimeError(f"{op}: {message}")


# --------------------------------------------------------------------------- products
@_refuses_out
def mm(input: Any, mat2: Any) -> Any:
    """The matrix product of two 2-D tensors (no broadcasting; see ``matmul`` for that).

    >>> import tinygrad_edu as tg
    >>> tg.mm(tg.ones(2, 3), tg.ones(3, 4)).shape
    (2, 4)
    """
    a, b = _t(input), _t(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise _shape_error("mm", f"both arguments must be matrices (2-D), got shapes {a.shape} "
                           f"and {b.shape}; use tg.matmul for batches or vectors")
    if a.shape[1] != b.shape[0]:
        raise _shape_error("mm", f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x"
                           f"{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    return _la.MatMul.apply(a, b)


@_refuses_out
def bmm(input: Any, mat2: Any) -> Any:
    """Batched matrix product of (b, n, m) and (b, m, p) tensors (same batch size, no
    broadcasting).

    >>> import tinygrad_edu as tg
    >>> tg.bmm(tg.ones(5, 2, 3), tg.ones(5, 3, 4)).shape
    (5, 2, 4)
    """
    a, b = _t(input), _t(mat2)
    if a.ndim != 3 or b.ndim != 3:
        raise _shape_error("bmm", f"both arguments must be 3-D (batch, n, m), got shapes "
                           f"{a.shape} and {b.shape}")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise _shape_error("bmm", f"cannot multiply batches of shapes {a.shape} and {b.shape}: "
                           "need the same batch size and a.shape[2] == b.shape[1]")
    return _la.MatMul.apply(a, b)


@_refuses_out
def mv(input: Any, vec: Any) -> Any:
    """The product of a matrix (n, m) and a vector (m,): a vector (n,).

    >>> import tinygrad_edu as tg
    >>> tg.mv(tg.ones(2, 3), tg.tensor([1.0, 2.0, 3.0]))
    tensor([6., 6.])
    """
    a, b = _t(input), _t(vec)
    if a.ndim != 2 or b.ndim != 1:
        raise _shape_error("mv", f"a matrix (2-D) and a vector (1-D) expected, got shapes "
                           f"{a.shape} and {b.shape}; use tg.matmul for other shapes")
    if a.shape[1] != b.shape[0]:
        raise _shape_error("mv", f"size mismatch, mat {a.shape[0]}x{a.shape[1]} and vec "
                           f"({b.shape[0]}): the matrix needs as many columns as the vector has "
                           "elements")
    return _la.MatMul.apply(a, b)


@_refuses_out
def dot(input: Any, tensor: Any) -> Any:
    """The dot product of two 1-D tensors of the same length (a 0-d tensor).

    >>> import tinygrad_edu as tg
    >>> tg.dot(tg.tensor([2.0, 3.0]), tg.tensor([2.0, 1.0]))
    tensor(7.)
    """
    a, b = _t(input), _t(tensor)
    if a.ndim != 1 or b.ndim != 1:
        raise _shape_error("dot", f"1D tensors expected, but got {a.ndim}D and {b.ndim}D "
                           "tensors; use tg.matmul or tg.tensordot for more dimensions")
    if a.shape != b.shape:
        raise _shape_error("dot", f"inconsistent tensor size, expected tensor [{a.shape[0]}] and "
                           f"src [{b.shape[0]}] to have the same number of elements")
    return _la.MatMul.apply(a, b)


@_refuses_out
def outer(input: Any, vec2: Any) -> Any:
    """The outer product ``input[i] * vec2[j]`` of two 1-D tensors.

    >>> import tinygrad_edu as tg
    >>> tg.outer(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 10.0, 100.0]))
    tensor([[  1.,  10., 100.],
            [  2.,  20., 200.]])
    """
    from .numpy_functions import outer as _outer

    a, b = _t(input), _t(vec2)
    if a.ndim != 1 or b.ndim != 1:
        raise _shape_error("outer", f"expected 1-D arguments, got {a.ndim}-D and {b.ndim}-D")
    return _outer(a, b)


def einsum(equation: str, *operands: Any) -> Any:
    """Einstein summation, ``tg.einsum("ij,jk->ik", a, b)`` or with the operands in a list.

    >>> import tinygrad_edu as tg
    >>> tg.einsum("ii", tg.eye(3))
    tensor(3.)
    >>> tg.einsum("bi,bi->b", [tg.ones(2, 3), tg.ones(2, 3)])
    tensor([3., 3.])
    """
    if not isinstance(equation, str):
        raise TypeError(
            "tg.einsum: the first argument must be the equation as a string ('ij,jk->ik'); "
            "the sublist format einsum(a, [0, 1], b, [1, 2]) is not supported"
        )
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("tg.einsum: give at least one operand")
    return _einsum.Einsum.apply(*[_t(o) for o in operands], subscripts=equation)


@_refuses_out
def tensordot(a: Any, b: Any, dims: Any = 2) -> Any:
    """Sum products over dims: the last ``dims`` of ``a`` with the first ``dims`` of ``b``, or
    the dims listed in ``dims=(dims_a, dims_b)``.

    >>> import tinygrad_edu as tg
    >>> tg.tensordot(tg.ones(3, 4, 5), tg.ones(4, 5, 2), dims=2).shape
    (3, 2)
    >>> tg.tensordot(tg.ones(3, 4), tg.ones(4, 3), dims=([0], [1])).shape
    (4, 4)
    """
    from .numpy_functions import tensordot as _tensordot

    if isinstance(dims, _tensor_cls()):
        dims = dims.tolist()
    if isinstance(dims, int | np.integer) and dims < 0:
        raise RuntimeError(f"tensordot: dims must be non-negative, got {dims}")
    return _tensordot(_t(a), _t(b), axes=dims)


@_refuses_out
def addmm(input: Any, mat1: Any, mat2: Any, *, beta: float = 1, alpha: float = 1) -> Any:
    """``beta * input + alpha * (mat1 @ mat2)`` (``input`` broadcasts; with ``beta=0`` it is
    ignored, nan included, as in PyTorch).

    >>> import tinygrad_edu as tg
    >>> tg.addmm(tg.ones(3), tg.ones(2, 4), tg.ones(4, 3), alpha=0.5)
    tensor([[3., 3., 3.],
            [3., 3., 3.]])
    """
    product = mm(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return product + (_t(input) if beta == 1 else _t(input) * beta)


# --------------------------------------------------------------------------- arithmetic
def _scaled(other: Any, alpha: float) -> Any:
    other = _scalar(other)
    return other if alpha == 1 else other * alpha


@_refuses_out
def add(input: Any, other: Any, *, alpha: float = 1) -> Any:
    """``input + alpha * other``.

    >>> import tinygrad_edu as tg
    >>> tg.add(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 1.0]), alpha=10)
    tensor([11., 12.])
    """
    return _ew.Add.apply(_scalar(input), _scaled(other, alpha))


@_refuses_out
def sub(input: Any, other: Any, *, alpha: float = 1) -> Any:
    """``input - alpha * other``.

    >>> import tinygrad_edu as tg
    >>> tg.sub(tg.tensor([1.0, 2.0]), 1.0, alpha=2)
    tensor([-1.,  0.])
    """
    return _ew.Sub.apply(_scalar(input), _scaled(other, alpha))


@_refuses_out
def mul(input: Any, other: Any) -> Any:
    """``input * other``.

    >>> import tinygrad_edu as tg
    >>> tg.mul(tg.tensor([1.0, 2.0]), 3.0)
    tensor([3., 6.])
    """
    return _ew.Mul.apply(_scalar(input), _scalar(other))


@_refuses_out
def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Any:
    """``input / other``; ``rounding_mode='trunc'`` rounds toward zero and ``'floor'`` down
    (Python's ``//``). Rounded quotients keep integer dtypes and have zero gradient.

    >>> import tinygrad_edu as tg
    >>> a = tg.tensor([-7.0, 7.0])
    >>> tg.div(a, 2, rounding_mode="trunc"), tg.div(a, 2, rounding_mode="floor")
    (tensor([-3.,  3.]), tensor([-4.,  3.]))
    """
    if rounding_mode is None:
        return _ew.Div.apply(_scalar(input), _scalar(other))
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"{rounding_mode!r}"
        )
    return _pw.RoundedDiv.apply(_scalar(input), _scalar(other), mode=rounding_mode)


divide, multiply, subtract, true_divide = div, mul, sub, div


@_refuses_out
def floor_divide(input: Any, other: Any) -> Any:
    """``input // other`` rounded down, as ``div(..., rounding_mode='floor')``.

    >>> import tinygrad_edu as tg
    >>> tg.floor_divide(tg.tensor([7, -7]), 2)
    tensor([ 3, -4])
    """
    return div(input, other, rounding_mode="floor")


@_refuses_out
def pow(input: Any, exponent: Any) -> Any:
    """``input ** exponent`` (either may be a number).

    >>> import tinygrad_edu as tg
    >>> tg.pow(tg.tensor([-2.0, 3.0]), 2), tg.pow(2, tg.tensor([3.0]))
    (tensor([4., 9.]), tensor([8.]))
    """
    return _ew.Pow.apply(_scalar(input), _scalar(exponent))


@_refuses_out
def neg(input: Any) -> Any:
    """``-input``.

    >>> import tinygrad_edu as tg
    >>> tg.neg(tg.tensor([1.0, -2.0]))
    tensor([-1.,  2.])
    """
    return _ew.Neg.apply(_t(input))


negative = neg


@_refuses_out
def rsqrt(input: Any) -> Any:
    """``1 / sqrt(input)`` (inf at 0).

    >>> import tinygrad_edu as tg
    >>> tg.rsqrt(tg.tensor([4.0, 0.25]))
    tensor([0.5, 2. ])
    """
    return _ew.Pow.apply(_t(input), -0.5)


@_refuses_out
def remainder(input: Any, other: Any) -> Any:
    """Python's ``%``: the remainder with the sign of the divisor.

    >>> import tinygrad_edu as tg
    >>> tg.remainder(tg.tensor([-3.0, 3.0]), 2)
    tensor([1., 1.])
    """
    return _pw.Remainder.apply(_scalar(input), _scalar(other))


@_refuses_out
def fmod(input: Any, other: Any) -> Any:
    """C's ``fmod``: the remainder with the sign of the dividend.

    >>> import tinygrad_edu as tg
    >>> tg.fmod(tg.tensor([-3.0, 3.0]), 2)
    tensor([-1.,  1.])
    """
    return _pw.Fmod.apply(_scalar(input), _scalar(other))


def _unary_fn(name: str, primitive: type, doc_example: str) -> Callable:
    """A one-tensor function that applies ``primitive``, with a doctest."""

    def fn(input: Any) -> Any:
        return primitive.apply(_t(input))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"PyTorch's ``{name}``: see :class:`{primitive.__module__}.{primitive.__name__}`"
                  f".\n\n    >>> import tinygrad_edu as tg\n    >>> {doc_example}\n")
    return _refuses_out(fn)


tan = _unary_fn("tan", _trig.Tan, "tg.tan(tg.tensor([0.0]))\n    tensor([0.])")
atan = _unary_fn("atan", _trig.Arctan, "tg.atan(tg.tensor([0.0]))\n    tensor([0.])")
asin = _unary_fn("asin", _trig.Arcsin, "tg.asin(tg.tensor([0.0]))\n    tensor([0.])")
acos = _unary_fn("acos", _trig.Arccos, "tg.acos(tg.tensor([1.0]))\n    tensor([0.])")
sinh = _unary_fn("sinh", _trig.Sinh, "tg.sinh(tg.tensor([0.0]))\n    tensor([0.])")
cosh = _unary_fn("cosh", _trig.Cosh, "tg.cosh(tg.tensor([0.0]))\n    tensor([1.])")
asinh = _unary_fn("asinh", _trig.Arcsinh, "tg.asinh(tg.tensor([0.0]))\n    tensor([0.])")
acosh = _unary_fn("acosh", _trig.Arccosh, "tg.acosh(tg.tensor([1.0]))\n    tensor([0.])")
atanh = _unary_fn("atanh", _trig.Arctanh, "tg.atanh(tg.tensor([0.0]))\n    tensor([0.])")
log2 = _unary_fn("log2", _pw.Log2, "tg.log2(tg.tensor([8.0]))\n    tensor([3.])")
log10 = _unary_fn("log10", _pw.Log10, "tg.log10(tg.tensor([100.0]))\n    tensor([2.])")
exp2 = _unary_fn("exp2", _pw.Exp2, "tg.exp2(tg.tensor([3.0]))\n    tensor([8.])")
erfinv = _unary_fn("erfinv", _pw.Erfinv, "tg.erfinv(tg.tensor([0.0, 1.0]))\n    tensor([ 0., inf])")
arctan, arcsin, arccos, arcsinh, arccosh, arctanh = atan, asin, acos, asinh, acosh, atanh


@_refuses_out
def atan2(input: Any, other: Any) -> Any:
    """The angle of the point ``(other, input)``: ``atan(input / other)`` in the right quadrant.

    >>> import tinygrad_edu as tg
    >>> tg.atan2(tg.tensor([1.0]), tg.tensor([-1.0]))
    tensor([2.3561945])
    """
    return _trig.Arctan2.apply(_t(input), _t(other))


arctan2 = atan2


@_refuses_out
def lerp(input: Any, end: Any, weight: Any) -> Any:
    """Linear interpolation ``input + weight * (end - input)``.

    >>> import tinygrad_edu as tg
    >>> tg.lerp(tg.tensor([0.0, 10.0]), tg.tensor([10.0, 20.0]), 0.25)
    tensor([ 2.5, 12.5])
    """
    start = _t(input)
    return start + _scalar(weight) * (_scalar(end) - start)


@_refuses_out
def logit(input: Any, eps: float | None = None) -> Any:
    """``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped to ``[eps, 1 - eps]`` (its
    gradient is then 0 outside that range).

    >>> import tinygrad_edu as tg
    >>> tg.logit(tg.tensor([0.5, 0.0]), eps=1e-6)
    tensor([  0.     , -13.81551])
    """
    p = _t(input)
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return p.log() - (1 - p).log()


@_refuses_out
def xlogy(input: Any, other: Any) -> Any:
    """``input * log(other)``, with 0 where ``input`` is 0 (so ``xlogy(0, 0) = 0``).

    >>> import tinygrad_edu as tg
    >>> tg.xlogy(tg.tensor([0.0, 2.0]), tg.tensor([0.0, 1.0]))
    tensor([0., 0.])
    """
    return _pw.Xlogy.apply(_scalar(input), _scalar(other))


@_refuses_out
def frac(input: Any) -> Any:
    """The fractional part ``input - trunc(input)`` (sign of ``input``); gradient 1.

    >>> import tinygrad_edu as tg
    >>> tg.frac(tg.tensor([1.5, -1.25]))
    tensor([ 0.5 , -0.25])
    """
    from .tensor import Rounding

    x = _t(input)
    return x - Rounding.apply(x, fn=np.trunc)


def sgn(input: Any) -> Any:
    """The sign of each element (``sign`` for real tensors); zero gradient.

    >>> import tinygrad_edu as tg
    >>> tg.sgn(tg.tensor([-2.0, 0.0, 3.0]))
    tensor([-1.,  0.,  1.])
    """
    return _t(input).sign()


@_refuses_out
def nan_to_num(input: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Any:
    """Replace nan, +inf and -inf; infinities become the dtype's largest/smallest finite value
    by default. The gradient passes at the finite elements, 0 at the replaced ones.

    >>> import tinygrad_edu as tg
    >>> tg.nan_to_num(tg.tensor([float("nan"), 1.0, float("-inf")]), neginf=-9.0)
    tensor([ 0.,  1., -9.])
    """
    x = _t(input)
    if x.dtype.kind not in "fc":
        return x.clone()
    replaced = np.nan_to_num(x.data, nan=nan, posinf=posinf, neginf=neginf)
    return _ew.Where.apply(np.isfinite(x.data), x, replaced)


# --------------------------------------------------------------------------- comparisons
def isnan(input: Any) -> Any:
    """Where elements are nan (a bool tensor).

    >>> import tinygrad_edu as tg
    >>> tg.isnan(tg.tensor([1.0, float("nan")]))
    tensor([False,  True])
    """
    return _nograd(np.isnan(_data(input)))


def isinf(input: Any) -> Any:
    """Where elements are +inf or -inf (a bool tensor).

    >>> import tinygrad_edu as tg
    >>> tg.isinf(tg.tensor([1.0, float("-inf")]))
    tensor([False,  True])
    """
    return _nograd(np.isinf(_data(input)))


def isfinite(input: Any) -> Any:
    """Where elements are neither inf nor nan (a bool tensor).

    >>> import tinygrad_edu as tg
    >>> tg.isfinite(tg.tensor([1.0, float("inf")]))
    tensor([ True, False])
    """
    return _nograd(np.isfinite(_data(input)))


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Any:
    """Where ``|input - other| <= atol + rtol * |other|`` (infinities equal if of one sign;
    nan equal to nan only with ``equal_nan=True``).

    >>> import tinygrad_edu as tg
    >>> tg.isclose(tg.tensor([1.0, float("nan")]), tg.tensor([1.0 + 1e-7, float("nan")]))
    tensor([ True, False])
    """
    for position, (arg, value) in enumerate((("input", input), ("other", other)), 1):
        if value is None:  # np.isclose would fail on float - None
            raise TypeError(
                f"isclose(): argument '{arg}' (position {position}) must be Tensor, not "
                "NoneType (a non-leaf tensor's .grad is None unless it called retain_grad() "
                "before backward())")
    return _nograd(np.isclose(_data(input), _data(other), rtol=rtol, atol=atol,
                              equal_nan=equal_nan))


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether every element is :func:`isclose` (a Python bool).

    >>> import tinygrad_edu as tg
    >>> tg.allclose(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0 + 1e-9]))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


def equal(input: Any, other: Any) -> bool:
    """Whether both have the same shape and elements (a Python bool; nan is never equal).

    >>> import tinygrad_edu as tg
    >>> tg.equal(tg.tensor([1, 2]), tg.tensor([1, 2])), tg.equal(tg.ones(2), tg.ones(3))
    (True, False)
    """
    a, b = _data(input), _data(other)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _logical(name: str, ufunc: np.ufunc, example: str) -> Callable:
    def fn(input: Any, other: Any) -> Any:
        return _nograd(ufunc(_data(input), _data(other)))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise ``{name}`` of the truth values (nonzero is True); a bool "
                  f"tensor.\n\n    >>> import tinygrad_edu as tg\n    >>> tg.{name}(tg.tensor("
                  f"[True, False]), tg.tensor([True, True]))\n    {example}\n")
    return _refuses_out(fn)


logical_and = _logical("logical_and", np.logical_and, "tensor([ True, False])")
logical_or = _logical("logical_or", np.logical_or, "tensor([ True,  True])")
logical_xor = _logical("logical_xor", np.logical_xor, "tensor([False,  True])")


@_refuses_out
def logical_not(input: Any) -> Any:
    """Elementwise NOT of the truth values (zero is False); a bool tensor.

    >>> import tinygrad_edu as tg
    >>> tg.logical_not(tg.tensor([0.0, 2.0]))
    tensor([ True, False])
    """
    return _nograd(np.logical_not(_data(input)))


# --------------------------------------------------------------------------- norms
def _float_input(x: Any, op: str) -> Any:
    t = _t(x)
    if t.dtype.kind not in "fc":
        raise TypeError(
            f"{op}: expected a floating-point tensor, got {t.dtype}; convert it first (x.float())"
        )
    return t


def _dims_of(t: Any, dim: Any, op: str) -> tuple:
    """``dim`` (None: all dims) as a tuple of non-negative dims of ``t``."""
    if dim is None:
        return tuple(range(t.ndim))
    d = _dims.normalize_dims(dim, t.ndim, op, t.shape)
    return d if isinstance(d, tuple) else (d,)


def vector_norm(x: Any, ord: float = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Any:
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements by default): ``ord`` any
    number, ``inf`` (max |x|), ``-inf`` (min |x|) or 0 (count of nonzeros). The gradient at a
    zero vector is 0, as in PyTorch.

    >>> import tinygrad_edu as tg
    >>> tg.linalg.vector_norm(tg.tensor([[3.0, 4.0], [0.0, 0.0]]), dim=1)
    tensor([5., 0.])
    """
    from .numpy_functions import vector_norm as _vector_norm

    t = _float_input(x, "linalg.vector_norm")
    if dtype is not None:
        t = t.to(dtype)
    if isinstance(ord, str):
        raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r}; use "
                         "linalg.matrix_norm for 'fro' and 'nuc'")
    return _vector_norm(t, ord, _dims_of(t, dim, "linalg.vector_norm"), keepdim)


def matrix_norm(A: Any, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Any:
    """The matrix norm over the two dims ``dim``: ``'fro'`` (Frobenius), 1 / -1 (max / min
    column sum of |A|), inf / -inf (max / min row sum). ``'nuc'``, 2 and -2 need singular
    values and are refused.

    >>> import tinygrad_edu as tg
    >>> tg.linalg.matrix_norm(tg.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
    tensor(6.)
    """
    from .numpy_functions import norm as _np_norm

    t = _float_input(A, "linalg.matrix_norm")
    if dtype is not None:
        t = t.to(dtype)
    if t.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: the input must have at least 2 dimensions, got "
                           f"shape {t.shape}")
    dims = _dims_of(t, dim, "linalg.matrix_norm")
    if len(dims) != 2 or dims[0] == dims[1]:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a pair of distinct dims, got {dim}")
    if ord == "fro":
        return vector_norm(t, 2, dims, keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(
            f"linalg.matrix_norm: ord={ord!r} needs singular values, which tinygrad_edu does not "
            "differentiate; use 'fro', 1, -1, inf or -inf"
        )
    if ord not in (1, -1, np.inf, -np.inf):
        raise RuntimeError(f"linalg.matrix_norm: order {ord!r} not supported")
    return _np_norm(t, ord, dims, keepdim)


def _linalg_norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
                 dtype: Any = None) -> Any:
    """``torch.linalg.norm``: a vector norm over one dim (or all elements when ``ord`` and
    ``dim`` are None), a matrix norm over two.

    >>> import tinygrad_edu as tg
    >>> tg.linalg.norm(tg.tensor([[3.0, 0.0], [0.0, 4.0]]))
    tensor(5.)
    >>> tg.linalg.norm(tg.tensor([[3.0, 0.0], [0.0, 4.0]]), ord=1)
    tensor(4.)
    """
    t = _float_input(A, "linalg.norm")
    if dim is None:
        if ord is None:
            return vector_norm(t, 2, None, keepdim, dtype=dtype)
        if t.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: with ord={ord!r} and dim=None the input must be "
                               f"1-D or 2-D, got shape {t.shape}; give dim")
        dim = (0,) if t.ndim == 1 else (-2, -1)
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    if len(dims) == 1:
        return vector_norm(t, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if len(dims) == 2:
        return matrix_norm(t, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: dim must have 1 or 2 dims, got {dim}")


def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Any:
    """``torch.norm``: the vector ``p``-norm over ``dim`` (all elements by default); ``'fro'``
    is the 2-norm.

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor([[3.0, 4.0], [6.0, 8.0]])
    >>> tg.norm(x, dim=1), x.norm(p=1)
    (tensor([ 5., 10.]), tensor(21.))
    """
    if p == "nuc":
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(input, 2 if p in ("fro", None) else p, dim, keepdim, dtype=dtype)


# --------------------------------------------------------------------------- linalg
class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)`` returned by ``slogdet``, as in PyTorch."""

    sign: Any
    logabsdet: Any


def inv(A: Any) -> Any:
    """The inverse of a square matrix (or of each in a batch); a singular matrix raises
    ``tg.linalg.LinAlgError``.

    >>> import tinygrad_edu as tg
    >>> tg.linalg.inv(tg.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5 , 0.  ],
            [0.  , 0.25]])
    """
    return _li.Inverse.apply(_t(A))


def det(A: Any) -> Any:
    """The determinant of a square matrix (or of each in a batch).

    >>> import tinygrad_edu as tg
    >>> tg.det(tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2.)
    """
    return _li.Det.apply(_t(A))


def slogdet(A: Any) -> SlogdetResult:
    """``(sign, logabsdet)`` of the determinant, without its overflow; the sign has no
    gradient.

    >>> import tinygrad_edu as tg
    >>> tg.linalg.slogdet(tg.tensor([[-2.0, 0.0], [0.0, 3.0]])).sign
    tensor(-1.)
    """
    a = _t(A)
    logabsdet = _li.LogAbsDet.apply(a)
    sign = np.linalg.slogdet(a.data)[0].astype(a.dtype)
    return SlogdetResult(_nograd(sign), logabsdet)


def logdet(A: Any) -> Any:
    """``log(det(A))``: nan where the determinant is negative, -inf where it is 0.

    >>> import tinygrad_edu as tg
    >>> tg.logdet(tg.tensor([[2.0, 0.0], [0.0, 0.5]]))
    tensor(0.)
    """
    sign, logabsdet = slogdet(A)
    positive = sign.data > 0
    other = np.where(sign.data < 0, np.nan, -np.inf).astype(logabsdet.dtype)
    return _ew.Where.apply(positive, logabsdet, other)


@_refuses_out
def solve(A: Any, B: Any, *, left: bool = True) -> Any:
    """The solution ``X`` of ``A @ X = B`` (``X @ A = B`` with ``left=False``); ``B`` may be a
    vector or a batch of vectors (``B.shape == A.shape[:-1]``), batch dims broadcast.

    >>> import tinygrad_edu as tg
    >>> tg.linalg.solve(tg.tensor([[2.0, 0.0], [0.0, 4.0]]), tg.tensor([2.0, 2.0]))
    tensor([1. , 0.5])
    """
    a, b = _t(A), _t(B)
    _li.check_square(a.data, "linalg.solve")
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if not left:
        if vector:
            raise RuntimeError("linalg.solve: left=False needs B to be a matrix (..., k, n)")
        return _li.Solve.apply(a.swapaxes(-1, -2), b.swapaxes(-1, -2)).swapaxes(-1, -2)
    if vector:
        return _li.Solve.apply(a, b.unsqueeze(-1))[..., 0]
    return _li.Solve.apply(a, b)


inverse = inv


# --------------------------------------------------------------------------- statistics
def _legacy_unbiased(dim: Any, unbiased: Any) -> tuple:
    """PyTorch's ``var_mean(x, True)``: a bool in ``dim``'s place is ``unbiased``."""
    if isinstance(dim, bool):
        return None, dim
    return dim, unbiased


def var_mean(input: Any, dim: Any = None, unbiased: bool | None = None,
             keepdim: bool = False, *, correction: float | None = None) -> tuple:
    """``(var, mean)`` over ``dim`` (all elements by default), ``correction=1`` by default.

    >>> import tinygrad_edu as tg
    >>> tg.var_mean(tg.tensor([1.0, 2.0, 3.0, 4.0]))
    (tensor(1.6666666), tensor(2.5))
    """
    dim, unbiased = _legacy_unbiased(dim, unbiased)
    t = _t(input)
    return (t.var(dim=dim, correction=correction, keepdim=keepdim, unbiased=unbiased),
            t.mean(dim=dim, keepdim=keepdim))


def std_mean(input: Any, dim: Any = None, unbiased: bool | None = None,
             keepdim: bool = False, *, correction: float | None = None) -> tuple:
    """``(std, mean)`` over ``dim`` (all elements by default), ``correction=1`` by default.

    >>> import tinygrad_edu as tg
    >>> tg.std_mean(tg.tensor([[1.0, 3.0], [2.0, 2.0]]), dim=1)
    (tensor([1.4142135, 0.       ]), tensor([2., 2.]))
    """
    dim, unbiased = _legacy_unbiased(dim, unbiased)
    t = _t(input)
    return (t.std(dim=dim, correction=correction, keepdim=keepdim, unbiased=unbiased),
            t.mean(dim=dim, keepdim=keepdim))


def cdist(x1: Any, x2: Any, p: float = 2.0, compute_mode: str | None = None) -> Any:
    """Pairwise ``p``-norm distances between the rows of ``x1`` (..., P, M) and of ``x2``
    (..., R, M): a (..., P, R) tensor. The gradient at a zero distance is 0.

    >>> import tinygrad_edu as tg
    >>> tg.cdist(tg.tensor([[0.0, 0.0]]), tg.tensor([[3.0, 4.0], [1.0, 0.0]]))
    tensor([[5., 1.]])
    """
    a, b = _float_input(x1, "cdist"), _float_input(x2, "cdist")
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"cdist: expected x1 (..., P, M) and x2 (..., R, M) with the same M, got shapes "
            f"{a.shape} and {b.shape}"
        )
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    return vector_norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, -1)


# --------------------------------------------------------------------------- modes, printing
class inference_mode(_ModeContext):
    """PyTorch's ``inference_mode``: like :class:`no_grad` (context manager or decorator);
    ``inference_mode(False)`` leaves the mode as it was.

    >>> import tinygrad_edu as tg
    >>> w = tg.tensor([1.0], requires_grad=True)
    >>> with tg.inference_mode():
    ...     (w * 2).requires_grad
    False
    """

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    _depth = 0  # how many inference_mode(True) blocks are open (is_inference_mode_enabled)

    def _enter_value(self) -> bool:
        return False if self.mode else self._prev

    def __enter__(self) -> None:
        super().__enter__()
        if self.mode:
            inference_mode._depth += 1

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        if self.mode:
            inference_mode._depth -= 1

    def __call__(self, func: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return func(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    """Whether an ``inference_mode()`` block is open (PyTorch's name).

    >>> import tinygrad_edu as tg
    >>> with tg.inference_mode():
    ...     tg.is_inference_mode_enabled()
    True
    """
    return inference_mode._depth > 0


_PRINT_DEFAULTS = {"precision": None, "threshold": 200, "edgeitems": 3, "linewidth": None,
                   "sci_mode": None}
_PROFILES = {
    "default": _PRINT_DEFAULTS,
    "short": {**_PRINT_DEFAULTS, "precision": 2, "edgeitems": 2},
    "full": {**_PRINT_DEFAULTS, "threshold": sys.maxsize},
}
_print_options = dict(_PRINT_DEFAULTS)


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print: ``precision`` digits after the point (fixed), summarise with
    ``edgeitems`` per edge above ``threshold`` elements, ``linewidth`` characters a line,
    ``sci_mode`` True / False to force / forbid scientific notation (None: automatic).
    ``profile`` is 'default' (this library's defaults), 'short' or 'full' (never summarise).

    >>> import tinygrad_edu as tg
    >>> tg.set_printoptions(precision=2)
    >>> tg.tensor([1.0, 2.0 / 3.0])
    tensor([1.00, 0.67])
    >>> tg.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        _print_options.update(_PROFILES[profile])
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
             "linewidth": linewidth}
    _print_options.update({k: v for k, v in given.items() if v is not None})
    _print_options["sci_mode"] = sci_mode


def array2string_options() -> dict:
    """The print options as ``np.array2string`` arguments (read by ``Tensor.__repr__``)."""
    o = _print_options
    threshold = o["threshold"]
    opts: dict = {"threshold": sys.maxsize if threshold >= sys.maxsize else int(threshold),
                  "edgeitems": o["edgeitems"]}
    if o["linewidth"] is not None:
        opts["max_line_width"] = o["linewidth"]
    precision = o["precision"]
    if precision is not None:
        opts.update(precision=precision, floatmode="fixed")
    if o["sci_mode"] is True:
        digits = 4 if precision is None else precision
        opts["formatter"] = {"float_kind": lambda v: f"{v:.{digits}e}"}
    elif o["sci_mode"] is False:
        opts["suppress_small"] = True
    return opts


# --------------------------------------------------------------------------- methods
def _inplace_unary(op: str, method: str) -> Callable:
    """``x.<method>_()``: ``x.<method>()`` written into ``x`` (recorded by autograd.inplace
    when ``x`` is in a graph; refused on a leaf that requires grad, as in PyTorch)."""

    def fn(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self._records_inplace():
            return _inplace.rebase(self, op, lambda old: getattr(old, method)(*args, **kwargs))
        new = getattr(self.detach(), method)(*args, **kwargs).data
        try:
            np.copyto(self.data, new, casting="same_kind")
        except TypeError:
            raise TypeError(
                f"{op}: the result is {new.dtype} and cannot be stored in place in a tensor of "
                f"dtype {self.dtype}; convert first (x = x.float())"
            ) from None
        self._bump_version(op)
        return self

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"In-place ``{method}``: ``x.{op}()`` makes ``x`` equal ``x.{method}()``."
    return fn


class MathMethods:
    """Tensor methods for the functions above (``x.mm(w)`` is ``tg.mm(x, w)``)."""

    __slots__ = ()

    def addmm(self, mat1: Any, mat2: Any, *, beta: float = 1, alpha: float = 1) -> Any:
        """``beta * self + alpha * (mat1 @ mat2)``; see :func:`addmm`."""
        return addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def slogdet(self) -> SlogdetResult:
        """``(sign, logabsdet)``; see :func:`slogdet`."""
        return slogdet(self)

    exp_ = _inplace_unary("exp_", "exp")
    log_ = _inplace_unary("log_", "log")
    sqrt_ = _inplace_unary("sqrt_", "sqrt")
    neg_ = _inplace_unary("neg_", "neg")
    abs_ = _inplace_unary("abs_", "abs")
    sin_ = _inplace_unary("sin_", "sin")
    cos_ = _inplace_unary("cos_", "cos")
    tanh_ = _inplace_unary("tanh_", "tanh")
    sigmoid_ = _inplace_unary("sigmoid_", "sigmoid")
    relu_ = _inplace_unary("relu_", "relu")
    rsqrt_ = _inplace_unary("rsqrt_", "rsqrt")
    clip_ = _inplace_unary("clip_", "clamp")


# functions whose method form takes the tensor as the first argument (x.mm(w) = tg.mm(x, w));
# add, sub and div replace Tensor's aliases of its operators (for alpha= and rounding_mode=)
_METHODS = (
    "add", "sub", "div",
    "mm", "mv", "bmm", "dot", "outer", "norm", "rsqrt", "fmod", "lerp", "logit", "isinf",
    "isclose",
    "allclose", "equal", "nan_to_num", "frac", "sgn", "inverse", "det", "logdet", "tan", "atan",
    "asin", "acos", "sinh", "cosh", "asinh", "acosh", "atanh", "arctan", "arcsin", "arccos",
    "arcsinh", "arccosh", "arctanh", "atan2", "arctan2", "log2", "log10", "exp2", "xlogy",
    "logical_and", "logical_or", "logical_xor", "floor_divide", "erfinv",
)
for _name in _METHODS:
    setattr(MathMethods, _name, globals()[_name])


__all__ = [
    "acos",
    "acosh",
    "add",
    "addmm",
    "allclose",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "bmm",
    "cdist",
    "cosh",
    "det",
    "div",
    "divide",
    "dot",
    "einsum",
    "equal",
    "erfinv",
    "exp2",
    "floor_divide",
    "fmod",
    "frac",
    "inference_mode",
    "inverse",
    "is_inference_mode_enabled",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "lerp",
    "log2",
    "log10",
    "logdet",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logit",
    "mm",
    "mul",
    "multiply",
    "mv",
    "nan_to_num",
    "neg",
    "negative",
    "norm",
    "outer",
    "remainder",
    "rsqrt",
    "set_printoptions",
    "sgn",
    "sinh",
    "slogdet",
    "std_mean",
    "sub",
    "subtract",
    "tan",
    "tensordot",
    "true_divide",
    "var_mean",
    "xlogy",
]
