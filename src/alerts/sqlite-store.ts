// The embedded ReportStore: one SQLite file, created on first use, schema versioned with
// PRAGMA user_version and migrated forward in a transaction (the schema: sqlite-schema.ts).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../errors.js';
import {
  accountDayValues,
  incidentUpdateValues,
  incidentValues,
  MIGRATIONS,
  SCHEMA_VERSION,
  toAccountDay,
  toIncident,
  toRun,
  type AccountDayDb,
  type IncidentRow,
  type RunDb,
} from './sqlite-schema.js';
import { mergeDay, type AccountDayRow, type QueueShapeRow } from './store.js';
import type {
  FindingRow,
  HostQueuePoint,
  Incident,
  Notice,
  OutboxItem,
  PruneResult,
  ReportStore,
  RunHostRow,
  RunSummaryRow,
} from './store.js';

export class SqliteReportStore implements ReportStore {
  private db: Database.Database;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('foreign_keys = ON');
      this.migrate();
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`report state ${path}: ${(e as Error).message}`);
    }
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION)
      throw new ConfigError(
        `report state ${this.path}: schema version ${version} was written by a newer mailsweep (this one knows ${SCHEMA_VERSION}); upgrade mailsweep or use another --state file`,
      );
    this.db
      .transaction(() => {
        for (let v = version; v < SCHEMA_VERSION; v++) {
          this.db.exec(MIGRATIONS[v]!);
          this.db.pragma(`user_version = ${v + 1}`);
        }
      })
      .immediate();
  }

  async beginRun(startedAt: number): Promise<number> {
    return Number(this.db.prepare('INSERT INTO runs (started_at) VALUES (?)').run(startedAt).lastInsertRowid);
  }

  async recordHosts(runId: number, hosts: RunHostRow[]): Promise<void> {
    const ins = this.db.prepare(
      'INSERT OR REPLACE INTO run_hosts (run_id, host, status, reason, mta, queue, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const h of hosts)
        ins.run(runId, h.host, h.status, h.reason ?? null, h.mta, h.queue ? JSON.stringify(h.queue) : null, Math.round(h.durationMs));
      this.db.prepare('UPDATE runs SET hosts = (SELECT count(*) FROM run_hosts WHERE run_id = ?) WHERE id = ?').run(runId, runId);
    })();
  }

  async recordFindings(runId: number, findings: FindingRow[]): Promise<void> {
    const ins = this.db.prepare(
      'INSERT OR REPLACE INTO findings (run_id, fingerprint, host, subject, rule, severity, message) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const f of findings) ins.run(runId, f.fingerprint, f.host, f.subject, f.rule, f.severity, f.message);
    })();
  }

  async finishRun(
    runId: number,
    r: { finishedAt: number; exitCode: number; unfinished: number; channelErrors: Record<string, string> },
  ): Promise<void> {
    this.db
      .prepare('UPDATE runs SET finished_at = ?, exit_code = ?, unfinished = ?, channel_errors = ? WHERE id = ?')
      .run(r.finishedAt, r.exitCode, r.unfinished, JSON.stringify(r.channelErrors), runId);
  }

  async runs(limit: number): Promise<RunSummaryRow[]> {
    return (this.db.prepare('SELECT * FROM runs ORDER BY id DESC LIMIT ?').all(limit) as RunDb[]).map(toRun);
  }

  async runHosts(runId: number): Promise<RunHostRow[]> {
    const rows = this.db.prepare('SELECT * FROM run_hosts WHERE run_id = ? ORDER BY host').all(runId) as {
      host: string;
      status: RunHostRow['status'];
      reason: string | null;
      mta: string | null;
      queue: string | null;
      duration_ms: number;
    }[];
    return rows.map((r) => ({
      host: r.host,
      status: r.status,
      ...(r.reason !== null ? { reason: r.reason } : {}),
      mta: r.mta,
      queue: r.queue ? (JSON.parse(r.queue) as RunHostRow['queue']) : null,
      durationMs: r.duration_ms,
    }));
  }

  async runFindings(runId: number): Promise<FindingRow[]> {
    return this.db
      .prepare('SELECT fingerprint, host, subject, rule, severity, message FROM findings WHERE run_id = ? ORDER BY host, subject, rule')
      .all(runId) as FindingRow[];
  }

  async hostQueueSeries(since: number): Promise<HostQueuePoint[]> {
    return this.db
      .prepare(
        `SELECT h.host AS host, r.started_at AS at, h.status AS status, json_extract(h.queue, '$.total') AS total
         FROM run_hosts h JOIN runs r ON r.id = h.run_id WHERE r.started_at >= ? ORDER BY h.host, r.started_at`,
      )
      .all(since) as HostQueuePoint[];
  }

  async openIncidents(): Promise<Incident[]> {
    return (this.db.prepare('SELECT * FROM incidents WHERE resolved_at IS NULL ORDER BY id').all() as IncidentRow[]).map(toIncident);
  }

  async incidents(): Promise<Incident[]> {
    return (this.db.prepare('SELECT * FROM incidents ORDER BY id').all() as IncidentRow[]).map(toIncident);
  }

  async createIncident(i: Omit<Incident, 'id'>): Promise<number> {
    const r = this.db
      .prepare(
        `INSERT INTO incidents (key, kind, subject, severity, opened_at, last_seen_at, last_notified_at, resolved_at, hosts, evidence)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...incidentValues(i));
    return Number(r.lastInsertRowid);
  }

  async updateIncident(i: Incident): Promise<void> {
    this.db
      .prepare(
        'UPDATE incidents SET severity = ?, last_seen_at = ?, last_notified_at = ?, resolved_at = ?, hosts = ?, evidence = ? WHERE id = ?',
      )
      .run(...incidentUpdateValues(i));
  }

  async enqueue(channel: string, notice: Notice, at: number): Promise<void> {
    this.db.prepare('INSERT INTO outbox (channel, notice, created_at) VALUES (?, ?, ?)').run(channel, JSON.stringify(notice), at);
  }

  async pending(channel?: string): Promise<OutboxItem[]> {
    const rows = (
      channel === undefined
        ? this.db.prepare('SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY id').all()
        : this.db.prepare('SELECT * FROM outbox WHERE sent_at IS NULL AND channel = ? ORDER BY id').all(channel)
    ) as { id: number; channel: string; notice: string; created_at: number; attempts: number; last_error: string | null }[];
    return rows.map((r) => ({
      id: r.id,
      channel: r.channel,
      notice: JSON.parse(r.notice) as Notice,
      createdAt: r.created_at,
      attempts: r.attempts,
      lastError: r.last_error,
    }));
  }

  async markSent(id: number, at: number): Promise<void> {
    this.db
      .prepare('UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_attempt_at = ?, last_error = NULL WHERE id = ?')
      .run(at, at, id);
  }

  async markFailed(id: number, error: string, at: number): Promise<void> {
    this.db.prepare('UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? WHERE id = ?').run(at, error, id);
  }

  async prune(before: number): Promise<PruneResult> {
    const day = new Date(before).toISOString().slice(0, 10);
    return this.db.transaction(() => ({
      runs: this.db.prepare('DELETE FROM runs WHERE started_at < ?').run(before).changes,
      accountDays:
        this.db.prepare('DELETE FROM account_day WHERE day < ?').run(day).changes +
        this.db.prepare('DELETE FROM window_day WHERE day < ?').run(day).changes,
      incidents: this.db.prepare('DELETE FROM incidents WHERE resolved_at IS NOT NULL AND resolved_at < ?').run(before).changes,
      notices: this.db.prepare('DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?').run(before).changes,
    }))();
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async recordAccountDays(host: string, rows: AccountDayRow[]): Promise<void> {
    const get = this.db.prepare('SELECT * FROM account_day WHERE host = ? AND auth_id = ? AND day = ?');
    const put = this.db.prepare(
      `INSERT OR REPLACE INTO account_day (host, auth_id, day, messages, recipients, failures, client_ips, ips_truncated, sender_domains)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const r of rows) {
        const old = get.get(host, r.authId, r.day) as AccountDayDb | undefined;
        const m = old ? mergeDay(toAccountDay(old), r) : r;
        put.run(...accountDayValues(host, m));
      }
    })();
  }

  async recordWindowDays(host: string, days: string[]): Promise<void> {
    const ins = this.db.prepare('INSERT OR IGNORE INTO window_day (host, day) VALUES (?, ?)');
    this.db.transaction(() => {
      for (const d of days) ins.run(host, d);
    })();
  }

  async accountDays(fromDay: string, toDay: string): Promise<AccountDayRow[]> {
    return (
      this.db
        .prepare('SELECT * FROM account_day WHERE day >= ? AND day <= ? ORDER BY day, host, auth_id')
        .all(fromDay, toDay) as AccountDayDb[]
    ).map(toAccountDay);
  }

  async windowDays(fromDay: string, toDay: string): Promise<{ host: string; day: string }[]> {
    return this.db.prepare('SELECT host, day FROM window_day WHERE day >= ? AND day <= ? ORDER BY day, host').all(fromDay, toDay) as {
      host: string;
      day: string;
    }[];
  }

  async recordQueueShape(runId: number, host: string, shape: QueueShapeRow[], accounts: Record<string, number>): Promise<void> {
    const ins = this.db.prepare(
      'INSERT OR REPLACE INTO queue_shape (run_id, host, domain, total, buckets, unknown_age) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const acc = this.db.prepare('INSERT OR REPLACE INTO queue_account (run_id, host, auth_id, queued) VALUES (?, ?, ?, ?)');
    // A digest reads the last snapshot of a (UTC) day: earlier runs' shapes of the same day are dropped.
    const started = (this.db.prepare('SELECT started_at FROM runs WHERE id = ?').get(runId) as { started_at: number } | undefined)
      ?.started_at;
    const dayStart = started === undefined ? null : started - (started % 86_400_000);
    this.db.transaction(() => {
      if (dayStart !== null)
        this.db
          .prepare(
            'DELETE FROM queue_shape WHERE host = ? AND run_id IN (SELECT id FROM runs WHERE started_at >= ? AND started_at < ? AND id != ?)',
          )
          .run(host, dayStart, dayStart + 86_400_000, runId);
      for (const r of shape) ins.run(runId, host, r.domain, r.total, JSON.stringify(r.buckets), r.unknownAge);
      for (const [authId, n] of Object.entries(accounts)) acc.run(runId, host, authId, n);
    })();
  }

  async queueShapes(runId: number, host?: string): Promise<QueueShapeRow[]> {
    const rows = (
      host === undefined
        ? this.db.prepare('SELECT * FROM queue_shape WHERE run_id = ? ORDER BY total DESC, domain').all(runId)
        : this.db.prepare('SELECT * FROM queue_shape WHERE run_id = ? AND host = ? ORDER BY total DESC, domain').all(runId, host)
    ) as { domain: string; total: number; buckets: string; unknown_age: number }[];
    return rows.map((r) => ({ domain: r.domain, total: r.total, buckets: JSON.parse(r.buckets) as number[], unknownAge: r.unknown_age }));
  }

  async queueAccounts(
    from: number,
    to: number,
  ): Promise<{ runId: number; startedAt: number; host: string; authId: string; queued: number }[]> {
    return this.db
      .prepare(
        `SELECT q.run_id AS runId, r.started_at AS startedAt, q.host AS host, q.auth_id AS authId, q.queued AS queued
         FROM queue_account q JOIN runs r ON r.id = q.run_id WHERE r.started_at >= ? AND r.started_at < ? ORDER BY r.started_at, q.host, q.auth_id`,
      )
      .all(from, to) as { runId: number; startedAt: number; host: string; authId: string; queued: number }[];
  }

  async hostRuns(from: number, to: number): Promise<(RunHostRow & { runId: number; startedAt: number })[]> {
    const rows = this.db
      .prepare(
        `SELECT h.*, r.started_at AS started_at FROM run_hosts h JOIN runs r ON r.id = h.run_id
         WHERE r.started_at >= ? AND r.started_at < ? ORDER BY r.started_at, r.id, h.host`,
      )
      .all(from, to) as {
      run_id: number;
      started_at: number;
      host: string;
      status: RunHostRow['status'];
      reason: string | null;
      mta: string | null;
      queue: string | null;
      duration_ms: number;
    }[];
    return rows.map((r) => ({
      runId: r.run_id,
      startedAt: r.started_at,
      host: r.host,
      status: r.status,
      ...(r.reason !== null ? { reason: r.reason } : {}),
      mta: r.mta,
      queue: r.queue ? (JSON.parse(r.queue) as RunHostRow['queue']) : null,
      durationMs: r.duration_ms,
    }));
  }

  async findingsBetween(from: number, to: number): Promise<(FindingRow & { runId: number; startedAt: number })[]> {
    return this.db
      .prepare(
        `SELECT f.run_id AS runId, r.started_at AS startedAt, f.fingerprint, f.host, f.subject, f.rule, f.severity, f.message
         FROM findings f JOIN runs r ON r.id = f.run_id WHERE r.started_at >= ? AND r.started_at < ? ORDER BY r.started_at, f.host, f.subject, f.rule`,
      )
      .all(from, to) as (FindingRow & { runId: number; startedAt: number })[];
  }

  async runsBetween(from: number, to: number): Promise<RunSummaryRow[]> {
    return (
      this.db.prepare('SELECT * FROM runs WHERE started_at >= ? AND started_at < ? ORDER BY started_at, id').all(from, to) as RunDb[]
    ).map(toRun);
  }
}
