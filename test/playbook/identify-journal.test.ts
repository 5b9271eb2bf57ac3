// identify's scan runs through the run's journaled view of the host: every command it sends is a
// journal `command` record, within the run's --timeout; a streamed log is counted, never copied in,
// and a big queue listing is clipped; closing the view leaves the run's connection open.
import { mtaHost } from '../../src/mta/host.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ACTION_NAMES, ACTIONS } from '../../src/actions/index.js';
import { TransportError } from '../../src/errors.js';
import type { HostSpec } from '../../src/inventory/types.js';
import { getAdapter } from '../../src/mta/index.js';
import { journaledView, runPlaybook } from '../../src/playbook/engine.js';
import { plainRenderer } from '../../src/playbook/render-plain.js';
import type { RunCommandOptions } from '../../src/playbook/types.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';

const host: HostSpec = {
  name: 'mx-fake',
  address: '192.0.2.1',
  port: 22,
  user: 'root',
  connection: 'ssh',
  become: false,
  becomeUser: 'root',
  mta: 'exim',
  queueWarn: 75,
  queueCrit: 100,
  groups: ['all'],
  vars: {},
  source: { file: 'inv.yaml', line: 1 },
};
const QUEUE = readFileSync(fileURLToPath(new URL('../fixtures/mta/exim/attributed-bookworm-exim.txt', import.meta.url)), 'utf8');
const QUEUE_CMD = getAdapter('exim').attributedQueue!(mtaHost(undefined, {})).command;
const LOG_TOKEN = 'only-in-the-log-7Qx';

/** A host that answers the queue listing and streams a log; it records what each command was given. */
class RecordingHost implements Transport {
  readonly describe = 'fake://mx-fake';
  calls: { cmd: string; timeoutMs?: number; streamed: boolean }[] = [];
  closed = false;
  constructor(private readonly o: { logFails?: boolean } = {}) {}
  async exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ cmd, timeoutMs: opts.timeoutMs, streamed: !!opts.onLine });
    if (cmd === QUEUE_CMD && opts.onLine) {
      // The scan streams the queue read: line by line, stdout empty (as the transports do).
      for (const l of QUEUE.replace(/\n$/, '').split('\n')) opts.onLine(l);
      return { code: 0, stdout: '', stderr: '', durationMs: 5 };
    }
    if (opts.onLine) {
      const day = new Date().toISOString().slice(0, 10);
      for (let i = 0; i < 50; i++)
        opts.onLine(
          `${day} 00:00:0${i % 10} 1xVOH${i}-0007YW-1g <= promo@${LOG_TOKEN}.invalid H=(x) [198.51.100.7]:4711 P=esmtpa A=plain_server:bob@example.test S=900 id=s${i}@x for a${i}@remote.test`,
        );
      if (this.o.logFails) throw new TransportError('timeout', `command did not finish within ${Math.round(opts.timeoutMs! / 1000)}s: log`);
      return { code: 0, stdout: '', stderr: '', durationMs: 5 };
    }
    if (cmd === QUEUE_CMD) return { code: 0, stdout: QUEUE, stderr: '', durationMs: 5 };
    return { code: 0, stdout: '', stderr: '', durationMs: 1 };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const PB = 'name: p\nsteps:\n  - { name: Identify, id: identify, action: identify, params: { auth_id: "{{ auth_id }}" } }\n';

async function identify(transport: RecordingHost, timeoutS: number) {
  const out = await runPlaybook({
    playbook: parsePlaybook(PB.replace('name: p\n', 'name: p\nvars: { auth_id: "" }\n'), 'p.yaml', ACTION_NAMES),
    host,
    transport,
    actions: ACTIONS,
    vars: { auth_id: 'bob@example.test' },
    dryRun: false,
    unattended: true,
    answers: { 'identify.unknown_account': true, 'identify.is_spam': true },
    skip: new Set(),
    runsDir: mkdtempSync(join(tmpdir(), 'ms-idj-')),
    secrets: [],
    renderer: plainRenderer({ out: () => {} }),
    commandTimeoutMs: timeoutS * 1000,
  });
  const text = readFileSync(out.journalPath, 'utf8');
  const events = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { out, text, commands: events.filter((e) => e.t === 'command' && e.step === 'identify') };
}

