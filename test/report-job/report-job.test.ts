// Issue #9's "done when": the real `report` command over several simulated hourly runs (injected
// clock) against the fake SSH fleet replaying real servers' recordings, with the fleet changing
// between runs (bob hijacked on two hosts, then purged), mail to a real SMTP server in another
// process, webhooks to a local HTTP receiver, one of them failing for a run.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportCliOptions } from '../../src/commands/report-options.js';
import { runReport, type ReportOutcome } from '../../src/commands/report.js';
import { startFakeFleet, type FakeFleet, type FleetHostEntry } from '../../src/demo/fleet.js';
import { replayFrom } from '../../src/demo/replay.js';
import { HttpReceiver, SmtpSinkProcess, type SinkMessage } from './receivers.js';

const LAB = 'test/fixtures/lab';
const T0 = Date.parse('2026-11-23T08:00:00Z');
const HOUR = 3_600_000;
const TOKEN = 'hook-bearer-0123456789abcdef';
const SLACK_SECRET_PATH = '/slack/T0000/B0000/slacksecretXYZ';

/** The mail as a reader sees it: headers unfolded, body decoded (nodemailer uses quoted-printable). */
export function readMail(m: SinkMessage): { headers: string; body: string } {
  const [head = '', ...rest] = m.data.split('\r\n\r\n');
  let body = rest.join('\r\n\r\n');
  if (/content-transfer-encoding:\s*quoted-printable/i.test(head))
    body = Buffer.from(
      body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  else if (/content-transfer-encoding:\s*base64/i.test(head)) body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { headers: head.replace(/\r\n[ \t]+/g, ' '), body: body.replace(/\r\n/g, '\n') };
}

function io(env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), env }, out, err };
}

let dir: string;
let fleet: FakeFleet;
let entries: FleetHostEntry[];
let sink: SmtpSinkProcess;
let http: HttpReceiver;
let base: ReportCliOptions;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ms-report-'));
  entries = [
    { name: 'mx1.dc1.example.net', mode: 'normal', tools: [], replay: replayFrom(join(LAB, 'bookworm-exim')) },
    { name: 'mx7.dc2.example.net', mode: 'normal', tools: [], replay: replayFrom(join(LAB, 'bookworm-postfix')) },
    { name: 'mx3.dc1.example.net', mode: 'normal', tools: [], replay: replayFrom(join(LAB, 'bookworm-sendmail-quiet')) },
  ];
  fleet = await startFakeFleet(dir, entries);
  sink = await SmtpSinkProcess.start(join(dir, 'mail.jsonl'));
  http = await HttpReceiver.start();
  const config = join(dir, 'report.yaml');
  writeFileSync(
    config,
    [
      'repeat_interval: 4h',
      'send_resolved: true',
      'channels:',
      '  ops-mail:',
      '    type: smtp',
      '    host: 127.0.0.1',
      `    port: ${sink.port}`,
      '    from: mailsweep@controller.example.net',
      '    to: [noc@example.net]',
      '    timeout: 5s',
      '  hook:',
      '    type: webhook',
      `    url: http://127.0.0.1:${http.port}/hook`,
      '    bearer_token_env: HOOK_TOKEN',
      '    retries: 2',
      '    backoff: 50ms',
      '    timeout: 2s',
      '  chat:',
      '    type: slack',
      '    url_env: SLACK_URL',
      '    retries: 1',
      '    backoff: 50ms',
      '',
    ].join('\n'),
  );
  env = { ...process.env, HOOK_TOKEN: TOKEN, SLACK_URL: `http://127.0.0.1:${http.port}${SLACK_SECRET_PATH}` };
  base = {
    inventory: fleet.inventoryPath,
    knownHosts: fleet.knownHostsPath,
    config,
    state: join(dir, 'report.sqlite'),
    history: join(dir, 'history.sqlite'),
    forks: '10',
    timeout: '10',
    connectTimeout: '5',
  };
}, 60_000);

afterAll(async () => {
  await fleet?.close();
  await sink?.stop();
  await http?.close();
});

async function run(at: number): Promise<ReportOutcome & { out: string; err: string }> {
  const c = io(env);
  const r = await runReport({ ...base, now: new Date(at).toISOString() }, c.io);
  return { ...r, out: c.out.join(''), err: c.err.join('') };
}

/** The fake hosts answer each command from entry.replay, read when the command arrives. */
function purge(): void {
  entries[0]!.replay = replayFrom(join(LAB, 'bookworm-exim-quiet'));
  entries[1]!.replay = replayFrom(join(LAB, 'bookworm-postfix-quiet'));
}

