// `mailsweep contain` then `mailsweep release` as an operator runs them (dist/cli.js in its own
// process) against the fake WHM and a local host: the fake's state changes and comes back, the
// exit codes are the documented ones, and bad input is a clear error (exit 3) before anything
// connects or changes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeWhm } from '../fakes/fake-whm.js';

const CLI = resolve('dist/cli.js');
const TOKEN = 'whm-token-contain-cli-0123456789';
const BOB = 'bob@example.test';
let whm: FakeWhm;
let dir: string;
let inv: string;

beforeAll(async () => {
  whm = await FakeWhm.start({ token: TOKEN, domains: { 'example.test': 'examplec' }, mailboxes: { examplec: [BOB] } });
  dir = mkdtempSync(join(tmpdir(), 'ms-contain-cli-'));
  writeFileSync(join(dir, 'ca.pem'), whm.cert);
  inv = join(dir, 'inventory.yaml');
  writeFileSync(
    inv,
    [
      'all:',
      '  hosts:',
      '    cp1:',
      '      ansible_connection: local',
      '      mta: exim',
      `      cpanel_url: ${whm.url}`,
      '      cpanel_token_env: T_CLI_TOKEN',
      `      cpanel_ca_file: ${join(dir, 'ca.pem')}`,
      '    plain1:',
      '      ansible_connection: local',
      '      mta: postfix',
      '',
    ].join('\n'),
  );
});
afterAll(() => whm?.close());

/** Runs the built CLI (async: the fake WHM answers from this process meanwhile). */
function cli(args: string[], runs = join(dir, 'runs')): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args, '-i', inv, '--runs-dir', runs], {
      env: { ...process.env, CI: 'true', T_CLI_TOKEN: TOKEN, PATH: '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('mailsweep contain / release (CLI)', () => {
  it('contain --hold --suspend-login --kick --yes, then release --yes: the fake WHM goes there and back', async () => {
    const c = await cli(['contain', 'cp1', '--auth-id', BOB, '--hold', '--suspend-login', '--kick', '--yes']);
    expect(c.code, c.stderr).toBe(0);
    expect(whm.mailbox(BOB)).toMatchObject({ heldOutgoing: true, suspendedLogin: true, suspendedOutgoing: false });
    expect(c.stderr).toContain('kick: dovecot is not on cp1 (no doveadm in PATH)');
    const id = /--run (\S+)/.exec(c.stderr)?.[1];
    expect(id, c.stderr).toBeTruthy();
    expect(c.stderr).toContain(`to undo: mailsweep release cp1 --auth-id ${BOB} --run ${id}`);
    const journal = readFileSync(join(dir, 'runs', `${id}.jsonl`), 'utf8');
    expect(journal).not.toContain(TOKEN);
    expect(journal).toContain('"key":"contain:hold"');

    const r = await cli(['release', 'cp1', '--auth-id', BOB, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(whm.mailbox(BOB)).toMatchObject({ heldOutgoing: false, suspendedLogin: false });
    expect(r.stderr).not.toContain(TOKEN);
  }, 60_000);

  it('--dry-run changes nothing and exits 0', async () => {
    const before = whm.calls.length;
    const c = await cli(['contain', 'cp1', '--auth-id', BOB, '--suspend-outgoing', '--dry-run'], mkdtempSync(join(dir, 'dry-')));
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toContain(`[dry-run] would call WHM ${whm.url}: uapi_cpanel Email::suspend_outgoing(email=${BOB})`);
    expect(whm.calls.length).toBe(before);
  }, 60_000);

  it('a failing WHM call: exit 1, the message names the call, nothing recorded', async () => {
    whm.failFunction('hold_outgoing');
    try {
      const runs = mkdtempSync(join(dir, 'fail-'));
      const c = await cli(['contain', 'cp1', '--auth-id', BOB, '--hold', '--yes'], runs);
      expect(c.code).toBe(1);
      expect(c.stderr).toMatch(/Email::hold_outgoing\(email=bob@example.test\) failed: api error/);
      const journal = readFileSync(
        join(
          runs,
          readdirSync(runs).find((f) => f.endsWith('.jsonl'))!,
        ),
        'utf8',
      );
      expect(journal).not.toContain('"t":"effect"');
      expect(whm.mailbox(BOB)!.heldOutgoing).toBe(false);
    } finally {
      whm.failFunction(null);
    }
  }, 60_000);

  it.each([
    ['no measure', ['contain', 'cp1', '--auth-id', BOB, '--yes'], /say what to do: --hold, --suspend-outgoing/],
    ['no --auth-id', ['contain', 'cp1', '--hold', '--yes'], /--auth-id ACCOUNT is required/],
    [
      'a newline in the account',
      ['contain', 'cp1', '--auth-id', `${BOB}\nroot`, '--hold', '--yes'],
      /holds a newline or control character: refused/,
    ],
    [
      'a measure the host cannot do',
      ['contain', 'plain1', '--auth-id', BOB, '--hold', '--yes'],
      /hold: no cpanel_url and no contain_commands.hold in the inventory/,
    ],
    [
      'nothing to release',
      ['release', 'plain1', '--auth-id', BOB, '--yes'],
      /no contain run recorded containing bob@example.test on plain1/,
    ],
    ['not a run id', ['release', 'cp1', '--auth-id', BOB, '--run', '../x', '--yes'], /--run "..\/x" is not a run id/],
    ['no terminal and no --yes', ['contain', 'cp1', '--auth-id', BOB, '--hold'], /no terminal to ask questions on/],
  ])(
    '%s → exit 3, a clear message, nothing called',
    async (_, args, says) => {
      const before = whm.calls.length;
      const r = await cli(args, mkdtempSync(join(dir, 'bad-')));
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(says);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(whm.calls.length).toBe(before);
    },
    60_000,
  );
});
