// A 50-host parallel scan over real SSH (fake hosts on loopback): some dead, hung or spewing garbage.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeFleet, type FakeFleet, type FleetHostEntry } from '../../src/demo/fleet.js';
import { loadInventory } from '../../src/inventory/load.js';
import { scanFleet } from '../../src/scan/fleet.js';
import type { ScanReport } from '../../src/scan/types.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { eximHost } from './fleet-helpers.js';

const entries: FleetHostEntry[] = [];
for (let i = 0; i < 40; i++) entries.push(eximHost(`ok${i}`, i === 7 ? 150 : i === 8 ? 80 : i % 5));
for (let i = 0; i < 3; i++) entries.push(eximHost(`dead${i}`, 0, 'dead'));
for (let i = 0; i < 3; i++) entries.push(eximHost(`silent${i}`, 0, 'hang-handshake'));
for (let i = 0; i < 2; i++) entries.push(eximHost(`stuck${i}`, 0, 'hang-command'));
for (let i = 0; i < 2; i++) entries.push(eximHost(`garbage${i}`, 0, 'garbage-output'));

let fleet: FakeFleet;
let report: ScanReport;
const byName = (n: string) => report.hosts.find((h) => h.name === n)!;

beforeAll(async () => {
  fleet = await startFakeFleet(mkdtempSync(join(tmpdir(), 'ms-fleet-')), entries);
  const inv = await loadInventory(fleet.inventoryPath);
  report = await scanFleet(inv.hosts, {
    forks: 50,
    commandTimeoutMs: 1500,
    connectTimeoutMs: 1500,
    knownHosts: new KnownHostsFile(fleet.knownHostsPath),
    hostKeyPolicy: 'strict',
    includeMessages: false,
  });
}, 60_000);
afterAll(() => fleet?.close());

describe('fleet scan of 50 hosts', () => {
  it('ends every host with a status, in inventory order', () => {
    expect(report.hosts.map((h) => h.name)).toEqual(entries.map((e) => e.name));
    expect(report.summary.byStatus).toMatchObject({ ok: 40, unreachable: 3, timeout: 5, error: 2 });
    for (const h of report.hosts) if (h.status !== 'ok') expect(h.reason).toBeTruthy();
  });

  it('detects exim and counts each healthy queue exactly, matching exim -bpc', () => {
    for (let i = 0; i < 40; i++) {
      const h = byName(`ok${i}`);
      expect(h.mta).toBe('exim');
      const expected = i === 7 ? 150 : i === 8 ? 80 : i % 5;
      expect(h.queue?.total).toBe(expected);
      expect(h.queue?.reportedTotal).toBe(expected);
      expect(h.queue?.frozen).toBe(Math.floor(expected / 10));
    }
  });

  it('applies the default thresholds (warn 75, crit 100) and Nagios exit codes', () => {
    expect(byName('ok7').findings[0]).toMatchObject({ rule: 'queue-size', severity: 'critical' });
    expect(byName('ok8').findings[0]).toMatchObject({ rule: 'queue-size', severity: 'warning' });
    expect(byName('ok3').findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(byName('ok3').findings.find((f) => f.rule === 'log')?.message).toMatch(/no exim log found/);
    expect(report.summary).toMatchObject({ critical: 1, warning: 1, exitCode: 2 });
  });

  it('reports dead, silent, stuck and garbage hosts specifically', () => {
    expect(byName('dead0').reason).toMatch(/ECONNREFUSED/);
    expect(byName('silent0').reason).toMatch(/handshake/);
    expect(byName('stuck0').reason).toMatch(/did not finish/);
    expect(byName('garbage0').reason).toMatch(/no MTA detected|not understood/);
  });
});
