import { describe, expect, it } from 'vitest';
import { mtaHost } from '../../src/mta/host.js';
import { parsePostqueueJson, parsePostqueueP } from '../../src/mta/postfix/listing.js';
import { parsePostfixQueueOutput, postfixQueueCommand } from '../../src/mta/postfix/queue.js';
import { attributePostfixMessages } from '../../src/mta/postfix/attribution.js';
import { postfix } from '../../src/mta/postfix/adapter.js';
import { COMMAND_FAILED, yearlessLocalTime } from '../../src/mta/util.js';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOSTILE_INPUTS, assertPrintable, fixture, script, tmp } from './helpers.js';

const NOW = 1700000600; // Tue Nov 14 22:23:20 UTC 2023

describe('parsePostqueueJson', () => {
  const l = parsePostqueueJson(fixture('postfix', 'postqueue-j.txt'), NOW);

  it('reads every record and turns bad lines into warnings', () => {
    expect(l.messages.map((m) => m.id)).toEqual(['4F2A81C0E3', '9C1D21C0F1', '4NxYqK1Hj3z9rMT', 'B7E0A1C0F9']);
    expect(l.warnings).toEqual([
      'line 5: postqueue -j: not JSON: this is not json at all',
      'line 6: postqueue -j: record without queue_id: {"queue_name": "active", "sender": "no-id@example.com", "recipients": []}',
    ]);
    expect(l.reportedTotal).toBeNull();
  });

  it('maps queue, hold, age, size and the MAILER-DAEMON / empty null sender', () => {
    expect(l.messages[0]).toMatchObject({
      queue: 'active',
      sender: 'alice@example.com',
      recipients: ['bob@example.net', 'carol@example.org'],
      size: 1843,
      ageSeconds: 600,
      held: false,
      bounce: false,
    });
    expect(l.messages[1]).toMatchObject({ queue: 'deferred', sender: '', bounce: true, ageSeconds: 10600 });
    expect(l.messages[1]?.reason).toBe('connect to nowhere.example[192.0.2.9]:25: Connection timed out');
    expect(l.messages[2]).toMatchObject({ queue: 'hold', held: true, sender: '$(rm -rf /)"\'`;@evil.example' });
    expect(l.messages[3]).toMatchObject({ forcedExpire: true, sender: '', bounce: true });
    expect(l.messages[0]?.forcedExpire).toBeUndefined();
  });

  it('gives null ages without a clock', () => {
    expect(parsePostqueueJson(fixture('postfix', 'postqueue-j.txt')).messages.every((m) => m.ageSeconds === null)).toBe(true);
  });
});

describe('parsePostqueueP', () => {
  const l = parsePostqueueP(fixture('postfix', 'postqueue-p.txt'), { nowSeconds: NOW });

  it('reads entries, status marks, reasons and the footer total', () => {
    expect(l.reportedTotal).toBe(4);
    expect(l.warnings).toEqual([]);
    expect(l.messages.map((m) => [m.id, m.queue, m.held, m.sender, m.size])).toEqual([
      ['4F2A81C0E3', 'active', false, 'alice@example.com', 1843],
      ['9C1D21C0F1', 'deferred', false, '', 5210],
      ['4NxYqK1Hj3z9rMT', 'hold', true, 'spam@hijacked.example', 912],
      ['B7E0A1C0F9', 'deferred', false, 'sender@example.com', 300],
    ]);
    expect(l.messages[1]).toMatchObject({ bounce: true, reason: 'connect to nowhere.example[192.0.2.9]:25: Connection timed out' });
    expect(l.messages[3]).toMatchObject({ forcedExpire: true, recipients: ['x@example.net', 'y@example.net'] });
    expect(l.messages[3]?.reason).toMatch(/^host mx.example.net/);
  });

  it('computes ages from yearless local times', () => {
    expect(l.messages.map((m) => m.ageSeconds)).toEqual([600, 10600, 1000600, 2000600]);
  });

  it('reads "Mail queue is empty" as 0', () => {
    expect(parsePostqueueP(fixture('postfix', 'postqueue-p-empty.txt'))).toEqual({ messages: [], reportedTotal: 0, warnings: [] });
  });

  it('warns about garbage and postqueue diagnostics', () => {
    const g = parsePostqueueP('postqueue: fatal: Queue report unavailable - mail system is down\nhello\n');
    expect(g.messages).toEqual([]);
    expect(g.reportedTotal).toBeNull();
    expect(g.warnings).toEqual([
      `line 1: ${COMMAND_FAILED} postfix: postqueue: fatal: Queue report unavailable - mail system is down`,
      'line 2: postqueue -p: line outside any message: hello',
    ]);
  });
});

