// Step h: what was done, queue counts before and after, where the new password is (or that none
// was set), the run id and the journal. Facts come from the journal, not from what was planned.
import { z } from 'zod';
import type { Action } from '../playbook/types.js';
import { incidentFacts, latestEvidence, type ResetState } from './facts.js';

const Params = z.object({
  account: z.string(),
  before: z.coerce.number().default(0),
  reset_step: z.string().default('reset'),
  purge_step: z.string().default('purge'),
  backscatter_step: z.string().default('backscatter'),
});

const RESET: Record<ResetState, string> = {
  done: 'new password set',
  skipped: 'NOT reset (step skipped); no new password was set',
  declined: 'NOT reset (declined); no new password was set',
  'dry-run': 'not reset (dry run); no new password was set',
  'not-run': 'NOT reset; no new password was set',
};

export const summary: Action<typeof Params> = {
  name: 'summary',
  params: Params,
  describe: () => 'summarize the incident',
  async run(p, ctx) {
    const a = ctx.adapter;
    const plan = a.queue(ctx.mtaHost);
    const r = await ctx.run(plan.command, { destructive: false });
    const after = plan.parse(r.stdout, r.stderr, r.code);
    const facts = incidentFacts(ctx, { reset: p.reset_step, purge: p.purge_step, backscatter: p.backscatter_step });
    const verb = facts.held ? 'held' : 'removed';
    const notified = ctx.scope.notify as { notified?: unknown; to?: unknown; skipped?: unknown } | undefined;
    const evidence = latestEvidence(ctx.journal.events);
    const lines = [
      `account: ${p.account} on ${ctx.host.name} (${ctx.mta})`,
      `password: ${RESET[facts.reset]}${facts.reset === 'done' ? (facts.passwordFile ? `; it is in ${facts.passwordFile} (mode 600)` : '') : ''}` +
        (facts.suspendedOutgoing ? '; outgoing mail suspended' : ''),
      `spam ${verb}: ${facts.spamRemoved}; backscatter ${verb}: ${facts.backscatterRemoved}`,
      `queue: ${p.before} before, ${after.messages.length} after`,
      ...(notified
        ? [
            `customer: ${notified.notified === true ? `notified${typeof notified.to === 'string' ? ` (${notified.to})` : ''}` : 'NOT notified'}`,
          ]
        : []),
      ...(evidence ? [`evidence: ${evidence.dir}/ and ${evidence.archive}`] : []),
      `run: ${ctx.runId} (journal ${ctx.journal.path})`,
    ];
    ctx.say(lines.join('\n'));
    return {
      account: p.account,
      queueBefore: p.before,
      queueAfter: after.messages.length,
      reset: facts.reset,
      passwordFile: facts.passwordFile,
      spamRemoved: facts.spamRemoved,
      backscatterRemoved: facts.backscatterRemoved,
      runId: ctx.runId,
      journal: ctx.journal.path,
      ...(evidence ? { evidence: evidence.archive } : {}),
    };
  },
};
