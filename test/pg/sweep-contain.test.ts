// Issue #12 with a real PostgreSQL: the report's auto_contain inside a sweep decided by the database
// (only the controller whose record completes the round contains, on every host of the sweep, its
// own shard's or not; the others contain nothing), and `report --wait` on a shard's lock (waits for
// the holder, gives up at the run's deadline, exit 3 without --wait). Real SSH to fake hosts on
// loopback; the hold commands run in the real /bin/sh on a file per host.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { openReportStore } from '../../src/alerts/open-store.js';
import type { SharedStore } from '../../src/alerts/sweep.js';
import { runReport } from '../../src/commands/report.js';
import type { ReportCliOptions } from '../../src/commands/report-options.js';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { replayFrom } from '../../src/demo/replay.js';
import { shardOf } from '../../src/inventory/shard.js';
import { PASSWORD, startCluster, type PgCluster } from './cluster.js';

/** The first `mx<i>.<dc>` name in shard `k` of 2. */
function nameIn(k: number, dc: string, from = 1): string {
  for (let i = from; ; i++) if (shardOf(`mx${i}.${dc}.example.net`, 2) === k) return `mx${i}.${dc}.example.net`;
}
// bob@example.test is hijacked on two hosts in different shards; a third host is quiet.
const EXIM = nameIn(1, 'dc1');
const POSTFIX = nameIn(2, 'dc2');
const QUIET = nameIn(1, 'dc3');
const AT = '2026-11-23T08:00:00Z'; // the recordings' day

let cluster: PgCluster;
let fleet: FakeFleet;
let dir: string;
let inventory: string;
const hold = (host: string) => join(dir, `${host}.hold`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ms-pg-contain-'));
  cluster = await startCluster();
  await Promise.all([cluster.createDb('contain'), cluster.createDb('wait')]);
  fleet = await startFakeFleet(dir, [
    { name: EXIM, mode: 'normal', tools: [], replay: replayFrom('test/fixtures/lab/bookworm-exim') },
    { name: POSTFIX, mode: 'normal', tools: [], replay: replayFrom('test/fixtures/lab/bookworm-postfix') },
    { name: QUIET, mode: 'normal', tools: [], replay: replayFrom('test/fixtures/lab/bookworm-sendmail-quiet') },
  ]);
  // Each host's hold map is a file here (the fake hosts run commands in the real /bin/sh).
  const inv = parse(readFileSync(fleet.inventoryPath, 'utf8')) as {
    all: { children: { mail: { hosts: Record<string, Record<string, unknown>> } } };
  };
  for (const [name, vars] of Object.entries(inv.all.children.mail.hosts)) {
    const map = hold(name);
    writeFileSync(map, '');
    vars.contain_commands = {
      hold: {
        contain: `IFS= read -r u; printf '%s HOLD\\n' "$u" >> '${map}'`,
        release: `IFS= read -r u; grep -vxF -- "$u HOLD" '${map}' > '${map}.new'; mv '${map}.new' '${map}'`,
        check: `IFS= read -r u; grep -qxF -- "$u HOLD" '${map}'`,
      },
    };
  }
  inventory = join(dir, 'inventory.yaml');
  writeFileSync(inventory, stringify(inv));
}, 120_000);

