// The digest, the history view and the Prometheus file over a multi-day history built by real
// `report` runs (injected clock) against the fake SSH fleet replaying real servers' recordings, the
// recordings moved day by day: six quiet days, then bob hijacked on mx1 and mx7 for two days.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHistory } from '../../src/commands/history.js';
import type { ReportCliOptions } from '../../src/commands/report-options.js';
import { runReport } from '../../src/commands/report.js';
import type { ReplayEntry } from '../../src/demo/fake-host.js';
import { startFakeFleet, type FakeFleet, type FleetHostEntry } from '../../src/demo/fleet.js';
import { REPLAY_KEYS } from '../../src/demo/replay.js';
import type { Digest } from '../../src/digest/build.js';
import type { HistoryView } from '../../src/digest/history.js';
import { SmtpSinkProcess } from './receivers.js';

const LAB = 'test/fixtures/lab';
const DAY = 86_400_000;
const MX1 = 'mx1.dc1.example.net';
const MX7 = 'mx7.dc2.example.net';
const MX3 = 'mx3.dc1.example.net';
/** The recordings' day; day k of the test is LAST_DAY - (8 - k). */
const RECORDED = '2026-11-23';
const DAYS = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23'];

/** A recording moved by `days` (≤ 0): the log's clock line and every date in it. */
function shiftedLog(dir: string, days: number): string {
  const text = readFileSync(join(LAB, dir, 'log.out'), 'utf8');
  const day = new Date(Date.parse(`${RECORDED}T00:00:00Z`) + days * DAY);
  const iso = day.toISOString().slice(0, 10);
  const syslog = `${day.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' })} ${String(day.getUTCDate()).padStart(2, ' ')}`;
  return text
    .replace(/^__MAILSWEEP_LOGNOW__ (\d+)/m, (_m, t: string) => `__MAILSWEEP_LOGNOW__ ${Number(t) + days * 86400}`)
    .replace(/2026-11-23/g, iso)
    .replace(/^Nov 23/gm, syslog);
}

/** qshape's ten buckets, one age each: 3m → "5", 7m → "10" … 20h (1200 min) → "1280", 2d → "1280+". */
const AGES = ['3m', '7m', '15m', '30m', '1h', '2h', '5h', '10h', '20h', '2d'];

/** The exim listing with message i's age set to AGES[i % 10]. */
function agedEximQueue(): string {
  let i = 0;
  return readFileSync(join(LAB, 'bookworm-exim', 'queue.out'), 'utf8').replace(
    /^( {0,2})(\d+[smhd])( +\d+ +\S+-\S+-\S+ <)/gm,
    (_m, sp: string, _age: string, rest: string) => {
      const age = AGES[i++ % AGES.length]!;
      return `${sp}${' '.repeat(Math.max(0, 2 - age.length))}${age}${rest}`;
    },
  );
}

function replay(dir: string, days: number, queue?: string): ReplayEntry[] {
  return [
    { match: REPLAY_KEYS.detect, file: join(LAB, dir, 'detect.out') },
    { match: REPLAY_KEYS.log, text: shiftedLog(dir, days) },
    queue !== undefined ? { match: REPLAY_KEYS.queue, text: queue } : { match: REPLAY_KEYS.queue, file: join(LAB, dir, 'queue.out') },
  ];
}

