// WHMCS API client (the classic /includes/api.php endpoint), to notify the customer.
//
// Documented facts used here (WHMCS/developer-docs api/*.md, api-reference/*.md):
// - POST to https://<whmcs>/includes/api.php, form-encoded; `action`, `responsetype=json`.
// - Auth: `identifier` + `secret` (7.2+). Optional `accesskey` when the API IP restriction is
//   bypassed with $api_access_key.
// - Responses carry `result`: "success" or "error".
// - SendEmail: messagename | (customtype, customsubject, custommessage), id (related id:
//   client id for general, service id for product, …), customvars =
//   base64_encode(serialize(array(...))). Response {"result":"success"}.
// - OpenTicket: deptid, subject, message required; clientid, name, email, priority
//   (Low|Medium|High), markdown, noemail, … Response {"result":"success","id":"1","tid":"516757","c":"…"}.
// - GetClientsDetails: clientid or email ("The email address of the client to search for"),
//   errors "Either clientid Or email Is Required", "Client Not Found".
//
// UNCONFIRMED (not in the documents):
// - The error body {"result":"error","message":"…"} is what WHMCS sends in practice (WHMCS's own
//   api.php builds it from the exception message; reported in WHMCS/developer-docs#80) but the
//   docs only say `result` is "success or error". Some actions reportedly use `status` instead
//   of `result` (GetEmails, developer-docs#80): we accept both.
// - The text and HTTP status of an authentication failure ("Authentication Failed" is what users
//   report; the status may be 200 or 403): we map messages about authentication / IP /
//   access key and HTTP 401/403 to 'auth'.
// - The JSON shape of GetClientsDetails: the doc's example shows flattened keys like
//   "client[id]"; real installations are believed to return a nested "client" object. Both
//   are accepted.
// - Booleans are sent as http_build_query does ("1"/"0"), as in the docs' PHP examples.

import type https from 'node:https';
import { ApiError } from '../errors.js';
import { excerpt, httpsRequest, makeAgent } from './http.js';
import { phpSerializeBase64 } from './php-serialize.js';
import { Redactor } from '../text/redact.js';

export { phpSerialize, phpSerializeBase64 } from './php-serialize.js';

export interface WhmcsClientOptions {
  /** Full URL of api.php, e.g. https://billing.example.com/includes/api.php */
  url: string;
  identifier: string;
  secret: string;
  accesskey?: string;
  ca?: Buffer | string;
  insecure?: boolean;
  timeoutMs?: number;
}

export type WhmcsParams = Record<string, string | number | boolean | undefined>;

export type WhmcsCustomType = 'general' | 'product' | 'domain' | 'invoice' | 'support' | 'affiliate';

export interface SendEmailOptions {
  /** Name of a client email template. Either this or customtype. */
  messagename?: string;
  /** Related id: client id for 'general', service id for 'product', and so on. */
  id: number;
  customtype?: WhmcsCustomType;
  customsubject?: string;
  /** HTML body of a custom message. */
  custommessage?: string;
  /** Merge fields for the template; sent as base64(PHP serialize()). */
  customvars?: Record<string, unknown>;
}

export interface OpenTicketOptions {
  deptid: number;
  subject: string;
  message: string;
  clientid?: number;
  /** Name and email are required when the ticket is not for a client. */
  email?: string;
  name?: string;
  priority?: 'Low' | 'Medium' | 'High';
  markdown?: boolean;
  /** Do not send the ticket-opened email (WHMCS 8.3+). */
  noemail?: boolean;
  serviceid?: number;
  domainid?: number;
}

export interface OpenTicketResult {
  id: number;
  tid: string;
  c?: string;
}

export interface WhmcsClientSummary {
  id: number;
  email: string;
  firstname?: string;
  lastname?: string;
  companyname?: string;
  status?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const CUSTOM_TYPES = new Set(['general', 'product', 'domain', 'invoice', 'support', 'affiliate']);

function authLike(message: string): boolean {
  return /authenticat|invalid ip|forbidden ip|access key|api access|permission denied/i.test(message);
}

export class WhmcsClient {
  private readonly url: URL;
  private readonly identifier: string;
  private readonly secret: string;
  private readonly accesskey: string | undefined;
  private readonly agent: https.Agent;
  private readonly timeoutMs: number;
  private readonly redactor: Redactor;

  constructor(opts: WhmcsClientOptions) {
    this.url = new URL(opts.url);
    if (this.url.protocol !== 'https:') throw new TypeError(`WHMCS url must be https:// (got ${this.url.protocol}//${this.url.host})`);
    if (!opts.identifier || !opts.secret) throw new TypeError('WHMCS identifier and secret are required');
    this.identifier = opts.identifier;
    this.secret = opts.secret;
    this.accesskey = opts.accesskey;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.agent = makeAgent({ ...(opts.ca !== undefined ? { ca: opts.ca } : {}), insecure: opts.insecure === true });
    // The identifier is half of a credential pair: keep it out of messages too.
    this.redactor = new Redactor([opts.secret, opts.identifier, opts.accesskey]);
  }

