// The report store's SQLite schema (migrations, appended only) and how its rows map to the store's
// records: apart from the store's queries so each reads on its own.
import type { AccountDayRow } from './store.js';
import type { Incident, RunSummaryRow } from './store.js';

/** Migration N brings the schema from version N to N+1. Never edit a shipped one: append. */
export const MIGRATIONS: string[] = [
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     started_at INTEGER NOT NULL, finished_at INTEGER, hosts INTEGER NOT NULL DEFAULT 0,
     unfinished INTEGER NOT NULL DEFAULT 0, exit_code INTEGER, channel_errors TEXT NOT NULL DEFAULT '{}'
   );
   CREATE TABLE run_hosts (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, host TEXT NOT NULL,
     status TEXT NOT NULL, reason TEXT, mta TEXT, queue TEXT, duration_ms INTEGER NOT NULL,
     PRIMARY KEY (run_id, host)
   );
   CREATE TABLE findings (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, fingerprint TEXT NOT NULL,
     host TEXT NOT NULL, subject TEXT NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL,
     PRIMARY KEY (run_id, fingerprint)
   );
   CREATE INDEX findings_fingerprint ON findings (fingerprint);
   CREATE TABLE incidents (
     id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,
     severity TEXT NOT NULL, opened_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
     last_notified_at INTEGER, resolved_at INTEGER, hosts TEXT NOT NULL, evidence TEXT NOT NULL
   );
   CREATE UNIQUE INDEX incidents_open_key ON incidents (key) WHERE resolved_at IS NULL;
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, notice TEXT NOT NULL,
     created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
     last_attempt_at INTEGER, sent_at INTEGER
   );
   CREATE INDEX outbox_pending ON outbox (channel, id) WHERE sent_at IS NULL;`,
  // 2: what the digest, the history view and the Prometheus file need.
  `CREATE TABLE account_day (
     host TEXT NOT NULL, auth_id TEXT NOT NULL, day TEXT NOT NULL,
     messages INTEGER NOT NULL, recipients INTEGER NOT NULL, failures INTEGER NOT NULL,
     client_ips TEXT NOT NULL, ips_truncated INTEGER NOT NULL, sender_domains TEXT NOT NULL,
     PRIMARY KEY (host, auth_id, day)
   );
   CREATE INDEX account_day_day ON account_day (day);
   CREATE TABLE window_day (host TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (host, day));
   CREATE TABLE queue_shape (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, host TEXT NOT NULL, domain TEXT NOT NULL,
     total INTEGER NOT NULL, buckets TEXT NOT NULL, unknown_age INTEGER NOT NULL,
     PRIMARY KEY (run_id, host, domain)
   );
   CREATE TABLE queue_account (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, host TEXT NOT NULL, auth_id TEXT NOT NULL,
     queued INTEGER NOT NULL, PRIMARY KEY (run_id, host, auth_id)
   );
   CREATE INDEX runs_started ON runs (started_at);`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export interface IncidentRow {
  id: number;
  key: string;
  kind: string;
  subject: string;
  severity: string;
  opened_at: number;
  last_seen_at: number;
  last_notified_at: number | null;
  resolved_at: number | null;
  hosts: string;
  evidence: string;
}

export function toIncident(r: IncidentRow): Incident {
  return {
    id: r.id,
    key: r.key,
    kind: r.kind as Incident['kind'],
    subject: r.subject,
    severity: r.severity as Incident['severity'],
    openedAt: r.opened_at,
    lastSeenAt: r.last_seen_at,
    lastNotifiedAt: r.last_notified_at,
    resolvedAt: r.resolved_at,
    hosts: JSON.parse(r.hosts) as string[],
    evidence: JSON.parse(r.evidence) as Incident['evidence'],
  };
}

/** A new incident's column values in the order both stores insert them (key … evidence). */
export function incidentValues(i: Omit<Incident, 'id'>): (string | number | null)[] {
  return [
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
  ];
}

/** An incident's changing columns, then its id, in the order both stores update them. */
export function incidentUpdateValues(i: Incident): (string | number | null)[] {
  return [i.severity, i.lastSeenAt, i.lastNotifiedAt, i.resolvedAt, JSON.stringify(i.hosts), JSON.stringify(i.evidence), i.id];
}

export interface RunDb {
  id: number;
  started_at: number;
  finished_at: number | null;
  hosts: number;
  unfinished: number;
  exit_code: number | null;
  channel_errors: string;
}

export function toRun(r: RunDb): RunSummaryRow {
  return {
    id: r.id,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    hosts: r.hosts,
    unfinished: r.unfinished,
    exitCode: r.exit_code,
    channelErrors: JSON.parse(r.channel_errors) as Record<string, string>,
  };
}

export interface AccountDayDb {
  host: string;
  auth_id: string;
  day: string;
  messages: number;
  recipients: number;
  failures: number;
  client_ips: string;
  ips_truncated: number;
  sender_domains: string;
}

export function toAccountDay(r: AccountDayDb): AccountDayRow {
  return {
    host: r.host,
    authId: r.auth_id,
    day: r.day,
    messages: r.messages,
    recipients: r.recipients,
    failures: r.failures,
    clientIps: JSON.parse(r.client_ips) as string[],
    ipsTruncated: r.ips_truncated === 1,
    senderDomains: JSON.parse(r.sender_domains) as Record<string, number>,
  };
}

/** An account day's column values in the order both stores write them (host, auth_id, day, … sender_domains). */
export function accountDayValues(host: string, m: AccountDayRow): (string | number)[] {
  return [
    host,
    m.authId,
    m.day,
    m.messages,
    m.recipients,
    m.failures,
    JSON.stringify(m.clientIps),
    m.ipsTruncated ? 1 : 0,
    JSON.stringify(m.senderDomains),
  ];
}
