// Small shared helpers for the text reporters.
import type { HostReport } from '../scan/types.js';
import { worstSeverity } from '../rules/types.js';
import { printable } from '../text/printable.js';

export function humanAge(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

/** OK / WARNING / CRITICAL for a reachable host; the status itself otherwise. */
export function hostState(r: HostReport): string {
  if (r.status !== 'ok') return r.status.toUpperCase();
  const w = worstSeverity(r.findings);
  return w === 'critical' ? 'CRITICAL' : w === 'warning' ? 'WARNING' : 'OK';
}

/** Longest note, account or domain a text report shows (the JSON keeps everything). */
export const MAX_NOTE = 300;
export const MAX_ACCOUNT = 80;
export const MAX_DOMAIN = 60;

/**
 * Server-supplied text for one line of a report: line breaks (\n, \r\n) and tabs become spaces (a
 * multi-line reason stays one row); every other control (a lone \r too), escape and bidi character
 * is made visible; cut at `max`.
 */
export function safeText(s: string, max = MAX_NOTE): string {
  return printable(String(s).replace(/\r?\n|\t/g, ' '), { max });
}

/** Problems first: critical, warning, not scanned (any failure status), ok. */
function rank(h: HostReport): number {
  const s = hostState(h);
  return s === 'CRITICAL' ? 0 : s === 'WARNING' ? 1 : s === 'OK' ? 3 : 2;
}

/** Report order for people: problems first, then the bigger queue, then the name. */
export function byProblem(a: HostReport, b: HostReport): number {
  return rank(a) - rank(b) || (b.queue?.total ?? -1) - (a.queue?.total ?? -1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** One line per host: the reason it failed, or its most severe finding and how many more. */
export function hostNote(r: HostReport): string {
  if (r.status !== 'ok') return safeText(r.reason ?? '');
  const fs = r.findings.filter((f) => f.severity !== 'info');
  const first = fs.find((f) => f.severity === 'critical') ?? fs[0];
  if (!first) return '';
  const top = r.suspects?.[0];
  return `${safeText(first.message)}${top ? `; top suspect ${safeText(top.authId, MAX_ACCOUNT)}` : ''}${fs.length > 1 ? ` (+${fs.length - 1} findings)` : ''}`;
}
