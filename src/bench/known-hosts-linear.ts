// The known_hosts lookup before the index (issue #11), verbatim: a RegExp compiled per entry per name,
// every line scanned. Kept as the baseline of `npm run bench` and the oracle of the index's table tests.
import { createHmac } from 'node:crypto';
import { fingerprint, keyTypeOf, type HostKeyVerdict, type KnownHostEntry } from '../transport/known-hosts.js';

function globToRegExp(glob: string): RegExp {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i');
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return h === hash;
  }
  return globToRegExp(pattern).test(name);
}

export function linearEntryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  let hit = false;
  for (const p of entry.patterns.split(',')) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) hit = true;
  }
  return hit;
}

export function linearVerifyHostKey(entries: KnownHostEntry[], names: string[], blob: Buffer): HostKeyVerdict {
  const keyType = keyTypeOf(blob);
  const b64 = blob.toString('base64');
  const fp = fingerprint(blob);
  const forHost = entries.filter((e) => names.some((n) => linearEntryMatchesHost(e, n)));
  const revoked = forHost.find((e) => e.marker === '@revoked' && e.keyBase64 === b64);
  if (revoked) return { kind: 'revoked', fingerprint: fp, keyType, line: revoked.line };
  const plain = forHost.filter((e) => !e.marker);
  if (plain.some((e) => e.keyBase64 === b64)) return { kind: 'match' };
  const sameType = plain.filter((e) => e.keyType === keyType);
  if (sameType.length > 0) return { kind: 'changed', fingerprint: fp, keyType, knownAt: sameType.map((e) => e.line) };
  if (plain.length > 0) return { kind: 'changed', fingerprint: fp, keyType, knownAt: plain.map((e) => e.line) };
  return { kind: 'unknown', fingerprint: fp, keyType };
}

export function linearKnownKeyTypes(entries: KnownHostEntry[], names: string[]): string[] {
  const types = new Set<string>();
  for (const e of entries) if (!e.marker && names.some((n) => linearEntryMatchesHost(e, n))) types.add(e.keyType);
  return [...types];
}
