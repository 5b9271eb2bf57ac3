// End-to-end: the built CLI against the real-server lab (real sshd, real exim/postfix/sendmail).
// Needs `test/lab/lab up` first (.ci/run does it); without the lab this suite fails, it never skips.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../../src/scan/types.js';
import { CLI, LAB, labHosts, ownCount, type LabHost } from './lab-host.js';

let hosts: LabHost[] = [];

function scan(args: string[]): { code: number; report: ScanReport | null; stderr: string; stdout: string } {
  const r = spawnSync(
    process.execPath,
    [CLI, 'scan', '-i', join(LAB, 'inventory.yaml'), '--no-progress', '--no-history', '--format', 'json', ...args],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      timeout: 120_000,
      env: { ...process.env, SSH_AUTH_SOCK: '' },
    },
  );
  let report: ScanReport | null = null;
  try {
    report = JSON.parse(r.stdout) as ScanReport;
  } catch {
    /* asserted by the caller */
  }
  return { code: r.status ?? -1, report, stderr: r.stderr, stdout: r.stdout };
}

beforeAll(() => {
  hosts = labHosts();
  expect(hosts.length).toBeGreaterThanOrEqual(4);
});

describe('scan against the real-server lab', () => {
  let result: ReturnType<typeof scan>;
  beforeAll(() => {
    result = scan(['--known-hosts', join(LAB, 'known_hosts'), '--messages']);
  });

  it('reaches every host and detects its MTA', () => {
    expect(result.report, result.stderr).not.toBeNull();
    for (const h of hosts) {
      const r = result.report!.hosts.find((x) => x.name === h.name);
      expect(r, h.name).toBeDefined();
      expect(r!.status, `${h.name}: ${r!.reason}`).toBe('ok');
      expect(r!.mta).toBe(h.mta);
    }
  });

  it('without `mta:` in the inventory, detection and the queue read share one command and give the same scan', () => {
    // The lab's inventory names each MTA; this copy does not, so every host is detected on the server.
    const dir = mkdtempSync(join(tmpdir(), 'ms-e2e-detect-'));
    const inv = join(dir, 'inventory.yaml');
    const text = readFileSync(join(LAB, 'inventory.yaml'), 'utf8');
    writeFileSync(inv, text.replace(/^\s*mta: .*\n/gm, ''));
    expect(readFileSync(inv, 'utf8')).not.toMatch(/\bmta:/);
    const detected = spawnSync(
      process.execPath,
      [
        CLI,
        'scan',
        '-i',
        inv,
        '--known-hosts',
        join(LAB, 'known_hosts'),
        '--no-progress',
        '--no-history',
        '--format',
        'json',
        '--messages',
      ],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000, env: { ...process.env, SSH_AUTH_SOCK: '' } },
    );
    const report = JSON.parse(detected.stdout) as ScanReport;
    for (const h of hosts) {
      const d = report.hosts.find((x) => x.name === h.name)!;
      const told = result.report!.hosts.find((x) => x.name === h.name)!;
      expect(d.status, `${h.name}: ${d.reason}`).toBe('ok');
      expect(d.mta, h.name).toBe(h.mta);
      // The oldest message's age moves with the clock between the two scans.
      expect({ ...d.queue, oldestSeconds: 0 }, h.name).toEqual({ ...told.queue, oldestSeconds: 0 });
      expect(d.queue!.oldestSeconds! - told.queue!.oldestSeconds!, h.name).toBeGreaterThanOrEqual(0);
      expect(
        d.suspects?.map((s) => s.authId),
        h.name,
      ).toEqual(told.suspects?.map((s) => s.authId));
      expect(
        d.messages?.map((m) => [m.id, m.authId]),
        h.name,
      ).toEqual(told.messages?.map((m) => [m.id, m.authId]));
    }
  });

  it('reports exact queue totals, equal to the MTA’s own count and to what was seeded', () => {
    for (const h of hosts) {
      const r = result.report!.hosts.find((x) => x.name === h.name)!;
      const own = ownCount(h);
      expect(own, `${h.name} own count`).toBe(h.expected.total);
      expect(r.queue!.total, h.name).toBe(own);
      expect(r.queue!.reportedTotal, h.name).toBe(own);
      expect(r.queue!.bounces, h.name).toBe(h.expected.bounces ?? h.expected.backscatter);
      expect(r.queue!.frozen, h.name).toBe(h.expected.bouncesFrozen ?? h.expected.backscatterFrozen);
    }
  });

  it('flags the overflowing queues as critical and exits 2', () => {
    expect(result.code).toBe(2);
    for (const h of hosts) {
      const r = result.report!.hosts.find((x) => x.name === h.name)!;
      expect(r.findings.find((f) => f.rule === 'queue-size')?.severity).toBe('critical');
    }
  });

  it('names the compromised account as the top suspect on every host, and no legitimate user', () => {
    for (const h of hosts) {
      const r = result.report!.hosts.find((x) => x.name === h.name)!;
      expect(r.suspects?.[0]?.authId, h.name).toBe(h.expected.compromisedAuthId);
      // The lab's botnet: six client addresses, ::1 among them (sendmail's IPv6:0:0:…:1 included).
      expect(r.suspects?.[0]?.rules, h.name).toEqual(expect.arrayContaining(['sender-mismatch', 'mass-recipients', 'many-ips']));
      expect(r.suspects?.[0]?.clientIps, h.name).toContain('::1');
      for (const legit of h.expected.legitUsers)
        expect(
          r.suspects!.map((s) => s.authId),
          `${h.name} ${legit}`,
        ).not.toContain(legit);
      // Evidence an admin reads: the subject of one of its queued messages (the lab's spam subject).
      expect((r.suspects?.[0] as { sampleSubject?: { subject: string } }).sampleSubject?.subject, h.name).toMatch(
        /^You have won! Claim \d+ now$/,
      );
    }
  });

  it("ties exactly the account's backscatter to it: the unrelated foreign bounces are counted, not blamed", () => {
    for (const h of hosts) {
      const r = result.report!.hosts.find((x) => x.name === h.name)!;
      const all = r.findings.find((f) => f.rule === 'backscatter' && !(f as { authId?: string }).authId);
      const bob = r.findings.find((f) => f.rule === 'backscatter' && (f as { authId?: string }).authId === h.expected.compromisedAuthId);
      expect(all?.evidence, h.name).toMatchObject({
        messages: h.expected.bounces ?? h.expected.backscatter,
        untied: h.expected.unrelatedBounces ?? 0,
      });
      expect(bob?.evidence, h.name).toMatchObject({ messages: h.expected.backscatter });
    }
  });
});

