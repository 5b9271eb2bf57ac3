import { describe, expect, it } from 'vitest';
import { AuthAggregator } from '../../src/logs/aggregate.js';
import { parseRelay, parseSendmailLog } from '../../src/mta/sendmail/logs.js';
import { fixture, iso, NOW } from './helpers.js';

describe('sendmail log parser', () => {
  const ev = parseSendmailLog(fixture('sendmail', 'maillog'), { nowSeconds: NOW });
  const byId = new Map(ev.submissions.map((s) => [s.queueId, s]));

  it('joins AUTH=server to every from= of the same process and relay', () => {
    expect(byId.get('5BVNe1Zk003001')).toMatchObject({ authId: 'bob', authenticator: 'PLAIN', clientIp: '192.0.2.10', recipients: 1 });
    expect(byId.get('5BVNxwA1003020')).toEqual({
      time: iso('2025-12-31T23:59:58Z'),
      queueId: '5BVNxwA1003020',
      sender: 'info@secure-bank.example.net',
      size: 4410,
      recipients: 3,
      clientIp: '203.0.113.20',
      authId: 'alice@example.com',
      authenticator: 'LOGIN',
      source: 'sendmail-from',
    });
    // same session, second message, across midnight; a relay= inside msgid does not fool it
    expect(byId.get('6010001A003020')).toMatchObject({ authId: 'alice@example.com', clientIp: '203.0.113.20', recipients: 25 });
    expect(byId.get('6010003A003021')).toMatchObject({ authId: 'alice@example.com', clientIp: '2001:db8::1', sender: '' });
  });

  it('does not join a reused pid with another relay', () => {
    expect(byId.get('6010300A003020')?.authId).toBeUndefined();
    expect(byId.get('6010300A003020')?.clientIp).toBe('198.51.100.7');
  });

  it('nrcpts=0 is not a message; a login without message is unconfirmed', () => {
    expect(byId.has('6010005A003023')).toBe(false);
    const login = ev.submissions.filter((s) => s.unconfirmed);
    expect(login).toEqual([
      {
        time: iso('2026-01-01T00:00:04Z'),
        unconfirmed: true,
        source: 'sendmail-auth',
        authId: 'alice@example.com',
        authenticator: 'PLAIN',
        clientIp: '203.0.113.21',
      },
    ]);
    expect(ev.submissions.filter((s) => !s.unconfirmed)).toHaveLength(8);
    expect(byId.get('6010200A003040')).toMatchObject({ sender: 'www-data', clientHost: 'www-data@localhost' });
  });

  it('reads failures with the last relay= (the first can be injected through user=)', () => {
    expect(ev.failures).toEqual([
      { time: iso('2025-12-31T23:55:10Z'), authenticator: 'LOGIN', clientIp: '203.0.113.77', user: 'alice@example.com' },
      { time: iso('2025-12-31T23:55:11Z'), authenticator: 'LOGIN', clientIp: '203.0.113.78', user: 'alice@example.com' },
    ]);
  });

  it('makes the hijacked account the top user', () => {
    const agg = new AuthAggregator();
    for (const s of ev.submissions) agg.add(s);
    for (const f of ev.failures) agg.addFailure(f);
    const [top] = agg.result();
    expect(top).toMatchObject({ authId: 'alice@example.com', messages: 3, recipients: 29, unconfirmed: 1, failures: 2, nullSenders: 1 });
    expect(top?.clientIps.sort()).toEqual(['2001:db8::1', '203.0.113.20', '203.0.113.21']);
  });
});

describe('parseRelay', () => {
  it('reads host [ip], [ip], [IPv6:…] and bare hosts', () => {
    expect(parseRelay('relay=a.example [192.0.2.1] (may be forged)')).toEqual({ host: 'a.example', ip: '192.0.2.1' });
    expect(parseRelay('relay=[IPv6:2001:DB8::1]')).toEqual({ ip: '2001:db8::1' });
    expect(parseRelay('relay=localhost')).toEqual({ host: 'localhost' });
    expect(parseRelay('user=x, relay=[192.0.2.100], relay=[192.0.2.4]')).toEqual({ ip: '192.0.2.4' });
    expect(parseRelay('nothing')).toBeUndefined();
  });
});
