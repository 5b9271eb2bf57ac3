import { describe, expect, it } from 'vitest';
import type { UserStats } from '../../src/logs/aggregate.js';
import type { QueueMessage } from '../../src/mta/types.js';
import {
  baseline,
  baselineAllowed,
  isWeekday,
  manyIps,
  massRecipients,
  senderMismatch,
  userVolume,
} from '../../src/rules/account-rules.js';
import { backscatter } from '../../src/rules/backscatter.js';
import { ruleSettings } from '../../src/rules/settings.js';
import { rankSuspects } from '../../src/rules/suspects.js';
import type { HostEvidence } from '../../src/rules/types.js';
import { HistoryStore } from '../../src/history/store.js';
import { queueMessage } from '../mta/helpers.js';

function user(authId: string, over: Partial<UserStats> = {}): UserStats {
  return {
    authId,
    messages: 10,
    recipients: 10,
    unconfirmed: 0,
    clientIps: ['192.0.2.1'],
    clientIpsTruncated: false,
    senderDomains: {},
    nullSenders: 0,
    firstSeen: null,
    lastSeen: null,
    sampleQueueIds: [],
    perDay: {},
    failures: 0,
    ...over,
  };
}
function msg(id: string, over: Partial<QueueMessage> = {}): QueueMessage {
  return queueMessage({ id, ...over });
}
function evidence(over: Partial<HostEvidence> = {}): HostEvidence {
  return { host: 'mx1', queue: [], users: [], today: '2026-11-23', history: null, settings: ruleSettings({}), ...over };
}

describe('user-volume (seed 001: 500/day)', () => {
  it('flags only accounts over the limit, with the per-host override', () => {
    const e = evidence({ users: [user('alice@example.test', { messages: 501 }), user('bob@example.test', { messages: 500 })] });
    expect(userVolume(e).map((f) => f.authId)).toEqual(['alice@example.test']);
    expect(userVolume({ ...e, settings: ruleSettings({ user_volume_limit: 100 }) })).toHaveLength(2);
  });
});

describe('sender-mismatch (seed 001 fraud)', () => {
  const spam = user('bob@example.test', { senderDomains: { 'example.test': 3, 'hotmail.com': 40, 'evil.test': 20 } });
  it('counts messages sent as foreign domains', () => {
    const [f] = senderMismatch(evidence({ users: [spam] }));
    expect(f).toMatchObject({ authId: 'bob@example.test', rule: 'sender-mismatch', evidence: { messages: 60 } });
  });
  it('leaves a user who legitimately sends for an allowed alias domain alone', () => {
    const alias = user('carol@shop.test', { senderDomains: { 'shop.test': 5, 'shop-outlet.test': 30 } });
    expect(senderMismatch(evidence({ users: [alias] }))).toHaveLength(1);
    expect(
      senderMismatch(evidence({ users: [alias], settings: ruleSettings({ sender_allow: { 'carol@shop.test': ['shop-outlet.test'] } }) })),
    ).toEqual([]);
    expect(
      senderMismatch(evidence({ users: [alias], settings: ruleSettings({ sender_allow: { 'shop.test': ['shop-outlet.test'] } }) })),
    ).toEqual([]);
  });
  it('skips bare usernames (no domain to compare) and null senders', () => {
    expect(
      senderMismatch(
        evidence({ users: [user('userx', { senderDomains: { 'a.test': 50 } }), user('d@x.test', { senderDomains: { '(null)': 50 } })] }),
      ),
    ).toEqual([]);
  });
  it('works from the queue alone when the log is unreadable', () => {
    const queue = Array.from({ length: 12 }, (_, i) => msg(`q${i}`, { authId: 'bob@example.test', sender: `s${i}@forged${i % 3}.test` }));
    const [f] = senderMismatch(evidence({ users: null, queue }));
    expect(f?.evidence).toMatchObject({ messages: 12 });
  });
});

