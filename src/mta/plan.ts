// Read plans whose parser needs "now": the clock is read here, once, when the output arrives,
// so the parsers themselves stay pure. A streaming parser gives both ways of reading from one definition.
import type { Sh } from '../transport/quote.js';
import { feedSink } from './stream-parts.js';
import type { LineSink, ReadPlan, StreamOptions } from './types.js';

export function planAt<T>(command: Sh, parse: (stdout: string, stderr: string, code: number | null, nowSeconds: number) => T): ReadPlan<T> {
  return { command, parse: (stdout, stderr, code) => parse(stdout, stderr, code, Date.now() / 1000) };
}

/** A plan from a streaming parser: `stream()` for the scan, `parse()` (the same parser, fed whole) for everyone else. */
export function streamingPlan<T>(command: Sh, open: (nowSeconds: number, o: StreamOptions) => LineSink<T>): ReadPlan<T> {
  return {
    command,
    stream: (o = {}) => open(Date.now() / 1000, o),
    parse: (stdout, stderr, code) => feedSink(open(Date.now() / 1000, {}), stdout, stderr, code),
  };
}
