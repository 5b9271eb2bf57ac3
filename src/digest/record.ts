// What one report run adds to the store for the digest, the history view and the Prometheus file:
// per account and day the log window's figures, per host the queue's shape and queued per account.
import { capDomains, MAX_DAY_IPS, type AccountDayRow, type ReportStore } from '../alerts/store.js';
import type { AccountWindow } from '../scan/host.js';
import type { HostReport } from '../scan/types.js';
import { queueShape } from './qshape.js';

/** Per host and day, the names that only failed to log in that are kept (most attempts first). */
export const MAX_FAILED_ONLY = 100;
/** The aggregator's bucket for failure names beyond its cap: not an account. */
const OTHER_FAILURES = '(other)';

/**
 * Rows for one host's window. A window of one day (the default, since midnight) gives every figure
 * for that day; a longer one (--since 2d) only messages per day, since its IPs, domains and
 * recipients cannot be split by day.
 */
export function accountDayRows(w: AccountWindow): AccountDayRow[] {
  const whole = w.days.length === 1;
  const known = new Set(w.users.map((u) => u.authId));
  // Names that only failed to log in (password spraying picks them): the most tried, a bounded number.
  const failedOnly: AccountDayRow[] = whole
    ? Object.entries(w.failuresByUser)
        .filter(([name]) => !known.has(name) && name !== OTHER_FAILURES)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, MAX_FAILED_ONLY)
        .map(([authId, failures]) => ({
          host: w.host,
          authId,
          day: w.today,
          messages: 0,
          recipients: 0,
          failures,
          clientIps: [],
          ipsTruncated: false,
          senderDomains: {},
        }))
    : [];
  const sent = w.users.flatMap((u) => {
    const perDay: [string, number][] = Object.entries(u.perDay).filter(([day]) => w.days.includes(day));
    // Logins with no accepted message (or failures naming the account) still belong to today.
    if (whole && u.perDay[w.today] === undefined && (u.unconfirmed > 0 || u.failures > 0)) perDay.push([w.today, 0]);
    return perDay.map(([day, messages]): AccountDayRow => {
      const full = whole && day === w.today;
      return {
        host: w.host,
        authId: u.authId,
        day,
        messages,
        recipients: full ? u.recipients : 0,
        failures: full ? u.failures : 0,
        clientIps: full ? u.clientIps.slice(0, MAX_DAY_IPS) : [],
        ipsTruncated: full && (u.clientIpsTruncated || u.clientIps.length > MAX_DAY_IPS),
        senderDomains: full ? capDomains(u.senderDomains) : {},
      };
    });
  });
  return [...failedOnly, ...sent];
}

/** Fleet-wide messages per account on each host's current day (for the Prometheus file). */
export function sendsToday(windows: AccountWindow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of windows) for (const u of w.users) out[u.authId] = (out[u.authId] ?? 0) + (u.perDay[w.today] ?? 0);
  return out;
}

/** Record the windows and the queue shapes; drops each report's message list once shaped. */
export async function recordDigestFigures(
  store: ReportStore,
  runId: number,
  windows: AccountWindow[],
  reports: HostReport[],
): Promise<void> {
  for (const w of windows) {
    await store.recordWindowDays(w.host, w.days);
    await store.recordAccountDays(w.host, accountDayRows(w));
  }
  for (const r of reports) {
    if (r.status !== 'ok' || !r.messages) continue;
    const { rows, accounts } = queueShape(r.messages);
    await store.recordQueueShape(runId, r.name, rows, accounts);
    delete r.messages;
  }
}
