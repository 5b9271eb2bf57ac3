// The engine emits typed events and draws nothing: the order of a small run's events, the plain
// renderer's lines for a given list of events, server text in a step's output made printable by
// both renderers, and the Asker calling the renderer's prompt only when a person must answer.
import { localHost } from './local-host.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { HostSpec } from '../../src/inventory/types.js';
import { runPlaybook, type RunOptions } from '../../src/playbook/engine.js';
import type { Choice, Prompter, Renderer, RunEvent } from '../../src/playbook/events.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { plainLines, plainRenderer } from '../../src/playbook/render-plain.js';
import { ttyRenderer } from '../../src/playbook/render-tty.js';
import type { Action } from '../../src/playbook/types.js';
import { LocalTransport } from '../../src/transport/local.js';

const host: HostSpec = localHost('mx-ev');
/** What a hostile server prints: a screen-clearing escape and a right-to-left override. */
const HOSTILE = 'bad\u001b[2J\u202eevil';
const SHOWN = 'bad^[[2J<U+202E>evil';
const TOKEN = 'tok-EVENTS-0123456789';

const actions: Record<string, Action> = {
  probe: {
    name: 'probe',
    params: z.object({}),
    describe: () => 'probe',
    async run(_p, ctx) {
      ctx.secret(TOKEN);
      const r = await ctx.run(`printf 'bad\\033[2J\\342\\200\\256evil'`, { destructive: false });
      ctx.say(`server said: ${r.stdout} (with ${TOKEN})`);
      const ok = await ctx.ask.confirm('probe.ok', 'Go on?', true);
      ctx.journal.append({ t: 'api', step: ctx.step.id, service: 'whm', call: 'getdomainowner', ok: true, dryRun: false });
      return { ok };
    },
  },
  act: {
    name: 'act',
    params: z.object({}),
    describe: () => 'act',
    async run(_p, ctx) {
      await ctx.run('true', { destructive: true, stdin: `id1\t${HOSTILE}\n` });
      return {};
    },
  },
};
const PB = `name: ev
steps:
  - { name: Probe, id: probe, action: probe }
  - { name: Act, id: act, action: act, confirm: "Act now?" }
  - { name: Later, id: later, action: act }
`;

function opts(over: Partial<RunOptions>): RunOptions {
  return {
    playbook: parsePlaybook(PB, 'ev.yaml', [...Object.keys(actions), 'repeat']),
    host,
    transport: new LocalTransport(),
    actions,
    vars: {},
    dryRun: false,
    unattended: true,
    answers: {},
    skip: new Set(),
    runsDir: mkdtempSync(join(tmpdir(), 'ms-ev-')),
    secrets: [],
    renderer: plainRenderer({ out: () => {} }),
    commandTimeoutMs: 10_000,
    ...over,
  };
}

/** A renderer that keeps every event, and optionally prompts with canned answers. */
function recorder(prompt?: Prompter): Renderer & { events: RunEvent[] } {
  const events: RunEvent[] = [];
  return { events, on: (ev) => void events.push(ev), ...(prompt ? { prompt } : {}) };
}

describe('engine events', () => {
  it('a small run: start, command, output, question, api call, end, summary — in order, typed, redacted', async () => {
    const r = recorder();
    const out = await runPlaybook(opts({ renderer: r, answers: { 'probe.ok': true }, skip: new Set(['later']) }));
    expect(out.status, out.error).toBe('ok');
    expect(r.events.map((e) => (e.type === 'step-start' || e.type === 'step-end' ? `${e.type} ${e.step}` : e.type))).toEqual([
      'run-start',
      'step-start probe',
      'command',
      'output',
      'question',
      'api-call',
      'step-end probe',
      'step-start act',
      'question',
      'command',
      'step-end act',
      'step-start later',
      'step-end later',
      'summary',
    ]);
    const [start, , cmd, said, asked, api, end] = r.events;
    expect(start).toMatchObject({
      type: 'run-start',
      host: 'mx-ev',
      dryRun: false,
      resumed: false,
      steps: [
        { id: 'probe', name: 'Probe' },
        { id: 'act', name: 'Act' },
        { id: 'later', name: 'Later' },
      ],
    });
    expect(cmd).toMatchObject({ type: 'command', step: 'probe', destructive: false, dryRun: false, timeoutMs: 10_000 });
    // Events are data: the server's text as it came, with the run's secrets already out of it.
    expect(said).toEqual({ type: 'output', step: 'probe', text: `server said: ${HOSTILE} (with [REDACTED])` });
    expect(asked).toEqual({ type: 'question', step: 'probe', key: 'probe.ok', question: 'Go on?', answer: true, by: 'answers-file' });
    expect(api).toEqual({ type: 'api-call', step: 'probe', service: 'whm', call: 'getdomainowner', ok: true, dryRun: false });
    expect(end).toEqual({ type: 'step-end', step: 'probe', id: 'probe', name: 'Probe', outcome: 'done' });
    expect(r.events.at(-2)).toEqual({ type: 'step-end', step: 'later', id: 'later', name: 'Later', outcome: 'skipped', why: 'flag' });
    expect(r.events.at(-1)).toEqual({
      type: 'summary',
      runId: out.runId,
      host: 'mx-ev',
      dryRun: false,
      status: 'ok',
      journalPath: out.journalPath,
    });
  });

  it('a failing step ends with its error, then the summary carries it', async () => {
    const r = recorder();
    // Not unattended, yet no prompt (no terminal): "Go on?" has nobody to answer it.
    const out = await runPlaybook(opts({ renderer: r, unattended: false }));
    expect(out.status).toBe('failed');
    const end = r.events.find((e) => e.type === 'step-end' && e.step === 'probe');
    expect(end).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/^Go on\? — nobody to ask/) });
    expect(r.events.some((e) => e.type === 'step-start' && e.step === 'act')).toBe(false);
    expect(r.events.at(-1)).toMatchObject({ type: 'summary', status: 'failed', error: out.error });
  });
});

