"""``torch.utils``'s path for code ported from PyTorch: ``tinygrad_edu.utils.data`` holds
:mod:`tinygrad_edu.data`'s names under the path PyTorch gives them.

>>> import tinygrad_edu as tg
>>> from tinygrad_edu.utils.data import DataLoader, TensorDataset
>>> DataLoader is tg.data.DataLoader
True
"""

from . import data

__all__ = ["data"]
