// qmail per-message attribution: the proof rule (qmailSubmitter), the mess dump parser, the
// server-side awk twin (QMAIL_PROOF_AWK) and the built commands run through the real /bin/sh
// against a fake queue tree, scan and purge agreeing on every message.
import { mtaHost } from '../../src/mta/host.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qmail } from '../../src/mta/qmail/adapter.js';
import { attributeQmailMessages, parseQmailAttributedOutput, parseQmailMessDump, qmailAttributedCommand } from '../../src/mta/qmail/attribution.js';
import { type QmailQueueMessage } from '../../src/mta/qmail/listing.js';
import { QMAIL_PROOF_AWK, qmailProofFragment, qmailSubmitter, type QmailProof } from '../../src/mta/qmail/proof.js';
import { sh } from '../../src/transport/quote.js';
import type { PurgeRequest, QueueListing, ReadPlan } from '../../src/mta/types.js';
import { COMMAND_FAILED } from '../../src/mta/util.js';
import { HOSTILE_INPUTS, assertPrintable, fixture, garbage, runPlan as run, script, tmp } from './helpers.js';

const BOB = 'bob@example.test';
const DATE = '14 Nov 2023 22:13:20 -0000';
const QQ = `Received: (qmail 4242 invoked from network); ${DATE}`;
const from = (paren: string, helo?: string): string => `Received: from unknown${helo === undefined ? '' : ` (HELO ${helo})`} (${paren})`;
const by = (protocol: string): string => `  by mail.example.com with ${protocol}; ${DATE}`;
/** A mess file: the given header lines, then the client's own headers and a body. */
const mess = (...head: string[]): string => [...head, 'From: <someone@example.org>', 'Subject: hello', '', 'body', ''].join('\n');
/** LF-split as awk reads it: a final newline ends the last line, it does not start another. */
const linesOf = (text: string): string[] => {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
};

interface Case {
  name: string;
  text: string;
  want: QmailProof;
  uids?: string[];
}

const filler = (n: number): string[] => Array.from({ length: n }, (_, i) => `X-Filler-${i}: ${i}`);

