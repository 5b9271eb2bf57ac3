// Line helpers for text read from a server (queue listings, logs): pure, no I/O, no clock.
import { printable } from './printable.js';

/** Split output into lines; a final newline does not make an extra empty line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Longest server line a warning quotes. */
export const MAX_WARNING_LINE = 160;

/** "line 12: <why>: <the line>" with the line made printable. */
export function lineWarning(lineNo: number, why: string, line: string): string {
  return `line ${lineNo}: ${why}: ${printable(line, { max: MAX_WARNING_LINE })}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** 0-based month of a three-letter English month name, -1 when it is not one. */
export function monthIndex(name: string): number {
  return MONTHS.indexOf(name);
}
