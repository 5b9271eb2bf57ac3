// The purge request on stdin (issue #8): how a purge's ids, expected senders/recipients and auth
// id are hex-encoded into the command's stdin, checked, and read back by the server-side script.
// Apart from the marker protocol (purge-protocol.ts) because only the stdin commands use it.

import { preparePurge, type PreparedPurge } from './purge-protocol.js';
import type { PurgeRequest } from './types.js';

// Purge requests on stdin (issue #8): the command is a fixed script; ids, expected senders and
// recipients and the auth id travel on its stdin, each value hex-encoded, and the server compares
// them as hex with the hex of what it reads (od). No quoting, no argv growth (sudo re-quotes
// argv, not stdin), and a value holding ESC, CR, quotes or `$(…)` is compared byte for byte.
//
// The request text, one record a line:
//   A <hex auth id>                          kind auth only, first
//   <id> <S> <R>                             one per id, ids validated against the MTA's shape
//       S: "-" (no expected sender) or "s" + hex of the sender ("s" alone: the null sender)
//       R: "-" (no recipient check) or "r" + the expected recipients, each "x" + hex, joined
//          by "," ("r" alone: the empty set, which no message passes)
//   . <number of id lines>                   last: a request cut short in transit is refused

/** Lowercase hex of the UTF-8 bytes of `s`, as `od -An -v -tx1 | tr -d ' \n'` prints them. */
export function hexOf(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex');
}

/** The stdin text for a purge of `ids` (already validated by prepareStdinPurge). */
export function purgeStdinText(req: PurgeRequest, ids: readonly string[]): string {
  const out: string[] = [];
  if (req.match.kind === 'auth') out.push(`A ${hexOf(req.match.authId)}`);
  for (const id of ids) {
    const exp = req.expect?.[id];
    const s = exp === undefined ? '-' : `s${hexOf(exp.sender)}`;
    const r = exp?.recipients === undefined ? '-' : `r${exp.recipients.map((x) => `x${hexOf(x)}`).join(',')}`;
    out.push(`${id} ${s} ${r}`);
  }
  out.push(`. ${ids.length}`);
  return `${out.join('\n')}\n`;
}

/**
 * preparePurge for commands that take their data on stdin: no control-character refusal for
 * senders (they are compared as bytes), and kind bounce needs the expected recipients of every
 * id (the delete-time re-check that a reused id, or a bounce whose recipients changed, is not
 * touched).
 */
export function prepareStdinPurge(
  req: PurgeRequest,
  idShape: RegExp,
  mtaLabel: string,
  needSender: (req: PurgeRequest) => boolean = () => false,
): PreparedPurge {
  // The senders are replaced by '' only for the shared checks; the request itself is unchanged.
  const expect =
    req.expect === undefined ? undefined : Object.fromEntries(Object.entries(req.expect).map(([id, e]) => [id, { ...e, sender: '' }]));
  const prep = preparePurge({ ...req, ...(expect === undefined ? {} : { expect }) }, idShape, mtaLabel, needSender);
  if (req.match.kind !== 'bounce' || prep.refusal !== undefined) return prep;
  const ids: string[] = [];
  for (const id of prep.ids) {
    const r = req.expect?.[id]?.recipients;
    if (r === undefined || !Array.isArray(r))
      prep.skipped.push({ id, reason: 'no expected recipients for this bounce (request.expect): cannot re-check it' });
    else ids.push(id);
  }
  prep.ids = ids;
  return prep;
}
