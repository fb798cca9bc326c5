"""Ported from the train and test loops of PyTorch's "Quickstart" and "Optimizing Model
Parameters" tutorials (rewritten for a small synthetic 3-class problem instead of
FashionMNIST): DataLoader batches, ``nn.Sequential`` of Flatten/Linear/ReLU,
``CrossEntropyLoss`` with class indices, SGD, ``model.train()``/``model.eval()`` under
``no_grad()``, accuracy as ``(pred.argmax(1) == y).type(torch.float).sum().item()``, and the
progress line formatted from the loss tensor itself (``f"{loss:>7f}"``).

The same loop runs in PyTorch from the same initial weights; the losses must agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from tinygrad_edu import nn


def _problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((60, 2, 2)).astype(np.float32)
    y = (x.reshape(60, -1) @ np.array([1.0, -1.0, 0.5, 2.0]) > 0).astype(np.int64)
    return x, y + (x[:, 0, 0] > 1)


def _tutorial_run(lib, model, x, y, log: list[str]) -> list[float]:
    """The tutorials' train_loop and test_loop, 3 epochs, in the given library."""
    data = lib.utils.data if lib is torch else tg.utils.data
    dataset = data.TensorDataset(lib.tensor(x), lib.tensor(y))
    loader = data.DataLoader(dataset, batch_size=16)
    loss_fn = lib.nn.CrossEntropyLoss() if lib is torch else nn.CrossEntropyLoss()
    optimizer = (lib.optim if lib is torch else tg.optim).SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(3):
        model.train()
        for batch, (xb, yb) in enumerate(loader):
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
            log.append(f"loss: {loss:>7f}  [{(batch + 1) * len(xb):>5d}/{len(dataset):>5d}]")
        model.eval()
        correct = 0
        with lib.no_grad():
            for xb, yb in loader:
                correct += (model(xb).argmax(1) == yb).type(lib.float).sum().item()
        log.append(f"Accuracy: {100 * correct / len(dataset):>0.1f}%")
    return losses


def _models() -> tuple[nn.Sequential, torch.nn.Sequential]:
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                 torch.nn.Linear(8, 3))
    ours = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def test_quickstart_loops_follow_pytorch() -> None:
    x, y = _problem()
    ours, theirs = _models()
    our_log, their_log = [], []
    our_losses = _tutorial_run(tg, ours, x, y, our_log)
    their_losses = _tutorial_run(torch, theirs, x, y, their_log)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-4, atol=1e-6)
    assert our_losses[-1] < our_losses[0]
    assert [line.split()[0] for line in our_log] == [line.split()[0] for line in their_log]
    assert our_log[-1] == their_log[-1]  # the same accuracy, printed the same way


def test_formatting_a_tensor_follows_pytorch() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    assert f"{loss:.3f} {loss:>8.2e} {loss}" == "5.000 5.00e+00 5.0"
    assert f"{w}" == repr(w)
    with pytest.raises(TypeError):  # as in PyTorch: a format spec needs a 0-d tensor
        f"{w:.2f}"

