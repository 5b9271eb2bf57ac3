// `mailsweep incident HOST`: the hijacked-account playbook on one host, guided or unattended.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ACTION_NAMES, ACTIONS, PREFLIGHT } from '../actions/index.js';
import { ConfigError, EXIT } from '../errors.js';
import { loadInventory } from '../inventory/load.js';
import { selectHosts } from '../inventory/pattern.js';
import { runPlaybook } from '../playbook/engine.js';
import { plainRenderer } from '../playbook/render-plain.js';
import { ttyRenderer } from '../playbook/render-tty.js';
import { defaultRunsDir } from '../playbook/journal.js';
import { loadPlaybook } from '../playbook/load.js';
import { transportFor } from '../scan/connect.js';
import { KnownHostsFile } from '../transport/known-hosts.js';
import { incidentalSecrets } from '../actions/secrets.js';
import { defaultInventory, positiveInt } from './scan.js';

export const DEFAULT_PLAYBOOK = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'playbooks', 'hijacked-account.yaml');

export interface IncidentCliOptions {
  inventory?: string;
  playbook?: string;
  authId?: string;
  dryRun?: boolean;
  yes?: boolean;
  answers?: string;
  resume?: string;
  hold?: boolean;
  skip?: string;
  set?: string[];
  knownHosts?: string;
  acceptNewHostkeys?: boolean;
  forceAccount?: boolean;
  runsDir?: string;
  timeout: string;
}

async function readAnswers(file: string | undefined): Promise<Record<string, unknown>> {
  if (!file) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`--answers ${file}: ${(e as Error).message}`);
  }
  const v = parseYaml(text) as unknown;
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new ConfigError(`--answers ${file}: expected a mapping of question keys to answers`);
  return v as Record<string, unknown>;
}

/** Exit codes of `mailsweep incident` (the table in the README's incident section). */
export const INCIDENT_EXIT = {
  ok: 0,
  failed: EXIT.failed,
  connection: EXIT.connection,
  config: EXIT.unknown,
  aborted: EXIT.aborted,
} as const;

export async function runIncident(hostPattern: string, o: IncidentCliOptions): Promise<number> {
  // Validated as scan does: "abc" or 0 must not silently disable every timeout.
  const timeoutS = positiveInt('--timeout', o.timeout, 3600);
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (!tty && !o.yes && !o.dryRun)
    throw new ConfigError('no terminal to ask questions on: run interactively, or unattended with --yes (and --auth-id or --answers)');
  const inv = await loadInventory(o.inventory ?? defaultInventory());
  const hosts = selectHosts(inv, hostPattern);
  if (hosts.length !== 1)
    throw new ConfigError(
      `incident works on one host; "${hostPattern}" matches ${hosts.length}: ${hosts
        .slice(0, 5)
        .map((h) => h.name)
        .join(', ')}`,
    );
  const host = hosts[0]!;
  const playbook = await loadPlaybook(o.playbook ?? DEFAULT_PLAYBOOK, ACTION_NAMES);
  const vars: Record<string, unknown> = {};
  for (const kv of o.set ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new ConfigError(`--set expects NAME=VALUE, got "${kv}"`);
    const name = kv.slice(0, eq);
    // A misspelt name would otherwise change nothing, silently (suspend_logn=true).
    if (!Object.hasOwn(playbook.vars, name))
      throw new ConfigError(`--set ${name}: the playbook has no such var (its vars: ${Object.keys(playbook.vars).join(', ') || 'none'})`);
    vars[name] = kv.slice(eq + 1);
  }
  if (o.authId) vars.auth_id = o.authId;
  if (o.hold) vars.hold = true;
  const skip = new Set(
    (o.skip ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const s of skip)
    if (!playbook.steps.some((x) => x.id === s))
      throw new ConfigError(`--skip ${s}: no such step (steps: ${playbook.steps.map((x) => x.id).join(', ')})`);
  const transport = transportFor(host, {
    knownHosts: new KnownHostsFile(o.knownHosts ?? join(homedir(), '.ssh', 'known_hosts')),
    hostKeyPolicy: o.acceptNewHostkeys ? 'accept-new' : 'strict',
    perHostKnownHosts: !o.knownHosts,
    connectTimeoutMs: Math.min(timeoutS, 10) * 1000,
  });
  try {
    const outcome = await runPlaybook({
      playbook,
      host,
      transport,
      actions: ACTIONS,
      preflight: PREFLIGHT,
      vars,
      dryRun: !!o.dryRun,
      unattended: !!o.yes,
      forced: new Map(o.forceAccount ? [['identify.unknown_account', '--force-account']] : []),
      answers: await readAnswers(o.answers),
      skip,
      runsDir: o.runsDir ?? defaultRunsDir(),
      resume: o.resume,
      // URL userinfo and tokens pasted where a variable's name belongs: never shown, never journaled.
      secrets: incidentalSecrets(host.vars),
      // A listr2 task list and prompts on a terminal; plain lines otherwise (CI counts as no terminal).
      renderer: (tty && !process.env.CI ? ttyRenderer : plainRenderer)({
        out: (line) => void process.stderr.write(`${line}\n`),
        resume: (runId) => `mailsweep incident ${host.name} --resume ${runId}${existsSync(o.inventory ?? '') ? ` -i ${o.inventory}` : ''}`,
      }),
      commandTimeoutMs: timeoutS * 1000,
    });
    if (outcome.status === 'ok') return INCIDENT_EXIT.ok;
    if (outcome.status === 'aborted') return INCIDENT_EXIT.aborted;
    return outcome.connection ? INCIDENT_EXIT.connection : INCIDENT_EXIT.failed;
  } finally {
    await transport.close();
  }
}
