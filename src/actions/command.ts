// Custom steps: `command` runs the playbook author's command on the host (through the run's
// journaled runner), `local` runs a program on the controller (local-run.ts). Data — the account,
// IPs, ids — goes on stdin, one value a line; the command text is filled only through quote().
import type { Sh } from '../transport/quote.js';
import { z } from 'zod';
import { StepError } from '../errors.js';
import type { Action, StepContext } from '../playbook/types.js';
import { printable } from '../text/printable.js';
import { renderShell, stdinLines } from './command-template.js';

export const flag = z
  .union([z.boolean(), z.string()])
  .transform((v) => v === true || (typeof v === 'string' && ['true', 'yes', '1'].includes(v.toLowerCase())));

/** What both custom steps take besides their command. */
export const CustomParams = {
  /** Values for stdin, one a line (a list, or one value): `"{{ identify.topIps }}"`. */
  stdin: z.unknown().optional(),
  /** The command only reads: it runs in a dry run too, and is not confirmed as a change. */
  readonly: flag.default(false),
  /** Seconds; default the run's --timeout. */
  timeout: z.coerce.number().positive().max(86_400).optional(),
  /** Exit codes that mean success (default [0]). */
  ok_codes: z.array(z.coerce.number().int()).default([0]),
};

/** Output as the operator and the journal's step result see it: printable, the tail kept. */
export function shown(text: string, max = 4000): string {
  const t = text.length > max ? `…${text.slice(-max)}` : text;
  return printable(t.replace(/\s+$/, ''), { multiline: true });
}

/** The last lines of what a failed command said: the step's error. */
export function tail(stdout: string, stderr: string, lines = 5): string {
  const all = `${stdout}\n${stderr}`
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);
  return all.length
    ? all
        .slice(-lines)
        .map((l) => printable(l, { max: 300 }))
        .join('\n  ')
    : '(no output)';
}

/**
 * A destructive custom step is confirmed with the exact command, unless the step's own `confirm:`
 * already asked (the engine did). --yes answers this plan question yes; `confirm.ID: no` declines.
 */
export async function confirmRun(ctx: StepContext, what: string, destructive: boolean): Promise<boolean> {
  if (!destructive || ctx.dryRun || ctx.step.confirm) return true;
  return ctx.ask.confirm(`confirm.${ctx.step.id}`, `${what}?`, false, { kind: 'plan' });
}

const Params = z.object({ command: z.unknown(), ...CustomParams });

/** The raw `command:` of the step (the engine's rendering is not quoted, so it is not used). */
function commandText(ctx: StepContext): Sh {
  const raw = ctx.step.params.command;
  if (typeof raw !== 'string' || !raw.trim()) throw new StepError(`${ctx.step.id}: params.command must be a shell command (text)`);
  return renderShell(raw, ctx.scope, `${ctx.step.id}.params.command`);
}

export const command: Action<typeof Params> = {
  name: 'command',
  params: Params,
  describe: (_p, ctx) => `run on ${ctx.host.name}: ${printable(commandText(ctx), { max: 200 })}`,
  async run(p, ctx) {
    const cmd = commandText(ctx);
    const stdin = stdinLines(p.stdin, `${ctx.step.id}.params.stdin`);
    const destructive = !p.readonly;
    const n = stdin ? stdin.split('\n').length - 1 : 0;
    if (!(await confirmRun(ctx, `Run on ${ctx.host.name}: ${cmd}${n ? ` (with ${n} line(s) on stdin)` : ''}`, destructive))) {
      ctx.say('declined: not run');
      return { ran: false, declined: true };
    }
    const r = await ctx.run(cmd, { destructive, ...(stdin ? { stdin } : {}), ...(p.timeout ? { timeoutMs: p.timeout * 1000 } : {}) });
    if (ctx.dryRun && destructive) return { ran: false, dryRun: true, command: cmd, stdinLines: n };
    const out = shown(`${r.stdout}${r.stderr ? `\n${r.stderr}` : ''}`);
    if (out) ctx.say(out);
    if (!p.ok_codes.includes(r.code ?? -1))
      throw new StepError(`command on ${ctx.host.name} failed (exit ${r.code ?? 'signal'}):\n  ${tail(r.stdout, r.stderr)}`);
    return { ran: true, code: r.code, stdout: shown(r.stdout), stderr: shown(r.stderr), stdinLines: n };
  },
};
