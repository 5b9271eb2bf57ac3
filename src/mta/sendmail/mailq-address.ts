// sendmail mailq's addresses: brackets, the null sender, the columns mailq cuts a sender (39) and a
// recipient (38) to, and the decoding of what it printed (printable escapes, a cut mark).

const BRACKETED = /^<(.*)>$/;
const LINE_BREAK = /[\n\r\u2028\u2029]/;

export function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

export function unbracket(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 0x3c || s.charCodeAt(s.length - 1) !== 0x3e) return s;
  // "." stops at line breaks: only then can the pattern fail on a bracketed text.
  if (LINE_BREAK.test(s)) return BRACKETED.exec(s)?.[1] ?? s;
  return s.slice(1, -1);
}

export function isNullSender(s: string): boolean {
  return s === '<>' || s === '' || s === 'MAILER-DAEMON';
}

/** Ids are 14 characters (12 before 8.12); an 'X' mark glued on makes 15 (13). */
export function splitIdMark(rawId: string, rawMark: string): { id: string; mark: string } {
  const mark = rawMark.trim();
  if (mark === '' && (rawId.length === 15 || rawId.length === 13) && rawId.endsWith('X')) return { id: rawId.slice(0, -1), mark: 'X' };
  return { id: rawId, mark };
}

/**
 * Server text made safe to keep as an address: no control characters, no line breaks. This is
 * data (compared with the log's sender), so it keeps its own '?' rule; display goes through printable().
 */
export function cleanAddress(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, '?').replace(/\t/g, ' ');
}

const PLAIN_ASCII = /^[\x20-\x5b\x5d-\x7e]*$/;

/** PLAIN_ASCII.test(line.slice(from, to)), without the slice. */
export function plainAscii(line: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x5c) return false;
  }
  return true;
}

/** decodeMailqAddress(raw).truncated for a plain ASCII address (each character one unit of the budget). */
function plainTruncated(raw: string, width: number): boolean {
  const bracketed = raw.startsWith('<');
  return !(bracketed && raw.length >= 2 && raw.endsWith('>')) && (bracketed || raw.length >= width - 4);
}

export interface MailqAddress {
  /** The address with prtstr's escapes undone, made printable (brackets as printed). */
  text: string;
  /** Cut short by prtstr, or possibly so (see decodeMailqAddress). */
  truncated: boolean;
}

/**
 * Undo sendmail's prtstr(s, width): "\\" is a backslash, "\ooo" a byte (UTF-8 is reassembled;
 * invalid bytes become U+FFFD, control characters '?'). prtstr spends 1 of its budget per plain
 * character, 2 per "\\", 4 per "\ooo", and drops an escape that no longer fits, so a cut address
 * ends up to 4 characters short of `width`. Truncated: a "<" without the closing ">", or an
 * unbracketed address within 4 of the budget (it may be complete: the domain is still unknown).
 */
export function decodeMailqAddress(raw: string, width: number): MailqAddress {
  const bracketed = raw.startsWith('<');
  const closed = bracketed && raw.length >= 2 && raw.endsWith('>');
  // Printable ASCII without a backslash (nearly every address) decodes to itself, 1 unit a character.
  if (PLAIN_ASCII.test(raw)) return { text: raw, truncated: plainTruncated(raw, width) };
  const bytes: number[] = [];
  let units = 0;
  for (let i = 0; i < raw.length;) {
    if (raw[i] === '\\') {
      if (raw[i + 1] === '\\') {
        bytes.push(0x5c);
        units += 2;
        i += 2;
        continue;
      }
      const oct = /^[0-3][0-7]{2}/.exec(raw.slice(i + 1, i + 4));
      if (oct) {
        bytes.push(parseInt(oct[0], 8));
        units += 4;
        i += 4;
        continue;
      }
    }
    const ch = String.fromCodePoint(raw.codePointAt(i) ?? 0x3f);
    for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
    units += 1;
    i += ch.length;
  }
  const text = cleanAddress(Buffer.from(bytes).toString('utf8'));
  return { text, truncated: !closed && (bracketed || units >= width - 4) };
}
