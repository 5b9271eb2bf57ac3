// The postfix adapter: the queue listing (listing.ts) and its reads (queue.ts), the postcat attribution (attribution.ts),
// the log parser (logs.ts), the incident operations (ops.ts), all reading one host context (host.ts).
import { raw, sh, type Sh } from '../../transport/quote.js';
import { streamingPlan } from '../plan.js';
import type { MtaAdapter, MtaContext, QueueListing, ReadPlan } from '../types.js';
import { POSTFIX_ID, postfixTool } from './host.js';
import { parsePostqueueJson, parsePostqueueP } from './listing.js';
import { PostfixAttributedStream, PostfixListingStream, postfixAttributedCommand, postfixQueueCommand } from './queue.js';
import { postfixLocalDomains } from './local-domains.js';
import { postfixLogFormat } from './logs.js';
import { postfixOps } from './ops.js';

const POSTFIX_ID_WHOLE = new RegExp(`^${POSTFIX_ID.source}$`);

export const postfix = {
  name: 'postfix',
  ops: postfixOps,
  logs: postfixLogFormat,
  localDomains: postfixLocalDomains,
  queue: (ctx: MtaContext): ReadPlan<QueueListing> =>
    streamingPlan(postfixQueueCommand(ctx), (now, o) => new PostfixListingStream(now, undefined, o.countsOnly)),
  attributedQueue: (ctx: MtaContext): ReadPlan<QueueListing> =>
    streamingPlan(postfixAttributedCommand(ctx), (now) => new PostfixAttributedStream(now)),
  // postqueue -j (JSON lines) or postqueue -p / mailq.
  parseListing: (text: string, nowSeconds: number): QueueListing =>
    text.trimStart().startsWith('{') ? parsePostqueueJson(text, nowSeconds) : parsePostqueueP(text, { nowSeconds }),
  // `postcat -h -q ID`: the message's header records.
  headersCommand: (ctx: MtaContext, id: string): Sh | null =>
    POSTFIX_ID_WHOLE.test(id) ? sh`${raw(postfixTool(ctx, 'postcat'))} -h -q ${id}` : null,
} satisfies MtaAdapter;
