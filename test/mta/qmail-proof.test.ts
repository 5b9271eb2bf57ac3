// The qmail Received proof, defined once (src/mta/qmail/proof.ts: qmailSubmitter, and its awk
// twin src/mta/qmail/scripts/proof.awk): ONE table of mess files, each case run through the
// TypeScript function and through the real awk file on the server's path (scripts/proof.sh's
// `who`, /bin/sh, LC_ALL=C), both compared with the case's expected verdict. Then the scan
// (attributedQueue) and the purge (kind auth) over the whole table as a fake queue: they attribute
// and remove exactly what the table says.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mtaHost } from '../../src/mta/host.js';
import { qmail } from '../../src/mta/qmail/adapter.js';
import { qmailProofSettings, qmailSubmitter, type QmailProof } from '../../src/mta/qmail/proof.js';
import { serverScript } from '../../src/mta/script.js';
import type { PurgeRequest } from '../../src/mta/types.js';
import { HOSTILE_INPUTS, garbage, runPlan as run, tmp } from './helpers.js';
import { BOB, DATE, QQ, by, ctxOf, from, linesOf, mess, queueTree } from './qmail-mess.js';

interface Case {
  name: string;
  /** The mess file (latin1 bytes). */
  text: string;
  /** The verdict: the login proven, or why none is. */
  want: QmailProof;
  /** qmail_smtpd_uids for this case (default none). */
  uids?: string[];
}

const filler = (n: number): string[] => Array.from({ length: n }, (_, i) => `X-Filler-${i}: ${i}`);
const MALLORY = { authId: 'mallory@example.test', clientIp: '203.0.113.9' };
const PROVEN = { authId: BOB, clientIp: '203.0.113.9' };

