"""Hand-written backprops from the seed threads, ported to pure functions on numpy.

Each net exists *as written* by its author (every bug on, each individually switchable)
and *corrected*.  They are the test cases and demos of the gradient checker: the buggy ones
must be flagged with the right diagnosis, the corrected ones must pass.

========================  =====================================  ============================
module                    net                                    hand-written bugs
========================  =====================================  ============================
:mod:`.seed000`           2-2-1 sigmoid, scalar, learns ``a*b``  wrong weights, sign, updated
                                                                 weights, rounding
:mod:`.seed002`           question v1 (tanh, no biases) and v2   none in the gradients
                          (biases, linear output)
:mod:`.seed002_answer`    the answer's vectorised net            missing output derivative
========================  =====================================  ============================

>>> import numpy as np
>>> from tinygrad_edu.seeds import Seed000Net, seed000
>>> net = Seed000Net(bugs=seed000.CORRECTED)
>>> sorted(net.grads(net.init_params(), np.array([0.5, 0.5]), np.array(0.25)))
['w11', 'w12', 'w13', 'w21', 'w22', 'w23']
"""

from . import seed000, seed002, seed002_answer
from .base import BugKind, Params, SeedNet, TrainResult
from .seed000 import Seed000Net
from .seed002 import Seed002V1Net, Seed002V2Net
from .seed002_answer import Seed002AnswerNet

__all__ = [
    "BugKind",
    "Params",
    "Seed000Net",
    "Seed002AnswerNet",
    "Seed002V1Net",
    "Seed002V2Net",
    "SeedNet",
    "TrainResult",
    "seed000",
    "seed002",
    "seed002_answer",
]
