// Baselines from the shared PostgreSQL state (issue #12): a host's baseline must not depend on which
// controller scanned it before. Before a shard's scan, the days each of its hosts was observed and the
// per-account counts the baseline rule will ask for are read from the shared store into an in-memory
// HistoryStore, so the rules stay synchronous. Nothing is written back from here: the report records
// the same days and counts as the digest's figures (window_day, account_day: a day's count merged as
// the larger, under a row lock), which is what the next prefetch reads.
import { isWeekday } from '../rules/account-rules.js';
import { ruleSettings } from '../rules/settings.js';
import { utcDay } from '../logs/time.js';
import { HistoryStore, type DayCount } from './store.js';

/** What the prefetch needs of the shared store (SharedStore.baselineHistory). */
export interface BaselineSource {
  baselineHistory(
    hosts: { host: string; limit: number }[],
    beforeDay: string,
    pick: (observed: { host: string; day: string }[]) => { host: string; day: string }[],
    timeoutMs: number,
  ): Promise<{ observed: { host: string; day: string }[]; counts: { host: string; authId: string; day: string; messages: number }[] }>;
}

/** A prefetch slower than this is given up: baselines are then judged without history. */
export const PREFETCH_TIMEOUT_MS = 30_000;

interface Cover {
  /** The host days ("today") the prefetch answers for, and how many observed days it read. */
  todays: Set<string>;
  limit: number;
  /** The days whose counts were read. */
  days: Set<string>;
}

/**
 * The shared history, read for a known set of hosts and days. A question it was not prefetched for
 * (a host whose clock is days off the controller's) throws, which the scan turns into "baseline
 * judged without history" for that host, never a silently wrong baseline. `record` keeps the scan's
 * counts in memory only (the report writes them to the shared store).
 */
export class SharedHistory extends HistoryStore {
  constructor(
    private readonly shown: string,
    private readonly cover: Map<string, Cover>,
    /** Why the shared history could not be read: every read throws it. */
    readonly failure: string | null = null,
  ) {
    super(':memory:');
  }

  private check(host: string, ok: (c: Cover) => boolean, what: string): void {
    if (this.failure) throw new Error(`shared history ${this.shown} not read: ${this.failure}`);
    const c = this.cover.get(host);
    if (!c || !ok(c)) throw new Error(`shared history ${this.shown} was not read for ${what}`);
  }

  override observedDays(host: string, beforeDay: string, limit: number): string[] {
    this.check(
      host,
      (c) => c.todays.has(beforeDay) && limit <= c.limit,
      `day ${beforeDay} (the controller's day is ${[...(this.cover.get(host)?.todays ?? [])].join('/')})`,
    );
    return super.observedDays(host, beforeDay, limit);
  }

  override userCounts(host: string, authId: string, days: string[]): number[] {
    this.check(host, (c) => days.every((d) => c.days.has(d)), `days ${days.join(', ')}`);
    return super.userCounts(host, authId, days);
  }
}

/** The host's "today" may be the controller's UTC day or either neighbour (time zones span ±14 h). */
function candidateDays(nowMs: number): string[] {
  return [-1, 0, 1].map((d) => utcDay(Math.floor(nowMs / 1000) + d * 86_400));
}

/**
 * Read the baseline history of `hosts` (name and inventory vars) as the baseline rule will ask for
 * it on day `nowMs`: per host its observed days, and the counts on the working days the rule keeps.
 * A failure (database unreachable, too slow) gives a SharedHistory whose reads throw it.
 */
