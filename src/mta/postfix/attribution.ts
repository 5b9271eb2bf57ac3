// Postfix attribution: who submitted each queued message (sasl_username, the proof of proof.ts),
// and the client address, from the queue files' envelope records via `postcat -e`. Apart from
// listing.ts because the postqueue listing needs none of it.

import { postfixScriptTools } from './host.js';
import { markerOf, postcatProof, type PostcatProof } from './proof.js';
import { scriptSource, type ScriptValue } from '../script.js';
import type { MtaContext, QueueMessage } from '../types.js';
import { COMMAND_FAILED } from '../util.js';
import { WarningList } from '../stream-parts.js';

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

/**
 * The settings of scripts/postcat-envelopes.sh (after the listing in scripts/attributed.sh): it
 * prints the queue directory (section "qdir") and the kept postcat -e lines ("postcat").
 */
export function postcatEnvelopeSettings(ctx: MtaContext): Record<string, ScriptValue> {
  return {
    ...postfixScriptTools(ctx, ['postcat', 'postconf']),
    MS_QD: ctx.queueDirectory ?? '',
    MS_QUEUES: POSTFIX_ATTRIBUTION_QUEUES,
    MS_KEEP: POSTCAT_KEEP,
    MS_BATCH: scriptSource('postfix/scripts/postcat-batch.sh'),
  };
}

export interface PostcatEnvelope {
  id: string;
  /** First path component: incoming, active, deferred, hold. */
  queue: string;
  /** The submission proof over the file's dump (proof.ts): submitter, sender, recipients, or why not. */
  proof: PostcatProof;
  saslMethod?: string;
  saslSender?: string;
  clientAddress?: string;
}

const PC_ENVELOPE = /^\*\*\* ENVELOPE RECORDS (\S+) \*\*\*$/;
const ALNUM = /^[0-9A-Za-z]+$/;
const LOWER = /^[a-z]+$/;
// Diagnostics interleave with the dump (2>&1, flushed a record at a time): never part of a file.
const PC_DIAG = /^[^ ]*(postcat|find|sh)(?:\[\d+\])?: (?:(warning|fatal|error): )?/;

interface Dump {
  queue: string;
  /** The dump's lines while it is read; null once its proof is taken. */
  lines: string[] | null;
  proof?: PostcatProof;
}

/**
 * `postcat -e` output of several queue files, line by line. A file's dump runs from its ENVELOPE
 * RECORDS marker to the next one (so a value that prints a forged MESSAGE FILE END leaves the real
 * lines after it in the dump, as the purge's per-id dump does); its proof is taken when it ends, so
 * only one dump's lines are held. A file dumped twice (a batch retried one file at a time) counts
 * when every understood dump of it agrees. Never throws.
 */
export class PostcatParser {
  private readonly warnings = new WarningList();
  private readonly dumps = new Map<string, Dump[]>();
  private cur: { id: string; dump: Dump } | null = null;

  line(line: string, n: number): void {
    // A marker ("*** " and a space) can never be a diagnostic (a first word and its tag).
    const d = line.startsWith('*** ') ? null : PC_DIAG.exec(line);
    if (d) {
      const what =
        d[1] !== 'postcat' ? `${d[1]} diagnostic` : d[2] === 'fatal' || d[2] === 'error' ? `${COMMAND_FAILED} postcat` : 'postcat warning';
      return this.warnings.line(n, what, line);
    }
    if (line.startsWith('*** ') && markerOf(line) === 0) {
      this.close();
      const parts = (PC_ENVELOPE.exec(line)?.[1] ?? '').split('/');
      const id = parts[parts.length - 1] ?? '';
      if (parts.length < 2 || !ALNUM.test(id) || !LOWER.test(parts[0] ?? ''))
        return this.warnings.line(n, 'postcat: not a queue file path', line);
      const dump: Dump = { queue: parts[0]!, lines: [line] };
      const list = this.dumps.get(id);
      if (list) list.push(dump);
      else this.dumps.set(id, [dump]);
      this.cur = { id, dump };
      return;
    }
    if (this.cur) this.cur.dump.lines!.push(line);
    else if (line.trim() !== '') this.warnings.line(n, 'postcat: line outside any file', line);
  }

