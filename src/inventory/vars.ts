// The vars mailsweep reads: validation (zod), `{{ var }}` references, and the no-secrets rule.

import { z } from 'zod';
import { MTA_NAMES } from '../mta/types.js';
import { MTA_HOST_ALIASES, MTA_HOST_VARS } from '../mta/host.js';
import { RULE_VARS } from '../rules/settings.js';
import { CONTAIN_VARS } from '../actions/contain-commands.js';
import { fail, seg, show } from './fail.js';
import { boolish, digits } from './scalars.js';
import { ANSIBLE_KEYS, likelyTypo, MAILSWEEP_KEYS } from './typos.js';
import { VaultValue, type VarDef } from './yaml.js';

const lower = (v: unknown): unknown => (typeof v === 'string' ? v.trim().toLowerCase() : v);

const port = z.preprocess(digits, z.number().int().min(1).max(65535));
const count = z.preprocess(digits, z.number().int().min(0));
const name = z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string().trim().min(1));
const path = z.string().trim().min(1);

const CONNECTIONS: Record<string, 'ssh' | 'local'> = { ssh: 'ssh', paramiko: 'ssh', paramiko_ssh: 'ssh', smart: 'ssh', local: 'local' };
// Other plugins (winrm, docker, …) still load, so an existing inventory works unchanged;
// such hosts end their scan with a clear error instead.
const connection = z.preprocess(
  (v) => (typeof v === 'string' ? (CONNECTIONS[v.trim().replace(/^ansible\.(builtin|legacy)\./, '')] ?? 'unsupported') : v),
  z.enum(['ssh', 'local', 'unsupported']),
);
const mta = z.preprocess(lower, z.enum(['auto', ...MTA_NAMES]));

interface Known {
  schema: z.ZodTypeAny;
  expected: string;
}

export const KNOWN: Record<string, Known> = {
  ansible_host: { schema: name, expected: 'a host name or IP address' },
  ansible_ssh_host: { schema: name, expected: 'a host name or IP address' },
  ansible_port: { schema: port, expected: 'an integer 1-65535' },
  ansible_ssh_port: { schema: port, expected: 'an integer 1-65535' },
  ansible_user: { schema: name, expected: 'a user name' },
  ansible_ssh_user: { schema: name, expected: 'a user name' },
  ansible_ssh_private_key_file: { schema: path, expected: 'a file path' },
  ansible_private_key_file: { schema: path, expected: 'a file path' },
  ansible_connection: { schema: connection, expected: 'a connection plugin name (mailsweep scans ssh, paramiko, smart and local hosts)' },
  ansible_become: { schema: boolish, expected: 'a boolean (true/false, yes/no)' },
  ansible_sudo: { schema: boolish, expected: 'a boolean (true/false, yes/no)' },
  ansible_become_user: { schema: name, expected: 'a user name' },
  ansible_sudo_user: { schema: name, expected: 'a user name' },
  ansible_ssh_common_args: { schema: z.string(), expected: 'a string of ssh options' },
  ansible_ssh_extra_args: { schema: z.string(), expected: 'a string of ssh options' },
  ansible_group_priority: { schema: z.preprocess(digits, z.number().int().min(1)), expected: 'a positive integer' },
  mta: { schema: mta, expected: `one of ${MTA_NAMES.join(', ')} or auto` },
  queue_warn: { schema: count, expected: 'a non-negative integer' },
  queue_crit: { schema: count, expected: 'a non-negative integer' },
  mailsweep_jump: { schema: z.union([z.string(), z.null(), z.literal(false)]), expected: '"user@host:port" or none' },
  mailsweep_jump_key_file: { schema: path, expected: 'a file path' },
  // Detection rule settings (user_volume_limit, baseline_*, local_domains …): checked here, at load.
  ...RULE_VARS,
  // Where the MTA's binary, configuration, queue and logs are (src/mta/host.ts): checked here, at load.
  ...MTA_HOST_VARS,
  ...Object.fromEntries(Object.entries(MTA_HOST_ALIASES).map(([old, now]) => [old, MTA_HOST_VARS[now]])),
  // How a host without cPanel contains an account (src/actions/contain-commands.ts).
  ...CONTAIN_VARS,
};

const ALL_KNOWN = [...Object.keys(KNOWN), ...MAILSWEEP_KEYS, ...ANSIBLE_KEYS];

