"""(a) The baseline: forward, backward and update written out by hand in numpy, float32.

Written the way a careful person would write it for speed, without tricks that change the
computation: in-place updates, no per-element Python loops, constants computed once.
Parameters are kept in the canonical layouts of ``workloads`` except where a layout change is
the natural numpy choice (W4 runs NHWC); ``params()`` converts back.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from benchmarks.harness import Runner

# --------------------------------------------------------------------------------------------
# building blocks


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def sum_rows(d: np.ndarray) -> np.ndarray:
    """``d.sum(axis=0)`` as a matrix-vector product: for a tall, narrow ``d`` BLAS is ~10x
    faster than numpy's reduction over the leading axis."""
    return np.ones(len(d), d.dtype) @ d


def softmax_xent(logits: np.ndarray, labels: np.ndarray, rows: np.ndarray):
    """Mean cross-entropy of integer labels and its gradient w.r.t. the logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = np.log(s[:, 0]).mean() - z[rows, labels].mean()
    d = e / s
    d[rows, labels] -= 1.0
    d /= len(labels)
    return loss, d


class SGD:
    """p -= lr * g, or with momentum (PyTorch's form, dampening 0): b = mu*b + g; p -= lr*b."""

    def __init__(self, params: list[np.ndarray], lr: float, momentum: float = 0.0):
        self.params, self.lr, self.momentum = params, lr, momentum
        self.bufs = [np.zeros_like(p) for p in params] if momentum else None

    def step(self, grads: list[np.ndarray]) -> None:
        if self.bufs is None:
            for p, g in zip(self.params, grads, strict=True):
                p -= self.lr * g
            return
        for p, g, b in zip(self.params, grads, self.bufs, strict=True):
            b *= self.momentum
            b += g
            p -= self.lr * b


class Adam:
    """Adam as PyTorch computes it: eps is added to sqrt(v_hat)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-7):
        self.params, self.lr, self.eps = params, lr, eps
        self.b1, self.b2 = betas
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        b1, b2 = self.b1, self.b2
        step_size = self.lr / (1.0 - b1**self.t)
        sqrt_bc2 = (1.0 - b2**self.t) ** 0.5
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            p -= step_size * m / (np.sqrt(v) / sqrt_bc2 + self.eps)


def make_optimizer(params, spec: dict):
    kind = spec["kind"]
    if kind == "sgd":
        return SGD(params, spec["lr"], spec.get("momentum", 0.0))
    if kind == "adam":
        return Adam(params, spec["lr"], spec["betas"], spec["eps"])
    raise ValueError(kind)


def relu_mlp(params: list[np.ndarray], x: np.ndarray, out_relu: bool, loss_and_grad):
    """Forward and backward of a dense relu net; params are [W0, b0, W1, b1, ...] with W of
    shape (out, in). ``loss_and_grad(out) -> (loss, dloss/dout)``. Returns (loss, grads)."""
    n_layers = len(params) // 2
    inputs, pre = [], []
    h = x
    for i in range(n_layers):
        w, b = params[2 * i], params[2 * i + 1]
        inputs.append(h)
        z = h @ w.T + b
        pre.append(z)
        h = np.maximum(z, 0) if (out_relu or i < n_layers - 1) else z
    loss, d = loss_and_grad(h)
    grads = [None] * len(params)
    for i in reversed(range(n_layers)):
        if out_relu or i < n_layers - 1:
            d = d * (pre[i] > 0)
        grads[2 * i] = d.T @ inputs[i]
        grads[2 * i + 1] = sum_rows(d)
        if i:
            d = d @ params[2 * i]
    return loss, grads


# --------------------------------------------------------------------------------------------
# W1: seed 002's offline sine, [1, 6, 1] sigmoid net with a bias column


def w1(s) -> Runner:
    w_hidden, w_out = (p.copy() for p in s.params)  # (6, 2), (1, 7)
    opt = SGD([w_hidden, w_out], s.lr)
    a0, y, m = s.a0, s.Y, s.m
    ones = np.ones((m, 1), np.float32)
    state = {}

    def step() -> None:
        a1 = sigmoid(a0 @ w_hidden.T)
        a1b = np.concatenate([ones, a1], axis=1)
        h = sigmoid(a1b @ w_out.T)
        r = h - y
        state["loss"] = (r * r).sum() / (2 * m)  # J = sum((Y - H)^2) / (2m)
        d2 = r * h * (1 - h) * (1.0 / m)  # dJ/dz2, with the output sigmoid's derivative
        g_out = d2.T @ a1b
        d1 = (d2 @ w_out[:, 1:]) * a1 * (1 - a1)
        g_hidden = d1.T @ a0
        opt.step([g_hidden, g_out])

    return Runner(step, lambda: [w_hidden.copy(), w_out.copy()])


# --------------------------------------------------------------------------------------------
# W2: seed 000's Keras net 2-2-4-1 relu, MSE, Adam or SGD, batch 10


def w2(s) -> Runner:
    params = [p.copy() for p in s.params]
    opt = make_optimizer(params, s.optimizer)
    batches = s.batches
    state = {"i": 0}

    def step() -> None:
        x, y = batches[state["i"] % len(batches)]
        state["i"] += 1

        def mse(out):
            r = out - y
            return (r * r).mean(), r * (2.0 / r.size)

        state["loss"], grads = relu_mlp(params, x, True, mse)
        opt.step(grads)

    return Runner(step, lambda: [p.copy() for p in params])


# --------------------------------------------------------------------------------------------
# W3: MLP 784-256-256-10 relu, softmax cross-entropy, SGD momentum


def w3(s) -> Runner:
    params = [p.copy() for p in s.params]
    opt = make_optimizer(params, s.optimizer)
    batches = s.batches
    rows = np.arange(s.batch)
    state = {"i": 0}

    def step() -> None:
        x, labels = batches[state["i"] % len(batches)]
        state["i"] += 1
        state["loss"], grads = relu_mlp(
            params, x, False, lambda out: softmax_xent(out, labels, rows)
        )
        opt.step(grads)

    return Runner(step, lambda: [p.copy() for p in params])


# --------------------------------------------------------------------------------------------
# W4: conv 3x3 8 → relu → pool 2 → conv 3x3 16 → relu → pool 2 → linear 10, NHWC inside
#
# NHWC keeps every copy and reduction on contiguous runs. A PyTorch conv weight (out, in, k, k)
# becomes the matrix (out, k*k*in) with columns in (ki, kj, in) order, matching the patches.


def im2col(x: np.ndarray, k: int) -> np.ndarray:
    """NHWC ``x`` → (n*oh*ow, k*k*c) patches in (ki, kj, c) order: a stride-tricks view of
    all windows, then one copy (its inner runs are k*c contiguous floats)."""
    n, h, w, c = x.shape
    win = sliding_window_view(x, (k, k), axis=(1, 2))  # (n, oh, ow, c, ki, kj), no copy
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(n * (h - k + 1) * (w - k + 1), k * k * c)


def conv_input_grad(d2: np.ndarray, w_mat: np.ndarray, x_shape: tuple, k: int) -> np.ndarray:
    """Gradient w.r.t. the conv input: the patch gradients d2 @ w_mat added back where
    ``im2col`` read them from (col2im). Computed per kernel offset, (k*k, P, c), so that each
    of the k*k slab additions runs over contiguous memory; no loop over pixels."""
    n, h, w, c = x_shape
    oh, ow = h - k + 1, w - k + 1
    per_offset = d2 @ w_mat.reshape(-1, k * k, c).transpose(1, 0, 2)  # (k*k, P, c)
    per_offset = per_offset.reshape(k, k, n, oh, ow, c)
    dx = np.zeros(x_shape, d2.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, i : i + oh, j : j + ow, :] += per_offset[i, j]
    return dx


def conv_forward(x: np.ndarray, w_mat: np.ndarray, b: np.ndarray, k: int):
    """Valid convolution (stride 1) of NHWC ``x``. Returns (NHWC output, patches)."""
    n, h, w, _ = x.shape
    cols = im2col(x, k)
    out = cols @ w_mat.T + b
    return out.reshape(n, h - k + 1, w - k + 1, -1), cols


def conv_backward(dout: np.ndarray, cols, w_mat, x_shape, k: int, need_dx: bool):
    d2 = dout.reshape(-1, dout.shape[3])
    dw = d2.T @ cols
    db = sum_rows(d2)
    dx = conv_input_grad(d2, w_mat, x_shape, k) if need_dx else None
    return dw, db, dx


_QUADRANTS = ((0, 0), (0, 1), (1, 0), (1, 1))


def maxpool2_forward(x: np.ndarray):
    """2x2 max-pool of NHWC ``x``, floor mode (an odd last row/column is dropped), as the
    maximum of four strided views (much faster than a reduction over two short axes)."""
    ph, pw = x.shape[1] // 2, x.shape[2] // 2
    q = [x[:, i : 2 * ph : 2, j : 2 * pw : 2, :] for i, j in _QUADRANTS]
    return np.maximum(np.maximum(q[0], q[1]), np.maximum(q[2], q[3])), q


def maxpool2_backward(dout: np.ndarray, out: np.ndarray, quads, x_shape) -> np.ndarray:
    # Each pool here follows a relu, so its only ties are between zeros, whose relu gradient
    # is zero anyway: sending the gradient to every maximum is then exact.
    ph, pw = out.shape[1], out.shape[2]
    even = x_shape[1] == 2 * ph and x_shape[2] == 2 * pw
    dx = np.empty(x_shape, dout.dtype) if even else np.zeros(x_shape, dout.dtype)
    for (i, j), q in zip(_QUADRANTS, quads, strict=True):
        np.multiply(q == out, dout, out=dx[:, i : 2 * ph : 2, j : 2 * pw : 2, :])
    return dx


def _conv_matrix(w: np.ndarray) -> np.ndarray:  # (out, in, k, k) → (out, k*k*in)
    return np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(w.shape[0], -1)


def _conv_weight(m: np.ndarray, shape: tuple) -> np.ndarray:  # the inverse
    oc, c, k, _ = shape
    return m.reshape(oc, k, k, c).transpose(0, 3, 1, 2).copy()


def w4(s) -> Runner:
    k = s.kernel
    c1w, c1b, c2w, c2b, fw, fb = (p.copy() for p in s.params)
    m1, m2 = _conv_matrix(c1w), _conv_matrix(c2w)
    # PyTorch flattens (c, h, w), NHWC flattens (h, w, c): permute the linear weight's
    # columns once here, and back in params().
    ph, pw = s.flat_hw
    oc2 = c2w.shape[0]
    fw_nhwc = np.ascontiguousarray(fw.reshape(-1, oc2, ph, pw).transpose(0, 2, 3, 1))
    fw_nhwc = fw_nhwc.reshape(fw.shape[0], -1)
    batches = [(x.transpose(0, 2, 3, 1).copy(), y) for x, y in s.batches]  # NCHW → NHWC once
    opt = make_optimizer([m1, c1b, m2, c2b, fw_nhwc, fb], s.optimizer)
    rows = np.arange(s.batch)
    state = {"i": 0}

    def step() -> None:
        x, labels = batches[state["i"] % len(batches)]
        state["i"] += 1
        z1, cols1 = conv_forward(x, m1, c1b, k)
        a1 = np.maximum(z1, 0)
        p1, q1 = maxpool2_forward(a1)
        z2, cols2 = conv_forward(p1, m2, c2b, k)
        a2 = np.maximum(z2, 0)
        p2, q2 = maxpool2_forward(a2)
        flat = p2.reshape(len(x), -1)
        logits = flat @ fw_nhwc.T + fb
        state["loss"], d = softmax_xent(logits, labels, rows)

        g_fw, g_fb = d.T @ flat, sum_rows(d)
        dp2 = (d @ fw_nhwc).reshape(p2.shape)
        dz2 = maxpool2_backward(dp2, p2, q2, a2.shape) * (z2 > 0)
        g_m2, g_c2b, dp1 = conv_backward(dz2, cols2, m2, p1.shape, k, True)
        dz1 = maxpool2_backward(dp1, p1, q1, a1.shape) * (z1 > 0)
        g_m1, g_c1b, _ = conv_backward(dz1, cols1, m1, x.shape, k, False)
        opt.step([g_m1, g_c1b, g_m2, g_c2b, g_fw, g_fb])

    def params_now() -> list[np.ndarray]:
        fw_now = fw_nhwc.reshape(-1, ph, pw, oc2).transpose(0, 3, 1, 2).reshape(fw.shape)
        return [
            _conv_weight(m1, c1w.shape),
            c1b.copy(),
            _conv_weight(m2, c2w.shape),
            c2b.copy(),
            fw_now.copy(),
            fb.copy(),
        ]

    return Runner(step, params_now)
