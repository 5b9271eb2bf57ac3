// What an SMTP server offered, read from nodemailer's transaction log of one probe: the greeting,
// the EHLO answer before TLS, the STARTTLS answer, the EHLO answer over TLS. SMTPConnection keeps
// only the last EHLO; its log (a documented option) has the whole dialogue, in order.
import type { Logger } from 'nodemailer/lib/shared/index.js';
import { printable } from '../text/printable.js';

export interface TranscriptLine {
  from: 'server' | 'client';
  /** One whole reply (its lines joined by \n) or one command. */
  text: string;
}

/** A bunyan-style logger for SMTPConnection's `logger` option that keeps the dialogue, bounded. */
export function transcriptLogger(into: TranscriptLine[], maxEntries = 32): Logger {
  const keep = (entry: { tnx?: unknown } | undefined, message: unknown) => {
    const from = entry?.tnx;
    if ((from === 'server' || from === 'client') && into.length < maxEntries) into.push({ from, text: String(message) });
  };
  const none = () => {};
  return { level: none, trace: none, debug: keep, info: none, warn: none, error: none, fatal: none };
}

export interface EhloAnswer {
  /** The EHLO (or HELO) reply was 2xx. */
  ok: boolean;
  /** The first line of the reply, printable: for error messages. */
  first: string;
  /** AUTH mechanisms offered (printable, upper case, unique); [] when no AUTH line (or HELO). */
  auth: string[];
  starttls: boolean;
}

export interface Dialogue {
  /** The greeting's first line (printable, cut), or null when none came. */
  banner: string | null;
  greeted: boolean;
  /** Answer to EHLO before any TLS; null when none came (or the port is implicit TLS). */
  plain: EhloAnswer | null;
  /** The STARTTLS command was sent; its reply accepted it (2xx). */
  starttlsSent: boolean;
  starttlsAccepted: boolean;
  /** Answer to EHLO inside TLS (after STARTTLS, or on an implicit-TLS port); null when none came. */
  secure: EhloAnswer | null;
}

const MAX_MECHS = 20;

/** The log reads bytes as latin1; servers write UTF-8: decode it, so a bidi control shows as itself. */
function decoded(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

/** An SMTP reply's lines without their "250-"/"250 " code prefix. */
function bodyLines(reply: string): string[] {
  return reply.split('\n').map((l) => l.replace(/^\d{3}(?:[ -]|$)/, ''));
}

export function ehloAnswer(reply: string, helo = false): EhloAnswer {
  const lines = bodyLines(reply);
  const ext = helo ? [] : lines.slice(1);
  const mechs = new Set<string>();
  for (const line of ext) {
    const m = /^AUTH[ =](.*)$/i.exec(line.trim());
    if (m)
      for (const mech of m[1]!.trim().split(/\s+/))
        if (mech && mechs.size < MAX_MECHS) mechs.add(printable(decoded(mech).toUpperCase(), { max: 40 }));
  }
  return {
    ok: /^2\d\d/.test(reply),
    first: printable(decoded(reply.split('\n')[0] ?? ''), { max: 200 }),
    auth: [...mechs],
    starttls: ext.some((l) => /^STARTTLS\s*$/i.test(l.trim())),
  };
}

/**
 * Pair each command with the reply that follows it: SMTPConnection sends one command at a time until
 * its handshake is done, so the log is greeting, then (command, reply) pairs.
 */
export function readDialogue(lines: TranscriptLine[], implicitTls: boolean): Dialogue {
  const d: Dialogue = { banner: null, greeted: false, plain: null, starttlsSent: false, starttlsAccepted: false, secure: null };
  let i = 0;
  const greeting = lines[0]?.from === 'server' ? lines[i++]!.text : null;
  if (greeting !== null) {
    d.banner = printable(decoded(greeting.split('\n')[0] ?? ''), { max: 200 });
    d.greeted = /^220/.test(greeting);
  }
  let inTls = implicitTls;
  for (; i < lines.length; i++) {
    const cmd = lines[i]!;
    if (cmd.from !== 'client') continue;
    const reply = lines[i + 1]?.from === 'server' ? lines[++i]!.text : null;
    const verb = cmd.text.split(' ')[0]!.toUpperCase();
    if (verb === 'STARTTLS') {
      d.starttlsSent = true;
      d.starttlsAccepted = reply !== null && /^2\d\d/.test(reply);
      // nodemailer sends its next command only once the TLS handshake is done.
      if (d.starttlsAccepted) inTls = true;
      continue;
    }
    if ((verb !== 'EHLO' && verb !== 'HELO') || reply === null) continue;
    const answer = ehloAnswer(reply, verb === 'HELO');
    const slot = inTls ? 'secure' : 'plain';
    // A refused EHLO followed by HELO: the HELO answers for that stage.
    if (!d[slot] || !d[slot]!.ok) d[slot] = answer;
  }
  return d;
}
