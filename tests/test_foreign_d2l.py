"""Ported from the style of "Dive into Deep Learning"'s PyTorch chapters (our own code, in
``tests/d2l_scripts.py``), run with only ``import torch`` changed to ``import tinygrad_edu as
torch``: each chapter runs here and in PyTorch 2.13 from the same data and initial weights
(Python's ``random`` seeded alike for ``data_iter``'s shuffle), and the losses, accuracies
and parameters must agree; where the chapter draws its own random numbers, it must converge.

Also what those chapters lean on: ``torch.normal`` in its three forms, ``size=`` on the
factories, ``Tensor.type()`` (a type name, or a conversion), ``torch.save`` of a single tensor,
param groups with their own ``weight_decay``, a module used twice in a ``Sequential``."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tests import d2l_scripts

# PyTorch warns where the chapters write float(l.sum()) of a loss that requires grad
pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")

OURS = d2l_scripts.namespace("tinygrad_edu")
THEIRS = d2l_scripts.namespace("torch")


def _both(arrays: dict[str, np.ndarray], grad: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """The same float32 arrays as tensors of each library (``grad`` names require grad)."""
    ours = {k: tg.tensor(v, requires_grad=k in grad) for k, v in arrays.items()}
    theirs = {k: torch.tensor(v, requires_grad=k in grad) for k, v in arrays.items()}
    return ours, theirs


def _copy_weights(ours: tg.nn.Module, theirs: torch.nn.Module) -> None:
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})


def _classes(seed: int, n: int, d: int = 16, c: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs: c classes in d dimensions (the chapters' FashionMNIST, in small)."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((c, d)) * 1.5
    y = rng.integers(0, c, n)
    x = centers[y] + rng.standard_normal((n, d))
    return x.astype(np.float32).reshape(n, 1, 4, d // 4), y.astype(np.int64)


def _loaders(lib, x: np.ndarray, y: np.ndarray, batch_size: int = 32):
    data = lib.utils.data
    split = len(x) * 3 // 4
    make = lambda a, b: data.DataLoader(data.TensorDataset(lib.tensor(a), lib.tensor(b)),  # noqa: E731
                                        batch_size, shuffle=False)
    return make(x[:split], y[:split]), make(x[split:], y[split:])


# --------------------------------------------------------------------------- linear regression
def test_linear_regression_from_scratch_follows_pytorch() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2)).astype(np.float32)
    y = (x @ [2.0, -3.4] + 4.2 + rng.normal(0, 0.01, 200)).astype(np.float32)[:, None]
    start = {"w": rng.normal(0, 0.01, (2, 1)).astype(np.float32), "b": np.zeros(1, np.float32)}
    runs = []
    for ns, lib in ((OURS, tg), (THEIRS, torch)):
        params = {k: lib.tensor(v, requires_grad=True) for k, v in start.items()}
        random.seed(1)
        history = ns["train_linreg_scratch"](lib.tensor(x), lib.tensor(y), params["w"],
                                             params["b"], num_epochs=6)
        runs.append((history, params["w"].detach().numpy(), params["b"].detach().numpy()))
    (ours, w, b), (theirs, tw, tb) = runs
    np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=1e-7)
    np.testing.assert_allclose(w, tw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, tb, rtol=1e-5, atol=1e-6)
    assert ours[-1] < ours[0] / 100


def test_linear_regression_chapters_converge_on_their_own_data(capsys) -> None:
    tg.manual_seed(0)
    random.seed(0)
    history, w_err, b_err = OURS["linreg_scratch_chapter"]()
    assert history[-1] < 1e-3 and float(abs(w_err).max()) < 0.01 and abs(b_err.item()) < 0.01
    assert w_err.shape == (2,) and b_err.shape == (1,)
    (xb, yb), history, w_err, b_err = OURS["linreg_concise_chapter"]()
    assert (xb.shape, yb.shape, xb.dtype, yb.dtype) == ((10, 2), (10, 1), tg.float32, tg.float32)
    assert history[-1] < 1e-3 and float(abs(w_err).max()) < 0.01 and abs(b_err).max() < 0.01
    printed = capsys.readouterr().out  # f"{float(train_l.mean()):f}" and f"{l:f}"
    assert len(re.findall(r"^epoch 3, loss 0\.000\d{3}$", printed, re.M)) == 2


def test_synthetic_data_has_pytorch_shapes_and_dtypes() -> None:
    ours = OURS["synthetic_data"](tg.tensor([2, -3.4]), 4.2, 50)
    theirs = THEIRS["synthetic_data"](torch.tensor([2, -3.4]), 4.2, 50)
    for a, b in zip(ours, theirs, strict=True):
        assert tuple(a.shape) == tuple(b.shape) and str(b.dtype) == f"torch.{a.dtype}"
    noise = ours[1][:, 0] - (ours[0] @ tg.tensor([2, -3.4]) + 4.2)  # y += normal(0, .01)
    assert 0.003 < float(noise.std()) < 0.03


def test_concise_linear_regression_follows_pytorch() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((100, 2)).astype(np.float32)
    y = (x @ [2.0, -3.4] + 4.2).astype(np.float32)[:, None]
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 1))
    ours = tg.nn.Sequential(tg.nn.Linear(2, 1))
    _copy_weights(ours, theirs)
    got = OURS["train_linreg_concise"](ours, tg.tensor(x), tg.tensor(y), is_train=False)
    want = THEIRS["train_linreg_concise"](theirs, torch.tensor(x), torch.tensor(y),
                                          is_train=False)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(ours[0].weight.data, theirs[0].weight.data.numpy(), rtol=1e-5)


# --------------------------------------------------------------------------- softmax, MLP
def test_softmax_regression_from_scratch_follows_pytorch() -> None:
    x, y = _classes(0, 256)
    w0 = np.random.default_rng(2).normal(0, 0.01, (16, 10)).astype(np.float32)
    runs = []
    for ns, lib in ((OURS, tg), (THEIRS, torch)):
        W = lib.tensor(w0, requires_grad=True)
        b = lib.zeros(10, requires_grad=True)
        runs.append(ns["softmax_scratch"](W, b, *_loaders(lib, x, y), num_epochs=4))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-4, atol=1e-6)
    assert runs[0][-1][2] > 0.8  # test accuracy


def test_mlp_from_scratch_with_cross_entropy_none_follows_pytorch() -> None:
    x, y = _classes(3, 256)
    rng = np.random.default_rng(4)
    start = [rng.standard_normal((16, 32)) * 0.1, np.zeros(32), rng.standard_normal((32, 10))
             * 0.1, np.zeros(10)]
    runs = []
    for ns, lib in ((OURS, tg), (THEIRS, torch)):
        params = [lib.nn.Parameter(lib.tensor(p.astype(np.float32))) for p in start]
        history = ns["mlp_scratch"](params, *_loaders(lib, x, y), num_epochs=4, lr=0.5)
        runs.append((history, [p.detach().numpy() for p in params]))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-4, atol=1e-6)
    for got, want in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert runs[0][0][-1][2] > 0.8


def test_mlp_params_are_leaves_that_train() -> None:
    params = OURS["mlp_params"](16, 8, 10)
    assert all(isinstance(p, tg.nn.Parameter) and p.is_leaf and p.requires_grad for p in params)
    assert 0.005 < float(params[0].std()) < 0.015


def _central(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 5), c=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_scratch_softmax_cross_entropy_gradient_is_numeric(n: int, c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    logits, y = rng.standard_normal((n, c)), rng.integers(0, c, n)
    softmax, cross_entropy = OURS["softmax"], OURS["cross_entropy"]

    def loss(v: np.ndarray) -> float:
        return cross_entropy(softmax(tg.tensor(v)), tg.tensor(y)).sum().item()

    t = tg.tensor(logits, requires_grad=True)
    cross_entropy(softmax(t), tg.tensor(y)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), _central(loss, logits), rtol=1e-6, atol=1e-8)
    assert OURS["accuracy"](t, tg.tensor(y)) == float((logits.argmax(1) == y).sum())


# --------------------------------------------------------------------------- dropout
def test_dropout_from_scratch_keeps_the_gradient_of_the_mask() -> None:
    dropout_layer = OURS["dropout_layer"]
    X = tg.arange(16, dtype=tg.float32).reshape((2, 8)) + 1
    assert dropout_layer(X, 0.0) is X
    assert dropout_layer(X, 1.0).tolist() == [[0.0] * 8] * 2
    tg.manual_seed(0)
    X = tg.ones(200, 50, requires_grad=True)
    out = dropout_layer(X, 0.5)
    out.sum().backward()
    assert out.dtype == tg.float32 and set(np.unique(out.data)) == {0.0, 2.0}
    assert 0.45 < float((out == 0).float().mean()) < 0.55
    np.testing.assert_array_equal(X.grad.numpy(), out.data)  # d(mask * x / .5)/dx = mask / .5


def test_dropout_nets_follow_pytorch_in_eval_and_drop_in_train() -> None:
    x = np.random.default_rng(5).standard_normal((6, 16)).astype(np.float32)
    torch.manual_seed(1)
    theirs = THEIRS["DropoutNet"](16, 10, 32, 16)
    ours = OURS["DropoutNet"](16, 10, 32, 16)
    _copy_weights(ours, theirs)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(tg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach(),
                               rtol=1e-5, atol=1e-6)
    ours.train()
    assert not np.allclose(ours(tg.tensor(x)).numpy(), ours(tg.tensor(x)).numpy())
    concise = OURS["dropout_concise_net"](16, 10)
    assert 0.005 < float(concise[1].weight.std()) < 0.015
    concise.eval()
    np.testing.assert_array_equal(concise(tg.tensor(x)).numpy(), concise(tg.tensor(x)).numpy())


def test_concise_classifier_trains_like_pytorch() -> None:
    """nn.Sequential with Flatten and Dropout(0), CrossEntropyLoss(reduction='none'), SGD:
    train_ch3's Module and Optimizer branches (net.train()/net.eval() every epoch)."""
    x, y = _classes(9, 256)
    torch.manual_seed(4)
    theirs = THEIRS["dropout_concise_net"](16, 10, 0.0, 0.0)
    ours = OURS["dropout_concise_net"](16, 10, 0.0, 0.0)
    _copy_weights(ours, theirs)
    got = OURS["train_concise"](ours, *_loaders(tg, x, y), num_epochs=10, lr=1.0)
    want = THEIRS["train_concise"](theirs, *_loaders(torch, x, y), num_epochs=10, lr=1.0)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert not ours.training and got[-1][0] < 0.7 * got[0][0] and got[-1][2] > 0.3


