// known_hosts indexed once per read: a lookup costs a Map get for exact names and [host]:port, one HMAC
// per distinct salt for hashed entries, and one RegExp test per wildcard line; no per-lookup compiling.
import { asciiLower, compileHostField, fieldMatches, hashName, negatedFor, type HostField } from './host-patterns.js';

export interface KnownHostEntry {
  marker?: '@revoked' | '@cert-authority';
  patterns: string; // the raw host field
  keyType: string;
  keyBase64: string;
  line: number;
  /** The file the line is in, when it was read from one (the user's or the system-wide file). */
  file?: string;
}

interface Line {
  entry: KnownHostEntry;
  field: HostField;
  globs: RegExp[]; // the positive wildcard patterns
}

interface SaltGroup {
  salt: Buffer;
  hashes: Map<string, number[]>;
}

function push<K>(map: Map<K, number[]>, key: K, ord: number): void {
  const list = map.get(key);
  if (list) {
    if (list[list.length - 1] !== ord) list.push(ord);
  } else map.set(key, [ord]);
}

export class KnownHostsIndex {
  /** Every entry in file order (user file, then system file, then lines appended this run). Live. */
  readonly entries: KnownHostEntry[] = [];
  private readonly lines: Line[] = [];
  private readonly exact = new Map<string, number[]>();
  private readonly salts = new Map<string, SaltGroup>();
  private readonly globLines: number[] = [];

  constructor(entries: Iterable<KnownHostEntry> = []) {
    for (const e of entries) this.add(e);
  }

  get size(): number {
    return this.lines.length;
  }

  /** Distinct salts among hashed patterns: the HMACs one looked-up name costs. */
  get saltGroups(): number {
    return this.salts.size;
  }

  add(entry: KnownHostEntry): void {
    const ord = this.lines.length;
    const field = compileHostField(entry.patterns);
    const globs: RegExp[] = [];
    for (const p of field.positive) {
      if (p.kind === 'exact') push(this.exact, p.name, ord);
      else if (p.kind === 'glob') globs.push(p.re);
      else {
        let g = this.salts.get(p.saltKey);
        if (!g) this.salts.set(p.saltKey, (g = { salt: p.salt, hashes: new Map() }));
        push(g.hashes, p.hash, ord);
      }
    }
    if (globs.length) this.globLines.push(ord);
    this.lines.push({ entry, field, globs });
    this.entries.push(entry);
  }

  /** The entries for any of these names, in file order. */
  match(names: readonly string[]): KnownHostEntry[] {
    const hit = new Set<number>();
    for (const name of names) {
      const lower = asciiLower(name);
      const candidates: number[] = [...(this.exact.get(lower) ?? [])];
      for (const g of this.salts.values()) {
        const ords = g.hashes.get(hashName(g.salt, name));
        if (ords) candidates.push(...ords);
      }
      for (const ord of this.globLines) if (this.lines[ord]!.globs.some((re) => re.test(name))) candidates.push(ord);
      for (const ord of candidates) if (!hit.has(ord) && !negatedFor(this.lines[ord]!.field, name, lower)) hit.add(ord);
    }
    return [...hit].sort((a, b) => a - b).map((ord) => this.lines[ord]!.entry);
  }

  /** The entries for these names among those added since `from` (index.size at an earlier match). */
  matchSince(names: readonly string[], from: number): KnownHostEntry[] {
    const out: KnownHostEntry[] = [];
    for (let ord = from; ord < this.lines.length; ord++) {
      const l = this.lines[ord]!;
      if (names.some((n) => fieldMatches(l.field, n))) out.push(l.entry);
    }
    return out;
  }
}
