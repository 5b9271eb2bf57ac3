// Ten days of a three-host fleet written through the stores' own APIs with an injected clock:
// 40 report runs (every 6 h) and one day of history per host per day, bob hijacked on two hosts at
// the end, and accounts, domains, IPs and messages chosen by an attacker to break the page.
import { join } from 'node:path';
import { SqliteReportStore } from '../../src/alerts/sqlite-store.js';
import type { HostEvidence, Incident, RunHostRow } from '../../src/alerts/store.js';
import { HistoryStore } from '../../src/history/store.js';

export const T_END = Date.parse('2026-11-23T08:00:00Z');
const HOUR = 3_600_000;
export const RUNS = 40;
export const DAYS = Array.from({ length: 10 }, (_, i) => new Date(T_END - (9 - i) * 86_400_000).toISOString().slice(0, 10));

export const HOSTILE = {
  img: '<img src=x onerror=alert(1)>',
  script: '"><script>alert(2)</script>@example.test',
  bidi: 'invoice\u202Egpj.exe@example.test',
  esc: 'esc\u001b[2J\u001b]0;owned\u0007@example.test',
  domain: '<svg onload=alert(3)>',
  ip: "'><script>alert(4)</script>",
  message: 'queue \u001b[31m9000\u001b[0m <b>bold</b> & "quoted"',
  reason: 'connect ECONNREFUSED \u001b]0;pwned\u0007 <iframe src=//evil.invalid>',
};

export const BOB = 'bob@example.test';
export const HOSTS = ['mx1.dc1.example.net', 'mx7.dc2.example.net', 'mx3.dc1.example.net'] as const;
/** Runs (0-based, oldest first) in which mx3 could not be reached: gaps in its queue chart; the last run too. */
export const MX3_DOWN = [28, 29, RUNS - 1];

/** Queue size of host `h` in run `k` (0 oldest … 39 newest): quiet, then bob's burst on mx1 and mx7. */
function queue(h: number, k: number): number {
  if (h === 2) return 3 + (k % 5);
  const base = h === 0 ? 12 : 7;
  return k >= RUNS - 2 ? 339 : base + ((k * 7) % 9);
}

const q = (total: number) => ({
  total,
  frozen: 0,
  bounces: Math.floor(total / 10),
  held: 0,
  oldestSeconds: total * 30,
  reportedTotal: total,
});

export interface Fixture {
  state: string;
  history: string;
}

export async function buildFixture(dir: string): Promise<Fixture> {
  const state = join(dir, 'report.sqlite');
  const history = join(dir, 'history.sqlite');
  const store = new SqliteReportStore(state);
  for (let k = 0; k < RUNS; k++) {
    const at = T_END - (RUNS - 1 - k) * 6 * HOUR;
    const id = await store.beginRun(at);
    const rows: RunHostRow[] = HOSTS.map((host, h) =>
      h === 2 && MX3_DOWN.includes(k)
        ? { host, status: 'unreachable', reason: HOSTILE.reason, mta: 'sendmail', queue: null, durationMs: 5000 }
        : { host, status: 'ok', mta: ['exim', 'postfix', 'sendmail'][h]!, queue: q(queue(h, k)), durationMs: 800 + h * 100 },
    );
    await store.recordHosts(id, rows);
    await store.finishRun(id, {
      finishedAt: at + 4000,
      exitCode: k >= RUNS - 2 ? 2 : 0,
      unfinished: 0,
      channelErrors: k === RUNS - 1 ? { hook: `POST http://127.0.0.1:9/…: HTTP 500 ${HOSTILE.message}` } : {},
    });
  }
  const opened = T_END - 6 * HOUR;
  const ev = (host: string, extra: Partial<HostEvidence>): HostEvidence => ({
    host,
    severity: 'warning',
    rules: ['baseline'],
    messages: [],
    ...extra,
  });
  const incident = (i: Omit<Incident, 'id' | 'openedAt' | 'lastSeenAt' | 'lastNotifiedAt' | 'resolvedAt' | 'hosts'>) =>
    store.createIncident({
      ...i,
      openedAt: opened,
      lastSeenAt: T_END,
      lastNotifiedAt: opened,
      resolvedAt: null,
      hosts: i.evidence.map((e) => e.host),
    });
  await incident({
    key: `account:${BOB}`,
    kind: 'account',
    subject: BOB,
    severity: 'critical',
    evidence: [HOSTS[0], HOSTS[1]].map((host) =>
      ev(host, {
        severity: 'critical',
        rules: ['queue-size', 'sender-mismatch', 'baseline'],
        messages: [`${BOB}: 300 messages today vs 30.0/day over 7 working day(s) (allowed 100)`, HOSTILE.message],
        sent: 300,
        recipients: 1434,
        queued: 300,
        senderDomains: [
          ['parcel-notice.invalid', 57],
          [HOSTILE.domain, 2],
        ],
        clientIps: ['127.0.0.10', HOSTILE.ip],
        clientIpCount: 6,
        sampleIds: ['1tXyZa-000abc-AB'],
        queueTotal: 339,
      }),
    ),
  });
  await incident({
    key: `account:${HOSTILE.img}`,
    kind: 'account',
    subject: HOSTILE.img,
    severity: 'warning',
    evidence: [ev(HOSTS[1], { messages: [`${HOSTILE.img}: 150 messages today`] })],
  });
  await incident({
    key: `account:${HOSTILE.script}`,
    kind: 'account',
    subject: HOSTILE.script,
    severity: 'warning',
    evidence: [ev(HOSTS[0], { messages: [HOSTILE.script] })],
  });
  await incident({
    key: `account:${HOSTILE.bidi}`,
    kind: 'account',
    subject: HOSTILE.bidi,
    severity: 'warning',
    evidence: [ev(HOSTS[2], { messages: [HOSTILE.bidi] })],
  });
  await store.close();

  // Daily sends: steady, then bob's burst on the last day on both hosts.
  const hist = new HistoryStore(history);
  const sends: [string, string, (d: number) => number][] = [
    [HOSTS[0], BOB, (d) => (d === 9 ? 300 : 25 + (d % 3) * 5)],
    [HOSTS[1], BOB, (d) => (d === 9 ? 250 : 15 + (d % 4) * 3)],
    [HOSTS[1], HOSTILE.img, (d) => (d === 9 ? 150 : 5)],
    [HOSTS[0], HOSTILE.script, () => 12],
    [HOSTS[2], HOSTILE.bidi, (d) => 8 + d],
    [HOSTS[2], HOSTILE.esc, (d) => (d === 9 ? 0 : 3)],
  ];
  DAYS.forEach((day, d) => {
    for (const host of HOSTS)
      hist.record(
        host,
        sends
          .filter(([h, , f]) => h === host && f(d) > 0)
          .map(([h, authId, f]) => ({ host: h, authId, day, messages: f(d), recipients: 0 })),
        [day],
      );
  });
  hist.close();
  return { state, history };
}

/** What the charts must show: points per queue chart (runs where the queue was read) and per account chart (days observed). */
export const EXPECTED = {
  queue: { [HOSTS[0]]: RUNS, [HOSTS[1]]: RUNS, [HOSTS[2]]: RUNS - MX3_DOWN.length } as Record<string, number>,
  accountCharts: 6,
  accountPoints: DAYS.length,
};
