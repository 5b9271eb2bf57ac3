// Plain-text table for terminals and cron mail.
import type { ScanReport } from '../scan/types.js';
import { hostNote, hostState, humanAge } from './format.js';

export function renderTable(r: ScanReport): string {
  const head = ['HOST', 'STATE', 'MTA', 'QUEUE', 'FROZEN', 'BOUNCES', 'OLDEST', 'NOTES'];
  const rows = r.hosts.map((h) => [
    h.name,
    hostState(h),
    h.mta ?? '-',
    h.queue ? String(h.queue.total) : '-',
    h.queue ? String(h.queue.frozen) : '-',
    h.queue ? String(h.queue.bounces) : '-',
    h.queue ? humanAge(h.queue.oldestSeconds) : '-',
    hostNote(h),
  ]);
  const widths = head.map((c, i) => Math.max(c.length, ...rows.map((row) => (i === head.length - 1 ? 0 : row[i]!.length))));
  const fmt = (row: string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const s = r.summary;
  const failed = s.hosts - s.byStatus.ok;
  const lines = [fmt(head), ...rows.map(fmt), ''];
  lines.push(
    `${s.hosts} hosts: ${s.byStatus.ok} scanned (${s.critical} critical, ${s.warning} warning), ${failed} failed` +
      (failed ? ` (${Object.entries(s.byStatus).filter(([k, v]) => k !== 'ok' && v).map(([k, v]) => `${v} ${k}`).join(', ')})` : '') +
      `; ${s.queued} messages queued`,
  );
  return lines.join('\n') + '\n';
}
