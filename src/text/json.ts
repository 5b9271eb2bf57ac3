// JSON for stdout and files. JSON is data: server strings keep every byte. JSON.stringify already
// writes C0 controls as \u escapes but leaves DEL, C1 (U+009B is CSI to some terminals), bidi
// overrides, zero-width and tag characters and U+2028/2029 raw, and a terminal showing the JSON
// (`cat scan.json`, cron mail, a CI log) would act on them. They are written as \u escapes too: the same
// JSON value, parsed back byte for byte, but the text itself holds nothing a terminal acts on.

/**
 * The characters printable() makes visible, less C0 (already escaped inside strings, and JSON's
 * own line breaks outside them). Outside strings JSON.stringify writes only ASCII, so every
 * match is inside a string.
 */
const UNSAFE = /(?![\u0000-\u001f])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]/gu;

/** \uXXXX for each UTF-16 unit (a tag character is a surrogate pair: two escapes). */
function escape(ch: string): string {
  let out = '';
  for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/** JSON.stringify(value, null, space), with the characters above \u-escaped. */
export function jsonText(value: unknown, space?: number): string {
  return (JSON.stringify(value, null, space) ?? 'null').replace(UNSAFE, escape);
}
