// The ReportStore on PostgreSQL, shared by several controllers (issue #12). Schema: postgres-schema.ts,
// migrated forward under an advisory lock (controllers starting together migrate once). Rows that
// several controllers may write are upserts; read-modify-write spans one transaction with the row
// locked; the alerting phase (decide, notices, sending) holds one advisory lock (sweep.ts).
import pg from 'pg';
import { ConfigError, ExitError } from '../errors.js';
import type { Shard } from '../inventory/shard.js';
import type { HostReport } from '../scan/types.js';
import { LOCK, PG_MIGRATIONS, PG_SCHEMA_VERSION } from './postgres-schema.js';
import { toAccountDay, toIncident, toRun, type AccountDayDb, type IncidentRow, type RunDb } from './sqlite-schema.js';
import type { PgTarget } from './state-url.js';
import { mergeDay, type AccountDayRow, type QueueShapeRow } from './store.js';
import type { FindingRow, HostQueuePoint, Incident, Notice, OutboxItem, PruneResult, RunHostRow, RunSummaryRow } from './store.js';
import type { AlertingSession, SharedStore, SweepRound } from './sweep.js';

type Db = pg.Pool | pg.PoolClient;

const INT8 = 20;
// BIGINT columns (ms timestamps, ids, counts) as numbers: every value fits in 2^53.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Rows per batch when pruning: a batch is its own short transaction (no long lock, bounded WAL). */
export const PRUNE_BATCH = { runs: 20, rows: 5000 } as const;

const CONNECTION = /^(08|57P0[1-3]|53300)/;
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT']);

/** The run cannot go on without its database: a clear message (no password), exit 3. */
function dbError(target: PgTarget, e: unknown): Error {
  if (e instanceof ConfigError || e instanceof ExitError) return e;
  const err = e as Error & { code?: string };
  let text = err.message || String(e);
  if (target.password) text = text.split(target.password).join('***');
  const what = CONNECTION.test(err.code ?? '') || NETWORK.has(err.code ?? '') || /timeout|terminat|connect/i.test(text);
  return new ConfigError(`report state ${target.shown}: ${what ? 'database unreachable: ' : ''}${text}`);
}

class PgQueries {
  constructor(
    protected db: Db,
    protected target: PgTarget,
  ) {}

