// `scan --problems`: the host list holds only hosts that are not OK (table, markdown, JSON), the
// summary and exit code still cover the whole fleet, and such a report cannot be merged as if whole.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { FORMATS } from '../../src/report/index.js';
import { problemsOnly } from '../../src/report/problems.js';
import { mergeReports } from '../../src/scan/merge.js';
import type { ScanReport } from '../../src/scan/types.js';
import { eximHost } from './fleet-helpers.js';

const run = promisify(execFile);
let fleet: FakeFleet;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ms-problems-'));
  fleet = await startFakeFleet(join(dir, 'fleet'), [
    eximHost('busy.example.net', 120),
    eximHost('calm1.example.net', 3),
    eximHost('calm2.example.net', 4),
    { name: 'down.example.net', mode: 'dead', tools: [] },
  ]);
}, 60_000);
afterAll(() => fleet?.close());

async function scan(format: string, extra: string[] = []): Promise<{ code: number; stdout: string }> {
  const argv = ['--import', 'tsx', 'src/cli.ts', 'scan', '-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath];
  argv.push('--no-history', '--no-attribution', '--format', format, ...extra);
  return run(process.execPath, argv, { env: { ...process.env, CI: 'true' }, timeout: 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
}

describe('scan --problems', () => {
  it('json: only the hosts that are not OK, the fleet summary and exit code unchanged, marked as filtered', async () => {
    const r = await scan('json', ['--problems']);
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout) as ScanReport;
    expect(j.filter).toBe('problems');
    expect(j.hosts.map((h) => h.name).sort()).toEqual(['busy.example.net', 'down.example.net']);
    expect(j.summary).toMatchObject({ hosts: 4, critical: 1, byStatus: { ok: 3, unreachable: 1 }, queued: 127 });
    // Merged, it would under-count the fleet: refused, saying why.
    expect(() => mergeReports([{ file: 'p.json', text: r.stdout }])).toThrow(
      'p.json: filter: written with --problems (OK hosts left out): merge full reports',
    );
  }, 60_000);

  it('table: problem rows only, problems first, and a line saying how many OK hosts are not listed', async () => {
    const r = await scan('table', ['--problems']);
    const rows = r.stdout.split('\n').filter((l) => /\.example\.net /.test(l));
    expect(rows.map((l) => l.split(' ')[0])).toEqual(['busy.example.net', 'down.example.net']);
    expect(r.stdout).toContain('2 OK hosts not listed (--problems)');
    expect(r.stdout).toContain('4 hosts: 3 scanned (1 critical, 0 warning), 1 failed');
    const all = await scan('table');
    expect(all.stdout).toContain('calm1.example.net');
    expect(all.stdout).not.toContain('not listed');
  }, 60_000);
});

describe('problemsOnly', () => {
  it('markdown says what was left out; the summary object is the fleet’s own', () => {
    const base: ScanReport = {
      version: 1,
      startedAt: 'a',
      finishedAt: 'b',
      hosts: [
        {
          name: 'ok1',
          address: 'x',
          status: 'ok',
          mta: 'exim',
          queue: null,
          thresholds: { warn: 1, crit: 2 },
          findings: [],
          durationMs: 1,
        },
      ],
      summary: {
        hosts: 1,
        suspects: [],
        byStatus: { ok: 1 } as ScanReport['summary']['byStatus'],
        warning: 0,
        critical: 0,
        queued: 0,
        exitCode: 0,
      },
    };
    const p = problemsOnly(base);
    expect(p.hosts).toEqual([]);
    expect(p.summary).toBe(base.summary);
    expect(FORMATS.markdown(p)).toContain('_1 OK host not listed (--problems)_');
  });
});
