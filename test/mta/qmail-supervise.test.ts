// qmail-send's restart and the purge's stop/start on every supervision layout, through the real
// /bin/sh. A temporary directory stands for /proc (status, cmdline, environ, cgroup, cwd and exe
// links); every qmail-send in it is a real process (a copy of sleep named qmail-send, started
// under a shell that reaps it) so that kill and kill -0 act on something real; supervisors and
// their control tools (svc, sv, s6-svc, systemctl, qmailctl) are stubs that record their argv and
// start/stop those processes. The bare case also runs against the real /proc. Every process a
// test starts is killed by its pid when the test ends.
import { mtaHost } from '../../src/mta/host.js';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parseQmailQueueText, parseQmailServiceLine } from '../../src/mta/qmail/listing.js';
import { qmailPurge, qmailRestart, qmailRestartResult } from '../../src/mta/qmail/ops.js';
import { qmailSuperviseFragment, type QmailSuperviseOptions } from '../../src/mta/qmail/supervise.js';
import { quote } from '../../src/transport/quote.js';
import { HOSTILE_INPUTS, assertPrintable, fixture, script, tmp } from './helpers.js';

const run = promisify(execFile);
const ME = process.getuid?.() ?? 0;
const SLEEP = execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim();

interface Host {
  d: string;
  bin: string;
  proc: string;
  sup: QmailSuperviseOptions;
}

const hosts: Host[] = [];
const ownPids: number[] = [];

function killAll(): void {
  const pids = new Set(ownPids.splice(0));
  for (const h of hosts.splice(0)) {
    const f = join(h.d, 'pids');
    if (existsSync(f)) for (const p of readFileSync(f, 'utf8').split('\n')) if (/^\d+$/.test(p)) pids.add(Number(p));
  }
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
afterEach(killAll);

/** A fake host: bin (first on PATH), proc (stands for /proc), a qmail-send binary (sleep), fakeqs. */
function host(extra: Partial<QmailSuperviseOptions> = {}): Host {
  const d = tmp('ms-qsv-');
  const bin = join(d, 'bin');
  const proc = join(d, 'proc');
  mkdirSync(bin);
  mkdirSync(proc);
  copyFileSync(SLEEP, join(d, 'qmail-send'));
  chmodSync(join(d, 'qmail-send'), 0o755);
  // fakeqs start PPID: a new qmail-send (parent PPID in the fake /proc); fakeqs stop: end it.
  script(
    join(d, 'fakeqs'),
    [
      `P='${proc}'; D='${d}'`,
      `case "$1" in`,
      `start) rm -f "$D/new"`,
      `  ( "$D/qmail-send" 300 </dev/null >/dev/null 2>&1 & echo $! >"$D/new.tmp"; mv "$D/new.tmp" "$D/new"; wait ) </dev/null >/dev/null 2>&1 &`,
      `  i=0; while [ ! -s "$D/new" ] && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i+1)); done; p=$(cat "$D/new")`,
      `  mkdir -p "$P/$p"; printf 'Name:\\tqmail-send\\nState:\\tS (sleeping)\\nPPid:\\t%s\\nUid:\\t${ME}\\t${ME}\\t${ME}\\t${ME}\\n' "$2" >"$P/$p/status"`,
      `  [ -f "$D/cgroup" ] && cp "$D/cgroup" "$P/$p/cgroup"`,
      `  echo "$p" >"$D/current"; echo "$p" >>"$D/pids";;`,
      `stop) p=$(cat "$D/current" 2>/dev/null) || exit 0; rm -rf "$P/$p"; kill "$p" 2>/dev/null; rm -f "$D/current";;`,
      `esac`,
    ].join('\n'),
  );
  const h: Host = {
    d,
    bin,
    proc,
    sup: {
      procRoot: proc,
      systemdMarker: join(d, 'no-systemd'),
      initScript: join(d, 'no-init'),
      waitSeconds: 5,
      rootUid: ME,
      qmailsUid: ME,
      stateDir: join(d, 'state'),
      ...extra,
    },
  };
  hosts.push(h);
  return h;
}

interface Entry {
  name: string;
  ppid: number;
  uid?: number;
  cwd?: string;
  exe?: string;
  cmdline?: string[];
  environ?: string[];
  cgroup?: string;
}

/** A process in the fake /proc (pids over 4194304 never exist for real). */
function entry(h: Host, pid: number, e: Entry): void {
  const p = join(h.proc, String(pid));
  mkdirSync(p, { recursive: true });
  const u = e.uid ?? ME;
  writeFileSync(join(p, 'status'), `Name:\t${e.name}\nState:\tS (sleeping)\nPPid:\t${e.ppid}\nUid:\t${u}\t${u}\t${u}\t${u}\n`);
  if (e.cwd) symlinkSync(e.cwd, join(p, 'cwd'));
  if (e.exe) symlinkSync(e.exe, join(p, 'exe'));
  if (e.cmdline) writeFileSync(join(p, 'cmdline'), e.cmdline.map((a) => `${a}\0`).join(''));
  if (e.environ) writeFileSync(join(p, 'environ'), e.environ.map((a) => `${a}\0`).join(''));
  if (e.cgroup) writeFileSync(join(p, 'cgroup'), e.cgroup);
}

const calls = (h: Host): string[] => (existsSync(join(h.d, 'calls')) ? readFileSync(join(h.d, 'calls'), 'utf8').trim().split('\n') : []);
const current = (h: Host): string | null => (existsSync(join(h.d, 'current')) ? readFileSync(join(h.d, 'current'), 'utf8').trim() : null);
const F = (h: Host) => `'${join(h.d, 'fakeqs')}'`;

/** A stub tool that records its argv in calls, then runs `body`. */
function tool(h: Host, path: string, body: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  script(path, `echo "\${0##*/} $*" >>'${join(h.d, 'calls')}'\n${body}`);
}

async function sh(h: Host, command: string): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run('/bin/sh', ['-c', command], {
      cwd: h.d,
      env: { ...process.env, PATH: `${h.bin}:${process.env.PATH}` },
      maxBuffer: 16 << 20,
    });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : -1 };
  }
}

