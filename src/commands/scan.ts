// `mailsweep scan`: inventory → parallel SSH → queue per host → report + Nagios exit code.
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { AnsibleSettings } from '../inventory/ansible-cfg.js';
import { listHosts } from '../inventory/list-hosts.js';
import { openInventory, type InventoryCliOptions, type OpenedInventory } from '../inventory/open.js';
import { selectHosts } from '../inventory/pattern.js';
import { resolveShard, shardHosts } from '../inventory/shard.js';
import type { HostSpec } from '../inventory/types.js';
import { FORMATS, type FormatName } from '../report/index.js';
import { hostState, safeText } from '../report/format.js';
import { scanFleet, type FleetEvent, type FleetOptions } from '../scan/fleet.js';
import { scanReportUntil } from '../scan/deadline.js';
import { parsePerfdata } from '../report/nagios-perfdata.js';
import { problemsOnly } from '../report/problems.js';
import type { ScanReport } from '../scan/types.js';
import { KnownHostsFile } from '../transport/known-hosts.js';
import { parseSince } from './since.js';
import { overrideThresholds, queueOverride, runDeadline } from './scan-plugin.js';

export interface ScanCliOptions extends FleetInventoryOptions {
  limit?: string;
  /** Default: ansible.cfg forks / $ANSIBLE_FORKS, else DEFAULT_FORKS. */
  forks?: string;
  listHosts?: boolean;
  vars?: boolean;
  timeout: string;
  connectTimeout?: string;
  knownHosts?: string;
  acceptNewHostkeys?: boolean;
  format: string;
  messages?: boolean;
  output?: string;
  progress?: boolean;
  /** The global --verbose: progress lines even with --format nagios. */
  verbose?: boolean;
  since?: string;
  /** commander's --no-attribution sets attribution: false */
  attribution?: boolean;
  history?: string | false;
  shard?: string;
  /** -w/-c: every host's queue thresholds (a size N or the range ~:N / 0:N: alert above N). */
  warning?: string;
  critical?: string;
  /** The run's deadline (default 50s with --format nagios, none otherwise). */
  deadline?: string;
  /** nagios: all | worst:N per-host perfdata. */
  perfdata?: string;
  /** Only hosts that are not OK in the host list (the summary keeps the fleet's totals). */
  problems?: boolean;
}

export const DEFAULT_FORKS = 50;

/** The command line's inventory options: -i (several: inventorySources), -u, --private-key, -b, --ssh-config. */
export interface FleetInventoryOptions extends Omit<InventoryCliOptions, 'inventory'> {
  /** The one -i given (what suggested commands repeat). */
  inventory?: string;
  /** Every -i given (the command line sets it; programmatic callers may give `inventory` alone). */
  inventorySources?: string[];
}

/** The inventory, ansible.cfg and ~/.ssh/config as the command line says (src/inventory/open.ts). */
export function openFleet(o: FleetInventoryOptions): OpenedInventory {
  return openInventory({ ...o, inventory: o.inventorySources ?? o.inventory });
}

/** --forks, else ansible.cfg forks / $ANSIBLE_FORKS, else the default; -T likewise with ansible.cfg timeout. */
export function fleetLimits(
  o: { forks?: string; connectTimeout?: string },
  settings: AnsibleSettings,
  timeoutS: number,
): { forks: number; connectS: number } {
  const cfgInt = (s: { value: number; from: string } | undefined, max: number): number | undefined => {
    if (s && s.value > max) throw new ConfigError(`${s.from}: must be a whole number from 1 to ${max}, got ${s.value}`);
    return s?.value;
  };
  return {
    forks: o.forks !== undefined ? positiveInt('--forks', o.forks, 1000) : (cfgInt(settings.forks, 1000) ?? DEFAULT_FORKS),
    connectS:
      o.connectTimeout !== undefined
        ? positiveInt('--connect-timeout', o.connectTimeout, 600)
        : (cfgInt(settings.timeout, 600) ?? Math.min(timeoutS, 10)),
  };
}

export function positiveInt(name: string, v: string, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ConfigError(`${name} must be a whole number from 1 to ${max}, got "${v}"`);
  return n;
}

export function parseFormat(f: string): FormatName {
  if (!(f in FORMATS)) throw new ConfigError(`--format must be one of ${Object.keys(FORMATS).join(', ')}, got "${f}"`);
  return f as FormatName;
}

