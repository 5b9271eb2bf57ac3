// qmail adapter. The listing (qmail-qstat, qmail-qread, qmailctl stat) and the queue command
// live in qmail-queue.ts, the mess-file attribution in qmail-mess.ts; this module wires them
// into the adapter and re-exports them, so import paths stay.

import type { MtaAdapter, MtaContext, QueueListing, ReadPlan } from './types.js';
import { qmailOps } from './qmail-ops.js';
import { qmailSmtpdUids } from './qmail-proof.js';
import { printable } from './util.js';
import { planAt } from './plan.js';
import { parseQmailQueueOutput, parseQmailQueueText, qmailQueueCommand } from './qmail-queue.js';
import { parseQmailAttributedOutput, qmailAttributedCommand } from './qmail-mess.js';

export {
  parseQmailQread,
  parseQmailQstat,
  parseQmailQueueOutput,
  parseQmailQueueText,
  parseQmailServiceLine,
  qmailQueueCommand,
  type QmailQstat,
  type QmailQueueListing,
  type QmailQueueMessage,
  type QmailQueueText,
  type QmailService,
} from './qmail-queue.js';
export {
  MESS_END_MARKER,
  MESS_MARKER,
  attributeQmailMessages,
  parseQmailAttributedOutput,
  parseQmailMessDump,
  qmailAttributedCommand,
  type QmailMessDump,
  type QmailMessEnd,
  type QmailMessRecord,
} from './qmail-mess.js';

export const qmail = {
  name: 'qmail',
  ops: qmailOps,
  queue: (ctx: MtaContext): ReadPlan<QueueListing> => planAt(qmailQueueCommand(ctx), parseQmailQueueOutput),
  // qmail-qstat, qmailctl stat (service lines + counts), qmail-qread, or counts + listing.
  parseListing: (text: string, nowSeconds: number): QueueListing => parseQmailQueueText(text, nowSeconds),
  attributedQueue(ctx: MtaContext): ReadPlan<QueueListing> {
    const { uids, bad } = qmailSmtpdUids(ctx);
    return planAt(qmailAttributedCommand(ctx), (stdout, stderr, code, now) => {
      const l = parseQmailAttributedOutput(stdout, stderr, code, now, uids);
      if (bad.length) l.warnings.unshift(`qmail_smtpd_uids: not a uid, ignored: ${printable(bad.join(', '))}`);
      return l;
    });
  },
} satisfies MtaAdapter;
