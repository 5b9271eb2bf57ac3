// qmail logs: qmail-send (`info msg N: bytes … from <…> qp … uid …`, no AUTH identity ever),
// and the SMTP side, which shows the AUTH identity only with patches:
//  - CHKUSER: `CHKUSER relaying rcpt: from <sender:authuser:identify> remote <helo:host:ip> rcpt <r> : …`
//    (sagredo: `from <sender|remoteinfo/auth:user|chkuser-identify:…> remote <helo:…|remotehostname:…|remotehostip:…>`)
//  - eMPF: `policy_check: local a@b -> remote c@d (AUTHENTICATED SENDER)`
//  - sagredo qmail-smtpd: `mail recv: pid P from <sender> qp Q` (one per accepted message)
//  - indimail qmail-smtpd: `… MAIL from <s> RCPT <r> AUTH <user: AUTH METHOD> Size: N …`, and its
//    failed logins `… AUTH USER [user] status=[N] AUTH METHOD TLS=… auth failure`
//
// Counting choice for the per-recipient lines (CHKUSER, policy_check): they carry no session id,
// so consecutive lines with the same (sender, auth user, client IP) no more than 60 s apart are
// one message, with one recipient per line. A `mail recv … from <sender>` line closes the open
// group of that sender and is the message (so logs with both are not counted twice). Two
// interleaved sessions with identical sender/user/IP within 60 s are counted as one message.

import { ParserBase, bareIp, bareSender, boundedSet, runParser } from '../../logs/line.js';
import { SyslogClock } from '../../logs/time.js';
import type { LogEvents, LogLineParser, LogParserOptions, LogSink, Submission, MtaLogFormat } from '../../logs/types.js';

const INFO_MSG = /^info msg (\d+): bytes (\d+) from (<[^>]*>|\S*) qp (\d+) uid (\d+)/;
const MAIL_RECV = /^mail recv: pid (\d+) from <(.*?)> qp (\d+)/s;
const POLICY = /^policy_check: local (\S*) -> (?:local|remote) (\S*) \(AUTHENTICATED SENDER\)/;
const CHKUSER = /^CHKUSER ([a-z ]+): from <(.*?)> remote <(.*?)> rcpt <(.*?)> : /s;
const INDIMAIL = /^qmail-smtpd: pid (\d+) from (\S+) HELO <.*?> MAIL from <(.*?)> RCPT (.*?) AUTH <(.*?)> Size: (\d+)/s;
/** indimail qmail-smtpd's err_authfailure(): `qmail-smtpd: pid P from IP  AUTH USER [user] status=[N] AUTH METHOD TLS=… auth failure`. */
const INDIMAIL_AUTH_FAIL = /^qmail-smtpd: pid \d+ from (\S+) +AUTH USER \[(.*)\] status=\[-?\d+\] AUTH (\S+)/s;
const GROUP_GAP = 60;
const MAX_GROUPS = 10_000;

interface Group {
  kind: 'chkuser' | 'policy';
  time: number | null;
  last: number | null;
  sender: string;
  authId?: string;
  clientIp?: string;
  clientHost?: string;
  rcpts: number;
  /**
   * A recipient of the group was relayed (CHKUSER "relaying rcpt": the client may relay, i.e.
   * SMTP AUTH or RELAYCLIENT) or eMPF said AUTHENTICATED SENDER. Only then is the user field an
   * auth id: on "accepted rcpt" lines alone it may be tcpserver's TCPREMOTEINFO (identd, answered
   * by the client's own host) or a MAIL FROM AUTH= value, both chosen by an unauthenticated
   * client, who could otherwise pin mail on a customer (chkuser.c realrcpt: RELAYING is returned
   * only for a non-rcpthosts domain with relayclient set).
   */
  relayed: boolean;
}

