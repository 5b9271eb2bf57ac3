// Nagios/Icinga plugin output (monitoring-plugins guidelines): a status line
// `MAILSWEEP STATE - text | perfdata`, then long text, one line per host not OK; the exit code
// carries the state. The whole output stays under MAX_OUTPUT_BYTES whatever the fleet size: long
// text is cut first, then per-host perfdata (least bad first); the state, the counts and the fleet
// totals are never cut.
import type { HostReport, ScanReport } from '../scan/types.js';
import { printable } from '../text/printable.js';
import { hostNote, hostState, MAX_ACCOUNT } from './format.js';
import { DEFAULT_PERFDATA, fleetPerfdata, hostPerfdata, stateRank, worstFirst, type PerfdataMode } from './nagios-perfdata.js';

/** Nagios keeps 8 KB of a plugin's output (MAX_PLUGIN_OUTPUT_LENGTH 8192, its terminator included). */
export const MAX_OUTPUT_BYTES = 8000;
/** Hosts named on the status line; the long text names every one that fits. */
const NAMED = 10;
/** Longest reason of a host not scanned, in the long text. */
const MAX_REASON = 300;

const STATE = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
/** Server or inventory text in the output: printable, one line, no `|` (perfdata starts there). */
const text = (s: string, max = MAX_ACCOUNT) => printable(s, { max }).replace(/\|/g, '?');
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** A host not OK on the status line: `mx1 CRITICAL queue 339`, `mx3 UNKNOWN unreachable`. */
function named(h: HostReport): string {
  return h.status === 'ok' ? `${text(h.name)} ${hostState(h)} queue ${h.queue?.total ?? 0}` : `${text(h.name)} UNKNOWN ${h.status}`;
}

/** One long-text line: the host, its plugin state, why (each part cut once, on its own). */
function longLine(h: HostReport): string {
  if (h.status !== 'ok') return `${text(h.name)}: UNKNOWN - ${text(`${h.status}: ${h.reason ?? ''}`, MAX_REASON)}`;
  return `${text(h.name)}: ${hostState(h)} - ${hostNote(h).replace(/\|/g, '?')}`;
}

/** Items of `items` (in order, skipping any that do not fit) whose sizes plus `sep` fit in `budget` bytes. */
function fit(items: string[], budget: number, sep: number): { kept: string[]; used: number } {
  const kept: string[] = [];
  let used = 0;
  for (const it of items) {
    const n = bytes(it) + sep;
    if (used + n > budget) continue;
    kept.push(it);
    used += n;
  }
  return { kept, used };
}

export interface NagiosOptions {
  perfdata?: PerfdataMode;
}

export function renderNagios(r: ScanReport, o: NagiosOptions = {}): string {
  const s = r.summary;
  const bad = worstFirst(r.hosts.filter((h) => stateRank(h) < 3));
  const detail = bad.slice(0, NAMED).map(named).join(', ') + (bad.length > NAMED ? `, … (${bad.length - NAMED} more)` : '');
  const top = s.suspects[0];
  const suspect = top ? `; top suspect ${text(top.authId)} on ${text(top.host)} (${top.rules.join(',')})` : '';
  const unknown = s.hosts - s.byStatus.ok;
  const head = `MAILSWEEP ${STATE[s.exitCode]} - ${s.critical} critical, ${s.warning} warning, ${unknown} unknown of ${s.hosts} hosts`;
  const status = `${head}${detail ? `: ${detail}` : ''}${suspect} | ${fleetPerfdata(r).join(' ')}`;

  // What is left after the status line, the fleet totals and room for the two notes below.
  let room = MAX_OUTPUT_BYTES - bytes(status) - 1 - 200;
  const wanted = hostPerfdata(r, o.perfdata ?? DEFAULT_PERFDATA);
  const perf = fit(wanted, room, 1);
  room -= perf.used;
  const lines = fit(bad.map(longLine), room, 1);
  const notes = [
    ...(lines.kept.length < bad.length ? [`… ${bad.length - lines.kept.length} more host(s) not shown (plugin output limit)`] : []),
    ...(perf.kept.length < wanted.length ? [`perfdata: ${perf.kept.length} of ${wanted.length} hosts (plugin output limit)`] : []),
  ];
  const first = perf.kept.length ? `${status} ${perf.kept.join(' ')}` : status;
  return [first, ...lines.kept, ...notes].join('\n') + '\n';
}
