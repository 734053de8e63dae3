// One answer at a time, by voice (audio_start, PCM16 binary frames, audio_end) or by typing
// (user_answer). Hands-free (turn_detection "auto", the default): the microphone opens when the
// question arrives and stays open while the interviewer speaks (speaking over it interrupts it), and
// the server says when the answer is over (turn_detected); Done ends it at once, as in manual mode,
// where the answer ends only when the candidate says so.

import { CAPTURE_RATE, MicRecorder } from "./audio.js";
import { LiveNudges } from "./nudges.js";
import { $, setText, show } from "./ui.js";

export class Answering {
  constructor(ctx) {
    this.ctx = ctx;                // {conn, coach, player, telemetry, alertUser, question(), shownAt(), group(), onEnded(at)}
    this.mode = "idle";            // idle | ready | starting | recording | processing | answered
    this.lastMode = null;
    this.ids = new Set();          // ids of this answer's messages, to match errors
    this.gaze = [];
    this.typingFrom = null;
    this.handsFree = false;        // the session's turn_detection is "auto"
    this.ctx.coach.interruptions = 0;
    this.ctx.coach.turnStates = [];
    // The browser's voice processing (noise suppression, AGC, echo cancellation) is off by default:
    // it cost Whisper words on our recordings (AGC drove peaks to full scale), and nothing plays
    // while the microphone is open, so there is no echo to cancel. `?mic_processing=1` turns it on.
    const on = new URLSearchParams(location.search).get("mic_processing") === "1";
    this.processing = { echoCancellation: on, noiseSuppression: on, autoGainControl: on };
    this.recorder = new MicRecorder({
      processing: this.processing,
      onFrame: (pcm) => {
        if (!this.streaming || !this.ctx.conn.sendNow(pcm)) return;
        this.ctx.coach.audioFrames += 1;
        if (this.ctx.coach.keepAudio) this.ctx.coach.audioCopy.push(new Int16Array(pcm.slice(0)));
        this.ctx.coach.audioSeconds += pcm.byteLength / 2 / CAPTURE_RATE;
      },
      onLevel: (level) => {
        $("level").firstElementChild.style.width = `${Math.min(100, Math.round(level * 400))}%`;
        this.nudges.onLevel(level);
      },
    });
    this.nudges = new LiveNudges((kind, text) => {
      const box = $("nudge");
      box.textContent = text || "";
      box.hidden = !kind;
      if (kind) this.ctx.coach.nudges.push(kind);
    });
    this.ctx.coach.audioFrames = 0;
    this.ctx.coach.audioSeconds = 0; // of this answer, as sent
    this.ctx.coach.nudges = [];
    $("record").addEventListener("click", () => this.startVoice());
    $("done").addEventListener("click", () => this.finishVoice());
    $("send").addEventListener("click", () => this.sendTyped());
    $("answer-text").addEventListener("input", () => { this.typingFrom ??= performance.now(); });
    $("answer-text").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); this.sendTyped(); }
    });
  }

  setMode(mode, note = "") {
    this.mode = mode;
    this.ctx.coach.state = mode;
    const recording = mode === "recording";
    const canAnswer = mode === "ready";
    show("record", !recording);
    show("done", recording);
    $("record").disabled = !canAnswer;
    $("send").disabled = !canAnswer;
    $("answer-text").disabled = !canAnswer;
    setText("rec-state", note);
  }

  ready() {
    if (this.mode === "recording") return; // a replayed question while answering changes nothing
    this.ids.clear();
    this.gaze = [];
    this.typingFrom = null;
    $("answer-text").value = "";
    $("partial").replaceChildren();
    this.nudges.stop();
    this.setMode("ready");
    this.showTurn(null);
    if (this.handsFree) this.startVoice();
  }

  /** What the server hears: speaking, a thinking pause, the turn over. */
  showTurn(text, kind = "") {
    const box = $("turn-state");
    box.textContent = text || "";
    box.className = `turn-state ${kind}`;
    box.hidden = !text;
  }

  turn(msg) {
    this.ctx.coach.turnStates.push(msg.type === "turn_detected" ? "over" : msg.state);
    if (this.mode !== "recording") return;
    if (msg.type === "turn_state") {
      if (msg.state === "speaking") this.showTurn("Listening…", "speaking");
      else this.showTurn("Thinking pause — take your time", "pause");
      return;
    }
    this.showTurn("Your turn is over — thank you", "over");
    this.finishVoice({ byServer: true });
  }

  async startVoice() {
    if (this.mode !== "ready") return;
    const { conn, player, question, shownAt } = this.ctx;
    if (!this.handsFree) {
      player.stop(); // the interviewer stops talking when the candidate starts
      player.muted = true; // and what is still arriving waits for "hear the question again"
    }
    // Hands-free, the interviewer's voice plays while the microphone is open: cancel its echo.
    this.recorder.processing = this.handsFree ? { ...this.processing, echoCancellation: true } : this.processing;
    const startedAt = performance.now();
    this.setMode("starting", "Opening the microphone…");
    try {
      await this.recorder.start();
    } catch (err) {
      this.ctx.telemetry("client_error", null, { kind: "microphone", name: err.name });
      this.ctx.alertUser(window.isSecureContext
        ? "The microphone is not available (was permission refused?). You can type your answer instead."
        : "The microphone needs a secure (https) page. You can type your answer instead.");
      $("typing").open = true;
      player.muted = false;
      this.setMode("ready");
      return;
    }
    const id = conn.nextId("audio_start");
    this.latencyMs = startedAt - shownAt();
    // The server measures the spoken answer itself; only the reaction time is ours to give.
    const sent = conn.sendNow({ type: "audio_start", id, sample_rate: CAPTURE_RATE, encoding: "pcm16",
      question_id: question()?.question_id, metrics: { latencyMs: Math.max(0, Math.round(this.latencyMs)) } });
    if (!sent) {
      player.muted = false;
      await this.recorder.stop();
      this.ctx.alertUser("Not connected right now — try again in a moment.");
      this.setMode("ready");
      return;
    }
    this.ids.add(id);
    this.ctx.coach.audioSeconds = 0;
    this.ctx.coach.audioCopy = [];
    this.streaming = true;
    this.startedAt = startedAt;
    this.lastMode = "voice";
    $("partial").replaceChildren();
    if (this.ctx.group() === "treatment") this.nudges.start(startedAt);
    this.setMode("recording", this.handsFree ? "Listening… answer when you are ready; press Done to finish early."
      : "Listening… press Done when you have finished.");
    if (this.handsFree) this.showTurn("Listening…", "speaking");
    if (!this.handsFree) $("done").focus();
  }

  async finishVoice({ byServer = false } = {}) {
    if (this.mode !== "recording") return;
    this.setMode("processing", "Finishing…");
    if (byServer) this.streaming = false; // the server has what it needs; stop sending at once
    await this.recorder.stop(); // the worklet's last frame is sent before audio_end
    this.streaming = false;
    this.ctx.player.muted = false;
    this.ctx.coach.voicedSeconds = this.nudges.voicedMs / 1000;
    this.nudges.stop();
    if (!byServer) {
      const id = this.ctx.conn.nextId("audio_end");
      this.ids.add(id);
      if (!this.ctx.conn.sendNow({ type: "audio_end", id })) {
        this.connectionLost();
        return;
      }
    }
    this.ctx.onEnded(performance.now());
    setText("interviewer", "");
    this.setMode("processing", "Transcribing your answer…");
  }

  clientMetrics(durationSec) {
    const metrics = { latencyMs: Math.max(0, Math.round(this.latencyMs)), durationSec: Math.round(durationSec * 10) / 10 };
    if (this.gaze.length >= 3) metrics.gaze = Math.round(this.gaze.reduce((a, b) => a + b, 0) / this.gaze.length * 1000) / 1000;
    return metrics;
  }

  sendTyped() {
    const text = $("answer-text").value.trim();
    if (this.mode !== "ready" || !text) {
      if (!text) this.ctx.alertUser("Type an answer first.");
      return;
    }
    const now = performance.now();
    const from = this.typingFrom ?? now;
    this.latencyMs = from - this.ctx.shownAt();
    const id = this.ctx.conn.send({ type: "user_answer", answer: text, question_id: this.ctx.question()?.question_id,
      metrics: this.clientMetrics((now - from) / 1000) }, { durable: true });
    this.ids.add(id);
    this.lastMode = "typed";
    this.ctx.onEnded(now);
    setText("interviewer", "");
    this.setMode("processing", "Sending your answer…");
  }

  transcript(msg) {
    const coach = this.ctx.coach;
    const box = $("partial");
    if (msg.type === "transcript_partial") {
      coach.partials.push(msg.text);
      if (this.mode !== "recording" && this.mode !== "processing") return;
      box.textContent = msg.text;
      this.nudges.onTranscript(msg.text);
    } else {
      coach.finals.push(msg.text);
      box.textContent = msg.text;
    }
  }

  headPose(msg) {
    if (this.mode === "recording" || (this.mode === "ready" && this.typingFrom !== null)) {
      this.gaze.push(msg.face_detected && msg.looking_at_camera ? 1 : 0);
      this.nudges.onHeadPose(msg);
    }
  }

  answered() {
    this.ids.clear();
    this.showTurn(null);
    this.setMode("answered", "");
  }

  failed(msg) {
    const mine = msg.reply_to && this.ids.has(msg.reply_to);
    if (!mine && !(msg.code === "unexpected_binary" && this.mode === "recording")) return;
    this.cancel();
    this.setMode("ready", "");
  }

  cancel() {
    this.nudges.stop();
    this.streaming = false;
    this.ctx.player.muted = false;
    if (this.mode === "recording" || this.mode === "starting") this.recorder.stop();
    this.mode = "idle";
  }

  connectionLost() {
    if (this.mode === "recording" || this.mode === "starting") {
      this.cancel();
      this.ctx.alertUser("The connection dropped during your answer. Please answer again once reconnected.");
      this.setMode("ready");
    } else if (this.mode === "processing" && this.lastMode === "voice") {
      this.lostWhileProcessing = true;
    }
  }

  afterResume() {
    if (!this.lostWhileProcessing) return;
    this.lostWhileProcessing = false;
    // Replayed replies arrive right after session_resumed; if none finished the answer, it was lost.
    setTimeout(() => {
      if (this.mode === "processing") {
        this.ctx.alertUser("Your spoken answer did not reach us before the connection dropped. Please answer again.");
        this.setMode("ready");
      }
    }, 2000);
  }
}
