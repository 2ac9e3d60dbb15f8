// The conformance suite's extension: it talks to the project's hosts through the
// browser's real native-messaging API and reports each case to the runner
// (browsers/run.py) over HTTP on 127.0.0.1. The runner writes config.js (its port, the
// browser, the hosts to test) before the browser starts.
import './config.js'; // written by the runner: sets self.NMF_CONFIG
import { NativePort, crc32, sendNativeMessage } from './nmframe-port.js';

const config = self.NMF_CONFIG;
const api = globalThis.browser ?? globalThis.chrome;
const MiB = 1 << 20;

async function call(path, body) {
  const response = await fetch(`http://127.0.0.1:${config.port}/${path}`, {
    method: 'POST',
    body: JSON.stringify(body), // text/plain: no CORS preflight
  });
  return response.json();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A port with an inbox: next() returns replies in arrival order, or rejects with the
// reason the browser gave when the port dies.
function open(host) {
  const port = api.runtime.connectNative(host);
  const inbox = [];
  const waiting = [];
  let closed = null;
  port.onMessage.addListener((msg) => {
    if (waiting.length) waiting.shift().resolve(msg);
    else inbox.push(msg);
  });
  port.onDisconnect.addListener((p) => {
    const error = (p && p.error) || api.runtime.lastError;
    closed = error ? error.message : 'disconnected without an error';
    for (const w of waiting.splice(0)) w.reject(new Error(`port closed: ${closed}`));
  });
  return {
    post(msg) {
      port.postMessage(msg);
    },
    next(timeoutMs = 20000) {
      if (inbox.length) return Promise.resolve(inbox.shift());
      if (closed !== null) return Promise.reject(new Error(`port closed: ${closed}`));
      return new Promise((resolve, reject) => {
        const w = { resolve, reject };
        waiting.push(w);
        setTimeout(() => {
          const i = waiting.indexOf(w);
          if (i >= 0) {
            waiting.splice(i, 1);
            reject(new Error(`no reply within ${timeoutMs} ms`));
          }
        }, timeoutMs);
      });
    },
    get closed() {
      return closed;
    },
    close() {
      if (closed === null) port.disconnect();
      closed = closed ?? 'closed by the extension';
    },
  };
}

class Failure extends Error {}

function expect(cond, what) {
  if (!cond) throw new Failure(what);
}

function same(got, want, what) {
  const a = JSON.stringify(got);
  const b = JSON.stringify(want);
  if (a !== b) {
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    throw new Failure(
      `${what}: reply differs at character ${i} of ${b.length}: ` +
        `got ${JSON.stringify(a.slice(i, i + 40))}, want ${JSON.stringify(b.slice(i, i + 40))}`,
    );
  }
}

// FNV-1a, 32 bits, over the UTF-8 bytes of an ASCII string (as the echo hosts compute it).
function fnv1a32(ascii) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < ascii.length; i++) {
    hash = Math.imul(hash ^ ascii.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

// A JSON string whose serialized form is exactly `bytes` long: varied letters (so a
// checksum catches a dropped or moved byte), no escapes.
function stringOfJsonLength(bytes) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let block = '';
  let x = bytes >>> 0;
  for (let i = 0; i < 65536; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    block += alphabet[x >>> 26];
  }
  const n = bytes - 2;
  return block.repeat(Math.ceil(n / block.length)).slice(0, n);
}

// Sends a message whose JSON is `bytes` long and checks what the host says arrived: the
// echo itself up to 1 MiB, its size and checksum beyond. Returns the milliseconds taken.
async function sendLarge(p, bytes, timeoutMs) {
  let s = stringOfJsonLength(bytes);
  let digest;
  {
    const wire = JSON.stringify(s); // not kept: probes go up to 1 GiB
    expect(wire.length === bytes, `built ${wire.length} bytes`);
    digest = fnv1a32(wire);
  }
  const t0 = performance.now();
  try {
    p.post(s);
  } catch (e) {
    throw new Failure(`postMessage threw: ${e.message}`);
  }
  const echo = bytes <= MiB ? s : null;
  s = null;
  const r = await p.next(timeoutMs);
  const ms = performance.now() - t0;
  if (echo !== null) {
    expect(r === echo, 'echo differs');
  } else {
    expect(r && r.size === bytes, `host received ${r && r.size} bytes, want ${bytes}`);
    expect(r.fnv1a32 === digest, `checksum ${r.fnv1a32}, want ${digest}`);
  }
  return ms;
}

// `depth` arrays nested inside each other, built without recursion.
function nested(depth) {
  let v = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

// The depth of a value made by nested(), or -1 when it is not such a value.
function depthOf(v) {
  let depth = 0;
  while (Array.isArray(v)) {
    if (v.length !== 1) return -1;
    v = v[0];
    depth++;
  }
  return v === 0 ? depth : -1;
}

const VARIED = [
  { cmd: 'ping', id: 1 },
  'héllo wörld — 日本語 — Ελληνικά — עברית',
  { emoji: '😀👍🏽👩‍👩‍👧‍👦🇫🇷', astral: '𝄞𝕏', bmp: '\uffff\ufffd' },
  { nul: 'a\u0000b', controls: '\u0001\u0008\t\n\f\r\u001f', quote: '"\\/', line: '\u2028\u2029' },
  ['', null, true, false, 0, -1, 1.5, -2.25e-300, 1e308, 2 ** 53, -(2 ** 53), 0.1],
  2 ** 64, // sent as 18446744073709552000: beyond u64, which hosts must still accept
  {},
  [],
  '',
  null,
  (() => {
    let v = 'bottom';
    for (let i = 0; i < 100; i++) v = i % 2 ? [v] : { d: v };
    return v;
  })(),
  Array.from({ length: 20000 }, (_, i) => (i % 3 ? i * 7919 : `s${i}`)),
  Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`key ${i} ✓`, i])),
];

