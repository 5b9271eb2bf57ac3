// Degrade, never hide: once the queue is read, a log that times out, is missing or unreadable (or a
// failing probe or history store) costs attribution, never the host's status or its queue findings.
// Real SSH to fake hosts on loopback; the log command runs in the real /bin/sh on real files.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoFleet } from '../../src/commands/demo.js';
import { startFakeFleet, type FakeFleet, type FleetHostEntry } from '../../src/demo/fleet.js';
import type { HistoryStore } from '../../src/history/store.js';
import { loadInventory } from '../../src/inventory/load.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { transportFor, type ConnectSettings } from '../../src/scan/connect.js';
import { hostDeadlineMs, scanFleet } from '../../src/scan/fleet.js';
import { scanHost } from '../../src/scan/host.js';
import type { HostReport, ScanReport } from '../../src/scan/types.js';
import { TransportError } from '../../src/errors.js';
import { KnownHostsFile } from '../../src/transport/known-hosts.js';

const run = promisify(execFile);
const QUEUE_ONLY = 'attribution from the queue only';

// As root, the fake hosts' shells run as nobody, so file permissions bite as on a real server.
const asServer = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;

const root = mkdtempSync(join(tmpdir(), 'ms-degrade-'));
chmodSync(root, 0o755);
const logs = join(root, 'logs');
const logOf = (host: string) => join(logs, host, 'mainlog');

let fleet: FakeFleet;
let hosts: HostSpec[];
let settings: ConnectSettings;
let report: ScanReport;
const byName = (n: string): HostReport => report.hosts.find((h) => h.name === n)!;
const info = (h: HostReport, rule: string) => h.findings.filter((f) => f.rule === rule && f.severity === 'info').map((f) => f.message);

/** Exim arrivals stamped with the "server's" current local time (the fake host's date(1)). */
function eximLog(): string {
  const now = execFileSync('date', ['+%Y-%m-%d %H:%M:%S'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } }).trim();
  const lines: string[] = [];
  for (let i = 0; i < 6; i++)
    lines.push(
      `${now} 1xVOH${i}-0007YW-1g <= promo@cheap-meds.invalid H=(x) [198.51.100.${i + 1}]:4711 P=esmtpa A=plain_server:bob@example.test S=900 id=s${i}@x for a@remote.test`,
    );
  lines.push(
    `${now} 1xVOHZ-0007YW-1g <= alice@example.test H=(x) [192.0.2.5]:4711 P=esmtpa A=plain_server:alice@example.test S=538 id=a@x for c@remote.test`,
  );
  return lines.join('\n') + '\n';
}

// The fake hosts' files must be readable by that user whatever the caller's umask.
const umask = process.umask(0o022);

beforeAll(async () => {
  // The demo's mx1: exim 4.96 recorded from the lab, 339 queued (300 of them bob@example.test's spam):
  // detection and the queue replay the recording; the log command runs in the shell on our files.
  const demo = (await loadDemoFleet()).find((e) => e.name === 'mx1.dc1.example.net')!;
  const replay = demo
    .replay!.filter((r) => !r.match.includes('LOGNOW'))
    .map((r) => (r.match === '__MAILSWEEP_' ? { ...r, match: '__MAILSWEEP_RC__' } : r));
  const host = (name: string, extra: Partial<FleetHostEntry> = {}): FleetHostEntry => ({
    name,
    mode: 'normal',
    tools: [],
    replay,
    ...(asServer ? { runAs: asServer } : {}),
    ...extra,
    vars: { mail_log: logOf(name), ...extra.vars },
  });

  for (const name of ['good', 'slow', 'denied', 'locked']) {
    mkdirSync(join(logs, name), { recursive: true, mode: 0o755 });
    writeFileSync(logOf(name), eximLog(), { mode: 0o644 });
  }
  chmodSync(logs, 0o755);
  // slow: yesterday's rotation is being decompressed when the timeout strikes (gzip prints, then hangs).
  writeFileSync(join(logs, 'slow', 'mainlog.1.gz'), gzipSync(eximLog()));
  const hourAgo = Date.now() / 1000 - 3600;
  utimesSync(join(logs, 'slow', 'mainlog.1.gz'), hourAgo, hourAgo);
  // denied: the log is there, but the scan's user may not read it.
  chmodSync(logOf('denied'), 0o000);
  // locked: the log's directory may not be entered (Debian's /var/log/exim4 is 2750 root:adm).
  chmodSync(join(logs, 'locked'), 0o000);

  fleet = await startFakeFleet(root, [
    host('good'),
    host('slow', { tools: [{ name: 'gzip', cases: { '*': { text: eximLog(), sleep: 600 } } }] }),
    host('missing'),
    host('denied'),
    host('locked'),
  ]);
  hosts = (await loadInventory(fleet.inventoryPath)).hosts;
  settings = { knownHosts: new KnownHostsFile(fleet.knownHostsPath), hostKeyPolicy: 'strict', connectTimeoutMs: 10_000 };
  report = await scanFleet(hosts, { ...settings, forks: 10, commandTimeoutMs: 2_000, includeMessages: false });
}, 60_000);

