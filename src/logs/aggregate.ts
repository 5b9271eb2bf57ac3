// Per-user totals from a stream of submissions and failures. State grows with the number of
// users, client IPs, sender domains and days — never with the number of lines.

import { AuthIpTracker, type BurstSettings } from './auth-ips.js';
import { utcDay } from './time.js';
import type { AuthFailureEvent, LogSink, Submission } from './types.js';
import { isAuthenticated } from './types.js';

export interface UserStats {
  authId: string;
  /** Accepted messages (unconfirmed logins/transactions not included). */
  messages: number;
  /** Sum of the recipient counts the log gave (messages without a count add nothing). */
  recipients: number;
  /** Logins / authenticated transactions with no accepted message (see Submission.unconfirmed). */
  unconfirmed: number;
  /** Distinct client IPs of messages and logins (at most MAX_IPS_PER_USER; see clientIpsTruncated). */
  clientIps: string[];
  clientIpsTruncated: boolean;
  /** Per client IP (the same ones as clientIps): messages and logins from it, first and last seen (epoch s). */
  ipStats?: IpStat[];
  /** Envelope sender domain → messages ('(none)' for a sender without @). */
  senderDomains: Record<string, number>;
  nullSenders: number;
  /** Distinct envelope senders, lower-case (at most MAX_SENDERS_PER_USER): whose bounces are this account's backscatter. */
  senders?: string[];
  firstSeen: number | null;
  lastSeen: number | null;
  /** Up to 10 queue ids, first seen first. */
  sampleQueueIds: string[];
  /** 'YYYY-MM-DD' → messages, in the aggregator's day offset (UTC by default). */
  perDay: Record<string, number>;
  /** Failed logins that named this user. */
  failures: number;
}

export interface IpStat {
  ip: string;
  count: number;
  firstSeen: number | null;
  lastSeen: number | null;
}

export interface FailureStats {
  total: number;
  withoutUser: number;
  byUser: Record<string, number>;
  byIp: Record<string, number>;
}

export interface AggregateSummary {
  /** Accepted messages, authenticated or not. */
  messages: number;
  authenticatedMessages: number;
  /** Authenticated messages whose log shows no id (exim `A=name` without `:id`). */
  authenticatedWithoutId: number;
  unconfirmed: number;
  nullSenders: number;
  failures: number;
}

export const MAX_SAMPLE_IDS = 10;
export const MAX_IPS_PER_USER = 10_000;
export const MAX_DOMAINS_PER_USER = 1_000;
export const MAX_SENDERS_PER_USER = 10_000;
export const MAX_FAILURE_KEYS = 100_000;
const OTHER = '(other)';

interface UserState extends Omit<UserStats, 'clientIps' | 'failures' | 'senders' | 'ipStats'> {
  ips: Map<string, IpStat>;
  senderSet: Set<string>;
}

export interface AggregatorOptions {
  /** Offset east of UTC for perDay boundaries (default 0 = UTC days). */
  tzOffsetMinutes?: number;
  /** What counts as a guessed password (default DEFAULT_BURST: 5 failures within 600 s). */
  burst?: BurstSettings;
}

export class AuthAggregator implements LogSink {
  private users = new Map<string, UserState>();
  private failuresByUser = new Map<string, number>();
  private failuresByIp = new Map<string, number>();
  private totals: AggregateSummary = {
    messages: 0,
    authenticatedMessages: 0,
    authenticatedWithoutId: 0,
    unconfirmed: 0,
    nullSenders: 0,
    failures: 0,
  };
  private failuresWithoutUser = 0;
  private readonly dayOffset: number;
  readonly warnings: string[] = [];
  /** Logins and failures per client IP, and failure bursts before a success (correlation's raw data). */
  readonly authIps: AuthIpTracker;

  constructor(opts: AggregatorOptions = {}) {
    this.dayOffset = (opts.tzOffsetMinutes ?? 0) * 60;
    this.authIps = new AuthIpTracker(opts.burst);
  }