function hostCases(host, label) {
  const big = [1 * MiB, 16 * MiB, 64 * MiB];
  return [
    [`${label}: varied JSON round trip (unicode, emoji, \\u0000, 100-deep nesting, 20,000-item array)`, async () => {
      const p = open(host);
      for (const msg of VARIED) p.post(msg);
      for (const [i, msg] of VARIED.entries()) same(await p.next(), msg, `message ${i}`);
      p.close();
      return `${VARIED.length} messages`;
    }],
    [`${label}: lone surrogates (JSON.stringify sends them as \\ud800 escapes)`, async () => {
      const msg = { lead: 'a\ud800b', trail: '\udc00', cut: '😀'.slice(0, 1), pair: '😀' };
      const p = open(host);
      p.post(msg);
      const r = await p.next();
      p.close();
      same(r, msg, 'echo');
      return JSON.stringify(r);
    }],
    [`${label}: burst of 2,000 messages keeps its order`, async () => {
      const p = open(host);
      const n = 2000;
      for (let i = 0; i < n; i++) p.post({ seq: i, pad: 'x'.repeat((i % 17) * 61) });
      for (let i = 0; i < n; i++) {
        const r = await p.next();
        expect(r && r.seq === i, `reply ${i} has seq ${r && r.seq}`);
      }
      p.close();
      return `${n} in order`;
    }],
    [`${label}: reply of exactly 1,048,576 bytes arrives`, async () => {
      const s = stringOfJsonLength(MiB);
      const p = open(host);
      p.post(s);
      const r = await p.next();
      expect(typeof r === 'string' && r.length === s.length, `reply of ${r && r.length} characters, want ${s.length}`);
      expect(r === s, 'reply content differs');
      p.close();
      return `${JSON.stringify(r).length} bytes`;
    }],
    [`${label}: reply of 1,048,577 bytes refused by the host, port stays open`, async () => {
      const s = stringOfJsonLength(MiB + 1);
      const p = open(host);
      p.post(s);
      const r = await p.next();
      expect(r && typeof r.error === 'string', `want an error object, got ${JSON.stringify(r).slice(0, 80)}`);
      expect(r.size === MiB + 1, `error reports size ${r.size}`);
      expect(r.fnv1a32 === fnv1a32(JSON.stringify(s)), 'checksum of what arrived differs');
      p.post({ after: 'the refusal' });
      same(await p.next(), { after: 'the refusal' }, 'next message');
      expect(p.closed === null, `port closed: ${p.closed}`);
      p.close();
      return `error ${JSON.stringify(r.error).slice(0, 60)}; next message echoed`;
    }],
    ...big.map((bytes) => [`${label}: browser → host message of ${bytes / MiB} MiB arrives intact`, async () => {
      const p = open(host);
      const ms = await sendLarge(p, bytes, 120000);
      p.post([1]);
      same(await p.next(), [1], 'next message');
      p.close();
      return `${bytes} bytes in ${ms.toFixed(0)} ms`;
    }]),
    [`${label}: sendNativeMessage one-shot`, async () => {
      // Chromium's sendNativeMessage takes objects only (arrays and strings: TypeError).
      for (const msg of [{ one: 'shot' }, { list: ['é', 2] }, { big: 'x'.repeat(100000) }]) {
        same(await api.runtime.sendNativeMessage(host, msg), msg, 'one-shot reply');
      }
      return '3 one-shot calls';
    }],
    [`${label}: port.disconnect() makes the host exit within 1 s`, async () => {
      const p = open(host);
      p.post({ before: 'disconnect' });
      same(await p.next(), { before: 'disconnect' }, 'reply');
      const live = await call('pids', { host });
      expect(live.pids.length >= 1, 'the runner sees no live host process');
      p.close();
      const r = await call('await-exit', { pids: live.pids, limit_ms: 1000 });
      expect(r.alive.length === 0, `host pids ${r.alive} still alive after ${r.ms} ms`);
      expect(r.ms <= 1000, `host exited after ${r.ms} ms`);
      return `exited ${r.ms} ms after disconnect`;
    }],
  ];
}

