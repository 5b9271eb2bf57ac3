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
import { COMMAND_FAILED, capWarnings, failureText, lineWarning, printable, shiftWarnings, splitLines, openOutput } from '../util.js';
import { combineQstatQread, qmailQueueCommand, type QmailQueueListing, type QmailQueueMessage } from './listing.js';

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

/** Parse the mess dump. One pass, bounded per record; never throws. */
export function parseQmailMessDump(text: string): QmailMessDump {
  const records = new Map<string, QmailMessRecord>();
  const diagnostics: string[] = [];
  const warnings: string[] = [];
  let findRc: number | null = null;
  let cur: { id: string; rec: QmailMessRecord } | null = null;
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
    if (line.startsWith('|')) {
      // One more line than the rule reads is enough to see it was cut; more is not kept.
      if (cur && cur.rec.lines.length <= QMAIL_PROOF_MAX_LINES) cur.rec.lines.push(line.slice(1));
      continue;
    }
    let m = MESS_START.exec(line);
    if (m) {
      if (cur) warnings.push(`line ${n}: mess file ${cur.id}: record cut short`);
      const id = m[1] ?? '';
      const rec: QmailMessRecord = { lines: [], end: 'cut' };
      if (records.has(id)) {
        warnings.push(`line ${n}: mess file ${id} seen twice: first kept`);
        cur = { id, rec };
      } else {
        records.set(id, rec);
        cur = { id, rec };
      }
      continue;
    }
    m = MESS_END.exec(line);
    if (m) {
      if (cur && cur.id === m[1]) cur.rec.end = m[2] as QmailMessEnd;
      else warnings.push(lineWarning(n, 'mess dump: end of a record that was not open', line));
      cur = null;
      continue;
    }
    m = FIND_RC.exec(line);
    if (m) {
      findRc = Number(m[1]);
      continue;
    }
    if (line.startsWith('! ')) {
      diagnostics.push(line.slice(2));
      continue;
    }
    if (line.trim() !== '') warnings.push(lineWarning(n, 'mess dump', line));
  }
  if (cur) warnings.push(`mess file ${cur.id}: record cut short`);
  return { records, findRc, diagnostics, warnings: capWarnings(warnings) };
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

export function parseQmailAttributedOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
  uids: readonly string[] = [],
): QmailQueueListing {
  const opened = openOutput(stdout, stderr, ['qstat', 'qread', 'mess'], localNowSeconds, { clockMatters: false });
  const { listing, complete } = combineQstatQread(opened, stdout, stderr, code);
  const warnings = listing.warnings;
  if (!complete) {
    warnings.push('messages not attributed: the queue listing itself is incomplete');
    return { ...listing, warnings: capWarnings(warnings, 150) };
  }
  const mess = opened.split.sections.get('mess');
  if (!mess) warnings.push(`${COMMAND_FAILED} qmail mess file read incomplete: ${failureText(opened.split.trailing || stderr)}`);
  else {
    const dump = parseQmailMessDump(mess.text);
    if (mess.rc !== 0 || (dump.findRc !== null && dump.findRc !== 0)) {
      // Only the complaints, not the header lines, go into the message.
      const diag = dump.diagnostics.length
        ? dump.diagnostics.join('\n')
        : splitLines(mess.text)
            .filter((x) => !x.startsWith('|') && !x.startsWith('__MAILSWEEP_'))
            .join('\n');
      warnings.push(`${COMMAND_FAILED} qmail mess file read exited ${mess.rc !== 0 ? mess.rc : dump.findRc}: ${failureText(diag)}`);
    } else if (dump.diagnostics.length) warnings.push(`qmail mess file read: ${failureText(dump.diagnostics.join('\n'))}`);
    warnings.push(...shiftWarnings(dump.warnings, mess.firstLine, 'qmail mess'));
    if (dump.records.size === 0 && (mess.rc !== 0 || dump.findRc !== 0)) {
      if (listing.messages.length) warnings.push('messages not attributed: no mess file could be read');
    } else warnings.push(...attributeQmailMessages(listing.messages, dump, uids));
    if (opened.split.trailing.trim() !== '') warnings.push(`unexpected output after the mess files: ${printable(opened.split.trailing)}`);
  }
  return { messages: listing.messages, reportedTotal: listing.reportedTotal, warnings: capWarnings(warnings, 150) };
}
