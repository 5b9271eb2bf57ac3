// The flags of `mailsweep report` and its output seam, shared by the run, its digest and history.

import type { FleetInventoryOptions } from './scan.js';

export interface ReportCliOptions extends FleetInventoryOptions {
  limit?: string;
  listHosts?: boolean;
  vars?: boolean;
  since?: string;
  state?: string;
  config?: string;
  keep?: string;
  forks?: string;
  timeout?: string;
  connectTimeout?: string;
  knownHosts?: string;
  acceptNewHostkeys?: boolean;
  /** commander's --no-attribution sets attribution: false */
  attribution?: boolean;
  history?: string | false;
  wait?: boolean;
  /** auto_contain's journals (over the config's runs_dir). */
  runsDir?: string;
  /** commander's --no-auto-contain sets autoContain: false. */
  autoContain?: boolean;
  /** Scan only shard K/N of the selected hosts. */
  shard?: string;
  /** Shared (postgres://) state: the sweep id this shard's run belongs to. */
  sweep?: string;
  /** Shared state, no scan: decide this sweep now with what is recorded. */
  finishSweep?: string;
  /** No scan: alert on these scan reports (merged). */
  fromScan?: string[];
  deadline?: string;
  testChannel?: string;
  /** Write the HTML report (html.ts) to this file at the end of the run. */
  html?: string;
  /** Days the HTML report's charts cover (default 14). */
  htmlDays?: string;
  /** node_exporter textfile written (atomically) after the run. */
  prometheus?: string;
  /** Print the digest of a period from the state instead of running (daily | weekly). */
  digest?: string;
  /** Digest: last day of the period (YYYY-MM-DD, today, yesterday; default yesterday). */
  day?: string;
  /** Digest: text (default) | markdown | json | csv. */
  format?: string;
  /** Digest as CSV: one table on stdout. */
  table?: string;
  /** Digest: write to this file (or, for CSV, this directory: one file per table). */
  output?: string;
  /** Digest: send it (text) through this smtp channel of --config instead of printing it. */
  mail?: string;
  /** Digest: rows per table in text and markdown (default 50, like eximstats -t50). */
  top?: string;
  /** For tests: the run's clock (ISO time); also $MAILSWEEP_NOW. Never set in production. */
  now?: string;
}

export interface ReportIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}
