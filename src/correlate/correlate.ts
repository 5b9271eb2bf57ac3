// Fleet-wide correlation over the hosts' login data (`hosts[].auth`): one account logging in on
// several servers, one client IP logging in to (or trying) several accounts or servers — password
// spraying — and failure bursts before a success. Pure, and recomputed from the hosts on every
// scan and merge, so shards merged give what one whole scan gives.
import type { HostReport } from '../scan/types.js';
import type { CorrelatedAccount, CorrelatedBurst, CorrelatedIp, Correlation } from './types.js';

/** Each list of the summary keeps this many, suspects first. */
export const MAX_CORRELATED = 100;
/** Sample IPs / accounts per entry. */
export const MAX_SAMPLES = 10;

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const iso = (t: number | null) => (t === null ? null : new Date(t * 1000).toISOString());
/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export const isLoopback = (ip: string): boolean => /^(?:::ffff:)?127\./i.test(ip) || ip === '::1';
/** Accounts are compared without case (cPanel, dovecot and most SASL back ends do so too). */
const fold = (s: string) => s.toLowerCase();

interface IpAcc {
  ip: string;
  hosts: Set<string>;
  loggedIn: Map<string, string>;
  failed: Map<string, string>;
  /** Names past a host's per-IP cap, known only as counts. */
  unlistedLoggedIn: number;
  unlistedFailed: number;
  logins: number;
  failures: number;
  first: number | null;
  last: number | null;
}

