// Small DOM helpers: element lookup, the check-in scales, tips, the summary table.

export const $ = (id) => document.getElementById(id);

export function show(id, visible = true) { $(id).hidden = !visible; }

export function setText(id, text) { $(id).textContent = text ?? ""; }

/** Radio buttons 1..7 inside each `.scale[data-name]` of a form. */
export function buildScales(form) {
  for (const scale of form.querySelectorAll(".scale")) {
    const name = scale.dataset.name;
    for (let i = 1; i <= 7; i++) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = name;
      input.value = String(i);
      input.required = true;
      label.append(input, String(i));
      scale.append(label);
    }
  }
}

export function renderTips(items) {
  const list = $("tips");
  list.replaceChildren();
  for (const tip of items) {
    const li = document.createElement("li");
    li.append(tip.text);
    if (tip.evidence) {
      const ev = document.createElement("div");
      ev.className = "evidence";
      ev.textContent = `Based on: ${tip.evidence}`;
      li.append(ev);
    }
    list.append(li);
  }
}

const pct = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 100)} %`);
const num = (v, digits = 0) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));

const duration = (s) => (s < 90 ? `${Math.round(s)} seconds` : `${Math.round(s / 60)} minutes`);

/** One row per answer: the measures the server settled on (answer_metrics.metrics). */
export function renderSummary(rows, summary) {
  const body = document.querySelector("#summary-table tbody");
  body.replaceChildren();
  rows.forEach((row, i) => {
    const m = row.metrics || {};
    const fillers = m.filler_count ?? null;
    const cells = [
      [String(i + 1), true], [row.question || "", false], [row.mode, false],
      [num(m.word_count), true], [num(m.speaking_rate_wpm), true],
      [fillers === null ? "—" : `${fillers}${m.fillers_per_min != null ? ` (${num(m.fillers_per_min, 1)}/min)` : ""}`, true],
      [pct(m.pause_ratio), true], [pct(m.gaze), true],
      [m.duration_s != null ? `${num(m.duration_s, 1)} s` : "—", true],
    ];
    const tr = document.createElement("tr");
    for (const [text, numeric] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (numeric) td.className = "num";
      tr.append(td);
    }
    body.append(tr);
  });
  if (summary && rows.length) {
    const tr = document.createElement("tr");
    const cells = ["", "Session mean", "", num(summary.mean_word_count), num(summary.mean_speaking_rate_wpm),
      summary.filler_count == null ? "—" : `${summary.filler_count} in all`, pct(summary.mean_pause_ratio),
      pct(summary.mean_gaze), ""];
    cells.forEach((text, i) => {
      const cell = document.createElement(i === 1 ? "th" : "td");
      if (i === 1) cell.scope = "row";
      cell.textContent = text;
      if (i >= 3) cell.className = "num";
      tr.append(cell);
    });
    body.append(tr);
  }
  const parts = [];
  if (summary) {
    if (summary.closing) parts.push(summary.closing);
    const answered = summary.answers ?? summary.answer_count ?? rows.length;
    parts.push(`You answered ${answered} question${answered === 1 ? "" : "s"}`
      + (summary.duration_s != null ? ` in ${duration(summary.duration_s)}.` : "."));
  }
  setText("summary-text", parts.join(" "));
}

const el = (tag, text, className) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
};
const score = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(1));

/** The rubric scores of the last answer, with the one line on what a stronger answer would add. */
export function renderAssessment(msg) {
  const p = $("assessment");
  p.textContent = `Score ${score(msg.overall)} / 5. ${msg.improve || ""}`;
  p.hidden = false;
}

/** The end screen: scores, strengths, priorities, plots (server-drawn inline SVG), links, retry buttons. */
export function renderReport(report, links, onRetry) {
  const grid = $("score-grid");
  grid.replaceChildren();
  const box = (label, value) => {
    const div = el("div", null, "score-box");
    div.append(el("span", score(value), "v"), el("span", label));
    grid.append(div);
  };
  box("Overall (1–5)", report.overall);
  for (const dim of report.dimensions) box(report.labels[dim], report.scores[dim]);
  const points = (id, items, key) => {
    const list = $(id);
    list.replaceChildren();
    for (const p of items) {
      const li = el("li");
      li.append(el("strong", `${p.label} (${score(p.mean)})`), ` ${p[key] || ""}`);
      if (p.evidence) li.append(el("span", p.evidence, "evidence-quote"));
      list.append(li);
    }
    if (!items.length) list.append(el("li", "Nothing yet: practise a little more."));
  };
  points("strengths", report.strengths, "reason");
  points("priorities", report.priorities, "advice");
  // The SVG is built by the server from numbers, every text in it escaped; parse it as SVG, not HTML.
  const plots = $("plots");
  plots.replaceChildren();
  for (const key of ["overall", "pace", "fillers", "eye_contact", "progress"]) {
    if (!report.plots[key]) continue;
    const doc = new DOMParser().parseFromString(report.plots[key], "image/svg+xml");
    if (doc.documentElement.nodeName === "svg") plots.append(document.importNode(doc.documentElement, true));
  }
  $("report-link").href = links.html;
  $("report-pdf").href = links.pdf;
  const retry = $("retry-list");
  retry.replaceChildren();
  for (const q of report.questions || []) {
    const li = el("li");
    const button = el("button", "Practise again", "link");
    button.type = "button";
    button.dataset.questionId = q.question_id;
    button.addEventListener("click", () => onRetry(q.question_id));
    li.append(button, ` ${q.question}`);
    retry.append(li);
  }
}
