// `mailsweep history [HOST|ACCOUNT]`: the trend the report runs recorded. Exit 0 printed, 3 could not
// (no state yet, bad flag, no such host or account in the period).
import { existsSync } from 'node:fs';
import { openReportStore } from '../alerts/open-store.js';
import { isServerUrl } from '../alerts/state-url.js';
import { defaultReportStatePath } from '../alerts/store.js';
import { buildHistory, renderHistoryJson, renderHistoryTable } from '../digest/history.js';
import { ConfigError } from '../errors.js';
import { printable } from '../text/printable.js';
import type { ReportIo } from './report-options.js';

export interface HistoryCliOptions {
  state?: string;
  days?: string;
  format?: string;
  now?: string;
}

const processIo: ReportIo = { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t), env: process.env };

export async function runHistory(subject: string | undefined, o: HistoryCliOptions, io: ReportIo = processIo): Promise<number> {
  const days = Number(o.days ?? 14);
  if (!Number.isInteger(days) || days < 1 || days > 3660)
    throw new ConfigError(`--days must be a whole number from 1 to 3660, got "${o.days}"`);
  const format = o.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new ConfigError(`--format: history is table or json; got "${format}"`);
  const nowText = o.now ?? io.env.MAILSWEEP_NOW;
  const now = nowText ? Date.parse(nowText) : Date.now();
  if (Number.isNaN(now)) throw new ConfigError(`--now / MAILSWEEP_NOW: expected an ISO date and time, got "${nowText}"`);
  const statePath = o.state ?? defaultReportStatePath(io.env);
  if (!isServerUrl(statePath) && !existsSync(statePath))
    throw new ConfigError(`report state ${statePath} does not exist yet: run \`mailsweep report\` first (or give --state)`);
  const store = await openReportStore(statePath, { env: io.env });
  try {
    const v = await buildHistory(store, subject, days, now);
    if (!v)
      throw new ConfigError(`no host or account "${printable(subject ?? '', { max: 200 })}" in ${statePath} in the last ${days} day(s)`);
    io.stdout(format === 'json' ? renderHistoryJson(v) : renderHistoryTable(v));
    return 0;
  } finally {
    await store.close();
  }
}
