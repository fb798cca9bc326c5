"""Gradient checks: autograd against central differences, and hand-written backprop against both.

* :func:`gradcheck`, :func:`gradgradcheck` — PyTorch's checks, same names and defaults
  (``eps=1e-6, atol=1e-5, rtol=1e-3``), with a ``fast_mode`` whose cost does not grow with
  the number of parameters. They raise :class:`GradcheckError` with a short report.
* :func:`check_gradients` (alias :func:`check_backprop`) — the homework checker: your numpy
  loss and your hand-written gradients, compared with autograd (running your numpy loss on
  Tensors) and with central differences, parameter by parameter, with a diagnosis of what
  kind of mistake a wrong gradient looks like. Returns a :class:`GradientReport`.
* :func:`assert_backprop` — the same check as one line of a pytest test or an autograder
  cell: raises ``AssertionError`` whose message is the report.

Modules: :mod:`.numeric` (central differences), :mod:`.check` (gradcheck),
:mod:`.diagnose` (the rules), :mod:`.stale` (a backprop reading weights already updated,
the rate inferred), :mod:`.loss_probes` (a rounded loss, a loss not normalised by the batch
size), :mod:`.report` (errors, verdicts, the table), :mod:`.homework` (the checker),
:mod:`.assertions` (``assert_backprop``); ``tinygrad-edu check`` runs submitted files:
:mod:`.submission` (load and check one, in the sandboxed process), :mod:`.sandbox` (the
process and its limits), :mod:`.classrun` (a class at once).

>>> import numpy as np
>>> from tinygrad_edu.gradcheck import check_gradients
>>> from tinygrad_edu.seeds import Seed002AnswerNet
>>> net = Seed002AnswerNet(activation="sigmoid")            # the answer's code, as written
>>> rng = np.random.default_rng(0)
>>> X, Y = rng.uniform(0, 1, (8, 1)), rng.uniform(0, 1, (8, 1))
>>> report = check_gradients(net, net.init_params(rng), X, Y)
>>> report.passed
False
>>> sorted(h.kind for h in report.hypotheses)
['different_loss', 'missing_activation_derivative']
"""

from .assertions import assert_backprop
from .check import GradcheckError, GradcheckPrecisionWarning, Mismatch, gradcheck, gradgradcheck
from .diagnose import Hypothesis
from .homework import check_backprop, check_gradients
from .report import GradientReport, ParamCheck, relative_error

__all__ = [
    "GradcheckError",
    "GradcheckPrecisionWarning",
    "GradientReport",
    "Hypothesis",
    "Mismatch",
    "ParamCheck",
    "assert_backprop",
    "check_backprop",
    "check_gradients",
    "gradcheck",
    "gradgradcheck",
    "relative_error",
]
