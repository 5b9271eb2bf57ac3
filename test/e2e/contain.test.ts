// Issue #14 on the real lab: `mailsweep contain --hold` without cPanel, through the host's
// contain_commands (README's postfix example: a check_sasl_access HOLD map, set up in
// test/lab/mta/postfix.sh). The account's next SMTP AUTH submission really lands in postfix's hold
// queue, another account's does not; `mailsweep release` lifts the hold and sends the held mail on.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { lab } from './incident-env.js';
import { CLI, LAB, labHosts, ownCount, type LabHost } from './lab-host.js';

const ACCOUNT = 'bob@example.test';
const MAP = '/etc/postfix/sasl_hold'; // test/lab/mta/postfix.sh

let h: LabHost;
let dir: string;
let inventory: string;

const onHost = (cmd: string): string =>
  execFileSync('ip', ['netns', 'exec', h.namespace, 'chroot', h.root, '/bin/sh', '-c', cmd], { encoding: 'utf8' });

/** The lab's fake SMTP AUTH password of `user` (test/lab/lib/config.sh is where they live). */
function labPassword(user: string): string {
  const config = /^declare -A PASSWORDS=\((.*)\)$/m.exec(readFileSync('test/lab/lib/config.sh', 'utf8'))![1]!;
  return new RegExp(`\\[${user.replace(/\./g, '\\.')}\\]=([^\\s)]+)`).exec(config)![1]!;
}

/** A new submission with SMTP AUTH as `user`, inside the host (as the lab's seeding sends); its queue id. */
function submitAs(user: string, subject: string): string {
  const out = execFileSync(
    'ip',
    [
      'netns',
      'exec',
      h.namespace,
      'chroot',
      h.root,
      'swaks',
      '--server',
      '127.0.0.1',
      '--port',
      '25',
      '--helo',
      'client.lab.test',
      '--from',
      user,
      '--to',
      'someone@remote.example',
      '--header',
      `Subject: ${subject}`,
      '--auth',
      'PLAIN',
      '--auth-user',
      user,
      '--auth-password',
      labPassword(user),
    ],
    { encoding: 'utf8' },
  );
  const id = /queued as ([0-9A-F]+)/.exec(out)![1]!;
  return id;
}

/** Which queue postfix has the message in (postqueue -j), or null when it is gone. */
function queueOf(id: string): string | null {
  for (const line of onHost('postqueue -j').split('\n').filter(Boolean)) {
    const m = JSON.parse(line) as { queue_id: string; queue_name: string };
    if (m.queue_id === id) return m.queue_name;
  }
  return null;
}

async function waitQueue(id: string, ok: (q: string | null) => boolean): Promise<string | null> {
  let q = queueOf(id);
  for (let i = 0; i < 100 && !ok(q); i++) {
    await new Promise((r) => setTimeout(r, 100));
    q = queueOf(id);
  }
  return q;
}

function mailsweep(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [CLI, ...args, '-i', inventory, '--known-hosts', join(LAB, 'known_hosts'), '--runs-dir', join(dir, 'runs')],
      {
        env: { ...process.env, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

beforeAll(() => {
  h = labHosts().find((x) => x.name === 'bookworm-postfix')!;
  dir = mkdtempSync(join(tmpdir(), 'ms-e2e-contain-'));
  inventory = join(dir, 'inventory.yaml');
  // No cpanel_url: the host's own commands, the account on stdin — README's postfix example itself.
  const example = [...readFileSync('README.md', 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].find((m) =>
    m[1]!.includes('contain_commands:'),
  )!;
  const { hold } = (parse(example[1]!) as { mx2: { contain_commands: { hold: Record<string, string> } } }).mx2.contain_commands;
  expect(Object.keys(hold).sort()).toEqual(['check', 'contain', 'release']);
  writeFileSync(
    inventory,
    stringify({
      all: {
        vars: { ansible_user: 'root', ansible_ssh_private_key_file: join(LAB, 'id_ed25519') },
        hosts: { [h.name]: { ansible_host: h.address, mta: h.mta, contain_commands: { hold } } },
      },
    }),
  );
  expect(onHost(`cat ${MAP}`)).toBe('');
});

afterAll(async () => {
  if (!h) return;
  // Leave the host as the lab made it: an empty map, the seeded queue and log. The messages sent
  // here stay until then, so that reseed sees a queue not as seeded and seeds it afresh.
  onHost(`: > ${MAP}; postmap ${MAP}`);
  await lab('reseed', h.name);
}, 300_000);

describe('contain --hold on postfix with contain_commands (bookworm-postfix)', () => {
  it("holds the account's next AUTH submission, and release sends it on", async () => {
    expect(ownCount(h)).toBe(h.expected.total);
    const c = await mailsweep(['contain', h.name, '--auth-id', ACCOUNT, '--hold', '--yes']);
    expect(c.status, c.stderr).toBe(0);
    expect(onHost(`cat ${MAP}`)).toBe(`${ACCOUNT} HOLD\n`);
    expect(`${c.stdout}${c.stderr}`).toMatch(/mailsweep release .*--run \S+/);

    const held = submitAs(ACCOUNT, `e2e contain ${process.pid}`);
    expect(await waitQueue(held, (q) => q === 'hold')).toBe('hold');
    // Another account is not held.
    const other = submitAs('alice@example.test', `e2e not held ${process.pid}`);
    expect(await waitQueue(other, (q) => q !== 'incoming' && q !== null)).not.toBe('hold');

    // A second contain finds the hold in place (check) and changes nothing.
    const again = await mailsweep(['contain', h.name, '--auth-id', ACCOUNT, '--hold', '--yes']);
    expect(again.status, again.stderr).toBe(0);
    expect(`${again.stdout}${again.stderr}`).toMatch(/hold: already in place before this run/);
    expect(onHost(`cat ${MAP}`)).toBe(`${ACCOUNT} HOLD\n`);

    const r = await mailsweep([
      'release',
      h.name,
      '--auth-id',
      ACCOUNT,
      '--run',
      /--run (\S+)/.exec(`${c.stdout}${c.stderr}`)![1]!,
      '--yes',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(onHost(`cat ${MAP}`)).toBe('');
    expect(await waitQueue(held, (q) => q !== 'hold')).not.toBe('hold');
    expect(queueOf(held)).not.toBeNull();

    // Released: the account's next submission is not held.
    const after = submitAs(ACCOUNT, `e2e released ${process.pid}`);
    expect(await waitQueue(after, (q) => q !== 'incoming' && q !== null)).not.toBe('hold');
  });
});
