// WHM API 1 client (cPanel & WHM), for resetting and suspending a hijacked mailbox.
//
// Documented facts used here (api.docs.cpanel.net; see /work/shared/notes/mta-api-facts.md §4):
// - URL: https://host:2087/json-api/<function>?api.version=1&…  (without api.version=1 the call
//   falls back to API 0). JSON output only.
// - Token auth: header `Authorization: whm USERNAME:TOKEN` (root or a reseller).
// - Response: {"data":{…},"metadata":{"command","reason","result":1|0,"version":1}}.
// - getdomainowner(domain) → {"data":{"user":"username"},"metadata":{…,"reason":"OK","result":1}}.
// - uapi_cpanel(cpanel.user, cpanel.module, cpanel.function, …UAPI params) → UAPI result in
//   data.uapi: {"status":1|0,"errors":[…]|null,"messages","warnings","metadata":{},"data":…}.
//   UAPI failures arrive as HTTP 200 with status 0.
// - Email::passwd_pop: email (user or full address), password, domain (default: main domain).
// - Email::suspend_outgoing / unsuspend_outgoing, suspend_login / unsuspend_login: email.
// - Email::hold_outgoing ("sets Exim's queue to not send outgoing mail"; does not hold local
//   mail) / Email::release_outgoing ("sends all of the outgoing mail from Exim's queue"): email;
//   data null. The documented examples pass a full address in `email`.
// - WHM API 1 hold_outgoing_email / release_outgoing_email / suspend_outgoing_email /
//   unsuspend_outgoing_email: `user` (the cPanel account; not root) → metadata only (no data).
// - Email::list_pops: regex, skip_main, no_validate → data [{email, login, suspended_incoming,
//   suspended_login}].
// - accountsummary(user | domain) → {"data":{"acct":[{domain, email (the account's contact
//   address), user, owner, suspended, …}]},"metadata":{…}} (api.docs.cpanel.net, WHM API 1,
//   "Return cPanel account summary"). The 2009 API-0 example shows "email":"*unknown*" when unset.
//
// UNCONFIRMED (not found in the documents; handled defensively, see comments below):
// - the HTTP status and body cpsrvd returns for a bad/expired token (401 and 403 both → 'auth');
// - what getdomainowner returns for a domain nobody owns (result 0 with a reason, or result 1
//   with an empty user: both → 'not-found');
// - whether WHM API 1 accepts the parameters as a POST form body (method: 'POST' is opt-in;
//   the documented form is GET with a query string);
// - the `reason` text for a bad cpanel.user in uapi_cpanel;
// - Email::list_pops_with_disk rows carrying hold_outgoing / suspended_outgoing / suspended_login
//   (0|1): the field names cPanel's own webmail UI and third-party clients read, not seen on a
//   documentation page; accountsummary's outgoing_mail_hold / outgoing_mail_suspended likewise.
//   A field that is absent reads as "unknown", never as "not in place".

import { randomInt } from 'node:crypto';
import type https from 'node:https';
import { ApiError } from '../errors.js';
import { excerpt, httpsRequest, makeAgent } from './http.js';
import { Redactor } from '../text/redact.js';

export interface WhmClientOptions {
  /** e.g. https://host.example.com:2087 */
  baseUrl: string;
  /** WHM user the token belongs to: root or a reseller. */
  user: string;
  token: string;
  /** Extra trusted CA (PEM), e.g. the host's self-signed cpsrvd certificate. */
  ca?: Buffer | string;
  /** Disable certificate verification. Only when explicitly requested. */
  insecure?: boolean;
  /** Overall timeout of one call, default 30 s. */
  timeoutMs?: number;
  /**
   * GET (documented) puts parameters in the query string, so a new mailbox password ends up in
   * the server's cpsrvd access log. POST sends them as a form body; that WHM API 1 accepts this
   * is UNCONFIRMED by the documents, so it is opt-in.
   */
  method?: 'GET' | 'POST';
}

export type Params = Record<string, string | number | boolean | undefined>;

export interface WhmMetadata {
  command?: string;
  reason?: string;
  result: 0 | 1 | number;
  version?: number;
  [k: string]: unknown;
}

export interface WhmResponse<T = unknown> {
  data: T;
  metadata: WhmMetadata;
}

export interface UapiResult<T = unknown> {
  status: 0 | 1 | number;
  errors: string[] | null;
  messages: string[] | null;
  warnings: string[] | null;
  metadata: Record<string, unknown>;
  data: T;
}

