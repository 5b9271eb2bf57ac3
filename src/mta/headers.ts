// One queued message's headers, for the operator to confirm "yes, that is spam" (seed 003 step 3).
import { sh } from '../transport/quote.js';
import type { MtaContext, MtaName } from './types.js';

const ID_SHAPE = /^[A-Za-z0-9-]{6,32}$/;

/** The command that prints a queued message's headers; null where the MTA has no such view. */
export function headersCommand(mta: MtaName, ctx: MtaContext, id: string): string | null {
  // Ids come from the queue listing (server data): shape-checked here, and quoted anyway.
  if (!ID_SHAPE.test(id)) return null;
  switch (mta) {
    case 'exim':
      return sh`${ctx.binary ?? 'exim'} -Mvh ${id}`;
    case 'postfix':
      return sh`postcat -h -q ${id}`;
    case 'sendmail': {
      const dir = typeof ctx.vars?.queue_directory === 'string' ? ctx.vars.queue_directory : '/var/spool/mqueue';
      // qf lines starting with H are headers (op.me); ?flags? prefixes are stripped.
      return sh`sed -n 's/^H\\(?[^?]*?\\)\\{0,1\\}//p' ${`${dir}/qf${id}`}`;
    }
    case 'qmail':
      return null;
  }
}

/** Headers worth showing, capped: the server's text is data, shown with control characters replaced. */
export function sampleHeaders(text: string, maxLines = 25): string {
  const keep = /^(from|to|subject|date|reply-to|return-path|received|message-id|x-mailer|x-php-originating-script|content-type):/i;
  const lines = text.split('\n').map((l) => l.replace(/^\d{3}[A-Z* ] /, ''));
  const picked = lines.filter((l) => keep.test(l));
  // eslint-disable-next-line no-control-regex
  return (picked.length ? picked : lines).slice(0, maxLines).map((l) => l.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?').slice(0, 300)).join('\n');
}
