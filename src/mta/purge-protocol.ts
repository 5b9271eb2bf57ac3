// The purge marker protocol shared by every MTA's purge (split out of common-ops.ts):
// request validation, the per-id verdict lines the server-side scripts print, and their pure parser.
//
// Every purge command re-checks each message ON THE SERVER right before touching it and
// prints one verdict line per id:
//
//   __MAILSWEEP_PURGE__ <id> match                 the re-check passed; handed to the MTA's tool
//   __MAILSWEEP_PURGE__ <id> skip <reason words>   left alone (gone, no longer matching, …)
//   __MAILSWEEP_PURGE__ <id> done <what>           deleted / held, verified after the tool ran
//   __MAILSWEEP_PURGE__ <id> fail <reason words>   the tool ran but the message is still there
//   __MAILSWEEP_PURGE__ - abort <reason words>     nothing was touched (spool unknown, …)
//
// The MTA tool's own output is passed through prefixed with "| ", so nothing it prints
// (or a sender/recipient inside it) can pass for a marker. Ids are validated against the
// MTA's id shape before they are put in a command, so a marker id is always shell-safe.

import type { PurgeRequest, PurgeResult } from './types.js';
import { capWarnings, failureText, printable, splitLines } from './util.js';

export const PURGE_MARKER = '__MAILSWEEP_PURGE__';

export interface PreparedPurge {
  /** Ids that go into the command, in request order, without duplicates. */
  ids: string[];
  /** Ids refused before anything is sent (bad shape, no expected sender, …). */
  skipped: { id: string; reason: string }[];
  /** A request-wide refusal: every id is skipped with it and no command touches anything. */
  refusal?: string;
}

/** Control characters make a value impossible to compare as one exact line (grep -F splits on \n). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why an auth id cannot be matched exactly, or null when it can. */
export function authIdProblem(authId: string): string | null {
  if (authId === '') return 'empty auth id';
  if (CONTROL.test(authId)) return 'auth id contains a control character (newline, tab, …): cannot be matched as one exact line';
  return null;
}

/** Why an expected sender cannot be compared exactly, or null when it can. */
export function senderProblem(sender: string): string | null {
  if (CONTROL.test(sender)) return 'expected sender contains a control character';
  return null;
}

/**
 * Dedupe, check the id shape, and apply the request-wide checks (auth id, expected senders).
 * `needSender(id)` says whether this MTA needs `req.expect[id].sender` for the re-check.
 */
export function preparePurge(
  req: PurgeRequest,
  idShape: RegExp,
  mtaLabel: string,
  needSender: (req: PurgeRequest) => boolean = () => false,
): PreparedPurge {
  const ids: string[] = [];
  const skipped: { id: string; reason: string }[] = [];
  const seen = new Set<string>();
  let refusal: string | undefined;
  if (req.match.kind === 'auth') {
    const p = authIdProblem(req.match.authId);
    if (p) refusal = p;
  } else if (req.match.kind !== 'bounce') refusal = `unknown match kind ${printable(String((req.match as { kind: unknown }).kind))}`;
  if (req.mode !== 'delete' && req.mode !== 'hold') refusal = `unknown mode ${printable(String(req.mode))}`;
  const anchored = new RegExp(`^(?:${idShape.source})$`);
  for (const id of req.ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    if (!anchored.test(id)) {
      skipped.push({ id, reason: `not a ${mtaLabel} queue id` });
      continue;
    }
    if (refusal) {
      skipped.push({ id, reason: refusal });
      continue;
    }
    const exp = req.expect?.[id];
    if (exp !== undefined) {
      const sp = senderProblem(exp.sender);
      if (sp) {
        skipped.push({ id, reason: sp });
        continue;
      }
    } else if (needSender(req)) {
      skipped.push({ id, reason: 'no expected sender for this id (request.expect): cannot re-check it' });
      continue;
    }
    ids.push(id);
  }
  return refusal === undefined ? { ids, skipped } : { ids, skipped, refusal };
}

const LINE = /^__MAILSWEEP_PURGE__ (\S+) (match|skip|done|fail|abort|paused|resumed|notresumed)(?: (.*))?$/;