describe('mailsweep report over simulated hourly runs', () => {
  it('run 1: bob hijacked on mx1 and mx7 is ONE alert listing both hosts, on every channel', async () => {
    const r = await run(T0);
    expect(r.err).toBe('');
    expect(r.code).toBe(2);
    expect(r.notices).toHaveLength(1);
    const n = r.notices[0]!;
    expect(n).toMatchObject({
      status: 'firing',
      reason: 'new',
      incident: { kind: 'account', subject: 'bob@example.test', severity: 'critical' },
    });
    expect(n.incident.hosts.sort()).toEqual(['mx1.dc1.example.net', 'mx7.dc2.example.net']);
    expect(r.out).toContain('[mailsweep] CRITICAL: account bob@example.test flagged on 2 hosts');
    expect(r.out).toContain('sent to: ops-mail, hook, chat');

    // The mail crossed a real SMTP session to another process.
    const mails = sink.messages();
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual(['noc@example.net']);
    const { headers, body } = readMail(mails[0]!);
    expect(headers).toMatch(
      /Subject: \[mailsweep\] CRITICAL: account bob@example\.test flagged on 2 hosts: mx1\.dc1\.example\.net, mx7\.dc2\.example\.net/,
    );
    expect(body).toContain('sent 300 message(s) to 1434 recipient(s); 300 still queued');
    expect(body).toMatch(/sender domains: parcel-notice\.invalid \(57\), lottery-win\.invalid \(55\)/);
    expect(body).toMatch(/client IPs \(6\): .*127\.0\.0\.1\d/);
    expect(body).toContain('queue: 339 message(s)');
    expect(body).toMatch(/Top rules: .*sender-mismatch \(2 hosts\)/);
    for (const h of ['mx1.dc1.example.net', 'mx7.dc2.example.net'])
      expect(body).toContain(`next: mailsweep incident ${h} --auth-id bob@example.test -i ${fleet.inventoryPath}`);

    // Alertmanager v4 webhook: exactly the documented fields, one alert per host.
    const hooks = http.at('/hook');
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const p = hooks[0]!.body;
    expect(Object.keys(p).sort()).toEqual([
      'alerts',
      'commonAnnotations',
      'commonLabels',
      'externalURL',
      'groupKey',
      'groupLabels',
      'receiver',
      'status',
      'truncatedAlerts',
      'version',
    ]);
    expect(p).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'hook',
      commonLabels: { alertname: 'MailsweepHijackedAccount', account: 'bob@example.test', severity: 'critical' },
    });
    const alerts = p.alerts as Record<string, unknown>[];
    expect(alerts.map((a) => (a.labels as Record<string, string>).host).sort()).toEqual(['mx1.dc1.example.net', 'mx7.dc2.example.net']);
    for (const a of alerts) {
      expect(Object.keys(a).sort()).toEqual(['annotations', 'endsAt', 'fingerprint', 'generatorURL', 'labels', 'startsAt', 'status']);
      expect(a).toMatchObject({ status: 'firing', startsAt: new Date(T0).toISOString(), endsAt: '0001-01-01T00:00:00Z' });
      expect((a.annotations as Record<string, string>).command).toMatch(
        /^mailsweep incident mx\d\.dc\d\.example\.net --auth-id bob@example\.test -i /,
      );
    }

    // Slack: text (the fallback) and blocks, posted to the secret URL.
    const slack = http.at('/slack');
    expect(slack).toHaveLength(1);
    expect(slack[0]!.path).toBe(SLACK_SECRET_PATH);
    expect(slack[0]!.body.text).toContain('CRITICAL: account bob@example.test');
    expect(JSON.stringify(slack[0]!.body.blocks)).toContain('mailsweep incident mx1.dc1.example.net --auth-id bob@example.test');
  });

  it('run 2, an hour later, nothing new: nothing sent, nothing printed, still exit 2', async () => {
    const r = await run(T0 + HOUR);
    expect(r).toMatchObject({ code: 2, notices: [], out: '', err: '' });
    expect(sink.messages()).toHaveLength(1);
    expect(http.received).toHaveLength(2);
  });

  it('runs 3 and 4: still firing, announced again only once repeat_interval (4h) has passed', async () => {
    expect((await run(T0 + 3 * HOUR)).notices).toEqual([]);
    const r = await run(T0 + 4 * HOUR);
    expect(r.notices.map((n) => [n.reason, n.incident.subject])).toEqual([['repeat', 'bob@example.test']]);
    expect(sink.messages()).toHaveLength(2);
    expect(readMail(sink.messages()[1]!).headers).toContain('(still firing)');
    expect(http.at('/hook')).toHaveLength(2);
  });

  it('run 5, after the purge, with the webhooks answering 500: resolved by mail, webhooks kept and reported', async () => {
    purge();
    http.failing.add('/hook');
    http.failing.add('/slack');
    const before = http.received.length;
    const r = await run(T0 + 5 * HOUR);
    expect(r.code).toBe(0);
    expect(r.notices.map((n) => [n.status, n.incident.subject])).toEqual([['resolved', 'bob@example.test']]);
    const mails = sink.messages();
    expect(mails).toHaveLength(3);
    const resolved = readMail(mails[2]!);
    expect(resolved.headers).toContain(
      'Subject: [mailsweep] RESOLVED: account bob@example.test (mx1.dc1.example.net, mx7.dc2.example.net)',
    );
    expect(resolved.body).toContain('open since 2026-11-23T08:00:00.000Z, 5h');
    // 1 + 2 retries on the hook, 1 + 1 on Slack: all really tried.
    expect(http.received.length - before).toBe(5);
    expect(r.channelErrors.hook).toMatch(/HTTP 500/);
    expect(r.err).toContain('mailsweep: channel hook failed: POST http://127.0.0.1:');
    expect(r.err).toContain('1 notice(s) kept, retried next run');
    expect(r.err).toMatch(/channel chat failed: POST http:\/\/127\.0\.0\.1:\d+\/…: HTTP 500/);
    // The Slack URL (a secret) and the bearer token appear nowhere.
    for (const text of [r.out, r.err, readFileSync(base.state!, 'latin1')]) {
      expect(text).not.toContain('slacksecretXYZ');
      expect(text).not.toContain(TOKEN);
    }
  });

  it('run 6: the receivers are back; the kept notices go out, oldest first, and nothing else', async () => {
    http.failing.clear();
    const before = http.received.length;
    const r = await run(T0 + 6 * HOUR);
    expect(r).toMatchObject({ code: 0, notices: [], out: '', err: '', channelErrors: {} });
    const got = http.received.slice(before);
    expect(got.map((g) => g.path.split('/')[1])).toEqual(['hook', 'slack']);
    expect(got[0]!.body).toMatchObject({
      status: 'resolved',
      alerts: [{ status: 'resolved', endsAt: new Date(T0 + 5 * HOUR).toISOString() }, { status: 'resolved' }],
    });
    expect(got[1]!.body.text).toContain('RESOLVED: account bob@example.test');
    expect(sink.messages()).toHaveLength(3);
  });

  it('run 7: all quiet again: nothing sent, nothing printed, exit 0', async () => {
    const before = http.received.length;
    const r = await run(T0 + 7 * HOUR);
    expect(r).toMatchObject({ code: 0, notices: [], out: '', err: '' });
    expect(http.received.length).toBe(before);
    expect(sink.messages()).toHaveLength(3);
  });

  it('recorded every run: per host status and queue, per finding a stable fingerprint', () => {
    const db = new Database(base.state!, { readonly: true });
    try {
      const runs = db.prepare('SELECT id, exit_code, channel_errors FROM runs ORDER BY id').all() as {
        id: number;
        exit_code: number;
        channel_errors: string;
      }[];
      expect(runs.map((x) => x.exit_code)).toEqual([2, 2, 2, 2, 0, 0, 0]);
      expect(JSON.parse(runs[4]!.channel_errors)).toHaveProperty('hook');
      const hosts = db.prepare('SELECT host, status, queue FROM run_hosts WHERE run_id = ? ORDER BY host').all(runs[0]!.id) as {
        host: string;
        status: string;
        queue: string;
      }[];
      expect(hosts.map((h) => [h.host, h.status, JSON.parse(h.queue).total])).toEqual([
        ['mx1.dc1.example.net', 'ok', 339],
        ['mx3.dc1.example.net', 'ok', 19],
        ['mx7.dc2.example.net', 'ok', 339],
      ]);
      const fp = (run: number) =>
        db
          .prepare(
            "SELECT fingerprint FROM findings WHERE run_id = ? AND host = 'mx1.dc1.example.net' AND subject = 'bob@example.test' AND rule = 'sender-mismatch'",
          )
          .get(run) as { fingerprint: string } | undefined;
      expect(fp(runs[0]!.id)?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
      expect(fp(runs[1]!.id)?.fingerprint).toBe(fp(runs[0]!.id)?.fingerprint);
      expect(fp(runs[4]!.id)).toBeUndefined();
      expect(db.pragma('user_version', { simple: true })).toBe(2);
    } finally {
      db.close();
    }
  });
});
