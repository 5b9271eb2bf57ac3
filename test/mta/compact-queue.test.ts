// The compact queue (src/mta/compact-queue.ts, columns.ts, compact-bounces.ts): its columns give back
// what went in, and the attributed exim read kept compactly gives the rules exactly what the read
// keeping whole messages gives — same warnings, counts, findings and suspects — on every recorded
// exim output, a generated queue with every odd case, and hostile input.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { arrayReader, CompactQueue, listingQueue, readerOf, type QueueReader } from '../../src/mta/compact-queue.js';
import { Interner, NumberColumn, StringColumn } from '../../src/mta/columns.js';
import { eximAttributedSink } from '../../src/mta/exim/listing.js';
import { addDomains, emptyLocalDomains } from '../../src/mta/local-domains.js';
import type { QueueListing, QueueMessage } from '../../src/mta/types.js';
import { ACCOUNT_RULES } from '../../src/rules/account-rules.js';
import { backscatter } from '../../src/rules/backscatter.js';
import { ruleSettings } from '../../src/rules/settings.js';
import { rankSuspects } from '../../src/rules/suspects.js';
import type { HostEvidence } from '../../src/rules/types.js';
import { summarize } from '../../src/scan/host.js';
import { LineSplitter } from '../../src/transport/lines.js';
import { generatedEximRead as generated } from './exim-generated.js';
import { HOSTILE_INPUTS, fixture, queueMessage } from './helpers.js';

describe('columns', () => {
  it('StringColumn gives back every string: packed, empty, long, past Latin-1, across pages', () => {
    const c = new StringColumn();
    const xs = [
      '1xAbCd-0123456789A-0aZ9',
      '',
      'ä-latin1-ÿ',
      'x'.repeat(255),
      'y'.repeat(256),
      'ünï €uro',
      '\u{1F600}',
      'lone \ud800 surrogate',
      'a\u0000b',
    ];
    for (let i = 0; i < 3000; i++) xs.push(`id-${i}-${'z'.repeat(i % 40)}`);
    for (const x of xs) c.push(x);
    expect(c.length).toBe(xs.length);
    xs.forEach((x, i) => {
      expect(c.get(i)).toBe(x);
      expect(c.equals(i, x)).toBe(true);
      expect(c.equals(i, `${x}!`)).toBe(false);
      expect(c.equals(i, x.slice(1))).toBe(x === '');
    });
    expect(c.hash(0)).toBe(c.hash(0));
    const d = new StringColumn();
    d.push(xs[0]!);
    expect(d.hash(0)).toBe(c.hash(0));
  });

  it('NumberColumn keeps u8, u32 and doubles across pages (NaN stays NaN)', () => {
    const u8 = new NumberColumn('u8');
    const u32 = new NumberColumn('u32');
    const f64 = new NumberColumn('f64');
    for (let i = 0; i < 5000; i += 7) {
      u8.set(i, i % 256);
      u32.set(i, i * 100_003);
      f64.set(i, i % 3 ? i / 4 : NaN);
    }
    for (let i = 0; i < 5000; i += 7) {
      expect(u8.get(i)).toBe(i % 256);
      expect(u32.get(i)).toBe(i * 100_003);
      expect(f64.get(i)).toBe(i % 3 ? i / 4 : NaN);
    }
    expect(u32.get(1_000_000)).toBe(0);
  });

  it('Interner: equal strings one number, 0 for none', () => {
    const t = new Interner();
    const a = t.add('bob@example.test');
    expect(t.add(`bob@${'example.test'}`)).toBe(a);
    expect(t.add('alice@example.test')).not.toBe(a);
    expect(t.add(undefined)).toBe(0);
    expect(t.get(0)).toBeUndefined();
    expect(t.get(a)).toBe('bob@example.test');
    expect(t.size).toBe(2);
  });
});

const msg = queueMessage;

/** Every field the rules read, per message. */
function view(q: QueueReader): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < q.length; i++)
    out.push([q.id(i), q.sender(i), q.senderTruncated(i), q.authId(i), q.clientIp(i), q.recipientCount(i), q.bounce(i)]);
  return out;
}

