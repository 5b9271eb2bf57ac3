// Plain SMTP notice to the customer (when WHMCS is not used), with nodemailer.
// The SMTP password comes from an environment variable (passEnv) or a file (passFile) through
// resolveSecret(); it never appears in the inventory, in errors or in logs.

import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { ApiError, type ApiErrorKind } from '../errors.js';
import { isTlsErrorCode } from './http.js';
import { Redactor } from '../text/redact.js';
import { resolveSecret } from './secrets.js';

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  /** Refuse to send unless STARTTLS succeeds. */
  requireTLS?: boolean;
  user?: string;
  /** Environment variable holding the SMTP password. */
  passEnv?: string;
  /** File holding the SMTP password (must not be world-readable). */
  passFile?: string;
  /** Extra trusted CA (PEM). */
  ca?: Buffer | string;
  /** Skip certificate verification; only when explicitly requested. */
  insecure?: boolean;
  /** Connection, greeting and socket timeout; default 30 s. */
  timeoutMs?: number;
  /** Name sent in EHLO; default: nodemailer's (the machine's host name). */
  name?: string;
}

export interface NoticeMessage {
  smtp: SmtpSettings;
  from: string;
  to: string | string[];
  subject: string;
  text: string;
  replyTo?: string;
  /** Files attached as they are (the evidence bundle). */
  attachments?: { filename: string; path: string }[];
  /** Environment to read passEnv from (tests); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface NoticeResult {
  messageId: string;
  accepted: string[];
  rejected: string[];
  response: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function addr(a: string | { address: string }): string {
  return typeof a === 'string' ? a : a.address;
}

export async function sendNotice(msg: NoticeMessage): Promise<NoticeResult> {
  const { smtp } = msg;
  const redactor = new Redactor();
  let pass: string | undefined;
  if (smtp.passEnv || smtp.passFile) {
    pass = await resolveSecret(
      { ...(smtp.passEnv ? { env: smtp.passEnv, key: 'notify_smtp_pass_env' } : {}), ...(smtp.passFile ? { file: smtp.passFile } : {}) },
      `SMTP password for ${smtp.user ?? '(no user)'}@${smtp.host}`,
      msg.env ?? process.env,
    );
    redactor.add(pass);
  }
  if (pass !== undefined && !smtp.user) throw new TypeError('sendNotice: an SMTP password was given without smtp.user');

  const timeout = smtp.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const tls: SMTPTransport.Options['tls'] = { rejectUnauthorized: smtp.insecure !== true };
  if (smtp.ca !== undefined) tls.ca = [typeof smtp.ca === 'string' ? smtp.ca : smtp.ca.toString('utf8')];
  const options: SMTPTransport.Options = {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure === true,
    requireTLS: smtp.requireTLS === true,
    tls,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    ...(smtp.name ? { name: smtp.name } : {}),
    ...(smtp.user && pass !== undefined ? { auth: { user: smtp.user, pass } } : {}),
  };
  const transport = nodemailer.createTransport(options);
  try {
    const info = await transport.sendMail({
      from: msg.from,
      to: msg.to,
      subject: msg.subject,
      text: msg.text,
      ...(msg.replyTo ? { replyTo: msg.replyTo } : {}),
      ...(msg.attachments?.length
        ? { attachments: msg.attachments.map((a) => ({ filename: a.filename, path: a.path, contentType: 'application/gzip' })) }
        : {}),
    });
    return {
      messageId: info.messageId,
      accepted: info.accepted.map(addr),
      rejected: info.rejected.map(addr),
      response: redactor.redact(info.response),
    };
  } catch (err) {
    throw smtpError(err, `${smtp.host}:${smtp.port}`, redactor);
  } finally {
    transport.close();
  }
}

/** nodemailer error → ApiError (codes from nodemailer: EAUTH, ETIMEDOUT, ECONNECTION, ETLS, …). */
function smtpError(err: unknown, target: string, redactor: Redactor): ApiError {
  const e = err as { code?: string; responseCode?: number; message?: string; command?: string };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = redactor.redact(String(e?.message ?? err));
  const innerTls = /certificate|self[- ]signed|unable to verify/i.test(message);
  let kind: ApiErrorKind;
  if (code === 'EAUTH' || code === 'ENOAUTH') kind = 'auth';
  else if (code === 'ETLS' || isTlsErrorCode(code) || innerTls) kind = 'tls';
  else if (code === 'ECONNECTION' || code === 'ETIMEDOUT' || code === 'ESOCKET' || code === 'EDNS') kind = 'network';
  else kind = 'api'; // EENVELOPE, EMESSAGE, EPROTOCOL: the server refused the message
  return new ApiError(kind, `SMTP ${target}: ${message}`, {
    service: 'smtp',
    call: 'sendNotice',
    ...(typeof e?.responseCode === 'number' ? { status: e.responseCode } : {}),
    ...(code ? { code } : {}),
    ...(code === 'ETIMEDOUT' ? { timedOut: true } : {}),
  });
}
