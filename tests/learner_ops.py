"""A learner's own differentiable ops, as gradient-check homework writes them: ``tg.Function``
subclasses with a numpy forward and a hand-written backward, of increasing difficulty.

Each correct op is followed by the mistakes learners typically make in its backward (a
subclass overriding ``backward`` only, named after the mistake), so that
``tests/test_foreign_property_tests.py`` can check that the property tests of
``tinygrad_edu.testing`` pass the first and catch every one of the others.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

import tinygrad_edu as tg


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """A sigmoid that never overflows: exp of a non-positive number only."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ------------------------------------------------------------------ 1. Swish / SiLU
class Swish(tg.Function):
    """``x * sigmoid(x)`` (torch.nn.functional.silu)."""

    @staticmethod
    def forward(ctx, x):
        s = _sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * (s + x * s * (1 - s))


class SwishMissingProductTerm(Swish):
    """Differentiates only the sigmoid: the product rule's ``s`` term is lost."""

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * x * s * (1 - s)


# ------------------------------------------------------------------ 2. Softplus
class Softplus(tg.Function):
    """``log(1 + exp(x))``, written so that large ``x`` does not overflow."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _sigmoid(x)


class SoftplusNoChainRule(Softplus):
    """Returns the local derivative, forgetting to multiply by the incoming gradient."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _sigmoid(x)


# ------------------------------------------------------------------ 3. log-sum-exp
class LogSumExp(tg.Function):
    """``log(sum(exp(x), axis))``, stable (the max is subtracted first), with ``keepdim``."""

    @staticmethod
    def forward(ctx, x, axis=-1, keepdim=False):
        m = x.max(axis=axis, keepdims=True)
        out = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(x, out)
        ctx.axis, ctx.keepdim = axis, keepdim
        return out if keepdim else np.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.keepdim:
            g = np.expand_dims(g, ctx.axis)
        return g * np.exp(x - out)  # g times the softmax along the axis


class LogSumExpWrongKeepdims(LogSumExp):
    """Multiplies the reduced gradient by the softmax without putting the reduced axis back:
    numpy then lines ``g`` up with the wrong axis."""

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return g * np.exp(x - out)


# ------------------------------------------------------------------ 4. LayerNorm
class LayerNorm(tg.Function):
    """``(x - mean) / sqrt(var + eps)`` over the last axis (no affine parameters)."""

    @staticmethod
    def forward(ctx, x, eps=1e-5):
        mu = x.mean(axis=-1, keepdims=True)
        inv_std = 1.0 / np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + eps)
        xhat = (x - mu) * inv_std
        ctx.save_for_backward(xhat, inv_std)
        return xhat

    @staticmethod
    def backward(ctx, g):
        xhat, inv_std = ctx.saved_tensors
        return inv_std * (g - g.mean(axis=-1, keepdims=True)
                          - xhat * (g * xhat).mean(axis=-1, keepdims=True))


class LayerNormStdAsConstant(LayerNorm):
    """Treats the standard deviation as a constant: the ``xhat * mean(g * xhat)`` term is
    lost."""

    @staticmethod
    def backward(ctx, g):
        _, inv_std = ctx.saved_tensors
        return inv_std * (g - g.mean(axis=-1, keepdims=True))


# ------------------------------------------------------------------ 5. broadcasting x*y + z
class MulAdd(tg.Function):
    """``x * y + z`` for shapes that broadcast (torch.addcmul's arithmetic); the engine sums
    each gradient back to its input's shape, as PyTorch's does."""

    @staticmethod
    def forward(ctx, x, y, z):
        ctx.save_for_backward(x, y)
        return x * y + z

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y, g * x, g


class MulAddSwapped(MulAdd):
    """Gives ``x`` the gradient of ``y`` and back."""

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * x, g * y, g


# ------------------------------------------------------------------ 6. a mean with keepdims
class MeanKeepdim(tg.Function):
    """``x.mean(axis, keepdims=True)``."""

    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.shape, ctx.n = x.shape, x.shape[axis]
        return x.mean(axis=axis, keepdims=True)

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(g, ctx.shape) / ctx.n


class MeanKeepdimMissingFactor(MeanKeepdim):
    """The gradient of a sum: the ``1/n`` is missing."""

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(g, ctx.shape)


class MeanKeepdimUnexpanded(MeanKeepdim):
    """Returns the reduced gradient as it came: the wrong shape, which the engine refuses."""

    @staticmethod
    def backward(ctx, g):
        return g / ctx.n


