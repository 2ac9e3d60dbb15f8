// nmframe-host: native-messaging hosts in Node.js with the browsers' exact rules.
//
// One Host per process owns stdin and stdout: it reads the browser's frames (a 32-bit
// length in the machine's byte order, then UTF-8 JSON), checks every reply against the
// 1 MiB limit before a byte of it is written, coalesces a burst of replies into one
// write, waits for the pipe instead of queueing without end, and ends when the browser
// goes away. Messages of any size travel in nmframe's chunked envelope through the
// NativePort of js/nmframe-port: one implementation for both ends of the pipe.

import { Buffer, constants as bufferConstants } from 'node:buffer';
import * as bufferModule from 'node:buffer';
import { Console } from 'node:console';
import { EventEmitter } from 'node:events';
import os from 'node:os';

import { NativePort } from '../nmframe-port/nmframe-port.js';
import { jsonInvalidAt } from './validate.js';

const MiB = 1 << 20;

/** The largest message a host may send the browser: exactly 1 MiB is accepted, one byte more is not. */
export const HOST_FRAME_LIMIT = 1048576;
/** The largest message Chromium delivers to a host (64 MiB, measured). */
export const CHROMIUM_INBOUND_LIMIT = 64 * MiB;
/** The protocol's own limit for a browser → host message: a 32-bit length. */
export const PROTOCOL_INBOUND_LIMIT = 0xffffffff;
/**
 * The largest message this Node can turn into one string (V8's string length limit,
 * about 512 MiB on 64-bit): the default inbound cap when the browser is not Chromium.
 */
export const STRING_LIMIT = Math.min(bufferConstants.MAX_STRING_LENGTH, PROTOCOL_INBOUND_LIMIT);

const LITTLE = os.endianness() === 'LE';
// Replies below this size are copied into the batch; larger byte replies are written
// from the caller's buffer (one writev with the rest of the batch).
const COPY_BELOW = 16 * 1024;

/**
 * What went wrong, with the numbers. `code` is one of:
 * - 'too-large': a reply over 1 MiB (`size`, `limit`), or a message from the browser
 *   over the inbound cap (`size`, `limit`, `offset`), skipped without being held;
 * - 'empty': an empty reply (Chromium drops it, Firefox disconnects);
 * - 'invalid-utf8' (`offset`), 'invalid-json': a message or reply that is not UTF-8 JSON;
 * - 'serialize': a value JSON.stringify cannot write (undefined, a BigInt, a cycle);
 * - 'queue-full': more than `maxQueued` bytes of replies waiting for the pipe;
 * - 'truncated-header' (`offset`, `received`), 'truncated-payload' (`offset`,
 *   `expected`, `received`): the input ended inside a frame;
 * - 'io': reading stdin or writing stdout failed for another reason than the browser
 *   going away.
 * `fatal` is true for the last three: the stream is over. The others concern one
 * message, and the host goes on.
 */
export class HostError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = 'HostError';
    this.code = code;
    this.fatal = code === 'truncated-header' || code === 'truncated-payload' || code === 'io';
    Object.assign(this, details);
  }
}

/**
 * Who started the host, from its command line (read from the end, so that a wrapper's
 * or an interpreter's own arguments come first): Chromium passes the extension's origin
 * (`chrome-extension://ID/`, on Windows then `--parent-window=N`, newer versions more
 * `--` options); Firefox the absolute path of the host manifest, then the add-on id.
 */
export function callerFrom(argv = process.argv) {
  const rest = argv.slice(1);
  const caller = { browser: 'unknown', origin: null, manifestPath: null, extensionId: null, parentWindow: null };
  for (const a of rest) {
    if (a.startsWith('--parent-window=')) {
      const n = Number(a.slice('--parent-window='.length));
      if (Number.isSafeInteger(n) && n >= 0) caller.parentWindow = n;
      break;
    }
  }
  const origin = rest.find((a) => a.startsWith('chrome-extension://'));
  if (origin !== undefined) {
    caller.browser = 'chromium';
    caller.origin = origin;
    const id = origin.slice('chrome-extension://'.length).replace(/\/+$/, '');
    caller.extensionId = id === '' ? null : id;
    return caller;
  }
  const positional = rest.filter((a) => !a.startsWith('--'));
  if (positional.length >= 2) {
    const [manifest, id] = positional.slice(-2);
    if (manifest.endsWith('.json') && isAbsolute(manifest)) {
      caller.browser = 'firefox';
      caller.manifestPath = manifest;
      caller.extensionId = id;
    }
  }
  return caller;
}

