// Inventory error messages: "file:line: path: what is wrong".

import { ConfigError } from '../errors.js';

export function fail(file: string, line: number, path: string, message: string): never {
  throw new ConfigError(`${file}:${line}: ${path ? `${path}: ` : ''}${message}`);
}

/** A value as a message shows it: strings quoted, containers by kind (never dumped). */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') return 'a mapping';
  return String(value);
}

/** A key in a dotted path, quoted when it would be ambiguous. */
export function seg(key: string): string {
  return /^[^\s"']+$/.test(key) ? key : JSON.stringify(key);
}
