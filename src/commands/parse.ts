// `mailsweep parse`: the scan's parsers on a saved queue listing or log (file or stdin) → JSON.
// For pipelines (`exim -bp | mailsweep parse --mta exim --kind queue`) and odd server output.
// The JSON keeps the server's bytes; C1, bidi and invisible characters are \u escapes (text/json.ts).
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import { AuthAggregator } from '../logs/aggregate.js';
import type { LogSink } from '../logs/types.js';
import { ADAPTERS } from '../mta/index.js';
import { MTA_NAMES, type MtaName } from '../mta/types.js';
import { jsonText } from '../text/json.js';
import { printable } from '../text/printable.js';
import { LineSplitter } from '../transport/lines.js';

export interface ParseCliOptions {
  mta: string;
  kind: string;
  year?: string;
}

function input(file: string | undefined): Readable {
  const src = !file || file === '-' ? process.stdin : createReadStream(file);
  // Rotated logs are gzipped: read them as they are.
  return file?.endsWith('.gz') ? src.pipe(createGunzip()) : src;
}

async function readAll(s: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

export async function runParse(file: string | undefined, o: ParseCliOptions): Promise<number> {
  if (!MTA_NAMES.includes(o.mta as MtaName)) throw new ConfigError(`--mta must be one of ${MTA_NAMES.join(', ')}, got "${o.mta}"`);
  const mta = o.mta as MtaName;
  if (o.kind !== 'queue' && o.kind !== 'log') throw new ConfigError(`--kind must be queue or log, got "${o.kind}"`);
  const stream = input(file);
  stream.on('error', (e) => {
    process.stderr.write(`mailsweep: error: cannot read ${printable(String(file))}: ${printable(e.message)}\n`);
    process.exit(3);
  });
  const nowSeconds = Math.floor(Date.now() / 1000);

  if (o.kind === 'queue') {
    const l = ADAPTERS[mta].parseListing(await readAll(stream), nowSeconds);
    const out = {
      total: l.messages.length,
      reportedTotal: l.reportedTotal,
      messages: l.messages.map((m) => ({
        id: m.id,
        sender: m.sender,
        recipients: m.recipients,
        frozen: m.frozen,
        bounce: m.bounce,
        held: m.held,
        size: m.size,
        ageSeconds: m.ageSeconds,
        ...(m.authId ? { authId: m.authId } : {}),
      })),
      ...('services' in l && Array.isArray(l.services) ? { services: l.services } : {}),
      warnings: l.warnings,
    };
    process.stdout.write(jsonText(out, 2) + '\n');
    return l.warnings.length && !l.messages.length && l.reportedTotal === null ? 3 : 0;
  }

  const year = o.year ? Number(o.year) : undefined;
  if (o.year && (!Number.isInteger(year) || year! < 1970 || year! > 9999)) throw new ConfigError(`--year must be a year, got "${o.year}"`);
  const parser = ADAPTERS[mta].logs.create(year ? { year } : { nowSeconds });
  const agg = new AuthAggregator();
  const warnings: string[] = [];
  const sink: LogSink = {
    submission: (s) => agg.add(s),
    failure: (f) => agg.addFailure(f),
    warning: (w) => warnings.length < 50 && warnings.push(w),
  };
  // Stream line by line: a multi-gigabyte log never sits in memory. Lines end at \n only, as in
  // the scan's log read (a CR inside a line is server text, not a line break; a CRLF file's CR goes).
  const splitter = new LineSplitter((line) => parser.feed(line.endsWith('\r') ? line.slice(0, -1) : line, sink));
  for await (const chunk of stream) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  splitter.end();
  parser.end(sink);
  const out = {
    users: agg.result().map((u) => ({
      authId: u.authId,
      messages: u.messages,
      recipients: u.recipients,
      clientIps: u.clientIps,
      senderDomains: u.senderDomains,
      nullSenders: u.nullSenders,
      firstSeen: u.firstSeen === null ? null : new Date(u.firstSeen * 1000).toISOString(),
      lastSeen: u.lastSeen === null ? null : new Date(u.lastSeen * 1000).toISOString(),
      sampleIds: u.sampleQueueIds,
    })),
    failures: agg.failureStats(),
    summary: { ...agg.summary(), lines: parser.stats().lines },
    warnings,
  };
  process.stdout.write(jsonText(out, 2) + '\n');
  return 0;
}
