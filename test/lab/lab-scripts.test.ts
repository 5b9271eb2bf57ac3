// The lab (test/lab/lab) is a small bash program: a dispatcher sourcing one file per step
// (lib/), one per MTA (mta/) and the programs run inside a host (guest/). No root needed here:
// these check its shape and syntax; the e2e suite runs it for real.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const LAB = resolve('test/lab');
const MAX_LINES = 200;

const inDir = (dir: string, ext: string) =>
  readdirSync(join(LAB, dir))
    .filter((f) => f.endsWith(ext))
    .map((f) => `${dir}/${f}`);
const bashFiles = ['lab', ...inDir('lib', '.sh'), ...inDir('mta', '.sh'), ...inDir('guest', '.sh')];
const allFiles = [...bashFiles, ...inDir('guest', '.pl')];
const lines = (file: string) => readFileSync(join(LAB, file), 'utf8').split('\n').length - 1;
const bashN = (path: string) => spawnSync('bash', ['-n', path], { encoding: 'utf8' });
const lab = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync('bash', [join(LAB, 'lab'), ...args], { encoding: 'utf8', env, timeout: 20_000 });

describe('lab scripts', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mailsweep-lab-scripts-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the program is split: a dispatcher, the steps, one file per MTA, the guest programs', () => {
    expect(allFiles).toEqual(
      expect.arrayContaining([
        'lab',
        'lib/config.sh',
        'lib/seed.sh',
        'mta/exim.sh',
        'mta/postfix.sh',
        'mta/sendmail.sh',
        'guest/seed.sh',
        'guest/stall-relay.pl',
      ]),
    );
    expect(bashFiles.length).toBeGreaterThan(15);
  });

  it(`every file is at most ${MAX_LINES} lines`, () => {
    const tooLong = allFiles.map((f) => ({ f, n: lines(f) })).filter(({ n }) => n > MAX_LINES);
    expect(tooLong).toEqual([]);
    expect(lines('lab')).toBeGreaterThan(20); // counted, not empty
  });

  it('every bash file passes bash -n', () => {
    const bad = bashFiles.map((f) => ({ f, r: bashN(join(LAB, f)) })).filter(({ r }) => r.status !== 0);
    expect(bad.map(({ f, r }) => `${f}: ${r.stderr}`)).toEqual([]);
  });

  it('bash -n catches a broken file (the check above is not blind)', () => {
    const broken = join(tmp, 'broken.sh');
    writeFileSync(broken, 'f() {\n  if true; then echo x\n}\n');
    expect(bashN(broken).status).not.toBe(0);
  });

  it('the dispatcher sources every step and MTA file, and only files that exist', () => {
    const src = readFileSync(join(LAB, 'lab'), 'utf8');
    const sourced = [...src.matchAll(/^source "\$LAB_HOME\/([^"]+)"$/gm)].map((m) => m[1]);
    expect([...sourced].sort()).toEqual([...inDir('lib', '.sh'), ...inDir('mta', '.sh')].sort());
    // config first: the others read its tables at source time (mta_facts).
    expect(sourced[0]).toBe('lib/config.sh');
  });

  it('every MTA file fills the same interface', () => {
    for (const file of inDir('mta', '.sh')) {
      const mta = file.slice('mta/'.length, -'.sh'.length);
      const src = readFileSync(join(LAB, file), 'utf8');
      expect(src, file).toMatch(new RegExp(`^mta_facts ${mta} /\\S+ \\S+ 127\\.0\\.0\\.\\d+$`, 'm'));
      for (const fn of ['configure', 'start', 'queue_count', 'settled', 'empty_queue', 'version', 'record']) {
        expect(src, `${file}: ${mta}_${fn}`).toMatch(new RegExp(`^${mta}_${fn}\\(\\) \\{`, 'm'));
      }
    }
  });

  it('help exits 0 with the usage; an unknown command exits 2 with it on stderr', () => {
    const help = lab(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('test/lab/lab reseed [HOST...]');
    expect(help.stdout).not.toContain('set -euo');
    const bad = lab(['frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('test/lab/lab busy HOST... on|off');
  });

  it('without its tools (or root, or Debian) every command says NOT AVAILABLE and exits 3', () => {
    // A PATH with just what the dispatcher and the preflight check use: debootstrap & co. are missing.
    const bin = join(tmp, 'bin');
    spawnSync('mkdir', [bin]);
    for (const tool of ['bash', 'readlink', 'dirname', 'id', 'grep', 'cat']) {
      const which = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(which, join(bin, tool));
    }
    for (const cmd of ['up', 'down', 'status', 'record', 'reseed', 'busy', 'build']) {
      const r = lab([cmd], { PATH: bin });
      expect(r.status, cmd).toBe(3);
      expect(r.stderr, cmd).toContain('mailsweep lab NOT AVAILABLE: ');
    }
  });
});
