// Perfdata for the Nagios/Icinga output (monitoring-plugins guidelines, "Performance data"):
// `'label'=value[UOM];[warn];[crit];[min];[max]`. Fleet totals always; per host, its queue with its
// own thresholds, for every host (`all`) or the N worst (`worst:N`, default 10): ~40 bytes a host
// would pass Nagios' 8 KB output limit at ~200 hosts.
import { ConfigError } from '../errors.js';
import type { HostReport, ScanReport } from '../scan/types.js';
import { printable } from '../text/printable.js';
import { hostState } from './format.js';

export type PerfdataMode = { kind: 'all' } | { kind: 'worst'; n: number };
export const DEFAULT_PERFDATA: PerfdataMode = { kind: 'worst', n: 10 };

export function parsePerfdata(text: string): PerfdataMode {
  if (text === 'all') return { kind: 'all' };
  const m = /^worst:(\d{1,6})$/.exec(text);
  if (!m) throw new ConfigError(`--perfdata: expected all or worst:N (N hosts with the worst queues, e.g. worst:10), got "${text}"`);
  return { kind: 'worst', n: Number(m[1]) };
}

/**
 * A label as the guideline allows any: always in single quotes, a quote doubled. Host names are
 * never cut (a graph keys on its label); `=` and `|` (where some parsers split) become `_`.
 */
export function perfLabel(s: string): string {
  return `'${printable(s).replace(/[=|]/g, '_').replace(/'/g, "''")}'`;
}

/** One value: no unit (a count of messages or hosts), thresholds in range syntax (`N`: alert above N). */
function perf(label: string, value: number, warn?: number, crit?: number, min = 0, max?: number): string {
  return `${perfLabel(label)}=${value};${warn ?? ''};${crit ?? ''};${min}${max === undefined ? '' : `;${max}`}`;
}

/** Rank for "worst first": CRITICAL, WARNING, then UNKNOWN (a host not scanned), then OK — as the exit code ranks them. */
export function stateRank(h: HostReport): number {
  const s = hostState(h);
  return s === 'CRITICAL' ? 0 : s === 'WARNING' ? 1 : s === 'OK' ? 3 : 2;
}

/** Worst first; then the bigger queue; ties keep inventory order (Array.sort is stable). */
export function worstFirst(hosts: HostReport[]): HostReport[] {
  return [...hosts].sort((a, b) => stateRank(a) - stateRank(b) || (b.queue?.total ?? -1) - (a.queue?.total ?? -1));
}

/** The fleet's figures: stable labels, present in every run whatever the fleet's state. */
export function fleetPerfdata(r: ScanReport): string[] {
  const s = r.summary;
  const unknown = s.hosts - s.byStatus.ok;
  const biggest = r.hosts.reduce((m, h) => Math.max(m, h.queue?.total ?? 0), 0);
  // The biggest queue gets thresholds only when every host shares them (one -w/-c, or one default).
  const t = r.hosts[0]?.thresholds;
  const same = t && r.hosts.every((h) => h.thresholds.warn === t.warn && h.thresholds.crit === t.crit);
  return [
    perf('queued', s.queued),
    perf('queue_max', biggest, same ? t.warn : undefined, same ? t.crit : undefined),
    perf('hosts_ok', s.hosts - s.critical - s.warning - unknown, undefined, undefined, 0, s.hosts),
    perf('hosts_warning', s.warning, undefined, undefined, 0, s.hosts),
    perf('hosts_critical', s.critical, undefined, undefined, 0, s.hosts),
    perf('hosts_unknown', unknown, undefined, undefined, 0, s.hosts),
  ];
}

/** Per-host queue values the mode asks for, worst first: the order they are kept in when space runs out. */
export function hostPerfdata(r: ScanReport, mode: PerfdataMode): string[] {
  const queued = worstFirst(r.hosts.filter((h) => h.queue));
  const chosen = mode.kind === 'all' ? queued : queued.slice(0, mode.n);
  return chosen.map((h) => perf(h.name, h.queue!.total, h.thresholds.warn, h.thresholds.crit));
}
