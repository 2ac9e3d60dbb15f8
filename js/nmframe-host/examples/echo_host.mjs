#!/usr/bin/env node
// A native-messaging host that echoes every message back unchanged, on nmframe-host.
//
// Each message goes back as the bytes that came, once checked to be UTF-8 JSON of at
// most 1 MiB. A message it cannot echo (over 1 MiB, not JSON, or over the inbound cap)
// is answered with {"error", "size", "fnv1a32"} (the size and FNV-1a checksum of what
// arrived, as every echo host in nmframe does), and the host goes on. It exits when the
// browser closes its stdin; exit 1 when the stream broke (the reason on stderr).
//
// Drive it with `nmframe run -m '{"a":1}' -- js/nmframe-host/examples/echo_host.mjs`.

import { Host, HostError, fnv1a32 } from '../nmframe-host.js';

const host = new Host();

// A message over the inbound cap was skipped as it arrived: there is no checksum to give.
host.on('invalid', (err) => {
  console.error(`echo_host: ${err.message}`);
  host.send({ error: err.message, size: err.size }).catch(() => {});
});

try {
  for await (const frame of host.frames()) {
    try {
      await host.sendRaw(frame);
    } catch (err) {
      if (!(err instanceof HostError)) throw err;
      console.error(`echo_host: not echoing a ${frame.length}-byte message: ${err.message}`);
      await host.send({ error: err.message, size: frame.length, fnv1a32: fnv1a32(frame) });
    }
  }
} catch (err) {
  console.error(`echo_host: ${err.message}`);
  process.exitCode = 1;
}
