"""Primitives: each a ``Function`` with its forward and backward side by side, on numpy.

Backward rules are written in numpy. In an ordinary backward they run on arrays; under
``create_graph=True`` they run on Tensors through numpy's dispatch protocols, which is what
makes gradients differentiable. A rule that needs another primitive calls it with
``Primitive.call(...)``, which is numpy on arrays and a graph op on Tensors.
"""
