// Postfix: the queue read's commands and their streamed outputs (postqueue -j or -p with the
// MTA's own count; the attributed read adds postcat -e of every queue file).
import { postfixScriptTools } from './host.js';
import type { Sh } from '../../transport/quote.js';
import { serverScript } from '../script.js';
import { attributePostfixMessages, PostcatParser, postcatEnvelopeSettings } from './attribution.js';
import type { MtaContext } from '../types.js';
import { COMMAND_FAILED, capWarnings, failureText } from '../util.js';
import { NOW_MARKER, RC_MARKER, SectionStream, type ClosedSection } from '../sections.js';
import { feedSink } from '../stream-parts.js';
import { withCounts } from '../message-store.js';
import { FirstLines, TrailingText } from '../stream-text.js';
import { PostqueueJsonParser, PostqueuePParser, type PostfixQueueListing } from './listing.js';

/** The listing script (scripts/queue.sh). */
export function postfixQueueCommand(ctx: MtaContext): Sh {
  return serverScript('postfix/scripts/queue.sh', postfixScriptTools(ctx, ['postqueue']));
}

/** What postqueue < 3.1 says to -j: expected, not worth a warning. */
const NO_JSON = /invalid option|illegal option|usage:/i;

/** Lines after the listing's sections: to a next reader (attribution), else kept as trailing text. */
export type AfterListing = (section: string | null, line: string, lineNo: number) => void;

/**
 * The listing sections of the output (clock, "json", then "footer" or "plain"), line by line.
 * Until the json marker arrives the lines also go to a -p parser over the whole output: when
 * the marker never comes (output cut short), the batch parse read it all as -p, and so does
 * this, without keeping the output to read it again.
 */
export class PostfixListingStream {
  /** The section names, the tail's added when the json section's exit code says which (SectionStream reads them as it goes). */
  private readonly expected: string[] = ['json'];
  private readonly sections: SectionStream;
  private lineNo = 0;
  private now: { seconds: number; tz: number } | undefined;
  private json: PostqueueJsonParser | undefined;
  /** The whole output as -p, while the json marker has not come. */
  private wholeAsP: PostqueuePParser | undefined;
  private readonly wholeHead = new FirstLines();
  private readonly jsonHead = new FirstLines();
  private jsonSaysOld = false;
  private tailName: 'footer' | 'plain' | undefined;
  private tail: PostqueuePParser | undefined;
  private readonly tailHead = new FirstLines();
  private readonly trailing = new TrailingText();

  constructor(
    private readonly localNowSeconds: number,
    /** Sections after the tail (attribution's), and who reads them; without it, they are trailing text. */
    private readonly more: { names: readonly string[]; after: AfterListing } | undefined = undefined,
    /** Keep no messages, only their counts (a plain scan's read). */
    private readonly countsOnly = false,
  ) {
    this.sections = new SectionStream(this.expected, (section, line, n) => this.data(section, line, n));
  }

  closedSections(): ReadonlyMap<string, ClosedSection> {
    return this.sections.closed;
  }

  /** Tail section closed: the listing is whole, the rest is someone else's. */
  get complete(): boolean {
    return this.tailName !== undefined && this.sections.closed.has(this.tailName);
  }

  line(text: string): void {
    const n = ++this.lineNo;
    this.wholeHead.push(text);
    this.sections.push(text);
    if (n === 1 && text.startsWith(NOW_MARKER)) this.clock().wholeAsP?.line(text, 1);
    else if (this.tailName === undefined && text.startsWith(RC_MARKER)) this.jsonClosed();
  }

  private clock(): this {
    if (this.now) return this;
    this.now = { seconds: this.sections.nowSeconds ?? this.localNowSeconds, tz: this.sections.tzOffsetSeconds ?? 0 };
    this.json = new PostqueueJsonParser(this.now.seconds, this.countsOnly);
    this.wholeAsP = new PostqueuePParser({ nowSeconds: this.now.seconds, tzOffsetSeconds: this.now.tz, countsOnly: this.countsOnly });
    return this;
  }

  private jsonClosed(): void {
    const json = this.sections.closed.get('json');
    if (!json) return;
    this.clock();
    this.wholeAsP = undefined;
    this.tailName = json.rc === 0 ? 'footer' : 'plain';
    this.expected.push(this.tailName, ...(this.more?.names ?? []));
    // The footer gives only the total; the plain listing is the queue (ages need the clock).
    this.tail = new PostqueuePParser(
      this.tailName === 'plain'
        ? { nowSeconds: this.now!.seconds, tzOffsetSeconds: this.now!.tz, countsOnly: this.countsOnly }
        : { countsOnly: this.countsOnly },
    );
  }

  private data(section: string | null, line: string, n: number): void {
    if (section === 'json') {
      this.clock();
      this.json!.line(line, n);
      this.wholeAsP!.line(line, n);
      this.jsonHead.push(line);
      // postqueue's own complaint, never a record: a record's text (a sender "usage:…") cannot hush the warning.
      if (!this.jsonSaysOld && line.charCodeAt(0) !== 0x7b && NO_JSON.test(line)) this.jsonSaysOld = true;
    } else if (section !== null && section === this.tailName) {
      this.tail!.line(line, n);
      this.tailHead.push(line);
    } else if (this.more) this.more.after(section, line, n);
    else this.trailing.push(line);
  }

