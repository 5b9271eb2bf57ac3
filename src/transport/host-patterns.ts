// A known_hosts host field compiled once: exact names, hashed |1|salt|hash and glob patterns, each maybe negated.
import { createHmac } from 'node:crypto';

export type HostPattern =
  /** No wildcard, ASCII only: compared ASCII-case-insensitively (what the old /i RegExp did). */
  | { kind: 'exact'; name: string }
  /** HashKnownHosts: HMAC-SHA1 of the looked-up name keyed by the salt; `saltKey` groups equal salts. */
  | { kind: 'hashed'; salt: Buffer; saltKey: string; hash: string }
  | { kind: 'glob'; re: RegExp };

export interface HostField {
  positive: HostPattern[];
  negated: HostPattern[];
}

/**
 * Lowercases the ASCII letters only. A non-unicode /i RegExp never folds a non-ASCII character
 * onto an ASCII one, so for an ASCII pattern this comparison and the RegExp agree exactly.
 */
export function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

export function globToRegExp(glob: string): RegExp {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i');
}

export function hashName(salt: Buffer, name: string): string {
  return createHmac('sha1', salt).update(name).digest('base64');
}

/** One pattern; null for a hashed pattern without salt or hash (it can never match). */
function compilePattern(p: string): HostPattern | null {
  if (p.startsWith('|1|')) {
    const [, , salt, hash] = p.split('|');
    if (!salt || !hash) return null;
    const key = Buffer.from(salt, 'base64');
    return { kind: 'hashed', salt: key, saltKey: key.toString('base64'), hash };
  }
  // Wildcards, and non-ASCII names whose case folding only the RegExp gets right, stay RegExps.
  if (/[*?]|[^\x00-\x7f]/.test(p)) return { kind: 'glob', re: globToRegExp(p) };
  return { kind: 'exact', name: asciiLower(p) };
}

/** The host field is a comma list; `!pattern` negates. */
export function compileHostField(field: string): HostField {
  const out: HostField = { positive: [], negated: [] };
  for (const p of field.split(',')) {
    const negated = p.startsWith('!');
    const c = compilePattern(negated ? p.slice(1) : p);
    if (c) (negated ? out.negated : out.positive).push(c);
  }
  return out;
}

/** `lower` is asciiLower(name), computed once by the caller. */
export function patternMatches(p: HostPattern, name: string, lower: string): boolean {
  if (p.kind === 'exact') return p.name === lower;
  if (p.kind === 'hashed') return hashName(p.salt, name) === p.hash;
  return p.re.test(name);
}

/** Excluded by any negated pattern that matches, whatever else matches (as OpenSSH). */
export function negatedFor(f: HostField, name: string, lower: string): boolean {
  return f.negated.some((p) => patternMatches(p, name, lower));
}

export function fieldMatches(f: HostField, name: string, lower = asciiLower(name)): boolean {
  return !negatedFor(f, name, lower) && f.positive.some((p) => patternMatches(p, name, lower));
}
