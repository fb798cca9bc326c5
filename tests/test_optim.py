"""Optimizers against PyTorch 2.13, update for update: every optimizer and every option
(hypothesis over option values, parameter shapes, missing gradients and parameter groups),
float64 parameters agreeing to 1e-12 after every step; state_dict round trips with
PyTorch both ways; the Optimizer API and its errors; gradient clipping."""

from __future__ import annotations

import copy
import math
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.optim.flat import FlatGroup

from .helpers import assert_close

STEPS = 4
small = st.sampled_from([0.0, 0.0, 0.1, 0.5, 0.9])
lrs = st.sampled_from([1e-3, 0.01, 0.1, 0.5])


@st.composite
def sgd_options(draw):
    kw = dict(lr=draw(lrs), momentum=draw(small), dampening=draw(small),
              weight_decay=draw(small), maximize=draw(st.booleans()))
    if kw["momentum"] > 0 and draw(st.booleans()):
        kw.update(nesterov=True, dampening=0.0)
    return kw


@st.composite
def adam_options(draw):
    return dict(lr=draw(lrs), betas=(draw(st.sampled_from([0.0, 0.5, 0.9])),
                                     draw(st.sampled_from([0.0, 0.9, 0.999]))),
                eps=draw(st.sampled_from([1e-8, 1e-3])), weight_decay=draw(small),
                amsgrad=draw(st.booleans()), maximize=draw(st.booleans()))


@st.composite
def rmsprop_options(draw):
    centered = draw(st.booleans())
    # centered with alpha = 0 computes sqrt(g² - g²): zero up to rounding, an ill-posed case
    alphas = [0.5, 0.99] if centered else [0.0, 0.5, 0.99]
    return dict(lr=draw(lrs), alpha=draw(st.sampled_from(alphas)),
                eps=draw(st.sampled_from([1e-8, 1e-3])), weight_decay=draw(small),
                momentum=draw(small), centered=centered, maximize=draw(st.booleans()))


@st.composite
def adagrad_options(draw):
    return dict(lr=draw(lrs), lr_decay=draw(st.sampled_from([0.0, 0.1])),
                weight_decay=draw(small),
                initial_accumulator_value=draw(st.sampled_from([0.0, 0.5])),
                eps=draw(st.sampled_from([1e-10, 1e-3])), maximize=draw(st.booleans()))


OPTIMIZERS = {
    "SGD": (optim.SGD, torch.optim.SGD, sgd_options()),
    "Adam": (optim.Adam, torch.optim.Adam, adam_options()),
    "AdamW": (optim.AdamW, torch.optim.AdamW, adam_options()),
    "RMSprop": (optim.RMSprop, torch.optim.RMSprop, rmsprop_options()),
    "Adagrad": (optim.Adagrad, torch.optim.Adagrad, adagrad_options()),
}
names = list(OPTIMIZERS)


class Pair:
    """The same parameters in both libraries, with one optimizer each."""

    def __init__(self, name, shapes, groups, rng, foreach=None):
        ours_cls, torch_cls, _ = OPTIMIZERS[name]
        init = [rng.uniform(-1, 1, s) for s in shapes]
        self.ours = [tg.tensor(a.copy(), requires_grad=True) for a in init]
        self.theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
        self.shapes = shapes

        def split(params):
            out, start = [], 0
            for size, options in groups:
                out.append({"params": params[start:start + size], **options})
                start += size
            return out

        base = groups[0][1]
        self.opt = ours_cls(split(self.ours), **base, foreach=foreach)
        self.topt = torch_cls(split(self.theirs), foreach=False, **base)

    def set_grads(self, rng, missing=()):
        for i, (p, q, s) in enumerate(zip(self.ours, self.theirs, self.shapes)):
            if i in missing:
                p.grad, q.grad = None, None
            else:
                g = rng.uniform(-1, 1, s)
                p.grad, q.grad = tg.tensor(g), torch.tensor(g)

    def step(self):
        self.opt.step()
        self.topt.step()

    def check(self, what=""):
        for i, (p, q) in enumerate(zip(self.ours, self.theirs)):
            assert_close(p.numpy(), q.detach().numpy(), atol=1e-12, rtol=0,
                         what=f"{what} parameter {i}")


