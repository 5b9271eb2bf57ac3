// scan --deadline: the fleet report as of the cut, whatever each host's own connect and command
// timeouts; hosts cut are timeouts (UNKNOWN) saying whether they were running or never started.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overrideThresholds, queueOverride, runDeadline } from '../../src/commands/scan-plugin.js';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { loadInventory } from '../../src/inventory/load.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { scanReportUntil } from '../../src/scan/deadline.js';
import type { FleetOptions } from '../../src/scan/fleet.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { eximHost } from './fleet-helpers.js';
import { gzipSync } from 'node:zlib';

let fleet: FakeFleet;
let hosts: HostSpec[];
let options: FleetOptions;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ms-deadline-'));
  // slowlog: the queue answers at once; today's rotated log is being decompressed forever.
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'logs', 'mainlog'), '');
  writeFileSync(join(dir, 'logs', 'mainlog.1.gz'), gzipSync('x\n'));
  const slow = eximHost('slowlog', 120);
  slow.tools.push({ name: 'gzip', cases: { '*': { text: '', sleep: 600 } } });
  fleet = await startFakeFleet(dir, [
    eximHost('ok1', 3),
    eximHost('hung', 0, 'hang-command'),
    eximHost('silent', 0, 'hang-handshake'),
    eximHost('ok2', 120),
    { ...slow, vars: { mail_log: join(dir, 'logs', 'mainlog') } },
  ]);
  hosts = (await loadInventory(fleet.inventoryPath)).hosts;
  // The defaults a check runs with: a host alone may take 10 + 3 × 30 + 5 s, far past the deadline.
  options = {
    forks: 2,
    commandTimeoutMs: 30_000,
    connectTimeoutMs: 10_000,
    knownHosts: new KnownHostsFile(fleet.knownHostsPath),
    hostKeyPolicy: 'strict',
    includeMessages: false,
    attribution: false,
  };
}, 60_000);
afterAll(() => fleet?.close());

describe('scanReportUntil', () => {
  it('ends by the cut with every host: done ones as scanned, hung ones UNKNOWN with the deadline as reason', async () => {
    const cutAt = Date.now() + 2_500;
    const r = await scanReportUntil(hosts.slice(0, 4), { ...options, forks: 4 }, cutAt, '3s');
    expect(Date.now()).toBeLessThan(cutAt + 150);
    expect(r.hosts.map((h) => [h.name, h.status])).toEqual([
      ['ok1', 'ok'],
      ['hung', 'timeout'],
      ['silent', 'timeout'],
      ['ok2', 'ok'],
    ]);
    expect(r.hosts[1]!.reason).toBe('still scanning at the run deadline (3s)');
    expect(r.hosts[2]!.reason).toBe('still scanning at the run deadline (3s)');
    expect(r.hosts[3]!.findings[0]).toMatchObject({ rule: 'queue-size', severity: 'critical' });
    expect(r.summary).toMatchObject({ hosts: 4, critical: 1, exitCode: 2, byStatus: { ok: 2, timeout: 2 } });
  }, 10_000);

  it('a host never started before the cut says so', async () => {
    const cutAt = Date.now() + 1_500;
    const r = await scanReportUntil([hosts[1]!, hosts[0]!], { ...options, forks: 1 }, cutAt, '2s');
    expect(Date.now()).toBeLessThan(cutAt + 150);
    expect(r.hosts.map((h) => [h.name, h.status, h.reason])).toEqual([
      ['hung', 'timeout', 'still scanning at the run deadline (2s)'],
      ['ok1', 'timeout', 'not started before the run deadline (2s)'],
    ]);
    expect(r.summary.exitCode).toBe(3);
  }, 10_000);

  it("a host whose queue was read before the cut keeps it: its slow log is cut at the run's deadline, not its own 30 s", async () => {
    const cutAt = Date.now() + 3_000;
    const r = await scanReportUntil([hosts[4]!], { ...options, attribution: true }, cutAt, '3s');
    expect(Date.now()).toBeLessThan(cutAt + 150);
    const h = r.hosts[0]!;
    expect(h.status, h.reason).toBe('ok');
    expect(h.findings[0]).toMatchObject({ rule: 'queue-size', severity: 'critical' });
    expect(h.findings.find((f) => f.rule === 'log')).toMatchObject({
      severity: 'info',
      message: expect.stringMatching(
        /^log read timed out after [\d.]+ s \(reading .*mainlog\.1\.gz, 0 lines so far\): attribution from the queue only$/,
      ),
    });
    expect(r.summary.exitCode).toBe(2);
  }, 10_000);
});

describe('runDeadline', () => {
  it('50 s by default for nagios, none for other formats unless given; counted from the process start', () => {
    expect(runDeadline(undefined, false)).toBeNull();
    expect(runDeadline(undefined, true)).toEqual({ cutAt: performance.timeOrigin + 50_000 - 1_000, text: '50s' });
    expect(runDeadline('5s', false)).toEqual({ cutAt: performance.timeOrigin + 5_000 - 500, text: '5s' });
    expect(runDeadline('2m', true)!.text).toBe('2m');
  });

  it.each(['soon', '0s', '500ms', '-5s', '8d', ''])('"%s" is refused', (v) => {
    expect(() => runDeadline(v, true)).toThrow(/^--deadline: expected a duration from 1s to 7d, like 50s or 10m, got "/);
  });
});

describe('-w/-c over the inventory', () => {
  const host = (name: string, queueWarn: number, queueCrit: number) => ({ ...hosts[0]!, name, queueWarn, queueCrit });

  it('both: every host gets them', () => {
    const out = overrideThresholds([host('a', 5, 10), host('b', 500, 1000)], queueOverride('~:50', '0:80'));
    expect(out.map((h) => [h.name, h.queueWarn, h.queueCrit])).toEqual([
      ['a', 50, 80],
      ['b', 50, 80],
    ]);
  });

  it('one: the other stays the inventory’s; a host where they would cross is named', () => {
    expect(overrideThresholds([host('a', 5, 100)], queueOverride('50')).map((h) => [h.queueWarn, h.queueCrit])).toEqual([[50, 100]]);
    expect(() => overrideThresholds([host('a', 5, 100), host('b', 5, 40)], queueOverride('50'))).toThrow(
      "-w/--warning 50 is above host b's queue_crit 40 (inventory): give -c too",
    );
    expect(() => overrideThresholds([host('a', 60, 100)], queueOverride(undefined, '50'))).toThrow(
      "-c/--critical 50 is below host a's queue_warn 60 (inventory): give -w too",
    );
  });

  it('none: the hosts as they are; crossed flags refused before any host is read', () => {
    const hs = [host('a', 5, 100)];
    expect(overrideThresholds(hs, queueOverride())).toBe(hs);
    expect(() => queueOverride('100', '50')).toThrow('-c/--critical 50 is below -w/--warning 100');
  });
});
