"""``tinygrad_edu.nn`` modules: the Module API (registration, names, modes, state_dict,
repr), containers, and every layer and loss module against the same PyTorch module on
identical weights (copied through state_dict both ways), outputs and all gradients."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import nn

from .helpers import assert_close

# PyTorch's own note that 'same' padding with an even kernel copies the input
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
tn = torch.nn
F64 = np.float64


# --------------------------------------------------------------------------- helpers
def to_torch_state(sd) -> OrderedDict:
    """Our state_dict as PyTorch tensors, sharing memory (``torch.from_numpy``)."""
    return OrderedDict((k, torch.from_numpy(v.numpy())) for k, v in sd.items())


def assert_state_equal(ours: nn.Module, theirs: tn.Module, atol: float = 0.0) -> None:
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b), (list(a), list(b))
    for k in a:
        assert a[k].shape == tuple(b[k].shape), k
        assert_close(a[k].numpy(), b[k].numpy(), atol=atol, rtol=0, what=k)


def compare(ours: nn.Module, theirs: tn.Module, *inputs, steps: int = 1, atol: float = 1e-10,
            seed: int = 0) -> None:
    """Copy PyTorch's weights into ours, then for ``steps`` forward/backward passes compare
    outputs, input gradients, parameter gradients and buffers (running statistics)."""
    theirs = theirs.double()
    ours.double()
    result = ours.load_state_dict(theirs.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    rng = np.random.default_rng(seed)
    for step in range(steps):
        xs_o = [tg.tensor(x, requires_grad=x.dtype.kind == "f") if isinstance(x, np.ndarray)
                else x for x in inputs]
        xs_t = [torch.tensor(x, requires_grad=x.dtype.kind == "f") if isinstance(x, np.ndarray)
                else x for x in inputs]
        out_o, out_t = ours(*xs_o), theirs(*xs_t)
        assert_close(out_o.numpy(), out_t.detach().numpy(), atol=atol, rtol=1e-9,
                     what=f"step {step} output")
        cot = rng.uniform(-1, 1, out_o.shape)
        ours.zero_grad()
        theirs.zero_grad()
        if out_o.requires_grad:
            (out_o * cot).sum().backward()
            (out_t * torch.from_numpy(cot)).sum().backward()
            for i, (a, b) in enumerate(zip(xs_o, xs_t)):
                if isinstance(a, tg.Tensor) and a.requires_grad:
                    assert_close(a.grad.numpy(), b.grad.numpy(), atol=atol, rtol=1e-9,
                                 what=f"step {step} input {i} grad")
            named = dict(ours.named_parameters())
            for name, p in theirs.named_parameters():
                if p.grad is None:
                    assert named[name].grad is None, name
                else:
                    assert_close(named[name].grad.numpy(), p.grad.numpy(), atol=atol, rtol=1e-9,
                                 what=f"step {step} grad of {name}")
        assert_state_equal(ours, theirs, atol=atol)


def _x(rng, *shape):
    return rng.uniform(-2, 2, shape)


# --------------------------------------------------------------------------- layers vs torch
# The option space is swept by hypothesis in test_nn_functional.py; here a few fixed
# configurations check that each module wires its parameters, buffers and options the same
# way PyTorch's does.
@pytest.mark.parametrize("shape,i,o,bias", [((3,), 3, 2, True), ((2, 4, 1), 1, 3, False),
                                            ((5, 4), 4, 4, True)])
def test_linear_matches_pytorch(shape, i, o, bias) -> None:
    rng = np.random.default_rng(0)
    compare(nn.Linear(i, o, bias, dtype=F64), tn.Linear(i, o, bias), _x(rng, *shape))


def test_linear_uses_a_weight_set_as_a_plain_attribute() -> None:
    """A computed weight (as weight normalisation sets one) replaces the Parameter."""
    layer = nn.Linear(3, 2)
    w = layer.weight.detach() * 2
    del layer.weight
    layer.weight = w
    x = np.ones((1, 3), np.float32)
    assert_close(layer(tg.tensor(x)).numpy(), x @ w.numpy().T + layer.bias.numpy())


CONV_CONFIGS = [
    dict(kernel_size=3),
    dict(kernel_size=(2, 3), stride=2, padding=1, bias=False),
    dict(kernel_size=2, padding="same", dilation=2, groups=2),
    dict(kernel_size=3, padding="valid", stride=(2, 1), dilation=(1, 2)),
    dict(kernel_size=3, padding=1, padding_mode="reflect"),
    dict(kernel_size=(3, 2), padding="same", padding_mode="replicate", groups=2),
    dict(kernel_size=3, padding=(2, 1), stride=2, padding_mode="circular"),
]


@pytest.mark.parametrize("kw", CONV_CONFIGS, ids=lambda kw: repr(tn.Conv2d(2, 4, **kw)))
def test_conv2d_matches_pytorch(kw) -> None:
    x = _x(np.random.default_rng(0), 2, 2, 5, 6)
    ours, theirs = nn.Conv2d(2, 4, dtype=F64, **kw), tn.Conv2d(2, 4, **kw)
    assert repr(ours) == repr(theirs)
    compare(ours, theirs, x)


POOL_CONFIGS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), ceil_mode=True),
]


@pytest.mark.parametrize("kw", POOL_CONFIGS, ids=lambda kw: repr(tn.MaxPool2d(**kw)))
def test_pooling_modules_match_pytorch(kw) -> None:
    x = np.random.default_rng(0).permutation(2 * 2 * 5 * 7).reshape(2, 2, 5, 7) * 0.1
    ours, theirs = nn.MaxPool2d(**kw), tn.MaxPool2d(**kw)
    assert repr(ours) == repr(theirs)
    compare(ours, theirs, x)  # distinct values: no ties
    for include in (True, False):
        ours, theirs = nn.AvgPool2d(**kw, count_include_pad=include), \
            tn.AvgPool2d(**kw, count_include_pad=include)
        assert repr(ours) == repr(theirs)
        compare(ours, theirs, x)
    compare(nn.AvgPool2d(3, divisor_override=4), tn.AvgPool2d(3, divisor_override=4), x)


BN_CONFIGS = [
    ("1d", (5,), dict()),
    ("1d", (4,), dict(momentum=None, eps=1e-2)),
    ("1d", (), dict(affine=False)),
    ("2d", (3, 2), dict(momentum=0.5, bias=False)),
    ("2d", (2, 2), dict(track_running_stats=False)),
]


@pytest.mark.parametrize("kind,dims,kw", BN_CONFIGS,
                         ids=[f"{k}{d}{kw}" for k, d, kw in BN_CONFIGS])
def test_batchnorm_matches_pytorch_over_training_steps_and_in_eval(kind, dims, kw) -> None:
    rng = np.random.default_rng(0)
    c = 3
    cls = {"1d": (nn.BatchNorm1d, tn.BatchNorm1d), "2d": (nn.BatchNorm2d, tn.BatchNorm2d)}[kind]
    ours, theirs = cls[0](c, dtype=F64, **kw), cls[1](c, **kw).double()
    assert repr(ours) == repr(theirs)
    with torch.no_grad():  # non-trivial affine parameters
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, p.shape)))
    for step in range(3):  # the running statistics accumulate
        compare(ours, theirs, _x(rng, 4, c, *dims) * (step + 1), seed=step)
    ours.eval()
    theirs.eval()
    compare(ours, theirs, _x(rng, 2, c, *dims))
    if ours.track_running_stats:
        assert int(ours.num_batches_tracked) == 3


@pytest.mark.parametrize("shape,ns,kw", [((2, 3), 3, {}), ((2, 3, 4), (3, 4), {"bias": False}),
                                         ((3, 2), (2,), {"elementwise_affine": False})])
def test_layernorm_matches_pytorch(shape, ns, kw) -> None:
    rng = np.random.default_rng(0)
    ours, theirs = nn.LayerNorm(ns, dtype=F64, **kw), tn.LayerNorm(ns, **kw).double()
    assert repr(ours) == repr(theirs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, p.shape)))
    compare(ours, theirs, _x(rng, *shape))


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_matches_pytorch(padding_idx) -> None:
    idx = np.random.default_rng(0).integers(0, 6, (3, 4))
    idx[0, 0] = 5
    ours, theirs = nn.Embedding(6, 3, padding_idx, dtype=F64), tn.Embedding(6, 3, padding_idx)
    assert ours.padding_idx == theirs.padding_idx and repr(ours) == repr(theirs)
    compare(ours, theirs, idx)
    if padding_idx is not None:
        assert (ours.weight.grad.numpy()[padding_idx] == 0).all()


ACTIVATIONS = [
    (nn.ReLU(), tn.ReLU()), (nn.LeakyReLU(0.2), tn.LeakyReLU(0.2)), (nn.ELU(0.5), tn.ELU(0.5)),
    (nn.Sigmoid(), tn.Sigmoid()), (nn.Tanh(), tn.Tanh()), (nn.GELU(), tn.GELU()),
    (nn.GELU("tanh"), tn.GELU("tanh")), (nn.SiLU(), tn.SiLU()),
    (nn.Softplus(2.0, 3.0), tn.Softplus(2.0, 3.0)), (nn.Softmax(1), tn.Softmax(1)),
    (nn.LogSoftmax(-1), tn.LogSoftmax(-1)), (nn.Identity(), tn.Identity()),
    (nn.Flatten(), tn.Flatten()), (nn.Flatten(0, 1), tn.Flatten(0, 1)),
    (nn.Unflatten(1, (2, 3)), tn.Unflatten(1, (2, 3))),
    (nn.Dropout(0.3).eval(), tn.Dropout(0.3).eval()),
]


@pytest.mark.parametrize("ours,theirs", ACTIVATIONS, ids=[repr(a) for a, _ in ACTIVATIONS])
def test_parameterless_modules_match_pytorch(ours, theirs) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (4, 6, 1))
    x = np.where(np.abs(x) < 0.05, 0.1, x)  # away from kinks
    compare(ours, theirs, x)
    assert repr(ours) == repr(theirs)


LOSSES = [
    (nn.MSELoss(), tn.MSELoss(), "reg"),
    (nn.L1Loss(reduction="sum"), tn.L1Loss(reduction="sum"), "reg"),
    (nn.HuberLoss("none", 0.7), tn.HuberLoss("none", 0.7), "reg"),
    (nn.SmoothL1Loss(beta=0.5), tn.SmoothL1Loss(beta=0.5), "reg"),
    (nn.BCELoss(weight=tg.tensor([1.0, 2.0, 0.5])),
     tn.BCELoss(weight=torch.tensor([1.0, 2.0, 0.5])), "prob"),
    (nn.BCEWithLogitsLoss(pos_weight=tg.tensor([1.0, 3.0, 0.5])),
     tn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 3.0, 0.5])), "bin"),
    (nn.CrossEntropyLoss(weight=tg.tensor([1.0, 2.0, 0.5]), ignore_index=1, label_smoothing=0.2),
     tn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]), ignore_index=1,
                         label_smoothing=0.2), "idx"),
    (nn.CrossEntropyLoss(), tn.CrossEntropyLoss(), "probs"),
    (nn.NLLLoss(reduction="sum"), tn.NLLLoss(reduction="sum"), "idx"),
]


@pytest.mark.parametrize("ours,theirs,kind", LOSSES, ids=[repr(a) for a, _, _ in LOSSES])
def test_loss_modules_match_pytorch(ours, theirs, kind) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, (5, 3))
    target = {
        "reg": rng.uniform(-2, 2, (5, 3)),
        "prob": rng.uniform(0, 1, (5, 3)),
        "bin": rng.integers(0, 2, (5, 3)).astype(F64),
        "idx": np.array([0, 1, 2, 2, 0]),
        "probs": rng.dirichlet(np.ones(3), 5),
    }[kind]
    if kind == "prob":
        x = rng.uniform(0.05, 0.95, (5, 3))
    ours.double()
    compare(ours, theirs, x, target)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # weight buffers


# --------------------------------------------------------------------------- whole models
def _cnn(lib):
    m = tn if lib == "torch" else nn
    return m.Sequential(
        m.Conv2d(1, 4, 3, padding=1), m.BatchNorm2d(4), m.ReLU(), m.MaxPool2d(2),
        m.Conv2d(4, 6, 3, stride=2, bias=False), m.ReLU(), m.Flatten(),
        m.Linear(6, 8), m.LayerNorm(8), m.Tanh(), m.Dropout(0.5), m.Linear(8, 3),
    )


def test_state_dict_moves_both_ways_between_our_model_and_pytorchs() -> None:
    ours, theirs = _cnn("tg"), _cnn("torch")
    sd = ours.state_dict()
    assert [(k, v.shape) for k, v in sd.items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    # ours -> torch, through torch.from_numpy
    theirs.load_state_dict(to_torch_state(sd), strict=True)
    assert_state_equal(ours, theirs)
    assert theirs.state_dict()["1.num_batches_tracked"].dtype == torch.int64
    # torch -> ours, straight from torch tensors
    fresh = _cnn("tg")
    fresh.load_state_dict(theirs.state_dict())
    assert_state_equal(fresh, theirs)
    # the same computation, in training mode too (dropout off: eval just the dropout)
    ours.double()
    theirs.double()
    ours[10].eval()
    theirs[10].eval()
    x = np.random.default_rng(0).uniform(-1, 1, (3, 1, 8, 8))
    compare(ours, theirs, x, steps=2)
    ours.eval()
    theirs.eval()
    compare(ours, theirs, x)


def test_named_parameters_buffers_and_modules_have_pytorchs_names() -> None:
    ours, theirs = _cnn("tg"), _cnn("torch")
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())
    assert len(list(ours.parameters(recurse=False))) == 0
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert repr(ours) == repr(theirs)


def test_nested_custom_module_names_and_repr_match_pytorch() -> None:
    def build(m, lib):
        class Block(m.Module):
            def __init__(self):
                super().__init__()
                self.fc = m.Linear(3, 3)
                self.norm = m.BatchNorm1d(3)

            def forward(self, x):
                return self.norm(self.fc(x))

        class Net(m.Module):
            def __init__(self):
                super().__init__()
                self.blocks = m.ModuleList([Block(), Block()])
                self.heads = m.ModuleDict({"a": m.Linear(3, 1), "b": m.Linear(3, 2)})
                self.scale = m.Parameter(
                    (tg.ones if lib == "tg" else torch.ones)(1))
                self.register_buffer("steps", (tg.zeros if lib == "tg" else torch.zeros)(1))

            def forward(self, x):
                for b in self.blocks:
                    x = b(x)
                return self.heads["a"](x) * self.scale

        return Net()

    ours, theirs = build(nn, "tg"), build(tn, "torch")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    compare(ours, theirs, np.random.default_rng(0).uniform(-1, 1, (4, 3)), steps=2)


# --------------------------------------------------------------------------- Module API
def test_setattr_registers_and_unregisters() -> None:
    m = nn.Module()
    m.w = nn.Parameter(tg.ones(2))
    m.sub = nn.Linear(2, 2)
    m.t = tg.ones(2)  # a plain tensor is an attribute, not a parameter
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    m.w = None  # a parameter slot can be emptied
    assert [n for n, _ in m.named_parameters()] == ["sub.weight", "sub.bias"]
    with pytest.raises(TypeError, match=r"nn\.Parameter"):
        m.w = tg.ones(2)
    m.sub = nn.Identity()
    assert list(m.state_dict()) == []
    del m.sub
    assert not hasattr(m, "sub")
    m.register_buffer("rm", tg.zeros(2))
    m.register_buffer("tmp", tg.zeros(2), persistent=False)
    assert list(m.state_dict()) == ["rm"] and len(list(m.buffers())) == 2
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("t", tg.zeros(1))
    with pytest.raises(KeyError, match=r'"\."'):
        m.register_parameter("a.b", None)

    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        Forgot()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(tg.ones(1))


def test_shared_parameters_are_listed_once() -> None:
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(net.parameters())) == 2
    assert net.num_parameters() == 6
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_train_eval_zero_grad_requires_grad_and_apply() -> None:
    net = _cnn("tg")
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("no")
    net(tg.rand(2, 1, 8, 8)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all((p.grad.numpy() == 0).all() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    assert net.num_parameters(only_trainable=True) == 0
    order = []
    net.apply(lambda m: order.append(type(m).__name__))
    assert order[-1] == "Sequential" and order[0] == "Conv2d"


def test_to_double_keeps_the_parameter_objects_and_casts_buffers() -> None:
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    params = list(net.parameters())
    net.double()
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net[1].running_mean.dtype == np.float64
    assert net[1].num_batches_tracked.dtype == np.int64  # integers are left alone
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    with pytest.raises(TypeError, match="floating"):
        net.to(np.int32)


def test_load_state_dict_errors_name_the_key_and_both_shapes() -> None:
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    sd = net.state_dict()
    bad = dict(sd)
    bad["0.weight"] = np.zeros((2, 3))  # transposed, the classic mistake
    with pytest.raises(RuntimeError, match=r"size mismatch for 0\.weight: copying a param with "
                                           r"shape \(2, 3\) from checkpoint, the shape in current "
                                           r"model is \(3, 2\)"):
        net.load_state_dict(bad)
    missing = {k: v for k, v in sd.items() if k != "1.bias"}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1\.bias"'):
        net.load_state_dict(missing)
    extra = {**sd, "2.weight": np.zeros(1)}
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "2\.weight"'):
        net.load_state_dict(extra)
    result = net.load_state_dict({**missing, "2.weight": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["1.bias"] and result.unexpected_keys == ["2.weight"]
    with pytest.raises(RuntimeError, match=r"size mismatch for 1\.bias"):
        net.load_state_dict({"1.bias": np.zeros(5)}, strict=False)


def test_load_state_dict_copies_values_and_casts_dtype() -> None:
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    w = b.weight
    b.load_state_dict(a.state_dict())
    assert b.weight is w and b.weight.data is not a.weight.data
    assert (b.weight.numpy() == a.weight.numpy()).all()
    b.load_state_dict({"weight": np.ones((2, 2), np.float64), "bias": [1, 2]})
    assert b.weight.dtype == np.float32 and b.bias.tolist() == [1.0, 2.0]
    c = nn.Linear(2, 2)
    c.load_state_dict(a.state_dict(), assign=True)
    assert (c.weight.numpy() == a.weight.numpy()).all()


def test_state_dict_shares_memory_and_keep_vars() -> None:
    net = nn.Linear(2, 2)
    sd = net.state_dict()
    assert sd["weight"].data is net.weight.data and not sd["weight"].requires_grad
    assert net.state_dict(keep_vars=True)["weight"] is net.weight
    assert list(net.state_dict(prefix="fc.")) == ["fc.weight", "fc.bias"]


def test_parameter_repr_requires_grad_and_deepcopy() -> None:
    p = nn.Parameter(tg.tensor([1.0, 2.0]))
    assert repr(p) == repr(tn.Parameter(torch.tensor([1.0, 2.0])))
    assert p.requires_grad and p.is_leaf and isinstance(p, tg.Tensor)
    assert not nn.Parameter(tg.ones(1), requires_grad=False).requires_grad
    assert (p * 2).__class__ is tg.Tensor
    net = _cnn("tg")
    twin = copy.deepcopy(net)
    assert repr(twin) == repr(net)
    for (n1, p1), (n2, p2) in zip(net.named_parameters(), twin.named_parameters()):
        assert n1 == n2 and p1 is not p2 and type(p2) is nn.Parameter
        assert (p1.numpy() == p2.numpy()).all()


def test_forward_hooks_and_summary() -> None:
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    seen = []
    handle = net[0].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    pre = net.register_forward_pre_hook(lambda m, i: (i[0] * 0,))
    out = net(tg.ones(5, 2))
    assert seen == [(5, 8)]
    handle.remove()
    pre.remove()
    net(tg.ones(5, 2))
    assert seen == [(5, 8)]
    assert np.allclose(out.numpy(), net(tg.zeros(5, 2)).numpy())
    text = net.summary((4, 2))
    assert "0 (Linear)" in text and "(4, 8)" in text and "Total params: 33" in text
    assert "Trainable params: 33" in net.summary()


# --------------------------------------------------------------------------- containers
def test_sequential_indexing_len_append_insert_delete() -> None:
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    tseq = tn.Sequential(tn.Linear(2, 3), tn.ReLU())
    assert len(seq) == 2 and isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.ReLU)
    assert repr(seq[0:1]) == repr(tseq[0:1])
    seq.append(nn.Linear(3, 1))
    tseq.append(tn.Linear(3, 1))
    seq.insert(1, nn.Tanh())
    tseq.insert(1, tn.Tanh())
    assert repr(seq) == repr(tseq)
    del seq[1]
    del tseq[1]
    assert repr(seq) == repr(tseq)
    assert list(seq.state_dict()) == list(tseq.state_dict())
    seq[1] = nn.Sigmoid()
    assert isinstance(seq[1], nn.Sigmoid)
    with pytest.raises(IndexError, match="out of range"):
        seq[5]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(1, 1)), ("act", nn.ReLU())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    assert [type(m).__name__ for m in named] == ["Linear", "ReLU"]
    assert named(tg.ones(3, 1)).shape == (3, 1)


def test_module_list_and_dict_match_pytorch() -> None:
    ours = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    theirs = tn.ModuleList([tn.Linear(2, 2) for _ in range(3)] + [tn.ReLU()])
    assert repr(ours) == repr(theirs)
    ours.append(nn.Linear(2, 1))
    theirs.append(tn.Linear(2, 1))
    ours += [nn.Tanh()]
    theirs += [tn.Tanh()]
    del ours[0]
    del theirs[0]
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(ours) == len(theirs) and isinstance(ours[-1], nn.Tanh)
    d = nn.ModuleDict({"x": nn.Linear(1, 1)})
    d["y"] = nn.ReLU()
    assert "y" in d and list(d.keys()) == ["x", "y"] and len(d) == 2
    assert repr(d) == repr(tn.ModuleDict({"x": tn.Linear(1, 1), "y": tn.ReLU()}))
    assert isinstance(d.pop("y"), nn.ReLU) and len(d) == 1


# --------------------------------------------------------------------------- layer errors
def test_layer_constructor_and_input_errors() -> None:
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D"):
        nn.BatchNorm2d(3)(tg.zeros(2, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\) got an input with 4 channels"):
        nn.BatchNorm1d(3)(tg.zeros(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(tg.zeros(1, 3))
    nn.BatchNorm1d(3).eval()(tg.zeros(1, 3))  # fine in eval
    with pytest.raises(ValueError, match=r"\(2, 3\) has 3 features.*expects 4"):
        nn.Linear(4, 2)(tg.zeros(2, 3))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(ValueError, match="CPU"):
        nn.Linear(1, 1, device="cuda")
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="average")
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(2.0)


def test_dropout_module_uses_the_seedable_generator() -> None:
    x = tg.ones(1000)
    tg.manual_seed(0)
    a = nn.Dropout(0.5)(x)
    tg.manual_seed(0)
    assert (nn.Dropout(0.5)(x).numpy() == a.numpy()).all()
    d = nn.Dropout(0.5, generator=tg.Generator(1))
    e = nn.Dropout(0.5, generator=tg.Generator(1))
    assert (d(x).numpy() == e(x).numpy()).all()
    assert set(np.unique(a.numpy())) == {0.0, 2.0}
    assert (d.eval()(x).numpy() == 1).all()
