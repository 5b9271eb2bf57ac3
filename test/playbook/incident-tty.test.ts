// `mailsweep incident` in a real terminal (tmux) against the demo's fake SSH host: what the operator
// must see — the suspects' evidence, the sample, the dry-run plan (whole commands and their stdin)
// and the summary — is still on screen when the run ends, not one transient line per step.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoFleet } from '../../src/commands/demo.js';
import { startFakeFleet, type FakeFleet } from '../../src/demo/fleet.js';

let dir: string;
let fleet: FakeFleet;
const session = `ms-tty-${process.pid}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ms-tty-'));
  const demo = (await loadDemoFleet()).find((e) => e.name === 'mx1.dc1.example.net')!;
  fleet = await startFakeFleet(join(dir, 'fleet'), [{ ...demo, name: 'mx1' }]);
}, 60_000);
afterAll(async () => {
  spawnSync('tmux', ['kill-session', '-t', session]);
  await fleet?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('incident on a terminal', () => {
  it('keeps evidence, sample, plan and summary on screen after each step ends', async () => {
    const cmd = [
      'env -u CI',
      `MAILSWEEP_RUNS_DIR=${join(dir, 'runs')}`,
      process.execPath,
      '--import',
      'tsx',
      'src/cli.ts',
      'incident',
      'mx1',
      '-i',
      fleet.inventoryPath,
      '--known-hosts',
      fleet.knownHostsPath,
      '--dry-run',
      '--auth-id',
      'bob@example.test',
    ].join(' ');
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '50', `${cmd}; echo EXIT=$?; sleep 60`], {
      cwd: process.cwd(),
    });
    const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-J', '-t', session, '-S', '-5000'], { encoding: 'utf8' });
    const waitFor = async (re: RegExp, ms = 30_000) => {
      for (let t = 0; t < ms; t += 200) {
        const s = screen();
        if (re.test(s)) return s;
        await sleep(200);
      }
      throw new Error(`not on screen: ${re}\n${screen().slice(-3000)}`);
    };
    await waitFor(/Is message \S+ \(bob@example.test\) spam\?/);
    execFileSync('tmux', ['send-keys', '-t', session, 'Enter']);
    await waitFor(/Delete these 300 message\(s\) of bob@example.test\?/);
    execFileSync('tmux', ['send-keys', '-t', session, 'y', 'Enter']);
    const s = await waitFor(/EXIT=\d+/, 60_000);
    expect(s).toMatch(/EXIT=0/);
    // The last frame the task list drew: everything from the last "✔ Identify" on.
    const last = s.slice(s.lastIndexOf('✔ Identify the hijacked account'));
    expect(last).toMatch(/bob@example.test: 300 sent, 300 queued, 1434 recipients/); // evidence
    expect(last).toMatch(/sample \S+ from <offer103@bank-secure.invalid>/); // sample
    expect(last).toMatch(/✔ Restart the MTA[^\n]*\n\s+› \[dry-run\] would run: /); // the plan under its step
    expect(last).toMatch(/echo "\$R running \$pid"/); // the restart command whole, not cut at 300 characters
    expect(last).toMatch(/300 message\(s\) of bob@example.test of 339 queued/);
    expect(last).toMatch(/password: NOT reset[^\n]*no new password was set/); // summary
    expect(last).toMatch(/queue: 339 before, 339 after/);
    expect(last).toMatch(/incident run \S+: done \(dry run: nothing was changed\)/);
  }, 120_000);
});