describe('CompactQueue', () => {
  const messages: QueueMessage[] = [
    msg({ id: 'a1', authId: 'bob@example.test', clientIp: '192.0.2.1', recipients: ['x@y.test', 'z@y.test'] }),
    msg({ id: 'b2', sender: '', bounce: true, frozen: true, recipients: ['forged@spam.invalid', 'cut@sh'], truncatedRecipients: [1] }),
    msg({ id: 'c3', sender: 'short', senderTruncated: true, held: true, size: null, ageSeconds: null, queue: 'deferred' }),
    msg({ id: 'a1', sender: 'dup@example.test', recipients: [] }),
    msg({ id: 'd4', sender: '', bounce: true, size: null, reason: 'spool error', localLogin: 'www', authSender: 'as@example.test' }),
  ];

  function filled(): CompactQueue {
    const q = new CompactQueue();
    for (const m of messages) q.push({ ...m, recipients: [...m.recipients] });
    return q.finish();
  }

  it('reads back what the rules read, the counts, and bounces whole (key order too)', () => {
    const q = filled();
    expect(view(q)).toEqual(view(arrayReader(messages)));
    expect(q.counts()).toEqual(summarizeCounts(messages));
    for (const i of [1, 4]) expect(JSON.stringify(q.whole(i))).toBe(JSON.stringify(messages[i]));
    for (const i of [0, 2, 3]) expect(q.whole(i)).toBeNull();
  });

  it('the last message pushed may still change until the next push or finish()', () => {
    const q = new CompactQueue();
    const m = msg({ id: 'late' });
    q.push(m);
    m.frozen = true;
    m.recipients.push('second@remote.test');
    q.finish();
    expect(q.recipientCount(0)).toBe(2);
    expect(q.counts().frozen).toBe(1);
  });

  it('find: every message with an id in listing order (hostile listings repeat ids), none for an unknown one', () => {
    const q = filled();
    expect(q.find('a1')).toEqual([0, 3]);
    expect(q.find('d4')).toEqual([4]);
    expect(q.find('nope')).toEqual([]);
    expect(q.find('')).toEqual([]);
  });

  it('attribute, seen and clearAttribution: columns and the bounce copies alike', () => {
    const q = filled();
    q.attribute(1, { authId: 'bob@example.test', clientIp: '192.0.2.9', authSender: 'bob@example.test' });
    q.markSeen(1);
    expect(q.seen(1)).toBe(true);
    expect(q.seen(0)).toBe(false);
    expect(q.whole(1)).toMatchObject({ authId: 'bob@example.test', clientIp: '192.0.2.9', authSender: 'bob@example.test' });
    q.clearAttribution();
    expect(view(q).map((v) => (v as unknown[])[3])).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(q.whole(1)).not.toHaveProperty('authId');
    expect(q.whole(1)).not.toHaveProperty('authSender');
    // d4's own authSender (from its listing) is an attribution too: cleared.
    expect(q.whole(4)).not.toHaveProperty('authSender');
  });

  it('kept strings share nothing with the text they were cut from (a flat copy)', () => {
    const big = `${'p'.repeat(100_000)}1xAAAA-00000000000-0000 bob@example.test`;
    const q = new CompactQueue();
    q.push(msg({ id: big.slice(100_000, 100_023), sender: big.slice(100_024) }));
    q.finish();
    expect(q.id(0)).toBe('1xAAAA-00000000000-0000');
    expect(q.sender(0)).toBe('bob@example.test');
  });
});

function summarizeCounts(ms: QueueMessage[]) {
  const { reportedTotal: _, ...c } = summarize({ messages: ms, reportedTotal: null, warnings: [] });
  return c;
}

// ---------------------------------------------------------------------------
// The attributed exim read, kept whole and kept compactly, side by side.

/** The read fed as the scan feeds it: bytes in chunks through the transport's line splitter. */
function read(text: string, compact: boolean, chunk = 4096): QueueListing {
  const sink = eximAttributedSink(0, { compact });
  const split = new LineSplitter((l) => sink.line(l.endsWith('\r') ? l.slice(0, -1) : l));
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += chunk) split.push(bytes.subarray(at, at + chunk));
  split.end();
  return sink.end('', 0);
}

