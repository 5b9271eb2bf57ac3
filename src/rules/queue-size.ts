// queue-size: the seeds' first alarm (warn 75, crit 100 by default; per group/host in the inventory,
// or -w/-c). A queue alerts when it is ABOVE a threshold, as a monitoring-plugins range `N` does
// (alert outside 0..N), so the state and the perfdata's warn;crit agree: 100 queued with crit 100 is
// not critical, 101 is.
import type { QueueSummary } from '../scan/types.js';
import type { Finding } from './types.js';

export interface QueueThresholds {
  warn: number;
  crit: number;
}

export function queueSizeFinding(q: QueueSummary, t: QueueThresholds): Finding | null {
  const evidence = { total: q.total, warn: t.warn, crit: t.crit, frozen: q.frozen, bounces: q.bounces };
  if (q.total > t.crit)
    return { rule: 'queue-size', severity: 'critical', message: `${q.total} messages queued (critical above ${t.crit})`, evidence };
  if (q.total > t.warn)
    return { rule: 'queue-size', severity: 'warning', message: `${q.total} messages queued (warning above ${t.warn})`, evidence };
  return null;
}
