// js/nmframe-host's byte-level JSON validator against JSON.parse (of the bytes read as
// Latin-1, the fastest way to hand them to it), on the end-to-end benchmark's payloads:
//     node benches/node/validate.mjs
import { jsonInvalidAt } from '../../js/nmframe-host/validate.js';

function nested(len) {
  let s = '{"items":[';
  for (let i = 0; ; i++) {
    const item = `{"a":${i},"b":{"c":[1,2],"d":"x"}},`;
    if (s.length + item.length + 12 > len) break;
    s += item;
  }
  s += '{"pad":"';
  while (s.length < len - 4) s += '.';
  return Buffer.from(`${s}"}]}`);
}

function strings(len) {
  const fill = 'native messaging h\u00e9llo frames json ';
  let s = '{"t":"';
  while (Buffer.byteLength(s) < len - 3) s += fill[s.length % fill.length];
  while (Buffer.byteLength(s) < len - 2) s += '.';
  return Buffer.from(`${s}"}`);
}

const time = (n, fn) => {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t) / n;
};

console.log('| payload | validate.js MB/s | JSON.parse MB/s | ratio |\n| --- | --- | --- | --- |');
for (const [name, make] of [['strings', strings], ['nested', nested]]) {
  for (const len of [64, 1024, 65536, 1 << 20]) {
    if (name === 'nested' && len < 1024) continue;
    const b = make(len);
    if (jsonInvalidAt(b) !== -1) throw new Error(`${name} ${len}: not valid`);
    const n = Math.max(50, Math.floor(256e6 / len));
    time(n / 10, () => jsonInvalidAt(b)); // warm up
    time(n / 10, () => JSON.parse(b.latin1Slice(0, b.length)));
    const v = time(n, () => jsonInvalidAt(b));
    const p = time(n, () => JSON.parse(b.latin1Slice(0, b.length)));
    console.log(`| ${name} ${len} B | ${((len / v) * 1e3).toFixed(0)} | ${((len / p) * 1e3).toFixed(0)} | ${(p / v).toFixed(2)}× |`);
  }
}
