// Steps d and e: list exactly the account's queued messages (or the backscatter), show count and
// sample, confirm, then delete or hold them with the MTA's own tool — each re-checked at delete time.
import { z } from 'zod';
import type { PurgeResult, QueueMessage } from '../mta/types.js';
import { recipientWhole } from '../mta/types.js';
import type { Action, StepContext } from '../playbook/types.js';
import { StepError } from '../playbook/types.js';
import { localDomains } from '../rules/backscatter.js';
import { ruleSettings } from '../rules/settings.js';
import { domainOf } from '../rules/types.js';

const Params = z.object({
  /** Whose spam: the auth id from the identify step. For backscatter, whose forged senders to prefer. */
  account: z.string().min(1),
  /** 'spam': messages submitted by the account; 'backscatter': null-sender bounces to foreign addresses. */
  target: z.enum(['spam', 'backscatter']).default('spam'),
  /** Quarantine for review instead of deleting. */
  hold: z.union([z.boolean(), z.string()]).default(false),
});
type P = z.infer<typeof Params>;

async function readQueue(ctx: StepContext): Promise<QueueMessage[]> {
  const a = ctx.adapter;
  const plan = (a.attributedQueue ?? a.queue).call(a, { binary: (ctx.scope.host as { binary?: string }).binary, vars: ctx.host.vars });
  const r = await ctx.run(plan.command, { destructive: false, timeoutMs: 300_000 });
  const listing = plan.parse(r.stdout, r.stderr, r.code);
  if (!listing.messages.length && listing.reportedTotal === null && listing.warnings.length)
    throw new StepError(`cannot read the queue: ${listing.warnings[0]}`);
  return listing.messages;
}

/** The messages this step may touch, decided from fresh queue data. */
export function select(queue: QueueMessage[], p: P, ctx: Pick<StepContext, 'host' | 'scope'>): QueueMessage[] {
  if (p.target === 'spam') return queue.filter((m) => m.authId === p.account);
  const settings = ruleSettings(ctx.host.vars);
  const local = localDomains({ host: ctx.host.name, queue, users: null, today: '', history: null, settings });
  const own = domainOf(p.account);
  if (own) local.add(own);
  // Every recipient known and foreign: a bounce to a local address, or to one the listing cut
  // short (domain unknown), stays.
  return queue.filter((m) => m.bounce && m.recipients.length > 0 && m.recipients.every((r, i) => recipientWhole(m, i) && !local.has(domainOf(r) ?? '')));
}

/** Ids per purge command (ids are ≤ 23 characters: far below the argument limit). */
const BATCH = 1000;

const hold = (p: P) => p.hold === true || (typeof p.hold === 'string' && ['true', 'yes', '1'].includes(p.hold.toLowerCase()));

export const purge: Action<typeof Params> = {
  name: 'purge',
  params: Params,
  describe: (p) => `${hold(p) ? 'hold' : 'delete'} ${p.target === 'spam' ? `the queued mail of ${p.account}` : 'the null-sender backscatter'}`,
  async run(p, ctx) {
    const ops = ctx.adapter.ops;
    if (!ops) throw new StepError(`${ctx.mta}: purging is not supported yet on this MTA`);
    const before = await readQueue(ctx);
    const chosen = select(before, p, ctx);
    const what = p.target === 'spam' ? `message(s) of ${p.account}` : 'null-sender bounce(s) to foreign addresses';
    if (!chosen.length) {
      ctx.say(`no ${what} in the queue`);
      return { listed: 0, done: [], skipped: [], remaining: 0, clean: true, queueAfter: before.length };
    }
    const sample = chosen.slice(0, 3).map((m) => `${m.id} <${m.sender}> → ${m.recipients.slice(0, 2).join(', ')}${m.recipients.length > 2 ? ` +${m.recipients.length - 2}` : ''}`);
    ctx.say(`${chosen.length} ${what} of ${before.length} queued; e.g.\n  ${sample.join('\n  ')}`);
    const mode = hold(p) ? 'hold' : 'delete';
    const go = await ctx.ask.confirm(`confirm.${ctx.step.id}`, `${mode === 'hold' ? 'Hold' : 'Delete'} these ${chosen.length} ${what}?`, false);
    if (!go) return { listed: chosen.length, done: [], skipped: [], remaining: chosen.length, clean: false, declined: true };
    // Batches keep each command under the kernel's limit for one `sh -c` argument (128 KiB).
    const res: PurgeResult = { done: [], skipped: [], warnings: [] };
    for (let i = 0; i < chosen.length; i += BATCH) {
      const batch = chosen.slice(i, i + BATCH);
      const plan = ops.purge(
        { binary: (ctx.scope.host as { binary?: string }).binary, vars: ctx.host.vars },
        {
          ids: batch.map((m) => m.id),
          match: p.target === 'spam' ? { kind: 'auth', authId: p.account } : { kind: 'bounce' },
          mode,
          // The sender seen when listing: a reused id with another message behind it is not touched.
          expect: Object.fromEntries(batch.map((m) => [m.id, { sender: m.sender }])),
        },
      );
      const r = await ctx.run(plan.command, { destructive: true, timeoutMs: 600_000 });
      if (ctx.dryRun) continue;
      const part = plan.parse(r.stdout, r.stderr, r.code);
      res.done.push(...part.done);
      res.skipped.push(...part.skipped);
      res.warnings.push(...part.warnings);
      // Journal each batch as it lands: a run killed mid-purge still shows what was removed.
      ctx.journal.append({ t: 'effect', step: ctx.step.id, key: mode, detail: { count: part.done.length, ids: part.done } });
    }
    if (ctx.dryRun) return { listed: chosen.length, done: [], skipped: [], remaining: chosen.length, clean: true, dryRun: true, ids: chosen.map((m) => m.id) };
    for (const w of res.warnings.slice(0, 5)) ctx.say(`warning: ${w}`);
    const after = await readQueue(ctx);
    const remaining = select(after, p, ctx).length;
    ctx.say(`${mode === 'hold' ? 'held' : 'deleted'} ${res.done.length}, skipped ${res.skipped.length}; ${remaining} left; queue now ${after.length}`);
    // Held mail stays in the queue (postfix hold, exim frozen): "clean" means none is left active.
    const active = mode === 'hold' ? select(after, p, ctx).filter((m) => !m.held && !m.frozen).length : remaining;
    return { listed: chosen.length, done: res.done.length, skipped: res.skipped, remaining, clean: active === 0, queueAfter: after.length };
  },
};

export const restartMta: Action<z.ZodObject<Record<string, never>>> = {
  name: 'restart-mta',
  params: z.object({}),
  describe: (_p, ctx) => `restart ${ctx.mta} on ${ctx.host.name} (cuts the spammer's open SMTP sessions)`,
  async run(_p, ctx) {
    const ops = ctx.adapter.ops;
    if (!ops) throw new StepError(`${ctx.mta}: restart is not supported yet on this MTA`);
    const plan = ops.restart({ binary: (ctx.scope.host as { binary?: string }).binary, vars: ctx.host.vars });
    const r = await ctx.run(plan.command, { destructive: true, timeoutMs: 180_000 });
    if (ctx.dryRun) return { ok: true, dryRun: true };
    const res = plan.parse(r.stdout, r.stderr, r.code);
    if (!res.ok) throw new StepError(`${ctx.mta} did not come back after the restart: ${res.detail}`);
    ctx.say(res.detail);
    return { ok: true, detail: res.detail };
  },
};
