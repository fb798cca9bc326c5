"""Factories: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``eye``, random tensors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import dtypes
from .autograd import is_grad_enabled
from .device import check_device
from .random import Generator, numpy_rng
from .tensor import Tensor, _shape_args


def _on_cpu(factory: Callable) -> Callable:
    """Accept PyTorch's ``device=`` keyword: the CPU, or a clear error (see ``device``)."""

    @functools.wraps(factory)
    def wrapper(*args: Any, device: Any = None, **kwargs: Any) -> Tensor:
        check_device(device)
        return factory(*args, **kwargs)

    return wrapper


def _size_keyword(factory: Callable) -> Callable:
    """Accept PyTorch's ``size=`` keyword as well as the sizes themselves:
    ``rand(size=(2, 4))`` is ``rand(2, 4)``."""

    @functools.wraps(factory)
    def wrapper(*size: Any, **kwargs: Any) -> Tensor:
        if "size" in kwargs:
            if size:
                raise TypeError(f"{factory.__name__}() got the size twice: as {size} and as "
                                f"size={kwargs['size']}; give one of them")
            size = (kwargs.pop("size"),)
        return factory(*size, **kwargs)

    return wrapper


def _make(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def _float_dtype(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)


@_on_cpu
def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor (always a copy) with PyTorch's dtype inference.

    Python floats become the default dtype (float32), Python ints int64, bools bool; numpy
    arrays keep their dtype.

    >>> import tinygrad_edu as tg
    >>> tg.tensor([1.0, 2.0]).dtype, tg.tensor([1, 2]).dtype
    (dtype('float32'), dtype('int64'))
    """
    if isinstance(data, Tensor):
        data = data.data
    arr = dtypes.infer_array(data, dtype)
    return _make(np.array(arr, copy=True), requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (keeps its dtype)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy array, got {type(array).__name__}")
    return Tensor._wrap(array)


@_on_cpu
def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` itself when it is already a tensor of that dtype, else a new tensor."""
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return tensor(data, dtype)


@_on_cpu
@_size_keyword
def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(np.zeros(_shape_args(size), dtype=_float_dtype(dtype)), requires_grad)


@_on_cpu
@_size_keyword
def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _make(np.ones(_shape_args(size), dtype=_float_dtype(dtype)), requires_grad)


@_on_cpu
def full(size: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``.

    >>> import tinygrad_edu as tg
    >>> tg.full((2,), 7.0)
    tensor([7., 7.])
    """
    if dtype is None and isinstance(fill_value, bool):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, int):
        dtype = np.int64
    shape = (size,) if isinstance(size, int) else tuple(size)
    return _make(np.full(shape, fill_value, dtype=_float_dtype(dtype)), requires_grad)


@_on_cpu
def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    arr = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _make(np.zeros(arr.shape, dtype=dtype or arr.dtype), requires_grad)


@_on_cpu
def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    arr = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _make(np.ones(arr.shape, dtype=dtype or arr.dtype), requires_grad)


@_on_cpu
def full_like(t: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    arr = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _make(np.full(arr.shape, fill_value, dtype=dtype or arr.dtype), requires_grad)


@_on_cpu
def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Evenly spaced values in ``[start, end)``; int64 for integer arguments, as in PyTorch.

    >>> import tinygrad_edu as tg
    >>> tg.arange(3)
    tensor([0, 1, 2])
    """
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = np.int64 if is_int else dtypes.get_default_dtype()
    return _make(np.arange(start, end, step, dtype=dtype), requires_grad)


@_on_cpu
def linspace(
    start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _make(np.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad)


@_on_cpu
def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (n × m)."""
    return _make(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


@_on_cpu
@_size_keyword
def rand(
    *size: Any, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Uniform samples on [0, 1)."""
    arr = numpy_rng(generator).random(_shape_args(size)).astype(_float_dtype(dtype))
    return _make(arr, requires_grad)


@_on_cpu
@_size_keyword
def randn(
    *size: Any, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal samples."""
    arr = numpy_rng(generator).standard_normal(_shape_args(size)).astype(_float_dtype(dtype))
    return _make(arr, requires_grad)


@_on_cpu
def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: Generator | None = None,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Normal samples, PyTorch's ``torch.normal``: ``normal(0, 0.01, size=(2, 1))`` with
    Python numbers and a size, or elementwise ``normal(mean, std)`` where either is a tensor
    (the result takes the tensors' broadcast shape and dtype).

    >>> import tinygrad_edu as tg
    >>> tg.normal(0, 1, (2, 3)).shape, tg.normal(tg.zeros(4), 1.0).shape
    ((2, 3), (4,))
    """
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError(
                f"normal({mean!r}, {std!r}) needs a size when mean and std are numbers, "
                f"as in PyTorch: normal({mean!r}, {std!r}, size=(2, 3))")
        shape = _shape_args((size,))
        arr = numpy_rng(generator).normal(mean, std, shape).astype(_float_dtype(dtype))
        return _make(arr, requires_grad)
    if size is not None:
        raise TypeError("normal(mean, std, size): size is only for numbers mean and std; "
                        "with a tensor mean or std the result takes their shape")
    if any(t.requires_grad for t in tensors) and is_grad_enabled():
        raise RuntimeError(
            "normal(mean, std) with a mean or std that requires grad: the sample does not "
            "carry a gradient to them (PyTorch gives zeros there). To learn them, write "
            "mean + std * randn_like(std) (the reparameterization), which does.")
    mean_arr, std_arr = (v.data if isinstance(v, Tensor) else v for v in (mean, std))
    shape = np.broadcast_shapes(np.shape(mean_arr), np.shape(std_arr))
    out_dtype = np.result_type(*(t.dtype for t in tensors))
    if out_dtype.kind != "f":
        raise TypeError(f"normal(mean, std): a tensor mean or std must be floating point, got "
                        f"{out_dtype}; convert it first, e.g. mean.float()")
    arr = numpy_rng(generator).normal(mean_arr, std_arr, shape).astype(out_dtype)
    return _make(arr, requires_grad)


@_on_cpu
def rand_like(t: Tensor, generator: Generator | None = None) -> Tensor:
    return rand(t.shape, generator=generator, dtype=t.dtype)


@_on_cpu
def randn_like(t: Tensor, generator: Generator | None = None) -> Tensor:
    return randn(t.shape, generator=generator, dtype=t.dtype)


@_on_cpu
def randint(
    low: int,
    high: int | None = None,
    size: Any = (),
    generator: Generator | None = None,
    dtype: Any = np.int64,
) -> Tensor:
    """Random integers in ``[low, high)`` (``randint(high, size=...)`` also works)."""
    if high is None:
        low, high = 0, low
    return Tensor._wrap(numpy_rng(generator).integers(low, high, size=size, dtype=dtype))


def multinomial(input: Any, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """``num_samples`` category indices per row of ``input`` (1-d or 2-d), drawn with
    probabilities proportional to the row's non-negative weights (they need not sum to 1);
    without ``replacement`` no index repeats within a row. int64, no gradient.

    >>> import tinygrad_edu as tg
    >>> tg.multinomial(tg.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    tensor([1, 1])
    """
    w = np.asarray(input.data if isinstance(input, Tensor) else input, dtype=np.float64)
    if w.ndim not in (1, 2) or w.shape[-1] == 0:
        raise ValueError(f"multinomial: prob_dist must be 1 or 2 dim and not empty, got shape "
                         f"{w.shape}")
    rows = w.reshape(-1, w.shape[-1])
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: probability tensor contains either inf, nan or element "
                         "< 0")
    sums = rows.sum(axis=1)
    if (sums <= 0).any():
        raise ValueError(f"multinomial: invalid multinomial distribution (sum of probabilities "
                         f"<= 0) in row {int(np.argmax(sums <= 0))}")
    if not replacement and num_samples > (rows > 0).sum(axis=1).min():
        raise ValueError(f"multinomial: cannot sample {num_samples} indices without "
                         f"replacement from a row with only {(rows > 0).sum(axis=1).min()} "
                         "non-zero weights; pass replacement=True or fewer samples")
    rng = numpy_rng(generator)
    out = np.stack([rng.choice(len(p), size=num_samples, replace=replacement, p=p / p.sum())
                    for p in rows])
    return Tensor._wrap(out.astype(np.int64).reshape(*w.shape[:-1], num_samples))


@_on_cpu
def randperm(n: int, generator: Generator | None = None) -> Tensor:
    """A random permutation of ``0..n-1`` (int64)."""
    return Tensor._wrap(numpy_rng(generator).permutation(n).astype(np.int64))


@_on_cpu
@_size_keyword
def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """PyTorch's ``empty``; here the values are zeros (numpy memory is cheap to clear)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


@_on_cpu
def empty_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros_like(t, dtype=dtype, requires_grad=requires_grad)


def _legacy_constructor(type_name: str) -> Callable:
    """PyTorch's legacy ``torch.FloatTensor(...)``: from data (``FloatTensor([1, 2])``), or
    zeros of a size (``FloatTensor(2, 3)``; PyTorch leaves those values uninitialized)."""
    dtype = next(np.dtype(k) for k, v in dtypes.LEGACY_TYPE_NAMES.items() if v == type_name)

    def constructor(*args: Any, device: Any = None) -> Tensor:
        check_device(device)
        if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return zeros(*(args or (0,)), dtype=dtype)
        if len(args) != 1:
            raise TypeError(f"{type_name}() takes data (a list, array or tensor) or sizes as "
                            f"ints, got {len(args)} arguments: {args!r}")
        return tensor(args[0], dtype=dtype)

    constructor.__name__ = constructor.__qualname__ = type_name
    return constructor


FloatTensor = _legacy_constructor("FloatTensor")
DoubleTensor = _legacy_constructor("DoubleTensor")
LongTensor = _legacy_constructor("LongTensor")
IntTensor = _legacy_constructor("IntTensor")
BoolTensor = _legacy_constructor("BoolTensor")
