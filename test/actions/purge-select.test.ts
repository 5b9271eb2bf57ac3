// Which queued messages the purge step may touch: exactly the account's, or bounces whose
// every recipient is known to be foreign.
import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../../src/inventory/types.js';
import { select } from '../../src/actions/purge.js';
import type { QueueMessage } from '../../src/mta/types.js';

const host: HostSpec = {
  name: 'mx1', address: '127.0.0.1', port: 22, user: 'root', connection: 'local', become: false, becomeUser: 'root',
  mta: 'sendmail', queueWarn: 75, queueCrit: 100, groups: ['all'], vars: { local_domains: ['example.test'] }, source: { file: 'inv.yaml', line: 1 },
};
const ctx = { host, scope: {} };
const m = (id: string, over: Partial<QueueMessage>): QueueMessage => ({
  id, sender: '', recipients: [], size: 1, ageSeconds: 1, frozen: false, held: false, bounce: true, ...over,
});

describe('purge select', () => {
  it('backscatter: every recipient whole and foreign; a cut-short or local one keeps the bounce', () => {
    const queue = [
      m('foreign', { recipients: ['winner12@lottery-win.invalid'] }),
      m('cut', { recipients: ['<a.customer.with.a.long.address@example.te'], truncatedRecipients: [0] }),
      m('mixed', { recipients: ['x@lottery-win.invalid', '<cut.short.address.of.someone@exampl'], truncatedRecipients: [1] }),
      m('local', { recipients: ['alice@example.test'] }),
      m('spam', { bounce: false, sender: 'x@promo.invalid', recipients: ['a@b.invalid'], authId: 'bob@example.test' }),
    ];
    expect(select(queue, { target: 'backscatter', account: 'bob@example.test' } as never, ctx as never).map((x) => x.id)).toEqual(['foreign']);
    expect(select(queue, { target: 'spam', account: 'bob@example.test' } as never, ctx as never).map((x) => x.id)).toEqual(['spam']);
  });
});
