// qmail: `qmail-qstat` counts and `qmail-qread` listing (notqmail qmail-qread.c).
//
//   14 Jan 2005 19:33:56 GMT  #1234567  2345  <alice@example.com>  bouncing
//   \tremote\tbob@example.net
//     done\tlocal\tcarol@example.org
//
// qmail-qread lists only preprocessed messages (queue/info); qmail-qstat's "messages in queue"
// also counts those still in queue/todo, so the adapter's reportedTotal is the difference.

import type { MtaAdapter, MtaContext, QueueListing, QueueMessage, ReadPlan } from './types.js';
import { sh } from '../transport/quote.js';
import { QMAIL_PROOF_MAX_LINE, QMAIL_PROOF_MAX_LINES, qmailOps, qmailQueueDir, qmailSmtpdUids, qmailSubmitter, type QmailNoProof } from './qmail-ops.js';
import {
  COMMAND_FAILED,
  capWarnings,
  NOW_COMMAND,
  ageFrom,
  failureText,
  lineWarning,
  monthIndex,
  printable,
  rcEcho,
  shiftWarnings,
  splitLines,
  openOutput,
} from './util.js';
import { planAt } from './plan.js';

export interface QmailQueueMessage extends QueueMessage {
  /** qmail-qread's " bouncing": a bounce for this message is being generated. */
  bouncing?: boolean;
  /** Recipients already delivered ("  done" lines). */
  delivered?: string[];
}

export interface QmailQueueListing extends QueueListing {
  messages: QmailQueueMessage[];
}

const QREAD_ENTRY =
  /^(\d{1,2}) (\w{3}) (\d{4}) (\d{1,2}):(\d{2}):(\d{2}) GMT {2}#(\d+) {2}(\d+) {2}<(.*)> ?( bouncing)?\s*$/;
const QREAD_RCPT = /^( {2}done)?\t(local|remote)\t(.*)$/;
const QREAD_DIAG = /^(warning|fatal): (.*)$/;

/** Parse `qmail-qread`. `nowSeconds` (epoch) gives ageSeconds; dates are printed in GMT. */
export function parseQmailQread(text: string, nowSeconds?: number): QmailQueueListing {
  const messages: QmailQueueMessage[] = [];
  const warnings: string[] = [];
  let cur: QmailQueueMessage | null = null;
  const channels = new Map<QmailQueueMessage, Set<string>>();
  splitLines(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    const e = QREAD_ENTRY.exec(line);
    if (e) {
      const mon = monthIndex(e[2] ?? '');
      const t =
        mon < 0
          ? null
          : Date.UTC(Number(e[3]), mon, Number(e[1]), Number(e[4]), Number(e[5]), Number(e[6])) / 1000;
      const sender = e[9] ?? '';
      const msg: QmailQueueMessage = {
        id: e[7] ?? '',
        sender,
        recipients: [],
        size: Number(e[8]),
        ageSeconds: ageFrom(t, nowSeconds),
        frozen: false,
        held: false,
        bounce: sender === '',
      };
      if (e[10]) {
        msg.bouncing = true;
        msg.reason = 'bouncing';
      }
      messages.push(msg);
      channels.set(msg, new Set());
      cur = msg;
      return;
    }
    const r = QREAD_RCPT.exec(line);
    if (r && cur) {
      const c: QmailQueueMessage = cur;
      if (r[1]) (c.delivered ??= []).push(r[3] ?? '');
      else {
        c.recipients.push(r[3] ?? '');
        channels.get(c)?.add(r[2] ?? '');
      }
      return;
    }
    const d = QREAD_DIAG.exec(line);
    if (d) {
      warnings.push(lineWarning(n, d[1] === 'fatal' ? `${COMMAND_FAILED} qmail-qread` : 'qmail-qread', line));
      return;
    }
    warnings.push(lineWarning(n, cur ? 'qmail-qread: line not understood' : 'qmail-qread: line outside any message', line));
  });
  for (const [m, ch] of channels) {
    if (ch.size === 1) m.queue = [...ch][0] ?? '';
    else if (ch.size > 1) m.queue = 'local+remote';
  }
  return { messages, reportedTotal: null, warnings: capWarnings(warnings) };
}

export interface QmailQstat {
  /** "messages in queue: N" (all messages, preprocessed or not). */
  inQueue: number | null;
  /** "messages in queue but not yet preprocessed: N". */
  notPreprocessed: number | null;
  warnings: string[];
}

/** One supervised service as `qmailctl stat` shows it (svstat or runit's `sv stat`). */
export interface QmailService {
  /** The service directory as printed (printable). */
  service: string;
  state: 'up' | 'down' | 'finish' | 'fail' | 'not running' | 'unknown';
  pid?: number;
  seconds?: number;
  /** The rest of the line (", normally up", "want down", runit's log part, the error). */
  note?: string;
}

