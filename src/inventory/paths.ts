// Paths as the inventory writes them.

import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** ~ is the home directory; relative paths are relative to the inventory file, not the working directory. */
export function expandPath(p: string, baseDir: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  if (p.startsWith('~')) return p; // ~otheruser: left for ssh
  return isAbsolute(p) ? p : resolve(baseDir, p);
}
