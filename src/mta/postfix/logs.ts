// Postfix maillog: smtpd `QID: client=host[ip], sasl_method=…, sasl_username=…` joined by queue
// id to qmgr `QID: from=<…>, size=…, nrcpt=…`, plus `SASL … authentication failed` warnings.
// NOQUEUE and `QID: reject:` lines are not submissions.

import { ParserBase, bareIp, boundedSet, runParser } from '../../logs/line.js';
import { SyslogClock } from '../../logs/time.js';
import type { LogEvents, LogLineParser, LogParserOptions, LogSink, Submission, MtaLogFormat } from '../../logs/types.js';

const QID = '([0-9A-Za-z]{5,20})';
const CLIENT = new RegExp(`^${QID}: client=([^\\s[\\],]*)\\[([^\\]]*)\\](?::\\d+)?(.*)$`, 's');
const QMGR = new RegExp(`^${QID}: from=<(.*?)>, size=(\\d+), nrcpt=(\\d+)`, 's');
const REMOVED = new RegExp(`^${QID}: removed$`);
const PICKUP = new RegExp(`^${QID}: uid=(\\d+) from=<(.*)>$`, 's');
const SASL_FAIL = /^warning: ([^\s[\]]*)\[([^\]]*)\](?::\d+)?: SASL (\S+) authentication failed:?(.*)$/s;

const POSTFIX_DAEMONS = new Set(['smtpd', 'qmgr', 'pickup', 'postscreen']);

/** Queue ids waiting for their qmgr line (smtpd saw the client, qmgr has not logged yet). */
const MAX_PENDING = 20_000;
/** Queue ids already counted: qmgr logs a deferred message again each time it is retried. */
const MAX_SEEN = 200_000;

interface Pending {
  time: number | null;
  clientIp?: string;
  clientHost?: string;
  authId?: string;
  authenticator?: string;
  uid?: number;
}

export function createPostfixLogParser(opts: LogParserOptions = {}): LogLineParser {
  return new PostfixLogParser(new SyslogClock(opts));
}

class PostfixLogParser extends ParserBase implements LogLineParser {
  private pending = new Map<string, Pending>();
  private seen = new Map<string, true>();

  feed(line: string, sink: LogSink): void {
    const p = this.prefix(line, sink);
    const rest = p.rest;
    // syslog_name varies (postfix, postfix-out, postfix/submission…): go by the daemon name
    const daemon = p.program === undefined ? '' : p.program.slice(p.program.lastIndexOf('/') + 1);
    if (daemon !== '' && !POSTFIX_DAEMONS.has(daemon)) return; // amavis, dovecot, opendkim…

    let m = QMGR.exec(rest);
    if (m) {
      const qid = m[1] ?? '';
      const pend = this.pending.get(qid);
      this.pending.delete(qid);
      if (this.seen.has(qid)) return; // a deferred message back in the active queue
      boundedSet(this.seen, qid, true, MAX_SEEN);
      const s: Submission = {
        time: pend?.time ?? p.time,
        queueId: qid,
        sender: m[2] ?? '',
        size: Number(m[3]),
        recipients: Number(m[4]),
        source: 'postfix-qmgr',
      };
      if (pend) copyPending(pend, s);
      this.emit(s, sink);
      return;
    }

    m = CLIENT.exec(rest);
    if (m) {
      const qid = m[1] ?? '';
      const pend: Pending = { time: p.time };
      const ip = bareIp(m[3] ?? '');
      if (ip !== undefined) pend.clientIp = ip;
      if (m[2] !== undefined && m[2] !== '') pend.clientHost = m[2];
      const tail = m[4] ?? '';
      const method = /, sasl_method=([^,]*)/.exec(tail);
      if (method) pend.authenticator = method[1];
      const user = /, sasl_username=(.*?)(?:, sasl_sender=.*)?$/s.exec(tail);
      if (user && user[1] !== '') pend.authId = user[1];
      this.remember(qid, pend, sink);
      return;
    }

    m = PICKUP.exec(rest);
    if (m) {
      this.remember(m[1] ?? '', { time: p.time, uid: Number(m[2]) }, sink);
      return;
    }

    m = REMOVED.exec(rest);
    if (m) {
      const qid = m[1] ?? '';
      this.seen.delete(qid);
      const pend = this.pending.get(qid);
      if (pend) {
        this.pending.delete(qid);
        this.unconfirmed(qid, pend, sink);
      }
      return;
    }

    if (rest.includes('authentication failed')) {
      const f = SASL_FAIL.exec(rest);
      if (!f) {
        if (rest.includes('SASL')) this.malformed('postfix SASL failure not understood', line, sink);
        return;
      }
      const ip = bareIp(f[2] ?? '');
      const user = /, sasl_username=(.*)$/s.exec(f[4] ?? '');
      this.counts.failures++;
      sink.failure({
        time: p.time,
        authenticator: f[3],
        ...(ip !== undefined ? { clientIp: ip } : {}),
        ...(user && user[1] !== '' ? { user: user[1] } : {}),
      });
    }
  }

  end(sink: LogSink): void {
    for (const [qid, pend] of this.pending) this.unconfirmed(qid, pend, sink);
    this.pending.clear();
  }

  private remember(qid: string, pend: Pending, sink: LogSink): void {
    this.seen.delete(qid); // a new message under a reused id
    for (const [oldId, old] of boundedSet(this.pending, qid, pend, MAX_PENDING)) this.unconfirmed(oldId, old, sink);
  }

  /** An authenticated transaction that never reached the queue manager (all RCPTs rejected…). */
  private unconfirmed(qid: string, pend: Pending, sink: LogSink): void {
    if (pend.authId === undefined && pend.authenticator === undefined) return;
    const s: Submission = { time: pend.time, queueId: qid, unconfirmed: true, source: 'postfix-smtpd' };
    copyPending(pend, s);
    this.emit(s, sink);
  }

  private emit(s: Submission, sink: LogSink): void {
    this.counts.submissions++;
    sink.submission(s);
  }
}

function copyPending(pend: Pending, s: Submission): void {
  if (pend.authId !== undefined) s.authId = pend.authId;
  if (pend.authenticator !== undefined) s.authenticator = pend.authenticator;
  if (pend.clientIp !== undefined) s.clientIp = pend.clientIp;
  if (pend.clientHost !== undefined) s.clientHost = pend.clientHost;
  if (pend.uid !== undefined) s.uid = pend.uid;
}

export function parsePostfixLog(text: string, opts: LogParserOptions = {}): LogEvents {
  return runParser(createPostfixLogParser(opts), text);
}

/** Where postfix logs (first existing wins), the lines that matter, and their parser. */
export const postfixLogFormat: MtaLogFormat = {
  candidates: ['/var/log/mail.log', '/var/log/maillog', '/var/log/postfix.log'],
  filters: ['sasl_username=', ': from=<', 'authentication failed', ': removed'],
  create: createPostfixLogParser,
  parse: parsePostfixLog,
};