// Absolute where browsers run: `/...`, `C:\...` or `\\server\...`.
const isAbsolute = (p) => p.startsWith('/') || p.startsWith('\\\\') || /^[A-Za-z]:[\\/]/.test(p);

/** FNV-1a, 32 bits, of `bytes`: what the echo hosts give for a message they refuse. */
export function fnv1a32(bytes) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return hash >>> 0;
}

const isUtf8 =
  typeof bufferModule.isUtf8 === 'function'
    ? bufferModule.isUtf8
    : (() => {
        const strict = new TextDecoder('utf-8', { fatal: true });
        return (bytes) => {
          try {
            strict.decode(bytes);
            return true;
          } catch {
            return false;
          }
        };
      })();

// The offset of the first byte that is not well-formed UTF-8 (only on the error path).
function utf8ErrorOffset(b) {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n;
    let lo = 0x80;
    let hi = 0xbf;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return b.length;
}

// Null when `bytes` are UTF-8 JSON, else the HostError that says where they are not.
function jsonCheck(bytes) {
  if (!isUtf8(bytes)) {
    const offset = utf8ErrorOffset(bytes);
    return new HostError('invalid-utf8', `payload is not valid UTF-8 at byte ${offset}`, { offset, size: bytes.length });
  }
  const offset = jsonInvalidAt(bytes);
  if (offset < 0) return null;
  // The reason as V8 gives it (only on this path: it needs the text).
  const reason = jsonError(bytes.toString('utf8')) ?? 'not one JSON text';
  return new HostError('invalid-json', `payload is not valid JSON at byte ${offset}: ${reason}`, { offset, size: bytes.length });
}

// V8's reason why `text` is not JSON, or null when it is.
function jsonError(text) {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    return e.message;
  }
}

const RESOLVED_TRUE = Promise.resolve(true);
const RESOLVED_FALSE = Promise.resolve(false);

let taken = false;

/**
 * A native-messaging host on this process's stdin and stdout.
 *
 * Receive with `for await (const value of host)` (JSON values), `host.frames()` (each
 * payload as a Buffer, as it came) or `host.on('message', fn)`; send with `send(value)`
 * or `sendRaw(text or bytes)`, whose promises wait while more than `highWaterMark` bytes
 * wait for the pipe. A message that cannot be delivered (not JSON, over the inbound cap)
 * goes to the 'invalid' listeners, in its place among the others, or is logged on
 * stderr; the host goes on. The input ends at the browser's EOF (the iterators finish,
 * 'close' is emitted with null) or at a broken stream (the iterators throw, 'close'
 * gets the HostError).
 *
 * Options: `maxInbound` (default: 64 MiB when Chromium started the host, STRING_LIMIT
 * otherwise), `highWaterMark` (1 MiB), `maxQueued` (64 MiB), `guardStdout` (true),
 * `lingerMs` (500: how long the process may live on once the browser has gone; null
 * never ends it), `argv` (process.argv), `input` and `output` (streams to use instead of
 * stdin and stdout; then stdout is not guarded).
 */
export class Host extends EventEmitter {
  #input;
  #output;
  #maxInbound;
  #highWaterMark;
  #maxQueued;
  #lingerMs;
  #mode = null; // 'values' | 'frames' | 'events' | 'port'
  #started = false;
  // Frames (and inbound failures, as HostErrors) waiting for an iterator.
  #queue = [];
  #head = 0;
  #queuedIn = 0;
  #paused = false;
  #waiter = null;
  // The decoder: a header being read, or a payload being gathered or skipped.
  #offset = 0; // stream offset of the next byte
  #header = Buffer.alloc(4);
  #headerHave = 0;
  #frameAt = 0;
  #need = -1; // payload bytes still missing; -1 between frames
  #expected = 0;
  #pieces = null; // gathered payload pieces, or null when skipping
  // The writer: small replies copied into #batch, the rest referenced from #chunks.
  #batch = null;
  #batchStart = 0;
  #batchLen = 0;
  #chunks = [];
  #chunkBytes = 0;
  #flushing = false;
  #drainWaiters = [];
  // How the input ended: undefined while open, null at EOF or disconnect, or a HostError.
  #end = undefined;
  #endThrown = false;
  #closedResolve;
  #stdio;
  #lingering = false;

