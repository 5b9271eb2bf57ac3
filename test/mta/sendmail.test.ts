import { describe, expect, it } from 'vitest';
import { parseMailq, parseSendmailQueueOutput, sendmail, sendmailQueueCommand } from '../../src/mta/sendmail.js';
import { COMMAND_FAILED } from '../../src/mta/util.js';
import { HOSTILE_INPUTS, assertPrintable, fixture } from './helpers.js';

const NOW = 1700000600; // Tue Nov 14 22:23:20 UTC 2023

describe('parseMailq', () => {
  const l = parseMailq(fixture('sendmail', 'mailq-multi.txt'), { nowSeconds: NOW });

  it('reads several queue directories and the Total requests line', () => {
    expect(l.dirs).toEqual([
      { dir: '/var/spool/mqueue/q1', count: 0 },
      { dir: '/var/spool/mqueue/q2', count: 3 },
      { dir: '/var/spool/mqueue/q3', count: 2 },
    ]);
    expect(l.totals).toEqual([5]);
    expect(l.reportedTotal).toBe(5);
  });

  it('reads entries: marks, sizes, null senders, reasons, quarantine', () => {
    expect(l.messages.map((m) => [m.id, m.mark, m.size, m.sender, m.queue])).toEqual([
      ['vAEM1Kx0012345', '*', 1843, 'alice@example.com', '/var/spool/mqueue/q2'],
      ['vAEJQeA0012346', 'X', 5210, '', '/var/spool/mqueue/q2'],
      ['vA38QeB0012347', undefined, 912, '$(rm -rf /)@evil.example', '/var/spool/mqueue/q2'],
      ['vAMIe0C0012348', undefined, null, '', '/var/spool/mqueue/q3'],
    ]);
    expect(l.messages[0]?.recipients).toEqual(['bob@example.net', 'carol@example.org']);
    expect(l.messages[1]).toMatchObject({ bounce: true, bodyType: '8BITMIME', reason: 'Deferred: Connection timed out with nowhere.example.' });
    expect(l.messages[2]).toMatchObject({ held: true, quarantine: 'suspicious sender', recipients: ['victim@example.net'] });
    expect(l.messages[3]).toMatchObject({ reason: 'User unknown', recipients: ['x@example.net'] });
  });

  it('ages come from the yearless Q-Time (minute precision)', () => {
    expect(l.messages.map((m) => m.ageSeconds)).toEqual([620, 10640, 1000640, 2000600]);
  });

  it('a vanished entry is counted by sendmail but reported as a warning', () => {
    expect(l.warnings).toEqual(['line 18: mailq: entry vAMIe0C0012349 not readable (job completed): vAMIe0C0012349  (job completed)']);
    expect(l.messages).toHaveLength(4);
  });

  it('an empty queue', () => {
    expect(parseMailq(fixture('sendmail', 'mailq-empty.txt'))).toEqual({
      messages: [],
      reportedTotal: 0,
      warnings: [],
      dirs: [{ dir: '/var/spool/mqueue', count: 0 }],
      totals: [0],
    });
  });

  it('without a Total line, the per-directory counts are the total', () => {
    const one = parseMailq('\t\t/var/spool/mqueue (1 request)\n-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------\nvAEM1Kx0012345      10 Tue Nov 14 22:13 <a@b>\n\t\t\t\t\t <c@d>\n');
    expect(one.reportedTotal).toBe(1);
    expect(one.messages[0]).toMatchObject({ sender: 'a@b', recipients: ['c@d'], ageSeconds: null });
  });

  it('warns when the listing is capped', () => {
    const capped = parseMailq('\t\t/var/spool/mqueue (5000 requests, only 100 printed)\n');
    expect(capped.reportedTotal).toBe(5000);
    expect(capped.dirs[0]).toEqual({ dir: '/var/spool/mqueue', count: 5000, printed: 100 });
    expect(capped.warnings[0]).toMatch(/only 100 of 5000 entries listed/);
  });
});

describe('sendmail adapter', () => {
  it('lists the MTA queue and the MSP queue in one command', () => {
    const cmd = sendmailQueueCommand({});
    expect(cmd).toContain('mailq 2>&1; echo "__MAILSWEEP_RC__ mta $?"');
    expect(cmd).toContain('mailq -Ac 2>&1; echo "__MAILSWEEP_RC__ msp $?"');
    expect(sendmailQueueCommand({ binary: '/usr/sbin/sendmail' })).toContain('/usr/sbin/sendmail -bp -Ac 2>&1');
    expect(sendmail.queue({ binary: '/usr/bin/mailq' }).command).toContain('/usr/bin/mailq -Ac');
  });

  it('Debian: MSP and MTA sections from mailq, the duplicate -Ac listing dropped', () => {
    const l = parseSendmailQueueOutput(fixture('sendmail', 'adapter-debian.txt'));
    expect(l.messages.map((m) => [m.id, m.queue])).toEqual([
      ['vAEM1Kx0012350', '/var/spool/mqueue-client'],
      ['vAEM1Kx0012351', '/var/spool/mqueue'],
    ]);
    expect(l.reportedTotal).toBe(2);
    expect(l.messages[0]).toMatchObject({ sender: 'www-data', ageSeconds: 620, reason: 'Deferred: Connection refused by [127.0.0.1]' });
    expect(l.warnings).toEqual([]);
  });

  it('RHEL: mail stuck in clientmqueue shows up, with server-local times', () => {
    const l = parseSendmailQueueOutput(fixture('sendmail', 'adapter-rhel-msp.txt'));
    expect(l.reportedTotal).toBe(2);
    expect(l.messages.map((m) => [m.sender, m.recipients, m.queue, m.ageSeconds])).toEqual([
      ['apache', ['victim1@example.net'], '/var/spool/clientmqueue', 620],
      ['apache', ['victim2@example.net'], '/var/spool/clientmqueue', 620],
    ]);
  });

  it('no MSP queue configured: one warning, the MTA total stands', () => {
    const l = parseSendmailQueueOutput(fixture('sendmail', 'adapter-no-msp.txt'));
    expect(l.reportedTotal).toBe(0);
    expect(l.warnings).toEqual(['mailq -Ac (MSP queue) not listed (exit 78): No local mailer defined | QueueDirectory (Q) option must be set']);
  });

  it('a failed mailq is reported as such', () => {
    const l = parseSendmailQueueOutput('__MAILSWEEP_NOW__ 1700000600 +0000\nmailq: 510 You are not permitted to see the queue\n__MAILSWEEP_RC__ mta 77\n__MAILSWEEP_RC__ msp 77\n');
    expect(l.reportedTotal).toBeNull();
    expect(l.warnings[0]).toBe(`${COMMAND_FAILED} mailq exited 77: mailq: 510 You are not permitted to see the queue`);
  });

  it('never throws on hostile input', () => {
    for (const input of HOSTILE_INPUTS) {
      for (const l of [parseMailq(input, { nowSeconds: NOW }), parseSendmailQueueOutput(input, input, 1, NOW)]) {
        expect(Array.isArray(l.messages)).toBe(true);
        assertPrintable(l.warnings);
      }
    }
    const r = sendmail.queue({}).parse(HOSTILE_INPUTS[2] ?? '', '', 0);
    expect(r.reportedTotal).toBeNull();
    expect(r.warnings.length).toBeGreaterThan(1);
  });
});
