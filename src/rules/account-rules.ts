// The per-account detection rules (seeds 001–004). Each is a pure function of the evidence.
import { indexesByAccount, readerOf } from '../mta/compact-queue.js';
import type { AccountFinding, HostEvidence, Rule } from './types.js';
import { domainOf } from './types.js';

const sample = <T>(xs: T[], n = 5) => xs.slice(0, n);

/** user-volume (seed 001): more than N messages in the window from one account. */
export const userVolume: Rule = (e) =>
  (e.users ?? [])
    .filter((u) => u.messages > e.settings.user_volume_limit)
    .map((u) => ({
      rule: 'user-volume',
      severity: 'critical',
      authId: u.authId,
      message: `${u.authId} sent ${u.messages} messages (limit ${e.settings.user_volume_limit})`,
      evidence: {
        messages: u.messages,
        recipients: u.recipients,
        limit: e.settings.user_volume_limit,
        sampleIds: sample(u.sampleQueueIds),
      },
    }));

function allowedDomains(authId: string, e: HostEvidence): Set<string> {
  const own = domainOf(authId);
  const allow = e.settings.sender_allow;
  return new Set([...(own ? [own] : []), ...(allow[authId] ?? []), ...(own ? (allow[own] ?? []) : [])].map((d) => d.toLowerCase()));
}

/**
 * sender-mismatch (seed 001 "fraud"): the envelope sender's domain is not the account's own
 * (or an allowed alias). Bare-username accounts have no domain to compare and are skipped.
 */
export const senderMismatch: Rule = (e) => {
  const out: AccountFinding[] = [];
  const seen = new Set<string>();
  const consider = (authId: string, domains: Record<string, number>, ids: string[]) => {
    if (seen.has(authId) || !domainOf(authId)) return;
    seen.add(authId);
    const ok = allowedDomains(authId, e);
    const foreign = Object.entries(domains).filter(([d]) => d !== '(null)' && d !== '' && !ok.has(d.toLowerCase()));
    const count = foreign.reduce((n, [, c]) => n + c, 0);
    if (count < e.settings.sender_mismatch_min) return;
    out.push({
      rule: 'sender-mismatch',
      severity: count >= 10 * e.settings.sender_mismatch_min ? 'critical' : 'warning',
      authId,
      message: `${authId} sent ${count} messages as ${foreign.length} other domain(s): ${sample(
        foreign.sort((a, b) => b[1] - a[1]).map(([d]) => d),
        3,
      ).join(', ')}`,
      evidence: { messages: count, domains: Object.fromEntries(sample(foreign, 20)), sampleIds: sample(ids) },
    });
  };
  for (const u of e.users ?? []) consider(u.authId, u.senderDomains, u.sampleQueueIds);
  // Queue-only view (no readable log): count queued senders.
  const q = readerOf(e.queue);
  for (const [authId, msgs] of indexesByAccount(q)) {
    const domains: Record<string, number> = {};
    for (const i of msgs) {
      const sender = q.sender(i);
      if (!sender || q.senderTruncated(i)) continue; // a cut-short sender has no known domain
      const d = domainOf(sender) ?? '(none)';
      domains[d] = (domains[d] ?? 0) + 1;
    }
    // Only the first ids are shown (sample).
    consider(
      authId,
      domains,
      sample(msgs).map((i) => q.id(i)),
    );
  }
  return out;
};

function isWeekday(day: string): boolean {
  const [y, m, d] = day.split('-').map(Number);
  const wd = new Date(Date.UTC(y!, m! - 1, d!)).getUTCDay();
  return wd >= 1 && wd <= 5;
}

/** Seed 002's arithmetic: allowed = max(avg × percent, floor) (floor alone with no history). */
export function baselineAllowed(pastCounts: number[], s: HostEvidence['settings']): { average: number | null; allowed: number } {
  if (!pastCounts.length) return { average: null, allowed: s.baseline_floor };
  const average = pastCounts.reduce((a, b) => a + b, 0) / pastCounts.length;
  return { average, allowed: Math.max((average * s.baseline_percent) / 100, s.baseline_floor) };
}

/** baseline (seed 002): today against the account's own average over past working days. */
export const baseline: Rule = (e) => {
  const out: AccountFinding[] = [];
  for (const u of e.users ?? []) {
    const today = u.perDay[e.today] ?? 0;
    if (today === 0) continue;
    const past = e.history ? e.history(u.authId) : [];
    const { average, allowed } = baselineAllowed(past, e.settings);
    const overCeiling = today > e.settings.baseline_ceiling;
    if (today <= allowed && !overCeiling) continue;
    out.push({
      rule: 'baseline',
      severity: overCeiling && today > 2 * allowed ? 'critical' : 'warning',
      authId: u.authId,
      message:
        average === null
          ? `${u.authId}: ${today} messages today, no history (allowed ${e.settings.baseline_floor} for a new account)`
          : `${u.authId}: ${today} messages today vs ${average.toFixed(1)}/day over ${past.length} working day(s) (allowed ${Math.round(allowed)})`,
      evidence: {
        today,
        average,
        days: past.length,
        allowed: Math.round(allowed),
        ceiling: e.settings.baseline_ceiling,
        weekend: !isWeekday(e.today),
      },
    });
  }
  return out;
};

/** mass-recipients (seed 003): messages with a huge recipient list, per account. */
export const massRecipients: Rule = (e) => {
  const out: AccountFinding[] = [];
  const q = readerOf(e.queue);
  for (const [authId, msgs] of indexesByAccount(q)) {
    const big = msgs.filter((i) => q.recipientCount(i) >= e.settings.mass_recipients);
    if (!big.length) continue;
    const largest = big.reduce((n, i) => Math.max(n, q.recipientCount(i)), -Infinity);
    out.push({
      rule: 'mass-recipients',
      severity: big.length >= 5 ? 'critical' : 'warning',
      authId,
      message: `${authId}: ${big.length} queued message(s) with ${e.settings.mass_recipients}+ recipients (largest ${largest})`,
      evidence: {
        messages: big.length,
        largest,
        sampleIds: sample(big).map((i) => q.id(i)),
      },
    });
  }
  return out;
};

/** many-ips (seed 004): one account logging in from many client addresses. */
export const manyIps: Rule = (e) =>
  (e.users ?? [])
    .filter((u) => u.clientIps.length >= e.settings.many_ips)
    .map((u) => ({
      rule: 'many-ips',
      severity: u.clientIps.length >= 4 * e.settings.many_ips ? 'critical' : 'warning',
      authId: u.authId,
      message: `${u.authId} authenticated from ${u.clientIps.length}${u.clientIpsTruncated ? '+' : ''} distinct IPs`,
      evidence: { clientIps: sample(u.clientIps, 20), count: u.clientIps.length },
    }));

export const ACCOUNT_RULES: Rule[] = [userVolume, senderMismatch, baseline, massRecipients, manyIps];
/** The names those rules report under (a report policy names them; a test keeps the two lists in step). */
export const ACCOUNT_RULE_NAMES = ['user-volume', 'sender-mismatch', 'baseline', 'mass-recipients', 'many-ips'] as const;
export { isWeekday };