/** Realistic mess files (what qmail-queue and qmail-smtpd write), and the hostile variants. */
const CASES: Case[] = [
  { name: 'auth patch, stock received.c', text: mess(QQ, from(`${BOB}@203.0.113.9`, 'laptop.example.test'), by('ESMTPA')), want: { authId: BOB, clientIp: '203.0.113.9' } },
  {
    name: 'sagredo, TLS, no @ip under RELAYCLIENT',
    text: mess(QQ, from(BOB, 'laptop'), by('ESMTPSA (TLS_AES_256_GCM_SHA384 encrypted, authenticated)')),
    want: { authId: BOB },
  },
  { name: 'sagredo, bare login', text: mess(QQ, from('bob', 'laptop'), by('ESMTPA')), want: { authId: 'bob' } },
  {
    name: 'SMTPUTF8, IPv6 client',
    text: mess(QQ, from('alice@example.test@2001:db8::25', 'laptop'), by('UTF8SMTPSA (ECDHE-RSA-AES256-GCM-SHA384 encrypted, authenticated)')),
    want: { authId: 'alice@example.test', clientIp: '2001:db8::25' },
  },
  { name: 'v4-mapped client address', text: mess(QQ, from('carol@example.test@::ffff:198.51.100.7'), by('ESMTPA')), want: { authId: 'carol@example.test', clientIp: '198.51.100.7' } },
  { name: 'no AUTH: identd remoteinfo', text: mess(QQ, from(`${BOB}@198.51.100.7`, 'laptop'), by('SMTP')), want: { why: 'not-authenticated' } },
  { name: 'no AUTH: STARTTLS only', text: mess(QQ, from(`${BOB}@198.51.100.7`), by('ESMTPS (TLS_AES_128_GCM_SHA256 encrypted)')), want: { why: 'not-authenticated' } },
  { name: 'no AUTH: netqmail TLS patch', text: mess(QQ, from('198.51.100.7', 'laptop'), by('(DHE-RSA-AES128-SHA encrypted) SMTP')), want: { why: 'not-authenticated' } },
  {
    name: 'hostile HELO, as qmail-smtpd prints it, mallory authenticated',
    text: mess(QQ, from('mallory@example.test@203.0.113.9', `x???${BOB}@1.2.3.4`), by('ESMTPA')),
    want: { authId: 'mallory@example.test', clientIp: '203.0.113.9' },
  },
  { name: 'hostile HELO, as qmail-smtpd prints it, no AUTH', text: mess(QQ, from('203.0.113.9', `x???${BOB}@1.2.3.4`), by('SMTP')), want: { why: 'not-authenticated' } },
  {
    name: 'hostile HELO, unfiltered (not what qmail-smtpd writes)',
    text: mess(QQ, `Received: from unknown (HELO x) (${BOB}@1.2.3.4) (203.0.113.9)`, by('ESMTPA')),
    want: { why: 'not-smtpd-format' },
  },
  {
    name: "client's forged AUTH header after qmail-smtpd's",
    text: mess(QQ, from('203.0.113.9', 'x'), by('ESMTP'), from(`${BOB}@1.2.3.4`, 'laptop'), by('ESMTPA')),
    want: { why: 'not-authenticated' },
  },
  {
    name: 'local program (PHP via qmail-inject) writing an AUTH header',
    text: mess(`Received: (qmail 777 invoked by uid 48); ${DATE}`, from(`${BOB}@203.0.113.9`, 'laptop'), by('ESMTPA')),
    want: { why: 'local-uid', uid: '48' },
  },
  {
    name: 'qmail-smtpd run as vpopmail, uid listed in qmail_smtpd_uids',
    text: mess(`Received: (qmail 778 invoked by uid 89); ${DATE}`, from(`${BOB}@203.0.113.9`, 'laptop'), by('ESMTPA')),
    uids: ['89'],
    want: { authId: BOB, clientIp: '203.0.113.9' },
  },
  { name: 'no qmail-queue line', text: mess(from(`${BOB}@203.0.113.9`), by('ESMTPA')), want: { why: 'not-qmail-queue' } },
  { name: 'a bounce', text: mess(`Received: (qmail 9 invoked for bounce); ${DATE}`, 'Date: x'), want: { why: 'not-qmail-queue' } },
  {
    name: 'wrapper DKIM-Signature in front',
    text: mess(QQ, 'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=mail;', '\th=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;', '\tb=dGVzdA==', from(`${BOB}@203.0.113.9`, 'laptop'), by('ESMTPA')),
    want: { authId: BOB, clientIp: '203.0.113.9' },
  },
  {
    name: 'simscan Received in front',
    text: mess(QQ, 'Received: by simscan 1.4.0 ppid: 4240, pid: 4241, t: 0.0317s', '         scanners: attach: 1.4.0 clamav: 0.103.8', from(`${BOB}@203.0.113.9`, 'laptop'), by('ESMTPA')),
    want: { why: 'not-smtpd-format' },
  },
  {
    name: 'spamcontrol: three-line Received',
    text: mess(QQ, from(`${BOB}@203.0.113.9`, 'laptop'), '  de/crypted with TLSv1.2: ECDHE-RSA-AES256-GCM-SHA384 [256/256] DN=none', by('ESMTPSA')),
    want: { why: 'not-smtpd-format' },
  },
  {
    name: 'TLS client certificate line',
    text: mess(QQ, from('203.0.113.9', 'laptop'), '  by mail.example.com with ESMTPS (TLS_AES_256_GCM_SHA384 encrypted)', `  (cert ${BOB}); ${DATE}`),
    want: { why: 'not-smtpd-format' },
  },
  { name: 'line 2 continues line 1', text: mess(QQ, ' folded', from(`${BOB}@203.0.113.9`), by('ESMTPA')), want: { why: 'no-smtpd-header' } },
  { name: "login with a '?'", text: mess(QQ, from('john?doe@example.test@203.0.113.9'), by('ESMTPA')), want: { why: 'unprintable-login' } },
  { name: 'an address only', text: mess(QQ, from('203.0.113.9'), by('ESMTPA')), want: { why: 'ambiguous' } },
  { name: 'TCPREMOTEIP unset', text: mess(QQ, from(`${BOB}@unknown`), by('ESMTPA')), want: { why: 'ambiguous' } },
  { name: 'CRLF line ends', text: mess(QQ, from(`${BOB}@203.0.113.9`), by('ESMTPA')).replace(/\n/g, '\r\n'), want: { why: 'not-qmail-queue' } },
  { name: 'CR in the Received line', text: mess(QQ, `${from(`${BOB}@203.0.113.9`)}\r`, by('ESMTPA')), want: { why: 'not-smtpd-format' } },
  { name: 'control character in the HELO', text: mess(QQ, from(`${BOB}@203.0.113.9`, 'a\u0001b'), by('ESMTPA')), want: { why: 'not-smtpd-format' } },
  { name: 'NUL after the Received line', text: mess(QQ, `${from(`${BOB}@203.0.113.9`)}\u0000 (x)`, by('ESMTPA')), want: { why: 'not-smtpd-format' } },
  { name: 'header ends first', text: mess(QQ, '', from(`${BOB}@203.0.113.9`), by('ESMTPA')), want: { why: 'no-smtpd-header' } },
  { name: 'not a header line', text: mess(QQ, 'no colon here', from(`${BOB}@203.0.113.9`), by('ESMTPA')), want: { why: 'no-smtpd-header' } },
  { name: 'other-case RECEIVED in front', text: mess(QQ, 'RECEIVED: from elsewhere', from(`${BOB}@203.0.113.9`), by('ESMTPA')), want: { why: 'not-smtpd-format' } },
  { name: 'X-Received is another field', text: mess(QQ, 'X-Received: by 2002:a05 with SMTP id x', from(`${BOB}@203.0.113.9`), by('ESMTPA')), want: { authId: BOB, clientIp: '203.0.113.9' } },
  { name: 'message ends after the Received field', text: [QQ, from(`${BOB}@203.0.113.9`), by('ESMTPA')].join('\n'), want: { authId: BOB, clientIp: '203.0.113.9' } },
  { name: 'Received field cut by EOF', text: [QQ, from(`${BOB}@203.0.113.9`)].join('\n'), want: { why: 'not-smtpd-format' } },
  { name: 'empty file', text: '', want: { why: 'empty' } },
  { name: 'huge HELO', text: mess(QQ, from(`${BOB}@203.0.113.9`, 'h'.repeat(5000)), by('ESMTPA')), want: { why: 'undecided' } },
  { name: 'Received field within the line limit', text: mess(QQ, ...filler(196), from(`${BOB}@203.0.113.9`), by('ESMTPA')), want: { authId: BOB, clientIp: '203.0.113.9' } },
  { name: 'its next line past the limit', text: mess(QQ, ...filler(197), from(`${BOB}@203.0.113.9`), by('ESMTPA')), want: { why: 'undecided' } },
  { name: 'ends at the limit', text: [QQ, ...filler(197), from(`${BOB}@203.0.113.9`), by('ESMTPA')].join('\n'), want: { authId: BOB, clientIp: '203.0.113.9' } },
  { name: 'garbage', text: garbage(4096, 3), want: { why: 'not-qmail-queue' } },
  { name: 'garbage after the qmail-queue line', text: `${QQ}\n${garbage(2048, 9)}`, want: {} },
];

