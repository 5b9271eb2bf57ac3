// Sendmail maillog. At LogLevel ≥ 9 (10 on some builds) a session that authenticates logs a line
// without queue id, `AUTH=server, relay=…, authid=…, mech=…, bits=…`; each message it then sends
// logs `QID: from=…, nrcpts=N, … relay=…` from the same process. Which from= line belongs to which
// AUTH line is the rule of join.ts (the attribution and the purge use it too); one AUTH line can
// cover several messages. An AUTH line that no from= line follows is reported as an unconfirmed
// (login-only) submission.

import { SENDMAIL_LOGS } from './host.js';
import { ParserBase, bareIp, bareSender, runParser } from '../../logs/line.js';
import { SendmailJoin, parseAuthLine, parseFromLine, sendmailLine } from './join.js';
import { SyslogClock } from '../../logs/time.js';
import type { LogEvents, LogLineParser, LogParserOptions, LogSink, Submission, MtaLogFormat } from '../../logs/types.js';

const FROM = /^([0-9A-Za-z]{8,20}): from=(.*?), size=(\d+), class=-?\d+, nrcpts=(\d+)(.*)$/s;
const AUTH_FAIL = /^(?:[0-9A-Za-z]{8,20}: )?AUTH failure \(([^)]*)\):(.*)$/s;

/** Open sessions kept at most (a log is a stream): the oldest is reported and dropped first. */
const MAX_PENDING = 10_000;

export interface Relay {
  host?: string;
  ip?: string;
}

/** The LAST `relay=` of a line (`host [ip] (may be forged)`, `[ip]`, `[IPv6:…]`, `host`). */
export function parseRelay(text: string): Relay | undefined {
  const at = text.lastIndexOf('relay=');
  if (at < 0) return undefined;
  const rest = text.slice(at + 6);
  const m = /^(?:([^\s,[]+) )?\[([^\]]*)\]/.exec(rest);
  if (m) {
    const ip = bareIp(m[2] ?? '');
    return { ...(m[1] !== undefined ? { host: m[1] } : {}), ...(ip !== undefined ? { ip } : {}) };
  }
  const h = /^([^\s,]+)/.exec(rest);
  return h ? { host: h[1] } : undefined;
}

interface Session {
  time: number | null;
  authId?: string;
  mech?: string;
  relay?: Relay;
  used: number;
}

export function createSendmailLogParser(opts: LogParserOptions = {}): LogLineParser {
  return new SendmailLogParser(new SyslogClock(opts));
}

class SendmailLogParser extends ParserBase implements LogLineParser {
  private sink: LogSink | undefined;
  private readonly join = new SendmailJoin<Session>((s) => this.close(s.data), MAX_PENDING);

  feed(line: string, sink: LogSink): void {
    this.sink = sink;
    const p = this.prefix(line, sink);
    const rest = p.rest;
    // The join's view of the line (join.ts rule 1): sendmail's, its session key host and pid.
    const sl = sendmailLine(line);

    const m = FROM.exec(rest);
    if (m) {
      const nrcpts = Number(m[4]);
      if (nrcpts === 0) return; // every RCPT was rejected: nothing accepted
      const relay = parseRelay(m[5] ?? '');
      const s: Submission = {
        time: p.time,
        queueId: m[1],
        sender: bareSender(m[2] ?? ''),
        size: Number(m[3]),
        recipients: nrcpts,
        source: 'sendmail-from',
      };
      if (relay?.ip !== undefined) s.clientIp = relay.ip;
      if (relay?.host !== undefined) s.clientHost = relay.host;
      const from = sl && parseFromLine(sl.body);
      const sess = sl && from ? this.join.from(sl.key, from)?.data : undefined;
      if (sess) {
        sess.used++;
        if (sess.authId !== undefined) s.authId = sess.authId;
        if (sess.mech !== undefined) s.authenticator = sess.mech;
      }
      this.emit(s, sink);
      return;
    }

    const auth = sl && parseAuthLine(sl.body);
    if (sl && auth !== undefined) {
      const sess: Session = { time: p.time, used: 0 };
      if (auth) {
        const r = parseRelay(`relay=${auth.relay}`);
        if (r) sess.relay = r;
        if (auth.authId !== '') sess.authId = auth.authId;
        sess.mech = auth.mech;
      }
      this.join.auth(sl.key, auth, sess);
      return;
    }

    if (rest.includes('AUTH failure')) {
      const f = AUTH_FAIL.exec(rest);
      if (!f) return;
      const text = f[2] ?? '';
      // user= is taken up to the first comma: `user=criminal, relay=[forged], relay=[real]`
      const user = /(?:^|[\s,])user=([^,]*)/.exec(text);
      const relay = parseRelay(text);
      this.counts.failures++;
      sink.failure({
        time: p.time,
        authenticator: f[1],
        ...(relay?.ip !== undefined ? { clientIp: relay.ip } : {}),
        ...(user && user[1] !== '' ? { user: user[1] } : {}),
      });
    }
  }

  end(sink: LogSink): void {
    this.sink = sink;
    this.join.end();
  }

  /** A session is over: if it authenticated but sent nothing we saw, report the login. */
  private close(sess: Session): void {
    const sink = this.sink;
    if (sess.used > 0 || !sink) return;
    const s: Submission = { time: sess.time, unconfirmed: true, source: 'sendmail-auth' };
    if (sess.authId !== undefined) s.authId = sess.authId;
    s.authenticator = sess.mech ?? 'AUTH';
    if (sess.relay?.ip !== undefined) s.clientIp = sess.relay.ip;
    if (sess.relay?.host !== undefined) s.clientHost = sess.relay.host;
    this.emit(s, sink);
  }

  private emit(s: Submission, sink: LogSink): void {
    this.counts.submissions++;
    sink.submission(s);
  }
}

export function parseSendmailLog(text: string, opts: LogParserOptions = {}): LogEvents {
  return runParser(createSendmailLogParser(opts), text);
}

/** Where sendmail logs (first existing wins), the lines that matter, and their parser. */
export const sendmailLogFormat: MtaLogFormat = {
  candidates: SENDMAIL_LOGS,
  filters: ['AUTH=server', 'from=', 'AUTH failure'],
  create: createSendmailLogParser,
  parse: parseSendmailLog,
};
