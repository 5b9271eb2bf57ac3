import { describe, expect, it } from 'vitest';
import { mtaHost } from '../../src/mta/host.js';
import { parseEximAge, parseEximBp, parseEximBpc, parseEximQueueOutput, parseEximSize } from '../../src/mta/exim/listing.js';
import { exim } from '../../src/mta/exim/adapter.js';
import { parseEximSpoolHeader, recipientAddress } from '../../src/mta/exim/envelope.js';
import { COMMAND_FAILED } from '../../src/mta/util.js';
import { HOSTILE_INPUTS, assertPrintable, fixture } from './helpers.js';

describe('parseEximAge / parseEximSize', () => {
  it('reads minutes, hours, days and right-aligned values', () => {
    expect(parseEximAge('25m')).toBe(1500);
    expect(parseEximAge(' 0m')).toBe(0);
    expect(parseEximAge(' 2h')).toBe(7200);
    expect(parseEximAge('3d')).toBe(259200);
    expect(parseEximAge('TTT')).toBeNull();
    expect(parseEximAge('')).toBeNull();
  });
  it('reads plain, K, M and G sizes; placeholders and blanks are null', () => {
    expect(parseEximSize('512')).toBe(512);
    expect(parseEximSize(' 2.9K')).toBe(2970);
    expect(parseEximSize('10K')).toBe(10240);
    expect(parseEximSize('1.2M')).toBe(1258291);
    expect(parseEximSize('2G')).toBe(2 * 1024 ** 3);
    expect(parseEximSize('sss')).toBeNull();
    expect(parseEximSize('     ')).toBeNull();
  });
});

describe('parseEximBp', () => {
  const listing = parseEximBp(fixture('exim', 'bp-mixed.txt'));

  it('finds every message with both id formats', () => {
    expect(listing.messages.map((m) => m.id)).toEqual([
      '1WDQrg-0001Wf-1W',
      '16VDhn-000000001bo-D342',
      '1WDQrh-0001Wg-2X',
      '1WDQri-0001Wh-3Y',
      '16VDhn-000000001bp-AbC9',
      '1WDQrj-0001Wi-4Z',
    ]);
  });

  it('reads age, size, sender and leaves delivered recipients out', () => {
    const [a] = listing.messages;
    expect(a).toMatchObject({
      sender: 'alice@example.com',
      ageSeconds: 1500,
      size: 2970,
      frozen: false,
      bounce: false,
      recipients: ['bob@example.net'],
    });
  });

  it('marks a frozen bounce', () => {
    const b = listing.messages[1];
    expect(b).toMatchObject({ sender: '', bounce: true, frozen: true, ageSeconds: 7200, size: 512 });
    expect(b?.recipients).toEqual(['alice@example.com']);
  });

  it('keeps the (login) marker apart from the sender and skips +D extras', () => {
    const c = listing.messages[2];
    expect(c).toMatchObject({ sender: 'www-data@web1.example.com', localLogin: 'www-data', ageSeconds: 3 * 86400 });
    expect(c?.recipients).toEqual(['victim1@example.net', 'victim2@example.net']);
  });

  it('keeps hostile senders verbatim, with a blank size, login and frozen marker', () => {
    expect(listing.messages[3]).toMatchObject({ sender: '$(rm -rf /)@evil.example', size: null, ageSeconds: 0, frozen: true });
    expect(listing.messages[3]?.recipients).toEqual(['"quoted local"@example.net']);
    expect(listing.messages[4]).toMatchObject({
      sender: "'; DROP TABLE q;--@x.example",
      localLogin: 'nobody',
      frozen: true,
      ageSeconds: 123 * 86400,
      size: 10240,
    });
    // a recipient that looks like a message id stays a recipient
    expect(listing.messages[4]?.recipients).toEqual(['10HmaX-000000005vi-0000@looks-like-an-id.example']);
  });

  it('reports an unreadable spool entry as a message with a reason and a warning', () => {
    const e = listing.messages[5];
    expect(e).toMatchObject({ id: '1WDQrj-0001Wi-4Z', ageSeconds: null, bounce: false, recipients: [] });
    expect(e?.reason).toContain('spool read error');
    expect(listing.warnings).toHaveLength(1);
    expect(listing.warnings[0]).toMatch(/^line 20: .*1WDQrj-0001Wi-4Z unreadable/);
  });

  it('a header error line can still carry the frozen marker', () => {
    const l = parseEximBp(' 1h   1.0K 1WDQrg-0001Wf-1W <a@b>\n    *** spool format error: size=812 *** *** frozen ***\n');
    expect(l.messages[0]).toMatchObject({ frozen: true, reason: '*** spool format error: size=812 ***', sender: 'a@b' });
  });

  it('warns (with line numbers) about lines it does not understand', () => {
    const l = parseEximBp('25m  1.0K 1WDQrg-0001Wf-1W <a@b>\n          r@x\nrandom words here\n\u001b[2Jboom\n');
    expect(l.messages).toHaveLength(1);
    expect(l.warnings).toEqual([
      'line 3: exim -bp: line not understood: random words here',
      'line 4: exim -bp: line not understood: ^[[2Jboom',
    ]);
  });

  it('truncates very long lines in warnings', () => {
    const l = parseEximBp('z'.repeat(10_000));
    expect(l.warnings).toHaveLength(1);
    expect(l.warnings[0]?.length).toBeLessThan(260);
    expect(l.warnings[0]).toContain('(10000 chars)');
  });

  it('an empty queue is an empty listing', () => {
    expect(parseEximBp('')).toEqual({ messages: [], reportedTotal: null, warnings: [] });
  });
});