describe('qmailSubmitter (the proof rule)', () => {
  for (const c of CASES.filter((x) => Object.keys(x.want).length > 0)) {
    it(c.name, () => {
      expect(qmailSubmitter(linesOf(c.text), true, c.uids)).toEqual(c.want);
    });
  }

  it('a qmail_smtpd_uids entry is needed for "invoked by uid"; qmaild needs none', () => {
    const local = CASES.find((c) => c.name.startsWith('local program'))!;
    expect(qmailSubmitter(linesOf(local.text), true, ['48'])).toMatchObject({ authId: BOB });
    expect(qmailSubmitter(linesOf(local.text), true, ['480', '4'])).toMatchObject({ why: 'local-uid' });
  });

  it('lines that stop before the file does leave the message undecided, never attributed', () => {
    const l = linesOf(CASES[0]!.text);
    expect(qmailSubmitter(l.slice(0, 3), false)).toEqual({ why: 'undecided' });
    expect(qmailSubmitter(l.slice(0, 4), false)).toMatchObject({ authId: BOB });
    expect(qmailSubmitter(l.slice(0, 2), false)).toEqual({ why: 'undecided' });
  });

  it('never throws on hostile input', () => {
    for (const input of HOSTILE_INPUTS) {
      for (const eof of [true, false]) {
        const p = qmailSubmitter(linesOf(input), eof);
        expect(p.authId).toBeUndefined();
      }
    }
  });
});

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
    const d = parseQmailMessDump(['__MAILSWEEP_QMAIL__ 7', ...Array.from({ length: 500 }, () => '|X: y'), '__MAILSWEEP_QMAIL_END__ 7 cap'].join('\n'));
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
      expect.stringMatching(/^1 message\(s\) carry a qmail-smtpd AUTH header but were queued by qmail-queue as uid 48, not qmaild: not attributed/),
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
    const msgs: QmailQueueMessage[] = [{ id: '5', sender: '', recipients: [], size: 1, ageSeconds: 1, frozen: false, held: false, bounce: true }];
    expect(attributeQmailMessages(msgs, parseQmailMessDump(''))).toEqual(['1 message(s) without a mess file (delivered meanwhile?), not attributed: 5']);
    expect(msgs[0]!.authId).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
