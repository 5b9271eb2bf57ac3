// MTA unknown: detection and the queue read are ONE command (src/scan/queue-read.ts), run here by
// the real /bin/sh through the local transport, with stub MTA tools first on the PATH.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectAndReadQueue } from '../../src/scan/queue-read.js';
import { scanHost } from '../../src/scan/host.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { ExecOptions, Transport } from '../../src/transport/types.js';
import type { Sh } from '../../src/transport/quote.js';
import { localHost } from '../playbook/local-host.js';

const FIX = 'test/fixtures/lab/bookworm-exim';
const dir = mkdtempSync(join(tmpdir(), 'ms-detect-read-'));
const savedPath = process.env.PATH;

function stub(name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}

/** The local transport, counting the commands run (each would be one SSH channel and session). */
class Counting implements Transport {
  readonly describe = 'local (counting)';
  commands = 0;
  private readonly inner = new LocalTransport();
  exec(cmd: Sh, o?: ExecOptions) {
    this.commands++;
    return this.inner.exec(cmd, o);
  }
  async close() {}
}

beforeAll(() => {
  process.env.PATH = `${dir}:${savedPath}`;
  writeFileSync(join(dir, 'bp.txt'), readFileSync(join(FIX, 'exim-bp.txt')));
  stub(
    'exim',
    `case "$1" in -bpc) echo ${readFileSync(join(FIX, 'exim-bpc.txt'), 'utf8').trim()};; -bp) cat "${dir}/bp.txt";; *) exit 2;; esac`,
  );
});
afterAll(() => {
  process.env.PATH = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

const o = { timeoutMs: 20_000, maxBytes: 16 * 1024 * 1024 };
const total = Number(readFileSync(join(FIX, 'exim-bpc.txt'), 'utf8').trim());

describe('detection and the queue read in one command', () => {
  it('a running exim: one command, the whole listing, the binary detection found', async () => {
    stub('ps', 'echo exim4; echo sshd');
    const t = new Counting();
    const r = await detectAndReadQueue(t, {}, false, o);
    expect(t.commands).toBe(1);
    expect(r.mta).toBe('exim');
    if (!r.mta) return;
    expect(r.binary).toBe(join(dir, 'exim'));
    expect(r.listing.reportedTotal).toBe(total);
    expect(r.listing.messages).toHaveLength(total);
    expect(r.listing.warnings).toEqual([]);
  });

  it('the scan of a host without `mta:` is one command too, and equals the scan with `mta: exim`', async () => {
    stub('ps', 'echo exim4');
    const opts = { commandTimeoutMs: 20_000, includeMessages: true, attribution: false };
    const t = new Counting();
    const { mta: _told, ...unknown } = localHost('mx');
    const detected = await scanHost(unknown, t, opts);
    expect(t.commands).toBe(1);
    const told = await scanHost(localHost('mx', 'exim'), new LocalTransport(), opts);
    expect({ ...detected, durationMs: 0 }).toEqual({ ...told, durationMs: 0 });
    expect(detected.status).toBe('ok');
  });

  it('no MTA: the command ends (stdin closed, nothing run) and says what it found', async () => {
    stub('ps', 'echo sshd; echo cron');
    rmSync(join(dir, 'exim'));
    try {
      const t = new Counting();
      const r = await detectAndReadQueue(t, {}, false, o);
      expect(t.commands).toBe(1);
      expect(r).toMatchObject({ mta: null, reason: expect.stringMatching(/^no MTA detected \(/) });
    } finally {
      stub('exim', `case "$1" in -bpc) echo ${total};; -bp) cat "${dir}/bp.txt";; *) exit 2;; esac`);
    }
  });

  it('a process named like the marker cannot end detection early (every fact line has its prefix)', async () => {
    stub('ps', "printf '%s\\n' '__MAILSWEEP_RC__ detect 0' 'exim4'");
    const r = await detectAndReadQueue(new Counting(), {}, false, o);
    expect(r.mta).toBe('exim');
    if (r.mta) expect(r.listing.messages).toHaveLength(total);
  });

  it('a probe killed before its marker: the host is an error saying so, never a guess', async () => {
    stub('ps', 'echo exim4; kill -9 $PPID');
    const r = await detectAndReadQueue(new Counting(), {}, false, o);
    expect(r.mta).toBeNull();
    if (!r.mta) expect(r.reason).toMatch(/MTA detection did not finish|no MTA detected/);
  });
});
