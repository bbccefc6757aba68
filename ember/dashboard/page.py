"""The dashboard page: plain HTML, CSS and JavaScript drawing SVG charts, with no external resources.

The script polls /api/runs for the list of runs and /api/metrics for each run's new metrics lines (from the byte
offset it has read up to), and redraws the charts in place; the page never reloads. Each chart's axes (range, ticks,
tick labels) come from /api/axes, which lays them out with the report's rules (ember.report.curves.curve_axes), so
the two never draw the same run differently."""

from __future__ import annotations

import base64
import hashlib

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #263238; color: #fff; padding: 10px 20px; display: flex; gap: 20px; align-items: baseline; }
header h1 { font-size: 1.3em; margin: 0; }
#connection { font-size: 0.9em; color: #b0bec5; }
#connection.down { color: #ff8a80; }
main { padding: 12px 20px; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #ddd; padding: 3px 10px; text-align: left; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; }
td.num { text-align: right; }
.run { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 16px 0; padding: 10px 14px; }
.run h2 { font-size: 1.1em; margin: 0 0 4px 0; }
.status { font-size: 0.85em; padding: 1px 8px; border-radius: 10px; background: #eceff1; margin-left: 8px; }
.status.live { background: #c8e6c9; }
.status.finished { background: #bbdefb; }
.legend { font-size: 0.9em; color: #444; margin: 4px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
svg text { font-size: 11px; fill: #333; }
svg .title { font-size: 13px; font-weight: 600; }
.finding { border-left: 4px solid #e6a700; padding: 2px 8px; margin: 4px 0; background: #fffbe8; font-size: 0.9em; }
.finding.error { border-color: #c62828; background: #fdecea; }
.muted { color: #777; }
.errors { color: #c62828; font-size: 0.9em; }
"""

SCRIPT = r"""
"use strict";
const SVG_NS = "http://www.w3.org/2000/svg";
const POLL_MS = 1000;
let LIVE_SECONDS = 30;  // a run whose metrics changed this recently is shown as live (the server's number)
const COLORS = {train: "#0072B2", val: "#D55E00", step: "#56B4E9"};
const runs = new Map();  // name -> {offset, epochs, steps, test, doctor, errors, card, row, modified}
let serverNow = 0;

function el(tag, attrs, parent, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function fmt(v, digits = 4) {
  return (typeof v === "number" && isFinite(v)) ? v.toFixed(digits) : "\u2013";
}

function pct(v) {
  return (typeof v === "number" && isFinite(v)) ? (100 * v).toFixed(2) + "%" : "\u2013";
}

// The smallest and largest finite value, or [NaN, NaN]: all the server needs to lay out an axis.
function extent(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (typeof v === "number" && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return lo <= hi ? [lo, hi] : [NaN, NaN];
}

// The axes of each chart (ranges, ticks, tick labels) come from the server, which lays them out with the report's
// own rules: charts = {name: series}, answered as {name: {x_range, y_range, x_ticks, x_labels, y_ticks, y_labels}}.
function fetchAxes(charts) {
  const query = Object.entries(charts).map(([name, series]) => {
    const [x0, x1] = extent(series.flatMap(s => s.xs)), [y0, y1] = extent(series.flatMap(s => s.ys));
    return `${name}=${x0},${x1},${y0},${y1}`;
  });
  return getJSON("/api/axes?" + query.join("&"));
}

// series: [{label, color, faint, xs, ys}]; axes: one chart's entry of the /api/axes answer
function drawChart(svg, series, title, yLabel, axes) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  // room for the longest y tick label between the rotated axis title and the plot, as the report leaves
  const L = Math.max(56, Math.ceil(30 + 6.5 * Math.max(0, ...axes.y_labels.map(label => label.length))));
  const W = 460, H = 280, R = 14, T = 44, B = 38, PW = W - L - R, PH = H - T - B;
  const [x0, x1] = axes.x_range, [y0, y1] = axes.y_range;
  const sx = x => L + (x - x0) / (x1 - x0) * PW;
  const sy = y => T + (1 - (y - y0) / (y1 - y0)) * PH;
  el("svg:text", {x: W / 2, y: 18, "text-anchor": "middle", class: "title"}, svg, title);
  el("svg:rect", {x: L, y: T, width: PW, height: PH, fill: "none", stroke: "#999"}, svg);
  axes.y_ticks.forEach((t, i) => {
    el("svg:line", {x1: L, x2: L + PW, y1: sy(t), y2: sy(t), stroke: "#eee"}, svg);
    el("svg:text", {x: L - 6, y: sy(t) + 4, "text-anchor": "end", class: "tick"}, svg, axes.y_labels[i]);
  });
  axes.x_ticks.forEach((t, i) => {
    el("svg:line", {x1: sx(t), x2: sx(t), y1: T, y2: T + PH, stroke: "#f3f3f3"}, svg);
    el("svg:text", {x: sx(t), y: T + PH + 16, "text-anchor": "middle", class: "tick"}, svg, axes.x_labels[i]);
  });
  el("svg:text", {x: L + PW / 2, y: H - 4, "text-anchor": "middle"}, svg, "epoch");
  el("svg:text", {x: 14, y: T + PH / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${T + PH / 2})`},
     svg, yLabel);
  const ordered = series.filter(s => s.faint).concat(series.filter(s => !s.faint));
  for (const s of ordered) {
    let segment = [];
    const flush = () => {
      if (segment.length > 1) {
        el("svg:polyline", {fill: "none", stroke: s.color, "stroke-width": s.faint ? 1 : 2,
                            "stroke-opacity": s.faint ? 0.45 : 1, points: segment.join(" ")}, svg);
      }
      segment = [];
    };
    s.xs.forEach((x, i) => {
      const y = s.ys[i];
      if (typeof y === "number" && isFinite(y)) {
        segment.push(sx(x).toFixed(1) + "," + sy(y).toFixed(1));
        if (!s.faint) {
          const c = el("svg:circle", {cx: sx(x).toFixed(1), cy: sy(y).toFixed(1), r: 3, fill: s.color}, svg);
          el("svg:title", {}, c, `${s.label} at ${x}: ${y.toPrecision(4)}`);
        }
      } else {
        flush();
      }
    });
    flush();
  }
  let lx = L;  // the legend is one row above the plot, so it never hides a curve
  for (const s of series.filter(s => s.xs.length)) {
    el("svg:line", {x1: lx, x2: lx + 18, y1: T - 12, y2: T - 12, stroke: s.color, "stroke-width": 2,
                    "stroke-opacity": s.faint ? 0.5 : 1}, svg);
    el("svg:text", {x: lx + 22, y: T - 8}, svg, s.label);
    lx += 30 + 6 * s.label.length;
  }
}

function stepPositions(run) {
  const first = run.epochs.find(e => e.epoch && e.step);
  let perEpoch = first ? first.step / first.epoch : Math.max(1, ...run.steps.map(s => s.step || 0));
  return run.steps.map(s => (s.step || 0) / perEpoch);
}

function addRun(info) {
  const index = runs.size;
  const card = el("section", {class: "run", id: "run-" + index, "data-run": info.name, "data-points": "0"},
                  document.getElementById("runs"));
  const h2 = el("h2", {}, card);
  el("span", {class: "name"}, h2, info.name);
  const status = el("span", {class: "status"}, h2, "waiting");
  el("div", {class: "muted path"}, card, info.path);
  const legend = el("div", {class: "legend", "data-last-loss": ""}, card, "no epoch finished yet");
  const charts = el("div", {class: "charts"}, card);
  const chart = (name, label) => el("svg:svg", {class: "chart " + name, role: "img", "aria-label": label, width: 460,
                                                height: 280, viewBox: "0 0 460 280", "data-points": "0"}, charts);
  const loss = chart("loss", "Loss"), acc = chart("accuracy", "Accuracy");
  const findings = el("div", {class: "findings"}, card);
  const errors = el("div", {class: "errors"}, card);
  const row = el("tr", {"data-run": info.name}, document.getElementById("summary-body"));
  el("a", {href: "#run-" + index}, el("td", {}, row), info.name);
  const cells = ["epochs", "train_loss", "val_loss", "val_acc", "test_acc", "status"].map(
    k => el("td", {class: k === "status" ? "" : "num", "data-col": k}, row, "\u2013"));
  const run = {name: info.name, offset: 0, epochs: [], steps: [], test: null, doctor: [], errors: [],
               card, status, legend, loss, acc, findings, errorBox: errors, cells, modified: info.modified,
               drawn: false};
  runs.set(info.name, run);
  document.getElementById("empty").hidden = true;
  render(run);
  return run;
}

function statusOf(run) {
  if (run.test) return "finished";
  if (serverNow - run.modified < LIVE_SECONDS) return "live";
  return run.epochs.length ? "stopped" : "waiting";
}

function renderStatus(run) {
  const status = statusOf(run);
  run.status.textContent = status;
  run.status.className = "status " + status;
  run.cells[run.cells.length - 1].textContent = status;
}

// The charts of a run: the series as the report draws them, on axes laid out by the server.
async function drawCharts(run) {
  const xs = run.epochs.map(e => e.epoch);
  const loss = [];
  if (run.steps.length) loss.push({label: "step loss", color: COLORS.step, faint: true,
                                   xs: stepPositions(run), ys: run.steps.map(s => s.loss)});
  loss.push({label: "train loss", color: COLORS.train, xs, ys: run.epochs.map(e => e.train_loss)});
  const accuracy = [{label: "train accuracy", color: COLORS.train, xs, ys: run.epochs.map(e => e.train_acc)}];
  if (run.epochs.some(e => e.val_loss != null)) {
    loss.push({label: "val loss", color: COLORS.val, xs, ys: run.epochs.map(e => e.val_loss)});
  }
  if (run.epochs.some(e => e.val_acc != null)) {
    accuracy.push({label: "val accuracy", color: COLORS.val, xs, ys: run.epochs.map(e => e.val_acc)});
  }
  const axes = await fetchAxes({loss, accuracy});
  drawChart(run.loss, loss, "Loss", "loss", axes.loss);
  drawChart(run.acc, accuracy, "Accuracy", "accuracy", axes.accuracy);
  run.drawn = true;
  for (const node of [run.card, run.loss, run.acc]) node.setAttribute("data-points", String(run.epochs.length));
}

function render(run) {
  const n = run.epochs.length;
  const last = run.epochs[n - 1];
  if (last) {
    run.legend.setAttribute("data-last-loss", String(last.train_loss));
    run.legend.setAttribute("data-epoch", String(last.epoch));
    run.legend.textContent = `epoch ${last.epoch}: train loss ${fmt(last.train_loss)}, val loss ${fmt(last.val_loss)}, ` +
      `train acc ${pct(last.train_acc)}, val acc ${pct(last.val_acc)}` +
      (run.test ? ` \u00b7 test loss ${fmt(run.test.test_loss)}, test acc ${pct(run.test.test_acc)}` : "");
  }
  const values = {epochs: String(n), train_loss: fmt(last && last.train_loss), val_loss: fmt(last && last.val_loss),
                  val_acc: pct(last && last.val_acc), test_acc: pct(run.test && run.test.test_acc)};
  run.cells.forEach(cell => { const k = cell.getAttribute("data-col"); if (k in values) cell.textContent = values[k]; });
  renderStatus(run);
  run.findings.replaceChildren();
  for (const f of run.doctor) {
    const box = el("div", {class: "finding " + (f.severity === "error" ? "error" : "warning"),
                           "data-kind": String(f.kind)}, run.findings);
    el("b", {}, box, `${f.severity}: ${f.kind}` + (f.layer ? ` (layer ${f.layer})` : "") + " ");
    el("span", {}, box, String(f.message || "") + (f.suggestion ? " \u2014 " + f.suggestion : ""));
  }
  run.errorBox.textContent = run.errors.slice(-3).join("; ");
}

function absorb(run, payload) {
  if (payload.reset) { run.epochs = []; run.steps = []; run.test = null; run.doctor = []; }
  for (const line of payload.lines) {
    if (line.kind === "epoch") run.epochs.push(line);
    else if (line.kind === "step") run.steps.push(line);
    else if (line.kind === "test") run.test = line;
    else if (line.kind === "doctor") run.doctor.push(...(line.findings || []));
  }
  run.errors.push(...payload.errors);
  run.offset = payload.offset;
  run.drawn = false;
}

async function getJSON(url) {
  const response = await fetch(url, {cache: "no-store"});
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function pollOnce() {
  const listing = await getJSON("/api/runs");
  serverNow = listing.now;
  LIVE_SECONDS = listing.live_seconds || LIVE_SECONDS;
  for (const info of listing.runs) {
    const run = runs.get(info.name) || addRun(info);
    const changed = info.modified !== run.modified;
    run.modified = info.modified;
    if (info.bytes === run.offset && !changed && run.drawn) { renderStatus(run); continue; }
    let payload;
    do {  // a long file comes in chunks
      payload = await getJSON(`/api/metrics?run=${encodeURIComponent(info.name)}&offset=${run.offset}`);
      absorb(run, payload);
    } while (payload.lines.length && payload.offset < payload.size);
    render(run);
    await drawCharts(run);  // a failure leaves run.drawn false, so the next poll draws again
  }
  // the server's order (live runs first, then newest): cards and summary rows follow it
  const cards = document.getElementById("runs"), rows = document.getElementById("summary-body");
  for (const info of listing.runs) {
    const run = runs.get(info.name);
    cards.appendChild(run.card);
    rows.appendChild(run.cells[0].parentNode);
  }
}

async function loop() {
  const connection = document.getElementById("connection");
  try {
    await pollOnce();
    connection.textContent = "updated " + new Date().toLocaleTimeString();
    connection.className = "";
  } catch (err) {
    connection.textContent = "cannot reach the dashboard server (" + err.message + "); retrying";
    connection.className = "down";
  }
  window.setTimeout(loop, POLL_MS);
}

loop();
"""

BODY = """
<header><h1>ember dashboard</h1><span id="connection">connecting&hellip;</span></header>
<main>
<table id="summary"><thead><tr><th>run</th><th>epochs</th><th>train loss</th><th>val loss</th><th>val acc</th>
<th>test acc</th><th>status</th></tr></thead><tbody id="summary-body"></tbody></table>
<p id="empty" class="muted">No runs yet. Start one with <code>ember train</code>; it will appear here.</p>
<div id="runs"></div>
</main>
"""


def render_page() -> str:
    """The whole dashboard page as one HTML string."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>ember dashboard</title>\n'
        f"<style>{STYLE}</style>\n</head>\n<body>{BODY}<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def content_security_policy() -> str:
    """A policy that lets the page run only its own inline script and talk only to this server."""
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"
    )