afterAll(async () => {
  await fleet?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

const env = () => ({ ...process.env, PGPASSWORD: PASSWORD });
async function report(o: ReportCliOptions) {
  const out: string[] = [];
  const err: string[] = [];
  const started = Date.now();
  const r = await runReport(
    { inventory, knownHosts: fleet.knownHostsPath, forks: '4', timeout: '20', now: AT, ...o },
    { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: env() },
  );
  return { ...r, out: out.join(''), err: err.join(''), ms: Date.now() - started };
}

describe('auto_contain in a sweep decided by PostgreSQL', () => {
  it('the two shards at once: only the decider contains, on both hijacked hosts, once each', async () => {
    expect(shardOf(EXIM, 2)).not.toBe(shardOf(POSTFIX, 2));
    const config = join(dir, 'report.yaml');
    writeFileSync(
      config,
      `auto_contain:\n  mode: contain\n  when: { any_of: [sender-mismatch, many-ips] }\n  measures: [hold, kick]\n  runs_dir: ${join(dir, 'runs')}\n`,
    );
    const state = cluster.url('contain');
    const [a, b] = await Promise.all(['1/2', '2/2'].map((shard) => report({ shard, state, config, sweep: 'S1' })));
    for (const r of [a!, b!]) expect(r.err).toBe('');
    const decider = [a!, b!].filter((r) => r.notices.length);
    expect(decider).toHaveLength(1);
    const other = a!.notices.length ? b! : a!;
    expect(other.out).toBe('');
    expect(decider[0]!.notices).toHaveLength(1);
    expect(decider[0]!.notices[0]!.containment?.map((c) => [c.host, c.outcome]).sort()).toEqual(
      [
        [EXIM, 'contained'],
        [POSTFIX, 'contained'],
      ].sort(),
    );
    expect(readFileSync(hold(EXIM), 'utf8')).toBe('bob@example.test HOLD\n');
    expect(readFileSync(hold(POSTFIX), 'utf8')).toBe('bob@example.test HOLD\n');
    expect(readFileSync(hold(QUIET), 'utf8')).toBe('');
    // One containment run (its journal) per hijacked host.
    const journals = () => readdirSync(join(dir, 'runs')).filter((f) => f.endsWith('.jsonl'));
    expect(
      journals()
        .map((f) => f.replace(/^\d+T\d+-|-[0-9a-f]+\.jsonl$/g, ''))
        .sort(),
    ).toEqual([EXIM, POSTFIX].sort());

    // The next sweep, same findings, again both at once: nothing contained again, nothing said.
    const next = await Promise.all(
      ['1/2', '2/2'].map((shard) => report({ shard, state, config, sweep: 'S2', now: '2026-11-23T09:00:00Z' })),
    );
    for (const r of next) {
      expect(r.err).toBe('');
      expect(r.notices).toEqual([]);
    }
    expect(readFileSync(hold(EXIM), 'utf8')).toBe('bob@example.test HOLD\n');
    expect(readFileSync(hold(POSTFIX), 'utf8')).toBe('bob@example.test HOLD\n');
    expect(journals()).toHaveLength(2);
  }, 180_000);
});

describe('report --wait on a shard lock held in PostgreSQL', () => {
  const state = () => cluster.url('wait');
  async function holder(): Promise<SharedStore> {
    const s = (await openReportStore(state(), { env: env() })) as SharedStore;
    expect(await s.tryShardLock('1/2')).toBe(true);
    return s;
  }

  it('without --wait: exit 3 at once, nothing scanned, the URL shown without a password', async () => {
    const h = await holder();
    try {
      const r = await report({ shard: '1/2', state: state() });
      expect(r.code).toBe(3);
      expect(r.scanned).toBe(false);
      expect(r.err).toBe(`mailsweep: another report run of shard 1/2 holds ${state()}\n`);
      expect(r.err).not.toContain(PASSWORD);
      // Another shard is not held up.
      const other = await report({ shard: '2/2', state: state() });
      expect(other.scanned).toBe(true);
    } finally {
      await h.close();
    }
  }, 60_000);

  it('--wait: runs once the holder lets go (its process ended: its session lock goes with it)', async () => {
    const h = await holder();
    const released = new Promise<void>((res) => setTimeout(() => void h.close().then(res), 3000));
    const r = await report({ shard: '1/2', state: state(), wait: true });
    await released;
    expect(r.scanned).toBe(true);
    expect(r.err).toBe('');
    expect(r.ms).toBeGreaterThanOrEqual(3000);
    const s = await openReportStore(state(), { env: env() });
    expect((await s.runs(10)).length).toBe(2);
    await s.close();
  }, 60_000);

  it('--wait gives up at the run deadline: exit 3, nothing scanned', async () => {
    const h = await holder();
    try {
      const r = await report({ shard: '1/2', state: state(), wait: true, deadline: '3s' });
      expect(r.code).toBe(3);
      expect(r.scanned).toBe(false);
      expect(r.ms).toBeGreaterThanOrEqual(2500);
      expect(r.ms).toBeLessThan(15_000);
      expect(r.err).toMatch(/another report run of shard 1\/2 holds/);
    } finally {
      await h.close();
    }
  }, 60_000);
});