  /** One statement; any failure becomes a clear ConfigError without the password. */
  async q<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.db.query<R>(sql, params);
    } catch (e) {
      throw dbError(this.target, e);
    }
  }

  async beginRun(startedAt: number): Promise<number> {
    return (await this.q<{ id: number }>('INSERT INTO runs (started_at) VALUES ($1) RETURNING id', [startedAt])).rows[0]!.id;
  }

  async recordHosts(runId: number, hosts: RunHostRow[]): Promise<void> {
    // One statement for the whole shard (unnest of arrays): 10,000 hosts are one round trip.
    await this.q(
      `INSERT INTO run_hosts (run_id, host, status, reason, mta, queue, duration_ms)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[])
       ON CONFLICT (run_id, host) DO UPDATE SET status = excluded.status, reason = excluded.reason, mta = excluded.mta,
         queue = excluded.queue, duration_ms = excluded.duration_ms`,
      [
        runId,
        hosts.map((h) => h.host),
        hosts.map((h) => h.status),
        hosts.map((h) => h.reason ?? null),
        hosts.map((h) => h.mta),
        hosts.map((h) => (h.queue ? JSON.stringify(h.queue) : null)),
        hosts.map((h) => Math.round(h.durationMs)),
      ],
    );
    await this.q('UPDATE runs SET hosts = (SELECT count(*) FROM run_hosts WHERE run_id = $1) WHERE id = $1', [runId]);
  }

  async recordFindings(runId: number, findings: FindingRow[]): Promise<void> {
    await this.q(
      `INSERT INTO findings (run_id, fingerprint, host, subject, rule, severity, message)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
       ON CONFLICT (run_id, fingerprint) DO UPDATE SET host = excluded.host, subject = excluded.subject, rule = excluded.rule,
         severity = excluded.severity, message = excluded.message`,
      [
        runId,
        findings.map((f) => f.fingerprint),
        findings.map((f) => f.host),
        findings.map((f) => f.subject),
        findings.map((f) => f.rule),
        findings.map((f) => f.severity),
        findings.map((f) => f.message),
      ],
    );
  }

  async finishRun(
    runId: number,
    r: { finishedAt: number; exitCode: number; unfinished: number; channelErrors: Record<string, string> },
  ): Promise<void> {
    await this.q('UPDATE runs SET finished_at = $1, exit_code = $2, unfinished = $3, channel_errors = $4 WHERE id = $5', [
      r.finishedAt,
      r.exitCode,
      r.unfinished,
      JSON.stringify(r.channelErrors),
      runId,
    ]);
  }

  async runs(limit: number): Promise<RunSummaryRow[]> {
    return (await this.q<RunDb & pg.QueryResultRow>('SELECT * FROM runs ORDER BY id DESC LIMIT $1', [limit])).rows.map(toRun);
  }

  private static hostRow(r: Record<string, unknown>): RunHostRow {
    return {
      host: r.host as string,
      status: r.status as RunHostRow['status'],
      ...(r.reason !== null ? { reason: r.reason as string } : {}),
      mta: r.mta as string | null,
      queue: r.queue ? (JSON.parse(r.queue as string) as RunHostRow['queue']) : null,
      durationMs: r.duration_ms as number,
    };
  }

  async runHosts(runId: number): Promise<RunHostRow[]> {
    return (await this.q('SELECT * FROM run_hosts WHERE run_id = $1 ORDER BY host', [runId])).rows.map(PgQueries.hostRow);
  }

  async runFindings(runId: number): Promise<FindingRow[]> {
    return (
      await this.q<FindingRow & pg.QueryResultRow>(
        'SELECT fingerprint, host, subject, rule, severity, message FROM findings WHERE run_id = $1 ORDER BY host, subject, rule',
        [runId],
      )
    ).rows;
  }

  async hostQueueSeries(since: number): Promise<HostQueuePoint[]> {
    return (
      await this.q<HostQueuePoint & pg.QueryResultRow>(
        `SELECT h.host AS host, r.started_at AS at, h.status AS status, (h.queue::json ->> 'total')::bigint AS total
         FROM run_hosts h JOIN runs r ON r.id = h.run_id WHERE r.started_at >= $1 ORDER BY h.host, r.started_at`,
        [since],
      )
    ).rows;
  }

  async openIncidents(): Promise<Incident[]> {
    return (await this.q<IncidentRow & pg.QueryResultRow>('SELECT * FROM incidents WHERE resolved_at IS NULL ORDER BY id')).rows.map(
      toIncident,
    );
  }

  async incidents(): Promise<Incident[]> {
    return (await this.q<IncidentRow & pg.QueryResultRow>('SELECT * FROM incidents ORDER BY id')).rows.map(toIncident);
  }

  /**
   * An open incident is one row per key (partial unique index): a second controller creating the
   * same one joins it (later sighting, worse severity, the newer evidence) instead of failing.
   */
  async createIncident(i: Omit<Incident, 'id'>): Promise<number> {
    const r = await this.q<{ id: number }>(
      `INSERT INTO incidents (key, kind, subject, severity, opened_at, last_seen_at, last_notified_at, resolved_at, hosts, evidence)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (key) WHERE resolved_at IS NULL DO UPDATE SET
         severity = CASE WHEN incidents.severity = 'critical' OR excluded.severity = 'critical' THEN 'critical' ELSE 'warning' END,
         last_seen_at = GREATEST(incidents.last_seen_at, excluded.last_seen_at),
         last_notified_at = GREATEST(incidents.last_notified_at, excluded.last_notified_at),
         hosts = excluded.hosts, evidence = excluded.evidence
       RETURNING id`,
      [
        i.key,
        i.kind,
        i.subject,
        i.severity,
        i.openedAt,
        i.lastSeenAt,
        i.lastNotifiedAt,
        i.resolvedAt,
        JSON.stringify(i.hosts),
        JSON.stringify(i.evidence),
      ],
    );
    return r.rows[0]!.id;
  }

  async updateIncident(i: Incident): Promise<void> {
    await this.q(
      'UPDATE incidents SET severity = $1, last_seen_at = $2, last_notified_at = $3, resolved_at = $4, hosts = $5, evidence = $6 WHERE id = $7',
      [i.severity, i.lastSeenAt, i.lastNotifiedAt, i.resolvedAt, JSON.stringify(i.hosts), JSON.stringify(i.evidence), i.id],
    );
  }

  async enqueue(channel: string, notice: Notice, at: number): Promise<void> {
    await this.q('INSERT INTO outbox (channel, notice, created_at) VALUES ($1, $2, $3)', [channel, JSON.stringify(notice), at]);
  }

  async pending(channel?: string): Promise<OutboxItem[]> {
    const rows = (
      channel === undefined
        ? await this.q('SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY id')
        : await this.q('SELECT * FROM outbox WHERE sent_at IS NULL AND channel = $1 ORDER BY id', [channel])
    ).rows;
    return rows.map((r) => ({
      id: r.id as number,
      channel: r.channel as string,
      notice: JSON.parse(r.notice as string) as Notice,
      createdAt: r.created_at as number,
      attempts: r.attempts as number,
      lastError: r.last_error as string | null,
    }));
  }

  async markSent(id: number, at: number): Promise<void> {
    await this.q('UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_attempt_at = $1, last_error = NULL WHERE id = $2', [
      at,
      id,
    ]);
  }

  async markFailed(id: number, error: string, at: number): Promise<void> {
    await this.q('UPDATE outbox SET attempts = attempts + 1, last_attempt_at = $1, last_error = $2 WHERE id = $3', [at, error, id]);
  }

  /** Deletes `WHERE cond` in batches of `batch` rows, each batch its own statement; returns the count. */
  private async batched(table: string, key: string, cond: string, param: unknown, batch: number): Promise<number> {
    let total = 0;
    for (;;) {
      const n =
        (await this.q(`DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${cond} LIMIT ${batch})`, [param]))
          .rowCount ?? 0;
      total += n;
      if (n < batch) return total;
    }
  }

  /**
   * Batched deletes, not time partitions: --keep is any duration (not a partition boundary), the
   * open-incident unique index would have to include the partition key, and partitions would need
   * creating ahead. A batch of runs takes their hosts and findings along (cascade): kept small.
   */
  async prune(before: number): Promise<PruneResult> {
    const day = new Date(before).toISOString().slice(0, 10);
    const runs = await this.batched('runs', 'id', 'started_at < $1', before, PRUNE_BATCH.runs);
    const accountDays =
      (await this.batched('account_day', 'ctid', 'day < $1', day, PRUNE_BATCH.rows)) +
      (await this.batched('window_day', 'ctid', 'day < $1', day, PRUNE_BATCH.rows));
    const incidents = await this.batched('incidents', 'id', 'resolved_at IS NOT NULL AND resolved_at < $1', before, PRUNE_BATCH.rows);
    const notices = await this.batched('outbox', 'id', 'sent_at IS NOT NULL AND sent_at < $1', before, PRUNE_BATCH.rows);
    await this.batched('sweep_shards', 'ctid', 'recorded_at < $1 AND decided_at IS NOT NULL', before, PRUNE_BATCH.rows);
    return { runs, accountDays, incidents, notices };
  }

  async recordAccountDays(host: string, rows: AccountDayRow[]): Promise<void> {
    if (!rows.length) return;
    await this.tx(async (t) => {
      for (const r of rows) {
        // Make the row exist, then lock it: two controllers merging the same day serialize here.
        await t.q(
          `INSERT INTO account_day (host, auth_id, day, messages, recipients, failures, client_ips, ips_truncated, sender_domains)
           VALUES ($1, $2, $3, 0, 0, 0, '[]', 0, '{}') ON CONFLICT DO NOTHING`,
          [host, r.authId, r.day],
        );
        const old = (
          await t.q<AccountDayDb & pg.QueryResultRow>(
            'SELECT * FROM account_day WHERE host = $1 AND auth_id = $2 AND day = $3 FOR UPDATE',
            [host, r.authId, r.day],
          )
        ).rows[0]!;
        const m = mergeDay(toAccountDay(old), r);
        await t.q(
          `UPDATE account_day SET messages = $4, recipients = $5, failures = $6, client_ips = $7, ips_truncated = $8, sender_domains = $9
           WHERE host = $1 AND auth_id = $2 AND day = $3`,
          [
            host,
            m.authId,
            m.day,
            m.messages,
            m.recipients,
            m.failures,
            JSON.stringify(m.clientIps),
            m.ipsTruncated ? 1 : 0,
            JSON.stringify(m.senderDomains),
          ],
        );
      }
    });
  }

  async recordWindowDays(host: string, days: string[]): Promise<void> {
    await this.q('INSERT INTO window_day (host, day) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [host, days]);
  }

  async accountDays(fromDay: string, toDay: string): Promise<AccountDayRow[]> {
    return (
      await this.q<AccountDayDb & pg.QueryResultRow>(
        'SELECT * FROM account_day WHERE day >= $1 AND day <= $2 ORDER BY day, host, auth_id',
        [fromDay, toDay],
      )
    ).rows.map(toAccountDay);
  }

  async windowDays(fromDay: string, toDay: string): Promise<{ host: string; day: string }[]> {
    return (
      await this.q<{ host: string; day: string }>('SELECT host, day FROM window_day WHERE day >= $1 AND day <= $2 ORDER BY day, host', [
        fromDay,
        toDay,
      ])
    ).rows;
  }

  async recordQueueShape(runId: number, host: string, shape: QueueShapeRow[], accounts: Record<string, number>): Promise<void> {
    const started = (await this.q<{ started_at: number }>('SELECT started_at FROM runs WHERE id = $1', [runId])).rows[0]?.started_at;
    await this.tx(async (t) => {
      // A digest reads the last snapshot of a (UTC) day: earlier runs' shapes of the same day are dropped.
      if (started !== undefined) {
        const dayStart = started - (started % 86_400_000);
        await t.q(
          'DELETE FROM queue_shape WHERE host = $1 AND run_id IN (SELECT id FROM runs WHERE started_at >= $2 AND started_at < $3 AND id != $4)',
          [host, dayStart, dayStart + 86_400_000, runId],
        );
      }
      if (shape.length)
        await t.q(
          `INSERT INTO queue_shape (run_id, host, domain, total, buckets, unknown_age)
           SELECT $1, $2, * FROM unnest($3::text[], $4::int[], $5::text[], $6::int[])
           ON CONFLICT (run_id, host, domain) DO UPDATE SET total = excluded.total, buckets = excluded.buckets, unknown_age = excluded.unknown_age`,
          [
            runId,
            host,
            shape.map((r) => r.domain),
            shape.map((r) => r.total),
            shape.map((r) => JSON.stringify(r.buckets)),
            shape.map((r) => r.unknownAge),
          ],
        );
      const acc = Object.entries(accounts);
      if (acc.length)
        await t.q(
          `INSERT INTO queue_account (run_id, host, auth_id, queued) SELECT $1, $2, * FROM unnest($3::text[], $4::int[])
           ON CONFLICT (run_id, host, auth_id) DO UPDATE SET queued = excluded.queued`,
          [runId, host, acc.map(([a]) => a), acc.map(([, n]) => n)],
        );
    });
  }

  async queueShapes(runId: number, host?: string): Promise<QueueShapeRow[]> {
    const rows = (
      host === undefined
        ? await this.q('SELECT * FROM queue_shape WHERE run_id = $1 ORDER BY total DESC, domain', [runId])
        : await this.q('SELECT * FROM queue_shape WHERE run_id = $1 AND host = $2 ORDER BY total DESC, domain', [runId, host])
    ).rows;
    return rows.map((r) => ({
      domain: r.domain as string,
      total: r.total as number,
      buckets: JSON.parse(r.buckets as string) as number[],
      unknownAge: r.unknown_age as number,
    }));
  }

  async queueAccounts(
    from: number,
    to: number,
  ): Promise<{ runId: number; startedAt: number; host: string; authId: string; queued: number }[]> {
    return (
      await this.q<{ runId: number; startedAt: number; host: string; authId: string; queued: number }>(
        `SELECT q.run_id AS "runId", r.started_at AS "startedAt", q.host AS host, q.auth_id AS "authId", q.queued AS queued
         FROM queue_account q JOIN runs r ON r.id = q.run_id WHERE r.started_at >= $1 AND r.started_at < $2 ORDER BY r.started_at, q.host, q.auth_id`,
        [from, to],
      )
    ).rows;
  }

  async hostRuns(from: number, to: number): Promise<(RunHostRow & { runId: number; startedAt: number })[]> {
    const rows = (
      await this.q(
        `SELECT h.*, r.started_at AS started_at FROM run_hosts h JOIN runs r ON r.id = h.run_id
         WHERE r.started_at >= $1 AND r.started_at < $2 ORDER BY r.started_at, r.id, h.host`,
        [from, to],
      )
    ).rows;
    return rows.map((r) => ({ runId: r.run_id as number, startedAt: r.started_at as number, ...PgQueries.hostRow(r) }));
  }

  async findingsBetween(from: number, to: number): Promise<(FindingRow & { runId: number; startedAt: number })[]> {
    return (
      await this.q<FindingRow & { runId: number; startedAt: number }>(
        `SELECT f.run_id AS "runId", r.started_at AS "startedAt", f.fingerprint, f.host, f.subject, f.rule, f.severity, f.message
         FROM findings f JOIN runs r ON r.id = f.run_id WHERE r.started_at >= $1 AND r.started_at < $2 ORDER BY r.started_at, f.host, f.subject, f.rule`,
        [from, to],
      )
    ).rows;
  }

  async runsBetween(from: number, to: number): Promise<RunSummaryRow[]> {
    return (
      await this.q<RunDb & pg.QueryResultRow>('SELECT * FROM runs WHERE started_at >= $1 AND started_at < $2 ORDER BY started_at, id', [
        from,
        to,
      ])
    ).rows.map(toRun);
  }

  /** Bound to one client inside a transaction (BEGIN … COMMIT there). */
  protected inTx = false;

  /** `fn` on a view of this store bound to one client, in one transaction (nested: the same one). */
  protected async tx<T>(fn: (t: PgQueries) => Promise<T>): Promise<T> {
    if (this.inTx) return fn(this);
    let client: pg.PoolClient;
    let release = false;
    if (this.db instanceof pg.Pool) {
      try {
        client = await this.db.connect();
      } catch (e) {
        throw dbError(this.target, e);
      }
      release = true;
    } else client = this.db;
    const view = new PgQueries(client, this.target);
    view.inTx = true;
    try {
      await view.q('BEGIN');
      const r = await fn(view);
      await view.q('COMMIT');
      return r;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      if (release) client.release();
    }
  }
}

