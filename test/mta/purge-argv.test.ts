// E2BIG with become (issue #8): sudo -n … /bin/sh -c '<command>' passes the whole command as ONE
// argument, and Linux caps one argument at 128 KiB (MAX_ARG_STRLEN). Every MTA's purge command
// must be a fixed script whose size does not depend on the ids, senders, recipients or auth id —
// those go on stdin — so 300 messages with 400-character quote-heavy senders (each ' grows to
// '"'"' when quoted) stay far below the limit, with or without sudo.
import { mtaHost } from '../../src/mta/host.js';
import { describe, expect, it } from 'vitest';
import { exim } from '../../src/mta/exim/adapter.js';
import { postfix } from '../../src/mta/postfix/adapter.js';
import { qmail } from '../../src/mta/qmail/adapter.js';
import { sendmail } from '../../src/mta/sendmail/adapter.js';
import type { MtaAdapter, PurgeRequest } from '../../src/mta/types.js';
import { wrapBecome } from '../../src/transport/become.js';

const MAX_ARG_STRLEN = 128 * 1024;
const BECOME = { become: true, becomeUser: 'root', user: 'deploy' };

/** 400 characters, most of them single quotes, with shell and terminal specials in between. */
function quoteHeavy(i: number): string {
  const unit = `''''''''$(touch /tmp/PWNED)\`x\`"\\'\u001b[31m`;
  return `${unit.repeat(20)}`.slice(0, 400 - 20) + `${i}@forged.example`.padStart(20, "'");
}

function ids(a: MtaAdapter, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const k = String(i).padStart(6, '0');
    if (a === exim) return `1WD${k.slice(0, 3)}-00${k.slice(3)}0-1W`;
    if (a === qmail) return String(100000 + i);
    if (a === sendmail) return `6AN4mW${k}22`;
    return `4F${k}AB`;
  });
}

function request(a: MtaAdapter, n: number, sender: (i: number) => string, kind: 'auth' | 'bounce', authId: string): PurgeRequest {
  const list = ids(a, n);
  return {
    ids: list,
    match: kind === 'auth' ? { kind: 'auth', authId } : { kind: 'bounce' },
    mode: 'delete',
    expect: Object.fromEntries(
      list.map((id, i) => [id, kind === 'auth' ? { sender: sender(i) } : { sender: '', recipients: [sender(i), `b${i}@far.example`] }]),
    ),
  };
}

describe('purge commands do not grow with the data (all four MTAs, with become)', () => {
  for (const a of [exim, postfix, sendmail, qmail]) {
    for (const kind of ['auth', 'bounce'] as const) {
      it(`${a.name} ${kind}: 300 quote-heavy senders, wrapped in sudo, stay far below 128 KiB and the same size as one short one`, () => {
        const authId = `bob'${"'".repeat(200)}@example.test`;
        const big = a.ops!.purge(mtaHost(), request(a, 300, quoteHeavy, kind, authId));
        const small = a.ops!.purge(
          mtaHost(),
          request(a, 1, () => 'a@b.example', kind, 'b@example.test'),
        );
        // Every id was accepted: nothing was dropped to make the command fit.
        const pre = big.parse('', '', 0).skipped;
        expect(
          pre.filter((s) => !/no result from the server|not attempted/.test(s.reason)),
          a.name,
        ).toEqual([]);
        const argv = wrapBecome(big.command, BECOME);
        expect(argv.startsWith('sudo -n')).toBe(true);
        expect(Buffer.byteLength(argv), a.name).toBeLessThan(MAX_ARG_STRLEN / 2);
        expect(argv).toBe(wrapBecome(small.command, BECOME));
        // The data is on stdin, not in the command: no id, sender or auth id in argv.
        expect(big.stdin, a.name).toBeDefined();
        for (const secret of [ids(a, 300)[299]!, '/tmp/PWNED', 'forged.example', "''''''''", 'bob'])
          expect(argv.includes(secret), `${a.name}: ${secret} in argv`).toBe(false);
        expect(big.stdin!.length).toBeGreaterThan(300 * 400);
      });
    }
  }
});
