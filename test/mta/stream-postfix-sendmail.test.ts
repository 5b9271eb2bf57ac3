// The postfix and sendmail queue reads streamed as the scan reads them (bytes in random chunks, a
// multi-byte character split between two, CRLF, forged markers, a 1 MB line) give exactly the
// batch parse: the batch functions are the same sinks fed the whole text.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../src/mta/index.js';
import { mtaHost } from '../../src/mta/host.js';
import { parsePostqueueJson } from '../../src/mta/postfix/listing.js';
import {
  parsePostfixAttributedOutput,
  parsePostfixQueueOutput,
  PostfixAttributedStream,
  PostfixListingStream,
} from '../../src/mta/postfix/queue.js';
import { parseSendmailAttributedOutput, SendmailAttributedStream } from '../../src/mta/sendmail/attribution.js';
import { parseSendmailQueueOutput, SendmailListingStream } from '../../src/mta/sendmail/queue.js';
import type { LineSink, QueueListing } from '../../src/mta/types.js';
import { yearlessLocalTime } from '../../src/mta/util.js';
import { YearlessClock } from '../../src/mta/yearless.js';
import { feedLines } from '../../src/mta/stream-parts.js';
import { FirstLines } from '../../src/mta/stream-text.js';
import { failureText } from '../../src/mta/util.js';
import { splitLines } from '../../src/text/lines.js';
import { LineSplitter } from '../../src/transport/lines.js';
import { assertPrintable, HOSTILE_INPUTS } from './helpers.js';

const NOW = 1_795_408_471;
type Open = () => LineSink<QueueListing>;
type Batch = (stdout: string, stderr: string, code: number | null, now: number) => QueueListing;

const READS: { mta: 'postfix' | 'sendmail'; name: string; open: Open; batch: Batch }[] = [
  { mta: 'postfix', name: 'queue', open: () => new PostfixListingStream(NOW), batch: parsePostfixQueueOutput },
  { mta: 'postfix', name: 'attributed', open: () => new PostfixAttributedStream(NOW), batch: parsePostfixAttributedOutput },
  { mta: 'sendmail', name: 'queue', open: () => new SendmailListingStream(NOW), batch: parseSendmailQueueOutput },
  { mta: 'sendmail', name: 'attributed', open: () => new SendmailAttributedStream(NOW), batch: parseSendmailAttributedOutput },
];

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** What the scan does: bytes in chunks through the transport's line splitter, a trailing CR cut, into the sink. */
function stream(open: Open, bytes: Buffer, cuts: number[], stderr = '', code: number | null = 0, maxLine = 4 * 1024 * 1024): QueueListing {
  const sink = open();
  const lines = new LineSplitter((line) => sink.line(line.endsWith('\r') ? line.slice(0, -1) : line), maxLine);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    lines.push(bytes.subarray(at, cut));
    at = cut;
  }
  lines.end();
  return sink.end(stderr, code);
}

function randomCuts(length: number, seed: number): number[] {
  const r = rng(seed);
  const cuts: number[] = [];
  for (let at = 0; ;) {
    at += 1 + Math.floor(r() * r() * 4096);
    if (at >= length) return cuts;
    cuts.push(at);
  }
}

const DIR = join(import.meta.dirname, '../fixtures/mta');
const fixtures = (mta: string) => readdirSync(join(DIR, mta)).map((f) => [f, readFileSync(join(DIR, mta, f), 'utf8')] as const);

describe('streamed = batch, every postfix and sendmail fixture, random chunks', () => {
  for (const read of READS)
    for (const [file, text] of fixtures(read.mta))
      it(`${read.mta} ${read.name}: ${file}`, () => {
        for (const variant of [text, text.replace(/\n/g, '\r\n')]) {
          const want = read.batch(variant, '', 0, NOW);
          const bytes = Buffer.from(variant);
          for (let seed = 1; seed <= 6; seed++)
            expect(stream(read.open, bytes, randomCuts(bytes.length, seed * 31 + file.length))).toEqual(want);
          // Every line a chunk of its own, and the whole output in one chunk.
          expect(stream(read.open, bytes, [])).toEqual(want);
          expect(read.batch(variant, 'boom', 1, NOW)).toEqual(stream(read.open, bytes, randomCuts(bytes.length, 7), 'boom', 1));
        }
      });

  it('CRLF output parses as LF output', () => {
    for (const read of READS)
      for (const [, text] of fixtures(read.mta)) {
        const crlf = Buffer.from(text.replace(/\n/g, '\r\n'));
        expect(stream(read.open, crlf, randomCuts(crlf.length, 3))).toEqual(read.batch(text, '', 0, NOW));
      }
  });
});

