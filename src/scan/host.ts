// Scan one host: connect, detect the MTA, read the queue in one round trip, apply the rules.
// Never throws: every failure becomes a status and a one-line reason.
import { ConfigError } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { DETECT_COMMAND, parseDetect } from '../mta/detect.js';
import { getAdapter } from '../mta/index.js';
import type { MtaName, QueueListing, QueueMessage } from '../mta/types.js';
import type { HistoryStore } from '../history/store.js';
import { ACCOUNT_RULES, isWeekday } from '../rules/account-rules.js';
import { authPolicyFindings, ehlo } from '../rules/auth-policy.js';
import { backscatter } from '../rules/backscatter.js';
import { queueSizeFinding } from '../rules/queue-size.js';
import { ruleSettings } from '../rules/settings.js';
import { rankSuspects } from '../rules/suspects.js';
import type { AccountFinding, HostEvidence } from '../rules/types.js';
import { localDay, readLogWindow } from './logs.js';
import { TransportError } from '../transport/errors.js';
import type { Transport } from '../transport/types.js';
import type { Finding, HostReport, QueueSummary } from './types.js';

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
}

export function summarize(listing: QueueListing): QueueSummary {
  const m = listing.messages;
  let oldest: number | null = null;
  for (const x of m) if (x.ageSeconds !== null && (oldest === null || x.ageSeconds > oldest)) oldest = x.ageSeconds;
  return {
    total: m.length,
    frozen: m.filter((x) => x.frozen).length,
    bounces: m.filter((x) => x.bounce).length,
    held: m.filter((x) => x.held).length,
    oldestSeconds: oldest,
    reportedTotal: listing.reportedTotal,
  };
}

/** First line of stderr, cleaned of control characters: server text is shown, never trusted. */
export function oneLine(text: string, max = 200): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l) ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
  return clean.length > max ? clean.slice(0, max) + '…' : clean;
}

/** Log window + account rules + suspects; a log that cannot be read degrades to queue-only evidence. */
async function attribute(
  host: HostSpec,
  mta: MtaName,
  transport: Transport,
  queue: QueueMessage[],
  report: HostReport,
  opts: HostScanOptions,
): Promise<AccountFinding[]> {
  const settings = ruleSettings(host.vars, `${host.source.file}:${host.source.line}: ${host.name}`);
  const win = await readLogWindow(transport, mta, opts.since ?? 'today', host.vars, opts.commandTimeoutMs);
  const nowSeconds = win.nowSeconds ?? Math.floor(Date.now() / 1000);
  const today = localDay(nowSeconds, win.tzOffsetMinutes);
  report.log = { files: win.files, lines: win.lines, since: new Date(win.sinceEpoch * 1000).toISOString(), reason: win.reason };
  const store = opts.history;
  const evidence: HostEvidence = {
    host: host.name,
    queue,
    users: win.users,
    today,
    settings,
    history: store
      ? (authId) => {
          const days = store.observedDays(host.name, today, 8 * settings.baseline_days).filter(isWeekday).slice(0, settings.baseline_days);
          return store.userCounts(host.name, authId, days);
        }
      : null,
  };
  const findings: AccountFinding[] = [...ACCOUNT_RULES.flatMap((r) => r(evidence)), ...backscatter(evidence)];
  if (settings.auth_policy) {
    const [p25, p587] = await Promise.all([ehlo(transport, 25), ehlo(transport, 587)]);
    findings.push(...authPolicyFindings(p25, p587));
  }
  if (win.reason) findings.push({ rule: 'log', severity: 'info', message: win.reason });
  report.suspects = rankSuspects(findings, win.users, queue);
  if (store && win.users) {
    const days = new Set<string>();
    for (let t = win.sinceEpoch; t <= nowSeconds; t += 86400) days.add(localDay(t, win.tzOffsetMinutes));
    days.add(today);
    store.record(
      host.name,
      win.users.flatMap((u) => Object.entries(u.perDay).map(([day, messages]) => ({ host: host.name, authId: u.authId, day, messages, recipients: 0 }))),
      [...days],
    );
  }
  return findings;
}

/** The inventory's `mta`, else one probe round trip (binaries, config files, running daemons). */
export async function detectMta(
  host: HostSpec,
  transport: Transport,
  timeoutMs: number,
): Promise<{ mta: MtaName; binary?: string } | { mta: null; reason: string }> {
  if (host.mta) return { mta: host.mta };
  const probe = await transport.exec(DETECT_COMMAND, { timeoutMs, maxBytes: 1024 * 1024 });
  const d = parseDetect(probe.stdout);
  if (d.mta) return { mta: d.mta, binary: d.binary };
  return { mta: null, reason: `no MTA detected (${d.evidence.join('; ')})${probe.code ? `; probe: ${oneLine(probe.stderr)}` : ''}` };
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
  try {
    const d = opts.detected ?? (await detectMta(host, transport, opts.commandTimeoutMs));
    if (!d.mta) {
      report.status = 'error';
      report.reason = d.reason;
      return done();
    }
    const { mta, binary } = d;
    report.mta = mta;
    const adapter = getAdapter(mta);
    const attribution = opts.attribution !== false;
    const ctx = { binary, vars: host.vars };
    const plan = attribution && adapter.attributedQueue ? adapter.attributedQueue(ctx) : adapter.queue(ctx);
    const res = await transport.exec(plan.command, { timeoutMs: opts.commandTimeoutMs });
    const listing = plan.parse(res.stdout, res.stderr, res.code);
    if (res.truncated) listing.warnings.push('output truncated at the size cap');
    if (listing.warnings.length) report.warnings = listing.warnings.slice(0, 50);
    if (listing.messages.length === 0 && listing.reportedTotal === null && (res.code !== 0 || listing.warnings.length)) {
      report.status = 'error';
      report.reason = res.code !== 0
        ? `${mta} queue command failed (exit ${res.code}): ${oneLine(res.stderr) || oneLine(res.stdout)}`
        : `${mta} queue output not understood: ${listing.warnings.length} unparsed line(s), first: ${oneLine(listing.warnings[0] ?? '')}`;
      return done();
    }
    report.queue = summarize(listing);
    if (opts.includeMessages) report.messages = listing.messages;
    const findings: Finding[] = [];
    if (listing.reportedTotal !== null && listing.reportedTotal !== listing.messages.length)
      findings.push({
        rule: 'queue-count',
        severity: 'warning',
        message: `parsed ${listing.messages.length} messages but ${mta} reports ${listing.reportedTotal} (queue moving, or output not fully understood)`,
        evidence: { parsed: listing.messages.length, reported: listing.reportedTotal },
      });
    const q = queueSizeFinding(
      { ...report.queue, total: Math.max(report.queue.total, listing.reportedTotal ?? 0) },
      { warn: host.queueWarn, crit: host.queueCrit },
    );
    if (q) findings.unshift(q);
    if (attribution) findings.push(...(await attribute(host, mta, transport, listing.messages, report, opts)));
    report.findings = findings;
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
