// `mailsweep html -o FILE`: the HTML report from what `mailsweep report` recorded, without scanning
// (cheap enough to run from a web server's cron, or by hand). `report --html FILE` writes the same
// page at the end of each run.
import { existsSync } from 'node:fs';
import { packageVersion } from '../package-root.js';
import { openReportStore } from '../alerts/open-store.js';
import { isPostgresUrl, isServerUrl } from '../alerts/state-url.js';
import { defaultReportStatePath, type ReportStore } from '../alerts/store.js';
import { writeAtomically } from '../files/write-atomically.js';
import { ConfigError } from '../errors.js';
import { historyFromStore } from '../history/shared.js';
import { defaultHistoryPath, HistoryStore } from '../history/store.js';
import { utcDay } from '../logs/time.js';
import { collectHtmlData } from '../html/data.js';
import { renderHtml } from '../html/render.js';

export interface HtmlCliOptions {
  output?: string;
  state?: string;
  history?: string | false;
  days?: string;
  inventory?: string;
  /** Tests only: the page's clock (ISO time); also $MAILSWEEP_NOW. */
  now?: string;
}

export interface HtmlIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}

export const DEFAULT_HTML_DAYS = 14;

function version(): string {
  try {
    return packageVersion();
  } catch {
    return '';
  }
}

export function htmlDays(v: string | undefined, flag = '--days'): number {
  if (v === undefined) return DEFAULT_HTML_DAYS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 400) throw new ConfigError(`${flag} must be a whole number of days from 1 to 400, got "${v}"`);
  return n;
}

/** Written atomically: a reader (web server, browser) never sees half a page. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  try {
    await writeAtomically(file, text);
  } catch (e) {
    throw new ConfigError(`HTML report ${file}: ${(e as Error).message}`);
  }
}

/** Render the page from open stores (used by `report --html` while it still holds its lock). */
export async function buildHtml(
  store: ReportStore,
  history: HistoryStore | undefined,
  o: { now: number; days: number; inventory?: string },
): Promise<string> {
  const data = await collectHtmlData(store, history, { now: o.now, days: o.days, ...(o.inventory ? { inventory: o.inventory } : {}) });
  return renderHtml(data, version());
}

export async function runHtml(o: HtmlCliOptions, io: HtmlIo): Promise<number> {
  const days = htmlDays(o.days);
  const nowText = o.now ?? io.env.MAILSWEEP_NOW;
  const now = nowText ? Date.parse(nowText) : Date.now();
  if (Number.isNaN(now)) throw new ConfigError(`--now / MAILSWEEP_NOW: expected an ISO date and time, got "${nowText}"`);
  const statePath = o.state ?? defaultReportStatePath(io.env);
  // Reading must not create an empty state file where the admin mistyped a path.
  if (!isServerUrl(statePath) && !existsSync(statePath))
    throw new ConfigError(`--state ${statePath}: no such file (run \`mailsweep report\` first, or give --state)`);
  if (isPostgresUrl(statePath) && typeof o.history === 'string')
    throw new ConfigError(
      `--history ${o.history}: with a shared state (--state postgres://…) the page reads its history from the database; drop --history`,
    );
  const historyPath = o.history === false ? undefined : (o.history ?? defaultHistoryPath());
  const store = await openReportStore(statePath, { env: io.env });
  let history: HistoryStore | undefined;
  try {
    // A missing history is not an error: the page says there is none.
    // A shared state has no history file: the page reads the figures every controller recorded.
    if (isPostgresUrl(statePath) && o.history !== false)
      history = await historyFromStore(store, utcDay(now / 1000 - days * 86_400), utcDay(now / 1000));
    else if (historyPath && existsSync(historyPath)) history = new HistoryStore(historyPath);
    const page = await buildHtml(store, history, { now, days, ...(o.inventory ? { inventory: o.inventory } : {}) });
    if (!o.output || o.output === '-') io.stdout(page);
    else await writeAtomic(o.output, page);
    return 0;
  } finally {
    history?.close();
    await store.close();
  }
}
