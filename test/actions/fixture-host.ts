// An exim host for incident runs without a lab: the queue listings and headers from the recorded
// exim fixtures, a log window streamed from lines the test gives; every other command (a custom
// step, a reset command) runs on this machine through LocalTransport.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NOW_MARKER, FILE_MARKER } from '../../src/logs/read.js';
import { mtaHost } from '../../src/mta/host.js';
import { getAdapter } from '../../src/mta/index.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';

const fx = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/mta/exim/${name}`, import.meta.url)), 'utf8');

/** bob@example.test's message 1xVLbA-000000000AA-0AAA, alice's, www-data's, an unattributed one. */
export const QUEUE_BEFORE = fx('attributed-synthetic-auth.txt');
/** The same queue once bob's message is gone: no longer attributed to him. */
export const QUEUE_AFTER = QUEUE_BEFORE.replace('|--auth_id bob@example.test\n', '');
const exim = getAdapter('exim');
const ctx = mtaHost(undefined, {});
const ATTRIBUTED = exim.attributedQueue(ctx).command;
const PLAIN = exim.queue(ctx).command;

export class FixtureHost implements Transport {
  readonly describe = 'fixture://mx-exim';
  private readonly local = new LocalTransport();
  queue = QUEUE_BEFORE;
  readonly sent: string[] = [];
  constructor(private readonly o: { logLines: string[]; headers: (id: string) => string | null }) {}

  async exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.sent.push(cmd);
    const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '', durationMs: 1 });
    // As a transport does: with onLine the output goes line by line and stdout stays empty.
    const answer = (text: string): ExecResult => {
      if (!opts.onLine) return ok(text);
      for (const l of text.replace(/\n$/, '').split('\n')) opts.onLine(l);
      return ok('');
    };
    if (cmd === 'true') return ok('');
    if (cmd === ATTRIBUTED) return answer(this.queue);
    if (cmd === PLAIN) return answer(fx('adapter-ok.txt'));
    const mvh = / -Mvh (\S+)$/.exec(cmd);
    if (mvh) {
      const h = this.o.headers(mvh[1]!);
      return h === null ? { code: 1, stdout: '', stderr: 'spool file not found', durationMs: 1 } : ok(h);
    }
    if (cmd.includes(NOW_MARKER) && opts.onLine) {
      opts.onLine(`${NOW_MARKER} ${Math.floor(Date.now() / 1000)} +0000`);
      opts.onLine(`${FILE_MARKER} /var/log/exim4/mainlog`);
      for (const l of this.o.logLines) opts.onLine(l);
      return ok('');
    }
    if (cmd.includes(NOW_MARKER)) return ok('');
    return this.local.exec(cmd, opts);
  }

  async close(): Promise<void> {}
}

/** exim `<=` lines of today: `n` messages of `account` from `ip`. */
export function arrivals(account: string, ip: string, n: number, from = 'promo@spam-deals.invalid', start = 0): string[] {
  const day = new Date().toISOString().slice(0, 10);
  return Array.from({ length: n }, (_, i) => {
    const k = start + i;
    const t = `${String(Math.floor(k / 60) % 24).padStart(2, '0')}:${String(k % 60).padStart(2, '0')}:00`;
    return `${day} ${t} 1xVO${String(k).padStart(2, '0')}-0007YW-1g <= ${from} H=(x) [${ip}]:4711 P=esmtpa A=plain_server:${account} S=900 id=s${k}@x for victim${k}@contoso.example`;
  });
}
