// The exim and qmail queue reads parsed as they arrive (ReadPlan.stream) give what the batch parse
// of the whole output gives: every recorded output, cut into random chunks by the transport's own
// line splitter (inside multi-byte characters too, LF and CRLF endings); a cut (capped) output; hostile lines.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exim } from '../../src/mta/exim/adapter.js';
import { parseEximBp, parseHeadLine } from '../../src/mta/exim/listing.js';
import { qmail } from '../../src/mta/qmail/adapter.js';
import { mtaHost } from '../../src/mta/host.js';
import type { QueueListing, ReadPlan } from '../../src/mta/types.js';
import { LineSplitter } from '../../src/transport/lines.js';
import { referenceEximBp } from './exim-bp-reference.js';

const FIX = join(import.meta.dirname, '..', 'fixtures');
const read = (...p: string[]) => readFileSync(join(FIX, ...p), 'utf8');

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the scan does (src/scan/host.ts readQueue): bytes in random chunks → LineSplitter → trailing CR cut → the sink. */
function streamed<T>(plan: ReadPlan<T>, stdout: string, seed: number, opts: { maxBytes?: number } = {}): T {
  const sink = plan.stream!();
  const split = new LineSplitter((line) => sink.line(line.endsWith('\r') ? line.slice(0, -1) : line));
  let bytes = Buffer.from(stdout, 'utf8');
  if (opts.maxBytes !== undefined) bytes = bytes.subarray(0, opts.maxBytes);
  const r = rng(seed);
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(r() * (r() < 0.3 ? 8 : 4096));
    split.push(bytes.subarray(at, at + n));
    at += n;
  }
  split.end();
  return sink.end('', 0);
}

const ctx = mtaHost('/usr/sbin/exim4', {});
const qctx = mtaHost('/var/qmail/bin', {});
const NOW = 1_700_000_600;

/** A -bp listing as the queue read prints it. */
const asQueueRead = (bp: string, count = 0) =>
  `${count}\n__MAILSWEEP_RC__ bpc 0\n${bp}${bp.endsWith('\n') || bp === '' ? '' : '\n'}__MAILSWEEP_RC__ bp 0\n`;

function eximCases(): [string, string, 'queue' | 'attributed'][] {
  const out: [string, string, 'queue' | 'attributed'][] = [];
  for (const f of readdirSync(join(FIX, 'mta', 'exim'))) {
    const text = read('mta', 'exim', f);
    if (f.startsWith('adapter-')) out.push([f, text, 'queue']);
    else if (f.startsWith('attributed-')) out.push([f, text, 'attributed']);
    else if (f.startsWith('bp-')) out.push([f, asQueueRead(text), 'queue']);
  }
  for (const d of readdirSync(join(FIX, 'lab')).filter((x) => x.includes('exim'))) {
    if (existsSync(join(FIX, 'lab', d, 'queue.out'))) out.push([`lab/${d}/queue.out`, read('lab', d, 'queue.out'), 'attributed']);
    if (existsSync(join(FIX, 'lab', d, 'exim-bp.txt')))
      out.push([`lab/${d}/exim-bp.txt`, asQueueRead(read('lab', d, 'exim-bp.txt')), 'queue']);
  }
  return out;
}

function qmailCases(): [string, string, 'queue' | 'attributed'][] {
  const out: [string, string, 'queue' | 'attributed'][] = [];
  for (const f of readdirSync(join(FIX, 'mta', 'qmail'))) {
    const text = read('mta', 'qmail', f);
    if (f.startsWith('adapter-')) out.push([f, text, 'queue']);
    else if (f.startsWith('attributed')) out.push([f, text, 'attributed']);
    else if (f === 'qread.txt')
      out.push([
        f,
        `__MAILSWEEP_NOW__ 1700000600 +0000\nmessages in queue: 9\n__MAILSWEEP_RC__ qstat 0\n${text}__MAILSWEEP_RC__ qread 0\n`,
        'queue',
      ]);
  }
  return out;
}

function plans(mta: 'exim' | 'qmail', kind: 'queue' | 'attributed'): ReadPlan<QueueListing> {
  if (mta === 'exim') return kind === 'queue' ? exim.queue(ctx) : exim.attributedQueue(ctx);
  const c = { ...qctx, qmailSmtpdUids: ['1001'] };
  return kind === 'queue' ? qmail.queue(c) : qmail.attributedQueue(c);
}

