// The demo's stateful exim host: answers mailsweep's own commands in process (fake-host.ts
// FakeHostSpec.answer) from a queue kept in memory (fake-exim-queue.ts), seeded from a recording
// of a real server. A restart gives the daemon a new pid; a purge reads its request on stdin in
// the real protocol (purge-stdin.ts), re-checks every id against the queue as it is now — the
// checks of exim/scripts/check.awk, through its TypeScript twin (envelope.ts) — then removes or
// freezes what passed and reports each id in the marker protocol (purge-protocol.ts). Never a
// canned "ok": a request that asks for another account's mail gets it skipped, as on a server.
// Nothing here runs a shell, so no demo command can reach this machine's own MTA.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIM_ID } from '../mta/exim/host.js';
import { smtpAuthenticated } from '../mta/exim/envelope.js';
import { PURGE_MARKER } from '../mta/purge-protocol.js';
import { hexOf } from '../mta/purge-stdin.js';
import { RESTART_MARKER } from '../mta/restart-fragments.js';
import { RC_MARKER } from '../mta/sections.js';
import type { CommandAnswer } from './fake-host.js';
import { FakeEximQueue } from './fake-exim-queue.js';
import { REPLAY_KEYS } from './replay.js';

const M = PURGE_MARKER;
const ID = new RegExp(`^${EXIM_ID.source}$`);

/** One request line of the purge's stdin: id, expected sender ("-" or "s<hex>"), expected recipients ("-" or "r…"). */
interface RequestLine {
  id: string;
  sender: string;
  recipients: string;
}

/** The request on stdin, whole (shared/scripts/request.sh refuses anything else), or null. */
function parseRequest(stdin: string): { auth: string; lines: RequestLine[] } | null {
  const rows = stdin.split('\n');
  if (rows[rows.length - 1] === '') rows.pop();
  let auth = '';
  let authLines = 0;
  const lines: RequestLine[] = [];
  for (const [i, row] of rows.entries()) {
    const [a = '', b = '', c = ''] = row.split(' ');
    if (a === 'A') {
      auth = b;
      authLines++;
    } else if (a === '.') return i === rows.length - 1 && Number(b) === rows.length - 1 - authLines ? { auth, lines } : null;
    else lines.push({ id: a, sender: b, recipients: c });
  }
  return null;
}

/** A script's setting as serverScript writes it (`NAME=value`, maybe single-quoted). */
function setting(command: string, name: string): string | undefined {
  return new RegExp(`^${name}='?([^'\\n]*)'?$`, 'm').exec(command)?.[1];
}

export interface FakeEximOptions {
  /** The recording directory (detect.out, log.out, local-domains.out, queue.out). */
  dir: string;
  /** The daemon's pid before the first restart. */
  pid?: number;
  /** The clock for -frozen lines (epoch seconds). */
  now?: () => number;
}

export class FakeExim {
  readonly queue: FakeEximQueue;
  /** The listening daemon's pid: a restart changes it. */
  pid: number;
  restarts = 0;
  /** Every id a purge removed or froze, in order (tests and the demo's closing figures). */
  readonly removed: string[] = [];
  readonly frozen: string[] = [];
  private readonly files: Record<'detect' | 'log' | 'localDomains', string>;
  private readonly now: () => number;

