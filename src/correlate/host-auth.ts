// A host's login data for the scan report (`hosts[].auth`): the accounts that logged in and the
// client IPs that logged in or tried, cut to a size a fleet's JSON can carry, the cut said.
import type { UserStats } from '../logs/aggregate.js';
import type { AuthIpTracker } from '../logs/auth-ips.js';
import type { HostAuth, HostAuthAccount, HostAuthIp } from './types.js';

/** Per host in the report: enough for a busy shared server's day, small enough for 300 hosts. */
export const MAX_REPORT_ACCOUNTS = 2_000;
export const MAX_REPORT_IPS = 2_000;
export const MAX_REPORT_BURSTS = 50;

/** IPs that touch several accounts or fail are the interesting ones: kept first when the list is cut. */
function ipOrder(a: HostAuthIp, b: HostAuthIp): number {
  const reach = (x: HostAuthIp) => x.accountCount + x.failedAccountCount;
  return reach(b) - reach(a) || b.failures - a.failures || b.logins - a.logins || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
}

export function hostAuth(users: UserStats[], tracker: AuthIpTracker): HostAuth {
  const accounts: HostAuthAccount[] = users
    .filter((u) => u.messages + u.unconfirmed > 0)
    .map((u) => ({
      authId: u.authId,
      messages: u.messages,
      logins: u.unconfirmed,
      ips: u.clientIps.length,
      topIps: [...(u.ipStats ?? [])]
        .sort((a, b) => b.count - a.count)
        .slice(0, 5)
        .map((x) => x.ip),
    }));
  const ips = tracker.ipsResult().sort(ipOrder);
  const bursts = tracker.burstsResult();
  const c = tracker.capped();
  const capped: NonNullable<HostAuth['capped']> = {};
  if (accounts.length > MAX_REPORT_ACCOUNTS) capped.accounts = accounts.length - MAX_REPORT_ACCOUNTS;
  if (ips.length > MAX_REPORT_IPS) capped.ips = ips.length - MAX_REPORT_IPS;
  if (bursts.length + c.burstsDropped > MAX_REPORT_BURSTS) capped.bursts = bursts.length + c.burstsDropped - MAX_REPORT_BURSTS;
  if (c.untrackedIps) capped.untrackedIps = c.untrackedIps;
  if (c.namesDropped) capped.names = c.namesDropped;
  if (c.pairsUntracked) capped.untimedFailures = true;
  return {
    accounts: accounts.slice(0, MAX_REPORT_ACCOUNTS),
    ips: ips.slice(0, MAX_REPORT_IPS),
    bursts: bursts.slice(0, MAX_REPORT_BURSTS),
    burst: { ...tracker.burst },
    ...(Object.keys(capped).length ? { capped } : {}),
  };
}
