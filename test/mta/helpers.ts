// Shared test helpers: fixture loading and hostile input generators.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QueueMessage, ReadPlan } from '../../src/mta/types.js';

const here = dirname(fileURLToPath(import.meta.url));

export function fixture(mta: string, name: string): string {
  return readFileSync(join(here, '..', 'fixtures', 'mta', mta, name), 'utf8');
}

/** Deterministic pseudo-random bytes (mulberry32) decoded as latin1: every byte value appears. */
export function garbage(length: number, seed = 42): string {
  let a = seed >>> 0;
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    bytes[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return bytes.toString('latin1');
}

/** Inputs no parser may throw on. */
export const HOSTILE_INPUTS: string[] = [
  '',
  '\n\n\n',
  garbage(4096, 1),
  garbage(4096, 7),
  '\u0000\u0001\u001b[31mred\u001b[0m\r\n\u2028',
  'x'.repeat(200_000),
  '{"queue_id": ' + '['.repeat(5000),
  '__MAILSWEEP_RC__ bp 0\n__MAILSWEEP_RC__ bpc 0\n__MAILSWEEP_NOW__ nope\n',
  '\t\t/var/spool/mqueue (999999999999999999999 requests)\nmessages in queue: -1\n',
];

/** No control characters and bounded length: safe to print in a terminal report. */
export function assertPrintable(warnings: string[]): void {
  for (const w of warnings) {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f-\u009f]/.test(w)) throw new Error(`control character in warning: ${JSON.stringify(w)}`);
    if (w.length > 600) throw new Error(`warning too long (${w.length})`);
  }
}

/** A fresh temporary directory. */
export function tmp(prefix = 'ms-mta-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An executable /bin/sh stub at `path`. */
export function script(path: string, body: string): void {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

/** Run a plan's command through the real /bin/sh in `cwd`, with `bin` first on PATH; parse it as mailsweep would. */
export function runPlan<T>(plan: ReadPlan<T>, cwd: string, bin: string): { result: T; stdout: string } {
  let stdout = '';
  let stderr = '';
  let code: number | null = 0;
  try {
    stdout = execFileSync('/bin/sh', ['-c', plan.command], {
      cwd,
      encoding: 'utf8',
      input: plan.stdin ?? '',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; status?: number };
    stdout = err.stdout ?? '';
    stderr = err.stderr ?? '';
    code = err.status ?? null;
  }
  return { result: plan.parse(stdout, stderr, code), stdout };
}

/** A queued message with plain defaults (one remote recipient, 100 bytes, a minute old): `over` sets the rest. */
export function queueMessage(over: Partial<QueueMessage> = {}): QueueMessage {
  return {
    id: 'x',
    sender: 'x@example.test',
    recipients: ['r@remote.test'],
    size: 100,
    ageSeconds: 60,
    frozen: false,
    held: false,
    bounce: false,
    ...over,
  };
}
