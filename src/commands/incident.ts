// `mailsweep incident HOST`: the hijacked-account playbook on one host, guided or unattended.
import { join, resolve } from 'node:path';
import { packagePath } from '../package-root.js';
import { ACTION_NAMES } from '../actions/index.js';
import { ConfigError } from '../errors.js';
import { oneHost, runOnHost, type HostRunCliOptions } from './host-run.js';
import { readAnswers } from '../playbook/answers.js';
import { loadPlaybook } from '../playbook/load.js';
import { didYouMean } from '../text/suggest.js';

export const DEFAULT_PLAYBOOK = packagePath('playbooks', 'hijacked-account.yaml');

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

export { INCIDENT_EXIT } from './host-run.js';

/** What `incident` adds to the printed resume command: the options that shape this playbook run. */
export function incidentResumeArgs(o: IncidentCliOptions): string[] {
  const words: string[] = [];
  if (o.playbook) words.push('--playbook', resolve(o.playbook));
  if (o.answers) words.push('--answers', resolve(o.answers));
  if (o.authId) words.push('--auth-id', o.authId);
  for (const kv of o.set ?? []) words.push('--set', kv);
  if (o.hold) words.push('--hold');
  if (o.skip) words.push('--skip', o.skip);
  if (o.forceAccount) words.push('--force-account');
  return words;
}

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
      throw new ConfigError(
        `--set ${name}: the playbook has no such var${didYouMean(name, Object.keys(playbook.vars))} (its vars: ${Object.keys(playbook.vars).join(', ') || 'none'})`,
      );
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
      answers: await readAnswers(o.answers, playbook),
      skip,
      resumeArgs: incidentResumeArgs(o),
    },
    o,
  );
}
