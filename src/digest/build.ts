// The digest of a period, from the report store alone (no scan): what pflogsumm and eximstats would
// print if they knew who authenticated, plus qshape's table for every host. Pure data; the renderers
// (render.ts, csv.ts) only format it. The JSON form of this object is documented in README.
import { AGE_LABELS, type AccountDayRow, type Incident, type QueueShapeRow, type ReportStore } from '../alerts/store.js';
import { mergeShapes, withTotal } from './qshape.js';

export type DigestKind = 'daily' | 'weekly';
export const DIGEST_DAYS: Record<DigestKind, number> = { daily: 1, weekly: 7 };
/** Days before the period that make an account's baseline. */
export const BASELINE_DAYS = 28;
/** An account sending this many times its baseline per day (and at least SURGE_MIN a day) is a problem. */
export const SURGE_FACTOR = 3;
export const SURGE_MIN = 50;

export interface DigestProblem {
  severity: 'critical' | 'warning';
  kind: 'incident' | 'host' | 'surge' | 'channel';
  /** The account, host, or channel the problem is about (server text: printable where shown). */
  subject: string;
  hosts: string[];
  message: string;
}

export interface AccountDigest {
  account: string;
  hosts: string[];
  messages: number;
  recipients: number;
  /** Distinct client IPs over the period and hosts. */
  clientIps: number;
  clientIpsTruncated: boolean;
  /** Sender domains, most messages first. */
  senderDomains: [string, number][];
  failures: number;
  /** Days of the period with a log window read on one of the account's hosts. */
  daysObserved: number;
  perDay: number;
  /** Mean messages a day over the baseline days (null: none observed). */
  baselinePerDay: number | null;
  baselineDays: number;
  /** Per-day change vs baseline in percent (null: no baseline, or baseline 0). */
  changePct: number | null;
  /** Rules of warning/critical findings on this account in the period's runs. */
  flagged: string[];
}

export interface HostDigest {
  host: string;
  runs: number;
  /** Runs per status other than ok (unfinished included). */
  failed: Record<string, number>;
  lastStatus: string | null;
  lastReason: string | null;
  queue: {
    last: number;
    min: number;
    max: number;
    mean: number;
    maxFrozen: number;
    maxBounces: number;
    oldestSeconds: number | null;
  } | null;
}

export interface QshapeTable {
  /** null for the fleet-wide table. */
  host: string | null;
  /** The run the snapshot comes from (fleet: the newest of them); null when none. */
  at: string | null;
  /** TOTAL first, then sender domains by size. */
  rows: QueueShapeRow[];
}

export interface Digest {
  version: 1;
  kind: DigestKind;
  period: { from: string; to: string; days: number };
  generatedAt: string;
  runs: { count: number; first: string | null; last: string | null };
  buckets: readonly string[];
  problems: DigestProblem[];
  accounts: AccountDigest[];
  hosts: HostDigest[];
  qshape: { fleet: QshapeTable; hosts: QshapeTable[] };
}

const DAY = 86_400_000;
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The period's last day from --day: YYYY-MM-DD, today or yesterday (UTC, on the run clock). */
export function periodEnd(day: string | undefined, now: number): string | null {
  if (day === undefined || day === 'yesterday') return dayOf(now - DAY);
  if (day === 'today') return dayOf(now);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(dayStart(day)) || dayOf(dayStart(day)) !== day) return null;
  return day;
}

function accountFigures(rows: AccountDayRow[]) {
  const by = new Map<
    string,
    {
      hosts: Set<string>;
      messages: number;
      recipients: number;
      failures: number;
      ips: Set<string>;
      truncated: boolean;
      domains: Map<string, number>;
    }
  >();
  for (const r of rows) {
    let a = by.get(r.authId);
    if (!a)
      by.set(
        r.authId,
        (a = { hosts: new Set(), messages: 0, recipients: 0, failures: 0, ips: new Set(), truncated: false, domains: new Map() }),
      );
    a.hosts.add(r.host);
    a.messages += r.messages;
    a.recipients += r.recipients;
    a.failures += r.failures;
    for (const ip of r.clientIps) a.ips.add(ip);
    a.truncated ||= r.ipsTruncated;
    for (const [d, n] of Object.entries(r.senderDomains)) a.domains.set(d, (a.domains.get(d) ?? 0) + n);
  }
  return by;
}

function incidentProblem(i: Incident, to: number): DigestProblem {
  const hosts = [...i.hosts].sort(byText);
  const state = i.resolvedAt !== null && i.resolvedAt < to ? `resolved ${iso(i.resolvedAt)}` : 'still open';
  const what =
    i.kind === 'account'
      ? `account ${i.subject} flagged on ${hosts.length} host(s)`
      : i.kind === 'host'
        ? `host ${i.subject} flagged`
        : `${hosts.length} host(s) not scanned (${i.subject}): ${hosts.slice(0, 10).join(', ')}${hosts.length > 10 ? ', …' : ''};`;
  return { severity: i.severity, kind: 'incident', subject: i.subject, hosts, message: `${what} since ${iso(i.openedAt)}, ${state}` };
}

