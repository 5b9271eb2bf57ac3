// Redaction: the secrets of a run (tokens, passwords, URL userinfo) and the patterns that carry
// them (Authorization headers, password= fields) replaced with [REDACTED] in every string and
// JSON-able value before it reaches a journal, a log, an error message or a screen.

export const REDACTED = '[REDACTED]';

/** Keys whose values are always secret in JSON-able objects (compared case-insensitively). */
const SECRET_KEYS = new Set(['authorization', 'password', 'passwd', 'pass', 'secret', 'accesskey', 'token', 'api_token', 'apitoken']);

/** `Authorization: whm root:TOKEN`, `"authorization":"Basic …"`, `authorization=…`. */
const AUTH_HEADER_RE = /(\bauthorization\b["']?\s*[:=]\s*["']?)([A-Za-z][\w.-]*\s+)?([^\s"'\r\n,;}]+)/gi;
/** `password=…`, `secret=…`, `accesskey=…` in query strings and form bodies (also `&amp;` HTML). */
const QUERY_VALUE_RE = /(^|[?&;\s"'])(password|passwd|secret|accesskey)=([^&\s#"']*)/gi;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The forms a secret can take on the wire: as is, URL-encoded, form-encoded, JSON-escaped. */
function variants(secret: string): string[] {
  const out = new Set<string>([secret]);
  const uri = encodeURIComponent(secret);
  out.add(uri);
  out.add(uri.replace(/%20/g, '+'));
  out.add(new URLSearchParams({ x: secret }).toString().slice(2));
  out.add(JSON.stringify(secret).slice(1, -1));
  return [...out].filter((v) => v.length > 0);
}

/** Replace every occurrence of the given secrets (and the patterns above) with [REDACTED]. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  const all = secrets
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
    .flatMap(variants)
    .sort((a, b) => b.length - a.length);
  if (all.length > 0) out = out.replace(new RegExp(all.map(escapeRegExp).join('|'), 'g'), REDACTED);
  out = out.replace(AUTH_HEADER_RE, (_m, head: string, scheme: string | undefined, value: string) =>
    value === REDACTED ? `${head}${scheme ?? ''}${value}` : `${head}${scheme ?? ''}${REDACTED}`,
  );
  out = out.replace(QUERY_VALUE_RE, (_m, pre: string, key: string, value: string) =>
    value === '' ? `${pre}${key}=` : `${pre}${key}=${REDACTED}`,
  );
  return out;
}

/**
 * Collects the secrets of a run and redacts them from strings and JSON-able values.
 * `redactor.redact` is a bound function, so it can be handed to the journal as is.
 */
export class Redactor {
  private readonly known = new Set<string>();

  constructor(secrets: Iterable<string | undefined | null> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Remember secrets (empty and missing values are ignored). Returns this. */
  add(...secrets: (string | undefined | null)[]): this {
    for (const s of secrets) if (typeof s === 'string' && s.length > 0) this.known.add(s);
    return this;
  }

  get size(): number {
    return this.known.size;
  }

  readonly redact = (text: string): string => redact(text, [...this.known]);

  /**
   * Deep copy of a JSON-able value with secrets removed: values under secret-looking keys
   * (authorization, password, secret, accesskey, token) become [REDACTED], every string is
   * run through redact(). Errors become {name, message, …own enumerable fields}. Cycles are cut.
   */
  readonly redactValue = <T>(value: T): T => this.walk(value, new WeakSet()) as T;

  /** JSON.stringify(redactValue(value)), itself redacted once more for safety. */
  readonly stringify = (value: unknown, space?: number): string =>
    this.redact(JSON.stringify(this.redactValue(value), null, space) ?? 'undefined');

  private walk(value: unknown, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v, seen));
    if (value instanceof Date) return value;
    if (Buffer.isBuffer(value)) return this.redact(value.toString('utf8'));
    if (value instanceof URLSearchParams) return this.redact(value.toString());
    if (value instanceof Map) return this.walk(Object.fromEntries(value), seen);
    const out: Record<string, unknown> = {};
    if (value instanceof Error) {
      out.name = value.name;
      out.message = this.redact(value.message);
    }
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEYS.has(k.toLowerCase()) && v !== null && v !== undefined && v !== '' ? REDACTED : this.walk(v, seen);
    }
    return out;
  }
}
