// Fleet-wide correlation over real SSH (fake exim hosts on loopback, each with a recorded mainlog):
// bob sends from 3 hosts, one IP logs in to 4 accounts on 2 hosts, frank's password is guessed
// after a burst of failures; gina (a normal account, two typos) must not show up anywhere.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { loadInventory } from '../../src/inventory/load.js';
import { scanFleet } from '../../src/scan/fleet.js';
import { mergeReports } from '../../src/scan/merge.js';
import type { ScanReport } from '../../src/scan/types.js';
import { renderTable } from '../../src/report/table.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';
import { eximHost } from './fleet-helpers.js';
import { runReport } from '../../src/commands/report.js';
import { textBody } from '../../src/alerts/render.js';

const now = Math.floor(Date.now() / 1000);
const T = now - 7200; // two hours ago: inside the window given below whatever the time of day
const stamp = (t: number) => new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' +0000';
let seq = 0;
const id = () => `1abcde-${String(++seq).padStart(6, '0')}-00`;
const sent = (t: number, user: string, ip: string) =>
  `${stamp(t)} ${id()} <= ${user} H=(client) [${ip}]:4711 P=esmtpa A=dovecot_login:${user} S=1234 id=x@y for a@remote.test`;
const failed = (t: number, user: string, ip: string) =>
  `${stamp(t)} dovecot_login authenticator failed for (client) [${ip}]:5555: 535 Incorrect authentication data (set_id=${user})`;

const LOGS: Record<string, string[]> = {
  mx1: [
    sent(T, 'bob@example.com', '203.0.113.1'),
    sent(T + 1, 'bob@example.com', '203.0.113.1'),
    sent(T + 10, 'alice@example.com', '198.51.100.7'),
    sent(T + 20, 'carol@example.com', '198.51.100.7'),
    failed(T + 30, 'gina@example.com', '192.0.2.10'),
    failed(T + 31, 'gina@example.com', '192.0.2.10'),
    sent(T + 40, 'gina@example.com', '192.0.2.10'),
  ],
  mx2: [
    sent(T + 100, 'bob@example.com', '203.0.113.2'),
    sent(T + 110, 'dave@example.org', '198.51.100.7'),
    failed(T + 120, 'erin@example.org', '198.51.100.7'),
    sent(T + 130, 'erin@example.org', '198.51.100.7'),
  ],
  mx3: [
    sent(T + 200, 'Bob@Example.com', '203.0.113.3'), // the same account, spelt otherwise
    ...[0, 50, 100, 150, 200, 250].map((d) => failed(T + 300 + d, 'frank@example.net', '192.0.2.66')),
    sent(T + 560, 'frank@example.net', '192.0.2.66'),
  ],
};

let fleet: FakeFleet;
let report: ScanReport;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ms-corr-'));
  const entries = Object.entries(LOGS).map(([name, lines]) => {
    const log = join(dir, `${name}-mainlog`);
    writeFileSync(log, lines.join('\n') + '\n');
    // On mx1 bob's 2 messages pass a limit of 1: a suspect there (the alert then carries the correlation).
    const limit = name === 'mx1' ? { user_volume_limit: 1 } : {};
    return eximHost(name, 0, 'normal', { vars: { mail_log: log, auth_policy: false, ...limit } });
  });
  fleet = await startFakeFleet(join(dir, 'fleet'), entries);
  const inv = await loadInventory(fleet.inventoryPath);
  report = await scanFleet(inv.hosts, {
    forks: 3,
    commandTimeoutMs: 10_000,
    connectTimeoutMs: 5_000,
    knownHosts: new KnownHostsFile(fleet.knownHostsPath),
    hostKeyPolicy: 'strict',
    includeMessages: false,
    since: now - 86_400,
  });
}, 60_000);
afterAll(() => fleet?.close());

