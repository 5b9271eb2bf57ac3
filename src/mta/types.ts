// The MTA adapter contract: commands are data, parsers are pure functions (no I/O, no clock).

import type { MtaLogFormat } from '../logs/types.js';
import type { Sh } from '../transport/quote.js';
import type { MtaHost } from './host.js';
import type { LocalDomainsSource } from './local-domains-source.js';

export type MtaName = 'sendmail' | 'exim' | 'postfix' | 'qmail';
export const MTA_NAMES: readonly MtaName[] = ['sendmail', 'exim', 'postfix', 'qmail'];

/** One queued message as the MTA's own listing shows it. */
export interface QueueMessage {
  id: string;
  /** Envelope sender without angle brackets; '' for the null sender (<>, MAILER-DAEMON). */
  sender: string;
  /** Undelivered recipients (exim 'D'-marked delivered ones are left out). */
  recipients: string[];
  /** Bytes; null when the listing shows none (or a placeholder). */
  size: number | null;
  /** Seconds since arrival; null when the listing cannot tell. */
  ageSeconds: number | null;
  frozen: boolean;
  held: boolean;
  /** Null-sender message (a bounce / DSN). */
  bounce: boolean;
  /** Postfix queue name (active, deferred, hold, …), sendmail queue dir, qmail 'local'/'remote'. */
  queue?: string;
  /** Last delivery error / deferral reason when the listing gives one. */
  reason?: string;
  /** exim: the local login that set the sender (`<sender> (login)` in -bp), i.e. an untrusted local user. */
  localLogin?: string;
  /** Authenticated submitter, when attribution found one. */
  authId?: string;
  /** Address of the SMTP client that submitted the message, when attribution read one. */
  clientIp?: string;
  /** exim -auth_sender / postfix sasl_sender: the AUTH= address given on MAIL FROM. */
  authSender?: string;
  /**
   * The listing cut the sender short (sendmail mailq prints 39 characters): `sender` is only a
   * prefix and its domain is unknown. Rules must not compare it.
   */
  senderTruncated?: true;
  /** Indexes into `recipients` of addresses the listing cut short (domains unknown). */
  truncatedRecipients?: number[];
}

/** Whether recipient `i` of `m` is whole (its domain can be trusted for local/foreign). */
export function recipientWhole(m: Pick<QueueMessage, 'truncatedRecipients'>, i: number): boolean {
  return !m.truncatedRecipients?.includes(i);
}

/** The counts of messages a parser tallied instead of keeping (QueueSummary's part of them). */
export interface QueueCounts {
  total: number;
  frozen: number;
  bounces: number;
  held: number;
  /** Largest ageSeconds; null when no counted message had an age. */
  oldestSeconds: number | null;
}

export interface QueueListing {
  messages: QueueMessage[];
  /** What the MTA itself says the total is (exim -bpc, postfix footer, sendmail "N requests"). */
  reportedTotal: number | null;
  /** Lines the parser did not understand, with line numbers: never silently dropped. */
  warnings: string[];
  /**
   * Messages read but not kept (a plain scan asked only for counts: see message-store.ts): the
   * listing is `messages` plus these.
   */
  counts?: QueueCounts;
  /**
   * Messages kept compactly instead (StreamOptions.compact, compact-queue.ts): the listing is
   * `messages`, then these.
   */
  compact?: CompactMessages;
}

/** What the rules read of a queue: a kept message list (arrayReader) or a compact queue (compact-queue.ts). */
export interface QueueReader {
  readonly length: number;
  id(i: number): string;
  /** '' for the null sender. */
  sender(i: number): string;
  senderTruncated(i: number): boolean;
  authId(i: number): string | undefined;
  clientIp(i: number): string | undefined;
  recipientCount(i: number): number;
  bounce(i: number): boolean;
  /** The whole message; only bounces are kept whole by a compact queue (others: null). */
  whole(i: number): QueueMessage | null;
}

/** Messages kept compactly (CompactQueue): readable as the rules read them, and counted. */
export interface CompactMessages extends QueueReader {
  counts(): QueueCounts;
}

/** What the adapter knows of the host to build commands: its resolved MTA settings (host.ts). */
export type MtaContext = MtaHost;