describe('plain renderer', () => {
  it('draws a given list of events as lines', () => {
    const events: RunEvent[] = [
      { type: 'run-start', runId: 'R1', host: 'mx1', dryRun: true, resumed: false, steps: [{ id: 'a', name: 'Alpha' }] },
      { type: 'output', text: 'note: step "Notify" would fail: no SMTP' },
      { type: 'step-start', step: 'a', id: 'a', name: 'Alpha' },
      { type: 'command', step: 'a', cmd: 'postsuper -d -', stdin: 'A1\nB2\n', destructive: true, dryRun: true },
      { type: 'command', step: 'a', cmd: 'postqueue -j', destructive: false, dryRun: false, timeoutMs: 5000 },
      { type: 'question', step: 'a', key: 'confirm.a', question: 'Go?', answer: true, by: 'flag' },
      { type: 'api-call', step: 'a', service: 'whm', call: 'passwd', dryRun: true },
      { type: 'output', step: 'a', text: 'two\nlines' },
      { type: 'step-start', step: 'a@2', id: 'a', name: 'Alpha', round: 2 },
      { type: 'step-end', step: 'a@2', id: 'a', name: 'Alpha', round: 2, outcome: 'skipped', why: 'would-fail', detail: 'no WHM' },
      { type: 'step-end', step: 'a', id: 'a', name: 'Alpha', outcome: 'done' },
      { type: 'summary', runId: 'R1', host: 'mx1', dryRun: true, status: 'ok', journalPath: '/runs/R1.jsonl' },
    ];
    const lines = events.flatMap((e) => plainLines(e));
    expect(lines).toEqual([
      'note: step "Notify" would fail: no SMTP',
      '── Alpha',
      '[dry-run] would run: postsuper -d -\n  on stdin (2 line(s)):\n  | A1\n  | B2',
      'two\nlines',
      '   would fail: no WHM',
      '',
      'incident run R1: done (dry run: nothing was changed)',
      'journal: /runs/R1.jsonl',
    ]);
    const failed: RunEvent = {
      type: 'summary',
      runId: 'R2',
      host: 'mx1',
      dryRun: false,
      status: 'failed',
      journalPath: '/runs/R2.jsonl',
      error: 'boom',
      connection: 'unreachable',
    };
    expect(plainLines(failed, { resume: (id) => `mailsweep incident mx1 --resume ${id}` })).toEqual([
      '',
      'incident run R2: mx1 unreachable: boom',
      'journal: /runs/R2.jsonl',
      'resume with: mailsweep incident mx1 --resume R2',
    ]);
    expect(plainLines({ ...failed, connection: undefined, status: 'aborted' })).toEqual([
      '',
      'incident run R2: ABORTED: boom',
      'journal: /runs/R2.jsonl',
    ]);
  });
});