/** `qctl ACTION` in a fresh shell (as a later script or --resume would run it). */
async function qctl(h: Host, action: string): Promise<{ rc: number; how: string; out: string }> {
  const r = await sh(h, `${qmailSuperviseFragment(h.sup)}\nqctl ${action}; echo "rc=$?"; echo "how=$qsv_how"`);
  const rc = /^rc=(\d+)$/m.exec(r.stdout);
  return { rc: rc ? Number(rc[1]) : -1, how: /^how=(.*)$/m.exec(r.stdout)?.[1] ?? '', out: r.stdout + r.stderr };
}

async function restart(h: Host) {
  const plan = qmailRestart(mtaHost(), h.sup);
  const r = await sh(h, plan.command.replaceAll('/run/mailsweep-restart.lock', join(h.d, 'restart.lock')));
  return { result: plan.parse(r.stdout, r.stderr, r.code), stdout: r.stdout };
}

// ---------------------------------------------------------------------------
// Layouts: each sets up its supervisor in the fake /proc and a running qmail-send under it.

interface Layout {
  name: string;
  setup(h: Host): Promise<void> | void;
  restart: RegExp;
  stop: RegExp;
  start: RegExp;
}

const SUP = 5000001;

/** daemontools-style: a supervise process whose cwd is `dir`; svc beside supervise's binary or in PATH. */
function supervised(
  kind: 'supervise' | 'runsv' | 's6-supervise',
  dir: (h: Host) => string,
  ctl: { name: string; beside: boolean; t: string; d: string; u: string },
  run = 'exec /var/qmail/rc',
) {
  return async (h: Host): Promise<void> => {
    const sdir = dir(h);
    mkdirSync(join(sdir, 'log'), { recursive: true });
    writeFileSync(join(sdir, 'run'), `#!/bin/sh\n${run}\n`);
    const pkg = join(h.d, 'pkg', kind);
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, kind), '');
    entry(h, SUP, { name: kind, ppid: 5000000, cwd: sdir, exe: join(pkg, kind) });
    entry(h, 5000000, {
      name: kind === 'runsv' ? 'runsvdir' : kind === 's6-supervise' ? 's6-svscan' : 'svscan',
      ppid: 1,
      cwd: join(sdir, '..'),
    });
    const body = `case "$1" in ${ctl.t}) ${F(h)} stop; ${F(h)} start ${SUP};; ${ctl.d}) ${F(h)} stop;; ${ctl.u}) [ -s '${join(h.d, 'current')}' ] || ${F(h)} start ${SUP};; esac`;
    tool(h, ctl.beside ? join(pkg, ctl.name) : join(h.bin, ctl.name), body);
    await sh(h, `${F(h)} start ${SUP}`);
  };
}