  end(stderr: string, code: number | null): PostfixQueueListing {
    const s = this.sections;
    this.clock();
    // As openOutput: the clock line's warnings, a missing clock, stderr.
    const warnings = [...s.warnings];
    if (s.nowSeconds === null) warnings.push('server clock not reported; ages use the local clock and assume UTC');
    if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
    const json = s.closed.get('json');
    if (!json) {
      const p = this.wholeAsP!;
      warnings.push(
        `${COMMAND_FAILED} postqueue listing incomplete (exit ${code ?? 'none'}): ${stderr ? failureText(stderr) : failureText(this.wholeHead.text)}`,
      );
      return withCounts({ messages: p.done(), reportedTotal: null, warnings: [...warnings, ...p.warnings.list()] }, p.counts());
    }
    const tail = s.closed.get(this.tailName!);
    const p = this.tail!;
    if (json.rc === 0) {
      warnings.push(...this.json!.warnings.labelled('postqueue -j'));
      let reportedTotal: number | null = null;
      if (!tail) warnings.push(`${COMMAND_FAILED} postqueue -p footer missing: ${failureText(this.tailHead.text)}`);
      else {
        reportedTotal = p.reportedTotal;
        if (reportedTotal === null) warnings.push(`postqueue -p footer not understood: ${failureText(this.tailHead.text)}`);
      }
      return withCounts({ messages: this.json!.messages, reportedTotal, warnings }, this.json!.counts());
    }
    // -j failed: expected on postfix < 3.1 ("invalid option"); the full -p listing follows.
    if (!this.jsonSaysOld) warnings.push(`postqueue -j exited ${json.rc}: ${failureText(this.jsonHead.text)}`);
    if (!tail) {
      warnings.push(`${COMMAND_FAILED} postqueue -p output missing: ${failureText(this.tailHead.text)}`);
      return { messages: [], reportedTotal: null, warnings };
    }
    if (tail.rc !== 0) warnings.push(`${COMMAND_FAILED} postqueue -p exited ${tail.rc}: ${failureText(this.tailHead.text)}`);
    warnings.push(...p.warnings.labelled('postqueue -p'));
    if (!this.trailing.blank) warnings.push(`unexpected output after the listing: ${this.trailing.printable()}`);
    return withCounts({ messages: p.done(), reportedTotal: tail.rc === 0 ? p.reportedTotal : null, warnings }, p.counts());
  }
}

export function parsePostfixQueueOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): PostfixQueueListing {
  return feedSink(new PostfixListingStream(localNowSeconds), stdout, stderr, code);
}

// ---------------------------------------------------------------------------
// Attribution: the listing plus the queue files' envelope records (attribution.ts).

export function postfixAttributedCommand(ctx: MtaContext): Sh {
  return serverScript('postfix/scripts/attributed.sh', { ...postfixScriptTools(ctx, ['postqueue']), ...postcatEnvelopeSettings(ctx) });
}

/** The listing, then the queue directory ("qdir") and the kept `postcat -e` lines ("postcat"), parsed as they arrive. */
export class PostfixAttributedStream {
  private readonly listing: PostfixListingStream;
  private readonly qdirHead = new FirstLines();
  private readonly cat = new PostcatParser();
  private readonly catHead = new FirstLines();
  private readonly trailing = new TrailingText();

  constructor(localNowSeconds: number) {
    this.listing = new PostfixListingStream(localNowSeconds, {
      names: ['qdir', 'postcat'],
      after: (section, line, n) => {
        if (section === 'qdir') this.qdirHead.push(line);
        else if (section === 'postcat') {
          this.cat.line(line, n);
          this.catHead.push(line);
        } else this.trailing.push(line);
      },
    });
  }

  line(text: string): void {
    this.listing.line(text);
  }

  end(stderr: string, code: number | null): PostfixQueueListing {
    const complete = this.listing.complete;
    const listing = this.listing.end(stderr, code);
    if (!complete) {
      listing.warnings.push('messages not attributed: the queue listing itself is incomplete');
      return listing;
    }
    const warnings = listing.warnings;
    const closed = this.listing.closedSections();
    const qdir = closed.get('qdir');
    const cat = closed.get('postcat');
    if (!qdir || !cat) {
      // What followed the last marker: the section left open.
      const open = qdir ? this.catHead : this.qdirHead;
      warnings.push(`${COMMAND_FAILED} postfix queue file read incomplete: ${open.empty ? failureText(stderr) : failureText(open.text)}`);
    } else {
      if (qdir.rc !== 0)
        warnings.push(`${COMMAND_FAILED} postconf -h queue_directory exited ${qdir.rc}: ${failureText(this.qdirHead.text)}`);
      else if (cat.rc !== 0) warnings.push(`${COMMAND_FAILED} postcat -e exited ${cat.rc}: ${failureText(this.catHead.text)}`);
      const env = this.cat.result();
      warnings.push(...env.warnings.labelled('postcat -e'));
      warnings.push(...attributePostfixMessages(listing.messages, env.envelopes));
      if (!this.trailing.blank) warnings.push(`unexpected output after postcat: ${this.trailing.printable()}`);
    }
    return { ...listing, warnings: capWarnings(warnings, 150) };
  }
}

export function parsePostfixAttributedOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): PostfixQueueListing {
  return feedSink(new PostfixAttributedStream(localNowSeconds), stdout, stderr, code);
}
