// The engine with stub actions on the local transport: journal, dry run, resume, preflight, secrets.
import { localHost } from './local-host.js';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { HostSpec } from '../../src/inventory/types.js';
import { runPlaybook, type RunOptions } from '../../src/playbook/engine.js';
import { plainRenderer } from '../../src/playbook/render-plain.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import type { Action } from '../../src/playbook/types.js';
import { StepError } from '../../src/errors.js';
import { sh } from '../../src/transport/quote.js';
import { LocalTransport } from '../../src/transport/local.js';

const host: HostSpec = localHost('mx-test');

const calls: string[] = [];
const TOKEN = 'tok-SECRET-1234567890';
let failOnce = false;

const actions: Record<string, Action> = {
  pick: {
    name: 'pick',
    params: z.object({ who: z.string().optional() }),
    describe: () => 'pick',
    async run(p, ctx) {
      const who =
        p.who ||
        (await ctx.ask.select('pick.account', 'who?', [
          { value: 'bob@x.test', name: 'bob' },
          { value: 'eve@x.test', name: 'eve' },
        ]));
      calls.push(`pick ${who}`);
      return { authId: who };
    },
  },
  touch: {
    name: 'touch',
    params: z.object({ file: z.string() }),
    describe: (p) => `touch ${p.file}`,
    async run(p, ctx) {
      const prior = ctx.journal.effect(ctx.step.id, 'touched');
      if (prior) return { earlier: true };
      ctx.secret(TOKEN);
      const r = await ctx.run(sh`touch ${p.file} && echo using ${TOKEN}`, { destructive: true });
      if (!ctx.dryRun) ctx.journal.append({ t: 'effect', step: ctx.step.id, key: 'touched' });
      calls.push(`touch ${p.file}`);
      if (failOnce) {
        failOnce = false;
        throw new StepError('boom after the effect');
      }
      return { out: r.stdout.trim() };
    },
  },
  plan: {
    name: 'plan',
    params: z.object({}),
    describe: () => 'plan',
    async run(_p, ctx) {
      // A long destructive command with server data on stdin (ids, a hostile sender).
      const cmd = `${'x'.repeat(400)} && echo END-OF-COMMAND`;
      await ctx.run(cmd, { destructive: true, stdin: 'id1\tspam@evil.test\nid2\tbad\u001b[2J\r\u202esender\n' });
      return {};
    },
  },
  count: {
    name: 'count',
    params: z.object({}),
    describe: () => 'count',
    async run(_p, ctx) {
      const n = Number(ctx.scope.n ?? 0) + 1;
      ctx.scope.n = n;
      return { clean: n >= 2, n };
    },
  },
};

const PB = `
name: test
vars: { who: "" }
steps:
  - { name: Pick, id: pick, action: pick, params: { who: "{{ who }}" } }
  - { name: Touch, id: touch, action: touch, confirm: "Touch for {{ pick.authId }}?", params: { file: "{{ file }}" } }
  - { name: Count, id: count, action: count }
  - { name: Again, id: again, action: repeat, params: { steps: [count], until: "{{ count.clean }}", max: 3 } }
`;

