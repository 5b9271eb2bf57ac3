// Exim: the `exim -bp` listing and `exim -bpc` count, and the attributed read built on them (the
// spool -H envelope file is attribution.ts). Formats follow Exim's queue.c (queue_list).

import { raw, sh, shLines, type Sh } from '../../transport/quote.js';
import { eximBinary } from './host.js';
import { EximBpcParser } from './bp-line.js';
import { EximBpParser, type EximQueueMessage } from './bp-parser.js';
export { EximBpParser, type EximQueueMessage } from './bp-parser.js';
export { parseEximAge, parseEximBpc, parseEximSize, parseHeadLine } from './bp-line.js';

import {
  attributeEximMessage,
  attributionHeader,
  eximAttribution,
  EximSpoolDumpParser,
  eximSpoolDumpScript,
  isSpoolDumpData,
  missingWarning,
} from './attribution.js';
import type { LineSink, MtaContext, QueueListing, StreamOptions } from '../types.js';
import { SectionStream } from '../sections.js';
import { WholeOutputFallback } from '../whole-fallback.js';
import { addCounts } from '../message-store.js';
import { CompactQueue } from '../compact-queue.js';
import { FirstLines, own, TrailingText } from '../stream-text.js';
import { feedLines, feedSink } from '../stream-parts.js';
import { COMMAND_FAILED, capWarnings, failureText, rcEcho } from '../util.js';

/** What a -H envelope gives its message (eximAttribution). */
type Attribution = ReturnType<typeof eximAttribution>;

export interface EximQueueListing extends QueueListing {
  messages: EximQueueMessage[];
}

/** Parse `exim -bp` (also -bpa, -bpr, -bpu). Never throws; reportedTotal stays null (that is -bpc). */
export function parseEximBp(text: string): EximQueueListing {
  const p = new EximBpParser();
  feedLines(text, (line, n) => p.line(line, n));
  return { messages: p.finish(), reportedTotal: null, warnings: p.warnings.list() };
}

/**
 * The queue read (-bpc, -bp) and the attributed one (then the spool directory and the -H dump),
 * parsed as the output arrives: only the parsers' state and bounded heads of odd text are held.
 */
class EximQueueSink implements LineSink<EximQueueListing> {
  private n = 0;
  private readonly sections: SectionStream;
  /** The whole output read as -bp, for when the command did not run as built. */
  private readonly whole: WholeOutputFallback<EximQueueMessage>;
  private readonly out = new FirstLines();
  private readonly bpc = new EximBpcParser();
  private readonly bp: EximBpParser;
  /**
   * The -H dump: each envelope attributes its listed messages as it is parsed (the -bp section has
   * closed by then), so only which ids had one is kept, not the envelopes.
   */
  private readonly spool: EximSpoolDumpParser<true> | EximSpoolDumpParser<Attribution> | null;
  /** Attribution strings shared between messages (attributionHeader). */
  private readonly pool = new Map<string, string>();
  /** The listing's messages by id, built when the dump starts. */
  private byId: Map<string, EximQueueMessage | EximQueueMessage[]> | null = null;
  private readonly spoolDiag = new FirstLines((l) => !isSpoolDumpData(l));
  private readonly texts = new Map<string | null, FirstLines>();
  private readonly trailing = new TrailingText();

  /** The attributed read's messages, when kept compactly (StreamOptions.compact). */
  private readonly compact: CompactQueue | null;

  constructor(
    private readonly attributed: boolean,
    countsOnly = false,
    compact = false,
  ) {
    // The attributed read attributes messages: it always keeps them (whole, or compactly).
    const o = { copy: true, countsOnly: countsOnly && !attributed };
    this.compact = attributed && compact ? new CompactQueue() : null;
    this.bp = new EximBpParser(this.compact ? { ...o, compact: this.compact } : o);
    this.whole = new WholeOutputFallback(new EximBpParser(o), this.bp, 'bpc');
    const expected = attributed ? ['bpc', 'bp', 'spooldir', 'spool'] : ['bpc', 'bp'];
    for (const s of [...expected, null]) this.texts.set(s, new FirstLines());
    this.spool = !attributed ? null : this.compact ? this.compactSpool(this.compact) : this.keptSpool();
    this.sections = new SectionStream(expected, (section, line, n) => this.route(section, line, n));
  }

