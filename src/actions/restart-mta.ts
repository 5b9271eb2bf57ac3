// Step c: restart the MTA, which cuts the spammer's open SMTP sessions; the MTA's own restart,
// then a check that it came back.
import { z } from 'zod';
import type { Action } from '../playbook/types.js';
import { StepError } from '../errors.js';

export const restartMta: Action<z.ZodObject<Record<string, never>>> = {
  name: 'restart-mta',
  params: z.object({}),
  describe: (_p, ctx) => `restart ${ctx.mta} on ${ctx.host.name} (cuts the spammer's open SMTP sessions)`,
  async run(_p, ctx) {
    const plan = ctx.adapter.ops.restart(ctx.mtaHost);
    const r = await ctx.run(plan.command, { destructive: true, timeoutMs: 180_000 });
    if (ctx.dryRun) return { ok: true, dryRun: true };
    const res = plan.parse(r.stdout, r.stderr, r.code);
    if (!res.ok) throw new StepError(`${ctx.mta} did not come back after the restart: ${res.detail}`);
    ctx.say(res.detail);
    return { ok: true, detail: res.detail };
  },
};