export async function prefetchSharedHistory(
  source: BaselineSource,
  hosts: { name: string; vars: Record<string, unknown> }[],
  nowMs: number,
  shown: string,
  timeoutMs = PREFETCH_TIMEOUT_MS,
): Promise<SharedHistory> {
  const todays = candidateDays(nowMs);
  const baselineDays = new Map<string, number>();
  for (const h of hosts) {
    let days: number;
    try {
      days = ruleSettings(h.vars, h.name).baseline_days;
    } catch {
      days = ruleSettings({}).baseline_days; // checked at inventory load; the scan reports it there
    }
    baselineDays.set(h.name, days);
  }
  // observedDays(host, today, 8 × baseline_days) for each candidate today: the newest days before the
  // latest candidate, plus one for each earlier candidate (its own later days are skipped).
  const limitOf = (host: string) => 8 * baselineDays.get(host)!;
  const cover = new Map<string, Cover>();
  const pick = (observed: { host: string; day: string }[]) => {
    const byHost = new Map<string, string[]>();
    for (const o of observed) (byHost.get(o.host) ?? byHost.set(o.host, []).get(o.host)!).push(o.day);
    const out: { host: string; day: string }[] = [];
    for (const [host, days] of byHost) {
      const keep = new Set<string>();
      for (const t of todays)
        for (const d of days
          .filter((x) => x < t)
          .slice(0, limitOf(host))
          .filter(isWeekday)
          .slice(0, baselineDays.get(host)))
          keep.add(d);
      for (const day of keep) out.push({ host, day });
    }
    return out;
  };
  try {
    const r = await source.baselineHistory(
      [...baselineDays.keys()].map((host) => ({ host, limit: limitOf(host) + todays.length - 1 })),
      todays[todays.length - 1]!,
      pick,
      timeoutMs,
    );
    for (const host of baselineDays.keys()) cover.set(host, { todays: new Set(todays), limit: limitOf(host), days: new Set() });
    for (const w of pick(r.observed)) cover.get(w.host)!.days.add(w.day);
    const history = new SharedHistory(shown, cover);
    const observed = new Map<string, string[]>();
    for (const o of r.observed) (observed.get(o.host) ?? observed.set(o.host, []).get(o.host)!).push(o.day);
    const counts = new Map<string, DayCount[]>();
    for (const c of r.counts)
      (counts.get(c.host) ?? counts.set(c.host, []).get(c.host)!).push({
        host: c.host,
        authId: c.authId,
        day: c.day,
        messages: c.messages,
        recipients: 0,
      });
    for (const [host, days] of observed) history.record(host, counts.get(host) ?? [], days);
    return history;
  } catch (e) {
    return new SharedHistory(shown, cover, (e as Error).message || String(e));
  }
}

/** Days of history the HTML page reads before its own window (the baseline line's working days). */
export const PAGE_LOOKBACK_DAYS = 28;

/**
 * The HTML page's history from a report store's figures (a shared state has no history file): the
 * observed days and messages per account from `fromDay` minus PAGE_LOOKBACK_DAYS to `toDay`.
 */
export async function historyFromStore(
  store: {
    windowDays(fromDay: string, toDay: string): Promise<{ host: string; day: string }[]>;
    accountDays(fromDay: string, toDay: string): Promise<{ host: string; authId: string; day: string; messages: number }[]>;
  },
  fromDay: string,
  toDay: string,
): Promise<HistoryStore> {
  const from = utcDay(Date.parse(`${fromDay}T00:00:00Z`) / 1000 - PAGE_LOOKBACK_DAYS * 86_400);
  const [windows, accounts] = await Promise.all([store.windowDays(from, toDay), store.accountDays(from, toDay)]);
  const history = new HistoryStore(':memory:');
  const days = new Map<string, string[]>();
  for (const w of windows) (days.get(w.host) ?? days.set(w.host, []).get(w.host)!).push(w.day);
  const counts = new Map<string, DayCount[]>();
  for (const a of accounts)
    if (a.messages > 0)
      (counts.get(a.host) ?? counts.set(a.host, []).get(a.host)!).push({
        host: a.host,
        authId: a.authId,
        day: a.day,
        messages: a.messages,
        recipients: 0,
      });
  for (const host of new Set([...days.keys(), ...counts.keys()])) history.record(host, counts.get(host) ?? [], days.get(host) ?? []);
  return history;
}
