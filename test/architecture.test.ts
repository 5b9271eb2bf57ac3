// Structure rules the compiler does not check: no import cycles (madge, as zx's test:circular);
// MTA knowledge stays in src/mta.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const MADGE = resolve('node_modules/madge/bin/cli.js');

/** madge over a folder of ESM TypeScript (imports spelled `.js`, resolved to `.ts` via tsconfig). */
function madge(dir: string, ...args: string[]) {
  const r = spawnSync(
    process.execPath,
    [MADGE, '--json', '--no-spinner', '--extensions', 'ts', '--ts-config', resolve('tsconfig.json'), ...args, dir],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('import graph', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mailsweep-cycles-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('madge resolves src: the graph has every module and real edges (a blind check would pass vacuously)', () => {
    const r = madge('src');
    expect(r.code).toBe(0);
    const graph = JSON.parse(r.out) as Record<string, string[]>;
    expect(Object.keys(graph).length).toBeGreaterThan(100);
    expect(graph['cli.ts']).toContain('errors.ts');
    // Type-only imports count: a cycle of types is still a cycle in the design.
    expect(graph['scan/types.ts']).toContain('rules/types.ts');
  });

  it('src has no import cycle', () => {
    const r = madge('src', '--circular');
    expect(JSON.parse(r.out)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('a cycle, even of types only, fails the check', () => {
    writeFileSync(join(tmp, 'a.ts'), "import type { B } from './b.js';\nexport interface A { b?: B }\n");
    writeFileSync(join(tmp, 'b.ts'), "import type { A } from './a.js';\nexport interface B { a?: A }\n");
    const r = madge(tmp, '--circular');
    expect(JSON.parse(r.out)).toEqual([['a.ts', 'b.ts']]);
    expect(r.code).toBe(1);
  });
});

describe('MTA knowledge', () => {
  it('nothing outside src/mta branches on the MTA name: the adapter answers', () => {
    const branch = /switch \(mta|mta === '/;
    const files = (readdirSync('src', { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.startsWith('mta/'));
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => branch.test(readFileSync(join('src', f), 'utf8')))).toEqual([]);
  });
});
