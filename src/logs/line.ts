// The part of a log line before the message: timestamp, host, program[pid]. Shared by all MTAs.

import { isIPv6 } from 'node:net';
import { lineWarning, splitLines } from '../text/lines.js';
import { SyslogClock, tai64nToEpoch } from './time.js';
import type { LogEvents, LogLineParser, LogSink, ParserStats } from './types.js';

export interface LinePrefix {
  /** Epoch seconds; null when there is no stamp or it could not be read. */
  time: number | null;
  /** A stamp was present (so time === null means it was unreadable or yearless). */
  stamped: boolean;
  host?: string;
  program?: string;
  pid?: number;
  /** The message after the prefix. */
  rest: string;
}

const TAI = /^(@[0-9a-fA-F]{24}) (.*)$/s;
const ISO = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?: ?(?:Z|[+-]\d{2}:?\d{2}))?) (.*)$/s;
const SYSLOG = /^([A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2}) (.*)$/s;
const FACILITY = /^<[a-z0-9]+\.[a-z]+> (.*)$/s;
/** `host program[pid]: ` or `host program: ` after a syslog stamp (host is mandatory there). */
const HOST_PROG = /^(\S+) ([^\s[\]:]+)(?:\[(\d+)\])?: ?(.*)$/s;
/** Same, but the pid is required: used where a bare `word word: ` could be the message itself. */
const HOST_PROG_PID = /^(\S+) ([A-Za-z][\w./-]*)\[(\d+)\]: ?(.*)$/s;

export function splitPrefix(line: string, clock: SyslogClock): LinePrefix {
  let m = TAI.exec(line);
  if (m) return { time: tai64nToEpoch(m[1] ?? ''), stamped: true, rest: m[2] ?? '' };

  m = SYSLOG.exec(line);
  if (m) return withHost(clock.syslog(m[1] ?? ''), m[2] ?? '', HOST_PROG);

  m = ISO.exec(line);
  if (m) {
    const time = clock.iso(m[1] ?? '');
    const stamp = m[1] ?? '';
    // RFC 3339 (rsyslog) lines always carry a host; exim's own log only sometimes does.
    return withHost(time, m[2] ?? '', stamp.includes('T') ? HOST_PROG : HOST_PROG_PID);
  }

  // journald/syslog without a stamp of its own: `host exim[pid]: 2021-07-17 23:20:49 …`
  const hp = HOST_PROG_PID.exec(line);
  if (hp) {
    const inner = ISO.exec(hp[4] ?? '');
    if (inner) {
      return {
        time: clock.iso(inner[1] ?? ''),
        stamped: true,
        host: hp[1],
        program: hp[2],
        pid: Number(hp[3]),
        rest: inner[2] ?? '',
      };
    }
  }
  return { time: null, stamped: false, rest: line.replace(/^\s+/, '') };
}

function withHost(time: number | null, after: string, re: RegExp): LinePrefix {
  let rest = after;
  const f = FACILITY.exec(rest);
  if (f) rest = f[1] ?? '';
  const hp = re.exec(rest);
  if (!hp) return { time, stamped: true, rest };
  return {
    time,
    stamped: true,
    host: hp[1],
    program: hp[2],
    pid: hp[3] === undefined ? undefined : Number(hp[3]),
    rest: hp[4] ?? '',
  };
}

const MAX_WARNINGS = 50;

/** Line counting, capped warnings and the one-time "no year" notice, shared by the parsers. */
export class ParserBase {
  readonly clock: SyslogClock;
  protected counts: ParserStats = { lines: 0, submissions: 0, failures: 0, malformed: 0, badTime: 0 };
  private warned = 0;
  private yearWarned = false;

  constructor(clock: SyslogClock) {
    this.clock = clock;
  }

  stats(): ParserStats {
    return { ...this.counts };
  }

  /** Split the prefix, count the line, note an unreadable stamp. */
  protected prefix(line: string, sink: LogSink): LinePrefix {
    this.counts.lines++;
    const p = splitPrefix(line, this.clock);
    if (p.stamped && p.time === null) {
      this.counts.badTime++;
      if (!this.yearWarned) {
        this.yearWarned = true;
        sink.warning(lineWarning(this.counts.lines, 'timestamp not usable (yearless syslog dates need nowSeconds or year)', line));
      }
    }
    return p;
  }

  protected malformed(why: string, line: string, sink: LogSink): void {
    this.counts.malformed++;
    if (this.warned < MAX_WARNINGS) sink.warning(lineWarning(this.counts.lines, why, line));
    else if (this.warned === MAX_WARNINGS) sink.warning(`more malformed lines not shown`);
    this.warned++;
  }
}

/**
 * Client IP in brackets: IPv4, IPv6, or sendmail's `IPv6:` form; returns the bare address.
 * IPv6 comes back in its canonical RFC 5952 text (sendmail 8.17 logs ::1 as
 * `IPv6:0:0:0:0:0:0:0:1`, exim and postfix as `::1`: one client must count once), and an
 * IPv4-mapped address (`::ffff:192.0.2.1`, dual-stack listeners) as the IPv4 it is.
 */
export function bareIp(text: string): string | undefined {
  const t = text.replace(/^IPv6:/i, '');
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(t)) return t;
  if (!t.includes(':') || !isIPv6(t)) return undefined;
  const zone = t.indexOf('%'); // fe80::1%eth0: the URL parser takes no zone; keep it as logged
  const addr = zone < 0 ? t : t.slice(0, zone);
  let host: string;
  try {
    // The WHATWG URL parser serialises IPv6 hosts canonically (lower case, longest zero run as ::).
    host = new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  } catch {
    return t.toLowerCase();
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped && zone < 0) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return zone < 0 ? host : host + t.slice(zone);
}

/** Envelope sender as logged (`<a@b>`, `<>`, `a@b`) → without brackets, '' for null. */
export function bareSender(text: string): string {
  const m = /^<(.*)>$/s.exec(text);
  return m ? (m[1] ?? '') : text;
}

/** Feed every line of `text` to a parser and collect what it emits (small inputs, tests). */
export function runParser(parser: LogLineParser, text: string): LogEvents {
  const out: LogEvents = { submissions: [], failures: [], warnings: [] };
  const sink: LogSink = {
    submission: (s) => out.submissions.push(s),
    failure: (f) => out.failures.push(f),
    warning: (w) => out.warnings.push(w),
  };
  for (const line of splitLines(text)) parser.feed(line, sink);
  parser.end(sink);
  return out;
}

/** A Map used as a bounded FIFO: inserting past `cap` drops (and returns) the oldest entries. */
export function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, cap: number): [K, V][] {
  map.delete(key);
  map.set(key, value);
  const dropped: [K, V][] = [];
  while (map.size > cap) {
    const first = map.entries().next().value as [K, V] | undefined;
    if (!first) break;
    map.delete(first[0]);
    dropped.push(first);
  }
  return dropped;
}
