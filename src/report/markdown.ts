// Markdown table for tickets and chat.
import type { ScanReport } from '../scan/types.js';
import { filterNote } from './problems.js';
import { markdownText } from '../text/printable.js';
import { renderAcrossMarkdown } from './across.js';
import { byProblem, hostNote, hostState, humanAge, MAX_ACCOUNT, MAX_NOTE } from './format.js';

/** Server text as one table cell: no links, HTML, code or emphasis, no `|` or line break that splits the row. */
const cell = (s: string, max = MAX_NOTE) => markdownText(s, { max });

export function renderMarkdown(r: ScanReport): string {
  const lines = [
    `# mailsweep scan ${r.finishedAt}`,
    '',
    '| Host | State | MTA | Queue | Frozen | Bounces | Oldest | Notes |',
    '|---|---|---|---:|---:|---:|---|---|',
  ];
  // Problems first, as in the table; JSON keeps the inventory's order.
  for (const h of [...r.hosts].sort(byProblem))
    lines.push(
      `| ${cell(h.name)} | ${hostState(h)} | ${h.mta ?? '-'} | ${h.queue?.total ?? '-'} | ${h.queue?.frozen ?? '-'} | ${h.queue?.bounces ?? '-'} | ${h.queue ? humanAge(h.queue.oldestSeconds) : '-'} | ${cell(hostNote(h), Infinity)} |`,
    );
  const note = filterNote(r);
  if (note) lines.push('', `_${note}_`);
  const s = r.summary;
  if (s.suspects.length) {
    lines.push(
      '',
      '## Suspected hijacked accounts',
      '',
      '| Host | Account | Sent | Queued | Recipients | IPs | Rules |',
      '|---|---|---:|---:|---:|---:|---|',
    );
    for (const x of s.suspects.slice(0, 50))
      lines.push(
        `| ${cell(x.host)} | ${cell(x.authId, MAX_ACCOUNT)} | ${x.messages} | ${x.queued} | ${x.recipients} | ${x.clientIps.length} | ${x.rules.join(', ')} |`,
      );
  }
  lines.push(...renderAcrossMarkdown(r));
  lines.push(
    '',
    `**${s.hosts} hosts**: ${s.critical} critical, ${s.warning} warning, ${s.hosts - s.byStatus.ok} failed; ${s.queued} messages queued.`,
  );
  return lines.join('\n') + '\n';
}
