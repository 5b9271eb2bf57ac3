// Recorded real-server runs of mailsweep's own commands, replayed by fake hosts (demo, tests, bench).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ReplayEntry } from './fake-host.js';

/** Substrings that tell the recorded commands apart; tried in this order (detect names every tool). */
export const REPLAY_KEYS = {
  detect: 'for b in exim exim4',
  log: '__MAILSWEEP_LOGNOW__',
  localDomains: '__MAILSWEEP_LD__',
  queue: '__MAILSWEEP_',
} as const;

/** The replay table for a directory written by scripts/record-lab.ts. */
export function replayFrom(dir: string): ReplayEntry[] {
  return [
    { match: REPLAY_KEYS.detect, file: join(dir, 'detect.out') },
    { match: REPLAY_KEYS.log, file: join(dir, 'log.out') },
    // Older recordings have no local-domains.out: the host then answers with the queue's output,
    // which reads as "local domains unknown" (no bounce proven foreign), as on a real host that fails.
    ...(existsSync(join(dir, 'local-domains.out')) ? [{ match: REPLAY_KEYS.localDomains, file: join(dir, 'local-domains.out') }] : []),
    { match: REPLAY_KEYS.queue, file: join(dir, 'queue.out') },
  ];
}
