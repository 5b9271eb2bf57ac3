// The MTA settings of one host, resolved once: where its binary, configuration, queue and logs
// are. Inventory keys are snake_case and checked when the inventory loads (src/inventory/vars.ts
// includes MTA_HOST_VARS), so a bad path is an error naming its file and line before any host is
// contacted. Each MTA's own host.ts derives its tool paths from this one object.
import { z } from 'zod';

/** An absolute path without control characters (it goes into scripts quoted, one word). */
// eslint-disable-next-line no-control-regex
const absPath = z
  .string()
  .trim()
  .regex(/^\/[^\u0000-\u001f\u007f]*$/);
const pathList = z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(absPath).min(1));
const uidList = z.preprocess(
  (v) => (typeof v === 'number' ? [v] : typeof v === 'string' ? v.split(/[\s,]+/).filter((x) => x !== '') : v),
  // qmail-queue prints the uid with fmt_ulong: plain decimal, no leading zeros.
  z.array(
    z.preprocess(
      (x) => (typeof x === 'number' ? String(x) : typeof x === 'string' ? x.trim() : x),
      z.string().regex(/^(?:0|[1-9][0-9]{0,9})$/),
    ),
  ),
);

const ABS = 'an absolute path (e.g. /var/spool/postfix)';

/** Each MTA setting: its schema and what an error says is expected. Documented in README's inventory table. */
export const MTA_HOST_VARS = {
  /** The syslog mail log(s) read for attribution and the log window (default: Debian's and RHEL's). */
  mail_log: { schema: pathList, expected: 'an absolute path or a list of them (e.g. /var/log/mail.log)' },
  /** The MTA daemon's pid file, when not in the usual places (the purge pauses that daemon). */
  mta_pid_file: { schema: absPath, expected: ABS },
  /** postfix/sendmail/qmail queue directory (default: what the MTA says, or its usual place). */
  queue_directory: { schema: absPath, expected: ABS },
  /** exim spool directory (default: `exim -bP spool_directory`). */
  spool_directory: { schema: absPath, expected: ABS },
  /** postfix configuration directory, passed as `-c DIR` (a second postfix instance). */
  config_directory: { schema: absPath, expected: ABS },
  /** qmail's home (default /var/qmail): bin/, control/, queue/. */
  qmail_dir: { schema: absPath, expected: ABS },
  /** uids that run nothing but qmail-smtpd (their Received headers may prove an AUTH login). */
  qmail_smtpd_uids: { schema: uidList, expected: 'a list of numeric uids (e.g. [64011])' },
} as const;

/** Names the settings had before they were snake_case; still read, so an old inventory keeps working. */
export const MTA_HOST_ALIASES: Record<string, keyof typeof MTA_HOST_VARS> = { configDir: 'config_directory', qmailDir: 'qmail_dir' };

/** One host's resolved MTA context: what every command builder reads, never the raw inventory. */
export interface MtaHost {
  /** Absolute path of the MTA's main binary when detection (or the inventory) found one. */
  readonly binary?: string;
  /** The inventory's `mail_log`; unset: each MTA's usual places (its logs.ts). */
  readonly mailLog?: readonly string[];
  readonly pidFile?: string;
  readonly queueDirectory?: string;
  readonly spoolDirectory?: string;
  readonly configDirectory?: string;
  readonly qmailDir: string;
  readonly qmailSmtpdUids: readonly string[];
  /** Settings present but unusable (only possible for a HostSpec not built by the inventory loader). */
  readonly problems: readonly string[];
}

/**
 * Resolve a host's MTA settings. The inventory loader has already checked them; a value that is
 * still bad (a HostSpec built in code) is left out and named in `problems`, never used.
 */
export function mtaHost(binary: string | undefined, vars: Record<string, unknown> = {}): MtaHost {
  const problems: string[] = [];
  const get = <K extends keyof typeof MTA_HOST_VARS>(key: K): z.infer<(typeof MTA_HOST_VARS)[K]['schema']> | undefined => {
    const alias = Object.keys(MTA_HOST_ALIASES).find((a) => MTA_HOST_ALIASES[a] === key);
    const raw = vars[key] ?? (alias !== undefined ? vars[alias] : undefined);
    if (raw === undefined || raw === null || raw === '') return undefined;
    const r = MTA_HOST_VARS[key].schema.safeParse(raw);
    if (r.success) return r.data as z.infer<(typeof MTA_HOST_VARS)[K]['schema']>;
    problems.push(`${key}: expected ${MTA_HOST_VARS[key].expected}`);
    return undefined;
  };
  const b = binary?.trim();
  const host: MtaHost = {
    ...(b ? { binary: b } : {}),
    ...(() => {
      const l = get('mail_log');
      return l === undefined ? {} : { mailLog: l };
    })(),
    ...optional('pidFile', get('mta_pid_file')),
    ...optional('queueDirectory', get('queue_directory')),
    ...optional('spoolDirectory', get('spool_directory')),
    ...optional('configDirectory', get('config_directory')),
    qmailDir: (get('qmail_dir') ?? '/var/qmail').replace(/(.)\/+$/, '$1'),
    qmailSmtpdUids: [...new Set(get('qmail_smtpd_uids') ?? [])],
    problems,
  };
  return Object.freeze(host);
}

function optional<K extends string>(key: K, v: string | undefined): { [P in K]?: string } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: string };
}

/** The directory of the host's binary with `tool` in it, or `tool` alone (found on PATH). */
export function siblingTool(h: MtaHost, tool: string): string {
  const b = h.binary;
  return b && b.includes('/') ? `${b.slice(0, b.lastIndexOf('/') + 1)}${tool}` : tool;
}
