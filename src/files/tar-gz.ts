// A .tar.gz of a few small regular files (the evidence bundle): POSIX ustar headers and node:zlib.
// Forty lines instead of a dependency: the entries are ours (short names, a few MB at most), so
// none of what a general tar library handles (long names, links, sparse files, streaming) is needed.
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  /** Path inside the archive ('/'-separated, relative); a directory ends with '/'. */
  name: string;
  /** File contents; absent for a directory. */
  data?: Buffer;
  mode?: number;
}

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, '0');

function header(e: TarEntry, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  const dir = e.name.endsWith('/');
  if (Buffer.byteLength(e.name) > 100 || e.name.startsWith('/') || e.name.split('/').includes('..'))
    throw new Error(`tar: unusable entry name ${JSON.stringify(e.name)}`);
  field(h, 0, 100, e.name);
  field(h, 100, 8, octal(e.mode ?? (dir ? 0o700 : 0o600), 8));
  field(h, 108, 8, octal(0, 8));
  field(h, 116, 8, octal(0, 8));
  field(h, 124, 12, octal(dir ? 0 : (e.data?.length ?? 0), 12));
  field(h, 136, 12, octal(mtime, 12));
  h.fill(' ', 148, 156); // the checksum counts its own field as spaces
  field(h, 156, 1, dir ? '5' : '0');
  field(h, 257, 6, 'ustar');
  field(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, `${octal(sum, 7)}\0`);
  return h;
}

/** The gzipped tar of `entries`, in order. */
export function tarGz(entries: TarEntry[], mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e, mtime));
    if (!e.name.endsWith('/') && e.data?.length) {
      parts.push(e.data);
      const pad = (512 - (e.data.length % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return gzipSync(Buffer.concat(parts));
}
