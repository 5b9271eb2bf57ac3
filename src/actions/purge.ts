// Steps d and e: list exactly the account's queued messages (or the backscatter), show count and
// sample, confirm, then delete or hold them with the MTA's own tool — each re-checked at delete time.
import { z } from 'zod';
import type { PurgeResult, QueueMessage } from '../mta/types.js';
import { addDomains, readLocalDomains, type LocalDomains } from '../mta/local-domains.js';
import type { Action, StepContext } from '../playbook/types.js';
import { StepError } from '../errors.js';
import { backscatterOf, classifyBounces, hostLocalDomains, senderOwners } from '../rules/backscatter.js';
import { ruleSettings } from '../rules/settings.js';
import { printable } from '../text/printable.js';
import { domainOf } from '../rules/types.js';

const Params = z.object({
  /** Whose spam: the auth id from the identify step. For backscatter, whose forged senders to prefer. */
  account: z.string().min(1),
  /** 'spam': messages submitted by the account; 'backscatter': null-sender bounces to foreign addresses. */
  target: z.enum(['spam', 'backscatter']).default('spam'),
  /** Quarantine for review instead of deleting. */
  hold: z.union([z.boolean(), z.string()]).default(false),
  /** Backscatter: the envelope senders the account used over the log window (identify's forgedSenders). */
  forged_senders: z.array(z.string()).default([]),
});
type P = z.infer<typeof Params>;

async function readQueue(ctx: StepContext): Promise<QueueMessage[]> {
  const a = ctx.adapter;
  const plan = a.attributedQueue(ctx.mtaHost);
  const r = await ctx.run(plan.command, { destructive: false, timeoutMs: 300_000 });
  const listing = plan.parse(r.stdout, r.stderr, r.code);
  if (!listing.messages.length && listing.reportedTotal === null && listing.warnings.length)
    throw new StepError(`cannot read the queue: ${listing.warnings[0]}`);
  return listing.messages;
}

/** What ties a bounce to the account, read fresh for every round. */
export interface BounceEvidence {
  local: LocalDomains;
  owners: Map<string, Set<string>>;
}

/** The host's local domains from the MTA's own configuration (two read-only round trips). */
async function bounceEvidence(queue: QueueMessage[], p: P, ctx: StepContext): Promise<BounceEvidence> {
  const mctx = ctx.mtaHost;
  const configured = await readLocalDomains(ctx.adapter.localDomains, mctx, {
    exec: async (command, stdin) => {
      const r = await ctx.run(command, { destructive: false, timeoutMs: 60_000, stdin });
      return { stdout: r.stdout, code: r.code };
    },
  });
  const local = hostLocalDomains(configured, ruleSettings(ctx.host.vars), null, queue);
  const own = domainOf(p.account);
  if (own) addDomains(local, [own]);
  return { local, owners: mergeOwners(senderOwners(queue, null), p) };
}

/** Add the senders the log showed the account using (identify) to the queue's owners. */
function mergeOwners(owners: Map<string, Set<string>>, p: P): Map<string, Set<string>> {
  for (const s of p.forged_senders) {
    const k = s.toLowerCase();
    (owners.get(k) ?? owners.set(k, new Set()).get(k)!).add(p.account);
  }
  return owners;
}

/**
 * The messages this step may touch, decided from fresh queue data: the account's own submissions,
 * or the bounces whose every recipient is proven foreign and is a sender the account's spam used.
 */
export function select(queue: QueueMessage[], p: Pick<P, 'target' | 'account'>, ev?: BounceEvidence): QueueMessage[] {
  if (p.target === 'spam') return queue.filter((m) => m.authId === p.account);
  if (!ev) throw new Error('backscatter selection needs the bounce evidence');
  return backscatterOf(classifyBounces(queue, ev.local, ev.owners, true), p.account);
}

/**
 * Ids per purge command. Not a size limit (the request goes on stdin: the command is the same few
 * KB for any number): each command pauses the MTA's daemon for its window, and the journal
 * records each command's removals as they land, so a run killed mid-purge shows what went.
 */
const CHUNK = 1000;

const hold = (p: P) => p.hold === true || (typeof p.hold === 'string' && ['true', 'yes', '1'].includes(p.hold.toLowerCase()));