/** A remote read: one shell command, one parser for what it prints. */
export interface ReadPlan<T> {
  command: Sh;
  /**
   * Data for the command's stdin. Server-derived values (ids, senders, recipients, auth ids) go
   * here, never into `command`: no quoting growth, no argv limit, nothing a spammer chose on argv.
   */
  stdin?: string;
  parse(stdout: string, stderr: string, code: number | null): T;
  /**
   * The same parse, fed line by line as the output arrives (no line ending; a trailing CR cut):
   * the scan holds only the parser's state, never the whole output. `parse` gives the same result.
   */
  stream?(o?: StreamOptions): LineSink<T>;
}

export interface StreamOptions {
  /** Keep no messages, only their counts (QueueListing.counts); plans that need messages ignore it. */
  countsOnly?: boolean;
  /**
   * Keep only what the scan's rules read, compactly (QueueListing.compact): for an attributed scan
   * without --messages. Plans that do not support it keep their messages whole.
   */
  compact?: boolean;
}

/** An incremental parser: `line` for every output line in order, then `end` once. */
export interface LineSink<T> {
  line(text: string): void;
  end(stderr: string, code: number | null): T;
}

export interface MtaAdapter {
  name: MtaName;
  /** Incident operations: restart, purge/hold. */
  ops: MtaOperations;
  /** Where and how it logs, and the log parser. */
  logs: MtaLogFormat;
  /** What its configuration says its own domains are (a bounce to any other is foreign). */
  localDomains: LocalDomainsSource;
  /** Read the whole queue in ONE round trip (listing and the MTA's own count together). */
  queue(ctx: MtaContext): ReadPlan<QueueListing>;
  /**
   * The queue with each message's authenticated submitter (authId), read in ONE round trip
   * together with the listing. authId stays undefined when it cannot be established.
   */
  attributedQueue(ctx: MtaContext): ReadPlan<QueueListing>;
  /**
   * A saved queue listing (`mailsweep parse --kind queue`): the format is picked from the text
   * where the MTA has several. Pure, like every parser: the clock comes in.
   */
  parseListing(text: string, nowSeconds: number): QueueListing;
  /**
   * The command printing one queued message's headers (for the operator and the evidence), or
   * null where the MTA has no such view or `id` is not one of its ids (ids are server data).
   */
  headersCommand(ctx: MtaContext, id: string): Sh | null;
}

/** Which queued messages a purge may touch: re-checked on the server for every id at delete time. */
export type PurgeMatch =
  /** Submitted by this authenticated account (exim -auth_id, postfix sasl_username, sendmail log join). */
  | { kind: 'auth'; authId: string }
  /** A null-sender bounce (backscatter). */
  | { kind: 'bounce' };

export interface PurgeRequest {
  /** The ids the operator saw and confirmed; nothing else is ever touched. */
  ids: string[];
  match: PurgeMatch;
  /** 'hold' quarantines for review (postsuper -h, exim -Mf, sendmail quarantine) instead of deleting. */
  mode: 'delete' | 'hold';
  /**
   * What the listing showed per id (envelope sender without brackets, '' for <>). Re-checked on
   * the server so a reused id is never touched: required by sendmail (qf S line) and qmail
   * (info file), an extra check on exim (-H line 3) and postfix (postcat sender record).
   * `recipients` (set for backscatter): the message's undelivered recipients at delete time must
   * all be among these (exact strings), else it is skipped — the caller proved each of them
   * foreign and tied to the account from the listing it saw.
   */
  expect?: Record<string, { sender: string; recipients?: string[] }>;
}

export interface PurgeResult {
  /** Ids deleted or held, as the MTA's tool confirmed. */
  done: string[];
  /** Ids left alone, with why (gone already, no longer matching, tool refused). */
  skipped: { id: string; reason: string }[];
  warnings: string[];
  /**
   * What the purge did to the MTA around the removal, in order ("paused: qmail-send stopped
   * (…)", "resumed: qmail-send running, pid N"); absent when nothing was paused.
   */
  notes?: string[];
}

export interface RestartResult {
  ok: boolean;
  /** How it was restarted (systemctl, init script, qmailctl) and the daemon's state after. */
  detail: string;
}

export interface MtaOperations {
  /** Restart the MTA to cut the spammer's open SMTP sessions, and check it is running again. */
  restart(ctx: MtaContext): ReadPlan<RestartResult>;
  /** Delete or hold exactly the requested messages, re-checking each one; one round trip. */
  purge(ctx: MtaContext, req: PurgeRequest): ReadPlan<PurgeResult>;
}
