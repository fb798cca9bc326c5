"""Make the README's pictures: ``docs/explorer.png``, the explorer page of README.md's MLP
example in the middle of its backward pass.

    python docs/make_screenshots.py            # writes docs/explorer.png
    python docs/make_screenshots.py OUT.png

Needs graphviz's ``dot``, Debian's chromium (``apt-get install chromium``) and Playwright
(``pip install -e ".[test]"``), which drives that chromium: no browser is downloaded. The
page is stepped with the keyboard, as a reader would.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.viz import draw_graph

DOCS = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: The step shown: the second Linear layer's backward, with what x, W and b each get.
STEP = "backward pass: step 5 "


def readme_page(path: Path) -> Path:
    """README.md's MLP example (Draw the graph), saved as its explorer page."""
    tg.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    loss = nn.functional.mse_loss(mlp(tg.randn(4, 2)), tg.randn(4, 1))
    loss.backward(retain_graph=True)
    return draw_graph(loss, mlp, show_values=True, show_grads=True).save(path)


def screenshot(context, page_path: Path, png_path: Path, step: str = STEP) -> Path:
    """Open ``page_path`` in a Playwright browser ``context``, press → until the page is at
    ``step``, zoom the graph to fit, and save the window as ``png_path``."""
    page = context.new_page()
    page.goto(page_path.as_uri())
    for _ in range(200):
        if page.inner_text("#where").startswith(step):
            break
        page.keyboard.press("ArrowRight")
    else:
        raise RuntimeError(f"the page never reached {step!r}")
    page.click("#zoom-fit")  # the whole graph
    page.screenshot(path=str(png_path))
    page.close()
    return png_path


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    out = Path(argv[0]) if argv else DOCS / "explorer.png"
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(Path(tmp) / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1600, "height": 640})
        try:
            screenshot(context, readme_page(Path(tmp) / "graph.html"), out)
        finally:
            context.close()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
