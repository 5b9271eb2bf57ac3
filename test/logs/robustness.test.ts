import { describe, expect, it } from 'vitest';
import { AuthAggregator, MAX_SAMPLE_IDS } from '../../src/logs/aggregate.js';
import { ADAPTERS } from '../../src/mta/index.js';
import { MTA_NAMES } from '../../src/mta/types.js';
import { fixture, NOW } from './helpers.js';

const NASTY = [
  '',
  ' ',
  '\u0000\u0001\u0002\u001b[2J\u007f',
  'x'.repeat(200_000),
  ` <= ${'A='.repeat(10_000)}`,
  `2026-01-01 00:00:00 1vZa0A-000AbC-1x <= a@b H=${'('.repeat(5000)} A=x:${'y'.repeat(50_000)}`,
  `2026-01-01 00:00:00 1vZa0A-000AbC-1x <= a@b T="unterminated A=plain:admin`,
  'Jan  1 00:00:00 h postfix/smtpd[1]: ABCDEF1234: client=x[', // truncated
  'Jan  1 00:00:00 h postfix/qmgr[1]: ABCDEF1234: from=<$(rm -rf /)>, size=1, nrcpt=1 (queue active)',
  'Jan  1 00:00:00 h sm-mta[1]: AUTH=server, relay=[', // truncated
  'Jan  1 00:00:00 h sm-mta[1]: AUTH failure (LOGIN', // truncated
  '@4000000069557d0000000000 CHKUSER relaying rcpt: from <',
  '@zzzz CHKUSER relaying rcpt: from <a:b:> remote <x:y:z> rcpt <r> : ok',
  'Feb 30 00:00:00 h postfix/qmgr[1]: ABCDEF1235: from=<a@b>, size=1, nrcpt=1 (queue active)',
  '\u2028\u2029 mail recv: pid 1 from <\u0000> qp 1',
];

describe('hostile input', () => {
  for (const mta of MTA_NAMES) {
    it(`${mta}: never throws, bounded warnings`, () => {
      const ev = ADAPTERS[mta].logs.parse(NASTY.join('\n'), { nowSeconds: NOW });
      expect(ev.warnings.length).toBeLessThanOrEqual(52);
      for (const w of ev.warnings) expect(w).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    });
    it(`${mta}: the other MTAs' fixtures are not misread as sends with an auth id`, () => {
      for (const other of MTA_NAMES) {
        if (other === mta) continue;
        const file = { exim: 'mainlog', postfix: 'maillog', sendmail: 'maillog', qmail: 'smtpd.current' }[other];
        expect(() => ADAPTERS[mta].logs.parse(fixture(other, file), { nowSeconds: NOW })).not.toThrow();
      }
    });
  }
  it('a yearless syslog stamp without now/year gives time null and one warning', () => {
    const ev = ADAPTERS.postfix.logs.parse(fixture('postfix', 'maillog'));
    expect(ev.submissions.find((s) => s.queueId === '5B2C3D4E5F')?.time).toBeNull();
    expect(ev.warnings).toHaveLength(1);
  });
  it('a truncated exim <= line is reported, not guessed', () => {
    const ev = ADAPTERS.exim.logs.parse('2026-01-01 00:00:00 1vZa0A <= a@b');
    expect(ev.submissions).toEqual([]);
    expect(ev.warnings[0]).toMatch(/^line 1: exim arrival not understood/);
  });
});

describe('AuthAggregator bounds', () => {
  it('keeps samples capped and state per user, not per line', () => {
    const agg = new AuthAggregator();
    for (let i = 0; i < 50_000; i++) {
      agg.add({
        time: 1_767_225_600 + i,
        queueId: `Q${i}`,
        authId: `u${i % 3}`,
        clientIp: `10.0.${i % 5}.1`,
        sender: `s@d${i % 4}.example`,
        recipients: 2,
        source: 'postfix-qmgr',
      });
    }
    const res = agg.result();
    expect(res).toHaveLength(3);
    for (const u of res) {
      expect(u.sampleQueueIds).toHaveLength(MAX_SAMPLE_IDS);
      expect(u.clientIps).toHaveLength(5);
      expect(Object.keys(u.senderDomains)).toHaveLength(4);
    }
    expect(res.reduce((a, u) => a + u.messages, 0)).toBe(50_000);
    expect(res[0]?.recipients).toBe(2 * res[0]!.messages);
  });
  it('perDay follows the configured offset', () => {
    const agg = new AuthAggregator({ tzOffsetMinutes: 60 });
    agg.add({ time: Date.parse('2025-12-31T23:30:00Z') / 1000, authId: 'a', source: 'exim-arrival' });
    expect(agg.result()[0]?.perDay).toEqual({ '2026-01-01': 1 });
  });
});
