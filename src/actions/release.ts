// The `release` step: undo exactly what a contain run recorded for an account — the latest such run
// on this host, or the one named — in reverse order, each undo journaled (key release:<measure>,
// naming the contain run) so a second release or a resumed one never undoes twice. What was
// already in place before that run is left alone; a measure whose state before is unknown is
// lifted only on a deliberate yes (--force or the answers file), never by --yes alone.
import { dirname } from 'node:path';
import { z } from 'zod';
import { StepError } from '../errors.js';
import type { Action } from '../playbook/types.js';
import { containCommands, MEASURES } from './contain-commands.js';
import { findContainment } from './contain-journal.js';
import { HostContain } from './contain-host.js';
import { WhmContain } from './contain-whm.js';
import { describeUndo, RELEASE_WORDS, releaseKey, type ReleaseEffect } from './containment.js';
import { badAccount } from './contain.js';
import { whmConfig } from './integrations.js';

export const ReleaseParams = z.object({
  account: z.string().min(1),
  /** The contain run to undo; '' → the latest one for this account on this host. */
  run: z.string().default(''),
});

export const release: Action<typeof ReleaseParams> = {
  name: 'release',
  params: ReleaseParams,
  describe: (p) => `release ${p.account} from what ${p.run ? `run ${p.run}` : 'the latest contain run'} put in place`,
  async run(p, ctx) {
    const bad = badAccount(p.account);
    if (bad) throw new StepError(bad);
    const found = findContainment(dirname(ctx.runDir), ctx.host.name, p.account, p.run || undefined);
    if (!found)
      throw new StepError(
        `no contain run ${p.run ? `${p.run} ` : ''}recorded containing ${p.account} on ${ctx.host.name}: nothing to release`,
      );
    const ordered = [...found.effects].sort((a, b) => MEASURES.indexOf(b.measure) - MEASURES.indexOf(a.measure));
    for (const e of ordered) {
      if (e.measure === 'kick') ctx.say(`kick: ended sessions stay ended (nothing to undo)`);
      else if (e.prior === 'on') ctx.say(`${e.measure}: was already in place before run ${found.runId}: left as it is`);
    }
    const todo = ordered.filter(
      (e) => e.applied && e.undo && !found.released.has(e.measure) && !ctx.journal.effect(ctx.step.id, releaseKey(e.measure)),
    );
    for (const e of ordered) if (found.released.has(e.measure)) ctx.say(`${e.measure}: released earlier`);
    if (!todo.length) {
      ctx.say(`nothing left to release from run ${found.runId}`);
      return { account: p.account, containRun: found.runId, released: [] };
    }
    // Whether to lift what may have been someone else's: asked once, before anything changes.
    const unknown = todo.filter((e) => e.prior === 'unknown').map((e) => e.measure);
    if (unknown.length) {
      const ok = await ctx.ask.confirm(
        'release.unknown_prior',
        `run ${found.runId} could not read whether ${unknown.join(', ')} was already in place for ${p.account} before it; lift it anyway?`,
        false,
        { kind: 'override', flag: '--force' },
      );
      if (!ok)
        throw new StepError(
          `not lifting ${unknown.join(', ')} of ${p.account}: its state before run ${found.runId} is unknown; nothing was released`,
        );
    }
    const whmCfg = whmConfig(ctx.host.vars);
    const host = new HostContain(ctx, containCommands(ctx.host.vars), p.account);
    const released: string[] = [];
    for (const e of todo) {
      const u = e.undo!;
      if (u.via === 'whm') {
        if (typeof whmCfg === 'string')
          throw new StepError(
            `${e.measure} was put in place through WHM, but ${ctx.host.name} has ${whmCfg} now: release it in WHM (${u.call})`,
          );
        const whm = new WhmContain(ctx, whmCfg, p.account, e.scope);
        if (ctx.dryRun) {
          whm.wouldCall(u.call);
          continue;
        }
        await whm.undo(u);
      } else {
        await host.undo(u, e.measure);
        if (ctx.dryRun) continue;
      }
      const detail: ReleaseEffect = { measure: e.measure, account: p.account, containRun: found.runId, call: describeUndo(u) };
      ctx.journal.append({ t: 'effect', step: ctx.step.id, key: releaseKey(e.measure), detail });
      released.push(e.measure);
      ctx.say(`${e.measure}: released — ${RELEASE_WORDS[e.measure as keyof typeof RELEASE_WORDS]}`);
    }
    return { account: p.account, containRun: found.runId, released, ...(ctx.dryRun ? { dryRun: true } : {}) };
  },
};
