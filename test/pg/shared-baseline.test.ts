// Issue #12: with a PostgreSQL state, a host's baseline does not depend on which controller scanned
// it before. A host scanned on days 1..7 by shard 1 of 2 and on day 8 by shard 2 of 3 (hosts were
// added) gets the baseline verdict of one controller with one SQLite history; shards writing the
// same day at the same time lose nothing; the database failing during the prefetch costs the
// baselines (an info finding, a line on stderr), never the report. Real SSH to fake hosts on
// loopback (their log replays a file rewritten each "day"), a real throwaway PostgreSQL.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReportStore } from '../../src/alerts/open-store.js';
import { runHistory } from '../../src/commands/history.js';
import { runHtml } from '../../src/commands/html.js';
import { runReport } from '../../src/commands/report.js';
import type { ReportCliOptions } from '../../src/commands/report-options.js';
import { startFakeFleet, type FakeFleet, type FleetHostEntry } from '../../src/demo/fleet.js';
import { replayFrom, REPLAY_KEYS } from '../../src/demo/replay.js';
import { ConfigError } from '../../src/errors.js';
import { HistoryStore } from '../../src/history/store.js';
import { shardOf } from '../../src/inventory/shard.js';
import { PASSWORD, startCluster, type PgCluster } from './cluster.js';

// Days 1..7 are working days (the baseline counts only those); day 8 is a Wednesday.
const DAYS = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-23', '2026-11-24'];
const DAY8 = '2026-11-25';
const DAY9 = '2026-11-26';

/** A name in shard 1 of 2 and shard 2 of 3: it changes controller when the fleet grows to 3 shards. */
function movingName(): string {
  for (let i = 1; ; i++) {
    const n = `mover${i}.dc1.example.net`;
    if (shardOf(n, 2) === 1 && shardOf(n, 3) === 2) return n;
  }
}
const MOVER = movingName();
const OTHERS = Array.from({ length: 5 }, (_, i) => `mx${i + 1}.dc2.example.net`);
const HOSTS = [MOVER, ...OTHERS];

let cluster: PgCluster;
let fleet: FakeFleet;
let dir: string;
const logFile = (host: string) => join(dir, `${host}.log.out`);

/** What each host's log shows on `day` (the replayed log command, as a server would print it). */
function writeLogs(day: string, perAccount: (host: string) => Record<string, number>): void {
  const now = Date.parse(`${day}T12:00:00Z`) / 1000;
  for (const host of HOSTS) {
    const lines = ['__MAILSWEEP_LOGNOW__ ' + now + ' +0000', '__MAILSWEEP_LOGFILE__ /var/log/exim4/mainlog'];
    let n = 0;
    for (const [account, count] of Object.entries(perAccount(host)))
      for (let i = 0; i < count; i++, n++) {
        const t = `${day} ${String(8 + Math.floor(n / 3600)).padStart(2, '0')}:${String(Math.floor(n / 60) % 60).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}`;
        lines.push(
          `${t} 1xV${String(n).padStart(3, '0')}-000${host.length}YW-1g <= ${account} H=(client.lab.test) [127.0.0.1] P=esmtpa A=plain_server:${account} S=538 id=${n}@${host}`,
        );
      }
    writeFileSync(logFile(host), lines.join('\n') + '\n');
  }
}
// alice: steady 150 a day, 180 on day 8 (within 150 % of her average, under the ceiling): no finding
// with her history, "no history" without it. carol: 60 a day, 160 on day 8: over her baseline.
const usual = (): Record<string, number> => ({ 'alice@example.test': 150, 'carol@example.test': 60 });
const day8 = (): Record<string, number> => ({ 'alice@example.test': 180, 'carol@example.test': 160 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ms-pg-baseline-'));
  // Never the user's own history file.
  process.env.MAILSWEEP_HISTORY = join(dir, 'default-history.sqlite');
  cluster = await startCluster();
  await cluster.createDb('base');
  writeLogs(DAYS[0]!, usual);
  const replay = replayFrom('test/fixtures/lab/bookworm-exim-quiet');
  const entries: FleetHostEntry[] = HOSTS.map((name) => ({
    name,
    mode: 'normal',
    tools: [],
    // auth_policy off: its EHLO probe is not part of the recording.
    vars: { auth_policy: false },
    replay: replay.map((r) => (r.match === REPLAY_KEYS.log ? { match: r.match, file: logFile(name) } : r)),
  }));
  fleet = await startFakeFleet(dir, entries);
}, 300_000);

