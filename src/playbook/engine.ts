// Run a playbook on one host: steps in order as listr2 tasks, confirmations through the Asker,
// every command and decision journaled, done steps skipped on --resume.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Listr } from 'listr2';
import { Redactor } from '../text/redact.js';
import { ConfigError, isPromptAbort, StepError, TransportError, type TransportErrorKind } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { getAdapter } from '../mta/index.js';
import { detectMta } from '../mta/detect.js';
import type { ExecResult, Transport } from '../transport/types.js';
import { Journal } from './journal.js';
import type { Playbook, Step } from './schema.js';
import { render, truthy } from './template.js';
import { type Action, type RunCommandOptions, type StepContext } from './types.js';
import { RunAsker, type Task } from './asker.js';
import { printable } from '../text/printable.js';

export interface RunOptions {
  playbook: Playbook;
  host: HostSpec;
  transport: Transport;
  actions: Record<string, Action>;
  /** Vars from the command line (auth_id, hold…), over the playbook's. */
  vars: Record<string, unknown>;
  dryRun: boolean;
  /** --yes: run without anyone at the keyboard. */
  unattended: boolean;
  /** Pre-recorded answers (--answers FILE), keyed by question key. */
  answers: Record<string, unknown>;
  skip: Set<string>;
  runsDir: string;
  resume?: string;
  /** Override questions answered yes by a command-line flag (key → flag), e.g. --force-account. */
  forced?: Map<string, string>;
  /** Per-action integration checks (src/actions PREFLIGHT): run before the first step. */
  preflight?: Record<string, (ctx: { host: HostSpec }) => string | null>;
  /** Secrets known up front (tokens) so the journal redacts them. */
  secrets: string[];
  /** Renderer: listr2's default on a TTY, plain lines otherwise. */
  tty: boolean;
  /** Where plain-mode lines go (no TTY): one line per call, without its newline. */
  out: (line: string) => void;
  commandTimeoutMs: number;
}

export interface RunOutcome {
  runId: string;
  journalPath: string;
  status: 'ok' | 'failed' | 'aborted';
  results: Record<string, unknown>;
  error?: string;
  /** The run stopped because the host could not be reached or the connection broke: the scan's status word. */
  connection?: TransportErrorKind;
}

