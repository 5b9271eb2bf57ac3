// The ReportStore's queries on PostgreSQL: runs, hosts, findings, incidents, the outbox and retention,
// each one statement (or one transaction: `tx`), every failure a clear error without the password.
// The digest's figures are postgres-figures.ts; the alerting session postgres-session.ts; opening,
// migrating and the locks postgres-store.ts.
import pg from 'pg';
import { ConfigError, ExitError } from '../errors.js';
import { incidentUpdateValues, incidentValues, toIncident, toRun, type IncidentRow, type RunDb } from './sqlite-schema.js';
import type { PgTarget } from './state-url.js';
import type { FindingRow, HostQueuePoint, Incident, Notice, OutboxItem, PruneResult, RunHostRow, RunSummaryRow } from './store.js';

export type Db = pg.Pool | pg.PoolClient;

const INT8 = 20;
// BIGINT columns (ms timestamps, ids, counts) as numbers: every value fits in 2^53.
export const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Rows per batch when pruning: a batch is its own short transaction (no long lock, bounded WAL). */
export const PRUNE_BATCH = { runs: 20, rows: 5000 } as const;

const CONNECTION = /^(08|57P0[1-3]|53300)/;
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT']);

/** The run cannot go on without its database: a clear message (no password), exit 3. */
export function dbError(target: PgTarget, e: unknown): Error {
  if (e instanceof ConfigError || e instanceof ExitError) return e;
  const err = e as Error & { code?: string };
  let text = err.message || String(e);
  if (target.password) text = text.split(target.password).join('***');
  const what = CONNECTION.test(err.code ?? '') || NETWORK.has(err.code ?? '') || /timeout|terminat|connect/i.test(text);
  return new ConfigError(`report state ${target.shown}: ${what ? 'database unreachable: ' : ''}${text}`);
}

export class PgQueries {
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

  protected static hostRow(r: Record<string, unknown>): RunHostRow {
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
      incidentValues(i),
    );
    return r.rows[0]!.id;
  }

  async updateIncident(i: Incident): Promise<void> {
    await this.q(
      'UPDATE incidents SET severity = $1, last_seen_at = $2, last_notified_at = $3, resolved_at = $4, hosts = $5, evidence = $6 WHERE id = $7',
      incidentUpdateValues(i),
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
