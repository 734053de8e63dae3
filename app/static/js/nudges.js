// Live nudges while a treatment-group candidate answers by voice, from what the browser already
// has: the live transcript (words so far), the microphone level (which 100 ms frames carry
// voice) and head_pose (eye contact). Pace is words per minute of *voiced* time, so a pause
// to think never reads as slow speech. Deliberately sparse: one nudge at a time, shown for a
// while, and the same kind not again within a cool-down, so it helps rather than distracts.

const FILLERS = new Set(["um", "uh", "uhm", "umm", "erm", "er", "ah", "hmm", "like", "basically", "literally"]);
const FILLER_PAIRS = new Set(["you know", "i mean", "sort of", "kind of"]);

export const NUDGE_RULES = {
  windowMs: 15000,      // pace is measured over the last 15 s of transcript growth
  minVoicedMs: 6000,    // ... once it holds at least 6 s of voice
  fastWpm: 180,
  slowWpm: 90,
  minWords: 10,         // words in the window before pace is judged
  frameMs: 100,         // one level reading per capture frame
  voiceLevel: 0.015,    // RMS above this (and 3x the noise floor) is voice
  fillerWindowWords: 25,
  fillerCluster: 3,     // this many fillers within the last 25 words
  gazeWindowMs: 6000,
  gazeMin: 0.4,         // share of readings looking at the camera
  showMs: 6000,
  coolDownMs: 20000,
};

export const NUDGE_TEXT = {
  pace_fast: "You're speaking quickly — take a breath and slow down a little.",
  pace_slow: "Good, steady — you can pick up the pace a little.",
  fillers: "Fillers are piling up — a short silent pause works better than “um”.",
  eye_contact: "Try to look into the camera now and then.",
};

export function tokens(text) {
  return (text.toLowerCase().match(/[a-z']+/g) || []);
}

export function countFillers(words) {
  let n = 0;
  for (let i = 0; i < words.length; i++) {
    if (FILLERS.has(words[i])) n += 1;
    else if (i + 1 < words.length && FILLER_PAIRS.has(`${words[i]} ${words[i + 1]}`)) { n += 1; i += 1; }
  }
  return n;
}

export class LiveNudges {
  constructor(show, rules = NUDGE_RULES) {
    this.show = show;            // (kind | null, text | null) -> void
    this.rules = rules;
    this.reset();
  }

  reset() {
    this.history = [];           // [t, wordCount, voicedMs so far]
    this.voicedMs = 0;
    this.floor = this.rules.voiceLevel / 3; // noise floor: follows quiet frames down at once, rises slowly
    this.gaze = [];              // [t, looking]
    this.lastShown = new Map();  // kind -> t
    this.current = null;
    this.shownAt = 0;
    this.active = false;
    this.counts = {};
  }

  start(now = performance.now()) { this.reset(); this.active = true; this.startedAt = now; }
  stop() { this.active = false; this.show(null, null); }

  /** The RMS level of one capture frame (0..1). */
  onLevel(level) {
    if (!this.active) return;
    this.floor = Math.min(level, this.floor * 1.002 + 1e-6); // doubles in ~35 s of no quiet frame
    if (level > Math.max(this.rules.voiceLevel, 3 * this.floor)) this.voicedMs += this.rules.frameMs;
  }

  onTranscript(text, now = performance.now()) {
    if (!this.active) return;
    const words = tokens(text);
    this.history.push([now, words.length, this.voicedMs]);
    const r = this.rules;
    while (this.history.length > 1 && now - this.history[1][0] >= r.windowMs) this.history.shift();
    const [, n0, v0] = this.history[0];
    const voiced = this.voicedMs - v0;
    const added = words.length - n0;
    if (voiced >= r.minVoicedMs && added >= r.minWords) {
      const wpm = added / (voiced / 60000);
      if (wpm > r.fastWpm) this.raise("pace_fast", now);
      else if (wpm < r.slowWpm) this.raise("pace_slow", now);
    }
    const recent = words.slice(-r.fillerWindowWords);
    if (countFillers(recent) >= r.fillerCluster) this.raise("fillers", now);
    this.expire(now);
  }

  onHeadPose(pose, now = performance.now()) {
    if (!this.active || !pose.face_detected) return;
    this.gaze.push([now, pose.looking_at_camera ? 1 : 0]);
    while (this.gaze.length && now - this.gaze[0][0] > this.rules.gazeWindowMs) this.gaze.shift();
    const enough = this.gaze.length >= 6 && now - this.startedAt > this.rules.gazeWindowMs;
    if (enough) {
      const share = this.gaze.reduce((a, [, v]) => a + v, 0) / this.gaze.length;
      if (share < this.rules.gazeMin) this.raise("eye_contact", now);
    }
    this.expire(now);
  }

  raise(kind, now) {
    const last = this.lastShown.get(kind);
    if (last !== undefined && now - last < this.rules.coolDownMs) return;
    if (this.current && now - this.shownAt < this.rules.showMs) return; // one at a time
    this.current = kind;
    this.shownAt = now;
    this.lastShown.set(kind, now);
    this.counts[kind] = (this.counts[kind] || 0) + 1;
    this.show(kind, NUDGE_TEXT[kind]);
  }

  expire(now) {
    if (this.current && now - this.shownAt >= this.rules.showMs) {
      this.current = null;
      this.show(null, null);
    }
  }
}
