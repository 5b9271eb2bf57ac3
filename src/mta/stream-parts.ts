// Small pieces the streaming queue parsers share: what the batch parsers computed from a whole
// section's text (its warnings, its first lines for a failure message, whether anything trails),
// kept as bounded state while the lines go by. Pure: no I/O, no clock.
import { printable } from '../text/printable.js';
import { MAX_WARNING_LINE } from '../text/lines.js';
import type { LineSink } from './types.js';

const MAX_WARNINGS = 100;

interface Entry {
  /** Line in the whole output; null for a warning about no one line. */
  n: number | null;
  text: string;
}

/**
 * A parser's warnings as `capWarnings` would leave them: the first 100 kept (formatted once, so a
 * long server line costs its 160 printed characters), the rest only counted.
 */
export class WarningList {
  private kept: Entry[] = [];
  private total = 0;

  /** "line N: <why>: <the line, printable>" (lineWarning's text). */
  line(n: number, why: string, line: string): void {
    if (this.total++ < MAX_WARNINGS) this.kept.push({ n, text: `${why}: ${printable(line, { max: MAX_WARNING_LINE })}` });
  }

  plain(text: string): void {
    if (this.total++ < MAX_WARNINGS) this.kept.push({ n: null, text });
  }

  /** The warnings, capped: as lineWarning + capWarnings, numbered in the whole output. */
  list(first: Entry[] = []): string[] {
    return this.format(
      first,
      (e) => (e.n === null ? e.text : `line ${e.n}: ${e.text}`),
      (more) => `… and ${more} more warning(s)`,
    );
  }

  /** The same, as shiftWarnings(capWarnings(…), …, label) wrote them. */
  labelled(label: string): string[] {
    return this.format(
      [],
      (e) => (e.n === null ? `${label}: ${e.text}` : `line ${e.n} (${label}): ${e.text}`),
      (more) => `${label}: … and ${more} more warning(s)`,
    );
  }

  private format(first: Entry[], one: (e: Entry) => string, more: (n: number) => string): string[] {
    const all = [...first, ...this.kept];
    const total = this.total + first.length;
    const out = all.slice(0, MAX_WARNINGS).map(one);
    if (total > MAX_WARNINGS) out.push(more(total - MAX_WARNINGS));
    return out;
  }

  /** A warning entry to put first (see `list`). */
  static entry(n: number, why: string, line: string): Entry {
    return { n, text: `${why}: ${printable(line, { max: MAX_WARNING_LINE })}` };
  }
}

/**
 * Feed a whole text to a line consumer, numbering from 1 (the batch form of a streamed section):
 * the lines of splitLines (a CR before a newline cut, a final newline making no empty line),
 * without an array of them all.
 */
export function feedLines(text: string, line: (text: string, n: number) => void): void {
  let n = 0;
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    line(text.slice(start, nl > start && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl), ++n);
    start = nl + 1;
  }
  if (start < text.length) line(text.slice(start), ++n);
}

/** A whole output into a streaming parser, line by line (a streaming plan's batch `parse`), without an array of its lines. */
export function feedSink<T>(sink: LineSink<T>, stdout: string, stderr: string, code: number | null): T {
  feedLines(stdout, (line) => sink.line(line));
  return sink.end(stderr, code);
}

/**
 * The recipients of the message being read, gathered in one reused array and handed over as an
 * array of their own size when it is complete: one allocation per message instead of an array
 * grown by push() and then its exact() copy (a big queue's kept messages are most of the garbage
 * collector's work).
 */
export class ListBuilder<T> {
  private readonly items: T[] = [];
  private n = 0;

  get length(): number {
    return this.n;
  }

  add(item: T): void {
    // Written over, not emptied: emptying would give the array up and the next message would grow a new one.
    this.items[this.n++] = item;
  }

  /** The items added since the last take(), as a new array; the builder starts over. */
  take(): T[] {
    const n = this.n;
    const a = this.items;
    this.n = 0;
    // Array literals for the common sizes: each is an allocation site V8 learns to place straight
    // in the old generation once its arrays keep surviving (a kept queue's do), instead of
    // copying every one of them out of the young generation.
    switch (n) {
      case 0:
        return [];
      case 1:
        return [a[0]!];
      case 2:
        return [a[0]!, a[1]!];
      case 3:
        return [a[0]!, a[1]!, a[2]!];
      default:
        return a.slice(0, n);
    }
  }

  /** Start over without the items. */
  clear(): void {
    this.n = 0;
  }
}

/**
 * An array grown by push() keeps room for 17 (136 bytes for a message's 1-3 recipients): a kept
 * message gets a copy of its own size instead.
 */
export function exact<T>(a: T[]): T[] {
  return a.length === 0 ? a : a.slice();
}
