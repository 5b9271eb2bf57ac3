// The test SMTP server (test/fakes/smtp-sink.ts: RFC 5321 over TCP on loopback) as its own
// process, so the report's mail crosses a real socket to another program. Usage:
//   node --import tsx test/report-job/smtp-sink-process.ts OUT.jsonl
// Prints "port N" once listening; appends every accepted message to OUT.jsonl as one JSON line.
import { appendFileSync } from 'node:fs';
import { SmtpSink } from '../fakes/smtp-sink.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: smtp-sink-process.ts OUT.jsonl\n');
  process.exit(64);
}
const sink = await SmtpSink.start();
const push = sink.messages.push.bind(sink.messages);
sink.messages.push = (...items) => {
  for (const m of items) appendFileSync(out, `${JSON.stringify(m)}\n`);
  return push(...items);
};
process.stdout.write(`port ${sink.port}\n`);
process.on('SIGTERM', () => void sink.close().then(() => process.exit(0)));
