// Rule settings: the seeds' defaults, overridable per host or group in the inventory.
// Validated when the inventory loads (src/inventory/vars.ts uses RULE_VARS), so a bad value is a
// ConfigError naming its own file:line before any host is contacted; ruleSettings() stays
// defensive for HostSpecs built elsewhere.
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { boolish, digits } from '../inventory/scalars.js';

const int = (min: number) => z.preprocess(digits, z.number().int().min(min));

const domain = z
  .string()
  .trim()
  .min(1)
  .regex(/^[^\s@]+$/);
const authOrDomain = z.string().trim().min(1).regex(/^\S+$/);

/** Each rule var: its schema and what a message says is expected. */
export const RULE_VARS = {
  /** user-volume: messages per day from one account (seed 001: 500). */
  user_volume_limit: { schema: int(1), expected: 'a whole number of messages per day, at least 1', default: 500 },
  /** sender-mismatch: mismatched messages before it is a finding. */
  sender_mismatch_min: { schema: int(1), expected: 'a whole number of messages, at least 1', default: 10 },
  /** sender-mismatch: auth id or auth domain → extra sender domains it may use (aliases). */
  sender_allow: {
    schema: z.record(authOrDomain, z.array(domain)),
    expected: 'a mapping of account or domain to a list of sender domains (e.g. "bob@example.com: [example.org]")',
    default: {} as Record<string, string[]>,
  },
  /** baseline (seed 002): 10 working days, alert above 150 % but never under 100, always above 200. */
  baseline_days: { schema: int(1), expected: 'a whole number of working days, at least 1', default: 10 },
  baseline_percent: { schema: int(100), expected: 'a whole number percentage, at least 100', default: 150 },
  baseline_floor: { schema: int(0), expected: 'a whole number of messages, at least 0', default: 100 },
  baseline_ceiling: { schema: int(1), expected: 'a whole number of messages, at least 1', default: 200 },
  /** mass-recipients (seed 003): a message to this many recipients or more. */
  mass_recipients: { schema: int(2), expected: 'a whole number of recipients, at least 2', default: 20 },
  /** backscatter (seed 003): null-sender bounces to foreign addresses before it is a finding. */
  backscatter_min: { schema: int(1), expected: 'a whole number of bounces, at least 1', default: 10 },
  /** many-ips (seed 004): distinct client IPs for one account in the window. */
  many_ips: { schema: int(2), expected: 'a whole number of client IPs, at least 2', default: 5 },
  /** auth-policy (seed 001, #13): probe ports 25, 587 (with STARTTLS) and 465 from the host itself. */
  auth_policy: { schema: boolish, expected: 'a boolean (true/false, yes/no)', default: true },
  /** The host's own domains; default: the domains of its authenticated users. */
  local_domains: { schema: z.array(domain), expected: 'a list of domain names (e.g. [example.com, example.org])', default: [] as string[] },
} satisfies Record<keyof RuleSettings, { schema: z.ZodTypeAny; expected: string; default: unknown }>;

export interface RuleSettings {
  user_volume_limit: number;
  sender_mismatch_min: number;
  sender_allow: Record<string, string[]>;
  baseline_days: number;
  baseline_percent: number;
  baseline_floor: number;
  baseline_ceiling: number;
  mass_recipients: number;
  backscatter_min: number;
  many_ips: number;
  auth_policy: boolean;
  local_domains: string[];
}
export const RULE_KEYS = Object.keys(RULE_VARS) as (keyof RuleSettings)[];

/** Pick the rule keys out of a host's merged inventory vars (validated at load; checked again here). */
export function ruleSettings(vars: Record<string, unknown>, where = 'inventory'): RuleSettings {
  const out: Record<string, unknown> = {};
  for (const k of RULE_KEYS) {
    const def = RULE_VARS[k];
    if (vars[k] === undefined) {
      out[k] = structuredClone(def.default);
      continue;
    }
    const r = (def.schema as z.ZodTypeAny).safeParse(vars[k]);
    if (!r.success) {
      const p = r.error.issues[0]?.path ?? [];
      throw new ConfigError(`${where}: ${[k, ...p].join('.')}: expected ${def.expected}`);
    }
    out[k] = r.data;
  }
  return out as unknown as RuleSettings;
}
