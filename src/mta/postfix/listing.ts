// Postfix: `postqueue -j` (JSON lines, 3.1+) and `postqueue -p` / `mailq` (text, any version).

import { postfixScriptTools } from './host.js';
import type { Sh } from '../../transport/quote.js';
import { serverScript } from '../script.js';
import { attributePostfixMessages, parsePostcatEnvelopes, postcatEnvelopeSettings } from './attribution.js';
import type { MtaContext, QueueListing, QueueMessage } from '../types.js';
import {
  COMMAND_FAILED,
  capWarnings,
  ageFrom,
  failureText,
  lineWarning,
  printable,
  shiftWarnings,
  splitLines,
  splitSections,
  yearlessLocalTime,
  openOutput,
} from '../util.js';
import { planAt } from '../plan.js';

export interface PostfixQueueMessage extends QueueMessage {
  /** `#` in -p, forced_expire in -j (3.5+): will bounce at the next delivery attempt. */
  forcedExpire?: boolean;
  /**
   * A maildrop file showq could not read (postqueue -p before Postfix 3.1 prints "(maildrop
   * queue, sender UID N)"): the submitting user's UID. The sender is not known until pickup, so
   * `sender` is '' while `bounce` stays false.
   */
  senderUid?: number;
}

export interface PostfixQueueListing extends QueueListing {
  messages: PostfixQueueMessage[];
}

/** Postfix shows the null sender as MAILER-DAEMON (empty_address_recipient). */
function nullSender(s: string): boolean {
  return s === '' || s === 'MAILER-DAEMON';
}

// ---------------------------------------------------------------------------
// postqueue -j

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parse `postqueue -j`: one JSON object per line; unknown members are ignored; a line that is
 * not a usable record becomes a warning. `nowSeconds` (epoch) gives ageSeconds; without it null.
 */
export function parsePostqueueJson(text: string, nowSeconds?: number): PostfixQueueListing {
  const messages: PostfixQueueMessage[] = [];
  const warnings: string[] = [];
  splitLines(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    let rec: unknown;
    if (!line.trimStart().startsWith('{')) {
      warnings.push(lineWarning(n, 'postqueue -j: not JSON', line));
      return;
    }
    try {
      rec = JSON.parse(line);
    } catch {
      warnings.push(lineWarning(n, 'postqueue -j: not JSON', line));
      return;
    }
    if (!isObject(rec) || typeof rec.queue_id !== 'string' || rec.queue_id === '') {
      warnings.push(lineWarning(n, 'postqueue -j: record without queue_id', line));
      return;
    }
    const id = rec.queue_id;
    if (!/^[0-9A-Za-z]+$/.test(id)) warnings.push(lineWarning(n, 'postqueue -j: unusual queue_id', id));
    const rawSender = typeof rec.sender === 'string' ? rec.sender : '';
    if (typeof rec.sender !== 'string') warnings.push(lineWarning(n, 'postqueue -j: record without sender', line));
    const recipients: string[] = [];
    let reason: string | undefined;
    if (Array.isArray(rec.recipients)) {
      for (const r of rec.recipients) {
        if (isObject(r) && typeof r.address === 'string') {
          recipients.push(r.address);
          if (reason === undefined && typeof r.delay_reason === 'string' && r.delay_reason !== '') reason = r.delay_reason;
        } else warnings.push(lineWarning(n, `postqueue -j: bad recipient in ${id}`, JSON.stringify(r) ?? ''));
      }
    } else warnings.push(lineWarning(n, `postqueue -j: ${id} has no recipients array`, line));
    const queue = typeof rec.queue_name === 'string' ? rec.queue_name : undefined;
    const arrival = typeof rec.arrival_time === 'number' && Number.isFinite(rec.arrival_time) ? rec.arrival_time : null;
    const size =
      typeof rec.message_size === 'number' && Number.isFinite(rec.message_size) && rec.message_size >= 0 ? rec.message_size : null;
    const sender = nullSender(rawSender) ? '' : rawSender;
    const msg: PostfixQueueMessage = {
      id,
      sender,
      recipients,
      size,
      ageSeconds: ageFrom(arrival, nowSeconds),
      frozen: false,
      held: queue === 'hold',
      bounce: sender === '',
    };
    if (queue !== undefined) msg.queue = queue;
    if (reason !== undefined) msg.reason = reason;
    if (rec.forced_expire === true) msg.forcedExpire = true;
    messages.push(msg);
  });
  return { messages, reportedTotal: null, warnings: capWarnings(warnings) };
}

// ---------------------------------------------------------------------------
// postqueue -p

