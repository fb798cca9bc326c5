"""Matrix product, with numpy's rules for 1-D operands and broadcast batch dimensions."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _matmul_error(a, b) -> ValueError:
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return ValueError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and "
            f"{b.ndim}D (shapes {a.shape} and {b.shape}); use * to multiply by a scalar"
        )
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner_b:
        where = "second-to-last" if b.ndim > 1 else "only"
        return ValueError(
            f"shapes {a.shape} and {b.shape} are not aligned: the last dimension of the first "
            f"({a.shape[-1]}) must equal the {where} dimension of the second ({inner_b}). "
            "Check the layer sizes, or whether one operand needs .T"
        )
    return ValueError(
        f"the batch dimensions of {a.shape} and {b.shape} cannot be broadcast together"
    )


_ndarray = np.ndarray
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_BLAS_DTYPES = (_F32, _F64)


def mm(a, b):
    """``a @ b``, through ``np.dot`` when both are float32 or float64 arrays of one or two
    dimensions. For those ``np.dot`` calls BLAS directly, while ``np.matmul`` (a gufunc)
    pays more per call and takes a slow loop for an inner dimension of 1: a (1000, 1) @
    (1, 7) outer product costs ~10 µs through ``@`` and ~3.5 µs through ``np.dot`` (float32,
    one thread), a (10, 2) @ (2, 4) product 0.9 µs and 0.56 µs. The values are those of
    ``@``. Anything else (Tensors under ``create_graph``, batches, integers, a mix of dtypes)
    goes to ``@``.

    >>> import numpy as np
    >>> a, b = np.ones((3, 1), np.float32), np.arange(4, dtype=np.float32)[None]
    >>> bool((mm(a, b) == a @ b).all())
    True
    """
    if type(a) is np.ndarray and type(b) is np.ndarray:
        dt = a.dtype
        if b.dtype is dt and dt in _BLAS_DTYPES and 0 < a.ndim <= 2 and 0 < b.ndim <= 2:
            return np.dot(a, b)
    return a @ b


def blas_matrices(g, a, b) -> bool:
    """Whether ``g``, ``a`` and ``b`` are 2-D numpy arrays of one float32/float64 dtype: the
    case in which a backward rule may call ``np.dot`` directly for its products (those
    :func:`mm` would make, its checks made once for the three).

    >>> m = np.ones((2, 3), np.float32)
    >>> blas_matrices(m, m, m), blas_matrices(m, m, m.astype(np.float64))
    (True, False)
    """
    dt = g.dtype
    return (
        (dt is _F32 or dt is _F64)
        and type(g) is _ndarray
        and type(a) is _ndarray
        and type(b) is _ndarray
        and a.dtype is dt is b.dtype
        and g.ndim == a.ndim == b.ndim == 2
    )


class MatMul(Function):
    _fresh_grads = True  # every gradient is a new product

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return mm(a, b)
        except ValueError:
            raise _matmul_error(a, b) from None

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved
        if saved is not None and not ctx._tensor_mode:
            a, b = saved
            if blas_matrices(g, a, b):  # two matrices: mm's np.dot products, checked once
                na, nb = ctx.needs_input_grad
                return (np.dot(g, b.T) if na else None), (np.dot(a.T, g) if nb else None)
        a, b = ctx.saved_tensors  # the freed graph's error; Tensors under create_graph
        na, nb = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:  # dot product: g is 0-d
            return (g * b if na else None), (g * a if nb else None)
        if a.ndim == 1:  # (n,) @ (..., n, m) -> (..., m)
            ga = (g[..., None, :] @ b.swapaxes(-1, -2))[..., 0, :] if na else None
            gb = a[:, None] * g[..., None, :] if nb else None
            return ga, gb
        if b.ndim == 1:  # (..., n, m) @ (m,) -> (..., n)
            ga = g[..., :, None] * b if na else None
            gb = (a.swapaxes(-1, -2) @ g[..., :, None])[..., 0] if nb else None
            return ga, gb
        ga = mm(g, b.swapaxes(-1, -2)) if na else None
        gb = mm(a.swapaxes(-1, -2), g) if nb else None
        return ga, gb