  /** Call an API action; `result: "error"` → ApiError with the WHMCS message. */
  async call<T extends Record<string, unknown> = Record<string, unknown>>(action: string, params: WhmcsParams = {}): Promise<T> {
    const form = new URLSearchParams();
    form.set('action', action);
    form.set('identifier', this.identifier);
    form.set('secret', this.secret);
    if (this.accesskey) form.set('accesskey', this.accesskey);
    form.set('responsetype', 'json');
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) continue;
      form.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }
    const redact = this.redactor.redact;
    const res = await httpsRequest({
      url: this.url,
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: form.toString(),
      agent: this.agent,
      timeoutMs: this.timeoutMs,
      service: 'whmcs',
      call: action,
      redact,
    });

    let json: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(res.body);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    const result = json ? String(json.result ?? json.status ?? '') : '';
    const message = json && typeof json.message === 'string' ? redact(json.message) : undefined;

    if (res.status === 401 || res.status === 403 || (result === 'error' && message && authLike(message)))
      throw new ApiError('auth', `${action}: WHMCS refused the API credentials${message ? `: ${message}` : ''} (HTTP ${res.status})`, {
        service: 'whmcs',
        call: action,
        status: res.status,
        ...(message ? { errors: [message] } : {}),
      });
    if (result === 'error') {
      const kind = message && /not found/i.test(message) ? 'not-found' : 'api';
      throw new ApiError(kind, `${action}: WHMCS error: ${message ?? 'no message'}`, {
        service: 'whmcs',
        call: action,
        status: res.status,
        errors: message ? [message] : [],
      });
    }
    if (res.status !== 200)
      throw new ApiError('api', `${action}: WHMCS answered HTTP ${res.status}: ${excerpt(res.body, redact)}`, {
        service: 'whmcs',
        call: action,
        status: res.status,
      });
    if (!json || result !== 'success')
      throw new ApiError('api', `${action}: unexpected WHMCS response: ${excerpt(res.body, redact)}`, {
        service: 'whmcs',
        call: action,
        status: res.status,
      });
    return json as T;
  }

  /** SendEmail: a template (messagename) or a custom message (customtype + subject + body). */
  async sendEmail(opts: SendEmailOptions): Promise<void> {
    if (!opts.messagename && !opts.customtype) throw new TypeError('sendEmail: give messagename or customtype');
    if (opts.customtype !== undefined && !CUSTOM_TYPES.has(opts.customtype))
      throw new TypeError(`sendEmail: invalid customtype ${String(opts.customtype)}`);
    if (opts.customtype && !opts.messagename && (!opts.customsubject || !opts.custommessage))
      throw new TypeError('sendEmail: a custom message needs customsubject and custommessage');
    await this.call('SendEmail', {
      messagename: opts.messagename,
      id: opts.id,
      customtype: opts.customtype,
      customsubject: opts.customsubject,
      custommessage: opts.custommessage,
      customvars: opts.customvars !== undefined ? phpSerializeBase64(opts.customvars) : undefined,
    });
  }

  /** OpenTicket → the ticket's internal id, its public number (tid) and access code (c). */
  async openTicket(opts: OpenTicketOptions): Promise<OpenTicketResult> {
    if (opts.clientid === undefined && (!opts.name || !opts.email))
      throw new TypeError('openTicket: name and email are required when no clientid is given');
    const r = await this.call('OpenTicket', {
      deptid: opts.deptid,
      subject: opts.subject,
      message: opts.message,
      clientid: opts.clientid,
      name: opts.name,
      email: opts.email,
      priority: opts.priority,
      markdown: opts.markdown,
      noemail: opts.noemail,
      serviceid: opts.serviceid,
      domainid: opts.domainid,
    });
    const id = Number(r.id);
    if (!Number.isFinite(id) || r.tid === undefined)
      throw new ApiError('api', 'OpenTicket: response lacks id/tid', { service: 'whmcs', call: 'OpenTicket', status: 200 });
    return { id, tid: String(r.tid), ...(r.c !== undefined ? { c: String(r.c) } : {}) };
  }

  /**
   * GetClientsDetails with `email` (documented: "The email address of the client to search
   * for"). Returns null when WHMCS says "Client Not Found".
   */
  async findClientByEmail(email: string): Promise<WhmcsClientSummary | null> {
    return this.clientDetails({ email }, email);
  }

  /** GetClientsDetails with `clientid`: the client's own contact address. null: "Client Not Found". */
  async getClient(clientid: number): Promise<WhmcsClientSummary | null> {
    return this.clientDetails({ clientid }, '');
  }

  private async clientDetails(params: WhmcsParams, email: string): Promise<WhmcsClientSummary | null> {
    let r: Record<string, unknown>;
    try {
      r = await this.call('GetClientsDetails', params);
    } catch (err) {
      if (err instanceof ApiError && err.kind === 'not-found') return null;
      throw err;
    }
    const nested = (r.client && typeof r.client === 'object' ? r.client : {}) as Record<string, unknown>;
    const field = (name: string): unknown => nested[name] ?? r[`client[${name}]`] ?? r[name];
    const id = Number(field('id') ?? field('userid'));
    if (!Number.isFinite(id))
      throw new ApiError('api', 'GetClientsDetails: response lacks the client id', {
        service: 'whmcs',
        call: 'GetClientsDetails',
        status: 200,
      });
    const opt = (name: string): Record<string, string> => {
      const v = field(name);
      return v === undefined || v === null ? {} : { [name]: String(v) };
    };
    return {
      id,
      email: String(field('email') ?? email),
      ...opt('firstname'),
      ...opt('lastname'),
      ...opt('companyname'),
      ...opt('status'),
    };
  }
}
