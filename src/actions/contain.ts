// The `contain` step: stop a hijacked account from doing more harm, reversibly — hold its outgoing
// mail, suspend its sending or logins (cPanel, or the host's contain_commands), end its IMAP/POP
// sessions (doveadm kick). Each measure's state is read first: what was already in place is
// recorded as such and never lifted by `release`. Each measure done is journaled with its undo.
import { z } from 'zod';
import { StepError } from '../errors.js';
import type { Action, StepContext } from '../playbook/types.js';
import { quote } from '../transport/quote.js';
import { containCommands, MEASURES, type Measure, type ReversibleMeasure } from './contain-commands.js';
import { HostContain } from './contain-host.js';
import { WhmContain, whmCannot } from './contain-whm.js';
import { containKey, MEASURE_WORDS, type ContainEffect } from './containment.js';
import { whmConfig } from './integrations.js';

/** "hold,kick", ["hold","kick"] → the measures, in the order they are applied. */
const measureList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.enum(MEASURES)).min(1, 'name at least one measure: hold, suspend_outgoing, suspend_login, kick'))
  .transform((ms) => MEASURES.filter((m) => ms.includes(m)));

export const ContainParams = z.object({
  account: z.string().min(1),
  measures: measureList,
  /** 'account': hold / suspend_outgoing for the whole cPanel account that owns the domain. */
  scope: z.enum(['mailbox', 'account']).default('mailbox'),
});
type Params = z.infer<typeof ContainParams>;

/** How the host can do each measure, or why it cannot: checked before anything changes. */
export function containWays(
  vars: Record<string, unknown>,
  measures: readonly Measure[],
  scope: Params['scope'],
): { via: Record<Measure, 'whm' | 'command' | 'doveadm'>; problems: string[] } {
  const whm = whmConfig(vars);
  const cmds = containCommands(vars);
  const via = {} as Record<Measure, 'whm' | 'command' | 'doveadm'>;
  const problems: string[] = [];
  for (const m of measures) {
    if (m === 'kick') via[m] = cmds.kick ? 'command' : 'doveadm';
    else if (typeof whm !== 'string') {
      const why = whmCannot(m, scope);
      if (why) problems.push(why);
      via[m] = 'whm';
    } else if (cmds[m]) {
      if (scope === 'account') problems.push(`${m} for a whole cPanel account needs WHM (cpanel_url), not contain_commands`);
      via[m] = 'command';
    } else problems.push(`${m}: ${whm} and no contain_commands.${m} in the inventory`);
  }
  return { via, problems };
}

/** The control characters an account must not have, wherever it goes (stdin line, API, screen). */
export function badAccount(account: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(account)) return `the account ${JSON.stringify(account)} holds a newline or control character: refused`;
  return null;
}

export function releaseCommand(ctx: Pick<StepContext, 'host' | 'runId'>, account: string): string {
  return `mailsweep release ${quote(ctx.host.name)} --auth-id ${quote(account)} --run ${ctx.runId}`;
}

export const contain: Action<typeof ContainParams> = {
  name: 'contain',
  params: ContainParams,
  describe: (p) =>
    `contain ${p.account}: ${p.measures.map((m) => MEASURE_WORDS[m]).join(', ')}${p.scope === 'account' ? ' (whole cPanel account)' : ''}`,
  async run(p, ctx) {
    const bad = badAccount(p.account);
    if (bad) throw new StepError(bad);
    const { via, problems } = containWays(ctx.host.vars, p.measures, p.scope);
    if (problems.length)
      throw new StepError(`cannot contain ${p.account} on ${ctx.host.name}, nothing was changed:\n  ${problems.join('\n  ')}`);
    const needsWhm = Object.values(via).includes('whm');
    if (needsWhm && !p.account.includes('@'))
      throw new StepError(`${p.account} is not a mailbox address (user@domain): cPanel cannot contain it`);
    const whm = needsWhm
      ? new WhmContain(ctx, whmConfig(ctx.host.vars) as Exclude<ReturnType<typeof whmConfig>, string>, p.account, p.scope)
      : undefined;
    const host = new HostContain(ctx, containCommands(ctx.host.vars), p.account);
    if (whm && ctx.dryRun) whm.wouldCall(`getdomainowner(domain=${p.account.slice(p.account.lastIndexOf('@') + 1)})`);

    const done: ContainEffect[] = [];
    /** What a measure could not do though the run went on (a kick with no session or no dovecot). */
    const notes: string[] = [];
    let statedDry = false;
    for (const measure of p.measures) {
      const earlier = ctx.journal.effect(ctx.step.id, containKey(measure));
      if (earlier) {
        ctx.say(`${measure}: done earlier in run ${ctx.runId} (${earlier.at}): not again`);
        done.push(earlier.detail as ContainEffect);
        continue;
      }
      const base = { measure, account: p.account, scope: p.scope, via: via[measure] } as const;
      const record = (e: ContainEffect) => {
        ctx.journal.append({ t: 'effect', step: ctx.step.id, key: containKey(measure), detail: e });
        done.push(e);
      };
      if (measure === 'kick') {
        const why = await host.kick(p.account);
        if (ctx.dryRun) {
          if (why) ctx.say(`kick: ${why}`);
          continue;
        }
        ctx.say(why ? `kick: ${why}` : `kick: ended ${p.account}'s open IMAP/POP sessions (nothing to undo)`);
        if (why) notes.push(`kick: ${why}`);
        record({ ...base, prior: 'unknown', applied: why === null, undo: null, ...(why ? { note: why } : {}) });
        continue;
      }
      const m = measure as ReversibleMeasure;
      if (ctx.dryRun && via[m] === 'whm') {
        const d = whm!.describe(m);
        if (!statedDry) whm!.wouldCall(d.state);
        statedDry = true;
        whm!.wouldCall(d.apply);
        continue;
      }
      const prior = via[m] === 'whm' ? await whm!.prior(m) : await host.prior(m);
      if (prior === 'on') {
        ctx.say(`${m}: already in place before this run: left as it is; release will not lift it`);
        if (!ctx.dryRun) record({ ...base, prior, applied: false, undo: null });
        continue;
      }
      const undo = via[m] === 'whm' ? await whm!.apply(m) : await host.apply(m);
      if (ctx.dryRun) continue;
      record({ ...base, prior, applied: true, undo });
      ctx.say(
        `${m}: ${MEASURE_WORDS[m]} — done${prior === 'unknown' ? ' (its state before could not be read: release will ask before lifting it)' : ''}`,
      );
    }
    const release = releaseCommand(ctx, p.account);
    if (!ctx.dryRun) ctx.say(`to undo: ${release}`);
    return {
      account: p.account,
      contained: done.filter((e) => e.applied).map((e) => e.measure),
      alreadyInPlace: done.filter((e) => e.prior === 'on').map((e) => e.measure),
      ...(notes.length ? { notes } : {}),
      ...(ctx.dryRun ? { dryRun: true } : { release }),
    };
  },
};
