// ansible.cfg as Ansible finds it: the first of $ANSIBLE_CONFIG, ./ansible.cfg (not in a
// world-writable directory), ~/.ansible.cfg, /etc/ansible/ansible.cfg — only that one is read.
// mailsweep uses [defaults] inventory, forks, remote_user, private_key_file, timeout and
// [privilege_escalation] become, become_user; paths are relative to the file's directory.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { expandPath } from './paths.js';

export interface AnsibleCfg {
  file: string;
  /** section → key → { value, line } */
  sections: Map<string, Map<string, { value: string; line: number }>>;
}

/** Candidates in Ansible's order; `cwd` and `home` are parameters so tests never read the real ones. */
export function findAnsibleCfg(env: NodeJS.ProcessEnv, cwd = process.cwd(), home = homedir()): string | undefined {
  const fromEnv = env.ANSIBLE_CONFIG;
  if (fromEnv) {
    const p = resolve(cwd, expandPath(fromEnv, cwd));
    const file = existsSync(p) && statSync(p).isDirectory() ? join(p, 'ansible.cfg') : p;
    if (existsSync(file)) return file;
  }
  // Ansible skips ./ansible.cfg in a world-writable directory: anyone could plant one there.
  if (existsSync(join(cwd, 'ansible.cfg')) && (statSync(cwd).mode & 0o002) === 0) return join(cwd, 'ansible.cfg');
  for (const f of [join(home, '.ansible.cfg'), '/etc/ansible/ansible.cfg']) if (existsSync(f)) return f;
  return undefined;
}

/** Python configparser's reading of the INI file (inline comments after ';' as Ansible sets it). */
export function parseAnsibleCfg(text: string, file: string): AnsibleCfg {
  const sections: AnsibleCfg['sections'] = new Map();
  let current: Map<string, { value: string; line: number }> | undefined;
  let last: { value: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (/^\s*([#;].*)?$/.test(raw)) return;
    // configparser: an indented line continues the previous value.
    if (/^\s/.test(raw) && last) {
      last.value += `\n${raw.trim()}`;
      return;
    }
    const sec = /^\[([^\]]+)\]\s*$/.exec(raw);
    if (sec) {
      const name = sec[1]!.trim();
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      last = undefined;
      return;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!kv) throw new ConfigError(`${file}:${line}: expected "key = value" or "[section]", got ${JSON.stringify(raw.trim())}`);
    if (!current) throw new ConfigError(`${file}:${line}: "${kv[1]}" is outside any [section]`);
    const value = kv[2]!.replace(/\s;.*$/, '').trim();
    last = { value, line };
    current.set(kv[1]!.toLowerCase(), last);
  });
  return { file, sections };
}

export function readAnsibleCfg(file: string): AnsibleCfg {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read ansible.cfg: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseAnsibleCfg(text, file);
}

/** What mailsweep takes from ansible.cfg and the ANSIBLE_* variables; env beats the file. */
export interface AnsibleSettings {
  inventory?: string[];
  forks?: { value: number; from: string };
  timeout?: { value: number; from: string };
  remoteUser?: string;
  privateKeyFile?: string;
  become?: boolean;
  becomeUser?: string;
}

const TRUE = /^(?:y|yes|on|1|true|t)$/i;
const FALSE = /^(?:n|no|off|0|false|f)$/i;

export function ansibleSettings(cfg: AnsibleCfg | undefined, env: NodeJS.ProcessEnv, cwd = process.cwd()): AnsibleSettings {
  const base = cfg ? dirname(resolve(cfg.file)) : cwd;
  const get = (section: string, key: string, envName: string) => {
    const e = env[envName];
    if (e !== undefined && e !== '') return { value: e, from: `$${envName}`, dir: cwd };
    const c = cfg?.sections.get(section)?.get(key);
    return c && c.value !== '' ? { value: expandVars(c.value, env), from: `${cfg!.file}:${c.line}: ${key}`, dir: base } : undefined;
  };
  const int = (s: ReturnType<typeof get>, min: number) => {
    if (!s) return undefined;
    if (!/^\s*\d+\s*$/.test(s.value) || Number(s.value) < min)
      throw new ConfigError(`${s.from}: expected a whole number >= ${min}, got ${JSON.stringify(s.value)}`);
    return { value: Number(s.value), from: s.from };
  };
  const bool = (s: ReturnType<typeof get>) => {
    if (!s) return undefined;
    if (TRUE.test(s.value.trim())) return true;
    if (FALSE.test(s.value.trim())) return false;
    throw new ConfigError(`${s.from}: expected a boolean (true/false, yes/no), got ${JSON.stringify(s.value)}`);
  };
  const out: AnsibleSettings = {};
  const inv = get('defaults', 'inventory', 'ANSIBLE_INVENTORY');
  if (inv) {
    out.inventory = inv.value
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => expandPath(p, inv.dir));
  }
  const forks = int(get('defaults', 'forks', 'ANSIBLE_FORKS'), 1);
  if (forks) out.forks = forks;
  const timeout = int(get('defaults', 'timeout', 'ANSIBLE_TIMEOUT'), 1);
  if (timeout) out.timeout = timeout;
  const user = get('defaults', 'remote_user', 'ANSIBLE_REMOTE_USER');
  if (user) out.remoteUser = user.value;
  const key = get('defaults', 'private_key_file', 'ANSIBLE_PRIVATE_KEY_FILE');
  if (key) out.privateKeyFile = expandPath(key.value, key.dir);
  const become = bool(get('privilege_escalation', 'become', 'ANSIBLE_BECOME'));
  if (become !== undefined) out.become = become;
  const becomeUser = get('privilege_escalation', 'become_user', 'ANSIBLE_BECOME_USER');
  if (becomeUser) out.becomeUser = becomeUser.value;
  return out;
}

/** $VAR and ${VAR} in ansible.cfg values, as Ansible expands them (unset stays as written). */
function expandVars(v: string, env: NodeJS.ProcessEnv): string {
  return v.replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a?: string, b?: string) => env[(a ?? b)!] ?? m);
}