  add(s: Submission): void {
    if (s.unconfirmed) this.totals.unconfirmed++;
    else {
      this.totals.messages++;
      if (s.sender === '') this.totals.nullSenders++;
      if (isAuthenticated(s)) this.totals.authenticatedMessages++;
      if (isAuthenticated(s) && s.authId === undefined) this.totals.authenticatedWithoutId++;
    }
    if (s.authId === undefined) return;
    if (s.clientIp !== undefined) this.authIps.success(s.authId, s.clientIp, s.time);
    let u = this.users.get(s.authId);
    if (!u) {
      u = {
        authId: s.authId,
        messages: 0,
        recipients: 0,
        unconfirmed: 0,
        ips: new Map(),
        senderSet: new Set(),
        clientIpsTruncated: false,
        senderDomains: {},
        nullSenders: 0,
        firstSeen: null,
        lastSeen: null,
        sampleQueueIds: [],
        perDay: {},
      };
      this.users.set(s.authId, u);
    }
    if (s.clientIp !== undefined) {
      let ip = u.ips.get(s.clientIp);
      if (!ip && u.ips.size < MAX_IPS_PER_USER) u.ips.set(s.clientIp, (ip = { ip: s.clientIp, count: 0, firstSeen: null, lastSeen: null }));
      else if (!ip) u.clientIpsTruncated = true;
      if (ip) {
        ip.count++;
        if (s.time !== null && (ip.firstSeen === null || s.time < ip.firstSeen)) ip.firstSeen = s.time;
        if (s.time !== null && (ip.lastSeen === null || s.time > ip.lastSeen)) ip.lastSeen = s.time;
      }
    }
    if (s.time !== null) {
      if (u.firstSeen === null || s.time < u.firstSeen) u.firstSeen = s.time;
      if (u.lastSeen === null || s.time > u.lastSeen) u.lastSeen = s.time;
    }
    if (s.unconfirmed) {
      u.unconfirmed++;
      return;
    }
    u.messages++;
    u.recipients += s.recipients ?? 0;
    if (s.sender === '') u.nullSenders++;
    else if (s.sender !== undefined) {
      const at = s.sender.lastIndexOf('@');
      const domain = at < 0 ? '(none)' : s.sender.slice(at + 1).toLowerCase();
      const key = domain in u.senderDomains || Object.keys(u.senderDomains).length < MAX_DOMAINS_PER_USER ? domain : OTHER;
      u.senderDomains[key] = (u.senderDomains[key] ?? 0) + 1;
      if (u.senderSet.size < MAX_SENDERS_PER_USER) u.senderSet.add(s.sender.toLowerCase());
    }
    if (s.queueId !== undefined && u.sampleQueueIds.length < MAX_SAMPLE_IDS) u.sampleQueueIds.push(s.queueId);
    if (s.time !== null) {
      const day = utcDay(s.time + this.dayOffset);
      u.perDay[day] = (u.perDay[day] ?? 0) + 1;
    }
  }

  addFailure(f: AuthFailureEvent): void {
    this.totals.failures++;
    if (f.user !== undefined) bump(this.failuresByUser, f.user);
    else this.failuresWithoutUser++;
    if (f.clientIp !== undefined) {
      bump(this.failuresByIp, f.clientIp);
      this.authIps.failure(f.user, f.clientIp, f.time);
    }
  }

  // LogSink, so a parser can feed the aggregator directly
  submission(s: Submission): void {
    this.add(s);
  }
  failure(f: AuthFailureEvent): void {
    this.addFailure(f);
  }
  warning(w: string): void {
    if (this.warnings.length < 100) this.warnings.push(w);
  }

  /** Users with an auth id, most messages first (then most logins, then by id). */
  result(): UserStats[] {
    const out: UserStats[] = [];
    for (const u of this.users.values()) {
      const { ips, senderSet, ...rest } = u;
      out.push({
        ...rest,
        clientIps: [...ips.keys()],
        ipStats: [...ips.values()].map((x) => ({ ...x })),
        senders: [...senderSet],
        failures: this.failuresByUser.get(u.authId) ?? 0,
      });
    }
    return out.sort((a, b) => b.messages - a.messages || b.unconfirmed - a.unconfirmed || a.authId.localeCompare(b.authId));
  }

  failureStats(): FailureStats {
    return {
      total: this.totals.failures,
      withoutUser: this.failuresWithoutUser,
      byUser: Object.fromEntries(this.failuresByUser),
      byIp: Object.fromEntries(this.failuresByIp),
    };
  }

  summary(): AggregateSummary {
    return { ...this.totals };
  }
}

function bump(map: Map<string, number>, key: string): void {
  const n = map.get(key);
  if (n !== undefined) map.set(key, n + 1);
  else if (map.size < MAX_FAILURE_KEYS) map.set(key, 1);
  else map.set(OTHER, (map.get(OTHER) ?? 0) + 1);
}
