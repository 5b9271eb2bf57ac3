// Loads an Ansible YAML/JSON inventory: text → raw tree (yaml.ts) → HostSpecs (build.ts).

import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { buildInventory } from './build.js';
import type { Inventory } from './types.js';
import { parseYamlInventory } from './yaml.js';

export async function loadInventory(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory (give the inventory file)' : (e as Error).message;
    throw new ConfigError(`${file}: cannot read inventory: ${why}`);
  }
  return parseInventory(text, file);
}

/** `file` names the source in messages and anchors relative key paths. */
export function parseInventory(text: string, file: string): Inventory {
  return buildInventory(parseYamlInventory(text, file));
}
