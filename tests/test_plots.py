"""tinygrad_edu.viz plots: PNG output, figure contents, optional matplotlib, GradNormRecorder."""

import doctest
import math
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.viz import (
    GradNormRecorder,
    plot_decision_boundary,
    plot_grad_norms,
    plot_history,
    plot_regression_1d,
)
from tinygrad_edu.viz import plots as plots_module

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def _run(code):
    root = str(Path(__file__).resolve().parents[1])
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": root}  # no DISPLAY, no MPLBACKEND
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=root, timeout=120)


def test_importing_the_package_and_viz_does_not_import_matplotlib():
    r = _run(
        "import sys, tinygrad_edu\n"
        "assert 'matplotlib' not in sys.modules, 'tinygrad_edu imported matplotlib'\n"
        "import tinygrad_edu.viz, tinygrad_edu.viz.plots\n"
        "assert 'matplotlib' not in sys.modules, 'tinygrad_edu.viz imported matplotlib'\n"
        "print('ok')"
    )
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_headless_plotting_uses_agg():
    r = _run(
        "import matplotlib\n"
        "from tinygrad_edu.viz import plot_history\n"
        "plot_history({'loss': [1, 0.5]})\n"
        "print(matplotlib.get_backend().lower())"
    )
    assert r.returncode == 0 and r.stdout.strip() == "agg", r.stderr


def test_headless_detection(monkeypatch):
    for var in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert plots_module._headless()
    monkeypatch.setenv("DISPLAY", ":0")
    assert not plots_module._headless()
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # Jupyter
    assert not plots_module._headless()


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(ImportError, match=r"pip install tinygrad_edu\[plot\]"):
        plot_history({"loss": [1.0, 0.5]})


def _is_png(path):
    return path.exists() and path.read_bytes()[:8] == PNG


def test_plot_history_from_history_object_and_dict(tmp_path):
    history = types.SimpleNamespace(history={
        "loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7],
        "mae": [0.9, 0.5, 0.3], "val_mae": [1.0, 0.7, 0.6],
    })
    fig = plot_history(history, save=tmp_path / "h.png")
    assert _is_png(tmp_path / "h.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "mae"]
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    train, val = fig.axes[0].lines
    assert list(train.get_xdata()) == [1, 2, 3] and list(val.get_ydata()) == [1.1, 0.8, 0.7]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["loss", "val_loss"]
    fig = plot_history({"loss": [3.0, 2.0]}, metrics=["loss"], logy=True)
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1
    assert fig.axes[0].get_yscale() == "log"
    with pytest.raises(KeyError, match="accuracy"):
        plot_history({"loss": [1.0]}, metrics=["accuracy"])
    with pytest.raises(TypeError, match="History or a dict"):
        plot_history([1.0, 2.0])


def test_plot_regression_1d_on_the_seed_sine(tmp_path):
    tg.manual_seed(0)
    x = np.linspace(0, 4 * np.pi, 200)
    y = np.sin(x)
    net = nn.Sequential(nn.Linear(1, 6), nn.Tanh(), nn.Linear(6, 1))
    fig = plot_regression_1d(net, x, y, target_fn=np.sin, num=150, save=tmp_path / "r.png")
    assert _is_png(tmp_path / "r.png")
    (ax,) = fig.axes
    assert len(ax.lines) == 2 and len(ax.collections) == 1  # prediction, target; data points
    pred = ax.lines[0]
    assert len(pred.get_xdata()) == 150
    with tg.no_grad():
        expect = net(tg.tensor(np.asarray(pred.get_xdata())[:, None], dtype=tg.float32))
    np.testing.assert_allclose(pred.get_ydata(), expect.numpy().ravel(), rtol=1e-5, atol=1e-6)
    # the title is the true RMSE on the data, sqrt(mean(squared error))
    with tg.no_grad():
        fitted = net(tg.tensor(x[:, None], dtype=tg.float32)).numpy().ravel()
    rmse = math.sqrt(np.mean((fitted - y) ** 2))
    assert ax.get_title() == f"RMSE {rmse:.4g} on 200 points"
    fig = plot_regression_1d(lambda t: t.sin(), x, y, x_range=(-1, 15))
    assert fig.axes[0].get_title() == "RMSE 0 on 200 points" or float(
        fig.axes[0].get_title().split()[1]) < 1e-6
    assert fig.axes[0].lines[0].get_xdata()[0] == -1 and len(fig.axes[0].lines) == 1
    with pytest.raises(ValueError, match="must match"):
        plot_regression_1d(net, x, y[:10])
    import matplotlib.pyplot as plt  # draw into one axes of another figure

    fig, (left, right) = plt.subplots(1, 2)
    assert plot_regression_1d(net, x, y, ax=right) is fig and len(right.lines) == 1
    assert not left.lines


def test_plot_decision_boundary_xor(tmp_path):
    # the seed's XOR: targets ±1, a tanh-like score, boundary at 0
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[-1.0], [1.0], [1.0], [-1.0]])

    def xor(t):
        return ((t[:, :1] - t[:, 1:]) ** 2) * 2.0 - 1.0

    fig = plot_decision_boundary(xor, x, y, resolution=60, save=tmp_path / "xor.png")
    assert _is_png(tmp_path / "xor.png")
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the plot and its colour bar
    assert ax.get_title() == "accuracy 100% (4 points)"
    boundary = [c for c in ax.collections if getattr(c, "levels", None) is not None
                and list(c.levels) == [0.0]]
    assert len(boundary) == 1  # the contour at the threshold
    # an honest accuracy for a model that says "1" everywhere
    fig = plot_decision_boundary(lambda t: t[:, :1] * 0 + 1.0, x, y, resolution=20)
    assert fig.axes[0].get_title() == "accuracy 50% (4 points)"
    # several output columns: argmax classes, no colour bar
    fig = plot_decision_boundary(lambda t: t, x, np.array([1, 1, 0, 0]), resolution=20)
    # argmax of (0,0) (0,1) (1,0) (1,1) is 0 1 0 0, against labels 1 1 0 0
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "accuracy 75% (4 points)"
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plot_decision_boundary(xor, np.zeros((4, 3)), y)


