// The fleet correlation as a pure function of the hosts' login data: hostile names stay data in
// JSON and are made visible (never interpreted) in the table, Markdown and alerts; lists are bounded.
import { describe, expect, it } from 'vitest';
import { correlate, MAX_CORRELATED } from '../../src/correlate/correlate.js';
import { correlationLines } from '../../src/correlate/lines.js';
import type { HostAuth, HostAuthIp } from '../../src/correlate/types.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderTable } from '../../src/report/table.js';
import { summarizeFleet } from '../../src/scan/fleet.js';
import type { HostReport, ScanReport } from '../../src/scan/types.js';
import { jsonText } from '../../src/text/json.js';

const T = 1_800_000_000;
const ipEntry = (ip: string, accounts: string[], failed: string[] = []): HostAuthIp => ({
  ip,
  logins: accounts.length,
  failures: failed.length,
  unnamedFailures: 0,
  accounts,
  accountCount: accounts.length,
  failedAccounts: failed,
  failedAccountCount: failed.length,
  firstSeen: T,
  lastSeen: T + 60,
});

function host(name: string, auth: Partial<HostAuth> | null, extra: Partial<HostReport> = {}): HostReport {
  return {
    name,
    address: '127.0.0.1',
    status: 'ok',
    mta: 'exim',
    queue: { total: 0, frozen: 0, bounces: 0, held: 0, oldestSeconds: null, reportedTotal: 0 },
    thresholds: { warn: 75, crit: 100 },
    findings: [],
    log: { files: ['/var/log/exim4/mainlog'], lines: 1, since: new Date(T * 1000).toISOString() },
    durationMs: 1,
    ...(auth ? { auth: { accounts: [], ips: [], bursts: [], burst: { failures: 5, seconds: 600 }, ...auth } } : {}),
    ...extra,
  };
}
const report = (hosts: HostReport[]): ScanReport => ({
  version: 1,
  startedAt: new Date(T * 1000).toISOString(),
  finishedAt: new Date(T * 1000).toISOString(),
  hosts,
  summary: summarizeFleet(hosts),
});
const suspect = (authId: string) => ({
  authId,
  messages: 1,
  recipients: 1,
  queued: 0,
  senderDomains: {},
  clientIps: [],
  senders: [],
  rules: ['user-volume'],
  score: 3,
  sampleIds: [],
});
const acct = (authId: string, ip: string) => ({ authId, messages: 3, logins: 0, ips: 1, topIps: [ip] });

// ESC (a colour change), a bidi override, a newline and Markdown link syntax in names from the log.
const EVIL = 'evil\u001b[31m\u202e@x.test\n[click](http://x)';
const EVIL_IP = '10.0.0.1\u001b]0;pwned\u0007';