describe('baseline (seed 002)', () => {
  const s = ruleSettings({});
  it('uses the floor for a new account with no history', () => {
    expect(baselineAllowed([], s)).toEqual({ average: null, allowed: 100 });
    const e = evidence({ users: [user('new@example.test', { perDay: { '2026-11-23': 150 } })], history: () => [] });
    expect(baseline(e)[0]?.message).toMatch(/no history/);
    expect(baseline({ ...e, users: [user('new@example.test', { perDay: { '2026-11-23': 90 } })] })).toEqual([]);
  });
  it('alerts above 150 % of the average, never under 100, always above 200', () => {
    expect(baselineAllowed([80, 80], s).allowed).toBe(120);
    expect(baselineAllowed([10, 20], s).allowed).toBe(100);
    const at = (today: number, past: number[]) =>
      baseline(evidence({ users: [user('a@x.test', { perDay: { '2026-11-23': today } })], history: () => past }));
    expect(at(121, [80, 80])).toHaveLength(1);
    expect(at(119, [80, 80])).toEqual([]);
    expect(at(201, [190, 190])).toHaveLength(1); // 285 allowed, but above the ceiling of 200
    expect(at(99, [1, 1])).toEqual([]);
  });
  it('averages only working days from the store, weekends excluded', () => {
    const store = new HistoryStore(':memory:');
    // Mon 16 … Fri 20 Nov 2026 at 50/day, the weekend at 900/day (a weekly newsletter run).
    const days = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22'];
    store.record(
      'mx1',
      days.map((day) => ({ host: 'mx1', authId: 'a@x.test', day, messages: day >= '2026-11-21' ? 900 : 50, recipients: 0 })),
      days,
    );
    expect(days.filter(isWeekday)).toHaveLength(5);
    const past = store.userCounts('mx1', 'a@x.test', store.observedDays('mx1', '2026-11-23', 80).filter(isWeekday).slice(0, 10));
    expect(past).toEqual([50, 50, 50, 50, 50]);
    // On Saturday 2026-11-28 the rule still compares against the working-day average.
    const e = evidence({ today: '2026-11-28', users: [user('a@x.test', { perDay: { '2026-11-28': 180 } })], history: () => past });
    expect(baseline(e)[0]?.evidence).toMatchObject({ weekend: true, average: 50, allowed: 100 });
    store.close();
  });
});

describe('mass-recipients, many-ips, backscatter', () => {
  it('flags 20+ recipient messages per account', () => {
    const queue = [
      msg('a', { authId: 'bob@example.test', recipients: Array.from({ length: 25 }, (_, i) => `r${i}@x.test`) }),
      msg('b', { authId: 'alice@example.test', recipients: ['one@x.test'] }),
    ];
    expect(massRecipients(evidence({ queue })).map((f) => f.authId)).toEqual(['bob@example.test']);
  });
  it('counts distinct client IPs, IPv6 included', () => {
    const ips = ['192.0.2.1', '2001:db8::1', '2001:db8::2', '198.51.100.7', '203.0.113.9'];
    expect(manyIps(evidence({ users: [user('bob@example.test', { clientIps: ips })] }))[0]?.evidence).toMatchObject({ count: 5 });
    expect(manyIps(evidence({ users: [user('bob@example.test', { clientIps: ips.slice(0, 4) })] }))).toEqual([]);
  });
  it('finds bounces to foreign addresses and ties them to the account that forged their senders', () => {
    const spam = Array.from({ length: 10 }, (_, i) => msg(`s${i}`, { authId: 'bob@example.test', sender: `forged${i}@hotmail.test` }));
    const bounces = Array.from({ length: 10 }, (_, i) =>
      msg(`b${i}`, { sender: '', bounce: true, frozen: true, recipients: [`forged${i}@hotmail.test`] }),
    );
    const local = msg('l', { sender: '', bounce: true, recipients: ['alice@example.test'] });
    const f = backscatter(evidence({ queue: [...spam, ...bounces, local] }));
    expect(f[0]).toMatchObject({ rule: 'backscatter', evidence: { messages: 10, frozen: 10 } });
    expect(f[1]).toMatchObject({ authId: 'bob@example.test', evidence: { messages: 10 } });
  });
});

