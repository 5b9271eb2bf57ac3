// A plain scan's queue read keeps no messages, only their counts (ReadPlan.stream({ countsOnly })):
// for every recorded queue read of every MTA, and for the lines that change a message after it
// started (exim's frozen spool error, sendmail's quarantine and "no control file", postfix reasons),
// the counts equal those of the listing that keeps its messages, and no message is kept.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getAdapter } from '../../src/mta/index.js';
import { mtaHost } from '../../src/mta/host.js';
import type { MtaName, QueueListing, ReadPlan } from '../../src/mta/types.js';
import { LineSplitter } from '../../src/transport/lines.js';
import { summarize } from '../../src/scan/host.js';

const FIX = join(import.meta.dirname, '..', 'fixtures');

/** The scan's way: bytes in 1 KiB chunks through the transport's line splitter into the sink. */
function read(plan: ReadPlan<QueueListing>, stdout: string, countsOnly: boolean): QueueListing {
  const sink = plan.stream!({ countsOnly });
  const split = new LineSplitter((line) => sink.line(line.endsWith('\r') ? line.slice(0, -1) : line));
  const bytes = Buffer.from(stdout, 'utf8');
  for (let at = 0; at < bytes.length; at += 1024) split.push(bytes.subarray(at, at + 1024));
  split.end();
  return sink.end('', 0);
}

const plan = (mta: MtaName) => getAdapter(mta).queue(mtaHost(mta === 'qmail' ? '/var/qmail/bin' : undefined, {}));

/** Every recorded plain queue read: the adapters' fixtures and the lab's recordings. */
function recordings(): [string, MtaName, string][] {
  const out: [string, MtaName, string][] = [];
  for (const mta of ['exim', 'postfix', 'sendmail', 'qmail'] as MtaName[])
    for (const f of readdirSync(join(FIX, 'mta', mta)).filter((f) => f.startsWith('adapter-')))
      out.push([`${mta}/${f}`, mta, readFileSync(join(FIX, 'mta', mta, f), 'utf8')]);
  for (const host of readdirSync(join(FIX, 'lab'))) {
    const file = join(FIX, 'lab', host, 'queue.out');
    if (!existsSync(file)) continue;
    const meta = JSON.parse(readFileSync(join(FIX, 'lab', host, 'scan-meta.json'), 'utf8')) as { mta: MtaName };
    out.push([`lab/${host}`, meta.mta, readFileSync(file, 'utf8')]);
  }
  return out;
}

function expectSameCounts(mta: MtaName, stdout: string) {
  const kept = read(plan(mta), stdout, false);
  const counted = read(plan(mta), stdout, true);
  expect(kept.counts).toBeUndefined();
  expect(summarize(counted)).toEqual(summarize(kept));
  expect(counted.reportedTotal).toBe(kept.reportedTotal);
  expect(counted.warnings).toEqual(kept.warnings);
  // Only sendmail's MSP queue (small: the local submission queue) is kept when counting.
  if (mta !== 'sendmail') expect(counted.messages).toEqual([]);
  else expect(kept.messages).toEqual(expect.arrayContaining(counted.messages));
  expect(counted.messages.length + (counted.counts?.total ?? 0)).toBe(kept.messages.length);
  return { kept, counted };
}

describe('queue reads that keep only counts', () => {
  const cases = recordings();
  it('covers every MTA', () => expect(new Set(cases.map((c) => c[1]))).toEqual(new Set(['exim', 'postfix', 'sendmail', 'qmail'])));

  it.each(cases)('%s: the same summary, reported total and warnings, no message kept', (_name, mta, stdout) => {
    const { kept } = expectSameCounts(mta, stdout);
    if (_name.startsWith('lab/') && !_name.endsWith('-quiet')) expect(kept.messages.length).toBeGreaterThan(100);
  });

  it('exim: a message frozen by a later spool-error line is counted frozen', () => {
    const bp = [
      ' 1m   538 1xVOHG-0007YW-1g <alice@example.test>',
      '          a@remote.test',
      '',
      ' 2m   0 1xVOHG-0007Z4-2u <>',
      '    *** spool read error: No such file or directory *** *** frozen ***',
      '',
      '50h   1.2K 1xVOHG-0007Z5-2u <bob@example.test> *** frozen ***',
      '          b@remote.test',
    ].join('\n');
    const { counted } = expectSameCounts('exim', `3\n__MAILSWEEP_RC__ bpc 0\n${bp}\n__MAILSWEEP_RC__ bp 0\n`);
    expect(summarize(counted)).toMatchObject({ total: 3, frozen: 2, bounces: 1, oldestSeconds: 50 * 3600 });
  });

  it('exim: output that is not the command as built (the whole-output fallback) is counted the same', () => {
    const { counted } = expectSameCounts('exim', ' 1m   538 1xVOHG-0007YW-1g <alice@example.test>\n          a@remote.test\n');
    expect(summarize(counted).total).toBe(1);
  });

  it('sendmail: quarantine lines after the entry hold it; "no control file" entries are not messages', () => {
    const mailq = [
      '__MAILSWEEP_NOW__ 1764489600 +0000',
      '\t\t/var/spool/mqueue (3 requests)',
      '-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------',
      '5AU7Gxq0000001     1234 Mon Nov 30 07:00 <alice@example.test>',
      '     QUARANTINE: held by the operator',
      '                                         <a@remote.test>',
      '5AU7Gxq0000002        0 Thu Jan  1 00:00 <bob@example.test> (no control file)',
      '5AU7Gxq0000003     2222 Mon Nov 30 06:00 <>',
      '                                         <c@remote.test>',
      '\t\tTotal requests: 3',
      '__MAILSWEEP_RC__ mta 0',
      'MSP Queue status...',
      '\t\t/var/spool/mqueue-client is empty',
      '\t\tTotal requests: 0',
      '__MAILSWEEP_RC__ msp 0',
    ].join('\n');
    const { counted, kept } = expectSameCounts('sendmail', `${mailq}\n`);
    expect(kept.messages.map((m) => m.id)).toEqual(['5AU7Gxq0000001', '5AU7Gxq0000003']);
    expect(summarize(counted)).toMatchObject({ total: 2, held: 1, bounces: 1 });
  });

  it('postfix: an old postfix (-j refused, the -p listing read) is counted the same', () => {
    const text = readFileSync(join(FIX, 'mta', 'postfix', 'adapter-old-postfix.txt'), 'utf8');
    const { counted } = expectSameCounts('postfix', text);
    expect(summarize(counted).total).toBeGreaterThan(0);
  });

  it('the batch parse (parse(), as `mailsweep parse` and the incident use it) still keeps every message', () => {
    const text = readFileSync(join(FIX, 'lab', 'bookworm-exim', 'queue.out'), 'utf8');
    const l = plan('exim').parse(text, '', 0);
    expect(l.counts).toBeUndefined();
    expect(l.messages.length).toBe(339);
  });
});
