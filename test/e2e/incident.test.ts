// The incident playbook end to end on the real lab: unattended on every MTA, interactive through a
// real pseudo-terminal (tmux), and a run killed with SIGKILL finished with --resume.
// cPanel/WHM is the local HTTPS fake (test/fakes/fake-whm.ts); the notice goes to a local SMTP sink.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeWhm } from '../fakes/fake-whm.js';
import type { SmtpSink } from '../fakes/smtp-sink.js';
import { incidentEnv, lab, type IncidentEnv } from './incident-env.js';
import { CLI, LAB, labHosts, ownCount, type LabHost } from './lab-host.js';

const TOKEN = 'WHMTOKEN-e2e-0123456789abcdef';

let hosts: LabHost[] = [];
let env: IncidentEnv;
let whm: FakeWhm;
let sink: SmtpSink;
let dir: string;
let inventory: string;

/** Async: a blocked worker misses vitest's RPC deadline (and the fakes here must keep answering). */
const reseed = (...names: string[]) => lab('reseed', ...names);

/** Per-account queued counts by mailsweep's attribution (scan --messages). */
function byAccount(name: string): Record<string, number> {
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'scan',
      '-i',
      inventory,
      '--known-hosts',
      join(LAB, 'known_hosts'),
      '-l',
      name,
      '--format',
      'json',
      '--messages',
      '--no-history',
      '--no-progress',
    ],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const rep = JSON.parse(r.stdout) as { hosts: { messages: { authId?: string; bounce: boolean }[] }[] };
  const out: Record<string, number> = {};
  for (const m of rep.hosts[0]!.messages) {
    const k = m.authId ?? (m.bounce ? '(bounce)' : '(none)');
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Async on purpose: the fakes (WHM, SMTP sink) live in this process and must keep answering. */
function run(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, CI: 'true', WHM_TOKEN: TOKEN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const incident = (name: string, args: string[], extra: Record<string, string> = {}) => env.incident(name, args, extra);

beforeAll(async () => {
  hosts = labHosts();
  env = await incidentEnv(hosts, TOKEN);
  ({ whm, sink, dir, inventory } = env);
}, 120_000);

afterAll(async () => {
  await env?.close();
  // Leave the lab as the other suites expect it.
  await reseed(...hosts.map((h) => h.name));
}, 900_000);

describe('unattended incident on every lab MTA', () => {
  it.each(['bookworm-exim', 'trixie-exim', 'bookworm-postfix', 'bookworm-sendmail'])(
    '%s: removes every spam message and the backscatter, not one legitimate message',
    async (name) => {
      const h = hosts.find((x) => x.name === name)!;
      await reseed(name);
      expect(ownCount(h)).toBe(h.expected.total);
      const before = whm.mailbox('bob@example.test')!.passwordChanges;
      const sent = sink.messages.length;
      const r = await incident(name, ['--yes', '--auth-id', h.expected.compromisedAuthId]);
      expect(r.status, r.stderr).toBe(0);
      expect(ownCount(h)).toBe(h.expected.legit);
      // The unrelated bounces stay: foreign, but not to any sender the account's spam used.
      expect(byAccount(name)).toEqual({
        ...h.expected.legitByUser,
        ...(h.expected.unrelatedBounces ? { '(bounce)': h.expected.unrelatedBounces } : {}),
      });
      expect(whm.mailbox('bob@example.test')!.passwordChanges).toBe(before + 1);
      expect(sink.messages.length).toBe(sent + 1);
      expect(sink.messages.at(-1)!.to).toEqual(['owner@customer.test']);
      const journal = readFileSync(/journal: (\S+)/.exec(r.stderr)![1]!, 'utf8');
      expect(journal).not.toContain(TOKEN);
      expect(journal).toMatch(/"t":"effect","step":"purge","key":"delete"/);
    },
  );

  it('--dry-run changes nothing and shows the commands', async () => {
    const h = hosts.find((x) => x.name === 'bookworm-postfix')!;
    await reseed(h.name);
    const before = whm.mailbox('bob@example.test')!.passwordChanges;
    const r = await incident(h.name, ['--dry-run', '--auth-id', 'bob@example.test']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/would call WHM/);
    expect(ownCount(h)).toBe(h.expected.total);
    expect(whm.mailbox('bob@example.test')!.passwordChanges).toBe(before);
  });

  it('stops before anything destructive when WHM rejects the token', async () => {
    const h = hosts.find((x) => x.name === 'bookworm-exim')!;
    await reseed(h.name);
    const r = await incident(h.name, ['--yes', '--auth-id', 'bob@example.test'], { WHM_TOKEN: 'wrong-token-value' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/WHM .* failed: auth error/);
    expect(r.stderr).not.toContain('wrong-token-value');
    expect(ownCount(h)).toBe(h.expected.total);
  });
});

describe('a run killed with SIGKILL', () => {
  it('finishes with --resume without resetting the password twice', async () => {
    const h = hosts.find((x) => x.name === 'bookworm-postfix')!;
    await reseed(h.name);
    const before = whm.mailbox('bob@example.test')!.passwordChanges;
    const runs = join(dir, 'runs-kill');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'incident',
        h.name,
        '-i',
        inventory,
        '--known-hosts',
        join(LAB, 'known_hosts'),
        '--runs-dir',
        runs,
        '--yes',
        '--auth-id',
        'bob@example.test',
      ],
      {
        env: { ...process.env, CI: 'true', WHM_TOKEN: TOKEN },
        stdio: 'ignore',
      },
    );
    // Kill it as soon as the journal shows the password reset done (before the purge finishes).
    let journalPath = '';
    for (let i = 0; i < 600 && !journalPath; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const { readdirSync } = await import('node:fs');
      const f = existsSync(runs) ? readdirSync(runs).find((x) => x.endsWith('.jsonl')) : undefined;
      if (f && /"t":"step-done","step":"reset"/.test(readFileSync(join(runs, f), 'utf8'))) journalPath = join(runs, f);
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(journalPath).not.toBe('');
    expect(readFileSync(journalPath, 'utf8')).not.toMatch(/"t":"run-end"/);
    expect(whm.mailbox('bob@example.test')!.passwordChanges).toBe(before + 1);
    const runId = journalPath.replace(/^.*\//, '').replace(/\.jsonl$/, '');
    const r = await run([
      CLI,
      'incident',
      h.name,
      '-i',
      inventory,
      '--known-hosts',
      join(LAB, 'known_hosts'),
      '--runs-dir',
      runs,
      '--yes',
      '--resume',
      runId,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(whm.mailbox('bob@example.test')!.passwordChanges).toBe(before + 1);
    expect(ownCount(h)).toBe(h.expected.legit);
  });
});

describe('interactive run in a real terminal (tmux)', () => {
  it('walks the operator through every step', async () => {
    const h = hosts.find((x) => x.name === 'bookworm-exim')!;
    await reseed(h.name);
    const session = `ms-e2e-${process.pid}`;
    const cmd = [
      process.execPath,
      CLI,
      'incident',
      h.name,
      '-i',
      inventory,
      '--known-hosts',
      join(LAB, 'known_hosts'),
      '--runs-dir',
      join(dir, 'runs-tty'),
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const env = { ...process.env, WHM_TOKEN: TOKEN, CI: '' };
    delete (env as Record<string, string | undefined>).CI;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '50', `${cmd}; echo EXIT=$?; sleep 30`], { env });
    const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session, '-S', '-200'], { encoding: 'utf8' });
    const waitFor = async (re: RegExp, ms = 60_000) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const s = screen();
        if (re.test(s)) return s;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`timed out waiting for ${re}; screen:\n${screen()}`);
    };
    const key = (...k: string[]) => execFileSync('tmux', ['send-keys', '-t', session, ...k]);
    try {
      await waitFor(/Which account is hijacked\?/);
      key('Enter'); // the top suspect is preselected
      await waitFor(/Is message \S+ \(bob@example\.test\) spam\?/);
      key('y', 'Enter');
      await waitFor(/Set a new random password on bob@example\.test\?/);
      key('y', 'Enter');
      // From here a prompt may come again: when exim's queue runner holds a message during -Mrm,
      // the playbook's repeat step restarts and purges once more, asking each time.
      const prompt = () =>
        screen()
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l.startsWith('? '))
          .at(-1) ?? '';
      const seen: string[] = [];
      const sleep = () => new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 20; i++) {
        // The question on screen now (the last "? " line), not one left in the scrollback.
        const expected = /^\? (Restart exim on bookworm-exim\?|Delete these \d+ [^?]+\?|Customer contact address)/;
        let p = '';
        for (const until = Date.now() + 60_000; Date.now() < until; await sleep()) {
          p = prompt();
          if (expected.test(p)) break;
        }
        if (!expected.test(p)) throw new Error(`no expected question on screen:\n${screen()}`);
        seen.push(p);
        if (/Customer contact address/.test(p)) {
          key('Enter'); // default from the inventory
          break;
        }
        key('y', 'Enter');
        // Answered prompts turn into "✔ …" lines (the typed "y" shows on the line first): wait
        // until this question is gone before looking again.
        for (const until = Date.now() + 30_000; prompt().startsWith(p) && Date.now() < until;) await sleep();
      }
      expect(seen[0]).toMatch(/Restart exim on bookworm-exim\?/);
      expect(seen).toContainEqual(expect.stringMatching(/Delete these 300 message\(s\) of bob@example\.test\?/));
      expect(seen).toContainEqual(expect.stringMatching(/Delete these 20 bounce\(s\) of bob@example\.test's spam to foreign addresses\?/));
      const end = await waitFor(/EXIT=\d+/, 120_000);
      expect(end).toMatch(/EXIT=0/);
      expect(ownCount(h)).toBe(h.expected.legit);
    } finally {
      spawnSync('tmux', ['kill-session', '-t', session]);
    }
  });
});
