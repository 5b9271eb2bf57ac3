// `--state` (or the report config's `state:`) to a store: a postgres:// or postgresql:// URL is the
// shared PostgreSQL store (several controllers); any other value is a SQLite file path (the default).
import { ConfigError } from '../errors.js';
import { PostgresReportStore } from './postgres-store.js';
import { SqliteReportStore } from './sqlite-store.js';
import { isPostgresUrl, isServerUrl, parsePostgresUrl, redactStateUrl } from './state-url.js';
import type { ReportStore } from './store.js';

export interface OpenStoreOptions {
  env?: NodeJS.ProcessEnv;
  /** The config's state_password_file. */
  passwordFile?: string | undefined;
}

export async function openReportStore(state: string, o: OpenStoreOptions = {}): Promise<ReportStore> {
  if (isPostgresUrl(state))
    return PostgresReportStore.open(parsePostgresUrl(state, { env: o.env ?? process.env, passwordFile: o.passwordFile }));
  if (isServerUrl(state))
    throw new ConfigError(
      `--state ${redactStateUrl(state)}: unknown database URL scheme (postgres:// or postgresql://, or a SQLite file path)`,
    );
  return new SqliteReportStore(state);
}

/** The state as it may be shown in messages: a URL without its password. */
export const shownState = (state: string): string => (isServerUrl(state) ? redactStateUrl(state) : state);
