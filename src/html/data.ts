// What the HTML report shows, read from the report store (runs, incidents) and the baseline
// history (daily sends per account), without scanning. Series are computed here; render.ts only draws.
import type { Incident, ReportStore, RunHostRow, RunSummaryRow } from '../alerts/store.js';
import type { HistoryStore } from '../history/store.js';
import { baselineAllowed, isWeekday } from '../rules/account-rules.js';
import { ruleSettings } from '../rules/settings.js';
import { buildHistory, type HistoryView } from '../digest/history.js';

const DAY = 86_400_000;
/** Charts drawn at most; the tables list everything. Keeps a 200-host report a few hundred kB. */
export const MAX_QUEUE_CHARTS = 48;
export const MAX_ACCOUNT_CHARTS = 12;
/** Points per queue chart at most: more runs than this are bucketed (each bucket keeps its peak). */
export const MAX_QUEUE_POINTS = 240;
/** Accounts listed in the senders table. */
const MAX_SENDERS = 200;

export interface QueueSeries {
  host: string;
  /** Run time (ms) and queue size; runs where the queue was not read are gaps, not zeros. */
  points: { at: number; total: number }[];
  peak: number;
  /** Runs in the window that could not read this host's queue. */
  missed: number;
}

export interface SendsDay {
  day: string;
  sent: number;
  /** The baseline rule's average over the account's previous working days on this host (null: no history). */
  average: number | null;
  /** What the rule lets through that day: max(average × percent, floor). */
  allowed: number;
}

export interface AccountSeries {
  host: string;
  authId: string;
  days: SendsDay[];
  total: number;
  peak: number;
  /** The account has an open incident. */
  flagged: boolean;
}

export interface SenderRow {
  host: string;
  authId: string;
  total: number;
  peak: number;
  days: number;
}

export interface HtmlReportData {
  generatedAt: number;
  windowDays: number;
  /** First day of the window (YYYY-MM-DD, UTC). */
  fromDay: string;
  lastRun: RunSummaryRow | null;
  /** Hosts as the last run saw them. */
  hosts: RunHostRow[];
  open: Incident[];
  queue: QueueSeries[];
  /** Hosts with a queue series that were not charted (MAX_QUEUE_CHARTS). */
  queueNotCharted: number;
  accounts: AccountSeries[];
  senders: SenderRow[];
  /** `-i FILE` for the suggested commands. */
  inventory?: string;
  /** False when no history was given (--no-history): the account charts say so. */
  hasHistory: boolean;
  /** The fleet's per-day trend: the same view `mailsweep history` prints. */
  trend: HistoryView | null;
}

export interface CollectOptions {
  now: number;
  days: number;
  inventory?: string;
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Keep at most `max` points: equal time buckets, each keeping its highest queue (a spike must not vanish). */
export function bucketPeaks(points: { at: number; total: number }[], max: number): { at: number; total: number }[] {
  if (points.length <= max) return points;
  const first = points[0]!.at;
  const span = points[points.length - 1]!.at - first + 1;
  const out: { at: number; total: number }[] = [];
  for (const p of points) {
    const b = Math.min(max - 1, Math.floor(((p.at - first) / span) * max));
    const last = out[out.length - 1] as { at: number; total: number; b?: number } | undefined;
    if (last && last.b === b) {
      if (p.total > last.total) Object.assign(last, { at: p.at, total: p.total });
    } else out.push({ ...p, b } as { at: number; total: number });
  }
  return out.map(({ at, total }) => ({ at, total }));
}

async function queueSeries(store: ReportStore, since: number, open: Incident[]): Promise<{ charted: QueueSeries[]; notCharted: number }> {
  const byHost = new Map<string, QueueSeries>();
  for (const p of await store.hostQueueSeries(since)) {
    const s = byHost.get(p.host) ?? byHost.set(p.host, { host: p.host, points: [], peak: 0, missed: 0 }).get(p.host)!;
    if (p.total === null) s.missed++;
    else {
      s.points.push({ at: p.at, total: p.total });
      s.peak = Math.max(s.peak, p.total);
    }
  }
  const troubled = new Set(open.flatMap((i) => i.hosts));
  // Problems first: hosts in an open incident, then the biggest peaks.
  const all = [...byHost.values()].sort(
    (a, b) => Number(troubled.has(b.host)) - Number(troubled.has(a.host)) || b.peak - a.peak || a.host.localeCompare(b.host),
  );
  const charted = all.slice(0, MAX_QUEUE_CHARTS).map((s) => ({ ...s, points: bucketPeaks(s.points, MAX_QUEUE_POINTS) }));
  return { charted, notCharted: all.length - charted.length };
}

function accountSeries(
  history: HistoryStore,
  host: string,
  authId: string,
  fromDay: string,
  toDay: string,
  flagged: boolean,
): AccountSeries {
  const settings = ruleSettings({});
  // Days the host was observed in the window (a day it was not scanned is unknown, not zero).
  const nextDay = utcDay(Date.parse(`${toDay}T00:00:00Z`) + DAY);
  const observed = history
    .observedDays(host, nextDay, 400)
    .filter((d) => d >= fromDay)
    .reverse();
  const sent = history.userCounts(host, authId, observed);
  const days = observed.map((day, i) => {
    // The baseline rule's own arithmetic (default settings): previous working days observed on this host.
    const prior = history
      .observedDays(host, day, 8 * settings.baseline_days)
      .filter(isWeekday)
      .slice(0, settings.baseline_days);
    const { average, allowed } = baselineAllowed(history.userCounts(host, authId, prior), settings);
    return { day, sent: sent[i]!, average, allowed };
  });
  return { host, authId, days, total: sent.reduce((a, b) => a + b, 0), peak: Math.max(0, ...sent), flagged };
}

export async function collectHtmlData(store: ReportStore, history: HistoryStore | undefined, o: CollectOptions): Promise<HtmlReportData> {
  const since = o.now - o.days * DAY;
  const fromDay = utcDay(since);
  const toDay = utcDay(o.now);
  const [lastRun] = await store.runs(1);
  const open = await store.openIncidents();
  const hosts = lastRun ? await store.runHosts(lastRun.id) : [];
  const { charted, notCharted } = await queueSeries(store, since, open);

  const accounts: AccountSeries[] = [];
  let senders: SenderRow[] = [];
  if (history) {
    senders = history.topSenders(fromDay, MAX_SENDERS);
    // Accounts of open incidents first (on each host they fire on), then the busiest senders.
    const pairs = new Map<string, { host: string; authId: string; flagged: boolean }>();
    for (const i of open)
      if (i.kind === 'account')
        for (const h of i.hosts) pairs.set(`${h}\0${i.subject.toLowerCase()}`, { host: h, authId: i.subject, flagged: true });
    for (const s of senders) {
      const key = `${s.host}\0${s.authId.toLowerCase()}`;
      if (!pairs.has(key)) pairs.set(key, { host: s.host, authId: s.authId, flagged: false });
    }
    for (const p of [...pairs.values()].slice(0, MAX_ACCOUNT_CHARTS)) {
      const series = accountSeries(history, p.host, p.authId, fromDay, toDay, p.flagged);
      if (series.days.length) accounts.push(series);
    }
  }
  return {
    generatedAt: o.now,
    windowDays: o.days,
    fromDay,
    lastRun: lastRun ?? null,
    hosts,
    open,
    queue: charted,
    queueNotCharted: notCharted,
    accounts,
    senders,
    hasHistory: history !== undefined,
    trend: await buildHistory(store, undefined, o.days, o.now),
    ...(o.inventory ? { inventory: o.inventory } : {}),
  };
}
