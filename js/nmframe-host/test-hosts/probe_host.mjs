#!/usr/bin/env node
// The test suite's probe: a host that answers requests exercising the API and reports
// what came of each (test/host.test.js drives it through real pipes; it lives outside test/, where node --test would run it as a test file). Options come from
// the environment: NMFRAME_TEST_MAX_INBOUND, NMFRAME_TEST_EVENTS (take messages as
// events rather than from the iterator).
import { Host, HostError } from '../nmframe-host.js';

const options = {};
if (process.env.NMFRAME_TEST_MAX_INBOUND) options.maxInbound = Number(process.env.NMFRAME_TEST_MAX_INBOUND);
const host = new Host(options);

// What became of a send: true, false, or the error's code and numbers.
const outcome = (promise) =>
  promise.then(
    (ok) => ({ ok }),
    (err) => ({ error: err instanceof HostError ? err.code : err.name, message: err.message, size: err.size, limit: err.limit, offset: err.offset }),
  );

host.on('invalid', (err) => {
  host.send({ invalid: err.code, size: err.size, limit: err.limit, offset: err.offset, message: err.message });
});

async function answer(req) {
  switch (req.op) {
    case 'caller':
      return host.send({ caller: host.caller, maxInbound: host.maxInbound });
    case 'log':
      console.log('console.log from the host');
      console.info('console.info from the host');
      process.stdout.write('process.stdout.write from the host\n');
      return host.send({ logged: true });
    case 'send':
      return host.send({ op: 'send', result: await outcome(host.send('x'.repeat(req.bytes - 2))) });
    case 'raw':
      return host.send({ op: 'raw', result: await outcome(host.sendRaw(req.text)) });
    case 'raw-bytes':
      return host.send({ op: 'raw-bytes', result: await outcome(host.sendRaw(Buffer.from(req.text, 'latin1'))) });
    case 'bigint':
      return host.send({ op: 'bigint', result: await outcome(host.send({ n: 1n })) });
    case 'flood': {
      // Awaited sends: what waits for the pipe stays near the high-water mark.
      let most = 0;
      for (let i = 0; i < req.count; i++) {
        await host.send({ i, pad: 'p'.repeat(req.bytes) });
        most = Math.max(most, host.queued);
      }
      return host.send({ flooded: req.count, mostQueued: most });
    }
    case 'spam': {
      // Sends nobody awaits: the queue stops at maxQueued with an error, never grows on.
      const results = await Promise.all(Array.from({ length: req.count }, (_, i) => outcome(host.send({ i, pad: 'p'.repeat(req.bytes) }))));
      const refused = results.filter((r) => r.error === 'queue-full');
      return host.send({ spammed: req.count, refused: refused.length, message: refused[0]?.message });
    }
    case 'hold':
      // Something that keeps the process alive after the browser has gone.
      setInterval(() => {}, 1000);
      return host.send({ holding: true });
    default:
      return host.send(req);
  }
}

if (process.env.NMFRAME_TEST_EVENTS) {
  host.on('message', (req) => answer(req));
  host.on('error', (err) => {
    console.error(`probe_host: ${err.message}`);
    process.exitCode = 1;
  });
} else {
  try {
    for await (const req of host) await answer(req);
  } catch (err) {
    console.error(`probe_host: ${err.message}`);
    process.exitCode = 1;
  }
}
