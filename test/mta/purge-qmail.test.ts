// qmail purge with the request on stdin (issue #8): the generated script runs through the real
// /bin/sh over a fake queue tree (split 23, raw bytes in info / local / remote files) with a stub
// qmailctl; the busy case adds a stand-in /proc in which qmail-send does not stop until its
// hanging qmail-remote is ended.
import { mtaHost } from '../../src/mta/host.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { qmailPurge } from '../../src/mta/qmail/ops.js';
import { qmail } from '../../src/mta/qmail/adapter.js';
import type { PurgeRequest } from '../../src/mta/types.js';
import { runPlan, script, tmp } from './helpers.js';

const BOB = 'bob@example.test';
const D = '14 Nov 2023 22:13:20 -0000';
const smtpd = (login: string) =>
  `Received: (qmail 4242 invoked from network); ${D}\nReceived: from unknown (HELO x) (${login}@203.0.113.9)\n  by mail.example.com with ESMTPA; ${D}\nSubject: hi\n\nbody\n`;

interface Msg {
  split: string;
  /** Raw sender bytes (latin1 string: one char a byte). */
  sender: string;
  mess: string;
  /** Records of the remote file, e.g. "Tx@y" or "Dx@y" (NUL added). */
  remote?: string[];
  local?: string[];
}

function queue(msgs: Record<string, Msg>): { d: string; bin: string; q: string } {
  const d = tmp('ms-qm-');
  const bin = join(d, 'bin');
  mkdirSync(bin);
  const q = join(d, 'queue');
  for (const sub of ['mess', 'info', 'local', 'remote'])
    for (let n = 0; n < 23; n++) mkdirSync(join(q, sub, String(n)), { recursive: true });
  for (const sub of ['intd', 'todo', 'bounce']) mkdirSync(join(q, sub), { recursive: true });
  for (const [id, m] of Object.entries(msgs)) {
    writeFileSync(join(q, 'mess', m.split, id), m.mess);
    writeFileSync(join(q, 'info', m.split, id), Buffer.from(`F${m.sender}\u0000`, 'latin1'));
    if (m.remote) writeFileSync(join(q, 'remote', m.split, id), Buffer.from(m.remote.map((r) => `${r}\u0000`).join(''), 'latin1'));
    if (m.local) writeFileSync(join(q, 'local', m.split, id), Buffer.from(m.local.map((r) => `${r}\u0000`).join(''), 'latin1'));
  }
  script(join(bin, 'qmailctl'), `echo "qmailctl $1" >>${d}/qmailctl.log`);
  return { d, bin, q };
}

const ctx = (d: string) => mtaHost(undefined, { queue_directory: join(d, 'queue') });
/** A supervise setting that finds nothing on this machine (no /proc entries, no systemd). */
const quiet = (d: string) => ({
  procRoot: join(d, 'noproc'),
  systemdMarker: join(d, 'nosystemd'),
  initScript: join(d, 'noinit'),
  stateDir: join(d, 'state'),
  waitSeconds: 1,
});
const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

