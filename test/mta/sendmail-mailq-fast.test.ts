// The mailq parser's shortcuts (recipients gathered in one reused array, a deferral reason cut out
// without its pattern) must give exactly what the plain way gave: checked against the pattern
// itself and on the lines where the two could part.
import { describe, expect, it } from 'vitest';
import { parseMailq } from '../../src/mta/sendmail/listing.js';
import { ListBuilder } from '../../src/mta/stream-parts.js';

// The pattern the reason shortcut stands in for (an independent copy, on purpose).
const BODY_REASON = /^\s*(?:([A-Z0-9]+)\s+)?\((.*)\)\s*$/;

const NOW = 1700000600; // Tue Nov 14 22:23:20 UTC 2023
const head = '\t\t/var/spool/mqueue (1 request)\n-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------\n';
const entry = (id: string) => `${id}     512 Tue Nov 14 14:41 <alice@example.com>\n`;

describe('ListBuilder', () => {
  it('hands over each batch as its own array of its own size and starts over', () => {
    const b = new ListBuilder<string>();
    b.add('a');
    b.add('b');
    const first = b.take();
    b.add('c');
    expect(b.length).toBe(1);
    const second = b.take();
    expect(first).toEqual(['a', 'b']);
    expect(second).toEqual(['c']);
    expect(first).not.toBe(second);
    b.add('x');
    b.clear();
    expect(b.take()).toEqual([]);
  });
});

describe('mailq deferral reasons', () => {
  // Lines where a shortcut could part from the pattern: nested and unbalanced parentheses, blanks
  // around, an empty reason, line-break characters inside or after, a lone "(", escapes.
  const lines = [
    '                 (Deferred: Connection timed out with mx.example.net.)',
    '                 (host (a) said (b))',
    '                 ()',
    '                 (a) trailing',
    '                 (a))  \t ',
    '                 (',
    '                 (a\rb)',
    '                 (a)\r',
    '                 (a\u2028b)',
    '                 (a)\u2028',
    '                 (\u001b[31mred\u202e)',
    '\u00a0                (nbsp before)',
    '         8BITMIME   (Deferred: 421 try later)',
    '                 (x)\u00a0',
  ];
  for (const reasonLine of lines) {
    it(`${JSON.stringify(reasonLine.trim())} reads as the pattern does`, () => {
      const l = parseMailq(head + entry('vAEM1Kx0012345') + reasonLine + '\n\t\t\t\t\t <bob@example.net>\n\t\tTotal requests: 1\n', {
        nowSeconds: NOW,
      });
      const m = BODY_REASON.exec(reasonLine);
      const msg = l.messages[0]!;
      expect(msg.reason).toBe(m ? m[2] : undefined);
      expect(msg.bodyType).toBe(m?.[1]);
      expect(msg.recipients).toEqual(['bob@example.net']);
      expect(l.warnings.some((w) => w.includes('not understood'))).toBe(m === null);
    });
  }
});

describe('mailq recipients', () => {
  it('each message keeps its own recipients across sections, cut-short addresses and a vanished entry', () => {
    const long = 'x'.repeat(40);
    const text = [
      'MTA Queue status...',
      '\t\t/var/spool/mqueue (4 requests)',
      '-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------',
      entry('vAEM1Kx0012341').trimEnd(),
      '\t\t\t\t\t <a1@example.net>',
      `\t\t\t\t\t <${long}`,
      '\t\t\t\t\t <a3@example.net>',
      // A qf without a T line: its recipients must not reach the message before or after.
      'vAEM1Kx0012342     512 Thu Jan  1 00:00 <x@example.com>',
      '\t\t\t\t\t <d1@example.net>',
      '\t\t\t\t\t <dropped@example.net> (no control file)',
      entry('vAEM1Kx0012343').trimEnd(),
      '\t\t\t\t\t <c1@example.net>',
      '\t\tTotal requests: 3',
      'MSP Queue status...',
      '\t\t/var/spool/clientmqueue (1 request)',
      '-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------',
      entry('vAEM1Kx0012344').trimEnd(),
      '\t\tTotal requests: 1',
    ].join('\n');
    const l = parseMailq(text, { nowSeconds: NOW });
    expect(l.messages.map((m) => [m.id, m.recipients, m.truncatedRecipients])).toEqual([
      ['vAEM1Kx0012341', ['a1@example.net', `<${long}`, 'a3@example.net'], [1]],
      ['vAEM1Kx0012343', ['c1@example.net'], undefined],
      ['vAEM1Kx0012344', [], undefined],
    ]);
    expect(l.transient.map((t) => [t.id, t.state])).toEqual([['vAEM1Kx0012342', 'no control file']]);
    // Arrays of their own: changing one message's list leaves the others alone.
    l.messages[1]!.recipients.push('new@example.net');
    expect(l.messages[0]!.recipients).toHaveLength(3);
    expect(l.messages[2]!.recipients).toEqual([]);
  });

  it('counting keeps no recipients but counts the same messages', () => {
    const text = head + entry('vAEM1Kx0012345') + '\t\t\t\t\t <bob@example.net>\n\t\tTotal requests: 1\n';
    const kept = parseMailq(text, { nowSeconds: NOW });
    const counted = parseMailq(text, { nowSeconds: NOW, countsOnly: true });
    expect(kept.messages).toHaveLength(1);
    expect(counted.messages).toEqual([]);
    expect(counted.counts?.total).toBe(1);
    expect(counted.warnings).toEqual(kept.warnings);
  });
});
