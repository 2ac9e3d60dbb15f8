// nmframe-host through real pipes: the example echo host and the probe host
// (test-hosts/probe_host.mjs) are started as a browser starts a host, and this side
// plays the browser: 32-bit native-order lengths, JSON both ways.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

import { callerFrom, fnv1a32 } from '../nmframe-host.js';

const MiB = 1 << 20;
const LITTLE = os.endianness() === 'LE';
const ORIGIN = 'chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/';
const ECHO = fileURLToPath(new URL('../examples/echo_host.mjs', import.meta.url));
const PROBE = fileURLToPath(new URL('../test-hosts/probe_host.mjs', import.meta.url));

function frame(payload) {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(4);
  if (LITTLE) head.writeUInt32LE(body.length);
  else head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

// Every host started, ended when the tests are (a failed test leaves its host waiting).
const children = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

// A host process with this side as its browser: replies in arrival order.
function start(script, { args = [ORIGIN], env = {} } = {}) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let pending = Buffer.alloc(0);
  const replies = [];
  const waiting = [];
  let stderr = '';
  let ended = false;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const len = LITTLE ? pending.readUInt32LE(0) : pending.readUInt32BE(0);
      assert.ok(len <= MiB, `the host wrote a ${len}-byte frame`);
      if (pending.length < 4 + len) break;
      const body = pending.subarray(4, 4 + len);
      pending = pending.subarray(4 + len);
      if (waiting.length) waiting.shift()(body);
      else replies.push(body);
    }
  });
  child.stdout.on('end', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(null);
  });
  child.stdin.on('error', () => {});
  return {
    child,
    exited,
    get stderr() {
      return stderr;
    },
    send(payload) {
      child.stdin.write(frame(typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload)));
    },
    raw(bytes) {
      child.stdin.write(bytes);
    },
    // The next reply's bytes, or null once stdout has ended.
    next() {
      if (replies.length) return Promise.resolve(replies.shift());
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => waiting.push(resolve));
    },
    async json() {
      const r = await this.next();
      assert.ok(r !== null, `stdout ended; stderr: ${stderr}`);
      return JSON.parse(r.toString());
    },
    async roundtrip(msg) {
      this.send(msg);
      return this.json();
    },
    end() {
      child.stdin.end();
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The first reply with member `key`, the ones before it read and dropped.
async function until(h, key) {
  for (;;) {
    const r = await h.json();
    if (r[key] !== undefined) return r;
  }
}

// A JSON string of exactly `bytes` bytes.
const jsonString = (bytes) => `"${'s'.repeat(bytes - 2)}"`;

test('the echo host sends every message back byte for byte, refuses 1 MiB + 1 with its size and checksum, goes on, and exits at EOF', async () => {
  const h = start(ECHO);
  const varied = [
    '{"cmd":"ping","id":1}',
    '"héllo wörld — 日本語"',
    '{"emoji":"😀👍🏽","astral":"𝄞"}',
    '{"lead":"a\\ud800b","trail":"\\udc00"}', // lone surrogates, as both browsers send them
    '[1e308,-2.25e-300,18446744073709552000,0.1]',
    '{"nul":"a\\u0000b","line":"\u2028"}',
    '[]',
    'null',
  ];
  for (const m of varied) h.send(m);
  for (const m of varied) assert.equal((await h.next()).toString(), m);
  const exact = jsonString(MiB);
  h.send(exact);
  assert.equal((await h.next()).toString(), exact);
  const over = Buffer.from(jsonString(MiB + 1));
  h.send(over);
  const refusal = await h.json();
  assert.equal(refusal.size, MiB + 1);
  assert.equal(refusal.fnv1a32, fnv1a32(over));
  assert.match(refusal.error, /message of 1048577 bytes exceeds the host → browser limit of 1048576 bytes; nothing was written/);
  h.send('["after"]');
  assert.equal((await h.next()).toString(), '["after"]');
  const t0 = Date.now();
  h.end();
  const { code } = await h.exited;
  assert.equal(code, 0, h.stderr);
  assert.ok(Date.now() - t0 < 1000, `exited ${Date.now() - t0} ms after EOF`);
});

test('the echo host answers what is not UTF-8 JSON with a refusal naming the byte, and goes on', async () => {
  const h = start(ECHO);
  for (const [bad, why] of [
    [Buffer.from('{"a":[1,}'), /payload is not valid JSON at byte 8/],
    [Buffer.from([0x5b, 0x22, 0x61, 0xc3, 0x28, 0x22, 0x5d]), /payload is not valid UTF-8 at byte 3/],
    [Buffer.from('\ufeff{"a":1}'), /payload is not valid JSON at byte 0/],
    [Buffer.from('["a\u0000b"]'), /payload is not valid JSON at byte 3/],
    [Buffer.alloc(0), /refusing to write an empty host → browser message/],
  ]) {
    h.send(bad);
    const r = await h.json();
    assert.match(r.error, why);
    assert.equal(r.size, bad.length);
    assert.equal(r.fnv1a32, fnv1a32(bad));
  }
  assert.deepEqual(await h.roundtrip('[2]'), [2]);
  h.end();
  assert.equal((await h.exited).code, 0);
});

test('stdout is guarded: console.log and process.stdout.write go to stderr, the frames stay intact', async () => {
  const h = start(PROBE);
  assert.deepEqual(await h.roundtrip({ op: 'log' }), { logged: true });
  assert.deepEqual(await h.roundtrip({ op: 'echo', n: 1 }), { op: 'echo', n: 1 });
  h.end();
  assert.equal((await h.exited).code, 0);
  assert.match(h.stderr, /console\.log from the host/);
  assert.match(h.stderr, /console\.info from the host/);
  assert.match(h.stderr, /process\.stdout\.write from the host/);
});

test('the caller comes from the command line, and the inbound cap from the browser', async () => {
  const chromium = start(PROBE, { args: [ORIGIN, '--parent-window=4242'] });
  assert.deepEqual(await chromium.roundtrip({ op: 'caller' }), {
    caller: { browser: 'chromium', origin: ORIGIN, manifestPath: null, extensionId: 'knldjmfmopnpolahpmmgbagdohdnhkik', parentWindow: 4242 },
    maxInbound: 64 * MiB,
  });
  chromium.end();
  const firefox = start(PROBE, { args: ['/home/u/.mozilla/native-messaging-hosts/app.json', 'app@example.org'] });
  const f = await firefox.roundtrip({ op: 'caller' });
  assert.deepEqual(f.caller, { browser: 'firefox', origin: null, manifestPath: '/home/u/.mozilla/native-messaging-hosts/app.json', extensionId: 'app@example.org', parentWindow: null });
  assert.ok(f.maxInbound > 64 * MiB, `${f.maxInbound}`);
  firefox.end();
  await Promise.all([chromium.exited, firefox.exited]);
  // A wrapper's own arguments come first: the browser's are read from the end.
  assert.equal(callerFrom(['python3', 'host.py', '--verbose', 'C:\\m\\app.json', 'app@example.org']).browser, 'firefox');
  assert.equal(callerFrom(['host', 'relative.json', 'app@example.org']).browser, 'unknown');
  assert.equal(callerFrom(['host']).browser, 'unknown');
});

test('replies: exactly 1 MiB goes, one byte more is refused with its size before a byte is written, and the host goes on', async () => {
  const h = start(PROBE);
  h.send({ op: 'send', bytes: MiB });
  const exact = await h.next();
  assert.equal(exact.length, MiB);
  assert.deepEqual(await h.json(), { op: 'send', result: { ok: true } });
  const over = await h.roundtrip({ op: 'send', bytes: MiB + 1 });
  assert.equal(over.result.error, 'too-large');
  assert.equal(over.result.size, MiB + 1);
  assert.equal(over.result.limit, MiB);
  const raw = await h.roundtrip({ op: 'raw', text: '{"a":[1,}' });
  assert.equal(raw.result.error, 'invalid-json');
  assert.equal(raw.result.offset, 8);
  const bytes = await h.roundtrip({ op: 'raw-bytes', text: '["a\u00c3("]' });
  assert.equal(bytes.result.error, 'invalid-utf8');
  assert.equal(bytes.result.offset, 3);
  assert.equal((await h.roundtrip({ op: 'raw', text: '' })).result.error, 'empty');
  assert.equal((await h.roundtrip({ op: 'bigint' })).result.error, 'serialize');
  h.send({ op: 'raw', text: '{"fine":true}' });
  assert.deepEqual(await h.json(), { fine: true });
  assert.deepEqual(await h.json(), { op: 'raw', result: { ok: true } });
  h.end();
  assert.equal((await h.exited).code, 0, h.stderr);
});

test('a message over the inbound cap is skipped as it arrives, reported in its place, and the next one is served', async () => {
  const h = start(PROBE, { env: { NMFRAME_TEST_MAX_INBOUND: '1000' } });
  h.send({ op: 'echo', n: 1 });
  h.send(jsonString(5000));
  h.send({ op: 'echo', n: 2 });
  assert.deepEqual(await h.json(), { op: 'echo', n: 1 });
  const invalid = await h.json();
  assert.equal(invalid.invalid, 'too-large');
  assert.equal(invalid.size, 5000);
  assert.equal(invalid.limit, 1000);
  assert.equal(invalid.offset, 4 + '{"op":"echo","n":1}'.length);
  assert.deepEqual(await h.json(), { op: 'echo', n: 2 });
  h.end();
  assert.equal((await h.exited).code, 0);
});

test('backpressure: an awaited send waits for the pipe (a browser that stops reading costs no memory), and sends nobody awaits stop at maxQueued', async () => {
  const h = start(PROBE);
  h.child.stdout.pause();
  h.send({ op: 'flood', count: 48, bytes: 256 * 1024 });
  await sleep(300);
  h.child.stdout.resume();
  const flooded = await until(h, 'flooded');
  assert.equal(flooded.flooded, 48);
  // The high-water mark (1 MiB) and one message.
  assert.ok(flooded.mostQueued <= MiB + 256 * 1024 + 64, `${flooded.mostQueued} bytes waited`);
  h.child.stdout.pause();
  h.send({ op: 'spam', count: 100, bytes: MiB - 100 });
  await sleep(300);
  h.child.stdout.resume();
  const spam = await until(h, 'spammed');
  assert.ok(spam.refused > 0 && spam.refused < 100, JSON.stringify(spam));
  assert.match(spam.message, /would pass the limit of 67108864/);
  h.end();
  assert.equal((await h.exited).code, 0, h.stderr);
});

test('the browser goes away: EOF ends a host that something else holds within lingerMs; EPIPE is a quiet exit 0', async () => {
  const held = start(PROBE);
  assert.deepEqual(await held.roundtrip({ op: 'hold' }), { holding: true });
  const t0 = Date.now();
  held.end();
  assert.equal((await held.exited).code, 0);
  assert.ok(Date.now() - t0 < 1500, `exited after ${Date.now() - t0} ms`);

  const gone = start(ECHO);
  assert.equal((await gone.roundtrip('[1]'))[0], 1);
  gone.child.stdout.destroy(); // the browser's read end closes
  for (let i = 0; i < 50; i++) gone.send(jsonString(64 * 1024));
  const { code, signal } = await gone.exited;
  assert.equal(signal, null);
  assert.equal(code, 0, gone.stderr);
  assert.doesNotMatch(gone.stderr, /Error|at /);
});

test('a full disk behind stdout after the input has ended is exit 1 naming the error, not a clean end', async () => {
  // The message and the end of input arrive together: the reply is written on a later
  // turn of the event loop than the one that sees the end of input.
  const full = openSync('/dev/full', 'w');
  for (const input of ['pipe', 'file']) {
    let stdin = 'pipe';
    if (input === 'file') {
      const dir = mkdtempSync(`${os.tmpdir()}/nmframe-host-`);
      writeFileSync(`${dir}/in`, frame('["full"]'));
      stdin = openSync(`${dir}/in`, 'r');
    }
    const child = spawn(process.execPath, [ECHO, ORIGIN], { stdio: [stdin, full, 'pipe'] });
    children.push(child);
    if (input === 'pipe') child.stdin.end(frame('["full"]'));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    if (input === 'file') closeSync(stdin);
    assert.equal(code, 1, `${input}: ${stderr}`);
    assert.match(stderr, /no space left on device/i, input);
  }
  closeSync(full);
});

test('the browser stops reading stderr: logging is no crash', async () => {
  const h = start(PROBE);
  h.child.stderr.destroy();
  assert.deepEqual(await h.roundtrip({ op: 'log' }), { logged: true });
  assert.deepEqual(await h.roundtrip({ op: 'echo', n: 3 }), { op: 'echo', n: 3 });
  h.end();
  assert.equal((await h.exited).code, 0);
});

test('messages as events, and a stream cut inside a frame: the frames before delivered, exit 1 with the numbers', async () => {
  const h = start(PROBE, { env: { NMFRAME_TEST_EVENTS: '1' } });
  h.send({ op: 'echo', n: 4 });
  assert.deepEqual(await h.json(), { op: 'echo', n: 4 });
  const head = Buffer.alloc(4);
  if (LITTLE) head.writeUInt32LE(100);
  else head.writeUInt32BE(100);
  h.raw(Buffer.concat([frame('{"op":"echo","n":5}'), head, Buffer.from('["only ten')]));
  h.end();
  assert.deepEqual(await h.json(), { op: 'echo', n: 5 });
  assert.equal((await h.exited).code, 1);
  assert.match(h.stderr, /the header announced 100 bytes, 10 arrived/);
});
