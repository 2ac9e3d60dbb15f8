// nmframe-port: messages of any size between an extension and a native-messaging host,
// over the browser's own runtime.Port, with nmframe's chunked envelope (version 2,
// docs/CHUNKING.md in the nmframe repository). No dependencies; works in Chromium's MV3
// service workers, in Firefox background scripts and in Node (for tests).

export const KEY = '$nmframe';
/** The envelope's version: `ack` and `refuse` name the recipient's messages, `abort` the sender's. */
export const VERSION = 2;
/** The largest frame a host may send the browser, in bytes. */
export const HOST_FRAME_LIMIT = 1048576;

const MiB = 1 << 20;

/**
 * Why a message did not arrive or could not be sent. `code` is one of 'too-large',
 * 'too-many', 'capacity', 'timeout', 'malformed', 'version', 'out-of-order', 'length',
 * 'checksum', 'aborted', 'refused', 'disconnected', 'request-timeout'; `id` is the
 * transfer's id when there is one (the sender's numbering).
 */
export class TransferError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = 'TransferError';
    this.code = code;
    Object.assign(this, details);
  }
}

// CRC-32 with the IEEE polynomial (zlib's), eight bytes per step (slicing-by-8).
const CRC = (() => {
  const t = new Uint32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  }
  return t;
})();

