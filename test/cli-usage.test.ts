// A usage error is what a Nagios plugin's must be: one line on stderr naming the fix, nothing on
// stdout, exit 3 (UNKNOWN) — never exit 1 (WARNING) with the whole help text as plugin output.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) =>
  spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });

describe('usage errors', () => {
  it.each([
    [
      ['scan', '--inventroy', 'x.yaml'],
      /^mailsweep: unknown option '--inventroy' \(Did you mean --inventory\?\) \(see: mailsweep scan --help\)\n$/,
    ],
    [['scan', '-f'], /^mailsweep: option '-f, --forks <n>' argument missing \(see: mailsweep scan --help\)\n$/],
    [['merge'], /^mailsweep: missing required argument 'file' \(see: mailsweep merge --help\)\n$/],
    [['incident'], /^mailsweep: missing required argument 'host' \(see: mailsweep incident --help\)\n$/],
    [['bogus'], /^mailsweep: unknown command 'bogus' \(see: mailsweep --help\)\n$/],
    [
      ['scan', 'extra', 'words'],
      /^mailsweep: too many arguments for 'scan'\. Expected 0 arguments but got 2\. \(see: mailsweep scan --help\)\n$/,
    ],
  ])('%j: one line, exit 3', (args, line) => {
    const r = run(...args);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(line);
  });

  it('--help and --version still print on stdout and exit 0', () => {
    for (const args of [['--help'], ['scan', '--help'], ['--version']]) {
      const r = run(...args);
      expect(r.status).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
      expect(r.stderr).toBe('');
    }
  });
});

describe('--format nagios as a plugin', () => {
  it('writes nothing to stderr (Icinga shows it) unless --verbose; the status line and exit code stand', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { startFakeFleet } = await import('../src/demo/fleet.js');
    const { replayFrom } = await import('../src/demo/replay.js');
    const { execFile } = await import('node:child_process');
    const fleet = await startFakeFleet(mkdtempSync(join(tmpdir(), 'ms-nagios-')), [
      { name: 'mx1', mode: 'normal', tools: [], replay: replayFrom('test/fixtures/lab/bookworm-postfix-quiet') },
      { name: 'mx2', mode: 'dead', tools: [] },
    ]);
    const scan = (...extra: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [
            'dist/cli.js',
            ...extra,
            'scan',
            '-i',
            fleet.inventoryPath,
            '--known-hosts',
            fleet.knownHostsPath,
            '--no-history',
            '--format',
            'nagios',
          ],
          { env: { ...process.env, CI: 'true' } },
          (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr }),
        ),
      );
    try {
      const quiet = await scan();
      expect(quiet.code).toBe(3);
      expect(quiet.stdout).toMatch(/^MAILSWEEP UNKNOWN - 0 critical, 0 warning, 1 unknown of 2 hosts: mx2 UNKNOWN unreachable \| /);
      expect(quiet.stderr).toBe('');
      const verbose = await scan('--verbose');
      expect(verbose.stdout).toBe(quiet.stdout);
      expect(verbose.stderr).toMatch(/\[mx1\] OK/);
      expect(verbose.stderr).toMatch(/\[mx2\] UNREACHABLE/);
    } finally {
      await fleet.close();
    }
  }, 60_000);
});

describe('a history file that cannot be opened (a check run as a user without a writable HOME)', () => {
  it('never fails the scan: said on stderr (not with nagios), baselines judged without history, the exit code as the findings say', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { startFakeFleet } = await import('../src/demo/fleet.js');
    const { replayFrom } = await import('../src/demo/replay.js');
    const dir = mkdtempSync(join(tmpdir(), 'ms-nohistory-'));
    const fleet = await startFakeFleet(dir, [
      { name: 'mx1', mode: 'normal', tools: [], replay: replayFrom('test/fixtures/lab/bookworm-postfix') },
    ]);
    // A path under a regular file: no directory can be made there, whoever runs it (root included).
    writeFileSync(join(dir, 'not-a-dir'), '');
    const history = join(dir, 'not-a-dir', 'history.sqlite');
    const { execFile } = await import('node:child_process');
    // Not spawnSync: the fake fleet answers from this process.
    const scan = (format: string) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [
            'dist/cli.js',
            'scan',
            '-i',
            fleet.inventoryPath,
            '--known-hosts',
            fleet.knownHostsPath,
            '--history',
            history,
            '--format',
            format,
          ],
          { env: { ...process.env, CI: 'true' } },
          (e, stdout, stderr) => resolve({ status: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr }),
        ),
      );
    try {
      const json = await scan('json');
      expect(json.status).toBe(2);
      expect(json.stderr).toMatch(
        /^mailsweep: history .*not-a-dir\/history\.sqlite not usable \(E[A-Z]+: [^)]*\): baselines judged without history$/m,
      );
      const notes = (
        JSON.parse(json.stdout) as { hosts: { findings: { rule: string; severity: string; message: string }[] }[] }
      ).hosts[0]!.findings.filter((f) => f.rule === 'attribution');
      expect(notes.map((f) => f.severity)).toEqual(['info', 'info']);
      expect(notes.map((f) => f.message).join('\n')).toMatch(
        /history store unreadable .*baseline judged without history[\s\S]*history not recorded/,
      );
      const nagios = await scan('nagios');
      expect(nagios.status).toBe(2);
      expect(nagios.stderr).toBe('');
      expect(nagios.stdout).toMatch(/^MAILSWEEP CRITICAL - 1 critical/);
    } finally {
      await fleet.close();
    }
  }, 60_000);
});