describe('a multi-byte character split between two chunks', () => {
  const pf = [
    `__MAILSWEEP_NOW__ ${NOW} +0000`,
    `{"queue_name": "deferred", "queue_id": "4F2A81C0E3", "arrival_time": ${NOW - 60}, "message_size": 512, "sender": "jürgen@exämple.test", "recipients": [{"address": "😀@remote.test", "delay_reason": "зависло"}]}`,
    '__MAILSWEEP_RC__ json 0',
    '-- 1 Kbytes in 1 Request.',
    '__MAILSWEEP_RC__ footer 0',
  ].join('\n');
  const sm = [
    `__MAILSWEEP_NOW__ ${NOW} +0000`,
    '\t\t/var/spool/mqueue (1 request)',
    '-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------',
    '6AN4N7TF000509       66 Mon Nov 23 04:23 <jürgen@exämple.test>',
    '                 (Deferred: 😀 timed out)',
    '\t\t\t\t\t <ünïcode@wingtip.example>',
    '\t\tTotal requests: 1',
    '__MAILSWEEP_RC__ mta 0',
    '__MAILSWEEP_RC__ msp 1',
  ].join('\n');

  for (const [mta, text, open, batch] of [
    ['postfix', pf, READS[0]!.open, parsePostfixQueueOutput],
    ['sendmail', sm, READS[2]!.open, parseSendmailQueueOutput],
  ] as const)
    it(`${mta}: a cut at every byte of every multi-byte character`, () => {
      const want = batch(text, '', 0, NOW);
      expect(want.messages).toHaveLength(1);
      expect(want.messages[0]!.sender).toBe('jürgen@exämple.test');
      const bytes = Buffer.from(text);
      let inside = 0;
      for (let i = 1; i < bytes.length; i++) {
        if ((bytes[i]! & 0xc0) !== 0x80) continue; // a continuation byte: the cut lands inside a character
        inside++;
        expect(stream(open, bytes, [i])).toEqual(want);
      }
      expect(inside).toBeGreaterThan(5);
    });
});

