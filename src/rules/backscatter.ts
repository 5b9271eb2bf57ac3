// backscatter (seed 003): null-sender bounces queued for addresses outside the host's own domains,
// tied to the account whose forged senders they are going back to.
import type { AccountFinding, HostEvidence } from './types.js';
import { domainOf } from './types.js';
import { recipientWhole } from '../mta/types.js';

/** The host's own domains: configured, else the domains its authenticated accounts belong to. */
export function localDomains(e: HostEvidence): Set<string> {
  if (e.settings.local_domains.length) return new Set(e.settings.local_domains.map((d) => d.toLowerCase()));
  const ds = new Set<string>();
  for (const u of e.users ?? []) {
    const d = domainOf(u.authId);
    if (d) ds.add(d);
  }
  for (const m of e.queue) {
    const d = m.authId ? domainOf(m.authId) : null;
    if (d) ds.add(d);
  }
  return ds;
}

export function backscatter(e: HostEvidence): AccountFinding[] {
  const local = localDomains(e);
  // A recipient the listing cut short (sendmail mailq) has an unknown domain: never proof of foreign.
  const bounces = e.queue.filter((m) => m.bounce && m.recipients.some((r, i) => recipientWhole(m, i) && !local.has(domainOf(r) ?? '')));
  if (bounces.length < e.settings.backscatter_min) return [];
  // Which account's spam caused them: bounces go back to the spam's (forged) envelope senders.
  const senderOwner = new Map<string, string>();
  for (const m of e.queue) if (m.authId && m.sender) senderOwner.set(m.sender.toLowerCase(), m.authId);
  const byOwner = new Map<string, number>();
  for (const b of bounces)
    for (const r of b.recipients) {
      const owner = senderOwner.get(r.toLowerCase());
      if (owner) {
        byOwner.set(owner, (byOwner.get(owner) ?? 0) + 1);
        break;
      }
    }
  const frozen = bounces.filter((b) => b.frozen).length;
  const base = {
    rule: 'backscatter',
    severity: bounces.length >= 10 * e.settings.backscatter_min ? ('critical' as const) : ('warning' as const),
  };
  const out: AccountFinding[] = [
    {
      ...base,
      message: `${bounces.length} null-sender bounce(s) queued for foreign addresses (${frozen} frozen)`,
      evidence: { messages: bounces.length, frozen, sampleIds: bounces.slice(0, 5).map((b) => b.id), localDomains: [...local].slice(0, 20) },
    },
  ];
  for (const [authId, n] of byOwner)
    out.push({ ...base, severity: 'warning', authId, message: `${n} bounce(s) going back to senders forged by ${authId}`, evidence: { messages: n } });
  return out;
}
