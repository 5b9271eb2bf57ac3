// FAKE WHMCS API server for tests. WHMCS is commercial and cannot run here; this is NOT WHMCS.
// It imitates the documented classic API (WHMCS/developer-docs api/*.md, api-reference/*.md):
// - POST /includes/api.php, form-encoded, `action`, `responsetype=json`;
// - auth by `identifier` + `secret` (or the same pair in `username` / `password`), and
//   `accesskey` when one is configured;
// - SendEmail, OpenTicket, GetClientsDetails with the parameters and the error texts the docs
//   list ("A related ID is required", "Client Not Found", …);
// - customvars: base64 → PHP unserialize (a minimal unserializer), recorded for the tests.
//
// Invented by the fake (the documents do not show them; UNCONFIRMED):
// - the error body {"result":"error","message":"…"} (what WHMCS sends in practice, per
//   developer-docs#80), and HTTP 200 for it;
// - "Authentication Failed" for bad credentials, "Invalid or missing API access key" and
//   "Command Not Found" texts;
// - the nested "client" object in GetClientsDetails (the doc's example shows flattened
//   "client[id]" keys; the fake sends both).

import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { phpUnserialize } from './php-unserialize.js';
import { startLoopbackHttps } from './self-signed.js';

export interface FakeWhmcsClient {
  id: number;
  email: string;
  firstname: string;
  lastname: string;
  companyname?: string;
  status?: string;
}

export interface FakeWhmcsOptions {
  identifier: string;
  secret: string;
  accesskey?: string;
  clients?: FakeWhmcsClient[];
  departments?: number[];
  templates?: string[];
}

export type FakeWhmcsFailure = 'timeout' | 'http-500';

export interface FakeWhmcsCall {
  action: string;
  /** Parameters with identifier/secret/username/password/accesskey replaced by [REDACTED]. */
  params: Record<string, string>;
  authorized: boolean;
}

export interface FakeSentEmail {
  messagename?: string;
  id: number;
  customtype?: string;
  customsubject?: string;
  custommessage?: string;
  /** The raw base64 customvars as received. */
  customvarsBase64?: string;
  /** The PHP-serialized text (base64-decoded). */
  customvarsSerialized?: string;
  /** The unserialized value. */
  customvars?: unknown;
}

export interface FakeTicket {
  id: number;
  tid: string;
  c: string;
  deptid: number;
  subject: string;
  message: string;
  clientid?: number;
  name?: string;
  email?: string;
  priority: string;
  markdown: boolean;
}

const CUSTOM_TYPES = new Set(['general', 'product', 'domain', 'invoice', 'support', 'affiliate']);
const SECRET_PARAMS = new Set(['identifier', 'secret', 'username', 'password', 'accesskey']);

export class FakeWhmcs {
  readonly calls: FakeWhmcsCall[] = [];
  readonly emails: FakeSentEmail[] = [];
  readonly tickets: FakeTicket[] = [];
  readonly cert: string;
  private failure: FakeWhmcsFailure | null = null;

  private constructor(
    private readonly server: https.Server,
    cert: string,
    private readonly opts: FakeWhmcsOptions,
  ) {
    this.cert = cert;
  }

