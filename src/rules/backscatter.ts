// backscatter (seed 003): null-sender bounces queued for addresses outside the host's own domains,
// tied to the account whose forged senders they are going back to. The scan's rule and the
// incident's purge decide with the same functions here, so what the scan blames is what the purge
// may remove — and nothing else.
import type { UserStats } from '../logs/aggregate.js';
import { addDomains, emptyLocalDomains, isLocalDomain, provenForeign, type LocalDomains } from '../mta/local-domains.js';
import { readerOf, type QueueReader } from '../mta/compact-queue.js';
import type { QueueMessage } from '../mta/types.js';
import { recipientWhole } from '../mta/types.js';
import type { RuleSettings } from './settings.js';
import type { AccountFinding, HostEvidence } from './types.js';
import { domainOf } from './types.js';

/**
 * The host's own domains: the MTA's configuration (null when it could not be read: then no
 * domain is proven foreign), the inventory's `local_domains`, and the domains of every account
 * seen authenticating (log) or submitting (queue).
 */
export function hostLocalDomains(
  configured: LocalDomains | null | undefined,
  settings: Pick<RuleSettings, 'local_domains'>,
  users: UserStats[] | null,
  queue: QueueMessage[] | QueueReader,
): LocalDomains {
  const ld: LocalDomains = configured
    ? {
        exact: new Set(configured.exact),
        suffixes: [...configured.suffixes],
        unknown: [...configured.unknown],
        sources: [...configured.sources],
      }
    : { ...emptyLocalDomains(), unknown: ["the MTA's local domains could not be read"] };
  addDomains(ld, settings.local_domains, 'inventory local_domains');
  const accounts = new Set<string>();
  for (const u of users ?? []) accounts.add(u.authId);
  const q = readerOf(queue);
  for (let i = 0; i < q.length; i++) {
    const a = q.authId(i);
    if (a) accounts.add(a);
  }
  addDomains(
    ld,
    [...accounts].map((a) => domainOf(a)).filter((d): d is string => d !== null),
    'authenticated accounts',
  );
  return ld;
}

/** Which account(s) used each envelope sender (lower-case): the queue's attributed mail and the log window. */
export function senderOwners(queue: QueueMessage[] | QueueReader, users: UserStats[] | null): Map<string, Set<string>> {
  const owners = new Map<string, Set<string>>();
  const add = (sender: string, authId: string) => {
    const k = sender.toLowerCase();
    (owners.get(k) ?? owners.set(k, new Set()).get(k)!).add(authId);
  };
  const q = readerOf(queue);
  for (let i = 0; i < q.length; i++) {
    const a = q.authId(i);
    const sender = q.sender(i);
    if (a && sender && !q.senderTruncated(i)) add(sender, a);
  }
  for (const u of users ?? []) for (const s of u.senders ?? []) add(s, u.authId);
  return owners;
}

export interface BounceVerdict {
  message: QueueMessage;
  /** Every recipient whole and proven foreign. */
  foreign: boolean;
  /** The one account whose forged senders every recipient is; null when none or ambiguous. */
  owner: string | null;
}

/**
 * Every null-sender message in the queue, judged. `strict` (the purge): foreign must be proven;
 * otherwise (the scan's report) a domain not known to be local counts as foreign even while some
 * local-domain lookup could not be listed — the finding then says so.
 */
export function classifyBounces(
  queue: QueueMessage[] | QueueReader,
  local: LocalDomains,
  owners: Map<string, Set<string>>,
  strict = true,
): BounceVerdict[] {
  const foreignDomain = (d: string | null) =>
    strict ? provenForeign(local, d) : d !== null && !d.startsWith('[') && !isLocalDomain(local, d);
  const out: BounceVerdict[] = [];
  const q = readerOf(queue);
  for (let i = 0; i < q.length; i++) {
    // A compact queue keeps bounces whole.
    const m = q.bounce(i) ? q.whole(i) : null;
    if (!m) continue;
    const foreign = m.recipients.length > 0 && m.recipients.every((r, i) => recipientWhole(m, i) && foreignDomain(domainOf(r)));
    let owner: string | null = null;
    for (const r of m.recipients) {
      const o = owners.get(r.toLowerCase());
      // Every recipient must be a sender of one and the same account, and of no other.
      if (!o || o.size !== 1) {
        owner = null;
        break;
      }
      const only = [...o][0]!;
      if (owner !== null && owner !== only) {
        owner = null;
        break;
      }
      owner = only;
    }
    out.push({ message: m, foreign, owner });
  }
  return out;
}

/** The account's backscatter: the only bounces the incident may remove. */
export function backscatterOf(verdicts: BounceVerdict[], account: string): QueueMessage[] {
  return verdicts.filter((v) => v.foreign && v.owner === account).map((v) => v.message);
}

export function backscatter(e: HostEvidence): AccountFinding[] {
  const local = hostLocalDomains(e.localDomains, e.settings, e.users, e.queue);
  const foreign = classifyBounces(e.queue, local, senderOwners(e.queue, e.users), false).filter((v) => v.foreign);
  if (foreign.length < e.settings.backscatter_min) return [];
  const frozen = foreign.filter((v) => v.message.frozen).length;
  const severity = foreign.length >= 10 * e.settings.backscatter_min ? ('critical' as const) : ('warning' as const);
  const byOwner = new Map<string, number>();
  for (const v of foreign) if (v.owner) byOwner.set(v.owner, (byOwner.get(v.owner) ?? 0) + 1);
  const untied = foreign.length - [...byOwner.values()].reduce((a, b) => a + b, 0);
  const unproven = local.unknown.length ? `; foreign not proven: ${local.unknown.slice(0, 2).join('; ')}` : '';
  const out: AccountFinding[] = [
    {
      rule: 'backscatter',
      severity,
      message: `${foreign.length} null-sender bounce(s) queued for foreign addresses (${frozen} frozen; ${untied} not tied to any account${unproven})`,
      evidence: {
        messages: foreign.length,
        frozen,
        untied,
        sampleIds: foreign.slice(0, 5).map((v) => v.message.id),
        localDomains: [...local.exact].slice(0, 20),
        localDomainSources: local.sources.slice(0, 10),
        ...(local.unknown.length ? { localDomainsUnknown: local.unknown.slice(0, 10) } : {}),
      },
    },
  ];
  for (const [authId, n] of byOwner)
    out.push({
      rule: 'backscatter',
      severity: 'warning',
      authId,
      message: `${n} bounce(s) going back to senders forged by ${authId}`,
      evidence: { messages: n },
    });
  return out;
}
