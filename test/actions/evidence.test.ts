// The evidence bundle of an incident run on a fixture exim host (recorded queue listings, a
// streamed log): what it holds, that the mailed notice carries it, and that no secret of the run
// (WHM token, new password, SMTP password) is in any file of it or of its .tar.gz — even when the
// server's own text quotes them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ACTION_NAMES, ACTIONS, PREFLIGHT } from '../../src/actions/index.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { runPlaybook } from '../../src/playbook/engine.js';
import { plainRenderer } from '../../src/playbook/render-plain.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import type { Action } from '../../src/playbook/types.js';
import { FakeWhm } from '../fakes/fake-whm.js';
import { SmtpSink } from '../fakes/smtp-sink.js';
import { arrivals, FixtureHost, QUEUE_AFTER } from './fixture-host.js';

const dir = mkdtempSync(join(tmpdir(), 'ms-evidence-'));
const TOKEN = 'WHMTOKEN0123456789EVIDENCEABCDEF';
const SMTP_PASS = 'smtp-pass-Evid3nce-987654';
const BOB = 'bob@example.test';
let whm: FakeWhm;
let sink: SmtpSink;

beforeAll(async () => {
  whm = await FakeWhm.start({
    token: TOKEN,
    domains: { 'example.test': 'examplec' },
    mailboxes: { examplec: [BOB] },
    contacts: { examplec: 'boss@customer.test' },
  });
  sink = await SmtpSink.start({ auth: { user: 'notices', pass: SMTP_PASS } });
  process.env.T_EV_WHM_TOKEN = TOKEN;
  process.env.T_EV_SMTP_PASS = SMTP_PASS;
});
afterAll(async () => {
  await whm?.close();
  await sink?.close();
});

/** The server's text quotes the secrets, other people's addresses and terminal controls. */
const headers = (id: string) =>
  id === '1xVLbA-000000000AA-0AAA'
    ? `${id}-H\n049P Received: from [203.0.113.9] by mx.example.test\n034F From: "Win" <win@promo-deals.invalid>\n024T To: victim@contoso.example\n020C Cc: carol@shop.test\n030  Reply-To: ${BOB}\n050  X-Leak: token=${TOKEN} pass ${SMTP_PASS}\n040  Subject: \u001b]0;pwned\u0007You won \u202egnp.exe\n`
    : null;
const LOG = [
  ...arrivals(BOB, '203.0.113.9', 30),
  ...arrivals(BOB, '198.51.100.23', 10, 'promo@spam-deals.invalid', 30),
  ...arrivals(BOB, '192.0.2.50', 1, 'bob@example.test', 40),
  ...arrivals('xbob@example.test', '192.0.2.99', 2, 'xbob@example.test', 41),
  ...arrivals('alice@example.test', '192.0.2.60', 3, 'alice@example.test', 43),
];

function host(): HostSpec {
  return {
    name: 'mx1',
    address: '127.0.0.1',
    port: 22,
    user: 'root',
    connection: 'ssh',
    become: false,
    becomeUser: 'root',
    mta: 'exim',
    queueWarn: 75,
    queueCrit: 100,
    groups: ['all'],
    source: { file: 'inv.yaml', line: 1 },
    vars: {
      cpanel_url: whm.url,
      cpanel_token_env: 'T_EV_WHM_TOKEN',
      cpanel_insecure: true,
      notify_smtp_host: '127.0.0.1',
      notify_smtp_port: sink.port,
      notify_smtp_user: 'notices',
      notify_smtp_pass_env: 'T_EV_SMTP_PASS',
      notify_from: 'abuse@provider.test',
    },
  };
}

function playbook(evidenceParams = '') {
  return parsePlaybook(
    `
name: evidence test
vars: { auth_id: "" }
steps:
  - { name: Identify, id: identify, action: identify, params: { auth_id: "{{ auth_id }}" } }
  - { name: Evidence, id: evidence, action: evidence, params: { account: "{{ identify.authId }}" ${evidenceParams} } }
  - { name: Reset, id: reset, action: reset-password, params: { account: "{{ identify.authId }}" } }
  - { name: Purge, id: purge, action: fakepurge }
  - { name: Evidence again, id: evidence_final, action: evidence, params: { account: "{{ identify.authId }}" ${evidenceParams} } }
  - { name: Notify, id: notify, action: notify, params: { account: "{{ identify.authId }}", attach_evidence: true } }
  - { name: Summary, id: summary, action: summary, params: { account: "{{ identify.authId }}", before: "{{ identify.queuedBefore }}" } }
`,
    'ev.yaml',
    [...ACTION_NAMES, 'fakepurge'],
  );
}

