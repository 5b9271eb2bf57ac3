// OpenSSH known_hosts: parsing, verdicts, the user's file (accept-new appends) and the system-wide file.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { KnownHostsIndex, type KnownHostEntry } from './known-hosts-index.js';

export { KnownHostsIndex, type KnownHostEntry } from './known-hosts-index.js';

/** OpenSSH's GlobalKnownHostsFile, read after the user's file. */
export const SYSTEM_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';

export type HostKeyVerdict =
  | { kind: 'match' }
  | { kind: 'unknown'; fingerprint: string; keyType: string }
  /** `knownIn[i]` is the file of line `knownAt[i]`, when the entries came from files. */
  | { kind: 'changed'; fingerprint: string; keyType: string; knownAt: number[]; knownIn?: string[] }
  | { kind: 'revoked'; fingerprint: string; keyType: string; line: number; file?: string };

export function parseKnownHosts(text: string, file?: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostEntry['marker'];
    const [patterns, keyType, keyBase64] = fields;
    if (!patterns || !keyType || !keyBase64) return;
    out.push({ marker, patterns, keyType, keyBase64, line: i + 1, ...(file !== undefined ? { file } : {}) });
  });
  return out;
}

/** The name OpenSSH looks up: "host" on port 22, "[host]:port" otherwise. */
export function hostLookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
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

function indexOf(known: readonly KnownHostEntry[] | KnownHostsIndex): KnownHostsIndex {
  return known instanceof KnownHostsIndex ? known : new KnownHostsIndex(known);
}

/**
 * Decide on a presented host key, given the entries for the host (KnownHostsIndex.match). Like OpenSSH:
 * a matching line accepts; a line for this host with the same key type but another key means the key
 * CHANGED; no line at all is unknown.
 */
export function verdictFor(forHost: readonly KnownHostEntry[], blob: Buffer): HostKeyVerdict {
  const keyType = keyTypeOf(blob);
  const b64 = blob.toString('base64');
  const fp = fingerprint(blob);
  const revoked = forHost.find((e) => e.marker === '@revoked' && e.keyBase64 === b64);
  if (revoked)
    return { kind: 'revoked', fingerprint: fp, keyType, line: revoked.line, ...(revoked.file !== undefined ? { file: revoked.file } : {}) };
  const plain = forHost.filter((e) => !e.marker);
  if (plain.some((e) => e.keyBase64 === b64)) return { kind: 'match' };
  const sameType = plain.filter((e) => e.keyType === keyType);
  // Known under another key type only: OpenSSH treats that as a mismatch worth refusing too.
  const known = sameType.length > 0 ? sameType : plain;
  if (known.length === 0) return { kind: 'unknown', fingerprint: fp, keyType };
  const files = known.some((e) => e.file !== undefined) ? { knownIn: known.map((e) => e.file ?? '') } : {};
  return { kind: 'changed', fingerprint: fp, keyType, knownAt: known.map((e) => e.line), ...files };
}

/** verdictFor over every name given (the inventory name and its address). */
export function verifyHostKey(known: readonly KnownHostEntry[] | KnownHostsIndex, names: string[], blob: Buffer): HostKeyVerdict {
  return verdictFor(indexOf(known).match(names), blob);
}

/** Key types of a host's entries, so the handshake can prefer them (as OpenSSH does). */
export function keyTypesOf(forHost: readonly KnownHostEntry[]): string[] {
  return [...new Set(forHost.filter((e) => !e.marker).map((e) => e.keyType))];
}

export function knownKeyTypes(known: readonly KnownHostEntry[] | KnownHostsIndex, names: string[]): string[] {
  return keyTypesOf(indexOf(known).match(names));
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

/** A missing file reads as empty, as in OpenSSH; any other failure is the user's to fix. */
async function readIfExists(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return '';
    throw new ConfigError(`cannot read ${what} ${path}: ${err.code ?? err.message}`);
  }
}

function lineCount(text: string): number {
  if (!text) return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** Whether a non-empty file lacks a final newline (an append must not join its last line). */
async function lacksFinalNewline(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) return false;
    const { buffer } = await fh.read(Buffer.alloc(1), 0, 1, size - 1);
    return buffer[0] !== 0x0a;
  } finally {
    await fh.close();
  }
}

export interface KnownHostsOptions {
  /** The system-wide file read after this one; default /etc/ssh/ssh_known_hosts, null for none. */
  systemFile?: string | null;
}

export class KnownHostsFile {
  readonly systemFile: string | null;
  private loading: Promise<KnownHostsIndex> | null = null;
  private lines = 0; // lines in the user file: the line number of an appended entry
  private writeChain: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    opts: KnownHostsOptions = {},
  ) {
    this.systemFile = opts.systemFile === undefined ? SYSTEM_KNOWN_HOSTS : opts.systemFile;
  }

  /** Read and indexed once (concurrent callers share the read); accept-new keeps it current. */
  index(): Promise<KnownHostsIndex> {
    this.loading ??= this.read();
    return this.loading;
  }

  async load(): Promise<KnownHostEntry[]> {
    return (await this.index()).entries;
  }

  private async read(): Promise<KnownHostsIndex> {
    const user = await readIfExists(this.path, 'known_hosts');
    // Not twice when --known-hosts names the system file itself.
    const sys = this.systemFile && resolve(this.systemFile) !== resolve(this.path) ? this.systemFile : null;
    const system = sys ? await readIfExists(sys, 'system known_hosts') : '';
    this.lines = lineCount(user);
    return new KnownHostsIndex([...parseKnownHosts(user, this.path), ...(sys ? parseKnownHosts(system, sys) : [])]);
  }

  /** accept-new: record a first-seen key. Writes are serialized: many hosts connect at once. */
  async add(name: string, blob: Buffer): Promise<void> {
    const text = `${name} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
    this.writeChain = this.writeChain.then(async () => {
      const index = await this.index();
      await mkdir(dirname(this.path), { recursive: true });
      const sep = (await lacksFinalNewline(this.path)) ? '\n' : '';
      await appendFile(this.path, `${sep}${text}\n`, { mode: 0o600 });
      const line = ++this.lines;
      for (const e of parseKnownHosts(text, this.path)) index.add({ ...e, line });
    });
    return this.writeChain;
  }
}
