// Step g: tell the customer what happened and what to do — WHMCS (SendEmail template, or a ticket)
// or plain SMTP mail. The text is a Liquid template (playbooks/customer-notice.liquid) filled from
// what the run really did (journal); the new password goes out only when the operator says so and
// a reset really happened. The address comes from WHM or WHMCS, else notify_to, else a question.
import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { packagePath } from '../package-root.js';
import { Liquid } from 'liquidjs';
import { z } from 'zod';
import type { Action, StepContext } from '../playbook/types.js';
import { printable } from '../text/printable.js';
import { ApiError, StepError } from '../errors.js';
import { incidentFacts, latestEvidence, type IncidentFacts } from './facts.js';
import { mailConfig, whmConfig, whmcsConfig, type WhmcsConfig } from './integrations.js';
import { sendNotice } from './mail.js';
import { resolveSecret, safeUrl } from './secrets.js';
import { WhmClient } from './whm.js';
import { WhmcsClient } from './whmcs.js';

export const DEFAULT_NOTICE = packagePath('playbooks', 'customer-notice.liquid');

const flag = z
  .union([z.boolean(), z.string()])
  .transform((v) => v === true || (typeof v === 'string' && ['true', 'yes', '1'].includes(v.toLowerCase())));
const count = z
  .union([z.number(), z.string()])
  .optional()
  .transform((v) => (v === undefined || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v)));

const Params = z.object({
  account: z.string().min(1),
  via: z.enum(['auto', 'whmcs', 'mail']).default('auto'),
  /** Put the new password in the message (only if this run really set one). */
  include_password: flag.default(false),
  /** Notice template (Liquid); default: the `notify_template` var, else playbooks/customer-notice.liquid. */
  template: z.string().optional(),
  /** The steps whose journaled effects the notice reports. */
  reset_step: z.string().default('reset'),
  purge_step: z.string().default('purge'),
  backscatter_step: z.string().default('backscatter'),
  queue_before: count,
  spam_queued_before: count,
  /** Attach the run's evidence bundle (.tar.gz of an earlier `evidence` step) to a mailed notice; WHMCS cannot. */
  attach_evidence: flag.default(false),
  /** Older playbooks: the account's queued count before the purge (never reported as removed). */
  spam_count: count,
});
type P = z.infer<typeof Params>;

export function notifyPreflight(ctx: Pick<StepContext, 'host'>): string | null {
  const w = whmcsConfig(ctx.host.vars);
  const m = mailConfig(ctx.host.vars);
  return typeof w === 'string' && typeof m === 'string' ? `no way to notify the customer of ${ctx.host.name}: ${w}, ${m}` : null;
}

function errText(e: unknown): string {
  return e instanceof ApiError ? `${e.kind} error: ${e.message}` : (e as Error).message;
}

/** The values the template sees: every server-derived string made printable. */
export function noticeVars(
  p: Pick<P, 'account' | 'queue_before' | 'spam_queued_before' | 'spam_count'>,
  host: string,
  runId: string,
  facts: IncidentFacts,
  password: string | null,
  evidenceAttached = false,
): Record<string, unknown> {
  return {
    account: printable(p.account),
    host: printable(host),
    run_id: printable(runId),
    reset: facts.reset,
    password: password ?? '',
    suspended_outgoing: facts.suspendedOutgoing,
    spam_removed: facts.spamRemoved,
    backscatter_removed: facts.backscatterRemoved,
    held: facts.held,
    spam_queued_before: p.spam_queued_before ?? p.spam_count ?? -1,
    queue_before: p.queue_before ?? -1,
    queue_after: facts.queueAfter ?? -1,
    evidence_attached: evidenceAttached,
  };
}

const liquid = new Liquid({ strictVariables: true, strictFilters: true, ownPropertyOnly: true, cache: false });

