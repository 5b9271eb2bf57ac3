// Per-IP login tracking and failure bursts in the log aggregator: what the fleet correlation is built
// from. Bursts are "at least N failures from one IP within S seconds before a success from it".
import { describe, expect, it } from 'vitest';
import { AuthAggregator } from '../../src/logs/aggregate.js';
import {
  AuthIpTracker,
  MAX_AUTH_IPS,
  MAX_BURST_TIMES,
  MAX_NAMES_PER_IP,
  MAX_NAMES_TOTAL,
  MAX_STORED_TIMES,
} from '../../src/logs/auth-ips.js';
import { hostAuth, MAX_REPORT_IPS } from '../../src/correlate/host-auth.js';
import type { Submission } from '../../src/logs/types.js';
import { parsePostfixLog } from '../../src/mta/postfix/logs.js';
import { parseQmailLog } from '../../src/mta/qmail/logs.js';
import { parseEximLog } from '../../src/mta/exim/logs.js';
import { correlate } from '../../src/correlate/correlate.js';
import type { HostAuth } from '../../src/correlate/types.js';
import type { HostReport } from '../../src/scan/types.js';

const correlatePartial = (auth: HostAuth) =>
  correlate([{ name: 'mx1', status: 'ok', auth, log: { files: [], lines: 0, since: '' } } as unknown as HostReport]).partial[0]?.why ?? '';

const T = 1_800_000_000;
const login = (authId: string, clientIp: string, time: number | null): Submission => ({
  time,
  authId,
  clientIp,
  sender: authId,
  source: 'exim-arrival',
});

function feed(agg: AuthAggregator, events: (['fail', string | undefined, string, number] | ['ok', string, string, number])[]) {
  for (const e of events) {
    if (e[0] === 'fail') agg.addFailure({ time: e[3], clientIp: e[2], ...(e[1] !== undefined ? { user: e[1] } : {}) });
    else agg.add(login(e[1], e[2], e[3]));
  }
  return hostAuth(agg.result(), agg.authIps);
}

describe('failure bursts before a success', () => {
  it('5 failures within 10 min, then a success from the same IP: one burst with counts and times', () => {
    const agg = new AuthAggregator();
    const auth = feed(agg, [
      ...[0, 60, 120, 180, 240].map((d) => ['fail', 'frank@example.net', '192.0.2.66', T + d] as const),
      ['ok', 'frank@example.net', '192.0.2.66', T + 300],
      ['ok', 'frank@example.net', '192.0.2.66', T + 400], // later logins do not make a second burst
    ] as never);
    expect(auth.bursts).toEqual([
      { authId: 'frank@example.net', ip: '192.0.2.66', failures: 5, firstFailure: T, lastFailure: T + 240, success: T + 300 },
    ]);
    expect(auth.burst).toEqual({ failures: 5, seconds: 600 });
  });

  it('no burst: 4 failures; failures older than the window; failures from another IP; failures naming another user', () => {
    const cases: Parameters<typeof feed>[1][] = [
      [...[0, 1, 2, 3].map((d) => ['fail', 'a@x.test', '192.0.2.1', T + d] as const), ['ok', 'a@x.test', '192.0.2.1', T + 10]] as never,
      [...[0, 1, 2, 3, 4].map((d) => ['fail', 'a@x.test', '192.0.2.1', T + d] as const), ['ok', 'a@x.test', '192.0.2.1', T + 700]] as never,
      [...[0, 1, 2, 3, 4].map((d) => ['fail', 'a@x.test', '192.0.2.9', T + d] as const), ['ok', 'a@x.test', '192.0.2.1', T + 10]] as never,
      [...[0, 1, 2, 3, 4].map((d) => ['fail', 'b@x.test', '192.0.2.1', T + d] as const), ['ok', 'a@x.test', '192.0.2.1', T + 10]] as never,
    ];
    for (const c of cases) expect(feed(new AuthAggregator(), c).bursts).toEqual([]);
  });

  it('counts failures that name no user (postfix) and matches the account without case', () => {
    const auth = feed(new AuthAggregator(), [
      ['fail', undefined, '192.0.2.7', T],
      ['fail', undefined, '192.0.2.7', T + 1],
      ['fail', 'Bob@Example.COM', '192.0.2.7', T + 2],
      ['fail', 'bob@example.com', '192.0.2.7', T + 3],
      ['fail', undefined, '192.0.2.7', T + 4],
      ['ok', 'bob@example.com', '192.0.2.7', T + 5],
    ] as never);
    expect(auth.bursts).toMatchObject([{ authId: 'bob@example.com', failures: 5, firstFailure: T, lastFailure: T + 4 }]);
  });

  it('the definition is a setting', () => {
    const events = [
      ...[0, 1, 2].map((d) => ['fail', 'a@x.test', '192.0.2.1', T + d] as const),
      ['ok', 'a@x.test', '192.0.2.1', T + 30],
    ] as never;
    expect(feed(new AuthAggregator(), events).bursts).toEqual([]);
    expect(feed(new AuthAggregator({ burst: { failures: 3, seconds: 60 } }), events).bursts).toHaveLength(1);
    expect(feed(new AuthAggregator({ burst: { failures: 3, seconds: 20 } }), events).bursts).toEqual([]);
  });

  it('a brute force past the per-pair cap stays bounded and says the count is a lower bound', () => {
    const agg = new AuthAggregator();
    for (let i = 0; i < MAX_BURST_TIMES + 500; i++) agg.addFailure({ time: T + i / 10, clientIp: '192.0.2.1', user: 'a@x.test' });
    agg.add(login('a@x.test', '192.0.2.1', T + 200));
    const [b] = hostAuth(agg.result(), agg.authIps).bursts;
    expect(b).toMatchObject({ failures: MAX_BURST_TIMES, failuresCapped: true });
  });
});

