"""Training: ``fit`` with Keras's semantics, ``History``, callbacks, metrics, diagnostics.

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> from tinygrad_edu import nn, optim
>>> from tinygrad_edu.train import EarlyStopping, fit
>>> _ = tg.manual_seed(0)
>>> x = np.linspace(-1, 1, 50, dtype=np.float32).reshape(-1, 1)
>>> model = nn.Linear(1, 1)
>>> h = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.3), (x, 2 * x),
...         epochs=100, batch_size=10, validation_split=0.2, verbose=0,
...         callbacks=[EarlyStopping(patience=3, restore_best_weights=True)])
>>> h.history["val_loss"][-1] < 1e-3
True
"""

from .callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from .coverage import InputDistribution
from .diagnostics import Diagnostics
from .errors import TrainingDiverged, TrainingInterrupted, TrainingWarning
from .history import History
from .loop import Trainer, evaluate, fit, predict

__all__ = [
    "Callback",
    "CallbackList",
    "Diagnostics",
    "EarlyStopping",
    "History",
    "InputDistribution",
    "LambdaCallback",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "Trainer",
    "TrainingDiverged",
    "TrainingInterrupted",
    "TrainingWarning",
    "evaluate",
    "fit",
    "predict",
]
