// Issue #14 on the real lab: `mailsweep contain --kick` ends the account's open IMAP/POP sessions
// with the real `doveadm kick` (dovecot on bookworm-exim, test/lab/lib/dovecot.sh). Real sessions:
// a node socket inside the host's namespace logs in to dovecot on loopback and stays open; the
// server closes bob's, alice's stays open. With no session left: exit 0 and "no open session".
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { labHosts, ownCount, type LabHost } from './lab-host.js';
import { labCli, labPassword, onHost, type Cli } from './lab-mail.js';

const ACCOUNT = 'bob@example.test';
const OTHER = 'alice@example.test';

// Runs inside the namespace: connects, logs in (IMAP LOGIN or POP3 USER/PASS), says "in" once
// logged in and "closed" when the server ends the connection; the password comes on stdin.
const CLIENT = `
const net = require('node:net');
const [proto, user] = process.argv.slice(1);
let pass = '';
process.stdin.on('data', (d) => (pass += d));
process.stdin.on('end', () => {
  const s = net.connect(proto === 'imap' ? 143 : 110, '127.0.0.1');
  let buf = '', step = 0;
  s.on('data', (d) => {
    buf += d;
    if (step === 0 && /^(\\* OK|\\+OK)/m.test(buf)) {
      step = 1; buf = '';
      s.write(proto === 'imap' ? 'a1 LOGIN ' + user + ' ' + pass.trim() + '\\r\\n' : 'USER ' + user + '\\r\\nPASS ' + pass.trim() + '\\r\\n');
    } else if (step === 1 && (/^a1 OK/m.test(buf) || (proto === 'pop3' && /^\\+OK[^\\n]*\\n\\+OK/m.test(buf)))) {
      step = 2; console.log('in');
    } else if (step === 1 && /^(a1 NO|-ERR)/m.test(buf)) { console.log('refused'); process.exit(1); }
  });
  s.on('close', () => { console.log('closed'); process.exit(0); });
  s.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });
});
`;

interface Session {
  child: ChildProcess;
  /** "closed" once the server ended it (null while open). */
  state: () => string | null;
}

/** A logged-in IMAP or POP3 session of `user` inside the host, kept open. */
function session(h: LabHost, proto: 'imap' | 'pop3', user: string): Promise<Session> {
  const child = spawn('ip', ['netns', 'exec', h.namespace, process.execPath, '-e', CLIENT, proto, user], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  child.stdin.end(labPassword(user));
  let last: string | null = null;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${proto} login as ${user} timed out`)), 10_000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      last = l;
      if (l === 'in') {
        clearTimeout(t);
        resolve({ child, state: () => (last === 'in' ? null : last) });
      } else if (l !== 'closed') reject(new Error(`${proto} login as ${user}: ${l}`));
    });
  });
}

const children: ChildProcess[] = [];
const until = async (ok: () => boolean, ms = 5000) => {
  for (let i = 0; i < ms / 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
  return ok();
};
/** `doveadm who`'s users (dovecot's own view of the open sessions; a row per user and protocol). */
const who = (h: LabHost) => [
  ...new Set(
    onHost(h, 'doveadm who')
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[0])
      .filter(Boolean),
  ),
];

let h: LabHost;
let mailsweep: Cli;
let queued: number;

beforeAll(() => {
  h = labHosts().find((x) => x.name === 'bookworm-exim')!;
  // No contain_commands: the built-in `doveadm kick`, found with `command -v doveadm`.
  mailsweep = labCli(h, mkdtempSync(join(tmpdir(), 'ms-e2e-kick-')));
  expect(onHost(h, 'command -v doveadm')).toMatch(/doveadm/);
  expect(who(h)).toEqual([]);
  queued = ownCount(h);
});

afterEach(() => {
  // Stop what this file started, by PID (the clients end themselves once their socket closes).
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill();
});

afterAll(async () => {
  if (!h) return;
  // Nothing on the host was changed: no session left, the queue as it was.
  expect(await until(() => who(h).length === 0)).toBe(true);
  expect(ownCount(h)).toBe(queued);
});

describe('contain --kick with dovecot (bookworm-exim)', () => {
  it('a dry run shows the doveadm command and ends nothing', async () => {
    const bob = await session(h, 'imap', ACCOUNT);
    const r = await mailsweep(['contain', h.name, '--auth-id', ACCOUNT, '--kick', '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/doveadm kick/);
    expect(`${r.stdout}${r.stderr}`).toContain(ACCOUNT);
    await new Promise((res) => setTimeout(res, 1000));
    expect(bob.state()).toBeNull();
    expect(who(h)).toEqual([ACCOUNT]);
  });

  it("ends the account's IMAP and POP3 sessions; another account's stays open", async () => {
    const bobImap = await session(h, 'imap', ACCOUNT);
    const bobPop = await session(h, 'pop3', ACCOUNT);
    const alice = await session(h, 'imap', OTHER);
    expect(who(h).sort()).toEqual([OTHER, ACCOUNT].sort());

    const r = await mailsweep(['contain', h.name, '--auth-id', ACCOUNT, '--kick', '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain(`kick: ended ${ACCOUNT}'s open IMAP/POP sessions (nothing to undo)`);
    expect(await until(() => bobImap.state() === 'closed' && bobPop.state() === 'closed')).toBe(true);
    expect(who(h)).toEqual([OTHER]);
    await new Promise((res) => setTimeout(res, 500));
    expect(alice.state()).toBeNull();
  });

  it('with no session: exit 0, and it says there was none', async () => {
    expect(who(h)).not.toContain(ACCOUNT);
    const r = await mailsweep(['contain', h.name, '--auth-id', ACCOUNT, '--kick', '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain(`kick: ${ACCOUNT} had no open IMAP/POP session`);
  });
});