afterAll(async () => {
  await fleet?.close();
  chmodSync(join(logs, 'locked'), 0o755);
  process.umask(umask);
});

describe('a log that cannot be read leaves the host ok and CRITICAL', () => {
  it('every host keeps status ok, its queue and its critical queue-size finding: exit 2, not 3', () => {
    for (const h of report.hosts) {
      expect(h.status, `${h.name}: ${h.reason}`).toBe('ok');
      expect(h.reason).toBeUndefined();
      expect(h.queue).toMatchObject({ total: 339, reportedTotal: 339 });
      expect(h.findings[0]).toMatchObject({
        rule: 'queue-size',
        severity: 'critical',
        message: '339 messages queued (critical above 100)',
      });
    }
    expect(report.summary).toMatchObject({ critical: 5, exitCode: 2, byStatus: { ok: 5, timeout: 0, error: 0 } });
  });

  it('a readable log attributes from it, with no note', () => {
    const good = byName('good');
    expect(info(good, 'log')).toEqual([]);
    expect(info(good, 'attribution')).toEqual([]);
    expect(good.log).toMatchObject({ files: [logOf('good')], lines: 7 });
    expect(good.suspects?.[0]).toMatchObject({ authId: 'bob@example.test', messages: 6, queued: 300 });
    // The auth-policy probe went through the same SSH connection; the fake host refuses 587 and 465: an info, not a failure.
    expect(good.findings.find((f) => f.rule === 'auth-policy')?.message).toMatch(
      /^nothing answers on port 587 \(.*cannot open 127\.0\.0\.1:587/,
    );
  });

  it('slow log: times out on its own, says so, and the suspects come from the queue alone', () => {
    const slow = byName('slow');
    expect(info(slow, 'log')).toEqual([
      `log read timed out after 2 s (reading ${join(logs, 'slow', 'mainlog.1.gz')}, 0 lines so far): ${QUEUE_ONLY}`,
    ]);
    expect(slow.log?.reason).toBe(info(slow, 'log')[0]);
    // Well inside the host's deadline (connect + 3 × timeout + 5 s = 21 s).
    expect(slow.durationMs).toBeLessThan(2_000 + 3_000);
    // Queue-only evidence still names the account: 300 queued, no log counts.
    expect(slow.suspects?.[0]).toMatchObject({ authId: 'bob@example.test', queued: 300 });
    expect(slow.suspects?.[0]?.rules.length).toBeGreaterThan(0);
    expect(slow.findings.some((f) => f.rule === 'user-volume' || f.rule === 'many-ips')).toBe(false);
  });

  it('missing log: the paths tried', () => {
    expect(info(byName('missing'), 'log')).toEqual([
      `no exim log found (tried ${logOf('missing')}; set mail_log in the inventory): ${QUEUE_ONLY}`,
    ]);
    expect(byName('missing').suspects?.[0]).toMatchObject({ authId: 'bob@example.test', queued: 300 });
  });

  it('unreadable log file: permission denied, not "no log" nor a silent empty log', () => {
    expect(info(byName('denied'), 'log')).toEqual([
      `cannot read ${logOf('denied')} (permission denied; run as root or set ansible_become): ${QUEUE_ONLY}`,
    ]);
    expect(byName('denied').suspects?.[0]).toMatchObject({ authId: 'bob@example.test', queued: 300 });
  });

  it('log directory that may not be entered: says which', () => {
    expect(info(byName('locked'), 'log')).toEqual([
      `cannot read the exim log: ${join(logs, 'locked')} is not accessible (permission denied; run as root or set ansible_become): ${QUEUE_ONLY}`,
    ]);
  });
});

describe('the deadline and the connection', () => {
  it('the log read gets its own budget inside the host deadline: a long --timeout cannot make the host time out', async () => {
    const slow = hosts.find((h) => h.name === 'slow')!;
    const transport = transportFor(slow, settings);
    try {
      const r = await scanHost(slow, transport, { commandTimeoutMs: 60_000, includeMessages: false, deadlineMs: 6_000 });
      expect(r.status).toBe('ok');
      expect(r.findings[0]).toMatchObject({ rule: 'queue-size', severity: 'critical' });
      expect(info(r, 'log')[0]).toMatch(new RegExp(`^log read timed out after [2-5](\\.\\d)? s .*: ${QUEUE_ONLY}$`));
      expect(r.durationMs).toBeLessThan(6_000);
    } finally {
      await transport.close();
    }
  });

  it('the whole-host deadline covers connect, detect, queue and log reads', () => {
    expect(hostDeadlineMs({ connectTimeoutMs: 10_000, commandTimeoutMs: 30_000 })).toBe(105_000);
  });

  it('after a command times out, the same SSH connection runs the next command', async () => {
    const good = hosts.find((h) => h.name === 'good')!;
    const running = fleet.hosts.find((h) => h.name === 'good')!;
    const before = running.connections();
    const transport = transportFor(good, settings);
    try {
      const late = await transport.exec('sleep 30', { timeoutMs: 500 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(late).toBeInstanceOf(TransportError);
      expect((late as TransportError).kind).toBe('timeout');
      const next = await transport.exec('echo still here', { timeoutMs: 5_000 });
      expect(next).toMatchObject({ code: 0, stdout: 'still here\n' });
      expect(running.connections() - before).toBe(1);
    } finally {
      await transport.close();
    }
  });

  it('a failing history store is an info finding; rules, suspects and the queue finding stand', async () => {
    const good = hosts.find((h) => h.name === 'good')!;
    const broken = {
      observedDays: () => {
        throw new Error('database is locked');
      },
      userCounts: () => [],
      record: () => {
        throw new Error('disk I/O error');
      },
    } as unknown as HistoryStore;
    const transport = transportFor(good, settings);
    try {
      const r = await scanHost(good, transport, { commandTimeoutMs: 5_000, includeMessages: false, history: broken });
      expect(r.status).toBe('ok');
      expect(r.findings[0]).toMatchObject({ rule: 'queue-size', severity: 'critical' });
      expect(info(r, 'attribution')).toEqual([
        'history store unreadable (database is locked): baseline judged without history',
        "history not recorded (disk I/O error): tomorrow's baseline misses today",
      ]);
      expect(r.suspects?.[0]).toMatchObject({ authId: 'bob@example.test', messages: 6 });
    } finally {
      await transport.close();
    }
  });
});

describe('other attribution failures', () => {
  it('an auth-policy probe whose channel never opens is cut at the host budget', async () => {
    const good = hosts.find((h) => h.name === 'good')!;
    const real = transportFor(good, settings);
    const wedged = {
      describe: real.describe,
      exec: real.exec.bind(real),
      close: () => real.close(),
      openTcp: () => new Promise<never>(() => {}),
    };
    try {
      const r = await scanHost(good, wedged, { commandTimeoutMs: 5_000, includeMessages: false, deadlineMs: 4_000 });
      expect(r.status).toBe('ok');
      expect(r.findings[0]).toMatchObject({ rule: 'queue-size', severity: 'critical' });
      expect(r.findings.find((f) => f.rule === 'auth-policy')?.message).toMatch(
        /^nothing answers on port 587 \(no answer within \d(\.\d)? s\) nor on port 465 \(no answer within \d(\.\d)? s\): no submission port$/,
      );
      expect(r.suspects?.[0]).toMatchObject({ authId: 'bob@example.test', messages: 6 });
      expect(r.durationMs).toBeLessThan(4_000);
    } finally {
      await real.close();
    }
  });

  it('a rule setting that is bad at scan time (a HostSpec not from the inventory) keeps the queue finding', async () => {
    const good = hosts.find((h) => h.name === 'good')!;
    const bad = { ...good, vars: { ...good.vars, user_volume_limit: 'lots' } };
    const transport = transportFor(bad, settings);
    try {
      const r = await scanHost(bad, transport, { commandTimeoutMs: 5_000, includeMessages: false });
      expect(r.status).toBe('ok');
      expect(r.findings[0]).toMatchObject({ rule: 'queue-size', severity: 'critical' });
      expect(info(r, 'attribution')).toEqual([
        `attribution failed (${good.source.file}:${good.source.line}: good: user_volume_limit: expected a whole number of messages per day, at least 1): queue findings only`,
      ]);
    } finally {
      await transport.close();
    }
  });
});

describe('through the CLI, as Nagios runs it', () => {
  it('a slow log on a CRITICAL host: exit 2 and a CRITICAL line, not UNKNOWN', async () => {
    const r = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'scan',
        '-i',
        fleet.inventoryPath,
        '--known-hosts',
        fleet.knownHostsPath,
        '--limit',
        'slow',
        '--format',
        'nagios',
        '-t',
        '2',
        '--connect-timeout',
        '10',
        '--no-history',
      ],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: 'true' } },
    ).then(
      (ok) => ({ code: 0, ...ok }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(
      /^MAILSWEEP CRITICAL - 1 critical, 0 warning, 0 unknown of 1 hosts: slow CRITICAL queue 339; top suspect bob@example\.test on slow /,
    );
    // A plugin's stderr is shown by the monitoring server too: nothing there without --verbose.
    expect(r.stderr).toBe('');
  });
});