export const purge: Action<typeof Params> = {
  name: 'purge',
  params: Params,
  describe: (p) =>
    `${hold(p) ? 'hold' : 'delete'} ${p.target === 'spam' ? `the queued mail of ${p.account}` : 'the null-sender backscatter'}`,
  async run(p, ctx) {
    const ops = ctx.adapter.ops;
    const before = await readQueue(ctx);
    const ev = p.target === 'backscatter' ? await bounceEvidence(before, p, ctx) : undefined;
    const chosen = select(before, p, ev);
    const what = p.target === 'spam' ? `message(s) of ${p.account}` : `bounce(s) of ${p.account}'s spam to foreign addresses`;
    // Bounces this step leaves alone, reported (never deleted): foreign but not the account's, local, unknown.
    let leftAlone: { foreignNotTied: number; other: number } | undefined;
    if (ev) {
      const foreign = classifyBounces(before, ev.local, ev.owners, true).filter((v) => v.foreign).length;
      const bounces = before.filter((m) => m.bounce).length;
      leftAlone = { foreignNotTied: foreign - chosen.length, other: bounces - foreign };
      if (ev.local.unknown.length)
        ctx.say(
          `local domains not fully known (${ev.local.unknown.slice(0, 3).join('; ')}): no bounce is proven foreign; set local_domains in the inventory`,
        );
      if (bounces > chosen.length)
        ctx.say(
          `${bounces - chosen.length} other null-sender message(s) left alone (${foreign - chosen.length} foreign but not tied to ${p.account}; the rest to local or unknown addresses)`,
        );
    }
    if (!chosen.length) {
      ctx.say(`no ${printable(what)} in the queue`);
      return { listed: 0, done: 0, skipped: [], remaining: 0, clean: true, queueAfter: before.length, ...(leftAlone ? { leftAlone } : {}) };
    }
    // Each address made printable on its own: a newline in a sender must not fake a line before "Delete?".
    const sample = chosen.slice(0, 3).map(
      (m) =>
        `${m.id} <${printable(m.sender, { max: 120 })}> → ${m.recipients
          .slice(0, 2)
          .map((r) => printable(r, { max: 120 }))
          .join(', ')}${m.recipients.length > 2 ? ` +${m.recipients.length - 2}` : ''}`,
    );
    ctx.say(`${chosen.length} ${what} of ${before.length} queued; e.g.\n  ${sample.join('\n  ')}`);
    const mode = hold(p) ? 'hold' : 'delete';
    const go = await ctx.ask.confirm(
      `confirm.${ctx.step.id}`,
      `${mode === 'hold' ? 'Hold' : 'Delete'} these ${chosen.length} ${what}?`,
      false,
      { kind: 'plan' },
    );
    if (!go) return { listed: chosen.length, done: 0, skipped: [], remaining: chosen.length, clean: false, declined: true };
    const res: PurgeResult = { done: [], skipped: [], warnings: [] };
    for (let i = 0; i < chosen.length; i += CHUNK) {
      const batch = chosen.slice(i, i + CHUNK);
      const plan = ops.purge(ctx.mtaHost, {
        ids: batch.map((m) => m.id),
        match: p.target === 'spam' ? { kind: 'auth', authId: p.account } : { kind: 'bounce' },
        mode,
        // The sender seen when listing: a reused id with another message behind it is not touched.
        // Backscatter: the recipients proven foreign and tied to the account, re-checked at delete time.
        expect: Object.fromEntries(
          batch.map((m) => [m.id, p.target === 'backscatter' ? { sender: m.sender, recipients: m.recipients } : { sender: m.sender }]),
        ),
      });
      const r = await ctx.run(plan.command, { destructive: true, timeoutMs: 600_000, stdin: plan.stdin });
      if (ctx.dryRun) continue;
      const part = plan.parse(r.stdout, r.stderr, r.code);
      res.done.push(...part.done);
      res.skipped.push(...part.skipped);
      res.warnings.push(...part.warnings);
      // What the server did around the removal (queue runners paused / ended / resumed): shown and journaled.
      for (const n of part.notes ?? []) ctx.say(n);
      // Journal each command's removals as they land: a run killed mid-purge still shows what was removed.
      ctx.journal.append({
        t: 'effect',
        step: ctx.step.id,
        key: mode,
        detail: { count: part.done.length, ids: part.done, ...(part.notes?.length ? { notes: part.notes } : {}) },
      });
    }
    if (ctx.dryRun)
      return {
        listed: chosen.length,
        done: 0,
        skipped: [],
        remaining: chosen.length,
        clean: true,
        dryRun: true,
        ids: chosen.map((m) => m.id),
      };
    for (const w of res.warnings.slice(0, 5)) ctx.say(`warning: ${w}`);
    const after = await readQueue(ctx);
    // The same local domains; owners again from the queue as it is now.
    const evAfter = ev ? { local: ev.local, owners: mergeOwners(senderOwners(after, null), p) } : undefined;
    const remaining = select(after, p, evAfter).length;
    ctx.say(
      `${mode === 'hold' ? 'held' : 'deleted'} ${res.done.length}, skipped ${res.skipped.length}; ${remaining} left; queue now ${after.length}`,
    );
    // Held mail stays in the queue (postfix hold, exim frozen): "clean" means none is left active.
    const active = mode === 'hold' ? select(after, p, evAfter).filter((m) => !m.held && !m.frozen).length : remaining;
    return {
      listed: chosen.length,
      done: res.done.length,
      skipped: res.skipped,
      remaining,
      clean: active === 0,
      queueAfter: after.length,
      ...(leftAlone ? { leftAlone } : {}),
    };
  },
};