  static async start(opts: FakeWhmcsOptions): Promise<FakeWhmcs> {
    let fake: FakeWhmcs | undefined;
    const { server, cert } = await startLoopbackHttps((req, res) => void fake?.handle(req, res));
    fake = new FakeWhmcs(server, cert, opts);
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Full api.php URL. */
  get url(): string {
    return `https://127.0.0.1:${this.port}/includes/api.php`;
  }

  fail(mode: FakeWhmcsFailure | null): void {
    this.failure = mode;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    if (url.pathname !== '/includes/api.php') return this.send(res, 404, 'Not Found\n', 'text/plain');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const p = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const identifier = p.get('identifier') ?? p.get('username');
    const secret = p.get('secret') ?? p.get('password');
    const authorized = req.method === 'POST' && identifier === this.opts.identifier && secret === this.opts.secret;
    const accessOk = this.opts.accesskey === undefined || p.get('accesskey') === this.opts.accesskey;
    const recorded: Record<string, string> = {};
    for (const [k, v] of p) recorded[k] = SECRET_PARAMS.has(k) ? '[REDACTED]' : v;
    const action = p.get('action') ?? '';
    this.calls.push({ action, params: recorded, authorized: authorized && accessOk });

    if (this.failure === 'timeout') return;
    if (this.failure === 'http-500') return this.send(res, 500, 'Internal Server Error\n', 'text/plain');
    if (!accessOk) return this.error(res, 'Invalid or missing API access key');
    if (!authorized) return this.error(res, 'Authentication Failed');
    if (p.get('responsetype') !== 'json') return this.send(res, 200, 'result=error;message=fake: json only;', 'text/plain');

    switch (action.toLowerCase()) {
      case 'sendemail':
        return this.sendEmail(res, p);
      case 'openticket':
        return this.openTicket(res, p);
      case 'getclientsdetails':
        return this.getClientsDetails(res, p);
      default:
        return this.error(res, 'Command Not Found');
    }
  }

  private sendEmail(res: ServerResponse, p: URLSearchParams): void {
    const messagename = p.get('messagename') ?? undefined;
    const customtype = p.get('customtype') ?? undefined;
    if (!messagename && !customtype)
      return this.error(res, 'You must provide either an existing email template name or a custom message type');
    if (customtype && !CUSTOM_TYPES.has(customtype)) return this.error(res, 'Invalid message type provided');
    const customsubject = p.get('customsubject') ?? undefined;
    const custommessage = p.get('custommessage') ?? undefined;
    if (!messagename && !customsubject) return this.error(res, 'A subject is required for a custom message');
    if (!messagename && !custommessage) return this.error(res, 'A message body is required for a custom message');
    const email: FakeSentEmail = { id: 0 };
    const raw = p.get('customvars');
    if (raw !== null) {
      try {
        const serialized = Buffer.from(raw, 'base64');
        if (serialized.toString('base64') !== raw.replace(/\s+/g, '')) throw new Error('not base64');
        email.customvarsBase64 = raw;
        email.customvarsSerialized = serialized.toString('utf8');
        email.customvars = phpUnserialize(serialized);
        if (email.customvars === null || typeof email.customvars !== 'object') throw new Error('not an array');
      } catch {
        return this.error(res, 'The custom variables you provided are invalid.');
      }
    }
    const id = Number(p.get('id'));
    if (!p.get('id') || !Number.isInteger(id) || id <= 0) return this.error(res, 'A related ID is required');
    if (messagename && !(this.opts.templates ?? []).includes(messagename)) return this.error(res, 'Email Template not found');
    if ((customtype ?? 'general') === 'general' && !this.client(id)) return this.error(res, 'Sending Failed. Please see documentation.');
    email.id = id;
    if (messagename) email.messagename = messagename;
    if (customtype) email.customtype = customtype;
    if (customsubject) email.customsubject = customsubject;
    if (custommessage) email.custommessage = custommessage;
    this.emails.push(email);
    return this.json(res, { result: 'success' });
  }

  private openTicket(res: ServerResponse, p: URLSearchParams): void {
    const clientidRaw = p.get('clientid');
    const clientid = clientidRaw ? Number(clientidRaw) : undefined;
    if (clientid !== undefined && !this.client(clientid)) return this.error(res, 'Client ID Not Found');
    const name = p.get('name') ?? undefined;
    const email = p.get('email') ?? undefined;
    if (clientid === undefined && (!name || !email)) return this.error(res, 'Name and email address are required if not a client');
    if (email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return this.error(res, 'Email Address Invalid');
    const deptid = Number(p.get('deptid'));
    if (!(this.opts.departments ?? [1]).includes(deptid)) return this.error(res, 'Department ID not found');
    const subject = p.get('subject');
    if (!subject) return this.error(res, 'Subject is required');
    const message = p.get('message');
    if (!message) return this.error(res, 'Message is required');
    const id = this.tickets.length + 1;
    const ticket: FakeTicket = {
      id,
      tid: String(516756 + id),
      c: `Fk${id}c0de`,
      deptid,
      subject,
      message,
      priority: p.get('priority') ?? 'Medium',
      markdown: ['1', 'true'].includes(p.get('markdown') ?? ''),
      ...(clientid !== undefined ? { clientid } : {}),
      ...(name !== undefined ? { name } : {}),
      ...(email !== undefined ? { email } : {}),
    };
    this.tickets.push(ticket);
    // Documented example: {"result":"success","id":"1","tid":"516757","c":"KPqH7yG3"} (strings).
    return this.json(res, { result: 'success', id: String(id), tid: ticket.tid, c: ticket.c });
  }

  private getClientsDetails(res: ServerResponse, p: URLSearchParams): void {
    const clientid = p.get('clientid');
    const email = p.get('email');
    if (!clientid && !email) return this.error(res, 'Either clientid Or email Is Required');
    const c = clientid
      ? this.client(Number(clientid))
      : (this.opts.clients ?? []).find((x) => x.email.toLowerCase() === (email ?? '').toLowerCase());
    if (!c) return this.error(res, 'Client Not Found');
    const client = {
      userid: String(c.id),
      id: String(c.id),
      firstname: c.firstname,
      lastname: c.lastname,
      fullname: `${c.firstname} ${c.lastname}`,
      companyname: c.companyname ?? '',
      email: c.email,
      status: c.status ?? 'Active',
    };
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(client)) flat[`client[${k}]`] = v;
    return this.json(res, { result: 'success', ...flat, client });
  }

  private client(id: number): FakeWhmcsClient | undefined {
    return (this.opts.clients ?? []).find((c) => c.id === id);
  }

  private error(res: ServerResponse, message: string): void {
    this.json(res, { result: 'error', message });
  }

  private json(res: ServerResponse, body: unknown): void {
    this.send(res, 200, JSON.stringify(body), 'application/json');
  }

  private send(res: ServerResponse, status: number, body: string, type: string): void {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}
