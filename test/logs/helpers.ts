import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function fixture(mta: string, name: string): string {
  return readFileSync(join(here, '..', 'fixtures', 'logs', mta, name), 'utf8');
}

export const iso = (s: string): number => Date.parse(s) / 1000;

/** 2026-01-02 12:00 UTC: the fixtures span the night of 2025-12-31 → 2026-01-01. */
export const NOW = iso('2026-01-02T12:00:00Z');