@st.composite
def setup(draw, name):
    shapes = draw(st.lists(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
                           min_size=1, max_size=3))
    options = draw(OPTIMIZERS[name][2])
    groups = [(len(shapes), options)]
    if len(shapes) > 1 and draw(st.booleans()):  # a second group with its own options
        k = draw(st.integers(1, len(shapes) - 1))
        second = draw(OPTIMIZERS[name][2])
        # PyTorch 2.13 starts every group at the constructor's initial_accumulator_value (we
        # honour the group's own, see test_adagrad_honours_a_groups_initial_accumulator)
        second.pop("initial_accumulator_value", None)
        groups = [(k, options), (len(shapes) - k, second)]
    missing = draw(st.lists(st.sets(st.integers(0, len(shapes) - 1), max_size=1),
                            min_size=STEPS, max_size=STEPS))
    return shapes, groups, missing


@pytest.mark.parametrize("name", names)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_updates_match_pytorch_for_every_option(name, data, seed) -> None:
    shapes, groups, missing = data.draw(setup(name))
    rng = np.random.default_rng(seed)
    pair = Pair(name, shapes, groups, rng)
    for step in range(STEPS):
        pair.set_grads(rng, missing[step])
        pair.step()
        pair.check(f"{name} {groups} step {step}")
        if step == 1:  # a learning-rate change between steps is picked up
            for g, tg_ in zip(pair.opt.param_groups, pair.topt.param_groups):
                g["lr"] = tg_["lr"] = g["lr"] * 0.5
    # the per-parameter state has PyTorch's keys and values
    for p, q in zip(pair.ours, pair.theirs):
        ours_state, their_state = pair.opt.state.get(p, {}), pair.topt.state.get(q, {})
        assert sorted(ours_state) == sorted(k for k, v in their_state.items() if v is not None)
        for k, v in ours_state.items():
            expected = their_state[k]
            assert_close(np.asarray(v, dtype=np.float64),
                         expected.numpy() if torch.is_tensor(expected) else expected,
                         atol=1e-12, what=f"state {k}")


def _rewritable(name, group, key, value) -> bool:
    """Whether a test may rewrite option ``key`` of a group after a step: not those that fix
    the state's layout (PyTorch cannot change them either; RMSprop makes its momentum buffer
    on the first step if momentum > 0), nor to centered RMSprop's ill-posed alpha = 0."""
    if key in ("amsgrad", "centered", "initial_accumulator_value"):
        return False
    if name == "RMSprop":
        return key != "momentum" and not (key == "alpha" and value == 0 and group["centered"])
    return True


@pytest.mark.parametrize("foreach", [None, False, True])
@pytest.mark.parametrize("name", names)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_options_rewritten_between_steps_are_honoured(name, foreach, data, seed) -> None:
    """Any option of a group, not only ``lr``, may be rewritten between steps (by a scheduler
    or by hand): the next step uses the new values, as PyTorch's does, whichever path
    (flat or per parameter) updates the group."""
    shapes, groups, missing = data.draw(setup(name))
    rng = np.random.default_rng(seed)
    pair = Pair(name, shapes, groups, rng, foreach=foreach)
    for step in range(STEPS):
        pair.set_grads(rng, missing[step])
        pair.step()
        pair.check(f"{name} {groups} step {step}")
        for g, tg_ in zip(pair.opt.param_groups, pair.topt.param_groups):
            for k, v in data.draw(OPTIMIZERS[name][2]).items():
                if _rewritable(name, g, k, v):
                    g[k] = tg_[k] = v


