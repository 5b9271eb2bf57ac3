// What `incident`, `contain` and `release` share: one host picked from the inventory, and a
// playbook run on it through the incident engine — transport, journal, renderer, exit code.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ACTIONS, PREFLIGHT } from '../actions/index.js';
import { incidentalSecrets } from '../actions/secrets.js';
import { ConfigError, EXIT } from '../errors.js';
import { loadInventory } from '../inventory/load.js';
import { selectHosts } from '../inventory/pattern.js';
import type { HostSpec } from '../inventory/types.js';
import { runPlaybook } from '../playbook/engine.js';
import { defaultRunsDir } from '../playbook/journal.js';
import { plainRenderer } from '../playbook/render-plain.js';
import { ttyRenderer } from '../playbook/render-tty.js';
import type { Playbook } from '../playbook/schema.js';
import { transportFor } from '../scan/connect.js';
import { KnownHostsFile } from '../transport/known-hosts.js';
import { quote } from '../transport/quote.js';
import { defaultInventory, positiveInt } from './scan.js';

/** Exit codes of `mailsweep incident`, `contain` and `release` (the README's incident table). */
export const INCIDENT_EXIT = {
  ok: 0,
  failed: EXIT.failed,
  connection: EXIT.connection,
  config: EXIT.unknown,
  aborted: EXIT.aborted,
} as const;

export interface HostRunCliOptions {
  inventory?: string;
  dryRun?: boolean;
  yes?: boolean;
  resume?: string;
  knownHosts?: string;
  acceptNewHostkeys?: boolean;
  runsDir?: string;
  timeout: string;
}

/** The one host `pattern` names, the run's timeout, and whether someone is at a terminal. */
export async function oneHost(
  cmd: string,
  pattern: string,
  o: HostRunCliOptions,
): Promise<{ host: HostSpec; timeoutS: number; tty: boolean }> {
  // Validated as scan does: "abc" or 0 must not silently disable every timeout.
  const timeoutS = positiveInt('--timeout', o.timeout, 3600);
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (!tty && !o.yes && !o.dryRun)
    throw new ConfigError(`${cmd}: no terminal to ask questions on: run interactively, or unattended with --yes (or --dry-run)`);
  const inv = await loadInventory(o.inventory ?? defaultInventory());
  const hosts = selectHosts(inv, pattern);
  if (hosts.length !== 1) {
    const some = hosts.slice(0, 5).map((h) => h.name);
    throw new ConfigError(`${cmd} works on one host; "${pattern}" matches ${hosts.length}: ${some.join(', ')}`);
  }
  return { host: hosts[0]!, timeoutS, tty };
}

export interface HostRun {
  cmd: 'incident' | 'contain' | 'release';
  playbook: Playbook;
  host: HostSpec;
  timeoutS: number;
  tty: boolean;
  vars: Record<string, unknown>;
  /** Override questions answered yes by a flag (key → flag). */
  forced: Map<string, string>;
  answers?: Record<string, unknown>;
  skip?: Set<string>;
  /** The command's own options in the printed resume command (e.g. `--auth-id …`), after the shared ones. */
  resumeArgs?: string[];
}

/**
 * The resume command a stopped run prints: every option the resumed run needs to behave as this
 * one did (host, files as absolute paths, keys, journal, timeout, unattended), each word quoted.
 */
export function resumeCommand(r: Pick<HostRun, 'cmd' | 'host' | 'resumeArgs'>, o: HostRunCliOptions, runId: string): string {
  const words = [r.cmd, r.host.name, '--resume', runId];
  if (o.inventory) words.push('-i', resolve(o.inventory));
  if (o.knownHosts) words.push('--known-hosts', resolve(o.knownHosts));
  if (o.runsDir) words.push('--runs-dir', resolve(o.runsDir));
  if (o.acceptNewHostkeys) words.push('--accept-new-hostkeys');
  words.push('-t', o.timeout, ...(r.resumeArgs ?? []));
  if (o.dryRun) words.push('--dry-run');
  if (o.yes) words.push('--yes');
  return `mailsweep ${words.map((w) => quote(w)).join(' ')}`;
}

export async function runOnHost(r: HostRun, o: HostRunCliOptions): Promise<number> {
  const transport = transportFor(r.host, {
    knownHosts: new KnownHostsFile(o.knownHosts ?? join(homedir(), '.ssh', 'known_hosts')),
    hostKeyPolicy: o.acceptNewHostkeys ? 'accept-new' : 'strict',
    perHostKnownHosts: !o.knownHosts,
    connectTimeoutMs: Math.min(r.timeoutS, 10) * 1000,
  });
  try {
    const outcome = await runPlaybook({
      playbook: r.playbook,
      host: r.host,
      transport,
      actions: ACTIONS,
      preflight: PREFLIGHT,
      vars: r.vars,
      dryRun: !!o.dryRun,
      unattended: !!o.yes,
      forced: r.forced,
      answers: r.answers ?? {},
      skip: r.skip ?? new Set(),
      runsDir: o.runsDir ?? defaultRunsDir(),
      resume: o.resume,
      // URL userinfo and tokens pasted where a variable's name belongs: never shown, never journaled.
      secrets: incidentalSecrets(r.host.vars),
      // A listr2 task list and prompts on a terminal; plain lines otherwise (CI counts as no terminal).
      renderer: (r.tty && !process.env.CI ? ttyRenderer : plainRenderer)({
        out: (line) => void process.stderr.write(`${line}\n`),
        ...(r.cmd === 'incident' ? {} : { label: r.cmd }),
        resume: (runId) => resumeCommand(r, o, runId),
      }),
      commandTimeoutMs: r.timeoutS * 1000,
    });
    if (outcome.status === 'ok') return INCIDENT_EXIT.ok;
    if (outcome.status === 'aborted') return INCIDENT_EXIT.aborted;
    return outcome.connection ? INCIDENT_EXIT.connection : INCIDENT_EXIT.failed;
  } finally {
    await transport.close();
  }
}
