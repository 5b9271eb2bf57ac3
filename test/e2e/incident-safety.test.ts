// Unattended means safe by default, on the real lab: `--yes` never acts on an account that no rule
// points at — a typo, or a customer whose mail merely sits in the queue. Nothing is changed and the
// run exits non-zero, naming the question and the flag that overrides it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FakeWhm } from '../fakes/fake-whm.js';
import { CLI, LAB, labHosts, ownCount, type LabHost } from './lab-host.js';

const TOKEN = 'WHMTOKEN-safety-0123456789abcdef';
let hosts: LabHost[] = [];
let whm: FakeWhm;
let dir: string;
let inventory: string;

function incident(name: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [CLI, 'incident', name, '-i', inventory, '--known-hosts', join(LAB, 'known_hosts'), '--runs-dir', join(dir, 'runs'), '--skip', 'notify', ...args],
      { env: { ...process.env, CI: 'true', WHM_TOKEN: TOKEN }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

beforeAll(async () => {
  hosts = labHosts();
  whm = await FakeWhm.start({ token: TOKEN, domains: { 'example.test': 'examplec', 'shop.test': 'shopc' }, mailboxes: { examplec: ['alice@example.test', 'bob@example.test', 'dave@example.test'], shopc: ['carol@shop.test'] } });
  dir = mkdtempSync(join(tmpdir(), 'ms-safety-'));
  writeFileSync(join(dir, 'whm-ca.pem'), whm.cert);
  const vars = { ansible_user: 'root', ansible_ssh_private_key_file: join(LAB, 'id_ed25519'), cpanel_url: whm.url, cpanel_token_env: 'WHM_TOKEN', cpanel_ca_file: join(dir, 'whm-ca.pem') };
  inventory = join(dir, 'inventory.yaml');
  writeFileSync(inventory, stringify({ all: { vars, hosts: Object.fromEntries(hosts.map((h) => [h.name, { ansible_host: h.address, mta: h.mta }])) } }));
}, 120_000);

afterAll(async () => {
  await whm?.close();
});

describe('--yes with an auth id that has no evidence changes nothing', () => {
  it.each(['bookworm-exim', 'bookworm-postfix', 'bookworm-sendmail', 'trixie-exim'])('%s', async (name) => {
    const h = hosts.find((x) => x.name === name)!;
    const queued = ownCount(h);
    const calls = whm.calls.length;
    for (const account of ['bobb@example.test', h.expected.legitUsers[0]!]) {
      const r = await incident(name, ['--yes', '--auth-id', account]);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(`${account} has`);
      expect(r.stderr).toMatch(/no rule points at it/);
      expect(r.stderr).toContain('--force-account');
      const journal = readFileSync(/journal: (\S+)/.exec(r.stderr)![1]!, 'utf8');
      expect(journal).toMatch(/"t":"run-end","status":"failed"/);
      expect(journal).not.toMatch(/"destructive":true/);
    }
    expect(whm.calls.length).toBe(calls);
    expect(ownCount(h)).toBe(queued);
  });

  it('--force-account lets an admin go on deliberately (shown here as a dry run)', async () => {
    const h = hosts.find((x) => x.name === 'bookworm-postfix')!;
    const queued = ownCount(h);
    const r = await incident(h.name, ['--dry-run', '--force-account', '--auth-id', h.expected.legitUsers[0]!]);
    expect(r.status, r.stderr).toBe(0);
    expect(ownCount(h)).toBe(queued);
    const stopped = await incident(h.name, ['--dry-run', '--auth-id', h.expected.legitUsers[0]!]);
    expect(stopped.status).toBe(1);
  });
});
