"""Training smoke tests: nn + optim learn the seed problems, seeded, with stated thresholds.

* XOR (4 points), 2-8-1 tanh MLP, MSE, Adam(lr=0.05), 300 full-batch steps: loss < 0.01.
* Seed 000's data (x ~ U[0,1)^2, y = x1*x2, 1000 training samples), 2-8-1 tanh MLP, MSE,
  Adam(lr=0.01), 40 epochs of minibatches of 25: test MSE on 5000 fresh samples < 1e-3
  (the true RMSE, sqrt(MSE) < 0.032, not the seed's sqrt-of-a-sum).
* Three Gaussian blobs, Linear-BatchNorm-ReLU-Dropout-Linear, cross-entropy, SGD with
  momentum and StepLR: evaluation-mode accuracy > 0.95.
"""

from __future__ import annotations

import math

import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim


def test_mlp_learns_xor_with_adam() -> None:
    tg.manual_seed(0)
    x = tg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = tg.tensor([[0.0], [1.0], [1.0], [0.0]])
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.Adam(net.parameters(), lr=0.05)
    first = None
    for _ in range(300):
        opt.zero_grad()
        loss = F.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert first > 0.1, "the untrained net should not already solve XOR"
    assert loss.item() < 0.01, loss.item()
    assert ((net(x).numpy() > 0.5) == (y.numpy() > 0.5)).all()


def test_tanh_net_learns_the_seed_000_multiplication() -> None:
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((1000, 2)).astype(np.float32)
    y = x[:, :1] * x[:, 1:]
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.Adam(net.parameters(), lr=0.01)
    for _ in range(40):
        perm = rng.permutation(len(x))
        for start in range(0, len(x), 25):
            idx = perm[start:start + 25]
            opt.zero_grad()
            F.mse_loss(net(tg.tensor(x[idx])), tg.tensor(y[idx])).backward()
            opt.step()
    x_test = rng.random((5000, 2)).astype(np.float32)
    with tg.no_grad():
        mse = F.mse_loss(net(tg.tensor(x_test)), tg.tensor(x_test[:, :1] * x_test[:, 1:])).item()
    assert mse < 1e-3, f"test MSE {mse:.3g} (RMSE {math.sqrt(mse):.3g})"


def test_classifier_with_batchnorm_dropout_and_a_schedule() -> None:
    tg.manual_seed(1)
    rng = np.random.default_rng(1)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    labels = rng.integers(0, 3, 600)
    x = (centers[labels] + rng.normal(0, 0.8, (600, 2))).astype(np.float32)
    net = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
                        nn.Linear(16, 3))
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(10):
        for start in range(0, 600, 50):
            opt.zero_grad()
            loss = loss_fn(net(tg.tensor(x[start:start + 50])),
                           tg.tensor(labels[start:start + 50]))
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
        sched.step()
    assert sched.get_last_lr() == [0.025]
    net.eval()
    with tg.no_grad():
        accuracy = (net(tg.tensor(x)).argmax(1).numpy() == labels).mean()
    assert accuracy > 0.95, accuracy
    assert int(net[1].num_batches_tracked) == 120
