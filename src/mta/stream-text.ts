// Bounded keepers for streaming queue parsers: what their warnings quote from an output that
// arrives line by line (first lines, the head of trailing text, line warnings), without holding
// the output. Each gives exactly what the batch helpers (failureText, printable, capWarnings,
// shiftWarnings) give on the whole text.
import { lineWarning, MAX_WARNING_LINE } from '../text/lines.js';
import { printable as printableText } from '../text/printable.js';

/** Text failureText() quotes: the first 3 non-blank lines, trimmed (a line is bounded by the transport). */
export class FirstLines {
  private readonly lines: string[] = [];
  /** Lines seen, and whether the only one was empty (the joined text is '' for none or one empty line). */
  private count = 0;
  private firstEmpty = false;
  constructor(private readonly keep?: (line: string) => boolean) {}

  push(line: string): void {
    if (this.count++ === 0) this.firstEmpty = line === '';
    if (this.lines.length >= 3 || (this.keep && !this.keep(line))) return;
    const t = line.trim();
    if (t !== '') this.lines.push(t);
  }

  /** The kept lines joined, as failureText() needs them (same result as on the whole text). */
  get text(): string {
    return this.lines.join('\n');
  }

  /** The whole text joined with "\n" would be ''. */
  get empty(): boolean {
    return this.count === 0 || (this.count === 1 && this.firstEmpty);
  }
}

/** Code points of a string (what printable() counts): UTF-16 units minus surrogate pairs. */
function codePoints(s: string): number {
  if (!/[\ud800-\udbff]/.test(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Text after the last section: whether any of it is not blank, and printable() of the whole (its head kept). */
export class TrailingText {
  private readonly parts: string[] = [];
  private size = 0;
  private chars = 0;
  private lines = 0;
  private nonBlank = false;
  constructor(private readonly max = 64 * 1024) {}

  push(line: string): void {
    if (this.lines++ > 0) this.chars++;
    this.chars += codePoints(line);
    if (!this.nonBlank && line.trim() !== '') this.nonBlank = true;
    if (this.size >= this.max) return;
    const piece = this.parts.length ? `\n${line}` : line;
    this.parts.push(piece.slice(0, this.max - this.size));
    this.size += piece.length;
  }

  get blank(): boolean {
    return !this.nonBlank;
  }

  /** The kept head of the text (at most `max` characters). */
  get head(): string {
    return this.parts.join('');
  }

  /** printable(whole text, MAX_WARNING_LINE) as the batch parsers print it. */
  printable(): string {
    const out = printableText(this.head, { max: MAX_WARNING_LINE });
    if (this.size <= this.max) return out;
    // Only the head was kept: the cut text counts the whole text's characters.
    const at = out.lastIndexOf('… (');
    return `${at < 0 ? out : out.slice(0, at)}… (${this.chars} chars)`;
  }
}

/**
 * "line N: why: <line>" warnings, the first `max` kept (formatted when added, so no line is held)
 * and the rest counted: capWarnings() of the whole list, or shiftWarnings() of it with a label.
 */
export class LineWarnings {
  private readonly items: { n: number | null; text: string }[] = [];
  private more = 0;
  constructor(private readonly max = 100) {}

  get size(): number {
    return this.items.length + this.more;
  }

  /** A warning about line `n` quoting it (lineWarning's text). */
  line(n: number, why: string, line: string): void {
    if (this.items.length < this.max) this.items.push({ n, text: lineWarning(n, why, line).slice(`line ${n}: `.length) });
    else this.more++;
  }

  /** A warning with a line number but no quoted line, or none. */
  note(n: number | null, text: string): void {
    if (this.items.length < this.max) this.items.push({ n, text });
    else this.more++;
  }

  /** Add another list's warnings after these (the cap applies to the whole). */
  append(other: LineWarnings): void {
    for (const it of other.items) this.items.length < this.max ? this.items.push(it) : this.more++;
    this.more += other.more;
  }

  /** The warnings as capWarnings(list) gives them; with `label`, as shiftWarnings(that, offset, label). */
  list(label?: string, offset = 0): string[] {
    const out = this.items.map((w) =>
      w.n === null
        ? label
          ? `${label}: ${w.text}`
          : w.text
        : label
          ? `line ${w.n + offset} (${label}): ${w.text}`
          : `line ${w.n + offset}: ${w.text}`,
    );
    if (this.more > 0) {
      const more = `… and ${this.more} more warning(s)`;
      out.push(label ? `${label}: ${more}` : more);
    }
    return out;
  }
}

/**
 * A copy of `s` that does not keep the line (or the transport's chunk) it was cut from alive: V8
 * slices share their parent. Slicing a concatenation makes V8 flatten it into a fresh string first,
 * so the result shares only that small copy: ~50 ns a string (a JSON round trip, which gives a plain
 * string with a few bytes less, cost 200-350 ns: measured, and paid for every message of every host).
 */
export function own(s: string): string {
  if (s.length < 13) return s; // V8 copies short slices anyway
  return (s + ' ').slice(0, -1);
}
