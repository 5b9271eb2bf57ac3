// Delivery of one notice to one channel: SMTP through the admin's relay (never the local MTA,
// which may be the broken one), a generic JSON webhook (Alertmanager v4 body) or a Slack webhook.
// Each attempt has a timeout; failed attempts are retried with doubling pauses. Errors name the
// channel and what went wrong, never a secret (webhook URLs from *_env/*_file count as secrets).
import { ConfigError } from '../errors.js';
import { sendNotice } from '../actions/mail.js';
import { resolveSecret } from '../actions/secrets.js';
import { Redactor } from '../text/redact.js';
import type { ChannelConfig, SmtpChannel } from './config.js';
import { alertmanagerPayload, slackPayload, textBody, title } from './render.js';
import type { Notice } from './store.js';

export interface DeliveryEnv {
  env?: NodeJS.ProcessEnv;
  /** Waits between attempts (tests shorten nothing: the config's backoff is used as is). */
  sleep?: (ms: number) => Promise<void>;
}

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether the channel takes this notice at all (severity floor, resolved notices). */
export function channelWants(ch: ChannelConfig, n: Notice, sendResolved: boolean): boolean {
  if (n.status === 'resolved' && !(ch.send_resolved ?? sendResolved)) return false;
  return ch.min_severity === 'warning' || n.incident.severity === 'critical';
}

async function secret(ch: ChannelConfig, key: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const rec = ch as unknown as Record<string, string | undefined>;
  const e = rec[`${key}_env`];
  const f = rec[`${key}_file`];
  if (!e && !f) return undefined;
  return resolveSecret({ ...(e ? { env: e } : {}), ...(f ? { file: f } : {}) }, `channel ${ch.name}: ${key}`, env);
}

async function postJson(
  ch: ChannelConfig,
  url: string,
  body: unknown,
  headers: Record<string, string>,
  redactor: Redactor,
): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'mailsweep-report', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(ch.timeout),
      redirect: 'error',
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === 'TimeoutError' ? `no answer within ${ch.timeout} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
    throw new Error(redactor.redact(`POST ${safeUrl(url, redactor)}: ${why}`));
  }
  const text = (await res.text().catch(() => '')).slice(0, 200);
  if (!res.ok)
    throw new Error(
      redactor.redact(
        `POST ${safeUrl(url, redactor)}: HTTP ${res.status} ${res.statusText}${text ? `: ${text.replace(/\s+/g, ' ')}` : ''}`,
      ),
    );
  return `HTTP ${res.status}`;
}

/** Only the origin of a URL goes into messages; a secret URL shows as its host alone. */
function safeUrl(url: string, redactor: Redactor): string {
  try {
    const u = new URL(url);
    return redactor.size ? `${u.protocol}//${u.host}/…` : `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** One mail through an smtp channel (notices, and the digest with `report --digest --mail`). */
export async function sendMailVia(ch: SmtpChannel, subject: string, text: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await sendNotice({
    smtp: {
      host: ch.host,
      port: ch.port,
      secure: ch.secure,
      requireTLS: ch.require_tls,
      timeoutMs: ch.timeout,
      ...(ch.user ? { user: ch.user } : {}),
      ...(ch.password_env ? { passEnv: ch.password_env } : {}),
      ...(ch.password_file ? { passFile: ch.password_file } : {}),
    },
    from: ch.from,
    to: ch.to,
    subject,
    text,
    env,
  });
  if (r.rejected.length) throw new Error(`SMTP ${ch.host}:${ch.port}: recipients refused: ${r.rejected.join(', ')}`);
  return r.response;
}

/** One attempt. Returns a short receipt (for the run's log). */
async function attempt(ch: ChannelConfig, n: Notice, env: NodeJS.ProcessEnv): Promise<string> {
  const redactor = new Redactor();
  if (ch.type === 'smtp') return sendMailVia(ch, title(n), textBody(n), env);
  const fromSecret = await secret(ch, 'url', env);
  if (fromSecret) redactor.add(fromSecret);
  const url = fromSecret ?? (ch.type === 'webhook' ? ch.url : undefined);
  if (!url) throw new Error('no URL');
  if (!/^https?:\/\//i.test(url)) throw new Error(`the URL from ${ch.url_env ? `$${ch.url_env}` : ch.url_file} is not an http(s) URL`);
  if (ch.type === 'slack') return postJson(ch, url, slackPayload(n), {}, redactor);
  const token = await secret(ch, 'bearer_token', env);
  if (token) redactor.add(token);
  return postJson(ch, url, alertmanagerPayload(n, ch.name), token ? { authorization: `Bearer ${token}` } : {}, redactor);
}

export interface DeliveryResult {
  ok: boolean;
  attempts: number;
  /** Receipt when ok, the last error otherwise (secret-free). */
  detail: string;
}

/** Try up to 1 + retries times, pausing backoff, 2×backoff, … between attempts. */
export async function deliver(ch: ChannelConfig, n: Notice, d: DeliveryEnv = {}): Promise<DeliveryResult> {
  const env = d.env ?? process.env;
  const sleep = d.sleep ?? sleepReal;
  let last = '';
  for (let i = 0; i <= ch.retries; i++) {
    if (i > 0) await sleep(ch.backoff * 2 ** (i - 1));
    try {
      return { ok: true, attempts: i + 1, detail: await attempt(ch, n, env) };
    } catch (e) {
      last = (e as Error).message;
      // A missing secret or a bad URL will not fix itself within this run.
      if (e instanceof ConfigError) break;
    }
  }
  return { ok: false, attempts: ch.retries + 1, detail: last };
}
