// `mailsweep history [HOST|ACCOUNT]`: the per-day trend kept by the report runs, for the fleet, one
// host or one account: sends (log windows, server-local days), peak queue and findings (runs, UTC days).
import type { ReportStore } from '../alerts/store.js';
import { jsonText } from '../text/json.js';
import { printable } from '../text/printable.js';
import { dayOf } from './build.js';

export interface HistoryDay {
  day: string;
  /** Report runs that day (that scanned the host, for a host). */
  runs: number;
  /** Messages sent (null: no log window of the day was read). */
  sends: number | null;
  /** The day's highest queue (fleet: sum of the hosts in one run; account: its queued messages). Null: no run read a queue. */
  queue: number | null;
  /** Distinct warning/critical findings (fingerprints) in the day's runs. */
  findings: number;
}

export interface HistoryView {
  version: 1;
  subject: { kind: 'fleet' | 'host' | 'account'; name: string | null };
  from: string;
  to: string;
  days: HistoryDay[];
  sparklines: { sends: string; queue: string; findings: string };
}

const DAY = 86_400_000;
const BARS = '▁▂▃▄▅▆▇█';
/** Shown for a day with no data (not a zero). */
export const NO_DATA = '·';

/** One bar per value, scaled to the largest; null is NO_DATA. */
export function sparkline(values: (number | null)[]): string {
  const max = Math.max(0, ...values.map((v) => v ?? 0));
  return values.map((v) => (v === null ? NO_DATA : BARS[max === 0 ? 0 : Math.round((v / max) * (BARS.length - 1))]!)).join('');
}

export async function buildHistory(
  store: ReportStore,
  subject: string | undefined,
  days: number,
  now: number,
): Promise<HistoryView | null> {
  const to = dayOf(now);
  const from = dayOf(Date.parse(`${to}T00:00:00Z`) - (days - 1) * DAY);
  const t0 = Date.parse(`${from}T00:00:00Z`);
  const t1 = Date.parse(`${to}T00:00:00Z`) + DAY;
  const [accountDays, windows, hostRuns, findings, queued] = await Promise.all([
    store.accountDays(from, to),
    store.windowDays(from, to),
    store.hostRuns(t0, t1),
    store.findingsBetween(t0, t1),
    store.queueAccounts(t0, t1),
  ]);
  let kind: HistoryView['subject']['kind'] = 'fleet';
  if (subject !== undefined) {
    if (hostRuns.some((h) => h.host === subject) || windows.some((w) => w.host === subject)) kind = 'host';
    else if (
      accountDays.some((a) => a.authId === subject) ||
      queued.some((q) => q.authId === subject) ||
      findings.some((f) => f.subject === subject)
    )
      kind = 'account';
    else return null;
  }
  const isHost = (h: string) => kind !== 'host' || h === subject;

  const out: HistoryDay[] = [];
  for (let t = t0; t < t1; t += DAY) {
    const day = dayOf(t);
    const runsOfDay = hostRuns.filter((h) => dayOf(h.startedAt) === day && isHost(h.host));
    const runIds = new Set(runsOfDay.map((h) => h.runId));
    const observed = windows.some((w) => w.day === day && isHost(w.host));
    const sends = observed
      ? accountDays
          .filter((a) => a.day === day && isHost(a.host) && (kind !== 'account' || a.authId === subject))
          .reduce((s, a) => s + a.messages, 0)
      : null;
    // Queue: per run the total (summed over hosts), the day's highest run.
    const perRun = new Map<number, number>();
    if (kind === 'account') {
      for (const id of runIds) perRun.set(id, 0);
      for (const q of queued) if (runIds.has(q.runId) && q.authId === subject) perRun.set(q.runId, (perRun.get(q.runId) ?? 0) + q.queued);
    } else
      for (const h of runsOfDay)
        if (h.queue) perRun.set(h.runId, (perRun.get(h.runId) ?? 0) + Math.max(h.queue.total, h.queue.reportedTotal ?? 0));
    const fps = new Set(
      findings
        .filter((f) => runIds.has(f.runId) && f.severity !== 'info' && isHost(f.host) && (kind !== 'account' || f.subject === subject))
        .map((f) => f.fingerprint),
    );
    out.push({ day, runs: runIds.size, sends, queue: perRun.size ? Math.max(...perRun.values()) : null, findings: fps.size });
  }
  return {
    version: 1,
    subject: { kind, name: subject ?? null },
    from,
    to,
    days: out,
    sparklines: {
      sends: sparkline(out.map((d) => d.sends)),
      queue: sparkline(out.map((d) => d.queue)),
      findings: sparkline(out.map((d) => (d.runs ? d.findings : null))),
    },
  };
}

export function renderHistoryTable(v: HistoryView): string {
  const who = v.subject.kind === 'fleet' ? 'fleet' : `${v.subject.kind} ${printable(v.subject.name!, { max: 100 })}`;
  const maxSends = Math.max(0, ...v.days.map((d) => d.sends ?? 0));
  const rows = v.days.map((d) => [
    d.day,
    String(d.runs),
    d.sends === null ? '-' : String(d.sends),
    d.queue === null ? '-' : String(d.queue),
    String(d.findings),
    d.sends === null ? NO_DATA : BARS[maxSends === 0 ? 0 : Math.round((d.sends / maxSends) * (BARS.length - 1))]!,
  ]);
  const head = ['DAY', 'RUNS', 'SENDS', 'QUEUE', 'FINDINGS', 'TREND'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(w[i]!) : c.padStart(w[i]!)))
      .join('  ')
      .trimEnd();
  return [
    `mailsweep history, ${who}: ${v.from} to ${v.to} (UTC; sends by the servers' own days)`,
    `sends     ${v.sparklines.sends}`,
    `queue     ${v.sparklines.queue}`,
    `findings  ${v.sparklines.findings}`,
    '',
    fmt(head),
    ...rows.map(fmt),
    '',
  ].join('\n');
}

export function renderHistoryJson(v: HistoryView): string {
  return `${jsonText(v, 2)}\n`;
}