describe('backscatter tied to the account (one judgement for the scan and the purge)', () => {
  const spam = Array.from({ length: 6 }, (_, i) => msg(`s${i}`, { authId: 'bob@example.test', sender: `forged${i}@hotmail.test` }));
  const tied = Array.from({ length: 6 }, (_, i) => msg(`b${i}`, { sender: '', bounce: true, recipients: [`Forged${i}@hotmail.test`] }));
  const unrelated = Array.from({ length: 5 }, (_, i) => msg(`u${i}`, { sender: '', bounce: true, recipients: [`old${i}@partner.test`] }));
  it('counts every foreign bounce, blames the account only for bounces to its own senders', () => {
    const f = backscatter(evidence({ queue: [...spam, ...tied, ...unrelated] }));
    expect(f[0]).toMatchObject({ rule: 'backscatter', evidence: { messages: 11, untied: 5 } });
    expect(f.filter((x) => x.authId)).toEqual([expect.objectContaining({ authId: 'bob@example.test', evidence: { messages: 6 } })]);
  });
  it('senders from the log window tie bounces of spam that has already left the queue', () => {
    const late = Array.from({ length: 10 }, (_, i) => msg(`l${i}`, { sender: '', bounce: true, recipients: [`gone${i}@relayed.test`] }));
    const users = [user('bob@example.test', { senders: Array.from({ length: 10 }, (_, i) => `gone${i}@relayed.test`) })];
    expect(backscatter(evidence({ queue: late, users })).find((x) => x.authId)).toMatchObject({
      authId: 'bob@example.test',
      evidence: { messages: 10 },
    });
  });
  it("the MTA's own local domains keep bounces to hosted customers out", () => {
    const toCustomers = Array.from({ length: 10 }, (_, i) =>
      msg(`c${i}`, { sender: '', bounce: true, recipients: [`user${i}@hosted-customer.test`] }),
    );
    expect(backscatter(evidence({ queue: toCustomers }))).not.toEqual([]);
    const localDomains = { exact: new Set(['hosted-customer.test']), suffixes: [], unknown: [], sources: ['exim -bP +local_domains'] };
    expect(backscatter(evidence({ queue: toCustomers, localDomains }))).toEqual([]);
  });
});

describe('suspects', () => {
  it('ranks the account hit by more rules first and keeps legitimate accounts out', () => {
    const users = [
      user('bob@example.test', { messages: 600, senderDomains: { 'hotmail.com': 600 } }),
      user('alice@example.test', { messages: 600, senderDomains: { 'example.test': 600 } }),
      user('carol@shop.test'),
    ];
    const e = evidence({ users });
    const ranked = rankSuspects([...userVolume(e), ...senderMismatch(e)], users, []);
    expect(ranked.map((s) => s.authId)).toEqual(['bob@example.test', 'alice@example.test']);
    expect(ranked[0]).toMatchObject({ messages: 600, rules: ['user-volume', 'sender-mismatch'] });
  });
});

describe('addresses a queue listing cut short (sendmail mailq: 39/38 characters)', () => {
  const cut = (id: string, over: Partial<QueueMessage>) => msg(id, { authId: 'bob@example.test', ...over });
  it('a truncated sender never counts as a foreign domain', () => {
    const queue = [1, 2, 3, 4, 5].map((i) => cut(`q${i}`, { sender: '<bob.longname.for.the.customer@example.te', senderTruncated: true }));
    expect(senderMismatch(evidence({ users: null, queue }))).toEqual([]);
    const suspects = rankSuspects(
      [{ authId: 'bob@example.test', rule: 'mass-recipients', severity: 'warning', message: 'x', evidence: {} }],
      null,
      queue,
    );
    expect(suspects[0]?.senderDomains).toEqual({ '(cut short)': 5 });
  });
  it('a bounce whose only foreign-looking recipient was cut short is not backscatter', () => {
    const b = (id: string, over: Partial<QueueMessage> = {}) =>
      msg(id, {
        sender: '',
        bounce: true,
        frozen: true,
        recipients: ['<customer.with.long.name@example.te'],
        truncatedRecipients: [0],
        ...over,
      });
    const queue = Array.from({ length: 20 }, (_, i) => b(`b${i}`));
    const e = evidence({ queue, settings: ruleSettings({ local_domains: ['example.test'] }) });
    expect(backscatter(e)).toEqual([]);
    // the same bounces with whole foreign recipients are backscatter
    const whole = queue.map((m) => ({ ...m, recipients: ['x@forged.invalid'], truncatedRecipients: undefined }));
    expect(backscatter({ ...e, queue: whole })).toHaveLength(1);
  });
});
