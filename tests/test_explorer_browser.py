"""The explorer page in a real browser: Debian's headless Chromium (``apt-get install
chromium``; .ci/run installs it), driven by Playwright pointed at it — never a browser build
of Playwright's own. Each page is loaded from a file; no request other than that file and no
JavaScript error may happen, and the page is stepped with the keyboard, as a reader would."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.autograd.engine import topological_order
from tinygrad_edu.viz import draw_graph

DOCS = Path(__file__).resolve().parents[1] / "docs"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# what the page shows, read in one go: comparing two of these compares two states
STATE = """() => ({
  where: document.getElementById("where").textContent,
  step: document.getElementById("step").innerHTML,
  leaves: document.getElementById("leaves").innerText,
  current: [...document.querySelectorAll("#graph g.node.current title")].map(t => t.textContent),
  classes: [...document.querySelectorAll("#graph g.node, #graph g.edge")]
    .map(g => g.getAttribute("class")).join("|"),
})"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    assert os.access(CHROMIUM, os.X_OK), (
        f"{CHROMIUM} not found: the explorer's browser tests need Debian's chromium "
        "(apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM,
            headless=True, args=ARGS, viewport={"width": 1280, "height": 800})
        yield context
        context.close()


class Page:
    """A page loaded from a file, with every request and every JavaScript error recorded."""

    def __init__(self, browser, path):
        self.url = path.as_uri()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type in ("error", "warning") else None)
        self.page.goto(self.url)

    def state(self) -> dict:
        return self.page.evaluate(STATE)

    def press(self, key: str) -> dict:
        self.page.keyboard.press(key)
        return self.state()

    def step_to_the_end(self) -> list[dict]:
        """Press → until the page says the backward pass is done; every state on the way."""
        states = [self.state()]
        while "(done)" not in states[-1]["where"]:
            assert len(states) < 1000, states[-1]["where"]
            states.append(self.press("ArrowRight"))
        return states

    def shown_grad(self, name: str) -> str:
        return self.page.locator(f'tr[data-name="{name}"] .grad').inner_text()

    def check_text(self, name: str) -> str:
        return self.page.locator(f'tr[data-name="{name}"] .check').inner_text()

    def assert_clean(self) -> None:
        assert self.requests == [self.url], self.requests
        assert not self.errors, self.errors
        self.page.close()