/** Progress goes to stderr, so stdout carries only the report (pipes, cron, --format json). */
async function withProgress(
  hosts: HostSpec[],
  tty: boolean | 'quiet',
  run: (on: (e: FleetEvent) => void) => Promise<ScanReport>,
): Promise<ScanReport> {
  if (tty === 'quiet') return run(() => {});
  // Names come from the inventory, reasons quote the server: both shown, never interpreted.
  if (!tty) {
    return run((e) => {
      if (e.kind === 'host-done')
        process.stderr.write(
          `[${safeText(e.host.name)}] ${hostState(e.report)}${e.report.queue ? ` queue=${e.report.queue.total}` : ''}${e.report.status !== 'ok' ? ` ${safeText(e.report.reason ?? '')}` : ''}\n`,
        );
    });
  }
  // Loaded only for the live view (and the history only when used): a cron job or a check starts faster.
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  let report!: ScanReport;
  const out = new ProcessOutput(process.stderr as NodeJS.WriteStream, process.stderr as NodeJS.WriteStream);
  await new Listr(
    [
      {
        title: `Scanning ${hosts.length} host(s)`,
        task: async (_ctx, task) => {
          let done = 0;
          let bad = 0;
          let running = 0;
          report = await run((e) => {
            if (e.kind === 'host-start') running++;
            else {
              running--;
              done++;
              if (hostState(e.report) !== 'OK') bad++;
              task.output = `${safeText(e.host.name)}: ${hostState(e.report)}${e.report.queue ? ` (${e.report.queue.total} queued)` : ''}${e.report.status !== 'ok' ? ` ${safeText(e.report.reason ?? '')}` : ''}`;
            }
            task.title = `Scanning ${hosts.length} host(s): ${done} done, ${running} in flight, ${bad} need attention`;
          });
          task.title = `Scanned ${hosts.length} host(s): ${bad} need attention`;
        },
      },
    ],
    { rendererOptions: { logger: new ListrLogger({ processOutput: out }) } as never, exitOnError: false },
  ).run();
  return report;
}

export async function runScan(o: ScanCliOptions): Promise<number> {
  return (await scanCommand(o)).code;
}

/** `exitNow`: a deadline was in force; hosts it cut may still hold sockets and timers, so the CLI exits. */
export async function scanCommand(o: ScanCliOptions): Promise<{ code: number; exitNow: boolean }> {
  const format = parseFormat(o.format);
  const deadline = runDeadline(o.deadline, format === 'nagios');
  const thresholds = queueOverride(o.warning, o.critical);
  const perfdata = o.perfdata === undefined ? undefined : parsePerfdata(o.perfdata);
  if (perfdata && format !== 'nagios') throw new ConfigError(`--perfdata is for --format nagios (the ${format} report has every host)`);
  const timeoutS = positiveInt('--timeout', o.timeout, 3600);
  if (o.vars && !o.listHosts) throw new ConfigError('--vars: only with --list-hosts');
  const { inventory: inv, settings } = openFleet(o);
  const { forks, connectS } = fleetLimits(o, settings, timeoutS);
  const shard = resolveShard(o.shard, process.env);
  // An empty shard is a clean no-op: a worker whose slice holds no host reports none, exit 0.
  const hosts = overrideThresholds(shardHosts(selectHosts(inv, o.limit), shard), thresholds);
  if (o.listHosts) {
    process.stdout.write(listHosts(hosts, !!o.vars));
    return { code: 0, exitNow: false };
  }
  const knownHosts = new KnownHostsFile(o.knownHosts ?? join(homedir(), '.ssh', 'known_hosts'));
  // A Nagios/Icinga check shows stderr too: as a plugin, nothing there unless --verbose.
  const tty = format === 'nagios' && !o.verbose ? 'quiet' : (o.progress ?? (process.stderr.isTTY === true && !process.env.CI));
  const since = parseSince(o.since);
  // null: no history this run; undefined: the default file.
  const historyFile = o.history === false || o.attribution === false ? null : o.history;
  const history =
    historyFile === null
      ? undefined
      : await import('../history/store.js').then(
          ({ defaultHistoryPath, HistoryStore }) => new HistoryStore(historyFile ?? defaultHistoryPath(), { lenient: true }),
        );
  // Never a reason to fail the scan (a check run as a user with no writable HOME): said, then each
  // host's baseline is judged without history (an info finding there says so).
  if (history?.unavailable && format !== 'nagios')
    process.stderr.write(
      `mailsweep: history ${safeText(history.path)} not usable (${safeText(history.unavailable)}): baselines judged without history\n`,
    );
  const fleet: FleetOptions = {
    attribution: o.attribution !== false,
    since,
    history,
    forks,
    commandTimeoutMs: timeoutS * 1000,
    connectTimeoutMs: connectS * 1000,
    knownHosts,
    hostKeyPolicy: o.acceptNewHostkeys ? 'accept-new' : 'strict',
    perHostKnownHosts: !o.knownHosts,
    includeMessages: !!o.messages,
  };
  const report = await withProgress(hosts, tty, (onEvent) =>
    deadline ? scanReportUntil(hosts, { ...fleet, onEvent }, deadline.cutAt, deadline.text) : scanFleet(hosts, { ...fleet, onEvent }),
  );
  history?.close();
  if (shard) report.shard = shard;
  const color = !o.output && process.stdout.isTTY === true && !process.env.NO_COLOR;
  // Nagios answers for the whole fleet (its perfdata too); the other formats may list problems only.
  const shown = o.problems && format !== 'nagios' ? problemsOnly(report) : report;
  const text = FORMATS[format](shown, { color, ...(perfdata ? { perfdata } : {}) });
  if (o.output) await writeFile(o.output, text);
  // Written out before the CLI may exit (a pipe to the monitoring server is asynchronous).
  else await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
  return { code: report.summary.exitCode, exitNow: deadline !== null };
}