// Through the real /bin/sh: a fake queue tree (split 23), stub qmail-qstat / qmail-qread / qmailctl.

interface Tree {
  d: string;
  bin: string;
  q: string;
  /** id → case */
  ids: Map<string, Case>;
  senders: Record<string, { sender: string }>;
}

/** Every case as a queued message (ids 5000…), listed by the stub qmail-qread. */
function queueTree(cases: Case[] = CASES): Tree {
  const d = tmp('ms-qmail-');
  const bin = join(d, 'bin');
  mkdirSync(bin);
  const q = join(d, 'queue');
  for (const sub of ['mess', 'info', 'local', 'remote']) for (let n = 0; n < 23; n++) mkdirSync(join(q, sub, String(n)), { recursive: true });
  for (const sub of ['intd', 'todo', 'bounce']) mkdirSync(join(q, sub), { recursive: true });
  const ids = new Map<string, Case>();
  const senders: Record<string, { sender: string }> = {};
  const qread: string[] = [];
  cases.forEach((c, i) => {
    const id = String(5000 + i);
    const split = String(Number(id) % 23);
    const sender = `s${i}@spam.example`;
    writeFileSync(join(q, 'mess', split, id), Buffer.from(c.text, 'latin1'));
    writeFileSync(join(q, 'info', split, id), `F${sender}\u0000`);
    writeFileSync(join(q, 'remote', split, id), 'Tvictim@example.net\u0000');
    ids.set(id, c);
    senders[id] = { sender };
    qread.push(`14 Nov 2023 22:13:20 GMT  #${id}  ${c.text.length}  <${sender}> `, '\tremote\tvictim@example.net');
  });
  writeFileSync(join(d, 'qread.out'), `${qread.join('\n')}\n`);
  script(join(bin, 'qmail-qstat'), `echo "messages in queue: ${cases.length}"; echo "messages in queue but not yet preprocessed: 0"`);
  script(join(bin, 'qmail-qread'), `cat '${join(d, 'qread.out')}'`);
  script(join(bin, 'qmailctl'), `echo "qmailctl $1" >>'${join(d, 'qmailctl.log')}'`);
  return { d, bin, q, ids, senders };
}

const ctxOf = (t: Tree, vars: Record<string, unknown> = {}) => (mtaHost(join(t.bin, 'qmail-qstat'), { queue_directory: t.q, ...vars }));

