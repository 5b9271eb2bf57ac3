// `{{ path.to.value }}` substitution from earlier results and vars. Data only: no expressions, no eval.
import { ConfigError } from '../errors.js';

const WHOLE = /^\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}$/;
const PART = /\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}/g;

export function lookup(scope: Record<string, unknown>, path: string): unknown {
  let cur: unknown = scope;
  for (const key of path.split('.')) {
    // Own properties only: no walking into prototypes (constructor, __proto__).
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * Render a parameter value. A string that is exactly one `{{ x }}` keeps x's type (number, list…);
 * text around placeholders makes a string. An unknown name is an error, not an empty string:
 * a purge must never run with a blank account.
 */
export function render(value: unknown, scope: Record<string, unknown>, where: string): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) {
      const v = lookup(scope, whole[1]!);
      if (v === undefined) throw new ConfigError(`${where}: {{ ${whole[1]} }} is not defined`);
      return v;
    }
    return value.replace(PART, (_, path: string) => {
      const v = lookup(scope, path);
      if (v === undefined) throw new ConfigError(`${where}: {{ ${path} }} is not defined`);
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => render(v, scope, `${where}[${i}]`));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, scope, `${where}.${k}`)]));
  return value;
}

/** `when:` truthiness, Ansible-like for the rendered value. */
export function truthy(v: unknown): boolean {
  if (typeof v === 'string') return !['', 'false', 'no', 'off', '0', 'none', 'null'].includes(v.trim().toLowerCase());
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

/** Names a template refers to (for validation: a step may only use earlier steps' results). */
export function references(value: unknown): string[] {
  if (typeof value === 'string') return [...value.matchAll(PART)].map((m) => m[1]!.split('.')[0]!);
  if (Array.isArray(value)) return value.flatMap(references);
  if (value && typeof value === 'object') return Object.values(value).flatMap(references);
  return [];
}

/** Inventory keys a template never sees: secrets and where they are kept. */
const SECRET_KEY = /token|pass|secret|accesskey|identifier|private|credential/i;

/** The host's inventory vars as templates see them (`{{ inventory.ticket_url }}`): scalars, no secret's key. */
export function inventoryScope(vars: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(vars))
    if (!SECRET_KEY.test(k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) out[k] = v;
  return out;
}
