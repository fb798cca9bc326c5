"""The explorer page's HTML, CSS and JavaScript (vanilla, no library), filled in by
:mod:`tinygrad_edu.viz.explorer`. Kept as Python strings so that the page needs no file
beside the package and no network: everything is inline.

The page reads one JSON object (``<script id="explorer-data">``):

* ``views``: ``[{name, svg, map}]`` — the graph as drawn (view 0) and the same graph with one
  collapsed box expanded (one view per box); ``map`` sends a node of the walked graph to the
  node that draws it in that view (``null``: not drawn);
* ``expand``: drawn node id → the view that expands it;
* ``steps``: ``[{phase, node, head, rule, sections, flow}]``, forward then backward;
* ``leaves``: ``[{name, node, lines, step, check}]``, shown once step ``step`` is done;
* ``title``, ``notice``, ``counts``.
"""

from __future__ import annotations

CSS = r"""
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #222; background: #fff; }
header { padding: 8px 12px; border-bottom: 1px solid #ddd; background: #f7f7f7; }
h1 { font-size: 16px; margin: 0 0 6px 0; }
#controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
button { font: inherit; padding: 3px 10px; border: 1px solid #999; border-radius: 4px;
         background: #fff; cursor: pointer; }
button:hover { background: #eef; }
#scrub { width: 220px; }
#where { font-weight: 600; min-width: 15em; }
.legend { color: #555; font-size: 13px; }
.swatch { display: inline-block; width: 14px; height: 10px; margin: 0 3px 0 8px;
          border: 3px solid; vertical-align: -1px; }
.swatch.current { border-color: #ff8c00; }
.swatch.fwd { border-color: #2b7bb9; }
.swatch.bwd { border-color: #c0392b; }
.zoom { margin-left: auto; color: #555; }
.zoom button { padding: 1px 8px; margin-left: 2px; }
#notice { margin: 6px 0 0 0; padding: 4px 8px; background: #fff3cd; border: 1px solid #e0c36a; }
#notice:empty { display: none; }
main { display: flex; gap: 0; align-items: stretch; min-height: calc(100vh - 90px); }
#graph-box { flex: 1 1 auto; overflow: auto; padding: 8px; min-width: 0; }
#graph svg { height: auto; }
#view-bar { margin-bottom: 4px; color: #555; }
#view-bar:empty { display: none; }
aside { flex: 0 0 420px; border-left: 1px solid #ddd; padding: 8px 12px; overflow: auto;
        max-height: calc(100vh - 90px); }
aside h2 { font-size: 15px; margin: 4px 0; }
aside h3 { font-size: 14px; margin: 14px 0 4px 0; }
.phase { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff;
         font-size: 12px; margin-right: 6px; }
.phase.forward { background: #2b7bb9; }
.phase.backward { background: #c0392b; }
.rule { font-family: ui-monospace, monospace; background: #f3f3f3; padding: 3px 6px;
        margin: 4px 0; }
.section { margin: 6px 0; }
.label { color: #555; }
.note { color: #8a4b00; font-size: 13px; }
pre { margin: 2px 0 0 12px; font: 12px/1.3 ui-monospace, monospace; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; }
td { border-top: 1px solid #eee; padding: 3px 4px; vertical-align: top; }
td.name { font-family: ui-monospace, monospace; white-space: nowrap; }
.check { font-size: 12px; color: #555; margin-left: 12px; }
.check.ok { color: #1a7f37; }
tr.current { background: #fff0d9; }
#graph g.node.fwd > polygon, #graph g.node.fwd > path, #graph g.node.fwd > ellipse {
  stroke: #2b7bb9; stroke-width: 2.5px; }
#graph g.node.bwd > polygon, #graph g.node.bwd > path, #graph g.node.bwd > ellipse {
  stroke: #c0392b; stroke-width: 3px; }
#graph g.node.current > polygon, #graph g.node.current > path,
#graph g.node.current > ellipse { stroke: #ff8c00; stroke-width: 6px; }
#graph g.edge.flow > path { stroke: #ff8c00; stroke-width: 3px; }
#graph g.edge.flow > polygon { stroke: #ff8c00; fill: #ff8c00; }
#graph g.node.expandable { cursor: zoom-in; }
"""

