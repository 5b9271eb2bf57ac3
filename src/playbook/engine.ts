// Run a playbook on one host: steps in order, every question through the Asker, every command and
// decision journaled, done steps skipped on --resume. The engine draws nothing: it emits events
// (events.ts) to its renderer, which also owns the prompts the Asker may need.
import { mtaHost } from '../mta/host.js';
import { sh, type Sh } from '../transport/quote.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redactor } from '../text/redact.js';
import { ConfigError, isPromptAbort, StepError, TransportError, type TransportErrorKind } from '../errors.js';
import type { HostSpec } from '../inventory/types.js';
import { getAdapter } from '../mta/index.js';
import { detectMta } from '../mta/detect.js';
import type { ExecResult, Transport } from '../transport/types.js';
import { Journal } from './journal.js';
import type { Playbook, Step } from './schema.js';
import { inventoryScope, render, truthy } from './template.js';
import { type Action, type RunCommandOptions, type StepContext } from './types.js';
import { RunAsker } from './asker.js';
import type { Renderer, RunEvent, StepEnd, StepRef } from './events.js';
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
  /** Who shows the run (render-tty.ts on a terminal, render-plain.ts otherwise) and, with a terminal, prompts. */
  renderer: Renderer;
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
    journal.append({
      t: 'run-start',
      runId,
      playbook: o.playbook.file,
      host: o.host.name,
      vars,
      dryRun: o.dryRun,
      user: process.env.SUDO_USER || process.env.USER || 'unknown',
    });
  }
  const runDir = join(o.runsDir, runId);
  mkdirSync(runDir, { recursive: true, mode: 0o700 });

  /** Awaited: a renderer that draws asynchronously (the task list) keeps pace with the run. */
  const emit = async (ev: RunEvent): Promise<void> => void (await o.renderer.on(ev));
  /** Not awaited: what a step says (its `say` is synchronous), commands, API calls, answers. */
  const tell = (ev: RunEvent): void => void o.renderer.on(ev);
  // The API calls actions journal (WHM, WHMCS, SMTP), told as the journal has them: redacted.
  journal.listener = (r) => {
    if (r.t === 'api')
      tell({
        type: 'api-call',
        step: r.step,
        service: r.service,
        call: r.call,
        ...(r.ok === undefined ? {} : { ok: r.ok }),
        ...(r.error === undefined ? {} : { error: r.error }),
        dryRun: r.dryRun,
      });
  };
  await emit({
    type: 'run-start',
    runId,
    host: o.host.name,
    dryRun: o.dryRun,
    resumed: !!o.resume,
    steps: o.playbook.steps.map((s) => ({ id: s.id, name: s.name })),
  });

  /** Every way out of a run that has a journal writes its end record (the audit log is complete). */
  const end = async (status: RunOutcome['status'], e?: unknown): Promise<RunOutcome> => {
    const error = e === undefined ? undefined : redactor.redact((e as Error)?.message ?? String(e));
    const connection = e instanceof TransportError ? e.kind : undefined;
    journal.append({ t: 'run-end', status, ...(error !== undefined ? { error } : {}), ...(connection ? { connection } : {}) });
    journal.close();
    // The error may quote server text (stderr, ids): the screen gets it made printable.
    const shown = {
      ...(error !== undefined ? { error: printable(error, { multiline: true }) } : {}),
      ...(connection ? { connection } : {}),
    };
    await emit({ type: 'summary', runId, host: o.host.name, dryRun: o.dryRun, status, journalPath: journal.path, ...shown });
    return { runId, journalPath: journal.path, status, results, ...shown };
  };
  const results: Record<string, unknown> = {};

  let detected: Awaited<ReturnType<typeof detectMta>>;
  try {
    detected = await detectMta(o.host, o.transport, o.commandTimeoutMs);
    if (!detected.mta) throw new StepError(`${o.host.name}: ${detected.reason}`);
    // With `mta:` in the inventory detection ran nothing: connect now, so an unreachable host ends
    // here with its status word, not later inside a step.
    if (o.host.mta) await o.transport.exec(sh`true`, { timeoutMs: o.commandTimeoutMs });
  } catch (e) {
    return end('failed', e);
  }
  const { mta, binary } = detected;
  const adapter = getAdapter(mta);
  const mtaHostCtx = mtaHost(binary, o.host.vars);
  const scope: Record<string, unknown> = {
    ...vars,
    vars,
    host: { name: o.host.name, address: o.host.address, mta, binary },
    run: { id: runId, dryRun: o.dryRun },
    // The host's inventory settings a custom step may use (a webhook URL): never a secret's.
    inventory: inventoryScope(o.host.vars),
  };
  let current = '';
  const { answers, forced, unattended, dryRun } = o;
  const asker = new RunAsker({ answers, forced, unattended, dryRun, prompt: o.renderer.prompt }, (d) => {
    journal.append({ t: 'decision', step: current, question: d.question, answer: d.answer, by: d.by });
    tell({ type: 'question', step: current, ...redactor.redactValue(d) });
  });

  /** Every command of a step, journaled and told; destructive ones only shown in a dry run. */
  const runCommand = async (cmd: Sh, ro: RunCommandOptions): Promise<ExecResult> => {
    const { destructive, ...eo } = ro;
    const text = eo.stdin === undefined ? '' : String(eo.stdin);
    const stdin = text === '' ? {} : { stdin: text };
    const told = {
      type: 'command' as const,
      step: current,
      cmd: redactor.redact(cmd),
      ...(text === '' ? {} : { stdin: redactor.redact(text) }),
      destructive,
    };
    if (o.dryRun && destructive) {
      journal.append({ t: 'command', step: current, cmd, ...stdin, destructive: true, dryRun: true });
      // The plan in full, TTY or not: the renderer shows every command and what it would get on stdin.
      tell({ ...told, dryRun: true });
      return { code: 0, stdout: '', stderr: '', durationMs: 0 };
    }
    const timeoutMs = eo.timeoutMs ?? o.commandTimeoutMs;
    tell({ ...told, dryRun: false, timeoutMs });
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
      ...base,
      code: r.code,
      stdout: r.stdout,
      stderr: r.stderr,
      ...(onLine ? { lines } : {}),
      ...(r.truncated ? { truncated: true } : {}),
      durationMs: r.durationMs,
    });
    return r;
  };

  const ctxFor = (step: Step): StepContext => {
    const run = runCommand;
    return {
      step,
      host: o.host,
      mta,
      adapter,
      mtaHost: mtaHostCtx,
      transport: o.transport,
      journal,
      dryRun: o.dryRun,
      unattended: o.unattended,
      ask: asker,
      // Everything a step says may quote server text (senders, headers): the renderer shows it made printable.
      say: (m) => tell({ type: 'output', step: current, text: redactor.redact(m) }),
      scope,
      runDir,
      runId,
      secret: (s) => void redactor.add(s),
      redact: redactor.redact,
      skip: o.skip,
      run,
      journaled: journaledView(
        o.transport,
        run,
        o.commandTimeoutMs,
        (message) => void journal.append({ t: 'note', step: current, message }),
      ),
      commandTimeoutMs: o.commandTimeoutMs,
    };
  };

  /** One step (a repeat's round: `instance` is `id@round`), between its start and end events. */
  const runStep = async (step: Step, instance = step.id, round?: number): Promise<void> => {
    current = instance;
    const ref: StepRef = { step: instance, id: step.id, name: step.name, ...(round === undefined ? {} : { round }) };
    await emit({ type: 'step-start', ...ref });
    let how: StepEnd;
    try {
      how = await stepBody(step, instance);
    } catch (e) {
      await emit({ type: 'step-end', ...ref, outcome: 'failed', error: redactor.redact((e as Error)?.message ?? String(e)) });
      throw e;
    }
    await emit({ type: 'step-end', ...ref, ...how });
  };

  const stepBody = async (step: Step, instance: string): Promise<StepEnd> => {
    const prev = journal.doneResult(instance);
    if (prev.done) {
      results[step.id] = scope[step.id] = prev.result;
      return { outcome: 'earlier' };
    }
    if (step.when !== undefined && !truthy(render(step.when, scope, `${step.id}.when`))) {
      journal.append({ t: 'step-skip', step: instance, reason: `when: ${step.when}` });
      results[step.id] = scope[step.id] = { skipped: true };
      return { outcome: 'skipped', why: 'condition', detail: step.when };
    }
    if (o.skip.has(step.id)) {
      journal.append({ t: 'step-skip', step: instance, reason: '--skip' });
      results[step.id] = scope[step.id] = { skipped: true };
      return { outcome: 'skipped', why: 'flag' };
    }
    if (step.action === 'repeat') {
      await runRepeat(step);
      return { outcome: 'done' };
    }
    const notReady = o.preflight?.[step.action]?.({ host: o.host });
    if (notReady && o.dryRun) {
      journal.append({ t: 'step-skip', step: instance, reason: `dry run: would fail: ${notReady}` });
      results[step.id] = scope[step.id] = { skipped: true, wouldFail: notReady };
      return { outcome: 'skipped', why: 'would-fail', detail: notReady };
    }
    const action = o.actions[step.action]!;
    const params = action.params.parse(render(step.params, scope, `${step.id}.params`));
    const ctx = ctxFor(step);
    journal.append({ t: 'step-start', step: instance, name: step.name });
    if (step.confirm && !o.dryRun) {
      const q =
        typeof step.confirm === 'string' ? String(render(step.confirm, scope, `${step.id}.confirm`)) : `${action.describe(params, ctx)}?`;
      if (!(await asker.confirm(`confirm.${step.id}`, q, false, { kind: 'plan' }))) {
        journal.append({ t: 'step-skip', step: instance, reason: 'declined by the operator' });
        results[step.id] = scope[step.id] = { skipped: true, declined: true };
        return { outcome: 'skipped', why: 'declined' };
      }
    }
    try {
      const result = await action.run(params, ctx);
      results[step.id] = scope[step.id] = result;
      journal.append({ t: 'step-done', step: instance, result });
      return { outcome: 'done' };
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
        tell({ type: 'output', text: `note: step "${step.name}" would fail: ${why}` });
        continue;
      }
      current = step.id;
      // Going on without a step is past a safety check: --yes never says yes, --skip or an answer does.
      const skip = await asker
        .confirm(`preflight.${step.id}`, `${step.name}: ${why}. Skip this step and go on?`, false, {
          kind: 'override',
          flag: `--skip ${step.id}`,
        })
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
  const runRepeat = async (step: Step): Promise<void> => {
    const p = step.params as { steps?: unknown; until?: unknown; max?: unknown };
    const ids = Array.isArray(p.steps) ? p.steps.map(String) : [];
    const max = Number(p.max ?? 3);
    const byId = new Map(o.playbook.steps.map((x) => [x.id, x]));
    const rounds: number[] = [];
    for (let round = 2; round <= max; round++) {
      if (truthy(render(p.until, scope, `${step.id}.until`))) break;
      rounds.push(round);
      for (const id of ids) await runStep(byId.get(id)!, `${id}@${round}`, round);
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
    for (const step of o.playbook.steps) await runStep(step);
  } catch (e) {
    return end(isPromptAbort(e) ? 'aborted' : 'failed', e);
  }
  return end('ok');
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
