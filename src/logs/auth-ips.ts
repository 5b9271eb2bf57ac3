// Per client IP: who logged in from it and who it tried (password spraying across accounts), and
// per (IP, user) the failed logins just before a success (a guessed password). Fed in log order
// by the aggregator; memory is bounded by the caps below, whatever the log's size.
import type { AuthBurst, HostAuthIp } from '../correlate/types.js';

/** Client IPs tracked per host; later new IPs are only counted (`untracked`). */
export const MAX_AUTH_IPS = 10_000;
/** Account names kept per IP (success and failure lists each); the counts stay exact up to MAX_NAME_SET. */
export const MAX_NAMES_PER_IP = 20;
/** Distinct names counted per IP before the count becomes a lower bound. */
const MAX_NAME_SET = 1_000;
/** Names held over all IPs of a host; past it new names are only counted (`namesDropped`). */
export const MAX_NAMES_TOTAL = 50_000;
/** Failure times held over all pairs of a host; past it new pairs' failures are not timed. */
export const MAX_STORED_TIMES = 200_000;
/** (IP, user) pairs whose recent failure times are kept. */
export const MAX_BURST_KEYS = 20_000;
/** Failure times kept per pair (the window prunes them first). */
export const MAX_BURST_TIMES = 1_000;
/** Bursts kept per host. */
export const MAX_BURSTS = 1_000;

export interface BurstSettings {
  /** At least this many failures… */
  failures: number;
  /** …within this many seconds before the success. */
  seconds: number;
}
export const DEFAULT_BURST: BurstSettings = { failures: 5, seconds: 600 };

interface IpState {
  logins: number;
  failures: number;
  unnamedFailures: number;
  accounts: Set<string>;
  failed: Set<string>;
  firstSeen: number | null;
  lastSeen: number | null;
}

/** User names are matched without case: `Bob@Example.com` failing then `bob@example.com` succeeding is one account. */
const key = (user: string) => user.toLowerCase();
const NO_USER = '\u0000';

export class AuthIpTracker {
  private ips = new Map<string, IpState>();
  private untracked = new Set<string>();
  private untrackedOver = 0;
  private failureTimes = new Map<string, number[]>();
  private pairsUntracked = false;
  private bursts = new Map<string, AuthBurst>();
  private burstsDropped = 0;
  private names = 0;
  private namesDropped = 0;
  private storedTimes = 0;
  readonly burst: BurstSettings;

  constructor(burst: BurstSettings = DEFAULT_BURST) {
    this.burst = burst;
  }

  success(authId: string, ip: string, time: number | null): void {
    const s = this.ip(ip, time);
    if (s) {
      s.logins++;
      if (!s.accounts.has(authId)) this.addName(s.accounts, authId);
    }
    if (time !== null) this.checkBurst(authId, ip, time);
  }

  failure(user: string | undefined, ip: string, time: number | null): void {
    const s = this.ip(ip, time);
    if (s) {
      s.failures++;
      if (user === undefined) s.unnamedFailures++;
      else if (!s.failed.has(user)) this.addName(s.failed, user);
    }
    if (time === null) return;
    const k = `${ip}\u0000${user === undefined ? NO_USER : key(user)}`;
    let times = this.failureTimes.get(k);
    if (!times) {
      if (this.failureTimes.size >= MAX_BURST_KEYS) return void (this.pairsUntracked = true);
      this.failureTimes.set(k, (times = []));
    }
    if (this.storedTimes >= MAX_STORED_TIMES) return void (this.pairsUntracked = true);
    times.push(time);
    this.storedTimes++;
    // Only the window before the newest failure can still precede a success.
    const from = time - this.burst.seconds;
    let drop = 0;
    while (drop < times.length && times[drop]! < from) drop++;
    if (times.length - drop > MAX_BURST_TIMES) drop = times.length - MAX_BURST_TIMES;
    if (drop) {
      times.splice(0, drop);
      this.storedTimes -= drop;
    }
  }

  private addName(set: Set<string>, name: string): void {
    if (set.size < MAX_NAME_SET && this.names < MAX_NAMES_TOTAL) {
      set.add(name);
      this.names++;
    } else this.namesDropped++;
  }

  private ip(ip: string, time: number | null): IpState | undefined {
    let s = this.ips.get(ip);
    if (!s) {
      if (this.ips.size >= MAX_AUTH_IPS) {
        if (this.untracked.size < MAX_AUTH_IPS) this.untracked.add(ip);
        else if (!this.untracked.has(ip)) this.untrackedOver++;
        return undefined;
      }
      s = {
        logins: 0,
        failures: 0,
        unnamedFailures: 0,
        accounts: new Set(),
        failed: new Set(),
        firstSeen: null,
        lastSeen: null,
      };
      this.ips.set(ip, s);
    }
    if (time !== null) {
      if (s.firstSeen === null || time < s.firstSeen) s.firstSeen = time;
      if (s.lastSeen === null || time > s.lastSeen) s.lastSeen = time;
    }
    return s;
  }

  /** Failures from `ip` naming the account or no one, within the window before `time`: a burst when enough. */
  private checkBurst(authId: string, ip: string, time: number): void {
    const pair = `${ip}\u0000${key(authId)}`;
    if (this.bursts.has(pair)) return; // the first success after a burst is the moment that matters
    const from = time - this.burst.seconds;
    const inWindow = [
      ...(this.failureTimes.get(`${ip}\u0000${key(authId)}`) ?? []),
      ...(this.failureTimes.get(`${ip}\u0000${NO_USER}`) ?? []),
    ].filter((t) => t >= from && t <= time);
    if (inWindow.length < this.burst.failures) return;
    if (this.bursts.size >= MAX_BURSTS) return void this.burstsDropped++;
    const capped = inWindow.length >= MAX_BURST_TIMES;
    this.bursts.set(pair, {
      authId,
      ip,
      failures: inWindow.length,
      ...(capped ? { failuresCapped: true } : {}),
      firstFailure: Math.min(...inWindow),
      lastFailure: Math.max(...inWindow),
      success: time,
    });
  }

  /** Every tracked IP (uncapped lists cut to MAX_NAMES_PER_IP names). */
  ipsResult(): HostAuthIp[] {
    const out: HostAuthIp[] = [];
    for (const [ip, s] of this.ips)
      out.push({
        ip,
        logins: s.logins,
        failures: s.failures,
        unnamedFailures: s.unnamedFailures,
        accounts: [...s.accounts].slice(0, MAX_NAMES_PER_IP),
        accountCount: s.accounts.size,
        failedAccounts: [...s.failed].slice(0, MAX_NAMES_PER_IP),
        failedAccountCount: s.failed.size,
        firstSeen: s.firstSeen,
        lastSeen: s.lastSeen,
      });
    return out;
  }

  burstsResult(): AuthBurst[] {
    return [...this.bursts.values()].sort((a, b) => b.failures - a.failures || a.success - b.success);
  }

  /** What the caps cost: IPs never tracked, bursts not kept, pairs whose failures were not timed. */
  capped(): { untrackedIps: number; burstsDropped: number; pairsUntracked: boolean; namesDropped: number } {
    return {
      untrackedIps: this.untracked.size + this.untrackedOver,
      burstsDropped: this.burstsDropped,
      pairsUntracked: this.pairsUntracked,
      namesDropped: this.namesDropped,
    };
  }
}
