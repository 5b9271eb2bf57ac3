// `mailsweep merge`: scan reports of several workers (shards of one sweep, or datacenters) made
// one fleet report in the same schema — hosts side by side, suspects re-ranked fleet-wide,
// correlation across hosts, summary and exit code recomputed. Reports are files another process wrote: checked field by
// field, and a host in two of them is an error, never a silent pick.
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { HOST_STATUSES, type HostReport, type ScanReport } from './types.js';
import { summarizeFleet } from './fleet.js';
import { hostAuthSchema } from '../correlate/schema.js';

const severity = z.enum(['info', 'warning', 'critical']);
const finding = z.object({ rule: z.string(), severity, message: z.string() }).passthrough();
const suspect = z.object({ authId: z.string(), score: z.number(), messages: z.number() }).passthrough();
const host = z
  .object({
    name: z.string().min(1),
    status: z.enum(HOST_STATUSES as [string, ...string[]]),
    queue: z.object({ total: z.number() }).passthrough().nullable(),
    findings: z.array(finding),
    suspects: z.array(suspect).optional(),
    // Correlation is recomputed from it: a report without it (log unread, older mailsweep) only makes it partial.
    auth: hostAuthSchema.optional(),
  })
  .passthrough();
const shard = z.object({ index: z.number().int().min(1), count: z.number().int().min(1) });
const report = z
  .object({
    version: z.literal(1, { errorMap: () => ({ message: 'not a mailsweep scan report (version 1): write it with --format json' }) }),
    startedAt: z.string(),
    finishedAt: z.string(),
    shard: shard.optional(),
    // A --problems report lacks its OK hosts: merged, the fleet's totals would be wrong.
    filter: z.undefined({ errorMap: () => ({ message: 'written with --problems (OK hosts left out): merge full reports' }) }).optional(),
    hosts: z.array(host),
  })
  .passthrough();

export interface MergeInput {
  file: string;
  text: string;
}

export interface MergeOptions {
  /** Merge even when shards of a sharded sweep are missing (their hosts are then simply absent). */
  partial?: boolean;
}

function parseOne(i: MergeInput): ScanReport {
  let data: unknown;
  try {
    data = JSON.parse(i.text);
  } catch (e) {
    throw new ConfigError(`${i.file}: not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const r = report.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`${i.file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return r.data as unknown as ScanReport;
}

export function mergeReports(inputs: MergeInput[], o: MergeOptions = {}): ScanReport {
  if (!inputs.length) throw new ConfigError('merge: name at least one scan report (JSON from scan --format json)');
  const reports = inputs.map((i) => ({ file: i.file, r: parseOne(i) }));

  const sharded = reports.filter((x) => x.r.shard);
  if (sharded.length && sharded.length !== reports.length)
    throw new ConfigError(
      `merge: ${sharded[0]!.file} is shard ${sharded[0]!.r.shard!.index}/${sharded[0]!.r.shard!.count} but ${reports.find((x) => !x.r.shard)!.file} is not sharded: merge one sweep's shards, or unsharded reports`,
    );
  let shards: { count: number; missing: number[] } | undefined;
  if (sharded.length) {
    const count = sharded[0]!.r.shard!.count;
    const seen = new Map<number, string>();
    for (const { file, r } of sharded) {
      if (r.shard!.count !== count)
        throw new ConfigError(
          `merge: ${file} is shard ${r.shard!.index}/${r.shard!.count}, ${sharded[0]!.file} one of ${count}: not one sweep`,
        );
      const other = seen.get(r.shard!.index);
      if (other) throw new ConfigError(`merge: ${other} and ${file} are both shard ${r.shard!.index}/${count}`);
      seen.set(r.shard!.index, file);
    }
    const missing = Array.from({ length: count }, (_, i) => i + 1).filter((k) => !seen.has(k));
    if (missing.length && !o.partial)
      throw new ConfigError(
        `merge: shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${count} missing: their hosts would be absent from the fleet report (--partial merges anyway)`,
      );
    shards = { count, missing };
  }

  const owner = new Map<string, string>();
  const hosts: HostReport[] = [];
  for (const { file, r } of reports)
    for (const h of r.hosts) {
      const prev = owner.get(h.name);
      if (prev) throw new ConfigError(`merge: host ${JSON.stringify(h.name)} is in both ${prev} and ${file}: a host belongs to one report`);
      owner.set(h.name, file);
      hosts.push(h);
    }
  const summary = summarizeFleet(hosts);
  // Hosts of a missing shard were never scanned: the fleet's state is not known to be OK.
  if (shards?.missing.length && summary.exitCode === 0) summary.exitCode = 3;
  const times = (k: 'startedAt' | 'finishedAt') => reports.map((x) => x.r[k]).sort();
  return {
    version: 1,
    startedAt: times('startedAt')[0]!,
    finishedAt: times('finishedAt').at(-1)!,
    merged: { reports: reports.length, ...(shards ? { shards } : {}) },
    hosts,
    summary,
  };
}
