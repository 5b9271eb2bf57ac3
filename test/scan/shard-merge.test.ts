// Issue #12, deliverables 1–2: `--shard K/N` (a stable split by a hash of the host name, K also
// from the environment) and `mailsweep merge` (shard reports as one fleet report, same schema).
// The sharded sweep is the real CLI, four processes at once against one fake SSH fleet; merged,
// it equals the unsharded scan; `report --from-scan` on the shards sends one alert per account.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReport } from '../../src/commands/report.js';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { parseShard, resolveShard, shardHosts, shardOf } from '../../src/inventory/shard.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { mergeReports } from '../../src/scan/merge.js';
import type { ScanReport } from '../../src/scan/types.js';
import { recordedFleet } from './fleet-helpers.js';

const exec = promisify(execFile);

describe('--shard K/N', () => {
  it.each([
    ['1/1', { index: 1, count: 1 }],
    ['2/4', { index: 2, count: 4 }],
    [' 4 / 4 ', { index: 4, count: 4 }],
  ])('%j → %j', (text, want) => expect(parseShard(text, '--shard')).toEqual(want));

  it.each(['0/4', '5/4', '1/0', '2', 'a/b', '-1/4', '1/10001', '1.5/4', ''])('%j is refused, naming the form', (text) =>
    expect(() => parseShard(text, '--shard')).toThrow(/--shard: expected K\/N, shard K of N with 1 ≤ K ≤ N ≤ 10000 \(e\.g\. 2\/4\)/),
  );

  it('the flag, then MAILSWEEP_SHARD, then a Kubernetes Indexed Job (0-based index) with MAILSWEEP_SHARDS', () => {
    expect(resolveShard(undefined, {})).toBeUndefined();
    expect(resolveShard('1/2', { MAILSWEEP_SHARD: '2/2' })).toEqual({ index: 1, count: 2 });
    expect(resolveShard(undefined, { MAILSWEEP_SHARD: '2/3', JOB_COMPLETION_INDEX: '0', MAILSWEEP_SHARDS: '5' })).toEqual({
      index: 2,
      count: 3,
    });
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '0', MAILSWEEP_SHARDS: '4' })).toEqual({ index: 1, count: 4 });
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '3', MAILSWEEP_SHARDS: '4' })).toEqual({ index: 4, count: 4 });
    // Any Indexed Job sets JOB_COMPLETION_INDEX: alone it does not shard.
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '3' })).toBeUndefined();
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: '4', MAILSWEEP_SHARDS: '4' })).toThrow(
      /JOB_COMPLETION_INDEX=4 is not below MAILSWEEP_SHARDS=4/,
    );
    expect(() => resolveShard(undefined, { MAILSWEEP_SHARDS: '4' })).toThrow(/needs this worker's index: JOB_COMPLETION_INDEX/);
    expect(() => resolveShard(undefined, { MAILSWEEP_SHARDS: 'four', JOB_COMPLETION_INDEX: '0' })).toThrow(/MAILSWEEP_SHARDS: expected/);
    expect(() => resolveShard(undefined, { MAILSWEEP_SHARD: '9/4' })).toThrow(/^MAILSWEEP_SHARD: expected K\/N/);
  });

  const names = Array.from({ length: 200 }, (_, i) => `mx${i + 1}.dc${(i % 3) + 1}.example.net`);
  const specs = (ns: string[]) => ns.map((name) => ({ name }) as HostSpec);

  it('every host in exactly one shard, whatever the inventory order; adding a host moves only that host', () => {
    const of = (ns: string[]) =>
      new Map([1, 2, 3, 4].flatMap((k) => shardHosts(specs(ns), { index: k, count: 4 }).map((h) => [h.name, k] as const)));
    const before = of(names);
    expect(before.size).toBe(200);
    const shuffled = [...names].sort((a, b) => shardOf(a, 97) - shardOf(b, 97) || b.localeCompare(a));
    expect(of(shuffled)).toEqual(before);
    const after = of([...names.slice(0, 100), 'new-mx.dc9.example.net', ...names.slice(100)]);
    expect(after.size).toBe(201);
    for (const [n, k] of before) expect(after.get(n)).toBe(k);
    // Roughly even: no shard of 200 hosts under 30 or over 70.
    for (const k of [1, 2, 3, 4]) expect([...before.values()].filter((x) => x === k).length).toBeGreaterThanOrEqual(30);
    for (const k of [1, 2, 3, 4]) expect([...before.values()].filter((x) => x === k).length).toBeLessThanOrEqual(70);
  });

  it('the split is pinned: a release that reshuffled hosts would move them between running workers', () => {
    expect(['mx1.dc1.example.net', 'mx2.dc1.example.net', 'mx3.dc1.example.net', 'mx5.dc1.example.net'].map((n) => shardOf(n, 4))).toEqual([
      2, 4, 1, 3,
    ]);
  });
});

