// qshape's view of a queue (postfix's qshape -s): rows are sender domains, columns geometric age
// buckets from 5 minutes, the TOTAL row first. Built from any MTA's parsed listing, so exim,
// sendmail and qmail queues get the same table.
import { AGE_BUCKETS, AGE_LABELS, type QueueShapeRow } from '../alerts/store.js';
import type { QueueMessage } from '../mta/types.js';
import { domainOf } from '../rules/types.js';

/** Rows kept per host and run; the smaller domains are summed into "(other)". */
export const MAX_SHAPE_DOMAINS = 500;
export const TOTAL = 'TOTAL';
export const NULL_SENDER = 'MAILER-DAEMON';

/** Bucket index: under 5 min → 0 ("5"), [5, 10) → 1 ("10") … [640, 1280) → 8 ("1280"), 1280 min and older → 9 ("1280+"). */
export function bucketOf(ageSeconds: number): number {
  const minutes = Math.max(0, ageSeconds) / 60;
  const i = AGE_BUCKETS.findIndex((b) => minutes < b);
  return i === -1 ? AGE_BUCKETS.length : i;
}

/** The row a message counts in: its envelope sender's domain, as qshape -s shows it. */
export function senderDomainOf(m: Pick<QueueMessage, 'sender' | 'senderTruncated'>): string {
  if (m.senderTruncated) return '(cut short)';
  if (m.sender === '') return NULL_SENDER;
  return domainOf(m.sender) ?? '(none)';
}

function emptyRow(domain: string): QueueShapeRow {
  return { domain, total: 0, buckets: AGE_LABELS.map(() => 0), unknownAge: 0 };
}

function addInto(into: QueueShapeRow, r: QueueShapeRow): void {
  into.total += r.total;
  into.unknownAge += r.unknownAge;
  r.buckets.forEach((n, i) => (into.buckets[i] = (into.buckets[i] ?? 0) + n));
}

/** Biggest first, then by name: the same input always gives the same table. */
function ordered(rows: Iterable<QueueShapeRow>): QueueShapeRow[] {
  return [...rows].sort((a, b) => b.total - a.total || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
}

/** Cap the rows at `max`: the rest summed into one "(other)" row, kept last. */
function capped(rows: QueueShapeRow[], max: number): QueueShapeRow[] {
  if (rows.length <= max) return rows;
  const other = emptyRow('(other)');
  for (const r of rows.slice(max - 1)) addInto(other, r);
  return [...rows.slice(0, max - 1), other];
}

/** One host's snapshot: sender-domain rows (no TOTAL row) and queued messages per authenticated account. */
export function queueShape(messages: QueueMessage[], max = MAX_SHAPE_DOMAINS): { rows: QueueShapeRow[]; accounts: Record<string, number> } {
  const byDomain = new Map<string, QueueShapeRow>();
  const accounts: Record<string, number> = {};
  for (const m of messages) {
    const d = senderDomainOf(m);
    const row = byDomain.get(d) ?? byDomain.set(d, emptyRow(d)).get(d)!;
    row.total++;
    if (m.ageSeconds === null) row.unknownAge++;
    else row.buckets[bucketOf(m.ageSeconds)]!++;
    if (m.authId !== undefined) accounts[m.authId] = (accounts[m.authId] ?? 0) + 1;
  }
  return { rows: capped(ordered(byDomain.values()), max), accounts };
}

/** Several snapshots as one table (fleet-wide), rows merged by domain. */
export function mergeShapes(tables: QueueShapeRow[][]): QueueShapeRow[] {
  const byDomain = new Map<string, QueueShapeRow>();
  for (const t of tables)
    for (const r of t) addInto(byDomain.get(r.domain) ?? byDomain.set(r.domain, emptyRow(r.domain)).get(r.domain)!, r);
  return ordered(byDomain.values());
}

/** The TOTAL row (first, as in qshape) followed by the rows. */
export function withTotal(rows: QueueShapeRow[]): QueueShapeRow[] {
  const total = emptyRow(TOTAL);
  for (const r of rows) addInto(total, r);
  return [total, ...rows];
}