# --------------------------------------------------------------------------- weight decay
def _regression_loaders(lib, n: int = 40, d: int = 20):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((n, d)).astype(np.float32) * 0.5
    y = (x.sum(1, keepdims=True) * 0.01 + 0.05).astype(np.float32)
    return lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.tensor(x),
                                                                  lib.tensor(y)), 5)


@pytest.mark.parametrize("lambd", [0.0, 3.0])
def test_weight_decay_from_scratch_follows_pytorch(lambd: float) -> None:
    w0 = np.random.default_rng(7).standard_normal((20, 1)).astype(np.float32)
    runs = []
    for ns, lib in ((OURS, tg), (THEIRS, torch)):
        w, b = lib.tensor(w0, requires_grad=True), lib.zeros(1, requires_grad=True)
        runs.append(ns["weight_decay_scratch"](w, b, _regression_loaders(lib), lambd,
                                               num_epochs=10, lr=0.01))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-4)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-5)
    w, b = OURS["init_params"](20)
    assert w.shape == (20, 1) and b.tolist() == [0.0] and w.requires_grad


def test_weight_decay_with_param_groups_follows_pytorch() -> None:
    torch.manual_seed(2)
    norms = {}
    for wd in (0.0, 3.0):
        theirs = torch.nn.Sequential(torch.nn.Linear(20, 1))
        for param in theirs.parameters():
            param.data.normal_()
        ours = tg.nn.Sequential(tg.nn.Linear(20, 1))
        _copy_weights(ours, theirs)
        got = OURS["weight_decay_concise"](ours, _regression_loaders(tg), wd, num_epochs=10)
        want = THEIRS["weight_decay_concise"](theirs, _regression_loaders(torch), wd,
                                              num_epochs=10)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-4)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5)
        np.testing.assert_allclose(ours[0].bias.data, theirs[0].bias.detach(), rtol=1e-5)
        norms[wd] = got[1]
    assert norms[3.0] < 0.95 * norms[0.0]  # the decay reached the weight


