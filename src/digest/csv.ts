// The digest's tables as CSV (RFC 4180, CRLF), one table per file. A spammer chooses sender domains
// and auth ids, and a spreadsheet runs a cell starting with = + - @ as a formula: such text cells
// get a leading ' (OWASP's advice), after printable() has made controls visible.
import { printable } from '../text/printable.js';
import type { Digest } from './build.js';

export const CSV_TABLES = ['problems', 'accounts', 'hosts', 'qshape'] as const;
export type CsvTable = (typeof CSV_TABLES)[number];

/** One text field: printable, formula-proofed, always quoted with inner quotes doubled. */
export function csvText(s: string): string {
  let v = printable(s, { max: 2000 });
  if (/^[\s]*[=+\-@]/.test(v)) v = `'${v}`;
  return `"${v.replace(/"/g, '""')}"`;
}

type Cell = string | number | boolean | null;
function field(c: Cell): string {
  if (c === null) return '';
  if (typeof c === 'number') return Number.isFinite(c) ? String(c) : '';
  if (typeof c === 'boolean') return c ? 'true' : 'false';
  return csvText(c);
}

function csv(head: string[], rows: Cell[][]): string {
  return [head.map(csvText), ...rows.map((r) => r.map(field))].map((r) => r.join(',')).join('\r\n') + '\r\n';
}

export function renderCsv(d: Digest, table: CsvTable): string {
  switch (table) {
    case 'problems':
      return csv(
        ['severity', 'kind', 'subject', 'hosts', 'message'],
        d.problems.map((p) => [p.severity, p.kind, p.subject, p.hosts.join(' '), p.message]),
      );
    case 'accounts':
      return csv(
        [
          'account',
          'hosts',
          'messages',
          'recipients',
          'client_ips',
          'client_ips_truncated',
          'failures',
          'days_observed',
          'per_day',
          'baseline_per_day',
          'baseline_days',
          'change_pct',
          'sender_domains',
          'flagged',
        ],
        d.accounts.map((a) => [
          a.account,
          a.hosts.join(' '),
          a.messages,
          a.recipients,
          a.clientIps,
          a.clientIpsTruncated,
          a.failures,
          a.daysObserved,
          a.perDay,
          a.baselinePerDay,
          a.baselineDays,
          a.changePct,
          a.senderDomains.map(([k, v]) => `${k}:${v}`).join(' '),
          a.flagged.join(' '),
        ]),
      );
    case 'hosts':
      return csv(
        [
          'host',
          'runs',
          'not_scanned',
          'last_status',
          'queue_last',
          'queue_min',
          'queue_max',
          'queue_mean',
          'max_frozen',
          'max_bounces',
          'oldest_seconds',
        ],
        d.hosts.map((h) => [
          h.host,
          h.runs,
          Object.values(h.failed).reduce((s, n) => s + n, 0),
          h.lastStatus,
          h.queue?.last ?? null,
          h.queue?.min ?? null,
          h.queue?.max ?? null,
          h.queue?.mean ?? null,
          h.queue?.maxFrozen ?? null,
          h.queue?.maxBounces ?? null,
          h.queue?.oldestSeconds ?? null,
        ]),
      );
    case 'qshape':
      return csv(
        ['scope', 'scan_at', 'sender_domain', 'total', ...d.buckets.map((b) => `m${b}`), 'unknown_age'],
        [d.qshape.fleet, ...d.qshape.hosts].flatMap((t) =>
          t.rows.map((r) => [t.host ?? '(fleet)', t.at, r.domain, r.total, ...r.buckets, r.unknownAge]),
        ),
      );
  }
}
