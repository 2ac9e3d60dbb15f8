// The package against nmframe's Rust host (core/examples/chunked_host.rs) through real
// pipes, Node playing the browser: 32-bit native-order lengths and JSON both ways, and a
// host frame over 1 MiB closes the port as the browsers do. NMFRAME_CHUNKED_HOST names
// the host (the README's test command sets it); otherwise, inside a clone of the
// repository, cargo builds it; where there is no cargo, these tests are skipped with one
// line that says how to run them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

import { KEY, NativePort, VERSION, crc32 } from '../nmframe-port.js';

const MiB = 1 << 20;

// The host to run, or why there is none.
function findHost() {
  if (process.env.NMFRAME_CHUNKED_HOST) return { path: process.env.NMFRAME_CHUNKED_HOST };
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  const how = 'build it with `cargo build -p nmframe --example chunked_host` in the nmframe repository and name it in NMFRAME_CHUNKED_HOST';
  if (!existsSync(`${repo}Cargo.toml`)) return { skip: `no nmframe repository around this package: ${how}` };
  const built = spawnSync('cargo', ['build', '--quiet', '-p', 'nmframe', '--example', 'chunked_host', '--message-format=json'], {
    cwd: repo,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * MiB,
  });
  if (built.error || built.status !== 0) return { skip: `cargo could not build the Rust host (${built.error?.message ?? `exit ${built.status}`}): ${how}` };
  for (const line of built.stdout.split('\n')) {
    if (!line.includes('"compiler-artifact"')) continue;
    const artifact = JSON.parse(line);
    if (artifact.target?.name === 'chunked_host' && artifact.executable) return { path: artifact.executable };
  }
  return { skip: `cargo built no chunked_host example: ${how}` };
}

// A command that runs the Python chunked host with the interpreter NMFRAME_PYTHON.
function pythonHost() {
  if (!process.env.NMFRAME_PYTHON) return null;
  const dir = mkdtempSync(`${os.tmpdir()}/nmframe-port-`);
  const path = `${dir}/chunked_host_python`;
  const script = fileURLToPath(new URL('../../../python/examples/chunked_host.py', import.meta.url));
  writeFileSync(path, `#!/bin/sh\nexec '${process.env.NMFRAME_PYTHON}' '${script}' "$@"\n`, { mode: 0o755 });
  return path;
}

const found = findHost();
if (found.skip) console.log(`# skipping the tests against the Rust host: ${found.skip}`);
// The same tests against the Node host on js/nmframe-host, which shares this package's
// envelope code (the tests against the Rust host are what show that two
// implementations agree).
const HOSTS = [
  ['Rust', found.path, { skip: found.skip ?? false }],
  ['Node', fileURLToPath(new URL('../../nmframe-host/examples/chunked_host.mjs', import.meta.url)), {}],
  // The Python host on the nmframe package (python/examples/chunked_host.py), run by the
  // interpreter that has the package: NMFRAME_PYTHON names it (the README's test command
  // sets it to the one scripts/python-env.sh prepares).
  ['Python', pythonHost(), { skip: process.env.NMFRAME_PYTHON ? false : 'NMFRAME_PYTHON names no Python with the nmframe package' }],
];

// runtime.Port over a child process's stdin and stdout.
function childPort(path) {
  const child = spawn(path, ['chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const onMessage = [];
  const onDisconnect = [];
  const stats = { largestFrame: 0, frames: 0 };
  let stderr = '';
  let closed = false;
  let pending = Buffer.alloc(0);
  const little = os.endianness() === 'LE';
  const close = (error) => {
    if (closed) return;
    closed = true;
    child.stdin.destroy();
    for (const fn of onDisconnect) fn({ error: error ? { message: error } : undefined });
  };
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const len = little ? pending.readUInt32LE(0) : pending.readUInt32BE(0);
      if (len > MiB) return close(`the host sent a ${len}-byte frame`);
      if (pending.length < 4 + len) break;
      const body = pending.subarray(4, 4 + len).toString('utf8');
      pending = pending.subarray(4 + len);
      stats.frames++;
      stats.largestFrame = Math.max(stats.largestFrame, len);
      const msg = JSON.parse(body);
      for (const fn of onMessage) fn(msg);
    }
  });
  child.stdout.on('end', () => close(null));
  child.stdin.on('error', () => close('the host went away'));
  return {
    child,
    stats,
    get stderr() {
      return stderr;
    },
    postMessage(msg) {
      const body = Buffer.from(JSON.stringify(msg), 'utf8');
      const head = Buffer.alloc(4);
      if (little) head.writeUInt32LE(body.length);
      else head.writeUInt32BE(body.length);
      child.stdin.write(Buffer.concat([head, body]));
    },
    disconnect() {
      child.stdin.end();
    },
    onMessage: { addListener: (fn) => onMessage.push(fn) },
    onDisconnect: { addListener: (fn) => onDisconnect.push(fn) },
  };
}

