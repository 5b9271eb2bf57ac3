// Per-message attribution (attributedQueue): recorded real-server outputs and edge cases.
//
// attributed-bookworm-*.txt / attributed-trixie-*.txt were recorded from the mailsweep lab
// (test/lab/lab) by running each adapter's attributedQueue command over SSH. The lab seeds:
// bob@example.test (compromised) sends 300 spam with forged *.invalid senders; alice (6),
// carol (8) and dave (5) send their own mail; 20 unauthenticated null-sender bounces.
// The exim lab hosts were recorded while their seeding had failed at SMTP AUTH (only the 20
// bounces were queued), so exim's authenticated case is covered by a synthetic dump in the
// same (4.96+) format.
import { mtaHost } from '../../src/mta/host.js';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eximAttributedCommand, parseEximAttributedOutput } from '../../src/mta/exim/listing.js';
import { exim } from '../../src/mta/exim/adapter.js';
import { parseEximSpoolDump } from '../../src/mta/exim/attribution.js';
import { parseEximSpoolHeader } from '../../src/mta/exim/envelope.js';
import { parsePostfixAttributedOutput } from '../../src/mta/postfix/queue.js';
import { parsePostcatEnvelopes } from '../../src/mta/postfix/attribution.js';
import { postfix } from '../../src/mta/postfix/adapter.js';
import { sendmail } from '../../src/mta/sendmail/adapter.js';
import { parseSendmailAttributedOutput, parseSendmailAuthLog, sendmailAttributedCommand } from '../../src/mta/sendmail/attribution.js';
import type { QueueListing, QueueMessage } from '../../src/mta/types.js';
import { COMMAND_FAILED } from '../../src/mta/util.js';
import { HOSTILE_INPUTS, assertPrintable, fixture } from './helpers.js';

const COMPROMISED = 'bob@example.test';
const LEGIT: Record<string, number> = { 'alice@example.test': 6, 'carol@shop.test': 8, 'dave@example.test': 5 };
const NOW = 1795408000;

function byAuth(messages: QueueMessage[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of messages) out[m.authId ?? '(none)'] = (out[m.authId ?? '(none)'] ?? 0) + 1;
  return out;
}

/** The lab's ground truth, checked message by message. */
function expectLabAttribution(l: QueueListing): void {
  expect(l.warnings).toEqual([]);
  expect(l.messages).toHaveLength(339);
  expect(l.reportedTotal).toBe(339);
  const spam = l.messages.filter((m) => !m.bounce && m.sender.endsWith('.invalid'));
  const bounces = l.messages.filter((m) => m.bounce);
  const own = l.messages.filter((m) => !m.bounce && !m.sender.endsWith('.invalid'));
  expect(spam).toHaveLength(300);
  expect(bounces).toHaveLength(20);
  // The compromised account owns exactly the spam …
  expect(spam.every((m) => m.authId === COMPROMISED)).toBe(true);
  expect(l.messages.filter((m) => m.authId === COMPROMISED)).toHaveLength(300);
  // … legit users their own mail (authenticated as the envelope sender) …
  for (const m of own) expect(m.authId).toBe(m.sender);
  expect(byAuth(own)).toEqual(LEGIT);
  // … and backscatter has no authId.
  expect(bounces.every((m) => m.authId === undefined)).toBe(true);
  expect(l.messages.every((m) => m.clientIp === '127.0.0.1')).toBe(true);
}

