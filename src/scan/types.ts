// The scan result: the stable JSON contract (documented in README) and what every reporter renders.
import type { MtaName, QueueMessage } from '../mta/types.js';
import type { Suspect } from '../rules/suspects.js';
import type { Finding } from '../rules/types.js';
import type { TransportErrorKind } from '../errors.js';
import type { Correlation, HostAuth } from '../correlate/types.js';

export type HostStatus = 'ok' | TransportErrorKind;
export const HOST_STATUSES: readonly HostStatus[] = [
  'ok',
  'unreachable',
  'auth-failed',
  'hostkey-unknown',
  'hostkey-changed',
  'timeout',
  'error',
];

export interface QueueSummary {
  total: number;
  frozen: number;
  bounces: number;
  held: number;
  oldestSeconds: number | null;
  /** The MTA's own count, read in the same round trip (null when it prints none). */
  reportedTotal: number | null;
}

export interface HostReport {
  name: string;
  address: string;
  status: HostStatus;
  reason?: string;
  mta: MtaName | null;
  queue: QueueSummary | null;
  messages?: QueueMessage[];
  /** Queue thresholds in force for this host (inventory, group or default). */
  thresholds: { warn: number; crit: number };
  findings: Finding[];
  /** Accounts the rules point at, most likely hijacked first. */
  suspects?: Suspect[];
  /** The log window read for attribution. */
  log?: { files: string[]; lines: number; since: string; reason?: string };
  /** Logins in the log window per account and client IP, and failure bursts (absent when the log was not read whole). */
  auth?: HostAuth;
  /** Parser warnings: output lines that were not understood. */
  warnings?: string[];
  durationMs: number;
}

export interface FleetSuspect extends Suspect {
  host: string;
}

export interface ScanSummary {
  hosts: number;
  /** Suspects of every host, most likely first. */
  suspects: FleetSuspect[];
  byStatus: Record<HostStatus, number>;
  warning: number;
  critical: number;
  queued: number;
  /** Accounts and client IPs across hosts, failure bursts (src/correlate): recomputed from `hosts[].auth`. */
  correlation: Correlation;
  exitCode: 0 | 1 | 2 | 3;
}

export interface ScanReport {
  version: 1;
  startedAt: string;
  finishedAt: string;
  /** `--shard K/N`: this report covers shard `index` of `count` (src/inventory/shard.ts). */
  shard?: { index: number; count: number };
  /** `mailsweep merge`: how many reports it combined; for sharded ones, the shard count and any missing. */
  merged?: { reports: number; shards?: { count: number; missing: number[] } };
  /** `scan --problems`: `hosts` lists only the hosts that are not OK; `summary` still covers all. */
  filter?: 'problems';
  hosts: HostReport[];
  summary: ScanSummary;
}
