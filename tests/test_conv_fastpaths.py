"""The convolution round's fast paths: ``Conv2d`` (one node: padding, im2col, a batched
product; col2im in backward), ``MaxPoolTiles`` and ``AvgPoolTiles`` (pooling whose windows
tile the input, as strided views). Values, gradients and second-order gradients against
PyTorch in float64 and against central finite differences, over random geometries, including
those where a pooling fast path must not be taken (overlapping, padded or dilated windows) and
inputs with tied maxima, whose gradient the fast path must share as the general path does."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F

from .helpers import assert_close, numeric_vjp


@st.composite
def conv_cases(draw, max_size: int = 7):
    """A conv2d geometry with arrays: (x, w, b or None, options)."""
    groups = draw(st.integers(1, 3))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)),
                             st.sampled_from(["valid", "same"])))
    if padding == "same":
        stride = (1, 1)
    pad = (0, 0) if isinstance(padding, str) else padding
    h = draw(st.integers(max(1, dil[0] * (kh - 1) + 1 - 2 * pad[0]), max_size))
    w = draw(st.integers(max(1, dil[1] * (kw - 1) + 1 - 2 * pad[1]), max_size))
    n = draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((n, cg * groups, h, w))
    weight = rng.standard_normal((og * groups, cg, kh, kw))
    bias = rng.standard_normal(og * groups) if draw(st.booleans()) else None
    opts = {"stride": stride, "padding": padding, "dilation": dil, "groups": groups}
    return x, weight, bias, opts


def _torch_conv(x, w, b, opts):
    return torch.nn.functional.conv2d(x, w, b, **opts)


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on its own copy
@settings(max_examples=60, deadline=None)
@given(conv_cases(), st.integers(0, 2**32 - 1))
def test_conv2d_values_and_gradients_match_torch(case, seed):
    x, w, b, opts = case
    args = [x, w] if b is None else [x, w, b]
    ts = [tg.tensor(a, requires_grad=True) for a in args]
    out = F.conv2d(*ts[:2], ts[2] if b is not None else None, **opts)
    assert out._ctx.name == "Conv2d"
    rs = [torch.tensor(a, requires_grad=True) for a in args]
    ref = _torch_conv(rs[0], rs[1], rs[2] if b is not None else None, opts)
    assert_close(out.numpy(), ref.detach().numpy(), atol=1e-12, rtol=1e-10, what="value")
    cot = np.random.default_rng(seed).standard_normal(ref.shape)
    (out * cot).sum().backward()
    (ref * torch.tensor(cot)).sum().backward()
    for t, r, name in zip(ts, rs, "xwb", strict=False):
        assert t.grad.dtype == np.float64
        assert_close(t.grad.numpy(), r.grad.numpy(), atol=1e-10, rtol=1e-9, what=f"d/d{name}")


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=30, deadline=None)
@given(conv_cases(max_size=5))
def test_conv2d_second_order_gradients_match_torch(case):
    """Under create_graph the backward is a graph of primitives; its own gradient (d/dw of
    |dL/dx|² and d/dx of |dL/dw|²) must match PyTorch's double backward."""
    x, w, _, opts = case
    tx, tw = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
    rx, rw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out, ref = F.conv2d(tx, tw, **opts), _torch_conv(rx, rw, None, opts)
    gx, gw = tg.grad((out * out).sum(), (tx, tw), create_graph=True)
    rgx, rgw = torch.autograd.grad((ref * ref).sum(), (rx, rw), create_graph=True)
    ((gx * gx).sum() + (gw * gw).sum()).backward()
    ((rgx * rgx).sum() + (rgw * rgw).sum()).backward()
    assert_close(tx.grad.numpy(), rx.grad.numpy(), atol=1e-9, rtol=1e-8, what="d2/dx")
    assert_close(tw.grad.numpy(), rw.grad.numpy(), atol=1e-9, rtol=1e-8, what="d2/dw")


