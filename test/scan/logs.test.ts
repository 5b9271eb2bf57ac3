// The log-window command through the real shell: rotations (plain and gzipped) picked by mtime,
// lines filtered on the "server", and the window applied by timestamp across midnight.
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../src/mta/index.js';
import { localDay, readLogWindow, startOfLocalDay } from '../../src/scan/logs.js';
import { LocalTransport } from '../../src/transport/local.js';

// The "server" here is this machine: pin its zone so "today" is the same for the test and date(1).
process.env.TZ = 'UTC';

const arrival = (t: string, id: string, user: string, ip: string, from: string) =>
  `${t} ${id} <= ${from} H=(client) [${ip}]:4711 P=esmtpa A=dovecot_login:${user} S=1234 id=x@y for a@remote.test b@remote.test`;

describe('log window', () => {
  it('reads the rotations the window reaches, gzipped ones too, and counts by timestamp', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-logs-'));
    const now = Math.floor(Date.now() / 1000);
    const today = localDay(now, 0);
    const yesterday = localDay(now - 86400, 0);
    const old = localDay(now - 5 * 86400, 0);
    // mainlog.2.gz: five days ago (outside the window, and old by mtime: not even read).
    writeFileSync(
      join(dir, 'mainlog.2.gz'),
      gzipSync(arrival(`${old} 10:00:00`, '1aaaaa-000001-00', 'bob@example.test', '192.0.2.1', 'x@evil.test') + '\n'),
    );
    utimesSync(join(dir, 'mainlog.2.gz'), now - 5 * 86400, now - 5 * 86400);
    // mainlog.1.gz: yesterday evening until just after midnight (rotation across midnight).
    const y = [
      arrival(`${yesterday} 23:59:58`, '1bbbbb-000002-00', 'bob@example.test', '192.0.2.2', 'a@evil.test'),
      arrival(`${today} 00:00:01`, '1bbbbb-000003-00', 'bob@example.test', '2001:db8::7', 'b@evil.test'),
      `${today} 00:00:02 1bbbbb-000004-00 => a@remote.test R=dnslookup T=remote_smtp`,
    ];
    writeFileSync(join(dir, 'mainlog.1.gz'), gzipSync(y.join('\n') + '\n'));
    utimesSync(join(dir, 'mainlog.1.gz'), now - 3600, now - 3600);
    // mainlog: today.
    writeFileSync(
      join(dir, 'mainlog'),
      [
        arrival(`${today} 00:10:00`, '1ccccc-000005-00', 'bob@example.test', '198.51.100.9', 'c@evil.test'),
        arrival(`${today} 00:11:00`, '1ccccc-000006-00', 'alice@example.test', '192.0.2.50', 'alice@example.test'),
        `${today} 00:12:00 1ccccc-000007-00 <= $(reboot)@evil.test H=(x) [192.0.2.3]:1 P=esmtp S=1`,
      ].join('\n') + '\n',
    );
    const win = await readLogWindow(
      new LocalTransport(),
      'exim',
      ADAPTERS.exim.logs,
      [join(dir, 'mainlog')],
      startOfLocalDay(now, 0),
      10_000,
    );
    expect(win.files.map((f) => f.replace(`${dir}/`, ''))).toEqual(['mainlog.1.gz', 'mainlog']);
    expect(win.lines).toBe(5); // the => line was filtered out on the server
    const bob = win.users!.find((u) => u.authId === 'bob@example.test')!;
    expect(bob.messages).toBe(2); // 23:59:58 yesterday is outside "today"
    expect(bob.recipients).toBe(4);
    expect(bob.clientIps.sort()).toEqual(['198.51.100.9', '2001:db8::7']);
    expect(win.users!.find((u) => u.authId === 'alice@example.test')?.messages).toBe(1);
  });

  it('says which paths it tried when there is no log', async () => {
    const win = await readLogWindow(new LocalTransport(), 'postfix', ADAPTERS.postfix.logs, ['/nonexistent/mail.log'], 0, 10_000);
    expect(win.users).toBeNull();
    expect(win.reason).toMatch(/no postfix log found \(tried \/nonexistent\/mail\.log; set mail_log/);
  });
});
