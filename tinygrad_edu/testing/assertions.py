"""Assertions with messages that say where and by how much: values, gradients, backprops.

>>> import numpy as np
>>> assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]))
>>> try:
...     assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.5]), what="y")
... except AssertionError as e:
...     print(e)
y: 1 of 2 entries differ; max abs err 0.5, max rel err 0.2; worst at [1]: 2.0 vs expected 2.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..gradcheck import check_gradients, gradcheck
from ..gradcheck.report import GradientReport
from ..tensor import Tensor


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def assert_close(actual: Any, expected: Any, *, atol: float = 1e-8, rtol: float = 1e-5,
                 what: str = "values") -> None:
    """Assert ``|actual - expected| <= atol + rtol * |expected|`` entry by entry (arrays,
    Tensors or numbers, same shape); the message names the worst entry."""
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape} != expected {e.shape}")
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    err = np.abs(a64 - e64)
    err = np.where(np.isnan(err) & ~(np.isnan(a64) & np.isnan(e64)), np.inf, np.nan_to_num(err))
    bound = atol + rtol * np.abs(e64)
    bad = err > bound
    if not bad.any():
        return
    worst = np.unravel_index(int(np.argmax(np.where(bad, err - bound, -np.inf))), err.shape)
    denom = np.maximum(np.abs(a64), np.abs(e64))
    rel = np.divide(err, denom, out=np.zeros_like(err), where=denom > 0)
    raise AssertionError(
        f"{what}: {int(bad.sum())} of {bad.size} entries differ; max abs err {err.max():.3g}, "
        f"max rel err {rel.max():.3g}; worst at {list(map(int, worst))}: {a[worst].item()!r} vs "
        f"expected {e[worst].item()!r}")


def assert_grad_close(fn: Any, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
                      rtol: float = 1e-3, fast_mode: bool = False, seed: int = 0) -> None:
    """Assert that autograd's gradients of ``fn(*inputs)`` match central differences
    (:func:`~tinygrad_edu.gradcheck.gradcheck`, raising its short report on failure).

    Float numpy arrays among ``inputs`` become float64 Tensors that require grad; Tensors
    are used as they are (only those with ``requires_grad`` are checked); anything else is
    passed through.

    >>> import numpy as np
    >>> assert_grad_close(lambda a, b: (a * b).sin(), (np.array([0.5, 1.0]), np.array([2.0, -1.0])))
    """
    if isinstance(inputs, Tensor | np.ndarray) or not isinstance(inputs, list | tuple):
        inputs = (inputs,)
    prepared = tuple(
        Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
        if isinstance(x, np.ndarray) and x.dtype.kind == "f" else x
        for x in inputs)
    gradcheck(fn, prepared, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode, seed=seed)


def assert_backprop_correct(*args: Any, **kwargs: Any) -> GradientReport:
    """Assert that a hand-written gradient is right: :func:`~tinygrad_edu.gradcheck.check_gradients`
    with the same arguments, failing with its report (table and diagnosis). Returns the report.

    >>> import numpy as np
    >>> from tinygrad_edu.seeds import Seed000Net
    >>> net = Seed000Net(bugs=())
    >>> _ = assert_backprop_correct(net, net.init_params(), np.array([0.5, 0.5]), np.array(0.25))
    """
    report = check_gradients(*args, **kwargs)
    if not report.passed:
        raise AssertionError(str(report))
    return report
