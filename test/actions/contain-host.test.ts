// `contain` / `release` on a host without cPanel: the inventory's contain_commands and doveadm kick,
// run by the real engine through LocalTransport and a real /bin/sh, with stub tools. The account
// reaches a command only on its stdin (a hostile one included) and never in its text; a newline
// is refused before anything runs; what a `check` finds already in place is never released.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostSpec } from '../../src/inventory/types.js';
import { type RunOptions } from '../../src/playbook/engine.js';
import { LocalTransport } from '../../src/transport/local.js';
import { localHost, runLocalPlaybook } from '../playbook/local-host.js';

const dir = mkdtempSync(join(tmpdir(), 'ms-contain-host-'));
const PATH = process.env.PATH;
afterEach(() => void (process.env.PATH = PATH));

const CONTAIN = `
name: contain
vars: { account: "", measures: "" }
steps:
  - { name: Contain, id: contain, action: contain, confirm: true, params: { account: "{{ account }}", measures: "{{ measures }}" } }
`;
const RELEASE = `
name: release
vars: { account: "" }
steps:
  - { name: Release, id: release, action: release, confirm: true, params: { account: "{{ account }}" } }
`;

/** A check_sasl_access-like map per measure: contain appends the account, release removes it. */
function commands(d: string, withCheck = true) {
  const map = (m: string) => `'${join(d, m)}'`;
  const measure = (m: string) => ({
    contain: `IFS= read -r u; printf '%s\\n' "$u" >> ${map(m)}`,
    release: `IFS= read -r u; grep -vxF -- "$u" ${map(m)} > ${map(m)}.new; mv ${map(m)}.new ${map(m)}`,
    ...(withCheck ? { check: `IFS= read -r u; grep -qxF -- "$u" ${map(m)}` } : {}),
  });
  for (const m of ['hold', 'suspend_login']) writeFileSync(join(d, m), '');
  return { hold: measure('hold'), suspend_login: measure('suspend_login') };
}

function host(vars: Record<string, unknown>): HostSpec {
  return { ...localHost('mx2', 'postfix'), vars };
}

async function run(
  pb: string,
  vars: Record<string, unknown>,
  hostVars: Record<string, unknown>,
  runsDir: string,
  o: Partial<RunOptions> = {},
) {
  return runLocalPlaybook(pb, host(hostVars), { vars, runsDir, ...o });
}
const fresh = () => {
  const d = mkdtempSync(join(dir, 'case-'));
  mkdirSync(join(d, 'runs'));
  return d;
};
const read = (d: string, m: string) => readFileSync(join(d, m), 'utf8');