/** Split CHKUSER's `from <…>` and `remote <…>` in either the `:` or the `|` layout. */
export function parseChkuser(from: string, remote: string): { sender: string; authId?: string; ip?: string; host?: string } {
  let sender: string;
  let auth: string | undefined;
  if (from.includes('|remoteinfo/auth:')) {
    const parts = from.split('|');
    sender = parts[0] ?? '';
    auth = parts.find((x) => x.startsWith('remoteinfo/auth:'))?.slice('remoteinfo/auth:'.length);
  } else {
    const parts = from.split(':');
    sender = parts[0] ?? '';
    auth = parts[1];
  }
  let ip: string | undefined;
  let host: string | undefined;
  if (remote.includes('|remotehostip:')) {
    for (const part of remote.split('|')) {
      if (part.startsWith('remotehostip:')) ip = bareIp(part.slice('remotehostip:'.length));
      if (part.startsWith('remotehostname:')) host = part.slice('remotehostname:'.length);
    }
  } else {
    // helo:remotehost:remoteip — the IP (maybe IPv6, full of colons) is what follows the 2nd colon
    const first = remote.indexOf(':');
    const second = first < 0 ? -1 : remote.indexOf(':', first + 1);
    if (second >= 0) {
      ip = bareIp(remote.slice(second + 1));
      host = remote.slice(first + 1, second);
    }
  }
  return {
    sender,
    ...(auth !== undefined && auth !== '' ? { authId: auth } : {}),
    ...(ip !== undefined ? { ip } : {}),
    ...(host !== undefined && host !== '' ? { host } : {}),
  };
}

export function createQmailLogParser(opts: LogParserOptions = {}): LogLineParser {
  return new QmailLogParser(new SyslogClock(opts));
}

class QmailLogParser extends ParserBase implements LogLineParser {
  private groups = new Map<string, Group>();
  /** sender → key of its most recent open group, for `mail recv`. */
  private bySender = new Map<string, string>();

  feed(line: string, sink: LogSink): void {
    const p = this.prefix(line, sink);
    let rest = p.rest.replace(/^qmail: /, '');
    let time = p.time;
    // splogger / qmta-send put epoch.fraction first: more exact than the syslog stamp
    const e = /^(\d{9,11})(?:\.\d+)? (.*)$/s.exec(rest);
    if (e) {
      time = Number(e[1]);
      rest = e[2] ?? '';
    }

    let m = INFO_MSG.exec(rest);
    if (m) {
      this.emit(
        {
          time,
          queueId: m[1],
          size: Number(m[2]),
          sender: bareSender(m[3] ?? ''),
          uid: Number(m[5]),
          source: 'qmail-send',
        },
        sink,
      );
      return;
    }

    m = CHKUSER.exec(rest);
    if (m) {
      const title = m[1] ?? '';
      if (!/^(?:accepted(?: any)? rcpt|relaying rcpt)$/.test(title)) return;
      const c = parseChkuser(m[2] ?? '', m[3] ?? '');
      this.addRcpt('chkuser', time, c.sender, c.authId, c.ip, c.host, title === 'relaying rcpt', sink);
      return;
    }

    m = POLICY.exec(rest);
    if (m) {
      const sender = m[1] ?? '';
      this.addRcpt('policy', time, sender, sender, undefined, undefined, true, sink);
      return;
    }

    m = MAIL_RECV.exec(rest);
    if (m) {
      const sender = m[2] ?? '';
      const key = this.bySender.get(sender);
      const g = key === undefined ? undefined : this.groups.get(key);
      const s: Submission = { time, sender, source: 'qmail-recv' };
      if (g && key !== undefined) {
        this.drop(key, g);
        if (g.authId !== undefined && g.relayed) s.authId = g.authId;
        if (g.clientIp !== undefined) s.clientIp = g.clientIp;
        if (g.clientHost !== undefined) s.clientHost = g.clientHost;
        s.recipients = g.rcpts;
      }
      this.emit(s, sink);
      return;
    }

    m = INDIMAIL_AUTH_FAIL.exec(rest);
    if (m) {
      const ip = bareIp(m[1] ?? '');
      this.counts.failures++;
      sink.failure({
        time,
        authenticator: m[3],
        ...(ip !== undefined ? { clientIp: ip } : {}),
        ...(m[2] ? { user: m[2] } : {}),
      });
      return;
    }

    m = INDIMAIL.exec(rest);
    if (m) {
      const ip = bareIp(m[2] ?? '');
      const rcpts = (m[4] ?? '').match(/<[^>]*>/g)?.length ?? 0;
      const s: Submission = { time, sender: m[3] ?? '', size: Number(m[6]), source: 'qmail-smtpd' };
      if (ip !== undefined) s.clientIp = ip;
      if (rcpts > 0) s.recipients = rcpts;
      const auth = /^(.*): AUTH (\S+)/s.exec(m[5] ?? '');
      if (auth && auth[1] !== '') {
        s.authId = auth[1];
        s.authenticator = auth[2];
      }
      this.emit(s, sink);
    }
  }

