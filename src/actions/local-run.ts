// The `local` custom step: a program on the controller (a ticket system's webhook through curl,
// a firewall API client). Spawned with an argv list, no shell unless the author writes `sh -c`
// (then that script is filled through quote() like a host command); data on stdin; a timeout
// that kills its process group; an environment with nothing of mailsweep's own (no token, no
// password) but what the step names.
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { z } from 'zod';
import { ConfigError, StepError } from '../errors.js';
import type { Action, StepContext } from '../playbook/types.js';
import { render } from '../playbook/template.js';
import { printable } from '../text/printable.js';
import { quote } from '../transport/quote.js';
import { renderShell, stdinLines } from './command-template.js';
import { confirmRun, CustomParams, shown, tail } from './command.js';

const Params = z.object({
  argv: z.unknown(),
  /** Extra environment (values from the playbook, rendered as data). */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number()])).default({}),
  /** Variables passed from mailsweep's environment (a webhook token): registered as secrets, never shown. */
  pass_env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
  ...CustomParams,
});

/** What a child gets of mailsweep's environment: enough to find programs and speak the locale. */
const BASE_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'USER', 'LOGNAME', 'TMPDIR'];
const SHELLS = /^(sh|bash|dash|ash|ksh|zsh|mksh|busybox)$/;
/** Programs whose argument is code: a value placed into it would be code too. */
const INTERPRETERS = /^(python[\d.]*|perl|ruby|node|php|lua|tclsh|awk|gawk|mawk|nawk|sed|jq|osascript|pwsh|expect)$/;
const MAX_OUTPUT = 4 * 1024 * 1024;
const HAS_PLACEHOLDER = /\{\{\s*[A-Za-z_]/;

/**
 * Which argv items are shell scripts: the word after a shell's option cluster holding `c` (`sh -c`,
 * `bash -ec`, `env sh -c`, `busybox sh -c`, `timeout 9 sh -c`). Those are filled through quote().
 */
function scriptItems(raw: string[]): Set<number> {
  const out = new Set<number>();
  const k = raw.findIndex((x) => SHELLS.test(basename(x)));
  if (k < 0) return out;
  const c = raw.findIndex((x, i) => i > k && /^-[A-Za-z]*c[A-Za-z]*$/.test(x));
  if (c > 0 && c + 1 < raw.length) out.add(c + 1);
  return out;
}

/** The argv, from the raw step params: a `sh -c` script through quote(), every other item one argument. */
export function localArgv(ctx: Pick<StepContext, 'step' | 'scope'>): string[] {
  const given = ctx.step.params.argv;
  const where = `${ctx.step.id}.params.argv`;
  if (!Array.isArray(given) || !given.length || !given.every((x) => typeof x === 'string' || typeof x === 'number'))
    throw new ConfigError(
      `${where}: a list of words, program first (e.g. [curl, -sS, ...]); no shell runs unless you write [sh, -c, SCRIPT]`,
    );
  const raw = given.map(String);
  const scripts = scriptItems(raw);
  // An interpreter's code (python -c, perl -e, a sed or awk program) cannot be filled safely.
  const interpreter = raw.findIndex((x) => INTERPRETERS.test(basename(x)));
  const out: string[] = [];
  raw.forEach((text, i) => {
    if (scripts.has(i)) return void out.push(renderShell(text, ctx.scope, `${where}[${i}]`));
    const code = /^(-[A-Za-z]*[ceEr]|--eval|--command|--execute)$/.test(raw[i - 1] ?? '');
    if (interpreter >= 0 && i > interpreter && HAS_PLACEHOLDER.test(text) && (code || !/^\{\{[^}]*\}\}$/.test(text.trim())))
      throw new ConfigError(
        `${where}[${i}]: a placeholder inside an argument of ${basename(raw[interpreter]!)} may be code to it: pass the value as its own argument ("{{ x }}") or on stdin`,
      );
    const v = render(text, ctx.scope, `${where}[${i}]`);
    // A whole `{{ list }}` is one argument per item; anything else one argument.
    if (Array.isArray(v)) out.push(...v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))));
    else out.push(typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  });
  if (!out[0]) throw new ConfigError(`${where}[0]: no program`);
  return out;
}

