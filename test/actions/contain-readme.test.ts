// README's contain_commands examples are what an admin copies: each one loads as an inventory
// value, is POSIX sh that dash parses and shellcheck passes, and (exim's) does what README says —
// run here under /bin/sh with stub exim tools on copies of the lab's real spool files. The exim
// ACL lines in README are the ones the lab runs (test/lab/mta/exim.sh). The real exim: test/e2e.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeContainCommands, readmeEximAcl } from './readme-contain.js';

const examples = readmeContainCommands();
const all = Object.entries(examples).flatMap(([host, c]) =>
  Object.entries(c).flatMap(([measure, v]) =>
    typeof v === 'string' ? [[`${host} ${measure}`, v]] : Object.entries(v).map(([k, cmd]) => [`${host} ${measure}.${k}`, cmd as string]),
  ),
);

describe("README's contain_commands examples", () => {
  it('postfix (mx2) and exim (mx3: hold and suspend_outgoing, each with a check) are there', () => {
    expect(Object.keys(examples.mx2!.hold!).sort()).toEqual(['check', 'contain', 'release']);
    expect(Object.keys(examples.mx3!.hold!).sort()).toEqual(['check', 'contain', 'release']);
    expect(Object.keys(examples.mx3!.suspend_outgoing!).sort()).toEqual(['check', 'contain', 'release']);
  });

  it.each(all)('%s: dash -n and shellcheck (POSIX sh)', (_, cmd) => {
    expect(spawnSync('dash', ['-n'], { input: cmd, encoding: 'utf8' }).stderr).toBe('');
    const r = spawnSync('shellcheck', ['-s', 'sh', '-f', 'gcc', '-'], { input: cmd, encoding: 'utf8' });
    if (r.error) throw new Error(`shellcheck is needed for these tests: ${r.error.message}`);
    expect(r.stdout).toBe('');
  });

  it.each(all)('%s: reads the account from stdin and never names it in its text', (_, cmd) => {
    expect(cmd).toMatch(/^IFS= read -r u[;&]/);
    expect(cmd).not.toMatch(/@/);
  });

  it("the exim ACL lines are the lab's (test/lab/mta/exim.sh writes them verbatim)", () => {
    const lab = /mailsweep\.acl" <<'EOC'\n([\s\S]*?)EOC\n/.exec(readFileSync('test/lab/mta/exim.sh', 'utf8'))![1];
    expect(readmeEximAcl()).toBe(lab);
    expect(readmeEximAcl()).toMatch(/lsearch\{\/etc\/exim4\/mailsweep-hold\}[\s\S]*control += freeze\/no_tell/);
  });
});

// ---- exim's commands under /bin/sh, /etc/exim4 moved into a temporary directory ----

const SPOOL = 'test/fixtures/lab/bookworm-exim/spool';
const BOB_SPAM = '1xVOI7-0000PV-08'; // meta.json: spam (bob's, SMTP AUTH)
const ALICE = '1xVOHG-0007YW-1g'; // legit, alice's
const BOUNCE = '1xVOHO-0007if-0J'; // the lab's frozen backscatter bounce

function etc(): { d: string; run: (cmd: string, account: string) => { code: number | null; stderr: string }; calls: () => string } {
  const d = mkdtempSync(join(tmpdir(), 'ms-readme-exim-'));
  mkdirSync(join(d, 'bin'));
  mkdirSync(join(d, 'spool'));
  for (const f of ['mailsweep-hold', 'mailsweep-suspend']) writeFileSync(join(d, f), '');
  // exiqgrep -z -i: the ids in `frozen`; exim -Mvh: the spool -H file; -Mt/-M: recorded.
  writeFileSync(join(d, 'bin', 'exiqgrep'), `#!/bin/sh\n[ "$*" = "-z -i" ] || exit 9\ncat '${d}/frozen'\n`);
  writeFileSync(
    join(d, 'bin', 'exim'),
    `#!/bin/sh\ncase $1 in -Mvh) cat '${d}/spool/'"$2"-H ;; -Mt|-M) echo "$1 $2" >> '${d}/calls' ;; *) exit 9 ;; esac\n`,
  );
  chmodSync(join(d, 'bin', 'exiqgrep'), 0o755);
  chmodSync(join(d, 'bin', 'exim'), 0o755);
  return {
    d,
    run: (cmd, account) => {
      const r = spawnSync('/bin/sh', ['-c', cmd.replaceAll('/etc/exim4/', `${d}/`)], {
        input: `${account}\n`,
        encoding: 'utf8',
        env: { PATH: `${d}/bin:/usr/bin:/bin` },
      });
      return { code: r.status, stderr: r.stderr };
    },
    calls: () => (existsSync(join(d, 'calls')) ? readFileSync(join(d, 'calls'), 'utf8') : ''),
  };
}