describe('qmail purge: the request travels on stdin, compared byte for byte', () => {
  it('300 messages with 400-character quote-heavy senders: matched by the mess file proof and removed', () => {
    const msgs: Record<string, Msg> = {};
    const senders: Record<string, { sender: string }> = {};
    const ids = Array.from({ length: 300 }, (_, i) => String(100000 + i));
    ids.forEach((id, i) => {
      const sender = `${"'".repeat(360)}$(touch PWNED)"\\\`x\`${i}@x.invalid`;
      msgs[id] = { split: String(i % 23), sender, mess: smtpd(BOB), remote: [`Tv${i}@far.example`] };
      senders[id] = { sender };
    });
    msgs['200000'] = { split: '4', sender: 'a@x.invalid', mess: smtpd('alice@example.test'), remote: ['Tz@far.example'] };
    senders['200000'] = { sender: 'a@x.invalid' };
    const { d, bin, q } = queue(msgs);
    const plan = qmailPurge(
      ctx(d),
      { ids: [...ids, '200000'], match: { kind: 'auth', authId: BOB }, mode: 'delete', expect: senders },
      quiet(d),
    );
    expect(plan.command).not.toContain("''''");
    const { result, stdout } = runPlan(plan, d, bin);
    expect(result.skipped).toEqual([{ id: '200000', reason: 'not submitted by this auth id' }]);
    expect(result.done).toEqual(ids);
    expect(result.warnings).toEqual([]);
    expect(result.notes).toEqual([
      'paused: qmail-send stopped for the removal (qmailctl stop)',
      'resumed: qctl start exited 0 (qmailctl start)',
    ]);
    expect(stdout).not.toMatch(/NOT resumed/);
    expect(existsSync(join(d, 'PWNED'))).toBe(false);
    expect(readFileSync(join(d, 'qmailctl.log'), 'utf8')).toBe('qmailctl stop\nqmailctl start\n');
    expect(existsSync(join(q, 'info', '4', '200000'))).toBe(true);
    expect(existsSync(join(q, 'info', '0', '100000'))).toBe(false);
  });

  it('a sender with control characters matches byte for byte, or as qmail-qread lists it ("_"), and nothing else', () => {
    const raw = "ms-\u001b[31m\u0007'$(x)\r\t\\q@x.invalid";
    const msgs: Record<string, Msg> = {};
    for (const id of ['1', '2', '3', '4', '5']) msgs[id] = { split: id, sender: raw, mess: smtpd(BOB), remote: ['Ta@far.example'] };
    msgs['6'] = { split: '6', sender: utf8('ms-é@x.invalid'), mess: smtpd(BOB), remote: ['Ta@far.example'] };
    const { d, bin } = queue(msgs);
    const req: PurgeRequest = {
      ids: ['1', '2', '3', '4', '5', '6'],
      match: { kind: 'auth', authId: BOB },
      mode: 'delete',
      expect: {
        '1': { sender: raw },
        '2': { sender: "ms-_[31m_'$(x)__\\q@x.invalid" },
        // one printable byte differs
        '3': { sender: "ms-_[32m_'$(x)__\\q@x.invalid" },
        // "?" is not "_", and the raw form without the CR is another sender
        '4': { sender: "ms-?[31m?'$(x)??\\q@x.invalid" },
        '5': { sender: "ms-\u001b[31m\u0007'$(x)\t\\q@x.invalid" },
        // qmail-qread prints each byte of é as "_"
        '6': { sender: 'ms-__@x.invalid' },
      },
    };
    const { result } = runPlan(qmailPurge(ctx(d), req, quiet(d)), d, bin);
    expect(result.done).toEqual(['1', '2', '6']);
    expect(result.skipped).toEqual(['3', '4', '5'].map((id) => ({ id, reason: 'envelope sender changed: id reused?' })));
  });

  it('bounces: null sender and every recipient still to deliver among the expected ones (a reused inode is skipped)', () => {
    const B = `Received: (qmail 9 invoked for bounce); ${D}\nbody\n`;
    const { d, bin, q } = queue({
      '11': { split: '11', sender: '', mess: B, remote: ['Tforged@far.example'] },
      // done recipients do not count
      '12': { split: '12', sender: '', mess: B, remote: ['Dgone@far.example', 'Tforged@far.example'] },
      // the inode now holds a bounce to one of our own customers as well
      '13': { split: '13', sender: '', mess: B, remote: ['Tforged@far.example'], local: ['Tcustomer@local.example'] },
      '14': { split: '14', sender: 'x@y.example', mess: B, remote: ['Tforged@far.example'] },
      // the recipient with a control character, listed by qmail-qread with "_"
      '15': { split: '15', sender: '', mess: B, remote: ['Tx\u001by@far.example'] },
      // everything delivered: nothing left to prove
      '16': { split: '16', sender: '', mess: B, remote: ['Dforged@far.example'] },
      '17': { split: '17', sender: '', mess: B, remote: ['Tforged@far.example'] },
    });
    const r = { sender: '', recipients: ['forged@far.example'] };
    const { result } = runPlan(
      qmailPurge(
        ctx(d),
        {
          ids: ['11', '12', '13', '14', '15', '16', '17'],
          match: { kind: 'bounce' },
          mode: 'delete',
          expect: {
            '11': r,
            '12': r,
            '13': r,
            '14': r,
            '15': { sender: '', recipients: ['x_y@far.example'] },
            '16': r,
            '17': { sender: '' },
          },
        },
        quiet(d),
      ),
      d,
      bin,
    );
    expect(result.done).toEqual(['11', '12', '15']);
    expect(result.skipped).toEqual([
      { id: '17', reason: 'no expected recipients for this bounce (request.expect): cannot re-check it' },
      { id: '13', reason: 'recipients changed' },
      { id: '14', reason: 'not a null-sender message' },
      { id: '16', reason: 'recipients changed' },
    ]);
    for (const p of ['info/13/13', 'local/13/13', 'info/14/14', 'info/16/16', 'info/17/17']) expect(existsSync(join(q, p)), p).toBe(true);
    for (const p of ['info/11/11', 'mess/11/11', 'remote/11/11', 'info/12/12', 'info/15/15']) expect(existsSync(join(q, p)), p).toBe(false);
  });

  it('nothing matched: qmail-send is never stopped; a request cut short touches nothing', () => {
    const { d, bin } = queue({ '21': { split: '21', sender: 's@x.invalid', mess: smtpd('alice@example.test'), remote: ['Ta@b'] } });
    const plan = qmailPurge(
      ctx(d),
      { ids: ['21'], match: { kind: 'auth', authId: BOB }, mode: 'delete', expect: { '21': { sender: 's@x.invalid' } } },
      quiet(d),
    );
    expect(runPlan(plan, d, bin).result.skipped).toEqual([{ id: '21', reason: 'not submitted by this auth id' }]);
    const cut = runPlan({ ...plan, stdin: plan.stdin!.slice(0, -4) }, d, bin).result;
    expect(cut.skipped[0]!.reason).toBe('not attempted: the request on stdin is missing or incomplete');
    expect(existsSync(join(d, 'qmailctl.log'))).toBe(false);
  });

  it('the adapter entry point takes the same path (stdin set, command fixed)', () => {
    const a = qmail.ops!.purge(mtaHost(), {
      ids: ['1'],
      match: { kind: 'bounce' },
      mode: 'delete',
      expect: { '1': { sender: '', recipients: ['a@b'] } },
    });
    const b = qmail.ops!.purge(mtaHost(), {
      ids: ['2', '3'],
      match: { kind: 'bounce' },
      mode: 'delete',
      expect: { '2': { sender: '', recipients: ["'$(x)'"] }, '3': { sender: '', recipients: [] } },
    });
    expect(a.command).toBe(b.command);
    expect(b.stdin).toBe(`2 s r${'x' + Buffer.from("'$(x)'").toString('hex')}\n3 s r\n. 2\n`);
  });
});

