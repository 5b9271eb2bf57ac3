// qmail: the queue read's command (qmail-qstat and qmail-qread, the clock first) and its output
// parsed as it arrives; the attributed read adds a tail (attribution.ts: the mess files).
import { qmailBinDir } from './host.js';
import type { LineSink, MtaContext } from '../types.js';
import { raw, sh, shLines, type Sh } from '../../transport/quote.js';
import { SectionStream, type ClosedSection } from '../sections.js';
import { WholeOutputFallback } from '../whole-fallback.js';
import { FirstLines, TrailingText } from '../stream-text.js';
import { feedLines } from '../stream-parts.js';
import { COMMAND_FAILED, capWarnings, NOW_COMMAND, failureText, rcEcho } from '../util.js';
import { QmailQreadParser, QmailQstatParser, type QmailQueueMessage, type QmailQueueListing } from './listing.js';

export function qmailQueueCommand(ctx: MtaContext): Sh {
  const dir = qmailBinDir(ctx);
  const qstat = `${dir}/qmail-qstat`;
  const qread = `${dir}/qmail-qread`;
  return shLines(sh`${raw(NOW_COMMAND)}`, sh`${qstat} 2>&1; ${raw(rcEcho('qstat'))}`, sh`${qread} 2>&1; ${raw(rcEcho('qread'))}`);
}

/**
 * The attributed read's part after the listing (attribution.ts): its section's lines, then, once
 * the listing is complete, its warnings and the messages' attribution.
 */
export interface QmailListingTail {
  line(line: string, n: number): void;
  finish(o: {
    messages: QmailQueueMessage[];
    section: ClosedSection | undefined;
    /** What arrived of its section when it never closed (failureText of it, or of stderr when it is empty). */
    openText: FirstLines;
    trailing: TrailingText;
    stderr: string;
    warnings: string[];
  }): void;
}

/**
 * The queue read (NOW, qstat, qread) and the attributed one (then the mess files: `tail`),
 * parsed as the output arrives. A streaming sink; the batch parsers are it fed whole.
 */
export class QmailQueueSink implements LineSink<QmailQueueListing> {
  private n = 0;
  private readonly sections: SectionStream;
  /** The whole output read as qmail-qread, for when the command did not run as built. */
  private readonly whole: WholeOutputFallback<QmailQueueMessage>;
  private readonly qstat = new QmailQstatParser();
  private readonly qread: QmailQreadParser;
  private readonly out = new FirstLines();
  private readonly texts = new Map<string | null, FirstLines>();
  private readonly trailing = new TrailingText();

  constructor(
    private readonly localNowSeconds: number,
    private readonly tail: QmailListingTail | null = null,
    /** Keep no messages, only their counts (a plain scan's read; the attributed one keeps them). */
    countsOnly = false,
  ) {
    const expected = tail ? ['qstat', 'qread', 'mess'] : ['qstat', 'qread'];
    for (const x of [...expected, null]) this.texts.set(x, new FirstLines());
    const now = () => this.sections.nowSeconds ?? this.localNowSeconds;
    const o = { copy: true, countsOnly: countsOnly && !tail };
    this.qread = new QmailQreadParser(now, o);
    this.whole = new WholeOutputFallback(new QmailQreadParser(now, o), this.qread, 'qstat');
    this.sections = new SectionStream(expected, (section, line, n) => this.route(section, line, n));
  }

  line(text: string): void {
    const n = ++this.n;
    this.out.push(text);
    // The whole output as qmail-qread: its NOW line is a line like any other.
    this.whole.line(text, n, this.sections);
  }

  private route(section: string | null, line: string, n: number): void {
    this.texts.get(section)?.push(line);
    if (section === 'qread') this.qread.line(line, n);
    else if (section === 'qstat') this.qstat.line(line);
    else if (section === 'mess') this.tail?.line(line, n);
    else if (section === null) this.trailing.push(line);
  }

  end(stderr: string, code: number | null): QmailQueueListing {
    // qmail-qread prints GMT dates: the server's zone does not matter, only its clock.
    const closed = this.sections.closed;
    const warnings = [...this.sections.warnings];
    if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
    const qstat = closed.get('qstat');
    const qread = closed.get('qread');
    if (!qstat || !qread) {
      const { messages, counts, warnings: lines } = this.whole.result();
      warnings.push(`${COMMAND_FAILED} qmail queue listing incomplete (exit ${code ?? 'none'}): ${failureText(stderr || this.out.text)}`);
      warnings.push(...lines);
      if (this.tail) {
        warnings.push('messages not attributed: the queue listing itself is incomplete');
        return { messages, reportedTotal: null, warnings: capWarnings(warnings, 150) };
      }
      return { messages, reportedTotal: null, warnings, ...(counts ? { counts } : {}) };
    }
    let reportedTotal: number | null = null;
    const s = this.qstat;
    if (qstat.rc !== 0 || s.inQueue === null) {
      warnings.push(`${COMMAND_FAILED} qmail-qstat exited ${qstat.rc}: ${failureText(this.texts.get('qstat')?.text ?? '')}`);
    } else {
      reportedTotal = s.inQueue - (s.notPreprocessed ?? 0);
      if (s.notPreprocessed)
        warnings.push(`${s.notPreprocessed} message(s) not yet preprocessed: counted by qmail-qstat, not listed by qmail-qread`);
    }
    warnings.push(...s.warnings.list('qmail-qstat', qstat.firstLine - 1));
    if (qread.rc !== 0) {
      warnings.push(`${COMMAND_FAILED} qmail-qread exited ${qread.rc}: ${failureText(this.texts.get('qread')?.text ?? '')}`);
      reportedTotal = null;
    }
    warnings.push(...this.qread.warnings.list('qmail-qread'));
    const messages = this.qread.finish();
    if (!this.tail) {
      if (!this.trailing.blank) warnings.push(`unexpected output after the listing: ${this.trailing.printable()}`);
      const counts = this.qread.counts();
      return { messages, reportedTotal, warnings, ...(counts ? { counts } : {}) };
    }
    this.tail.finish({
      messages,
      section: closed.get('mess'),
      openText: this.texts.get('mess') ?? new FirstLines(),
      trailing: this.trailing,
      stderr,
      warnings,
    });
    return { messages, reportedTotal, warnings: capWarnings(warnings, 150) };
  }
}

export function parseQmailQueueOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): QmailQueueListing {
  const sink = new QmailQueueSink(localNowSeconds);
  feedLines(stdout, (line) => sink.line(line));
  return sink.end(stderr, code);
}
