"""Data: datasets, batching and scaling (``torch.utils.data``'s names, scikit-learn's scalers).

>>> import numpy as np
>>> import tinygrad_edu as tg
>>> from tinygrad_edu.data import DataLoader, StandardScaler, TensorDataset
>>> x = np.random.default_rng(0).integers(0, 500, size=(100, 2)).astype(float)
>>> loader = DataLoader(TensorDataset(StandardScaler().fit_transform(x), x.prod(axis=1)),
...                     batch_size=32, shuffle=True, generator=tg.Generator().manual_seed(0))
>>> [len(xb) for xb, yb in loader]
[32, 32, 32, 4]
"""

from .dataloader import DataLoader, default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .scalers import LogScaler, MinMaxScaler, NotFittedError, StandardScaler

__all__ = [
    "DataLoader",
    "Dataset",
    "LogScaler",
    "MinMaxScaler",
    "NotFittedError",
    "StandardScaler",
    "Subset",
    "TensorDataset",
    "default_collate",
    "random_split",
]
