// Incident operations (purge / hold / restart): parsers, request checks, and the built
// commands run through the real /bin/sh against stub MTA tools and fake spools, with hostile
// ids and auth ids, to prove nothing is injected and nothing outside the match is touched.
import { mtaHost } from '../../src/mta/host.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authIdProblem, parsePurgeOutput, preparePurge } from '../../src/mta/purge-protocol.js';
import { parseRestartOutput } from '../../src/mta/restart-fragments.js';
import { restartLockFragment, serviceRestartFragment } from './shared-scripts.js';
import { eximConfirmed } from '../../src/mta/exim/ops.js';
import { EXIM_ID } from '../../src/mta/exim/host.js';
import { exim } from '../../src/mta/exim/adapter.js';
import { postfix } from '../../src/mta/postfix/adapter.js';
import { qmail } from '../../src/mta/qmail/adapter.js';
import { sendmail } from '../../src/mta/sendmail/adapter.js';
import type { PurgeRequest, PurgeResult } from '../../src/mta/types.js';
import { pathLine } from '../../src/mta/util.js';
import { runPlan, script, tmp } from './helpers.js';

const BOB = 'bob@example.test';
const HOSTILE_AUTH = [
  `${BOB}' $(touch PWNED) "x`,
  `${BOB}"; touch PWNED; echo "`,
  '`touch PWNED`',
  '$(touch PWNED)',
  '*',
  '.*',
  `${BOB} `,
  `-e ${BOB}`,
];
const HOSTILE_IDS = [
  `'; touch PWNED; '`,
  '$(touch PWNED)',
  '-Mrm',
  'a b',
  '../../../etc/passwd',
  '1WDQrg-0001Wf-1W\n1WDQrg-0001Wf-1X',
  '*',
];

// ---------------------------------------------------------------------------
describe('request checks', () => {
  it('refuses auth ids that cannot be compared as one exact line', () => {
    expect(authIdProblem('')).toMatch(/empty/);
    expect(authIdProblem(`${BOB}\n-host_auth x`)).toMatch(/control/);
    expect(authIdProblem(`${BOB}\r`)).toMatch(/control/);
    expect(authIdProblem(`a\u0000b`)).toMatch(/control/);
    expect(authIdProblem(`${BOB}' $(x) "`)).toBeNull();
  });

  it('validates id shapes, dedupes, and needs expect where the MTA needs it', () => {
    const req: PurgeRequest = {
      ids: ['1WDQrg-0001Wf-1W', '1WDQrg-0001Wf-1W', '16VDhn-000000001bo-D342', ...HOSTILE_IDS],
      match: { kind: 'auth', authId: BOB },
      mode: 'delete',
    };
    const p = preparePurge(req, EXIM_ID, 'exim');
    expect(p.ids).toEqual(['1WDQrg-0001Wf-1W', '16VDhn-000000001bo-D342']);
    expect(p.skipped.map((s) => s.id)).toEqual(HOSTILE_IDS);
    expect(p.skipped.every((s) => s.reason === 'not a exim queue id')).toBe(true);
    const nl = preparePurge({ ...req, match: { kind: 'auth', authId: 'a\nb' } }, EXIM_ID, 'exim');
    expect(nl.ids).toEqual([]);
    expect(nl.refusal).toMatch(/control/);
    const sm = sendmail.ops!.purge(mtaHost(), { ids: ['6AN4loPM020741'], match: { kind: 'auth', authId: BOB }, mode: 'delete' });
    expect(sm.command).toBe('true');
    expect(sm.parse('', '', 0).skipped[0]!.reason).toMatch(/expected sender/);
  });

  it('puts nothing unvalidated into a command', () => {
    for (const authId of HOSTILE_AUTH) {
      for (const a of [exim, postfix, sendmail, qmail]) {
        const ids = a === exim ? ['1WDQrg-0001Wf-1W'] : a === qmail ? ['12345'] : ['ABCDEF12345'];
        const plan = a.ops!.purge(mtaHost(), {
          ids: [...ids, ...HOSTILE_IDS],
          match: { kind: 'auth', authId },
          mode: 'delete',
          expect: { [ids[0]!]: { sender: 'x@y' } },
        });
        // The command is a fixed script; the one valid id travels on stdin, hostile ones nowhere.
        expect(plan.command.includes(ids[0]!), a.name).toBe(false);
        const idLines = (plan.stdin ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('A ') && !l.startsWith('. '));
        expect(
          idLines.map((l) => l.split(' ')[0]),
          a.name,
        ).toEqual(ids);
        for (const bad of HOSTILE_IDS) expect((plan.stdin ?? '').includes(bad), `${a.name} ${bad}`).toBe(false);
      }
    }
  });
});