/** CRC-32 (IEEE) of `bytes`, continuing from `crc` (0 to start). */
export function crc32(bytes, crc = 0) {
  let c = ~crc;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; i < end8; i += 8) {
    const a = (c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    c =
      CRC[7 * 256 + (a & 0xff)] ^
      CRC[6 * 256 + ((a >>> 8) & 0xff)] ^
      CRC[5 * 256 + ((a >>> 16) & 0xff)] ^
      CRC[4 * 256 + (a >>> 24)] ^
      CRC[3 * 256 + bytes[i + 4]] ^
      CRC[2 * 256 + bytes[i + 5]] ^
      CRC[256 + bytes[i + 6]] ^
      CRC[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = CRC[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const encoder = new TextEncoder();

const isHigh = (code) => code >= 0xd800 && code <= 0xdbff;
const isLow = (code) => code >= 0xdc00 && code <= 0xdfff;

/**
 * The length in bytes of `text` as UTF-8, as `TextEncoder` writes it (a surrogate without
 * its other half becomes U+FFFD, three bytes), without encoding it.
 */
export function utf8Length(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) n += 1;
    else if (code < 0x800) n += 2;
    else if (isHigh(code) && isLow(text.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

// UTF-8 length and running CRC of strings, through one reused buffer.
class Utf8Meter {
  constructor() {
    this.buffer = new Uint8Array(64 * 1024);
    this.bytes = 0;
    this.crc = 0;
  }

  add(text) {
    if (this.buffer.length < text.length * 3) this.buffer = new Uint8Array(text.length * 3);
    const { written } = encoder.encodeInto(text, this.buffer);
    this.crc = crc32(this.buffer.subarray(0, written), this.crc);
    this.bytes += written;
    return written;
  }
}

// What the character at `i` costs inside a JSON string as JSON.stringify writes it, which
// is what both browsers deliver (Chromium 156 and Firefox ESR 140 were checked byte for
// byte): control characters escaped (six bytes, two for \b \t \n \f \r), `"` and `\`
// two, a surrogate pair four (counted on its first half), a lone surrogate six.
function escapedCost(text, i) {
  const code = text.charCodeAt(i);
  if (code < 0x20) return code === 8 || code === 9 || code === 10 || code === 12 || code === 13 ? 2 : 6;
  if (code === 0x22 || code === 0x5c) return 2;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (isHigh(code)) return isLow(text.charCodeAt(i + 1)) ? 4 : 6;
  if (isLow(code)) return isHigh(text.charCodeAt(i - 1)) ? 0 : 6;
  return 3;
}

/**
 * Cuts `text` into pieces whose escaped size is at most `budget` bytes, never between
 * the two halves of a surrogate pair (so never inside a UTF-8 sequence).
 */
export function* pieces(text, budget) {
  if (budget < 8) throw new RangeError(`a part budget of ${budget} bytes is too small`);
  let start = 0;
  let cost = 0;
  for (let i = 0; i < text.length; i++) {
    const c = escapedCost(text, i);
    const secondHalf = isLow(text.charCodeAt(i)) && isHigh(text.charCodeAt(i - 1));
    if (cost + c > budget && i > start && !secondHalf) {
      yield text.slice(start, i);
      start = i;
      cost = 0;
    }
    cost += c;
  }
  if (start < text.length || text.length === 0) yield text.slice(start);
}

/** Whether `msg` is an envelope frame: an object whose first member is "$nmframe". */
export function isEnvelope(msg) {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return false;
  for (const key in msg) return key === KEY;
  return false;
}

const isId = (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function listeners() {
  const set = new Set();
  return {
    addListener: (fn) => set.add(fn),
    removeListener: (fn) => set.delete(fn),
    hasListener: (fn) => set.has(fn),
    emit: (...args) => {
      for (const fn of [...set]) fn(...args);
    },
  };
}

/** The options and their defaults (README.md explains each). */
export const DEFAULTS = Object.freeze({
  maxBytes: 256 * MiB,
  maxInFlight: 16,
  maxBuffered: 512 * MiB,
  partTimeoutMs: 30000,
  ackTimeoutMs: 30000,
  partBytes: MiB,
  maxPlainBytes: MiB,
  window: 8,
  idKey: 'id',
  requestTimeoutMs: 60000,
  peer: 'host',
});

/**
 * A runtime.Port that sends and receives messages of any size as one value each.
 * `options`: maxBytes, maxInFlight, maxBuffered, partTimeoutMs (receiving); partBytes,
 * maxPlainBytes, window, ackTimeoutMs (sending); idKey, requestTimeoutMs
 * (request/response); peer, what the errors call the other end ('host' here,
 * 'extension' in a host built on js/nmframe-host).
 */
export class NativePort {
  constructor(port, options = {}) {
    this.port = port;
    this.options = { ...DEFAULTS, ...options };
    this.onMessage = listeners();
    this.onProgress = listeners();
    this.onError = listeners();
    this.onDisconnect = listeners();
    this.closed = null;
    this.incoming = new Map(); // id -> reassembly (the host's numbering)
    this.buffered = 0; // bytes the reassemblies hold together
    this.dropped = new Set(); // ids refused: their remaining frames are ignored
    this.outgoing = new Map(); // id -> { acked, wake, failed } (this side's numbering)
    this.requests = new Map(); // request id -> { resolve, reject, timer }
    this.nextId = 0;
    this.nextRequest = 1;
    this.sweeper = null;
    port.onMessage.addListener((msg) => this.#receive(msg));
    port.onDisconnect.addListener((p) => this.#disconnected(p));
  }

  /**
   * Sends `value` whatever its size; resolves once every frame is handed to the port. A
   * message of at most `maxPlainBytes` (1 MiB) goes as it is, a larger one in parts.
   */
  async post(value) {
    if (this.closed !== null) throw new TransferError('disconnected', `the port is closed: ${this.closed}`);
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('the value has no JSON form');
    const max = this.options.maxPlainBytes;
    // A character is at most three bytes of UTF-8: most messages are decided by length.
    const plain = !isEnvelope(value) && (text.length * 3 <= max || (text.length <= max && utf8Length(text) <= max));
    if (plain) {
      this.port.postMessage(value);
      return;
    }
    await this.#sendParts(text);
  }

  /**
   * Sends `message` (an object) and resolves with the first message that comes back
   * carrying the same id under `idKey`. The id is the one the message has, or a fresh one
   * when it has none.
   */
  request(message, { timeoutMs = this.options.requestTimeoutMs } = {}) {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      return Promise.reject(new TypeError('a request is an object'));
    }
    const key = this.options.idKey;
    let rid = message[key];
    if (rid === undefined) {
      do rid = this.nextRequest++;
      while (this.requests.has(rid));
      message = { ...message, [key]: rid };
    } else if (this.requests.has(rid)) {
      return Promise.reject(new TypeError(`a request with ${key} ${JSON.stringify(rid)} is already waiting for its reply`));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(rid);
        reject(new TransferError('request-timeout', `no reply to request ${JSON.stringify(rid)} within ${timeoutMs} ms`, { request: rid }));
      }, timeoutMs);
      this.requests.set(rid, { resolve, reject, timer });
      this.post(message).catch((err) => {
        clearTimeout(timer);
        this.requests.delete(rid);
        reject(err);
      });
    });
  }

  disconnect() {
    if (this.closed === null) this.port.disconnect();
    this.#disconnected(null, 'disconnected by the extension');
  }

  async #sendParts(text) {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    const { window, ackTimeoutMs, partBytes } = this.options;
    const total = utf8Length(text);
    const meter = new Utf8Meter();
    const state = { acked: -1, wake: null, failed: null };
    this.outgoing.set(id, state);
    try {
      let seq = 0;
      for (const data of pieces(text, partBytes - 160)) {
        while (window && seq - state.acked > window && !state.failed) {
          const acked = state.acked;
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, ackTimeoutMs);
            state.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          state.wake = null;
          if (!state.failed && state.acked === acked && this.closed === null) {
            const reason = `message ${id}: no acknowledgement for ${ackTimeoutMs} ms after ${seq} parts (${meter.bytes} bytes sent); the limit is ${ackTimeoutMs} ms, and the message was given up`;
            this.port.postMessage({ [KEY]: VERSION, t: 'abort', id, reason });
            state.failed = new TransferError('timeout', reason, { id });
          }
        }
        if (state.failed) throw state.failed;
        if (this.closed !== null) throw new TransferError('disconnected', `the port closed while sending message ${id}`, { id });
        meter.add(data);
        const part = { [KEY]: VERSION, t: 'part', id, seq };
        if (seq === 0) {
          part.total = total;
          if (window) part.window = window;
        }
        part.data = data;
        this.port.postMessage(part);
        seq++;
        this.onProgress.emit({ direction: 'out', id, bytes: meter.bytes, total, parts: seq });
      }
      this.port.postMessage({ [KEY]: VERSION, t: 'end', id, seq, bytes: meter.bytes, crc32: meter.crc });
    } finally {
      this.outgoing.delete(id);
    }
  }

  #receive(msg) {
    if (!isEnvelope(msg)) return this.#deliver(msg);
    if (msg[KEY] !== VERSION) return this.#foreign(msg);
    switch (msg.t) {
      case 'part':
        return this.#part(msg);
      case 'end':
        return this.#end(msg);
      case 'ack': {
        // Always about a message this side sends.
        const out = this.outgoing.get(msg.id);
        if (out && Number.isInteger(msg.seq) && msg.seq > out.acked) {
          out.acked = msg.seq;
          out.wake?.();
        }
        return;
      }
      case 'refuse': {
        // The host will not take a message this side sends, or has sent.
        const reason = typeof msg.reason === 'string' ? msg.reason : 'no reason given';
        const code = typeof msg.code === 'string' ? msg.code : 'no code';
        const err = new TransferError('refused', `the ${this.options.peer} refused message ${msg.id} (${code}): ${reason}`, { id: msg.id, reason: code });
        const out = this.outgoing.get(msg.id);
        if (out) {
          out.failed = err;
          out.wake?.();
        } else {
          this.onError.emit(err);
        }
        return;
      }
      case 'abort': {
        // The host gives up a message it sends: never one of this side's.
        const reason = typeof msg.reason === 'string' ? msg.reason : 'no reason given';
        const r = this.incoming.get(msg.id);
        if (r) {
          this.#drop(msg.id);
          this.onError.emit(new TransferError('aborted', `message ${msg.id} was aborted by the ${this.options.peer} after ${r.parts.length} parts: ${reason}`, { id: msg.id }));
        } else {
          this.dropped.delete(msg.id);
        }
        return;
      }
      default:
        this.onError.emit(new TransferError('malformed', `an envelope frame of unknown type ${JSON.stringify(msg.t)}`, { id: msg.id }));
    }
  }

  // An envelope frame of another version: reported once per message, and a part refused
  // so that its sender stops. Nothing else is answered, so two ends of different versions
  // cannot answer each other's answers for ever.
  #foreign(msg) {
    const { id } = msg;
    if (isId(id) && this.dropped.has(id)) {
      if (msg.t === 'end') this.dropped.delete(id);
      return;
    }
    const text = `an envelope frame of version ${JSON.stringify(msg[KEY])}; this side speaks version ${VERSION} (docs/CHUNKING.md): both ends need the same version of nmframe's envelope`;
    if (msg.t === 'part' && isId(id)) return this.#fail(id, 'version', text);
    this.onError.emit(new TransferError('version', text, { id }));
  }

  #part(msg) {
    const { id, seq, data } = msg;
    if (!isId(id)) {
      return this.onError.emit(new TransferError('malformed', `a part without an id from 0 to 4294967295: ${JSON.stringify(id)}`));
    }
    if (!Number.isInteger(seq) || seq < 0 || typeof data !== 'string') {
      return this.#fail(id, 'malformed', `a part of message ${id} without an integer seq and a string data`);
    }
    if (seq !== 0 && this.dropped.has(id)) return;
    const now = Date.now();
    let r = this.incoming.get(id);
    if (seq === 0) {
      this.dropped.delete(id);
      if (r) return this.#fail(id, 'out-of-order', `message ${id} started again after ${r.parts.length} parts`);
      // Transfers that timed out are dropped before this one is counted.
      this.#sweep(now);
      const { maxInFlight, maxBytes } = this.options;
      if (this.incoming.size >= maxInFlight) {
        return this.#fail(id, 'too-many', `message ${id} would be the ${this.incoming.size + 1}th in flight; the limit is ${maxInFlight}`, {
          inFlight: this.incoming.size + 1,
          limit: maxInFlight,
        });
      }
      const total = Number.isInteger(msg.total) && msg.total >= 0 ? msg.total : null;
      if (total !== null && total > maxBytes) {
        return this.#fail(id, 'too-large', `message ${id} announces ${total} bytes; the limit is ${maxBytes}`, { bytes: total, limit: maxBytes });
      }
      if (total !== null && this.buffered + total > this.options.maxBuffered) return this.#noRoom(id, total);
      r = { parts: [], meter: new Utf8Meter(), total, window: Number.isInteger(msg.window) ? msg.window : 0, seen: now };
      this.incoming.set(id, r);
      this.#startSweeper();
    } else if (!r) {
      return this.#fail(id, 'out-of-order', `part ${seq} of message ${id}, which has not started`, { seq });
    } else if (seq !== r.parts.length) {
      return this.#fail(id, 'out-of-order', `part ${seq} of message ${id} arrived where part ${r.parts.length} was due`, { seq, expected: r.parts.length });
    }
    const bytes = utf8Length(data);
    if (r.meter.bytes + bytes > this.options.maxBytes) {
      return this.#fail(id, 'too-large', `message ${id} reached ${r.meter.bytes + bytes} bytes; the limit is ${this.options.maxBytes}`, {
        bytes: r.meter.bytes + bytes,
        limit: this.options.maxBytes,
      });
    }
    if (this.buffered + bytes > this.options.maxBuffered) return this.#noRoom(id, bytes);
    r.meter.add(data);
    r.parts.push(data);
    this.buffered += bytes;
    r.seen = now;
    if (r.window) {
      const step = Math.max(1, Math.floor(r.window / 2));
      if ((seq + 1) % step === 0) this.port.postMessage({ [KEY]: VERSION, t: 'ack', id, seq });
    }
    this.onProgress.emit({ direction: 'in', id, bytes: r.meter.bytes, total: r.total, parts: r.parts.length });
  }

  #noRoom(id, bytes) {
    const { maxBuffered } = this.options;
    const others = this.buffered - (this.incoming.get(id)?.meter.bytes ?? 0);
    return this.#fail(
      id,
      'capacity',
      `message ${id} needs ${bytes} more bytes; ${this.buffered} bytes are held by the messages being reassembled (${others} by others), and the limit for all together is ${maxBuffered}`,
      { bytes, limit: maxBuffered },
    );
  }

  #end(msg) {
    const { id } = msg;
    if (this.dropped.delete(id)) return;
    const r = this.incoming.get(id);
    if (!r) return this.#fail(id, 'out-of-order', `the end of message ${id}, which has not started`);
    if (msg.seq !== r.parts.length) {
      return this.#fail(id, 'length', `message ${id} ended after ${msg.seq} parts; ${r.parts.length} arrived`, { expected: msg.seq, received: r.parts.length });
    }
    if (msg.bytes !== r.meter.bytes) {
      return this.#fail(id, 'length', `message ${id} announced ${msg.bytes} bytes; ${r.meter.bytes} arrived`, { expected: msg.bytes, received: r.meter.bytes });
    }
    if (msg.crc32 !== r.meter.crc) {
      return this.#fail(id, 'checksum', `message ${id}: CRC-32 ${r.meter.crc} of the ${r.meter.bytes} bytes that arrived, ${msg.crc32} announced`, {
        expected: msg.crc32,
        received: r.meter.crc,
      });
    }
    let value;
    try {
      value = JSON.parse(r.parts.join(''));
    } catch (err) {
      return this.#fail(id, 'malformed', `message ${id} (${r.meter.bytes} bytes) is not JSON: ${err.message}`);
    }
    this.#drop(id);
    this.dropped.delete(id);
    this.#deliver(value);
  }

  #deliver(value) {
    const key = this.options.idKey;
    if (value !== null && typeof value === 'object' && this.requests.size) {
      const pending = this.requests.get(value[key]);
      if (pending) {
        this.requests.delete(value[key]);
        clearTimeout(pending.timer);
        pending.resolve(value);
        return;
      }
    }
    this.onMessage.emit(value);
  }

  // Forgets reassembly `id` and the memory it held.
  #drop(id) {
    const r = this.incoming.get(id);
    if (!r) return;
    this.buffered -= r.meter.bytes;
    this.incoming.delete(id);
  }

  // A message from the host failed: dropped, reported, and the host told (`refuse`).
  #fail(id, code, text, details = {}) {
    this.#drop(id);
    this.dropped.add(id);
    // A sender that ignores refusals must not grow this set without end.
    if (this.dropped.size > 1024) this.dropped.delete(this.dropped.values().next().value);
    if (this.closed === null) this.port.postMessage({ [KEY]: VERSION, t: 'refuse', id, code, reason: text });
    this.onError.emit(new TransferError(code, text, { id, ...details }));
  }

  #sweep(now) {
    for (const [id, r] of this.incoming) {
      if (now - r.seen > this.options.partTimeoutMs) {
        this.#fail(id, 'timeout', `message ${id}: no part for ${now - r.seen} ms after ${r.parts.length} parts (${r.meter.bytes} bytes); the limit is ${this.options.partTimeoutMs} ms`, {
          parts: r.parts.length,
          bytes: r.meter.bytes,
        });
      }
    }
  }

  #startSweeper() {
    if (this.sweeper !== null) return;
    const every = Math.max(10, Math.min(1000, this.options.partTimeoutMs / 4));
    this.sweeper = setInterval(() => {
      this.#sweep(Date.now());
      if (this.incoming.size === 0) {
        clearInterval(this.sweeper);
        this.sweeper = null;
      }
    }, every);
  }

  #disconnected(p, why) {
    if (this.closed !== null) return;
    const error = (p && p.error) || globalThis.chrome?.runtime?.lastError;
    this.closed = why ?? (error ? error.message : 'disconnected');
    for (const [id, r] of this.incoming) {
      this.onError.emit(new TransferError('disconnected', `the port closed (${this.closed}) with message ${id} incomplete: ${r.parts.length} parts, ${r.meter.bytes} bytes`, { id }));
    }
    this.incoming.clear();
    this.buffered = 0;
    for (const [id, out] of this.outgoing) {
      out.failed = new TransferError('disconnected', `the port closed (${this.closed}) while sending message ${id}`, { id });
      out.wake?.();
    }
    for (const [, pending] of this.requests) {
      clearTimeout(pending.timer);
      pending.reject(new TransferError('disconnected', `the port closed (${this.closed}) before the reply`));
    }
    this.requests.clear();
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    this.onDisconnect.emit(this.closed);
  }
}

const runtime = () => (globalThis.browser ?? globalThis.chrome).runtime;

/** `runtime.connectNative(name)`, wrapped; `options.runtime` replaces the browser's. */
export function connectNative(name, options = {}) {
  return new NativePort((options.runtime ?? runtime()).connectNative(name), options);
}

/**
 * Like runtime.sendNativeMessage, for messages and replies of any size: a host's chunked
 * reply cannot travel through sendNativeMessage itself (only the first frame arrives), so
 * this opens a port, sends, takes the first whole reply and disconnects.
 */
export function sendNativeMessage(name, message, options = {}) {
  const port = connectNative(name, options);
  const timeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new TransferError('request-timeout', `no reply from ${name} within ${timeoutMs} ms`)), timeoutMs);
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      port.disconnect();
      if (err) reject(err);
      else resolve(value);
    };
    port.onMessage.addListener((value) => finish(null, value));
    port.onError.addListener((err) => finish(err));
    port.onDisconnect.addListener((why) => finish(new TransferError('disconnected', `${name} closed the port before replying: ${why}`)));
    port.post(message).catch(finish);
  });
}