function browserCases() {
  const cases = [];
  const calc = config.calc;
  cases.push([`c-calc: printf to stdout with the stdout guard keeps the stream clean`, async () => {
    const p = open(calc);
    p.post({ op: 'printf' });
    p.post({ op: 'add', a: 1.5, b: 2 });
    p.post({ op: 'length', text: 'héllo' });
    same(await p.next(), { printed: true }, 'printf reply');
    same(await p.next(), { result: 3.5 }, 'add reply');
    same(await p.next(), { bytes: 6 }, 'length reply');
    await sleep(200);
    expect(p.closed === null, `port closed: ${p.closed}`);
    p.close();
    if (config.browser === 'chromium') {
      // Chromium gives hosts its own stderr, which the runner captures; Firefox sends
      // the lines to its Browser Console instead.
      const log = await call('log-contains', { text: 'stray printf from calc_host' });
      expect(log.found, "the printf's text is not on the host's stderr");
      return "three replies, port open, the printf's text on stderr";
    }
    return 'three replies, port open';
  }]);
  cases.push([`c-calc: the host sees which browser and extension called it`, async () => {
    const p = open(calc);
    p.post({ op: 'caller' });
    const r = await p.next();
    same(r, { browser: config.browser === 'firefox' ? 2 : 1, extension_id: config.extension_id }, 'caller');
    p.close();
    return `browser ${r.browser}, extension ${r.extension_id}`;
  }]);
  cases.push([`rust-rpc: concurrent requests are answered out of order, by id`, async () => {
    const p = open(config.rpc);
    p.post({ id: 1, op: 'sleep', ms: 400 });
    p.post({ id: 2, op: 'sleep', ms: 150 });
    p.post({ id: 3, op: 'upper', text: 'héllo' });
    p.post({ id: 4, op: 'fly' });
    p.post({ id: 5, op: 'upper', text: 'x'.repeat(MiB - 32) });
    const t0 = performance.now();
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await p.next());
    const ms = performance.now() - t0;
    const ids = replies.map((r) => r.id);
    // Handled one after another, the 400 ms sleep would answer before the 150 ms one.
    same(ids.slice(3), [2, 1], `the sleeps end last, shortest first (order ${JSON.stringify(ids)})`);
    same(replies.find((r) => r.id === 3), { id: 3, text: 'HÉLLO' }, 'upper');
    const refused = replies.find((r) => r.id === null);
    expect(refused && typeof refused.error === 'string', `no error reply for the unknown op: ${JSON.stringify(ids)}`);
    const big = replies.find((r) => r.id === 5);
    expect(big && big.text.length === MiB - 32, 'the 1 MiB reply');
    p.post({ id: 6, op: 'upper', text: 'after' });
    same(await p.next(), { id: 6, text: 'AFTER' }, 'the port keeps working');
    p.close();
    return `order ${JSON.stringify(ids)} in ${ms.toFixed(0)} ms`;
  }]);
  cases.push([`a manifest with a byte-order mark or a comment: the browser does what \`nmframe manifest check\` says`, async () => {
    const seen = {};
    for (const [kind, name] of Object.entries(config.unparsable)) {
      const p = open(name);
      p.post([1]);
      let refused = null;
      try {
        same(await p.next(5000), [1], `${kind}: the echo`);
      } catch (e) {
        refused = p.closed ?? e.message;
      }
      p.close();
      const check = await call('cli-check', { name });
      expect((refused !== null) === check.refused,
        `${kind}: the browser ${refused === null ? 'used it' : `refused it (${refused})`}, but nmframe manifest check ${check.refused ? 'refuses' : 'accepts'} it: ${check.said}`);
      seen[kind] = refused === null ? 'used' : `refused (${refused})`;
    }
    return JSON.stringify(seen);
  }]);
  for (const { label, name } of config.broken) {
    cases.push([`${label}: the browser does what \`nmframe run --browser ${config.browser}\` predicts`, async () => {
      const messages = [1, 2, 3, 4, 5];
      const p = open(name);
      for (const m of messages) p.post(m);
      const replies = [];
      try {
        for (;;) replies.push(await p.next(3000));
      } catch (e) {
        // the port closed, or the host went quiet
      }
      const closed = p.closed;
      p.close();
      const want = await call('cli-run', { host: name, messages });
      same(replies, want.replies, `replies (nmframe run: ${want.stderr})`);
      if (want.says !== null) {
        expect(closed === want.says, `the port closed with ${JSON.stringify(closed)}, nmframe run says ${JSON.stringify(want.says)}`);
      }
      return `${replies.length} replies; port: ${closed ?? 'open'}; predicted: ${want.says ?? 'no error'}`;
    }]);
  }
  cases.push([`deepest nesting the browser sends arrives at every host and comes back`, async () => {
    // A host must accept whatever the browser can send. Nesting is bounded by the
    // browser's own serializer (JSON.stringify recurses; JSON.parse does not), so find
    // the deepest array the browser will post, by round trips through the Rust host,
    // then send exactly that to every host. Depths stop at 524,287: deeper, the echo
    // (2 bytes a level) no longer fits in a 1 MiB reply.
    const ceiling = 524287;
    const tryDepth = async (depth) => {
      const p = open(config.hosts[0].name);
      try {
        p.post(nested(depth));
        const r = await p.next(10000);
        return depthOf(r) === depth ? null : `reply of depth ${depthOf(r)}`;
      } catch (e) {
        return e.message;
      } finally {
        p.close();
      }
    };
    let good = 1025;
    const first = await tryDepth(good);
    expect(first === null, `1,025 levels: ${first}`);
    let bad = null;
    let why = null;
    while (good < ceiling) {
      const d = Math.min(good * 4, ceiling);
      const r = await tryDepth(d);
      if (r === null) good = d;
      else {
        bad = d;
        why = r;
        break;
      }
    }
    while (bad !== null && bad - good > 1) {
      const mid = Math.floor((good + bad) / 2);
      const r = await tryDepth(mid);
      if (r === null) good = mid;
      else {
        bad = mid;
        why = r;
      }
    }
    // The serializer's limit is the stack it runs on, which moves a little from call to
    // call (Firefox: interpreted or JIT-compiled frames): at the very edge, postMessage may
    // throw where it just went through. Step down a level at a time when the browser
    // refuses to send; a host must echo whatever did get sent.
    const echoed = [];
    for (const h of config.hosts) {
      let depth = good;
      for (let tries = 0; ; tries++) {
        const p = open(h.name);
        try {
          p.post(nested(depth));
        } catch (e) {
          p.close();
          expect(tries < 50, `${h.label}: the browser refused ${depth} levels too: ${e.message}`);
          depth -= 1 + Math.floor(good / 500);
          continue;
        }
        const r = await p.next(20000);
        p.close();
        expect(depthOf(r) === depth, `${h.label} answered ${JSON.stringify(r).slice(0, 100)} to ${depth} levels`);
        echoed.push(depth);
        break;
      }
    }
    const limit = bad === null ? `at least ${good} levels (the probe's ceiling)` : `${good} levels, not ${bad}: ${why}`;
    return `the hosts echo ${echoed.join(' / ')} levels; the browser sends at most ${limit}`;
  }]);
  const over = config.over_limit;
  if (over) {
    cases.push([`browser refuses a browser → host message of ${over} bytes`, async () => {
      const s = stringOfJsonLength(over);
      const p = open(config.hosts[0].name);
      let thrown = null;
      try {
        p.post(s);
      } catch (e) {
        thrown = e.message;
      }
      if (thrown === null) {
        // Chromium reports it by closing the port.
        try {
          const r = await p.next(60000);
          throw new Failure(`delivered: ${JSON.stringify(r).slice(0, 80)}`);
        } catch (e) {
          if (e instanceof Failure) throw e;
          thrown = e.message;
        }
      }
      p.close();
      return `refused: ${thrown}`;
    }]);
  }
  return cases;
}

