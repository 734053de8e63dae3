// Webcam: a local preview, and small JPEG frames at a modest rate for the head-pose engine.

export class Camera {
  constructor(video, { fps = 3, width = 320, quality = 0.7, onFrame }) {
    this.video = video;
    this.interval = 1000 / fps;
    this.width = width;
    this.quality = quality;
    this.onFrame = onFrame;        // (dataUrl, t) -> bool (sent?)
    this.stream = null;
    this.timer = null;
    this.busy = false;
    this.canvas = document.createElement("canvas");
    this.sent = 0;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" }, audio: false,
    });
    this.video.srcObject = this.stream;
    await this.video.play().catch(() => {});
    this.timer = setInterval(() => this.capture(), this.interval);
  }

  get active() { return this.stream !== null; }

  capture() {
    const v = this.video;
    if (this.busy || !v.videoWidth || document.hidden) return;
    const scale = this.width / v.videoWidth;
    this.canvas.width = this.width;
    this.canvas.height = Math.round(v.videoHeight * scale);
    this.canvas.getContext("2d").drawImage(v, 0, 0, this.canvas.width, this.canvas.height);
    this.busy = true;
    const t = performance.now();
    this.canvas.toBlob((blob) => {
      if (!blob) { this.busy = false; return; }
      const reader = new FileReader();
      reader.onload = () => {
        this.busy = false;
        if (this.onFrame(reader.result, t)) this.sent += 1;
      };
      reader.onerror = () => { this.busy = false; };
      reader.readAsDataURL(blob);
    }, "image/jpeg", this.quality);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
  }
}