async function incident(evidenceParams = '', dryRun = false) {
  const fixture = new FixtureHost({ logLines: LOG, headers });
  // Stands in for purge: bob's message leaves the queue, the removal is journaled as purge does.
  const fakepurge: Action = {
    name: 'fakepurge',
    params: z.object({}),
    describe: () => 'fake purge',
    async run(_p, ctx) {
      if (ctx.dryRun) return { done: 0, clean: true, dryRun: true };
      fixture.queue = QUEUE_AFTER;
      ctx.journal.append({ t: 'effect', step: ctx.step.id, key: 'delete', detail: { count: 1, ids: ['1xVLbA-000000000AA-0AAA'] } });
      return { done: 1, clean: true, queueAfter: 3 };
    },
  };
  const lines: string[] = [];
  const runsDir = mkdtempSync(join(dir, 'runs-'));
  const out = await runPlaybook({
    playbook: playbook(evidenceParams),
    host: host(),
    transport: fixture,
    actions: { ...ACTIONS, fakepurge },
    preflight: PREFLIGHT,
    vars: { auth_id: BOB },
    dryRun,
    unattended: true,
    answers: { 'identify.unknown_account': true },
    skip: new Set(),
    runsDir,
    secrets: [],
    renderer: plainRenderer({ out: (l) => lines.push(l) }),
    commandTimeoutMs: 10_000,
  });
  return { out, text: lines.join('\n'), runDir: join(runsDir, out.runId) };
}

function walk(d: string): string[] {
  return readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
}

