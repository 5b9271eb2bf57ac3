// Helpers shared by the queue parsers: line splitting, warnings, section markers, dates.
// Everything here is pure: no I/O, no clock.

import { printable as printableText } from '../text/printable.js';
import { quote, raw, sh, shJoin, type Sh } from '../transport/quote.js';
import { lineWarning, MAX_WARNING_LINE, monthIndex, splitLines } from '../text/lines.js';
import { NOW_MARKER, RC_MARKER, SectionStream } from './sections.js';

/** Prefix of the warning an adapter emits when the MTA command itself failed. */
export const COMMAND_FAILED = 'command failed:';

export { lineWarning, monthIndex, splitLines } from '../text/lines.js';

/** Make a server-supplied line safe to print (src/text/printable.ts), bounded length. */
export function printable(line: string, max = MAX_WARNING_LINE): string {
  return printableText(line, { max });
}

const MAX_WARNINGS = 100;

/** Keep the first warnings and summarise the rest: a garbage answer must not flood a report. */
export function capWarnings(warnings: string[], max = MAX_WARNINGS): string[] {
  if (warnings.length <= max) return warnings;
  return [...warnings.slice(0, max), `… and ${warnings.length - max} more warning(s)`];
}

/** Width of leading whitespace, tabs expanded to multiples of 8 (how a terminal shows it). */
export function indentWidth(line: string): number {
  let col = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x20) col += 1;
    else if (c === 0x09) col = col - (col % 8) + 8;
    else break;
  }
  return col;
}

// ---------------------------------------------------------------------------
// Section markers: one round trip runs several commands; each is followed by
//   __MAILSWEEP_RC__ <name> <exit code>
// and the optional clock line `__MAILSWEEP_NOW__ <epoch> <+hhmm>` comes first.

export { NOW_MARKER, RC_MARKER } from './sections.js';

/**
 * Shell line appending the sbin directories (and `extra`, each quoted) to PATH: the MTA tools
 * live there, and a non-login SSH session's PATH often lacks them.
 */
export function pathLine(...extra: string[]): Sh {
  // "$PATH":'/usr/sbin':… — each directory its own quoted word, joined by ':' outside the quotes.
  const dirs = ['/usr/sbin', '/sbin', '/usr/local/sbin', ...extra].map((d) => sh`${d}`);
  return sh`PATH="$PATH":${raw(shJoin(dirs, ':'))}; export PATH`;
}

/** Shell fragment printing the server's clock and UTC offset (literal, no interpolation). */
export const NOW_COMMAND: Sh = sh`date ${`+${NOW_MARKER} %s %z`}`;

/** Shell fragment closing a section: prints the marker with the previous command's exit code. */
export function rcEcho(name: string): Sh {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`bad section name ${name}`);
  return sh`echo ${`${RC_MARKER} ${name}`} "$?"`;
}

export interface Section {
  name: string;
  /** Text the command printed (stdout and stderr, merged by the command line). */
  text: string;
  /** Exit code the marker reported. */
  rc: number;
  /** 1-based line number of the section's first line in the whole output. */
  firstLine: number;
}

export interface SplitOutput {
  sections: Map<string, Section>;
  /** Server clock, when the NOW line was present and sane. */
  nowSeconds: number | null;
  /** Server UTC offset in seconds (from `date +%z`). */
  tzOffsetSeconds: number | null;
  /** Text after the last marker (normally empty). */
  trailing: string;
  warnings: string[];
}

/**
 * Cut the combined output into named sections (the batch form of SectionStream, sections.ts).
 * Only the expected names are accepted, in order, and only as whole lines, so data echoed by a
 * command cannot forge one.
 */
export function splitSections(stdout: string, expected: readonly string[]): SplitOutput {
  const texts = new Map<string | null, string[]>();
  const stream = new SectionStream(expected, (section, line) => {
    const t = texts.get(section);
    if (t) t.push(line);
    else texts.set(section, [line]);
  });
  for (const line of splitLines(stdout)) stream.push(line);
  const sections = new Map<string, Section>();
  for (const [name, c] of stream.closed) sections.set(name, { ...c, text: (texts.get(name) ?? []).join('\n') });
  // Lines of a section whose marker never came are trailing text, as before the last marker.
  const open = stream.current;
  const trailing = [...(open !== null ? (texts.get(open) ?? []) : []), ...(texts.get(null) ?? [])].join('\n');
  return { sections, nowSeconds: stream.nowSeconds, tzOffsetSeconds: stream.tzOffsetSeconds, trailing, warnings: stream.warnings };
}

