// The fleet scan under one deadline for the whole run (scheduled reports must end before the next
// one starts): the same engine as `scan`, host by host through one pool; hosts not started when
// the deadline comes are never started, hosts still running are reported unfinished, not waited for.
import pLimit from 'p-limit';
import type { HostSpec } from '../inventory/types.js';
import { scanFleet, type FleetOptions } from './fleet.js';
import { queueOutputCap } from './host.js';
import type { HostReport } from './types.js';

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
        if (over || Date.now() >= deadlineAt) return;
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