function opts(over: Partial<RunOptions> & { file: string }): RunOptions {
  const pb = parsePlaybook(PB.replace('vars: { who: "" }', `vars: { who: "", file: "" }`), 'test.yaml', [
    ...Object.keys(actions),
    'repeat',
  ]);
  return {
    playbook: pb,
    host,
    transport: new LocalTransport(),
    actions,
    vars: { file: over.file },
    dryRun: false,
    unattended: true,
    answers: {},
    skip: new Set(),
    runsDir: mkdtempSync(join(tmpdir(), 'ms-runs-')),
    secrets: [],
    renderer: plainRenderer({ out: () => {} }),
    commandTimeoutMs: 10_000,
    ...over,
  };
}
const journal = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('playbook engine', () => {
  it('unattended without an answer for a choice stops before anything destructive', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ms-')), 'f');
    const out = await runPlaybook(opts({ file }));
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/--answers \(key "pick.account"\)/);
    expect(existsSync(file)).toBe(false);
  });

  it('runs with answers, journals decisions and commands, redacts secrets, repeats until clean', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ms-')), 'f');
    const out = await runPlaybook(opts({ file, answers: { 'pick.account': 'eve@x.test' } }));
    expect(out.status, out.error).toBe('ok');
    expect(existsSync(file)).toBe(true);
    expect(out.results.again).toEqual({ rounds: 1, clean: true });
    const text = readFileSync(out.journalPath, 'utf8');
    expect(text).not.toContain(TOKEN);
    expect(text).toContain('[REDACTED]');
    const ev = journal(out.journalPath);
    expect(ev.find((e) => e.t === 'decision' && e.question === 'who?')).toMatchObject({ answer: 'eve@x.test', by: 'answers-file' });
    expect(ev.find((e) => e.t === 'decision' && String(e.question).startsWith('Touch for eve@x.test'))).toMatchObject({
      answer: true,
      by: 'flag',
    });
    expect(ev.filter((e) => e.t === 'step-done').map((e) => e.step)).toEqual(['pick', 'touch', 'count', 'count@2', 'again']);
    expect(ev.at(-1)).toMatchObject({ t: 'run-end', status: 'ok' });
  });

  it('dry run prints destructive commands instead of running them', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ms-')), 'f');
    const out = await runPlaybook(opts({ file, dryRun: true, vars: { file, who: 'bob@x.test' } }));
    expect(out.status, out.error).toBe('ok');
    expect(existsSync(file)).toBe(false);
    expect(journal(out.journalPath).find((e) => e.t === 'command')).toMatchObject({ destructive: true, dryRun: true });
  });

  it('dry run shows every destructive command in full, with its stdin made printable, without a terminal', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ms-')), 'f');
    const pb = parsePlaybook('name: p\nsteps:\n  - { name: Plan, id: plan, action: plan }\n', 'p.yaml', [
      ...Object.keys(actions),
      'repeat',
    ]);
    const lines: string[] = [];
    const out = await runPlaybook({
      ...opts({ file }),
      playbook: pb,
      dryRun: true,
      renderer: plainRenderer({ out: (l) => lines.push(`${l}\n`) }),
    });
    expect(out.status, out.error).toBe('ok');
    const text = lines.join('');
    expect(text).toContain(`[dry-run] would run: ${'x'.repeat(400)} && echo END-OF-COMMAND`);
    expect(text).toContain('  on stdin (2 line(s)):\n  | id1 spam@evil.test\n  | id2 bad^[[2J^M<U+202E>sender');
    expect(text).not.toMatch(/[\u001b\r\u202e]/);
    const cmd = journal(out.journalPath).find((e) => e.t === 'command')!;
    expect(cmd).toMatchObject({ destructive: true, dryRun: true, stdin: 'id1\tspam@evil.test\nid2\tbad\u001b[2J\r\u202esender\n' });
  });

  it('a host whose MTA cannot be found still ends its journal, with the reason', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ms-')), 'f');
    // A host whose detection probe finds nothing (what the probe prints on a box without an MTA).
    const empty = { describe: 'empty', exec: async () => ({ code: 0, stdout: '', stderr: '', durationMs: 0 }), close: async () => {} };
    const out = await runPlaybook({ ...opts({ file }), host: { ...host, mta: undefined }, transport: empty });
    expect(out.status).toBe('failed');
    const ev = journal(out.journalPath);
    expect(ev.at(-1)).toMatchObject({ t: 'run-end', status: 'failed' });
    expect(String(ev.at(-1)!.error)).toMatch(/no MTA detected/);
  });

  it('resume continues a failed run without repeating done steps or effects', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ms-')), 'f');
    calls.length = 0;
    failOnce = true;
    const o = opts({ file, vars: { file, who: 'bob@x.test' } });
    const first = await runPlaybook(o);
    expect(first.status).toBe('failed');
    expect(calls).toEqual(['pick bob@x.test', 'touch ' + file]);
    calls.length = 0;
    const second = await runPlaybook({ ...o, resume: first.runId, vars: {} });
    expect(second.status, second.error).toBe('ok');
    expect(calls).toEqual([]); // pick restored from the journal, touch found its effect
    expect(second.runId).toBe(first.runId);
    await expect(runPlaybook({ ...o, resume: first.runId })).rejects.toThrow(/already finished/);
  });

  it('preflight names every unconfigured step before the first change, unless skipped', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ms-')), 'f');
    const preflight = { touch: () => 'no touch service configured' };
    const out = await runPlaybook(opts({ file, preflight, vars: { file, who: 'bob@x.test' } }));
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/nothing was changed:\n  touch: no touch service configured/);
    expect(existsSync(file)).toBe(false);
    const skipped = await runPlaybook(opts({ file, preflight, skip: new Set(['touch']), vars: { file, who: 'bob@x.test' } }));
    expect(skipped.status, skipped.error).toBe('ok');
    expect(existsSync(file)).toBe(false);
  });

  it('the engine writes nothing to the terminal itself: plain lines through RunOptions.out, prompts only in the Asker', () => {
    const src = (f: string) => readFileSync(fileURLToPath(new URL(`../../src/playbook/${f}`, import.meta.url)), 'utf8');
    expect(src('engine.ts')).not.toMatch(/process\.std(err|out)|@inquirer\/prompts|prompt-adapter/);
    expect(src('asker.ts')).not.toMatch(/process\.std(err|out)/);
  });

  it('the preflight question goes through the Asker: an answers-file entry skips, --yes alone never does', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ms-')), 'f');
    const preflight = { touch: () => 'no touch service configured' };
    const pb = parsePlaybook(
      PB.replace('vars: { who: "" }', 'vars: { who: "", file: "" }').replace('action: touch,', 'action: touch, skippable: true,'),
      'test.yaml',
      [...Object.keys(actions), 'repeat'],
    );
    const question = 'Touch: no touch service configured. Skip this step and go on?';
    const stopped = await runPlaybook({ ...opts({ file, preflight, vars: { file, who: 'bob@x.test' } }), playbook: pb });
    expect(stopped.status).toBe('failed');
    expect(stopped.error).toMatch(/nothing was changed:\n  touch: no touch service configured \(skip it with --skip touch\)/);
    expect(journal(stopped.journalPath).find((e) => e.t === 'decision')).toMatchObject({
      step: 'touch',
      question,
      answer: false,
      by: 'default',
    });
    expect(journal(stopped.journalPath).some((e) => e.t === 'step-start')).toBe(false);
    const answered = await runPlaybook({
      ...opts({ file, preflight, answers: { 'preflight.touch': 'yes' }, vars: { file, who: 'bob@x.test' } }),
      playbook: pb,
    });
    expect(answered.status, answered.error).toBe('ok');
    expect(existsSync(file)).toBe(false);
    const ev = journal(answered.journalPath);
    expect(ev.find((e) => e.t === 'decision' && e.question === question)).toMatchObject({ answer: true, by: 'answers-file' });
    expect(ev.find((e) => e.t === 'step-skip' && e.step === 'touch')).toMatchObject({ reason: '--skip' });
    // "no" in the answers file is the safe answer: the run stops as unattended.
    const declined = await runPlaybook({
      ...opts({ file, preflight, answers: { 'preflight.touch': false }, vars: { file, who: 'bob@x.test' } }),
      playbook: pb,
    });
    expect(declined.status).toBe('failed');
    expect(declined.error).toMatch(/touch: no touch service configured/);
  });
});
