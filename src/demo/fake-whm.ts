// FAKE WHM (cPanel & WHM API 1) server for tests and `mailsweep demo --incident`. cPanel is
// commercial and cannot run here; this is NOT cPanel, it imitates only what the documents say
// (api.docs.cpanel.net, see /work/shared/notes/mta-api-facts.md §4):
// - HTTPS on 127.0.0.1 (self-signed cert made at start), /json-api/<function>, JSON only;
// - `Authorization: whm USER:TOKEN`;
// - `api.version=1` required (without it real WHM falls back to API 0; the fake answers with
//   an API-0-looking body that has no `metadata`);
// - {"data":…,"metadata":{"command","reason","result":1|0,"version":1}};
// - getdomainowner → data.user;
// - accountsummary (user or domain) → data.acct = [{user, domain, email, owner, suspended, …}]
//   ("Return cPanel account summary"; the contact address is `email`);
// - uapi_cpanel (cpanel.user, cpanel.module, cpanel.function) → data.uapi = UAPI result
//   {status, errors, messages, warnings, metadata, data}; UAPI failures are HTTP 200 + status 0;
// - Email::passwd_pop (email = user or full address, password, domain), suspend_outgoing,
//   unsuspend_outgoing, suspend_login, unsuspend_login (email), list_pops (regex) →
//   [{email, login, suspended_incoming, suspended_login}];
// - Email::hold_outgoing / release_outgoing (email) → data null (release sends what was held);
// - WHM API 1 hold_outgoing_email / release_outgoing_email / suspend_outgoing_email /
//   unsuspend_outgoing_email (user; "cannot be used on root") → metadata only.
//
// Invented by the fake (the documents do not show them; marked UNCONFIRMED):
// - bad token → HTTP 403, text/plain "Access denied";
// - unknown domain in getdomainowner → metadata.result 0 and a "does not exist" reason;
// - accountsummary of an unknown user → metadata.result 0 and a "does not exist" reason; an
//   unset contact address → "*unknown*" (as the old API-0 example shows);
// - the wording of every error string;
// - Email::list_pops_with_disk rows with hold_outgoing / suspended_outgoing / suspended_login and
//   accountsummary's outgoing_mail_hold / outgoing_mail_suspended (field names read by cPanel's
//   own UI and third-party clients; not on a documentation page);
// - root given to the *_outgoing_email functions → result 0 with a reason.
//
// Passwords are never stored: the fake keeps a SHA-256 of each new mailbox password and records
// calls with password=[REDACTED]; it never records the Authorization header.

import { createHash } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLoopbackHttps } from './self-signed.js';

export interface FakeWhmOptions {
  /** WHM user the token belongs to; default root. */
  user?: string;
  token: string;
  /** domain → owning cPanel user. The first domain listed for a user is its main domain. */
  domains?: Record<string, string>;
  /** cPanel user → full mailbox addresses. */
  mailboxes?: Record<string, string[]>;
  /** cPanel user → the account's contact e-mail (accountsummary `email`); unset: "*unknown*". */
  contacts?: Record<string, string>;
}

export type FakeWhmFailure = 'bad-token' | 'api-error' | 'timeout' | 'http-500';

export interface FakeWhmCall {
  method: string;
  fn: string;
  /** Value of api.version, null when missing. */
  apiVersion: string | null;
  /** Request parameters (query or form), password values replaced with [REDACTED]. */
  params: Record<string, string>;
  authorized: boolean;
  /** For uapi_cpanel: "Module::function". */
  uapi?: string;
}

export interface FakeMailbox {
  address: string;
  cpanelUser: string;
  suspendedOutgoing: boolean;
  suspendedLogin: boolean;
  /** Email::hold_outgoing: outgoing mail waits in the queue. */
  heldOutgoing: boolean;
  /** SHA-256 hex of the last password set through passwd_pop; undefined if never changed. */
  passwordSha256?: string;
  passwordChanges: number;
}