export function newRunId(host: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${t}-${host.replace(/[^\w.-]/g, '_')}-${randomBytes(3).toString('hex')}`;
}

export async function runPlaybook(o: RunOptions): Promise<RunOutcome> {
  const redactor = new Redactor(o.secrets);
  let journal: Journal;
  let runId: string;
  let vars: Record<string, unknown>;
  if (o.resume) {
    journal = Journal.open(o.runsDir, o.resume, redactor.redact);
    const start = journal.start();
    if (!start) throw new ConfigError(`run ${o.resume}: journal has no start record`);
    if (start.host !== o.host.name) throw new ConfigError(`run ${o.resume} was for host ${start.host}, not ${o.host.name}`);
    if (journal.events.some((e) => e.t === 'run-end' && e.status === 'ok')) throw new ConfigError(`run ${o.resume} already finished`);
    runId = o.resume;
    vars = { ...start.vars, ...o.vars };
    journal.append({ t: 'run-resume', runId });
  } else {
    runId = newRunId(o.host.name);
    journal = Journal.create(o.runsDir, runId, redactor.redact);
    vars = { ...o.playbook.vars, ...o.vars };
    journal.append({ t: 'run-start', runId, playbook: o.playbook.file, host: o.host.name, vars, dryRun: o.dryRun, user: process.env.SUDO_USER || process.env.USER || 'unknown' });
  }
  const runDir = join(o.runsDir, runId);
  mkdirSync(runDir, { recursive: true, mode: 0o700 });

  /** Every way out of a run that has a journal writes its end record (the audit log is complete). */
  const end = (status: RunOutcome['status'], e?: unknown): RunOutcome => {
    const error = e === undefined ? undefined : redactor.redact((e as Error)?.message ?? String(e));
    const connection = e instanceof TransportError ? e.kind : undefined;
    journal.append({ t: 'run-end', status, ...(error !== undefined ? { error } : {}), ...(connection ? { connection } : {}) });
    journal.close();
    // The error may quote server text (stderr, ids): the screen gets it made printable.
    return { runId, journalPath: journal.path, status, results, ...(error !== undefined ? { error: printable(error, { multiline: true }) } : {}), ...(connection ? { connection } : {}) };
  };
  const results: Record<string, unknown> = {};

  let detected: Awaited<ReturnType<typeof detectMta>>;
  try {
    detected = await detectMta(o.host, o.transport, o.commandTimeoutMs);
    if (!detected.mta) throw new StepError(`${o.host.name}: ${detected.reason}`);
    // With `mta:` in the inventory detection ran nothing: connect now, so an unreachable host ends
    // here with its status word, not later inside a step.
    if (o.host.mta) await o.transport.exec('true', { timeoutMs: o.commandTimeoutMs });
  } catch (e) {
    return end('failed', e);
  }
  const { mta, binary } = detected;
  const adapter = getAdapter(mta);
  const scope: Record<string, unknown> = {
    ...vars,
    vars,
    host: { name: o.host.name, address: o.host.address, mta, binary },
    run: { id: runId, dryRun: o.dryRun },
  };
  let current = '';
  const asker = new RunAsker(o, () => journal, () => current);

  /** Every command of a step, journaled; destructive ones only shown in a dry run. */
  const runCommand = async (cmd: string, ro: RunCommandOptions, task: Task | null): Promise<ExecResult> => {
    const { destructive, ...eo } = ro;
    const text = eo.stdin === undefined ? '' : String(eo.stdin);
    const stdin = text === '' ? {} : { stdin: text };
    if (o.dryRun && destructive) {
      journal.append({ t: 'command', step: current, cmd, ...stdin, destructive: true, dryRun: true });
      // The plan in full, TTY or not: every command and what it would get on stdin.
      const out = printable(redactor.redact(dryRunPlan(cmd, text)), { multiline: true });
      if (task) task.output = out;
      else o.out(out);
      return { code: 0, stdout: '', stderr: '', durationMs: 0 };
    }
    const timeoutMs = eo.timeoutMs ?? o.commandTimeoutMs;
    // Streamed output (a log window) goes to its reader; the journal gets how many lines, not them.
    let lines = 0;
    const onLine = eo.onLine;
    const streamed = onLine ? { onLine: (l: string) => (lines++, onLine(l)) } : {};
    const base = { t: 'command' as const, step: current, cmd, ...stdin, destructive, dryRun: false, timeoutMs };
    let r: ExecResult;
    try {
      r = await o.transport.exec(cmd, { ...eo, timeoutMs, ...streamed });
    } catch (e) {
      journal.append({ ...base, ...(onLine ? { lines } : {}), error: (e as Error)?.message ?? String(e) });
      throw e;
    }
    journal.append({
      ...base, code: r.code, stdout: r.stdout, stderr: r.stderr, ...(onLine ? { lines } : {}), ...(r.truncated ? { truncated: true } : {}), durationMs: r.durationMs,
    });
    return r;
  };

  const ctxFor = (step: Step, task: Task | null): StepContext => {
    const run = (cmd: string, ro: RunCommandOptions) => runCommand(cmd, ro, task);
    return {
      step,
      host: o.host,
      mta,
      adapter,
      transport: o.transport,
      journal,
      dryRun: o.dryRun,
      unattended: o.unattended,
      ask: asker,
      say: (m) => {
        // Everything a step says may quote server text (senders, headers): shown, never interpreted.
        const line = printable(redactor.redact(m), { multiline: true });
        if (task) task.output = line;
        else o.out(line);
      },
      scope,
      runDir,
      runId,
      secret: (s) => void redactor.add(s),
      skip: o.skip,
      run,
      journaled: journaledView(o.transport, run, o.commandTimeoutMs, (message) => void journal.append({ t: 'note', step: current, message })),
      commandTimeoutMs: o.commandTimeoutMs,
    };
  };

  const runStep = async (step: Step, task: Task | null, instance = step.id): Promise<void> => {
    current = instance;
    asker.task = task;
    const prev = journal.doneResult(instance);
    if (prev.done) {
      results[step.id] = scope[step.id] = prev.result;
      if (task) task.title = `${step.name} (done in an earlier attempt)`;
      return;
    }
    if (step.when !== undefined && !truthy(render(step.when, scope, `${step.id}.when`))) {
      journal.append({ t: 'step-skip', step: instance, reason: `when: ${step.when}` });
      results[step.id] = scope[step.id] = { skipped: true };
      task?.skip(`${step.name}: condition not met`);
      return;
    }
    if (o.skip.has(step.id)) {
      journal.append({ t: 'step-skip', step: instance, reason: '--skip' });
      results[step.id] = scope[step.id] = { skipped: true };
      task?.skip(`${step.name}: skipped by --skip ${step.id}`);
      return;
    }
    if (step.action === 'repeat') return runRepeat(step, task);
    const notReady = o.preflight?.[step.action]?.({ host: o.host });
    if (notReady && o.dryRun) {
      journal.append({ t: 'step-skip', step: instance, reason: `dry run: would fail: ${notReady}` });
      results[step.id] = scope[step.id] = { skipped: true, wouldFail: notReady };
      if (task) task.skip(`${step.name}: would fail: ${notReady}`);
      else o.out(`   would fail: ${notReady}`);
      return;
    }
    const action = o.actions[step.action]!;
    const params = action.params.parse(render(step.params, scope, `${step.id}.params`));
    const ctx = ctxFor(step, task);
    journal.append({ t: 'step-start', step: instance, name: step.name });
    if (step.confirm && !o.dryRun) {
      const q = typeof step.confirm === 'string' ? String(render(step.confirm, scope, `${step.id}.confirm`)) : `${action.describe(params, ctx)}?`;
      if (!(await asker.confirm(`confirm.${step.id}`, q, false, { kind: 'plan' }))) {
        journal.append({ t: 'step-skip', step: instance, reason: 'declined by the operator' });
        results[step.id] = scope[step.id] = { skipped: true, declined: true };
        task?.skip(`${step.name}: declined`);
        return;
      }
    }
    try {
      const result = await action.run(params, ctx);
      results[step.id] = scope[step.id] = result;
      journal.append({ t: 'step-done', step: instance, result });
    } catch (e) {
      journal.append({ t: 'step-fail', step: instance, error: (e as Error).message });
      throw e;
    }
  };

  /**
   * Before anything changes: every step whose integration is missing either is skipped by the
   * operator (--skip, or a yes at the prompt) or stops the run here, naming all such steps at once.
   */
  const preflight = async (): Promise<void> => {
    const problems: string[] = [];
    for (const step of o.playbook.steps) {
      const why = o.preflight?.[step.action]?.({ host: o.host });
      if (!why || journal.doneResult(step.id).done || o.skip.has(step.id)) continue;
      if (o.dryRun) {
        o.out(`note: step "${step.name}" would fail: ${why}`);
        continue;
      }
      current = step.id;
      // Going on without a step is past a safety check: --yes never says yes, --skip or an answer does.
      const skip = await asker
        .confirm(`preflight.${step.id}`, `${step.name}: ${why}. Skip this step and go on?`, false, { kind: 'override', flag: `--skip ${step.id}` })
        // Nobody to ask: the step joins the list below, so the operator sees every such step at once.
        .catch((e: unknown) => {
          if (e instanceof StepError) return false;
          throw e;
        });
      if (skip) {
        o.skip.add(step.id);
        continue;
      }
      problems.push(`${step.id}: ${why}${step.skippable ? ` (skip it with --skip ${step.id})` : ''}`);
    }
    if (problems.length) throw new StepError(`not configured for ${o.host.name}, nothing was changed:\n  ${problems.join('\n  ')}`);
  };

  /**
   * `repeat`: run earlier steps again (round 2, 3, …) until a condition holds, as the runbook says:
   * restart, purge, backscatter — until the queue holds none of that account's mail.
   */
  const runRepeat = async (step: Step, task: Task | null): Promise<void> => {
    const p = step.params as { steps?: unknown; until?: unknown; max?: unknown };
    const ids = Array.isArray(p.steps) ? p.steps.map(String) : [];
    const max = Number(p.max ?? 3);
    const byId = new Map(o.playbook.steps.map((x) => [x.id, x]));
    const rounds: number[] = [];
    for (let round = 2; round <= max; round++) {
      if (truthy(render(p.until, scope, `${step.id}.until`))) break;
      rounds.push(round);
      for (const id of ids) {
        const target = byId.get(id)!;
        if (task) task.output = `round ${round}: ${target.name}`;
        await runStep(target, task, `${id}@${round}`);
      }
    }
    current = step.id;
    const clean = truthy(render(p.until, scope, `${step.id}.until`));
    const result = { rounds: rounds.length, clean };
    results[step.id] = scope[step.id] = result;
    journal.append({ t: 'step-done', step: step.id, result });
    if (!clean && !o.dryRun) throw new StepError(`${step.name}: still not clean after ${max} rounds; look at the queue by hand`);
  };

  try {
    await preflight();
    if (o.tty) {
      // Per task (listr2 9): keep every output line (evidence, sample, plan, summary) on screen
      // after the step ends, not only the last one while it runs.
      await new Listr(
        o.playbook.steps.map((step) => ({
          title: step.name,
          task: (_: unknown, task: Task) => runStep(step, task),
          rendererOptions: { persistentOutput: true, outputBar: Infinity },
        })),
        { exitOnError: true, rendererOptions: { collapseSubtasks: false, collapseSkips: false } },
      ).run();
    } else {
      for (const step of o.playbook.steps) {
        o.out(`── ${step.name}`);
        await runStep(step, null);
      }
    }
  } catch (e) {
    return end(isPromptAbort(e) ? 'aborted' : 'failed', e);
  }
  return end('ok');
}

/** How a destructive command reads in a dry run: whole, with its stdin data (ids, senders) under it. */
export function dryRunPlan(cmd: string, stdin?: string): string {
  const lines = [`[dry-run] would run: ${cmd}`];
  if (stdin !== undefined && stdin !== '') {
    const data = stdin.endsWith('\n') ? stdin.slice(0, -1) : stdin;
    lines.push(`  on stdin (${data.split('\n').length} line(s)):`, ...data.split('\n').map((l) => `  | ${l}`));
  }
  return lines.join('\n');
}

/**
 * The host's transport seen through a step's `run`, for code written against a Transport
 * (scanHost): every command non-destructive and journaled, none longer than the run's timeout.
 */
export function journaledView(t: Transport, run: StepContext['run'], timeoutMs: number, note: (message: string) => void): Transport {
  const view: Transport = {
    describe: t.describe,
    exec: (cmd, eo = {}) => run(cmd, { ...eo, destructive: false, timeoutMs: Math.min(eo.timeoutMs ?? timeoutMs, timeoutMs) }),
    // The run owns the connection: a step is done with its view, not with the host.
    close: async () => {},
  };
  if (t.openTcp) {
    const open = t.openTcp.bind(t);
    view.openTcp = (port, host) => (note(`TCP connection from the host to ${host ?? 'its loopback'}:${port}`), open(port, host));
  }
  return view;
}
