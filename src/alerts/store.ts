// What `mailsweep report` keeps between runs, behind one small interface: SQLite is the embedded
// default (sqlite-store.ts); PostgreSQL (postgres-store.ts) is shared by several controllers and
// adds the sweep (sweep.ts). open-store.ts picks one from --state. Every method is async.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Severity } from '../rules/types.js';
import type { HostStatus, QueueSummary } from '../scan/types.js';

/** A host as one run saw it. `unfinished`: the run's deadline came before the host was done. */
export interface RunHostRow {
  host: string;
  status: HostStatus | 'unfinished';
  reason?: string;
  mta: string | null;
  queue: QueueSummary | null;
  durationMs: number;
}

/** One finding of one run: its fingerprint is stable across runs (host, account or '' for the host, rule). */
export interface FindingRow {
  fingerprint: string;
  host: string;
  /** The account (auth id), or '' for host-level findings (queue size, host status, auth policy). */
  subject: string;
  rule: string;
  severity: Severity;
  message: string;
}

/** account: one account across hosts; host: one host's own findings; status: hosts that could not be scanned, by status. */
export type IncidentKind = 'account' | 'host' | 'status';

/** Per host evidence of an incident, as the last run that saw it there found it. */
export interface HostEvidence {
  host: string;
  severity: 'warning' | 'critical';
  rules: string[];
  messages: string[];
  /** Account incidents: what the scan's suspect ranking knows about the account on this host. */
  sent?: number;
  recipients?: number;
  queued?: number;
  senderDomains?: [string, number][];
  clientIps?: string[];
  clientIpCount?: number;
  /** Queue ids of some of the account's messages (`exim -Mvh ID`, `postcat -hq ID` show them). */
  sampleIds?: string[];
  /** The Subject of one queued message of the account (the scan reads it for a host's top suspect). */
  sampleSubject?: { id: string; subject: string };
  queueTotal?: number;
}

export interface Incident {
  id: number;
  /** "account:<auth id>", "host:<host>" or "status:<host status>": one open incident per key. */
  key: string;
  kind: IncidentKind;
  /** The account, the host name or the status (server text: made printable where shown). */
  subject: string;
  severity: 'warning' | 'critical';
  openedAt: number;
  lastSeenAt: number;
  lastNotifiedAt: number | null;
  resolvedAt: number | null;
  /** Hosts the incident is (or was last) seen on. */
  hosts: string[];
  evidence: HostEvidence[];
}

export type NoticeStatus = 'firing' | 'resolved';
/** Why a notice goes out: new incident, repeat after repeat_interval, worse severity, new hosts, cleared. */
export type NoticeReason = 'new' | 'repeat' | 'escalated' | 'spread' | 'resolved' | 'test' | 'contained';

/** What the report's auto_contain did (or would do, or could not do) about an account on one host. */
export interface ContainmentNote {
  host: string;
  account: string;
  outcome: 'contained' | 'would-contain' | 'already-contained' | 'released' | 'rate-limited' | 'cannot' | 'failed' | 'deadline';
  /** The measures done (contained), in place (already-contained) or meant (the others). */
  measures: string[];
  /** The rules that made the account eligible. */
  rules: string[];
  /** The containment run (its journal in the runs dir). */
  runId?: string;
  /** The command that undoes it, shell-quoted. */
  release?: string;
  /** The command that contains it by hand (when the report did not), shell-quoted. */
  contain?: string;
  /** Why not, or what went wrong (server text possible: printable where shown). */
  detail?: string;
}

/** What a channel renders: a snapshot of the incident at the time of the run. */
export interface Notice {
  status: NoticeStatus;
  reason: NoticeReason;
  incident: Incident;
  /** The run that produced it (ms since epoch). */
  at: number;
  /** `-i FILE` to put into the suggested `mailsweep incident` command, when the run had one. */
  inventory?: string;
  /** Account incidents: what auto_contain did about the account in this run. */
  containment?: ContainmentNote[];
  /** Account incidents: what the fleet correlation says about the account (src/correlate/lines.ts), printable. */
  correlation?: string[];
}

export interface OutboxItem {
  id: number;
  channel: string;
  notice: Notice;
  createdAt: number;
  attempts: number;
  lastError: string | null;
}

export interface RunSummaryRow {
  id: number;
  startedAt: number;
  finishedAt: number | null;
  hosts: number;
  unfinished: number;
  exitCode: number | null;
  /** Channels that failed in this run, with their (secret-free) error. */
  channelErrors: Record<string, string>;
}

/** One host's queue size as one run saw it (null: no queue read, the host failed or was cut). */
export interface HostQueuePoint {
  host: string;
  /** The run's start (ms since epoch). */
  at: number;
  status: RunHostRow['status'];
  total: number | null;
}

export interface PruneResult {
  runs: number;
  /** account_day and window_day rows (days before the cut). */
  accountDays: number;
  incidents: number;
  notices: number;
}

export interface ReportStore {
  beginRun(startedAt: number): Promise<number>;
  recordHosts(runId: number, hosts: RunHostRow[]): Promise<void>;
  recordFindings(runId: number, findings: FindingRow[]): Promise<void>;
  finishRun(
    runId: number,
    r: { finishedAt: number; exitCode: number; unfinished: number; channelErrors: Record<string, string> },
  ): Promise<void>;
  runs(limit: number): Promise<RunSummaryRow[]>;
  runHosts(runId: number): Promise<RunHostRow[]>;
  runFindings(runId: number): Promise<FindingRow[]>;
  /** Every host's queue size in every run started at or after `since`, by host then time (HTML report). */
  hostQueueSeries(since: number): Promise<HostQueuePoint[]>;

