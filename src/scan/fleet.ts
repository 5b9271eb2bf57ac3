// Scan many hosts at once: p-limit pool, a hard deadline per host, events for progress renderers.
import pLimit from 'p-limit';
import type { HostSpec } from '../inventory/types.js';
import { printable } from '../text/printable.js';
import { TransportError } from '../errors.js';
import { transportFor, type ConnectSettings } from './connect.js';
import { queueOutputCap, scanHost, type HostScanOptions } from './host.js';
import { worstSeverity } from '../rules/types.js';
import { HOST_STATUSES, type HostReport, type ScanReport, type ScanSummary } from './types.js';

export type FleetEvent = { kind: 'host-start'; host: HostSpec } | { kind: 'host-done'; host: HostSpec; report: HostReport };

export interface FleetOptions
  extends ConnectSettings, Pick<HostScanOptions, 'attribution' | 'since' | 'history' | 'onAccounts' | 'outputCapBytes'> {
  forks: number;
  commandTimeoutMs: number;
  includeMessages: boolean;
  onEvent?: (e: FleetEvent) => void;
  /**
   * The whole run's deadline (scan --deadline): no host's own budget reaches past it, so a
   * host still running then is reported (timeout, this reason) instead of holding the run.
   */
  runDeadline?: { at: number; reason: string };
}

/**
 * Whole-host budget: connect + detect + queue read + log read, with slack; a hung host cannot hold the
 * run. scanHost fits the log read and the auth-policy probe inside it, so they degrade on their own first.
 */
export function hostDeadlineMs(o: Pick<FleetOptions, 'connectTimeoutMs' | 'commandTimeoutMs'>): number {
  return o.connectTimeoutMs + 3 * o.commandTimeoutMs + 5_000;
}

function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function emit(o: FleetOptions, e: FleetEvent): void {
  try {
    o.onEvent?.(e);
  } catch {
    // A broken progress renderer must not fail the scan.
  }
}

export async function scanFleet(hosts: HostSpec[], o: FleetOptions): Promise<ScanReport> {
  const startedAt = new Date().toISOString();
  const limit = pLimit(Math.max(1, o.forks));
  const reports = await Promise.all(
    hosts.map((host) =>
      limit(async () => {
        emit(o, { kind: 'host-start', host });
        const transport = transportFor(host, o);
        const started = Date.now();
        const own = hostDeadlineMs(o);
        const run = o.runDeadline ? Math.max(0, o.runDeadline.at - started) : Infinity;
        const deadline = Math.min(own, run);
        const report = printableMessages(
          await withDeadline(
            scanHost(host, transport, {
              commandTimeoutMs: o.commandTimeoutMs,
              includeMessages: o.includeMessages,
              attribution: o.attribution,
              since: o.since,
              history: o.history,
              onAccounts: o.onAccounts,
              deadlineMs: deadline,
              outputCapBytes: o.outputCapBytes ?? queueOutputCap(o.forks),
            }),
            deadline,
            (): HostReport => ({
              name: host.name,
              address: host.address,
              status: 'timeout',
              reason: new TransportError(
                'timeout',
                run < own ? o.runDeadline!.reason : `host did not finish within ${Math.round(deadline / 1000)}s`,
              ).message,
              mta: host.mta ?? null,
              queue: null,
              thresholds: { warn: host.queueWarn, crit: host.queueCrit },
              findings: [],
              durationMs: Date.now() - started,
            }),
          ),
        );
        await transport.close().catch(() => {});
        emit(o, { kind: 'host-done', host, report });
        return report;
      }),
    ),
  );
  return { version: 1, startedAt, finishedAt: new Date().toISOString(), hosts: reports, summary: summarizeFleet(reports) };
}

/**
 * The report's sentences for people (reason, finding messages, log note, parser warnings) may
 * quote server text: made printable here, so every format and every consumer of the JSON
 * (`jq -r .hosts[].reason`) shows them safely. Data fields (auth ids, senders, recipients,
 * domains, evidence) keep the server's bytes; each renderer makes those printable itself.
 */
export function printableMessages(r: HostReport): HostReport {
  const line = (s: string) => printable(s, { max: 1000 });
  return {
    ...r,
    ...(r.reason !== undefined ? { reason: line(r.reason) } : {}),
    findings: r.findings.map((f) => ({ ...f, message: line(f.message) })),
    ...(r.log ? { log: { ...r.log, ...(r.log.reason !== undefined ? { reason: line(r.log.reason) } : {}) } } : {}),
    ...(r.warnings ? { warnings: r.warnings.map(line) } : {}),
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Nagios semantics: any critical → 2, else any warning → 1, else any host not ok → 3 (unknown), else 0. */
export function summarizeFleet(reports: HostReport[]): ScanSummary {
  const byStatus = Object.fromEntries(HOST_STATUSES.map((s) => [s, 0])) as ScanSummary['byStatus'];
  let warning = 0;
  let critical = 0;
  let queued = 0;
  for (const r of reports) {
    byStatus[r.status]++;
    const w = worstSeverity(r.findings);
    if (w === 'critical') critical++;
    else if (w === 'warning') warning++;
    queued += r.queue?.total ?? 0;
  }
  const failed = reports.length - byStatus.ok;
  const exitCode = critical ? 2 : warning ? 1 : failed ? 3 : 0;
  const suspects = reports
    .flatMap((r) => (r.suspects ?? []).map((s) => ({ host: r.name, ...s })))
    // Ties by name: the same fleet ranks the same whether scanned whole or in shards and merged.
    .sort((a, b) => b.score - a.score || b.messages - a.messages || cmp(a.host, b.host) || cmp(a.authId, b.authId));
  return { hosts: reports.length, suspects, byStatus, warning, critical, queued, exitCode };
}