/** Authenticated arrivals of an account in a recording, counted apart from the parsers: exim `<=` lines with A=…:id. */
function eximCount(dir: string, who: string): number {
  return readFileSync(join(LAB, dir, 'log.out'), 'utf8')
    .split('\n')
    .filter((l) => / <= /.test(l) && l.includes(`A=plain_server:${who} `)).length;
}
/** postfix: smtpd `client=…, sasl_username=id` lines (one per accepted message in these recordings). */
function postfixCount(dir: string, who: string): number {
  return readFileSync(join(LAB, dir, 'log.out'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(`sasl_username=${who}`)).length;
}

let dir: string;
let fleet: FakeFleet;
let entries: FleetHostEntry[];
let base: ReportCliOptions;
const prom = () => join(dir, 'prom', 'mailsweep.prom');
const codes: number[] = [];

async function run(at: number): Promise<void> {
  const out: string[] = [];
  const err: string[] = [];
  const r = await runReport(
    { ...base, now: new Date(at).toISOString() },
    { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: { ...process.env } },
  );
  expect(err.join('')).toBe('');
  codes.push(r.code);
}

async function digest(o: Partial<ReportCliOptions>): Promise<string> {
  const out: string[] = [];
  const r = await runReport(
    { ...base, now: `${DAYS[7]}T23:30:00Z`, ...o },
    { stdout: (t) => void out.push(t), stderr: () => {}, env: { ...process.env } },
  );
  expect(r.code).toBe(0);
  return out.join('');
}

async function history(subject: string | undefined, format = 'json'): Promise<string> {
  const out: string[] = [];
  const code = await runHistory(
    subject,
    { state: base.state, days: '8', format, now: `${DAYS[7]}T23:30:00Z` },
    { stdout: (t) => void out.push(t), stderr: () => {}, env: {} },
  );
  expect(code).toBe(0);
  return out.join('');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ms-digest-'));
  mkdirSync(join(dir, 'prom'));
  entries = [
    { name: MX1, mode: 'normal', tools: [], replay: [] },
    { name: MX7, mode: 'normal', tools: [], replay: [] },
    { name: MX3, mode: 'normal', tools: [], replay: [] },
  ];
  fleet = await startFakeFleet(dir, entries);
  base = {
    inventory: fleet.inventoryPath,
    knownHosts: fleet.knownHostsPath,
    state: join(dir, 'report.sqlite'),
    history: join(dir, 'history.sqlite'),
    forks: '10',
    timeout: '10',
    connectTimeout: '5',
    prometheus: prom(),
  };
  // Six quiet days, one run each.
  for (let k = 0; k < 6; k++) {
    const shift = k - 7;
    entries[0]!.replay = replay('bookworm-exim-quiet', shift);
    entries[1]!.replay = replay('bookworm-postfix-quiet', shift);
    entries[2]!.replay = replay('bookworm-sendmail-quiet', shift);
    await run(Date.parse(`${DAYS[k]}T08:00:00Z`));
  }
  // Day 7: bob hijacked on mx1 and mx7; mx3 answers nothing an MTA would (status error).
  entries[0]!.replay = replay('bookworm-exim', -1);
  entries[1]!.replay = replay('bookworm-postfix', -1);
  entries[2]!.replay = [{ match: REPLAY_KEYS.detect, text: 'nothing here\n' }];
  await run(Date.parse(`${DAYS[6]}T08:00:00Z`));
  // Day 8: two runs; mx3 back; the second sees mx1's queue aged across every bucket.
  entries[2]!.replay = replay('bookworm-sendmail-quiet', 0);
  entries[0]!.replay = replay('bookworm-exim-quiet', 0);
  await run(Date.parse(`${DAYS[7]}T08:00:00Z`));
  entries[0]!.replay = replay('bookworm-exim', 0, agedEximQueue());
  entries[1]!.replay = replay('bookworm-postfix', 0);
  await run(Date.parse(`${DAYS[7]}T20:00:00Z`));
}, 120_000);

afterAll(async () => {
  await fleet?.close();
});

