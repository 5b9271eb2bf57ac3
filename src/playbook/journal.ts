// The run journal: one JSON object per line, appended and fsynced before the next action, so the
// audit log survives SIGKILL and `--resume` knows exactly which steps and effects are done.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

export type JournalEvent =
  | { t: 'run-start'; runId: string; playbook: string; host: string; vars: Record<string, unknown>; dryRun: boolean; user: string }
  | { t: 'run-resume'; runId: string }
  | { t: 'step-start'; step: string; name: string }
  | { t: 'step-skip'; step: string; reason: string }
  | { t: 'step-done'; step: string; result: unknown }
  | { t: 'step-fail'; step: string; error: string }
  | { t: 'decision'; step: string; question: string; answer: unknown; by: 'operator' | 'flag' | 'answers-file' | 'default' }
  /**
   * `lines`: a streamed output's line count (the lines themselves went to the reader, not here);
   * `error`: the command did not finish (timeout, connection lost).
   */
  | {
      t: 'command';
      step: string;
      cmd: string;
      stdin?: string;
      destructive: boolean;
      dryRun: boolean;
      timeoutMs?: number;
      code?: number | null;
      stdout?: string;
      stderr?: string;
      lines?: number;
      truncated?: boolean;
      durationMs?: number;
      error?: string;
    }
  | { t: 'api'; step: string; service: string; call: string; params?: unknown; ok?: boolean; error?: string; dryRun: boolean }
  | { t: 'effect'; step: string; key: string; detail?: unknown }
  | { t: 'note'; step?: string; message: string }
  /** `connection`: the host could not be reached (or the link broke), as the scan's status word. */
  | { t: 'run-end'; status: 'ok' | 'failed' | 'aborted'; error?: string; connection?: string };

export type Stamped = JournalEvent & { at: string };

export function defaultRunsDir(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return process.env.MAILSWEEP_RUNS_DIR || join(base, 'mailsweep', 'runs');
}

/** Cap what a command's output adds to the journal: enough to audit, not a copy of the queue. */
const clip = (s: string | undefined, n = 4000) => (s && s.length > n ? `${s.slice(0, n)}… (${s.length} bytes)` : s);

export class Journal {
  private fd: number;
  readonly events: Stamped[];

  private constructor(
    readonly path: string,
    events: Stamped[],
    private readonly redact: (s: string) => string,
  ) {
    this.events = events;
    this.fd = openSync(path, 'a', 0o600);
  }

  static create(dir: string, runId: string, redact: (s: string) => string): Journal {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${runId}.jsonl`);
    if (existsSync(path)) throw new ConfigError(`run ${runId} already exists (${path})`);
    return new Journal(path, [], redact);
  }

  static open(dir: string, runId: string, redact: (s: string) => string): Journal {
    if (!/^[\w.-]+$/.test(runId)) throw new ConfigError(`not a run id: ${JSON.stringify(runId)}`);
    const path = join(dir, `${runId}.jsonl`);
    if (!existsSync(path)) throw new ConfigError(`no run ${runId} in ${dir}`);
    const events: Stamped[] = [];
    for (const [i, line] of readFileSync(path, 'utf8').split('\n').entries()) {
      if (!line.trim()) continue;
      try {
        events.push(JSON.parse(line) as Stamped);
      } catch {
        // A line cut by SIGKILL mid-write is the only expected damage; anything after it would be too.
        if (i < readFileSync(path, 'utf8').split('\n').length - 2) throw new ConfigError(`${path}:${i + 1}: journal line is not JSON`);
      }
    }
    return new Journal(path, events, redact);
  }

  /** Told each record as written (redacted): the run turns the API calls actions journal into events. */
  listener?: (record: Stamped) => void;

  append(ev: JournalEvent): Stamped {
    const stamped = { ...ev, at: new Date().toISOString() } as Stamped;
    if (stamped.t === 'command') {
      stamped.stdout = clip(stamped.stdout);
      stamped.stderr = clip(stamped.stderr);
      if (stamped.stdin !== undefined) stamped.stdin = clip(stamped.stdin);
    }
    const line = this.redact(JSON.stringify(stamped)) + '\n';
    writeSync(this.fd, line);
    fsyncSync(this.fd);
    const record = JSON.parse(line) as Stamped;
    this.events.push(record);
    this.listener?.(record);
    return stamped;
  }

  /** Result of a step that finished in this or an earlier (resumed) run. */
  doneResult(step: string): { done: boolean; result?: unknown } {
    const ev = this.events.find((e) => e.t === 'step-done' && e.step === step) as Extract<Stamped, { t: 'step-done' }> | undefined;
    return ev ? { done: true, result: ev.result } : { done: false };
  }

  /** An effect (e.g. "password-set") recorded by a step: actions check it so a resume never repeats one. */
  effect(step: string, key: string): Extract<Stamped, { t: 'effect' }> | undefined {
    return this.events.find((e) => e.t === 'effect' && e.step === step && e.key === key) as Extract<Stamped, { t: 'effect' }> | undefined;
  }

  start(): Extract<Stamped, { t: 'run-start' }> | undefined {
    return this.events.find((e) => e.t === 'run-start') as Extract<Stamped, { t: 'run-start' }> | undefined;
  }

  close(): void {
    closeSync(this.fd);
  }
}