const LAYOUTS: Layout[] = [
  {
    name: 'Life with qmail: /service/qmail-send under daemontools, qmailctl present (the supervisor wins)',
    setup: async (h) => {
      await supervised('supervise', (x) => join(x.d, 'service', 'qmail-send'), { name: 'svc', beside: true, t: '-t', d: '-d', u: '-u' })(h);
      tool(h, join(h.bin, 'qmailctl'), 'exit 0');
    },
    restart: /\/pkg\/supervise\/svc -t \S*\/service\/qmail-send \(daemontools\) exited 0/,
    stop: /^svc -d \S*\/service\/qmail-send$/,
    start: /^svc -u \S*\/service\/qmail-send$/,
  },
  {
    name: 'qmailtoaster: /var/qmail/supervise/send, svc in PATH',
    setup: supervised('supervise', (x) => join(x.d, 'var', 'qmail', 'supervise', 'send'), {
      name: 'svc',
      beside: false,
      t: '-t',
      d: '-d',
      u: '-u',
    }),
    restart: /\/bin\/svc -t \S*\/var\/qmail\/supervise\/send \(daemontools\) exited 0/,
    stop: /^svc -d \S*\/supervise\/send$/,
    start: /^svc -u \S*\/supervise\/send$/,
  },
  {
    name: 'Debian daemontools-run: /etc/service/qmail-send, svc in PATH, no qmailctl',
    setup: supervised('supervise', (x) => join(x.d, 'etc', 'service', 'qmail-send'), {
      name: 'svc',
      beside: false,
      t: '-t',
      d: '-d',
      u: '-u',
    }),
    restart: /svc -t \S*\/etc\/service\/qmail-send \(daemontools\) exited 0/,
    stop: /^svc -d \S*\/etc\/service\/qmail-send$/,
    start: /^svc -u \S*\/etc\/service\/qmail-send$/,
  },
  {
    name: "old daemontools (/command): svc beside supervise's binary only, not in PATH",
    setup: async (h) => {
      await supervised('supervise', (x) => join(x.d, 'service', 'qmail-send'), { name: 'svc', beside: true, t: '-t', d: '-d', u: '-u' })(h);
    },
    restart: /\/pkg\/supervise\/svc -t /,
    stop: /^svc -d /,
    start: /^svc -u /,
  },
  {
    name: 'runit: /etc/sv/qmail-send under runsv, sv',
    setup: supervised('runsv', (x) => join(x.d, 'etc', 'sv', 'qmail-send'), { name: 'sv', beside: false, t: 'term', d: 'down', u: 'up' }),
    restart: /\/bin\/sv term \S*\/etc\/sv\/qmail-send \(runit\) exited 0/,
    stop: /^sv down \S*\/etc\/sv\/qmail-send$/,
    start: /^sv up \S*\/etc\/sv\/qmail-send$/,
  },
  {
    name: 's6: s6-supervise, s6-svc beside it',
    setup: supervised('s6-supervise', (x) => join(x.d, 'run', 'service', 'qmail-send'), {
      name: 's6-svc',
      beside: true,
      t: '-t',
      d: '-d',
      u: '-u',
    }),
    restart: /s6-svc -t \S*\/run\/service\/qmail-send \(s6\) exited 0/,
    stop: /^s6-svc -d \S*\/run\/service\/qmail-send$/,
    start: /^s6-svc -u \S*\/run\/service\/qmail-send$/,
  },
  {
    name: 'systemd: qmail.service whose MainPID qmail-send is',
    setup: async (h) => {
      mkdirSync(join(h.d, 'systemd'));
      h.sup.systemdMarker = join(h.d, 'systemd');
      entry(h, 1, { name: 'systemd', ppid: 0 });
      writeFileSync(join(h.d, 'cgroup'), '0::/system.slice/qmail.service\n');
      const cur = join(h.d, 'current');
      tool(
        h,
        join(h.bin, 'systemctl'),
        `case "$1" in show) echo "MainPID=$(cat '${cur}' 2>/dev/null || echo 0)";; restart) ${F(h)} stop; ${F(h)} start 1;; stop) ${F(h)} stop;; start) [ -s '${cur}' ] || ${F(h)} start 1;; *) exit 1;; esac`,
      );
      await sh(h, `${F(h)} start 1`);
    },
    restart: /^systemctl restart qmail\.service exited 0/,
    stop: /^systemctl stop qmail\.service$/,
    start: /^systemctl start qmail\.service$/,
  },
  {
    name: 'no supervisor found, qmailctl in PATH',
    setup: async (h) => {
      entry(h, 1, { name: 'init', ppid: 0 });
      const cur = join(h.d, 'current');
      tool(
        h,
        join(h.bin, 'qmailctl'),
        `case "$1" in restart) ${F(h)} stop; ${F(h)} start 1;; stop) ${F(h)} stop;; start) [ -s '${cur}' ] || ${F(h)} start 1;; esac`,
      );
      await sh(h, `${F(h)} start 1`);
    },
    restart: /^qmailctl restart exited 0/,
    stop: /^qmailctl stop$/,
    start: /^qmailctl start$/,
  },
  {
    name: 'no supervisor found, the init script',
    setup: async (h) => {
      entry(h, 1, { name: 'init', ppid: 0 });
      h.sup.initScript = join(h.d, 'etc', 'init.d', 'qmail');
      const cur = join(h.d, 'current');
      tool(
        h,
        h.sup.initScript,
        `case "$1" in restart) ${F(h)} stop; ${F(h)} start 1;; stop) ${F(h)} stop;; start) [ -s '${cur}' ] || ${F(h)} start 1;; esac`,
      );
      await sh(h, `${F(h)} start 1`);
    },
    restart: /\/etc\/init\.d\/qmail restart exited 0/,
    stop: /^qmail stop$/,
    start: /^qmail start$/,
  },
];

describe('qmail-send restart on each supervision layout (fake /proc, stub tools, real /bin/sh)', () => {
  for (const l of LAYOUTS) {
    it(l.name, async () => {
      const h = host();
      await l.setup(h);
      const before = current(h);
      expect(before).toMatch(/^\d+$/);
      const { result, stdout } = await restart(h);
      expect(result.ok, `${result.detail}\n${stdout}`).toBe(true);
      expect(result.detail).toMatch(l.restart);
      const now = current(h);
      expect(now).not.toBe(before);
      expect(result.detail).toContain(`qmail-send running, pid ${now} (was ${before})`);
      expect(calls(h).filter((c) => !c.startsWith('systemctl show'))).toHaveLength(1);
    });
  }
});

