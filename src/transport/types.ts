import type { Sh } from './quote.js';
import type { Duplex } from 'node:stream';

// The connection seam: every remote (or local) command goes through a Transport.

export interface ExecOptions {
  /** Data written to the command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /** Per-command deadline; the command is abandoned (and the channel closed) after it. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Cap on stdout bytes (captured, or streamed when set with onLine); output past it is dropped and `truncated` is set. */
  maxBytes?: number;
  /**
   * Stream stdout line by line instead of collecting it (ExecResult.stdout is then '').
   * For logs: memory stays flat however long the output.
   */
  onLine?: (line: string) => void;
  /**
   * Keep the command's stdin open and hand its writer here (instead of `stdin`): the caller writes
   * what the command should read once it has seen some output, and must `end()` it.
   */
  stdinWriter?: (w: StdinWriter) => void;
  /** Run through sudo when the connection user is not root (Ansible's become). */
  become?: boolean;
}

export interface StdinWriter {
  write(data: string): void;
  end(): void;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  truncated?: boolean;
}

export interface Transport {
  /** Human name for messages: "ssh://root@mx1:22" or "local". */
  readonly describe: string;
  /** `cmd` is a complete POSIX shell command line, built with `sh` from ./quote.ts. */
  exec(cmd: Sh, opts?: ExecOptions): Promise<ExecResult>;
  /**
   * A TCP connection to a port as seen from the host itself (SSH direct-tcpip to its loopback):
   * lets mailsweep talk SMTP to the host's own MTA without tools on the host. Optional.
   */
  openTcp?(port: number, host?: string): Promise<Duplex>;
  close(): Promise<void>;
}