export interface PopAccount {
  email: string;
  login: string;
  suspended_incoming?: number | boolean;
  suspended_login?: number | boolean;
  [k: string]: unknown;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function splitAddress(email: string): { local: string; domain: string | undefined } {
  const at = email.lastIndexOf('@');
  if (at <= 0) return { local: email, domain: undefined };
  return { local: email.slice(0, at), domain: email.slice(at + 1) };
}

/** cPanel's 0/1 flags (numbers, strings or booleans); anything else is "unknown". */
function flag01(v: unknown): boolean | undefined {
  if (v === 1 || v === '1' || v === true) return true;
  if (v === 0 || v === '0' || v === false) return false;
  return undefined;
}

export class WhmClient {
  private readonly base: URL;
  private readonly user: string;
  private readonly token: string;
  private readonly agent: https.Agent;
  private readonly timeoutMs: number;
  private readonly method: 'GET' | 'POST';
  /** Holds the token and every password this client has sent; used on every message. */
  private readonly redactor: Redactor;

  constructor(opts: WhmClientOptions) {
    this.base = new URL(opts.baseUrl);
    if (this.base.protocol !== 'https:') throw new TypeError(`WHM baseUrl must be https:// (got ${this.base.protocol}//${this.base.host})`);
    if (!opts.user) throw new TypeError('WHM user is required');
    if (!opts.token) throw new TypeError('WHM token is required');
    this.user = opts.user;
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.method = opts.method ?? 'GET';
    this.agent = makeAgent({ ...(opts.ca !== undefined ? { ca: opts.ca } : {}), insecure: opts.insecure === true });
    this.redactor = new Redactor([opts.token]);
  }

  /** Hide a secret from every message this client produces from now on (e.g. a password). */
  addSecret(secret: string): void {
    this.redactor.add(secret);
  }

