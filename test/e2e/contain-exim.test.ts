// Issue #14 on the real lab, exim: `mailsweep contain --hold / --suspend-outgoing` without cPanel,
// through README's exim contain_commands and the DATA ACL the lab installs (test/lab/mta/exim.sh,
// the same lines as README). The account's next SMTP AUTH submission is really frozen on arrival
// (another account's is not) and stays frozen through a queue run; release thaws it and tries it,
// leaving the lab's frozen backscatter frozen. Suspended, its submission is refused; released,
// accepted again. On both lab exims (4.96 and 4.98).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeContainCommands } from '../actions/readme-contain.js';
import { lab } from './incident-env.js';
import { labHosts, ownCount, type LabHost } from './lab-host.js';
import { eximFrozen, eximQueue, labCli, onHost, runIdOf, submitAs, swaksAs, type Cli } from './lab-mail.js';

const ACCOUNT = 'bob@example.test';
const OTHER = 'alice@example.test';
const HOLD = '/etc/exim4/mailsweep-hold';
const SUSPEND = '/etc/exim4/mailsweep-suspend';

const frozenIds = (h: LabHost) => [...eximQueue(h)].filter(([, f]) => f).map(([id]) => id);
const frozen = eximFrozen;

describe.each(['bookworm-exim', 'trixie-exim'])('contain on exim with contain_commands (%s)', (name) => {
  let h: LabHost;
  let mailsweep: Cli;

  beforeAll(() => {
    h = labHosts().find((x) => x.name === name)!;
    const { hold, suspend_outgoing } = readmeContainCommands().mx3!;
    mailsweep = labCli(h, mkdtempSync(join(tmpdir(), 'ms-e2e-contain-exim-')), { contain_commands: { hold, suspend_outgoing } });
    expect(onHost(h, `cat ${HOLD} ${SUSPEND}`)).toBe('');
    expect(ownCount(h)).toBe(h.expected.total);
  });

  afterAll(async () => {
    if (!h) return;
    // As the lab made it: empty files, the seeded queue (the messages sent here make reseed seed afresh).
    onHost(h, `: > ${HOLD}; : > ${SUSPEND}`);
    await lab('reseed', h.name);
  }, 300_000);

  it("--hold freezes the account's next AUTH submission; release thaws and tries only that mail", async () => {
    const backscatter = frozenIds(h);
    expect(backscatter).toHaveLength(h.expected.backscatterFrozen);

    const c = await mailsweep(['contain', h.name, '--auth-id', ACCOUNT, '--hold', '--yes']);
    expect(c.status, c.stderr).toBe(0);
    expect(onHost(h, `cat ${HOLD}`)).toBe(`${ACCOUNT}\n`);

    const held = submitAs(h, ACCOUNT, `e2e exim hold ${process.pid}`);
    const other = submitAs(h, OTHER, `e2e exim not held ${process.pid}`);
    expect(await frozen(h, held)).toBe(true);
    expect(await frozen(h, other)).toBe(false);
    expect(onHost(h, `grep -F ${held} /var/log/exim4/mainlog`)).toMatch(/frozen by ACL/);
    // A forced queue run leaves it frozen (only -qff or -Mt would thaw it).
    onHost(h, 'exim -qf');
    expect(await frozen(h, held)).toBe(true);

    // A second contain finds it in place (check) and changes nothing.
    const again = await mailsweep(['contain', h.name, '--auth-id', ACCOUNT, '--hold', '--yes']);
    expect(again.status, again.stderr).toBe(0);
    expect(`${again.stdout}${again.stderr}`).toMatch(/hold: already in place before this run/);
    expect(onHost(h, `cat ${HOLD}`)).toBe(`${ACCOUNT}\n`);

    const r = await mailsweep(['release', h.name, '--auth-id', ACCOUNT, '--run', runIdOf(c), '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(onHost(h, `cat ${HOLD}`)).toBe('');
    expect(await frozen(h, held)).toBe(false);
    // Thawed by the release and tried at once (the relay is a closed port: deferred, still queued).
    const log = onHost(h, `grep -F ${held} /var/log/exim4/mainlog`);
    expect(log).toMatch(/unfrozen by root/);
    expect(log.slice(log.indexOf('unfrozen by root'))).toMatch(/== someone@remote\.example .*defer/);
    // The lab's frozen backscatter was not the account's mail: still frozen, all of it.
    expect(frozenIds(h).sort()).toEqual(backscatter.sort());

    const after = submitAs(h, ACCOUNT, `e2e exim released ${process.pid}`);
    expect(await frozen(h, after)).toBe(false);
  });

  it('--suspend-outgoing refuses the account’s submission (550), release lets it through again', async () => {
    const c = await mailsweep(['contain', h.name, '--auth-id', ACCOUNT, '--suspend-outgoing', '--yes']);
    expect(c.status, c.stderr).toBe(0);
    expect(onHost(h, `cat ${SUSPEND}`)).toBe(`${ACCOUNT}\n`);

    const before = ownCount(h);
    const refused = swaksAs(h, ACCOUNT, `e2e exim suspended ${process.pid}`);
    expect(refused.status).not.toBe(0);
    expect(refused.out).toMatch(/<\*\* 550 outgoing mail of this account is suspended/);
    expect(ownCount(h)).toBe(before);
    // Another account still sends.
    expect(await frozen(h, submitAs(h, OTHER, `e2e exim not suspended ${process.pid}`))).toBe(false);

    const r = await mailsweep(['release', h.name, '--auth-id', ACCOUNT, '--run', runIdOf(c), '--yes']);
    expect(r.status, r.stderr).toBe(0);
    expect(onHost(h, `cat ${SUSPEND}`)).toBe('');
    expect(await frozen(h, submitAs(h, ACCOUNT, `e2e exim unsuspended ${process.pid}`))).toBe(false);
  });
});
