"""Optimizers and learning-rate schedules with PyTorch's names, arguments and arithmetic.

>>> import tinygrad_edu as tg
>>> from tinygrad_edu import nn, optim
>>> _ = tg.manual_seed(0)
>>> net = nn.Linear(1, 1)
>>> opt = optim.Adam(net.parameters(), lr=0.1)
>>> x = tg.rand(32, 1); y = 3 * x + 1
>>> for _ in range(300):
...     opt.zero_grad()
...     loss = nn.functional.mse_loss(net(x), y)
...     loss.backward()
...     opt.step()
>>> loss.item() < 1e-3
True
"""

from ..nn.utils import clip_grad_norm_, clip_grad_value_
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
]