// ---------------------------------------------------------------------------
describe('parsePurgeOutput', () => {
  const opts = { sent: ['A1', 'B2', 'C3', 'D4'], preSkipped: [{ id: 'bad id', reason: 'not a x queue id' }], tool: 'tool' };

  it('reads verdicts; tool output cannot forge one; unknown ids are ignored', () => {
    const out = [
      '__MAILSWEEP_PURGE__ A1 match',
      '__MAILSWEEP_PURGE__ B2 skip gone: no spool -H file',
      '__MAILSWEEP_PURGE__ C3 match',
      '| __MAILSWEEP_PURGE__ D4 done removed',
      '| Message A1 has been removed',
      '__MAILSWEEP_PURGE__ A1 done removed',
      '__MAILSWEEP_PURGE__ C3 fail -H file still in the spool',
      '__MAILSWEEP_PURGE__ ZZ done removed',
      '__MAILSWEEP_PURGE__ B2 done removed',
    ].join('\n');
    const r = parsePurgeOutput(out, '', 0, { ...opts, confirmed: eximConfirmed('delete') });
    expect(r.done).toEqual(['A1']);
    expect(r.skipped).toEqual([
      { id: 'bad id', reason: 'not a x queue id' },
      { id: 'B2', reason: 'gone: no spool -H file' },
      { id: 'C3', reason: 'tool did not take effect: -H file still in the spool' },
      { id: 'D4', reason: 'no result from the server (exit 0)' },
    ]);
    expect(r.warnings.join('\n')).toMatch(/not requested: ZZ/);
  });

  it('abort skips everything with the reason; a missing confirmation is a warning', () => {
    const a = parsePurgeOutput('__MAILSWEEP_PURGE__ - abort exim spool directory not found\n', '', 0, opts);
    expect(a.done).toEqual([]);
    expect(a.skipped.slice(1).every((s) => s.reason === 'not attempted: exim spool directory not found')).toBe(true);
    const c = parsePurgeOutput('__MAILSWEEP_PURGE__ A1 match\n__MAILSWEEP_PURGE__ A1 done removed\n', '', 0, {
      ...opts,
      sent: ['A1'],
      confirmed: eximConfirmed('delete'),
    });
    expect(c.done).toEqual(['A1']);
    expect(c.warnings[0]).toMatch(/no confirmation/);
    const m = parsePurgeOutput('__MAILSWEEP_PURGE__ A1 match\n', '', 255, { ...opts, sent: ['A1'] });
    expect(m.skipped.at(-1)!.reason).toMatch(/matched, but no outcome/);
  });
});

describe('parseRestartOutput', () => {
  it('ok only when the restart ran and the daemon runs', () => {
    const ok = parseRestartOutput(
      '__MAILSWEEP_RESTART__ before 10\n__MAILSWEEP_RESTART__ how /etc/init.d/exim4 restart\n| Restarting MTA: exim4.\n__MAILSWEEP_RESTART__ rc 0\n__MAILSWEEP_RESTART__ running 42\n',
      '',
      0,
      'exim',
    );
    expect(ok).toEqual({ ok: true, detail: '/etc/init.d/exim4 restart exited 0; exim running, pid 42 (was 10)' });
    const down = parseRestartOutput(
      '__MAILSWEEP_RESTART__ before 10\n__MAILSWEEP_RESTART__ how systemctl restart exim4\n| Job failed\n__MAILSWEEP_RESTART__ rc 1\n__MAILSWEEP_RESTART__ down\n',
      '',
      0,
      'exim',
    );
    expect(down.ok).toBe(false);
    expect(down.detail).toMatch(/NOT running.*Job failed/);
    expect(parseRestartOutput('__MAILSWEEP_RESTART__ how none\n', '', 0, 'x').ok).toBe(false);
    expect(parseRestartOutput('', 'sh: 1: bad', 2, 'x')).toEqual({ ok: false, detail: 'x: restart did not run (exit 2): sh: 1: bad' });
  });

  it('restart commands run against stubs (no systemd, no init script: service), and report the pid', () => {
    const d = tmp();
    const bin = join(d, 'bin');
    mkdirSync(bin);
    const plan = postfix.ops!.restart(mtaHost(join(bin, 'postqueue')));
    // The built command names absolute host paths (systemd marker, init scripts, the lock): point
    // them into the temp dir, so this test can never restart the machine's own MTA.
    const command = plan.command
      .replaceAll('/run/systemd/system', join(d, 'no-systemd'))
      .replaceAll('/etc/init.d/', `${join(d, 'init.d')}/`)
      .replaceAll('/run/mailsweep-restart.lock', join(d, 'restart.lock'));
    expect(command).not.toMatch(/\/etc\/init\.d|\/run\/systemd|\/run\/mailsweep/);
    script(join(bin, 'postconf'), `echo ${d}`);
    script(join(bin, 'postfix'), 'exit 0');
    script(join(bin, 'systemctl'), `echo "$*" >>'${join(d, 'systemctl-calls')}'; exit 1`);
    script(join(bin, 'service'), `echo "$*" >>'${join(d, 'service-calls')}'`);
    mkdirSync(join(d, 'pid'));
    writeFileSync(join(d, 'pid', 'master.pid'), `   ${process.pid}\n`);
    const { result, stdout } = runPlan({ ...plan, command }, d, bin);
    expect(stdout).toMatch(new RegExp(`__MAILSWEEP_RESTART__ before ${process.pid}`));
    expect(readFileSync(join(d, 'service-calls'), 'utf8')).toBe('postfix restart\n');
    expect(existsSync(join(d, 'systemctl-calls'))).toBe(false);
    expect(result).toEqual({
      ok: true,
      detail: `service postfix restart exited 0; postfix running, pid ${process.pid} (same pid as before)`,
    });
  });
});