  private close(): void {
    if (!this.cur) return;
    const { id, dump } = this.cur;
    dump.proof = postcatProof(id, dump.lines!);
    dump.lines = null;
    this.cur = null;
  }

  result(): { envelopes: Map<string, PostcatEnvelope>; warnings: WarningList } {
    this.close();
    const envelopes = new Map<string, PostcatEnvelope>();
    for (const [id, list] of this.dumps) {
      const proofs = list.map((d) => ({ queue: d.queue, proof: d.proof! }));
      const good = proofs.filter((p) => p.proof.ok);
      const chosen = good[0] ?? proofs[0]!;
      const key = (p: PostcatProof) => (p.ok ? JSON.stringify([p.authId, p.sender, p.recipients]) : '');
      const agree = good.length < 2 || good.every((p) => key(p.proof) === key(chosen.proof));
      const env: PostcatEnvelope = {
        id,
        queue: chosen.queue,
        proof: agree ? chosen.proof : { ok: false, why: 'queue file dumped twice, differently' },
      };
      if (env.proof.ok) Object.assign(env, attributes(env.proof.records));
      envelopes.set(id, env);
    }
    return { envelopes, warnings: this.warnings };
  }
}

/** Parse a whole `postcat -e` output (PostcatParser fed every line; split at "\n" only, as awk splits). */
export function parsePostcatEnvelopes(text: string): { envelopes: Map<string, PostcatEnvelope>; warnings: string[] } {
  const p = new PostcatParser();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) p.line(lines[i]!, i + 1);
  const r = p.result();
  return { envelopes: r.envelopes, warnings: r.warnings.list() };
}

/** The other named attributes, from the envelope's own records (never the message content). */
function attributes(records: readonly string[]): Pick<PostcatEnvelope, 'saslMethod' | 'saslSender' | 'clientAddress'> {
  const out: Pick<PostcatEnvelope, 'saslMethod' | 'saslSender' | 'clientAddress'> = {};
  for (const r of records) {
    const m = /^named_attribute: ([a-z_]+)=(.*)$/.exec(r);
    if (!m) continue;
    const [, name, value] = m as unknown as [string, string, string];
    if (name === 'sasl_method') out.saslMethod ??= value;
    else if (name === 'sasl_sender') out.saslSender ??= value;
    else if (name === 'log_client_address') out.clientAddress = value;
    else if (name === 'client_address') out.clientAddress ??= value;
  }
  return out;
}

/**
 * Attach authId / authSender / clientIp from the envelopes whose proof holds; returns warnings.
 * Maildrop messages (local postdrop submissions, never SASL) are not read and not reported missing.
 */
export function attributePostfixMessages(messages: QueueMessage[], envelopes: Map<string, PostcatEnvelope>): string[] {
  const missing: string[] = [];
  const unproven: string[] = [];
  for (const m of messages) {
    const e = envelopes.get(m.id);
    if (!e) {
      if (m.queue !== 'maildrop') missing.push(m.id);
      continue;
    }
    if (!e.proof.ok) {
      unproven.push(`${m.id} (${e.proof.why})`);
      continue;
    }
    if (e.proof.authId !== null) m.authId = e.proof.authId;
    if (e.saslSender !== undefined && e.saslSender !== '') m.authSender = e.saslSender;
    if (e.clientAddress !== undefined && e.clientAddress !== '' && e.clientAddress !== 'unknown') m.clientIp = e.clientAddress;
  }
  const list = (ids: string[]) => `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`;
  return [
    ...(missing.length > 0 ? [`${missing.length} message(s) without readable queue file envelope, not attributed: ${list(missing)}`] : []),
    ...(unproven.length > 0
      ? [`${unproven.length} message(s) whose queue file envelope is not understood, not attributed: ${list(unproven)}`]
      : []),
  ];
}