  /** Call a WHM API 1 function; metadata.result 0 → ApiError. */
  async call<T = unknown>(fn: string, params: Params = {}, label = fn): Promise<WhmResponse<T>> {
    const url = new URL(`/json-api/${encodeURIComponent(fn)}`, this.base);
    const form = new URLSearchParams();
    form.set('api.version', '1');
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) continue;
      form.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }
    const headers: Record<string, string> = {
      Authorization: `whm ${this.user}:${this.token}`,
      Accept: 'application/json',
    };
    let body: string | undefined;
    if (this.method === 'GET') url.search = form.toString();
    else {
      body = form.toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    const redact = this.redactor.redact;
    const res = await httpsRequest({
      url,
      method: this.method,
      headers,
      ...(body !== undefined ? { body } : {}),
      agent: this.agent,
      timeoutMs: this.timeoutMs,
      service: 'whm',
      call: label,
      redact,
    });

    if (res.status === 401 || res.status === 403)
      throw new ApiError(
        'auth',
        `${label}: WHM refused the credentials of user ${this.user} (HTTP ${res.status}); check the API token and its ACLs`,
        { service: 'whm', call: label, status: res.status },
      );
    if (res.status !== 200)
      throw new ApiError('api', `${label}: WHM answered HTTP ${res.status}: ${excerpt(res.body, redact)}`, {
        service: 'whm',
        call: label,
        status: res.status,
      });

    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      throw new ApiError('api', `${label}: WHM answered with non-JSON: ${excerpt(res.body, redact)}`, {
        service: 'whm',
        call: label,
        status: res.status,
      });
    }
    const obj = json as Partial<WhmResponse<T>>;
    const meta = obj?.metadata;
    if (!meta || typeof meta !== 'object' || meta.result === undefined)
      throw new ApiError(
        'api',
        `${label}: unexpected WHM response (no metadata.result; was api.version=1 honoured?): ${excerpt(res.body, redact)}`,
        { service: 'whm', call: label, status: res.status },
      );
    if (Number(meta.result) !== 1) {
      const reason = redact(String(meta.reason ?? 'no reason given'));
      // UNCONFIRMED heuristic: WHM reports missing privileges through metadata.reason.
      const kind = /access denied|permission|not authori[sz]ed/i.test(reason) ? 'auth' : 'api';
      throw new ApiError(kind, `${label}: WHM API error: ${reason}`, {
        service: 'whm',
        call: label,
        status: res.status,
        errors: [reason],
      });
    }
    return obj as WhmResponse<T>;
  }

  /** WHM API 1 getdomainowner: the cPanel user that owns `domain`. Unknown domain → 'not-found'. */
  async getDomainOwner(domain: string): Promise<string> {
    let res: WhmResponse<{ user?: string | null } | null>;
    try {
      res = await this.call<{ user?: string | null } | null>('getdomainowner', { domain });
    } catch (err) {
      // UNCONFIRMED: the failure shape for an unowned domain is not documented; we assume
      // metadata.result 0 with a reason mentioning the domain not existing / not being owned.
      if (err instanceof ApiError && err.kind === 'api' && err.status === 200) {
        const reason = err.errors?.[0] ?? '';
        if (/\b(not|n't) (exist|found|own)|does not|no such|unknown|invalid domain|not a valid/i.test(reason))
          throw new ApiError('not-found', `getdomainowner: no cPanel account owns ${domain} (${reason})`, {
            service: 'whm',
            call: 'getdomainowner',
            status: 200,
            errors: [reason],
          });
      }
      throw err;
    }
    const user = res.data?.user;
    if (typeof user !== 'string' || user === '')
      throw new ApiError('not-found', `getdomainowner: no cPanel account owns ${domain}`, {
        service: 'whm',
        call: 'getdomainowner',
        status: 200,
      });
    return user;
  }

  /**
   * Run a UAPI function as a cPanel user through WHM API 1 uapi_cpanel. Returns the UAPI result
   * (data.uapi); UAPI status 0 (inside HTTP 200) → ApiError 'api' with the UAPI errors joined.
   */
  async uapi<T = unknown>(cpanelUser: string, module: string, func: string, params: Params = {}): Promise<UapiResult<T>> {
    const label = `${module}::${func}`;
    const res = await this.call<{ uapi?: UapiResult<T> }>(
      'uapi_cpanel',
      { ...params, 'cpanel.user': cpanelUser, 'cpanel.module': module, 'cpanel.function': func },
      label,
    );
    const u = res.data?.uapi;
    if (!u || typeof u !== 'object' || u.status === undefined)
      throw new ApiError('api', `${label}: uapi_cpanel answered without data.uapi`, { service: 'whm', call: label, status: 200 });
    if (Number(u.status) !== 1) {
      const errors = (Array.isArray(u.errors) ? u.errors : u.errors ? [String(u.errors)] : []).map((e) => this.redactor.redact(String(e)));
      throw new ApiError('api', `${label} as ${cpanelUser}: ${errors.length > 0 ? errors.join('; ') : 'failed without an error message'}`, {
        service: 'whm',
        call: label,
        status: 200,
        errors,
      });
    }
    return u;
  }

  /**
   * UAPI Email::passwd_pop. `email` is a full address (user@domain): it is sent as
   * email=<local part> and domain=<domain>, the documented unambiguous form (the doc also
   * allows a full address in `email`). A bare local part uses the account's main domain.
   */
  async setMailboxPassword(cpanelUser: string, email: string, password: string): Promise<void> {
    if (!password) throw new TypeError('setMailboxPassword: empty password');
    this.redactor.add(password);
    const { local, domain } = splitAddress(email);
    await this.uapi(cpanelUser, 'Email', 'passwd_pop', { email: local, password, domain });
  }

  /** UAPI Email::suspend_outgoing: the mailbox can log in but cannot send. */
  async suspendOutgoing(cpanelUser: string, email: string): Promise<void> {
    await this.uapi(cpanelUser, 'Email', 'suspend_outgoing', { email });
  }

  async unsuspendOutgoing(cpanelUser: string, email: string): Promise<void> {
    await this.uapi(cpanelUser, 'Email', 'unsuspend_outgoing', { email });
  }

  /** UAPI Email::suspend_login: no further authenticated connections; mail still arrives. */
  async suspendLogin(cpanelUser: string, email: string): Promise<void> {
    await this.uapi(cpanelUser, 'Email', 'suspend_login', { email });
  }

  async unsuspendLogin(cpanelUser: string, email: string): Promise<void> {
    await this.uapi(cpanelUser, 'Email', 'unsuspend_login', { email });
  }

  /** UAPI Email::hold_outgoing: the mailbox's outgoing mail waits in Exim's queue (release_outgoing sends it). */
  async holdOutgoing(cpanelUser: string, email: string): Promise<void> {
    await this.uapi(cpanelUser, 'Email', 'hold_outgoing', { email });
  }

  async releaseOutgoing(cpanelUser: string, email: string): Promise<void> {
    await this.uapi(cpanelUser, 'Email', 'release_outgoing', { email });
  }

  /**
   * Which restrictions a mailbox has now, from Email::list_pops_with_disk (UNCONFIRMED field
   * names, see the top): true/false per restriction, undefined when the row or field is absent.
   */
  async mailboxRestrictions(
    cpanelUser: string,
    email: string,
  ): Promise<Record<'hold' | 'suspend_outgoing' | 'suspend_login', boolean | undefined>> {
    const { domain } = splitAddress(email);
    const u = await this.uapi<Record<string, unknown>[] | null>(cpanelUser, 'Email', 'list_pops_with_disk', domain ? { domain } : {});
    const row = (Array.isArray(u.data) ? u.data : []).find((r) => String(r.email ?? r.login ?? '').toLowerCase() === email.toLowerCase());
    return {
      hold: flag01(row?.hold_outgoing),
      suspend_outgoing: flag01(row?.suspended_outgoing),
      suspend_login: flag01(row?.suspended_login),
    };
  }

  /** WHM API 1 for a whole cPanel account (never root): hold/release, suspend/unsuspend its outgoing mail. */
  async accountOutgoing(
    fn: 'hold_outgoing_email' | 'release_outgoing_email' | 'suspend_outgoing_email' | 'unsuspend_outgoing_email',
    cpanelUser: string,
  ): Promise<void> {
    await this.call(fn, { user: cpanelUser });
  }

  /** The whole account's outgoing restrictions from accountsummary (UNCONFIRMED fields): undefined when absent. */
  async accountRestrictions(cpanelUser: string): Promise<Record<'hold' | 'suspend_outgoing', boolean | undefined>> {
    const res = await this.call<{ acct?: Record<string, unknown>[] } | null>('accountsummary', { user: cpanelUser });
    const acct = Array.isArray(res.data?.acct) ? res.data.acct[0] : undefined;
    return { hold: flag01(acct?.outgoing_mail_hold), suspend_outgoing: flag01(acct?.outgoing_mail_suspended) };
  }

  /**
   * WHM API 1 accountsummary(user): the cPanel account's summary; `email` is its contact address
   * (documented shape: data.acct[] with domain, email, user, suspended, …; older versions show
   * "*unknown*" when none is set). Returns null when the account has no usable contact address.
   */
  async accountContact(cpanelUser: string): Promise<{ email: string | null; domain?: string }> {
    const res = await this.call<{ acct?: { email?: unknown; domain?: unknown }[] } | null>('accountsummary', { user: cpanelUser });
    const acct = Array.isArray(res.data?.acct) ? res.data.acct[0] : undefined;
    if (!acct)
      throw new ApiError('not-found', `accountsummary: no cPanel account ${cpanelUser}`, {
        service: 'whm',
        call: 'accountsummary',
        status: 200,
      });
    const email = typeof acct.email === 'string' && acct.email.includes('@') ? acct.email.trim() : null;
    return { email, ...(typeof acct.domain === 'string' ? { domain: acct.domain } : {}) };
  }

  /** UAPI Email::list_pops (regex is a PCRE applied by cPanel). */
  async listPops(cpanelUser: string, regex?: string): Promise<PopAccount[]> {
    const u = await this.uapi<PopAccount[] | null>(cpanelUser, 'Email', 'list_pops', regex ? { regex } : {});
    return Array.isArray(u.data) ? u.data : [];
  }
}

// ---------------------------------------------------------------------------------------

const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ'; // no I, O
const LOWER = 'abcdefghijkmnopqrstuvwxyz'; // no l
const DIGIT = '23456789'; // no 0, 1
/** Symbols that need no quoting in POSIX shells and no escaping in URLs / form values. */
const SYMBOL = '-_.,:@';

/**
 * A random password from node:crypto with at least one upper-case letter, lower-case letter,
 * digit and symbol. Avoids look-alikes and characters special to shells or URLs
 * ($ ` " ' \ ! & ; | < > ( ) * ? [ ] { } # ~ % + = / space).
 */
export function generatePassword(length = 20): string {
  if (!Number.isInteger(length) || length < 8 || length > 256)
    throw new RangeError('generatePassword: length must be an integer from 8 to 256');
  const pick = (set: string): string => set[randomInt(set.length)] as string;
  const all = UPPER + LOWER + DIGIT + SYMBOL;
  const chars = [pick(UPPER), pick(LOWER), pick(DIGIT), pick(SYMBOL)];
  while (chars.length < length) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  // Do not start with '-' (it would look like an option on a command line).
  if (chars[0] === '-') {
    const k = chars.findIndex((c) => /[A-Za-z0-9]/.test(c));
    [chars[0], chars[k]] = [chars[k] as string, chars[0] as string];
  }
  return chars.join('');
}
