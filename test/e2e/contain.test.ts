// Issue #14 on the real lab: `mailsweep contain --hold` without cPanel, through the host's
// contain_commands (README's postfix example: a check_sasl_access HOLD map, set up in
// test/lab/mta/postfix.sh). The account's next SMTP AUTH submission really lands in postfix's hold
// queue, another account's does not; `mailsweep release` lifts the hold and sends the held mail on.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeContainCommands } from '../actions/readme-contain.js';
import { lab } from './incident-env.js';
import { labHosts, ownCount, type LabHost } from './lab-host.js';
import { labCli, onHost as inHost, postfixQueueOf, runIdOf, submitAs, waitFor, type Cli } from './lab-mail.js';

const ACCOUNT = 'bob@example.test';
const MAP = '/etc/postfix/sasl_hold'; // test/lab/mta/postfix.sh

let h: LabHost;
let mailsweep: Cli;

const onHost = (cmd: string) => inHost(h, cmd);

const queueOf = (id: string) => postfixQueueOf(h, id);
const waitQueue = (id: string, ok: (q: string | null) => boolean) => waitFor(() => queueOf(id), ok);

beforeAll(() => {
  h = labHosts().find((x) => x.name === 'bookworm-postfix')!;
  // No cpanel_url: the host's own commands, the account on stdin — README's postfix example itself.
  const { hold } = readmeContainCommands().mx2!;
  expect(Object.keys(hold!).sort()).toEqual(['check', 'contain', 'release']);
  mailsweep = labCli(h, mkdtempSync(join(tmpdir(), 'ms-e2e-contain-')), { contain_commands: { hold } });
  expect(onHost(`cat ${MAP}`)).toBe('');
});

afterAll(async () => {
  if (!h) return;
  // Leave the host as the lab made it: an empty map, the seeded queue and log. The messages sent
  // here stay until then, so that reseed sees a queue not as seeded and seeds it afresh.
  onHost(`: > ${MAP}; postmap ${MAP}`);
  await lab('reseed', h.name);
}, 300_000);

describe('contain --hold on postfix with contain_commands (bookworm-postfix)', () => {
  it("holds the account's next AUTH submission, and release sends it on", async () => {
    expect(ownCount(h)).toBe(h.expected.total);
    const c = await mailsweep(['contain', h.name, '--auth-id', ACCOUNT, '--hold', '--yes']);
    expect(c.status, c.stderr).toBe(0);
    expect(onHost(`cat ${MAP}`)).toBe(`${ACCOUNT} HOLD\n`);
    expect(`${c.stdout}${c.stderr}`).toMatch(/mailsweep release .*--run \S+/);

    const held = submitAs(h, ACCOUNT, `e2e contain ${process.pid}`);
    expect(await waitQueue(held, (q) => q === 'hold')).toBe('hold');
    // Another account is not held.
    const other = submitAs(h, 'alice@example.test', `e2e not held ${process.pid}`);
    expect(await waitQueue(other, (q) => q !== 'incoming' && q !== null)).not.toBe('hold');

    // A second contain finds the hold in place (check) and changes nothing.
    const again = await mailsweep(['contain', h.name, '--auth-id', ACCOUNT, '--hold', '--yes']);
    expect(again.status, again.stderr).toBe(0);
    expect(`${again.stdout}${again.stderr}`).toMatch(/hold: already in place before this run/);
    expect(onHost(`cat ${MAP}`)).toBe(`${ACCOUNT} HOLD\n`);

    const r = await mailsweep(['release', h.name, '--auth-id', ACCOUNT, '--run', runIdOf(c), '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(onHost(`cat ${MAP}`)).toBe('');
    expect(await waitQueue(held, (q) => q !== 'hold')).not.toBe('hold');
    expect(queueOf(held)).not.toBeNull();

    // Released: the account's next submission is not held.
    const after = submitAs(h, ACCOUNT, `e2e released ${process.pid}`);
    expect(await waitQueue(after, (q) => q !== 'incoming' && q !== null)).not.toBe('hold');
  });
});
