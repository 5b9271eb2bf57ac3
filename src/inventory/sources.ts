// Inventory sources as Ansible takes them: files, directories (every inventory file in them,
// recursively, skipping what Ansible skips), "host1,host2," lists; several merged in order.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ConfigError } from '../errors.js';
import { fail } from './fail.js';
import { parseHostKey } from './host-range.js';
import { parseIniInventory } from './ini.js';
import { looksLikeIni, parseYamlInventory, type RawInventory } from './yaml.js';

// Ansible's IGNORED_ALWAYS and default INVENTORY_IGNORE_EXTS (REJECT_EXTS + .orig .ini .cfg .retry).
const IGNORED_NAMES = /^(?:\..*|host_vars|group_vars|vars_plugins)$/;
const IGNORED_EXTS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.ini', '.cfg', '.retry'];
const YAML_EXTS = ['.yml', '.yaml', '.json'];

export function isHostList(source: string): boolean {
  return source.includes(',') && !existsSync(source);
}

/** The files a source stands for (a file itself; a directory's inventory files in Ansible's order). */
export function sourceFiles(source: string): string[] {
  let st;
  try {
    st = statSync(source);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `${source}: cannot read inventory: ${code === 'ENOENT' ? 'no such file or directory' : (code ?? (e as Error).message)}`,
    );
  }
  if (!st.isDirectory()) return [source];
  const out: string[] = [];
  for (const entry of readdirSync(source).sort()) {
    if (IGNORED_NAMES.test(entry) || IGNORED_EXTS.some((x) => entry.endsWith(x))) continue;
    out.push(...sourceFiles(join(source, entry)));
  }
  return out;
}

/** One inventory file: YAML/JSON, or Ansible's INI form; what mailsweep cannot read is named, never skipped. */
export function parseInventoryFile(text: string, file: string, executable = false): RawInventory {
  const ext = extname(file).toLowerCase();
  if (text.startsWith('#!') && executable)
    fail(
      file,
      1,
      '',
      `a dynamic inventory script: mailsweep does not run it; save what it prints instead ("${file} --list > inventory.json") and give that`,
    );
  if (/^plugin:\s*\S/m.test(text) && (YAML_EXTS.includes(ext) || !ext))
    fail(
      file,
      1,
      '',
      'an inventory plugin configuration (plugin: …): not supported; save its hosts with "ansible-inventory -i FILE --list -y > inventory.yaml" and give that',
    );
  if (!YAML_EXTS.includes(ext) && looksLikeIni(text)) return parseIniInventory(text, file);
  return parseYamlInventory(text, file);
}

/** A "mx1,mx2:2222," source: hosts in the ungrouped group, as Ansible's host_list plugin does. */
function hostList(source: string): RawInventory {
  const file = '(host list)';
  const inv: RawInventory = { file, groups: new Map(), hosts: new Map() };
  const g = { name: 'ungrouped', file, line: 1, vars: new Map(), hosts: [] as string[], children: [] };
  inv.groups.set('ungrouped', g);
  for (const item of source
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let key;
    try {
      key = parseHostKey(item);
    } catch (e) {
      throw new ConfigError(`-i ${source}: ${(e as Error).message}`);
    }
    for (const name of key.names) {
      if (inv.hosts.has(name)) continue;
      const vars = new Map();
      if (key.port !== undefined) vars.set('ansible_port', { value: key.port, file, line: 1, path: `hosts.${name}` });
      inv.hosts.set(name, { name, file, line: 1, vars, groups: ['ungrouped'] });
      g.hosts.push(name);
    }
  }
  return inv;
}

export function readSource(source: string): RawInventory[] {
  if (isHostList(source)) return [hostList(source)];
  const files = sourceFiles(source);
  // A scan of nothing would look like an all-clear.
  if (!files.length)
    throw new ConfigError(
      `${source}: no inventory file in this directory (hidden files, group_vars, host_vars, .ini, .cfg, .retry, .md, .txt … are not read)`,
    );
  return files.map((file) => {
    let text: string;
    let mode: number;
    try {
      text = readFileSync(file, 'utf8');
      mode = statSync(file).mode;
    } catch (e) {
      throw new ConfigError(`${file}: cannot read inventory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return parseInventoryFile(text, file, (mode & 0o111) !== 0);
  });
}

/**
 * Several inventories as one, as Ansible's InventoryData builds it: same-named groups and hosts are
 * one, a later source's vars override an earlier one's, membership and children add up.
 */
export function mergeRaw(list: RawInventory[]): RawInventory {
  if (list.length === 1) return list[0]!;
  const out: RawInventory = { file: list[0]?.file ?? '(none)', groups: new Map(), hosts: new Map() };
  for (const inv of list) {
    for (const g of inv.groups.values()) {
      const have = out.groups.get(g.name);
      if (!have) {
        out.groups.set(g.name, { ...g, vars: new Map(g.vars), hosts: [...g.hosts], children: [...g.children] });
        continue;
      }
      g.vars.forEach((d, k) => have.vars.set(k, d));
      for (const h of g.hosts) if (!have.hosts.includes(h)) have.hosts.push(h);
      for (const c of g.children) if (!have.children.some((x) => x.name === c.name)) have.children.push(c);
    }
    for (const h of inv.hosts.values()) {
      const have = out.hosts.get(h.name);
      if (!have) {
        out.hosts.set(h.name, { ...h, vars: new Map(h.vars), groups: [...h.groups] });
        continue;
      }
      h.vars.forEach((d, k) => have.vars.set(k, d));
      for (const g of h.groups) if (!have.groups.includes(g)) have.groups.push(g);
    }
  }
  return out;
}