/** The purge command's own who() over every id: the login the server-side awk proves. */
function serverVerdicts(t: Tree, vars: Record<string, unknown> = {}): Map<string, string> {
  const base = [sh`q=${t.q}`, ...qmailProofFragment(ctxOf(t, vars))].join('\n');
  const cmd = `${base}\nfor id in ${[...t.ids.keys()].join(' ')}; do printf '%s:%s\\n' "$id" "$(who "$id")"; done`;
  const out = execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', env: { ...process.env, PATH: `${t.bin}:${process.env.PATH}` } });
  return new Map(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
}

describe('attributedQueue through /bin/sh (fake queue tree)', () => {
  it('quotes every context value', () => {
    const cmd = qmailAttributedCommand(mtaHost('/x/$(touch pwned)/bin/qmail-qstat', { qmailDir: '$(id)', queue_directory: '/q`id`' }));
    const unquoted = cmd.replace(/'[^']*'/g, "''");
    for (const bad of ['$(touch pwned)', '`id`', '$(id)']) expect(unquoted).not.toContain(bad);
    expect(QMAIL_PROOF_AWK).not.toContain("'");
  });

  it('sets authId exactly where the rule proves one, the same as the purge re-check on the server', () => {
    const t = queueTree();
    const { result, stdout } = run(qmail.attributedQueue!(ctxOf(t)) as ReadPlan<QueueListing>, t.d, t.bin);
    expect(stdout).toContain('__MAILSWEEP_RC__ mess 0');
    expect(result.messages).toHaveLength(CASES.length);
    const server = serverVerdicts(t);
    for (const m of result.messages) {
      const c = t.ids.get(m.id)!;
      const want = qmailSubmitter(linesOf(c.text), true, c.uids);
      expect(m.authId, c.name).toBe(c.uids ? undefined : want.authId);
      expect(server.get(m.id) || undefined, `awk: ${c.name}`).toBe(m.authId);
    }
    // The hostile HELO and the forgeries name bob but prove nothing (or mallory).
    const byName = (n: string) => result.messages.find((m) => t.ids.get(m.id)!.name.startsWith(n))!;
    expect(byName('hostile HELO, as qmail-smtpd prints it, mallory').authId).toBe('mallory@example.test');
    for (const n of ['hostile HELO, unfiltered', "client's forged", 'local program', 'no AUTH: identd', 'CR in the', 'NUL after']) expect(byName(n).authId, n).toBeUndefined();
    expect(byName('auth patch, stock').clientIp).toBe('203.0.113.9');
  });

  it('qmail_smtpd_uids reaches both sides', () => {
    const t = queueTree();
    const vars = { qmail_smtpd_uids: [48, 89] };
    const { result } = run(qmail.attributedQueue!(ctxOf(t, vars)) as ReadPlan<QueueListing>, t.d, t.bin);
    const server = serverVerdicts(t, vars);
    for (const m of result.messages) expect(server.get(m.id) || undefined, t.ids.get(m.id)!.name).toBe(m.authId);
    expect(result.messages.filter((m) => /^(local program|qmail-smtpd run as vpopmail)/.test(t.ids.get(m.id)!.name)).map((m) => m.authId)).toEqual([BOB, BOB]);
  });

  it('a message delivered between qmail-qread and the read, and an unreadable queue, only cost attribution', () => {
    const t = queueTree(CASES.slice(0, 2));
    execFileSync('rm', ['-f', join(t.q, 'mess', String(5001 % 23), '5001')]);
    const { result } = run(qmail.attributedQueue!(ctxOf(t)) as ReadPlan<QueueListing>, t.d, t.bin);
    expect(result.messages.map((m) => m.authId)).toEqual([BOB, undefined]);
    expect(result.warnings).toEqual(['1 message(s) without a mess file (delivered meanwhile?), not attributed: 5001']);
    const gone = run(qmail.attributedQueue!(ctxOf(t, { queue_directory: join(t.d, 'nowhere') })) as ReadPlan<QueueListing>, t.d, t.bin).result;
    expect(gone.messages).toHaveLength(2);
    expect(gone.warnings[0]).toMatch(/^command failed: qmail mess file read exited 1: no directory .*nowhere\/mess$/);
  });

  it('a large queue is read in one pass (one awk, a few lines per message)', () => {
    const many: Case[] = Array.from({ length: 3000 }, (_, i) => ({ name: `m${i}`, text: mess(QQ, from(`u${i % 7}@example.test@203.0.113.9`), by('ESMTPA')), want: {} }));
    const t = queueTree(many);
    const started = Date.now();
    const { result, stdout } = run(qmail.attributedQueue!(ctxOf(t)) as ReadPlan<QueueListing>, t.d, t.bin);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.messages.filter((m) => m.authId === 'u3@example.test')).toHaveLength(many.filter((_, i) => i % 7 === 3).length);
    // Line 1, the two lines of qmail-smtpd's Received field and the next one: nothing else.
    expect(stdout.split('\n').filter((l) => l.startsWith('|'))).toHaveLength(3000 * 4);
  });
});

