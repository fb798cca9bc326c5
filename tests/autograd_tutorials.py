"""Our own scripts in the style of PyTorch's autograd teaching material, written as a learner
ports it: every function takes the library as ``torch`` (``import tinygrad_edu as torch``),
so its body reads as PyTorch code. Each returns what a learner would look at (values,
gradients, flags, the names of grad_fns, which error was raised), keyed by name, for
``tests/test_foreign_autograd_tutorials.py`` to compare between tinygrad_edu and PyTorch.

The material: "Automatic differentiation with torch.autograd" (basics), "A Gentle
Introduction to torch.autograd", the "Autograd mechanics" notes and "Extending PyTorch"
(custom autograd Functions). Random starting values come from numpy, so that both libraries
start from the same numbers.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

RNG_SEED = 0


def _np(t: Any) -> Any:
    """A tensor as a numpy array (what the comparison reads); other values as they are."""
    if hasattr(t, "detach"):
        return np.array(t.detach().numpy())
    return t


def _error(fn: Any) -> str:
    """``"ok"`` or the name of the exception class ``fn()`` raised."""
    try:
        fn()
    except Exception as e:  # the comparison wants the kind of error
        return "RuntimeError" if isinstance(e, RuntimeError) else type(e).__name__
    return "ok"


def _grad_fn_name(t: Any) -> str:
    """``"MulBackward0"`` (PyTorch) and ``"MulBackward"`` (ours) both become ``"Mul"``."""
    return type(t.grad_fn).__name__.removesuffix("0").removesuffix("Backward")


# ----------------------------------------------------------------------- basics tutorial
def basics(torch: Any) -> dict:
    """"Automatic differentiation with torch.autograd": a one-layer logistic model."""
    rng = np.random.default_rng(RNG_SEED)
    out: dict = {}
    x = torch.ones(5)  # input tensor
    y = torch.zeros(3)  # expected output
    w = torch.tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    b = torch.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    out["z grad_fn"] = _grad_fn_name(z)
    out["z grad_fn printed"] = f"Gradient function for z = {z.grad_fn}"
    out["loss"] = _np(loss)
    loss.backward()
    out["w.grad"], out["b.grad"] = _np(w.grad), _np(b.grad)

    z = torch.matmul(x, w) + b
    out["z.requires_grad"] = z.requires_grad
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    out["z.requires_grad under no_grad"] = z.requires_grad
    z = torch.matmul(x, w) + b
    z_det = z.detach()
    out["z_det.requires_grad"] = z_det.requires_grad

    # Jacobian-vector products: a non-scalar output, backward with a vector
    inp = torch.eye(4, 5, requires_grad=True)
    result = (inp + 1).pow(2).t()
    result.backward(torch.ones_like(result), retain_graph=True)
    out["first call"] = _np(inp.grad).copy()
    result.backward(torch.ones_like(result), retain_graph=True)
    out["second call"] = _np(inp.grad).copy()
    inp.grad.zero_()
    result.backward(torch.ones_like(result), retain_graph=True)
    out["call after zeroing gradients"] = _np(inp.grad).copy()
    out["backward without retain_graph, twice"] = _error(lambda: _twice(torch))
    out["non-scalar backward without gradient"] = _error(lambda: (inp * 2).backward())
    return out


def _twice(torch: Any) -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    q = (a * a.exp()).sum()
    q.backward()
    q.backward()


# ------------------------------------------------------------ a gentle introduction
def gentle_introduction(torch: Any) -> dict:
    """"A Gentle Introduction to torch.autograd": Q = 3a³ − b², external gradients, the DAG's
    exclusion rule and fine-tuning with frozen parameters."""
    out: dict = {}
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    b = torch.tensor([6.0, 4.0], requires_grad=True)
    Q = 3 * a**3 - b**2
    external_grad = torch.tensor([1.0, 1.0])
    Q.backward(gradient=external_grad)
    out["9*a**2 == a.grad"] = _np(9 * a**2 == a.grad)
    out["-2*b == b.grad"] = _np(-2 * b == b.grad)
    out["a.grad"] = _np(a.grad)

    rng = np.random.default_rng(RNG_SEED)
    x = torch.tensor(rng.random((5, 5)).astype(np.float32))
    y = torch.tensor(rng.random((5, 5)).astype(np.float32))
    z = torch.tensor(rng.random((5, 5)).astype(np.float32), requires_grad=True)
    out["Does `a` require gradients?"] = (x + y).requires_grad
    out["Does `b` require gradients?"] = (x + z).requires_grad
    out |= _fine_tune(torch, rng)
    return out


def _fine_tune(torch: Any, rng: np.random.Generator) -> dict:
    """Freeze a pretrained model, replace its classifier, train only that."""
    nn, optim = torch.nn, torch.optim
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 5))
    new_head = nn.Linear(8, 3)
    _load(torch, model, rng)
    _load(torch, new_head, rng)
    for param in model.parameters():
        param.requires_grad = False
    model[2] = new_head  # only the new layer's parameters require grad
    optimizer = optim.SGD(model.parameters(), lr=1e-1, momentum=0.9)
    frozen = [_np(p).copy() for p in model[0].parameters()]
    data = torch.tensor(rng.standard_normal((4, 6)).astype(np.float32))
    labels = torch.tensor(rng.integers(0, 3, 4))
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(data), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {
        "requires_grad per parameter": [p.requires_grad for p in model.parameters()],
        "frozen grads are None": [p.grad is None for p in model[0].parameters()],
        "frozen layer unchanged": all(
            np.array_equal(_np(p), f) for p, f in zip(model[0].parameters(), frozen)),
        "fine-tune losses": np.array(losses),
        "new head weight": _np(model[2].weight),
    }


def _load(torch: Any, module: Any, rng: np.random.Generator) -> None:
    """The same starting weights in both libraries."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))