// ---------------------------------------------------------------------------
// Busy: qmail-send does not exit on qmailctl stop while a qmail-remote hangs (notqmail
// qmail-send.c waits for deliveries in progress). A stand-in /proc lists qmail-send (pid: this
// test's own, alive) whose State turns Z only when the "qmail-remote" (a real process) gets TERM.

describe('qmail purge while a delivery hangs', () => {
  const kids: ChildProcess[] = [];
  afterEach(() => {
    for (const k of kids.splice(0)) if (k.exitCode === null) k.kill('SIGKILL');
  });

  function busy(failStart = false) {
    const { d, bin, q } = queue({
      '31': { split: '8', sender: '', mess: `Received: (qmail 9 invoked for bounce); ${D}\nbody\n`, remote: ['Tforged@far.example'] },
      '32': { split: '9', sender: 'legit@example.test', mess: smtpd('alice@example.test'), remote: ['Tfriend@far.example'] },
    });
    const proc = join(d, 'proc');
    const send = process.pid;
    const status = (name: string, state: string, ppid: number) => `Name:\t${name}\nState:\t${state}\nPPid:\t${ppid}\nUid:\t0\t0\t0\t0\n`;
    mkdirSync(join(proc, String(send)), { recursive: true });
    writeFileSync(join(proc, String(send), 'status'), status('qmail-send', 'S (sleeping)', 1));
    // The hanging qmail-remote: on TERM, qmail-send (which was waiting for it) exits.
    const remote = spawn(
      '/bin/sh',
      [
        '-c',
        `trap 'printf "Name:\\tqmail-send\\nState:\\tZ (zombie)\\nPPid:\\t1\\nUid:\\t0\\t0\\t0\\t0\\n" >${proc}/${send}/status; echo TERM >${d}/remote.log; exit 0' TERM; while :; do sleep 0.1; done`,
      ],
      { stdio: 'ignore' },
    );
    kids.push(remote);
    // pgrep -P: qmail-send -> qmail-rspawn (4242) -> qmail-remote.
    script(
      join(bin, 'pgrep'),
      `echo "pgrep $*" >>${d}/pgrep.log; case "$*" in "-P ${send} -x qmail-rspawn") echo 4242;; "-P 4242 -x qmail-remote") echo ${remote.pid};; *) exit 1;; esac`,
    );
    // qmailctl start brings up a new qmail-send (another live pid: our parent).
    const next = process.ppid;
    script(
      join(bin, 'qmailctl'),
      `echo "qmailctl $1" >>${d}/qmailctl.log; if [ "$1" = start ]; then ${failStart ? 'exit 1' : `mkdir -p ${proc}/${next}; printf 'Name:\\tqmail-send\\nState:\\tS (sleeping)\\nPPid:\\t1\\nUid:\\t0\\t0\\t0\\t0\\n' >${proc}/${next}/status`}; fi`,
    );
    const sup = {
      procRoot: proc,
      systemdMarker: join(d, 'nosystemd'),
      initScript: join(d, 'noinit'),
      stateDir: join(d, 'state'),
      waitSeconds: 1,
      qmailsUid: 0,
      rootUid: 0,
    };
    return { d, bin, q, sup, remote, next };
  }

  const req: PurgeRequest = {
    ids: ['31', '32'],
    match: { kind: 'bounce' },
    mode: 'delete',
    expect: { '31': { sender: '', recipients: ['forged@far.example'] }, '32': { sender: '', recipients: ['friend@far.example'] } },
  };

  it('ends the hanging qmail-remote, waits for qmail-send to exit, removes, starts it again and says so', async () => {
    const { d, bin, q, sup, next } = busy();
    await new Promise((r) => setTimeout(r, 200));
    const { result } = runPlan(qmailPurge(ctx(d), req, sup), d, bin);
    expect(readFileSync(join(d, 'remote.log'), 'utf8')).toBe('TERM\n');
    expect(result.done).toEqual(['31']);
    expect(result.skipped).toEqual([{ id: '32', reason: 'not a null-sender message' }]);
    expect(result.notes).toEqual([
      'paused: ended 1 qmail-remote delivery attempt(s) in progress so that qmail-send could stop (the messages stay queued and are retried)',
      'paused: qmail-send stopped for the removal (qmailctl stop)',
      `resumed: qmail-send running, pid ${next} (qmailctl start)`,
    ]);
    expect(result.warnings).toEqual([]);
    expect(readFileSync(join(d, 'qmailctl.log'), 'utf8')).toBe('qmailctl stop\nqmailctl start\n');
    expect(existsSync(join(q, 'info', '8', '31'))).toBe(false);
    expect(existsSync(join(q, 'info', '9', '32'))).toBe(true);
  });

  it('a start that fails is reported as a warning, not hidden', async () => {
    const { d, bin, sup } = busy(true);
    await new Promise((r) => setTimeout(r, 200));
    const { result } = runPlan(qmailPurge(ctx(d), req, sup), d, bin);
    expect(result.done).toEqual(['31']);
    expect(result.warnings.join('\n')).toMatch(/^NOT resumed: qmail-send is not running after qctl start/m);
  });

  it('qmail-send that never stops: nothing removed, qctl start runs from the exit trap, and the operator is told', () => {
    const { d, bin, q, sup } = busy();
    // No qmail-remote to end: pgrep finds nothing.
    script(join(bin, 'pgrep'), 'exit 1');
    const { result } = runPlan(qmailPurge(ctx(d), req, { ...sup }), d, bin);
    expect(result.done).toEqual([]);
    expect(result.skipped.find((s) => s.id === '31')!.reason).toMatch(/^queue file removal did not take effect: qmail-send did not stop/);
    expect(existsSync(join(q, 'info', '8', '31'))).toBe(true);
    // qctl start finds the old qmail-send still running (it exits once its deliveries end) and
    // starts nothing: that is reported, never taken for a restart.
    expect(result.warnings.join('\n')).toMatch(/^NOT resumed: qmail-send pid \d+ is the one asked to stop/m);
    expect(readFileSync(join(d, 'qmailctl.log'), 'utf8')).toBe('qmailctl stop\n');
  });
});