  end(sink: LogSink): void {
    for (const [key, g] of this.groups) {
      this.drop(key, g);
      this.close(g, sink);
    }
  }

  private addRcpt(
    kind: Group['kind'],
    time: number | null,
    sender: string,
    authId: string | undefined,
    ip: string | undefined,
    host: string | undefined,
    relayed: boolean,
    sink: LogSink,
  ): void {
    const key = `${kind}\u0000${sender}\u0000${authId ?? ''}\u0000${ip ?? ''}`;
    const g = this.groups.get(key);
    if (g && !(time !== null && g.last !== null && time - g.last > GROUP_GAP)) {
      g.rcpts++;
      if (relayed) g.relayed = true;
      if (time !== null) g.last = time;
      return;
    }
    if (g) {
      this.drop(key, g);
      this.close(g, sink);
    }
    const fresh: Group = { kind, time, last: time, sender, rcpts: 1, relayed };
    if (authId !== undefined) fresh.authId = authId;
    if (ip !== undefined) fresh.clientIp = ip;
    if (host !== undefined) fresh.clientHost = host;
    for (const [oldKey, old] of boundedSet(this.groups, key, fresh, MAX_GROUPS)) {
      if (this.bySender.get(old.sender) === oldKey) this.bySender.delete(old.sender);
      this.close(old, sink);
    }
    this.bySender.set(sender, key);
  }

  private drop(key: string, g: Group): void {
    this.groups.delete(key);
    if (this.bySender.get(g.sender) === key) this.bySender.delete(g.sender);
  }

  /** A group no `mail recv` line claimed: CHKUSER counts as the message, policy_check as a login. */
  private close(g: Group, sink: LogSink): void {
    const s: Submission = {
      time: g.time,
      sender: g.sender,
      recipients: g.rcpts,
      source: g.kind === 'chkuser' ? 'qmail-chkuser' : 'qmail-policy',
    };
    if (g.kind === 'policy') s.unconfirmed = true;
    if (g.authId !== undefined && g.relayed) s.authId = g.authId;
    if (g.clientIp !== undefined) s.clientIp = g.clientIp;
    if (g.clientHost !== undefined) s.clientHost = g.clientHost;
    this.emit(s, sink);
  }

  private emit(s: Submission, sink: LogSink): void {
    this.counts.submissions++;
    sink.submission(s);
  }
}

export function parseQmailLog(text: string, opts: LogParserOptions = {}): LogEvents {
  return runParser(createQmailLogParser(opts), text);
}

/** Where qmail logs (first existing wins), the lines that matter, and their parser. */
export const qmailLogFormat: MtaLogFormat = {
  candidates: ['/var/log/qmail/submission/current', '/var/log/qmail/smtp/current', '/var/log/qmail/current', '/var/log/maillog'],
  filters: ['CHKUSER', 'mail recv', 'policy_check', 'info msg', 'MAIL from', 'AUTH'],
  create: createQmailLogParser,
  parse: parseQmailLog,
};