# --------------------------------------------------------------------------- parameters
def test_parameter_access_and_initialization_follow_pytorch() -> None:
    net = tg.nn.Sequential(tg.nn.Linear(4, 8), tg.nn.ReLU(), tg.nn.Linear(8, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    assert list(net[2].state_dict()) == list(theirs[2].state_dict()) == ["weight", "bias"]
    assert [(n, tuple(p.shape)) for n, p in net.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert net[2].weight.grad is None and type(net[2].bias) is tg.nn.Parameter
    net.apply(OURS["init_constant"])
    assert net[0].weight.data[0].tolist() == [1.0] * 4 and net[0].bias.data[0] == 0
    net.apply(OURS["init_normal"])
    assert abs(float(net[0].weight.data[0].std())) < 0.05 and net[0].bias.data.max() == 0
    net[0].apply(OURS["init_xavier"])
    net[2].apply(OURS["init_42"])
    assert np.abs(net[0].weight.data).max() <= np.sqrt(6 / 12)
    assert net[2].weight.data.tolist() == [[42.0] * 8]
    rgnet = tg.nn.Sequential(OURS["block2"](), tg.nn.Linear(4, 1))
    their_rgnet = torch.nn.Sequential(THEIRS["block2"](), torch.nn.Linear(4, 1))
    assert repr(rgnet) == repr(their_rgnet)
    assert list(rgnet.state_dict()) == list(their_rgnet.state_dict())
    assert rgnet(tg.rand(size=(2, 4))).shape == (2, 1)


def test_a_shared_layer_is_one_parameter_with_both_gradients() -> None:
    torch.manual_seed(3)
    theirs, ours = THEIRS["shared_net"](), OURS["shared_net"]()
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 6
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_weights(ours, theirs)
    assert ours[2].weight is ours[4].weight
    x = np.random.default_rng(8).random((2, 4)).astype(np.float32)
    ours(tg.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7,
                                   err_msg=name)
    with tg.no_grad():
        ours[2].weight[0, 0] = 100
    assert ours[4].weight[0, 0].item() == 100


# --------------------------------------------------------------------------- save, load
def test_save_and_load_tensors_and_a_clone(tmp_path) -> None:
    x, y = tg.arange(4), tg.zeros(4)
    tg.save(x, tmp_path / "x-file.safetensors")
    assert tg.load(tmp_path / "x-file.safetensors").tolist() == [0, 1, 2, 3]
    tg.save([x, y], tmp_path / "x-files.safetensors")
    x2, y2 = tg.load(tmp_path / "x-files.safetensors")
    assert x2.dtype == tg.int64 and y2.tolist() == [0.0] * 4
    tg.save({"x": x, "y": y}, tmp_path / "mydict.safetensors")
    assert list(tg.load(tmp_path / "mydict.safetensors")) == ["x", "y"]
    net = OURS["MLP"]()
    X = tg.randn(size=(2, 20))
    clone = OURS["save_and_clone"](net, tmp_path / "mlp.safetensors")
    assert not clone.training and bool((clone(X) == net(X)).all())
    with tg.no_grad():
        clone.hidden.bias.fill_(1.0)  # a copy, not the same memory
    assert net.hidden.bias.abs().max().item() < 1
    with pytest.raises(ValueError, match=r"mlp\.params: unsupported extension.*\.safetensors"):
        OURS["save_and_clone"](net, tmp_path / "mlp.params")


# --------------------------------------------------------------------------- the factories
def test_normal_in_its_three_forms() -> None:
    tg.manual_seed(0)
    a = tg.normal(0, 1, (1000, 3))
    assert (a.shape, a.dtype, a.requires_grad) == ((1000, 3), tg.float32, False)
    assert abs(float(a.mean())) < 0.1 and abs(float(a.std()) - 1) < 0.1
    w = tg.normal(0, 0.01, size=(2, 1), requires_grad=True)
    assert w.requires_grad and w.is_leaf and float(w.abs().max()) < 0.05
    assert tg.normal(2.0, 3.0, size=(2,), dtype=tg.float64).dtype == tg.float64
    mean = tg.tensor([[0.0], [100.0]], dtype=tg.float64)
    b = tg.normal(mean, tg.tensor([1.0, 0.001, 0.1]))
    assert b.shape == (2, 3) and b.dtype == tg.float64 and float(b[1].min()) > 99
    assert tg.normal(tg.zeros(3), 1.0).shape == (3,)
    with pytest.raises(TypeError, match=r"needs a size.*normal\(0, 1, size="):
        tg.normal(0, 1)
    with pytest.raises(TypeError, match="size is only for numbers"):
        tg.normal(tg.zeros(2), 1.0, (3,))
    with pytest.raises(RuntimeError, match=r"mean \+ std \* randn_like\(std\)"):
        tg.normal(tg.zeros(2, requires_grad=True), 1.0)
    with tg.no_grad():
        assert tg.normal(tg.zeros(2, requires_grad=True), 1.0).shape == (2,)
    with pytest.raises(TypeError, match="must be floating point, got int64"):
        tg.normal(tg.tensor([1, 2]), 1.0)  # PyTorch: not implemented for 'Long'


@pytest.mark.parametrize("factory", ["zeros", "ones", "rand", "randn", "empty"])
def test_factories_take_size_as_a_keyword(factory: str) -> None:
    got = getattr(tg, factory)(size=(2, 4), dtype=tg.float64)
    want = getattr(torch, factory)(size=(2, 4), dtype=torch.float64)
    assert tuple(got.shape) == tuple(want.shape) and got.dtype == tg.float64
    with pytest.raises(TypeError, match="size twice"):
        getattr(tg, factory)(2, size=(2, 4))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16",
                                   "int8", "uint8", "bool"])
def test_type_names_and_conversions_follow_pytorch(dtype: str) -> None:
    ours = tg.ones(2).type(getattr(tg, dtype if dtype != "bool" else "bool_"))
    theirs = torch.ones(2).type(getattr(torch, dtype))
    assert ours.type() == theirs.type()
    assert ours.type(theirs.type()).dtype == ours.dtype
    assert tg.ones(2).type(theirs.type()).dtype == ours.dtype


def test_type_refuses_what_pytorch_refuses() -> None:
    x = tg.ones(2)
    with pytest.raises(TypeError, match="type_as"):
        x.type(tg.ones(1, dtype=tg.int64))
    with pytest.raises(ValueError, match="invalid type 'float32'.*torch.FloatTensor"):
        x.type("float32")
    with pytest.raises(RuntimeError, match="CPU only"):
        x.type("torch.cuda.FloatTensor")


# --------------------------------------------------------------------------- preliminaries
@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 4), m=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_mv_and_cumsum_with_axis_follow_pytorch(n: int, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ours, theirs = _both({"A": rng.standard_normal((n, m)), "x": rng.standard_normal(m)},
                         grad=("A", "x"))
    got = tg.mv(ours["A"], ours["x"]) * ours["A"].cumsum(axis=1)[:, -1]
    want = torch.mv(theirs["A"], theirs["x"]) * theirs["A"].cumsum(axis=1)[:, -1]
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    for k in ("A", "x"):
        np.testing.assert_allclose(ours[k].grad.numpy(), theirs[k].grad.numpy(), rtol=1e-12,
                                   atol=1e-14)
    assert ours["A"].mv(ours["x"]).shape == (n,)
    assert tg.cumsum(ours["A"], dim=0).tolist() == theirs["A"].cumsum(0).tolist()


def test_mv_and_cumsum_refuse_what_pytorch_refuses() -> None:
    with pytest.raises(RuntimeError, match=r"mv: size mismatch, mat 2x3 and vec \(4\)"):
        tg.mv(tg.ones(2, 3), tg.ones(4))
    with pytest.raises(RuntimeError, match=r"mv: a matrix .* got shapes \(2, 3\) and \(3, 1\)"):
        tg.mv(tg.ones(2, 3), tg.ones(3, 1))
    with pytest.raises(TypeError, match="cumsum.. needs its dimension once"):
        tg.ones(3).cumsum()
    with pytest.raises(TypeError, match="cumprod.. needs its dimension once"):
        tg.ones(3).cumprod(0, axis=0)


# --------------------------------------------------------------------------- data in a graph
def _scaled(data, w, n: int):
    """A Dataset of n items w * i: each one in w's graph."""

    class Scaled(data.Dataset):
        def __len__(self) -> int:
            return n

        def __getitem__(self, i: int):
            return w * i

    return Scaled()


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 7), batch_size=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_batches_of_tensors_in_a_graph_keep_their_gradient(n: int, batch_size: int,
                                                           seed: int) -> None:
    """A TensorDataset of (x * w, y), and a Dataset whose items are w * i: each batch carries
    the gradient back to w, as in PyTorch (they were constants here before)."""
    rng = np.random.default_rng(seed)
    ours, theirs = _both({"x": rng.standard_normal((n, 2)), "w": rng.standard_normal(2),
                          "y": rng.standard_normal(n)}, grad=("w",))
    for lib, t in ((tg, ours), (torch, theirs)):
        data = lib.utils.data
        features = t["x"] * t["w"]
        loss = 0
        for xb, yb in data.DataLoader(data.TensorDataset(features, t["y"]), batch_size):
            loss = loss + ((xb.sum(1) - yb) ** 2).sum()
        for wb in data.DataLoader(_scaled(data, t["w"], n), batch_size):
            loss = loss + wb.pow(2).sum()
        loss.backward()
        assert data.TensorDataset(features, t["y"])[0][0].requires_grad
    np.testing.assert_allclose(ours["w"].grad.numpy(), theirs["w"].grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
                                  "BoolTensor"])
def test_legacy_constructors_follow_pytorch(name: str) -> None:
    """torch.FloatTensor([1, 2, 3]) as d2l's custom-layer chapter writes it, or sizes."""
    for args in (([1, 2, 3],), ([[1.5], [0.0]],), (2, 3), ()):
        ours, theirs = getattr(tg, name)(*args), getattr(torch, name)(*args)
        assert (ours.type(), tuple(ours.shape)) == (theirs.type(), tuple(theirs.shape))
        if args and not isinstance(args[0], int):
            assert ours.tolist() == theirs.tolist()
    with pytest.raises(TypeError, match=rf"{name}\(\) takes data .* or sizes as ints"):
        getattr(tg, name)([1], [2])
