// `mailsweep report`: the scheduled job. Scan the fleet (same engine as `scan`), record the run,
// turn findings into incidents, send what is new to the configured channels, keep what could not
// be sent for the next run. Silent when there is nothing new (cron mails any output).
// Exit: 0 nothing open, 1 open warnings, 2 an open critical, 3 could not run.
import { homedir } from 'node:os';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_CONFIG, loadReportConfig, type ReportConfig } from '../alerts/config.js';
import { formatDuration, parseDuration } from '../alerts/duration.js';
import { decide, exitCodeFor, findingRows } from '../alerts/lifecycle.js';
import { acquireRunLock, type RunLock } from '../alerts/lock.js';
import { containmentLines, textBody, title } from '../alerts/render.js';
import { openReportStore, shownState } from '../alerts/open-store.js';
import { isPostgresUrl } from '../alerts/state-url.js';
import { defaultSweep, isShared, sweepReport, type SharedStore } from '../alerts/sweep.js';
import { defaultReportStatePath, type ContainmentNote, type Notice, type ReportStore, type RunHostRow } from '../alerts/store.js';
import type { HostSpec } from '../inventory/types.js';
import type { HostReport } from '../scan/types.js';
import { ConfigError, ExitError } from '../errors.js';
import { defaultHistoryPath, HistoryStore } from '../history/store.js';
import { historyFromStore, prefetchSharedHistory } from '../history/shared.js';
import { utcDay } from '../logs/time.js';
import { listHosts } from '../inventory/list-hosts.js';
import { selectHosts } from '../inventory/pattern.js';
import { scanFleetUntil } from '../scan/deadline.js';
import { prometheusText } from '../digest/prometheus.js';
import { writeAtomically } from '../files/write-atomically.js';
import { recordDigestFigures, sendsToday } from '../digest/record.js';
import type { AccountWindow } from '../scan/host.js';
import { printable } from '../text/printable.js';
import { KnownHostsFile } from '../transport/known-hosts.js';
import { fleetLimits, openFleet, positiveInt } from './scan.js';
import { buildHtml, htmlDays, writeAtomic } from './html.js';
import type { ReportCliOptions, ReportIo } from './report-options.js';
import { parseSince } from './since.js';
import { resolveShard, shardHosts } from '../inventory/shard.js';
import type { ScanReport } from '../scan/types.js';
import { loadMerged } from './merge.js';
import { decideAndEnqueue, warnMissing } from './report-decide.js';
import { flush, testChannel } from './report-send.js';

export interface ReportOutcome {
  code: number;
  /** Notices this run created (delivered or kept pending). */
  notices: Notice[];
  /** Hosts the deadline cut. */
  unfinished: string[];
  /** Channel name → the error that kept its notices pending. */
  channelErrors: Record<string, string>;
  /** False when another run held the lock (nothing was scanned). */
  scanned: boolean;
}

export const DEFAULT_KEEP = '90d';
export const DEFAULT_DEADLINE = '55m';

const processIo: ReportIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  env: process.env,
};

function durationFlag(name: string, v: string): number {
  const ms = parseDuration(v);
  if (ms === null || ms <= 0) throw new ConfigError(`${name}: expected a duration like 30s, 50m, 4h or 90d, got "${v}"`);
  return ms;
}

function clock(o: ReportCliOptions, env: NodeJS.ProcessEnv): number {
  const text = o.now ?? env.MAILSWEEP_NOW;
  if (!text) return Date.now();
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new ConfigError(`--now / MAILSWEEP_NOW: expected an ISO date and time, got "${text}"`);
  return t;
}

async function config(o: ReportCliOptions, env: NodeJS.ProcessEnv): Promise<ReportConfig> {
  const file = o.config ?? env.MAILSWEEP_REPORT_CONFIG;
  return file ? loadReportConfig(file) : DEFAULT_CONFIG;
}

/** `--finish-sweep ID`: no scan; decide what the sweep's shards recorded and send. */
async function finishSweep(o: ReportCliOptions, cfg: ReportConfig, statePath: string, now: number, io: ReportIo): Promise<ReportOutcome> {
  const sweep = o.finishSweep!;
  const store = await openReportStore(statePath, { env: io.env, passwordFile: cfg.statePasswordFile });
  try {
    if (!isShared(store)) throw new ConfigError('--finish-sweep: only with a shared state (--state postgres://…)');
    const hosts = o.inventory || o.inventorySources?.length ? openFleet(o).inventory.hosts : [];
    const r = await store.alerting(async (s) => {
      const round = await s.transaction(async () => {
        const claimed = await s.claimSweep(sweep, now);
        if (!claimed) return null;
        warnMissing(claimed, io);
        return decideAndEnqueue(s, claimed.reports, now, cfg, o, hosts, now + 10 * 60_000);
      });
      return { round, ...(await flush(s, cfg.channels, now, io)) };
    });
    if (!r.round) io.stderr(`mailsweep: sweep ${printable(sweep)}: nothing left to decide (decided already, or never recorded)\n`);
    const notices = r.round?.notices ?? [];
    for (const n of notices) io.stdout(`${cfg.channels.length ? title(n) : textBody(n)}\n`);
    for (const [name, why] of Object.entries(r.errors)) io.stderr(`mailsweep: channel ${name} failed: ${printable(why, { max: 500 })}\n`);
    return { code: exitCodeFor(await store.openIncidents()), notices, unfinished: [], channelErrors: r.errors, scanned: false };
  } finally {
    await store.close();
  }
}

