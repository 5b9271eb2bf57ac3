// Column storage for the compact queue (compact-queue.ts): numbers and short strings per message in
// typed-array pages, off the JS heap. No object per message, nothing for the garbage collector to
// copy or scan (strings and objects kept per message made it grow its young generation to the
// maximum on a 100k-message host), and growth allocates a page, never a copy of everything.

const PAGE_BITS = 10;
const PAGE = 1 << PAGE_BITS;

type Page = Uint32Array | Uint8Array | Float64Array;
const PAGE_OF = { u8: Uint8Array, u32: Uint32Array, f64: Float64Array } as const;

/** A growing column of numbers (unsigned 8 or 32 bits, or doubles) in pages of 1024. */
export class NumberColumn {
  private readonly pages: Page[] = [];
  constructor(private readonly kind: keyof typeof PAGE_OF) {}

  get(i: number): number {
    return this.pages[i >>> PAGE_BITS]?.[i & (PAGE - 1)] ?? 0;
  }

  set(i: number, v: number): void {
    const p = i >>> PAGE_BITS;
    while (this.pages.length <= p) this.pages.push(new PAGE_OF[this.kind](PAGE));
    this.pages[p]![i & (PAGE - 1)] = v;
  }
}

/** FNV-1a over UTF-16 units (the id lookup's hash). */
export function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A flat copy of `s`, sharing nothing with the chunk it was cut from (a slice, and even a one-element
 * join, would share it; own()'s copy costs a 32-byte slice more). Only for what is kept once.
 */
export function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

const CHAR_PAGE_BITS = 14;
const CHAR_PAGE = 1 << CHAR_PAGE_BITS;
/** Longer strings, or any with a character past Latin-1 (a hostile listing), are kept as strings. */
const MAX_PACKED = 255;

/** Short strings (the ids) as Latin-1 bytes in 16 KiB pages: a byte a character, 5 of position. */
export class StringColumn {
  private readonly pages: Uint8Array[] = [];
  /** Where string i starts: page << 14 | offset. */
  private readonly starts = new NumberColumn('u32');
  private readonly lengths = new NumberColumn('u8');
  private readonly wide = new Map<number, string>();
  /** Bytes used of the last page. */
  private used = CHAR_PAGE;
  private n = 0;

  get length(): number {
    return this.n;
  }

  push(s: string): void {
    const i = this.n++;
    let packed = s.length <= MAX_PACKED;
    for (let k = 0; k < s.length && packed; k++) packed = s.charCodeAt(k) < 256;
    if (!packed) {
      this.wide.set(i, flat(s));
      return;
    }
    if (this.used + s.length > CHAR_PAGE) {
      this.pages.push(new Uint8Array(CHAR_PAGE));
      this.used = 0;
    }
    const page = this.pages[this.pages.length - 1]!;
    for (let k = 0; k < s.length; k++) page[this.used + k] = s.charCodeAt(k);
    this.starts.set(i, ((this.pages.length - 1) << CHAR_PAGE_BITS) | this.used);
    this.lengths.set(i, s.length);
    this.used += s.length;
  }

  private at(i: number): [Uint8Array, number, number] {
    const start = this.starts.get(i);
    const off = start & (CHAR_PAGE - 1);
    return [this.pages[start >>> CHAR_PAGE_BITS] ?? new Uint8Array(0), off, off + this.lengths.get(i)];
  }

  get(i: number): string {
    const w = this.wide.get(i);
    if (w !== undefined) return w;
    const [page, start, end] = this.at(i);
    return Buffer.from(page.buffer, page.byteOffset + start, end - start).toString('latin1');
  }

  /** Whether string `i` is `s`, without making a string. */
  equals(i: number, s: string): boolean {
    const w = this.wide.size ? this.wide.get(i) : undefined;
    if (w !== undefined) return w === s;
    const [page, start, end] = this.at(i);
    if (end - start !== s.length) return false;
    for (let k = 0; k < s.length; k++) if (page[start + k] !== s.charCodeAt(k)) return false;
    return true;
  }

  /** hash() of string `i`, without making a string. */
  hash(i: number): number {
    const w = this.wide.size ? this.wide.get(i) : undefined;
    if (w !== undefined) return hash(w);
    const [page, start, end] = this.at(i);
    let h = 0x811c9dc5;
    for (let k = start; k < end; k++) h = Math.imul(h ^ page[k]!, 0x01000193);
    return h >>> 0;
  }
}

/** Equal strings stored once, referred to by number (0: none). */
export class Interner {
  private readonly index = new Map<string, number>();
  private readonly values: string[] = [''];

  /** The number of `s` (its own flat copy stored the first time: never the line it was cut from). */
  add(s: string | undefined): number {
    if (s === undefined) return 0;
    let k = this.index.get(s);
    if (k === undefined) {
      k = this.values.length;
      const copy = flat(s);
      this.values.push(copy);
      this.index.set(copy, k);
    }
    return k;
  }

  get(k: number): string | undefined {
    return k === 0 ? undefined : this.values[k];
  }

  get size(): number {
    return this.values.length - 1;
  }
}