@pytest.mark.parametrize("name", names)
def test_a_group_of_mixed_dtypes_updates_each_parameter_as_if_alone(name) -> None:
    """float32 and float64 parameters in one group (the per-parameter loop, with constants
    per dtype) end exactly where each one alone in its own optimizer ends."""
    cls = OPTIMIZERS[name][0]
    dtypes = [np.float32, np.float64, np.float64, np.float32]
    rng = np.random.default_rng(0)
    init = [rng.uniform(-1, 1, 3).astype(d) for d in dtypes]
    grads = [[rng.uniform(-1, 1, 3).astype(d) for d in dtypes] for _ in range(3)]
    kw = dict(lr=0.1, momentum=0.5) if name in ("SGD", "RMSprop") else dict(lr=0.1)
    together = [tg.tensor(a.copy(), requires_grad=True) for a in init]
    alone = [tg.tensor(a.copy(), requires_grad=True) for a in init]
    opts = [cls(together, **kw)] + [cls([p], **kw) for p in alone]
    for step_grads in grads:
        for ps in (together, alone):
            for p, g in zip(ps, step_grads):
                p.grad = tg.tensor(g.copy())
        for opt in opts:
            opt.step()
    for p, q in zip(together, alone):
        assert p.dtype == q.dtype and np.array_equal(p.data, q.data)


@pytest.mark.parametrize("foreach", [None, False, True])
def test_an_option_changed_in_place_or_as_an_array_takes_effect(foreach) -> None:
    """Options are compared with the previous step's to reuse what was derived from them; an
    option that is a numpy array or a list (betas, lr), set anew or changed in place between
    steps, takes effect as a tuple and a float set anew do."""
    results = []
    for kind in ("tuple", "array", "list in place", "array in place"):
        params = [tg.ones(2, requires_grad=True), tg.ones(3, requires_grad=True)]
        opt = optim.Adam(params, lr=0.1, foreach=foreach)
        group = opt.param_groups[0]
        if kind.endswith("in place"):
            group["betas"] = [0.9, 0.99] if kind.startswith("list") else np.array([0.9, 0.99])
            group["lr"] = np.array(0.1)
        for step, betas in enumerate(((0.9, 0.99), (0.5, 0.9), (0.5, 0.9), (0.8, 0.9))):
            lr = 0.1 / (step + 1)
            if kind == "tuple":
                group["betas"], group["lr"] = betas, lr
            elif kind == "array":
                group["betas"], group["lr"] = np.array(betas), np.array(lr)
            else:
                group["betas"][0], group["betas"][1] = betas
                group["lr"][...] = lr
            opt.zero_grad()
            sum((p * p * p).sum() for p in params).backward()
            opt.step()
        results.append([p.tolist() for p in params])
    assert results[1:] == results[:1] * 3


@pytest.mark.parametrize("foreach", [None, False, True])
@pytest.mark.parametrize("name", names)
def test_a_step_marks_every_parameter_it_changes(name, foreach) -> None:
    """``loss = f(w); opt.step(); loss.backward()`` fails for every optimizer, flat or per
    parameter, whichever parameter the graph saved; a parameter the step left alone (no
    gradient) is not marked."""
    cls = OPTIMIZERS[name][0]
    shapes = [(2, 2), (3,), (1,), (2,)]
    for saved in range(3):
        params = [tg.ones(*s, requires_grad=True) for s in shapes]
        opt = cls(params, lr=0.1, foreach=foreach)
        before = (params[saved] * params[saved]).sum()
        untouched = (params[3] * params[3]).sum()
        sum((p * p).sum() for p in params[:3]).backward()
        opt.step()
        assert params[saved].tolist() != tg.ones(*shapes[saved]).tolist()
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            before.backward()
        untouched.backward()
        assert params[3].grad.tolist() == [2.0, 2.0]


def _to_torch_state(sd):
    """Our optimizer state_dict (numpy arrays) in PyTorch's types (tensors)."""
    state = {
        i: {k: (torch.from_numpy(v.copy()) if isinstance(v, np.ndarray)
                else torch.tensor(float(v)) if k == "step" else v) for k, v in s.items()}
        for i, s in sd["state"].items()
    }
    return {"state": state, "param_groups": copy.deepcopy(sd["param_groups"])}