/**
 * A var where it is written (inventory, group_vars, host_vars): no literal secret, no misspelled
 * key, and a known key's value valid (references are checked per host, once resolved).
 */
export function checkWritten(key: string, def: VarDef): void {
  rejectSecrets(def.file, def, key);
  const meant = likelyTypo(key, ALL_KNOWN);
  if (meant) fail(def.file, def.line, def.path, `unknown key "${key}": did you mean ${meant}?`);
  if (!isTemplate(def.value)) checkVar(def.file, key, def.value, def);
}

/** Checks a known var's value and returns it normalised; unknown keys pass through. */
export function checkVar(file: string, key: string, value: unknown, def: Pick<VarDef, 'line' | 'path'>): unknown {
  const known = KNOWN[key];
  if (!known) return value;
  const r = known.schema.safeParse(value);
  if (!r.success) {
    // Inside a mapping or list (sender_allow, local_domains): name the entry that is wrong.
    const at = r.error.issues[0]?.path ?? [];
    const bad = at.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);
    const where = def.path + at.map((k) => (typeof k === 'number' ? `[${k}]` : `.${seg(k)}`)).join('');
    fail(file, def.line, where, `expected ${known.expected}, got ${show(bad)}`);
  }
  return r.data;
}

export function isTemplate(v: unknown): v is string {
  return typeof v === 'string' && /\{\{|\{%/.test(v);
}

/**
 * Resolves the `{{ name }}` references Ansible inventories commonly use (inventory_hostname, other vars).
 * Anything richer (filters, expressions) is refused rather than guessed at.
 */
export function render(
  value: unknown,
  lookup: (name: string) => unknown,
  where: { file: string; line: number; path: string },
  depth = 0,
): unknown {
  if (!isTemplate(value)) return value;
  if (depth > 10) fail(where.file, where.line, where.path, 'template references loop');
  const get = (n: string): unknown => {
    const v = lookup(n);
    if (v === undefined) fail(where.file, where.line, where.path, `template uses undefined variable "${n}"`);
    return render(v, lookup, where, depth + 1);
  };
  const whole = /^\s*\{\{\s*([A-Za-z_]\w*)\s*\}\}\s*$/.exec(value);
  if (whole?.[1]) return get(whole[1]);
  const out = value.replace(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g, (_, n: string) => String(get(n)));
  if (/\{\{|\{%/.test(value.replace(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g, ''))) {
    fail(where.file, where.line, where.path, `only plain "{{ variable }}" references are supported here, got ${show(value)}`);
  }
  return out;
}

const SECRET =
  /(?:^|_)(?:pass|passwd|password|passphrase|token|api_?token|auth_?token|access_?token|secret|client_?secret|api_?key|access_?key)$/i;

/** Secret-looking key names in any style: db_password, cpanelToken, whm_apitoken, smtp-pass, apiKey. */
export function isSecretName(k: string): boolean {
  return SECRET.test(k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[-.\s]+/g, '_'));
}

/** Rejects literal secrets anywhere in a var (nested mappings included); the value is never echoed. */
export function rejectSecrets(file: string, def: VarDef, key: string): void {
  walk(key, def.value, def.path);
  function walk(k: string, v: unknown, path: string): void {
    if (Array.isArray(v)) return v.forEach((item, i) => walk(k, item, `${path}[${i}]`));
    if (v !== null && typeof v === 'object' && !(v instanceof VaultValue) && !(v instanceof Date)) {
      for (const [ck, cv] of Object.entries(v)) walk(ck, cv, `${path}.${ck}`);
      return;
    }
    if (!isSecretName(k)) return;
    const literal = (typeof v === 'string' && v.trim() !== '' && !isTemplate(v)) || typeof v === 'number';
    if (!literal) return;
    const hint = k.startsWith('ansible_')
      ? 'mailsweep logs in with SSH keys (ansible_ssh_private_key_file or the ssh agent) and uses sudo without a password'
      : `name where it is instead, e.g. ${k}_env: ${k.toUpperCase()} or ${k}_file: /etc/mailsweep/${k}`;
    fail(
      file,
      def.line,
      path,
      `looks like a secret with its value written in the inventory; secrets belong in the environment or a file: ${hint}` +
        ' (an Ansible !vault value or a "{{ variable }}" reference is accepted too)',
    );
  }
}
