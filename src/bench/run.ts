// `npm run bench`: parser throughput and a fleet scan over real SSH to fake hosts on loopback.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StubTool } from '../demo/fake-host.js';
import { startFakeFleet, type FleetHostEntry } from '../demo/fleet.js';
import { loadInventory } from '../inventory/load.js';
import { AuthAggregator } from '../logs/aggregate.js';
import { ADAPTERS } from '../mta/index.js';
import { eximQueueSink, parseEximBp } from '../mta/exim/listing.js';
import { parseQmailQread } from '../mta/qmail/listing.js';
import { LineSplitter } from '../transport/lines.js';
import { benchBigHost } from './big-host.js';
import { scanFleet } from '../scan/fleet.js';
import { KnownHostsFile } from '../transport/known-hosts.js';
import { benchKnownHosts } from './known-hosts.js';
import { benchPostfixSendmail, best } from './parsers-postfix-sendmail.js';

function eximListing(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `1W${String(i % 10000).padStart(4, '0')}-${String(i).padStart(6, '0')}-${String(i % 100).padStart(2, '0')}`;
    out.push(
      `${(i % 59) + 1}m  2.${i % 10}K ${id} <user${i % 50}@example.test>`,
      `          r${i}@remote.test`,
      `          s${i}@remote.test`,
      '',
    );
  }
  return out.join('\n');
}

function eximLog(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      `2026-11-23 04:${String(i % 60).padStart(2, '0')}:00 1W${String(i % 10000).padStart(4, '0')}-${String(i).padStart(6, '0')}-00 <= spam${i}@forged.test H=(x) [192.0.2.${i % 250}]:4242 P=esmtpa A=dovecot_login:user${i % 50}@example.test S=2048 for a@remote.test b@remote.test`,
    );
  return out.join('\n');
}

/** One run (the log attribution, whose parser keeps state across lines). */
function time<T>(label: string, bytes: number, fn: () => T): T {
  const t0 = process.hrtime.bigint();
  const r = fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${label.padEnd(36)} ${ms.toFixed(1).padStart(8)} ms  ${((bytes / 1e6 / ms) * 1000).toFixed(1).padStart(7)} MB/s`);
  return r;
}

// Parsers: the fastest of 5 runs each. "parse" keeps every message (the batch parse: `mailsweep
// parse`, the incident); "streamed" is the attributed scan's read; "counts only" a plain scan's.
const RUNS = 5;
console.log(`queue parsers: 100k messages each, MB/s of the fastest of ${RUNS} runs`);
const listing = eximListing(100_000);
const n = best('exim -bp parse, 100k messages', listing.length, RUNS, () => parseEximBp(listing).messages.length);
if (n !== 100_000) throw new Error(`parsed ${n}`);

// The scan's path: the queue read's bytes in 32 KiB chunks through the transport's line splitter
// into the streaming sink (which keeps own copies of what messages hold).
const read = Buffer.from(`100000\n__MAILSWEEP_RC__ bpc 0\n${listing}\n__MAILSWEEP_RC__ bp 0\n`);
for (const countsOnly of [false, true]) {
  const label = countsOnly ? 'exim queue read counts only, 100k' : 'exim queue read streamed, 100k';
  const streamedN = best(label, read.length, RUNS, () => {
    const sink = eximQueueSink(0, { countsOnly });
    const split = new LineSplitter((line) => sink.line(line));
    for (let at = 0; at < read.length; at += 32 * 1024) split.push(read.subarray(at, at + 32 * 1024));
    split.end();
    const l = sink.end('', 0);
    return l.messages.length + (l.counts?.total ?? 0);
  });
  if (streamedN !== 100_000) throw new Error(`streamed ${streamedN}`);
}

function qmailQread(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      `${1 + (i % 28)} Nov 2026 ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00 GMT  #${1_000_000 + i}  ${1000 + (i % 5000)}  <user${i % 50}@example.test> ${i % 13 ? '' : ' bouncing'}`,
      `\tremote\tr${i}@remote.test`,
      `  done\tremote\ts${i}@remote.test`,
    );
  return out.join('\n');
}
const qread = qmailQread(100_000);
const qn = best('qmail-qread parse, 100k messages', qread.length, RUNS, () => parseQmailQread(qread, 1_795_000_000).messages.length);
if (qn !== 100_000) throw new Error(`qmail parsed ${qn}`);

const log = eximLog(200_000);
time('exim mainlog attribution, 200k lines', log.length, () => {
  const p = ADAPTERS.exim.logs.create({ nowSeconds: 1_795_000_000 });
  const agg = new AuthAggregator();
  const sink = { submission: (s: never) => agg.add(s), failure: (f: never) => agg.addFailure(f), warning: () => {} };
  for (const line of log.split('\n')) p.feed(line, sink as never);
  p.end(sink as never);
  return agg.result().length;
});

benchPostfixSendmail();

benchKnownHosts();

// One 100k-message host among 50 small ones (each scan in its own process: peak RSS, event-loop delay).
if (process.env.BENCH_BIG !== '0') await benchBigHost({ messages: 100_000, small: 50 });

const HOSTS = Number(process.env.BENCH_HOSTS ?? 200);
const entries: FleetHostEntry[] = Array.from({ length: HOSTS }, (_, i) => ({
  name: `mx${i}`,
  mode: 'normal',
  tools: [
    { name: 'ps', cases: { '*': { text: 'exim4\n' } } } as StubTool,
    { name: 'exim4', cases: { '-bpc': { text: '50\n' }, '-bp': { text: eximListing(50) } } },
  ],
}));
const fleet = await startFakeFleet(mkdtempSync(join(tmpdir(), 'ms-bench-')), entries);
try {
  const inv = await loadInventory(fleet.inventoryPath);
  for (const forks of [5, 50, 200]) {
    const t0 = Date.now();
    const r = await scanFleet(inv.hosts, {
      forks,
      commandTimeoutMs: 30_000,
      connectTimeoutMs: 10_000,
      knownHosts: new KnownHostsFile(fleet.knownHostsPath),
      hostKeyPolicy: 'strict',
      includeMessages: false,
      attribution: false,
    });
    const ms = Date.now() - t0;
    if (r.summary.byStatus.ok !== HOSTS) throw new Error(`only ${r.summary.byStatus.ok} hosts ok`);
    console.log(
      `fleet scan ${HOSTS} hosts, forks ${String(forks).padEnd(4)}       ${String(ms).padStart(8)} ms  ${((HOSTS / ms) * 1000).toFixed(1).padStart(7)} hosts/s`,
    );
  }
} finally {
  await fleet.close();
}