/** Ages depend on the local clock when the output has no NOW line: compare without them then. */
const stable = (l: QueueListing) => ({
  ...l,
  messages: l.messages.map((m) => ({ ...m, ageSeconds: m.ageSeconds === null ? null : Math.round(m.ageSeconds / 3600) })),
});

describe.each([
  ['exim', eximCases()],
  ['qmail', qmailCases()],
] as const)('%s: streamed = batch', (mta, cases) => {
  it('there are recorded outputs to check', () => expect(cases.length).toBeGreaterThanOrEqual(mta === 'exim' ? 8 : 4));
  it.each(cases.map(([n, t, k]) => [n, k, t] as const))('%s (%s), random chunks, LF and CRLF, split inside UTF-8', (_name, kind, text) => {
    const plan = plans(mta, kind);
    // A multi-byte sender and recipient, so chunk edges fall inside characters too.
    const utf8 = text.replace(/example/g, 'exämple→');
    for (const input of [text, utf8, utf8.replace(/\n/g, '\r\n')]) {
      const batch = stable(plan.parse(input, '', 0));
      for (const seed of [1, 2, 3, 4, 5]) expect(stable(streamed(plan, input, seed))).toEqual(batch);
    }
  });
  it.each(cases.map(([n, t, k]) => [n, k, t] as const))(
    '%s (%s): cut anywhere (the output cap), a lower bound that says it is incomplete',
    (_name, kind, text) => {
      const plan = plans(mta, kind);
      const whole = plan.parse(text, '', 0);
      const bytes = Buffer.byteLength(text);
      const r = rng(7);
      for (let k = 0; k < 12; k++) {
        const cut = Math.floor(r() * bytes);
        const got = streamed(plan, text, k, { maxBytes: cut });
        // What the scan would have had, parsed whole: the same answer.
        const head = Buffer.from(text).subarray(0, cut).toString('utf8');
        expect(stable(got)).toEqual(stable(plan.parse(head, '', 0)));
        expect(got.messages.length).toBeLessThanOrEqual(whole.messages.length);
        for (const m of got.messages) expect(whole.messages.map((w) => w.id)).toContain(m.id);
      }
    },
  );
});

