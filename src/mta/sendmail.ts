// Sendmail adapter. The work lives in sendmail-mailq.ts (the `mailq` listing parser),
// sendmail-queue.ts (the queue command and its output) and sendmail-attribution.ts (the mail
// log join); this module wires them into the adapter and re-exports them, so import paths stay.

import { sendmailOps } from './sendmail-ops.js';
import type { MtaAdapter, MtaContext, QueueListing, ReadPlan } from './types.js';
import { planAt } from './plan.js';
import { parseMailq } from './sendmail-mailq.js';
import { parseSendmailQueueOutput, sendmailQueueCommand } from './sendmail-queue.js';
import { parseSendmailAttributedOutput, sendmailAttributedCommand } from './sendmail-attribution.js';

export {
  MAILQ_RECIPIENT_WIDTH,
  MAILQ_SENDER_WIDTH,
  decodeMailqAddress,
  parseMailq,
  type MailqAddress,
  type MailqOptions,
  type SendmailQueueDir,
  type SendmailQueueListing,
  type SendmailQueueMessage,
  type SendmailTransientEntry,
} from './sendmail-mailq.js';
export { parseSendmailQueueOutput, sendmailQueueCommand } from './sendmail-queue.js';
export {
  SENDMAIL_LOG_MARKER,
  mailLogGrep,
  parseSendmailAttributedOutput,
  parseSendmailAuthLog,
  sendmailAttributedCommand,
  type SendmailAuthLine,
  type SendmailFromLine,
  type SendmailLogJoin,
} from './sendmail-attribution.js';

export const sendmail = {
  name: 'sendmail',
  ops: sendmailOps,
  queue: (ctx: MtaContext): ReadPlan<QueueListing> => planAt(sendmailQueueCommand(ctx), parseSendmailQueueOutput),
  attributedQueue: (ctx: MtaContext): ReadPlan<QueueListing> => planAt(sendmailAttributedCommand(ctx), parseSendmailAttributedOutput),
  parseListing: (text: string, nowSeconds: number): QueueListing => parseMailq(text, { nowSeconds }),
} satisfies MtaAdapter;
