// scan's options for running as a Nagios/Icinga plugin: -w/-c over the inventory's queue thresholds,
// and the run deadline a check must answer by.
import { performance } from 'node:perf_hooks';
import { formatDuration, parseDuration } from '../alerts/duration.js';
import { ConfigError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { parseQueueThreshold } from '../report/plugin-range.js';

/**
 * `--format nagios` without --deadline: Nagios' service_check_timeout and Icinga's check_timeout
 * are 60 s by default; 50 s leaves room for the process to start and the monitoring host to be busy.
 */
export const DEFAULT_NAGIOS_DEADLINE = '50s';

export interface QueueOverride {
  warn?: number;
  crit?: number;
}

/** -w/-c as given (checked before the inventory is read): each a queue size, alert above it. */
export function queueOverride(warning?: string, critical?: string): QueueOverride {
  const warn = warning === undefined ? undefined : parseQueueThreshold('-w/--warning', warning);
  const crit = critical === undefined ? undefined : parseQueueThreshold('-c/--critical', critical);
  if (warn !== undefined && crit !== undefined && crit < warn)
    throw new ConfigError(`-c/--critical ${crit} is below -w/--warning ${warn}: the critical threshold must be >= the warning one`);
  return { ...(warn !== undefined ? { warn } : {}), ...(crit !== undefined ? { crit } : {}) };
}

/** Every host's queue thresholds with -w/-c put over them; a host where they would cross is refused. */
export function overrideThresholds(hosts: HostSpec[], { warn, crit }: QueueOverride): HostSpec[] {
  if (warn === undefined && crit === undefined) return hosts;
  return hosts.map((h) => {
    const t = { queueWarn: warn ?? h.queueWarn, queueCrit: crit ?? h.queueCrit };
    if (t.queueCrit < t.queueWarn)
      throw new ConfigError(
        warn === undefined
          ? `-c/--critical ${crit} is below host ${h.name}'s queue_warn ${h.queueWarn} (inventory): give -w too`
          : `-w/--warning ${warn} is above host ${h.name}'s queue_crit ${h.queueCrit} (inventory): give -c too`,
      );
    return { ...h, ...t };
  });
}

export interface RunDeadline {
  /** When the scan stops (ms since epoch): the deadline less the time to write the answer. */
  cutAt: number;
  /** As given, for reasons: "50s". */
  text: string;
}

/**
 * The run's deadline, counted from the process start (what the monitoring server times): the flag,
 * else 50 s for `--format nagios`, else none — an interactive or cron scan of a big fleet is not cut.
 */
export function runDeadline(flag: string | undefined, nagios: boolean): RunDeadline | null {
  const given = flag ?? (nagios ? DEFAULT_NAGIOS_DEADLINE : undefined);
  if (given === undefined) return null;
  const ms = parseDuration(given);
  if (ms === null || ms < 1000 || ms > 7 * 86_400_000)
    throw new ConfigError(`--deadline: expected a duration from 1s to 7d, like 50s or 10m, got "${given}"`);
  // Rendering and writing even 10,000 hosts takes well under this.
  const answer = Math.min(1000, ms / 10);
  return { cutAt: performance.timeOrigin + ms - answer, text: formatDuration(ms) };
}
