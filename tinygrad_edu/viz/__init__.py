"""Pictures of compute graphs (graphviz), the explorer page that steps through backprop on
one (``draw_graph(...).save("graph.html")``), and pictures of training (matplotlib).

>>> import tinygrad_edu as tg
>>> from tinygrad_edu.viz import draw_graph
>>> x = tg.tensor([1.0, 2.0], requires_grad=True)
>>> "Relu" in draw_graph(x.relu().sum()).to_dot()
True
"""

from .explorer import Explorer
from .gradnorms import GradNormRecorder
from .graph import draw_graph, make_dot
from .numpy_draw import draw_numpy
from .plots import plot_decision_boundary, plot_grad_norms, plot_history, plot_regression_1d
from .render import GraphDrawing, GraphvizNotFoundError

__all__ = [
    "Explorer",
    "GradNormRecorder",
    "GraphDrawing",
    "GraphvizNotFoundError",
    "draw_graph",
    "draw_numpy",
    "make_dot",
    "plot_decision_boundary",
    "plot_grad_norms",
    "plot_history",
    "plot_regression_1d",
]
