// The evidence bundle of an incident: RUN/evidence/ and RUN/evidence-RUN.tar.gz in the runs
// directory, beside the journal — sample headers, the log lines that attributed the mail, the
// client IPs, the rules that fired, the queue before and now, the run's timeline, summary.md and
// evidence.json. Read-only on the host. Run it after identify (while the spam is still queued, so
// its headers can be read) and again before the notice: a later run keeps the headers it finds.
// No secret may reach it: everything is redacted, and every file is checked before it is kept.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { isPromptAbort, StepError } from '../errors.js';
import type { Action, StepContext } from '../playbook/types.js';
import { tarGz } from '../files/tar-gz.js';
import { printable } from '../text/printable.js';
import { redact } from '../text/redact.js';
import { flag } from './command.js';
import { headersOf, knownSecrets, logLinesOf, queueNow } from './evidence-collect.js';
import { EVIDENCE_VERSION, summaryMarkdown, timeline, type EvidenceDoc } from './evidence-render.js';
import { incidentFacts } from './facts.js';

const Params = z.object({
  account: z.string().min(1),
  /** Sample messages whose headers go in. */
  samples: z.coerce.number().int().min(0).max(50).default(5),
  /** Other people's addresses (recipients, forged senders) as [redacted]@domain. */
  redact_addresses: flag.default(true),
  /** Log lines naming the account kept (first and last half); 0: read no log. */
  log_lines: z.coerce.number().int().min(0).max(10_000).default(200),
  identify_step: z.string().default('identify'),
  reset_step: z.string().default('reset'),
  purge_step: z.string().default('purge'),
  backscatter_step: z.string().default('backscatter'),
});
type P = z.infer<typeof Params>;

interface IdentifyResult {
  queuedBefore?: number;
  accountQueued?: number;
  sampleId?: string | null;
  sampleHeaders?: string;
  suspects?: { authId: string; messages: number; queued: number }[];
  clientIps?: EvidenceDoc['clientIps'];
  findings?: EvidenceDoc['rules'];
  accountIds?: string[];
}