describe('digest over eight days of report runs', () => {
  it('the runs happened as planned (quiet, then critical)', () => {
    expect(codes.slice(0, 6).every((c) => c === 0 || c === 1)).toBe(true);
    expect(codes.slice(6)).toEqual([2, 2, 2]);
  });

  it('daily JSON: bob across the fleet, his figures and his change vs baseline; problems first', async () => {
    const d = JSON.parse(await digest({ digest: 'daily', day: DAYS[7], format: 'json' })) as Digest;
    expect(d).toMatchObject({ version: 1, kind: 'daily', period: { from: DAYS[7], to: DAYS[7], days: 1 }, runs: { count: 2 } });
    expect(d.buckets).toEqual(['5', '10', '20', '40', '80', '160', '320', '640', '1280', '1280+']);
    const bob = d.accounts[0]!;
    expect(bob.account).toBe('bob@example.test');
    expect(bob.hosts).toEqual([MX1, MX7]);
    const sent = eximCount('bookworm-exim', 'bob@example.test') + postfixCount('bookworm-postfix', 'bob@example.test');
    expect(sent).toBe(600);
    expect(bob).toMatchObject({ messages: sent, recipients: 1434, clientIps: 6, failures: 0, perDay: 600 });
    expect(bob.senderDomains.map(([dom]) => dom).sort()).toEqual([
      'bank-secure.invalid',
      'cheap-meds.invalid',
      'crypto-gains.invalid',
      'lottery-win.invalid',
      'parcel-notice.invalid',
      'promo-deals.invalid',
    ]);
    expect(bob.senderDomains.reduce((s, [, n]) => s + n, 0)).toBe(bob.messages);
    expect(bob.flagged).toEqual(expect.arrayContaining(['many-ips', 'sender-mismatch']));
    // Baseline: the 7 observed days before (six quiet at 0, day 7 at 600): 85.7 a day, +600 %.
    expect(bob).toMatchObject({ baselinePerDay: 85.7, baselineDays: 7, changePct: 600 });
    // alice, 6 a day on each of the three hosts every day: no change (mx3, unscanned on day 7, is
    // judged over the days it was seen, not taken for a day without mail).
    const alice = d.accounts.find((a) => a.account === 'alice@example.test')!;
    expect(alice).toMatchObject({ hosts: [MX1, MX3, MX7], messages: 18, baselinePerDay: 18, baselineDays: 7, changePct: 0, flagged: [] });
    // Problems first: bob's critical incident, then mx3 (not scanned on day 7 is outside the day: not listed).
    expect(d.problems[0]).toMatchObject({ severity: 'critical', kind: 'incident', subject: 'bob@example.test' });
    expect(d.problems.some((p) => p.subject === MX3)).toBe(false);
    // The "not scanned" incident of day 7, resolved on day 8, is listed with its resolution.
    expect(d.problems[1]).toMatchObject({ severity: 'warning', kind: 'incident', subject: 'error', hosts: [MX3] });
    expect(d.problems[1]!.message).toBe(
      `1 host(s) not scanned (error): ${MX3}; since ${DAYS[6]}T08:00:00.000Z, resolved ${DAYS[7]}T08:00:00.000Z`,
    );
  });

  it('daily for the first day of the hijack: bob had sent nothing on the six days before, so he is "new"', async () => {
    const d = JSON.parse(await digest({ digest: 'daily', day: DAYS[6], format: 'json' })) as Digest;
    expect(d.accounts[0]).toMatchObject({
      account: 'bob@example.test',
      messages: 600,
      baselinePerDay: 0,
      baselineDays: 6,
      changePct: null,
    });
    // Day 7 without mx3: alice's 12 compare with her 12 a day on mx1 and mx7, not with 18 on three hosts.
    expect(d.accounts.find((a) => a.account === 'alice@example.test')).toMatchObject({
      hosts: [MX1, MX7],
      messages: 12,
      changePct: 0,
      baselinePerDay: 12,
      baselineDays: 6,
    });
    expect(await digest({ digest: 'daily', day: DAYS[6] })).toMatch(/^bob@example\.test\s+2\s+600\s+1434\s+6\s+0\s+600\s+0\s+new\s+/m);
  });

  it('daily hosts: queue totals over the day’s two runs', async () => {
    const d = JSON.parse(await digest({ digest: 'daily', day: DAYS[7], format: 'json' })) as Digest;
    const mx1 = d.hosts.find((h) => h.host === MX1)!;
    expect(mx1.runs).toBe(2);
    expect(mx1.queue!.max).toBe(339);
    expect(mx1.queue!.last).toBe(339);
    expect(mx1.queue!.min).toBeLessThan(339);
    expect(mx1.queue!.mean).toBe((mx1.queue!.min + 339) / 2);
    expect(mx1.queue!.oldestSeconds).toBe(2 * 86400);
  });

  it('qshape: TOTAL first, every age bucket from the aged exim queue, fleet = sum of hosts', async () => {
    const d = JSON.parse(await digest({ digest: 'daily', day: DAYS[7], format: 'json' })) as Digest;
    const mx1 = d.qshape.hosts.find((t) => t.host === MX1)!;
    expect(mx1.at).toBe(`${DAYS[7]}T20:00:00.000Z`);
    const total = mx1.rows[0]!;
    expect(total.domain).toBe('TOTAL');
    expect(total.total).toBe(339);
    // 339 messages dealt round the ten ages: 34 in each of the first nine buckets, 33 in 1280+.
    expect(total.buckets).toEqual([34, 34, 34, 34, 34, 34, 34, 34, 34, 33]);
    expect(total.unknownAge).toBe(0);
    expect(mx1.rows.slice(1).reduce((s, r) => s + r.total, 0)).toBe(339);
    expect(mx1.rows.find((r) => r.domain === 'MAILER-DAEMON')?.total).toBe(20);
    for (const r of mx1.rows) expect(r.buckets.reduce((s, n) => s + n, 0) + r.unknownAge).toBe(r.total);
    const fleetTotal = d.qshape.fleet.rows[0]!;
    expect(fleetTotal.total).toBe(d.qshape.hosts.reduce((s, t) => s + t.rows[0]!.total, 0));
    expect(d.qshape.hosts.map((t) => t.host).sort()).toEqual([MX1, MX3, MX7]);
  });

  it('weekly: the period holds the quiet days; mx3 not scanned on day 7 is a problem; bob still flagged first', async () => {
    const d = JSON.parse(await digest({ digest: 'weekly', day: DAYS[7], format: 'json' })) as Digest;
    expect(d.period).toEqual({ from: DAYS[1], to: DAYS[7], days: 7 });
    expect(d.runs.count).toBe(8);
    expect(d.accounts[0]!.account).toBe('bob@example.test');
    expect(d.accounts[0]!.messages).toBe(1200);
    const mx3 = d.problems.find((p) => p.kind === 'host' && p.subject === MX3)!;
    expect(mx3.message).toMatch(/not scanned in 1 of 8 run\(s\): error 1/);
    // Hosts: the one not always scanned first, then by biggest queue.
    expect(d.hosts.map((h) => h.host)).toEqual([MX3, MX1, MX7]);
    expect(d.problems.findIndex((p) => p.severity === 'critical')).toBe(0);
    // baseline: the one quiet day before the week.
    expect(d.accounts.find((a) => a.account === 'alice@example.test')!.baselineDays).toBe(1);
  });

  it('text for mail: problems first, accounts, hosts, qshape tables with TOTAL first', async () => {
    const t = await digest({ digest: 'daily', day: DAYS[7] });
    const order = ['PROBLEMS', 'ACCOUNTS', 'HOSTS', 'QUEUE SHAPE, fleet', `QUEUE SHAPE, ${MX1}`].map((s) => t.indexOf(s));
    expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!))).toBe(true);
    expect(t).toMatch(/CRITICAL\s+account bob@example\.test flagged on 2 host\(s\)/);
    expect(t).toMatch(/^bob@example\.test\s+2\s+600\s+1434\s+6\s+0\s+600\s+85\.7\s+\+600%\s+parcel-notice\.invalid \(114\)/m);
    expect(t).toMatch(/\s+T\s+5\s+10\s+20\s+40\s+80\s+160\s+320\s+640\s+1280\s+1280\+/);
    const shape = t.slice(t.indexOf(`QUEUE SHAPE, ${MX1}`));
    expect(shape.split('\n')[2]).toMatch(/^TOTAL\s+339\s+34\s+34\s+34\s+34\s+34\s+34\s+34\s+34\s+34\s+33$/);
    expect(t).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  it('markdown and CSV (one table, and one file per table)', async () => {
    const md = await digest({ digest: 'daily', day: DAYS[7], format: 'markdown' });
    expect(md).toContain('## Problems (');
    expect(md).toMatch(/\| TOTAL \| 339 \| 34 \|/);
    const csv = await digest({ digest: 'daily', day: DAYS[7], format: 'csv', table: 'accounts' });
    const lines = csv.split('\r\n');
    expect(lines[0]).toMatch(/^"account","hosts","messages",/);
    expect(lines[1]).toMatch(
      /^"bob@example\.test","mx1\.dc1\.example\.net mx7\.dc2\.example\.net",600,1434,6,false,0,1,600,85\.7,7,600,"parcel-notice\.invalid:114 /,
    );
    const out = join(dir, 'csv');
    await digest({ digest: 'daily', day: DAYS[7], format: 'csv', output: out });
    expect(readdirSync(out).sort()).toEqual(['accounts', 'hosts', 'problems', 'qshape'].map((t) => `digest-daily-${DAYS[7]}-${t}.csv`));
    const q = readFileSync(join(out, `digest-daily-${DAYS[7]}-qshape.csv`), 'utf8').split('\r\n');
    expect(q[0]).toBe(
      '"scope","scan_at","sender_domain","total","m5","m10","m20","m40","m80","m160","m320","m640","m1280","m1280+","unknown_age"',
    );
    expect(q).toContain(`"${MX1}","${DAYS[7]}T20:00:00.000Z","TOTAL",339,34,34,34,34,34,34,34,34,34,33,0`);
  });

  it('bad digest flags are clear errors', async () => {
    const r = (o: Partial<ReportCliOptions>) => runReport({ ...base, ...o }, { stdout: () => {}, stderr: () => {}, env: {} });
    await expect(r({ digest: 'monthly' })).rejects.toThrow('--digest: expected daily or weekly, got "monthly"');
    await expect(r({ digest: 'constructor' })).rejects.toThrow('--digest: expected daily or weekly');
    await expect(r({ format: 'json', output: 'x.json' })).rejects.toThrow('--format, -o: only with --digest daily|weekly');
    await expect(r({ digest: 'daily', day: '2026-02-30' })).rejects.toThrow('--day: expected YYYY-MM-DD');
    await expect(r({ digest: 'daily', format: 'csv' })).rejects.toThrow('give --table NAME (stdout) or -o DIR');
    await expect(r({ digest: 'daily', format: 'csv', table: 'users' })).rejects.toThrow(
      '--table: expected one of problems, accounts, hosts, qshape',
    );
    await expect(r({ digest: 'daily', state: join(dir, 'nope.sqlite') })).rejects.toThrow('does not exist yet');
  });
});