describe('maildrop and other showq states', () => {
  it('postqueue -p before 3.1: "(maildrop queue, sender UID N)" is a queued message the footer counts', () => {
    const p = parsePostqueueP(fixture('postfix', 'postqueue-p-maildrop.txt'), { nowSeconds: NOW });
    expect(p.reportedTotal).toBe(4);
    expect(p.messages).toHaveLength(4);
    expect(p.warnings).toEqual([]);
    expect(p.messages.map((m) => [m.id, m.queue, m.sender, m.bounce, m.senderUid, m.ageSeconds])).toEqual([
      ['D0E1F2A3B4', 'maildrop', '', false, 33, 600],
      ['E5F6A7B8C9', 'deferred', 'www-data@web01.example', false, undefined, 600],
      ['1A2B3C4D5E', 'active', 'alice@example.com', false, undefined, null], // arrival "??"
      ['6F7A8B9C0D', 'hold', '', true, undefined, 10600],
    ]);
    expect(p.messages[0]?.recipients).toEqual([]);
    expect(p.messages[1]?.recipients).toEqual(['customer@example.net']);
    expect(p.messages[3]).toMatchObject({ held: true, recipients: ['gone@nowhere.example'] });
    expect(p.messages[3]?.reason).toBe('connect to nowhere.example[192.0.2.9]:25: Connection timed out');
  });

  it('a sender that reads like the maildrop note is quoted by showq, so it stays a sender', () => {
    const p = parsePostqueueP(
      '-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n' +
        'D0E1F2A3B4*    512 Tue Nov 14 22:13:20  "(maildrop queue, sender UID 0)"\n                                         x@y.example\n\n-- 0 Kbytes in 1 Request.\n',
      { nowSeconds: NOW },
    );
    expect(p.messages[0]).toMatchObject({ queue: 'active', sender: '"(maildrop queue, sender UID 0)"', bounce: false });
    expect(p.messages[0]?.senderUid).toBeUndefined();
  });

  it('postqueue -p (3.1+, long ids): "*#" and "!#" marks, the long header', () => {
    const p = parsePostqueueP(
      [
        '----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------',
        '4NxYqK1Hj3z9rMT*#     912 Tue Nov 14 22:13:20 spam@hijacked.example',
        '                                            victim@example.net',
        '',
        '4NxYqK1Hj3z9rMU!#     913 Tue Nov 14 22:13:20 spam@hijacked.example',
        '                                            victim2@example.net',
        '',
        '-- 1 Kbytes in 2 Requests.',
      ].join('\n'),
    );
    expect(p.warnings).toEqual([]);
    expect(p.messages.map((m) => [m.id, m.queue, m.held, m.forcedExpire])).toEqual([
      ['4NxYqK1Hj3z9rMT', 'active', false, true],
      ['4NxYqK1Hj3z9rMU', 'hold', true, true],
    ]);
  });

  it('postqueue -j: a maildrop record is a queued message; attribution does not look for its envelope', () => {
    const j = parsePostqueueJson(fixture('postfix', 'postqueue-j-maildrop.txt'), NOW);
    expect(j.warnings).toEqual([]);
    expect(j.messages.map((m) => [m.id, m.queue, m.sender, m.held, m.bounce, m.ageSeconds])).toEqual([
      ['3F1C2A0E45', 'maildrop', 'www-data@web01.example', false, false, 30],
      ['9C1D21C0F1', 'deferred', '', false, true, 10600],
    ]);
    expect(attributePostfixMessages(j.messages, new Map())).toEqual([
      '1 message(s) without readable queue file envelope, not attributed: 9C1D21C0F1',
    ]);
  });
});

describe('yearlessLocalTime', () => {
  it('picks the latest year whose weekday matches', () => {
    // Dec 31 seen on Jan 2 belongs to last year
    const jan2 = Date.UTC(2024, 0, 2, 12) / 1000;
    expect(yearlessLocalTime('Sun Dec 31 10:00:00', jan2)).toBe(Date.UTC(2023, 11, 31, 10) / 1000);
    // Weekday says 2022, not 2023
    expect(yearlessLocalTime('Sat Dec 31 10:00:00', jan2)).toBe(Date.UTC(2022, 11, 31, 10) / 1000);
    // offset: local 10:00 at +0200 is 08:00 UTC
    expect(yearlessLocalTime('Sun Dec 31 10:00', jan2, 7200)).toBe(Date.UTC(2023, 11, 31, 8) / 1000);
    expect(yearlessLocalTime('Xyz Foo 99 10:00', jan2)).toBeNull();
  });

  it('applies the offset of now to every date: across a DST change it is off by that change (documented bound)', () => {
    // now: Tue Nov 14 2023 22:23:20 UTC, server in CET (+0100); the message arrived on
    // Fri Oct 20 10:00 CEST (+0200) = 08:00 UTC, but is read as 10:00 +0100 = 09:00 UTC
    const t = yearlessLocalTime('Fri Oct 20 10:00:00', NOW, 3600);
    expect(t).toBe(Date.UTC(2023, 9, 20, 8) / 1000 + 3600);
  });
});