export async function buildDigest(store: ReportStore, kind: DigestKind, lastDay: string, now: number): Promise<Digest> {
  const days = DIGEST_DAYS[kind];
  const fromDay = dayOf(dayStart(lastDay) - (days - 1) * DAY);
  const from = dayStart(fromDay);
  const to = dayStart(lastDay) + DAY;
  const baseFrom = dayOf(from - BASELINE_DAYS * DAY);
  const baseTo = dayOf(from - DAY);

  const [rows, baseRows, windows, baseWindows, hostRuns, findings, runs, incidents] = await Promise.all([
    store.accountDays(fromDay, lastDay),
    store.accountDays(baseFrom, baseTo),
    store.windowDays(fromDay, lastDay),
    store.windowDays(baseFrom, baseTo),
    store.hostRuns(from, to),
    store.findingsBetween(from, to),
    store.runsBetween(from, to),
    store.incidents(),
  ]);

  // Accounts: the period's figures, its change vs the days before.
  const flagged = new Map<string, Set<string>>();
  for (const f of findings)
    if (f.subject && f.severity !== 'info') (flagged.get(f.subject) ?? flagged.set(f.subject, new Set()).get(f.subject)!).add(f.rule);
  // Per host: observed days, and the account's messages there; the change is judged host by host
  // (hosts seen in the period only), so a host that could not be read does not look like a drop.
  const observed = (ws: { host: string; day: string }[]) => {
    const m = new Map<string, Set<string>>();
    for (const w of ws) (m.get(w.host) ?? m.set(w.host, new Set()).get(w.host)!).add(w.day);
    return m;
  };
  const seenP = observed(windows);
  const seenB = observed(baseWindows);
  const baseMsgs = new Map<string, number>();
  for (const r of baseRows) baseMsgs.set(`${r.host}\n${r.authId}`, (baseMsgs.get(`${r.host}\n${r.authId}`) ?? 0) + r.messages);
  const periodMsgs = new Map<string, number>();
  for (const r of rows) periodMsgs.set(`${r.host}\n${r.authId}`, (periodMsgs.get(`${r.host}\n${r.authId}`) ?? 0) + r.messages);
  const accounts: AccountDigest[] = [];
  for (const [account, a] of accountFigures(rows)) {
    let perDay = 0;
    let baselinePerDay: number | null = null;
    const pDays = new Set<string>();
    const bDays = new Set<string>();
    for (const h of a.hosts) {
      const p = seenP.get(h);
      p?.forEach((d) => pDays.add(d));
      perDay += (periodMsgs.get(`${h}\n${account}`) ?? 0) / Math.max(1, p?.size ?? 0);
      const b = seenB.get(h);
      if (!b?.size) continue;
      b.forEach((d) => bDays.add(d));
      baselinePerDay = (baselinePerDay ?? 0) + (baseMsgs.get(`${h}\n${account}`) ?? 0) / b.size;
    }
    const baselineDays = bDays.size;
    accounts.push({
      account,
      hosts: [...a.hosts].sort(byText),
      messages: a.messages,
      recipients: a.recipients,
      clientIps: a.ips.size,
      clientIpsTruncated: a.truncated,
      senderDomains: [...a.domains].sort((x, y) => y[1] - x[1] || byText(x[0], y[0])),
      failures: a.failures,
      daysObserved: Math.max(1, pDays.size),
      perDay: round1(perDay),
      baselinePerDay: baselinePerDay === null ? null : round1(baselinePerDay),
      baselineDays,
      changePct: baselinePerDay ? Math.round(((perDay - baselinePerDay) / baselinePerDay) * 100) : null,
      flagged: [...(flagged.get(account) ?? [])].sort(byText),
    });
  }
  // Flagged accounts first, then by messages.
  accounts.sort(
    (x, y) => Number(y.flagged.length > 0) - Number(x.flagged.length > 0) || y.messages - x.messages || byText(x.account, y.account),
  );

  // Hosts: queue over the period's runs, failures by status.
  const hostMap = new Map<string, typeof hostRuns>();
  for (const h of hostRuns) (hostMap.get(h.host) ?? hostMap.set(h.host, []).get(h.host)!).push(h);
  const hosts: HostDigest[] = [...hostMap].map(([host, hs]) => {
    const failed: Record<string, number> = {};
    for (const h of hs) if (h.status !== 'ok') failed[h.status] = (failed[h.status] ?? 0) + 1;
    const qs = hs.filter((h) => h.queue).map((h) => ({ ...h.queue!, total: Math.max(h.queue!.total, h.queue!.reportedTotal ?? 0) }));
    const last = hs[hs.length - 1]!;
    const oldest = qs.map((q) => q.oldestSeconds).filter((x): x is number => x !== null);
    return {
      host,
      runs: hs.length,
      failed,
      lastStatus: last.status,
      lastReason: last.reason ?? null,
      queue: qs.length
        ? {
            last: qs[qs.length - 1]!.total,
            min: Math.min(...qs.map((q) => q.total)),
            max: Math.max(...qs.map((q) => q.total)),
            mean: round1(qs.reduce((s, q) => s + q.total, 0) / qs.length),
            maxFrozen: Math.max(...qs.map((q) => q.frozen)),
            maxBounces: Math.max(...qs.map((q) => q.bounces)),
            oldestSeconds: oldest.length ? Math.max(...oldest) : null,
          }
        : null,
    };
  });

  // Problems first: hosts that could not always be scanned, then the biggest queues.
  const failedRuns = (h: HostDigest) => Object.values(h.failed).reduce((s, n) => s + n, 0);
  hosts.sort((x, y) => failedRuns(y) - failedRuns(x) || (y.queue?.max ?? -1) - (x.queue?.max ?? -1) || byText(x.host, y.host));

  // qshape: each host's latest scanned queue in the period.
  const hostTables: QshapeTable[] = [];
  for (const [host, hs] of [...hostMap].sort((x, y) => byText(x[0], y[0]))) {
    const latest = [...hs].reverse().find((h) => h.status === 'ok' && h.queue);
    if (!latest) continue;
    hostTables.push({ host, at: iso(latest.startedAt), rows: withTotal(await store.queueShapes(latest.runId, host)) });
  }
  const newest =
    hostTables
      .map((t) => t.at!)
      .sort(byText)
      .pop() ?? null;
  const fleet: QshapeTable = { host: null, at: newest, rows: withTotal(mergeShapes(hostTables.map((t) => t.rows.slice(1)))) };
  // Busiest queues first in the per-host list: problems first.
  hostTables.sort((x, y) => y.rows[0]!.total - x.rows[0]!.total || byText(x.host!, y.host!));

  // Problems: incidents of the period, hosts that could not be scanned, surges, channels that failed.
  const problems: DigestProblem[] = incidents
    .filter((i) => i.openedAt < to && (i.resolvedAt === null || i.resolvedAt >= from))
    .map((i) => incidentProblem(i, to));
  for (const h of hosts) {
    const bad = Object.entries(h.failed);
    if (!bad.length) continue;
    const n = bad.reduce((s, [, c]) => s + c, 0);
    problems.push({
      severity: 'warning',
      kind: 'host',
      subject: h.host,
      hosts: [h.host],
      message: `host ${h.host} not scanned in ${n} of ${h.runs} run(s): ${bad.map(([s, c]) => `${s} ${c}`).join(', ')}${h.lastStatus !== 'ok' && h.lastReason ? `; last: ${h.lastReason}` : ''}`,
    });
  }
  for (const a of accounts)
    if (!a.flagged.length && a.baselinePerDay !== null && a.perDay >= SURGE_MIN && a.perDay >= SURGE_FACTOR * a.baselinePerDay)
      problems.push({
        severity: 'warning',
        kind: 'surge',
        subject: a.account,
        hosts: a.hosts,
        message: `account ${a.account} sent ${a.perDay}/day, ${a.baselinePerDay ? `${round1(a.perDay / a.baselinePerDay)}×` : 'vs none on'} its baseline (${a.baselinePerDay}/day over ${a.baselineDays} day(s)), not flagged by a rule`,
      });
  const channelFails = new Map<string, { count: number; last: string }>();
  for (const r of runs)
    for (const [ch, err] of Object.entries(r.channelErrors))
      channelFails.set(ch, { count: (channelFails.get(ch)?.count ?? 0) + 1, last: err });
  for (const [ch, f] of [...channelFails].sort((x, y) => byText(x[0], y[0])))
    problems.push({
      severity: 'warning',
      kind: 'channel',
      subject: ch,
      hosts: [],
      message: `channel ${ch} failed in ${f.count} run(s); last error: ${f.last}`,
    });
  problems.sort((x, y) => Number(y.severity === 'critical') - Number(x.severity === 'critical'));

  return {
    version: 1,
    kind,
    period: { from: fromDay, to: lastDay, days },
    generatedAt: new Date(now).toISOString(),
    runs: { count: runs.length, first: iso(runs[0]?.startedAt ?? null), last: iso(runs[runs.length - 1]?.startedAt ?? null) },
    buckets: AGE_LABELS,
    problems,
    accounts,
    hosts,
    qshape: { fleet, hosts: hostTables },
  };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
