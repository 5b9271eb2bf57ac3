// qmail attribution: the mess-file header dump and its judgement.
//
// attributedQueue: qmail-qread's ids are mess file inode numbers, and each mess
// file begins with qmail-queue's and qmail-smtpd's Received headers, which name the SMTP AUTH login
// where one was used (the rule, its sources and its limits: proof.ts, qmailSubmitter). Messages
// without that proof keep authId undefined; the chkuser log lines (no queue id) are left to the log
// scan. The mess files are readable by root, qmailq and group qmail only (queue/mess is 0750).
//
// The first header lines of every mess file are read in the same round trip, judged by the
// rule in proof.ts (qmailSubmitter; the purge re-checks it on the server with its awk twin,
// scripts/proof.awk).
//
// One awk (scripts/mess.awk) reads the file names find prints and, per file, only the lines the rule can need:
// line 1; if it is qmail-queue's, the header fields up to the first "Received:" one after it,
// that field's next line and the line after (or up to a blank line, EOF, QMAIL_PROOF_MAX_LINES
// lines or a line longer than QMAIL_PROOF_MAX_LINE bytes). Output per file:
//   __MAILSWEEP_QMAIL__ <id>
//   |<line>                     every content line behind "|": nothing in a header is a marker
//   __MAILSWEEP_QMAIL_END__ <id> eof|done|cap|long|unreadable|error
// Control characters other than tab become DEL (0x7f), which no part of the rule accepts
// either, so a CR cannot be lost on the way; find's own complaints come out behind "! ".

import type { MtaContext } from '../types.js';
import { shLines, type Sh } from '../../transport/quote.js';
import { scriptSource, serverScript } from '../script.js';
import { qmailQueueDir } from './host.js';
import { QMAIL_PROOF_MAX_LINE, QMAIL_PROOF_MAX_LINES, qmailSubmitter, type QmailNoProof } from './proof.js';
import { COMMAND_FAILED, failureText } from '../util.js';
import { FirstLines, LineWarnings, own } from '../stream-text.js';
import { feedLines } from '../stream-parts.js';
import { type QmailQueueListing, type QmailQueueMessage } from './listing.js';
import { QmailQueueSink, qmailQueueCommand, type QmailListingTail } from './queue.js';

// The markers scripts/mess.awk and attributed.sh print.
export const MESS_MARKER = '__MAILSWEEP_QMAIL__';
export const MESS_END_MARKER = '__MAILSWEEP_QMAIL_END__';
const FIND_MARKER = '__MAILSWEEP_QMAIL_FIND__';

/**
 * The queue listing, then the mess files' first header lines (scripts/attributed.sh, which runs
 * scripts/mess.awk over what find prints).
 */
export function qmailAttributedCommand(ctx: MtaContext): Sh {
  return shLines(
    qmailQueueCommand(ctx),
    serverScript('qmail/scripts/attributed.sh', {
      MS_QUEUE: qmailQueueDir(ctx),
      MS_MESS_AWK: scriptSource('qmail/scripts/mess.awk'),
      MS_PROOF_LINES: QMAIL_PROOF_MAX_LINES,
      MS_PROOF_WIDTH: QMAIL_PROOF_MAX_LINE,
    }),
  );
}

export type QmailMessEnd = 'eof' | 'done' | 'cap' | 'long' | 'unreadable' | 'error' | 'cut';

export interface QmailMessRecord {
  /** The lines awk printed ("|" removed). */
  lines: string[];
  /** Why awk stopped; 'cut': no end marker (output cut short or not ours). */
  end: QmailMessEnd;
}

export interface QmailMessDump {
  records: Map<string, QmailMessRecord>;
  /** find's exit code, when reported. */
  findRc: number | null;
  /** find's complaints ("! " lines). */
  diagnostics: string[];
  warnings: string[];
}

const MESS_START = new RegExp(`^${MESS_MARKER} ([0-9]{1,20})$`);
const MESS_END = new RegExp(`^${MESS_END_MARKER} ([0-9]{1,20}) (eof|done|cap|long|unreadable|error)$`);
const FIND_RC = new RegExp(`^${FIND_MARKER} ([0-9]{1,3})$`);

