// Server-side scripts are files (src/mta/<mta>/scripts/*.sh, src/mta/shared/scripts/*.sh), POSIX
// sh, checked with dash -n and shellcheck by the tests. A command is a script's text with its
// settings assigned first, each value quoted by the one quoting function; data (ids, senders,
// accounts) never goes into the text: it goes on the command's stdin.
//
//   # @include shared/scripts/stdin-request.sh      a line of its own: that file's text, here
//
// Paths are relative to src/mta. The files are read from the package's src/mta (shipped with it):
// found from the package root (src/package-root.ts), so the same folder from src/ (tests), from
// tsc's dist/ and from the bundle (dist/cli.js and its chunks).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { packagePath } from '../package-root.js';
import { quote, type Sh } from '../transport/quote.js';

const ROOT = pathToFileURL(packagePath('src', 'mta') + '/');
const INCLUDE = /^# @include (\S+)$/;
const cache = new Map<string, string>();

/** A script file's text with its includes expanded (each file once, in order). */
export function scriptSource(path: string, seen: Set<string> = new Set()): string {
  if (!/^[a-z0-9-]+\/scripts\/[a-z0-9-]+\.(sh|awk)$/.test(path)) throw new Error(`bad script path ${path}`);
  if (seen.has(path)) throw new Error(`script ${path} includes itself`);
  const cached = cache.get(path);
  if (cached !== undefined && seen.size === 0) return cached;
  seen.add(path);
  const text = readFileSync(new URL(path, ROOT), 'utf8')
    .split('\n')
    .map((line) => {
      const m = INCLUDE.exec(line);
      return m ? scriptSource(m[1]!, seen).replace(/\n$/, '') : line;
    })
    .join('\n');
  seen.delete(path);
  if (seen.size === 0) cache.set(path, text);
  return text;
}

/** A setting's value: a string or number, or a list (one item a line; scripts read it with IFS=newline). */
export type ScriptValue = string | number | readonly string[];

/** The command: `NAME='value'` lines (quoted), then the script. `vars` are settings, never server data. */
export function serverScript(path: string, vars: Readonly<Record<string, ScriptValue>> = {}): Sh {
  const head = Object.entries(vars).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`bad script variable name ${k}`);
    const value = typeof v === 'string' || typeof v === 'number' ? String(v) : v.join('\n');
    // A value holding $ or ` (an awk program, an inner script) is quoted text, never expanded
    // here: the directive keeps shellcheck's SC2016 note to that one assignment.
    const note = /[$`]/.test(value) ? '# shellcheck disable=SC2016\n' : '';
    return `${note}${k}=${quote(value)}`;
  });
  return [...head, scriptSource(path)].join('\n') as Sh;
}
