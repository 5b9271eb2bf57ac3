// The inventory a command runs on, found and completed as Ansible would: sources from -i (repeatable),
// $MAILSWEEP_INVENTORY, $ANSIBLE_INVENTORY, ./inventory.yaml, ansible.cfg; group_vars and
// host_vars beside them and in the working directory; connection defaults from -u, --private-key,
// -b, the ANSIBLE_* variables, ansible.cfg and ~/.ssh/config.

import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { ansibleSettings, findAnsibleCfg, readAnsibleCfg, type AnsibleSettings } from './ansible-cfg.js';
import { buildInventory } from './build.js';
import { expandPath } from './paths.js';
import { isHostList, mergeRaw, readSource } from './sources.js';
import { loadSshConfig } from './ssh-config.js';
import type { ConnectionDefaults, Inventory } from './types.js';
import { varsFilesLoader } from './vars-files.js';

export interface InventoryCliOptions {
  /** -i, repeatable (commander collects it); a string from older callers. */
  inventory?: string[] | string;
  user?: string;
  privateKey?: string;
  become?: boolean;
  becomeUser?: string;
  /** --ssh-config FILE | none */
  sshConfig?: string;
}

export interface OpenedInventory {
  inventory: Inventory;
  /** ansible.cfg / ANSIBLE_* settings the command's own flags may fall back to (forks, timeout). */
  settings: AnsibleSettings;
  /** The sources read, in order. */
  sources: string[];
}

const FALLBACKS = ['inventory.yaml', 'inventory.yml', '/etc/mailsweep/inventory.yaml'];

/**
 * -i; then what the environment names ($MAILSWEEP_INVENTORY, then $ANSIBLE_INVENTORY: an explicit
 * choice beats a file found by looking around; a named file that is missing is an error, never a
 * fallback to another inventory); then ./inventory.yaml|yml (so an existing mailsweep setup never
 * changes), ansible.cfg's inventory, /etc/mailsweep/inventory.yaml.
 */
export function inventorySources(o: InventoryCliOptions, settings: AnsibleSettings, env: NodeJS.ProcessEnv, cwd = process.cwd()): string[] {
  const given = typeof o.inventory === 'string' ? [o.inventory] : (o.inventory ?? []);
  if (given.length) return given;
  const named = env.MAILSWEEP_INVENTORY;
  if (named) {
    if (!existsSync(isAbsolute(named) ? named : resolve(cwd, named)))
      throw new ConfigError(`$MAILSWEEP_INVENTORY: ${named}: no such file or directory`);
    return [named];
  }
  if (env.ANSIBLE_INVENTORY && settings.inventory?.length) return settings.inventory;
  // Relative to the working directory given (tests), shown as written when it is the process's own.
  const local = FALLBACKS.slice(0, 2)
    .map((c) => (cwd === process.cwd() ? c : resolve(cwd, c)))
    .find((c) => existsSync(c));
  if (local) return [local];
  if (settings.inventory?.length) return settings.inventory;
  const system = FALLBACKS[2]!;
  if (existsSync(system)) return [system];
  throw new ConfigError(
    'no inventory: pass -i FILE|DIR (or set MAILSWEEP_INVENTORY or ANSIBLE_INVENTORY, set inventory in ansible.cfg, or create ./inventory.yaml); see inventory.example.yaml',
  );
}

export function openInventory(o: InventoryCliOptions, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): OpenedInventory {
  const home = env.HOME || homedir();
  const cfgFile = findAnsibleCfg(env, cwd, home);
  const settings = ansibleSettings(cfgFile ? readAnsibleCfg(cfgFile) : undefined, env, cwd);
  const sources = inventorySources(o, settings, env, cwd);
  const raw = mergeRaw(sources.flatMap(readSource));
  raw.file = sources.join(', ');
  const dirs = sources.filter((s) => !isHostList(s)).map((s) => (existsSync(s) && isDirectory(s) ? resolve(s) : dirname(resolve(s))));
  const defaults: ConnectionDefaults = {};
  const user = o.user ?? settings.remoteUser;
  if (user !== undefined) {
    if (!/^[^\s@/]+$/.test(user))
      throw new ConfigError(`${o.user !== undefined ? '-u' : 'remote_user'}: ${JSON.stringify(user)} is not a user name`);
    defaults.user = user;
  }
  const key = o.privateKey !== undefined ? expandPath(o.privateKey, cwd) : settings.privateKeyFile;
  if (key) defaults.privateKeyFile = key;
  const become = o.become ?? settings.become;
  if (become !== undefined) defaults.become = become;
  const becomeUser = o.becomeUser ?? settings.becomeUser;
  if (becomeUser) defaults.becomeUser = becomeUser;
  const ssh = loadSshConfig(o.sshConfig, home);
  if (ssh) defaults.sshConfig = ssh;
  const inventory = buildInventory(raw, { extraVars: varsFilesLoader(dirs, [resolve(cwd)]), defaults });
  return { inventory, settings, sources };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
