// The ReportStore contract, one table of cases run against both stores: SQLite (a temp file) and
// PostgreSQL (a real server: a throwaway cluster of this file, cluster.ts). Then what only the
// shared store has: concurrent writers, the sweep rounds, migrations and URL errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReportStore } from '../../src/alerts/open-store.js';
import { PG_SCHEMA_VERSION } from '../../src/alerts/postgres-schema.js';
import { PRUNE_BATCH } from '../../src/alerts/postgres-queries.js';
import { PostgresReportStore } from '../../src/alerts/postgres-store.js';
import { SqliteReportStore } from '../../src/alerts/sqlite-store.js';
import { parsePostgresUrl } from '../../src/alerts/state-url.js';
import type { AccountDayRow, Incident, Notice, ReportStore } from '../../src/alerts/store.js';
import { isShared, type SharedStore } from '../../src/alerts/sweep.js';
import type { HostReport } from '../../src/scan/types.js';
import { PASSWORD, startCluster, type PgCluster } from './cluster.js';

const DAY = 86_400_000;
const env = { PGPASSWORD: PASSWORD };
let cluster: PgCluster;
let dbs = 0;
const tmp = mkdtempSync(join(tmpdir(), 'ms-contract-'));

beforeAll(async () => {
  cluster = await startCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

async function freshUrl(): Promise<string> {
  const name = `contract_${++dbs}`;
  await cluster.createDb(name);
  return cluster.url(name);
}
const freshPg = async (): Promise<ReportStore> => openReportStore(await freshUrl(), { env });

const STORES: [string, () => Promise<ReportStore>][] = [
  ['sqlite', async () => new SqliteReportStore(join(mkdtempSync(join(tmp, 'sqlite-')), 'r.sqlite'))],
  ['postgres', freshPg],
];

const incident: Omit<Incident, 'id'> = {
  key: 'account:bob@x.test',
  kind: 'account',
  subject: 'bob@x.test',
  severity: 'critical',
  openedAt: 1000,
  lastSeenAt: 1000,
  lastNotifiedAt: 1000,
  resolvedAt: null,
  hosts: ['mx1', 'mx2'],
  evidence: [
    {
      host: 'mx1',
      severity: 'critical',
      rules: ['sender-mismatch'],
      messages: ['m\u202e'],
      senderDomains: [
        ['zz.test', 9],
        ['aa.test', 1],
      ],
    },
  ],
};
const notice = (id: number): Notice => ({ status: 'firing', reason: 'new', at: 1000, incident: { id, ...incident } });
const day = (authId: string, d: string, messages: number, ips: string[]): AccountDayRow => ({
  host: 'mx1',
  authId,
  day: d,
  messages,
  recipients: messages * 2,
  failures: 0,
  clientIps: ips,
  ipsTruncated: false,
  senderDomains: { 'b.test': messages, 'a.test': 1 },
});

type Case = [string, (s: ReportStore) => Promise<void>];
const CASES: Case[] = [
  [
    'runs: begin, hosts (a rerun of a host replaces it), findings, finish; newest first',
    async (s) => {
      const a = await s.beginRun(1000);
      const b = await s.beginRun(2000);
      expect(b).toBeGreaterThan(a);
      const q = { total: 120, frozen: 0, bounces: 3, oldestAgeSec: 60, reportedTotal: null } as unknown as NonNullable<
        Parameters<ReportStore['recordHosts']>[1][number]['queue']
      >;
      await s.recordHosts(a, [
        { host: 'mx2', status: 'ok', mta: 'exim', queue: q, durationMs: 12.6 },
        { host: 'mx1', status: 'unreachable', reason: 'ECONNREFUSED', mta: null, queue: null, durationMs: 3 },
      ]);
      await s.recordHosts(a, [{ host: 'mx1', status: 'timeout', reason: 'slow', mta: null, queue: null, durationMs: 4 }]);
      expect(await s.runHosts(a)).toEqual([
        { host: 'mx1', status: 'timeout', reason: 'slow', mta: null, queue: null, durationMs: 4 },
        { host: 'mx2', status: 'ok', mta: 'exim', queue: q, durationMs: 13 },
      ]);
      await s.recordFindings(a, [
        { fingerprint: 'f2', host: 'mx2', subject: 'bob', rule: 'volume', severity: 'critical', message: 'many' },
        { fingerprint: 'f1', host: 'mx2', subject: '', rule: 'queue-size', severity: 'warning', message: 'q' },
      ]);
      expect((await s.runFindings(a)).map((f) => f.fingerprint)).toEqual(['f1', 'f2']);
      await s.finishRun(a, { finishedAt: 1500, exitCode: 2, unfinished: 1, channelErrors: { hook: 'HTTP 500' } });
      const runs = await s.runs(10);
      expect(runs.map((r) => r.id)).toEqual([b, a]);
      expect(runs[1]).toEqual({
        id: a,
        startedAt: 1000,
        finishedAt: 1500,
        hosts: 2,
        unfinished: 1,
        exitCode: 2,
        channelErrors: { hook: 'HTTP 500' },
      });
      expect(await s.hostQueueSeries(0)).toEqual([
        { host: 'mx1', at: 1000, status: 'timeout', total: null },
        { host: 'mx2', at: 1000, status: 'ok', total: 120 },
      ]);
      expect((await s.hostRuns(0, 1500)).map((h) => [h.runId, h.host])).toEqual([
        [a, 'mx1'],
        [a, 'mx2'],
      ]);
      expect((await s.findingsBetween(0, 1500)).map((f) => [f.runId, f.startedAt, f.rule])).toEqual([
        [a, 1000, 'queue-size'],
        [a, 1000, 'volume'],
      ]);
      expect((await s.runsBetween(1500, 3000)).map((r) => r.id)).toEqual([b]);
    },
  ],
  [
    'incidents: create, update, one open per key, resolved ones kept; text and key order survive',
    async (s) => {
      const id = await s.createIncident(incident);
      const [open] = await s.openIncidents();
      expect(open).toEqual({ id, ...incident });
      expect(Object.keys(open!.evidence[0]!)).toEqual(Object.keys(incident.evidence[0]!));
      // A second open incident for the key is never created (SQLite: refused; PostgreSQL: joined).
      await s.createIncident({ ...incident, lastSeenAt: 2000 }).catch((e: Error) => expect(e.message).toMatch(/UNIQUE/));
      expect((await s.openIncidents()).length).toBe(1);
      await s.updateIncident({ ...open!, resolvedAt: 3000, lastSeenAt: 3000 });
      expect(await s.openIncidents()).toEqual([]);
      const again = await s.createIncident({ ...incident, openedAt: 4000 });
      expect(again).not.toBe(id);
      expect((await s.incidents()).map((i) => [i.id, i.resolvedAt])).toEqual([
        [id, 3000],
        [again, null],
      ]);
    },
  ],
  [
    'outbox: pending oldest first per channel; markFailed counts and keeps; markSent removes',
    async (s) => {
      await s.enqueue('mail', notice(1), 10);
      await s.enqueue('hook', notice(1), 11);
      await s.enqueue('mail', notice(2), 12);
      const mail = await s.pending('mail');
      expect(mail.map((p) => p.notice.incident.id)).toEqual([1, 2]);
      expect(mail[0]).toMatchObject({ channel: 'mail', createdAt: 10, attempts: 0, lastError: null });
      await s.markFailed(mail[0]!.id, 'HTTP 503', 20);
      expect((await s.pending('mail'))[0]).toMatchObject({ attempts: 1, lastError: 'HTTP 503' });
      await s.markSent(mail[0]!.id, 30);
      expect((await s.pending()).map((p) => [p.channel, p.notice.incident.id])).toEqual([
        ['hook', 1],
        ['mail', 2],
      ]);
    },
  ],
  [
    'prune: old runs (their hosts and findings), resolved incidents, delivered notices; never pending or open',
    async (s) => {
      const old = await s.beginRun(0);
      await s.recordHosts(old, [{ host: 'mx1', status: 'ok', mta: 'exim', queue: null, durationMs: 1 }]);
      await s.recordFindings(old, [{ fingerprint: 'f', host: 'mx1', subject: '', rule: 'queue-size', severity: 'warning', message: 'm' }]);
      await s.beginRun(100 * DAY);
      const openId = await s.createIncident(incident);
      await s.createIncident({ ...incident, resolvedAt: DAY });
      await s.enqueue('mail', notice(openId), 0);
      await s.enqueue('hook', notice(openId), 0);
      const [sent] = await s.pending('mail');
      await s.markSent(sent!.id, 0);
      await s.recordAccountDays('mx1', [day('bob', '1970-01-02', 1, [])]);
      expect(await s.prune(10 * DAY)).toEqual({ runs: 1, accountDays: 1, incidents: 1, notices: 1 });
      expect(await s.runFindings(old)).toEqual([]);
      expect(await s.runHosts(old)).toEqual([]);
      expect((await s.runs(10)).length).toBe(1);
      expect((await s.openIncidents()).map((i) => i.id)).toEqual([openId]);
      expect((await s.pending()).map((p) => p.channel)).toEqual(['hook']);
    },
  ],
  [
    'account days merge (max counts, joined IPs), window days, queue shapes (last snapshot of a day)',
    async (s) => {
      await s.recordAccountDays('mx1', [day('bob', '2026-11-23', 5, ['192.0.2.1'])]);
      await s.recordAccountDays('mx1', [day('bob', '2026-11-23', 3, ['192.0.2.2'])]);
      await s.recordWindowDays('mx1', ['2026-11-23', '2026-11-23', '2026-11-24']);
      const [d] = await s.accountDays('2026-11-01', '2026-11-30');
      expect(d).toMatchObject({ messages: 5, recipients: 10, clientIps: ['192.0.2.1', '192.0.2.2'], ipsTruncated: false });
      expect(Object.keys(d!.senderDomains)).toEqual(['b.test', 'a.test']);
      expect(await s.windowDays('2026-11-01', '2026-11-30')).toEqual([
        { host: 'mx1', day: '2026-11-23' },
        { host: 'mx1', day: '2026-11-24' },
      ]);
      const row = (total: number) => [{ domain: 'a.test', total, buckets: [total, 0, 0, 0, 0, 0, 0, 0, 0, 0], unknownAge: 0 }];
      const r1 = await s.beginRun(Date.parse('2026-11-23T08:00:00Z'));
      const r2 = await s.beginRun(Date.parse('2026-11-23T20:00:00Z'));
      await s.recordQueueShape(r1, 'mx1', row(1), { bob: 1 });
      await s.recordQueueShape(r2, 'mx1', row(2), { bob: 2 });
      expect(await s.queueShapes(r1, 'mx1')).toEqual([]);
      expect(await s.queueShapes(r2)).toEqual(row(2));
      expect((await s.queueAccounts(0, Date.parse('2026-11-25T00:00:00Z'))).map((q) => [q.runId, q.authId, q.queued])).toEqual([
        [r1, 'bob', 1],
        [r2, 'bob', 2],
      ]);
    },
  ],
];

describe.each(STORES)('ReportStore contract: %s', (_name, open) => {
  it.each(CASES)('%s', async (_title, body) => {
    const s = await open();
    try {
      await body(s);
    } finally {
      await s.close();
    }
  });
});

describe('PostgreSQL store', () => {
  it('migrates a fresh database to the current version once, even when several controllers open it at once', async () => {
    await cluster.createDb('migrate_race');
    const stores = await Promise.all(Array.from({ length: 5 }, () => openReportStore(cluster.url('migrate_race'), { env })));
    await Promise.all(stores.map((s) => s.close()));
    const c = await cluster.client('migrate_race');
    expect((await c.query('SELECT version FROM schema_version')).rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
    await c.end();
  });

  it('refuses a schema written by a newer mailsweep, naming both versions, without the password', async () => {
    await cluster.createDb('newer');
    await (await openReportStore(cluster.url('newer'), { env })).close();
    const c = await cluster.client('newer');
    await c.query('UPDATE schema_version SET version = $1', [PG_SCHEMA_VERSION + 1]);
    await c.end();
    const url = cluster.url('newer').replace('mailsweep@', `mailsweep:${PASSWORD}@`);
    const err = await openReportStore(url, {}).catch((e: Error & { exitCode?: number }) => e);
    expect((err as Error).message).toBe(
      `report state postgres://mailsweep@127.0.0.1:${cluster.port}/newer: schema version ${PG_SCHEMA_VERSION + 1} was written by a newer mailsweep (this one knows ${PG_SCHEMA_VERSION}); upgrade mailsweep or use another --state database`,
    );
    expect((err as { exitCode?: number }).exitCode).toBe(3);
  });

  it.each([
    ['a wrong password', (u: string) => u, { PGPASSWORD: 'wrong-password-1234' }, /password authentication failed/],
    ['no such database', (u: string) => u.replace(/\/[^/]+$/, '/nope'), env, /database "nope" does not exist/],
    ['nothing listening', (u: string) => u.replace(/:\d+\//, ':1/'), env, /database unreachable: .*ECONNREFUSED/],
  ])('%s: a clear error, exit 3, no password in it', async (_t, edit, e, want) => {
    await cluster.createDb(`err_${++dbs}`);
    const err = (await openReportStore(edit(cluster.url(`err_${dbs}`)), { env: e }).catch((x: unknown) => x)) as Error & {
      exitCode: number;
    };
    expect(err.message).toMatch(/^report state postgres:\/\/mailsweep@127\.0\.0\.1:\d+\/\w+: /);
    expect(err.message).toMatch(want);
    expect(err.message).not.toContain(e.PGPASSWORD);
    expect(err.exitCode).toBe(3);
  });

  it('concurrent writers: 8 controllers merging the same account day lose no update; prune goes in batches', async () => {
    const url = await freshUrl();
    const s = await openReportStore(url, { env });
    const others = await Promise.all(Array.from({ length: 8 }, () => openReportStore(url, { env })));
    await Promise.all(others.map((o, i) => o.recordAccountDays('mx1', [day('bob', '2026-11-23', i + 1, [`192.0.2.${i + 1}`])])));
    await Promise.all(others.map((o) => o.close()));
    const [d] = await s.accountDays('2026-11-23', '2026-11-23');
    expect(d!.messages).toBe(8);
    expect([...d!.clientIps].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 1}`).sort());
    // More runs than one batch: all of them go.
    for (let i = 0; i < PRUNE_BATCH.runs * 2 + 3; i++) await s.beginRun(i);
    expect((await s.prune(10 * DAY)).runs).toBe(PRUNE_BATCH.runs * 2 + 3);
    await s.close();
  });

  it('sweep rounds: decided once, by the shard that completes it; a rerun opens a new round; a dead shard is decided later with what is there', async () => {
    const s = (await freshPg()) as SharedStore;
    expect(isShared(s)).toBe(true);
    const rep = (name: string) => ({ name, status: 'ok', findings: [] }) as unknown as HostReport;
    const record = (sweep: string, k: number, n: number, at: number, stale?: number) =>
      s.alerting((a) => a.recordShard(sweep, { index: k, count: n }, 0, at, [rep(`mx${k}`)], stale));
    // Three shards at once: exactly one of them gets the round, with every shard's hosts.
    const got = await Promise.all([1, 2, 3].map((k) => record('S1', k, 3, 100)));
    const rounds = got.flat();
    expect(rounds.length).toBe(1);
    expect(rounds[0]).toMatchObject({ sweep: 'S1', count: 3, missing: [] });
    expect(rounds[0]!.reports.map((r) => r.name)).toEqual(['mx1', 'mx2', 'mx3']);
    // A shard run again: a new round of S1, complete only when every shard has recorded again.
    expect(await record('S1', 2, 3, 150)).toEqual([]);
    // Shard 3 of S2 never comes: nothing to decide, until a later sweep's first shard claims it.
    expect(await record('S2', 1, 3, 200)).toEqual([]);
    expect(await record('S2', 2, 3, 200)).toEqual([]);
    const later = await record('S3', 1, 3, 300, 300);
    expect(later.map((r) => [r.sweep, r.missing, r.reports.length])).toEqual([
      ['S1', [1, 3], 1],
      ['S2', [3], 2],
    ]);
    // --finish-sweep on what is left of S3; then nothing remains.
    expect((await s.alerting((a) => a.claimSweep('S3', 400)))?.missing).toEqual([2, 3]);
    expect(await s.alerting((a) => a.claimSweep('S3', 400))).toBeNull();
    await s.close();
  });

  it('the alerting lock: a second controller waits until the first one is done', async () => {
    const s = (await freshPg()) as SharedStore;
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = s.alerting(async () => {
      order.push('first in');
      await gate;
      order.push('first out');
    });
    await new Promise((r) => setTimeout(r, 100));
    const second = s.alerting(async () => void order.push('second in'));
    await new Promise((r) => setTimeout(r, 300));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
    await s.close();
  });

  it('one run per shard: a second controller cannot take a shard while the first holds it; its end frees it', async () => {
    const url = await freshUrl();
    const [a, b] = (await Promise.all([openReportStore(url, { env }), openReportStore(url, { env })])) as SharedStore[];
    expect(await a!.tryShardLock('2/4')).toBe(true);
    expect(await b!.tryShardLock('2/4')).toBe(false);
    expect(await b!.tryShardLock('3/4')).toBe(true);
    await a!.close();
    // The server drops the lock when it has ended the session: a moment after the client hung up.
    const c = (await openReportStore(url, { env })) as SharedStore;
    let freed = false;
    for (let i = 0; i < 50 && !(freed = await c.tryShardLock('2/4')); i++) await new Promise((r) => setTimeout(r, 100));
    expect(freed).toBe(true);
    await Promise.all([b!.close(), c.close()]);
  });

  it('a PostgresReportStore is what a postgres:// or postgresql:// state opens', async () => {
    await cluster.createDb('scheme');
    const s = await openReportStore(cluster.url('scheme').replace('postgres://', 'postgresql://'), { env });
    expect(s).toBeInstanceOf(PostgresReportStore);
    await s.close();
  });
});

describe('--state URLs', () => {
  const p = (u: string, e: NodeJS.ProcessEnv = {}, passwordFile?: string) => parsePostgresUrl(u, { env: e, passwordFile });
  it('host, port, user, database; socket directories; the password from URL, env or file, never in `shown`', () => {
    expect(p('postgres://ms@db.example.net:6432/mailsweep')).toEqual({
      shown: 'postgres://ms@db.example.net:6432/mailsweep',
      host: 'db.example.net',
      port: 6432,
      user: 'ms',
      database: 'mailsweep',
      connectTimeoutMs: 10_000,
    });
    expect(p('postgresql://ms@/ms?host=/run/postgresql').host).toBe('/run/postgresql');
    const withPw = p('postgres://ms:hunter2@db.example.net/ms');
    expect(withPw.password).toBe('hunter2');
    expect(withPw.shown).toBe('postgres://ms@db.example.net/ms');
    expect(p('postgres://ms@h/ms', { MAILSWEEP_PG_PASSWORD: 'a', PGPASSWORD: 'b' }).password).toBe('a');
    expect(p('postgres://ms@h/ms', { PGPASSWORD: 'b' }).password).toBe('b');
    const dir = mkdtempSync(join(tmp, 'pw-'));
    const file = join(dir, 'pw');
    writeFileSync(file, 's3cret\n');
    expect(p('postgres://ms@h/ms', { PGPASSWORD: 'b' }, file).password).toBe('s3cret');
  });

  it.each([
    ['postgres://ms:hunter2@h:99999/ms', /port must be 1–65535/],
    ['postgres://ms:hunter2@h/ms?sslmode=allow', /sslmode must be disable, require or verify-full/],
    ['postgres://ms:hunter2@h/ms?options=x', /unknown parameter "options"/],
    ['postgres://ms:hunter2@/ms', /no host/],
    ['mysql://ms:hunter2@h/ms', /unknown database URL scheme/],
  ])('%s is refused clearly, without the password', async (url, want) => {
    const err = (await openReportStore(url, { env: {} }).catch((e: unknown) => e)) as Error & { exitCode: number };
    expect(err.message).toMatch(want);
    expect(err.message).not.toContain('hunter2');
    expect(err.exitCode).toBe(3);
  });
});
