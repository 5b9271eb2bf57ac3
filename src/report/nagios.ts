// Nagios/Icinga plugin output: one status line with perfdata; the exit code carries the state.
import type { ScanReport } from '../scan/types.js';
import { printable } from '../text/printable.js';
import { hostState, MAX_ACCOUNT } from './format.js';

const STATE = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
/** Server or inventory text in the status line: printable, one line, and no `|` (perfdata starts there). */
const text = (s: string, max = MAX_ACCOUNT) => printable(s, { max }).replace(/\|/g, '?');
/** Host names are never cut: perfdata labels must stay the same from run to run. */
const name = (s: string) => text(s, Infinity);
// Perfdata labels: quoted with single quotes; neither ' nor = may appear inside.
const label = (s: string) => `'${name(s).replace(/['=]/g, '')}'`;

export function renderNagios(r: ScanReport): string {
  const s = r.summary;
  const bad = r.hosts.filter((h) => hostState(h) !== 'OK');
  const detail = bad
    .slice(0, 10)
    .map((h) => (h.status === 'ok' ? `${name(h.name)} queue ${h.queue?.total}` : `${name(h.name)} ${h.status}`))
    .join(', ');
  const top = s.suspects[0];
  const suspect = top ? `; top suspect ${text(top.authId)} on ${name(top.host)} (${top.rules.join(',')})` : '';
  const head = `MAILSWEEP ${STATE[s.exitCode]} - ${s.critical} critical, ${s.warning} warning, ${s.hosts - s.byStatus.ok} unreachable/failed of ${s.hosts} hosts`;
  const perf = r.hosts.filter((h) => h.queue).map((h) => `${label(h.name)}=${h.queue!.total};${h.thresholds.warn};${h.thresholds.crit};0`);
  return `${head}${detail ? `: ${detail}${bad.length > 10 ? ', …' : ''}` : ''}${suspect} | ${['queued=' + s.queued, ...perf].join(' ')}\n`;
}
