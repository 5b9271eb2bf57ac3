// The auth-policy probe's socket: a TCP channel the transport opened (an SSH direct-tcpip stream, or
// a local net.Socket) made into what nodemailer's SMTPConnection expects of a socket, with a cap on
// what a hostile server may send. An SSH channel has no setTimeout(); nodemailer calls it.
import { Duplex } from 'node:stream';

export class ProbeSocket extends Duplex {
  private received = 0;
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inner: Duplex,
    /** Most bytes read from the server: an honest EHLO dialogue is a few KiB; a flood ends the probe. */
    private readonly maxBytes: number,
  ) {
    super();
    // Nothing from the channel may throw in the process: its errors end this socket.
    inner.on('error', (e: Error) => this.destroy(e));
    this.on('error', () => {});
    inner.on('data', (d: Buffer) => {
      this.received += d.length;
      if (this.received > maxBytes) return void this.destroy(new Error(`the server sent more than ${maxBytes} bytes`));
      this.touch();
      if (!this.push(d)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('close', () => {
      this.push(null);
      // Let what was already pushed reach the reader before 'close'.
      setImmediate(() => this.destroy());
    });
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.touch();
    if (this.inner.destroyed) return cb(new Error('channel closed'));
    this.inner.write(chunk, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (!this.inner.destroyed) this.inner.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    this.inner.destroy();
    cb(err);
  }

  /** As net.Socket's: 'timeout' once nothing was read or written for `ms` (0 turns it off). */
  setTimeout(ms: number, onTimeout?: () => void): this {
    this.idleMs = ms;
    if (onTimeout) this.once('timeout', onTimeout);
    this.touch();
    return this;
  }

  // nodemailer sets these on sockets it connected itself; a forwarded channel has nothing to set.
  setKeepAlive(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = this.idleMs > 0 && !this.destroyed ? setTimeout(() => this.emit('timeout'), this.idleMs) : undefined;
  }
}
