// OpenSSH known_hosts: lookup (plain, [host]:port, hashed |1|salt|hash, wildcards), verdicts, and accept-new.
import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  marker?: '@revoked' | '@cert-authority';
  patterns: string; // the raw host field
  keyType: string;
  keyBase64: string;
  line: number;
}

export type HostKeyVerdict =
  | { kind: 'match' }
  | { kind: 'unknown'; fingerprint: string; keyType: string }
  | { kind: 'changed'; fingerprint: string; keyType: string; knownAt: number[] }
  | { kind: 'revoked'; fingerprint: string; keyType: string; line: number };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostEntry['marker'];
    const [patterns, keyType, keyBase64] = fields;
    if (!patterns || !keyType || !keyBase64) return;
    out.push({ marker, patterns, keyType, keyBase64, line: i + 1 });
  });
  return out;
}

/** The name OpenSSH looks up: "host" on port 22, "[host]:port" otherwise. */
export function hostLookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

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

/** Host field is a comma list; a `!pattern` that matches excludes the line. */
export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  let hit = false;
  for (const p of entry.patterns.split(',')) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) hit = true;
  }
  return hit;
}

/** Wire-format key blob → its type name (first string in the blob). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's SHA256 fingerprint: base64 without padding. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/**
 * Decide on a presented host key. Like OpenSSH: a matching line accepts; a line for
 * this host with the same key type but another key means the key CHANGED; no line at all is unknown.
 * Addresses are checked under every name given (the inventory name and its address).
 */
export function verifyHostKey(entries: KnownHostEntry[], names: string[], blob: Buffer): HostKeyVerdict {
  const keyType = keyTypeOf(blob);
  const b64 = blob.toString('base64');
  const fp = fingerprint(blob);
  const forHost = entries.filter((e) => names.some((n) => entryMatchesHost(e, n)));
  const revoked = forHost.find((e) => e.marker === '@revoked' && e.keyBase64 === b64);
  if (revoked) return { kind: 'revoked', fingerprint: fp, keyType, line: revoked.line };
  const plain = forHost.filter((e) => !e.marker);
  if (plain.some((e) => e.keyBase64 === b64)) return { kind: 'match' };
  const sameType = plain.filter((e) => e.keyType === keyType);
  if (sameType.length > 0) return { kind: 'changed', fingerprint: fp, keyType, knownAt: sameType.map((e) => e.line) };
  // Known under another key type only: OpenSSH treats that as a mismatch worth refusing too.
  if (plain.length > 0) return { kind: 'changed', fingerprint: fp, keyType, knownAt: plain.map((e) => e.line) };
  return { kind: 'unknown', fingerprint: fp, keyType };
}

/** Key types already known for a host, so the handshake can prefer them (as OpenSSH does). */
export function knownKeyTypes(entries: KnownHostEntry[], names: string[]): string[] {
  const types = new Set<string>();
  for (const e of entries) if (!e.marker && names.some((n) => entryMatchesHost(e, n))) types.add(e.keyType);
  return [...types];
}

/** Host-key algorithms to offer for the key types a known_hosts holds (RSA keys sign with SHA-2 too). */
export function hostKeyAlgorithmsFor(types: string[]): string[] {
  const out: string[] = [];
  for (const t of types) {
    if (t === 'ssh-rsa') out.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa');
    else out.push(t);
  }
  return out;
}

export class KnownHostsFile {
  private entries: KnownHostEntry[] | null = null;
  private writeChain: Promise<void> = Promise.resolve();
  constructor(readonly path: string) {}

  async load(): Promise<KnownHostEntry[]> {
    if (!this.entries) {
      try {
        this.entries = parseKnownHosts(await readFile(this.path, 'utf8'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        this.entries = [];
      }
    }
    return this.entries;
  }

  /** accept-new: record a first-seen key. Writes are serialized: many hosts connect at once. */
  async add(name: string, blob: Buffer): Promise<void> {
    const line = `${name} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`;
    this.writeChain = this.writeChain.then(async () => {
      const entries = await this.load();
      await mkdir(dirname(this.path), { recursive: true });
      await appendFile(this.path, line, { mode: 0o600 });
      entries.push(...parseKnownHosts(line).map((e) => ({ ...e, line: entries.length + 1 })));
    });
    return this.writeChain;
  }
}
