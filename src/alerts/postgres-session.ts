// The alerting phase on PostgreSQL: one client holding the alerting lock; a sweep's shard records,
// and the round that completes it claimed and decided under that lock (sweep.ts).
import pg from 'pg';
import type { Shard } from '../inventory/shard.js';
import type { HostReport } from '../scan/types.js';
import type { PgTarget } from './state-url.js';
import type { AlertingSession, SweepRound } from './sweep.js';
import { PgFigureQueries } from './postgres-figures.js';

/** The alerting phase's view: one client holding the alerting lock; `transaction` spans its calls. */
export class PgSession extends PgFigureQueries implements AlertingSession {
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
