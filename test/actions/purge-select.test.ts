// Which queued messages the purge step may touch: exactly the account's submissions, or the bounces
// whose every recipient is proven foreign AND is a sender the account's spam used.
import { describe, expect, it } from 'vitest';
import { select, type BounceEvidence } from '../../src/actions/purge.js';
import { addDomains, emptyLocalDomains } from '../../src/mta/local-domains.js';
import type { QueueMessage } from '../../src/mta/types.js';
import { senderOwners } from '../../src/rules/backscatter.js';

const m = (id: string, over: Partial<QueueMessage>): QueueMessage => ({
  id,
  sender: '',
  recipients: [],
  size: 1,
  ageSeconds: 1,
  frozen: false,
  held: false,
  bounce: true,
  ...over,
});
const bob = 'bob@example.test';
const spam = (id: string, sender: string, authId = bob) => m(id, { bounce: false, sender, recipients: ['victim@far.invalid'], authId });

function evidence(queue: QueueMessage[], opts: { unknown?: string[]; logSenders?: Record<string, string[]> } = {}): BounceEvidence {
  const local = addDomains(emptyLocalDomains(), ['example.test', 'shop.test']);
  local.unknown.push(...(opts.unknown ?? []));
  const owners = senderOwners(
    queue,
    Object.entries(opts.logSenders ?? {}).map(([authId, senders]) => ({ authId, senders }) as never),
  );
  return { local, owners };
}

describe('purge select', () => {
  const queue = [
    spam('s1', 'promo@lottery-win.invalid'),
    spam('s2', 'Sales@Cheap-Pills.invalid'),
    spam('c1', 'news@carol-shop.invalid', 'carol@shop.test'),
    m('tied', { recipients: ['promo@lottery-win.invalid'] }),
    m('tied-case', { recipients: ['sales@cheap-pills.invalid'] }),
    m('unrelated-dsn', { recipients: ['someone@partner.invalid'] }),
    m('carols', { recipients: ['news@carol-shop.invalid'] }),
    m('local', { recipients: ['alice@example.test'] }),
    m('cut', { recipients: ['<promo@lottery-win.inval'], truncatedRecipients: [0] }),
    m('mixed', { recipients: ['promo@lottery-win.invalid', 'someone@partner.invalid'] }),
    m('literal', { recipients: ['promo@[192.0.2.1]'] }),
  ];

  it("spam: exactly the account's submissions", () => {
    expect(select(queue, { target: 'spam', account: bob }).map((x) => x.id)).toEqual(['s1', 's2']);
  });

  it("backscatter: only bounces to proven-foreign senders of the account's own spam", () => {
    expect(select(queue, { target: 'backscatter', account: bob }, evidence(queue)).map((x) => x.id)).toEqual(['tied', 'tied-case']);
    // Another account's backscatter and an unrelated DSN stay, whatever their domains.
    expect(select(queue, { target: 'backscatter', account: 'carol@shop.test' }, evidence(queue)).map((x) => x.id)).toEqual(['carols']);
  });

  it('senders seen only in the log (spam already relayed) tie their bounces too', () => {
    const q = [m('late', { recipients: ['gone@relayed.invalid'] })];
    expect(select(q, { target: 'backscatter', account: bob }, evidence(q)).map((x) => x.id)).toEqual([]);
    expect(
      select(q, { target: 'backscatter', account: bob }, evidence(q, { logSenders: { [bob]: ['gone@relayed.invalid'] } })).map((x) => x.id),
    ).toEqual(['late']);
  });

  it('a sender two accounts used ties its bounce to neither', () => {
    const q = [
      spam('s1', 'shared@x.invalid'),
      spam('c1', 'shared@x.invalid', 'carol@shop.test'),
      m('b', { recipients: ['shared@x.invalid'] }),
    ];
    expect(select(q, { target: 'backscatter', account: bob }, evidence(q))).toEqual([]);
  });

  it('nothing is proven foreign while a local-domain lookup cannot be listed', () => {
    expect(select(queue, { target: 'backscatter', account: bob }, evidence(queue, { unknown: ['mysql:/etc/postfix/domains.cf'] }))).toEqual(
      [],
    );
  });
});