const report = (hosts: Partial<ScanReport['hosts'][number]>[], extra: Partial<ScanReport> = {}): string =>
  JSON.stringify({
    version: 1,
    startedAt: '2026-11-30T10:00:00.000Z',
    finishedAt: '2026-11-30T10:00:05.000Z',
    hosts: hosts.map((h) => ({
      address: '127.0.0.1',
      mta: 'exim',
      queue: { total: 1 },
      findings: [],
      thresholds: { warn: 75, crit: 100 },
      durationMs: 1,
      status: 'ok',
      ...h,
    })),
    summary: {},
    ...extra,
  });

describe('merge: what it refuses', () => {
  it.each([
    ['not JSON', [{ file: 'a.json', text: '{' }], /^a\.json: not JSON/],
    ['not a scan report', [{ file: 'a.json', text: '{"hosts":[]}' }], /^a\.json: version: not a mailsweep scan report \(version 1\)/],
    ['a bad host status', [{ file: 'a.json', text: report([{ name: 'mx1', status: 'fine' as never }]) }], /^a\.json: hosts\.0\.status: /],
    [
      'a host in two reports',
      [
        { file: 'a.json', text: report([{ name: 'mx1' }]) },
        { file: 'b.json', text: report([{ name: 'mx1' }]) },
      ],
      /host "mx1" is in both a\.json and b\.json/,
    ],
    [
      'sharded and unsharded together',
      [
        { file: 'a.json', text: report([{ name: 'mx1' }], { shard: { index: 1, count: 2 } }) },
        { file: 'b.json', text: report([{ name: 'mx2' }]) },
      ],
      /a\.json is shard 1\/2 but b\.json is not sharded/,
    ],
    [
      'two sweeps',
      [
        { file: 'a.json', text: report([{ name: 'mx1' }], { shard: { index: 1, count: 2 } }) },
        { file: 'b.json', text: report([{ name: 'mx2' }], { shard: { index: 2, count: 3 } }) },
      ],
      /b\.json is shard 2\/3, a\.json one of 2: not one sweep/,
    ],
    [
      'one shard twice',
      [
        { file: 'a.json', text: report([{ name: 'mx1' }], { shard: { index: 1, count: 2 } }) },
        { file: 'b.json', text: report([{ name: 'mx2' }], { shard: { index: 1, count: 2 } }) },
      ],
      /a\.json and b\.json are both shard 1\/2/,
    ],
    [
      'a missing shard',
      [{ file: 'a.json', text: report([{ name: 'mx1' }], { shard: { index: 1, count: 3 } }) }],
      /shards 2, 3 of 3 missing: their hosts would be absent from the fleet report \(--partial merges anyway\)/,
    ],
    ['nothing', [], /name at least one scan report/],
  ])('%s', (_what, inputs, message) => expect(() => mergeReports(inputs)).toThrow(message));

  it('--partial merges a sweep with a shard missing, and an all-OK fleet is then UNKNOWN (3), not OK', () => {
    const m = mergeReports([{ file: 'a.json', text: report([{ name: 'mx1' }], { shard: { index: 1, count: 2 } }) }], { partial: true });
    expect(m.merged).toEqual({ reports: 1, shards: { count: 2, missing: [2] } });
    expect(m.summary.exitCode).toBe(3);
  });
});

