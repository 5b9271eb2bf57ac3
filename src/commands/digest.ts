// `mailsweep report --digest daily|weekly`: the period's digest from the report state; no scan,
// no lock (SQLite readers do not wait for the hourly run). Exit 0 printed, 3 could not.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openReportStore } from '../alerts/open-store.js';
import { isServerUrl } from '../alerts/state-url.js';
import { defaultReportStatePath } from '../alerts/store.js';
import { sendMailVia } from '../alerts/channels.js';
import type { ReportConfig } from '../alerts/config.js';
import { printable } from '../text/printable.js';
import { buildDigest, DIGEST_DAYS, periodEnd, type Digest, type DigestKind } from '../digest/build.js';
import { CSV_TABLES, renderCsv, type CsvTable } from '../digest/csv.js';
import { writeAtomically } from '../files/write-atomically.js';
import { renderJson, renderMarkdown, renderText } from '../digest/render.js';
import { ConfigError } from '../errors.js';
import type { ReportCliOptions, ReportIo } from './report-options.js';

export const DIGEST_FORMATS = ['text', 'markdown', 'json', 'csv'] as const;

/** Write a result file; a path that cannot be written is the user's error, named. */
async function writeOut(file: string, text: string): Promise<void> {
  try {
    await writeAtomically(file, text);
  } catch (e) {
    throw new ConfigError(`-o ${file}: cannot write: ${(e as Error).message}`);
  }
}

/** The digest by mail through an smtp channel of --config, with that channel's retries; 0 sent, 3 not. */
async function mailDigest(cfg: ReportConfig, name: string, d: Digest, text: string, io: ReportIo): Promise<number> {
  const ch = cfg.channels.find((c) => c.name === name);
  if (!ch) throw new ConfigError(`--mail ${name}: no such channel${cfg.file ? ` in ${cfg.file}` : ' (no --config given)'}`);
  if (ch.type !== 'smtp') throw new ConfigError(`--mail ${name}: channel is ${ch.type}; the digest goes by mail only (type: smtp)`);
  const when = d.period.from === d.period.to ? d.period.from : `${d.period.from} to ${d.period.to}`;
  const crit = d.problems.filter((p) => p.severity === 'critical').length;
  const subject = `[mailsweep] ${d.kind} digest ${when}: ${d.problems.length ? `${d.problems.length} problem(s)${crit ? `, ${crit} critical` : ''}` : 'no problems'}`;
  let last = '';
  for (let i = 0; i <= ch.retries; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, ch.backoff * 2 ** (i - 1)));
    try {
      await sendMailVia(ch, subject, text, io.env);
      return 0;
    } catch (e) {
      last = (e as Error).message;
      if (e instanceof ConfigError) break;
    }
  }
  io.stderr(`mailsweep: digest not sent through channel ${name}: ${printable(last, { max: 500 })}\n`);
  return 3;
}

export async function runDigest(o: ReportCliOptions, cfg: ReportConfig, now: number, io: ReportIo): Promise<number> {
  const kind = o.digest as DigestKind;
  if (!Object.hasOwn(DIGEST_DAYS, kind)) throw new ConfigError(`--digest: expected daily or weekly, got "${o.digest}"`);
  const lastDay = periodEnd(o.day, now);
  if (!lastDay) throw new ConfigError(`--day: expected YYYY-MM-DD, today or yesterday, got "${o.day}"`);
  const format = o.format ?? 'text';
  if (!(DIGEST_FORMATS as readonly string[]).includes(format))
    throw new ConfigError(`--format: the digest is ${DIGEST_FORMATS.join(', ')}; got "${format}"`);
  const top = Number(o.top ?? 50);
  if (!Number.isInteger(top) || top < 1 || top > 100_000)
    throw new ConfigError(`--top must be a whole number from 1 to 100000, got "${o.top}"`);
  if (o.table !== undefined && !(CSV_TABLES as readonly string[]).includes(o.table))
    throw new ConfigError(`--table: expected one of ${CSV_TABLES.join(', ')}; got "${o.table}"`);
  if (o.table !== undefined && format !== 'csv') throw new ConfigError('--table goes with --format csv');
  if (o.mail !== undefined && (format === 'csv' || format === 'json'))
    throw new ConfigError(`--mail sends the text or markdown digest, not ${format}`);
  if (format === 'csv' && o.table === undefined && o.output === undefined)
    throw new ConfigError('--format csv writes one table: give --table NAME (stdout) or -o DIR (one file per table)');

  const statePath = o.state ?? cfg.state ?? defaultReportStatePath(io.env);
  if (!isServerUrl(statePath) && !existsSync(statePath))
    throw new ConfigError(`report state ${statePath} does not exist yet: run \`mailsweep report\` first (or give --state)`);
  const store = await openReportStore(statePath, { env: io.env, passwordFile: cfg.statePasswordFile });
  try {
    const d = await buildDigest(store, kind, lastDay, now);
    if (format === 'csv') {
      if (o.table !== undefined) {
        const text = renderCsv(d, o.table as CsvTable);
        if (o.output !== undefined) await writeOut(o.output, text);
        else io.stdout(text);
        return 0;
      }
      const dir = o.output!;
      if (existsSync(dir) && !statSync(dir).isDirectory())
        throw new ConfigError(`-o ${dir}: with --format csv and no --table, -o is a directory (one file per table)`);
      mkdirSync(dir, { recursive: true });
      for (const t of CSV_TABLES) await writeOut(join(dir, `digest-${d.kind}-${d.period.to}-${t}.csv`), renderCsv(d, t));
      return 0;
    }
    const text = format === 'json' ? renderJson(d) : format === 'markdown' ? renderMarkdown(d, top) : renderText(d, top);
    if (o.mail !== undefined) return await mailDigest(cfg, o.mail, d, text, io);
    if (o.output !== undefined) await writeOut(o.output, text);
    else io.stdout(text);
    return 0;
  } finally {
    await store.close();
  }
}
