// Sendmail incident operations. Sendmail has no delete command, so a purge is:
//   1. pause the queue runners (shared/scripts/runner-pause.sh: the daemon SIGSTOPped for the
//      window, a queue runner holding a matched qf lock killed — sendmail -Q skips a locked job);
//   2. re-check every id on the server (request on stdin, hex-encoded; one awk over the qf files):
//      its qf file still exists, its S line is the sender the listing showed, byte for byte
//      (request.expect: a reused id is never touched), and for kind auth the mail-log join
//      (the rule of join.ts that attribution and the log parser use, run on the server as its
//      twin scripts/join.awk) still names the auth id; for kind bounce the S line is the null
//      sender and every R line (its undelivered recipients: sendmail drops the delivered ones
//      from the qf) is one of request.expect[id].recipients;
//   3. quarantine the matching ids with sendmail's own `sendmail -qI<id>… -Qmailsweep`
//      (qf → hf: no queue runner picks them up any more; a job another process locked again is
//      freed and tried again, 3 rounds at most);
//   4. delete: remove hf + df (+ xf) of the jobs WE quarantined (hf carries "qmailsweep");
//      hold: leave them quarantined (mailq -qQ lists them; sendmail -qQ -qI<id> -Q releases);
//   5. resume the runners (SIGCONT; also on error, and by a watchdog if the script is killed).
// The command is scripts/purge.sh with its settings: no id, sender or auth id is in it.

import { SENDMAIL_ID, SENDMAIL_LOGS, SENDMAIL_PID_FILES, sendmailBinary } from './host.js';
import { sh, type Sh } from '../../transport/quote.js';
import { parsePurgeOutput } from '../purge-protocol.js';
import { prepareStdinPurge, purgeStdinText } from '../purge-stdin.js';
import { parseRestartOutput } from '../restart-fragments.js';
import { scriptSource, serverScript } from '../script.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from '../types.js';

/** The quarantine reason mailsweep sets (and requires before deleting an hf file). */
export const SENDMAIL_QUARANTINE_REASON = 'mailsweep';

/** Basenames of sendmail's binaries (/proc/PID/exe; Debian's is /usr/lib/sm.bin/sendmail). */
export function sendmailExeNames(ctx: MtaContext): string[] {
  const own = sendmailBinary(ctx).replace(/^.*\//, '');
  return [...new Set(['sendmail', 'sendmail-mta', 'sendmail.sendmail', 'sm-mta', ...(/^[A-Za-z0-9._-]+$/.test(own) ? [own] : [])])];
}

/** The daemon for the purge's pause: the inventory's `mta_pid_file` when set, else the usual pid files. */
function purgePidFiles(ctx: MtaContext): readonly string[] {
  const f = ctx.pidFile;
  return f !== undefined && /^\/[A-Za-z0-9._/-]+$/.test(f) ? [f] : SENDMAIL_PID_FILES;
}

/** The fixed purge script (its size does not depend on the request; the request is on stdin). */
export function sendmailPurgeCommand(ctx: MtaContext, req: PurgeRequest): Sh {
  return serverScript('sendmail/scripts/purge.sh', {
    MS_PATH_EXTRA: '/usr/lib',
    MS_QD: ctx.queueDirectory ?? '',
    MS_KIND: req.match.kind,
    MS_MODE: req.mode,
    MS_LOGS: ctx.mailLog ?? SENDMAIL_LOGS,
    MS_SENDMAIL: sendmailBinary(ctx),
    MS_REASON: SENDMAIL_QUARANTINE_REASON,
    MS_PID_FILES: purgePidFiles(ctx),
    MS_EXE: sendmailExeNames(ctx),
    MS_WATCHDOG: 300,
    MS_JOIN_AWK: scriptSource('sendmail/scripts/join.awk'),
    MS_CHECK_AWK: scriptSource('sendmail/scripts/check.awk'),
  });
}

export function sendmailPurge(ctx: MtaContext, req: PurgeRequest): ReadPlan<PurgeResult> {
  // kind auth needs the listed sender per id (qf S line); for bounces it is '<>' anyway.
  const prep = prepareStdinPurge(req, SENDMAIL_ID, 'sendmail', (r) => r.match.kind === 'auth');
  const ids = prep.ids;
  return {
    command: ids.length === 0 ? sh`true` : sendmailPurgeCommand(ctx, req),
    ...(ids.length === 0 ? {} : { stdin: purgeStdinText(req, ids) }),
    parse: (stdout, stderr, code) =>
      parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: prep.skipped, tool: `sendmail -Q${SENDMAIL_QUARANTINE_REASON}` }),
  };
}

export function sendmailRestart(_ctx: MtaContext): ReadPlan<RestartResult> {
  return {
    command: serverScript('sendmail/scripts/restart.sh', { MS_PID_FILES: SENDMAIL_PID_FILES }),
    parse: (stdout, stderr, code) => parseRestartOutput(stdout, stderr, code, 'sendmail'),
  };
}

export const sendmailOps: MtaOperations = { restart: sendmailRestart, purge: sendmailPurge };