describe('a sharded sweep through the real CLI against one fake fleet', () => {
  let fleet: FakeFleet;
  let dir: string;
  const hijacked = ['mx1.dc1.example.net', 'mx2.dc1.example.net', 'mx3.dc1.example.net', 'mx5.dc1.example.net'];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ms-shard-'));
    const entries = recordedFleet(hijacked, 20);
    fleet = await startFakeFleet(dir, entries);
  }, 60_000);
  afterAll(async () => void (await fleet?.close()));

  const scan = (out: string, extra: string[], env: NodeJS.ProcessEnv = {}) =>
    exec(
      process.execPath,
      [
        'dist/cli.js',
        'scan',
        '-i',
        fleet.inventoryPath,
        '--known-hosts',
        fleet.knownHostsPath,
        '--no-history',
        '--format',
        'json',
        '-o',
        out,
        '-t',
        '20',
        ...extra,
      ],
      { env: { ...process.env, CI: 'true', ...env } },
    ).catch((e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));

  it('four shards at once (flag, MAILSWEEP_SHARD, Indexed Job env), merged, equal the unsharded scan; report --from-scan: one alert per account', async () => {
    // The hijacked hosts fall in different shards, so only the merge sees bob on all four.
    expect(new Set(hijacked.map((h) => shardOf(h, 4))).size).toBe(4);
    const files = [1, 2, 3, 4].map((k) => join(dir, `shard-${k}.json`));
    await Promise.all([
      scan(files[0]!, ['--shard', '1/4']),
      scan(files[1]!, [], { MAILSWEEP_SHARD: '2/4' }),
      scan(files[2]!, [], { JOB_COMPLETION_INDEX: '2', MAILSWEEP_SHARDS: '4' }),
      scan(files[3]!, ['--shard', '4/4']),
      scan(join(dir, 'whole.json'), []),
    ]);
    const shards = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as ScanReport);
    expect(shards.map((s) => s.shard)).toEqual([1, 2, 3, 4].map((index) => ({ index, count: 4 })));
    expect(shards.reduce((n, s) => n + s.hosts.length, 0)).toBe(25);
    // Each shard alone sees bob on one host at most.
    for (const s of shards) expect(s.summary.suspects.filter((x) => x.authId === 'bob@example.test').length).toBeLessThanOrEqual(1);

    const merged = join(dir, 'merged.json');
    const m = await exec(process.execPath, ['dist/cli.js', 'merge', ...files, '--format', 'json', '-o', merged]).catch(
      (e: { code: number }) => e,
    );
    expect((m as { code?: number }).code).toBe(2); // a critical host: scan's exit code, recomputed
    const got = JSON.parse(readFileSync(merged, 'utf8')) as ScanReport;
    const whole = JSON.parse(readFileSync(join(dir, 'whole.json'), 'utf8')) as ScanReport;
    expect(got.merged).toEqual({ reports: 4, shards: { count: 4, missing: [] } });
    expect(got.hosts.map((h) => h.name).sort()).toEqual(whole.hosts.map((h) => h.name).sort());
    const key = (r: ScanReport) => r.summary.suspects.map((s) => `${s.host} ${s.authId} ${s.score} ${s.messages}`);
    expect(key(got)).toEqual(key(whole));
    const { suspects: _a, ...gotSummary } = got.summary;
    const { suspects: _b, ...wholeSummary } = whole.summary;
    expect(gotSummary).toEqual(wholeSummary);
    const state = (r: ScanReport) =>
      Object.fromEntries(r.hosts.map((h) => [h.name, [h.status, h.queue?.total, h.findings.map((f) => f.rule).sort()]]));
    expect(state(got)).toEqual(state(whole));
    // The table of the merge reads like a scan's.
    const table = await exec(process.execPath, ['dist/cli.js', 'merge', ...files]).catch((e: { stdout: string }) => e);
    expect((table as { stdout: string }).stdout).toMatch(/25 hosts: 24 scanned \(4 critical, 0 warning\), 1 failed \(1 unreachable\)/);

    // Alerting on the shards: one notice for bob, listing all four hosts.
    const out: string[] = [];
    const r = await runReport(
      { fromScan: files, state: join(dir, 'report.sqlite'), now: '2026-11-30T10:00:00Z' },
      { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), env: {} },
    );
    const bob = r.notices.filter((n) => n.incident.subject === 'bob@example.test');
    expect(bob).toHaveLength(1);
    expect(bob[0]!.incident.hosts.sort()).toEqual([...hijacked].sort());
    expect(r.code).toBe(2);
  }, 120_000);

  it('an empty shard is a clean no-op: no host, exit 0, the shard named', async () => {
    const one = join(dir, 'one.yaml');
    writeFileSync(one, readFileSync(fleet.inventoryPath, 'utf8').replace(/^( {8})(?!mx1\.dc1)[\w.]+:\n(\1  .*\n)+/gm, ''));
    expect(readFileSync(one, 'utf8')).toContain('mx1.dc1.example.net');
    expect(readFileSync(one, 'utf8')).not.toContain('quiet1');
    const out = join(dir, 'empty.json');
    const r = await exec(
      process.execPath,
      ['dist/cli.js', 'scan', '-i', one, '--shard', '1/4', '--format', 'json', '-o', out, '--no-history'],
      {
        env: { ...process.env, CI: 'true' },
      },
    );
    expect(r.stderr).toBe('');
    const j = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
    expect(j).toMatchObject({ shard: { index: 1, count: 4 }, hosts: [], summary: { hosts: 0, exitCode: 0 } });
  });

  it('a bad --shard is exit 3 with the form, before anything connects', async () => {
    const e = (await exec(process.execPath, ['dist/cli.js', 'scan', '-i', fleet.inventoryPath, '--shard', '5/4']).catch((x) => x)) as {
      code: number;
      stderr: string;
    };
    expect(e.code).toBe(3);
    expect(e.stderr).toMatch(/--shard: expected K\/N/);
  });
});

