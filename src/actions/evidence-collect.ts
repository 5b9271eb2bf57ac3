// What the evidence step reads from the host, read-only and journaled like every command of the
// run: the queue now (counts, the account's ids), sample messages' headers, and the log lines
// that name the account (the lines that attributed its mail to it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_MARKER, logReadCommand, NOLOG_MARKER, NOW_MARKER, UNREADABLE_MARKER } from '../logs/read.js';
import type { StepContext } from '../playbook/types.js';
import { incidentalSecrets, resolveSecret } from './secrets.js';

export interface QueueNow {
  total: number;
  account: number;
  ids: string[];
}

/** The queue as it is now; null when it cannot be read (the bundle says so). */
export async function queueNow(ctx: StepContext, account: string, maxIds: number): Promise<QueueNow | null> {
  const plan = ctx.adapter.attributedQueue(ctx.mtaHost);
  try {
    const r = await ctx.run(plan.command, { destructive: false, timeoutMs: Math.min(ctx.commandTimeoutMs, 300_000) });
    const listing = plan.parse(r.stdout, r.stderr, r.code);
    if (!listing.messages.length && listing.reportedTotal === null && listing.warnings.length) return null;
    const mine = listing.messages.filter((m) => m.authId === account);
    return { total: listing.messages.length, account: mine.length, ids: mine.slice(0, maxIds).map((m) => m.id) };
  } catch {
    return null;
  }
}

/** One message's headers as the MTA shows them; null when it is gone or the MTA has no such view. */
export async function headersOf(ctx: StepContext, id: string): Promise<string | null> {
  const cmd = ctx.adapter.headersCommand(ctx.mtaHost, id);
  if (!cmd) return null;
  try {
    const r = await ctx.run(cmd, { destructive: false, maxBytes: 256 * 1024 });
    return r.code === 0 && r.stdout.trim() ? r.stdout : null;
  } catch {
    return null;
  }
}

export interface LogLines {
  /** Lines that name the account (or a sample id): the first and the last ones when there are more. */
  lines: string[];
  matched: number;
  /** Log lines read in all. */
  read: number;
  files: string[];
  /** Why no line could be read (no log, unreadable, timed out). */
  problem?: string;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The log files of the window (today's and the rotated ones of the last two days), filtered as the
 * scan filters them, keeping the lines that name the account as a whole address (A=…:bob@x,
 * sasl_username=bob@x, authid=bob@x) or one of the sample ids: at most `max`, first half and last half.
 */
export async function logLinesOf(ctx: StepContext, account: string, ids: string[], max: number): Promise<LogLines> {
  const names = new RegExp(`(^|[^A-Za-z0-9._%+=-])${escape(account)}(?![A-Za-z0-9._-]*[A-Za-z0-9])`, 'i');
  const idSet = ids.filter((x) => x.length >= 6);
  const head: string[] = [];
  const last: string[] = [];
  const out: LogLines = { lines: [], matched: 0, read: 0, files: [] };
  const half = Math.max(1, Math.floor(max / 2));
  const cmd = logReadCommand(ctx.adapter.logs, Math.floor(Date.now() / 1000) - 2 * 86400, ctx.mtaHost.mailLog);
  try {
    await ctx.run(cmd, {
      destructive: false,
      onLine: (line) => {
        if (line.startsWith(FILE_MARKER)) return void out.files.push(line.slice(FILE_MARKER.length).trim());
        if (line.startsWith(NOLOG_MARKER)) return void (out.problem = 'no mail log found');
        if (line.startsWith(UNREADABLE_MARKER)) return void (out.problem = 'the mail log directory is not readable');
        if (line.startsWith(NOW_MARKER)) return;
        out.read++;
        if (!names.test(line) && !idSet.some((id) => line.includes(id))) return;
        out.matched++;
        if (head.length < half) head.push(line);
        else {
          last.push(line);
          if (last.length > max - half) last.shift();
        }
      },
    });
  } catch (e) {
    out.problem = `the log could not be read whole: ${(e as Error).message}`;
  }
  const cut = out.matched - head.length - last.length;
  out.lines = cut > 0 ? [...head, `… ${cut} more line(s) …`, ...last] : [...head, ...last];
  return out;
}

/**
 * Every secret the run may have touched, for the bundle's redaction and its final check: the
 * inventory's named secrets (WHM token, WHMCS credentials, SMTP password; read as the actions read
 * them, silently skipped when unset), URL userinfo, and the new password of this run.
 */
export async function knownSecrets(ctx: Pick<StepContext, 'host' | 'runDir'>): Promise<string[]> {
  const vars = ctx.host.vars;
  const out = incidentalSecrets(vars);
  const str = (k: string) => (typeof vars[k] === 'string' && (vars[k] as string).trim() ? (vars[k] as string).trim() : undefined);
  for (const prefix of ['cpanel_token', 'whmcs_identifier', 'whmcs_secret', 'whmcs_accesskey', 'notify_smtp_pass']) {
    const env = str(`${prefix}_env`);
    const file = str(`${prefix}_file`);
    for (const src of [env ? { env, key: `${prefix}_env` } : null, file ? { file } : null]) {
      if (!src) continue;
      try {
        out.push(await resolveSecret(src, prefix));
      } catch {
        // Not set here: nothing of it can be in the bundle either.
      }
    }
  }
  try {
    const line = readFileSync(join(ctx.runDir, 'new-password'), 'utf8');
    const pw = line.split('\t')[1]?.trim();
    if (pw) out.push(pw);
  } catch {
    // No password was set in this run.
  }
  return [...new Set(out.filter((s) => s.length >= 4))];
}
