// Postfix attribution: sasl_username and client address from the queue files' envelope
// records via `postcat -e`. Apart from postfix.ts because the postqueue listing needs none of it.

import { postfixTool, POSTFIX_ID } from './host.js';
import { sh } from '../../transport/quote.js';
import type { MtaContext, QueueMessage } from '../types.js';
import { COMMAND_FAILED, capWarnings, lineWarning, rcEcho, splitLines } from '../util.js';

// Attribution: sasl_username is not in `postqueue -j`; the queue files' envelope records
// carry it (smtpd -> cleanup named attributes). `postcat -e` takes many files at once; the
// files are listed with find from the queue directory, so the ids are the file names.
//
//   *** ENVELOPE RECORDS deferred/8/8A1B2C3D4E ***
//   message_size:             512             234               1               0             512               0
//   message_arrival_time: Mon Nov 23 04:30:01 2026
//   create_time: Mon Nov 23 04:30:01 2026
//   named_attribute: log_client_address=127.0.0.1
//   named_attribute: sasl_method=PLAIN
//   named_attribute: sasl_username=bob@example.test
//   sender: bob@example.test
//   recipient: user1@remote.example
//   *** MESSAGE CONTENTS deferred/8/8A1B2C3D4E ***
//   *** HEADER EXTRACTED deferred/8/8A1B2C3D4E ***
//   *** MESSAGE FILE END deferred/8/8A1B2C3D4E ***

/** The queues postqueue lists (maildrop holds local submissions: no SASL there). */
export const POSTFIX_ATTRIBUTION_QUEUES = ['incoming', 'active', 'deferred', 'hold'] as const;

/**
 * Only the lines the join needs cross the wire (postcat prints ~40 lines per message):
 * file markers, sasl_* and log_client_address attributes, sender, recipients, diagnostics.
 */
const POSTCAT_KEEP =
  '^([*]{3} [A-Z]|named_attribute: (sasl_[a-z]+|log_client_address)=|sender: |recipient: |[^ ]*(postcat|find|sh)(\\[[0-9]+\\])?: )';

/** Shell lines printing the queue directory (section "qdir") and the kept postcat -e lines ("postcat"). */
export function postcatEnvelopeScript(ctx: MtaContext): string {
  const postcat = postfixTool(ctx, 'postcat');
  const qd = ctx.queueDirectory ? sh`qd=${ctx.queueDirectory}; rc=0` : `qd=$(${postfixTool(ctx, 'postconf')} -h queue_directory 2>&1); rc=$?`;
  // A file that vanishes between find and postcat (delivered, moved by qmgr) makes postcat
  // exit fatally for the whole batch: that batch is then retried one file at a time.
  const cat = `${postcat} -e "$@" || for f in "$@"; do ${postcat} -e "$f"; done`;
  return [
    `${qd}; printf '%s\\n' "$qd"; echo "__MAILSWEEP_RC__ qdir $rc"`,
    `if [ "$rc" -ne 0 ]; then false; elif cd "$qd"; then ` +
      sh`( find ${[...POSTFIX_ATTRIBUTION_QUEUES]} -type f -exec sh -c ${cat} postcat {} + ) 2>&1 | grep -E ${POSTCAT_KEEP}; ` +
      `[ "$?" -le 1 ]; else false; fi; ${rcEcho('postcat')}`,
  ].join('\n');
}

export interface PostcatEnvelope {
  id: string;
  /** First path component: incoming, active, deferred, hold. */
  queue: string;
  sender?: string;
  recipients: string[];
  saslUsername?: string;
  saslMethod?: string;
  saslSender?: string;
  clientAddress?: string;
  /** The MESSAGE FILE END marker was seen (the file was read to the end). */
  complete: boolean;
}

const PC_MARKER = /^\*\*\* (ENVELOPE RECORDS|MESSAGE CONTENTS|HEADER EXTRACTED|MESSAGE FILE END) (\S+) \*\*\*$/;
const PC_RECORD = /^([a-z_]+): ?(.*)$/;
const PC_DIAG = /^postcat(?:\[\d+\])?: (warning|fatal|error): (.*)$/;

