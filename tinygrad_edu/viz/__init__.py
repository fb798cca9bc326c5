"""Pictures of compute graphs (graphviz) and of training (matplotlib, optional).

>>> import tinygrad_edu as tg
>>> from tinygrad_edu.viz import draw_graph
>>> x = tg.tensor([1.0, 2.0], requires_grad=True)
>>> "Relu" in draw_graph(x.relu().sum()).to_dot()
True
"""

from .gradnorms import GradNormRecorder
from .graph import draw_graph
from .plots import plot_decision_boundary, plot_grad_norms, plot_history, plot_regression_1d
from .render import GraphDrawing, GraphvizNotFoundError

__all__ = [
    "GradNormRecorder",
    "GraphDrawing",
    "GraphvizNotFoundError",
    "draw_graph",
    "plot_decision_boundary",
    "plot_grad_norms",
    "plot_history",
    "plot_regression_1d",
]