JS = r"""
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("explorer-data").textContent);
  const steps = data.steps;
  const $ = (id) => document.getElementById(id);
  let at = 0;          // how many steps are done: 0 is the start, steps.length the end
  let view = 0;        // which drawing of the graph is shown (0: as drawn)
  let timer = null;    // the interval while playing
  let zoom = "auto";   // the graph's scale, "fit" the width, or "auto": fit, but >= MIN_AUTO
  const MIN_AUTO = 0.75;
  let nodes = {};      // drawn node id -> its <g> in the shown view
  let edges = {};      // "from->to" -> its <g>

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function showView(v) {
    view = v;
    $("graph").innerHTML = data.views[v].svg;
    nodes = {};
    edges = {};
    for (const g of $("graph").querySelectorAll("g.node")) {
      const id = g.querySelector("title").textContent;
      nodes[id] = g;
      if (id in data.expand) {
        g.classList.add("expandable");
        g.addEventListener("click", () => showView(data.expand[id]));
      }
    }
    for (const g of $("graph").querySelectorAll("g.edge")) {
      edges[g.querySelector("title").textContent] = g;
    }
    applyZoom();
    const bar = $("view-bar");
    bar.replaceChildren();
    if (v !== 0) {
      bar.append(el("span", "", data.views[v].name + " "));
      const back = el("button", "", "collapse it again");
      back.addEventListener("click", () => showView(0));
      bar.append(back);
    }
    render();
  }

  const drawn = (node) => data.views[view].map[node];

  function applyZoom() {
    const svg = $("graph").querySelector("svg");
    const width = parseFloat(svg.getAttribute("width")) * 4 / 3;  // graphviz gives pt
    const room = $("graph-box").clientWidth - 20;
    const fit = Math.min(1, room / width);
    const scale = zoom === "fit" ? fit : zoom === "auto" ? Math.max(fit, MIN_AUTO) : zoom;
    svg.style.width = `${Math.round(width * scale)}px`;
    $("zoom-fit").textContent = `${Math.round(scale * 100)}%`;
    return scale;
  }

  function rezoom(factor) {
    zoom = factor === "fit" ? "fit" : applyZoom() * factor;
    applyZoom();
  }

  function renderGraph(step) {
    for (const g of Object.values(nodes)) g.classList.remove("fwd", "bwd", "current");
    for (const g of Object.values(edges)) g.classList.remove("flow");
    for (let i = 0; i < at; i++) {
      const g = nodes[drawn(steps[i].node)];
      if (g) g.classList.add(steps[i].phase === "forward" ? "fwd" : "bwd");
    }
    if (!step) return;
    const here = drawn(step.node);
    if (nodes[here]) {
      nodes[here].classList.add("current");
      nodes[here].scrollIntoView({ block: "nearest", inline: "center" });
    }
    for (const src of step.flow) {
      const edge = edges[drawn(src) + "->" + here];
      if (edge) edge.classList.add("flow");
    }
  }

  function renderPanel(step) {
    const info = $("step");
    info.replaceChildren();
    if (!step) {
      info.append(el("p", "", data.intro));
      return;
    }
    const h = el("h2");
    h.append(el("span", "phase " + step.phase, step.phase), step.head);
    info.append(h);
    for (const r of step.rule) info.append(el("div", "rule", r));
    for (const s of step.sections) {
      const d = el("div", "section");
      d.append(el("div", "label", s.label), el("pre", "value", s.lines.join("\n")));
      if (s.note) d.append(el("div", "note", s.note), el("pre", "sum", s.sum.join("\n")));
      info.append(d);
    }
  }

  function renderLeaves(step) {
    for (const [i, leaf] of data.leaves.entries()) {
      const row = $("leaf-" + i);
      const known = at > leaf.step;
      row.classList.toggle("known", known);
      row.classList.toggle("current", Boolean(step) && step.phase === "backward" &&
                           step.node === leaf.node);
      row.querySelector(".grad").textContent = known ? leaf.lines.join("\n") : "…";
      const check = row.querySelector(".check");
      check.textContent = known ? leaf.check : "";
      check.classList.toggle("ok", known && leaf.check.includes("✓"));
    }
  }

  function render() {
    const step = at > 0 ? steps[at - 1] : null;
    const [nf, nb] = data.counts;
    let where = "start: nothing computed yet";
    if (step && step.phase === "forward") where = `forward pass: step ${at} of ${nf}`;
    if (step && step.phase === "backward") where = `backward pass: step ${at - nf} of ${nb}`;
    if (at === steps.length && nb > 0) where += " (done)";
    $("where").textContent = where;
    $("scrub").value = at;
    renderGraph(step);
    renderPanel(step);
    renderLeaves(step);
  }

  function go(i) {
    at = Math.max(0, Math.min(steps.length, i));
    if (at === steps.length) stop();
    render();
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    $("play").textContent = "▶ play";
  }

  function play() {
    if (timer !== null) return stop();
    if (at === steps.length) go(0);
    timer = setInterval(() => go(at + 1), 700);
    $("play").textContent = "❚❚ pause";
  }

  $("reset").addEventListener("click", () => { stop(); go(0); });
  $("back").addEventListener("click", () => { stop(); go(at - 1); });
  $("next").addEventListener("click", () => { stop(); go(at + 1); });
  $("play").addEventListener("click", play);
  $("zoom-in").addEventListener("click", () => rezoom(1.25));
  $("zoom-out").addEventListener("click", () => rezoom(0.8));
  $("zoom-fit").addEventListener("click", () => rezoom("fit"));
  window.addEventListener("resize", applyZoom);
  $("scrub").max = steps.length;
  $("scrub").addEventListener("input", () => { stop(); go(Number($("scrub").value)); });
  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const onControl = e.target instanceof HTMLButtonElement || e.target instanceof HTMLInputElement;
    const keys = { ArrowRight: () => go(at + 1), ArrowLeft: () => go(at - 1),
                   Home: () => go(0), End: () => go(steps.length) };
    if (e.key in keys && !(onControl && e.target.id === "scrub")) {
      stop();
      keys[e.key]();
      e.preventDefault();
    } else if (e.key === " " && !onControl) {
      play();
      e.preventDefault();
    }
  });

  $("notice").textContent = data.notice;
  const table = $("leaves");
  for (const [i, leaf] of data.leaves.entries()) {
    const row = el("tr");
    row.id = "leaf-" + i;
    row.dataset.name = leaf.name;
    row.append(el("td", "name", leaf.name), el("td", "grad-cell"));
    row.lastChild.append(el("pre", "grad"), el("div", "check"));
    table.append(row);
  }
  showView(0);
})();
"""

HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<div id="controls">
<button id="reset" title="back to the start (Home)">reset</button>
<button id="back" title="one step back (←)">◀ back</button>
<button id="play" title="play / pause (space)">▶ play</button>
<button id="next" title="one step (→)">step ▶</button>
<input id="scrub" type="range" min="0" value="0" aria-label="step">
<span id="where"></span>
<span class="legend"><i class="swatch current"></i>this step <i class="swatch fwd"></i>forward
done <i class="swatch bwd"></i>backward done</span>
<span class="zoom">zoom <button id="zoom-out" title="smaller">−</button><button id="zoom-fit"
 title="fit the width">fit</button><button id="zoom-in" title="larger">+</button></span>
</div>
<p id="notice"></p>
</header>
<main>
<div id="graph-box"><div id="view-bar"></div><div id="graph"></div></div>
<aside>
<div id="step"></div>
<h3>Gradients of the leaves (∂L/∂leaf, what backward() puts in .grad)</h3>
<table id="leaves"></table>
</aside>
</main>
<script type="application/json" id="explorer-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""
