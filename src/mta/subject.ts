// The Subject of one queued message, for evidence ("You have won! Claim 512 now" tells an admin more
// than a queue id). Read with the MTA's own header view (headersCommand); encoded words decoded.

/** The Subject header's value in a header dump (folded lines joined), or null. */
export function subjectOf(headers: string): string | null {
  const lines = headers.split('\n').map((l) => l.replace(/^\d{3}[A-Z* ] /, '').replace(/\r$/, ''));
  const at = lines.findIndex((l) => /^subject:/i.test(l));
  if (at < 0) return null;
  let v = lines[at]!.replace(/^subject:\s*/i, '');
  for (let i = at + 1; i < lines.length && /^[ \t]/.test(lines[i]!); i++) v += ` ${lines[i]!.trim()}`;
  return decodeWords(v.trim());
}

/**
 * RFC 2047 encoded words (=?charset?B|Q?text?=), the form nearly every spam subject takes.
 * Hand-written (12 lines) rather than a MIME library: Node's TextDecoder knows the charsets, and
 * an unknown charset or broken word is left as it was, never guessed.
 */
export function decodeWords(text: string): string {
  return text.replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=(\s+(?==\?))?/g, (whole, charset: string, enc: string, data: string) => {
    try {
      const bytes =
        enc.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : Buffer.from(
              data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
              'latin1',
            );
      return new TextDecoder(charset.replace(/\*.*$/, ''), { fatal: true }).decode(bytes);
    } catch {
      return whole;
    }
  });
}
