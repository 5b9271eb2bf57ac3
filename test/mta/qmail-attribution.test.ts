// qmail per-message attribution: the inventory's qmail_smtpd_uids, the mess dump parser, the
// recorded shape, and the attributed-queue command through the real /bin/sh against a fake queue
// tree. The proof rule itself (qmailSubmitter and its awk twin, one table): qmail-proof.test.ts.
import { mtaHost } from '../../src/mta/host.js';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qmail } from '../../src/mta/qmail/adapter.js';
import {
  attributeQmailMessages,
  parseQmailAttributedOutput,
  parseQmailMessDump,
  qmailAttributedCommand,
} from '../../src/mta/qmail/attribution.js';
import { type QmailQueueMessage } from '../../src/mta/qmail/listing.js';
import { COMMAND_FAILED } from '../../src/mta/util.js';
import { HOSTILE_INPUTS, assertPrintable, fixture, runPlan as run } from './helpers.js';
import { BOB, QQ, by, ctxOf, from, mess, queueTree } from './qmail-mess.js';

describe('qmail_smtpd_uids', () => {
  it('takes numbers, digit strings and lists; a list with anything else is not used, and said', () => {
    expect(mtaHost().qmailSmtpdUids).toEqual([]);
    expect(mtaHost(undefined, { qmail_smtpd_uids: 89 }).qmailSmtpdUids).toEqual(['89']);
    expect(mtaHost(undefined, { qmail_smtpd_uids: '89, 1001 89' }).qmailSmtpdUids).toEqual(['89', '1001']);
    for (const bad of [[89, '007'], [89, '$(id)'], [-1], [1.5]]) {
      const h = mtaHost(undefined, { qmail_smtpd_uids: bad });
      expect(h.qmailSmtpdUids).toEqual([]);
      expect(h.problems).toEqual([expect.stringContaining('qmail_smtpd_uids')]);
    }
  });
});

// ---------------------------------------------------------------------------
describe('parseQmailMessDump', () => {
  it('reads records; content lines cannot forge markers; cut and doubled records are reported', () => {
    const d = parseQmailMessDump(
      [
        '__MAILSWEEP_QMAIL__ 1000',
        `|${QQ}`,
        '|__MAILSWEEP_QMAIL_END__ 1000 eof',
        '|__MAILSWEEP_QMAIL__ 2000',
        '__MAILSWEEP_QMAIL_END__ 1000 done',
        '__MAILSWEEP_QMAIL__ 1001',
        '|x',
        '__MAILSWEEP_QMAIL__ 1002',
        '|',
        '__MAILSWEEP_QMAIL_END__ 1002 eof',
        '! find: ‘/var/qmail/queue/mess/3’: Permission denied',
        '__MAILSWEEP_QMAIL__ 1002',
        '|again',
        '__MAILSWEEP_QMAIL_END__ 1002 eof',
        '__MAILSWEEP_QMAIL_END__ 1003 eof',
        '__MAILSWEEP_QMAIL__ 12x',
        '__MAILSWEEP_QMAIL_FIND__ 1',
      ].join('\n'),
    );
    expect([...d.records.keys()]).toEqual(['1000', '1001', '1002']);
    expect(d.records.get('1000')).toEqual({ lines: [QQ, '__MAILSWEEP_QMAIL_END__ 1000 eof', '__MAILSWEEP_QMAIL__ 2000'], end: 'done' });
    expect(d.records.get('1001')).toEqual({ lines: ['x'], end: 'cut' });
    expect(d.records.get('1002')).toEqual({ lines: [''], end: 'eof' });
    expect(d.findRc).toBe(1);
    expect(d.diagnostics).toEqual(['find: ‘/var/qmail/queue/mess/3’: Permission denied']);
    expect(d.warnings).toEqual([
      'line 8: mess file 1001: record cut short',
      'line 12: mess file 1002 seen twice: first kept',
      'line 15: mess dump: end of a record that was not open: __MAILSWEEP_QMAIL_END__ 1003 eof',
      'line 16: mess dump: __MAILSWEEP_QMAIL__ 12x',
    ]);
  });

  it('keeps at most one line more than the rule reads, and never throws', () => {
    const d = parseQmailMessDump(
      ['__MAILSWEEP_QMAIL__ 7', ...Array.from({ length: 500 }, () => '|X: y'), '__MAILSWEEP_QMAIL_END__ 7 cap'].join('\n'),
    );
    expect(d.records.get('7')!.lines.length).toBe(201);
    for (const input of HOSTILE_INPUTS) assertPrintable(parseQmailMessDump(input).warnings);
  });
});

