// The run's Asker: it decides every question (answers file, flags, --yes rules) and asks the
// renderer's prompt only when a person at the terminal must answer; every answer is recorded.
import { StepError } from '../errors.js';
import { printable } from '../text/printable.js';
import type { Prompter } from './events.js';
import { truthy } from './template.js';
import type { Asker, ConfirmKind } from './types.js';

/** What the asker needs of the run's options (RunOptions has them), and the renderer's prompts. */
export interface AskerOptions {
  answers: Record<string, unknown>;
  forced?: Map<string, string>;
  unattended: boolean;
  dryRun: boolean;
  /** Absent: nobody at the terminal (no TTY, CI). */
  prompt?: Prompter;
}

/** One answer and who gave it: the run journals it and tells its renderers. */
export interface Decision {
  key: string;
  question: string;
  answer: unknown;
  by: 'operator' | 'flag' | 'answers-file' | 'default';
}

export class RunAsker implements Asker {
  constructor(
    private readonly o: AskerOptions,
    private readonly record: (d: Decision) => void,
  ) {}

  private recorded(key: string): { has: boolean; value?: unknown } {
    return key in this.o.answers ? { has: true, value: this.o.answers[key] } : { has: false };
  }

  private log(key: string, question: string, answer: unknown, by: Decision['by']) {
    this.record({ key, question, answer, by });
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
      this.log(key, q, v, 'answers-file');
      return v;
    }
    if (k.kind === 'override' && this.o.forced?.has(key)) {
      this.log(key, q, true, 'flag');
      return true;
    }
    const nobody = this.o.unattended || (this.o.dryRun && !this.o.prompt);
    if (nobody && k.kind === 'override') {
      // The safe answer is no: --yes never says yes here, and a dry run shows where a real run stops.
      this.log(key, q, false, 'default');
      const how = [k.flag, `--answers with "${key}: yes"`].filter(Boolean).join(' or ');
      throw new StepError(`${q} — an unattended run never answers yes to this; stopping before anything changes (to go on anyway: ${how})`);
    }
    // A dry run changes nothing, so without a terminal it may say yes to see the whole plan.
    if (nobody) {
      this.log(key, q, true, 'flag');
      return true;
    }
    if (!this.o.prompt) this.noHuman(key, q);
    const v = await this.o.prompt.confirm(q, dflt);
    this.log(key, q, v, 'operator');
    return v;
  }

  async select<T extends string>(
    key: string,
    rawQuestion: string,
    rawChoices: { value: T; name: string; description?: string }[],
    dflt?: T,
  ): Promise<T> {
    // Choices carry server text (auth ids): shown made printable, returned as the exact value.
    const question = printable(rawQuestion);
    const choices = rawChoices.map((c) => ({
      ...c,
      name: printable(c.name),
      ...(c.description === undefined ? {} : { description: printable(c.description) }),
    }));
    const r = this.recorded(key);
    if (r.has) {
      const v = String(r.value) as T;
      if (!choices.some((c) => c.value === v))
        throw new StepError(`answer for "${key}" is ${JSON.stringify(v)}, not one of: ${choices.map((c) => c.value).join(', ')}`);
      this.log(key, question, v, 'answers-file');
      return v;
    }
    if (this.o.unattended || !this.o.prompt) this.noHuman(key, question);
    const v = await this.o.prompt.select(question, choices, dflt);
    this.log(key, question, v, 'operator');
    return v;
  }

  async input(key: string, rawQuestion: string, dflt?: string): Promise<string> {
    const question = printable(rawQuestion);
    const r = this.recorded(key);
    if (r.has) {
      this.log(key, question, String(r.value), 'answers-file');
      return String(r.value);
    }
    if (this.o.unattended || (this.o.dryRun && !this.o.prompt)) {
      if (dflt !== undefined) {
        this.log(key, question, dflt, 'default');
        return dflt;
      }
      this.noHuman(key, question);
    }
    if (!this.o.prompt) this.noHuman(key, question);
    const v = await this.o.prompt.input(question, dflt);
    this.log(key, question, v, 'operator');
    return v;
  }
}
