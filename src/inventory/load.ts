// Loads an Ansible inventory (YAML/JSON/INI file, directory or host list): raw trees (sources.ts)
// → HostSpecs (build.ts), with group_vars/ and host_vars/ beside it. The command line's loader,
// with ansible.cfg, -u and ~/.ssh/config, is open.ts.

import { dirname, resolve } from 'node:path';
import { statSync } from 'node:fs';
import { buildInventory } from './build.js';
import { isHostList, mergeRaw, readSource } from './sources.js';
import type { Inventory } from './types.js';
import { varsFilesLoader } from './vars-files.js';
import { parseYamlInventory } from './yaml.js';

export async function loadInventory(source: string): Promise<Inventory> {
  const raw = mergeRaw(readSource(source));
  raw.file = source;
  const dirs = isHostList(source) ? [] : [statSync(source).isDirectory() ? resolve(source) : dirname(resolve(source))];
  return buildInventory(raw, { extraVars: varsFilesLoader(dirs, []) });
}

/** `file` names the source in messages and anchors relative key paths. */
export function parseInventory(text: string, file: string): Inventory {
  return buildInventory(parseYamlInventory(text, file));
}
