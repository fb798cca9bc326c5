"""``torch.utils.data``'s path to :mod:`tinygrad_edu.data` (the same objects)."""

from ..data import *  # noqa: F403  (re-exported under PyTorch's path)
from ..data import __all__  # noqa: F401
