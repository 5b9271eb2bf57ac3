// Several controllers, one sweep: each shard's run records its host reports under a sweep id; the
// round is complete when every shard of N has recorded since the sweep's last decision, and then
// exactly one controller (the one whose record completed it, under an advisory lock) decides and
// sends for the whole sweep. A store that can be shared (PostgreSQL) implements this.
import type { BaselineSource } from '../history/shared.js';
import type { Shard } from '../inventory/shard.js';
import type { HostReport } from '../scan/types.js';
import type { ReportStore } from './store.js';

/** One sweep's reports to decide: every undecided shard record, the shards that did not record. */
export interface SweepRound {
  sweep: string;
  count: number;
  /** Shards (1-based) with no record in this round: their hosts were not scanned. */
  missing: number[];
  reports: HostReport[];
  /** The latest recorded run start of the round: the decision's clock. */
  at: number;
}

/** The store as seen while this controller holds the alerting lock (one transaction per `transaction`). */
export interface AlertingSession extends ReportStore {
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Record this shard's reports of `sweep` (a rerun of a shard replaces its record) and claim the
   * rounds that are now to be decided: this sweep when every shard has recorded; with
   * `staleBefore`, also other sweeps whose undecided records all predate it (a shard died: decided
   * with what is there). Claimed rounds are marked decided when the transaction commits.
   */
  recordShard(sweep: string, shard: Shard, runId: number, at: number, reports: HostReport[], staleBefore?: number): Promise<SweepRound[]>;
  /** `--finish-sweep`: claim the undecided records of `sweep` whatever is missing (null: none). */
  claimSweep(sweep: string, at: number): Promise<SweepRound | null>;
}

/** The baseline's history of some hosts, read before a scan: BaselineSource (history/shared.ts). */
export interface SharedStore extends ReportStore, BaselineSource {
  readonly shared: true;
  /** Run `fn` holding the alerting lock (waits for another controller's alerting phase to end). */
  alerting<T>(fn: (s: AlertingSession) => Promise<T>): Promise<T>;
  /** One run per shard at a time: false when another controller runs this shard now. */
  tryShardLock(name: string): Promise<boolean>;
}

export const isShared = (s: ReportStore): s is SharedStore => (s as Partial<SharedStore>).shared === true;

/**
 * What the decision needs of a host (the deciding controller holds the whole sweep's): no queued
 * messages, log window or parser warnings; suspects only where a finding (a warning or critical, or one naming an account) may
 * point at one. A quiet host is a few hundred bytes.
 */
export function sweepReport(h: HostReport): HostReport {
  const { messages: _m, log: _l, warnings: _w, suspects, ...rest } = h;
  const alerting = h.findings.some((f) => f.severity !== 'info' || f.authId);
  return alerting && suspects ? { ...rest, suspects } : rest;
}

/** The default sweep id: the UTC hour of the run's start (cron and systemd timers fire on the hour). */
export function defaultSweep(now: number): string {
  return new Date(now).toISOString().slice(0, 13) + 'Z';
}
