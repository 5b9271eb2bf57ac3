// Raw groups and hosts → HostSpecs: group tree, Ansible var precedence, and the vars mailsweep interprets.

import { dirname, resolve } from 'node:path';
import { expandPath } from './paths.js';
import type { MtaName } from '../mta/types.js';
import { RULE_KEYS } from '../rules/settings.js';
import { fail, seg } from './fail.js';
import { jumpFromSshArgs, parseJump } from './jump.js';
import { sshConfigJump } from './ssh-config.js';
import type { ConnectionDefaults, HostSpec, Inventory, JumpHost } from './types.js';
import { checkVar, checkWritten, isTemplate, render } from './vars.js';
import type { RawGroup, RawHost, RawInventory, VarDef } from './yaml.js';

export const DEFAULT_QUEUE_WARN = 75;
export const DEFAULT_QUEUE_CRIT = 100;

/** Vars for these groups or this host from group_vars/ and host_vars/ (vars-files.ts), beside the inventory or the playbook. */
export type ExtraVars = (kind: 'group' | 'host', names: string[], where: 'inventory' | 'play') => Map<string, VarDef>;

export interface BuildOptions {
  extraVars?: ExtraVars;
  /** What the inventory does not say: the command line, the environment, ansible.cfg, ~/.ssh/config. */
  defaults?: ConnectionDefaults;
}