# ------------------------------------------------------------------ autograd mechanics
def mechanics(torch: Any) -> dict:
    """The "Autograd mechanics" notes: the graph, saved tensors, in-place correctness
    checks, non-leaf gradients, hooks, grad modes and anomaly detection."""
    out: dict = {}
    x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    node, chain = y.grad_fn, []
    while node is not None:  # walk the first input of each node back to the leaf
        chain.append(type(node).__name__.removesuffix("0").removesuffix("Backward"))
        node = node.next_functions[0][0] if node.next_functions else None
    out["grad_fn chain"] = [c for c in chain if c != "AccumulateGrad"]

    p = x.pow(2)
    out["_saved_self is x"] = p.grad_fn._saved_self is x
    e = x.exp()
    out["_saved_result equals e"] = bool(e.equal(e.grad_fn._saved_result))
    out["_saved_result is e"] = e.grad_fn._saved_result is e

    out |= _inplace_checks(torch)
    out |= _non_leaf_gradients(torch)
    out |= _hooks(torch)
    out |= _higher_order(torch)
    out |= _grad_modes(torch)
    out |= _anomaly(torch)
    return out


def _inplace_checks(torch: Any) -> dict:
    def changed_after_use() -> None:
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = a * 1
        c = b**2  # saves b
        b.add_(1)  # ... which changes here
        c.sum().backward()

    def leaf_in_place() -> None:
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        w.add_(1)

    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.no_grad():
        w.mul_(3)  # how an update is written
    return {
        "saved value changed in place": _error(changed_after_use),
        "leaf that requires grad changed in place": _error(leaf_in_place),
        "in-place update under no_grad": _np(w),
    }


def _non_leaf_gradients(torch: Any) -> dict:
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    k = x * 3
    (h * h + k).sum().backward()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        k_grad = k.grad
    return {
        "h.grad (retained)": _np(h.grad),
        "h.retains_grad": h.retains_grad,
        "is_leaf x, h": (x.is_leaf, h.is_leaf),
        "k.grad (not retained)": k_grad,
        "reading k.grad warns": any("leaf" in str(w.message) for w in caught),
    }


def _hooks(torch: Any) -> dict:
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    handle = x.register_hook(lambda grad: grad * 2)  # double the gradient
    (x * x).sum().backward()
    doubled = _np(x.grad).copy()
    handle.remove()
    x.grad = None
    (x * x).sum().backward()

    seen = []
    v = torch.tensor([1.0, 1.0], requires_grad=True)
    u = v * 3
    u.register_hook(lambda g: seen.append(("first", _np(g).tolist())) or g + 1)
    u.register_hook(lambda g: seen.append(("second", _np(g).tolist())) or g * 10)
    (u * u).sum().backward()
    return {"hooked grad": doubled, "grad after remove": _np(x.grad), "hook order": seen,
            "grad through two hooks": _np(v.grad)}