export function correlate(hosts: HostReport[]): Correlation {
  const suspects = new Set(hosts.flatMap((h) => (h.suspects ?? []).map((s) => fold(s.authId))));
  const partial: Correlation['partial'] = [];
  const accounts = new Map<string, { authId: string; hosts: CorrelatedAccount['hosts']; ips: string[] }>();
  const ips = new Map<string, IpAcc>();
  const bursts: CorrelatedBurst[] = [];

  for (const h of hosts) {
    if (h.status !== 'ok') continue; // its status already says it was not scanned
    const auth = h.auth;
    if (!auth) {
      // No log section at all: attribution was off (--no-attribution), nothing was meant to be read.
      if (h.log) partial.push({ host: h.name, why: h.log.reason ? `log not read whole: ${h.log.reason}` : 'no login data in its report' });
      continue;
    }
    const c = auth.capped;
    if (c) {
      const parts = [
        c.accounts ? `${c.accounts} account(s) not listed` : '',
        c.ips ? `${c.ips} IP(s) not listed` : '',
        c.untrackedIps ? `${c.untrackedIps} IP(s) not tracked` : '',
        c.bursts ? `${c.bursts} burst(s) not listed` : '',
        c.names ? `${c.names} account name(s) only counted` : '',
        c.untimedFailures ? 'some failures not timed for bursts' : '',
      ].filter(Boolean);
      if (parts.length) partial.push({ host: h.name, why: `capped: ${parts.join(', ')}` });
    }
    for (const a of auth.accounts) {
      const k = fold(a.authId);
      const acc = accounts.get(k) ?? accounts.set(k, { authId: a.authId, hosts: [], ips: [] }).get(k)!;
      acc.hosts.push({ host: h.name, messages: a.messages, logins: a.logins, ips: a.ips });
      for (const ip of a.topIps) if (acc.ips.length < MAX_SAMPLES && !acc.ips.includes(ip)) acc.ips.push(ip);
    }
    for (const x of auth.ips) {
      // The server itself (webmail, a local script): the same address on every host, never one client.
      if (isLoopback(x.ip)) continue;
      const acc =
        ips.get(x.ip) ??
        ips
          .set(x.ip, {
            ip: x.ip,
            hosts: new Set(),
            loggedIn: new Map(),
            failed: new Map(),
            unlistedLoggedIn: 0,
            unlistedFailed: 0,
            logins: 0,
            failures: 0,
            first: null,
            last: null,
          })
          .get(x.ip)!;
      acc.hosts.add(h.name);
      for (const a of x.accounts) if (!acc.loggedIn.has(fold(a))) acc.loggedIn.set(fold(a), a);
      for (const a of x.failedAccounts) if (!acc.failed.has(fold(a))) acc.failed.set(fold(a), a);
      acc.unlistedLoggedIn += Math.max(0, x.accountCount - x.accounts.length);
      acc.unlistedFailed += Math.max(0, x.failedAccountCount - x.failedAccounts.length);
      acc.logins += x.logins;
      acc.failures += x.failures;
      if (x.firstSeen !== null && (acc.first === null || x.firstSeen < acc.first)) acc.first = x.firstSeen;
      if (x.lastSeen !== null && (acc.last === null || x.lastSeen > acc.last)) acc.last = x.lastSeen;
    }
    for (const b of auth.bursts)
      bursts.push({
        host: h.name,
        authId: b.authId,
        ip: b.ip,
        failures: b.failures,
        ...(b.failuresCapped ? { failuresCapped: true } : {}),
        firstFailure: iso(b.firstFailure)!,
        lastFailure: iso(b.lastFailure)!,
        success: iso(b.success)!,
        suspect: suspects.has(fold(b.authId)),
      });
  }

  const accountList: CorrelatedAccount[] = [...accounts.values()]
    .filter((a) => new Set(a.hosts.map((x) => x.host)).size > 1)
    .map((a) => ({
      authId: a.authId,
      hosts: a.hosts.sort((x, y) => cmp(x.host, y.host)),
      messages: a.hosts.reduce((n, x) => n + x.messages, 0),
      logins: a.hosts.reduce((n, x) => n + x.logins, 0),
      sampleIps: a.ips,
      suspect: suspects.has(fold(a.authId)),
    }))
    .sort((a, b) => +b.suspect - +a.suspect || b.hosts.length - a.hosts.length || b.messages - a.messages || cmp(a.authId, b.authId));

  const ipList: CorrelatedIp[] = [];
  for (const x of ips.values()) {
    const accountCount = new Set([...x.loggedIn.keys(), ...x.failed.keys()]).size + x.unlistedLoggedIn + x.unlistedFailed;
    if (accountCount < 2 && x.hosts.size < 2) continue;
    const sample = [...x.loggedIn.values(), ...[...x.failed].filter(([k]) => !x.loggedIn.has(k)).map(([, v]) => v)];
    ipList.push({
      ip: x.ip,
      hosts: [...x.hosts].sort(cmp),
      accountCount,
      sampleAccounts: sample.slice(0, MAX_SAMPLES),
      loggedInCount: x.loggedIn.size + x.unlistedLoggedIn,
      failedAccountCount: x.failed.size + x.unlistedFailed,
      logins: x.logins,
      failures: x.failures,
      firstSeen: iso(x.first),
      lastSeen: iso(x.last),
      suspects: sample.filter((a) => suspects.has(fold(a))).slice(0, MAX_SAMPLES),
    });
  }
  // Spraying first: IPs that reach suspects, then the most accounts, hosts and failures.
  ipList.sort(
    (a, b) =>
      +(b.suspects.length > 0) - +(a.suspects.length > 0) ||
      b.accountCount - a.accountCount ||
      b.hosts.length - a.hosts.length ||
      b.failures - a.failures ||
      cmp(a.ip, b.ip),
  );
  bursts.sort((a, b) => +b.suspect - +a.suspect || b.failures - a.failures || cmp(a.host, b.host) || cmp(a.authId, b.authId));

  const cut = <T>(xs: T[]) => xs.slice(0, MAX_CORRELATED);
  return {
    accounts: cut(accountList),
    ips: cut(ipList),
    bursts: cut(bursts),
    omitted: {
      accounts: Math.max(0, accountList.length - MAX_CORRELATED),
      ips: Math.max(0, ipList.length - MAX_CORRELATED),
      bursts: Math.max(0, bursts.length - MAX_CORRELATED),
    },
    partial,
  };
}
