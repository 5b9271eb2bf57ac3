// Exim mainlog (or exim via syslog/journald): `<=` arrivals with `A=authenticator:id`, and
// `authenticator failed` lines. Everything else (deliveries, rejects, `ignoring AUTH=…`) is skipped.

import { ParserBase, bareIp, bareSender, runParser } from '../../logs/line.js';
import { SyslogClock } from '../../logs/time.js';
import type { LogEvents, LogLineParser, LogParserOptions, LogSink, Submission, MtaLogFormat } from '../../logs/types.js';

const EXIM_ID = /^(?:\[\d+\] )?(?:\[\d+\/\d+\] )?([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}) <= (.*)$/s;
const FAILED = /^(?:\[\d+\] )?(\S+) authenticator failed for (.*)$/s;

export interface HostField {
  host?: string;
  helo?: string;
  ip?: string;
  port?: number;
  /** Characters consumed from the start of the text. */
  length: number;
}

/**
 * Exim's host field: `host (helo) [ip]:port`, each part optional except the bracket.
 * The HELO in parentheses may itself be bracketed (`([1.2.3.5]) [1.2.3.4]`): the client is the
 * bracket outside the parentheses. IPv6 sits in brackets too: `[2001:db8::1]:25`.
 */
export function parseHostField(text: string): HostField | null {
  const m = /^(?:([^\s([][^\s]*) )?(?:\(((?:[^()]|\([^()]*\))*)\) )?\[([0-9A-Fa-f:.]+)\](?::(\d+))?/.exec(text);
  if (!m) return null;
  const ip = bareIp(m[3] ?? '');
  if (ip === undefined) return null;
  return {
    host: m[1],
    helo: m[2],
    ip,
    port: m[4] === undefined ? undefined : Number(m[4]),
    length: m[0].length,
  };
}

interface ArrivalFields {
  fields: Map<string, string>;
  host?: HostField;
  recipients?: string[];
}

/** Tokenise what follows the sender of a `<=` line. Quoted values (T="…") are skipped whole. */
function arrivalFields(text: string): ArrivalFields {
  const fields = new Map<string, string>();
  let host: HostField | undefined;
  let recipients: string[] | undefined;
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    if (i >= text.length) break;
    const rest = text.slice(i);
    if (rest.startsWith('for ')) {
      recipients = rest
        .slice(4)
        .split(' ')
        .filter((r) => r !== '');
      break;
    }
    const key = /^([A-Za-z]{1,4})=/.exec(rest);
    if (key) {
      const name = key[1] ?? '';
      let j = i + key[0].length;
      if (name === 'H' && host === undefined) {
        const h = parseHostField(text.slice(j));
        if (h) {
          host = h;
          i = j + h.length;
          continue;
        }
      }
      if (text[j] === '"') {
        j++;
        while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        const value = text.slice(i + key[0].length + 1, j);
        if (!fields.has(name)) fields.set(name, value);
        i = j + 1;
        continue;
      }
      let end = text.indexOf(' ', j);
      if (end < 0) end = text.length;
      if (!fields.has(name)) fields.set(name, text.slice(j, end));
      i = end;
      continue;
    }
    const end = text.indexOf(' ', i);
    i = end < 0 ? text.length : end; // flags like L. K, or tokens we do not know
  }
  return { fields, host, recipients };
}

/** Where the sender of a `<=` line ends: a quoted local part ("a b"@x) may hold spaces. */
function senderEnd(body: string): number {
  let i = 0;
  if (body.startsWith('"')) {
    i = 1;
    while (i < body.length && body[i] !== '"') i += body[i] === '\\' ? 2 : 1;
  }
  return body.indexOf(' ', i);
}

export function createEximLogParser(opts: LogParserOptions = {}): LogLineParser {
  return new EximLogParser(new SyslogClock(opts));
}

class EximLogParser extends ParserBase implements LogLineParser {
  feed(line: string, sink: LogSink): void {
    const p = this.prefix(line, sink);
    const rest = p.rest;
    if (rest.includes(' <= ')) {
      const m = EXIM_ID.exec(rest);
      if (!m) {
        if (/^(?:\[\d+\] )?\S+ <= /.test(rest)) this.malformed('exim arrival not understood', line, sink);
        return;
      }
      const body = m[2] ?? '';
      const sp = senderEnd(body);
      const senderText = sp < 0 ? body : body.slice(0, sp);
      const { fields, host, recipients } = arrivalFields(sp < 0 ? '' : body.slice(sp + 1));
      const s: Submission = { time: p.time, queueId: m[1], sender: bareSender(senderText), source: 'exim-arrival' };
      const a = fields.get('A');
      if (a !== undefined && a !== '') {
        // A=authenticator[:id[:auth_sender]] — the id is the second field
        const parts = a.split(':');
        s.authenticator = parts[0];
        if (parts.length > 1 && parts[1] !== '') s.authId = parts[1];
      }
      if (host) {
        s.clientIp = host.ip;
        if (host.host !== undefined) s.clientHost = host.host;
        else if (host.helo !== undefined) s.clientHost = host.helo;
      }
      const size = fields.get('S');
      if (size !== undefined && /^\d+$/.test(size)) s.size = Number(size);
      if (recipients) s.recipients = recipients.length;
      this.counts.submissions++;
      sink.submission(s);
      return;
    }
    if (rest.includes('authenticator failed')) {
      const m = FAILED.exec(rest);
      if (!m) return;
      let client = m[2] ?? '';
      if (client.startsWith('H=')) client = client.slice(2);
      const h = parseHostField(client);
      // (set_id=…) may be mid-line: `… (set_id=userx): account suspended`
      const id = /\(set_id=(.*?)\)(?=:|\s|$)/s.exec(m[2] ?? '');
      this.counts.failures++;
      sink.failure({
        time: p.time,
        authenticator: m[1],
        ...(h?.ip !== undefined ? { clientIp: h.ip } : {}),
        ...(id ? { user: id[1] } : {}),
      });
    }
  }

  end(): void {
    // exim logs the whole arrival on one line: nothing pending
  }
}

/** Parse a whole exim log text (for small inputs and tests). */
export function parseEximLog(text: string, opts: LogParserOptions = {}): LogEvents {
  return runParser(createEximLogParser(opts), text);
}

/** Where exim logs (first existing wins), the lines that matter, and their parser. */
export const eximLogFormat: MtaLogFormat = {
  candidates: ['/var/log/exim4/mainlog', '/var/log/exim_mainlog', '/var/log/exim/main.log', '/var/log/exim/mainlog'],
  filters: [' <= ', 'authenticator failed'],
  create: createEximLogParser,
  parse: parseEximLog,
};
