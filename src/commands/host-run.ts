// What `incident`, `contain` and `release` share: one host picked from the inventory, and a
// playbook run on it through the incident engine — transport, journal, renderer, exit code.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ACTIONS, PREFLIGHT } from '../actions/index.js';
import { incidentalSecrets } from '../actions/secrets.js';
import { ConfigError, EXIT } from '../errors.js';
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
import { openFleet, positiveInt, type FleetInventoryOptions } from './scan.js';

/** Exit codes of `mailsweep incident`, `contain` and `release` (the README's incident table). */
export const INCIDENT_EXIT = {
  ok: 0,
  failed: EXIT.failed,
  connection: EXIT.connection,
  config: EXIT.unknown,
  aborted: EXIT.aborted,
} as const;

export interface HostRunCliOptions extends FleetInventoryOptions {
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
  const inv = openFleet(o).inventory;
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
 * one did (host, inventories and files as absolute paths, login, keys, journal, timeout,
 * unattended), each word quoted.
 */
export function resumeCommand(r: Pick<HostRun, 'cmd' | 'host' | 'resumeArgs'>, o: HostRunCliOptions, runId: string): string {
  const words = [r.cmd, r.host.name, '--resume', runId];
  // A host list ("a,b,") is not a path.
  for (const i of o.inventorySources ?? (o.inventory ? [o.inventory] : [])) words.push('-i', i.includes(',') ? i : resolve(i));
  if (o.user) words.push('-u', o.user);
  if (o.privateKey) words.push('--private-key', resolve(o.privateKey));
  if (o.become) words.push('-b');
  if (o.becomeUser) words.push('--become-user', o.becomeUser);
  if (o.sshConfig) words.push('--ssh-config', o.sshConfig.toLowerCase() === 'none' ? 'none' : resolve(o.sshConfig));
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
