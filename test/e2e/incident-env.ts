// Shared by the e2e suites that run the real incident CLI: the WHM fake, the SMTP sink for the
// customer notice, an inventory for the lab hosts, and the CLI itself.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { FakeWhm } from '../fakes/fake-whm.js';
import { SmtpSink } from '../fakes/smtp-sink.js';
import { CLI, LAB, type LabHost } from './lab-host.js';

export interface IncidentEnv {
  whm: FakeWhm;
  sink: SmtpSink;
  dir: string;
  inventory: string;
  /** `mailsweep incident NAME ARGS` against the lab; `env` over the default (WHM_TOKEN, CI). */
  incident(name: string, args: string[], env?: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/** More of the environment: an SMTP sink that wants AUTH (the password in `notify_smtp_pass_env`), inventory vars. */
export interface IncidentEnvOptions {
  smtpAuth?: { user: string; pass: string; passEnv: string };
  vars?: Record<string, unknown>;
}

/** `login`: how mailsweep logs in (root, or admin with `ansible_become`: sudo -n). */
export async function incidentEnv(
  hosts: LabHost[],
  token: string,
  login: { user: string; become?: boolean } = { user: 'root' },
  opts: IncidentEnvOptions = {},
): Promise<IncidentEnv> {
  const whm = await FakeWhm.start({
    token,
    domains: { 'example.test': 'examplec', 'shop.test': 'shopc' },
    mailboxes: { examplec: ['alice@example.test', 'bob@example.test', 'dave@example.test'], shopc: ['carol@shop.test'] },
  });
  const sink = await SmtpSink.start(opts.smtpAuth ? { auth: { user: opts.smtpAuth.user, pass: opts.smtpAuth.pass } } : {});
  const dir = mkdtempSync(join(tmpdir(), 'ms-e2e-incident-'));
  writeFileSync(join(dir, 'whm-ca.pem'), whm.cert);
  const vars = {
    ansible_user: login.user,
    ...(login.become ? { ansible_become: true } : {}),
    ansible_ssh_private_key_file: join(LAB, 'id_ed25519'),
    cpanel_url: whm.url,
    cpanel_token_env: 'WHM_TOKEN',
    cpanel_ca_file: join(dir, 'whm-ca.pem'),
    notify_smtp_host: '127.0.0.1',
    notify_smtp_port: sink.port,
    notify_from: 'abuse@provider.test',
    notify_to: 'owner@customer.test',
    ...(opts.smtpAuth ? { notify_smtp_user: opts.smtpAuth.user, notify_smtp_pass_env: opts.smtpAuth.passEnv } : {}),
    ...opts.vars,
  };
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(
    inventory,
    stringify({ all: { vars, hosts: Object.fromEntries(hosts.map((h) => [h.name, { ansible_host: h.address, mta: h.mta }])) } }),
  );
  return {
    whm,
    sink,
    dir,
    inventory,
    // Asynchronous: the fakes live in this process and must keep answering.
    incident: (name, args, env = {}) =>
      new Promise((resolve) => {
        const child = spawn(
          process.execPath,
          [CLI, 'incident', name, '-i', inventory, '--known-hosts', join(LAB, 'known_hosts'), '--runs-dir', join(dir, 'runs'), ...args],
          {
            env: {
              ...process.env,
              CI: 'true',
              WHM_TOKEN: token,
              ...(opts.smtpAuth ? { [opts.smtpAuth.passEnv]: opts.smtpAuth.pass } : {}),
              ...env,
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      }),
    close: async () => {
      await whm.close();
      await sink.close();
    },
  };
}

/** test/lab/lab, asynchronously (the fakes in this process must keep answering). */
export function lab(...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join('test', 'lab', 'lab'), args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`lab ${args.join(' ')} exited ${code}`))));
  });
}