// The host's letters: a 32-bit LCG, six bits per letter (chunked_host.rs).
function letters(n) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const out = new Array(n);
  let x = 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = alphabet[x >>> 26];
  }
  return out.join('');
}

for (const [label, HOST, withHost] of HOSTS) {
  test(`large replies from the ${label} host arrive whole, interleaved with small ones, in 1 MiB frames at most`, withHost, async () => {
    const raw = childPort(HOST);
    const port = new NativePort(raw);
    const sizes = [MiB + 1, 3 * MiB + 17, 9 * MiB];
    const replies = await Promise.all([
      ...sizes.map((bytes, i) => port.request({ op: 'make', bytes }).then((r) => [i, r])),
      port.request({ op: 'size', note: 'small' }).then((r) => ['small', r]),
    ]);
    for (const [i, r] of replies) {
      if (i === 'small') {
        assert.equal(typeof r.bytes, 'number');
        continue;
      }
      assert.equal(JSON.stringify(r).length, sizes[i], `reply ${i}`);
      assert.equal(r.data, letters(r.data.length));
    }
    assert.ok(raw.stats.largestFrame <= MiB, `a ${raw.stats.largestFrame}-byte frame`);
    assert.ok(raw.stats.frames > 13);
    port.disconnect();
  });

  test(`messages of many parts go to the ${label} host and come back whole`, withHost, async () => {
    const raw = childPort(HOST);
    const port = new NativePort(raw);
    const body = 'é€😀"\\\n'.repeat(MiB / 2) + letters(8 * MiB); // ~14 MiB of UTF-8
    const text = JSON.stringify({ op: 'size', id: 0, body });
    const sized = await port.request({ op: 'size', body });
    // The host measured the request it reassembled (with the id the package gave it).
    const sent = JSON.stringify({ op: 'size', body, id: sized.id });
    const bytes = new TextEncoder().encode(sent);
    assert.equal(sized.bytes, bytes.length);
    assert.equal(sized.crc32, crc32(bytes));
    assert.ok(bytes.length > 12 * MiB, `${bytes.length} bytes`);
    const echoed = await port.request({ op: 'echo', body: body.slice(0, 5 * MiB) });
    assert.equal(echoed.body, body.slice(0, 5 * MiB));
    assert.ok(text.length > 0);
    port.disconnect();
  });

  test(`a transfer the extension botches is reported by the ${label} host, which goes on`, withHost, async () => {
    const raw = childPort(HOST);
    const port = new NativePort(raw);
    const got = [];
    port.onMessage.addListener((m) => got.push(m));
    // A corrupted transfer, written by hand: the CRC-32 does not match.
    raw.postMessage({ [KEY]: VERSION, t: 'part', id: 77, seq: 0, data: '{"op":"size","id":5}' });
    raw.postMessage({ [KEY]: VERSION, t: 'end', id: 77, seq: 1, bytes: 20, crc32: 1 });
    const after = await port.request({ op: 'size' });
    assert.equal(typeof after.bytes, 'number');
    assert.equal(got.length, 1);
    assert.equal(got[0].transfer_error, 'checksum');
    assert.match(got[0].message, /message 77: CRC-32 \d+ of the 20 bytes that arrived, 1 announced/);
    // stderr is another pipe: give it the time to arrive.
    for (let i = 0; i < 100 && !/chunked_host: message 77/.test(raw.stderr); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(raw.stderr, /chunked_host: message 77: CRC-32/);
    port.disconnect();
  });

  test(`${label}: the extension refuses a reply while its own upload, numbered the same, is in flight: nothing lost`, withHost, async () => {
    const raw = childPort(HOST);
    const port = new NativePort(raw, { maxBytes: 4 * MiB });
    const errors = [];
    port.onError.addListener((e) => errors.push(e));
    // The host's reply (its message 0) is refused past 4 MiB while the extension's upload
    // (its message 0 too) is under way.
    const big = port.request({ op: 'make', bytes: 20 * MiB }, { timeoutMs: 3000 }).catch((e) => e);
    const body = letters(3 * MiB);
    const sized = await port.request({ op: 'size', body }, { timeoutMs: 30000 });
    const sent = new TextEncoder().encode(JSON.stringify({ op: 'size', body, id: sized.id }));
    assert.equal(sized.bytes, sent.length);
    assert.equal(sized.crc32, crc32(sent));
    assert.deepEqual(errors.map((e) => [e.code, e.id]), [['too-large', 0]]);
    assert.equal((await big).code, 'request-timeout', 'the refused reply never comes');
    for (let i = 0; i < 100 && !/refused message 0 \(too-large\)/.test(raw.stderr); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(raw.stderr, /reply not sent: the extension refused message 0 \(too-large\)/);
    // And the port goes on.
    const after = await port.request({ op: 'size' });
    assert.equal(typeof after.bytes, 'number');
    port.disconnect();
  });
}
