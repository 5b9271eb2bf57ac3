// Small shared helpers for the text reporters.
import type { HostReport } from '../scan/types.js';
import { worstSeverity } from '../scan/types.js';

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

/** Strip control characters from server-supplied text before it reaches a terminal. */
export function safeText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '?');
}

/** One line per host: the reason it failed, or its most severe finding and how many more. */
export function hostNote(r: HostReport): string {
  if (r.status !== 'ok') return safeText(r.reason ?? '');
  const fs = r.findings.filter((f) => f.severity !== 'info');
  const first = fs.find((f) => f.severity === 'critical') ?? fs[0];
  if (!first) return '';
  const top = r.suspects?.[0];
  return safeText(`${first.message}${top ? `; top suspect ${top.authId}` : ''}${fs.length > 1 ? ` (+${fs.length - 1} findings)` : ''}`);
}
