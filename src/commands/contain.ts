// `mailsweep contain HOST --auth-id ID --hold …` and `mailsweep release HOST --auth-id ID [--run]`:
// the built-in playbooks playbooks/contain.yaml and release.yaml on the incident engine, so the
// journal, --resume, the renderers and the exit codes are the incident's.
import { join } from 'node:path';
import { packagePath } from '../package-root.js';
import { ACTION_NAMES } from '../actions/index.js';
import { oneHost, runOnHost, type HostRunCliOptions } from './host-run.js';
import { badAccount, containWays } from '../actions/contain.js';
import { type Measure } from '../actions/contain-commands.js';
import { findContainment } from '../actions/contain-journal.js';
import { ConfigError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { defaultRunsDir } from '../playbook/journal.js';
import { loadPlaybook } from '../playbook/load.js';

const PLAYBOOKS = packagePath('playbooks');

/** The built-in contain / release playbook's path (the report's auto_contain runs the same one). */
export const builtinPlaybook = (name: 'contain' | 'release') => join(PLAYBOOKS, `${name}.yaml`);

interface CommonOptions extends HostRunCliOptions {
  authId?: string;
}

export interface ContainCliOptions extends CommonOptions {
  hold?: boolean;
  suspendOutgoing?: boolean;
  suspendLogin?: boolean;
  kick?: boolean;
  wholeAccount?: boolean;
}

export interface ReleaseCliOptions extends CommonOptions {
  run?: string;
  force?: boolean;
}

/** The account, checked before anything connects. */
function account(cmd: string, o: CommonOptions): string {
  if (!o.authId) throw new ConfigError(`${cmd}: --auth-id ACCOUNT is required (the mailbox, e.g. bob@example.com)`);
  const bad = badAccount(o.authId);
  if (bad) throw new ConfigError(`${cmd}: --auth-id: ${bad}`);
  return o.authId;
}

async function run(
  cmd: 'contain' | 'release',
  host: HostSpec,
  timeoutS: number,
  tty: boolean,
  vars: Record<string, unknown>,
  o: CommonOptions,
  forced: Map<string, string>,
): Promise<number> {
  const playbook = await loadPlaybook(builtinPlaybook(cmd), ACTION_NAMES);
  const resumeArgs = ['--auth-id', String(vars.auth_id ?? o.authId)];
  return runOnHost({ cmd, playbook, host, timeoutS, tty, vars, forced, resumeArgs }, o);
}

export async function runContain(pattern: string, o: ContainCliOptions): Promise<number> {
  const auth = account('contain', o);
  const measures: Measure[] = [];
  if (o.hold) measures.push('hold');
  if (o.suspendOutgoing) measures.push('suspend_outgoing');
  if (o.suspendLogin) measures.push('suspend_login');
  if (o.kick) measures.push('kick');
  if (!measures.length && !o.resume)
    throw new ConfigError('contain: say what to do: --hold, --suspend-outgoing, --suspend-login and/or --kick');
  const { host, timeoutS, tty } = await oneHost('contain', pattern, o);
  const scope = o.wholeAccount ? 'account' : 'mailbox';
  const { problems } = containWays(host.vars, measures, scope);
  if (problems.length) throw new ConfigError(`contain: cannot contain ${auth} on ${host.name}:\n  ${problems.join('\n  ')}`);
  const vars = o.resume ? {} : { auth_id: auth, measures: measures.join(','), scope };
  return run('contain', host, timeoutS, tty, vars, o, new Map());
}

export async function runRelease(pattern: string, o: ReleaseCliOptions): Promise<number> {
  const auth = account('release', o);
  const { host, timeoutS, tty } = await oneHost('release', pattern, o);
  if (o.run !== undefined && !/^[\w.-]+$/.test(o.run)) throw new ConfigError(`release: --run ${JSON.stringify(o.run)} is not a run id`);
  // Nothing to release is known before anything connects: say so now (exit 3), not mid-run.
  const runsDir = o.runsDir ?? defaultRunsDir();
  if (!o.resume && !findContainment(runsDir, host.name, auth, o.run))
    throw new ConfigError(`release: no contain run ${o.run ? `${o.run} ` : ''}recorded containing ${auth} on ${host.name} in ${runsDir}`);
  const vars = o.resume ? {} : { auth_id: auth, contain_run: o.run ?? '' };
  return run('release', host, timeoutS, tty, vars, o, new Map(o.force ? [['release.unknown_prior', '--force']] : []));
}
