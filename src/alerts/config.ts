// The report's YAML config: alert lifecycle settings and notification channels, validated with
// zod; every error names file:line and the field. Secrets are never written here: a channel names
// an environment variable (`*_env`) or a file (`*_file`) and the value is read when sending.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { AutoContainSchema, containPolicy, type ContainPolicy } from './contain-policy.js';
import { parseDuration } from './duration.js';

const duration = () =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
    if (ms === null || ms <= 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a duration like 30s, 15m, 4h or 90d, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });

const severity = z.enum(['warning', 'critical']);
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'channel names are letters, digits, "_", "." and "-" (up to 64)');

/** What every channel has: delivery settings. */
const common = {
  /** Lowest severity this channel hears about (default: warning, i.e. everything). */
  min_severity: severity.default('warning'),
  /** Overrides the top-level send_resolved for this channel. */
  send_resolved: z.boolean().optional(),
  timeout: duration().default('10s'),
  /** Attempts after the first one within a run; what still fails is kept and retried next run. */
  retries: z.number().int().min(0).max(10).default(2),
  /** First pause between attempts; doubles each time. */
  backoff: duration().default('2s'),
};

// The message never repeats the value: a secret pasted where the variable's name belongs stays unseen.
const envName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'must name an environment variable (letters, digits, _), not hold the secret itself; the value is not shown',
  );
const secretPair = <K extends string>(key: K) =>
  ({ [`${key}_env`]: envName.optional(), [`${key}_file`]: z.string().min(1).optional() }) as Record<
    `${K}_env` | `${K}_file`,
    z.ZodOptional<z.ZodString>
  >;

