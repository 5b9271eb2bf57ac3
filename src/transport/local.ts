// The machine mailsweep runs on (ansible_connection: local): /bin/sh -c, same contract as SSH.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { userInfo } from 'node:os';
import { wrapBecome } from './become.js';
import { TransportError } from '../errors.js';
import { LineSplitter } from './lines.js';
import type { ExecOptions, ExecResult, Transport } from './types.js';

export class LocalTransport implements Transport {
  readonly describe = 'local';
  constructor(private readonly opts: { become?: boolean; becomeUser?: string } = {}) {}

  exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const full = wrapBecome(cmd, {
      become: opts.become ?? this.opts.become ?? false,
      becomeUser: this.opts.becomeUser ?? 'root',
      user: userInfo().username,
    });
    const started = Date.now();
    const maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', full], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      let outBytes = 0;
      let truncated = false;
      let settled = false;
      const kill = () => {
        // Kill the whole process group we started (we own it: detached above).
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      };
      const timer = opts.timeoutMs
        ? setTimeout(() => {
            if (settled) return;
            settled = true;
            kill();
            reject(
              new TransportError('timeout', `command did not finish within ${Math.round(opts.timeoutMs! / 1000)}s: ${cmd.slice(0, 80)}`),
            );
          }, opts.timeoutMs)
        : undefined;
      // Streamed output is capped only when the caller sets maxBytes (a log window may be larger than any buffer).
      const lines = opts.onLine ? new LineSplitter(opts.onLine, undefined, opts.maxBytes) : null;
      child.stdout.on('data', (d: Buffer) => {
        if (lines) return lines.push(d);
        if (outBytes >= maxBytes) return void (truncated = true);
        out.push(d);
        outBytes += d.length;
      });
      child.stderr.on('data', (d: Buffer) => errs.push(d));
      child.on('error', (e) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new TransportError('error', `local: ${e.message}`));
      });
      child.on('close', (code) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        lines?.end();
        resolve({
          code,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(errs).toString('utf8'),
          durationMs: Date.now() - started,
          truncated: truncated || lines?.truncated || undefined,
        });
      });
      child.stdin.on('error', () => {}); // command may exit without reading stdin
      if (opts.stdinWriter)
        opts.stdinWriter({
          write: (data) => void (settled || child.stdin.write(data)),
          end: () => void (settled || child.stdin.end()),
        });
      else child.stdin.end(opts.stdin ?? '');
    });
  }

  openTcp(port: number, host = '127.0.0.1'): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host);
      s.once('connect', () => resolve(s));
      s.once('error', (e) => reject(new TransportError('error', `local: cannot open ${host}:${port} (${e.message})`)));
    });
  }

  async close(): Promise<void> {}
}
