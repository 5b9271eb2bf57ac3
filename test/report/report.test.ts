import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../src/report/index.js';
import { summarizeFleet } from '../../src/scan/fleet.js';
import type { HostReport, ScanReport } from '../../src/scan/types.js';

function host(name: string, over: Partial<HostReport>): HostReport {
  return {
    name,
    address: '192.0.2.1',
    status: 'ok',
    mta: 'exim',
    queue: null,
    thresholds: { warn: 75, crit: 100 },
    findings: [],
    durationMs: 5,
    ...over,
  };
}
const q = (total: number) => ({ total, frozen: 0, bounces: 0, held: 0, oldestSeconds: 120, reportedTotal: total });

function report(hosts: HostReport[]): ScanReport {
  return {
    version: 1,
    startedAt: '2026-11-23T05:00:00.000Z',
    finishedAt: '2026-11-23T05:00:01.000Z',
    hosts,
    summary: summarizeFleet(hosts),
  };
}

const crit = host('mx1', {
  queue: q(339),
  findings: [{ rule: 'queue-size', severity: 'critical', message: '339 messages queued (critical at 100)' }],
  suspects: [
    {
      authId: 'bob|x@example.test',
      messages: 300,
      recipients: 1434,
      queued: 300,
      senderDomains: { 'evil.test': 300 },
      clientIps: ['192.0.2.9'],
      rules: ['sender-mismatch'],
      score: 4,
      sampleIds: [],
    },
  ],
});
const warn = host('mx2', {
  queue: q(80),
  thresholds: { warn: 50, crit: 200 },
  findings: [{ rule: 'queue-size', severity: 'warning', message: '80 messages queued (warning at 50)' }],
});
const dead = host('mx3', { status: 'unreachable', reason: 'root@mx3:22: ECONNREFUSED', mta: null });
const evil = host('mx4\x1b[2J', { status: 'error', reason: 'exim said \x1b]0;pwned\x07 hi', mta: null });

describe('exit codes (Nagios)', () => {
  it('critical beats warning beats unknown beats ok', () => {
    expect(summarizeFleet([crit, warn, dead]).exitCode).toBe(2);
    expect(summarizeFleet([warn, dead]).exitCode).toBe(1);
    expect(summarizeFleet([host('a', { queue: q(1) }), dead]).exitCode).toBe(3);
    expect(summarizeFleet([host('a', { queue: q(1) })]).exitCode).toBe(0);
  });
});

describe('formats', () => {
  const r = report([crit, warn, dead, evil]);
  it('nagios: status line with state, hosts worst first, top suspect, perfdata; long text one line per host not OK', () => {
    const out = FORMATS.nagios(r);
    expect(out.split('\n')).toEqual([
      'MAILSWEEP CRITICAL - 1 critical, 1 warning, 2 unknown of 4 hosts: mx1 CRITICAL queue 339, mx2 WARNING queue 80, mx3 UNKNOWN unreachable, mx4^[[2J UNKNOWN error; top suspect bob?x@example.test on mx1 (sender-mismatch)' +
        " | 'queued'=419;;;0 'queue_max'=339;;;0 'hosts_ok'=0;;;0;4 'hosts_warning'=1;;;0;4 'hosts_critical'=1;;;0;4 'hosts_unknown'=2;;;0;4 'mx1'=339;75;100;0 'mx2'=80;50;200;0",
      'mx1: CRITICAL - 339 messages queued (critical at 100); top suspect bob?x@example.test',
      'mx2: WARNING - 80 messages queued (warning at 50)',
      'mx3: UNKNOWN - unreachable: root@mx3:22: ECONNREFUSED',
      'mx4^[[2J: UNKNOWN - error: exim said ^[]0;pwned^G hi',
      '',
    ]);
  });
  it('table: no terminal escape from server text reaches the screen', () => {
    const out = FORMATS.table(r);
    expect(out).not.toContain('\x1b]0;');
    expect(out).toContain('exim said ^[]0;pwned^G hi');
    expect(out).toMatch(/Suspected hijacked accounts/);
  });
  it('markdown: pipes in server text cannot break the table', () => {
    const out = FORMATS.markdown(r);
    expect(out).toContain('bob\\|x@example.test');
  });
  it('json: the documented shape', () => {
    const j = JSON.parse(FORMATS.json(r)) as ScanReport;
    expect(Object.keys(j)).toEqual(['version', 'startedAt', 'finishedAt', 'hosts', 'summary']);
    expect(j.hosts[0]).toMatchObject({
      name: 'mx1',
      status: 'ok',
      mta: 'exim',
      queue: { total: 339 },
      findings: [{ rule: 'queue-size', severity: 'critical' }],
    });
    expect(j.summary).toMatchObject({
      hosts: 4,
      critical: 1,
      warning: 1,
      queued: 419,
      exitCode: 2,
      byStatus: { ok: 2, unreachable: 1, error: 1 },
    });
    expect(j.summary.suspects[0]).toMatchObject({ host: 'mx1', authId: 'bob|x@example.test' });
  });
});

