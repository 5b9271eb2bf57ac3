// The sendmail AUTH→from join: which authenticated account submitted a message. ONE rule: this
// file, and its awk twin scripts/join.awk (the purge's delete-time re-check runs it on the
// server). The log parser (logs.ts), the queue attribution (attribution.ts) and the purge
// (ops.ts) use it; test/mta/sendmail-proof.test.ts runs one table of log excerpts through both.
//
// What sendmail 8.17 logs (srvrsmtp.c; headers.c logsender), LogLevel > 8:
//   mx sm-mta[4242]: AUTH=server, relay=$_, authid=%.128s, mech=%.16s, bits=%d
//   mx sm-mta[4242]: 5AN4U1aB004242: from=%.200s, size=N, class=N, nrcpts=N[, msgid=%.100s]
//                    [, bodytype=…][, proto=$r][, daemon=…], relay=$_
// The AUTH line has no queue id. One SMTP session is one process: the from= lines of the messages
// it accepts carry its pid and the same relay ($_: "[ident@]host [addr]", "[addr]", maybe with
// " (may be forged)"). relay= is always the last field; the sender and msgid are client text.
//
// The rule:
//  1. A line counts when its syslog tag (the text before the first ": ") ends in "prog[pid]",
//     prog sendmail or sm-* (sm-mta, sm-msp-queue, …). The session key is the word before the tag
//     (the host, "" when none) and the pid. Text after the first ": " is the message: never a tag.
//  2. "AUTH=server, …" starts the session of its key (the one before is over): relay up to the
//     first ", authid=", authid up to the last ", mech=", then "mech=M, bits=N" and the end. A
//     line not of that shape still ends the session before it and joins nothing.
//  3. "QID: from=…" (QID 8-20 letters/digits): relay after its last ", relay="; proto the value of
//     the last ", proto=" before that (up to the next comma), when there is one.
//  4. It joins its key's session when both relays name the same client and its proto, when named,
//     says authenticated (ESMTPA, ESMTPSA, UTF8SMTPA, UTF8SMTPSA: RFC 3848, RFC 6531), so that a
//     reused pid serving an unauthenticated client is not attributed. Same client: a relay with a
//     comma (or empty) names none; " (may be forged)" is dropped; "[addr]" and "host [addr]"
//     compare by the address (IPv6 canonical, as bareIp writes it: sendmail logs ::1 as
//     IPv6:0:0:0:0:0:0:0:1), anything else by its text.
//  5. The account is the joined session's authid (none when empty); the latest from= line of a
//     queue id wins. No time window: key, relay and proto decide (awk cannot read syslog time).

import { bareIp } from '../../logs/line.js';

const SENDMAIL_PROG = /^(?:sendmail|sm-[A-Za-z0-9_.-]+)$/;
const AUTH_PROTO = /^(?:E?SMTPS?A|UTF8SMTPS?A)$/i;
const FROM_HEAD = /^([0-9A-Za-z]+): from=/;

/** A log line's syslog tag and message. `prog` is any word: callers pick sendmail's. */
export interface SyslogTagged {
  host: string;
  prog: string;
  pid: number;
  /** host and pid, as logged: the session key. */
  key: string;
  /** The message after the first ": ", trailing blanks dropped. */
  body: string;
}

/** The tag of a line, `host prog[pid]: message`; undefined when it has none. */
export function syslogTag(line: string): SyslogTagged | undefined {
  const at = line.indexOf(': ');
  if (at < 0) return undefined;
  const head = line.slice(0, at);
  const sp = head.lastIndexOf(' ');
  const tag = head.slice(sp + 1);
  const before = sp < 0 ? '' : head.slice(0, sp);
  const host = before.slice(before.lastIndexOf(' ') + 1);
  const b = tag.indexOf('[');
  if (b < 1 || !tag.endsWith(']')) return undefined;
  const pid = tag.slice(b + 1, -1);
  if (!/^[0-9]{1,10}$/.test(pid)) return undefined;
  return { host, prog: tag.slice(0, b), pid: Number(pid), key: `${host} ${pid}`, body: line.slice(at + 2).replace(/[ \t\r]+$/, '') };
}

/** The line, when sendmail wrote it (rule 1). */
export function sendmailLine(line: string): SyslogTagged | undefined {
  const t = syslogTag(line);
  return t && SENDMAIL_PROG.test(t.prog) ? t : undefined;
}

export interface AuthLine {
  relay: string;
  authId: string;
  mech: string;
}

/** An AUTH=server message (rule 2): undefined when it is not one, null when not of the shape. */
export function parseAuthLine(body: string): AuthLine | null | undefined {
  if (!body.startsWith('AUTH=server, ')) return undefined;
  if (!body.startsWith('AUTH=server, relay=')) return null;
  const r = body.slice(19);
  const i = r.indexOf(', authid=');
  if (i < 0) return null;
  const rest = r.slice(i + 9);
  const j = rest.lastIndexOf(', mech=');
  if (j < 0) return null;
  const tail = /^([^,]*), bits=[0-9]+$/.exec(rest.slice(j + 7));
  return tail ? { relay: r.slice(0, i), authId: rest.slice(0, j), mech: tail[1] ?? '' } : null;
}

export interface FromLine {
  qid: string;
  /** The text after "from=". */
  rest: string;
  relay?: string;
  proto?: string;
}

