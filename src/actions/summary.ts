// Step h: what was done, queue counts before and after, the run id (and where the journal is).
import { z } from 'zod';
import type { Action } from '../playbook/types.js';

const Params = z.object({ account: z.string(), before: z.coerce.number().default(0) });

export const summary: Action<typeof Params> = {
  name: 'summary',
  params: Params,
  describe: () => 'summarize the incident',
  async run(p, ctx) {
    const a = ctx.adapter;
    const plan = a.queue({ binary: (ctx.scope.host as { binary?: string }).binary, vars: ctx.host.vars });
    const r = await ctx.run(plan.command, { destructive: false });
    const after = plan.parse(r.stdout, r.stderr, r.code);
    const done = Object.entries(ctx.scope)
      .filter(([, v]) => v && typeof v === 'object' && 'done' in (v as object))
      .map(([k, v]) => `${k}: ${String((v as { done: unknown }).done)}`);
    const lines = [
      `account: ${p.account} on ${ctx.host.name} (${ctx.mta})`,
      `queue: ${p.before} before, ${after.messages.length} after`,
      ...done,
      `run: ${ctx.runId} (journal ${ctx.journal.path})`,
    ];
    for (const l of lines) ctx.say(l);
    return { account: p.account, queueBefore: p.before, queueAfter: after.messages.length, runId: ctx.runId, journal: ctx.journal.path };
  },
};
