// `report --prometheus FILE`: the run's figures as a node_exporter textfile (text exposition format
// 0.0.4), written to a temp file in the same directory and renamed over FILE, so the collector
// never reads half a file. The temp name does not end in .prom: the collector never picks it up.
import { printable } from '../text/printable.js';

export interface PrometheusRun {
  /** Run start, ms since epoch. */
  startedAt: number;
  durationMs: number;
  exitCode: number;
  /** Hosts of the run: queue size (null when not read) and status. */
  hosts: { host: string; status: string; queue: number | null }[];
  openIncidents: { warning: number; critical: number };
  /** Fleet-wide messages per account on the hosts' current day (server time). */
  sendsToday: Record<string, number>;
}

/** A label value: printable (no controls reach a scraper's UI), then the format's escapes \\, \" and \n. */
export function labelValue(v: string): string {
  return printable(v, { max: 200 }).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function metric(lines: string[], name: string, help: string, samples: [Record<string, string>, number][]): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
  for (const [labels, value] of samples) {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${labelValue(v)}"`)
      .join(',');
    lines.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}`);
  }
}

export function prometheusText(r: PrometheusRun): string {
  const lines: string[] = [];
  const byName = <T extends { host: string }>(xs: T[]) => [...xs].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  metric(
    lines,
    'mailsweep_queue_messages',
    'Messages in the MTA queue at the last report run.',
    byName(r.hosts)
      .filter((h) => h.queue !== null)
      .map((h) => [{ host: h.host }, h.queue!]),
  );
  metric(
    lines,
    'mailsweep_host_scanned',
    '1 when the last report run scanned the host, 0 when it could not (status label says why).',
    byName(r.hosts).map((h) => [{ host: h.host, status: h.status }, h.status === 'ok' ? 1 : 0]),
  );
  metric(lines, 'mailsweep_open_incidents', 'Incidents open after the last report run, by severity.', [
    [{ severity: 'critical' }, r.openIncidents.critical],
    [{ severity: 'warning' }, r.openIncidents.warning],
  ]);
  const accounts = Object.entries(r.sendsToday).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  metric(
    lines,
    'mailsweep_account_sends_today',
    "Messages an authenticated account sent today across the fleet (log window of the hosts' current day).",
    accounts.map(([a, n]) => [{ account: a }, n]),
  );
  metric(lines, 'mailsweep_last_run_timestamp_seconds', 'Start of the last report run, seconds since the epoch.', [
    [{}, Math.floor(r.startedAt / 1000)],
  ]);
  metric(lines, 'mailsweep_last_run_duration_seconds', 'How long the last report run took.', [[{}, Math.round(r.durationMs) / 1000]]);
  metric(lines, 'mailsweep_last_run_exit_code', 'Exit code of the last report run (0 none open, 1 warning, 2 critical, 3 could not run).', [
    [{}, r.exitCode],
  ]);
  return `${lines.join('\n')}\n`;
}
