// Step g: tell the customer what happened and what to do — WHMCS (SendEmail template, or a ticket)
// or plain SMTP mail. The new password goes to the customer only when the operator says so.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Action, StepContext } from '../playbook/types.js';
import { StepError } from '../playbook/types.js';
import { ApiError } from './api-error.js';
import { mailConfig, whmcsConfig } from './integrations.js';
import { sendNotice } from './mail.js';
import { resolveSecret } from './secrets.js';
import { WhmcsClient } from './whmcs.js';

const flag = z.union([z.boolean(), z.string()]).transform((v) => v === true || (typeof v === 'string' && ['true', 'yes', '1'].includes(v.toLowerCase())));

const Params = z.object({
  account: z.string().min(1),
  via: z.enum(['auto', 'whmcs', 'mail']).default('auto'),
  /** Put the new password in the message (otherwise the customer is told how to get one). */
  include_password: flag.default(false),
  spam_count: z.coerce.number().default(0),
});

export function notifyPreflight(ctx: Pick<StepContext, 'host'>): string | null {
  const w = whmcsConfig(ctx.host.vars);
  const m = mailConfig(ctx.host.vars);
  return typeof w === 'string' && typeof m === 'string' ? `no way to notify the customer of ${ctx.host.name}: ${w}, ${m}` : null;
}

export function noticeText(account: string, host: string, spam: number, password: string | null): string {
  return [
    'Hello,',
    '',
    `the mailbox ${account} was used by someone else to send spam through our mail server ${host}` + (spam ? ` (${spam} messages were removed from the queue).` : '.'),
    'Its password had most likely been phished or guessed. To stop the abuse we have set a new password on the mailbox.',
    '',
    password ? `The new password is: ${password}` : 'Please set a new password in your control panel (or ask us for one).',
    '',
    'What to do now:',
    ' - update the password in every mail program and phone that uses this mailbox;',
    ' - choose a password you do not use anywhere else;',
    ' - check the computers that use this mailbox for malware;',
    ' - never enter your mail password on a page reached from an e-mail link.',
    '',
    'Reply to this message if you have questions.',
  ].join('\n');
}

function errText(e: unknown): string {
  return e instanceof ApiError ? `${e.kind} error: ${e.message}` : (e as Error).message;
}

export const notify: Action<typeof Params> = {
  name: 'notify',
  params: Params,
  describe: (p) => `notify the customer of ${p.account} (${p.via})`,
  async run(p, ctx) {
    if (ctx.journal.effect(ctx.step.id, 'notified')) {
      ctx.say('customer already notified in an earlier attempt of this run');
      return { notified: true, earlier: true };
    }
    const why = notifyPreflight(ctx);
    if (why) throw new StepError(why);
    let password: string | null = null;
    if (p.include_password) {
      const f = join(ctx.runDir, 'new-password');
      if (!existsSync(f)) throw new StepError('include_password is set but this run reset no password');
      password = readFileSync(f, 'utf8').split('\t')[1]!.trim();
      ctx.secret(password);
    }
    const text = noticeText(p.account, ctx.host.name, p.spam_count, password);
    const subject = `Your mailbox ${p.account} was used to send spam`;
    const whmcs = whmcsConfig(ctx.host.vars);
    const useWhmcs = p.via === 'whmcs' || (p.via === 'auto' && typeof whmcs !== 'string');
    if (useWhmcs) {
      if (typeof whmcs === 'string') throw new StepError(`notify via whmcs: ${whmcs}`);
      const call = whmcs.template ? `SendEmail(messagename=${whmcs.template})` : 'OpenTicket';
      if (ctx.dryRun) {
        ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whmcs', call, dryRun: true });
        ctx.say(`[dry-run] would call WHMCS ${whmcs.url}: ${call} about ${p.account}`);
        return { notified: false, dryRun: true, via: 'whmcs' };
      }
      const identifier = await resolveSecret(whmcs.identifier, 'WHMCS API identifier');
      const secret = await resolveSecret(whmcs.secret, 'WHMCS API secret');
      ctx.secret(identifier);
      ctx.secret(secret);
      const client = new WhmcsClient({ url: whmcs.url, identifier, secret, ca: whmcs.ca, ...(whmcs.accesskey ? { accesskey: await resolveSecret(whmcs.accesskey, 'WHMCS access key') } : {}) });
      try {
        let clientId = whmcs.clientId;
        const contact = await ctx.ask.input('notify.customer_email', `Customer contact address for ${p.account} (not the hijacked mailbox)`, typeof ctx.host.vars.notify_to === 'string' ? ctx.host.vars.notify_to : undefined);
        if (!clientId && contact) clientId = (await client.findClientByEmail(contact))?.id as number | undefined;
        let result: Record<string, unknown>;
        if (whmcs.template) {
          if (!clientId) throw new StepError(`WHMCS: no client found for ${contact}; set whmcs_client_id or answer notify.customer_email`);
          await client.sendEmail({ messagename: whmcs.template, id: clientId, customvars: { account: p.account, host: ctx.host.name, spam_count: p.spam_count, ...(password ? { new_password: password } : {}) } });
          result = { via: 'whmcs', call: 'SendEmail', clientId };
        } else {
          if (!whmcs.deptId) throw new StepError('WHMCS: set whmcs_template (SendEmail) or whmcs_dept_id (OpenTicket)');
          const t = await client.openTicket({ deptid: whmcs.deptId, subject, message: text, ...(clientId ? { clientid: clientId } : { email: contact, name: contact }) });
          result = { via: 'whmcs', call: 'OpenTicket', ticket: t.tid };
        }
        ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whmcs', call, ok: true, dryRun: false });
        ctx.journal.append({ t: 'effect', step: ctx.step.id, key: 'notified', detail: result });
        ctx.say(`customer notified via WHMCS ${call}`);
        return { notified: true, ...result };
      } catch (e) {
        ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whmcs', call, ok: false, error: errText(e), dryRun: false });
        throw e instanceof StepError ? e : new StepError(`WHMCS ${call} failed: ${errText(e)}`);
      }
    }
    const mail = mailConfig(ctx.host.vars);
    if (typeof mail === 'string') throw new StepError(`notify via mail: ${mail}`);
    const to = await ctx.ask.input('notify.customer_email', `Customer contact address for ${p.account} (not the hijacked mailbox)`, mail.to);
    if (!to || to.toLowerCase() === p.account.toLowerCase()) throw new StepError('refusing to send the notice to the hijacked mailbox itself: give another contact address');
    if (ctx.dryRun) {
      ctx.say(`[dry-run] would mail ${to} via ${mail.smtp.host}:${mail.smtp.port}: "${subject}"`);
      return { notified: false, dryRun: true, via: 'mail' };
    }
    try {
      const r = await sendNotice({ smtp: mail.smtp, from: mail.from, to, subject, text });
      const detail = { via: 'mail', to, messageId: r.messageId };
      ctx.journal.append({ t: 'effect', step: ctx.step.id, key: 'notified', detail });
      ctx.say(`notice mailed to ${to}`);
      return { notified: true, ...detail };
    } catch (e) {
      throw new StepError(`mail notice failed: ${errText(e)}`);
    }
  },
};
