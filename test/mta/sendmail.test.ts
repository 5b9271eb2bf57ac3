import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mtaHost } from '../../src/mta/host.js';
import { sendmail } from '../../src/mta/sendmail/adapter.js';
import { MAILQ_RECIPIENT_WIDTH, MAILQ_SENDER_WIDTH, decodeMailqAddress, parseMailq } from '../../src/mta/sendmail/listing.js';
import { parseSendmailAttributedOutput } from '../../src/mta/sendmail/attribution.js';
import { parseSendmailQueueOutput, sendmailQueueCommand } from '../../src/mta/sendmail/queue.js';
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
    // sendmail's 5 include one "(job completed)" entry: 4 messages
    expect(l.reportedTotal).toBe(4);
    expect(l.messages).toHaveLength(4);
  });

  it('reads entries: marks, sizes, null senders, reasons, quarantine', () => {
    expect(l.messages.map((m) => [m.id, m.mark, m.size, m.sender, m.queue])).toEqual([
      ['vAEM1Kx0012345', '*', 1843, 'alice@example.com', '/var/spool/mqueue/q2'],
      ['vAEJQeA0012346', 'X', 5210, '', '/var/spool/mqueue/q2'],
      ['vA38QeB0012347', undefined, 912, '$(rm -rf /)@evil.example', '/var/spool/mqueue/q2'],
      ['vAMIe0C0012348', undefined, null, '', '/var/spool/mqueue/q3'],
    ]);
    expect(l.messages[0]?.recipients).toEqual(['bob@example.net', 'carol@example.org']);
    expect(l.messages[1]).toMatchObject({
      bounce: true,
      bodyType: '8BITMIME',
      reason: 'Deferred: Connection timed out with nowhere.example.',
    });
    expect(l.messages[2]).toMatchObject({ held: true, quarantine: 'suspicious sender', recipients: ['victim@example.net'] });
    expect(l.messages[3]).toMatchObject({ reason: 'User unknown', recipients: ['x@example.net'] });
  });

  it('ages come from the yearless Q-Time (minute precision)', () => {
    expect(l.messages.map((m) => m.ageSeconds)).toEqual([620, 10640, 1000640, 2000600]);
  });

  it('a vanished entry is transient: counted by sendmail, not a message, no warning', () => {
    expect(l.transient).toEqual([{ id: 'vAMIe0C0012349', state: 'job completed', queue: '/var/spool/mqueue/q3' }]);
    expect(l.warnings).toEqual([]);
  });

  it('an entry sendmail could not read stays counted and is a warning', () => {
    const text = [
      '\t\t/var/spool/mqueue (2 requests)',
      '-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------',
      '6AN4lpHD020840 (permission denied)',
      '6AN4lpS6020817 (Too many open files)',
      '\t\tTotal requests: 2',
    ].join('\n');
    const p = parseMailq(text);
    expect(p.reportedTotal).toBe(2);
    expect(p.messages).toEqual([]);
    expect(p.transient).toEqual([]);
    expect(p.warnings).toEqual([
      'line 3: mailq: entry 6AN4lpHD020840 not readable (permission denied): 6AN4lpHD020840 (permission denied)',
      'line 4: mailq: entry 6AN4lpS6020817 not readable (Too many open files): 6AN4lpS6020817 (Too many open files)',
    ]);
  });

  it('an empty queue', () => {
    expect(parseMailq(fixture('sendmail', 'mailq-empty.txt'))).toEqual({
      messages: [],
      reportedTotal: 0,
      warnings: [],
      dirs: [{ dir: '/var/spool/mqueue', count: 0 }],
      totals: [0],
      transient: [],
    });
  });

  it('without a Total line, the per-directory counts are the total', () => {
    const one = parseMailq(
      '\t\t/var/spool/mqueue (1 request)\n-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------\nvAEM1Kx0012345      10 Tue Nov 14 22:13 <a@b>\n\t\t\t\t\t <c@d>\n',
    );
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

describe('mailq addresses: prtstr() widths and escapes', () => {
  it('undoes \\\\ and \\ooo (UTF-8 reassembled), control characters become ?', () => {
    expect(MAILQ_SENDER_WIDTH).toBe(39);
    expect(MAILQ_RECIPIENT_WIDTH).toBe(38);
    expect(decodeMailqAddress('<"john\\\\doe"@example.org>', 39)).toEqual({ text: '<"john\\doe"@example.org>', truncated: false });
    expect(decodeMailqAddress('<jos\\303\\251@ex\\303\\244mple.org>', 39)).toEqual({ text: '<josé@exämple.org>', truncated: false });
    expect(decodeMailqAddress('<a\\033[31m\\012b\\000@x>', 39).text).toBe('<a?[31m?b?@x>');
    expect(decodeMailqAddress('<latin1-\\351t\\351@x>', 39).text).toBe('<latin1-\uFFFDt\uFFFD@x>');
    // what prtstr never prints (a lone backslash, a backslash before a non-octal) is kept as text
    expect(decodeMailqAddress('a\\9xx\\', 39).text).toBe('a\\9xx\\');
  });

  it('a cut address: "<" without ">", or unbracketed within 4 of the budget (an escape may have been dropped)', () => {
    const at = (n: number) => 'u'.repeat(n - 10) + '@x.example'; // n characters
    expect(decodeMailqAddress('<newsletter-bounces+x7f3a@lists.custome', 39).truncated).toBe(true);
    expect(decodeMailqAddress('<abcdefghijklmnopqrstuvwxyz0123456789', 39).truncated).toBe(true); // "\\303" did not fit
    expect(decodeMailqAddress(`<${at(37)}>`, 39).truncated).toBe(false); // 39 and closed: whole
    expect(decodeMailqAddress(at(39), 39).truncated).toBe(true);
    expect(decodeMailqAddress(at(35), 39).truncated).toBe(true);
    expect(decodeMailqAddress(at(34), 39).truncated).toBe(false);
    expect(decodeMailqAddress(at(34), 38).truncated).toBe(true);
    // escapes count 2 and 4 of the budget: 31 characters + one \\ooo = 35 units
    expect(decodeMailqAddress(`${at(31)}\\303`, 39).truncated).toBe(true);
    expect(decodeMailqAddress('<>', 39).truncated).toBe(false);
  });

  const l = parseMailq(fixture('sendmail', 'mailq-long-addresses.txt'), { nowSeconds: 1795409400 });

  it('marks cut senders and recipients, keeps what mailq printed (a "<" stays), decodes the rest', () => {
    expect(l.messages.map((m) => [m.id, m.sender, m.senderTruncated])).toEqual([
      ['6AN4kZ01020700', 'wordpress-notifications@web01.hosting.e', true],
      ['6AN4lpHD020840', '<newsletter-bounces+x7f3a@lists.custome', true],
      ['6AN4lpS6020817', '"john\\doe"@example.org', undefined],
      ['6AN4loPe020794', 'josé@exämple.org', undefined],
      ['6AN4lqqh020904', '<abcdefghijklmnopqrstuvwxyz0123456789', true],
    ]);
    expect(l.messages[1]).toMatchObject({
      recipients: ['partner49@wingtip.example', '<j.random.longname+shop@mail.customer-'],
      truncatedRecipients: [1],
    });
    expect(l.messages[2]?.recipients).toEqual(['bob@example.net', '"ops\\team"@customer-portal.example']);
    expect(l.messages[2]?.truncatedRecipients).toBeUndefined();
    expect(l.messages[3]?.recipients).toEqual(['renée@exämple.org']);
    expect(l.warnings).toEqual([]);
  });

  it('"(job completed)" and "(no control file)" entries are transient; the total leaves them out', () => {
    expect(l.totals).toEqual([1, 7]);
    expect(l.transient).toEqual([
      { id: '6AN4lprG020881', state: 'job completed', queue: '/var/spool/mqueue' },
      { id: '6AN4m0aa020999', state: 'no control file', queue: '/var/spool/mqueue' },
      // a qf with S/R lines but no T line: ctime(0) as Q-Time, the suffix on its last line
      { id: '6AN4m1bb021001', state: 'no control file', queue: '/var/spool/mqueue' },
    ]);
    expect(l.reportedTotal).toBe(5);
    expect(l.messages).toHaveLength(5);
  });

  it('a real message dated Thu Jan 1 is still a message', () => {
    const p = parseMailq(
      '\t\t/var/spool/mqueue (1 request)\n6AN4m1bb021001      10 Thu Jan  1 10:05 <a@b.example>\n\t\t\t\t\t <c@d.example>\n',
    );
    expect(p.messages.map((m) => [m.id, m.recipients])).toEqual([['6AN4m1bb021001', ['c@d.example']]]);
    expect(p.transient).toEqual([]);
  });
});

describe('sendmail attributed listing: full senders from the mail log', () => {
  const NOW_ = 1795409400;
  const base = fixture('sendmail', 'attributed-long-senders.txt');
  const l = parseSendmailAttributedOutput(base, '', 0, NOW_);

  it('a cut sender takes the whole from= sender that begins with it; the rest stays as listed', () => {
    expect(l.messages.map((m) => [m.id, m.sender, m.senderTruncated, m.senderSource, m.authId])).toEqual([
      ['6AN4kZ01020700', 'wordpress-notifications@web01.hosting.example', undefined, 'mail log', undefined],
      ['6AN4lpHD020840', 'newsletter-bounces+x7f3a@lists.customer-portal.example', undefined, 'mail log', 'bob@customer-portal.example'],
      ['6AN4lpS6020817', '"john\\doe"@example.org', undefined, undefined, 'john'],
      ['6AN4loPe020794', 'josé@exämple.org', undefined, undefined, 'josé@exämple.org'],
      // the from= line of this queue id names another sender: neither completed nor attributed
      ['6AN4lqqh020904', '<abcdefghijklmnopqrstuvwxyz0123456789', true, undefined, undefined],
    ]);
    expect(l.messages[1]?.clientIp).toBe('203.0.113.50');
  });

  it('totals: transient entries out, the MSP queue listed once', () => {
    expect(l.reportedTotal).toBe(5);
    expect(l.transient.map((t) => t.id)).toEqual(['6AN4lprG020881', '6AN4m0aa020999', '6AN4m1bb021001']);
    expect(l.warnings).toEqual([
      '1 queued message(s) whose from= line names another sender (queue id reused, or a forged log line): not attributed (6AN4lqqh020904)',
    ]);
  });

  it('a from= line whose sender cannot be cut out for sure completes nothing: the domain stays unknown', () => {
    const forged = base.replace(
      'from=<newsletter-bounces+x7f3a@lists.customer-portal.example>, size=842',
      'from=<newsletter-bounces+x7f3a@lists.custome", size=1, class=0, nrcpts=1, x"@customer-portal.example>, size=842',
    );
    const f = parseSendmailAttributedOutput(forged, '', 0, NOW_);
    expect(f.messages[1]).toMatchObject({
      sender: '<newsletter-bounces+x7f3a@lists.custome',
      senderTruncated: true,
      authId: 'bob@customer-portal.example',
    });
    expect(f.warnings).toContain(
      '1 attributed message(s) with a sender mailq cut short and no matching from= line: sender domain unknown (6AN4lpHD020840)',
    );
    // cut at 200 by logsender(): not whole either
    const long = `<${'a'.repeat(150)}@lists.customer-portal.example`;
    const cut = base.replace(
      'from=<newsletter-bounces+x7f3a@lists.customer-portal.example>, size=842',
      `from=${long.slice(0, 200)}, size=842`,
    );
    expect(parseSendmailAttributedOutput(cut, '', 0, NOW_).messages[1]?.senderTruncated).toBe(true);
  });
});

describe('sendmail adapter', () => {
  it('lists the MTA queue and the MSP queue in one command (run through /bin/sh, stub mailq and sendmail)', () => {
    const d = mkdtempSync(join(tmpdir(), 'ms-smq-'));
    try {
      for (const b of ['mailq', 'sendmail']) {
        writeFileSync(join(d, b), `#!/bin/sh\necho "${b} $*"\n`);
        chmodSync(join(d, b), 0o755);
      }
      const run = (cmd: string): string[] =>
        execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', env: { PATH: `${d}:/usr/bin:/bin` } })
          .split('\n')
          .slice(1, -1);
      expect(run(sendmailQueueCommand(mtaHost()))).toEqual(['mailq ', '__MAILSWEEP_RC__ mta 0', 'mailq -Ac', '__MAILSWEEP_RC__ msp 0']);
      expect(run(sendmailQueueCommand(mtaHost(join(d, 'sendmail'))))).toEqual([
        'sendmail -bp',
        '__MAILSWEEP_RC__ mta 0',
        'sendmail -bp -Ac',
        '__MAILSWEEP_RC__ msp 0',
      ]);
      expect(run(sendmail.queue(mtaHost(join(d, 'mailq'))).command)).toEqual([
        'mailq ',
        '__MAILSWEEP_RC__ mta 0',
        'mailq -Ac',
        '__MAILSWEEP_RC__ msp 0',
      ]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
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
    expect(l.warnings).toEqual([
      'mailq -Ac (MSP queue) not listed (exit 78): No local mailer defined | QueueDirectory (Q) option must be set',
    ]);
  });

  it('transient entries of the MSP queue (mailq -Ac) come off the total too', () => {
    const out = [
      '__MAILSWEEP_NOW__ 1700000600 +0000',
      '/var/spool/mqueue is empty',
      '\t\tTotal requests: 0',
      '__MAILSWEEP_RC__ mta 0',
      '\t\t/var/spool/clientmqueue (2 requests)',
      '-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------',
      'vAEM1Kx0012352       12 Tue Nov 14 17:13 apache',
      '\t\t\t\t\t victim1@example.net',
      'vAEM1Kx0012353 (job completed)',
      '\t\tTotal requests: 2',
      '__MAILSWEEP_RC__ msp 0',
    ].join('\n');
    const l = parseSendmailQueueOutput(out);
    expect(l.reportedTotal).toBe(1);
    expect(l.messages.map((m) => m.id)).toEqual(['vAEM1Kx0012352']);
    expect(l.transient).toEqual([{ id: 'vAEM1Kx0012353', state: 'job completed', queue: '/var/spool/clientmqueue' }]);
    expect(l.warnings).toEqual([]);
  });

  it('a failed mailq is reported as such', () => {
    const l = parseSendmailQueueOutput(
      '__MAILSWEEP_NOW__ 1700000600 +0000\nmailq: 510 You are not permitted to see the queue\n__MAILSWEEP_RC__ mta 77\n__MAILSWEEP_RC__ msp 77\n',
    );
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
    for (const input of HOSTILE_INPUTS) {
      const a = decodeMailqAddress(input.slice(0, 500), MAILQ_SENDER_WIDTH);
      assertPrintable([a.text.slice(0, 500)]);
    }
    const r = sendmail.queue(mtaHost()).parse(HOSTILE_INPUTS[2] ?? '', '', 0);
    expect(r.reportedTotal).toBeNull();
    expect(r.warnings.length).toBeGreaterThan(1);
  });
});