/** Render a notice template: its first line `Subject: …` is the subject, the rest the text. */
export async function renderNotice(file: string, vars: Record<string, unknown>): Promise<{ subject: string; text: string }> {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new StepError(`notice template ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let out: string;
  try {
    out = await liquid.parseAndRender(source, vars);
  } catch (e) {
    // liquidjs names the line and column: "undefined variable: foo, line:3, col:5".
    throw new StepError(`notice template ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const m = /^Subject:[ \t]*(.*)\r?\n/.exec(out);
  if (!m || !m[1]!.trim()) throw new StepError(`notice template ${file}: the first line must be "Subject: …"`);
  const text =
    out
      .slice(m[0].length)
      .replace(/^\s*\n/, '')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n';
  return { subject: m[1]!.trim(), text };
}

const ADDRESS = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/;
/** One plain address: no list, no display name, no control or bidi character (printable() leaves it as is). */
const isAddress = (a: string): boolean => ADDRESS.test(a) && printable(a) === a;

interface Found {
  address: string;
  source: string;
  whmcsClientId?: number;
}

/**
 * Where the notice goes, from the systems that know the customer: WHM accountsummary (the cPanel
 * account's contact address) and WHMCS GetClientsDetails (whmcs_client_id) — the WHMCS client
 * first when the notice goes through WHMCS, since WHMCS mails that client's address — then
 * notify_to. An address that is the hijacked mailbox itself, or not an address, is passed over
 * (and said so).
 */
async function findAddress(
  p: P,
  ctx: StepContext,
  whmcs: WhmcsConfig | null,
  viaWhmcs: boolean,
  whmcsClient: () => Promise<WhmcsClient>,
): Promise<Found | null> {
  const usable = (a: string | null | undefined, source: string): string | null => {
    if (!a) return null;
    if (!isAddress(a)) {
      ctx.say(`${source} gives ${JSON.stringify(printable(a, { max: 120 }))}: not an e-mail address, not used`);
      return null;
    }
    if (a.toLowerCase() === p.account.toLowerCase()) {
      ctx.say(`${source} gives the hijacked mailbox itself as the contact: not used`);
      return null;
    }
    return a;
  };

  const fromWhm = async (): Promise<Found | null> => {
    const whm = whmConfig(ctx.host.vars);
    const at = p.account.lastIndexOf('@');
    if (typeof whm === 'string' || at < 1) return null;
    const domain = p.account.slice(at + 1);
    const call = `getdomainowner(domain=${domain}) + accountsummary`;
    try {
      const token = await resolveSecret(whm.token, `WHM token for ${ctx.host.name}`);
      ctx.secret(token);
      const client = new WhmClient({ baseUrl: whm.baseUrl, user: whm.user, token, ca: whm.ca, insecure: whm.insecure });
      const cpUser = await client.getDomainOwner(domain);
      const contact = await client.accountContact(cpUser);
      ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whm', call, ok: true, dryRun: false });
      const a = usable(contact.email, `WHM accountsummary of ${cpUser}`);
      if (a) return { address: a, source: `WHM accountsummary of cPanel account ${cpUser}` };
      if (!contact.email) ctx.say(`WHM: cPanel account ${cpUser} has no contact address`);
    } catch (e) {
      ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whm', call, ok: false, error: errText(e), dryRun: false });
      ctx.say(`WHM lookup of the customer's contact address failed: ${errText(e)}`);
    }
    return null;
  };

  const fromWhmcs = async (): Promise<Found | null> => {
    if (!whmcs?.clientId) return null;
    const call = `GetClientsDetails(clientid=${whmcs.clientId})`;
    try {
      const c = await (await whmcsClient()).getClient(whmcs.clientId);
      ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whmcs', call, ok: !!c, dryRun: false });
      const a = usable(c?.email, `WHMCS client ${whmcs.clientId}`);
      if (a) return { address: a, source: `WHMCS client ${whmcs.clientId}`, whmcsClientId: whmcs.clientId };
      if (!c) ctx.say(`WHMCS: client ${whmcs.clientId} not found`);
    } catch (e) {
      ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whmcs', call, ok: false, error: errText(e), dryRun: false });
      ctx.say(`WHMCS lookup of the customer's contact address failed: ${errText(e)}`);
    }
    return null;
  };

  for (const lookup of viaWhmcs ? [fromWhmcs, fromWhm] : [fromWhm, fromWhmcs]) {
    const f = await lookup();
    if (f) return f;
  }
  const to = typeof ctx.host.vars.notify_to === 'string' ? usable(ctx.host.vars.notify_to.trim(), 'notify_to') : null;
  return to ? { address: to, source: 'notify_to in the inventory' } : null;
}

/** The evidence bundle to attach, when asked for and possible (said why not otherwise). */
function evidenceAttachment(asked: boolean, viaWhmcs: boolean, ctx: StepContext): { filename: string; path: string } | null {
  if (!asked) return null;
  if (viaWhmcs) {
    ctx.say('attach_evidence: WHMCS notices cannot carry attachments; the evidence is not attached (it stays in the runs directory)');
    return null;
  }
  const ev = latestEvidence(ctx.journal.events);
  if (!ev || !existsSync(ev.archive)) {
    ctx.say('attach_evidence: this run wrote no evidence bundle (add an evidence step before notify); nothing attached');
    return null;
  }
  return { filename: basename(ev.archive), path: ev.archive };
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

    const facts = incidentFacts(ctx, { reset: p.reset_step, purge: p.purge_step, backscatter: p.backscatter_step });
    let password: string | null = null;
    if (p.include_password) {
      if (facts.reset === 'done' && facts.passwordFile) {
        password = readFileSync(facts.passwordFile, 'utf8').split('\t')[1]?.trim() || null;
        if (password) ctx.secret(password);
      }
      if (!password)
        ctx.say(`include_password is set, but this run set no password (reset: ${facts.reset}): the notice says so and carries none`);
    }
    const templateVar = typeof ctx.host.vars.notify_template === 'string' ? ctx.host.vars.notify_template : undefined;
    const template = resolve(p.template?.trim() || templateVar?.trim() || DEFAULT_NOTICE);
    const useWhmcsEarly = p.via === 'whmcs' || (p.via === 'auto' && typeof whmcsConfig(ctx.host.vars) !== 'string');
    const attachment = evidenceAttachment(p.attach_evidence, useWhmcsEarly, ctx);
    const vars = noticeVars(p, ctx.host.name, ctx.runId, facts, password, attachment !== null);
    const { subject, text } = await renderNotice(template, vars);

    const whmcsCfg = whmcsConfig(ctx.host.vars);
    const whmcs = typeof whmcsCfg === 'string' ? null : whmcsCfg;
    let client: WhmcsClient | undefined;
    const whmcsClient = async (): Promise<WhmcsClient> => {
      if (client) return client;
      if (!whmcs) throw new StepError('WHMCS is not configured');
      const identifier = await resolveSecret(whmcs.identifier, 'WHMCS API identifier');
      const secret = await resolveSecret(whmcs.secret, 'WHMCS API secret');
      ctx.secret(identifier);
      ctx.secret(secret);
      const accesskey = whmcs.accesskey ? await resolveSecret(whmcs.accesskey, 'WHMCS access key') : undefined;
      if (accesskey) ctx.secret(accesskey);
      client = new WhmcsClient({ url: whmcs.url, identifier, secret, ca: whmcs.ca, ...(accesskey ? { accesskey } : {}) });
      return client;
    };

    // The address: looked up (read-only, also in a dry run), then confirmed or overridden by the
    // operator or --answers; unattended with nothing found, the asker stops the step — no guess.
    const useWhmcs = p.via === 'whmcs' || (p.via === 'auto' && whmcs !== null);
    const found = await findAddress(p, ctx, whmcs, useWhmcs, whmcsClient);
    if (found) ctx.say(`customer contact: ${found.address} (${found.source})`);
    const question = `Customer contact address for ${p.account} (not the hijacked mailbox)`;
    let to: string;
    try {
      to = (await ctx.ask.input('notify.customer_email', question, found?.address)).trim();
    } catch (e) {
      if (!ctx.dryRun || !(e instanceof StepError)) throw e;
      ctx.say(`[dry-run] no contact address found (WHM, WHMCS, notify_to): a real run would stop here: ${e.message}`);
      to = '';
    }
    if (to && !isAddress(to))
      throw new StepError(`customer address ${JSON.stringify(printable(to, { max: 120 }))} is not an e-mail address`);
    if (to && to.toLowerCase() === p.account.toLowerCase())
      throw new StepError('refusing to send the notice to the hijacked mailbox itself: give another contact address');
    if (!to && !ctx.dryRun)
      throw new StepError(`no address to send the notice to for ${p.account}: set notify_to, or answer notify.customer_email`);

    const customvars = { ...vars, ...(password ? { new_password: password } : {}) };
    delete (customvars as Record<string, unknown>).password;
    // WHMCS notices carry no attachment: the flag means nothing there.
    delete (customvars as Record<string, unknown>).evidence_attached;
    if (ctx.dryRun) {
      const how = useWhmcs
        ? `WHMCS ${safeUrl(whmcs?.url ?? '(not configured)')}: ${whmcs?.template ? `SendEmail(messagename=${whmcs.template})` : 'OpenTicket'}`
        : (() => {
            const m = mailConfig(ctx.host.vars);
            return typeof m === 'string' ? `mail: ${m}` : `mail via ${m.smtp.host}:${m.smtp.port}`;
          })();
      ctx.journal.append({ t: 'api', step: ctx.step.id, service: useWhmcs ? 'whmcs' : 'smtp', call: how, dryRun: true });
      if (attachment) ctx.say(`[dry-run] would attach ${attachment.path}`);
      ctx.say(
        `[dry-run] would send the notice to ${to || '(address to be asked)'} through ${how}; as this dry run stands it reads:\nSubject: ${subject}\n\n${text}`,
      );
      return { notified: false, dryRun: true, via: useWhmcs ? 'whmcs' : 'mail', template };
    }

    if (useWhmcs) {
      if (!whmcs) throw new StepError(`notify via whmcs: ${String(whmcsCfg)}`);
      const call = whmcs.template ? `SendEmail(messagename=${whmcs.template})` : 'OpenTicket';
      try {
        const c = await whmcsClient();
        // WHMCS mails its client's own address: the client is the one whose address this is.
        const clientId =
          found?.whmcsClientId && found.address.toLowerCase() === to.toLowerCase()
            ? found.whmcsClientId
            : ((await c.findClientByEmail(to))?.id as number | undefined);
        let result: Record<string, unknown>;
        if (whmcs.template) {
          if (!clientId)
            throw new StepError(
              `WHMCS: no client has the address ${to}; set whmcs_client_id or answer notify.customer_email with the client's address`,
            );
          await c.sendEmail({ messagename: whmcs.template, id: clientId, customvars });
          result = { via: 'whmcs', call: 'SendEmail', clientId, to };
        } else {
          if (!whmcs.deptId) throw new StepError('WHMCS: set whmcs_template (SendEmail) or whmcs_dept_id (OpenTicket)');
          const t = await c.openTicket({
            deptid: whmcs.deptId,
            subject,
            message: text,
            ...(clientId ? { clientid: clientId } : { email: to, name: to }),
          });
          result = { via: 'whmcs', call: 'OpenTicket', ticket: t.tid, to };
        }
        ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whmcs', call, ok: true, dryRun: false });
        ctx.journal.append({ t: 'effect', step: ctx.step.id, key: 'notified', detail: { ...result, facts } });
        ctx.say(`customer notified via WHMCS ${call} (${to})`);
        return { notified: true, ...result };
      } catch (e) {
        ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whmcs', call, ok: false, error: errText(e), dryRun: false });
        throw e instanceof StepError ? e : new StepError(`WHMCS ${call} failed: ${errText(e)}`);
      }
    }
    const mail = mailConfig(ctx.host.vars);
    if (typeof mail === 'string') throw new StepError(`notify via mail: ${mail}`);
    try {
      const r = await sendNotice({
        smtp: mail.smtp,
        from: mail.from,
        to,
        subject,
        text,
        ...(attachment ? { attachments: [attachment] } : {}),
      });
      const detail = { via: 'mail', to, messageId: r.messageId, ...(attachment ? { attached: attachment.filename } : {}) };
      ctx.journal.append({ t: 'effect', step: ctx.step.id, key: 'notified', detail: { ...detail, facts } });
      ctx.say(`notice mailed to ${to}`);
      return { notified: true, ...detail };
    } catch (e) {
      throw new StepError(`mail notice failed: ${errText(e)}`);
    }
  },
};