@settings(max_examples=15, deadline=None)
@given(conv_cases(max_size=5), st.integers(0, 2**32 - 1))
def test_conv2d_gradients_match_finite_differences(case, seed):
    x, w, b, opts = case
    args = [x, w] if b is None else [x, w, b]

    def fn(*a, **kw):
        return F.conv2d(*a[:2], a[2] if len(a) > 2 else None, **kw)

    ts = [tg.tensor(a, requires_grad=True) for a in args]
    out = fn(*ts, **opts)
    cot = np.random.default_rng(seed).standard_normal(out.shape)
    (out * cot).sum().backward()
    for i, t in enumerate(ts):
        assert_close(t.grad.numpy(), numeric_vjp(fn, args, opts, cot, i), atol=1e-6, rtol=1e-5,
                     what=f"input {i}")


def test_conv2d_float32_keeps_float32_and_matches_float64():
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s) for s in ((2, 4, 9, 8), (6, 2, 3, 3), (6,)))
    opts = {"stride": (2, 1), "padding": 1, "dilation": 1, "groups": 2}
    ts = [tg.tensor(a.astype(np.float32), requires_grad=True) for a in (x, w, b)]
    out = F.conv2d(*ts, **opts)
    out.sum().backward()
    rs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    _torch_conv(*rs, opts).sum().backward()
    assert out.dtype == np.float32 and all(t.grad.dtype == np.float32 for t in ts)
    for t, r in zip(ts, rs, strict=True):
        assert_close(t.grad.numpy(), r.grad.numpy(), atol=1e-4, rtol=1e-4)