// `run.py --probe MiB,...`: how large a message the browser will send, one size a case,
// through the first host (measured once, recorded in the README; not part of the suite).
function probeCases() {
  return config.probe.map((mib) => [`probe: browser → host message of ${mib} MiB`, async () => {
    const p = open(config.hosts[0].name);
    const ms = await sendLarge(p, mib * MiB, 600000);
    p.close();
    return `delivered intact in ${ms.toFixed(0)} ms`;
  }]);
}

// `run.py --timing`: where a user's time goes with the browser in the loop, for each
// echo host. Round trips with one message in flight, as an extension waiting for each
// answer sees them (the first 10 not counted), and a bulk transfer: 256 messages of
// 64 KiB posted at once, the rate at which their echoes come back. performance.now()
// in an extension is precise to 0.1 ms or better in Chromium, and to 1 ms in Firefox
// (privacy.reduceTimerPrecision): its p50 is to the millisecond.
function timingCases() {
  const cases = [];
  const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  for (const h of config.hosts) {
    for (const [size, trips] of [[64, 1200], [64 * 1024, 400]]) {
      const label = size < 1024 ? `${size} B` : `${size / 1024} KiB`;
      cases.push([`timing: ${h.label}: round trip of a ${label} message, one in flight`, async () => {
        const p = open(h.name);
        const msg = 'x'.repeat(size - 2); // a JSON string of `size` bytes
        const times = [];
        for (let i = 0; i < trips + 10; i++) {
          const t0 = performance.now();
          p.post(msg);
          const reply = await p.next();
          const dt = performance.now() - t0;
          if (reply !== msg) throw new Failure(`reply ${i} differs`);
          if (i >= 10) times.push(dt);
        }
        p.close();
        times.sort((a, b) => a - b);
        const ms = (t) => t.toFixed(2);
        return `p50 ${ms(quantile(times, 0.5))} ms, p99 ${ms(quantile(times, 0.99))} ms over ${trips}`;
      }]);
    }
    cases.push([`timing: ${h.label}: bulk, 256 messages of 64 KiB posted at once`, async () => {
      const p = open(h.name);
      const msg = 'y'.repeat(64 * 1024 - 2);
      await p.post('warm');
      await p.next();
      const t0 = performance.now();
      for (let i = 0; i < 256; i++) p.post(msg);
      for (let i = 0; i < 256; i++) {
        if ((await p.next(60000)) !== msg) throw new Failure(`echo ${i} differs`);
      }
      const s = (performance.now() - t0) / 1000;
      p.close();
      return `${((256 * 64 * 1024) / s / 1e6).toFixed(1)} MB/s each way (${(s * 1000).toFixed(0)} ms)`;
    }]);
  }
  return cases;
}

