// One queued message's headers, for the operator to confirm "yes, that is spam" (seed 003 step 3).
// The command that prints them is each adapter's headersCommand.
/** Headers worth showing, capped: the server's text is data, shown with control characters replaced. */
export function sampleHeaders(text: string, maxLines = 25): string {
  const keep = /^(from|to|subject|date|reply-to|return-path|received|message-id|x-mailer|x-php-originating-script|content-type):/i;
  const lines = text.split('\n').map((l) => l.replace(/^\d{3}[A-Z* ] /, ''));
  const picked = lines.filter((l) => keep.test(l));
  // eslint-disable-next-line no-control-regex
  return (picked.length ? picked : lines)
    .slice(0, maxLines)
    .map((l) => l.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?').slice(0, 300))
    .join('\n');
}
