// Rank the accounts the rules point at: most likely hijacked first, with the numbers behind it.
import type { UserStats } from '../logs/aggregate.js';
import { indexesByAccount, readerOf, type QueueReader } from '../mta/compact-queue.js';
import type { QueueMessage } from '../mta/types.js';
import type { AccountFinding } from './types.js';
import { domainOf } from './types.js';

export interface Suspect {
  authId: string;
  /** Messages sent in the log window (queued ones when the log could not be read). */
  messages: number;
  recipients: number;
  /** Messages of this account still in the queue. */
  queued: number;
  senderDomains: Record<string, number>;
  clientIps: string[];
  /** Envelope senders the account used (log window, then queue), lower-case, at most MAX_SUSPECT_SENDERS: its bounces are its backscatter. */
  senders: string[];
  rules: string[];
  /** The Subject of one of its queued messages (read for the top suspect only). */
  sampleSubject?: { id: string; subject: string };
  score: number;
  sampleIds: string[];
}

const WEIGHT: Record<string, number> = {
  'user-volume': 3,
  'sender-mismatch': 3,
  'mass-recipients': 2,
  baseline: 2,
  'many-ips': 2,
  backscatter: 1,
};
export const MAX_SUSPECT_SENDERS = 10_000;
const SEVERITY_BONUS = { critical: 1, warning: 0, info: 0 } as const;

export function rankSuspects(findings: AccountFinding[], users: UserStats[] | null, queue: QueueMessage[] | QueueReader): Suspect[] {
  const q = readerOf(queue);
  const byUser = new Map((users ?? []).map((u) => [u.authId, u]));
  const accounts = new Map<string, AccountFinding[]>();
  for (const f of findings) if (f.authId) (accounts.get(f.authId) ?? accounts.set(f.authId, []).get(f.authId)!).push(f);
  const out: Suspect[] = [];
  // One pass over the queue for every account (a big queue times many accounts otherwise).
  const queued = indexesByAccount(q);
  for (const [authId, fs] of accounts) {
    const u = byUser.get(authId);
    const mine = queued.get(authId) ?? [];
    const queuedDomains: Record<string, number> = {};
    for (const i of mine) {
      // A sender the listing cut short has no known domain: counted apart, never as a domain.
      const sender = q.sender(i);
      const d = q.senderTruncated(i) ? '(cut short)' : sender ? (domainOf(sender) ?? '(none)') : '(null)';
      queuedDomains[d] = (queuedDomains[d] ?? 0) + 1;
    }
    const rules = [...new Set(fs.map((f) => f.rule))];
    out.push({
      authId,
      messages: u?.messages ?? mine.length,
      // exim logs recipients only with +received_recipients: the queue then knows more.
      recipients: Math.max(
        u?.recipients ?? 0,
        mine.reduce((n, i) => n + q.recipientCount(i), 0),
      ),
      queued: mine.length,
      senderDomains: u?.senderDomains ?? queuedDomains,
      clientIps: u?.clientIps.slice(0, 50) ?? [...new Set(mine.map((i) => q.clientIp(i)).filter((x): x is string => !!x))],
      senders: [
        ...new Set([
          ...(u?.senders ?? []),
          ...mine.filter((i) => q.sender(i) && !q.senderTruncated(i)).map((i) => q.sender(i).toLowerCase()),
        ]),
      ].slice(0, MAX_SUSPECT_SENDERS),
      rules,
      score: rules.reduce((s, r) => s + (WEIGHT[r] ?? 1), 0) + fs.reduce((s, f) => s + SEVERITY_BONUS[f.severity], 0),
      sampleIds: [...new Set([...mine.slice(0, 5).map((i) => q.id(i)), ...(u?.sampleQueueIds ?? [])])].slice(0, 10),
    });
  }
  return out.sort((a, b) => b.score - a.score || b.messages - a.messages || a.authId.localeCompare(b.authId));
}
