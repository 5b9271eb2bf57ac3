// Issue #12, done-when: four `report --shard K/4` processes (the real CLI) against one real
// PostgreSQL, on a 200-host fake fleet, give the same incidents and the same notices as one
// unsharded run against SQLite: one notice per account per channel, though the account's hosts are
// in different shards and the four finish at nearly the same moment. A shard that dies: its sweep
// is decided by --finish-sweep with what is there.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReportStore } from '../../src/alerts/open-store.js';
import type { Incident } from '../../src/alerts/store.js';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { shardOf } from '../../src/inventory/shard.js';
import { HttpReceiver } from '../report-job/receivers.js';
import { PASSWORD, startCluster, type PgCluster } from './cluster.js';
import { recordedFleet } from '../scan/fleet-helpers.js';

const exec = promisify(execFile);
const HOSTS = 200;
const T0 = '2026-11-30T10:00:00Z';

let cluster: PgCluster;
let fleet: FakeFleet;
let http: HttpReceiver;
let dir: string;
const hijacked = Array.from({ length: 8 }, (_, i) => `mx${i + 1}.dc1.example.net`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ms-pg-sweep-'));
  [cluster, http] = await Promise.all([startCluster(), HttpReceiver.start()]);
  await cluster.createDb('sweep');
  const entries = recordedFleet(hijacked, HOSTS - hijacked.length - 1);
  fleet = await startFakeFleet(dir, entries);
}, 300_000);