  constructor(o: FakeEximOptions) {
    const read = (f: string) => readFileSync(join(o.dir, f), 'utf8');
    this.queue = FakeEximQueue.fromRecording(read('queue.out'));
    this.files = { detect: read('detect.out'), log: read('log.out'), localDomains: read('local-domains.out') };
    this.pid = o.pid ?? 2417;
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** FakeHostSpec.answer: one command (and its stdin) → its output. */
  answer(command: string, stdin: string): CommandAnswer {
    if (command.includes(REPLAY_KEYS.detect)) return { stdout: this.files.detect, code: 0 };
    if (command.includes(REPLAY_KEYS.log)) return { stdout: this.files.log, code: 0 };
    if (command.includes(REPLAY_KEYS.localDomains)) return { stdout: this.files.localDomains, code: 0 };
    if (command.includes('MS_CHECK_AWK=') && command.includes(M)) return this.purge(command, stdin);
    if (command.includes('ms_service_restart')) return this.restart();
    const mvh = /^\S*exim4? -Mvh (\S+)$/.exec(command.trim());
    if (mvh) {
      const text = this.queue.headerText(mvh[1]!);
      return text === null
        ? { stdout: '', stderr: `Failed to open input file for ${mvh[1]}-H: No such file or directory\n`, code: 1 }
        : { stdout: text, code: 0 };
    }
    if (command.includes(`-bpc 2>&1; echo '${RC_MARKER} bpc'`)) return this.listing(command);
    return { stdout: '', stderr: 'fake exim host: this demo host does not answer that command\n', code: 127 };
  }

  /** `exim -bpc`, `exim -bp` and, for the attributed read, the spool dump: as the queue is now. */
  private listing(command: string): CommandAnswer {
    let out = `${this.queue.bpc()}${RC_MARKER} bpc 0\n${this.queue.bp()}${RC_MARKER} bp 0\n`;
    if (command.includes('MS_DUMP_AWK=')) out += this.queue.spoolDump();
    return { stdout: out, code: 0 };
  }

  /** exim/scripts/restart.sh's report: the pid before, how, the exit code, the new pid. */
  private restart(): CommandAnswer {
    const before = this.pid;
    this.restarts++;
    // A new daemon is a new process: a pid further on, as the kernel hands them out.
    this.pid = before + 23 + this.restarts * 7;
    const R = RESTART_MARKER;
    return {
      stdout: `${R} before ${before}\n${R} how systemctl restart exim4\n${R} rc 0\n${R} running ${this.pid}\n`,
      code: 0,
    };
  }

  /** exim/scripts/purge.sh: request on stdin, each id re-checked (check.awk), then -Mrm / -Mf and verified. */
  private purge(command: string, stdin: string): CommandAnswer {
    const mode = setting(command, 'MS_MODE');
    const kind = setting(command, 'MS_KIND');
    if ((mode !== 'delete' && mode !== 'hold') || (kind !== 'auth' && kind !== 'bounce'))
      return { stdout: `${M} - abort fake exim host: MS_MODE or MS_KIND not understood\n`, code: 0 };
    const req = parseRequest(stdin);
    if (!req) return { stdout: `${M} - abort the request on stdin is missing or incomplete\n`, code: 0 };
    const out: string[] = [`${M} - paused daemon ${this.pid} (exim4, SIGSTOP: no queue run starts during the purge)`];
    const matched: string[] = [];
    for (const r of req.lines) {
      const why = this.recheck(r, kind, req.auth);
      if (why === undefined) continue;
      if (why) out.push(`${M} ${r.id} skip ${why}`);
      else {
        out.push(`${M} ${r.id} match`);
        matched.push(r.id);
      }
    }
    for (const id of matched) {
      if (mode === 'delete') {
        this.queue.remove(id);
        this.removed.push(id);
        out.push(`| Message ${id} has been removed`);
      } else {
        const now = this.queue.freeze(id, this.now());
        if (now) this.frozen.push(id);
        out.push(`| Message ${id} is ${now ? 'now' : 'already'} frozen`);
      }
    }
    for (const id of matched) out.push(`${M} ${id} done ${mode === 'delete' ? 'removed' : 'frozen'}`);
    out.push(`${M} - resumed 1 process(es) (SIGCONT); daemon running, pid ${this.pid}`);
    return { stdout: `${out.join('\n')}\n`, code: 0 };
  }

  /**
   * check.awk for one request line: undefined (not an id: ignored), '' (match) or why it is skipped.
   * Values are compared as hex of their bytes, as the server compares them.
   */
  private recheck(r: RequestLine, kind: 'auth' | 'bounce', auth: string): string | undefined {
    if (!ID.test(r.id)) return undefined;
    const h = this.queue.envelope(r.id);
    if (!h) return 'gone: no spool -H file';
    if (h.id !== r.id) return 'spool -H file does not name this id';
    if (!h.complete) return 'spool -H file ends before its recipients';
    if (r.sender !== '-' && hexOf(h.line3) !== `3c${r.sender.slice(1)}3e`) return 'envelope sender changed: id reused?';
    if (kind === 'auth' && !(h.authId !== undefined && auth !== '' && hexOf(h.authId) === auth)) return 'not submitted by this auth id';
    if (kind === 'auth' && !smtpAuthenticated(h)) return 'a local submission by that login, not an SMTP AUTH one';
    if (kind === 'bounce') {
      if (h.line3 !== '<>') return 'not a null-sender message';
      if (r.recipients === '-') return 'no expected recipients: cannot re-check';
    }
    if (r.recipients !== '-') {
      const want = new Set(r.recipients.slice(1).split(','));
      const delivered = new Set(h.delivered);
      const undelivered = h.recipients.filter((x) => !delivered.has(x));
      if (undelivered.length === 0) return 'recipients changed: none is left undelivered';
      if (undelivered.some((x) => !want.has(`x${hexOf(x)}`)))
        return 'recipients changed: an undelivered recipient is not among the expected ones';
    }
    return '';
  }
}
