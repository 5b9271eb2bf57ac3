import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../src/report/index.js';
import { summarizeFleet } from '../../src/scan/fleet.js';
import type { HostReport, ScanReport } from '../../src/scan/types.js';

function host(name: string, over: Partial<HostReport>): HostReport {
  return { name, address: '192.0.2.1', status: 'ok', mta: 'exim', queue: null, thresholds: { warn: 75, crit: 100 }, findings: [], durationMs: 5, ...over };
}
const q = (total: number) => ({ total, frozen: 0, bounces: 0, held: 0, oldestSeconds: 120, reportedTotal: total });

function report(hosts: HostReport[]): ScanReport {
  return { version: 1, startedAt: '2026-11-23T05:00:00.000Z', finishedAt: '2026-11-23T05:00:01.000Z', hosts, summary: summarizeFleet(hosts) };
}

const crit = host('mx1', {
  queue: q(339),
  findings: [{ rule: 'queue-size', severity: 'critical', message: '339 messages queued (critical at 100)' }],
  suspects: [{ authId: 'bob|x@example.test', messages: 300, recipients: 1434, queued: 300, senderDomains: { 'evil.test': 300 }, clientIps: ['192.0.2.9'], rules: ['sender-mismatch'], score: 4, sampleIds: [] }],
});
const warn = host('mx2', { queue: q(80), thresholds: { warn: 50, crit: 200 }, findings: [{ rule: 'queue-size', severity: 'warning', message: '80 messages queued (warning at 50)' }] });
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
  it('nagios: one line, state, top suspect, perfdata with each host’s thresholds', () => {
    const out = FORMATS.nagios(r);
    expect(out.split('\n').filter(Boolean)).toHaveLength(1);
    expect(out).toMatch(/^MAILSWEEP CRITICAL - 1 critical, 1 warning, 2 unreachable\/failed of 4 hosts: mx1 queue 339, mx2 queue 80, mx3 unreachable/);
    expect(out).toContain("| queued=419 'mx1'=339;75;100;0 'mx2'=80;50;200;0");
    expect(out).toContain('top suspect bob?x@example.test');
  });
  it('table: no terminal escape from server text reaches the screen', () => {
    const out = FORMATS.table(r);
    expect(out).not.toContain('\x1b]0;');
    expect(out).toContain('exim said ?]0;pwned? hi');
    expect(out).toMatch(/Suspected hijacked accounts/);
  });
  it('markdown: pipes in server text cannot break the table', () => {
    const out = FORMATS.markdown(r);
    expect(out).toContain('bob\\|x@example.test');
  });
  it('json: the documented shape', () => {
    const j = JSON.parse(FORMATS.json(r)) as ScanReport;
    expect(Object.keys(j)).toEqual(['version', 'startedAt', 'finishedAt', 'hosts', 'summary']);
    expect(j.hosts[0]).toMatchObject({ name: 'mx1', status: 'ok', mta: 'exim', queue: { total: 339 }, findings: [{ rule: 'queue-size', severity: 'critical' }] });
    expect(j.summary).toMatchObject({ hosts: 4, critical: 1, warning: 1, queued: 419, exitCode: 2, byStatus: { ok: 2, unreachable: 1, error: 1 } });
    expect(j.summary.suspects[0]).toMatchObject({ host: 'mx1', authId: 'bob|x@example.test' });
  });
});
