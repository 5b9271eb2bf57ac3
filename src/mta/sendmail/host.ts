// Where sendmail's pieces are on one host, derived from the resolved host context (../host.ts):
// the binary that lists the queue (mailq or sendmail -bp), the one that runs it, the queue and logs.
import type { MtaHost } from '../host.js';

/** 14 characters since 8.12 (12 before); mailq's own parser accepts 6-20. */
export const SENDMAIL_ID = /[0-9A-Za-z]{8,20}/;

export const SENDMAIL_PID_FILES = [
  '/run/sendmail/mta/sendmail.pid',
  '/var/run/sendmail/mta/sendmail.pid',
  '/run/sendmail.pid',
  '/var/run/sendmail.pid',
];

/** Where sendmail logs through syslog on Debian/Ubuntu and RHEL (first existing wins). */
export const SENDMAIL_LOGS: readonly string[] = ['/var/log/mail.log', '/var/log/maillog'];

/** The listing's settings (scripts/queue.sh): `mailq`, or the sendmail binary as `sendmail -bp`. */
export function mailqSettings(h: MtaHost): { MS_PATH_EXTRA: string; MS_MAILQ: string; MS_BP: string } {
  const b = h.binary;
  const mailq = !b || /(^|\/)mailq$/.test(b);
  return { MS_PATH_EXTRA: '/usr/lib', MS_MAILQ: b ?? 'mailq', MS_BP: mailq ? '' : '1' };
}

/** The sendmail binary itself (detection may have found mailq, its link). */
export function sendmailBinary(h: MtaHost): string {
  const b = h.binary;
  if (!b) return 'sendmail';
  if (/(^|\/)mailq$/.test(b)) return b.includes('/') ? `${b.slice(0, b.lastIndexOf('/') + 1)}sendmail` : 'sendmail';
  return b;
}

/** The queue the qf files are in: `queue_directory`, else Debian's and RHEL's /var/spool/mqueue. */
export function sendmailQueueDir(h: MtaHost): string {
  return h.queueDirectory ?? '/var/spool/mqueue';
}