export interface LocalResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Run argv with stdin, within timeoutMs (the whole process group is killed after it). */
export function runLocal(argv: string[], o: { stdin: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<LocalResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: o.env, detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let done = false;
    const keep = (to: Buffer[]) => (d: Buffer) => {
      if (bytes < MAX_OUTPUT) to.push(d);
      bytes += d.length;
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
      reject(new StepError(`${argv[0]} did not finish within ${Math.round(o.timeoutMs / 1000)}s: killed`));
    }, o.timeoutMs);
    child.on('error', (e) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new StepError(`cannot run ${printable(argv[0]!, { max: 200 })}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
    child.on('close', (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Date.now() - started,
      });
    });
    child.stdin.on('error', () => {}); // the program may exit without reading stdin
    child.stdin.end(o.stdin);
  });
}

export const local: Action<typeof Params> = {
  name: 'local',
  params: Params,
  describe: (_p, ctx) =>
    `run on the controller: ${printable(
      localArgv(ctx)
        .map((a) => quote(a))
        .join(' '),
      { max: 200 },
    )}`,
  async run(p, ctx) {
    const argv = localArgv(ctx);
    const shownCmd = argv.map((a) => quote(a)).join(' ');
    const stdin = stdinLines(p.stdin, `${ctx.step.id}.params.stdin`);
    const n = stdin ? stdin.split('\n').length - 1 : 0;
    const destructive = !p.readonly;
    const env: NodeJS.ProcessEnv = {};
    for (const k of BASE_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
    for (const [k, v] of Object.entries(p.env)) env[k] = String(v);
    for (const k of p.pass_env) {
      const v = process.env[k];
      if (v === undefined) throw new StepError(`${ctx.step.id}: pass_env ${k} is not set in mailsweep's environment`);
      ctx.secret(v);
      env[k] = v;
    }
    const record = { t: 'command' as const, step: ctx.step.id, cmd: `(controller) ${shownCmd}`, ...(stdin ? { stdin } : {}), destructive };
    if (ctx.dryRun && destructive) {
      ctx.journal.append({ ...record, dryRun: true });
      ctx.say(
        `[dry-run] would run on the controller: ${shownCmd}${n ? `\n  on stdin (${n} line(s)):\n  | ${stdin.trimEnd().split('\n').join('\n  | ')}` : ''}`,
      );
      return { ran: false, dryRun: true, argv, stdinLines: n };
    }
    if (!(await confirmRun(ctx, `Run on the controller: ${shownCmd}${n ? ` (with ${n} line(s) on stdin)` : ''}`, destructive))) {
      ctx.say('declined: not run');
      return { ran: false, declined: true };
    }
    const timeoutMs = (p.timeout ?? ctx.commandTimeoutMs / 1000) * 1000;
    let r: LocalResult;
    try {
      r = await runLocal(argv, { stdin, env, timeoutMs });
    } catch (e) {
      ctx.journal.append({ ...record, dryRun: false, timeoutMs, error: (e as Error).message });
      throw e;
    }
    ctx.journal.append({ ...record, dryRun: false, timeoutMs, code: r.code, stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs });
    const out = shown(`${r.stdout}${r.stderr ? `\n${r.stderr}` : ''}`);
    if (out) ctx.say(out);
    if (!p.ok_codes.includes(r.code ?? -1))
      throw new StepError(`${printable(argv[0]!, { max: 100 })} failed (exit ${r.code ?? 'signal'}):\n  ${tail(r.stdout, r.stderr)}`);
    return { ran: true, code: r.code, stdout: shown(r.stdout), stderr: shown(r.stderr), stdinLines: n };
  },
};