  constructor(options = {}) {
    super();
    const stdio = options.input === undefined && options.output === undefined;
    if (stdio) {
      if (taken) throw new Error('nmframe-host: this process already has a Host on stdin and stdout');
      taken = true;
    } else if (options.input === undefined || options.output === undefined) {
      throw new TypeError('nmframe-host: give both `input` and `output`, or neither (stdin and stdout)');
    }
    /** Who started the host: { browser, origin, manifestPath, extensionId, parentWindow }. */
    this.caller = callerFrom(options.argv ?? process.argv);
    this.#maxInbound = options.maxInbound ?? (this.caller.browser === 'chromium' ? CHROMIUM_INBOUND_LIMIT : STRING_LIMIT);
    this.#highWaterMark = options.highWaterMark ?? MiB;
    this.#maxQueued = Math.max(options.maxQueued ?? 64 * MiB, this.#highWaterMark + HOST_FRAME_LIMIT + 4);
    this.#lingerMs = options.lingerMs === undefined ? 500 : options.lingerMs;
    this.#stdio = stdio;
    if (stdio) {
      this.#output = process.stdout; // created on fd 1 here if nothing touched it yet
      this.#input = process.stdin;
      // The log must never kill the host: a browser that stops reading stderr gives EPIPE.
      process.stderr.on('error', () => {});
      if (options.guardStdout !== false) guardStdout();
    } else {
      this.#input = options.input;
      this.#output = options.output;
    }
    /** Resolves once the input has ended: with null at EOF or disconnect, or with the HostError that broke it. */
    this.closed = new Promise((resolve) => (this.#closedResolve = resolve));
    this.#output.on('error', (err) => this.#writeFailed(err));
    this.#output.on('drain', () => this.#drained());
  }

  /** The inbound cap in bytes: a longer message is skipped and reported as 'too-large'. */
  get maxInbound() {
    return this.#maxInbound;
  }

  /** Bytes of replies not yet taken by the pipe. */
  get queued() {
    return this.#batchLen - this.#batchStart + this.#chunkBytes + (this.#output.writableLength ?? 0);
  }

  /** The messages as JSON values. */
  [Symbol.asyncIterator]() {
    return this.#iterator('values');
  }

  /** The messages as they came: each payload a Buffer of UTF-8 JSON, unchecked. */
  frames() {
    return this.#iterator('frames');
  }

  on(event, listener) {
    if (event === 'message') this.#use('events');
    return super.on(event, listener);
  }

  addListener(event, listener) {
    return this.on(event, listener);
  }

  /**
   * Sends `value` as JSON. Resolves with true once the reply is queued and the queue is
   * under `highWaterMark` (so `await` keeps memory bounded), with false when the browser
   * has gone; rejects with a HostError, before a byte is written, when the reply is over
   * 1 MiB ('too-large', with `size`) or has no JSON form ('serialize').
   */
  send(value) {
    let text;
    try {
      text = JSON.stringify(value);
    } catch (e) {
      return Promise.reject(new HostError('serialize', `cannot serialize the message as JSON: ${e.message}`));
    }
    if (text === undefined) {
      return Promise.reject(new HostError('serialize', `cannot serialize the message as JSON: JSON.stringify gives nothing for ${typeof value === 'object' ? 'this value' : `a ${typeof value}`}`));
    }
    return this.#queueText(text);
  }

  /**
   * Sends a JSON text (a string, or its UTF-8 bytes) as it is. The size is checked
   * first, then (unless `validate` is false) that it is UTF-8 JSON; resolves and rejects
   * as send() does. Bytes of 16 KiB or more are written from the caller's buffer, not
   * copied: leave them unchanged until the promise has resolved.
   */
  sendRaw(data, { validate = true } = {}) {
    if (typeof data === 'string') {
      if (data.length === 0) return Promise.reject(emptyReply());
      if (data.length > HOST_FRAME_LIMIT) return Promise.reject(tooLarge(Buffer.byteLength(data)));
      // JSON.parse is the check for text (it is already a string); on failure the bytes
      // say where, in the same terms as for bytes.
      if (validate && jsonError(data) !== null) return Promise.reject(jsonCheck(Buffer.from(data)));
      return this.#queueText(data);
    }
    if (!(data instanceof Uint8Array)) return Promise.reject(new TypeError('sendRaw takes a string or a Uint8Array'));
    if (data.length > HOST_FRAME_LIMIT) return Promise.reject(tooLarge(data.length));
    if (data.length === 0) return Promise.reject(emptyReply());
    if (validate) {
      const err = jsonCheck(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length));
      if (err !== null) return Promise.reject(err);
    }
    return this.#queueBytes(data);
  }

  /**
   * Messages of any size: a NativePort (js/nmframe-port) over this host, speaking
   * nmframe's chunked envelope (version 2) with the extension's NativePort. It takes
   * the host's messages: use its onMessage, post() and request() instead of the host's.
   */
  chunked(options = {}) {
    this.#use('port');
    const messages = [];
    const disconnects = [];
    const adapter = {
      postMessage: (value) => {
        this.send(value).catch((err) => this.#log(`a chunked frame was not sent: ${err.message}`));
      },
      disconnect: () => this.close(),
      onMessage: { addListener: (fn) => messages.push(fn) },
      onDisconnect: { addListener: (fn) => disconnects.push(fn) },
    };
    this.#portListeners = { messages, disconnects };
    const port = new NativePort(adapter, { peer: 'extension', ...options });
    this.#start();
    return port;
  }

  #portListeners = null;

  /** Stops reading; replies already queued are still written. 'close' follows. */
  close() {
    this.#finish(null);
  }

  // ---- receiving ----

  #use(mode) {
    if (this.#mode === mode) return;
    if (this.#mode !== null) throw new Error(`nmframe-host: the messages already go to ${describeMode(this.#mode)}; a host delivers them one way`);
    this.#mode = mode;
    if (mode === 'events') process.nextTick(() => this.#start());
  }

  #start() {
    if (this.#started) return;
    this.#started = true;
    this.#input.on('data', (chunk) => this.#feed(chunk));
    this.#input.on('end', () => this.#eof());
    this.#input.on('error', (err) => {
      if (isDisconnect(err)) this.#finish(null);
      else this.#finish(new HostError('io', `reading stdin failed: ${err.message}`, { cause: err }));
    });
  }

  #iterator(mode) {
    this.#use(mode);
    this.#start();
    const next = () => {
      for (;;) {
        if (this.#head < this.#queue.length) {
          const item = this.#take();
          if (item instanceof HostError) {
            this.#invalid(item);
            continue;
          }
          if (mode === 'frames') return Promise.resolve({ value: item, done: false });
          const value = this.#parse(item);
          if (value === NOT_JSON) continue;
          return Promise.resolve({ value, done: false });
        }
        if (this.#end !== undefined) {
          if (this.#end !== null && !this.#endThrown) {
            this.#endThrown = true;
            return Promise.reject(this.#end);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve) => (this.#waiter = () => resolve(next())));
      }
    };
    return {
      next,
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  #take() {
    const item = this.#queue[this.#head];
    this.#queue[this.#head++] = undefined;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#queuedIn -= item instanceof HostError ? 0 : item.length + 64;
    if (this.#paused && this.#queuedIn <= this.#highWaterMark / 2) {
      this.#paused = false;
      if (this.#end === undefined) this.#input.resume();
    }
    return item;
  }

  #parse(bytes) {
    if (!isUtf8(bytes)) {
      this.#invalid(jsonCheck(bytes));
      return NOT_JSON;
    }
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch {
      this.#invalid(jsonCheck(bytes));
      return NOT_JSON;
    }
  }

  #invalid(err) {
    if (this.listenerCount('invalid') > 0) this.emit('invalid', err);
    else this.#log(`skipped a message: ${err.message}`);
  }

  #log(text) {
    try {
      process.stderr.write(`nmframe-host: ${text}\n`);
    } catch {
      // stderr gone: the browser no longer reads the log.
    }
  }

  // One frame (or an inbound failure) decoded: to the iterator's queue, or to listeners.
  #deliver(item) {
    switch (this.#mode) {
      case 'events':
        if (item instanceof HostError) this.#invalid(item);
        else {
          const value = this.#parse(item);
          if (value !== NOT_JSON) this.emit('message', value);
        }
        return;
      case 'port':
        if (item instanceof HostError) this.#invalid(item);
        else {
          const value = this.#parse(item);
          if (value !== NOT_JSON) for (const fn of this.#portListeners.messages) fn(value);
        }
        return;
      default:
        this.#queue.push(item);
        this.#queuedIn += item instanceof HostError ? 0 : item.length + 64;
    }
  }

  #feed(chunk) {
    if (this.#end !== undefined) return;
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      if (this.#need >= 0) {
        // Inside a payload: gather it (or skip it) as it arrives.
        const take = Math.min(this.#need, len - pos);
        if (this.#pieces !== null) this.#pieces.push(take === len ? chunk : chunk.subarray(pos, pos + take));
        pos += take;
        this.#need -= take;
        if (this.#need === 0) this.#payloadDone();
        continue;
      }
      if (this.#headerHave === 0 && len - pos >= 4) {
        // The fast path: whole frames inside this chunk, taken without a copy.
        const n = LITTLE ? chunk.readUInt32LE(pos) : chunk.readUInt32BE(pos);
        if (n <= this.#maxInbound && len - pos - 4 >= n) {
          this.#deliver(chunk.subarray(pos + 4, pos + 4 + n));
          pos += 4 + n;
          this.#offset += 4 + n;
          continue;
        }
        this.#header.set(chunk.subarray(pos, pos + 4));
        this.#headerHave = 4;
        pos += 4;
      } else {
        const take = Math.min(4 - this.#headerHave, len - pos);
        this.#header.set(chunk.subarray(pos, pos + take), this.#headerHave);
        this.#headerHave += take;
        pos += take;
        if (this.#headerHave < 4) break;
      }
      this.#beginPayload();
    }
    this.#afterFeed();
  }

  #beginPayload() {
    const n = LITTLE ? this.#header.readUInt32LE(0) : this.#header.readUInt32BE(0);
    this.#headerHave = 0;
    this.#frameAt = this.#offset;
    this.#expected = n;
    this.#need = n;
    // The pieces a frame arrives in are kept and joined once at its end (one copy, and
    // memory that grows only with bytes that arrive). A frame over the cap is skipped as
    // it arrives, never held.
    this.#pieces = n <= this.#maxInbound ? [] : null;
    if (n === 0) this.#payloadDone();
  }

  #payloadDone() {
    const n = this.#expected;
    this.#offset += 4 + n;
    this.#need = -1;
    const pieces = this.#pieces;
    this.#pieces = null;
    if (pieces === null) {
      this.#deliver(
        new HostError('too-large', `message of ${n} bytes at offset ${this.#frameAt} exceeds this host's inbound limit of ${this.#maxInbound} bytes; it was skipped`, {
          size: n,
          limit: this.#maxInbound,
          offset: this.#frameAt,
        }),
      );
    } else {
      this.#deliver(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, n));
    }
  }

  #afterFeed() {
    if (this.#waiter !== null && this.#head < this.#queue.length) this.#wake();
    if (!this.#paused && this.#queuedIn > this.#highWaterMark && this.#end === undefined) {
      this.#paused = true;
      this.#input.pause();
    }
  }

  #wake() {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  #eof() {
    if (this.#end !== undefined) return;
    if (this.#headerHave > 0) {
      const received = this.#headerHave;
      return this.#finish(
        new HostError('truncated-header', `stream ended inside a frame header at offset ${this.#offset}: ${received} of 4 header bytes arrived`, {
          offset: this.#offset,
          received,
        }),
      );
    }
    if (this.#need >= 0) {
      const expected = this.#expected;
      const received = expected - this.#need;
      return this.#finish(
        new HostError('truncated-payload', `stream ended inside the payload of the frame at offset ${this.#frameAt}: the header announced ${expected} bytes, ${received} arrived`, {
          offset: this.#frameAt,
          expected,
          received,
        }),
      );
    }
    this.#finish(null);
  }

  // The input is over: `error` null at EOF or disconnect, else the HostError that broke it.
  #finish(error) {
    if (this.#end !== undefined) return;
    this.#end = error;
    this.#pieces = null;
    this.#need = -1;
    if (this.#started) this.#input.pause();
    this.#input.destroy?.();
    this.#wake();
    if (error !== null && (this.#mode === 'events' || this.#mode === 'port')) this.emit('error', error);
    if (this.#portListeners !== null) {
      const port = error ? { error: { message: error.message } } : {};
      for (const fn of this.#portListeners.disconnects) fn(port);
    }
    this.#closedResolve(error);
    this.emit('close', error);
    this.#lingerIfDone();
  }

  // Once the input has ended and every reply is written (or can no longer be), the
  // process has nothing left to do for the browser. It exits by itself unless something
  // else holds it; past lingerMs it is ended, as the browser would end it.
  #lingerIfDone() {
    if (!this.#stdio || this.#lingerMs === null || this.#lingering || this.#end === undefined) return;
    if (this.queued > 0 && !this.#output.destroyed) return;
    this.#lingering = true;
    setTimeout(() => process.exit(), this.#lingerMs).unref();
  }

  // ---- sending ----

  #queueText(text) {
    if (this.#end !== undefined && this.#output.destroyed) return RESOLVED_FALSE;
    if (text.length > HOST_FRAME_LIMIT) return Promise.reject(tooLarge(Buffer.byteLength(text)));
    const full = this.#queueFull(text.length);
    if (full !== null) return Promise.reject(full);
    const room = Math.min(text.length * 3, HOST_FRAME_LIMIT + 4);
    this.#reserve(4 + room);
    const at = this.#batchLen;
    const written = this.#batch.write(text, at + 4, room, 'utf8');
    if (written > HOST_FRAME_LIMIT) return Promise.reject(tooLarge(Buffer.byteLength(text)));
    if (written === 0) return Promise.reject(emptyReply());
    this.#putHeader(this.#batch, at, written);
    this.#batchLen = at + 4 + written;
    return this.#queued();
  }

  #queueBytes(bytes) {
    if (this.#end !== undefined && this.#output.destroyed) return RESOLVED_FALSE;
    const full = this.#queueFull(bytes.length);
    if (full !== null) return Promise.reject(full);
    this.#reserve(4 + (bytes.length < COPY_BELOW ? bytes.length : 0));
    const at = this.#batchLen;
    this.#putHeader(this.#batch, at, bytes.length);
    this.#batchLen = at + 4;
    if (bytes.length < COPY_BELOW) {
      this.#batch.set(bytes, this.#batchLen);
      this.#batchLen += bytes.length;
    } else {
      this.#cut();
      this.#chunks.push(bytes);
      this.#chunkBytes += bytes.length;
    }
    return this.#queued();
  }

  #queueFull(size) {
    const queued = this.queued;
    if (queued === 0 || queued + size + 4 <= this.#maxQueued) return null;
    return new HostError('queue-full', `${queued} bytes of replies are waiting for the pipe; with this ${size}-byte message they would pass the limit of ${this.#maxQueued} (await send() to wait for room)`, {
      size,
      queued,
      limit: this.#maxQueued,
    });
  }

  #putHeader(buf, at, n) {
    if (LITTLE) buf.writeUInt32LE(n, at);
    else buf.writeUInt32BE(n, at);
  }

  // Room for `n` more bytes in the batch buffer.
  #reserve(n) {
    const batch = this.#batch;
    if (batch !== null && batch.length - this.#batchLen >= n) return;
    const keep = batch === null ? 0 : this.#batchLen - this.#batchStart;
    const size = Math.max(16 * 1024, n + keep, batch === null ? 0 : Math.min(batch.length * 2, 4 * MiB));
    const next = Buffer.allocUnsafe(size);
    if (keep > 0) batch.copy(next, 0, this.#batchStart, this.#batchLen);
    this.#batch = next;
    this.#batchStart = 0;
    this.#batchLen = keep;
  }

  // The batch so far becomes a chunk of its own (a referenced buffer follows it).
  #cut() {
    if (this.#batchLen > this.#batchStart) {
      this.#chunks.push(this.#batch.subarray(this.#batchStart, this.#batchLen));
      this.#chunkBytes += this.#batchLen - this.#batchStart;
      this.#batchStart = this.#batchLen;
    }
  }

  #queued() {
    if (!this.#flushing) {
      this.#flushing = true;
      // After the I/O phase: every reply to the messages of one read goes in one write.
      setImmediate(() => this.#flush());
    }
    if (this.queued <= this.#highWaterMark) return RESOLVED_TRUE;
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #flush() {
    this.#flushing = false;
    this.#cut();
    // The written part of the batch now belongs to the stream: the next reply starts a
    // new buffer (or the rest of this one, when most of it is still free).
    if (this.#batch !== null && this.#batch.length - this.#batchLen < 4096) {
      this.#batch = null;
      this.#batchStart = 0;
      this.#batchLen = 0;
    }
    const chunks = this.#chunks;
    if (chunks.length === 0) return;
    this.#chunks = [];
    this.#chunkBytes = 0;
    const out = this.#output;
    if (out.destroyed || out.writableEnded) {
      this.#resolveWaiters(false);
      return;
    }
    const written = () => {
      this.#drained();
      this.#lingerIfDone();
    };
    if (chunks.length === 1) out.write(chunks[0], written);
    else {
      out.cork();
      for (let i = 0; i < chunks.length; i++) out.write(chunks[i], i === chunks.length - 1 ? written : undefined);
      out.uncork();
    }
    this.#drained();
  }

  #drained() {
    if (this.#drainWaiters.length === 0) return;
    if (this.queued <= this.#highWaterMark) this.#resolveWaiters(true);
  }

  #resolveWaiters(ok) {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w(ok);
  }

  #writeFailed(err) {
    this.#chunks = [];
    this.#chunkBytes = 0;
    this.#batch = null;
    this.#batchStart = 0;
    this.#batchLen = 0;
    this.#resolveWaiters(false);
    this.#output.destroy();
    if (isDisconnect(err)) return this.#finish(null);
    const error = new HostError('io', `writing to stdout failed: ${err.message}`, { cause: err });
    if (this.#end === null) {
      // The input had ended cleanly before the replies to its last messages could be
      // written (they go out on the next turn of the event loop): the iterators are
      // done and nobody is left to hear of the failure but the process's exit status
      // and the browser's log. A full disk must not look like a clean end.
      if (this.listenerCount('error') > 0) this.emit('error', error);
      if (this.#stdio) {
        process.stderr.write(`nmframe-host: ${error.message}\n`);
        process.exitCode = 1;
      }
      return;
    }
    this.#finish(error);
  }
}

const NOT_JSON = Symbol('not JSON');

const describeMode = (mode) =>
  ({ values: 'the async iterator', frames: 'frames()', events: "'message' listeners", port: 'the chunked port' })[mode];

function tooLarge(size) {
  return new HostError('too-large', `message of ${size} bytes exceeds the host → browser limit of ${HOST_FRAME_LIMIT} bytes; nothing was written`, {
    size,
    limit: HOST_FRAME_LIMIT,
  });
}

function emptyReply() {
  return new HostError('empty', 'refusing to write an empty host → browser message (Chromium drops it, Firefox disconnects); nothing was written', { size: 0 });
}

// The browser closing its end of a pipe: a normal end, not a failure.
const isDisconnect = (err) => err && (err.code === 'EPIPE' || err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_DESTROYED' || err.code === 'EOF');

// console.log, process.stdout.write and whatever reads process.stdout from now on write
// to stderr: a stray line on stdout would be read by the browser as a frame header.
function guardStdout() {
  Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => process.stderr });
  const logger = new Console({ stdout: process.stderr, stderr: process.stderr });
  for (const key of Object.keys(logger)) {
    if (typeof logger[key] === 'function') console[key] = logger[key];
  }
}