/** Realistic mess files (what qmail-queue and qmail-smtpd write), the hostile variants, the edges. */
const CASES: Case[] = [
  { name: 'auth patch, stock received.c', text: mess(QQ, from(`${BOB}@203.0.113.9`, 'laptop.example.test'), by('ESMTPA')), want: PROVEN },
  {
    name: 'sagredo, TLS, no @ip under RELAYCLIENT',
    text: mess(QQ, from(BOB, 'laptop'), by('ESMTPSA (TLS_AES_256_GCM_SHA384 encrypted, authenticated)')),
    want: { authId: BOB },
  },
  { name: 'sagredo, bare login', text: mess(QQ, from('bob', 'laptop'), by('ESMTPA')), want: { authId: 'bob' } },
  {
    name: 'SMTPUTF8, IPv6 client',
    text: mess(
      QQ,
      from('alice@example.test@2001:db8::25', 'laptop'),
      by('UTF8SMTPSA (ECDHE-RSA-AES256-GCM-SHA384 encrypted, authenticated)'),
    ),
    want: { authId: 'alice@example.test', clientIp: '2001:db8::25' },
  },
  {
    name: 'v4-mapped client address',
    text: mess(QQ, from('carol@example.test@::ffff:198.51.100.7'), by('ESMTPA')),
    want: { authId: 'carol@example.test', clientIp: '198.51.100.7' },
  },
  {
    name: 'no AUTH: identd remoteinfo',
    text: mess(QQ, from(`${BOB}@198.51.100.7`, 'laptop'), by('SMTP')),
    want: { why: 'not-authenticated' },
  },
  {
    name: 'no AUTH: STARTTLS only',
    text: mess(QQ, from(`${BOB}@198.51.100.7`), by('ESMTPS (TLS_AES_128_GCM_SHA256 encrypted)')),
    want: { why: 'not-authenticated' },
  },
  {
    name: 'no AUTH: netqmail TLS patch',
    text: mess(QQ, from('198.51.100.7', 'laptop'), by('(DHE-RSA-AES128-SHA encrypted) SMTP')),
    want: { why: 'not-authenticated' },
  },
  {
    name: 'hostile HELO, as qmail-smtpd prints it, mallory authenticated',
    text: mess(QQ, from('mallory@example.test@203.0.113.9', `x???${BOB}@1.2.3.4`), by('ESMTPA')),
    want: MALLORY,
  },
  {
    name: 'hostile HELO, as qmail-smtpd prints it, no AUTH',
    text: mess(QQ, from('203.0.113.9', `x???${BOB}@1.2.3.4`), by('SMTP')),
    want: { why: 'not-authenticated' },
  },
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
    name: 'the same, uid 48 listed in qmail_smtpd_uids (the operator says it is qmail-smtpd)',
    text: mess(`Received: (qmail 777 invoked by uid 48); ${DATE}`, from(`${BOB}@203.0.113.9`, 'laptop'), by('ESMTPA')),
    uids: ['48'],
    want: PROVEN,
  },
  {
    name: 'the same, only uids 480 and 4 listed',
    text: mess(`Received: (qmail 777 invoked by uid 48); ${DATE}`, from(`${BOB}@203.0.113.9`), by('ESMTPA')),
    uids: ['480', '4'],
    want: { why: 'local-uid', uid: '48' },
  },
  {
    name: 'qmail-smtpd run as vpopmail, uid listed in qmail_smtpd_uids',
    text: mess(`Received: (qmail 778 invoked by uid 89); ${DATE}`, from(`${BOB}@203.0.113.9`, 'laptop'), by('ESMTPA')),
    uids: ['89'],
    want: PROVEN,
  },
  { name: 'no qmail-queue line', text: mess(from(`${BOB}@203.0.113.9`), by('ESMTPA')), want: { why: 'not-qmail-queue' } },
  { name: 'a bounce', text: mess(`Received: (qmail 9 invoked for bounce); ${DATE}`, 'Date: x'), want: { why: 'not-qmail-queue' } },
  {
    name: 'wrapper DKIM-Signature in front',
    text: mess(
      QQ,
      'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=mail;',
      '\th=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;',
      '\tb=dGVzdA==',
      from(`${BOB}@203.0.113.9`, 'laptop'),
      by('ESMTPA'),
    ),
    want: PROVEN,
  },
  {
    name: 'simscan Received in front',
    text: mess(
      QQ,
      'Received: by simscan 1.4.0 ppid: 4240, pid: 4241, t: 0.0317s',
      '         scanners: attach: 1.4.0 clamav: 0.103.8',
      from(`${BOB}@203.0.113.9`, 'laptop'),
      by('ESMTPA'),
    ),
    want: { why: 'not-smtpd-format' },
  },
  {
    name: 'spamcontrol: three-line Received',
    text: mess(
      QQ,
      from(`${BOB}@203.0.113.9`, 'laptop'),
      '  de/crypted with TLSv1.2: ECDHE-RSA-AES256-GCM-SHA384 [256/256] DN=none',
      by('ESMTPSA'),
    ),
    want: { why: 'not-smtpd-format' },
  },
  {
    name: 'TLS client certificate line',
    text: mess(
      QQ,
      from('203.0.113.9', 'laptop'),
      '  by mail.example.com with ESMTPS (TLS_AES_256_GCM_SHA384 encrypted)',
      `  (cert ${BOB}); ${DATE}`,
    ),
    want: { why: 'not-smtpd-format' },
  },
  {
    name: 'line 2 continues line 1',
    text: mess(QQ, ' folded', from(`${BOB}@203.0.113.9`), by('ESMTPA')),
    want: { why: 'no-smtpd-header' },
  },
  { name: "login with a '?'", text: mess(QQ, from('john?doe@example.test@203.0.113.9'), by('ESMTPA')), want: { why: 'unprintable-login' } },
  { name: 'an address only', text: mess(QQ, from('203.0.113.9'), by('ESMTPA')), want: { why: 'ambiguous' } },
  { name: 'TCPREMOTEIP unset', text: mess(QQ, from(`${BOB}@unknown`), by('ESMTPA')), want: { why: 'ambiguous' } },
  {
    name: 'CRLF line ends',
    text: mess(QQ, from(`${BOB}@203.0.113.9`), by('ESMTPA')).replace(/\n/g, '\r\n'),
    want: { why: 'not-qmail-queue' },
  },
  { name: 'CR in the Received line', text: mess(QQ, `${from(`${BOB}@203.0.113.9`)}\r`, by('ESMTPA')), want: { why: 'not-smtpd-format' } },
  {
    name: 'control character in the HELO',
    text: mess(QQ, from(`${BOB}@203.0.113.9`, 'a\u0001b'), by('ESMTPA')),
    want: { why: 'not-smtpd-format' },
  },
  {
    name: 'NUL after the Received line',
    text: mess(QQ, `${from(`${BOB}@203.0.113.9`)}\u0000 (x)`, by('ESMTPA')),
    want: { why: 'not-smtpd-format' },
  },
  { name: 'header ends first', text: mess(QQ, '', from(`${BOB}@203.0.113.9`), by('ESMTPA')), want: { why: 'no-smtpd-header' } },
  {
    name: 'not a header line',
    text: mess(QQ, 'no colon here', from(`${BOB}@203.0.113.9`), by('ESMTPA')),
    want: { why: 'no-smtpd-header' },
  },
  {
    name: 'other-case RECEIVED in front',
    text: mess(QQ, 'RECEIVED: from elsewhere', from(`${BOB}@203.0.113.9`), by('ESMTPA')),
    want: { why: 'not-smtpd-format' },
  },
  {
    name: 'X-Received is another field',
    text: mess(QQ, 'X-Received: by 2002:a05 with SMTP id x', from(`${BOB}@203.0.113.9`), by('ESMTPA')),
    want: PROVEN,
  },
  { name: 'message ends after the Received field', text: [QQ, from(`${BOB}@203.0.113.9`), by('ESMTPA')].join('\n'), want: PROVEN },
  { name: 'Received field cut by EOF', text: [QQ, from(`${BOB}@203.0.113.9`)].join('\n'), want: { why: 'not-smtpd-format' } },
  { name: 'empty file', text: '', want: { why: 'empty' } },
  { name: 'huge HELO', text: mess(QQ, from(`${BOB}@203.0.113.9`, 'h'.repeat(5000)), by('ESMTPA')), want: { why: 'undecided' } },
  { name: 'Received field within the line limit', text: mess(QQ, ...filler(196), from(`${BOB}@203.0.113.9`), by('ESMTPA')), want: PROVEN },
  {
    name: 'its next line past the limit',
    text: mess(QQ, ...filler(197), from(`${BOB}@203.0.113.9`), by('ESMTPA')),
    want: { why: 'undecided' },
  },
  { name: 'ends at the limit', text: [QQ, ...filler(197), from(`${BOB}@203.0.113.9`), by('ESMTPA')].join('\n'), want: PROVEN },
  { name: 'garbage', text: garbage(4096, 3), want: { why: 'not-qmail-queue' } },
  { name: 'garbage after the qmail-queue line', text: `${QQ}\n${garbage(2048, 9)}`, want: { why: 'no-smtpd-header' } },
];

