// --yes answers the plan, never a safety question: an 'override' question (safe answer "no") stops an
// unattended run or a dry run before the next step, naming the question and the flag that overrides it.
import { localHost } from './local-host.js';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { HostSpec } from '../../src/inventory/types.js';
import { runPlaybook, type RunOptions } from '../../src/playbook/engine.js';
import { plainRenderer } from '../../src/playbook/render-plain.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import type { Action } from '../../src/playbook/types.js';
import { sh } from '../../src/transport/quote.js';
import { LocalTransport } from '../../src/transport/local.js';

const host: HostSpec = localHost('mx-q');

const actions: Record<string, Action> = {
  gate: {
    name: 'gate',
    params: z.object({}),
    describe: () => 'gate',
    async run(_p, ctx) {
      const ok = await ctx.ask.confirm('gate.unknown', 'eve@x.test has no evidence. Act on it anyway?', false, {
        kind: 'override',
        flag: '--force-account',
      });
      if (!ok) throw new Error('declined');
      return { ok };
    },
  },
  act: {
    name: 'act',
    params: z.object({ file: z.string() }),
    describe: (p) => `touch ${p.file}`,
    async run(p, ctx) {
      // A planned destructive step: its question's interactive default is "no", yet --yes goes ahead.
      if (!(await ctx.ask.confirm('confirm.act', 'Delete these 3 messages?', false, { kind: 'plan' }))) return { declined: true };
      await ctx.run(sh`touch ${p.file}`, { destructive: true });
      return { done: true };
    },
  },
  unmarked: {
    name: 'unmarked',
    params: z.object({}),
    describe: () => 'unmarked',
    async run(_p, ctx) {
      // No kind given and default no: treated as a safety question.
      return { ok: await ctx.ask.confirm('unmarked.q', 'Something risky?', false) };
    },
  },
};

function opts(steps: string, over: Partial<RunOptions> = {}): { o: RunOptions; file: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'ms-q-')), 'touched');
  const pb = parsePlaybook(`name: t\nvars: { file: "" }\nsteps:\n${steps}`, 't.yaml', [...Object.keys(actions), 'repeat']);
  return {
    file,
    o: {
      playbook: pb,
      host,
      transport: new LocalTransport(),
      actions,
      vars: { file },
      dryRun: false,
      unattended: true,
      answers: {},
      skip: new Set(),
      runsDir: mkdtempSync(join(tmpdir(), 'ms-qr-')),
      secrets: [],
      renderer: plainRenderer({ out: () => {} }),
      commandTimeoutMs: 10_000,
      ...over,
    },
  };
}
const GATED = `  - { name: Gate, id: gate, action: gate }\n  - { name: Act, id: act, action: act, params: { file: "{{ file }}" } }\n`;

describe('unattended questions', () => {
  it('--yes stops at a safety question, names it and the override, and changes nothing', async () => {
    const { o, file } = opts(GATED);
    const out = await runPlaybook(o);
    expect(out.status).toBe('failed');
    expect(out.error).toContain('eve@x.test has no evidence. Act on it anyway?');
    expect(out.error).toContain('--force-account');
    expect(out.error).toContain('gate.unknown: yes');
    expect(existsSync(file)).toBe(false);
    const journal = readFileSync(out.journalPath, 'utf8');
    expect(journal).toMatch(/"t":"decision".*"answer":false,"by":"default"/);
    expect(journal).toMatch(/"t":"run-end","status":"failed"/);
  });

  it('a dry run without a terminal stops there too (it shows where a real run would stop)', async () => {
    const { o } = opts(GATED, { dryRun: true, unattended: false });
    expect((await runPlaybook(o)).status).toBe('failed');
  });

  it('the named flag, or an answers-file entry, is the deliberate yes; the planned step then runs', async () => {
    for (const over of [
      { forced: new Map([['gate.unknown', '--force-account']]) },
      { answers: { 'gate.unknown': 'yes' } },
    ] as Partial<RunOptions>[]) {
      const { o, file } = opts(GATED, over);
      const out = await runPlaybook(o);
      expect(out.status, out.error).toBe('ok');
      expect(existsSync(file)).toBe(true);
    }
  });

  it('a question without a kind and with default "no" is a safety question', async () => {
    const { o } = opts('  - { name: U, id: u, action: unmarked }\n');
    const out = await runPlaybook(o);
    expect(out.status).toBe('failed');
    expect(out.error).toContain('Something risky?');
  });
});
