// The `local` custom step on the controller with a stub program: argv without a shell, stdin data,
// an environment without mailsweep's secrets, a timeout; and a playbook using both custom steps
// (a CSF block on the host, a ticket webhook on the controller) through runPlaybook.
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostSpec } from '../../src/inventory/types.js';
import { runPlaybook, type RunOptions } from '../../src/playbook/engine.js';
import { localHost, runLocalPlaybook } from '../playbook/local-host.js';

const dir = mkdtempSync(join(tmpdir(), 'ms-local-'));
const PWN = join(dir, 'pwned');
const OUT = join(dir, 'out');
const STUB = join(dir, 'ticket-stub');
// Records its argv (one per line, bracketed), its stdin and its environment.
writeFileSync(
  STUB,
  `#!/bin/sh\nfor a in "$@"; do printf '[%s]\\n' "$a"; done > ${OUT}.argv\ncat > ${OUT}.stdin\nenv > ${OUT}.env\necho "ticket #4711 opened; token $TICKET_TOKEN"\n`,
);
chmodSync(STUB, 0o755);
const SLEEPY = join(dir, 'sleepy');
writeFileSync(SLEEPY, '#!/bin/sh\nsleep 30\n');
chmodSync(SLEEPY, 0o755);

const WHM_TOKEN = 'WHMTOKEN-in-mailsweep-env-0123456789';
const TICKET_TOKEN = 'ticket-token-abcdef0123456789';
process.env.T_MS_WHM_TOKEN = WHM_TOKEN;
process.env.TICKET_TOKEN = TICKET_TOKEN;
afterAll(() => {
  delete process.env.T_MS_WHM_TOKEN;
  delete process.env.TICKET_TOKEN;
});

function host(vars: Record<string, unknown> = {}): HostSpec {
  return { ...localHost('mx-test', 'exim'), vars };
}

async function run(pb: string, o: Partial<RunOptions> & { hostVars?: Record<string, unknown> } = {}) {
  const { hostVars, ...rest } = o;
  return runLocalPlaybook(pb, host(hostVars), { runsDir: mkdtempSync(join(dir, 'runs-')), ...rest });
}

describe('the local action', () => {
  it("runs the program with argv as written (no shell), data on stdin, and none of mailsweep's environment but what it names", async () => {
    const who = `$(touch ${PWN}); 'x\u001b[2J`;
    const pb = `name: t\nvars: { who: "" }\nsteps:\n  - name: Ticket\n    id: ticket\n    action: local\n    params:\n      argv: [${STUB}, --account, "{{ who }}", "subject={{ who }} hijacked", "{{ ips }}"]\n      stdin: ["{{ who }}", "192.0.2.7"]\n      env: { TICKET_QUEUE: abuse }\n      pass_env: [TICKET_TOKEN]\n`;
    const r = await run(pb.replace('vars: { who: "" }', 'vars: { who: "", ips: [] }'), {
      vars: { who, ips: ['192.0.2.7', '198.51.100.1'] },
    });
    expect(r.out.status, r.out.error).toBe('ok');
    expect(readFileSync(`${OUT}.argv`, 'utf8')).toBe(`[--account]\n[${who}]\n[subject=${who} hijacked]\n[192.0.2.7]\n[198.51.100.1]\n`);
    expect(readFileSync(`${OUT}.stdin`, 'utf8')).toBe(`${who}\n192.0.2.7\n`);
    const env = readFileSync(`${OUT}.env`, 'utf8');
    expect(env).toContain('TICKET_QUEUE=abuse');
    expect(env).toContain(`TICKET_TOKEN=${TICKET_TOKEN}`);
    expect(env).not.toContain(WHM_TOKEN);
    expect(env).not.toContain('T_MS_WHM_TOKEN');
    expect(existsSync(PWN)).toBe(false);
    // The token it was given is a secret of the run: not on screen, not in the journal.
    expect(r.text).toContain('ticket #4711 opened; token [REDACTED]');
    expect(r.journal).not.toContain(TICKET_TOKEN);
    expect(r.journal).toMatch(/"cmd":"\(controller\) [^"]*ticket-stub --account /);
  });

  it("sh -c is the author's choice: its script is filled through the quoting path", async () => {
    const who = `$(touch ${PWN})`;
    const r = await run(
      `name: t\nvars: { who: "" }\nsteps:\n  - { name: S, id: s, action: local, params: { argv: [sh, -c, "printf '<%s>' {{ who }} > ${OUT}.sh"] } }\n`,
      { vars: { who } },
    );
    expect(r.out.status, r.out.error).toBe('ok');
    expect(readFileSync(`${OUT}.sh`, 'utf8')).toBe(`<${who}>`);
    expect(existsSync(PWN)).toBe(false);
    const bad = await run(
      `name: t\nvars: { who: x }\nsteps:\n  - name: S\n    id: s\n    action: local\n    params: { argv: [sh, -c, 'echo "{{ who }}"'] }\n`,
    );
    expect(bad.out.error).toMatch(/s\.params\.argv\[2\]: \{\{ who \}\} inside "…"/);
  });

  it('a dry run shows it and runs nothing; a declined one does not run; a hung program is killed at its timeout', async () => {
    const pb = `name: t\nsteps:\n  - { name: T, id: t, action: local, params: { argv: [touch, "${PWN}"], stdin: "192.0.2.1" } }\n`;
    const dry = await run(pb, { dryRun: true });
    expect(dry.out.status, dry.out.error).toBe('ok');
    expect(dry.text).toContain(`[dry-run] would run on the controller: touch ${PWN}\n  on stdin (1 line(s)):\n  | 192.0.2.1`);
    const no = await run(pb, { answers: { 'confirm.t': 'no' } });
    expect(no.out.results.t).toMatchObject({ ran: false, declined: true });
    expect(existsSync(PWN)).toBe(false);
    const started = Date.now();
    const hung = await run(
      `name: t\nsteps:\n  - { name: T, id: t, action: local, params: { argv: [${SLEEPY}], timeout: 1, readonly: true } }\n`,
    );
    expect(hung.out.status).toBe('failed');
    expect(hung.out.error).toMatch(/did not finish within 1s: killed/);
    expect(Date.now() - started).toBeLessThan(8000);
    const missing = await run(
      `name: t\nsteps:\n  - { name: T, id: t, action: local, params: { argv: [${join(dir, 'nope')}], readonly: true } }\n`,
    );
    expect(missing.out.error).toMatch(/cannot run .*nope: ENOENT/);
  });
});

