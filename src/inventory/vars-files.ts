// group_vars/ and host_vars/ as Ansible's host_group_vars plugin reads them: beside each inventory
// source and beside the playbook (here: the working directory), NAME, NAME.yml, NAME.yaml or
// NAME.json — the first that exists; a directory is read whole (lexical order, recursively).

import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { ExtraVars } from './build.js';
import { checkWritten } from './vars.js';
import { parseVarsFile, type VarDef } from './yaml.js';

const EXTENSIONS = ['.yml', '.yaml', '.json'];

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The files Ansible's DataLoader.find_vars_files returns for `name` in `dir`. */
export function findVarsFiles(dir: string, name: string): string[] {
  for (const ext of ['', ...EXTENSIONS]) {
    const full = join(dir, name + ext);
    if (!existsSync(full)) continue;
    return isDir(full) ? dirFiles(full) : [full];
  }
  return [];
}

function dirFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue; // hidden files and editor backups
    const full = join(dir, entry);
    const ext = extname(entry);
    if (isDir(full)) {
      if (!ext) out.push(...dirFiles(full));
    } else if (!ext || EXTENSIONS.includes(ext)) out.push(full);
  }
  return out;
}

/** One file's vars, checked where they are written; a vault-encrypted file is skipped (its vars are secrets). */
function readVarsFile(file: string): Map<string, VarDef> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read vars file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (text.startsWith('$ANSIBLE_VAULT;')) return new Map();
  const vars = parseVarsFile(text, file);
  for (const [k, d] of vars) checkWritten(k, d);
  return vars;
}

/**
 * The vars layers for build.ts: inventory sources' dirs (a directory source is its own dir, a
 * file its parent) in source order, then the playbook dirs; within each dir, the entities in the
 * order asked (Ansible's get_vars_from_inventory_sources: sources outer, groups inner).
 */
export function varsFilesLoader(inventoryDirs: string[], playDirs: string[]): ExtraVars {
  const files = new Map<string, Map<string, VarDef>>();
  const found = new Map<string, string[]>();
  const load = (file: string): Map<string, VarDef> => {
    let v = files.get(file);
    if (!v) files.set(file, (v = readVarsFile(file)));
    return v;
  };
  const lookup = (base: string, sub: string, name: string): string[] => {
    const key = `${base}\0${sub}\0${name}`;
    let list = found.get(key);
    if (!list) {
      const dir = join(base, sub);
      // As Ansible: names that are absolute paths (chroot hosts) have no vars files.
      list = !name.startsWith('/') && isDir(dir) ? findVarsFiles(realpathSync(dir), name) : [];
      found.set(key, list);
    }
    return list;
  };
  return (kind, names, where) => {
    const out = new Map<string, VarDef>();
    const sub = kind === 'group' ? 'group_vars' : 'host_vars';
    for (const base of where === 'inventory' ? inventoryDirs : playDirs) {
      for (const name of names) for (const f of lookup(base, sub, name)) load(f).forEach((d, k) => out.set(k, d));
    }
    return out;
  };
}
