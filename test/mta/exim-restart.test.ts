// exim's restart (scripts/restart.sh + probe.sh) through the real /bin/sh against stub tools: the
// daemon found by its pid file and woken first (a purge killed outright may have left it
// SIGSTOPped), the first of exim4 / exim that exists restarted, then the daemon waited for.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exim } from '../../src/mta/exim/adapter.js';
import { EXIM_PID_FILES } from '../../src/mta/exim/host.js';
import { mtaHost } from '../../src/mta/host.js';
import type { RestartResult } from '../../src/mta/types.js';
import { runPlan, script, tmp } from './helpers.js';

const children: number[] = [];
afterEach(() => {
  for (const pid of children.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** The restart, its absolute host paths pointed into `d` (it never touches this machine's MTA). */
function restartIn(d: string, opts: { systemd?: boolean; pidFile?: string } = {}): { result: RestartResult; stdout: string } {
  const plan = exim.ops.restart(mtaHost());
  let command: string = plan.command
    .replaceAll('/run/systemd/system', join(d, opts.systemd ? 'systemd' : 'no-systemd'))
    .replaceAll('/etc/init.d/', `${join(d, 'init.d')}/`)
    .replaceAll('/run/mailsweep-restart.lock', join(d, 'restart.lock'))
    .replace('\nMS_PGREP=1\n', "\nMS_PGREP=''\n")
    .replace('\nMS_WAIT=20\n', '\nMS_WAIT=1\n');
  EXIM_PID_FILES.forEach((f, i) => {
    command = command.replaceAll(f, i === 0 && opts.pidFile ? opts.pidFile : join(d, `absent-${i}.pid`));
  });
  expect(command).not.toMatch(/\/etc\/init\.d|\/run\/systemd|\/run\/mailsweep|\/run\/exim|\/var\/run|\/var\/spool/);
  return runPlan({ ...plan, command: command as typeof plan.command }, d, join(d, 'bin'));
}

function stubs(d: string): void {
  mkdirSync(join(d, 'bin'));
  script(
    join(d, 'bin', 'systemctl'),
    `echo "$*" >>'${join(d, 'systemctl-calls')}'; case "$1 $2" in "cat exim.service"|"restart exim.service") exit 0;; esac; exit 1`,
  );
  script(join(d, 'bin', 'service'), `echo "$*" >>'${join(d, 'service-calls')}'`);
}

/** A stand-in daemon: a sleeping process, SIGSTOPped as a purge killed mid-window leaves it. */
function stoppedDaemon(d: string): { pid: number; pidFile: string } {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const pid = child.pid!;
  children.push(pid);
  process.kill(pid, 'SIGSTOP');
  const pidFile = join(d, 'exim-daemon.pid');
  writeFileSync(pidFile, `${pid}\n`);
  return { pid, pidFile };
}

const state = (pid: number): string => /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '?';

describe('exim restart through /bin/sh (stub tools)', () => {
  it('wakes a stopped daemon first, restarts through `service` (no systemd, no init script), reports the pid', async () => {
    const d = tmp();
    stubs(d);
    const daemon = stoppedDaemon(d);
    await new Promise((r) => setTimeout(r, 50));
    expect(state(daemon.pid)).toBe('T');
    const { result, stdout } = restartIn(d, { pidFile: daemon.pidFile });
    expect(stdout).toContain(`__MAILSWEEP_RESTART__ before ${daemon.pid}`);
    expect(state(daemon.pid)).not.toBe('T');
    expect(readFileSync(join(d, 'service-calls'), 'utf8')).toBe('exim4 restart\n');
    expect(existsSync(join(d, 'systemctl-calls'))).toBe(false);
    expect(result).toEqual({ ok: true, detail: `service exim4 restart exited 0; exim running, pid ${daemon.pid} (same pid as before)` });
  });

  it('under systemd: the first unit that exists (exim4, then exim)', () => {
    const d = tmp();
    stubs(d);
    mkdirSync(join(d, 'systemd'));
    const daemon = stoppedDaemon(d);
    const { result } = restartIn(d, { systemd: true, pidFile: daemon.pidFile });
    expect(readFileSync(join(d, 'systemctl-calls'), 'utf8')).toBe('cat exim4.service\ncat exim.service\nrestart exim.service\n');
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/^systemctl restart exim exited 0; exim running/);
  });

  it('no daemon afterwards: not ok, and says so', () => {
    const d = tmp();
    stubs(d);
    const { result, stdout } = restartIn(d);
    expect(stdout).toContain('__MAILSWEEP_RESTART__ before none');
    expect(result).toEqual({ ok: false, detail: 'service exim4 restart exited 0; exim NOT running afterwards' });
  });
});
