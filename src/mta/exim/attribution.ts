// Exim attribution: the dump of every spool -H file's envelope that the attributed queue read
// carries (scripts/spool-dump.sh), its parser, and the join to the -bp listing. The -H file
// itself is read by the envelope proof (envelope.ts, the twin of the purge's envelope.awk).

import { serverScript, scriptSource } from '../script.js';
import type { Sh } from '../../transport/quote.js';
import { EXIM_ID, eximBinary } from './host.js';
import { parseEximSpoolHeader, smtpAuthenticated, type EximSpoolHeader, type SpoolLine } from './envelope.js';
import type { MtaContext, QueueMessage } from '../types.js';
import { printable } from '../util.js';
import { LineWarnings, own } from '../stream-text.js';

// ---------------------------------------------------------------------------
// The dump: per -H file "__MAILSWEEP_H__ <path>", then its envelope lines prefixed "|" (so nothing
// a sender or recipient wrote can pass for a marker), -acl value bytes prefixed "+" (the server
// counted them: this side has text decoded from UTF-8); a line ending in CR as "%" + "|" or "+" +
// its hex (the output's line split would drop the CR). Both spool layouts (flat input/ and split
// input/<c>/) are covered because find recurses.

export const SPOOL_MARKER = '__MAILSWEEP_H__';

/** Prints the spool directory (section "spooldir") and every -H envelope (section "spool"). */
export function eximSpoolDumpScript(ctx: MtaContext): Sh {
  return serverScript('exim/scripts/spool-dump.sh', {
    MS_EXIM: eximBinary(ctx),
    MS_SPOOL: ctx.spoolDirectory ?? '',
    MS_DUMP_AWK: scriptSource('exim/scripts/spool-dump.awk'),
  });
}

export interface EximSpoolDump {
  /** Parsed -H envelopes by message id. */
  headers: Map<string, EximSpoolHeader>;
  warnings: string[];
}

const SPOOL_FILE = new RegExp(`(?:^|/)(${EXIM_ID.source})-H$`);
/** A dump line: ["%"] then "|" (a line of the file) or "+" (-acl value bytes), then the text (hex after "%"). */
const DUMP_LINE = /^(%?)([|+])(.*)$/s;

/** A line of the dump that is data from a -H file (or a file's marker), not a diagnostic. */
export function isSpoolDumpData(line: string): boolean {
  return DUMP_LINE.test(line) || line.startsWith(`${SPOOL_MARKER} `);
}

/** What attribution reads of a -H envelope: the scan keeps only this per message (own copies). */
export type EximAttributionHeader = Pick<EximSpoolHeader, 'hostAddress' | 'hostAuth' | 'receivedProtocol' | 'authId' | 'authSender'>;

/**
 * The attribution part of an envelope, in own copies; with `pool`, equal strings share one copy
 * (a hijacked account's thousands of messages carry the same auth id and few client addresses).
 */
export function attributionHeader(h: EximSpoolHeader, pool?: Map<string, string>): EximAttributionHeader {
  const keep = (x: string): string => {
    if (!pool) return own(x);
    let k = pool.get(x);
    if (k === undefined) {
      k = own(x);
      if (pool.size < 10_000) pool.set(k, k);
    }
    return k;
  };
  const out: EximAttributionHeader = {};
  if (h.hostAddress !== undefined) out.hostAddress = keep(h.hostAddress);
  if (h.hostAuth !== undefined) out.hostAuth = keep(h.hostAuth);
  if (h.receivedProtocol !== undefined) out.receivedProtocol = keep(h.receivedProtocol);
  if (h.authId !== undefined) out.authId = keep(h.authId);
  if (h.authSender !== undefined) out.authSender = keep(h.authSender);
  return out;
}

/**
 * The spool dump parser (a marker, then "|", "+" and "%" lines per -H file) with the envelope
 * proof, fed line by line with each line's number in the whole output; `keep` says what of each
 * parsed envelope is kept. Never throws. Only the current file's lines are held.
 */
/** Where the dump parser keeps what it took of each envelope, by id (a Map by default). */
export interface SpoolHeaderStore<H> {
  has(id: string): boolean;
  set(id: string, h: H): void;
}

export class EximSpoolDumpParser<H> {
  readonly headers = new Map<string, H>();
  readonly warnings = new LineWarnings();
  private curId: string | null = null;
  private curLine = 0;
  private buf: SpoolLine[] = [];
  private fileLine = 0;