  openIncidents(): Promise<Incident[]>;
  incidents(): Promise<Incident[]>;
  /** Creates the incident and returns its id. */
  createIncident(i: Omit<Incident, 'id'>): Promise<number>;
  updateIncident(i: Incident): Promise<void>;

  enqueue(channel: string, notice: Notice, at: number): Promise<void>;
  /** Notices not yet delivered, oldest first. */
  pending(channel?: string): Promise<OutboxItem[]>;
  markSent(id: number, at: number): Promise<void>;
  markFailed(id: number, error: string, at: number): Promise<void>;

  /** Forget runs, resolved incidents and delivered notices older than `before` (pending notices are kept). */
  prune(before: number): Promise<PruneResult>;
  close(): Promise<void>;

  // Digest, history view and Prometheus figures (schema version 2).
  /** Merge one host's log-window figures for `day` (a later run of the same day sees at least as much). */
  recordAccountDays(host: string, rows: AccountDayRow[]): Promise<void>;
  /** Days of `host` whose log window was read (a day with no row for an account is a day it sent 0). */
  recordWindowDays(host: string, days: string[]): Promise<void>;
  accountDays(fromDay: string, toDay: string): Promise<AccountDayRow[]>;
  windowDays(fromDay: string, toDay: string): Promise<{ host: string; day: string }[]>;
  /** One run's queue snapshot of a host: sender domain × age bucket, and queued messages per account. */
  recordQueueShape(runId: number, host: string, shape: QueueShapeRow[], accounts: Record<string, number>): Promise<void>;
  queueShapes(runId: number, host?: string): Promise<QueueShapeRow[]>;
  /** Per run and host: queued messages per account (accounts with none are absent). */
  queueAccounts(from: number, to: number): Promise<{ runId: number; startedAt: number; host: string; authId: string; queued: number }[]>;
  /** Each host of each run started in [from, to), oldest run first. */
  hostRuns(from: number, to: number): Promise<(RunHostRow & { runId: number; startedAt: number })[]>;
  /** Findings of the runs started in [from, to). */
  findingsBetween(from: number, to: number): Promise<(FindingRow & { runId: number; startedAt: number })[]>;
  /** Runs started in [from, to), oldest first. */
  runsBetween(from: number, to: number): Promise<RunSummaryRow[]>;
}

/** One account on one host on one day, as the last run that read that day's log saw it. */
export interface AccountDayRow {
  host: string;
  authId: string;
  /** The server's local day, YYYY-MM-DD. */
  day: string;
  messages: number;
  recipients: number;
  /** Failed logins that named the account. */
  failures: number;
  /** Distinct client IPs (at most MAX_DAY_IPS kept; `ipsTruncated` when there were more). */
  clientIps: string[];
  ipsTruncated: boolean;
  /** Envelope sender domain → messages (at most MAX_DAY_DOMAINS kept). */
  senderDomains: Record<string, number>;
}

export const MAX_DAY_IPS = 1000;
export const MAX_DAY_DOMAINS = 200;

/** qshape's geometric age buckets (minutes): a message younger than 5 min is in "5", older than 1280 in "1280+". */
export const AGE_BUCKETS = [5, 10, 20, 40, 80, 160, 320, 640, 1280] as const;
export const AGE_LABELS = [...AGE_BUCKETS.map(String), '1280+'] as const;

/** One sender domain's queued messages by age bucket (AGE_LABELS order), plus those of unknown age. */
export interface QueueShapeRow {
  domain: string;
  total: number;
  buckets: number[];
  unknownAge: number;
}

export function defaultReportStatePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return env.MAILSWEEP_REPORT_STATE || join(base, 'mailsweep', 'report.sqlite');
}

/**
 * A later run of the same day reads a window that holds the earlier one (since midnight), unless a
 * log rotated or could only be read in part: counts keep the larger value, sets are joined (capped).
 */
export function mergeDay(a: AccountDayRow, b: AccountDayRow): AccountDayRow {
  const ips = new Set(a.clientIps);
  let ipsTruncated = a.ipsTruncated || b.ipsTruncated;
  for (const ip of b.clientIps) {
    if (ips.has(ip)) continue;
    if (ips.size >= MAX_DAY_IPS) ipsTruncated = true;
    else ips.add(ip);
  }
  const domains: Record<string, number> = { ...a.senderDomains };
  for (const [d, n] of Object.entries(b.senderDomains)) domains[d] = Math.max(domains[d] ?? 0, n);
  return {
    ...b,
    messages: Math.max(a.messages, b.messages),
    recipients: Math.max(a.recipients, b.recipients),
    failures: Math.max(a.failures, b.failures),
    clientIps: [...ips],
    ipsTruncated,
    senderDomains: capDomains(domains),
  };
}

/** The MAX_DAY_DOMAINS biggest domains; the rest summed into "(other)". */
export function capDomains(d: Record<string, number>): Record<string, number> {
  const e = Object.entries(d).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  if (e.length <= MAX_DAY_DOMAINS) return Object.fromEntries(e);
  const keep = e.slice(0, MAX_DAY_DOMAINS - 1);
  const rest = e.slice(MAX_DAY_DOMAINS - 1).reduce((s, [, n]) => s + n, 0);
  return Object.fromEntries([...keep, ['(other)', rest]]);
}
