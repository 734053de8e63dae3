// AudioWorklet: microphone samples (the context's rate, e.g. 48 kHz) -> 16 kHz mono PCM16 frames.
//
// Down-sampling averages the input samples falling into each output sample's interval
// (a box filter: cheap, no aliasing of the strong low-frequency speech energy, and exact for
// any rate ratio, integer or not). Frames of `frameMs` are posted to the page as transferable
// ArrayBuffers together with an RMS level for the meter.

class Pcm16Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = options.processorOptions || {};
    this.targetRate = opts.targetRate || 16000;
    this.step = this.targetRate / sampleRate; // output samples per input sample (<= 1)
    this.frameLength = Math.round(this.targetRate * (opts.frameMs || 100) / 1000);
    this.frame = new Int16Array(this.frameLength);
    this.filled = 0;
    this.acc = 0;
    this.accN = 0;
    this.pos = 0;
    this.sumSquares = 0;
    this.port.onmessage = (ev) => {
      if (ev.data && ev.data.flush) {
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
      x /= channels;
      if (this.step >= 1) { this.push(x); continue; } // context already at (or below) 16 kHz
      this.acc += x;
      this.accN += 1;
      this.pos += this.step;
      if (this.pos >= 1) {
        this.pos -= 1;
        this.push(this.acc / this.accN);
        this.acc = 0;
        this.accN = 0;
      }
    }
    return true;
  }
}

registerProcessor("pcm16-capture", Pcm16Capture);