  /**
   * `keep`: what of each parsed envelope is kept; `intern`: the string an id is kept under (by
   * default its own copy; the scan passes the listing's string for ids it lists).
   */
  constructor(
    private readonly keep: (h: EximSpoolHeader) => H,
    private readonly intern: (id: string) => string = own,
    /** Instead of `headers` (which then stays empty). */
    private readonly store?: SpoolHeaderStore<H>,
  ) {}

  line(line: string, n: number): void {
    // DUMP_LINE, read without a match object (this runs for every line of every -H file).
    const hex = line.charCodeAt(0) === 37; // "%"
    const kind = line.charCodeAt(hex ? 1 : 0);
    if (kind === 124 || kind === 43) {
      // "|" or "+"; after "%", hex: a line ending in CR, which a line split would lose.
      const rest = line.slice(hex ? 2 : 1);
      const t = hex ? Buffer.from(rest, 'hex').toString('utf8') : rest;
      if (this.curId !== null) this.buf.push({ text: t, acl: kind === 43, no: ++this.fileLine });
      return;
    }
    if (line.startsWith(`${SPOOL_MARKER} `)) {
      this.flush();
      const m = SPOOL_FILE.exec(line.slice(SPOOL_MARKER.length + 1));
      if (m) {
        this.curId = this.intern(m[1] ?? '');
        this.curLine = n;
      } else this.warnings.line(n, 'spool dump: not an exim -H file name', line);
      return;
    }
    if (line.trim() !== '') this.warnings.line(n, 'spool dump', line);
  }

  private flush(): void {
    const id = this.curId;
    if (id === null) return;
    const h = parseEximSpoolHeader(this.buf);
    const at = this.curLine;
    const store = this.store ?? this.headers;
    if (h.id !== id) this.warnings.note(at, `spool file ${id}-H starts with "${printable(h.id || '?')}": not used`);
    else if (store.has(id)) this.warnings.note(at, `spool file ${id}-H seen twice: first kept`);
    else {
      store.set(id, this.keep(h));
      for (const w of h.warnings.slice(0, 3)) this.warnings.note(at, `${id}-H: ${w}`);
    }
    this.curId = null;
    this.buf = [];
    this.fileLine = 0;
  }

  end(): { headers: Map<string, H>; warnings: LineWarnings } {
    this.flush();
    return { headers: this.headers, warnings: this.warnings };
  }
}

/** Parse the spool dump (a marker, then "|", "+" and "%" lines per -H file) with the envelope proof. Never throws. */
export function parseEximSpoolDump(text: string): EximSpoolDump {
  const p = new EximSpoolDumpParser((h) => h);
  // Lines end at LF only here (a CR is data: the dump hex-encodes lines ending in one).
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  lines.forEach((line, i) => p.line(line, i + 1));
  const { headers, warnings } = p.end();
  return { headers, warnings: warnings.list() };
}

/**
 * Attach authId / authSender / clientIp from the -H envelopes to the listing's messages.
 * authId is exim's $authenticated_id (-auth_id or tainted --auth_id) of an SMTP-authenticated
 * message; for local submissions exim stores the caller's login there, which is not an
 * SMTP-AUTH account and is left out (exim -bp shows it as localLogin when untrusted).
 */
export function attributeEximMessages(messages: QueueMessage[], headers: ReadonlyMap<string, EximAttributionHeader>): string[] {
  const missing: string[] = [];
  for (const m of messages) {
    const h = headers.get(m.id);
    if (h) attributeEximMessage(m, h);
    else missing.push(m.id);
  }
  return missingWarning(missing);
}

/** One message's authId / authSender / clientIp from its -H envelope (the strings are kept as they are). */
export function attributeEximMessage(m: QueueMessage, h: EximAttributionHeader): void {
  Object.assign(m, eximAttribution(h));
}

/** What a -H envelope attributes to its message (fields absent when it tells nothing). */
export function eximAttribution(h: EximAttributionHeader): Pick<QueueMessage, 'clientIp' | 'authId' | 'authSender'> {
  const a: Pick<QueueMessage, 'clientIp' | 'authId' | 'authSender'> = {};
  if (h.hostAddress !== undefined && h.hostAddress !== '') a.clientIp = h.hostAddress;
  if (smtpAuthenticated(h)) {
    if (h.authId !== undefined && h.authId !== '') a.authId = h.authId;
    if (h.authSender !== undefined && h.authSender !== '') a.authSender = h.authSender;
  }
  return a;
}

/** The warning for messages without a usable -H file (ids in listing order). */
export function missingWarning(missing: string[]): string[] {
  if (missing.length === 0) return [];
  const shown = missing.slice(0, 5).join(', ');
  return [`${missing.length} message(s) without a readable spool -H file, not attributed: ${shown}${missing.length > 5 ? ', …' : ''}`];
}