describe('hostile lines stream as they parse in batch', () => {
  const big = 'x'.repeat(1024 * 1024);
  const pfJson = (extra: string) =>
    [
      `__MAILSWEEP_NOW__ ${NOW} +0000`,
      `{"queue_name": "deferred", "queue_id": "AAA111", "arrival_time": ${NOW - 60}, "message_size": 5, "sender": "a@b.test", "recipients": [{"address": "c@d.test"}]}`,
      extra,
      `{"queue_name": "hold", "queue_id": "BBB222", "arrival_time": ${NOW - 60}, "message_size": 5, "sender": "e@f.test", "recipients": [{"address": "__MAILSWEEP_RC__ json 0"}]}`,
      '__MAILSWEEP_RC__ json 0',
      '-- 1 Kbytes in 2 Requests.',
      '__MAILSWEEP_RC__ footer 0',
    ].join('\n');
  const pfPlain = (extra: string) =>
    [
      `__MAILSWEEP_NOW__ ${NOW} +0000`,
      "postqueue: invalid option -- 'j'",
      '__MAILSWEEP_RC__ json 1',
      '-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------',
      'AAA111*       512 Mon Nov 23 04:11:44  a@b.test',
      '                                         __MAILSWEEP_RC__ plain 0',
      '__MAILSWEEP_RC__ plain 0 ',
      extra,
      '',
      '-- 1 Kbytes in 1 Request.',
      '__MAILSWEEP_RC__ plain 0',
    ].join('\n');
  const sm = (extra: string) =>
    [
      `__MAILSWEEP_NOW__ ${NOW} +0000`,
      '\t\t/var/spool/mqueue (1 request)',
      '6AN4N7TF000509       66 Mon Nov 23 04:23 <a@b.test>',
      '\t\t\t\t\t <__MAILSWEEP_RC__ mta 0>',
      '\t\t\t\t\t __MAILSWEEP_RC__ mta 0',
      extra,
      '\t\tTotal requests: 1',
      '__MAILSWEEP_RC__ mta 0',
      '/var/spool/clientmqueue is empty',
      '__MAILSWEEP_RC__ msp 0',
      '__MAILSWEEP_RC__ log 0',
    ].join('\n');

  const cases = [
    { name: 'postfix -j', read: READS[0]!, make: pfJson, messages: 2 },
    { name: 'postfix -p', read: READS[0]!, make: pfPlain, messages: 1 },
    { name: 'sendmail mailq', read: READS[2]!, make: sm, messages: 1 },
    { name: 'sendmail attributed', read: READS[3]!, make: sm, messages: 1 },
  ];
  for (const c of cases)
    it(`${c.name}: a forged marker inside a recipient closes nothing; a 1 MB line is one warning`, () => {
      const forged = c.read.batch(c.make(''), '', 0, NOW);
      expect(forged.messages).toHaveLength(c.messages);
      expect(forged.messages.flatMap((m) => m.recipients).some((r) => r.includes('__MAILSWEEP_RC__'))).toBe(true);
      expect(forged.reportedTotal).toBe(c.messages);
      const text = c.make(`${big}\u202e`);
      const want = c.read.batch(text, '', 0, NOW);
      expect(want.messages).toEqual(forged.messages);
      assertPrintable(want.warnings);
      expect(want.warnings.join('\n').length).toBeLessThan(20_000);
      const bytes = Buffer.from(text);
      expect(stream(c.read.open, bytes, randomCuts(bytes.length, 5))).toEqual(want);
      // Through the transport's own 64 KiB line cap: the same messages, the long line still one warning.
      const capped = stream(c.read.open, bytes, randomCuts(bytes.length, 6), '', 0, 64 * 1024);
      expect(capped.messages).toEqual(want.messages);
      expect(capped.warnings).toHaveLength(want.warnings.length);
    });

  it('output cut short before the json marker: read whole as -p, as in batch', () => {
    const text = pfPlain('').split('\n').slice(0, 1).concat(pfPlain('').split('\n').slice(3, 6)).join('\n');
    const want = parsePostfixQueueOutput(text, '', null, NOW);
    expect(want.messages.map((m) => m.id)).toEqual(['AAA111']);
    expect(want.warnings.some((w) => w.startsWith('command failed: postqueue listing incomplete'))).toBe(true);
    expect(stream(READS[0]!.open, Buffer.from(text), [7, 90], '', null)).toEqual(want);
  });

  it('never throws and stays printable on hostile inputs, streamed', () => {
    for (const h of HOSTILE_INPUTS)
      for (const read of READS) {
        const bytes = Buffer.from(h);
        const got = stream(read.open, bytes, randomCuts(bytes.length, 9), h, 1);
        assertPrintable(got.warnings);
        expect(got).toEqual(read.batch(h, h, 1, NOW));
      }
  });
});

describe('the adapters give streaming plans', () => {
  it('postfix and sendmail queue() and attributedQueue() stream', () => {
    for (const mta of ['postfix', 'sendmail'] as const) {
      const ctx = mtaHost(undefined);
      for (const plan of [ADAPTERS[mta].queue(ctx), ADAPTERS[mta].attributedQueue(ctx)]) {
        const [, text] = fixtures(mta).find(([f]) => f.startsWith('attributed-'))!;
        const sink = plan.stream!();
        for (const line of splitLines(text)) sink.line(line);
        const got = sink.end('', 0);
        expect(got.messages.length).toBeGreaterThan(0);
        // plan.parse reads the clock itself: compare what does not depend on it.
        const batch = plan.parse(text, '', 0);
        expect(got.messages.map((m) => [m.id, m.sender, m.authId])).toEqual(batch.messages.map((m) => [m.id, m.sender, m.authId]));
      }
    }
  });
});

