// The MTA adapter contract: commands are data, parsers are pure functions (no I/O, no clock).

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
}

export interface QueueListing {
  messages: QueueMessage[];
  /** What the MTA itself says the total is (exim -bpc, postfix footer, sendmail "N requests"). */
  reportedTotal: number | null;
  /** Lines the parser did not understand, with line numbers: never silently dropped. */
  warnings: string[];
}

/** Facts about the host the adapter needs to build commands (from detection or inventory). */
export interface MtaContext {
  /** Absolute path of the MTA's main binary when known (e.g. /usr/sbin/exim4). */
  binary?: string;
  /** Extra per-host settings from the inventory (queue dirs, log paths, config dirs…). */
  vars?: Record<string, unknown>;
}

/** A remote read: one shell command, one parser for what it prints. */
export interface ReadPlan<T> {
  command: string;
  parse(stdout: string, stderr: string, code: number | null): T;
}

export interface MtaAdapter {
  name: MtaName;
  /** Read the whole queue in ONE round trip (listing and the MTA's own count together). */
  queue(ctx: MtaContext): ReadPlan<QueueListing>;
  /**
   * The queue with each message's authenticated submitter (authId), read in ONE round trip
   * together with the listing. authId stays undefined when it cannot be established.
   */
  attributedQueue?(ctx: MtaContext): ReadPlan<QueueListing>;
}
