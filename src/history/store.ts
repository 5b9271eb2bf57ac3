// Per-user daily send counts, kept across scans for baselines (SQLite file, one row per host/user/day).
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

export interface DayCount {
  host: string;
  authId: string;
  /** Local calendar day, YYYY-MM-DD. */
  day: string;
  messages: number;
  recipients: number;
}

export function defaultHistoryPath(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return process.env.MAILSWEEP_HISTORY || join(base, 'mailsweep', 'history.sqlite');
}

export class HistoryStore {
  private readonly open: Database.Database | null = null;
  /**
   * Why the file could not be opened, when opened `lenient`ly (a monitoring user with no writable
   * HOME): every call then throws it, and a scan judges baselines without history instead of failing.
   */
  readonly unavailable: string | null = null;

  constructor(
    readonly path: string,
    o: { lenient?: boolean } = {},
  ) {
    try {
      this.open = HistoryStore.connect(path);
    } catch (e) {
      if (!o.lenient) throw e;
      this.unavailable = (e as Error).message;
    }
  }

  private get db(): Database.Database {
    if (!this.open) throw new Error(`history ${this.path} cannot be used: ${this.unavailable}`);
    return this.open;
  }

  private static connect(path: string): Database.Database {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000'); // cron and an admin may scan at the same time
    db.exec(`
      CREATE TABLE IF NOT EXISTS user_day (
        host TEXT NOT NULL, auth_id TEXT NOT NULL, day TEXT NOT NULL,
        messages INTEGER NOT NULL, recipients INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (host, auth_id, day)
      );
      CREATE TABLE IF NOT EXISTS host_day (
        host TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (host, day)
      );
    `);
    return db;
  }

  /**
   * Record what a log window showed. A day seen only in part keeps the larger count,
   * so a later, shorter window never lowers a full day's number.
   */
  record(host: string, counts: DayCount[], daysCovered: string[]): void {
    const now = Math.floor(Date.now() / 1000);
    const up = this.db.prepare(
      `INSERT INTO user_day (host, auth_id, day, messages, recipients, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (host, auth_id, day) DO UPDATE SET
         messages = max(messages, excluded.messages), recipients = max(recipients, excluded.recipients), updated_at = excluded.updated_at`,
    );
    const seen = this.db.prepare('INSERT OR IGNORE INTO host_day (host, day) VALUES (?, ?)');
    this.db.transaction(() => {
      for (const d of daysCovered) seen.run(host, d);
      for (const c of counts) up.run(host, c.authId, c.day, c.messages, c.recipients, now);
    })();
  }

  /** Days (before `day`) on which this host was observed, newest first. */
  observedDays(host: string, beforeDay: string, limit: number): string[] {
    return (
      this.db.prepare('SELECT day FROM host_day WHERE host = ? AND day < ? ORDER BY day DESC LIMIT ?').all(host, beforeDay, limit) as {
        day: string;
      }[]
    ).map((r) => r.day);
  }

  /** The user's message counts on the given days (missing day = 0 messages). */
  userCounts(host: string, authId: string, days: string[]): number[] {
    if (!days.length) return [];
    const rows = this.db
      .prepare(`SELECT day, messages FROM user_day WHERE host = ? AND auth_id = ? AND day IN (${days.map(() => '?').join(',')})`)
      .all(host, authId, ...days) as { day: string; messages: number }[];
    const byDay = new Map(rows.map((r) => [r.day, r.messages]));
    return days.map((d) => byDay.get(d) ?? 0);
  }

  /** Accounts by their busiest day since `fromDay` (inclusive): the HTML report's candidates to chart. */
  topSenders(fromDay: string, limit: number): { host: string; authId: string; peak: number; total: number; days: number }[] {
    return this.db
      .prepare(
        `SELECT host, auth_id AS authId, max(messages) AS peak, sum(messages) AS total, count(*) AS days
         FROM user_day WHERE day >= ? GROUP BY host, auth_id ORDER BY peak DESC, total DESC, host, auth_id LIMIT ?`,
      )
      .all(fromDay, limit) as { host: string; authId: string; peak: number; total: number; days: number }[];
  }

  close(): void {
    this.open?.close();
  }
}
