// What one report run adds to the store for the digest, the history view and the Prometheus file:
// per account and day the log window's figures, per host the queue's shape and queued per account.
import { capDomains } from '../alerts/sqlite-store.js';
import { MAX_DAY_IPS, type AccountDayRow, type ReportStore } from '../alerts/store.js';
import type { AccountWindow } from '../scan/host.js';
import type { HostReport } from '../scan/types.js';
import { queueShape } from './qshape.js';

/**
 * Rows for one host's window. A window of one day (the default, since midnight) gives every figure
 * for that day; a longer one (--since 2d) only messages per day, since its IPs, domains and
 * recipients cannot be split by day.
 */
export function accountDayRows(w: AccountWindow): AccountDayRow[] {
  const whole = w.days.length === 1;
  return w.users.flatMap((u) => {
    const perDay: [string, number][] = Object.entries(u.perDay).filter(([day]) => w.days.includes(day));
    // Logins with no accepted message (or failures naming the account) still belong to today.
    if (whole && u.perDay[w.today] === undefined && (u.unconfirmed > 0 || u.failures > 0)) perDay.push([w.today, 0]);
    return perDay.map(([day, messages]) => {
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
}

/** Fleet-wide messages per account on each host's current day (for the Prometheus file). */
export function sendsToday(windows: AccountWindow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of windows) for (const u of w.users) out[u.authId] = (out[u.authId] ?? 0) + (u.perDay[w.today] ?? 0);
  return out;
}

/** Record the windows and the queue shapes; drops each report's message list once shaped. */
export async function recordDigestFigures(store: ReportStore, runId: number, windows: AccountWindow[], reports: HostReport[]): Promise<void> {
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
