// The bounces of a compact queue (compact-queue.ts), kept whole but off the JS heap: the backscatter
// rule judges each of their recipients. Numbers in typed-array columns, recipients as packed
// strings, the rare extras (a reason, a login, a queue name, cut-short recipients) in a map.
import { NumberColumn, StringColumn } from './columns.js';
import { own } from './stream-text.js';
import type { QueueMessage } from './types.js';

/** What of a bounce the queue's own columns hold (compact-queue.ts). */
export type BounceBase = Pick<QueueMessage, 'id' | 'sender' | 'frozen' | 'held' | 'bounce' | 'authId' | 'clientIp'> & {
  senderTruncated: boolean;
};

type Extra = Pick<QueueMessage, 'queue' | 'reason' | 'localLogin' | 'authSender' | 'truncatedRecipients'>;

export class BounceColumns {
  /** Message index → bounce number + 1 (0: not a bounce). */
  private readonly no = new NumberColumn('u32');
  private n = 0;
  /** By bounce number: size and age (NaN: null), first recipient, recipient count. */
  private readonly sizes = new NumberColumn('f64');
  private readonly ages = new NumberColumn('f64');
  private readonly first = new NumberColumn('u32');
  private readonly counts = new NumberColumn('u32');
  private readonly recipients = new StringColumn();
  private readonly extras = new Map<number, Extra>();

  /** Keep message `i`, a bounce; `keep` gives the queue's own copy of a repeated string. */
  add(i: number, m: QueueMessage, keep: (s: string) => string): void {
    const b = this.n++;
    this.no.set(i, b + 1);
    this.sizes.set(b, m.size ?? NaN);
    this.ages.set(b, m.ageSeconds ?? NaN);
    this.first.set(b, this.recipients.length);
    this.counts.set(b, m.recipients.length);
    for (const r of m.recipients) this.recipients.push(r);
    const x: Extra = {};
    if (m.queue !== undefined) x.queue = keep(m.queue);
    if (m.reason !== undefined) x.reason = own(m.reason);
    if (m.localLogin !== undefined) x.localLogin = own(m.localLogin);
    if (m.authSender !== undefined) x.authSender = keep(m.authSender);
    if (m.truncatedRecipients) x.truncatedRecipients = [...m.truncatedRecipients];
    if (Object.keys(x).length) this.extras.set(b, x);
  }

  has(i: number): boolean {
    return this.no.get(i) !== 0;
  }

  /** Set (or, undefined, remove) bounce `i`'s authSender (the only attribution the queue's columns lack). */
  setAuthSender(i: number, v: string | undefined): void {
    const b = this.no.get(i) - 1;
    if (b < 0) return;
    const x = this.extras.get(b) ?? {};
    if (v === undefined) delete x.authSender;
    else x.authSender = v;
    if (Object.keys(x).length) this.extras.set(b, x);
    else this.extras.delete(b);
  }

  /** Bounce `i` whole (a new object each time), or null when `i` is not a bounce. */
  whole(i: number, base: BounceBase): QueueMessage | null {
    const b = this.no.get(i) - 1;
    if (b < 0) return null;
    const first = this.first.get(b);
    const recipients: string[] = [];
    for (let k = 0; k < this.counts.get(b); k++) recipients.push(this.recipients.get(first + k));
    const size = this.sizes.get(b);
    const age = this.ages.get(b);
    const x = this.extras.get(b);
    const m: QueueMessage = {
      id: base.id,
      sender: base.sender,
      recipients,
      size: Number.isNaN(size) ? null : size,
      ageSeconds: Number.isNaN(age) ? null : age,
      frozen: base.frozen,
      held: base.held,
      bounce: base.bounce,
    };
    if (x?.queue !== undefined) m.queue = x.queue;
    if (x?.reason !== undefined) m.reason = x.reason;
    if (x?.localLogin !== undefined) m.localLogin = x.localLogin;
    if (base.authId !== undefined) m.authId = base.authId;
    if (base.clientIp !== undefined) m.clientIp = base.clientIp;
    if (x?.authSender !== undefined) m.authSender = x.authSender;
    if (base.senderTruncated) m.senderTruncated = true;
    if (x?.truncatedRecipients) m.truncatedRecipients = [...x.truncatedRecipients];
    return m;
  }
}
