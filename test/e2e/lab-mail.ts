// Shared by the e2e suites that act as a mail user on a lab host: commands inside the host, a real
// SMTP AUTH submission (swaks, as the lab's seeding sends), the CLI against a one-host inventory.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI, LAB, type LabHost } from './lab-host.js';

/** A shell command inside the host's namespace and root; its stdout. */
export const onHost = (h: LabHost, cmd: string): string =>
  execFileSync('ip', ['netns', 'exec', h.namespace, 'chroot', h.root, '/bin/sh', '-c', cmd], { encoding: 'utf8' });

/** The lab's fake SMTP AUTH password of `user` (test/lab/lib/config.sh is where they live). */
export function labPassword(user: string): string {
  const config = /^declare -A PASSWORDS=\((.*)\)$/m.exec(readFileSync('test/lab/lib/config.sh', 'utf8'))![1]!;
  return new RegExp(`\\[${user.replace(/\./g, '\\.')}\\]=([^\\s)]+)`).exec(config)![1]!;
}

/** A submission with SMTP AUTH as `user` to the host's port 25, inside the host: swaks' exit and output. */
export function swaksAs(h: LabHost, user: string, subject: string): { status: number | null; out: string } {
  const r = spawnSync(
    'ip',
    [
      ...['netns', 'exec', h.namespace, 'chroot', h.root, 'swaks', '--server', '127.0.0.1', '--port', '25'],
      ...['--helo', 'client.lab.test', '--from', user, '--to', 'someone@remote.example', '--header', `Subject: ${subject}`],
      ...['--auth', 'PLAIN', '--auth-user', user, '--auth-password', labPassword(user)],
    ],
    { encoding: 'utf8' },
  );
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** swaksAs, accepted: the queue id the MTA answered (postfix "queued as ID", exim "OK id=ID"). */
export function submitAs(h: LabHost, user: string, subject: string): string {
  const { status, out } = swaksAs(h, user, subject);
  const id = /queued as ([0-9A-F]+)|OK id=([0-9A-Za-z-]+)/.exec(out);
  if (status !== 0 || !id) throw new Error(`submission as ${user} not accepted (swaks exit ${status}):\n${out}`);
  return (id[1] ?? id[2])!;
}

export type Cli = (args: string[]) => Promise<{ status: number | null; stdout: string; stderr: string }>;

/** An inventory with the one lab host (root login, `vars` added) in `dir`, and the CLI run against it. */
export function labCli(h: LabHost, dir: string, vars: Record<string, unknown> = {}): Cli {
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(
    inventory,
    stringify({
      all: {
        vars: { ansible_user: 'root', ansible_ssh_private_key_file: join(LAB, 'id_ed25519') },
        hosts: { [h.name]: { ansible_host: h.address, mta: h.mta, ...vars } },
      },
    }),
  );
  return (args) =>
    new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [CLI, ...args, '-i', inventory, '--known-hosts', join(LAB, 'known_hosts'), '--runs-dir', join(dir, 'runs')],
        { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
}

/** The run id in a contain run's closing `mailsweep release … --run RUN` line. */
export const runIdOf = (r: { stdout: string; stderr: string }): string => /--run (\S+)/.exec(`${r.stdout}${r.stderr}`)![1]!;

/** Polls `get` every 100 ms, up to 10 s, until `ok`; the last value. */
export async function waitFor<T>(get: () => T, ok: (v: T) => boolean): Promise<T> {
  let v = get();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = get();
  }
  return v;
}

/** Which queue postfix has the message in (postqueue -j), or null when it is gone. */
export function postfixQueueOf(h: LabHost, id: string): string | null {
  for (const line of onHost(h, 'postqueue -j').split('\n').filter(Boolean)) {
    const m = JSON.parse(line) as { queue_id: string; queue_name: string };
    if (m.queue_id === id) return m.queue_name;
  }
  return null;
}

/** exim -bp: each message id and whether it is frozen. */
export function eximQueue(h: LabHost): Map<string, boolean> {
  const q = new Map<string, boolean>();
  for (const line of onHost(h, 'exim -bp').split('\n')) {
    const m = /^\s*\S+\s+\S+\s+(\S+-\S+-\S+) <[^>]*>( \*\*\* frozen \*\*\*)?$/.exec(line);
    if (m) q.set(m[1]!, m[2] !== undefined);
  }
  return q;
}

/** Whether the message is frozen; waits while exim -bp does not list it yet (its first delivery attempt). */
export async function eximFrozen(h: LabHost, id: string): Promise<boolean> {
  const f = await waitFor(
    () => eximQueue(h).get(id),
    (v) => v !== undefined,
  );
  if (f === undefined) throw new Error(`${id} is not in exim -bp:\n${onHost(h, 'exim -bp | tail -n 6; tail -n 5 /var/log/exim4/mainlog')}`);
  return f;
}
