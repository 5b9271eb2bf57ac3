// What a playbook run tells the screen: the engine emits these events and nothing else; a renderer
// (render-tty.ts: a listr2 task list; render-plain.ts: plain lines) subscribes and draws them.
// Text in an event is redacted (no secret) but not yet made printable: it may quote server text,
// and the renderer shows it through printable() (src/text/printable.ts), never as it is.
import type { TransportErrorKind } from '../errors.js';

/** How a step ended. A step of a repeat's round carries its round. */
export type StepEnd =
  | { outcome: 'done' }
  /** --resume: finished in an earlier attempt, its result restored from the journal. */
  | { outcome: 'earlier' }
  /** `detail`: the condition (when), the unmet integration (would-fail). */
  | { outcome: 'skipped'; why: 'condition' | 'flag' | 'declined' | 'would-fail'; detail?: string }
  | { outcome: 'failed'; error: string };

/** A step as it runs: `step` the instance (`purge@2` in round 2), `id` the playbook step. */
export interface StepRef {
  step: string;
  id: string;
  name: string;
  round?: number;
}

export type RunEvent =
  | { type: 'run-start'; runId: string; host: string; dryRun: boolean; resumed: boolean; steps: { id: string; name: string }[] }
  | ({ type: 'step-start' } & StepRef)
  /** A line (or lines) for the operator; `step` absent before the steps start (preflight). */
  | { type: 'output'; step?: string; text: string }
  | ({ type: 'step-end' } & StepRef & StepEnd)
  /** A command sent to the host, or (dryRun) one a real run would send: shown as the plan. */
  | { type: 'command'; step: string; cmd: string; stdin?: string; destructive: boolean; dryRun: boolean; timeoutMs?: number }
  /** A call to WHM, WHMCS or SMTP, as the action journaled it. */
  | { type: 'api-call'; step: string; service: string; call: string; ok?: boolean; error?: string; dryRun: boolean }
  /** A question answered: by the operator at the prompt, an answers-file entry, a flag or the default. */
  | { type: 'question'; step: string; key: string; question: string; answer: unknown; by: 'operator' | 'flag' | 'answers-file' | 'default' }
  /** The run's end: the last event. `error` is already printable. */
  | {
      type: 'summary';
      runId: string;
      host: string;
      dryRun: boolean;
      status: 'ok' | 'failed' | 'aborted';
      journalPath: string;
      error?: string;
      connection?: TransportErrorKind;
    };

export type Choice<T extends string> = { value: T; name: string; description?: string };

/** The renderer's prompts: called by the Asker only when a person must answer. Text is printable already. */
export interface Prompter {
  confirm(message: string, dflt: boolean): Promise<boolean>;
  select<T extends string>(message: string, choices: Choice<T>[], dflt?: T): Promise<T>;
  input(message: string, dflt?: string): Promise<string>;
}

/**
 * A subscriber to a run. The engine awaits `on` where it can (step start and end, the summary), so
 * a renderer that draws asynchronously (the task list) keeps pace; lines a step says are not awaited.
 * `prompt` present: someone is at the terminal to answer.
 */
export interface Renderer {
  on(ev: RunEvent): void | Promise<void>;
  prompt?: Prompter;
}
