// The package against itself and against hand-made frames, over an in-memory port pair
// that behaves as the browser's does: each message JSON-serialized and parsed again, in
// order, asynchronously, and a frame over the direction's limit closes the port.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { KEY, NativePort, TransferError, VERSION, crc32, isEnvelope, pieces, sendNativeMessage, utf8Length } from '../nmframe-port.js';

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

test('utf8Length agrees with TextEncoder, lone surrogates included', () => {
  for (const s of [mixed(5000, 3), '\ud800', 'a\udc00b', '😀\ud83d', '']) assert.equal(utf8Length(s), utf8(s));
});

test('envelopes are recognised by their first member only', () => {
  assert.ok(isEnvelope({ [KEY]: VERSION, t: 'part' }));
  assert.ok(!isEnvelope({ t: 'part', [KEY]: VERSION }));
  assert.ok(!isEnvelope([KEY]));
  assert.ok(!isEnvelope(null));
  assert.ok(!isEnvelope('$nmframe'));
});

test('small messages travel as they are; large ones arrive whole, byte-exact, interleaved', async () => {
  // A window of 2 parts: the big message waits for acknowledgements, and the small ones
  // overtake it.
  const { host, a, b } = pair({}, { maxPlainBytes: MiB - 64, window: 2 });
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
  const tricky = { [KEY]: VERSION, t: 'end', id: 0, seq: 0, bytes: 0, crc32: 0 };
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
  const refusals = [];
  const posted = ext.postMessage.bind(ext);
  ext.postMessage = (m) => {
    if (m.t === 'refuse') refusals.push(m);
    posted(m);
  };
  for (const f of frames) host.postMessage(f);
  host.postMessage({ after: true }); // the port goes on
  await at.until(() => at.got.some((m) => m && m.after));
  await new Promise((r) => setTimeout(r, 30));
  const seen = { errors: [...at.errors], got: [...at.got], refusals, a };
  a.disconnect(); // ends the reassemblies left open, and their timer
  return seen;
}

const part = (id, seq, data, extra = {}) => ({ [KEY]: VERSION, t: 'part', id, seq, ...extra, data });
const end = (id, seq, text, extra = {}) => ({
  [KEY]: VERSION,
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
    ['version', [{ [KEY]: 1, t: 'part', id: 6, seq: 0, data: '' }, { [KEY]: 1, t: 'part', id: 6, seq: 1, data: '' }], /version 1; this side speaks version 2/],
    ['malformed', [{ [KEY]: VERSION, t: 'part', id: 7, seq: 0 }], /string data/],
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
  const { errors, refusals } = await hostileHost([part(9, 0, '"abc'), { [KEY]: VERSION, t: 'abort', id: 9, reason: 'out of disk' }]);
  assert.equal(errors[0].code, 'aborted');
  assert.match(errors[0].message, /out of disk/);
  assert.deepEqual(refusals, [], 'an abort is not answered');
});

test('another version is refused once per message, and refusals and aborts of it are never answered', async () => {
  const frames = [
    { [KEY]: 1, t: 'part', id: 3, seq: 0, data: '"a' },
    { [KEY]: 1, t: 'part', id: 3, seq: 1, data: 'b"' },
    { [KEY]: 1, t: 'abort', id: 4, reason: 'x' },
    { [KEY]: '2', t: 'ack', id: 0, seq: 1 },
  ];
  const { errors, refusals } = await hostileHost(frames);
  assert.deepEqual(errors.map((e) => e.code), ['version', 'version', 'version']);
  assert.deepEqual(refusals.map((r) => [r.id, r.code]), [[3, 'version']]);
});

test('the receiver limits: size, count in flight, silence', async () => {
  {
    const { errors, refusals } = await hostileHost([part(1, 0, 'x'.repeat(600)), part(1, 1, 'x'.repeat(600)), part(1, 2, 'x'), end(1, 3, 'x')], { maxBytes: 1000 });
    assert.equal(errors.length, 1, errors.map((e) => e.message).join());
    assert.equal(errors[0].code, 'too-large');
    assert.equal(errors[0].bytes, 1200);
    assert.equal(errors[0].limit, 1000);
    assert.deepEqual(refusals.map((x) => [x.id, x.code]), [[1, 'too-large']], 'the sender is told once');
  }
  {
    // A total announced over the limit is refused before anything is kept.
    const { errors } = await hostileHost([part(2, 0, 'x', { total: 5000 })], { maxBytes: 1000 });
    assert.equal(errors[0].code, 'too-large');
    assert.match(errors[0].message, /announces 5000 bytes; the limit is 1000/);
  }
  {
    // All reassemblies together are bounded too.
    const frames = [part(1, 0, 'x'.repeat(400)), part(2, 0, 'y'.repeat(400)), part(3, 0, 'z'.repeat(400))];
    const { errors } = await hostileHost(frames, { maxBuffered: 1000 });
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'capacity');
    assert.equal(errors[0].id, 3);
    assert.match(errors[0].message, /the limit for all together is 1000/);
  }
  {
    const { errors } = await hostileHost([part(1, 0, 'a'), part(2, 0, 'b'), part(3, 0, 'c')], { maxInFlight: 2 });
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'too-many');
    assert.equal(errors[0].id, 3);
    assert.equal(errors[0].limit, 2);
  }
  {
    const { a, host } = pair({ partTimeoutMs: 50 });
    const at = inbox(a);
    host.postMessage(part(4, 0, '"abc'));
    await at.until(() => at.errors.length === 1);
    assert.equal(at.errors[0].code, 'timeout');
    assert.match(at.errors[0].message, /no part for \d+ ms after 1 parts \(4 bytes\)/);
    a.disconnect();
  }
  {
    // A transfer that timed out does not count against maxInFlight, even before the
    // sweeper (every second here) has run: the clock jumps past the timeout.
    const { a, host } = pair({ partTimeoutMs: 4000, maxInFlight: 1 });
    const at = inbox(a);
    host.postMessage(part(1, 0, '"a'));
    while (a.incoming.size === 0) await new Promise((r) => setImmediate(r));
    const realNow = Date.now;
    Date.now = () => realNow() + 5000;
    try {
      host.postMessage(part(2, 0, '"b"'));
      host.postMessage(end(2, 1, '"b"'));
      await at.until(() => at.got.length === 1);
    } finally {
      Date.now = realNow;
    }
    assert.deepEqual(at.got, ['b']);
    assert.deepEqual(at.errors.map((e) => [e.code, e.id]), [['timeout', 1]]);
    a.disconnect();
  }
});

