// Sendmail queue read: the `mailq` + `mailq -Ac` command (scripts/queue.sh) and its sectioned
// output, kept apart from the adapter so the attributed listing (attribution.ts) builds on it.
//
// `mailq` lists the MTA queue (and on Debian the MSP queue too); `mailq -Ac` lists
// the MSP client queue (/var/spool/clientmqueue), where mail from local programs (PHP mail(),
// cron) waits when the MTA refuses it. Directories already listed by the first call are
// dropped from the second, so Debian's combined output is not counted twice.

import { mailqSettings } from './host.js';
import type { Sh } from '../../transport/quote.js';
import { serverScript } from '../script.js';
import type { MtaContext } from '../types.js';
import { COMMAND_FAILED, failureText, printable, shiftWarnings, openOutput } from '../util.js';
import { parseMailq, type SendmailQueueListing } from './listing.js';

export function sendmailQueueCommand(ctx: MtaContext): Sh {
  return serverScript('sendmail/scripts/queue.sh', mailqSettings(ctx));
}

export function parseSendmailQueueOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): SendmailQueueListing {
  const { split, warnings, nowSeconds, tzOffsetSeconds } = openOutput(stdout, stderr, ['mta', 'msp'], localNowSeconds);
  const opts = { nowSeconds, tzOffsetSeconds };
  const mta = split.sections.get('mta');
  const msp = split.sections.get('msp');
  if (!mta) {
    const p = parseMailq(stdout, opts);
    warnings.push(`${COMMAND_FAILED} mailq output incomplete (exit ${code ?? 'none'}): ${failureText(stderr || stdout)}`);
    return { ...p, reportedTotal: null, warnings: [...warnings, ...p.warnings] };
  }
  const main = parseMailq(mta.text, opts);
  const mainOk = mta.rc === 0 && (main.dirs.length > 0 || main.totals.length > 0);
  if (!mainOk) warnings.push(`${COMMAND_FAILED} mailq exited ${mta.rc}: ${failureText(mta.text)}`);
  warnings.push(...shiftWarnings(main.warnings, mta.firstLine, 'mailq'));
  const messages = [...main.messages];
  const dirs = [...main.dirs];
  const totals = [...main.totals];
  const transient = [...main.transient];
  let reportedTotal = mainOk ? main.reportedTotal : null;

  if (msp) {
    const extra = parseMailq(msp.text, opts);
    const seen = new Set(main.dirs.map((d) => d.dir));
    const fresh = extra.dirs.filter((d) => !seen.has(d.dir));
    if (msp.rc !== 0 || extra.dirs.length === 0) {
      // No MSP queue configured (no submit.cf) is common; say so once, do not fail the host.
      warnings.push(`mailq -Ac (MSP queue) not listed (exit ${msp.rc}): ${failureText(msp.text)}`);
    } else if (fresh.length > 0) {
      const freshNames = new Set(fresh.map((d) => d.dir));
      const inFresh = (q: string | undefined): boolean => q !== undefined && freshNames.has(q);
      messages.push(...extra.messages.filter((m) => inFresh(m.queue)));
      const freshTransient = extra.transient.filter((t) => inFresh(t.queue));
      transient.push(...freshTransient);
      dirs.push(...fresh);
      warnings.push(...shiftWarnings(extra.warnings, msp.firstLine, 'mailq -Ac'));
      const add = fresh.reduce((a, d) => a + d.count, 0);
      if (reportedTotal !== null) reportedTotal += Math.max(0, add - freshTransient.length);
    }
  } else warnings.push('mailq -Ac section missing');
  if (split.trailing.trim() !== '') warnings.push(`unexpected output after the listing: ${printable(split.trailing)}`);
  return { messages, reportedTotal, warnings, dirs, totals, transient };
}
