// Markdown table for tickets and chat.
import type { ScanReport } from '../scan/types.js';
import { hostNote, hostState, humanAge } from './format.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(r: ScanReport): string {
  const lines = [
    `# mailsweep scan ${r.finishedAt}`,
    '',
    '| Host | State | MTA | Queue | Frozen | Bounces | Oldest | Notes |',
    '|---|---|---|---:|---:|---:|---|---|',
  ];
  for (const h of r.hosts)
    lines.push(
      `| ${cell(h.name)} | ${hostState(h)} | ${h.mta ?? '-'} | ${h.queue?.total ?? '-'} | ${h.queue?.frozen ?? '-'} | ${h.queue?.bounces ?? '-'} | ${h.queue ? humanAge(h.queue.oldestSeconds) : '-'} | ${cell(hostNote(h))} |`,
    );
  const s = r.summary;
  lines.push('', `**${s.hosts} hosts**: ${s.critical} critical, ${s.warning} warning, ${s.hosts - s.byStatus.ok} failed; ${s.queued} messages queued.`);
  return lines.join('\n') + '\n';
}
