// queue-size: the seeds' first alarm (warn 75, crit 100 by default; per group/host in the inventory).
import type { QueueSummary } from '../scan/types.js';
import type { Finding } from './types.js';

export interface QueueThresholds {
  warn: number;
  crit: number;
}

export function queueSizeFinding(q: QueueSummary, t: QueueThresholds): Finding | null {
  const evidence = { total: q.total, warn: t.warn, crit: t.crit, frozen: q.frozen, bounces: q.bounces };
  if (q.total >= t.crit)
    return { rule: 'queue-size', severity: 'critical', message: `${q.total} messages queued (critical at ${t.crit})`, evidence };
  if (q.total >= t.warn)
    return { rule: 'queue-size', severity: 'warning', message: `${q.total} messages queued (warning at ${t.warn})`, evidence };
  return null;
}