// ---------------------------------------------------------------------------
describe('exim attributedQueue', () => {
  it('is one command: listing, spool_directory and one find|awk over every -H file', () => {
    const cmd = exim.attributedQueue(mtaHost('/usr/sbin/exim4')).command;
    expect(cmd).toContain('/usr/sbin/exim4 -bpc');
    expect(cmd).toContain('/usr/sbin/exim4 -bp 2>&1');
    // The spool dump is scripts/spool-dump.sh, the binary one of its settings.
    expect(cmd).toContain('MS_EXIM=/usr/sbin/exim4\n');
    expect(cmd).toContain('"$MS_EXIM" -bP spool_directory');
    expect(cmd).toContain(`find "$sp/input" -type f -name '*-H' -exec env LC_ALL=C awk "$MS_DUMP_AWK"`);
    expect(cmd.match(/find /g)).toHaveLength(1);
  });

  it('quotes the binary and an inventory spool_directory', () => {
    const cmd = eximAttributedCommand(mtaHost('/opt/ex im/exim', { spool_directory: "/x'; rm -rf / #" }));
    expect(cmd).toContain(`'/opt/ex im/exim' -bpc`);
    expect(cmd).toContain(`\nMS_EXIM='/opt/ex im/exim'\n`);
    expect(cmd).toContain(`\nMS_SPOOL='/x'"'"'; rm -rf / #'\n`);
  });

  for (const host of ['bookworm-exim', 'trixie-exim']) {
    it(`real ${host}: 20 frozen bounces, joined to their -H files, none attributed`, () => {
      const l = parseEximAttributedOutput(fixture('exim', `attributed-${host}.txt`));
      expect(l.warnings).toEqual([]);
      expect(l.reportedTotal).toBe(20);
      expect(l.messages).toHaveLength(20);
      for (const m of l.messages) {
        expect(m.bounce).toBe(true);
        expect(m.frozen).toBe(true);
        expect(m.authId).toBeUndefined();
        expect(m.clientIp).toBe('127.0.0.1'); // 4.96+ writes "-host_address [127.0.0.1]:40250"
      }
    });
  }

  describe('synthetic dump (lab format, with SMTP AUTH)', () => {
    const l = parseEximAttributedOutput(fixture('exim', 'attributed-synthetic-auth.txt'));
    const get = (id: string): QueueMessage | undefined => l.messages.find((m) => m.id === id);

    it('tainted --auth_id and plain -auth_id both count; split and flat layouts', () => {
      expect(get('1xVLbA-000000000AA-0AAA')).toMatchObject({ authId: COMPROMISED, clientIp: '127.0.0.1' });
      expect(get('1xVLbB-000000000BB-0BBB')).toMatchObject({ authId: 'alice@example.test', authSender: 'alice@example.test' });
    });

    it('an -aclc value with a blank line does not end the envelope early', () => {
      expect(get('1xVLbA-000000000AA-0AAA')?.authId).toBe(COMPROMISED);
    });

    it("a local submission's login is not an SMTP-AUTH account", () => {
      const m = get('1xVLbC-000000000CC-0CCC');
      expect(m?.authId).toBeUndefined();
      expect(m?.localLogin).toBe('www-data');
    });

    it('an unreadable -H file leaves authId undefined and says so; a forged marker stays data', () => {
      // A recipient named like the marker arrives as "|__MAILSWEEP_H__ …": data, not a file start.
      expect(get('1xVLbD-000000000DD-0DDD')?.authId).toBeUndefined();
      expect(l.warnings).toEqual([
        `${COMMAND_FAILED} exim spool read exited 2: awk: cannot open /var/spool/exim4/input/1xVLbD-000000000DD-0DDD-H (Permission denied)`,
        expect.stringMatching(/^line 66 \(exim spool\): spool dump: awk: cannot open/),
        expect.stringContaining('1 message(s) without a readable spool -H file, not attributed: 1xVLbD-000000000DD-0DDD'),
      ]);
      expect(get('1xVLbB-000000000BB-0BBB')?.authId).toBe('alice@example.test');
    });
  });

  it('parseEximSpoolDump: a file whose first line names another id is not used', () => {
    const d = parseEximSpoolDump(
      '__MAILSWEEP_H__ /s/input/1xVLbA-000000000AA-0AAA-H\n|1xVLbB-000000000BB-0BBB-H\n|u 1 1\n|<a@b>\n|1 0\n|-auth_id evil\n|XX\n|0\n' +
        '__MAILSWEEP_H__ /s/input/../../etc/passwd\n|root:x:0:0\n',
    );
    expect(d.headers.size).toBe(0);
    expect(d.warnings).toHaveLength(2);
  });

  it('spool header: the 4.96+ bracketed host address', () => {
    const h = parseEximSpoolHeader('1xVLbA-000000000AA-0AAA-H\nu 1 1\n<a@b>\n1 0\n-host_address [2001:db8::1]:587\nXX\n0\n\n');
    expect(h).toMatchObject({ hostAddress: '2001:db8::1', hostPort: 587 });
  });

  it('runs as a real shell command against a fake exim and spool (both layouts)', () => {
    let hasAwk = true;
    try {
      execFileSync('sh', ['-c', 'command -v awk && command -v find'], { stdio: 'pipe' });
    } catch {
      hasAwk = false;
    }
    if (!hasAwk) return;
    const dir = mkdtempSync(join(tmpdir(), 'mailsweep-exim-'));
    try {
      const spool = join(dir, 'spool');
      mkdirSync(join(spool, 'input', 'b'), { recursive: true });
      const bin = join(dir, 'exim');
      writeFileSync(
        bin,
        `#!/bin/sh\ncase "$1" in -bpc) echo 2;; -bp) printf ' 5m   812 1xVLbA-000000000AA-0AAA <a@b.invalid>\\n          u@c\\n\\n 5m   790 1xVLbB-000000000BB-0BBB <alice@example.test>\\n          p@f\\n';; -bP) echo "spool_directory = ${spool}";; esac\n`,
      );
      chmodSync(bin, 0o755);
      writeFileSync(
        join(spool, 'input', '1xVLbA-000000000AA-0AAA-H'),
        '1xVLbA-000000000AA-0AAA-H\nDebian-exim 1 1\n<a@b.invalid>\n1 0\n-host_address [127.0.0.1]:1\n-host_auth plain\n-aclc x 3\n\n\n\n--auth_id bob@example.test\nXX\n1\nu@c\n\n-auth_id header-forgery\n',
      );
      writeFileSync(
        join(spool, 'input', 'b', '1xVLbB-000000000BB-0BBB-H'),
        '1xVLbB-000000000BB-0BBB-H\nDebian-exim 1 1\n<alice@example.test>\n1 0\n-host_address 127.0.0.1.2\n-host_auth login\n-auth_id alice@example.test\nXX\n1\np@f\n\n__MAILSWEEP_RC__ spool 0\n',
      );
      const plan = exim.attributedQueue(mtaHost(bin));
      const out = execFileSync('sh', ['-c', plan.command], { encoding: 'utf8' });
      const l = plan.parse(out, '', 0);
      expect(l.warnings).toEqual([]);
      expect(l.messages.map((m) => [m.id, m.authId])).toEqual([
        ['1xVLbA-000000000AA-0AAA', COMPROMISED],
        ['1xVLbB-000000000BB-0BBB', 'alice@example.test'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never throws on hostile input', () => {
    for (const h of HOSTILE_INPUTS) {
      const l = parseEximAttributedOutput(h, h, 1);
      assertPrintable(l.warnings);
      parseEximSpoolDump(h);
    }
  });
});

// ---------------------------------------------------------------------------
describe('postfix attributedQueue', () => {
  it('one script through /bin/sh: postqueue, then postcat -e over every file of the four queues; hostile paths stay argv words', () => {
    const d = mkdtempSync(join(tmpdir(), 'ms-pfatt-'));
    const bin = join(d, 'bin x');
    const qd = join(d, "q d'$(touch PWNED)");
    const conf = "/etc/p f'$(touch PWNED)";
    mkdirSync(bin);
    for (const q of ['incoming', 'active', 'deferred/A', 'hold', 'maildrop']) mkdirSync(join(qd, q), { recursive: true });
    const dump = (path: string, auth: string | null) => {
      const id = path.split('/').pop()!;
      const content = [
        `*** MESSAGE CONTENTS ${path} ***`,
        'named_attribute: sasl_username=bob@example.test',
        `*** HEADER EXTRACTED ${path} ***`,
      ];
      return [
        `*** ENVELOPE RECORDS ${path} ***`,
        ...(auth ? [`named_attribute: sasl_username=${auth}`] : []),
        `sender: s-${id}@x.invalid`,
        'named_attribute: log_client_address=192.0.2.7',
        'original_recipient: r@far.example',
        'recipient: r@far.example',
        ...content,
        `*** MESSAGE FILE END ${path} ***`,
        '',
      ].join('\n');
    };
    writeFileSync(join(qd, 'deferred/A/ABC123'), dump('deferred/A/ABC123', COMPROMISED));
    writeFileSync(join(qd, 'hold/DEF456'), dump('hold/DEF456', null));
    writeFileSync(join(qd, 'maildrop/GHI789'), dump('maildrop/GHI789', COMPROMISED));
    const json = (id: string, q: string) =>
      JSON.stringify({
        queue_name: q,
        queue_id: id,
        arrival_time: NOW - 60,
        message_size: 5,
        sender: `s-${id}@x.invalid`,
        recipients: [{ address: 'r@far.example' }],
      });
    const stub = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\nprintf '%s|' "$@" >>'${join(d, 'argv')}'; echo >>'${join(d, 'argv')}'\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    stub(
      'postqueue',
      `[ "$3" = -j ] && { echo '${json('ABC123', 'deferred')}'; echo '${json('DEF456', 'hold')}'; exit 0; }; echo '-- 1 Kbytes in 2 Requests.'`,
    );
    stub('postcat', 'shift 3; for f in "$@"; do cat "$f" || exit 1; done');
    const plan = postfix.attributedQueue(mtaHost(join(bin, 'postqueue'), { queue_directory: qd, config_directory: conf }));
    const stdout = execFileSync('/bin/sh', ['-c', plan.command], { cwd: d, encoding: 'utf8' });
    const l = plan.parse(stdout, '', 0);
    expect(l.warnings).toEqual([]);
    expect(l.messages.map((m) => [m.id, m.authId, m.clientIp])).toEqual([
      ['ABC123', COMPROMISED, '192.0.2.7'],
      // the sasl_username line of the message content is no proof
      ['DEF456', undefined, '192.0.2.7'],
    ]);
    const argv = execFileSync('cat', [join(d, 'argv')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(argv.slice(0, 2)).toEqual([`-c|${conf}|-j|`, `-c|${conf}|-p|`]);
    // one postcat run over the files of incoming, active, deferred and hold (maildrop: no SASL)
    expect(argv.slice(2).map((a) => a.split('|').slice(0, 3).join('|'))).toEqual([`-c|${conf}|-e`]);
    expect(argv[2]!.split('|').slice(3, -1).sort()).toEqual(['deferred/A/ABC123', 'hold/DEF456']);
    expect(existsSync(join(d, 'PWNED'))).toBe(false);
    rmSync(d, { recursive: true, force: true });
  });

  it('real bookworm-postfix: bob owns exactly the spam, legit users their own, bounces nobody', () => {
    const l = parsePostfixAttributedOutput(fixture('postfix', 'attributed-bookworm-postfix.txt'), '', 0, NOW);
    expectLabAttribution(l);
    expect(l.messages.every((m) => m.queue === 'deferred')).toBe(true);
  });

  it('postcat blocks: a retried file counts once, diagnostics are warnings, odd paths are refused', () => {
    const m = (name: string) => `*** ${name} deferred/A/ABC123 ***`;
    const text = [
      m('ENVELOPE RECORDS'),
      'named_attribute: sasl_username=bob@example.test',
      'sender: x@y.invalid',
      'recipient: r1@z',
      'postcat: fatal: open active/D/DEF456: No such file or directory',
      m('ENVELOPE RECORDS'),
      'named_attribute: sasl_username=bob@example.test',
      'sender: x@y.invalid',
      'recipient: r1@z',
      m('MESSAGE CONTENTS'),
      m('HEADER EXTRACTED'),
      m('MESSAGE FILE END'),
      '*** ENVELOPE RECORDS ../etc/pass-wd ***',
      'named_attribute: sasl_username=evil',
    ].join('\n');
    const p = parsePostcatEnvelopes(text);
    expect([...p.envelopes.keys()]).toEqual(['ABC123']);
    expect(p.envelopes.get('ABC123')).toMatchObject({
      queue: 'deferred',
      proof: { ok: true, authId: COMPROMISED, sender: 'x@y.invalid', recipients: ['r1@z'] },
    });
    expect(p.warnings).toHaveLength(3);
  });

  it('a message without a queue file envelope keeps authId undefined and is reported', () => {
    const text = [
      '__MAILSWEEP_NOW__ 1795408000 +0000',
      '{"queue_name": "deferred", "queue_id": "ABC123", "arrival_time": 1795407000, "message_size": 5, "sender": "a@b", "recipients": [{"address": "c@d"}]}',
      '{"queue_name": "active", "queue_id": "DEF456", "arrival_time": 1795407000, "message_size": 5, "sender": "e@f", "recipients": [{"address": "g@h"}]}',
      '__MAILSWEEP_RC__ json 0',
      '-- 1 Kbytes in 2 Requests.',
      '__MAILSWEEP_RC__ footer 0',
      '/var/spool/postfix',
      '__MAILSWEEP_RC__ qdir 0',
      '*** ENVELOPE RECORDS deferred/A/ABC123 ***',
      'named_attribute: sasl_username=alice@example.test',
      'sender: a@b',
      'named_attribute: log_client_address=192.0.2.7',
      'recipient: c@d',
      '*** MESSAGE CONTENTS deferred/A/ABC123 ***',
      '*** HEADER EXTRACTED deferred/A/ABC123 ***',
      '*** MESSAGE FILE END deferred/A/ABC123 ***',
      '__MAILSWEEP_RC__ postcat 0',
    ].join('\n');
    const l = parsePostfixAttributedOutput(text, '', 0, NOW);
    expect(l.messages.map((m) => [m.id, m.authId, m.clientIp])).toEqual([
      ['ABC123', 'alice@example.test', '192.0.2.7'],
      ['DEF456', undefined, undefined],
    ]);
    expect(l.warnings).toEqual(['1 message(s) without readable queue file envelope, not attributed: DEF456']);
  });

  it('never throws on hostile input', () => {
    for (const h of HOSTILE_INPUTS) {
      assertPrintable(parsePostfixAttributedOutput(h, h, 1, NOW).warnings);
      parsePostcatEnvelopes(h);
    }
  });
});

// ---------------------------------------------------------------------------
describe('sendmail attributedQueue', () => {
  it('is one command: mailq, mailq -Ac, and one grep -F over the mail log (.1 first); an inventory mail_log is data', () => {
    const d = mkdtempSync(join(tmpdir(), 'ms-sma-'));
    try {
      writeFileSync(join(d, 'mailq'), '#!/bin/sh\necho "mailq $*"\n');
      chmodSync(join(d, 'mailq'), 0o755);
      const log = join(d, 'mail $(touch PWNED).log');
      writeFileSync(
        `${log}.1`,
        'x sm-mta[1]: AUTH=server, relay=[192.0.2.1], authid=a, mech=PLAIN, bits=0\nx sm-mta[1]: STARTTLS=server\n',
      );
      writeFileSync(log, 'x sm-mta[1]: 6AN4N6iZ000407: from=<a@b>, size=1\nx sm-mta[2]: 6AN4N6iZ000407: to=<c@d>\n');
      const cmd = sendmailAttributedCommand(mtaHost(undefined, { mail_log: [join(d, 'none'), log] }));
      const out = execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', cwd: d, env: { PATH: `${d}:/usr/bin:/bin` } })
        .split('\n')
        .slice(1);
      expect(out).toEqual([
        'mailq ',
        '__MAILSWEEP_RC__ mta 0',
        'mailq -Ac',
        '__MAILSWEEP_RC__ msp 0',
        `__MAILSWEEP_LOGFILE__ ${log}.1`,
        'x sm-mta[1]: AUTH=server, relay=[192.0.2.1], authid=a, mech=PLAIN, bits=0',
        `__MAILSWEEP_LOGFILE__ ${log}`,
        'x sm-mta[1]: 6AN4N6iZ000407: from=<a@b>, size=1',
        '__MAILSWEEP_RC__ log 0',
        '',
      ]);
      expect(readdirSync(d)).not.toContain('PWNED');
      expect(sendmail.attributedQueue(mtaHost()).command).toMatch(/^MS_LOGS='\/var\/log\/mail.log\n\/var\/log\/maillog'$/m);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('real bookworm-sendmail: bob owns exactly the spam, legit users their own, bounces nobody', () => {
    expectLabAttribution(parseSendmailAttributedOutput(fixture('sendmail', 'attributed-bookworm-sendmail.txt'), '', 0, NOW));
  });

  const pre = 'Nov 23 04:23:06 mx sm-mta';
  it('one session, several messages; a reused pid without AUTH is not attributed', () => {
    const j = parseSendmailAuthLog(
      [
        `${pre}[407]: AUTH=server, relay=localhost [127.0.0.1], authid=bob@example.test, mech=PLAIN, bits=0`,
        `${pre}[407]: 6AN4N6iZ000407: from=<a@x.invalid>, size=1, class=0, nrcpts=1, msgid=<1@x>, proto=ESMTPA, daemon=MTA-v4, relay=localhost [127.0.0.1]`,
        `${pre}[407]: 6AN4N6iY000407: from=<b@x.invalid>, size=1, class=0, nrcpts=1, msgid=<2@x>, proto=ESMTPA, daemon=MTA-v4, relay=localhost [127.0.0.1]`,
        // pid 407 reused later by an unauthenticated client from the same address
        `${pre}[407]: 6AN4N9aa000407: from=<>, size=1, class=0, nrcpts=1, msgid=<3@x>, proto=ESMTP, daemon=MTA-v4, relay=localhost [127.0.0.1]`,
        // same pid, another relay: not the same session
        `${pre}[407]: 6AN4N9bb000407: from=<c@d>, size=1, class=0, nrcpts=1, msgid=<4@x>, proto=ESMTPA, daemon=MTA-v4, relay=other [192.0.2.9]`,
      ].join('\n'),
    );
    expect(j.byQid.get('6AN4N6iZ000407')?.authId).toBe(COMPROMISED);
    expect(j.byQid.get('6AN4N6iY000407')?.authId).toBe(COMPROMISED);
    expect(j.byQid.get('6AN4N9aa000407')?.authId).toBeUndefined();
    expect(j.byQid.get('6AN4N9bb000407')).toMatchObject({ clientIp: '192.0.2.9' });
    expect(j.byQid.get('6AN4N9bb000407')?.authId).toBeUndefined();
    expect(j.warnings).toEqual([expect.stringContaining('1 authenticated from= line(s) without a matching AUTH=server line')]);
  });

  it('forged fields inside the sender or msgid stay data; RFC 3339 timestamps and RHEL names work', () => {
    const j = parseSendmailAuthLog(
      [
        `2026-11-23T04:23:06.123456+00:00 mx sendmail[9]: AUTH=server, relay=[192.0.2.1], authid=carol@shop.test, mech=LOGIN, bits=0`,
        `2026-11-23T04:23:07.000001+00:00 mx sendmail[9]: 6AN4N6zz000009: from=<"x, proto=ESMTP, daemon=y, relay=evil [6.6.6.6]"@z>, size=1, class=0, nrcpts=1, msgid=<, relay=a [1.1.1.1]>, proto=ESMTPSA, daemon=MTA, relay=[192.0.2.1]`,
        `Nov 23 04:23:06 mx postfix/smtpd[9]: AUTH=server, relay=[192.0.2.1], authid=evil, mech=LOGIN, bits=0`,
      ].join('\n'),
    );
    expect(j.byQid.get('6AN4N6zz000009')).toMatchObject({ authId: 'carol@shop.test', clientIp: '192.0.2.1', proto: 'ESMTPSA' });
  });

  it('no mail log: queue listed, nothing attributed, one failure warning', () => {
    const base = fixture('sendmail', 'attributed-bookworm-sendmail.txt');
    const cut = base.slice(0, base.indexOf('__MAILSWEEP_LOGFILE__'));
    const l = parseSendmailAttributedOutput(`${cut}no mail log found\n__MAILSWEEP_RC__ log 1\n`, '', 0, NOW);
    expect(l.messages).toHaveLength(339);
    expect(l.messages.every((m) => m.authId === undefined)).toBe(true);
    expect(l.warnings).toEqual([`${COMMAND_FAILED} mail log not read (exit 1): no mail log found`]);
  });

  it('never throws on hostile input', () => {
    for (const h of HOSTILE_INPUTS) {
      assertPrintable(parseSendmailAttributedOutput(h, h, 1, NOW).warnings);
      parseSendmailAuthLog(h);
    }
  });
});
