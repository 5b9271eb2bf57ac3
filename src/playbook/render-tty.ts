// A run on a terminal: one listr2 task per playbook step, drawn from the engine's events. Each
// task waits for its step's end event; what a step says stays on screen under it (evidence,
// sample, plan, summary), and its prompts draw there too (prompt-tty.ts). Before the first step
// starts and after the list ends, lines go out plain. Every string goes through printable().
import { Listr } from 'listr2';
import { printable } from '../text/printable.js';
import type { Renderer, RunEvent } from './events.js';
import { ttyPrompter, type Task } from './prompt-tty.js';
import { dryRunPlan, summaryLines, type PlainOptions } from './render-plain.js';

/** A step's task: handed over when listr2 starts it, released when the step's end event comes. */
interface Slot {
  task: Promise<Task>;
  start(t: Task): void;
  done: Promise<void>;
  end(error?: Error): void;
}

function slot(): Slot {
  let start!: (t: Task) => void;
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const task = new Promise<Task>((r) => (start = r));
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { task, start, done, end: (e) => (e ? reject(e) : resolve()) };
}

type StepEndEvent = Extract<RunEvent, { type: 'step-end' }>;

/** The title a skipped step keeps, as the operator reads it in the list. */
function skipTitle(ev: StepEndEvent & { outcome: 'skipped' }): string {
  if (ev.why === 'condition') return `${ev.name}: condition not met`;
  if (ev.why === 'flag') return `${ev.name}: skipped by --skip ${ev.id}`;
  if (ev.why === 'would-fail') return `${ev.name}: would fail: ${ev.detail ?? ''}`;
  return `${ev.name}: declined`;
}

export class TtyRenderer implements Renderer {
  private steps: { id: string; name: string }[] = [];
  private readonly slots = new Map<string, Slot>();
  /** The task list's run, once the first step started; it settles when the list is drawn for the last time. */
  private list: Promise<void> | null = null;
  /** The running top-level step's task: a repeat's rounds draw in the repeat's task. */
  private task: Task | null = null;
  private running: string | null = null;
  readonly prompt = ttyPrompter(() => this.task);

  constructor(private readonly o: PlainOptions) {}

  on(ev: RunEvent): void | Promise<void> {
    switch (ev.type) {
      case 'run-start':
        this.steps = ev.steps;
        return;
      case 'step-start':
        if (ev.round !== undefined) return this.show(`round ${ev.round}: ${ev.name}`);
        return this.start(ev.id);
      case 'output':
        return this.show(ev.text);
      case 'command':
        if (ev.dryRun) this.show(dryRunPlan(ev.cmd, ev.stdin));
        return;
      case 'step-end':
        return this.end(ev);
      case 'summary':
        return this.finish(ev);
      default:
        return;
    }
  }

  private slot(id: string): Slot {
    return this.slots.get(id) ?? this.slots.set(id, slot()).get(id)!;
  }

  private show(text: string): void {
    const shown = printable(text, { multiline: true });
    if (this.task) this.task.output = shown;
    else this.o.out(shown);
  }

  private async start(id: string): Promise<void> {
    // Per task (listr2 9): keep every output line (evidence, sample, plan, summary) on screen
    // after the step ends, not only the last one while it runs.
    this.list ??= new Listr(
      this.steps.map((s) => ({
        title: printable(s.name),
        task: (_: unknown, t: Task) => {
          const sl = this.slot(s.id);
          sl.start(t);
          return sl.done;
        },
        rendererOptions: { persistentOutput: true, outputBar: Infinity },
      })),
      { exitOnError: true, rendererOptions: { collapseSubtasks: false, collapseSkips: false } },
    )
      .run()
      // A failed step is drawn failed by the list; the run's outcome is the engine's to report.
      .then(
        () => undefined,
        () => undefined,
      );
    this.running = id;
    this.task = await this.slot(id).task;
  }

  private end(ev: StepEndEvent): void {
    const t = this.task;
    if (!t) return;
    if (ev.outcome === 'earlier') t.title = printable(`${ev.name} (done in an earlier attempt)`);
    else if (ev.outcome === 'skipped') t.skip(printable(skipTitle(ev)));
    // A round's step ends inside the repeat's task, which goes on.
    if (ev.round !== undefined) return;
    this.task = this.running = null;
    this.slot(ev.id).end(ev.outcome === 'failed' ? new Error(printable(ev.error, { multiline: true })) : undefined);
  }

  private async finish(ev: Extract<RunEvent, { type: 'summary' }>): Promise<void> {
    // A step the run left without its end (it cannot happen; if it did, the list would wait forever).
    if (this.running) this.slot(this.running).end(new Error(printable(ev.error ?? 'the run ended', { multiline: true })));
    if (this.list) await this.list;
    for (const line of summaryLines(ev, this.o)) this.o.out(line);
  }
}

export function ttyRenderer(o: PlainOptions): Renderer {
  return new TtyRenderer(o);
}
