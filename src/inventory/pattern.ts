// Ansible host patterns: all, names, groups, globs, ~regex, a:b / a,b, &intersect, !exclude, group[0:2], @file.

import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { closeNames, editDistance } from '../text/suggest.js';
import type { HostSpec, Inventory } from './types.js';

/**
 * The hosts a pattern selects, in inventory order. `undefined` means all.
 * Throws ConfigError when an element matches no host or group (with the closest names) or nothing is left.
 */
export function selectHosts(inv: Inventory, pattern: string | undefined): HostSpec[] {
  if (pattern === undefined) return [...inv.hosts];
  const items = splitPattern(pattern).flatMap(readPatternFile);
  if (items.length === 0) throw new ConfigError(`host pattern ${JSON.stringify(pattern)} is empty`);

  // Ansible's order: unions first, then &, then !; only & and ! means "all, then …".
  const regular = items.filter((p) => p[0] !== '&' && p[0] !== '!');
  const and = items.filter((p) => p[0] === '&').map((p) => p.slice(1));
  const not = items.filter((p) => p[0] === '!').map((p) => p.slice(1));
  const selected = new Set<string>();
  for (const p of regular.length ? regular : ['all']) for (const h of matchOne(inv, p)) selected.add(h);
  for (const p of and) {
    const keep = new Set(matchOne(inv, p));
    for (const h of selected) if (!keep.has(h)) selected.delete(h);
  }
  for (const p of not) for (const h of matchOne(inv, p)) selected.delete(h);

  const hosts = inv.hosts.filter((h) => selected.has(h.name));
  if (hosts.length === 0) throw new ConfigError(`host pattern ${JSON.stringify(pattern)} selects no hosts`);
  return hosts;
}

/**
 * "a:b:!c" or "a,b,!c" → ["a", "b", "!c"]. Colons inside [ranges] and in IPv6 addresses do not split;
 * a piece starting with ~ (a regex) is only split on commas.
 */
export function splitPattern(pattern: string): string[] {
  return pattern
    .split(',')
    .flatMap((piece) => {
      const p = piece.trim();
      if (!p) return [];
      const bare = p.replace(/^[!&]/, '');
      if (bare.startsWith('~') || bare.startsWith('@') || isIPv6(bare)) return [p];
      return p.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
    })
    .map((p) => p.trim())
    .filter(Boolean);
}

function isIPv6(s: string): boolean {
  return /^[0-9A-Fa-f:.*?]+(%[\w.]+)?$/.test(s) && (s.includes('::') || s.split(':').length >= 7);
}

// --limit @file: one pattern per line (a .retry file, or a hand-written list); # starts a comment line.
function readPatternFile(item: string): string[] {
  const prefix = item[0] === '!' || item[0] === '&' ? item[0] : '';
  const body = item.slice(prefix.length);
  if (!body.startsWith('@')) return [item];
  const path = body.slice(1);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`host pattern @${path}: cannot read file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines.length === 0) throw new ConfigError(`host pattern @${path}: the file lists no hosts`);
  // A prefix on @file applies to each line: !@failed.retry excludes every host in it.
  return lines.map((l) => (prefix && (l[0] === '!' || l[0] === '&') ? l : prefix + l));
}

/** Host names one pattern element matches, in inventory order; throws when nothing by that name exists. */
function matchOne(inv: Inventory, element: string): string[] {
  const { pattern, subscript } = splitSubscript(element);
  const hostNames = inv.hosts.map((h) => h.name);
  let names: string[];
  if (pattern === 'all' || pattern === '*') {
    names = hostNames;
  } else {
    const re = toRegExp(pattern);
    const groups = Object.keys(inv.groups).filter((g) => re.test(g));
    const found = new Set(groups.flatMap((g) => inv.groups[g] ?? []));
    // As Ansible: a plain name that is a group means the group; globs and regexes also match host names.
    if (groups.length === 0 || /^~|[.?*[]/.test(pattern)) for (const h of hostNames) if (re.test(h)) found.add(h);
    if (groups.length === 0 && found.size === 0) {
      const close = closest(pattern, hostNames, Object.keys(inv.groups));
      throw new ConfigError(
        `host pattern ${JSON.stringify(element)} matches no host or group in ${inv.file}` +
          (close.length ? `; closest: ${close.join(', ')}` : ''),
      );
    }
    names = hostNames.filter((h) => found.has(h));
  }
  if (!subscript) return names;
  const [start, end] = subscript;
  if (end === undefined) {
    const h = names.at(start);
    return h === undefined ? [] : [h];
  }
  return names.slice(start, end === -1 ? undefined : end + 1);
}

// "web[0]", "web[-1]", "web[1:3]" (inclusive), "web[2:]"; regexes carry no subscript.
function splitSubscript(p: string): { pattern: string; subscript?: [number, number?] } {
  if (p.startsWith('~')) return { pattern: p };
  const m = /^(.+)\[(?:(-?\d+)|(\d+):(\d*))\]$/.exec(p);
  if (!m?.[1]) return { pattern: p };
  if (m[2] !== undefined) return { pattern: m[1], subscript: [Number(m[2])] };
  return { pattern: m[1], subscript: [Number(m[3]), m[4] ? Number(m[4]) : -1] };
}

function toRegExp(pattern: string): RegExp {
  if (pattern.startsWith('~')) {
    try {
      // Python's re.match: anchored at the start only.
      return new RegExp(`^(?:${pattern.slice(1)})`);
    } catch (e) {
      throw new ConfigError(`host pattern ${JSON.stringify(pattern)}: invalid regular expression: ${(e as Error).message}`);
    }
  }
  return new RegExp(`^${globToRegExpSource(pattern)}$`);
}

/** fnmatch: * ? [abc] [!abc]; everything else literal. */
function globToRegExpSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        else if (body.startsWith('^')) body = '\\' + body;
        out += `[${body}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\/\]]/g, '\\$&');
  }
  return out;
}

/**
 * Up to three known names the operator may have meant, best first. A host whose name starts with
 * what was typed (`mx1` → `mx1.dc1.example.net`) wins over everything, and then no group is
 * offered; else prefixes and near misses among hosts and groups; else the nearest there are.
 */
function closest(typed: string, hostNames: string[], groupNames: string[]): string[] {
  const t = typed.replace(/^~/, '').toLowerCase();
  const hosts = hostNames.filter((h) => t !== '' && h.toLowerCase().startsWith(t));
  if (hosts.length) return closeNames(t, hosts);
  const all = [...new Set([...hostNames, ...groupNames])];
  const close = closeNames(t, all);
  if (close.length) return close;
  return all
    .map((n) => ({ n, d: editDistance(t, n.toLowerCase()) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.n);
}
