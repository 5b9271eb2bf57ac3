// Plain-text table for terminals and cron mail: problems first, one line per host, width-capped.
import type { ScanReport } from '../scan/types.js';
import { renderAcross } from './across.js';
import { filterNote } from './problems.js';
import { byProblem, hostNote, hostState, humanAge, MAX_ACCOUNT, MAX_DOMAIN, safeText } from './format.js';

/** A cell cut to its column's width, with an ellipsis (whole code points and tokens: no half a character). */
function fit(cell: string, cap: number): string {
  if (cell.length <= cap) return cell;
  const chars = Array.from(cell);
  if (chars.length <= cap) return cell;
  // Never half a made-visible control: "<U+20…" or a lone "^" would read as something else.
  return `${chars
    .slice(0, cap - 1)
    .join('')
    .replace(/<U\+[0-9A-F]*$|\^$/, '')}…`;
}

/**
 * Aligned columns, each cut at its cap, so one long value (a 10,000-character account) neither
 * widens every row nor makes a long line: a row is at most the sum of the caps.
 */
function columns(head: string[], rows: string[][], caps: number[]): string[] {
  const cut = rows.map((row) => row.map((c, i) => fit(c, caps[i] ?? MAX_CELL)));
  const widths = head.map((c, i) => Math.max(c.length, ...cut.map((row) => (i === head.length - 1 ? 0 : row[i]!.length))));
  const fmt = (row: string[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(head), ...cut.map(fmt)];
}

/** Widest a cell may be, by column (names, accounts, domains, notes); numbers never get near. */
const MAX_CELL = 40;
const HOST_CAPS = [MAX_CELL, 16, 8, 10, 10, 10, 6, 120];
const SUSPECT_CAPS = [MAX_CELL, MAX_CELL, 10, 10, 10, 6, 60, 100];

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
    ...columns(['HOST', 'ACCOUNT', 'SENT', 'QUEUED', 'RCPTS', 'IPS', 'SENDER DOMAINS', 'RULES'], rows, SUSPECT_CAPS),
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
  // Problems first (the order people read in); JSON keeps the inventory's order.
  const rows = [...r.hosts]
    .sort(byProblem)
    .map((h) => [
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
  const [header, ...body] = columns(head, rows, HOST_CAPS);
  const note = filterNote(r);
  const lines = [
    header!,
    ...body.map((l) => paint(l, !!opts.color)),
    ...(note ? [note] : []),
    ...renderSuspects(r),
    ...renderAcross(r),
    '',
  ];
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
