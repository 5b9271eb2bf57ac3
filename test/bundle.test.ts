// dist/cli.js is esbuild's bundle (scripts/bundle.mjs): it must run the CLI as tsc's tree did, from
// any working directory, finding the files it reads at run time (package.json, fixtures/demo,
// playbooks, the server scripts under src/mta) and loading ssh2's native cipher binding.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../src/scan/types.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const CHUNKS = join(ROOT, 'dist', 'chunks');
// A working directory with nothing of mailsweep's in it: every lookup must go through the package root.
const elsewhere = mkdtempSync(join(tmpdir(), 'mailsweep-bundle-'));
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

const run = (args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { cwd: elsewhere, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: 'true' } });

const bundleFiles = () => [
  CLI,
  ...readdirSync(CHUNKS)
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(CHUNKS, f)),
];

describe('the bundled CLI (dist/cli.js)', () => {
  it('is the bundle: no import of tsc’s modules, only node builtins, its chunks and the few externals', () => {
    const text = readFileSync(CLI, 'utf8');
    expect(text).not.toMatch(/from ["']\.\/program\.js["']/);
    expect(text).toContain('import("./chunks/scan-');
    const allowed =
      /^(node:|\.\/|ssh2\/lib\/protocol\/crypto\/build\/Release\/sshcrypto\.node$|(better-sqlite3|pg|pg-native|cpu-features)$)/;
    const builtin = new Set(createRequire(import.meta.url)('node:module').builtinModules as string[]);
    const specifiers = new Set<string>();
    for (const file of bundleFiles()) {
      const js = readFileSync(file, 'utf8');
      // Static imports start a line in esbuild's output; dynamic ones and CommonJS requires anywhere.
      for (const m of js.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|\bimport\("([^"]+)"\)|\b__require\("([^"]+)"\)/gm))
        specifiers.add((m[1] ?? m[2] ?? m[3])!);
    }
    const outside = [...specifiers].filter((s) => !allowed.test(s) && !builtin.has(s));
    expect(outside).toEqual([]);
    expect(specifiers).toContain('ssh2/lib/protocol/crypto/build/Release/sshcrypto.node');
  });

  it("loads ssh2's native binding wherever ssh2 itself would (else ssh2 silently uses slower JS ciphers)", () => {
    const fromSsh2 = createRequire(join(ROOT, 'node_modules', 'ssh2', 'lib', 'protocol', 'crypto.js'));
    let native: string | undefined;
    try {
      native = fromSsh2.resolve('./crypto/build/Release/sshcrypto.node');
    } catch {
      native = undefined; // not built on this machine: nothing to compare
    }
    const fromBundle = createRequire(join(CHUNKS, 'any.js'));
    if (native) expect(fromBundle.resolve('ssh2/lib/protocol/crypto/build/Release/sshcrypto.node')).toBe(native);
  });

  it('--version prints package.json’s version, from another working directory', () => {
    const r = run(['--version']);
    expect(r.status, r.stderr).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('--help lists the commands; a usage error is one line and exit 3', () => {
    const r = run(['--help']);
    expect(r.status, r.stderr).toBe(0);
    for (const cmd of ['scan', 'incident', 'contain', 'release', 'report', 'demo', 'parse'])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    const bad = run(['scan', '--no-such-option']);
    expect(bad.status).toBe(3);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('scans the demo fleet from another working directory (fixtures/demo and the server scripts found)', () => {
    const r = run(['demo', '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ScanReport;
    expect(report.hosts.find((h) => h.name === 'mx1.dc1.example.net')).toMatchObject({ status: 'ok', mta: 'exim', queue: { total: 339 } });
    expect(report.summary.suspects[0]).toMatchObject({ host: 'mx1.dc1.example.net', authId: 'bob@example.test' });
  });

  it("finds the built-in playbooks from another working directory (incident's default names its vars)", () => {
    // The host list needs no connection; the playbook is read, then the bad --set refused with its vars.
    const r = run(['incident', 'mx1', '-i', 'mx1,', '--set', 'nosuch=1', '--yes']);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('--set nosuch: the playbook has no such var (its vars: auth_id,');
  });

  it('ships what it reads: npm pack carries the bundle, its chunks, playbooks, the demo fixtures and the server scripts', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const packed = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    const under = (dir: string) =>
      (readdirSync(join(ROOT, dir), { recursive: true }) as string[])
        .map((f) => `${dir}/${f}`)
        .filter((f) => statSync(join(ROOT, f)).isFile());
    const needed = [
      'package.json',
      'dist/cli.js',
      ...under('dist/chunks').filter((f) => f.endsWith('.js')),
      ...under('playbooks'),
      ...under('fixtures/demo'),
      ...under('src/mta').filter((f) => /^src\/mta\/[^/]+\/scripts\/[^/]+$/.test(f)),
    ];
    expect(needed.filter((f) => f.endsWith('.sh')).length).toBeGreaterThan(5);
    expect(needed.filter((f) => !packed.has(f))).toEqual([]);
  });
});