  /** The -H dump attributing the compact queue's messages: which were seen is a flag of theirs. */
  private compactSpool(q: CompactQueue): EximSpoolDumpParser<Attribution> {
    /** Envelopes of messages the listing does not show (arrived after it). */
    const unlisted = new Set<string>();
    const listed = (id: string) => {
      this.bp.finish();
      return q.find(id);
    };
    return new EximSpoolDumpParser(eximAttribution, (id) => id, {
      has: (id) => {
        const at = listed(id);
        return at.length ? q.seen(at[0]!) : unlisted.has(id);
      },
      set: (id, a) => {
        const at = listed(id);
        if (!at.length) unlisted.add(own(id));
        for (const i of at) {
          q.markSeen(i);
          q.attribute(i, a);
        }
      },
    });
  }

  private keptSpool(): EximSpoolDumpParser<true> {
    return new EximSpoolDumpParser(
      (h) => {
        const m = this.index().get(h.id);
        const a = m && attributionHeader(h, this.pool);
        if (a) for (const x of Array.isArray(m) ? m : [m]) attributeEximMessage(x, a);
        return true as const;
      },
      (id) => {
        const m = this.index().get(id);
        return m ? (Array.isArray(m) ? m[0]! : m).id : own(id);
      },
    );
  }

  line(text: string): void {
    const n = ++this.n;
    this.out.push(text);
    this.whole.line(text, n, this.sections);
  }

  private route(section: string | null, line: string, n: number): void {
    this.texts.get(section)?.push(line);
    if (section === 'bp') this.bp.line(line, n);
    else if (section === 'bpc') this.bpc.line(line);
    else if (section === 'spool') {
      this.spool?.line(line, n);
      this.spoolDiag.push(line);
    } else if (section === null) this.trailing.push(line);
  }

  private index(): Map<string, EximQueueMessage | EximQueueMessage[]> {
    if (this.byId) return this.byId;
    const byId = new Map<string, EximQueueMessage | EximQueueMessage[]>();
    for (const m of this.bp.finish()) {
      const had = byId.get(m.id);
      if (!had) byId.set(m.id, m);
      else if (Array.isArray(had)) had.push(m);
      else byId.set(m.id, [had, m]);
    }
    return (this.byId = byId);
  }

  private text(section: string): string {
    return this.texts.get(section)?.text ?? '';
  }