def _higher_order(torch: Any) -> dict:
    x = torch.tensor(2.0, requires_grad=True)
    y = x**3
    (dy,) = torch.autograd.grad(y, x, create_graph=True)  # 3x²
    (d2y,) = torch.autograd.grad(dy, x)  # 6x

    # a gradient penalty (WGAN-GP style) on a small critic
    rng = np.random.default_rng(RNG_SEED)
    critic = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    _load(torch, critic, rng)
    data = torch.tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    scores = critic(data)
    (gradients,) = torch.autograd.grad(scores.sum(), data, create_graph=True)
    penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    return {"dy": _np(dy), "d2y": _np(d2y), "penalty": _np(penalty),
            "penalty grad of first weight": _np(critic[0].weight.grad),
            "penalty grad of data": _np(data.grad)}


def _grad_modes(torch: Any) -> dict:
    x = torch.ones(2, requires_grad=True)
    modes = {}
    with torch.set_grad_enabled(False):
        modes["set_grad_enabled(False)"] = (x * 2).requires_grad
    torch.set_grad_enabled(True)
    modes["is_grad_enabled"] = torch.is_grad_enabled()
    with torch.inference_mode():
        modes["inference_mode"] = (x * 2).requires_grad
        modes["is_inference_mode_enabled"] = torch.is_inference_mode_enabled()

    @torch.no_grad()
    def doubler(t: Any) -> Any:
        return t * 2

    @torch.enable_grad()
    def tripler(t: Any) -> Any:
        return t * 3

    modes["no_grad decorator"] = doubler(x).requires_grad
    with torch.no_grad():
        modes["enable_grad inside no_grad"] = tripler(x).requires_grad
    t = torch.ones(3)
    modes["requires_grad_()"] = t.requires_grad_().requires_grad
    return modes


