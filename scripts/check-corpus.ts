// Run the queue parsers over every `kind: queue-listing` file of a corpus and compare with
// its expected.json. Usage: npx tsx scripts/check-corpus.ts <corpus-dir>
// Prints one PASS/FAIL line per file; exits 1 on any mismatch, 2 on bad usage.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEximBp } from '../src/mta/exim/listing.js';
import { parsePostqueueJson, parsePostqueueP } from '../src/mta/postfix/listing.js';
import { parseQmailQstat } from '../src/mta/qmail/listing.js';
import { parseMailq } from '../src/mta/sendmail/listing.js';
import type { QueueListing, QueueMessage } from '../src/mta/types.js';
import { same, tally } from './corpus-compare.js';

interface Expected {
  mta: string;
  kind: string;
  messageCount?: number | null;
  frozenCount?: number | null;
  nullSenderCount?: number | null;
  frozenNullSenderCount?: number;
  senders?: Record<string, number>;
  recipientCount?: number;
  messageIds?: string[];
  frozenIds?: string[];
  reportedTotal?: number | null;
  totalSizeBytes?: number;
  activeCount?: number;
  holdCount?: number;
  deferredCount?: number;
  queues?: Record<string, number>;
  localLoginMarkers?: Record<string, number>;
  messagesInQueue?: number;
  notYetPreprocessed?: number;
  totalRequestsLines?: number[];
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: tsx scripts/check-corpus.ts <corpus-dir>');
  process.exit(2);
}
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { files: Record<string, Expected> };

/** The corpus writes senders as shown; the parsers return them without <> and '' for null. */
function normalSender(mta: string, s: string): string {
  if (mta === 'postfix' && s === 'MAILER-DAEMON') return '';
  if (s === '<>') return '';
  const m = /^<(.*)>$/.exec(s);
  return m ? (m[1] ?? '') : s;
}

function parseFor(path: string, exp: Expected, text: string): QueueListing | null {
  if (exp.mta === 'exim') return parseEximBp(text);
  if (exp.mta === 'sendmail') return parseMailq(text);
  if (exp.mta === 'postfix') {
    // A JSON-lines file is postqueue -j; anything else is the -p text format.
    return text.trimStart().startsWith('{') ? parsePostqueueJson(text) : parsePostqueueP(text);
  }
  return null;
}

let failures = 0;
for (const [path, exp] of Object.entries(expected.files).sort(([a], [b]) => a.localeCompare(b))) {
  if (exp.kind !== 'queue-listing') continue;
  const text = readFileSync(join(dir, path), 'utf8');
  const problems: string[] = [];
  const check = (what: string, want: unknown, got: unknown): void => {
    if (want === undefined) return;
    if (!same(want, got)) problems.push(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  };
  let warnings: string[] = [];

  if (exp.mta === 'qmail') {
    const q = parseQmailQstat(text);
    warnings = q.warnings;
    check('messageCount', exp.messageCount, q.inQueue);
    check('messagesInQueue', exp.messagesInQueue, q.inQueue);
    check('notYetPreprocessed', exp.notYetPreprocessed, q.notPreprocessed);
  } else {
    const listing = parseFor(path, exp, text);
    if (!listing) {
      problems.push(`no parser for ${exp.mta}`);
    } else {
      const ms: QueueMessage[] = listing.messages;
      warnings = listing.warnings;
      check('messageCount', exp.messageCount, ms.length);
      if (exp.frozenCount !== null) check('frozenCount', exp.frozenCount, ms.filter((m) => m.frozen).length);
      if (exp.nullSenderCount !== null) check('nullSenderCount', exp.nullSenderCount, ms.filter((m) => m.bounce).length);
      check('frozenNullSenderCount', exp.frozenNullSenderCount, ms.filter((m) => m.frozen && m.bounce).length);
      if (exp.senders)
        check(
          'senders',
          tally(Object.entries(exp.senders).flatMap(([s, n]) => Array<string>(n).fill(normalSender(exp.mta, s)))),
          tally(ms.map((m) => m.sender)),
        );
      check(
        'recipientCount',
        exp.recipientCount,
        ms.reduce((a, m) => a + m.recipients.length, 0),
      );
      check(
        'messageIds',
        exp.messageIds,
        ms.map((m) => m.id),
      );
      check(
        'frozenIds',
        exp.frozenIds,
        ms.filter((m) => m.frozen).map((m) => m.id),
      );
      // The corpus has reportedTotal null for a sendmail listing without "Total requests:";
      // parseMailq then falls back to the "(N requests)" header counts (by design), so for
      // sendmail the Total lines are compared separately and a null expectation is skipped.
      if (exp.mta === 'sendmail') {
        if (exp.reportedTotal !== null) check('reportedTotal', exp.reportedTotal, listing.reportedTotal);
        check('totalRequestsLines', exp.totalRequestsLines, (listing as { totals?: number[] }).totals);
        if (exp.reportedTotal === null) check('reportedTotal (from per-dir counts)', exp.messageCount, listing.reportedTotal);
      } else check('reportedTotal', exp.reportedTotal, listing.reportedTotal);
      check(
        'totalSizeBytes',
        exp.totalSizeBytes,
        ms.reduce((a, m) => a + (m.size ?? 0), 0),
      );
      check('activeCount', exp.activeCount, ms.filter((m) => m.queue === 'active').length);
      check('holdCount', exp.holdCount, ms.filter((m) => m.held).length);
      check('deferredCount', exp.deferredCount, ms.filter((m) => m.queue === 'deferred').length);
      check('queues', exp.queues, tally(ms.map((m) => m.queue ?? '?')));
      if (exp.localLoginMarkers)
        check('localLoginMarkers', exp.localLoginMarkers, tally(ms.flatMap((m) => (m.localLogin ? [m.localLogin] : []))));
    }
  }
  if (warnings.length) problems.push(`${warnings.length} warning(s): ${warnings.slice(0, 3).join(' | ')}`);
  if (problems.length) {
    failures++;
    console.log(`FAIL ${path}`);
    for (const p of problems) console.log(`     ${p}`);
  } else console.log(`PASS ${path}`);
}
console.log(failures ? `${failures} file(s) failed` : 'all queue listings pass');
process.exit(failures ? 1 : 0);