describe('digest by mail (--mail CHANNEL)', () => {
  it('goes through the smtp channel to a real SMTP server process, subject naming the problems', async () => {
    const sink = await SmtpSinkProcess.start(join(dir, 'digest-mail.jsonl'));
    try {
      const config = join(dir, 'digest.yaml');
      writeFileSync(
        config,
        [
          'channels:',
          '  ops-mail:',
          '    type: smtp',
          '    host: 127.0.0.1',
          `    port: ${sink.port}`,
          '    from: mailsweep@controller.example.net',
          '    to: [noc@example.net]',
          '  hook:',
          '    type: webhook',
          '    url: http://127.0.0.1:9/x',
          '',
        ].join('\n'),
      );
      expect(await digest({ digest: 'daily', day: DAYS[7], config, mail: 'ops-mail' })).toBe('');
      const mails = sink.messages();
      expect(mails).toHaveLength(1);
      expect(mails[0]!.to).toEqual(['noc@example.net']);
      const data = mails[0]!.data.replace(/=\r\n/g, '');
      expect(data).toMatch(/Subject: \[mailsweep\] daily digest 2026-11-23: 2 problem\(s\), 1 critical/);
      expect(data).toContain('QUEUE SHAPE, mx1.dc1.example.net');
      const r = (o: Partial<ReportCliOptions>) =>
        runReport({ ...base, config, digest: 'daily', ...o }, { stdout: () => {}, stderr: () => {}, env: {} });
      await expect(r({ mail: 'hook' })).rejects.toThrow('--mail hook: channel is webhook; the digest goes by mail only');
      await expect(r({ mail: 'nope' })).rejects.toThrow('--mail nope: no such channel in');
      await expect(r({ mail: 'ops-mail', format: 'json' })).rejects.toThrow('--mail sends the text or markdown digest, not json');
    } finally {
      await sink.stop();
    }
  });
});