// daemontools / daemontools-encore svstat: "<dir>: up (pid N) S seconds[, normally down][, want down]",
// "<dir>: down S seconds[, normally up]", "<dir>: supervise not running", "<dir>: unable to …".
const SVSTAT = /^(\S+): (up|down) (?:\(pid (\d+)(?: pgid \d+)?\) )?(\d+) seconds?(?:, (.+))?$/;
const SVSTAT_OTHER = /^(\S+): (supervise not running|unable to .+|bad format in .+)$/;
// runit sv stat: "run: <dir>: (pid N) Ss[; run: log: (pid M) Ss]", "down: <dir>: Ss, normally up", "fail: <dir>: …".
const SV_STAT = /^(run|down|finish|fail|warning): (\S+?): (?:\(pid (\d+)\) )?(?:(\d+)s\b)?[,;]? ?(.*)$/;

/** A `qmailctl stat` service line, or null. */
export function parseQmailServiceLine(line: string): QmailService | null {
  const t = line.trim();
  let m = SVSTAT.exec(t);
  if (m) {
    const s: QmailService = { service: printable(m[1] ?? ''), state: m[2] === 'up' ? 'up' : 'down' };
    if (m[3] !== undefined) s.pid = Number(m[3]);
    s.seconds = Number(m[4]);
    if (m[5] !== undefined) s.note = printable(m[5]);
    return s;
  }
  m = SVSTAT_OTHER.exec(t);
  if (m) return m[2] === 'supervise not running' ? { service: printable(m[1] ?? ''), state: 'not running' } : { service: printable(m[1] ?? ''), state: 'unknown', note: printable(m[2] ?? '') };
  m = SV_STAT.exec(t);
  if (m) {
    const state = ({ run: 'up', down: 'down', finish: 'finish', fail: 'fail', warning: 'unknown' } as const)[m[1] as 'run'];
    const s: QmailService = { service: printable(m[2] ?? ''), state };
    if (m[3] !== undefined) s.pid = Number(m[3]);
    if (m[4] !== undefined) s.seconds = Number(m[4]);
    if ((m[5] ?? '') !== '') s.note = printable(m[5] ?? '');
    return s;
  }
  return null;
}

const QSTAT_TOTAL = /^messages in queue: (\d+)$/;
const QSTAT_TODO = /^messages in queue but not yet preprocessed: (\d+)$/;

/** Parse `qmail-qstat` (also inside `qmailctl stat`, whose service lines are recognised and skipped). */
export function parseQmailQstat(text: string): QmailQstat {
  const out: QmailQstat = { inQueue: null, notPreprocessed: null, warnings: [] };
  splitLines(text).forEach((line, i) => {
    const t = line.trim();
    if (t === '') return;
    let m = QSTAT_TOTAL.exec(t);
    if (m) {
      out.inQueue = Number(m[1]);
      return;
    }
    m = QSTAT_TODO.exec(t);
    if (m) {
      out.notPreprocessed = Number(m[1]);
      return;
    }
    if (parseQmailServiceLine(t)) return;
    out.warnings.push(lineWarning(i + 1, 'qmail-qstat: line not understood', line));
  });
  out.warnings = capWarnings(out.warnings);
  return out;
}

export interface QmailQueueText extends QmailQueueListing {
  /** The service lines of `qmailctl stat`, when there were any. */
  services?: QmailService[];
}

/**
 * Saved qmail queue output for `mailsweep parse`: `qmail-qstat`, `qmailctl stat` (service lines,
 * then qmail-qstat's), `qmail-qread`, or counts followed by a listing. Service lines are reported
 * in `services`, never counted. reportedTotal: "messages in queue" when there is no listing; with
 * a listing, the preprocessed count (what qmail-qread lists), as the scan reports it.
 */
