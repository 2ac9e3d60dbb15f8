// A plain Node host as the docs and most tutorials show it (process.stdin,
// readUInt32LE, JSON.parse; a header and a body written to process.stdout): the
// baseline for js/nmframe-host in the end-to-end benchmark. It echoes every message.
let pending = Buffer.alloc(0);

function send(msg) {
  const body = Buffer.from(JSON.stringify(msg));
  const header = Buffer.alloc(4);
  header.writeUInt32LE(body.length, 0);
  process.stdout.write(header);
  process.stdout.write(body);
}

process.stdin.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4) {
    const len = pending.readUInt32LE(0);
    if (pending.length < 4 + len) break;
    const msg = JSON.parse(pending.subarray(4, 4 + len).toString());
    pending = pending.subarray(4 + len);
    send(msg);
  }
});