function evidence(queue: HostEvidence['queue']): HostEvidence {
  return {
    host: 'h',
    queue,
    users: null,
    today: '2026-11-30',
    history: null,
    settings: ruleSettings({ mass_recipients: 10, sender_mismatch_min: 2, backscatter_min: 1 }),
    localDomains: addDomains(emptyLocalDomains(), ['example.test'], 'test'),
  };
}

function judged(queue: HostEvidence['queue']) {
  const e = evidence(queue);
  const findings = [...ACCOUNT_RULES, backscatter].flatMap((r) => r(e));
  return { findings, suspects: rankSuspects(findings, null, queue) };
}

/** The compact read gives what the whole one gives: warnings, counts, per-message view, bounces, findings, suspects. */
function expectSame(text: string, chunk?: number): { kept: QueueListing; compact: QueueListing } {
  const kept = read(text, false, chunk);
  const compact = read(text, true, chunk);
  expect(kept.compact).toBeUndefined();
  expect(compact.warnings).toEqual(kept.warnings);
  expect(compact.reportedTotal).toBe(kept.reportedTotal);
  expect(summarize(compact)).toEqual(summarize(kept));
  const q = readerOf(listingQueue(compact));
  expect(view(q)).toEqual(view(arrayReader(kept.messages)));
  kept.messages.forEach((m, i) => {
    if (m.bounce) expect(JSON.stringify(q.whole(i))).toBe(JSON.stringify(m));
  });
  expect(JSON.stringify(judged(listingQueue(compact)))).toBe(JSON.stringify(judged(kept.messages)));
  return { kept, compact };
}

describe('the attributed exim read kept compactly gives the rules what the whole one gives', () => {
  it.each(['attributed-bookworm-exim.txt', 'attributed-trixie-exim.txt', 'attributed-synthetic-auth.txt'])('recorded: %s', (name) => {
    const { compact } = expectSame(fixture('exim', name));
    expect(compact.messages).toEqual([]);
    expect(compact.compact!.length).toBeGreaterThan(0);
  });

  it.each(['bookworm-exim', 'trixie-exim', 'bookworm-exim-quiet'])('recorded scan read: lab %s', (host) => {
    expectSame(readFileSync(`test/fixtures/lab/${host}/queue.out`, 'utf8'));
  });

  it('a generated queue with every case: hijacked account, mass mail, backscatter, duplicates, missing and extra -H files, CR lines', () => {
    const { kept, compact } = expectSame(generated(3000), 1000);
    const { findings, suspects } = judged(listingQueue(compact));
    // The case is real: the rules fire on it, and not every message was attributed.
    expect(new Set(findings.map((f) => f.rule))).toEqual(new Set(['sender-mismatch', 'mass-recipients', 'backscatter']));
    expect(suspects[0]?.authId).toBe('bob@example.test');
    expect(kept.warnings.some((w) => w.includes('without a readable spool -H file'))).toBe(true);
    expect(kept.warnings.some((w) => w.includes('seen twice'))).toBe(true);
    expect(kept.messages.filter((m) => m.authId).length).toBeLessThan(kept.messages.length);
  });

  it('the same, fed in other chunk sizes', () => {
    for (const chunk of [1, 7, 65536]) expectSame(generated(150), chunk);
  });

  it('a spool dump cut short attributes nothing; a listing that did not run as built is read whole', () => {
    const full = generated(300);
    expectSame(full.slice(0, full.indexOf('__MAILSWEEP_RC__ spool 0')));
    expectSame(full.slice(0, full.indexOf('__MAILSWEEP_RC__ bp 0')));
    expectSame(full.replace('__MAILSWEEP_RC__ bpc 0', 'not a marker'));
    expectSame(full.replace('__MAILSWEEP_RC__ spool 0', '__MAILSWEEP_RC__ spool 2'));
  });

  it('hostile input', () => {
    for (const h of HOSTILE_INPUTS) {
      expectSame(h);
      expectSame(`1\n__MAILSWEEP_RC__ bpc 0\n${h}\n__MAILSWEEP_RC__ bp 0\n__MAILSWEEP_RC__ spooldir 0\n${h}\n__MAILSWEEP_RC__ spool 0\n`);
    }
  });
});
