// Containment through cPanel & WHM: UAPI Email::* on one mailbox (via uapi_cpanel), or WHM API 1
// *_outgoing_email on the whole cPanel account that owns the mailbox's domain. Every call is
// journaled (redacted) as it happens; a dry run journals and shows the calls it would make.
import { ApiError, StepError } from '../errors.js';
import type { StepContext } from '../playbook/types.js';
import type { Measure, ReversibleMeasure } from './contain-commands.js';
import type { Prior, Undo } from './containment.js';
import type { WhmConfig } from './integrations.js';
import { resolveSecret, safeUrl } from './secrets.js';
import { WhmClient } from './whm.js';

const UAPI: Record<ReversibleMeasure, [string, string]> = {
  hold: ['hold_outgoing', 'release_outgoing'],
  suspend_outgoing: ['suspend_outgoing', 'unsuspend_outgoing'],
  suspend_login: ['suspend_login', 'unsuspend_login'],
};
/** WHM API 1 has no whole-account login suspension for mail: that measure is per mailbox only. */
const WHOLE: Partial<Record<ReversibleMeasure, [string, string]>> = {
  hold: ['hold_outgoing_email', 'release_outgoing_email'],
  suspend_outgoing: ['suspend_outgoing_email', 'unsuspend_outgoing_email'],
};
type WholeFn = 'hold_outgoing_email' | 'release_outgoing_email' | 'suspend_outgoing_email' | 'unsuspend_outgoing_email';

/** Why WHM cannot do `measure` at `scope`, or null. */
export function whmCannot(measure: Measure, scope: 'mailbox' | 'account'): string | null {
  if (measure === 'kick') return null;
  if (scope === 'account' && !WHOLE[measure]) return `${measure} has no whole-account form in WHM API 1 (it is per mailbox)`;
  return null;
}

const msg = (e: unknown) => (e instanceof ApiError ? `${e.kind} error: ${e.message}` : (e as Error).message);

export class WhmContain {
  private client?: WhmClient;
  private owner?: string;

  constructor(
    private readonly ctx: StepContext,
    private readonly cfg: WhmConfig,
    private readonly account: string,
    private readonly scope: 'mailbox' | 'account',
  ) {}

  /** A WHM call, journaled with its outcome; a failure is a step error naming the call. */
  private async call<T>(name: string, fn: (c: WhmClient) => Promise<T>): Promise<T> {
    const ctx = this.ctx;
    if (!this.client) {
      const token = await resolveSecret(this.cfg.token, `WHM token for ${ctx.host.name}`);
      ctx.secret(token);
      this.client = new WhmClient({ baseUrl: this.cfg.baseUrl, user: this.cfg.user, token, ca: this.cfg.ca, insecure: this.cfg.insecure });
    }
    try {
      const r = await fn(this.client);
      ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whm', call: name, ok: true, dryRun: false });
      return r;
    } catch (e) {
      ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whm', call: name, ok: false, error: msg(e), dryRun: false });
      throw new StepError(`WHM ${name} failed: ${msg(e)}`);
    }
  }

  /** A call a dry run would make: journaled and shown, not made. */
  wouldCall(name: string): void {
    this.ctx.journal.append({ t: 'api', step: this.ctx.step.id, service: 'whm', call: name, dryRun: true });
    this.ctx.say(`[dry-run] would call WHM ${safeUrl(this.cfg.baseUrl)}: ${name}`);
  }

  private get domain(): string {
    return this.account.slice(this.account.lastIndexOf('@') + 1);
  }

  /** The cPanel user that owns the mailbox's domain (WHM getdomainowner), asked once. */
  async cpanelUser(): Promise<string> {
    this.owner ??= await this.call(`getdomainowner(domain=${this.domain})`, (c) => c.getDomainOwner(this.domain));
    return this.owner;
  }

  /** The calls `measure` makes, for the plan and the dry run. */
  describe(measure: ReversibleMeasure, owner = '<owner of ' + this.domain + '>'): { state: string; apply: string } {
    if (this.scope === 'account') return { state: `accountsummary(user=${owner})`, apply: `${WHOLE[measure]![0]}(user=${owner})` };
    return {
      state: `uapi_cpanel Email::list_pops_with_disk(domain=${this.domain})`,
      apply: `uapi_cpanel Email::${UAPI[measure][0]}(email=${this.account})`,
    };
  }

  /** The restrictions as they were before this run changed any: read once, at the first measure. */
  private before?: Partial<Record<ReversibleMeasure, boolean | undefined>>;

  async prior(measure: ReversibleMeasure): Promise<Prior> {
    const owner = await this.cpanelUser();
    const d = this.describe(measure, owner);
    this.before ??=
      this.scope === 'account'
        ? await this.call(d.state, (c) => c.accountRestrictions(owner))
        : await this.call(d.state, (c) => c.mailboxRestrictions(owner, this.account));
    const now = this.before[measure];
    return now === undefined ? 'unknown' : now ? 'on' : 'off';
  }

  /** Puts `measure` in place; returns how to undo it. */
  async apply(measure: ReversibleMeasure): Promise<Undo> {
    const owner = await this.cpanelUser();
    const d = this.describe(measure, owner);
    if (this.scope === 'account') {
      const [on, off] = WHOLE[measure]!;
      await this.call(d.apply, (c) => c.accountOutgoing(on as WholeFn, owner));
      return { via: 'whm', api: 'whm', fn: off, cpanelUser: owner, call: `${off}(user=${owner})` };
    }
    const [on, off] = UAPI[measure];
    await this.call(d.apply, (c) => c.uapi(owner, 'Email', on, { email: this.account }));
    return {
      via: 'whm',
      api: 'uapi',
      fn: off,
      cpanelUser: owner,
      email: this.account,
      call: `uapi_cpanel Email::${off}(email=${this.account})`,
    };
  }

  /** Runs a recorded undo (release_outgoing, unsuspend_outgoing_email, …) exactly as recorded. */
  async undo(u: Extract<Undo, { via: 'whm' }>): Promise<void> {
    // A journal is data: only the undo functions containment itself records are ever called.
    const known = u.api === 'whm' ? Object.values(WHOLE).map((x) => x[1]) : Object.values(UAPI).map((x) => x[1]);
    if (!known.includes(u.fn)) throw new StepError(`the journal names ${u.fn} as an undo; mailsweep only undoes with ${known.join(', ')}`);
    if (u.api === 'whm') await this.call(u.call, (c) => c.accountOutgoing(u.fn as WholeFn, u.cpanelUser));
    else await this.call(u.call, (c) => c.uapi(u.cpanelUser, 'Email', u.fn, { email: u.email! }));
  }
}