describe('per-IP logins and attempts', () => {
  it('keeps who logged in from an IP and who it tried, with exact counts past the name cap', () => {
    const agg = new AuthAggregator();
    for (let i = 0; i < MAX_NAMES_PER_IP + 5; i++) agg.add(login(`u${i}@x.test`, '198.51.100.7', T + i));
    agg.addFailure({ time: T, clientIp: '198.51.100.7', user: 'root' });
    agg.addFailure({ time: T, clientIp: '198.51.100.7' });
    const ip = hostAuth(agg.result(), agg.authIps).ips[0]!;
    expect(ip).toMatchObject({
      ip: '198.51.100.7',
      logins: MAX_NAMES_PER_IP + 5,
      accountCount: MAX_NAMES_PER_IP + 5,
      failures: 2,
      unnamedFailures: 1,
    });
    expect(ip.accounts).toHaveLength(MAX_NAMES_PER_IP);
    expect(ip.failedAccounts).toEqual(['root']);
    expect(ip.firstSeen).toBe(T);
  });

  it('memory stays bounded: IPs past MAX_AUTH_IPS are only counted, and the report says how many', () => {
    const t = new AuthIpTracker();
    for (let i = 0; i < MAX_AUTH_IPS + 30; i++) t.failure(undefined, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, T);
    const auth = hostAuth([], t);
    expect(auth.ips).toHaveLength(MAX_REPORT_IPS);
    expect(auth.capped).toEqual({ ips: MAX_AUTH_IPS - MAX_REPORT_IPS, untrackedIps: 30 });
  });

  it('the report keeps the IPs that reach several accounts or fail first when it cuts', () => {
    const agg = new AuthAggregator();
    for (let i = 0; i < MAX_REPORT_IPS + 10; i++) agg.add(login('solo@x.test', `10.1.${(i >> 8) & 255}.${i & 255}`, T));
    agg.add(login('a@x.test', '203.0.113.5', T));
    agg.add(login('b@x.test', '203.0.113.5', T));
    const auth = hostAuth(agg.result(), agg.authIps);
    expect(auth.ips[0]).toMatchObject({ ip: '203.0.113.5', accountCount: 2 });
    expect(auth.capped?.ips).toBe(11);
  });
});

