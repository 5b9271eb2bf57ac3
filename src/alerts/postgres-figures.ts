// The digest's figures on PostgreSQL (per account and day, window days, queue shapes, the history
// view's series): read-modify-write of a day's figures in one transaction with the row locked, as
// several controllers may merge the same host's day.
import pg from 'pg';
import { accountDayValues, toAccountDay, toRun, type AccountDayDb, type RunDb } from './sqlite-schema.js';
import { mergeDay, type AccountDayRow, type QueueShapeRow } from './store.js';
import type { FindingRow, RunHostRow, RunSummaryRow } from './store.js';
import { PgQueries } from './postgres-queries.js';

export class PgFigureQueries extends PgQueries {
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
          accountDayValues(host, m),
        );
      }
    });
  }

  /**
   * The baseline's history of a shard's hosts (history/shared.ts): each host's `limit` newest
   * observed days before `beforeDay`, then the messages per account on the days `pick` keeps of
   * them. One transaction under a statement timeout: a slow database costs baselines, not the run.
   */
  async baselineHistory(
    hosts: { host: string; limit: number }[],
    beforeDay: string,
    pick: (observed: { host: string; day: string }[]) => { host: string; day: string }[],
    timeoutMs: number,
  ): Promise<{ observed: { host: string; day: string }[]; counts: { host: string; authId: string; day: string; messages: number }[] }> {
    return this.tx(async (t) => {
      await t.q(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
      // One row per host (its days as an array): a shard of 2,500 hosts is 2,500 rows, not 200,000.
      const perHost = (
        await t.q<{ host: string; days: string[] }>(
          `SELECT h.host, array_agg(w.day ORDER BY w.day DESC) AS days FROM unnest($1::text[], $2::int[]) AS h(host, lim)
           CROSS JOIN LATERAL (SELECT day FROM window_day WHERE host = h.host AND day < $3 ORDER BY day DESC LIMIT h.lim) w
           GROUP BY h.host`,
          [hosts.map((h) => h.host), hosts.map((h) => h.limit), beforeDay],
        )
      ).rows;
      const observed = perHost.flatMap((r) => r.days.map((day) => ({ host: r.host, day })));
      const wanted = pick(observed);
      const counts = wanted.length
        ? (
            await t.q<{ host: string; authId: string; day: string; messages: number }>(
              `SELECT a.host, a.auth_id AS "authId", a.day, a.messages FROM account_day a
               JOIN unnest($1::text[], $2::text[]) AS w(host, day) ON a.host = w.host AND a.day = w.day
               WHERE a.messages > 0`,
              [wanted.map((w) => w.host), wanted.map((w) => w.day)],
            )
          ).rows
        : [];
      return { observed, counts };
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
}
