import { describe, expect, it } from 'vitest';
import { splitPrefix } from '../../src/logs/line.js';
import { SyslogClock, isoToEpoch, tai64nToEpoch } from '../../src/logs/time.js';
import { iso } from './helpers.js';

describe('tai64nToEpoch', () => {
  it('subtracts 2^62 + 10 like tai64nlocal', () => {
    // multilog writes 2^62 + 10 + unix seconds
    expect(tai64nToEpoch('@400000004b9da2f03b424bb4')).toBe(0x4b9da2f0 - 10);
    expect(tai64nToEpoch('@4000000069557d00' + '00000000')).toBe(0x69557d00 - 10);
    const t = iso('2026-01-01T00:00:10Z');
    const label = ((1n << 62n) + 10n + BigInt(t)).toString(16).padStart(16, '0');
    expect(tai64nToEpoch(`@${label}00000000`)).toBe(t);
  });
  it('rejects what is not a stamp', () => {
    expect(tai64nToEpoch('@xyz')).toBeNull();
    expect(tai64nToEpoch('@0000000000000000')).toBeNull();
  });
});

describe('isoToEpoch', () => {
  it('reads rsyslog RFC 3339, exim plain, milliseconds and zones', () => {
    expect(isoToEpoch('2026-11-23T04:11:44.123456+00:00')).toBe(iso('2026-11-23T04:11:44Z'));
    expect(isoToEpoch('2026-11-23T04:11:44+01:00')).toBe(iso('2026-11-23T03:11:44Z'));
    expect(isoToEpoch('2026-11-23 04:11:44')).toBe(iso('2026-11-23T04:11:44Z'));
    expect(isoToEpoch('2026-11-23 04:11:44.345')).toBe(iso('2026-11-23T04:11:44Z'));
    expect(isoToEpoch('2026-11-23 04:11:44 +0100')).toBe(iso('2026-11-23T03:11:44Z'));
    expect(isoToEpoch('2026-11-23 04:11:44 -0530')).toBe(iso('2026-11-23T09:41:44Z'));
    expect(isoToEpoch('2021-06-05 20:42:52.803287500')).toBe(iso('2021-06-05T20:42:52Z'));
  });
  it('applies the server offset to zone-less local times', () => {
    expect(isoToEpoch('2026-11-23 04:11:44', 3600)).toBe(iso('2026-11-23T03:11:44Z'));
    expect(isoToEpoch('2026-11-23 04:11:44Z', 3600)).toBe(iso('2026-11-23T04:11:44Z'));
  });
  it('rejects impossible dates', () => {
    expect(isoToEpoch('2026-02-30 04:11:44')).toBeNull();
    expect(isoToEpoch('2026-13-01 04:11:44')).toBeNull();
  });
});

describe('SyslogClock', () => {
  it('puts a December line read in January in last year', () => {
    const c = new SyslogClock({ nowSeconds: iso('2026-01-02T00:00:00Z') });
    expect(c.syslog('Dec 31 23:59:59')).toBe(iso('2025-12-31T23:59:59Z'));
    expect(c.syslog('Jan  1 00:00:01')).toBe(iso('2026-01-01T00:00:01Z'));
    expect(c.syslog('Jan 2 00:30:00')).toBe(iso('2026-01-02T00:30:00Z')); // in the future by less than a day
  });
  it('uses the server offset', () => {
    const c = new SyslogClock({ nowSeconds: iso('2026-06-01T00:00:00Z'), tzOffsetMinutes: 120 });
    expect(c.syslog('May 31 10:00:00')).toBe(iso('2026-05-31T08:00:00Z'));
  });
  it('with only a year, rolls over at the turn of the year and keeps stragglers', () => {
    const c = new SyslogClock({ year: 2025 });
    expect(c.syslog('Dec 31 23:59:59')).toBe(iso('2025-12-31T23:59:59Z'));
    expect(c.syslog('Jan  1 00:00:01')).toBe(iso('2026-01-01T00:00:01Z'));
    expect(c.syslog('Dec 31 23:59:58')).toBe(iso('2025-12-31T23:59:58Z'));
    expect(c.syslog('Feb  1 00:00:00')).toBe(iso('2026-02-01T00:00:00Z'));
  });
  it('without year or now it cannot tell', () => {
    expect(new SyslogClock({}).syslog('Dec 31 23:59:59')).toBeNull();
  });
});

describe('splitPrefix', () => {
  const clock = new SyslogClock({ nowSeconds: iso('2026-07-01T00:00:00Z') });
  it('splits syslog, facility tags, RFC 3339, exim and journald forms', () => {
    expect(splitPrefix('Jun 17 14:37:39 <mail.info> robin sm-mta[2794]: hello', clock)).toMatchObject({
      time: iso('2026-06-17T14:37:39Z'),
      host: 'robin',
      program: 'sm-mta',
      pid: 2794,
      rest: 'hello',
    });
    expect(splitPrefix('2024-08-26T01:33:38.572449+00:00 machine postfix/submission/smtpd[60203]: x', clock)).toMatchObject({
      program: 'postfix/submission/smtpd',
      rest: 'x',
    });
    expect(splitPrefix('2016-04-01 11:08:00 info exim[8003]: [8003] SMTP x', clock)).toMatchObject({
      program: 'exim',
      rest: '[8003] SMTP x',
    });
    expect(splitPrefix('2016-04-01 11:08:00 login authenticator failed for x', clock).rest).toBe('login authenticator failed for x');
    expect(splitPrefix('mail.example.com exim[3751842]: 2021-07-17 23:20:49 plain_server x', clock)).toMatchObject({
      time: iso('2021-07-17T23:20:49Z'),
      rest: 'plain_server x',
    });
    expect(splitPrefix('@400000004b9da2f03b424bb4 new msg 1', clock)).toMatchObject({ time: 0x4b9da2f0 - 10, rest: 'new msg 1' });
    expect(splitPrefix('   qmail: new msg 53 ', clock)).toMatchObject({ time: null, stamped: false, rest: 'qmail: new msg 53 ' });
    // a qmail message that looks like "word word: " is not a host/program
    expect(splitPrefix('@400000004b9da2f03b424bb4 mail recv: pid 1 from <a@b> qp 2', clock).rest).toBe('mail recv: pid 1 from <a@b> qp 2');
  });
});