export function buildInventory(raw: RawInventory, opts: BuildOptions = {}): Inventory {
  const { file } = raw;
  const groups = raw.groups;
  const get = (name: string, line = 1): RawGroup => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, file, line, vars: new Map(), hosts: [], children: [] }));
    return g;
  };
  const all = get('all');
  const ungrouped = get('ungrouped');

  // Vars as written are checked once, where they are written.
  for (const d of [...[...groups.values()].map((g) => g.vars), ...[...raw.hosts.values()].map((h) => h.vars)]) {
    for (const [key, def] of d) checkWritten(key, def);
  }

  const parents = new Map<string, Set<string>>([...groups.keys()].map((n) => [n, new Set<string>()]));
  for (const g of groups.values()) {
    for (const c of g.children) {
      if (c.name === 'all') fail(c.file, c.line, `groups.${seg(g.name)}.children`, '"all" cannot be a child group');
      parents.get(c.name)?.add(g.name);
    }
  }
  // As Ansible does: a group nobody claims is a child of all.
  for (const g of groups.values()) {
    if (g.name !== 'all' && parents.get(g.name)?.size === 0) {
      all.children.push({ name: g.name, file: g.file, line: g.line });
      parents.get(g.name)?.add('all');
    }
  }
  rejectLoops(groups);

  const depthMemo = new Map<string, number>();
  const depth = (name: string): number => {
    let d = depthMemo.get(name);
    if (d === undefined) {
      d = Math.max(-1, ...[...(parents.get(name) ?? [])].map(depth)) + 1;
      depthMemo.set(name, d);
    }
    return d;
  };
  const ancestors = (name: string, acc = new Set<string>()): Set<string> => {
    if (acc.has(name)) return acc;
    acc.add(name);
    for (const p of parents.get(name) ?? []) ancestors(p, acc);
    return acc;
  };
  const priority = (g: RawGroup): number => {
    const def = g.vars.get('ansible_group_priority');
    return def && !isTemplate(def.value) ? (checkVar(def.file, 'ansible_group_priority', def.value, def) as number) : 1;
  };

  for (const h of raw.hosts.values()) {
    if (!h.groups.some((g) => g !== 'all')) {
      h.groups.push('ungrouped');
      ungrouped.hosts.push(h.name);
    }
  }

  const hosts: HostSpec[] = [];
  for (const h of raw.hosts.values()) {
    const member = new Set<string>(['all']);
    for (const g of h.groups) ancestors(g, member);
    // Ansible's order: shallower groups first, then ansible_group_priority, then name; later wins.
    const ordered = [...member]
      .map((n) => get(n))
      .sort((a, b) => depth(a.name) - depth(b.name) || priority(a) - priority(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Ansible's default VARIABLE_PRECEDENCE: the inventory's own group vars, then group_vars/all
    // (inventory, then playbook dir), then group_vars/<group>; then the host's, then host_vars/<host>.
    const merged = new Map<string, VarDef>();
    const put = (m: Map<string, VarDef>): void => m.forEach((d, k) => merged.set(k, d));
    // An inventory's ansible_group_priority orders the groups; Ansible keeps it out of the vars.
    for (const g of ordered) g.vars.forEach((d, k) => k !== 'ansible_group_priority' && merged.set(k, d));
    const x = opts.extraVars;
    if (x) {
      const named = ordered.filter((g) => g.name !== 'all').map((g) => g.name);
      put(x('group', ['all'], 'inventory'));
      put(x('group', ['all'], 'play'));
      put(x('group', named, 'inventory'));
      put(x('group', named, 'play'));
    }
    put(h.vars);
    if (x) {
      put(x('host', [h.name], 'inventory'));
      put(x('host', [h.name], 'play'));
    }
    hosts.push(
      toHostSpec(
        h,
        ordered.map((g) => g.name),
        merged,
        opts.defaults ?? {},
      ),
    );
  }

  const index = new Map(hosts.map((h, i) => [h.name, i]));
  const members: Record<string, string[]> = {};
  for (const name of groups.keys()) members[name] = [];
  for (const h of hosts) for (const g of h.groups) members[g]?.push(h.name);
  for (const list of Object.values(members)) list.sort((a, b) => (index.get(a) ?? 0) - (index.get(b) ?? 0));
  return { file, hosts, groups: members };
}

function rejectLoops(groups: Map<string, RawGroup>): void {
  const state = new Map<string, 'open' | 'done'>();
  const visitGroup = (name: string, trail: string[]): void => {
    state.set(name, 'open');
    for (const c of groups.get(name)?.children ?? []) {
      if (state.get(c.name) === 'open') {
        const loop = [...trail.slice(trail.indexOf(c.name)), name, c.name].join(' → ');
        fail(c.file, c.line, `groups.${seg(name)}.children.${seg(c.name)}`, `group loop: ${loop}`);
      }
      if (!state.has(c.name)) visitGroup(c.name, [...trail, name]);
    }
    state.set(name, 'done');
  };
  for (const name of groups.keys()) if (!state.has(name)) visitGroup(name, []);
}

function toHostSpec(h: RawHost, groups: string[], merged: Map<string, VarDef>, defaults: ConnectionDefaults): HostSpec {
  const { name, file, line } = h;
  const magic: Record<string, unknown> = {
    inventory_hostname: name,
    inventory_hostname_short: name.split('.')[0],
    inventory_file: resolve(file),
    inventory_dir: dirname(resolve(file)),
    group_names: groups.filter((g) => g !== 'all' && g !== 'ungrouped'),
  };
  const lookup = (n: string): unknown => (n in magic ? magic[n] : merged.get(n)?.value);
  const where = (key: string): { file: string; line: number; path: string } => {
    const def = merged.get(key);
    return { file: def?.file ?? file, line: def?.line ?? line, path: def?.path ?? `hosts.${seg(name)}` };
  };
  // The value a known var ends with for this host, references resolved and checked.
  const value = <T>(...keys: string[]): T | undefined => {
    for (const key of keys) {
      const def = merged.get(key);
      if (def) return checkVar(def.file, key, render(def.value, lookup, where(key)), where(key)) as T;
    }
    return undefined;
  };
  const bad =
    (key: string) =>
    (message: string): never => {
      const w = where(key);
      return fail(w.file, w.line, w.path, message);
    };
  // Relative paths are relative to the file the var is written in.
  const dirOf = (key: string): string => dirname(resolve(merged.get(key)?.file ?? file));

  // Where Ansible knows two spellings, the legacy ansible_ssh_* one wins (last in its vars list).
  const connection = value<'ssh' | 'local' | 'unsupported'>('ansible_connection') ?? 'ssh';
  const destination = value<string>('ansible_ssh_host', 'ansible_host') ?? name;
  // ssh reads its config for the destination it is given; what Ansible passes (-o User=, -p, -i) wins.
  const ssh = connection === 'ssh' ? (defaults.sshConfig?.(destination) ?? {}) : {};
  const address = ssh.hostname ?? destination;
  const user = value<string>('ansible_ssh_user', 'ansible_user') ?? defaults.user ?? ssh.user ?? 'root';
  if (connection === 'ssh' && !/^[^\s@/]+$/.test(address)) {
    const key = merged.has('ansible_ssh_host') ? 'ansible_ssh_host' : merged.has('ansible_host') ? 'ansible_host' : '';
    const hint = address.includes('@') ? ' (set the login with ansible_user, not user@host)' : '';
    bad(key)(`${JSON.stringify(address)} is not a host name or IP address${hint}`);
  }
  const keyVar = ['ansible_ssh_private_key_file', 'ansible_private_key_file'].find((k) => merged.has(k));
  const keyFile = keyVar ? expandPath(value<string>(keyVar)!, dirOf(keyVar)) : (defaults.privateKeyFile ?? ssh.identityFile);

  let jump: JumpHost | undefined;
  if (merged.has('mailsweep_jump')) {
    const spec = value<string | null | false>('mailsweep_jump');
    if (spec && spec.trim().toLowerCase() !== 'none') jump = parseJump(spec, user, bad('mailsweep_jump'));
  } else {
    for (const key of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
      const args = value<string>(key);
      jump ??= args ? jumpFromSshArgs(args, user, bad(key)) : undefined;
    }
    if (!jump && ssh.proxyJump) jump = sshConfigJump(ssh.proxyJump, defaults, bad(''));
  }
  const jumpKey = value<string>('mailsweep_jump_key_file');
  if (jump && jumpKey) jump.privateKeyFile = expandPath(jumpKey, dirOf('mailsweep_jump_key_file'));
  else if (jump?.privateKeyFile) jump.privateKeyFile = expandPath(jump.privateKeyFile, dirname(resolve(file)));

  const queueWarn = value<number>('queue_warn') ?? DEFAULT_QUEUE_WARN;
  const queueCrit = value<number>('queue_crit') ?? DEFAULT_QUEUE_CRIT;
  if (queueCrit < queueWarn) {
    const from = (key: string): string => {
      const d = merged.get(key);
      return d ? `${d.path}, line ${d.line}` : 'the default';
    };
    if (merged.has('queue_crit')) {
      bad('queue_crit')(
        `${queueCrit} is below queue_warn ${queueWarn} (${from('queue_warn')}) for host ${name}; queue_crit must be >= queue_warn`,
      );
    }
    bad('queue_warn')(
      `${queueWarn} is above queue_crit ${queueCrit} (${from('queue_crit')}) for host ${name}; queue_crit must be >= queue_warn`,
    );
  }
  const mta = value<string>('mta');

  const vars: Record<string, unknown> = {};
  for (const [k, d] of merged) vars[k] = d.value;
  // Rule settings written as "{{ var }}": resolved and checked for this host now, so the scan never
  // meets a bad value (plain values were checked where they are written, above).
  for (const k of RULE_KEYS) if (isTemplate(merged.get(k)?.value)) vars[k] = value(k);
  return {
    name,
    address,
    port: value<number>('ansible_ssh_port', 'ansible_port') ?? ssh.port ?? 22,
    user,
    ...(keyFile ? { privateKeyFile: keyFile } : {}),
    connection,
    become: value<boolean>('ansible_become', 'ansible_sudo') ?? defaults.become ?? false,
    becomeUser: value<string>('ansible_become_user', 'ansible_sudo_user') ?? defaults.becomeUser ?? 'root',
    ...(jump ? { jump } : {}),
    ...(mta && mta !== 'auto' ? { mta: mta as MtaName } : {}),
    queueWarn,
    queueCrit,
    groups,
    vars,
    source: { file, line },
  };
}