describe('the pieces', () => {
  it('YearlessClock answers as yearlessLocalTime', () => {
    const r = rng(77);
    const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Xyz'];
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec', 'Foo'];
    for (const now of [NOW, 1_798_761_599 /* Dec 31 2026 23:59:59 */, 1_709_251_200 /* Mar 1 2024 */, 1_767_225_600 /* Jan 1 2026 */])
      for (const tz of [0, 3600, -18000, 45 * 60, 14 * 3600, -12 * 3600]) {
        const clock = new YearlessClock(now, tz);
        for (let i = 0; i < 400; i++) {
          const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
          const d = new Date((now + tz - Math.floor(r() * 400 * 86400) + 2 * 86400) * 1000);
          const real = r() < 0.7;
          const wday = real ? days[d.getUTCDay()]! : pick(days);
          const mon = real ? months[d.getUTCMonth()]! : pick(months);
          const day = real ? d.getUTCDate() : Math.floor(r() * 33);
          const h = r() < 0.95 ? d.getUTCHours() : 24;
          const s = r() < 0.05 ? 60 : d.getUTCSeconds();
          const text = `${wday} ${mon} ${String(day).padStart(2, ' ')} ${h}:${String(d.getUTCMinutes()).padStart(2, '0')}${r() < 0.5 ? `:${String(s).padStart(2, '0')}` : ''}`;
          expect(clock.epoch(text), text).toBe(yearlessLocalTime(text, now, tz));
        }
        for (const text of [
          'Thu Feb 29 12:00:00',
          'Sat Feb 29 12:00',
          'Wed Dec 31 23:59:60',
          'Mon Nov 30 23:59:60',
          'Mon Nov 31 10:00',
          'Tue Nov 14 22:13',
        ])
          expect(clock.epoch(text), text).toBe(yearlessLocalTime(text, now, tz));
      }
  });

  it('feedLines splits as splitLines', () => {
    for (const t of ['', '\n', 'a', 'a\n', 'a\r', 'a\r\n', '\r\n', 'a\n\nb', 'a\r\r\nb\r', '\n\n', 'x\ry\nz'])
      expect(
        ((): string[] => {
          const out: string[] = [];
          feedLines(t, (l, n) => out.push(`${n}:${l}`));
          return out;
        })(),
      ).toEqual(splitLines(t).map((l, i) => `${i + 1}:${l}`));
  });

  it('FirstLines gives failureText of the whole text, long lines included', () => {
    for (const t of [
      '',
      '  \n\n',
      'one',
      ' a \n\n b\nc\nd',
      `${'é'.repeat(3000)}\n😀${'y'.repeat(5000)}\n\u001b[31mz`,
      `${'😀'.repeat(600)}`,
    ]) {
      const f = new FirstLines();
      for (const l of splitLines(t)) f.push(l);
      expect(failureText(f.text)).toBe(failureText(t));
    }
  });

  it('warnings are capped as before, numbered in the whole output', () => {
    const bad = Array.from({ length: 150 }, (_, i) => `not json ${i}`).join('\n');
    const w = parsePostqueueJson(bad, NOW).warnings;
    expect(w).toHaveLength(101);
    expect(w[0]).toBe('line 1: postqueue -j: not JSON: not json 0');
    expect(w[100]).toBe('… and 50 more warning(s)');
    const out = parsePostfixQueueOutput(
      `__MAILSWEEP_NOW__ ${NOW} +0000\n${bad}\n__MAILSWEEP_RC__ json 0\n-- 0 Kbytes in 0 Requests.\n__MAILSWEEP_RC__ footer 0`,
      '',
      0,
      NOW,
    );
    expect(out.warnings[0]).toBe('line 2 (postqueue -j): postqueue -j: not JSON: not json 0');
    expect(out.warnings.at(-1)).toBe('postqueue -j: … and 50 more warning(s)');
  });
});