def numbers(text: str) -> np.ndarray:
    return np.array([float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", text)])


def readme_mlp():
    """README.md's example (Draw the graph)."""
    tg.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    loss = nn.functional.mse_loss(mlp(tg.randn(4, 2)), tg.randn(4, 1))
    return mlp, loss


def test_readme_mlp_steps_with_the_keyboard_to_every_grad_and_back(browser, tmp_path):
    mlp, loss = readme_mlp()
    engine_order = list(reversed(topological_order([loss])))
    loss.backward(retain_graph=True)
    drawing = draw_graph(loss, mlp, show_values=True, show_grads=True)
    page = Page(browser, drawing.save(tmp_path / "graph.html"))
    assert page.state()["where"] == "start: nothing computed yet"

    states = page.step_to_the_end()
    backward = [s for s in states if s["where"].startswith("backward")]
    # the backward steps are the engine's, one node highlighted at a time
    assert [s["current"] for s in backward] == (
        [[str(id(loss))]] + [[drawing.node_id(t)] for t in engine_order])
    assert states[-1]["where"] == "backward pass: step 9 of 9 (done)"
    for name, p in mlp.named_parameters():
        np.testing.assert_allclose(numbers(page.shown_grad(name)), p.grad.numpy().ravel(),
                                   rtol=1e-3, atol=1e-4)
        assert page.check_text(name) == "= .grad ✓"
    # mid-backward, the Linear step shows the rule and what each input gets
    linear = next(s for s in backward if ">Linear<" in s["step"])
    assert "x gets g @ W, W gets gᵀ @ x" in linear["step"] and "→ W = 2.weight" in linear["step"]

    # ← undoes → exactly, all the way back to the start
    for before in reversed(states[:-1]):
        assert page.press("ArrowLeft") == before
    assert page.press("End") == states[-1] and page.press("Home") == states[0]
    page.assert_clean()


def test_docs_screenshot_script_shows_the_readme_page_mid_backward(browser, tmp_path):
    """docs/make_screenshots.py, which makes README.md's picture: not blank, the current
    node's orange outline drawn, and the page where the script stepped it with the keys."""
    import importlib.util

    import matplotlib.image

    spec = importlib.util.spec_from_file_location("make_screenshots", DOCS / "make_screenshots.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    page_path = script.readme_page(tmp_path / "graph.html")
    png = script.screenshot(browser, page_path, tmp_path / "explorer.png")
    image = matplotlib.image.imread(png)[..., :3]
    not_white = (image < 0.95).any(axis=-1).mean()
    orange = (np.abs(image - [1.0, 0x8C / 255, 0.0]) < 0.08).all(axis=-1).sum()
    assert not_white > 0.03, not_white  # the graph and the panel are drawn
    assert orange > 50, orange          # the current node's outline
    assert (DOCS / "explorer.png").read_bytes()[:4] == b"\x89PNG"  # the committed one


def test_freed_graph_says_why_and_still_ends_at_grad(browser, tmp_path):
    mlp, loss = readme_mlp()
    loss.backward()
    page = Page(browser, draw_graph(loss, mlp).save(tmp_path / "freed.html"))
    assert "retain_graph=True" in page.page.inner_text("#notice")
    page.step_to_the_end()
    for name, p in mlp.named_parameters():
        np.testing.assert_allclose(numbers(page.shown_grad(name)), p.grad.numpy().ravel(),
                                   rtol=1e-3, atol=1e-4)
    page.assert_clean()


def test_collapsed_module_expands_on_click_and_keeps_the_step(browser, tmp_path):
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 1))
    loss = nn.functional.mse_loss(net(tg.randn(3, 2)), tg.randn(3, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drawing = draw_graph(loss, net, max_nodes=8)
    assert drawing.collapsed
    page = Page(browser, drawing.save(tmp_path / "collapsed.html"))
    count = page.page.locator("#graph g.node").count()
    states = page.step_to_the_end()
    middle = next(s for s in states if s["current"] == ["module_2"])  # Linear 2's backward
    page.press("Home")
    while page.state() != middle:
        page.press("ArrowRight")
    page.page.click("#graph g.node.expandable:has(title:text-is('module_2'))")
    assert page.page.inner_text("#view-bar").startswith("expanded: 2: Linear")
    assert page.page.locator("#graph g.node").count() > count
    # the same step, now on the op inside the box
    assert page.state()["current"] == [drawing.node_id(net[2].weight).replace(
        "module_2", page.state()["current"][0])]
    assert page.state()["where"] == middle["where"]
    page.page.click("#view-bar button")
    assert page.page.locator("#graph g.node").count() == count
    assert page.state() == middle
    page.assert_clean()


def test_jupyter_iframe_runs_the_page_and_its_buttons_step(browser):
    from playwright.sync_api import expect

    w = tg.tensor([1.0, -2.0], requires_grad=True)
    loss = (w * w).sum()
    html = draw_graph(loss, {"w": w}).explorer()._repr_html_()
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(html)
    frame = page.frames[1]
    frame.click("#next")
    frame.click("#next")
    assert frame.inner_text("#where") == "forward pass: step 2 of 4"
    frame.click("#back")
    assert frame.inner_text("#where") == "forward pass: step 1 of 4"
    frame.click("#reset")
    assert frame.inner_text("#where") == "start: nothing computed yet"
    frame.click("#play")
    expect(frame.locator("#where")).to_contain_text("forward pass: step 2 of 4")
    frame.click("#play")  # pause
    assert frame.inner_text("#play") == "▶ play"
    page.keyboard.press("End")  # the frame has the focus: its keys step it
    expect(frame.locator("#where")).to_contain_text("(done)")
    assert numbers(frame.inner_text('tr[data-name="w"] .grad')).tolist() == [2.0, -4.0]
    assert not errors
    page.close()
