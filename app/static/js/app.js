// The interview page: set-up, the conversation driven by server messages, the summary.
// Everything the tests need to observe is mirrored on `window.__coach` (counts, transcripts).

import { SpeechPlayer, audioContext } from "./audio.js";
import { Answering } from "./answering.js";
import { Camera } from "./camera.js";
import { Connection, loadStored } from "./connection.js";
import { $, buildScales, renderAssessment, renderReport, renderSummary, renderTips, setText, show } from "./ui.js";

const params = new URLSearchParams(location.search);
// A researcher's study link (?study=…) fixes group (control | treatment | random) and style and hides them;
// a bare `?group=` (older links) fixes only the group. Without either, someone is practising on their own.
const STUDY = params.has("study") || params.has("group");
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/interview`;
const ROWS_KEY = "interview-coach.rows";

const coach = (window.__coach = {
  messages: [], partials: [], finals: [], errors: [], telemetry: [],
  headPoses: 0, facesDetected: 0, lastHeadPose: null, framesSent: 0, reconnects: 0, answers: 0,
  session: null, question: null, state: "setup",
});

const conn = new Connection(wsUrl);
const state = {
  group: null, questionCount: null, question: null, shownAt: 0, answerEndedAt: null, turnSeq: null,
  firstAudioMs: null, rows: JSON.parse(sessionStorage.getItem(ROWS_KEY) || "[]"), finished: false,
  retrying: false, saved: null,
};

function telemetry(event, latencyMs, data) {
  const message = { type: "telemetry", event };
  if (latencyMs !== undefined && latencyMs !== null) message.latencyMs = Math.max(0, Math.round(latencyMs));
  if (data) message.data = data;
  coach.telemetry.push(message);
  if (conn.sessionId) conn.send(message, { durable: true });
}

function alertUser(text) {
  setText("alert", text);
  show("alert", Boolean(text));
}

const player = new SpeechPlayer({
  onStart(seq, startsAt) {
    if (state.answerEndedAt === null) return;
    const ms = startsAt - state.answerEndedAt;
    if (state.firstAudioMs === null) state.firstAudioMs = Math.round(ms);
    if (seq === state.turnSeq) {
      telemetry("question_audio_latency", ms, { first_audio_ms: state.firstAudioMs });
      state.answerEndedAt = null;
    }
  },
});
coach.audio = player.stats;

const answering = new Answering({ conn, coach, player, telemetry, alertUser,
  question: () => state.question, shownAt: () => state.shownAt, group: () => state.group,
  onEnded: (at) => { state.answerEndedAt = at; state.firstAudioMs = null; } });

const camera = new Camera($("preview"), {
  fps: Number(params.get("fps")) || 3,
  onFrame(dataUrl, t) {
    if (conn.buffered > 512 * 1024) return false; // a slow link: skip frames rather than queue them
    const sent = conn.sendNow({ type: "video_frame", image: dataUrl, t: Math.round(t) });
    if (sent) coach.framesSent += 1;
    return sent;
  },
});

// --- set-up -----------------------------------------------------------------------------

function applyUrlParams() {
  const group = params.get("group");
  if (group === "control" || group === "treatment") $("group").value = group;
  show("group-row", false); // practice: everything on; a study link assigns the group
  const style = params.get("style");
  if (style) $("style").value = style;
  if (params.has("study") && style) { show("style-row", false); show("style-live-box", false); }
  const participant = params.get("participant") || params.get("participant_id");
  if (participant) { $("participant").value = participant; $("participant").readOnly = true; }
  const count = params.get("questions") || params.get("count");
  if (count) $("count").value = count;
  if (params.get("tts") === "0") $("tts").checked = false;
  if (params.get("camera") === "0") $("camera").checked = false;
  if (params.get("handsfree") === "0") $("handsfree").checked = false;
}

async function startCamera() {
  show("camera-box", $("camera").checked);
  if (!$("camera").checked || camera.active) return;
  try {
    await camera.start();
    setText("eye-text", "Looking for your face…");
  } catch (err) {
    setText("eye-text", "Camera not available");
    telemetry("client_error", null, { kind: "camera", name: err.name });
  }
}

$("setup-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  audioContext(); // unlock audio while we have the click
  const message = {
    type: "start_session", style: $("style").value, tts: $("tts").checked,
    question_count: Number($("count").value) || undefined, turn_detection: $("handsfree").checked ? "auto" : "manual",
  };
  conn.turnDetection = message.turn_detection;
  const group = params.get("group");
  if (!STUDY) message.mode = "practice";
  else if (group === "random" || (params.has("study") && !group)) message.randomise = true;
  else message.group = $("group").value;
  const attributes = {};
  for (const [key, value] of params) if (key.startsWith("attr_")) attributes[key.slice(5)] = value;
  if (Object.keys(attributes).length) message.attributes = attributes;
  const participant = $("participant").value.trim();
  if (participant) message.participant_id = participant;
  $("start").disabled = true;
  sessionStorage.removeItem(ROWS_KEY);
  state.rows = [];
  conn.send(message, { durable: true });
  startCamera();
});

// --- the conversation -------------------------------------------------------------------

function enterInterview(msg) {
  state.group = msg.group;
  answering.handsFree = msg.turn_detection === "auto";
  conn.turnDetection = msg.turn_detection;
  coach.turnDetection = msg.turn_detection;
  state.questionCount = msg.question_count;
  coach.session = conn.sessionId;
  coach.group = msg.group;
  const select = $("style-live");
  select.replaceChildren(...(msg.styles || [msg.style]).map((name) => new Option(name, name)));
  select.value = msg.style;
  show("repeat", Boolean(msg.tts));
  show("setup", false);
  show("summary", false);
  show("interview");
}

function showQuestion(q, seq) {
  state.question = q;
  state.shownAt = performance.now();
  state.turnSeq = seq;
  coach.question = q;
  setText("q-progress", q.follow_up ? "Follow-up question" : `Question ${q.index + 1}`
    + (state.questionCount > 1 ? ` of about ${state.questionCount}` : ""));
  setText("q-category", q.category);
  setText("caption", q.text);
  alertUser("");
  answering.ready();
  if (state.answerEndedAt !== null && seq !== null) {
    telemetry("question_text_latency", state.shownAt - state.answerEndedAt);
  }
  if (document.activeElement === document.body || document.activeElement?.closest("[hidden]")) $("q-title").focus();
}

function finish(msg) {
  state.finished = true;
  answering.cancel();
  camera.stop();
  player.stop();
  renderSummary(state.rows, msg.summary);
  state.saved = conn.stored ? { ...conn.stored } : state.saved;
  show("report-box", false);
  if (msg.report_url && state.saved) loadReport(msg.report_url, state.saved.resume_token);
  show("interview", false);
  show("summary");
  $("summary-title").focus();
  coach.state = "finished";
  coach.summary = msg.summary;
  conn.forget();
  conn.close();
}

function onMessage(msg) {
  coach.messages.push(msg.type);
  switch (msg.type) {
    case "session_started":
      enterInterview(msg);
      break;
    case "session_resumed":
      enterInterview(msg);
      answering.afterResume();
      if (msg.status !== "active" && !state.retrying) finish({ summary: null });
      else if (msg.question && msg.question.question_id !== state.question?.question_id) showQuestion(msg.question, null);
      break;
    case "question":
      if (state.retrying) { state.retrying = false; state.finished = false; coach.state = "interview"; }
      showQuestion(msg, msg.seq);
      break;
    case "assessment":
      coach.assessments = (coach.assessments || 0) + 1;
      renderAssessment(msg);
      show("feedback");
      break;
    case "interviewer_message":
    case "interviewer_message_delta":
      if (msg.type === "interviewer_message") setText("interviewer", msg.text);
      else $("interviewer").textContent += msg.text || msg.delta || "";
      break;
    case "speech_audio":
      player.push(msg);
      break;
    case "answer_metrics":
      coach.answers += 1;
      coach.lastMetrics = msg.metrics;
      state.rows.push({ question: state.question?.text, mode: answering.lastMode, metrics: msg.metrics });
      sessionStorage.setItem(ROWS_KEY, JSON.stringify(state.rows));
      answering.answered(msg);
      show("feedback", false);
      show("assessment", false);
      if (!state.finished) show("checkin");
      break;
    case "tips":
      renderTips(msg.items || []);
      show("feedback", (msg.items || []).length > 0 || !$("assessment").hidden);
      break;
    case "transcript_partial":
    case "transcript_final":
      answering.transcript(msg);
      break;
    case "turn_state":
    case "turn_detected":
      answering.turn(msg);
      break;
    case "speech_interrupted":
      coach.interruptions += 1;
      player.stop(); // the server stopped the interviewer's voice: so does the speaker
      break;
    case "head_pose":
      onHeadPose(msg);
      break;
    case "style_switched":
      $("style-live").value = msg.style;
      break;
    case "checkin_logged":
      show("checkin", false);
      break;
    case "session_complete":
    case "session_ended":
      finish(msg);
      break;
    case "error":
      onError(msg);
      break;
    default:
      break;
  }
}

async function loadReport(url, token) {
  const q = `?token=${encodeURIComponent(token)}`;
  try {
    const response = await fetch(`${url}.json${q}`, { cache: "no-store" });
    if (!response.ok) return;
    const report = await response.json();
    renderReport(report, { html: url + q, pdf: `${url}.pdf${q}` }, retry);
    show("report-box");
    coach.report = { overall: report.overall, plots: Object.keys(report.plots) };
  } catch (err) {
    telemetry("client_error", null, { kind: "report", name: String(err).slice(0, 100) });
  }
}

function retry(questionId) {
  if (!state.saved) return;
  state.retrying = true;
  coach.report = undefined;
  conn.stored = { ...state.saved };
  conn.persist();
  conn.send({ type: "retry_question", question_id: questionId }, { durable: true });
  conn.connect();
  startCamera();
}

function onHeadPose(msg) {
  coach.headPoses += 1;
  coach.lastHeadPose = msg;
  if (msg.face_detected) coach.facesDetected += 1;
  answering.headPose(msg);
  const eye = $("eye");
  const kind = !msg.face_detected ? "none" : msg.looking_at_camera ? "good" : "away";
  eye.className = `eye ${kind}`;
  setText("eye-text", kind === "none" ? "No face in view" : kind === "good"
    ? `Good eye contact (${Math.round(msg.eye_contact_score * 100)} %)` : "Look at the camera");
}

function onError(msg) {
  coach.errors.push({ code: msg.code, message: msg.message });
  if (msg.code === "invalid_resume_token") {
    conn.forget();
    alertUser("Your previous session could not be resumed. Please start a new one.");
    showSetup();
    return;
  }
  alertUser(msg.message);
  answering.failed(msg);
  if (!msg.reply_to?.startsWith("telemetry")) telemetry("client_error", null, { code: msg.code, reply_to: msg.reply_to });
  if (msg.reply_to?.startsWith("start_session")) $("start").disabled = false;
}

function showSetup() {
  show("interview", false);
  show("summary", false);
  show("setup");
  $("start").disabled = false;
  coach.state = "setup";
}

conn.addEventListener("message", (ev) => onMessage(ev.detail));
conn.addEventListener("state", (ev) => {
  const { state: s, delay } = ev.detail;
  const badge = $("conn");
  badge.className = `badge ${s === "open" ? "ok" : s === "closed" && conn.closedByUs ? "" : "bad"}`;
  badge.textContent = s === "open" ? "Connected" : s === "reconnecting" ? `Reconnecting in ${Math.round(delay / 100) / 10} s…`
    : conn.closedByUs ? "Disconnected" : "Connection lost";
  if (s === "closed" && !conn.closedByUs) answering.connectionLost();
});
conn.addEventListener("reconnected", (ev) => {
  coach.reconnects = ev.detail.reconnects;
  telemetry("reconnect", null, { down_ms: Math.round(ev.detail.downMs), reconnects: ev.detail.reconnects });
});

// --- controls ---------------------------------------------------------------------------

$("style-live").addEventListener("change", () => conn.send({ type: "switch_style", style: $("style-live").value }, { durable: true }));
$("end").addEventListener("click", () => conn.send({ type: "end_session" }, { durable: true }));
$("again").addEventListener("click", () => { alertUser(""); showSetup(); conn.connect(); });
$("repeat").addEventListener("click", () => { audioContext(); player.replay(state.turnSeq); });
$("calibrate").addEventListener("click", () => conn.sendNow({ type: "calibrate" }));
$("checkin").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  conn.send({ type: "checkin", group: state.group, confidence: Number(form.get("confidence")),
    stress: Number(form.get("stress")) }, { durable: true });
  ev.target.reset();
});
$("checkin-skip").addEventListener("click", () => show("checkin", false));
document.addEventListener("click", () => audioContext(), { once: true, capture: true });
window.addEventListener("error", (ev) => telemetry("client_error", null, { kind: "script", message: String(ev.message).slice(0, 200) }));

coach.drop = () => conn.drop();
coach.conn = conn;
coach.player = player;

buildScales($("checkin"));
applyUrlParams();
conn.connect();
if (loadStored()) { // a reload mid-interview: carry on where it was
  setText("caption", "Resuming your interview…");
  startCamera();
}