describe('hostile names', () => {
  const r = report([
    host(
      'mx1',
      {
        accounts: [acct(EVIL, EVIL_IP)],
        ips: [ipEntry(EVIL_IP, [EVIL, 'a@x.test'])],
        bursts: [{ authId: EVIL, ip: EVIL_IP, failures: 7, firstFailure: T, lastFailure: T + 100, success: T + 120 }],
      },
      { suspects: [suspect(EVIL)] },
    ),
    host('mx2', { accounts: [acct(EVIL, '10.0.0.2')], ips: [ipEntry('10.0.0.2', [EVIL])] }),
  ]);

  it('are found (the data keeps their bytes) …', () => {
    const c = r.summary.correlation;
    expect(c.accounts.map((a) => a.authId)).toEqual([EVIL]);
    expect(c.ips.map((x) => x.ip)).toEqual([EVIL_IP]);
    expect(c.bursts.map((b) => b.authId)).toEqual([EVIL]);
    // JSON escapes controls, keeps the text.
    expect(jsonText(r, 2)).not.toMatch(/[\u001b\u0007\u202e]/);
    expect(JSON.parse(jsonText(r, 2)).summary.correlation.accounts[0].authId).toBe(EVIL);
  });

  it('… and shown inert in the table, Markdown and alert lines', () => {
    const table = renderTable(r);
    const md = renderMarkdown(r);
    const lines = correlationLines(r.summary.correlation, EVIL).join('\n');
    for (const out of [table, md, lines]) expect(out).not.toMatch(/[\u001b\u0007\u202e]/);
    // One line per entry in the table: the newline is a space there (the alert lines show it as ^J).
    expect(table).toContain('evil^[[31m<U+202E>@x.test [click]');
    expect(table).not.toContain('@x.test\n');
    expect(md).toMatch(/\(suspect\)\n/);
    for (const out of [table, lines]) expect(out).toContain('10.0.0.1^[]0;pwned^G');
    // The alert is about the account itself: its lines name the other hosts, the IP, the burst.
    expect(lines).toMatch(
      /^logged in on 2 hosts: mx1 .*\nclient IP 10\.0\.0\.1.* also reaches 1 other account\(s\) on 1 host\(s\).*: a@x\.test\n7 failed login\(s\) from 10\.0\.0\.1.* on mx1/,
    );
    expect(md).toContain('evil^\\[\\[31m\\<U+202E\\>@x.test^J\\[click\\](http://x)');
    // One line per finding: the newline in the name does not start a new one.
    expect(table.split('\n').filter((l) => l.startsWith('  account '))).toHaveLength(1);
    expect(md).not.toContain('[click](');
    // No link, HTML or code span can start in the Across hosts section.
    expect(md.slice(md.indexOf('## Across hosts'))).not.toMatch(/(?<!\\)[[<`]/);
  });
});

describe('what is and is not correlated', () => {
  it('one account on one host, one IP for one account: nothing; a host with no log data is said to be partial', () => {
    const r = report([
      host('mx1', { accounts: [acct('a@x.test', '10.0.0.1')], ips: [ipEntry('10.0.0.1', ['a@x.test'])] }),
      host('mx2', null, { log: { files: [], lines: 0, since: '', reason: 'no exim log found' } }),
      host('mx3', null, { log: undefined }), // attribution off: nothing was meant to be read
      host('mx4', null, { status: 'unreachable', queue: null }),
    ]);
    expect(r.summary.correlation).toEqual({
      accounts: [],
      ips: [],
      bursts: [],
      omitted: { accounts: 0, ips: 0, bursts: 0 },
      partial: [{ host: 'mx2', why: 'log not read whole: no exim log found' }],
    });
    expect(renderTable(r)).toMatch(
      /\nAcross hosts: nothing found\n {2}partial: 1 host\(s\) without full login data: mx2 \(log not read whole: no exim log found\)\n/,
    );
  });

  it('an IP that only failed, unnamed, on two hosts is listed (tried more than one server)', () => {
    const unnamed = { ...ipEntry('192.0.2.5', []), failures: 3, unnamedFailures: 3 };
    const r = report([host('mx1', { ips: [unnamed] }), host('mx2', { ips: [unnamed] })]);
    expect(r.summary.correlation.ips).toMatchObject([{ ip: '192.0.2.5', hosts: ['mx1', 'mx2'], accountCount: 0, failures: 6 }]);
  });

  it('IPs reaching a suspect come first; the count includes names past the per-host cap', () => {
    const wide = { ...ipEntry('192.0.2.1', ['u1@x.test', 'u2@x.test']), accountCount: 30 };
    const r = report([
      host(
        'mx1',
        { ips: [wide, ipEntry('192.0.2.2', ['bob@x.test', 'c@x.test'])] },
        {
          suspects: [suspect('bob@x.test')],
        },
      ),
    ]);
    const ips = r.summary.correlation.ips;
    expect(ips.map((x) => [x.ip, x.accountCount, x.suspects])).toEqual([
      ['192.0.2.2', 2, ['bob@x.test']],
      ['192.0.2.1', 30, []],
    ]);
  });

  it('each list is bounded, and says how many it left out; capped hosts are partial', () => {
    const many = (h: string) =>
      host(h, {
        accounts: Array.from({ length: MAX_CORRELATED + 20 }, (_, i) => acct(`u${i}@x.test`, `10.1.0.${i}`)),
        capped: { accounts: 5, untrackedIps: 9 },
      });
    const c = correlate([many('mx1'), many('mx2')]);
    expect(c.accounts).toHaveLength(MAX_CORRELATED);
    expect(c.omitted.accounts).toBe(20);
    expect(c.partial).toEqual([
      { host: 'mx1', why: 'capped: 5 account(s) not listed, 9 IP(s) not tracked' },
      { host: 'mx2', why: 'capped: 5 account(s) not listed, 9 IP(s) not tracked' },
    ]);
    const table = renderTable(report([many('mx1'), many('mx2')]));
    expect(table.split('\n').filter((l) => l.startsWith('  account '))).toHaveLength(10);
    expect(table).toContain('… and 110 more account(s) (--format json lists up to 100)');
  });
});

describe('loopback clients', () => {
  it('are the server itself (webmail, local scripts): never one client across hosts or accounts', () => {
    const c = correlate([
      host('mx1', { ips: [ipEntry('127.0.0.1', ['a@x.test', 'b@x.test']), ipEntry('::1', ['a@x.test', 'c@x.test'])] }),
      host('mx2', { ips: [ipEntry('127.0.0.1', ['d@x.test']), ipEntry('::ffff:127.0.0.2', ['d@x.test', 'e@x.test'])] }),
      host('mx3', { ips: [ipEntry('203.0.113.9', ['a@x.test']), ipEntry('128.0.0.1', ['x@x.test'])] }),
      host('mx4', { ips: [ipEntry('203.0.113.9', ['f@x.test']), ipEntry('128.0.0.1', ['y@x.test'])] }),
    ]);
    expect(c.ips.map((x) => x.ip).sort()).toEqual(['128.0.0.1', '203.0.113.9']);
  });
});