describe('identify through the journaled view', () => {
  it('every scan command is journaled with the run timeout, and none is given longer than --timeout', async () => {
    const t = new RecordingHost();
    const { out, text, commands } = await identify(t, 7);
    expect(out.status, out.error).toBe('ok');
    // Past the engine's own connect check, everything identify sent is in the journal, in order.
    const sent = t.calls.slice(1);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(commands.map((c) => c.cmd)).toEqual(sent.map((c) => c.cmd));
    for (const c of sent) expect(c.timeoutMs, c.cmd.slice(0, 60)).toBeLessThanOrEqual(7000);
    for (const c of commands) expect(c).toMatchObject({ destructive: false, dryRun: false });
    const queue = commands.find((c) => c.cmd === QUEUE_CMD)!;
    expect(queue).toMatchObject({ timeoutMs: 7000, code: 0 });
    expect(t.calls.find((c) => c.cmd === QUEUE_CMD)!.timeoutMs).toBe(7000);
    // The queue read is streamed into its parser: the journal has its line count, not a copy of the queue.
    expect(queue).toMatchObject({ stdout: '', lines: QUEUE.replace(/\n$/, '').split('\n').length });
    // The streamed log: its line count journaled, its lines not.
    const log = commands.find((c) => 'lines' in c && c.cmd !== QUEUE_CMD)!;
    expect(t.calls.find((c) => c.cmd === log.cmd)!.streamed).toBe(true);
    expect(log).toMatchObject({ lines: 50, stdout: '', timeoutMs: 7000 });
    expect(text).not.toContain(LOG_TOKEN);
    // The identify step's view closed nothing: the run's connection stays the caller's to close.
    expect(t.closed).toBe(false);
  });

  it('another --timeout reaches the same commands', async () => {
    const t = new RecordingHost();
    const { out, commands } = await identify(t, 3);
    expect(out.status, out.error).toBe('ok');
    expect(commands.find((c) => c.cmd === QUEUE_CMD)).toMatchObject({ timeoutMs: 3000 });
    expect(Math.max(...t.calls.map((c) => c.timeoutMs ?? Infinity))).toBeLessThanOrEqual(3000);
  });

  it('a command that does not finish is journaled with its error (and lines so far); the scan degrades as before', async () => {
    const t = new RecordingHost({ logFails: true });
    const { out, commands } = await identify(t, 4);
    expect(out.status, out.error).toBe('ok');
    expect(commands.find((c) => 'lines' in c && c.cmd !== QUEUE_CMD)).toMatchObject({
      lines: 50,
      timeoutMs: 4000,
      error: expect.stringMatching(/did not finish within 4s/),
    });
  });
});

describe('journaledView', () => {
  it('runs every command non-destructive, never past the run timeout; notes a TCP connection; closes nothing', async () => {
    const seen: { cmd: string; o: RunCommandOptions }[] = [];
    const notes: string[] = [];
    const t = new RecordingHost();
    const tcp: number[] = [];
    const base = Object.assign(t, { openTcp: async (port: number) => (tcp.push(port), {} as never) });
    const view = journaledView(
      base,
      async (cmd, o) => (seen.push({ cmd, o }), { code: 0, stdout: '', stderr: '', durationMs: 0 }),
      5000,
      (m) => notes.push(m),
    );
    await view.exec('a', { timeoutMs: 60_000, maxBytes: 10 });
    await view.exec('b');
    await view.exec('c', { timeoutMs: 1000 });
    expect(seen.map((x) => [x.cmd, x.o.timeoutMs, x.o.destructive])).toEqual([
      ['a', 5000, false],
      ['b', 5000, false],
      ['c', 1000, false],
    ]);
    expect(seen[0]!.o.maxBytes).toBe(10);
    await view.openTcp!(25);
    expect(tcp).toEqual([25]);
    expect(notes).toEqual(['TCP connection from the host to its loopback:25']);
    await view.close();
    expect(t.closed).toBe(false);
    expect(
      journaledView(
        new RecordingHost(),
        async () => ({ code: 0, stdout: '', stderr: '', durationMs: 0 }),
        1,
        () => {},
      ).openTcp,
    ).toBeUndefined();
  });
});