def test_grad_norm_recorder_per_parameter_and_module():
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    per_param, per_module = GradNormRecorder(), GradNormRecorder(per="module")
    for _ in range(3):
        for p in net.parameters():
            p.grad = None
        net(tg.rand(8, 2)).pow(2).mean().backward()
        per_param.record(net.named_parameters())
        per_module(net.named_parameters())
    assert list(per_param.norms) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert list(per_module.norms) == ["0", "2"]
    w, b = net[2].weight.grad.numpy(), net[2].bias.grad.numpy()
    assert per_param.norms["2.weight"][-1] == pytest.approx(np.linalg.norm(w), rel=1e-6)
    assert per_module.norms["2"][-1] == pytest.approx(
        math.sqrt(np.sum(w.astype(np.float64) ** 2) + np.sum(b.astype(np.float64) ** 2)),
        rel=1e-6)
    assert per_param.steps == 3 and all(len(v) == 3 for v in per_param.norms.values())
    # no gradient is nan; a parameter seen late is padded with nan
    rec = GradNormRecorder()
    a = tg.tensor([1.0], requires_grad=True)
    rec.record({"a": a})
    a.grad = tg.tensor([3.0])
    rec.record({"a": a, "late": a})
    assert math.isnan(rec.norms["a"][0]) and rec.norms["a"][1] == 3.0
    assert math.isnan(rec.norms["late"][0]) and rec.norms["late"][1] == 3.0
    with pytest.raises(ValueError, match="per must be"):
        GradNormRecorder(per="layer")


def test_plot_grad_norms_from_recorder_and_dict(tmp_path):
    rec = GradNormRecorder()
    a = tg.tensor([1.0], requires_grad=True)
    for v in (1.0, 0.1, 0.01):
        a.grad = tg.tensor([v])
        rec.record({"w": a, "v": a})
    fig = plot_grad_norms(rec, save=tmp_path / "g.png")
    assert _is_png(tmp_path / "g.png")
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and ax.get_yscale() == "log"
    assert list(ax.lines[0].get_ydata()) == pytest.approx([1.0, 0.1, 0.01])
    fig = plot_grad_norms({"x": [0.0, 0.0]}, logy=True)  # all zero: linear scale, not an error
    assert fig.axes[0].get_yscale() == "linear"
    with pytest.raises(ValueError, match="non-empty"):
        plot_grad_norms({})


def test_plots_doctests():
    result = doctest.testmod(plots_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
