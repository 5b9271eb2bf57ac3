// Which outside systems a host's incident can use, read from its inventory vars.
// Secrets are named (env var or file), never given: resolveSecret() reads them when needed.
import { readFileSync } from 'node:fs';
import type { SmtpSettings } from './mail.js';
import { safeUrl, type SecretSource } from './secrets.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const bool = (v: unknown): boolean => v === true || (typeof v === 'string' && ['true', 'yes', '1'].includes(v.toLowerCase()));

function source(vars: Record<string, unknown>, prefix: string): SecretSource | undefined {
  const env = str(vars[`${prefix}_env`]);
  const file = str(vars[`${prefix}_file`]);
  return env || file ? { ...(env ? { env, key: `${prefix}_env` } : {}), ...(file ? { file } : {}) } : undefined;
}

const ca = (vars: Record<string, unknown>, key: string) => {
  const f = str(vars[key]);
  return f ? readFileSync(f) : undefined;
};

export interface WhmConfig {
  baseUrl: string;
  user: string;
  token: SecretSource;
  ca?: Buffer;
  insecure: boolean;
}

/** cpanel_url (WHM, https://host:2087), cpanel_user (default root), cpanel_token_env | cpanel_token_file. */
export function whmConfig(vars: Record<string, unknown>): WhmConfig | string {
  // user:password@ in the URL is never used (the token is) and never shown.
  const raw = str(vars.cpanel_url);
  if (!raw) return 'no cpanel_url';
  const baseUrl = safeUrl(raw);
  const token = source(vars, 'cpanel_token');
  if (!token) return 'cpanel_url is set but neither cpanel_token_env nor cpanel_token_file';
  return { baseUrl, user: str(vars.cpanel_user) ?? 'root', token, ca: ca(vars, 'cpanel_ca_file'), insecure: bool(vars.cpanel_insecure) };
}

export interface WhmcsConfig {
  url: string;
  identifier: SecretSource;
  secret: SecretSource;
  accesskey?: SecretSource;
  ca?: Buffer;
  template?: string;
  clientId?: number;
  deptId?: number;
}

/** whmcs_url (…/includes/api.php), whmcs_identifier_env|_file, whmcs_secret_env|_file, whmcs_template. */
export function whmcsConfig(vars: Record<string, unknown>): WhmcsConfig | string {
  const raw = str(vars.whmcs_url);
  if (!raw) return 'no whmcs_url';
  const url = safeUrl(raw);
  const identifier = source(vars, 'whmcs_identifier');
  const secret = source(vars, 'whmcs_secret');
  if (!identifier || !secret) return 'whmcs_url is set but whmcs_identifier_env/_file or whmcs_secret_env/_file is missing';
  const n = (v: unknown) => (v === undefined || v === '' ? undefined : Number(v));
  return {
    url,
    identifier,
    secret,
    accesskey: source(vars, 'whmcs_accesskey'),
    ca: ca(vars, 'whmcs_ca_file'),
    template: str(vars.whmcs_template),
    clientId: n(vars.whmcs_client_id),
    deptId: n(vars.whmcs_dept_id),
  };
}

export interface MailConfig {
  smtp: SmtpSettings;
  from: string;
  to?: string;
}

/** notify_smtp_host[, _port, _user, _pass_env|_pass_file, _secure], notify_from, notify_to. */
export function mailConfig(vars: Record<string, unknown>): MailConfig | string {
  const host = str(vars.notify_smtp_host);
  const from = str(vars.notify_from);
  if (!host || !from) return 'no notify_smtp_host / notify_from';
  return {
    smtp: {
      host,
      port: Number(vars.notify_smtp_port ?? 25),
      secure: bool(vars.notify_smtp_secure),
      user: str(vars.notify_smtp_user),
      passEnv: str(vars.notify_smtp_pass_env),
      passFile: str(vars.notify_smtp_pass_file),
      ca: ca(vars, 'notify_smtp_ca_file'),
    },
    from,
    to: str(vars.notify_to),
  };
}

/** password_reset_command: run on the host; account in $MAILSWEEP_ACCOUNT, new password on stdin. */
export function resetCommand(vars: Record<string, unknown>): string | undefined {
  return str(vars.password_reset_command);
}