/** The server side: scripts/proof.sh's `who` (the real proof.awk) over the mess file, as the purge runs it. */
function serverProof(text: string, uids: readonly string[] = []): string {
  const q = tmp('ms-qproof-');
  mkdirSync(join(q, 'mess', '7'), { recursive: true });
  writeFileSync(join(q, 'mess', '7', '4711'), Buffer.from(text, 'latin1'));
  const command = serverScript('qmail/scripts/proof.sh', qmailProofSettings(mtaHost(undefined, { qmail_smtpd_uids: [...uids] })));
  const r = spawnSync('/bin/sh', ['-c', `${command}\nq=$1\nwho 4711`, 'sh', q], {
    encoding: 'latin1',
    env: { PATH: process.env.PATH, LC_ALL: 'C' },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout.split('\n').length).toBeLessThanOrEqual(2);
  return r.stdout.replace(/\n$/, '');
}

describe('the qmail Received proof: one table, TypeScript and awk', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(qmailSubmitter(linesOf(c.text), true, c.uids), 'qmailSubmitter').toEqual(c.want);
    expect(serverProof(c.text, c.uids), 'proof.awk').toBe(c.want.authId ?? '');
  });

  it('hostile input: neither proves a login nor fails', () => {
    for (const input of HOSTILE_INPUTS) {
      for (const eof of [true, false]) expect(qmailSubmitter(linesOf(input), eof).authId).toBeUndefined();
      expect(serverProof(input)).toBe('');
    }
  });

  it('TypeScript: lines that stop before the file does leave the message undecided, never attributed', () => {
    const l = linesOf(CASES[0]!.text);
    expect(qmailSubmitter(l.slice(0, 3), false)).toEqual({ why: 'undecided' });
    expect(qmailSubmitter(l.slice(0, 4), false)).toMatchObject({ authId: BOB });
    expect(qmailSubmitter(l.slice(0, 2), false)).toEqual({ why: 'undecided' });
  });
});

// ---------------------------------------------------------------------------
// The whole table as a fake queue: the scan attributes, the purge removes, exactly what it says.

/** The uids the table lists (one queue has one setting; no other case depends on them). */
const UIDS = ['89'];
const SHARED = CASES.filter((c) => c.uids === undefined || c.uids.join(' ') === UIDS.join(' '));

