// How inventory scalars are read, the way Ansible reads them: one definition for the inventory's
// own vars and the rule settings.
import { z } from 'zod';

/** Whole numbers as YAML writes them, or as strings of digits; nothing else (no "", null or [] as 0). */
export const digits = (v: unknown): unknown => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v);

// Ansible's boolean(): these and nothing else.
const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);
export const boolish = z.preprocess((v) => {
  if (typeof v === 'number') return v === 1 ? true : v === 0 ? false : v;
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  return TRUE.has(s) ? true : FALSE.has(s) ? false : v;
}, z.boolean());