describe('postfix adapter', () => {
  it('runs -j, then either the -p footer or the full -p, in one command (through /bin/sh, stub postqueue)', () => {
    const d = tmp('ms-pfq-');
    const conf = "/etc/postfix-out'; rm -rf /";
    const run = (j: string) => {
      script(
        join(d, 'postqueue'),
        `printf '%s|' "$@" >>'${join(d, 'argv')}'; echo >>'${join(d, 'argv')}'\n${j}\necho '-- 1 Kbytes in 1 Request.'`,
      );
      writeFileSync(join(d, 'argv'), '');
      const plan = postfix.queue(mtaHost(join(d, 'postfix'), { config_directory: conf }));
      const out = execFileSync('/bin/sh', ['-c', plan.command], { encoding: 'utf8' });
      return { l: plan.parse(out, '', 0), argv: readFileSync(join(d, 'argv'), 'utf8') };
    };
    const json = JSON.stringify({
      queue_name: 'deferred',
      queue_id: '4F2A81C0E3',
      arrival_time: 1,
      message_size: 5,
      sender: 'a@b',
      recipients: [{ address: 'c@d' }],
    });
    const ok = run(`[ "$3" = -j ] && { echo '${json}'; exit 0; }`);
    expect(ok.argv).toBe(`-c|${conf}|-j|\n-c|${conf}|-p|\n`);
    expect(ok.l).toMatchObject({ reportedTotal: 1, warnings: [], messages: [{ id: '4F2A81C0E3' }] });
    // postfix < 3.1: -j is refused, the full -p listing is read
    const old = run(
      `[ "$3" = -j ] && { echo 'postqueue: fatal: usage: postqueue -f | postqueue -p'; exit 1; }; echo '-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------'`,
    );
    expect(old.argv).toBe(`-c|${conf}|-j|\n-c|${conf}|-p|\n`);
    expect(old.l).toMatchObject({ reportedTotal: 1, warnings: [] });
    expect(postfixQueueCommand(mtaHost('/usr/sbin/postfix'))).toContain('MS_POSTQUEUE=/usr/sbin/postqueue');
  });

  it('-j path: messages from JSON, total from the footer, ages from the server clock', () => {
    const l = parsePostfixQueueOutput(fixture('postfix', 'adapter-json.txt'), '', 0, 0);
    expect(l.reportedTotal).toBe(4);
    expect(l.messages).toHaveLength(4);
    expect(l.messages[0]?.ageSeconds).toBe(600);
    expect(l.warnings).toEqual([]);
  });

  it('old postfix: -j fails quietly and the full -p listing is used, in server-local time', () => {
    const l = parsePostfixQueueOutput(fixture('postfix', 'adapter-old-postfix.txt'), '', 0, 0);
    expect(l.reportedTotal).toBe(4);
    expect(l.messages.map((m) => m.id)).toEqual(['4F2A81C0E3', '9C1D21C0F1', '4NxYqK1Hj3z9rMT', 'B7E0A1C0F9']);
    expect(l.messages[0]?.ageSeconds).toBe(600 + 3600); // the listing is +0100 local time
    expect(l.warnings).toEqual([]);
  });

  it('empty queue', () => {
    expect(parsePostfixQueueOutput(fixture('postfix', 'adapter-empty.txt'))).toEqual({ messages: [], reportedTotal: 0, warnings: [] });
  });

  it('mail system down: warnings and no total', () => {
    const l = parsePostfixQueueOutput(fixture('postfix', 'adapter-down.txt'));
    expect(l.messages).toEqual([]);
    expect(l.reportedTotal).toBeNull();
    expect(l.warnings.some((w) => w.startsWith(`${COMMAND_FAILED} postqueue -p exited 75`))).toBe(true);
  });

  it('caps the warnings a garbage answer produces', () => {
    const w = parsePostqueueJson('{oops\n'.repeat(500)).warnings;
    expect(w).toHaveLength(101);
    expect(w[100]).toBe('… and 400 more warning(s)');
  });

  it('never throws on hostile input', () => {
    for (const input of HOSTILE_INPUTS) {
      for (const l of [
        parsePostqueueJson(input, NOW),
        parsePostqueueP(input, { nowSeconds: NOW }),
        parsePostfixQueueOutput(input, input, 1, NOW),
      ]) {
        expect(Array.isArray(l.messages)).toBe(true);
        assertPrintable(l.warnings);
      }
    }
    const r = postfix.queue(mtaHost()).parse(HOSTILE_INPUTS[3] ?? '', '', 0);
    expect(r.reportedTotal).toBeNull();
    expect(r.warnings.some((w) => w.startsWith(COMMAND_FAILED))).toBe(true);
  });
});