const P_HEADER = /^-+Queue ID-+\s+--Size--\s+-+Arrival Time-+\s+-+Sender\/Recipient-+\s*$/;
// id, then "*" (active) or "!" (hold), then "#" (forced to expire): showq_compat.c. Arrival
// "??" is what showq before 3.1 printed for a queue file without a time record.
const P_ENTRY = /^([0-9A-Za-z]+)([*!]?)(#?)\s+(\d+)\s+(\w{3}\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}|\?\?)\s+(.*)$/;
/** showq before 3.1 (DROP_FORMAT): a maildrop file it could not open; no sender until pickup. */
const P_MAILDROP = /^\(maildrop queue, sender UID (\d{1,10})\)$/;
const P_FOOTER = /^--\s+(\d+)\s+Kbytes?\s+in\s+(\d+)\s+Requests?\.\s*$/;
const P_EMPTY = /^Mail queue is empty\s*$/;
const P_REASON = /^\s*\((.*)\)\s*$/;
const P_DIAG = /^(?:postqueue|postcat|showq|postdrop|sendmail|mailq)(?:\[\d+\])?: (warning|fatal|error): (.*)$/;

export interface PostqueuePOptions {
  /** Epoch seconds "now"; needed for ageSeconds (the listing has no year and no zone). */
  nowSeconds?: number;
  /** The server's UTC offset in seconds (arrival times are server-local). Default 0. */
  tzOffsetSeconds?: number;
}

const STATUS_QUEUE: Record<string, string> = { '*': 'active', '!': 'hold', '': 'deferred' };

/**
 * Parse `postqueue -p` / `mailq`. reportedTotal comes from the footer ("-- N Kbytes in M
 * Requests." or "Mail queue is empty"); without a footer it stays null. Unmarked entries are
 * reported as queue 'deferred' (the text format cannot tell maildrop, incoming and deferred
 * apart), except the "(maildrop queue, sender UID N)" entries of Postfix < 3.1, which the
 * footer counts too: queue 'maildrop', sender unknown ('', not a bounce), senderUid N.
 */
export function parsePostqueueP(text: string, opts: PostqueuePOptions = {}): PostfixQueueListing {
  const messages: PostfixQueueMessage[] = [];
  const warnings: string[] = [];
  let reportedTotal: number | null = null;
  let cur: PostfixQueueMessage | null = null;
  splitLines(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') {
      cur = null;
      return;
    }
    if (P_HEADER.test(line)) return;
    const foot = P_FOOTER.exec(line);
    if (foot) {
      reportedTotal = Number(foot[2]);
      cur = null;
      return;
    }
    if (P_EMPTY.test(line)) {
      reportedTotal = 0;
      return;
    }
    const diag = P_DIAG.exec(line);
    if (diag) {
      warnings.push(lineWarning(n, diag[1] === 'warning' ? 'postfix warning' : `${COMMAND_FAILED} postfix`, line));
      return;
    }
    const e = P_ENTRY.exec(line);
    if (e) {
      const mark = e[2] ?? '';
      const rawSender = (e[6] ?? '').trim();
      const drop = mark === '' && e[3] === '' ? P_MAILDROP.exec(rawSender) : null;
      const sender = drop || nullSender(rawSender) ? '' : rawSender;
      const when = e[5] ?? '';
      const arrival =
        opts.nowSeconds === undefined || when === '??' ? null : yearlessLocalTime(when, opts.nowSeconds, opts.tzOffsetSeconds ?? 0);
      if (opts.nowSeconds !== undefined && arrival === null && when !== '??')
        warnings.push(lineWarning(n, 'postqueue -p: arrival time not understood', line));
      const msg: PostfixQueueMessage = {
        id: e[1] ?? '',
        sender,
        recipients: [],
        size: Number(e[4]),
        ageSeconds: ageFrom(arrival, opts.nowSeconds),
        frozen: false,
        held: mark === '!',
        bounce: sender === '' && !drop,
        queue: drop ? 'maildrop' : (STATUS_QUEUE[mark] ?? 'deferred'),
      };
      if (e[3] === '#') msg.forcedExpire = true;
      if (drop) msg.senderUid = Number(drop[1]);
      messages.push(msg);
      cur = msg;
      return;
    }
    const reason = P_REASON.exec(line);
    if (reason && cur) {
      // Reason lines precede the recipients they apply to; the first one is kept.
      if (cur.reason === undefined) cur.reason = reason[1] ?? '';
      return;
    }
    if (cur && /^\s+\S/.test(line)) {
      cur.recipients.push(line.trim());
      return;
    }
    warnings.push(lineWarning(n, cur ? 'postqueue -p: line not understood' : 'postqueue -p: line outside any message', line));
  });
  return { messages, reportedTotal, warnings: capWarnings(warnings) };
}

// ---------------------------------------------------------------------------
// Adapter: one round trip. postqueue -j, and when it works, the -p footer for the total;
// when it fails (postfix < 3.1: no -j), the full -p listing instead.

/** The listing script (scripts/queue.sh). */
export function postfixQueueCommand(ctx: MtaContext): Sh {
  return serverScript('postfix/scripts/queue.sh', postfixScriptTools(ctx, ['postqueue']));
}

