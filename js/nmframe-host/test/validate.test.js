// The byte-level JSON validator against V8's JSON.parse: the same verdict on every text
// of a table of edge cases and on thousands of generated and mutated ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { jsonInvalidAt } from '../validate.js';

// JSON.parse's verdict on bytes read as Latin-1 (one byte, one character).
function parses(bytes) {
  try {
    JSON.parse(Buffer.from(bytes).latin1Slice());
    return true;
  } catch {
    return false;
  }
}

function agree(bytes, what) {
  const at = jsonInvalidAt(bytes);
  assert.equal(at === -1, parses(bytes), `${what}: ${JSON.stringify(Buffer.from(bytes).latin1Slice().slice(0, 80))} (validator: ${at})`);
  if (at !== -1) assert.ok(at >= 0 && at <= bytes.length, `offset ${at} of ${bytes.length}`);
}

const EDGES = [
  '{}', '[]', '[1,2]', '{"a":1}', ' [ 1 , { "b" : [ ] } ] ', '-0', '0.5e+10', '01', '1.', '-', '--1', '1e', '1e+', '.5',
  '"\\u12G4"', '"\\u12"', '"a\\x"', '"\\', '[1,]', '{"a":}', '{"a" 1}', '{"a":1,}', '{,}', '[,1]', '[1 2]', '1 2',
  'tru', 'true', 'truex', 'nul', 'null', 'false', 'fals', '"\u0001"', '"\u001f"', '"\u007f"', '"abc', '', ' ', '\t\n\r ',
  '{"a":1,"b":[true,false,null,"x\\n\\"\\\\\\/\\b\\f\\r\\t\\u00e9"]}', '1e5', '1E-5', '-1.5e', '"\u00e9"', '\u00e9',
  '[' + '"0123456789abcdefghij"'.repeat(3) + ']', '["' + 'x'.repeat(100) + '\\"' + 'y'.repeat(100) + '"]',
  '"' + 'x'.repeat(200) + '\u0000' + 'y'.repeat(10) + '"', '"' + 'x'.repeat(200), '{"' + 'k'.repeat(70) + '":1}',
  '[{"a":0,"b":{"c":[1,2],"d":"x"}}]', '{"a":[}', '[}', '{]', '[[[]]]', '[[[]]', '"\u00ef\u00bb\u00bf"', '\u00ef\u00bb\u00bf{}',
];

test('edge cases: the same verdict as JSON.parse', () => {
  for (const text of EDGES) agree(Buffer.from(text, 'latin1'), 'edge');
});

test('deep nesting: 500,000 levels, valid and one short', () => {
  const open = Buffer.alloc(500000, '[');
  const close = Buffer.alloc(500000, ']');
  assert.equal(jsonInvalidAt(Buffer.concat([open, close])), -1);
  assert.equal(jsonInvalidAt(Buffer.concat([open, close.subarray(1)])), 999999);
  // The stack grown for it is given back; small texts still validate.
  assert.equal(jsonInvalidAt(Buffer.from('[[1]]')), -1);
});

// A small deterministic generator (xorshift32).
function rng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function value(r, depth) {
  const k = depth > 6 ? r(5) : r(8);
  switch (k) {
    case 0:
      return ['true', 'false', 'null'][r(3)];
    case 1:
      return ['0', '-0', '12', '-3.25', '1e9', '6.02E+23', '1.5e-7', '123456789012345678901234567890'][r(8)];
    case 2:
    case 3: {
      const parts = ['a', 'é', '😀', '\\n', '\\"', '\\\\', '\\/', '\\u00e9', '\\ud800', ' ', 'x'.repeat(r(40))];
      let s = '"';
      for (let i = r(6); i > 0; i--) s += parts[r(parts.length)];
      return `${s}"`;
    }
    case 4:
    case 5:
      return `[${Array.from({ length: r(4) }, () => value(r, depth + 1)).join(r(2) ? ',' : ' , ')}]`;
    default:
      return `{${Array.from({ length: r(4) }, (_, i) => `"k${i}"${r(2) ? ':' : ' : '}${value(r, depth + 1)}`).join(',')}}`;
  }
}

test('generated JSON and mutations of it: the same verdict as JSON.parse', () => {
  const r = rng(0x6e6d6672);
  const bytes = [0x20, 0x22, 0x5c, 0x2c, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0x2d, 0x2e, 0x30, 0x31, 0x65, 0x75, 0x00, 0x1f, 0x7f, 0xc3, 0xa9, 0x74, 0x6e];
  for (let n = 0; n < 4000; n++) {
    const text = Buffer.from(value(r, 0));
    agree(text, 'generated');
    for (let m = 0; m < 4; m++) {
      const mutated = Buffer.from(text);
      const at = r(mutated.length);
      switch (r(3)) {
        case 0:
          mutated[at] = bytes[r(bytes.length)];
          agree(mutated, 'one byte changed');
          break;
        case 1:
          agree(Buffer.concat([mutated.subarray(0, at), mutated.subarray(at + 1)]), 'one byte dropped');
          break;
        default:
          agree(mutated.subarray(0, at), 'cut short');
      }
    }
  }
});
