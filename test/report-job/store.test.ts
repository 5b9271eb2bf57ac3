// The SQLite report store: versioned schema, refusal of a newer one, pruning that never drops
// undelivered notices.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/alerts/sqlite-schema.js';
import { openReportStore } from '../../src/alerts/open-store.js';
import { SqliteReportStore } from '../../src/alerts/sqlite-store.js';
import type { Incident, Notice } from '../../src/alerts/store.js';

const DAY = 86_400_000;
const incident: Omit<Incident, 'id'> = {
  key: 'account:bob@x.test',
  kind: 'account',
  subject: 'bob@x.test',
  severity: 'critical',
  openedAt: 0,
  lastSeenAt: 0,
  lastNotifiedAt: 0,
  resolvedAt: null,
  hosts: ['mx1'],
  evidence: [{ host: 'mx1', severity: 'critical', rules: ['sender-mismatch'], messages: ['m'] }],
};

describe('SqliteReportStore', () => {
  it('creates the schema on first use and refuses a state file from a newer mailsweep', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ms-store-')), 'deep', 'report.sqlite');
    const s = new SqliteReportStore(path);
    await s.close();
    const db = new Database(path);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new SqliteReportStore(path)).toThrow(`schema version ${SCHEMA_VERSION + 1} was written by a newer mailsweep`);
  });

  it('allows one open incident per key', async () => {
    const s = new SqliteReportStore(':memory:');
    await s.createIncident(incident);
    await expect(s.createIncident(incident)).rejects.toThrow(/UNIQUE/);
    await s.createIncident({ ...incident, resolvedAt: 5 });
    expect((await s.openIncidents()).length).toBe(1);
    await s.close();
  });

  it('prunes old runs, resolved incidents and delivered notices; keeps open incidents and pending notices', async () => {
    const s = new SqliteReportStore(':memory:');
    const old = await s.beginRun(0);
    await s.recordHosts(old, [{ host: 'mx1', status: 'ok', mta: 'exim', queue: null, durationMs: 1 }]);
    await s.recordFindings(old, [{ fingerprint: 'f', host: 'mx1', subject: '', rule: 'queue-size', severity: 'warning', message: 'm' }]);
    await s.beginRun(100 * DAY);
    const openId = await s.createIncident(incident);
    await s.createIncident({ ...incident, resolvedAt: DAY });
    const n: Notice = { status: 'firing', reason: 'new', at: 0, incident: { id: openId, ...incident } };
    await s.enqueue('mail', n, 0);
    await s.enqueue('hook', n, 0);
    const [sent] = await s.pending('mail');
    await s.markSent(sent!.id, 0);
    expect(await s.prune(10 * DAY)).toEqual({ runs: 1, accountDays: 0, incidents: 1, notices: 1 });
    expect(await s.runFindings(old)).toEqual([]);
    expect((await s.runs(10)).length).toBe(1);
    expect((await s.openIncidents()).map((i) => i.id)).toEqual([openId]);
    expect((await s.pending()).map((p) => p.channel)).toEqual(['hook']);
    await s.close();
  });

  it('a URL that is not PostgreSQL is refused with a clear message (and no password shown); a path opens SQLite', async () => {
    const err = (await openReportStore('mysql://ms:hunter2@db.example.net/ms').catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(
      '--state mysql://…@db.example.net/ms: unknown database URL scheme (postgres:// or postgresql://, or a SQLite file path)',
    );
    const s = await openReportStore(join(mkdtempSync(join(tmpdir(), 'ms-store-')), 'r.sqlite'));
    expect(s).toBeInstanceOf(SqliteReportStore);
    await s.close();
  });
});