describe('contrib/kubernetes/mailsweep-sweep.yaml', () => {
  it('is two CronJobs (an Indexed sweep of 4, then the alerts) whose mailsweep commands use only flags that exist', async () => {
    const { parseAllDocuments } = await import('yaml');
    const { buildProgram } = await import('../../src/program.js');
    const docs = parseAllDocuments(readFileSync('contrib/kubernetes/mailsweep-sweep.yaml', 'utf8')).map(
      (d) => d.toJS() as Record<string, any>,
    );
    expect(docs.map((d) => [d.kind, d.metadata.name])).toEqual([
      ['CronJob', 'mailsweep-sweep'],
      ['CronJob', 'mailsweep-alerts'],
    ]);
    const sweep = docs[0]!.spec.jobTemplate.spec;
    expect(sweep).toMatchObject({ completionMode: 'Indexed', completions: 4 });
    expect(sweep.template.spec.containers[0].env).toEqual([{ name: 'MAILSWEEP_SHARDS', value: '4' }]);
    const program = buildProgram();
    const commands = docs.flatMap((d) => d.spec.jobTemplate.spec.template.spec.containers[0].args as string[]);
    const used = commands.flatMap((c) => [...c.matchAll(/mailsweep (\w+)((?: (?:--?[\w-]+|"[^"]*"[^\s;]*|[^\s;]+))*)/g)]);
    expect(used.map((m) => m[1])).toEqual(['scan', 'report']);
    for (const m of used) {
      const cmd = program.commands.find((c) => c.name() === m[1])!;
      for (const flag of m[2]!.split(/\s+/).filter((w) => /^--?[a-z]/.test(w)))
        expect(
          cmd.options.some((o) => o.long === flag || o.short === flag || o.long === flag.replace(/^--no-/, '--')),
          `${m[1]} ${flag}`,
        ).toBe(true);
    }
  });
});
