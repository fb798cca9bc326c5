"""``tg.linalg``: PyTorch's ``torch.linalg`` names (norms, inverse, determinants, solve).

>>> import tinygrad_edu as tg
>>> tg.linalg.solve(tg.eye(2) * 2, tg.ones(2))
tensor([0.5, 0.5])
"""

from .torch_math import LinAlgError, det, inv, matrix_norm, slogdet, solve, vector_norm
from .torch_math import _linalg_norm as norm

norm.__name__ = norm.__qualname__ = "norm"  # tg.linalg.norm, as help() and errors show it

__all__ = ["LinAlgError", "det", "inv", "matrix_norm", "norm", "slogdet", "solve", "vector_norm"]
