// The study dashboard (app/api/dashboard.html); a file of its own so the page's CSP needs no inline script.
"use strict";
const COLORS = { control: "var(--control)", treatment: "var(--treatment)" };
const GROUPS = ["control", "treatment"];
const LABELS = {
  speaking_rate_wpm: "Speaking rate (words/min)", pause_ratio: "Pause ratio", gaze: "Gaze at camera (share)",
  fillers_per_min: "Fillers per minute", response_latency_ms: "Response latency (ms)", confidence: "Confidence (1–7)",
  stress: "Stress (1–7)", turn_latency_ms: "Turn latency (ms)",
};
const SVGNS = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function svg(width, height) { return el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" }); }
function fmt(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toPrecision(digits);
}
function fmtP(p) { return p === null || p === undefined ? "–" : p < 0.001 ? "< 0.001" : p.toFixed(3); }
function niceTicks(lo, hi, count) {
  const span = hi - lo || 1, step0 = span / count, mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => span / s <= count) || 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}
function query() {
  const params = new URLSearchParams();
  const since = document.getElementById("since").value, until = document.getElementById("until").value;
  const style = document.getElementById("style").value;
  if (since) params.set("since", since + "T00:00:00Z");
  if (until) { const d = new Date(until + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + 1); params.set("until", d.toISOString()); }
  if (style) params.set("style", style);
  const by = document.getElementById("by").value;
  if (by) params.set("by", by);
  return params;
}
async function getJSON(path, params) {
  const response = await fetch(path + "?" + params.toString(), { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function renderConsort(summary) {
  const keys = [["started", "started"], ["completed", "completed"], ["ended_early", "ended early"],
                ["abandoned", "abandoned"], ["in_progress", "in progress"], ["randomised_by_server", "randomised by server"]];
  const groups = summary.consort.groups;
  let html = "<table><thead><tr><th></th>" + GROUPS.map(g => `<th>${g}</th>`).join("") + "</tr></thead><tbody>";
  for (const [key, label] of keys) html += `<tr><td>${label}</td>` + GROUPS.map(g => `<td>${groups[g][key]}</td>`).join("") + "</tr>";
  html += "<tr><td>answers</td>" + GROUPS.map(g => `<td>${summary.groups[g].answers}</td>`).join("") + "</tr></tbody></table>";
  document.getElementById("consort").innerHTML = html;
}

function renderMeans(summary, boxId = "means", metrics = summary.metrics) {
  const box = document.getElementById(boxId);
  box.replaceChildren();
  const W = 1100, rowH = 56, left = 190, right = 360, H = 24 + rowH * Object.keys(metrics).length;
  const s = svg(W, H);
  s.setAttribute("id", boxId + "-plot");
  s.appendChild(el("text", { x: W - right + 14, y: 14, "font-weight": "bold" }, "treatment − control [95 % CI] · Welch p · Hedges' g [95 % CI]"));
  Object.entries(metrics).forEach(([metric, block], row) => {
    const y0 = 24 + row * rowH, cy = { control: y0 + 16, treatment: y0 + 34 };
    s.appendChild(el("text", { x: 4, y: y0 + 29 }, LABELS[metric] || metric));
    const cis = GROUPS.map(g => block.groups[g]).filter(d => d.mean !== null);
    if (!cis.length) { s.appendChild(el("text", { x: left, y: y0 + 29, fill: "#777" }, "no data")); return; }
    let lo = Math.min(...cis.map(d => d.ci95 ? d.ci95[0] : d.mean)), hi = Math.max(...cis.map(d => d.ci95 ? d.ci95[1] : d.mean));
    const scale = Math.max(Math.abs(lo), Math.abs(hi), 1e-9);
    if (hi - lo < 1e-9 * scale) { lo -= 0.05 * scale; hi += 0.05 * scale; }  // no spread: a readable axis anyway
    const pad = (hi - lo) * 0.08; lo -= pad; hi += pad;
    const x = v => left + (v - lo) / (hi - lo) * (W - left - right);
    for (const t of niceTicks(lo, hi, 5)) {
      s.appendChild(el("line", { x1: x(t), x2: x(t), y1: y0 + 6, y2: y0 + 44, stroke: "#e4e4e4" }));
      s.appendChild(el("text", { x: x(t), y: y0 + 54, "text-anchor": "middle", fill: "#777" }, fmt(t)));
    }
    for (const g of GROUPS) {
      const d = block.groups[g];
      if (d.mean === null) continue;
      if (d.ci95) s.appendChild(el("line", { class: "ci", x1: x(d.ci95[0]), x2: x(d.ci95[1]), y1: cy[g], y2: cy[g], stroke: COLORS[g], "stroke-width": 2 }));
      const dot = el("circle", { class: "mean " + g, cx: x(d.mean), cy: cy[g], r: 4.5, fill: COLORS[g] });
      dot.appendChild(el("title", {}, `${g}: mean ${fmt(d.mean)}, SD ${fmt(d.sd)}, n ${d.n}`));
      s.appendChild(dot);
    }
    const c = block.treatment_minus_control;
    const text = c && c.ci95
      ? `${fmt(c.difference)} [${fmt(c.ci95[0])}, ${fmt(c.ci95[1])}] · p ${fmtP(c.p)} · g ${fmt(c.hedges_g, 2)}` +
        (c.hedges_g_ci95 ? ` [${fmt(c.hedges_g_ci95[0], 2)}, ${fmt(c.hedges_g_ci95[1], 2)}]` : "")
      : "too few sessions to compare";
    s.appendChild(el("text", { x: W - right + 14, y: y0 + 22 }, text));
    s.appendChild(el("text", { x: W - right + 14, y: y0 + 38, fill: "#777" },
      `n = ${block.groups.control.n} control, ${block.groups.treatment.n} treatment sessions`));
  });
  box.appendChild(s);
}

function renderDistribution(data) {
  const box = document.getElementById("dist");
  box.replaceChildren();
  const all = GROUPS.flatMap(g => data.values[g] || []);
  if (!all.length) { box.textContent = "no sessions measured this metric"; return; }
  const W = 1100, H = 260, left = 50, bottom = 30, top = 10, bins = 30;
  let lo = Math.min(...all), hi = Math.max(...all);
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  const width = (hi - lo) / bins;
  const counts = {}, shares = {};
  for (const g of GROUPS) {
    counts[g] = new Array(bins).fill(0);
    for (const v of data.values[g] || []) counts[g][Math.min(bins - 1, Math.floor((v - lo) / width))] += 1;
    const n = (data.values[g] || []).length || 1;
    shares[g] = counts[g].map(c => c / n);
  }
  const ymax = Math.max(...GROUPS.flatMap(g => shares[g])) || 1;
  const x = v => left + (v - lo) / (hi - lo) * (W - left - 10), y = v => H - bottom - v / ymax * (H - bottom - top);
  const s = svg(W, H);
  s.setAttribute("id", "dist-plot");
  for (const t of niceTicks(0, ymax, 4)) {
    s.appendChild(el("line", { x1: left, x2: W - 10, y1: y(t), y2: y(t), stroke: "#e4e4e4" }));
    s.appendChild(el("text", { x: left - 6, y: y(t) + 4, "text-anchor": "end", fill: "#777" }, Math.round(t * 100) + "%"));
  }
  for (const t of niceTicks(lo, hi, 8)) s.appendChild(el("text", { x: x(t), y: H - 10, "text-anchor": "middle", fill: "#777" }, fmt(t)));
  for (const g of GROUPS) {
    shares[g].forEach((share, i) => {
      if (!share) return;
      const bar = el("rect", { class: "bar " + g, x: x(lo + i * width) + (g === "treatment" ? 0 : 1), y: y(share),
        width: Math.max(1, x(lo + (i + 1) * width) - x(lo + i * width) - 1), height: y(0) - y(share),
        fill: COLORS[g], "fill-opacity": 0.45, stroke: COLORS[g] });
      bar.appendChild(el("title", {}, `${g}: ${counts[g][i]} sessions in [${fmt(lo + i * width)}, ${fmt(lo + (i + 1) * width)})`));
      s.appendChild(bar);
    });
  }
  box.appendChild(s);
  const note = document.createElement("p");
  note.className = "note";
  note.textContent = GROUPS.map(g => `${g}: ${(data.values[g] || []).length} sessions`).join(" · ") +
    " · bars are shares of each group's sessions" + (data.truncated ? " · newest sessions only (limit reached)" : "");
  box.appendChild(note);
}

function renderTimeline(data) {
  const box = document.getElementById("timeline");
  box.replaceChildren();
  if (!data.days.length) { box.textContent = "no sessions in this range"; return; }
  const days = [...new Set(data.days.map(d => d.day))].sort();
  const by = {};
  for (const d of data.days) by[d.group + d.day] = d.started;
  const W = 520, H = 220, left = 40, bottom = 34, top = 10;
  const ymax = Math.max(...data.days.map(d => d.started)) || 1;
  const step = (W - left - 10) / days.length, bw = Math.max(1, step / 2 - 1);
  const y = v => H - bottom - v / ymax * (H - bottom - top);
  const s = svg(W, H);
  s.setAttribute("id", "timeline-plot");
  for (const t of niceTicks(0, ymax, 4).filter(Number.isInteger)) {  // counts: whole ticks only
    s.appendChild(el("line", { x1: left, x2: W - 10, y1: y(t), y2: y(t), stroke: "#e4e4e4" }));
    s.appendChild(el("text", { x: left - 6, y: y(t) + 4, "text-anchor": "end", fill: "#777" }, String(t)));
  }
  days.forEach((day, i) => {
    GROUPS.forEach((g, k) => {
      const n = by[g + day] || 0;
      if (!n) return;
      const bar = el("rect", { class: "day " + g, x: left + i * step + k * bw, y: y(n), width: bw, height: y(0) - y(n), fill: COLORS[g] });
      bar.appendChild(el("title", {}, `${day} ${g}: ${n} sessions started`));
      s.appendChild(bar);
    });
  });
  const every = Math.ceil(days.length / 6);
  days.forEach((day, i) => { if (i % every === 0) s.appendChild(el("text", { x: left + i * step, y: H - 12 }, day)); });
  box.appendChild(s);
}

function hel(tag, attrs, text) {  // an HTML element (el() makes SVG ones)
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function renderFairness(fair) {
  const section = document.getElementById("fairness-section");
  section.hidden = !fair;
  if (!fair) return;
  document.getElementById("by-name").textContent = fair.attribute;
  const cell = d => d.mean === null ? "–" : `${fmt(d.mean)}` + (d.ci95 ? ` [${fmt(d.ci95[0])}, ${fmt(d.ci95[1])}]` : "") + ` (${d.n})`;
  const table = hel("table", { id: "fairness-table" });
  const head = hel("tr", {});
  head.appendChild(hel("th", {}, "measure"));
  for (const v of fair.values) head.appendChild(hel("th", {}, `${v} (${fair.sessions[v]} sessions)`));
  table.appendChild(hel("thead", {})).appendChild(head);
  const body = table.appendChild(hel("tbody", {}));
  const rows = [...Object.entries(fair.measures).map(([m, byValue]) => [LABELS[m] || m.replace("score_", "rubric: "), byValue]),
                ...Object.entries(fair.tip_share).map(([k, byValue]) => [`share of answers with tip "${k}"`, byValue])];
  for (const [label, byValue] of rows) {
    const tr = hel("tr", {});
    tr.appendChild(hel("td", {}, label));
    for (const v of fair.values) tr.appendChild(hel("td", {}, cell(byValue[v])));
    body.appendChild(tr);
  }
  const box = document.getElementById("fairness");
  box.replaceChildren(table);
}

const STAGE_LABELS = { turn_ms: "turn detected", transcript_ms: "transcript sent", coach_ms: "coach done",
  question_ms: "question sent", first_audio_ms: "first audio sent" };
const MODE_COLORS = { auto: "#2b6cb0", manual: "#9c6b00" };

function renderLatency(latency) {
  const box = document.getElementById("latency");
  box.replaceChildren();
  if (!latency || !latency.answers) { box.textContent = "no streamed spoken answers in this range"; return; }
  const stages = Object.keys(STAGE_LABELS);
  const modes = ["auto", "manual"].filter(m => stages.some(s => latency[m][s].n));
  const values = modes.flatMap(m => stages.map(s => latency[m][s].p95)).filter(v => v !== null);
  const xmax = Math.max(1600, ...values);
  const W = 900, left = 130, right = 20, rowH = 16 * modes.length + 8, top = 10, bottom = 30;
  const H = top + bottom + rowH * stages.length;
  const x = v => left + Math.max(0, v) / xmax * (W - left - right);
  const s = svg(W, H);
  s.setAttribute("id", "latency-plot");
  for (const t of niceTicks(0, xmax, 6)) {
    s.appendChild(el("line", { x1: x(t), x2: x(t), y1: top, y2: H - bottom, stroke: "#e4e4e4" }));
    s.appendChild(el("text", { x: x(t), y: H - 12, "text-anchor": "middle", fill: "#777" }, `${t} ms`));
  }
  for (const goal of [800, 1500]) {
    s.appendChild(el("line", { x1: x(goal), x2: x(goal), y1: top, y2: H - bottom, stroke: "#c53030", "stroke-dasharray": "4 3" }));
  }
  stages.forEach((stage, i) => {
    const y0 = top + i * rowH;
    s.appendChild(el("text", { x: left - 8, y: y0 + rowH / 2 + 4, "text-anchor": "end" }, STAGE_LABELS[stage]));
    modes.forEach((mode, k) => {
      const cell = latency[mode][stage];
      if (!cell.n) return;
      const y = y0 + 4 + k * 16;
      const p95 = el("rect", { class: "lat " + mode, x: x(0), y, width: x(cell.p95) - x(0), height: 12, fill: MODE_COLORS[mode], opacity: 0.35 });
      p95.appendChild(el("title", {}, `${mode} ${STAGE_LABELS[stage]}: p95 ${cell.p95} ms (n ${cell.n})`));
      const p50 = el("rect", { class: "lat " + mode, x: x(0), y, width: x(cell.p50) - x(0), height: 12, fill: MODE_COLORS[mode] });
      p50.appendChild(el("title", {}, `${mode} ${STAGE_LABELS[stage]}: p50 ${cell.p50} ms (n ${cell.n})`));
      s.append(p95, p50);
      s.appendChild(el("text", { x: x(cell.p95) + 4, y: y + 10, fill: "#555" }, `${mode} ${Math.round(cell.p50)} / ${Math.round(cell.p95)}`));
    });
  });
  box.appendChild(s);
}

async function refresh() {
  const status = document.getElementById("status");
  document.body.dataset.ready = "0";
  status.textContent = "loading…";
  const params = query();
  for (const [id, path] of [["dl-csv", "/export/answers.csv"], ["dl-ndjson", "/export/sessions"], ["dl-codebook", "/export/codebook.json"]]) {
    const p = new URLSearchParams(params);
    if (id === "dl-ndjson") p.delete("style");
    document.getElementById(id).href = path + (p.toString() ? "?" + p : "");
  }
  try {
    const summary = await getJSON("/metrics/summary", params);
    const styleSelect = document.getElementById("style");
    for (const style of Object.keys(summary.by_style)) {
      if (![...styleSelect.options].some(o => o.value === style)) styleSelect.add(new Option(style, style));
    }
    const metricSelect = document.getElementById("metric");
    if (!metricSelect.options.length) for (const m of Object.keys(summary.metrics)) metricSelect.add(new Option(LABELS[m] || m, m));
    renderConsort(summary);
    renderMeans(summary);
    renderLatency(summary.latency);
    renderMeans(summary, "rubric", summary.outcomes.rubric_scores);
    renderMeans(summary, "change", summary.outcomes.within_session_change);
    const bySelect = document.getElementById("by");
    for (const name of summary.attributes || []) {
      if (![...bySelect.options].some(o => o.value === name)) bySelect.add(new Option(name, name));
    }
    renderFairness(summary.fairness);
    const dp = new URLSearchParams(params); dp.set("metric", metricSelect.value);
    const [dist, timeline] = await Promise.all([getJSON("/metrics/sessions", dp), getJSON("/metrics/timeline", params)]);
    renderDistribution(dist);
    renderTimeline(timeline);
    status.textContent = "updated " + new Date().toLocaleString();
    document.body.dataset.ready = "1";
  } catch (error) {
    const span = document.createElement("span");
    span.className = "err";
    span.textContent = String(error.message || error);
    status.replaceChildren(span);
    document.body.dataset.ready = "error";
  }
}
document.getElementById("filters").addEventListener("submit", event => { event.preventDefault(); refresh(); });
document.getElementById("metric").addEventListener("change", () => refresh());
refresh();
