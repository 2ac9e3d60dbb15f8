// The package against itself and against hand-made frames, over an in-memory port pair
// that behaves as the browser's does: each message JSON-serialized and parsed again, in
// order, asynchronously, and a frame over the direction's limit closes the port.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { KEY, NativePort, TransferError, crc32, isEnvelope, pieces, sendNativeMessage } from '../nmframe-port.js';

const MiB = 1 << 20;
const utf8 = (s) => new TextEncoder().encode(s).length;

function fakePort(name) {
  const listeners = { message: [], disconnect: [] };
  return {
    name,
    peer: null,
    closed: false,
    frames: [], // the serialized frames this end sent
    limit: Infinity,
    postMessage(msg) {
      if (this.closed) throw new Error('Attempting to use a disconnected port object');
      const wire = JSON.stringify(msg);
      this.frames.push(wire);
      if (utf8(wire) > this.limit) {
        setImmediate(() => {
          this.close('Error when communicating with the native messaging host.');
          this.peer.close('Error when communicating with the native messaging host.');
        });
        return;
      }
      setImmediate(() => {
        if (!this.peer.closed) for (const fn of this.peer.listeners.message) fn(JSON.parse(wire));
      });
    },
    disconnect() {
      this.closed = true;
      setImmediate(() => this.peer.close(null));
    },
    close(error) {
      if (this.closed && error !== null) return;
      this.closed = true;
      for (const fn of listeners.disconnect) fn({ error: error ? { message: error } : undefined });
    },
    listeners,
    onMessage: { addListener: (fn) => listeners.message.push(fn) },
    onDisconnect: { addListener: (fn) => listeners.disconnect.push(fn) },
  };
}

// The extension's port and the host's, the host's frames limited to 1 MiB as browsers do.
function pair(extOptions = {}, hostOptions = {}) {
  const ext = fakePort('extension');
  const host = fakePort('host');
  ext.peer = host;
  host.peer = ext;
  host.limit = MiB;
  // The host side keeps its plain messages under the browser's limit, as a host must.
  return { ext, host, a: new NativePort(ext, extOptions), b: new NativePort(host, { maxPlainBytes: MiB - 256, ...hostOptions }) };
}

