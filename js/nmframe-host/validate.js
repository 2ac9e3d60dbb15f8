// JSON validation over bytes for nmframe-host (RFC 8259): iterative, so there is no
// depth limit (browsers send JSON nested as deep as JSON.stringify writes it), and
// nothing is allocated per value. JSON.parse would build every object and array only
// to drop them: on structured messages this is three to four times faster, on long
// strings about as fast (benches/node/validate.mjs measures both). UTF-8 is checked
// apart, by buffer.isUtf8.

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;
// The bytes inside a string that need a look: '"', '\\' and the control characters.
const STR = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STR[c] = 1;
STR[0x22] = 1;
STR[0x5c] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

const ARRAY = 1;
const OBJECT = 2;
// The open containers, innermost last; kept between calls unless a deep message grew it.
let stack = new Uint8Array(1024);

/** -1 when `b` holds exactly one JSON text, else the offset of the first byte where it does not. */
export function jsonInvalidAt(b) {
  const at = walk(b);
  if (stack.length > 65536) stack = new Uint8Array(1024);
  return at;
}

function push(depth, kind) {
  if (depth === stack.length) {
    const grown = new Uint8Array(depth * 2);
    grown.set(stack);
    stack = grown;
  }
  stack[depth] = kind;
}

// Reads past the end give undefined, which matches no byte: the walk needs no bounds
// test beyond the loops'.
function walk(b) {
  const n = b.length;
  const view = n >= 64 ? new DataView(b.buffer, b.byteOffset, n) : null;
  let i = 0;
  let depth = 0;
  for (;;) {
    // A value is due: at the start, after '[', ',' or ':'.
    while (WS[b[i]] === 1) i++;
    if (i >= n) return i;
    let c = b[i];
    if (c === 0x7b) {
      i++;
      while (WS[b[i]] === 1) i++;
      if (b[i] === 0x7d) i++;
      else {
        push(depth++, OBJECT);
        i = key(b, view, i, n);
        if (i < 0) return ~i;
        continue;
      }
    } else if (c === 0x5b) {
      i++;
      while (WS[b[i]] === 1) i++;
      if (b[i] === 0x5d) i++;
      else {
        push(depth++, ARRAY);
        continue;
      }
    } else if (c === 0x22) {
      i = string(b, view, i + 1, n);
      if (i < 0) return ~i;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      i = number(b, i);
      if (i < 0) return ~i;
    } else if (c === 0x74) {
      if (b[i + 1] !== 0x72 || b[i + 2] !== 0x75 || b[i + 3] !== 0x65) return i;
      i += 4;
    } else if (c === 0x66) {
      if (b[i + 1] !== 0x61 || b[i + 2] !== 0x6c || b[i + 3] !== 0x73 || b[i + 4] !== 0x65) return i;
      i += 5;
    } else if (c === 0x6e) {
      if (b[i + 1] !== 0x75 || b[i + 2] !== 0x6c || b[i + 3] !== 0x6c) return i;
      i += 4;
    } else return i;
    // A value ended: a ',' or the close of the container it is in, or the end of the text.
    for (;;) {
      while (WS[b[i]] === 1) i++;
      if (depth === 0) return i === n ? -1 : i;
      c = b[i];
      const kind = stack[depth - 1];
      if (c === 0x2c) {
        i++;
        if (kind === OBJECT) {
          while (WS[b[i]] === 1) i++;
          i = key(b, view, i, n);
          if (i < 0) return ~i;
        }
        break;
      }
      if (c !== (kind === OBJECT ? 0x7d : 0x5d)) return i;
      i++;
      depth--;
    }
  }
}

// A member's key and its ':' (at `i`, its opening quote); the offset after the ':', or
// ~offset of the fault.
function key(b, view, i, n) {
  if (b[i] !== 0x22) return ~i;
  i = string(b, view, i + 1, n);
  if (i < 0) return i;
  while (WS[b[i]] === 1) i++;
  if (b[i] !== 0x3a) return ~i;
  return i + 1;
}

// The offset after a string's closing quote (`i` is just after the opening one), or
// ~offset of the fault.
function string(b, view, i, n) {
  for (;;) {
    // Most strings are short: a byte at a time for the first 16.
    const quick = Math.min(n, i + 16);
    while (i < quick && STR[b[i]] === 0) i++;
    if (i === quick && view !== null) {
      // A long one: four bytes at a time while none is '"', '\\' or below 0x20 (each
      // test may flag a byte that is not, never miss one that is).
      while (i + 4 <= n) {
        const x = view.getUint32(i, true);
        const q = x ^ 0x22222222;
        const s = x ^ 0x5c5c5c5c;
        if ((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) break;
        i += 4;
      }
    }
    while (i < n && STR[b[i]] === 0) i++;
    if (i >= n) return ~i;
    if (b[i] === 0x22) return i + 1;
    if (b[i] !== 0x5c) return ~i;
    const e = b[i + 1];
    if (e === 0x75) {
      if (HEX[b[i + 2]] !== 1 || HEX[b[i + 3]] !== 1 || HEX[b[i + 4]] !== 1 || HEX[b[i + 5]] !== 1) return ~i;
      i += 6;
    } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      i += 2;
    } else return ~i;
  }
}

const isDigit = (c) => c >= 0x30 && c <= 0x39;

// The offset after a number starting at `i`, or ~offset of the fault.
function number(b, i) {
  if (b[i] === 0x2d) i++;
  if (b[i] === 0x30) i++;
  else if (b[i] >= 0x31 && b[i] <= 0x39) while (isDigit(b[i])) i++;
  else return ~i;
  if (b[i] === 0x2e) {
    i++;
    if (!isDigit(b[i])) return ~i;
    while (isDigit(b[i])) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    if (!isDigit(b[i])) return ~i;
    while (isDigit(b[i])) i++;
  }
  return i;
}