@pytest.mark.parametrize("name", names)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_state_dict_round_trips_with_pytorch_both_ways(name, data, seed) -> None:
    shapes, groups, _ = data.draw(setup(name))
    rng = np.random.default_rng(seed)
    pair = Pair(name, shapes, groups, rng)
    for _ in range(2):
        pair.set_grads(rng)
        pair.step()
    ours_sd, theirs_sd = pair.opt.state_dict(), pair.topt.state_dict()
    assert list(ours_sd) == ["state", "param_groups"]
    assert [g["params"] for g in ours_sd["param_groups"]] == \
        [g["params"] for g in theirs_sd["param_groups"]]
    assert sorted(ours_sd["state"]) == sorted(theirs_sd["state"])
    # fresh optimizers that swap the states: ours gets PyTorch's, PyTorch gets ours
    fresh = Pair(name, shapes, groups, np.random.default_rng(0))
    for p, q, a, b in zip(fresh.ours, fresh.theirs, pair.ours, pair.theirs):
        p.data[...] = a.numpy()
        with torch.no_grad():
            q.copy_(b)
    fresh.opt.load_state_dict(theirs_sd)
    fresh.topt.load_state_dict(_to_torch_state(copy.deepcopy(ours_sd)))
    for step in range(2):
        g_rng = np.random.default_rng(step)
        pair.set_grads(g_rng)
        fresh.set_grads(np.random.default_rng(step))
        pair.step()
        fresh.step()
        pair.check("original")
        fresh.check("reloaded")
        for a, b in zip(fresh.ours, pair.ours):
            assert_close(a.numpy(), b.numpy(), atol=1e-12, what="reloaded vs continued")


def test_state_dict_is_pytorchs_layout_and_reloads_into_ours() -> None:
    w, b = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor(0.5, requires_grad=True)
    opt = optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, amsgrad=True)
    (w * w).sum().backward()
    opt.step()  # b has no gradient: no state for it
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][1]["params"] == [1]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["lr"] == 0.1
    assert list(sd["state"]) == [0] and sd["state"][0]["step"] == 1
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    other = optim.Adam([{"params": [w]}, {"params": [b]}], lr=0.3)
    other.load_state_dict(copy.deepcopy(sd))
    assert other.param_groups[1]["lr"] == 0.5 and other.param_groups[0]["params"][0] is w
    assert other.state[w]["step"] == 1
    assert (other.state[w]["exp_avg"] == opt.state[w]["exp_avg"]).all()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam([w, b]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam([{"params": [w, b]}, {"params": []}]).load_state_dict(sd)


def test_adagrad_honours_a_groups_initial_accumulator_value() -> None:
    a, b = tg.ones(1, requires_grad=True), tg.ones(1, requires_grad=True)
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 3.0}],
                        lr=1.0)
    assert opt.state[a]["sum"].tolist() == [0.0] and opt.state[b]["sum"].tolist() == [3.0]
    a.grad, b.grad = tg.ones(1), tg.ones(1)
    opt.step()
    assert a.tolist() == pytest.approx([0.0]) and b.tolist() == pytest.approx([0.5])


# --------------------------------------------------------------------------- foreach
def _flat_is_used(opt, params) -> bool:
    """Whether the state arrays of ``params`` (one group) are views of one flat buffer."""
    bases = {id(v) if v.base is None else id(v.base) for p in params
             for v in opt.state.get(p, {}).values() if isinstance(v, np.ndarray)}
    return len(bases) == len([v for v in opt.state.get(params[0], {}).values()
                              if isinstance(v, np.ndarray)])