describe('the evidence bundle', () => {
  let run: Awaited<ReturnType<typeof incident>>;
  let password: string;
  beforeAll(async () => {
    run = await incident();
    password = readFileSync(join(run.runDir, 'new-password'), 'utf8').split('\t')[1]!.trim();
  });

  it('holds the parts: headers, log lines, client IPs with counts, rules, queue before and after, timeline, summary.md, evidence.json', () => {
    expect(run.out.status, run.out.error).toBe('ok');
    const ev = join(run.runDir, 'evidence');
    expect(
      walk(ev)
        .map((f) => relative(ev, f))
        .sort(),
    ).toEqual(['evidence.json', 'headers/1xVLbA-000000000AA-0AAA.txt', 'log-lines.txt', 'summary.md']);
    const doc = JSON.parse(readFileSync(join(ev, 'evidence.json'), 'utf8'));
    expect(doc).toMatchObject({
      version: 1,
      account: BOB,
      run: { id: run.out.runId, host: 'mx1', mta: 'exim' },
      options: { samples: 5, redactAddresses: true, logLines: 200 },
    });
    expect(doc.clientIps.map((x: { ip: string; count: number }) => [x.ip, x.count])).toEqual([
      ['203.0.113.9', 30],
      ['198.51.100.23', 10],
      ['192.0.2.50', 1],
    ]);
    // identify hands the IPs to custom steps, most messages and logins first (a CSF block's stdin).
    expect(run.out.results.identify).toMatchObject({
      topIps: ['203.0.113.9', '198.51.100.23', '192.0.2.50'],
      accountIds: ['1xVLbA-000000000AA-0AAA'],
    });
    expect(doc.clientIps[0].firstSeen).toMatch(/T00:00:00\.000Z$/);
    expect(doc.clientIps[0].lastSeen).toMatch(/T00:29:00\.000Z$/);
    expect(doc.rules.map((r: { rule: string }) => r.rule)).toContain('sender-mismatch');
    for (const r of doc.rules) expect(r.message).toMatch(/\d/);
    expect(doc.log).toMatchObject({ included: 'lines', file: 'log-lines.txt', matched: 41, kept: 41, files: ['/var/log/exim4/mainlog'] });
    expect(doc.queue).toEqual({
      before: { total: 4, account: 1, ids: ['1xVLbA-000000000AA-0AAA'] },
      now: { total: 4, account: 0, ids: [] },
    });
    expect(doc.actions).toEqual({ reset: 'done', spamRemoved: 1, backscatterRemoved: 0, held: false });
    const kinds = new Set(doc.timeline.map((t: { kind: string }) => t.kind));
    for (const k of ['run-start', 'step', 'command', 'api-call', 'effect', 'decision']) expect(kinds, k).toContain(k);
    expect(doc.timeline.find((t: { kind: string; what: string }) => t.kind === 'api-call' && /passwd_pop/.test(t.what))).toMatchObject({
      step: 'reset',
      result: true,
      what: expect.stringContaining(`email=${BOB}, password=[REDACTED]`),
    });
    for (const t of doc.timeline) expect(t.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    const log = readFileSync(join(ev, 'log-lines.txt'), 'utf8');
    expect(log.trim().split('\n')).toHaveLength(41);
    expect(log).not.toContain('xbob@example.test');
    expect(log).not.toContain('alice@');
    const md = readFileSync(join(ev, 'summary.md'), 'utf8');
    expect(md).toContain('| 203.0.113.9 | 30 |');
    expect(md).toContain('## Timeline');
  });

  it("redacts other people's addresses and the server's controls in headers and log lines; the account stays", () => {
    const h = readFileSync(join(run.runDir, 'evidence', 'headers', '1xVLbA-000000000AA-0AAA.txt'), 'utf8');
    expect(h).toContain('From: "Win" <[redacted]@promo-deals.invalid>');
    expect(h).toContain('To: [redacted]@contoso.example');
    expect(h).toContain('Cc: [redacted]@shop.test');
    expect(h).toContain(`Reply-To: ${BOB}`);
    expect(h).toContain('Subject: ^[]0;pwned^GYou won <U+202E>gnp.exe');
    for (const f of walk(join(run.runDir, 'evidence'))) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      expect(text, f).not.toMatch(/victim\d*@contoso|win@promo|carol@shop/);
    }
  });

  it('no secret in any file of the bundle or of its .tar.gz; the archive unpacks with tar to the same files', () => {
    const secrets = [TOKEN, SMTP_PASS, password];
    expect(password.length).toBeGreaterThanOrEqual(16);
    const archive = join(run.runDir, `evidence-${run.out.runId}.tar.gz`);
    const files = walk(join(run.runDir, 'evidence'));
    for (const f of [...files, archive]) {
      const raw = readFileSync(f);
      const blob = f.endsWith('.gz') ? gunzipSync(raw) : raw;
      for (const s of secrets) expect(blob.includes(s), `${f} holds a secret`).toBe(false);
    }
    expect(
      readFileSync(
        files.find((f) => f.endsWith('.txt') && f.includes('headers'))!,
        'utf8',
      ),
    ).toContain('X-Leak: token=[REDACTED] pass [REDACTED]');
    const out = mkdtempSync(join(dir, 'untar-'));
    execFileSync('tar', ['-xzf', archive, '-C', out]);
    const unpacked = walk(join(out, 'evidence'))
      .map((f) => relative(join(out, 'evidence'), f))
      .sort();
    expect(unpacked).toEqual(files.map((f) => relative(join(run.runDir, 'evidence'), f)).sort());
    for (const f of unpacked)
      expect(readFileSync(join(out, 'evidence', f), 'utf8')).toBe(readFileSync(join(run.runDir, 'evidence', f), 'utf8'));
    expect(statSync(archive).mode & 0o077).toBe(0);
  });

  it('the summary names the bundle; the mailed notice carries it as an attachment and says so', () => {
    const archive = join(run.runDir, `evidence-${run.out.runId}.tar.gz`);
    expect(run.text).toContain(`evidence: ${join(run.runDir, 'evidence')}/ and ${archive}`);
    expect(run.out.results.summary).toMatchObject({ evidence: archive });
    const m = sink.messages.at(-1)!;
    expect(m.authUser).toBe('notices');
    const data = m.data.replace(/=\r?\n/g, '');
    expect(data).toContain('The attached archive holds the evidence');
    expect(data).toMatch(new RegExp(`filename="?evidence-${run.out.runId}\\.tar\\.gz`));
    const b64 = /Content-Transfer-Encoding: base64\r?\n(?:[^\r\n]+\r?\n)*?\r?\n([A-Za-z0-9+/=\r\n]+)/.exec(
      data.slice(data.indexOf('application/gzip')),
    )![1]!;
    expect(gunzipSync(Buffer.from(b64.replace(/\s/g, ''), 'base64'))).toEqual(gunzipSync(readFileSync(archive)));
    expect(data).not.toContain(SMTP_PASS);
  });

  it('with redact_addresses off and no log: addresses kept, secrets still out, the counts said instead of log lines', async () => {
    const r = await incident(', redact_addresses: false, log_lines: 0');
    expect(r.out.status, r.out.error).toBe('ok');
    const doc = JSON.parse(readFileSync(join(r.runDir, 'evidence', 'evidence.json'), 'utf8'));
    expect(doc.samples).toEqual([{ id: '1xVLbA-000000000AA-0AAA', file: 'headers/1xVLbA-000000000AA-0AAA.txt', source: 'queue' }]);
    const h = readFileSync(join(r.runDir, 'evidence', 'headers', '1xVLbA-000000000AA-0AAA.txt'), 'utf8');
    expect(h).toContain('To: victim@contoso.example');
    expect(h).toContain('X-Leak: token=[REDACTED] pass [REDACTED]');
    expect(doc.log).toMatchObject({ included: 'counts', sent: 41, queued: 1 });
    expect(readFileSync(join(r.runDir, 'evidence', 'summary.md'), 'utf8')).toMatch(
      /The log lines were not kept; identify counted 41 message\(s\) sent and 1 queued/,
    );
    const pw = readFileSync(join(r.runDir, 'new-password'), 'utf8').split('\t')[1]!.trim();
    for (const f of walk(join(r.runDir, 'evidence')))
      for (const s of [TOKEN, SMTP_PASS, pw]) expect(readFileSync(f, 'utf8').includes(s), f).toBe(false);
  });
});