@st.composite
def pool_cases(draw):
    """A max_pool2d geometry, tiled (the fast path) or not, with values that may tie."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    tiled = draw(st.booleans())
    if tiled:
        stride, padding, dilation, ceil = None, 0, 1, False
        if draw(st.booleans()):
            stride = (kh, kw)
    else:
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
        dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        ceil = draw(st.booleans())
    lo_h = (dilation if isinstance(dilation, int) else dilation[0]) * (kh - 1) + 1
    lo_w = (dilation if isinstance(dilation, int) else dilation[1]) * (kw - 1) + 1
    pad = (padding, padding) if isinstance(padding, int) else padding
    h = draw(st.integers(max(1, lo_h - 2 * pad[0]), 8))
    w = draw(st.integers(max(1, lo_w - 2 * pad[1]), 8))
    shape = draw(st.sampled_from([(1, 2), (2, 3), ()]))  # (N, C), or unbatched (C,) below
    shape = (*shape, h, w) if shape else (2, h, w)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ties = draw(st.booleans())
    x = rng.integers(-2, 3, shape).astype(np.float64) if ties else rng.standard_normal(shape)
    opts = {"kernel_size": (kh, kw), "stride": stride, "padding": padding,
            "dilation": dilation, "ceil_mode": ceil}
    return x, opts, ties


def _general_max_pool(x, opts):
    """The general path: unfolded windows reduced with ``amax`` (ties share the gradient)."""
    k = opts["kernel_size"]
    st_ = opts["stride"] if opts["stride"] is not None else k
    pad = opts["padding"]
    pad = (pad, pad) if isinstance(pad, int) else pad
    xp = x.pad(((0, 0),) * (x.ndim - 2) + ((pad[0], pad[0]), (pad[1], pad[1])), value=-np.inf)
    batched = xp if xp.ndim == 4 else xp.unsqueeze(0)
    cols = tg.ops.conv.Unfold.apply(batched, kernel=k, stride=st_, dilation=(1, 1))
    out = cols.reshape(*cols.shape[:2], k[0] * k[1], *cols.shape[-2:]).amax(axis=2)
    return out if x.ndim == 4 else out[0]


def _pair(v) -> tuple:
    return (v, v) if isinstance(v, int) else tuple(v)


def _is_tiled(opts) -> bool:
    """Whether ``F.max_pool2d`` should take the fast path: windows the size of the stride,
    undilated, and no padding (with ceil_mode the padding is made explicit first)."""
    k = opts["kernel_size"]
    return ((opts["stride"] is None or _pair(opts["stride"]) == k)
            and _pair(opts["dilation"]) == (1, 1)
            and (opts["ceil_mode"] or _pair(opts["padding"]) == (0, 0)))


@settings(max_examples=120, deadline=None)
@given(pool_cases(), st.integers(0, 2**32 - 1))
def test_max_pool2d_values_and_gradients(case, seed):
    """Against PyTorch without ties (PyTorch sends a tie's gradient to one element, ours shares
    it); with ties, the fast path against the general path (amax's equal shares)."""
    x, opts, ties = case
    t = tg.tensor(x, requires_grad=True)
    out = F.max_pool2d(t, **opts)
    assume(np.isfinite(out.numpy()).all())  # not a window wholly in the padding (-inf)
    node = out._ctx if x.ndim == 4 else out._ctx.parents[0]._ctx  # unbatched: out[0]
    assert (node.name == "MaxPoolTiles") == _is_tiled(opts)
    cot = np.random.default_rng(seed).standard_normal(out.shape)
    (out * cot).sum().backward()
    if ties:
        if not _is_tiled(opts):
            return
        u = tg.tensor(x, requires_grad=True)
        ref = _general_max_pool(u, opts)
        (ref * cot).sum().backward()
        assert_close(out.numpy(), ref.numpy(), atol=0, rtol=0, what="value")
        assert_close(t.grad.numpy(), u.grad.numpy(), atol=1e-12, rtol=1e-12, what="grad")
        return
    r = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.max_pool2d(r, **opts)
    (ref * torch.tensor(cot)).sum().backward()
    assert_close(out.numpy(), ref.detach().numpy(), atol=0, rtol=0, what="value")
    assert_close(t.grad.numpy(), r.grad.numpy(), atol=1e-12, rtol=1e-12, what="grad")


def test_max_pool2d_tied_window_shares_the_gradient():
    x = tg.tensor([[[[1.0, 1.0, 0.0], [0.0, 1.0, 5.0]]]], requires_grad=True)
    out = F.max_pool2d(x, 2)
    assert out._ctx.name == "MaxPoolTiles" and out.tolist() == [[[[1.0]]]]
    out.sum().backward()
    third = float(np.float32(1.0) / np.float32(3.0))  # Python floats make float32
    assert x.grad.tolist() == [[[[third, third, 0.0], [0.0, third, 0.0]]]]


@settings(max_examples=30, deadline=None)
@given(pool_cases(), st.integers(0, 2**32 - 1))
def test_max_pool2d_gradients_match_finite_differences(case, seed):
    x, opts, ties = case
    if ties:  # the max is not differentiable at a tie
        x = np.random.default_rng(seed).standard_normal(x.shape)
    t = tg.tensor(x, requires_grad=True)
    out = F.max_pool2d(t, **opts)
    assume(np.isfinite(out.numpy()).all())
    cot = np.random.default_rng(seed).standard_normal(out.shape)
    (out * cot).sum().backward()
    assert_close(t.grad.numpy(), numeric_vjp(F.max_pool2d, [x], opts, cot, 0), atol=1e-6,
                 rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(pool_cases())
def test_max_pool2d_second_order_gradients_match_torch(case):
    x, opts, ties = case
    x = np.random.default_rng(1).standard_normal(x.shape) if ties else x
    t, r = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = F.max_pool2d(t, **opts), torch.nn.functional.max_pool2d(r, **opts)
    assume(np.isfinite(out.numpy()).all())
    (g,) = tg.grad((out**3).sum(), t, create_graph=True)
    (rg,) = torch.autograd.grad((ref**3).sum(), r, create_graph=True)
    (g * g).sum().backward()
    (rg * rg).sum().backward()
    assert_close(t.grad.numpy(), r.grad.numpy(), atol=1e-10, rtol=1e-9)


def test_max_pool2d_input_changed_in_place_after_forward_keeps_its_gradient():
    """The fast path keeps each element's share, not the input."""
    data = np.array([[[[3.0, 1.0], [2.0, 0.0]]]])
    x = tg.tensor(data, requires_grad=True)
    y = x * 1.0
    out = F.max_pool2d(y, 2)
    y.data[0, 0, 0, 0] = -10.0  # after forward: the maximum's position must not move
    out.sum().backward()
    assert x.grad.tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]


@pytest.mark.parametrize("shape", [(1, 1, 1, 3), (1, 1, 3, 1)])
def test_max_pool2d_window_larger_than_input_is_refused(shape):
    with pytest.raises(ValueError):
        F.max_pool2d(tg.zeros(*shape), 2)


@st.composite
def avg_pool_cases(draw):
    """An avg_pool2d geometry (tiled or not) and PyTorch's divisor options."""
    x, opts, _ = draw(pool_cases())
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(x.shape)
    del opts["dilation"]
    opts["count_include_pad"] = draw(st.booleans())
    opts["divisor_override"] = draw(st.sampled_from([None, None, 3]))
    return x, opts


def _avg_is_tiled(opts) -> bool:
    """The fast path: stride equal to the kernel, and no padding left to the pooling op (the
    options other than PyTorch's defaults pad explicitly first)."""
    k = opts["kernel_size"]
    defaults = (not opts["ceil_mode"] and opts["count_include_pad"]
                and opts["divisor_override"] is None)
    return ((opts["stride"] is None or _pair(opts["stride"]) == k)
            and (not defaults or _pair(opts["padding"]) == (0, 0)))


@settings(max_examples=100, deadline=None)
@given(avg_pool_cases(), st.integers(0, 2**32 - 1))
def test_avg_pool2d_values_and_gradients_match_torch(case, seed):
    x, opts = case
    t, r = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = F.avg_pool2d(t, **opts), torch.nn.functional.avg_pool2d(r, **opts)
    names = set()
    stack = [out._ctx]
    while stack:  # every node of the forward graph
        node = stack.pop()
        names.add(node.name)
        stack += [p._ctx for p in node.parents if isinstance(p, tg.Tensor) and p._ctx]
    assert ("AvgPoolTiles" in names) == _avg_is_tiled(opts)
    cot = np.random.default_rng(seed).standard_normal(out.shape)
    (out * cot).sum().backward()
    (ref * torch.tensor(cot)).sum().backward()
    assert_close(out.numpy(), ref.detach().numpy(), atol=1e-12, rtol=1e-12, what="value")
    assert_close(t.grad.numpy(), r.grad.numpy(), atol=1e-12, rtol=1e-12, what="grad")


@settings(max_examples=25, deadline=None)
@given(avg_pool_cases(), st.integers(0, 2**32 - 1))
def test_avg_pool2d_gradients_match_finite_differences_and_torch_double_backward(case, seed):
    x, opts = case
    t, r = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = F.avg_pool2d(t, **opts), torch.nn.functional.avg_pool2d(r, **opts)
    cot = np.random.default_rng(seed).standard_normal(out.shape)
    (g,) = tg.grad((out * cot).sum(), t, retain_graph=True)
    assert_close(g.numpy(), numeric_vjp(F.avg_pool2d, [x], opts, cot, 0), atol=1e-6, rtol=1e-5)
    (g,) = tg.grad((out**3).sum(), t, create_graph=True)
    (rg,) = torch.autograd.grad((ref**3).sum(), r, create_graph=True)
    (g * g).sum().backward()
    (rg * rg).sum().backward()
    assert_close(t.grad.numpy(), r.grad.numpy(), atol=1e-10, rtol=1e-9, what="double backward")


def test_avg_pool2d_of_integers_takes_the_general_path(monkeypatch):
    def refuse(ctx, x, kernel=(2, 2)):
        raise AssertionError("the tiled fast path must not see an integer input")

    monkeypatch.setattr(tg.ops.conv.AvgPoolTiles, "forward", staticmethod(refuse))
    out = F.avg_pool2d(tg.tensor(np.arange(16).reshape(1, 1, 4, 4)), 2)
    assert out.dtype == np.float64
    assert out.tolist() == [[[[2.5, 4.5], [10.5, 12.5]]]]
