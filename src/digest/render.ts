// The digest as text (for mail), Markdown and JSON. Every server-derived string (accounts, sender
// domains, reasons, channel errors) goes through printable()/markdownText(); JSON keeps the data
// and escapes what a terminal would act on (jsonText).
import { jsonText } from '../text/json.js';
import { markdownText, printable } from '../text/printable.js';
import type { AccountDigest, Digest, QshapeTable } from './build.js';
import { humanAge } from '../report/format.js';

const MAX_ACCOUNT = 80;
/** Text and Markdown show the per-host queue shape of the biggest queues only (JSON and CSV: all). */
export const QSHAPE_HOSTS_SHOWN = 20;
const QSHAPE_ROWS_PER_HOST = 10;

/** The fleet table (top rows), then the biggest queues' tables, and a note on the rest. */
function shownShapes(d: Digest, top: number): { tables: [QshapeTable, number][]; more: number } {
  const busy = d.qshape.hosts.filter((t) => t.rows[0]!.total > 0);
  return {
    tables: [
      [d.qshape.fleet, top],
      ...busy.slice(0, QSHAPE_HOSTS_SHOWN).map((t): [QshapeTable, number] => [t, Math.min(top, QSHAPE_ROWS_PER_HOST)]),
    ],
    more: Math.max(0, busy.length - QSHAPE_HOSTS_SHOWN),
  };
}
const MAX_DOMAIN = 60;

export function changeText(a: Pick<AccountDigest, 'changePct' | 'baselinePerDay' | 'perDay'>): string {
  if (a.baselinePerDay === null) return 'no history';
  if (a.baselinePerDay === 0) return a.perDay > 0 ? 'new' : '0';
  const c = a.changePct ?? 0;
  return `${c > 0 ? '+' : ''}${c}%`;
}

function topDomains(d: [string, number][], n: number, cell: (s: string) => string): string {
  const shown = d.slice(0, n).map(([k, v]) => `${cell(k)} (${v})`);
  return shown.join(', ') + (d.length > n ? `, +${d.length - n} more` : '');
}

function hasUnknownAge(t: QshapeTable): boolean {
  return t.rows.some((r) => r.unknownAge > 0);
}

function qshapeHead(d: Digest, t: QshapeTable): string[] {
  return ['', 'T', ...d.buckets, ...(hasUnknownAge(t) ? ['?'] : [])];
}

function qshapeCells(t: QshapeTable, top: number, cell: (s: string) => string): string[][] {
  const unknown = hasUnknownAge(t);
  const rows = t.rows
    .slice(0, top + 1)
    .map((r) => [cell(r.domain), String(r.total), ...r.buckets.map(String), ...(unknown ? [String(r.unknownAge)] : [])]);
  if (t.rows.length > top + 1)
    rows.push([`… ${t.rows.length - top - 1} more domains`, '', ...t.rows[0]!.buckets.map(() => ''), ...(unknown ? [''] : [])]);
  return rows;
}

/** Columns padded to their widths; `right` columns (numbers) aligned right. */
function columns(head: string[], rows: string[][], right: (i: number) => boolean): string[] {
  const widths = head.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - [...c].length));
        return right(i) ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

function accountCells(a: AccountDigest, cell: (s: string, max: number) => string): string[] {
  return [
    cell(a.account, MAX_ACCOUNT),
    String(a.hosts.length),
    String(a.messages),
    String(a.recipients),
    `${a.clientIps}${a.clientIpsTruncated ? '+' : ''}`,
    String(a.failures),
    String(a.perDay),
    a.baselinePerDay === null ? '-' : String(a.baselinePerDay),
    changeText(a),
    topDomains(a.senderDomains, 3, (s) => cell(s, MAX_DOMAIN)),
    a.flagged.join(',') || '-',
  ];
}
const ACCOUNT_HEAD = ['ACCOUNT', 'HOSTS', 'MSGS', 'RCPTS', 'IPS', 'FAILS', 'PER DAY', 'BASELINE', 'CHANGE', 'SENDER DOMAINS', 'FLAGGED'];
const HOST_HEAD = ['HOST', 'RUNS', 'NOT SCANNED', 'QUEUE LAST', 'MIN', 'MAX', 'MEAN', 'MAX FROZEN', 'MAX BOUNCES', 'OLDEST'];

