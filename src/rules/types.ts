// What the rules look at, and what they say: findings and their severity (the scan report carries them).
import type { UserStats } from '../logs/aggregate.js';
import type { LocalDomains } from '../mta/local-domains.js';
import type { QueueReader } from '../mta/compact-queue.js';
import type { QueueMessage } from '../mta/types.js';
import type { RuleSettings } from './settings.js';

export type Severity = 'info' | 'warning' | 'critical';

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  /** The account the finding is about, for account rules. */
  authId?: string;
  /** Counts, sample ids, thresholds: whatever lets an admin check the claim. */
  evidence?: Record<string, unknown>;
}

export interface HostEvidence {
  host: string;
  /** Queued messages, with authId where attribution found one (kept whole, or compactly: compact-queue.ts). */
  queue: QueueMessage[] | QueueReader;
  /** Per-account totals from the log window; null when the log could not be read. */
  users: UserStats[] | null;
  /** The local day the window ends on (YYYY-MM-DD). */
  today: string;
  /** Past working days' counts of an account, newest first; null = no history for this host. */
  history: ((authId: string) => number[]) | null;
  settings: RuleSettings;
  /** The MTA's own local domains (read over SSH); null = could not be read, undefined = not asked. */
  localDomains?: LocalDomains | null;
}

/** A finding about one account (or, without authId, about the host). */
export interface AccountFinding extends Finding {
  authId?: string;
}

export type Rule = (e: HostEvidence) => AccountFinding[];

export function domainOf(address: string): string | null {
  const at = address.lastIndexOf('@');
  return at > 0 && at < address.length - 1 ? address.slice(at + 1).toLowerCase() : null;
}

export function worstSeverity(findings: Finding[]): Severity | null {
  if (findings.some((f) => f.severity === 'critical')) return 'critical';
  if (findings.some((f) => f.severity === 'warning')) return 'warning';
  return findings.length ? 'info' : null;
}