describe('history view', () => {
  it('fleet: per day sends, peak queue and findings, with sparklines', async () => {
    const v = JSON.parse(await history(undefined)) as HistoryView;
    expect(v.subject).toEqual({ kind: 'fleet', name: null });
    expect(v.days.map((d) => d.day)).toEqual(DAYS);
    expect(v.days.map((d) => d.runs)).toEqual([1, 1, 1, 1, 1, 1, 1, 2]);
    // Day 7: mx1 and mx7 hijacked (339 each), mx3 not scanned.
    expect(v.days[6]!.queue).toBe(339 + 339);
    // Day 8's peak is its second run: mx1 and mx7 at 339, mx3 at 19 (the first run had mx1 quiet).
    expect(v.days[7]!.queue).toBe(339 + 339 + 19);
    expect(v.days[0]!.queue).toBe(3 * 19);
    expect(v.days[6]!.findings).toBeGreaterThan(v.days[0]!.findings);
    expect(v.days[6]!.sends).toBeGreaterThan(v.days[0]!.sends!);
    expect([...v.sparklines.sends]).toHaveLength(8);
    expect(v.sparklines.queue.at(6)).toBe('█');
  });

  it('host and account: their own rows; the table has a sparkline column', async () => {
    const h = JSON.parse(await history(MX3)) as HistoryView;
    expect(h.subject).toEqual({ kind: 'host', name: MX3 });
    expect(h.days[6]).toMatchObject({ runs: 1, queue: null, sends: null });
    const a = JSON.parse(await history('bob@example.test')) as HistoryView;
    expect(a.subject.kind).toBe('account');
    expect(a.days.map((d) => d.sends)).toEqual([0, 0, 0, 0, 0, 0, 600, 600]);
    expect(a.days[6]!.queue).toBe(600);
    expect(a.sparklines.sends).toBe('▁▁▁▁▁▁██');
    const table = await history('bob@example.test', 'table');
    expect(table).toContain('sends     ▁▁▁▁▁▁██');
    expect(table).toMatch(/^DAY\s+RUNS\s+SENDS\s+QUEUE\s+FINDINGS\s+TREND$/m);
    expect(table).toMatch(new RegExp(`^${DAYS[6]}\\s+1\\s+600\\s+600\\s+\\d+\\s+█$`, 'm'));
  });

  it('an unknown subject is a clear error', async () => {
    await expect(
      runHistory(
        'nobody@nowhere.test',
        { state: base.state, now: `${DAYS[7]}T23:30:00Z` },
        { stdout: () => {}, stderr: () => {}, env: {} },
      ),
    ).rejects.toThrow('no host or account "nobody@nowhere.test"');
  });
});

describe('--prometheus', () => {
  it('the last run left a complete textfile: queues, open incidents, sends today, run time and duration', () => {
    const t = readFileSync(prom(), 'utf8');
    expect(t).toContain(`mailsweep_queue_messages{host="${MX1}"} 339`);
    expect(t).toContain(`mailsweep_queue_messages{host="${MX7}"} 339`);
    expect(t).toContain('mailsweep_open_incidents{severity="critical"} 1');
    expect(t).toContain('mailsweep_account_sends_today{account="bob@example.test"} 600');
    expect(t).toContain(`mailsweep_last_run_timestamp_seconds ${Date.parse(`${DAYS[7]}T20:00:00Z`) / 1000}`);
    expect(t).toMatch(/^mailsweep_last_run_duration_seconds \d+(\.\d+)?$/m);
    expect(t).toMatch(/^# TYPE mailsweep_queue_messages gauge$/m);
    expect(t.endsWith('\n')).toBe(true);
    // No temp file left behind for the collector to see.
    expect(readdirSync(join(dir, 'prom'))).toEqual(['mailsweep.prom']);
  });
});
