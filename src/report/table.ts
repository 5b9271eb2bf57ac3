// Plain-text table for terminals and cron mail.
import type { ScanReport } from '../scan/types.js';
import { renderAcross } from './across.js';
import { hostNote, hostState, humanAge, MAX_ACCOUNT, MAX_DOMAIN, safeText } from './format.js';

function columns(head: string[], rows: string[][]): string[] {
  const widths = head.map((c, i) => Math.max(c.length, ...rows.map((row) => (i === head.length - 1 ? 0 : row[i]!.length))));
  const fmt = (row: string[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

const topDomains = (d: Record<string, number>, n = 3) =>
  Object.entries(d)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${safeText(k, MAX_DOMAIN)}(${v})`)
    .join(' ') + (Object.keys(d).length > n ? ` +${Object.keys(d).length - n}` : '');

export function renderSuspects(r: ScanReport, limit = 20): string[] {
  const s = r.summary.suspects;
  if (!s.length) return [];
  const rows = s
    .slice(0, limit)
    .map((x) => [
      safeText(x.host),
      safeText(x.authId, MAX_ACCOUNT),
      String(x.messages),
      String(x.queued),
      String(x.recipients),
      String(x.clientIps.length),
      topDomains(x.senderDomains),
      x.rules.join(','),
    ]);
  const lines = [
    '',
    'Suspected hijacked accounts (most likely first):',
    ...columns(['HOST', 'ACCOUNT', 'SENT', 'QUEUED', 'RCPTS', 'IPS', 'SENDER DOMAINS', 'RULES'], rows),
  ];
  if (s.length > limit) lines.push(`… and ${s.length - limit} more (--format json lists all)`);
  return lines;
}

const PAINT: Record<string, string> = { CRITICAL: '31;1', WARNING: '33;1', OK: '32' };
/** Colour the STATE column on a terminal (NO_COLOR respected); widths are computed before. */
function paint(line: string, color: boolean): string {
  if (!color) return line;
  return line.replace(
    /\b(CRITICAL|WARNING|OK|UNREACHABLE|TIMEOUT|ERROR|AUTH-FAILED|HOSTKEY-UNKNOWN|HOSTKEY-CHANGED)\b/,
    (w) => `\x1b[${PAINT[w] ?? '35'}m${w}\x1b[0m`,
  );
}

export function renderTable(r: ScanReport, opts: { color?: boolean } = {}): string {
  const head = ['HOST', 'STATE', 'MTA', 'QUEUE', 'FROZEN', 'BOUNCES', 'OLDEST', 'NOTES'];
  const rows = r.hosts.map((h) => [
    safeText(h.name),
    hostState(h),
    h.mta ?? '-',
    h.queue ? String(h.queue.total) : '-',
    h.queue ? String(h.queue.frozen) : '-',
    h.queue ? String(h.queue.bounces) : '-',
    h.queue ? humanAge(h.queue.oldestSeconds) : '-',
    hostNote(h),
  ]);
  const s = r.summary;
  const failed = s.hosts - s.byStatus.ok;
  const [header, ...body] = columns(head, rows);
  const lines = [header!, ...body.map((l) => paint(l, !!opts.color)), ...renderSuspects(r), ...renderAcross(r), ''];
  lines.push(
    `${s.hosts} hosts: ${s.byStatus.ok} scanned (${s.critical} critical, ${s.warning} warning), ${failed} failed` +
      (failed
        ? ` (${Object.entries(s.byStatus)
            .filter(([k, v]) => k !== 'ok' && v)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')})`
        : '') +
      `; ${s.queued} messages queued`,
  );
  return lines.join('\n') + '\n';
}
