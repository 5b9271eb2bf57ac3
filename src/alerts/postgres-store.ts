// The ReportStore on PostgreSQL, shared by several controllers (issue #12). Schema: postgres-schema.ts,
// migrated forward under an advisory lock (controllers starting together migrate once). Rows that
// several controllers may write are upserts; read-modify-write spans one transaction with the row
// locked; the alerting phase (decide, notices, sending) holds one advisory lock (sweep.ts).
import pg from 'pg';
import { ConfigError } from '../errors.js';
import { LOCK, PG_MIGRATIONS, PG_SCHEMA_VERSION } from './postgres-schema.js';
import type { PgTarget } from './state-url.js';
import type { AlertingSession, SharedStore } from './sweep.js';
import { PgFigureQueries } from './postgres-figures.js';
import { dbError, types } from './postgres-queries.js';
import { PgSession } from './postgres-session.js';

export class PostgresReportStore extends PgFigureQueries implements SharedStore {
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
    // The pool listens only to idle clients: a checked-out one (a transaction, the alerting session,
    // the shard lock held all run) whose connection drops would emit an unhandled 'error' and crash
    // the process. Its query fails with the error instead, which the caller reports.
    pool.on('connect', (client) => void client.on('error', () => undefined));
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
