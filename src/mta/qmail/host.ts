// Where qmail's pieces are on one host, derived from the resolved host context (../host.ts):
// its home (bin/, control/, queue/), the queue directory the scan reads and the purge touches,
// and the uids whose Received headers may prove an AUTH login.
import type { MtaHost } from '../host.js';

/** qmail-qread's "#<inode>". */
export const QMAIL_ID = /[0-9]{1,20}/;

/** The directory of qmail's programs: the detected binary's, else `<qmail_dir>/bin`. */
export function qmailBinDir(h: MtaHost): string {
  const b = h.binary;
  return b && b.includes('/') ? b.slice(0, b.lastIndexOf('/')) : `${h.qmailDir}/bin`;
}

/** What the scripts add to PATH after the sbin directories (shared/scripts/path.sh): qmail's own bin (qmailctl), /usr/local/bin. */
export function qmailPathExtra(h: MtaHost): string {
  return `${h.qmailDir}/bin:/usr/local/bin`;
}

/** The queue directory: `queue_directory`, else `<qmail_dir>/queue`. The scan reads the one the purge touches. */
export function qmailQueueDir(h: MtaHost): string {
  return h.queueDirectory ?? `${h.qmailDir}/queue`;
}
