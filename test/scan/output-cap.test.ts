// The queue output a host may send is capped per host, the cap scaled to how many hosts are read at
// once (2 GiB shared, 16–256 MiB each): a host past it is cut and said as a warning finding; what
// was read (a lower bound) still decides the queue-size alert.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { loadInventory } from '../../src/inventory/load.js';
import { scanFleet } from '../../src/scan/fleet.js';
import { queueOutputCap } from '../../src/scan/host.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { eximHost } from './fleet-helpers.js';

const MiB = 1024 * 1024;

describe('queueOutputCap', () => {
  it.each([
    [1, 256],
    [8, 256],
    [16, 128],
    [50, 41],
    [100, 20],
    [128, 16],
    [1000, 16],
  ])('%i hosts at once → %i MiB each', (forks, mib) => expect(queueOutputCap(forks) / MiB).toBeCloseTo(mib, 0));
});

describe('a host past the cap', () => {
  let fleet: FakeFleet;
  beforeAll(async () => {
    fleet = await startFakeFleet(mkdtempSync(join(tmpdir(), 'ms-cap-')), [eximHost('big', 2000), eximHost('small', 3)]);
  }, 30_000);
  afterAll(() => fleet?.close());

  it('is cut and says so; the small one is whole; the part read keeps the big one critical', async () => {
    const inv = await loadInventory(fleet.inventoryPath);
    const r = await scanFleet(inv.hosts, {
      forks: 2,
      commandTimeoutMs: 5000,
      connectTimeoutMs: 5000,
      knownHosts: new KnownHostsFile(fleet.knownHostsPath),
      hostKeyPolicy: 'strict',
      includeMessages: false,
      attribution: false,
      outputCapBytes: 20_000,
    });
    const [big, small] = r.hosts;
    expect(big!.status).toBe('ok');
    // The part read: a lower bound, far past the thresholds.
    expect(big!.queue!.total).toBeGreaterThan(100);
    expect(big!.queue!.total).toBeLessThan(2000);
    const cut = big!.findings.find((f) => f.rule === 'queue-output')!;
    expect(cut.severity).toBe('warning');
    expect(cut.message).toMatch(/queue output cut at 0 MiB .*scan this host alone \(-l HOST -f 1\)/);
    expect(big!.findings.find((f) => f.rule === 'queue-size')!.severity).toBe('critical');
    expect(small!.findings.map((f) => f.rule)).not.toContain('queue-output');
    expect(small!.queue!.total).toBe(3);
  }, 30_000);
});
