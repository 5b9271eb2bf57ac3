// `mailsweep demo --incident`: the whole playbook against the demo's stateful exim, a fake WHM and
// an SMTP sink. In process (to look at the fakes afterwards) and as a newcomer runs the built CLI
// (exit code, what is on screen, nothing secret, nothing left running — also after Ctrl-C).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DIR } from '../src/commands/demo.js';
import { demoIncident, subjectOf, type DemoIncidentResult } from '../src/commands/demo-incident.js';
import { CUSTOMER_CONTACT, startIncidentFakes } from '../src/demo/incident-fakes.js';
import { loadDemoFleet } from '../src/commands/demo.js';
import { parseEximAttributedOutput } from '../src/mta/exim/listing.js';

const BOB = 'bob@example.test';
const CLI = join('dist', 'cli.js');
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ms-demo-incident-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** True when nothing listens on the loopback port any more. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** The recorded queue, read with the real parser: the ground truth of what must go and what must stay. */
const recorded = parseEximAttributedOutput(readFileSync(join(DEMO_DIR, 'mx1.dc1.example.net', 'queue.out'), 'utf8')).messages;
const others = recorded.filter((m) => m.authId && m.authId !== BOB).map((m) => m.id);

/** The password the run set (the hand-over file beside the journal): must never be on a screen. */
const passwordOf = (journal: string) =>
  readFileSync(join(journal.replace(/\.jsonl$/, ''), 'new-password'), 'utf8')
    .split('\t')[1]!
    .trim();

describe('demo --incident, in process', () => {
  let r: DemoIncidentResult;
  let out = '';
  let err = '';
  const listenersBefore = process.listenerCount('SIGINT');
  beforeAll(async () => {
    r = await demoIncident({ dir: tmp(), out: (t) => void (out += t), err: (t) => void (err += t) });
  }, 30_000);

  it('runs the playbook to the end (exit 0) on the suspect the scan names', () => {
    expect(r.code, err).toBe(0);
    expect(r.before.suspects?.[0]?.authId).toBe(r.fakes.seededAccount);
    expect(err).toContain(`--yes --auth-id ${BOB}`);
  });

  it("removes exactly the account's spam and its backscatter; every other customer's mail stays", () => {
    expect(recorded).toHaveLength(339);
    expect(others).toHaveLength(19);
    expect(r.fakes.mta.queue.ids().sort()).toEqual([...others].sort());
    const gone = recorded.filter((m) => !others.includes(m.id));
    expect(gone.every((m) => m.authId === BOB || m.bounce)).toBe(true);
    expect([...r.fakes.mta.removed].sort()).toEqual(gone.map((m) => m.id).sort());
    expect(r.fakes.mta.frozen).toEqual([]);
    // The later listing (over SSH, the real parser) agrees with the fake's own state.
    expect(r.after?.messages?.map((m) => m.id).sort()).toEqual([...others].sort());
    expect(out).toMatch(/bob@example\.test {2}\(hijacked\) +300 +0/);
    expect(out).toMatch(/\(null-sender bounces\) +20 +0/);
    expect(out).toContain("Every other customer's mail is still queued.");
  });

  it('restarts the MTA once: its pid changed', () => {
    expect(r.fakes.mta.restarts).toBe(1);
    expect(r.fakes.mta.pid).not.toBe(2417);
    expect(out).toContain(`exim daemon pid: 2417 -> ${r.fakes.mta.pid}`);
  });

  it('changes the password through the fake WHM exactly once, for that account only', () => {
    const resets = r.fakes.whm.calls.filter((c) => c.uapi === 'Email::passwd_pop');
    expect(resets).toHaveLength(1);
    expect(resets[0]!.params).toMatchObject({ email: 'bob', domain: 'example.test', password: '[REDACTED]' });
    expect(r.fakes.whm.mailbox(BOB)!.passwordChanges).toBe(1);
    expect(r.fakes.whm.passwordIs(BOB, passwordOf(r.journal!))).toBe(true);
    for (const a of ['alice@example.test', 'carol@shop.test', 'dave@example.test']) expect(r.fakes.whm.mailbox(a)!.passwordChanges).toBe(0);
  });

  it('sends one notice to the customer contact (not the hijacked mailbox), without the password', () => {
    expect(r.fakes.sink.messages).toHaveLength(1);
    const m = r.fakes.sink.messages[0]!;
    expect(m.to).toEqual([CUSTOMER_CONTACT]);
    expect(subjectOf(m.data)).toBe(`Your mailbox ${BOB} was used to send spam`);
    expect(m.data).not.toContain(passwordOf(r.journal!));
    expect(out).toContain(`customer notice: to ${CUSTOMER_CONTACT}, subject "Your mailbox ${BOB} was used to send spam"`);
  });

  it('prints the journal, which holds neither the password nor the WHM token', () => {
    expect(out).toContain(`journal: ${r.journal}`);
    const journal = readFileSync(r.journal!, 'utf8');
    expect(journal).toContain('"t":"effect","step":"purge","key":"delete"');
    expect(journal).not.toContain(passwordOf(r.journal!));
    expect(journal).not.toContain(readFileSync(join(r.fakes.dir, 'whm-token'), 'utf8').trim());
  });

  it('leaves no port open and no signal handler behind', async () => {
    expect(r.fakes.ports.length).toBeGreaterThanOrEqual(6);
    for (const p of r.fakes.ports) expect(await refused(p), `port ${p}`).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(listenersBefore);
  });
});

