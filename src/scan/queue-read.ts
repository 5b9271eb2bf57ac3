// The scan's queue read: one command, parsed as it arrives when the plan streams. When the MTA is
// not known yet, detection and the queue read share ONE command on one SSH channel: the server runs
// the detection probe, we decide from its facts (parseDetect: the one rule), and send the chosen
// adapter's queue command back on stdin, where the same shell runs it. One session on the server
// instead of two, and no second channel open and exec request.
import { DETECT_COMMAND, parseDetect } from '../mta/detect.js';
import { mtaHost } from '../mta/host.js';
import { getAdapter } from '../mta/index.js';
import { RC_MARKER } from '../mta/sections.js';
import { TrailingText } from '../mta/stream-text.js';
import type { LineSink, MtaName, QueueListing, ReadPlan, StreamOptions } from '../mta/types.js';
import { rcEcho } from '../mta/util.js';
import { oneLine } from '../text/printable.js';
import { sh, shLines, type Sh } from '../transport/quote.js';
import type { ExecResult, StdinWriter, Transport } from '../transport/types.js';

export interface QueueReadOptions {
  timeoutMs: number;
  maxBytes: number;
  /** Keep no messages, only their counts (nothing will look at them: no attribution, no --messages). */
  countsOnly?: boolean;
  /** Keep messages compactly (nothing needs them whole: an attributed scan without --messages). */
  compact?: boolean;
}

/** A LineSink over a plan: its streaming parser, or the lines kept for its batch `parse`. */
function sinkOf(plan: ReadPlan<QueueListing>, so: StreamOptions): LineSink<QueueListing> {
  const streamed = plan.stream?.(so);
  if (streamed) return streamed;
  const lines: string[] = [];
  return { line: (l) => void lines.push(l), end: (stderr, code) => plan.parse(lines.join('\n'), stderr, code) };
}

const cutCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);

/** What a streamed read keeps of the output itself: enough for the reason of a failed command. */
const HEAD_BYTES = 8 * 1024;

/**
 * Run a queue read; a streaming plan parses the output as it arrives (only the parser's state is
 * held, and each chunk's lines are parsed between other hosts' events), else the output is parsed whole.
 */
export async function readQueue(
  transport: Transport,
  plan: ReadPlan<QueueListing>,
  { countsOnly = false, compact = false, ...o }: QueueReadOptions,
): Promise<{ res: ExecResult; listing: QueueListing }> {
  const sink = plan.stream?.({ countsOnly, compact });
  if (!sink) {
    const res = await transport.exec(plan.command, { ...o, ...(plan.stdin !== undefined ? { stdin: plan.stdin } : {}) });
    return { res, listing: plan.parse(res.stdout, res.stderr, res.code) };
  }
  const head = new TrailingText(HEAD_BYTES);
  const res = await transport.exec(plan.command, {
    ...o,
    ...(plan.stdin !== undefined ? { stdin: plan.stdin } : {}),
    onLine: (raw) => {
      const line = cutCr(raw);
      head.push(line);
      sink.line(line);
    },
  });
  return { res: { ...res, stdout: head.head }, listing: sink.end(res.stderr, res.code) };
}

/** Detection's facts, then the marker, then whatever command arrives on stdin (none: nothing more). */
export const DETECT_THEN_READ_TAIL: Sh = sh`ms_next=$(cat); eval "$ms_next"`;
export const DETECT_THEN_READ: Sh = shLines(DETECT_COMMAND, rcEcho('detect'), DETECT_THEN_READ_TAIL);

const DETECT_DONE = `${RC_MARKER} detect 0`;
/** Most detection lines kept (a host with thousands of process names is not a reason to hold more). */
const MAX_FACT_LINES = 5_000;

export type DetectedRead = { mta: MtaName; binary?: string; res: ExecResult; listing: QueueListing } | { mta: null; reason: string };

/** Detect the MTA and read its queue in one command (see the top of this file). */
export async function detectAndReadQueue(
  transport: Transport,
  vars: Record<string, unknown>,
  attribution: boolean,
  { countsOnly = false, compact = false, ...o }: QueueReadOptions,
): Promise<DetectedRead> {
  const facts: string[] = [];
  let stdin: StdinWriter | null = null;
  let chosen: { mta: MtaName; binary?: string; sink: LineSink<QueueListing> } | null = null;
  let decided = false;
  let reason = '';
  const head = new TrailingText(HEAD_BYTES);
  const decide = () => {
    decided = true;
    const d = parseDetect(facts.join('\n'));
    if (d.mta) {
      const adapter = getAdapter(d.mta);
      const plan = attribution ? adapter.attributedQueue(mtaHost(d.binary, vars)) : adapter.queue(mtaHost(d.binary, vars));
      chosen = { mta: d.mta, ...(d.binary ? { binary: d.binary } : {}), sink: sinkOf(plan, { countsOnly, compact }) };
      // Queue plans take no stdin (their data is the server's own): the command itself goes there.
      stdin?.write(`${plan.command}\n`);
    } else reason = `no MTA detected (${d.evidence.join('; ')})`;
    stdin?.end();
  };
  const res = await transport.exec(DETECT_THEN_READ, {
    ...o,
    stdinWriter: (w) => (stdin = w),
    onLine: (raw) => {
      const line = cutCr(raw);
      if (decided) {
        head.push(line);
        return chosen?.sink.line(line);
      }
      if (line === DETECT_DONE) return decide();
      if (facts.length < MAX_FACT_LINES) facts.push(line);
    },
  });
  if (!decided) {
    // No marker: the probe died, or what answered is not a shell running it (garbage, a fake).
    const d = parseDetect(facts.join('\n'));
    const why = oneLine(res.stderr) || oneLine(facts.slice(-3).join(' | ')) || 'no output';
    return d.mta
      ? { mta: null, reason: `MTA detection did not finish (exit ${res.code ?? 'none'}${res.truncated ? ', output cut' : ''}): ${why}` }
      : { mta: null, reason: `no MTA detected (${d.evidence.join('; ')})${res.code ? `; probe: ${oneLine(res.stderr)}` : ''}` };
  }
  const c = chosen as { mta: MtaName; binary?: string; sink: LineSink<QueueListing> } | null;
  if (!c) return { mta: null, reason: `${reason}${res.code ? `; probe: ${oneLine(res.stderr)}` : ''}` };
  return {
    mta: c.mta,
    ...(c.binary ? { binary: c.binary } : {}),
    res: { ...res, stdout: head.head },
    listing: c.sink.end(res.stderr, res.code),
  };
}