/** Parse `postcat -e` output of several queue files. Never throws. */
export function parsePostcatEnvelopes(text: string): { envelopes: Map<string, PostcatEnvelope>; warnings: string[] } {
  const envelopes = new Map<string, PostcatEnvelope>();
  const warnings: string[] = [];
  let cur: PostcatEnvelope | null = null;
  splitLines(text).forEach((line, i) => {
    const n = i + 1;
    const mk = PC_MARKER.exec(line);
    if (mk) {
      const path = mk[2] ?? '';
      const parts = path.replace(/^\.\//, '').split('/');
      const id = parts[parts.length - 1] ?? '';
      if (!/^[0-9A-Za-z]+$/.test(id) || parts.length < 2) {
        warnings.push(lineWarning(n, 'postcat: not a queue file path', line));
        cur = null;
        return;
      }
      if (mk[1] === 'ENVELOPE RECORDS') {
        // A retried file repeats its block: merge into the first one.
        cur = envelopes.get(id) ?? { id, queue: parts[0] ?? '', recipients: [], complete: false };
        if (!envelopes.has(id)) envelopes.set(id, cur);
        else cur.recipients = [];
      } else if (cur && cur.id === id) {
        if (mk[1] === 'MESSAGE FILE END') cur.complete = true;
      } else {
        warnings.push(lineWarning(n, 'postcat: marker outside its file', line));
        cur = null;
      }
      return;
    }
    const d = PC_DIAG.exec(line);
    if (d) {
      warnings.push(lineWarning(n, d[1] === 'warning' ? 'postcat warning' : `${COMMAND_FAILED} postcat`, line));
      return;
    }
    const r = PC_RECORD.exec(line);
    if (r && cur) {
      const c: PostcatEnvelope = cur;
      const name = r[1] ?? '';
      const value = r[2] ?? '';
      if (name === 'sender') c.sender ??= value;
      else if (name === 'recipient') c.recipients.push(value);
      else if (name === 'named_attribute') {
        const eq = value.indexOf('=');
        const an = eq < 0 ? value : value.slice(0, eq);
        const av = eq < 0 ? '' : value.slice(eq + 1);
        if (an === 'sasl_username') c.saslUsername ??= av;
        else if (an === 'sasl_method') c.saslMethod ??= av;
        else if (an === 'sasl_sender') c.saslSender ??= av;
        else if (an === 'log_client_address') c.clientAddress = av;
        else if (an === 'client_address') c.clientAddress ??= av;
      }
      return;
    }
    if (line.trim() === '') return;
    warnings.push(lineWarning(n, cur ? 'postcat: line not understood' : 'postcat: line outside any file', line));
  });
  return { envelopes, warnings: capWarnings(warnings) };
}

/**
 * Attach authId / authSender / clientIp from the envelopes; returns warnings. Maildrop messages
 * (local postdrop submissions, never SASL) are not read and not reported missing.
 */
export function attributePostfixMessages(messages: QueueMessage[], envelopes: Map<string, PostcatEnvelope>): string[] {
  const missing: string[] = [];
  for (const m of messages) {
    const e = envelopes.get(m.id);
    if (!e) {
      if (m.queue !== 'maildrop') missing.push(m.id);
      continue;
    }
    if (e.saslUsername !== undefined && e.saslUsername !== '') m.authId = e.saslUsername;
    if (e.saslSender !== undefined && e.saslSender !== '') m.authSender = e.saslSender;
    if (e.clientAddress !== undefined && e.clientAddress !== '' && e.clientAddress !== 'unknown') m.clientIp = e.clientAddress;
  }
  if (missing.length === 0) return [];
  const shown = missing.slice(0, 5).join(', ');
  return [`${missing.length} message(s) without readable queue file envelope, not attributed: ${shown}${missing.length > 5 ? ', …' : ''}`];
}
