// The terminal's prompts (@inquirer/prompts) for the TTY renderer: inside the task list through
// listr2's prompt adapter, so the question draws under its step; before the list starts (the
// preflight) on their own. Only the Asker calls these, and only when a person must answer.
import { confirm, input, select } from '@inquirer/prompts';
import { ListrInquirerPromptAdapter } from '@listr2/prompt-adapter-inquirer';
import type { ListrDefaultRenderer, ListrSimpleRenderer, ListrTaskWrapper } from 'listr2';
import type { Choice, Prompter } from './events.js';

export type Task = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;

/** `task()`: the task list's running step, or null outside the list. */
export function ttyPrompter(task: () => Task | null): Prompter {
  return {
    async confirm(message, dflt) {
      const t = task();
      return t ? t.prompt(ListrInquirerPromptAdapter).run(confirm, { message, default: dflt }) : confirm({ message, default: dflt });
    },
    async select<T extends string>(message: string, choices: Choice<T>[], dflt?: T): Promise<T> {
      const t = task();
      return (
        t
          ? await t.prompt(ListrInquirerPromptAdapter).run(select, { message, choices, default: dflt })
          : await select({ message, choices, default: dflt })
      ) as T;
    },
    async input(message, dflt) {
      const t = task();
      return t ? t.prompt(ListrInquirerPromptAdapter).run(input, { message, default: dflt }) : input({ message, default: dflt });
    },
  };
}