@pytest.mark.parametrize("name", names)
# centered RMSprop in float32 can take the sqrt of v - gavg² < 0 (rounding): NaN on both paths
@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
@given(data=st.data(), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_foreach_is_bit_identical_to_the_per_parameter_loop(name, data, seed, dtype) -> None:
    """The flat (foreach) update and the per-parameter loop, from the same state with the
    same gradients, give exactly the same parameters and state after every step, also across
    missing gradients, a learning-rate change, load_state_dict, a replaced .data and a
    replaced state array."""
    shapes, groups, missing = data.draw(setup(name))
    rng = np.random.default_rng(seed)
    init = [rng.uniform(-1, 1, s).astype(dtype) for s in shapes]
    cls = OPTIMIZERS[name][0]

    def build(foreach):
        params = [tg.tensor(a.copy(), requires_grad=True) for a in init]
        split, start = [], 0
        for size, options in groups:
            split.append({"params": params[start:start + size], **options})
            start += size
        return params, cls(split, **groups[0][1], foreach=foreach)

    flat_params, flat_opt = build(True)
    each_params, each_opt = build(False)
    flat_updates = []
    scatter_add = FlatGroup.scatter_add

    def counted(self, update):
        flat_updates.append(self)
        scatter_add(self, update)

    for step in range(STEPS + 2):
        absent = missing[step] if step < STEPS else set()
        for i, (p, q) in enumerate(zip(flat_params, each_params)):
            g = None if i in absent else rng.uniform(-1, 1, p.shape).astype(dtype)
            p.grad = None if g is None else tg.tensor(g.copy())
            q.grad = None if g is None else tg.tensor(g.copy())
        with mock.patch.object(FlatGroup, "scatter_add", counted):
            flat_opt.step()
            each_opt.step()
        for i, (p, q) in enumerate(zip(flat_params, each_params)):
            assert np.array_equal(p.data, q.data, equal_nan=True), f"{name} {step} param {i}"
            assert p.data.dtype == dtype
            ours, theirs = flat_opt.state.get(p, {}), each_opt.state.get(q, {})
            assert list(ours) == list(theirs)
            for k in ours:
                assert np.array_equal(ours[k], theirs[k], equal_nan=True), f"{name} {step} {k}"
        if step == 1:
            for g1, g2 in zip(flat_opt.param_groups, each_opt.param_groups):
                g1["lr"] = g2["lr"] = g1["lr"] * 0.5
        if step == 2:  # a reload: fresh arrays in the state, adopted into new flat buffers
            flat_opt.load_state_dict(copy.deepcopy(flat_opt.state_dict()))
        if step == 3:  # the user replaces a parameter's array and a state array
            for p, q in zip(flat_params[:1], each_params[:1]):
                p.data = p.data.copy()
                for opt, t in ((flat_opt, p), (each_opt, q)):
                    arrays = [k for k, v in opt.state.get(t, {}).items()
                              if isinstance(v, np.ndarray)]
                    if arrays:
                        opt.state[t][arrays[0]] = opt.state[t][arrays[0]] * 0.5
    # the flat path really ran (from the first step on, unless a gradient was missing), and
    # only for the optimizer that allows it
    assert flat_updates or missing[0]
    assert all(any(f.params[0] is p for p in flat_params) for f in flat_updates)


def test_foreach_default_goes_flat_where_it_pays() -> None:
    """foreach=None: Adam on small parameters updates the group flat; plain SGD (two numpy
    calls per parameter) and large parameters keep the per-parameter loop."""
    def trained(make, shape=(3,), n=6):
        params = [tg.ones(*shape, requires_grad=True) for _ in range(n)]
        opt = make(params)
        for p in params:
            p.grad = tg.ones(*shape)
        opt.step()
        return opt, params

    opt, params = trained(lambda ps: optim.Adam(ps))
    assert _flat_is_used(opt, params)
    opt, params = trained(lambda ps: optim.Adam(ps), shape=(100, 100))
    assert not _flat_is_used(opt, params)
    opt, params = trained(lambda ps: optim.SGD(ps, momentum=0.9, nesterov=True))
    assert _flat_is_used(opt, params)
    opt, _ = trained(lambda ps: optim.SGD(ps, lr=0.1))  # no state: look at the work arrays
    assert all(f.grad is None for f in opt._flat_groups.values())
    opt, _ = trained(lambda ps: optim.SGD(ps, lr=0.1, foreach=True))
    assert all(f.grad is not None for f in opt._flat_groups.values())


@pytest.mark.parametrize("make", [
    lambda ps, fe: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3,
                             foreach=fe),
    lambda ps, fe: optim.Adam(ps, lr=1e-2, amsgrad=True, foreach=fe),
    lambda ps, fe: optim.AdamW(ps, lr=1e-2, foreach=fe),
    lambda ps, fe: optim.RMSprop(ps, lr=1e-3, momentum=0.5, centered=True, foreach=fe),
    lambda ps, fe: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, foreach=fe),
], ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_foreach_trains_a_net_exactly_like_the_per_parameter_loop(make) -> None:
    """Two copies of a float32 net trained for several steps, one per update path: every
    parameter is bit-identical after every step, and the state is flat in one path only."""
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.uniform(-1, 1, (16, 3)).astype(np.float32))
    y = tg.tensor(rng.uniform(-1, 1, (16, 1)).astype(np.float32))
    nets = []
    for foreach in (True, False):
        tg.manual_seed(0)
        net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
        nets.append((net, make(list(net.parameters()), foreach)))
    for _ in range(5):
        for net, opt in nets:
            opt.zero_grad()
            nn.functional.mse_loss(net(x), y).backward()
            opt.step()
        for (name, a), b in zip(nets[0][0].named_parameters(), nets[1][0].parameters()):
            assert a.dtype == np.float32 and np.array_equal(a.data, b.data), name
    params = [list(net.parameters()) for net, _ in nets]
    assert _flat_is_used(nets[0][1], params[0]) == bool(nets[0][1].state)
    assert not nets[1][1].state or not _flat_is_used(nets[1][1], params[1])