describe("README's exim contain_commands, run", () => {
  const hold = examples.mx3!.hold!;
  const suspend = examples.mx3!.suspend_outgoing!;

  it('contain adds the account once (a case variant counts: lsearch ignores case), keeps the mode; check says so', () => {
    const e = etc();
    const f = join(e.d, 'mailsweep-hold');
    chmodSync(f, 0o640);
    expect(e.run(hold.check!, 'bob@example.test').code).toBe(1);
    expect(e.run(hold.contain, 'bob@example.test').code).toBe(0);
    expect(e.run(hold.contain, 'bob@example.test').code).toBe(0);
    expect(e.run(hold.contain, 'BOB@Example.test').code).toBe(0);
    expect(readFileSync(f, 'utf8')).toBe('bob@example.test\n');
    expect(statSync(f).mode & 0o777).toBe(0o640);
    expect(existsSync(`${f}.new`)).toBe(false);
    expect(e.run(hold.check!, 'bob@example.test').code).toBe(0);
    expect(e.run(hold.check!, 'bob@example.tes').code).toBe(1);
    expect(e.run(hold.check!, 'ob@example.test').code).toBe(1);
  });

  it('a hostile account is a line of data; one that is no lsearch key is refused with exit 2, file unchanged', () => {
    const e = etc();
    const evil = `$(id>${e.d}/pwned)\`id>${e.d}/pwned\`;x@example.test`;
    expect(e.run(suspend.contain, evil).code).toBe(0);
    expect(readFileSync(join(e.d, 'mailsweep-suspend'), 'utf8')).toBe(`${evil}\n`);
    expect(e.run(suspend.check!, evil).code).toBe(0);
    expect(e.run(suspend.release, evil).code).toBe(0);
    expect(readFileSync(join(e.d, 'mailsweep-suspend'), 'utf8')).toBe('');
    expect(existsSync(join(e.d, 'pwned'))).toBe(false);
    // A quote would make lsearch read a quoted key: refused, and the text never ran either.
    expect(e.run(suspend.contain, `'$(id>${e.d}/pwned)"x@example.test`).code).toBe(2);
    expect(existsSync(join(e.d, 'pwned'))).toBe(false);
    for (const bad of ['bob @example.test', 'bob:x@example.test', '#bob@example.test', 'bob\t@example.test']) {
      const r = e.run(hold.contain, bad);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/not an lsearch key: refused/);
    }
    expect(readFileSync(join(e.d, 'mailsweep-hold'), 'utf8')).toBe('');
  });

  it('release takes out the account (any case) and nothing else; an empty result is fine', () => {
    const e = etc();
    writeFileSync(join(e.d, 'mailsweep-suspend'), 'alice@example.test\nBob@example.test\nbob@example.test.evil\n');
    expect(e.run(suspend.release, 'bob@example.test').code).toBe(0);
    expect(readFileSync(join(e.d, 'mailsweep-suspend'), 'utf8')).toBe('alice@example.test\nbob@example.test.evil\n');
    writeFileSync(join(e.d, 'mailsweep-suspend'), 'bob@example.test\n');
    expect(e.run(suspend.release, 'bob@example.test').code).toBe(0);
    expect(readFileSync(join(e.d, 'mailsweep-suspend'), 'utf8')).toBe('');
    expect(e.run(suspend.check!, 'bob@example.test').code).toBe(1);
  });

  it("hold's release thaws and tries only the account's SMTP-authenticated frozen mail", () => {
    const e = etc();
    writeFileSync(join(e.d, 'mailsweep-hold'), 'bob@example.test\n');
    const spool = (id: string, from: string, edit: (s: string) => string = (s) => s) =>
      writeFileSync(join(e.d, 'spool', `${id}-H`), edit(readFileSync(join(SPOOL, `${from}-H`), 'utf8')));
    spool(BOB_SPAM, BOB_SPAM);
    spool(ALICE, ALICE);
    spool(BOUNCE, BOUNCE);
    // bob's login name without SMTP AUTH (a local submission's -auth_id): not his held mail.
    spool('1xLOCAL-000000-00', BOB_SPAM, (s) =>
      s.replace(/^-host_auth.*\n/gm, '').replace('-received_protocol esmtpa', '-received_protocol local'),
    );
    // The account's id only in a header, or a longer id: not a match.
    spool('1xHEADR-000000-00', ALICE, (s) => s.replace(/\n\n/, '\n\n029  -auth_id bob@example.test\n'));
    spool('1xLONGER-00000-00', BOB_SPAM, (s) => s.replace(/^(--?auth_id) .*$/m, '$1 bob@example.test.evil'));
    // Exim keeps the id as the client typed it; lsearch held it: released too.
    spool('1xUPPER-000000-00', BOB_SPAM, (s) => s.replace(/^(--?auth_id) .*$/m, '$1 BOB@Example.test'));
    expect(readFileSync(join(e.d, 'spool', `${BOB_SPAM}-H`), 'utf8')).toMatch(/^--?auth_id bob@example\.test$/m);
    const ids = [BOB_SPAM, ALICE, BOUNCE, '1xLOCAL-000000-00', '1xHEADR-000000-00', '1xLONGER-00000-00', '1xUPPER-000000-00'];
    writeFileSync(join(e.d, 'frozen'), ids.join('\n') + '\n');

    const r = e.run(hold.release, 'bob@example.test');
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(e.d, 'mailsweep-hold'), 'utf8')).toBe('');
    expect(e.calls()).toBe(`-Mt ${BOB_SPAM}\n-M ${BOB_SPAM}\n-Mt 1xUPPER-000000-00\n-M 1xUPPER-000000-00\n`);
  });

  it('a file it cannot rewrite: release fails (exit 1) and thaws nothing', () => {
    const e = etc();
    writeFileSync(join(e.d, 'frozen'), `${BOB_SPAM}\n`);
    copyFileSync(join(SPOOL, `${BOB_SPAM}-H`), join(e.d, 'spool', `${BOB_SPAM}-H`));
    const r = e.run(hold.release.replaceAll('/etc/exim4/mailsweep-hold', '/etc/exim4/missing/mailsweep-hold'), 'bob@example.test');
    expect(r.code).toBe(1);
    expect(e.calls()).toBe('');
  });
});