const smtp = z
  .object({
    type: z.literal('smtp'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** Implicit TLS (port 465); otherwise STARTTLS when offered. */
    secure: z.boolean().default(false),
    require_tls: z.boolean().default(false),
    user: z.string().min(1).optional(),
    ...secretPair('password'),
    from: z.string().min(3),
    to: z.union([z.string().min(3), z.array(z.string().min(3)).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
    ...common,
  })
  .strict();

const webhook = z
  .object({
    type: z.literal('webhook'),
    /** The URL when it holds no secret; otherwise url_env / url_file. */
    url: z.string().url().optional(),
    ...secretPair('url'),
    /** Sent as "Authorization: Bearer …". */
    ...secretPair('bearer_token'),
    ...common,
  })
  .strict();

// A Slack incoming-webhook URL is itself the secret: only from env or file.
const slack = z
  .object({
    type: z.literal('slack'),
    ...secretPair('url'),
    ...common,
  })
  .strict();

const channel = z.discriminatedUnion('type', [smtp, webhook, slack]);

const configSchema = z
  .object({
    repeat_interval: duration().default('4h'),
    send_resolved: z.boolean().default(true),
    /** Retention of runs, resolved incidents and delivered notices (--keep wins). */
    keep: duration().optional(),
    /** The report state (--state wins): a SQLite path or postgres://user@host:port/db (no password in it). */
    state: z.string().min(1).optional(),
    /** The PostgreSQL password, read from this file ($MAILSWEEP_PG_PASSWORD wins). */
    state_password_file: z.string().min(1).optional(),
    channels: z.record(name, channel).default({}),
    /** Opt-in: contain an account the run finds hijacked (contain-policy.ts). */
    auto_contain: AutoContainSchema.optional(),
  })
  .strict();

export type ChannelConfig = z.infer<typeof channel> & { name: string };
export type SmtpChannel = Extract<ChannelConfig, { type: 'smtp' }>;
export type WebhookChannel = Extract<ChannelConfig, { type: 'webhook' }>;
export type SlackChannel = Extract<ChannelConfig, { type: 'slack' }>;

export interface ReportConfig {
  file: string | null;
  repeatIntervalMs: number;
  sendResolved: boolean;
  keepMs?: number;
  state?: string;
  statePasswordFile?: string;
  channels: ChannelConfig[];
  /** Absent: the report never contains anything. */
  autoContain?: ContainPolicy;
}

export const DEFAULT_CONFIG: ReportConfig = { file: null, repeatIntervalMs: 4 * 3_600_000, sendResolved: true, channels: [] };

const SECRET_KEY = /(^|_)(password|pass|token|secret|api_key|apikey)$/i;

/** Which key of an object-level error (unrecognized keys) to point at, and what to say. */
function unknownKeyMessage(key: string, type: unknown): string {
  if (SECRET_KEY.test(key))
    return `"${key}": secrets are never written in the config; name an environment variable (${key}_env) or a file (${key}_file)`;
  if (key === 'url' && type === 'slack') return '"url": a Slack webhook URL is a secret; give url_env or url_file';
  return `unknown key "${key}"`;
}

export function parseReportConfig(text: string, file: string): ReportConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const lineOf = (node: unknown): number => {
    const off = (node as Node | null | undefined)?.range?.[0];
    return off === undefined ? 1 : lc.linePos(off).line;
  };
  const err = doc.errors[0];
  if (err)
    throw new ConfigError(
      `${file}:${err.linePos?.[0].line ?? 1}: YAML syntax error: ${err.message.split('\n')[0]!.split(/ at line \d+/)[0]}`,
    );
  if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === '')))
    return { ...DEFAULT_CONFIG, file };
  if (!isMap(doc.contents))
    throw new ConfigError(
      `${file}:${lineOf(doc.contents)}: expected a mapping (repeat_interval, send_resolved, keep, channels, auto_contain)`,
    );
  const raw = doc.toJS() as Record<string, unknown>;
  const r = configSchema.safeParse(raw);
  if (!r.success) {
    // A secret written in clear is the error to show first, whatever else is missing.
    const issue =
      r.error.issues.find((i) => i.code === 'unrecognized_keys' && i.keys.some((k) => SECRET_KEY.test(k))) ?? r.error.issues[0]!;
    let path: (string | number)[] = issue.path;
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys.find((k) => SECRET_KEY.test(k)) ?? issue.keys[0]!;
      const parent = doc.getIn(path, true) as Node | undefined;
      const type = isMap(parent) ? parent.get('type') : undefined;
      path = [...path, key];
      message = unknownKeyMessage(key, type);
    } else if (issue.code === 'invalid_union_discriminator') {
      message = `"type" must be one of smtp, webhook, slack`;
      if (path[path.length - 1] !== 'type') path = [...path, 'type'];
    }
    // Point at the key when there is one (a missing field: at its parent).
    let node: unknown;
    for (let p = path; p.length; p = p.slice(0, -1)) {
      const parent = p.length > 1 ? doc.getIn(p.slice(0, -1), true) : doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((it) => isScalar(it.key) && String(it.key.value) === String(p[p.length - 1]));
        if (pair) {
          node = pair.key;
          break;
        }
      }
    }
    throw new ConfigError(`${file}:${lineOf(node ?? doc.contents)}: ${path.join('.') || '(top)'}: ${message}`);
  }
  const c = r.data;
  const channels: ChannelConfig[] = [];
  for (const [n, ch] of Object.entries(c.channels)) {
    const line = lineOf(
      (doc.getIn(['channels'], true) as { items?: { key: Node }[] })?.items?.find(
        (it) => String((it.key as { value?: unknown }).value) === n,
      )?.key,
    );
    const where = `${file}:${line}: channels.${n}`;
    const both = (k: string) => {
      const rec = ch as Record<string, unknown>;
      if (rec[`${k}_env`] !== undefined && rec[`${k}_file`] !== undefined)
        throw new ConfigError(`${where}: give ${k}_env or ${k}_file, not both`);
      return rec[`${k}_env`] !== undefined || rec[`${k}_file`] !== undefined;
    };
    if (ch.type === 'smtp') {
      if (both('password') && !ch.user) throw new ConfigError(`${where}: a password without "user"`);
    } else if (ch.type === 'webhook') {
      const fromSecret = both('url');
      if (fromSecret && ch.url) throw new ConfigError(`${where}: give url, url_env or url_file, only one`);
      if (!fromSecret && !ch.url) throw new ConfigError(`${where}: needs url (or url_env / url_file when the URL holds a token)`);
      both('bearer_token');
    } else if (!both('url')) throw new ConfigError(`${where}: needs url_env or url_file (the Slack webhook URL is a secret)`);
    channels.push({ ...ch, name: n });
  }
  return {
    file,
    repeatIntervalMs: c.repeat_interval,
    sendResolved: c.send_resolved,
    ...(c.keep !== undefined ? { keepMs: c.keep } : {}),
    ...(c.state !== undefined ? { state: c.state } : {}),
    ...(c.state_password_file !== undefined ? { statePasswordFile: resolve(dirname(file), c.state_password_file) } : {}),
    channels,
    ...(c.auto_contain ? { autoContain: containPolicy(c.auto_contain) } : {}),
  };
}

export async function loadReportConfig(file: string): Promise<ReportConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`${file}: cannot read the report config (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`);
  }
  return parseReportConfig(text, file);
}