export function parseQmailQueueText(text: string, nowSeconds?: number): QmailQueueText {
  const services: QmailService[] = [];
  const warnings: string[] = [];
  let inQueue: number | null = null;
  let todo: number | null = null;
  let listing = false;
  // What is not a count or a service line goes to qmail-qread's parser, on its own line number.
  const rest = splitLines(text).map((line) => {
    const t = line.trim();
    if (t === '') return '';
    let m = QSTAT_TOTAL.exec(t);
    if (m) {
      inQueue = Number(m[1]);
      return '';
    }
    m = QSTAT_TODO.exec(t);
    if (m) {
      todo = Number(m[1]);
      return '';
    }
    const s = parseQmailServiceLine(t);
    if (s) {
      services.push(s);
      return '';
    }
    listing = true;
    return line;
  });
  const l = listing ? parseQmailQread(rest.join('\n'), nowSeconds) : { messages: [], warnings: [] as string[] };
  const total = inQueue as number | null;
  const pre = todo as number | null;
  let reportedTotal: number | null = total;
  if (total !== null && l.messages.length > 0) {
    reportedTotal = total - (pre ?? 0);
    if (pre) warnings.push(`${pre} message(s) not yet preprocessed: counted by qmail-qstat, not listed by qmail-qread`);
  }
  for (const s of services) if (s.state !== 'up') warnings.push(`service ${s.service} is ${s.state}${s.note ? ` (${s.note})` : ''}`);
  warnings.push(...l.warnings);
  const out: QmailQueueText = { messages: l.messages, reportedTotal, warnings: capWarnings(warnings) };
  if (services.length > 0) out.services = services;
  return out;
}

// ---------------------------------------------------------------------------
// Adapter: qmail-qstat, marker, qmail-qread.

function binDir(ctx: MtaContext): string {
  const b = ctx.binary?.trim();
  if (b && b.includes('/')) return b.slice(0, b.lastIndexOf('/'));
  const home = typeof ctx.vars?.qmailDir === 'string' ? ctx.vars.qmailDir : '/var/qmail';
  return `${home.replace(/\/+$/, '')}/bin`;
}

export function qmailQueueCommand(ctx: MtaContext): string {
  const dir = binDir(ctx);
  return [
    NOW_COMMAND,
    sh`${`${dir}/qmail-qstat`} 2>&1; ` + rcEcho('qstat'),
    sh`${`${dir}/qmail-qread`} 2>&1; ` + rcEcho('qread'),
  ].join('\n');
}

/** The qstat and qread sections of a split output combined into one listing (no trailing check). */
function combineQstatQread(
  opened: ReturnType<typeof openOutput>,
  stdout: string,
  stderr: string,
  code: number | null,
): { listing: QmailQueueListing; complete: boolean } {
  const { split, warnings, nowSeconds } = opened;
  const qstat = split.sections.get('qstat');
  const qread = split.sections.get('qread');
  if (!qstat || !qread) {
    const l = parseQmailQread(stdout, nowSeconds);
    warnings.push(`${COMMAND_FAILED} qmail queue listing incomplete (exit ${code ?? 'none'}): ${failureText(stderr || stdout)}`);
    return { listing: { messages: l.messages, reportedTotal: null, warnings: [...warnings, ...l.warnings] }, complete: false };
  }
  let reportedTotal: number | null = null;
  const s = parseQmailQstat(qstat.text);
  if (qstat.rc !== 0 || s.inQueue === null) {
    warnings.push(`${COMMAND_FAILED} qmail-qstat exited ${qstat.rc}: ${failureText(qstat.text)}`);
  } else {
    reportedTotal = s.inQueue - (s.notPreprocessed ?? 0);
    if (s.notPreprocessed) warnings.push(`${s.notPreprocessed} message(s) not yet preprocessed: counted by qmail-qstat, not listed by qmail-qread`);
  }
  warnings.push(...shiftWarnings(s.warnings, qstat.firstLine, 'qmail-qstat'));
  const l = parseQmailQread(qread.text, nowSeconds);
  if (qread.rc !== 0) {
    warnings.push(`${COMMAND_FAILED} qmail-qread exited ${qread.rc}: ${failureText(qread.text)}`);
    reportedTotal = null;
  }
  warnings.push(...shiftWarnings(l.warnings, qread.firstLine, 'qmail-qread'));
  return { listing: { messages: l.messages, reportedTotal, warnings }, complete: true };
}

export function parseQmailQueueOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): QmailQueueListing {
  // qmail-qread prints GMT dates: the server's zone does not matter, only its clock.
  const opened = openOutput(stdout, stderr, ['qstat', 'qread'], localNowSeconds, { clockMatters: false });
  const { listing, complete } = combineQstatQread(opened, stdout, stderr, code);
  if (complete && opened.split.trailing.trim() !== '') listing.warnings.push(`unexpected output after the listing: ${printable(opened.split.trailing)}`);
  return listing;
}

