// Split a byte stream into lines as it arrives (multi-byte characters may straddle chunks).
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private decoder = new StringDecoder('utf8');
  private rest = '';
  private bytes = 0;
  /** Output past `maxBytes` arrived and was dropped. */
  truncated = false;
  constructor(
    private readonly onLine: (line: string) => void,
    /** Longer lines are cut here: a hostile server cannot make one line eat the memory. */
    private readonly maxLine = 64 * 1024,
    /** Bytes of output split at most; the rest is dropped and `truncated` set. */
    private readonly maxBytes = Infinity,
  ) {}

  push(data: Buffer): void {
    let chunk = data;
    if (this.bytes + chunk.length > this.maxBytes) {
      this.truncated = true;
      chunk = chunk.subarray(0, Math.max(0, this.maxBytes - this.bytes));
    }
    this.bytes += chunk.length;
    if (chunk.length === 0) return;
    const text = this.rest + this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      this.onLine(text.slice(start, Math.min(nl, start + this.maxLine)));
      start = nl + 1;
    }
    this.rest = text.slice(start);
    if (this.rest.length > this.maxLine) {
      // Keep the head of an over-long line, drop the rest until its newline arrives.
      this.rest = this.rest.slice(0, this.maxLine);
    }
  }

  end(): void {
    const last = this.rest + this.decoder.end();
    this.rest = '';
    if (last) this.onLine(last);
  }
}
