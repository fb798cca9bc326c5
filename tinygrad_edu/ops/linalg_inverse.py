"""Square-matrix primitives: inverse, determinant, log |determinant|, linear solve.

All work on batches (``(..., n, n)``, numpy's batching). A singular matrix raises
:class:`LinAlgError` (a ``RuntimeError``, as PyTorch's ``torch.linalg.LinAlgError``) naming the
op and the batch element, never an answer full of inf. Backward rules are written with
``@``, ``swapaxes`` and these primitives' ``call``, so they are differentiable again.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class LinAlgError(RuntimeError):
    """A linear-algebra op met a matrix it cannot handle (singular, not square)."""


def _mT(a):
    """The transpose of the last two dims (arrays and Tensors alike)."""
    return a.swapaxes(-1, -2)


def check_square(a, op: str) -> None:
    """Refuse anything but a batch of square matrices, naming the op and the shape."""
    shape = np.shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise LinAlgError(
            f"{op}: expected a square matrix or a batch of them (shape (..., n, n)), got shape "
            f"{tuple(shape)}"
        )
    if np.asarray(a).dtype.kind not in "fc":
        raise LinAlgError(
            f"{op}: expected a floating-point matrix, got {np.asarray(a).dtype}; convert it "
            "first (A.float() or A.double())"
        )


def _singular(op: str, a: np.ndarray) -> LinAlgError:
    dets = np.linalg.det(a) if a.size else np.ones(a.shape[:-2])
    where = np.argwhere(np.atleast_1d(dets == 0) | ~np.isfinite(np.atleast_1d(dets)))
    at = f" (batch element {tuple(where[0].tolist())})" if a.ndim > 2 and len(where) else ""
    return LinAlgError(
        f"{op}: the input matrix is singular{at}, so it has no inverse; check for repeated or "
        "all-zero rows/columns, or use torch.linalg.pinv-style regularisation (A + eps * I)"
    )


def _inv(a: np.ndarray, op: str) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise _singular(op, a) from None


class Inverse(Function):
    """``A⁻¹``; dA = -A⁻ᵀ g A⁻ᵀ."""

    @staticmethod
    def forward(ctx, a):
        check_square(a, "linalg.inv")
        out = _inv(a, "linalg.inv")
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (inv,) = ctx.saved_tensors
        inv_t = _mT(inv)
        return -(inv_t @ g @ inv_t)


def _cofactor(a: np.ndarray) -> np.ndarray:
    """d det(A) / dA, also for singular A: with A = U S Vᵀ it is det(U) det(V) U diag(Π_{j≠i}
    s_j) Vᵀ (the transposed adjugate)."""
    u, s, vt = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1)
    sign = np.linalg.det(u) * np.linalg.det(vt)
    return sign[..., None, None] * (u * others[..., None, :]) @ vt


class Det(Function):
    """``det(A)``; dA = g det(A) A⁻ᵀ (the cofactor matrix, also where A is singular)."""

    @staticmethod
    def forward(ctx, a):
        check_square(a, "linalg.det")
        out = np.asarray(np.linalg.det(a))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, det = ctx.saved_tensors
        g = g[..., None, None]
        if not isinstance(det, np.ndarray):  # Tensors (create_graph): through Inverse
            if np.any(det.data == 0):
                raise LinAlgError(
                    "linalg.det: the second derivative at a singular matrix is not supported "
                    "(create_graph=True needs det(A) != 0)"
                )
            return g * det[..., None, None] * _mT(Inverse.call(a))
        if a.shape[-1] == 0:
            return np.zeros_like(a)
        if np.all(det != 0) and np.all(np.isfinite(det)):
            return g * det[..., None, None] * _mT(np.linalg.inv(a))
        return g * _cofactor(a)


class LogAbsDet(Function):
    """``log |det(A)|`` (slogdet's second result); dA = g A⁻ᵀ."""

    @staticmethod
    def forward(ctx, a):
        check_square(a, "linalg.slogdet")
        ctx.save_for_backward(a)
        return np.asarray(np.linalg.slogdet(a)[1])

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        inv = Inverse.call(a) if not isinstance(a, np.ndarray) else _inv(a, "linalg.slogdet")
        return g[..., None, None] * _mT(inv)


class Solve(Function):
    """``X = A⁻¹ B`` for ``A`` (..., n, n) and ``B`` (..., n, k), batch dims broadcast;
    dB = A⁻ᵀ g, dA = -dB Xᵀ."""

    @staticmethod
    def forward(ctx, a, b):
        check_square(a, "linalg.solve")
        try:
            out = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise _singular("linalg.solve", a) from None
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        gb = Solve.call(_mT(a), g)
        return (-(gb @ _mT(x)) if na else None), (gb if nb else None)
