"""Each op's forward formula and local derivative rule, in words and maths, for the explorer.

``g`` is the gradient arriving at the op's output (∂L/∂out). A rule says what each input
gets; the engine then sums it over broadcast axes and casts it to the input's dtype. An op
without an entry (a user-written :class:`~tinygrad_edu.Function`, say) gets a generic rule
that quotes the first line of its ``backward``'s docstring when there is one.

>>> rule_for("Mul").backward
'∂out/∂a = b, ∂out/∂b = a: a gets g·b, b gets g·a'
>>> rule_for("Linear").input_name(1)
'W'
>>> class Cube:
...     @staticmethod
...     def backward(ctx, g):
...         "3x² times the incoming gradient."
>>> rule_for("Cube", Cube).backward
'Cube.backward, its own rule: 3x² times the incoming gradient.'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    """``forward``: what the op computes; ``backward``: its local derivative rule;
    ``inputs``: the names the two formulas give the op's inputs, in order."""

    forward: str
    backward: str
    inputs: tuple[str, ...] = ("x",)

    def input_name(self, i: int) -> str:
        """The formula's name of input ``i`` (``input i`` past the named ones)."""
        return self.inputs[i] if i < len(self.inputs) else f"input {i}"


_AB = ("a", "b")

RULES: dict[str, Rule] = {
    # elementwise, two inputs (broadcasting: the engine sums g back to each input's shape)
    "Add": Rule("out = a + b", "∂out/∂a = 1, ∂out/∂b = 1: both inputs get g", _AB),
    "Sub": Rule("out = a − b", "∂out/∂a = 1, ∂out/∂b = −1: a gets g, b gets −g", _AB),
    "Mul": Rule("out = a · b", "∂out/∂a = b, ∂out/∂b = a: a gets g·b, b gets g·a", _AB),
    "Div": Rule("out = a / b", "∂out/∂a = 1/b, ∂out/∂b = −a/b²: a gets g/b, b gets −g·a/b²",
                _AB),
    "Pow": Rule("out = aᵇ", "∂out/∂a = b·aᵇ⁻¹ (0 where a = b = 0), ∂out/∂b = aᵇ·ln a (0 where "
                "a = 0, b ≥ 0)", _AB),
    "Maximum": Rule("out = max(a, b), elementwise",
                    "g goes to the larger input (half to each at a tie)", _AB),
    "Minimum": Rule("out = min(a, b), elementwise",
                    "g goes to the smaller input (half to each at a tie)", _AB),
    "Where": Rule("out = a where cond, else b",
                  "a gets g where cond holds, b gets g elsewhere; cond gets none",
                  ("cond", "a", "b")),
    # elementwise, one input
    "Neg": Rule("out = −x", "∂out/∂x = −1: x gets −g"),
    "Tan": Rule("out = tan x", "∂out/∂x = 1 + tan²x: x gets g·(1 + out²)"),
    "Sinh": Rule("out = sinh x", "∂out/∂x = cosh x: x gets g·cosh x"),
    "Cosh": Rule("out = cosh x", "∂out/∂x = sinh x: x gets g·sinh x"),
    "Arcsin": Rule("out = arcsin x", "∂out/∂x = 1/√(1 − x²): x gets g/√(1 − x²)"),
    "Arccos": Rule("out = arccos x", "∂out/∂x = −1/√(1 − x²): x gets −g/√(1 − x²)"),
    "Arctan": Rule("out = arctan x", "∂out/∂x = 1/(1 + x²): x gets g/(1 + x²)"),
    "Arcsinh": Rule("out = arsinh x", "∂out/∂x = 1/√(x² + 1): x gets g/√(x² + 1)"),
    "Arccosh": Rule("out = arcosh x", "∂out/∂x = 1/√(x² − 1): x gets g/√(x² − 1)"),
    "Arctanh": Rule("out = artanh x", "∂out/∂x = 1/(1 − x²): x gets g/(1 − x²)"),
    "Cbrt": Rule("out = ∛x", "∂out/∂x = 1/(3·∛x²): x gets g/(3·out²)"),
    "Arctan2": Rule("out = arctan2(y, x), the angle of the point (x, y)",
                    "∂out/∂y = x/(x² + y²), ∂out/∂x = −y/(x² + y²)", ("y", "x")),
    "Cumsum": Rule("out_i = x_0 + … + x_i along the axis",
                   "x_j gets the sum of g_i for i ≥ j: g summed from the other end"),
    "Einsum": Rule("out = einsum(subscripts, operands…): products summed over the shared "
                   "indices", "each operand gets g contracted with the other operands, back "
                   "to its own indices (again an einsum)", ("a", "b", "c")),
    "Exp": Rule("out = eˣ", "∂out/∂x = eˣ = out: x gets g·out"),
    "Log": Rule("out = ln x", "∂out/∂x = 1/x: x gets g/x"),
    "Sqrt": Rule("out = √x", "∂out/∂x = 1/(2√x): x gets g/(2·out)"),
    "RootOfSquares": Rule("out = √s, s a sum of squares (std, a 2-norm)", "∂out/∂s = 1/(2√s): "
                          "s gets g/(2·out), and 0 where out = 0 (a constant's std, zeros' norm)"),
    "Abs": Rule("out = |x|", "∂out/∂x = sign(x): x gets g·sign(x)"),
    "Sin": Rule("out = sin x", "∂out/∂x = cos x: x gets g·cos x"),
    "Cos": Rule("out = cos x", "∂out/∂x = −sin x: x gets −g·sin x"),
    "Tanh": Rule("out = tanh x", "∂out/∂x = 1 − tanh²x: x gets g·(1 − out²)"),
    "Sigmoid": Rule("out = σ(x) = 1/(1 + e⁻ˣ)", "∂out/∂x = σ(x)(1 − σ(x)): x gets "
                    "g·out·(1 − out)"),
    "Relu": Rule("out = max(x, 0)", "∂out/∂x = 1 where x > 0, else 0: g passes only where "
                 "the unit was active"),
    "LeakyRelu": Rule("out = x where x > 0, else s·x", "∂out/∂x = 1 where x > 0, else the "
                      "slope s"),
    "Elu": Rule("out = x where x > 0, else α(eˣ − 1)", "∂out/∂x = 1 where x > 0, else α·eˣ"),
    "Erf": Rule("out = erf x", "∂out/∂x = (2/√π)·e^(−x²)"),
    "Softplus": Rule("out = ln(1 + e^(βx))/β", "∂out/∂x = σ(βx)"),
    "Clamp": Rule("out = x clipped to [min, max]", "∂out/∂x = 1 inside the range, 0 where "
                  "x was clipped"),
    "Cast": Rule("out = x in another dtype", "∂out/∂x = 1: x gets g, cast back to its dtype"),
    "Clone": Rule("out = a copy of x", "∂out/∂x = 1: x gets g"),
    # the parts of a custom autograd.Function with several outputs (tinygrad_edu.autograd.custom)
    "OutputPart": Rule("out = one output of a custom Function: a part of its packed outputs",
                       "the packed outputs get g at this output's place, zeros elsewhere",
                       ("packed",)),
    "PlacePart": Rule("out = g placed into zeros (an OutputPart's gradient)",
                      "g gets its part of the incoming gradient", ("g",)),
    "OnceDifferentiable": Rule("out = a gradient made by a @once_differentiable backward",
                               "refuses: that backward cannot be differentiated again", ("g",)),
    "Rounding": Rule("out = round, floor, ceil or sign of x", "∂out/∂x = 0 almost "
                     "everywhere: no gradient flows through"),
    # shape and indexing
    "Reshape": Rule("out = x with a new shape", "x gets g reshaped back to x's shape"),
    "Permute": Rule("out = x with its axes permuted (x.T, transpose)",
                    "x gets g with the axes permuted back"),
    "Expand": Rule("out = x broadcast to a larger shape",
                   "x gets g summed over the broadcast axes"),
    "GetItem": Rule("out = x[index]", "x gets zeros with g added at index (twice where an "
                    "entry was picked twice)"),
    "ScatterAdd": Rule("out = zeros with g added at index (GetItem's backward)",
                       "its input gets the incoming gradient at index: (g)[index]", ("g",)),
    "Concatenate": Rule("out = x₀, x₁, … joined along an axis",
                        "each input gets its own slice of g", ("x₀", "x₁", "x₂", "x₃")),
    "Pad": Rule("out = x padded", "x gets g with the padding cut off"),
    "Unfold": Rule("out = the sliding windows (patches) of the image x (im2col)",
                   "each window's gradient is added back to the pixels it covers (Fold)"),
    "Fold": Rule("out = windows added back into an image (col2im)",
                 "each window gets the gradient of the pixels it covers (Unfold)", ("cols",)),
    "Conv2d": Rule("out = w ⋆ x + b: each output pixel is the dot product of w with the "
                   "window of x under it (im2col, then one product)",
                   "w gets Σ g·window, b gets Σ g, and x gets wᵀg added back to the pixels "
                   "each window covers (col2im)", ("x", "w", "b")),
    "MaxPoolTiles": Rule("out = the max of each kh×kw tile of x (the windows tile the image)",
                         "∂out/∂x = 1 at each tile's maximum, 0 elsewhere (shared equally "
                         "between tied maxima)"),
    "AvgPoolTiles": Rule("out = the mean of each kh×kw tile of x (the windows tile the image)",
                         "every pixel of a tile gets g/(kh·kw)"),
    # reductions
    "Sum": Rule("out = Σ x (over the reduced axes)", "∂out/∂x = 1: x gets g broadcast back "
                "to x's shape"),
    "Mean": Rule("out = Σ x / n", "∂out/∂x = 1/n: x gets g/n broadcast back to x's shape"),
    "Max": Rule("out = max x (over the reduced axes)", "∂out/∂x = 1 at the maximum, 0 "
                "elsewhere (shared equally between tied maxima)"),
    "Softmax": Rule("out = eˣ / Σ eˣ", "x gets out·(g − Σ g·out)"),
    "LogSoftmax": Rule("out = x − ln Σ eˣ", "x gets g − softmax(x)·Σ g"),
    # linear algebra and layers
    "MatMul": Rule("out = A @ B", "A gets g @ Bᵀ, B gets Aᵀ @ g", ("A", "B")),
    "Linear": Rule("out = x @ Wᵀ + b", "x gets g @ W, W gets gᵀ @ x, b gets g summed over "
                   "the rows", ("x", "W", "b")),
    "DenseOp": Rule("out = x @ K + b", "x gets g @ Kᵀ, K gets xᵀ @ g, b gets g summed over "
                    "the rows", ("x", "K", "b")),
    "ConcatAffine": Rule("out = [x₁ x₂ …] @ K + b, without joining the pieces (a captured "
                         "step's rewrite of a concatenation feeding a product)",
                         "each piece xᵢ gets g @ Kᵢᵀ (Kᵢ: its rows of K), K gets the xᵢᵀ @ g "
                         "stacked, b gets g summed over the rows"),
    "MSELoss": Rule("out = mean (or sum) of (x − y)²",
                    "x gets 2·(x − y)·g/n, y gets −2·(x − y)·g/n (n = 1 for a sum)",
                    ("x", "y")),
    "CrossEntropyLoss": Rule("out = −(mean over the samples of log softmax(z)[i, targetᵢ])",
                             "z gets (softmax(z) − one-hot target)·g/n (times the class "
                             "weights, label smoothing spread over the classes); the target "
                             "gets none", ("z", "target", "weight")),
    "NLLLoss": Rule("out = −(mean over the samples of logp[i, targetᵢ])",
                    "logp gets −g/n at each sample's target class (times its class weight), "
                    "0 elsewhere; target gets none", ("logp", "target", "weight")),
    # torch_math's primitives (ops/pointwise.py, ops/linalg_inverse.py)
    "Log2": Rule("out = log₂ x", "∂out/∂x = 1/(x·ln 2): x gets g/(x·ln 2)"),
    "Log10": Rule("out = log₁₀ x", "∂out/∂x = 1/(x·ln 10): x gets g/(x·ln 10)"),
    "Exp2": Rule("out = 2ˣ", "∂out/∂x = 2ˣ·ln 2: x gets g·out·ln 2"),
    "Erfinv": Rule("out = erf⁻¹ x", "∂out/∂x = (√π/2)·exp(out²): x gets g·(√π/2)·exp(out²)"),
    "Xlogy": Rule("out = a·ln b (0 where a = 0)", "∂out/∂a = ln b (0 where a = 0 and b ≤ 0), "
                  "∂out/∂b = a/b", _AB),
    "Remainder": Rule("out = a mod b, the sign of b", "∂out/∂a = 1, ∂out/∂b = −floor(a/b)",
                      _AB),
    "Fmod": Rule("out = fmod(a, b), the sign of a", "∂out/∂a = 1, ∂out/∂b = −trunc(a/b)", _AB),
    "RoundedDiv": Rule("out = a / b rounded (floor or toward zero)",
                       "piecewise constant: both inputs get 0", _AB),
    "Inverse": Rule("out = A⁻¹", "A gets −A⁻ᵀ·g·A⁻ᵀ", ("A",)),
    "Det": Rule("out = det A", "∂out/∂A = det A·A⁻ᵀ (the cofactor matrix): A gets g·det A·A⁻ᵀ",
                ("A",)),
    "LogAbsDet": Rule("out = ln |det A|", "∂out/∂A = A⁻ᵀ: A gets g·A⁻ᵀ", ("A",)),
    "Solve": Rule("out = X with A·X = B", "B gets A⁻ᵀ·g (a solve), A gets −(A⁻ᵀ·g)·Xᵀ",
                  ("A", "B")),
}


def rule_for(name: str, function: Any = None) -> Rule:
    """The rule of the op called ``name``; ``function`` (the Function class) words the
    generic rule of an op that has no entry."""
    rule = RULES.get(name)
    if rule is not None:
        return rule
    doc = getattr(getattr(function, "backward", None), "__doc__", None)
    first = doc.strip().splitlines()[0] if doc and doc.strip() else ""
    what = first or "computes each input's gradient from g and what forward saved"
    return Rule(f"out = {name}(…)", f"{name}.backward, its own rule: {what}",
                tuple(f"input {i}" for i in range(8)))
