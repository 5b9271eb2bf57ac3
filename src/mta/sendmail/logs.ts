// Sendmail maillog. At LogLevel ≥ 9 (10 on some builds) a session that authenticates logs a line
// without queue id, `AUTH=server, relay=…, authid=…, mech=…, bits=…`; each message it then sends
// logs `QID: from=…, nrcpts=N, … relay=…` from the same process. We join the two on the process
// id AND the relay, within a few hours; one AUTH line can cover several messages. An AUTH line
// that no from= line follows is reported as an unconfirmed (login-only) submission.

import { SENDMAIL_LOGS } from './host.js';
import { ParserBase, bareIp, bareSender, boundedSet, runParser } from '../../logs/line.js';
import { SyslogClock } from '../../logs/time.js';
import type { LogEvents, LogLineParser, LogParserOptions, LogSink, Submission, MtaLogFormat } from '../../logs/types.js';

const AUTH_SERVER = /^(?:[0-9A-Za-z]{8,20}: )?AUTH=server, (.*)$/s;
const FROM = /^([0-9A-Za-z]{8,20}): from=(.*?), size=(\d+), class=-?\d+, nrcpts=(\d+)(.*)$/s;
const AUTH_FAIL = /^(?:[0-9A-Za-z]{8,20}: )?AUTH failure \(([^)]*)\):(.*)$/s;

const MAX_PENDING = 10_000;
const JOIN_WINDOW = 6 * 3600;

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

function sameRelay(a: Relay | undefined, b: Relay | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.ip !== undefined || b.ip !== undefined) return a.ip === b.ip;
  return a.host === b.host;
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
  private sessions = new Map<string, Session>();

  feed(line: string, sink: LogSink): void {
    const p = this.prefix(line, sink);
    const rest = p.rest;
    // one session per process: the pid is the key (host too, for logs of several servers)
    const key = `${p.host ?? ''} ${p.pid ?? ''}`;

    let m = FROM.exec(rest);
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
      const sess = p.pid === undefined ? undefined : this.sessions.get(key);
      if (sess && sameRelay(sess.relay, relay) && withinWindow(sess.time, p.time)) {
        sess.used++;
        if (sess.authId !== undefined) s.authId = sess.authId;
        if (sess.mech !== undefined) s.authenticator = sess.mech;
      }
      this.emit(s, sink);
      return;
    }

    m = AUTH_SERVER.exec(rest);
    if (m) {
      const fields = m[1] ?? '';
      const id = /(?:^|, )authid=(.*?)(?:, mech=|$)/s.exec(fields);
      const mech = /, mech=([^,\s]*)/.exec(fields);
      const sess: Session = { time: p.time, used: 0, relay: parseRelay(fields) };
      if (id && id[1] !== '') sess.authId = id[1];
      if (mech) sess.mech = mech[1];
      const old = this.sessions.get(key);
      if (old) this.close(old, sink);
      if (p.pid === undefined) {
        this.close(sess, sink); // cannot be joined without a pid
        return;
      }
      for (const [, dropped] of boundedSet(this.sessions, key, sess, MAX_PENDING)) this.close(dropped, sink);
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
    for (const sess of this.sessions.values()) this.close(sess, sink);
    this.sessions.clear();
  }

  /** A session is over: if it authenticated but sent nothing we saw, report the login. */
  private close(sess: Session, sink: LogSink): void {
    if (sess.used > 0) return;
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

function withinWindow(authTime: number | null, fromTime: number | null): boolean {
  if (authTime === null || fromTime === null) return true;
  return fromTime >= authTime - 60 && fromTime - authTime <= JOIN_WINDOW;
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
