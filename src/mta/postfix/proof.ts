// The postfix submission proof, defined once: which queued message an account submitted, read from
// one queue file's `postcat -e` lines. Its awk twin is scripts/proof.awk (the purge's delete-time
// re-check runs it); test/mta/postfix-proof.test.ts runs one table of cases through both.
//
// postcat -e prints, per queue file (postcat.c, postfix 2.7 to 3.9):
//   *** ENVELOPE RECORDS <queue>/<h>/<id> ***    the envelope segment: one "name: value" line a record
//   *** MESSAGE CONTENTS <path> ***              headers and body: not printed with -e alone
//   *** HEADER EXTRACTED <path> ***              the extracted segment (recipients of sendmail -t)
//   *** MESSAGE FILE END <path> ***
// smtpd hands cleanup the sasl_* attributes before the one sender record. A value is printed raw, so
// a value holding a newline can print a line that looks like a record or a marker: the rules below
// are what such a line cannot get past.
//
// The proof, for queue id ID:
//   - the dump is whole: its first line is ID's ENVELOPE RECORDS marker, its last ID's MESSAGE FILE
//     END marker ("queue file not readable" otherwise);
//   - each of the four markers once, in order, each naming ID ("queue file not understood: markers");
//   - records count in the envelope and extracted segments only, never in the message content;
//   - exactly one "sender: " record ("queue file not understood: N sender records");
//   - the submitter is the value of the one "named_attribute: sasl_username=" record when there is
//     exactly one, it comes before the sender record and it is not empty; otherwise none (null);
//   - the recipients are the "recipient: " records, in order (done_recipient and
//     original_recipient are not delivery targets).

export const PC_MARKERS = ['ENVELOPE RECORDS', 'MESSAGE CONTENTS', 'HEADER EXTRACTED', 'MESSAGE FILE END'] as const;
export const PC_SENDER = 'sender: ';
export const PC_RECIPIENT = 'recipient: ';
export const PC_SASL_USERNAME = 'named_attribute: sasl_username=';

export type PostcatProof =
  | {
      ok: true;
      /** The account that submitted it (sasl_username), or null: not proven to be any account's. */
      authId: string | null;
      /** The envelope sender as the queue file holds it ('' for the null sender). */
      sender: string;
      recipients: string[];
      /** The record lines of the envelope and extracted segments, in order (for the other attributes). */
      records: string[];
    }
  | { ok: false; why: string };

/** Which marker `line` starts (0..3), or -1: the prefix decides, as in the awk twin. */
export function markerOf(line: string): number {
  return PC_MARKERS.findIndex((m) => line.startsWith(`*** ${m} `));
}

/** The proof over one queue file's `postcat -e` lines (split at "\n" only, as awk splits them). */
export function postcatProof(id: string, lines: readonly string[]): PostcatProof {
  const suffix = `/${id} ***`;
  const first = lines[0] ?? '';
  const last = lines[lines.length - 1] ?? '';
  if (lines.length < 2 || markerOf(first) !== 0 || !first.endsWith(suffix) || markerOf(last) !== 3 || !last.endsWith(suffix))
    return { ok: false, why: 'queue file not readable' };
  const records: string[] = [];
  let seen = 0;
  for (const line of lines.slice(1)) {
    const m = markerOf(line);
    if (m >= 0) {
      if (m !== seen + 1 || !line.endsWith(suffix)) return { ok: false, why: 'queue file not understood: markers' };
      seen = m;
    } else if (seen !== 1) records.push(line); // seen 1: inside the message content
  }
  if (seen !== 3) return { ok: false, why: 'queue file not understood: markers' };
  const senders = records.flatMap((r, i) => (r.startsWith(PC_SENDER) ? [i] : []));
  if (senders.length !== 1) return { ok: false, why: `queue file not understood: ${senders.length} sender records` };
  const at = senders[0]!;
  const auths = records.flatMap((r, i) => (r.startsWith(PC_SASL_USERNAME) ? [i] : []));
  const authLine = auths.length === 1 && auths[0]! < at ? records[auths[0]!]!.slice(PC_SASL_USERNAME.length) : '';
  return {
    ok: true,
    authId: authLine === '' ? null : authLine,
    sender: records[at]!.slice(PC_SENDER.length),
    recipients: records.filter((r) => r.startsWith(PC_RECIPIENT)).map((r) => r.slice(PC_RECIPIENT.length)),
    records,
  };
}
