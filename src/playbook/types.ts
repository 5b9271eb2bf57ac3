// What an action (one playbook step's work) gets and gives.
import type { MtaHost } from '../mta/host.js';
import type { z } from 'zod';
import type { HostSpec } from '../inventory/types.js';
import type { MtaAdapter, MtaName } from '../mta/types.js';
import type { Sh } from '../transport/quote.js';
import type { ExecOptions, ExecResult, Transport } from '../transport/types.js';
import type { Journal } from './journal.js';
import type { Step } from './schema.js';

/**
 * How an unattended run (--yes) treats a yes/no question:
 * - 'plan': going ahead with the step the operator asked for (reset, restart, delete what was shown);
 *   --yes answers yes.
 * - 'override': going past a safety check (act on an account nothing points at); the safe answer
 *   is no, so --yes never answers it: only an answers-file entry or the named flag does.
 */
export type ConfirmKind = { kind: 'plan' } | { kind: 'override'; flag?: string };

/** Questions go through here: a prompt on a TTY, the answers file or flags when unattended. */
export interface Asker {
  /** `dflt` is the interactive default; `kind` (default: 'plan' when dflt is yes, else 'override') rules --yes. */
  confirm(key: string, question: string, dflt: boolean, kind?: ConfirmKind): Promise<boolean>;
  select<T extends string>(
    key: string,
    question: string,
    choices: { value: T; name: string; description?: string }[],
    dflt?: T,
  ): Promise<T>;
  input(key: string, question: string, dflt?: string): Promise<string>;
}

/** `run`'s options: the transport's, and whether the command changes anything. */
export type RunCommandOptions = ExecOptions & { destructive: boolean };

export interface StepContext {
  step: Step;
  host: HostSpec;
  mta: MtaName;
  adapter: MtaAdapter;
  /** The host's MTA settings with detection's binary, resolved once for the run (src/mta/host.ts). */
  mtaHost: MtaHost;
  transport: Transport;
  journal: Journal;
  dryRun: boolean;
  /** --yes: nobody is at the keyboard. */
  unattended: boolean;
  ask: Asker;
  /** A line for the operator (task output on a TTY, a plain line otherwise). */
  say(message: string): void;
  /** Earlier steps' results and the playbook vars. */
  scope: Record<string, unknown>;
  /** Directory of this run (journal, password hand-over file). */
  runDir: string;
  runId: string;
  /** Register a secret so no output, journal line or report ever shows it. */
  secret(value: string): void;
  /** Text with the run's secrets (and secret-looking patterns) replaced: for files a step writes (evidence). */
  redact(text: string): string;
  /** Steps the operator said to skip (--skip reset,notify). */
  skip: ReadonlySet<string>;
  /**
   * Run a command on the host, journaled. Destructive commands are only printed in --dry-run.
   * Read-only ones run in dry-run too, so the plan shows real counts.
   */
  run(cmd: Sh, o: RunCommandOptions): Promise<ExecResult>;
  /**
   * The host seen through `run`, for code that takes a Transport (scanHost): every command
   * non-destructive, journaled, within the run's command timeout. Closing it closes nothing.
   */
  journaled: Transport;
  /** The run's per-command deadline (--timeout). */
  commandTimeoutMs: number;
}

export interface Action<P extends z.ZodTypeAny = z.ZodTypeAny> {
  name: string;
  /** One line for the plan and --dry-run. */
  describe(params: z.infer<P>, ctx: StepContext): string;
  params: P;
  run(params: z.infer<P>, ctx: StepContext): Promise<Record<string, unknown>>;
}