describe('purge kind auth through /bin/sh (same proof at delete time)', () => {
  it("removes exactly bob's proven messages, and starts qmail-send again", () => {
    const t = queueTree();
    const server = serverVerdicts(t);
    const ids = [...t.ids.keys()];
    const plan = qmail.ops!.purge(ctxOf(t), { ids, match: { kind: 'auth', authId: BOB }, mode: 'delete', expect: t.senders });
    const { result } = run(plan, t.d, t.bin);
    const bobs = ids.filter((id) => server.get(id) === BOB);
    expect(bobs.length).toBeGreaterThanOrEqual(5);
    expect(result.done.sort()).toEqual(bobs.sort());
    expect(result.warnings).toEqual([]);
    for (const s of result.skipped) expect(s.reason, t.ids.get(s.id)!.name).toBe('not submitted by this auth id');
    for (const id of ids) {
      const split = String(Number(id) % 23);
      expect(existsSync(join(t.q, 'mess', split, id)), t.ids.get(id)!.name).toBe(!bobs.includes(id));
      expect(existsSync(join(t.q, 'info', split, id))).toBe(!bobs.includes(id));
    }
    expect(execFileSync('cat', [join(t.d, 'qmailctl.log')], { encoding: 'utf8' })).toBe('qmailctl stop\nqmailctl start\n');
  });

  it('hostile auth ids match nothing and run nothing; mallory is mallory; a changed sender is skipped', () => {
    // The messages that prove some login, and the forgeries naming bob.
    const t = queueTree(CASES.filter((c) => qmailSubmitter(linesOf(c.text), true, c.uids).authId !== undefined || /hostile|forged|local program/.test(c.name)));
    const ids = [...t.ids.keys()];
    for (const authId of [`${BOB}' $(touch PWNED) "x`, `${BOB}"; touch PWNED; echo "`, '`touch PWNED`', '$(touch PWNED)', '*', '.*', `${BOB} `, `-e ${BOB}`, 'bob@example.test@203.0.113.9', 'john?doe@example.test', '']) {
      const { result } = run(qmail.ops!.purge(ctxOf(t), { ids, match: { kind: 'auth', authId }, mode: 'delete', expect: t.senders }), t.d, t.bin);
      expect(result.done, authId).toEqual([]);
    }
    expect(existsSync(join(t.d, 'PWNED'))).toBe(false);
    expect(existsSync(join(t.d, 'qmailctl.log'))).toBe(false);
    const mallory = run(qmail.ops!.purge(ctxOf(t), { ids, match: { kind: 'auth', authId: 'mallory@example.test' }, mode: 'delete', expect: t.senders }), t.d, t.bin).result;
    expect(mallory.done.map((id) => t.ids.get(id)!.name)).toEqual(['hostile HELO, as qmail-smtpd prints it, mallory authenticated']);
    const first = ids[0]!;
    const reused = run(qmail.ops!.purge(ctxOf(t), { ids: [first], match: { kind: 'auth', authId: BOB }, mode: 'delete', expect: { [first]: { sender: 'other@example.org' } } }), t.d, t.bin).result;
    expect(reused.skipped).toEqual([{ id: first, reason: 'envelope sender changed: id reused?' }]);
  });

  it('a local-uid message goes only once its uid is listed', () => {
    const t = queueTree(CASES.filter((c) => c.name.startsWith('local program')));
    const ids = [...t.ids.keys()];
    const req: PurgeRequest = { ids, match: { kind: 'auth', authId: BOB }, mode: 'delete', expect: t.senders };
    expect(run(qmail.ops!.purge(ctxOf(t), req), t.d, t.bin).result.done).toEqual([]);
    expect(run(qmail.ops!.purge(ctxOf(t, { qmail_smtpd_uids: '48' }), req), t.d, t.bin).result.done).toEqual(ids);
  });
});
