// Server text (senders, recipients, auth ids, log lines, tool output) is chosen by whoever sent the
// mail. Before it reaches a terminal, a report or a notice it goes through here: C0 and C1
// controls, DEL, ESC sequences and bidi/format controls are made visible, never interpreted.

/**
 * One character that must not reach a screen as it is:
 * - Cc: C0 (ESC, BEL, CR, NUL …), DEL and C1 (U+0080–009F: CSI U+009B, OSC U+009D, NEL U+0085);
 * - Cf: bidi embeddings/overrides/isolates (U+202A–202E, U+2066–2069, U+061C, U+200E/F),
 *   zero-width and invisible marks (U+200B–200D, U+2060–2064, U+FEFF, soft hyphen), tag
 *   characters (U+E0000–E007F, which hide text), interlinear annotations;
 * - Zl/Zp: U+2028/2029, line breaks to some terminals and editors;
 * - Cs: a lone surrogate (no character at all);
 * - the Hangul fillers, letters that draw nothing (used to fake blank names).
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]/gu;
const UNSAFE_ONE = new RegExp(`^${UNSAFE.source}$`, 'u');

/** How one control is shown: C0 in caret notation (^[ for ESC), DEL as ^?, others as <U+XXXX>. */
function visible(ch: string): string {
  const c = ch.codePointAt(0)!;
  if (c < 0x20) return `^${String.fromCharCode(c + 0x40)}`;
  if (c === 0x7f) return '^?';
  return `<U+${c.toString(16).toUpperCase().padStart(4, '0')}>`;
}

export interface PrintableOptions {
  /** Keep line breaks (\n) as they are: for multi-line screens. Tabs become spaces. */
  multiline?: boolean;
  /** Cut longer text (counted after cleaning) with an ellipsis and the original length. */
  max?: number;
}

/**
 * Text safe for a terminal, report or notice: every control (C0 but \n when multiline, DEL, C1,
 * U+2028/2029) and every bidi/invisible format character is replaced by a visible token.
 * Idempotent: the tokens are plain ASCII. A cut never splits a token or a surrogate pair.
 */
export function printable(text: string, o: PrintableOptions = {}): string {
  const s = String(text);
  const piece = (ch: string) => (ch === '\n' && o.multiline ? ch : ch === '\t' ? ' ' : visible(ch));
  const out = s.replace(UNSAFE, piece);
  const max = o.max === undefined || Number.isNaN(o.max) ? Infinity : Math.max(0, Math.floor(o.max));
  if (out.length <= max) return out;
  // Cut: whole code points and whole tokens only.
  let cut = '';
  let chars = 0;
  let full = false;
  for (const ch of s) {
    chars++;
    if (full) continue;
    const p = UNSAFE_ONE.test(ch) ? piece(ch) : ch;
    if (cut.length + p.length > max) full = true;
    else cut += p;
  }
  return `${cut}… (${chars} chars)`;
}

/**
 * printable(), then Markdown's active characters escaped, so server text cannot make links,
 * images, autolinks, HTML, entities, code spans, emphasis, math, headings, lists or table cells.
 * Bare URLs may still be autolinked by GFM: they show the URL itself, so they cannot deceive.
 */
export function markdownText(text: string, o: PrintableOptions = {}): string {
  return printable(text, o)
    .replace(/[\\`*_[\]<>|#!~&$]/g, (ch) => `\\${ch}`)
    .replace(/^( *)([-+=]|\d+(?=[.)]))/gm, (_m, sp: string, mark: string) => (/^\d/.test(mark) ? `${sp}${mark}\\` : `${sp}\\${mark}`));
}

/**
 * printable(), then HTML's active characters as character references: safe as element text, inside
 * SVG, and in a double- or single-quoted attribute value. The HTML report's one way to show server text.
 */
export function htmlText(text: string, o: PrintableOptions = {}): string {
  return printable(text, o).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** First line of stderr, made printable (src/text/printable.ts): server text is shown, never trusted. */
export function oneLine(text: string, max = 200): string {
  const line =
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l) ?? '';
  return printable(line, { max });
}