describe('contain_commands', () => {
  it('a hostile account reaches the commands only on stdin: nothing it says runs, the map holds it verbatim, release removes it', async () => {
    const d = fresh();
    const account = `$(touch ${join(d, 'pwned')})\`touch ${join(d, 'pwned2')}\`'"x@example.test`;
    const vars = { contain_commands: commands(d) };
    const c = await run(CONTAIN, { account, measures: 'hold,suspend_login' }, vars, join(d, 'runs'));
    expect(c.out.status, c.out.error).toBe('ok');
    expect(existsSync(join(d, 'pwned'))).toBe(false);
    expect(existsSync(join(d, 'pwned2'))).toBe(false);
    expect(read(d, 'hold')).toBe(`${account}\n`);
    expect(read(d, 'suspend_login')).toBe(`${account}\n`);
    const cmds = c.events.filter((e) => e.t === 'command');
    expect(cmds.length).toBe(4); // check + contain, per measure
    for (const e of cmds) {
      expect(e.cmd).not.toContain('touch');
      expect(e.stdin).toBe(`${account}\n`);
    }
    expect(c.effects.map((e) => [e.key, e.detail!.prior, e.detail!.via])).toEqual([
      ['contain:hold', 'off', 'command'],
      ['contain:suspend_login', 'off', 'command'],
    ]);
    const x = await run(RELEASE, { account }, vars, join(d, 'runs'));
    expect(x.out.status, x.out.error).toBe('ok');
    expect([read(d, 'hold'), read(d, 'suspend_login')]).toEqual(['', '']);
    expect(existsSync(join(d, 'pwned'))).toBe(false);
  });

  it('an account with a newline is refused before any command runs', async () => {
    const d = fresh();
    const c = await run(
      CONTAIN,
      { account: 'bob@example.test\nroot', measures: 'hold' },
      { contain_commands: commands(d) },
      join(d, 'runs'),
    );
    expect(c.out.status).toBe('failed');
    expect(c.out.error).toMatch(/holds a newline or control character: refused/);
    expect(c.events.filter((e) => e.t === 'command')).toEqual([]);
    expect(read(d, 'hold')).toBe('');
  });

  it('already in place (check exits 0): recorded, not contained again, and release leaves it', async () => {
    const d = fresh();
    const vars = { contain_commands: commands(d) };
    writeFileSync(join(d, 'hold'), 'bob@example.test\n');
    const c = await run(CONTAIN, { account: 'bob@example.test', measures: 'hold,suspend_login' }, vars, join(d, 'runs'));
    expect(c.out.status, c.out.error).toBe('ok');
    expect(read(d, 'hold')).toBe('bob@example.test\n'); // not appended twice
    expect(c.effects.map((e) => [e.key, e.detail!.prior, e.detail!.applied])).toEqual([
      ['contain:hold', 'on', false],
      ['contain:suspend_login', 'off', true],
    ]);
    const x = await run(RELEASE, { account: 'bob@example.test' }, vars, join(d, 'runs'));
    expect(x.out.status, x.out.error).toBe('ok');
    expect(read(d, 'hold')).toBe('bob@example.test\n');
    expect(read(d, 'suspend_login')).toBe('');
  });

  it('a failing contain command is a step error and nothing is recorded as done', async () => {
    const d = fresh();
    const vars = {
      contain_commands: { hold: { contain: 'cat >/dev/null; echo "postmap: fatal: open map" >&2; exit 75', release: 'true' } },
    };
    const c = await run(CONTAIN, { account: 'bob@example.test', measures: 'hold' }, vars, join(d, 'runs'));
    expect(c.out.status).toBe('failed');
    expect(c.out.error).toMatch(/contain_commands.hold.contain failed \(exit 75\): postmap: fatal: open map/);
    expect(c.effects).toEqual([]);
  });

  it('without a check the state before is unknown: --yes alone does not release it, --force does', async () => {
    const d = fresh();
    const vars = { contain_commands: commands(d, false) };
    const c = await run(CONTAIN, { account: 'bob@example.test', measures: 'hold' }, vars, join(d, 'runs'));
    expect(c.out.status, c.out.error).toBe('ok');
    expect(c.effects[0]!.detail).toMatchObject({ prior: 'unknown', applied: true });
    const x = await run(RELEASE, { account: 'bob@example.test' }, vars, join(d, 'runs'));
    expect(x.out.status).toBe('failed');
    expect(x.out.error).toMatch(/an unattended run never answers yes.*--force/);
    expect(read(d, 'hold')).toBe('bob@example.test\n');
    const y = await run(RELEASE, { account: 'bob@example.test' }, vars, join(d, 'runs'), {
      forced: new Map([['release.unknown_prior', '--force']]),
    });
    expect(y.out.status, y.out.error).toBe('ok');
    expect(read(d, 'hold')).toBe('');
  });

  it('a dry run shows each command with its stdin and changes nothing (a check still runs: it only reads)', async () => {
    const d = fresh();
    const c = await run(CONTAIN, { account: 'bob@example.test', measures: 'hold' }, { contain_commands: commands(d) }, join(d, 'runs'), {
      dryRun: true,
    });
    expect(c.out.status, c.out.error).toBe('ok');
    expect(read(d, 'hold')).toBe('');
    expect(c.effects).toEqual([]);
    expect(c.events.filter((e) => e.t === 'command').map((e) => [(e as { dryRun?: boolean }).dryRun, e.stdin])).toEqual([
      [false, 'bob@example.test\n'],
      [true, 'bob@example.test\n'],
    ]);
  });

  it('a measure the host has no way to do stops the run before anything changes', async () => {
    const d = fresh();
    const vars = { contain_commands: { hold: commands(d).hold } };
    const c = await run(CONTAIN, { account: 'bob@example.test', measures: 'hold,suspend_outgoing' }, vars, join(d, 'runs'));
    expect(c.out.status).toBe('failed');
    expect(c.out.error).toMatch(/suspend_outgoing: no cpanel_url and no contain_commands.suspend_outgoing/);
    expect(read(d, 'hold')).toBe('');
  });
});

