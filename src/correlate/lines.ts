// What the fleet correlation says about one account, as plain lines for an alert: the other hosts
// it logs in on, the IPs that also reach other accounts or hosts, the bursts before its logins.
// Account names, IPs and hosts come from server logs: printable() on each.
import { printable } from '../text/printable.js';
import type { Correlation } from './types.js';

const p = (s: string | number, max = 120) => printable(String(s), { max });
const fold = (s: string) => s.toLowerCase();
/** Lines per kind in one alert. */
const MAX_LINES = 5;

export function correlationLines(c: Correlation | undefined, authId: string): string[] {
  if (!c) return [];
  const me = fold(authId);
  const out: string[] = [];
  const a = c.accounts.find((x) => fold(x.authId) === me);
  if (a)
    out.push(`logged in on ${a.hosts.length} hosts: ${a.hosts.map((h) => `${p(h.host)} (${h.messages} msg, ${h.ips} IP(s))`).join(', ')}`);
  const ips = c.ips.filter((x) => x.suspects.some((s) => fold(s) === me) || x.sampleAccounts.some((s) => fold(s) === me));
  for (const x of ips.slice(0, MAX_LINES)) {
    const others = x.sampleAccounts.filter((s) => fold(s) !== me);
    out.push(
      `client IP ${p(x.ip, 60)} also reaches ${x.accountCount - 1} other account(s) on ${x.hosts.length} host(s)` +
        ` (${x.logins} login(s), ${x.failures} failure(s))` +
        (others.length
          ? `: ${others
              .slice(0, 5)
              .map((s) => p(s))
              .join(', ')}${x.accountCount - 1 > 5 ? ', …' : ''}`
          : ''),
    );
  }
  if (ips.length > MAX_LINES) out.push(`… and ${ips.length - MAX_LINES} more client IP(s) shared with other accounts or hosts`);
  const bursts = c.bursts.filter((b) => fold(b.authId) === me);
  for (const b of bursts.slice(0, MAX_LINES))
    out.push(
      `${b.failures}${b.failuresCapped ? '+' : ''} failed login(s) from ${p(b.ip, 60)} on ${p(b.host)} ` +
        `(${b.firstFailure} to ${b.lastFailure}), then a successful login at ${b.success}: a guessed password?`,
    );
  if (bursts.length > MAX_LINES) out.push(`… and ${bursts.length - MAX_LINES} more failure burst(s)`);
  return out;
}