/** The alerting phase's view: one client holding the alerting lock; `transaction` spans its calls. */
class PgSession extends PgQueries implements AlertingSession {
  constructor(client: pg.PoolClient, target: PgTarget) {
    super(client, target);
  }

  /** The client is the alerting phase's: alerting() releases it. */
  async close(): Promise<void> {}

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTx) return fn();
    await this.q('BEGIN');
    this.inTx = true;
    try {
      const r = await fn();
      await this.q('COMMIT');
      return r;
    } catch (e) {
      await this.db.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      this.inTx = false;
    }
  }

  /** Marks the undecided records of `sweep` decided and returns them as one round (null: none). */
  private async claimRound(sweep: string, at: number): Promise<SweepRound | null> {
    const rows = (
      await this.q<{ shard_index: number; shard_count: number; recorded_at: number; reports: string }>(
        `UPDATE sweep_shards SET decided_at = $2 WHERE sweep_id = $1 AND decided_at IS NULL
         RETURNING shard_index, shard_count, recorded_at, reports`,
        [sweep, at],
      )
    ).rows.sort((a, b) => a.recorded_at - b.recorded_at || a.shard_index - b.shard_index);
    if (!rows.length) return null;
    const count = rows[rows.length - 1]!.shard_count;
    const have = new Set(rows.map((r) => r.shard_index));
    // A host in two records (the shard count changed mid-sweep): the later record wins.
    const byHost = new Map<string, HostReport>();
    for (const r of rows) for (const h of JSON.parse(r.reports) as HostReport[]) byHost.set(h.name, h);
    return {
      sweep,
      count,
      missing: Array.from({ length: count }, (_, i) => i + 1).filter((k) => !have.has(k)),
      reports: [...byHost.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      at: rows[rows.length - 1]!.recorded_at,
    };
  }

  async recordShard(
    sweep: string,
    shard: Shard,
    runId: number,
    at: number,
    reports: HostReport[],
    staleBefore?: number,
  ): Promise<SweepRound[]> {
    return this.transaction(async () => {
      await this.q(
        `INSERT INTO sweep_shards (sweep_id, shard_index, shard_count, run_id, recorded_at, decided_at, reports)
         VALUES ($1, $2, $3, $4, $5, NULL, $6)
         ON CONFLICT (sweep_id, shard_index) DO UPDATE SET shard_count = excluded.shard_count, run_id = excluded.run_id,
           recorded_at = excluded.recorded_at, decided_at = NULL, reports = excluded.reports`,
        [sweep, shard.index, shard.count, runId, at, JSON.stringify(reports)],
      );
      const rounds: SweepRound[] = [];
      if (staleBefore !== undefined) {
        const stale = await this.q<{ sweep_id: string }>(
          `SELECT sweep_id FROM sweep_shards WHERE decided_at IS NULL AND sweep_id <> $1
           GROUP BY sweep_id HAVING max(recorded_at) < $2 ORDER BY max(recorded_at), sweep_id`,
          [sweep, staleBefore],
        );
        for (const s of stale.rows) {
          const r = await this.claimRound(s.sweep_id, at);
          if (r) rounds.push(r);
        }
      }
      const have = await this.q<{ n: number }>(
        'SELECT count(*) AS n FROM sweep_shards WHERE sweep_id = $1 AND decided_at IS NULL AND shard_count = $2',
        [sweep, shard.count],
      );
      if (have.rows[0]!.n >= shard.count) {
        const r = await this.claimRound(sweep, at);
        if (r) rounds.push(r);
      }
      return rounds;
    });
  }

  async claimSweep(sweep: string, at: number): Promise<SweepRound | null> {
    return this.transaction(() => this.claimRound(sweep, at));
  }
}

