// Rule settings: the seeds' defaults, overridable per host or group in the inventory.
import { z } from 'zod';
import { ConfigError } from '../errors.js';

const int = (min: number) => z.coerce.number().int().min(min);

export const RuleSettingsSchema = z.object({
  /** user-volume: messages per day from one account (seed 001: 500). */
  user_volume_limit: int(1).default(500),
  /** sender-mismatch: mismatched messages before it is a finding. */
  sender_mismatch_min: int(1).default(10),
  /** sender-mismatch: auth id or auth domain → extra sender domains it may use (aliases). */
  sender_allow: z.record(z.string(), z.array(z.string())).default({}),
  /** baseline (seed 002): 10 working days, alert above 150 % but never under 100, always above 200. */
  baseline_days: int(1).default(10),
  baseline_percent: int(100).default(150),
  baseline_floor: int(0).default(100),
  baseline_ceiling: int(1).default(200),
  /** mass-recipients (seed 003): a message to this many recipients or more. */
  mass_recipients: int(2).default(20),
  /** backscatter (seed 003): null-sender bounces to foreign addresses before it is a finding. */
  backscatter_min: int(1).default(10),
  /** many-ips (seed 004): distinct client IPs for one account in the window. */
  many_ips: int(2).default(5),
  /** auth-policy (seed 001): probe ports 25 and 587 with EHLO from the host itself. */
  auth_policy: z.union([z.boolean(), z.enum(['true', 'false', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === 'yes').default(true),
  /** The host's own domains; default: the domains of its authenticated users. */
  local_domains: z.array(z.string()).default([]),
});

export type RuleSettings = z.infer<typeof RuleSettingsSchema>;
export const RULE_KEYS = Object.keys(RuleSettingsSchema.shape) as (keyof RuleSettings)[];

/** Pick the rule keys out of a host's merged inventory vars. */
export function ruleSettings(vars: Record<string, unknown>, where = 'inventory'): RuleSettings {
  const picked = Object.fromEntries(RULE_KEYS.filter((k) => vars[k] !== undefined).map((k) => [k, vars[k]]));
  const r = RuleSettingsSchema.safeParse(picked);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ConfigError(`${where}: ${i.path.join('.')}: ${i.message}`);
  }
  return r.data;
}