afterAll(async () => {
  await fleet?.close();
  await http?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

function config(file: string, paths: string[]): string {
  const p = join(dir, file);
  writeFileSync(
    p,
    [
      'repeat_interval: 4h',
      'channels:',
      ...paths.flatMap((path, i) => [`  hook${i + 1}:`, '    type: webhook', `    url: http://127.0.0.1:${http.port}${path}`]),
    ].join('\n') + '\n',
  );
  return p;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
const report = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> =>
  exec(
    process.execPath,
    ['dist/cli.js', 'report', '-i', fleet.inventoryPath, '--known-hosts', fleet.knownHostsPath, '--no-history', '-t', '30', ...args],
    { env: { ...process.env, CI: 'true', PGPASSWORD: PASSWORD, ...env }, maxBuffer: 16 << 20 },
  ).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

/** What must be equal between the two runs: no ids, no times, hosts as sets. */
const shape = (incs: Incident[]) =>
  incs
    .map((i) => ({
      key: i.key,
      kind: i.kind,
      severity: i.severity,
      open: i.resolvedAt === null,
      hosts: [...i.hosts].sort(),
      evidence: [...i.evidence]
        .sort((a, b) => a.host.localeCompare(b.host))
        .map((e) => ({ host: e.host, severity: e.severity, rules: [...e.rules].sort() })),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
const labels = (path: string) =>
  http
    .at(path)
    .map((r) => `${String(r.body.status)} ${JSON.stringify(r.body.commonLabels)}`)
    .sort();

describe('four shards against one PostgreSQL = one controller against SQLite', () => {
  const pgState = () => cluster.url('sweep');
  let oneMs = 0;
  let fourMs = 0;

  it('same incidents, same notices, one per account per channel; exactly one shard sends', async () => {
    const t1 = Date.now();
    const one = await report(['--state', join(dir, 'one.sqlite'), '--config', config('one.yaml', ['/one']), '--now', T0]);
    oneMs = Date.now() - t1;
    expect(one.stderr).toBe('');
    expect([1, 2]).toContain(one.code);

    const cfg = config('pg.yaml', ['/pg-a', '/pg-b']);
    const t4 = Date.now();
    const shards = await Promise.all(
      [1, 2, 3, 4].map((k) => report(['--shard', `${k}/4`, '--state', pgState(), '--sweep', 'S1', '--config', cfg, '--now', T0])),
    );
    fourMs = Date.now() - t4;
    for (const s of shards) expect(s.stderr).toBe('');
    // The one that completed the sweep printed its notices' titles; the others were silent.
    expect(shards.filter((s) => s.stdout !== '').length).toBe(1);

    const sqlite = await openReportStore(join(dir, 'one.sqlite'));
    const pg = await openReportStore(pgState(), { env: { PGPASSWORD: PASSWORD } });
    try {
      const want = shape(await sqlite.incidents());
      expect(want.filter((i) => i.kind === 'account').length).toBeGreaterThanOrEqual(1);
      expect(shape(await pg.incidents())).toEqual(want);
      // An account's hosts were in different shards: the alert is still one.
      const acc = (await pg.incidents()).find((i) => i.kind === 'account' && i.hosts.length > 1)!;
      expect(new Set(acc.hosts.map((h) => shardOf(h, 4))).size).toBeGreaterThan(1);
      const runs = await pg.runs(10);
      expect(runs.length).toBe(4);
      expect(runs.reduce((n, r) => n + r.hosts, 0)).toBe(HOSTS);
    } finally {
      await sqlite.close();
      await pg.close();
    }
    expect(labels('/one').length).toBeGreaterThanOrEqual(2);
    expect(labels('/pg-a')).toEqual(labels('/one'));
    expect(labels('/pg-b')).toEqual(labels('/one'));
    expect(new Set(labels('/pg-a')).size).toBe(labels('/pg-a').length);
    const c = await cluster.client('sweep');
    const size = (await c.query<{ n: string }>("SELECT sum(length(reports)) AS n FROM sweep_shards WHERE sweep_id = 'S1'")).rows[0]!.n;
    await c.end();
    console.log(`[timing] ${HOSTS} fake hosts: one controller ${oneMs} ms, 4 shards in parallel ${fourMs} ms; sweep record ${size} bytes`);
  }, 600_000);

  it('the next sweep, again all four at once: nothing new, nothing sent twice', async () => {
    const before = http.received.length;
    const cfg = join(dir, 'pg.yaml');
    const shards = await Promise.all(
      [1, 2, 3, 4].map((k) =>
        report(['--shard', `${k}/4`, '--state', pgState(), '--config', cfg, '--now', '2026-11-30T11:00:00Z'], { MAILSWEEP_SWEEP: 'S2' }),
      ),
    );
    for (const s of shards) expect(s.stderr).toBe('');
    expect(http.received.length).toBe(before);
  }, 600_000);

  it('a shard dies: nothing is sent for its sweep until --finish-sweep decides it with what is there', async () => {
    const cfg = join(dir, 'pg.yaml');
    const at = '2026-11-30T15:00:00Z'; // past repeat_interval: every open incident is due again
    const before = labels('/pg-a').length;
    const three = await Promise.all(
      [1, 2, 3].map((k) => report(['--shard', `${k}/4`, '--state', pgState(), '--sweep', 'S3', '--config', cfg, '--now', at])),
    );
    for (const s of three) expect(s.stdout + s.stderr).toBe('');
    expect(labels('/pg-a').length).toBe(before);
    const fin = await report(['--state', pgState(), '--finish-sweep', 'S3', '--config', cfg, '--now', at]);
    expect(fin.code).toBe(2);
    expect(fin.stderr).toBe(
      'mailsweep: sweep S3: decided without shard(s) 4 of 4: their hosts were not scanned, their incidents stay open\n',
    );
    const repeats = http.at('/pg-a').slice(before);
    expect(repeats.length).toBeGreaterThanOrEqual(1);
    expect(new Set(repeats.map((r) => JSON.stringify(r.body.commonLabels))).size).toBe(repeats.length);
    expect(http.at('/pg-b').length).toBe(http.at('/pg-a').length);
    // Decided once: a second --finish-sweep has nothing left.
    const again = await report(['--state', pgState(), '--finish-sweep', 'S3', '--config', cfg, '--now', at]);
    expect(again.stderr).toMatch(/sweep S3: nothing left to decide/);
    expect(http.at('/pg-a').length).toBe(before + repeats.length);
  }, 600_000);

  it('a channel down during the decision: its notices are kept and sent once by the next decider', async () => {
    const cfg = join(dir, 'pg.yaml');
    const run = (sweep: string, at: string) =>
      Promise.all(
        [1, 2, 3, 4].map((k) => report(['--shard', `${k}/4`, '--state', pgState(), '--sweep', sweep, '--config', cfg, '--now', at])),
      );
    http.failing.add('/pg-b');
    const a0 = http.at('/pg-a').length;
    const down = await run('S4', '2026-11-30T20:00:00Z'); // past repeat_interval again: all due
    http.failing.clear();
    const due = http.at('/pg-a').length - a0;
    expect(due).toBeGreaterThanOrEqual(1);
    expect(down.filter((r) => /channel hook2 failed/.test(r.stderr)).length).toBe(1);
    const pg = await openReportStore(pgState(), { env: { PGPASSWORD: PASSWORD } });
    expect((await pg.pending('hook2')).length).toBe(due);
    const b0 = http.at('/pg-b').length;
    const next = await run('S5', '2026-11-30T20:05:00Z'); // nothing new: only the retry
    for (const r of next) expect(r.stderr).toBe('');
    const retried = http.at('/pg-b').slice(b0);
    expect(retried.length).toBe(due);
    expect(new Set(retried.map((r) => JSON.stringify(r.body.commonLabels))).size).toBe(due);
    expect(await pg.pending()).toEqual([]);
    expect(http.at('/pg-a').length).toBe(a0 + due);
    await pg.close();
  }, 600_000);

  it('the history and the HTML page read the shared state; --sweep without it is refused', async () => {
    const page = join(dir, 'fleet.html');
    const html = await exec(
      process.execPath,
      ['dist/cli.js', 'html', '--state', pgState(), '--no-history', '-o', page, '--now', '2026-11-30T16:00:00Z'],
      {
        env: { ...process.env, PGPASSWORD: PASSWORD },
      },
    );
    expect(html.stderr).toBe('');
    expect(readFileSync(page, 'utf8')).toContain('mx1.dc1.example.net');
    const down = await report(['--shard', '1/4', '--state', pgState().replace(/:\d+\//, ':1/')], { PGPASSWORD: 'not-this-one-4242' });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(
      /^mailsweep: error: report state postgres:\/\/mailsweep@127\.0\.0\.1:1\/sweep: database unreachable: .*ECONNREFUSED.*\n$/,
    );
    expect(down.stderr).not.toContain('not-this-one-4242');
    const bad = await report(['--state', join(dir, 'one.sqlite'), '--sweep', 'S9']);
    expect(bad).toMatchObject({ code: 3, stderr: 'mailsweep: error: --sweep: only with a shared state (--state postgres://…)\n' });
  }, 120_000);
});