# --------------------------------------------------------------------------- API
def test_zero_grad_closure_and_version_counter() -> None:
    w = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 5.0 and w.tolist() == pytest.approx([0.8, -1.6])
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None
    # a graph that saved w before the update must not backpropagate with the new values
    y = (w * w).sum()
    (w * 3).sum().backward()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_optimizer_trains_parameters_from_a_real_backward_like_pytorch() -> None:
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 1)).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).uniform(-1, 1, (8, 3))
    y = np.sin(x.sum(1, keepdims=True))
    opt = optim.AdamW(ours.parameters(), lr=0.05)
    topt = torch.optim.AdamW(theirs.parameters(), lr=0.05, foreach=False)
    for _ in range(5):
        opt.zero_grad()
        topt.zero_grad()
        nn.functional.mse_loss(ours(tg.tensor(x)), tg.tensor(y)).backward()
        torch.nn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        opt.step()
        topt.step()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p.numpy(), q.detach().numpy(), atol=1e-12, what=name)


def test_float32_parameters_stay_float32() -> None:
    for cls in (optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad):
        w = tg.ones(3, requires_grad=True)
        opt = cls([w], lr=0.1, weight_decay=0.1)
        (w * w).sum().backward()
        opt.step()
        assert w.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state.get(w, {}).values()
                   if isinstance(v, np.ndarray))


def test_param_groups_named_parameters_and_add_param_group() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    opt = optim.SGD(net.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    opt = optim.SGD(net[0].parameters(), lr=0.1, momentum=0.9)
    opt.add_param_group({"params": net[1].parameters(), "lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["momentum"] == 0.9  # defaults fill the rest
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [net[0].weight]})
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 1" in text and "lr: 0.01" in text


def test_optimizer_argument_errors_like_pytorch() -> None:
    w = tg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero "
                                         "dampening"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid epsilon value: -0.1"):
        optim.RMSprop([w], eps=-0.1)
    with pytest.raises(ValueError, match="Invalid initial_accumulator_value"):
        optim.Adagrad([w], initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="iterable"):
        optim.Adam(w)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.Adam({w})
    with pytest.raises(TypeError, match=r"got the model itself \(Linear\); pass "
                                        r"model.parameters\(\)"):
        optim.SGD(tg.nn.Linear(2, 1), lr=0.1)
    with pytest.raises(TypeError, match=r"model itself \(Sequential\)"):  # lists its layers
        optim.SGD(tg.nn.Sequential(tg.nn.Linear(2, 1)), lr=0.1)
    listed = tg.nn.ParameterList([tg.zeros(2)])  # lists its parameters: taken as they are
    assert optim.SGD(listed, lr=0.1).param_groups[0]["params"] == [listed[0]]
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([w * 2])
    with pytest.raises(ValueError, match="duplicate"):
        optim.Adam([w, w])
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.Adam([np.ones(2)])


# --------------------------------------------------------------------------- clipping
@given(seed=st.integers(0, 2**32 - 1), max_norm=st.sampled_from([0.1, 1.0, 100.0]),
       norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]))