export function parsePostfixQueueOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): PostfixQueueListing {
  const { split: head, warnings, nowSeconds, tzOffsetSeconds } = openOutput(stdout, stderr, ['json'], localNowSeconds);
  const json = head.sections.get('json');
  if (!json) {
    const p = parsePostqueueP(stdout, { nowSeconds, tzOffsetSeconds });
    warnings.push(`${COMMAND_FAILED} postqueue listing incomplete (exit ${code ?? 'none'}): ${failureText(stderr || stdout)}`);
    return { messages: p.messages, reportedTotal: null, warnings: [...warnings, ...p.warnings] };
  }
  // The rest of the output (after the json marker) holds the footer or the full -p listing.
  const restStart = json.firstLine + splitLines(json.text).length + 1;
  const restText = splitLines(stdout)
    .slice(restStart - 1)
    .join('\n');
  const tailSplit = splitSections(restText, [json.rc === 0 ? 'footer' : 'plain']);
  const tail = tailSplit.sections.get(json.rc === 0 ? 'footer' : 'plain');

  if (json.rc === 0) {
    const listing = parsePostqueueJson(json.text, nowSeconds);
    warnings.push(...shiftWarnings(listing.warnings, json.firstLine, 'postqueue -j'));
    let reportedTotal: number | null = null;
    if (!tail) warnings.push(`${COMMAND_FAILED} postqueue -p footer missing: ${failureText(restText)}`);
    else {
      const foot = parsePostqueueP(tail.text);
      reportedTotal = foot.reportedTotal;
      if (reportedTotal === null) warnings.push(`postqueue -p footer not understood: ${failureText(tail.text)}`);
    }
    return { messages: listing.messages, reportedTotal, warnings };
  }
  // -j failed: expected on postfix < 3.1 ("invalid option"); the full -p listing follows.
  if (!/invalid option|illegal option|usage:/i.test(json.text)) warnings.push(`postqueue -j exited ${json.rc}: ${failureText(json.text)}`);
  if (!tail) {
    warnings.push(`${COMMAND_FAILED} postqueue -p output missing: ${failureText(restText)}`);
    return { messages: [], reportedTotal: null, warnings };
  }
  const p = parsePostqueueP(tail.text, { nowSeconds, tzOffsetSeconds });
  if (tail.rc !== 0) warnings.push(`${COMMAND_FAILED} postqueue -p exited ${tail.rc}: ${failureText(tail.text)}`);
  warnings.push(...shiftWarnings(p.warnings, restStart - 1 + tail.firstLine, 'postqueue -p'));
  if (tailSplit.trailing.trim() !== '') warnings.push(`unexpected output after the listing: ${printable(tailSplit.trailing)}`);
  return { messages: p.messages, reportedTotal: tail.rc === 0 ? p.reportedTotal : null, warnings };
}

// ---------------------------------------------------------------------------
// Attribution: the listing plus the queue files' envelope records (attribution.ts).

export function postfixAttributedCommand(ctx: MtaContext): Sh {
  return serverScript('postfix/scripts/attributed.sh', { ...postfixScriptTools(ctx, ['postqueue']), ...postcatEnvelopeSettings(ctx) });
}

export function parsePostfixAttributedOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): PostfixQueueListing {
  const json = splitSections(stdout, ['json']).sections.get('json');
  const tailName = json?.rc === 0 ? 'footer' : 'plain';
  const full = splitSections(stdout, ['json', tailName, 'qdir', 'postcat']);
  const tail = full.sections.get(tailName);
  if (!json || !tail) {
    const listing = parsePostfixQueueOutput(stdout, stderr, code, localNowSeconds);
    listing.warnings.push('messages not attributed: the queue listing itself is incomplete');
    return listing;
  }
  const markerLine = tail.firstLine + splitLines(tail.text).length;
  const listing = parsePostfixQueueOutput(splitLines(stdout).slice(0, markerLine).join('\n'), stderr, code, localNowSeconds);
  const warnings = listing.warnings;
  const qdir = full.sections.get('qdir');
  const cat = full.sections.get('postcat');
  if (!qdir || !cat) warnings.push(`${COMMAND_FAILED} postfix queue file read incomplete: ${failureText(full.trailing || stderr)}`);
  else {
    if (qdir.rc !== 0) warnings.push(`${COMMAND_FAILED} postconf -h queue_directory exited ${qdir.rc}: ${failureText(qdir.text)}`);
    else if (cat.rc !== 0) warnings.push(`${COMMAND_FAILED} postcat -e exited ${cat.rc}: ${failureText(cat.text)}`);
    const env = parsePostcatEnvelopes(cat.text);
    warnings.push(...shiftWarnings(env.warnings, cat.firstLine, 'postcat -e'));
    warnings.push(...attributePostfixMessages(listing.messages, env.envelopes));
    if (full.trailing.trim() !== '') warnings.push(`unexpected output after postcat: ${printable(full.trailing)}`);
  }
  return { ...listing, warnings: capWarnings(warnings, 150) };
}