afterAll(async () => {
  if (savedHistory === undefined) delete process.env.MAILSWEEP_HISTORY;
  else process.env.MAILSWEEP_HISTORY = savedHistory;
  await fleet?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

const env = () => ({ ...process.env, PGPASSWORD: PASSWORD });
const savedHistory = process.env.MAILSWEEP_HISTORY;
async function report(o: ReportCliOptions, day: string): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const r = await runReport(
    { inventory: fleet.inventoryPath, knownHosts: fleet.knownHostsPath, timeout: '20', now: `${day}T12:00:00Z`, ...o },
    { stdout: () => undefined, stderr: (t) => void (stderr += t), env: env() },
  );
  return { code: r.code, stderr };
}

/** A host's findings of one day's runs: rule and message. */
async function findingsOf(state: string, host: string, day: string): Promise<string[]> {
  const store = await openReportStore(state, { env: env() });
  try {
    const from = Date.parse(`${day}T00:00:00Z`);
    return (await store.findingsBetween(from, from + 86_400_000))
      .filter((f) => f.host === host && (f.rule === 'baseline' || f.rule === 'attribution'))
      .map((f) => `${f.rule}: ${f.message}`)
      .sort();
  } finally {
    await store.close();
  }
}

describe('baselines from the shared PostgreSQL history', () => {
  const pgState = () => cluster.url('base');
  const sqlite = () => join(dir, 'one.sqlite');
  const sqliteHistory = () => join(dir, 'one-history.sqlite');

  it('a host that moves shard keeps its baseline: the same verdict as one controller with one SQLite history', async () => {
    // Each controller's own local history file, as before the shared history: the controllers of days
    // 1..7 one file, the controller of day 8 another (mailsweep reads $MAILSWEEP_HISTORY at the run).
    process.env.MAILSWEEP_HISTORY = join(dir, 'controller-a.sqlite');
    for (const day of DAYS) {
      writeLogs(day, usual);
      const one = await report({ state: sqlite(), history: sqliteHistory() }, day);
      expect(one.stderr).toBe('');
      // Two controllers at the same moment, each its half of the fleet, writing the same day.
      const shards = await Promise.all(['1/2', '2/2'].map((shard) => report({ state: pgState(), shard, sweep: `S-${day}` }, day)));
      for (const s of shards) expect(s.stderr).toBe('');
    }
    writeLogs(DAY8, day8);
    await report({ state: sqlite(), history: sqliteHistory() }, DAY8);
    process.env.MAILSWEEP_HISTORY = join(dir, 'controller-c.sqlite');
    const moved = await report({ state: pgState(), shard: '2/3', sweep: `S-${DAY8}` }, DAY8);
    expect(moved.stderr).toBe('');

    const want = await findingsOf(sqlite(), MOVER, DAY8);
    expect(want).toEqual(['baseline: carol@example.test: 160 messages today vs 60.0/day over 7 working day(s) (allowed 100)']);
    expect(await findingsOf(pgState(), MOVER, DAY8)).toEqual(want);
    // Every host of shard 2/3 alike (the ones that moved and the ones that did not).
    for (const h of HOSTS.filter((x) => shardOf(x, 3) === 2))
      expect(await findingsOf(pgState(), h, DAY8)).toEqual(await findingsOf(sqlite(), h, DAY8));
  }, 600_000);

  it('shards writing the same days concurrently lost nothing: the shared days and counts are the SQLite history', async () => {
    const h = new HistoryStore(sqliteHistory());
    const c = await cluster.client('base');
    try {
      for (const host of HOSTS) {
        const days = (await c.query<{ day: string }>('SELECT day FROM window_day WHERE host = $1 ORDER BY day DESC', [host])).rows.map(
          (r) => r.day,
        );
        // Hosts outside shard 2/3 were not scanned on day 8 by the sharded runs.
        expect(days).toEqual(h.observedDays(host, '2026-12-01', 100).filter((d) => d !== DAY8 || shardOf(host, 3) === 2));
        for (const account of ['alice@example.test', 'carol@example.test']) {
          const rows = await c.query<{ day: string; messages: number }>(
            'SELECT day, messages FROM account_day WHERE host = $1 AND auth_id = $2 ORDER BY day DESC',
            [host, account],
          );
          expect(rows.rows.map((r) => r.messages)).toEqual(h.userCounts(host, account, days));
        }
      }
    } finally {
      h.close();
      await c.end();
    }
    // The same host and day written by two runs at once (an overlapping retry): merged, not lost.
    const both = await Promise.all([
      report({ state: pgState(), shard: '2/3', sweep: 'S-retry' }, DAY8),
      report({ state: pgState(), sweep: 'S-all' }, DAY8),
    ]);
    for (const b of both) expect(b.stderr).toBe('');
    const c2 = await cluster.client('base');
    const n = await c2.query<{ n: number }>('SELECT count(*)::int AS n FROM account_day WHERE day = $1 AND messages = 160', [DAY8]);
    await c2.end();
    expect(n.rows[0]!.n).toBe(HOSTS.length);
  }, 600_000);

  it('`mailsweep history` on the PostgreSQL state shows what every shard recorded', async () => {
    let out = '';
    const code = await runHistory(
      'carol@example.test',
      { state: pgState(), format: 'json', days: '14', now: `${DAY8}T18:00:00Z` },
      { stdout: (t) => void (out += t), stderr: () => undefined, env: env() },
    );
    expect(code).toBe(0);
    expect(out).toContain(DAYS[0]);
    expect(out).toContain(DAY8);
  });

  it('the HTML page on the PostgreSQL state charts what every controller recorded (report --html and mailsweep html)', async () => {
    const page = join(dir, 'page.html');
    // A controller whose own history file is empty: the page must not depend on it.
    process.env.MAILSWEEP_HISTORY = join(dir, 'controller-d.sqlite');
    const r = await report({ state: pgState(), shard: '1/3', sweep: 'S-html', html: page }, DAY8);
    expect(r.stderr).toBe('');
    const charted = (html: string) => {
      const accounts = html.slice(html.indexOf('<section id="accounts">'));
      expect(accounts).toContain('● sent that day');
      // A host of shard 2/3 (never scanned by this shard 1/3) is charted too: the shared figures.
      expect(accounts).toContain(MOVER);
      expect(accounts).toContain('carol@example.test');
    };
    charted(readFileSync(page, 'utf8'));
    let out = '';
    const io = { stdout: (t: string) => void (out += t), stderr: () => undefined, env: env() };
    expect(await runHtml({ state: pgState(), now: `${DAY8}T18:00:00Z` }, io)).toBe(0);
    charted(out);
    await expect(runHtml({ state: pgState(), history: join(dir, 'h.sqlite') }, io)).rejects.toThrow(/--history .*: with a shared state/);
  }, 300_000);

  it('--history FILE with a PostgreSQL state is a usage error (the shared history wins)', async () => {
    await expect(report({ state: pgState(), history: join(dir, 'local.sqlite') }, DAY8)).rejects.toThrow(ConfigError);
    await expect(report({ state: pgState(), history: join(dir, 'local.sqlite') }, DAY8)).rejects.toThrow(
      /--history .*local\.sqlite: with a shared state .* baselines read their history from the database/,
    );
  });

  it('the database failing during the prefetch: the scan runs, baselines judged without history, said once', async () => {
    writeLogs(DAY9, day8);
    const locker = await cluster.client('base');
    const killer = await cluster.client('base');
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE window_day IN ACCESS EXCLUSIVE MODE');
    // Without a listener on checked-out clients, the cut connection's 'error' event was uncaught (a
    // crash in the CLI, an unhandled error failing this file here).
    const run = report({ state: pgState(), shard: '2/3', sweep: `S-${DAY9}` }, DAY9);
    // The prefetch waits on the lock: its connection is cut there (as a failover or restart would).
    let killed = 0;
    for (let i = 0; i < 200 && !killed; i++) {
      const r = await killer.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE query LIKE '%FROM window_day%' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
      );
      for (const row of r.rows) killed += (await killer.query('SELECT pg_terminate_backend($1)', [row.pid])).rowCount ?? 0;
      if (!killed) await new Promise((res) => setTimeout(res, 100));
    }
    await locker.query('COMMIT');
    await locker.end();
    await killer.end();
    expect(killed).toBe(1);
    const r = await run;
    expect([0, 1, 2]).toContain(r.code);
    // (Later lines: this first shard of a new sweep decides the earlier ones left incomplete.)
    expect(r.stderr.split('\n')[0]).toMatch(
      /^mailsweep: shared history not read \(.+ database unreachable: terminating connection due to administrator command\): baselines judged without history$/,
    );
    expect(r.stderr.match(/shared history/g)?.length).toBe(1);
    const got = await findingsOf(pgState(), MOVER, DAY9);
    expect(got).toContain('baseline: carol@example.test: 160 messages today, no history (allowed 100 for a new account)');
    expect(
      got.some((f) =>
        /^attribution: history store unreadable \(shared history .* not read: .+\): baseline judged without history$/.test(f),
      ),
    ).toBe(true);
    // Today's counts were still recorded: tomorrow's baseline has them.
    const c = await cluster.client('base');
    const w = await c.query('SELECT 1 FROM window_day WHERE host = $1 AND day = $2', [MOVER, DAY9]);
    await c.end();
    expect(w.rowCount).toBe(1);
  }, 300_000);
});