/** An address, after an optional `key=` (`email=bob@x`, `from=carol@y`), which is kept as it is. */
const ADDRESS = /([A-Za-z_]+=)?([A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/g;

/** The bundle's one cleaning path: secrets, then (by option) other people's addresses, then controls. */
export function cleaner(account: string, secrets: readonly string[], runRedact: (s: string) => string, redactAddresses: boolean) {
  const own = account.toLowerCase();
  const base = (s: string) => {
    let t = redact(runRedact(s), secrets);
    if (redactAddresses)
      t = t.replace(ADDRESS, (a, key: string | undefined, local: string, domain: string) =>
        `${local}@${domain}`.toLowerCase() === own ? a : `${key ?? ''}[redacted]@${domain}`,
      );
    return t;
  };
  return { line: (s: string) => printable(base(s)), text: (s: string) => printable(base(s), { multiline: true }) };
}

/** Headers files already in the bundle (an earlier evidence step of this run read them). */
function earlierSamples(dir: string): string[] {
  const d = join(dir, 'headers');
  return existsSync(d)
    ? readdirSync(d)
        .filter((f) => f.endsWith('.txt'))
        .sort()
    : [];
}

/** Refuse a bundle that holds a secret anywhere: the files, and the archive's contents unpacked. */
export function assertNoSecret(files: Map<string, Buffer>, archive: Buffer, secrets: readonly string[]): void {
  const blobs = [...files.values(), gunzipSync(archive)];
  for (const s of secrets)
    for (const b of blobs)
      if (b.includes(s)) throw new StepError('a secret of this run reached the evidence bundle: the bundle was removed, nothing was kept');
}

async function build(p: P, ctx: StepContext): Promise<{ dir: string; archive: string; doc: EvidenceDoc; files: string[] }> {
  const dir = join(ctx.runDir, 'evidence');
  const secrets = await knownSecrets(ctx);
  const clean = cleaner(p.account, secrets, ctx.redact, p.redact_addresses);
  const id = (ctx.journal.doneResult(p.identify_step).result ?? ctx.scope[p.identify_step] ?? {}) as IdentifyResult;
  const files = new Map<string, Buffer>();
  const put = (name: string, text: string) => void files.set(name, Buffer.from(text, 'utf8'));

  const now = await queueNow(ctx, p.account, 1000);
  // Headers: kept from an earlier evidence step, then read for ids still queued, then identify's one sample.
  const samples: EvidenceDoc['samples'] = [];
  for (const f of earlierSamples(dir)) {
    if (samples.length >= p.samples) break;
    put(`headers/${f}`, readFileSync(join(dir, 'headers', f), 'utf8'));
    samples.push({ id: f.replace(/\.txt$/, ''), file: `headers/${f}`, source: 'queue' });
  }
  const have = new Set(samples.map((s) => s.id));
  const candidates = [...new Set([...(id.sampleId ? [id.sampleId] : []), ...(now?.ids ?? []), ...(id.accountIds ?? [])])];
  // A few tries past the wanted count (a message may be gone by now), not one round trip per queued id.
  let tries = 2 * p.samples + 2;
  for (const qid of candidates) {
    if (samples.length >= p.samples || tries <= 0) break;
    if (have.has(qid) || !/^[\w.-]{1,64}$/.test(qid)) continue;
    tries--;
    const h = await headersOf(ctx, qid);
    if (h === null) continue;
    put(`headers/${qid}.txt`, `${clean.text(h)}\n`);
    samples.push({ id: qid, file: `headers/${qid}.txt`, source: 'queue' });
    have.add(qid);
  }
  if (!samples.length && id.sampleId && id.sampleHeaders && p.samples > 0 && /^[\w.-]{1,64}$/.test(id.sampleId)) {
    put(`headers/${id.sampleId}.txt`, `${clean.text(id.sampleHeaders)}\n`);
    samples.push({ id: id.sampleId, file: `headers/${id.sampleId}.txt`, source: 'identify' });
  }

  // Log lines: kept from an earlier evidence step, else read (the log outlives the queue).
  const suspect = id.suspects?.find((s) => s.authId === p.account);
  const log: EvidenceDoc['log'] = {
    included: 'counts',
    matched: 0,
    kept: 0,
    read: 0,
    files: [],
    ...(suspect ? { sent: suspect.messages, queued: suspect.queued } : {}),
  };
  const earlierLog = join(dir, 'log-lines.txt');
  const earlierDoc = join(dir, 'evidence.json');
  if (existsSync(earlierLog) && existsSync(earlierDoc)) {
    const prev = (JSON.parse(readFileSync(earlierDoc, 'utf8')) as EvidenceDoc).log;
    put('log-lines.txt', readFileSync(earlierLog, 'utf8'));
    Object.assign(log, prev);
  } else if (p.log_lines > 0) {
    const l = await logLinesOf(
      ctx,
      p.account,
      samples.map((s) => s.id),
      p.log_lines,
    );
    Object.assign(log, { matched: l.matched, read: l.read, files: l.files.map(clean.line), ...(l.problem ? { problem: l.problem } : {}) });
    if (l.lines.length) {
      put('log-lines.txt', `${l.lines.map(clean.line).join('\n')}\n`);
      Object.assign(log, { included: 'lines', file: 'log-lines.txt', kept: l.lines.length });
    }
  }

  const facts = incidentFacts(ctx, { reset: p.reset_step, purge: p.purge_step, backscatter: p.backscatter_step });
  const doc: EvidenceDoc = {
    version: EVIDENCE_VERSION,
    generatedAt: new Date().toISOString(),
    run: { id: ctx.runId, host: ctx.host.name, mta: ctx.mta, dryRun: ctx.dryRun, journal: ctx.journal.path },
    account: clean.line(p.account),
    options: { samples: p.samples, redactAddresses: p.redact_addresses, logLines: p.log_lines },
    rules: (id.findings ?? []).map((f) => ({
      rule: clean.line(f.rule),
      severity: f.severity,
      message: clean.line(f.message),
      ...(f.evidence ? { evidence: JSON.parse(clean.line(JSON.stringify(f.evidence))) as unknown } : {}),
    })),
    clientIps: (id.clientIps ?? []).map((x) => ({ ...x, ip: clean.line(x.ip) })),
    log,
    samples,
    queue: {
      before: { total: id.queuedBefore ?? null, account: id.accountQueued ?? null, ids: (id.accountIds ?? []).map(clean.line) },
      now: now && { ...now, ids: now.ids.map(clean.line) },
    },
    actions: { reset: facts.reset, spamRemoved: facts.spamRemoved, backscatterRemoved: facts.backscatterRemoved, held: facts.held },
    timeline: timeline(ctx.journal.events, clean.line),
  };
  put('evidence.json', `${JSON.stringify(doc, null, 2)}\n`);
  put('summary.md', summaryMarkdown(doc));

  const names = [...files.keys()].sort();
  const archiveBuf = tarGz([
    { name: 'evidence/' },
    ...(names.some((n) => n.startsWith('headers/')) ? [{ name: 'evidence/headers/' }] : []),
    ...names.map((n) => ({ name: `evidence/${n}`, data: files.get(n)! })),
  ]);
  assertNoSecret(files, archiveBuf, secrets);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'headers'), { recursive: true, mode: 0o700 });
  for (const n of names) writeFileSync(join(dir, n), files.get(n)!, { mode: 0o600 });
  const archive = join(ctx.runDir, `evidence-${ctx.runId}.tar.gz`);
  writeFileSync(archive, archiveBuf, { mode: 0o600 });
  return { dir, archive, doc, files: names };
}

export const evidence: Action<typeof Params> = {
  name: 'evidence',
  params: Params,
  describe: (p) => `write the evidence bundle of ${p.account}`,
  async run(p, ctx) {
    let built: Awaited<ReturnType<typeof build>>;
    try {
      built = await build(p, ctx);
    } catch (e) {
      // The proof is worth having, not worth stopping the cleanup for: said, journaled, and on.
      if (isPromptAbort(e)) throw e;
      const error = (e as Error)?.message ?? String(e);
      ctx.journal.append({ t: 'note', step: ctx.step.id, message: `evidence bundle not written: ${error}` });
      ctx.say(`warning: evidence bundle not written: ${error}`);
      return { written: false, error };
    }
    const { dir, archive, doc, files } = built;
    ctx.say(
      `evidence: ${dir}/ and ${archive} — ${doc.samples.length} sample header(s), ${doc.log.included === 'lines' ? `${doc.log.kept} log line(s)` : 'log counts only'}, ` +
        `${doc.clientIps.length} client IP(s), ${doc.rules.length} rule(s), ${doc.timeline.length} timeline entr${doc.timeline.length === 1 ? 'y' : 'ies'}`,
    );
    return { dir, archive, files, samples: doc.samples.length, logLines: doc.log.kept, version: doc.version };
  },
};
