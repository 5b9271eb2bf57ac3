// Server-side scripts are files: every one is POSIX sh that dash parses and shellcheck passes,
// every awk program parses, every command the adapters build (the files with their settings and
// includes expanded) passes the same checks, the files ship in the package, and a command glued
// from strings does not type-check.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mtaHost } from '../../src/mta/host.js';
import { ADAPTERS } from '../../src/mta/index.js';
import { localDomainsCommand } from '../../src/mta/local-domains.js';
import { scriptSource, serverScript } from '../../src/mta/script.js';
import { MTA_NAMES, type PurgeRequest } from '../../src/mta/types.js';

const MTA_DIR = 'src/mta';

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext) && /\/scripts$/.test(join(e.parentPath, '')))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

const SCRIPTS = filesUnder(MTA_DIR, '.sh');
const AWKS = filesUnder(MTA_DIR, '.awk');

function dashCheck(text: string): string {
  const r = spawnSync('dash', ['-n'], { input: text, encoding: 'utf8' });
  return r.status === 0 ? '' : r.stderr;
}

/** shellcheck on a whole command (stdin), as POSIX sh, with the project's settings. */
function shellcheck(text: string): string {
  // The same settings as src/mta/.shellcheckrc (stdin has no directory to find it from).
  const r = spawnSync('shellcheck', ['-s', 'sh', '-e', 'SC2154', '-f', 'gcc', '-'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`shellcheck is needed for these tests (Debian package shellcheck; .ci/run installs it): ${r.error.message}`);
  return r.status === 0 ? '' : r.stdout + r.stderr;
}

describe('server script files', () => {
  it('there are script files, shared and per MTA', () => {
    expect(SCRIPTS.some((f) => f.includes('/shared/'))).toBe(true);
    expect(SCRIPTS.length).toBeGreaterThan(3);
  });

  it.each(SCRIPTS.map((f) => [relative(MTA_DIR, f)]))('%s: dash -n and shellcheck', (file) => {
    const path = join(MTA_DIR, file);
    expect(spawnSync('dash', ['-n', path], { encoding: 'utf8' }).stderr).toBe('');
    const r = spawnSync('shellcheck', ['-f', 'gcc', path], { encoding: 'utf8' });
    if (r.error) throw new Error(`shellcheck is needed for these tests: ${r.error.message}`);
    expect(r.stdout).toBe('');
    // Expanded with its includes: still one valid script.
    expect(dashCheck(scriptSource(file))).toBe('');
  });

  it.each(AWKS.map((f) => [relative(MTA_DIR, f)]))('%s: awk parses it', (file) => {
    // Expanded with its includes (an awk file may # @include another, e.g. shared/scripts/hex.awk).
    const r = spawnSync('awk', [scriptSource(file)], { input: '', encoding: 'utf8', env: { LC_ALL: 'C', PATH: process.env.PATH } });
    expect(r.stderr).toBe('');
  });

  it('settings are quoted assignments before the script; bad names and paths are refused', () => {
    const cmd = serverScript('shared/scripts/path.sh', { MS_PATH_EXTRA: "/opt/q m'ail/bin", LIST: ['/a b', '$(id)'] });
    const out = execFileSync('sh', ['-c', `${cmd}\nprintf '%s|' "$LIST"; printf '%s' "$PATH"`], { encoding: 'utf8' });
    expect(out).toBe(`/a b\n$(id)|${process.env.PATH}:/usr/sbin:/sbin:/usr/local/sbin:/opt/q m'ail/bin`);
    expect(() => serverScript('shared/scripts/path.sh', { 'A;B': 'x' })).toThrow(/variable name/);
    expect(() => scriptSource('../../etc/passwd')).toThrow(/bad script path/);
  });
});

/** Every command an adapter can build, for a host with settings that exercise every branch. */
function everyCommand(): [string, string][] {
  const ctx = mtaHost('/opt/mta x/sbin/tool', {
    queue_directory: '/q d',
    spool_directory: '/s d',
    config_directory: '/etc/p f',
    mail_log: ['/l 1', '/l 2'],
    mta_pid_file: '/run/mta.pid',
    qmail_smtpd_uids: [89],
  });
  const out: [string, string][] = [];
  for (const mta of MTA_NAMES) {
    const a = ADAPTERS[mta];
    out.push([`${mta} queue`, a.queue(ctx).command], [`${mta} attributedQueue`, a.attributedQueue(ctx).command]);
    out.push([`${mta} restart`, a.ops.restart(ctx).command], [`${mta} localDomains`, localDomainsCommand(a.localDomains, ctx)]);
    for (const mode of ['delete', 'hold'] as const)
      for (const match of [{ kind: 'auth', authId: 'bob@example.test' }, { kind: 'bounce' }] as const) {
        const id = { exim: '1xVLyY-0005n4-1b', postfix: 'ABCDEF12345', sendmail: '6AN4loPM020741', qmail: '1234' }[mta];
        const req: PurgeRequest = {
          ids: [id],
          match,
          mode,
          expect: { [id]: { sender: match.kind === 'bounce' ? '' : 'x@y.example', recipients: ['a@far.example'] } },
        };
        out.push([`${mta} purge ${mode} ${match.kind}`, a.ops.purge(ctx, req).command]);
      }
  }
  return out;
}

describe('the commands the adapters build', () => {
  it.each(everyCommand())('%s: dash -n and shellcheck', (_name, command) => {
    expect(dashCheck(command)).toBe('');
    expect(shellcheck(command)).toBe('');
  });
});

describe('packaging and types', () => {
  it('the script files ship in the npm package', () => {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' })) as {
      files: { path: string }[];
    }[];
    const paths = new Set(packed[0]!.files.map((f) => f.path));
    for (const f of [...SCRIPTS, ...AWKS]) expect(paths.has(f), f).toBe(true);
  }, 60_000);

  it('a command glued from strings does not type-check as Sh', () => {
    const r = spawnSync(
      'npx',
      [
        'tsc',
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--skipLibCheck',
        'test/types/sh-brand.ts',
      ],
      { encoding: 'utf8' },
    );
    expect(r.stdout + r.stderr).toBe('');
  }, 120_000);
});
