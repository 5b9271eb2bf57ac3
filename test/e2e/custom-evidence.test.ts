// Issue #14 on the real lab: a playbook with a custom `command` step (data on stdin, a hostile value
// in the command text stays one word on the host's real /bin/sh), and the evidence bundle of that
// incident: its parts, from the real MTA, and not one secret in any file or in the archive.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { incidentEnv, lab, type IncidentEnv } from './incident-env.js';
import { labHosts, ownCount, type LabHost } from './lab-host.js';

const TOKEN = 'WHMTOKEN-e2e-custom-0123456789abcdef';
const SMTP_PASS = 'smtp-e2e-Secret-7f3a9c';
const BLOCKLIST = '/tmp/mailsweep-e2e-blocklist';
const WORDS = '/tmp/mailsweep-e2e-words';
const PWNED = '/tmp/mailsweep-e2e-pwned';
// Would run commands, split into words or expand a glob if it reached the shell unquoted.
const HOSTILE = `x'; touch ${PWNED}; echo " $(touch ${PWNED}) \`touch ${PWNED}\` * & touch ${PWNED} #`;

let h: LabHost;
let env: IncidentEnv;

/** A command on the lab host itself (not through mailsweep). */
const onHost = (cmd: string): string =>
  execFileSync('ip', ['netns', 'exec', h.namespace, 'chroot', h.root, '/bin/sh', '-c', cmd], { encoding: 'utf8' });

/** Every file under `dir`, relative path → content. */
function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'latin1'));
    }
  };
  walk(dir);
  return out;
}