export function sha256(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

export class FakeWhm {
  readonly calls: FakeWhmCall[] = [];
  /** The fake's self-signed certificate (PEM): pass as `ca` to trust it. */
  readonly cert: string;
  private failure: FakeWhmFailure | null = null;
  /** A UAPI (Email::…) or WHM API 1 function that answers as failed (UAPI status 0, WHM result 0). */
  private failing: string | null = null;
  /** Answer list_pops_with_disk without the restriction fields (their names are UNCONFIRMED). */
  omitRestrictions = false;
  /** cPanel account → its whole-account outgoing restrictions (WHM API 1). */
  private readonly accounts = new Map<string, { hold: boolean; suspended: boolean }>();
  private readonly mailboxes = new Map<string, FakeMailbox>();
  private readonly domains: Map<string, string>;
  private readonly whmUser: string;

  private constructor(
    private readonly server: https.Server,
    cert: string,
    private readonly opts: FakeWhmOptions,
  ) {
    this.cert = cert;
    this.whmUser = opts.user ?? 'root';
    this.domains = new Map(Object.entries(opts.domains ?? {}).map(([d, u]) => [d.toLowerCase(), u]));
    for (const [cpUser, addrs] of Object.entries(opts.mailboxes ?? {}))
      for (const a of addrs)
        this.mailboxes.set(a.toLowerCase(), {
          address: a.toLowerCase(),
          cpanelUser: cpUser,
          suspendedOutgoing: false,
          suspendedLogin: false,
          heldOutgoing: false,
          passwordChanges: 0,
        });
  }

  static async start(opts: FakeWhmOptions): Promise<FakeWhm> {
    let fake: FakeWhm | undefined;
    const { server, cert } = await startLoopbackHttps((req, res) => void fake?.handle(req, res));
    fake = new FakeWhm(server, cert, opts);
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** https://127.0.0.1:<port> */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** Make every following request fail this way (null: back to normal). */
  fail(mode: FakeWhmFailure | null): void {
    this.failure = mode;
  }

  /** Make one function fail ("hold_outgoing", "suspend_outgoing_email", …); null: none. */
  failFunction(fn: string | null): void {
    this.failing = fn;
  }

  /** Set a mailbox's restrictions directly (a suspension that pre-exists the run). */
  setMailbox(address: string, patch: Partial<Pick<FakeMailbox, 'suspendedOutgoing' | 'suspendedLogin' | 'heldOutgoing'>>): void {
    Object.assign(this.mailboxes.get(address.toLowerCase())!, patch);
  }

  /** A cPanel account's whole-account outgoing restrictions. */
  account(user: string): { hold: boolean; suspended: boolean } {
    return { ...(this.accounts.get(user) ?? { hold: false, suspended: false }) };
  }

  setAccount(user: string, state: { hold: boolean; suspended: boolean }): void {
    this.accounts.set(user, { ...state });
  }

  mailbox(address: string): FakeMailbox | undefined {
    const m = this.mailboxes.get(address.toLowerCase());
    return m ? { ...m } : undefined;
  }

  /** Did the password of `address` change, and is it now `password`? */
  passwordIs(address: string, password: string): boolean {
    return this.mailboxes.get(address.toLowerCase())?.passwordSha256 === sha256(password);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const params = new URLSearchParams(url.search);
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) params.append(k, v);
    }
    const m = /^\/json-api\/([A-Za-z0-9_]+)$/.exec(url.pathname);
    const fn = m?.[1] ?? url.pathname;
    const auth = req.headers.authorization ?? '';
    const authorized = this.failure !== 'bad-token' && auth === `whm ${this.whmUser}:${this.opts.token}`;

    const recorded: Record<string, string> = {};
    for (const [k, v] of params) recorded[k] = /pass|secret|token/i.test(k) ? '[REDACTED]' : v;
    const call: FakeWhmCall = {
      method: req.method ?? 'GET',
      fn,
      apiVersion: params.get('api.version'),
      params: recorded,
      authorized,
    };
    if (fn === 'uapi_cpanel') call.uapi = `${params.get('cpanel.module')}::${params.get('cpanel.function')}`;
    this.calls.push(call);

    if (this.failure === 'timeout') return; // never answer; the client must give up
    if (!authorized) return this.send(res, 403, 'Access denied\n', 'text/plain');
    if (this.failure === 'http-500') return this.send(res, 500, 'Internal Server Error\n', 'text/plain');
    if (!m) return this.send(res, 404, 'Not Found\n', 'text/plain');
    if (params.get('api.version') !== '1')
      // API 0 output has no `metadata` (fake approximation).
      return this.json(res, { result: [{ status: 0, statusmsg: 'fake WHM: only api.version=1 is implemented' }] });
    if (this.failure === 'api-error') return this.whm(res, fn, 0, 'Injected API failure (fake).', {});
    if (this.failing === fn) return this.whm(res, fn, 0, `Injected failure of ${fn} (fake).`, null);

    switch (fn) {
      case 'getdomainowner':
        return this.getDomainOwner(res, params);
      case 'accountsummary':
        return this.accountSummary(res, params);
      case 'uapi_cpanel':
        return this.uapiCpanel(res, params);
      case 'hold_outgoing_email':
      case 'release_outgoing_email':
      case 'suspend_outgoing_email':
      case 'unsuspend_outgoing_email':
        return this.accountOutgoing(res, fn, params);
      default:
        return this.whm(res, fn, 0, `Unknown app (“${fn}”) requested for this version (1) of the API.`, null);
    }
  }

  private getDomainOwner(res: ServerResponse, p: URLSearchParams): void {
    const domain = (p.get('domain') ?? '').toLowerCase();
    if (!domain) return this.whm(res, 'getdomainowner', 0, 'The “domain” parameter is required.', null);
    const user = this.domains.get(domain);
    if (!user) return this.whm(res, 'getdomainowner', 0, `The domain “${domain}” does not exist.`, null);
    return this.whm(res, 'getdomainowner', 1, 'OK', { user });
  }

  private accountSummary(res: ServerResponse, p: URLSearchParams): void {
    const byDomain = p.get('domain') ? this.domains.get((p.get('domain') ?? '').toLowerCase()) : undefined;
    const user = p.get('user') ?? byDomain ?? '';
    if (!user) return this.whm(res, 'accountsummary', 0, 'You must specify the “user” or “domain” parameter.', null);
    if (![...this.domains.values()].includes(user))
      return this.whm(res, 'accountsummary', 0, `The account “${user}” does not exist.`, null);
    const acct = {
      user,
      domain: this.mainDomain(user),
      email: this.opts.contacts?.[user] ?? '*unknown*',
      owner: 'root',
      suspended: 0,
      outgoing_mail_hold: this.account(user).hold ? 1 : 0,
      outgoing_mail_suspended: this.account(user).suspended ? 1 : 0,
      suspendreason: 'not suspended',
      plan: 'default',
      diskused: '14M',
      disklimit: 'unlimited',
    };
    return this.whm(res, 'accountsummary', 1, 'OK', { acct: [acct] });
  }

  private accountOutgoing(res: ServerResponse, fn: string, p: URLSearchParams): void {
    const user = p.get('user') ?? '';
    if (!user) return this.whm(res, fn, 0, 'The “user” parameter is required.', null);
    if (user === 'root') return this.whm(res, fn, 0, 'You cannot use this function on the root user.', null);
    if (![...this.domains.values()].includes(user)) return this.whm(res, fn, 0, `The account “${user}” does not exist.`, null);
    const st = this.account(user);
    if (fn.includes('hold') || fn.startsWith('release')) st.hold = fn.startsWith('hold');
    else st.suspended = fn.startsWith('suspend');
    this.accounts.set(user, st);
    return this.whm(res, fn, 1, 'OK', null);
  }

  private mainDomain(cpUser: string): string | undefined {
    for (const [d, u] of this.domains) if (u === cpUser) return d;
    return undefined;
  }

  private uapiCpanel(res: ServerResponse, p: URLSearchParams): void {
    const cpUser = p.get('cpanel.user') ?? '';
    const module = p.get('cpanel.module') ?? '';
    const func = p.get('cpanel.function') ?? '';
    const owns = [...this.domains.values()].includes(cpUser);
    if (!owns) return this.whm(res, 'uapi_cpanel', 0, `The user “${cpUser}” does not exist.`, null);
    const ok = (data: unknown): void => this.uapiResult(res, { status: 1, errors: null, data });
    const fail = (error: string): void => this.uapiResult(res, { status: 0, errors: [error], data: null });
    if (module !== 'Email') return fail(`Failed to load module “${module}”.`);
    if (this.failing === func) return fail(`Injected failure of Email::${func} (fake).`);

    const lookup = (email: string | null, domain?: string | null): FakeMailbox | string => {
      if (!email) return 'You must specify the “email” parameter.';
      const address = (email.includes('@') ? email : `${email}@${domain || this.mainDomain(cpUser)}`).toLowerCase();
      const mb = this.mailboxes.get(address);
      if (!mb || mb.cpanelUser !== cpUser) return `The account “${address}” does not exist.`;
      return mb;
    };

    switch (func) {
      case 'passwd_pop': {
        const mb = lookup(p.get('email'), p.get('domain'));
        if (typeof mb === 'string') return fail(mb);
        const pw = p.get('password');
        if (!pw) return fail('You must specify the “password” parameter.');
        mb.passwordSha256 = sha256(pw);
        mb.passwordChanges += 1;
        return ok(null);
      }
      case 'suspend_outgoing':
      case 'unsuspend_outgoing':
      case 'suspend_login':
      case 'unsuspend_login': {
        const mb = lookup(p.get('email'));
        if (typeof mb === 'string') return fail(mb);
        const on = func.startsWith('suspend');
        if (func.endsWith('outgoing')) mb.suspendedOutgoing = on;
        else mb.suspendedLogin = on;
        // suspend_outgoing documents data: 1; the others' data is not shown (fake: 1 too).
        return ok(1);
      }
      case 'hold_outgoing':
      case 'release_outgoing': {
        const mb = lookup(p.get('email'));
        if (typeof mb === 'string') return fail(mb);
        mb.heldOutgoing = func === 'hold_outgoing';
        return ok(null);
      }
      case 'list_pops_with_disk': {
        const domain = p.get('domain')?.toLowerCase();
        const rows = [...this.mailboxes.values()]
          .filter((mb) => mb.cpanelUser === cpUser && (!domain || mb.address.endsWith(`@${domain}`)))
          .map((mb) => ({
            email: mb.address,
            login: mb.address,
            domain: mb.address.split('@')[1],
            ...(this.omitRestrictions
              ? {}
              : {
                  hold_outgoing: mb.heldOutgoing ? 1 : 0,
                  suspended_outgoing: mb.suspendedOutgoing ? 1 : 0,
                  suspended_login: mb.suspendedLogin ? 1 : 0,
                  suspended_incoming: 0,
                }),
          }));
        return ok(rows);
      }
      case 'list_pops': {
        const regex = p.get('regex');
        const re = regex ? new RegExp(regex) : undefined;
        const rows = [...this.mailboxes.values()]
          .filter((mb) => mb.cpanelUser === cpUser && (!re || re.test(mb.address)))
          .map((mb) => ({
            email: mb.address,
            login: mb.address,
            suspended_incoming: 0,
            suspended_login: mb.suspendedLogin ? 1 : 0,
          }));
        return ok(rows);
      }
      default:
        return fail(`Could not find function “${func}” in module “Email”.`);
    }
  }

  private uapiResult(res: ServerResponse, r: { status: 0 | 1; errors: string[] | null; data: unknown }): void {
    this.whm(res, 'uapi_cpanel', 1, 'OK', {
      uapi: { status: r.status, errors: r.errors, messages: null, warnings: null, metadata: {}, data: r.data },
    });
  }

  private whm(res: ServerResponse, command: string, result: 0 | 1, reason: string, data: unknown): void {
    this.json(res, { data, metadata: { command, reason, result, version: 1 } });
  }

  private json(res: ServerResponse, body: unknown): void {
    this.send(res, 200, JSON.stringify(body), 'application/json; charset="utf-8"');
  }

  private send(res: ServerResponse, status: number, body: string, type: string): void {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}
