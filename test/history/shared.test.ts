// The shared history's prefetch (history/shared.ts) answers the baseline's questions exactly as a
// full history would, for any "today" a host may have (the controller's UTC day ± 1), and refuses
// the rest rather than answer them wrongly. The source here answers from a full SQLite history with
// the same statement semantics as PostgreSQL's (newest `limit` days before a day, counts on days).
import { describe, expect, it } from 'vitest';
import { isWeekday } from '../../src/rules/account-rules.js';
import { historyFromStore, prefetchSharedHistory, type BaselineSource } from '../../src/history/shared.js';
import { HistoryStore } from '../../src/history/store.js';

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A deterministic pseudo-random fleet history: some days unobserved, counts varying. */
function fullHistory(hosts: string[], lastDay: number, span: number): HistoryStore {
  const h = new HistoryStore(':memory:');
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const host of hosts)
    for (let i = 0; i < span; i++) {
      const d = day(lastDay - i * DAY);
      if (rnd() < 0.25) continue; // not scanned that day
      const counts = ['a@x.test', 'b@x.test'].map((authId) => ({ host, authId, day: d, messages: Math.floor(rnd() * 300), recipients: 0 }));
      h.record(host, counts, [d]);
    }
  return h;
}

function sourceOf(full: HistoryStore, calls: { hosts: number }[] = []): BaselineSource {
  return {
    async baselineHistory(hosts, beforeDay, pick) {
      calls.push({ hosts: hosts.length });
      const observed = hosts.flatMap((h) => full.observedDays(h.host, beforeDay, h.limit).map((d) => ({ host: h.host, day: d })));
      const counts = pick(observed).flatMap((w) =>
        ['a@x.test', 'b@x.test'].map((authId) => ({
          host: w.host,
          authId,
          day: w.day,
          messages: full.userCounts(w.host, authId, [w.day])[0]!,
        })),
      );
      return { observed, counts: counts.filter((c) => c.messages > 0) };
    },
  };
}

/** The baseline rule's question (scan/host.ts) for one account. */
const ask = (h: HistoryStore, host: string, today: string, days: number, authId: string) =>
  h.userCounts(
    host,
    authId,
    h
      .observedDays(host, today, 8 * days)
      .filter(isWeekday)
      .slice(0, days),
  );

describe('prefetchSharedHistory', () => {
  const now = Date.parse('2026-11-25T23:30:00Z');
  const hosts = [
    { name: 'a.example.net', vars: {} },
    { name: 'b.example.net', vars: { baseline_days: 3 } },
    { name: 'c.example.net', vars: { baseline_days: 20 } },
  ];

  it('gives the full history answers for every day a host may call today', async () => {
    const full = fullHistory(
      hosts.map((h) => h.name),
      now + DAY,
      400,
    );
    const calls: { hosts: number }[] = [];
    const shared = await prefetchSharedHistory(sourceOf(full, calls), hosts, now, 'postgres://db/x');
    expect(calls).toEqual([{ hosts: 3 }]);
    for (const h of hosts) {
      const days = (h.vars as { baseline_days?: number }).baseline_days ?? 10;
      for (const today of ['2026-11-24', '2026-11-25', '2026-11-26']) {
        expect(shared.observedDays(h.name, today, 8 * days)).toEqual(full.observedDays(h.name, today, 8 * days));
        for (const authId of ['a@x.test', 'b@x.test', 'nobody@x.test']) {
          const got = ask(shared, h.name, today, days, authId);
          expect(got).toEqual(ask(full, h.name, today, days, authId));
          if (authId !== 'nobody@x.test') expect(got.some((n) => n > 0)).toBe(true);
        }
      }
    }
  });

  it('refuses what it did not read: a host whose clock is days off, another host, a longer look back', async () => {
    const full = fullHistory(['a.example.net'], now, 60);
    const shared = await prefetchSharedHistory(sourceOf(full), [hosts[0]!], now, 'postgres://db/x');
    expect(() => shared.observedDays('a.example.net', '2026-11-20', 80)).toThrow(
      /shared history postgres:\/\/db\/x was not read for day 2026-11-20 \(the controller's day is 2026-11-24\/2026-11-25\/2026-11-26\)/,
    );
    expect(() => shared.observedDays('z.example.net', '2026-11-25', 80)).toThrow(/was not read/);
    expect(() => shared.observedDays('a.example.net', '2026-11-25', 400)).toThrow(/was not read/);
    expect(() => shared.userCounts('a.example.net', 'a@x.test', ['2026-10-01'])).toThrow(/was not read for days 2026-10-01/);
  });

  it('a failing source: every read throws why; recording (in memory) still works', async () => {
    const failing: BaselineSource = {
      baselineHistory: () => Promise.reject(new Error('report state postgres://db/x: database unreachable: ECONNREFUSED')),
    };
    const shared = await prefetchSharedHistory(failing, hosts, now, 'postgres://db/x');
    expect(shared.failure).toMatch(/ECONNREFUSED/);
    expect(() => shared.observedDays('a.example.net', '2026-11-25', 80)).toThrow(
      'shared history postgres://db/x not read: report state postgres://db/x: database unreachable: ECONNREFUSED',
    );
    expect(() => shared.record('a.example.net', [], ['2026-11-25'])).not.toThrow();
  });
});

describe('historyFromStore (the HTML page on a shared state)', () => {
  it('reads the window days and counts from the window minus the look-back, zero counts left out', async () => {
    const asked: string[][] = [];
    const h = await historyFromStore(
      {
        windowDays: async (from, to) => (
          asked.push([from, to]),
          [
            { host: 'h', day: '2026-11-20' },
            { host: 'h', day: '2026-11-24' },
          ]
        ),
        accountDays: async () => [
          { host: 'h', authId: 'a', day: '2026-11-20', messages: 5 },
          { host: 'h', authId: 'a', day: '2026-11-24', messages: 0 },
        ],
      },
      '2026-11-17',
      '2026-11-25',
    );
    expect(asked).toEqual([['2026-10-20', '2026-11-25']]);
    expect(h.observedDays('h', '2026-11-26', 10)).toEqual(['2026-11-24', '2026-11-20']);
    expect(h.userCounts('h', 'a', ['2026-11-24', '2026-11-20'])).toEqual([0, 5]);
    h.close();
  });
});
