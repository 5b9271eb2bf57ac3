// `--shard K/N`: one of N workers of an engine (AWX job slicing, a Kubernetes Indexed Job, Nomad)
// scans its part of the selected hosts. A host's shard is a hash of its name, so it does not
// depend on inventory order and adding a host moves only that host. K counts from 1 (shard 1 of 4);
// Kubernetes' JOB_COMPLETION_INDEX counts from 0 and is shifted.
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';
import type { HostSpec } from './types.js';

export interface Shard {
  /** 1..count */
  index: number;
  count: number;
}

export const MAX_SHARDS = 10_000;

function whole(text: string): number | null {
  return /^\d{1,6}$/.test(text.trim()) ? Number(text.trim()) : null;
}

/** "2/4" → { index: 2, count: 4 }; `source` names where it came from for the error. */
export function parseShard(text: string, source: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? whole(m[1]!) : null;
  const count = m ? whole(m[2]!) : null;
  if (index === null || count === null || count < 1 || count > MAX_SHARDS || index < 1 || index > count)
    throw new ConfigError(`${source}: expected K/N, shard K of N with 1 ≤ K ≤ N ≤ ${MAX_SHARDS} (e.g. 2/4), got ${JSON.stringify(text)}`);
  return { index, count };
}

/**
 * The shard this worker runs: --shard, else $MAILSWEEP_SHARD, else a Kubernetes Indexed Job's
 * $JOB_COMPLETION_INDEX (0-based) with $MAILSWEEP_SHARDS. JOB_COMPLETION_INDEX alone means nothing
 * here (any Indexed Job sets it): without MAILSWEEP_SHARDS the worker is not sharded.
 */
export function resolveShard(flag: string | undefined, env: NodeJS.ProcessEnv): Shard | undefined {
  if (flag !== undefined) return parseShard(flag, '--shard');
  if (env.MAILSWEEP_SHARD) return parseShard(env.MAILSWEEP_SHARD, 'MAILSWEEP_SHARD');
  if (env.MAILSWEEP_SHARDS === undefined) return undefined;
  const count = whole(env.MAILSWEEP_SHARDS);
  if (count === null || count < 1 || count > MAX_SHARDS)
    throw new ConfigError(
      `MAILSWEEP_SHARDS: expected the number of shards (1 to ${MAX_SHARDS}), got ${JSON.stringify(env.MAILSWEEP_SHARDS)}`,
    );
  const zero = env.JOB_COMPLETION_INDEX === undefined ? null : whole(env.JOB_COMPLETION_INDEX);
  if (zero === null)
    throw new ConfigError(
      `MAILSWEEP_SHARDS=${count} needs this worker's index: JOB_COMPLETION_INDEX (0-based, set by a Kubernetes Indexed Job) or MAILSWEEP_SHARD=K/${count}`,
    );
  if (zero >= count) throw new ConfigError(`JOB_COMPLETION_INDEX=${zero} is not below MAILSWEEP_SHARDS=${count}`);
  return { index: zero + 1, count };
}

/** The shard (1..count) a host name belongs to: the first 48 bits of its SHA-256, modulo count. */
export function shardOf(name: string, count: number): number {
  const h = createHash('sha256').update(name).digest();
  return (h.readUIntBE(0, 6) % count) + 1;
}

/** The hosts of `shard` among `hosts`, in their order; possibly none (a clean no-op for the caller). */
export function shardHosts(hosts: HostSpec[], shard: Shard | undefined): HostSpec[] {
  return shard ? hosts.filter((h) => shardOf(h.name, shard.count) === shard.index) : hosts;
}
