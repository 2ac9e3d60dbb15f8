#!/usr/bin/env node
// A host that sends and receives messages of any size: nmframe-host with the chunked
// envelope (docs/CHUNKING.md), the other end of js/nmframe-port. It answers the same
// requests as the Rust example (core/examples/chunked_host.rs), objects with an `op` and
// an `id`, answered with the same `id`:
// - {"op":"echo","id":1,...}: the request itself comes back, whatever its size;
// - {"op":"make","id":2,"bytes":N}: a reply whose JSON text is exactly N bytes,
//   {"id":2,"data":"..."}, the letters of a fixed sequence the extension regenerates;
// - {"op":"size","id":3,...}: {"id":3,"bytes":B,"crc32":C} of the request's JSON text
//   (as JSON.stringify writes the value that arrived, which is what a browser sends).
// A transfer the extension botched is reported on stderr and to the extension as
// {"transfer_error":CODE,"message":TEXT}; the host goes on.

import { crc32 } from '../../nmframe-port/nmframe-port.js';
import { Host } from '../nmframe-host.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// `n` letters of a 32-bit LCG from 1, six bits per letter (as the Rust host makes them).
function letters(n) {
  const out = Buffer.allocUnsafe(n);
  let x = 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = ALPHABET.charCodeAt(x >>> 26);
  }
  return out.latin1Slice(0, n);
}

function answer(request) {
  if (request === null || typeof request !== 'object') return { error: 'a request is an object with op and id' };
  const { op, id } = request;
  switch (op) {
    case 'echo':
      return request;
    case 'size': {
      const text = Buffer.from(JSON.stringify(request));
      return { id, bytes: text.length, crc32: crc32(text) };
    }
    case 'make': {
      const head = `{"id":${JSON.stringify(id)},"data":""}`.length;
      const n = (request.bytes ?? 0) - head;
      return n < 0 ? { id, error: 'too small' } : { id, data: letters(n) };
    }
    default:
      return { id, error: `no op ${JSON.stringify(op)}` };
  }
}

const host = new Host();
const port = host.chunked();
port.onMessage.addListener((request) => {
  port.post(answer(request)).catch((err) => console.error(`chunked_host: reply not sent: ${err.message}`));
});
port.onError.addListener((err) => {
  console.error(`chunked_host: ${err.message}`);
  // A refusal of one of this host's replies needs no answer: the extension sent it.
  if (err.code !== 'refused') port.post({ transfer_error: err.code, message: err.message }).catch(() => {});
});
host.on('error', (err) => {
  console.error(`chunked_host: ${err.message}`);
  process.exitCode = 1;
});
