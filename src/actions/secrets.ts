// Secrets for the remediation actions (WHM tokens, WHMCS secrets, SMTP passwords); the redaction
// that keeps them out of the journal, the logs and error messages is src/text/redact.ts.
//
// Secrets are never written in the inventory in clear: the inventory names an environment
// variable or a file, and resolveSecret() reads it at the moment it is needed.

import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '../errors.js';

export interface SecretSource {
  /** Name of an environment variable that holds the secret. */
  env?: string;
  /** The inventory key that named it (e.g. cpanel_token_env), for messages. */
  key?: string;
  /** Path of a file that holds the secret (trimmed); must not be readable by "other". */
  file?: string;
}

/**
 * Read a secret from an environment variable or a file.
 * `what` names the secret in error messages ("WHM token for web1"); the value itself never
 * appears in any message.
 */
export async function resolveSecret(source: SecretSource, what: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const hasEnv = source.env !== undefined && source.env !== '';
  const hasFile = source.file !== undefined && source.file !== '';
  if (hasEnv && hasFile) throw new ConfigError(`${what}: give either an environment variable (env) or a file, not both`);
  if (!hasEnv && !hasFile) throw new ConfigError(`${what}: no secret source; set "env" (an environment variable name) or "file"`);

  if (hasEnv) {
    const name = source.env as string;
    const key = source.key ?? 'env';
    // A token pasted where the variable's NAME belongs must not be echoed back.
    if (!isEnvName(name) || looksLikeSecret(name))
      throw new ConfigError(
        `${what}: ${key} must name an environment variable (letters, digits, _), not hold the secret itself; its value is not shown. ` +
          `Put the token in the environment (e.g. export WHM_TOKEN=…) and write ${key}: WHM_TOKEN`,
      );
    const raw = env[name];
    if (raw === undefined) throw new ConfigError(`${what}: environment variable ${name} is not set (named by ${key})`);
    const value = raw.trim();
    if (value === '') throw new ConfigError(`${what}: environment variable ${name} is empty (named by ${key})`);
    return value;
  }

  const path = source.file as string;
  let mode: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ConfigError(`${what}: secret file ${path} is not a regular file`);
    mode = st.mode;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`${what}: secret file ${path} does not exist`);
    if (code === 'EACCES') throw new ConfigError(`${what}: secret file ${path} is not readable by this user`);
    throw new ConfigError(`${what}: cannot read secret file ${path} (${code ?? 'error'})`);
  }
  if (mode & 0o004) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new ConfigError(`${what}: secret file ${path} is readable by other users (mode ${octal}); run: chmod 600 ${path}`);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`${what}: cannot read secret file ${path} (${code ?? 'error'})`);
  }
  const value = text.trim();
  if (value === '') throw new ConfigError(`${what}: secret file ${path} is empty`);
  return value;
}

/** A POSIX environment variable name. */
export function isEnvName(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);
}

/**
 * Does a string that should be a NAME (of a variable, of a file) look like a secret pasted there?
 * cPanel API tokens are 32 upper-case letters and digits, WHMCS credentials 32 mixed-case ones:
 * long runs of letters mixed with digits and no word separators. WHM_TOKEN, MAILSWEEP_WHM_TOKEN_1
 * and the like are names.
 */
export function looksLikeSecret(s: string): boolean {
  const t = s.trim();
  if (t.length < 16) return false;
  if (/[^\x21-\x7e]/.test(t)) return false;
  const runs = t.split(/[_.\/-]/).filter(Boolean);
  const longest = Math.max(...runs.map((r) => r.length));
  return longest >= 16 && /\d/.test(t) && /[A-Za-z]/.test(t);
}

/**
 * A URL as it may be shown or journaled: user and password (userinfo) removed. Anything that does
 * not parse as a URL is returned with a `user:pass@` prefix cut all the same.
 */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/^([a-z][\w+.-]*:\/\/)[^/]*@/i, '$1');
  }
}

/**
 * The secrets hidden in a host's vars that are not secrets by name: URL userinfo
 * (https://user:pass@host) and tokens pasted as the value of a `*_env` / `*_file` key.
 * The run registers them with its Redactor so no output or journal line shows them.
 */
export function incidentalSecrets(vars: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(vars)) {
    if (typeof v !== 'string') continue;
    const m = /^[a-z][\w+.-]*:\/\/([^/]*)@/i.exec(v.trim());
    if (m?.[1]) {
      const userinfo = m[1];
      const colon = userinfo.indexOf(':');
      if (colon >= 0 && colon < userinfo.length - 1) out.push(userinfo.slice(colon + 1), userinfo);
      else if (looksLikeSecret(userinfo)) out.push(userinfo);
      try {
        const u = new URL(v.trim());
        if (u.password) out.push(u.password, decodeURIComponent(u.password));
      } catch {
        /* not a URL after all */
      }
    }
    if (/_env$|_file$/i.test(k) && (looksLikeSecret(v) || (/_env$/i.test(k) && !isEnvName(v.trim()) && v.trim().length >= 8)))
      out.push(v.trim());
  }
  return [...new Set(out.filter((s) => s.length >= 3))];
}
