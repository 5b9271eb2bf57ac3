// The sendmail adapter: the `mailq` listing (listing.ts, queue.ts), the mail-log attribution
// (attribution.ts), the log parser (logs.ts), the incident operations (ops.ts), all reading one
// host context (host.ts).

import { sh, type Sh } from '../../transport/quote.js';
import { SENDMAIL_ID, sendmailQueueDir } from './host.js';
import { sendmailLocalDomains } from './local-domains.js';
import { sendmailLogFormat } from './logs.js';
import { sendmailOps } from './ops.js';
import type { MtaAdapter, MtaContext, QueueListing, ReadPlan } from '../types.js';
import { streamingPlan } from '../plan.js';
import { parseMailq } from './listing.js';
import { SendmailListingStream, sendmailQueueCommand } from './queue.js';
import { SendmailAttributedStream, sendmailAttributedCommand } from './attribution.js';

const SENDMAIL_ID_WHOLE = new RegExp(`^${SENDMAIL_ID.source}$`);

export const sendmail = {
  name: 'sendmail',
  ops: sendmailOps,
  logs: sendmailLogFormat,
  localDomains: sendmailLocalDomains,
  queue: (ctx: MtaContext): ReadPlan<QueueListing> =>
    streamingPlan(sendmailQueueCommand(ctx), (now, o) => new SendmailListingStream(now, undefined, o.countsOnly)),
  attributedQueue: (ctx: MtaContext): ReadPlan<QueueListing> =>
    streamingPlan(sendmailAttributedCommand(ctx), (now) => new SendmailAttributedStream(now)),
  parseListing: (text: string, nowSeconds: number): QueueListing => parseMailq(text, { nowSeconds }),
  // The qf file's H lines are the headers (op.me); their ?flags? prefixes are stripped.
  headersCommand: (ctx: MtaContext, id: string): Sh | null =>
    SENDMAIL_ID_WHOLE.test(id) ? sh`sed -n 's/^H\\(?[^?]*?\\)\\{0,1\\}//p' ${`${sendmailQueueDir(ctx)}/qf${id}`}` : null,
} satisfies MtaAdapter;
