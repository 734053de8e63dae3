// The WebSocket to /ws/interview: ids, seq bookkeeping, reconnect + resume_session, resend.
//
// Durable server messages carry a strictly increasing `seq`; we remember the highest one
// (in sessionStorage, with the session id and resume token) so a reconnect asks only for
// what we missed, and a message seen twice is dropped. Requests that change the session
// (answers, check-ins, ...) stay "pending" until a reply names their id; after a resume
// they are sent again with the same id, which the server answers idempotently.

const STORE_KEY = "interview-coach.session";
const BACKOFF_MS = [300, 1000, 2000, 4000, 8000];

export function loadStored() {
  try { return JSON.parse(sessionStorage.getItem(STORE_KEY) || "null"); } catch { return null; }
}

export class Connection extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.stored = loadStored();          // {session_id, resume_token, last_seq}
    this.pending = new Map();            // id -> message, waiting for a reply
    this.counter = 0;
    this.prefix = Math.random().toString(36).slice(2, 8);
    this.attempt = 0;
    this.closedByUs = false;
    this.downSince = null;
    this.reconnects = 0;
    this.bound = false;                  // the socket has started or resumed a session
  }

  get sessionId() { return this.stored?.session_id ?? null; }
  get lastSeq() { return this.stored?.last_seq ?? 0; }
  get open() { return this.ws?.readyState === WebSocket.OPEN; }

  nextId(kind) { return `${kind}-${this.prefix}-${++this.counter}`; }

  connect() {
    this.closedByUs = false;
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.bound = false;
    ws.onopen = () => {
      this.attempt = 0;
      this.emit("state", { state: "open" });
      if (this.stored) {
        ws.send(JSON.stringify({ type: "resume_session", id: this.nextId("resume"), ...this.resumeFields() }));
      } else {
        this.flushPending();
      }
    };
    ws.onmessage = (ev) => this.onMessage(ev);
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.bound = false;
      this.emit("state", { state: "closed", code: ev.code });
      if (!this.closedByUs) this.scheduleReconnect();
    };
    ws.onerror = () => this.emit("state", { state: "error" });
  }

  resumeFields() {
    return { session_id: this.stored.session_id, resume_token: this.stored.resume_token, last_seq: this.lastSeq,
      turn_detection: this.turnDetection || "manual" };
  }

  scheduleReconnect() {
    if (this.downSince === null) this.downSince = performance.now();
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.emit("state", { state: "reconnecting", delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Close as if the network dropped (tests, and the "drop" debug hook). */
  drop() { this.ws?.close(4000, "dropped by client"); }

  close() {
    this.closedByUs = true;
    clearTimeout(this.timer);
    this.ws?.close(1000, "bye");
  }

  forget() {
    this.stored = null;
    this.pending.clear();
    sessionStorage.removeItem(STORE_KEY);
  }

  persist() { sessionStorage.setItem(STORE_KEY, JSON.stringify(this.stored)); }

  /** Send a JSON message; `durable` ones are resent after a reconnect until answered. */
  send(message, { durable = false } = {}) {
    if (!message.id) message.id = this.nextId(message.type);
    if (durable) this.pending.set(message.id, message);
    const ready = this.open && (this.bound || message.type === "start_session" || message.type === "resume_session");
    if (ready) this.ws.send(JSON.stringify(message));
    return message.id;
  }

  /** Send now or never (frames, audio): stale media is worth nothing after a reconnect. */
  sendNow(message) {
    if (!this.open || !this.bound) return false;
    this.ws.send(typeof message === "string" || message instanceof ArrayBuffer ? message : JSON.stringify(message));
    return true;
  }

  get buffered() { return this.ws?.bufferedAmount ?? 0; }

  flushPending() {
    for (const message of this.pending.values()) {
      if (message.type === "start_session" || this.bound) this.ws.send(JSON.stringify(message));
    }
  }

  onMessage(ev) {
    if (typeof ev.data !== "string") return;
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (msg.reply_to) this.pending.delete(msg.reply_to);
    if (msg.type === "session_started") {
      this.stored = { session_id: msg.session_id, resume_token: msg.resume_token, last_seq: msg.seq ?? 0 };
      this.persist();
      this.bound = true;
      this.flushPending();
    } else if (msg.type === "session_resumed") {
      this.bound = true;
      if (this.downSince !== null) {
        this.reconnects += 1;
        this.emit("reconnected", { downMs: performance.now() - this.downSince, reconnects: this.reconnects });
        this.downSince = null;
      }
      this.flushPending();
    } else if (msg.type === "error" && msg.code === "invalid_resume_token") {
      this.emit("resume_failed", msg);
    }
    if (typeof msg.seq === "number") {
      if (this.stored && msg.seq <= this.stored.last_seq && msg.type !== "session_started") return; // seen already
      if (this.stored) { this.stored.last_seq = msg.seq; this.persist(); }
    }
    this.emit("message", msg);
  }

  emit(name, detail) { this.dispatchEvent(new CustomEvent(name, { detail })); }
}