/** Re-number a sub-parser's "line N:" warnings to positions in the whole output. */
export function shiftWarnings(warnings: readonly string[], firstLine: number, label: string): string[] {
  return warnings.map((w) => {
    const m = /^line (\d+): (.*)$/s.exec(w);
    return m ? `line ${Number(m[1]) + firstLine - 1} (${label}): ${m[2]}` : `${label}: ${w}`;
  });
}

/** The first few non-empty lines of a failed command's output, for a warning. */
export function failureText(text: string): string {
  const lines = splitLines(text)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) return '(no output)';
  return printable(lines.slice(0, 3).join(' | '), 300);
}

// ---------------------------------------------------------------------------
// Dates printed without a year in the server's local time (postqueue -p, sendmail mailq).

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * Epoch seconds of a yearless local time like "Mon Nov 23 04:11:44" (or "Mon Nov 23 04:11").
 * The year is the latest one not in the future whose weekday matches; without a weekday
 * match, the latest one not in the future. Null when the text is not such a date.
 *
 * Error bound: `tzOffsetSeconds` is the server's offset *now* (`date +%z`), applied to every
 * date. A date from before the server's last DST change is off by that change (1 h; 30 min on
 * Lord Howe): after the autumn change such ages come out 1 h too small, after the spring one
 * 1 h too large; a time in the repeated autumn hour is ambiguous anyway. Exact would need the
 * server's zone rules (its IANA name), which the NOW line does not carry. Minute-only times
 * (sendmail) add up to 59 s. postqueue -j gives epoch times and is not affected.
 */
export function yearlessLocalTime(text: string, nowSeconds: number, tzOffsetSeconds = 0): number | null {
  const m = /^(\w{3})\s+(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!m) return null;
  const wday = DAYS.indexOf(m[1] ?? '');
  const mon = monthIndex(m[2] ?? '');
  const day = Number(m[3]);
  const h = Number(m[4]);
  const min = Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (mon < 0 || day < 1 || day > 31 || h > 23 || min > 59 || s > 60) return null;
  const localNow = new Date((nowSeconds + tzOffsetSeconds) * 1000);
  const year0 = localNow.getUTCFullYear();
  let fallback: number | null = null;
  for (let y = year0; y >= year0 - 7; y--) {
    const d = new Date(Date.UTC(y, mon, day, h, min, s));
    if (d.getUTCMonth() !== mon) continue; // Feb 29 in a non-leap year
    const t = d.getTime() / 1000 - tzOffsetSeconds;
    if (t > nowSeconds + 86400) continue; // a day of slack for clock skew
    if (fallback === null) fallback = t;
    if (wday < 0 || d.getUTCDay() === wday) return t;
  }
  return fallback;
}

/** Age in whole seconds, never negative. */
export function ageFrom(epochSeconds: number | null, nowSeconds: number | undefined): number | null {
  if (epochSeconds === null || nowSeconds === undefined || !Number.isFinite(nowSeconds)) return null;
  return Math.max(0, Math.round(nowSeconds - epochSeconds));
}

/**
 * The common start of every adapter's parse: split the sections, take the server's clock
 * (falling back to the caller's), and report stderr and a missing clock as warnings.
 */
export function openOutput(
  stdout: string,
  stderr: string,
  expected: readonly string[],
  localNowSeconds: number,
  opts: { clockMatters?: boolean } = {},
): { split: SplitOutput; warnings: string[]; nowSeconds: number; tzOffsetSeconds: number } {
  const split = splitSections(stdout, expected);
  const warnings = [...split.warnings];
  if (split.nowSeconds === null && opts.clockMatters !== false)
    warnings.push('server clock not reported; ages use the local clock and assume UTC');
  if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
  return { split, warnings, nowSeconds: split.nowSeconds ?? localNowSeconds, tzOffsetSeconds: split.tzOffsetSeconds ?? 0 };
}
