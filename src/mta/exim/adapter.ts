// The exim adapter: the queue listing (listing.ts), the spool -H attribution (attribution.ts), the
// log parser (logs.ts), the incident operations (ops.ts), all reading one host context (host.ts).
import { sh, type Sh } from '../../transport/quote.js';
import type { MtaAdapter, MtaContext, QueueListing, ReadPlan } from '../types.js';
import { EXIM_ID, eximBinary } from './host.js';
import { eximAttributedCommand, eximAttributedSink, eximQueueCommand, eximQueueSink, parseEximBp } from './listing.js';
import { streamingPlan } from '../plan.js';
import { eximLocalDomains } from './local-domains.js';
import { eximLogFormat } from './logs.js';
import { eximOps } from './ops.js';

const EXIM_ID_WHOLE = new RegExp(`^${EXIM_ID.source}$`);

export const exim = {
  name: 'exim',
  ops: eximOps,
  logs: eximLogFormat,
  localDomains: eximLocalDomains,
  parseListing: (text: string): QueueListing => parseEximBp(text),
  queue: (ctx: MtaContext): ReadPlan<QueueListing> => streamingPlan(eximQueueCommand(ctx), eximQueueSink),
  attributedQueue: (ctx: MtaContext): ReadPlan<QueueListing> => streamingPlan(eximAttributedCommand(ctx), eximAttributedSink),
  // `exim -Mvh ID`: the header part of the spool file, as exim itself shows it.
  headersCommand: (ctx: MtaContext, id: string): Sh | null => (EXIM_ID_WHOLE.test(id) ? sh`${eximBinary(ctx)} -Mvh ${id}` : null),
} satisfies MtaAdapter;
