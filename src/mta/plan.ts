// Read plans whose parser needs "now": the clock is read here, once, when the output arrives,
// so the parsers themselves stay pure.
import type { Sh } from '../transport/quote.js';
import type { ReadPlan } from './types.js';

export function planAt<T>(command: Sh, parse: (stdout: string, stderr: string, code: number | null, nowSeconds: number) => T): ReadPlan<T> {
  return { command, parse: (stdout, stderr, code) => parse(stdout, stderr, code, Date.now() / 1000) };
}