  end(stderr: string, code: number | null): EximQueueListing {
    const closed = this.sections.closed;
    const warnings = [...this.sections.warnings];
    const bpc = closed.get('bpc');
    const bp = closed.get('bp');
    if (!bpc || !bp) {
      // The command did not run as built (no shell, killed, or not our output at all): the whole output as -bp.
      const { messages, counts, warnings: lines } = this.whole.result();
      warnings.push(`${COMMAND_FAILED} exim queue listing incomplete (exit ${code ?? 'none'}): ${failureText(stderr || this.out.text)}`);
      warnings.push(...lines);
      if (this.attributed) {
        warnings.push('messages not attributed: the queue listing itself is incomplete');
        const rest = this.compact && this.whole.listingUsed ? this.compact.finish() : null;
        rest?.clearAttribution();
        return { messages, reportedTotal: null, warnings: capWarnings(warnings, 150), ...(rest ? { compact: rest } : {}) };
      }
      return { messages, reportedTotal: null, warnings, ...(counts ? { counts } : {}) };
    }
    let reportedTotal: number | null = null;
    if (bpc.rc !== 0) warnings.push(`${COMMAND_FAILED} exim -bpc exited ${bpc.rc}: ${failureText(this.text('bpc'))}`);
    else {
      reportedTotal = this.bpc.count;
      warnings.push(...this.bpc.warnings.list('exim -bpc', bpc.firstLine - 1));
    }
    if (bp.rc !== 0) {
      warnings.push(`${COMMAND_FAILED} exim -bp exited ${bp.rc}: ${failureText(this.text('bp'))}`);
      reportedTotal = null;
    }
    warnings.push(...this.bp.warnings.list('exim -bp'));
    const messages = this.bp.finish();
    if (!this.attributed) {
      if (!this.trailing.blank) warnings.push(`unexpected output after the listing: ${this.trailing.printable()}`);
      if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
      const counts = addCounts(this.bp.counts());
      return { messages, reportedTotal, warnings, ...(counts ? { counts } : {}) };
    }
    const dir = closed.get('spooldir');
    const spool = closed.get('spool');
    if (!dir || !spool) {
      // What arrived of the section that never closed.
      const open = this.texts.get(dir ? 'spool' : 'spooldir');
      warnings.push(`${COMMAND_FAILED} exim spool read incomplete: ${failureText(open && !open.empty ? open.text : stderr)}`);
      // A dump cut short attributes nothing: take back what its envelopes gave as they came.
      for (const m of messages) {
        delete m.clientIp;
        delete m.authId;
        delete m.authSender;
      }
      this.compact?.clearAttribution();
    } else {
      if (dir.rc !== 0) warnings.push(`${COMMAND_FAILED} exim -bP spool_directory exited ${dir.rc}: ${failureText(this.text('spooldir'))}`);
      const dump = this.spool!.end();
      // Only the diagnostics (awk/find errors), not the envelope data, go into the message.
      if (spool.rc !== 0) warnings.push(`${COMMAND_FAILED} exim spool read exited ${spool.rc}: ${failureText(this.spoolDiag.text)}`);
      warnings.push(...dump.warnings.list('exim spool'));
      warnings.push(
        ...missingWarning(this.compact ? unseen(this.compact) : messages.filter((m) => !dump.headers.has(m.id)).map((m) => m.id)),
      );
      if (!this.trailing.blank) warnings.push(`unexpected output after the spool: ${this.trailing.printable()}`);
    }
    if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
    return { messages, reportedTotal, warnings: capWarnings(warnings, 150), ...(this.compact ? { compact: this.compact.finish() } : {}) };
  }
}

/** The ids of the compact queue's messages whose -H envelope was not read, in listing order. */
function unseen(q: CompactQueue): string[] {
  const out: string[] = [];
  for (let i = 0; i < q.length; i++) if (!q.seen(i)) out.push(q.id(i));
  return out;
}

/** The streaming parser of the queue read (`eximQueueCommand`). */
export function eximQueueSink(_now?: number, o: StreamOptions = {}): LineSink<EximQueueListing> {
  return new EximQueueSink(false, o.countsOnly);
}

/** The streaming parser of the attributed read (`eximAttributedCommand`). */
export function eximAttributedSink(_now?: number, o: StreamOptions = {}): LineSink<EximQueueListing> {
  return new EximQueueSink(true, false, o.compact);
}

/** Combine the -bpc and -bp sections of the adapter's command into one listing. */
export function parseEximQueueOutput(stdout: string, stderr = '', code: number | null = 0): EximQueueListing {
  return feedSink(eximQueueSink(), stdout, stderr, code);
}

// ---------------------------------------------------------------------------
// Attribution: the -bp listing plus the envelope part of every spool -H file (attribution.ts),
// in the same round trip.

/** `exim -bpc` then `exim -bp`, each followed by its exit code. */
export function eximQueueCommand(ctx: MtaContext): Sh {
  const bin = eximBinary(ctx);
  return sh`${bin} -bpc 2>&1; ${raw(rcEcho('bpc'))}; ${bin} -bp 2>&1; ${raw(rcEcho('bp'))}`;
}

/** The listing, then the spool directory and every -H envelope (scripts/spool-dump.sh). */
export function eximAttributedCommand(ctx: MtaContext): Sh {
  return shLines(eximQueueCommand(ctx), eximSpoolDumpScript(ctx));
}

export function parseEximAttributedOutput(stdout: string, stderr = '', code: number | null = 0): EximQueueListing {
  return feedSink(eximAttributedSink(), stdout, stderr, code);
}