describe('the evidence bundle of a dry run', () => {
  it('is written from what the dry run read, says it was a dry run, and the notice would attach it', async () => {
    const sent = sink.messages.length;
    const r = await incident('', true);
    expect(r.out.status, r.out.error).toBe('ok');
    expect(sink.messages.length).toBe(sent);
    const doc = JSON.parse(readFileSync(join(r.runDir, 'evidence', 'evidence.json'), 'utf8'));
    expect(doc.run.dryRun).toBe(true);
    expect(doc.actions.reset).toBe('dry-run');
    expect(doc.samples).toHaveLength(1);
    expect(doc.queue.now).toEqual({ total: 4, account: 1, ids: ['1xVLbA-000000000AA-0AAA'] });
    expect(
      doc.timeline
        .filter((t: { kind: string; what: string }) => t.kind === 'api-call')
        .every((t: { what: string }) => /dry run, not sent/.test(t.what)),
    ).toBe(true);
    expect(r.text).toContain(`[dry-run] would attach ${join(r.runDir, `evidence-${r.out.runId}.tar.gz`)}`);
  });
});

describe('the final secret check', () => {
  it('refuses files or an archive that hold a secret, whatever produced it', async () => {
    const { assertNoSecret } = await import('../../src/actions/evidence.js');
    const { tarGz } = await import('../../src/files/tar-gz.js');
    const clean = new Map([['a.txt', Buffer.from('nothing here')]]);
    expect(() => assertNoSecret(clean, tarGz([{ name: 'a.txt', data: clean.get('a.txt')! }]), ['s3cret-value'])).not.toThrow();
    const leaky = new Map([['a.txt', Buffer.from('x s3cret-value y')]]);
    expect(() => assertNoSecret(leaky, tarGz([]), ['s3cret-value'])).toThrow(/a secret of this run reached the evidence bundle/);
    expect(() => assertNoSecret(clean, tarGz([{ name: 'b.txt', data: Buffer.from('s3cret-value') }]), ['s3cret-value'])).toThrow(
      /reached the evidence bundle/,
    );
  });
});