// A spammer picks the auth id (a mailbox name), the forged sender domains and every other string a
// server hands back. None of it may act on the terminal, the ticket or the monitoring screen.
describe('hostile server text in every format', () => {
  const ESC = '\x1b[2J\x1b]8;;http://evil.test\x07click\x1b]8;;\x07';
  const authId = `bob${ESC}\r\x00\u009b31m\u202eevil\u2066|[bank](http://evil.test)<b>x</b>\`c\`@example.test`;
  const domain = `evil\u202e\x1b[5m[x](http://evil.test)<i>.invalid`;
  const bad = host('mx9', {
    queue: q(500),
    findings: [{ rule: 'queue-size', severity: 'critical', message: `500 queued; ${authId} sent them` }],
    suspects: [
      {
        authId,
        messages: 500,
        recipients: 900,
        queued: 500,
        senderDomains: { [domain]: 500 },
        clientIps: ['192.0.2.9'],
        rules: ['sender-mismatch'],
        score: 9,
        sampleIds: [],
      },
    ],
    warnings: [`line 1: not understood: ${ESC}`],
    log: { files: ['/var/log/exim4/mainlog'], lines: 1, since: '2026-11-23T00:00:00.000Z', reason: `log said ${ESC}` },
  });
  const failed = host('mx10', { status: 'error', reason: `exim queue command failed (exit 1): ${ESC}\u202e\u0085`, mta: null });
  const r = report([bad, failed]);
  // eslint-disable-next-line no-control-regex
  const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/u;
  const raw = (s: string) => RAW.exec(s)?.[0].codePointAt(0)?.toString(16) ?? null;

  it.each(['table', 'markdown', 'nagios', 'json'] as const)('%s: no control, C1 or bidi character', (f) => {
    const out = FORMATS[f](r);
    expect(raw(out)).toBeNull();
  });

  it('table: the account and domains are shown, made visible, and the columns hold', () => {
    const out = FORMATS.table(r);
    expect(out).toContain('bob^[[2J^[]8;;http://evil.test^Gclick');
    expect(out).toContain('<U+202E>evil<U+2066>');
    expect(out).toContain('evil<U+202E>^[[5m');
    const lines = out.split('\n');
    const head = lines.find((l) => l.startsWith('HOST '))!;
    expect(lines.find((l) => l.startsWith('mx9 '))!.indexOf('CRITICAL')).toBe(head.indexOf('STATE'));
  });

  it('table: an endless auth id is cut in the table (the JSON keeps it whole)', () => {
    const long = 'a'.repeat(5000) + '@example.test';
    const rep = report([host('mx1', { ...crit, suspects: [{ ...crit.suspects![0]!, authId: long }] })]);
    const out = FORMATS.table(rep);
    expect(out).toContain('… (5013 chars)');
    expect(out.length).toBeLessThan(2000);
    expect((JSON.parse(FORMATS.json(rep)) as ScanReport).summary.suspects[0]!.authId).toBe(long);
  });

  it('markdown: no link, image, HTML or code from server text, and every row keeps its cells', () => {
    const out = FORMATS.markdown(r);
    expect(out).not.toMatch(/(?<!\\)[[<`]/);
    expect(out).toContain('\\[bank\\](http://evil.test)\\<b\\>x\\</b\\>\\`c\\`');
    for (const l of out.split('\n').filter((x) => x.startsWith('| mx'))) {
      // Cells are split by unescaped pipes only: 8 columns per host row, 7 per suspect row.
      const cells = l.split(/(?<!\\)\|/).length - 2;
      expect([7, 8]).toContain(cells);
    }
  });

  it('nagios: the perfdata still starts at the one `|`; the long text holds none', () => {
    const out = FORMATS.nagios(r);
    expect(out.split('|')).toHaveLength(2);
    const [first, ...long] = out.split('\n');
    expect(first).toMatch(/ \| 'queued'=500;;;0 .* 'mx9'=500;75;100;0$/);
    expect(first).toContain('top suspect bob^[[2J^[]8;;http://evil.test^Gclick');
    expect(long.filter(Boolean)).toHaveLength(2);
    expect(long[1]).toMatch(/^mx10: UNKNOWN - error: exim queue command failed \(exit 1\): \^\[\[2J/);
  });

  it('json: the exact server text survives a round trip, and the output holds it only as escapes', () => {
    const out = FORMATS.json(r);
    const j = JSON.parse(out) as ScanReport;
    expect(j.summary.suspects[0]!.authId).toBe(authId);
    expect(Object.keys(j.summary.suspects[0]!.senderDomains)).toEqual([domain]);
    expect(out).toContain('\\u001b[2J');
    expect(out).toContain('\\u009b31m\\u202eevil\\u2066');
  });
});
