// Step b: set a strong random password on the hijacked mailbox — through WHM (uapi_cpanel
// Email::passwd_pop) or the host's own reset command — optionally suspend its outgoing mail and
// logins. Never twice: a resumed run finds the journaled effect and skips.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Action, StepContext } from '../playbook/types.js';
import { sh } from '../transport/quote.js';
import { ApiError, StepError } from '../errors.js';
import { resetCommand, whmConfig } from './integrations.js';
import { resolveSecret, safeUrl } from './secrets.js';
import { generatePassword, WhmClient } from './whm.js';

const flag = z
  .union([z.boolean(), z.string()])
  .transform((v) => v === true || (typeof v === 'string' && ['true', 'yes', '1'].includes(v.toLowerCase())));

const Params = z.object({
  account: z.string().min(3),
  suspend_outgoing: flag.default(false),
  suspend_login: flag.default(false),
});

/** What the host offers for resets: used before anything destructive runs. */
export function resetPreflight(ctx: Pick<StepContext, 'host'>): string | null {
  const w = whmConfig(ctx.host.vars);
  if (typeof w !== 'string') return null;
  if (resetCommand(ctx.host.vars)) return null;
  return `no way to reset a password on ${ctx.host.name}: ${w} and no password_reset_command in the inventory`;
}

function apiMessage(e: unknown): string {
  return e instanceof ApiError ? `${e.kind} error: ${e.message}` : (e as Error).message;
}

export const resetPassword: Action<typeof Params> = {
  name: 'reset-password',
  params: Params,
  describe: (p, ctx) =>
    `set a new random password on ${p.account} via ${typeof whmConfig(ctx.host.vars) === 'string' ? 'password_reset_command' : 'WHM/cPanel'}`,
  async run(p, ctx) {
    const prior = ctx.journal.effect(ctx.step.id, 'password-set');
    if (prior) {
      ctx.say(`password of ${p.account} was already reset at ${prior.at} (run ${ctx.runId}): not resetting again`);
      return { reset: true, earlier: true, ...(prior.detail as object) };
    }
    const why = resetPreflight(ctx);
    if (why) throw new StepError(why);
    const at = p.account.lastIndexOf('@');
    if (at < 1) throw new StepError(`${p.account} is not a mailbox address (user@domain): cannot reset it through cPanel`);
    const domain = p.account.slice(at + 1);
    const password = generatePassword(20);
    ctx.secret(password);
    // The hand-over file is written only once the reset is confirmed, before the effect is
    // journaled: a `new-password` file always holds the password the mailbox really has. If the
    // run dies between the two, the journal has no effect and a resume resets again (the
    // mailbox is locked either way), so nothing is lost that matters.
    const passwordFile = join(ctx.runDir, 'new-password');
    const handOver = () => writeFileSync(passwordFile, `${p.account}\t${password}\n`, { mode: 0o600 });

    const whm = whmConfig(ctx.host.vars);
    if (typeof whm !== 'string') {
      const calls = [`getdomainowner(domain=${domain})`, `uapi_cpanel Email::passwd_pop(email=${p.account}, password=[REDACTED])`];
      if (p.suspend_outgoing) calls.push(`uapi_cpanel Email::suspend_outgoing(email=${p.account})`);
      if (p.suspend_login) calls.push(`uapi_cpanel Email::suspend_login(email=${p.account})`);
      if (ctx.dryRun) {
        for (const c of calls) {
          ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whm', call: c, dryRun: true });
          ctx.say(`[dry-run] would call WHM ${safeUrl(whm.baseUrl)}: ${c}`);
        }
        return { reset: false, dryRun: true, via: 'whm' };
      }
      const token = await resolveSecret(whm.token, `WHM token for ${ctx.host.name}`);
      ctx.secret(token);
      const client = new WhmClient({ baseUrl: whm.baseUrl, user: whm.user, token, ca: whm.ca, insecure: whm.insecure });
      const call = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
        try {
          const r = await fn();
          ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whm', call: name, ok: true, dryRun: false });
          return r;
        } catch (e) {
          ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whm', call: name, ok: false, error: apiMessage(e), dryRun: false });
          throw new StepError(`WHM ${name} failed: ${apiMessage(e)}`);
        }
      };
      const cpUser = await call(calls[0]!, () => client.getDomainOwner(domain));
      await call(calls[1]!, () => client.setMailboxPassword(cpUser, p.account, password));
      handOver();
      const detail = { via: 'whm', cpanelUser: cpUser, passwordFile };
      ctx.journal.append({ t: 'effect', step: ctx.step.id, key: 'password-set', detail });
      if (p.suspend_outgoing) await call(calls[2]!, () => client.suspendOutgoing(cpUser, p.account));
      if (p.suspend_login) await call(calls[calls.length - 1]!, () => client.suspendLogin(cpUser, p.account));
      ctx.say(`new password set on ${p.account} (cPanel user ${cpUser}); it is in ${passwordFile} (mode 600)`);
      return { reset: true, ...detail, suspendedOutgoing: p.suspend_outgoing, suspendedLogin: p.suspend_login };
    }

    const cmd = resetCommand(ctx.host.vars)!;
    // The account goes in an environment variable (quoted), the password on stdin: never in argv.
    const full = sh`MAILSWEEP_ACCOUNT=${p.account} /bin/sh -c ${cmd}`;
    const r = await ctx.run(full, { destructive: true, stdin: `${password}\n` });
    if (ctx.dryRun) return { reset: false, dryRun: true, via: 'command' };
    if (r.code !== 0)
      throw new StepError(`password_reset_command failed (exit ${r.code}): ${r.stderr.split('\n')[0]}; no password was set`);
    handOver();
    const detail = { via: 'command', passwordFile };
    ctx.journal.append({ t: 'effect', step: ctx.step.id, key: 'password-set', detail });
    ctx.say(`new password set on ${p.account}; it is in ${passwordFile} (mode 600)`);
    return { reset: true, ...detail };
  },
};