def test_clip_grad_norm_matches_pytorch(seed, max_norm, norm_type) -> None:
    rng = np.random.default_rng(seed)
    grads = [rng.uniform(-2, 2, s) for s in [(3, 2), (4,), ()]]
    ps = [tg.tensor(g, requires_grad=True) for g in grads]
    qs = [torch.tensor(g, requires_grad=True) for g in grads]
    for p, q, g in zip(ps, qs, grads):
        p.grad, q.grad = tg.tensor(g.copy()), torch.tensor(g.copy())
    ps[0].grad = None
    qs[0].grad = None
    total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(qs, max_norm, norm_type, foreach=False)
    assert_close(total.numpy(), expected.numpy(), atol=1e-12, what="total norm")
    for p, q in zip(ps[1:], qs[1:]):
        assert_close(p.grad.numpy(), q.grad.numpy(), atol=1e-12, what="clipped grad")
    assert optim.clip_grad_norm_ is nn.utils.clip_grad_norm_


def test_clip_grad_value_and_nonfinite_norm() -> None:
    g = np.array([-3.0, 0.5, 2.0])
    p, q = tg.tensor(g, requires_grad=True), torch.tensor(g, requires_grad=True)
    p.grad, q.grad = tg.tensor(g.copy()), torch.tensor(g.copy())
    nn.utils.clip_grad_value_(p, 1.0)
    torch.nn.utils.clip_grad_value_(q, 1.0)
    assert p.grad.tolist() == q.grad.tolist() == [-1.0, 0.5, 1.0]
    p.grad = tg.tensor(np.array([np.nan, 1.0, 0.0]))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert math.isnan(float(nn.utils.clip_grad_norm_(p, 1.0)))
    assert float(nn.utils.clip_grad_norm_([tg.ones(2, requires_grad=True)], 1.0)) == 0.0
    vec = nn.utils.parameters_to_vector([tg.ones(2, 2), tg.zeros(3)])
    assert vec.shape == (7,)
    a, b = tg.zeros(2, 2), tg.zeros(3)
    nn.utils.vector_to_parameters(tg.arange(7.0), [a, b])
    assert a.tolist() == [[0.0, 1.0], [2.0, 3.0]] and b.tolist() == [4.0, 5.0, 6.0]
    with pytest.raises(ValueError, match="7 elements"):
        nn.utils.vector_to_parameters(tg.zeros(6), [a, b])


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad])
@pytest.mark.parametrize("foreach", [None, False, True])
def test_a_step_that_changes_nothing_starts_no_new_in_place_epoch(make, foreach) -> None:
    from tinygrad_edu.autograd.grad_mode import flags

    w = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = make([w], lr=0.1, foreach=foreach)
    before = flags.inplace_epoch
    opt.step()  # no gradient: nothing is updated
    assert flags.inplace_epoch == before
    (w * w).sum().backward()
    opt.step()  # an update: one new epoch for the step
    assert flags.inplace_epoch == before + 1


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1),
                                  lambda ps: optim.Adam(ps, lr=0.1)])
def test_old_pytorch_style_data_assignments_store_the_tensors_array(make) -> None:
    """`p.data = p.data - lr * p.grad` (p.grad is a Tensor) and `w.data = tg.randn(...)`
    work as in PyTorch: .data stays a numpy array, and the optimizer goes on training."""
    w = tg.tensor(np.ones((3, 1)), requires_grad=True)
    tw = torch.ones((3, 1), dtype=torch.float64, requires_grad=True)
    x = np.arange(12.0).reshape(4, 3)
    opt = make([w])
    topt = (torch.optim.SGD([tw], lr=0.1) if isinstance(opt, optim.SGD)
            else torch.optim.Adam([tw], lr=0.1))
    (tg.tensor(x) @ w).sum().backward()
    (torch.tensor(x) @ tw).sum().backward()
    w.data = w.data - 0.1 * w.grad
    tw.data = tw.data - 0.1 * tw.grad
    assert type(w.data) is np.ndarray
    for _ in range(2):
        opt.zero_grad()
        topt.zero_grad()
        (tg.tensor(x) @ w).sum().backward()
        (torch.tensor(x) @ tw).sum().backward()
        opt.step()
        topt.step()
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12)
    w.data = tg.zeros(2, 2)  # a new shape, as PyTorch allows
    assert w.shape == (2, 2) and type(w.data) is np.ndarray
    with pytest.raises(TypeError, match=r"\.data must be a numpy array or a Tensor, got list; "
                                        r"assign tg.tensor\(value\)"):
        w.data = [1.0, 2.0]