/** The shard's baselines from the shared store; unreadable, the scan judges them without history. */
async function sharedHistory(store: SharedStore, hosts: HostSpec[], now: number, shown: string, io: ReportIo): Promise<HistoryStore> {
  const h = await prefetchSharedHistory(store, hosts, now, shown);
  if (h.failure)
    io.stderr(`mailsweep: shared history not read (${printable(h.failure, { max: 300 })}): baselines judged without history\n`);
  return h;
}

export async function runReport(o: ReportCliOptions, io: ReportIo = processIo): Promise<ReportOutcome> {
  const started = Date.now();
  const now = clock(o, io.env);
  const cfg = await config(o, io.env);
  if (o.testChannel !== undefined)
    return { code: await testChannel(cfg, o.testChannel, now, io), notices: [], unfinished: [], channelErrors: {}, scanned: false };
  const digestOnly = (['day', 'format', 'table', 'output', 'top', 'mail'] as const).filter((k) => o[k] !== undefined);
  if (o.digest === undefined && digestOnly.length)
    throw new ConfigError(`${digestOnly.map((k) => (k === 'output' ? '-o' : `--${k}`)).join(', ')}: only with --digest daily|weekly`);
  if (o.digest !== undefined) {
    const { runDigest } = await import('./digest.js');
    return { code: await runDigest(o, cfg, now, io), notices: [], unfinished: [], channelErrors: {}, scanned: false };
  }

  const deadlineMs = durationFlag('--deadline', o.deadline ?? DEFAULT_DEADLINE);
  const keepMs = o.keep !== undefined ? durationFlag('--keep', o.keep) : (cfg.keepMs ?? parseDuration(DEFAULT_KEEP)!);
  const timeoutS = positiveInt('--timeout', o.timeout ?? '30', 3600);
  if (o.vars && !o.listHosts) throw new ConfigError('--vars: only with --list-hosts');
  if (o.listHosts && (o.fromScan?.length || o.finishSweep !== undefined))
    throw new ConfigError('--list-hosts: lists the hosts a scan would reach; not with --from-scan or --finish-sweep');
  // The inventory (and ansible.cfg's forks and timeout) when this run scans; -i alone otherwise.
  const opened = o.fromScan?.length || o.finishSweep !== undefined ? undefined : openFleet(o);
  const { forks, connectS } = fleetLimits(o, opened?.settings ?? {}, timeoutS);
  const since = parseSince(o.since);
  const pageDays = htmlDays(o.htmlDays, '--html-days');
  const shard = resolveShard(o.shard, io.env);
  let given: ScanReport | undefined;
  let hosts: HostSpec[];
  // auto_contain reaches any host of the sweep it decides, not only this shard's.
  let allHosts: HostSpec[];
  if (o.fromScan?.length) {
    if (shard || o.limit !== undefined)
      throw new ConfigError('--from-scan: the reports name their hosts; --shard and --limit are for a scan');
    // Alerting goes on with what the workers that finished sent; hosts of a missing shard keep
    // their incidents open (not scanned cleanly), as a host cut by the deadline does.
    given = await loadMerged(o.fromScan, true);
    const missing = given.merged?.shards?.missing ?? [];
    if (missing.length)
      io.stderr(
        `mailsweep: --from-scan: shard(s) ${missing.join(', ')} of ${given.merged!.shards!.count} missing: their hosts were not scanned\n`,
      );
    // The inventory is only needed for auto_contain (how to reach a host): -i when given.
    hosts = o.inventory || o.inventorySources?.length ? openFleet(o).inventory.hosts : [];
    allHosts = hosts;
  } else {
    allHosts = opened ? selectHosts(opened.inventory, o.limit) : [];
    hosts = shardHosts(allHosts, shard);
    if (o.listHosts) {
      io.stdout(listHosts(hosts, !!o.vars));
      return { code: 0, notices: [], unfinished: [], channelErrors: {}, scanned: false };
    }
  }
  const statePath = o.state ?? cfg.state ?? defaultReportStatePath(io.env);
  const shared = isPostgresUrl(statePath);
  const sweepId = o.sweep ?? io.env.MAILSWEEP_SWEEP ?? defaultSweep(now);
  if (!shared && (o.sweep !== undefined || o.finishSweep !== undefined))
    throw new ConfigError(`${o.sweep !== undefined ? '--sweep' : '--finish-sweep'}: only with a shared state (--state postgres://…)`);
  if (o.finishSweep !== undefined) return finishSweep(o, cfg, statePath, now, io);
  // With a shared state the baseline's history is the shared database's: a local file would make a
  // host's baseline depend on which controller scanned it before.
  if (shared && typeof o.history === 'string')
    throw new ConfigError(
      `--history ${o.history}: with a shared state (--state postgres://…) baselines read their history from the database; drop --history (or give --no-history)`,
    );

  if (o.prometheus !== undefined) {
    const dir = dirname(resolve(o.prometheus));
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new ConfigError(`--prometheus ${o.prometheus}: directory ${dir} does not exist`);
  }

  const deadlineAt = started + deadlineMs;
  let lock: RunLock | undefined;
  let store: ReportStore | undefined;
  if (shared) {
    // One run per shard at a time, across controllers: a session advisory lock in the database.
    store = await openReportStore(statePath, { env: io.env, passwordFile: cfg.statePasswordFile });
    const name = shard ? `${shard.index}/${shard.count}` : 'all';
    let held = false;
    while (!(held = await (store as SharedStore).tryShardLock(name)) && o.wait && Date.now() < deadlineAt)
      await new Promise((r) => setTimeout(r, 2000));
    if (!held) {
      await store.close();
      io.stderr(`mailsweep: another report run of shard ${name} holds ${shownState(statePath)}\n`);
      return { code: 3, notices: [], unfinished: [], channelErrors: {}, scanned: false };
    }
  } else {
    try {
      lock = await acquireRunLock(`${statePath}.lock`, {
        ...(o.wait ? { waitMs: Math.max(0, deadlineAt - Date.now()) } : {}),
        now: new Date(now),
      });
    } catch (e) {
      if (!(e instanceof ExitError)) throw e;
      io.stderr(`mailsweep: ${(e as Error).message}\n`);
      return { code: 3, notices: [], unfinished: [], channelErrors: {}, scanned: false };
    }
  }
  let history: HistoryStore | undefined;
  try {
    store ??= await openReportStore(statePath, { env: io.env, passwordFile: cfg.statePasswordFile });
    history =
      given || o.history === false || o.attribution === false
        ? undefined
        : isShared(store)
          ? await sharedHistory(store, hosts, now, shownState(statePath), io)
          : new HistoryStore(o.history ?? defaultHistoryPath(), { lenient: true });
    const runId = await store.beginRun(now);
    const windows: AccountWindow[] = [];
    const scan = given
      ? { reports: given.hosts, unfinished: [] }
      : await scanFleetUntil(
          hosts,
          {
            attribution: o.attribution !== false,
            since,
            ...(history ? { history } : {}),
            forks,
            commandTimeoutMs: timeoutS * 1000,
            connectTimeoutMs: connectS * 1000,
            knownHosts: new KnownHostsFile(o.knownHosts ?? join(homedir(), '.ssh', 'known_hosts')),
            hostKeyPolicy: o.acceptNewHostkeys ? 'accept-new' : 'strict',
            perHostKnownHosts: !o.knownHosts,
            // The queue's shape (sender domain × age) is recorded, then the messages are dropped.
            includeMessages: true,
            onAccounts: (w) => void windows.push(w),
          },
          deadlineAt,
        );
    await recordDigestFigures(store, runId, windows, scan.reports);
    const rows: RunHostRow[] = [
      ...scan.reports.map((h) => ({
        host: h.name,
        status: h.status,
        ...(h.reason ? { reason: h.reason } : {}),
        mta: h.mta,
        queue: h.queue,
        durationMs: h.durationMs,
      })),
      ...scan.unfinished.map((u) => ({
        host: u.host.name,
        status: 'unfinished' as const,
        reason: u.started
          ? `still scanning at the run deadline (${formatDuration(deadlineMs)})`
          : `not started before the run deadline (${formatDuration(deadlineMs)})`,
        mta: u.host.mta ?? null,
        queue: null,
        durationMs: 0,
      })),
    ];
    await store.recordHosts(runId, rows);
    await store.recordFindings(runId, findingRows(scan.reports));

    const alert = (s: ReportStore, reports: HostReport[], at: number) => decideAndEnqueue(s, reports, at, cfg, o, allHosts, deadlineAt);
    let notices: Notice[] = [];
    let contained: ContainmentNote[] = [];
    let errors: Record<string, string> = {};
    let sent = new Map<number, string[]>();
    if (!isShared(store)) {
      ({ notices, contained } = await alert(store, scan.reports, now));
      ({ errors, sent } = await flush(store, cfg.channels, now, io));
    } else {
      // Several controllers: this shard's reports join the sweep; the run that completes a round
      // decides it (and any sweep left incomplete by a dead shard) and sends, under one lock.
      const reports = scan.reports.map(sweepReport);
      const r = await store.alerting(async (s) => {
        const decided = await s.transaction(async () => {
          const rounds = await s.recordShard(sweepId, shard ?? { index: 1, count: 1 }, runId, now, reports, now);
          const out: Awaited<ReturnType<typeof alert>>[] = [];
          for (const round of rounds) {
            warnMissing(round, io);
            out.push(await alert(s, round.reports, round.sweep === sweepId ? now : round.at));
          }
          return out;
        });
        // Only a decider sends (and retries what is pending): the others leave the lock at once.
        if (!decided.length) return { decided, errors: {}, sent: new Map<number, string[]>() };
        return { decided, ...(await flush(s, cfg.channels, now, io)) };
      });
      notices = r.decided.flatMap((d) => d.notices);
      contained = r.decided.flatMap((d) => d.contained);
      ({ errors, sent } = r);
    }
    await store.prune(now - keepMs);
    const open = await store.openIncidents();
    const code = exitCodeFor(open);
    await store.finishRun(runId, {
      finishedAt: now + (Date.now() - started),
      exitCode: code,
      unfinished: scan.unfinished.length,
      channelErrors: errors,
    });
    // The page is written even when nothing is new (it shows the trend); a failure to write it is
    // said on stderr but does not hide the alerts' exit code.
    if (o.html) {
      try {
        // A shared state's page charts what every controller recorded, not this shard's prefetch.
        const pageHistory =
          history && isShared(store) ? await historyFromStore(store, utcDay(now / 1000 - pageDays * 86_400), utcDay(now / 1000)) : history;
        try {
          await writeAtomic(
            o.html,
            await buildHtml(store, pageHistory, { now, days: pageDays, ...(o.inventory ? { inventory: o.inventory } : {}) }),
          );
        } finally {
          if (pageHistory !== history) pageHistory?.close();
        }
      } catch (e) {
        io.stderr(`mailsweep: ${printable((e as Error).message, { max: 500 })}\n`);
      }
    }
    if (o.prometheus) {
      const text = prometheusText({
        startedAt: now,
        durationMs: Date.now() - started,
        exitCode: code,
        hosts: rows.map((h) => ({
          host: h.host,
          status: h.status,
          queue: h.queue ? Math.max(h.queue.total, h.queue.reportedTotal ?? 0) : null,
        })),
        openIncidents: {
          warning: open.filter((i) => i.severity === 'warning').length,
          critical: open.filter((i) => i.severity === 'critical').length,
        },
        sendsToday: sendsToday(windows),
      });
      try {
        await writeAtomically(o.prometheus, text);
      } catch (e) {
        io.stderr(`mailsweep: --prometheus ${printable(o.prometheus)}: not written: ${printable((e as Error).message, { max: 300 })}\n`);
      }
    }

    // Output only when there is something to say: cron mails whatever is printed.
    if (!cfg.channels.length) for (const n of notices) io.stdout(`${textBody(n)}\n`);
    else if (notices.length) {
      const delivered = new Set([...sent.values()].flat());
      for (const n of notices) io.stdout(`${title(n)}\n`);
      if (delivered.size) io.stdout(`sent to: ${[...delivered].join(', ')}\n`);
      for (const c of contained.filter((x) => x.outcome === 'contained')) io.stdout(`auto_contain: ${containmentLines(c).join('\n')}\n`);
    }
    for (const c of contained.filter((x) => x.outcome === 'failed'))
      io.stderr(`mailsweep: auto_contain: ${containmentLines(c).join('\n')}\n`);
    for (const [name, why] of Object.entries(errors)) {
      const kept = (await store.pending(name)).length;
      io.stderr(`mailsweep: channel ${name} failed: ${printable(why, { max: 500 })}; ${kept} notice(s) kept, retried next run\n`);
    }
    const known = new Set(cfg.channels.map((c) => c.name));
    const orphans = [...new Set((await store.pending()).map((p) => p.channel))].filter((c) => !known.has(c));
    if (orphans.length)
      io.stderr(`mailsweep: notices are pending for channel(s) no longer configured: ${orphans.map((c) => printable(c)).join(', ')}\n`);
    if (scan.unfinished.length) {
      const names = scan.unfinished.map((u) => printable(u.host.name, { max: 100 }));
      io.stderr(
        `mailsweep: run deadline (${formatDuration(deadlineMs)}) reached: ${names.length} host(s) unfinished: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}\n`,
      );
    }
    return { code, notices, unfinished: scan.unfinished.map((u) => u.host.name), channelErrors: errors, scanned: true };
  } finally {
    history?.close();
    await store?.close();
    lock?.release();
  }
}