// ---------------------------------------------------------------------------
// Attribution: the first header lines of every mess file, in the same round trip, judged by the
// rule in qmail-ops.ts (qmailSubmitter; the purge re-checks it on the server with QMAIL_PROOF_AWK).
//
// One awk reads the file names find prints and, per file, only the lines the rule can need:
// line 1; if it is qmail-queue's, the header fields up to the first "Received:" one after it,
// that field's next line and the line after (or up to a blank line, EOF, QMAIL_PROOF_MAX_LINES
// lines or a line longer than QMAIL_PROOF_MAX_LINE bytes). Output per file:
//   __MAILSWEEP_QMAIL__ <id>
//   |<line>                     every content line behind "|": nothing in a header is a marker
//   __MAILSWEEP_QMAIL_END__ <id> eof|done|cap|long|unreadable|error
// Control characters other than tab become DEL (0x7f), which no part of the rule accepts
// either, so a CR cannot be lost on the way; find's own complaints come out behind "! ".

export const MESS_MARKER = '__MAILSWEEP_QMAIL__';
export const MESS_END_MARKER = '__MAILSWEEP_QMAIL_END__';
const FIND_MARKER = '__MAILSWEEP_QMAIL_FIND__';

const MESS_AWK = [
  'BEGIN { Q = ENVIRON["MS_Q"] }',
  `index($0, Q) != 1 || Q == "" { if ($0 ~ /^${FIND_MARKER} [0-9]+$/) print; else print "! " $0; next }`,
  '{ f = $0; id = f; sub(/^.*\\//, "", id); if (id !~ /^[0-9]+$/) next',
  ` print "${MESS_MARKER} " id; n = 0; s = 0; w = "eof"`,
  ' while ((r = (getline x < f)) > 0) {',
  `  if (++n > ${QMAIL_PROOF_MAX_LINES}) { w = "cap"; break }`,
  `  if (length(x) > ${QMAIL_PROOF_MAX_LINE}) { w = "long"; break }`,
  '  gsub(/[\\001-\\010\\013-\\037]/, "\\177", x); print "|" x',
  '  if (n == 1) { if (x !~ /^Received: [(]qmail /) { w = "done"; break } continue }',
  '  if (s == 0) { if (x == "") { w = "done"; break } if (x ~ /^[Rr][Ee][Cc][Ee][Ii][Vv][Ee][Dd][ \t]*:/) s = 1; continue }',
  '  if (++s == 3) { w = "done"; break } }',
  ' if (r < 0) w = (n == 0 ? "unreadable" : "error"); close(f)',
  ` print "${MESS_END_MARKER} " id " " w }`,
].join('\n');
if (MESS_AWK.includes("'")) throw new Error('MESS_AWK must not contain a single quote');

export function qmailAttributedCommand(ctx: MtaContext): string {
  return [
    qmailQueueCommand(ctx),
    sh`q=${qmailQueueDir(ctx)}`,
    `if [ -d "$q/mess" ]; then { find "$q/mess" -type f; echo "${FIND_MARKER} $?"; } 2>&1 | MS_Q="$q/mess/" LC_ALL=C awk '${MESS_AWK}'; ` +
      `else echo "no directory $q/mess"; false; fi; ${rcEcho('mess')}`,
  ].join('\n');
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
  if (unreadable.length) out.push(`${unreadable.length} message(s) whose mess file could not be read through, not attributed: ${list(unreadable)}`);
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
      const diag = dump.diagnostics.length ? dump.diagnostics.join('\n') : splitLines(mess.text).filter((x) => !x.startsWith('|') && !x.startsWith('__MAILSWEEP_')).join('\n');
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

// Attribution (attributedQueue): qmail-qread's ids are mess file inode numbers, and each mess
// file begins with qmail-queue's and qmail-smtpd's Received headers, which name the SMTP AUTH login
// where one was used (the rule, its sources and its limits: qmail-ops.ts, qmailSubmitter). Messages
// without that proof keep authId undefined; the chkuser log lines (no queue id) are left to the log
// scan. The mess files are readable by root, qmailq and group qmail only (queue/mess is 0750).

export const qmail = {
  name: 'qmail',
  ops: qmailOps,
  queue: (ctx: MtaContext): ReadPlan<QueueListing> => planAt(qmailQueueCommand(ctx), parseQmailQueueOutput),
  // qmail-qstat, qmailctl stat (service lines + counts), qmail-qread, or counts + listing.
  parseListing: (text: string, nowSeconds: number): QueueListing => parseQmailQueueText(text, nowSeconds),
  attributedQueue(ctx: MtaContext): ReadPlan<QueueListing> {
    const { uids, bad } = qmailSmtpdUids(ctx);
    return planAt(qmailAttributedCommand(ctx), (stdout, stderr, code, now) => {
      const l = parseQmailAttributedOutput(stdout, stderr, code, now, uids);
      if (bad.length) l.warnings.unshift(`qmail_smtpd_uids: not a uid, ignored: ${printable(bad.join(', '))}`);
      return l;
    });
  },
} satisfies MtaAdapter;
