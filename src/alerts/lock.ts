// One report run at a time per state file. The lock is an exclusive SQLite transaction on a
// side file: the operating system drops it when the process dies (even on SIGKILL), so a crashed
// run never leaves a stale lock behind, and no PID guessing is needed.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ExitError } from '../errors.js';

export interface RunLock {
  readonly path: string;
  release(): void;
}

function tryLock(db: Database.Database): boolean {
  try {
    db.exec('BEGIN EXCLUSIVE');
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw e;
  }
}

function holder(path: string): string {
  try {
    const h = JSON.parse(readFileSync(`${path}.owner`, 'utf8')) as { pid: number; host: string; since: string };
    return ` (pid ${h.pid} on ${h.host}, started ${h.since})`;
  } catch {
    return '';
  }
}

/**
 * Take the run lock at `path`. Held: throw ExitError(3) at once, or with `waitMs` keep trying
 * until then. `now` is the (possibly injected) run clock, only for the owner note.
 */
export async function acquireRunLock(path: string, o: { waitMs?: number; now?: Date } = {}): Promise<RunLock> {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('busy_timeout = 0');
  const until = Date.now() + (o.waitMs ?? 0);
  while (!tryLock(db)) {
    if (Date.now() >= until) {
      db.close();
      throw new ExitError(
        3,
        o.waitMs
          ? `another report run still holds the lock ${path}${holder(path)} after waiting; not scanning`
          : `another report run holds the lock ${path}${holder(path)}; not scanning (use --wait to run after it)`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // Only for the message a second run prints; the lock itself is the transaction above.
  try {
    writeFileSync(`${path}.owner`, JSON.stringify({ pid: process.pid, host: hostname(), since: (o.now ?? new Date()).toISOString() }));
  } catch {
    /* the note is a courtesy */
  }
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      try {
        rmSync(`${path}.owner`, { force: true });
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}
