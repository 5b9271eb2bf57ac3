// A file the operator named that cannot be written is an ordinary failure: the system's words and
// exit 3, never "internal error … please report this".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = resolve('dist/cli.js');

describe('unwritable paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ms-files-'));
  const inv = join(dir, 'inventory.yaml');
  // A host nothing listens on, on loopback: the scan ends quickly, then the output must be written.
  writeFileSync(inv, 'all:\n  hosts:\n    h1:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n');
  const blocker = join(dir, 'a-file');
  writeFileSync(blocker, '');

  it.each([
    ['scan -o', ['scan', '-i', inv, '--no-progress', '--no-history', '-o', join(blocker, 'out.txt')], {}],
    ['report --state', ['report', '-i', inv, '--no-history'], { MAILSWEEP_REPORT_STATE: join(blocker, 'state.sqlite') }],
  ] as const)('%s', (_name, args, env) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/^mailsweep: error: E[A-Z]+: .*a-file/m);
    expect(r.stderr).not.toMatch(/internal error|please report/);
  });
});
