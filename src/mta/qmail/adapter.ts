// The qmail adapter: the listing (qmail-qstat, qmail-qread, qmailctl stat: listing.ts), the
// mess-file attribution (attribution.ts, proof.ts), the log parser (logs.ts), the incident
// operations (ops.ts, supervise.ts), all reading one host context (host.ts).

import type { Sh } from '../../transport/quote.js';
import type { MtaAdapter, MtaContext, QueueListing, ReadPlan } from '../types.js';
import { qmailLocalDomains } from './local-domains.js';
import { qmailLogFormat } from './logs.js';
import { qmailOps } from './ops.js';
import { planAt } from '../plan.js';
import { parseQmailQueueOutput, parseQmailQueueText, qmailQueueCommand } from './listing.js';
import { parseQmailAttributedOutput, qmailAttributedCommand } from './attribution.js';

export const qmail = {
  name: 'qmail',
  ops: qmailOps,
  logs: qmailLogFormat,
  localDomains: qmailLocalDomains,
  queue: (ctx: MtaContext): ReadPlan<QueueListing> => planAt(qmailQueueCommand(ctx), parseQmailQueueOutput),
  // qmail-qstat, qmailctl stat (service lines + counts), qmail-qread, or counts + listing.
  parseListing: (text: string, nowSeconds: number): QueueListing => parseQmailQueueText(text, nowSeconds),
  attributedQueue(ctx: MtaContext): ReadPlan<QueueListing> {
    return planAt(qmailAttributedCommand(ctx), (stdout, stderr, code, now) =>
      parseQmailAttributedOutput(stdout, stderr, code, now, ctx.qmailSmtpdUids),
    );
  },
  // qmail has no header view of its own (qmHandle reads the mess file); none is offered.
  headersCommand: (): Sh | null => null,
} satisfies MtaAdapter;
