// Channels on their own: a refused webhook is retried next run, a receiver that never answers
// times out, --test-channel for each type, secrets from files only when private.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportCliOptions } from '../../src/commands/report-options.js';
import { runReport } from '../../src/commands/report.js';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';
import { replayFrom } from '../../src/demo/replay.js';
import { SmtpSink } from '../fakes/smtp-sink.js';
import { HttpReceiver } from './receivers.js';

let dir: string;
let fleet: FakeFleet;
let http: HttpReceiver;
let sink: SmtpSink;
let silent: Server;
const held = new Set<Socket>();

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ms-report-ch-'));
  fleet = await startFakeFleet(dir, [
    { name: 'mx1.example.net', mode: 'normal', tools: [], replay: replayFrom('test/fixtures/lab/bookworm-exim') },
  ]);
  http = await HttpReceiver.start();
  sink = await SmtpSink.start();
  // Accepts TCP, never answers HTTP.
  silent = createServer((s) => {
    held.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
}, 30_000);

afterAll(async () => {
  await fleet?.close();
  await http?.close();
  await sink?.close();
  for (const s of held) s.destroy();
  await new Promise((r) => silent?.close(r));
});

function capture(env: NodeJS.ProcessEnv = process.env) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), env },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

function config(name: string, lines: string[]): string {
  const f = join(dir, name);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

describe('a failing channel', () => {
  it('connection refused: reported, kept, and delivered on the next run once the receiver is reachable', async () => {
    const dead = await freePort();
    const opts: ReportCliOptions = {
      inventory: fleet.inventoryPath,
      knownHosts: fleet.knownHostsPath,
      state: join(dir, 'refused.sqlite'),
      history: false,
      config: config('refused.yaml', [
        'channels:',
        '  hook:',
        '    type: webhook',
        `    url: http://127.0.0.1:${dead}/alerts`,
        '    retries: 1',
        '    backoff: 10ms',
      ]),
      now: '2026-11-23T08:00:00Z',
    };
    const c1 = capture();
    const r1 = await runReport(opts, c1.io);
    expect(r1.code).toBe(2);
    expect(r1.notices).toHaveLength(1);
    expect(c1.out()).toContain('[mailsweep] CRITICAL: account bob@example.test flagged on 1 host: mx1.example.net');
    expect(c1.out()).not.toContain('sent to:');
    expect(c1.err()).toBe(
      `mailsweep: channel hook failed: POST http://127.0.0.1:${dead}/alerts: ECONNREFUSED; 1 notice(s) kept, retried next run\n`,
    );

    // The admin fixes the receiver's address; the next hourly run delivers what was kept.
    opts.config = config('refused.yaml', ['channels:', '  hook:', '    type: webhook', `    url: http://127.0.0.1:${http.port}/alerts`]);
    const c2 = capture();
    const r2 = await runReport({ ...opts, now: '2026-11-23T09:00:00Z' }, c2.io);
    expect(r2).toMatchObject({ code: 2, notices: [], channelErrors: {} });
    expect(c2.out() + c2.err()).toBe('');
    const got = http.at('/alerts');
    expect(got).toHaveLength(1);
    expect(got[0]!.body).toMatchObject({ version: '4', status: 'firing', commonLabels: { account: 'bob@example.test' } });
    expect((got[0]!.body.alerts as { startsAt: string }[])[0]!.startsAt).toBe('2026-11-23T08:00:00.000Z');
  }, 30_000);

  it('a receiver that never answers times out per attempt', async () => {
    const f = config('silent.yaml', [
      'channels:',
      '  hook:',
      '    type: webhook',
      `    url: http://127.0.0.1:${(silent.address() as { port: number }).port}/x`,
      '    timeout: 300ms',
      '    retries: 1',
      '    backoff: 10ms',
    ]);
    const c = capture();
    const t = Date.now();
    expect((await runReport({ config: f, testChannel: 'hook' }, c.io)).code).toBe(3);
    expect(Date.now() - t).toBeLessThan(3000);
    expect(c.err()).toMatch(
      /^mailsweep: channel hook \(webhook\) failed after 2 attempt\(s\): POST http:\/\/127\.0\.0\.1:\d+\/x: no answer within 300 ms\n$/,
    );
  });
});

describe('without channels', () => {
  it('stdout is the channel: the whole notice once (cron mails it), then silence', async () => {
    const opts: ReportCliOptions = {
      inventory: fleet.inventoryPath,
      knownHosts: fleet.knownHostsPath,
      state: join(dir, 'plain.sqlite'),
      history: false,
      now: '2026-11-23T08:00:00Z',
    };
    const c1 = capture({ ...process.env, MAILSWEEP_REPORT_CONFIG: '' });
    expect((await runReport(opts, c1.io)).code).toBe(2);
    expect(c1.err()).toBe('');
    expect(c1.out()).toMatch(
      /^CRITICAL: account bob@example\.test flagged on 1 host: mx1\.example\.net\n\nThe account bob@example\.test looks hijacked: 300 message\(s\) sent and 300 queued across 1 host\(s\)\./,
    );
    expect(c1.out()).toContain(`  next: mailsweep incident mx1.example.net --auth-id bob@example.test -i ${fleet.inventoryPath}\n`);
    const c2 = capture({ ...process.env, MAILSWEEP_REPORT_CONFIG: '' });
    expect((await runReport({ ...opts, now: '2026-11-23T09:00:00Z' }, c2.io)).code).toBe(2);
    expect(c2.out() + c2.err()).toBe('');
  });
});

describe('--test-channel', () => {
  it('sends a test notice through each channel type', async () => {
    const secretFile = join(dir, 'slack-url');
    writeFileSync(secretFile, `http://127.0.0.1:${http.port}/slack/TSECRET/BSECRET/xyzzy\n`, { mode: 0o600 });
    const f = config('all.yaml', [
      'channels:',
      '  mail:',
      '    type: smtp',
      '    host: 127.0.0.1',
      `    port: ${sink.port}`,
      '    from: mailsweep@example.net',
      '    to: noc@example.net',
      '  hook:',
      '    type: webhook',
      `    url: http://127.0.0.1:${http.port}/test-hook`,
      '  chat:',
      '    type: slack',
      `    url_file: ${secretFile}`,
    ]);
    for (const [name, type] of [
      ['mail', 'smtp'],
      ['hook', 'webhook'],
      ['chat', 'slack'],
    ]) {
      const c = capture();
      expect((await runReport({ config: f, testChannel: name }, c.io)).code).toBe(0);
      expect(c.out()).toMatch(new RegExp(`^channel ${name} \\(${type}\\): test notice delivered \\(`));
      expect(c.out() + c.err()).not.toContain('xyzzy');
    }
    expect(sink.messages.at(-1)!.data).toContain('Subject: [mailsweep] WARNING: host mailsweep-test: mailsweep-test (test)');
    expect(http.at('/test-hook').at(-1)!.body).toMatchObject({ version: '4', status: 'firing' });
    expect(http.at('/slack/TSECRET').at(-1)!.body.text).toContain('mailsweep-test');
  });

  it('a secret file others can read is refused (chmod hint), and its content is never shown', async () => {
    const secretFile = join(dir, 'open-url');
    writeFileSync(secretFile, 'http://127.0.0.1:1/slack/OPENSECRET\n');
    chmodSync(secretFile, 0o644);
    const f = config('open.yaml', ['channels:', '  chat:', '    type: slack', `    url_file: ${secretFile}`]);
    const c = capture();
    expect((await runReport({ config: f, testChannel: 'chat' }, c.io)).code).toBe(3);
    expect(c.err()).toContain(`is readable by other users (mode 644); run: chmod 600 ${secretFile}`);
    expect(c.err()).not.toContain('OPENSECRET');
  });

  it('an unknown channel name is a config error naming the channels', async () => {
    const f = config('one.yaml', ['channels:', '  hook:', '    type: webhook', '    url: http://127.0.0.1:9/x']);
    await expect(runReport({ config: f, testChannel: 'pager' }, capture().io)).rejects.toThrow(
      `--test-channel pager: no such channel in ${f}; channels: hook`,
    );
  });
});
