// Run the log window read on a host and aggregate per account, streaming (memory stays flat).
import type { MtaName } from '../mta/types.js';
import { AuthAggregator, type FailureStats, type UserStats } from '../logs/aggregate.js';
import type { BurstSettings } from '../logs/auth-ips.js';
import { hostAuth } from '../correlate/host-auth.js';
import type { HostAuth } from '../correlate/types.js';
import { FILE_MARKER, logReadCommand, NOLOG_MARKER, NOW_MARKER, parseNowLine, UNREADABLE_MARKER } from '../logs/read.js';
import type { LogLineParser, LogSink, MtaLogFormat } from '../logs/types.js';
import { TransportError } from '../errors.js';
import type { ExecResult, Transport } from '../transport/types.js';

export interface LogWindow {
  /** Files read, oldest first. */
  files: string[];
  /** Null when the log could not be read whole (missing, unreadable, timed out: why in `reason`). */
  users: UserStats[] | null;
  failures: FailureStats | null;
  /** Logins per account and client IP, failure bursts: the host's part of the fleet correlation. */
  auth: HostAuth | null;
  lines: number;
  warnings: string[];
  /** Why attribution is partial; shown as an info finding (rule `log`). */
  reason?: string;
  /** Server clock and offset, for "today". */
  nowSeconds: number | null;
  tzOffsetMinutes: number;
}

/** Day of an epoch in a fixed UTC offset, YYYY-MM-DD. */
export function localDay(epochSeconds: number, tzOffsetMinutes: number): string {
  return new Date((epochSeconds + tzOffsetMinutes * 60) * 1000).toISOString().slice(0, 10);
}

/** Start of the local day containing `epoch` (the default window: today). */
export function startOfLocalDay(epochSeconds: number, tzOffsetMinutes: number): number {
  const local = epochSeconds + tzOffsetMinutes * 60;
  return local - (local % 86400) - tzOffsetMinutes * 60;
}

/**
 * `since` 'today' means midnight in the server's own time zone (learnt from the command's first
 * line); rotated files are picked by mtime with a two-day margin, lines by their own timestamps.
 */
export async function readLogWindow(
  transport: Transport,
  mta: MtaName,
  format: MtaLogFormat,
  mailLog: readonly string[] | undefined,
  since: number | 'today',
  timeoutMs: number,
  burst?: BurstSettings,
): Promise<LogWindow & { sinceEpoch: number }> {
  const out: LogWindow & { sinceEpoch: number } = {
    files: [],
    users: null,
    failures: null,
    auth: null,
    lines: 0,
    warnings: [],
    nowSeconds: null,
    tzOffsetMinutes: 0,
    sinceEpoch: since === 'today' ? startOfLocalDay(Math.floor(Date.now() / 1000), 0) : since,
  };
  const fileCutoff = since === 'today' ? Math.floor(Date.now() / 1000) - 2 * 86400 : since;
  let sinceEpoch = out.sinceEpoch;
  let parser: LogLineParser | null = null;
  let agg: AuthAggregator | null = null;
  let noLog: string | null = null;
  const sink: LogSink = {
    // Lines from rotated files can be older than the window: the window is by time, not by file.
    submission: (s) => {
      if (s.time === null || s.time >= sinceEpoch) agg!.add(s);
    },
    failure: (f) => {
      if (f.time === null || f.time >= sinceEpoch) agg!.addFailure(f);
    },
    warning: (w) => {
      if (out.warnings.length < 20) out.warnings.push(w);
    },
  };
  const start = () => {
    parser ??= format.create({ nowSeconds: out.nowSeconds ?? undefined, tzOffsetMinutes: out.tzOffsetMinutes });
    agg ??= new AuthAggregator({ tzOffsetMinutes: out.tzOffsetMinutes, ...(burst ? { burst } : {}) });
  };
  const unreadable: string[] = [];
  let res: ExecResult;
  try {
    res = await transport.exec(logReadCommand(format, fileCutoff, mailLog), {
      timeoutMs,
      onLine: (line) => {
        if (line.startsWith(NOW_MARKER)) {
          const now = parseNowLine(line.slice(NOW_MARKER.length));
          if (now) {
            Object.assign(out, now);
            if (since === 'today') sinceEpoch = out.sinceEpoch = startOfLocalDay(now.nowSeconds, now.tzOffsetMinutes);
          }
          return;
        }
        if (line.startsWith(NOLOG_MARKER)) return void (noLog = line.slice(NOLOG_MARKER.length).trim());
        if (line.startsWith(UNREADABLE_MARKER)) return void unreadable.push(line.slice(UNREADABLE_MARKER.length).trim());
        if (line.startsWith(FILE_MARKER)) {
          start();
          out.files.push(line.slice(FILE_MARKER.length).trim());
          return;
        }
        start();
        out.lines++;
        parser!.feed(line, sink);
      },
    });
  } catch (e) {
    // The queue is already read: a log that cannot be read costs attribution, never the host.
    if (!(e instanceof TransportError)) throw e;
    const at = out.files.length ? ` (reading ${out.files[out.files.length - 1]}, ${out.lines} lines so far)` : '';
    out.reason =
      e.kind === 'timeout'
        ? `log read timed out after ${seconds(timeoutMs)}${at}: ${QUEUE_ONLY}`
        : `log read failed${at}: ${e.message}: ${QUEUE_ONLY}`;
    return out;
  }
  if (noLog !== null) {
    out.reason = unreadable.length
      ? `cannot read the ${mta} log: ${unreadable.join(', ')} is not accessible (permission denied; run as root or set ansible_become): ${QUEUE_ONLY}`
      : `no ${mta} log found (tried ${noLog}; set mail_log in the inventory): ${QUEUE_ONLY}`;
    return out;
  }
  if (res.code !== 0 && !out.files.length) {
    out.reason = `reading the ${mta} log failed (exit ${res.code}): ${res.stderr.split('\n')[0] ?? ''}: ${QUEUE_ONLY}`;
    return out;
  }
  if (unreadable.length) {
    // Counts without a file of the window would be too low, and would be recorded as the baseline.
    out.reason = `cannot read ${unreadable.join(', ')} (permission denied; run as root or set ansible_become): ${QUEUE_ONLY}`;
    return out;
  }
  start();
  parser!.end(sink);
  out.users = agg!.result();
  out.failures = agg!.failureStats();
  out.auth = hostAuth(out.users, agg!.authIps);
  return out;
}

/** What attribution falls back to when the log is out of reach. */
const QUEUE_ONLY = 'attribution from the queue only';

/** "30 s", "1.5 s". */
function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The window when the log was not read at all (no time left): queue-only attribution. */
export function unreadWindow(since: number | 'today', reason: string): LogWindow & { sinceEpoch: number } {
  return {
    files: [],
    users: null,
    failures: null,
    auth: null,
    lines: 0,
    warnings: [],
    nowSeconds: null,
    tzOffsetMinutes: 0,
    reason,
    sinceEpoch: since === 'today' ? startOfLocalDay(Math.floor(Date.now() / 1000), 0) : since,
  };
}
