// The scan without --messages keeps an attributed queue compactly (src/mta/compact-queue.ts); with
// --messages it keeps every message whole. Both must report the same: every recorded lab host
// (exim, postfix, sendmail, each with and without a hijacked account) and a generated exim host
// with every attribution case, over real SSH, compared field by field (JSON, key order included).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import type { StubTool } from '../../src/demo/fake-host.js';
import { replayFrom } from '../../src/demo/replay.js';
import { HistoryStore } from '../../src/history/store.js';
import { loadInventory } from '../../src/inventory/load.js';
import { scanFleet } from '../../src/scan/fleet.js';
import type { HostReport, ScanReport } from '../../src/scan/types.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { generatedEximRead } from '../mta/exim-generated.js';

const LAB = ['bookworm-exim', 'trixie-exim', 'bookworm-postfix', 'bookworm-sendmail'].flatMap((h) => [h, `${h}-quiet`]);

let fleet: FakeFleet;
let whole: ScanReport;
let compact: ScanReport;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ms-compact-'));
  const generated = join(dir, 'generated.out');
  writeFileSync(generated, generatedEximRead(2000));
  fleet = await startFakeFleet(join(dir, 'fleet'), [
    ...LAB.map((h) => ({ name: h, mode: 'normal' as const, tools: [], replay: replayFrom(join('test/fixtures/lab', h)) })),
    {
      name: 'generated',
      mode: 'normal' as const,
      vars: { mta: 'exim', mass_recipients: 10, sender_mismatch_min: 2, backscatter_min: 1, local_domains: ['example.test'] },
      tools: [{ name: 'exim', cases: { '-bpc': { text: '0\n' }, '-bp': { text: '' } } } as StubTool],
      replay: [{ match: 'spool_directory', file: generated }],
    },
  ]);
  const inv = await loadInventory(fleet.inventoryPath);
  const scan = (includeMessages: boolean) =>
    scanFleet(inv.hosts, {
      forks: 10,
      commandTimeoutMs: 10_000,
      connectTimeoutMs: 5_000,
      knownHosts: new KnownHostsFile(fleet.knownHostsPath),
      hostKeyPolicy: 'strict',
      history: new HistoryStore(':memory:'),
      includeMessages,
    });
  whole = await scan(true);
  compact = await scan(false);
}, 60_000);
afterAll(() => fleet?.close());

/** The report of a host without what differs by design: the messages list (--messages) and timing. */
function comparable(h: HostReport): string {
  const { messages: _m, durationMs: _d, ...rest } = h;
  return JSON.stringify(rest);
}

describe('the scan kept compactly reports what the scan keeping every message reports', () => {
  it.each([...LAB, 'generated'])('%s', (name) => {
    const a = whole.hosts.find((h) => h.name === name)!;
    const b = compact.hosts.find((h) => h.name === name)!;
    expect(a.status, a.reason).toBe('ok');
    expect(a.messages?.length).toBe(a.queue?.total);
    expect(b.messages).toBeUndefined();
    expect(comparable(b)).toBe(comparable(a));
  });

  it('the generated host is a real case: its hijacked account is found, with its backscatter', () => {
    const h = compact.hosts.find((x) => x.name === 'generated')!;
    expect(h.suspects?.[0]?.authId).toBe('bob@example.test');
    expect(h.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['sender-mismatch', 'mass-recipients', 'backscatter']));
  });

  it('the fleet summary is the same', () => {
    expect(JSON.stringify(compact.summary)).toBe(JSON.stringify(whole.summary));
  });
});
