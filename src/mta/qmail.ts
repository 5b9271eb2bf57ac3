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
import { qmailOps } from './qmail-ops.js';
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

/** Parse `qmail-qstat` (also inside `qmailctl stat`, whose svstat lines are recognised). */
export function parseQmailQstat(text: string): QmailQstat {
  const out: QmailQstat = { inQueue: null, notPreprocessed: null, warnings: [] };
  splitLines(text).forEach((line, i) => {
    const t = line.trim();
    if (t === '') return;
    let m = /^messages in queue: (\d+)$/.exec(t);
    if (m) {
      out.inQueue = Number(m[1]);
      return;
    }
    m = /^messages in queue but not yet preprocessed: (\d+)$/.exec(t);
    if (m) {
      out.notPreprocessed = Number(m[1]);
      return;
    }
    if (/^\S+: (?:up|down) /.test(t)) return; // svstat line from qmailctl stat
    out.warnings.push(lineWarning(i + 1, 'qmail-qstat: line not understood', line));
  });
  out.warnings = capWarnings(out.warnings);
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

export function parseQmailQueueOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): QmailQueueListing {
  // qmail-qread prints GMT dates: the server's zone does not matter, only its clock.
  const { split, warnings, nowSeconds } = openOutput(stdout, stderr, ['qstat', 'qread'], localNowSeconds, { clockMatters: false });
  const qstat = split.sections.get('qstat');
  const qread = split.sections.get('qread');
  if (!qstat || !qread) {
    const l = parseQmailQread(stdout, nowSeconds);
    warnings.push(`${COMMAND_FAILED} qmail queue listing incomplete (exit ${code ?? 'none'}): ${failureText(stderr || stdout)}`);
    return { messages: l.messages, reportedTotal: null, warnings: [...warnings, ...l.warnings] };
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
  if (split.trailing.trim() !== '') warnings.push(`unexpected output after the listing: ${printable(split.trailing)}`);
  return { messages: l.messages, reportedTotal, warnings };
}

// No attributedQueue: qmail-qread's ids are inode numbers, and the SMTP AUTH user shows up
// only in chkuser's "CHKUSER relaying rcpt: from <sender:authuser:…> … rcpt <rcpt>" lines,
// which carry no queue id, no pid and (under multilog) only a tai64n stamp. Joining them to
// queued messages by sender + recipients + time would guess whenever two sessions share a
// sender and a recipient (exactly the spam case: many messages, same forged sender), so
// qmail messages keep authId undefined. Per-account counts belong to the log scan instead.

export const qmail = {
  name: 'qmail',
  ops: qmailOps,
  queue: (ctx: MtaContext): ReadPlan<QueueListing> => planAt(qmailQueueCommand(ctx), parseQmailQueueOutput),
} satisfies MtaAdapter;