describe('the incident fakes on a failure half-way', () => {
  it('stop what they started before the error reaches the caller', async () => {
    const servers = () => process.getActiveResourcesInfo().filter((x) => x === 'TCPServerWrap').length;
    const before = servers();
    // A fleet host whose stub cannot be written: the fleet fails after WHM and the sink are up.
    const broken = { name: 'broken.example.net', mode: 'normal' as const, tools: [{ name: 'no/such/dir/exim', cases: {} }] };
    await expect(startIncidentFakes(tmp(), [...(await loadDemoFleet()), broken], (h) => join(DEMO_DIR, h))).rejects.toThrow(/ENOENT/);
    await new Promise((res) => setTimeout(res, 50));
    expect(servers()).toBe(before);
  });
});

/** The built CLI, asynchronously; `onErr` sees stderr as it comes (to send a signal at a moment). */
function cli(args: string[], onErr?: (soFar: string, kill: (s: NodeJS.Signals) => void) => void, env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, CI: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onErr?.(stderr, (s) => child.kill(s));
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const portsIn = (stderr: string) => [...stderr.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));

describe('demo --incident, the built CLI', () => {
  it('exits 0, shows every step and what changed, prints no secret; with --keep the fakes stay up until Ctrl-C', async () => {
    const dir = tmp();
    let sent = false;
    const r = await cli(['demo', '--incident', '--keep', '--dir', dir], (soFar, kill) => {
      if (!sent && soFar.includes('Press Ctrl-C')) {
        sent = true;
        kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    for (const step of ['Identify', 'Reset the mailbox password', 'Restart the MTA', 'Purge', 'backscatter', 'Notify', 'Summary'])
      expect(r.stderr).toContain(step);
    expect(r.stderr).toContain('FAKE WHM');
    expect(r.stdout).toMatch(/total +339 +19/);
    const journal = /journal: (\S+\.jsonl)/.exec(r.stdout)![1]!;
    expect(existsSync(journal)).toBe(true);
    const secrets = [passwordOf(journal), readFileSync(join(dir, 'whm-token'), 'utf8').trim()];
    for (const s of secrets) {
      expect(s.length).toBeGreaterThanOrEqual(16);
      expect(r.stdout + r.stderr).not.toContain(s);
    }
    const ports = portsIn(r.stderr);
    expect(ports.length).toBeGreaterThanOrEqual(2);
    for (const p of ports) expect(await refused(p)).toBe(true);
  }, 30_000);

  it('refuses --format with --incident (a usage error: one line, exit 3)', async () => {
    const r = await cli(['demo', '--incident', '--format', 'json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      'mailsweep: --format is for the plain demo (a scan); --incident prints plain text (see: mailsweep demo --help)\n',
    );
  });

  it('says plainly that openssl is missing (exit 3), never "internal error"', async () => {
    const r = await cli(['demo', '--incident', '--dir', tmp()], undefined, { PATH: '/nonexistent' });
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe(
      'mailsweep: demo --incident: cannot start the fake servers: cannot make a self-signed certificate (openssl req -x509): the openssl command is not installed',
    );
  });

  it('stops every fake server on SIGTERM in the middle of the run (exit 143)', async () => {
    // A --dir that does not exist yet is made.
    const r = await cli(['demo', '--incident', '--dir', join(tmp(), 'new', 'dir')], (soFar, kill) => {
      if (soFar.includes('── Restart the MTA') && !soFar.includes('stopping')) kill('SIGTERM');
    });
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toContain('stopping the fake servers');
    expect(r.stderr).not.toContain('── Summary');
    const ports = portsIn(r.stderr);
    expect(ports.length).toBeGreaterThanOrEqual(2);
    for (const p of ports) expect(await refused(p)).toBe(true);
  }, 30_000);
});