describe('parseEximBpc', () => {
  it('reads the count and flags anything else', () => {
    expect(parseEximBpc('17\n')).toEqual({ count: 17, warnings: [] });
    expect(parseEximBpc('exim: permission denied\n').count).toBeNull();
  });
});

describe('exim adapter', () => {
  it('builds one round trip with the binary quoted', () => {
    const plan = exim.queue(mtaHost('/usr/sbin/exim4'));
    expect(plan.command).toBe(
      `/usr/sbin/exim4 -bpc 2>&1; echo '__MAILSWEEP_RC__ bpc' "$?"; /usr/sbin/exim4 -bp 2>&1; echo '__MAILSWEEP_RC__ bp' "$?"`,
    );
    expect(exim.queue(mtaHost()).command.startsWith('exim -bpc')).toBe(true);
    expect(exim.queue(mtaHost('/opt/my exim/bin/exim;reboot')).command).toContain("'/opt/my exim/bin/exim;reboot' -bpc");
  });

  it('takes reportedTotal from -bpc and the messages from -bp', () => {
    const l = exim.queue(mtaHost()).parse(fixture('exim', 'adapter-ok.txt'), '', 0);
    expect(l.reportedTotal).toBe(3);
    expect(l.messages).toHaveLength(3);
    expect(l.messages[2]).toMatchObject({ sender: 'spam@hijacked.example', ageSeconds: 5 * 3600, size: 3072 });
    expect(l.messages[2]?.recipients).toEqual(['a@example.net', 'b@example.net']);
    expect(l.warnings).toEqual([]);
  });

  it('an empty queue reports 0', () => {
    expect(parseEximQueueOutput(fixture('exim', 'adapter-empty.txt'))).toEqual({ messages: [], reportedTotal: 0, warnings: [] });
  });

  it('a failing command yields warnings and no total', () => {
    const l = parseEximQueueOutput(fixture('exim', 'adapter-denied.txt'));
    expect(l.reportedTotal).toBeNull();
    expect(l.messages).toEqual([]);
    expect(l.warnings.filter((w) => w.startsWith(COMMAND_FAILED))).toEqual([
      `${COMMAND_FAILED} exim -bpc exited 1: exim: permission denied`,
      `${COMMAND_FAILED} exim -bp exited 1: exim: permission denied`,
    ]);
  });

  it('output without markers (shell error, random host) is a failure, not a crash', () => {
    const l = parseEximQueueOutput('', 'sh: 1: exim: not found\n', 127);
    expect(l.reportedTotal).toBeNull();
    expect(l.warnings[0]).toBe(`${COMMAND_FAILED} exim queue listing incomplete (exit 127): sh: 1: exim: not found`);
  });

  it('never throws on hostile input', () => {
    for (const input of HOSTILE_INPUTS) {
      for (const l of [parseEximBp(input), parseEximQueueOutput(input, input, 1)]) {
        expect(Array.isArray(l.messages)).toBe(true);
        assertPrintable(l.warnings);
      }
      expect(() => parseEximSpoolHeader(input)).not.toThrow();
    }
    expect(parseEximQueueOutput(HOSTILE_INPUTS[2] ?? '', '', 0).warnings.length).toBeGreaterThan(0);
  });
});

describe('parseEximSpoolHeader', () => {
  it('reads an authenticated submission, tainted (--) values included', () => {
    const h = parseEximSpoolHeader(fixture('exim', 'spool-H-auth.txt'));
    expect(h).toMatchObject({
      id: '16VDhn-000000001bo-D342',
      login: 'www-data',
      uid: 33,
      gid: 33,
      sender: 'www-data@web1.example.com',
      receivedTime: 1700000000,
      warningCount: 0,
      authId: 'alice@example.com',
      authSender: 'alice@example.com',
      hostAddress: '192.0.2.7',
      hostPort: 54321,
      hostAuth: 'dovecot_login',
      receivedProtocol: 'esmtpsa',
      ident: 'www-data',
      frozen: true,
      frozenAt: 1700000100,
      localError: true,
    });
    expect(h.tainted).toEqual(['auth_id', 'host_auth']);
    expect(h.delivered).toEqual(['done1@example.net', 'done0@example.net']);
    expect(h.recipients).toEqual(['victim1@example.net', 'done0@example.net', 'victim 2@example.net']);
    expect(h.warnings).toEqual([]);
  });

  it('reads a bounce with an IPv6 client and no tree', () => {
    const h = parseEximSpoolHeader(fixture('exim', 'spool-H-bounce.txt'));
    expect(h).toMatchObject({ id: '1WDQrg-0001Wf-1W', sender: '', hostAddress: '2001:db8::25', hostPort: 25, frozen: false });
    expect(h.recipients).toEqual(['bounce-target@example.org']);
    expect(h.warnings).toEqual([]);
  });

  it('reports truncated files', () => {
    const h = parseEximSpoolHeader('1WDQrg-0001Wf-1W-H\nexim 1 1\n<a@b>\n1700000000 0\nXX\n5\nonly@one\n');
    expect(h.recipients).toEqual(['only@one']);
    expect(h.warnings).toEqual(['spool header: expected 5 recipients, found 1']);
  });

  it('strips per-recipient spool data', () => {
    expect(recipientAddress('a@b')).toBe('a@b');
    expect(recipientAddress('a@b 3')).toBe('a@b');
    expect(recipientAddress('a@b 0,3,0')).toBe('a@b');
    expect(recipientAddress('a@b  0,0  0,-1#3')).toBe('a@b');
    expect(recipientAddress('a@b rfc822;x@y 10,2 err@z 5,1#3')).toBe('a@b');
    expect(recipientAddress('a@b err@z 5,1#1')).toBe('a@b');
  });
});
