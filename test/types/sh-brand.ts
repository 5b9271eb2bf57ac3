// Compiled by test/mta/scripts.test.ts (tsc --noEmit): a command glued from strings is not an Sh.
import { sh, shLines, type Sh } from '../../src/transport/quote.js';
import type { ReadPlan } from '../../src/mta/types.js';

const id = 'x; rm -rf /';
export const ok: Sh = sh`exim -Mrm ${id}`;
export const lines: Sh = shLines(ok, sh`true`);
// @ts-expect-error a template literal is a plain string
export const glued: Sh = `exim -Mrm ${id}`;
// @ts-expect-error concatenation is a plain string
export const added: Sh = sh`exim` + ' -Mrm ' + id;
// @ts-expect-error a plain string is not a plan's command
export const plan: ReadPlan<string> = { command: ['a', 'b'].join('\n'), parse: (s: string) => s };
