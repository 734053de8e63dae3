// Sound in and out with standard Web Audio: the interviewer's voice (speech_audio chunks,
// mono PCM16 at the server's rate) played gap-free in order, and the microphone turned into
// 16 kHz mono PCM16 frames by an AudioWorklet (pcm-worklet.js).

export const CAPTURE_RATE = 16000;

let sharedContext = null;

/** One AudioContext for the page; browsers only let it run after a user gesture. */
export function audioContext() {
  if (!sharedContext) sharedContext = new AudioContext({ latencyHint: "interactive" });
  if (sharedContext.state === "suspended") sharedContext.resume().catch(() => {});
  return sharedContext;
}

export function base64ToBytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Mono PCM16 little-endian (optionally inside a RIFF/WAVE header) -> Float32 samples + rate. */
export function decodePcm16(bytes, sampleRate) {
  let view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  let length = bytes.byteLength;
  if (length >= 44 && view.getUint32(0, false) === 0x52494646) { // "RIFF": a WAV chunk
    let p = 12;
    while (p + 8 <= length) {
      const id = view.getUint32(p, false);
      const size = view.getUint32(p + 4, true);
      if (id === 0x666d7420) sampleRate = view.getUint32(p + 12, true); // "fmt "
      if (id === 0x64617461) { offset = p + 8; length = Math.min(size, length - offset); break; } // "data"
      p += 8 + size + (size & 1);
    }
  }
  const n = Math.floor(length / 2);
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) samples[i] = view.getInt16(offset + 2 * i, true) / 32768;
  return { samples, sampleRate };
}

/**
 * Plays speech chunks in order of (message seq, chunk index), back to back.
 * Calls onStart(seq, startsAtPerfMs) when a message's first chunk is scheduled to sound.
 */
export class SpeechPlayer {
  constructor({ onStart, onEnd } = {}) {
    this.onStart = onStart || (() => {});
    this.onEnd = onEnd || (() => {});
    this.nextTime = 0;
    this.sources = new Set();
    this.waiting = new Map();   // seq -> {next: chunk index expected, chunks: Map(index -> msg)}
    this.recent = new Map();    // seq -> [AudioBuffer] for "hear again"
    this.muted = false;
    this.stats = { chunksReceived: 0, chunksScheduled: 0, chunksEnded: 0, messagesStarted: 0, secondsPlayed: 0 };
  }

  push(msg) {
    this.stats.chunksReceived += 1;
    // Provisional speech (spoken while the reply is written) has no seq yet: one key per reply.
    const key = msg.reply_to_seq ?? (msg.provisional ? `p:${msg.reply_to}` : -1);
    let entry = this.waiting.get(key);
    if (!entry) {
      // Provisional speech may end without a `last` chunk: an earlier reply's entry is dropped here.
      if (msg.provisional) for (const k of this.waiting.keys()) if (String(k).startsWith("p:")) this.waiting.delete(k);
      entry = { next: 0, chunks: new Map() };
      this.waiting.set(key, entry);
    }
    entry.chunks.set(msg.chunk_index, msg);
    while (entry.chunks.has(entry.next)) {
      const chunk = entry.chunks.get(entry.next);
      entry.chunks.delete(entry.next);
      this.play(key, chunk);
      entry.next += 1;
      if (chunk.last) { this.waiting.delete(key); break; }
    }
  }

  play(seq, chunk) {
    const { samples, sampleRate } = decodePcm16(base64ToBytes(chunk.audio), chunk.sample_rate);
    if (!samples.length) return;
    const ctx = audioContext();
    const buffer = ctx.createBuffer(1, samples.length, sampleRate);
    buffer.copyToChannel(samples, 0);
    const list = this.recent.get(seq) || [];
    list.push(buffer);
    this.recent.set(seq, list);
    while (this.recent.size > 4) this.recent.delete(this.recent.keys().next().value);
    if (this.muted) return;
    const startsAt = this.schedule(buffer);
    if (chunk.chunk_index === 0) {
      this.stats.messagesStarted += 1;
      this.onStart(seq, performance.now() + Math.max(0, startsAt - ctx.currentTime) * 1000);
    }
  }

  schedule(buffer) {
    const ctx = audioContext();
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(ctx.destination);
    const startsAt = Math.max(ctx.currentTime + 0.03, this.nextTime);
    source.start(startsAt);
    this.nextTime = startsAt + buffer.duration;
    this.stats.chunksScheduled += 1;
    this.sources.add(source);
    source.onended = () => {
      this.sources.delete(source);
      this.stats.chunksEnded += 1;
      this.stats.secondsPlayed += buffer.duration;
      if (!this.sources.size) this.onEnd();
    };
    return startsAt;
  }

  /** Play a message's audio again (e.g. the current question). */
  replay(seq) {
    this.stop();
    for (const buffer of this.recent.get(seq) || []) this.schedule(buffer);
    return this.recent.has(seq);
  }

  get playing() { return this.sources.size > 0; }

  stop() {
    for (const s of this.sources) { try { s.stop(); } catch { /* already stopped */ } }
    this.sources.clear();
    this.nextTime = 0;
  }
}

/**
 * The microphone while answering: getUserMedia -> AudioWorklet -> PCM16 frames (ArrayBuffer).
 * The microphone is opened per answer and released after it, so it is only on while answering.
 */
export class MicRecorder {
  constructor({ onFrame, onLevel, processing = {} }) {
    this.processing = processing; // getUserMedia audio constraints (echo cancellation, ...)
    this.onFrame = onFrame;
    this.onLevel = onLevel || (() => {});
    this.stream = null;
    this.node = null;
    this.source = null;
    this.samples = 0;
  }

  async start() {
    const ctx = audioContext();
    if (!MicRecorder.moduleLoaded) {
      await ctx.audioWorklet.addModule("/static/pcm-worklet.js");
      MicRecorder.moduleLoaded = true;
    }
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, ...this.processing },
    });
    this.samples = 0;
    this.source = ctx.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(ctx, "pcm16-capture", {
      numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
      processorOptions: { targetRate: CAPTURE_RATE, frameMs: 100 },
    });
    // A silent path to the speakers keeps the node pulled by the audio graph in every browser.
    this.sink = ctx.createGain();
    this.sink.gain.value = 0;
    this.node.connect(this.sink).connect(ctx.destination);
    this.node.port.onmessage = (ev) => {
      const { pcm, level } = ev.data;
      this.samples += pcm.byteLength / 2;
      this.onLevel(level);
      this.onFrame(pcm);
    };
    this.source.connect(this.node);
  }

  get seconds() { return this.samples / CAPTURE_RATE; }

  /** Stop capturing; resolves after the worklet handed over what it still held. */
  async stop() {
    if (!this.node) return;
    const node = this.node;
    const flushed = new Promise((resolve) => {
      const previous = node.port.onmessage;
      node.port.onmessage = (ev) => { if (ev.data.flushed) resolve(); else previous(ev); };
      setTimeout(resolve, 300);
    });
    node.port.postMessage({ flush: true });
    await flushed;
    this.source?.disconnect();
    node.disconnect();
    this.sink?.disconnect();
    node.port.onmessage = null;
    this.node = null;
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.stream = null;
  }
}
MicRecorder.moduleLoaded = false;