describe('failed logins from each MTA reach the tracker', () => {
  it('exim set_id, postfix (with and without sasl_username), indimail qmail-smtpd', () => {
    const exim = parseEximLog(
      '2026-11-30 10:00:00 +0000 dovecot_login authenticator failed for (client) [192.0.2.66]:5555: 535 Incorrect authentication data (set_id=frank@example.net)\n',
    );
    expect(exim.failures).toMatchObject([{ clientIp: '192.0.2.66', user: 'frank@example.net' }]);
    const postfix = parsePostfixLog(
      [
        'Nov 30 10:00:00 mx postfix/smtpd[1]: warning: unknown[192.0.2.67]: SASL LOGIN authentication failed: UGFzc3dvcmQ6',
        'Nov 30 10:00:01 mx postfix/smtpd[1]: warning: unknown[192.0.2.67]: SASL PLAIN authentication failed: authentication failure, sasl_username=bob@example.com',
      ].join('\n'),
      { year: 2026 },
    );
    expect(postfix.failures).toMatchObject([{ clientIp: '192.0.2.67' }, { clientIp: '192.0.2.67', user: 'bob@example.com' }]);
    expect(postfix.failures[0]!.user).toBeUndefined();
    const qmail = parseQmailLog(
      '@400000006955b6b200000000 qmail-smtpd: pid 5002 from 203.0.113.77  AUTH USER [alice@example.com] status=[1] AUTH LOGIN TLS=No auth failure\n',
    );
    expect(qmail.failures).toMatchObject([{ clientIp: '203.0.113.77', user: 'alice@example.com', authenticator: 'LOGIN' }]);
    expect(qmail.submissions).toEqual([]);
  });
});

describe('host-wide budgets', () => {
  it('names over all IPs and failure times over all pairs are bounded, and the report says so', () => {
    const t = new AuthIpTracker({ failures: 5, seconds: 1e9 });
    // 60 names on each of 1,000 IPs: past MAX_NAMES_TOTAL names are only counted.
    for (let ip = 0; ip < 1000; ip++) for (let n = 0; n < 60; n++) t.failure(`u${n}@x.test`, `10.2.${ip >> 8}.${ip & 255}`, T + n);
    expect(1000 * 60).toBeGreaterThan(MAX_NAMES_TOTAL);
    // 150 unnamed failures from each of the same IPs: 60,000 + 150,000 failure times are more than the budget.
    for (let ip = 0; ip < 1000; ip++) for (let n = 0; n < 150; n++) t.failure(undefined, `10.2.${ip >> 8}.${ip & 255}`, T + n);
    expect(60_000 + 150_000).toBeGreaterThan(MAX_STORED_TIMES);
    const auth = hostAuth([], t);
    expect(auth.capped).toEqual({ names: 60_000 - MAX_NAMES_TOTAL, untimedFailures: true });
    // The counts stay exact where names were kept: every IP saw 210 failures.
    expect(auth.ips.every((x) => x.failures === 210)).toBe(true);
    expect(correlatePartial(auth)).toMatch(/account name\(s\) only counted, some failures not timed for bursts/);
  });
});

describe('from a postfix log, end to end', () => {
  it("SASL failures naming no one, then bob's login from the same client: a burst for bob", () => {
    const fail = (s: number) =>
      `Nov 30 10:0${s}:00 mx postfix/smtpd[1]: warning: unknown[192.0.2.67]: SASL LOGIN authentication failed: UGFzc3dvcmQ6`;
    const log = [
      ...[0, 1, 2, 3, 4].map(fail),
      'Nov 30 10:06:00 mx postfix/smtpd[1]: 4XyZ1: client=unknown[192.0.2.67], sasl_method=LOGIN, sasl_username=bob@example.com',
      'Nov 30 10:06:01 mx postfix/qmgr[2]: 4XyZ1: from=<bob@example.com>, size=100, nrcpt=1 (queue active)',
    ].join('\n');
    const agg = new AuthAggregator();
    const ev = parsePostfixLog(log, { year: 2026 });
    for (const f of ev.failures) agg.addFailure(f);
    for (const x of ev.submissions) agg.add(x);
    const auth = hostAuth(agg.result(), agg.authIps);
    const at = (hm: string) => Date.parse(`2026-11-30T${hm}:00Z`) / 1000;
    expect(auth.bursts).toEqual([
      {
        authId: 'bob@example.com',
        ip: '192.0.2.67',
        failures: 5,
        firstFailure: at('10:00'),
        lastFailure: at('10:04'),
        success: at('10:06'),
      },
    ]);
    expect(auth.ips).toMatchObject([{ ip: '192.0.2.67', logins: 1, failures: 5, unnamedFailures: 5, accounts: ['bob@example.com'] }]);
  });
});
