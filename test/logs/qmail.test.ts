import { describe, expect, it } from 'vitest';
import { AuthAggregator } from '../../src/logs/aggregate.js';
import { parseChkuser, parseQmailLog } from '../../src/mta/qmail/logs.js';
import { fixture, iso } from './helpers.js';

describe('qmail smtpd log parser (CHKUSER, eMPF, mail recv)', () => {
  const ev = parseQmailLog(fixture('qmail', 'smtpd.current'));

  it('groups per-recipient CHKUSER lines into messages', () => {
    const alice = ev.submissions.filter((s) => s.authId === 'alice@example.com');
    expect(alice.map((s) => [s.time, s.sender, s.clientIp, s.recipients])).toEqual([
      [iso('2026-01-01T00:00:10Z'), 'noreply@paypa1.example', '2001:db8::1', 2], // closed by the 5-minute gap
      [iso('2025-12-31T23:59:57Z'), 'info@secure-bank.example.net', '203.0.113.20', 3],
      [iso('2026-01-01T00:05:10Z'), 'noreply@paypa1.example', '2001:db8::1', 1],
    ]);
    expect(alice.every((s) => s.source === 'qmail-chkuser' && !s.unconfirmed)).toBe(true);
  });

  it('lets mail recv close the eMPF group of its sender', () => {
    const carol = ev.submissions.filter((s) => s.authId === 'carol@example.com');
    expect(carol).toEqual([
      { time: iso('2026-01-01T00:07:01Z'), sender: 'carol@example.com', source: 'qmail-recv', authId: 'carol@example.com', recipients: 2 },
    ]);
  });

  it('counts accepted inbound mail as unauthenticated and skips rejected rcpts', () => {
    const inbound = ev.submissions.filter((s) => s.sender === 'newsletter@lists.example.org');
    expect(inbound).toHaveLength(1);
    expect(inbound[0]?.authId).toBeUndefined();
    expect(ev.submissions).toHaveLength(7);
  });

  it('keeps hostile content as data and survives a 20 kB line', () => {
    const m = ev.submissions.find((s) => s.sender === '$(reboot)@example.com');
    expect(m?.authId).toBe('mallory\x07');
  });

  it('makes the hijacked account the top user', () => {
    const agg = new AuthAggregator();
    for (const s of ev.submissions) agg.add(s);
    const [top] = agg.result();
    expect(top).toMatchObject({ authId: 'alice@example.com', messages: 3, recipients: 6, perDay: { '2025-12-31': 1, '2026-01-01': 2 } });
    expect(top?.clientIps.sort()).toEqual(['2001:db8::1', '203.0.113.20']);
  });
});

describe('qmail-send log parser', () => {
  it('reads info msg lines with TAI64N stamps (no AUTH identity in qmail-send logs)', () => {
    const ev = parseQmailLog(fixture('qmail', 'send.current'));
    expect(ev.submissions).toEqual([
      {
        time: iso('2025-12-31T23:59:58Z'),
        queueId: '660188',
        size: 4410,
        sender: 'info@secure-bank.example.net',
        uid: 89,
        source: 'qmail-send',
      },
      { time: iso('2026-01-01T00:00:02Z'), queueId: '660189', size: 900, sender: '', uid: 89, source: 'qmail-send' },
    ]);
  });
  it('reads splogger and qmta-send epoch stamps', () => {
    const ev = parseQmailLog(
      [
        '   qmail: 1157520813.485077 info msg 53: bytes 246 from <me@domain> qp 20345 uid 666',
        'Jul 16 21:31:27 argos qmta-send[258422]: 1626451287.566607 info msg 1049084: bytes 366 from <root@argos> qp 258569 uid 0',
      ].join('\n'),
    );
    expect(ev.submissions.map((s) => s.time)).toEqual([1157520813, 1626451287]);
  });
});

describe('parseChkuser', () => {
  it('reads both layouts', () => {
    expect(parseChkuser('a@b:user@b:', 'helo:host.example:192.0.2.1')).toEqual({
      sender: 'a@b',
      authId: 'user@b',
      ip: '192.0.2.1',
      host: 'host.example',
    });
    expect(
      parseChkuser('a@b|remoteinfo/auth:user@b|chkuser-identify:x', 'helo:h|remotehostname:r.example|remotehostip:::ffff:192.0.2.9'),
    ).toEqual({
      sender: 'a@b',
      authId: 'user@b',
      ip: '192.0.2.9',
      host: 'r.example',
    });
    expect(parseChkuser('a@b::', 'h:unknown:2001:DB8::7')).toEqual({ sender: 'a@b', ip: '2001:db8::7', host: 'unknown' });
  });
});

describe('qmail CHKUSER: the user field is an auth id only where the client could relay', () => {
  const line = (stamp: string, state: string, user: string, rcpt: string, tail: string) =>
    `@4000000069557${stamp}00000000 CHKUSER ${state}: from <x@forged.example:${user}:> remote <helo:host.example:198.51.100.9> rcpt <${rcpt}> : ${tail}`;

  it('an unauthenticated client naming a customer through identd (accepted rcpt only) pins nothing on it', () => {
    // tcpserver's default -r fills TCPREMOTEINFO from the client's own identd: the client chooses it.
    const ev = parseQmailLog(
      [
        line('000', 'accepted rcpt', 'bob@example.com', 'alice@example.com', 'found existing recipient'),
        line('001', 'accepted rcpt', 'bob@example.com', 'carol@example.com', 'found existing recipient'),
      ].join('\n'),
    );
    expect(ev.submissions).toHaveLength(1);
    expect(ev.submissions[0]).toMatchObject({ sender: 'x@forged.example', recipients: 2 });
    expect(ev.submissions[0]?.authId).toBeUndefined();
  });

  it('a session that relayed (SMTP AUTH) keeps its auth id for its local recipients too', () => {
    const ev = parseQmailLog(
      [
        line('000', 'accepted rcpt', 'bob@example.com', 'alice@example.com', 'found existing recipient'),
        line('001', 'relaying rcpt', 'bob@example.com', 'v1@victims.example', 'client allowed to relay'),
      ].join('\n'),
    );
    expect(ev.submissions).toHaveLength(1);
    expect(ev.submissions[0]).toMatchObject({ authId: 'bob@example.com', recipients: 2 });
  });
});
