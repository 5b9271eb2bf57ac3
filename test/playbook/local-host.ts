// The host the playbook tests run their steps on: this machine, through LocalTransport; and a
// playbook run there by the real engine.
import { readFileSync } from 'node:fs';
import { ACTION_NAMES, ACTIONS, PREFLIGHT } from '../../src/actions/index.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { runPlaybook, type RunOptions, type RunOutcome } from '../../src/playbook/engine.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { plainRenderer } from '../../src/playbook/render-plain.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { MtaName } from '../../src/mta/types.js';

export function localHost(name: string, mta: MtaName = 'exim'): HostSpec {
  return {
    name,
    address: '127.0.0.1',
    port: 22,
    user: 'root',
    connection: 'local',
    become: false,
    becomeUser: 'root',
    mta,
    queueWarn: 75,
    queueCrit: 100,
    groups: ['all'],
    vars: {},
    source: { file: 'inv.yaml', line: 1 },
  };
}

/** One journal line as the tests read it. */
export interface JournalLine {
  t: string;
  key?: string;
  cmd?: string;
  stdin?: string;
  detail?: Record<string, unknown>;
  [k: string]: unknown;
}

/**
 * A playbook (YAML text) run by the real engine on `host` through LocalTransport, unattended, with
 * the built-in actions; what it printed (plain renderer), its journal, and the journal's effects.
 */
export async function runLocalPlaybook(
  text: string,
  host: HostSpec,
  o: Partial<RunOptions> & { runsDir: string },
): Promise<{ out: RunOutcome; text: string; journal: string; events: JournalLine[]; effects: JournalLine[] }> {
  const lines: string[] = [];
  const out = await runPlaybook({
    playbook: parsePlaybook(text, 'p.yaml', ACTION_NAMES),
    host,
    transport: new LocalTransport(),
    actions: ACTIONS,
    preflight: PREFLIGHT,
    vars: {},
    dryRun: false,
    unattended: true,
    answers: {},
    skip: new Set(),
    secrets: [],
    renderer: plainRenderer({ out: (l) => lines.push(l) }),
    commandTimeoutMs: 10_000,
    ...o,
  });
  const journal = readFileSync(out.journalPath, 'utf8');
  const events = journal
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JournalLine);
  return { out, text: lines.join('\n'), journal, events, effects: events.filter((e) => e.t === 'effect') };
}