// The chunked host's letters (core/examples/chunked_host.rs): a 32-bit LCG from 1, six
// bits per letter.
function hostLetters(n) {
  const alphabet = new TextEncoder().encode('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
  const bytes = new Uint8Array(n);
  let x = 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = alphabet[x >>> 26];
  }
  return new TextDecoder().decode(bytes);
}

const mbps = (bytes, ms) => (bytes / MiB / (ms / 1000)).toFixed(1);

// The extension's JavaScript heap, where the browser tells it (Chromium's non-standard
// performance.memory); null elsewhere.
function heapMiB() {
  const m = globalThis.performance && performance.memory;
  return m ? Math.round(m.usedJSHeapSize / MiB) : null;
}

// Messages of any size through js/nmframe-port and core's chunked endpoint (CHUNKING.md).
function chunkedCases() {
  const cases = [];
  // What each host may peak at while making and sending the three replies (81 MiB
  // together): the Rust hosts hold a reply once plus a frame; the Node example makes
  // each reply's letters in a Buffer, turns them into a string and its JSON text
  // (JSON.stringify, in nmframe-port's post), and V8 frees the Buffers late: three
  // copies of the replies beside Node's own 40 MiB (measured: 384-406 MiB). The Python
  // example makes each reply's letters in a bytearray and joins them with the head and
  // tail into the bytes it sends: three copies of the largest at once (measured: 239 MiB).
  const peakLimit = { rust: 128, 'rust async': 128, node: 448, python: 320 };
  for (const [label, host] of [['rust', config.chunked], ['rust async', config.chunked_async], ['node', config.chunked_node], ['python', config.chunked_python]]) cases.push([`chunked (${label}): replies of 1 MiB + 1, 16 MiB and 64 MiB arrive whole and byte-exact, interleaved with small messages`, async () => {
    const port = new NativePort(api.runtime.connectNative(host));
    const errors = [];
    port.onError.addListener((e) => errors.push(e.message));
    let progress = 0;
    port.onProgress.addListener(() => progress++);
    const sizes = [MiB + 1, 16 * MiB, 64 * MiB];
    const t0 = performance.now();
    const done = {};
    const large = sizes.map((bytes) => port.request({ op: 'make', bytes }, { timeoutMs: 300000 }).then((r) => {
      done[bytes] = performance.now() - t0;
      return r;
    }));
    // Small requests sent while the large replies are in flight come back too.
    const small = [];
    for (let i = 0; i < 20; i++) small.push(port.request({ op: 'size', i }, { timeoutMs: 300000 }));
    const smallReplies = await Promise.all(small);
    smallReplies.forEach((r, i) => expect(typeof r.bytes === 'number' && r.id !== undefined, `small reply ${i}: ${JSON.stringify(r)}`));
    const replies = await Promise.all(large);
    const memory = await call('memory', { host });
    const browserMemory = await call('browser-memory', {});
    const heap = heapMiB();
    const letters = hostLetters(64 * MiB);
    replies.forEach((r, i) => {
      const want = sizes[i];
      const got = JSON.stringify(r).length;
      expect(got === want, `reply ${i}: ${got} bytes, ${want} asked`);
      expect(r.data === letters.slice(0, r.data.length), `reply ${i}: the data differs from the host's letters`);
    });
    expect(errors.length === 0, `errors: ${errors.join('; ')}`);
    expect(progress >= 80, `${progress} progress events`);
    expect(memory.kib < peakLimit[label] * 1024, `the host peaked at ${memory.kib} KiB (the limit for it: ${peakLimit[label]} MiB)`);
    port.disconnect();
    return `done at ${sizes.map((b) => `${(b / MiB).toFixed(0)} MiB: ${done[b].toFixed(0)} ms`).join(', ')}; ` +
      `${mbps(sizes.reduce((a, b) => a + b), done[64 * MiB])} MB/s overall; host peak ${Math.round(memory.kib / 1024)} MiB; ` +
      `largest browser process peak ${Math.round(browserMemory.largest_peak_kib / 1024)} MiB` +
      (heap === null ? '; extension heap not readable here' : `; extension heap ${heap} MiB`);
  }]);
  // Version 1 lost the upload and wedged the port here: both sides number their messages
  // from 0, and the extension's refusal of the host's message 0 was taken for an abort of
  // its own upload 0.
  for (const [label, host] of [['rust', config.chunked], ['rust async', config.chunked_async], ['node', config.chunked_node], ['python', config.chunked_python]]) cases.push([`chunked (${label}): the extension refuses a 20 MiB reply while its own 3 MiB upload is in flight; the upload arrives and the port goes on`, async () => {
    const port = new NativePort(api.runtime.connectNative(host), { maxBytes: 4 * MiB });
    const errors = [];
    port.onError.addListener((e) => errors.push(e));
    const refused = port.request({ op: 'make', bytes: 20 * MiB }, { timeoutMs: 2000 }).catch((e) => e);
    const body = hostLetters(3 * MiB);
    const sized = await port.request({ op: 'size', body }, { timeoutMs: 60000 });
    const sent = new TextEncoder().encode(JSON.stringify({ op: 'size', body, id: sized.id }));
    expect(sized.bytes === sent.length, `the host got ${sized.bytes} bytes of ${sent.length}`);
    expect(sized.crc32 === crc32(sent), `CRC-32 ${sized.crc32}, sent ${crc32(sent)}`);
    expect(errors.length === 1 && errors[0].code === 'too-large' && errors[0].id === 0, `errors: ${errors.map((e) => `${e.code} ${e.id}`).join('; ')}`);
    const after = await port.request({ op: 'size' }, { timeoutMs: 10000 });
    expect(typeof after.bytes === 'number', `after: ${JSON.stringify(after)}`);
    const late = await refused;
    expect(late && late.code === 'request-timeout', `the refused reply: ${late && (late.code || JSON.stringify(late).slice(0, 80))}`);
    port.disconnect();
    return `upload of ${sent.length} bytes intact; the reply refused: ${errors[0].message}; the port still answers`;
  }]);
  cases.push(['chunked: a 128 MiB reply arrives whole (twice what Chromium takes in one message the other way)', async () => {
    const port = new NativePort(api.runtime.connectNative(config.chunked), { maxBytes: 160 * MiB });
    const before = await call('browser-memory', {});
    const t0 = performance.now();
    const r = await port.request({ op: 'make', bytes: 128 * MiB }, { timeoutMs: 120000 });
    const ms = performance.now() - t0;
    const after = await call('browser-memory', {});
    expect(r.data.length === 128 * MiB - `{"id":${r.id},"data":""}`.length, `${r.data.length} letters`);
    expect(r.data === hostLetters(r.data.length), 'the data differs from the host\'s letters');
    port.disconnect();
    return `${ms.toFixed(0)} ms, ${mbps(128 * MiB, ms)} MB/s; the largest browser process peaked at ` +
      `${Math.round(after.largest_peak_kib / 1024)} MiB (${Math.round(before.largest_peak_kib / 1024)} MiB before)`;
  }]);
  cases.push(['chunked: a 64 MiB reply alone, timed', async () => {
    const port = new NativePort(api.runtime.connectNative(config.chunked));
    await port.request({ op: 'size' }); // the host is up
    const t0 = performance.now();
    const r = await port.request({ op: 'make', bytes: 64 * MiB }, { timeoutMs: 300000 });
    const ms = performance.now() - t0;
    expect(r.data.length === 64 * MiB - `{"id":${r.id},"data":""}`.length, `${r.data.length} letters`);
    port.disconnect();
    return `${ms.toFixed(0)} ms, ${mbps(64 * MiB, ms)} MB/s`;
  }]);
  cases.push(['chunked: an 80 MiB message reaches the host whole (Chromium refuses over 64 MiB in one message)', async () => {
    const port = new NativePort(api.runtime.connectNative(config.chunked));
    const body = hostLetters(80 * MiB);
    const t0 = performance.now();
    const sized = await port.request({ op: 'size', body }, { timeoutMs: 300000 });
    const ms = performance.now() - t0;
    const sent = new TextEncoder().encode(JSON.stringify({ op: 'size', body, id: sized.id }));
    expect(sized.bytes === sent.length, `the host got ${sized.bytes} bytes of ${sent.length}`);
    expect(sized.crc32 === crc32(sent), `CRC-32 ${sized.crc32}, sent ${crc32(sent)}`);
    port.disconnect();
    return `${sent.length} bytes in ${ms.toFixed(0)} ms, ${mbps(sent.length, ms)} MB/s`;
  }]);
  cases.push(['chunked: an aborted, a truncated, a malformed, a corrupted and a version-1 transfer are reported; the port keeps working', async () => {
    const port = new NativePort(api.runtime.connectNative(config.chunk_faults));
    const errors = [];
    port.onError.addListener((e) => errors.push(e));
    const want = { abort: 'aborted', truncate: 'length', malformed: 'malformed', checksum: 'checksum', version: 'version' };
    for (const [fault, code] of Object.entries(want)) {
      const before = errors.length;
      const reply = await port.request({ fault });
      expect(reply.ok === true, `${fault}: ${JSON.stringify(reply)}`);
      const got = errors.slice(before).map((e) => e.code);
      expect(got.length === 1 && got[0] === code, `${fault}: errors ${JSON.stringify(got)}, want ${code}`);
    }
    expect(port.closed === null, `the port closed: ${port.closed}`);
    port.disconnect();
    return errors.map((e) => e.message).join(' | ');
  }]);
  cases.push(['chunked: sendNativeMessage of the package brings back a 3 MiB reply', async () => {
    const r = await sendNativeMessage(config.chunked, { op: 'make', id: 9, bytes: 3 * MiB });
    expect(JSON.stringify(r).length === 3 * MiB, `${JSON.stringify(r).length} bytes`);
    return 'whole';
  }]);
  return cases;
}

async function main() {
  const go = await call('start', { browser: config.browser, agent: navigator.userAgent });
  if (!go.run) return; // a restarted service worker: the run is already under way
  const cases = [];
  if (config.probe) {
    cases.push(...probeCases());
  } else if (config.timing) {
    cases.push(...timingCases());
  } else {
    for (const h of config.hosts) cases.push(...hostCases(h.name, h.label));
    cases.push(...browserCases());
    cases.push(...chunkedCases());
  }
  if (config.only) cases.splice(0, cases.length, ...cases.filter(([name]) => name.includes(config.only)));
  await call('plan', { cases: cases.map(([name]) => name) });
  for (const [name, run] of cases) {
    const t0 = performance.now();
    let ok = true;
    let detail;
    try {
      detail = await run();
    } catch (e) {
      ok = false;
      detail = e instanceof Failure ? e.message : `${e && e.name}: ${e && e.message}`;
    }
    await call('result', { name, ok, detail, ms: Math.round(performance.now() - t0) });
  }
  await call('done', {});
}

main().catch((e) => call('done', { error: `${e && e.message}` }));