/** A from= message (rule 3), or undefined. */
export function parseFromLine(body: string): FromLine | undefined {
  const m = FROM_HEAD.exec(body);
  const qid = m?.[1];
  if (!m || qid === undefined || qid.length < 8 || qid.length > 20) return undefined;
  const rest = body.slice(m[0].length);
  const k = rest.lastIndexOf(', relay=');
  const pre = k < 0 ? rest : rest.slice(0, k);
  const p = pre.lastIndexOf(', proto=');
  return {
    qid,
    rest,
    ...(k < 0 ? {} : { relay: rest.slice(k + 8) }),
    ...(p < 0 ? {} : { proto: pre.slice(p + 8).split(',')[0] ?? '' }),
  };
}

/** The address in a relay's brackets ("[addr]" or "host [addr]"), as logged. */
function bracketed(relay: string): string | undefined {
  if (!relay.endsWith(']')) return undefined;
  const b = relay.indexOf('[');
  if (b < 0) return undefined;
  const addr = relay.slice(b + 1, -1);
  const host = relay.slice(0, b);
  if (addr.includes('[') || addr.includes(']')) return undefined;
  if (host !== '' && !/^[^ [\]]+ $/.test(host)) return undefined;
  return addr;
}

function withoutForged(relay: string): string {
  return relay.endsWith(' (may be forged)') ? relay.slice(0, -16) : relay;
}

/** The client's address in a relay (canonical, bareIp), when it names one. */
export function relayAddress(relay: string | undefined): string | undefined {
  if (relay === undefined) return undefined;
  const a = bracketed(withoutForged(relay));
  return a === undefined ? undefined : bareIp(a);
}

/** What two relays of the same client have in common (rule 4), or undefined: names no client. */
export function relayKey(relay: string | undefined): string | undefined {
  if (relay === undefined || relay.includes(',')) return undefined;
  const t = withoutForged(relay);
  if (t === '') return undefined;
  const a = bracketed(t);
  const ip = a === undefined ? undefined : bareIp(a);
  return ip !== undefined ? `ip ${ip}` : `text ${t}`;
}

/** Does the from= line belong to the session of this AUTH line (rule 4)? */
export function joins(auth: AuthLine | null | undefined, from: FromLine): boolean {
  if (!auth) return false;
  const a = relayKey(auth.relay);
  if (a === undefined || a !== relayKey(from.relay)) return false;
  return from.proto === undefined || AUTH_PROTO.test(from.proto);
}

/** Does the from= line name an authenticated protocol? */
export function authenticatedProto(from: FromLine): boolean {
  return from.proto !== undefined && AUTH_PROTO.test(from.proto);
}

export interface Session<T> {
  key: string;
  auth: AuthLine | null;
  data: T;
}

/**
 * The sessions of a log read in order: an AUTH line starts its key's session (`ended` hears of the
 * one it replaces, and of every one at end()); a from= line finds the session it joins. `max`
 * bounds the open sessions for endless streams (the oldest is ended first).
 */
export class SendmailJoin<T = undefined> {
  private readonly sessions = new Map<string, Session<T>>();

  constructor(
    private readonly ended: (s: Session<T>) => void = () => {},
    private readonly max = Number.POSITIVE_INFINITY,
  ) {}

  auth(key: string, auth: AuthLine | null, data: T): void {
    const old = this.sessions.get(key);
    if (old) {
      this.sessions.delete(key);
      this.ended(old);
    }
    this.sessions.set(key, { key, auth, data });
    for (const [k, s] of this.sessions) {
      if (this.sessions.size <= this.max) break;
      this.sessions.delete(k);
      this.ended(s);
    }
  }

  from(key: string, from: FromLine): Session<T> | undefined {
    const s = this.sessions.get(key);
    return s && joins(s.auth, from) ? s : undefined;
  }

  end(): void {
    for (const s of this.sessions.values()) this.ended(s);
    this.sessions.clear();
  }
}

export interface JoinedFrom {
  line: SyslogTagged;
  from: FromLine;
  /** The joined session's authid, when it joined one that has one. */
  authId?: string;
  mech?: string;
}

/** The rule fed one tagged line at a time (a streamed log): a from= line gives what it joins. */
export class FromJoiner {
  private readonly join = new SendmailJoin();

  /** `line` is any tagged line; only sendmail's count (rule 1). */
  line(line: SyslogTagged): JoinedFrom | undefined {
    if (!SENDMAIL_PROG.test(line.prog)) return undefined;
    const auth = parseAuthLine(line.body);
    if (auth !== undefined) {
      this.join.auth(line.key, auth, undefined);
      return undefined;
    }
    const from = parseFromLine(line.body);
    if (!from) return undefined;
    const s = this.join.from(line.key, from)?.auth;
    return { line, from, ...(s && s.authId !== '' ? { authId: s.authId, mech: s.mech } : {}) };
  }
}

/** Every sendmail from= line of `lines`, in order, with what the rule joins it to. */
export function* joinedFroms(lines: Iterable<string>): Generator<JoinedFrom> {
  const joiner = new FromJoiner();
  for (const text of lines) {
    const line = syslogTag(text);
    const j = line && joiner.line(line);
    if (j) yield j;
  }
}

/** The rule's verdict: queue id → the authid its latest from= line joins (undefined: none). */
export function sendmailJoin(lines: Iterable<string>): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const j of joinedFroms(lines)) out.set(j.from.qid, j.authId);
  return out;
}