describe('parseQmailAttributedOutput (recorded shape)', () => {
  const NOW = 1700000600;
  const l = parseQmailAttributedOutput(fixture('qmail', 'attributed.txt'), '', 0, NOW);

  it('attributes only what the first qmail-smtpd header proves', () => {
    expect(l.messages.map((m) => [m.id, m.authId, m.clientIp])).toEqual([
      ['1183204', BOB, '203.0.113.9'],
      ['1183210', undefined, undefined],
      ['1183222', undefined, undefined],
      ['1183230', 'alice@example.test', undefined],
      ['1183240', undefined, undefined],
      ['1183250', undefined, undefined],
    ]);
    expect(l.reportedTotal).toBe(6);
  });

  it('reports missing, unreadable, local-uid and find problems as counts', () => {
    expect(l.warnings).toEqual([
      `${COMMAND_FAILED} qmail mess file read exited 1: find: ‘/var/qmail/queue/mess/9’: Permission denied`,
      '1 message(s) without a mess file (delivered meanwhile?), not attributed: 1183250',
      expect.stringMatching(
        /^1 message\(s\) carry a qmail-smtpd AUTH header but were queued by qmail-queue as uid 48, not qmaild: not attributed/,
      ),
    ]);
    assertPrintable(l.warnings);
  });

  it('with the uid listed, that message is attributed', () => {
    const u = parseQmailAttributedOutput(fixture('qmail', 'attributed.txt'), '', 0, NOW, ['48']);
    expect(u.messages.find((m) => m.id === '1183240')?.authId).toBe(BOB);
  });

  it('an incomplete listing attributes nothing; hostile output never throws', () => {
    const cut = parseQmailAttributedOutput('__MAILSWEEP_QMAIL__ 1\n|x\n', '', 255, NOW);
    expect(cut.messages).toEqual([]);
    expect(cut.warnings.at(-1)).toBe('messages not attributed: the queue listing itself is incomplete');
    for (const input of HOSTILE_INPUTS) {
      const r = parseQmailAttributedOutput(input, input, 1, NOW);
      expect(r.messages.every((m) => m.authId === undefined)).toBe(true);
      assertPrintable(r.warnings);
    }
  });

  it('attributeQmailMessages leaves unmatched ids alone', () => {
    const msgs: QmailQueueMessage[] = [
      { id: '5', sender: '', recipients: [], size: 1, ageSeconds: 1, frozen: false, held: false, bounce: true },
    ];
    expect(attributeQmailMessages(msgs, parseQmailMessDump(''))).toEqual([
      '1 message(s) without a mess file (delivered meanwhile?), not attributed: 5',
    ]);
    expect(msgs[0]!.authId).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
// Through the real /bin/sh: a fake queue tree (split 23), stub qmail-qstat / qmail-qread.

describe('attributedQueue through /bin/sh (fake queue tree)', () => {
  it('quotes every context value', () => {
    const cmd = qmailAttributedCommand(mtaHost('/x/$(touch pwned)/bin/qmail-qstat', { qmailDir: '$(id)', queue_directory: '/q`id`' }));
    const unquoted = cmd.replace(/'[^']*'/g, "''");
    for (const bad of ['$(touch pwned)', '`id`', '$(id)']) expect(unquoted).not.toContain(bad);
  });

  it('a message delivered between qmail-qread and the read, and an unreadable queue, only cost attribution', () => {
    const t = queueTree([
      { name: 'bob', text: mess(QQ, from(`${BOB}@203.0.113.9`), by('ESMTPA')) },
      { name: 'gone', text: mess(QQ, from('alice@example.test@203.0.113.9'), by('ESMTPA')) },
    ]);
    execFileSync('rm', ['-f', join(t.q, 'mess', String(5001 % 23), '5001')]);
    const { result } = run(qmail.attributedQueue(ctxOf(t)), t.d, t.bin);
    expect(result.messages.map((m) => m.authId)).toEqual([BOB, undefined]);
    expect(result.warnings).toEqual(['1 message(s) without a mess file (delivered meanwhile?), not attributed: 5001']);
    const gone = run(qmail.attributedQueue(ctxOf(t, { queue_directory: join(t.d, 'nowhere') })), t.d, t.bin).result;
    expect(gone.messages).toHaveLength(2);
    expect(gone.warnings[0]).toMatch(/^command failed: qmail mess file read exited 1: no directory .*nowhere\/mess$/);
  });

  it('a large queue is read in one pass (one awk, a few lines per message)', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({
      name: `m${i}`,
      text: mess(QQ, from(`u${i % 7}@example.test@203.0.113.9`), by('ESMTPA')),
    }));
    const t = queueTree(many);
    const started = Date.now();
    const { result, stdout } = run(qmail.attributedQueue(ctxOf(t)), t.d, t.bin);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.messages.filter((m) => m.authId === 'u3@example.test')).toHaveLength(many.filter((_, i) => i % 7 === 3).length);
    // Line 1, the two lines of qmail-smtpd's Received field and the next one: nothing else.
    expect(stdout.split('\n').filter((l) => l.startsWith('|'))).toHaveLength(3000 * 4);
  });
});
