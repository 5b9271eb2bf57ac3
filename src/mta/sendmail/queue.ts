// Sendmail queue read: the `mailq` + `mailq -Ac` command (scripts/queue.sh) and its sectioned
// output, kept apart from the adapter so the attributed listing (attribution.ts) builds on it.
//
// `mailq` lists the MTA queue (and on Debian the MSP queue too); `mailq -Ac` lists
// the MSP client queue (/var/spool/clientmqueue), where mail from local programs (PHP mail(),
// cron) waits when the MTA refuses it. Directories already listed by the first call are
// dropped from the second, so Debian's combined output is not counted twice.

import { mailqSettings } from './host.js';
import type { Sh } from '../../transport/quote.js';
import { serverScript } from '../script.js';
import type { MtaContext } from '../types.js';
import { COMMAND_FAILED, failureText } from '../util.js';
import { NOW_MARKER, SectionStream, type ClosedSection } from '../sections.js';
import { feedSink, WarningList } from '../stream-parts.js';
import { FirstLines, TrailingText } from '../stream-text.js';
import { withCounts } from '../message-store.js';
import { MailqParser, type MailqOptions, type SendmailQueueListing } from './listing.js';

export function sendmailQueueCommand(ctx: MtaContext): Sh {
  return serverScript('sendmail/scripts/queue.sh', mailqSettings(ctx));
}

/** Lines after the listing's sections (the attributed read's mail log), to their reader. */
export type AfterListing = (section: string | null, line: string, lineNo: number) => void;

/**
 * The listing sections of the output (clock, "mta", "msp"), line by line: each section has its own
 * mailq parser. When the mta marker never comes (output cut short), the batch parse read the whole
 * output as mailq: that is the mta parser's listing and the clock line, so nothing is read twice.
 */
export class SendmailListingStream {
  private readonly sections: SectionStream;
  private lineNo = 0;
  private nowLine: string | undefined;
  private now: MailqOptions | undefined;
  private mta: MailqParser | undefined;
  private msp: MailqParser | undefined;
  private readonly wholeHead = new FirstLines();
  private readonly mtaHead = new FirstLines();
  private readonly mspHead = new FirstLines();
  /** Trailing text: the msp section's lines when its marker never comes, else what follows it. */
  private readonly mspText = new TrailingText();
  private readonly rest = new TrailingText();

  constructor(
    private readonly localNowSeconds: number,
    private readonly more: { names: readonly string[]; after: AfterListing } | undefined = undefined,
    /** Keep no messages of the MTA queue, only their counts (a plain scan's read; the small MSP queue is kept). */
    private readonly countsOnly = false,
  ) {
    this.sections = new SectionStream(['mta', 'msp', ...(more?.names ?? [])], (section, line, n) => this.data(section, line, n));
  }

  closedSections(): ReadonlyMap<string, ClosedSection> {
    return this.sections.closed;
  }

  line(text: string): void {
    const n = ++this.lineNo;
    this.wholeHead.push(text);
    this.sections.push(text);
    if (n === 1 && text.startsWith(NOW_MARKER)) this.nowLine = text;
  }

  private clock(): { mta: MailqParser; msp: MailqParser } {
    if (!this.now) {
      this.now = { nowSeconds: this.sections.nowSeconds ?? this.localNowSeconds, tzOffsetSeconds: this.sections.tzOffsetSeconds ?? 0 };
      this.mta = new MailqParser({ ...this.now, countsOnly: this.countsOnly });
      this.msp = new MailqParser(this.now);
    }
    return { mta: this.mta!, msp: this.msp! };
  }

  private data(section: string | null, line: string, n: number): void {
    if (section === 'mta') {
      this.clock().mta.line(line, n);
      this.mtaHead.push(line);
    } else if (section === 'msp') {
      this.clock().msp.line(line, n);
      this.mspHead.push(line);
      this.mspText.push(line);
    } else {
      this.rest.push(line);
      this.more?.after(section, line, n);
    }
  }

  /** `listingOnly`: the output is read up to the msp marker only (what follows is another reader's). */
  end(stderr: string, code: number | null, listingOnly = false): SendmailQueueListing {
    const s = this.sections;
    const { mta: mtaParser, msp: mspParser } = this.clock();
    // As openOutput: the clock line's warnings, a missing clock, stderr.
    const warnings = [...s.warnings];
    if (s.nowSeconds === null) warnings.push('server clock not reported; ages use the local clock and assume UTC');
    if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
    const mta = s.closed.get('mta');
    const msp = s.closed.get('msp');
    if (!mta) {
      // The whole output as mailq: the clock line is one it does not understand.
      const p = mtaParser.result(this.nowLine === undefined ? [] : [WarningList.entry(1, 'mailq: line outside any entry', this.nowLine)]);
      warnings.push(
        `${COMMAND_FAILED} mailq output incomplete (exit ${code ?? 'none'}): ${stderr ? failureText(stderr) : failureText(this.wholeHead.text)}`,
      );
      return { ...p, reportedTotal: null, warnings: [...warnings, ...p.warnings] };
    }
    const main = mtaParser.result();
    const mainOk = mta.rc === 0 && (main.dirs.length > 0 || main.totals.length > 0);
    if (!mainOk) warnings.push(`${COMMAND_FAILED} mailq exited ${mta.rc}: ${failureText(this.mtaHead.text)}`);
    warnings.push(...mtaParser.warnings.labelled('mailq'));
    const messages = main.messages;
    const dirs = [...main.dirs];
    const totals = [...main.totals];
    const transient = [...main.transient];
    let reportedTotal = mainOk ? main.reportedTotal : null;

    if (msp) {
      const extra = mspParser.result();
      const seen = new Set(main.dirs.map((d) => d.dir));
      const fresh = extra.dirs.filter((d) => !seen.has(d.dir));
      if (msp.rc !== 0 || extra.dirs.length === 0) {
        // No MSP queue configured (no submit.cf) is common; say so once, do not fail the host.
        warnings.push(`mailq -Ac (MSP queue) not listed (exit ${msp.rc}): ${failureText(this.mspHead.text)}`);
      } else if (fresh.length > 0) {
        const freshNames = new Set(fresh.map((d) => d.dir));
        const inFresh = (q: string | undefined): boolean => q !== undefined && freshNames.has(q);
        for (const m of extra.messages) if (inFresh(m.queue)) messages.push(m);
        const freshTransient = extra.transient.filter((t) => inFresh(t.queue));
        transient.push(...freshTransient);
        dirs.push(...fresh);
        warnings.push(...mspParser.warnings.labelled('mailq -Ac'));
        const add = fresh.reduce((a, d) => a + d.count, 0);
        if (reportedTotal !== null) reportedTotal += Math.max(0, add - freshTransient.length);
      }
    } else warnings.push('mailq -Ac section missing');
    const trailing = msp ? this.rest : this.mspText;
    if (!listingOnly && !trailing.blank) warnings.push(`unexpected output after the listing: ${trailing.printable()}`);
    return withCounts({ messages, reportedTotal, warnings, dirs, totals, transient }, main.counts ?? null);
  }
}

export function parseSendmailQueueOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): SendmailQueueListing {
  return feedSink(new SendmailListingStream(localNowSeconds), stdout, stderr, code);
}