test('a send that gets no acknowledgement is given up at its timeout, and the host is told', async () => {
  const { a, host } = pair({ window: 2, partBytes: 1024, maxPlainBytes: 1024, ackTimeoutMs: 100 });
  const sent = [];
  host.listeners.message.push((m) => sent.push(m));
  // Nobody on the host side answers: no NativePort there acknowledges.
  host.listeners.message.splice(0, host.listeners.message.length - 1);
  const t0 = Date.now();
  await assert.rejects(a.post({ s: 'x'.repeat(10000) }), (e) => e.code === 'timeout' && /no acknowledgement for 100 ms after 2 parts/.test(e.message));
  assert.ok(Date.now() - t0 >= 100);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(sent.at(-1).t, 'abort');
  assert.equal(sent.filter((m) => m.t === 'part').length, 2);
});

// Version 1's defect: both sides number from 0, and a refusal of one side's message was
// taken for an abort of the other's. The extension uploads while the host replies, and
// refuses the reply (over its maxBytes): its upload must still arrive, and the host's
// send must stop.
test('a refusal while both sides send large messages loses nothing', async () => {
  const { a, b } = pair({ maxBytes: 2 * MiB, partBytes: 64 * 1024 }, { partBytes: 64 * 1024 });
  const at = inbox(a);
  const bt = inbox(b);
  const upload = { up: mixed(1.5 * MiB, 21) };
  const reply = b.post({ down: mixed(3 * MiB, 22) });
  const sent = a.post(upload);
  await assert.rejects(reply, (e) => e.code === 'refused' && /the host refused message 0 \(too-large\)/.test(e.message));
  await sent;
  await bt.until(() => bt.got.length === 1);
  assert.deepEqual(bt.got[0], JSON.parse(JSON.stringify(upload)));
  assert.deepEqual(at.errors.map((e) => [e.code, e.id]), [['too-large', 0]]);
  assert.deepEqual(bt.errors, []);
  // The port goes on.
  await b.post({ after: 1 });
  await at.until(() => at.got.length === 1);
  assert.deepEqual(at.got, [{ after: 1 }]);
});

test('uploads over maxPlainBytes (1 MiB) go in parts, with progress', async () => {
  const { a, b, ext } = pair();
  const bt = inbox(b);
  const progress = [];
  a.onProgress.addListener((p) => progress.push(p));
  await a.post({ s: 'x'.repeat(MiB - 8) }); // exactly 1 MiB of JSON: as it is
  assert.equal(ext.frames.length, 1);
  await a.post({ s: 'y'.repeat(5 * MiB) });
  await bt.until(() => bt.got.length === 2);
  assert.ok(ext.frames.length > 6, `${ext.frames.length} frames`);
  const out = progress.filter((p) => p.direction === 'out');
  assert.ok(out.length >= 5);
  assert.equal(out.at(-1).bytes, out.at(-1).total);
  assert.equal(out.at(-1).total, utf8(JSON.stringify({ s: 'y'.repeat(5 * MiB) })));
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
  // An id the caller chose is kept, and matched.
  const mine = await a.request({ q: 'mine', id: 'abc' });
  assert.equal(mine.id, 'abc');
  const waiting = a.request({ q: 'slow', id: 7 }, { timeoutMs: 100 });
  await assert.rejects(a.request({ q: 'again', id: 7 }), /already waiting/);
  await assert.rejects(waiting, (e) => e.code === 'request-timeout');
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