/**
 * The mess dump parser, fed line by line with each line's number in the whole output. Bounded
 * per record; never throws. `copy`: keep own copies of the header lines (streamed input).
 */
export class QmailMessDumpParser {
  readonly records = new Map<string, QmailMessRecord>();
  findRc: number | null = null;
  /** find's complaints: all of them (batch), or counted with the first few kept (streamed). */
  readonly diagnostics: string[] | null;
  diagnosticCount = 0;
  readonly firstDiagnostics = new FirstLines();
  readonly warnings = new LineWarnings();
  private cur: { id: string; rec: QmailMessRecord } | null = null;
  private readonly keep: (s: string) => string;

  constructor(o: { copy?: boolean; allDiagnostics?: boolean } = {}) {
    this.keep = o.copy ? own : (x) => x;
    this.diagnostics = o.allDiagnostics ? [] : null;
  }

  line(line: string, n: number): void {
    const cur = this.cur;
    if (line.startsWith('|')) {
      // One more line than the rule reads is enough to see it was cut; more is not kept.
      if (cur && cur.rec.lines.length <= QMAIL_PROOF_MAX_LINES) cur.rec.lines.push(this.keep(line.slice(1)));
      return;
    }
    let m = MESS_START.exec(line);
    if (m) {
      if (cur) this.warnings.note(n, `mess file ${cur.id}: record cut short`);
      const id = this.keep(m[1] ?? '');
      const rec: QmailMessRecord = { lines: [], end: 'cut' };
      if (this.records.has(id)) this.warnings.note(n, `mess file ${id} seen twice: first kept`);
      else this.records.set(id, rec);
      this.cur = { id, rec };
      return;
    }
    m = MESS_END.exec(line);
    if (m) {
      if (cur && cur.id === m[1]) cur.rec.end = m[2] as QmailMessEnd;
      else this.warnings.line(n, 'mess dump: end of a record that was not open', line);
      this.cur = null;
      return;
    }
    m = FIND_RC.exec(line);
    if (m) {
      this.findRc = Number(m[1]);
      return;
    }
    if (line.startsWith('! ')) {
      const d = line.slice(2);
      this.diagnostics?.push(d);
      this.diagnosticCount++;
      this.firstDiagnostics.push(d);
      return;
    }
    if (line.trim() !== '') this.warnings.line(n, 'mess dump', line);
  }

  end(): void {
    if (this.cur) this.warnings.note(null, `mess file ${this.cur.id}: record cut short`);
    this.cur = null;
  }
}

/** Parse the mess dump. One pass, bounded per record; never throws. */
export function parseQmailMessDump(text: string): QmailMessDump {
  const p = new QmailMessDumpParser({ allDiagnostics: true });
  let n = 0;
  let start = 0;
  // Split on LF only (awk has already turned every other control character but tab into DEL).
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    n++;
    if (line === '' && start > text.length) break;
    p.line(line, n);
  }
  p.end();
  return { records: p.records, findRc: p.findRc, diagnostics: p.diagnostics ?? [], warnings: p.warnings.list() };
}

const NO_PROOF_TEXT: Partial<Record<QmailNoProof, string>> = {
  'unprintable-login': "authenticated with a login qmail-smtpd printed with '?' (a character it does not print): not attributed",
  ambiguous: 'carry a qmail-smtpd AUTH header that names no single login (an address only, or "unknown"): not attributed',
  undecided: 'have header lines too long or too many to decide: not attributed',
};

/**
 * Attach authId / clientIp from the mess records to the listing's messages, where the rule
 * proves them. Returns the warnings (counts, never one per message).
 */