def _anomaly(torch: Any) -> dict:
    def nan_in_backward() -> None:
        x = torch.tensor([0.0, 1.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with torch.autograd.detect_anomaly():
                (x.sqrt() * 0).sum().backward()  # 0 * inf in SqrtBackward

    return {"detect_anomaly in backward": _error(nan_in_backward)}


# ------------------------------------------------------------- torch.autograd.functional
def functional(torch: Any) -> dict:
    """``torch.autograd.functional``: jacobian, hessian, vjp, jvp, hvp, vhp."""
    from_fn = torch.autograd.functional
    rng = np.random.default_rng(RNG_SEED)
    x = torch.tensor(rng.standard_normal(3))  # float64 as a learner checking would use
    w = torch.tensor(rng.standard_normal((2, 3)))
    v_out = torch.tensor(rng.standard_normal(2))
    v_in = torch.tensor(rng.standard_normal(3))

    def layer(inp: Any) -> Any:
        return torch.tanh(w @ inp)

    def two_inputs(a: Any, b: Any) -> Any:
        return a * b.sin(), (a**2).sum()

    def energy(inp: Any) -> Any:
        return (inp**4).sum() + inp.prod()

    jac_pair = from_fn.jacobian(two_inputs, (x, x + 1))
    hess_pair = from_fn.hessian(lambda a, b: (a * b.exp()).sum(), (x, v_in))
    return {
        "jacobian": _np(from_fn.jacobian(layer, x)),
        "jacobian tuple": [[_np(j) for j in row] for row in jac_pair],
        "hessian": _np(from_fn.hessian(energy, x)),
        "hessian tuple": [[_np(h) for h in row] for row in hess_pair],
        "vjp": [_np(r) for r in from_fn.vjp(layer, x, v_out)],
        "jvp": [_np(r) for r in from_fn.jvp(layer, x, v_in)],
        "hvp": [_np(r) for r in from_fn.hvp(energy, x, v_in)],
        "vhp": [_np(r) for r in from_fn.vhp(energy, x, v_in)],
        "vjp without v on a vector output": _error(lambda: from_fn.vjp(layer, x)),
    }


# ----------------------------------------------------------------- custom Functions
def custom_functions(torch: Any) -> dict:
    """"Extending PyTorch": custom autograd Functions, checked with gradcheck."""
    Function = torch.autograd.Function
    once_differentiable = torch.autograd.function.once_differentiable

    class MyExp(Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    class LinearFunction(Function):
        @staticmethod
        def forward(input, weight, bias=None):  # the setup_context style
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def setup_context(ctx, inputs, output):
            input, weight, bias = inputs
            ctx.save_for_backward(input, weight, bias)

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    class MulConstant(Function):
        @staticmethod
        def forward(ctx, tensor, constant):
            ctx.constant = constant  # not a tensor: kept on ctx
            return tensor * constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None  # no gradient for the number

    class SortWithIndices(Function):
        @staticmethod
        def forward(ctx, x):
            values, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x, idx)
            return values, idx

        @staticmethod
        @once_differentiable
        def backward(ctx, g_values, g_idx):  # still gets a gradient for idx
            x, idx = ctx.saved_tensors
            grad_input = torch.zeros_like(x)
            grad_input.index_add_(0, idx, g_values)
            return grad_input

    class CubeAndSlope(Function):
        @staticmethod
        def forward(x):
            return x**3, 3 * x**2

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x, output[1])

        @staticmethod
        def backward(ctx, grad_cube, grad_slope):
            x, slope = ctx.saved_tensors
            return grad_cube * slope + grad_slope * 6 * x

    rng = np.random.default_rng(RNG_SEED)
    double = {"dtype": torch.double, "requires_grad": True}
    inp = torch.tensor(rng.standard_normal((4, 3)), **double)
    weight = torch.tensor(rng.standard_normal((2, 3)), **double)
    bias = torch.tensor(rng.standard_normal(2), **double)
    x = torch.tensor(rng.standard_normal(5), **double)
    gradcheck = torch.autograd.gradcheck

    out: dict = {
        "gradcheck MyExp": gradcheck(MyExp.apply, (x,), eps=1e-6, atol=1e-4),
        "gradgradcheck MyExp": torch.autograd.gradgradcheck(MyExp.apply, (x,)),
        "gradcheck LinearFunction": gradcheck(LinearFunction.apply, (inp, weight, bias),
                                              eps=1e-6, atol=1e-4),
        "gradcheck CubeAndSlope": gradcheck(CubeAndSlope.apply, (x,), eps=1e-6, atol=1e-4),
    }
    y = MyExp.apply(x)
    out["MyExp grad_fn"] = type(y.grad_fn).__name__
    y.sum().backward()
    out["MyExp x.grad"] = _np(x.grad)

    out["LinearFunction"] = _np(LinearFunction.apply(inp, weight, bias))
    LinearFunction.apply(inp, weight).pow(2).sum().backward()
    out["LinearFunction grads (no bias)"] = [_np(inp.grad), _np(weight.grad), bias.grad]

    t = torch.tensor([1.0, -2.0], requires_grad=True)
    MulConstant.apply(t, 5.0).sum().backward()
    out["MulConstant t.grad"] = _np(t.grad)

    s = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, idx = SortWithIndices.apply(s)
    (values * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
    out["sorted"] = (_np(values), _np(idx), idx.requires_grad)
    out["sort s.grad"] = _np(s.grad)

    c = torch.tensor([1.0, 2.0], requires_grad=True)
    cube, slope = CubeAndSlope.apply(c)
    (cube.sum() + slope.sum()).backward()
    out["CubeAndSlope c.grad"] = _np(c.grad)

    with torch.no_grad():
        out["MyExp under no_grad requires grad"] = MyExp.apply(x).requires_grad
    out["second derivative through once_differentiable"] = _error(
        lambda: _differentiate_twice(torch, SortWithIndices, s))
    return out


def _differentiate_twice(torch: Any, fn: Any, s: Any) -> None:
    values, _ = fn.apply(s)
    (g,) = torch.autograd.grad((values**2).sum(), s, create_graph=True)
    g.sum().backward()


SCRIPTS = {
    "basics": basics,
    "gentle_introduction": gentle_introduction,
    "mechanics": mechanics,
    "functional": functional,
    "custom_functions": custom_functions,
}
