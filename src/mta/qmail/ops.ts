// qmail incident operations (no lab host: documented behaviour, qmHandle style). The rule by which
// a queued qmail message is tied to an SMTP AUTH account is in proof.ts (the scan uses it too),
// and is re-checked at delete time by its awk twin, scripts/proof.awk.
//
// qmail has no queue tool that deletes, and qmail-send must not run while queue files are
// removed (qmHandle stops it first). The purge command is a fixed script (scripts/purge.sh); ids,
// expected senders and recipients and the auth id come on its stdin, hex-encoded (purge-stdin.ts),
// and are compared as hex with the server's bytes (scripts/verdict.awk). A purge is:
//   1. re-check every id (the inode number qmail-qread prints): its info/<split>/<id> file
//      exists and names the sender the listing showed ("F<sender>\0"); kind bounce: empty, and
//      every recipient still to deliver (T records of local/remote) is one the listing showed —
//      inode numbers are reused, this is what keeps a new message under an old id safe;
//      kind auth: in addition, the mess file proves that account submitted it (proof.ts, run
//      on the server by scripts/proof.awk and compared with the auth id byte for byte);
//   2. stop qmail-send the way it is supervised (qctl, supervise.ts) and wait until no
//      qmail-send runs: it exits only once its deliveries in progress end, so qmail-remote
//      attempts still hanging then are ended (deferred, retried later) — if it still does not
//      stop, nothing is touched. From the stop on, an EXIT trap starts it again whatever
//      happens (also on HUP/INT/TERM/PIPE), reported as "- resumed" / "- notresumed";
//   3. the same re-check once more, now that qmail-send is down; then remove the id's file from
//      every queue subdirectory (mess, info, local, remote: split by conf-split; intd, todo:
//      split or not, depending on the build; bounce);
//   4. start qmail-send again (the trap).
// There is no hold.

import { QMAIL_ID, qmailPathExtra, qmailQueueDir } from './host.js';
import { sh, type Sh } from '../../transport/quote.js';
import { parsePurgeOutput } from '../purge-protocol.js';
import { prepareStdinPurge, purgeStdinText } from '../purge-stdin.js';
import { scriptSource, serverScript } from '../script.js';
import { qmailProofSettings } from './proof.js';
import { qmailSuperviseSettings, type QmailSuperviseOptions } from './supervise.js';
import { RESTART_MARKER, parseRestartOutput } from '../restart-fragments.js';
import { failureText, splitLines } from '../util.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from '../types.js';

/** Seconds to wait for qmail-send to exit once in-progress qmail-remote deliveries were ended. */
export const QMAIL_AFTER_KILL_WAIT = 30;

/**
 * The purge command: scripts/purge.sh (the steps above) with its verdict (scripts/verdict.awk),
 * the proof (scripts/proof.sh, proof.awk) and the supervision (scripts/supervise.sh). The ids
 * and everything compared go on its stdin (purgeStdinText), never into the command.
 */
export function qmailPurgeCommand(ctx: MtaContext, req: PurgeRequest, sup: QmailSuperviseOptions = {}): Sh {
  return serverScript('qmail/scripts/purge.sh', {
    MS_PATH_EXTRA: qmailPathExtra(ctx),
    MS_QUEUE: qmailQueueDir(ctx),
    MS_KIND: req.match.kind === 'auth' ? 'auth' : 'bounce',
    MS_VERDICT_AWK: scriptSource('qmail/scripts/verdict.awk'),
    MS_AFTER_KILL_WAIT: QMAIL_AFTER_KILL_WAIT,
    ...qmailProofSettings(ctx),
    ...qmailSuperviseSettings(sup),
  });
}

/** `sup`: supervise.sh's settings (tests only). */
export function qmailPurge(ctx: MtaContext, req: PurgeRequest, sup: QmailSuperviseOptions = {}): ReadPlan<PurgeResult> {
  const prep = prepareStdinPurge(req, QMAIL_ID, 'qmail', (r) => r.match.kind === 'auth');
  if (req.mode === 'hold' && !prep.refusal) {
    // qmail cannot hold one message: refuse rather than do something else.
    for (const id of prep.ids) prep.skipped.push({ id, reason: 'qmail has no hold for single messages: not touched' });
    prep.ids = [];
  }
  const pre = prep.skipped;
  const ids = prep.ids;
  const parse = (stdout: string, stderr: string, code: number | null): PurgeResult =>
    parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: pre, tool: 'queue file removal' });
  if (ids.length === 0) return { command: sh`true`, parse };
  return { command: qmailPurgeCommand(ctx, req, sup), stdin: purgeStdinText(req, ids), parse };
}

/**
 * Restart qmail-send the way it is supervised (supervise.ts, scripts/restart.sh), report how, and
 * check that a qmail-send runs afterwards with a NEW pid. `sup`: supervise.sh's settings (tests).
 */
export function qmailRestart(ctx: MtaContext, sup: QmailSuperviseOptions = {}): ReadPlan<RestartResult> {
  return {
    command: serverScript('qmail/scripts/restart.sh', { MS_PATH_EXTRA: qmailPathExtra(ctx), ...qmailSuperviseSettings(sup) }),
    parse: (stdout, stderr, code) => qmailRestartResult(stdout, stderr, code),
  };
}

/** parseRestartOutput, plus qmail's own checks: the pid changed; why nothing was found. */
export function qmailRestartResult(stdout: string, stderr: string, code: number | null): RestartResult {
  const r = parseRestartOutput(stdout, stderr, code, 'qmail-send');
  const marker = (k: string): string | undefined => new RegExp(`^${RESTART_MARKER} ${k} ([0-9]+)$`, 'm').exec(stdout)?.[1];
  const tool = splitLines(stdout)
    .filter((l) => l.startsWith('| '))
    .map((l) => l.slice(2))
    .join('\n');
  if (/^__MAILSWEEP_RESTART__ how none$/m.test(stdout))
    return { ok: false, detail: `qmail-send: no way to restart found: ${failureText(tool)}` };
  const before = marker('before');
  if (r.ok && before !== undefined && before === marker('running'))
    return { ok: false, detail: `${r.detail}: not restarted (qmail-send exits only once its deliveries in progress end; check it)` };
  return r;
}

export const qmailOps: MtaOperations = { restart: qmailRestart, purge: qmailPurge };
