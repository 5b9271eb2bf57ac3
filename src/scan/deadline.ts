// The fleet scan under one deadline for the whole run (scheduled reports must end before the next
// one starts): the same engine as `scan`, host by host through one pool; hosts not started when
// the deadline comes are never started, hosts still running are reported unfinished, not waited for.
// With `o.runDeadline` (scan --deadline) each host's own budget also ends just before it, so a host
// still running is reported with its reason rather than cut.
import pLimit from 'p-limit';
import type { HostSpec } from '../inventory/types.js';
import { scanFleet, summarizeFleet, type FleetOptions } from './fleet.js';
import { queueOutputCap } from './host.js';
import type { HostReport, ScanReport } from './types.js';

export interface DeadlineScan {
  /** Finished hosts, in inventory order. */
  reports: HostReport[];
  /** Hosts the deadline cut: `started` says whether a scan was under way. */
  unfinished: { host: HostSpec; started: boolean }[];
}

export async function scanFleetUntil(hosts: HostSpec[], o: FleetOptions, deadlineAt: number): Promise<DeadlineScan> {
  const limit = pLimit(Math.max(1, o.forks));
  const done = new Map<string, HostReport>();
  const started = new Set<string>();
  let over = false;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadlineAt - Date.now()));
  });
  const all = Promise.all(
    hosts.map((host) =>
      limit(async () => {
        if (over || Date.now() >= Math.min(deadlineAt, o.runDeadline?.at ?? Infinity)) return;
        started.add(host.name);
        // One host per call, but its output cap is the whole pool's share.
        const r = await scanFleet([host], { ...o, forks: 1, outputCapBytes: o.outputCapBytes ?? queueOutputCap(o.forks) });
        if (!over) done.set(host.name, r.hosts[0]!);
      }),
    ),
  );
  await Promise.race([all, expired]);
  over = true;
  clearTimeout(timer);
  limit.clearQueue();
  return {
    reports: hosts.flatMap((h) => (done.has(h.name) ? [done.get(h.name)!] : [])),
    unfinished: hosts.filter((h) => !done.has(h.name)).map((host) => ({ host, started: started.has(host.name) })),
  };
}

/** A host the deadline cut, as the scan report shows it: status timeout (UNKNOWN), the reason why. */
export function unfinishedReport(u: DeadlineScan['unfinished'][number], deadline: string): HostReport {
  return {
    name: u.host.name,
    address: u.host.address,
    status: 'timeout',
    reason: u.started ? `still scanning at the run deadline (${deadline})` : `not started before the run deadline (${deadline})`,
    mta: u.host.mta ?? null,
    queue: null,
    thresholds: { warn: u.host.queueWarn, crit: u.host.queueCrit },
    findings: [],
    durationMs: 0,
  };
}

/** Each host's own budget ends this long before the run's cut, so it reports itself (with its reason). */
const HOST_MARGIN_MS = 250;

/**
 * scan --deadline: the fleet report as of `cutAt`, every host in inventory order; a host the deadline
 * cut is a timeout (UNKNOWN) saying so. Hosts still running are left behind: the caller exits.
 */
export async function scanReportUntil(hosts: HostSpec[], o: FleetOptions, cutAt: number, deadline: string): Promise<ScanReport> {
  const startedAt = new Date().toISOString();
  const run = await scanFleetUntil(
    hosts,
    { ...o, runDeadline: { at: cutAt - HOST_MARGIN_MS, reason: `still scanning at the run deadline (${deadline})` } },
    cutAt,
  );
  const done = new Map(run.reports.map((r) => [r.name, r]));
  const cut = new Map(run.unfinished.map((u) => [u.host.name, unfinishedReport(u, deadline)]));
  const reports = hosts.map((h) => done.get(h.name) ?? cut.get(h.name)!);
  return { version: 1, startedAt, finishedAt: new Date().toISOString(), hosts: reports, summary: summarizeFleet(reports) };
}
