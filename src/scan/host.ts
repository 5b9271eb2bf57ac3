// Scan one host: connect, detect the MTA, read the queue in one round trip, apply the rules.
// Never throws: every failure becomes a status and a one-line reason.
import { ConfigError, TransportError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { getAdapter } from '../mta/index.js';
import { readLocalDomains, type LocalDomains } from '../mta/local-domains.js';
import { mtaHost } from '../mta/host.js';
import { anyBounce, listingQueue, readerOf, type QueueReader } from '../mta/compact-queue.js';
import { addCounts, countMessage, noCounts } from '../mta/message-store.js';
import { subjectOf } from '../mta/subject.js';
import type { MtaAdapter, MtaContext, MtaName, QueueListing, QueueMessage, ReadPlan } from '../mta/types.js';
import type { HistoryStore } from '../history/store.js';
import { ACCOUNT_RULES, isWeekday } from '../rules/account-rules.js';
import { authPolicyFindings } from '../rules/auth-policy.js';
import { backscatter } from '../rules/backscatter.js';
import { queueSizeFinding } from '../rules/queue-size.js';
import { ruleSettings } from '../rules/settings.js';
import { rankSuspects, type Suspect } from '../rules/suspects.js';
import type { AccountFinding, HostEvidence } from '../rules/types.js';
import type { UserStats } from '../logs/aggregate.js';
import { localDay, readLogWindow, unreadWindow } from './logs.js';
import { probeAuthPolicy, SMTP_REPLY_MS } from './auth-probe.js';
import { detectAndReadQueue, readQueue } from './queue-read.js';
import { oneLine, printable } from '../text/printable.js';
import type { Transport } from '../transport/types.js';
import type { Finding } from '../rules/types.js';
import type { HostReport, QueueSummary } from './types.js';

export interface HostScanOptions {
  commandTimeoutMs: number;
  includeMessages: boolean;
  /** Per-message attribution, log window and account rules (default on). */
  attribution?: boolean;
  /** Log window start (epoch seconds), or 'today' in the server's time zone. */
  since?: number | 'today';
  /** Already detected (the incident engine did it): skips the probe round trip. */
  detected?: { mta: MtaName; binary?: string };
  /** Daily counts store for the baseline rule; without it baseline uses no history. */
  history?: HistoryStore;
  /**
   * The caller's whole-host deadline (the fleet's): the log read and the auth-policy probe are fitted
   * inside it, so a slow log degrades to queue-only attribution instead of the host timing out.
   */
  deadlineMs?: number;
  /** The log window's per-account totals, for a caller that keeps them (the report job's digest). */
  onAccounts?: (w: AccountWindow) => void;
  /** Most bytes of queue output read from this host (the fleet scales it to --forks: queueOutputCap). */
  outputCapBytes?: number;
}

const MiB = 1024 * 1024;
/** What all hosts scanned at once may hold of queue output together; each gets its share, within bounds. */
const OUTPUT_BUDGET = 2048 * MiB;

/** The per-host queue output cap for `forks` hosts at once: 2 GiB shared, at least 16 MiB, at most 256 MiB. */
export function queueOutputCap(forks: number): number {
  return Math.min(256 * MiB, Math.max(16 * MiB, Math.floor(OUTPUT_BUDGET / Math.max(1, forks))));
}

/** What one host's log window showed per account; `days` the server-local days it covers, `today` last. */
export interface AccountWindow {
  host: string;
  today: string;
  days: string[];
  users: UserStats[];
  /** Failed logins per attempted user name (names that never logged in included). */
  failuresByUser: Record<string, number>;
}

/** The listing's counts: its kept messages, its compact ones and the ones its parser only counted. */
export function summarize(listing: QueueListing): QueueSummary {
  const c = addCounts(listing.counts ?? noCounts(), listing.compact?.counts() ?? null)!;
  for (const m of listing.messages) countMessage(c, m);
  return { ...c, reportedTotal: listing.reportedTotal };
}

/** Kept free before the caller's deadline, to finish the report. */
const DEADLINE_MARGIN_MS = 1_000;
/** A log read with less time than this is not started. */
const MIN_LOG_MS = 1_000;

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One queued message's Subject for the top suspect's evidence; evidence is extra, so failure is silent. */
async function addSampleSubject(
  s: Suspect,
  adapter: MtaAdapter,
  ctx: MtaContext,
  transport: Transport,
  queue: QueueMessage[] | QueueReader,
  timeoutMs: number,
): Promise<void> {
  const q = readerOf(queue);
  let first: number | undefined;
  let many: number | undefined;
  for (let i = 0; i < q.length && many === undefined; i++) {
    if (q.authId(i) !== s.authId) continue;
    first ??= i;
    if (q.recipientCount(i) > 1) many = i;
  }
  const at = many ?? first;
  const sample = at === undefined ? undefined : { id: q.id(at) };
  const cmd = sample ? adapter.headersCommand(ctx, sample.id) : null;
  if (!sample || !cmd) return;
  try {
    const r = await transport.exec(cmd, { timeoutMs, maxBytes: 256 * 1024 });
    const subject = r.code === 0 ? subjectOf(r.stdout) : null;
    if (subject !== null) s.sampleSubject = { id: sample.id, subject: subject.slice(0, 300) };
  } catch {
    // The queue and the findings stand without it.
  }
}

/** The MTA's configured local domains, or null when they cannot be read (then no bounce is proven foreign). */
async function readLocalDomainsOf(transport: Transport, mta: MtaName, ctx: MtaContext, timeoutMs: number): Promise<LocalDomains | null> {
  try {
    return await readLocalDomains(getAdapter(mta).localDomains, ctx, {
      exec: (command, stdin) => transport.exec(command, { timeoutMs, stdin, maxBytes: 16 * 1024 * 1024 }),
    });
  } catch {
    return null;
  }
}

/**
 * Log window + account rules + suspects. The queue is already read when this runs: what fails here
 * (log timed out, missing or unreadable, probe, history store, a rule) becomes an info finding
 * saying why attribution is partial; the rest of the evidence is still used.
 */
async function attribute(
  host: HostSpec,
  mta: MtaName,
  ctx: MtaContext,
  transport: Transport,
  queue: QueueMessage[] | QueueReader,
  report: HostReport,
  opts: HostScanOptions,
  leftMs: () => number,
): Promise<AccountFinding[]> {
  const settings = ruleSettings(host.vars, `${host.source.file}:${host.source.line}: ${host.name}`);
  const notes: AccountFinding[] = [];
  const note = (message: string) => notes.push({ rule: 'attribution', severity: 'info', message });
  const since = opts.since ?? 'today';
  // Never the whole host budget: the log read times out on its own and degrades, before the fleet's deadline.
  const logMs = Math.min(opts.commandTimeoutMs, leftMs());
  const probeMs = Math.min(2 * SMTP_REPLY_MS, leftMs());
  if (settings.auth_policy && probeMs < MIN_LOG_MS) note("auth-policy probe skipped: the host's deadline was nearly spent");
  // The log read and the SMTP probes use channels of their own: side by side, each within the budget.
  const [win, probes, localDomains] = await Promise.all([
    logMs >= MIN_LOG_MS
      ? readLogWindow(transport, mta, getAdapter(mta).logs, ctx.mailLog, since, logMs, {
          failures: settings.auth_burst_failures,
          seconds: settings.auth_burst_seconds,
        })
      : unreadWindow(since, "log not read: the host's deadline was nearly spent before it: attribution from the queue only"),
    settings.auth_policy && probeMs >= MIN_LOG_MS ? probeAuthPolicy(transport, probeMs, host.name) : null,
    // The MTA's own local domains: only bounces need them (is a recipient foreign?).
    anyBounce(readerOf(queue)) && logMs >= MIN_LOG_MS ? readLocalDomainsOf(transport, mta, ctx, logMs) : undefined,
  ]);
  const nowSeconds = win.nowSeconds ?? Math.floor(Date.now() / 1000);
  const today = localDay(nowSeconds, win.tzOffsetMinutes);
  report.log = { files: win.files, lines: win.lines, since: new Date(win.sinceEpoch * 1000).toISOString(), reason: win.reason };
  if (win.auth) report.auth = win.auth;
  const store = opts.history;
  let historyFailed: string | null = null;
  const evidence: HostEvidence = {
    host: host.name,
    queue,
    users: win.users,
    today,
    settings,
    localDomains,
    history: store
      ? (authId) => {
          if (historyFailed) return [];
          try {
            const days = store
              .observedDays(host.name, today, 8 * settings.baseline_days)
              .filter(isWeekday)
              .slice(0, settings.baseline_days);
            return store.userCounts(host.name, authId, days);
          } catch (e) {
            historyFailed = why(e);
            return [];
          }
        }
      : null,
  };
  const findings: AccountFinding[] = [];
  for (const rule of [...ACCOUNT_RULES, backscatter]) {
    try {
      findings.push(...rule(evidence));
    } catch (e) {
      note(`rule ${rule.name || '(unnamed)'} could not run (${why(e)}): its findings are missing`);
    }
  }
  if (historyFailed) note(`history store unreadable (${historyFailed}): baseline judged without history`);
  if (probes) findings.push(...authPolicyFindings(...probes));
  if (win.reason) findings.push({ rule: 'log', severity: 'info', message: win.reason });
  // With users null (log unread), suspects come from the queue's evidence alone.
  report.suspects = rankSuspects(findings, win.users, queue);
  if (win.users && opts.onAccounts) {
    const days: string[] = [];
    for (let t = win.sinceEpoch; localDay(t, win.tzOffsetMinutes) < today; t += 86400) days.push(localDay(t, win.tzOffsetMinutes));
    opts.onAccounts({
      host: host.name,
      today,
      days: [...new Set([...days, today])],
      users: win.users,
      failuresByUser: win.failures?.byUser ?? {},
    });
  }
  if (store && win.users) {
    try {
      const days = new Set<string>();
      for (let t = win.sinceEpoch; t <= nowSeconds; t += 86400) days.add(localDay(t, win.tzOffsetMinutes));
      days.add(today);
      store.record(
        host.name,
        win.users.flatMap((u) =>
          Object.entries(u.perDay).map(([day, messages]) => ({ host: host.name, authId: u.authId, day, messages, recipients: 0 })),
        ),
        [...days],
      );
    } catch (e) {
      note(`history not recorded (${why(e)}): tomorrow's baseline misses today`);
    }
  }
  return [...findings, ...notes];
}

function queuePlan(mta: MtaName, ctx: MtaContext, attribution: boolean): ReadPlan<QueueListing> {
  return attribution ? getAdapter(mta).attributedQueue(ctx) : getAdapter(mta).queue(ctx);
}

export async function scanHost(host: HostSpec, transport: Transport, opts: HostScanOptions): Promise<HostReport> {
  const started = Date.now();
  const report: HostReport = {
    name: host.name,
    address: host.address,
    status: 'ok',
    mta: host.mta ?? null,
    queue: null,
    thresholds: { warn: host.queueWarn, crit: host.queueCrit },
    findings: [],
    durationMs: 0,
  };
  const done = () => ({ ...report, durationMs: Date.now() - started });
  const deadlineAt = opts.deadlineMs ? started + opts.deadlineMs - DEADLINE_MARGIN_MS : Infinity;
  const leftMs = () => deadlineAt - Date.now();
  try {
    const attribution = opts.attribution !== false;
    const cap = opts.outputCapBytes ?? queueOutputCap(1);
    // Nothing reads the messages themselves without attribution or --messages: only their counts are kept.
    // Attribution without --messages: kept compactly, only what the rules read (compact-queue.ts).
    const o = {
      timeoutMs: opts.commandTimeoutMs,
      maxBytes: cap,
      countsOnly: !attribution && !opts.includeMessages,
      compact: attribution && !opts.includeMessages,
    };
    const known = opts.detected ?? (host.mta ? { mta: host.mta } : null);
    // MTA unknown: detection and the queue read in one command (queue-read.ts).
    const read = known
      ? { ...known, ...(await readQueue(transport, queuePlan(known.mta, mtaHost(known.binary, host.vars), attribution), o)) }
      : await detectAndReadQueue(transport, host.vars, attribution, o);
    if (!read.mta) {
      report.status = 'error';
      report.reason = read.reason;
      return done();
    }
    const { mta, binary, res, listing } = read;
    report.mta = mta;
    const adapter = getAdapter(mta);
    const ctx = mtaHost(binary, host.vars);
    const cut: Finding[] = res.truncated
      ? [
          {
            rule: 'queue-output',
            severity: 'warning',
            message: `queue output cut at ${Math.round(cap / MiB)} MiB (the per-host cap with this many hosts at once): the listing and attribution are from the part read (a lower bound); scan this host alone (-l HOST -f 1) to read all of it`,
            evidence: { capBytes: cap },
          },
        ]
      : [];
    if (listing.warnings.length) report.warnings = listing.warnings.slice(0, 50);
    const parsed = listing.messages.length + (listing.counts?.total ?? 0) + (listing.compact?.length ?? 0);
    if (parsed === 0 && listing.reportedTotal === null && (res.code !== 0 || listing.warnings.length)) {
      report.status = 'error';
      report.reason =
        res.code !== 0
          ? `${mta} queue command failed (exit ${res.code}): ${oneLine(res.stderr) || oneLine(res.stdout)}`
          : `${mta} queue output not understood: ${listing.warnings.length} unparsed line(s), first: ${oneLine(listing.warnings[0] ?? '')}`;
      return done();
    }
    report.queue = summarize(listing);
    if (opts.includeMessages) report.messages = listing.messages;
    const findings: Finding[] = [...cut];
    if (listing.reportedTotal !== null && listing.reportedTotal !== parsed)
      findings.push({
        rule: 'queue-count',
        severity: 'warning',
        message: `parsed ${parsed} messages but ${mta} reports ${listing.reportedTotal} (queue moving, or output not fully understood)`,
        evidence: { parsed, reported: listing.reportedTotal },
      });
    const q = queueSizeFinding(
      { ...report.queue, total: Math.max(report.queue.total, listing.reportedTotal ?? 0) },
      { warn: host.queueWarn, crit: host.queueCrit },
    );
    if (q) findings.unshift(q);
    if (attribution) {
      try {
        findings.push(...(await attribute(host, mta, ctx, transport, listingQueue(listing), report, opts, leftMs)));
      } catch (e) {
        // Attribution is extra: whatever breaks in it, the queue's findings and the host's status stand.
        const expected = e instanceof TransportError || e instanceof ConfigError;
        findings.push({
          rule: 'attribution',
          severity: 'info',
          message: `attribution failed (${expected ? '' : 'internal error: '}${why(e)}): queue findings only`,
        });
      }
    }
    report.findings = findings;
    const top = report.suspects?.[0];
    if (top && leftMs() > 2000)
      await addSampleSubject(top, adapter, ctx, transport, listingQueue(listing), Math.min(opts.commandTimeoutMs, leftMs() - 1000));
    return done();
  } catch (e) {
    if (e instanceof TransportError) {
      report.status = e.kind;
      report.reason = e.message;
    } else if (e instanceof ConfigError) {
      report.status = 'error';
      report.reason = e.message;
    } else {
      report.status = 'error';
      report.reason = `internal error: ${(e as Error).message}`;
    }
    return done();
  }
}
