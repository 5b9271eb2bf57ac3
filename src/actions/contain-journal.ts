// Which containment a host's runs recorded for an account, and which of it was released since:
// read from the run journals (one JSON object per line; a line cut by a crash is skipped).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Measure } from './contain-commands.js';
import type { ContainEffect, ReleaseEffect } from './containment.js';

export interface Containment {
  runId: string;
  /** When the contain run started (ISO). */
  at: string;
  effects: ContainEffect[];
  /** Measures of this run a later release has undone already. */
  released: Set<Measure>;
}

interface RunRecord {
  runId: string;
  host: string;
  at: string;
  contains: ContainEffect[];
  releases: ReleaseEffect[];
}

function readRun(file: string, runId: string): RunRecord | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const run: RunRecord = { runId, host: '', at: '', contains: [], releases: [] };
  for (const line of text.split('\n')) {
    let ev: { t?: string; host?: string; at?: string; key?: string; detail?: unknown };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      continue;
    }
    if (ev.t === 'run-start') [run.host, run.at] = [String(ev.host), String(ev.at)];
    else if (ev.t === 'effect' && ev.key?.startsWith('contain:')) run.contains.push(ev.detail as ContainEffect);
    else if (ev.t === 'effect' && ev.key?.startsWith('release:')) run.releases.push(ev.detail as ReleaseEffect);
  }
  return run.host ? run : null;
}

/**
 * The latest run (or run `runId`) that contained `account` on `host`, with what has been released
 * of it since. null: no such run in `runsDir`.
 */
export function findContainment(runsDir: string, host: string, account: string, runId?: string): Containment | null {
  let files: string[];
  try {
    files = readdirSync(runsDir).filter((f) => f.endsWith('.jsonl'));
  } catch {
    return null;
  }
  const runs = files
    .map((f) => readRun(join(runsDir, f), f.slice(0, -'.jsonl'.length)))
    .filter((r): r is RunRecord => r !== null && r.host === host);
  const containing = runs
    .filter((r) => (runId === undefined || r.runId === runId) && r.contains.some((e) => e.account === account))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.runId < b.runId ? -1 : 1));
  const chosen = containing.at(-1);
  if (!chosen) return null;
  const released = new Set<Measure>();
  for (const r of runs) for (const e of r.releases) if (e.containRun === chosen.runId && e.account === account) released.add(e.measure);
  return { runId: chosen.runId, at: chosen.at, effects: chosen.contains.filter((e) => e.account === account), released };
}
