// The report's opt-in automatic containment (`auto_contain:` in the report config): which accounts
// this run's findings make eligible, and the order they are taken in. Pure: the run that acts on
// it is src/commands/report-contain.ts. Only reversible measures exist here — the report never
// purges, resets or restarts unattended.
import { z } from 'zod';
import { MEASURES, type Measure } from '../actions/contain-commands.js';
import { ACCOUNT_RULE_NAMES } from '../rules/account-rules.js';
import type { HostReport } from '../scan/types.js';
import { parseDuration } from './duration.js';

const NEVER_UNATTENDED = ['purge', 'reset', 'reset_password', 'restart', 'restart_mta', 'notify', 'delete'];

const measure = z.string().superRefine((m, ctx) => {
  if ((MEASURES as readonly string[]).includes(m)) return;
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message: NEVER_UNATTENDED.includes(m)
      ? `"${m}" is never done unattended by the report; only reversible measures: ${MEASURES.join(', ')}`
      : `unknown measure "${m}"; one of ${MEASURES.join(', ')}`,
  });
});

const rule = z.string().refine((r) => (ACCOUNT_RULE_NAMES as readonly string[]).includes(r), {
  message: `not an account rule; one of ${ACCOUNT_RULE_NAMES.join(', ')}`,
});

export const AutoContainSchema = z
  .object({
    /** Required, so nobody turns it on by accident: `contain` acts, `dry-run` only says what it would do. */
    mode: z.enum(['contain', 'dry-run'], { required_error: 'required: contain or dry-run (dry-run only says "would contain")' }),
    when: z
      .object({
        /** The lowest severity a rule must fire at to count. */
        severity: z.enum(['warning', 'critical']).default('critical'),
        /** How many distinct rules must fire at that severity for the account on one host. */
        min_rules: z.number().int().min(1).max(ACCOUNT_RULE_NAMES.length).default(2),
        /** At least one of these must be among them (none listed: any rule counts). */
        any_of: z.array(rule).default([]),
      })
      .strict()
      .default({}),
    measures: z
      .union([measure, z.array(measure).min(1)])
      .transform((v) => (Array.isArray(v) ? v : [v]) as Measure[])
      .transform((ms) => MEASURES.filter((m) => ms.includes(m))),
    /** Accounts contained per run at most; the rest are alerted with the command to contain them by hand. */
    max_accounts: z.number().int().min(1).max(1000).default(3),
    /** Where the containment runs' journals go (default: as `mailsweep contain`, $MAILSWEEP_RUNS_DIR). */
    runs_dir: z.string().min(1).optional(),
    /** Per host containment run. */
    timeout: z
      .union([z.string(), z.number()])
      .transform((v, ctx) => {
        const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
        if (ms === null || ms <= 0) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a duration like 30s or 2m, got ${JSON.stringify(v)}` });
          return z.NEVER;
        }
        return ms;
      })
      .default('60s'),
  })
  .strict();

export interface ContainPolicy {
  mode: 'contain' | 'dry-run';
  severity: 'warning' | 'critical';
  minRules: number;
  anyOf: string[];
  measures: Measure[];
  maxAccounts: number;
  runsDir?: string;
  timeoutMs: number;
}

export function containPolicy(raw: z.infer<typeof AutoContainSchema>): ContainPolicy {
  return {
    mode: raw.mode,
    severity: raw.when.severity,
    minRules: raw.when.min_rules,
    anyOf: raw.when.any_of,
    measures: raw.measures,
    maxAccounts: raw.max_accounts,
    ...(raw.runs_dir ? { runsDir: raw.runs_dir } : {}),
    timeoutMs: raw.timeout,
  };
}

/** One account on one host that the policy says to contain. */
export interface ContainCandidate {
  host: string;
  account: string;
  /** The rules that fired for it there at the policy's severity or worse. */
  rules: string[];
  /** Messages it sent in the log window there (orders the candidates: the worst sender first). */
  sent: number;
}

const RANK = { info: 0, warning: 1, critical: 2 } as const;

/** The policy's test, per account and host: its own findings only (never a host finding lent to it). */
export function eligible(hosts: HostReport[], policy: ContainPolicy): ContainCandidate[] {
  const out: ContainCandidate[] = [];
  for (const h of hosts) {
    if (h.status !== 'ok') continue;
    const rules = new Map<string, Set<string>>();
    for (const f of h.findings) {
      if (!f.authId || RANK[f.severity] < RANK[policy.severity]) continue;
      (rules.get(f.authId) ?? rules.set(f.authId, new Set()).get(f.authId)!).add(f.rule);
    }
    for (const [account, fired] of rules) {
      if (fired.size < policy.minRules) continue;
      if (policy.anyOf.length && !policy.anyOf.some((r) => fired.has(r))) continue;
      const sent = h.suspects?.find((s) => s.authId === account)?.messages ?? 0;
      out.push({ host: h.name, account, rules: [...fired], sent });
    }
  }
  // Most rules first, then the biggest sender: with max_accounts reached, the worst are contained.
  return out.sort(
    (a, b) => b.rules.length - a.rules.length || b.sent - a.sent || a.account.localeCompare(b.account) || a.host.localeCompare(b.host),
  );
}
