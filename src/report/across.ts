// The "Across hosts" part of the table and Markdown reports: summary.correlation in words.
// Accounts, IPs and host names come from server logs: printable()/markdownText() on every one.
import type { CorrelatedAccount, CorrelatedBurst, CorrelatedIp, Correlation } from '../correlate/types.js';
import type { ScanReport } from '../scan/types.js';
import { markdownText } from '../text/printable.js';
import { MAX_ACCOUNT, safeText } from './format.js';

/** Entries of each kind a text report shows (the JSON keeps up to 100). */
const SHOWN = 10;
const MAX_HOST = 80;
const MAX_IP = 60;

type Esc = (s: string, max: number) => string;

const list = (xs: string[], total: number, esc: Esc, max: number, n = 3) =>
  xs
    .slice(0, n)
    .map((x) => esc(x, max))
    .join(', ') + (total > Math.min(n, xs.length) ? `, +${total - Math.min(n, xs.length)}` : '');

const span = (from: string, to: string) => {
  const s = Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
  return s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
};

function accountText(a: CorrelatedAccount, esc: Esc): string {
  const hosts = a.hosts.map((h) => h.host);
  return (
    `account ${esc(a.authId, MAX_ACCOUNT)} logged in on ${hosts.length} hosts (${list(hosts, hosts.length, esc, MAX_HOST)}): ` +
    `${a.messages} message(s), ${a.logins} login(s) without one` +
    (a.sampleIps.length ? `; IPs ${list(a.sampleIps, a.sampleIps.length, esc, MAX_IP)}` : '') +
    (a.suspect ? ' (suspect)' : '')
  );
}

function ipText(x: CorrelatedIp, esc: Esc): string {
  return (
    `IP ${esc(x.ip, MAX_IP)}: ${x.accountCount} account(s) on ${x.hosts.length} host(s) (${list(x.hosts, x.hosts.length, esc, MAX_HOST)}); ` +
    `${x.logins} login(s) to ${x.loggedInCount}, ${x.failures} failure(s) as ${x.failedAccountCount}` +
    (x.sampleAccounts.length ? `: ${list(x.sampleAccounts, x.accountCount, esc, MAX_ACCOUNT)}` : '') +
    (x.suspects.length ? ` (suspects: ${list(x.suspects, x.suspects.length, esc, MAX_ACCOUNT)})` : '')
  );
}

function burstText(b: CorrelatedBurst, esc: Esc): string {
  return (
    `burst on ${esc(b.host, MAX_HOST)}: ${esc(b.authId, MAX_ACCOUNT)} — ${b.failures}${b.failuresCapped ? '+' : ''} failed login(s) ` +
    `from ${esc(b.ip, MAX_IP)} within ${span(b.firstFailure, b.lastFailure)}, then a login at ${b.success}` +
    (b.suspect ? ' (suspect)' : '')
  );
}

/** One line per finding (each list cut at SHOWN), then what is partial. Empty when there is nothing to say. */
function acrossItems(c: Correlation, esc: Esc): string[] {
  const out: string[] = [];
  const add = <T>(xs: T[], omitted: number, text: (x: T, e: Esc) => string, what: string) => {
    out.push(...xs.slice(0, SHOWN).map((x) => text(x, esc)));
    const more = xs.length - Math.min(SHOWN, xs.length) + omitted;
    if (more > 0) out.push(`… and ${more} more ${what} (--format json lists up to 100)`);
  };
  add(c.accounts, c.omitted.accounts, accountText, 'account(s)');
  add(c.ips, c.omitted.ips, ipText, 'IP(s)');
  add(c.bursts, c.omitted.bursts, burstText, 'burst(s)');
  if (c.partial.length)
    out.push(
      `partial: ${c.partial.length} host(s) without full login data: ` +
        c.partial
          .slice(0, 5)
          .map((p) => `${esc(p.host, MAX_HOST)} (${esc(p.why, 200)})`)
          .join(', ') +
        (c.partial.length > 5 ? `, +${c.partial.length - 5}` : ''),
    );
  return out;
}

/** For the table: a short "Across hosts" section after the hosts (and suspects). */
export function renderAcross(r: ScanReport): string[] {
  const c = r.summary.correlation;
  if (!c) return []; // a report written before correlation existed
  const items = acrossItems(c, (s, max) => safeText(s, max));
  if (!items.length) return [];
  const none = !c.accounts.length && !c.ips.length && !c.bursts.length;
  return ['', none ? 'Across hosts: nothing found' : 'Across hosts:', ...items.map((l) => `  ${l}`)];
}

/** For Markdown: a section with one bullet per finding. */
export function renderAcrossMarkdown(r: ScanReport): string[] {
  const c = r.summary.correlation;
  if (!c) return [];
  const items = acrossItems(c, (s, max) => markdownText(s, { max }));
  if (!items.length) return [];
  return ['', '## Across hosts', '', ...items.map((l) => `- ${l}`)];
}
