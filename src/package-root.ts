// The files shipped beside the code (package.json, playbooks, fixtures, the server scripts under
// src/mta) are found from the package's root: the nearest folder above this module whose
// package.json is mailsweep's. The code runs from src/ (tests), from tsc's dist/ tree and from the
// bundle (dist/cli.js and its chunks in dist/chunks/), each at its own depth, so no fixed "../..".
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = 'mailsweep';

interface Found {
  root: string;
  version: string;
}
let found: Found | undefined;

/** The package.json at `dir` when it is mailsweep's, else undefined (missing, unreadable, another package). */
function ours(dir: string): Found | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
    return pkg.name === NAME ? { root: dir, version: typeof pkg.version === 'string' ? pkg.version : '' } : undefined;
  } catch {
    return undefined;
  }
}

/** Walks up from `start` (a folder) to mailsweep's root; exported for tests. */
export function findPackageRoot(start: string): Found {
  for (let dir = start; ; dir = dirname(dir)) {
    const hit = ours(dir);
    if (hit) return hit;
    if (dirname(dir) === dir) throw new Error(`${NAME}'s package.json not found in ${start} or any folder above it (a broken install?)`);
  }
}

function here(): Found {
  return (found ??= findPackageRoot(dirname(fileURLToPath(import.meta.url))));
}

/** A path inside the installed package, e.g. packagePath('playbooks', 'contain.yaml'). */
export function packagePath(...parts: string[]): string {
  return join(here().root, ...parts);
}

/** package.json's version. */
export function packageVersion(): string {
  return here().version;
}