describe('scan and purge apply the same proof (fake queue, /bin/sh)', () => {
  it('attributedQueue sets authId exactly where the table proves one', () => {
    const t = queueTree(SHARED);
    const { result, stdout } = run(qmail.attributedQueue(ctxOf(t, { qmail_smtpd_uids: UIDS })), t.d, t.bin);
    expect(stdout).toContain('__MAILSWEEP_RC__ mess 0');
    expect(result.messages).toHaveLength(SHARED.length);
    for (const m of result.messages) {
      const c = t.ids.get(m.id)!;
      expect(m.authId, c.name).toBe(c.want.authId);
      expect(m.clientIp, c.name).toBe(c.want.clientIp);
    }
  });

  it("the purge removes exactly bob's proven messages, and starts qmail-send again", () => {
    const t = queueTree(SHARED);
    const ids = [...t.ids.keys()];
    const bobs = ids.filter((id) => t.ids.get(id)!.want.authId === BOB);
    expect(bobs.length).toBeGreaterThanOrEqual(5);
    const { result } = run(
      qmail.ops.purge(ctxOf(t, { qmail_smtpd_uids: UIDS }), {
        ids,
        match: { kind: 'auth', authId: BOB },
        mode: 'delete',
        expect: t.senders,
      }),
      t.d,
      t.bin,
    );
    expect(result.done.sort()).toEqual(bobs.sort());
    expect(result.warnings).toEqual([]);
    for (const s of result.skipped) expect(s.reason, t.ids.get(s.id)!.name).toBe('not submitted by this auth id');
    for (const id of ids) {
      const split = String(Number(id) % 23);
      expect(existsSync(join(t.q, 'mess', split, id)), t.ids.get(id)!.name).toBe(!bobs.includes(id));
      expect(existsSync(join(t.q, 'info', split, id))).toBe(!bobs.includes(id));
    }
    expect(readFileSync(join(t.d, 'qmailctl.log'), 'utf8')).toBe('qmailctl stop\nqmailctl start\n');
  });

  it('hostile auth ids match nothing and run nothing; mallory is mallory; a changed sender is skipped', () => {
    // The messages that prove some login, and the forgeries naming bob.
    const t = queueTree(SHARED.filter((c) => c.want.authId !== undefined || /hostile|forged|local program/.test(c.name)));
    const ids = [...t.ids.keys()];
    const ctx = ctxOf(t, { qmail_smtpd_uids: UIDS });
    for (const authId of [
      `${BOB}' $(touch PWNED) "x`,
      `${BOB}"; touch PWNED; echo "`,
      '`touch PWNED`',
      '$(touch PWNED)',
      '*',
      '.*',
      `${BOB} `,
      `-e ${BOB}`,
      'bob@example.test@203.0.113.9',
      'john?doe@example.test',
      '',
    ]) {
      const { result } = run(qmail.ops.purge(ctx, { ids, match: { kind: 'auth', authId }, mode: 'delete', expect: t.senders }), t.d, t.bin);
      expect(result.done, authId).toEqual([]);
    }
    expect(existsSync(join(t.d, 'PWNED'))).toBe(false);
    expect(existsSync(join(t.d, 'qmailctl.log'))).toBe(false);
    const mallory = run(
      qmail.ops.purge(ctx, { ids, match: { kind: 'auth', authId: MALLORY.authId }, mode: 'delete', expect: t.senders }),
      t.d,
      t.bin,
    ).result;
    expect(mallory.done.map((id) => t.ids.get(id)!.name)).toEqual(['hostile HELO, as qmail-smtpd prints it, mallory authenticated']);
    const first = ids[0]!;
    const reused = run(
      qmail.ops.purge(ctx, {
        ids: [first],
        match: { kind: 'auth', authId: BOB },
        mode: 'delete',
        expect: { [first]: { sender: 'other@example.org' } },
      }),
      t.d,
      t.bin,
    ).result;
    expect(reused.skipped).toEqual([{ id: first, reason: 'envelope sender changed: id reused?' }]);
  });

  it('qmail_smtpd_uids reaches both sides: a local-uid message is attributed and goes only once its uid is listed', () => {
    const local = CASES.filter((c) => c.name.startsWith('local program') || c.name.startsWith('the same, uid 48'));
    const t = queueTree(local.slice(0, 1));
    const ids = [...t.ids.keys()];
    const req: PurgeRequest = { ids, match: { kind: 'auth', authId: BOB }, mode: 'delete', expect: t.senders };
    for (const c of local) {
      const ctx = ctxOf(t, { qmail_smtpd_uids: c.uids ?? [] });
      expect(
        run(qmail.attributedQueue(ctx), t.d, t.bin).result.messages.map((m) => m.authId),
        c.name,
      ).toEqual([c.want.authId]);
      expect(run(qmail.ops.purge(ctx, req), t.d, t.bin).result.done, c.name).toEqual(c.want.authId === BOB ? ids : []);
    }
  });
});
