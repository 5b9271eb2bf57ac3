// The README's main job: `mailsweep demo` on the built CLI, as a newcomer runs it.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { ScanReport } from '../src/scan/types.js';

describe('mailsweep demo', () => {
  it('scans the built-in fleet and flags the hijacked host', () => {
    const r = spawnSync(process.execPath, ['dist/cli.js', 'demo', '--format', 'json'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, CI: 'true' },
    });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ScanReport;
    const mx1 = report.hosts.find((h) => h.name === 'mx1.dc1.example.net')!;
    expect(mx1).toMatchObject({ status: 'ok', mta: 'exim', queue: { total: 339, frozen: 20 } });
    expect(mx1.findings[0]).toMatchObject({ rule: 'queue-size', severity: 'critical' });
    expect(report.summary.suspects[0]).toMatchObject({ host: 'mx1.dc1.example.net', authId: 'bob@example.test', queued: 300 });
    expect(report.hosts.find((h) => h.name === 'mx5.dc2.example.net')?.status).toBe('unreachable');
    expect(report.summary.exitCode).toBe(2);
    expect(r.stderr).toContain('would exit 2');
    // The closing hint names the next step: the whole incident, rehearsed (test/demo-incident.test.ts).
    expect(r.stderr).toContain("Run 'npm run demo -- --incident' to rehearse the whole incident on mx1.dc1.example.net");
  });
});

describe('generateKeyPair', () => {
  it('only hands out key pairs that ssh2 itself can parse (ssh2 sometimes drops a leading zero byte)', async () => {
    const { utils } = await import('ssh2');
    const { generateKeyPair } = await import('../src/demo/fake-host.js');
    // ~1 in 260 raw ssh2 keys is malformed: 2000 draws would hit several.
    for (let i = 0; i < 2000; i++) {
      const k = generateKeyPair();
      expect(utils.parseKey(k.public)).not.toBeInstanceOf(Error);
    }
  });
});