function inbox(port) {
  const got = [];
  const errors = [];
  const waiters = [];
  port.onMessage.addListener((m) => {
    got.push(m);
    waiters.splice(0).forEach((w) => w());
  });
  port.onError.addListener((e) => {
    errors.push(e);
    waiters.splice(0).forEach((w) => w());
  });
  return {
    got,
    errors,
    async until(cond, ms = 5000) {
      const end = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out: ${got.length} messages, errors ${errors.map((e) => e.message)}`);
        await new Promise((r) => {
          waiters.push(r);
          setTimeout(r, 20);
        });
      }
    },
  };
}

// A string of `n` characters mixing ASCII, quotes, backslashes, control characters, two-
// and three-byte characters and surrogate pairs, so every cut and escape rule is hit.
function mixed(n, seed = 1) {
  const alphabet = ['a', 'b', 'Z', '0', '"', '\\', '\n', '\u0001', '<', 'é', 'ß', '€', '中', '😀', '\u2028', ' '];
  let x = seed;
  let s = '';
  while (s.length < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += alphabet[x >>> 28];
  }
  return s;
}

test('crc32 is zlib\'s', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const bytes = new TextEncoder().encode(mixed(1000));
  // Incremental equals whole, across the eight-byte steps.
  assert.equal(crc32(bytes.subarray(13), crc32(bytes.subarray(0, 13))), crc32(bytes));
});

test('pieces never exceed the budget once escaped, and never split a surrogate pair', () => {
  const text = JSON.stringify({ s: mixed(200000) });
  for (const budget of [8, 9, 64, 1000, 65536]) {
    const parts = [...pieces(text, budget)];
    assert.equal(parts.join(''), text);
    for (const p of parts) {
      assert.ok(utf8(JSON.stringify(p)) - 2 <= budget, `${utf8(JSON.stringify(p))} > ${budget}`);
      const first = p.charCodeAt(0);
      assert.ok(!(first >= 0xdc00 && first <= 0xdfff), 'a part starts with a low surrogate');
    }
  }
});

test('envelopes are recognised by their first member only', () => {
  assert.ok(isEnvelope({ [KEY]: 1, t: 'part' }));
  assert.ok(!isEnvelope({ t: 'part', [KEY]: 1 }));
  assert.ok(!isEnvelope([KEY]));
  assert.ok(!isEnvelope(null));
  assert.ok(!isEnvelope('$nmframe'));
});

test('small messages travel as they are; large ones arrive whole, byte-exact, interleaved', async () => {
  const { host, a, b } = pair({}, { maxPlainBytes: MiB - 64 });
  const at = inbox(a);
  const big = { rows: mixed(3 * MiB, 7), n: 1 };
  const small = [{ hello: 1 }, 'text', 42, [1, 2, 3], null];
  const sends = [b.post(big), ...small.map((m) => b.post(m)), b.post({ other: mixed(1.5 * MiB, 9) })];
  await Promise.all(sends);
  await at.until(() => at.got.length === 7);
  assert.deepEqual(at.errors, []);
  // The small ones are not held back behind the big one's parts.
  assert.deepEqual(at.got.slice(0, 5), small);
  // The two large ones, in whichever order their last parts arrived.
  assert.deepEqual(at.got.find((m) => m && m.rows), big);
  assert.equal(at.got.find((m) => m && m.other).other, JSON.parse(JSON.stringify(mixed(1.5 * MiB, 9))));
  // Every frame the host side sent fits the browser's limit.
  for (const f of host.frames) assert.ok(utf8(f) <= MiB, `a ${utf8(f)}-byte frame`);
  assert.ok(host.frames.length > 8);
});

test('a message whose first member is "$nmframe" arrives unchanged', async () => {
  const { a, b, ext } = pair();
  const bt = inbox(b);
  const tricky = { [KEY]: 1, t: 'end', id: 0, seq: 0, bytes: 0, crc32: 0 };
  await a.post(tricky);
  await bt.until(() => bt.got.length === 1);
  assert.deepEqual(bt.got[0], tricky);
  assert.deepEqual(bt.errors, []);
  assert.equal(JSON.parse(ext.frames[0]).t, 'part', 'sent as parts');
});

test('flow control keeps at most `window` parts unacknowledged', async () => {
  const { ext, host, a, b } = pair({ window: 4, partBytes: 64 * 1024, maxPlainBytes: 1024 });
  const bt = inbox(b);
  let maxAhead = 0;
  let lastAck = -1;
  const posted = ext.postMessage.bind(ext);
  ext.postMessage = (m) => {
    if (m.t === 'part') maxAhead = Math.max(maxAhead, m.seq - lastAck);
    posted(m);
  };
  const hostPosted = host.postMessage.bind(host);
  host.postMessage = (m) => {
    if (m.t === 'ack') lastAck = m.seq;
    hostPosted(m);
  };
  const value = { s: mixed(2 * MiB, 3) };
  await a.post(value);
  await bt.until(() => bt.got.length === 1);
  assert.deepEqual(bt.got[0], value);
  assert.ok(maxAhead <= 4, `${maxAhead} parts ahead of the last ack`);
  assert.ok(lastAck > 0, 'the receiver acknowledged');
});

// Frames written by hand, as a faulty or hostile host would.
async function hostileHost(frames, options = {}) {
  const { ext, host, a } = pair(options);
  const at = inbox(a);
  const aborts = [];
  const posted = ext.postMessage.bind(ext);
  ext.postMessage = (m) => {
    if (m.t === 'abort') aborts.push(m);
    posted(m);
  };
  for (const f of frames) host.postMessage(f);
  host.postMessage({ after: true }); // the port goes on
  await at.until(() => at.got.some((m) => m && m.after));
  await new Promise((r) => setTimeout(r, 30));
  const seen = { errors: [...at.errors], got: [...at.got], aborts, a };
  a.disconnect(); // ends the reassemblies left open, and their timer
  return seen;
}

const part = (id, seq, data, extra = {}) => ({ [KEY]: 1, t: 'part', id, seq, ...extra, data });
const end = (id, seq, text, extra = {}) => ({
  [KEY]: 1,
  t: 'end',
  id,
  seq,
  bytes: utf8(text),
  crc32: crc32(new TextEncoder().encode(text)),
  ...extra,
});

test('a corrupted, truncated or misnumbered transfer is reported with its numbers, and the port goes on', async () => {
  const text = JSON.stringify({ v: 'hello world' });
  const cases = [
    ['checksum', [part(1, 0, text.slice(0, 5)), part(1, 1, text.slice(5).replace('w', 'W')), end(1, 2, text)], /CRC-32 \d+ of the 19 bytes that arrived, \d+ announced/],
    ['length', [part(2, 0, text.slice(0, 5)), end(2, 2, text)], /ended after 2 parts; 1 arrived/],
    ['length', [part(3, 0, text), end(3, 1, text, { bytes: 99 })], /announced 99 bytes; 19 arrived/],
    ['out-of-order', [part(4, 0, 'a'), part(4, 2, 'b')], /part 2 of message 4 arrived where part 1 was due/],
    ['out-of-order', [part(5, 3, 'b')], /part 3 of message 5, which has not started/],
    ['malformed', [{ [KEY]: 2, t: 'part', id: 6, seq: 0, data: '' }], /version 2/],
    ['malformed', [{ [KEY]: 1, t: 'part', id: 7, seq: 0 }], /string data/],
    ['malformed', [part(8, 0, '{"a":'), end(8, 1, '{"a":')], /message 8 \(5 bytes\) is not JSON/],
  ];
  for (const [code, frames, message] of cases) {
    const { errors, got } = await hostileHost(frames);
    assert.equal(errors.length, 1, `${code}: ${errors.map((e) => e.message)}`);
    assert.ok(errors[0] instanceof TransferError);
    assert.equal(errors[0].code, code);
    assert.match(errors[0].message, message);
    assert.deepEqual(got, [{ after: true }]);
  }
});

test('an aborted transfer is reported and dropped', async () => {
  const { errors } = await hostileHost([part(9, 0, '"abc'), { [KEY]: 1, t: 'abort', id: 9, reason: 'out of disk' }]);
  assert.equal(errors[0].code, 'aborted');
  assert.match(errors[0].message, /out of disk/);
});

test('the receiver limits: size, count in flight, silence', async () => {
  {
    const { errors, aborts } = await hostileHost([part(1, 0, 'x'.repeat(600)), part(1, 1, 'x'.repeat(600)), part(1, 2, 'x'), end(1, 3, 'x')], { maxBytes: 1000 });
    assert.equal(errors.length, 1, errors.map((e) => e.message).join());
    assert.equal(errors[0].code, 'too-large');
    assert.equal(errors[0].bytes, 1200);
    assert.equal(errors[0].limit, 1000);
    assert.deepEqual(aborts.map((x) => x.id), [1], 'the sender is told once');
  }
  {
    const { errors } = await hostileHost([part(1, 0, 'a'), part(2, 0, 'b'), part(3, 0, 'c')], { maxInFlight: 2 });
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'too-many');
    assert.equal(errors[0].id, 3);
    assert.equal(errors[0].limit, 2);
  }
  {
    const { a, host } = pair({ timeoutMs: 50 });
    const at = inbox(a);
    host.postMessage(part(4, 0, '"abc'));
    await at.until(() => at.errors.length === 1);
    assert.equal(at.errors[0].code, 'timeout');
    assert.match(at.errors[0].message, /no part for \d+ ms after 1 parts \(4 bytes\)/);
  }
});

test('a port that closes mid-transfer fails that transfer and every pending request', async () => {
  const { a, host } = pair();
  const at = inbox(a);
  const reply = a.request({ q: 1 });
  host.postMessage(part(5, 0, '"abc'));
  await new Promise((r) => setTimeout(r, 10));
  host.disconnect();
  await assert.rejects(reply, (e) => e.code === 'disconnected');
  await at.until(() => at.errors.length === 1);
  assert.equal(at.errors[0].code, 'disconnected');
  assert.match(at.errors[0].message, /message 5 incomplete: 1 parts, 4 bytes/);
  await assert.rejects(a.post({}), (e) => e.code === 'disconnected');
});

test('request/response matches replies by id, whatever their size, and times out', async () => {
  const { a, b } = pair();
  b.onMessage.addListener((m) => {
    if (m.q === 'slow') return;
    b.post({ id: m.id, echo: m.q, pad: m.q === 'big' ? mixed(2 * MiB, 5) : '' });
  });
  const [x, y] = await Promise.all([a.request({ q: 'big' }), a.request({ q: 'small' })]);
  assert.equal(x.echo, 'big');
  assert.equal(x.pad.length, 2 * MiB);
  assert.equal(y.echo, 'small');
  await assert.rejects(a.request({ q: 'slow' }, { timeoutMs: 50 }), (e) => e.code === 'request-timeout');
});

test('sendNativeMessage opens a port, takes the first whole reply and disconnects', async () => {
  let hostPort;
  const runtime = {
    connectNative(name) {
      assert.equal(name, 'com.example.host');
      const { ext, host } = pair();
      hostPort = host;
      const b = new NativePort(host, { maxPlainBytes: MiB - 256 });
      b.onMessage.addListener((m) => b.post({ got: m, big: mixed(1.2 * MiB, 11) }));
      return ext;
    },
  };
  const reply = await sendNativeMessage('com.example.host', { ask: 1 }, { runtime });
  assert.deepEqual(reply.got, { ask: 1 });
  assert.equal(reply.big, mixed(1.2 * MiB, 11));
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(hostPort.closed, 'the port is closed afterwards');
});