export class PostgresReportStore extends PgQueries implements SharedStore {
  readonly shared = true as const;
  private lockClient: pg.PoolClient | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    target: PgTarget,
  ) {
    super(pool, target);
  }

  /** Connects and migrates; an unreachable database or a newer schema is a ConfigError (exit 3). */
  static async open(target: PgTarget): Promise<PostgresReportStore> {
    const pool = new pg.Pool({
      host: target.host,
      port: target.port,
      ...(target.user ? { user: target.user } : {}),
      ...(target.database ? { database: target.database } : {}),
      // A function, so the password is not a property of the pool's config object (printed on inspect).
      ...(target.password !== undefined
        ? {
            password: (
              (p: string) => () =>
                p
            )(target.password),
          }
        : {}),
      ...(target.ssl ? { ssl: target.ssl } : {}),
      connectionTimeoutMillis: target.connectTimeoutMs,
      // Per controller: the shard lock, the alerting session, one for the rest. N controllers hold 3N.
      max: 3,
      application_name: 'mailsweep',
      types,
    });
    // An idle client's error (server restart) must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    const store = new PostgresReportStore(pool, target);
    try {
      await store.migrate();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw dbError(target, e);
    }
    return store;
  }

  private async migrate(): Promise<void> {
    await this.tx(async (t) => {
      await t.q('SELECT pg_advisory_xact_lock($1, $2)', [LOCK.ns, LOCK.migrate]);
      await t.q('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      let version = (await t.q<{ version: number }>('SELECT version FROM schema_version')).rows[0]?.version;
      if (version === undefined) {
        await t.q('INSERT INTO schema_version (version) VALUES (0)');
        version = 0;
      }
      if (version > PG_SCHEMA_VERSION)
        throw new ConfigError(
          `report state ${this.target.shown}: schema version ${version} was written by a newer mailsweep (this one knows ${PG_SCHEMA_VERSION}); upgrade mailsweep or use another --state database`,
        );
      for (let v = version; v < PG_SCHEMA_VERSION; v++) {
        await t.q(PG_MIGRATIONS[v]!);
        await t.q('UPDATE schema_version SET version = $1', [v + 1]);
      }
    });
  }

  async alerting<T>(fn: (s: AlertingSession) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw dbError(this.target, e);
    }
    const session = new PgSession(client, this.target);
    let broken = false;
    try {
      await session.q('SELECT pg_advisory_lock($1, $2)', [LOCK.ns, LOCK.alerting]);
      return await fn(session);
    } catch (e) {
      broken = true;
      throw e;
    } finally {
      // Unlocked explicitly; on any failure the connection is dropped, which also ends the lock.
      if (!broken) await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK.ns, LOCK.alerting]).catch(() => (broken = true));
      client.release(broken);
    }
  }

  async tryShardLock(name: string): Promise<boolean> {
    try {
      this.lockClient ??= await this.pool.connect();
      const r = await this.lockClient.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LOCK.shardNs, name]);
      return r.rows[0]!.ok;
    } catch (e) {
      throw dbError(this.target, e);
    }
  }

  async close(): Promise<void> {
    // Ending the pool closes every connection: session locks (the shard's) go with them.
    this.lockClient?.release(true);
    await this.pool.end().catch(() => undefined);
  }
}
