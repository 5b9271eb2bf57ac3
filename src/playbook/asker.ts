// The run's Asker: answers from --answers or flags first, a prompt only when someone is at the
// terminal (inside a listr2 task, or before the task list starts), every answer journaled.
import { ListrInquirerPromptAdapter } from '@listr2/prompt-adapter-inquirer';
import { confirm as inqConfirm, input as inqInput, select as inqSelect } from '@inquirer/prompts';
import type { ListrDefaultRenderer, ListrSimpleRenderer, ListrTaskWrapper } from 'listr2';
import { StepError } from '../errors.js';
import { printable } from '../text/printable.js';
import type { Journal } from './journal.js';
import { truthy } from './template.js';
import type { Asker, ConfirmKind } from './types.js';

export type Task = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;

/** What the asker needs of the run's options (RunOptions has them). */
export interface AskerOptions {
  answers: Record<string, unknown>;
  forced?: Map<string, string>;
  unattended: boolean;
  dryRun: boolean;
  tty: boolean;
}

export class RunAsker implements Asker {
  task: Task | null = null;
  constructor(
    private readonly o: AskerOptions,
    private readonly journal: () => Journal,
    private readonly stepId: () => string,
  ) {}

  private recorded(key: string): { has: boolean; value?: unknown } {
    return key in this.o.answers ? { has: true, value: this.o.answers[key] } : { has: false };
  }

  private log(question: string, answer: unknown, by: 'operator' | 'flag' | 'answers-file' | 'default') {
    this.journal().append({ t: 'decision', step: this.stepId(), question, answer, by });
  }

  private noHuman(key: string, question: string): never {
    throw new StepError(`${question} — nobody to ask: give the answer with --answers (key "${key}") or run interactively`);
  }

  async confirm(key: string, question: string, dflt: boolean, kind?: ConfirmKind): Promise<boolean> {
    const k: ConfirmKind = kind ?? (dflt ? { kind: 'plan' } : { kind: 'override' });
    const q = printable(question);
    const r = this.recorded(key);
    if (r.has) {
      const v = truthy(r.value);
      this.log(q, v, 'answers-file');
      return v;
    }
    if (k.kind === 'override' && this.o.forced?.has(key)) {
      this.log(q, true, 'flag');
      return true;
    }
    const nobody = this.o.unattended || (this.o.dryRun && !this.o.tty);
    if (nobody && k.kind === 'override') {
      // The safe answer is no: --yes never says yes here, and a dry run shows where a real run stops.
      this.log(q, false, 'default');
      const how = [k.flag, `--answers with "${key}: yes"`].filter(Boolean).join(' or ');
      throw new StepError(`${q} — an unattended run never answers yes to this; stopping before anything changes (to go on anyway: ${how})`);
    }
    // A dry run changes nothing, so without a terminal it may say yes to see the whole plan.
    if (nobody) {
      this.log(q, true, 'flag');
      return true;
    }
    if (!this.o.tty) this.noHuman(key, q);
    // Inside the task list through listr2's adapter; before it starts (the preflight) a plain prompt.
    const v = this.task ? await this.task.prompt(ListrInquirerPromptAdapter).run(inqConfirm, { message: q, default: dflt }) : await inqConfirm({ message: q, default: dflt });
    this.log(q, v, 'operator');
    return v;
  }

  async select<T extends string>(key: string, rawQuestion: string, rawChoices: { value: T; name: string; description?: string }[], dflt?: T): Promise<T> {
    // Choices carry server text (auth ids): shown made printable, returned as the exact value.
    const question = printable(rawQuestion);
    const choices = rawChoices.map((c) => ({ ...c, name: printable(c.name), ...(c.description === undefined ? {} : { description: printable(c.description) }) }));
    const r = this.recorded(key);
    if (r.has) {
      const v = String(r.value) as T;
      if (!choices.some((c) => c.value === v)) throw new StepError(`answer for "${key}" is ${JSON.stringify(v)}, not one of: ${choices.map((c) => c.value).join(', ')}`);
      this.log(question, v, 'answers-file');
      return v;
    }
    if (this.o.unattended || !this.task || !this.o.tty) this.noHuman(key, question);
    const v = (await this.task.prompt(ListrInquirerPromptAdapter).run(inqSelect, { message: question, choices, default: dflt })) as T;
    this.log(question, v, 'operator');
    return v;
  }

  async input(key: string, rawQuestion: string, dflt?: string): Promise<string> {
    const question = printable(rawQuestion);
    const r = this.recorded(key);
    if (r.has) {
      this.log(question, String(r.value), 'answers-file');
      return String(r.value);
    }
    if (this.o.unattended || (this.o.dryRun && !this.o.tty)) {
      if (dflt !== undefined) {
        this.log(question, dflt, 'default');
        return dflt;
      }
      this.noHuman(key, question);
    }
    if (!this.task || !this.o.tty) this.noHuman(key, question);
    const v = await this.task.prompt(ListrInquirerPromptAdapter).run(inqInput, { message: question, default: dflt });
    this.log(question, v, 'operator');
    return v;
  }
}
