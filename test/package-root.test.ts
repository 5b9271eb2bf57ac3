// The package root is found by walking up to mailsweep's package.json, whatever the module's depth
// (src/, tsc's dist/, the bundle's dist/chunks/).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findPackageRoot, packagePath, packageVersion } from '../src/package-root.js';

const tmp = mkdtempSync(join(tmpdir(), 'mailsweep-root-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('findPackageRoot', () => {
  it('walks up past folders without one and past another package’s package.json', () => {
    const root = join(tmp, 'app');
    mkdirSync(join(root, 'dist', 'chunks', 'node_modules', 'other'), { recursive: true });
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'mailsweep', version: '9.8.7' }));
    writeFileSync(join(root, 'dist', 'chunks', 'package.json'), JSON.stringify({ name: 'other' }));
    writeFileSync(join(root, 'dist', 'chunks', 'node_modules', 'package.json'), '{ not json');
    expect(findPackageRoot(join(root, 'dist', 'chunks', 'node_modules', 'other'))).toEqual({ root, version: '9.8.7' });
    expect(findPackageRoot(root)).toEqual({ root, version: '9.8.7' });
  });

  it('says so when there is none (a broken install), naming where it looked', () => {
    const lost = join(tmp, 'lost', 'dist');
    mkdirSync(lost, { recursive: true });
    expect(() => findPackageRoot(lost)).toThrow(`mailsweep's package.json not found in ${lost} or any folder above it`);
  });

  it('from the source tree: this repository, its version', () => {
    const repo = resolve(import.meta.dirname, '..');
    expect(packagePath('playbooks')).toBe(join(repo, 'playbooks'));
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