describe('host keys against real sshd', () => {
  it('refuses every host with an empty known_hosts, naming the fingerprint (exit 3)', () => {
    const empty = join(mkdtempSync(join(tmpdir(), 'ms-e2e-')), 'known_hosts');
    writeFileSync(empty, '');
    const r = scan(['--known-hosts', empty, '--no-attribution']);
    expect(r.code).toBe(3);
    for (const h of r.report!.hosts) {
      expect(h.status).toBe('hostkey-unknown');
      expect(h.reason).toMatch(/SHA256:/);
    }
  });

  it('refuses a changed key loudly', () => {
    const kh = join(mkdtempSync(join(tmpdir(), 'ms-e2e-')), 'known_hosts');
    // Every address gets the NEXT host's key: same type, wrong key.
    writeFileSync(kh, hosts.map((h, i) => `${h.address} ${hosts[(i + 1) % hosts.length]!.hostKeyEd25519}`).join('\n') + '\n');
    const r = scan(['--known-hosts', kh, '--no-attribution']);
    for (const h of r.report!.hosts) {
      expect(h.status, h.name).toBe('hostkey-changed');
      expect(h.reason).toMatch(/HOST KEY CHANGED/);
    }
  });

  it('with --accept-new-hostkeys records the real keys, then scans strictly', () => {
    const kh = join(mkdtempSync(join(tmpdir(), 'ms-e2e-')), 'known_hosts');
    const first = scan(['--known-hosts', kh, '--accept-new-hostkeys', '--no-attribution']);
    expect(first.report!.hosts.every((h) => h.status === 'ok')).toBe(true);
    const text = readFileSync(kh, 'utf8');
    for (const h of hosts) expect(text).toContain(h.hostKeyEd25519);
    const second = scan(['--known-hosts', kh, '--no-attribution']);
    expect(second.report!.hosts.every((h) => h.status === 'ok')).toBe(true);
  });
});
