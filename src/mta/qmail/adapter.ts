// The qmail adapter: the listing (qmail-qstat, qmail-qread, qmailctl stat: listing.ts), the
// mess-file attribution (attribution.ts, proof.ts), the log parser (logs.ts), the incident
// operations (ops.ts, supervise.ts), all reading one host context (host.ts).

import type { Sh } from '../../transport/quote.js';
import type { MtaAdapter, MtaContext, QueueListing, ReadPlan } from '../types.js';
import { qmailLocalDomains } from './local-domains.js';
import { qmailLogFormat } from './logs.js';
import { qmailOps } from './ops.js';
import { streamingPlan } from '../plan.js';
import { parseQmailQueueText } from './listing.js';
import { QmailQueueSink, qmailQueueCommand } from './queue.js';
import { qmailAttributedCommand, qmailAttributedSink } from './attribution.js';

export const qmail = {
  name: 'qmail',
  ops: qmailOps,
  logs: qmailLogFormat,
  localDomains: qmailLocalDomains,
  queue: (ctx: MtaContext): ReadPlan<QueueListing> =>
    streamingPlan(qmailQueueCommand(ctx), (now, o) => new QmailQueueSink(now, null, o.countsOnly)),
  // qmail-qstat, qmailctl stat (service lines + counts), qmail-qread, or counts + listing.
  parseListing: (text: string, nowSeconds: number): QueueListing => parseQmailQueueText(text, nowSeconds),
  attributedQueue(ctx: MtaContext): ReadPlan<QueueListing> {
    return streamingPlan(qmailAttributedCommand(ctx), (now) => qmailAttributedSink(now, ctx.qmailSmtpdUids));
  },
  // qmail has no header view of its own (qmHandle reads the mess file); none is offered.
  headersCommand: (): Sh | null => null,
} satisfies MtaAdapter;