describe("the purge's qctl stop, then qctl start in a later shell (as after a failure or on --resume)", () => {
  for (const l of LAYOUTS) {
    it(l.name, async () => {
      const h = host();
      await l.setup(h);
      const before = current(h);
      const stop = await qctl(h, 'stop');
      expect(stop.rc, stop.out).toBe(0);
      expect(current(h)).toBeNull();
      expect(calls(h).filter((c) => !c.startsWith('systemctl show'))).toEqual([expect.stringMatching(l.stop)]);
      expect(readdirSync(join(h.d, 'state'))).toContain('mode');
      // Stopping again finds it down and keeps the record of the first stop.
      const again = await qctl(h, 'stop');
      expect(again.rc).toBe(0);
      expect(again.how).toMatch(/^none: qmail-send already stopped/);
      const start = await qctl(h, 'start');
      expect(start.rc, start.out).toBe(0);
      expect(
        calls(h)
          .filter((c) => !c.startsWith('systemctl show'))
          .slice(1),
      ).toEqual([expect.stringMatching(l.start)]);
      expect(current(h)).toMatch(/^\d+$/);
      expect(current(h)).not.toBe(before);
      expect(existsSync(join(h.d, 'state'))).toBe(false);
    });
  }
});

describe('supervisor edge cases', () => {
  it('a run script without exec: supervise → sh → qmail-send; svc, and qmail-send itself gets TERM', async () => {
    const h = host();
    const sdir = join(h.d, 'service', 'qmail-send');
    mkdirSync(sdir, { recursive: true });
    entry(h, SUP, { name: 'supervise', ppid: 1, cwd: sdir, exe: join(h.d, 'nowhere', 'supervise') });
    entry(h, 5000005, { name: 'sh', ppid: SUP });
    const cur = join(h.d, 'current');
    // svc -t ends the shell only; supervise runs `run` again once the old qmail-send is gone.
    tool(
      h,
      join(h.bin, 'svc'),
      `case "$1" in -t) old=$(cat '${cur}'); ( while kill -0 "$old" 2>/dev/null; do sleep 0.1; done; ${F(h)} stop; ${F(h)} start 5000005 ) </dev/null >/dev/null 2>&1 & ;; -u) [ -s '${cur}' ] || ${F(h)} start 5000005;; esac`,
    );
    await sh(h, `${F(h)} start 5000005`);
    const before = current(h);
    const { result, stdout } = await restart(h);
    expect(result.ok, stdout).toBe(true);
    expect(result.detail).toMatch(
      /^\S*\/bin\/svc -t \S*\/service\/qmail-send \(daemontools\) exited 0; qmail-send running, pid \d+ \(was \d+\)$/,
    );
    expect(current(h)).not.toBe(before);
    // The purge's stop: svc -d, and the old qmail-send must really be gone.
    const stop = await qctl(h, 'stop');
    expect(stop.rc, stop.out).toBe(0);
    expect(calls(h).at(-1)).toMatch(/^svc -d /);
  });

  it('a supervisor without its control tool: the stop fails and nothing is stopped', async () => {
    const h = host();
    const sdir = join(h.d, 'etc', 'sv', 'qmail-send');
    mkdirSync(sdir, { recursive: true });
    entry(h, SUP, { name: 'runsv', ppid: 1, cwd: sdir, exe: join(h.d, 'nowhere', 'runsv') });
    await sh(h, `${F(h)} start ${SUP}`);
    const before = current(h);
    // sv is nowhere: not beside runsv, not in PATH (PATH is reduced to the stub dir and the system's).
    const r = await sh(h, `PATH='${h.bin}':/usr/bin:/bin\n${qmailSuperviseFragment(h.sup)}\nqctl stop; echo "rc=$?"`);
    expect(r.stdout).toMatch(/runs under runit in .*, but no control tool for it was found\nrc=1/);
    expect(current(h)).toBe(before);
    expect(existsSync(`/proc/${before}`)).toBe(true);
  });

  it('a supervisor not running as root, or qmail-send not running as qmails, is not believed', async () => {
    const h = host();
    const sdir = join(h.d, 'home', 'eve', 'svc');
    mkdirSync(sdir, { recursive: true });
    entry(h, SUP, { name: 'supervise', ppid: 1, uid: ME + 1, cwd: sdir, exe: join(h.d, 'eve') });
    tool(h, join(h.bin, 'svc'), 'exit 0');
    await sh(h, `${F(h)} start ${SUP}`);
    const r = await qctl(h, 'stop');
    // Not supervised as far as qmail-send's stop is concerned: the bare way (refused: no qmail-lspawn
    // child and its binary is the test's own, accepted) — but never svc in eve's directory.
    expect(calls(h)).toEqual([]);
    expect(r.how).not.toContain('svc');
    // A qmail-send of another uid is no qmail-send at all.
    const h2 = host({ qmailsUid: ME + 1 });
    entry(h2, 1, { name: 'init', ppid: 0 });
    await sh(h2, `${F(h2)} start 1`);
    const r2 = await qctl(h2, 'stop');
    expect(r2.how).toBe('none: qmail-send is not running');
    expect(existsSync(`/proc/${current(h2)}`)).toBe(true);
  });

  it('start with no record finds the supervisor whose service is qmail-send (a record lost, e.g. /run cleared)', async () => {
    const h = host();
    const sdir = join(h.d, 'etc', 'service', 'mta');
    mkdirSync(sdir, { recursive: true });
    writeFileSync(join(sdir, 'run'), '#!/bin/sh\nexec env - PATH="/var/qmail/bin:$PATH" qmail-start ./Maildir/\n');
    const other = join(h.d, 'etc', 'service', 'qmail-smtpd');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'run'), '#!/bin/sh\nexec tcpserver 0 smtp qmail-smtpd\n');
    entry(h, 5000007, { name: 'supervise', ppid: 1, cwd: other, exe: join(h.d, 'nowhere', 'supervise') });
    entry(h, SUP, { name: 'supervise', ppid: 1, cwd: sdir, exe: join(h.d, 'nowhere', 'supervise') });
    tool(h, join(h.bin, 'svc'), `[ "$1" = -u ] && ${F(h)} start ${SUP}`);
    const r = await qctl(h, 'start');
    expect(r.rc, r.out).toBe(0);
    expect(calls(h)).toEqual([`svc -u ${sdir}`]);
    expect(current(h)).toMatch(/^\d+$/);
  });

  it('nothing to restart with: how none, and the detail says why', async () => {
    const h = host();
    const { result, stdout } = await restart(h);
    expect(stdout).toContain('__MAILSWEEP_RESTART__ how none');
    expect(result).toEqual({
      ok: false,
      detail:
        'qmail-send: no way to restart found: qmail-send is not running, and no record of how it ran, no supervisor for it, qmailctl or init script was found',
    });
  });

  it('the same pid afterwards is no restart', () => {
    const out =
      '__MAILSWEEP_RESTART__ before 42\n__MAILSWEEP_RESTART__ how svc -t /service/qmail-send (daemontools)\n__MAILSWEEP_RESTART__ rc 0\n__MAILSWEEP_RESTART__ running 42\n';
    const r = qmailRestartResult(out, '', 0);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(
      /^svc -t \/service\/qmail-send \(daemontools\) exited 0; qmail-send running, pid 42 \(same pid as before\): not restarted/,
    );
  });

  it("a hostile server's how line reaches the report printable", () => {
    const r = qmailRestartResult(
      '__MAILSWEEP_RESTART__ before 1\n__MAILSWEEP_RESTART__ how svc -t /x\u001b]0;pwned\u0007\u202e (daemontools)\n__MAILSWEEP_RESTART__ rc 0\n__MAILSWEEP_RESTART__ running 2\n',
      '',
      0,
    );
    expect(r.ok).toBe(true);
    // eslint-disable-next-line no-control-regex
    expect(r.detail).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(r.detail).toMatch(/^svc -t \/x.*\(daemontools\) exited 0; qmail-send running, pid 2 \(was 1\)$/);
  });

  it('a service directory with control characters reaches the report printable', async () => {
    const h = host();
    const sdir = join(h.d, 'service', 'q\u001b[31mx\nsend');
    mkdirSync(sdir, { recursive: true });
    entry(h, SUP, { name: 'supervise', ppid: 1, cwd: sdir, exe: join(h.d, 'nowhere', 'supervise') });
    tool(h, join(h.bin, 'svc'), `case "$1" in -t) ${F(h)} stop; ${F(h)} start ${SUP};; esac`);
    await sh(h, `${F(h)} start ${SUP}`);
    const { result } = await restart(h);
    expect(result.ok).toBe(true);
    expect(result.detail).toContain('/service/q?[31mx?send (daemontools) exited 0');
    // eslint-disable-next-line no-control-regex
    expect(result.detail).not.toMatch(/[\u0000-\u001f]/);
  });
});

