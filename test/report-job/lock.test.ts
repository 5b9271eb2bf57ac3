// Scheduling: two overlapping report runs never both scan (in one process and across processes
// through the CLI), --wait queues behind the running one, and --deadline ends a run on time with
// a hung host reported unfinished.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportCliOptions } from '../../src/commands/report-options.js';
import { runReport } from '../../src/commands/report.js';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { replayFrom } from '../../src/demo/replay.js';

let dir: string;
let fleet: FakeFleet;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ms-report-lock-'));
  fleet = await startFakeFleet(dir, [
    { name: 'hung.example.net', mode: 'hang-command', tools: [] },
    { name: 'quiet.example.net', mode: 'normal', tools: [], replay: replayFrom('test/fixtures/lab/bookworm-exim-quiet') },
  ]);
}, 30_000);
afterAll(() => fleet?.close());

const quiet = () => fleet.hosts[1]!.connections();

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), env: process.env }, out, err };
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('report run lock and deadline (in process)', () => {
  it('a second run while one is scanning exits 3 at once without scanning; the first ends at its deadline', async () => {
    const state = join(dir, 'a.sqlite');
    const o: ReportCliOptions = {
      inventory: fleet.inventoryPath,
      knownHosts: fleet.knownHostsPath,
      state,
      history: false,
      timeout: '10',
      deadline: '3s',
    };
    const before = quiet();
    const a = capture();
    const t0 = Date.now();
    const first = runReport(o, a.io);
    await until(() => existsSync(`${state}.lock.owner`), 10_000);
    const b = capture();
    const t1 = Date.now();
    const second = await runReport(o, b.io);
    expect(Date.now() - t1).toBeLessThan(1500);
    expect(second).toMatchObject({ code: 3, scanned: false });
    expect(b.err.join('')).toMatch(
      new RegExp(
        `^mailsweep: another report run holds the lock .*a\\.sqlite\\.lock \\(pid ${process.pid} on .*\\); not scanning \\(use --wait to run after it\\)\\n$`,
      ),
    );
    expect(b.out).toEqual([]);

    const r = await first;
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(6000);
    expect(r).toMatchObject({ code: 0, scanned: true, unfinished: ['hung.example.net'] });
    expect(a.err.join('')).toBe('mailsweep: run deadline (3s) reached: 1 host(s) unfinished: hung.example.net\n');
    expect(a.out).toEqual([]);
    // Only the first run connected to the host.
    expect(quiet() - before).toBe(1);
    const db = new Database(state, { readonly: true });
    const rows = db.prepare('SELECT host, status, reason FROM run_hosts ORDER BY host').all();
    const runs = db.prepare('SELECT count(*) AS n, max(unfinished) AS u FROM runs').get();
    db.close();
    expect(rows).toEqual([
      { host: 'hung.example.net', status: 'unfinished', reason: 'still scanning at the run deadline (3s)' },
      { host: 'quiet.example.net', status: 'ok', reason: null },
    ]);
    expect(runs).toEqual({ n: 1, u: 1 });
    // The lock is free again.
    expect((await runReport({ ...o, limit: 'quiet.example.net' }, capture().io)).scanned).toBe(true);
  }, 30_000);

  it('a killed run leaves no stale lock (the OS drops it with the process)', async () => {
    const state = join(dir, 'killed.sqlite');
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D=require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});const d=new D(${JSON.stringify(`${state}.lock`)});d.exec('BEGIN EXCLUSIVE');console.log('held');setInterval(()=>{},1000)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((r) => holder.stdout!.once('data', r));
    const o: ReportCliOptions = {
      inventory: fleet.inventoryPath,
      knownHosts: fleet.knownHostsPath,
      state,
      history: false,
      limit: 'quiet.example.net',
    };
    expect((await runReport(o, capture().io)).code).toBe(3);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    expect((await runReport(o, capture().io)).scanned).toBe(true);
  }, 30_000);
});

function cli(args: string[]): { done: Promise<{ code: number | null; out: string; err: string; ms: number }> } {
  const t = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'report', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err, ms: Date.now() - t }))) };
}

describe('report run lock across processes (the CLI, as cron and systemd start it)', () => {
  it('second process exits 3 at once; with --wait a third runs after the first; only two scans happen', async () => {
    const state = join(dir, 'cli.sqlite');
    const common = [
      '-i',
      fleet.inventoryPath,
      '--known-hosts',
      fleet.knownHostsPath,
      '--state',
      state,
      '--no-history',
      '--now',
      '2026-11-23T09:00:00Z',
    ];
    const before = quiet();
    const a = cli([...common, '--deadline', '6s', '--timeout', '30']);
    await until(() => existsSync(`${state}.lock.owner`), 20_000);
    const b = await cli([...common, '--limit', 'quiet.example.net']).done;
    expect(b.code).toBe(3);
    expect(b.ms).toBeLessThan(10_000); // node + tsx start-up; no waiting for the first run
    expect(b.out).toBe('');
    expect(b.err).toMatch(
      /^mailsweep: another report run holds the lock .*cli\.sqlite\.lock \(pid \d+ on .*, started 2026-11-23T09:00:00\.000Z\); not scanning/,
    );
    const c = cli([...common, '--limit', 'quiet.example.net', '--wait']);
    const ra = await a.done;
    expect(ra.code).toBe(0);
    // Ends at its deadline although the hung command alone would hold the host for 30 s.
    expect(ra.ms).toBeGreaterThanOrEqual(6000);
    expect(ra.ms).toBeLessThan(6000 + 8000);
    expect(ra.err).toBe('mailsweep: run deadline (6s) reached: 1 host(s) unfinished: hung.example.net\n');
    expect(ra.out).toBe('');
    const rc = await c.done;
    expect(rc).toMatchObject({ code: 0, out: '', err: '' });
    expect(quiet() - before).toBe(2);
  }, 90_000);
});
