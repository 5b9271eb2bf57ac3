// Postfix incident operations: purge / hold re-checking each queue file with `postcat -e -q`,
// then `postsuper -d -` (delete) or `postsuper -h -` (hold) with the matching ids on stdin;
// restart through systemd / init script, checked with `postfix status`.
//
// The purge command is a fixed script: ids, expected senders and recipients and the auth id come
// on its stdin, hex-encoded (purge-stdin.ts, purgeStdinText), and are compared as hex with the hex
// of postcat's output (od), line by line, so every byte counts and nothing is re-quoted.
// Re-check per id, on the server at delete time (scripts/verdict.awk):
//   - the queue file is present, and the submission proof (proof.ts, its twin scripts/proof.awk)
//     understands its `postcat -e` dump: whole, markers in order, one sender record;
//   - with request.expect: that sender is the expected one, either byte for byte or as showq
//     prints it (the listing comes from `postqueue -j`: quote_822_local, then printable() with
//     '?' for a control character: real postfix 3.7 lists "a\x1bb c"@x as "\"a?b c\"@x");
//   - kind auth: the proven submitter (sasl_username) is request.match.authId;
//   - kind bounce: the sender is empty, and every undelivered recipient is one of
//     request.expect[id].recipients (in either form above), and there is at least one.
//
// A busy queue runner does not stop the purge, and nothing is paused (observed on the lab's
// bookworm-postfix, postfix 3.7.11, with smtp clients hanging on a relay that accepts TCP and
// never answers): `postsuper -d` removes a message in the active queue while an smtp process
// holds it open; when that attempt ends the agent defers it, qmgr finds no file and the id does
// not come back (a stale defer/<x>/<id> logfile is all that remains); messages qmgr holds in
// memory but has not handed out yet are dropped with "error: open active <id>: No such file".
// `postsuper -h` on such a message moves it to hold, and it stays there. What cannot be undone:
// an attempt already under way has the file open and may still complete that one delivery.

import { POSTFIX_ID, postfixScriptTools } from './host.js';
import { sh, type Sh } from '../../transport/quote.js';
import { parsePurgeOutput } from '../purge-protocol.js';
import { prepareStdinPurge, purgeStdinText } from '../purge-stdin.js';
import { parseRestartOutput } from '../restart-fragments.js';
import { scriptSource, serverScript } from '../script.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from '../types.js';

/**
 * The re-check for every id, in one awk run (scripts/verdict.awk: the submission proof of
 * scripts/proof.awk, then the request's expectations). POSIX awk: mawk, gawk, busybox; LC_ALL=C.
 */
export const POSTFIX_VERDICT_AWK = (): string => scriptSource('postfix/scripts/verdict.awk');

/** The purge script (scripts/purge.sh); the request (ids, senders, auth id) goes on its stdin. */
export function postfixPurgeCommand(ctx: MtaContext, req: PurgeRequest): Sh {
  return serverScript('postfix/scripts/purge.sh', {
    ...postfixScriptTools(ctx, ['postcat', 'postsuper', 'postconf']),
    MS_QD: ctx.queueDirectory ?? '',
    MS_KIND: req.match.kind === 'auth' ? 'auth' : 'bounce',
    MS_MODE: req.mode,
    MS_VERDICT_AWK: POSTFIX_VERDICT_AWK(),
  });
}

/** postsuper's own words: "postsuper: ID: removed" / "postsuper: ID: placed on hold". */
export function postfixConfirmed(mode: 'delete' | 'hold'): (id: string, lines: string[]) => boolean {
  const want = mode === 'delete' ? 'removed' : 'placed on hold';
  return (id, lines) => lines.some((l) => new RegExp(`^postsuper(?:\\[\\d+\\])?: ${id}: ${want}$`).test(l));
}

export function postfixPurge(ctx: MtaContext, req: PurgeRequest): ReadPlan<PurgeResult> {
  const prep = prepareStdinPurge(req, POSTFIX_ID, 'postfix');
  const pre = prep.skipped;
  const ids = prep.ids;
  const tool = `postsuper ${req.mode === 'delete' ? '-d' : '-h'}`;
  const parse = (stdout: string, stderr: string, code: number | null): PurgeResult => {
    const r = parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: pre, confirmed: postfixConfirmed(req.mode), tool });
    // postsuper's summary ("Deleted: N messages" / "Placed on hold: N messages") must agree.
    const summary = new RegExp(
      `^\\| postsuper(?:\\[\\d+\\])?: ${req.mode === 'delete' ? 'Deleted' : 'Placed on hold'}: (\\d+) messages?$`,
      'm',
    ).exec(stdout);
    if (summary && Number(summary[1]) !== r.done.length)
      r.warnings.push(`postsuper reports ${summary[1]} message(s), ${r.done.length} verified`);
    return r;
  };
  if (ids.length === 0) return { command: sh`true`, parse };
  return { command: postfixPurgeCommand(ctx, req), stdin: purgeStdinText(req, ids), parse };
}

export function postfixRestart(ctx: MtaContext): ReadPlan<RestartResult> {
  return {
    command: serverScript('postfix/scripts/restart.sh', {
      ...postfixScriptTools(ctx, ['postfix', 'postconf']),
      MS_SYSTEMD_DIR: '/run/systemd/system',
      MS_LOCK_WAIT: 120,
      MS_WAIT: 20,
    }),
    parse: (stdout, stderr, code) => parseRestartOutput(stdout, stderr, code, 'postfix'),
  };
}

export const postfixOps: MtaOperations = { restart: postfixRestart, purge: postfixPurge };