// ---------------------------------------------------------------------------
// No supervisor: TERM, then its own recorded command line and environment.

/** A qmail-send under a shell that reaps it, env and cwd as given; its pid. */
async function bareProcess(h: Host, env: Record<string, string>, cwd: string, args: string[], name = 'qmail-send'): Promise<number> {
  const assigns = Object.entries(env)
    .map(([k, v]) => quote(`${k}=${v}`))
    .join(' ');
  const pidFile = join(h.d, 'bare.pid');
  const r = await sh(
    h,
    `( cd ${quote(cwd)} || exit 1; env -i ${assigns} ${quote(join(h.d, name))} ${args.map(quote).join(' ')} </dev/null >/dev/null 2>&1 & echo $! >${quote(pidFile)}; wait ) </dev/null >/dev/null 2>&1 &\n` +
      `i=0; while [ ! -s ${quote(pidFile)} ] && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i+1)); done; cat ${quote(pidFile)}`,
  );
  const pid = Number(r.stdout.trim());
  expect(pid).toBeGreaterThan(1);
  ownPids.push(pid);
  return pid;
}

const nul = (f: string): string[] => readFileSync(f, 'latin1').split('\0').slice(0, -1);

describe('bare qmail-send, no supervisor (real processes)', () => {
  it('real /proc: TERM, then its own command line, environment and directory, detached; a new pid', async () => {
    // A name of its own: other runs of this suite may have their qmail-send copies in /proc now.
    const name = `qs-${process.pid}-${Date.now() % 1000}`.slice(0, 15);
    const h = host({ procRoot: '/proc', processName: name });
    copyFileSync(SLEEP, join(h.d, name));
    chmodSync(join(h.d, name), 0o755);
    const pbin = join(h.d, 'pbin');
    mkdirSync(pbin, { mode: 0o755 });
    const cwd = join(h.d, "cwd it's $(touch PWNED)");
    mkdirSync(cwd);
    const old = await bareProcess(
      h,
      { PATH: ME === 0 ? `${pbin}:/usr/bin:/bin` : pbin, MS_X: 'a b\nc $(touch PWNED)', LD_LIBRARY_PATH: '/nonexistent' },
      cwd,
      ['300'],
      name,
    );
    const { result, stdout } = await restart(h);
    expect(result.ok, `${result.detail}\n${stdout}`).toBe(true);
    const m = /running, pid (\d+) \(was (\d+)\)/.exec(result.detail);
    expect(m?.[2]).toBe(String(old));
    const pid = Number(m?.[1]);
    ownPids.push(pid);
    expect(result.detail).toContain(
      `TERM pid ${old}, then ${join(h.d, name)} 300 (no supervisor: recorded command line and environment, detached) exited 0`,
    );
    expect(existsSync(`/proc/${old}/status`) && /State:\s*[^Z]/.test(readFileSync(`/proc/${old}/status`, 'utf8'))).toBe(false);
    expect(nul(`/proc/${pid}/cmdline`)).toEqual([join(h.d, name), '300']);
    const env = nul(`/proc/${pid}/environ`);
    expect(env).toContain('MS_X=a b\nc $(touch PWNED)');
    expect(env.some((e) => e.startsWith('LD_'))).toBe(false);
    expect(execFileSync('readlink', [`/proc/${pid}/cwd`], { encoding: 'utf8' }).trim()).toBe(cwd);
    // Detached: its own session.
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]).toBe(String(pid));
    expect(existsSync(join(h.d, 'PWNED')) || existsSync(join(cwd, 'PWNED'))).toBe(false);
    expect(existsSync(join(h.d, 'state'))).toBe(false);
  });

  /** qmail-start's layout in the fake /proc: qmail-send (real) with lspawn, rspawn, clean and a logger. */
  async function qmailStartTree(pathDirs: string) {
    const h = host();
    const qbin = join(h.d, 'var', 'qmail', 'bin');
    mkdirSync(qbin, { recursive: true });
    writeFileSync(join(qbin, 'qmail-send'), '');
    // The stub qmail-start records what it got, then becomes the new qmail-send (same pid).
    script(
      join(qbin, 'qmail-start'),
      [
        `for a in "$@"; do printf '%s\\0' "$a"; done >'${h.d}/start.argv'`,
        `cat /proc/$$/environ >'${h.d}/start.env'; pwd >'${h.d}/start.cwd'`,
        `mkdir -p '${h.proc}'/$$; printf 'Name:\\tqmail-send\\nState:\\tS\\nPPid:\\t1\\nUid:\\t${ME}\\t${ME}\\t${ME}\\t${ME}\\n' >'${h.proc}'/$$/status`,
        `echo $$ >>'${h.d}/pids'; echo $$ >'${h.d}/current'`,
        `exec '${join(h.d, 'qmail-send')}' 300`,
      ].join('\n'),
    );
    chmodSync(qbin, 0o755);
    const qcwd = join(h.d, 'var', 'qmail', 'queue');
    mkdirSync(qcwd);
    entry(h, 1, { name: 'init', ppid: 0 });
    const pid = await bareProcess(h, {}, qcwd, ['300']);
    // Its status is the real one (so a TERM shows), the rest is qmail-start's picture.
    const p = join(h.proc, String(pid));
    mkdirSync(p);
    symlinkSync(`/proc/${pid}/status`, join(p, 'status'));
    writeFileSync(join(p, 'cmdline'), 'qmail-send\0');
    writeFileSync(join(p, 'environ'), `PATH=${pathDirs}\0MS_Y=x'y\0LD_PRELOAD=/tmp/evil.so\x001BAD=no\0`);
    symlinkSync(qcwd, join(p, 'cwd'));
    symlinkSync(join(qbin, 'qmail-send'), join(p, 'exe'));
    entry(h, 5000011, { name: 'qmail-lspawn', ppid: pid, cmdline: ['qmail-lspawn', './Maildir/ x'] });
    entry(h, 5000012, { name: 'qmail-rspawn', ppid: pid, cmdline: ['qmail-rspawn'] });
    entry(h, 5000013, { name: 'qmail-clean', ppid: pid, cmdline: ['qmail-clean'] });
    entry(h, 5000014, { name: 'splogger', ppid: pid, cmdline: ['splogger', "qm'ail $(touch PWNED)"] });
    return { h, pid, qbin, qcwd };
  }

  it('qmail-start from rc: rebuilt from its children (qmail-lspawn argument, the logger), restarted', async () => {
    const { h, pid, qbin, qcwd } = await qmailStartTree(ME === 0 ? '/usr/bin:/bin' : join(tmp(), 'nope'));
    const { result, stdout } = await restart(h);
    expect(result.ok, `${result.detail}\n${stdout}`).toBe(true);
    expect(result.detail).toContain(`TERM pid ${pid}, then ${qbin}/qmail-start ./Maildir/ x splogger qm'ail $(touch PWNED) (no supervisor`);
    expect(nul(join(h.d, 'start.argv'))).toEqual(['./Maildir/ x', 'splogger', "qm'ail $(touch PWNED)"]);
    const env = nul(join(h.d, 'start.env'));
    expect(env).toEqual([ME === 0 ? 'PATH=/usr/bin:/bin' : expect.any(String), "MS_Y=x'y"]);
    expect(readFileSync(join(h.d, 'start.cwd'), 'utf8').trim()).toBe(qcwd);
    expect(existsSync(join(h.d, 'PWNED')) || existsSync(join(qcwd, 'PWNED'))).toBe(false);
    expect(current(h)).not.toBe(String(pid));
  });

  it('the purge: stop records, a later start (fresh shell, as --resume) starts it from the record', async () => {
    const { h, pid } = await qmailStartTree('/usr/bin:/bin');
    const stop = await qctl(h, 'stop');
    expect(stop.rc, stop.out).toBe(0);
    expect(stop.how).toMatch(new RegExp(`^TERM pid ${pid}, then `));
    const st = join(h.d, 'state');
    expect(readFileSync(join(st, 'mode'), 'utf8')).toBe('bare');
    expect(statSync(st).mode & 0o077).toBe(0);
    const start = await qctl(h, 'start');
    expect(start.rc, start.out).toBe(0);
    expect(start.out).toMatch(/qmail-send started \(pid \d+\)/);
    expect(nul(join(h.d, 'start.argv'))).toEqual(['./Maildir/ x', 'splogger', "qm'ail $(touch PWNED)"]);
    expect(existsSync(st)).toBe(false);
  });

  it('refuses to stop what it could not start again safely: a PATH directory anyone may write', async () => {
    const { h, pid } = await qmailStartTree('/usr/bin:/tmp');
    const stop = await qctl(h, 'stop');
    expect(stop.rc).toBe(1);
    expect(stop.out).toContain('PATH directory /tmp is not root');
    expect(stop.out).toContain(`qmail-send (pid ${pid}) not stopped`);
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    expect(existsSync(join(h.d, 'state'))).toBe(false);
  });

  it('refuses with two unknown children (which one is the logger?)', async () => {
    const { h, pid } = await qmailStartTree('/usr/bin:/bin');
    entry(h, 5000015, { name: 'cat', ppid: pid, cmdline: ['cat'] });
    const stop = await qctl(h, 'stop');
    expect(stop.rc).toBe(1);
    expect(stop.out).toContain('cannot tell qmail-start');
    expect(existsSync(`/proc/${pid}`)).toBe(true);
  });

  it('an unsafe state directory (a symlink) is not used, and nothing is stopped', async () => {
    const { h, pid } = await qmailStartTree('/usr/bin:/bin');
    symlinkSync(tmp(), join(h.d, 'state'));
    const stop = await qctl(h, 'stop');
    expect(stop.rc).toBe(1);
    expect(stop.out).toContain('unsafe state directory');
    expect(existsSync(`/proc/${pid}`)).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// The purge itself (ops.ts, scripts/purge.sh) on a supervised layout: svc -d, removal, svc -u.

describe('qmail purge through /bin/sh with qmail-send under daemontools', () => {
  it('stops qmail-send with svc -d, removes the bounce, starts it with svc -u', async () => {
    const h = host();
    await supervised('supervise', (x) => join(x.d, 'etc', 'service', 'qmail-send'), {
      name: 'svc',
      beside: false,
      t: '-t',
      d: '-d',
      u: '-u',
    })(h);
    const q = join(h.d, 'queue');
    for (const sub of ['mess', 'info', 'local', 'remote']) mkdirSync(join(q, sub, '5'), { recursive: true });
    for (const sub of ['intd', 'todo', 'bounce']) mkdirSync(join(q, sub), { recursive: true });
    writeFileSync(join(q, 'mess', '5', '1002'), 'Received: (qmail 9 invoked for bounce); 14 Nov 2023 22:13:20 -0000\n\nbody\n');
    writeFileSync(join(q, 'info', '5', '1002'), 'F\0');
    writeFileSync(join(q, 'remote', '5', '1002'), 'Tvictim@example.net\0');
    const plan = qmailPurge(
      mtaHost(undefined, { queue_directory: q }),
      { ids: ['1002'], match: { kind: 'bounce' }, mode: 'delete', expect: { '1002': { sender: '', recipients: ['victim@example.net'] } } },
      h.sup,
    );
    const command = plan.command;
    const before = current(h);
    const r = spawnSync('/bin/sh', ['-c', command], {
      cwd: h.d,
      input: (plan as { stdin?: string }).stdin ?? '',
      encoding: 'utf8',
      env: { ...process.env, PATH: `${h.bin}:${process.env.PATH}` },
    });
    const result = plan.parse(r.stdout, r.stderr, r.status);
    expect(result.done, r.stdout).toEqual(['1002']);
    expect(existsSync(join(q, 'info', '5', '1002'))).toBe(false);
    expect(calls(h)).toEqual([
      expect.stringMatching(/^svc -d \S*\/etc\/service\/qmail-send$/),
      expect.stringMatching(/^svc -u \S*\/etc\/service\/qmail-send$/),
    ]);
    expect(current(h)).toMatch(/^\d+$/);
    expect(current(h)).not.toBe(before);
  });
});

// ---------------------------------------------------------------------------
// `mailsweep parse --mta qmail --kind queue` on qmailctl stat output.

function parseCli(input: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'parse', '--mta', 'qmail', '--kind', 'queue'], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return {
    code: r.status,
    json: JSON.parse(r.stdout) as {
      total: number;
      reportedTotal: number | null;
      services?: unknown[];
      warnings: string[];
      messages: { id: string }[];
    },
  };
}

describe('parse --mta qmail --kind queue: qmailctl stat', () => {
  it('Life with qmail qmailctl stat: the services reported, the total counted, nothing unparsed', () => {
    const { code, json } = parseCli(fixture('qmail', 'qmailctl-stat.txt'));
    expect(code).toBe(0);
    expect(json.reportedTotal).toBe(1387);
    expect(json.total).toBe(0);
    expect(json.warnings).toEqual([]);
    expect(json.services).toEqual([
      { service: '/service/qmail-send', state: 'up', pid: 4127, seconds: 86411 },
      { service: '/service/qmail-send/log', state: 'up', pid: 4131, seconds: 86411 },
      { service: '/service/qmail-smtpd', state: 'up', pid: 4129, seconds: 3307 },
      { service: '/service/qmail-smtpd/log', state: 'up', pid: 4133, seconds: 86411 },
    ]);
  });

  it('qmailctl stat followed by qmail-qread (qmailtoaster paths, a service down): counts, listing, the down ones said', () => {
    const { code, json } = parseCli(fixture('qmail', 'qmailctl-stat-qread.txt'));
    expect(code).toBe(0);
    expect(json.messages.map((m) => m.id)).toEqual(['1183204', '1183210']);
    expect(json.reportedTotal).toBe(2);
    expect(json.services).toHaveLength(3);
    expect(json.warnings).toEqual([
      '1 message(s) not yet preprocessed: counted by qmail-qstat, not listed by qmail-qread',
      'service /var/qmail/supervise/send is down (normally up)',
      'service /var/qmail/supervise/smtp is not running',
    ]);
  });

  it('plain qmail-qstat and plain qmail-qread still parse as before; runit sv stat lines are services too', () => {
    expect(parseCli(fixture('qmail', 'qstat.txt')).json).toMatchObject({ total: 0, reportedTotal: 4, warnings: [] });
    const qread = parseCli(fixture('qmail', 'qread.txt')).json;
    expect(qread.total).toBe(4);
    const sv = parseCli(
      'run: /etc/service/qmail-send: (pid 812) 3600s; run: log: (pid 811) 3600s\nmessages in queue: 7\nmessages in queue but not yet preprocessed: 0\n',
    ).json;
    expect(sv.reportedTotal).toBe(7);
    expect(sv.services).toEqual([
      { service: '/etc/service/qmail-send', state: 'up', pid: 812, seconds: 3600, note: 'run: log: (pid 811) 3600s' },
    ]);
    expect(sv.warnings).toEqual([]);
  });

  it('a hostile service line is printable and not counted; garbage stays a warning', () => {
    const { json } = parseCli('/service/q\u001b]0;x\u0007send: up (pid 1) 2 seconds\nmessages in queue: 1\nrm -rf /\n');
    expect(json.reportedTotal).toBe(1);
    expect(JSON.stringify(json.services)).not.toMatch(/\\u001b|\\u0007/);
    expect(json.warnings.some((w) => w.includes('rm -rf /'))).toBe(true);
  });
});

describe('parseQmailServiceLine', () => {
  it('reads svstat (daemontools, -encore) and sv stat lines; anything else is not a service line', () => {
    expect(parseQmailServiceLine('/service/qmail-send: up (pid 30303) 187 seconds, normally down, want down')).toEqual({
      service: '/service/qmail-send',
      state: 'up',
      pid: 30303,
      seconds: 187,
      note: 'normally down, want down',
    });
    expect(parseQmailServiceLine('/etc/service/qmail-send: down 3 seconds, normally up, want up')).toEqual({
      service: '/etc/service/qmail-send',
      state: 'down',
      seconds: 3,
      note: 'normally up, want up',
    });
    expect(parseQmailServiceLine('/service/qmail-send: unable to open supervise/ok: file does not exist')).toEqual({
      service: '/service/qmail-send',
      state: 'unknown',
      note: 'unable to open supervise/ok: file does not exist',
    });
    expect(parseQmailServiceLine('down: /etc/sv/qmail-send: 12s, normally up')).toEqual({
      service: '/etc/sv/qmail-send',
      state: 'down',
      seconds: 12,
      note: 'normally up',
    });
    expect(parseQmailServiceLine('fail: qmail-send: unable to change to service directory: file does not exist')).toMatchObject({
      service: 'qmail-send',
      state: 'fail',
    });
    for (const l of ['messages in queue: 3', '14 Nov 2023 22:13:20 GMT  #1  2  <a@b> ', 'up (pid 1) 2 seconds', ''])
      expect(parseQmailServiceLine(l), l).toBeNull();
  });
});

describe('parseQmailQueueText', () => {
  it('never throws on hostile input; warnings and service names stay printable', () => {
    for (const input of [...HOSTILE_INPUTS, `/service/x\u202e: up (pid 1) 2 seconds, \u001b[2J\n${'/s: down 1 seconds\n'.repeat(300)}`]) {
      const l = parseQmailQueueText(input, 1700000600);
      assertPrintable(l.warnings);
      // eslint-disable-next-line no-control-regex
      for (const sv of l.services ?? []) expect(`${sv.service} ${sv.note ?? ''}`).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    }
  });
});