describe('kick', () => {
  function stubDoveadm(d: string) {
    const bin = join(d, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'doveadm'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${join(d, 'doveadm.args')}'\n`);
    chmodSync(join(bin, 'doveadm'), 0o755);
    return bin;
  }

  it('without doveadm on the host: said clearly, nothing else fails, nothing to undo', async () => {
    const d = fresh();
    process.env.PATH = '/usr/bin:/bin';
    const c = await run(CONTAIN, { account: 'bob@example.test', measures: 'kick' }, {}, join(d, 'runs'));
    expect(c.out.status, c.out.error).toBe('ok');
    expect(c.text).toContain('kick: dovecot is not on mx2 (no doveadm in PATH): no IMAP/POP sessions ended');
    expect(c.effects[0]!.detail).toMatchObject({ measure: 'kick', applied: false, undo: null });
  });

  it('with doveadm: `doveadm kick` gets the account from stdin as one argument, hostile text inert', async () => {
    const d = fresh();
    process.env.PATH = `${stubDoveadm(d)}:/usr/bin:/bin`;
    const account = `$(touch ${join(d, 'pwned')});x@example.test`;
    const c = await run(CONTAIN, { account, measures: 'kick' }, {}, join(d, 'runs'));
    expect(c.out.status, c.out.error).toBe('ok');
    expect(read(d, 'doveadm.args')).toBe(`kick\n${account}\n`);
    expect(existsSync(join(d, 'pwned'))).toBe(false);
    expect(c.effects[0]!.detail).toMatchObject({ measure: 'kick', applied: true, undo: null });
    const x = await run(RELEASE, { account }, {}, join(d, 'runs'));
    expect(x.out.status, x.out.error).toBe('ok');
    expect(x.text).toContain('kick: ended sessions stay ended (nothing to undo)');
  });

  /** A doveadm that answers `kick` as dovecot 2.3 does (seen on the lab): stdout, stderr, exit. */
  function realDoveadm(d: string, stdout: string, code: number, stderr = '') {
    const bin = join(d, 'bin');
    mkdirSync(bin);
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    writeFileSync(
      join(bin, 'doveadm'),
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${join(d, 'doveadm.args')}'\nprintf %s ${q(stdout)}\nprintf %s ${q(stderr)} >&2\nexit ${code}\n`,
    );
    chmodSync(join(bin, 'doveadm'), 0o755);
    return bin;
  }

  it('the user had sessions: exit 0 and "USER kicked connections…" → ended, recorded as applied', async () => {
    const d = fresh();
    process.env.PATH = `${realDoveadm(d, 'bob@example.test kicked connections from the following users:\n\n', 0)}:/usr/bin:/bin`;
    const c = await run(CONTAIN, { account: 'bob@example.test', measures: 'kick' }, {}, join(d, 'runs'));
    expect(c.out.status, c.out.error).toBe('ok');
    expect(read(d, 'doveadm.args')).toBe('kick\nbob@example.test\n');
    expect(c.text).toContain("kick: ended bob@example.test's open IMAP/POP sessions (nothing to undo)");
    expect(c.effects[0]!.detail).toMatchObject({ measure: 'kick', applied: true, undo: null });
  });

  it('no session: exit 68 and "no users kicked" → not a failure, said as such, recorded as not applied', async () => {
    const d = fresh();
    process.env.PATH = `${realDoveadm(d, 'no users kicked\n', 68)}:/usr/bin:/bin`;
    const c = await run(CONTAIN, { account: 'bob@example.test', measures: 'kick' }, {}, join(d, 'runs'));
    expect(c.out.status, c.out.error).toBe('ok');
    expect(c.text).toContain('kick: bob@example.test had no open IMAP/POP session');
    expect(c.text).not.toContain('ended bob@example.test');
    expect(c.effects[0]!.detail).toMatchObject({
      measure: 'kick',
      applied: false,
      undo: null,
      note: 'bob@example.test had no open IMAP/POP session',
    });
  });

  it('dovecot not answering (exit 75, Fatal on stderr) fails the step with that line', async () => {
    const d = fresh();
    process.env.PATH = `${realDoveadm(d, '', 75, 'Fatal: net_connect_unix(/run/dovecot/anvil) failed: No such file or directory\n')}:/usr/bin:/bin`;
    const c = await run(CONTAIN, { account: 'bob@example.test', measures: 'kick' }, {}, join(d, 'runs'));
    expect(c.out.status).toBe('failed');
    expect(c.out.error).toMatch(/doveadm kick failed \(exit 75\): Fatal: net_connect_unix/);
  });

  it('exit 68 without the "no users kicked" line is a failure, not "no session"', async () => {
    const d = fresh();
    process.env.PATH = `${realDoveadm(d, '', 68, 'Error: user lookup failed\n')}:/usr/bin:/bin`;
    const c = await run(CONTAIN, { account: 'bob@example.test', measures: 'kick' }, {}, join(d, 'runs'));
    expect(c.out.status).toBe('failed');
    expect(c.out.error).toMatch(/doveadm kick failed \(exit 68\): Error: user lookup failed/);
  });

  it('an account with * or ? (a doveadm user mask) is refused', async () => {
    const d = fresh();
    process.env.PATH = `${stubDoveadm(d)}:/usr/bin:/bin`;
    const c = await run(CONTAIN, { account: '*@example.test', measures: 'kick' }, {}, join(d, 'runs'));
    expect(c.out.status).toBe('failed');
    expect(c.out.error).toMatch(/doveadm kick reads as a wildcard: refused/);
    expect(existsSync(join(d, 'doveadm.args'))).toBe(false);
  });
});
