// AudioWorklet: microphone samples (the context's rate, e.g. 48 kHz) -> 16 kHz mono PCM16 frames.
//
// Down-sampling is a windowed-sinc low-pass (cut-off at 0.45 x the target rate, Blackman window,
// 16 zero crossings a side) evaluated at each output sample's exact position in the input, so it is
// right for any rate ratio, integer or not. The box filter it replaces (averaging the 3 input samples
// of each output sample at 48 kHz) let 8-16 kHz fricative energy alias into the speech band: "ask not"
// came out as "as not". Frames of `frameMs` are posted to the page as transferable ArrayBuffers
// together with an RMS level for the meter. `SincResampler` is plain JavaScript, so it is also
// checked outside the browser (tests/e2e/test_resampler.py runs it in Node).

const TABLE_RES = 128; // kernel samples per input sample; linear interpolation in between
const ZERO_CROSSINGS = 16;

class SincResampler {
  constructor(inputRate, outputRate) {
    this.ratio = inputRate / outputRate; // input samples per output sample
    this.passthrough = this.ratio <= 1;
    const cutoff = (0.45 * outputRate) / inputRate; // cycles per input sample
    this.half = Math.ceil(ZERO_CROSSINGS / (2 * cutoff)); // kernel half-width, input samples
    this.table = new Float32Array(this.half * TABLE_RES + 2);
    for (let i = 0; i < this.table.length; i++) {
      const d = i / TABLE_RES;
      if (d > this.half) break;
      const x = 2 * cutoff * d;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w = 0.42 + 0.5 * Math.cos((Math.PI * d) / this.half) + 0.08 * Math.cos((2 * Math.PI * d) / this.half);
      this.table[i] = 2 * cutoff * sinc * w;
    }
    this.size = 1 << 16; // ring buffer of input samples (>> 2 x half)
    this.mask = this.size - 1;
    this.buffer = new Float32Array(this.size);
    this.written = 0; // input samples seen
    this.next = 0; // input-time position of the next output sample
  }

  at(t) {
    const lo = Math.max(0, Math.ceil(t - this.half));
    const hi = Math.min(this.written - 1, Math.floor(t + this.half));
    let sum = 0;
    for (let k = lo; k <= hi; k++) {
      const p = Math.abs(t - k) * TABLE_RES;
      const i = p | 0;
      const h = this.table[i] + (this.table[i + 1] - this.table[i]) * (p - i);
      sum += this.buffer[k & this.mask] * h;
    }
    return sum;
  }

  /** Adds one input sample; calls `emit` for every output sample it completes. */
  push(x, emit) {
    if (this.passthrough) { emit(x); return; }
    this.buffer[this.written & this.mask] = x;
    this.written += 1;
    while (this.next + this.half < this.written) {
      emit(this.at(this.next));
      this.next += this.ratio;
    }
  }

  /** The end of the input: the output samples still waiting for their right-hand context. */
  flush(emit) {
    if (this.passthrough) return;
    while (this.next < this.written) {
      emit(this.at(this.next));
      this.next += this.ratio;
    }
  }
}

if (typeof registerProcessor === "function") {
  class Pcm16Capture extends AudioWorkletProcessor {
    constructor(options) {
      super();
      const opts = options.processorOptions || {};
      const targetRate = opts.targetRate || 16000;
      this.resampler = new SincResampler(sampleRate, targetRate);
      this.frameLength = Math.round((targetRate * (opts.frameMs || 100)) / 1000);
      this.frame = new Int16Array(this.frameLength);
      this.filled = 0;
      this.sumSquares = 0;
      this.emit = (value) => this.push(value);
      this.port.onmessage = (ev) => {
        if (ev.data && ev.data.flush) {
          this.resampler.flush(this.emit);
          this.post(true);
          this.port.postMessage({ flushed: true });
        }
      };
    }

    post(partial) {
      if (this.filled === 0) return;
      const length = partial ? this.filled : this.frameLength;
      const pcm = this.frame.slice(0, length).buffer;
      const level = Math.sqrt(this.sumSquares / length);
      this.port.postMessage({ pcm, level }, [pcm]);
      this.filled = 0;
      this.sumSquares = 0;
    }

    push(value) {
      const clipped = Math.max(-1, Math.min(1, value));
      this.frame[this.filled++] = clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff;
      this.sumSquares += clipped * clipped;
      if (this.filled === this.frameLength) this.post(false);
    }

    process(inputs) {
      const input = inputs[0];
      if (!input || input.length === 0) return true;
      const channels = input.length;
      const n = input[0].length;
      for (let i = 0; i < n; i++) {
        let x = 0;
        for (let c = 0; c < channels; c++) x += input[c][i];
        this.resampler.push(x / channels, this.emit);
      }
      return true;
    }
  }

  registerProcessor("pcm16-capture", Pcm16Capture);
} else if (typeof module === "object") {
  module.exports = { SincResampler };
}
