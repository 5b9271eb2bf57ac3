// Test helpers for qmail's mess files: what qmail-queue and qmail-smtpd write at the top of one,
// and a fake queue tree (split 23) with stub qmail-qstat / qmail-qread / qmailctl. The table of
// proof cases itself is in qmail-proof.test.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mtaHost } from '../../src/mta/host.js';
import { script, tmp } from './helpers.js';

export const BOB = 'bob@example.test';
export const DATE = '14 Nov 2023 22:13:20 -0000';
/** qmail-queue's own line, for a message from qmail-smtpd (qmaild). */
export const QQ = `Received: (qmail 4242 invoked from network); ${DATE}`;
/** qmail-smtpd's Received line 1: remoteinfo in the parenthesis. */
export const from = (paren: string, helo?: string): string =>
  `Received: from unknown${helo === undefined ? '' : ` (HELO ${helo})`} (${paren})`;
/** qmail-smtpd's Received line 2. */
export const by = (protocol: string): string => `  by mail.example.com with ${protocol}; ${DATE}`;
/** A mess file: the given header lines, then the client's own headers and a body. */
export const mess = (...head: string[]): string => [...head, 'From: <someone@example.org>', 'Subject: hello', '', 'body', ''].join('\n');
/** LF-split as awk reads it: a final newline ends the last line, it does not start another. */
export const linesOf = (text: string): string[] => {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
};

/** A queued message: its mess file text (latin1 bytes) and a name for messages. */
export interface QueuedMess {
  name: string;
  text: string;
}

export interface Tree<C extends QueuedMess> {
  d: string;
  bin: string;
  q: string;
  /** id → message */
  ids: Map<string, C>;
  /** id → the sender qmail-qread lists (request.expect). */
  senders: Record<string, { sender: string }>;
}

/** Every message queued (ids 5000…, one remote recipient), listed by the stub qmail-qread. */
export function queueTree<C extends QueuedMess>(messages: C[]): Tree<C> {
  const d = tmp('ms-qmail-');
  const bin = join(d, 'bin');
  mkdirSync(bin);
  const q = join(d, 'queue');
  for (const sub of ['mess', 'info', 'local', 'remote'])
    for (let n = 0; n < 23; n++) mkdirSync(join(q, sub, String(n)), { recursive: true });
  for (const sub of ['intd', 'todo', 'bounce']) mkdirSync(join(q, sub), { recursive: true });
  const ids = new Map<string, C>();
  const senders: Record<string, { sender: string }> = {};
  const qread: string[] = [];
  messages.forEach((c, i) => {
    const id = String(5000 + i);
    const split = String(Number(id) % 23);
    const sender = `s${i}@spam.example`;
    writeFileSync(join(q, 'mess', split, id), Buffer.from(c.text, 'latin1'));
    writeFileSync(join(q, 'info', split, id), `F${sender}\u0000`);
    writeFileSync(join(q, 'remote', split, id), 'Tvictim@example.net\u0000');
    ids.set(id, c);
    senders[id] = { sender };
    qread.push(`14 Nov 2023 22:13:20 GMT  #${id}  ${c.text.length}  <${sender}> `, '\tremote\tvictim@example.net');
  });
  writeFileSync(join(d, 'qread.out'), `${qread.join('\n')}\n`);
  script(join(bin, 'qmail-qstat'), `echo "messages in queue: ${messages.length}"; echo "messages in queue but not yet preprocessed: 0"`);
  script(join(bin, 'qmail-qread'), `cat '${join(d, 'qread.out')}'`);
  script(join(bin, 'qmailctl'), `echo "qmailctl $1" >>'${join(d, 'qmailctl.log')}'`);
  return { d, bin, q, ids, senders };
}

/** The host context of a tree (its queue, its stub binary's directory). */
export const ctxOf = (t: { bin: string; q: string }, vars: Record<string, unknown> = {}) =>
  mtaHost(join(t.bin, 'qmail-qstat'), { queue_directory: t.q, ...vars });