describe('server text reaches the screen only made printable', () => {
  afterEach(() => vi.restoreAllMocks());

  it('plain: a step output and a dry-run plan with ESC and bidi characters', async () => {
    const lines: string[] = [];
    const out = await runPlaybook(
      opts({ renderer: plainRenderer({ out: (l) => lines.push(l) }), dryRun: true, unattended: false, answers: { 'probe.ok': true } }),
    );
    expect(out.status, out.error).toBe('ok');
    const text = lines.join('\n');
    expect(text).toContain(`server said: ${SHOWN} (with [REDACTED])`);
    expect(text).toContain(`  | id1 ${SHOWN}`);
    expect(text).not.toMatch(/[\u001b\u202e]/);
    expect(text).not.toContain(TOKEN);
  });

  it('TTY renderer: task output, a failed step and the lines outside the list', async () => {
    const written: string[] = [];
    // listr2 draws on stdout and stderr (its fallback renderer here, without a terminal); our own lines go to `out`.
    for (const stream of [process.stdout, process.stderr])
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    const lines: string[] = [];
    const r = ttyRenderer({ out: (l) => lines.push(l) });
    const ref = { step: 'a', id: 'a', name: 'Alpha' };
    const events: RunEvent[] = [
      {
        type: 'run-start',
        runId: 'R',
        host: 'mx',
        dryRun: false,
        resumed: false,
        steps: [
          { id: 'a', name: 'Alpha' },
          { id: 'b', name: 'Beta' },
        ],
      },
      { type: 'output', text: `before the list: ${HOSTILE}` },
      { type: 'step-start', ...ref },
      { type: 'output', step: 'a', text: `server said: ${HOSTILE}` },
      { type: 'step-end', ...ref, outcome: 'failed', error: `cannot read the queue: ${HOSTILE}` },
      { type: 'summary', runId: 'R', host: 'mx', dryRun: false, status: 'failed', journalPath: '/j', error: 'x' },
    ];
    for (const ev of events) await r.on(ev);
    vi.restoreAllMocks();
    const screen = written.join('') + lines.join('\n');
    expect(lines[0]).toBe(`before the list: ${SHOWN}`);
    expect(screen).toContain(`server said: ${SHOWN}`);
    expect(screen).toContain(`cannot read the queue: ${SHOWN}`);
    expect(screen).not.toMatch(/[\u202e]|\u001b\[2J/);
    expect(lines.slice(-3)).toEqual(['', 'incident run R: FAILED: x', 'journal: /j']);
  });
});

describe('the Asker asks the renderer only when a person must answer', () => {
  function prompter(answer: boolean) {
    const asked: string[] = [];
    const p: Prompter = {
      confirm: async (m) => (asked.push(m), answer),
      select: async <T extends string>(m: string, c: Choice<T>[]) => (asked.push(m), c[0]!.value),
      input: async (m) => (asked.push(m), ''),
    };
    return { p, asked };
  }

  it('at the terminal: the step confirmation and the preflight question go to the renderer prompt', async () => {
    const { p, asked } = prompter(true);
    const r = recorder(p);
    const preflight = { act: () => 'no act service configured' };
    const out = await runPlaybook(
      opts({ renderer: r, unattended: false, preflight, answers: { 'probe.ok': true }, skip: new Set(['later']) }),
    );
    expect(out.status, out.error).toBe('ok');
    // Preflight first (before any step), then nothing else: probe.ok came from the answers file.
    expect(asked).toEqual(['Act: no act service configured. Skip this step and go on?']);
    expect(r.events.filter((e) => e.type === 'question').map((e) => e.type === 'question' && [e.key, e.by])).toEqual([
      ['preflight.act', 'operator'],
      ['probe.ok', 'answers-file'],
    ]);
  });

  it('a plan question at the terminal is asked; unattended it is not, and a safety question never is', async () => {
    const at = prompter(false);
    const declined = await runPlaybook(
      opts({ renderer: recorder(at.p), unattended: false, answers: { 'probe.ok': true }, skip: new Set(['later']) }),
    );
    expect(declined.status, declined.error).toBe('ok');
    expect(at.asked).toEqual(['Act now?']);
    expect(
      JSON.parse(
        readFileSync(declined.journalPath, 'utf8')
          .trim()
          .split('\n')
          .find((l) => l.includes('Act now?'))!,
      ),
    ).toMatchObject({ answer: false, by: 'operator' });
    const away = prompter(true);
    const yes = await runPlaybook(opts({ renderer: recorder(away.p), unattended: true, skip: new Set(['later']) }));
    expect(yes.status, yes.error).toBe('ok');
    const preflight = { act: () => 'no act service configured' };
    const safety = await runPlaybook(opts({ renderer: recorder(away.p), unattended: true, preflight }));
    expect(safety.status).toBe('failed');
    expect(away.asked).toEqual([]);
  });
});

describe('module boundaries', () => {
  const src = (f: string) => readFileSync(fileURLToPath(new URL(`../../src/playbook/${f}`, import.meta.url)), 'utf8');
  it('the engine, the Asker, the events and the plain renderer import no terminal library and write to no stream', () => {
    for (const f of ['engine.ts', 'asker.ts', 'events.ts', 'render-plain.ts']) {
      expect(src(f), f).not.toMatch(/from '(listr2|@inquirer\/[\w-]+|@listr2\/[\w-]+)'/);
      expect(src(f), f).not.toMatch(/process\.std(err|out|in)/);
    }
    expect(src('engine.ts')).not.toMatch(/from '\.\/(render-|prompt-)/);
    expect(src('prompt-tty.ts')).toMatch(/from '@listr2\/prompt-adapter-inquirer'/);
  });
});
