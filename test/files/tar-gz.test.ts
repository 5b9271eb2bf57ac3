// The evidence bundle's tar writer, read back by the system's tar: sizes on and off the 512-byte
// block, a directory, contents byte for byte; names that could escape the directory are refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tarGz } from '../../src/files/tar-gz.js';

describe('tarGz', () => {
  it('writes an archive tar lists and unpacks exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-tar-'));
    const a = Buffer.from('x'.repeat(512));
    const b = Buffer.from(`ünïcödé\n${'y'.repeat(700)}`);
    const file = join(dir, 'a.tar.gz');
    writeFileSync(
      file,
      tarGz(
        [
          { name: 'ev/' },
          { name: 'ev/a.txt', data: a },
          { name: 'ev/sub/' },
          { name: 'ev/sub/b.md', data: b },
          { name: 'ev/empty', data: Buffer.alloc(0) },
        ],
        1_700_000_000,
      ),
    );
    const list = execFileSync('tar', ['-tvzf', file], { encoding: 'utf8' });
    expect(list).toMatch(/^drwx------ .* 0 2023-11-1\d \d\d:\d\d ev\/$/m);
    expect(list).toMatch(/^-rw------- .* 512 .* ev\/a\.txt$/m);
    expect(list).toMatch(new RegExp(`^-rw------- .* ${b.length} .* ev/sub/b\\.md$`, 'm'));
    execFileSync('tar', ['-xzf', file, '-C', dir]);
    expect(readFileSync(join(dir, 'ev', 'a.txt'))).toEqual(a);
    expect(readFileSync(join(dir, 'ev', 'sub', 'b.md'))).toEqual(b);
    expect(readFileSync(join(dir, 'ev', 'empty'))).toEqual(Buffer.alloc(0));
  });

  it.each(['/etc/passwd', 'ev/../../x', `${'n'.repeat(101)}`])('refuses the name %j', (name) => {
    expect(() => tarGz([{ name, data: Buffer.from('x') }])).toThrow(/unusable entry name/);
  });
});
