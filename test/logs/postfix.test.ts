import { describe, expect, it } from 'vitest';
import { AuthAggregator } from '../../src/logs/aggregate.js';
import { createPostfixLogParser, parsePostfixLog } from '../../src/mta/postfix/logs.js';
import type { Submission } from '../../src/logs/types.js';
import { fixture, iso, NOW } from './helpers.js';

describe('postfix log parser', () => {
  const ev = parsePostfixLog(fixture('postfix', 'maillog'), { nowSeconds: NOW });
  const byId = new Map(ev.submissions.map((s) => [s.queueId, s]));

  it('joins smtpd client= to the qmgr line by queue id', () => {
    expect(byId.get('5B2C3D4E5F')).toEqual({
      time: iso('2025-12-31T23:59:58Z'),
      queueId: '5B2C3D4E5F',
      sender: 'info@secure-bank.example.net',
      size: 4410,
      recipients: 3,
      authId: 'alice@example.com',
      authenticator: 'LOGIN',
      clientIp: '203.0.113.20',
      clientHost: 'unknown',
      source: 'postfix-qmgr',
    });
    expect(byId.get('6C3D4E5F60')).toMatchObject({ clientIp: '2001:db8::1', recipients: 50, time: iso('2026-01-01T00:00:03Z') });
    expect(byId.get('8E5F607182')).toMatchObject({ authId: 'alice@example.com', sender: '' });
    expect(byId.get('B18293A4B5')).toMatchObject({ authId: 'carol', time: iso('2026-01-01T00:20:00Z') });
    expect(byId.get('9F60718293')).toMatchObject({ uid: 33, sender: 'www-data@mail.example.com' });
    expect(byId.get('A071829304')?.authId).toBeUndefined();
  });

  it('counts a deferred message once, and NOQUEUE rejects never', () => {
    expect(ev.submissions.filter((s) => s.queueId === '6C3D4E5F60')).toHaveLength(1);
    expect(ev.submissions.filter((s) => !s.unconfirmed)).toHaveLength(8);
  });

  it('reports an authenticated transaction that never reached qmgr as unconfirmed', () => {
    expect(byId.get('7D4E5F6071')).toMatchObject({
      unconfirmed: true,
      authId: 'alice@example.com',
      clientIp: '203.0.113.21',
      source: 'postfix-smtpd',
    });
  });

  it('a failure naming a user is a failure, not a send; amavis lines are ignored', () => {
    expect(ev.failures).toEqual([
      { time: iso('2025-12-31T23:50:00Z'), authenticator: 'LOGIN', clientIp: '203.0.113.77', user: 'alice@example.com' },
      { time: iso('2025-12-31T23:50:02Z'), authenticator: 'LOGIN', clientIp: '203.0.113.77' },
    ]);
    expect(ev.submissions.map((s) => s.authId)).not.toContain('evil');
  });

  it('keeps hostile user names and senders as data', () => {
    expect(byId.get('C293A4B5C6')).toMatchObject({ authId: '$(reboot)', sender: '\x1b[2Jx@example.com' });
  });

  it('makes the hijacked account the top user', () => {
    const agg = new AuthAggregator();
    const p = createPostfixLogParser({ nowSeconds: NOW });
    for (const line of fixture('postfix', 'maillog').split('\n')) p.feed(line, agg);
    p.end(agg);
    const [top] = agg.result();
    expect(top).toMatchObject({ authId: 'alice@example.com', messages: 3, unconfirmed: 1, recipients: 54, nullSenders: 1, failures: 1 });
    expect(top?.clientIps.sort()).toEqual(['2001:db8::1', '203.0.113.20', '203.0.113.21', '203.0.113.22']);
    expect(top?.perDay).toEqual({ '2025-12-31': 1, '2026-01-01': 2 });
    expect(agg.failureStats()).toMatchObject({ total: 2, withoutUser: 1, byIp: { '203.0.113.77': 2 } });
  });

  it('keeps the pending map bounded: an unmatched client= flood is flushed, not kept', () => {
    const p = createPostfixLogParser({ year: 2026 });
    const out: Submission[] = [];
    const sink = { submission: (s: Submission) => out.push(s), failure: () => {}, warning: () => {} };
    for (let i = 0; i < 25_000; i++) {
      const id = i.toString(16).toUpperCase().padStart(10, '0');
      p.feed(`Jan  1 00:00:00 mx postfix/smtpd[1]: ${id}: client=unknown[192.0.2.1], sasl_method=PLAIN, sasl_username=u${i % 7}`, sink);
    }
    expect(out.length).toBeGreaterThan(0); // evicted as they went
    p.end(sink);
    expect(out).toHaveLength(25_000);
    expect(out.every((s) => s.unconfirmed)).toBe(true);
  });
});
