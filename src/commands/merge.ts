// `mailsweep merge FILE…`: the shard reports of one sweep (or any scan reports) as one fleet
// report, in any --format; exit code as scan's, recomputed over every host.
import { readFile, writeFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { FORMATS } from '../report/index.js';
import { mergeReports } from '../scan/merge.js';
import type { ScanReport } from '../scan/types.js';
import { parseFormat } from './scan.js';

export interface MergeCliOptions {
  format: string;
  output?: string;
  partial?: boolean;
}

/** Reads and merges the reports (`-` is stdin); a missing or unreadable file names itself. */
export async function loadMerged(files: string[], partial = false): Promise<ScanReport> {
  const inputs = await Promise.all(
    files.map(async (file) => {
      try {
        return { file, text: file === '-' ? await readStdin() : await readFile(file, 'utf8') };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new ConfigError(`${file}: cannot read the scan report (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`);
      }
    }),
  );
  return mergeReports(inputs, { partial });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function runMerge(files: string[], o: MergeCliOptions): Promise<number> {
  const format = parseFormat(o.format);
  const merged = await loadMerged(files, o.partial);
  const missing = merged.merged?.shards?.missing ?? [];
  if (missing.length)
    process.stderr.write(
      `mailsweep: merge: shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${merged.merged!.shards!.count} missing (--partial): their hosts are not in this report\n`,
    );
  const text = FORMATS[format](merged, { color: !o.output && process.stdout.isTTY === true && !process.env.NO_COLOR });
  if (o.output) await writeFile(o.output, text);
  else process.stdout.write(text);
  return merged.summary.exitCode;
}