describe('restartLockFragment (flock through /bin/sh)', () => {
  const hasFlock = (() => {
    try {
      execFileSync('sh', ['-c', 'command -v flock'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it("a second restart waits for the first (a killed run's init script still going), then runs", async () => {
    expect(hasFlock, 'flock (util-linux) is needed for this test').toBe(true);
    const d = tmp();
    const lock = join(d, 'restart.lock');
    const log = join(d, 'log');
    // Each "restart" appends start/end with a pause in between: interleaved runs would show start,start.
    const body = (n: string) => `${restartLockFragment(20, lock)}\necho start ${n} >>'${log}'; sleep 0.6; echo end ${n} >>'${log}'`;
    const { spawn } = await import('node:child_process');
    const runSh = (n: string) =>
      new Promise<string>((resolve) => {
        const c = spawn('sh', ['-c', body(n)]);
        let out = '';
        c.stdout.on('data', (b: Buffer) => (out += b.toString()));
        c.on('close', () => resolve(out));
      });
    const first = runSh('1');
    await new Promise((r) => setTimeout(r, 150));
    const [o1, o2] = await Promise.all([first, runSh('2')]);
    expect(readFileSync(log, 'utf8')).toBe('start 1\nend 1\nstart 2\nend 2\n');
    expect(o1).toBe('');
    expect(o2).toBe('__MAILSWEEP_RESTART__ waited for another restart\n');
    const r = parseRestartOutput(
      `${o2}__MAILSWEEP_RESTART__ how /etc/init.d/postfix restart\n__MAILSWEEP_RESTART__ rc 0\n__MAILSWEEP_RESTART__ running 7\n`,
      '',
      0,
      'postfix',
    );
    expect(r).toEqual({
      ok: true,
      detail: '/etc/init.d/postfix restart exited 0 (after waiting for another restart to finish); postfix running, pid 7',
    });
  });

  it('gives up after the wait, restarts nothing and says why', async () => {
    const d = tmp();
    const lock = join(d, 'restart.lock');
    const { spawn } = await import('node:child_process');
    const holder = spawn('flock', [lock, 'sleep', '5'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const out = execFileSync('sh', ['-c', `${restartLockFragment(1, lock)}\necho RESTARTED`], { encoding: 'utf8' });
      expect(out).not.toContain('RESTARTED');
      const r = parseRestartOutput(out, '', 0, 'exim');
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(/not restarted: another restart has held the host's lock for 1 s/);
    } finally {
      holder.kill();
    }
  });

  it('an unusable lock path does not stop the restart', () => {
    const out = execFileSync('sh', ['-c', `${restartLockFragment(1, '/nonexistent-dir/x/lock')}\necho RESTARTED`], { encoding: 'utf8' });
    expect(out).toBe('RESTARTED\n');
  });

  it('hostile lock paths stay one word', () => {
    const d = tmp();
    const out = execFileSync('sh', ['-c', `${restartLockFragment(1, join(d, "x'; touch pwned; '"))}\necho ok`], {
      encoding: 'utf8',
      cwd: d,
    });
    expect(out).toBe('ok\n');
    expect(existsSync(join(d, 'pwned'))).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// exim: fake spool (flat + split), stub exim.

function eximSpool(): { d: string; bin: string; ids: Record<string, string> } {
  const d = tmp();
  const bin = join(d, 'bin');
  mkdirSync(bin);
  mkdirSync(join(d, 'spool', 'input', 'g'), { recursive: true });
  const ids = {
    bob: '1xVLyY-0005n4-1b',
    bobNew: '1xVLyg-000000005nC-27aa',
    alice: '1xVLy2-0005Of-0r',
    bounce: '1xVLyE-0005Xy-21',
    acl: '1xVLyZ-0005o1-30',
  };
  const H = (id: string, sender: string, hyphen: string[], rcpt = 'x@remote.example'): string =>
    [`${id}-H`, 'Debian-exim 100 102', `<${sender}>`, '1795409270 0', ...hyphen, 'XX', '1', rcpt, '', '018F From: x', ''].join('\n');
  writeFileSync(join(d, 'spool', 'input', `${ids.bob}-H`), H(ids.bob, 'spam@x.invalid', ['-host_auth plain_server', `--auth_id ${BOB}`]));
  // split spool: input/<6th char>/
  writeFileSync(
    join(d, 'spool', 'input', 'g', `${ids.bobNew}-H`),
    H(ids.bobNew, 'spam2@x.invalid', ['-host_address [192.0.2.9]:4100', '-received_protocol esmtpsa', `-auth_id ${BOB}`]),
  );
  // alice, with a recipient and a header that look like bob's auth line
  writeFileSync(
    join(d, 'spool', 'input', `${ids.alice}-H`),
    H(ids.alice, 'alice@example.test', [`--auth_id alice@example.test`], `-auth_id ${BOB}`).replace('018F From: x', `-auth_id ${BOB}`),
  );
  writeFileSync(join(d, 'spool', 'input', `${ids.bounce}-H`), H(ids.bounce, '', ['-frozen 1795409298']));
  // an -aclc value spanning lines that holds bob's auth line: not an envelope line
  writeFileSync(
    join(d, 'spool', 'input', `${ids.acl}-H`),
    H(ids.acl, 'carol@shop.test', [`-aclc 1 26`, `x\n-auth_id ${BOB}`, '--auth_id carol@shop.test']),
  );
  script(
    join(bin, 'exim'),
    `echo "$@" >>${d}/exim.argv
if [ "$1" = -bP ]; then echo "spool_directory = ${d}/spool"; exit 0; fi
op=$1; shift
for id in "$@"; do
  f=${d}/spool/input/$id-H; [ -f "$f" ] || f=$(ls ${d}/spool/input/*/$id-H 2>/dev/null)
  if [ "$op" = -Mrm ]; then rm -f "$f"; echo "Message $id has been removed"; else echo "-frozen 1" >>"$f.tmp"; sed '4r '"$f.tmp" "$f" >"$f.new" && mv "$f.new" "$f"; rm -f "$f.tmp"; echo "Message $id is now frozen"; fi
done`,
  );
  return { d, bin, ids };
}

describe('exim purge through /bin/sh (stub exim, fake spool)', () => {
  it("removes exactly bob's messages (flat and split spool, both id formats), nothing else", () => {
    const { d, bin, ids } = eximSpool();
    const req: PurgeRequest = { ids: Object.values(ids), match: { kind: 'auth', authId: BOB }, mode: 'delete' };
    const { result } = runPlan(exim.ops!.purge(mtaHost(join(bin, 'exim')), req), d, bin);
    expect(result.done.sort()).toEqual([ids.bob, ids.bobNew].sort());
    expect(result.skipped.map((s) => s.id).sort()).toEqual([ids.alice, ids.bounce, ids.acl].sort());
    expect(result.warnings).toEqual([]);
    const left = readdirSync(join(d, 'spool', 'input')).filter((f) => f.endsWith('-H'));
    expect(left.sort()).toEqual([`${ids.acl}-H`, `${ids.alice}-H`, `${ids.bounce}-H`].sort());
    expect(readFileSync(join(d, 'exim.argv'), 'utf8')).toMatch(
      new RegExp(`^-Mrm (${ids.bob} ${ids.bobNew}|${ids.bobNew} ${ids.bob})$`, 'm'),
    );
  });

  it('hostile auth ids match nothing and run nothing', () => {
    const { d, bin, ids } = eximSpool();
    for (const authId of HOSTILE_AUTH) {
      const { result } = runPlan(
        exim.ops!.purge(mtaHost(join(bin, 'exim')), { ids: Object.values(ids), match: { kind: 'auth', authId }, mode: 'delete' }),
        d,
        bin,
      );
      expect(result.done, authId).toEqual([]);
    }
    expect(existsSync(join(d, 'PWNED'))).toBe(false);
    expect(readFileSync(join(d, 'exim.argv'), 'utf8')).not.toMatch(/-Mrm/);
    expect(readdirSync(join(d, 'spool', 'input')).length + readdirSync(join(d, 'spool', 'input', 'g')).length).toBe(6);
  });

  it('bounce kind takes only "<>" senders; hold freezes; expect catches a reused id', () => {
    const { d, bin, ids } = eximSpool();
    // Every id offered with the recipients its -H holds: only the null-sender one is a bounce.
    const rcpts = { recipients: ['x@remote.example'] };
    const expectB = Object.fromEntries(
      Object.values(ids).map((id) => [
        id,
        id === ids.bounce ? { sender: '', ...rcpts } : { sender: id === ids.alice ? 'alice@example.test' : 'spam@x.invalid', ...rcpts },
      ]),
    );
    const b = runPlan(
      exim.ops!.purge(mtaHost(join(bin, 'exim')), { ids: Object.values(ids), match: { kind: 'bounce' }, mode: 'hold', expect: expectB }),
      d,
      bin,
    ).result;
    expect(b.done).toEqual([ids.bounce]);
    const h = runPlan(
      exim.ops!.purge(mtaHost(join(bin, 'exim')), {
        ids: [ids.bob, ids.bobNew],
        match: { kind: 'auth', authId: BOB },
        mode: 'hold',
        expect: { [ids.bob]: { sender: 'spam@x.invalid' }, [ids.bobNew]: { sender: 'someone-else@x' } },
      }),
      d,
      bin,
    ).result;
    expect(h.done).toEqual([ids.bob]);
    expect(h.skipped).toEqual([{ id: ids.bobNew, reason: 'envelope sender changed: id reused?' }]);
    expect(readFileSync(join(d, 'spool', 'input', `${ids.bob}-H`), 'utf8')).toMatch(/^-frozen /m);
  });
});

// ---------------------------------------------------------------------------
// postfix: stub postcat / postsuper over a directory of envelope dumps.

function postfixQueue(): { d: string; bin: string } {
  const d = tmp();
  const bin = join(d, 'bin');
  mkdirSync(bin);
  mkdirSync(join(d, 'q'));
  mkdirSync(join(d, 'spool', 'deferred', '3'), { recursive: true });
  mkdirSync(join(d, 'spool', 'hold'), { recursive: true });
  script(join(bin, 'postconf'), `echo ${d}/spool`);
  const env = (id: string, queue: string, lines: string[]): void => {
    writeFileSync(join(d, 'spool', 'deferred', '3', id), '');
    writeFileSync(
      join(d, 'q', id),
      [
        `*** ENVELOPE RECORDS ${queue}/${id} ***`,
        ...lines,
        `*** MESSAGE CONTENTS ${queue}/${id} ***`,
        `*** HEADER EXTRACTED ${queue}/${id} ***`,
        `*** MESSAGE FILE END ${queue}/${id} ***`,
        '',
      ].join('\n'),
    );
  };
  env('3C1E651E611', 'deferred', [`named_attribute: sasl_username=${BOB}`, 'sender: spam@x.invalid', 'recipient: a@b']);
  env('3EEB151E4A6', 'deferred', [
    'named_attribute: sasl_username=alice@example.test',
    'sender: alice@example.test',
    `recipient: named_attribute: sasl_username=${BOB}`,
  ]);
  env('47F1351E1CD', 'deferred', ['sender: ', 'recipient: info@x.invalid']);
  script(
    join(bin, 'postcat'),
    `[ "$1" = -e ] && [ "$2" = -q ] && [ -f ${d}/q/$3 ] && exec cat ${d}/q/$3; echo "postcat: fatal: open queue file $3: No such file or directory" >&2; exit 1`,
  );
  script(
    join(bin, 'postsuper'),
    `echo "$@" >>${d}/postsuper.argv; n=0
while read -r id; do echo "$id" >>${d}/postsuper.stdin; if [ "$1" = -d ]; then rm -f ${d}/q/$id ${d}/spool/deferred/3/$id; echo "postsuper: $id: removed" >&2; else sed -i "s# deferred/# hold/#" ${d}/q/$id; echo "postsuper: $id: placed on hold" >&2; fi; n=$((n+1)); done
if [ "$1" = -d ]; then echo "postsuper: Deleted: $n messages" >&2; else echo "postsuper: Placed on hold: $n messages" >&2; fi`,
  );
  return { d, bin };
}

describe('postfix purge through /bin/sh (stub postcat / postsuper)', () => {
  it("deletes bob's only; a recipient shaped like the attribute does not match", () => {
    const { d, bin } = postfixQueue();
    const ids = ['3C1E651E611', '3EEB151E4A6', '47F1351E1CD', 'FFFFF00000'];
    const { result } = runPlan(
      postfix.ops!.purge(mtaHost(join(bin, 'postqueue')), { ids, match: { kind: 'auth', authId: BOB }, mode: 'delete' }),
      d,
      bin,
    );
    expect(result.done).toEqual(['3C1E651E611']);
    expect(result.skipped.map((s) => s.reason)).toEqual([
      'not submitted by this auth id',
      'not submitted by this auth id',
      'gone: not in the queue',
    ]);
    expect(result.warnings).toEqual([]);
    expect(readFileSync(join(d, 'postsuper.stdin'), 'utf8')).toBe('3C1E651E611\n');
  });

  it('hostile auth ids touch nothing; bounce + hold puts only the null sender on hold', () => {
    const { d, bin } = postfixQueue();
    const ids = ['3C1E651E611', '3EEB151E4A6', '47F1351E1CD'];
    for (const authId of HOSTILE_AUTH) {
      const { result } = runPlan(
        postfix.ops!.purge(mtaHost(join(bin, 'postqueue')), { ids, match: { kind: 'auth', authId }, mode: 'delete' }),
        d,
        bin,
      );
      expect(result.done).toEqual([]);
    }
    expect(existsSync(join(d, 'PWNED'))).toBe(false);
    expect(existsSync(join(d, 'postsuper.argv'))).toBe(false);
    // Bounces are re-checked against the recipients the listing showed (a reused id is not one).
    const shown = { sender: '', recipients: ['info@x.invalid'] };
    const { result } = runPlan(
      postfix.ops!.purge(mtaHost(join(bin, 'postqueue')), {
        ids,
        match: { kind: 'bounce' },
        mode: 'hold',
        expect: Object.fromEntries(ids.map((id) => [id, shown])),
      }),
      d,
      bin,
    );
    expect(result.done).toEqual(['47F1351E1CD']);
    expect(readFileSync(join(d, 'postsuper.argv'), 'utf8')).toBe('-h -\n');
  });
});

// ---------------------------------------------------------------------------
// sendmail: fake queue dir + mail log, stub sendmail that quarantines (qf → hf).

function sendmailQueue(): { d: string; bin: string } {
  const d = tmp();
  const bin = join(d, 'bin');
  mkdirSync(bin);
  mkdirSync(join(d, 'mq'));
  const qf = (id: string, sender: string): void => {
    writeFileSync(join(d, 'mq', `qf${id}`), `V8\nT1795409270\n$rESMTPA\nS<${sender}>\nRPFD:<a@b>\nH??From: ${sender}\n.\n`);
    writeFileSync(join(d, 'mq', `df${id}`), 'body\n');
  };
  qf('6AN4mWEi022971', 'spam@x.invalid'); // bob, pid 22971
  qf('6AN4loPM020741', 'alice@example.test'); // alice, pid 20741
  qf('6AN4mY2K023114', 'spam2@x.invalid'); // from= by pid 23114 whose AUTH line names alice
  qf('6AN4n0BB030000', ''); // bounce
  const L = (pid: number, body: string): string => `Nov 23 04:47:50 h sm-mta[${pid}]: ${body}`;
  writeFileSync(
    join(d, 'mail.log'),
    [
      L(22971, `AUTH=server, relay=localhost [127.0.0.1], authid=${BOB}, mech=PLAIN, bits=0`),
      L(
        22971,
        '6AN4mWEi022971: from=<spam@x.invalid>, size=1, class=0, nrcpts=1, msgid=<a>, proto=ESMTPA, daemon=MTA-v4, relay=localhost [127.0.0.1]',
      ),
      L(20741, 'AUTH=server, relay=localhost [127.0.0.1], authid=alice@example.test, mech=PLAIN, bits=0'),
      // a forged sender that tries to look like bob's join
      L(
        20741,
        `6AN4loPM020741: from=<x, relay=localhost [127.0.0.1], authid=${BOB}, mech=PLAIN>, size=1, proto=ESMTPA, daemon=MTA-v4, relay=localhost [127.0.0.1]`,
      ),
      L(23114, `AUTH=server, relay=other [10.0.0.9], authid=${BOB}, mech=PLAIN, bits=0`),
      L(23114, '6AN4mY2K023114: from=<spam2@x.invalid>, size=1, proto=ESMTPA, daemon=MTA-v4, relay=localhost [127.0.0.1]'),
      `Nov 23 04:47:50 h other[1]: 6AN4loPM020741: from=<x> sm-mta[20741]: AUTH=server, relay=localhost [127.0.0.1], authid=${BOB}, mech=PLAIN, bits=0`,
      L(30000, '6AN4n0BB030000: from=<>, size=1, proto=ESMTP, daemon=MTA-v4, relay=localhost [127.0.0.1]'),
      '',
    ].join('\n'),
  );
  script(
    join(bin, 'sendmail'),
    `echo "$@" >>${d}/sendmail.argv; r=''
for a in "$@"; do case $a in -Q*) r=\${a#-Q};; esac; done
for a in "$@"; do case $a in -qI*) id=\${a#-qI}; for f in ${d}/mq/qf*$id*; do [ -f "$f" ] || continue; n=${d}/mq/hf\${f#${d}/mq/qf}; { cat "$f"; echo "q$r"; } >"$n"; rm -f "$f"; done;; esac; done`,
  );
  return { d, bin };
}

describe('sendmail purge through /bin/sh (stub sendmail, fake queue and log)', () => {
  const ctx = (d: string, bin: string) => mtaHost(join(bin, 'sendmail'), { queue_directory: join(d, 'mq'), mail_log: join(d, 'mail.log') });
  const expectAll = {
    '6AN4mWEi022971': { sender: 'spam@x.invalid' },
    '6AN4loPM020741': { sender: 'alice@example.test' },
    '6AN4mY2K023114': { sender: 'spam2@x.invalid' },
    '6AN4n0BB030000': { sender: '' },
  };

  it('deletes only what the log join ties to bob (same pid and relay), quarantining first', () => {
    const { d, bin } = sendmailQueue();
    const { result } = runPlan(
      sendmail.ops!.purge(ctx(d, bin), {
        ids: Object.keys(expectAll),
        match: { kind: 'auth', authId: BOB },
        mode: 'delete',
        expect: expectAll,
      }),
      d,
      bin,
    );
    expect(result.done).toEqual(['6AN4mWEi022971']);
    expect(result.skipped.map((s) => s.id).sort()).toEqual(['6AN4loPM020741', '6AN4mY2K023114', '6AN4n0BB030000'].sort());
    expect(readdirSync(join(d, 'mq')).sort()).toEqual([
      'df6AN4loPM020741',
      'df6AN4mY2K023114',
      'df6AN4n0BB030000',
      'qf6AN4loPM020741',
      'qf6AN4mY2K023114',
      'qf6AN4n0BB030000',
    ]);
    expect(readFileSync(join(d, 'sendmail.argv'), 'utf8')).toBe('-Qmailsweep -qI6AN4mWEi022971\n');
  });

  it('a changed sender (reused id) is skipped; hold leaves the job quarantined; hostile auth ids do nothing', () => {
    const { d, bin } = sendmailQueue();
    const reused = runPlan(
      sendmail.ops!.purge(ctx(d, bin), {
        ids: ['6AN4mWEi022971'],
        match: { kind: 'auth', authId: BOB },
        mode: 'delete',
        expect: { '6AN4mWEi022971': { sender: 'other@x' } },
      }),
      d,
      bin,
    );
    expect(reused.result.skipped[0]!.reason).toMatch(/sender changed/);
    // mailq's cut-short sender ("<spam@x.inv", no ">") matches as a prefix only; "*" is literal.
    const cut = (sender: string) =>
      runPlan(
        sendmail.ops!.purge(ctx(d, bin), {
          ids: ['6AN4mWEi022971'],
          match: { kind: 'auth', authId: 'nobody' },
          mode: 'delete',
          expect: { '6AN4mWEi022971': { sender } },
        }),
        d,
        bin,
      ).result.skipped[0]!.reason;
    expect(cut('<spam@x.inv')).toMatch(/not submitted/);
    expect(cut('<spam@y.inv')).toMatch(/sender changed/);
    expect(cut('<*')).toMatch(/sender changed/);
    for (const authId of HOSTILE_AUTH) {
      const r = runPlan(
        sendmail.ops!.purge(ctx(d, bin), {
          ids: Object.keys(expectAll),
          match: { kind: 'auth', authId },
          mode: 'delete',
          expect: expectAll,
        }),
        d,
        bin,
      );
      expect(r.result.done).toEqual([]);
    }
    expect(existsSync(join(d, 'PWNED'))).toBe(false);
    expect(existsSync(join(d, 'sendmail.argv'))).toBe(false);
    // Bounces need their expected recipients (every qf here has RPFD:<a@b>).
    const withRcpt = Object.fromEntries(Object.entries(expectAll).map(([id, e]) => [id, { ...e, recipients: ['a@b'] }]));
    const hold = runPlan(
      sendmail.ops!.purge(ctx(d, bin), { ids: Object.keys(expectAll), match: { kind: 'bounce' }, mode: 'hold', expect: withRcpt }),
      d,
      bin,
    );
    expect(hold.result.done).toEqual(['6AN4n0BB030000']);
    expect(readFileSync(join(d, 'mq', 'hf6AN4n0BB030000'), 'utf8')).toMatch(/^qmailsweep$/m);
    expect(existsSync(join(d, 'mq', 'df6AN4n0BB030000'))).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// qmail: fake queue tree (split 23), stub qmailctl.

function qmailQueue(): { d: string; bin: string } {
  const d = tmp();
  const bin = join(d, 'bin');
  mkdirSync(bin);
  const q = join(d, 'queue');
  for (const sub of ['mess', 'info', 'local', 'remote']) for (const n of ['0', '5']) mkdirSync(join(q, sub, n), { recursive: true });
  for (const sub of ['intd', 'todo', 'bounce']) mkdirSync(join(q, sub), { recursive: true });
  // The mess file begins with qmail-queue's and qmail-smtpd's Received headers (qmail-ops.ts).
  const D = '14 Nov 2023 22:13:20 -0000';
  const smtpd = (login: string, via = 'invoked from network') =>
    `Received: (qmail 4242 ${via}); ${D}\nReceived: from unknown (HELO x) (${login}@203.0.113.9)\n  by mail.example.com with ESMTPA; ${D}\nSubject: hi\n\nbody\n`;
  const msg = (id: string, split: string, sender: string, head: string, remote = true): void => {
    writeFileSync(join(q, 'mess', split, id), head);
    writeFileSync(join(q, 'info', split, id), `F${sender}\u0000`);
    writeFileSync(join(q, remote ? 'remote' : 'local', split, id), 'Tx@y\u0000');
  };
  msg('1000', '5', 'spam@x.invalid', smtpd(BOB));
  msg('1001', '0', 'alice@example.test', smtpd('alice@example.test'), false);
  msg('1002', '5', '', `Received: (qmail 9 invoked for bounce); ${D}\nbody\n`);
  // A local program's forged copy of bob's header: qmail-queue ran as uid 48, not qmaild.
  msg('1003', '0', 'spam@x.invalid', smtpd(BOB, 'invoked by uid 48'));
  writeFileSync(join(q, 'bounce', '1000'), 'x');
  script(join(bin, 'qmailctl'), `echo "qmailctl $1" >>${d}/qmailctl.log`);
  return { d, bin };
}

describe('qmail purge through /bin/sh (fake queue, stub qmailctl)', () => {
  const ctx = (d: string) => mtaHost(undefined, { queue_directory: join(d, 'queue') });

  it('stops qmail-send, removes every file of the matching ids only, starts it again', () => {
    const { d, bin } = qmailQueue();
    const expect_ = { '1000': { sender: 'spam@x.invalid' }, '1001': { sender: 'not-alice@x' }, '1003': { sender: 'spam@x.invalid' } };
    const { result } = runPlan(
      qmail.ops!.purge(ctx(d), {
        ids: ['1000', '1001', '1003', '9999'],
        match: { kind: 'auth', authId: BOB },
        mode: 'delete',
        expect: expect_,
      }),
      d,
      bin,
    );
    expect(result.done).toEqual(['1000']);
    expect(result.skipped.map((s) => [s.id, s.reason])).toEqual([
      ['9999', 'no expected sender for this id (request.expect): cannot re-check it'],
      ['1001', 'envelope sender changed: id reused?'],
      ['1003', 'not submitted by this auth id'],
    ]);
    const q = join(d, 'queue');
    for (const p of ['mess/5/1000', 'info/5/1000', 'remote/5/1000', 'bounce/1000']) expect(existsSync(join(q, p)), p).toBe(false);
    for (const p of ['mess/0/1001', 'info/0/1001', 'local/0/1001', 'mess/5/1002', 'info/5/1002', 'mess/0/1003', 'info/0/1003'])
      expect(existsSync(join(q, p)), p).toBe(true);
    expect(readFileSync(join(d, 'qmailctl.log'), 'utf8')).toBe('qmailctl stop\nqmailctl start\n');
  });

  it('kind auth needs the mess file proof, not just the sender: alice is alice, bob is not alice', () => {
    const { d, bin } = qmailQueue();
    const all = { '1000': { sender: 'spam@x.invalid' }, '1001': { sender: 'alice@example.test' }, '1003': { sender: 'spam@x.invalid' } };
    const a = runPlan(
      qmail.ops!.purge(ctx(d), {
        ids: Object.keys(all),
        match: { kind: 'auth', authId: 'alice@example.test' },
        mode: 'delete',
        expect: all,
      }),
      d,
      bin,
    ).result;
    expect(a.done).toEqual(['1001']);
    expect(a.skipped.map((s) => s.reason)).toEqual(['not submitted by this auth id', 'not submitted by this auth id']);
    // Listing qmail-queue's uid 48 as qmail-smtpd's makes the forged copy count (the operator's call).
    const b = runPlan(
      qmail.ops!.purge(mtaHost(undefined, { queue_directory: join(d, 'queue'), qmail_smtpd_uids: [48] }), {
        ids: ['1000', '1003'],
        match: { kind: 'auth', authId: BOB },
        mode: 'delete',
        expect: all,
      }),
      d,
      bin,
    ).result;
    expect(b.done).toEqual(['1000', '1003']);
  });

  it('bounces by the empty info sender; hostile senders and hold touch nothing', () => {
    const { d, bin } = qmailQueue();
    const hostile = runPlan(
      qmail.ops!.purge(ctx(d), {
        ids: ['1000', '1001', '1002'],
        match: { kind: 'auth', authId: BOB },
        mode: 'delete',
        expect: { '1000': { sender: `spam@x.invalid' $(touch PWNED) '` }, '1001': { sender: '*' }, '1002': { sender: '$(touch PWNED)' } },
      }),
      d,
      bin,
    );
    expect(hostile.result.done).toEqual([]);
    expect(existsSync(join(d, 'PWNED'))).toBe(false);
    expect(existsSync(join(d, 'qmailctl.log'))).toBe(false);
    // Bounces are re-checked against the recipients the listing showed (every file here: Tx@y).
    const shown = { sender: '', recipients: ['x@y'] };
    const hold = qmail.ops!.purge(ctx(d), { ids: ['1002'], match: { kind: 'bounce' }, mode: 'hold', expect: { '1002': shown } });
    expect(hold.command).toBe('true');
    expect(hold.parse('', '', 0).skipped[0]!.reason).toMatch(/no hold/);
    const b = runPlan(
      qmail.ops!.purge(ctx(d), {
        ids: ['1000', '1001', '1002'],
        match: { kind: 'bounce' },
        mode: 'delete',
        expect: { '1000': shown, '1001': shown, '1002': shown },
      }),
      d,
      bin,
    );
    expect(b.result.done).toEqual(['1002']);
    expect(existsSync(join(d, 'queue', 'info', '5', '1002'))).toBe(false);
    expect(existsSync(join(d, 'queue', 'info', '5', '1000'))).toBe(true);
  });

  it('stdout of a purge result is a PurgeResult shape', () => {
    const r: PurgeResult = parsePurgeOutput('', '', 0, { sent: [], preSkipped: [], tool: 't' });
    expect(r).toEqual({ done: [], skipped: [], warnings: [] });
  });
});

describe('pathLine and restartPrologue', () => {
  it('puts the sbin directories and a quoted extra one on PATH, injecting nothing', () => {
    const d = tmp();
    const out = execFileSync('sh', ['-c', `${pathLine(join(d, "q'; touch pwned; '"), '/var/qmail/bin')}\necho "$PATH"`], {
      encoding: 'utf8',
      cwd: d,
      env: { PATH: '/usr/bin:/bin' },
    });
    expect(out.trim()).toBe(`/usr/bin:/bin:/usr/sbin:/sbin:/usr/local/sbin:${join(d, "q'; touch pwned; '")}:/var/qmail/bin`);
    expect(existsSync(join(d, 'pwned'))).toBe(false);
  });
  it('every adapter restart takes the host lock before it acts (qmail included)', () => {
    for (const a of [exim, postfix, sendmail, qmail]) {
      const lines = a.ops.restart(mtaHost()).command.split('\n');
      // The call, not the library's definition: the lock is taken before any restart runs.
      const lock = lines.indexOf('ms_restart_lock');
      const act = lines.findIndex((l) => /^ms_service_restart |^qctl restart|^if qctl restart/.test(l.trim()));
      expect(lock, a.name).toBeGreaterThan(-1);
      expect(act, a.name).toBeGreaterThan(lock);
    }
  });
});

describe('serviceRestartFragment: the systemd path (stub systemctl; the lab has no systemd)', () => {
  function systemdHost(units: string[], restartRc = 0) {
    const d = tmp();
    const bin = join(d, 'bin');
    mkdirSync(bin);
    mkdirSync(join(d, 'systemd'));
    // `systemctl cat U.service` succeeds only for the installed units; every call is logged.
    script(
      join(bin, 'systemctl'),
      `echo "$*" >>'${join(d, 'calls')}'
case "$1" in cat) case " ${units.join(' ')} " in *" \${2%.service} "*) exit 0;; esac; exit 1;;
restart) echo "Job for $2 done."; exit ${restartRc};; esac; exit 2`,
    );
    return { d, bin };
  }
  const run = (cmd: string, d: string, bin: string) =>
    execFileSync('sh', ['-c', cmd], { cwd: d, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });

  it('restarts the first unit that exists (exim4 before exim) and reports how', () => {
    const { d, bin } = systemdHost(['exim']);
    const out = run(serviceRestartFragment(['exim4', 'exim'], join(d, 'systemd')), d, bin);
    expect(readFileSync(join(d, 'calls'), 'utf8')).toBe('cat exim4.service\ncat exim.service\nrestart exim.service\n');
    const r = parseRestartOutput(`${out}__MAILSWEEP_RESTART__ running 99\n`, '', 0, 'exim');
    expect(r).toEqual({ ok: true, detail: 'systemctl restart exim exited 0; exim running, pid 99' });
  });

  it('a failing systemctl restart is a failure, with its words', () => {
    const { d, bin } = systemdHost(['postfix'], 1);
    const out = run(serviceRestartFragment(['postfix'], join(d, 'systemd')), d, bin);
    const r = parseRestartOutput(`${out}__MAILSWEEP_RESTART__ down\n`, '', 0, 'postfix');
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/^systemctl restart postfix exited 1; postfix NOT running.*Job for postfix.service done/);
  });

  it('without the systemd marker directory, systemctl is never asked (init script, then service)', () => {
    // A unit name no host has, so no real /etc/init.d script runs; `service` is a stub too.
    const unit = 'mailsweep-test-no-such-mta';
    const { d, bin } = systemdHost([unit]);
    script(join(bin, 'service'), `echo "$*" >>'${join(d, 'service-calls')}'`);
    const out = run(serviceRestartFragment([unit], join(d, 'no-systemd')), d, bin);
    expect(existsSync(join(d, 'calls'))).toBe(false);
    expect(readFileSync(join(d, 'service-calls'), 'utf8')).toBe(`${unit} restart\n`);
    expect(out).toContain(`__MAILSWEEP_RESTART__ how service ${unit} restart`);
  });
});
