// The whole host scan on outputs recorded from the real-server lab (scripts/record-lab.ts):
// real detection, real attributed queue, real log window, replayed over real SSH.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { replayFrom } from '../../src/demo/replay.js';
import { loadInventory } from '../../src/inventory/load.js';
import { scanFleet } from '../../src/scan/fleet.js';
import type { ScanReport } from '../../src/scan/types.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { HistoryStore } from '../../src/history/store.js';

const ROOT = 'test/fixtures/lab';
interface Meta {
  host: string;
  mta: string;
  /** Absent for later states (e.g. -quiet: legitimate mail only). */
  expected?: {
    total: number;
    spam: number;
    backscatter: number;
    backscatterFrozen: number;
    bounces?: number;
    bouncesFrozen?: number;
    compromisedAuthId: string;
    legitUsers: string[];
    legitByUser: Record<string, number>;
  };
}
const all: Meta[] = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => {
    try {
      return [JSON.parse(readFileSync(join(ROOT, d.name, 'scan-meta.json'), 'utf8')) as Meta];
    } catch {
      return [];
    }
  });

const metas = all.filter((m) => m.expected) as (Meta & { expected: NonNullable<Meta['expected']> })[];
const quiet = all.filter((m) => m.host.endsWith('-quiet'));

let fleet: FakeFleet;
let report: ScanReport;
let strict: ScanReport;
beforeAll(async () => {
  fleet = await startFakeFleet(
    mkdtempSync(join(tmpdir(), 'ms-rec-')),
    all.map((m) => ({ name: m.host, mode: 'normal' as const, tools: [], replay: replayFrom(join(ROOT, m.host)) })),
  );
  const inv = await loadInventory(fleet.inventoryPath);
  const options = () => ({
    forks: 10,
    commandTimeoutMs: 10_000,
    connectTimeoutMs: 5_000,
    knownHosts: new KnownHostsFile(fleet.knownHostsPath),
    hostKeyPolicy: 'strict' as const,
    history: new HistoryStore(':memory:'),
  });
  report = await scanFleet(inv.hosts, { ...options(), includeMessages: true });
  // The same recordings with a tighter daily limit (group/host var): user-volume on real lines.
  strict = await scanFleet(
    inv.hosts.map((h) => ({ ...h, vars: { ...h.vars, user_volume_limit: 100 } })),
    options(),
  );
}, 60_000);
afterAll(() => fleet?.close());

describe('scan of recorded real servers', () => {
  it('has recordings for exim (Debian 12 and 13), postfix and sendmail', () => {
    expect(metas.map((m) => m.mta).sort()).toEqual(['exim', 'exim', 'postfix', 'sendmail']);
  });

  it.each(metas.map((m) => [m.host, m] as const))('%s: exact totals, bounces and frozen backscatter', (name, m) => {
    const h = report.hosts.find((x) => x.name === name)!;
    expect(h.status, h.reason).toBe('ok');
    expect(h.mta).toBe(m.mta);
    expect(h.queue).toMatchObject({
      total: m.expected.total,
      reportedTotal: m.expected.total,
      bounces: m.expected.bounces ?? m.expected.backscatter,
      frozen: m.expected.bouncesFrozen ?? m.expected.backscatterFrozen,
    });
  });

  it.each(metas.map((m) => [m.host, m] as const))(
    '%s: the compromised account is the top suspect, with its spam, and no legitimate user is flagged',
    (name, m) => {
      const h = report.hosts.find((x) => x.name === name)!;
      const top = h.suspects![0]!;
      expect(top.authId).toBe(m.expected.compromisedAuthId);
      expect(top.queued).toBe(m.expected.spam);
      expect(top.messages).toBeGreaterThanOrEqual(m.expected.spam);
      expect(top.rules).toEqual(expect.arrayContaining(['sender-mismatch', 'mass-recipients', 'many-ips']));
      expect(top.clientIps).toContain('::1');
      const flagged = h.suspects!.map((s) => s.authId);
      for (const u of m.expected.legitUsers) expect(flagged).not.toContain(u);
      // Per-message attribution: every queued message of a legitimate user carries its own id.
      for (const [u, n] of Object.entries(m.expected.legitByUser)) expect(h.messages!.filter((x) => x.authId === u)).toHaveLength(n);
      expect(h.messages!.filter((x) => x.bounce && x.authId)).toEqual([]);
    },
  );

  it.each(quiet.map((m) => [m.host] as const))('%s (legitimate mail only): no finding, no suspect', (name) => {
    const h = report.hosts.find((x) => x.name === name)!;
    expect(h.status, h.reason).toBe('ok');
    expect(h.queue?.total).toBe(19);
    expect(h.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(h.suspects).toEqual([]);
  });

  it('has quiet recordings of each MTA', () => {
    expect(quiet.map((m) => m.mta).sort()).toEqual(['exim', 'exim', 'postfix', 'sendmail']);
  });

  it('ranks the fleet’s suspects with the compromised account first', () => {
    expect(report.summary.suspects[0]?.authId).toBe(metas[0]?.expected.compromisedAuthId);
  });

  it.each(metas.map((m) => [m.host, m] as const))(
    '%s: user-volume over a per-host limit of 100/day fires for the compromised account only',
    (name, m) => {
      const h = strict.hosts.find((x) => x.name === name)!;
      const volume = h.findings.filter((f) => f.rule === 'user-volume');
      expect(volume.map((f) => (f as { authId?: string }).authId)).toEqual([m.expected.compromisedAuthId]);
      expect(report.hosts.find((x) => x.name === name)!.findings.filter((f) => f.rule === 'user-volume')).toEqual([]);
    },
  );
});