export interface PurgeParseOptions {
  /** The ids that went into the command (after preparePurge). */
  sent: string[];
  /** Ids refused before sending. */
  preSkipped: { id: string; reason: string }[];
  /**
   * Confirmation the MTA's own tool printed for this id (e.g. exim "Message X has been
   * removed"): given the "| "-stripped tool lines. Missing confirmation → a warning.
   */
  confirmed?: (id: string, toolLines: string[]) => boolean;
  /** Name of the tool for messages ("exim -Mrm"). */
  tool: string;
}

/** Parse the marker protocol into a PurgeResult. Pure; never throws. */
export function parsePurgeOutput(stdout: string, stderr: string, code: number | null, opts: PurgeParseOptions): PurgeResult {
  const warnings: string[] = [];
  const sent = new Set(opts.sent);
  const verdict = new Map<string, { state: 'match' | 'skip' | 'done' | 'fail'; text: string }>();
  const toolLines: string[] = [];
  let abort: string | null = null;
  const pause: { state: 'paused' | 'resumed' | 'notresumed'; text: string }[] = [];
  const other: string[] = [];
  for (const line of splitLines(stdout)) {
    if (line.startsWith('| ')) {
      toolLines.push(line.slice(2));
      continue;
    }
    if (line === '|') {
      toolLines.push('');
      continue;
    }
    const m = LINE.exec(line);
    if (!m) {
      if (line.trim() !== '') other.push(line);
      continue;
    }
    const id = m[1] ?? '';
    const state = m[2] as 'match' | 'skip' | 'done' | 'fail' | 'abort' | 'paused' | 'resumed' | 'notresumed';
    const text = m[3] ?? '';
    if (state === 'abort') {
      abort = text || 'aborted';
      continue;
    }
    // "- paused <how>" / "- resumed <how>": the queue runner was stopped for the removal and
    // started again; "- notresumed <why>": it was not (a warning: the MTA may be down).
    if (state === 'paused' || state === 'resumed' || state === 'notresumed') {
      pause.push({ state, text: printable(text || state) });
      continue;
    }
    if (!sent.has(id)) {
      warnings.push(`result for an id that was not requested: ${printable(id)}`);
      continue;
    }
    const prev = verdict.get(id);
    // match → done/fail; a skip is final.
    if (prev && prev.state === 'skip') continue;
    verdict.set(id, { state, text });
  }
  if (other.length > 0) warnings.push(`unexpected output: ${failureText(other.join('\n'))}`);
  if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);

  const done: string[] = [];
  const skipped = [...opts.preSkipped];
  for (const id of opts.sent) {
    const v = verdict.get(id);
    if (!v) {
      skipped.push({ id, reason: abort ? `not attempted: ${abort}` : `no result from the server (exit ${code ?? 'none'})` });
      continue;
    }
    if (v.state === 'skip') skipped.push({ id, reason: v.text || 'skipped' });
    else if (v.state === 'fail') skipped.push({ id, reason: `${opts.tool} did not take effect: ${v.text || 'still queued'}` });
    else if (v.state === 'match') skipped.push({ id, reason: `matched, but no outcome was reported (exit ${code ?? 'none'})` });
    else {
      done.push(id);
      if (opts.confirmed && !opts.confirmed(id, toolLines))
        warnings.push(`${id}: verified on the server, but ${opts.tool} printed no confirmation for it`);
    }
  }
  if (abort && opts.sent.length > 0 && done.length === 0 && verdict.size === 0) warnings.push(`aborted: ${abort}`);
  const paused = pause.filter((p) => p.state === 'paused');
  for (const p of pause) if (p.state === 'notresumed') warnings.push(`NOT resumed: ${p.text}`);
  if (paused.length > 0 && !pause.some((p) => p.state !== 'paused'))
    warnings.push(`paused (${paused.map((p) => p.text).join('; ')}) and no report that it was resumed: check the MTA`);
  const notes = pause.map((p) => `${p.state === 'notresumed' ? 'not resumed' : p.state}: ${p.text}`);
  return notes.length > 0 ? { done, skipped, warnings: capWarnings(warnings), notes } : { done, skipped, warnings: capWarnings(warnings) };
}
