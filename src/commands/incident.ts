// `mailsweep incident HOST`: the hijacked-account playbook on one host, guided or unattended.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ACTION_NAMES } from '../actions/index.js';
import { ConfigError } from '../errors.js';
import { oneHost, runOnHost, type HostRunCliOptions } from './host-run.js';
import { loadPlaybook } from '../playbook/load.js';

export const DEFAULT_PLAYBOOK = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'playbooks', 'hijacked-account.yaml');

export interface IncidentCliOptions extends HostRunCliOptions {
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

export { INCIDENT_EXIT } from './host-run.js';

export async function runIncident(hostPattern: string, o: IncidentCliOptions): Promise<number> {
  const { host, timeoutS, tty } = await oneHost('incident', hostPattern, o);
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
  return runOnHost(
    {
      cmd: 'incident',
      playbook,
      host,
      timeoutS,
      tty,
      vars,
      forced: new Map(o.forceAccount ? [['identify.unknown_account', '--force-account']] : []),
      answers: await readAnswers(o.answers),
      skip,
    },
    o,
  );
}
