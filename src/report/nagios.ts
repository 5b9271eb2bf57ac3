// Nagios/Icinga plugin output: one status line with perfdata; the exit code carries the state.
import type { ScanReport } from '../scan/types.js';
import { hostState } from './format.js';

const STATE = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
// Perfdata labels: quote with single quotes, which may not appear inside.
const label = (s: string) => `'${s.replace(/'/g, '')}'`;

export function renderNagios(r: ScanReport): string {
  const s = r.summary;
  const bad = r.hosts.filter((h) => hostState(h) !== 'OK');
  const detail = bad
    .slice(0, 10)
    .map((h) => (h.status === 'ok' ? `${h.name} queue ${h.queue?.total}` : `${h.name} ${h.status}`))
    .join(', ');
  const top = s.suspects[0];
  const suspect = top ? `; top suspect ${top.authId.replace(/[|\n]/g, '?')} on ${top.host} (${top.rules.join(',')})` : '';
  const head = `MAILSWEEP ${STATE[s.exitCode]} - ${s.critical} critical, ${s.warning} warning, ${s.hosts - s.byStatus.ok} unreachable/failed of ${s.hosts} hosts`;
  const perf = r.hosts
    .filter((h) => h.queue)
    .map((h) => `${label(h.name)}=${h.queue!.total};${h.thresholds.warn};${h.thresholds.crit};0`);
  return `${head}${detail ? `: ${detail}${bad.length > 10 ? ', …' : ''}` : ''}${suspect} | ${['queued=' + s.queued, ...perf].join(' ')}\n`;
}