# ------------------------------------------------------------------ 7. Huber loss
class Huber(tg.Function):
    """Elementwise Huber loss of ``pred - target`` (torch's ``huber_loss``,
    ``reduction='none'``): quadratic within ``delta``, linear outside."""

    @staticmethod
    def forward(ctx, pred, target, delta=1.0):
        d = pred - target
        ctx.save_for_backward(d)
        ctx.delta = delta
        small = np.abs(d) <= delta
        return np.where(small, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_tensors
        gd = g * np.clip(d, -ctx.delta, ctx.delta)
        return gd, -gd


class HuberUnclipped(Huber):
    """Uses the squared error's gradient everywhere: right within ``delta`` only."""

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_tensors
        return g * d, -g * d


class HuberTargetSign(Huber):
    """Gives the target the same gradient as the prediction (the minus sign is lost)."""

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_tensors
        gd = g * np.clip(d, -ctx.delta, ctx.delta)
        return gd, gd


# ------------------------------------------------------------------ 8. clamp, kinks at both ends
class Clamp(tg.Function):
    """``clip(x, low, high)``: slope 1 inside, 0 outside; kinks at ``low`` and ``high``."""

    @staticmethod
    def forward(ctx, x, low=-1.0, high=1.0):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ((x > ctx.low) & (x < ctx.high))


class ClampForgotLow(Clamp):
    """Masks only the upper end: values below ``low`` still pass their gradient."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x < ctx.high)


# ------------------------------------------------------------------ 9. two outputs, two Functions
class Radius(tg.Function):
    """``sqrt(x**2 + y**2)``: with :class:`Angle`, the polar coordinates of ``(x, y)``; a
    Function has one output, so the pair is two Functions."""

    @staticmethod
    def forward(ctx, x, y):
        r = np.hypot(x, y)
        ctx.save_for_backward(x, y, r)
        return r

    @staticmethod
    def backward(ctx, g):
        x, y, r = ctx.saved_tensors
        return g * x / r, g * y / r


class Angle(tg.Function):
    """``atan2(y, x)``, the angle of ``(x, y)``."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        r2 = x * x + y * y
        return -g * y / r2, g * x / r2


class AngleSignFlipped(Angle):
    """Both partial derivatives with the wrong sign (``atan2(x, y)``'s convention mixed up)."""

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        r2 = x * x + y * y
        return g * y / r2, -g * x / r2


def polar(x, y):
    """Both outputs, ``(r, theta)``, as a function that gradcheck takes."""
    return Radius.apply(x, y), Angle.apply(x, y)


# ------------------------------------------------------------------ 10. matmul: Linear
class Linear(tg.Function):
    """``x @ W.T + b`` with PyTorch's ``(out_features, in_features)`` weight."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w.T + b

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g @ w, g.T @ x, g.sum(axis=0)


class LinearTransposedWeightGrad(Linear):
    """``x.T @ g`` for the weight: right for ``x @ W`` but transposed for ``x @ W.T`` (a
    shape error unless the weight is square)."""

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g @ w, x.T @ g, g.sum(axis=0)


# ------------------------------------------------------------------ 11. an option: the p-norm
class PNorm(tg.Function):
    """``(sum |x|**p) ** (1/p)`` along ``axis`` (a number and an int option, not tensors)."""

    @staticmethod
    def forward(ctx, x, p=2.0, axis=-1):
        out = (np.abs(x) ** p).sum(axis=axis, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(x, out)
        ctx.p, ctx.axis = p, axis
        return np.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        g = np.expand_dims(g, ctx.axis)
        return g * np.sign(x) * (np.abs(x) / out) ** (ctx.p - 1)


class PNormForgotSign(PNorm):
    """Differentiates ``|x|**p`` as if ``x`` were positive: wrong for negative entries."""

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        g = np.expand_dims(g, ctx.axis)
        return g * (np.abs(x) / out) ** (ctx.p - 1)


# ------------------------------------------------------------------ 12. int input, float output
class Embedding(tg.Function):
    """``weight[indices]``: integer indices in, float rows out; the indices get no gradient."""

    @staticmethod
    def forward(ctx, weight, indices):
        ctx.save_for_backward(indices)
        ctx.weight_shape = weight.shape
        return weight[indices]

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        dw = np.zeros(ctx.weight_shape, dtype=g.dtype)
        np.add.at(dw, indices, g)
        return dw, None


class EmbeddingOverwrites(Embedding):
    """``dw[indices] = g``: a row used twice keeps only its last gradient instead of the sum."""

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        dw = np.zeros(ctx.weight_shape, dtype=g.dtype)
        dw[indices] = g
        return dw, None


# ------------------------------------------------------------------ misuse of Function
class SquareWrongCount(tg.Function):
    """Two inputs, one gradient returned."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        _, y = ctx.saved_tensors
        return g * y


class DoubleReturnsTensor(tg.Function):
    """``forward`` returns a Tensor instead of an array (PyTorch's habit): accepted."""

    @staticmethod
    def forward(ctx, x):
        return tg.tensor(2 * x)

    @staticmethod
    def backward(ctx, g):
        return 2 * g


class SinCos(tg.Function):
    """Two outputs from one Function: refused (write one Function per output)."""

    @staticmethod
    def forward(ctx, x):
        return np.sin(x), np.cos(x)

    @staticmethod
    def backward(ctx, g):
        return g


class KeepsContext(tg.Function):
    """Leaks its ``ctx`` so that a test can read ``saved_tensors`` after backward."""

    leaked: ClassVar[list] = []

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        KeepsContext.leaked.append(ctx)
        return 3 * x

    @staticmethod
    def backward(ctx, g):
        return 3 * g