describe('a playbook with both custom steps', () => {
  it("blocks the attacker IPs on the host and opens a ticket through the inventory's webhook, secrets kept out", async () => {
    const csf = join(dir, 'csf');
    // A stand-in for CSF on the "host": records each `csf -d IP COMMENT` it is given.
    writeFileSync(csf, `#!/bin/sh\necho "$@" >> ${OUT}.csf\necho "Adding $2 to csf.deny"\n`);
    chmodSync(csf, 0o755);
    const pb = `
name: contain and report
vars: { account: "", top_ips: [] }
steps:
  - name: Block the attacker IPs with the most logins
    id: block
    action: command
    params:
      command: "while read -r ip; do ${csf} -d \\"$ip\\" mailsweep-hijack-of-{{ account }}; done"
      stdin: "{{ top_ips }}"
  - name: Open a ticket
    id: ticket
    action: local
    params:
      argv: [${STUB}, "{{ inventory.ticket_url }}", "{{ block.stdinLines }}"]
      stdin: ["{{ account }}", "{{ top_ips }}"]
      pass_env: [TICKET_TOKEN]
      readonly: false
`;
    const hostVars = {
      ticket_url: 'https://tickets.example.test/hook',
      cpanel_token_env: 'T_MS_WHM_TOKEN',
      ticket_secret: 'never-templated-1234',
    };
    const r = await run(pb, { vars: { account: 'bob@example.test', top_ips: ['203.0.113.9', '198.51.100.23'] }, hostVars });
    expect(r.out.status, r.out.error).toBe('ok');
    expect(readFileSync(`${OUT}.csf`, 'utf8')).toBe(
      '-d 203.0.113.9 mailsweep-hijack-of-bob@example.test\n-d 198.51.100.23 mailsweep-hijack-of-bob@example.test\n',
    );
    expect(r.text).toContain('Adding 203.0.113.9 to csf.deny');
    expect(readFileSync(`${OUT}.argv`, 'utf8')).toBe('[https://tickets.example.test/hook]\n[2]\n');
    expect(readFileSync(`${OUT}.stdin`, 'utf8')).toBe('bob@example.test\n203.0.113.9\n198.51.100.23\n');
    expect(r.journal).not.toContain(TICKET_TOKEN);
    // A secret's inventory key is not in the template scope.
    const leak = await run(
      `name: t\nsteps:\n  - { name: T, id: t, action: local, params: { argv: [echo, "{{ inventory.ticket_secret }}"], readonly: true } }\n`,
      { hostVars },
    );
    expect(leak.out.error).toMatch(/\{\{ inventory\.ticket_secret \}\} is not defined/);
  });
});

describe('where a local step may put a value', () => {
  const argv = async (items: string[], who: string) => {
    const { localArgv } = await import('../../src/actions/local-run.js');
    return localArgv({
      step: { id: 's', name: 's', action: 'local', params: { argv: items }, confirm: false, skippable: false },
      scope: { who },
    });
  };
  it.each([
    [['bash', '-ec', 'echo {{ who }}']],
    [['/usr/bin/env', 'sh', '-c', 'echo {{ who }}']],
    [['busybox', 'sh', '-c', 'echo {{ who }}']],
    [['timeout', '9', 'dash', '-c', 'echo {{ who }}']],
  ])('a shell script however it is started is filled through quote(): %j', async (items) => {
    const who = '$(touch /tmp/x)';
    expect((await argv(items, who)).at(-1)).toBe(`echo '${who}'`);
  });
  it.each([
    [['python3', '-c', 'print("{{ who }}")']],
    [['python3', '-c', '{{ who }}']],
    [['perl', '-e', '{{ who }}']],
    [['sed', 's/a/{{ who }}/']],
    [['env', 'awk', 'BEGIN { print "{{ who }}" }']],
  ])("a value inside an interpreter's code is refused: %j", async (items) => {
    await expect(argv(items, 'x')).rejects.toThrow(/may be code to it/);
  });
  it('a whole placeholder as its own argument of an interpreter is data', async () => {
    expect(await argv(['python3', 'script.py', '--account', '{{ who }}'], "a'b")).toEqual(['python3', 'script.py', '--account', "a'b"]);
  });
});