export function attributeQmailMessages(messages: QmailQueueMessage[], dump: QmailMessDump, uids: readonly string[] = []): string[] {
  const missing: string[] = [];
  const unreadable: string[] = [];
  const counts = new Map<QmailNoProof, number>();
  const localUid = new Map<string, number>();
  for (const m of messages) {
    const rec = dump.records.get(m.id);
    if (!rec) {
      missing.push(m.id);
      continue;
    }
    if (rec.end === 'unreadable' || rec.end === 'error' || rec.end === 'cut') {
      unreadable.push(m.id);
      continue;
    }
    const proof = qmailSubmitter(rec.lines, rec.end === 'eof', uids);
    if (proof.authId !== undefined) {
      m.authId = proof.authId;
      if (proof.clientIp !== undefined) m.clientIp = proof.clientIp;
      continue;
    }
    const why = proof.why ?? 'undecided';
    counts.set(why, (counts.get(why) ?? 0) + 1);
    // Would qmail-smtpd's AUTH header count, had this uid been qmaild? Then say so once.
    if (why === 'local-uid' && proof.uid !== undefined && qmailSubmitter(rec.lines, rec.end === 'eof', [proof.uid]).authId !== undefined)
      localUid.set(proof.uid, (localUid.get(proof.uid) ?? 0) + 1);
  }
  const out: string[] = [];
  const list = (ids: string[]): string => `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`;
  if (missing.length) out.push(`${missing.length} message(s) without a mess file (delivered meanwhile?), not attributed: ${list(missing)}`);
  if (unreadable.length)
    out.push(`${unreadable.length} message(s) whose mess file could not be read through, not attributed: ${list(unreadable)}`);
  for (const [why, text] of Object.entries(NO_PROOF_TEXT) as [QmailNoProof, string][]) {
    const c = counts.get(why);
    if (c) out.push(`${c} message(s) ${text}`);
  }
  for (const [uid, c] of localUid)
    out.push(
      `${c} message(s) carry a qmail-smtpd AUTH header but were queued by qmail-queue as uid ${uid}, not qmaild: not attributed ` +
        `(any local program can write such a header; if qmail-smtpd itself runs as uid ${uid}, e.g. vpopmail for chkuser, list it in qmail_smtpd_uids)`,
    );
  return out;
}

/** The attributed read's mess-file part: the dump parsed as it arrives, judged once the listing is complete. */
class QmailMessTail implements QmailListingTail {
  private readonly dump = new QmailMessDumpParser({ copy: true });
  /** The section's lines that are neither header lines nor markers (find's and the shell's complaints). */
  private readonly other = new FirstLines((x) => !x.startsWith('|') && !x.startsWith('__MAILSWEEP_'));

  constructor(private readonly uids: readonly string[]) {}

  line(line: string, n: number): void {
    this.dump.line(line, n);
    this.other.push(line);
  }

  finish(o: Parameters<QmailListingTail['finish']>[0]): void {
    const { warnings, section: mess } = o;
    if (!mess) {
      warnings.push(`${COMMAND_FAILED} qmail mess file read incomplete: ${failureText(o.openText.empty ? o.stderr : o.openText.text)}`);
      return;
    }
    const dump = this.dump;
    dump.end();
    if (mess.rc !== 0 || (dump.findRc !== null && dump.findRc !== 0)) {
      // Only the complaints, not the header lines, go into the message.
      const diag = dump.diagnosticCount ? dump.firstDiagnostics.text : this.other.text;
      warnings.push(`${COMMAND_FAILED} qmail mess file read exited ${mess.rc !== 0 ? mess.rc : dump.findRc}: ${failureText(diag)}`);
    } else if (dump.diagnosticCount) warnings.push(`qmail mess file read: ${failureText(dump.firstDiagnostics.text)}`);
    warnings.push(...dump.warnings.list('qmail mess'));
    if (dump.records.size === 0 && (mess.rc !== 0 || dump.findRc !== 0)) {
      if (o.messages.length) warnings.push('messages not attributed: no mess file could be read');
    } else
      warnings.push(
        ...attributeQmailMessages(o.messages, { records: dump.records, findRc: dump.findRc, diagnostics: [], warnings: [] }, this.uids),
      );
    if (!o.trailing.blank) warnings.push(`unexpected output after the mess files: ${o.trailing.printable()}`);
  }
}

/** The streaming parser of the attributed read (`qmailAttributedCommand`). */
export function qmailAttributedSink(localNowSeconds: number, uids: readonly string[] = []): QmailQueueSink {
  return new QmailQueueSink(localNowSeconds, new QmailMessTail(uids));
}

export function parseQmailAttributedOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
  uids: readonly string[] = [],
): QmailQueueListing {
  const sink = qmailAttributedSink(localNowSeconds, uids);
  feedLines(stdout, (line) => sink.line(line));
  return sink.end(stderr, code);
}