function hostCells(h: Digest['hosts'][number], cell: (s: string) => string): string[] {
  const bad = Object.entries(h.failed);
  const q = h.queue;
  return [
    cell(h.host),
    String(h.runs),
    bad.length ? bad.map(([s, n]) => `${s} ${n}`).join(', ') : '0',
    ...(q ? [q.last, q.min, q.max, q.mean, q.maxFrozen, q.maxBounces].map(String) : ['-', '-', '-', '-', '-', '-']),
    q ? humanAge(q.oldestSeconds) : '-',
  ];
}

function title(d: Digest): string {
  const when = d.period.from === d.period.to ? d.period.from : `${d.period.from} to ${d.period.to}`;
  return `mailsweep ${d.kind} digest, ${when} (UTC): ${d.runs.count} report run(s)`;
}

export function renderText(d: Digest, top = 50): string {
  const t = (s: string, max = 300) => printable(s, { max });
  const out: string[] = [title(d), ''];
  out.push(`PROBLEMS (${d.problems.length})`);
  if (!d.problems.length) out.push('  none');
  for (const p of d.problems) out.push(`  ${p.severity.toUpperCase().padEnd(8)}  ${t(p.message, 500)}`);
  out.push('', `ACCOUNTS: authenticated senders across the fleet, flagged first (${d.accounts.length})`);
  if (d.accounts.length) {
    out.push(
      ...columns(
        ACCOUNT_HEAD,
        d.accounts.slice(0, top).map((a) => accountCells(a, t)),
        (i) => i >= 1 && i <= 7,
      ),
    );
    if (d.accounts.length > top) out.push(`… and ${d.accounts.length - top} more (--format json or csv lists all)`);
  } else out.push('  no authenticated sending recorded in the period');
  out.push('', `HOSTS: queue over the period's runs (${d.hosts.length})`);
  if (d.hosts.length)
    out.push(
      ...columns(
        HOST_HEAD,
        d.hosts.map((h) => hostCells(h, t)),
        (i) => i === 1 || (i >= 3 && i <= 8),
      ),
    );
  else out.push('  no runs in the period');
  const shapes = shownShapes(d, top);
  for (const [q, rows] of shapes.tables) {
    out.push(
      '',
      `QUEUE SHAPE, ${q.host === null ? 'fleet' : t(q.host)}: sender domain × minutes in queue${q.at ? ` (scan of ${q.at}${q.host === null ? ', newest' : ''})` : ''}`,
    );
    out.push(
      ...columns(
        qshapeHead(d, q),
        qshapeCells(q, rows, (s) => t(s, MAX_DOMAIN)),
        (i) => i > 0,
      ),
    );
  }
  if (shapes.more) out.push('', `… ${shapes.more} more host(s) with a queue (--format json or csv --table qshape lists all)`);
  return `${out.join('\n')}\n`;
}

function mdTable(head: string[], rows: string[][]): string[] {
  const esc = (s: string) => s || ' ';
  return [`| ${head.map(esc).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)];
}

export function renderMarkdown(d: Digest, top = 50): string {
  const m = (s: string, max = 300) => markdownText(s, { max });
  const out: string[] = [`# ${m(title(d))}`, '', `## Problems (${d.problems.length})`, ''];
  if (!d.problems.length) out.push('None.');
  for (const p of d.problems) out.push(`- **${p.severity.toUpperCase()}** ${m(p.message, 500)}`);
  out.push('', `## Accounts (${d.accounts.length})`, '');
  if (d.accounts.length) {
    out.push(
      ...mdTable(
        ACCOUNT_HEAD,
        d.accounts.slice(0, top).map((a) => accountCells(a, m)),
      ),
    );
    if (d.accounts.length > top) out.push('', `… and ${d.accounts.length - top} more.`);
  } else out.push('No authenticated sending recorded in the period.');
  out.push('', `## Hosts (${d.hosts.length})`, '');
  if (d.hosts.length)
    out.push(
      ...mdTable(
        HOST_HEAD,
        d.hosts.map((h) => hostCells(h, m)),
      ),
    );
  const shapes = shownShapes(d, top);
  for (const [q, rows] of shapes.tables) {
    out.push('', `## Queue shape, ${q.host === null ? 'fleet' : m(q.host)}`, '');
    if (q.at) out.push(`Sender domain × minutes in queue, scan of ${q.at}.`, '');
    const head = qshapeHead(d, q);
    head[0] = 'sender domain';
    out.push(
      ...mdTable(
        head,
        qshapeCells(q, rows, (s) => m(s, MAX_DOMAIN)),
      ),
    );
  }
  if (shapes.more) out.push('', `… ${shapes.more} more host(s) with a queue.`);
  return `${out.join('\n')}\n`;
}

export function renderJson(d: Digest): string {
  return `${jsonText(d, 2)}\n`;
}