/** The notice's body as text (nodemailer may send it quoted-printable). */
function quotedPrintable(data: string): string {
  if (!/^Content-Transfer-Encoding: quoted-printable/im.test(data)) return data;
  return data.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The stock playbook, with a `tag` var and a custom step right after identify. */
function playbook(dir: string): string {
  const doc = parseDocument(readFileSync('playbooks/hijacked-account.yaml', 'utf8'));
  doc.setIn(['vars', 'tag'], '');
  const steps = doc.get('steps') as { items: unknown[] };
  const block = doc.createNode({
    name: 'Block the top client IPs (e2e: written to a file on the host)',
    id: 'blocklist',
    action: 'command',
    params: {
      command: `cat > ${BLOCKLIST}; printf '%s\\n' {{ tag }} {{ identify.authId }} > ${WORDS}`,
      stdin: ['{{ identify.authId }}', '{{ identify.topIps }}'],
    },
  });
  steps.items.splice(1, 0, block);
  const file = join(dir, 'playbook.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

beforeAll(async () => {
  h = labHosts().find((x) => x.name === 'bookworm-postfix')!;
  env = await incidentEnv([h], TOKEN, { user: 'root' }, { smtpAuth: { user: 'notices', pass: SMTP_PASS, passEnv: 'E2E_SMTP_PASS' } });
  // The seeded queue (a no-op when it is as seeded; a queue that is not gets its log cleared too).
  await lab('reseed', h.name);
  onHost(`rm -f ${BLOCKLIST} ${WORDS} ${PWNED}`);
}, 300_000);

afterAll(async () => {
  await env?.close();
  if (h) {
    onHost(`rm -f ${BLOCKLIST} ${WORDS} ${PWNED}`);
    // The incident purged bob's mail: leave the host as the other suites expect it.
    await lab('reseed', h.name);
  }
}, 300_000);

describe('incident with a custom command step, and its evidence bundle (bookworm-postfix)', () => {
  let runDir = '';
  let password = '';
  let stderr = '';
  let identified: { topIps: string[]; clientIps: unknown[] } = { topIps: [], clientIps: [] };

  it('runs the command step on the host: stdin lines land exactly, a hostile value stays one word', async () => {
    const r = await env.incident(h.name, [
      '--yes',
      '--auth-id',
      h.expected.compromisedAuthId,
      '--playbook',
      playbook(env.dir),
      '--set',
      `tag=${HOSTILE}`,
      '--set',
      'include_password=true',
    ]);
    stderr = r.stderr;
    expect(r.status, r.stderr).toBe(0);
    expect(ownCount(h)).toBe(h.expected.legit);

    const journalPath = /journal: (\S+)/.exec(r.stderr)![1]!;
    runDir = journalPath.replace(/\.jsonl$/, '');
    const journal = readFileSync(journalPath, 'utf8');
    const identify = journal
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { t: string; step?: string; result?: typeof identified })
      .find((e) => e.t === 'step-done' && e.step === 'identify')!;
    identified = identify.result!;
    const topIps = identified.topIps;
    expect(topIps.length).toBeGreaterThan(0);

    expect(onHost(`cat ${BLOCKLIST}`)).toBe([h.expected.compromisedAuthId, ...topIps].map((l) => `${l}\n`).join(''));
    expect(onHost(`cat ${WORDS}`)).toBe(`${HOSTILE}\n${h.expected.compromisedAuthId}\n`);
    expect(onHost(`test -e ${PWNED} && echo yes || echo no`).trim()).toBe('no');
    expect(journal).toMatch(/"t":"step-done","step":"blocklist"/);

    // The notice carries the new password (include_password): the one WHM now has.
    const notice = env.sink.messages.at(-1)!;
    expect(notice.authUser).toBe('notices');
    password = /The new password is: (\S+)/.exec(quotedPrintable(notice.data))![1]!;
    expect(env.whm.passwordIs(h.expected.compromisedAuthId, password)).toBe(true);
  });

  it('keeps the evidence bundle: summary.md, evidence.json with the listed parts, the archive', () => {
    expect(runDir).not.toBe('');
    const dir = join(runDir, 'evidence');
    const runId = runDir.replace(/^.*\//, '');
    const archive = join(runDir, `evidence-${runId}.tar.gz`);
    expect(existsSync(join(dir, 'summary.md'))).toBe(true);
    expect(existsSync(archive)).toBe(true);
    expect(stderr).toContain(archive);

    const doc = JSON.parse(readFileSync(join(dir, 'evidence.json'), 'utf8')) as {
      version: number;
      account: string;
      rules: { rule: string; message: string }[];
      clientIps: { ip: string; count: number; firstSeen: string | null; lastSeen: string | null }[];
      log: { included: string; matched: number };
      samples: { id: string; file: string; source: string }[];
      queue: { before: { total: number; account: number }; now: { total: number; account: number } };
      actions: { reset: string; spamRemoved: number; backscatterRemoved: number };
      timeline: { step: string; kind: string; what: string }[];
    };
    expect(doc.version).toBe(1);
    expect(doc.account).toBe(h.expected.compromisedAuthId);
    expect(doc.rules.map((r) => r.rule)).toEqual(expect.arrayContaining(['sender-mismatch', 'many-ips', 'backscatter']));
    expect(doc.clientIps.length).toBeGreaterThan(1);
    // The seeding sends the account's 300 spam messages from several client addresses (the log may
    // hold more of its lines than this seeding's); the bundle has what identify counted.
    expect(doc.clientIps.reduce((n, x) => n + x.count, 0)).toBeGreaterThanOrEqual(h.expected.spam);
    expect(doc.clientIps).toEqual(identified.clientIps);
    for (const ip of doc.clientIps) {
      expect(ip.count).toBeGreaterThan(0);
      expect(ip.firstSeen).toBeTruthy();
      expect(ip.lastSeen).toBeTruthy();
    }
    expect(doc.log.included).toBe('lines');
    expect(doc.log.matched).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'log-lines.txt'), 'utf8')).toMatch(/sasl_username=bob@example\.test/);
    // The samples' headers as the real postfix shows them (postcat), taken from the queue.
    expect(doc.samples.length).toBe(5);
    for (const s of doc.samples) {
      expect(s.source).toBe('queue');
      const text = readFileSync(join(dir, s.file), 'utf8');
      expect(text).toMatch(/^Received: from .*\n\s+by bookworm-postfix\.lab\.test \(Postfix\) with ESMTPA id [0-9A-F]+\b/m);
      expect(text).toMatch(/^Subject: /m);
      // Other people's addresses are redacted (redact_addresses defaults on).
      expect(text).toContain('[redacted]@');
      expect(text.replaceAll('[redacted]@', '').replaceAll(h.expected.compromisedAuthId, '')).not.toContain('@');
    }
    expect(doc.queue.before).toMatchObject({ total: h.expected.total, account: h.expected.spam });
    expect(doc.queue.now).toMatchObject({ total: h.expected.legit, account: 0 });
    expect(doc.actions.spamRemoved).toBe(h.expected.spam);
    const steps = new Set(doc.timeline.map((t) => t.step));
    for (const s of ['identify', 'blocklist', 'reset', 'restart', 'evidence', 'purge', 'backscatter']) expect(steps).toContain(s);
    expect(doc.timeline.some((t) => t.step === 'blocklist' && t.kind === 'command')).toBe(true);
    expect(doc.timeline.some((t) => t.step === 'purge' && t.kind === 'effect')).toBe(true);
    const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(summary).toContain(h.expected.compromisedAuthId);
    expect(summary).toContain(doc.clientIps[0]!.ip);

    // The archive holds the same files.
    const unpacked = mkdtempSync(join(tmpdir(), 'ms-e2e-evidence-'));
    execFileSync('tar', ['-xzf', archive, '-C', unpacked]);
    const inDir = files(dir);
    const inTar = files(unpacked);
    const tarred = new Map([...inTar].map(([n, text]) => [n.replace(/^evidence\//, ''), text]));
    expect([...tarred.keys()].sort()).toEqual([...inDir.keys()].sort());
    for (const [n, text] of inDir) expect(tarred.get(n), n).toBe(text);
    rmSync(unpacked, { recursive: true });
  });

  it('holds no secret: not the WHM token, the new password nor the SMTP password, in any file', () => {
    expect(password).not.toBe('');
    const unpacked = mkdtempSync(join(tmpdir(), 'ms-e2e-evidence-'));
    execFileSync('tar', ['-xzf', join(runDir, `evidence-${runDir.replace(/^.*\//, '')}.tar.gz`), '-C', unpacked]);
    const all = [...files(join(runDir, 'evidence')), ...files(unpacked)];
    expect(all.length).toBeGreaterThan(4);
    for (const [name, text] of all)
      for (const secret of [TOKEN, password, SMTP_PASS]) expect(text.includes(secret), `${secret.slice(0, 4)}… in ${name}`).toBe(false);
    const journal = readFileSync(`${runDir}.jsonl`, 'utf8');
    for (const secret of [TOKEN, password, SMTP_PASS]) expect(journal.includes(secret)).toBe(false);
    rmSync(unpacked, { recursive: true });
  });
});
