// Unattended means safe by default, on the real lab: `--yes` never acts on an account that no rule
// points at — a typo, or a customer whose mail merely sits in the queue. Nothing is changed and the
// run exits non-zero, naming the question and the flag that overrides it.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentEnv, type IncidentEnv } from './incident-env.js';
import { labHosts, ownCount, type LabHost } from './lab-host.js';

const TOKEN = 'WHMTOKEN-safety-0123456789abcdef';
let hosts: LabHost[] = [];
let env: IncidentEnv;
const incident = (name: string, args: string[]) => env.incident(name, ['--skip', 'notify', ...args]);

beforeAll(async () => {
  hosts = labHosts();
  env = await incidentEnv(hosts, TOKEN);
}, 120_000);

afterAll(async () => {
  await env?.close();
});

describe('--yes with an auth id that has no evidence changes nothing', () => {
  it.each(['bookworm-exim', 'bookworm-postfix', 'bookworm-sendmail', 'trixie-exim'])('%s', async (name) => {
    const h = hosts.find((x) => x.name === name)!;
    const queued = ownCount(h);
    const calls = env.whm.calls.length;
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
    expect(env.whm.calls.length).toBe(calls);
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
