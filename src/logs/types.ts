// What the log parsers produce: accepted messages (with the SMTP-AUTH identity when the log
// shows it) and failed logins. Parsers are streaming and pure: no I/O, no clock.

/** How the record that produced a submission looks in the log (for counting and debugging). */
export type SubmissionSource =
  | 'exim-arrival' // exim `<=` line
  | 'postfix-qmgr' // postfix qmgr `from=<…>, size=…` (joined with smtpd `client=…`)
  | 'postfix-smtpd' // postfix smtpd `client=…, sasl_username=…` never followed by a qmgr line
  | 'sendmail-from' // sendmail `from=…, nrcpts>0` (joined with the `AUTH=server` line)
  | 'sendmail-auth' // sendmail `AUTH=server` line never followed by a `from=` line
  | 'qmail-send' // qmail-send `info msg N: bytes … from <…> qp … uid …`
  | 'qmail-recv' // sagredo qmail-smtpd `mail recv: pid … from <…>`
  | 'qmail-smtpd' // indimail qmail-smtpd `MAIL from <…> RCPT <…> AUTH <…>`
  | 'qmail-chkuser' // CHKUSER `accepted|relaying rcpt` lines grouped into a message
  | 'qmail-policy'; // eMPF `policy_check: … (AUTHENTICATED SENDER)` never followed by `mail recv`

/** One accepted message (see `unconfirmed` for the exceptions). */
export interface Submission {
  /** Epoch seconds (UTC); null when the line has no usable time. */
  time: number | null;
  queueId?: string;
  /** SMTP-AUTH identity as logged; undefined = not authenticated (or id not logged, see authenticator). */
  authId?: string;
  /** Exim authenticator name, postfix sasl_method, sendmail mech. Set without authId = authenticated, id unknown. */
  authenticator?: string;
  clientIp?: string;
  clientHost?: string;
  /** Envelope sender without <>, '' for the null sender. */
  sender?: string;
  /** Recipient count when the log tells (postfix nrcpt, sendmail nrcpts, exim `for …`, qmail rcpt lines). */
  recipients?: number;
  size?: number;
  /** Local uid that injected the message (qmail-send `uid`, postfix pickup `uid=`). */
  uid?: number;
  /**
   * True when the log shows a successful login / an authenticated transaction but no record that
   * a message was accepted (postfix client= without qmgr line — typically all RCPTs rejected;
   * sendmail AUTH=server with no from= line; eMPF policy_check with no mail recv).
   * Not counted as a message, but the login (id, IP) is real evidence.
   */
  unconfirmed?: boolean;
  source: SubmissionSource;
}

export interface AuthFailureEvent {
  time: number | null;
  /** Attempted user when the log names it (exim set_id, postfix sasl_username, sendmail user=). */
  user?: string;
  clientIp?: string;
  authenticator?: string;
}

export interface LogEvents {
  submissions: Submission[];
  failures: AuthFailureEvent[];
  warnings: string[];
}

/** Where a parser puts what it finds. */
export interface LogSink {
  submission(s: Submission): void;
  failure(f: AuthFailureEvent): void;
  warning(w: string): void;
}

export interface LogParserOptions {
  /** Year of the log's first yearless (syslog) line, when nowSeconds is not given. */
  year?: number;
  /** The server's clock: yearless dates take the latest year not in the future. */
  nowSeconds?: number;
  /** Server UTC offset for timestamps written in local time without a zone (default 0). */
  tzOffsetMinutes?: number;
}

export interface ParserStats {
  lines: number;
  submissions: number;
  failures: number;
  /** Lines that looked like ours but could not be parsed (also reported as warnings, capped). */
  malformed: number;
  /** Lines with a timestamp we could not read. */
  badTime: number;
}

export interface LogLineParser {
  /** Feed one line (without its newline). May emit zero or more events into the sink. */
  feed(line: string, sink: LogSink): void;
  /** End of input: flush pending joins. */
  end(sink: LogSink): void;
  stats(): ParserStats;
}

export type LogParserFactory = (opts?: LogParserOptions) => LogLineParser;

/** How one MTA logs: where, which lines matter, and the parser for them. */
export interface MtaLogFormat {
  /** Where it logs on Debian/Ubuntu, RHEL/cPanel, toasters (first existing wins; `mail_log` overrides). */
  candidates: readonly string[];
  /** Fixed strings (grep -F) that every line the parser needs contains: filtered on the server. */
  filters: readonly string[];
  create: LogParserFactory;
  parse(text: string, opts?: LogParserOptions): LogEvents;
}

/** True when the submission went through SMTP AUTH (with or without a logged id). */
export function isAuthenticated(s: Submission): boolean {
  return s.authId !== undefined || s.authenticator !== undefined;
}
