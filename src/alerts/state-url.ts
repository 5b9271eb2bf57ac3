// A `--state postgres://user@host:port/db` value: parsed into connection settings, and shown
// (errors, journals) only without its password. The password comes, in this order, from the URL
// (accepted, never printed), $MAILSWEEP_PG_PASSWORD, the config's state_password_file, $PGPASSWORD.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

export interface PgTarget {
  /** The URL as it may be shown: no password. */
  shown: string;
  host: string;
  port: number;
  user?: string;
  database?: string;
  password?: string;
  ssl?: boolean | { rejectUnauthorized: boolean };
  connectTimeoutMs: number;
}

export const isServerUrl = (state: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(state);
export const isPostgresUrl = (state: string): boolean => /^postgres(ql)?:\/\//i.test(state);

// libpq's URL form, split by hand: WHATWG URL refuses an empty host (a socket in ?host=) and a bad
// port with one vague error, and would keep the password in what it prints.
const URL_FORM = /^(postgres(?:ql)?):\/\/(?:([^@/?#]*)@)?(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?(\/[^?#]*)?(?:\?([^#]*))?$/i;

/** The URL without a password (a URL that does not parse: scheme and host only, userinfo dropped). */
export function redactStateUrl(state: string): string {
  const m = URL_FORM.exec(state);
  if (!m) return state.replace(/\/\/[^@/]*@/, '//…@').replace(/[?#].*$/, '');
  const user = m[2] === undefined ? '' : `${m[2].split(':')[0]}@`;
  return `${m[1]}://${user}${m[3]}${m[4] !== undefined ? `:${m[4]}` : ''}${m[5] ?? ''}${m[6] !== undefined ? `?${m[6]}` : ''}`;
}

const QUERY = new Set(['host', 'port', 'sslmode', 'connect_timeout']);

export function parsePostgresUrl(state: string, o: { env: NodeJS.ProcessEnv; passwordFile?: string | undefined }): PgTarget {
  const shown = redactStateUrl(state);
  const bad = (why: string) => new ConfigError(`--state ${shown}: ${why}`);
  const m = URL_FORM.exec(state);
  if (!m) throw bad('not a valid URL (expected postgres://user@host:port/database)');
  const dec = (t: string, what: string) => {
    try {
      return decodeURIComponent(t);
    } catch {
      throw bad(`${what} is not valid percent-encoding`);
    }
  };
  const query = new URLSearchParams(m[6] ?? '');
  for (const k of query.keys()) if (!QUERY.has(k)) throw bad(`unknown parameter "${k}" (known: ${[...QUERY].join(', ')})`);
  // A unix socket directory: ?host=/run/postgresql, or a percent-encoded path as the host.
  const urlHost = dec(m[3]!, 'the host').replace(/^\[(.*)\]$/, '$1');
  const host = query.get('host') ?? (urlHost || undefined);
  if (!host) throw bad('no host (postgres://user@host:port/database, or ?host=/socket/dir)');
  const portText = query.get('port') ?? (m[4] || '5432');
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw bad(`port must be 1–65535, got "${portText}"`);
  const database = dec((m[5] ?? '').replace(/^\//, ''), 'the database name');
  if (database.includes('/')) throw bad('the path must be just the database name');
  const timeoutText = query.get('connect_timeout') ?? '10';
  const timeout = Number(timeoutText);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 600) throw bad(`connect_timeout must be 1–600 seconds, got "${timeoutText}"`);
  const sslmode = query.get('sslmode') ?? 'prefer-none';
  const ssl: PgTarget['ssl'] =
    sslmode === 'verify-full'
      ? { rejectUnauthorized: true }
      : sslmode === 'require'
        ? { rejectUnauthorized: false }
        : sslmode === 'disable' || sslmode === 'prefer-none'
          ? false
          : (() => {
              throw bad(`sslmode must be disable, require or verify-full, got "${sslmode}"`);
            })();

  const [userText, ...pw] = (m[2] ?? '').split(':');
  let password: string | undefined = pw.length && pw.join(':') ? dec(pw.join(':'), 'the password') : undefined;
  password ??= o.env.MAILSWEEP_PG_PASSWORD || undefined;
  if (password === undefined && o.passwordFile) {
    try {
      password = readFileSync(o.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new ConfigError(`state_password_file ${o.passwordFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  password ??= o.env.PGPASSWORD || undefined;
  const user = userText ? dec(userText, 'the user name') : o.env.PGUSER || undefined;
  return {
    shown,
    host,
    port,
    ...(user ? { user } : {}),
    ...(database ? { database } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(ssl ? { ssl } : {}),
    connectTimeoutMs: timeout * 1000,
  };
}