describe('correlation across a fleet', () => {
  it('every host read its log: login data in hosts[].auth', () => {
    expect(report.hosts.map((h) => [h.name, h.status, h.log?.lines])).toEqual([
      ['mx1', 'ok', 7],
      ['mx2', 'ok', 4],
      ['mx3', 'ok', 8],
    ]);
    expect(report.hosts.every((h) => h.auth)).toBe(true);
    expect(report.summary.correlation.partial).toEqual([]);
  });

  it('finds bob sending from 3 hosts, and no other account', () => {
    const { accounts } = report.summary.correlation;
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({
      authId: 'bob@example.com',
      messages: 4,
      hosts: [
        { host: 'mx1', messages: 2, ips: 1 },
        { host: 'mx2', messages: 1, ips: 1 },
        { host: 'mx3', messages: 1, ips: 1 },
      ],
      sampleIps: ['203.0.113.1', '203.0.113.2', '203.0.113.3'],
      suspect: true,
    });
  });

  it('finds the one IP reaching 4 accounts on 2 hosts, and no other IP', () => {
    const { ips } = report.summary.correlation;
    expect(ips).toHaveLength(1);
    expect(ips[0]).toMatchObject({
      ip: '198.51.100.7',
      hosts: ['mx1', 'mx2'],
      accountCount: 4,
      loggedInCount: 4,
      failedAccountCount: 1,
      logins: 4,
      failures: 1,
      firstSeen: new Date((T + 10) * 1000).toISOString(),
      lastSeen: new Date((T + 130) * 1000).toISOString(),
    });
    expect([...ips[0]!.sampleAccounts].sort()).toEqual(['alice@example.com', 'carol@example.com', 'dave@example.org', 'erin@example.org']);
  });

  it("finds frank's guessed password (6 failures in 250 s, then a login), not gina's two typos", () => {
    expect(report.summary.correlation.bursts).toEqual([
      {
        host: 'mx3',
        authId: 'frank@example.net',
        ip: '192.0.2.66',
        failures: 6,
        firstFailure: new Date((T + 300) * 1000).toISOString(),
        lastFailure: new Date((T + 550) * 1000).toISOString(),
        success: new Date((T + 560) * 1000).toISOString(),
        suspect: false,
      },
    ]);
    const all = JSON.stringify(report.summary.correlation);
    expect(all).not.toContain('gina');
  });

  it('merged shard reports give the same correlation: recomputed over the merged hosts, not concatenated', () => {
    const part = (names: string[]) => JSON.stringify({ ...report, hosts: report.hosts.filter((h) => names.includes(h.name)) });
    const a = JSON.parse(part(['mx1'])) as ScanReport;
    expect(a.hosts).toHaveLength(1);
    const merged = mergeReports([
      { file: 'a.json', text: part(['mx1']) },
      { file: 'b.json', text: part(['mx2', 'mx3']) },
    ]);
    expect(merged.summary.correlation).toEqual(report.summary.correlation);
    // One report alone sees bob on one host only: nothing across hosts.
    const alone = mergeReports([{ file: 'a.json', text: part(['mx1']) }]);
    expect(alone.summary.correlation.accounts).toEqual([]);
  });

  it('a merged report whose login data is malformed is refused with file and field', () => {
    const bad = JSON.parse(JSON.stringify(report)) as ScanReport;
    (bad.hosts[0]!.auth!.ips[0] as unknown as Record<string, unknown>).accountCount = -1;
    expect(() => mergeReports([{ file: 'bad.json', text: JSON.stringify(bad) }])).toThrow(
      /bad\.json: hosts\.0\.auth\.ips\.0\.accountCount/,
    );
  });

  it('the table and Markdown say it in an "Across hosts" part', () => {
    const table = renderTable(report);
    expect(table).toMatch(
      /\nAcross hosts:\n {2}account bob@example\.com logged in on 3 hosts \(mx1, mx2, mx3\): 4 message.* \(suspect\)\n/,
    );
    expect(table).toMatch(/\n {2}IP 198\.51\.100\.7: 4 account\(s\) on 2 host\(s\) \(mx1, mx2\)/);
    expect(table).toMatch(/\n {2}burst on mx3: frank@example\.net — 6 failed login\(s\) from 192\.0\.2\.66 within 4 min, then a login at /);
    expect(table).not.toContain('gina');
    const md = renderMarkdown(report);
    expect(md).toContain('\n## Across hosts\n\n- account bob@example.com logged in on 3 hosts');
  });

  it("the scheduled report's alert about bob says what the fleet shows about him", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-corr-report-'));
    const file = join(dir, 'scan.json');
    writeFileSync(file, JSON.stringify(report));
    const r = await runReport(
      { fromScan: [file], state: join(dir, 'report.sqlite'), now: new Date().toISOString() },
      { stdout: () => {}, stderr: () => {}, env: {} },
    );
    const bob = r.notices.find((n) => n.incident.subject === 'bob@example.com')!;
    expect(bob.incident.hosts).toEqual(['mx1']);
    expect(bob.correlation).toEqual(['logged in on 3 hosts: mx1 (2 msg, 1 IP(s)), mx2 (1 msg, 1 IP(s)), mx3 (1 msg, 1 IP(s))']);
    expect(textBody(bob)).toContain('\nAcross hosts:\n  logged in on 3 hosts: mx1 (2 msg, 1 IP(s)), mx2');
    // Alerts about other things carry none.
    expect(r.notices.filter((n) => n !== bob && n.correlation)).toEqual([]);
  });
});