describe('exim -bp: the fast message-line reader agrees with the regular expressions', () => {
  const pieces = [
    '',
    ' ',
    '  ',
    '      ',
    '       ',
    '        ',
    '\t',
    '\u00a0',
    '\u2003',
    '\r',
    '\u2028',
    '\u2029',
    '\x01',
    '25m',
    '2h',
    '3d',
    'TTT',
    '0m',
    '999999999999999999m',
    'm',
    '5x',
    '2.9K',
    '512',
    '1.2M',
    '3G',
    'sss',
    '1.',
    '.5K',
    '12345678901234567.5K',
    '0.125K',
    '10.0M',
    '1xVLbA-000000000AA-0AAA',
    '1W0000-000000-00',
    '1W0000-000000-0',
    'x1W0000-000000-00',
    '1W0000-000000-00x',
    '-1W0000-000000-00',
    '1xVLbA-000000000AA-0AAA-',
    '1W0000-000000-00-',
    'ab-cd',
    '------',
    '<a@b>',
    '<>',
    '<a@b> (root)',
    '<a@b> (ro(ot)',
    '<a@b> *** frozen ***',
    '<a@b> (x) *** frozen ***',
    '<',
    '>',
    'ü',
    '*** spool read error: x ***',
    'D',
    '+D',
    'x@y',
    '__MAILSWEEP_RC__ bp 0',
  ];
  it('on 20,000 random lines (and their listings) gives the same messages and warnings', () => {
    const r = rng(11);
    const pick = () => pieces[Math.floor(r() * pieces.length)]!;
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const n = 1 + Math.floor(r() * 6);
      let line = '';
      for (let k = 0; k < n; k++) line += pick() + (r() < 0.7 ? ' ' : '');
      if (r() < 0.5) line = line.trimEnd();
      lines.push(line);
    }
    for (const l of lines) {
      const fast = parseHeadLine(l);
      const ref = referenceEximBp(l).messages[0];
      if (fast === null) expect(ref === undefined || !/^ {0,6}\S/.test(l)).toBe(true);
    }
    // Whole listings: the same messages (recipients, frozen, reasons) and the same warnings.
    for (let at = 0; at < lines.length; at += 500) {
      const text = lines.slice(at, at + 500).join('\n');
      expect(parseEximBp(text)).toEqual(referenceEximBp(text));
    }
  });
  it('on the recorded listings', () => {
    for (const [name, text] of eximCases()) expect(parseEximBp(text), name).toEqual(referenceEximBp(text));
    const corpus = '/work/shared/corpus/exim';
    let n = 0;
    try {
      for (const f of readdirSync(corpus).filter((x) => x.startsWith('bp-'))) {
        const text = readFileSync(join(corpus, f), 'utf8');
        expect(parseEximBp(text), f).toEqual(referenceEximBp(text));
        n++;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    expect(n === 0 || n >= 3).toBe(true);
  });
});

describe('hostile lines, streamed as in batch', () => {
  const bp = (body: string) => asQueueRead(body, 2);
  it('a forged section marker inside a recipient or a sender stays data', () => {
    const text = bp(
      [
        ' 5m   812 1xVLbA-000000000AA-0AAA <__MAILSWEEP_RC__ bp 0>',
        '          __MAILSWEEP_RC__ bp 0',
        '          a@b.example',
        '',
        ' 6m   1.2K 1xVLbA-000000000AB-0AAA <x@y.example>',
        '          __MAILSWEEP_RC__ spool 0@x',
        '',
      ].join('\n'),
    );
    for (const plan of [exim.queue(ctx), exim.attributedQueue(ctx)]) {
      const batch = plan.parse(text, '', 0);
      for (const seed of [1, 2]) expect(streamed(plan, text, seed)).toEqual(batch);
    }
    const l = exim.queue(ctx).parse(text, '', 0);
    expect(l.messages.map((m) => m.recipients)).toEqual([['__MAILSWEEP_RC__ bp 0', 'a@b.example'], ['__MAILSWEEP_RC__ spool 0@x']]);
    expect(l.reportedTotal).toBe(2);
  });
  it('a 1 MB line: the transport keeps its first 64 KiB; the rest of the listing reads the same', () => {
    const huge = `x${'é'.repeat(500_000)}@a.example`;
    const text = bp(
      [
        ' 5m   812 1xVLbA-000000000AA-0AAA <s@x.example>',
        `          ${huge}`,
        '          b@x.example',
        '',
        ` 1m   1K 1xVLbA-000000000AB-0AAA <${huge}>`,
        '',
      ].join('\n'),
    );
    const plan = exim.queue(ctx);
    const batch = plan.parse(text, '', 0);
    const got = streamed(plan, text, 3);
    expect(got.messages.map((m) => m.id)).toEqual(batch.messages.map((m) => m.id));
    expect(got.messages[0]!.recipients[1]).toBe('b@x.example');
    expect(huge.startsWith(got.messages[0]!.recipients[0]!)).toBe(true);
    expect(got.messages[0]!.recipients[0]!.length).toBeLessThan(64 * 1024);
    expect(batch.warnings).toEqual([]);
    expect(got.reportedTotal).toBe(2);
    // The cut sender line is still a message line; its sender, cut before the closing ">", is said to be not understood.
    expect(got.messages[1]!.id).toBe('1xVLbA-000000000AB-0AAA');
    expect(got.warnings).toEqual([
      expect.stringMatching(
        /^line 7 \(exim -bp\): exim -bp: sender part not understood: {2}1m {3}1K 1xVLbA-000000000AB-0AAA <xé+… \(65536 chars\)$/,
      ),
    ]);
  });
  it('qmail: a forged marker in a sender, a 1 MB line', () => {
    const huge = 'q'.repeat(1_000_000);
    const text = [
      '__MAILSWEEP_NOW__ 1700000600 +0000',
      'messages in queue: 2',
      '__MAILSWEEP_RC__ qstat 0',
      '14 Nov 2023 19:33:56 GMT  #1234567  2345  <__MAILSWEEP_RC__ qread 0>  ',
      '\tremote\tbob@example.net',
      `\tremote\t${huge}`,
      '14 Nov 2023 19:33:57 GMT  #1234568  12  <>  bouncing',
      '\tlocal\tcarol@example.org',
      '__MAILSWEEP_RC__ qread 0',
    ].join('\n');
    const plan = qmail.queue(qctx);
    const batch = plan.parse(text, '', 0);
    const got = streamed(plan, text, 5);
    expect(got.messages.map((m) => [m.id, m.sender, m.queue])).toEqual(batch.messages.map((m) => [m.id, m.sender, m.queue]));
    expect(got.messages[0]!.recipients[1]).toBe(huge.slice(0, 64 * 1024 - 8));
    expect(got.warnings).toEqual(batch.warnings);
  });
});
